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
            StoreError::Unavailable(one_line(&e.to_string()))
        } else {
            StoreError::Db(one_line(&e.to_string()))
        }
    }
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

pub(crate) fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}
