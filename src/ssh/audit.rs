//! The SSH server's rows in the audit log: logins (and refused logins) and kicks.

use super::Shared;
use rustok_domain::CommandId;
use rustok_domain::audit::{AuditLogEntry, AuditOutcome};

/// Appends an `ssh_login` row to the audit log (when audit logging is on).
pub(crate) async fn write_audit(
    shared: &Shared,
    actor: String,
    session: String,
    outcome: AuditOutcome,
    reason: Option<String>,
) {
    write_audit_row(shared, "ssh_login", actor, session, outcome, reason).await
}

/// Appends a `command` row to the audit log (when audit logging is on).
pub(crate) async fn write_audit_row(
    shared: &Shared,
    command: &str,
    actor: String,
    session: String,
    outcome: AuditOutcome,
    reason: Option<String>,
) {
    if !crate::security::audit_log_enabled() {
        return;
    }
    let entry = AuditLogEntry {
        seq: 0,
        at: chrono::Utc::now(),
        actor,
        command: command.into(),
        command_id: CommandId::new_v7(),
        tenant_id: shared.tenant.id,
        session: Some(session),
        outcome,
        reason,
    };
    if let Err(e) = shared.store.append_audit(&entry).await {
        tracing::error!(error = %e, "cannot write the audit log");
    }
}
