//! Issue 10, crash safety: a stream of commands through the real binary (`rustok script
//! --relay`, which acknowledges each command on stdout only after it committed and relays in
//! the same process), killed with SIGKILL at random points and restarted, on SQLite and on
//! PostgreSQL (a database of its own per run).
//!
//! The stream creates, edits and publishes nodes and adjusts the stock of one SKU by small
//! positive amounts — a command that would apply again if it ran twice, so a resend that the
//! command log does not catch shows as too much stock.
//!
//! After every kill the database is checked: every acknowledged command's events are stored and
//! its state is there; every node's events are exactly its versions 1..=version (no state
//! change without its event, no event without its state, none twice); the SKU's stock is the
//! sum of its events' deltas and at least the acknowledged adjustments (exactly, at the end). Commands whose
//! acknowledgement never arrived are sent again, with the same command id, to the next
//! process: the command log must answer them without applying them twice. After the last kill
//! a final process drains the outbox and the delivery is checked per consumer: one receipt for
//! every event and consumer (`crash-a`, `crash-b` and the bus), a hand-over logged before each
//! receipt, and no hand-over after its receipt committed.
//!
//! `RUSTOK_CRASH_KILLS` sets the number of kills (default 20), `RUSTOK_CRASH_SEED` the random
//! seed (printed). The full run of issue 10:
//! `RUSTOK_CRASH_KILLS=200 cargo test --release --test reliability crash_driver:: -- --nocapture`

use crate::support;
use rustok_domain::command::NodeTransition;

use rustok_domain::content::{BodyFormat, NodeAction, NodeDraft, NodeKind, NodePatch};
use rustok_domain::{Command, CommandId, NodeId};
use rustok_store::Store;
use sea_orm::{ConnectionTrait, Statement, TransactionTrait};
use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{BufRead, Write};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::TestDb;
use support::cli::product;
use uuid::Uuid;

const CONSUMERS: [&str; 2] = ["crash-a", "crash-b"];
/// Commands written ahead of their acknowledgements, so the process is always busy.
const IN_FLIGHT: usize = 4;
/// The relay lease in the driven process: a killed process's claims are free again after it.
const LEASE_MS: &str = "1000";

/// xorshift64*: deterministic for a seed, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

#[derive(Clone, Copy)]
enum Effect {
    Create(NodeId),
    Update(NodeId),
    Publish(NodeId),
    /// `AdjustInventory` of [`SKU`] by this much.
    Adjust(i64),
}

/// The SKU whose stock the stream adjusts (created with no stock before the first process).
const SKU: &str = "CRASH-1";

#[derive(Clone)]
struct Planned {
    id: CommandId,
    line: String,
    effect: Effect,
    title: Option<String>,
}

/// What the acknowledged commands say a node must be.
struct Expect {
    title: String,
    version: i64,
    published: bool,
}

#[derive(Default)]
struct Model {
    /// Sent, not yet acknowledged, in the order sent (the process runs them in this order).
    unacked: VecDeque<Planned>,
    /// Acknowledged commands and the event ids they reported.
    acked: HashMap<CommandId, Vec<Uuid>>,
    nodes: HashMap<NodeId, Expect>,
    acked_nodes: Vec<NodeId>,
    publish_sent: HashSet<NodeId>,
    created: u64,
    resent: u64,
    /// The stock the acknowledged adjustments add up to, and how many there were.
    stock: i64,
    adjusts: u64,
}

impl Model {
    fn plan(&mut self, rng: &mut Rng, round: usize) -> Planned {
        let roll = rng.below(100);
        if roll >= 88 {
            let by = 1 + rng.below(9) as i64;
            let id = CommandId::new_v7();
            let command = Command::AdjustInventory {
                sku: SKU.into(),
                by,
                reason: format!("crash round {round}"),
            };
            let line = serde_json::json!({ "id": id, "command": command }).to_string();
            return Planned {
                id,
                line,
                effect: Effect::Adjust(by),
                title: None,
            };
        }
        let effect_cmd = if roll < 50 || self.acked_nodes.is_empty() {
            None
        } else if roll < 76 {
            let node = self.acked_nodes[rng.below(self.acked_nodes.len() as u64) as usize];
            Some((
                Effect::Update(node),
                Command::UpdateNode {
                    id: node,
                    patch: NodePatch {
                        body: Some(format!("edited in round {round}, roll {}", rng.next())),
                        ..Default::default()
                    },
                    expected_version: None,
                },
            ))
        } else {
            let candidates: Vec<NodeId> = self
                .acked_nodes
                .iter()
                .copied()
                .filter(|n| !self.publish_sent.contains(n))
                .collect();
            candidates
                .get(rng.below(candidates.len() as u64) as usize)
                .map(|&node| {
                    self.publish_sent.insert(node);
                    (
                        Effect::Publish(node),
                        Command::NodeStatus(NodeTransition {
                            id: node,
                            action: NodeAction::Publish,
                            expected_version: None,
                        }),
                    )
                })
        };
        let (effect, command, title) = match effect_cmd {
            Some((e, c)) => (e, c, None),
            None => {
                self.created += 1;
                let id = NodeId::new_v7();
                let title = format!("Crash {round}-{}", self.created);
                (
                    Effect::Create(id),
                    Command::CreateNode(NodeDraft {
                        id,
                        kind: NodeKind::Post,
                        locale: "en".parse().unwrap(),
                        title: title.clone(),
                        slug: None,
                        excerpt: None,
                        body: format!("body {}", self.created),
                        format: BodyFormat::Markdown,
                    }),
                    Some(title),
                )
            }
        };
        let id = CommandId::new_v7();
        let line = serde_json::json!({ "id": id, "command": command }).to_string();
        Planned {
            id,
            line,
            effect,
            title,
        }
    }

