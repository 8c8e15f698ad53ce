//! Reading orders back: by id, by filter and by search, and only the current tenant's.

use super::{domain, types};
use crate::support;
use rustok_domain::commerce::OrderCommand;
use rustok_domain::{Command, OrderStatus};
use rustok_store::OrderFilter;
use support::TestApp;
use support::fixtures::{order, product};

on_both_backends!(
    test_order_retrieval_and_search,
    test_commerce_tenant_isolation,
);

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
        Command::Order(OrderCommand::ConfirmOrder {
            id: o.id,
            expected_version: None,
        }),
        Command::Order(OrderCommand::PayOrder {
            expected_version: None,
            id: o.id,
            card_token: "tok_visa".into(),
        }),
        Command::Order(OrderCommand::CancelOrder {
            expected_version: None,
            id: o.id,
            reason: "no longer wanted".into(),
        }),
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
