//! The order board for real work: cards with customer, units, age and the whole amount at
//! 80×24 and 120×40 (five-digit counts, seven-digit amounts); the `/` filter by customer,
//! SKU or id with the selection pinned to the order; confirmations naming the order and its
//! amount, a required cancel reason, and no dialog submitting on the first Enter.

use crate::support;
use ratatui::crossterm::event::KeyCode;
use rustok_domain::Command;
use rustok_domain::commerce::{OrderAction, OrderCommand, OrderStatus};
use rustok_domain::{OrderId, read::MAX_ORDER_FILTER_CHARS};
use rustok_ui::Msg;
use support::*;
use uuid::Uuid;

fn on_orders(h: &mut Harness) {
    h.chars("4");
}

/// `n` orders in `status`, ids from `first`, placed a minute apart before 09:00, the first
/// of them for `cents`.
fn many(
    first: u128,
    n: u128,
    status: OrderStatus,
    cents: i64,
) -> Vec<rustok_domain::commerce::Order> {
    (0..n)
        .map(|k| {
            let mut o = order(1, status, cents - k as i64);
            o.id = OrderId::from_uuid(Uuid::from_u128(0x10_0000 + first + k));
            o.placed_at = at(0) - chrono::Duration::minutes(k as i64);
            o.customer = Some(if k % 2 == 0 {
                "procurement.department@very-long-company-name.example.com".into()
            } else {
                format!("ann{k}@example.com")
            });
            o
        })
        .collect()
}

/// A busy shop: 12,345 pending orders (the first of 5,782,415.30 USD), 157 confirmed, 1,024
/// paid, 10,001 shipped, none on hold or delivered.
fn busy_shop() -> Harness {
    let mut h = Harness::shop();
    h.orders = [
        many(0, 12_345, OrderStatus::Pending, 578_241_530),
        many(20_000, 157, OrderStatus::Confirmed, 123_456_789),
        many(30_000, 1_024, OrderStatus::Paid, 4_990),
        many(40_000, 10_001, OrderStatus::Shipped, 9_999_999),
    ]
    .concat();
    // Two hours after the newest order.
    h.send(Msg::Clock(at(0) + chrono::Duration::hours(2)));
    h
}

