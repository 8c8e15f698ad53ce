//! Issue 10, database faults, through the real binary: a read-only database file, a full disk,
//! PostgreSQL stopped mid-session and a PostgreSQL database that refuses writes. Each must give one clear line — in the CLI (exit code 1,
//! no panic) and in the console's status bar (driven in tmux) — the editor must keep the
//! user's text, and queued commands are retried (unreachable server) or reported failed
//! (read-only, full), never dropped: once the fault is gone, saving again works.
//!
//! How each fault is injected (the tests run as root, so `chmod 444` would not stop a write):
//! - read-only file: `chattr +i` (immutable: even root cannot open it for writing; SQLite
//!   falls back to a read-only connection and refuses writes with SQLITE_READONLY);
//! - full disk: the database on its own 2 MB tmpfs (`mount -t tmpfs`), filled up with a file;
//! - PostgreSQL: a private server (`initdb` + `pg_ctl` as user postgres, in a temp dir, on a
//!   free port) stopped with `pg_ctl stop -m fast` and started again; the shared server on
//!   5432 is never touched;
//! - read-only PostgreSQL: the private server's `postgres` database set
//!   `default_transaction_read_only = on` (as a standby refuses writes), then `off`.
//!
//! `.ci/run` installs tmux, e2fsprogs (chattr) and the rest; mounting needs CAP_SYS_ADMIN,
//! which the CI container (running as root) has. Not running as root, each test prints that it
//! was skipped; as root, a missing capability fails the test with the reason.

use crate::support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::tmux::Pane;
use support::wait_until;

fn rustok(db: &str, data: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rustok"));
    c.args(["--db", db])
        .args(args)
        .env("RUSTOK_DATA_DIR", data)
        .env_remove("RUSTOK_DATABASE_URL")
        .env_remove("RUSTOK_TENANT")
        .env_remove("RUSTOK_STAFF");
    c
}

fn ok_json(db: &str, data: &Path, args: &[&str]) -> Value {
    let out = rustok(db, data, args).arg("--json").output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The CLI's contract for a failure: exit code 1, nothing on stdout, exactly one `error:` line
/// (no panic, no backtrace). Returns the line.
fn one_line_failure(out: &Output, what: &str) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{what}: exit code 1; stderr {err}"
    );
    assert!(out.stdout.is_empty(), "{what}: nothing on stdout");
    assert_eq!(err.lines().count(), 1, "{what}: one line, got {err:?}");
    assert!(err.starts_with("error: "), "{what}: {err}");
    assert!(!err.contains("panicked"), "{what}: {err}");
    err.trim_end().to_string()
}

fn run_ok(cmd: &mut Command) {
    let out = cmd.output().expect("run");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn node_titles(db: &str, data: &Path) -> Vec<String> {
    let nodes = ok_json(db, data, &["node", "list"]);
    let mut t: Vec<String> = nodes
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["title"].as_str().unwrap_or_default().to_string())
        .collect();
    t.sort();
    t
}

fn count_events(db: &str, data: &Path, event_type: &str) -> usize {
    ok_json(db, data, &["events", "list", "--type", event_type])
        .as_array()
        .unwrap()
        .len()
}

/// Checkpoints the SQLite database at `path` and truncates its write-ahead log to 0 bytes.
fn truncate_wal(path: &Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    let (busy, _, _): (i64, i64, i64) = conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap_or_else(|e| panic!("checkpoint of {}: {e}", path.display()));
    assert_eq!(busy, 0, "the checkpoint was blocked");
}

/// The faults need root (chattr +i, mount, runuser) and tmux; say so and skip otherwise.
fn root_or_skip() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        == Some("0");
    if !root {
        eprintln!("skipped: injecting database faults needs root (chattr, mount, runuser)");
        return false;
    }
    // Each fault is also checked in the console, driven in tmux.
    if !support::tmux::available() {
        eprintln!("skipped: the database-fault tests drive the console in tmux, not installed");
        return false;
    }
    true
}

