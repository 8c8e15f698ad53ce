//! Refunds, returns and customers in the console (issue 21): the refund and return dialogs
//! end on a button naming the order and what it gives back (the board's confirmation), and
//! never submit on the first Enter in the first field; the customer view is reachable from an
//! order.

use crate::support;
use ratatui::crossterm::event::KeyCode;
use rustok_domain::commerce::{OrderCommand, SkuQty};
use rustok_domain::{Command, DomainError};
use rustok_ui::Failure;
use support::*;

fn on_orders(h: &mut Harness) {
    h.chars("4");
}

#[test]
fn refund_dialog_asks_naming_the_order_and_the_amount() {
    let mut h = Harness::shop();
    on_orders(&mut h);
    h.chars("ll"); // paid: 00005004, 29.99 USD
    h.chars("$");
    h.chars("5");
    h.key(KeyCode::Enter);
    assert!(
        h.dispatched.is_empty(),
        "the first Enter moves to the next field"
    );
    // No reason: refused on the last field, nothing sent, the button not reached.
    h.key(KeyCode::Enter);
    h.key(KeyCode::Enter);
    assert!(h.dispatched.is_empty());
    assert!(h.screen().contains("✗ reason"), "{}", h.screen());
    h.key(KeyCode::Up);
    h.chars("scratched");
    h.key(KeyCode::Enter);
    h.key(KeyCode::Enter);
    assert!(
        h.dispatched.is_empty(),
        "asks first: the focus is on the button"
    );
    let screen = h.screen();
    assert!(
        screen.contains("[ Refund 5.00 USD of order 00005004 ]"),
        "the button names the order and the amount refunded: {screen}"
    );
    assert!(screen.contains("Enter confirm"), "{screen}");
    insta::assert_snapshot!("refund_dialog_confirm", screen);
    // Back to the fields (Shift-Tab), then to the button again: only Enter on it refunds.
    h.key(KeyCode::BackTab);
    h.key(KeyCode::Enter);
    assert!(h.dispatched.is_empty());
    h.key(KeyCode::Enter);
    let Command::Order(OrderCommand::RefundOrder {
        amount,
        reason,
        restock,
        expected_version,
        ..
    }) = &h.dispatched[0].1
    else {
        panic!("{:?}", h.dispatched)
    };
    assert_eq!(
        (amount.as_str(), reason.as_str(), restock.len()),
        ("5.00", "scratched", 0),
        "carried in the plain form"
    );
    assert_eq!(*expected_version, Some(3), "the version the card showed");
    // Refused for what it says (more than is left): the dialog comes back with the reason
    // and what was typed.
    h.reply(Err(Failure::Domain(DomainError::validation(
        "amount",
        "cannot refund 5.00 USD: 29.99 USD was captured, 27.00 USD already refunded, 2.99 USD left",
    ))));
    let screen = h.screen();
    assert!(
        screen.contains("✗ amount: cannot refund 5.00 USD"),
        "{screen}"
    );
    assert!(screen.contains("scratched"), "the text is kept: {screen}");
    assert!(
        screen.contains("[ Refund 5.00 USD of order 00005004 ]"),
        "{screen}"
    );
}

#[test]
fn return_dialog_names_the_units_and_whether_they_are_restocked() {
    let mut h = Harness::shop();
    on_orders(&mut h);
    h.chars("llll"); // shipped: 00005005
    h.chars("R");
    h.chars("MUG:1");
    h.key(KeyCode::Enter);
    assert!(h.dispatched.is_empty(), "the first Enter moves on");
    h.chars("broken");
    h.key(KeyCode::Tab);
    for _ in 0..3 {
        h.key(KeyCode::Backspace);
    }
    h.chars("no");
    h.key(KeyCode::Enter);
    assert!(h.dispatched.is_empty(), "asks first");
    let screen = h.screen();
    assert!(
        screen.contains("[ Return MUG:1 of order 00005005 · NOT restocked ]"),
        "{screen}"
    );
    insta::assert_snapshot!("return_dialog_confirm", screen);
    h.key(KeyCode::Enter);
    let Command::Order(OrderCommand::ReturnOrder {
        item,
        restock,
        reason,
        ..
    }) = &h.dispatched[0].1
    else {
        panic!("{:?}", h.dispatched)
    };
    assert_eq!(
        (item.0.clone(), *restock, reason.as_str()),
        (
            vec![SkuQty {
                sku: "MUG".into(),
                quantity: 1
            }],
            false,
            "broken"
        )
    );
}

