//! Writes on SQLite, run on the writing task's own thread.
//!
//! sqlx runs each SQLite connection on a worker thread of its own: every statement is a
//! message there and an answer back, two thread switches, and a command is a dozen statements
//! (BEGIN, the reads it decides on, its writes, its outbox, command-log and audit rows,
//! COMMIT). On an SQLite file the store instead writes through one rusqlite connection of its
//! own ([`Local::open`]), used directly on the thread of the task that writes, its statements
//! kept prepared from one command to the next; on an in-memory database, through the handle of
//! the pool's one connection, taken out of sqlx's worker for the time of the write
//! (`lock_handle`, [`Local::new`]). Either way the statements are still built by sea-orm's query
//! builders, in the same order and with the same values, and the rows read are turned back into
//! sea-orm's models, so the rest of the store does not know which path ran.
//!
//! [`Local`] is a sea-orm [`ConnectionTrait`] over that connection. Its methods finish before
//! they return (they never wait), so the store's code, written as async functions for both
//! backends, runs straight through; only [`Local::begin_immediate`] waits, asynchronously, for
//! a lock another process holds.
//!
//! Values are bound as sqlx binds them (a `DateTime<Utc>` as RFC 3339 text, a UUID as a
//! 16-byte blob, a bool as 0/1) so both paths write the same bytes. Read values become the
//! sea-orm `Value` the model's field expects, told by the column's declared type (`boolean`,
//! `uuid_text`, `timestamp_with_timezone_text`, ...); SQLite declares 32- and 64-bit integer
//! columns alike (`integer`), so the few 32-bit ones are known by name ([`I32_COLUMNS`],
//! checked against the entities by a test).
//!
//! Rows are handed to sea-orm by column name (see [`carrier`]), in name order: code run here
//! reads columns by name — models, `try_get("", name)` — and `into_tuple` only of a single
//! column, never a tuple of several read by position.

use crate::error::LocalError;
use rusqlite::types::{ToSqlOutput, Value as Sql, ValueRef};
use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, ExecResult, MockDatabase, MockExecResult, QueryResult,
    RuntimeErr, Statement, Value,
};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// Integer columns the entities read as `i32` (`position`, ...): every other integer column
/// is read as `i64`.
pub(crate) const I32_COLUMNS: &[&str] = &["position", "schema_version", "attempts", "bits"];

/// A sea-orm connection over an SQLite connection used on the caller's thread (see the
/// module docs): the store's own writer connection, or a handle taken from sqlx's worker.
pub(crate) struct Local {
    conn: Mutex<rusqlite::Connection>,
    /// When it was opened (a read-only error fences off connections opened before it).
    opened: std::time::Instant,
}

/// How long a statement waits for another connection's lock (SQLite's busy timeout, as on the
/// store's pooled connections); [`Local::begin_immediate`] waits as long, asynchronously.
pub(crate) const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Statements kept prepared on the writer connection: every statement a command runs, with
/// room to spare (a command runs about ten different ones).
const PREPARED: usize = 128;

impl Local {
    /// Opens the database file `path` (which exists: migrations ran first) for writing, with
    /// the settings of the store's pooled connections (WAL, `synchronous=FULL`, foreign keys,
    /// a 10 s busy timeout, a 512 KiB page cache).
    pub(crate) fn open(path: &std::path::Path) -> Result<Local, DbErr> {
        use rusqlite::OpenFlags;
        let conn = rusqlite::Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(exec_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(exec_err)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
             PRAGMA cache_size = -512;",
        )
        .map_err(exec_err)?;
        conn.set_prepared_statement_cache_capacity(PREPARED);
        Ok(Local {
            conn: Mutex::new(conn),
            opened: std::time::Instant::now(),
        })
    }

    /// How long ago it was opened.
    pub(crate) fn age(&self) -> std::time::Duration {
        self.opened.elapsed()
    }

    /// # Safety
    /// `handle` must be an open `sqlite3*` that no other thread uses while the `Local`
    /// lives (the handle of a pooled sqlx connection whose lock is held), and that outlives
    /// it. The `Local` never closes it: dropping it finalizes only its own statements.
    pub(crate) unsafe fn new(handle: *mut rusqlite::ffi::sqlite3) -> Result<Local, DbErr> {
        // SAFETY: as the caller promised.
        let conn = unsafe { rusqlite::Connection::from_handle(handle) }.map_err(exec_err)?;
        Ok(Local {
            conn: Mutex::new(conn),
            opened: std::time::Instant::now(),
        })
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> Result<T, rusqlite::Error>,
    ) -> Result<T, DbErr> {
        let conn = self
            .conn
            .lock()
            .map_err(|_| DbErr::Custom("the SQLite connection's lock is poisoned".into()))?;
        f(&conn).map_err(exec_err)
    }

