//! The live feed: follows every committed outbox row — this process's commits and every other
//! process's on the same database — and hands them out in commit order, each exactly once.
//!
//! - PostgreSQL: each command's transaction runs `pg_notify('rustok_outbox', '')`, delivered at
//!   commit; a listener task wakes the feed at once. The feed also polls (every `poll`), so a
//!   lost notification or a dropped listener connection only costs latency. Exactness despite
//!   sequence numbers committing out of order comes from `rustok_store::Follower`.
//! - SQLite: the feed polls (an indexed `seq > cursor` query, as cheap as `max(seq)`), which
//!   also sees other processes' commits to the same file.
//!
//! The console publishes the feed to its bus, so its Events pane and Dashboard show what other
//! consoles commit; `rustok events tail` prints it. Database errors are logged and retried with
//! backoff; the feed never stops on its own.

use super::bus::Bus;
use rustok_domain::TenantId;
use rustok_store::{FeedCursor, Follower, Store, StoreError, StoredEvent};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

#[derive(Debug, Clone)]
pub struct FeedConfig {
    /// How often to look when no notification arrived.
    pub poll: Duration,
    /// Rows read per query.
    pub batch: u64,
}

impl Default for FeedConfig {
    fn default() -> Self {
        Self {
            poll: Duration::from_millis(250),
            batch: 500,
        }
    }
}

/// A follower of committed events with its wake-up source.
pub struct FeedStream {
    store: Store,
    follower: Follower,
    wake: Arc<Notify>,
    listener: JoinHandle<()>,
    cfg: FeedConfig,
    ready: bool,
}

impl Drop for FeedStream {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

impl FeedStream {
    /// Starts after everything committed so far except the `back` latest events (of `tenant`
    /// when given; `None` follows every tenant).
    pub async fn start(
        store: Store,
        tenant: Option<TenantId>,
        back: u64,
        cfg: FeedConfig,
    ) -> Result<FeedStream, StoreError> {
        let cursor = store.feed_head(tenant, back).await?;
        Ok(Self::from_cursor(store, tenant, cursor, cfg))
    }

    pub fn from_cursor(
        store: Store,
        tenant: Option<TenantId>,
        cursor: FeedCursor,
        cfg: FeedConfig,
    ) -> FeedStream {
        let wake = Arc::new(Notify::new());
        let listener = tokio::spawn(listen(store.clone(), wake.clone()));
        FeedStream {
            store,
            follower: Follower::new(cursor, tenant),
            wake,
            listener,
            cfg,
            ready: true,
        }
    }

    /// The next events committed (never empty): waits for a notification or the next poll;
    /// database errors are logged and retried with backoff (up to 5 s apart).
    pub async fn next(&mut self) -> Vec<StoredEvent> {
        let mut backoff = Duration::from_millis(250);
        loop {
            match self.try_next().await {
                Ok(events) if !events.is_empty() => return events,
                Ok(_) => backoff = Duration::from_millis(250),
                Err(e) => {
                    tracing::warn!(error = %e, "event feed: cannot read the outbox; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    /// One look at the outbox (after waiting for a wake-up unless more is known to be ready).
    pub async fn try_next(&mut self) -> Result<Vec<StoredEvent>, StoreError> {
        if !self.ready {
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.cfg.poll) => {}
            }
        }
        self.ready = false;
        let (events, more) = self.follower.poll(&self.store, self.cfg.batch).await?;
        self.ready = more;
        Ok(events)
    }
}

/// Keeps a `LISTEN` open (PostgreSQL) and turns every notification into a wake-up;
/// reconnects with backoff. On SQLite there is nothing to listen to: the feed polls.
async fn listen(store: Store, wake: Arc<Notify>) {
    let mut backoff = Duration::from_millis(250);
    loop {
        match store.listen().await {
            Ok(None) => return,
            Ok(Some(mut l)) => {
                backoff = Duration::from_millis(250);
                wake.notify_one(); // anything committed while nobody listened
                loop {
                    match l.recv().await {
                        Ok(_) => wake.notify_one(),
                        Err(e) => {
                            tracing::warn!(error = %e, "event feed: notifications lost; polling until they are back");
                            wake.notify_one();
                            break;
                        }
                    }
                }
            }
            Err(e) => tracing::debug!(error = %e, "event feed: cannot listen yet"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// Publishes every committed event (all tenants) on `bus` until `shutdown` turns true.
pub fn spawn_to_bus(
    store: Store,
    bus: Bus,
    cfg: FeedConfig,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut backoff = Duration::from_millis(250);
        let mut stream = loop {
            if *shutdown.borrow() {
                return;
            }
            match FeedStream::start(store.clone(), None, 0, cfg.clone()).await {
                Ok(s) => break s,
                Err(e) => {
                    tracing::warn!(error = %e, "event feed: cannot start; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = shutdown.changed() => return,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        };
        loop {
            tokio::select! {
                events = stream.next() => {
                    for e in events {
                        bus.publish(e.into_live());
                    }
                }
                _ = shutdown.changed() => return,
            }
        }
    })
}
