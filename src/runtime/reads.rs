//! Every read, authorized in one place. The CLI, the console and each SSH session read a
//! tenant's data only through [`Reads`]: each method checks the acting staff member (an
//! unknown or inactive handle is refused everything) and the permission of what it reads, as
//! a command is checked against the permission of what it changes. Events are read by the rule
//! of the aggregate they belong to (`rbac::event_read_permission`): an editor, refused
//! `order:read`, sees no order, payment or stock event in any list, tail, history, dead-letter
//! view or inspector — the store filters them out of the query, and [`EventGate`] out of the
//! live stream.
//!
//! The role is loaded again for every read (one primary-key lookup), so a role change or a
//! deactivation takes effect at the next read, in every session.

use super::live_sessions::{LiveSessions, LiveSessionsError};
use rustok_domain::audit::AuditLogEntry;
use rustok_domain::commerce::{Mention, OrderNote};
use rustok_domain::content::diff::NodeDiff;
use rustok_domain::content::{NodeAt, Revision};
use rustok_domain::event::EventEnvelope;
use rustok_domain::rbac::{self, Permission, Role};
use rustok_domain::read::{
    ConsumerStats, NodeSummary, OrderStats, OrderSummary, OutboxCounts, Page, SearchHit,
    SshSession, SshSessions, StockRow,
};
use rustok_domain::read::{Customer, CustomerDetail, Refund};
use rustok_domain::{
    DomainError, IdRef, Locale, NodeId, OrderId, ProductId, Staff, Tenant, TenantId,
};
use rustok_domain::{NoteId, commerce::Order, commerce::Product, content::Node};
use rustok_store::{
    EventFilter, IdKind, NodeFilter, OrderFilter, ProductFilter, Store, StoreError, StoredEvent,
};
use rustok_ui::{Coverage, Query, QueryResult};
use std::sync::Arc;

fn p(resource: &'static str, action: &'static str) -> Permission {
    Permission::new(resource, action)
}

/// The one id among `found` (ids ending in `suffix`), or why there is not exactly one.
fn one_of(
    found: Vec<uuid::Uuid>,
    noun: &'static str,
    suffix: &str,
) -> Result<uuid::Uuid, StoreError> {
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(DomainError::not_found(noun, format!("ending in {suffix}")).into()),
        many => {
            let shown: Vec<String> = many.iter().take(5).map(|u| u.to_string()).collect();
            let count = if many.len() > 5 {
                "6 or more".to_string()
            } else {
                many.len().to_string()
            };
            let more = if many.len() > 5 { ", …" } else { "" };
            Err(DomainError::validation(
                "id",
                format!(
                    "'{suffix}' is ambiguous: {count} {noun}s end in it ({}{more}); give more digits",
                    shown.join(", ")
                ),
            )
            .into())
        }
    }
}

/// A session-admin failure as a one-line error shown as it is (`StoreError::Config` prints
/// its text alone; `Unavailable` would blame the database).
fn ssh_error(e: LiveSessionsError) -> StoreError {
    StoreError::Config(e.to_string())
}

/// The read side of one session (a CLI process, a console, an SSH session): its staff member's
/// reads, each authorized.
#[derive(Clone)]
pub struct Reads {
    store: Store,
    handle: String,
    /// Where the live SSH sessions are, injected by whoever opened the session (None: this
    /// session sees none; the binary always injects one).
    ssh: Option<Arc<dyn LiveSessions>>,
}

/// Which live events a session may see: those its role may read. Built from the role at one
/// moment; sessions build it again when a staff event arrives (a role may have changed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventGate {
    role: Option<Role>,
}

impl EventGate {
    /// A gate that admits nothing (an unknown or deactivated member).
    pub const CLOSED: EventGate = EventGate { role: None };

    pub fn for_role(role: Role) -> EventGate {
        EventGate { role: Some(role) }
    }

