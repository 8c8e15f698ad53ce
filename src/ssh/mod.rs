//! `rustok serve --ssh ADDR`: the console served to many staff members at once over SSH.
//!
//! One process, one [`Store`], one [`ActionQueue`], one [`Bus`] and one [`Relay`]; every SSH
//! session runs its own `ui::App` in its own tokio task with its own terminal size, colour
//! depth and input parser, and carries out its effects through its own `Executor` — so an
//! order paid in one session reaches every other session's Events pane through the shared bus.
//!
//! - `server.rs` — the russh handler: public-key authentication mapped to staff members
//!   (everything else refused and written to the audit log), pty / window-change / shell
//!   requests, the session limit and the per-session input rate cap.
//! - `session.rs` — one session's select loop and its ANSI backend over the SSH channel.
//! - `input.rs` — bytes from the client into key events and pastes.
//! - `window.rs` — the client's window size (handler → session → session table);
//!   `audit.rs` — the server's audit rows (logins, kicks).
//! - `control.rs` — the session table and its control socket; `admin.rs` — listing and
//!   ending sessions for a console or the CLI (the runtime's `LiveSessions`).
//!
//! Module order (each imports only modules before it): `error`, `gate` → `refusals` →
//! `input`, `window`, `audit` → `control` → `admin` → `session` → `server` → `certs`. The
//! parent (`Shared`, `serve`) wires them; the runtime never names this module.

pub mod admin;
mod audit;
pub mod certs;
pub mod control;
mod error;
pub mod gate;
pub mod input;
pub mod refusals;
mod server;
mod session;
mod window;

pub use error::SshError;
pub use server::BURST_GAP;

use crate::runtime::{ActionQueue, Bus, QueueOptions, Settings};
use russh::keys::{Algorithm, HashAlg, PrivateKey};
use rustok_domain::Tenant;
use rustok_store::Store;
use rustok_ui::{Config, Keymap, Theme};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

/// File name of the host key in the data directory.
pub const HOST_KEY_FILE: &str = "ssh_host_ed25519_key";

/// The host key's default place: the platform data directory.
pub fn default_host_key_path() -> PathBuf {
    crate::config::data_dir().join(HOST_KEY_FILE)
}

/// Per-server limits.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Concurrent console sessions; one more is told to come back later.
    pub max_sessions: usize,
    /// A session with no input for this long is closed.
    pub idle_timeout: Duration,
    /// Input bytes per second a session may send on average...
    pub input_rate: u32,
    /// ...and in one burst (a paste). Excess input is dropped and the user told so.
    pub input_burst: u32,
    /// What an unauthenticated client may hold (see [`gate`]).
    pub pre_auth: gate::PreAuthLimits,
    /// Refused logins from one source within this window are written as one row
    /// (see [`refusals`]).
    pub refusal_window: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_sessions: 64,
            idle_timeout: Duration::from_secs(30 * 60),
            input_rate: 16 * 1024,
            input_burst: 16 * 16 * 1024,
            pre_auth: gate::PreAuthLimits::default(),
            refusal_window: Duration::from_secs(60),
        }
    }
}

pub struct ServeOptions {
    /// Address to listen on (`127.0.0.1:2222`, `[::]:2222`, port 0 for any free port).
    pub addr: String,
    /// The ed25519 host key; created (mode 0600) when missing.
    pub host_key: PathBuf,
    pub db_url: String,
    /// The tenant every session opens in (it must exist).
    pub tenant: String,
    /// Every session read-only, whatever the staff member's role.
    pub read_only: bool,
    pub limits: Limits,
    /// Trust OpenSSH user certificates signed by the CA key(s) in this file.
    pub user_ca: Option<PathBuf>,
    /// The certificate revocation list [default: `revoked_certs` in the data directory].
    pub revoked_certs: Option<PathBuf>,
    /// Where the session-admin control socket (`ssh-PORT.sock`) goes; None: no socket.
    pub control_dir: Option<PathBuf>,
    /// Test-only: a session that receives exactly these bytes panics (to prove a panic ends
    /// that session only). Not settable from the command line.
    #[doc(hidden)]
    pub panic_on_input: Option<Vec<u8>>,
    /// `--stream` / `--stream-name`: the server's relay streams to JetStream (the config
    /// file's `stream` applies where unset).
    pub stream_url: Option<String>,
    pub stream_name: Option<String>,
}

