//! The append-only audit log: one row per command run or refused. A command's own row is
//! written in its transaction (see `uow.rs`, `AuditStamp`); a refusal, which rolls the
//! command back, is appended on its own.

use crate::entity::audit_log;
use crate::error::corrupt;
use crate::rows::sql_window;
use crate::writes::{Tx, Writes, build};
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use rustok_domain::audit::{AuditLogEntry, AuditOutcome};
use rustok_domain::read::Page;
use rustok_domain::{CommandId, TenantId};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

fn audit_row(e: &AuditLogEntry) -> audit_log::ActiveModel {
    audit_log::ActiveModel {
        at: Set(e.at),
        actor: Set(e.actor.clone()),
        command: Set(e.command.clone()),
        command_id: Set(e.command_id.as_uuid()),
        tenant_id: Set(e.tenant_id.as_uuid()),
        session: Set(e.session.clone()),
        outcome: Set(e.outcome.as_str().to_string()),
        reason: Set(e.reason.clone()),
        ..Default::default()
    }
}

/// Appends one audit-log entry on `c` (the pool).
pub(crate) async fn insert_audit(
    c: &impl ConnectionTrait,
    e: &AuditLogEntry,
) -> Result<(), StoreError> {
    audit_log::Entity::insert(audit_row(e))
        .exec_without_returning(c)
        .await?;
    Ok(())
}

/// Appends one audit-log entry with a command's writes.
pub(crate) async fn insert_audit_in(
    w: &mut Writes<'_>,
    e: &AuditLogEntry,
) -> Result<(), StoreError> {
    let insert = build(w.txn(), audit_log::Entity::insert(audit_row(e)));
    w.write(insert, || {
        format!("audit entry of command {}", e.command_id)
    })
    .await
}

impl Store {
    /// Appends one entry to the audit log.
    pub async fn append_audit(&self, e: &AuditLogEntry) -> Result<(), StoreError> {
        self.in_transaction(async |w: &Tx<'_>| insert_audit(w, e).await)
            .await
    }

    /// A page of the audit log, newest first.
    pub async fn audit_log(
        &self,
        offset: u64,
        limit: u64,
    ) -> Result<Page<AuditLogEntry>, StoreError> {
        self.audit_log_matching(offset, limit, "").await
    }

    /// A page of the audit log entries whose actor, command, outcome, reason or session
    /// contains `text` (ignoring ASCII case; `%` and `_` are plain characters), newest first;
    /// every entry when `text` is blank. `total` counts the matching entries. Matching scans
    /// the log (no index serves a substring), so it costs what the log's size costs.
    pub async fn audit_log_matching(
        &self,
        offset: u64,
        limit: u64,
        text: &str,
    ) -> Result<Page<AuditLogEntry>, StoreError> {
        let mut find = audit_log::Entity::find();
        if let Some(matching) = audit_text_filter(text) {
            find = find.filter(matching);
        }
        let total = find.clone().count(&self.db).await?;
        let rows = find
            .order_by_desc(audit_log::Column::Seq)
            .offset(sql_window(offset))
            .limit(sql_window(limit.max(1)))
            .all(&self.db)
            .await?;
        let rows = rows
            .into_iter()
            .map(|m| {
                Ok(AuditLogEntry {
                    seq: m.seq,
                    at: m.at,
                    actor: m.actor,
                    command: m.command,
                    command_id: CommandId::from_uuid(m.command_id),
                    tenant_id: TenantId::from_uuid(m.tenant_id),
                    session: m.session,
                    outcome: AuditOutcome::parse(&m.outcome)
                        .ok_or_else(|| corrupt("audit outcome", &m.outcome))?,
                    reason: m.reason,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Page {
            total,
            offset,
            rows,
        })
    }

    /// How many audit log entries have this outcome since `since`.
    pub async fn audit_count(
        &self,
        outcome: Option<AuditOutcome>,
        since: Option<DateTime<Utc>>,
    ) -> Result<u64, StoreError> {
        let mut q = audit_log::Entity::find();
        if let Some(o) = outcome {
            q = q.filter(audit_log::Column::Outcome.eq(o.as_str()));
        }
        if let Some(s) = since {
            q = q.filter(audit_log::Column::At.gte(s));
        }
        Ok(q.count(&self.db).await?)
    }
}

/// Entries whose actor, command, outcome, reason or session contains `text` (ASCII case
/// ignored; `%`, `_` and the backslash match themselves); `None` for blank text.
fn audit_text_filter(text: &str) -> Option<sea_orm::Condition> {
    use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
    let text = text.trim().to_ascii_lowercase();
    if text.is_empty() {
        return None;
    }
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    let contains = |c: audit_log::Column| {
        Expr::expr(Func::lower(Func::coalesce([Expr::col(c), Expr::val("")])))
            .like(LikeExpr::new(pattern.clone()).escape('\\'))
    };
    use audit_log::Column as C;
    Some(
        sea_orm::Condition::any()
            .add(contains(C::Actor))
            .add(contains(C::Command))
            .add(contains(C::Outcome))
            .add(contains(C::Reason))
            .add(contains(C::Session)),
    )
}
