//! The bulk path for large data sets (`rustok seed --demo --scale N`): the same domain
//! decisions as the action queue — every node and order is created by the domain and every
//! event envelope validated — but written in large transactions straight through the
//! database's own interface, so a million events take seconds instead of a million round
//! trips. On SQLite, prepared single-row INSERTs through SQLite's C API on the pooled
//! connection's own handle, while another thread decides the next batch (`bulk/sqlite.rs`);
//! on PostgreSQL, one `INSERT … SELECT FROM UNNEST(column arrays)` per table through sqlx.

mod sqlite;

use crate::commerce::products_with_skus;
use crate::{Backend, Store, StoreError, outbox};
use chrono::{DateTime, Duration, SubsecRound, Utc};
use rustok_domain::commerce::{Order, OrderDraft, Product};
use rustok_domain::content::{BodyFormat, Node, NodeDraft, NodeKind};
use rustok_domain::event::{DomainEvent, EnvelopeMeta, EventEnvelope};
use rustok_domain::{EventId, Locale, NodeId, OrderId, TenantId};
use sea_orm::sqlx;
use std::sync::Arc;
use uuid::Uuid;

/// Nodes or orders per transaction.
const TX_ROWS: u64 = 20_000;

/// Nodes and orders the PostgreSQL path decides at a time before turning them into cells.
const PG_DECIDE_ROWS: u64 = 250;

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

impl BulkReport {
    fn add(&mut self, other: BulkReport) {
        self.nodes += other.nodes;
        self.orders += other.orders;
        self.events += other.events;
        self.rows += other.rows;
    }
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

/// What the seed decides from: the same for every batch, so batches can be decided on a
/// thread of their own.
struct Plan {
    tenant: TenantId,
    /// This run's mark in the nodes' slugs (`n-<run>-<i>`), so seeding a tenant again adds
    /// rows instead of colliding with the last run's slugs.
    run: String,
    /// Row `i` (its node, its order and their events) happens at `start + i` seconds.
    start: DateTime<Utc>,
    en: Locale,
    catalog: Vec<Product>,
}

/// The domain's decisions for one transaction: the nodes and orders `Node::create` and
/// `Order::create` made, and their events (envelopes validated) in the order they were
/// decided, which is their order in the outbox.
struct Batch {
    nodes: Vec<Node>,
    orders: Vec<Order>,
    events: Vec<EventEnvelope>,
}

impl Batch {
    /// What writing this batch adds: each node is a node row, its translation and its search
    /// entry; each order an order row and its items; each event an outbox row.
    fn report(&self) -> BulkReport {
        let items: usize = self.orders.iter().map(|o| o.items.len()).sum();
        let (nodes, orders, events) = (self.nodes.len(), self.orders.len(), self.events.len());
        BulkReport {
            nodes: nodes as u64,
            orders: orders as u64,
            events: events as u64,
            rows: (nodes * 3 + orders + items + events) as u64,
        }
    }
}

impl Plan {
    /// Rows `from..to`: node `i` and order `i` with their events, decided by the domain as the
    /// action queue's commands would decide them.
    fn decide(&self, from: u64, to: u64) -> Result<Batch, StoreError> {
        let rows = (to - from) as usize;
        let mut batch = Batch {
            nodes: Vec::with_capacity(rows),
            orders: Vec::with_capacity(rows),
            events: Vec::with_capacity(2 * rows),
        };
        let tenant = self.tenant;
        for i in from..to {
            let at = self.start + Duration::seconds(i as i64);
            let title = title(i);
            let body = format!("# {title}\n\nSeeded body {i}.");
            let (node, ev) = Node::create(
                tenant,
                NodeDraft {
                    id: NodeId::new_v7(),
                    kind: [NodeKind::Article, NodeKind::Post, NodeKind::Page][(i % 3) as usize],
                    locale: self.en.clone(),
                    title,
                    slug: Some(format!("n-{}-{i}", self.run)),
                    excerpt: None,
                    body,
                    format: BodyFormat::Markdown,
                },
                "seed",
                at,
            )?;
            for e in &ev {
                batch
                    .events
                    .push(envelope(e, tenant, node.id.as_uuid(), at)?);
            }
            batch.nodes.push(node);
            let product = &self.catalog[(i % self.catalog.len() as u64) as usize];
            let sku = product.variants[0].sku.clone();
            let (order, ev): (Order, Vec<DomainEvent>) = Order::create(
                tenant,
                OrderDraft {
                    id: OrderId::new_v7(),
                    customer: Some(format!("customer{}@example.com", i % 997)),
                    items: vec![(sku, 1 + (i % 3) as i64)],
                },
                &self.catalog,
                at,
            )?;
            for e in &ev {
                batch
                    .events
                    .push(envelope(e, tenant, order.id.as_uuid(), at)?);
            }
            batch.orders.push(order);
        }
        Ok(batch)
    }
}

/// One cell of a PostgreSQL bulk row. Rows are kept as flat vectors of cells per table and
/// turned into one array per column.
enum Cell {
    Uuid(Uuid),
    OptUuid(Option<Uuid>),
    Text(String),
    OptText(Option<String>),
    I64(i64),
    I32(i32),
    At(DateTime<Utc>),
    OptAt(Option<DateTime<Utc>>),
}

/// The rows of one table written by one bulk transaction.
struct Table {
    name: &'static str,
    cols: &'static [&'static str],
    cells: Vec<Cell>,
}

