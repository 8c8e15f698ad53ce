//! The seed's event flow scenarios (Sprint 4, Task 4.1 §4): outbox → relay → bus, on SQLite
//! and on PostgreSQL. Where the seed left a placeholder, this is the real test.

use crate::support;
use rustok_domain::command::NodeTransition;

use chrono::Utc;
use rustok::runtime::{Bus, Consumer, Relay, RelayConfig, backoff};
use rustok_domain::content::{NodeAction, NodeKind, NodePatch, NodeStatus};
use rustok_domain::event::{Deduplicator, DomainEvent, EventEnvelope};
use rustok_domain::{Command, DomainError, EventId};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use support::fixtures::{draft, draft_with, node_created_envelope, translation};
use support::{TestApp, wait_until_async};
use uuid::Uuid;

on_both_backends!(
    test_event_propagation,
    test_event_outbox_persistence,
    test_event_relay,
    test_event_ordering,
    test_event_correlation,
    test_event_error_handling,
    test_cross_module_events,
    test_event_tenant_isolation,
    test_event_validation,
    test_event_payload_size,
    test_event_replay,
    test_event_deduplication,
    test_event_batching,
);

async fn test_event_propagation(app: TestApp) {
    let relay = app.spawn_relay();
    let node = app.create_node(draft("Live")).await.unwrap();
    let seen = app
        .wait_for(Duration::from_secs(5), |e| {
            e.event_type == "node.created" && e.aggregate_id == node.id.as_uuid()
        })
        .await;
    relay.stop().await;
    let seen = seen.expect("node.created reaches a bus subscriber");
    assert_eq!(seen.tenant_id, app.tenant.id);
}

async fn test_event_outbox_persistence(app: TestApp) {
    let node = app.create_node(draft("Persisted")).await.unwrap();
    let stored = app.events_for(node.id.as_uuid()).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].envelope.event_type, "node.created");
    assert_eq!(stored[0].status, "pending", "committed, not yet relayed");
    app.relay_and_capture().await;
    let stored = app.events_for(node.id.as_uuid()).await;
    assert_eq!(stored[0].status, "dispatched");
    assert!(stored[0].dispatched_at.is_some());
    let counts = app.store.outbox_counts(None).await.unwrap();
    assert_eq!((counts.pending, counts.failed), (0, 0));
}

async fn test_event_relay(app: TestApp) {
    app.relay_and_capture().await; // the tenant's own event
    let a = app.create_node(draft("One")).await.unwrap();
    let b = app.create_node(draft("Two")).await.unwrap();
    app.publish_node(a.id).await.unwrap();
    let got = app.relay_and_capture().await;
    let got: Vec<(Uuid, &str)> = got
        .iter()
        .map(|e| (e.aggregate_id, e.event_type.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (a.id.as_uuid(), "node.created"),
            (b.id.as_uuid(), "node.created"),
            (a.id.as_uuid(), "node.published"),
        ]
    );
    assert!(
        app.relay_and_capture().await.is_empty(),
        "nothing is delivered twice"
    );
}

async fn test_event_ordering(app: TestApp) {
    let node = app.create_node(draft("Order")).await.unwrap();
    app.exec(Command::UpdateNode {
        id: node.id,
        patch: NodePatch {
            body: Some("edited".into()),
            ..Default::default()
        },
        expected_version: None,
    })
    .await
    .unwrap();
    app.publish_node(node.id).await.unwrap();
    let stored = app.events_for(node.id.as_uuid()).await;
    let types: Vec<&str> = stored
        .iter()
        .map(|e| e.envelope.event_type.as_str())
        .collect();
    assert_eq!(types, ["node.created", "node.updated", "node.published"]);
    assert!(stored.windows(2).all(|w| w[0].seq < w[1].seq));
    assert!(
        stored
            .windows(2)
            .all(|w| w[0].envelope.id < w[1].envelope.id),
        "UUIDv7 ids are time-ordered"
    );
    assert!(
        stored
            .windows(2)
            .all(|w| w[0].envelope.occurred_at <= w[1].envelope.occurred_at)
    );
    let delivered: Vec<EventId> = app
        .relay_and_capture()
        .await
        .iter()
        .filter(|e| e.aggregate_id == node.id.as_uuid())
        .map(|e| e.id)
        .collect();
    assert_eq!(
        delivered,
        stored.iter().map(|e| e.envelope.id).collect::<Vec<_>>()
    );
}