    pub fn admits(&self, e: &EventEnvelope) -> bool {
        self.role.is_some_and(|r| r.can_read_event(&e.event_type))
    }

    /// Must the gate be built again after `e`? (Staff events may change the reader's role.)
    pub fn stale_after(e: &EventEnvelope) -> bool {
        e.aggregate_type == "staff"
    }
}

impl Reads {
    pub fn new(store: Store, handle: impl Into<String>) -> Reads {
        Reads {
            store,
            handle: handle.into(),
            ssh: None,
        }
    }

    /// These reads, with the live SSH sessions read from (and ended through) `sessions`: a
    /// console inside an SSH session reads its own server's table, a local console and the
    /// CLI the servers running from the data directory (`ssh::admin::SessionAdmin`).
    pub fn with_live_sessions(mut self, sessions: Arc<dyn LiveSessions>) -> Reads {
        self.ssh = Some(sessions);
        self
    }

    fn live_sessions(&self) -> Result<&dyn LiveSessions, StoreError> {
        self.ssh.as_deref().ok_or_else(|| {
            StoreError::Config("this session is not connected to any SSH server".into())
        })
    }

    /// The live SSH console sessions (`staff:read`: owners and admins): the CLI's
    /// `ssh sessions` and the console's Sessions view.
    pub async fn ssh_sessions(&self) -> Result<SshSessions, StoreError> {
        self.require(p("staff", "read"), "list SSH sessions")
            .await?;
        self.live_sessions()?.list().await.map_err(ssh_error)
    }

    /// Ends one SSH console session (`staff:update`: owners and admins; an owner's session
    /// only an owner, as only an owner changes another owner; refused in a read-only
    /// session). The server tells the client `reason` and writes the audit row.
    pub async fn kick_ssh_session(
        &self,
        read_only: bool,
        server: &str,
        id: u64,
        since: chrono::DateTime<chrono::Utc>,
        reason: &str,
    ) -> Result<Vec<SshSession>, StoreError> {
        let role = self
            .require_operation(p("staff", "update"), "end SSH sessions", read_only)
            .await?;
        let live = self.live_sessions()?;
        if role != Role::Owner {
            let list = live.list().await.map_err(ssh_error)?;
            let owners = list.sessions.iter().find(|s| {
                s.server == server && s.id == id && s.since == since && s.role == "owner"
            });
            if let Some(s) = owners {
                return Err(DomainError::denied(format!(
                    "{role} cannot end an owner's session ({} is an owner; only an owner may)",
                    rustok_domain::text::printable(&s.handle)
                ))
                .into());
            }
        }
        live.kick(server, id, since, &self.handle, reason)
            .await
            .map_err(ssh_error)
    }

    pub fn handle(&self) -> &str {
        &self.handle
    }

    /// The acting member's role; an unknown or inactive handle is refused (every read).
    pub async fn role(&self) -> Result<Role, StoreError> {
        self.require(p("tenant", "read"), "read").await
    }

    /// The acting member's role if it grants `permission`; a one-line denial otherwise, e.g.
    /// `editor cannot read orders (needs order:read)`.
    pub async fn require(&self, permission: Permission, what: &str) -> Result<Role, StoreError> {
        self.store
            .authorize_read(&self.handle, permission, what)
            .await
    }

    /// The gate for this member's live events (closed if the member is unknown or inactive).
    pub async fn gate(&self) -> EventGate {
        match self.require(p("event", "read"), "read events").await {
            Ok(role) => EventGate::for_role(role),
            Err(_) => EventGate::CLOSED,
        }
    }

    /// May the member do what `permission` guards? For operations that are not commands
    /// (running the relay by hand): refused in a read-only session too.
    pub async fn require_operation(
        &self,
        permission: Permission,
        what: &str,
        read_only: bool,
    ) -> Result<Role, StoreError> {
        let role = self.role().await?;
        if read_only {
            return Err(rustok_domain::DomainError::denied(format!(
                "read-only session cannot {what} (needs {permission}; start without --read-only)"
            ))
            .into());
        }
        rbac::check_permission(role, permission, what)?;
        Ok(role)
    }

