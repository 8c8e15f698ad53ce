//! The `product`, `inventory` and `order` commands of CLI.md through the real `rustok` binary:
//! issue 3's acceptance lines, one process per command as staff would script them.

use crate::support;

use serde_json::Value;
use support::cli::{Cli, product};

impl Cli {
    fn usage(&self, args: &[&str]) {
        assert_eq!(
            self.run(args).status.code(),
            Some(2),
            "{args:?} is a usage error"
        );
    }

    /// (orders, events, stock rows) of the default tenant: everything a refusal must leave alone.
    fn snapshot(&self) -> (Value, usize, Value) {
        let orders = self.json(&["order", "list", "--limit", "10000"]);
        let events = self.json(&["events", "list", "--limit", "100000"]);
        let stock = self.json(&["product", "list", "--limit", "10000"]);
        (orders, events.as_array().unwrap().len(), stock)
    }

    fn event_types(&self) -> Vec<String> {
        self.json(&["events", "list", "--limit", "100000"])
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event_type"].as_str().unwrap().to_string())
            .collect()
    }

    fn stock(&self, sku: &str) -> (i64, i64) {
        let p = self.json(&["product", "show", sku]);
        let v = &p["variants"][0];
        (
            v["on_hand"].as_i64().unwrap(),
            v["reserved"].as_i64().unwrap(),
        )
    }

    /// Creates an order and returns its id.
    fn order(&self, items: &[&str]) -> String {
        let mut args = vec!["order", "create"];
        for i in items {
            args.push("--item");
            args.push(i);
        }
        self.json(&args)["id"].as_str().unwrap().to_string()
    }
}

fn is_subsequence(needle: &[&str], hay: &[String]) -> bool {
    let mut it = hay.iter();
    needle.iter().all(|n| it.any(|h| h == n))
}

#[test]
fn mug_order_flow_to_paid() {
    let cli = Cli::new();
    let p = cli.json(&product("MUG", "12.50").stock(10).args());
    assert_eq!(p["variants"][0]["sku"], "MUG");
    assert_eq!(
        p["variants"][0]["price"],
        serde_json::json!({"amount": 1250, "currency": "USD"})
    );
    assert_eq!(p["variants"][0]["on_hand"], 10);
    assert_eq!(p["status"], "active");
    let before = cli.event_types().len();

    let o = cli.json(&["order", "create", "--item", "MUG:3"]);
    assert_eq!(o["status"], "pending");
    assert_eq!(
        o["total"],
        serde_json::json!({"amount": 3750, "currency": "USD"})
    );
    let id = o["id"].as_str().unwrap();
    assert_eq!(cli.json(&["order", "confirm", id])["status"], "confirmed");
    let paid = cli.json(&["order", "pay", id, "--card-token", "tok_visa"]);
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["version"], 3);

    assert_eq!(cli.stock("MUG"), (7, 0), "MUG on_hand 7");
    let list = cli.json(&["product", "list"]);
    let row = &list[0];
    assert_eq!(
        (
            &row["sku"],
            &row["on_hand"],
            &row["reserved"],
            &row["available"],
            &row["inventory_policy"],
            &row["low"]
        ),
        (
            &Value::from("MUG"),
            &Value::from(7),
            &Value::from(0),
            &Value::from(7),
            &Value::from("deny"),
            &Value::from(false)
        )
    );

    let shown = cli.json(&["order", "show", id]);
    assert_eq!(shown["status"], "paid");
    assert_eq!(shown["items"][0]["sku"], "MUG");
    assert_eq!(shown["items"][0]["quantity"], 3);
    assert_eq!(shown["items"][0]["unit_price"]["amount"], 1250);
    for t in ["placed_at", "confirmed_at", "paid_at"] {
        chrono::DateTime::parse_from_rfc3339(shown[t].as_str().unwrap()).expect("RFC 3339");
    }
    assert!(shown["shipped_at"].is_null());

    // Events oldest first; the sequence, with the reservation's inventory.updated
    // between the confirmation and the payment.
    let events = cli.json(&["events", "list", "--limit", "100000"]);
    let events = &events.as_array().unwrap()[before..];
    let types: Vec<String> = events
        .iter()
        .map(|e| e["event_type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        types,
        [
            "order.placed",
            "order.status_changed",
            "inventory.updated",
            "payment.succeeded",
            "order.status_changed",
            "inventory.updated"
        ]
    );
    assert!(is_subsequence(
        &[
            "order.placed",
            "order.status_changed",
            "payment.succeeded",
            "order.status_changed",
            "inventory.updated"
        ],
        &types
    ));
    assert_eq!(events[1]["payload"]["to"], "confirmed");
    assert_eq!(events[4]["payload"]["to"], "paid");
    assert_eq!(events[5]["payload"]["on_hand"], 7);
    assert_eq!(events[5]["aggregate_id"], p["id"]);
    assert_eq!(events[3]["payload"]["amount"]["amount"], 3750);

    // The order's own story ties the stock moves to it.
    let story = cli.json(&["order", "events", id]);
    assert_eq!(story.as_array().unwrap().len(), 6);

    // Human output.
    let out = cli.run(&["order", "show", id]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("paid") && text.contains("37.50 USD"),
        "{text}"
    );
}

