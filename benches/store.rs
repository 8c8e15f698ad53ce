//! Store benchmarks, measured side by side in one run:
//! - command throughput: the order lifecycle (create, confirm, pay — each its own transaction
//!   with its outbox rows) through the action queue, against a plain rusqlite loop running the
//!   equivalent SQL with the same durability (WAL, synchronous=FULL, BEGIN IMMEDIATE): every
//!   statement the queue's commands run, each as plain SQL (`raw_rusqlite`); and, for
//!   reference, against the same loop with only the order, stock and outbox writes
//!   (`raw_rusqlite_writes_only`: no role check, no reads, no command-log or audit rows);
//! - node search over 100,000 nodes, against the same raw FTS5 query.
//!
//! Run: `cargo bench --bench store`.

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use rusqlite::{Connection, params};
use rustok::runtime::{ActionQueue, QueueOptions};
use rustok_domain::commerce::OrderCommand;
use rustok_domain::commerce::{InventoryPolicy, OrderDraft, ProductDraft};
use rustok_domain::read::Outcome;
use rustok_domain::{
    Actor, Command, CommandEnvelope, Currency, Money, OrderId, ProductId, Tenant, TenantId,
    VariantId,
};
use rustok_store::Store;
use std::time::{Duration, Instant};
use uuid::Uuid;

struct Fixture {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    store: Store,
    queue: ActionQueue,
    tenant: Tenant,
    actor: Actor,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.db");
    let store = Store::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let (queue, _) = ActionQueue::spawn(store.clone(), None, QueueOptions::default());
    let actor = Actor::new("owner");
    let id = TenantId::new_v7();
    let cmd = Command::CreateTenant {
        id,
        slug: "bench".into(),
        name: "Bench".into(),
        default_locale: "en".parse().unwrap(),
    };
    queue
        .execute(CommandEnvelope::new(id, actor.clone(), cmd))
        .await
        .unwrap();
    let tenant = store.tenant_by_slug("bench").await.unwrap().unwrap();
    let product = ProductDraft {
        id: ProductId::new_v7(),
        variant_id: VariantId::new_v7(),
        locale: "en".parse().unwrap(),
        title: "Mug".into(),
        handle: None,
        status: None,
        sku: "MUG".into(),
        variant_title: None,
        price: Money::new(1250, Currency::USD),
        inventory_policy: InventoryPolicy::Deny,
        stock: 1_000_000_000,
        low_stock_threshold: None,
    };
    queue
        .execute(CommandEnvelope::new(
            tenant.id,
            actor.clone(),
            Command::CreateProduct(product),
        ))
        .await
        .unwrap();
    Fixture {
        _dir: dir,
        path,
        store,
        queue,
        tenant,
        actor,
    }
}

async fn lifecycle(f: &Fixture) {
    let run = |c| {
        f.queue
            .execute(CommandEnvelope::new(f.tenant.id, f.actor.clone(), c))
    };
    let id = OrderId::new_v7();
    run(Command::CreateOrder(OrderDraft {
        id,
        customer: None,
        items: vec![("MUG".into(), 1)],
    }))
    .await
    .unwrap();
    run(Command::Order(OrderCommand::ConfirmOrder {
        id,
        expected_version: None,
    }))
    .await
    .unwrap();
    let paid = run(Command::Order(OrderCommand::PayOrder {
        expected_version: None,
        id,
        card_token: "tok_visa".into(),
    }))
    .await
    .unwrap();
    assert!(matches!(paid.outcome, Outcome::Order(_)));
}

/// How long the command-log texts of the last create, confirm and pay are.
async fn logged_lengths(store: &Store) -> [usize; 3] {
    use sea_orm::{ConnectionTrait, Statement};
    let mut out = [0; 3];
    for (i, command) in ["create_order", "confirm_order", "pay_order"]
        .iter()
        .enumerate()
    {
        let row = store
            .connection()
            .query_one_raw(Statement::from_sql_and_values(
                sea_orm::DbBackend::Sqlite,
                "SELECT length(applied) AS n FROM command_log WHERE command = ?1 \
                 ORDER BY committed_at DESC LIMIT 1",
                [(*command).into()],
            ))
            .await
            .unwrap()
            .unwrap();
        out[i] = usize::try_from(row.try_get::<i64>("", "n").unwrap()).unwrap();
    }
    out
}

