//! Issue 8: any number of relay processes on one database deliver each event exactly once.
//! Four real `rustok outbox relay` processes, started together on 10,000 pending events; the
//! receipts table (primary key consumer + event id, written in the transaction that marks the
//! event dispatched) and the relays' own reports are counted.

use crate::support;

use rustok_store::Store;
use rustok_store::entity::outbox;
use sea_orm::{ActiveValue::NotSet, ActiveValue::Set, EntityTrait};
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::TestDb;
use uuid::Uuid;

const EVENTS: usize = 10_000;
const RELAYS: usize = 4;

async fn seed_pending(store: &Store, n: usize) {
    let tenant = Uuid::now_v7();
    let now = chrono::Utc::now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let rows = chunk.iter().map(|i| outbox::ActiveModel {
            seq: NotSet,
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant),
            event_type: Set("node.created".into()),
            schema_version: Set(1),
            aggregate_type: Set("node".into()),
            aggregate_id: Set(Uuid::now_v7()),
            correlation_id: Set(Uuid::now_v7()),
            causation_id: Set(None),
            actor: Set("seed".into()),
            occurred_at: Set(now),
            payload: Set(format!("{{\"n\":{i}}}")),
            status: Set("pending".into()),
            attempts: Set(0),
            next_attempt_ms: Set(0),
            last_error: Set(None),
            claim_token: Set(None),
            claimed_until_ms: Set(None),
            dispatched_at: Set(None),
        });
        outbox::Entity::insert_many(rows)
            .exec(store.connection())
            .await
            .expect("seed outbox");
    }
}

async fn four_relay_processes_deliver_each_event_exactly_once(db: TestDb) {
    let store = Store::connect(&db.url).await.expect("connect");
    seed_pending(&store, EVENTS).await;
    let data = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let children: Vec<_> = (0..RELAYS)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_rustok"))
                .args(["--db", &db.url, "--json", "outbox", "relay"])
                .env("RUSTOK_DATA_DIR", data.path())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start relay")
        })
        .collect();
    let mut delivered = Vec::new();
    let mut duplicates = 0;
    for child in children {
        let out = child.wait_with_output().expect("relay finishes");
        assert!(
            out.status.success(),
            "relay failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: Value = serde_json::from_slice(&out.stdout).expect("one JSON report");
        delivered.push(report["delivered"].as_u64().unwrap());
        duplicates += report["duplicates"].as_u64().unwrap();
    }
    let elapsed = started.elapsed();
    let total: u64 = delivered.iter().sum();
    let counts = store.outbox_counts(None).await.unwrap();
    let receipts = store.receipt_count(Some("bus")).await.unwrap();
    eprintln!(
        "{}: {RELAYS} relay processes delivered {total} events in {:.2} s ({:.0} events/s); per relay {delivered:?}; duplicates {duplicates}",
        if db.is_postgres() {
            "postgres"
        } else {
            "sqlite"
        },
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64()
    );
    assert_eq!(duplicates, 0, "no relay reported a duplicate delivery");
    assert_eq!(
        total, EVENTS as u64,
        "each event delivered by exactly one relay"
    );
    assert_eq!(receipts, EVENTS as u64, "one receipt per event");
    assert_eq!(counts.pending, 0);
    assert_eq!(counts.failed, 0);
    assert_eq!(counts.dispatched, EVENTS as u64);
    assert!(elapsed < Duration::from_secs(60), "took {elapsed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_relays_exactly_once_postgres() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    four_relay_processes_deliver_each_event_exactly_once(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_relays_exactly_once_sqlite() {
    four_relay_processes_deliver_each_event_exactly_once(TestDb::sqlite()).await;
}

/// A claim that outlives its lease: another relay takes the rows over and delivers them; the
/// late relay's completion marks nothing and its receipts are reported as duplicates — never
/// written twice.
async fn an_expired_claim_is_reported_as_duplicates(db: TestDb) {
    use rustok_store::Receipt;
    let store = Store::connect(&db.url).await.expect("connect");
    seed_pending(&store, 10).await;
    let now = chrono::Utc::now().timestamp_millis();
    let slow = store.claim_batch(100, now, 1_000).await.unwrap();
    assert_eq!(slow.events.len(), 10);
    assert!(
        store
            .claim_batch(100, now, 1_000)
            .await
            .unwrap()
            .events
            .is_empty()
    );
    let late = store.claim_batch(100, now + 2_000, 1_000).await.unwrap();
    assert_eq!(
        late.events.len(),
        10,
        "the lease expired: rows are claimable again"
    );
    let receipts = |b: &rustok_store::RelayBatch| -> Vec<Receipt> {
        b.events
            .iter()
            .map(|e| Receipt {
                consumer: "bus".into(),
                event_id: e.envelope.id,
                seq: e.seq,
            })
            .collect()
    };
    let seqs = |b: &rustok_store::RelayBatch| b.events.iter().map(|e| e.seq).collect::<Vec<_>>();
    let r = store
        .complete_batch(
            late.token,
            &receipts(&late),
            &seqs(&late),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!((r.dispatched, r.receipts, r.duplicates), (10, 10, 0));
    let r = store
        .complete_batch(
            slow.token,
            &receipts(&slow),
            &seqs(&slow),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!((r.dispatched, r.receipts, r.duplicates), (0, 0, 10));
    let ids: Vec<_> = slow.events.iter().map(|e| e.envelope.id).collect();
    assert_eq!(store.receipts_for(&["bus"], &ids).await.unwrap().len(), 10);
    assert_eq!(store.receipt_count(None).await.unwrap(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_claims_postgres() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    an_expired_claim_is_reported_as_duplicates(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_claims_sqlite() {
    an_expired_claim_is_reported_as_duplicates(TestDb::sqlite()).await;
}
