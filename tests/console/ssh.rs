//! The console over SSH (issue 7), through an in-process russh client whose screen is read
//! back through a vt100 parser: authentication by staff key (unknown keys and passwords
//! refused and audited), the console's content, window changes, two sessions seeing each
//! other's events, a panicking session leaving the others running, the session limit, the
//! host key, and one end-to-end run through the system `ssh` client when it is installed.

use crate::support;

use russh::ChannelMsg;
use russh::client::{self, Handle};
use russh::keys::{Algorithm, PrivateKey, PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use rustok::ssh::{Limits, ServeOptions, SshServer};
use rustok_domain::audit::AuditOutcome;
use rustok_domain::rbac::Role;
use rustok_domain::staff::StaffDraft;
use rustok_domain::{Command, StaffId};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{TestApp, TestDb, fixtures, wait_until_async};

fn nz(n: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(n).expect("non-zero size")
}

const PANIC: &[u8] = b"\x1b[99;99~panic-now";

struct Fixture {
    app: TestApp,
    server: SshServer,
    alice: Arc<PrivateKey>,
    bob: Arc<PrivateKey>,
    _dir: tempfile::TempDir,
}

fn new_key() -> PrivateKey {
    PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519).expect("key")
}

async fn add_staff(app: &TestApp, handle: &str, role: Role, key: &PrivateKey) {
    let line = key.public_key().to_openssh().expect("openssh line");
    app.exec(Command::AddStaff(StaffDraft {
        id: StaffId::new_v7(),
        handle: handle.into(),
        display_name: None,
        role,
        ssh_keys: vec![line],
        mfa_enabled: false,
    }))
    .await
    .expect("add staff");
}

async fn fixture_with(limits: Limits) -> Fixture {
    fixture_full(limits, None, None).await
}

async fn fixture_full(
    limits: Limits,
    user_ca: Option<std::path::PathBuf>,
    revoked_certs: Option<std::path::PathBuf>,
) -> Fixture {
    fixture_opts(limits, user_ca, revoked_certs, false).await
}

async fn fixture_opts(
    limits: Limits,
    user_ca: Option<std::path::PathBuf>,
    revoked_certs: Option<std::path::PathBuf>,
    read_only: bool,
) -> Fixture {
    let app = TestApp::start(TestDb::sqlite()).await;
    app.create_node(fixtures::draft("Hello from the SSH console"))
        .await
        .expect("node");
    let alice = new_key();
    let bob = new_key();
    add_staff(&app, "alice", Role::Editor, &alice).await;
    add_staff(&app, "bob", Role::Support, &bob).await;
    let dir = tempfile::tempdir().expect("dir");
    let server = SshServer::start(ServeOptions {
        addr: "127.0.0.1:0".into(),
        host_key: dir.path().join("host_key"),
        db_url: app.db.url.clone(),
        tenant: app.tenant.slug.clone(),
        read_only,
        limits,
        user_ca,
        revoked_certs,
        control_dir: Some(dir.path().to_path_buf()),
        panic_on_input: Some(PANIC.to_vec()),
        stream_url: None,
        stream_name: None,
    })
    .await
    .expect("server starts");
    Fixture {
        app,
        server,
        alice: Arc::new(alice),
        bob: Arc::new(bob),
        _dir: dir,
    }
}

async fn fixture() -> Fixture {
    fixture_with(Limits::default()).await
}

struct Client;

impl client::Handler for Client {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        _key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

async fn connect(server: &SshServer) -> Handle<Client> {
    let config = Arc::new(client::Config::default());
    client::connect(config, server.local_addr(), Client)
        .await
        .expect("connect")
}

async fn login(server: &SshServer, user: &str, key: &Arc<PrivateKey>) -> Handle<Client> {
    let mut h = connect(server).await;
    let ok = h
        .authenticate_publickey(user, PrivateKeyWithHashAlg::new(key.clone(), None))
        .await
        .expect("auth exchange");
    assert!(ok.success(), "{user} should be let in");
    h
}

/// A console session seen through a vt100 parser.
struct Term {
    screen: Arc<Mutex<vt100::Parser>>,
    /// Bytes received from the server.
    received: Arc<std::sync::atomic::AtomicUsize>,
    closed: Arc<Mutex<Option<u32>>>,
    writer: russh::ChannelWriteHalf<client::Msg>,
    _handle: Handle<Client>,
}

impl Term {
    async fn open(handle: Handle<Client>, cols: u16, rows: u16) -> Term {
        let channel = handle
            .channel_open_session()
            .await
            .expect("session channel");
        channel
            .request_pty(true, "xterm-256color", cols.into(), rows.into(), 0, 0, &[])
            .await
            .expect("pty");
        channel.request_shell(true).await.expect("shell");
        let (mut read, writer) = channel.split();
        let screen = Arc::new(Mutex::new(vt100::Parser::new(nz(rows), nz(cols), 0)));
        let closed = Arc::new(Mutex::new(None));
        let received = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        {
            let screen = screen.clone();
            let closed = closed.clone();
            let received = received.clone();
            tokio::spawn(async move {
                let mut status = 0;
                while let Some(msg) = read.wait().await {
                    match msg {
                        ChannelMsg::Data { data } => {
                            received.fetch_add(data.len(), std::sync::atomic::Ordering::SeqCst);
                            screen.lock().unwrap().process(&data)
                        }
                        ChannelMsg::ExitStatus { exit_status } => status = exit_status,
                        ChannelMsg::Close => break,
                        _ => {}
                    }
                }
                *closed.lock().unwrap() = Some(status);
            });
        }
        Term {
            screen,
            received,
            closed,
            writer,
            _handle: handle,
        }
    }

    async fn type_bytes(&self, bytes: &[u8]) {
        self.writer.data(bytes).await.expect("send input");
    }

