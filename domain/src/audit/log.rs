//! The audit log's rows: who ran which command, when, in which tenant and session, and how
//! it ended. Append-only; the queue worker writes one row per command.

use crate::{CommandId, TenantId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    /// Committed.
    Ok,
    /// Refused by RBAC (permission, unknown or inactive staff member, read-only session).
    Denied,
    /// Refused by the domain (validation, transition, conflict, not found, ...).
    Refused,
    /// Failed for an infrastructure reason (database, gateway).
    Error,
}

impl AuditOutcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            AuditOutcome::Ok => "ok",
            AuditOutcome::Denied => "denied",
            AuditOutcome::Refused => "refused",
            AuditOutcome::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<AuditOutcome> {
        [
            AuditOutcome::Ok,
            AuditOutcome::Denied,
            AuditOutcome::Refused,
            AuditOutcome::Error,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }
}

/// One row of the audit log (newest first in listings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLogEntry {
    /// Insertion order (0 before it is stored).
    pub seq: i64,
    pub at: DateTime<Utc>,
    /// The acting staff member's handle.
    pub actor: String,
    /// The command's short name (`pay_order`, `add_staff`, ...).
    pub command: String,
    pub command_id: CommandId,
    pub tenant_id: TenantId,
    pub session: Option<String>,
    pub outcome: AuditOutcome,
    /// Why it was denied or refused (one line).
    pub reason: Option<String>,
}
