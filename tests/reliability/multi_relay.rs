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

/// Issue 20: due schedules execute exactly once with several relaying processes on one
/// database. 40 nodes scheduled for the same second by an editor; two running relays
/// (`outbox relay --follow`, as a console or `serve` runs it) publish them all, each once,
/// each as the editor, each with one audit row; then 40 more, already due, raced by two
/// one-shot `outbox relay` processes started together: the reports add up to 40.
async fn due_schedules_run_once_across_processes(db: TestDb) {
    use rustok_domain::content::NodeStatus;
    use rustok_domain::rbac::Role;
    use rustok_domain::staff::StaffDraft;
    use rustok_domain::{Actor, Command as Cmd, CommandEnvelope, NodeId, StaffId};
    use rustok_store::{NodeFilter, Outcome, SCHEDULER_SESSION};
    const N: usize = 40;
    let store = Store::connect(&db.url).await.expect("connect");
    let create = support::fixtures::create_tenant("acme");
    let Cmd::CreateTenant { id: tenant, .. } = &create else {
        unreachable!()
    };
    let tenant = *tenant;
    let exec = async |actor: &str, tenant_id, c: Cmd| {
        store
            .execute(
                &CommandEnvelope::new(tenant_id, Actor::new(actor), c),
                chrono::Utc::now(),
            )
            .await
            .expect("command")
    };
    exec("owner", tenant, create.clone()).await;
    exec(
        "owner",
        tenant,
        Cmd::AddStaff(StaffDraft {
            id: StaffId::new_v7(),
            handle: "ed".into(),
            display_name: None,
            role: Role::Editor,
            ssh_keys: vec![],
            mfa_enabled: false,
        }),
    )
    .await;
    let schedule_batch = async |label: &str, secs: i64| -> Vec<NodeId> {
        let at = chrono::Utc::now() + chrono::Duration::seconds(secs);
        let mut ids = Vec::new();
        for i in 0..N {
            let applied = exec(
                "ed",
                tenant,
                Cmd::CreateNode(support::fixtures::draft(&format!("{label} {i}"))),
            )
            .await;
            let Outcome::Node(n) = applied.outcome else {
                panic!("a node")
            };
            exec(
                "ed",
                tenant,
                Cmd::ScheduleNode {
                    id: n.id,
                    // All due together, unless creating the batch took longer than `secs`
                    // (a loaded machine): then each still lies in the future when scheduled.
                    publish_at: Some(at.max(chrono::Utc::now() + chrono::Duration::seconds(2))),
                    unpublish_at: None,
                },
            )
            .await;
            ids.push(n.id);
        }
        ids
    };
    let published = async || {
        store
            .list_nodes(
                tenant,
                &NodeFilter {
                    status: Some(NodeStatus::Published),
                    limit: 1000,
                    ..NodeFilter::default()
                },
            )
            .await
            .unwrap()
            .total
    };
    let data = tempfile::tempdir().unwrap();
    let relay = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_rustok"))
            .args(["--db", &db.url, "--json", "outbox", "relay"])
            .args(args)
            .env("RUSTOK_DATA_DIR", data.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start relay")
    };

    // Two running relays, the schedules due a few seconds after they start.
    let followers = [relay(&["--follow"]), relay(&["--follow"])];
    schedule_batch("Running", 3).await;
    assert!(
        support::wait_until_async(Duration::from_secs(60), async || published().await
            == N as u64)
        .await,
        "the running relays published every scheduled node"
    );
    assert!(
        support::wait_until_async(Duration::from_secs(20), async || store
            .agenda(tenant, 10)
            .await
            .unwrap()
            .is_empty())
        .await
    );
    for child in followers {
        // SAFETY: signalling our own child process by its id.
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        let out = child.wait_with_output().expect("relay exits");
        assert!(
            out.status.success(),
            "relay failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // Two one-shot relays started together on schedules already due.
    let ids = schedule_batch("Raced", 2).await;
    assert!(
        support::wait_until_async(Duration::from_secs(20), async || store
            .due_schedules(chrono::Utc::now(), 1000)
            .await
            .unwrap()
            .len()
            == N)
        .await
    );
    let racers = [relay(&[]), relay(&[])];
    let mut executed = 0;
    for child in racers {
        let out = child.wait_with_output().expect("relay finishes");
        assert!(
            out.status.success(),
            "relay failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: Value = serde_json::from_slice(&out.stdout).expect("one JSON report");
        executed += report["schedules"]["executed"].as_u64().unwrap();
        assert_eq!(report["schedules"]["refused"], 0);
    }
    assert_eq!(
        executed, N as u64,
        "each due schedule executed by exactly one"
    );
    for id in ids {
        assert_eq!(
            store.node(tenant, id).await.unwrap().unwrap().status,
            NodeStatus::Published
        );
    }

    // Exactly once: one publication, one event, one audit row per node.
    assert_eq!(published().await, 2 * N as u64);
    let audit: Vec<_> = store
        .audit_log(0, 10_000)
        .await
        .unwrap()
        .rows
        .into_iter()
        .filter(|e| e.session.as_deref() == Some(SCHEDULER_SESSION))
        .collect();
    assert_eq!(audit.len(), 2 * N, "one audit row per executed schedule");
    assert!(
        audit
            .iter()
            .all(|e| e.actor == "ed" && e.command == "publish_node")
    );
    let events = store
        .list_events(&rustok_store::EventFilter {
            tenant_id: Some(tenant),
            limit: 100_000,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.envelope.event_type == "node.published")
            .count(),
        2 * N,
        "one node.published per node"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_exactly_once_postgres() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    due_schedules_run_once_across_processes(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_exactly_once_sqlite() {
    due_schedules_run_once_across_processes(TestDb::sqlite()).await;
}