    /// An `ack`/`refused` line from the process; the oldest unacknowledged command is the one
    /// it answers (the process runs commands one at a time, in order).
    fn answer(&mut self, line: &str) {
        let mut parts = line.splitn(3, ' ');
        let (kind, id) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let rest = parts.next().unwrap_or("");
        if kind == "drained" {
            return;
        }
        let front = self
            .unacked
            .pop_front()
            .unwrap_or_else(|| panic!("an answer nobody asked for: {line}"));
        assert_eq!(front.id.to_string(), id, "answers come in order: {line}");
        assert_eq!(
            kind, "ack",
            "no command of the driver is ever refused: {line}"
        );
        let events: Vec<Uuid> = rest
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().expect("event id"))
            .collect();
        assert!(!events.is_empty(), "every command writes events: {line}");
        assert!(
            self.acked.insert(front.id, events).is_none(),
            "command {id} acknowledged twice"
        );
        match front.effect {
            Effect::Create(n) => {
                self.nodes.insert(
                    n,
                    Expect {
                        title: front.title.clone().unwrap_or_default(),
                        version: 1,
                        published: false,
                    },
                );
                self.acked_nodes.push(n);
            }
            Effect::Update(n) => self.nodes.get_mut(&n).expect("acked node").version += 1,
            Effect::Publish(n) => {
                let e = self.nodes.get_mut(&n).expect("acked node");
                e.version += 1;
                e.published = true;
            }
            Effect::Adjust(by) => {
                self.stock += by;
                self.adjusts += 1;
            }
        }
    }
}

struct Tally {
    lost: u64,
    duplicated: u64,
    problems: Vec<String>,
}

impl Tally {
    fn lost(&mut self, what: String) {
        self.lost += 1;
        self.problems.push(format!("LOST: {what}"));
    }
    fn duplicated(&mut self, what: String) {
        self.duplicated += 1;
        self.problems.push(format!("DUPLICATED: {what}"));
    }
}

async fn rows(c: &impl ConnectionTrait, sql: &str) -> Vec<sea_orm::QueryResult> {
    let backend = c.get_database_backend();
    c.query_all_raw(Statement::from_string(backend, sql))
        .await
        .expect(sql)
}

