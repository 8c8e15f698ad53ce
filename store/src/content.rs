//! Content commands: creating a node, editing it, translating it, changing its status. The
//! domain decides (`decide_node`); this writes the node guarded by its version, its changed
//! translations (each slug free in its locale) and their search entries.

use crate::StoreError;
use crate::authz::active_tenant;
use crate::entity::{node, node_translation};
use crate::outbox::{applied, wrap};
use crate::repo::load_node;
use crate::revisions;
use crate::search::index_translation;
use crate::writes::{Writes, build};
use chrono::{DateTime, Utc};
use rustok_domain::command::{decide_copy, decide_node, decide_revert};
use rustok_domain::content::{Node, Translation};
use rustok_domain::read::{Applied, Outcome};
use rustok_domain::{Command, CommandEnvelope, DomainError, NodeId, TenantId};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

/// A node command (`CreateNode`, `UpdateNode`, `TranslateNode`, `NodeStatus`) on an
/// active tenant.
pub(crate) async fn execute(
    w: &mut Writes<'_>,
    env: &CommandEnvelope,
    now: DateTime<Utc>,
) -> Result<Applied, StoreError> {
    let txn = w.txn();
    // RBAC and the tenant in one query, before deciding.
    active_tenant(txn, env, now).await?;
    let command = &env.command;
    let id = command
        .node_id()
        .ok_or_else(|| DomainError::validation("command", "not a node command"))?;
    let current = load_node(txn, env.tenant_id, id).await?;
    let (next, events) = decide_node(env.tenant_id, current.as_ref(), command, &env.actor, now)?;
    save_node(w, current.as_ref(), &next).await?;
    let name = command.name();
    revisions::record(w, name, &env.actor.handle, current.as_ref(), &next, None).await?;
    let envelopes = wrap(env, env.tenant_id, next.id.as_uuid(), &events, now)?;
    applied(w, env, Outcome::Node(next), envelopes).await
}

/// `RevertNode` (issue 20): the node's content at the version asked for becomes its current
/// content, as a new version and revision (`reverted_from` = that version).
pub(crate) async fn revert(
    w: &mut Writes<'_>,
    env: &CommandEnvelope,
    now: DateTime<Utc>,
) -> Result<Applied, StoreError> {
    let txn = w.txn();
    active_tenant(txn, env, now).await?;
    let Command::RevertNode { id, to, .. } = &env.command else {
        return Err(DomainError::validation("command", "not a revert").into());
    };
    let current = load_node(txn, env.tenant_id, *id).await?;
    let mut target = match &current {
        Some(_) => revisions::node_at(txn, env.tenant_id, *id, *to).await?,
        None => None,
    };
    // The current version of a node only the bulk seed wrote (no revision stored): the domain
    // refuses it as not an earlier version.
    if target.is_none()
        && let Some(n) = current.as_ref().filter(|n| n.version == *to)
    {
        target = Some(revisions::imported(n));
    }
    let (next, events) = decide_revert(current.as_ref(), target.as_ref(), &env.command, now)?;
    save_node(w, current.as_ref(), &next).await?;
    revisions::record(
        w,
        env.command.name(),
        &env.actor.handle,
        current.as_ref(),
        &next,
        Some(*to),
    )
    .await?;
    let envelopes = wrap(env, env.tenant_id, next.id.as_uuid(), &events, now)?;
    applied(w, env, Outcome::Node(next), envelopes).await
}

/// `CopyNode` (issue 20): a new draft with every translation of the node copied (titled
/// "… (copy)"), the editor's text in place of its locale.
pub(crate) async fn copy(
    w: &mut Writes<'_>,
    env: &CommandEnvelope,
    now: DateTime<Utc>,
) -> Result<Applied, StoreError> {
    let txn = w.txn();
    active_tenant(txn, env, now).await?;
    let Command::CopyNode { id, from, .. } = &env.command else {
        return Err(DomainError::validation("command", "not a copy").into());
    };
    let source = load_node(txn, env.tenant_id, *from).await?;
    let taken = load_node(txn, env.tenant_id, *id).await?.is_some();
    let (next, events) = decide_copy(source.as_ref(), taken, &env.command, &env.actor, now)?;
    save_node(w, None, &next).await?;
    revisions::record(w, env.command.name(), &env.actor.handle, None, &next, None).await?;
    let envelopes = wrap(env, env.tenant_id, next.id.as_uuid(), &events, now)?;
    applied(w, env, Outcome::Node(next), envelopes).await
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