#[test]
fn board_80x24_with_five_digit_counts_and_seven_digit_amounts() {
    let mut h = busy_shop();
    h.resize(80, 24);
    on_orders(&mut h);
    let screen = h.screen();
    // The whole amount, the full count, the customer ellipsised, units and age.
    assert!(screen.contains("5,782,415.30 USD"), "{screen}");
    assert!(screen.contains("12,345"), "{screen}");
    assert!(screen.contains("procurement"), "{screen}");
    assert!(screen.contains("…"), "{screen}");
    assert!(screen.contains("3 items · 2h"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn board_120x40_with_five_digit_counts_and_seven_digit_amounts() {
    let mut h = busy_shop();
    on_orders(&mut h);
    let screen = h.screen();
    for text in [
        "5,782,415.30 USD",
        "1,234,567.89 USD",
        "12,345",
        "1,024",
        "157",
    ] {
        assert!(screen.contains(text), "{text}: {screen}");
    }
    insta::assert_snapshot!(screen);
}

/// At every width from 60 to 200 columns no amount on screen is cut: each card's total is
/// shown whole.
#[test]
fn amounts_are_never_cut_at_any_width() {
    let mut h = busy_shop();
    on_orders(&mut h);
    for w in (60..=200).step_by(7) {
        h.resize(w, 24);
        let screen = h.screen();
        for line in screen.lines().skip(2).take(18) {
            // A card's first row ends with its total: digits, separators and the code.
            if let Some(usd) = line.find(" USD") {
                let before = &line[..usd];
                let amount = before.rsplit(' ').next().unwrap_or("");
                assert!(
                    amount.contains('.')
                        && amount.chars().next().is_some_and(|c| c.is_ascii_digit()),
                    "width {w}: cut amount {amount:?} in {line}"
                );
            }
        }
    }
}

#[test]
fn the_filter_finds_orders_by_customer_sku_or_id_and_keeps_the_selection() {
    let mut h = Harness::shop();
    let mut tee = order(9, OrderStatus::Confirmed, 9_900);
    tee.items[1].sku = "TEE-M".into();
    h.orders.push(tee);
    on_orders(&mut h);
    h.chars("lj"); // confirmed, its second card: order 8
    h.chars("/customer8");
    let screen = h.screen();
    assert!(screen.contains("/ customer8"), "{screen}");
    assert!(screen.contains("confirmed 1"), "{screen}");
    assert!(screen.contains("pending 0"), "{screen}");
    h.key(KeyCode::Enter); // keeps the filter, keys go to the board again
    h.key(KeyCode::Enter); // opens the selected order: still order 8
    let screen = h.screen();
    assert!(screen.contains("00005008"), "{screen}");
    h.key(KeyCode::Esc);
    // By SKU (case ignored) and by the short id's digits.
    h.chars("/");
    for _ in 0.."customer8".len() {
        h.key(KeyCode::Backspace);
    }
    h.chars("tee-m");
    let screen = h.screen();
    assert!(screen.contains("confirmed 1"), "{screen}");
    assert!(screen.contains("00005009"), "{screen}");
    insta::assert_snapshot!(screen);
    for _ in 0.."tee-m".len() {
        h.key(KeyCode::Backspace);
    }
    h.chars("5004");
    let screen = h.screen();
    assert!(
        screen.contains("paid 1") && screen.contains("pending 0"),
        "{screen}"
    );
    // Esc clears it: every order again.
    h.key(KeyCode::Esc);
    let screen = h.screen();
    assert!(
        screen.contains("pending 2") && !screen.contains("Esc clears"),
        "{screen}"
    );
    // A filter that hides the selected order moves the selection; clearing it selects that
    // order again.
    // (Confirmed holds orders 3, 8 and 9; order 8 is selected again, as the id filter that
    // hid it was cleared above.)
    h.key(KeyCode::Enter);
    assert!(h.screen().contains("00005008"), "{}", h.screen());
    h.key(KeyCode::Esc);
    h.chars("/customer3");
    h.key(KeyCode::Enter);
    h.key(KeyCode::Enter);
    assert!(h.screen().contains("00005003"), "only order 3 matches");
    h.key(KeyCode::Esc); // the detail
    h.key(KeyCode::Esc); // the filter
    let screen = h.screen();
    assert!(!screen.contains("Esc clears"), "{screen}");
    h.key(KeyCode::Enter);
    let screen = h.screen();
    assert!(screen.contains("00005008"), "order 8 again: {screen}");
    h.key(KeyCode::Esc);
    // Bounded as it is typed.
    h.chars("/");
    h.send(Msg::Paste("x".repeat(MAX_ORDER_FILTER_CHARS * 3)));
    let screen = h.screen();
    assert!(
        !screen.contains(&"x".repeat(MAX_ORDER_FILTER_CHARS + 1)),
        "{screen}"
    );
    h.chars("y");
    assert!(h.screen().contains("at most 100 characters"));
}

#[test]
fn deliver_asks_for_a_confirmation_naming_the_order_and_its_amount() {
    let mut h = Harness::shop();
    on_orders(&mut h);
    h.chars("llll"); // shipped: order 5, 88.00 USD
    h.chars("d");
    let screen = h.screen();
    assert!(
        screen.contains("Deliver order 00005005 — 88.00 USD (shipped)?"),
        "{screen}"
    );
    assert!(
        screen.contains("[ Deliver order 00005005 · 88.00 USD ]"),
        "{screen}"
    );
    assert!(h.dispatched.is_empty(), "asked first");
    insta::assert_snapshot!(screen);
    h.key(KeyCode::Esc);
    assert!(h.dispatched.is_empty(), "Esc keeps the order as it is");
    h.chars("d");
    h.key(KeyCode::Enter);
    assert!(matches!(
        h.dispatched[0].1,
        Command::Order(OrderCommand::DeliverOrder { .. })
    ));
}

#[test]
fn cancel_requires_a_reason_and_a_second_enter() {
    let mut h = Harness::shop();
    on_orders(&mut h);
    h.chars("ll"); // paid: order 4, 29.99 USD — cancelling refunds
    h.chars("x");
    h.key(KeyCode::Enter);
    let screen = h.screen();
    assert!(screen.contains("reason: must not be empty"), "{screen}");
    assert!(h.dispatched.is_empty(), "an empty reason is refused");
    h.chars("Out of stock");
    h.key(KeyCode::Enter);
    assert!(
        h.dispatched.is_empty(),
        "the first Enter in the field moves to the button"
    );
    let screen = h.screen();
    assert!(
        screen.contains("Cancel order 00005004 (total 29.99 USD, paid)?"),
        "{screen}"
    );
    assert!(
        screen.contains("[ Cancel order 00005004 · refund 29.99 USD ]"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
    h.key(KeyCode::Enter);
    match &h.dispatched[0].1 {
        Command::Order(OrderCommand::CancelOrder { reason, .. }) => {
            assert_eq!(reason, "Out of stock")
        }
        other => panic!("{other:?}"),
    }
}

/// Every dialog: the first Enter in its first field never submits — pay (a default token),
/// ship, hold, new order, adjust stock.
#[test]
fn no_dialog_submits_on_the_first_enter_in_its_first_field() {
    let mut h = Harness::shop();
    on_orders(&mut h);
    for (keys, open) in [("ll", "p"), ("lll", "H"), ("ll", "s"), ("", "o")] {
        let mut h2 = Harness::shop();
        on_orders(&mut h2);
        h2.chars(keys);
        h2.chars(open);
        h2.key(KeyCode::Enter);
        assert!(h2.dispatched.is_empty(), "{open}: {}", h2.screen());
    }
    // Pay: Enter on the token, then Enter on the button.
    h.chars("l"); // confirmed
    h.chars("p");
    h.key(KeyCode::Enter);
    assert!(h.dispatched.is_empty());
    h.key(KeyCode::Enter);
    assert!(matches!(
        h.dispatched[0].1,
        Command::Order(OrderCommand::PayOrder { .. })
    ));
}

/// Which steps ask: those the domain declares `confirm` — every dangerous step among them
/// (a refund row declared `danger true` gets it with no console code).
#[test]
fn confirmation_follows_the_step_declarations() {
    for a in OrderAction::ALL {
        let step = a.step();
        assert!(!step.danger || step.confirm, "{a}: dangerous steps ask");
    }
    for a in [OrderAction::Ship, OrderAction::Deliver, OrderAction::Cancel] {
        assert!(a.step().confirm, "{a} asks");
    }
}
