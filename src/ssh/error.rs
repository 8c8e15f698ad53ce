//! Why the SSH server could not start or stopped: one line each, for the operator.

use crate::input::InputError;
use rustok_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum SshError {
    #[error("host key {path} is readable by others (mode {mode:o}); run: chmod 600 {path}")]
    HostKeyExposed { path: String, mode: u32 },
    /// The host key file could not be read (bounded, UTF-8).
    #[error(transparent)]
    HostKeyFile(#[from] InputError),
    #[error("cannot read host key {path}: {reason}")]
    HostKeyInvalid { path: String, reason: String },
    #[error(
        "host key {path} refused: {why}; use an ed25519 key (ssh-keygen -t ed25519 -f FILE), or remove the file and one is created"
    )]
    HostKeyWeak { path: String, why: String },
    #[error("cannot create directory {path}: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot generate a host key: {0}")]
    Generate(String),
    #[error("cannot write host key {path}: {reason}")]
    WriteKey { path: String, reason: String },
    #[error("cannot restrict host key {path}: {source}")]
    Restrict {
        path: String,
        source: std::io::Error,
    },
    /// The tenant sessions open in does not exist (the slug is shown terminal-safe).
    #[error("no tenant '{0}': create it first (rustok tenant create {0} --name NAME)")]
    NoTenant(String),
    /// The user CA file or the revocation list is unusable.
    #[error("{0}")]
    UserCa(String),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error("cannot create the control socket in {dir}: {source}")]
    ControlSocket { dir: String, source: std::io::Error },
    #[error("the SSH server stopped: {0}")]
    Stopped(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}
