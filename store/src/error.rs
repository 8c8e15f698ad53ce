use rustok_domain::DomainError;
use sea_orm::DbErr;

/// What can go wrong in the store. Domain rejections keep their type so callers can tell a
/// refused command (exit 1, nothing changed) from an infrastructure failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("cannot open database {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("{0}")]
    Config(String),
    #[error("database error: {0}")]
    Db(String),
    /// The database could not be reached (connection refused or lost, pool timed out, server
    /// shutting down). Nothing the command decided is known to be committed; see
    /// `Store::execute` for how a retry stays safe.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// The database refused to write: a read-only file, file system or server. Nothing the
    /// statement tried to change was written.
    #[error("the database is read-only ({0})")]
    ReadOnly(String),
    /// The disk (or the database's size limit) is full. The transaction rolled back.
    #[error("the database's disk is full ({0})")]
    Full(String),
}

impl StoreError {
    pub fn domain(&self) -> Option<&DomainError> {
        match self {
            StoreError::Domain(d) => Some(d),
            _ => None,
        }
    }

    /// A connection-level failure (worth retrying once the database is back), as opposed to a
    /// refused command or broken data.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::Unavailable(_) | StoreError::Connect { .. }
        )
    }
}

pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl From<DbErr> for StoreError {
    fn from(e: DbErr) -> Self {
        if connection_level(&e) {
            return StoreError::Unavailable(one_line(&e.to_string()));
        }
        match storage_fault(&e) {
            Some(fault) => fault,
            None => StoreError::Db(one_line(&e.to_string())),
        }
    }
}

/// A read-only database or a full disk, told apart from other refusals so the user reads what
/// to fix: SQLite's SQLITE_READONLY (8, with its extended codes) and SQLITE_FULL (13);
/// PostgreSQL's read_only_sql_transaction (25006), disk_full (53100) and
/// insufficient_resources (53000).
pub(crate) fn storage_fault(e: &DbErr) -> Option<StoreError> {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error as E;
    let (DbErr::Exec(RuntimeErr::SqlxError(s)) | DbErr::Query(RuntimeErr::SqlxError(s))) = e else {
        return None;
    };
    let E::Database(d) = &**s else {
        return None;
    };
    let code = d.code()?;
    let message = one_line(d.message());
    // SQLite's codes are numbers (primary code in the low byte); PostgreSQL's SQLSTATEs are
    // five characters, and most are digits too: tell them apart by the driver, not the text.
    if d.try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>()
        .is_some()
        || d.try_downcast_ref::<LocalError>().is_some()
    {
        return match code.parse::<i64>().ok()? & 0xff {
            8 => Some(StoreError::ReadOnly(message)),
            13 => Some(StoreError::Full(message)),
            _ => None,
        };
    }
    match &*code {
        "25006" => Some(StoreError::ReadOnly(message)),
        "53100" | "53000" => Some(StoreError::Full(message)),
        _ => None,
    }
}

/// Whether an SQLite error of the pool is SQLITE_BUSY ("database is locked", with its extended
/// codes), at connecting or in a statement.
pub(crate) fn sqlite_busy(e: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error as E;
    let (DbErr::Conn(RuntimeErr::SqlxError(s))
    | DbErr::Exec(RuntimeErr::SqlxError(s))
    | DbErr::Query(RuntimeErr::SqlxError(s))) = e
    else {
        return false;
    };
    let E::Database(d) = &**s else {
        return false;
    };
    d.try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>()
        .is_some()
        && d.code()
            .and_then(|c| c.parse::<i64>().ok())
            .is_some_and(|c| c & 0xff == 5)
}

/// An SQLite error of the in-thread path (`local.rs`) as a database error sqlx would have
/// reported, so the store's error handling (a taken key, a read-only file, a full disk) treats
/// both paths alike. Defined here, below `local`, which makes them.
#[derive(Debug, thiserror::Error)]
#[error("(code: {code}) {message}")]
pub(crate) struct LocalError {
    /// SQLite's extended result code.
    pub(crate) code: i32,
    pub(crate) message: String,
}

