//! A process killed after its commit but before any relay ran loses nothing: the next relay
//! start delivers every pending event exactly once. Processes killed during their first-run
//! migrations, several at once on a new database, leave a database the next start migrates
//! and uses (`migrations_*`, SQLite and PostgreSQL; docs/RELIABILITY.md, "Migrations survive
//! crashes").

use crate::support;

use rustok::runtime::{Bus, Consumer, Relay, RelayConfig};
use rustok_domain::EventId;
use rustok_domain::event::EventEnvelope;
use rustok_store::{EventFilter, NodeFilter, Store};
use std::collections::{HashMap, HashSet};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{TestDb, wait_until};

#[derive(Default)]
struct Counting(Mutex<HashMap<EventId, usize>>);

impl Consumer for Counting {
    fn name(&self) -> &str {
        "counting"
    }
    fn handle(&self, e: &EventEnvelope) -> Result<(), String> {
        *self.0.lock().unwrap().entry(e.id).or_default() += 1;
        Ok(())
    }
}

fn rustok(db: &TestDb, data: &std::path::Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rustok"));
    c.args(["--db", &db.url])
        .args(args)
        .env("RUSTOK_DATA_DIR", data);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_processes_lose_nothing_and_the_relay_delivers_exactly_once() {
    let db = TestDb::sqlite();
    let data = tempfile::tempdir().unwrap();
    assert!(
        rustok(&db, data.path(), &["tenant", "list"])
            .status()
            .unwrap()
            .success()
    );

    // Start commands and SIGKILL them at staggered moments: some die before, some during,
    // some after their transaction. None of them ever runs a relay.
    let mut completed = 0;
    for i in 0..24u64 {
        let title = format!("Crash {i}");
        let mut child = rustok(
            &db,
            data.path(),
            &["node", "create", "--kind", "post", "--title", &title],
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
        std::thread::sleep(Duration::from_millis((i * 7) % 60));
        child.kill().ok(); // SIGKILL
        if child.wait().unwrap().success() {
            completed += 1;
        }
    }

    let store = Store::connect(&db.url).await.unwrap();
    let tenant = store.tenant_by_slug("default").await.unwrap().unwrap();
    let nodes = store
        .list_nodes(
            tenant.id,
            &NodeFilter {
                limit: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let events = store
        .list_events(&EventFilter {
            tenant_id: Some(tenant.id),
            limit: 10_000,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        nodes.total as usize >= completed,
        "every acknowledged command is stored"
    );

    // State and events agree: every node has its node.created, and every event its node.
    let node_ids: HashSet<_> = nodes.rows.iter().map(|n| n.id.as_uuid()).collect();
    let created: Vec<_> = events
        .iter()
        .filter(|e| e.envelope.event_type == "node.created")
        .collect();
    assert_eq!(created.len(), node_ids.len());
    assert!(
        created
            .iter()
            .all(|e| node_ids.contains(&e.envelope.aggregate_id))
    );
    assert!(
        events.iter().all(|e| e.status == "pending"),
        "nothing was relayed yet"
    );

    // The next start delivers every pending event exactly once...
    let counting = Arc::new(Counting::default());
    let relay = Relay::new(store.clone(), Bus::new(1024), RelayConfig::default())
        .with_consumer(counting.clone());
    let pass = relay.drain().await.unwrap();
    assert_eq!(pass.delivered, events.len());
    let seen = counting.0.lock().unwrap().clone();
    assert_eq!(seen.len(), events.len());
    assert!(events.iter().all(|e| seen.get(&e.envelope.id) == Some(&1)));

    // ...and a later start delivers nothing again.
    let relay = Relay::new(store.clone(), Bus::new(1024), RelayConfig::default())
        .with_consumer(counting.clone());
    assert_eq!(relay.drain().await.unwrap().delivered, 0);
    assert!(counting.0.lock().unwrap().values().all(|n| *n == 1));
    eprintln!(
        "{} commands started, {completed} acknowledged, {} stored, {} events delivered once",
        24,
        nodes.total,
        events.len()
    );
}

/// A relay killed mid-run (SIGKILL) leaves its claimed rows leased; once the lease expires the
/// next relay delivers them, and nothing is left pending or delivered twice to the store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_relay_process_leaves_nothing_behind() {
    let db = TestDb::sqlite();
    let data = tempfile::tempdir().unwrap();
    for i in 0..30 {
        let t = format!("N{i}");
        assert!(
            rustok(
                &db,
                data.path(),
                &["node", "create", "--kind", "post", "--title", &t]
            )
            .output()
            .unwrap()
            .status
            .success()
        );
    }
    let mut relay = rustok(&db, data.path(), &["outbox", "relay", "--follow"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The kill lands 40 ms after the start, whatever the relay has done by then (a moment
    // chosen for the fault, not a wait for something).
    std::thread::sleep(Duration::from_millis(40));
    relay.kill().ok();
    relay.wait().ok();

    let store = Store::connect(&db.url).await.unwrap();
    // Whatever the killed relay had claimed is picked up after its lease (30 s); simulate the
    // time passing by claiming as of 31 s from now.
    let later = chrono::Utc::now().timestamp_millis() + 31_000;
    let mut rescued = 0;
    loop {
        let b = store.claim_batch(256, later, 1000).await.unwrap();
        if b.events.is_empty() {
            break;
        }
        let seqs: Vec<i64> = b.events.iter().map(|e| e.seq).collect();
        rescued += store
            .mark_dispatched(b.token, &seqs, chrono::Utc::now())
            .await
            .unwrap();
    }
    let counts = store.outbox_counts(None).await.unwrap();
    assert_eq!(counts.pending, 0);
    assert_eq!(counts.dispatched, 31, "30 nodes + the default tenant");
    eprintln!(
        "the killed relay had dispatched {}; {rescued} recovered after the lease",
        31 - rescued
    );
}

// ---------------------------------------------------------------------------------------------
// Issue 16, item 3: a crash during migrations must not brick the database.
//
// Processes are started on a new database, several at once, and SIGKILLed during their
// first-run migrations: at a migration's pause point (the hidden `RUSTOK_MIGRATION_PAUSE_MS`
// hook: after a migration's schema changes, before its bookkeeping row is committed) and at
// delays spread over a first run's duration (no hook: kills land in start-up and inside the
// DDL statements). After each database's kills the next start must migrate and work.

/// The pause of `RUSTOK_MIGRATION_PAUSE_MS` in the tests that use it.
const PAUSE_MS: u64 = 40;

/// The migrations, as `seaql_migrations` records them.
const MIGRATIONS: [&str; 10] = [
    "m20261124_000001_foundation",
    "m20261124_000002_commerce",
    "m20261124_000003_staff",
    "m20261124_000004_delivery",
    "m20261207_000005_stream_consumers",
    "m20261207_000006_refunds",
    "m20261207_000007_order_notes",
    "m20261207_000008_revisions",
    "m20261207_000009_node_schedules",
    "m20261207_000010_consumer_totals",
];

/// `rustok --db URL ARGS` with no environment of the developer's shell that would change it,
/// pausing in migrations when `pause` is set.
fn first_run(url: &str, data: &std::path::Path, args: &[&str], pause: Option<u64>) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rustok"));
    c.args(["--db", url])
        .args(args)
        .env("RUSTOK_DATA_DIR", data)
        .env_remove("RUSTOK_DATABASE_URL")
        .env_remove("RUSTOK_TENANT")
        .env_remove("RUSTOK_STAFF")
        .env_remove("RUSTOK_MIGRATION_PAUSE_MS")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    if let Some(ms) = pause {
        c.env("RUSTOK_MIGRATION_PAUSE_MS", ms.to_string());
    }
    c
}

/// Processes started at once, their stderr lines collected (`(process, line)`, in order).
struct Wave {
    children: Vec<std::process::Child>,
    lines: std::sync::mpsc::Receiver<(usize, String)>,
    log: Vec<(usize, String)>,
    /// How many processes were SIGKILLed while they were still running.
    kills: usize,
}

impl Wave {
    fn start(n: usize, mut cmd: impl FnMut() -> Command) -> Wave {
        use std::io::BufRead;
        let (tx, lines) = std::sync::mpsc::channel();
        let children = (0..n)
            .map(|i| {
                let mut child = cmd().spawn().expect("start rustok");
                let stderr = child.stderr.take().expect("piped stderr");
                let tx = tx.clone();
                std::thread::spawn(move || {
                    for line in std::io::BufReader::new(stderr)
                        .lines()
                        .map_while(Result::ok)
                    {
                        let _ = tx.send((i, line));
                    }
                });
                child
            })
            .collect();
        Wave {
            children,
            lines,
            log: Vec::new(),
            kills: 0,
        }
    }

    /// The next stderr line of any process, or `None` once every process has exited (or after
    /// 30 s without one).
    fn next_line(&mut self) -> Option<(usize, String)> {
        let line = self.lines.recv_timeout(Duration::from_secs(30)).ok()?;
        self.log.push(line.clone());
        Some(line)
    }

    fn kill(&mut self, i: usize) {
        let child = &mut self.children[i];
        if child.try_wait().ok().flatten().is_none() {
            child.kill().ok(); // SIGKILL
            self.kills += 1;
        }
    }

    /// Waits for every process (at most 60 s each); their exit statuses, `None` for a killed one.
    fn finish(&mut self) -> Vec<Option<i32>> {
        let statuses = self
            .children
            .iter_mut()
            .map(|c| {
                let mut status = None;
                let exited = wait_until(Duration::from_secs(60), || {
                    status = c.try_wait().expect("wait for rustok");
                    status.is_some()
                });
                if !exited {
                    c.kill().ok();
                    status = c.wait().ok();
                }
                status.and_then(|s| s.code())
            })
            .collect();
        while self.next_line().is_some() {}
        statuses
    }

    /// How many migrations were applied (a pause line each).
    fn pauses(&self) -> usize {
        self.log.iter().filter(|(_, l)| is_pause(l)).count()
    }

    fn stderr(&self) -> String {
        self.log
            .iter()
            .map(|(i, l)| format!("  [{i}] {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Writes a result line to the process's stdout directly, past the test harness's capture, so
/// CI's log shows it without `--nocapture` (as `tests/reliability/crash_driver.rs` does).
fn report(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn is_pause(line: &str) -> bool {
    line.starts_with("migration m") && line.ends_with(": paused")
}

/// Starts `procs` processes on a new database and SIGKILLs the one migrating when the
/// `k`-th migration pause of the wave is reported, `offset_ms` into it. The others wait for
/// the lock, take over and must succeed: returns the number of kills and, for each of the
/// others that failed, why (checked after the next start, whose failure says more).
fn kill_at_pause(
    url: &str,
    data: &std::path::Path,
    procs: usize,
    k: usize,
    offset_ms: u64,
) -> (usize, Vec<String>) {
    let mut wave = Wave::start(procs, || {
        first_run(url, data, &["tenant", "list"], Some(PAUSE_MS))
    });
    let mut seen = 0;
    let mut victim = None;
    while let Some((i, line)) = wave.next_line() {
        if is_pause(&line) {
            seen += 1;
            if seen == k {
                std::thread::sleep(Duration::from_millis(offset_ms));
                wave.kill(i);
                victim = Some(i);
                break;
            }
        }
    }
    let statuses = wave.finish();
    let mut failed = Vec::new();
    if victim.is_none() {
        failed.push(format!(
            "{url}: only {seen} migration pauses reported, wanted a kill at pause {k}\n{}",
            wave.stderr()
        ));
    }
    for (i, status) in statuses.iter().enumerate() {
        if Some(i) != victim && *status != Some(0) {
            failed.push(format!(
                "{url}: process {i}, started with the one killed at pause {k}, exited with \
                 {status:?}\n{}",
                wave.stderr()
            ));
        }
    }
    (wave.kills, failed)
}

/// Starts `procs` processes on a new database (no pause hook) and SIGKILLs process i at
/// `at[i]` after the start. Returns the number of processes killed while still running.
fn kill_at_times(url: &str, data: &std::path::Path, at: &[Duration]) -> usize {
    let started = std::time::Instant::now();
    let mut wave = Wave::start(at.len(), || first_run(url, data, &["tenant", "list"], None));
    let mut order: Vec<usize> = (0..at.len()).collect();
    order.sort_by_key(|i| at[*i]);
    for i in order {
        if let Some(left) = at[i].checked_sub(started.elapsed()) {
            std::thread::sleep(left);
        }
        wave.kill(i);
    }
    wave.finish();
    wave.kills
}

/// The next start migrates and works: a node is created and listed.
fn next_start_works(url: &str, data: &std::path::Path, title: &str) {
    let run = |args: &[&str]| {
        let out = first_run(url, data, args, None)
            .stdout(std::process::Stdio::piped())
            .output()
            .expect("run rustok");
        assert!(
            out.status.success(),
            "{url}: `rustok {}` failed after the kills: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(&["node", "create", "--kind", "post", "--title", title]);
    let listed = run(&["node", "list"]);
    assert!(
        listed.contains(title),
        "{url}: node list lacks {title}: {listed}"
    );
}

/// SQLite: the file is intact and records exactly the migrations.
fn sqlite_file_is_sound(path: &std::path::Path) {
    let conn = rusqlite::Connection::open(path).expect("open the database file");
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check");
    assert_eq!(check, "ok", "{}", path.display());
    let mut stmt = conn
        .prepare("SELECT version FROM seaql_migrations ORDER BY version")
        .expect("read seaql_migrations");
    let versions: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .expect("read seaql_migrations")
        .map(|v| v.expect("a version"))
        .collect();
    assert_eq!(versions, MIGRATIONS, "{}", path.display());
}

/// How many migrations a killed wave left recorded in an SQLite file (`None`: no file yet).
fn sqlite_recorded(path: &std::path::Path) -> Option<usize> {
    use rusqlite::OpenFlags;
    let conn =
        rusqlite::Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).ok()?;
    let has_table: bool = conn
        .query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE name = 'seaql_migrations'",
            [],
            |r| r.get(0),
        )
        .ok()?;
    if !has_table {
        return Some(0);
    }
    conn.query_row("SELECT count(*) FROM seaql_migrations", [], |r| {
        r.get::<_, i64>(0)
    })
    .ok()
    .map(|n| n as usize)
}

/// How long uninterrupted first runs (`tenant list`, no pause) of `procs` processes at once on
/// a new database take here, until the last one is done (each must succeed): the window the
/// timed kills are spread over.
fn first_wave_duration(url: &str, data: &std::path::Path, procs: usize) -> Duration {
    let started = std::time::Instant::now();
    let mut wave = Wave::start(procs, || first_run(url, data, &["tenant", "list"], None));
    let statuses = wave.finish();
    let took = started.elapsed();
    assert!(
        statuses.iter().all(|s| *s == Some(0)),
        "{url}: {statuses:?}\n{}",
        wave.stderr()
    );
    took
}

/// Several processes' first runs on one new SQLite file wait for each other: every one
/// succeeds and each migration is applied once.
#[test]
fn migrations_wait_for_each_other_sqlite() {
    let db = TestDb::sqlite();
    let data = tempfile::tempdir().unwrap();
    let mut wave = Wave::start(6, || {
        first_run(&db.url, data.path(), &["tenant", "list"], Some(PAUSE_MS))
    });
    let statuses = wave.finish();
    assert!(
        statuses.iter().all(|s| *s == Some(0)),
        "{statuses:?}\n{}",
        wave.stderr()
    );
    assert_eq!(
        wave.pauses(),
        MIGRATIONS.len(),
        "each migration once\n{}",
        wave.stderr()
    );
    let path = db.dir().unwrap().join("rustok.db");
    sqlite_file_is_sound(&path);
    next_start_works(&db.url, data.path(), "After six");
}

/// Kills during first-run migrations on new SQLite files never leave a database that the next
/// start cannot migrate or use.
#[test]
fn migrations_survive_kills_sqlite() {
    let started = std::time::Instant::now();
    let data = tempfile::tempdir().unwrap();
    let mut kills = 0;
    let mut databases = 0;
    let mut left: std::collections::BTreeMap<String, usize> = Default::default();
    let mut check = |db: &TestDb, kind: &str, what: &str| {
        let path = db.dir().unwrap().join("rustok.db");
        let recorded = sqlite_recorded(&path);
        let state = match recorded {
            None => format!("{kind}: no file"),
            Some(n) => format!("{kind}: {n} recorded"),
        };
        *left.entry(state).or_default() += 1;
        next_start_works(&db.url, data.path(), what);
        sqlite_file_is_sound(&path);
        recorded
    };

    // At each migration's pause point (after its schema changes, before its row commits):
    // a lone process killed right at the pause leaves the migrations before it committed and
    // this one rolled back; of three processes on a file, the one migrating killed halfway
    // through the pause, the other two take over.
    for k in 1..=MIGRATIONS.len() {
        for (procs, offset) in [(1, 0), (3, PAUSE_MS / 2)] {
            let db = TestDb::sqlite();
            let (n, failed) = kill_at_pause(&db.url, data.path(), procs, k, offset);
            kills += n;
            let what = format!("After pause {k} of {procs}");
            let recorded = check(&db, "pause", &what);
            if procs == 1 {
                assert_eq!(
                    recorded,
                    Some(k - 1),
                    "{what}: the killed migration rolled back"
                );
            }
            assert!(failed.is_empty(), "{}", failed.join("\n"));
            databases += 1;
        }
    }

    // At delays spread over a first run (no hook): in start-up, in the DDL statements, in the
    // commits. Three processes per file, each killed at its own moment.
    let window = {
        let db = TestDb::sqlite();
        first_wave_duration(&db.url, data.path(), 3)
    };
    const FILES: u32 = 10;
    for j in 0..FILES {
        let db = TestDb::sqlite();
        let at: Vec<Duration> = (0..3).map(|i| window * (3 * j + i) / (3 * FILES)).collect();
        kills += kill_at_times(&db.url, data.path(), &at);
        check(&db, "timed", &format!("After timed kills, file {j}"));
        databases += 1;
    }

    report(&format!(
        "sqlite: {kills} kills during first runs on {databases} databases (3 first runs at once: \
         {} ms), left {left:?}; every next start migrated and worked, integrity ok ({:.1} s)",
        window.as_millis(),
        started.elapsed().as_secs_f64()
    ));
    // The 8 at pause points always land; a timed kill may come after its process finished.
    assert!(
        kills >= 20,
        "only {kills} processes were killed while running"
    );
}

/// The same on one new PostgreSQL database: concurrent first runs wait for each other (the
/// advisory lock), all succeed, and each migration is applied once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_wait_for_each_other_postgres() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let url = db.url.clone();
    let dir = data.path().to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut wave = Wave::start(6, || {
            first_run(&url, &dir, &["tenant", "list"], Some(PAUSE_MS))
        });
        let statuses = wave.finish();
        assert!(
            statuses.iter().all(|s| *s == Some(0)),
            "{statuses:?}\n{}",
            wave.stderr()
        );
        assert_eq!(
            wave.pauses(),
            MIGRATIONS.len(),
            "each migration once\n{}",
            wave.stderr()
        );
        next_start_works(&url, &dir, "After six");
    })
    .await
    .unwrap();
    assert_eq!(postgres_recorded(&db.url).await, MIGRATIONS);
}

/// Kills during first-run migrations on new PostgreSQL databases leave a database the next
/// start migrates and uses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_survive_kills_postgres() {
    if std::env::var(support::db::POSTGRES_ENV).is_err() {
        eprintln!(
            "skipped: no PostgreSQL ({} is not set)",
            support::db::POSTGRES_ENV
        );
        return;
    }
    let started = std::time::Instant::now();
    let data = tempfile::tempdir().unwrap();
    let mut kills = 0;
    let mut databases = 0;
    // As on SQLite: a lone process killed at pause k leaves k - 1 migrations; of three, the
    // other two take over.
    for k in 1..=MIGRATIONS.len() {
        let procs = if k % 2 == 1 { 1 } else { 3 };
        let db = TestDb::postgres().await.unwrap();
        let (url, dir) = (db.url.clone(), data.path().to_path_buf());
        let (n, failed) =
            tokio::task::spawn_blocking(move || kill_at_pause(&url, &dir, procs, k, PAUSE_MS / 2))
                .await
                .unwrap();
        kills += n;
        let recorded = postgres_recorded(&db.url).await;
        if procs == 1 {
            assert_eq!(
                recorded,
                MIGRATIONS[..k - 1],
                "the killed migration rolled back"
            );
        }
        let (url, dir) = (db.url.clone(), data.path().to_path_buf());
        tokio::task::spawn_blocking(move || {
            next_start_works(&url, &dir, &format!("After pause {k} of {procs}"))
        })
        .await
        .unwrap();
        assert!(failed.is_empty(), "{}", failed.join("\n"));
        assert_eq!(postgres_recorded(&db.url).await, MIGRATIONS);
        databases += 1;
    }
    let window = {
        let db = TestDb::postgres().await.unwrap();
        let (url, dir) = (db.url.clone(), data.path().to_path_buf());
        tokio::task::spawn_blocking(move || first_wave_duration(&url, &dir, 3))
            .await
            .unwrap()
    };
    const DATABASES: u32 = 2;
    for j in 0..DATABASES {
        let db = TestDb::postgres().await.unwrap();
        let (url, dir) = (db.url.clone(), data.path().to_path_buf());
        kills += tokio::task::spawn_blocking(move || {
            let at: Vec<Duration> = (0..3)
                .map(|i| window * (3 * j + i) / (3 * DATABASES))
                .collect();
            let n = kill_at_times(&url, &dir, &at);
            next_start_works(&url, &dir, &format!("After timed kills {j}"));
            n
        })
        .await
        .unwrap();
        assert_eq!(postgres_recorded(&db.url).await, MIGRATIONS);
        databases += 1;
    }
    report(&format!(
        "postgres: {kills} kills during first runs on {databases} databases (3 first runs at \
         once: {} ms); every next start migrated and worked ({:.1} s)",
        window.as_millis(),
        started.elapsed().as_secs_f64()
    ));
    // The 4 at pause points always land; a timed kill may come after its process finished.
    assert!(
        kills >= 7,
        "only {kills} processes were killed while running"
    );
}

/// The migrations a PostgreSQL database records (none without the bookkeeping table).
async fn postgres_recorded(url: &str) -> Vec<String> {
    use sea_orm::{ConnectionTrait, Database, Statement};
    let conn = Database::connect(url).await.unwrap();
    let query = |sql: &str| {
        conn.query_all_raw(Statement::from_string(
            conn.get_database_backend(),
            sql.to_string(),
        ))
    };
    let present = query("SELECT to_regclass('seaql_migrations') IS NOT NULL AS present")
        .await
        .unwrap()[0]
        .try_get::<bool>("", "present")
        .unwrap();
    let versions = if present {
        query("SELECT version FROM seaql_migrations ORDER BY version")
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get::<String>("", "version").unwrap())
            .collect()
    } else {
        Vec::new()
    };
    conn.close().await.ok();
    versions
}