impl Table {
    fn new(name: &'static str, cols: &'static [&'static str], rows: usize) -> Table {
        Table {
            name,
            cols,
            cells: Vec::with_capacity(rows * cols.len()),
        }
    }

    fn rows(&self) -> usize {
        self.cells.len() / self.cols.len()
    }

    fn push<const N: usize>(&mut self, row: [Cell; N]) {
        debug_assert_eq!(N, self.cols.len(), "{}", self.name);
        self.cells.extend(row);
    }
}

const NODE_COLS: &[&str] = &[
    "id",
    "tenant_id",
    "kind",
    "status",
    "version",
    "source_locale",
    "author",
    "created_at",
    "updated_at",
    "published_at",
    "archived_at",
];
const TRANSLATION_COLS: &[&str] = &[
    "node_id",
    "locale",
    "tenant_id",
    "title",
    "slug",
    "excerpt",
    "body",
    "format",
    "updated_at",
];
const ORDER_COLS: &[&str] = &[
    "id",
    "tenant_id",
    "customer",
    "status",
    "total_amount",
    "currency",
    "version",
    "placed_at",
    "updated_at",
    "confirmed_at",
    "paid_at",
    "shipped_at",
    "delivered_at",
    "cancelled_at",
    "carrier",
    "tracking_number",
    "cancel_reason",
    "payment_reference",
];
const ITEM_COLS: &[&str] = &[
    "order_id",
    "position",
    "tenant_id",
    "sku",
    "title",
    "unit_amount",
    "currency",
    "quantity",
];
const OUTBOX_COLS: &[&str] = &[
    "id",
    "tenant_id",
    "event_type",
    "schema_version",
    "aggregate_type",
    "aggregate_id",
    "correlation_id",
    "causation_id",
    "actor",
    "occurred_at",
    "payload",
    "status",
    "attempts",
    "next_attempt_ms",
];
const SEARCH_COLS: &[&str] = &["title", "excerpt", "body", "tenant_id", "node_id", "locale"];

/// One transaction's PostgreSQL rows: nodes, translations, orders, items and events (the
/// search index there is an expression index on the translations).
struct PgTables {
    nodes: Table,
    translations: Table,
    orders: Table,
    items: Table,
    events: Table,
}

impl PgTables {
    fn new(rows: usize) -> PgTables {
        PgTables {
            nodes: Table::new("nodes", NODE_COLS, rows),
            translations: Table::new("node_translations", TRANSLATION_COLS, rows),
            orders: Table::new("orders", ORDER_COLS, rows),
            items: Table::new("order_items", ITEM_COLS, rows),
            events: Table::new("outbox", OUTBOX_COLS, 2 * rows),
        }
    }

    fn into_vec(self) -> Vec<Table> {
        vec![
            self.nodes,
            self.translations,
            self.orders,
            self.items,
            self.events,
        ]
    }