#[test]
fn customer_view_from_an_order() {
    let mut h = Harness::shop();
    // Ann placed the first pending order and the paid one, which was partly refunded.
    for i in [0, 3] {
        h.orders[i].customer = Some("Ann@Example.com".into());
    }
    h.orders[3].refunded = rustok_domain::Money::new(500, rustok_domain::Currency::USD);
    on_orders(&mut h);
    h.chars("ll");
    h.key(KeyCode::Enter); // the paid order's detail
    assert!(
        h.screen()
            .contains("Captured 29.99 USD · refunded 5.00 USD · net 24.99 USD")
    );
    h.chars("u");
    let screen = h.screen();
    assert!(screen.contains("Customer ann@example.com"), "{screen}");
    assert!(
        screen.contains("24.99 USD"),
        "lifetime value net of refunds"
    );
    insta::assert_snapshot!("customer_view", screen);
    // Enter opens the selected order; Esc comes back to the customer, then to the board.
    h.key(KeyCode::Down);
    h.key(KeyCode::Enter);
    assert!(h.screen().contains("Timeline"));
    h.key(KeyCode::Esc);
    assert!(h.screen().contains("Customer ann@example.com"));
    // `u` again: every customer.
    h.chars("u");
    let screen = h.screen();
    assert!(screen.contains("LIFETIME VALUE"), "{screen}");
    insta::assert_snapshot!("customer_list", screen);
    h.key(KeyCode::Esc);
    assert!(h.screen().contains("pending 2"));
}

#[test]
fn cancelling_a_shipped_order_points_to_returns() {
    let mut h = Harness::shop();
    on_orders(&mut h);
    h.chars("llll"); // shipped
    h.chars("x");
    let screen = h.screen();
    assert!(
        screen.contains("refunds 88.00 USD, NOT restocked (goods in transit): record a return (R)"),
        "{screen}"
    );
}

/// Cancelling refunds what is left of what was captured (captured − refunded) for a paid
/// order and nothing for an unpaid one: the button and the help name exactly that, never the
/// order's total.
#[test]
fn cancel_names_what_it_refunds_not_the_order_total() {
    let mut h = Harness::shop();
    h.orders[3].refunded = rustok_domain::Money::new(500, rustok_domain::Currency::USD);
    on_orders(&mut h);
    h.chars("ll"); // paid: 00005004, 29.99 USD captured, 5.00 USD refunded already
    h.chars("x");
    let screen = h.screen();
    assert!(
        screen.contains("[ Cancel order 00005004 · refund 24.99 USD ]"),
        "the button names what is left, not the total: {screen}"
    );
    assert!(
        screen.contains("refunds 24.99 USD: 29.99 USD captured less 5.00 USD refunded already;"),
        "{screen}"
    );
    assert!(!screen.contains("· 29.99 USD ]"), "{screen}");
    insta::assert_snapshot!("cancel_partly_refunded", screen);
    h.key(KeyCode::Esc);

    // Unpaid (confirmed): nothing is refunded.
    h.chars("h");
    h.chars("x");
    let screen = h.screen();
    assert!(
        screen.contains("[ Cancel order 00005003 · no refund ]"),
        "{screen}"
    );
    assert!(
        screen.contains("nothing was paid, nothing is refunded; the reserved stock is released"),
        "{screen}"
    );
    h.key(KeyCode::Esc);

    // Refunded in full already: nothing more.
    let mut h = Harness::shop();
    h.orders[3].refunded = rustok_domain::Money::new(2999, rustok_domain::Currency::USD);
    on_orders(&mut h);
    h.chars("llx");
    let screen = h.screen();
    assert!(
        screen.contains("[ Cancel order 00005004 · no refund ]"),
        "{screen}"
    );
    assert!(
        screen.contains("refunds nothing: all 29.99 USD captured was refunded already"),
        "{screen}"
    );
}

/// Before an amount is typed, the refund's button names what can be refunded now (captured
/// − refunded), then follows what is typed; an amount that does not read says so.
#[test]
fn refund_button_names_what_is_left_until_an_amount_is_typed() {
    let mut h = Harness::shop();
    h.orders[3].refunded = rustok_domain::Money::new(500, rustok_domain::Currency::USD);
    on_orders(&mut h);
    h.chars("ll$");
    let screen = h.screen();
    assert!(
        screen.contains("[ Refund order 00005004 · type an amount, up to 24.99 USD ]"),
        "{screen}"
    );
    assert!(!screen.contains("· 29.99 USD ]"), "{screen}");
    assert!(
        screen.contains("at most 24.99 USD left (29.99 USD captured, 5.00 USD refunded already)"),
        "{screen}"
    );
    h.chars("7.5");
    assert!(h.screen().contains("[ Refund 7.50 USD of order 00005004 ]"));
    h.chars("x");
    assert!(
        h.screen()
            .contains("[ Refund order 00005004 · type an amount, up to 24.99 USD ]"),
        "an amount that does not read is no amount"
    );
}

