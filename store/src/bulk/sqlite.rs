//! The bulk seed on SQLite: the rows go through SQLite's C API (rusqlite) on the pooled
//! connection's own handle, locked out of sqlx's worker thread for the duration of the seed.
//!
//! sqlx copies every text and UUID argument into an `Arc` before binding it and walks its
//! generic argument machinery per value; here each row is one step of a prepared single-row
//! INSERT whose values are bound straight from the domain's structs (SQLite copies them into
//! its own buffers). Two threads share the work: one decides the rows (the domain's
//! `Node::create` / `Order::create`, envelope validation, the payloads' JSON) in chunks of
//! [`CHUNK_ROWS`] and frees the chunks already written, while the other writes them, several
//! chunks to a `BEGIN IMMEDIATE` transaction of [`TX_ROWS`]. The hand-over channel holds no
//! chunk, so about two chunks of decided rows are in memory at a time.
//!
//! Values are written exactly as sea-orm writes them through sqlx on SQLite, so the store
//! reads and compares seeded rows like rows written by commands: UUIDs as their 16 bytes
//! (BLOB), timestamps as sqlx's text (`to_rfc3339_opts(SecondsFormat::AutoSi, false)`,
//! checked against sqlx itself in the tests below), integers as INTEGER, payloads as the
//! envelope's compact JSON, and the search table's ids as hyphenated lower-case text.

use super::{
    Batch, BulkReport, ITEM_COLS, NODE_COLS, ORDER_COLS, OUTBOX_COLS, Plan, SEARCH_COLS,
    TRANSLATION_COLS, TX_ROWS, sqlx_err,
};
use crate::{StoreError, outbox};
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, TransactionBehavior, params};
use rustok_domain::TenantId;
use sea_orm::sqlx::pool::PoolConnection;
use sea_orm::sqlx::sqlite::LockedSqliteHandle;
use sea_orm::sqlx::{Sqlite, SqlitePool};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender};

/// The seeding connection's page cache while it writes, in KiB (SQLite's negative
/// `cache_size`): big enough for a whole transaction, where the pool's 512 KiB would spill
/// dirty pages to the WAL mid-transaction. Memory, not durability; put back afterwards.
const SEED_CACHE_KIB: i64 = 131_072;

/// Nodes and orders per chunk handed from the decider to the writer: a transaction is
/// written as several chunks, so only about two chunks' worth of decided rows are in memory.
const CHUNK_ROWS: u64 = 250;

/// Sets the stop flag when the seed's future ends, finished or dropped: a cancelled seed's
/// writer rolls back its open transaction instead of committing it.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

fn cancelled() -> StoreError {
    StoreError::Db("seed cancelled: the open transaction was rolled back".into())
}

fn sqlite_err(e: rusqlite::Error) -> StoreError {
    let message = crate::error::one_line(&e.to_string());
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::ReadOnly) => StoreError::ReadOnly(message),
        Some(rusqlite::ErrorCode::DiskFull) => StoreError::Full(message),
        _ => StoreError::Db(message),
    }
}

/// One chunk as the writer binds it: the domain's decisions, with each event's payload
/// already turned into the JSON the command path stores (`payload.to_string()`) and the
/// parsed payload freed, on the deciding thread.
struct Encoded {
    batch: Batch,
    payloads: Vec<String>,
}

impl Encoded {
    fn new(mut batch: Batch) -> Encoded {
        let payloads = batch
            .events
            .iter_mut()
            .map(|e| std::mem::take(&mut e.payload).to_string())
            .collect();
        Encoded { batch, payloads }
    }
}

fn thread_failed(what: &str, e: tokio::task::JoinError) -> StoreError {
    StoreError::Db(format!("seed: the {what} thread failed: {e}"))
}