/// State and events agree, and every acknowledged command is in both. All reads see one
/// snapshot: a killed client's last COMMIT may still be completing on the PostgreSQL server,
/// and separate reads could see its events but not its state.
async fn check_store(store: &Store, model: &Model, final_check: bool, t: &mut Tally) {
    let snapshot = store
        .connection()
        .begin_with_config(
            (store.backend() == rustok_store::Backend::Postgres)
                .then_some(sea_orm::IsolationLevel::RepeatableRead),
            None,
        )
        .await
        .unwrap();
    let store = &snapshot;
    let mut nodes: HashMap<Uuid, (i64, String)> = HashMap::new();
    for r in rows(store, "SELECT id, version, status FROM nodes").await {
        nodes.insert(
            r.try_get("", "id").unwrap(),
            (
                r.try_get("", "version").unwrap(),
                r.try_get("", "status").unwrap(),
            ),
        );
    }
    let mut titles: HashMap<Uuid, String> = HashMap::new();
    if final_check {
        for r in rows(store, "SELECT node_id, title FROM node_translations").await {
            titles.insert(
                r.try_get("", "node_id").unwrap(),
                r.try_get("", "title").unwrap(),
            );
        }
    }
    let on_hand: i64 = rows(
        store,
        &format!("SELECT on_hand FROM variants WHERE sku = '{SKU}'"),
    )
    .await
    .first()
    .map(|r| r.try_get("", "on_hand").unwrap())
    .expect("the SKU exists");
    let mut deltas = 0i64;
    let mut event_ids = HashSet::new();
    let mut versions: HashMap<Uuid, Vec<i64>> = HashMap::new();
    for r in rows(
        store,
        "SELECT id, event_type, aggregate_type, aggregate_id, payload FROM outbox",
    )
    .await
    {
        let id: Uuid = r.try_get("", "id").unwrap();
        assert!(event_ids.insert(id), "event id {id} stored twice");
        let payload: serde_json::Value =
            serde_json::from_str(&r.try_get::<String>("", "payload").unwrap()).unwrap();
        if r.try_get::<String>("", "event_type").unwrap() == "inventory.updated"
            && payload["sku"] == SKU
        {
            deltas += payload["delta"].as_i64().expect("a delta");
        }
        if r.try_get::<String>("", "aggregate_type").unwrap() != "node" {
            continue;
        }
        let v = payload["version"]
            .as_i64()
            .expect("node events carry a version");
        versions
            .entry(r.try_get("", "aggregate_id").unwrap())
            .or_default()
            .push(v);
    }

    for (cmd, events) in &model.acked {
        for e in events {
            if !event_ids.contains(e) {
                t.lost(format!("event {e} of acknowledged command {cmd}"));
            }
        }
    }
    // The stock and its events agree; every acknowledged adjustment is in it (unacknowledged
    // ones may have committed too), and after the final run, nothing more.
    if on_hand != deltas {
        t.lost(format!(
            "{SKU}: on hand {on_hand}, but its events add up to {deltas}"
        ));
    }
    if on_hand < model.stock {
        t.lost(format!(
            "{SKU}: on hand {on_hand}, acknowledged adjustments add up to {}",
            model.stock
        ));
    }
    if final_check && on_hand > model.stock {
        t.duplicated(format!(
            "{SKU}: on hand {on_hand}, its adjustments add up to {}: one applied twice",
            model.stock
        ));
    }
    for (id, want) in &model.nodes {
        let Some((version, status)) = nodes.get(&id.as_uuid()) else {
            t.lost(format!("node {id}, acknowledged"));
            continue;
        };
        // Unacknowledged commands may have committed too; after the final run every command
        // is acknowledged, so the version must then match exactly.
        if *version < want.version {
            t.lost(format!(
                "node {id} at version {version}, acknowledged up to {}",
                want.version
            ));
        }
        if final_check && *version > want.version {
            t.duplicated(format!(
                "node {id} at version {version}, its commands make {}",
                want.version
            ));
        }
        if want.published && status != "published" {
            t.lost(format!(
                "node {id} is {status}, its publish was acknowledged"
            ));
        }
        if final_check && !want.published && status != "draft" {
            t.duplicated(format!("node {id} is {status}, never published"));
        }
        if final_check && titles.get(&id.as_uuid()) != Some(&want.title) {
            t.lost(format!("node {id}'s title {:?}", want.title));
        }
    }
    // Every state change has its event, every event its state change, each once.
    for (id, (version, _)) in &nodes {
        let mut have = versions.remove(id).unwrap_or_default();
        have.sort_unstable();
        let want: Vec<i64> = (1..=*version).collect();
        if have != want {
            let set: HashSet<i64> = have.iter().copied().collect();
            if set.len() < have.len() {
                t.duplicated(format!("node {id}: event versions {have:?}"));
            }
            if want.iter().any(|v| !set.contains(v)) || have.iter().any(|v| *v > *version) {
                t.lost(format!(
                    "node {id} at version {version} has event versions {have:?}"
                ));
            }
        }
    }
    for (id, vs) in versions {
        t.lost(format!("events {vs:?} of node {id}, which is not stored"));
    }
}

