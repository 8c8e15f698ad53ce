//! Session admin: a running `serve` keeps a table of its console sessions and answers on a
//! local control socket, `ssh-PORT.sock` in the data directory (mode 0600: only the Unix user
//! running the server — who can read the database anyway — can connect). `rustok ssh
//! sessions` and `rustok ssh kick` find every such socket in the data directory, ask each
//! server, and check the acting staff member's role before a kick (docs/SSH.md).
//!
//! The protocol is one JSON request line and one JSON response line per connection.

use super::Shared;
use super::window::ClientSize;
use chrono::{DateTime, Utc};
use rustok_domain::rbac::Role;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::watch;

/// The largest request read from the socket.
const MAX_REQUEST: u64 = 16 * 1024;

/// The control socket's file name for a server listening on `port`.
pub fn socket_name(port: u16) -> String {
    format!("ssh-{port}.sock")
}

/// The control sockets in `dir` (one per running server; stale ones are skipped by callers).
pub fn sockets(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("ssh-") && n.ends_with(".sock"))
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    Sessions,
    /// The server's address and its sessions (`Response::Server`).
    Server,
    /// Ends the one session with this id that started at `since` (a row shown or listed a
    /// moment ago never ends a newer session that got the same id). `by` was checked by the
    /// asker against the database (`Reads::kick_ssh_session`) and is written to the audit log.
    KickSession {
        id: u64,
        since: DateTime<Utc>,
        reason: String,
        by: String,
    },
}

/// One session as `rustok ssh sessions` and the console show it.
pub use rustok_domain::read::SshSession as SessionRow;

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Response {
    Sessions(Vec<SessionRow>),
    Server {
        listen: String,
        sessions: Vec<SessionRow>,
    },
    Kicked(Vec<SessionRow>),
    Error(String),
}

/// One console session in the table.
pub(crate) struct SessionEntry {
    pub id: u64,
    pub handle: String,
    pub role: Role,
    pub source: String,
    pub since: DateTime<Utc>,
    started: Instant,
    /// Milliseconds after `started` of the last input.
    last_input_ms: AtomicU64,
    pub window: Arc<ClientSize>,
    /// Set to `(by, reason)` to end the session.
    pub kick: watch::Sender<Option<(String, String)>>,
}

impl SessionEntry {
    pub fn touch(&self) {
        let ms = self.started.elapsed().as_millis() as u64;
        self.last_input_ms.store(ms, Ordering::Relaxed);
    }

    fn row(&self, server: &str) -> SessionRow {
        let idle = self.started.elapsed().saturating_sub(Duration::from_millis(
            self.last_input_ms.load(Ordering::Relaxed),
        ));
        let (cols, rows) = self.window.current();
        SessionRow {
            id: self.id,
            handle: self.handle.clone(),
            role: self.role.as_str().into(),
            source: self.source.clone(),
            since: self.since,
            idle_secs: idle.as_secs(),
            cols,
            rows,
            server: server.into(),
        }
    }
}

/// Which session a kick ends: the one with this id that started at this moment (`rustok ssh
/// kick` resolves an id or a handle to these from the listing first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Session { id: u64, since: DateTime<Utc> },
}

impl Target {
    fn names(&self, e: &SessionEntry) -> bool {
        match self {
            Target::Session { id, since } => e.id == *id && e.since == *since,
        }
    }
}

/// The server's console sessions.
#[derive(Default)]
pub(crate) struct SessionTable {
    next: AtomicU64,
    entries: Mutex<BTreeMap<u64, Arc<SessionEntry>>>,
}

impl SessionTable {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Arc<SessionEntry>>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn register(
        &self,
        handle: String,
        role: Role,
        source: String,
        window: Arc<ClientSize>,
    ) -> Arc<SessionEntry> {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let entry = Arc::new(SessionEntry {
            id,
            handle,
            role,
            source,
            since: Utc::now(),
            started: Instant::now(),
            last_input_ms: AtomicU64::new(0),
            window,
            kick: watch::channel(None).0,
        });
        self.lock().insert(id, entry.clone());
        entry
    }

    pub fn remove(&self, id: u64) {
        self.lock().remove(&id);
    }

    pub fn rows(&self, server: &str) -> Vec<SessionRow> {
        self.lock().values().map(|e| e.row(server)).collect()
    }

