//! The seed's order flow scenarios (Sprint 4, "Order Flow Integration Tests"), on SQLite and
//! on PostgreSQL, through the real action queue, store and sandbox payment gateway. The seed's
//! Draft → PendingPayment → Paid maps onto pending → confirmed → paid.

use crate::support;

use chrono::Utc;
use rustok_domain::audit::AuditOutcome;
use rustok_domain::commerce::RefundOutcome;
use rustok_domain::{Command, CommandEnvelope, Currency, DomainError, Money, OrderStatus};
use rustok_store::{Backend, OrderFilter, Store, StoredEvent};
use serde_json::json;
use support::TestApp;
use support::fixtures::{order, product};

on_both_backends!(
    test_complete_order_flow,
    test_order_with_multiple_items,
    test_order_validation,
    test_order_payment_failure,
    test_order_retrieval_and_search,
    test_order_lifecycle_state_transitions,
    test_cancel_paid_order_refunds_and_restocks,
    test_cancel_confirmed_order_releases_without_refund,
    test_cancel_delivered_order_is_refused,
    test_commerce_tenant_isolation,
    test_sku_unique_per_tenant,
    test_inventory_adjust_and_low_stock,
    test_last_unit_race_between_two_stores,
    test_bulk_seed_writes_what_the_commands_would,
    test_retried_commerce_commands_are_applied_once,
    test_a_command_sent_twice_through_the_queue_has_one_audit_row,
    test_bulk_seed_dropped_keeps_whole_transactions,
);

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
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
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

/// `SELECT COUNT(*) …` with `$n` parameters, bound by sea-orm as the store binds them.
async fn count(store: &Store, sql: &str, values: Vec<sea_orm::Value>) -> i64 {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let stmt = match store.backend() {
        Backend::Postgres => Statement::from_sql_and_values(DbBackend::Postgres, sql, values),
        Backend::Sqlite => {
            Statement::from_sql_and_values(DbBackend::Sqlite, sql.replace('$', "?"), values)
        }
    };
    let row = store
        .connection()
        .query_one_raw(stmt)
        .await
        .expect("count query")
        .expect("one row");
    row.try_get_by_index::<i64>(0).expect("a count")
}

fn domain(e: &rustok::runtime::QueueError) -> &DomainError {
    e.domain()
        .unwrap_or_else(|| panic!("expected a refused command, got {e}"))
}

fn types(events: &[StoredEvent]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e.envelope.event_type.as_str())
        .collect()
}

/// This tenant's events stored after `seq`, oldest first.
async fn events_after(app: &TestApp, seq: i64) -> Vec<StoredEvent> {
    app.store
        .list_events(&rustok_store::EventFilter {
            tenant_id: Some(app.tenant.id),
            after_seq: Some(seq),
            limit: 1_000_000,
            ..Default::default()
        })
        .await
        .expect("list events")
}

