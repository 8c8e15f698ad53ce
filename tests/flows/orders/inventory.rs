//! Products and stock: SKUs unique per tenant, adjustments and low-stock warnings, two stores
//! racing for the last unit, and a command waiting for another process's SQLite write lock.

use super::{domain, events_after, types};
use crate::support;
use chrono::Utc;
use rustok_domain::commerce::OrderCommand;
use rustok_domain::{Command, CommandEnvelope, Currency, DomainError, Money, OrderStatus};
use rustok_store::Store;
use serde_json::json;
use support::TestApp;
use support::fixtures::{order, product};

on_both_backends!(
    test_sku_unique_per_tenant,
    test_inventory_adjust_and_low_stock,
    test_last_unit_race_between_two_stores,
);

async fn test_sku_unique_per_tenant(app: TestApp) {
    let first = app
        .create_product(product("MUG", "12.50", 10))
        .await
        .unwrap();
    let before = app.outbox_events().await.len();
    let err = app
        .create_product(product("MUG", "1.00", 1))
        .await
        .unwrap_err();
    assert_eq!(domain(&err).to_string(), "sku 'MUG' already exists");
    assert_eq!(app.outbox_events().await.len(), before);
    assert_eq!(app.product_rows().await.len(), 1);

    // Two products with the same title get distinct handles.
    let mut same = product("MUG-2", "3.00", 0);
    same.title = first.title().to_string();
    let second = app.create_product(same).await.unwrap();
    assert_eq!(first.source().unwrap().handle, "product-mug");
    assert_eq!(second.source().unwrap().handle, "product-mug-2");
    // A handle asked for explicitly must be free.
    let mut taken = product("MUG-3", "3.00", 0);
    taken.handle = Some("product-mug".into());
    let err = app.create_product(taken).await.unwrap_err();
    assert_eq!(domain(&err).kind(), "duplicate");
    // Round trip: what the store gives back is what was created.
    assert_eq!(
        app.store
            .product(app.tenant.id, first.id)
            .await
            .unwrap()
            .unwrap(),
        first
    );
    assert_eq!(
        app.store
            .product_by_sku(app.tenant.id, "MUG-2")
            .await
            .unwrap()
            .unwrap(),
        second
    );
    // Prices are exact, and invalid drafts are refused.
    let mut neg = product("NEG", "1.00", -1);
    neg.stock = -1;
    assert_eq!(
        domain(&app.create_product(neg).await.unwrap_err()).field(),
        Some("stock")
    );
    assert!(
        Money::parse("19.999", Currency::USD).is_err(),
        "never rounded"
    );
}

