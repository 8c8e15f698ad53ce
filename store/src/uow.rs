//! The unit of work: one command, one transaction. [`execute_in`] sends each command to its
//! handler (`tenant`, `content`, `commerce`, `staff`), which checks the actor's right
//! (`authz`), loads the aggregate (tenant-filtered), lets the domain decide, writes the new
//! state guarded by its version, keeps the search index in step and appends the events to the
//! outbox; here the command-log row and the audit row join the same transaction, which
//! commits — or changes nothing.
//!
//! This is the top of the store's command code: it calls the handlers, which never call back.

use crate::writes::{Tx, Writes};
use crate::{
    Store, StoreError, audit_log, command_log, commerce, content, notes, schedule, staff, tenant,
};
use chrono::{DateTime, SubsecRound, Utc};
use rustok_domain::audit::{AuditLogEntry, AuditOutcome};
use rustok_domain::read::Applied;
use rustok_domain::{Command, CommandEnvelope};
use sea_orm::ConnectionTrait;

/// The audit-log row a command's own transaction writes when it commits: who and what come
/// from the command envelope, the rest from here. Written in the same transaction as the
/// state change, so a crash can never keep the command and lose its audit row (or the
/// reverse). A command that rolls back writes nothing; its caller records the refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditStamp {
    /// The session the command belongs to (a CLI process, a console, an SSH session).
    pub session: Option<String>,
    /// The outcome to record if the transaction commits (normally `ok`; a declined payment
    /// commits its `payment.failed` event and is recorded as refused).
    pub outcome: AuditOutcome,
    pub reason: Option<String>,
    /// The command name to record when the transaction runs a step of another command (a
    /// `charge_order` records its outcome with `record_payment`); the executed one otherwise.
    pub command: Option<&'static str>,
}

impl Store {
    /// Executes one command in one transaction. On any error nothing is written.
    pub async fn execute(
        &self,
        env: &CommandEnvelope,
        now: DateTime<Utc>,
    ) -> Result<Applied, StoreError> {
        self.execute_audited(env, now, None).await.map(|(a, _)| a)
    }

    /// [`Store::execute`], also appending `audit`'s row to the audit log inside the command's
    /// transaction. Returns whether that row was written: `false` when no stamp was given or
    /// when the command had already committed (a retry answered from the command log, which
    /// applies and records nothing).
    ///
    /// SQLite opens a file it cannot write read-only and the connection stays so. When a
    /// command meets a read-only database, every connection opened until then is forgotten
    /// and the command tried once more on a fresh one: if the file has become writable
    /// meanwhile, it commits; if not, the caller gets `StoreError::ReadOnly`.
    pub async fn execute_audited(
        &self,
        env: &CommandEnvelope,
        now: DateTime<Utc>,
        audit: Option<&AuditStamp>,
    ) -> Result<(Applied, bool), StoreError> {
        match self.execute_audited_once(env, now, audit).await {
            Err(StoreError::ReadOnly(_)) => {
                self.forget_read_only_connections().await;
                let again = self.execute_audited_once(env, now, audit).await;
                if matches!(again, Err(StoreError::ReadOnly(_))) {
                    self.forget_read_only_connections().await;
                }
                again
            }
            other => other,
        }
    }

    async fn execute_audited_once(
        &self,
        env: &CommandEnvelope,
        now: DateTime<Utc>,
        audit: Option<&AuditStamp>,
    ) -> Result<(Applied, bool), StoreError> {
        // Both backends keep microseconds: decide with the time as it will be stored, so the
        // outcome returned equals what a later read gives back.
        let now = now.trunc_subsecs(6);
        self.writing(async |w: &Tx<'_>| {
            match w
                .transaction(async |tx: &Tx<'_>| run_in(tx, env, now, audit).await)
                .await
            {
                Ok(applied) => Ok((applied, audit.is_some())),
                Err(e) => answer_from_log(w, env, e).await,
            }
        })
        .await
    }
}