/// Seeds `n` nodes and orders on SQLite; see [`crate::Store::seed_bulk`]. The async side only
/// waits: it hands `progress` the count after each commit, so the runtime stays free (the
/// console keeps drawing) and a dropped future stops the seed at its next check.
pub(super) async fn seed(
    pool: &SqlitePool,
    plan: Plan,
    n: u64,
    progress: &mut impl FnMut(u64, u64),
) -> Result<BulkReport, StoreError> {
    let conn = pool.acquire().await.map_err(sqlx_err)?;
    let stop = Arc::new(AtomicBool::new(false));
    let _stop_on_drop = StopOnDrop(stop.clone());
    // A rendezvous channel: the decider hands a chunk over only when the writer takes it, so
    // one chunk is being written while at most one more is decided.
    let (to_writer, chunks) = std::sync::mpsc::sync_channel::<Encoded>(0);
    let (spent, to_free) = std::sync::mpsc::channel::<Encoded>();
    let (committed, mut done) = tokio::sync::mpsc::unbounded_channel::<u64>();
    let tenant = plan.tenant;
    let decider = {
        let stop = stop.clone();
        tokio::task::spawn_blocking(move || decide_all(&plan, n, &to_writer, &to_free, &stop))
    };
    let runtime = tokio::runtime::Handle::current();
    let writer = {
        let work = Work {
            tenant,
            n,
            chunks,
            committed,
            spent,
            stop: stop.clone(),
        };
        tokio::task::spawn_blocking(move || write_all(conn, &runtime, &work))
    };
    while let Some(count) = done.recv().await {
        progress(count, n);
    }
    // The connection goes back to the pool here, on the runtime, its handle unlocked.
    let (_conn, written) = writer.await.map_err(|e| thread_failed("writer", e))?;
    let decided = decider.await.map_err(|e| thread_failed("decider", e))?;
    let report = written?;
    decided?;
    Ok(report)
}

/// Decides every chunk and hands each to the writer, freeing the chunks it has written;
/// stops early when the writer is gone (it failed, or the seed was cancelled).
fn decide_all(
    plan: &Plan,
    n: u64,
    to_writer: &SyncSender<Encoded>,
    to_free: &Receiver<Encoded>,
    stop: &AtomicBool,
) -> Result<(), StoreError> {
    let mut done = 0;
    while done < n && !stop.load(Ordering::Relaxed) {
        // A chunk never straddles two transactions.
        let to = (done + CHUNK_ROWS)
            .min(n)
            .min((done / TX_ROWS + 1) * TX_ROWS);
        let chunk = Encoded::new(plan.decide(done, to)?);
        if to_writer.send(chunk).is_err() {
            break;
        }
        // The writer has taken this chunk, so it is done with the one before.
        while let Ok(written) = to_free.try_recv() {
            drop(written);
        }
        done = to;
    }
    Ok(())
}

/// The writer's side of the seed: what to write and where to report.
struct Work {
    tenant: TenantId,
    n: u64,
    chunks: Receiver<Encoded>,
    /// Nodes (and orders) committed so far, after each commit.
    committed: tokio::sync::mpsc::UnboundedSender<u64>,
    /// Written chunks, back to the decider, whose thread allocated them and frees them.
    spent: Sender<Encoded>,
    stop: Arc<AtomicBool>,
}

/// Locks the connection's handle out of sqlx's worker thread and writes every chunk the
/// decider hands over; gives the connection back with the outcome.
fn write_all(
    mut conn: PoolConnection<Sqlite>,
    runtime: &tokio::runtime::Handle,
    work: &Work,
) -> (PoolConnection<Sqlite>, Result<BulkReport, StoreError>) {
    // A blocking-pool thread may wait on the runtime: locking is a message to sqlx's worker
    // thread, which answers once it is idle.
    let result = match runtime.block_on(conn.lock_handle()) {
        Ok(mut handle) => write_locked(&mut handle, work),
        Err(e) => Err(sqlx_err(e)),
    };
    (conn, result)
}

fn write_locked(
    handle: &mut LockedSqliteHandle<'_>,
    work: &Work,
) -> Result<BulkReport, StoreError> {
    // SAFETY: `as_raw_handle` is the open `sqlite3*` of the pooled connection, valid while
    // `handle` (the lock taken from sqlx's worker thread) is held; `handle` is borrowed for
    // the whole of this function, and `db` is a local of it, dropped (below, or on an early
    // return) before the function returns, so the lock outlives the rusqlite `Connection`.
    // While the lock is held sqlx's worker makes no call on this handle or its statements,
    // so this thread is the only user. `from_handle` does not take ownership: dropping `db`
    // finalizes only the statements it prepared and never closes the handle. No sqlx
    // statement is in flight (sqlx resets each statement when its execution ends, and the
    // connection came idle out of the pool); that is checked below before anything is
    // written.
    let mut db =
        unsafe { Connection::from_handle(handle.as_raw_handle().as_ptr()) }.map_err(sqlite_err)?;
    if !db.is_autocommit() || db.is_busy() {
        return Err(StoreError::Db(
            "seed: the pooled connection is still inside a transaction or statement".into(),
        ));
    }
    let cache: i64 = db
        .pragma_query_value(None, "cache_size", |r| r.get(0))
        .map_err(sqlite_err)?;
    db.pragma_update(None, "cache_size", -SEED_CACHE_KIB)
        .map_err(sqlite_err)?;
    let written = write_transactions(&mut db, work);
    let restored = db.pragma_update(None, "cache_size", cache);
    // Finalizes this connection's prepared statements; the handle stays open for sqlx.
    drop(db);
    let report = written?;
    restored.map_err(sqlite_err)?;
    Ok(report)
}

