//! RusToK persistence. `Store` owns the database connection (SQLite embedded by default,
//! PostgreSQL for shared deployments), applies migrations on connect, executes domain
//! commands in one transaction each (state change + outbox events together), and answers the
//! queries the CLI and the console need — always filtered by tenant.

// The modules, lowest first: each uses only modules of the layers above it in this list
// (docs/ARCHITECTURE.md, "store"; checked by domain/tests/domain/layering.rs).
// Errors, settings, the connection fence.
mod error;
mod fence;
mod pool;
// The SQLite writer connection; entities and migrations.
pub mod entity;
mod local;
pub mod migration;
// Rows ↔ domain types; where and how the store writes.
mod rows;
mod writes;
// Reads, the outbox, search, the command log, housekeeping; the feed (over the outbox).
mod command_log;
mod feed;
mod housekeeping;
mod outbox;
mod repo;
mod revisions;
mod search;
mod stream;
// RBAC; the audit log.
mod audit_log;
mod authz;
// One handler per command (and the reads of their aggregates).
mod commerce;
mod content;
mod customers;
mod schedule;
mod staff;
mod tenant;
// Order notes and mentions (issue 21).
mod notes;
// The unit of work: one command, one transaction, dispatched to its handler.
mod uow;
// Executing due schedules (claims a schedule and runs its command through the unit of work).
mod scheduler;
// Whole-store tools: the security audit's snapshot, bulk seeding (uses the commerce reads).
mod audit;
mod bulk;

pub use bulk::{BulkReport, MAX_BULK_SEED};
pub use commerce::{OrderFilter, ProductFilter};
pub use error::StoreError;
pub use feed::{FeedCursor, Follower, Listener};
pub use housekeeping::{PRUNE_CHUNK, Pruned};
pub use notes::{MAX_NOTES_SHOWN, MAX_UNREAD_MENTIONS};
pub use outbox::{BUS_CONSUMER, CHANNEL as OUTBOX_CHANNEL, DeliveryReport, Receipt, RelayBatch};
pub use pool::PoolSettings;
pub use repo::{EventFilter, IdKind, NodeFilter};
pub use rustok_domain::read::{
    Applied, NodeSummary, OrderSummary, OutboxCounts, Outcome, Page, SearchHit, StockRow,
    StoredEvent,
};
pub use schedule::DueSchedule;
pub use scheduler::{SCHEDULER_SESSION, ScheduleRun};
pub use stream::{
    BackfillFrom, CONSUMER_STATS_MAX_AGE, ConsumerRemoval, ConsumerReport, DeliveryFailure,
    PendingDelivery,
};
pub use uow::AuditStamp;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement, Value,
};
use sea_orm_migration::MigratorTrait;
use std::time::Duration;

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A handle on the database. Cheap to clone (the pool is shared).
#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
    /// Where commands are executed and the relay's claims and delivery marks written, except
    /// on an SQLite file (see `local`): the same pool as `db` (see `Store::writing`).
    writer: DatabaseConnection,
    /// On an SQLite file, the one connection every write of the store goes through (commands,
    /// the relay's claims and delivery marks, housekeeping), used on the writing task's
    /// thread with its statements kept prepared (see `local.rs`); opened on first use. SQLite
    /// admits one writer at a time anyway, and a connection that does all the writing keeps
    /// its page cache valid from one command to the next (a pooled connection's cache is
    /// thrown away whenever another connection has written).
    local: Option<LocalWriter>,
    /// Keeps connections opened read-only from being used again (SQLite; see `fence.rs`).
    fence: fence::ReadOnlyFence,
    backend: Backend,
    url_display: String,
    /// The independent consumers' state as last read, shared by the store's clones: every
    /// console of a process (1,000 SSH sessions on the dashboard) reads it at most once per
    /// [`CONSUMER_STATS_MAX_AGE`] (see `Store::recent_consumer_stats`).
    consumer_stats: stream::StatsCache,
}

/// The SQLite file's writer connection (see `local.rs`), shared by the store's clones.
#[derive(Clone)]
pub(crate) struct LocalWriter {
    path: std::path::PathBuf,
    conn: std::sync::Arc<tokio::sync::Mutex<Option<local::Local>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("db", &self.url_display)
            .finish()
    }
}

