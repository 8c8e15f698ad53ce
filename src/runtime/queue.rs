//! The action queue: one tokio task owns command execution. Callers send a command envelope
//! and get the outcome back on a oneshot channel; the UI never waits on the database.
//!
//! Most commands are one store transaction. Two need the payment gateway, which is never
//! called with a transaction open (DESIGN.md, "paying is two steps"):
//!
//! - `PayOrder { id, card_token, expected_version }`: load the order and check it can be paid, at
//!   the version the user saw (refused early,
//!   gateway not asked). A free order (total 0) is settled at once, no gateway asked
//!   (`Order::free_payment`); any other is charged through the gateway (idempotency key = the
//!   command id, so asking again after a crash charges nothing twice); then execute
//!   `RecordPayment` with the outcome in one transaction, under the same command id. A
//!   decline or invalid card commits its `payment.failed` event and then returns
//!   `PaymentDeclined` to the caller. If the store refuses a *successful* charge (the order
//!   changed meanwhile), the charge is refunded.
//! - `CancelOrder` of a paid or shipped order (not a free one): decide the cancel first (so a
//!   refused cancel never refunds), refund through the gateway (idempotency key = the command
//!   id), then execute the cancel, which restocks and records `payment.refunded`. A refused
//!   refund refuses the cancel and changes nothing. What is refunded is what is left of the
//!   captured amount (partial refunds may have given some back already).
//! - `RefundOrder` (a partial refund): a retry of a refund that already committed (same command
//!   id) is answered from the command log, the gateway not asked again; otherwise the refund is
//!   decided first (an over-refund or a refund of an unpaid order never reaches the gateway),
//!   the gateway refunds the amount (idempotency key = the command id), then the refund is
//!   executed, recording `payment.refunded`. A refused refund changes nothing.

use chrono::Utc;
use rustok_domain::audit::{AuditLogEntry, AuditOutcome};
use rustok_domain::command::decide_order;
use rustok_domain::commerce::{
    ChargeRequest, OrderCommand, PaymentGateway, PaymentOutcome, RefundOutcome, RefundRequest,
    SandboxGateway,
};
use rustok_domain::{Command, CommandEnvelope, DomainError, Money, OrderId};
use rustok_store::{Applied, AuditStamp, Store, StoreError};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the action queue has stopped")]
    Stopped,
    #[error("the action queue is full ({0} commands waiting); try again")]
    Full(usize),
}

impl QueueError {
    pub fn domain(&self) -> Option<&rustok_domain::DomainError> {
        match self {
            QueueError::Store(s) => s.domain(),
            _ => None,
        }
    }
}

pub type Reply = oneshot::Receiver<Result<Applied, StoreError>>;

struct Job {
    env: CommandEnvelope,
    reply: oneshot::Sender<Result<Applied, StoreError>>,
}

#[derive(Clone)]
pub struct QueueOptions {
    pub capacity: usize,
    /// Artificial delay before each command (for demonstrating and testing slow commands).
    pub delay: Option<Duration>,
    /// The payment gateway charges and refunds go through (the built-in sandbox by default).
    pub gateway: Arc<dyn PaymentGateway>,
    /// How long a command that failed because the database was unreachable is retried (with
    /// backoff) before it is reported failed. Retrying is safe: a command whose first commit's
    /// answer was lost finds its id in the command log and is not applied again.
    pub retry_unavailable_for: Duration,
    /// The session every command of this queue belongs to, as the audit log records it (a CLI
    /// process, a console, an SSH session). Defaults to a fresh id per queue.
    pub session: Option<String>,
    /// Record every command's outcome in the audit log (`RUSTOK_AUDIT_LOG=off` disables it;
    /// the security audit reports that).
    pub audit_log: bool,
}

impl std::fmt::Debug for QueueOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueueOptions")
            .field("capacity", &self.capacity)
            .field("delay", &self.delay)
            .field("gateway", &self.gateway.name())
            .finish()
    }
}

