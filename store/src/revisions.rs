//! Revisions of content nodes (issue 20; migration `m20261207_000008_revisions`): written by
//! every node command in its own transaction ([`record`]), read by `node history`, `node
//! diff`, `node revert` and the console's history view.
//!
//! Storage: one `node_revisions` row per version, and a full copy of each locale the revision
//! changed in `node_revision_contents`. A locale's content at version V is its newest copy at or
//! before V. The newest [`MAX_REVISIONS_PER_NODE`] revisions of a node are kept (see the
//! migration's docs for the bound).

use crate::rows::parse;
use crate::writes::Writes;
use crate::{Store, StoreError, backend_of, stmt};
use chrono::{DateTime, Utc};
use rustok_domain::content::{
    MAX_REVISIONS_PER_NODE, Node, NodeAt, Revision, RevisionContent, Translation,
};
use rustok_domain::{Locale, NodeId, TenantId};
use sea_orm::{ConnectionTrait, QueryResult, Value};

/// Writes the revision `next.version` of a node (`before` is the node before the command;
/// `None` when it creates it), in the command's transaction. A node whose previous version has
/// no revision (written by the bulk seed) first gets that one, as `imported`, so every kept
/// version can be rebuilt. Prunes revisions beyond [`MAX_REVISIONS_PER_NODE`].
pub(crate) async fn record(
    w: &mut Writes<'_>,
    command: &str,
    actor: &str,
    before: Option<&Node>,
    next: &Node,
    reverted_from: Option<i64>,
) -> Result<(), StoreError> {
    if let Some(prev) = before
        && !exists(w.txn(), prev.id, prev.version).await?
    {
        let all: Vec<&Translation> = prev.translations.iter().collect();
        insert(
            w,
            prev,
            "imported",
            &prev.author,
            &all,
            None,
            prev.updated_at,
        )
        .await?;
    }
    let changed: Vec<&Translation> = next
        .translations
        .iter()
        .filter(|t| {
            !before
                .and_then(|p| p.translation(&t.locale))
                .is_some_and(|old| old == *t)
        })
        .collect();
    insert(
        w,
        next,
        command,
        actor,
        &changed,
        reverted_from,
        next.updated_at,
    )
    .await?;
    if next.version > MAX_REVISIONS_PER_NODE {
        prune(w, next.id, next.version - MAX_REVISIONS_PER_NODE + 1).await?;
    }
    Ok(())
}

async fn exists(c: &impl ConnectionTrait, id: NodeId, version: i64) -> Result<bool, StoreError> {
    let rows = c
        .query_all_raw(stmt(
            backend_of(c),
            "SELECT version FROM node_revisions WHERE node_id = $1 AND version = $2",
            vec![id.as_uuid().into(), version.into()],
        ))
        .await?;
    Ok(!rows.is_empty())
}

async fn insert(
    w: &mut Writes<'_>,
    node: &Node,
    command: &str,
    actor: &str,
    changed: &[&Translation],
    reverted_from: Option<i64>,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let backend = backend_of(w.txn());
    let locales: Vec<&str> = changed.iter().map(|t| t.locale.as_str()).collect();
    let row = stmt(
        backend,
        "INSERT INTO node_revisions
             (node_id, version, tenant_id, at, actor, command, status, locales, reverted_from)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        vec![
            node.id.as_uuid().into(),
            node.version.into(),
            node.tenant_id.as_uuid().into(),
            at.into(),
            actor.to_string().into(),
            command.to_string().into(),
            node.status.as_str().to_string().into(),
            locales.join(",").into(),
            reverted_from.into(),
        ],
    );
    w.write(row, || {
        format!("revision {} of node {}", node.version, node.id)
    })
    .await?;
    for t in changed {
        let row = stmt(
            backend,
            "INSERT INTO node_revision_contents
                 (node_id, locale, version, tenant_id, title, slug, excerpt, body, format)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            vec![
                node.id.as_uuid().into(),
                t.locale.to_string().into(),
                node.version.into(),
                node.tenant_id.as_uuid().into(),
                t.title.clone().into(),
                t.slug.clone().into(),
                t.excerpt.clone().into(),
                t.body.clone().into(),
                t.format.as_str().to_string().into(),
            ],
        );
        w.write(row, || {
            format!(
                "revision {} of node {} ({})",
                node.version, node.id, t.locale
            )
        })
        .await?;
    }
    Ok(())
}

