//! Partial refunds, returns, cancelling after shipment, customers and "revenue today" (issue
//! 21), through the real action queue, store and sandbox gateway, on SQLite and PostgreSQL.

use super::{domain, events_after, types};
use crate::support;
use rustok_domain::commerce::{OrderAction, RefundOutcome};
use rustok_domain::{CommandEnvelope, Currency, Money, Order, OrderId, OrderStatus};
use rustok_store::Outcome;
use support::TestApp;
use support::fixtures::{order, product};

on_both_backends!(
    test_two_partial_refunds_then_an_over_refund_is_refused,
    test_a_refund_is_idempotent_under_a_retried_command_id,
    test_refunds_are_refused_before_the_gateway_when_they_cannot_be,
    test_returns_with_and_without_restock_and_an_over_return_refused,
    test_a_refund_can_restock_returned_units,
    test_cancel_after_ship_refunds_what_is_left_and_does_not_restock,
    test_customers_lifetime_value_is_net_of_refunds,
    test_revenue_today_is_captured_less_refunded,
    test_customers_and_refunds_are_tenant_scoped,
    test_the_board_s_summaries_carry_what_a_cancel_would_refund,
);

fn usd(cents: i64) -> Money {
    Money::new(cents, Currency::USD)
}

/// A paid order of `qty` MUGs at 12.50 (stock 10), for `customer`.
async fn paid(app: &TestApp, qty: i64, customer: Option<&str>) -> Order {
    if app
        .store
        .product_by_sku(app.tenant.id, "MUG")
        .await
        .unwrap()
        .is_none()
    {
        app.create_product(product("MUG", "12.50", 10))
            .await
            .unwrap();
    }
    let o = app
        .create_order(order(&[("MUG", qty)], customer))
        .await
        .unwrap();
    app.confirm_order(o.id).await.unwrap();
    app.pay_order(o.id, "tok_visa").await.unwrap()
}

async fn refund(
    app: &TestApp,
    id: OrderId,
    amount: &str,
    restock: &str,
) -> Result<Order, rustok::runtime::QueueError> {
    app.order_step(id, OrderAction::Refund, &[amount, "scratched", restock])
        .await
}

async fn test_two_partial_refunds_then_an_over_refund_is_refused(app: TestApp) {
    let o = paid(&app, 2, Some("ann@example.com")).await;
    assert_eq!(
        (o.captured(), o.refunded, o.net()),
        (usd(2500), usd(0), usd(2500))
    );
    let seq = app.last_seq().await;

    let first = refund(&app, o.id, "5.00", "").await.unwrap();
    assert_eq!(
        first.status,
        OrderStatus::Paid,
        "the order keeps its status"
    );
    assert_eq!(
        (first.refunded, first.net(), first.version),
        (usd(500), usd(2000), o.version + 1)
    );
    let second = refund(&app, o.id, "7.5", "").await.unwrap();
    assert_eq!(
        (second.captured(), second.refunded, second.net()),
        (usd(2500), usd(1250), usd(1250))
    );
    assert_eq!(app.stock("MUG").await.on_hand, 8, "no restock asked");

    let events = events_after(&app, seq).await;
    assert_eq!(types(&events), ["payment.refunded", "payment.refunded"]);
    assert_eq!(events[0].envelope.payload["amount"]["amount"], 500);
    assert_eq!(events[0].envelope.payload["reason"], "scratched");
    assert_eq!(events[1].envelope.payload["amount"]["amount"], 750);
    let at_gateway: Vec<i64> = app
        .gateway
        .refunds()
        .iter()
        .map(|r| r.request.amount.amount)
        .collect();
    assert_eq!(at_gateway, [500, 750]);
    let rows = app.store.order_refunds(app.tenant.id, o.id).await.unwrap();
    assert_eq!(
        rows.iter().map(|r| r.amount.amount).collect::<Vec<_>>(),
        [500, 750]
    );
    assert_eq!(rows[0].reason.as_deref(), Some("scratched"));
    assert_eq!(rows[0].id, events[0].envelope.id, "keyed by its event");

    // 12.50 is left: 12.51 is refused, nothing changes, the gateway is not asked.
    let before = (
        app.get_order(o.id).await,
        app.last_seq().await,
        app.gateway.request_count(),
    );
    let err = refund(&app, o.id, "12.51", "").await.unwrap_err();
    assert_eq!(domain(&err).field(), Some("amount"), "{err}");
    assert_eq!(
        err.to_string(),
        "amount: cannot refund 12.51 USD: 25.00 USD was captured, 12.50 USD already refunded, 12.50 USD left"
    );
    assert_eq!(
        (
            app.get_order(o.id).await,
            app.last_seq().await,
            app.gateway.request_count()
        ),
        before
    );
    // What is left can be refunded; then nothing more.
    let all = refund(&app, o.id, "12.50", "").await.unwrap();
    assert_eq!(
        (all.refunded, all.net(), all.status),
        (usd(2500), usd(0), OrderStatus::Paid)
    );
    assert!(refund(&app, o.id, "0.01", "").await.is_err());
}

