//! The in-process event bus: a bounded broadcast channel. A slow subscriber never blocks the
//! publisher; it loses the oldest events instead, and every loss is counted.

use rustok_domain::event::{Deduplicator, LiveEvent};
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::broadcast;

/// How full the bus is: normal, warning at ≥ 70 %, critical at ≥ 90 %.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Backpressure {
    Normal,
    Warning,
    Critical,
}

impl Backpressure {
    pub fn from_fill(queued: usize, capacity: usize) -> Self {
        let pct = queued.saturating_mul(100) / capacity.max(1);
        match pct {
            90.. => Backpressure::Critical,
            70.. => Backpressure::Warning,
            _ => Backpressure::Normal,
        }
    }
}

#[derive(Debug, Default)]
struct Counters {
    published: AtomicU64,
    dropped: AtomicU64,
}

/// A snapshot of the bus counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BusStats {
    pub capacity: usize,
    pub queued: usize,
    pub published: u64,
    pub dropped: u64,
    pub subscribers: usize,
    pub level: Backpressure,
}

#[derive(Clone)]
pub struct Bus {
    tx: broadcast::Sender<LiveEvent>,
    capacity: usize,
    counters: Arc<Counters>,
}

/// What a subscriber receives.
#[derive(Debug, Clone)]
pub enum BusMsg {
    Event(LiveEvent),
    /// This subscriber fell behind and missed this many events.
    Lagged(u64),
}

impl Bus {
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        let (tx, _) = broadcast::channel(capacity);
        Self {
            tx,
            capacity,
            counters: Arc::default(),
        }
    }

    /// Publishes without ever waiting. Returns how many subscribers will see the event.
    pub fn publish(&self, event: LiveEvent) -> usize {
        self.counters.published.fetch_add(1, Ordering::Relaxed);
        self.tx.send(event).unwrap_or(0)
    }

    pub fn subscribe(&self) -> Subscription {
        Subscription {
            rx: self.tx.subscribe(),
            counters: self.counters.clone(),
            dedup: Deduplicator::new(self.capacity.max(1024)),
        }
    }

    pub fn level(&self) -> Backpressure {
        Backpressure::from_fill(self.tx.len(), self.capacity)
    }

    pub fn stats(&self) -> BusStats {
        let queued = self.tx.len();
        BusStats {
            capacity: self.capacity,
            queued,
            published: self.counters.published.load(Ordering::Relaxed),
            dropped: self.counters.dropped.load(Ordering::Relaxed),
            subscribers: self.tx.receiver_count(),
            level: Backpressure::from_fill(queued, self.capacity),
        }
    }
}

/// One subscriber. Duplicate deliveries of the same event id are filtered out here.
pub struct Subscription {
    rx: broadcast::Receiver<LiveEvent>,
    counters: Arc<Counters>,
    dedup: Deduplicator,
}

impl Subscription {
    /// The next message, or `None` once the bus is gone.
    pub async fn recv(&mut self) -> Option<BusMsg> {
        loop {
            match self.rx.recv().await {
                Ok(e) => {
                    if self.dedup.first_seen(e.id) {
                        return Some(BusMsg::Event(e));
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    self.counters.dropped.fetch_add(n, Ordering::Relaxed);
                    return Some(BusMsg::Lagged(n));
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// A message if one is ready now (never waits).
    pub fn try_recv(&mut self) -> Option<BusMsg> {
        loop {
            match self.rx.try_recv() {
                Ok(e) => {
                    if self.dedup.first_seen(e.id) {
                        return Some(BusMsg::Event(e));
                    }
                }
                Err(broadcast::error::TryRecvError::Lagged(n)) => {
                    self.counters.dropped.fetch_add(n, Ordering::Relaxed);
                    return Some(BusMsg::Lagged(n));
                }
                Err(_) => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels() {
        assert_eq!(Backpressure::from_fill(0, 100), Backpressure::Normal);
        assert_eq!(Backpressure::from_fill(69, 100), Backpressure::Normal);
        assert_eq!(Backpressure::from_fill(70, 100), Backpressure::Warning);
        assert_eq!(Backpressure::from_fill(90, 100), Backpressure::Critical);
    }
}
