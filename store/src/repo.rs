//! Reads: rows → domain types, and the tenant-filtered queries behind `show`, `list` and the
//! console's windows.

use crate::entity::{node, node_schedule, node_translation, outbox, tenant};
use crate::rows::{node_from_rows, parse, sql_window, stored_event_from_row, tenant_from_row};
use crate::{Backend, Store, StoreError};
use rustok_domain::content::{Node, NodeKind, NodeStatus};
use rustok_domain::read::{NodeSummary, Page, StoredEvent};
use rustok_domain::{Locale, NodeId, Tenant, TenantId};
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

/// Loads one node of one tenant, with all its translations.
pub(crate) async fn load_node(
    c: &impl ConnectionTrait,
    tenant_id: TenantId,
    id: NodeId,
) -> Result<Option<Node>, StoreError> {
    let Some(row) = node::Entity::find_by_id(id.as_uuid())
        .filter(node::Column::TenantId.eq(tenant_id.as_uuid()))
        .one(c)
        .await?
    else {
        return Ok(None);
    };
    let translations = node_translation::Entity::find()
        .filter(node_translation::Column::NodeId.eq(id.as_uuid()))
        .all(c)
        .await?;
    node_from_rows(row, translations).map(Some)
}

pub(crate) async fn load_tenant(
    c: &impl ConnectionTrait,
    id: TenantId,
) -> Result<Option<Tenant>, StoreError> {
    tenant::Entity::find_by_id(id.as_uuid())
        .one(c)
        .await?
        .map(tenant_from_row)
        .transpose()
}

/// Which nodes a list shows, and which window of them.
#[derive(Debug, Clone, Default)]
pub struct NodeFilter {
    pub status: Option<NodeStatus>,
    pub kind: Option<NodeKind>,
    /// Only nodes that have a translation in this locale.
    pub locale: Option<Locale>,
    pub offset: u64,
    /// At most this many rows (the window); 0 means 100.
    pub limit: u64,
}

/// Which events to list.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub tenant_id: Option<TenantId>,
    pub aggregate_id: Option<Uuid>,
    pub event_type: Option<String>,
    /// Only events stored after this sequence number.
    pub after_seq: Option<i64>,
    /// Only events in this delivery state: pending, dispatched or failed.
    pub status: Option<String>,
    /// Only events stored before this sequence number (paging back through history).
    pub before_seq: Option<i64>,
    /// Only events that happened at or after this time (through `ix_outbox_tenant_occurred`).
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Newest first instead of oldest first (history views).
    pub newest_first: bool,
    /// At most this many (oldest first); 0 means 1000.
    pub limit: u64,
    /// Only events of these types (what the reader may see, `rbac::Role::readable_event_types`);
    /// `None` for every type.
    pub event_types: Option<Vec<&'static str>>,
}

/// What an id names, for resolving the short ids screens show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Node,
    Order,
    Product,
    Event,
}

impl IdKind {
    fn table(self) -> &'static str {
        match self {
            IdKind::Node => "nodes",
            IdKind::Order => "orders",
            IdKind::Product => "products",
            IdKind::Event => "outbox",
        }
    }

    /// The word for it in messages ("order").
    pub fn noun(self) -> &'static str {
        match self {
            IdKind::Node => "node",
            IdKind::Order => "order",
            IdKind::Product => "product",
            IdKind::Event => "event",
        }
    }
}