#[test]
fn declined_payment_exits_1_and_changes_nothing_but_records_the_failure() {
    let cli = Cli::new();
    cli.json(&product("MUG", "12.50").stock(10).args());
    let id = cli.order(&["MUG:2"]);
    cli.json(&["order", "confirm", &id]);
    let before = cli.json(&["order", "show", &id]);
    let events_before = cli.event_types();

    let err = cli.refused(&["order", "pay", &id, "--card-token", "tok_chargeDeclined"]);
    assert_eq!(err.trim_end(), "error: payment declined: card declined");
    assert_eq!(cli.json(&["order", "show", &id]), before, "still confirmed");
    assert_eq!(before["status"], "confirmed");
    assert_eq!(cli.stock("MUG"), (10, 2), "stock unchanged");
    let events = cli.event_types();
    assert_eq!(events.len(), events_before.len() + 1);
    assert_eq!(events.last().unwrap(), "payment.failed");
    let failed = cli.json(&["events", "list", "--type", "payment.failed"]);
    assert_eq!(failed[0]["payload"]["code"], "card_declined");
    assert_eq!(failed[0]["aggregate_id"].as_str(), Some(id.as_str()));

    // An invalid token likewise.
    let err = cli.refused(&["order", "pay", &id, "--card-token", "tok_nonsense"]);
    assert!(err.contains("invalid card token"), "{err}");
    assert_eq!(cli.json(&["order", "show", &id])["status"], "confirmed");
    assert_eq!(
        cli.json(&["events", "list", "--type", "payment.failed"])
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // And then a good card pays.
    cli.json(&["order", "pay", &id, "--card-token", "tok_mastercard"]);
    assert_eq!(cli.stock("MUG"), (8, 0));
}

#[test]
fn refused_orders_exit_1_with_a_reason_and_change_nothing() {
    let cli = Cli::new();
    cli.json(&product("MUG", "12.50").stock(2).args());
    let before = cli.snapshot();
    for (args, reason) in [
        (
            vec!["order", "create", "--item", "NOPE:1"],
            "product with sku NOPE not found",
        ),
        (
            vec!["order", "create", "--item", "MUG:0"],
            "must be at least 1, got 0",
        ),
        (
            vec!["order", "create", "--item", "MUG:-1"],
            "must be at least 1, got -1",
        ),
        (vec!["order", "create"], "an order needs at least one item"),
        (vec!["order", "create", "--item", "MUG"], "SKU:QTY"),
        (vec!["order", "create", "--item", "MUG:two"], "whole number"),
        (
            vec!["order", "create", "--item", "MUG:1", "--customer", "nobody"],
            "not a valid email",
        ),
        (vec!["order", "confirm", "not-a-uuid"], "is not an id"),
    ] {
        let err = cli.refused(&args);
        assert!(err.contains(reason), "{args:?}: {err}");
    }
    assert_eq!(cli.snapshot(), before, "refusals change nothing");

    // Confirming more than is available under deny.
    let id = cli.order(&["MUG:3"]);
    let after_create = cli.snapshot();
    let err = cli.refused(&["order", "confirm", &id]);
    assert!(
        err.contains("only 2 of MUG available, 3 requested"),
        "{err}"
    );
    assert_eq!(cli.snapshot(), after_create);
    assert_eq!(cli.json(&["order", "show", &id])["status"], "pending");
    assert_eq!(cli.stock("MUG"), (2, 0));
}

#[test]
fn totals_are_exact() {
    let cli = Cli::new();
    cli.json(&product("A", "19.99").title("Alpha").stock(10).args());
    cli.json(&product("B", "5.01").title("Beta").stock(10).args());
    let o = cli.json(&["order", "create", "--item", "A:3", "--item", "B:1"]);
    assert_eq!(o["total"]["amount"], 6498);
    assert_eq!(o["total"]["currency"], "USD");
    assert_eq!(o["items"][0]["title"], "Alpha");
    assert_eq!(o["items"][1]["unit_price"]["amount"], 501);
    let out = cli.run(&["order", "show", o["id"].as_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("64.98 USD"));
    // Prices are parsed exactly or refused, never rounded.
    for (price, reason) in [("19.999", "price"), ("1e3", "price"), ("-1", "price")] {
        let err = cli.refused(&product("X", price).args());
        assert!(err.contains(reason), "{price}: {err}");
    }
    let err = cli.refused(&product("X", "1").currency("XXX").args());
    assert!(err.contains("currency"), "{err}");
    let yen = cli.json(&product("Y", "500").currency("JPY").args());
    assert_eq!(yen["variants"][0]["price"]["amount"], 500);
}

#[test]
fn cancel_paid_restocks_and_refunds_cancel_delivered_is_refused() {
    let cli = Cli::new();
    cli.json(&product("MUG", "12.50").stock(10).args());
    let id = cli.order(&["MUG:3"]);
    cli.json(&["order", "confirm", &id]);
    let paid = cli.json(&["order", "pay", &id, "--card-token", "tok_visa"]);
    assert_eq!(cli.stock("MUG"), (7, 0));

    // The reason is required: without it a usage error (exit 2), blank refused (exit 1);
    // either way nothing changes.
    let before = cli.snapshot();
    assert_eq!(cli.run(&["order", "cancel", &id]).status.code(), Some(2));
    let err = cli.refused(&["order", "cancel", &id, "--reason", "  "]);
    assert!(err.contains("reason: must not be empty"), "{err}");
    assert_eq!(cli.snapshot(), before);

    // A separate process cancels: the refund goes through the gateway, the stock comes back.
    let c = cli.json(&["order", "cancel", &id, "--reason", "customer changed mind"]);
    assert_eq!(c["status"], "cancelled");
    assert_eq!(c["cancel_reason"], "customer changed mind");
    assert_eq!(cli.stock("MUG"), (10, 0), "restocked");
    let refunds = cli.json(&["events", "list", "--type", "payment.refunded"]);
    let refunds = refunds.as_array().unwrap();
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0]["aggregate_id"].as_str(), Some(id.as_str()));
    assert_eq!(refunds[0]["payload"]["amount"]["amount"], 3750);
    assert_eq!(
        refunds[0]["payload"]["reference"],
        paid["payment_reference"]
    );
    let types = cli.event_types();
    assert_eq!(
        &types[types.len() - 4..],
        [
            "order.status_changed",
            "order.cancelled",
            "payment.refunded",
            "inventory.updated"
        ]
    );
    cli.refused(&["order", "cancel", &id, "--reason", "again"]);

    // Delivered is terminal.
    let d = cli.order(&["MUG:1"]);
    cli.json(&["order", "confirm", &d]);
    cli.json(&["order", "pay", &d, "--card-token", "tok_visa"]);
    let shipped = cli.json(&[
        "order",
        "ship",
        &d,
        "--carrier",
        "UPS",
        "--tracking",
        "1Z999",
    ]);
    assert_eq!(
        (&shipped["carrier"], &shipped["tracking_number"]),
        (&Value::from("UPS"), &Value::from("1Z999"))
    );
    assert_eq!(cli.json(&["order", "deliver", &d])["status"], "delivered");
    let before = cli.snapshot();
    let err = cli.refused(&["order", "cancel", &d, "--reason", "too late"]);
    assert!(
        err.contains("cannot cancel order in status delivered"),
        "{err}"
    );
    assert_eq!(cli.snapshot(), before);
    assert_eq!(cli.json(&["order", "show", &d])["status"], "delivered");
    assert_eq!(cli.stock("MUG"), (9, 0));
}