/// The shop in a tenant whose locale is `de` (the screens print `1.234,50 USD`).
fn shop_in_de() -> Harness {
    let mut h = Harness::shop();
    let mut t = tenant();
    t.default_locale = locale("de");
    h.send(rustok_ui::Msg::TenantSwitched(Ok(t)));
    h
}

/// In a `de` tenant amounts are typed as the screens print them (`1.234,50`); the plain
/// `5.00` of scripts still reads; `1.234` (a thousand, or decimals?) is refused with how to
/// write either, in the dialog, and nothing is sent.
#[test]
fn amounts_are_typed_in_the_tenant_locale() {
    let mut h = shop_in_de();
    on_orders(&mut h);
    h.chars("ll$");
    let screen = h.screen();
    assert!(
        screen.contains("[ Refund order 00005004 · type an amount, up to 29,99 USD ]"),
        "{screen}"
    );
    assert!(
        screen.contains("amount e.g. 1.234,50 or 1234.50"),
        "{screen}"
    );
    h.chars("12,5");
    assert!(
        h.screen()
            .contains("[ Refund 12,50 USD of order 00005004 ]")
    );
    h.key(KeyCode::Enter);
    h.chars("scratched");
    h.key(KeyCode::Enter);
    h.key(KeyCode::Enter);
    h.key(KeyCode::Enter);
    let Command::Order(OrderCommand::RefundOrder { amount, .. }) = &h.dispatched[0].1 else {
        panic!("{:?}", h.dispatched)
    };
    assert_eq!(
        amount, "12.50",
        "carried in the plain form the command takes"
    );
    h.dispatched.clear();

    // The plain form of scripts reads too.
    let mut h = shop_in_de();
    on_orders(&mut h);
    h.chars("ll$");
    h.chars("5.00");
    assert!(h.screen().contains("[ Refund 5,00 USD of order 00005004 ]"));

    // Ambiguous: refused in the dialog, the whole message on screen.
    let mut h = shop_in_de();
    on_orders(&mut h);
    h.chars("ll$");
    h.chars("1.234");
    h.key(KeyCode::Enter);
    h.chars("scratched");
    h.key(KeyCode::Enter);
    h.key(KeyCode::Enter);
    h.key(KeyCode::Enter);
    assert!(h.dispatched.is_empty(), "{:?}", h.dispatched);
    let screen = h.screen();
    for part in [
        "✗ amount: '1.234' is ambiguous here ('.' groups thousands, as in",
        "1.234,50): write 1.234,00 or 1234 for a whole amount",
    ] {
        assert!(screen.contains(part), "{part}: {screen}");
    }
    insta::assert_snapshot!("refund_ambiguous_amount_de", screen);
}

/// A role without `order:read` pressing `u` stays where it was: the customers are asked
/// for first, and the refusal is said, not an empty Customers view.
#[test]
fn customers_refused_keep_the_view() {
    let mut h = Harness::with_orders_denied(fixture_nodes(), Default::default(), false, true);
    on_orders(&mut h);
    assert!(h.screen().contains("Orders: not permitted"));
    h.chars("u");
    let screen = h.screen();
    assert!(
        screen.contains("Orders: not permitted"),
        "the board stays: {screen}"
    );
    assert!(!screen.contains("LIFETIME VALUE"), "{screen}");
    assert!(!screen.contains(" Customers "), "{screen}");
    assert!(
        screen.contains("editor cannot read orders (needs order:read)"),
        "{screen}"
    );
    // The board's keys, not the customer list's.
    assert!(screen.contains("i stock"), "{screen}");
}

/// Item counts are grouped the tenant locale's way, as its money is: on the card, in the
/// customer's orders and in the order's lines.
#[test]
fn item_counts_are_grouped_by_the_tenant_locale() {
    let mut h = shop_in_de();
    h.orders[0].items[0].quantity = 1_234;
    h.orders[0].items[0].returned = 1_000;
    on_orders(&mut h);
    let screen = h.screen();
    assert!(
        screen.contains("1.235 items") || screen.contains("1.235×"),
        "{screen}"
    );
    assert!(!screen.contains("1235"), "{screen}");
    h.key(KeyCode::Enter);
    let screen = h.screen();
    assert!(screen.contains(" 1.234 × 12,50 USD"), "{screen}");
    assert!(screen.contains("1.000 returned"), "{screen}");
}