/// A command's statements in the open transaction `tx`: its own, its command-log row and,
/// given a stamp, its audit row. (`scheduler.rs` runs a due schedule's command through it,
/// after claiming the schedule in the same transaction.)
pub(crate) async fn run_in(
    tx: &Tx<'_>,
    env: &CommandEnvelope,
    now: DateTime<Utc>,
    audit: Option<&AuditStamp>,
) -> Result<Applied, StoreError> {
    let mut w = Writes::new(tx);
    let applied = execute_in(&mut w, env, now).await?;
    command_log::record(&mut w, env, &applied, now).await?;
    if let Some(stamp) = audit {
        let entry = AuditLogEntry {
            seq: 0,
            at: now,
            actor: env.actor.handle.clone(),
            command: stamp.command.unwrap_or(env.command.name()).to_string(),
            command_id: env.id,
            tenant_id: env.tenant_id,
            session: stamp.session.clone(),
            outcome: stamp.outcome,
            reason: stamp.reason.clone(),
        };
        audit_log::insert_audit_in(&mut w, &entry).await?;
    }
    Ok(applied)
}

/// After a command rolled back with `e`: a retry of a command that already committed (its
/// first COMMIT's answer was lost) gets the recorded outcome, and nothing is applied twice.
/// The command log is not looked up first: a command that committed before is refused now
/// (its order exists, its transition is done) or collides with its own command-log row, and
/// both roll back — only then is the log asked. A fresh command pays no lookup.
async fn answer_from_log(
    c: &impl ConnectionTrait,
    env: &CommandEnvelope,
    e: StoreError,
) -> Result<(Applied, bool), StoreError> {
    match command_log::recorded(c, env).await {
        Ok(Some(applied)) => Ok((applied, false)),
        _ => Err(e),
    }
}

/// The command's handler, in the open transaction: one per command, or per family of
/// commands the domain decides together (`decide_node`, `decide_order`, a staff member's
/// changes). A new command is one more line here.
async fn execute_in(
    w: &mut Writes<'_>,
    env: &CommandEnvelope,
    now: DateTime<Utc>,
) -> Result<Applied, StoreError> {
    use Command as C;
    match &env.command {
        C::CreateTenant {
            id,
            slug,
            name,
            default_locale,
        } => tenant::create(w, env, *id, slug, name, default_locale, now).await,
        C::RetryDeadLetters { ids } => tenant::retry_dead_letters(w, env, ids, now).await,
        C::RetryConsumerDeadLetters { consumer, ids } => {
            tenant::retry_consumer_dead_letters(w, env, consumer, ids, now).await
        }
        C::ScheduleNode { .. } | C::UnscheduleNode { .. } => schedule::execute(w, env, now).await,
        C::CreateNode(_) | C::UpdateNode { .. } | C::TranslateNode { .. } | C::NodeStatus(_) => {
            content::execute(w, env, now).await
        }
        C::RevertNode { .. } => content::revert(w, env, now).await,
        C::CopyNode { .. } => content::copy(w, env, now).await,
        C::CreateProduct(draft) => commerce::create_product(w, env, draft, now).await,
        C::AdjustInventory { sku, by, reason } => {
            commerce::adjust_inventory(w, env, sku, *by, reason, now).await
        }
        C::CreateOrder(draft) => commerce::create_order(w, env, draft, now).await,
        // Every order step (`commerce/steps.rs`) and a payment's outcome.
        C::RecordPayment { .. } | C::Order(_) => commerce::order_transition(w, env, now).await,
        C::AddStaff(draft) => staff::add(w, env, draft, now).await,
        C::ChangeStaffRole { .. }
        | C::SetStaffMfa { .. }
        | C::SetStaffPassword { .. }
        | C::SetStaffActive { .. } => staff::change(w, env, now).await,
        C::AddOrderNote { id, note_id, text } => notes::add(w, env, *id, *note_id, text, now).await,
    }
}
