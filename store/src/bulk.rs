//! The bulk path for large data sets (`rustok seed --demo --scale N`): the same domain
//! decisions as the action queue — every node and order is created by the domain and every
//! event envelope validated — but written with multi-row inserts in large transactions, so a
//! million events take seconds instead of a million round trips.

use crate::commerce::{item_row, order_row, products_with_skus};
use crate::entity::{node, node_translation};
use crate::{Backend, Store, StoreError, outbox};
use chrono::{DateTime, Duration, SubsecRound, Utc};
use rustok_domain::commerce::{Order, OrderDraft, Product};
use rustok_domain::content::{BodyFormat, Node, NodeDraft, NodeKind};
use rustok_domain::event::{DomainEvent, EnvelopeMeta, EventEnvelope};
use rustok_domain::{EventId, NodeId, OrderId, TenantId};
use sea_orm::{ActiveValue::Set, EntityTrait, TransactionTrait, Value};

/// Rows per multi-row INSERT (well under SQLite's and PostgreSQL's parameter limits).
const CHUNK: usize = 500;
/// Nodes or orders per transaction.
const TX_ROWS: u64 = 20_000;

const WORDS: &[&str] = &[
    "coffee", "roast", "origin", "brew", "espresso", "filter", "grind", "bean", "harvest",
    "tasting", "notes", "acidity", "body", "sweet", "washed", "natural", "kettle", "guide",
];

/// What a bulk seed wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BulkReport {
    pub nodes: u64,
    pub orders: u64,
    pub events: u64,
    /// Every row written: entities, translations, items, search rows and events.
    pub rows: u64,
}

fn title(i: u64) -> String {
    let w = |k: u64| WORDS[(k % WORDS.len() as u64) as usize];
    format!("{} {} {} #{i}", w(i), w(i / 7 + 3), w(i / 31 + 5))
}

fn envelope(
    e: &DomainEvent,
    tenant: TenantId,
    aggregate: uuid::Uuid,
    at: DateTime<Utc>,
) -> Result<EventEnvelope, StoreError> {
    let env = EventEnvelope::new(
        e,
        EnvelopeMeta {
            id: EventId::new_v7(),
            tenant_id: tenant,
            aggregate_id: aggregate,
            actor: "seed".into(),
            occurred_at: at,
            correlation_id: None,
            causation_id: None,
        },
    );
    env.validate()?;
    Ok(env)
}

