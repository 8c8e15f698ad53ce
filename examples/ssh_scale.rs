//! Scale benchmark for `rustok serve --ssh` (docs/PERFORMANCE.md, "SSH: 1,000 sessions"):
//! opens N console sessions through russh's SSH client (one connection each, a pty, the
//! Events tab), then pays orders from the CLI and measures, for every session, how long until
//! its screen shows the payment; and the server's memory per session.
//!
//! Run it through `scripts/ssh-scale.sh`, which builds the release binary and a fresh
//! database; by hand:
//!
//! ```sh
//! cargo run --release --example ssh_scale -- --db postgres://... [--sessions 1000] [--rounds 5]
//! ```
//!
//! Everything runs on 127.0.0.1; the server is the real binary (`target/release/rustok`).

use russh::ChannelMsg;
use russh::client;
use russh::keys::{Algorithm, PrivateKey, PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const COLS: u16 = 80;
const ROWS: u16 = 24;

struct Client;

impl client::Handler for Client {
    type Error = russh::Error;

    async fn check_server_key(&mut self, _: &PublicKeyOrCertificate) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

/// One session's screen and what the benchmark watches on it.
struct Screen {
    parser: vt100::Parser,
    /// The screen body (without the tab bar and the two bottom rows, where the clock ticks)
    /// when the current round started; None when not watching.
    baseline: Option<String>,
    /// When the body first differed from the baseline.
    changed: Option<Instant>,
    /// Data messages received (frames, unless one was split).
    frames: u64,
}

impl Screen {
    fn body(&self) -> String {
        let s = self.parser.screen();
        s.rows(0, COLS)
            .skip(1)
            .take(ROWS as usize - 3)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

struct Session {
    screen: Arc<Mutex<Screen>>,
    writer: russh::ChannelWriteHalf<client::Msg>,
    _handle: client::Handle<Client>,
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

struct Rustok {
    bin: String,
    db: String,
    data: std::path::PathBuf,
}

impl Rustok {
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.args(["--db", &self.db])
            .args(args)
            .env("RUSTOK_DATA_DIR", &self.data)
            .env_remove("RUSTOK_DATABASE_URL")
            .env_remove("RUSTOK_STAFF");
        c
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.cmd(args).arg("--json").output().expect("rustok runs");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("JSON")
    }
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, r)| r.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

async fn open(addr: std::net::SocketAddr, key: Arc<PrivateKey>) -> Session {
    let config = Arc::new(client::Config::default());
    let mut handle = client::connect(config, addr, Client)
        .await
        .expect("connect");
    let ok = handle
        .authenticate_publickey("bench", PrivateKeyWithHashAlg::new(key, None))
        .await
        .expect("auth");
    assert!(ok.success(), "login refused");
    let channel = handle.channel_open_session().await.expect("channel");
    channel
        .request_pty(true, "xterm-256color", COLS.into(), ROWS.into(), 0, 0, &[])
        .await
        .expect("pty");
    channel.request_shell(true).await.expect("shell");
    let (mut read, writer) = channel.split();
    let screen = Arc::new(Mutex::new(Screen {
        parser: vt100::Parser::new(
            std::num::NonZeroU16::new(ROWS).unwrap(),
            std::num::NonZeroU16::new(COLS).unwrap(),
            0,
        ),
        baseline: None,
        changed: None,
        frames: 0,
    }));
    {
        let screen = screen.clone();
        tokio::spawn(async move {
            while let Some(msg) = read.wait().await {
                match msg {
                    ChannelMsg::Data { data } => {
                        let now = Instant::now();
                        let mut s = screen.lock().unwrap();
                        s.parser.process(&data);
                        s.frames += 1;
                        if s.changed.is_none()
                            && let Some(b) = &s.baseline
                            && *b != s.body()
                        {
                            s.changed = Some(now);
                        }
                    }
                    ChannelMsg::Close => break,
                    _ => {}
                }
            }
        });
    }
    Session {
        screen,
        writer,
        _handle: handle,
    }
}

async fn wait_until(what: &str, within: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < within, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = arg(&args, "--sessions").map_or(1000, |v| v.parse().unwrap());
    let rounds: usize = arg(&args, "--rounds").map_or(5, |v| v.parse().unwrap());
    let db = arg(&args, "--db").expect("--db URL (a fresh database)");
    let bin = arg(&args, "--bin").unwrap_or_else(|| "target/release/rustok".into());
    let data = tempfile::tempdir().expect("temp dir");
    let rustok = Rustok {
        bin,
        db,
        data: data.path().to_path_buf(),
    };

    // A staff member, a product and `rounds` confirmed orders to pay.
    rustok.json(&["tenant", "list"]);
    let key = PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519).unwrap();
    let key_file = data.path().join("bench.pub");
    std::fs::write(&key_file, key.public_key().to_openssh().unwrap()).unwrap();
    rustok.json(&[
        "staff",
        "add",
        "bench",
        "--role",
        // A role that reads orders and payments (an editor's sessions are not shown them).
        "manager",
        "--ssh-key",
        key_file.to_str().unwrap(),
    ]);
    rustok.json(&[
        "product",
        "create",
        "--sku",
        "MUG",
        "--price",
        "12.50",
        "--currency",
        "USD",
        "--stock",
        "100000",
    ]);
    let mut orders = Vec::new();
    for _ in 0..rounds {
        let o = rustok.json(&["order", "create", "--item", "MUG:1"]);
        let id = o["id"].as_str().unwrap().to_string();
        rustok.json(&["order", "confirm", &id]);
        orders.push(id);
    }

    let host_key = data.path().join("host_key");
    let max = (n + 10).to_string();
    let mut server = rustok
        .cmd(&[
            "serve",
            "--ssh",
            "127.0.0.1:0",
            "--host-key",
            host_key.to_str().unwrap(),
            "--max-sessions",
            &max,
            "--max-unauthenticated",
            "2000",
            "--max-unauthenticated-per-source",
            "2000",
            "--connection-rate",
            "10000",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("serve");
    let pid = server.id();
    let addr: std::net::SocketAddr = {
        use std::io::BufRead;
        let mut line = String::new();
        std::io::BufReader::new(server.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        line.split_whitespace()
            .skip_while(|w| *w != "on")
            .nth(1)
            .unwrap()
            .parse()
            .unwrap()
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_idle = rss_kib(pid);

    // Open the sessions, 32 at a time; each goes to the Events tab.
    let key = Arc::new(key);
    let opening = Instant::now();
    let mut sessions = Vec::with_capacity(n);
    let sem = Arc::new(tokio::sync::Semaphore::new(32));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..n {
        let permit = sem.clone().acquire_owned().await.unwrap();
        let key = key.clone();
        set.spawn(async move {
            let s = open(addr, key).await;
            wait_until("the first frame", Duration::from_secs(60), || {
                s.screen
                    .lock()
                    .unwrap()
                    .parser
                    .screen()
                    .contents()
                    .contains("1 Dashboard")
            })
            .await;
            s.writer.data(&b"5"[..]).await.expect("key");
            drop(permit);
            s
        });
    }
    while let Some(s) = set.join_next().await {
        sessions.push(s.expect("session"));
    }
    let opened = opening.elapsed();
    eprintln!("{n} sessions open in {opened:.1?}");
    tokio::time::sleep(Duration::from_secs(5)).await;
    let rss_open = rss_kib(pid);

    let cpu_before = cpu_secs(pid);
    let mut from_start = Vec::new();
    let mut from_commit = Vec::new();
    let mut missed = 0;
    fn frames_sent(sessions: &[Session]) -> u64 {
        sessions
            .iter()
            .map(|s| s.screen.lock().unwrap().frames)
            .sum()
    }
    let frames_before = frames_sent(&sessions);
    for id in &orders {
        for s in &sessions {
            let mut sc = s.screen.lock().unwrap();
            sc.baseline = Some(sc.body());
            sc.changed = None;
        }
        let start = Instant::now();
        let mut pay = tokio::process::Command::from(rustok.cmd(&[
            "order",
            "pay",
            id,
            "--card-token",
            "tok_visa",
        ]))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("pay");
        // The CLI prints its result right after the commit: that is when the order is paid.
        let mut first = [0u8; 1];
        {
            use tokio::io::AsyncReadExt;
            let _ = pay.stdout.as_mut().unwrap().read(&mut first).await;
        }
        let committed = Instant::now();
        let out = pay.wait_with_output().await.expect("pay");
        assert!(
            out.status.success() && first[0] != 0,
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let pending = sessions
                .iter()
                .filter(|s| s.screen.lock().unwrap().changed.is_none())
                .count();
            if pending == 0 || Instant::now() > deadline {
                missed += pending;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        for s in &sessions {
            let mut sc = s.screen.lock().unwrap();
            if let Some(at) = sc.changed {
                from_start.push(at.duration_since(start));
                from_commit.push(at.saturating_duration_since(committed));
            }
            sc.baseline = None;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let cpu_rounds = cpu_secs(pid) - cpu_before;
    let frames = frames_sent(&sessions) - frames_before;
    let shows_payment = sessions
        .iter()
        .filter(|s| {
            s.screen
                .lock()
                .unwrap()
                .parser
                .screen()
                .contents()
                .contains("payment.succeeded")
        })
        .count();
    from_start.sort();
    from_commit.sort();
    let per_session = rss_open.saturating_sub(rss_idle) / n as u64;
    println!("sessions: {n} at {COLS}x{ROWS} (opened in {opened:.1?})");
    println!(
        "server RSS: {rss_idle} KiB idle, {rss_open} KiB with {n} sessions: {per_session} KiB per session"
    );
    println!(
        "payment visible (from starting `rustok order pay`): p50 {:?}, p90 {:?}, p99 {:?}, max {:?} ({} samples, {missed} missed)",
        percentile(&from_start, 0.50),
        percentile(&from_start, 0.90),
        percentile(&from_start, 0.99),
        percentile(&from_start, 1.0),
        from_start.len()
    );
    println!(
        "payment visible (from the commit: the CLI's first output byte): p50 {:?}, p90 {:?}, p99 {:?}, max {:?}",
        percentile(&from_commit, 0.50),
        percentile(&from_commit, 0.90),
        percentile(&from_commit, 0.99),
        percentile(&from_commit, 1.0),
    );
    println!(
        "sessions showing payment.succeeded at the end: {shows_payment}/{n}; server CPU during the {rounds} rounds: {cpu_rounds:.2} s"
    );
    println!(
        "frames per session per payment (SSH data messages during the rounds): {:.2}",
        frames as f64 / (n * rounds) as f64
    );
    let _ = server.kill();
    let _ = server.wait();
    // The payment happens when the CLI's transaction commits (it exits right after); the
    // time before that is the CLI process starting and connecting.
    let pass = missed == 0
        && percentile(&from_commit, 0.99) <= Duration::from_millis(250)
        && per_session <= 512;
    println!(
        "target (p99 from the commit <= 250 ms, <= 512 KiB per session): {}",
        if pass { "met" } else { "NOT met" }
    );
}