async fn test_event_correlation(app: TestApp) {
    let node = app.create_node(draft("Correlated")).await.unwrap();
    let applied = app
        .exec(Command::NodeStatus(NodeTransition {
            id: node.id,
            action: NodeAction::Publish,
            expected_version: None,
        }))
        .await
        .unwrap();
    let stored = app.events_for(node.id.as_uuid()).await;
    assert_eq!(stored.len(), 2);
    for e in &stored {
        assert_eq!(e.envelope.aggregate_id, node.id.as_uuid());
        assert_eq!(e.envelope.aggregate_type, "node");
        assert_eq!(e.envelope.actor, "tester");
        // One event per command here, so the correlation id defaults to the event's own id.
        assert_eq!(e.envelope.correlation_id, e.envelope.id.as_uuid());
    }
    assert_eq!(
        stored[1].envelope.causation_id,
        Some(applied.command_id.as_uuid())
    );
    assert_eq!(applied.events[0].id, stored[1].envelope.id);

    // A correlation id given with the command is carried by its events.
    let correlation = Uuid::now_v7();
    let mut env = rustok_domain::CommandEnvelope::new(
        app.tenant.id,
        app.actor.clone(),
        Command::NodeStatus(NodeTransition {
            id: node.id,
            action: NodeAction::Unpublish,
            expected_version: None,
        }),
    );
    env.correlation_id = Some(correlation);
    let applied = app.queue.execute(env).await.unwrap();
    assert_eq!(applied.events[0].correlation_id, correlation);
}

/// A consumer that fails a given number of times before it succeeds.
struct Flaky {
    failures_left: AtomicU32,
    handled: Mutex<Vec<EventId>>,
}

impl Consumer for Flaky {
    fn name(&self) -> &str {
        "flaky"
    }
    fn handle(&self, e: &EventEnvelope) -> Result<(), String> {
        if self
            .failures_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err("search index unavailable".into());
        }
        self.handled.lock().unwrap().push(e.id);
        Ok(())
    }
}

async fn test_event_error_handling(app: TestApp) {
    app.relay_and_capture().await; // deliver the tenant event first
    let node = app.create_node(draft("Fragile")).await.unwrap();
    let flaky = std::sync::Arc::new(Flaky {
        failures_left: AtomicU32::new(u32::MAX),
        handled: Mutex::default(),
    });
    // No waiting between attempts, so five attempts run now; the schedule itself is
    // checked below against the production configuration.
    let cfg = RelayConfig {
        base_backoff: Duration::ZERO,
        ..RelayConfig::default()
    };
    let relay = Relay::new(app.store.clone(), Bus::new(16), cfg).with_consumer(flaky.clone());
    for attempt in 1..=5 {
        let pass = relay.run_once().await.unwrap();
        let row = &app.events_for(node.id.as_uuid()).await[0];
        assert_eq!(row.attempts, attempt);
        assert_eq!(
            row.last_error.as_deref(),
            Some("flaky: search index unavailable")
        );
        if attempt < 5 {
            assert_eq!((pass.retried, row.status.as_str()), (1, "pending"));
        } else {
            assert_eq!(
                (pass.dead_lettered, row.status.as_str()),
                (1, "failed"),
                "dead letter after 5 attempts"
            );
        }
    }
    assert_eq!(
        relay.run_once().await.unwrap().claimed(),
        0,
        "dead letters are not retried on their own"
    );
    assert_eq!(app.store.outbox_counts(None).await.unwrap().failed, 1);

    // Retrying a dead letter after the consumer recovers delivers it.
    flaky.failures_left.store(0, Ordering::SeqCst);
    let requeued = app
        .exec(rustok_domain::Command::RetryDeadLetters { ids: vec![] })
        .await
        .unwrap();
    assert_eq!(requeued.outcome, rustok_store::Outcome::Requeued(1));
    assert_eq!(relay.drain().await.unwrap().delivered, 1);
    let expected = vec![app.events_for(node.id.as_uuid()).await[0].envelope.id];
    assert_eq!(*flaky.handled.lock().unwrap(), expected);

    // With the production schedule a failed row waits 1 s, then 2 s, 4 s ... capped at 60 s.
    let prod = RelayConfig::default();
    flaky.failures_left.store(1, Ordering::SeqCst);
    let relay =
        Relay::new(app.store.clone(), Bus::new(16), prod.clone()).with_consumer(flaky.clone());
    app.publish_node(node.id).await.unwrap();
    let failed_at = std::time::Instant::now(); // no later than the failure the backoff counts from
    assert_eq!(relay.run_once().await.unwrap().retried, 1);
    assert_eq!(
        relay.run_once().await.unwrap().claimed(),
        0,
        "backoff: not retried at once"
    );
    // The relay is asked again and again: it delivers once the 1 s backoff has passed, and not
    // before.
    let mut delivered = 0;
    let redelivered = wait_until_async(Duration::from_secs(10), async || {
        delivered = relay.run_once().await.unwrap().delivered;
        delivered > 0
    })
    .await;
    let waited = failed_at.elapsed();
    assert!(
        redelivered && delivered == 1,
        "retried after the 1 s backoff"
    );
    assert!(
        waited >= Duration::from_millis(990), // the relay's clock is read to the millisecond
        "retried after {waited:?}, before the 1 s backoff"
    );
    assert_eq!(backoff(2, &prod), Duration::from_secs(2));
    assert_eq!(backoff(10, &prod), Duration::from_secs(60));
}

