//! The bulk path for large data sets (`rustok seed --demo --scale N`): the same domain
//! decisions as the action queue — every node and order is created by the domain and every
//! event envelope validated — but written with multi-row inserts (SQLite) or column arrays
//! (PostgreSQL) in large transactions straight through the driver, so a million events take
//! seconds instead of a million round trips.

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

/// One cell of a bulk row. Rows are kept as flat vectors of cells per table and handed to
/// the driver directly (sqlx), without the ORM's per-cell `Value`s and per-statement SQL
/// building: the multi-row statement text is built once per shape and prepared once.
enum Cell {
    Uuid(Uuid),
    OptUuid(Option<Uuid>),
    /// A text shared by many rows (a tenant id, a locale): bound without copying on SQLite.
    Shared(Arc<str>),
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

/// Bound parameters per SQLite statement (its limit is 32,766).
const SQLITE_PARAMS: usize = 32_000;

fn sqlx_err(e: sqlx::Error) -> StoreError {
    sea_orm::DbErr::Exec(sea_orm::RuntimeErr::SqlxError(Arc::new(e))).into()
}

/// Writes the tables on SQLite: one multi-row INSERT per up to [`SQLITE_PARAMS`] parameters,
/// all in one `BEGIN IMMEDIATE` transaction on one connection.
async fn write_sqlite(
    conn: &mut sqlx::SqliteConnection,
    tables: Vec<Table>,
) -> Result<(), sqlx::Error> {
    use sqlx::Connection;
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    for table in tables {
        let width = table.cols.len();
        let per_stmt = (SQLITE_PARAMS / width).max(1);
        let mut left = table.rows();
        let mut cells = table.cells.into_iter();
        let mut sql = (0, String::new());
        while left > 0 {
            let n = left.min(per_stmt);
            left -= n;
            if sql.0 != n {
                let row = format!("({})", vec!["?"; width].join(","));
                let text = format!(
                    "INSERT INTO {} ({}) VALUES {}",
                    table.name,
                    table.cols.join(", "),
                    vec![row; n].join(",")
                );
                sql = (n, text);
            }
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.1.as_str()));
            for cell in cells.by_ref().take(n * width) {
                q = match cell {
                    Cell::Uuid(v) => q.bind(v),
                    Cell::OptUuid(v) => q.bind(v),
                    Cell::Shared(v) => q.bind(v),
                    Cell::Text(v) => q.bind(v),
                    Cell::OptText(v) => q.bind(v),
                    Cell::I64(v) => q.bind(v),
                    Cell::I32(v) => q.bind(v),
                    Cell::At(v) => q.bind(v),
                    Cell::OptAt(v) => q.bind(v),
                };
            }
            q.execute(&mut *tx).await?;
        }
    }
    tx.commit().await
}