    /// Runs statements without parameters (`BEGIN IMMEDIATE`, `COMMIT`, `ROLLBACK`).
    pub(crate) fn batch(&self, sql: &str) -> Result<(), DbErr> {
        self.with(|c| c.execute_batch(sql))
    }

    /// Opens a write transaction (`BEGIN IMMEDIATE`: the write lock up front). While another
    /// connection (another process) holds the lock, the wait is asynchronous — SQLite's own
    /// busy handler would sleep on this thread, a thread of the async runtime — with SQLite's
    /// back-off (1, 2, 5, ... 100 ms), for at most [`BUSY_TIMEOUT`]; then SQLite's "database is
    /// locked" error is returned.
    pub(crate) async fn begin_immediate(&self) -> Result<(), DbErr> {
        const BACKOFF_MS: [u64; 12] = [1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100];
        let started = std::time::Instant::now();
        let mut attempt = 0usize;
        loop {
            let tried = self.with(|c| {
                c.busy_timeout(std::time::Duration::ZERO)?;
                let begun = c.execute_batch("BEGIN IMMEDIATE");
                c.busy_timeout(BUSY_TIMEOUT)?;
                begun
            });
            match tried {
                Err(e) if is_busy(&e) && started.elapsed() < BUSY_TIMEOUT => {
                    let ms = BACKOFF_MS[attempt.min(BACKOFF_MS.len() - 1)];
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
                }
                other => return other,
            }
        }
    }

    /// Rolls back the open transaction, if any (SQLite ends some on its own when a statement
    /// fails). Nothing to report: the connection is left outside any transaction either way.
    pub(crate) fn rollback(&self) {
        if !self.is_autocommit() {
            let _ = self.batch("ROLLBACK");
        }
    }

    /// Whether the connection is outside any transaction.
    pub(crate) fn is_autocommit(&self) -> bool {
        self.with(|c| Ok(c.is_autocommit())).unwrap_or(false)
    }

