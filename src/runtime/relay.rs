//! The relay: claims committed outbox rows oldest first in batches, hands each to the bus and
//! the in-process consumers, marks it dispatched; a failed delivery is retried with exponential
//! backoff (1 s doubling, capped at 60 s) and dead-lettered after 5 attempts. The bus never
//! waits for a consumer: it gets every claimed event at once (its receipt is written with the
//! batch), a failing in-process consumer retries only itself (receipts skip the others).
//!
//! Independent consumers (the JetStream stream, `stream.rs`) have delivery state of their own
//! (store/src/stream.rs): the claim of an outbox row writes them a delivery row, and their
//! own loop — beside the outbox loop, in [`Relay::run`] — delivers those in order, under a
//! per-consumer lease (one process at a time), retries with back-off and dead-letters after
//! its own number of attempts. Their failures never touch the outbox row nor the bus.
//!
//! Scheduled publishing (issue 20): beside those loops, [`Relay::run`] looks for due node
//! schedules every [`RelayConfig::schedule_every`] (500 ms) and executes them
//! ([`Relay::run_schedules`]; store/src/scheduler.rs claims each in the transaction that
//! executes it, so several relaying processes execute a schedule once). The cost is one
//! indexed range query on `node_schedules.due_at` per tick per relaying process, which
//! reads no row when nothing is due; nothing on the console's render path.

use super::bus::Bus;
use chrono::{DateTime, Utc};
use rustok_domain::EventId;
use rustok_domain::event::EventEnvelope;
use rustok_store::{DeliveryFailure, PendingDelivery, Pruned, Receipt, Store, StoreError};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::{Notify, watch};
use uuid::Uuid;

/// Something that must see every committed event (at least once; de-duplicate by id).
pub trait Consumer: Send + Sync {
    fn name(&self) -> &str;
    /// Handles one event; an `Err` makes the relay retry it later.
    fn handle(&self, event: &EventEnvelope) -> Result<(), String>;
}

/// One result per event of a batch handed to an [`IndependentConsumer`], in the batch's order.
pub type DeliverFuture<'a> = Pin<Box<dyn Future<Output = Vec<Result<(), String>>> + Send + 'a>>;

/// A consumer with its own delivery state (a broker): it is handed batches of the events it
/// has still to get, oldest first, and answers for each once it is durably accepted (the
/// receipt is written only then). It must tolerate a re-send of an event it accepted (the
/// process may die between its acceptance and the receipt): de-duplicate by event id.
pub trait IndependentConsumer: Send + Sync {
    fn name(&self) -> &str;
    /// How many attempts before an event becomes this consumer's dead letter.
    fn max_attempts(&self) -> i32;
    fn deliver<'a>(&'a self, batch: &'a [PendingDelivery]) -> DeliverFuture<'a>;
}

/// What one pass of an independent consumer did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct StreamPass {
    pub delivered: usize,
    pub retried: usize,
    pub dead_lettered: usize,
    /// Receipts that already existed (another process delivered the event too).
    pub duplicates: u64,
}

impl StreamPass {
    pub fn attempted(&self) -> usize {
        self.delivered + self.retried + self.dead_lettered
    }
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
    /// How long one process holds the right to deliver an independent consumer (renewed every
    /// pass): after a crash, another process takes over once it has expired.
    /// `RUSTOK_STREAM_LEASE_MS` overrides the default of 10 s.
    pub stream_lease: Duration,
    /// How many events an independent consumer is handed at once (its publishes go out
    /// together, their acks awaited together; one transaction records the batch).
    pub stream_batch: u64,
    /// How often a running relay looks for due node schedules (a due schedule executes
    /// within this plus its own transaction; 500 ms keeps it within a second).
    pub schedule_every: Duration,
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
            stream_lease: std::env::var("RUSTOK_STREAM_LEASE_MS")
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .map_or(Duration::from_secs(10), Duration::from_millis),
            stream_batch: 1024,
            schedule_every: Duration::from_millis(500),
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

/// What one look at the due schedules did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SchedulePass {
    /// Executed by this process.
    pub executed: usize,
    /// Refused (recorded: audit row and `node.schedule_refused`).
    pub refused: usize,
    /// Executed or changed by another process meanwhile.
    pub taken: usize,
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

pub use rustok_store::BUS_CONSUMER;

impl RelayPass {
    pub fn claimed(&self) -> usize {
        self.delivered + self.retried + self.dead_lettered
    }
}

pub struct Relay {
    store: Store,
    bus: Bus,
    consumers: Vec<Arc<dyn Consumer>>,
    streams: Vec<Arc<dyn IndependentConsumer>>,
    /// Whether this relay has registered its independent consumers (before its first claim).
    registered: AtomicBool,
    /// This process's token for the independent consumers' leases.
    stream_token: Uuid,
    /// Until when (Unix ms) this relay holds each independent consumer's lease.
    leases: std::sync::Mutex<std::collections::HashMap<String, i64>>,
    cfg: RelayConfig,
    wake: Arc<Notify>,
    /// Woken when a claim wrote delivery rows for the independent consumers.
    stream_wake: Arc<Notify>,
}

impl Relay {
    pub fn new(store: Store, bus: Bus, cfg: RelayConfig) -> Self {
        Self {
            store,
            bus,
            consumers: Vec::new(),
            streams: Vec::new(),
            registered: AtomicBool::new(false),
            stream_token: Uuid::now_v7(),
            leases: std::sync::Mutex::new(std::collections::HashMap::new()),
            cfg,
            wake: Arc::new(Notify::new()),
            stream_wake: Arc::new(Notify::new()),
        }
    }