    /// The tenant `slug` names, if any.
    pub async fn tenant_by_slug(&self, slug: &str) -> Result<Option<Tenant>, StoreError> {
        self.require(p("tenant", "read"), "read tenants").await?;
        self.store.tenant_by_slug(slug).await
    }

    pub async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        self.require(p("tenant", "read"), "read tenants").await?;
        self.store.tenants().await
    }

    pub async fn nodes(
        &self,
        tenant: TenantId,
        filter: &NodeFilter,
    ) -> Result<Page<NodeSummary>, StoreError> {
        self.require(p("content", "read"), "read content").await?;
        self.store.list_nodes(tenant, filter).await
    }

    pub async fn node(&self, tenant: TenantId, id: NodeId) -> Result<Option<Node>, StoreError> {
        self.require(p("content", "read"), "read content").await?;
        self.store.node(tenant, id).await
    }

    pub async fn search(
        &self,
        tenant: TenantId,
        text: &str,
        locale: Option<&Locale>,
        limit: u64,
    ) -> Result<Vec<SearchHit>, StoreError> {
        self.require(p("content", "read"), "search content").await?;
        self.store.search_nodes(tenant, text, locale, limit).await
    }

    /// A node's kept revisions, newest first: readable by who can read the node
    /// (`content:read`).
    pub async fn node_history(
        &self,
        tenant: TenantId,
        id: NodeId,
    ) -> Result<Vec<Revision>, StoreError> {
        self.require(p("content", "read"), "read content").await?;
        if self.store.node(tenant, id).await?.is_none() {
            return Err(DomainError::not_found("node", id).into());
        }
        self.store.node_history(tenant, id).await
    }

    /// What changed in a node between two kept revisions (all locales, or only `locale`):
    /// readable by who can read the node (`content:read`).
    pub async fn node_diff(
        &self,
        tenant: TenantId,
        id: NodeId,
        from: i64,
        to: i64,
        locale: Option<&Locale>,
    ) -> Result<NodeDiff, StoreError> {
        self.require(p("content", "read"), "read content").await?;
        let at = async |v: i64| -> Result<NodeAt, StoreError> {
            self.store.node_at(tenant, id, v).await?.ok_or_else(|| {
                DomainError::not_found("revision", format!("{v} of node {id}")).into()
            })
        };
        let (a, b) = (at(from).await?, at(to).await?);
        if let Some(l) = locale {
            NodeDiff::check_locale(&a, &b, l)?;
        }
        Ok(NodeDiff::between(&a, &b, locale))
    }

    /// The tenant's agenda of scheduled publications and unpublications, soonest first.
    pub async fn agenda(
        &self,
        tenant: TenantId,
        limit: u64,
    ) -> Result<Vec<rustok_domain::content::AgendaEntry>, StoreError> {
        self.require(p("content", "read"), "read content").await?;
        self.store.agenda(tenant, limit).await
    }

    /// A node's pending schedules, soonest first.
    pub async fn node_schedules(
        &self,
        tenant: TenantId,
        id: NodeId,
    ) -> Result<Vec<rustok_domain::content::Schedule>, StoreError> {
        self.require(p("content", "read"), "read content").await?;
        self.store.node_schedules(tenant, id).await
    }

    pub async fn locale_coverage(
        &self,
        tenant: TenantId,
    ) -> Result<(u64, Vec<(Locale, u64)>), StoreError> {
        self.require(p("content", "read"), "read content").await?;
        self.store.locale_coverage(tenant).await
    }

    pub async fn products(
        &self,
        tenant: TenantId,
        filter: &ProductFilter,
    ) -> Result<Page<StockRow>, StoreError> {
        self.require(p("product", "read"), "read products").await?;
        self.store.list_products(tenant, filter).await
    }

    pub async fn product(
        &self,
        tenant: TenantId,
        id: ProductId,
    ) -> Result<Option<Product>, StoreError> {
        self.require(p("product", "read"), "read products").await?;
        self.store.product(tenant, id).await
    }

    pub async fn product_by_sku(
        &self,
        tenant: TenantId,
        sku: &str,
    ) -> Result<Option<Product>, StoreError> {
        self.require(p("product", "read"), "read products").await?;
        self.store.product_by_sku(tenant, sku).await
    }

    pub async fn orders(
        &self,
        tenant: TenantId,
        filter: &OrderFilter,
    ) -> Result<Page<OrderSummary>, StoreError> {
        self.require(p("order", "read"), "read orders").await?;
        self.store.list_orders(tenant, filter).await
    }

    pub async fn order(&self, tenant: TenantId, id: OrderId) -> Result<Option<Order>, StoreError> {
        self.require(p("order", "read"), "read orders").await?;
        self.store.order(tenant, id).await
    }

    /// An order's events, oldest first (every one of them is an order or payment event).
    pub async fn order_events(
        &self,
        tenant: TenantId,
        id: OrderId,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.require(p("order", "read"), "read orders").await?;
        self.store.order_events(tenant, id).await
    }

    /// The notes on an order, oldest first: read like the order (`order:read`).
    pub async fn order_notes(
        &self,
        tenant: TenantId,
        id: OrderId,
    ) -> Result<Vec<OrderNote>, StoreError> {
        self.require(p("order", "read"), "read orders").await?;
        self.store.order_notes(tenant, id).await
    }

    /// The acting member's own unread mentions in the tenant, oldest first (`order:read`:
    /// a mention is a note on an order).
    pub async fn unread_mentions(&self, tenant: TenantId) -> Result<Vec<Mention>, StoreError> {
        self.require(p("order", "read"), "read orders").await?;
        self.store.unread_mentions(tenant, &self.handle).await
    }

    /// Marks the acting member's own mentions in these notes as read. A personal mark (no
    /// event, no audit row), so a read-only session may make it too.
    pub async fn mark_mentions_read(
        &self,
        tenant: TenantId,
        notes: &[NoteId],
    ) -> Result<u64, StoreError> {
        self.require(p("order", "read"), "read orders").await?;
        let notes = &notes[..notes.len().min(rustok_store::MAX_UNREAD_MENTIONS as usize)];
        self.store
            .mark_mentions_read(tenant, &self.handle, notes, chrono::Utc::now())
            .await
    }

    /// An order's refunds, oldest first.
    pub async fn order_refunds(
        &self,
        tenant: TenantId,
        id: OrderId,
    ) -> Result<Vec<Refund>, StoreError> {
        self.require(p("order", "read"), "read orders").await?;
        self.store.order_refunds(tenant, id).await
    }

    /// A window of the tenant's customers (read from their orders: `order:read`).
    pub async fn customers(
        &self,
        tenant: TenantId,
        offset: u64,
        limit: u64,
    ) -> Result<Page<Customer>, StoreError> {
        self.require(p("order", "read"), "read customers").await?;
        self.store.customers(tenant, offset, limit).await
    }

    /// One customer with a window of their orders (`order:read`).
    pub async fn customer(
        &self,
        tenant: TenantId,
        email: &str,
        offset: u64,
        limit: u64,
    ) -> Result<Option<CustomerDetail>, StoreError> {
        self.require(p("order", "read"), "read customers").await?;
        self.store.customer(tenant, email, offset, limit).await
    }

    pub async fn order_stats(&self, tenant: TenantId) -> Result<OrderStats, StoreError> {
        self.require(p("order", "read"), "read orders").await?;
        let midnight = chrono::Utc::now()
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc())
            .unwrap_or_else(chrono::Utc::now);
        self.store.order_stats(tenant, midnight).await
    }

    /// Stored events of one tenant that the member may read: `filter.tenant_id` is set to
    /// `tenant` and `filter.event_types` to the member's readable types (intersected with any
    /// types the caller asked for).
    pub async fn events(
        &self,
        tenant: TenantId,
        mut filter: EventFilter,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let role = self.require(p("event", "read"), "read events").await?;
        filter.tenant_id = Some(tenant);
        if let Some(readable) = role.readable_event_types() {
            filter.event_types = Some(match filter.event_types.take() {
                Some(asked) => asked.into_iter().filter(|t| readable.contains(t)).collect(),
                None => readable,
            });
        }
        // Asking for one type the member may not read is asking for nothing.
        if let Some(t) = &filter.event_type
            && !role.can_read_event(t)
        {
            return Ok(Vec::new());
        }
        self.store.list_events(&filter).await
    }

    /// The tenant's dead letters the member may read.
    pub async fn dead_letters(
        &self,
        tenant: TenantId,
        limit: u64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.events(
            tenant,
            EventFilter {
                status: Some("failed".into()),
                limit,
                ..Default::default()
            },
        )
        .await
    }

    /// Delivery counts of one tenant's events.
    pub async fn outbox_counts(&self, tenant: TenantId) -> Result<OutboxCounts, StoreError> {
        self.require(p("event", "read"), "read events").await?;
        self.store.outbox_counts(Some(tenant)).await
    }

    /// Every consumer of the outbox with its delivery state and lag (`outbox consumers`):
    /// platform-wide, read like the outbox counts (permission event:read).
    pub async fn consumers(&self) -> Result<Vec<ConsumerStats>, StoreError> {
        self.require(p("event", "read"), "read the outbox consumers")
            .await?;
        self.store
            .consumer_stats(Some(rustok_store::BUS_CONSUMER), chrono::Utc::now())
            .await
    }

    /// The independent consumers' state alone (the Dashboard, refreshed on a timer: no bus
    /// row — its state is the outbox counts), read once per ~second for all of this process's
    /// sessions (`Store::recent_consumer_stats`).
    pub async fn stream_lag(&self) -> Result<Vec<ConsumerStats>, StoreError> {
        self.require(p("event", "read"), "read the outbox consumers")
            .await?;
        self.store.recent_consumer_stats().await
    }

    /// One independent consumer's dead letters in this tenant (`outbox failed --consumer`).
    pub async fn consumer_dead_letters(
        &self,
        tenant: TenantId,
        consumer: &str,
        limit: u64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.require(p("event", "read"), "read events").await?;
        self.store
            .consumer_dead_letters(consumer, Some(tenant), limit)
            .await
    }

    /// Staff members, without password hashes.
    pub async fn staff(&self) -> Result<Vec<Staff>, StoreError> {
        self.require(p("staff", "read"), "list staff").await?;
        let mut staff = self.store.staff_list().await?;
        for s in &mut staff {
            s.password_hash = None;
        }
        Ok(staff)
    }

    pub async fn audit_log(
        &self,
        offset: u64,
        limit: u64,
        filter: &str,
    ) -> Result<Page<AuditLogEntry>, StoreError> {
        self.require(p("audit", "read"), "read the audit log")
            .await?;
        self.store
            .audit_log_matching(offset, limit.clamp(1, 10_000), filter)
            .await
    }

    /// The id `text` names within the tenant: a whole UUID as it is, or the last hex digits
    /// screens show (`6a9768cf`) resolved among the tenant's ids of `kind` (which needs the
    /// permission to read them).
    /// Unknown → not found; several → a one-line error listing the candidates.
    pub async fn resolve_id(
        &self,
        tenant: TenantId,
        kind: IdKind,
        text: &str,
    ) -> Result<uuid::Uuid, StoreError> {
        let (permission, what) = match kind {
            IdKind::Node => (p("content", "read"), "read content"),
            IdKind::Order => (p("order", "read"), "read orders"),
            IdKind::Product => (p("product", "read"), "read products"),
            IdKind::Event => (p("event", "read"), "read events"),
        };
        // A whole UUID reads nothing; resolving a short one reads the tenant's ids.
        let suffix = match text.parse::<IdRef>()? {
            IdRef::Full(u) => return Ok(u),
            IdRef::Suffix(s) => s,
        };
        self.require(permission, what).await?;
        let found = self.store.ids_ending_with(tenant, kind, &suffix, 6).await?;
        one_of(found, kind.noun(), &suffix)
    }

    /// The aggregate (node, order or product) `text` names: a whole UUID as it is, or a short
    /// id resolved among the aggregates the member may read.
    pub async fn resolve_aggregate(
        &self,
        tenant: TenantId,
        text: &str,
    ) -> Result<uuid::Uuid, StoreError> {
        let suffix = match text.parse::<IdRef>()? {
            IdRef::Full(u) => return Ok(u),
            IdRef::Suffix(s) => s,
        };
        let role = self.require(p("event", "read"), "read events").await?;
        let mut found = Vec::new();
        for (kind, permission) in [
            (IdKind::Node, p("content", "read")),
            (IdKind::Order, p("order", "read")),
            (IdKind::Product, p("product", "read")),
        ] {
            if role.allows(permission) {
                found.extend(self.store.ids_ending_with(tenant, kind, &suffix, 6).await?);
            }
        }
        one_of(found, "aggregate", &suffix)
    }

    /// What the security audit reads (`audit:run`): the store's facts, the database URL
    /// (`url`, shown redacted), file modes and settings.
    pub async fn audit_input(
        &self,
        url: &str,
        read_only: bool,
    ) -> Result<rustok_domain::audit::AuditInput, StoreError> {
        self.require(p("audit", "run"), "run the security audit")
            .await?;
        crate::security::collect(&self.store, url, read_only).await
    }

    /// Answers one of the console's queries (local and SSH alike).
    pub async fn query(&self, tenant: TenantId, query: Query) -> Result<QueryResult, StoreError> {
        Ok(match query {
            Query::Nodes {
                status,
                kind,
                offset,
                limit,
            } => QueryResult::Nodes(
                self.nodes(
                    tenant,
                    &NodeFilter {
                        status,
                        kind,
                        locale: None,
                        offset,
                        limit,
                    },
                )
                .await?,
            ),
            Query::Node(id) => QueryResult::Node(self.node(tenant, id).await?),
            Query::Search { text, limit } => {
                QueryResult::Search(self.search(tenant, &text, None, limit).await?)
            }
            Query::Agenda { limit } => QueryResult::Agenda(self.agenda(tenant, limit).await?),
            Query::Tenants => QueryResult::Tenants(self.tenants().await?),
            Query::LocaleCoverage => {
                let (total_nodes, locales) = self.locale_coverage(tenant).await?;
                QueryResult::LocaleCoverage(Coverage {
                    total_nodes,
                    locales,
                })
            }
            Query::Consumers => QueryResult::Consumers(self.stream_lag().await?),
            Query::OutboxCounts => QueryResult::OutboxCounts(
                self.outbox_counts(tenant).await?,
                self.store.oldest_pending_at().await?,
            ),
            Query::Orders {
                status,
                filter,
                offset,
                limit,
            } => QueryResult::Orders(
                self.orders(
                    tenant,
                    &OrderFilter {
                        status: Some(status),
                        text: filter,
                        offset,
                        limit,
                        ..Default::default()
                    },
                )
                .await?,
            ),
            Query::Order(id) => {
                let order = self.order(tenant, id).await?;
                let events = if order.is_some() {
                    self.order_events(tenant, id).await?
                } else {
                    Vec::new()
                };
                QueryResult::Order(order, events)
            }
            Query::Customers { offset, limit } => {
                QueryResult::Customers(self.customers(tenant, offset, limit).await?)
            }
            Query::Customer { email, limit } => {
                QueryResult::Customer(self.customer(tenant, &email, 0, limit).await?)
            }
            Query::Products {
                low_only,
                offset,
                limit,
            } => QueryResult::Products(
                self.products(
                    tenant,
                    &ProductFilter {
                        low_only,
                        offset,
                        limit,
                    },
                )
                .await?,
            ),
            Query::EventHistory { before_seq, limit } => QueryResult::Events(
                self.events(
                    tenant,
                    EventFilter {
                        before_seq,
                        newest_first: true,
                        limit,
                        ..Default::default()
                    },
                )
                .await?,
            ),
            Query::FirstEventSince(at) => QueryResult::Events(
                self.events(
                    tenant,
                    EventFilter {
                        since: Some(at),
                        limit: 1,
                        ..Default::default()
                    },
                )
                .await?,
            ),
            Query::DeadLetters => QueryResult::Events(self.dead_letters(tenant, 10_000).await?),
            Query::OrderStats => QueryResult::OrderStats(self.order_stats(tenant).await?),
            Query::AuditLog {
                offset,
                limit,
                filter,
            } => {
                let page = self.audit_log(offset, limit, &filter).await?;
                let tenants = self
                    .store
                    .tenants()
                    .await?
                    .into_iter()
                    .map(|t| (t.id, t.slug))
                    .collect();
                QueryResult::AuditLog(page, tenants)
            }
            Query::Staff => QueryResult::Staff(self.staff().await?),
            Query::SshSessions => QueryResult::SshSessions(self.ssh_sessions().await?),
            Query::ResolveId { kind, text } => {
                let kind = match kind {
                    rustok_ui::IdKind::Node => IdKind::Node,
                    rustok_ui::IdKind::Order => IdKind::Order,
                    rustok_ui::IdKind::Product => IdKind::Product,
                };
                QueryResult::Resolved(self.resolve_id(tenant, kind, &text).await?)
            }
            Query::Mentions => QueryResult::Mentions(self.unread_mentions(tenant).await?),
            Query::NodeHistory(id) => {
                QueryResult::NodeHistory(self.node_history(tenant, id).await?)
            }
            Query::NodeDiff { id, from, to } => {
                QueryResult::NodeDiff(Box::new(self.node_diff(tenant, id, from, to, None).await?))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    // The SSH transport's implementation, reading the control sockets of an empty directory.
    use crate::ssh::admin::SessionAdmin;
    use rustok_domain::commerce::OrderStatus;
    use rustok_domain::rbac::Role;
    use rustok_domain::staff::StaffDraft;
    use rustok_domain::{Actor, Command, CommandEnvelope, DomainError, OrderId, StaffId};

    /// Orders are refused here: a session (local or over SSH, both answer queries
    /// here) as an editor is denied them and the order figures; a manager is not; the stock
    /// list stays readable to both.
    #[tokio::test]
    async fn orders_are_read_only_with_order_read() {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        let tenant = TenantId::new_v7();
        let owner = Actor::new("owner");
        let run = |command: Command| CommandEnvelope::new(tenant, owner.clone(), command);
        store
            .execute(
                &run(Command::CreateTenant {
                    id: tenant,
                    slug: "acme".into(),
                    name: "Acme".into(),
                    default_locale: "en".parse::<Locale>().unwrap(),
                }),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        for (handle, role) in [("ed", Role::Editor), ("mo", Role::Manager)] {
            let draft = StaffDraft {
                id: StaffId::new_v7(),
                handle: handle.into(),
                display_name: None,
                role,
                ssh_keys: vec![],
                mfa_enabled: false,
            };
            store
                .execute(&run(Command::AddStaff(draft)), chrono::Utc::now())
                .await
                .unwrap();
        }
        let order_queries = || {
            [
                Query::Orders {
                    status: OrderStatus::Pending,
                    filter: None,
                    offset: 0,
                    limit: 10,
                },
                Query::Order(OrderId::new_v7()),
                Query::OrderStats,
            ]
        };
        for q in order_queries() {
            match Reads::new(store.clone(), "ed")
                .query(tenant, q.clone())
                .await
            {
                Err(StoreError::Domain(DomainError::PermissionDenied { reason })) => {
                    assert_eq!(reason, "editor cannot read orders (needs order:read)")
                }
                other => panic!("{q:?} as an editor: {other:?}"),
            }
            assert!(
                Reads::new(store.clone(), "mo")
                    .query(tenant, q.clone())
                    .await
                    .is_ok(),
                "{q:?} as a manager"
            );
        }
        let stock = Query::Products {
            low_only: false,
            offset: 0,
            limit: 10,
        };
        assert!(
            Reads::new(store.clone(), "ed")
                .query(tenant, stock)
                .await
                .is_ok()
        );
    }

    /// Session admin (issue 18): listing the live SSH sessions needs `staff:read` and ending
    /// one `staff:update` — owners and admins; a manager, an editor and a support member are
    /// refused both, with the permission named; a read-only session cannot end one.
    #[tokio::test]
    async fn ssh_session_admin_is_for_owners_and_admins() {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        let tenant = TenantId::new_v7();
        let run = |command: Command| CommandEnvelope::new(tenant, Actor::new("owner"), command);
        let handle = |role: Role| format!("m-{role}");
        for role in Role::ALL {
            let draft = StaffDraft {
                id: StaffId::new_v7(),
                handle: handle(role),
                display_name: None,
                role,
                ssh_keys: vec![],
                mfa_enabled: false,
            };
            store
                .execute(&run(Command::AddStaff(draft)), chrono::Utc::now())
                .await
                .unwrap();
        }
        // No server runs from this directory: allowed reads find none.
        let dir = tempfile::tempdir().unwrap();
        let since = chrono::Utc::now();
        for role in Role::ALL {
            let reads = Reads::new(store.clone(), handle(role))
                .with_live_sessions(Arc::new(SessionAdmin::sockets(dir.path())));
            let listed = reads.ssh_sessions().await;
            let kicked = reads
                .kick_ssh_session(false, "127.0.0.1:2222", 1, since, "maintenance")
                .await;
            let allowed = matches!(role, Role::Owner | Role::Admin);
            match (&listed, allowed) {
                (Ok(l), true) => assert!(l.servers.is_empty() && l.sessions.is_empty()),
                (Err(StoreError::Domain(DomainError::PermissionDenied { reason })), false) => {
                    assert_eq!(
                        *reason,
                        format!("{role} cannot list SSH sessions (needs staff:read)")
                    )
                }
                other => panic!("{role} listing: {other:?}"),
            }
            match (&kicked, allowed) {
                // Allowed: the next thing said is that no server runs there.
                (Err(StoreError::Config(why)), true) => {
                    assert!(
                        why.contains("no SSH server 127.0.0.1:2222 is running"),
                        "{why}"
                    )
                }
                (Err(StoreError::Domain(DomainError::PermissionDenied { reason })), false) => {
                    assert!(reason.contains("staff:update"), "{role}: {reason}")
                }
                other => panic!("{role} kicking: {other:?}"),
            }
        }
        let owner = Reads::new(store.clone(), handle(Role::Owner))
            .with_live_sessions(Arc::new(SessionAdmin::sockets(dir.path())));
        match owner
            .kick_ssh_session(true, "127.0.0.1:2222", 1, since, "maintenance")
            .await
        {
            Err(StoreError::Domain(DomainError::PermissionDenied { reason })) => assert!(
                reason.starts_with("read-only session cannot end SSH sessions"),
                "{reason}"
            ),
            other => panic!("read-only kick: {other:?}"),
        }
    }
}
