//! Issue 10, relay faults: a subscriber that keeps failing is retried with backoff (1 s, 2 s,
//! 4 s, 8 s as recorded in the outbox row), dead-lettered after 5 attempts, listed and retried
//! from the real CLI (`outbox failed`, `outbox retry`, `outbox relay`) and from the real
//! console (Events pane: `D` lists dead letters, `R` retries the selected one, driven in tmux);
//! once retried it is delivered and nothing is left pending or failed.

use crate::support;

use rustok::runtime::{Bus, Consumer, Relay, RelayConfig, backoff};
use rustok_domain::event::EventEnvelope;
use rustok_store::{EventFilter, Store};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use support::TestDb;
use support::tmux::Pane;
use support::wait_until;

struct Failing;

impl Consumer for Failing {
    fn name(&self) -> &str {
        "search-index"
    }
    fn handle(&self, _: &EventEnvelope) -> Result<(), String> {
        Err("connection refused".into())
    }
}

fn rustok(db: &str, data: &Path, args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_rustok"))
        .args(["--db", db])
        .args(args)
        .arg("--json")
        .env("RUSTOK_DATA_DIR", data)
        .env_remove("RUSTOK_DATABASE_URL")
        .env_remove("RUSTOK_TENANT")
        .env_remove("RUSTOK_STAFF")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Creates a node through the CLI, then fails its events' delivery five times through a relay
/// with a failing subscriber, checking the backoff recorded after each attempt. Returns the
/// dead letters' event ids.
async fn dead_letters(db: &str, data: &Path) -> Vec<String> {
    rustok(
        db,
        data,
        &["node", "create", "--kind", "post", "--title", "Hello"],
    );
    let store = Store::connect(db).await.unwrap();
    let cfg = RelayConfig::default();
    let relay =
        Relay::new(store.clone(), Bus::new(64), cfg.clone()).with_consumer(Arc::new(Failing));
    let backend = store.connection().get_database_backend();
    for attempt in 1..=5 {
        let before = chrono::Utc::now().timestamp_millis();
        let pass = relay.run_once().await.unwrap();
        let after = chrono::Utc::now().timestamp_millis();
        let rows = store
            .list_events(&EventFilter {
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap();
        for row in &rows {
            assert_eq!(row.attempts, attempt);
            assert_eq!(
                row.last_error.as_deref(),
                Some("search-index: connection refused")
            );
        }
        if attempt < 5 {
            assert_eq!(pass.retried, rows.len(), "attempt {attempt}: retried later");
            assert!(rows.iter().all(|r| r.status == "pending"));
            // The next attempt is scheduled backoff(attempt) later: 1 s, 2 s, 4 s, 8 s.
            let wait = backoff(attempt, &cfg).as_millis() as i64;
            let next: Vec<i64> = store
                .connection()
                .query_all_raw(Statement::from_string(
                    backend,
                    "SELECT next_attempt_ms FROM outbox",
                ))
                .await
                .unwrap()
                .iter()
                .map(|r| r.try_get("", "next_attempt_ms").unwrap())
                .collect();
            assert!(
                next.iter()
                    .all(|n| *n >= before + wait && *n <= after + wait),
                "attempt {attempt}: next attempt {wait} ms later, got {next:?} (now {before})"
            );
            assert_eq!(
                relay.run_once().await.unwrap().claimed(),
                0,
                "nothing is retried before its backoff has passed"
            );
            // Let the backoff pass without waiting for it.
            store
                .connection()
                .execute_raw(Statement::from_string(
                    backend,
                    "UPDATE outbox SET next_attempt_ms = 0",
                ))
                .await
                .unwrap();
        } else {
            assert_eq!(
                pass.dead_lettered,
                rows.len(),
                "dead letters after 5 attempts"
            );
            assert!(rows.iter().all(|r| r.status == "failed"));
        }
    }
    assert_eq!(
        relay.run_once().await.unwrap().claimed(),
        0,
        "dead letters are not retried on their own"
    );
    store
        .list_events(&EventFilter {
            status: Some("failed".into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .iter()
        .map(|e| e.envelope.id.to_string())
        .collect()
}

async fn dead_letters_are_listed_and_retried_from_the_cli(db: TestDb) {
    let data = tempfile::tempdir().unwrap();
    let data = data.path();
    let dead = dead_letters(&db.url, data).await;
    assert_eq!(dead.len(), 2, "tenant.created and node.created");

    let status = rustok(&db.url, data, &["outbox", "status"]);
    assert_eq!(status["failed"], 2);
    let failed = rustok(&db.url, data, &["outbox", "failed"]);
    let failed = failed.as_array().unwrap();
    // `outbox failed` lists the tenant's dead letters (node.created; tenant.created has no
    // tenant of its own to list it under).
    assert!(!failed.is_empty());
    for f in failed {
        assert_eq!(f["attempts"], 5);
        assert_eq!(f["last_error"], "search-index: connection refused");
        assert_eq!(f["status"], "failed");
    }

    // Retry one by id, then the rest; a relay (whose subscribers now work) delivers them.
    let one = failed[0]["envelope"]["id"]
        .as_str()
        .or_else(|| failed[0]["id"].as_str())
        .expect("event id")
        .to_string();
    assert!(dead.contains(&one));
    let r = rustok(&db.url, data, &["outbox", "retry", "--id", &one]);
    assert_eq!(r["requeued"], 1);
    assert_eq!(rustok(&db.url, data, &["outbox", "status"])["failed"], 1);
    let r = rustok(&db.url, data, &["outbox", "retry"]);
    assert_eq!(r["requeued"], 1);
    let relayed = rustok(&db.url, data, &["outbox", "relay"]);
    assert_eq!(relayed["delivered"], 2);
    assert_eq!(relayed["duplicates"], 0);
    let status = rustok(&db.url, data, &["outbox", "status"]);
    assert_eq!(
        (status["pending"].as_u64(), status["failed"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(status["dispatched"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_retries_dead_letters_sqlite() {
    dead_letters_are_listed_and_retried_from_the_cli(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_retries_dead_letters_postgres() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    dead_letters_are_listed_and_retried_from_the_cli(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_retries_a_dead_letter_and_delivers_it() {
    if !support::tmux::available() {
        eprintln!("skipped: tmux is not installed");
        return;
    }
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    dead_letters(&db.url, data).await;
    assert_eq!(rustok(&db.url, data, &["outbox", "status"])["failed"], 2);

    let pane = Pane::console("relay-faults", &db.url, data, &[], "true");
    let keys = |k: &str| pane.keys(&[k]);
    pane.wait_for("Content", Duration::from_secs(20));
    keys("5");
    keys("D");
    let s = pane.wait_for("search-index: connection refused", Duration::from_secs(10));
    assert!(s.contains("node.created"), "{s}");
    keys("R");
    // It asks first, with the dry run's count.
    pane.wait_for("Dry run: 1 dead letter", Duration::from_secs(10));
    keys("y");
    pane.wait_for(
        "1 dead letter(s) back in the queue",
        Duration::from_secs(10),
    );
    // The console's own relay delivers the retried event (its subscribers work).
    let mut status = Value::Null;
    assert!(
        wait_until(Duration::from_secs(30), || {
            status = rustok(&db.url, data, &["outbox", "status"]);
            status["failed"] == 1 && status["pending"] == 0
        }),
        "not delivered: {status}"
    );
    keys("q");
}
