//! Carries out the app's effects: queries against the store and commands through the action
//! queue, each in its own task, answering with a `Msg` on the app's channel.

use super::audit::AuditMonitor;
use crate::runtime::{ActionQueue, QueueError};
use rustok_domain::{Actor, CommandEnvelope, Permission, Tenant};
use rustok_store::{EventFilter, NodeFilter, OrderFilter, ProductFilter, Store, StoreError};
use rustok_ui::{Coverage, Effect, Failure, Msg, Query, QueryResult};
use tokio::sync::mpsc::UnboundedSender;

/// What effects need to know about the session.
#[derive(Clone)]
pub struct Executor {
    pub store: Store,
    pub queue: ActionQueue,
    pub actor: Actor,
    pub tenant: Tenant,
    pub tx: UnboundedSender<Msg>,
    /// Runs, exports and monitors the security audit for this session.
    pub audit: AuditMonitor,
}

fn failure(e: StoreError) -> Failure {
    match e {
        StoreError::Domain(d) => Failure::Domain(d),
        other => Failure::Other(other.to_string()),
    }
}

fn queue_failure(e: QueueError) -> Failure {
    match e {
        QueueError::Store(s) => failure(s),
        other => Failure::Other(other.to_string()),
    }
}

impl Executor {
    /// Starts the work for one effect; returns `false` for `Quit`.
    pub fn run(&mut self, effect: Effect) -> bool {
        match effect {
            Effect::Quit => return false,
            Effect::Load(id, query) => {
                let store = self.store.clone();
                let tenant = self.tenant.id;
                let tx = self.tx.clone();
                let actor = self.actor.handle.clone();
                tokio::spawn(async move {
                    let result = query_store(&store, tenant, &actor, query)
                        .await
                        .map_err(failure);
                    let _ = tx.send(Msg::Loaded(id, result));
                });
            }
            Effect::Dispatch(id, command) => {
                let env = CommandEnvelope::new(self.tenant.id, self.actor.clone(), command);
                let tx = self.tx.clone();
                match self.queue.submit(env) {
                    Ok(reply) => {
                        let _ = tx.send(Msg::QueueDepth(self.queue.depth()));
                        let queue = self.queue.clone();
                        tokio::spawn(async move {
                            let result = match reply.await {
                                Ok(r) => r.map_err(failure),
                                Err(_) => Err(Failure::Other("the action queue stopped".into())),
                            };
                            let _ = tx.send(Msg::Outcome(id, result));
                            let _ = tx.send(Msg::QueueDepth(queue.depth()));
                        });
                    }
                    Err(e) => {
                        let _ = tx.send(Msg::Outcome(id, Err(queue_failure(e))));
                    }
                }
            }
            Effect::RetryDeadLetters(id, event) => {
                let store = self.store.clone();
                let tx = self.tx.clone();
                let tenant = self.tenant.id;
                tokio::spawn(async move {
                    let result = retry(&store, tenant, event).await.map_err(failure);
                    let _ = tx.send(Msg::Loaded(id, result.map(QueryResult::Retried)));
                });
            }
            Effect::RunAudit => self.audit.run_now(self.tenant.slug.clone()),
            Effect::CheckAudit => self.audit.check_now(),
            Effect::ExportAudit {
                report,
                format,
                path,
            } => self.audit.export(*report, format, path),
            Effect::SwitchTenant(slug) => {
                let store = self.store.clone();
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    let result = match store.tenant_by_slug(&slug).await {
                        Ok(Some(t)) => Ok(t),
                        Ok(None) => Err(Failure::Other(format!(
                            "no tenant '{}' (create it with: rustok tenant create {} --name NAME)",
                            rustok_domain::text::printable(&slug),
                            rustok_domain::text::printable(&slug)
                        ))),
                        Err(e) => Err(failure(e)),
                    };
                    let _ = tx.send(Msg::TenantSwitched(result));
                });
            }
        }
        true
    }
}