fn outbox(
    tx: &Connection,
    cached: bool,
    tenant: &[u8],
    aggregate: &[u8],
    kind: &str,
    payload: &str,
) {
    let id = Uuid::now_v7();
    run(tx, cached,
        "INSERT INTO outbox (id, tenant_id, event_type, schema_version, aggregate_type, aggregate_id,
            correlation_id, causation_id, actor, occurred_at, payload, status, attempts, next_attempt_ms)
         VALUES (?1, ?2, ?3, 1, 'order', ?4, ?1, NULL, 'owner', ?5, ?6, 'pending', 0, 0)",
        params![id.as_bytes().as_slice(), tenant, kind, aggregate, Utc::now().to_rfc3339(), payload],
    )
    .unwrap();
}

/// The three commands' order, stock and outbox writes alone, as plain SQL.
fn raw_writes_only(conn: &mut Connection, tenant: &[u8], variant: &[u8]) {
    let order = Uuid::now_v7();
    let o = order.as_bytes().as_slice();
    let now = Utc::now().to_rfc3339();
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .unwrap();
    tx.execute(
        "INSERT INTO orders (id, tenant_id, status, total_amount, currency, version, placed_at, updated_at)
         VALUES (?1, ?2, 'pending', 1250, 'USD', 1, ?3, ?3)",
        params![o, tenant, now],
    )
    .unwrap();
    tx.execute(
        "INSERT INTO order_items (order_id, position, tenant_id, sku, title, unit_amount, currency, quantity)
         VALUES (?1, 0, ?2, 'MUG', 'Mug', 1250, 'USD', 1)",
        params![o, tenant],
    )
    .unwrap();
    outbox(
        &tx,
        false,
        tenant,
        o,
        "order.placed",
        r#"{"items":[],"total":{"amount":1250,"currency":"USD"},"version":1}"#,
    );
    tx.commit().unwrap();

    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .unwrap();
    let (on_hand, reserved): (i64, i64) = tx
        .query_row(
            "SELECT on_hand, reserved FROM variants WHERE id = ?1",
            params![variant],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    tx.execute(
        "UPDATE variants SET reserved = reserved + 1 WHERE id = ?1 AND on_hand = ?2 AND reserved = ?3",
        params![variant, on_hand, reserved],
    )
    .unwrap();
    tx.execute("UPDATE orders SET status = 'confirmed', version = 2, confirmed_at = ?2 WHERE id = ?1 AND version = 1", params![o, now])
        .unwrap();
    outbox(
        &tx,
        false,
        tenant,
        o,
        "order.status_changed",
        r#"{"from":"pending","to":"confirmed","version":2}"#,
    );
    outbox(
        &tx,
        false,
        tenant,
        o,
        "inventory.updated",
        r#"{"sku":"MUG","delta":0}"#,
    );
    tx.commit().unwrap();

    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .unwrap();
    let (on_hand, reserved): (i64, i64) = tx
        .query_row(
            "SELECT on_hand, reserved FROM variants WHERE id = ?1",
            params![variant],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    tx.execute(
        "UPDATE variants SET on_hand = on_hand - 1, reserved = reserved - 1 WHERE id = ?1 AND on_hand = ?2 AND reserved = ?3",
        params![variant, on_hand, reserved],
    )
    .unwrap();
    tx.execute("UPDATE orders SET status = 'paid', version = 3, paid_at = ?2 WHERE id = ?1 AND version = 2", params![o, now]).unwrap();
    outbox(
        &tx,
        false,
        tenant,
        o,
        "payment.succeeded",
        r#"{"amount":{"amount":1250,"currency":"USD"},"reference":"ch"}"#,
    );
    outbox(
        &tx,
        false,
        tenant,
        o,
        "order.status_changed",
        r#"{"from":"confirmed","to":"paid","version":3}"#,
    );
    outbox(
        &tx,
        false,
        tenant,
        o,
        "inventory.updated",
        r#"{"sku":"MUG","delta":-1}"#,
    );
    tx.commit().unwrap();
}

/// What the raw loop needs to run the same statements as the action queue.
struct Raw<'a> {
    /// Statements kept prepared (`prepare_cached`, as the store keeps its own), or prepared
    /// for each call (`execute`, `query_row`: the plainest loop).
    cached: bool,
    tenant: &'a [u8],
    variant: &'a [u8],
    /// The command-log texts, as long as the ones the store writes for these three commands
    /// (the outcome with the order and its events, as JSON): made once, outside the loop.
    logged: [String; 3],
}

fn logged_text(len: usize) -> String {
    let mut s = String::from(r#"{"outcome":{"order":{"#);
    while s.len() + 2 < len {
        s.push_str(r#""k":"v","#);
    }
    s.truncate(len.saturating_sub(3));
    s.push_str("}}}");
    s
}

/// The role check and the tenant, as the store reads them in each command's transaction.
fn raw_authorize(tx: &Connection, cached: bool, tenant: &[u8]) {
    let active: bool = one(
        tx,
        cached,
        "SELECT tenants.*, staff.role AS staff_role, staff.active AS staff_active \
             FROM tenants LEFT JOIN staff ON staff.handle = ?1 WHERE tenants.id = ?2",
        params!["owner", tenant],
        |r| r.get("staff_active"),
    )
    .unwrap();
    assert!(active);
}

/// The order and its lines in one query, as the store loads an order.
fn raw_load_order(c: &Connection, cached: bool, tenant: &[u8], order: &[u8]) -> i64 {
    one(
        c,
        cached,
        "SELECT orders.*, order_items.* FROM orders LEFT JOIN order_items \
         ON orders.id = order_items.order_id \
         WHERE orders.id = ?1 AND orders.tenant_id = ?2 \
           AND (order_items.tenant_id IS NULL OR order_items.tenant_id = ?2) \
         ORDER BY order_items.position",
        params![order, tenant],
        |r| r.get("version"),
    )
    .unwrap()
}

/// The variants with the order's SKUs, as the store reads them before moving stock.
fn raw_variants(tx: &Connection, cached: bool, tenant: &[u8]) -> (Vec<u8>, i64, i64) {
    one(
        tx,
        cached,
        "SELECT * FROM variants WHERE tenant_id = ?1 AND sku IN (?2) ORDER BY id",
        params![tenant, "MUG"],
        |r| Ok((r.get("id")?, r.get("on_hand")?, r.get("reserved")?)),
    )
    .unwrap()
}

/// The command-log and audit rows every command writes with its changes.
fn raw_bookkeeping(tx: &Connection, cached: bool, tenant: &[u8], command: &str, logged: &str) {
    let id = Uuid::now_v7();
    let now = Utc::now().to_rfc3339();
    run(tx, cached,
        "INSERT INTO command_log (command_id, command, applied, committed_at) VALUES (?1, ?2, ?3, ?4)",
        params![id.as_bytes().as_slice(), command, logged, now],
    )
    .unwrap();
    run(tx, cached,
        "INSERT INTO audit_log (at, actor, command, command_id, tenant_id, session, outcome, reason) \
         VALUES (?1, 'owner', ?2, ?3, ?4, 'session-bench', 'ok', NULL)",
        params![now, command, id.as_bytes().as_slice(), tenant],
    )
    .unwrap();
}

/// The same three commands as plain SQL: every statement the action queue's commands run —
/// the role check and tenant, the catalog or the order and its stock, the writes, the outbox,
/// command-log and audit rows, and the payment's reads before the gateway — without the
/// queue, the ORM or the domain.
fn raw_lifecycle(conn: &mut Connection, raw: &Raw<'_>) {
    let tenant = raw.tenant;
    let order = Uuid::now_v7();
    let o = order.as_bytes().as_slice();
    let now = Utc::now().to_rfc3339();
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .unwrap();
    raw_authorize(&tx, raw.cached, tenant);
    // The catalog the order is placed against: products, their translations, their variants.
    let product: Vec<u8> = one(
        &tx,
        raw.cached,
        "SELECT * FROM products WHERE tenant_id = ?1 AND id IN \
             (SELECT product_id FROM variants WHERE tenant_id = ?1 AND sku IN (?2)) ORDER BY id",
        params![tenant, "MUG"],
        |r| r.get("id"),
    )
    .unwrap();
    one(
        &tx,
        raw.cached,
        "SELECT * FROM product_translations WHERE tenant_id = ?1 AND product_id IN (?2)",
        params![tenant, product],
        |r| r.get::<_, String>("title"),
    )
    .unwrap();
    one(
        &tx,
        raw.cached,
        "SELECT * FROM variants WHERE tenant_id = ?1 AND product_id IN (?2)",
        params![tenant, product],
        |r| r.get::<_, i64>("on_hand"),
    )
    .unwrap();
    run(&tx, raw.cached,
        "INSERT INTO orders (id, tenant_id, status, total_amount, currency, version, placed_at, updated_at)
         VALUES (?1, ?2, 'pending', 1250, 'USD', 1, ?3, ?3)",
        params![o, tenant, now],
    )
    .unwrap();
    run(&tx, raw.cached,
        "INSERT INTO order_items (order_id, position, tenant_id, sku, title, unit_amount, currency, quantity)
         VALUES (?1, 0, ?2, 'MUG', 'Mug', 1250, 'USD', 1)",
        params![o, tenant],
    )
    .unwrap();
    outbox(
        &tx,
        raw.cached,
        tenant,
        o,
        "order.placed",
        r#"{"items":[],"total":{"amount":1250,"currency":"USD"},"version":1}"#,
    );
    raw_bookkeeping(&tx, raw.cached, tenant, "create_order", &raw.logged[0]);
    tx.commit().unwrap();

    raw_transition(
        conn,
        raw,
        o,
        &now,
        (0, 1),
        "status = 'confirmed', confirmed_at = ?2",
        &[
            (
                "order.status_changed",
                r#"{"from":"pending","to":"confirmed","version":2}"#,
            ),
            ("inventory.updated", r#"{"sku":"MUG","delta":0}"#),
        ],
        ("confirm_order", &raw.logged[1]),
    );

    // Paying: the role and the order, read before the gateway is asked (no transaction).
    let role: String = one(
        conn,
        raw.cached,
        "SELECT * FROM staff WHERE handle = ?1",
        params!["owner"],
        |r| r.get("role"),
    )
    .unwrap();
    assert_eq!(role, "owner");
    raw_load_order(conn, raw.cached, tenant, o);
    raw_transition(
        conn,
        raw,
        o,
        &now,
        (-1, -1),
        "status = 'paid', paid_at = ?2, payment_reference = 'ch'",
        &[
            (
                "payment.succeeded",
                r#"{"amount":{"amount":1250,"currency":"USD"},"reference":"ch"}"#,
            ),
            (
                "order.status_changed",
                r#"{"from":"confirmed","to":"paid","version":3}"#,
            ),
            ("inventory.updated", r#"{"sku":"MUG","delta":-1}"#),
        ],
        ("pay_order", &raw.logged[2]),
    );
}

/// One order transition in its own transaction, as the store runs confirm and pay: the role
/// check, the order and its stock, the guarded stock and order updates (`set` names what the
/// transition changes; `?2` is the time), the outbox rows, the command-log and audit rows.
#[allow(clippy::too_many_arguments)]
fn raw_transition(
    conn: &mut Connection,
    raw: &Raw<'_>,
    o: &[u8],
    now: &str,
    (on_hand_by, reserved_by): (i64, i64),
    set: &str,
    events: &[(&str, &str)],
    (command, logged): (&str, &str),
) {
    let (tenant, variant) = (raw.tenant, raw.variant);
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .unwrap();
    raw_authorize(&tx, raw.cached, tenant);
    let version = raw_load_order(&tx, raw.cached, tenant, o);
    let (_, on_hand, reserved) = raw_variants(&tx, raw.cached, tenant);
    run(&tx, raw.cached,
        "UPDATE variants SET on_hand = ?2, reserved = ?3 WHERE id = ?1 AND tenant_id = ?4 AND on_hand = ?5 AND reserved = ?6",
        params![variant, on_hand + on_hand_by, reserved + reserved_by, tenant, on_hand, reserved],
    )
    .unwrap();
    run(
        &tx,
        raw.cached,
        &format!(
            "UPDATE orders SET {set}, version = ?3, updated_at = ?2 \
             WHERE id = ?1 AND tenant_id = ?4 AND version = ?5"
        ),
        params![o, now, version + 1, tenant, version],
    )
    .unwrap();
    for (kind, payload) in events {
        outbox(&tx, raw.cached, tenant, o, kind, payload);
    }
    raw_bookkeeping(&tx, raw.cached, tenant, command, logged);
    tx.commit().unwrap();
}

/// A statement, prepared for this call or taken from the connection's cache.
fn run(
    c: &Connection,
    cached: bool,
    sql: &str,
    p: impl rusqlite::Params,
) -> rusqlite::Result<usize> {
    if cached {
        c.prepare_cached(sql)?.execute(p)
    } else {
        c.execute(sql, p)
    }
}

/// A one-row query, prepared for this call or taken from the connection's cache.
fn one<T>(
    c: &Connection,
    cached: bool,
    sql: &str,
    p: impl rusqlite::Params,
    f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    if cached {
        c.prepare_cached(sql)?.query_row(p, f)
    } else {
        c.query_row(sql, p, f)
    }
}

fn raw_connection(path: &std::path::Path) -> Connection {
    let conn = Connection::open(path).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "FULL").unwrap();
    conn.pragma_update(None, "foreign_keys", "ON").unwrap();
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    conn
}

fn throughput(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let ours = rt.block_on(fixture());
    let raw = rt.block_on(fixture());
    let mut conn = raw_connection(&raw.path);
    let tenant = raw.tenant.id.as_uuid();
    let variant: Vec<u8> = conn
        .query_row("SELECT id FROM variants LIMIT 1", [], |r| r.get(0))
        .unwrap();
    let mut g = c.benchmark_group("order_lifecycle_3_commands");
    g.sample_size(20);
    g.bench_function("action_queue", |b| b.iter(|| rt.block_on(lifecycle(&ours))));
    // The command-log texts as long as ours: measured on our side's first lifecycle.
    rt.block_on(lifecycle(&ours));
    let logged = rt.block_on(logged_lengths(&ours.store)).map(logged_text);
    let mut raw_args = Raw {
        cached: false,
        tenant: tenant.as_bytes(),
        variant: &variant,
        logged,
    };
    g.bench_function("raw_rusqlite", |b| {
        b.iter(|| raw_lifecycle(&mut conn, &raw_args))
    });
    raw_args.cached = true;
    g.bench_function("raw_rusqlite_cached", |b| {
        b.iter(|| raw_lifecycle(&mut conn, &raw_args))
    });
    g.bench_function("raw_rusqlite_writes_only", |b| {
        b.iter(|| raw_writes_only(&mut conn, tenant.as_bytes(), &variant))
    });
    g.finish();
}

fn search(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let f = rt.block_on(fixture());
    let started = Instant::now();
    let report = rt
        .block_on(
            f.store
                .seed_bulk(f.tenant.id, 100_000, &["MUG".to_string()], |_, _| {}),
        )
        .unwrap();
    eprintln!(
        "seeded {} nodes for the search bench in {:?}",
        report.nodes,
        started.elapsed()
    );
    let conn = raw_connection(&f.path);
    let tenant = f.tenant.id.to_string();
    let query = "\"espresso\" \"grind\"*";
    let raw_sql =
        "SELECT node_id, locale, snippet(node_search, -1, '', '', '…', 12) FROM node_search
                   WHERE node_search MATCH ?1 AND tenant_id = ?2 ORDER BY rank LIMIT 50";
    // Both sides must find the same hits with the same snippets.
    let ours: Vec<(String, String, Option<String>)> = rt
        .block_on(
            f.store
                .search_nodes(f.tenant.id, "espresso grind", None, 50),
        )
        .unwrap()
        .into_iter()
        .map(|h| (h.node_id.to_string(), h.locale.to_string(), h.snippet))
        .collect();
    let raw: Vec<(String, String, Option<String>)> = conn
        .prepare(raw_sql)
        .unwrap()
        .query_map(params![query, tenant], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(ours.len(), 50);
    // (Equal ranks may come back in either order; the hits themselves must be the same.)
    let (mut ours, mut raw) = (ours, raw);
    ours.sort();
    raw.sort();
    assert_eq!(ours, raw, "the store and the raw FTS5 query disagree");
    let mut g = c.benchmark_group("search_100k_nodes");
    g.sample_size(20);
    g.bench_function("store_search_nodes", |b| {
        b.iter(|| {
            let hits = rt
                .block_on(
                    f.store
                        .search_nodes(f.tenant.id, "espresso grind", None, 50),
                )
                .unwrap();
            assert!(!hits.is_empty());
        })
    });
    g.bench_function("raw_fts5", |b| {
        b.iter(|| {
            let mut stmt = conn.prepare_cached(raw_sql).unwrap();
            let n = stmt
                .query_map(params![query, tenant], |r| r.get::<_, String>(0))
                .unwrap()
                .count();
            assert!(n > 0);
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5)).warm_up_time(Duration::from_secs(1));
    targets = throughput, search
}
criterion_main!(benches);