impl Default for QueueOptions {
    fn default() -> Self {
        Self {
            capacity: 1024,
            delay: None,
            gateway: Arc::new(SandboxGateway::new()),
            retry_unavailable_for: Duration::from_secs(120),
            session: Some(format!("session-{}", Uuid::now_v7())),
            audit_log: true,
        }
    }
}

#[derive(Clone)]
pub struct ActionQueue {
    tx: mpsc::Sender<Job>,
    depth: Arc<AtomicUsize>,
}

impl ActionQueue {
    /// Starts the worker. After each commit it wakes `relay_wake`, so events reach the bus
    /// without waiting for the relay's next poll.
    pub fn spawn(
        store: Store,
        relay_wake: Option<Arc<Notify>>,
        options: QueueOptions,
    ) -> (ActionQueue, JoinHandle<()>) {
        let (tx, mut rx) = mpsc::channel::<Job>(options.capacity.max(1));
        let depth = Arc::new(AtomicUsize::new(0));
        let worker_depth = depth.clone();
        let handle = tokio::spawn(async move {
            let worker = Worker {
                store,
                gateway: options.gateway.clone(),
                audit_log: options.audit_log,
                session: options.session.clone(),
            };
            while let Some(job) = rx.recv().await {
                if let Some(d) = options.delay {
                    tokio::time::sleep(d).await;
                }
                let (result, committed, audited) = worker
                    .run_retrying(&job.env, options.retry_unavailable_for)
                    .await;
                match &result {
                    Ok(applied) => {
                        tracing::info!(command = job.env.command.name(), id = %job.env.id, events = applied.events.len(), "command applied");
                    }
                    Err(e) => {
                        tracing::info!(command = job.env.command.name(), id = %job.env.id, error = %e, "command refused")
                    }
                }
                if committed && let Some(w) = &relay_wake {
                    w.notify_one();
                }
                // A committed command wrote its audit row in its own transaction, and so did
                // the first run of a command answered from the command log now (a resend is
                // the same action: one row) — a declined payment's included, which commits
                // and answers with an error. A refusal (rolled back) gets its row here. A
                // command that failed because the database is unreachable cannot have its row
                // written either; trying would hold the reply for another pool acquire timeout.
                let unreachable = matches!(&result, Err(e) if e.is_unavailable());
                if options.audit_log && !audited && !committed && !unreachable {
                    worker
                        .record_audit(&job.env, &result, options.session.as_deref())
                        .await;
                }
                worker_depth.fetch_sub(1, Ordering::Relaxed);
                let _ = job.reply.send(result);
            }
        });
        (ActionQueue { tx, depth }, handle)
    }

    /// Queues a command without waiting for it; the reply arrives on the returned channel.
    pub fn submit(&self, env: CommandEnvelope) -> Result<Reply, QueueError> {
        let (reply, rx) = oneshot::channel();
        self.depth.fetch_add(1, Ordering::Relaxed);
        match self.tx.try_send(Job { env, reply }) {
            Ok(()) => Ok(rx),
            Err(e) => {
                self.depth.fetch_sub(1, Ordering::Relaxed);
                Err(match e {
                    mpsc::error::TrySendError::Full(_) => QueueError::Full(self.depth()),
                    mpsc::error::TrySendError::Closed(_) => QueueError::Stopped,
                })
            }
        }
    }

    /// Queues a command and waits for its outcome.
    pub async fn execute(&self, env: CommandEnvelope) -> Result<Applied, QueueError> {
        let (reply, rx) = oneshot::channel();
        self.depth.fetch_add(1, Ordering::Relaxed);
        if self.tx.send(Job { env, reply }).await.is_err() {
            self.depth.fetch_sub(1, Ordering::Relaxed);
            return Err(QueueError::Stopped);
        }
        rx.await
            .map_err(|_| QueueError::Stopped)?
            .map_err(Into::into)
    }

    /// Commands waiting or running.
    pub fn depth(&self) -> usize {
        self.depth.load(Ordering::Relaxed)
    }
}

struct Worker {
    store: Store,
    gateway: Arc<dyn PaymentGateway>,
    audit_log: bool,
    session: Option<String>,
}