/// The single-row INSERT of `table`.
fn insert_sql(table: &str, cols: &[&str]) -> String {
    let marks: Vec<String> = (1..=cols.len()).map(|i| format!("?{i}")).collect();
    format!(
        "INSERT INTO {table} ({}) VALUES ({})",
        cols.join(", "),
        marks.join(", ")
    )
}

/// The single-row INSERTs, prepared once and kept in the connection's statement cache.
struct Inserts {
    nodes: String,
    translations: String,
    orders: String,
    items: String,
    events: String,
    search: String,
}

impl Inserts {
    fn new() -> Inserts {
        Inserts {
            nodes: insert_sql("nodes", NODE_COLS),
            translations: insert_sql("node_translations", TRANSLATION_COLS),
            orders: insert_sql("orders", ORDER_COLS),
            items: insert_sql("order_items", ITEM_COLS),
            events: insert_sql("outbox", OUTBOX_COLS),
            search: insert_sql("node_search", SEARCH_COLS),
        }
    }
}

/// Writes the chunks in transactions of [`TX_ROWS`] nodes and orders.
fn write_transactions(db: &mut Connection, work: &Work) -> Result<BulkReport, StoreError> {
    let sql = Inserts::new();
    let tenant_text = work.tenant.to_string();
    let mut report = BulkReport::default();
    while report.nodes < work.n {
        let tx = db
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sqlite_err)?;
        let mut in_tx = BulkReport::default();
        while in_tx.nodes < TX_ROWS && report.nodes + in_tx.nodes < work.n {
            let Ok(chunk) = work.chunks.recv() else {
                // The decider stopped (it reports why): this transaction is not whole, and
                // `tx` rolls it back when dropped, as a failed batch always was.
                return Ok(report);
            };
            if work.stop.load(Ordering::Relaxed) {
                return Err(cancelled());
            }
            write_chunk(&tx, &chunk, &tenant_text, &sql)?;
            in_tx.add(chunk.batch.report());
            // The decider frees it (or, if it has stopped, it is freed here).
            let _ = work.spent.send(chunk);
        }
        if work.stop.load(Ordering::Relaxed) {
            return Err(cancelled());
        }
        tx.commit().map_err(sqlite_err)?;
        report.add(in_tx);
        // Nobody listens only if the seed was dropped; the stop flag ends it then.
        let _ = work.committed.send(report.nodes);
    }
    Ok(report)
}

