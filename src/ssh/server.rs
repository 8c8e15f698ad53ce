//! The russh side: one [`Conn`] per TCP connection. Authentication is by public key only,
//! and a key is accepted only for the active staff member it is registered to (the SSH user
//! name is the staff handle). Unknown keys, password and keyboard-interactive attempts are
//! refused and written to the audit log. An authenticated connection gets one console
//! session on its first session channel once the client asks for a shell.

use super::Shared;
use super::audit::write_audit;
use super::gate::Source;
use super::refusals::client_text;
use super::session::{self, SessionInput, SessionSpec};
use super::window::ClientSize;
use futures_util::task::AtomicWaker;
use russh::keys::{HashAlg, PrivateKey, PublicKey};
use russh::server::{Auth, ChannelOpenHandle, Handler, Msg, Session};
use russh::{Channel, ChannelId, MethodKind, MethodSet, Pty};
use rustok_domain::audit::AuditOutcome;
use rustok_domain::rbac::Role;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};

/// How many input messages wait for a busy session before more input is dropped.
const INPUT_QUEUE: usize = 1024;

pub(crate) fn russh_config(key: PrivateKey, limits: &super::Limits) -> russh::server::Config {
    russh::server::Config {
        server_id: russh::SshId::Standard("SSH-2.0-rustok".into()),
        methods: MethodSet::from(&[MethodKind::PublicKey][..]),
        keys: vec![key],
        auth_rejection_time: Duration::from_millis(300),
        auth_rejection_time_initial: Some(Duration::ZERO),
        max_auth_attempts: 6,
        // Our own idle timeout closes quiet sessions; keepalives find dead clients.
        inactivity_timeout: Some(limits.idle_timeout + Duration::from_secs(120)),
        keepalive_interval: Some(Duration::from_secs(30)),
        keepalive_max: 4,
        nodelay: true,
        preferred: preferred(),
        ..Default::default()
    }
}

/// The algorithms offered (docs/SSH.md "Cryptography"): key exchange by the post-quantum
/// hybrid ML-KEM-768 + X25519 or X25519 alone (no finite-field Diffie-Hellman: group14 is
/// 2048 bits, and group16/18 cost 250-2000x a curve25519 exchange — the DHEat lever), strict
/// key exchange (Terrapin), AEAD or counter-mode ciphers with encrypt-then-MAC SHA-2 MACs
/// only, compression only after authentication, and host key signatures by ed25519 or
/// rsa-sha2 (never ssh-rsa/SHA-1).
pub(crate) fn preferred() -> russh::Preferred {
    use russh::keys::{Algorithm, HashAlg};
    use russh::{cipher, compression, kex, mac};
    russh::Preferred {
        kex: std::borrow::Cow::Borrowed(&[
            kex::MLKEM768X25519_SHA256,
            kex::CURVE25519,
            kex::EXTENSION_SUPPORT_AS_SERVER,
            kex::EXTENSION_OPENSSH_STRICT_KEX_AS_SERVER,
        ]),
        key: std::borrow::Cow::Borrowed(&[
            Algorithm::Ed25519,
            Algorithm::Rsa {
                hash: Some(HashAlg::Sha512),
            },
            Algorithm::Rsa {
                hash: Some(HashAlg::Sha256),
            },
        ]),
        cipher: std::borrow::Cow::Borrowed(&[
            cipher::CHACHA20_POLY1305,
            cipher::AES_256_GCM,
            cipher::AES_128_GCM,
            cipher::AES_256_CTR,
            cipher::AES_192_CTR,
            cipher::AES_128_CTR,
        ]),
        mac: std::borrow::Cow::Borrowed(&[mac::HMAC_SHA512_ETM, mac::HMAC_SHA256_ETM]),
        compression: std::borrow::Cow::Borrowed(&[compression::NONE, compression::ZLIB_LEGACY]),
        host_key_certificates: std::borrow::Cow::Borrowed(&[]),
    }
}