/// What running one command gave: its result, whether anything was committed (to wake the
/// relay), and whether its audit-log row was written in the committing transaction.
type Ran = (Result<Applied, StoreError>, bool, bool);

/// The idempotency key of the refund that gives back a charge the store refused: derived
/// from the paying command's id, so asking again refunds nothing twice.
fn compensation_key(command_id: Uuid) -> Uuid {
    let (hi, lo) = command_id.as_u64_pair();
    Uuid::from_u64_pair(hi, lo ^ 0x5246_4e44_0000_0000)
}

impl Worker {
    /// The audit row a committing transaction writes (none when the audit log is off).
    fn stamp(&self, outcome: AuditOutcome, reason: Option<String>) -> Option<AuditStamp> {
        self.audit_log.then(|| AuditStamp {
            session: self.session.clone(),
            outcome,
            reason,
            command: None,
        })
    }

    /// Executes `env` in one transaction with its audit row (outcome `ok`).
    async fn execute(&self, env: &CommandEnvelope) -> Result<(Applied, bool), StoreError> {
        let stamp = self.stamp(AuditOutcome::Ok, None);
        self.store
            .execute_audited(env, Utc::now(), stamp.as_ref())
            .await
    }

    /// Appends the command's outcome to the audit log (append-only). A failure to write it is
    /// logged, never turned into the command's failure: the command's own outcome stands.
    async fn record_audit(
        &self,
        env: &CommandEnvelope,
        result: &Result<Applied, StoreError>,
        session: Option<&str>,
    ) {
        let (outcome, reason) = match result {
            Ok(_) => (AuditOutcome::Ok, None),
            Err(StoreError::Domain(DomainError::PermissionDenied { reason })) => {
                (AuditOutcome::Denied, Some(reason.clone()))
            }
            Err(StoreError::Domain(d)) => (AuditOutcome::Refused, Some(d.to_string())),
            Err(e) => (AuditOutcome::Error, Some(e.to_string())),
        };
        let entry = AuditLogEntry {
            seq: 0,
            at: Utc::now(),
            actor: env.actor.handle.clone(),
            command: env.command.name().to_string(),
            command_id: env.id,
            tenant_id: env.tenant_id,
            session: session.map(str::to_string),
            outcome,
            reason,
        };
        if let Err(e) = self.store.append_audit(&entry).await {
            tracing::error!(command = env.command.name(), id = %env.id, error = %e, "cannot write the audit log");
        }
    }