async fn test_complete_order_flow(app: TestApp) {
    let mug = app
        .create_product(product("MUG", "12.50", 10))
        .await
        .unwrap();
    let seq = app.last_seq().await;

    let placed = app
        .create_order(order(&[("MUG", 3)], Some("buyer@example.com")))
        .await
        .unwrap();
    assert_eq!((placed.status, placed.version), (OrderStatus::Pending, 1));
    assert_eq!(placed.total, Money::new(3750, Currency::USD));
    let stock = app.stock("MUG").await;
    assert_eq!(
        (stock.on_hand, stock.reserved),
        (10, 0),
        "placing moves no stock"
    );

    let confirmed = app.confirm_order(placed.id).await.unwrap();
    assert_eq!(confirmed.status, OrderStatus::Confirmed);
    assert!(confirmed.confirmed_at.is_some());
    let stock = app.stock("MUG").await;
    assert_eq!((stock.on_hand, stock.reserved, stock.available), (10, 3, 7));

    let paid = app.pay_order(placed.id, "tok_visa").await.unwrap();
    assert_eq!((paid.status, paid.version), (OrderStatus::Paid, 3));
    assert!(paid.paid_at.is_some());
    let stock = app.stock("MUG").await;
    assert_eq!((stock.on_hand, stock.reserved, stock.available), (7, 0, 7));
    assert_eq!(
        app.get_order(placed.id).await.unwrap(),
        paid,
        "stored as returned"
    );

    let events = events_after(&app, seq).await;
    assert_eq!(
        types(&events),
        [
            "order.placed",
            "order.status_changed",
            "inventory.updated",
            "payment.succeeded",
            "order.status_changed",
            "inventory.updated",
        ]
    );
    assert_eq!(
        events[1].envelope.payload,
        json!({"from": "pending", "to": "confirmed", "version": 2})
    );
    assert_eq!(events[2].envelope.payload["reason"], "reserve");
    assert_eq!(
        events[4].envelope.payload,
        json!({"from": "confirmed", "to": "paid", "version": 3})
    );
    assert_eq!(events[5].envelope.payload["reason"], "sell");
    assert_eq!(events[5].envelope.payload["on_hand"], 7);
    for e in &events {
        let expected = if e.envelope.aggregate_type == "product" {
            mug.id.as_uuid()
        } else {
            placed.id.as_uuid()
        };
        assert_eq!(
            e.envelope.aggregate_id, expected,
            "{}",
            e.envelope.event_type
        );
        assert_eq!(e.envelope.tenant_id, app.tenant.id);
    }
    // One command's events share a correlation id and are caused by that command; the
    // payment's idempotency key is the paying command's id.
    let pay_events = &events[3..];
    let causation = pay_events[0].envelope.causation_id.unwrap();
    for e in pay_events {
        assert_eq!(e.envelope.causation_id, Some(causation));
        assert_eq!(
            e.envelope.correlation_id,
            pay_events[0].envelope.correlation_id
        );
    }
    let charges = app.gateway.charges();
    assert_eq!(charges.len(), 1);
    assert_eq!(charges[0].request.idempotency_key, causation);
    assert_eq!(charges[0].request.order_id, placed.id);
    assert_eq!(charges[0].request.amount.amount, 3750);
    assert!(charges[0].outcome.is_success());

    // The relay delivers them in the same order.
    let delivered: Vec<String> = app
        .relay_and_capture()
        .await
        .iter()
        .filter(|e| e.event_type.starts_with("order.") || e.event_type.starts_with("payment."))
        .map(|e| e.event_type.clone())
        .collect();
    assert_eq!(
        delivered,
        [
            "order.placed",
            "order.status_changed",
            "payment.succeeded",
            "order.status_changed"
        ]
    );
}