/// After the final drain: one receipt per event and consumer, and the consumers' hand-over logs
/// show every event handed before its receipt committed and never after it.
async fn check_delivery(store: &Store, logs: &std::path::Path, t: &mut Tally) -> (u64, u64) {
    let events: HashSet<Uuid> = rows(store.connection(), "SELECT id FROM outbox")
        .await
        .iter()
        .map(|r| r.try_get("", "id").unwrap())
        .collect();
    let counts = store.outbox_counts(None).await.unwrap();
    assert_eq!(
        (counts.pending, counts.failed),
        (0, 0),
        "the final run drains the outbox"
    );
    let mut receipts: HashMap<(String, Uuid), i64> = HashMap::new();
    for r in rows(
        store.connection(),
        "SELECT consumer, event_id, delivered_at FROM consumer_receipts",
    )
    .await
    {
        let at: chrono::DateTime<chrono::Utc> = r.try_get("", "delivered_at").unwrap();
        let key = (
            r.try_get::<String>("", "consumer").unwrap(),
            r.try_get::<Uuid>("", "event_id").unwrap(),
        );
        assert!(receipts.insert(key, at.timestamp_micros()).is_none());
    }
    for consumer in CONSUMERS.iter().chain(&["bus"]) {
        for e in &events {
            if !receipts.contains_key(&(consumer.to_string(), *e)) {
                t.lost(format!("no {consumer} receipt for event {e}"));
            }
        }
    }
    let mut handovers = 0;
    let mut rehanded = 0;
    for consumer in CONSUMERS {
        let text = std::fs::read_to_string(logs.join(format!("{consumer}.log"))).unwrap();
        let mut by_event: HashMap<Uuid, Vec<(u32, i64)>> = HashMap::new();
        for line in text.lines() {
            let f: Vec<&str> = line.split(' ').collect();
            assert_eq!(f.len(), 3, "a whole hand-over line: {line:?}");
            by_event
                .entry(f[1].parse().unwrap())
                .or_default()
                .push((f[0].parse().unwrap(), f[2].parse().unwrap()));
            handovers += 1;
        }
        for e in &events {
            let Some(&receipt_at) = receipts.get(&(consumer.to_string(), *e)) else {
                continue; // counted above
            };
            let hs = by_event.remove(e).unwrap_or_default();
            let before: Vec<u32> = hs
                .iter()
                .filter(|(_, at)| *at <= receipt_at)
                .map(|(pid, _)| *pid)
                .collect();
            let after = hs.len() - before.len();
            if before.is_empty() {
                t.lost(format!("{consumer} was never handed event {e}"));
            }
            if after > 0 {
                t.duplicated(format!(
                    "{consumer} was handed event {e} {after} time(s) after its receipt"
                ));
            }
            // Within one process an event is handed once; a process killed after handing it
            // but before its receipt committed makes the next one hand it again (at least once;
            // the receipt then makes it exactly once).
            let pids: HashSet<u32> = before.iter().copied().collect();
            if pids.len() < before.len() {
                t.duplicated(format!(
                    "{consumer} was handed event {e} twice by one process"
                ));
            }
            rehanded += pids.len().saturating_sub(1) as u64;
        }
        for e in by_event.keys() {
            t.duplicated(format!("{consumer} was handed {e}, which is not stored"));
        }
    }
    (handovers, rehanded)
}

fn spawn(
    db: &TestDb,
    data: &std::path::Path,
    logs: &std::path::Path,
    err: &std::path::Path,
) -> Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_rustok"))
        .args(["--db", &db.url, "script", "--relay", "--lease-ms", LEASE_MS])
        .arg("--consumer-log")
        .arg(logs)
        .env("RUSTOK_DATA_DIR", data)
        .env_remove("RUSTOK_STAFF")
        .env_remove("RUSTOK_TENANT")
        .env_remove("RUSTOK_DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(err).unwrap())
        .spawn()
        .expect("start rustok script")
}