async fn test_a_refund_is_idempotent_under_a_retried_command_id(app: TestApp) {
    let o = paid(&app, 2, None).await;
    // The whole amount: a second run of the same command would be an over-refund if it ran.
    let command = OrderAction::Refund
        .command(o.id, None, &["25.00", "lost parcel", ""])
        .unwrap();
    let env = CommandEnvelope::new(app.tenant.id, app.actor.clone(), command);
    let first = app.queue.execute(env.clone()).await.unwrap();
    let seq = app.last_seq().await;
    let again = app.queue.execute(env.clone()).await.unwrap();
    assert_eq!(again, first, "the retry is answered with the first outcome");
    let Outcome::Order(after) = &again.outcome else {
        panic!("an order")
    };
    assert_eq!(after.refunded, usd(2500));
    assert_eq!(app.last_seq().await, seq, "no second payment.refunded");
    assert_eq!(
        app.gateway.refunds().len(),
        1,
        "refunded once at the gateway"
    );
    assert_eq!(
        app.store
            .order_refunds(app.tenant.id, o.id)
            .await
            .unwrap()
            .len(),
        1
    );
    // The gateway's refund is keyed by the command id.
    assert_eq!(
        app.gateway.refunds()[0].request.idempotency_key,
        env.id.as_uuid()
    );
    assert!(matches!(
        app.gateway.refunds()[0].outcome,
        RefundOutcome::Refunded { .. }
    ));
}

async fn test_refunds_are_refused_before_the_gateway_when_they_cannot_be(app: TestApp) {
    app.create_product(product("MUG", "12.50", 10))
        .await
        .unwrap();
    let pending = app.create_order(order(&[("MUG", 1)], None)).await.unwrap();
    let e = refund(&app, pending.id, "1.00", "").await.unwrap_err();
    assert_eq!(domain(&e).kind(), "invalid_transition", "{e}");
    let o = paid(&app, 1, None).await;
    for (amount, says) in [
        ("0", "a refund must be more than 0"),
        ("1.001", "is not an amount in USD"),
        ("-1", "is not an amount in USD"),
        ("lots", "is not an amount in USD"),
    ] {
        let e = refund(&app, o.id, amount, "").await.unwrap_err();
        assert!(e.to_string().contains(says), "{amount}: {e}");
    }
    let e = app
        .order_step(o.id, OrderAction::Refund, &["1.00", "  ", ""])
        .await
        .unwrap_err();
    assert_eq!(domain(&e).field(), Some("reason"));
    let e = refund(&app, o.id, "1.00", "CAP:1").await.unwrap_err();
    assert!(e.to_string().contains("CAP is not a line of order"), "{e}");
    let e = refund(&app, o.id, "1.00", "MUG:2").await.unwrap_err();
    assert!(
        e.to_string()
            .contains("cannot take back 2 of MUG: 1 ordered"),
        "{e}"
    );
    let e = refund(&app, o.id, "1.00", "MUG").await.unwrap_err();
    assert!(e.to_string().contains("must look like SKU:QTY"), "{e}");
    assert_eq!(
        app.gateway.refunds().len(),
        0,
        "no refused refund reached the gateway"
    );
    assert_eq!(app.get_order(o.id).await.unwrap().refunded, usd(0));
}