#[test]
fn inventory_list_search_and_usage_errors() {
    let cli = Cli::new();
    cli.json(
        &product("MUG", "12.50")
            .title("Mug")
            .stock(10)
            .low_stock(3)
            .args(),
    );
    cli.json(
        &product("TEE", "20")
            .title("Tee")
            .stock(1)
            .policy("continue")
            .args(),
    );
    let row = cli.json(&[
        "inventory",
        "adjust",
        "MUG",
        "--by",
        "-3",
        "--reason",
        "damaged",
    ]);
    assert_eq!(
        (row["on_hand"].as_i64(), row["low"].as_bool()),
        (Some(7), Some(false))
    );
    let row = cli.json(&["inventory", "adjust", "MUG", "--by", "-4"]);
    assert_eq!(
        (row["available"].as_i64(), row["low"].as_bool()),
        (Some(3), Some(true))
    );
    let low = cli.json(&["events", "list", "--type", "inventory.low"]);
    assert_eq!(low[0]["payload"]["threshold"], 3);
    let err = cli.refused(&["inventory", "adjust", "MUG", "--by", "-4"]);
    assert!(err.contains("only 3 on hand"), "{err}");
    cli.refused(&["inventory", "adjust", "MUG", "--by", "0"]);
    assert!(
        cli.refused(&["inventory", "adjust", "NOPE", "--by", "1"])
            .contains("not found")
    );
    cli.json(&["inventory", "adjust", "TEE", "--by", "9"]);
    let low = cli.json(&["product", "list", "--low"]);
    let low: Vec<&str> = low
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["sku"].as_str().unwrap())
        .collect();
    assert_eq!(low, ["MUG"], "TEE (10 on hand, threshold 5) is not low");

    // Backorders under continue.
    let tee = cli.order(&["TEE:12"]);
    cli.json(&["order", "confirm", &tee]);
    assert_eq!(
        cli.stock("TEE"),
        (10, 12),
        "reserved beyond what is on hand"
    );
    let tee_product = cli.json(&["product", "show", "TEE"]);
    assert_eq!(
        cli.json(&["product", "show", tee_product["id"].as_str().unwrap()]),
        tee_product,
        "by id or by SKU"
    );
    assert!(
        cli.refused(&["product", "show", "NOPE"])
            .contains("not found")
    );
    assert!(
        cli.refused(&product("MUG", "1").args())
            .contains("sku 'MUG' already exists")
    );

    // Lists and searches.
    let m1 = cli.json(&[
        "order",
        "create",
        "--item",
        "MUG:1",
        "--customer",
        "ann@example.com",
    ])["id"]
        .clone();
    let m2 = cli.order(&["MUG:2", "TEE:1"]);
    let ids = |v: Value| -> Vec<Value> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].clone())
            .collect()
    };
    assert_eq!(
        ids(cli.json(&["order", "search", "--sku", "MUG"])),
        [Value::from(m2.clone()), m1.clone()]
    );
    assert_eq!(
        ids(cli.json(&["order", "search", "--sku", "TEE"])),
        [Value::from(m2.clone()), Value::from(tee.clone())]
    );
    assert_eq!(
        ids(cli.json(&["order", "search", "--customer", "ANN@example.com"])),
        std::slice::from_ref(&m1)
    );
    assert_eq!(
        ids(cli.json(&["order", "list", "--status", "confirmed"])),
        [Value::from(tee.clone())]
    );
    assert_eq!(
        ids(cli.json(&["order", "search", "--status", "pending", "--sku", "TEE"])),
        [Value::from(m2.clone())]
    );
    assert_eq!(cli.json(&["order", "list"]).as_array().unwrap().len(), 3);
    cli.refused(&["order", "list", "--status", "lost"]);

    // Usage errors exit 2.
    cli.usage(&["order", "pay", &m2]);
    cli.usage(&["order", "search"]);
    cli.usage(&["order", "ship", &m2, "--carrier", "UPS"]);
    cli.usage(&["product", "create", "--sku", "X", "--currency", "USD"]);
    cli.usage(&["inventory", "adjust", "MUG", "--by", "many"]);
    // Other tenants see nothing.
    cli.json(&["tenant", "create", "other", "--name", "Other"]);
    assert!(
        cli.refused(&["--tenant", "other", "product", "show", "MUG"])
            .contains("not found")
    );
    assert_eq!(
        cli.json(&["--tenant", "other", "order", "search", "--sku", "MUG"]),
        Value::Array(vec![])
    );
    assert!(
        cli.refused(&["--tenant", "other", "order", "show", m1.as_str().unwrap()])
            .contains("not found")
    );
}