/// Forwards the child's stdout lines; the channel closes when the child's stdout does.
fn lines_of(child: &mut Child) -> mpsc::Receiver<String> {
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn run(db: TestDb) {
    let backend = if db.is_postgres() {
        "postgres"
    } else {
        "sqlite"
    };
    let kills: usize = std::env::var("RUSTOK_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let seed: u64 = std::env::var("RUSTOK_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| chrono::Utc::now().timestamp_micros() as u64 | 1);
    eprintln!("{backend}: {kills} kills, seed {seed} (RUSTOK_CRASH_SEED={seed} repeats it)");
    let mut rng = Rng(seed);
    let data = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let err = data.path().join("stderr.log");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = rt.block_on(Store::connect(&db.url)).expect("connect");
    // The SKU the stream adjusts, in the tenant and as the staff member `script` uses.
    let made = std::process::Command::new(env!("CARGO_BIN_EXE_rustok"))
        .args(["--db", &db.url])
        .args(product(SKU, "1.00").title("Crash stock").stock(0).args())
        .env("RUSTOK_DATA_DIR", data.path())
        .env_remove("RUSTOK_STAFF")
        .env_remove("RUSTOK_TENANT")
        .env_remove("RUSTOK_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let mut model = Model::default();
    let mut tally = Tally {
        lost: 0,
        duplicated: 0,
        problems: Vec::new(),
    };
    let started = Instant::now();
    let mut killed_before_first_ack = 0;
    // How long a start takes until its first answer (slowest seen): the random kill point is
    // drawn from start-up plus 700 ms, so kills land in start-up, commands and relaying alike.
    let mut startup = Duration::from_millis(300);

    for round in 0..kills {
        let mut child = spawn(&db, data.path(), logs.path(), &err);
        let answers = lines_of(&mut child);
        let mut stdin = child.stdin.take().unwrap();
        // Commands whose answer never came go first, under their own ids, in their order.
        let resend: Vec<Planned> = model.unacked.iter().cloned().collect();
        model.resent += resend.len() as u64;
        for p in &resend {
            writeln!(stdin, "{}", p.line).expect("write to the process");
        }
        // A random point: anywhere from before the database is open to well into the stream.
        let spawned = Instant::now();
        let window = startup + Duration::from_millis(700);
        let alive_for = Duration::from_millis(rng.below(window.as_millis() as u64));
        let deadline = spawned + alive_for;
        let acked_before = model.acked.len();
        let mut first_answer = None;
        while Instant::now() < deadline {
            while model.unacked.len() < IN_FLIGHT {
                let p = model.plan(&mut rng, round);
                writeln!(stdin, "{}", p.line).expect("write to the process");
                model.unacked.push_back(p);
            }
            match answers.recv_timeout(Duration::from_millis(2)) {
                Ok(line) => {
                    first_answer.get_or_insert_with(|| spawned.elapsed());
                    model.answer(&line)
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => panic!(
                    "{backend}: the process died on its own: {}",
                    std::fs::read_to_string(&err).unwrap_or_default()
                ),
            }
        }
        child.kill().expect("SIGKILL");
        child.wait().unwrap();
        drop(stdin);
        // Whatever it acknowledged before dying counts.
        for line in answers.iter() {
            model.answer(&line);
        }
        if model.acked.len() == acked_before {
            killed_before_first_ack += 1;
        }
        if let Some(t) = first_answer {
            startup = startup.max(t);
        }
        rt.block_on(check_store(&store, &model, false, &mut tally));
        assert!(
            tally.problems.is_empty(),
            "{backend}, after kill {}: {:#?}",
            round + 1,
            tally.problems
        );
    }

    // The last start: resend what is unanswered, close stdin, let it drain the outbox.
    let mut child = spawn(&db, data.path(), logs.path(), &err);
    let answers = lines_of(&mut child);
    let mut stdin = child.stdin.take().unwrap();
    model.resent += model.unacked.len() as u64;
    for p in &model.unacked {
        writeln!(stdin, "{}", p.line).unwrap();
    }
    drop(stdin);
    let mut drained = false;
    for line in answers.iter() {
        drained |= line == "drained";
        model.answer(&line);
    }
    let status = child.wait().unwrap();
    assert!(
        status.success() && drained,
        "{backend}: the final run failed: {}",
        std::fs::read_to_string(&err).unwrap_or_default()
    );
    assert!(model.unacked.is_empty(), "every command answered");
    rt.block_on(check_store(&store, &model, true, &mut tally));
    let (handovers, rehanded) = rt.block_on(check_delivery(&store, logs.path(), &mut tally));
    let elapsed = started.elapsed();
    let events = rt
        .block_on(rows(store.connection(), "SELECT id FROM outbox"))
        .len();
    // Written to the process's stdout directly, not through `println!`, so that the test
    // harness does not capture it: CI's log shows the report without `--nocapture`.
    let report = format!(
        "{backend}: {kills} kills, {} lost, {} duplicated ({} commands acknowledged ({} stock \
         adjustments, {SKU} at {}), {} resent after a kill, {events} events each delivered to crash-a, crash-b and the bus; \
         {handovers} hand-overs, {rehanded} repeated because a kill came between hand-over and \
         receipt; {killed_before_first_ack} kills before the first acknowledgement) in {:.1} s",
        tally.lost,
        tally.duplicated,
        model.acked.len(),
        model.adjusts,
        model.stock,
        model.resent,
        elapsed.as_secs_f64()
    );
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{report}");
        let _ = out.flush();
    }
    assert!(
        tally.problems.is_empty(),
        "{backend}: {:#?}",
        tally.problems
    );
    assert!(model.acked.len() > kills, "the stream made progress");
}

#[test]
fn sigkill_at_random_points_loses_and_duplicates_nothing_sqlite() {
    run(TestDb::sqlite());
}

#[test]
fn sigkill_at_random_points_loses_and_duplicates_nothing_postgres() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let Some(db) = rt.block_on(TestDb::postgres()) else {
        return;
    };
    drop(rt);
    run(db);
}