/// Why a public key is too weak to authenticate (a staff key) or to serve (a host key):
/// anything but ed25519, ECDSA and RSA of at least 3072 bits. ECDSA is refused for host
/// keys only (`host` true): NIST curves are flagged by ssh-audit.
pub(crate) fn key_weakness(key: &PublicKey, host: bool) -> Option<String> {
    use russh::keys::Algorithm;
    let min = rustok_domain::staff::MIN_RSA_BITS;
    match key.algorithm() {
        Algorithm::Ed25519 => None,
        Algorithm::Rsa { .. } => match key.key_data().rsa().map(|k| k.key_size()) {
            Some(bits) if bits >= min => None,
            Some(bits) => Some(format!(
                "RSA keys need at least {min} bits; this one has {bits}"
            )),
            None => Some("unreadable RSA key".into()),
        },
        Algorithm::Ecdsa { .. } | Algorithm::SkEcdsaSha2NistP256 | Algorithm::SkEd25519
            if !host =>
        {
            None
        }
        other => Some(format!("{} keys are not accepted", other.as_str())),
    }
}

fn publickey_only() -> Auth {
    Auth::Reject {
        proceed_with_methods: Some(MethodSet::from(&[MethodKind::PublicKey][..])),
        partial_success: false,
    }
}

/// Accepts connections until `stop` turns true, then stops: console sessions are told and
/// restore their clients' terminals, then every connection is closed.
///
/// The loop never ends on an `accept` error: running out of descriptors (EMFILE/ENFILE) or
/// memory is transient, so it drops the oldest unauthenticated connection, backs off (5 ms
/// doubling to 1 s) and goes on.
pub(crate) async fn run(
    listener: TcpListener,
    config: Arc<russh::server::Config>,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let gate = shared.gate.clone();
    let (disconnect_tx, disconnect) = watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    let mut backoff = Duration::ZERO;
    let mut last_accept_error: Option<Instant> = None;
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
            _ = super::stopped(&mut stop) => break,
        };
        let now = Instant::now();
        match accepted {
            Ok((socket, peer)) => {
                backoff = Duration::ZERO;
                match gate.admit(peer.ip(), now) {
                    Ok(ticket) => {
                        tasks.spawn(connection(
                            socket,
                            peer,
                            config.clone(),
                            shared.clone(),
                            ticket,
                            stop.clone(),
                            disconnect.clone(),
                        ));
                    }
                    Err(refusal) => {
                        // No key exchange: the refused client costs an accept and a close.
                        let _ = socket.try_write(refusal.banner());
                        drop(socket);
                        tracing::debug!(%peer, reason = refusal.as_str(), "SSH connection refused");
                    }
                }
                if let Some(s) = gate.summary_due(now) {
                    tracing::warn!(
                        refused = s.refused,
                        evicted = s.evicted,
                        unauthenticated = gate.unauthenticated(),
                        "SSH pre-authentication limits: connections refused (per-source rate or cap) or dropped for newcomers"
                    );
                }
            }
            Err(e) => {
                // Free a descriptor for the next try, then wait a little.
                let evicted = gate.evict_oldest();
                backoff = (backoff * 2).clamp(Duration::from_millis(5), Duration::from_secs(1));
                if last_accept_error
                    .is_none_or(|at| now.duration_since(at) >= Duration::from_secs(10))
                {
                    last_accept_error = Some(now);
                    tracing::error!(
                        error = %e,
                        evicted,
                        backoff_ms = backoff.as_millis() as u64,
                        "SSH accept failed; backing off (out of file descriptors? raise `ulimit -n` or lower --max-unauthenticated)"
                    );
                }
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = super::stopped(&mut stop) => break,
                }
            }
        }
    }
    drop(listener);
    // Console sessions saw `stop` too: they restore their terminals and say why. Wait for
    // them (every session permit back), then close the connections.
    let all = u32::try_from(shared.limits.max_sessions.max(1)).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(
        Duration::from_secs(5),
        shared.sessions.clone().acquire_many_owned(all),
    )
    .await;
    let _ = disconnect_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(3), async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    tasks.abort_all();
    Ok(())
}

