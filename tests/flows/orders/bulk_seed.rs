//! The bulk seed (`rustok seed --demo --scale N`): what it writes reads back as commands' rows,
//! and a dropped seed keeps whole transactions.

use super::count;
use crate::support;
use rustok_domain::{Currency, Money, OrderStatus};
use rustok_store::{Backend, OrderFilter};
use support::TestApp;
use support::fixtures::{order, product};

on_both_backends!(
    test_bulk_seed_writes_what_the_commands_would,
    test_bulk_seed_dropped_keeps_whole_transactions,
    test_bulk_seed_twice_adds_rows_again,
);

/// Seeding a tenant again adds as many rows again: the second run's slugs are its own (it was
/// refused with the database's raw unique-constraint error).
async fn test_bulk_seed_twice_adds_rows_again(app: TestApp) {
    app.create_product(product("BULK-2", "1.00", 1_000))
        .await
        .unwrap();
    let before = app.node_count().await;
    for _ in 0..2 {
        let report = app
            .store
            .seed_bulk(app.tenant.id, 12, &["BULK-2".to_string()], |_, _| {})
            .await
            .unwrap();
        assert_eq!((report.nodes, report.orders), (12, 12));
    }
    assert_eq!(app.node_count().await, before + 24);
    assert_eq!(app.orders(OrderFilter::default()).await.len(), 24);
}

/// The bulk path (`rustok seed --demo --scale N`) writes through the driver directly; what it
/// writes must read back through the store exactly as rows written by commands do: nodes with
/// their translations (and searchable), orders with their items, valid pending events.
async fn test_bulk_seed_writes_what_the_commands_would(app: TestApp) {
    app.create_product(product("BULK-1", "2.50", 1_000))
        .await
        .unwrap();
    let nodes_before = app.node_count().await;
    let events_before = app.outbox_events().await.len();
    let report = app
        .store
        .seed_bulk(app.tenant.id, 45, &["BULK-1".to_string()], |_, _| {})
        .await
        .unwrap();
    assert_eq!((report.nodes, report.orders, report.events), (45, 45, 90));
    assert_eq!(app.node_count().await, nodes_before + 45);
    let orders = app.orders(OrderFilter::default()).await;
    assert_eq!(orders.len(), 45);
    // Every order reads back whole: status, items, total (1 + i % 3 units of 2.50).
    for summary in &orders {
        let o = app.get_order(summary.id).await.expect("seeded order");
        assert_eq!(o.status, OrderStatus::Pending);
        assert_eq!(o.items.len(), 1);
        assert_eq!(o.items[0].sku, "BULK-1");
        assert!((1..=3).contains(&o.items[0].quantity));
        assert_eq!(
            o.total,
            Money::new(250 * o.items[0].quantity, Currency::USD)
        );
        assert_eq!(
            o.customer.as_deref().map(|c| c.ends_with("@example.com")),
            Some(true)
        );
    }
    // Every event is stored pending, parses and validates; one per node and one per order.
    let events = app.outbox_events().await;
    let seeded = &events[events_before..];
    assert_eq!(seeded.len(), 90);
    assert!(
        seeded
            .iter()
            .all(|e| e.status == "pending" && e.attempts == 0)
    );
    for e in seeded {
        e.envelope.validate().unwrap();
    }
    assert_eq!(
        seeded
            .iter()
            .filter(|e| e.envelope.event_type == "order.placed")
            .count(),
        45
    );
    // The nodes are searchable and read back with their translations.
    let hits = app.search_nodes("seeded body").await;
    assert_eq!(hits.len(), 45);
    let node = app.get_node(hits[0].node_id).await.expect("seeded node");
    assert_eq!(node.translations.len(), 1);
    assert_eq!(node.translations[0].title, hits[0].title);
    assert_eq!(node.translations[0].slug, hits[0].slug);
    // Stored byte for byte as commands store them: on SQLite the seed writes through SQLite's
    // C API, not sea-orm, so each row must be found by the values the store read back, bound
    // the way sea-orm binds them (UUIDs as 16-byte BLOBs, timestamps as sqlx's text, payloads
    // as compact JSON). Text comparison in SQL is exact; on PostgreSQL the same checks compare
    // typed values.
    for summary in &orders {
        let o = app.get_order(summary.id).await.expect("seeded order");
        let id = o.id.as_uuid();
        let tenant = app.tenant.id.as_uuid();
        let sql = "SELECT COUNT(*) FROM orders WHERE id = $1 AND tenant_id = $2 \
                   AND placed_at = $3 AND updated_at = $4";
        let values = vec![
            id.into(),
            tenant.into(),
            o.placed_at.into(),
            o.updated_at.into(),
        ];
        assert_eq!(count(&app.store, sql, values).await, 1, "order {id}");
        let sql = "SELECT COUNT(*) FROM order_items WHERE order_id = $1 AND tenant_id = $2";
        assert_eq!(
            count(&app.store, sql, vec![id.into(), tenant.into()]).await,
            1
        );
    }
    for hit in &hits {
        let node = app.get_node(hit.node_id).await.expect("seeded node");
        let id = node.id.as_uuid();
        let sql = "SELECT COUNT(*) FROM nodes WHERE id = $1 AND tenant_id = $2 \
                   AND created_at = $3 AND updated_at = $4";
        let values = vec![
            id.into(),
            app.tenant.id.as_uuid().into(),
            node.created_at.into(),
            node.updated_at.into(),
        ];
        assert_eq!(count(&app.store, sql, values).await, 1, "node {id}");
        let t = &node.translations[0];
        let sql = "SELECT COUNT(*) FROM node_translations WHERE node_id = $1 AND locale = $2 \
                   AND updated_at = $3";
        let values = vec![id.into(), t.locale.as_str().into(), t.updated_at.into()];
        assert_eq!(count(&app.store, sql, values).await, 1, "translation {id}");
        if app.store.backend() == Backend::Sqlite {
            // The search index keys rows by the ids' text, as `search::index_translation` does.
            let sql = "SELECT COUNT(*) FROM node_search WHERE node_id = $1 AND tenant_id = $2";
            let values = vec![node.id.to_string().into(), app.tenant.id.to_string().into()];
            assert_eq!(count(&app.store, sql, values).await, 1, "search row {id}");
        }
    }
    for e in seeded {
        let env = &e.envelope;
        let sql = "SELECT COUNT(*) FROM outbox WHERE id = $1 AND tenant_id = $2 \
                   AND aggregate_id = $3 AND correlation_id = $4 AND occurred_at = $5 \
                   AND payload = $6 AND causation_id IS NULL";
        let values = vec![
            env.id.as_uuid().into(),
            env.tenant_id.as_uuid().into(),
            env.aggregate_id.into(),
            env.correlation_id.into(),
            env.occurred_at.into(),
            env.payload.to_string().into(),
        ];
        assert_eq!(count(&app.store, sql, values).await, 1, "event {}", env.id);
    }
    // The relay delivers them like any other events.
    let delivered = app.relay_and_capture().await;
    assert!(delivered.len() >= 90, "{}", delivered.len());
}