/// What every session shares.
pub(crate) struct Shared {
    pub store: Store,
    pub queue: ActionQueue,
    pub bus: Bus,
    pub tenant: Tenant,
    pub config: Config,
    pub keymap: Keymap,
    pub themes: Vec<(String, Theme)>,
    pub warnings: Vec<String>,
    pub limits: Limits,
    pub read_only: bool,
    /// The database URL as the status bar shows it (no password).
    pub database: String,
    pub sessions: Arc<Semaphore>,
    /// Pre-authentication limits.
    pub gate: Arc<gate::Gate>,
    /// Trusted user certificate authorities.
    pub user_ca: Option<certs::UserCa>,
    /// The console sessions (`rustok ssh sessions`, `rustok ssh kick`, the console's
    /// Sessions view).
    pub table: control::SessionTable,
    /// The address the server listens on (names it in session lists).
    pub listen: String,
    /// Refused logins, coalesced per source.
    pub refusals: refusals::RefusalLog,
    /// Turns true when the server stops: sessions restore their terminals and end.
    pub stop: watch::Receiver<bool>,
    /// The latest database health report (None = reachable).
    pub health: watch::Receiver<Option<String>>,
    pub panic_on_input: Option<Vec<u8>>,
}

/// Loads the host key at `path`, or creates a new ed25519 key there (mode 0600).
pub fn load_or_create_host_key(path: &Path) -> Result<PrivateKey, SshError> {
    if path.exists() {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if let Ok(meta) = std::fs::metadata(path)
                && meta.permissions().mode() & 0o077 != 0
            {
                return Err(SshError::HostKeyExposed {
                    path: path.display().to_string(),
                    mode: meta.permissions().mode() & 0o777,
                });
            }
        }
        // Bounded (crate::input): a host key path naming a device or a huge file is refused
        // without reading it all.
        let text =
            crate::input::read_text(path, crate::input::MAX_HOST_KEY_FILE_BYTES, "host key")?;
        let key =
            russh::keys::decode_secret_key(&text, None).map_err(|e| SshError::HostKeyInvalid {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
        if let Some(why) = server::key_weakness(key.public_key(), true) {
            return Err(SshError::HostKeyWeak {
                path: path.display().to_string(),
                why,
            });
        }
        return Ok(key);
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| SshError::CreateDir {
            path: dir.display().to_string(),
            source,
        })?;
    }
    let key = PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519)
        .map_err(|e| SshError::Generate(e.to_string()))?;
    key.write_openssh_file(path, russh::keys::ssh_key::LineEnding::LF)
        .map_err(|e| SshError::WriteKey {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(
            |source| SshError::Restrict {
                path: path.display().to_string(),
                source,
            },
        )?;
    }
    tracing::info!(path = %path.display(), "created SSH host key");
    Ok(key)
}

/// A running SSH server.
pub struct SshServer {
    addr: SocketAddr,
    fingerprint: String,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    /// The accept loop (None once it has been awaited).
    task: Option<JoinHandle<std::io::Result<()>>>,
    background: Vec<JoinHandle<()>>,
}