/// One TCP connection, from the SSH version exchange to its end. Before authentication it
/// holds a gate ticket and is closed when the login grace time is over, when the gate drops
/// it for a newcomer, or when the server stops.
async fn connection(
    socket: tokio::net::TcpStream,
    peer: SocketAddr,
    config: Arc<russh::server::Config>,
    shared: Arc<Shared>,
    mut ticket: super::gate::Ticket,
    mut stop: watch::Receiver<bool>,
    mut disconnect: watch::Receiver<bool>,
) {
    let _ = socket.set_nodelay(true);
    let grace = tokio::time::Instant::now() + shared.gate.limits().login_grace_time;
    let (stream, kill) = Killable::new(socket);
    let (authed_tx, mut authed) = tokio::sync::oneshot::channel();
    let conn = Conn::new(shared.clone(), peer, authed_tx);
    let why = |what: &str| {
        tracing::debug!(%peer, "SSH connection closed before authentication: {what}");
    };
    let session = tokio::select! {
        s = russh::server::run_stream(config, stream, conn) => match s {
            Ok(s) => s,
            Err(e) => {
                tracing::debug!(%peer, error = %e, "SSH connection setup failed");
                return;
            }
        },
        _ = tokio::time::sleep_until(grace) => return why("login grace time over"),
        _ = ticket.evicted() => return why("dropped for a newer connection"),
        _ = super::stopped(&mut stop) => return,
    };
    let handle = session.handle();
    tokio::pin!(session);
    let mut authenticated = false;
    let mut auth_told = false;
    loop {
        tokio::select! {
            r = &mut session => {
                if let Err(e) = r {
                    tracing::debug!(%peer, error = %e, "SSH connection ended with an error");
                }
                return;
            }
            r = &mut authed, if !auth_told => {
                // A finished oneshot must not be polled again, whatever it said.
                auth_told = true;
                if r.is_ok() {
                    authenticated = true;
                    ticket.authenticated();
                }
            }
            _ = tokio::time::sleep_until(grace), if !authenticated => {
                why("login grace time over");
                break;
            }
            _ = ticket.evicted(), if !authenticated => {
                why("dropped for a newer connection");
                break;
            }
            _ = super::stopped(&mut stop), if !authenticated => break,
            _ = super::stopped(&mut disconnect) => {
                // A console session has already restored the client's terminal and closed
                // its channel; the client hangs up by itself then. Give it that chance first:
                // russh may put a DISCONNECT on the wire before channel data still queued.
                if tokio::time::timeout(Duration::from_secs(2), &mut session)
                    .await
                    .is_ok()
                {
                    return;
                }
                let bye = handle.disconnect(
                    russh::Disconnect::ByApplication,
                    "the server is shutting down".into(),
                    String::new(),
                );
                let _ = tokio::time::timeout(Duration::from_secs(1), bye).await;
                if tokio::time::timeout(Duration::from_secs(1), &mut session)
                    .await
                    .is_ok()
                {
                    // Ended (a finished session must not be polled again).
                    return;
                }
                break;
            }
        }
    }
    // Whatever the session is doing, its socket reads end of file and its writes fail now,
    // so it ends and the descriptor is closed.
    kill.kill();
    let _ = tokio::time::timeout(Duration::from_secs(5), &mut session).await;
}

/// A stream that can be cut from outside: once killed, reads see end of file and writes
/// fail, waking whoever waits on either.
struct Killable<S> {
    inner: S,
    switch: Arc<KillSwitch>,
}

#[derive(Default)]
struct KillSwitch {
    killed: AtomicBool,
    read: AtomicWaker,
    write: AtomicWaker,
}

impl KillSwitch {
    fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        self.read.wake();
        self.write.wake();
    }

    fn is_killed(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }
}

impl<S> Killable<S> {
    fn new(inner: S) -> (Self, Arc<KillSwitch>) {
        let switch = Arc::new(KillSwitch::default());
        (
            Killable {
                inner,
                switch: switch.clone(),
            },
            switch,
        )
    }
}

fn killed() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::ConnectionAborted,
        "connection closed by the server",
    )
}