    /// Ends the sessions `target` names; returns them.
    pub fn kick(&self, target: &Target, by: &str, reason: &str, server: &str) -> Vec<SessionRow> {
        let hit: Vec<Arc<SessionEntry>> = self
            .lock()
            .values()
            .filter(|e| target.names(e))
            .cloned()
            .collect();
        for e in &hit {
            e.kick
                .send_replace(Some((by.to_string(), reason.to_string())));
        }
        hit.iter().map(|e| e.row(server)).collect()
    }
}

#[cfg(unix)]
/// Binds the control socket in `dir` for a server on `port` (replacing a stale one).
pub(crate) fn bind(dir: &Path, port: u16) -> std::io::Result<(tokio::net::UnixListener, PathBuf)> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(socket_name(port));
    if path.exists() {
        // A socket nobody answers on is left over from a server that did not stop cleanly.
        if std::os::unix::net::UnixStream::connect(&path).is_ok() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AddrInUse,
                format!("{} is in use by a running server", path.display()),
            ));
        }
        std::fs::remove_file(&path)?;
    }
    let listener = tokio::net::UnixListener::bind(&path)?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok((listener, path))
}

#[cfg(unix)]
/// Answers on the control socket until `stop`; removes the socket file then.
pub(crate) async fn serve(
    listener: tokio::net::UnixListener,
    path: PathBuf,
    shared: Arc<Shared>,
    server: String,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let conn = tokio::select! {
            c = listener.accept() => c,
            _ = super::stopped(&mut stop) => break,
        };
        let Ok((stream, _)) = conn else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let shared = shared.clone();
        let server = server.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(Duration::from_secs(5), answer(stream, &shared, &server))
                .await;
        });
    }
    let _ = std::fs::remove_file(&path);
}

/// Ends the sessions `target` names on this server — each client is told `by` and `reason`
/// and gets its terminal back — and writes one `ssh_kick` audit row per session. The caller
/// has checked that `by` may (`staff:update`, not read-only): the CLI and the console both do,
/// through `Reads::require_operation`.
pub(crate) async fn kick_and_audit(
    shared: &Shared,
    target: &Target,
    by: &str,
    reason: &str,
    server: &str,
) -> Vec<SessionRow> {
    let reason = super::refusals::client_text(reason);
    let by = super::refusals::client_text(by);
    let kicked = shared.table.kick(target, &by, &reason, server);
    for row in &kicked {
        tracing::warn!(session = row.id, user = %row.handle, %by, %reason, "SSH session kicked");
        super::audit::write_audit_row(
            shared,
            "ssh_kick",
            by.clone(),
            format!("ssh {}", row.source),
            rustok_domain::audit::AuditOutcome::Ok,
            Some(format!(
                "ended session {} of {} ({}): {reason}",
                row.id, row.handle, row.role
            )),
        )
        .await;
    }
    kicked
}

#[cfg(unix)]
async fn answer(
    stream: tokio::net::UnixStream,
    shared: &Shared,
    server: &str,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    BufReader::new(tokio::io::AsyncReadExt::take(read, MAX_REQUEST))
        .read_line(&mut line)
        .await?;
    let response = match serde_json::from_str::<Request>(&line) {
        Ok(Request::Sessions) => Response::Sessions(shared.table.rows(server)),
        Ok(Request::Server) => Response::Server {
            listen: server.to_string(),
            sessions: shared.table.rows(server),
        },
        Ok(Request::KickSession {
            id,
            since,
            reason,
            by,
        }) => Response::Kicked(
            kick_and_audit(shared, &Target::Session { id, since }, &by, &reason, server).await,
        ),
        Err(e) => Response::Error(format!("bad request: {e}")),
    };
    let mut out = serde_json::to_vec(&response).map_err(std::io::Error::other)?;
    out.push(b'\n');
    write.write_all(&out).await?;
    write.shutdown().await
}

#[cfg(unix)]
/// Sends `request` to the server at `socket` and reads its answer.
pub async fn ask(socket: &Path, request: &Request) -> std::io::Result<Response> {
    let stream = tokio::time::timeout(
        Duration::from_secs(2),
        tokio::net::UnixStream::connect(socket),
    )
    .await
    .map_err(|_| std::io::Error::other("the server did not answer"))??;
    let (read, mut write) = stream.into_split();
    let mut line = serde_json::to_vec(request).map_err(std::io::Error::other)?;
    line.push(b'\n');
    write.write_all(&line).await?;
    let mut answer = String::new();
    tokio::time::timeout(
        Duration::from_secs(5),
        BufReader::new(read).read_line(&mut answer),
    )
    .await
    .map_err(|_| std::io::Error::other("the server did not answer"))??;
    serde_json::from_str(&answer).map_err(std::io::Error::other)
}
