//! A command sent again after it committed (its answer lost) is answered from the command log
//! and applied once, with one audit row.

use super::domain;
use crate::support;
use chrono::Utc;
use rustok_domain::audit::AuditOutcome;
use rustok_domain::commerce::OrderCommand;
use rustok_domain::{Command, CommandEnvelope};
use support::TestApp;
use support::fixtures::{order, product};

on_both_backends!(
    test_retried_commerce_commands_are_applied_once,
    test_a_command_sent_twice_through_the_queue_has_one_audit_row,
);

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

    let confirm = send(Command::Order(OrderCommand::ConfirmOrder {
        id,
        expected_version: None,
    }));
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
        Command::Order(OrderCommand::PayOrder {
            expected_version: None,
            id: order.id,
            card_token: "tok_chargeDeclined".into(),
        }),
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
