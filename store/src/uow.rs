//! The unit of work: one command, one transaction. It loads the aggregate (tenant-filtered),
//! lets the domain decide, writes the new state guarded by its version, keeps the search index
//! in step, appends the events to the outbox, and commits — or changes nothing.

use crate::entity::{node, node_translation, tenant};
use crate::local::Local;
use crate::repo::load_node;
use crate::search::index_translation;
use crate::writes::{Tx, Writes};
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
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryTrait, SqlErr,
    Statement,
};
use uuid::Uuid;

pub(crate) fn map_unique(e: sea_orm::DbErr, what: impl FnOnce() -> String) -> StoreError {
    let taken = matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
        || crate::error::local_unique_violation(&e);
    if taken {
        StoreError::Domain(DomainError::Duplicate { what: what() })
    } else {
        e.into()
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

    /// After a write met a read-only database: no connection opened before now is handed out
    /// again (each is closed when next taken from its pool, see `fence.rs`), and the idle ones
    /// are closed at once. New connections are opened on demand, writable if the database is
    /// (an SQLite file made writable again; a PostgreSQL database no longer
    /// `default_transaction_read_only`; an SQLite file's writer connection is opened again when
    /// next used). Callers that meet `StoreError::ReadOnly` use it.
    pub async fn forget_read_only_connections(&self) {
        self.fence.raise();
        match self.backend {
            Backend::Sqlite => {
                let pool = self.db.get_sqlite_connection_pool();
                while let Some(c) = pool.try_acquire() {
                    let _ = c.close().await;
                }
            }
            Backend::Postgres => {
                let pool = self.db.get_postgres_connection_pool();
                while let Some(c) = pool.try_acquire() {
                    let _ = c.close().await;
                }
            }
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

    /// Runs `f` in one transaction where the store writes (see [`Store::writing`]).
    pub(crate) async fn in_transaction<T>(
        &self,
        f: impl AsyncFnOnce(&Tx<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.writing(async |w: &Tx<'_>| w.transaction(f).await)
            .await
    }

    /// Runs `f` where the store writes. On an SQLite file, that is the store's own writer
    /// connection, used on this thread (see `local.rs`; its writes are made in
    /// [`Tx::transaction`]s, whose wait for another process's lock is asynchronous); on an in-memory SQLite database, the
    /// pool's one connection, its handle taken out of sqlx's worker thread; on PostgreSQL, the
    /// pool.
    pub(crate) async fn writing<T>(
        &self,
        f: impl AsyncFnOnce(&Tx<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if let Some(writer) = &self.local {
            let mut conn = writer.conn.lock().await;
            // Opened on first use, and again after a read-only error met it (see `fence.rs`).
            if conn.as_ref().is_none_or(|c| !self.fence.admits(c.age())) {
                *conn = None;
                *conn = Some(Local::open(&writer.path)?);
            }
            let local = conn
                .as_mut()
                .ok_or_else(|| StoreError::Db("the writer connection is closed".into()))?;
            // (A caller dropped while its transaction was open leaves nothing behind.)
            local.rollback();
            return f(&Tx::Local(local)).await;
        }
        if self.backend == Backend::Postgres {
            return f(&Tx::Pool(&self.writer)).await;
        }
        let pool = self.writer.get_sqlite_connection_pool();
        let mut conn = pool.acquire().await.map_err(crate::error::sqlx_err)?;
        let mut handle = conn.lock_handle().await.map_err(crate::error::sqlx_err)?;
        // SAFETY: the handle is the pooled connection's open `sqlite3*`; while `handle` (the
        // lock taken from sqlx's worker thread) is held, that thread makes no call on it, so
        // this one is its only user. `local` is declared after `handle` and so dropped before
        // it: the lock outlives the rusqlite connection, which never closes the handle.
        let local = unsafe { Local::new(handle.as_raw_handle().as_ptr()) }?;
        if !local.is_autocommit() {
            return Err(StoreError::Db(
                "the writer connection is still inside a transaction".into(),
            ));
        }
        f(&Tx::Local(&local)).await
    }
}

/// A command's statements in the open transaction `tx`: its own, its command-log row and,
/// given a stamp, its audit row.
async fn run_in(
    tx: &Tx<'_>,
    env: &CommandEnvelope,
    now: DateTime<Utc>,
    audit: Option<&AuditStamp>,
) -> Result<Applied, StoreError> {
    let mut w = Writes::new(tx);
    let applied = execute_in(&mut w, env, now).await?;
    crate::command_log::record(&mut w, env, &applied, now).await?;
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
        crate::staff::insert_audit_in(&mut w, &entry).await?;
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
    match crate::command_log::recorded(c, env).await {
        Ok(Some(applied)) => Ok((applied, false)),
        _ => Err(e),
    }
}

async fn execute_in(
    w: &mut Writes<'_>,
    env: &CommandEnvelope,
    now: DateTime<Utc>,
) -> Result<Applied, StoreError> {
    let txn = w.txn();
    match &env.command {
        command if command.is_staff() => {
            // RBAC before deciding: a denial is a DomainError and the transaction writes
            // nothing.
            let role = crate::staff::authorize_in(txn, env, now).await?;
            crate::staff::execute(w, env, role, now).await
        }
        Command::CreateTenant {
            id,
            slug,
            name,
            default_locale,
        } => {
            crate::staff::authorize_in(txn, env, now).await?;
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
            let row = tenant::Entity::insert(tenant::ActiveModel {
                id: Set(t.id.as_uuid()),
                slug: Set(t.slug.clone()),
                name: Set(t.name.clone()),
                default_locale: Set(t.default_locale.to_string()),
                is_active: Set(t.is_active),
                created_at: Set(t.created_at),
            });
            w.write(build(txn, row), || format!("tenant '{}'", t.slug))
                .await?;
            let envelopes = wrap(env, t.id, t.id.as_uuid(), &events, now)?;
            outbox::append(w, &envelopes).await?;
            Ok(Applied {
                command_id: env.id,
                outcome: Outcome::Tenant(t),
                events: envelopes,
            })
        }
        Command::RetryDeadLetters { ids } => {
            let (_, tenant) = crate::staff::authorize_with_tenant(txn, env, now).await?;
            tenant.ok_or_else(|| DomainError::not_found("tenant", env.tenant_id))?;
            let n = outbox::requeue_dead_letters_in(txn, env.tenant_id, ids).await?;
            Ok(Applied {
                command_id: env.id,
                outcome: Outcome::Requeued(n),
                events: Vec::new(),
            })
        }
        command => {
            // RBAC and the tenant in one query.
            let (_, tenant) = crate::staff::authorize_with_tenant(txn, env, now).await?;
            let tenant = tenant.ok_or_else(|| DomainError::not_found("tenant", env.tenant_id))?;
            if !tenant.is_active {
                return Err(DomainError::validation(
                    "tenant",
                    format!("tenant '{}' is not active", tenant.slug),
                )
                .into());
            }
            if command.is_commerce() {
                return crate::commerce::execute(w, env, &tenant, now).await;
            }
            let id = command
                .node_id()
                .ok_or_else(|| DomainError::validation("command", "not a node command"))?;
            let current = load_node(txn, env.tenant_id, id).await?;
            let (next, events) =
                decide_node(env.tenant_id, current.as_ref(), command, &env.actor, now)?;
            save_node(w, current.as_ref(), &next).await?;
            let envelopes = wrap(env, env.tenant_id, next.id.as_uuid(), &events, now)?;
            outbox::append(w, &envelopes).await?;
            Ok(Applied {
                command_id: env.id,
                outcome: Outcome::Node(next),
                events: envelopes,
            })
        }
    }
}

/// The statement a query builder makes, for the transaction's backend.
pub(crate) fn build(c: &impl ConnectionTrait, q: impl QueryTrait) -> Statement {
    q.build(c.get_database_backend())
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
    w: &mut Writes<'_>,
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
    let txn = w.txn();
    match before {
        None => {
            let insert = node::Entity::insert(row);
            w.write(build(txn, insert), || format!("node {}", next.id))
                .await?;
        }
        Some(prev) => {
            // Optimistic lock: only the version we decided on may be replaced.
            let update = node::Entity::update_many()
                .set(row)
                .filter(node::Column::Id.eq(next.id.as_uuid()))
                .filter(node::Column::TenantId.eq(next.tenant_id.as_uuid()))
                .filter(node::Column::Version.eq(prev.version));
            if !w.update_one(build(txn, update)).await? {
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
    // Slugs already taken by other nodes, checked for every changed translation before any
    // of them is written.
    let changed: Vec<&Translation> = next
        .translations
        .iter()
        .filter(|t| {
            !before
                .and_then(|p| p.translation(&t.locale))
                .is_some_and(|old| old == *t)
        })
        .collect();
    for t in &changed {
        let taken = node_translation::Entity::find()
            .filter(node_translation::Column::TenantId.eq(next.tenant_id.as_uuid()))
            .filter(node_translation::Column::Locale.eq(t.locale.as_str()))
            .filter(node_translation::Column::Slug.eq(t.slug.as_str()))
            .filter(node_translation::Column::NodeId.ne(next.id.as_uuid()))
            .one(txn)
            .await?;
        if taken.is_some() {
            return Err(DomainError::Duplicate {
                what: slug_taken(t),
            }
            .into());
        }
    }
    for t in changed {
        save_translation(w, next.tenant_id, next.id, t).await?;
    }
    Ok(())
}

fn slug_taken(t: &Translation) -> String {
    format!("slug '{}' in locale {}", t.slug, t.locale)
}

async fn save_translation(
    w: &mut Writes<'_>,
    tenant_id: TenantId,
    node_id: NodeId,
    t: &Translation,
) -> Result<(), StoreError> {
    let upsert = node_translation::Entity::insert(node_translation::ActiveModel {
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
    );
    let stmt = build(w.txn(), upsert);
    w.write(stmt, || slug_taken(t)).await?;
    index_translation(w, tenant_id, node_id, t).await
}
