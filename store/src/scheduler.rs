//! Executing due schedules (issue 20): what every relaying process does once a second.
//!
//! A due schedule runs as the command it stands for — `publish_node` / `unpublish_node` by the
//! staff member who scheduled it, authorized, decided, written, audited (session
//! [`SCHEDULER_SESSION`]) like any other — in one transaction that first claims the schedule
//! (`schedule::claim`: the row deleted by id). Several processes on one database may all try:
//! one claims it, the others find it gone and do nothing, so it runs exactly once.
//!
//! If the command is refused (the member's role no longer allows it, they are inactive or
//! gone, the node's status no longer admits it), a second transaction claims the schedule,
//! appends a `node.schedule_refused` event (every console sees it) and the audit row of the
//! refusal — once, by whichever process claims it. An infrastructure error leaves the
//! schedule in place for the next pass.

use crate::audit_log::insert_audit_in;
use crate::outbox::{append, wrap};
use crate::schedule::{DueSchedule, claim};
use crate::uow::{AuditStamp, run_in};
use crate::writes::{Tx, Writes};
use crate::{Store, StoreError};
use chrono::{DateTime, SubsecRound, Utc};
use rustok_domain::audit::{AuditLogEntry, AuditOutcome};
use rustok_domain::command::NodeTransition;
use rustok_domain::content::schedule::refused_event;
use rustok_domain::read::Applied;
use rustok_domain::{Actor, Command, CommandEnvelope, DomainError};

/// The session the audit log records for commands a schedule executed.
pub const SCHEDULER_SESSION: &str = "scheduler";

/// What became of one due schedule.
#[derive(Debug, Clone, PartialEq)]
pub enum ScheduleRun {
    /// Executed: the command's outcome and events.
    Executed(Box<Applied>),
    /// Refused (and recorded: audit row and `node.schedule_refused`).
    Refused {
        reason: String,
        events: Vec<rustok_domain::event::EventEnvelope>,
    },
    /// Another process executed it, or it was rescheduled or cancelled meanwhile.
    Taken,
}

impl Store {
    /// Executes one due schedule (see the module docs); `command` is the envelope it ran as.
    pub async fn run_due_schedule(
        &self,
        due: &DueSchedule,
        now: DateTime<Utc>,
    ) -> Result<(ScheduleRun, CommandEnvelope), StoreError> {
        let now = now.trunc_subsecs(6);
        let s = &due.schedule;
        let env = CommandEnvelope::new(
            due.tenant_id,
            Actor::new(s.by.clone()),
            Command::NodeStatus(NodeTransition {
                id: s.node_id,
                action: s.action.node_action(),
                expected_version: None,
            }),
        );
        let stamp = AuditStamp {
            session: Some(SCHEDULER_SESSION.to_string()),
            outcome: AuditOutcome::Ok,
            reason: None,
            command: None,
        };
        let first = self
            .in_transaction(async |tx: &Tx<'_>| {
                let mut w = Writes::new(tx);
                if !claim(&mut w, due.id).await? {
                    return Ok(None);
                }
                run_in(tx, &env, now, Some(&stamp)).await.map(Some)
            })
            .await;
        let refusal = match first {
            Ok(Some(applied)) => return Ok((ScheduleRun::Executed(Box::new(applied)), env)),
            Ok(None) => return Ok((ScheduleRun::Taken, env)),
            Err(StoreError::Domain(d)) => d,
            Err(e) => return Err(e),
        };
        let (outcome, reason) = match &refusal {
            DomainError::PermissionDenied { reason } => (AuditOutcome::Denied, reason.clone()),
            d => (AuditOutcome::Refused, d.to_string()),
        };
        // The event carries the action and the time in fields of their own; the audit row
        // (whose command is the plain `publish_node`) says them in its reason.
        let event = refused_event(s, &reason);
        let reason = format!("scheduled {} at {}: {reason}", s.action, s.at.to_rfc3339());
        let recorded = self
            .in_transaction(async |tx: &Tx<'_>| {
                let mut w = Writes::new(tx);
                if !claim(&mut w, due.id).await? {
                    return Ok(None);
                }
                let events = wrap(
                    &env,
                    due.tenant_id,
                    s.node_id.as_uuid(),
                    std::slice::from_ref(&event),
                    now,
                )?;
                append(&mut w, &events).await?;
                let entry = AuditLogEntry {
                    seq: 0,
                    at: now,
                    actor: s.by.clone(),
                    command: env.command.name().to_string(),
                    command_id: env.id,
                    tenant_id: due.tenant_id,
                    session: Some(SCHEDULER_SESSION.to_string()),
                    outcome,
                    reason: Some(reason.clone()),
                };
                insert_audit_in(&mut w, &entry).await?;
                Ok(Some(events))
            })
            .await?;
        Ok(match recorded {
            Some(events) => (ScheduleRun::Refused { reason, events }, env),
            None => (ScheduleRun::Taken, env),
        })
    }
}