    fn run(
        &self,
        stmt: &Statement,
        mut row: impl FnMut(&Columns, &rusqlite::Row<'_>),
    ) -> Result<(), DbErr> {
        self.with(|c| {
            let mut s = c.prepare_cached(&stmt.sql)?;
            if let Some(values) = &stmt.values {
                for (i, v) in values.0.iter().enumerate() {
                    s.raw_bind_parameter(
                        i + 1,
                        bind(v).map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?,
                    )?;
                }
            }
            let columns = Columns::of(&s);
            let mut rows = s.raw_query();
            while let Some(r) = rows.next()? {
                row(&columns, r);
            }
            Ok(())
        })
    }

    async fn rows(&self, stmt: &Statement) -> Result<Vec<QueryResult>, DbErr> {
        let mut out = Vec::new();
        let mut failed = None;
        self.run(stmt, |columns, r| match columns.read(r) {
            Ok(row) => out.push(row),
            // (The first undecodable row is the one reported.)
            Err(e) => {
                failed.get_or_insert(e);
            }
        })?;
        if let Some(e) = failed {
            return Err(e);
        }
        carrier(MockDatabase::new(DbBackend::Sqlite).append_query_results([out]))
            .query_all_raw(Statement::from_string(DbBackend::Sqlite, ""))
            .await
    }

    async fn done(&self) -> Result<ExecResult, DbErr> {
        let result = self.with(|c| {
            Ok(MockExecResult {
                last_insert_id: u64::try_from(c.last_insert_rowid()).unwrap_or(0),
                rows_affected: c.changes(),
            })
        })?;
        carrier(MockDatabase::new(DbBackend::Sqlite).append_exec_results([result]))
            .execute_raw(Statement::from_string(DbBackend::Sqlite, ""))
            .await
    }
}

/// sea-orm's result types ([`QueryResult`], [`ExecResult`]) are made only by its own drivers.
/// Its public route for other drivers, the `proxy` feature, does not compile in sea-orm 2.0.4
/// alongside `sqlx-sqlite` (its SQLite row conversion boxes values that sea-query 1.0 no longer
/// boxes), so the rows read here are handed over through its `mock` driver, which returns what
/// it was given: a carrier, no database involved.
fn carrier(db: MockDatabase) -> sea_orm::DatabaseConnection {
    db.into_connection()
}

impl Drop for Local {
    /// A command's transaction never stays open on the connection given back to its pool.
    fn drop(&mut self) {
        self.rollback();
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Local {
    fn get_database_backend(&self) -> DbBackend {
        DbBackend::Sqlite
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.run(&stmt, |_, _| {})?;
        self.done().await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.batch(sql)?;
        self.done().await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        Ok(self.rows(&stmt).await?.into_iter().next())
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.rows(&stmt).await
    }
}

/// A sea-orm value as sqlx's SQLite driver binds it.
fn bind(v: &Value) -> Result<ToSqlOutput<'_>, String> {
    use ToSqlOutput::{Borrowed, Owned};
    let int = |n: Option<i64>| Owned(n.map_or(Sql::Null, Sql::Integer));
    Ok(match v {
        Value::Bool(b) => int(b.map(i64::from)),
        Value::TinyInt(n) => int(n.map(i64::from)),
        Value::SmallInt(n) => int(n.map(i64::from)),
        Value::Int(n) => int(n.map(i64::from)),
        Value::BigInt(n) => int(*n),
        Value::TinyUnsigned(n) => int(n.map(i64::from)),
        Value::SmallUnsigned(n) => int(n.map(i64::from)),
        Value::Unsigned(n) => int(n.map(i64::from)),
        Value::BigUnsigned(n) => match n {
            Some(n) => int(Some(i64::try_from(*n).map_err(|e| e.to_string())?)),
            None => int(None),
        },
        Value::Float(f) => Owned(f.map_or(Sql::Null, |f| Sql::Real(f64::from(f)))),
        Value::Double(f) => Owned(f.map_or(Sql::Null, Sql::Real)),
        Value::String(s) => match s {
            Some(s) => Borrowed(ValueRef::Text(s.as_bytes())),
            None => Owned(Sql::Null),
        },
        Value::Char(c) => Owned(c.map_or(Sql::Null, |c| Sql::Text(c.to_string()))),
        Value::Bytes(b) => match b {
            Some(b) => Borrowed(ValueRef::Blob(b)),
            None => Owned(Sql::Null),
        },
        Value::Uuid(u) => match u {
            Some(u) => Borrowed(ValueRef::Blob(u.as_bytes())),
            None => Owned(Sql::Null),
        },
        Value::ChronoDateTimeUtc(t) => text(t.map(|t| rfc3339(&t))),
        Value::ChronoDateTimeLocal(t) => text(t.map(|t| rfc3339(&t))),
        Value::ChronoDateTimeWithTimeZone(t) => text(t.map(|t| rfc3339(&t))),
        Value::ChronoDateTime(t) => text(t.map(|t| t.format("%F %T%.f").to_string())),
        Value::ChronoDate(d) => text(d.map(|d| d.format("%F").to_string())),
        Value::ChronoTime(t) => text(t.map(|t| t.format("%T%.f").to_string())),
        Value::Json(j) => text(j.as_ref().map(|j| j.to_string())),
        other => return Err(format!("cannot bind {other:?} to an SQLite statement")),
    })
}

fn text(s: Option<String>) -> ToSqlOutput<'static> {
    ToSqlOutput::Owned(s.map_or(Sql::Null, Sql::Text))
}

/// sqlx's text for a time with a zone.
fn rfc3339<Tz: chrono::TimeZone>(t: &chrono::DateTime<Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
}

/// What a column holds, as the model reading it expects it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    Int,
    BigInt,
    Double,
    Text,
    Json,
    Uuid,
    Time,
    Bytes,
    /// An expression's column: whatever SQLite returns.
    Any,
}

impl Kind {
    fn of(name: &str, declared: Option<&str>) -> Kind {
        let Some(declared) = declared else {
            return Kind::Any;
        };
        let declared = declared.to_ascii_lowercase();
        match declared.as_str() {
            "boolean" => Kind::Bool,
            "uuid_text" => Kind::Uuid,
            "json_text" | "jsonb_text" => Kind::Json,
            "blob" => Kind::Bytes,
            d if d.starts_with("timestamp") || d.starts_with("datetime") => Kind::Time,
            d if d.contains("int") => {
                if I32_COLUMNS.contains(&name) {
                    Kind::Int
                } else {
                    Kind::BigInt
                }
            }
            d if d.contains("real") || d.contains("floa") || d.contains("doub") => Kind::Double,
            _ => Kind::Text,
        }
    }

