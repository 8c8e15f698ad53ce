//! The in-process event bus: a bounded broadcast channel. A slow subscriber never blocks the
//! publisher; it loses the oldest events instead, and every loss is counted.
//!
//! The relay and the live feed may both publish an event (this process's commits reach the
//! bus through both); the bus publishes each event id once. Duplicates are dropped here, for
//! every subscriber at once, rather than by each subscriber: with 1,000 SSH sessions a
//! duplicate would otherwise wake 1,000 tasks, and each would keep its own window of seen ids
//! (about half a megabyte per session once full, at the default window of 10,000).

use rustok_domain::event::{Deduplicator, LiveEvent};
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
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
    duplicates: AtomicU64,
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
    /// The ids published lately (as many as the channel holds, at least 1,024).
    seen: Arc<Mutex<Deduplicator>>,
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
            seen: Arc::new(Mutex::new(Deduplicator::new(capacity.max(1024)))),
        }
    }

    /// Publishes without ever waiting. Returns how many subscribers will see the event: none
    /// when this event id was published lately (a duplicate is dropped).
    pub fn publish(&self, event: LiveEvent) -> usize {
        let first = self
            .seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .first_seen(event.id);
        if !first {
            self.counters.duplicates.fetch_add(1, Ordering::Relaxed);
            return 0;
        }
        self.counters.published.fetch_add(1, Ordering::Relaxed);
        self.tx.send(event).unwrap_or(0)
    }

    /// Duplicates dropped since the bus was made.
    pub fn duplicates(&self) -> u64 {
        self.counters.duplicates.load(Ordering::Relaxed)
    }

    pub fn subscribe(&self) -> Subscription {
        Subscription {
            rx: self.tx.subscribe(),
            counters: self.counters.clone(),
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

/// One subscriber. It sees every event id once (the bus drops duplicates).
pub struct Subscription {
    rx: broadcast::Receiver<LiveEvent>,
    counters: Arc<Counters>,
}

impl Subscription {
    /// The next message, or `None` once the bus is gone.
    pub async fn recv(&mut self) -> Option<BusMsg> {
        match self.rx.recv().await {
            Ok(e) => Some(BusMsg::Event(e)),
            Err(broadcast::error::RecvError::Lagged(n)) => {
                self.counters.dropped.fetch_add(n, Ordering::Relaxed);
                Some(BusMsg::Lagged(n))
            }
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }

    /// A message if one is ready now (never waits).
    pub fn try_recv(&mut self) -> Option<BusMsg> {
        match self.rx.try_recv() {
            Ok(e) => Some(BusMsg::Event(e)),
            Err(broadcast::error::TryRecvError::Lagged(n)) => {
                self.counters.dropped.fetch_add(n, Ordering::Relaxed);
                Some(BusMsg::Lagged(n))
            }
            Err(_) => None,
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

    fn event() -> LiveEvent {
        use rustok_domain::event::{DomainEvent, EnvelopeMeta, EventEnvelope, NodeVersion};
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let seq = SEQ.fetch_add(1, Ordering::Relaxed) as i64 + 1;
        LiveEvent::new(
            seq,
            EventEnvelope::new(
                &DomainEvent::NodeRestored(NodeVersion { version: 1 }),
                EnvelopeMeta {
                    id: rustok_domain::EventId::new_v7(),
                    tenant_id: rustok_domain::TenantId::new_v7(),
                    aggregate_id: uuid::Uuid::now_v7(),
                    actor: "t".into(),
                    occurred_at: chrono::Utc::now(),
                    correlation_id: None,
                    causation_id: None,
                },
            ),
        )
    }

    /// The relay and the feed both publishing an event: every subscriber gets it once, and
    /// the second copy wakes no one.
    #[test]
    fn an_event_published_twice_reaches_each_subscriber_once() {
        let bus = Bus::new(16);
        let (mut a, mut b) = (bus.subscribe(), bus.subscribe());
        let (e, f) = (event(), event());
        assert_eq!(bus.publish(e.clone()), 2);
        assert_eq!(bus.publish(e.clone()), 0, "the duplicate is not sent");
        assert_eq!(bus.publish(f.clone()), 2);
        for s in [&mut a, &mut b] {
            assert!(matches!(s.try_recv(), Some(BusMsg::Event(x)) if x.id == e.id));
            assert!(matches!(s.try_recv(), Some(BusMsg::Event(x)) if x.id == f.id));
            assert!(s.try_recv().is_none());
        }
        assert_eq!(bus.duplicates(), 1);
        assert_eq!(bus.stats().published, 2);
    }
}
