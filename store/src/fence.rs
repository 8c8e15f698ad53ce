//! Forgetting connections that were opened read-only.
//!
//! SQLite opens a file it cannot write (mode bits, `chattr +i`, a read-only mount) read-only
//! without saying so, and the connection stays read-only after the file is writable again. A
//! PostgreSQL session takes `default_transaction_read_only` when it starts, so one opened while
//! the database was set read-only keeps refusing writes after the setting is lifted.
//! When a write meets a read-only database, [`ReadOnlyFence::raise`] records the moment; every
//! pooled connection opened before it is then closed instead of handed out (the pools' acquire
//! hook asks [`ReadOnlyFence::admits`]), so the next attempt runs on a freshly opened
//! connection, which is writable if the file is.
//!
//! Closing the idle connections at that moment is not enough: the connection that just failed
//! is usually still on its way back to the pool (sqlx returns it from a spawned task), and one
//! in use elsewhere returns later, so either would be handed out again read-only.

use sea_orm::sqlx::pool::PoolConnectionMetadata;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What the acquire hook answers: whether to hand the connection out.
type Admit<'c> = Pin<Box<dyn Future<Output = Result<bool, sea_orm::sqlx::Error>> + Send + 'c>>;

/// Shared by a store's pools; cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct ReadOnlyFence {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    base: Instant,
    /// Nanoseconds after `base` of the last raise, plus one; 0 when never raised.
    raised: AtomicU64,
}

impl ReadOnlyFence {
    pub(crate) fn new() -> ReadOnlyFence {
        ReadOnlyFence {
            inner: Arc::new(Inner {
                base: Instant::now(),
                raised: AtomicU64::new(0),
            }),
        }
    }

    fn since_base(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.inner.base).as_nanos()).unwrap_or(u64::MAX)
    }

    /// Every connection opened before now is to be closed rather than used again.
    pub(crate) fn raise(&self) {
        let now = self.since_base(Instant::now()).saturating_add(1);
        self.inner.raised.fetch_max(now, Ordering::AcqRel);
    }

    /// The pools' acquire hook: a connection opened before the last raise is closed instead
    /// of handed out (a clock comparison, no round trip to the database).
    pub(crate) fn acquire_hook<C: 'static>(
        &self,
    ) -> impl for<'c> Fn(&'c mut C, PoolConnectionMetadata) -> Admit<'c> + Send + Sync + 'static
    {
        let fence = self.clone();
        move |_, meta| {
            let admit = fence.admits(meta.age);
            Box::pin(async move { Ok(admit) })
        }
    }

    /// Whether a connection opened `age` ago may be handed out.
    pub(crate) fn admits(&self, age: Duration) -> bool {
        let raised = self.inner.raised.load(Ordering::Acquire);
        if raised == 0 {
            return true;
        }
        let opened = Instant::now()
            .checked_sub(age)
            .map_or(0, |at| self.since_base(at).saturating_add(1));
        opened >= raised
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_opened_before_a_raise_are_refused_and_later_ones_admitted() {
        let fence = ReadOnlyFence::new();
        assert!(fence.admits(Duration::from_secs(3600)), "never raised");
        std::thread::sleep(Duration::from_millis(5));
        let opened_before = Instant::now();
        std::thread::sleep(Duration::from_millis(5));
        fence.raise();
        std::thread::sleep(Duration::from_millis(5));
        let opened_after = Instant::now();
        std::thread::sleep(Duration::from_millis(5));
        assert!(!fence.admits(opened_before.elapsed()));
        assert!(fence.admits(opened_after.elapsed()));
        // A connection older than the fence itself (opened before the store) is refused too.
        assert!(!fence.admits(Duration::from_secs(3600)));
        // Raised again later: the connection opened in between is refused now.
        fence.raise();
        assert!(!fence.admits(opened_after.elapsed()));
        assert!(fence.admits(Duration::ZERO));
    }
}