async fn test_order_with_multiple_items(app: TestApp) {
    app.create_product(product("A", "19.99", 10)).await.unwrap();
    app.create_product(product("B", "5.01", 10)).await.unwrap();
    app.create_product(product("C", "0.99", 10)).await.unwrap();

    let o = app
        .create_order(order(&[("A", 3), ("B", 1)], None))
        .await
        .unwrap();
    assert_eq!(o.total, Money::new(6498, Currency::USD), "19.99×3 + 5.01×1");
    assert_eq!(o.total.to_string(), "64.98 USD");

    let three = app
        .create_order(order(&[("A", 1), ("B", 2), ("C", 5)], None))
        .await
        .unwrap();
    assert_eq!(three.items.len(), 3);
    assert_eq!(three.total.amount, 1999 + 2 * 501 + 5 * 99);
    let lines: Vec<(&str, &str, i64, i64)> = three
        .items
        .iter()
        .map(|i| {
            (
                i.sku.as_str(),
                i.title.as_str(),
                i.unit_price.amount,
                i.quantity,
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("A", "Product A", 1999, 1),
            ("B", "Product B", 501, 2),
            ("C", "Product C", 99, 5)
        ]
    );
    assert_eq!(app.get_order(three.id).await.unwrap(), three);

    // Repeated SKUs merge into one line.
    let merged = app
        .create_order(order(&[("A", 1), ("A", 2)], None))
        .await
        .unwrap();
    assert_eq!(merged.items.len(), 1);
    assert_eq!((merged.items[0].quantity, merged.total.amount), (3, 5997));
    let summary = &app.orders(OrderFilter::default()).await[0];
    assert_eq!(
        (summary.id, summary.lines, summary.units),
        (merged.id, 1, 3)
    );

    // Confirming reserves every line.
    app.confirm_order(three.id).await.unwrap();
    let reserved: Vec<(String, i64)> = app
        .product_rows()
        .await
        .into_iter()
        .map(|r| (r.sku, r.reserved))
        .collect();
    assert_eq!(
        reserved,
        [("A".into(), 1), ("B".into(), 2), ("C".into(), 5)]
    );
}

async fn test_order_validation(app: TestApp) {
    app.create_product(product("MUG", "12.50", 2))
        .await
        .unwrap();
    let mut eur = product("EURO", "3.00", 5);
    eur.price = Money::parse("3.00", Currency::EUR).unwrap();
    app.create_product(eur).await.unwrap();
    let before = (app.order_count().await, app.outbox_events().await.len());

    // (items, customer, error kind, part of the reason)
    type Case<'a> = (Vec<(&'a str, i64)>, Option<&'a str>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec![("NOPE", 1)],
            None,
            "not_found",
            "product with sku NOPE not found",
        ),
        (vec![("MUG", 0)], None, "validation", "at least 1, got 0"),
        (vec![("MUG", -1)], None, "validation", "at least 1, got -1"),
        (vec![], None, "validation", "at least one item"),
        (
            vec![("MUG", 1)],
            Some("not-an-email"),
            "validation",
            "valid email",
        ),
        (
            vec![("MUG", 1), ("EURO", 1)],
            None,
            "validation",
            "one currency",
        ),
        (vec![("bad sku", 1)], None, "validation", "sku"),
    ];
    for (items, customer, kind, reason) in cases {
        let err = app.create_order(order(&items, customer)).await.unwrap_err();
        let err = domain(&err);
        assert_eq!(err.kind(), kind, "{items:?}: {err}");
        assert!(err.to_string().contains(reason), "{items:?}: {err}");
    }
    assert_eq!(
        (app.order_count().await, app.outbox_events().await.len()),
        before,
        "refused orders change nothing"
    );

    // More than is available under deny: placing is fine, confirming is refused.
    let big = app.create_order(order(&[("MUG", 3)], None)).await.unwrap();
    let after_place = (app.order_count().await, app.outbox_events().await.len());
    let err = app.confirm_order(big.id).await.unwrap_err();
    assert_eq!(
        domain(&err).to_string(),
        "quantity: only 2 of MUG available, 3 requested"
    );
    assert_eq!(
        (app.order_count().await, app.outbox_events().await.len()),
        after_place
    );
    assert_eq!(app.get_order(big.id).await.unwrap(), big, "still pending");
    let stock = app.stock("MUG").await;
    assert_eq!((stock.on_hand, stock.reserved), (2, 0), "stock unchanged");

    // A multi-line order where only the second line is short reserves nothing at all.
    app.create_product(product("PLENTY", "1.00", 50))
        .await
        .unwrap();
    let mixed = app
        .create_order(order(&[("PLENTY", 5), ("MUG", 3)], None))
        .await
        .unwrap();
    assert!(app.confirm_order(mixed.id).await.is_err());
    assert_eq!(app.stock("PLENTY").await.reserved, 0, "all or nothing");

    // Unknown orders and malformed commands.
    let missing = rustok_domain::OrderId::new_v7();
    assert_eq!(
        domain(&app.confirm_order(missing).await.unwrap_err()).kind(),
        "not_found"
    );
    assert_eq!(
        domain(&app.pay_order(missing, "tok_visa").await.unwrap_err()).kind(),
        "not_found"
    );
    assert!(
        app.gateway.charges().is_empty(),
        "the gateway was never asked"
    );
    // The store refuses to charge inside a transaction.
    let direct = CommandEnvelope::new(
        app.tenant.id,
        app.actor.clone(),
        Command::PayOrder {
            id: big.id,
            card_token: "tok_visa".into(),
        },
    );
    let err = app.store.execute(&direct, Utc::now()).await.unwrap_err();
    assert!(
        err.to_string().contains("action queue"),
        "store refuses PayOrder: {err}"
    );
}

async fn test_order_payment_failure(app: TestApp) {
    app.create_product(product("MUG", "12.50", 10))
        .await
        .unwrap();
    let o = app.create_order(order(&[("MUG", 2)], None)).await.unwrap();
    let confirmed = app.confirm_order(o.id).await.unwrap();
    let seq = app.last_seq().await;

    for (token, code) in [
        ("tok_chargeDeclined", "card_declined"),
        ("tok_chargeDeclinedInsufficientFunds", "insufficient_funds"),
        ("tok_bogus", "invalid_card_token"),
    ] {
        let err = app.pay_order(o.id, token).await.unwrap_err();
        match domain(&err) {
            DomainError::PaymentDeclined { code: c, .. } => assert_eq!(c, code, "{token}"),
            other => panic!("{token}: expected a declined payment, got {other}"),
        }
        assert_eq!(
            app.get_order(o.id).await.unwrap(),
            confirmed,
            "{token}: the order is unchanged"
        );
        let stock = app.stock("MUG").await;
        assert_eq!((stock.on_hand, stock.reserved), (10, 2), "{token}");
    }
    assert_eq!(
        domain(&app.pay_order(o.id, "tok_chargeDeclined").await.unwrap_err()).to_string(),
        "payment declined: card declined"
    );
    let events = events_after(&app, seq).await;
    assert_eq!(types(&events), ["payment.failed"; 4]);
    assert_eq!(events[0].envelope.aggregate_id, o.id.as_uuid());
    assert_eq!(events[0].envelope.payload["code"], "card_declined");
    assert_eq!(events[2].envelope.payload["code"], "invalid_card_token");
    let failed: Vec<bool> = app
        .gateway
        .charges()
        .iter()
        .map(|c| c.outcome.is_success())
        .collect();
    assert_eq!(failed, [false; 4]);

    // A pending order cannot be paid: refused before the gateway is asked.
    let pending = app.create_order(order(&[("MUG", 1)], None)).await.unwrap();
    let err = app.pay_order(pending.id, "tok_visa").await.unwrap_err();
    assert_eq!(
        domain(&err).to_string(),
        "cannot pay order in status pending"
    );
    assert_eq!(app.gateway.charges().len(), 4);

    // After the failures a good card still pays.
    let paid = app.pay_order(o.id, "tok_mastercard").await.unwrap();
    assert_eq!((paid.status, paid.version), (OrderStatus::Paid, 3));
    assert_eq!(app.stock("MUG").await.on_hand, 8);
}