/// Deletes the revisions before `oldest_kept` and the content copies none of the kept ones
/// needs: per locale, those older than its newest copy at or before `oldest_kept`.
async fn prune(w: &mut Writes<'_>, id: NodeId, oldest_kept: i64) -> Result<(), StoreError> {
    let backend = backend_of(w.txn());
    let revisions = stmt(
        backend,
        "DELETE FROM node_revisions WHERE node_id = $1 AND version < $2",
        vec![id.as_uuid().into(), oldest_kept.into()],
    );
    w.write(revisions, || format!("revisions of node {id}"))
        .await?;
    let contents = stmt(
        backend,
        "DELETE FROM node_revision_contents
         WHERE node_id = $1 AND version < (
             SELECT max(c2.version) FROM node_revision_contents c2
             WHERE c2.node_id = node_revision_contents.node_id
               AND c2.locale = node_revision_contents.locale
               AND c2.version <= $2)",
        vec![id.as_uuid().into(), oldest_kept.into()],
    );
    w.write(contents, || format!("revisions of node {id}"))
        .await
}

fn revision_from_row(r: &QueryResult) -> Result<Revision, StoreError> {
    let locales: String = r.try_get("", "locales")?;
    let mut locales = locales
        .split(',')
        .filter(|l| !l.is_empty())
        .map(|l| parse::<Locale>("locale", l))
        .collect::<Result<Vec<_>, _>>()?;
    locales.sort();
    let status: String = r.try_get("", "status")?;
    Ok(Revision {
        version: r.try_get("", "version")?,
        at: r.try_get("", "at")?,
        actor: r.try_get("", "actor")?,
        command: r.try_get("", "command")?,
        status: parse("node status", &status)?,
        locales,
        reverted_from: r.try_get("", "reverted_from")?,
    })
}

const REVISION_COLS: &str = "version, at, actor, command, status, locales, reverted_from";

/// The kept revisions of a node, newest first (at most [`MAX_REVISIONS_PER_NODE`] and the
/// imported one). Tenant-scoped: another tenant's node has none.
pub(crate) async fn history(
    c: &impl ConnectionTrait,
    tenant_id: TenantId,
    id: NodeId,
) -> Result<Vec<Revision>, StoreError> {
    let rows = c
        .query_all_raw(stmt(
            backend_of(c),
            &format!(
                "SELECT {REVISION_COLS} FROM node_revisions
                 WHERE tenant_id = $1 AND node_id = $2 ORDER BY version DESC"
            ),
            vec![tenant_id.as_uuid().into(), id.as_uuid().into()],
        ))
        .await?;
    rows.iter().map(revision_from_row).collect()
}