/// The PostgreSQL array type of a column, from its first cell.
fn pg_array_type(c: &Cell) -> &'static str {
    match c {
        Cell::Uuid(_) | Cell::OptUuid(_) => "uuid[]",
        Cell::Shared(_) | Cell::Text(_) | Cell::OptText(_) => "text[]",
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
                            Cell::Shared(v) => Some(v.to_string()),
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
        .bind(crate::feed::CHANNEL)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

impl Store {
    /// Writes `n` nodes and `n` orders (over the tenant's first `skus` products) with their
    /// events. `progress(done, n)` is called after each transaction.
    ///
    /// Every node, order and event is decided by the domain and every envelope validated, as
    /// on the action queue's path; the rows are then written through the driver directly,
    /// in transactions of [`TX_ROWS`] nodes and orders: multi-row INSERTs of up to 32,000
    /// parameters on SQLite (prepared once per shape, on one connection), one `UNNEST` of
    /// column arrays per table on PostgreSQL. The store's durability settings are kept.
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
        // One connection for the whole seed on SQLite (the statements stay prepared on it).
        let mut sqlite = match self.backend {
            Backend::Sqlite => Some(
                self.db
                    .get_sqlite_connection_pool()
                    .acquire()
                    .await
                    .map_err(sqlx_err)?,
            ),
            Backend::Postgres => None,
        };
        // A page cache big enough for a whole transaction on this connection only (SQLite's
        // default of 2 MB spills dirty pages to the WAL mid-transaction); put back afterwards.
        // A cache size is memory, not durability: synchronous and journal mode are unchanged.
        let default_cache = match sqlite.as_mut() {
            Some(conn) => {
                let (size,): (i64,) = sqlx::query_as("PRAGMA cache_size")
                    .fetch_one(&mut **conn)
                    .await
                    .map_err(sqlx_err)?;
                sqlx::query("PRAGMA cache_size = -131072")
                    .execute(&mut **conn)
                    .await
                    .map_err(sqlx_err)?;
                Some(size)
            }
            None => None,
        };
        let result = self
            .seed_batches(tenant, n, &catalog, sqlite.as_deref_mut(), &mut progress)
            .await;
        if let (Some(conn), Some(size)) = (sqlite.as_mut(), default_cache) {
            let restore = format!("PRAGMA cache_size = {size}");
            let _ = sqlx::query(sqlx::AssertSqlSafe(restore))
                .execute(&mut **conn)
                .await;
        }
        result
    }

    async fn seed_batches(
        &self,
        tenant: TenantId,
        n: u64,
        catalog: &[Product],
        mut sqlite: Option<&mut sqlx::SqliteConnection>,
        progress: &mut impl FnMut(u64, u64),
    ) -> Result<BulkReport, StoreError> {
        let start = Utc::now().trunc_subsecs(6) - Duration::seconds(n as i64);
        let en: Locale = "en".parse()?;
        let tenant_uuid = tenant.as_uuid();
        let tenant_text: Arc<str> = Arc::from(tenant.to_string());
        let shared = |s: &str| -> Arc<str> { Arc::from(s) };
        let s_en = shared("en");
        let s_pending = shared(outbox::PENDING);
        let mut report = BulkReport::default();
        let mut done = 0;
        while done < n {
            let batch = TX_ROWS.min(n - done);
            let rows = batch as usize;
            let mut nodes = Table::new("nodes", NODE_COLS, rows);
            let mut translations = Table::new("node_translations", TRANSLATION_COLS, rows);
            let mut orders = Table::new("orders", ORDER_COLS, rows);
            let mut items = Table::new("order_items", ITEM_COLS, rows);
            let mut search = Table::new("node_search", SEARCH_COLS, rows);
            let mut events = Table::new("outbox", OUTBOX_COLS, 2 * rows);
            let mut event = |e: &DomainEvent, aggregate: Uuid, at| -> Result<(), StoreError> {
                let e = envelope(e, tenant, aggregate, at)?;
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
                    Cell::Shared(s_pending.clone()),
                    Cell::I32(0),
                    Cell::I64(0),
                ]);
                Ok(())
            };
            for i in done..done + batch {
                let at = start + Duration::seconds(i as i64);
                let t = title(i);
                let (node, ev) = Node::create(
                    tenant,
                    NodeDraft {
                        id: NodeId::new_v7(),
                        kind: [NodeKind::Article, NodeKind::Post, NodeKind::Page][(i % 3) as usize],
                        locale: en.clone(),
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
                    event(e, node.id.as_uuid(), at)?;
                }
                nodes.push([
                    Cell::Uuid(node.id.as_uuid()),
                    Cell::Uuid(tenant_uuid),
                    Cell::Shared(shared(node.kind.as_str())),
                    Cell::Shared(shared(node.status.as_str())),
                    Cell::I64(node.version),
                    Cell::Text(node.source_locale.to_string()),
                    Cell::Text(node.author.clone()),
                    Cell::At(node.created_at),
                    Cell::At(node.updated_at),
                    Cell::OptAt(node.published_at),
                    Cell::OptAt(node.archived_at),
                ]);
                let src = node.source().clone();
                let locale: Arc<str> = if src.locale == en {
                    s_en.clone()
                } else {
                    shared(src.locale.as_str())
                };
                if self.backend == Backend::Sqlite {
                    search.push([
                        Cell::Text(src.title.clone()),
                        Cell::Text(src.excerpt.clone().unwrap_or_default()),
                        Cell::Text(src.body.clone()),
                        Cell::Shared(tenant_text.clone()),
                        Cell::Text(node.id.to_string()),
                        Cell::Shared(locale.clone()),
                    ]);
                }
                translations.push([
                    Cell::Uuid(node.id.as_uuid()),
                    Cell::Shared(locale),
                    Cell::Uuid(tenant_uuid),
                    Cell::Text(src.title),
                    Cell::Text(src.slug),
                    Cell::OptText(src.excerpt),
                    Cell::Text(src.body),
                    Cell::Shared(shared(src.format.as_str())),
                    Cell::At(src.updated_at),
                ]);
                let product = &catalog[(i % catalog.len() as u64) as usize];
                let sku = product.variants[0].sku.clone();
                let (order, ev): (Order, Vec<DomainEvent>) = Order::create(
                    tenant,
                    OrderDraft {
                        id: OrderId::new_v7(),
                        customer: Some(format!("customer{}@example.com", i % 997)),
                        items: vec![(sku, 1 + (i % 3) as i64)],
                    },
                    catalog,
                    at,
                )?;
                for e in &ev {
                    event(e, order.id.as_uuid(), at)?;
                }
                for (p, it) in order.items.iter().enumerate() {
                    items.push([
                        Cell::Uuid(order.id.as_uuid()),
                        Cell::I32(i32::try_from(p).unwrap_or(i32::MAX)),
                        Cell::Uuid(tenant_uuid),
                        Cell::Text(it.sku.clone()),
                        Cell::Text(it.title.clone()),
                        Cell::I64(it.unit_price.amount),
                        Cell::Shared(shared(it.unit_price.currency.code())),
                        Cell::I64(it.quantity),
                    ]);
                }
                orders.push([
                    Cell::Uuid(order.id.as_uuid()),
                    Cell::Uuid(tenant_uuid),
                    Cell::OptText(order.customer.clone()),
                    Cell::Shared(shared(order.status.as_str())),
                    Cell::I64(order.total.amount),
                    Cell::Shared(shared(order.total.currency.code())),
                    Cell::I64(order.version),
                    Cell::At(order.placed_at),
                    Cell::At(order.updated_at),
                    Cell::OptAt(order.confirmed_at),
                    Cell::OptAt(order.paid_at),
                    Cell::OptAt(order.shipped_at),
                    Cell::OptAt(order.delivered_at),
                    Cell::OptAt(order.cancelled_at),
                    Cell::OptText(order.carrier.clone()),
                    Cell::OptText(order.tracking_number.clone()),
                    Cell::OptText(order.cancel_reason.clone()),
                    Cell::OptText(order.payment_reference.clone()),
                ]);
            }
            report.rows += (nodes.rows() * 3 + orders.rows() + items.rows() + events.rows()) as u64;
            report.nodes += nodes.rows() as u64;
            report.orders += orders.rows() as u64;
            report.events += events.rows() as u64;
            let mut tables = vec![nodes, translations, orders, items, events];
            if self.backend == Backend::Sqlite {
                tables.push(search);
            }
            match sqlite.as_deref_mut() {
                Some(conn) => write_sqlite(conn, tables).await,
                None => write_postgres(self.db.get_postgres_connection_pool(), tables).await,
            }
            .map_err(sqlx_err)?;
            done += batch;
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