#[test]
fn escape_sequences_in_product_titles_never_reach_the_terminal() {
    let cli = Cli::new();
    let title = "Evil \x1b[2J\x1b]0;pwned\x07 mug";
    cli.json(&product("EVIL", "1").title(title).stock(5).args());
    let id = cli.order(&["EVIL:1"]);
    for args in [
        vec!["product", "list"],
        vec!["product", "show", "EVIL"],
        vec!["order", "show", id.as_str()],
        vec!["order", "list"],
    ] {
        let out = cli.run(&args);
        assert!(out.status.success());
        assert!(!out.stdout.contains(&0x1b), "{args:?} printed a raw ESC");
        assert!(!out.stdout.contains(&0x07), "{args:?} printed a raw BEL");
    }
    let err = cli.run(&["order", "create", "--item", "\x1b[2J:1"]);
    assert_eq!(err.status.code(), Some(1));
    assert!(!err.stderr.contains(&0x1b), "errors are terminal-safe too");
}

// ---------------------------------------------------------------------------------------------
// Issue 16, item 7: money and stock edges, on SQLite and PostgreSQL.

/// A free item (price 0) used to be accepted but its order could never be paid: the gateway
/// refuses to charge 0 (`amount must be positive`). Now an order whose total is 0 is paid
/// without asking the gateway (reference `free_…`, any card token), and cancelled without a
/// refund; stock moves as for any order.
#[test]
fn price_zero_order_is_paid_without_the_gateway() {
    Cli::on_both_backends(|cli| {
        let p = cli.json(&product("GIFT", "0").stock(5).args());
        assert_eq!(p["variants"][0]["price"]["amount"], 0);
        let id = cli.order(&["GIFT:2"]);
        assert_eq!(cli.json(&["order", "show", &id])["total"]["amount"], 0);
        cli.json(&["order", "confirm", &id]);
        let paid = cli.json(&["order", "pay", &id, "--card-token", "tok_chargeDeclined"]);
        assert_eq!(paid["status"], "paid");
        let reference = paid["payment_reference"].as_str().unwrap().to_string();
        assert!(reference.starts_with("free_"), "{reference}");
        assert_eq!(cli.stock("GIFT"), (3, 0), "sold");
        let succeeded = cli.json(&["events", "list", "--type", "payment.succeeded"]);
        assert_eq!(succeeded[0]["payload"]["amount"]["amount"], 0);
        assert_eq!(
            cli.json(&["events", "list", "--type", "payment.failed"]),
            Value::Array(vec![])
        );

        let c = cli.json(&["order", "cancel", &id, "--reason", "gift withdrawn"]);
        assert_eq!(c["status"], "cancelled");
        assert_eq!(cli.stock("GIFT"), (5, 0), "restocked");
        assert_eq!(
            cli.json(&["events", "list", "--type", "payment.refunded"]),
            Value::Array(vec![]),
            "nothing charged, nothing refunded"
        );

        // A free item next to a priced one: the total is charged through the gateway.
        cli.json(&product("MUG", "12.50").stock(5).args());
        let mixed = cli.order(&["GIFT:1", "MUG:1"]);
        cli.json(&["order", "confirm", &mixed]);
        let err = cli.refused(&["order", "pay", &mixed, "--card-token", "tok_chargeDeclined"]);
        assert!(err.contains("card declined"), "{err}");
        let paid = cli.json(&["order", "pay", &mixed, "--card-token", "tok_visa"]);
        assert!(
            paid["payment_reference"]
                .as_str()
                .unwrap()
                .starts_with("ch_sandbox_")
        );
    });
}

