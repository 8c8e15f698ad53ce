//! An order's life: placed, confirmed, paid, shipped, delivered, cancelled and refunded, with the
//! events and stock movements each step makes, and the transitions the state machine refuses.

use super::{domain, events_after, types};
use crate::support;
use chrono::Utc;
use rustok_domain::commerce::OrderCommand;
use rustok_domain::commerce::RefundOutcome;
use rustok_domain::{Command, CommandEnvelope, Currency, DomainError, Money, OrderStatus};
use rustok_store::OrderFilter;
use serde_json::json;
use support::TestApp;
use support::fixtures::{order, product};

on_both_backends!(
    test_complete_order_flow,
    test_order_with_multiple_items,
    test_order_validation,
    test_order_payment_failure,
    test_order_lifecycle_state_transitions,
    test_cancel_paid_order_refunds_and_restocks,
    test_cancel_confirmed_order_releases_without_refund,
    test_cancel_delivered_order_is_refused,
);

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
        Command::Order(OrderCommand::PayOrder {
            expected_version: None,
            id: big.id,
            card_token: "tok_visa".into(),
        }),
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
        app.cancel_order(o.id, "no longer wanted")
            .await
            .unwrap_err(),
    ] {
        assert_eq!(domain(&err).kind(), "invalid_transition", "{err}");
    }
    assert_eq!(app.outbox_events().await.len(), before);

    // Cancel from pending; cancelled is terminal too.
    let x = app.create_order(order(&[("MUG", 1)], None)).await.unwrap();
    let cancelled = app.cancel_order(x.id, "changed my mind").await.unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert_eq!(cancelled.cancel_reason.as_deref(), Some("changed my mind"));
    for err in [
        app.confirm_order(x.id).await.unwrap_err(),
        app.cancel_order(x.id, "no longer wanted")
            .await
            .unwrap_err(),
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

    let cancelled = app.cancel_order(o.id, "customer request").await.unwrap();
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

    // A shipped order is refunded but not restocked: the goods are in the truck (a return
    // brings them on hand; `orders::refunds`).
    let s = app.create_order(order(&[("MUG", 1)], None)).await.unwrap();
    app.confirm_order(s.id).await.unwrap();
    app.pay_order(s.id, "tok_visa").await.unwrap();
    app.ship_order(s.id, "DHL", "JD01").await.unwrap();
    app.cancel_order(s.id, "no longer wanted").await.unwrap();
    assert_eq!(app.gateway.refunds().len(), 2);
    assert_eq!(app.stock("MUG").await.on_hand, 9);

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
    let err = app
        .cancel_order(f.id, "no longer wanted")
        .await
        .unwrap_err();
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
    app.cancel_order(o.id, "no longer wanted").await.unwrap();
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

    let err = app.cancel_order(o.id, "too late").await.unwrap_err();
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