impl sea_orm::sqlx::error::DatabaseError for LocalError {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
        Some(std::borrow::Cow::Owned(self.code.to_string()))
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> sea_orm::sqlx::error::ErrorKind {
        use sea_orm::sqlx::error::ErrorKind;
        match self.code {
            2067 | 1555 => ErrorKind::UniqueViolation,
            787 => ErrorKind::ForeignKeyViolation,
            1299 => ErrorKind::NotNullViolation,
            275 => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}

/// The SQLite error of the in-thread path (`local.rs`) inside a database error, if it is one.
pub(crate) fn local_error(e: &DbErr) -> Option<&LocalError> {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error as E;
    let (DbErr::Exec(RuntimeErr::SqlxError(s)) | DbErr::Query(RuntimeErr::SqlxError(s))) = e else {
        return None;
    };
    let E::Database(d) = &**s else {
        return None;
    };
    d.try_downcast_ref::<LocalError>()
}

/// Whether an error of the in-thread SQLite path is a taken unique key (sea-orm's `sql_err`
/// knows only sqlx's own errors).
pub(crate) fn local_unique_violation(e: &DbErr) -> bool {
    local_error(e).is_some_and(|l| matches!(l.code, 2067 | 1555))
}

/// A database error as the store reports it, a taken unique key as a duplicate of `what`.
pub(crate) fn map_unique(e: DbErr, what: impl FnOnce() -> String) -> StoreError {
    use sea_orm::SqlErr;
    let taken = matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
        || local_unique_violation(&e);
    if taken {
        StoreError::Domain(DomainError::Duplicate { what: what() })
    } else {
        e.into()
    }
}

/// A sqlx error (a pool's, a connection's) as the store reports it.
pub(crate) fn sqlx_err(e: sea_orm::sqlx::Error) -> StoreError {
    DbErr::Exec(sea_orm::RuntimeErr::SqlxError(std::sync::Arc::new(e))).into()
}

/// Whether a database error means "could not talk to the server" rather than "the server
/// refused this statement".
pub(crate) fn connection_level(e: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    match e {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(s)) | DbErr::Query(RuntimeErr::SqlxError(s)) => {
            sqlx_connection_level(s)
        }
        _ => false,
    }
}

pub(crate) fn sqlx_connection_level(e: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error as E;
    match e {
        E::Io(_) | E::Tls(_) | E::Protocol(_) | E::PoolTimedOut | E::WorkerCrashed => true,
        E::BeginFailed => true,
        // SQLSTATE class 08 (connection exception), 57P01 admin shutdown, 57P02 crash
        // shutdown, 57P03 cannot connect now (starting up / shutting down).
        E::Database(d) => d
            .code()
            .is_some_and(|c| c.starts_with("08") || matches!(&*c, "57P01" | "57P02" | "57P03")),
        _ => false,
    }
}

/// Why an SQLite file (or its `-wal`/`-shm` companions) cannot be opened for writing, when the
/// file system says so: read-only, no space left, or no permission. Probes by creating and
/// writing a small file next to the database (then removing it).
pub(crate) fn diagnose_file(db: &std::path::Path) -> Option<String> {
    use std::io::{ErrorKind, Write};
    let dir = match db.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let probe = dir.join(format!(".rustok-probe-{}", std::process::id()));
    let result = std::fs::File::create(&probe).and_then(|mut f| {
        f.write_all(&[0u8; 64 * 1024])?;
        f.sync_all()
    });
    let _ = std::fs::remove_file(&probe);
    let e = result.err()?;
    let place = dir.display();
    Some(match e.kind() {
        ErrorKind::ReadOnlyFilesystem => format!("the file system holding {place} is read-only"),
        ErrorKind::StorageFull => format!("no space left on the disk holding {place}"),
        ErrorKind::PermissionDenied => format!("no permission to write in {place}"),
        _ => format!("cannot write in {place}: {e}"),
    })
}

pub(crate) fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}
