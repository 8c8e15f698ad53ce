//! Scheduled publishing (issue 20): the `schedule_node` / `unschedule_node` commands, the
//! agenda, and the rows the relays' scheduler reads and claims (`node_schedules`, migration
//! `m20261207_000009_node_schedules`). Executing a due schedule is `scheduler.rs` (it needs the
//! unit of work).

use crate::Store;
use crate::StoreError;
use crate::authz::active_tenant;
use crate::entity::{node, node_schedule, node_translation};
use crate::outbox::{applied, wrap};
use crate::repo::load_node;
use crate::rows::{parse, sql_window};
use crate::writes::{Writes, build};
use chrono::{DateTime, Utc};
use rustok_domain::content::schedule::{decide_schedule, decide_unschedule};
use rustok_domain::content::{AgendaEntry, Schedule, ScheduledAction};
use rustok_domain::read::{Applied, Outcome};
use rustok_domain::{Command, CommandEnvelope, DomainError, NodeId, TenantId};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

/// A due schedule as the scheduler reads it: which row (to claim it by id), whose tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueSchedule {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub schedule: Schedule,
}

fn schedule_from_row(m: &node_schedule::Model) -> Result<Schedule, StoreError> {
    Ok(Schedule {
        node_id: NodeId::from_uuid(m.node_id),
        action: parse::<ScheduledAction>("schedule action", &m.action)?,
        at: m.due_at,
        by: m.scheduled_by.clone(),
        scheduled_at: m.scheduled_at,
    })
}

/// A node's pending schedule rows, soonest first.
async fn load_rows(
    c: &impl ConnectionTrait,
    tenant_id: TenantId,
    node_id: NodeId,
) -> Result<Vec<node_schedule::Model>, StoreError> {
    Ok(node_schedule::Entity::find()
        .filter(node_schedule::Column::TenantId.eq(tenant_id.as_uuid()))
        .filter(node_schedule::Column::NodeId.eq(node_id.as_uuid()))
        .order_by_asc(node_schedule::Column::DueAt)
        .all(c)
        .await?)
}

/// `schedule_node` and `unschedule_node` on an active tenant's existing node.
pub(crate) async fn execute(
    w: &mut Writes<'_>,
    env: &CommandEnvelope,
    now: DateTime<Utc>,
) -> Result<Applied, StoreError> {
    let txn = w.txn();
    active_tenant(txn, env, now).await?;
    let id = env
        .command
        .node_id()
        .ok_or_else(|| DomainError::validation("command", "not a node command"))?;
    let node = load_node(txn, env.tenant_id, id)
        .await?
        .ok_or_else(|| DomainError::not_found("node", id))?;
    let rows = load_rows(txn, env.tenant_id, id).await?;
    let current = rows
        .iter()
        .map(schedule_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    let (next, events) = match &env.command {
        Command::ScheduleNode {
            publish_at,
            unpublish_at,
            ..
        } => decide_schedule(
            &node,
            &current,
            *publish_at,
            *unpublish_at,
            &env.actor.handle,
            now,
        )?,
        Command::UnscheduleNode { .. } => (Vec::new(), decide_unschedule(&node, &current)?),
        other => {
            return Err(DomainError::validation(
                "command",
                format!("{} is not a schedule command", other.name()),
            )
            .into());
        }
    };
    // Rows whose action is rescheduled or cancelled go; the new ones get fresh ids (so a
    // relay that read the old row claims nothing).
    for (row, old) in rows.iter().zip(&current) {
        if !next.contains(old) {
            let delete = node_schedule::Entity::delete_by_id(row.id);
            w.write(build(txn, delete), || format!("schedule of node {id}"))
                .await?;
        }
    }
    for s in next.iter().filter(|s| !current.contains(s)) {
        let insert = node_schedule::Entity::insert(node_schedule::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(env.tenant_id.as_uuid()),
            node_id: Set(id.as_uuid()),
            action: Set(s.action.as_str().to_string()),
            due_at: Set(s.at),
            scheduled_by: Set(s.by.clone()),
            scheduled_at: Set(s.scheduled_at),
        });
        w.write(build(txn, insert), || {
            format!("{} schedule of node {id}", s.action)
        })
        .await?;
    }
    let envelopes = wrap(env, env.tenant_id, id.as_uuid(), &events, now)?;
    applied(w, env, Outcome::Schedule(next), envelopes).await
}

