//! Property tests for the order state machine and the stock it moves.
//!
//! Only valid transitions succeed (checked against a reference table written independently
//! of `OrderStatus::apply`), identity fields (id, tenant, customer, items, total) never
//! change, cancel succeeds from every non-terminal state, terminal states stay terminal, and
//! under the `deny` policy stock never goes negative nor reserves more than is on hand, with
//! every unit accounted for.

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use proptest::sample::select;
use rustok_domain::commerce::{
    InventoryPolicy, Order, OrderDraft, OrderStatus, PaymentOutcome, Product, ProductDraft,
    StockMoveKind, Variant, apply_moves,
};
use rustok_domain::event::DomainEvent;
use rustok_domain::{Currency, DomainError, Money, OrderId, ProductId, TenantId, VariantId};

// ---------------------------------------------------------------------------------------
// Reference model
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Step {
    Confirm,
    PayOk,
    PayDeclined,
    PayInvalid,
    Ship { carrier: String, tracking: String },
    Deliver,
    Cancel(Option<String>),
    Hold(Option<String>),
    Release,
}

/// What a step should do, from the SPEC table alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Succeeds and moves the order to this status.
    To(OrderStatus),
    /// Succeeds but leaves the order as it is (a failed payment).
    Unchanged,
    /// Refused by the state machine.
    Invalid,
    /// The transition is allowed but the input is not.
    BadInput,
}

fn expected(from: OrderStatus, step: &Step) -> Expect {
    use OrderStatus::*;
    match (from, step) {
        (Pending, Step::Confirm) => Expect::To(Confirmed),
        (Confirmed, Step::PayOk) => Expect::To(Paid),
        (Confirmed, Step::PayDeclined | Step::PayInvalid) => Expect::Unchanged,
        (Paid, Step::Ship { carrier, tracking }) => {
            if carrier.trim().is_empty() || tracking.trim().is_empty() {
                Expect::BadInput
            } else {
                Expect::To(Shipped)
            }
        }
        (Shipped, Step::Deliver) => Expect::To(Delivered),
        (Paid, Step::Hold(_)) => Expect::To(OnHold),
        (OnHold, Step::Release) => Expect::To(Paid),
        (Pending | Confirmed | Paid | OnHold | Shipped, Step::Cancel(_)) => Expect::To(Cancelled),
        _ => Expect::Invalid,
    }
}

/// The stock move kind the SPEC table attaches to a successful transition.
fn expected_move(from: OrderStatus, to: OrderStatus) -> Option<StockMoveKind> {
    use OrderStatus::*;
    match (from, to) {
        (Pending, Confirmed) => Some(StockMoveKind::Reserve),
        (Confirmed, Paid) => Some(StockMoveKind::Sell),
        (Confirmed, Cancelled) => Some(StockMoveKind::Release),
        // A shipped order's goods are in the truck: cancelling it restocks nothing (a return
        // brings them on hand).
        (Paid | OnHold, Cancelled) => Some(StockMoveKind::Restock),
        _ => None,
    }
}

fn run(
    order: &Order,
    step: &Step,
    now: DateTime<Utc>,
) -> Result<(Order, Vec<DomainEvent>, Vec<rustok_domain::StockMove>), DomainError> {
    match step {
        Step::Confirm => order.confirm(now),
        Step::PayOk => order.record_payment(
            PaymentOutcome::Succeeded {
                reference: format!("ch_{}", order.id.as_uuid().simple()),
                amount: order.total,
            },
            now,
        ),
        Step::PayDeclined => order.record_payment(
            PaymentOutcome::Declined {
                code: "card_declined".into(),
                reason: "card declined".into(),
            },
            now,
        ),
        Step::PayInvalid => order.record_payment(
            PaymentOutcome::Invalid {
                code: "invalid_card_token".into(),
                reason: "invalid card token".into(),
            },
            now,
        ),
        Step::Ship { carrier, tracking } => order.ship(carrier, tracking, now),
        Step::Deliver => order.deliver(now),
        Step::Cancel(reason) => order.cancel(reason.as_deref(), now),
        Step::Hold(reason) => order.hold(reason.as_deref(), now),
        Step::Release => order.release(now),
    }
}