/// The overflow attack of issue 16: one order of `SKU:9223372036854775807` under the
/// `continue` policy made every later confirm of that SKU fail. A line is now 1 to 1,000,000
/// units (refused with exit 1, the domain's message), stock and adjustments 0 to
/// 1,000,000,000 (clap refuses a flag out of range with exit 2).
#[test]
fn quantity_over_the_maximum_is_refused() {
    Cli::on_both_backends(|cli| {
        cli.json(&product("TEE", "20").stock(1).policy("continue").args());
        let before = cli.snapshot();
        for qty in ["1000001", "9223372036854775807", "99999999999999999999999"] {
            let item = format!("TEE:{qty}");
            let err = cli.refused(&["order", "create", "--item", &item]);
            assert!(
                err.contains("quantity of TEE must be at most 1000000 per order line"),
                "{item}: {err}"
            );
        }
        let err = cli.refused(&[
            "order",
            "create",
            "--item",
            "TEE:600000",
            "--item",
            "TEE:600000",
        ]);
        assert!(err.contains("at most 1000000"), "{err}");
        let err = cli.refused(&["order", "create", "--item", "TEE:-99999999999999999999"]);
        assert!(err.contains("must be at least 1"), "{err}");
        assert_eq!(cli.snapshot(), before, "refusals change nothing");

        // The maximum is accepted, and a later order of the same SKU still confirms.
        let big = cli.order(&["TEE:1000000"]);
        cli.json(&["order", "confirm", &big]);
        let next = cli.order(&["TEE:1"]);
        assert_eq!(
            cli.json(&["order", "confirm", &next])["status"],
            "confirmed"
        );
        assert_eq!(cli.stock("TEE"), (1, 1_000_001));

        // Stock flags out of range are usage errors; an adjustment past the maximum on hand
        // is refused by the domain.
        for args in [
            &product("X", "1").stock(1000000001).args()[..],
            &product("X", "1").stock("-1").args()[..],
            &product("X", "1").low_stock(i64::MAX).args()[..],
            &["inventory", "adjust", "TEE", "--by", "9223372036854775807"][..],
            &["inventory", "adjust", "TEE", "--by", "-1000000001"][..],
        ] {
            cli.usage(args);
        }
        cli.json(&["inventory", "adjust", "TEE", "--by", "999999999"]);
        let err = cli.refused(&["inventory", "adjust", "TEE", "--by", "1"]);
        assert!(
            err.contains("at most 1000000000 units can be on hand"),
            "{err}"
        );
    });
}

