//! The unit of work: one command, one transaction. It loads the aggregate (tenant-filtered),
//! lets the domain decide, writes the new state guarded by its version, keeps the search index
//! in step, appends the events to the outbox, and commits — or changes nothing.

use crate::entity::{node, node_translation, tenant};
use crate::repo::{load_node, load_tenant};
use crate::search::index_translation;
use crate::{Backend, Store, StoreError, outbox};
use chrono::{DateTime, SubsecRound, Utc};
use rustok_domain::audit::{AuditLogEntry, AuditOutcome};
use rustok_domain::command::decide_node;
use rustok_domain::content::{Node, Translation};
use rustok_domain::event::{DomainEvent, EnvelopeMeta, EventEnvelope};
use rustok_domain::read::{Applied, Outcome};
use rustok_domain::{Command, CommandEnvelope, DomainError, EventId, NodeId, Tenant, TenantId};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, SqlErr,
    TransactionOptions, TransactionTrait,
};
use uuid::Uuid;

pub(crate) fn map_unique(e: sea_orm::DbErr, what: impl FnOnce() -> String) -> StoreError {
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            StoreError::Domain(DomainError::Duplicate { what: what() })
        }
        _ => e.into(),
    }
}

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
    /// command meets a read-only database, the idle connections are closed and the command
    /// tried again on fresh ones (six tries in all): if the file has become writable
    /// meanwhile, it commits; if not, the caller gets `StoreError::ReadOnly`.
    pub async fn execute_audited(
        &self,
        env: &CommandEnvelope,
        now: DateTime<Utc>,
        audit: Option<&AuditStamp>,
    ) -> Result<(Applied, bool), StoreError> {
        let mut tries = 0;
        loop {
            tries += 1;
            match self.execute_audited_once(env, now, audit).await {
                // Connections busy elsewhere (relay, health check) come back later: wait a
                // moment for them when none was idle. Six tries outnumber the pool (4).
                Err(StoreError::ReadOnly(_)) if self.backend == Backend::Sqlite && tries < 6 => {
                    if self.close_idle_sqlite_connections().await == 0 {
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    }
                }
                other => return other,
            }
        }
    }

    /// Closes the SQLite pool's idle connections (new ones are opened on demand); returns how
    /// many were closed. Callers that met `StoreError::ReadOnly` use it so that a file made
    /// writable again is written through fresh connections. Does nothing on PostgreSQL.
    pub async fn close_idle_sqlite_connections(&self) -> usize {
        if self.backend != Backend::Sqlite {
            return 0;
        }
        let pool = self.db.get_sqlite_connection_pool();
        let mut closed = 0;
        while let Some(c) = pool.try_acquire() {
            let _ = c.close().await;
            closed += 1;
        }
        closed
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
        let options = TransactionOptions {
            // Take the write lock up front so two writers never deadlock on a lock upgrade.
            sqlite_transaction_mode: (self.backend == Backend::Sqlite)
                .then_some(sea_orm::SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        let txn = self.db.begin_with_options(options).await?;
        // A retry of a command that already committed (its first COMMIT's answer was lost)
        // gets the recorded outcome; nothing is applied twice.
        if let Some(applied) = crate::command_log::recorded(&txn, env).await? {
            let _ = txn.rollback().await;
            return Ok((applied, false));
        }
        match execute_in(&txn, env, now).await {
            Ok(applied) => {
                crate::command_log::record(&txn, env, &applied, now).await?;
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
                    crate::staff::insert_audit(&txn, &entry).await?;
                }
                txn.commit().await?;
                Ok((applied, audit.is_some()))
            }
            Err(e) => {
                let _ = txn.rollback().await;
                Err(e)
            }
        }
    }
}

async fn execute_in(
    txn: &DatabaseTransaction,
    env: &CommandEnvelope,
    now: DateTime<Utc>,
) -> Result<Applied, StoreError> {
    // RBAC before deciding: a denial is a DomainError and the transaction writes nothing.
    let role = crate::staff::authorize_in(txn, env, now).await?;
    match &env.command {
        command if command.is_staff() => crate::staff::execute(txn, env, role, now).await,
        Command::CreateTenant {
            id,
            slug,
            name,
            default_locale,
        } => {
            let (t, events) = Tenant::create(*id, slug, name, default_locale.clone(), now)?;
            if tenant::Entity::find()
                .filter(tenant::Column::Slug.eq(t.slug.as_str()))
                .one(txn)
                .await?
                .is_some()
            {
                return Err(DomainError::Duplicate {
                    what: format!("tenant '{}'", t.slug),
                }
                .into());
            }
            tenant::Entity::insert(tenant::ActiveModel {
                id: Set(t.id.as_uuid()),
                slug: Set(t.slug.clone()),
                name: Set(t.name.clone()),
                default_locale: Set(t.default_locale.to_string()),
                is_active: Set(t.is_active),
                created_at: Set(t.created_at),
            })
            .exec(txn)
            .await
            .map_err(|e| map_unique(e, || format!("tenant '{}'", t.slug)))?;
            let envelopes = wrap(env, t.id, t.id.as_uuid(), &events, now)?;
            outbox::append(txn, &envelopes).await?;
            Ok(Applied {
                command_id: env.id,
                outcome: Outcome::Tenant(t),
                events: envelopes,
            })
        }
        command if command.is_commerce() => crate::commerce::execute(txn, env, now).await,
        command => {
            let tenant = load_tenant(txn, env.tenant_id)
                .await?
                .ok_or_else(|| DomainError::not_found("tenant", env.tenant_id))?;
            if !tenant.is_active {
                return Err(DomainError::validation(
                    "tenant",
                    format!("tenant '{}' is not active", tenant.slug),
                )
                .into());
            }
            let id = command
                .node_id()
                .ok_or_else(|| DomainError::validation("command", "not a node command"))?;
            let current = load_node(txn, env.tenant_id, id).await?;
            let (next, events) =
                decide_node(env.tenant_id, current.as_ref(), command, &env.actor, now)?;
            save_node(txn, current.as_ref(), &next).await?;
            let envelopes = wrap(env, env.tenant_id, next.id.as_uuid(), &events, now)?;
            outbox::append(txn, &envelopes).await?;
            Ok(Applied {
                command_id: env.id,
                outcome: Outcome::Node(next),
                events: envelopes,
            })
        }
    }
}

