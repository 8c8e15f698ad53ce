//! A process killed after its commit but before any relay ran loses nothing: the next relay
//! start delivers every pending event exactly once.

mod support;

use rustok::runtime::{Bus, Consumer, Relay, RelayConfig};
use rustok_domain::EventId;
use rustok_domain::event::EventEnvelope;
use rustok_store::{EventFilter, NodeFilter, Store};
use std::collections::{HashMap, HashSet};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::TestDb;

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