/// Hold and release, declared as two rows of the domain's order steps: their CLI verbs,
/// flags and help come from those rows. A held order cannot be shipped; its reason is in the
/// status change; a held order cancelled is refunded and restocked; `--expected-version`
/// refuses a step on an order that changed since.
#[test]
fn hold_blocks_shipping_until_released_and_steps_take_an_expected_version() {
    let cli = Cli::new();
    cli.json(&product("MUG", "12.50").stock(10).args());
    let id = cli.order(&["MUG:2"]);
    cli.json(&["order", "confirm", &id]);
    cli.json(&["order", "pay", &id, "--card-token", "tok_visa"]);
    // Only a paid order can be held; the help is the row's doc.
    let help = String::from_utf8(cli.run(&["order", "hold", "--help"]).stdout).unwrap();
    assert!(help.contains("paid → on hold"), "{help}");
    assert!(help.contains("--reason <REASON>"), "{help}");
    assert!(help.contains("--expected-version <N>"), "{help}");

    let held = cli.json(&["order", "hold", &id, "--reason", "fraud review"]);
    assert_eq!(held["status"], "on_hold");
    let version = held["version"].as_i64().unwrap();
    let err = cli.refused(&["order", "ship", &id, "--carrier", "UPS", "--tracking", "1Z"]);
    assert!(err.contains("cannot ship order in status on_hold"), "{err}");
    let changes = cli.json(&["events", "list", "--type", "order.status_changed"]);
    let last = changes.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["payload"]["to"], "on_hold");
    assert_eq!(last["payload"]["reason"], "fraud review");
    let on_hold = cli.json(&["order", "list", "--status", "on_hold"]);
    assert_eq!(on_hold.as_array().map(Vec::len), Some(1), "{on_hold}");

    // A stale version is refused and changes nothing; the shown one goes through.
    let stale = (version - 1).to_string();
    let err = cli.refused(&["order", "release", &id, "--expected-version", &stale]);
    assert!(err.contains("version"), "{err}");
    let released = cli.json(&[
        "order",
        "release",
        &id,
        "--expected-version",
        &version.to_string(),
    ]);
    assert_eq!(released["status"], "paid");
    cli.refused(&["order", "release", &id]);

    // Held again, then cancelled: refunded and restocked like a paid order.
    cli.json(&["order", "hold", &id]);
    let c = cli.json(&["order", "cancel", &id, "--reason", "chargeback"]);
    assert_eq!(c["status"], "cancelled");
    assert_eq!(cli.stock("MUG"), (10, 0), "restocked");
    let refunds = cli.json(&["events", "list", "--type", "payment.refunded"]);
    assert_eq!(refunds.as_array().unwrap().len(), 1);

    // The audit log names the steps by their commands.
    let log = cli.json(&["audit", "log", "--limit", "20"]);
    let names: Vec<&str> = log["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["command"].as_str())
        .collect();
    assert!(
        names.contains(&"hold_order") && names.contains(&"release_order"),
        "{names:?}"
    );
    // A blank required flag is refused by the step's declaration, not a panic.
    let other = cli.order(&["MUG:1"]);
    cli.json(&["order", "confirm", &other]);
    cli.json(&["order", "pay", &other, "--card-token", "tok_visa"]);
    let err = cli.refused(&[
        "order",
        "ship",
        &other,
        "--carrier",
        " ",
        "--tracking",
        "1Z",
    ]);
    assert!(err.contains("carrier: must not be empty"), "{err}");
}