impl SshServer {
    /// Opens the database, loads (or creates) the host key, binds `opts.addr` and starts
    /// accepting connections.
    pub async fn start(opts: ServeOptions) -> Result<SshServer, SshError> {
        let host_key = load_or_create_host_key(&opts.host_key)?;
        let fingerprint = host_key
            .public_key()
            .fingerprint(HashAlg::Sha256)
            .to_string();
        let store = Store::connect(&opts.db_url).await?;
        // The server's own read, before any staff member: which tenant sessions open in.
        let tenant = store
            .tenant_by_slug(&opts.tenant)
            .await?
            .ok_or_else(|| SshError::NoTenant(rustok_domain::text::printable(&opts.tenant)))?;
        let (settings, bus, relay) = crate::runtime::stream::console_services(
            &store,
            opts.stream_url.as_deref(),
            opts.stream_name.as_deref(),
        );
        let Settings {
            config,
            keymap,
            themes,
            warnings,
        } = settings;
        let (queue, _worker) = ActionQueue::spawn(
            store.clone(),
            Some(relay.waker()),
            QueueOptions {
                session: Some(format!("ssh-server-{}", uuid::Uuid::now_v7())),
                audit_log: crate::security::audit_log_enabled(),
                ..QueueOptions::default()
            },
        );
        let (stop, stop_rx) = watch::channel(false);
        let mut background = Vec::new();
        background.push({
            let relay = relay.clone();
            let stop_rx = stop_rx.clone();
            tokio::spawn(async move { relay.run(stop_rx).await })
        });
        // Other processes' commits (CLI, other consoles) reach the sessions too.
        background.push(crate::runtime::feed::spawn_to_bus(
            store.clone(),
            bus.clone(),
            crate::runtime::FeedConfig::default(),
            stop_rx.clone(),
        ));
        let (health_tx, health) = watch::channel(None);
        background.push(tokio::spawn(crate::runtime::health::watch_database(
            store.clone(),
            Duration::from_secs(2),
            Duration::from_secs(3),
            move |status| {
                let _ = health_tx.send(status);
            },
            stop_rx.clone(),
        )));

        let user_ca = match &opts.user_ca {
            Some(path) => Some(
                certs::UserCa::load(
                    path,
                    opts.revoked_certs
                        .clone()
                        .unwrap_or_else(certs::default_revoked_path),
                )
                .map_err(SshError::UserCa)?,
            ),
            None => None,
        };
        let mut limits = opts.limits;
        if let Some(fds) = gate::descriptor_limit()
            && let Some(asked) = limits.pre_auth.fit_descriptors(fds, limits.max_sessions)
        {
            let note = format!(
                "--max-unauthenticated {asked} lowered to {} to fit the descriptor limit of {fds} (ulimit -n) next to {} sessions",
                limits.pre_auth.max_unauthenticated, limits.max_sessions
            );
            tracing::warn!("{note}");
            eprintln!("warning: {note}");
        }
        let listen = |source| SshError::Listen {
            addr: opts.addr.clone(),
            source,
        };
        let listener = tokio::net::TcpListener::bind(&opts.addr)
            .await
            .map_err(listen)?;
        let addr = listener.local_addr().map_err(listen)?;
        let shared = Arc::new(Shared {
            database: rustok_store::redact_url(store.url()),
            store,
            queue,
            bus,
            tenant,
            read_only: opts.read_only || config.read_only,
            config,
            keymap,
            themes,
            warnings,
            sessions: Arc::new(Semaphore::new(limits.max_sessions.max(1))),
            gate: gate::Gate::new(limits.pre_auth.clone()),
            refusals: refusals::RefusalLog::new(limits.refusal_window),
            table: control::SessionTable::default(),
            listen: addr.to_string(),
            user_ca,
            stop: stop_rx.clone(),
            limits,
            health,
            panic_on_input: opts.panic_on_input,
        });
        #[cfg(unix)]
        if let Some(dir) = &opts.control_dir {
            let (control, path) =
                control::bind(dir, addr.port()).map_err(|source| SshError::ControlSocket {
                    dir: dir.display().to_string(),
                    source,
                })?;
            background.push(tokio::spawn(control::serve(
                control,
                path,
                shared.clone(),
                addr.to_string(),
                stop_rx.clone(),
            )));
        }
        background.push(tokio::spawn(server::flush_refusals(
            shared.clone(),
            stop_rx.clone(),
        )));
        let task = tokio::spawn(server::run(
            listener,
            Arc::new(server::russh_config(host_key, &shared.limits)),
            shared.clone(),
            stop_rx,
        ));
        tracing::info!(%addr, %fingerprint, "SSH server listening");
        Ok(SshServer {
            addr,
            fingerprint,
            shared,
            stop,
            task: Some(task),
            background,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The host key's SHA256 fingerprint, as `ssh` shows it on first connection.
    pub fn host_key_fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Console sessions open right now.
    pub fn active_sessions(&self) -> usize {
        self.shared.limits.max_sessions.max(1) - self.shared.sessions.available_permits()
    }

    /// Whether the accept loop is still running.
    pub fn is_running(&self) -> bool {
        self.task.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Unauthenticated connections open right now.
    pub fn unauthenticated_connections(&self) -> usize {
        self.shared.gate.unauthenticated()
    }

    /// Stops accepting, tells every console session (which restores its client's terminal),
    /// disconnects every client, stops the relay.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task {
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }
        for t in self.background {
            let _ = tokio::time::timeout(Duration::from_secs(2), t).await;
        }
    }

    /// Runs until the accept loop fails or a stop signal (SIGINT, SIGTERM) arrives.
    pub async fn run_until_signal(mut self) -> Result<(), SshError> {
        let Some(mut task) = self.task.take() else {
            return Ok(());
        };
        // A finished task handle must not be awaited again (tokio panics), so only the one
        // still running goes back for `shutdown` to wait on.
        let result = tokio::select! {
            r = &mut task => match r {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(SshError::Stopped(e.to_string())),
                Err(e) => Err(SshError::Stopped(e.to_string())),
            },
            _ = stop_signal() => {
                self.task = Some(task);
                Ok(())
            }
        };
        self.shutdown().await;
        result
    }
}

/// Completes once `flag` is true (or its sender is gone).
pub(crate) async fn stopped(flag: &mut watch::Receiver<bool>) {
    let _ = flag.wait_for(|s| *s).await;
}

#[cfg(unix)]
async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) {
        (Ok(mut a), Ok(mut b)) => {
            tokio::select! {
                _ = a.recv() => {}
                _ = b.recv() => {}
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn stop_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

/// `rustok serve --ssh ADDR`: serves until interrupted.
pub async fn serve(opts: ServeOptions) -> Result<(), SshError> {
    let host_key = opts.host_key.clone();
    let server = SshServer::start(opts).await?;
    let keys = server
        .shared
        .store
        .staff_list()
        .await?
        .iter()
        .filter(|s| s.active)
        .map(|s| s.ssh_keys.len())
        .sum::<usize>();
    println!(
        "serving the console over SSH on {} (host key {} at {}; {} staff key(s) registered)",
        server.local_addr(),
        server.host_key_fingerprint(),
        host_key.display(),
        keys
    );
    if keys == 0 {
        println!(
            "no staff member has an SSH key yet: add one with `rustok staff add HANDLE --role editor --ssh-key ~/.ssh/id_ed25519.pub`"
        );
    }
    server.run_until_signal().await
}