/// Removes a password from a database URL before it is shown anywhere.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &url[scheme_end + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Opens and closes one connection to a PostgreSQL server, within `timeout`.
async fn probe_postgres(driver_url: &str, timeout: Duration) -> Result<(), String> {
    use sea_orm::sqlx::Connection;
    use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection};
    let opts: PgConnectOptions = driver_url
        .parse()
        .map_err(|e: sea_orm::sqlx::Error| error::one_line(&e.to_string()))?;
    match tokio::time::timeout(timeout, PgConnection::connect_with(&opts)).await {
        Ok(Ok(c)) => {
            let _ = c.close().await;
            Ok(())
        }
        Ok(Err(e)) => Err(error::one_line(&e.to_string())),
        Err(_) => Err(format!(
            "the server did not answer within {} s",
            timeout.as_secs()
        )),
    }
}

/// The file an `sqlite://PATH[?…]` URL names (none for an in-memory database).
fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or(url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    (!path.is_empty() && !path.contains(":memory:")).then(|| path.into())
}

/// Opens the pool. On SQLite, a connection that fails with "database is locked" is tried again
/// (with a back-off of 5, 10, ... 100 ms) for up to the busy timeout: a connection's first
/// statement turns a new file into WAL mode, a write for which SQLite does not wait (its busy
/// handler is not called when a read lock must become a write lock), so processes opening one
/// new file at once can meet each other's conversion. Once the file is in WAL mode, opening a
/// connection writes nothing.
async fn connect_pool(
    opts: ConnectOptions,
    backend: Backend,
) -> Result<DatabaseConnection, sea_orm::DbErr> {
    let started = std::time::Instant::now();
    let mut pause = Duration::from_millis(5);
    loop {
        match Database::connect(opts.clone()).await {
            Err(e)
                if backend == Backend::Sqlite
                    && error::sqlite_busy(&e)
                    && started.elapsed() < local::BUSY_TIMEOUT =>
            {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            other => return other,
        }
    }
}

impl Store {
    /// Connects to `url` (`sqlite://PATH`, `sqlite::memory:`, `postgres://...`), creating an
    /// SQLite file if it does not exist, and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::Config(format!(
                "unsupported database URL '{}': use sqlite://PATH or postgres://...",
                redact_url(url)
            )));
        };
        // Pool parameters (`?max_connections=…`, or RUSTOK_DB_* variables) are ours; every
        // other URL parameter (`sslmode=…`) goes to the driver untouched.
        let (driver_url, pool) = PoolSettings::from_url(url, |v| std::env::var(v).ok())?;
        if backend == Backend::Postgres {
            // One plain connection first: a server that is down is reported at once, instead
            // of after the pool has retried for its whole acquire timeout.
            probe_postgres(
                &driver_url,
                pool.connect_timeout.unwrap_or(Duration::from_secs(10)),
            )
            .await
            .map_err(|reason| StoreError::Connect {
                url: redact_url(url),
                reason,
            })?;
        }
        let mut opts = ConnectOptions::new(driver_url);
        opts.sqlx_logging(false)
            .connect_timeout(pool.connect_timeout.unwrap_or(Duration::from_secs(10)))
            .acquire_timeout(pool.acquire_timeout.unwrap_or(Duration::from_secs(30)));
        if let Some(idle) = pool.idle_timeout {
            opts.idle_timeout(idle);
        }
        let min = pool.min_connections.unwrap_or(1);
        let fence = fence::ReadOnlyFence::new();
        match backend {
            Backend::Sqlite => {
                // One writer at a time is SQLite's rule; a small pool serves concurrent reads
                // (WAL) while writes queue on BEGIN IMMEDIATE + busy_timeout.
                let max = if url.contains(":memory:") {
                    1
                } else {
                    pool.max_connections.unwrap_or(4)
                };
                opts.max_connections(max)
                    .min_connections(min.min(max))
                    .test_before_acquire(false)
                    .map_sqlx_sqlite_before_acquire(fence.acquire_hook())
                    .map_sqlx_sqlite_opts(|o| {
                        o.create_if_missing(true)
                            .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                            .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Full)
                            .busy_timeout(Duration::from_secs(10))
                            .foreign_keys(true)
                            // 512 KiB of page cache per connection instead of SQLite's 2 MiB:
                            // with a large database every pooled connection would fill its
                            // cache, 8 MiB for the 4 (docs/PERFORMANCE.md, peak RSS). Scans
                            // of big tables do not fit either way and point lookups keep
                            // their B-tree's upper pages; the file's pages stay in the OS
                            // cache.
                            .pragma("cache_size", "-512")
                    });
            }
            Backend::Postgres => {
                let max = pool.max_connections.unwrap_or(10);
                opts.max_connections(max)
                    .min_connections(min.min(max))
                    // A session opened while the database refused writes (a database set
                    // `default_transaction_read_only`, a standby) keeps refusing them.
                    .map_sqlx_postgres_before_acquire(fence.acquire_hook());
            }
        }
        let connect_error = |e: sea_orm::DbErr| {
            let reason = error::one_line(&e.to_string());
            StoreError::Connect {
                url: redact_url(url),
                reason: match (backend, sqlite_path(url)) {
                    (Backend::Sqlite, Some(path)) => match error::diagnose_file(&path) {
                        Some(why) => format!("{why} ({reason})"),
                        None => reason,
                    },
                    _ => reason,
                },
            }
        };
        let db = connect_pool(opts, backend).await.map_err(connect_error)?;
        let writer = db.clone();
        let local = match (backend, sqlite_path(url)) {
            (Backend::Sqlite, Some(path)) => Some(LocalWriter {
                path,
                conn: std::sync::Arc::new(tokio::sync::Mutex::new(None)),
            }),
            _ => None,
        };
        let store = Store {
            db,
            writer,
            local,
            fence,
            backend,
            url_display: redact_url(url),
            consumer_stats: Default::default(),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies every pending migration: each in one transaction with its bookkeeping row,
    /// one process at a time (see `migration::apply`), so a process killed at any point
    /// leaves a database the next start migrates, and processes starting together on a new
    /// database wait for each other.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        // Asked without writing first: migrating creates the bookkeeping table even when
        // nothing is pending, which a database that refuses writes (a standby, a database set
        // `default_transaction_read_only`, a read-only file) refuses, and then not even reads
        // would work. What is pending is asked again under the migration lock.
        if migration::Migrator::get_pending_migrations_read_only(&self.db)
            .await?
            .is_empty()
        {
            return Ok(());
        }
        migration::apply(&self.db).await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The database URL with any password removed.
    pub fn url(&self) -> &str {
        &self.url_display
    }

    /// The underlying sea-orm connection (for tests and maintenance tools).
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    pub async fn close(self) -> Result<(), StoreError> {
        if let Some(writer) = &self.local {
            // Closing the last connection checkpoints the write-ahead log into the file.
            writer.conn.lock().await.take();
        }
        self.db.close().await?;
        Ok(())
    }

    /// Builds a raw statement written with `$1, $2, ...` placeholders for either backend.
    pub(crate) fn stmt(&self, sql: &str, values: Vec<Value>) -> Statement {
        stmt(self.backend, sql, values)
    }
}