fn types(events: &[DomainEvent]) -> Vec<&'static str> {
    events.iter().map(|e| e.event_type()).collect()
}

// ---------------------------------------------------------------------------------------
// Strategies and fixtures
// ---------------------------------------------------------------------------------------

fn any_time() -> impl Strategy<Value = DateTime<Utc>> {
    let min = DateTime::<Utc>::MIN_UTC.timestamp();
    let max = DateTime::<Utc>::MAX_UTC.timestamp();
    let secs = prop_oneof![
        3 => 1_700_000_000i64..1_700_000_100,
        1 => min..=max,
    ];
    (secs, 0u32..1_000_000_000).prop_map(|(s, n)| DateTime::from_timestamp(s, n).unwrap())
}

fn step() -> impl Strategy<Value = Step> {
    let text = prop_oneof![
        4 => "[A-Za-z0-9]{1,12}",
        1 => Just(String::new()),
        1 => Just("   ".to_string()),
    ];
    prop_oneof![
        3 => Just(Step::Confirm),
        3 => Just(Step::PayOk),
        1 => Just(Step::PayDeclined),
        1 => Just(Step::PayInvalid),
        3 => (text.clone(), text).prop_map(|(carrier, tracking)| Step::Ship { carrier, tracking }),
        2 => Just(Step::Deliver),
        2 => prop::option::of("[a-z ]{0,20}").prop_map(Step::Cancel),
        2 => prop::option::of("[a-z ]{0,20}").prop_map(Step::Hold),
        2 => Just(Step::Release),
    ]
}

/// Every kind of step, with valid input, for exhaustive checks.
fn every_step() -> Vec<Step> {
    vec![
        Step::Confirm,
        Step::PayOk,
        Step::PayDeclined,
        Step::PayInvalid,
        Step::Ship {
            carrier: "UPS".into(),
            tracking: "1Z999".into(),
        },
        Step::Deliver,
        Step::Cancel(None),
        Step::Cancel(Some("customer asked".into())),
        Step::Hold(None),
        Step::Hold(Some("fraud review".into())),
        Step::Release,
    ]
}

fn product(
    tenant: TenantId,
    sku: &str,
    price: i64,
    stock: i64,
    policy: InventoryPolicy,
) -> Product {
    let draft = ProductDraft {
        id: ProductId::new_v7(),
        variant_id: VariantId::new_v7(),
        locale: "en".parse().unwrap(),
        title: format!("Item {sku}"),
        handle: None,
        status: None,
        sku: sku.into(),
        variant_title: None,
        price: Money::new(price, Currency::USD),
        inventory_policy: policy,
        stock,
        low_stock_threshold: None,
    };
    Product::create(
        tenant,
        draft,
        DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
    )
    .unwrap()
    .0
}

#[derive(Debug, Clone)]
struct OrderSpec {
    customer: Option<String>,
    items: Vec<(usize, i64)>,
    prices: Vec<i64>,
}

fn order_spec() -> impl Strategy<Value = OrderSpec> {
    (
        prop::option::of("[a-z]{1,8}@[a-z]{1,8}\\.(com|org|io)"),
        prop::collection::vec((0usize..3, 1i64..20), 1..5),
        prop::collection::vec(0i64..1_000_000, 3),
    )
        .prop_map(|(customer, items, prices)| OrderSpec {
            customer,
            items,
            prices,
        })
}

fn place(spec: &OrderSpec, placed_at: DateTime<Utc>) -> (TenantId, Order) {
    let tenant = TenantId::new_v7();
    let catalog: Vec<Product> = spec
        .prices
        .iter()
        .enumerate()
        .map(|(i, p)| product(tenant, &format!("SKU-{i}"), *p, 100, InventoryPolicy::Deny))
        .collect();
    let draft = OrderDraft {
        id: OrderId::new_v7(),
        customer: spec.customer.clone(),
        items: spec
            .items
            .iter()
            .map(|(i, q)| (format!("SKU-{i}"), *q))
            .collect(),
    };
    let (order, events) = Order::create(tenant, draft, &catalog, placed_at).unwrap();
    assert_eq!(types(&events), ["order.placed"]);
    (tenant, order)
}