impl<S: AsyncRead + Unpin> AsyncRead for Killable<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        self.switch.read.register(cx.waker());
        if self.switch.is_killed() {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Killable<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.switch.write.register(cx.waker());
        if self.switch.is_killed() {
            return Poll::Ready(Err(killed()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        self.switch.write.register(cx.waker());
        if self.switch.is_killed() {
            return Poll::Ready(Err(killed()));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.switch.is_killed() {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Writes the coalesced refusal rows whose windows have ended, every few seconds, and all
/// of them when the server stops.
pub(crate) async fn flush_refusals(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let every =
        (shared.limits.refusal_window / 4).clamp(Duration::from_millis(20), Duration::from_secs(5));
    loop {
        let done = tokio::select! {
            _ = tokio::time::sleep(every) => false,
            _ = super::stopped(&mut stop) => true,
        };
        for row in shared.refusals.due(Instant::now(), done) {
            tracing::warn!(peer = %row.session, count = row.count, reason = %row.reason, "SSH logins refused (coalesced)");
            write_audit(
                &shared,
                row.actor,
                row.session,
                AuditOutcome::Denied,
                Some(row.reason),
            )
            .await;
        }
        if done {
            return;
        }
    }
}

/// Once input has been dropped, the rest of that burst is dropped too, until the client has
/// paused this long: a paste cut in the middle would otherwise arrive as keystrokes (a pasted
/// `q` quitting, a `p` publishing), or leave the parser inside a paste whose end was dropped.
pub const BURST_GAP: Duration = Duration::from_millis(500);

/// The input rate cap of one connection: a token bucket, and once it has refused, the rest of
/// the burst refused with it ([`BURST_GAP`]).
struct InputCap {
    bucket: TokenBucket,
    /// Input bytes dropped since the session was last told.
    dropped: usize,
    last: Option<Instant>,
}

/// What to do with a packet of input.
#[derive(Debug, PartialEq, Eq)]
enum Admit {
    Pass {
        /// Bytes dropped before this packet (the burst that was cut), for the log.
        after_dropping: usize,
    },
    /// Dropped; `first` of its burst (the session is told once).
    Drop { first: bool },
}

impl InputCap {
    fn new(rate: u32, burst: u32) -> Self {
        InputCap {
            bucket: TokenBucket::new(rate, burst),
            dropped: 0,
            last: None,
        }
    }

    fn admit(&mut self, n: usize, now: Instant) -> Admit {
        let in_burst = self
            .last
            .is_some_and(|t| now.saturating_duration_since(t) < BURST_GAP);
        self.last = Some(now);
        if (self.dropped > 0 && in_burst) || !self.bucket.take(n, now) {
            let first = self.dropped == 0;
            self.dropped = self.dropped.saturating_add(n.max(1));
            return Admit::Drop { first };
        }
        Admit::Pass {
            after_dropping: std::mem::take(&mut self.dropped),
        }
    }
}

/// A token bucket over input bytes.
struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
}

impl TokenBucket {
    fn new(rate: u32, burst: u32) -> Self {
        let burst = f64::from(burst.max(rate).max(1));
        TokenBucket {
            rate: f64::from(rate.max(1)),
            burst,
            tokens: burst,
            at: Instant::now(),
        }
    }

    fn take(&mut self, n: usize, now: Instant) -> bool {
        self.tokens =
            (self.tokens + now.duration_since(self.at).as_secs_f64() * self.rate).min(self.burst);
        self.at = now;
        if self.tokens >= n as f64 {
            self.tokens -= n as f64;
            true
        } else {
            false
        }
    }
}

pub(crate) struct Conn {
    shared: Arc<Shared>,
    peer: Option<SocketAddr>,
    /// Who authenticated.
    staff: Option<(String, Role)>,
    channel: Option<ChannelId>,
    term: Option<String>,
    colorterm: Option<String>,
    size: (u16, u16),
    /// The latest window size, shared with the session (window changes coalesce there).
    window: Arc<ClientSize>,
    /// To the running console session.
    input: Option<mpsc::Sender<SessionInput>>,
    cap: InputCap,
    /// Told once the client has authenticated (it leaves the pre-auth limits).
    authenticated: Option<oneshot::Sender<()>>,
}

/// The largest window served: wider than a 4K screen in a small font, and a bound on what
/// one session's screen buffers cost (cells × 2 buffers).
pub(crate) const MAX_COLS: u32 = 512;
pub(crate) const MAX_ROWS: u32 = 256;

/// The client's size in cells; 0 (a client that does not know, such as `ssh -tt` without a
/// local terminal) means the classic 80×24.
fn clamp_size(cols: u32, rows: u32) -> (u16, u16) {
    let or = |v: u32, default: u32, max: u32| if v == 0 { default } else { v.min(max) };
    (or(cols, 80, MAX_COLS) as u16, or(rows, 24, MAX_ROWS) as u16)
}

impl Conn {
    fn new(shared: Arc<Shared>, peer: SocketAddr, authenticated: oneshot::Sender<()>) -> Conn {
        Conn {
            cap: InputCap::new(shared.limits.input_rate, shared.limits.input_burst),
            shared,
            peer: Some(peer),
            staff: None,
            channel: None,
            term: None,
            colorterm: None,
            size: (80, 24),
            window: Arc::new(ClientSize::new((80, 24))),
            input: None,
            authenticated: Some(authenticated),
        }
    }

    fn peer(&self) -> String {
        self.peer
            .map(|p| p.to_string())
            .unwrap_or_else(|| "unknown".into())
    }

    /// Writes a refused login to the audit log and the log file — in full for the first
    /// refusal from its source in a window, counted for one coalesced row after that
    /// (`refusals.rs`). The user name is bounded whatever the client sent.
    async fn audit_denied(&self, user: &str, reason: String) {
        let user = client_text(user);
        let source = self
            .peer
            .map(|p| Source::of(p.ip()))
            .unwrap_or_else(|| Source::of(std::net::Ipv4Addr::UNSPECIFIED.into()));
        if !self
            .shared
            .refusals
            .note(source, &user, &reason, Instant::now())
        {
            return;
        }
        tracing::warn!(%user, peer = %self.peer(), %reason, "SSH login refused");
        let session = format!("ssh {}", self.peer());
        write_audit(
            &self.shared,
            user,
            session,
            AuditOutcome::Denied,
            Some(reason),
        )
        .await;
    }

    /// The end of a login attempt, by key or by certificate (`how`, for the log and the
    /// audit row): the member is in, with their role, or the refusal is audited and the client
    /// may try another key.
    async fn decide(
        &mut self,
        user: &str,
        checked: Result<Role, String>,
        how: Option<String>,
    ) -> Auth {
        match checked {
            Ok(role) => {
                let via = how.as_deref().unwrap_or("key");
                tracing::info!(user = %user, role = %role, peer = %self.peer(), how = %via, "SSH login");
                self.audit(user, AuditOutcome::Ok, how).await;
                self.staff = Some((user.to_string(), role));
                if let Some(tx) = self.authenticated.take() {
                    let _ = tx.send(());
                }
                Auth::Accept
            }
            Err(reason) => {
                self.audit_denied(user, reason).await;
                publickey_only()
            }
        }
    }

    async fn audit(&self, user: &str, outcome: AuditOutcome, reason: Option<String>) {
        write_audit(
            &self.shared,
            client_text(user),
            format!("ssh {}", self.peer()),
            outcome,
            reason,
        )
        .await;
    }

    /// The active staff member `user` whose registered keys include `key`, used with
    /// signature algorithm `algorithm`.
    async fn staff_for(
        &self,
        user: &str,
        key: &PublicKey,
        algorithm: &russh::keys::Algorithm,
    ) -> Result<Role, String> {
        let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
        if *algorithm == (russh::keys::Algorithm::Rsa { hash: None }) {
            return Err(format!(
                "key {fingerprint}: ssh-rsa (SHA-1) signatures are refused; use rsa-sha2-256/512 (OpenSSH 7.2 or later) or an ed25519 key"
            ));
        }
        if let Some(why) = key_weakness(key, false) {
            return Err(format!("key {fingerprint} refused: {why}"));
        }
        let holders = self
            .shared
            .store
            .staff_by_key(&fingerprint)
            .await
            .map_err(|e| format!("cannot read staff: {e}"))?;
        match holders.into_iter().find(|s| s.handle == user) {
            Some(s) if s.active => Ok(s.role),
            Some(_) => Err(format!("staff member '{}' is inactive", client_text(user))),
            None => Err(format!(
                "key {fingerprint} is not registered for staff member '{}'",
                client_text(user)
            )),
        }
    }

    /// Hands the new size to the session: only the latest size is kept and at most one
    /// `Resized` waits in the input queue, so a flood of window changes cannot crowd out
    /// keystrokes (the session applies them at most once per [`session::RESIZE_EVERY`]).
    fn window_changed(&mut self) {
        if let Some(tx) = &self.input
            && self.window.set(self.size)
            && tx.try_send(SessionInput::Resized).is_err()
        {
            // The queue is full: the next window change tries again.
            self.window.unqueue();
        }
    }

    fn send(&mut self, msg: SessionInput) {
        if let Some(tx) = &self.input {
            // A session too busy to keep up loses input rather than stalling the connection.
            let _ = tx.try_send(msg);
        }
    }

    /// Starts the console on `channel`.
    fn start_session(&mut self, channel: ChannelId, session: &mut Session) {
        let Some((handle, role)) = self.staff.clone() else {
            return;
        };
        let permit = match self.shared.sessions.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                let msg = format!(
                    "the console is full ({} sessions); try again later\r\n",
                    self.shared.limits.max_sessions
                );
                tracing::warn!(user = %handle, "SSH session refused: too many sessions");
                let _ = session.data(channel, msg.into_bytes());
                let _ = session.exit_status_request(channel, 1);
                let _ = session.eof(channel);
                let _ = session.close(channel);
                return;
            }
        };
        self.window = Arc::new(ClientSize::new(self.size));
        let (tx, rx) = mpsc::channel(INPUT_QUEUE);
        self.input = Some(tx);
        let entry =
            self.shared
                .table
                .register(handle.clone(), role, self.peer(), self.window.clone());
        let spec = SessionSpec {
            entry,
            shared: self.shared.clone(),
            handle: session.handle(),
            channel,
            staff: handle,
            role,
            term: self.term.clone().unwrap_or_else(|| "xterm".into()),
            colorterm: self.colorterm.clone(),
            size: self.size,
            window: self.window.clone(),
            id: format!("ssh {}", self.peer()),
        };
        tokio::spawn(session::supervise(spec, rx, permit));
    }
}

impl Handler for Conn {
    type Error = russh::Error;

    async fn auth_none(&mut self, _user: &str) -> Result<Auth, Self::Error> {
        Ok(publickey_only())
    }

    async fn auth_password(&mut self, user: &str, _password: &str) -> Result<Auth, Self::Error> {
        self.audit_denied(user, "password authentication is disabled".into())
            .await;
        Ok(publickey_only())
    }

    async fn auth_keyboard_interactive<'a>(
        &'a mut self,
        user: &str,
        _submethods: &str,
        _response: Option<russh::server::Response<'a>>,
    ) -> Result<Auth, Self::Error> {
        self.audit_denied(
            user,
            "keyboard-interactive authentication is disabled".into(),
        )
        .await;
        Ok(publickey_only())
    }

    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        offer: russh::server::PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        // russh offers a certificate's key here like a plain key: with a user CA trusted, a
        // strong key is let on to sign, and the decision is taken once it has (a plain key
        // in `auth_publickey`, a certificate in `auth_openssh_certificate`).
        if self.shared.user_ca.is_some()
            && *offer.algorithm != (russh::keys::Algorithm::Rsa { hash: None })
            && key_weakness(offer.public_key, false).is_none()
        {
            return Ok(Auth::Accept);
        }
        match self
            .staff_for(user, offer.public_key, offer.algorithm)
            .await
        {
            Ok(_) => Ok(Auth::Accept),
            Err(reason) => {
                self.audit_denied(user, reason).await;
                Ok(publickey_only())
            }
        }
    }

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: russh::server::VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        let checked = self.staff_for(user, key.public_key, key.algorithm).await;
        Ok(self.decide(user, checked, None).await)
    }

    async fn auth_openssh_certificate(
        &mut self,
        user: &str,
        certificate: &russh::keys::Certificate,
    ) -> Result<Auth, Self::Error> {
        let Some(ca) = &self.shared.user_ca else {
            self.audit_denied(user, "certificate authentication is not enabled".into())
                .await;
            return Ok(publickey_only());
        };
        let checked = match ca.check(user, certificate, self.peer.map(|p| p.ip())) {
            Ok(()) => match self.shared.store.staff_by_handle(user).await {
                Ok(Some(s)) if s.active => Ok(s.role),
                Ok(Some(_)) => Err(format!(
                    "certificate serial {}: staff member '{}' is inactive",
                    certificate.serial(),
                    client_text(user)
                )),
                Ok(None) => Err(format!(
                    "certificate serial {}: no staff member '{}'",
                    certificate.serial(),
                    client_text(user)
                )),
                Err(e) => Err(format!("cannot read staff: {e}")),
            },
            Err(e) => Err(e),
        };
        let how = format!(
            "certificate serial {} (key id '{}')",
            certificate.serial(),
            client_text(certificate.key_id())
        );
        Ok(self.decide(user, checked, Some(how)).await)
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.channel.is_some() || self.staff.is_none() {
            reply
                .reject(russh::ChannelOpenFailure::AdministrativelyProhibited)
                .await;
            return Ok(());
        }
        // Everything arrives through the handler's callbacks; the channel object itself is
        // dropped so its bounded buffer can never hold up the connection.
        self.channel = Some(channel.id());
        drop(channel);
        reply.accept().await;
        Ok(())
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        term: &str,
        col_width: u32,
        row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if Some(channel) != self.channel {
            session.channel_failure(channel)?;
            return Ok(());
        }
        self.term = Some(term.chars().take(64).collect());
        self.size = clamp_size(col_width, row_height);
        self.window_changed();
        session.channel_success(channel)?;
        Ok(())
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        variable_name: &str,
        variable_value: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if Some(channel) == self.channel && variable_name == "COLORTERM" {
            self.colorterm = Some(variable_value.chars().take(32).collect());
            session.channel_success(channel)?;
        } else {
            session.channel_failure(channel)?;
        }
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if Some(channel) != self.channel || self.input.is_some() {
            session.channel_failure(channel)?;
            return Ok(());
        }
        session.channel_success(channel)?;
        self.start_session(channel, session);
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        _data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)?;
        session.data(
            channel,
            b"this server serves the console only: connect without a command (ssh -t)\r\n".to_vec(),
        )?;
        session.exit_status_request(channel, 2)?;
        session.eof(channel)?;
        session.close(channel)?;
        Ok(())
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        _name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)?;
        Ok(())
    }

    async fn window_change_request(
        &mut self,
        channel: ChannelId,
        col_width: u32,
        row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if Some(channel) == self.channel {
            self.size = clamp_size(col_width, row_height);
            self.window_changed();
        }
        Ok(())
    }

    async fn data(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if Some(channel) != self.channel || self.input.is_none() {
            return Ok(());
        }
        match self.cap.admit(data.len(), Instant::now()) {
            // Tell the session once per burst of dropped input, not once per packet.
            Admit::Drop { first } => {
                if first {
                    self.send(SessionInput::Dropped {
                        burst: self.shared.limits.input_burst,
                    });
                }
                return Ok(());
            }
            Admit::Pass { after_dropping } if after_dropping > 0 => {
                tracing::info!(user = ?self.staff.as_ref().map(|s| &s.0), bytes = after_dropping, "SSH input over the rate cap dropped");
            }
            Admit::Pass { .. } => {}
        }
        self.send(SessionInput::Data(data.to_vec()));
        Ok(())
    }

    async fn channel_eof(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if Some(channel) == self.channel {
            self.send(SessionInput::Closed);
        }
        Ok(())
    }

    async fn channel_close(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if Some(channel) == self.channel {
            self.send(SessionInput::Closed);
            self.input = None;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_bucket_allows_a_burst_then_the_rate() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(100, 1000);
        assert!(b.take(1000, t0));
        assert!(!b.take(50, t0));
        let t1 = t0 + Duration::from_secs(1);
        assert!(b.take(90, t1));
        assert!(!b.take(50, t1));
    }

    #[test]
    fn once_input_is_dropped_the_rest_of_its_burst_is_dropped_too() {
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        let mut cap = InputCap::new(1000, 4000);
        assert_eq!(cap.admit(3000, ms(0)), Admit::Pass { after_dropping: 0 });
        // Over the bucket: dropped, the session told once.
        assert_eq!(cap.admit(3000, ms(10)), Admit::Drop { first: true });
        // A small packet right after would fit the bucket, but belongs to the same burst (the
        // middle of a paste): dropped, not read as keys.
        assert_eq!(cap.admit(1, ms(60)), Admit::Drop { first: false });
        assert_eq!(cap.admit(1, ms(400)), Admit::Drop { first: false });
        // After a pause the client is heard again.
        let later = ms(400) + BURST_GAP;
        assert_eq!(
            cap.admit(1, later),
            Admit::Pass {
                after_dropping: 3002
            }
        );
        assert_eq!(cap.admit(1, later), Admit::Pass { after_dropping: 0 });
    }

    #[test]
    fn sizes_are_clamped() {
        assert_eq!(clamp_size(0, 0), (80, 24));
        assert_eq!(clamp_size(1, 1), (1, 1));
        assert_eq!(clamp_size(120, 40), (120, 40));
        assert_eq!(clamp_size(u32::MAX, 5000), (512, 256));
        assert_eq!(clamp_size(1000, 1000), (512, 256));
    }
}
