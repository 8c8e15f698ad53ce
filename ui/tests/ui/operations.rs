//! Snapshot and behaviour tests of the operations panes: the order board and its dialogs,
//! order detail, stock, the live event stream, and the dashboard.

use crate::support;
use rustok_domain::commerce::OrderCommand;

use ratatui::crossterm::event::KeyCode;
use rustok_domain::Command;
use rustok_domain::DomainError;
use rustok_domain::commerce::OrderStatus;
use rustok_domain::read::{Applied, Outcome};
use rustok_ui::{Failure, Msg};
use support::*;

fn on_orders(h: &mut Harness) {
    h.chars("4");
}

#[test]
fn board_empty() {
    let mut h = Harness::new(fixture_nodes());
    on_orders(&mut h);
    insta::assert_snapshot!(h.screen());
}

#[test]
fn board_busy() {
    let mut h = Harness::shop();
    on_orders(&mut h);
    let screen = h.screen();
    assert!(screen.contains("pending 2"), "{screen}");
    insta::assert_snapshot!(screen);
}

/// A role without `order:read` (an editor, say) is refused orders by the store: the board
/// and the dashboard say so, not as an error of the console, and ask no more.
#[test]
fn without_order_read_the_board_and_the_dashboard_say_not_permitted() {
    let mut h = Harness::with_orders_denied(fixture_nodes(), Default::default(), false, true);
    h.chars("1");
    let dashboard = h.screen();
    assert!(dashboard.contains("orders: not permitted"), "{dashboard}");
    assert!(
        dashboard.contains("not permitted: editor cannot read orders (needs order:read)"),
        "{dashboard}"
    );
    assert!(!dashboard.contains("could not load"), "{dashboard}");
    insta::assert_snapshot!("dashboard_without_order_read", dashboard);

    on_orders(&mut h);
    let board = h.screen();
    assert!(board.contains("Orders: not permitted"), "{board}");
    assert!(
        board.contains("editor cannot read orders (needs order:read)"),
        "{board}"
    );
    assert!(
        !board.contains("could not load"),
        "a denial is not an error:\n{board}"
    );
    assert!(
        !board.contains("p pay") && board.contains("i stock"),
        "the bar offers only what the role can see:\n{board}"
    );
    insta::assert_snapshot!("board_without_order_read", board);

    // Refused once per view: going back and forth asks nothing more.
    let asked = h.order_queries;
    h.chars("1");
    h.chars("4");
    h.chars("1");
    assert_eq!(
        h.order_queries, asked,
        "no more order queries after the denial"
    );
    // The stock list is the product's, which the role may read.
    h.chars("4");
    h.chars("i");
    let stock = h.screen();
    assert!(!stock.contains("not permitted"), "{stock}");
    assert!(stock.contains("MUG") || stock.contains("SKU"), "{stock}");
}

#[test]
fn pay_dialog_then_a_declined_payment_leaves_the_card_where_it_was() {
    let mut h = Harness::shop();
    on_orders(&mut h);
    h.chars("l"); // confirmed
    h.chars("p");
    insta::assert_snapshot!("pay_dialog", h.screen());
    for _ in 0.."tok_visa".len() {
        h.key(KeyCode::Backspace);
    }
    h.chars("tok_chargeDeclined");
    h.key(KeyCode::Enter);
    assert!(
        h.dispatched.is_empty(),
        "the first Enter moves to the button"
    );
    h.key(KeyCode::Enter);
    match &h.dispatched[0].1 {
        Command::Order(OrderCommand::PayOrder { card_token, .. }) => {
            assert_eq!(card_token, "tok_chargeDeclined")
        }
        other => panic!("expected a payment, got {other:?}"),
    }
    h.reply(Err(Failure::Domain(DomainError::PaymentDeclined {
        code: "card_declined".into(),
        reason: "card declined".into(),
    })));
    let screen = h.screen();
    assert!(
        screen.contains("payment declined: card declined — the order stays confirmed"),
        "{screen}"
    );
    assert!(
        screen.contains("confirmed 2"),
        "the card is still in its column"
    );
    insta::assert_snapshot!("declined_payment", screen);
}

