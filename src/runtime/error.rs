//! The runtime's errors: one line each, for the user. The CLI maps them onto its own error
//! type (and exit code); the transports print them as they are.

use super::queue::QueueError;
use rustok_domain::DomainError;
use rustok_store::StoreError;

/// Why opening or running a session failed.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The store refused or failed (a refused command or read is `StoreError::Domain`).
    #[error(transparent)]
    Store(StoreError),
    /// The action queue stopped or is full.
    #[error(transparent)]
    Queue(QueueError),
    /// The terminal (local or the SSH client's) failed.
    #[error(transparent)]
    Console(#[from] ConsoleError),
}

impl RuntimeError {
    /// The refusal, when the store or the domain refused.
    pub fn domain(&self) -> Option<&DomainError> {
        match self {
            RuntimeError::Store(s) => s.domain(),
            _ => None,
        }
    }
}

impl From<StoreError> for RuntimeError {
    fn from(e: StoreError) -> Self {
        RuntimeError::Store(e)
    }
}

impl From<DomainError> for RuntimeError {
    fn from(e: DomainError) -> Self {
        RuntimeError::Store(StoreError::Domain(e))
    }
}

impl From<QueueError> for RuntimeError {
    fn from(e: QueueError) -> Self {
        match e {
            QueueError::Store(s) => RuntimeError::Store(s),
            other => RuntimeError::Queue(other),
        }
    }
}

/// Why a console loop stopped on its terminal: the local one or an SSH client's.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("cannot open the terminal: {0}")]
    Open(std::io::Error),
    #[error("cannot set up the screen: {0}")]
    Setup(String),
    #[error("cannot draw: {0}")]
    Draw(String),
    #[error("cannot resize: {0}")]
    Resize(String),
    #[error("terminal input failed: {0}")]
    Input(std::io::Error),
    /// The SSH client's channel is gone.
    #[error("the client went away")]
    Gone,
}