/// A bulk seed whose future is dropped (a timeout, a closing console) stops at a transaction
/// boundary: what it committed stays, whole; the open transaction rolls back; and the store
/// works afterwards (on SQLite the writer had borrowed a pooled connection's own handle, which
/// must be back in the pool, unlocked, with no transaction left open).
async fn test_bulk_seed_dropped_keeps_whole_transactions(app: TestApp) {
    app.create_product(product("BULK-2", "1.00", 1_000))
        .await
        .unwrap();
    let nodes_before = app.node_count().await;
    let orders_before = app.order_count().await;
    let events_before = app.outbox_events().await.len();
    let skus = ["BULK-2".to_string()];
    let (first_tx, first_commit) = tokio::sync::oneshot::channel();
    let mut first_tx = Some(first_tx);
    let seed = app
        .store
        .seed_bulk(app.tenant.id, 40_000, &skus, |done, _| {
            if let Some(tx) = first_tx.take() {
                let _ = tx.send(done);
            }
        });
    tokio::select! {
        r = seed => panic!("the seed ended before it was dropped: {r:?}"),
        done = first_commit => assert_eq!(done.unwrap(), 20_000),
    }
    // A command needs the write lock: it waits for the dropped seed's rollback.
    app.create_order(order(&[("BULK-2", 1)], None))
        .await
        .unwrap();
    assert_eq!(app.node_count().await, nodes_before + 20_000);
    assert_eq!(app.order_count().await, orders_before + 20_001);
    let events = app.outbox_events().await;
    assert_eq!(
        events[events_before..]
            .iter()
            .filter(|e| e.envelope.actor == "seed")
            .count(),
        40_000
    );
}