async fn test_returns_with_and_without_restock_and_an_over_return_refused(app: TestApp) {
    let o = paid(&app, 3, None).await;
    // Not shipped yet: nothing to return.
    let e = app
        .order_step(o.id, OrderAction::Return, &["MUG:1", "broken", "yes"])
        .await
        .unwrap_err();
    assert_eq!(domain(&e).kind(), "invalid_transition", "{e}");
    app.ship_order(o.id, "UPS", "1Z").await.unwrap();
    assert_eq!(app.stock("MUG").await.on_hand, 7);
    let seq = app.last_seq().await;

    let r = app
        .order_step(o.id, OrderAction::Return, &["MUG:1", "wrong colour", "yes"])
        .await
        .unwrap();
    assert_eq!((r.status, r.items[0].returned), (OrderStatus::Shipped, 1));
    assert_eq!(app.stock("MUG").await.on_hand, 8, "restocked");
    let r = app
        .order_step(o.id, OrderAction::Return, &["MUG:1", "broken", "no"])
        .await
        .unwrap();
    assert_eq!(r.items[0].returned, 2);
    assert_eq!(app.stock("MUG").await.on_hand, 8, "not restocked");
    assert_eq!(r.refunded, usd(0), "refunding is a separate step");

    let events = events_after(&app, seq).await;
    assert_eq!(
        types(&events),
        ["order.returned", "inventory.updated", "order.returned"]
    );
    assert_eq!(
        events[0].envelope.payload["items"],
        serde_json::json!([{"sku": "MUG", "quantity": 1}])
    );
    assert_eq!(events[0].envelope.payload["restocked"], true);
    assert_eq!(events[2].envelope.payload["restocked"], false);
    assert_eq!(events[2].envelope.payload["reason"], "broken");

    // One unit is left to return: two are refused, and nothing changes.
    let before = (
        app.get_order(o.id).await,
        app.last_seq().await,
        app.stock("MUG").await,
    );
    let e = app
        .order_step(o.id, OrderAction::Return, &["MUG:1 MUG:1", "more", "yes"])
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "quantity: cannot take back 2 of MUG: 3 ordered, 2 already returned, 1 left",
        "repeated SKUs count together"
    );
    let e = app
        .order_step(o.id, OrderAction::Return, &["MUG:2", "more", "yes"])
        .await
        .unwrap_err();
    assert!(e.to_string().contains("2 already returned, 1 left"), "{e}");
    let e = app
        .order_step(o.id, OrderAction::Return, &["", "more", "yes"])
        .await
        .unwrap_err();
    assert_eq!(e.to_string(), "item: needs at least one SKU:QTY");
    assert_eq!(
        (
            app.get_order(o.id).await,
            app.last_seq().await,
            app.stock("MUG").await
        ),
        before
    );
    // A delivered order takes the last one.
    app.deliver_order(o.id).await.unwrap();
    let r = app
        .order_step(o.id, OrderAction::Return, &["MUG:1", "late", ""])
        .await
        .unwrap();
    assert_eq!((r.status, r.items[0].returned), (OrderStatus::Delivered, 3));
    assert_eq!(app.stock("MUG").await.on_hand, 9, "restock is the default");
}

async fn test_a_refund_can_restock_returned_units(app: TestApp) {
    let o = paid(&app, 2, None).await;
    assert_eq!(app.stock("MUG").await.on_hand, 8);
    let r = refund(&app, o.id, "12.50", "MUG:1").await.unwrap();
    assert_eq!((r.refunded, r.items[0].returned), (usd(1250), 1));
    assert_eq!(app.stock("MUG").await.on_hand, 9);
    // Cancelling the rest of the paid order restocks only what did not come back already.
    let c = app.cancel_order(o.id, "changed mind").await.unwrap();
    assert_eq!((c.status, c.refunded), (OrderStatus::Cancelled, usd(2500)));
    assert_eq!(app.stock("MUG").await.on_hand, 10);
    let at_gateway: Vec<i64> = app
        .gateway
        .refunds()
        .iter()
        .map(|r| r.request.amount.amount)
        .collect();
    assert_eq!(at_gateway, [1250, 1250], "the cancel refunds what was left");
}