impl Store {
    /// The tenant's ids of `kind` whose hex digits end with `suffix` (lowercase hex digits, as
    /// `IdRef::Suffix` holds), at most `limit`, in id order. Scans the tenant's rows of that
    /// table (no index serves a suffix), so it costs what their number costs.
    pub async fn ids_ending_with(
        &self,
        tenant_id: TenantId,
        kind: IdKind,
        suffix: &str,
        limit: u64,
    ) -> Result<Vec<Uuid>, StoreError> {
        if suffix.is_empty() || !suffix.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(Vec::new());
        }
        let hex = match self.backend {
            Backend::Sqlite => "lower(hex(id))",
            Backend::Postgres => "replace(id::text, '-', '')",
        };
        let sql = format!(
            "SELECT id FROM {} WHERE tenant_id = $1 AND {hex} LIKE $2 ORDER BY id LIMIT {}",
            kind.table(),
            limit.clamp(1, 1_000)
        );
        let rows = self
            .db
            .query_all_raw(self.stmt(
                &sql,
                vec![
                    tenant_id.as_uuid().into(),
                    format!("%{}", suffix.to_ascii_lowercase()).into(),
                ],
            ))
            .await?;
        rows.iter()
            .map(|r| r.try_get::<Uuid>("", "id").map_err(Into::into))
            .collect()
    }

    pub async fn tenant_by_slug(&self, slug: &str) -> Result<Option<Tenant>, StoreError> {
        tenant::Entity::find()
            .filter(tenant::Column::Slug.eq(slug))
            .one(&self.db)
            .await?
            .map(tenant_from_row)
            .transpose()
    }

    pub async fn tenant(&self, id: TenantId) -> Result<Option<Tenant>, StoreError> {
        load_tenant(&self.db, id).await
    }

    pub async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        tenant::Entity::find()
            .order_by_asc(tenant::Column::Slug)
            .all(&self.db)
            .await?
            .into_iter()
            .map(tenant_from_row)
            .collect()
    }

    /// One node of one tenant; `None` if it does not exist or belongs to another tenant.
    pub async fn node(&self, tenant_id: TenantId, id: NodeId) -> Result<Option<Node>, StoreError> {
        load_node(&self.db, tenant_id, id).await
    }

    /// A window of a tenant's nodes, most recently updated first, with the total count.
    pub async fn list_nodes(
        &self,
        tenant_id: TenantId,
        filter: &NodeFilter,
    ) -> Result<Page<NodeSummary>, StoreError> {
        let mut q = node::Entity::find().filter(node::Column::TenantId.eq(tenant_id.as_uuid()));
        if let Some(s) = filter.status {
            q = q.filter(node::Column::Status.eq(s.as_str()));
        }
        if let Some(k) = filter.kind {
            q = q.filter(node::Column::Kind.eq(k.as_str()));
        }
        if let Some(l) = &filter.locale {
            q = q.filter(
                node::Column::Id.in_subquery(
                    Query::select()
                        .column(node_translation::Column::NodeId)
                        .from(node_translation::Entity)
                        .and_where(node_translation::Column::TenantId.eq(tenant_id.as_uuid()))
                        .and_where(node_translation::Column::Locale.eq(l.as_str()))
                        .to_owned(),
                ),
            );
        }
        let total = q.clone().count(&self.db).await?;
        let limit = if filter.limit == 0 { 100 } else { filter.limit };
        let rows = q
            .order_by_desc(node::Column::UpdatedAt)
            .order_by_desc(node::Column::Id)
            .offset(sql_window(filter.offset))
            .limit(sql_window(limit))
            .all(&self.db)
            .await?;
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let titles: Vec<(Uuid, String, String)> = if ids.is_empty() {
            Vec::new()
        } else {
            node_translation::Entity::find()
                .select_only()
                .column(node_translation::Column::NodeId)
                .column(node_translation::Column::Locale)
                .column(node_translation::Column::Title)
                .filter(node_translation::Column::NodeId.is_in(ids))
                .order_by_asc(node_translation::Column::Locale)
                .into_tuple()
                .all(&self.db)
                .await?
        };
        // The window's pending schedules (the list marks the soonest of each node).
        let schedules: Vec<(Uuid, String, chrono::DateTime<chrono::Utc>)> = if rows.is_empty() {
            Vec::new()
        } else {
            node_schedule::Entity::find()
                .select_only()
                .column(node_schedule::Column::NodeId)
                .column(node_schedule::Column::Action)
                .column(node_schedule::Column::DueAt)
                .filter(node_schedule::Column::TenantId.eq(tenant_id.as_uuid()))
                .filter(node_schedule::Column::NodeId.is_in(rows.iter().map(|r| r.id)))
                .order_by_asc(node_schedule::Column::DueAt)
                .into_tuple()
                .all(&self.db)
                .await?
        };
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let scheduled = match schedules.iter().find(|(id, _, _)| *id == r.id) {
                Some((_, action, at)) => Some((parse("schedule action", action)?, *at)),
                None => None,
            };
            let source_locale: Locale = parse("source locale", &r.source_locale)?;
            let mine: Vec<&(Uuid, String, String)> =
                titles.iter().filter(|(id, _, _)| *id == r.id).collect();
            let title = mine
                .iter()
                .find(|(_, l, _)| *l == r.source_locale)
                .or(mine.first())
                .map(|(_, _, t)| t.clone())
                .unwrap_or_default();
            out.push(NodeSummary {
                id: NodeId::from_uuid(r.id),
                kind: parse("node kind", &r.kind)?,
                status: parse("node status", &r.status)?,
                version: r.version,
                title,
                source_locale,
                locales: mine
                    .iter()
                    .map(|(_, l, _)| parse("locale", l))
                    .collect::<Result<_, _>>()?,
                updated_at: r.updated_at,
                published_at: r.published_at,
                scheduled,
            });
        }
        Ok(Page {
            total,
            offset: filter.offset,
            rows: out,
        })
    }

    /// Stored events, oldest first (newest first with `newest_first`). Pass a tenant to see only
    /// that tenant's events, and the types the reader may see in `event_types`.
    pub async fn list_events(&self, filter: &EventFilter) -> Result<Vec<StoredEvent>, StoreError> {
        let mut q = outbox::Entity::find();
        if let Some(t) = filter.tenant_id {
            q = q.filter(outbox::Column::TenantId.eq(t.as_uuid()));
        }
        if let Some(a) = filter.aggregate_id {
            q = q.filter(outbox::Column::AggregateId.eq(a));
        }
        if let Some(t) = &filter.event_type {
            q = q.filter(outbox::Column::EventType.eq(t.as_str()));
        }
        if let Some(s) = filter.after_seq {
            q = q.filter(outbox::Column::Seq.gt(s));
        }
        if let Some(s) = &filter.status {
            q = q.filter(outbox::Column::Status.eq(s.as_str()));
        }
        if let Some(s) = filter.before_seq {
            q = q.filter(outbox::Column::Seq.lt(s));
        }
        if let Some(t) = filter.since {
            q = q.filter(outbox::Column::OccurredAt.gte(t));
        }
        if let Some(types) = &filter.event_types {
            q = q.filter(outbox::Column::EventType.is_in(types.iter().copied()));
        }
        let limit = if filter.limit == 0 {
            1000
        } else {
            filter.limit.min(i64::MAX as u64)
        };
        let q = if filter.newest_first {
            q.order_by_desc(outbox::Column::Seq)
        } else {
            q.order_by_asc(outbox::Column::Seq)
        };
        q.limit(sql_window(limit))
            .all(&self.db)
            .await?
            .into_iter()
            .map(stored_event_from_row)
            .collect()
    }
}

impl Store {
    /// Translation completeness of a tenant: how many nodes it has, and for each locale in
    /// use how many of them have it.
    pub async fn locale_coverage(
        &self,
        tenant_id: TenantId,
    ) -> Result<(u64, Vec<(Locale, u64)>), StoreError> {
        let total = node::Entity::find()
            .filter(node::Column::TenantId.eq(tenant_id.as_uuid()))
            .count(&self.db)
            .await?;
        let rows = self
            .db
            .query_all_raw(self.stmt(
                "SELECT locale, COUNT(*) AS n FROM node_translations
                 WHERE tenant_id = $1 GROUP BY locale ORDER BY locale",
                vec![tenant_id.as_uuid().into()],
            ))
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let locale: String = r.try_get("", "locale")?;
            let n: i64 = r.try_get("", "n")?;
            out.push((parse("locale", &locale)?, u64::try_from(n).unwrap_or(0)));
        }
        Ok((total, out))
    }
}