async fn test_cross_module_events(app: TestApp) {
    // The tenant module and the content module both publish through the same outbox.
    let other = app.create_tenant("second").await;
    let node = app.create_node(draft("Content")).await.unwrap();
    let got = app.relay_and_capture().await;
    assert!(
        got.iter()
            .any(|e| e.event_type == "tenant.created" && e.aggregate_id == other.id.as_uuid())
    );
    assert!(
        got.iter()
            .any(|e| e.event_type == "node.created" && e.aggregate_id == node.id.as_uuid())
    );
}

async fn test_event_tenant_isolation(app: TestApp) {
    let t2 = app.create_tenant("tenant-two").await;
    let n1 = app.create_node(draft("Mine")).await.unwrap();
    let applied = app
        .exec_in(&t2, Command::CreateNode(draft("Theirs")))
        .await
        .unwrap();
    let rustok_store::Outcome::Node(n2) = applied.outcome else {
        panic!("node")
    };
    let list = |t| {
        let store = app.store.clone();
        async move {
            store
                .list_events(&rustok_store::EventFilter {
                    tenant_id: Some(t),
                    ..Default::default()
                })
                .await
                .unwrap()
        }
    };
    let e1 = list(app.tenant.id).await;
    let e2 = list(t2.id).await;
    assert!(e1.iter().all(|e| e.envelope.tenant_id == app.tenant.id));
    assert!(e2.iter().all(|e| e.envelope.tenant_id == t2.id));
    assert!(
        e1.iter()
            .any(|e| e.envelope.aggregate_id == n1.id.as_uuid())
    );
    assert!(
        !e1.iter()
            .any(|e| e.envelope.aggregate_id == n2.id.as_uuid())
    );
    assert!(
        !e2.iter()
            .any(|e| e.envelope.aggregate_id == n1.id.as_uuid())
    );
    // On the bus every event says which tenant it belongs to.
    for e in app.relay_and_capture().await {
        let expected = if e.aggregate_id == n2.id.as_uuid() || e.aggregate_id == t2.id.as_uuid() {
            t2.id
        } else {
            app.tenant.id
        };
        assert_eq!(e.tenant_id, expected, "{}", e.event_type);
    }
}

async fn test_event_validation(app: TestApp) {
    app.create_node(draft("Valid")).await.unwrap();
    let stored = app.outbox_events().await;
    assert!(!stored.is_empty());
    for e in &stored {
        e.envelope.validate().expect("every stored event is valid");
    }
    let good = node_created_envelope();
    good.validate().unwrap();
    type Tamper = Box<dyn Fn(&mut EventEnvelope)>;
    let cases: Vec<(&str, Tamper)> = vec![
        (
            "nil id",
            Box::new(|e| e.id = EventId::from_uuid(Uuid::nil())),
        ),
        (
            "nil tenant",
            Box::new(|e| e.tenant_id = rustok_domain::TenantId::from_uuid(Uuid::nil())),
        ),
        ("nil aggregate", Box::new(|e| e.aggregate_id = Uuid::nil())),
        ("empty actor", Box::new(|e| e.actor = " ".into())),
        (
            "unregistered type",
            Box::new(|e| e.event_type = "node.exploded".into()),
        ),
        ("wrong version", Box::new(|e| e.schema_version = 2)),
        ("zero version", Box::new(|e| e.schema_version = 0)),
        (
            "wrong aggregate type",
            Box::new(|e| e.aggregate_type = "order".into()),
        ),
        (
            "bad payload",
            Box::new(|e| e.payload = serde_json::json!({"title": 5})),
        ),
    ];
    for (what, tamper) in cases {
        let mut e = good.clone();
        tamper(&mut e);
        let err = e.validate().expect_err(what);
        assert!(matches!(err, DomainError::InvalidEvent(_)), "{what}: {err}");
    }
}