impl Store {
    /// Writes `n` nodes and `n` orders (over the tenant's first `skus` products) with their
    /// events. `progress(done, n)` is called after each transaction.
    pub async fn seed_bulk(
        &self,
        tenant: TenantId,
        n: u64,
        skus: &[String],
        mut progress: impl FnMut(u64, u64),
    ) -> Result<BulkReport, StoreError> {
        let catalog: Vec<Product> = products_with_skus(&self.db, tenant, skus).await?;
        if catalog.is_empty() {
            return Err(StoreError::Config("seed: no products to order".into()));
        }
        let start = Utc::now().trunc_subsecs(6) - Duration::seconds(n as i64);
        let mut report = BulkReport::default();
        let mut done = 0;
        while done < n {
            let batch = TX_ROWS.min(n - done);
            let txn = self.db.begin().await?;
            let mut nodes = Vec::with_capacity(batch as usize);
            let mut translations = Vec::with_capacity(batch as usize);
            let mut search: Vec<(NodeId, String, String)> = Vec::new();
            let mut orders = Vec::with_capacity(batch as usize);
            let mut items = Vec::new();
            let mut events = Vec::with_capacity(2 * batch as usize);
            for i in done..done + batch {
                let at = start + Duration::seconds(i as i64);
                let t = title(i);
                let (node, ev) = Node::create(
                    tenant,
                    NodeDraft {
                        id: NodeId::new_v7(),
                        kind: [NodeKind::Article, NodeKind::Post, NodeKind::Page][(i % 3) as usize],
                        locale: "en".parse()?,
                        title: t.clone(),
                        slug: Some(format!("n-{i}")),
                        excerpt: None,
                        body: format!("# {t}\n\nSeeded body {i}."),
                        format: BodyFormat::Markdown,
                    },
                    "seed",
                    at,
                )?;
                for e in &ev {
                    events.push(envelope(e, tenant, node.id.as_uuid(), at)?);
                }
                let src = node.source().clone();
                nodes.push(node::ActiveModel {
                    id: Set(node.id.as_uuid()),
                    tenant_id: Set(tenant.as_uuid()),
                    kind: Set(node.kind.as_str().into()),
                    status: Set(node.status.as_str().into()),
                    version: Set(node.version),
                    source_locale: Set(node.source_locale.to_string()),
                    author: Set(node.author.clone()),
                    created_at: Set(at),
                    updated_at: Set(at),
                    published_at: Set(None),
                    archived_at: Set(None),
                });
                search.push((node.id, src.title.clone(), src.body.clone()));
                translations.push(node_translation::ActiveModel {
                    node_id: Set(node.id.as_uuid()),
                    locale: Set(src.locale.to_string()),
                    tenant_id: Set(tenant.as_uuid()),
                    title: Set(src.title),
                    slug: Set(src.slug),
                    excerpt: Set(None),
                    body: Set(src.body),
                    format: Set(src.format.as_str().into()),
                    updated_at: Set(at),
                });
                let product = &catalog[(i % catalog.len() as u64) as usize];
                let sku = product.variants[0].sku.clone();
                let (order, ev): (Order, Vec<DomainEvent>) = Order::create(
                    tenant,
                    OrderDraft {
                        id: OrderId::new_v7(),
                        customer: Some(format!("customer{}@example.com", i % 997)),
                        items: vec![(sku, 1 + (i % 3) as i64)],
                    },
                    &catalog,
                    at,
                )?;
                for e in &ev {
                    events.push(envelope(e, tenant, order.id.as_uuid(), at)?);
                }
                items.extend(
                    order
                        .items
                        .iter()
                        .enumerate()
                        .map(|(p, it)| item_row(&order, p, it)),
                );
                orders.push(order_row(&order));
            }
            report.rows += (nodes.len() * 3 + orders.len() + items.len() + events.len()) as u64;
            report.nodes += nodes.len() as u64;
            report.orders += orders.len() as u64;
            report.events += events.len() as u64;
            for c in chunks(nodes) {
                node::Entity::insert_many(c).exec(&txn).await?;
            }
            for c in chunks(translations) {
                node_translation::Entity::insert_many(c).exec(&txn).await?;
            }
            for c in chunks(orders) {
                crate::entity::order::Entity::insert_many(c)
                    .exec(&txn)
                    .await?;
            }
            for c in chunks(items) {
                crate::entity::order_item::Entity::insert_many(c)
                    .exec(&txn)
                    .await?;
            }
            for c in events.chunks(CHUNK) {
                outbox::append(&txn, c).await?;
            }
            if self.backend == Backend::Sqlite {
                for c in search.chunks(CHUNK) {
                    let mut sql = String::from(
                        "INSERT INTO node_search (title, excerpt, body, tenant_id, node_id, locale) VALUES ",
                    );
                    let mut values: Vec<Value> = Vec::with_capacity(c.len() * 4);
                    for (k, (id, t, b)) in c.iter().enumerate() {
                        let p = k * 4;
                        if k > 0 {
                            sql.push(',');
                        }
                        sql.push_str(&format!(
                            "(${}, '', ${}, ${}, ${}, 'en')",
                            p + 1,
                            p + 2,
                            p + 3,
                            p + 4
                        ));
                        values.extend([
                            t.clone().into(),
                            b.clone().into(),
                            tenant.to_string().into(),
                            id.to_string().into(),
                        ]);
                    }
                    sea_orm::ConnectionTrait::execute_raw(&txn, self.stmt(&sql, values)).await?;
                }
            }
            txn.commit().await?;
            done += batch;
            progress(done, n);
        }
        Ok(report)
    }
}

fn chunks<T>(rows: Vec<T>) -> impl Iterator<Item = Vec<T>> {
    let mut rows = rows.into_iter().peekable();
    std::iter::from_fn(move || {
        rows.peek()?;
        Some(rows.by_ref().take(CHUNK).collect())
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn titles_vary() {
        assert_ne!(super::title(1), super::title(2));
        assert!(super::title(123_456).ends_with("#123456"));
    }
}