    /// Runs one command, retrying it with backoff (200 ms doubling, up to 5 s apart) while the
    /// database is unreachable, for at most `give_up_after`. A domain refusal is never retried.
    /// Before each retry the command log is asked whether an earlier attempt committed after
    /// all (its answer lost with the connection): then that outcome is the answer.
    async fn run_retrying(&self, env: &CommandEnvelope, give_up_after: Duration) -> Ran {
        let started = std::time::Instant::now();
        let mut wait = Duration::from_millis(200);
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            if attempt > 1
                && let Ok(Some(applied)) = self.store.command_outcome(env).await
            {
                return (Ok(applied), true, false);
            }
            let (result, committed, audited) = self.run(env).await;
            match &result {
                Err(e) if e.is_unavailable() && started.elapsed() < give_up_after => {
                    tracing::warn!(command = env.command.name(), id = %env.id, attempt, error = %e, "database unavailable; the command will be retried");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(5));
                }
                Err(e) if e.is_unavailable() => {
                    let reason = match e {
                        StoreError::Unavailable(m) => m.clone(),
                        other => other.to_string(),
                    };
                    return (
                        Err(StoreError::Unavailable(format!(
                            "{reason}; gave up after {} s and {attempt} attempts (command {}: \
                             submitting it again with the same id is safe)",
                            give_up_after.as_secs(),
                            env.id
                        ))),
                        committed,
                        audited,
                    );
                }
                _ => return (result, committed, audited),
            }
        }
    }

    /// Runs one command; also says whether anything was committed (to wake the relay) and
    /// whether the audit row was written with it.
    async fn run(&self, env: &CommandEnvelope) -> Ran {
        let r = match &env.command {
            Command::Order(OrderCommand::PayOrder {
                id,
                card_token,
                expected_version,
            }) => return self.pay(env, *id, card_token, *expected_version).await,
            Command::Order(OrderCommand::CancelOrder { id, .. }) => self.cancel(env, *id).await,
            Command::Order(OrderCommand::RefundOrder { id, amount, .. }) => {
                self.partial_refund(env, *id, amount).await
            }
            _ => self.execute(env).await,
        };
        match r {
            Ok((applied, audited)) => (Ok(applied), true, audited),
            Err(e) => (Err(e), false, false),
        }
    }

    async fn charge(&self, req: ChargeRequest) -> Result<PaymentOutcome, StoreError> {
        if self.gateway.answers_at_once() {
            return Ok(self.gateway.charge(&req));
        }
        let gateway = self.gateway.clone();
        tokio::task::spawn_blocking(move || gateway.charge(&req))
            .await
            .map_err(|e| {
                StoreError::Config(format!(
                    "the payment gateway {} failed ({e}); nothing was recorded, and asking again \
                     with the same command id is safe",
                    self.gateway.name()
                ))
            })
    }

    /// Refunds through the gateway, reminding it first of the charge (`captured`: the whole
    /// amount the platform recorded as charged) — see `PaymentGateway::recall_charge`.
    async fn refund(&self, req: RefundRequest, captured: Money) -> RefundOutcome {
        if self.gateway.answers_at_once() {
            self.gateway
                .recall_charge(req.order_id, &req.payment_reference, captured);
            return self.gateway.refund(&req);
        }
        let gateway = self.gateway.clone();
        tokio::task::spawn_blocking(move || {
            gateway.recall_charge(req.order_id, &req.payment_reference, captured);
            gateway.refund(&req)
        })
        .await
        .unwrap_or_else(|e| RefundOutcome::Failed {
            code: "gateway_error".into(),
            reason: format!("the payment gateway failed: {e}"),
        })
    }

    async fn pay(
        &self,
        env: &CommandEnvelope,
        id: OrderId,
        card_token: &str,
        expected_version: Option<i64>,
    ) -> Ran {
        // RBAC first: a denied payment must never reach the gateway. Step 1, no transaction
        // open: is the order payable, and what does the gateway say?
        let order = match self.store.order_to_pay(env, id).await {
            Ok(Some(o)) => o,
            Ok(None) => {
                return (
                    Err(DomainError::not_found("order", id).into()),
                    false,
                    false,
                );
            }
            Err(e) => return (Err(e), false, false),
        };
        // The order the user saw: a card that changed since is not charged.
        if let Err(e) = order.check_version(expected_version) {
            return (Err(e.into()), false, false);
        }
        // A free order (total 0) is settled at once: no card to charge, no gateway asked.
        let outcome = match order.free_payment(env.id.as_uuid()) {
            Ok(Some(free)) => free,
            Ok(None) => {
                let request = match order.charge_request(env.id.as_uuid(), card_token) {
                    Ok(r) => r,
                    Err(e) => return (Err(e.into()), false, false),
                };
                match self.charge(request).await {
                    Ok(o) => o,
                    Err(e) => return (Err(e), false, false),
                }
            }
            Err(e) => return (Err(e.into()), false, false),
        };
        // Step 2: record the outcome in one transaction, under the paying command's id.
        let record = CommandEnvelope {
            command: Command::RecordPayment {
                id,
                outcome: outcome.clone(),
            },
            ..env.clone()
        };
        // A decline commits its `payment.failed` event but answers the caller with an error:
        // its audit row (written with the event) says refused, as the queue would record it.
        let declined = match &outcome {
            PaymentOutcome::Succeeded { .. } => None,
            PaymentOutcome::Declined { code, reason }
            | PaymentOutcome::Invalid { code, reason } => Some(DomainError::PaymentDeclined {
                code: code.clone(),
                reason: reason.clone(),
            }),
        };
        let stamp = match &declined {
            None => self.stamp(AuditOutcome::Ok, None),
            Some(d) => self.stamp(AuditOutcome::Refused, Some(d.to_string())),
        }
        .map(|s| AuditStamp {
            command: Some(env.command.name()),
            ..s
        });
        match self
            .store
            .execute_audited(&record, Utc::now(), stamp.as_ref())
            .await
        {
            Ok((applied, audited)) => match declined {
                None => (Ok(applied), true, audited),
                Some(d) => (Err(d.into()), true, audited),
            },
            Err(e) => {
                // Unreachable database: whether the payment was recorded is unknown; the
                // worker retries the command (same id: the gateway charges nothing twice).
                if let PaymentOutcome::Succeeded { reference, amount } = outcome
                    && !e.is_unavailable()
                    && amount.amount > 0
                {
                    // The money was taken but the order could not record it: give it back.
                    let refund = self
                        .refund(
                            RefundRequest {
                                idempotency_key: compensation_key(env.id.as_uuid()),
                                order_id: id,
                                amount,
                                payment_reference: reference.clone(),
                            },
                            amount,
                        )
                        .await;
                    if refund.is_success() {
                        tracing::warn!(order = %id, %reference, error = %e, "payment refused after charging; refunded");
                    } else {
                        tracing::error!(order = %id, %reference, error = %e, ?refund, "payment refused after charging and the refund failed");
                    }
                }
                (Err(e), false, false)
            }
        }
    }

    async fn cancel(
        &self,
        env: &CommandEnvelope,
        id: OrderId,
    ) -> Result<(Applied, bool), StoreError> {
        // RBAC first: a denied cancel must never refund.
        self.store.authorize(env).await?;
        let order = self.store.order(env.tenant_id, id).await?;
        if let Some(order) = order.filter(|o| o.needs_refund()) {
            // Decide first: a cancel the domain refuses must not refund anything.
            decide_order(env.tenant_id, Some(&order), &env.command, &[], Utc::now())?;
            let request = order.refund_request(env.id.as_uuid()).ok_or_else(|| {
                DomainError::validation(
                    "order",
                    format!("order {id} is paid but has no payment reference to refund"),
                )
            })?;
            if let RefundOutcome::Failed { code, reason } =
                self.refund(request, order.captured()).await
            {
                return Err(DomainError::RefundFailed { code, reason }.into());
            }
            let result = self.execute(env).await;
            if let Err(e) = &result {
                tracing::error!(order = %id, error = %e, "refunded, but the cancel was refused; asking again with the same command id refunds nothing twice");
            }
            return result;
        }
        self.execute(env).await
    }

    /// A partial refund: answered from the command log when this command id already
    /// committed; else decided (refused before the gateway is asked), refunded through the
    /// gateway under the command id, then executed.
    async fn partial_refund(
        &self,
        env: &CommandEnvelope,
        id: OrderId,
        amount: &str,
    ) -> Result<(Applied, bool), StoreError> {
        // RBAC first: a denied refund must never reach the gateway.
        self.store.authorize(env).await?;
        if let Some(applied) = self.store.command_outcome(env).await? {
            return Ok((applied, false));
        }
        let order = self
            .store
            .order(env.tenant_id, id)
            .await?
            .ok_or_else(|| DomainError::not_found("order", id))?;
        // Decide first: a refund the domain refuses (over-refund, unpaid order, unknown SKU to
        // restock, stale version) must not reach the gateway.
        decide_order(env.tenant_id, Some(&order), &env.command, &[], Utc::now())?;
        let request = order.partial_refund_request(env.id.as_uuid(), amount)?;
        if let RefundOutcome::Failed { code, reason } = self.refund(request, order.captured()).await
        {
            return Err(DomainError::RefundFailed { code, reason }.into());
        }
        let result = self.execute(env).await;
        if let Err(e) = &result {
            tracing::error!(order = %id, error = %e, "refunded, but recording the refund was refused; asking again with the same command id refunds nothing twice");
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::compensation_key;
    use uuid::Uuid;

    #[test]
    fn compensation_keys_are_stable_and_distinct() {
        let id = Uuid::now_v7();
        assert_eq!(compensation_key(id), compensation_key(id));
        assert_ne!(compensation_key(id), id);
    }
}