    fn null(self) -> Value {
        match self {
            Kind::Bool => Value::Bool(None),
            Kind::Int => Value::Int(None),
            Kind::BigInt | Kind::Any => Value::BigInt(None),
            Kind::Double => Value::Double(None),
            Kind::Text => Value::String(None),
            Kind::Json => Value::Json(None),
            Kind::Uuid => Value::Uuid(None),
            Kind::Time => Value::ChronoDateTimeUtc(None),
            Kind::Bytes => Value::Bytes(None),
        }
    }

    fn read(self, v: ValueRef<'_>) -> Result<Value, String> {
        if let ValueRef::Null = v {
            return Ok(self.null());
        }
        let wrong = || format!("{v:?} is not a {self:?}");
        Ok(match (self, v) {
            (Kind::Bool, ValueRef::Integer(n)) => Value::Bool(Some(n != 0)),
            (Kind::Int, ValueRef::Integer(n)) => {
                Value::Int(Some(i32::try_from(n).map_err(|e| e.to_string())?))
            }
            (Kind::BigInt | Kind::Any, ValueRef::Integer(n)) => Value::BigInt(Some(n)),
            (Kind::Double | Kind::Any, ValueRef::Real(f)) => Value::Double(Some(f)),
            (Kind::Double, ValueRef::Integer(n)) => Value::Double(Some(n as f64)),
            (Kind::Text | Kind::Any, ValueRef::Text(t)) => Value::String(Some(utf8(t)?.to_owned())),
            (Kind::Json, ValueRef::Text(t)) => Value::Json(Some(Box::new(
                serde_json::from_str(utf8(t)?).map_err(|e| e.to_string())?,
            ))),
            (Kind::Uuid, ValueRef::Blob(b)) => {
                Value::Uuid(Some(Uuid::from_slice(b).map_err(|e| e.to_string())?))
            }
            (Kind::Uuid, ValueRef::Text(t)) => {
                Value::Uuid(Some(Uuid::parse_str(utf8(t)?).map_err(|e| e.to_string())?))
            }
            (Kind::Time, ValueRef::Text(t)) => {
                Value::ChronoDateTimeUtc(Some(parse_time(utf8(t)?).ok_or_else(wrong)?))
            }
            (Kind::Bytes | Kind::Any, ValueRef::Blob(b)) => Value::Bytes(Some(b.to_vec())),
            _ => return Err(wrong()),
        })
    }
}

fn utf8(t: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(t).map_err(|e| e.to_string())
}

/// A stored time, read as sqlx reads it: RFC 3339 (what both paths write), or one of
/// SQLite's own formats (UTC when no zone is given).
fn parse_time(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::{DateTime, NaiveDateTime, Utc};
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    const FORMATS: [&str; 12] = [
        "%F %T%.f",
        "%F %R",
        "%F %RZ",
        "%F %R%:z",
        "%F %T%.fZ",
        "%F %T%.f%:z",
        "%FT%R",
        "%FT%RZ",
        "%FT%R%:z",
        "%FT%T%.f",
        "%FT%T%.fZ",
        "%FT%T%.f%:z",
    ];
    FORMATS.iter().find_map(|f| {
        DateTime::parse_from_str(s, f)
            .map(|t| t.with_timezone(&Utc))
            .ok()
            .or_else(|| {
                NaiveDateTime::parse_from_str(s, f)
                    .ok()
                    .map(|t| t.and_utc())
            })
    })
}

/// A result's columns: names and how to read each.
struct Columns {
    names: Vec<String>,
    kinds: Vec<Kind>,
}

impl Columns {
    fn of(s: &rusqlite::Statement<'_>) -> Columns {
        let (names, kinds) = s
            .columns()
            .iter()
            .map(|c| {
                // sea-orm names the columns of a joined select `A_<column>`, `B_<column>`.
                let bare = c
                    .name()
                    .strip_prefix("A_")
                    .or_else(|| c.name().strip_prefix("B_"))
                    .unwrap_or(c.name());
                (c.name().to_string(), Kind::of(bare, c.decl_type()))
            })
            .unzip();
        Columns { names, kinds }
    }

    fn read(&self, r: &rusqlite::Row<'_>) -> Result<BTreeMap<String, Value>, DbErr> {
        let mut values = BTreeMap::new();
        for (i, (name, kind)) in self.names.iter().zip(&self.kinds).enumerate() {
            let v = r.get_ref(i).map_err(exec_err)?;
            let v = kind
                .read(v)
                .map_err(|e| DbErr::Type(format!("column {name}: {e}")))?;
            values.insert(name.clone(), v);
        }
        Ok(values)
    }
}

