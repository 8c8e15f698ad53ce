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
}

pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl From<DbErr> for StoreError {
    fn from(e: DbErr) -> Self {
        StoreError::Db(one_line(&e.to_string()))
    }
}

pub(crate) fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}