async fn test_inventory_adjust_and_low_stock(app: TestApp) {
    let p = app
        .create_product(product("MUG", "12.50", 10))
        .await
        .unwrap();
    let seq = app.last_seq().await;
    let after = app.adjust_inventory("MUG", -6).await.unwrap();
    assert_eq!(after.id, p.id);
    assert_eq!(
        after.version, 1,
        "stock moves do not bump the catalog version"
    );
    let stock = app.stock("MUG").await;
    assert_eq!((stock.on_hand, stock.available, stock.low), (4, 4, true));
    let events = events_after(&app, seq).await;
    assert_eq!(types(&events), ["inventory.updated", "inventory.low"]);
    assert_eq!(events[0].envelope.payload["delta"], -6);
    assert_eq!(events[0].envelope.payload["reason"], "manual adjustment");
    assert_eq!(
        events[1].envelope.payload,
        json!({"sku": "MUG", "available": 4, "threshold": 5})
    );
    assert!(
        events
            .iter()
            .all(|e| e.envelope.aggregate_id == p.id.as_uuid())
    );

    let low = app
        .store
        .list_products(
            app.tenant.id,
            &rustok_store::ProductFilter {
                low_only: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(low.rows.len(), 1);
    app.create_product(product("FULL", "1.00", 100))
        .await
        .unwrap();
    assert_eq!(app.product_rows().await.len(), 2);

    // Refused adjustments change nothing.
    let before = app.outbox_events().await.len();
    assert_eq!(
        domain(&app.adjust_inventory("MUG", -5).await.unwrap_err()).field(),
        Some("by")
    );
    assert_eq!(
        domain(&app.adjust_inventory("MUG", 0).await.unwrap_err()).field(),
        Some("by")
    );
    assert_eq!(
        domain(&app.adjust_inventory("NOPE", 1).await.unwrap_err()).kind(),
        "not_found"
    );
    assert_eq!(app.outbox_events().await.len(), before);
    assert_eq!(app.stock("MUG").await.on_hand, 4);
    // Reserved units cannot be adjusted away.
    let o = app.create_order(order(&[("MUG", 3)], None)).await.unwrap();
    app.confirm_order(o.id).await.unwrap();
    assert!(app.adjust_inventory("MUG", -2).await.is_err());
    assert_eq!(
        app.adjust_inventory("MUG", 6).await.unwrap().variants[0].on_hand,
        10
    );
}

/// Two store handles (two connection pools) on the same database confirm orders for the last
/// unit at the same moment: exactly one wins, the other is refused and changes nothing.
async fn test_last_unit_race_between_two_stores(app: TestApp) {
    let a = Store::connect(&app.db.url).await.expect("first handle");
    let b = Store::connect(&app.db.url).await.expect("second handle");
    let actor = app.actor.clone();
    for round in 0..5 {
        let sku = format!("LAST-{round}");
        app.create_product(product(&sku, "5.00", 1)).await.unwrap();
        let o1 = app.create_order(order(&[(&sku, 1)], None)).await.unwrap();
        let o2 = app.create_order(order(&[(&sku, 1)], None)).await.unwrap();
        let confirm = |id| {
            CommandEnvelope::new(
                app.tenant.id,
                actor.clone(),
                Command::Order(OrderCommand::ConfirmOrder {
                    id,
                    expected_version: None,
                }),
            )
        };
        let (e1, e2) = (confirm(o1.id), confirm(o2.id));
        let (r1, r2) = tokio::join!(a.execute(&e1, Utc::now()), b.execute(&e2, Utc::now()));
        let (won, lost, loser) = match (&r1, &r2) {
            (Ok(_), Err(e)) => (o1.id, e, o2.id),
            (Err(e), Ok(_)) => (o2.id, e, o1.id),
            other => panic!("round {round}: exactly one must succeed, got {other:?}"),
        };
        let err = lost
            .domain()
            .unwrap_or_else(|| panic!("round {round}: refused, not failed: {lost}"));
        assert!(
            matches!(
                err,
                DomainError::Validation {
                    field: "quantity",
                    ..
                } | DomainError::StockConflict { .. }
            ),
            "round {round}: {err}"
        );
        let stock = app.stock(&sku).await;
        assert_eq!(
            (stock.on_hand, stock.reserved, stock.available),
            (1, 1, 0),
            "round {round}"
        );
        assert_eq!(
            app.get_order(won).await.unwrap().status,
            OrderStatus::Confirmed
        );
        assert_eq!(
            app.get_order(loser).await.unwrap().status,
            OrderStatus::Pending
        );
        let reserves = app
            .outbox_events()
            .await
            .into_iter()
            .filter(|e| {
                e.envelope.event_type == "inventory.updated" && e.envelope.payload["sku"] == sku
            })
            .count();
        assert_eq!(reserves, 1, "round {round}: one reservation recorded");
    }
    a.close().await.ok();
    b.close().await.ok();
}

/// Another process holding SQLite's write lock: a command waits for it without holding up the
/// runtime's thread (on a one-thread runtime another task keeps running all along), then
/// commits as soon as the lock is released.
#[tokio::test(flavor = "current_thread")]
async fn sqlite_a_command_waits_for_another_writer_without_blocking_the_runtime() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};
    let app = TestApp::start(support::TestDb::sqlite()).await;
    app.create_product(product("LOCK-1", "1.00", 10))
        .await
        .unwrap();
    let path = app.db.dir().unwrap().join("rustok.db");
    let other = rusqlite::Connection::open(&path).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let ticks = Arc::new(AtomicUsize::new(0));
    let ticker = tokio::spawn({
        let ticks = ticks.clone();
        async move {
            loop {
                // A tick every 5 ms proves the runtime's one thread is free (a measurement).
                tokio::time::sleep(Duration::from_millis(5)).await;
                ticks.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    let hold = Duration::from_millis(300);
    let release = std::thread::spawn(move || {
        // The other writer holds the lock this long (the fault's length, not a wait).
        std::thread::sleep(hold);
        other.execute_batch("COMMIT").unwrap();
    });
    let started = Instant::now();
    let placed = app.create_order(order(&[("LOCK-1", 1)], None)).await;
    let waited = started.elapsed();
    release.join().unwrap();
    ticker.abort();
    let placed = placed.expect("the order is placed once the lock is released");
    assert!(
        waited >= hold - Duration::from_millis(50),
        "the command waited for the other writer: {waited:?}"
    );
    let ticks = ticks.load(Ordering::Relaxed);
    assert!(
        ticks >= 20,
        "another task ran while the command waited: {ticks} ticks of 5 ms in {waited:?}"
    );
    assert_eq!(
        app.get_order(placed.id).await.unwrap().status,
        OrderStatus::Pending
    );
}