/// sqlx's text for a timestamp on SQLite, which is what sea-orm writes for a `DateTimeUtc`
/// column (`sqlx-sqlite`'s `Encode for DateTime<Tz>`).
fn stamp(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// Writes one chunk's rows, table by table, inside the caller's transaction.
fn write_chunk(
    db: &Connection,
    encoded: &Encoded,
    tenant_text: &str,
    sql: &Inserts,
) -> Result<(), StoreError> {
    let b = &encoded.batch;
    let mut st = db.prepare_cached(&sql.nodes).map_err(sqlite_err)?;
    for node in &b.nodes {
        st.execute(params![
            node.id.as_uuid().as_bytes(),
            node.tenant_id.as_uuid().as_bytes(),
            node.kind.as_str(),
            node.status.as_str(),
            node.version,
            node.source_locale.as_str(),
            node.author,
            stamp(&node.created_at),
            stamp(&node.updated_at),
            node.published_at.as_ref().map(stamp),
            node.archived_at.as_ref().map(stamp),
        ])
        .map_err(sqlite_err)?;
    }
    let mut st = db.prepare_cached(&sql.translations).map_err(sqlite_err)?;
    for node in &b.nodes {
        let src = node.source();
        st.execute(params![
            node.id.as_uuid().as_bytes(),
            src.locale.as_str(),
            node.tenant_id.as_uuid().as_bytes(),
            src.title,
            src.slug,
            src.excerpt,
            src.body,
            src.format.as_str(),
            stamp(&src.updated_at),
        ])
        .map_err(sqlite_err)?;
    }
    let mut st = db.prepare_cached(&sql.orders).map_err(sqlite_err)?;
    for order in &b.orders {
        st.execute(params![
            order.id.as_uuid().as_bytes(),
            order.tenant_id.as_uuid().as_bytes(),
            order.customer,
            order.status.as_str(),
            order.total.amount,
            order.total.currency.code(),
            order.version,
            stamp(&order.placed_at),
            stamp(&order.updated_at),
            order.confirmed_at.as_ref().map(stamp),
            order.paid_at.as_ref().map(stamp),
            order.shipped_at.as_ref().map(stamp),
            order.delivered_at.as_ref().map(stamp),
            order.cancelled_at.as_ref().map(stamp),
            order.carrier,
            order.tracking_number,
            order.cancel_reason,
            order.payment_reference,
        ])
        .map_err(sqlite_err)?;
    }
    let mut st = db.prepare_cached(&sql.items).map_err(sqlite_err)?;
    for order in &b.orders {
        for (p, it) in order.items.iter().enumerate() {
            st.execute(params![
                order.id.as_uuid().as_bytes(),
                i32::try_from(p).unwrap_or(i32::MAX),
                order.tenant_id.as_uuid().as_bytes(),
                it.sku,
                it.title,
                it.unit_price.amount,
                it.unit_price.currency.code(),
                it.quantity,
            ])
            .map_err(sqlite_err)?;
        }
    }
    let mut st = db.prepare_cached(&sql.events).map_err(sqlite_err)?;
    for (e, payload) in b.events.iter().zip(&encoded.payloads) {
        st.execute(params![
            e.id.as_uuid().as_bytes(),
            e.tenant_id.as_uuid().as_bytes(),
            e.event_type,
            i32::from(e.schema_version),
            e.aggregate_type,
            e.aggregate_id.as_bytes(),
            e.correlation_id.as_bytes(),
            e.causation_id.as_ref().map(|c| c.as_bytes()),
            e.actor,
            stamp(&e.occurred_at),
            payload,
            outbox::PENDING,
            0_i32,
            0_i64,
        ])
        .map_err(sqlite_err)?;
    }
    let mut st = db.prepare_cached(&sql.search).map_err(sqlite_err)?;
    let mut id = uuid::Uuid::encode_buffer();
    for node in &b.nodes {
        let src = node.source();
        // The node id as `NodeId`'s `Display` writes it (what the command path indexes).
        let node_id = node.id.as_uuid().hyphenated().encode_lower(&mut id);
        st.execute(params![
            src.title,
            src.excerpt.as_deref().unwrap_or_default(),
            src.body,
            tenant_text,
            &*node_id,
            src.locale.as_str(),
        ])
        .map_err(sqlite_err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::stamp;
    use chrono::{DateTime, TimeZone, Utc};
    use sea_orm::sqlx::{self, Connection, Row, SqliteConnection};

    /// The seed's timestamps are byte for byte what sqlx (and so sea-orm) binds for the same
    /// `DateTime<Utc>`: whole seconds, milli-, micro- and nanoseconds.
    #[tokio::test]
    async fn stamps_are_sqlx_text() {
        let mut conn = SqliteConnection::connect("sqlite::memory:").await.unwrap();
        let base = Utc.with_ymd_and_hms(2026, 11, 24, 5, 6, 7).unwrap();
        let cases: Vec<DateTime<Utc>> = [0, 1_000_000, 120_000_000, 123_456_000, 1, 999_999_999]
            .into_iter()
            .map(|ns| base + chrono::Duration::nanoseconds(ns))
            .chain([
                Utc::now(),
                Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0).unwrap(),
            ])
            .collect();
        for at in cases {
            let row = sqlx::query("SELECT ?1")
                .bind(at)
                .fetch_one(&mut conn)
                .await
                .unwrap();
            let text: String = row.get(0);
            assert_eq!(stamp(&at), text, "{at:?}");
        }
    }
}