async fn test_event_payload_size(app: TestApp) {
    let body = "b".repeat(1_000_000);
    let node = app
        .create_node(draft_with(
            NodeKind::Article,
            "Huge",
            &body,
            rustok_domain::content::BodyFormat::Plain,
        ))
        .await
        .unwrap();
    let e = &app.events_for(node.id.as_uuid()).await[0];
    let size = e.envelope.payload.to_string().len();
    assert!(
        size < 1024,
        "events carry facts, not 1 MB bodies (payload is {size} bytes)"
    );
    assert_eq!(
        app.relay_and_capture()
            .await
            .iter()
            .filter(|x| x.aggregate_id == node.id.as_uuid())
            .count(),
        1
    );
}

async fn test_event_replay(app: TestApp) {
    let node = app.create_node(draft("Replayed")).await.unwrap();
    app.add_translation(node.id, translation("fr", "Rejoué"))
        .await
        .unwrap();
    app.publish_node(node.id).await.unwrap();
    app.transition(node.id, NodeAction::Archive).await.unwrap();
    app.relay_and_capture().await;
    // Replaying the stored history (all of it, already dispatched) rebuilds the node's state.
    let mut status = None;
    let mut version = 0;
    let mut locales = HashSet::new();
    for e in app.events_for(node.id.as_uuid()).await {
        match e.envelope.decode().unwrap() {
            DomainEvent::NodeCreated(c) => {
                status = Some(NodeStatus::Draft);
                version = c.version;
                locales.insert(c.locale);
            }
            DomainEvent::NodeTranslationUpdated(t) => {
                version = t.version;
                locales.insert(t.locale);
            }
            DomainEvent::NodePublished(p) => {
                (status, version) = (Some(NodeStatus::Published), p.version)
            }
            DomainEvent::NodeArchived(a) => {
                (status, version) = (Some(NodeStatus::Archived), a.version)
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    let stored = app.get_node(node.id).await.unwrap();
    assert_eq!(status, Some(stored.status));
    assert_eq!(version, stored.version);
    assert_eq!(locales, stored.locales().into_iter().collect());
}

async fn test_event_deduplication(app: TestApp) {
    let node = app.create_node(draft("Once")).await.unwrap();
    let created: Vec<_> = app
        .events_for(node.id.as_uuid())
        .await
        .into_iter()
        .filter(|e| e.envelope.event_type == "node.created")
        .collect();
    assert_eq!(created.len(), 1, "exactly one node.created");

    // A relay that claims a batch and dies before marking it dispatched: after the lease
    // expires another relay delivers the same rows again, and consumers drop the repeats.
    let now = Utc::now().timestamp_millis();
    let crashed = app.store.claim_batch(100, now, 50).await.unwrap();
    assert!(!crashed.events.is_empty());
    assert_eq!(
        app.store
            .claim_batch(100, now, 50)
            .await
            .unwrap()
            .events
            .len(),
        0,
        "claimed rows are leased"
    );
    let again = app.store.claim_batch(100, now + 51, 50).await.unwrap();
    let ids =
        |b: &rustok_store::RelayBatch| b.events.iter().map(|e| e.envelope.id).collect::<Vec<_>>();
    assert_eq!(ids(&again), ids(&crashed), "an expired lease is taken over");
    let mut dedup = Deduplicator::new(1024);
    let delivered: Vec<EventId> = ids(&crashed)
        .into_iter()
        .chain(ids(&again))
        .filter(|id| dedup.first_seen(*id))
        .collect();
    assert_eq!(delivered, ids(&crashed));
    assert_eq!(dedup.duplicates() as usize, crashed.events.len());
}

async fn test_event_batching(app: TestApp) {
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            app.create_node(draft(&format!("Batch {i}")))
                .await
                .unwrap()
                .id,
        );
    }
    // More than one relay batch (256) of events, to cross a batch boundary.
    for i in 0..300 {
        app.create_node(draft(&format!("Bulk {i}"))).await.unwrap();
    }
    let stored = app.outbox_events().await;
    assert_eq!(
        stored
            .iter()
            .filter(|e| e.envelope.event_type == "node.created")
            .count(),
        305
    );
    let got = app.relay_and_capture().await;
    assert_eq!(got.len(), stored.len(), "no event lost");
    let mut per_id: HashMap<EventId, usize> = HashMap::new();
    for e in &got {
        *per_id.entry(e.id).or_default() += 1;
    }
    assert!(per_id.values().all(|n| *n == 1), "no event duplicated");
    assert!(
        got.windows(2).all(|w| w[0].id < w[1].id),
        "delivered oldest first"
    );
    for id in ids {
        assert!(got.iter().any(|e| e.aggregate_id == id.as_uuid()));
    }
    assert_eq!(app.store.outbox_counts(None).await.unwrap().pending, 0);
}
