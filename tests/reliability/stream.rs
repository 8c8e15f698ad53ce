//! Issue 19: the JetStream consumer of the outbox, against a real NATS server.
//!
//! These tests run when `RUSTOK_TEST_NATS_URL` is set (`.ci/run` sets it after checking that
//! NATS answers at 127.0.0.1:4222) and print a skip line otherwise. The test on the shared
//! server uses a stream and a tenant (so subjects) of its own and deletes the stream after;
//! the others start a private `nats-server -js` on a free port in a temp dir (Debian's
//! nats-server), so they can stop and restart it.
//!
//! - N commands → exactly N messages, ids equal to the events' (SQLite and PostgreSQL);
//! - NATS stopped mid-stream, then restarted → still exactly N, none duplicated, and the bus
//!   (the live panes) got every event at once all along;
//! - two relaying processes (`rustok outbox relay --follow --stream …`) on one PostgreSQL
//!   database → exactly N;
//! - kill -9 of the relaying process between the publish acks and the receipts → the re-send
//!   is dropped by the stream's duplicate window: exactly N;
//! - (no NATS needed, always runs) an unreachable stream: the bus and the outbox deliver at
//!   once, the stream's events become its own dead letters after its attempts
//!   (`outbox consumers`, `outbox failed --consumer`).

use crate::support;

use async_nats::jetstream;
use rustok::runtime::{Bus, BusMsg, JetStream, Relay, RelayConfig, StreamSettings};
use rustok_domain::{Actor, Command, CommandEnvelope, Tenant};
use rustok_store::{EventFilter, Store};
use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command as Process, Stdio};
use std::sync::Arc;
use std::time::Duration;
use support::{TestDb, wait_until_async};
use tokio::sync::watch;

pub const NATS_ENV: &str = "RUSTOK_TEST_NATS_URL";

/// The shared NATS server's URL, or `None` after printing why the test is skipped.
fn nats_url() -> Option<String> {
    match std::env::var(NATS_ENV) {
        Ok(u) if !u.trim().is_empty() => Some(u),
        _ => {
            eprintln!("skipped: no NATS ({NATS_ENV} is not set; .ci/run sets it)");
            None
        }
    }
}

/// A private `nats-server -js` on a free port, its store in a temp dir; killed on drop.
struct NatsServer {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl NatsServer {
    /// `None` (after printing why) when NATS tests are off.
    fn start() -> Option<NatsServer> {
        nats_url()?;
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut s = NatsServer {
            port,
            dir: tempfile::tempdir().unwrap(),
            child: None,
        };
        s.resume();
        Some(s)
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts (again) on the same port with the same store.
    fn resume(&mut self) {
        let child = Process::new("nats-server")
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-sd",
            ])
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server (Debian package nats-server) is installed");
        self.child = Some(child);
        let addr = format!("127.0.0.1:{}", self.port);
        assert!(
            support::wait_until(Duration::from_secs(10), || std::net::TcpStream::connect(
                &addr
            )
            .is_ok()),
            "nats-server did not start on {addr}"
        );
    }

    /// Kills it (the client sees the connection drop).
    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn settings(url: &str, stream: &str, subjects: &str) -> StreamSettings {
    StreamSettings {
        url: url.to_string(),
        stream: stream.to_string(),
        subjects: vec![subjects.to_string()],
        max_attempts: 1000,
    }
}

/// Quick retries, so a test sees the stream catch up soon after NATS is back.
fn quick() -> RelayConfig {
    RelayConfig {
        poll: Duration::from_millis(20),
        base_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(500),
        ..RelayConfig::default()
    }
}

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}{}",
        &uuid::Uuid::now_v7().simple().to_string()[20..]
    )
}