    /// Appends a batch's rows (a small batch, still in the cache).
    fn push(&mut self, batch: Batch) {
        let PgTables {
            nodes,
            translations,
            orders,
            items,
            events,
        } = self;
        for node in batch.nodes {
            let src = node.source().clone();
            nodes.push([
                Cell::Uuid(node.id.as_uuid()),
                Cell::Uuid(node.tenant_id.as_uuid()),
                Cell::Text(node.kind.as_str().into()),
                Cell::Text(node.status.as_str().into()),
                Cell::I64(node.version),
                Cell::Text(node.source_locale.to_string()),
                Cell::Text(node.author),
                Cell::At(node.created_at),
                Cell::At(node.updated_at),
                Cell::OptAt(node.published_at),
                Cell::OptAt(node.archived_at),
            ]);
            translations.push([
                Cell::Uuid(node.id.as_uuid()),
                Cell::Text(src.locale.to_string()),
                Cell::Uuid(node.tenant_id.as_uuid()),
                Cell::Text(src.title),
                Cell::Text(src.slug),
                Cell::OptText(src.excerpt),
                Cell::Text(src.body),
                Cell::Text(src.format.as_str().into()),
                Cell::At(src.updated_at),
            ]);
        }
        for order in batch.orders {
            for (p, it) in order.items.into_iter().enumerate() {
                items.push([
                    Cell::Uuid(order.id.as_uuid()),
                    Cell::I32(i32::try_from(p).unwrap_or(i32::MAX)),
                    Cell::Uuid(order.tenant_id.as_uuid()),
                    Cell::Text(it.sku),
                    Cell::Text(it.title),
                    Cell::I64(it.unit_price.amount),
                    Cell::Text(it.unit_price.currency.code().into()),
                    Cell::I64(it.quantity),
                ]);
            }
            orders.push([
                Cell::Uuid(order.id.as_uuid()),
                Cell::Uuid(order.tenant_id.as_uuid()),
                Cell::OptText(order.customer),
                Cell::Text(order.status.as_str().into()),
                Cell::I64(order.total.amount),
                Cell::Text(order.total.currency.code().into()),
                Cell::I64(order.version),
                Cell::At(order.placed_at),
                Cell::At(order.updated_at),
                Cell::OptAt(order.confirmed_at),
                Cell::OptAt(order.paid_at),
                Cell::OptAt(order.shipped_at),
                Cell::OptAt(order.delivered_at),
                Cell::OptAt(order.cancelled_at),
                Cell::OptText(order.carrier),
                Cell::OptText(order.tracking_number),
                Cell::OptText(order.cancel_reason),
                Cell::OptText(order.payment_reference),
            ]);
        }
        for e in batch.events {
            events.push([
                Cell::Uuid(e.id.as_uuid()),
                Cell::Uuid(e.tenant_id.as_uuid()),
                Cell::Text(e.event_type),
                Cell::I32(i32::from(e.schema_version)),
                Cell::Text(e.aggregate_type),
                Cell::Uuid(e.aggregate_id),
                Cell::Uuid(e.correlation_id),
                Cell::OptUuid(e.causation_id),
                Cell::Text(e.actor),
                Cell::At(e.occurred_at),
                Cell::Text(e.payload.to_string()),
                Cell::Text(outbox::PENDING.into()),
                Cell::I32(0),
                Cell::I64(0),
            ]);
        }
    }
}

fn sqlx_err(e: sqlx::Error) -> StoreError {
    sea_orm::DbErr::Exec(sea_orm::RuntimeErr::SqlxError(Arc::new(e))).into()
}

/// The PostgreSQL array type of a column, from its first cell.
fn pg_array_type(c: &Cell) -> &'static str {
    match c {
        Cell::Uuid(_) | Cell::OptUuid(_) => "uuid[]",
        Cell::Text(_) | Cell::OptText(_) => "text[]",
        Cell::I64(_) => "int8[]",
        Cell::I32(_) => "int4[]",
        Cell::At(_) | Cell::OptAt(_) => "timestamptz[]",
    }
}