/// Whether a database error is SQLite's "database is locked" (another connection holds the
/// lock).
fn is_busy(e: &DbErr) -> bool {
    crate::error::local_error(e).is_some_and(|l| l.code & 0xff == 5)
}

pub(crate) fn exec_err(e: rusqlite::Error) -> DbErr {
    let local = match &e {
        rusqlite::Error::SqliteFailure(f, message) => LocalError {
            code: f.extended_code,
            message: message.clone().unwrap_or_else(|| f.to_string()),
        },
        other => return DbErr::Custom(other.to_string()),
    };
    DbErr::Exec(RuntimeErr::SqlxError(Arc::new(
        sea_orm::sqlx::Error::Database(Box::new(local)),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{ColumnTrait, ColumnType, EntityTrait, IdenStatic, Iterable};

    fn columns<E: EntityTrait>() -> Vec<(String, ColumnType)> {
        E::Column::iter()
            .map(|c| (c.as_str().to_string(), c.def().get_column_type().clone()))
            .collect()
    }

    /// Every column an entity reads as `i32` is in [`I32_COLUMNS`], and no `i64` column
    /// shares one of those names (it would be read as `i32` and fail).
    #[test]
    fn the_32_bit_columns_are_known_by_name() {
        use crate::entity::*;
        let all = [
            columns::<tenant::Entity>(),
            columns::<node::Entity>(),
            columns::<node_translation::Entity>(),
            columns::<product::Entity>(),
            columns::<product_translation::Entity>(),
            columns::<variant::Entity>(),
            columns::<order::Entity>(),
            columns::<order_item::Entity>(),
            columns::<outbox::Entity>(),
            columns::<staff::Entity>(),
            columns::<staff_key::Entity>(),
            columns::<audit_log::Entity>(),
        ]
        .concat();
        for (name, ty) in &all {
            match ty {
                ColumnType::Integer => assert!(
                    I32_COLUMNS.contains(&name.as_str()),
                    "{name} is read as i32 but not in I32_COLUMNS"
                ),
                ColumnType::BigInteger => assert!(
                    !I32_COLUMNS.contains(&name.as_str()),
                    "{name} is read as i64 but named in I32_COLUMNS"
                ),
                _ => {}
            }
        }
    }

    /// Values written through `Local` read back as the types the models expect, by name, and
    /// a taken key is reported as sea-orm reports sqlx's.
    #[tokio::test]
    async fn values_round_trip_with_the_types_the_models_expect() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch(
                "CREATE TABLE t (id uuid_text NOT NULL PRIMARY KEY, position integer NOT NULL, \
                 version integer NOT NULL, active boolean NOT NULL, \
                 at timestamp_with_timezone_text NOT NULL, note text NULL)",
            )
            .unwrap();
        let local = Local::open(&path).unwrap();
        let id = Uuid::now_v7();
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-24T10:00:00.5Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let insert = Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)",
            [
                Value::from(id),
                Value::from(3i32),
                Value::from(7i64),
                Value::from(true),
                Value::from(at),
                Value::String(None),
            ],
        );
        assert_eq!(
            local
                .execute_raw(insert.clone())
                .await
                .unwrap()
                .rows_affected(),
            1
        );
        let row = local
            .query_one_raw(Statement::from_string(DbBackend::Sqlite, "SELECT * FROM t"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.try_get::<Uuid>("", "id").unwrap(), id);
        assert_eq!(row.try_get::<i32>("", "position").unwrap(), 3);
        assert_eq!(row.try_get::<i64>("", "version").unwrap(), 7);
        assert!(row.try_get::<bool>("", "active").unwrap());
        assert_eq!(
            row.try_get::<chrono::DateTime<chrono::Utc>>("", "at")
                .unwrap(),
            at
        );
        assert_eq!(row.try_get::<Option<String>>("", "note").unwrap(), None);
        let taken = local.execute_raw(insert).await.unwrap_err();
        assert!(crate::error::local_unique_violation(&taken), "{taken}");
    }

    #[test]
    fn times_are_written_as_sqlx_writes_them_and_read_back() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-11-24T10:00:00.123456Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let ToSqlOutput::Owned(Sql::Text(s)) = bind(&Value::from(t)).unwrap() else {
            panic!("not text");
        };
        assert_eq!(s, "2026-11-24T10:00:00.123456+00:00");
        assert_eq!(parse_time(&s), Some(t));
        assert_eq!(parse_time("2026-11-24 10:00:00.123456"), Some(t));
    }
}