/// Every message id in the stream, in stream order (panics on a message without one).
async fn stream_ids(url: &str, stream: &str) -> Vec<String> {
    let js = jetstream::new(async_nats::connect(url).await.unwrap());
    let mut s = js.get_stream(stream).await.unwrap();
    let n = s.info().await.unwrap().state.messages;
    let mut ids = Vec::new();
    for seq in 1..=n {
        let m = s.get_raw_message(seq).await.unwrap();
        let id = m.headers.get("Nats-Msg-Id").expect("Nats-Msg-Id").as_str();
        ids.push(id.to_string());
    }
    ids
}

async fn stream_count(url: &str, stream: &str) -> u64 {
    let Ok(client) = async_nats::connect(url).await else {
        return 0;
    };
    let js = jetstream::new(client);
    match js.get_stream(stream).await {
        Ok(mut s) => s.info().await.map(|i| i.state.messages).unwrap_or(0),
        Err(_) => 0,
    }
}

async fn outbox_ids(store: &Store) -> BTreeSet<String> {
    store
        .list_events(&EventFilter {
            limit: 100_000,
            ..Default::default()
        })
        .await
        .unwrap()
        .iter()
        .map(|e| e.envelope.id.to_string())
        .collect()
}

/// Asserts the stream holds exactly the outbox's events, once each.
async fn assert_exactly_the_outbox(url: &str, stream: &str, store: &Store) {
    let ids = stream_ids(url, stream).await;
    let unique: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(unique.len(), ids.len(), "a message is duplicated: {ids:?}");
    assert_eq!(unique, outbox_ids(store).await, "stream ids = event ids");
}

async fn tenant(store: &Store, slug: &str) -> Tenant {
    let cmd = support::fixtures::create_tenant(slug);
    let Command::CreateTenant { id, .. } = &cmd else {
        unreachable!("fixture builds a CreateTenant")
    };
    let env = CommandEnvelope::new(*id, Actor::new("owner"), cmd);
    match store
        .execute(&env, chrono::Utc::now())
        .await
        .unwrap()
        .outcome
    {
        rustok_store::Outcome::Tenant(t) => t,
        other => panic!("{other:?}"),
    }
}

async fn commands(store: &Store, t: &Tenant, n: usize) {
    for _ in 0..n {
        let draft = support::fixtures::draft(&unique("Post "));
        let env = CommandEnvelope::new(t.id, Actor::new("owner"), Command::CreateNode(draft));
        store.execute(&env, chrono::Utc::now()).await.unwrap();
    }
}