#[test]
fn ship_dialog_requires_carrier_and_tracking() {
    let mut h = Harness::shop();
    on_orders(&mut h);
    h.chars("ll"); // paid
    h.chars("s");
    h.key(KeyCode::Tab);
    h.key(KeyCode::Enter);
    assert!(h.dispatched.is_empty());
    let screen = h.screen();
    assert!(screen.contains("carrier: must not be empty"), "{screen}");
    insta::assert_snapshot!(screen);
    h.key(KeyCode::Up); // back to the carrier (Tab goes on to the button)
    h.chars("DHL");
    h.key(KeyCode::Tab);
    h.chars("JD01");
    h.key(KeyCode::Enter);
    assert!(
        h.dispatched.is_empty(),
        "the last field's Enter moves to the button"
    );
    assert!(h.screen().contains("[ Ship order 00005004 · 29.99 USD ]"));
    h.key(KeyCode::Enter);
    assert!(
        matches!(&h.dispatched[0].1, Command::Order(OrderCommand::ShipOrder { carrier, tracking, .. }) if carrier == "DHL" && tracking == "JD01")
    );
}

#[test]
fn cancel_asks_for_a_reason_and_confirmation() {
    let mut h = Harness::shop();
    on_orders(&mut h);
    h.chars("ll"); // paid: cancelling refunds
    h.chars("x");
    h.chars("Out of stock");
    let screen = h.screen();
    assert!(
        screen.contains("refunds 29.99 USD; the stock goes back on hand"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
    h.key(KeyCode::Esc);
    assert!(h.dispatched.is_empty(), "Esc keeps the order");
    h.chars("x");
    h.key(KeyCode::Enter);
    assert!(h.dispatched.is_empty(), "an empty reason is refused");
    assert!(h.screen().contains("reason: must not be empty"));
}

#[test]
fn terminal_orders_refuse_transitions_on_the_spot() {
    let mut h = Harness::shop();
    on_orders(&mut h);
    h.chars("lllll"); // delivered
    h.chars("x");
    assert!(h.dispatched.is_empty());
    assert!(
        h.screen()
            .contains("cannot cancel order in status delivered")
    );
}

#[test]
fn new_order_form() {
    let mut h = Harness::shop();
    on_orders(&mut h);
    h.chars("o");
    h.chars("MUG:2 BEANS-1KG:x");
    h.key(KeyCode::Tab);
    h.chars("ann@example.com");
    h.key(KeyCode::Enter);
    let screen = h.screen();
    assert!(screen.contains("'x' is not a quantity"));
    insta::assert_snapshot!(screen);
}

#[test]
fn order_detail_with_timeline() {
    let mut h = Harness::shop();
    on_orders(&mut h);
    h.chars("l"); // confirmed: order 3 has a stored event
    h.key(KeyCode::Enter);
    let screen = h.screen();
    assert!(screen.contains("Timeline"));
    assert!(screen.contains("pending → confirmed"));
    assert!(screen.contains("Total 64.98 USD"));
    insta::assert_snapshot!(screen);
    // Confirming from the detail: the domain refuses (already confirmed) on the spot.
    h.chars("c");
    assert!(h.dispatched.is_empty());
}

#[test]
fn stock_list_and_adjust_dialog() {
    let mut h = Harness::shop();
    on_orders(&mut h);
    h.chars("i");
    insta::assert_snapshot!("stock_list", h.screen());
    h.chars("ja");
    h.chars("-2");
    h.key(KeyCode::Tab);
    h.chars("breakage");
    insta::assert_snapshot!("adjust_dialog", h.screen());
    h.key(KeyCode::Enter);
    assert!(
        h.dispatched.is_empty(),
        "the last field's Enter moves to the button"
    );
    h.key(KeyCode::Enter);
    assert!(
        matches!(&h.dispatched[0].1, Command::AdjustInventory { sku, by: -2, reason } if sku == "MUG" && reason == "breakage")
    );
}

fn with_events(h: &mut Harness) {
    h.send(Msg::Clock(at(40)));
    for e in h.stored.clone() {
        h.send(Msg::Event(arc(&e)));
    }
}

#[test]
fn events_following() {
    let mut h = Harness::shop();
    h.chars("5");
    with_events(&mut h);
    // A declined payment and a low-stock warning among the order events.
    let o = h.orders[2].clone();
    let mut failed = order_event(&o, 4, "confirmed", "confirmed").envelope;
    failed.event_type = "payment.failed".into();
    failed.payload = serde_json::json!({ "code": "card_declined", "reason": "card declined" });
    let mut low = order_event(&o, 5, "confirmed", "confirmed").envelope;
    low.event_type = "inventory.low".into();
    low.aggregate_type = "product".into();
    low.aggregate_id = h.stock[1].product_id.as_uuid();
    low.payload = serde_json::json!({ "sku": "MUG", "available": 4, "threshold": 5 });
    for (seq, e) in [(4, failed), (5, low)] {
        h.send(Msg::Event(rustok_domain::event::LiveEvent::new(seq, e)));
    }
    let screen = h.screen();
    assert!(screen.contains("following"));
    for kind in ["order.status_changed", "payment.failed", "inventory.low"] {
        assert!(screen.contains(kind), "{kind}:\n{screen}");
    }
    insta::assert_snapshot!(screen);
}

#[test]
fn events_paused_keeps_the_selection_and_counts_new_ones() {
    let mut h = Harness::shop();
    h.chars("5");
    with_events(&mut h);
    h.chars("j"); // moving off the newest pauses
    let o = h.orders[0].clone();
    h.send(Msg::Event(arc(&order_event(
        &o,
        10,
        "pending",
        "confirmed",
    ))));
    h.send(Msg::Event(arc(&order_event(&o, 11, "confirmed", "paid"))));
    let screen = h.screen();
    assert!(screen.contains("paused · 2 new"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn events_filtered_and_inspected() {
    let mut h = Harness::shop();
    h.chars("5");
    with_events(&mut h);
    h.chars("/paid");
    h.key(KeyCode::Enter);
    insta::assert_snapshot!("events_filtered", h.screen());
    h.chars("i");
    let screen = h.screen();
    assert!(screen.contains("\"event_type\": \"order.status_changed\""));
    insta::assert_snapshot!("events_inspecting", screen);
}

#[test]
fn dead_letters_can_be_retried() {
    let mut h = Harness::shop();
    h.chars("5");
    h.chars("D");
    let screen = h.screen();
    assert!(screen.contains("search-index: connection refused"));
    insta::assert_snapshot!(screen);
    h.chars("R");
    // A confirmation first, with the dry run's count; nothing is sent until yes.
    let screen = h.screen();
    assert!(
        screen.contains("Dry run: 1 dead letter would be put back in the queue"),
        "{screen}"
    );
    assert!(h.dispatched.is_empty());
    h.chars("y");
    // Re-driving is a command through the action queue (owners and admins, audited).
    let (id, command) = h
        .dispatched
        .last()
        .cloned()
        .expect("a command was dispatched");
    assert_eq!(
        command,
        Command::RetryDeadLetters {
            ids: vec![h.stored[2].envelope.id]
        }
    );
    h.send(Msg::Outcome(
        id,
        Ok(Applied {
            command_id: rustok_domain::CommandId::new_v7(),
            outcome: Outcome::Requeued(1),
            events: vec![],
        }),
    ));
    assert!(h.screen().contains("1 dead letter(s) back in the queue"));
}

#[test]
fn history_pages_from_the_store() {
    let mut h = Harness::shop();
    h.chars("5");
    h.chars("H");
    let screen = h.screen();
    assert!(screen.contains("History"));
    assert!(screen.contains("#3"));
    insta::assert_snapshot!(screen);
}

#[test]
fn enter_on_an_order_event_opens_that_order() {
    let mut h = Harness::shop();
    h.chars("5");
    with_events(&mut h);
    // The newest event belongs to order 5 (shipped).
    h.key(KeyCode::Enter);
    let screen = h.screen();
    let order = h.orders[4].clone();
    assert!(screen.contains(&format!("Order {}", order.id)), "{screen}");
    assert!(screen.contains("shipped"));
}

#[test]
fn an_order_walked_along_shows_up_in_the_events_pane() {
    let mut h = Harness::shop();
    on_orders(&mut h);
    h.chars("c"); // confirm the first pending order
    let Command::Order(OrderCommand::ConfirmOrder { id, .. }) = h.dispatched[0].1.clone() else {
        panic!("confirm")
    };
    let mut confirmed = h.orders.iter().find(|o| o.id == id).cloned().unwrap();
    confirmed.status = OrderStatus::Confirmed;
    h.reply(Ok(rustok_domain::read::Applied {
        command_id: rustok_domain::CommandId::new_v7(),
        outcome: Outcome::Order(confirmed.clone()),
        events: vec![],
    }));
    h.send(Msg::Event(arc(&order_event(
        &confirmed,
        20,
        "pending",
        "confirmed",
    ))));
    h.chars("5");
    let screen = h.screen();
    assert!(screen.contains("order.status_changed"));
    h.key(KeyCode::Enter);
    assert!(h.screen().contains(&format!("Order {id}")));
}

#[test]
fn dashboard_busy() {
    let mut h = Harness::shop();
    with_events(&mut h);
    h.send(Msg::Clock(at(41)));
    h.chars("1");
    let screen = h.screen();
    assert!(screen.contains("orders today  8"));
    assert!(screen.contains("TEE-M"), "low stock listed");
    insta::assert_snapshot!(screen);
}

/// After a role change (say a manager made editor), what the new role may not read leaves the
/// screen: order, payment and stock events in the Events pane and the dashboard's latest
/// events; the status bar shows the new role. (New events are gated by the runtime.)
#[test]
fn a_role_change_drops_what_the_new_role_may_not_read() {
    let mut h = Harness::shop();
    h.chars("5");
    with_events(&mut h);
    let before = h.screen();
    assert!(before.contains("order."), "{before}");
    h.send(Msg::Role(Some(rustok_domain::rbac::Role::Editor)));
    let after = h.screen();
    for hidden in ["order.", "payment.", "inventory."] {
        assert!(!after.contains(hidden), "{hidden} still shown:\n{after}");
    }
    assert!(after.contains("(editor)"), "{after}");
    h.chars("1");
    let dashboard = h.screen();
    assert!(!dashboard.contains("order."), "{dashboard}");
    // Deactivated: nothing is left.
    h.send(Msg::Role(None));
    h.chars("5");
    let gone = h.screen();
    assert!(
        gone.contains(" 0 kept") && gone.contains("(inactive)"),
        "{gone}"
    );
}

/// A new order step needs no code in the console: hold and release come from their
/// declarations (keys from the keymap, the form from the step's inputs, the bar from the
/// order's status).
#[test]
fn hold_asks_a_reason_and_release_acts_at_once_on_the_version_shown() {
    let mut h = Harness::shop();
    on_orders(&mut h);
    h.chars("ll"); // paid
    let screen = h.screen();
    assert!(
        screen.contains("H hold"),
        "the paid card offers hold: {screen}"
    );
    assert!(!screen.contains("r release"), "{screen}");
    h.chars("H");
    let screen = h.screen();
    assert!(screen.contains("Hold order 00005004"), "{screen}");
    assert!(screen.contains("Reason"), "{screen}");
    h.chars("fraud review");
    h.key(KeyCode::Enter);
    assert!(
        h.dispatched.is_empty(),
        "the first Enter moves to the button"
    );
    h.key(KeyCode::Enter);
    match &h.dispatched[0].1 {
        Command::Order(OrderCommand::HoldOrder {
            reason,
            expected_version,
            ..
        }) => {
            assert_eq!(reason.as_deref(), Some("fraud review"));
            assert!(expected_version.is_some(), "the version the card showed");
        }
        other => panic!("{other:?}"),
    }
    // A paid card cannot be released: refused on the spot, nothing sent.
    h.chars("r");
    assert_eq!(h.dispatched.len(), 1);
    assert!(h.screen().contains("cannot release order in status paid"));
    // The palette's verb is the same step.
    h.chars(":hold");
    h.key(KeyCode::Enter);
    assert!(h.screen().contains("Hold order 00005004"));
    h.key(KeyCode::Esc);
    assert_eq!(h.dispatched.len(), 1, "Esc sends nothing");
}

#[test]
fn a_held_order_is_released_without_a_form() {
    let mut h = Harness::shop();
    let held = order(9, OrderStatus::OnHold, 1500);
    let mut why = order_event(&held, 4, "paid", "on_hold");
    why.envelope.payload["reason"] = "fraud review".into();
    h.stored.push(why);
    h.orders.push(held);
    on_orders(&mut h);
    h.chars("lll"); // on hold
    let screen = h.screen();
    assert!(screen.contains("on hold 1"), "{screen}");
    assert!(screen.contains("r release"), "{screen}");
    // Its detail says why it is held.
    h.key(KeyCode::Enter);
    let screen = h.screen();
    assert!(screen.contains("paid → on_hold ·"), "{screen}");
    assert!(screen.contains("fraud review"), "{screen}");
    h.key(KeyCode::Esc);
    h.chars("r");
    assert!(matches!(
        &h.dispatched[0].1,
        Command::Order(OrderCommand::ReleaseOrder { .. })
    ));
    assert!(
        h.screen().contains("releasing"),
        "the spinner says what runs"
    );
}