/// Identity never changes, whatever happened.
fn check_identity(before: &Order, after: &Order) -> Result<(), TestCaseError> {
    prop_assert_eq!(before.id, after.id);
    prop_assert_eq!(before.tenant_id, after.tenant_id);
    prop_assert_eq!(&before.customer, &after.customer);
    prop_assert_eq!(&before.items, &after.items);
    prop_assert_eq!(before.total, after.total);
    prop_assert_eq!(before.placed_at, after.placed_at);
    Ok(())
}

fn check_invariants(o: &Order) -> Result<(), TestCaseError> {
    use OrderStatus::*;
    let s = o.status;
    let reached = |states: &[OrderStatus]| states.contains(&s);
    prop_assert!(o.updated_at >= o.placed_at);
    prop_assert_eq!(o.cancelled_at.is_some(), s == Cancelled);
    prop_assert_eq!(o.delivered_at.is_some(), s == Delivered);
    if reached(&[Confirmed, Paid, OnHold, Shipped, Delivered]) {
        prop_assert!(o.confirmed_at.is_some());
    }
    if reached(&[Paid, OnHold, Shipped, Delivered]) {
        prop_assert!(o.paid_at.is_some() && o.payment_reference.is_some());
    }
    if reached(&[Shipped, Delivered]) {
        prop_assert!(o.shipped_at.is_some());
        prop_assert!(o.carrier.as_deref().is_some_and(|c| !c.trim().is_empty()));
        prop_assert!(
            o.tracking_number
                .as_deref()
                .is_some_and(|t| !t.trim().is_empty())
        );
    }
    for t in [
        o.confirmed_at,
        o.paid_at,
        o.shipped_at,
        o.delivered_at,
        o.cancelled_at,
    ]
    .into_iter()
    .flatten()
    {
        prop_assert!(t <= o.updated_at);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Random sequences from a fresh order: each step does exactly what the table says.
    #[test]
    fn only_valid_transitions_succeed(
        spec in order_spec(),
        placed_at in any_time(),
        steps in prop::collection::vec((step(), any_time()), 0..24),
    ) {
        let (_, first) = place(&spec, placed_at);
        let mut order = first.clone();
        for (step, now) in &steps {
            let from = order.status;
            let want = expected(from, step);
            match (run(&order, step, *now), want) {
                (Ok((next, events, moves)), Expect::To(to)) => {
                    prop_assert_eq!(next.status, to);
                    prop_assert_eq!(next.version, order.version + 1);
                    prop_assert!(next.updated_at >= order.updated_at);
                    let changed = events.iter().filter(|e| matches!(e,
                        DomainEvent::OrderStatusChanged(c) if c.from == from && c.to == to
                            && c.version == next.version)).count();
                    prop_assert_eq!(changed, 1, "{:?}", types(&events));
                    match expected_move(from, to) {
                        None => prop_assert!(moves.is_empty()),
                        Some(kind) => {
                            prop_assert_eq!(moves.len(), order.items.len());
                            for (m, item) in moves.iter().zip(&order.items) {
                                prop_assert_eq!(m.kind, kind);
                                prop_assert_eq!(&m.sku, &item.sku);
                                prop_assert_eq!(m.qty, item.quantity);
                            }
                        }
                    }
                    if let Step::Hold(reason) = step {
                        let want = reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
                        let said = events.iter().find_map(|e| match e {
                            DomainEvent::OrderStatusChanged(c) => c.reason.clone(),
                            _ => None,
                        });
                        prop_assert_eq!(said.as_deref(), want, "a hold records its reason");
                    }
                    if to == OrderStatus::Paid && from == OrderStatus::Confirmed {
                        prop_assert_eq!(types(&events), ["payment.succeeded", "order.status_changed"]);
                    }
                    if to == OrderStatus::Cancelled {
                        prop_assert!(types(&events).contains(&"order.cancelled"));
                        prop_assert_eq!(
                            types(&events).contains(&"payment.refunded"),
                            matches!(from, OrderStatus::Paid | OrderStatus::OnHold | OrderStatus::Shipped)
                        );
                    }
                    check_identity(&order, &next)?;
                    order = next;
                }
                (Ok((next, events, moves)), Expect::Unchanged) => {
                    prop_assert_eq!(&next, &order, "a failed payment changes nothing");
                    prop_assert_eq!(types(&events), ["payment.failed"]);
                    prop_assert!(moves.is_empty());
                }
                (Err(e), Expect::Invalid) => {
                    prop_assert_eq!(e.kind(), "invalid_transition", "{}", e);
                    prop_assert!(!e.to_string().contains('\n'));
                }
                (Err(e), Expect::BadInput) => {
                    prop_assert_eq!(e.kind(), "validation", "{}", e);
                }
                (got, want) => {
                    prop_assert!(false, "{:?} from {} should be {:?}, got {:?}", step, from, want, got.map(|r| r.0.status));
                }
            }
            check_identity(&first, &order)?;
            check_invariants(&order)?;
        }
    }

    /// From an arbitrary status (set directly), every step matches the table.
    #[test]
    fn table_holds_from_random_states(
        spec in order_spec(),
        status in select(OrderStatus::ALL.to_vec()),
        now in any_time(),
    ) {
        let (_, mut order) = place(&spec, DateTime::from_timestamp(1_700_000_000, 0).unwrap());
        order.status = status;
        order.payment_reference = Some("ch_x".into());
        for step in every_step() {
            let result = run(&order, &step, now);
            match expected(status, &step) {
                Expect::To(to) => prop_assert_eq!(result.map(|r| r.0.status).ok(), Some(to)),
                Expect::Unchanged => prop_assert_eq!(result.map(|r| r.0).ok(), Some(order.clone())),
                Expect::Invalid => prop_assert_eq!(result.map(|_| ()).map_err(|e| e.kind()), Err("invalid_transition")),
                Expect::BadInput => prop_assert!(result.is_err()),
            }
        }
        prop_assert_eq!(order.can_pay().is_ok(), status == OrderStatus::Confirmed);
    }

    /// Whatever state an order reached, cancelling works unless it is terminal.
    #[test]
    fn cancel_succeeds_from_every_non_terminal_state(
        spec in order_spec(),
        steps in prop::collection::vec(step(), 0..12),
        reason in prop::option::of("[a-z ]{0,20}"),
        now in any_time(),
    ) {
        let (_, mut order) = place(&spec, DateTime::from_timestamp(1_700_000_000, 0).unwrap());
        for s in &steps {
            if let Ok((next, _, _)) = run(&order, s, now) {
                order = next;
            }
        }
        let from = order.status;
        match order.cancel(reason.as_deref(), now) {
            Ok((next, events, _)) => {
                prop_assert!(!from.is_terminal());
                prop_assert_eq!(next.status, OrderStatus::Cancelled);
                let cancelled = events.iter().any(|e| matches!(e, DomainEvent::OrderCancelled(c) if c.from == from));
                prop_assert!(cancelled);
                let want_reason = reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
                prop_assert_eq!(next.cancel_reason.as_deref(), want_reason);
                // The status change says why too (the order's timeline shows it).
                let said = events.iter().find_map(|e| match e {
                    DomainEvent::OrderStatusChanged(c) => c.reason.clone(),
                    _ => None,
                });
                prop_assert_eq!(said.as_deref(), want_reason);
                check_identity(&order, &next)?;
            }
            Err(e) => {
                prop_assert!(from.is_terminal(), "cancel from {} failed: {}", from, e);
                prop_assert_eq!(e.kind(), "invalid_transition");
            }
        }
    }

    /// Delivered and cancelled orders refuse every status change, failed payments included.
    #[test]
    fn terminal_states_stay_terminal(
        spec in order_spec(),
        happy_steps in 0usize..=4,
        extra in prop::collection::vec(step(), 1..8),
        now in any_time(),
    ) {
        let path = [
            Step::Confirm,
            Step::PayOk,
            Step::Ship { carrier: "UPS".into(), tracking: "1Z".into() },
            Step::Deliver,
        ];
        let (_, mut order) = place(&spec, DateTime::from_timestamp(1_700_000_000, 0).unwrap());
        for s in &path[..happy_steps] {
            order = run(&order, s, now).unwrap().0;
        }
        if happy_steps < 4 {
            order = order.cancel(None, now).unwrap().0;
        }
        prop_assert!(order.status.is_terminal());
        // What a terminal order still takes (refunds, returns) never changes its status.
        for a in order.status.allowed_actions() {
            prop_assert_eq!(order.status.apply(*a).ok(), Some(order.status));
        }
        for s in every_step().iter().chain(&extra) {
            let e = run(&order, s, now).map(|_| ()).unwrap_err();
            prop_assert_eq!(e.kind(), "invalid_transition");
        }
    }

    /// Stock under `deny`: never negative, never more reserved than on hand, and every unit
    /// accounted for: on_hand = initial + adjustments - sold (a cancelled order that had
    /// shipped stays sold), reserved = confirmed quantities.
    #[test]
    fn stock_is_conserved_under_deny(
        initial in 0i64..15,
        quantities in prop::collection::vec(1i64..8, 1..4),
        steps in prop::collection::vec((0usize..4, step(), -6i64..6), 0..40),
    ) {
        let tenant = TenantId::new_v7();
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let catalog = vec![product(tenant, "SKU-1", 1999, initial, InventoryPolicy::Deny)];
        let mut variant: Variant = catalog[0].variants[0].clone();
        let mut orders: Vec<Order> = quantities
            .iter()
            .map(|q| {
                let draft = OrderDraft { id: OrderId::new_v7(), customer: None, items: vec![("SKU-1".into(), *q)] };
                Order::create(tenant, draft, &catalog, now).unwrap().0
            })
            .collect();
        let mut adjusted = 0i64;
        for (which, s, by) in &steps {
            if *which == 3 {
                // A manual adjustment instead of an order step.
                if *by != 0 && let Ok((next, _)) = variant.adjust(*by, "recount") {
                    adjusted += by;
                    variant = next;
                }
            } else if let Some(order) = orders.get(*which).cloned() {
                let available_before = variant.available();
                // One transaction: decide, apply the stock moves, commit both or neither.
                let result = run(&order, s, now).and_then(|(next, _, moves)| {
                    apply_moves(std::slice::from_ref(&variant), &moves).map(|changes| (next, changes))
                });
                match result {
                    Ok((next, changes)) => {
                        if let Some(last) = changes.last() {
                            variant = last.variant.clone();
                        }
                        orders[*which] = next;
                    }
                    Err(e) => {
                        // Stock may refuse only a reservation beyond what is available.
                        if e.kind() == "validation" && matches!(s, Step::Confirm) {
                            prop_assert!(available_before < order.items[0].quantity, "{}", e);
                        }
                    }
                }
            }
            prop_assert!(variant.on_hand >= 0, "{:?}", variant);
            prop_assert!(variant.reserved >= 0, "{:?}", variant);
            prop_assert!(variant.reserved <= variant.on_hand, "{:?}", variant);
            let qty = |o: &Order| o.items[0].quantity;
            let reserved: i64 = orders.iter().filter(|o| o.status == OrderStatus::Confirmed).map(qty).sum();
            // Sold: what left the shelf and is not back — paid orders, and cancelled ones
            // that had shipped (their goods come back only through a return).
            let sold: i64 = orders
                .iter()
                .filter(|o| matches!(o.status, OrderStatus::Paid | OrderStatus::OnHold | OrderStatus::Shipped | OrderStatus::Delivered)
                    || (o.status == OrderStatus::Cancelled && o.shipped_at.is_some()))
                .map(|o| qty(o) - o.items[0].returned)
                .sum();
            prop_assert_eq!(variant.reserved, reserved);
            prop_assert_eq!(variant.on_hand, initial + adjusted - sold);
        }
    }

    /// total = Σ unit × qty exactly, in one currency.
    #[test]
    fn total_is_exact(spec in order_spec()) {
        let (_, order) = place(&spec, DateTime::from_timestamp(1_700_000_000, 0).unwrap());
        let sum: i64 = order.items.iter().map(|i| i.unit_price.amount * i.quantity).sum();
        prop_assert_eq!(order.total, Money::new(sum, Currency::USD));
        let quantities: i64 = spec.items.iter().map(|(_, q)| q).sum();
        prop_assert_eq!(order.items.iter().map(|i| i.quantity).sum::<i64>(), quantities);
    }
}

// ---------------------------------------------------------------------------------------
// Examples
// ---------------------------------------------------------------------------------------

#[test]
fn nineteen_ninety_nine_times_three_plus_five_oh_one() {
    let usd = Currency::USD;
    let tenant = TenantId::new_v7();
    let mut a = product(tenant, "A", 0, 10, InventoryPolicy::Deny);
    a.variants[0].price = Money::parse("19.99", usd).unwrap();
    let mut b = product(tenant, "B", 0, 10, InventoryPolicy::Deny);
    b.variants[0].price = Money::parse("5.01", usd).unwrap();
    let draft = OrderDraft {
        id: OrderId::new_v7(),
        customer: Some("buyer@example.com".into()),
        items: vec![("A".into(), 3), ("B".into(), 1)],
    };
    let (order, _) = Order::create(tenant, draft, &[a, b], Utc::now()).unwrap();
    assert_eq!(order.total.amount, 6498);
    assert_eq!(order.total.currency, usd);
}

#[test]
fn mixed_currencies_are_refused() {
    let tenant = TenantId::new_v7();
    let a = product(tenant, "A", 100, 10, InventoryPolicy::Deny);
    let mut b = product(tenant, "B", 100, 10, InventoryPolicy::Deny);
    b.variants[0].price = Money::new(100, Currency::EUR);
    let draft = OrderDraft {
        id: OrderId::new_v7(),
        customer: None,
        items: vec![("A".into(), 1), ("B".into(), 1)],
    };
    let err = Order::create(tenant, draft, &[a, b], Utc::now()).unwrap_err();
    assert_eq!((err.kind(), err.field()), ("validation", Some("currency")));
}

/// The acceptance order flow, executed the way the store does: order events first, then the
/// inventory events of the stock moves, per transaction.
#[test]
fn acceptance_event_order() {
    let tenant = TenantId::new_v7();
    let now = Utc::now();
    let catalog = vec![product(tenant, "MUG", 1250, 10, InventoryPolicy::Deny)];
    let mut variants = catalog[0].variants.clone();
    let draft = OrderDraft {
        id: OrderId::new_v7(),
        customer: None,
        items: vec![("MUG".into(), 2)],
    };
    let (order, mut log) = Order::create(tenant, draft, &catalog, now).unwrap();
    let mut execute = |result: (Order, Vec<DomainEvent>, Vec<rustok_domain::StockMove>)| {
        let (next, events, moves) = result;
        log.extend(events);
        for change in apply_moves(&variants, &moves).unwrap() {
            log.extend(change.events);
            variants = vec![change.variant];
        }
        next
    };
    let order = execute(order.confirm(now).unwrap());
    let outcome = PaymentOutcome::Succeeded {
        reference: "ch_1".into(),
        amount: order.total,
    };
    let order = execute(order.record_payment(outcome, now).unwrap());
    assert_eq!(order.status, OrderStatus::Paid);
    assert_eq!(
        types(&log),
        [
            "order.placed",
            "order.status_changed",
            "inventory.updated",
            "payment.succeeded",
            "order.status_changed",
            "inventory.updated",
        ]
    );
    assert_eq!((variants[0].on_hand, variants[0].reserved), (8, 0));
}