/// Issue 21, item 3: `order note` through the real binary — a note with a mention leaves the
/// order's version alone and shows in `order show` (`notes[]`, JSON and text); an unknown
/// handle is refused with the close matches (exit 1, nothing written); support reads the
/// notes but cannot write one; an editor gets neither; another tenant sees none.
fn order_notes_with_mentions(cli: Cli) {
    for (h, role) in [("bob", "manager"), ("sue", "support"), ("ed", "editor")] {
        cli.json(&["staff", "add", h, "--role", role]);
    }
    cli.json(&product("MUG", "12.50").stock(5).args());
    let id = cli.order(&["MUG:1"]);
    let before = cli.json(&["order", "show", &id]);
    assert_eq!(before["notes"], serde_json::json!([]));

    let note = cli.json(&[
        "order",
        "note",
        &id,
        "--text",
        "customer called: new address — @bob @Sue please check",
    ]);
    assert_eq!(note["mentions"], serde_json::json!(["bob", "sue"]));
    assert_eq!(note["order_id"], id.as_str());
    let shown = cli.json(&["order", "show", &id]);
    assert_eq!(shown["version"], before["version"], "a note is not a step");
    assert_eq!(shown["status"], "pending");
    let notes = shown["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["id"], note["id"]);
    assert_eq!(
        notes[0]["text"],
        "customer called: new address — @bob @Sue please check"
    );
    assert!(cli.event_types().contains(&"order.note_added".to_string()));
    let text = cli.run(&["order", "show", &id]);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("notes (1)"), "{text}");
    assert!(text.contains(": customer called: new address"), "{text}");

    // An unknown handle: refused with the close matches, nothing written.
    let (orders, events, _) = cli.snapshot();
    let err = cli.refused(&["order", "note", &id, "--text", "@bbo look"]);
    assert_eq!(
        err.trim_end(),
        "error: mention: @bbo is not a staff member; did you mean @bob?"
    );
    let err = cli.refused(&["order", "note", &id, "--text", "@ed look"]);
    assert_eq!(
        err.trim_end(),
        "error: mention: @ed cannot read orders (editor)"
    );
    let (orders_after, events_after, _) = cli.snapshot();
    assert_eq!((orders_after, events_after), (orders, events));

    // Support reads the notes and writes none; an editor reads and writes nothing.
    assert_eq!(
        cli.json(&["--as", "sue", "order", "show", &id])["notes"][0]["id"],
        note["id"]
    );
    let err = cli.refused(&["--as", "sue", "order", "note", &id, "--text", "hi"]);
    assert_eq!(
        err.trim_end(),
        "error: permission denied: support cannot write order notes (needs order:note)"
    );
    let err = cli.refused(&["--as", "ed", "order", "note", &id, "--text", "hi"]);
    assert!(err.contains("editor cannot write order notes"), "{err}");
    let err = cli.refused(&["--as", "ed", "order", "show", &id]);
    assert!(err.contains("editor cannot read orders"), "{err}");
    // Managers write notes.
    let by_bob = cli.json(&["--as", "bob", "order", "note", &id, "--text", "done"]);
    assert_eq!(by_bob["author"], "bob");

    // Another tenant: the order is not found there.
    cli.json(&["tenant", "create", "other", "--name", "Other"]);
    cli.refused(&["--tenant", "other", "order", "note", &id, "--text", "x"]);
    cli.refused(&["--tenant", "other", "order", "show", &id]);
}

