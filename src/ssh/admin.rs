//! Where a console (or the CLI) finds the live SSH console sessions and ends one
//! (docs/SSH.md "Session admin").
//!
//! - A console **inside an SSH session** reads its own server's session table directly and
//!   ends a session there.
//! - A **local console** (and `rustok ssh sessions`) asks every server running from the data
//!   directory through its control socket (`ssh-PORT.sock`, mode 0600).
//!
//! [`SessionAdmin`] is the SSH transport's `runtime::LiveSessions`: whoever opens a session
//! injects one into its reads (`Reads::with_live_sessions`; the runtime does not know SSH).
//! Authorization is not done here: reads go through `Reads::ssh_sessions` (`staff:read`) and
//! kicks through `Reads::kick_ssh_session` (`staff:update`, refused read-only), which call
//! this. Every kick, whichever way it arrives, ends in `control::kick_and_audit` on the server
//! (the client is told why and gets its terminal back; one `ssh_kick` audit row per session).

use super::Shared;
use super::control::{self, Target};
use crate::runtime::{LiveSessions, LiveSessionsError};
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use rustok_domain::read::{SshSession, SshSessions};
use std::path::PathBuf;
use std::sync::Arc;

/// Why the sessions could not be listed or ended.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("the SSH server {server} refused: {reason}")]
    Refused { server: String, reason: String },
    #[error("the SSH server {server} did not answer: {reason}")]
    NoAnswer { server: String, reason: String },
    #[error(
        "no SSH server {server} is running from {dir} (the session list is out of date; it reloads)"
    )]
    NotRunning { server: String, dir: String },
    #[error("session {id} belongs to the SSH server {server}, not this one ({this})")]
    OtherServer {
        id: u64,
        server: String,
        this: String,
    },
    #[cfg(not(unix))]
    #[error("session admin through control sockets needs a Unix system")]
    Unsupported,
}

/// Where the sessions are.
#[derive(Clone)]
pub struct SessionAdmin(Where);

#[derive(Clone)]
enum Where {
    /// A console inside an SSH session: its own server's table (`yours`: this session's id).
    Server { shared: Arc<Shared>, yours: u64 },
    /// A local console or the CLI: every server with a control socket in this directory.
    Sockets(PathBuf),
}

impl std::fmt::Debug for SessionAdmin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Where::Server { shared, yours } => f
                .debug_struct("Server")
                .field("listen", &shared.listen)
                .field("yours", yours)
                .finish(),
            Where::Sockets(dir) => f.debug_tuple("Sockets").field(dir).finish(),
        }
    }
}

impl SessionAdmin {
    /// The servers running from the data directory (`RUSTOK_DATA_DIR` or the platform's).
    pub fn data_dir() -> SessionAdmin {
        SessionAdmin::sockets(crate::config::data_dir())
    }

    /// The servers with a control socket in `dir`.
    pub fn sockets(dir: impl Into<PathBuf>) -> SessionAdmin {
        SessionAdmin(Where::Sockets(dir.into()))
    }

    /// The session `yours` of the server `shared` (a console running over SSH).
    pub(crate) fn server(shared: Arc<Shared>, yours: u64) -> SessionAdmin {
        SessionAdmin(Where::Server { shared, yours })
    }

    /// The live sessions, oldest first.
    pub async fn list(&self) -> Result<SshSessions, AdminError> {
        match &self.0 {
            Where::Server { shared, yours } => Ok(SshSessions {
                origin: format!("this server ({})", shared.listen),
                servers: vec![shared.listen.clone()],
                sessions: shared.table.rows(&shared.listen),
                yours: Some((shared.listen.clone(), *yours)),
            }),
            Where::Sockets(dir) => list_sockets(dir).await,
        }
    }

    /// Ends the session `id` of `server` that started at `since`, as `by`, telling its client
    /// `reason`. Returns the sessions ended (none: it had ended already).
    pub async fn kick(
        &self,
        server: &str,
        id: u64,
        since: DateTime<Utc>,
        by: &str,
        reason: &str,
    ) -> Result<Vec<SshSession>, AdminError> {
        match &self.0 {
            Where::Server { shared, .. } => {
                if server != shared.listen {
                    return Err(AdminError::OtherServer {
                        id,
                        server: server.into(),
                        this: shared.listen.clone(),
                    });
                }
                let target = Target::Session { id, since };
                Ok(control::kick_and_audit(shared, &target, by, reason, &shared.listen).await)
            }
            Where::Sockets(dir) => {
                let request = control::Request::KickSession {
                    id,
                    since,
                    reason: reason.into(),
                    by: by.into(),
                };
                kick_socket(dir, server, &request).await
            }
        }
    }
}