/// Answers a query of the app. `actor` is the session's staff member: orders (`order:read`),
/// the staff list (`staff:read`) and the audit log (`audit:read`) are permission-checked in
/// the store, so an editor's session (local or over SSH) is refused the orders and the
/// customers in them.
pub async fn query_store(
    store: &Store,
    tenant: rustok_domain::TenantId,
    actor: &str,
    query: Query,
) -> Result<QueryResult, StoreError> {
    if matches!(
        query,
        Query::Orders { .. } | Query::Order(_) | Query::OrderStats
    ) {
        store
            .authorize_read(actor, Permission::new("order", "read"), "read orders")
            .await?;
    }
    Ok(match query {
        Query::Nodes {
            status,
            kind,
            offset,
            limit,
        } => QueryResult::Nodes(
            store
                .list_nodes(
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
        Query::Node(id) => QueryResult::Node(store.node(tenant, id).await?),
        Query::Search { text, limit } => {
            QueryResult::Search(store.search_nodes(tenant, &text, None, limit).await?)
        }
        Query::Tenants => QueryResult::Tenants(store.tenants().await?),
        Query::LocaleCoverage => {
            let (total_nodes, locales) = store.locale_coverage(tenant).await?;
            QueryResult::LocaleCoverage(Coverage {
                total_nodes,
                locales,
            })
        }
        Query::OutboxCounts => QueryResult::OutboxCounts(
            store.outbox_counts().await?,
            store.oldest_pending_at().await?,
        ),
        Query::Orders {
            status,
            offset,
            limit,
        } => QueryResult::Orders(
            store
                .list_orders(
                    tenant,
                    &OrderFilter {
                        status: Some(status),
                        offset,
                        limit,
                        ..Default::default()
                    },
                )
                .await?,
        ),
        Query::Order(id) => {
            let order = store.order(tenant, id).await?;
            let events = if order.is_some() {
                store.order_events(tenant, id).await?
            } else {
                Vec::new()
            };
            QueryResult::Order(order, events)
        }
        Query::Products {
            low_only,
            offset,
            limit,
        } => QueryResult::Products(
            store
                .list_products(
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
            store
                .list_events(&EventFilter {
                    tenant_id: Some(tenant),
                    before_seq,
                    newest_first: true,
                    limit,
                    ..Default::default()
                })
                .await?,
        ),
        Query::DeadLetters => QueryResult::Events(
            store
                .list_events(&EventFilter {
                    tenant_id: Some(tenant),
                    status: Some("failed".into()),
                    limit: 10_000,
                    ..Default::default()
                })
                .await?,
        ),
        Query::OrderStats => {
            let midnight = chrono::Utc::now()
                .date_naive()
                .and_hms_opt(0, 0, 0)
                .map(|t| t.and_utc())
                .unwrap_or_else(chrono::Utc::now);
            QueryResult::OrderStats(store.order_stats(tenant, midnight).await?)
        }
        Query::AuditLog {
            offset,
            limit,
            filter,
        } => {
            store
                .authorize_read(
                    actor,
                    Permission::new("audit", "read"),
                    "read the audit log",
                )
                .await?;
            let page = store
                .audit_log_matching(offset, limit.clamp(1, 1_000), &filter)
                .await?;
            let tenants = store
                .tenants()
                .await?
                .into_iter()
                .map(|t| (t.id, t.slug))
                .collect();
            QueryResult::AuditLog(page, tenants)
        }
        Query::Staff => {
            store
                .authorize_read(actor, Permission::new("staff", "read"), "list staff")
                .await?;
            let mut staff = store.staff_list().await?;
            // The console never needs a password hash.
            for s in &mut staff {
                s.password_hash = None;
            }
            QueryResult::Staff(staff)
        }
    })
}

/// Re-queues one dead letter of the tenant, or all of them.
async fn retry(
    store: &Store,
    tenant: rustok_domain::TenantId,
    event: Option<rustok_domain::EventId>,
) -> Result<u64, StoreError> {
    let ids: Vec<rustok_domain::EventId> = match event {
        Some(id) => vec![id],
        None => store
            .list_events(&EventFilter {
                tenant_id: Some(tenant),
                status: Some("failed".into()),
                limit: 100_000,
                ..Default::default()
            })
            .await?
            .into_iter()
            .map(|e| e.envelope.id)
            .collect(),
    };
    if ids.is_empty() {
        return Ok(0);
    }
    store.retry_dead_letters(Some(&ids)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustok_domain::commerce::OrderStatus;
    use rustok_domain::rbac::Role;
    use rustok_domain::staff::StaffDraft;
    use rustok_domain::{Command, DomainError, Locale, OrderId, StaffId, TenantId};

    /// Orders are the store's to refuse: a session (local or over SSH, both answer queries
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
                    offset: 0,
                    limit: 10,
                },
                Query::Order(OrderId::new_v7()),
                Query::OrderStats,
            ]
        };
        for q in order_queries() {
            match query_store(&store, tenant, "ed", q.clone()).await {
                Err(StoreError::Domain(DomainError::PermissionDenied { reason })) => {
                    assert_eq!(reason, "editor cannot read orders (needs order:read)")
                }
                other => panic!("{q:?} as an editor: {other:?}"),
            }
            assert!(
                query_store(&store, tenant, "mo", q.clone()).await.is_ok(),
                "{q:?} as a manager"
            );
        }
        let stock = Query::Products {
            low_only: false,
            offset: 0,
            limit: 10,
        };
        assert!(query_store(&store, tenant, "ed", stock).await.is_ok());
    }
}