cli_on_both_backends!(order_notes_with_mentions);
#[test]
fn partial_refunds_returns_and_customers_through_the_binary() {
    let cli = Cli::new();
    cli.json(&product("MUG", "12.50").stock(10).args());
    let o = cli.json(&[
        "order",
        "create",
        "--item",
        "MUG:2",
        "--customer",
        "Ann@Example.com",
    ]);
    let id = o["id"].as_str().unwrap().to_string();
    cli.json(&["order", "confirm", &id]);
    cli.json(&["order", "pay", &id, "--card-token", "tok_visa"]);
    let r = cli.json(&[
        "order",
        "refund",
        &id,
        "--amount",
        "5.00",
        "--reason",
        "scratched",
    ]);
    assert_eq!(
        (
            &r["status"],
            &r["captured"]["amount"],
            &r["refunded"]["amount"],
            &r["net"]["amount"]
        ),
        (
            &Value::from("paid"),
            &Value::from(2500),
            &Value::from(500),
            &Value::from(2000)
        )
    );
    // More than is left: exit 1, nothing changes.
    let before = cli.snapshot();
    let err = cli.refused(&["order", "refund", &id, "--amount", "20.01", "--reason", "x"]);
    assert!(err.contains("20.00 USD left"), "{err}");
    assert_eq!(cli.snapshot(), before);
    // A reason is required.
    cli.usage(&["order", "refund", &id, "--amount", "1.00"]);

    cli.json(&["order", "ship", &id, "--carrier", "UPS", "--tracking", "1Z"]);
    assert_eq!(cli.stock("MUG"), (8, 0));
    let ret = cli.json(&[
        "order",
        "return",
        &id,
        "--item",
        "MUG:1",
        "--reason",
        "broken",
        "--no-restock",
    ]);
    assert_eq!(ret["items"][0]["returned"], 1);
    assert_eq!(cli.stock("MUG"), (8, 0), "not restocked");
    cli.json(&[
        "order", "return", &id, "--item", "MUG:1", "--reason", "late",
    ]);
    assert_eq!(cli.stock("MUG"), (9, 0), "restocked by default");
    let err = cli.refused(&["order", "return", &id, "--item", "MUG:1", "--reason", "x"]);
    assert!(err.contains("0 left"), "{err}");

    let show = cli.json(&["order", "show", &id]);
    assert_eq!(show["refunds"][0]["reason"], "scratched");
    let customers = cli.json(&["customer", "list"]);
    assert_eq!(customers[0]["email"], "ann@example.com");
    assert_eq!(customers[0]["orders"], 1);
    assert_eq!(customers[0]["lifetime_value"][0]["amount"], 2000);
    let one = cli.json(&["customer", "show", "ANN@example.com"]);
    assert_eq!(one["order_list"]["rows"][0]["id"], Value::from(id.as_str()));
    cli.refused(&["customer", "show", "nobody@example.com"]);
}

cli_on_both_backends!(refund_amounts_in_the_tenant_locale);
/// `order refund --amount` in a `de` tenant takes the amount as its screens print it
/// (`1.234,50`, `12,5`) and the plain form scripts pass (`5.00`); `1.234` (a thousand, or
/// decimals?) is refused with how to write either, and nothing changes.
fn refund_amounts_in_the_tenant_locale(cli: Cli) {
    cli.json(&[
        "tenant", "create", "berlin", "--name", "Berlin", "--locale", "de",
    ]);
    let t = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["--tenant".to_string(), "berlin".to_string()];
        all.extend(args.iter().map(|a| a.to_string()));
        all
    };
    let json = |args: &[&str]| {
        let a = t(args);
        cli.json(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    json(&[
        "product",
        "create",
        "--title",
        "Tasse",
        "--sku",
        "TASSE",
        "--price",
        "1500.00",
        "--currency",
        "EUR",
        "--stock",
        "10",
    ]);
    let o = json(&["order", "create", "--item", "TASSE:2"]);
    let id = o["id"].as_str().unwrap().to_string();
    json(&["order", "confirm", &id]);
    json(&["order", "pay", &id, "--card-token", "tok_visa"]);
    let refunded = |amount: &str| {
        json(&["order", "refund", &id, "--amount", amount, "--reason", "x"])["refunded"]["amount"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(refunded("1.234,50"), 123_450);
    assert_eq!(refunded("12,5"), 123_450 + 1_250);
    assert_eq!(
        refunded("5.00"),
        123_450 + 1_250 + 500,
        "scripts' plain form"
    );
    let before = cli.snapshot();
    let a = t(&["order", "refund", &id, "--amount", "1.234", "--reason", "x"]);
    let err = cli.refused(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(
        err.trim_end(),
        "error: amount: '1.234' is ambiguous here ('.' groups thousands, as in 1.234,50): write 1.234,00 or 1234 for a whole amount"
    );
    let a = t(&[
        "order", "refund", &id, "--amount", "1,234.50", "--reason", "x",
    ]);
    let err = cli.refused(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(err.contains("write it as 1.234,50 or 1234.50"), "{err}");
    assert_eq!(cli.snapshot(), before, "nothing changed");
    // Over what is left: told in the tenant's format.
    let a = t(&[
        "order", "refund", &id, "--amount", "2.000,00", "--reason", "x",
    ]);
    let err = cli.refused(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(err.contains("cannot refund"), "{err}");
}