    /// Adds an independent consumer: registered in the database before this relay's first
    /// claim, delivered by [`Relay::run`] beside the outbox (and by [`Relay::drain_streams`]).
    pub fn with_stream(mut self, c: Arc<dyn IndependentConsumer>) -> Self {
        self.streams.push(c);
        self
    }

    /// The independent consumers' names.
    pub fn stream_names(&self) -> Vec<String> {
        self.streams.iter().map(|s| s.name().to_string()).collect()
    }

    async fn register_streams(&self) -> Result<(), StoreError> {
        if self.streams.is_empty() || self.registered.load(Ordering::Acquire) {
            return Ok(());
        }
        for s in &self.streams {
            self.store.register_consumer(s.name(), Utc::now()).await?;
        }
        self.registered.store(true, Ordering::Release);
        Ok(())
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
        self.register_streams().await?;
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
        if !self.streams.is_empty() {
            self.stream_wake.notify_one();
        }
        // Receipts make delivery durable per consumer: whoever already had an event (from an
        // earlier relay whose claim expired, or an earlier attempt another consumer failed)
        // is not handed it again.
        let mut names: Vec<&str> = self.consumers.iter().map(|c| c.name()).collect();
        names.push(BUS_CONSUMER);
        let ids: Vec<EventId> = batch.events.iter().map(|e| e.envelope.id).collect();
        let had = self.store.receipts_for(&names, &ids).await?;
        let had = |consumer: &str, id: EventId| had.contains(&(consumer.to_string(), id));
        let mut receipts = Vec::new();
        let mut delivered = Vec::with_capacity(batch.events.len());
        for stored in batch.events {
            let id = stored.envelope.id;
            let mut failures: Vec<String> = Vec::new();
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
                    Err(e) => failures.push(format!("{}: {e}", c.name())),
                }
            }
            if failures.is_empty() {
                delivered.push(stored.seq);
                pass.delivered += 1;
            } else {
                let error = failures.join("; ");
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
            // The bus (the live panes) never waits for another consumer.
            if !had(BUS_CONSUMER, id) {
                receipts.push(Receipt {
                    consumer: BUS_CONSUMER.to_string(),
                    event_id: id,
                    seq: stored.seq,
                });
                self.bus.publish(stored.into_live());
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

    /// One pass of an independent consumer: takes (or renews) its lease, hands it the events
    /// it is due to get (oldest first, up to a batch), records receipts for those it accepted
    /// and back-off or dead-lettering for the others. Nothing when another process holds the
    /// lease or the oldest waiting event is still in its back-off.
    pub async fn stream_once(&self, c: &dyn IndependentConsumer) -> Result<StreamPass, StoreError> {
        self.stream_pass(c, None).await
    }

    /// [`Relay::stream_once`], given up at once (nothing recorded: the batch is delivered again
    /// later, a re-send the consumer drops) when `stop` turns true while the consumer is
    /// delivering — so a stopping process never waits for a broker that does not answer.
    async fn stream_pass(
        &self,
        c: &dyn IndependentConsumer,
        stop: Option<watch::Receiver<bool>>,
    ) -> Result<StreamPass, StoreError> {
        self.register_streams().await?;
        let now_ms = Utc::now().timestamp_millis();
        let mut pass = StreamPass::default();
        // An idle consumer costs one read per poll: the lease (a write) only when there is
        // work, and the backlog is read again under it (another holder may have taken it).
        if !self.store.consumer_has_due(c.name(), now_ms).await? || !self.hold(c.name()).await? {
            return Ok(pass);
        }
        let batch = self
            .store
            .consumer_backlog(c.name(), self.cfg.stream_batch, now_ms)
            .await?;
        if batch.is_empty() {
            return Ok(pass);
        }
        let stopped = async move {
            match stop {
                Some(mut rx) => {
                    let _ = rx.wait_for(|s| *s).await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        let results = tokio::select! {
            r = c.deliver(&batch) => r,
            _ = stopped => return Ok(pass),
        };
        if let Some(pause) = pause_before_receipts() {
            // Tests only: the moment a kill -9 between the broker's ack and the receipt hits.
            tracing::info!(
                events = batch.len(),
                "delivered; pausing before the receipts"
            );
            tokio::time::sleep(pause).await;
        }
        let now_ms = Utc::now().timestamp_millis();
        let mut delivered = Vec::with_capacity(batch.len());
        let mut failed = Vec::new();
        for (i, d) in batch.iter().enumerate() {
            match results
                .get(i)
                .cloned()
                .unwrap_or_else(|| Err("no answer".into()))
            {
                Ok(()) => delivered.push((d.event.seq, d.event.envelope.id)),
                Err(error) => {
                    let attempts = d.attempts.saturating_add(1);
                    let dead = attempts >= c.max_attempts();
                    if dead {
                        pass.dead_lettered += 1;
                    } else {
                        pass.retried += 1;
                    }
                    failed.push(DeliveryFailure {
                        seq: d.event.seq,
                        attempts,
                        error: format!("{}: {error}", c.name()),
                        next_attempt_ms: now_ms
                            + i64::try_from(backoff(attempts, &self.cfg).as_millis())
                                .unwrap_or(60_000),
                        dead,
                    });
                }
            }
        }
        if let Some(f) = failed.first() {
            tracing::warn!(consumer = c.name(), failed = failed.len(), attempts = f.attempts, error = %f.error, "stream delivery failed");
        }
        let report = self
            .store
            .complete_deliveries(c.name(), &delivered, &failed, Utc::now())
            .await?;
        pass.delivered = delivered.len();
        pass.duplicates = report.duplicates;
        Ok(pass)
    }

    /// Takes or renews this relay's lease on delivering `consumer`: renewed (a write) only
    /// once a tenth of it has passed, so a busy consumer does not write it every batch —
    /// at least 90 % of the lease is left when a batch starts, more than a batch may take.
    async fn hold(&self, consumer: &str) -> Result<bool, StoreError> {
        let now_ms = Utc::now().timestamp_millis();
        let lease_ms = i64::try_from(self.cfg.stream_lease.as_millis()).unwrap_or(i64::MAX / 4);
        let until = self.held_until(consumer);
        if until.saturating_sub(now_ms) > lease_ms - lease_ms / 10 {
            return Ok(true);
        }
        let held = self
            .store
            .lease_consumer(consumer, self.stream_token, now_ms, lease_ms)
            .await?;
        let mut leases = self.leases.lock().unwrap_or_else(|p| p.into_inner());
        if held {
            leases.insert(consumer.to_string(), now_ms.saturating_add(lease_ms));
        } else {
            leases.remove(consumer);
        }
        Ok(held)
    }

    fn held_until(&self, consumer: &str) -> i64 {
        let leases = self.leases.lock().unwrap_or_else(|p| p.into_inner());
        leases.get(consumer).copied().unwrap_or(0)
    }

    async fn release(&self, consumer: &str) -> Result<(), StoreError> {
        self.leases
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(consumer);
        self.store
            .release_consumer(consumer, self.stream_token)
            .await
    }

    /// Delivers every independent consumer's due events until none is left or a pass fails
    /// (events in back-off stay pending): one pass per batch. Returns each consumer's totals.
    pub async fn drain_streams(&self) -> Result<Vec<(String, StreamPass)>, StoreError> {
        let mut out = Vec::with_capacity(self.streams.len());
        for c in &self.streams {
            let mut total = StreamPass::default();
            loop {
                let p = self.stream_once(c.as_ref()).await?;
                total.delivered += p.delivered;
                total.retried += p.retried;
                total.dead_lettered += p.dead_lettered;
                total.duplicates += p.duplicates;
                if p.delivered == 0 {
                    break;
                }
            }
            self.release(c.name()).await?;
            out.push((c.name().to_string(), total));
        }
        Ok(out)
    }

    /// One independent consumer's loop: a pass whenever a claim wrote it work, every `poll`,
    /// or at once after a pass that delivered; on a failed pass it waits for the back-off.
    async fn run_stream(&self, c: &dyn IndependentConsumer, mut shutdown: watch::Receiver<bool>) {
        let mut error_backoff = Duration::from_millis(250);
        loop {
            if *shutdown.borrow() {
                let _ = self.release(c.name()).await;
                return;
            }
            let wait = match self.stream_pass(c, Some(shutdown.clone())).await {
                Ok(p) if p.delivered > 0 => {
                    error_backoff = Duration::from_millis(250);
                    tokio::task::yield_now().await;
                    continue;
                }
                Ok(_) => {
                    error_backoff = Duration::from_millis(250);
                    self.cfg.poll
                }
                Err(e) => {
                    tracing::error!(consumer = c.name(), error = %e, "stream pass failed; retrying");
                    let w = error_backoff;
                    error_backoff = (error_backoff * 2).min(Duration::from_secs(10));
                    w
                }
            };
            tokio::select! {
                _ = self.stream_wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Runs until `shutdown` turns true: the outbox loop and, beside it, one loop per
    /// independent consumer (so neither waits for the other) and the scheduler's loop.
    pub async fn run(&self, shutdown: watch::Receiver<bool>) {
        let streams = self
            .streams
            .iter()
            .map(|c| self.run_stream(c.as_ref(), shutdown.clone()));
        tokio::join!(
            self.run_outbox(shutdown.clone()),
            futures_util::future::join_all(streams),
            self.run_scheduler(shutdown.clone())
        );
    }

    /// Executes the node schedules due now (at most 64 per call; see
    /// store/src/scheduler.rs): each as the command it stands for, by the staff member who
    /// scheduled it, claimed in its own transaction so it runs once across processes. A
    /// refusal is recorded there (audit row, `node.schedule_refused`). Wakes the outbox loop
    /// when something was written, so its events reach the bus at once.
    pub async fn run_schedules(&self) -> Result<SchedulePass, StoreError> {
        let mut pass = SchedulePass::default();
        for due in self.store.due_schedules(Utc::now(), 64).await? {
            let (run, env) = self.store.run_due_schedule(&due, Utc::now()).await?;
            match run {
                rustok_store::ScheduleRun::Executed(applied) => {
                    pass.executed += 1;
                    tracing::info!(command = env.command.name(), id = %env.id, node = %due.schedule.node_id, by = %due.schedule.by, events = applied.events.len(), "scheduled command applied");
                }
                rustok_store::ScheduleRun::Refused { reason, .. } => {
                    pass.refused += 1;
                    tracing::warn!(command = env.command.name(), id = %env.id, node = %due.schedule.node_id, by = %due.schedule.by, %reason, "scheduled command refused");
                }
                rustok_store::ScheduleRun::Taken => pass.taken += 1,
            }
        }
        if pass.executed + pass.refused > 0 {
            self.wake.notify_one();
        }
        Ok(pass)
    }

    /// The scheduler's loop: [`Relay::run_schedules`] every `schedule_every`.
    async fn run_scheduler(&self, mut shutdown: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(self.cfg.schedule_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                return;
            }
            if let Err(e) = self.run_schedules().await {
                tracing::warn!(error = %e, "executing due schedules failed; trying again next tick");
            }
        }
    }

    /// The outbox loop: a pass whenever woken or every `poll`.
    async fn run_outbox(&self, mut shutdown: watch::Receiver<bool>) {
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

/// `RUSTOK_TEST_PAUSE_BEFORE_RECEIPT_MS`: tests only (the kill -9 between a broker's ack and
/// the receipt).
fn pause_before_receipts() -> Option<Duration> {
    std::env::var("RUSTOK_TEST_PAUSE_BEFORE_RECEIPT_MS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .map(Duration::from_millis)
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
