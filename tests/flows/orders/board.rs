//! What the console's board and dashboard read: the board's filter by customer, SKU or id
//! (tenant-scoped, bounded), "revenue today" as captured payments less refunds (unpaid orders
//! apart), and a cancel's required reason.

use super::domain;
use crate::support;
use rustok_domain::read::MAX_ORDER_FILTER_CHARS;
use rustok_domain::{Currency, Money, OrderStatus};
use rustok_store::OrderFilter;
use support::TestApp;
use support::fixtures::{order, product};

on_both_backends!(
    test_board_filter_by_customer_sku_or_id,
    test_revenue_today_is_captured_less_refunded,
    test_cancel_needs_a_reason,
);

async fn test_board_filter_by_customer_sku_or_id(app: TestApp) {
    app.create_product(product("MUG-BLUE", "12.50", 10))
        .await
        .unwrap();
    app.create_product(product("TEE_M", "20.00", 10))
        .await
        .unwrap();
    let ann = app
        .create_order(order(&[("MUG-BLUE", 1)], Some("Ann@Example.com")))
        .await
        .unwrap();
    let bob = app
        .create_order(order(&[("TEE_M", 1)], Some("bob@shop.test")))
        .await
        .unwrap();
    // Another tenant's order matching every filter below is never listed.
    let other = app.create_tenant("globex").await;
    app.exec_in(
        &other,
        rustok_domain::Command::CreateProduct(product("MUG-BLUE", "1.00", 5)),
    )
    .await
    .unwrap();
    app.exec_in(
        &other,
        rustok_domain::Command::CreateOrder(order(&[("MUG-BLUE", 1)], Some("ann@example.com"))),
    )
    .await
    .unwrap();

    // Customer, case ignored; SKU, part of it; the id's last hex digits.
    assert_eq!(ids(&app, "ann@example").await, vec![ann.id]);
    assert_eq!(ids(&app, "mug").await, vec![ann.id]);
    assert_eq!(ids(&app, "tee_m").await, vec![bob.id]);
    let hex = bob.id.as_uuid().simple().to_string();
    assert_eq!(ids(&app, &hex[hex.len() - 8..]).await, vec![bob.id]);
    let mut both = vec![ann.id, bob.id];
    both.sort();
    assert_eq!(ids(&app, "  ").await, both, "blank is no filter");
    // `_` and `%` match themselves, not any character.
    assert_eq!(ids(&app, "e_m").await, vec![bob.id]);
    assert!(ids(&app, "%").await.is_empty());
    assert!(ids(&app, "nobody").await.is_empty());
    // Counted under the filter (the board's column headers).
    let page = app
        .store
        .list_orders(
            app.tenant.id,
            &OrderFilter {
                text: Some("example".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    // Bounded: longer than the limit is refused.
    let err = app
        .store
        .list_orders(
            app.tenant.id,
            &OrderFilter {
                text: Some("x".repeat(MAX_ORDER_FILTER_CHARS + 1)),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("the limit is 100"), "{err}");
}

async fn test_revenue_today_is_captured_less_refunded(app: TestApp) {
    app.create_product(product("MUG", "12.50", 100))
        .await
        .unwrap();
    let usd = |cents| Money::new(cents, Currency::USD);
    // Unpaid: one pending, one confirmed (not revenue).
    app.create_order(order(&[("MUG", 1)], None)).await.unwrap();
    let confirmed = app.create_order(order(&[("MUG", 2)], None)).await.unwrap();
    app.confirm_order(confirmed.id).await.unwrap();
    // Captured: one paid and shipped (4 × 12.50), one paid then cancelled (refunded, 8 × 12.50).
    let shipped = app.create_order(order(&[("MUG", 4)], None)).await.unwrap();
    app.confirm_order(shipped.id).await.unwrap();
    app.pay_order(shipped.id, "tok_visa").await.unwrap();
    app.ship_order(shipped.id, "UPS", "1Z").await.unwrap();
    let refunded = app.create_order(order(&[("MUG", 8)], None)).await.unwrap();
    app.confirm_order(refunded.id).await.unwrap();
    app.pay_order(refunded.id, "tok_visa").await.unwrap();
    app.cancel_order(refunded.id, "customer request")
        .await
        .unwrap();
    // Cancelled before payment: neither captured nor refunded nor unpaid.
    let dropped = app.create_order(order(&[("MUG", 16)], None)).await.unwrap();
    app.cancel_order(dropped.id, "duplicate").await.unwrap();

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
    assert_eq!(stats.today_orders, 5);
    assert_eq!(stats.today_captured, vec![usd(12 * 1250)]);
    assert_eq!(stats.today_refunded, vec![usd(8 * 1250)]);
    assert_eq!(
        stats.today_revenue,
        vec![usd(4 * 1250)],
        "captured less refunded"
    );
    assert_eq!(stats.today_unpaid_orders, 2);
    assert_eq!(stats.today_unpaid, vec![usd(3 * 1250)]);
    // Another tenant's day is its own.
    let other = app.create_tenant("globex").await;
    let theirs = app.store.order_stats(other.id, midnight).await.unwrap();
    assert_eq!(
        (theirs.today_orders, theirs.today_revenue.len()),
        (0, 0),
        "{theirs:?}"
    );
}

async fn test_cancel_needs_a_reason(app: TestApp) {
    app.create_product(product("MUG", "12.50", 10))
        .await
        .unwrap();
    let o = app.create_order(order(&[("MUG", 2)], None)).await.unwrap();
    let o = app.confirm_order(o.id).await.unwrap();
    let before = (app.outbox_events().await.len(), app.stock("MUG").await);
    let err = app.cancel_order(o.id, "   ").await.unwrap_err();
    assert_eq!(
        domain(&err).to_string(),
        "reason: must not be empty: say why the order is cancelled"
    );
    assert_eq!(app.get_order(o.id).await.unwrap(), o, "nothing changed");
    assert_eq!(
        (app.outbox_events().await.len(), app.stock("MUG").await),
        before
    );
}

/// The ids of the tenant's pending orders matching `text`, sorted.
async fn ids(app: &TestApp, text: &str) -> Vec<rustok_domain::OrderId> {
    let mut ids: Vec<_> = app
        .orders(OrderFilter {
            text: Some(text.to_string()),
            status: Some(OrderStatus::Pending),
            ..Default::default()
        })
        .await
        .into_iter()
        .map(|o| o.id)
        .collect();
    ids.sort();
    ids
}