/// Writes the tables on PostgreSQL: one `INSERT … SELECT FROM UNNEST(arrays)` per table, each
/// column bound as one array, all in one transaction.
async fn write_postgres(pool: &sqlx::PgPool, tables: Vec<Table>) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    for table in tables {
        let width = table.cols.len();
        let rows = table.rows();
        if rows == 0 {
            continue;
        }
        let types: Vec<&str> = table.cells[..width].iter().map(pg_array_type).collect();
        let mut columns: Vec<Vec<Cell>> = (0..width).map(|_| Vec::with_capacity(rows)).collect();
        for (i, cell) in table.cells.into_iter().enumerate() {
            columns[i % width].push(cell);
        }
        let args: Vec<String> = types
            .iter()
            .enumerate()
            .map(|(i, t)| format!("${}::{t}", i + 1))
            .collect();
        let sql = format!(
            "INSERT INTO {} ({}) SELECT * FROM UNNEST({})",
            table.name,
            table.cols.join(", "),
            args.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (column, ty) in columns.into_iter().zip(types) {
            q = match ty {
                "uuid[]" => q.bind(
                    column
                        .into_iter()
                        .map(|c| match c {
                            Cell::Uuid(v) => Some(v),
                            Cell::OptUuid(v) => v,
                            _ => None,
                        })
                        .collect::<Vec<Option<Uuid>>>(),
                ),
                "text[]" => q.bind(
                    column
                        .into_iter()
                        .map(|c| match c {
                            Cell::Text(v) => Some(v),
                            Cell::OptText(v) => v,
                            _ => None,
                        })
                        .collect::<Vec<Option<String>>>(),
                ),
                "int8[]" => q.bind(
                    column
                        .into_iter()
                        .map(|c| match c {
                            Cell::I64(v) => Some(v),
                            _ => None,
                        })
                        .collect::<Vec<Option<i64>>>(),
                ),
                "int4[]" => q.bind(
                    column
                        .into_iter()
                        .map(|c| match c {
                            Cell::I32(v) => Some(v),
                            _ => None,
                        })
                        .collect::<Vec<Option<i32>>>(),
                ),
                _ => q.bind(
                    column
                        .into_iter()
                        .map(|c| match c {
                            Cell::At(v) => Some(v),
                            Cell::OptAt(v) => v,
                            _ => None,
                        })
                        .collect::<Vec<Option<DateTime<Utc>>>>(),
                ),
            };
        }
        q.execute(&mut *tx).await?;
    }
    // Live consoles look at the outbox at once instead of at their next poll.
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(outbox::CHANNEL)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// Most nodes (and orders) one bulk seed writes: 10 million of each, 20 million events, some
/// 70 million rows, several minutes. More is refused (the timestamps are spread one second
/// apart back from now, and a count near `u64::MAX` would not fit a time span).
pub const MAX_BULK_SEED: u64 = 10_000_000;

impl Store {
    /// Writes `n` nodes and `n` orders (over the tenant's first `skus` products) with their
    /// events, `n` at most [`MAX_BULK_SEED`]. `progress(done, n)` is called after each
    /// transaction.
    ///
    /// Every node, order and event is decided by the domain and every envelope validated, as
    /// on the action queue's path; the rows are then written in transactions of [`TX_ROWS`]
    /// nodes and orders: on SQLite through SQLite's C API on one pooled connection while the
    /// next batch is decided on another thread (`bulk/sqlite.rs`), on PostgreSQL one `UNNEST`
    /// of column arrays per table. The store's durability settings are kept.
    pub async fn seed_bulk(
        &self,
        tenant: TenantId,
        n: u64,
        skus: &[String],
        mut progress: impl FnMut(u64, u64),
    ) -> Result<BulkReport, StoreError> {
        if n > MAX_BULK_SEED {
            return Err(StoreError::Config(format!(
                "seed: at most {MAX_BULK_SEED} nodes and orders at once, {n} asked"
            )));
        }
        let catalog: Vec<Product> = products_with_skus(&self.db, tenant, skus).await?;
        if catalog.is_empty() {
            return Err(StoreError::Config("seed: no products to order".into()));
        }
        let run = uuid::Uuid::now_v7().simple().to_string();
        let plan = Plan {
            tenant,
            // The random tail of a v7 id: distinct per run.
            run: run[run.len() - 8..].to_string(),
            start: Utc::now().trunc_subsecs(6) - Duration::seconds(n as i64),
            en: "en".parse()?,
            catalog,
        };
        match self.backend {
            Backend::Sqlite => {
                sqlite::seed(self.db.get_sqlite_connection_pool(), plan, n, &mut progress).await
            }
            Backend::Postgres => self.seed_postgres(plan, n, &mut progress).await,
        }
    }

    async fn seed_postgres(
        &self,
        plan: Plan,
        n: u64,
        progress: &mut impl FnMut(u64, u64),
    ) -> Result<BulkReport, StoreError> {
        let pool = self.db.get_postgres_connection_pool();
        let mut report = BulkReport::default();
        let mut done = 0;
        while done < n {
            let to = done + TX_ROWS.min(n - done);
            // Decided a few hundred rows at a time, each turned into cells while it is still
            // in the cache.
            let mut tables = PgTables::new((to - done) as usize);
            let mut from = done;
            while from < to {
                let until = (from + PG_DECIDE_ROWS).min(to);
                let batch = plan.decide(from, until)?;
                report.add(batch.report());
                tables.push(batch);
                from = until;
            }
            write_postgres(pool, tables.into_vec())
                .await
                .map_err(sqlx_err)?;
            done = to;
            progress(done, n);
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn titles_vary() {
        assert_ne!(super::title(1), super::title(2));
        assert!(super::title(123_456).ends_with("#123456"));
    }
}