pub(crate) fn stmt(backend: Backend, sql: &str, values: Vec<Value>) -> Statement {
    match backend {
        Backend::Postgres => Statement::from_sql_and_values(DbBackend::Postgres, sql, values),
        // SQLite numbers parameters as ?1, ?2, ...
        Backend::Sqlite => {
            Statement::from_sql_and_values(DbBackend::Sqlite, sql.replace('$', "?"), values)
        }
    }
}

pub(crate) fn backend_of(c: &impl ConnectionTrait) -> Backend {
    match c.get_database_backend() {
        DbBackend::Postgres => Backend::Postgres,
        _ => Backend::Sqlite,
    }
}

#[cfg(test)]
mod tests {
    /// Another process converting a new file to WAL mode holds a write lock that switching to
    /// WAL cannot wait for: connecting tries again until it is released, then migrates.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn connecting_waits_while_another_process_converts_a_new_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.db");
        // A file not yet in WAL mode, and a write lock on it (as during another process's
        // conversion, which writes the file's header).
        let other = rusqlite::Connection::open(&path).unwrap();
        other
            .execute_batch("CREATE TABLE t (a); BEGIN IMMEDIATE; INSERT INTO t VALUES (1);")
            .unwrap();
        let release = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            other.execute_batch("COMMIT").unwrap();
        });
        let store = super::Store::connect(&format!("sqlite://{}", path.display())).await;
        release.join().unwrap();
        let store = store.expect("connecting waits for the other process's lock");
        assert!(store.tenants().await.unwrap().is_empty());
        store.close().await.unwrap();
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(super::redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            super::redact_url("sqlite:///tmp/a.db"),
            "sqlite:///tmp/a.db"
        );
    }
}
