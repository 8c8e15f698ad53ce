//! Housekeeping (store/src/housekeeping.rs): the command log and the receipts of dispatched
//! events are deleted once older than the retention, on SQLite and on PostgreSQL; what a retry
//! can still need is kept, and a command is still applied at most once.

use crate::support;

use chrono::Utc;
use rustok::runtime::{Bus, Consumer, Relay, RelayConfig};
use rustok_domain::event::EventEnvelope;
use rustok_domain::{Command, CommandEnvelope, DomainError};
use rustok_store::{Pruned, StoreError};
use std::sync::Arc;
use std::time::Duration;
use support::app::test_relay_config;
use support::fixtures::draft;
use support::{TestApp, wait_until, wait_until_async};
use tokio::sync::watch;

on_both_backends!(
    test_old_history_is_pruned_and_what_a_retry_needs_is_kept,
    test_a_running_relay_prunes_and_no_retention_keeps_everything,
);

struct Named(&'static str, bool);

impl Consumer for Named {
    fn name(&self) -> &str {
        self.0
    }
    fn handle(&self, _: &EventEnvelope) -> Result<(), String> {
        if self.1 {
            Ok(())
        } else {
            Err("consumer down".into())
        }
    }
}

/// The first reading of the clock at least a millisecond after `t` (the store keeps times to
/// the millisecond on SQLite).
fn later_than(t: chrono::DateTime<Utc>) -> chrono::DateTime<Utc> {
    let mut now = Utc::now();
    assert!(
        wait_until(Duration::from_secs(1), || {
            now = Utc::now();
            now - t >= chrono::Duration::milliseconds(1)
        }),
        "the clock did not move"
    );
    now
}

fn create(app: &TestApp, title: &str) -> CommandEnvelope {
    CommandEnvelope::new(
        app.tenant.id,
        app.actor.clone(),
        Command::CreateNode(draft(title)),
    )
}

async fn test_old_history_is_pruned_and_what_a_retry_needs_is_kept(app: TestApp) {
    // Before the cutoff: a node created, its events (and the tenant's) delivered.
    let old = create(&app, "Old");
    app.store.execute(&old, Utc::now()).await.unwrap();
    app.relay.drain().await.unwrap();
    let old_receipts = app.store.receipt_count(None).await.unwrap();
    assert!(old_receipts >= 1);
    // A cutoff strictly between the two nodes' times: the clock is read until it has moved on
    // (a time gap is what this test is about, not a wait for something to happen).
    let cutoff = later_than(Utc::now());
    let _ = later_than(cutoff);
    // After it: another node, delivered too.
    let recent = create(&app, "Recent");
    let recent_applied = app.store.execute(&recent, Utc::now()).await.unwrap();
    app.relay.drain().await.unwrap();
    let all_receipts = app.store.receipt_count(None).await.unwrap();
    assert!(all_receipts > old_receipts);

    let bus_delivered = async || {
        let stats = app.store.consumer_stats(Some("bus"), Utc::now()).await;
        stats.unwrap()[0].delivered
    };
    let delivered_before = bus_delivered().await;
    assert!(delivered_before >= old_receipts);

    // One row per statement: the chunks follow one another until nothing old is left.
    let pruned = app.store.prune_history_chunked(cutoff, 1).await.unwrap();
    // What `outbox consumers` says the bus delivered does not go down with the receipts.
    assert_eq!(bus_delivered().await, delivered_before);
    // The tenant's creation and "Old" were committed before the cutoff.
    assert_eq!(
        pruned,
        Pruned {
            command_log: 2,
            receipts: old_receipts
        }
    );
    assert_eq!(app.store.command_outcome(&old).await.unwrap(), None);
    assert_eq!(
        app.store.command_outcome(&recent).await.unwrap().as_ref(),
        Some(&recent_applied)
    );
    assert_eq!(
        app.store.receipt_count(None).await.unwrap(),
        all_receipts - old_receipts
    );
    // Pruning again finds nothing more.
    assert_eq!(
        app.store.prune_history(cutoff).await.unwrap(),
        Pruned::default()
    );

    // A retry within the retention is answered from the log; one after it runs again and is
    // refused (the node exists). Either way the command is applied once.
    assert_eq!(
        app.store.execute(&recent, Utc::now()).await.unwrap(),
        recent_applied
    );
    match app.store.execute(&old, Utc::now()).await {
        Err(StoreError::Domain(DomainError::Duplicate { .. })) => {}
        other => panic!("a retry of a pruned create must be refused as a duplicate: {other:?}"),
    }
    assert_eq!(app.node_count().await, 2);

    // The receipts of an event that is not dispatched stay, however old: a consumer had it,
    // another did not, so a later delivery must skip the first.
    let relay = Relay::new(app.store.clone(), Bus::new(16), test_relay_config())
        .with_consumer(Arc::new(Named("accepts", true)))
        .with_consumer(Arc::new(Named("refuses", false)));
    app.store
        .execute(&create(&app, "Stuck"), Utc::now())
        .await
        .unwrap();
    let pass = relay.run_once().await.unwrap();
    assert_eq!((pass.delivered, pass.retried), (0, 1));
    assert_eq!(app.store.receipt_count(Some("accepts")).await.unwrap(), 1);
    let later = Utc::now() + chrono::Duration::minutes(1);
    let pruned = app.store.prune_history(later).await.unwrap();
    assert_eq!(pruned.command_log, 2, "\"Recent\" and \"Stuck\"");
    // The bus does not wait for a failing consumer (issue 19): it had the stuck event at once,
    // and that receipt is kept with the other consumer's.
    assert_eq!(
        app.store.receipt_count(Some("bus")).await.unwrap(),
        1,
        "the pending event's bus receipt is kept"
    );
    assert_eq!(
        app.store.receipt_count(Some("accepts")).await.unwrap(),
        1,
        "the pending event's receipt is kept"
    );
}

async fn test_a_running_relay_prunes_and_no_retention_keeps_everything(app: TestApp) {
    // No retention: nothing is ever deleted.
    let kept = create(&app, "Kept");
    app.store.execute(&kept, Utc::now()).await.unwrap();
    let keep_all = Relay::new(
        app.store.clone(),
        Bus::new(16),
        RelayConfig {
            retention: None,
            ..test_relay_config()
        },
    );
    keep_all.drain().await.unwrap();
    assert_eq!(keep_all.prune().await.unwrap(), Pruned::default());
    assert!(app.store.command_outcome(&kept).await.unwrap().is_some());

    // A running relay with a short retention prunes when idle, and again every `prune_every`.
    let relay = Arc::new(Relay::new(
        app.store.clone(),
        Bus::new(16),
        RelayConfig {
            retention: Some(Duration::from_millis(200)),
            prune_every: Duration::from_millis(50),
            ..test_relay_config()
        },
    ));
    let (stop, stop_rx) = watch::channel(false);
    let task = tokio::spawn({
        let relay = relay.clone();
        async move { relay.run(stop_rx).await }
    });
    let later = create(&app, "Later");
    app.store.execute(&later, Utc::now()).await.unwrap();
    let pruned = wait_until_async(Duration::from_secs(10), async || {
        app.store.command_outcome(&later).await.unwrap().is_none()
            && app.store.command_outcome(&kept).await.unwrap().is_none()
            && app.store.receipt_count(None).await.unwrap() == 0
    })
    .await;
    assert!(pruned, "the running relay did not prune");
    stop.send(true).unwrap();
    task.await.unwrap();
    // The nodes themselves and their events are history, and stay.
    assert_eq!(app.node_count().await, 2);
    assert!(app.outbox_events().await.len() >= 3);
}
