use crate::EventId;
use std::collections::{HashSet, VecDeque};

/// Remembers the most recent `capacity` event ids so a consumer handles each event once even
/// when the relay delivers it again (at-least-once delivery + de-duplication = exactly-once
/// effects).
#[derive(Debug)]
pub struct Deduplicator {
    capacity: usize,
    order: VecDeque<EventId>,
    seen: HashSet<EventId>,
    duplicates: u64,
}

impl Deduplicator {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            order: VecDeque::new(),
            seen: HashSet::new(),
            duplicates: 0,
        }
    }

    /// True the first time an id is offered, false for a duplicate.
    pub fn first_seen(&mut self, id: EventId) -> bool {
        if self.seen.contains(&id) {
            self.duplicates += 1;
            return false;
        }
        if self.order.len() == self.capacity
            && let Some(old) = self.order.pop_front()
        {
            self.seen.remove(&old);
        }
        self.order.push_back(id);
        self.seen.insert(id);
        true
    }

    /// How many duplicates were filtered out.
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_duplicates_within_capacity() {
        let mut d = Deduplicator::new(2);
        let (a, b, c) = (EventId::new_v7(), EventId::new_v7(), EventId::new_v7());
        assert!(d.first_seen(a));
        assert!(!d.first_seen(a));
        assert!(d.first_seen(b));
        assert!(d.first_seen(c)); // a falls out of the window
        assert!(!d.first_seen(c));
        assert_eq!(d.duplicates(), 2);
    }
}
