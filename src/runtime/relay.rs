//! The relay: claims committed outbox rows oldest first in batches, hands each to the
//! consumers and the bus, marks it dispatched; a failed delivery is retried with exponential
//! backoff (1 s doubling, capped at 60 s) and dead-lettered after 5 attempts.

use super::bus::Bus;
use chrono::{DateTime, Utc};
use rustok_domain::EventId;
use rustok_domain::event::EventEnvelope;
use rustok_store::{Pruned, Receipt, Store, StoreError};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// Something that must see every committed event (at least once; de-duplicate by id).
pub trait Consumer: Send + Sync {
    fn name(&self) -> &str;
    /// Handles one event; an `Err` makes the relay retry it later.
    fn handle(&self, event: &EventEnvelope) -> Result<(), String>;
}

#[derive(Debug, Clone)]
pub struct RelayConfig {
    pub batch: u64,
    /// How long a claim is held before another relay may take the rows over.
    pub lease: Duration,
    /// How often to look for work when nothing woke the relay.
    pub poll: Duration,
    pub max_attempts: i32,
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// How long the command log and the receipts of dispatched events are kept (`None`: for
    /// ever). A command retried within it is applied at most once (store/src/housekeeping.rs).
    pub retention: Option<Duration>,
    /// How often a running relay deletes what is older than `retention`; the first time is
    /// `prune_every` after it starts, or a minute if that is sooner (not while a console is
    /// opening, nor delaying a short session's exit).
    pub prune_every: Duration,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            batch: 256,
            lease: Duration::from_secs(30),
            poll: Duration::from_millis(250),
            max_attempts: 5,
            base_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
            retention: retention_from_env(),
            prune_every: Duration::from_secs(3600),
        }
    }
}

/// Seven days, or `RUSTOK_RETENTION_DAYS` (0 keeps everything for ever).
fn retention_from_env() -> Option<Duration> {
    const DEFAULT_DAYS: u64 = 7;
    let days = match std::env::var("RUSTOK_RETENTION_DAYS") {
        Ok(v) => v.trim().parse::<u64>().unwrap_or_else(|_| {
            tracing::warn!(value = %v, "RUSTOK_RETENTION_DAYS is not a number of days; using {DEFAULT_DAYS}");
            DEFAULT_DAYS
        }),
        Err(_) => DEFAULT_DAYS,
    };
    (days > 0).then(|| Duration::from_secs(days.saturating_mul(86_400)))
}