impl LiveSessions for SessionAdmin {
    fn list(&self) -> BoxFuture<'_, Result<SshSessions, LiveSessionsError>> {
        Box::pin(async move { Ok(SessionAdmin::list(self).await?) })
    }

    fn kick<'a>(
        &'a self,
        server: &'a str,
        id: u64,
        since: DateTime<Utc>,
        by: &'a str,
        reason: &'a str,
    ) -> BoxFuture<'a, Result<Vec<SshSession>, LiveSessionsError>> {
        Box::pin(async move { Ok(SessionAdmin::kick(self, server, id, since, by, reason).await?) })
    }
}

#[cfg(unix)]
async fn list_sockets(dir: &std::path::Path) -> Result<SshSessions, AdminError> {
    let mut out = SshSessions {
        origin: dir.display().to_string(),
        ..SshSessions::default()
    };
    for socket in control::sockets(dir) {
        let answer = match control::ask(&socket, &control::Request::Server).await {
            // A server from before `Server` was asked: its sessions alone.
            Ok(control::Response::Error(_)) => control::ask(&socket, &control::Request::Sessions)
                .await
                .map(|r| match r {
                    control::Response::Sessions(rows) => control::Response::Server {
                        listen: server_of(&socket, &rows),
                        sessions: rows,
                    },
                    other => other,
                }),
            other => other,
        };
        match answer {
            Ok(control::Response::Server { listen, sessions }) => {
                out.servers.push(listen);
                out.sessions.extend(sessions);
            }
            Ok(control::Response::Error(reason)) => {
                return Err(AdminError::Refused {
                    server: socket.display().to_string(),
                    reason,
                });
            }
            Ok(_) => {}
            // A socket left over by a server that did not stop cleanly.
            Err(e) => {
                tracing::debug!(socket = %socket.display(), error = %e, "no SSH server answers")
            }
        }
    }
    out.servers.sort();
    out.sessions
        .sort_by(|a, b| (a.since, &a.server, a.id).cmp(&(b.since, &b.server, b.id)));
    Ok(out)
}

/// The server's address as its rows name it, else as its socket does (`ssh-2222.sock` →
/// `port 2222`).
#[cfg(unix)]
fn server_of(socket: &std::path::Path, rows: &[SshSession]) -> String {
    match rows.first() {
        Some(r) => r.server.clone(),
        None => socket
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("ssh-"))
            .and_then(|n| n.strip_suffix(".sock"))
            .map_or_else(
                || socket.display().to_string(),
                |port| format!("port {port}"),
            ),
    }
}

#[cfg(unix)]
async fn kick_socket(
    dir: &std::path::Path,
    server: &str,
    request: &control::Request,
) -> Result<Vec<SshSession>, AdminError> {
    let port = server
        .parse::<std::net::SocketAddr>()
        .map(|a| a.port())
        .ok()
        .or_else(|| server.rsplit(':').next().and_then(|p| p.parse().ok()));
    let not_running = || AdminError::NotRunning {
        server: server.into(),
        dir: dir.display().to_string(),
    };
    let socket = dir.join(control::socket_name(port.ok_or_else(not_running)?));
    if !socket.exists() {
        return Err(not_running());
    }
    match control::ask(&socket, request).await {
        Ok(control::Response::Kicked(rows)) => Ok(rows),
        Ok(control::Response::Error(reason)) => Err(AdminError::Refused {
            server: server.into(),
            reason,
        }),
        Ok(_) => Err(AdminError::NoAnswer {
            server: server.into(),
            reason: "an answer to another question".into(),
        }),
        Err(e) => Err(AdminError::NoAnswer {
            server: server.into(),
            reason: e.to_string(),
        }),
    }
}

#[cfg(not(unix))]
async fn list_sockets(dir: &std::path::Path) -> Result<SshSessions, AdminError> {
    Ok(SshSessions {
        origin: dir.display().to_string(),
        ..SshSessions::default()
    })
}

#[cfg(not(unix))]
async fn kick_socket(
    _dir: &std::path::Path,
    _server: &str,
    _request: &control::Request,
) -> Result<Vec<SshSession>, AdminError> {
    Err(AdminError::Unsupported)
}