/// N commands with NATS up: exactly N messages (plus the tenant's creation), ids equal to
/// the events', on the subjects `rustok.<tenant>.<event_type>`.
async fn n_commands_n_messages(db: TestDb) {
    let Some(url) = nats_url() else { return };
    let store = Store::connect(&db.url).await.unwrap();
    let slug = unique("t");
    let stream = unique("RUSTOK_TEST_");
    let relay = Relay::new(store.clone(), Bus::new(1024), quick()).with_stream(Arc::new(
        JetStream::new(settings(&url, &stream, &format!("rustok.{slug}.>"))),
    ));
    // Registered before the first claim: the tenant's own event is streamed too.
    relay.drain().await.unwrap();
    let t = tenant(&store, &slug).await;
    commands(&store, &t, 40).await;
    relay.drain().await.unwrap();
    let passes = relay.drain_streams().await.unwrap();
    assert_eq!(passes.len(), 1);
    assert_eq!(passes[0].1.delivered, 41, "{passes:?}");
    assert_eq!(stream_count(&url, &stream).await, 41);
    assert_exactly_the_outbox(&url, &stream, &store).await;
    // Subjects name the tenant and the event type.
    let js = jetstream::new(async_nats::connect(url.as_str()).await.unwrap());
    let s = js.get_stream(&stream).await.unwrap();
    let first = s.get_raw_message(1).await.unwrap();
    assert_eq!(
        first.subject.as_str(),
        format!("rustok.{slug}.tenant.created")
    );
    let second = s.get_raw_message(2).await.unwrap();
    assert_eq!(
        second.subject.as_str(),
        format!("rustok.{slug}.node.created")
    );
    // Nothing left: the consumer's state says so.
    let stats = store
        .consumer_stats(Some("bus"), chrono::Utc::now())
        .await
        .unwrap();
    let js_stats = stats
        .iter()
        .find(|c| c.consumer == format!("jetstream:{stream}"))
        .unwrap();
    assert_eq!(
        (js_stats.delivered, js_stats.pending, js_stats.failed),
        (41, 0, 0)
    );
    js.delete_stream(&stream).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n_commands_give_n_messages_sqlite() {
    n_commands_n_messages(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n_commands_give_n_messages_postgres() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    n_commands_n_messages(db).await;
}

/// NATS stopped mid-stream, then restarted: the bus gets every event at once throughout; the
/// stream's backlog waits, is retried, and catches up with exactly N, none duplicated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_stopped_and_restarted_loses_and_duplicates_nothing() {
    let Some(mut nats) = NatsServer::start() else {
        return;
    };
    let db = TestDb::sqlite();
    let store = Store::connect(&db.url).await.unwrap();
    let bus = Bus::new(16_384);
    let mut sub = bus.subscribe();
    let relay = Arc::new(
        Relay::new(store.clone(), bus.clone(), quick()).with_stream(Arc::new(JetStream::new(
            settings(&nats.url(), "RUSTOK_EVENTS", "rustok.>"),
        ))),
    );
    let (stop, stop_rx) = watch::channel(false);
    let task = tokio::spawn({
        let relay = relay.clone();
        async move { relay.run(stop_rx).await }
    });
    let mut seen = 0usize;
    let mut bus_sees = async |sub: &mut rustok::runtime::Subscription, n: usize| {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while seen < n {
            match tokio::time::timeout_at(deadline, sub.recv()).await {
                Ok(Some(BusMsg::Event(_))) => seen += 1,
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        seen
    };
    let t = tenant(&store, "acme").await;
    commands(&store, &t, 20).await;
    let url = nats.url();
    assert!(
        wait_until_async(Duration::from_secs(20), async || stream_count(
            &url,
            "RUSTOK_EVENTS"
        )
        .await
            == 21)
        .await,
        "the first 21 events reach the stream"
    );
    assert_eq!(bus_sees(&mut sub, 21).await, 21);

    nats.stop();
    let stopped = std::time::Instant::now();
    commands(&store, &t, 20).await;
    // The bus (the live panes) does not wait for NATS.
    assert_eq!(
        bus_sees(&mut sub, 41).await,
        41,
        "the bus stalled while NATS was down"
    );
    assert!(
        stopped.elapsed() < Duration::from_secs(5),
        "the bus took {:?}",
        stopped.elapsed()
    );
    let name = "jetstream:RUSTOK_EVENTS";
    let waiting = wait_until_async(Duration::from_secs(20), async || {
        let s = store
            .consumer_stats(Some("bus"), chrono::Utc::now())
            .await
            .unwrap();
        let c = s.iter().find(|c| c.consumer == name).unwrap();
        c.pending == 20 && c.last_error.is_some()
    })
    .await;
    assert!(waiting, "the stream's backlog waits with its error");
    let stats = store
        .consumer_stats(Some("bus"), chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(
        stats[0].pending, 0,
        "the outbox itself is delivered: {stats:?}"
    );

    nats.resume();
    assert!(
        wait_until_async(Duration::from_secs(60), async || {
            let s = store
                .consumer_stats(Some("bus"), chrono::Utc::now())
                .await
                .unwrap();
            s.iter()
                .any(|c| c.consumer == name && c.pending == 0 && c.delivered == 41)
        })
        .await,
        "the stream caught up after NATS came back"
    );
    stop.send(true).unwrap();
    task.await.unwrap();
    assert_eq!(stream_count(&url, "RUSTOK_EVENTS").await, 41);
    assert_exactly_the_outbox(&url, "RUSTOK_EVENTS", &store).await;
}

fn rustok(db: &str, data: &Path, args: &[&str]) -> Process {
    let mut p = Process::new(env!("CARGO_BIN_EXE_rustok"));
    p.args(["--db", db])
        .args(args)
        .env("RUSTOK_DATA_DIR", data)
        .env("RUSTOK_CONFIG_DIR", data)
        .env_remove("RUSTOK_DATABASE_URL")
        .env_remove("RUSTOK_TENANT")
        .env_remove("RUSTOK_STAFF")
        .env_remove("RUSTOK_STREAM_URL")
        .env_remove("RUSTOK_STREAM_NAME");
    p
}

fn follow(db: &str, data: &Path, url: &str, extra_env: &[(&str, &str)]) -> Child {
    let mut p = rustok(db, data, &["outbox", "relay", "--follow", "--stream", url]);
    for (k, v) in extra_env {
        p.env(k, v);
    }
    p.stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn interrupt(mut child: Child) {
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let _ = child.wait();
}

/// Two relaying processes on one PostgreSQL database: exactly N messages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_relaying_processes_on_postgres_publish_exactly_n() {
    let Some(nats) = NatsServer::start() else {
        return;
    };
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let store = Store::connect(&db.url).await.unwrap();
    store.bootstrap_owner("owner").await.unwrap();
    let t = tenant(&store, "acme").await;
    let url = nats.url();
    let a = follow(&db.url, data.path(), &url, &[]);
    let b = follow(&db.url, data.path(), &url, &[]);
    // Both register the stream before their first claim; commands go on meanwhile.
    assert!(
        wait_until_async(Duration::from_secs(20), async || {
            !store.registered_consumers().await.unwrap().is_empty()
        })
        .await
    );
    commands(&store, &t, 200).await;
    let total = outbox_ids(&store).await.len() as u64;
    let done = wait_until_async(Duration::from_secs(60), async || {
        let s = store
            .consumer_stats(Some("bus"), chrono::Utc::now())
            .await
            .unwrap();
        s.iter().any(|c| {
            c.consumer == "jetstream:RUSTOK_EVENTS" && c.pending == 0 && c.delivered == total
        })
    })
    .await;
    interrupt(a);
    interrupt(b);
    assert!(done, "the two relays streamed the events");
    // Every event once, the tenant's creation too (still pending when they registered).
    assert_eq!(stream_count(&url, "RUSTOK_EVENTS").await, total);
    assert_exactly_the_outbox(&url, "RUSTOK_EVENTS", &store).await;
    assert_eq!(
        store
            .receipt_count(Some("jetstream:RUSTOK_EVENTS"))
            .await
            .unwrap(),
        total
    );
}

/// kill -9 of the relaying process after NATS acknowledged the publishes but before the
/// receipts: the next relay publishes them again and the duplicate window drops the re-send.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_between_publish_and_receipt_is_deduplicated_by_the_stream() {
    let Some(nats) = NatsServer::start() else {
        return;
    };
    let db = TestDb::sqlite();
    let data = tempfile::tempdir().unwrap();
    let store = Store::connect(&db.url).await.unwrap();
    store.bootstrap_owner("owner").await.unwrap();
    store
        .register_consumer("jetstream:RUSTOK_EVENTS", chrono::Utc::now())
        .await
        .unwrap();
    let t = tenant(&store, "acme").await;
    commands(&store, &t, 30).await;
    let n = outbox_ids(&store).await.len() as u64;
    let url = nats.url();
    let lease = [("RUSTOK_STREAM_LEASE_MS", "300")];
    let mut paused = follow(
        &db.url,
        data.path(),
        &url,
        &[("RUSTOK_TEST_PAUSE_BEFORE_RECEIPT_MS", "60000"), lease[0]],
    );
    assert!(
        wait_until_async(Duration::from_secs(30), async || stream_count(
            &url,
            "RUSTOK_EVENTS"
        )
        .await
            == n)
        .await,
        "published and acknowledged"
    );
    // SIGKILL: no receipt was written.
    paused.kill().unwrap();
    paused.wait().unwrap();
    assert_eq!(
        store
            .receipt_count(Some("jetstream:RUSTOK_EVENTS"))
            .await
            .unwrap(),
        0
    );
    // Another relay (once the lease has expired) publishes them again: all duplicates.
    tokio::time::sleep(Duration::from_millis(400)).await; // the killed process's lease
    let out = rustok(
        &db.url,
        data.path(),
        &["outbox", "relay", "--json", "--stream", &url],
    )
    .env(lease[0].0, lease[0].1)
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        summary["streams"]["jetstream:RUSTOK_EVENTS"]["delivered"], n,
        "{summary}"
    );
    assert_eq!(
        stream_count(&url, "RUSTOK_EVENTS").await,
        n,
        "the re-send was dropped"
    );
    assert_exactly_the_outbox(&url, "RUSTOK_EVENTS", &store).await;
    assert_eq!(
        store
            .receipt_count(Some("jetstream:RUSTOK_EVENTS"))
            .await
            .unwrap(),
        n
    );
}

/// No NATS needed: a stream that cannot be reached is retried, then its events become its own
/// dead letters after the configured attempts — listed by `outbox failed --consumer` and
/// counted by `outbox consumers` — while the bus and the outbox deliver everything at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_stream_dead_letters_its_own_events_only() {
    let db = TestDb::sqlite();
    let data = tempfile::tempdir().unwrap();
    let store = Store::connect(&db.url).await.unwrap();
    store.bootstrap_owner("owner").await.unwrap();
    let bus = Bus::new(1024);
    let mut sub = bus.subscribe();
    let mut unreachable = settings("nats://127.0.0.1:1", "RUSTOK_EVENTS", "rustok.>");
    unreachable.max_attempts = 2;
    let relay = Relay::new(store.clone(), bus.clone(), quick())
        .with_stream(Arc::new(JetStream::new(unreachable)));
    relay.drain().await.unwrap();
    let t = tenant(&store, "acme").await;
    commands(&store, &t, 3).await;
    let pass = relay.drain().await.unwrap();
    assert_eq!(
        (pass.delivered, pass.retried),
        (4, 0),
        "the outbox is delivered"
    );
    let mut live = 0;
    while let Ok(Some(BusMsg::Event(_))) =
        tokio::time::timeout(Duration::from_millis(200), sub.recv()).await
    {
        live += 1;
    }
    assert_eq!(live, 4, "the bus had every event at once");

    let first = relay.drain_streams().await.unwrap();
    assert_eq!(first[0].1.retried, 4, "{first:?}");
    assert_eq!(
        relay.drain_streams().await.unwrap()[0].1.attempted(),
        0,
        "nothing is retried before its back-off has passed"
    );
    tokio::time::sleep(Duration::from_millis(120)).await; // quick(): a 50 ms back-off
    let second = relay.drain_streams().await.unwrap();
    assert_eq!(second[0].1.dead_lettered, 4, "{second:?}");

    let run = |args: &[&str]| {
        let out = rustok(&db.url, data.path(), args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let consumers = run(&["outbox", "consumers", "--json"]);
    let rows = consumers.as_array().unwrap();
    assert_eq!(rows[0]["consumer"], "bus");
    assert_eq!(
        (rows[0]["pending"].as_u64(), rows[0]["failed"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(rows[0]["delivered"], 4);
    let js = &rows[1];
    assert_eq!(js["consumer"], "jetstream:RUSTOK_EVENTS");
    assert_eq!(
        (js["delivered"].as_u64(), js["pending"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(
        (js["failed"].as_u64(), js["lag_events"].as_u64()),
        (Some(4), Some(0))
    );
    assert!(
        js["last_error"]
            .as_str()
            .unwrap()
            .starts_with("jetstream:RUSTOK_EVENTS: connecting to nats://127.0.0.1:1"),
        "{js}"
    );
    for key in ["lag_seconds", "last_delivered_at"] {
        assert!(js.get(key).is_some(), "{key} in {js}");
    }
    // The table cuts the error in its column; the whole of it follows the table.
    let text = rustok(&db.url, data.path(), &["outbox", "consumers"])
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    let whole = format!(
        "jetstream:RUSTOK_EVENTS: {}",
        js["last_error"].as_str().unwrap()
    );
    assert!(
        js["last_error"].as_str().unwrap().chars().count() > 50 && text.lines().any(|l| l == whole),
        "{text}"
    );
    let failed = run(&[
        "--tenant",
        "acme",
        "outbox",
        "failed",
        "--consumer",
        "jetstream:RUSTOK_EVENTS",
        "--json",
    ]);
    let failed = failed.as_array().unwrap();
    assert_eq!(failed.len(), 4, "the tenant's creation and its 3 nodes");
    assert!(
        failed
            .iter()
            .all(|f| f["attempts"] == 2 && f["status"] == "failed")
    );
    // The outbox's own dead letters: none.
    let own = run(&["--tenant", "acme", "outbox", "failed", "--json"]);
    assert_eq!(own.as_array().unwrap().len(), 0);

    // Re-driven (a command: owner, audited): one by id, then the rest, back in the stream's
    // own queue with their attempts from zero; the outbox is not touched.
    let one = failed[0]["id"].as_str().unwrap().to_string();
    let retry = |more: &[&str]| {
        let mut args = vec!["--tenant", "acme", "outbox", "retry", "--consumer"];
        args.push("jetstream:RUSTOK_EVENTS");
        args.extend_from_slice(more);
        args.push("--json");
        run(&args)
    };
    assert_eq!(retry(&["--id", &one])["requeued"], 1);
    assert_eq!(retry(&[])["requeued"], 3);
    assert_eq!(retry(&[])["requeued"], 0);
    let stats = store
        .consumer_stats(Some("bus"), chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!((stats[1].pending, stats[1].failed), (4, 0), "{stats:?}");
    assert_eq!((stats[0].pending, stats[0].failed), (0, 0), "{stats:?}");
    let again = relay.drain_streams().await.unwrap();
    assert_eq!(again[0].1.retried, 4, "attempted again at once: {again:?}");
}

/// A stream registered after events were dispatched gets none of them; `backfill` owes it the
/// history (those it has no receipt for), which a relay then delivers — the stream ends with
/// exactly the outbox's events, once each. `unregister` drops it with its receipts: later
/// events are owed to it no more.
async fn late_stream_backfilled_then_unregistered(db: TestDb) {
    let Some(url) = nats_url() else { return };
    let store = Store::connect(&db.url).await.unwrap();
    let slug = unique("t");
    let stream = unique("RUSTOK_TEST_");
    let consumer = format!("jetstream:{stream}");
    // Before any stream: 1 + 20 events dispatched to the bus only.
    let plain = Relay::new(store.clone(), Bus::new(1024), quick());
    let t = tenant(&store, &slug).await;
    commands(&store, &t, 20).await;
    assert_eq!(plain.drain().await.unwrap().delivered, 21);

    let relay = Relay::new(store.clone(), Bus::new(1024), quick()).with_stream(Arc::new(
        JetStream::new(settings(&url, &stream, &format!("rustok.{slug}.>"))),
    ));
    relay.drain().await.unwrap(); // registers the stream
    commands(&store, &t, 5).await;
    relay.drain().await.unwrap();
    assert_eq!(relay.drain_streams().await.unwrap()[0].1.delivered, 5);
    assert_eq!(stream_count(&url, &stream).await, 5, "only what came after");

    use rustok_store::BackfillFrom;
    let owed = store.backfill_consumer(&consumer, BackfillFrom::AfterSeq(0));
    assert_eq!(
        owed.await.unwrap(),
        Some(21),
        "the history it has no receipt for"
    );
    assert_eq!(
        store
            .backfill_consumer(&consumer, BackfillFrom::AfterSeq(0))
            .await
            .unwrap(),
        Some(0),
        "owed once: a second back-fill adds nothing"
    );
    assert_eq!(relay.drain_streams().await.unwrap()[0].1.delivered, 21);
    assert_exactly_the_outbox(&url, &stream, &store).await;

    let removed = store.unregister_consumer(&consumer).await.unwrap().unwrap();
    assert_eq!(
        (removed.pending, removed.failed, removed.receipts),
        (0, 0, 26)
    );
    assert_eq!(store.unregister_consumer(&consumer).await.unwrap(), None);
    let listed = store
        .consumer_stats(Some("bus"), chrono::Utc::now())
        .await
        .unwrap();
    assert!(listed.iter().all(|c| c.consumer != consumer), "{listed:?}");
    // Later events are owed to it no more (a fresh relay without the stream claims them).
    commands(&store, &t, 3).await;
    assert_eq!(plain.drain().await.unwrap().delivered, 3);
    assert_eq!(
        store
            .backfill_consumer(&consumer, BackfillFrom::AfterSeq(0))
            .await
            .unwrap(),
        None,
        "not registered any more"
    );
    assert_eq!(stream_count(&url, &stream).await, 26);
    let js = jetstream::new(async_nats::connect(url.as_str()).await.unwrap());
    js.delete_stream(&stream).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_stream_backfilled_then_unregistered_sqlite() {
    late_stream_backfilled_then_unregistered(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_stream_backfilled_then_unregistered_postgres() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    late_stream_backfilled_then_unregistered(db).await;
}

/// No NATS needed: `outbox backfill` and `outbox unregister` through the binary — a usage
/// error for the bus or a missing starting point (exit 2), a clear refusal naming the
/// registered ones for an unknown consumer, refused read-only, a dry run that changes nothing,
/// one audit row each, and `--since` counting from a time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_and_unregister_through_the_cli() {
    let db = TestDb::sqlite();
    let data = tempfile::tempdir().unwrap();
    let store = Store::connect(&db.url).await.unwrap();
    store.bootstrap_owner("owner").await.unwrap();
    let t = tenant(&store, "acme").await;
    commands(&store, &t, 6).await;
    let plain = Relay::new(store.clone(), Bus::new(1024), quick());
    assert_eq!(plain.drain().await.unwrap().delivered, 7);
    // A stream registered now (as a process started with --stream would): owed nothing yet.
    store
        .register_consumer("jetstream:LATE", chrono::Utc::now())
        .await
        .unwrap();
    let out = |args: &[&str]| rustok(&db.url, data.path(), args).output().unwrap();
    let ok = |args: &[&str]| {
        let o = out(args);
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
    };
    let stats = |name: &str| {
        ok(&["outbox", "consumers", "--json"])
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["consumer"] == name)
            .cloned()
    };
    assert_eq!(stats("jetstream:LATE").unwrap()["pending"], 0);

    // Usage errors (exit 2), before anything is read.
    for args in [
        &["outbox", "backfill", "--consumer", "jetstream:LATE"][..],
        &[
            "outbox",
            "backfill",
            "--consumer",
            "bus",
            "--after-seq",
            "0",
        ],
        &["outbox", "unregister", "--consumer", "bus"],
        &[
            "outbox",
            "backfill",
            "--consumer",
            "jetstream:LATE",
            "--since",
            "soon",
        ],
        &[
            "outbox",
            "backfill",
            "--consumer",
            "jetstream:LATE",
            "--after-seq",
            "-1",
        ],
    ] {
        assert_eq!(out(args).status.code(), Some(2), "{args:?}");
    }
    // An unknown consumer: refused, naming the registered ones.
    let unknown = out(&["outbox", "unregister", "--consumer", "jetstream:NOPE"]);
    assert_eq!(unknown.status.code(), Some(1));
    let err = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        err.contains("no stream consumer jetstream:NOPE (registered: jetstream:LATE)"),
        "{err}"
    );
    // Read-only: refused, nothing changed.
    let ro = out(&[
        "--read-only",
        "outbox",
        "backfill",
        "--consumer",
        "jetstream:LATE",
        "--after-seq",
        "0",
    ]);
    assert_eq!(ro.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&ro.stderr).contains("read-only"));
    assert_eq!(stats("jetstream:LATE").unwrap()["pending"], 0);

    // Owners and admins only (outbox:relay): a manager and support are refused.
    for (handle, role) in [("mia", "manager"), ("sam", "support")] {
        ok(&["staff", "add", handle, "--role", role, "--json"]);
        for cmd in [
            &[
                "outbox",
                "backfill",
                "--consumer",
                "jetstream:LATE",
                "--after-seq",
                "0",
            ][..],
            &["outbox", "unregister", "--consumer", "jetstream:LATE"],
        ] {
            let mut args = vec!["--as", handle];
            args.extend_from_slice(cmd);
            let o = out(&args);
            assert_eq!(o.status.code(), Some(1), "{role}: {args:?}");
            assert!(
                String::from_utf8_lossy(&o.stderr).contains("permission denied"),
                "{role}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
    }
    assert_eq!(stats("jetstream:LATE").unwrap()["pending"], 0);

    // From a time later than every event: nothing; from an hour ago: all 7.
    let since = |when: &str| {
        ok(&[
            "outbox",
            "backfill",
            "--consumer",
            "jetstream:LATE",
            "--since",
            when,
            "--json",
        ])["owed"]
            .as_u64()
    };
    let future = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    assert_eq!(since(&future), Some(0));
    assert_eq!(since("1h"), Some(7));
    assert_eq!(stats("jetstream:LATE").unwrap()["pending"], 7);

    // A dry run says what would go and changes nothing; then it goes.
    let dry = ok(&[
        "outbox",
        "unregister",
        "--consumer",
        "jetstream:LATE",
        "--dry-run",
        "--json",
    ]);
    assert_eq!(dry["would_drop"]["pending"], 7, "{dry}");
    assert_eq!(stats("jetstream:LATE").unwrap()["pending"], 7);
    let gone = ok(&[
        "outbox",
        "unregister",
        "--consumer",
        "jetstream:LATE",
        "--json",
    ]);
    assert_eq!(gone["dropped"]["pending"], 7, "{gone}");
    assert!(stats("jetstream:LATE").is_none());
    // New events are owed to it no more.
    commands(&store, &t, 2).await;
    assert!(plain.drain().await.unwrap().delivered >= 2);
    assert!(store.registered_consumers().await.unwrap().is_empty());
    // Registered again (a process started with it): nothing was written for it meanwhile.
    store
        .register_consumer("jetstream:LATE", chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(stats("jetstream:LATE").unwrap()["pending"], 0);

    // One audit row for each attempt that got past the arguments.
    let log = ok(&["audit", "log", "--json"]);
    let rows: Vec<(String, String)> = log["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            let c = r["command"].as_str().unwrap_or("");
            c == "backfill_consumer" || c == "unregister_consumer"
        })
        .map(|r| {
            (
                r["command"].as_str().unwrap().to_string(),
                r["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        rows.iter()
            .filter(|(c, _)| c == "unregister_consumer")
            .count(),
        4,
        "two refused roles, the unknown one and the one dropped: {rows:?}"
    );
    assert_eq!(
        rows.iter()
            .filter(|(c, _)| c == "backfill_consumer")
            .count(),
        5,
        "two refused roles, read-only refused, then two back-fills: {rows:?}"
    );
    assert!(rows.iter().any(|(_, o)| o != "ok"), "{rows:?}");
}