    fn contents(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    fn row(&self, n: u16) -> String {
        let p = self.screen.lock().unwrap();
        let cols = p.screen().size().1.get();
        p.screen().rows(0, cols).nth(n as usize).unwrap_or_default()
    }

    /// Waits until the screen shows `text`; returns how long that took.
    async fn wait_for(&self, text: &str, within: Duration) -> Duration {
        let start = Instant::now();
        let shown = wait_until_async(within, async || self.contents().contains(text)).await;
        assert!(
            shown,
            "'{text}' did not appear within {within:?}; the screen:\n{}",
            self.contents()
        );
        start.elapsed()
    }

    async fn wait_closed(&self, within: Duration) -> u32 {
        let closed = async || self.closed.lock().unwrap().is_some();
        assert!(
            wait_until_async(within, closed).await,
            "the session did not close"
        );
        self.closed.lock().unwrap().unwrap()
    }

    async fn window_change(&self, cols: u16, rows: u16) {
        self.screen
            .lock()
            .unwrap()
            .screen_mut()
            .set_size(nz(rows), nz(cols));
        self.writer
            .window_change(cols.into(), rows.into(), 0, 0)
            .await
            .expect("window change");
    }
}

async fn denied_logins(app: &TestApp) -> Vec<(String, String)> {
    app.store
        .audit_log(0, 100)
        .await
        .expect("audit log")
        .rows
        .into_iter()
        .filter(|e| e.command == "ssh_login" && e.outcome == AuditOutcome::Denied)
        .map(|e| (e.actor, e.reason.unwrap_or_default()))
        .collect()
}

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_staff_key_opens_the_console_with_the_members_role() {
    let f = fixture().await;
    let term = Term::open(login(&f.server, "alice", &f.alice).await, 120, 40).await;
    term.wait_for("1 Dashboard", WAIT).await;
    term.wait_for("5 Events", WAIT).await;
    term.type_bytes(b"2").await;
    term.wait_for("Hello from the SSH console", WAIT).await;
    assert!(term.contents().contains("alice"), "{}", term.contents());
    {
        let p = term.screen.lock().unwrap();
        assert!(
            p.screen().alternate_screen(),
            "the console draws on the alternate screen"
        );
        assert!(p.screen().hide_cursor());
        assert!(p.screen().bracketed_paste());
    }
    assert_eq!(f.server.active_sessions(), 1);
    // 'q' quits and restores the client's terminal.
    term.type_bytes(b"q").await;
    assert_eq!(term.wait_closed(WAIT).await, 0);
    let p = term.screen.lock().unwrap();
    assert!(!p.screen().alternate_screen(), "alternate screen left");
    assert!(!p.screen().hide_cursor(), "cursor shown again");
    assert!(!p.screen().bracketed_paste());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_support_member_gets_a_read_only_session() {
    let f = fixture().await;
    let term = Term::open(login(&f.server, "bob", &f.bob).await, 120, 40).await;
    term.wait_for("read-only", WAIT).await;
    // Publishing is refused for the support role; nothing changes.
    term.type_bytes(b"2").await;
    term.wait_for("Hello from the SSH console", WAIT).await;
    let before = f.app.last_seq().await;
    term.type_bytes(b"p").await;
    term.wait_for("publish is disabled", WAIT).await;
    assert_eq!(
        f.app.last_seq().await,
        before,
        "a read-only session changed data"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unknown_keys_and_wrong_users_are_rejected_and_audited() {
    // Refusals from one source within the window after the first are written as one
    // counted row when it ends: a short window for the test.
    let f = fixture_with(Limits {
        refusal_window: Duration::from_millis(200),
        ..Limits::default()
    })
    .await;
    let stranger = Arc::new(new_key());
    let mut h = connect(&f.server).await;
    let r = h
        .authenticate_publickey("alice", PrivateKeyWithHashAlg::new(stranger, None))
        .await
        .expect("auth exchange");
    assert!(!r.success(), "an unknown key must not get in");
    // Alice's key is not Bob's.
    let r = h
        .authenticate_publickey("bob", PrivateKeyWithHashAlg::new(f.alice.clone(), None))
        .await
        .expect("auth exchange");
    assert!(
        !r.success(),
        "a key registered to alice must not log in as bob"
    );
    let mut denied = Vec::new();
    assert!(
        wait_until_async(WAIT, async || {
            denied = denied_logins(&f.app).await;
            denied.iter().any(|(who, _)| who == "bob")
        })
        .await,
        "bob's refusal not audited: {denied:?}"
    );
    assert!(
        denied
            .iter()
            .any(|(who, why)| who == "alice" && why.contains("is not registered")),
        "{denied:?}"
    );
    assert!(
        denied
            .iter()
            .any(|(who, why)| who == "bob"
                && why.contains("is not registered for staff member 'bob'")),
        "{denied:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn password_attempts_are_rejected_and_audited() {
    let f = fixture().await;
    let mut h = connect(&f.server).await;
    let r = h
        .authenticate_password("alice", "hunter2")
        .await
        .expect("auth exchange");
    assert!(!r.success(), "passwords are never accepted");
    if let russh::client::AuthResult::Failure {
        remaining_methods, ..
    } = r
    {
        assert_eq!(
            remaining_methods.iter().collect::<Vec<_>>(),
            vec![&russh::MethodKind::PublicKey],
            "only publickey is offered"
        );
    }
    let denied = denied_logins(&f.app).await;
    assert!(
        denied
            .iter()
            .any(|(who, why)| who == "alice" && why.contains("password")),
        "{denied:?}"
    );
    assert!(
        !f.app
            .store
            .audit_log(0, 100)
            .await
            .unwrap()
            .rows
            .iter()
            .any(|e| format!("{e:?}").contains("hunter2")),
        "the password is never logged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_sessions_see_each_others_events_within_a_second() {
    let f = fixture().await;
    let a = Term::open(login(&f.server, "alice", &f.alice).await, 120, 40).await;
    let b = Term::open(login(&f.server, "bob", &f.bob).await, 120, 40).await;
    b.wait_for("1 Dashboard", WAIT).await;
    b.type_bytes(b"5").await;
    b.wait_for("Events", WAIT).await;
    a.type_bytes(b"2").await;
    a.wait_for("Hello from the SSH console", WAIT).await;
    assert!(!b.contents().contains("node.published"));
    a.type_bytes(b"p").await;
    let took = b.wait_for("node.published", Duration::from_secs(1)).await;
    eprintln!("session B saw session A's node.published after {took:?}");
    assert_eq!(f.server.active_sessions(), 2);
}

/// Issue 21: a note that mentions a member reaches their SSH session at once — its server
/// follows the database through its own store and feed, whoever commits — as the status
/// line's alert; its key opens the order and marks the mention read, even in support's
/// read-only session (a personal mark, not a command).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_mention_reaches_the_members_ssh_session_within_a_second() {
    let f = fixture().await;
    f.app
        .create_product(fixtures::product("MUG", "4.00", 5))
        .await
        .unwrap();
    let warm = f
        .app
        .create_order(fixtures::order(&[("MUG", 1)], None))
        .await
        .unwrap();
    let o = f
        .app
        .create_order(fixtures::order(&[("MUG", 2)], None))
        .await
        .unwrap();
    let note = |id: rustok_domain::OrderId, text: &str| Command::AddOrderNote {
        id,
        note_id: rustok_domain::NoteId::new_v7(),
        text: text.into(),
    };
    let b = Term::open(login(&f.server, "bob", &f.bob).await, 120, 40).await;
    b.wait_for("bob (support)", WAIT).await;
    // The session follows: a first mention shows (however long the server took to start).
    f.app.exec(note(warm.id, "@bob warm-up")).await.unwrap();
    b.wait_for(&rustok_domain::short_id(warm.id.as_uuid()), WAIT)
        .await;
    let short = rustok_domain::short_id(o.id.as_uuid());
    let start = Instant::now();
    f.app
        .exec(note(o.id, "@bob the customer is on the phone"))
        .await
        .unwrap();
    b.wait_for(
        &format!("@tester {short}"),
        Duration::from_secs(1).saturating_sub(start.elapsed()),
    )
    .await;
    eprintln!(
        "bob's SSH session showed the mention {:?} after the command started",
        start.elapsed()
    );
    b.type_bytes(b"M").await;
    b.wait_for(&o.id.to_string(), WAIT).await;
    let read = wait_until_async(WAIT, async || {
        f.app
            .store
            .unread_mentions(f.app.tenant.id, "bob")
            .await
            .unwrap()
            .iter()
            .all(|m| m.order_id != o.id)
    })
    .await;
    assert!(read, "opening the mention marks it read, read-only or not");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_window_change_relayouts_the_screen() {
    let f = fixture().await;
    let term = Term::open(login(&f.server, "alice", &f.alice).await, 120, 40).await;
    let name = f.app.tenant.name.clone();
    term.wait_for(&name, WAIT).await;
    let end_of_name = |row: &str| {
        row.find(&name)
            .map(|i| row[..i].chars().count() + name.chars().count())
    };
    let wide = end_of_name(&term.row(0)).expect("tenant name on the tab bar");
    assert!(
        wide > 100,
        "the tenant name is right-aligned at 120 columns: {}",
        term.row(0)
    );
    term.window_change(100, 30).await;
    let laid_out = wait_until_async(WAIT, async || {
        end_of_name(&term.row(0))
            .is_some_and(|end| end <= 100 && end + (120 - wide) >= 100 && end != wide)
    })
    .await;
    assert!(
        laid_out,
        "the tab bar did not re-lay out at 100 columns:\n{}",
        term.contents()
    );
    // The bottom row moved up: the status bar is drawn on row 30 of 30.
    assert!(!term.row(29).trim().is_empty(), "{}", term.contents());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_panicking_session_leaves_the_others_running() {
    let f = fixture().await;
    let a = Term::open(login(&f.server, "alice", &f.alice).await, 120, 40).await;
    let b = Term::open(login(&f.server, "bob", &f.bob).await, 120, 40).await;
    a.wait_for("1 Dashboard", WAIT).await;
    b.wait_for("1 Dashboard", WAIT).await;
    a.type_bytes(PANIC).await;
    assert_eq!(
        a.wait_closed(WAIT).await,
        1,
        "the panicking session ends with status 1"
    );
    assert!(
        a.contents().contains("ended unexpectedly"),
        "{}",
        a.contents()
    );
    assert!(!a.screen.lock().unwrap().screen().alternate_screen());
    // B still works, the server still accepts, and the panicked session's slot is free.
    b.type_bytes(b"2").await;
    b.wait_for("Hello from the SSH console", WAIT).await;
    assert!(f.server.is_running());
    let c = Term::open(login(&f.server, "alice", &f.alice).await, 80, 24).await;
    c.wait_for("1 Dashboard", WAIT).await;
    assert_eq!(f.server.active_sessions(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sessions_beyond_the_limit_are_told_to_come_back() {
    let f = fixture_with(Limits {
        max_sessions: 1,
        ..Limits::default()
    })
    .await;
    let a = Term::open(login(&f.server, "alice", &f.alice).await, 80, 24).await;
    a.wait_for("1 Dashboard", WAIT).await;
    let b = Term::open(login(&f.server, "bob", &f.bob).await, 80, 24).await;
    assert_eq!(b.wait_closed(WAIT).await, 1);
    assert!(
        b.contents().contains("the console is full"),
        "{}",
        b.contents()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn idle_sessions_are_closed() {
    let f = fixture_with(Limits {
        idle_timeout: Duration::from_millis(600),
        ..Limits::default()
    })
    .await;
    let a = Term::open(login(&f.server, "alice", &f.alice).await, 80, 24).await;
    a.wait_for("1 Dashboard", WAIT).await;
    assert_eq!(a.wait_closed(WAIT).await, 0);
    assert!(a.contents().contains("without input"), "{}", a.contents());
}

/// A server capping input at `rate` bytes a second (bursts of `burst`), and alice's console
/// on it, drawn.
async fn capped(rate: u32, burst: u32) -> (Fixture, Term) {
    let f = fixture_with(Limits {
        input_rate: rate,
        input_burst: burst,
        ..Limits::default()
    })
    .await;
    let a = Term::open(login(&f.server, "alice", &f.alice).await, 120, 40).await;
    a.wait_for("1 Dashboard", WAIT).await;
    (f, a)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn input_over_the_rate_cap_is_dropped_with_a_message() {
    let (_f, a) = capped(64, 64).await;
    a.type_bytes(&[b'j'; 200]).await;
    a.wait_for("typing too fast", WAIT).await;
}

/// A paste over the input burst: its start passes, the rest is dropped with its end marker.
/// The keys typed after a pause still work (the parser was left inside the paste and swallowed
/// them), and what arrives in the same burst is not read as keys (a pasted `q` quit).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_paste_cut_by_the_rate_cap_neither_types_keys_nor_swallows_the_next_ones() {
    let (_f, a) = capped(1024, 4096).await;
    let mut start = b"\x1b[200~".to_vec();
    start.extend_from_slice(&[b'q'; 2000]);
    a.type_bytes(&start).await; // within the burst: the paste is open
    let mut rest = vec![b'q'; 20_000];
    rest.extend_from_slice(b"\x1b[201~");
    a.type_bytes(&rest).await; // over it: dropped, end marker and all
    a.type_bytes(b"q").await; // the same burst: dropped too, not the quit key
    a.wait_for("typing too fast", WAIT).await;
    tokio::time::sleep(rustok::ssh::BURST_GAP + Duration::from_millis(200)).await;
    assert!(!a.contents().contains("following"), "{}", a.contents());
    a.type_bytes(b"5").await;
    // The Events tab (the session opened on Content): the key was read.
    a.wait_for("following", WAIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_host_key_is_created_private_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys").join("host");
    let first = rustok::ssh::load_or_create_host_key(&path).expect("created");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let again = rustok::ssh::load_or_create_host_key(&path).expect("loaded");
    assert_eq!(
        first.public_key(),
        again.public_key(),
        "the same key on the next start"
    );
    assert_eq!(first.algorithm(), Algorithm::Ed25519);
}

/// End to end through the system `ssh` client, when it is installed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn system_ssh_client_end_to_end() {
    if std::process::Command::new("ssh")
        .arg("-V")
        .output()
        .is_err()
    {
        eprintln!("skipped: no ssh client installed");
        return;
    }
    let f = fixture().await;
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("id_ed25519");
    f.alice
        .write_openssh_file(&key_path, russh::keys::ssh_key::LineEnding::LF)
        .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let mut child = tokio::process::Command::new("ssh")
        .args(["-tt", "-F", "/dev/null"])
        .args([
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
        ])
        .args([
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "LogLevel=ERROR",
        ])
        .arg("-i")
        .arg(&key_path)
        .args(["-p", &f.server.local_addr().port().to_string()])
        .arg("alice@127.0.0.1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("ssh runs");
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    // Without a local terminal, ssh -tt asks for a pty of unknown size: the console uses 80x24.
    let screen = Arc::new(Mutex::new(vt100::Parser::new(nz(24), nz(80), 0)));
    let reader = {
        let screen = screen.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 8192];
            while let Ok(n) = stdout.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                screen.lock().unwrap().process(&buf[..n]);
            }
        })
    };
    let wait_for = |text: &'static str| {
        let screen = screen.clone();
        async move {
            let contents = || screen.lock().unwrap().screen().contents();
            assert!(
                wait_until_async(WAIT, async || contents().contains(text)).await,
                "'{text}' not shown through ssh:\n{}",
                contents()
            );
        }
    };
    wait_for("1 Dashboard").await;
    stdin.write_all(b"2").await.unwrap();
    wait_for("Hello from the SSH con").await; // the title column is narrower at 80 columns
    stdin.write_all(b"q").await.unwrap();
    let status = tokio::time::timeout(WAIT, child.wait())
        .await
        .expect("ssh exits after q")
        .unwrap();
    let _ = reader.await;
    assert!(status.success(), "ssh exit status {status:?}");
    assert!(!screen.lock().unwrap().screen().alternate_screen());
}

// ---- Pre-authentication limits, against the real binary -------------------------------------

/// `rustok serve --ssh 127.0.0.1:0` as a child process (under `prlimit` when `nofile` is
/// given), with staff member alice (editor) and her ed25519 key; killed when dropped.
struct Served {
    child: std::process::Child,
    addr: std::net::SocketAddr,
    alice: Arc<PrivateKey>,
    _cli: support::cli::Cli,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    fn start(nofile: Option<u32>, extra: &[&str]) -> Served {
        use std::io::BufRead;
        let cli = support::cli::Cli::new();
        cli.json(&["tenant", "list"]);
        let alice = new_key();
        let key_file = cli.data.path().join("alice.pub");
        std::fs::write(&key_file, alice.public_key().to_openssh().unwrap()).unwrap();
        cli.json(&[
            "staff",
            "add",
            "alice",
            "--role",
            "editor",
            "--ssh-key",
            key_file.to_str().unwrap(),
        ]);
        let host_key = cli.data.path().join("host_key");
        let mut args = vec![
            "serve",
            "--ssh",
            "127.0.0.1:0",
            "--host-key",
            host_key.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let rustok = cli.cmd(&args);
        let mut cmd = match nofile {
            Some(n) => {
                let mut c = std::process::Command::new("prlimit");
                c.arg(format!("--nofile={n}:{n}"))
                    .arg("--")
                    .arg(rustok.get_program())
                    .args(rustok.get_args());
                for (k, v) in rustok.get_envs() {
                    match v {
                        Some(v) => c.env(k, v),
                        None => c.env_remove(k),
                    };
                }
                c
            }
            None => rustok,
        };
        let mut child = cmd
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("rustok serve runs");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("serve prints its address");
        let addr = line
            .split_whitespace()
            .skip_while(|w| *w != "on")
            .nth(1)
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .parse()
            .expect("an address");
        Served {
            child,
            addr,
            alice: Arc::new(alice),
            _cli: cli,
        }
    }

    fn is_alive(&mut self) -> bool {
        self.child.try_wait().expect("wait").is_none()
    }

    /// Descriptors the server holds open now.
    fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .map(|d| d.count())
            .unwrap_or(0)
    }
}

/// Raises this test process's descriptor limit to its hard limit (the attack needs ~1,100).
fn raise_own_nofile() {
    unsafe {
        let mut l = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) == 0 {
            l.rlim_cur = l.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &l);
        }
    }
}

/// A TCP connection to `addr` from `source` (any 127.0.0.0/8 address is this host).
async fn tcp_from(
    source: std::net::Ipv4Addr,
    addr: std::net::SocketAddr,
) -> std::io::Result<tokio::net::TcpStream> {
    let s = tokio::net::TcpSocket::new_v4()?;
    s.bind((source, 0).into())?;
    tokio::time::timeout(Duration::from_secs(3), s.connect(addr))
        .await
        .map_err(|_| std::io::Error::other("connect timed out"))?
}

/// `n` TCP connections that send nothing, from `sources` different loopback addresses.
async fn idle_connections(
    addr: std::net::SocketAddr,
    n: usize,
    sources: usize,
) -> Vec<tokio::net::TcpStream> {
    let mut open = Vec::new();
    for i in 0..n {
        let j = (i % sources) as u32;
        let source = std::net::Ipv4Addr::new(127, 1, (j / 250) as u8, (j % 250 + 1) as u8);
        if let Ok(s) = tcp_from(source, addr).await {
            open.push(s);
        }
    }
    open
}

/// Alice logs in from 127.0.0.2 and her console draws.
async fn alice_logs_in(served: &Served) {
    let stream = tcp_from(std::net::Ipv4Addr::new(127, 0, 0, 2), served.addr)
        .await
        .expect("connect");
    let mut h = client::connect_stream(Arc::new(client::Config::default()), stream, Client)
        .await
        .expect("SSH handshake");
    let ok = h
        .authenticate_publickey(
            "alice",
            PrivateKeyWithHashAlg::new(served.alice.clone(), None),
        )
        .await
        .expect("auth exchange");
    assert!(ok.success(), "alice should be let in");
    let term = Term::open(h, 100, 30).await;
    term.wait_for("1 Dashboard", WAIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn idle_unauthenticated_connections_cannot_take_the_server_down() {
    raise_own_nofile();
    let mut served = Served::start(Some(1024), &[]);
    // 1,100 connections that never speak, from 400 addresses: more than the server has
    // descriptors for.
    let attack = idle_connections(served.addr, 1100, 400).await;
    assert!(attack.len() > 1000, "only {} connected", attack.len());
    alice_logs_in(&served).await;
    assert!(served.is_alive(), "the server exited");
    let fds = served.open_fds();
    assert!(
        fds < 400,
        "the server holds {fds} descriptors: unauthenticated connections are not capped"
    );
    drop(attack);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cap_above_the_descriptor_limit_is_lowered_to_fit() {
    raise_own_nofile();
    // Limits above what 1,024 descriptors allow: were they kept, accept would run into
    // EMFILE and the database could no longer open a connection for alice's login.
    let mut served = Served::start(
        Some(1024),
        &[
            "--max-unauthenticated",
            "100000",
            "--max-unauthenticated-per-source",
            "100000",
        ],
    );
    let attack = idle_connections(served.addr, 1100, 400).await;
    assert!(attack.len() > 1000, "only {} connected", attack.len());
    alice_logs_in(&served).await;
    assert!(served.is_alive(), "the server exited");
    let fds = served.open_fds();
    assert!(fds < 1024 - 64, "the server holds {fds} descriptors");
    drop(attack);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_source_is_capped_and_rate_limited_before_any_key_exchange() {
    let served = Served::start(None, &["--max-unauthenticated-per-source", "3"]);
    let source = std::net::Ipv4Addr::new(127, 0, 0, 3);
    let mut held = Vec::new();
    let mut banners = Vec::new();
    for _ in 0..20 {
        use tokio::io::AsyncReadExt;
        let mut s = tcp_from(source, served.addr).await.expect("connect");
        let mut buf = [0u8; 64];
        let n = tokio::time::timeout(WAIT, s.read(&mut buf))
            .await
            .expect("the server says something")
            .unwrap_or(0);
        banners.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        held.push(s);
    }
    let ssh = banners.iter().filter(|b| b.starts_with("SSH-2.0-")).count();
    assert_eq!(
        ssh, 3,
        "3 unauthenticated connections from one source: {banners:?}"
    );
    assert!(
        banners
            .iter()
            .any(|b| b.starts_with("Exceeded MaxStartups")),
        "{banners:?}"
    );
    // Another source is not affected.
    alice_logs_in(&served).await;
    drop(held);
    // One at a time now (each closed before the next): the per-source cap is not reached,
    // but the burst of 10 new connections is soon spent and the rate (2/s) refuses.
    let mut later = Vec::new();
    for _ in 0..20 {
        use tokio::io::AsyncReadExt;
        let mut s = tcp_from(source, served.addr).await.expect("connect");
        let mut buf = [0u8; 64];
        let n = tokio::time::timeout(WAIT, s.read(&mut buf))
            .await
            .expect("the server says something")
            .unwrap_or(0);
        later.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    let opened = later.iter().filter(|b| b.starts_with("SSH-2.0-")).count();
    assert!(
        later
            .iter()
            .any(|b| b.starts_with("Not allowed at this time"))
            && opened <= 10,
        "{later:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_connection_that_does_not_authenticate_is_closed_after_the_grace_time() {
    let served = Served::start(None, &["--login-grace-time", "1"]);
    use tokio::io::AsyncReadExt;
    let mut s = tcp_from(std::net::Ipv4Addr::new(127, 0, 0, 4), served.addr)
        .await
        .expect("connect");
    let start = Instant::now();
    let mut buf = [0u8; 256];
    loop {
        match tokio::time::timeout(WAIT, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(_)) => continue, // the server's version line
            Err(_) => panic!("the connection was not closed within {WAIT:?}"),
        }
    }
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "closed after {took:?}"
    );
}

// ---- Key strength ---------------------------------------------------------------------------

/// An RSA key of `bits` made by ssh-keygen (fast, unlike generating one in a debug build).
fn ssh_keygen_rsa(dir: &std::path::Path, bits: u32) -> (std::path::PathBuf, PrivateKey) {
    let path = dir.join(format!("rsa{bits}"));
    let ok = std::process::Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "rsa",
            "-b",
            &bits.to_string(),
            "-N",
            "",
            "-C",
            "test",
            "-f",
        ])
        .arg(&path)
        .status()
        .expect("ssh-keygen runs (openssh-client)")
        .success();
    assert!(ok, "ssh-keygen failed");
    let key = russh::keys::load_secret_key(&path, None).expect("key loads");
    (path, key)
}

#[test]
fn staff_add_refuses_a_1024_bit_rsa_key_and_a_dsa_key() {
    let cli = support::cli::Cli::new();
    let (path, _) = ssh_keygen_rsa(cli.data.path(), 1024);
    let public = format!("{}.pub", path.display());
    let err = cli.refused(&[
        "staff",
        "add",
        "old",
        "--role",
        "editor",
        "--ssh-key",
        &public,
    ]);
    assert!(err.contains("at least 3072 bits"), "{err}");
    let dsa = cli.data.path().join("dsa.pub");
    // A DSA public key line (OpenSSH no longer generates them).
    std::fs::write(&dsa, "ssh-dss AAAAB3NzaC1kc3MAAACBAMXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFAAAAFQCbm5ubm5ubm5ubm5ubm5ubm5ubmwAAAIACAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgAAAIADAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAw== dsa@box\n").unwrap();
    let err = cli.refused(&[
        "staff",
        "add",
        "old",
        "--role",
        "editor",
        "--ssh-key",
        dsa.to_str().unwrap(),
    ]);
    assert!(err.contains("DSA"), "{err}");
    let (ok, _) = ssh_keygen_rsa(cli.data.path(), 3072);
    cli.json(&[
        "staff",
        "add",
        "new",
        "--role",
        "editor",
        "--ssh-key",
        &format!("{}.pub", ok.display()),
    ]);
}

#[test]
fn serve_refuses_a_weak_host_key() {
    let cli = support::cli::Cli::new();
    cli.json(&["tenant", "list"]);
    let (path, _) = ssh_keygen_rsa(cli.data.path(), 1024);
    let err = cli.refused(&[
        "serve",
        "--ssh",
        "127.0.0.1:0",
        "--host-key",
        path.to_str().unwrap(),
    ]);
    assert!(err.contains("host key") && err.contains("3072"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_rsa_key_logs_in_with_rsa_sha2_only_never_ssh_rsa_sha1() {
    let f = fixture().await;
    let dir = tempfile::tempdir().unwrap();
    let (_, rsa) = ssh_keygen_rsa(dir.path(), 3072);
    add_staff(&f.app, "carol", Role::Editor, &rsa).await;
    let rsa = Arc::new(rsa);
    let mut h = connect(&f.server).await;
    let r = h
        .authenticate_publickey("carol", PrivateKeyWithHashAlg::new(rsa.clone(), None))
        .await
        .expect("auth exchange");
    assert!(!r.success(), "an ssh-rsa (SHA-1) signature must be refused");
    let r = h
        .authenticate_publickey(
            "carol",
            PrivateKeyWithHashAlg::new(rsa, Some(russh::keys::HashAlg::Sha256)),
        )
        .await
        .expect("auth exchange");
    assert!(r.success(), "rsa-sha2-256 must be accepted");
    let denied = denied_logins(&f.app).await;
    assert!(
        denied
            .iter()
            .any(|(who, why)| who == "carol" && why.contains("SHA-1")),
        "{denied:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_server_offers_modern_algorithms_only() {
    let f = fixture().await;
    // A client that insists on finite-field Diffie-Hellman or a non-etm MAC gets nowhere.
    for preferred in [
        russh::Preferred {
            kex: std::borrow::Cow::Borrowed(&[
                russh::kex::DH_G14_SHA256,
                russh::kex::DH_G16_SHA512,
            ]),
            ..Default::default()
        },
        russh::Preferred {
            mac: std::borrow::Cow::Borrowed(&[russh::mac::HMAC_SHA256, russh::mac::HMAC_SHA512]),
            cipher: std::borrow::Cow::Borrowed(&[russh::cipher::AES_256_CTR]),
            ..Default::default()
        },
    ] {
        let config = Arc::new(client::Config {
            preferred,
            ..Default::default()
        });
        assert!(
            client::connect(config, f.server.local_addr(), Client)
                .await
                .is_err(),
            "the server agreed to a weak algorithm"
        );
    }
    // The default (post-quantum hybrid first) works.
    let _session = login(&f.server, "alice", &f.alice).await;
}

// ---- Bounded audit of refusals --------------------------------------------------------------

async fn denied_rows(app: &TestApp) -> Vec<rustok_domain::audit::AuditLogEntry> {
    app.store
        .audit_log(0, 1000)
        .await
        .expect("audit log")
        .rows
        .into_iter()
        .filter(|e| e.command == "ssh_login" && e.outcome == AuditOutcome::Denied)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_over_long_user_name_leaves_a_bounded_row() {
    let f = fixture().await;
    let name = "n".repeat(200_000);
    let mut h = connect(&f.server).await;
    let r = h
        .authenticate_publickey(&name, PrivateKeyWithHashAlg::new(Arc::new(new_key()), None))
        .await
        .expect("auth exchange");
    assert!(!r.success());
    let rows = denied_rows(&f.app).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    let size = row.actor.len() + row.reason.as_deref().map_or(0, str::len);
    assert!(size < 1024, "a {size}-byte row for a refused login");
    assert!(row.actor.ends_with("…[200000 bytes]"), "{}", row.actor);
    assert!(
        row.reason
            .as_deref()
            .unwrap_or_default()
            .contains("[200000 bytes]"),
        "{row:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_of_refused_logins_leaves_a_few_rows_with_a_count() {
    let f = fixture_with(Limits {
        refusal_window: Duration::from_secs(3),
        ..Limits::default()
    })
    .await;
    // 10 connections (the per-source burst) × 5 password attempts, all at once.
    let mut attempts = tokio::task::JoinSet::new();
    for c in 0..10 {
        let mut h = connect(&f.server).await;
        attempts.spawn(async move {
            for i in 0..5 {
                let r = h
                    .authenticate_password(format!("user{c}-{i}"), "guess")
                    .await
                    .expect("auth exchange");
                assert!(!r.success());
            }
        });
    }
    while let Some(r) = attempts.join_next().await {
        r.expect("attempts");
    }
    // The first refusal is written at once, the rest as one counted row when the window
    // ends — or when the server stops, which writes whatever is pending.
    let Fixture { app, server, .. } = f;
    server.shutdown().await;
    let rows = denied_rows(&app).await;
    assert!(
        rows.iter().any(|r| r
            .reason
            .as_deref()
            .unwrap_or_default()
            .contains("coalesced")),
        "{rows:#?}"
    );
    assert!(
        rows.len() <= 4,
        "{} rows for 50 refusals: {rows:#?}",
        rows.len()
    );
    let counted: u64 = rows
        .iter()
        .map(|r| {
            let reason = r.reason.as_deref().unwrap_or_default();
            match reason.split_once(" more refused logins") {
                Some((n, _)) => n.parse::<u64>().expect("a count"),
                None => 1,
            }
        })
        .sum();
    assert_eq!(counted, 50, "{rows:#?}");
}

// ---- Window changes --------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_of_window_changes_is_coalesced() {
    let f = fixture().await;
    let term = Term::open(login(&f.server, "alice", &f.alice).await, 80, 24).await;
    term.wait_for("1 Dashboard", WAIT).await;
    let before = term.received.load(std::sync::atomic::Ordering::SeqCst);
    // 200 alternating huge and small windows, as fast as the client can send them.
    for i in 0..200 {
        let (c, r) = if i % 2 == 0 { (1000, 1000) } else { (80, 24) };
        term.writer
            .window_change(c, r, 0, 0)
            .await
            .expect("window change");
    }
    // The last size wins and is laid out.
    term.window_change(100, 30).await;
    let laid_out = wait_until_async(WAIT, async || {
        !term.row(29).trim().is_empty() && term.row(0).contains(&f.app.tenant.name)
    })
    .await;
    assert!(laid_out, "not re-laid out at 100x30:\n{}", term.contents());
    let sent = term.received.load(std::sync::atomic::Ordering::SeqCst) - before;
    eprintln!("200 window changes cost {sent} bytes of output");
    // A few frames at most (each at most 512x256), not one per window change.
    assert!(
        sent < 4 << 20,
        "{sent} bytes of output for 200 window changes"
    );
    // The session still answers at once.
    term.type_bytes(b"2").await;
    term.wait_for("Hello from the SSH console", WAIT).await;
}

// ---- Stopping the server ---------------------------------------------------------------------

fn tmux_flag(session: &str, flag: &str) -> String {
    let out = std::process::Command::new("tmux")
        .args(["display", "-p", "-t", session, flag])
        .output()
        .expect("tmux display");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `kill -TERM` of `serve` while a real `ssh` client in a real terminal (tmux) shows the
/// console: the client is told why, its terminal is restored (alternate screen left, cursor
/// shown), ssh exits, and so does the server.
#[test]
fn sigterm_tells_every_client_and_restores_their_terminals() {
    let ssh_installed = std::process::Command::new("ssh").arg("-V").output().is_ok();
    if !support::tmux::available() || !ssh_installed {
        eprintln!("skipped: needs tmux and an ssh client (.ci/run installs them)");
        return;
    }
    let mut served = Served::start(None, &[]);
    let key = served._cli.data.path().join("id_alice");
    served
        .alice
        .write_openssh_file(&key, russh::keys::ssh_key::LineEnding::LF)
        .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let session = format!("rustok-ssh-sigterm-{}", std::process::id());
    let cmd = format!(
        "TERM=xterm-256color ssh -tt -F /dev/null -o StrictHostKeyChecking=no \
         -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o IdentitiesOnly=yes \
         -o LogLevel=ERROR -i {} -p {} alice@127.0.0.1; echo ssh-exited-$?; sleep 60",
        key.display(),
        served.addr.port()
    );
    let ok = std::process::Command::new("tmux")
        .args([
            "new-session",
            "-d",
            "-s",
            &session,
            "-x",
            "120",
            "-y",
            "40",
            &cmd,
        ])
        .status()
        .unwrap()
        .success();
    assert!(ok, "tmux new-session failed");
    let pane = support::tmux::Pane { session };
    pane.wait_for("1 Dashboard", WAIT);
    assert_eq!(tmux_flag(&pane.session, "#{alternate_on}"), "1");
    assert_eq!(
        tmux_flag(&pane.session, "#{cursor_flag}"),
        "0",
        "the console hides the cursor"
    );

    // SAFETY: a signal to the child we started.
    assert_eq!(
        unsafe { libc::kill(served.child.id() as i32, libc::SIGTERM) },
        0
    );
    let screen = pane.wait_for("ssh-exited", WAIT);
    assert!(screen.contains("the server is shutting down"), "{screen}");
    assert_eq!(
        tmux_flag(&pane.session, "#{alternate_on}"),
        "0",
        "alternate screen left"
    );
    assert_eq!(
        tmux_flag(&pane.session, "#{cursor_flag}"),
        "1",
        "cursor shown"
    );

    let (tx, rx) = std::sync::mpsc::channel();
    let mut child = std::mem::replace(
        &mut served.child,
        std::process::Command::new("true").spawn().unwrap(),
    );
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let status = rx
        .recv_timeout(WAIT)
        .expect("serve exits after SIGTERM")
        .unwrap();
    assert!(status.success(), "serve exited with {status:?}");
}

// ---- Session admin ---------------------------------------------------------------------------

/// `rustok --db DB --as ACTOR ARGS` against the fixture's database and control socket.
fn admin(f: &Fixture, actor: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_rustok"))
        .args([
            "--db",
            &f.app.db.url,
            "--tenant",
            &f.app.tenant.slug,
            "--as",
            actor,
        ])
        .args(args)
        .env("RUSTOK_DATA_DIR", f._dir.path())
        .env_remove("RUSTOK_DATABASE_URL")
        .env_remove("RUSTOK_STAFF")
        .output()
        .expect("rustok runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_admin_lists_sessions_and_kicks_one_whose_client_gets_its_terminal_back() {
    let f = fixture().await;
    add_staff(&f.app, "olivia", Role::Owner, &new_key()).await;
    let term = Term::open(login(&f.server, "alice", &f.alice).await, 120, 40).await;
    term.wait_for("1 Dashboard", WAIT).await;
    term.window_change(100, 30).await;

    let out = tokio::task::block_in_place(|| admin(&f, "olivia", &["ssh", "sessions", "--json"]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let rows = rows.as_array().expect("an array");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["handle"], "alice");
    assert_eq!(rows[0]["role"], "editor");
    assert!(
        rows[0]["source"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:")
    );
    assert!(rows[0]["idle_secs"].is_u64() && rows[0]["since"].is_string());
    let id = rows[0]["id"].as_u64().unwrap().to_string();
    let text = tokio::task::block_in_place(|| admin(&f, "olivia", &["ssh", "sessions"]));
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("alice") && text.contains("editor"), "{text}");

    // An editor may not kick anyone.
    let out = tokio::task::block_in_place(|| admin(&f, "alice", &["ssh", "kick", &id]));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(f.server.active_sessions(), 1);

    let out = tokio::task::block_in_place(|| {
        admin(
            &f,
            "olivia",
            &["ssh", "kick", &id, "--reason", "maintenance at 18:00"],
        )
    });
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    term.wait_closed(WAIT).await;
    assert!(
        term.contents()
            .contains("ended by olivia: maintenance at 18:00"),
        "{}",
        term.contents()
    );
    {
        let p = term.screen.lock().unwrap();
        assert!(!p.screen().alternate_screen(), "alternate screen left");
        assert!(!p.screen().hide_cursor(), "cursor shown");
    }
    let kicks: Vec<_> = f
        .app
        .store
        .audit_log(0, 100)
        .await
        .unwrap()
        .rows
        .into_iter()
        .filter(|e| e.command == "ssh_kick" && e.outcome == rustok_domain::audit::AuditOutcome::Ok)
        .collect();
    assert_eq!(kicks.len(), 1, "{kicks:?}");
    assert_eq!(kicks[0].actor, "olivia");
    assert!(kicks[0].reason.as_deref().unwrap().contains("alice"));
    // Gone from the list; kicking again finds nothing.
    let out = tokio::task::block_in_place(|| admin(&f, "olivia", &["ssh", "kick", "alice"]));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    // The editor's refused attempt is in the audit log too.
    let denied: Vec<_> = f
        .app
        .store
        .audit_log(0, 100)
        .await
        .unwrap()
        .rows
        .into_iter()
        .filter(|e| e.command == "ssh_kick" && e.actor == "alice")
        .collect();
    assert_eq!(denied.len(), 1, "{denied:?}");
    assert_eq!(
        denied[0].outcome,
        rustok_domain::audit::AuditOutcome::Denied
    );
}

/// `ssh kick` names one thing: a staff handle made of digits is not taken for a session id
/// (nor the reverse) without saying which; an admin may not end an owner's session (an owner
/// may), and that refusal is audited.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_kick_is_unambiguous_and_an_owners_session_is_for_owners_to_end() {
    let f = fixture().await;
    let (digits, olivia) = (Arc::new(new_key()), Arc::new(new_key()));
    add_staff(&f.app, "adam", Role::Admin, &new_key()).await;
    add_staff(&f.app, "2", Role::Editor, &digits).await;
    add_staff(&f.app, "olivia", Role::Owner, &olivia).await;
    let alice = Term::open(login(&f.server, "alice", &f.alice).await, 80, 24).await;
    alice.wait_for("1 Dashboard", WAIT).await; // session 1
    let two = Term::open(login(&f.server, "2", &digits).await, 80, 24).await;
    two.wait_for("1 Dashboard", WAIT).await; // session 2, of staff member "2"
    let owner = Term::open(login(&f.server, "olivia", &olivia).await, 80, 24).await;
    owner.wait_for("1 Dashboard", WAIT).await; // session 3
    let kick = |actor: &str, args: &[&str]| {
        let mut all = vec!["ssh", "kick"];
        all.extend_from_slice(args);
        tokio::task::block_in_place(|| admin(&f, actor, &all))
    };

    let out = kick("adam", &["2"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--id or --handle"));
    assert_eq!(f.server.active_sessions(), 3, "nothing ended");

    let out = kick("adam", &["3"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot end an owner's session"), "{err}");
    let out = kick("adam", &["olivia"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(f.server.active_sessions(), 3, "nothing ended");

    let out = kick("adam", &["2", "--handle"]);
    assert!(out.status.success(), "{out:?}");
    two.wait_closed(WAIT).await;
    assert_eq!(
        f.server.active_sessions(),
        2,
        "only staff member 2's session"
    );
    assert!(alice.contents().contains("Dashboard"));

    let out = kick("olivia", &["olivia", "--reason", "testing"]);
    assert!(out.status.success(), "{out:?}");
    owner.wait_closed(WAIT).await;

    let rows = f.app.store.audit_log(0, 100).await.unwrap().rows;
    let denied = rows
        .iter()
        .filter(|e| e.command == "ssh_kick" && e.actor == "adam")
        .filter(|e| e.outcome == rustok_domain::audit::AuditOutcome::Denied)
        .count();
    assert_eq!(denied, 2, "{rows:?}");
}

/// The console's Sessions view over SSH (issue 18): an owner logged in over SSH opens it
/// with `S`, sees the other session live, ends it with a reason and a confirmation; the ended
/// client reads the reason and gets its terminal back. An editor's console is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_owner_in_the_console_ends_another_ssh_session_whose_client_reads_why() {
    let f = fixture().await;
    let olivia = Arc::new(new_key());
    add_staff(&f.app, "olivia", Role::Owner, &olivia).await;
    let alice = Term::open(login(&f.server, "alice", &f.alice).await, 100, 30).await;
    alice.wait_for("1 Dashboard", WAIT).await;

    // The editor is refused, with the permission named.
    alice.type_bytes(b"S").await;
    alice
        .wait_for("Session admin is for owners and admins.", WAIT)
        .await;
    alice
        .wait_for("editor cannot list SSH sessions (needs staff:read)", WAIT)
        .await;
    assert!(
        !alice.contents().contains("127.0.0.1:"),
        "{}",
        alice.contents()
    );
    alice.type_bytes(b"\x1b").await; // Esc: back to where she was
    alice.wait_for("1 Dashboard", WAIT).await;

    let owner = Term::open(login(&f.server, "olivia", &olivia).await, 120, 40).await;
    owner.wait_for("1 Dashboard", WAIT).await;
    owner.type_bytes(b"S").await;
    owner.wait_for("2 live", WAIT).await;
    owner.wait_for("olivia (you)", WAIT).await;
    let screen = owner.contents();
    let row = screen
        .lines()
        .find(|l| l.contains("alice"))
        .unwrap_or_else(|| panic!("alice is listed:\n{screen}"));
    assert!(
        row.contains("editor") && row.contains("127.0.0.1:") && row.contains("100x30"),
        "{row}"
    );
    // Live: alice's window change shows within about a second.
    alice.window_change(90, 28).await;
    owner.wait_for("90x28", Duration::from_secs(3)).await;

    // Alice is the first row (the oldest session) and is selected: x, a reason, Enter, y.
    owner.type_bytes(b"x").await;
    owner.wait_for("reason:", WAIT).await;
    owner.type_bytes(b"maintenance at 18:00").await;
    owner.type_bytes(b"\r").await;
    owner.wait_for("End SSH session?", WAIT).await;
    assert_eq!(f.server.active_sessions(), 2, "nothing ends before yes");
    owner.type_bytes(b"y").await;

    alice.wait_closed(WAIT).await;
    assert!(
        alice
            .contents()
            .contains("your session was ended by olivia: maintenance at 18:00"),
        "{}",
        alice.contents()
    );
    {
        let p = alice.screen.lock().unwrap();
        assert!(!p.screen().alternate_screen(), "alternate screen left");
        assert!(!p.screen().hide_cursor(), "cursor shown");
    }
    owner
        .wait_for("ended alice's session 1; they were told why", WAIT)
        .await;
    owner.wait_for("1 live", WAIT).await;
    assert_eq!(f.server.active_sessions(), 1, "the owner's session goes on");
    let kicks: Vec<_> = f
        .app
        .store
        .audit_log(0, 100)
        .await
        .unwrap()
        .rows
        .into_iter()
        .filter(|e| e.command == "ssh_kick")
        .collect();
    assert_eq!(kicks.len(), 1, "{kicks:?}");
    assert_eq!(kicks[0].actor, "olivia");
    assert!(
        kicks[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("of alice (editor): maintenance at 18:00"),
        "{kicks:?}"
    );
}

/// A read-only server: an owner's console lists the sessions but refuses to end one (the
/// key says so and nothing is asked), and the runtime refuses a kick from a read-only session
/// whatever the screen does. The control socket answers the same list.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_read_only_console_lists_sessions_but_cannot_end_one() {
    let f = fixture_opts(Limits::default(), None, None, true).await;
    let olivia = Arc::new(new_key());
    add_staff(&f.app, "olivia", Role::Owner, &olivia).await;
    let _alice = Term::open(login(&f.server, "alice", &f.alice).await, 100, 30).await;
    let owner = Term::open(login(&f.server, "olivia", &olivia).await, 120, 40).await;
    owner.wait_for("1 Dashboard", WAIT).await;
    owner.type_bytes(b"S").await;
    owner.wait_for("2 live", WAIT).await;
    owner.type_bytes(b"x").await;
    owner
        .wait_for("read-only session: kick session is disabled", WAIT)
        .await;
    assert!(!owner.contents().contains("reason:"));

    let reads = rustok::runtime::Reads::new(f.app.store.clone(), "olivia").with_live_sessions(
        std::sync::Arc::new(rustok::ssh::admin::SessionAdmin::sockets(f._dir.path())),
    );
    let listed = reads.ssh_sessions().await.expect("an owner lists");
    assert_eq!(listed.servers, vec![f.server.local_addr().to_string()]);
    let alice = listed
        .sessions
        .iter()
        .find(|s| s.handle == "alice")
        .expect("alice listed")
        .clone();
    let refused = reads
        .kick_ssh_session(true, &alice.server, alice.id, alice.since, "no")
        .await
        .expect_err("refused read-only");
    assert!(
        refused
            .to_string()
            .contains("read-only session cannot end SSH sessions"),
        "{refused}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(f.server.active_sessions(), 2);
}

/// A local console beside a running `serve` on the same data directory (issue 18): the real
/// binary in tmux, as owner olivia, opens the Sessions view, sees alice's SSH session through
/// the server's control socket, ends it with a reason and a confirmation; alice reads why and
/// gets her terminal back. Once the server stops, the view says no server is running.
#[test]
fn a_local_console_beside_serve_ends_a_session_through_the_control_socket() {
    if !support::tmux::available() {
        eprintln!("skipped: needs tmux (.ci/run installs it)");
        return;
    }
    let mut served = Served::start(None, &[]);
    served
        ._cli
        .json(&["staff", "add", "olivia", "--role", "owner"]);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let alice = rt.block_on(async {
        let stream = tcp_from(std::net::Ipv4Addr::new(127, 0, 0, 2), served.addr)
            .await
            .expect("connect");
        let mut h = client::connect_stream(Arc::new(client::Config::default()), stream, Client)
            .await
            .expect("SSH handshake");
        let ok = h
            .authenticate_publickey(
                "alice",
                PrivateKeyWithHashAlg::new(served.alice.clone(), None),
            )
            .await
            .expect("auth exchange");
        assert!(ok.success());
        let term = Term::open(h, 100, 30).await;
        term.wait_for("1 Dashboard", WAIT).await;
        term
    });

    let pane = support::tmux::Pane::console(
        "ssh-sessions-local",
        &served._cli.db.url,
        served._cli.data.path(),
        &[("RUSTOK_STAFF", "olivia")],
        "echo console-exited",
    );
    pane.wait_for("1 Dashboard", WAIT);
    pane.keys(&["S"]);
    let screen = pane.wait_for("1 live", WAIT);
    assert!(
        screen.contains(&served._cli.data.path().display().to_string()),
        "the view names where it looked:\n{screen}"
    );
    let row = screen
        .lines()
        .find(|l| l.contains("alice"))
        .unwrap_or_else(|| panic!("alice is listed:\n{screen}"));
    assert!(
        row.contains("editor") && row.contains("127.0.0.2:") && row.contains("100x30"),
        "{row}"
    );
    pane.keys(&["x"]);
    pane.wait_for("reason:", WAIT);
    pane.text("maintenance at 18:00");
    pane.keys(&["Enter"]);
    pane.wait_for("End SSH session?", WAIT);
    pane.keys(&["y"]);
    rt.block_on(alice.wait_closed(WAIT));
    assert!(
        alice
            .contents()
            .contains("your session was ended by olivia: maintenance at 18:00"),
        "{}",
        alice.contents()
    );
    {
        let p = alice.screen.lock().unwrap();
        assert!(!p.screen().alternate_screen(), "alternate screen left");
        assert!(!p.screen().hide_cursor(), "cursor shown");
    }
    pane.wait_for("ended alice's session 1; they were told why", WAIT);
    pane.wait_for("No console sessions on 127.0.0.1:", WAIT);
    let audit = served._cli.json(&["audit", "log"]);
    assert!(
        audit.to_string().contains("ssh_kick"),
        "the kick is audited: {audit}"
    );

    // The server stops: within about a second the view says no server is running.
    // SAFETY: a signal to the child we started.
    assert_eq!(
        unsafe { libc::kill(served.child.id() as i32, libc::SIGTERM) },
        0
    );
    let _ = served.child.wait();
    pane.wait_for("No SSH server is running from", WAIT);
}

// ---- OpenSSH user certificates ----------------------------------------------------------------

/// Runs ssh-keygen with `args`; fails the test when it does.
fn ssh_keygen(args: &[&str]) {
    let out = std::process::Command::new("ssh-keygen")
        .args(args)
        .output()
        .expect("ssh-keygen runs (openssh-client)");
    assert!(
        out.status.success(),
        "ssh-keygen {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Signs `dir/user.pub` with `dir/ca` and returns the certificate (`extra`: ssh-keygen options).
fn sign(
    dir: &std::path::Path,
    principal: &str,
    serial: u64,
    extra: &[&str],
) -> russh::keys::Certificate {
    let ca = dir.join("ca");
    let user = dir.join("user.pub");
    let serial = serial.to_string();
    let mut args = vec![
        "-q",
        "-s",
        ca.to_str().unwrap(),
        "-I",
        "test-cert",
        "-n",
        principal,
        "-z",
        &serial,
    ];
    args.extend_from_slice(extra);
    args.push(user.to_str().unwrap());
    ssh_keygen(&args);
    let text = std::fs::read_to_string(dir.join("user-cert.pub")).unwrap();
    russh::keys::Certificate::from_openssh(text.trim()).expect("a certificate")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn certificates_log_in_by_principal_and_expired_revoked_or_inactive_ones_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    ssh_keygen(&[
        "-q",
        "-t",
        "ed25519",
        "-N",
        "",
        "-C",
        "ca",
        "-f",
        p("ca").to_str().unwrap(),
    ]);
    ssh_keygen(&[
        "-q",
        "-t",
        "ed25519",
        "-N",
        "",
        "-C",
        "user",
        "-f",
        p("user").to_str().unwrap(),
    ]);
    let user_key = Arc::new(russh::keys::load_secret_key(p("user"), None).unwrap());
    // A short refusal window: every refusal gets its own audit row to look at.
    let limits = Limits {
        refusal_window: Duration::from_millis(10),
        ..Limits::default()
    };
    let f = fixture_full(limits, Some(p("ca.pub")), Some(p("revoked"))).await;
    add_staff(&f.app, "olivia", Role::Owner, &new_key()).await;
    add_staff(&f.app, "dave", Role::Editor, &new_key()).await;
    f.app
        .exec(Command::SetStaffActive {
            handle: "dave".into(),
            active: false,
        })
        .await
        .expect("deactivate dave");

    let valid = ["-V", "-5m:+1h"];
    let try_cert = |user: &'static str, cert: russh::keys::Certificate| {
        let key = user_key.clone();
        let server = &f.server;
        async move {
            let mut h = connect(server).await;
            let r = h
                .authenticate_openssh_cert(user, key, cert)
                .await
                .expect("auth exchange");
            (r.success(), h)
        }
    };

    // A valid certificate for alice opens her console (no key of hers is registered for it:
    // her registered key is another one).
    let (ok, h) = try_cert("alice", sign(dir.path(), "alice", 100, &valid)).await;
    assert!(ok, "a valid certificate must log in");
    let term = Term::open(h, 120, 40).await;
    term.wait_for("1 Dashboard", WAIT).await;
    assert!(term.contents().contains("alice"), "{}", term.contents());

    // The principal is the handle: alice's certificate is not bob's.
    let (ok, _) = try_cert("bob", sign(dir.path(), "alice", 101, &valid)).await;
    assert!(!ok, "a certificate logs in only as its principal");
    // Expired.
    let (ok, _) = try_cert(
        "alice",
        sign(dir.path(), "alice", 102, &["-V", "20200101:20200102"]),
    )
    .await;
    assert!(!ok, "an expired certificate must be refused");
    // Not from this address.
    let (ok, _) = try_cert(
        "alice",
        sign(
            dir.path(),
            "alice",
            103,
            &["-V", "-5m:+1h", "-O", "source-address=10.0.0.0/8"],
        ),
    )
    .await;
    assert!(!ok, "source-address must be enforced");
    // An inactive member.
    let (ok, _) = try_cert("dave", sign(dir.path(), "dave", 104, &valid)).await;
    assert!(!ok, "a certificate for an inactive member must be refused");
    // Revoked with `rustok staff revoke-cert` (the server re-reads the list at each login).
    let revoked = sign(dir.path(), "alice", 105, &valid);
    let (ok, _) = try_cert("alice", revoked.clone()).await;
    assert!(ok, "not revoked yet");
    let out = tokio::task::block_in_place(|| {
        admin(
            &f,
            "olivia",
            &[
                "staff",
                "revoke-cert",
                "105",
                "--file",
                p("revoked").to_str().unwrap(),
            ],
        )
    });
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (ok, _) = try_cert("alice", revoked).await;
    assert!(!ok, "a revoked certificate must be refused");

    let rows = f.app.store.audit_log(0, 200).await.unwrap().rows;
    let has = |cmd: &str, text: &str| {
        rows.iter()
            .any(|e| e.command == cmd && e.reason.as_deref().unwrap_or_default().contains(text))
    };
    assert!(has("ssh_login", "certificate serial 100"), "{rows:#?}");
    assert!(has("revoke_cert", "serial 105"), "{rows:#?}");
    assert!(has("ssh_login", "is not valid for 'bob'"), "{rows:#?}");
    assert!(has("ssh_login", "not valid from this address"), "{rows:#?}");
    assert!(
        has("ssh_login", "staff member 'dave' is inactive"),
        "{rows:#?}"
    );
    assert!(has("ssh_login", "serial 105 is revoked"), "{rows:#?}");
}