/// A node as it was at `version`: that revision and each locale's newest copy at or before
/// it. `None` when there is no such revision (never written, pruned, or another tenant's).
pub(crate) async fn node_at(
    c: &impl ConnectionTrait,
    tenant_id: TenantId,
    id: NodeId,
    version: i64,
) -> Result<Option<NodeAt>, StoreError> {
    let backend = backend_of(c);
    let rows = c
        .query_all_raw(stmt(
            backend,
            &format!(
                "SELECT {REVISION_COLS} FROM node_revisions
                 WHERE tenant_id = $1 AND node_id = $2 AND version = $3"
            ),
            vec![
                tenant_id.as_uuid().into(),
                id.as_uuid().into(),
                version.into(),
            ],
        ))
        .await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let revision = revision_from_row(row)?;
    let contents = c
        .query_all_raw(stmt(
            backend,
            "SELECT c.locale, c.title, c.slug, c.excerpt, c.body, c.format
             FROM node_revision_contents c
             WHERE c.tenant_id = $1 AND c.node_id = $2 AND c.version = (
                 SELECT max(c2.version) FROM node_revision_contents c2
                 WHERE c2.node_id = c.node_id AND c2.locale = c.locale AND c2.version <= $3)
             ORDER BY c.locale",
            vec![
                tenant_id.as_uuid().into(),
                id.as_uuid().into(),
                Value::from(version),
            ],
        ))
        .await?;
    let mut translations = Vec::with_capacity(contents.len());
    for r in &contents {
        let locale: String = r.try_get("", "locale")?;
        let format: String = r.try_get("", "format")?;
        translations.push(RevisionContent {
            locale: parse("locale", &locale)?,
            title: r.try_get("", "title")?,
            slug: r.try_get("", "slug")?,
            excerpt: r.try_get("", "excerpt")?,
            body: r.try_get("", "body")?,
            format: parse("format", &format)?,
        });
    }
    translations.sort_by(|a, b| a.locale.cmp(&b.locale));
    Ok(Some(NodeAt {
        node_id: id,
        revision,
        translations,
    }))
}

impl Store {
    /// A node's kept revisions, newest first (`node history`). A node the bulk seed wrote and
    /// nobody changed since has none stored: its current state is shown as `imported`.
    pub async fn node_history(
        &self,
        tenant_id: TenantId,
        id: NodeId,
    ) -> Result<Vec<Revision>, StoreError> {
        let mut revisions = history(&self.db, tenant_id, id).await?;
        if revisions.is_empty()
            && let Some(node) = crate::repo::load_node(&self.db, tenant_id, id).await?
        {
            revisions.push(imported(&node).revision);
        }
        Ok(revisions)
    }

    /// A node as it was at `version` (`node diff`, the console's diff view); `None` when that
    /// revision is not kept.
    pub async fn node_at(
        &self,
        tenant_id: TenantId,
        id: NodeId,
        version: i64,
    ) -> Result<Option<NodeAt>, StoreError> {
        if let Some(at) = node_at(&self.db, tenant_id, id, version).await? {
            return Ok(Some(at));
        }
        // A bulk-seeded node never changed: its current version, rebuilt from the node.
        Ok(crate::repo::load_node(&self.db, tenant_id, id)
            .await?
            .filter(|n| n.version == version)
            .map(|n| imported(&n)))
    }

    /// How many revision rows the database holds for a node (revisions, content copies); for
    /// the retention tests and `rustok` diagnostics.
    pub async fn revision_rows(&self, id: NodeId) -> Result<(u64, u64), StoreError> {
        let count = |table: &str| {
            self.stmt(
                &format!("SELECT count(*) AS n FROM {table} WHERE node_id = $1"),
                vec![id.as_uuid().into()],
            )
        };
        let mut out = [0u64; 2];
        for (i, table) in ["node_revisions", "node_revision_contents"]
            .into_iter()
            .enumerate()
        {
            let rows = self.db.query_all_raw(count(table)).await?;
            let n: i64 = match rows.first() {
                Some(r) => r.try_get("", "n")?,
                None => 0,
            };
            out[i] = u64::try_from(n).unwrap_or(0);
        }
        Ok((out[0], out[1]))
    }
}

/// A node's current state as an `imported` revision (what the migration writes for nodes that
/// existed before revisions were kept).
pub(crate) fn imported(node: &Node) -> NodeAt {
    NodeAt {
        node_id: node.id,
        revision: Revision {
            version: node.version,
            at: node.updated_at,
            actor: node.author.clone(),
            command: "imported".into(),
            status: node.status,
            locales: node.locales(),
            reverted_from: None,
        },
        translations: node
            .translations
            .iter()
            .map(RevisionContent::from)
            .collect(),
    }
}