async fn test_order_retrieval_and_search(app: TestApp) {
    app.create_product(product("A", "1.00", 10)).await.unwrap();
    app.create_product(product("B", "2.00", 10)).await.unwrap();
    app.create_product(product("C", "3.00", 10)).await.unwrap();
    let o1 = app
        .create_order(order(&[("A", 1)], Some("alice@example.com")))
        .await
        .unwrap();
    let o2 = app
        .create_order(order(&[("B", 1)], Some("bob@example.com")))
        .await
        .unwrap();
    let o3 = app
        .create_order(order(&[("A", 2), ("C", 1)], Some("alice@EXAMPLE.com")))
        .await
        .unwrap();
    app.confirm_order(o1.id).await.unwrap();
    let o1 = app.pay_order(o1.id, "tok_visa").await.unwrap();
    app.confirm_order(o2.id).await.unwrap();

    // By id: everything as stored.
    let got = app.get_order(o1.id).await.unwrap();
    assert_eq!(got, o1);
    assert_eq!(got.items[0].sku, "A");
    assert!(
        app.get_order(rustok_domain::OrderId::new_v7())
            .await
            .is_none()
    );

    let ids = |rows: Vec<rustok_store::OrderSummary>| -> Vec<_> {
        rows.into_iter().map(|r| r.id).collect()
    };
    let all = app.orders(OrderFilter::default()).await;
    assert_eq!(ids(all.clone()), [o3.id, o2.id, o1.id], "newest first");
    assert_eq!(all[0].total.amount, 500);
    assert_eq!((all[0].lines, all[0].units), (2, 3));
    let by = |sku: Option<&str>, status: Option<OrderStatus>, customer: Option<&str>| OrderFilter {
        sku: sku.map(Into::into),
        status,
        customer: customer.map(Into::into),
        ..Default::default()
    };
    assert_eq!(
        ids(app.orders(by(Some("A"), None, None)).await),
        [o3.id, o1.id]
    );
    assert_eq!(ids(app.orders(by(Some("B"), None, None)).await), [o2.id]);
    assert_eq!(ids(app.orders(by(Some("C"), None, None)).await), [o3.id]);
    assert!(app.orders(by(Some("Z"), None, None)).await.is_empty());
    assert!(
        app.orders(by(Some("a"), None, None)).await.is_empty(),
        "SKUs match exactly"
    );
    assert_eq!(
        ids(app.orders(by(None, Some(OrderStatus::Paid), None)).await),
        [o1.id]
    );
    assert_eq!(
        ids(app.orders(by(None, Some(OrderStatus::Pending), None)).await),
        [o3.id]
    );
    assert!(
        app.orders(by(None, Some(OrderStatus::Shipped), None))
            .await
            .is_empty()
    );
    assert_eq!(
        ids(app.orders(by(None, None, Some("ALICE@example.com"))).await),
        [o3.id, o1.id],
        "customers match case-insensitively"
    );
    assert_eq!(
        ids(app
            .orders(by(
                Some("A"),
                Some(OrderStatus::Pending),
                Some("alice@example.com")
            ))
            .await),
        [o3.id]
    );
    let page = app
        .store
        .list_orders(
            app.tenant.id,
            &OrderFilter {
                limit: 2,
                offset: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((page.total, ids(page.rows)), (3, vec![o2.id, o1.id]));

    // The order's story: its events and the stock moves it caused, oldest first.
    let story = app.store.order_events(app.tenant.id, o1.id).await.unwrap();
    assert_eq!(
        types(&story),
        [
            "order.placed",
            "order.status_changed",
            "inventory.updated",
            "payment.succeeded",
            "order.status_changed",
            "inventory.updated"
        ]
    );
}

async fn test_order_lifecycle_state_transitions(app: TestApp) {
    app.create_product(product("MUG", "12.50", 10))
        .await
        .unwrap();
    let o = app
        .create_order(order(&[("MUG", 1)], Some("c@example.com")))
        .await
        .unwrap();
    let refused = |e: rustok::runtime::QueueError| domain(&e).to_string();
    let invariant = |x: &rustok_domain::Order| {
        assert_eq!(
            (x.id, x.tenant_id, &x.customer, x.total, &x.items),
            (o.id, o.tenant_id, &o.customer, o.total, &o.items),
            "id, tenant, customer, items and total never change"
        );
    };

    // pending
    assert_eq!(
        refused(app.pay_order(o.id, "tok_visa").await.unwrap_err()),
        "cannot pay order in status pending"
    );
    assert_eq!(
        refused(app.ship_order(o.id, "UPS", "1Z").await.unwrap_err()),
        "cannot ship order in status pending"
    );
    assert_eq!(
        refused(app.deliver_order(o.id).await.unwrap_err()),
        "cannot deliver order in status pending"
    );
    let seq = app.last_seq().await;
    let c = app.confirm_order(o.id).await.unwrap();
    invariant(&c);
    assert_eq!(
        refused(app.confirm_order(o.id).await.unwrap_err()),
        "cannot confirm order in status confirmed"
    );
    assert!(app.ship_order(o.id, "UPS", "1Z").await.is_err());
    let p = app.pay_order(o.id, "tok_visa").await.unwrap();
    invariant(&p);
    assert!(app.deliver_order(o.id).await.is_err());
    assert!(app.pay_order(o.id, "tok_visa").await.is_err(), "paid once");
    // Shipping needs a carrier and a tracking number.
    assert_eq!(
        domain(&app.ship_order(o.id, "", "1Z").await.unwrap_err()).field(),
        Some("carrier")
    );
    assert_eq!(
        domain(&app.ship_order(o.id, "UPS", " ").await.unwrap_err()).field(),
        Some("tracking")
    );
    assert_eq!(app.get_order(o.id).await.unwrap().status, OrderStatus::Paid);
    let s = app.ship_order(o.id, "UPS", "1Z999").await.unwrap();
    invariant(&s);
    assert_eq!(
        (s.carrier.as_deref(), s.tracking_number.as_deref()),
        (Some("UPS"), Some("1Z999"))
    );
    let d = app.deliver_order(o.id).await.unwrap();
    invariant(&d);
    assert_eq!((d.status, d.version), (OrderStatus::Delivered, 5));
    assert!(
        d.confirmed_at <= d.paid_at && d.paid_at <= d.shipped_at && d.shipped_at <= d.delivered_at
    );

    let steps: Vec<(String, String, i64)> = events_after(&app, seq)
        .await
        .into_iter()
        .filter(|e| e.envelope.event_type == "order.status_changed")
        .map(|e| {
            let p = &e.envelope.payload;
            (
                p["from"].as_str().unwrap().to_string(),
                p["to"].as_str().unwrap().to_string(),
                p["version"].as_i64().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(String, String, i64)> = [
        ("pending", "confirmed", 2),
        ("confirmed", "paid", 3),
        ("paid", "shipped", 4),
        ("shipped", "delivered", 5),
    ]
    .iter()
    .map(|(a, b, v)| (a.to_string(), b.to_string(), *v))
    .collect();
    assert_eq!(steps, expected);

    // Terminal: delivered accepts nothing.
    let before = app.outbox_events().await.len();
    for err in [
        app.confirm_order(o.id).await.unwrap_err(),
        app.pay_order(o.id, "tok_visa").await.unwrap_err(),
        app.ship_order(o.id, "UPS", "1Z").await.unwrap_err(),
        app.deliver_order(o.id).await.unwrap_err(),
        app.cancel_order(o.id, None).await.unwrap_err(),
    ] {
        assert_eq!(domain(&err).kind(), "invalid_transition", "{err}");
    }
    assert_eq!(app.outbox_events().await.len(), before);

    // Cancel from pending; cancelled is terminal too.
    let x = app.create_order(order(&[("MUG", 1)], None)).await.unwrap();
    let cancelled = app
        .cancel_order(x.id, Some("changed my mind"))
        .await
        .unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert_eq!(cancelled.cancel_reason.as_deref(), Some("changed my mind"));
    for err in [
        app.confirm_order(x.id).await.unwrap_err(),
        app.cancel_order(x.id, None).await.unwrap_err(),
        app.pay_order(x.id, "tok_visa").await.unwrap_err(),
    ] {
        assert_eq!(domain(&err).kind(), "invalid_transition");
    }
    assert_eq!(app.gateway.charges().len(), 1, "only the one real payment");
    let stock = app.stock("MUG").await;
    assert_eq!((stock.on_hand, stock.reserved), (9, 0));
}

async fn test_cancel_paid_order_refunds_and_restocks(app: TestApp) {
    app.create_product(product("MUG", "12.50", 10))
        .await
        .unwrap();
    let o = app.create_order(order(&[("MUG", 4)], None)).await.unwrap();
    app.confirm_order(o.id).await.unwrap();
    let paid = app.pay_order(o.id, "tok_visa").await.unwrap();
    assert_eq!(app.stock("MUG").await.on_hand, 6);
    let seq = app.last_seq().await;

    let cancelled = app
        .cancel_order(o.id, Some("customer request"))
        .await
        .unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    let stock = app.stock("MUG").await;
    assert_eq!((stock.on_hand, stock.reserved), (10, 0), "restocked");

    let refunds = app.gateway.refunds();
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].request.order_id, o.id);
    assert_eq!(refunds[0].request.amount, paid.total);
    assert_eq!(
        Some(refunds[0].request.payment_reference.as_str()),
        paid.payment_reference.as_deref()
    );
    assert!(matches!(refunds[0].outcome, RefundOutcome::Refunded { .. }));

    let events = events_after(&app, seq).await;
    assert_eq!(
        types(&events),
        [
            "order.status_changed",
            "order.cancelled",
            "payment.refunded",
            "inventory.updated"
        ]
    );
    assert_eq!(events[2].envelope.payload["amount"]["amount"], 5000);
    assert_eq!(events[3].envelope.payload["reason"], "restock");
    // The refund's idempotency key is the cancelling command's id.
    assert_eq!(
        events[0].envelope.causation_id,
        Some(refunds[0].request.idempotency_key)
    );

    // A shipped order is refunded and restocked the same way.
    let s = app.create_order(order(&[("MUG", 1)], None)).await.unwrap();
    app.confirm_order(s.id).await.unwrap();
    app.pay_order(s.id, "tok_visa").await.unwrap();
    app.ship_order(s.id, "DHL", "JD01").await.unwrap();
    app.cancel_order(s.id, None).await.unwrap();
    assert_eq!(app.gateway.refunds().len(), 2);
    assert_eq!(app.stock("MUG").await.on_hand, 10);

    // A refund the gateway refuses refuses the cancel: nothing changes. (The sandbox only
    // refunds charges it knows; this order's reference is forged in the database.)
    let f = app.create_order(order(&[("MUG", 1)], None)).await.unwrap();
    app.confirm_order(f.id).await.unwrap();
    let f = app.pay_order(f.id, "tok_visa").await.unwrap();
    use rustok_store::entity::order as order_row;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    let forged = order_row::Entity::update_many()
        .col_expr(
            order_row::Column::PaymentReference,
            Expr::value("ch_forged"),
        )
        .filter(order_row::Column::Id.eq(f.id.as_uuid()))
        .exec(app.store.connection())
        .await
        .unwrap();
    assert_eq!(forged.rows_affected, 1);
    let before = (app.outbox_events().await.len(), app.stock("MUG").await);
    let err = app.cancel_order(f.id, None).await.unwrap_err();
    assert_eq!(domain(&err).kind(), "refund_failed", "{err}");
    assert_eq!(app.get_order(f.id).await.unwrap().status, OrderStatus::Paid);
    assert_eq!(
        (app.outbox_events().await.len(), app.stock("MUG").await),
        before
    );
}

async fn test_cancel_confirmed_order_releases_without_refund(app: TestApp) {
    app.create_product(product("MUG", "12.50", 10))
        .await
        .unwrap();
    let o = app.create_order(order(&[("MUG", 3)], None)).await.unwrap();
    app.confirm_order(o.id).await.unwrap();
    assert_eq!(app.stock("MUG").await.reserved, 3);
    let seq = app.last_seq().await;
    app.cancel_order(o.id, None).await.unwrap();
    let stock = app.stock("MUG").await;
    assert_eq!((stock.on_hand, stock.reserved), (10, 0), "released");
    assert!(
        app.gateway.refunds().is_empty(),
        "nothing was paid, nothing refunded"
    );
    let events = events_after(&app, seq).await;
    assert_eq!(
        types(&events),
        [
            "order.status_changed",
            "order.cancelled",
            "inventory.updated"
        ]
    );
    assert_eq!(events[2].envelope.payload["reason"], "release");
}

async fn test_cancel_delivered_order_is_refused(app: TestApp) {
    app.create_product(product("MUG", "12.50", 10))
        .await
        .unwrap();
    let o = app.create_order(order(&[("MUG", 2)], None)).await.unwrap();
    app.confirm_order(o.id).await.unwrap();
    app.pay_order(o.id, "tok_visa").await.unwrap();
    app.ship_order(o.id, "UPS", "1Z").await.unwrap();
    let delivered = app.deliver_order(o.id).await.unwrap();
    let before = (app.outbox_events().await.len(), app.stock("MUG").await);

    let err = app.cancel_order(o.id, Some("too late")).await.unwrap_err();
    assert_eq!(
        domain(&err).to_string(),
        "cannot cancel order in status delivered"
    );
    assert_eq!(app.get_order(o.id).await.unwrap(), delivered);
    assert_eq!(
        (app.outbox_events().await.len(), app.stock("MUG").await),
        before
    );
    assert!(app.gateway.refunds().is_empty(), "no refund was asked");
}

async fn test_commerce_tenant_isolation(app: TestApp) {
    let other = app.create_tenant("globex").await;
    let mug = app
        .create_product(product("MUG", "12.50", 10))
        .await
        .unwrap();
    let o = app.create_order(order(&[("MUG", 1)], None)).await.unwrap();

    // The other tenant sees none of it.
    assert!(app.store.product(other.id, mug.id).await.unwrap().is_none());
    assert!(
        app.store
            .product_by_sku(other.id, "MUG")
            .await
            .unwrap()
            .is_none()
    );
    assert!(app.store.order(other.id, o.id).await.unwrap().is_none());
    assert_eq!(
        app.store
            .list_orders(other.id, &OrderFilter::default())
            .await
            .unwrap()
            .total,
        0
    );
    assert!(
        app.store
            .list_orders(
                other.id,
                &OrderFilter {
                    sku: Some("MUG".into()),
                    ..Default::default()
                }
            )
            .await
            .unwrap()
            .rows
            .is_empty()
    );
    let err = app
        .exec_in(&other, Command::CreateOrder(order(&[("MUG", 1)], None)))
        .await
        .unwrap_err();
    assert_eq!(domain(&err).kind(), "not_found");
    for command in [
        Command::ConfirmOrder {
            id: o.id,
            expected_version: None,
        },
        Command::PayOrder {
            id: o.id,
            card_token: "tok_visa".into(),
        },
        Command::CancelOrder {
            id: o.id,
            reason: None,
        },
        Command::AdjustInventory {
            sku: "MUG".into(),
            by: -10,
            reason: String::new(),
        },
    ] {
        let err = app.exec_in(&other, command).await.unwrap_err();
        assert_eq!(domain(&err).kind(), "not_found", "{err}");
    }
    assert!(app.gateway.charges().is_empty());

    // The same SKU can exist in both tenants, each with its own stock.
    app.exec_in(&other, Command::CreateProduct(product("MUG", "9.00", 1)))
        .await
        .unwrap();
    let theirs = app
        .store
        .list_products(other.id, &Default::default())
        .await
        .unwrap();
    assert_eq!(theirs.rows.len(), 1);
    assert_eq!(
        (theirs.rows[0].price.amount, theirs.rows[0].on_hand),
        (900, 1)
    );
    let ours = app.stock("MUG").await;
    assert_eq!((ours.price.amount, ours.on_hand), (1250, 10));
    assert_eq!(
        app.get_order(o.id).await.unwrap().status,
        OrderStatus::Pending
    );
}

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
                Command::ConfirmOrder {
                    id,
                    expected_version: None,
                },
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

/// A command is executed without looking its id up in the command log first; a retry of one
/// that already committed (its answer lost with the connection) must still be answered from
/// the log and applied once — whether running it again is refused (the order exists, the
/// transition is done) or would succeed (a stock adjustment), in which case only its own
/// command-log row stops it. An order id that exists is a duplicate, also another tenant's.
/// A command sent again through the action queue after it committed (as a client does when
/// the answer was lost) is answered from the command log, and the audit log keeps the one row
/// its transaction wrote: one action, one row.
async fn test_a_command_sent_twice_through_the_queue_has_one_audit_row(app: TestApp) {
    app.create_product(product("MUG", "12.50", 10))
        .await
        .unwrap();
    let env = CommandEnvelope::new(
        app.tenant.id,
        app.actor.clone(),
        Command::CreateOrder(order(&[("MUG", 1)], None)),
    );
    let first = app.queue.execute(env.clone()).await.unwrap();
    let again = app.queue.execute(env.clone()).await.unwrap();
    assert_eq!(first, again, "answered from the command log");
    let log = app.store.audit_log(0, 1_000).await.unwrap();
    let rows: Vec<_> = log.rows.iter().filter(|r| r.command_id == env.id).collect();
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(rows[0].outcome, AuditOutcome::Ok);
    // A refusal is still recorded, each time it is sent.
    let bad = CommandEnvelope::new(
        app.tenant.id,
        app.actor.clone(),
        Command::CreateOrder(order(&[("NO-SUCH-SKU", 1)], None)),
    );
    for _ in 0..2 {
        app.queue.execute(bad.clone()).await.unwrap_err();
    }
    let log = app.store.audit_log(0, 1_000).await.unwrap();
    let refused = log.rows.iter().filter(|r| r.command_id == bad.id).count();
    assert_eq!(refused, 2);
    // A declined payment commits its payment.failed event with its 'refused' row: sent again
    // under the same id, it is answered from the log, declined again, and adds no row.
    let order = app.create_order(order(&[("MUG", 1)], None)).await.unwrap();
    app.confirm_order(order.id).await.unwrap();
    let pay = CommandEnvelope::new(
        app.tenant.id,
        app.actor.clone(),
        Command::PayOrder {
            id: order.id,
            card_token: "tok_chargeDeclined".into(),
        },
    );
    for _ in 0..2 {
        let e = app.queue.execute(pay.clone()).await.unwrap_err();
        assert!(e.to_string().contains("declined"), "{e}");
    }
    let log = app.store.audit_log(0, 1_000).await.unwrap();
    let rows: Vec<_> = log.rows.iter().filter(|r| r.command_id == pay.id).collect();
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(rows[0].outcome, AuditOutcome::Refused);
}

async fn test_retried_commerce_commands_are_applied_once(app: TestApp) {
    app.create_product(product("MUG", "12.50", 10))
        .await
        .unwrap();
    let send = |command: Command| CommandEnvelope::new(app.tenant.id, app.actor.clone(), command);
    let draft = order(&[("MUG", 2)], None);
    let id = draft.id;
    let create = send(Command::CreateOrder(draft.clone()));
    let first = app.store.execute(&create, Utc::now()).await.unwrap();
    let written = app.outbox_events().await.len();
    let again = app.store.execute(&create, Utc::now()).await.unwrap();
    assert_eq!(first, again, "answered from the command log");
    assert_eq!(
        app.outbox_events().await.len(),
        written,
        "no second order.placed"
    );

    let confirm = send(Command::ConfirmOrder {
        id,
        expected_version: None,
    });
    let first = app.store.execute(&confirm, Utc::now()).await.unwrap();
    assert_eq!(
        app.store.execute(&confirm, Utc::now()).await.unwrap(),
        first
    );

    let adjust = send(Command::AdjustInventory {
        sku: "MUG".into(),
        by: 5,
        reason: "restock".into(),
    });
    let first = app.store.execute(&adjust, Utc::now()).await.unwrap();
    assert_eq!(app.store.execute(&adjust, Utc::now()).await.unwrap(), first);
    let stock = app.stock("MUG").await;
    assert_eq!(
        (stock.on_hand, stock.reserved),
        (15, 2),
        "adjusted once, reserved once"
    );
    let events = app.outbox_events().await;
    let count = |t: &str| events.iter().filter(|e| e.envelope.event_type == t).count();
    assert_eq!(count("order.placed"), 1);
    assert_eq!(count("order.status_changed"), 1);
    let adjusted = events
        .iter()
        .filter(|e| e.envelope.event_type == "inventory.updated")
        .filter(|e| e.envelope.payload["reason"] == "restock")
        .count();
    assert_eq!(adjusted, 1);

    // The same order id under a new command id: a duplicate, nothing written — in this
    // tenant, and in another one that cannot see the order (nor take its id).
    let other = app.create_tenant("other-shop").await;
    app.exec_in(&other, Command::CreateProduct(product("MUG", "1.00", 5)))
        .await
        .unwrap();
    let before = app.outbox_events().await.len();
    let err = app
        .exec(Command::CreateOrder(draft.clone()))
        .await
        .unwrap_err();
    assert_eq!(
        domain(&err).to_string(),
        format!("order {id} already exists")
    );
    let err = app
        .exec_in(&other, Command::CreateOrder(draft))
        .await
        .unwrap_err();
    assert_eq!(domain(&err).kind(), "duplicate");
    assert_eq!(app.outbox_events().await.len(), before);
    assert_eq!(app.order_count().await, 1);
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
                tokio::time::sleep(Duration::from_millis(5)).await;
                ticks.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    let hold = Duration::from_millis(300);
    let release = std::thread::spawn(move || {
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