async fn test_cancel_after_ship_refunds_what_is_left_and_does_not_restock(app: TestApp) {
    let o = paid(&app, 2, None).await;
    app.ship_order(o.id, "DHL", "JD01").await.unwrap();
    refund(&app, o.id, "5.00", "").await.unwrap();
    assert_eq!(app.stock("MUG").await.on_hand, 8);
    let seq = app.last_seq().await;
    let c = app.cancel_order(o.id, "lost in transit").await.unwrap();
    assert_eq!(
        (c.status, c.refunded, c.net()),
        (OrderStatus::Cancelled, usd(2500), usd(0))
    );
    let stock = app.stock("MUG").await;
    assert_eq!(
        (stock.on_hand, stock.reserved),
        (8, 0),
        "the goods are not back: no restock"
    );
    let events = events_after(&app, seq).await;
    assert_eq!(
        types(&events),
        [
            "order.status_changed",
            "order.cancelled",
            "payment.refunded"
        ]
    );
    assert_eq!(
        events[2].envelope.payload["amount"]["amount"], 2000,
        "what was left"
    );
    assert_eq!(
        app.gateway.refunds().last().unwrap().request.amount,
        usd(2000)
    );
    // When the parcel comes back, a return puts it on hand.
    let r = app
        .order_step(o.id, OrderAction::Return, &["MUG:2", "came back", "yes"])
        .await
        .unwrap();
    assert_eq!((r.status, r.items[0].returned), (OrderStatus::Cancelled, 2));
    assert_eq!(app.stock("MUG").await.on_hand, 10);
    // A cancelled order that never shipped has nothing to return.
    let p = paid(&app, 1, None).await;
    app.cancel_order(p.id, "customer asked").await.unwrap();
    let e = app
        .order_step(p.id, OrderAction::Return, &["MUG:1", "x", "yes"])
        .await
        .unwrap_err();
    assert!(e.to_string().contains("was never shipped"), "{e}");
}

async fn test_customers_lifetime_value_is_net_of_refunds(app: TestApp) {
    let a1 = paid(&app, 2, Some("Ann@Example.com")).await;
    refund(&app, a1.id, "5.00", "").await.unwrap();
    let _a2 = paid(&app, 1, Some("ann@example.com")).await;
    // Placed, never paid: counted as an order, worth nothing yet.
    let a3 = app
        .create_order(order(&[("MUG", 1)], Some("ann@example.com")))
        .await
        .unwrap();
    let b = paid(&app, 1, Some("bob@example.com")).await;
    app.cancel_order(b.id, "customer asked").await.unwrap();
    app.create_order(order(&[("MUG", 1)], None)).await.unwrap();

    let page = app.store.customers(app.tenant.id, 0, 100).await.unwrap();
    assert_eq!(page.total, 2);
    let ann = page
        .rows
        .iter()
        .find(|c| c.email == "ann@example.com")
        .expect("ann, case ignored");
    assert_eq!(
        (ann.orders, ann.lifetime_value.clone()),
        (3, vec![usd(2500 - 500 + 1250)])
    );
    assert_eq!(
        ann.last_order_at,
        app.get_order(a3.id).await.unwrap().placed_at
    );
    let bob = page
        .rows
        .iter()
        .find(|c| c.email == "bob@example.com")
        .unwrap();
    assert_eq!(
        (bob.orders, bob.lifetime_value.clone()),
        (1, vec![usd(0)]),
        "refunded in full"
    );
    assert_eq!(
        page.rows[0].email, "bob@example.com",
        "who ordered last first"
    );
    let one = app.store.customers(app.tenant.id, 1, 1).await.unwrap();
    assert_eq!(
        (one.total, one.rows.len(), one.rows[0].email.as_str()),
        (2, 1, "ann@example.com")
    );

    let detail = app
        .store
        .customer(app.tenant.id, "ANN@example.com", 0, 100)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(detail.customer, *ann);
    assert_eq!(detail.order_list.total, 3);
    assert_eq!(detail.order_list.rows[0].id, a3.id, "newest first");
    assert!(
        app.store
            .customer(app.tenant.id, "nobody@example.com", 0, 10)
            .await
            .unwrap()
            .is_none()
    );
    let e = app
        .store
        .customer(app.tenant.id, "not an email", 0, 10)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("not a valid email address"), "{e}");
}