/// Wraps decided events into validated envelopes. All events of one command share a
/// correlation id (the command's, or the first event's) and are caused by the command.
pub(crate) fn wrap(
    env: &CommandEnvelope,
    tenant_id: TenantId,
    aggregate_id: Uuid,
    events: &[DomainEvent],
    now: DateTime<Utc>,
) -> Result<Vec<EventEnvelope>, StoreError> {
    let mut correlation = env.correlation_id;
    let mut out = Vec::with_capacity(events.len());
    for e in events {
        let id = EventId::new_v7();
        let correlation_id = *correlation.get_or_insert(id.as_uuid());
        let envelope = EventEnvelope::new(
            e,
            EnvelopeMeta {
                id,
                tenant_id,
                aggregate_id,
                actor: env.actor.handle.clone(),
                occurred_at: now,
                correlation_id: Some(correlation_id),
                causation_id: Some(env.id.as_uuid()),
            },
        );
        envelope.validate()?;
        out.push(envelope);
    }
    Ok(out)
}

async fn save_node(
    txn: &DatabaseTransaction,
    before: Option<&Node>,
    next: &Node,
) -> Result<(), StoreError> {
    let row = node::ActiveModel {
        id: Set(next.id.as_uuid()),
        tenant_id: Set(next.tenant_id.as_uuid()),
        kind: Set(next.kind.as_str().to_string()),
        status: Set(next.status.as_str().to_string()),
        version: Set(next.version),
        source_locale: Set(next.source_locale.to_string()),
        author: Set(next.author.clone()),
        created_at: Set(next.created_at),
        updated_at: Set(next.updated_at),
        published_at: Set(next.published_at),
        archived_at: Set(next.archived_at),
    };
    match before {
        None => {
            node::Entity::insert(row).exec(txn).await?;
        }
        Some(prev) => {
            // Optimistic lock: only the version we decided on may be replaced.
            let r = node::Entity::update_many()
                .set(row)
                .filter(node::Column::Id.eq(next.id.as_uuid()))
                .filter(node::Column::TenantId.eq(next.tenant_id.as_uuid()))
                .filter(node::Column::Version.eq(prev.version))
                .exec(txn)
                .await?;
            if r.rows_affected != 1 {
                let actual = load_node(txn, next.tenant_id, next.id)
                    .await?
                    .map_or(prev.version, |n| n.version);
                return Err(DomainError::VersionConflict {
                    entity: "node",
                    expected: prev.version,
                    actual,
                }
                .into());
            }
        }
    }
    for t in &next.translations {
        let unchanged = before
            .and_then(|p| p.translation(&t.locale))
            .is_some_and(|old| old == t);
        if !unchanged {
            save_translation(txn, next.tenant_id, next.id, t).await?;
        }
    }
    Ok(())
}

async fn save_translation(
    txn: &DatabaseTransaction,
    tenant_id: TenantId,
    node_id: NodeId,
    t: &Translation,
) -> Result<(), StoreError> {
    let taken = node_translation::Entity::find()
        .filter(node_translation::Column::TenantId.eq(tenant_id.as_uuid()))
        .filter(node_translation::Column::Locale.eq(t.locale.as_str()))
        .filter(node_translation::Column::Slug.eq(t.slug.as_str()))
        .filter(node_translation::Column::NodeId.ne(node_id.as_uuid()))
        .one(txn)
        .await?;
    let dup = || format!("slug '{}' in locale {}", t.slug, t.locale);
    if taken.is_some() {
        return Err(DomainError::Duplicate { what: dup() }.into());
    }
    node_translation::Entity::insert(node_translation::ActiveModel {
        node_id: Set(node_id.as_uuid()),
        locale: Set(t.locale.to_string()),
        tenant_id: Set(tenant_id.as_uuid()),
        title: Set(t.title.clone()),
        slug: Set(t.slug.clone()),
        excerpt: Set(t.excerpt.clone()),
        body: Set(t.body.clone()),
        format: Set(t.format.as_str().to_string()),
        updated_at: Set(t.updated_at),
    })
    .on_conflict(
        OnConflict::columns([
            node_translation::Column::NodeId,
            node_translation::Column::Locale,
        ])
        .update_columns([
            node_translation::Column::Title,
            node_translation::Column::Slug,
            node_translation::Column::Excerpt,
            node_translation::Column::Body,
            node_translation::Column::Format,
            node_translation::Column::UpdatedAt,
        ])
        .to_owned(),
    )
    .exec(txn)
    .await
    .map_err(|e| map_unique(e, dup))?;
    index_translation(txn, tenant_id, node_id, t).await
}