// ----- fault injection -------------------------------------------------------------------

/// `chattr +i` on a file; removed again on drop.
struct Immutable(PathBuf);

impl Immutable {
    fn set(path: &Path) -> Immutable {
        let out = Command::new("chattr")
            .arg("+i")
            .arg(path)
            .output()
            .expect("chattr is installed (e2fsprogs; .ci/run installs it)");
        assert!(
            out.status.success(),
            "chattr +i {} failed: {} — this test needs a file system with the immutable flag",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        Immutable(path.to_path_buf())
    }

    fn clear(&self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        self.clear();
    }
}

/// A small tmpfs of its own; unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .expect("mount");
        assert!(
            out.status.success(),
            "mount -t tmpfs failed: {} — the full-disk test needs CAP_SYS_ADMIN (root in a \
             container that may mount)",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills what is left of the file system with one file.
    fn fill(&self) -> PathBuf {
        let filler = self.path().join("filler");
        let mut f = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0u8; 4096];
        use std::io::Write;
        while f.write_all(&chunk).is_ok() {}
        let _ = f.sync_all();
        filler
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// A PostgreSQL server of this test's own: `initdb` in a temp dir, run as user postgres on a
/// free port. Stopped and removed on drop.
struct PrivatePg {
    root: tempfile::TempDir,
    port: u16,
    bin: PathBuf,
}

fn pg_bin() -> PathBuf {
    let base = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<PathBuf> = std::fs::read_dir(base)
        .unwrap_or_else(|e| panic!("PostgreSQL server binaries are needed in {base:?}: {e}"))
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .expect("initdb under /usr/lib/postgresql/*/bin")
}

fn as_postgres(program: &Path) -> Command {
    let mut c = Command::new("runuser");
    c.args(["-u", "postgres", "--"]).arg(program);
    c
}

impl PrivatePg {
    fn start() -> PrivatePg {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        std::fs::create_dir(&data).unwrap();
        run_ok(
            Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(root.path()),
        );
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let bin = pg_bin();
        run_ok(
            as_postgres(&bin.join("initdb"))
                .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
                .arg(&data)
                .stdout(Stdio::null()),
        );
        let pg = PrivatePg { root, port, bin };
        pg.ctl_start();
        pg
    }

    fn data(&self) -> PathBuf {
        self.root.path().join("data")
    }

    fn ctl_start(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.root.path().display()
        );
        run_ok(
            as_postgres(&self.bin.join("pg_ctl"))
                .args(["-w", "-t", "60", "-D"])
                .arg(self.data())
                .args(["-o", &opts, "-l"])
                .arg(self.root.path().join("log"))
                .arg("start")
                .stdout(Stdio::null()),
        );
    }

    fn stop(&self) {
        run_ok(
            as_postgres(&self.bin.join("pg_ctl"))
                .args(["-w", "-m", "fast", "-D"])
                .arg(self.data())
                .arg("stop")
                .stdout(Stdio::null()),
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePg {
    fn drop(&mut self) {
        let _ = as_postgres(&self.bin.join("pg_ctl"))
            .args(["-m", "immediate", "-D"])
            .arg(self.data())
            .arg("stop")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

// ----- the console in tmux ---------------------------------------------------------------

struct Console {
    pane: Pane,
}

impl std::ops::Deref for Console {
    type Target = Pane;
    fn deref(&self) -> &Pane {
        &self.pane
    }
}

impl Console {
    fn start(name: &str, db: &str, data: &Path) -> Console {
        assert!(
            support::tmux::available(),
            "tmux is needed (.ci/run installs it)"
        );
        Console {
            pane: Pane::console(&format!("fault-{name}"), db, data, &[], "true"),
        }
    }

    /// Opens the editor on a new article and types a title and a body.
    fn write_draft(&self, title: &str, body: &str) {
        self.wait_for("Content", Duration::from_secs(20));
        self.keys(&["n"]);
        self.wait_for("New article", Duration::from_secs(10));
        self.text(title);
        self.keys(&["Tab", "Tab", "Tab"]);
        self.text(body);
        self.wait_for(body, Duration::from_secs(5));
    }

    /// The status bar's line (the last non-empty line of the screen).
    fn status_line(screen: &str) -> String {
        screen
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or_default()
            .to_string()
    }
}

/// The console refuses to save, says why on one line, keeps the text; saving again once the
/// fault is gone works.
fn console_save_fails_then_succeeds(
    console: &Console,
    title: &str,
    body: &str,
    expect: &str,
    fix: impl FnOnce(),
) {
    console.write_draft(title, body);
    console.keys(&["C-s"]);
    let screen = console.wait_for("not saved, your text is kept", Duration::from_secs(30));
    let status = Console::status_line(&screen);
    assert!(status.contains(expect), "status bar: {status}\n{screen}");
    assert!(screen.contains(title) && screen.contains(body), "{screen}");
    assert!(!screen.contains("panicked"), "{screen}");
    fix();
    console.keys(&["C-s"]);
    console.wait_for(&format!("saved “{title}”"), Duration::from_secs(30));
}

/// The console's relay, which failed while writes were refused, delivers again at once (woken
/// by the save's commit): within 10 s, where a claim left behind by a connection still
/// read-only would hold the events for its whole 30 s lease. Then the console quits.
fn relay_delivers_again_then_quit(console: Console, db: &str, data: &Path) {
    assert!(
        wait_until(Duration::from_secs(10), || ok_json(
            db,
            data,
            &["outbox", "status"]
        )["pending"]
            == 0),
        "the relay is stuck after the fault"
    );
    console.keys(&["Escape"]);
    console.keys(&["q"]);
}

/// CLI, writes refused: `node create` fails with one line saying the database is read-only,
/// reads still work, and nothing changed (the only node is "Before").
fn a_write_is_refused_as_read_only(db: &str, data: &Path, what: &str) {
    let out = rustok(
        db,
        data,
        &["node", "create", "--kind", "post", "--title", "During"],
    )
    .output()
    .unwrap();
    let line = one_line_failure(&out, what);
    assert!(line.contains("the database is read-only"), "{line}");
    assert_eq!(node_titles(db, data), vec!["Before"]);
}

// ----- read-only database file ------------------------------------------------------------

#[test]
fn a_read_only_database_file_is_reported_and_nothing_is_lost() {
    if !root_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("ro.db");
    let db = format!("sqlite://{}", db_path.display());
    let data = dir.path();
    ok_json(
        &db,
        data,
        &["node", "create", "--kind", "post", "--title", "Before"],
    );

    // CLI: a write is refused with one line; reads still work; nothing changed.
    let ro = Immutable::set(&db_path);
    a_write_is_refused_as_read_only(&db, data, "node create on a read-only file");
    drop(ro);
    ok_json(
        &db,
        data,
        &["node", "create", "--kind", "post", "--title", "After"],
    );
    assert_eq!(node_titles(&db, data), vec!["After", "Before"]);
    assert_eq!(
        count_events(&db, data, "node.created"),
        2,
        "state and events agree"
    );

    // Console: the save is reported in the status bar, the editor keeps the text, and saving
    // again after the file is writable again stores it once.
    let ro = Immutable::set(&db_path);
    let console = Console::start("ro", &db, data);
    console_save_fails_then_succeeds(
        &console,
        "Written while read-only",
        "This text must survive.",
        "the database is read-only",
        || ro.clear(),
    );
    relay_delivers_again_then_quit(console, &db, data);
    drop(ro);
    assert_eq!(
        node_titles(&db, data),
        vec!["After", "Before", "Written while read-only"]
    );
    assert_eq!(count_events(&db, data, "node.created"), 3);
}

// ----- read-only PostgreSQL database ----------------------------------------------------------

impl PrivatePg {
    /// Runs `sql` as the superuser on `template1` (which stays writable whatever `postgres` is
    /// set to).
    fn psql(&self, sql: &str) {
        run_ok(
            Command::new(self.bin.join("psql"))
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
                .args([
                    "-U",
                    "postgres",
                    "-d",
                    "template1",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-qc",
                ])
                .arg(sql)
                .stdout(Stdio::null()),
        );
    }

    /// New sessions of the `postgres` database refuse writes (as a standby's do), or not.
    fn read_only(&self, on: bool) {
        self.psql(&format!(
            "ALTER DATABASE postgres SET default_transaction_read_only = {}",
            if on { "on" } else { "off" }
        ));
    }
}

#[test]
fn a_read_only_postgres_database_is_reported_and_nothing_is_lost() {
    if !root_or_skip() {
        return;
    }
    let pg = PrivatePg::start();
    let data = tempfile::tempdir().unwrap();
    let data = data.path();
    let db = pg.url();
    ok_json(
        &db,
        data,
        &["node", "create", "--kind", "post", "--title", "Before"],
    );

    // CLI: a write is refused with one line; reads still work; nothing changed.
    pg.read_only(true);
    a_write_is_refused_as_read_only(&db, data, "node create on a read-only PostgreSQL database");

    // Console opened while the database refuses writes: its sessions are read-only. The save
    // is refused with the reason and the text kept; once writes are allowed again, saving
    // again stores it once, on fresh sessions.
    let console = Console::start("pg-ro", &db, data);
    console_save_fails_then_succeeds(
        &console,
        "Written while read-only",
        "This text must survive.",
        "the database is read-only",
        || pg.read_only(false),
    );
    relay_delivers_again_then_quit(console, &db, data);
    assert_eq!(
        node_titles(&db, data),
        vec!["Before", "Written while read-only"]
    );
    assert_eq!(count_events(&db, data, "node.created"), 2);
}

// ----- full disk ---------------------------------------------------------------------------

#[test]
fn a_full_disk_is_reported_and_nothing_is_lost() {
    if !root_or_skip() {
        return;
    }
    let fs = Tmpfs::mount("2m");
    let data = tempfile::tempdir().unwrap();
    let data = data.path();
    let db = format!("sqlite://{}", fs.path().join("full.db").display());
    ok_json(
        &db,
        data,
        &["node", "create", "--kind", "post", "--title", "Before"],
    );

    // CLI, the disk filling up under a large body: refused with one line, nothing written.
    let body = data.join("big-body.txt");
    std::fs::write(&body, "x".repeat(900_000)).unwrap();
    let filler = fs.fill();
    std::fs::remove_file(&filler).unwrap();
    // Leave about 600 kB: enough to open and to write a small node, not a 900 kB one.
    let keep = fs.path().join("keep");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&keep).unwrap();
        let free = {
            let out = Command::new("df")
                .args(["-B1", "--output=avail"])
                .arg(fs.path())
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .nth(1)
                .unwrap()
                .trim()
                .parse::<u64>()
                .unwrap()
        };
        let take = free.saturating_sub(600 * 1024) as usize;
        f.write_all(&vec![0u8; take]).unwrap();
        f.sync_all().unwrap();
    }
    let out = rustok(
        &db,
        data,
        &[
            "node",
            "create",
            "--kind",
            "post",
            "--title",
            "Too big",
            "--body-file",
            body.to_str().unwrap(),
        ],
    )
    .output()
    .unwrap();
    let line = one_line_failure(&out, "node create on a full disk");
    assert!(
        line.contains("disk is full") || line.contains("no space left"),
        "{line}"
    );
    assert_eq!(node_titles(&db, data), vec!["Before"]);

    // Completely full: even opening fails, with the reason. The refused write above may have
    // left a write-ahead log whose blocks are already allocated, and a small write fits in
    // them (then SQLite rightly succeeds); truncate it first so the next write needs new blocks.
    // (The checkpoint itself needs room: free the partly-full state's space first.)
    std::fs::remove_file(&keep).unwrap();
    truncate_wal(&fs.path().join("full.db"));
    let filler = fs.fill();
    let out = rustok(
        &db,
        data,
        &["node", "create", "--kind", "post", "--title", "X"],
    )
    .output()
    .unwrap();
    let line = one_line_failure(&out, "node create on a 100% full disk");
    assert!(
        line.contains("disk is full") || line.contains("no space left"),
        "{line}"
    );
    std::fs::remove_file(&filler).unwrap();
    ok_json(
        &db,
        data,
        &["node", "create", "--kind", "post", "--title", "After"],
    );
    assert_eq!(node_titles(&db, data), vec!["After", "Before"]);
    assert_eq!(count_events(&db, data, "node.created"), 2);

    // Console: the disk fills while it runs.
    let console = Console::start("full", &db, data);
    console.wait_for("Content", Duration::from_secs(20));
    let filler = fs.fill();
    console_save_fails_then_succeeds(
        &console,
        "Written on a full disk",
        "This text must survive too.",
        "disk is full",
        || std::fs::remove_file(&filler).unwrap(),
    );
    console.keys(&["Escape"]);
    console.keys(&["q"]);
    drop(console);
    assert_eq!(
        node_titles(&db, data),
        vec!["After", "Before", "Written on a full disk"]
    );
    assert_eq!(count_events(&db, data, "node.created"), 3);
}

// ----- PostgreSQL stopped mid-session ------------------------------------------------------

fn script(db: &str, data: &Path) -> (Child, std::sync::mpsc::Receiver<String>) {
    let mut child = rustok(db, data, &["script"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

fn create_line(title: &str) -> String {
    use rustok_domain::content::{BodyFormat, NodeDraft, NodeKind};
    let command = rustok_domain::Command::CreateNode(NodeDraft {
        id: rustok_domain::NodeId::new_v7(),
        kind: NodeKind::Post,
        locale: "en".parse().unwrap(),
        title: title.into(),
        slug: None,
        excerpt: None,
        body: String::new(),
        format: BodyFormat::Markdown,
    });
    let id = rustok_domain::CommandId::new_v7();
    format!("{}\n", serde_json::json!({ "id": id, "command": command }))
}

#[test]
fn postgres_stopped_mid_session_is_retried_then_reported_and_nothing_is_lost() {
    if !root_or_skip() {
        return;
    }
    use std::io::Write;
    let t0 = Instant::now();
    let mark = |what: &str| eprintln!("[{:>6.1} s] {what}", t0.elapsed().as_secs_f64());
    let pg = PrivatePg::start();
    mark("private PostgreSQL started");
    let data = tempfile::tempdir().unwrap();
    let data = data.path();
    let db = pg.url();
    ok_json(
        &db,
        data,
        &["node", "create", "--kind", "post", "--title", "Before"],
    );

    // A running process (the scripted mode): a command queued while the server is down is
    // retried, not dropped and not failed, and commits once the server is back.
    let (mut child, answers) = script(&db, data);
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(create_line("One").as_bytes()).unwrap();
    let first = answers.recv_timeout(Duration::from_secs(60)).unwrap();
    assert!(first.starts_with("ack "), "{first}");
    pg.stop();
    mark("stopped under the scripted process");
    stdin.write_all(create_line("Two").as_bytes()).unwrap();
    // While the server is down there is no answer: the command waits in the queue.
    assert!(
        answers.recv_timeout(Duration::from_secs(3)).is_err(),
        "no answer while the server is down"
    );

    // CLI meanwhile: one clear line, exit code 1.
    let out = rustok(&db, data, &["node", "list"]).output().unwrap();
    let line = one_line_failure(&out, "node list with PostgreSQL stopped");
    assert!(
        line.contains("cannot open database") && line.contains("127.0.0.1"),
        "{line}"
    );

    pg.ctl_start();
    mark("started again");
    let second = answers.recv_timeout(Duration::from_secs(90)).unwrap();
    assert!(
        second.starts_with("ack "),
        "the queued command committed: {second}"
    );
    drop(stdin);
    let status = child.wait().unwrap();
    assert!(status.success());
    assert_eq!(node_titles(&db, data), vec!["Before", "One", "Two"]);
    assert_eq!(count_events(&db, data, "node.created"), 3);

    // The console: the outage is on the status bar; a save during it waits and is retried
    // when the server is back; the editor keeps the text all along.
    mark("queued command committed");
    let console = Console::start("pg", &db, data);
    console.write_draft("Written during an outage", "Kept while PostgreSQL is down.");
    pg.stop();
    mark("stopped under the console");
    console.keys(&["C-s"]);
    let screen = console.wait_for("database unreachable", Duration::from_secs(30));
    assert!(
        screen.contains("Written during an outage") && screen.contains("Kept while PostgreSQL"),
        "{screen}"
    );
    assert!(!screen.contains("panicked"), "{screen}");
    mark("console reports the outage");
    pg.ctl_start();
    // Saved once the server is back: the editor now shows the stored node (the status bar may
    // already say "database reachable again" instead of "saved …").
    console.wait_for("— draft, v1", Duration::from_secs(90));
    mark("console saved after the restart");
    console.keys(&["Escape"]);
    console.keys(&["q"]);
    drop(console);
    assert_eq!(
        node_titles(&db, data),
        vec!["Before", "One", "Two", "Written during an outage"]
    );
    assert_eq!(count_events(&db, data, "node.created"), 4);

    // A server that stays down: the queue retries for its limit (120 s in the console and the
    // CLI, 2 s here), then reports the command failed with its id — never drops it. Sent
    // again under the same id once the server is back, it is applied once.
    let tenant: uuid::Uuid = ok_json(&db, data, &["tenant", "list"])[0]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use rustok::runtime::{ActionQueue, QueueOptions};
        // Each attempt waits at most the pool's acquire timeout (30 s by default) for a
        // connection; 2 s here, so the 2 s limit is what the test sees.
        let store = rustok_store::Store::connect(&format!("{db}?acquire_timeout=2"))
            .await
            .unwrap();
        let (queue, _worker) = ActionQueue::spawn(
            store,
            None,
            QueueOptions {
                retry_unavailable_for: Duration::from_secs(2),
                ..QueueOptions::default()
            },
        );
        let line: Value = serde_json::from_str(create_line("Given up").trim()).unwrap();
        let env = rustok_domain::CommandEnvelope {
            id: serde_json::from_value(line["id"].clone()).unwrap(),
            tenant_id: rustok_domain::TenantId::from_uuid(tenant),
            actor: rustok_domain::Actor::new("owner"),
            correlation_id: None,
            command: serde_json::from_value(line["command"].clone()).unwrap(),
        };
        pg.stop();
        mark("stopped under an in-process queue");
        let err = queue
            .execute(env.clone())
            .await
            .expect_err("the server is down");
        let text = err.to_string();
        assert!(
            text.starts_with("database unavailable") && text.contains("gave up after"),
            "{text}"
        );
        assert!(
            text.contains(&env.id.to_string()),
            "names the command: {text}"
        );
        assert!(!text.contains('\n'), "one line: {text}");
        mark("the queue gave up");
        pg.ctl_start();
        queue
            .execute(env.clone())
            .await
            .expect("applied once the server is back");
        mark("applied after the restart");
        queue
            .execute(env)
            .await
            .expect("the same id again: the recorded outcome");
    });
    assert_eq!(
        node_titles(&db, data),
        vec![
            "Before",
            "Given up",
            "One",
            "Two",
            "Written during an outage"
        ]
    );
    assert_eq!(count_events(&db, data, "node.created"), 5);
}