async fn test_revenue_today_is_captured_less_refunded(app: TestApp) {
    let a = paid(&app, 2, None).await; // 25.00
    let b = paid(&app, 1, None).await; // 12.50
    refund(&app, a.id, "5.00", "").await.unwrap();
    app.cancel_order(b.id, "customer asked").await.unwrap(); // refunds 12.50
    // Partly refunded, then cancelled: the cancel refunds what is left (10.00), so the order's
    // refunds add up to what was captured — counted once, never 2.50 + 12.50.
    let c = paid(&app, 1, None).await; // 12.50
    refund(&app, c.id, "2.50", "").await.unwrap();
    app.cancel_order(c.id, "customer asked").await.unwrap();
    app.create_order(order(&[("MUG", 1)], None)).await.unwrap(); // unpaid 12.50
    let midnight = chrono::Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    let stats = app
        .store
        .order_stats(app.tenant.id, midnight)
        .await
        .unwrap();
    assert_eq!(stats.today_captured, vec![usd(5000)]);
    assert_eq!(stats.today_refunded, vec![usd(3000)]);
    assert_eq!(
        stats.today_revenue,
        vec![usd(2000)],
        "captured less refunded"
    );
    assert_eq!(
        (stats.today_unpaid_orders, stats.today_unpaid.clone()),
        (1, vec![usd(1250)])
    );
    assert_eq!(stats.today_orders, 4);
}

async fn test_customers_and_refunds_are_tenant_scoped(app: TestApp) {
    let o = paid(&app, 2, Some("ann@example.com")).await;
    refund(&app, o.id, "5.00", "").await.unwrap();
    let other = app.create_tenant("other").await;
    assert!(
        app.store
            .customers(other.id, 0, 100)
            .await
            .unwrap()
            .rows
            .is_empty()
    );
    assert!(
        app.store
            .customer(other.id, "ann@example.com", 0, 10)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        app.store
            .order_refunds(other.id, o.id)
            .await
            .unwrap()
            .is_empty()
    );
    let midnight = chrono::Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    assert!(
        app.store
            .order_stats(other.id, midnight)
            .await
            .unwrap()
            .today_refunded
            .is_empty()
    );
    // Another tenant cannot refund or return this tenant's order.
    let command = OrderAction::Refund
        .command(o.id, None, &["1.00", "x", ""])
        .unwrap();
    let e = app.exec_in(&other, command).await.unwrap_err();
    assert_eq!(domain(&e).kind(), "not_found", "{e}");
    let command = OrderAction::Return
        .command(o.id, None, &["MUG:1", "x", "yes"])
        .unwrap();
    assert_eq!(
        domain(&app.exec_in(&other, command).await.unwrap_err()).kind(),
        "not_found"
    );
    assert_eq!(app.gateway.refunds().len(), 1);
    assert_eq!(app.get_order(o.id).await.unwrap().refunded, usd(500));
}

/// The board's read model (`list_orders`, the console's cards and their cancel dialog) carries
/// what was captured and refunded: a partly refunded order's cancel names what is left, an
/// unpaid one's nothing — the amount the cancel then refunds at the gateway.
async fn test_the_board_s_summaries_carry_what_a_cancel_would_refund(app: TestApp) {
    let o = paid(&app, 2, Some("ann@example.com")).await;
    refund(&app, o.id, "5.00", "").await.unwrap();
    let unpaid = app.create_order(order(&[("MUG", 1)], None)).await.unwrap();
    let rows = app.orders(rustok_store::OrderFilter::default()).await;
    let summary = |id: OrderId| rows.iter().find(|r| r.id == id).unwrap().clone();
    let s = summary(o.id);
    assert_eq!(
        (s.captured, s.refunded, s.refundable(), s.cancel_refund()),
        (usd(2500), usd(500), usd(2000), usd(2000))
    );
    let u = summary(unpaid.id);
    assert_eq!(
        (u.captured, u.refunded, u.cancel_refund()),
        (usd(0), usd(0), usd(0))
    );
    // The cancel refunds exactly that.
    let before = app.gateway.refunds().len();
    app.cancel_order(o.id, "customer request").await.unwrap();
    let refunds = app.gateway.refunds();
    assert_eq!(refunds.len(), before + 1);
    assert_eq!(refunds.last().unwrap().request.amount, s.cancel_refund());
}