/// Delay before attempt `attempts + 1`, after `attempts` failures: base × 2^(attempts−1),
/// capped.
pub fn backoff(attempts: i32, cfg: &RelayConfig) -> Duration {
    let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    cfg.base_backoff
        .checked_mul(2u32.saturating_pow(exp))
        .unwrap_or(cfg.max_backoff)
        .min(cfg.max_backoff)
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelayPass {
    pub delivered: usize,
    pub retried: usize,
    pub dead_lettered: usize,
    /// Hand-overs whose receipt already existed: another relay delivered the same event to
    /// the same consumer (only possible when a claim outlived its lease). Zero means exactly
    /// once.
    pub duplicates: u64,
}

/// The receipt name of the relay's own hand-over of an event to its bus.
pub const BUS_CONSUMER: &str = "bus";

impl RelayPass {
    pub fn claimed(&self) -> usize {
        self.delivered + self.retried + self.dead_lettered
    }
}

pub struct Relay {
    store: Store,
    bus: Bus,
    consumers: Vec<Arc<dyn Consumer>>,
    cfg: RelayConfig,
    wake: Arc<Notify>,
}

impl Relay {
    pub fn new(store: Store, bus: Bus, cfg: RelayConfig) -> Self {
        Self {
            store,
            bus,
            consumers: Vec::new(),
            cfg,
            wake: Arc::new(Notify::new()),
        }
    }

    pub fn with_consumer(mut self, c: Arc<dyn Consumer>) -> Self {
        self.consumers.push(c);
        self
    }

    /// Notify this to make the relay look at the outbox now.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Deletes the command log and the receipts of dispatched events older than the retention
    /// (nothing when it is unset).
    pub async fn prune(&self) -> Result<Pruned, StoreError> {
        let Some(keep) = self.cfg.retention else {
            return Ok(Pruned::default());
        };
        let keep = chrono::Duration::from_std(keep).unwrap_or(chrono::Duration::MAX);
        let before = Utc::now()
            .checked_sub_signed(keep)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let pruned = self.store.prune_history(before).await?;
        if pruned != Pruned::default() {
            tracing::info!(
                command_log = pruned.command_log,
                receipts = pruned.receipts,
                %before,
                "pruned the command log and the receipts of dispatched events"
            );
        }
        Ok(pruned)
    }

    /// Claims and delivers one batch.
    pub async fn run_once(&self) -> Result<RelayPass, StoreError> {
        let now_ms = Utc::now().timestamp_millis();
        let lease_ms = i64::try_from(self.cfg.lease.as_millis()).unwrap_or(i64::MAX / 4);
        let batch = self
            .store
            .claim_batch(self.cfg.batch, now_ms, lease_ms)
            .await?;
        let mut pass = RelayPass::default();
        if batch.events.is_empty() {
            return Ok(pass);
        }
        // Receipts make delivery durable per consumer: whoever already had an event (from an
        // earlier relay whose claim expired) is not handed it again.
        let mut names: Vec<&str> = self.consumers.iter().map(|c| c.name()).collect();
        names.push(BUS_CONSUMER);
        let ids: Vec<EventId> = batch.events.iter().map(|e| e.envelope.id).collect();
        let had = self.store.receipts_for(&names, &ids).await?;
        let had = |consumer: &str, id: EventId| had.contains(&(consumer.to_string(), id));
        let mut receipts = Vec::new();
        let mut delivered = Vec::with_capacity(batch.events.len());
        for stored in batch.events {
            let id = stored.envelope.id;
            let mut failure = None;
            for c in &self.consumers {
                if had(c.name(), id) {
                    continue;
                }
                match c.handle(&stored.envelope) {
                    Ok(()) => receipts.push(Receipt {
                        consumer: c.name().to_string(),
                        event_id: id,
                        seq: stored.seq,
                    }),
                    Err(e) => {
                        failure = Some(format!("{}: {e}", c.name()));
                        break;
                    }
                }
            }
            match failure {
                None => {
                    delivered.push(stored.seq);
                    if !had(BUS_CONSUMER, id) {
                        receipts.push(Receipt {
                            consumer: BUS_CONSUMER.to_string(),
                            event_id: id,
                            seq: stored.seq,
                        });
                        self.bus.publish(stored.into_live());
                    }
                    pass.delivered += 1;
                }
                Some(error) => {
                    let attempts = stored.attempts + 1;
                    let dead = attempts >= self.cfg.max_attempts;
                    let next = now_ms
                        + i64::try_from(backoff(attempts, &self.cfg).as_millis()).unwrap_or(60_000);
                    tracing::warn!(event = %stored.envelope.id, attempts, dead, %error, "delivery failed");
                    self.store
                        .record_failure(batch.token, stored.seq, attempts, &error, next, dead)
                        .await?;
                    if dead {
                        pass.dead_lettered += 1;
                    } else {
                        pass.retried += 1;
                    }
                }
            }
        }
        // Receipts and the dispatched mark commit together.
        let report = self
            .store
            .complete_batch(batch.token, &receipts, &delivered, Utc::now())
            .await?;
        if report.duplicates > 0 {
            tracing::warn!(
                duplicates = report.duplicates,
                "events were delivered by another relay too (a claim outlived its lease)"
            );
        }
        pass.duplicates = report.duplicates;
        Ok(pass)
    }

    /// Delivers until nothing is claimable right now (rows in backoff stay pending).
    pub async fn drain(&self) -> Result<RelayPass, StoreError> {
        let mut total = RelayPass::default();
        loop {
            let p = self.run_once().await?;
            total.delivered += p.delivered;
            total.retried += p.retried;
            total.dead_lettered += p.dead_lettered;
            total.duplicates += p.duplicates;
            if p.claimed() == 0 {
                return Ok(total);
            }
        }
    }

    /// Runs until `shutdown` turns true: a pass whenever woken or every `poll`.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>) {
        let mut error_backoff = Duration::from_millis(250);
        // The first idle moment a minute (or `prune_every`) after start prunes, then every
        // `prune_every`.
        let mut next_prune =
            tokio::time::Instant::now() + self.cfg.prune_every.min(Duration::from_secs(60));
        loop {
            if *shutdown.borrow() {
                return;
            }
            // One batch at a time, so a stop request is seen between batches even when a large
            // backlog is pending (a full drain here would hold shutdown for the whole backlog).
            let pass = match self.run_once().await {
                // A connection opened while writes were refused keeps refusing them (an SQLite
                // file opened read-only, a PostgreSQL session started read-only): forget every
                // connection opened until now and try once more on a fresh one, which writes if
                // the database does again (the first pass after a fix may meet a connection
                // opened while the fault lasted).
                Err(StoreError::ReadOnly(_)) => {
                    self.store.forget_read_only_connections().await;
                    self.run_once().await
                }
                other => other,
            };
            match pass {
                Ok(pass) if pass.claimed() > 0 => {
                    error_backoff = Duration::from_millis(250);
                    tokio::task::yield_now().await;
                    continue;
                }
                Ok(_) => {
                    error_backoff = Duration::from_millis(250);
                    if tokio::time::Instant::now() >= next_prune {
                        next_prune = tokio::time::Instant::now() + self.cfg.prune_every;
                        // A stop request does not wait for housekeeping.
                        tokio::select! {
                            r = self.prune() => if let Err(e) = r {
                                tracing::warn!(error = %e, "pruning the command log and receipts failed; trying again later");
                            },
                            _ = shutdown.changed() => return,
                        }
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "relay pass failed; retrying");
                    if matches!(e, StoreError::ReadOnly(_)) {
                        self.store.forget_read_only_connections().await;
                    }
                    // A commit meanwhile (the wake) says the database is back: try at once.
                    tokio::select! {
                        _ = self.wake.notified() => {}
                        _ = tokio::time::sleep(error_backoff) => {}
                        _ = shutdown.changed() => {}
                    }
                    error_backoff = (error_backoff * 2).min(Duration::from_secs(10));
                    continue;
                }
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.cfg.poll) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_one_second_and_caps_at_sixty() {
        let cfg = RelayConfig::default();
        let secs: Vec<u64> = (1..=9).map(|a| backoff(a, &cfg).as_secs()).collect();
        assert_eq!(secs, vec![1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(backoff(0, &cfg).as_secs(), 1);
        assert_eq!(backoff(i32::MAX, &cfg).as_secs(), 60);
    }
}