/// Claims a due schedule inside the transaction that executes it: deletes its row by id.
/// `false` when it is gone — another process executed it (or it was rescheduled or
/// cancelled) — and then the caller does nothing. On SQLite the transaction holds the
/// writer lock; on PostgreSQL a concurrent claimer waits for this row's lock and, once this
/// transaction commits, deletes nothing.
pub(crate) async fn claim(w: &mut Writes<'_>, id: Uuid) -> Result<bool, StoreError> {
    let txn = w.txn();
    let delete = node_schedule::Entity::delete_many().filter(node_schedule::Column::Id.eq(id));
    w.update_one(build(txn, delete)).await
}

impl Store {
    /// A node's pending schedules, soonest first.
    pub async fn node_schedules(
        &self,
        tenant_id: TenantId,
        node_id: NodeId,
    ) -> Result<Vec<Schedule>, StoreError> {
        load_rows(&self.db, tenant_id, node_id)
            .await?
            .iter()
            .map(schedule_from_row)
            .collect()
    }

    /// The tenant's agenda: pending schedules, soonest first (at most `limit`, 0 means 100),
    /// each with the node's title in its source locale and its status now.
    pub async fn agenda(
        &self,
        tenant_id: TenantId,
        limit: u64,
    ) -> Result<Vec<AgendaEntry>, StoreError> {
        let limit = if limit == 0 { 100 } else { limit };
        let rows = node_schedule::Entity::find()
            .filter(node_schedule::Column::TenantId.eq(tenant_id.as_uuid()))
            .order_by_asc(node_schedule::Column::DueAt)
            .order_by_asc(node_schedule::Column::Id)
            .limit(sql_window(limit))
            .all(&self.db)
            .await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Uuid> = rows.iter().map(|r| r.node_id).collect();
        let nodes = node::Entity::find()
            .filter(node::Column::TenantId.eq(tenant_id.as_uuid()))
            .filter(node::Column::Id.is_in(ids.clone()))
            .all(&self.db)
            .await?;
        let titles = node_translation::Entity::find()
            .filter(node_translation::Column::TenantId.eq(tenant_id.as_uuid()))
            .filter(node_translation::Column::NodeId.is_in(ids))
            .all(&self.db)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let Some(n) = nodes.iter().find(|n| n.id == r.node_id) else {
                continue;
            };
            let title = titles
                .iter()
                .filter(|t| t.node_id == n.id)
                .min_by_key(|t| (t.locale != n.source_locale, t.locale.clone()))
                .map(|t| t.title.clone())
                .unwrap_or_default();
            out.push(AgendaEntry {
                schedule: schedule_from_row(r)?,
                title,
                status: parse("node status", &n.status)?,
                source_locale: parse("source locale", &n.source_locale)?,
            });
        }
        Ok(out)
    }

    /// Schedules of every tenant due at `now` (at most `limit`, oldest first): what a
    /// relaying process executes. One indexed query (`ix_node_schedules_due`); with nothing
    /// due it reads no row.
    pub async fn due_schedules(
        &self,
        now: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<DueSchedule>, StoreError> {
        let rows = node_schedule::Entity::find()
            .filter(node_schedule::Column::DueAt.lte(now))
            .order_by_asc(node_schedule::Column::DueAt)
            .limit(sql_window(limit.max(1)))
            .all(&self.db)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(DueSchedule {
                    id: r.id,
                    tenant_id: TenantId::from_uuid(r.tenant_id),
                    schedule: schedule_from_row(r)?,
                })
            })
            .collect()
    }
}
