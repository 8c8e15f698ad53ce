//! Orders: line items snapshotted at order time, the exact total, and the order state
//! machine with the stock moves and payment events each transition decides.
//!
//! | from | action | to | needs | stock |
//! |---|---|---|---|---|
//! | pending | confirm | confirmed | — | reserve |
//! | confirmed | pay | paid | a successful payment | sell |
//! | paid | ship | shipped | carrier + tracking number | — |
//! | shipped | deliver | delivered | — | — |
//! | paid | hold | on_hold | optional reason | — |
//! | on_hold | release | paid | — | — |
//! | pending, confirmed, paid, on_hold, shipped | cancel | cancelled | optional reason | none / release / restock (+ refund) |
//! | paid, on_hold, shipped, delivered | refund | (unchanged) | amount, reason | optional restock of returned units |
//! | shipped, delivered, cancelled after shipping | return | (unchanged) | items, reason | restock unless told not to |
//!
//! A refund gives back part of what was captured (any number of them, never more than was
//! captured in all); a cancel gives back what is left. Cancelling a *shipped* order refunds but
//! does not restock: the goods are on their way, and come back on hand only through a return.
//!
//! The steps a user asks for are declared in `steps.rs` (one row each).
//!
//! Delivered and cancelled are terminal. Every other (status, action) pair is refused with
//! [`DomainError::InvalidTransition`] and changes nothing. Id, tenant, customer, items and
//! total never change after creation; `version` grows by one with every transition.

use super::inventory::{StockMove, StockMoveKind};
use super::payment::{ChargeRequest, PaymentOutcome, RefundRequest};
use super::product::{Product, ProductStatus, validate_sku};
use super::steps::{OrderAction, SkuQty};
use crate::content::string_enum;
use crate::event::{self, DomainEvent};
use crate::{DomainError, Money, OrderId, TenantId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Longest carrier name, tracking number and cancel reason accepted.
pub const MAX_CARRIER_CHARS: usize = 100;
pub const MAX_TRACKING_CHARS: usize = 100;
pub const MAX_CANCEL_REASON_CHARS: usize = 500;

/// Most units one order line may ask for (after lines of the same SKU are merged). Far below
/// what stock arithmetic can hold: no order can make a variant's stock overflow, however many
/// are confirmed (9.2 × 10^12 confirmed orders of the maximum would be needed).
pub const MAX_LINE_QUANTITY: i64 = 1_000_000;

/// The prefix of the payment reference of a free order (total 0), settled without the gateway.
pub const FREE_PAYMENT_PREFIX: &str = "free_";

/// A quantity of an order line: 1 to [`MAX_LINE_QUANTITY`] units of `sku`.
pub fn validate_quantity(sku: &str, qty: i64) -> Result<(), DomainError> {
    let sku = crate::text::excerpt(sku, crate::text::EXCERPT_CHARS);
    if qty < 1 {
        return Err(DomainError::validation(
            "quantity",
            format!("quantity of {sku} must be at least 1, got {qty}"),
        ));
    }
    if qty > MAX_LINE_QUANTITY {
        return Err(DomainError::validation(
            "quantity",
            format!(
                "quantity of {sku} must be at most {MAX_LINE_QUANTITY} per order line, got {qty}"
            ),
        ));
    }
    Ok(())
}

string_enum!(
    /// Where an order is in its life.
    OrderStatus, "status", {
        Pending => "pending", Confirmed => "confirmed", Paid => "paid", OnHold => "on_hold",
        Shipped => "shipped", Delivered => "delivered", Cancelled => "cancelled",
    }
);

impl OrderStatus {
    /// The order state machine (see the module table). Everything else is refused.
    pub fn apply(self, action: OrderAction) -> Result<OrderStatus, DomainError> {
        use OrderAction::*;
        use OrderStatus::*;
        match (self, action) {
            (Pending, Confirm) => Ok(Confirmed),
            (Confirmed, Pay) => Ok(Paid),
            (Paid, Ship) => Ok(Shipped),
            (Shipped, Deliver) => Ok(Delivered),
            (Paid, Hold) => Ok(OnHold),
            (OnHold, Release) => Ok(Paid),
            (Pending | Confirmed | Paid | OnHold | Shipped, Cancel) => Ok(Cancelled),
            // Money and goods coming back do not move the order along.
            (Paid | OnHold | Shipped | Delivered, Refund) => Ok(self),
            // A cancelled order takes a return only if it had shipped (`Order::return_items`
            // checks): the goods of a cancel after shipment come back on hand this way.
            (Shipped | Delivered | Cancelled, Return) => Ok(self),
            (from, action) => Err(DomainError::InvalidTransition {
                entity: "order",
                from: from.to_string(),
                action: action.to_string(),
            }),
        }
    }

    /// Delivered and cancelled orders never change status again (a delivered one may still
    /// be refunded and take returns).
    pub fn is_terminal(self) -> bool {
        matches!(self, OrderStatus::Delivered | OrderStatus::Cancelled)
    }

    /// The actions this status accepts (for menus and help).
    pub fn allowed_actions(self) -> &'static [OrderAction] {
        use OrderAction::*;
        match self {
            OrderStatus::Pending => &[Confirm, Cancel],
            OrderStatus::Confirmed => &[Pay, Cancel],
            OrderStatus::Paid => &[Ship, Hold, Cancel, Refund],
            OrderStatus::OnHold => &[Release, Cancel, Refund],
            OrderStatus::Shipped => &[Deliver, Cancel, Refund, Return],
            OrderStatus::Delivered => &[Refund, Return],
            OrderStatus::Cancelled => &[Return],
        }
    }
}

/// One order line, a snapshot of the variant when the order was placed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineItem {
    pub sku: String,
    pub title: String,
    pub unit_price: Money,
    /// At least 1.
    pub quantity: i64,
    /// Units of this line sent back (returns, and refunds that restocked), at most `quantity`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub returned: i64,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

impl LineItem {
    /// `unit_price × quantity`; `None` on overflow.
    pub fn line_total(&self) -> Option<Money> {
        self.unit_price.checked_mul(self.quantity)
    }
}

/// Input for placing an order: `items` are `(sku, quantity)` pairs. Several pairs with the
/// same SKU are merged into one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderDraft {
    pub id: OrderId,
    #[serde(default)]
    pub customer: Option<String>,
    pub items: Vec<(String, i64)>,
}

/// What an order decision returns: the next order, its events, and the stock moves the
/// store must apply (with [`super::apply_moves`]) in the same transaction.
pub type OrderDecision = (Order, Vec<DomainEvent>, Vec<StockMove>);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub id: OrderId,
    pub tenant_id: TenantId,
    /// The customer's email, if known.
    pub customer: Option<String>,
    pub items: Vec<LineItem>,
    pub total: Money,
    pub status: OrderStatus,
    pub version: i64,
    pub placed_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
    pub shipped_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub cancel_reason: Option<String>,
    /// The gateway's reference of the successful charge.
    pub payment_reference: Option<String>,
    /// Given back so far (partial refunds and a cancel's refund), in the order's currency;
    /// never more than [`Order::captured`].
    pub refunded: Money,
}

/// What cancelling an order in `status` gives back when `refundable` is left of what was
/// captured (captured − refunded): all of it for a paid, held or shipped order, nothing for
/// one not paid yet (pending, confirmed) or already at its end. The one rule the cancel
/// itself ([`Order::cancel`]) and every screen that names the cancel's amount follow.
pub fn cancel_refund(status: OrderStatus, refundable: Money) -> Money {
    if matches!(
        status,
        OrderStatus::Paid | OrderStatus::OnHold | OrderStatus::Shipped
    ) && refundable.amount > 0
    {
        refundable
    } else {
        Money::zero(refundable.currency)
    }
}

/// A plausible email address: `local@domain.tld`, ASCII, at most 254 characters; the local
/// part at most 64 characters of letters, digits and ``!#$%&'*+/=?^_`{|}~.-`` without
/// leading, trailing or double dots; the domain at least two dot-separated labels of
/// letters, digits and inner hyphens, the last one not all digits. Returns the address
/// trimmed, with the domain lowercased.
pub fn validate_email(email: &str) -> Result<String, DomainError> {
    let e = email.trim();
    let bad = || {
        DomainError::validation(
            "customer",
            format!(
                "'{}' is not a valid email address",
                crate::text::excerpt(email, crate::text::EXCERPT_CHARS)
            ),
        )
    };
    if e.is_empty() {
        return Err(DomainError::validation(
            "customer",
            "email must not be empty",
        ));
    }
    if e.len() > 254 {
        return Err(bad());
    }
    let Some((local, domain)) = e.split_once('@') else {
        return Err(bad());
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~.-".contains(&b));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = domain.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && !tld.bytes().all(|b| b.is_ascii_digit()));
    if !local_ok || !domain_ok {
        return Err(bad());
    }
    Ok(format!("{local}@{}", domain.to_ascii_lowercase()))
}

/// A reason a user may give for a step: blank is none, at most
/// [`MAX_CANCEL_REASON_CHARS`] characters.
fn optional_reason(reason: Option<&str>) -> Result<Option<String>, DomainError> {
    match reason {
        Some(r) if !r.trim().is_empty() => {
            Ok(Some(short_text("reason", r, MAX_CANCEL_REASON_CHARS)?))
        }
        _ => Ok(None),
    }
}

fn short_text(field: &'static str, value: &str, max: usize) -> Result<String, DomainError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(DomainError::validation(field, "must not be empty"));
    }
    if crate::text::has_control(v) {
        return Err(DomainError::validation(
            field,
            "must not contain control characters",
        ));
    }
    let n = v.chars().count();
    if n > max {
        return Err(DomainError::validation(
            field,
            format!("is {n} characters long; the limit is {max}"),
        ));
    }
    Ok(v.to_string())
}

fn sku_not_found(sku: &str) -> DomainError {
    DomainError::not_found(
        "product",
        format!(
            "with sku {}",
            crate::text::excerpt(sku, crate::text::EXCERPT_CHARS)
        ),
    )
}

impl Order {
    /// Decides placing an order (status pending, version 1) from `(sku, qty)` pairs, looking
    /// each SKU up among the `catalog` products of this tenant to snapshot the variant's title
    /// and price. Emits `order.placed`; moves no stock.
    ///
    /// Refused: a nil id; no items; a quantity below 1 or (lines of one SKU merged) above
    /// [`MAX_LINE_QUANTITY`]; a malformed SKU (Validation); an
    /// unknown SKU (NotFound "product with sku X"); a product that is not active; prices in
    /// more than one currency; a total that overflows; a malformed customer email.
    pub fn create(
        tenant_id: TenantId,
        draft: OrderDraft,
        catalog: &[Product],
        now: DateTime<Utc>,
    ) -> Result<(Order, Vec<DomainEvent>), DomainError> {
        if draft.id.is_nil() {
            return Err(DomainError::validation("id", "must not be nil"));
        }
        let customer = draft.customer.as_deref().map(validate_email).transpose()?;
        if draft.items.is_empty() {
            return Err(DomainError::validation(
                "items",
                "an order needs at least one item",
            ));
        }
        // Merge repeated SKUs, keeping the order of first appearance.
        let mut wanted: Vec<(String, i64)> = Vec::with_capacity(draft.items.len());
        for (sku, qty) in draft.items {
            validate_sku(&sku)?;
            validate_quantity(&sku, qty)?;
            match wanted.iter_mut().find(|(s, _)| *s == sku) {
                // Both at most MAX_LINE_QUANTITY: the sum cannot overflow.
                Some((_, q)) => {
                    *q += qty;
                    validate_quantity(&sku, *q)?;
                }
                None => wanted.push((sku, qty)),
            }
        }
        let mut items = Vec::with_capacity(wanted.len());
        let mut total: Option<Money> = None;
        for (sku, quantity) in wanted {
            let Some((product, variant)) = catalog
                .iter()
                .filter(|p| p.tenant_id == tenant_id)
                .find_map(|p| p.variant_by_sku(&sku).map(|v| (p, v)))
            else {
                return Err(sku_not_found(&sku));
            };
            if product.status != ProductStatus::Active {
                return Err(DomainError::validation(
                    "sku",
                    format!(
                        "product with sku {sku} is {} and cannot be ordered",
                        product.status
                    ),
                ));
            }
            let item = LineItem {
                sku,
                title: variant.title.clone(),
                unit_price: variant.price,
                quantity,
                returned: 0,
            };
            let overflow =
                || DomainError::validation("total", "the order total is too large to represent");
            let line = item.line_total().ok_or_else(overflow)?;
            total = Some(match total {
                None => line,
                Some(t) if t.currency != line.currency => {
                    return Err(DomainError::validation(
                        "currency",
                        format!(
                            "{} is priced in {} but the order is in {}; an order has one currency",
                            item.sku, line.currency, t.currency
                        ),
                    ));
                }
                Some(t) => t.checked_add(line).ok_or_else(overflow)?,
            });
            items.push(item);
        }
        let Some(total) = total else {
            return Err(DomainError::validation(
                "items",
                "an order needs at least one item",
            ));
        };
        let order = Order {
            id: draft.id,
            tenant_id,
            customer,
            items,
            total,
            status: OrderStatus::Pending,
            version: 1,
            placed_at: now,
            updated_at: now,
            confirmed_at: None,
            paid_at: None,
            shipped_at: None,
            delivered_at: None,
            cancelled_at: None,
            carrier: None,
            tracking_number: None,
            cancel_reason: None,
            payment_reference: None,
            refunded: Money::zero(total.currency),
        };
        let event = DomainEvent::OrderPlaced(event::OrderPlaced {
            customer: order.customer.clone(),
            items: order.items.clone(),
            total: order.total,
            version: order.version,
        });
        Ok((order, vec![event]))
    }

    /// Optimistic locking: a transition asked against an older version is refused.
    pub fn check_version(&self, expected: Option<i64>) -> Result<(), DomainError> {
        match expected {
            Some(v) if v != self.version => Err(DomainError::VersionConflict {
                entity: "order",
                expected: v,
                actual: self.version,
            }),
            _ => Ok(()),
        }
    }

    /// The next order after `action` (status, version, `updated_at`) plus its
    /// `order.status_changed` event; the caller sets the step's own fields. `at` never goes
    /// back in time, even if the clock does.
    fn step(
        &self,
        action: OrderAction,
        now: DateTime<Utc>,
    ) -> Result<(Order, DomainEvent), DomainError> {
        self.step_because(action, None, now)
    }

    /// [`Order::step`] with the reason the user gave, recorded in the event.
    fn step_because(
        &self,
        action: OrderAction,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<(Order, DomainEvent), DomainError> {
        let to = self.status.apply(action)?;
        let mut next = self.clone();
        next.status = to;
        next.version = self.version.checked_add(1).ok_or_else(|| {
            DomainError::validation("version", "the order has reached its last version")
        })?;
        next.updated_at = now.max(self.updated_at);
        let event = DomainEvent::OrderStatusChanged(event::OrderStatusChanged {
            from: self.status,
            to,
            version: next.version,
            reason,
        });
        Ok((next, event))
    }

    fn moves(&self, kind: StockMoveKind) -> Vec<StockMove> {
        self.items
            .iter()
            .map(|i| StockMove {
                sku: i.sku.clone(),
                kind,
                qty: i.quantity,
            })
            .collect()
    }

    /// pending → confirmed; reserves every line.
    pub fn confirm(&self, now: DateTime<Utc>) -> Result<OrderDecision, DomainError> {
        let (mut next, changed) = self.step(OrderAction::Confirm, now)?;
        next.confirmed_at = Some(next.updated_at);
        Ok((next, vec![changed], self.moves(StockMoveKind::Reserve)))
    }

    /// Can this order be paid now? Check it before calling the gateway.
    pub fn can_pay(&self) -> Result<(), DomainError> {
        self.status.apply(OrderAction::Pay).map(|_| ())
    }

    /// Is the order total 0 (every line priced 0)? Such an order is paid without the gateway
    /// ([`Order::free_payment`]) and cancelled without a refund.
    pub fn is_free(&self) -> bool {
        self.total.amount == 0
    }

    /// What paying a free order comes to, with no gateway asked: a success for the total
    /// (0) with the reference `free_<idempotency key>`. `None` when the order is not free;
    /// refused unless it can be paid. [`Order::record_payment`] takes it like any success.
    pub fn free_payment(
        &self,
        idempotency_key: Uuid,
    ) -> Result<Option<PaymentOutcome>, DomainError> {
        self.can_pay()?;
        Ok(self.is_free().then(|| PaymentOutcome::Succeeded {
            reference: format!("{FREE_PAYMENT_PREFIX}{}", idempotency_key.simple()),
            amount: self.total,
        }))
    }

    /// The gateway request for paying this order in full (refused unless it can be paid, and
    /// for a free order, which is paid with [`Order::free_payment`] instead).
    pub fn charge_request(
        &self,
        idempotency_key: Uuid,
        card_token: &str,
    ) -> Result<ChargeRequest, DomainError> {
        self.can_pay()?;
        if self.is_free() {
            return Err(DomainError::validation(
                "amount",
                "the order total is 0: a free order is paid without charging a card",
            ));
        }
        Ok(ChargeRequest {
            idempotency_key,
            order_id: self.id,
            amount: self.total,
            card_token: card_token.to_string(),
        })
    }

    /// Records what the gateway said. A success moves confirmed → paid and sells every line:
    /// events `payment.succeeded`, `order.status_changed`. A decline or invalid request
    /// returns the order unchanged (same version) with one `payment.failed` event and no
    /// stock moves: the store writes only the event. Either is refused unless the order is
    /// confirmed; a success must be for exactly the order total.
    pub fn record_payment(
        &self,
        outcome: PaymentOutcome,
        now: DateTime<Utc>,
    ) -> Result<OrderDecision, DomainError> {
        self.can_pay()?;
        match outcome {
            PaymentOutcome::Succeeded { reference, amount } => {
                let reference = short_text("reference", &reference, 255)?;
                if amount != self.total {
                    return Err(DomainError::validation(
                        "amount",
                        format!(
                            "the gateway charged {amount} but the order total is {}",
                            self.total
                        ),
                    ));
                }
                let (mut next, changed) = self.step(OrderAction::Pay, now)?;
                next.paid_at = Some(next.updated_at);
                next.payment_reference = Some(reference.clone());
                let paid =
                    DomainEvent::PaymentSucceeded(event::PaymentSucceeded { amount, reference });
                Ok((next, vec![paid, changed], self.moves(StockMoveKind::Sell)))
            }
            PaymentOutcome::Declined { code, reason }
            | PaymentOutcome::Invalid { code, reason } => {
                let failed = DomainEvent::PaymentFailed(event::PaymentFailed { code, reason });
                Ok((self.clone(), vec![failed], Vec::new()))
            }
        }
    }

    /// paid → shipped, with a carrier and a tracking number (both non-blank).
    pub fn ship(
        &self,
        carrier: &str,
        tracking: &str,
        now: DateTime<Utc>,
    ) -> Result<OrderDecision, DomainError> {
        let (mut next, changed) = self.step(OrderAction::Ship, now)?;
        next.carrier = Some(short_text("carrier", carrier, MAX_CARRIER_CHARS)?);
        next.tracking_number = Some(short_text("tracking", tracking, MAX_TRACKING_CHARS)?);
        next.shipped_at = Some(next.updated_at);
        Ok((next, vec![changed], Vec::new()))
    }

    /// shipped → delivered.
    pub fn deliver(&self, now: DateTime<Utc>) -> Result<OrderDecision, DomainError> {
        let (mut next, changed) = self.step(OrderAction::Deliver, now)?;
        next.delivered_at = Some(next.updated_at);
        Ok((next, vec![changed], Vec::new()))
    }

    /// paid → on hold, with an optional reason (blank means none), recorded in the
    /// `order.status_changed` event: the order cannot be shipped until it is released.
    pub fn hold(
        &self,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<OrderDecision, DomainError> {
        let (next, changed) =
            self.step_because(OrderAction::Hold, optional_reason(reason)?, now)?;
        Ok((next, vec![changed], Vec::new()))
    }

    /// on hold → paid: it can be shipped again.
    pub fn release(&self, now: DateTime<Utc>) -> Result<OrderDecision, DomainError> {
        let (next, changed) = self.step(OrderAction::Release, now)?;
        Ok((next, vec![changed], Vec::new()))
    }

    /// What the gateway took for this order: the total once paid (0 for a free order or one
    /// not paid yet).
    pub fn captured(&self) -> Money {
        if self.paid_at.is_some() && self.payment_reference.is_some() {
            self.total
        } else {
            Money::zero(self.total.currency)
        }
    }

    /// What is left to refund: captured less refunded.
    pub fn refundable(&self) -> Money {
        Money::new(
            self.captured()
                .amount
                .saturating_sub(self.refunded.amount)
                .max(0),
            self.total.currency,
        )
    }

    /// What the shop keeps: captured less refunded.
    pub fn net(&self) -> Money {
        self.refundable()
    }

    /// Does cancelling this order give money back? (It was paid, and maybe shipped, and
    /// something of what was captured is left: nothing was charged for a free order, and
    /// partial refunds may already have given it all back.)
    pub fn needs_refund(&self) -> bool {
        self.cancel_refund().amount > 0
    }

    /// What cancelling this order now gives back: [`cancel_refund`] of its status and what is
    /// left to refund.
    pub fn cancel_refund(&self) -> Money {
        cancel_refund(self.status, self.refundable())
    }

    /// The gateway request refunding what is left of this order's charge, when cancelling
    /// it needs one.
    pub fn refund_request(&self, idempotency_key: Uuid) -> Option<RefundRequest> {
        if !self.needs_refund() {
            return None;
        }
        Some(RefundRequest {
            idempotency_key,
            order_id: self.id,
            amount: self.refundable(),
            payment_reference: self.payment_reference.clone()?,
        })
    }

    /// The gateway request for a partial refund of `amount` (decimal text in the order's
    /// currency): refused as [`Order::refund`] would refuse it, so the gateway is never asked
    /// for what the order cannot give back.
    pub fn partial_refund_request(
        &self,
        idempotency_key: Uuid,
        amount: &str,
    ) -> Result<RefundRequest, DomainError> {
        self.status.apply(OrderAction::Refund)?;
        let amount = self.refund_amount(amount)?;
        let payment_reference = self.payment_reference.clone().ok_or_else(|| {
            DomainError::validation("order", "the order has no payment reference to refund")
        })?;
        Ok(RefundRequest {
            idempotency_key,
            order_id: self.id,
            amount,
            payment_reference,
        })
    }

    /// `amount` parsed in the order's currency: more than 0 and at most what is left.
    fn refund_amount(&self, amount: &str) -> Result<Money, DomainError> {
        let currency = self.total.currency;
        let amount = Money::parse(amount, currency).map_err(|_| {
            DomainError::validation(
                "amount",
                format!(
                    "'{}' is not an amount in {currency} (digits with at most {} decimals, e.g. 5.00)",
                    crate::text::excerpt(amount, crate::text::EXCERPT_CHARS),
                    currency.exponent()
                ),
            )
        })?;
        if amount.amount <= 0 {
            return Err(DomainError::validation(
                "amount",
                "a refund must be more than 0",
            ));
        }
        let left = self.refundable();
        if amount.amount > left.amount {
            return Err(DomainError::validation(
                "amount",
                format!(
                    "cannot refund {amount}: {} was captured, {} already refunded, {left} left",
                    self.captured(),
                    self.refunded
                ),
            ));
        }
        Ok(amount)
    }

    /// Takes `units` back into the order's lines (each SKU one of the order's, repeated SKUs
    /// merged): at most what was ordered less what came back before. Returns the next lines
    /// and the units per SKU, in the order's line order.
    fn take_back(&self, units: &[SkuQty]) -> Result<(Vec<LineItem>, Vec<SkuQty>), DomainError> {
        let mut items = self.items.clone();
        let mut taken: Vec<SkuQty> = Vec::new();
        for u in units {
            validate_sku(&u.sku)?;
            validate_quantity(&u.sku, u.quantity)?;
            let Some(line) = items.iter_mut().find(|i| i.sku == u.sku) else {
                return Err(DomainError::validation(
                    "sku",
                    format!(
                        "{} is not a line of order {}",
                        crate::text::excerpt(&u.sku, crate::text::EXCERPT_CHARS),
                        self.id
                    ),
                ));
            };
            let left = line.quantity - line.returned;
            if u.quantity > left {
                // Told as the whole request for the SKU against the order as it was (a SKU
                // repeated with `--item` is one request, not its last part).
                let asked = u.quantity
                    + taken
                        .iter()
                        .find(|t| t.sku == u.sku)
                        .map_or(0, |t| t.quantity);
                let before = self
                    .items
                    .iter()
                    .find(|i| i.sku == u.sku)
                    .map_or(0, |i| i.returned);
                return Err(DomainError::validation(
                    "quantity",
                    format!(
                        "cannot take back {asked} of {}: {} ordered, {before} already returned, {} left",
                        u.sku,
                        line.quantity,
                        line.quantity - before
                    ),
                ));
            }
            line.returned += u.quantity;
            match taken.iter_mut().find(|t| t.sku == u.sku) {
                Some(t) => t.quantity += u.quantity,
                None => taken.push(u.clone()),
            }
        }
        taken.sort_by_key(|t| items.iter().position(|i| i.sku == t.sku));
        Ok((items, taken))
    }

    /// The next order after a step that keeps the status (refund, return): version and
    /// `updated_at` move on; `at` never goes back in time.
    fn touched(&self, action: OrderAction, now: DateTime<Utc>) -> Result<Order, DomainError> {
        self.status.apply(action)?;
        let mut next = self.clone();
        next.version = self.version.checked_add(1).ok_or_else(|| {
            DomainError::validation("version", "the order has reached its last version")
        })?;
        next.updated_at = now.max(self.updated_at);
        Ok(next)
    }

    fn restock_moves(units: &[SkuQty]) -> Vec<StockMove> {
        units
            .iter()
            .map(|u| StockMove {
                sku: u.sku.clone(),
                kind: StockMoveKind::Restock,
                qty: u.quantity,
            })
            .collect()
    }

    /// A partial refund of a paid, held, shipped or delivered order: `amount` (decimal text
    /// in the order's currency, more than 0, at most what is left of the captured amount)
    /// with a reason (required). The status stays; the version moves on. Event
    /// `payment.refunded` (amount, reason). `restock` names units of the order that came
    /// back and go on hand again (at most what was ordered less returned): they count as
    /// returned, with an `order.returned` event and restock moves.
    pub fn refund(
        &self,
        amount: &str,
        reason: &str,
        restock: &[SkuQty],
        now: DateTime<Utc>,
    ) -> Result<OrderDecision, DomainError> {
        let mut next = self.touched(OrderAction::Refund, now)?;
        let reason = short_text("reason", reason, MAX_CANCEL_REASON_CHARS)?;
        let amount = self.refund_amount(amount)?;
        let (items, taken) = self.take_back(restock)?;
        next.items = items;
        next.refunded = Money::new(self.refunded.amount + amount.amount, self.total.currency);
        let mut events = vec![DomainEvent::PaymentRefunded(event::PaymentRefunded {
            amount,
            reference: self.payment_reference.clone().unwrap_or_default(),
            reason: Some(reason.clone()),
        })];
        if !taken.is_empty() {
            events.push(DomainEvent::OrderReturned(event::OrderReturned {
                items: taken.clone(),
                reason: Some(reason),
                restocked: true,
                version: next.version,
            }));
        }
        Ok((next, events, Self::restock_moves(&taken)))
    }

    /// Goods sent back from a shipped or delivered order (or one cancelled after it shipped):
    /// `units` (each one of the order's
    /// SKUs, at most what was ordered less what was returned before) with a reason
    /// (required). The status stays; the version moves on. Event `order.returned`; with
    /// `restock` the units go on hand again. Nothing is refunded: that is a separate step.
    pub fn return_items(
        &self,
        units: &[SkuQty],
        reason: &str,
        restock: bool,
        now: DateTime<Utc>,
    ) -> Result<OrderDecision, DomainError> {
        let mut next = self.touched(OrderAction::Return, now)?;
        if self.shipped_at.is_none() {
            return Err(DomainError::validation(
                "order",
                format!(
                    "order {} was never shipped: there is nothing to return",
                    self.id
                ),
            ));
        }
        let reason = short_text("reason", reason, MAX_CANCEL_REASON_CHARS)?;
        if units.is_empty() {
            return Err(DomainError::validation(
                "item",
                "a return needs at least one SKU:QTY",
            ));
        }
        let (items, taken) = self.take_back(units)?;
        next.items = items;
        let event = DomainEvent::OrderReturned(event::OrderReturned {
            items: taken.clone(),
            reason: Some(reason),
            restocked: restock,
            version: next.version,
        });
        let moves = if restock {
            Self::restock_moves(&taken)
        } else {
            Vec::new()
        };
        Ok((next, vec![event], moves))
    }

    /// pending | confirmed | paid | on hold | shipped → cancelled, with an optional reason
    /// (blank means none). Events: `order.status_changed`, `order.cancelled`, and
    /// `payment.refunded` for what is left of the captured amount when it was paid, held or
    /// shipped (none for a free order, or one whose partial refunds gave it all back).
    /// Stock: none from pending, release from confirmed, restock from paid or on hold (less
    /// what came back already); none from shipped — the goods are not back, a return brings
    /// them on hand.
    pub fn cancel(
        &self,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<OrderDecision, DomainError> {
        let reason = optional_reason(reason)?;
        let (mut next, changed) = self.step_because(OrderAction::Cancel, reason.clone(), now)?;
        next.cancelled_at = Some(next.updated_at);
        next.cancel_reason = reason.clone();
        let mut events = vec![
            changed,
            DomainEvent::OrderCancelled(event::OrderCancelled {
                from: self.status,
                reason: reason.clone(),
                version: next.version,
            }),
        ];
        if self.needs_refund() {
            let amount = self.refundable();
            next.refunded = self.captured();
            events.push(DomainEvent::PaymentRefunded(event::PaymentRefunded {
                amount,
                reference: self.payment_reference.clone().unwrap_or_default(),
                reason,
            }));
        }
        let moves = match self.status {
            OrderStatus::Confirmed => self.moves(StockMoveKind::Release),
            OrderStatus::Paid | OrderStatus::OnHold => self
                .items
                .iter()
                .filter(|i| i.quantity > i.returned)
                .map(|i| StockMove {
                    sku: i.sku.clone(),
                    kind: StockMoveKind::Restock,
                    qty: i.quantity - i.returned,
                })
                .collect(),
            _ => Vec::new(),
        };
        Ok((next, events, moves))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commerce::{InventoryPolicy, ProductDraft, apply_moves};
    use crate::{Currency, ProductId, VariantId};

    fn product(tenant: TenantId, sku: &str, price: &str, currency: Currency) -> Product {
        let draft = ProductDraft {
            id: ProductId::new_v7(),
            variant_id: VariantId::new_v7(),
            locale: "en".parse().unwrap(),
            title: format!("Item {sku}"),
            handle: None,
            status: None,
            sku: sku.into(),
            variant_title: None,
            price: Money::parse(price, currency).unwrap(),
            inventory_policy: InventoryPolicy::Deny,
            stock: 10,
            low_stock_threshold: None,
        };
        Product::create(tenant, draft, Utc::now()).unwrap().0
    }

    fn types(events: &[DomainEvent]) -> Vec<&'static str> {
        events.iter().map(|e| e.event_type()).collect()
    }

    fn setup() -> (TenantId, Vec<Product>) {
        let t = TenantId::new_v7();
        let catalog = vec![
            product(t, "A", "19.99", Currency::USD),
            product(t, "B", "5.01", Currency::USD),
            product(t, "E", "3.00", Currency::EUR),
        ];
        (t, catalog)
    }

    fn place(items: &[(&str, i64)]) -> Order {
        let (t, catalog) = setup();
        let draft = OrderDraft {
            id: OrderId::new_v7(),
            customer: Some("Buyer@Example.COM".into()),
            items: items.iter().map(|(s, q)| (s.to_string(), *q)).collect(),
        };
        Order::create(t, draft, &catalog, Utc::now()).unwrap().0
    }

    fn success(order: &Order) -> PaymentOutcome {
        PaymentOutcome::Succeeded {
            reference: "ch_1".into(),
            amount: order.total,
        }
    }

    #[test]
    fn exact_total() {
        let (t, catalog) = setup();
        let draft = OrderDraft {
            id: OrderId::new_v7(),
            customer: Some("buyer@example.com".into()),
            items: vec![("A".into(), 3), ("B".into(), 1)],
        };
        let (o, ev) = Order::create(t, draft, &catalog, Utc::now()).unwrap();
        assert_eq!(o.total, Money::new(6498, Currency::USD));
        assert_eq!(o.total.to_string(), "64.98 USD");
        assert_eq!((o.status, o.version), (OrderStatus::Pending, 1));
        assert_eq!(o.items[0].title, "Item A");
        assert_eq!(o.items[0].unit_price.amount, 1999);
        assert_eq!(types(&ev), ["order.placed"]);
        assert_eq!(
            DomainEvent::from_parts("order.placed", &ev[0].payload()).unwrap(),
            ev[0]
        );
    }

    #[test]
    fn create_rejects() {
        let (t, catalog) = setup();
        let now = Utc::now();
        let mk = |customer: Option<&str>, items: Vec<(&str, i64)>| OrderDraft {
            id: OrderId::new_v7(),
            customer: customer.map(Into::into),
            items: items.into_iter().map(|(s, q)| (s.to_string(), q)).collect(),
        };
        let err = |d: OrderDraft| Order::create(t, d, &catalog, now).unwrap_err();
        assert_eq!(err(mk(None, vec![])).field(), Some("items"));
        assert_eq!(err(mk(None, vec![("A", 0)])).field(), Some("quantity"));
        assert_eq!(err(mk(None, vec![("A", -2)])).field(), Some("quantity"));
        assert_eq!(err(mk(None, vec![("bad sku", 1)])).field(), Some("sku"));
        let nf = err(mk(None, vec![("A", 1), ("ZZZ", 1)]));
        assert_eq!(
            (nf.kind(), nf.to_string().as_str()),
            ("not_found", "product with sku ZZZ not found")
        );
        assert_eq!(
            err(mk(None, vec![("A", 1), ("E", 1)])).field(),
            Some("currency")
        );
        assert_eq!(
            err(mk(Some("not-an-email"), vec![("A", 1)])).field(),
            Some("customer")
        );
        assert_eq!(
            err(mk(None, vec![("A", i64::MAX)])).field(),
            Some("quantity")
        );
        assert_eq!(
            err(mk(None, vec![("A", i64::MAX), ("A", 1)])).field(),
            Some("quantity")
        );
        // The most units a line may ask for, and one more (alone, or as lines merged).
        Order::create(t, mk(None, vec![("A", MAX_LINE_QUANTITY)]), &catalog, now).unwrap();
        assert_eq!(
            err(mk(None, vec![("A", MAX_LINE_QUANTITY + 1)])).to_string(),
            "quantity: quantity of A must be at most 1000000 per order line, got 1000001"
        );
        assert_eq!(
            err(mk(None, vec![("A", MAX_LINE_QUANTITY), ("A", 1)])).field(),
            Some("quantity")
        );
        // A total too large to represent: a price near the limit of Money times 2.
        let huge = vec![product(t, "H", "92233720368547758.07", Currency::USD)];
        let e = Order::create(t, mk(None, vec![("H", 2)]), &huge, now).unwrap_err();
        assert_eq!(e.field(), Some("total"));
        // Another tenant's catalog is invisible.
        let other = Order::create(TenantId::new_v7(), mk(None, vec![("A", 1)]), &catalog, now);
        assert_eq!(other.unwrap_err().kind(), "not_found");
        // Non-active products cannot be ordered.
        let mut archived = catalog.clone();
        archived[0].status = ProductStatus::Archived;
        let e = Order::create(t, mk(None, vec![("A", 1)]), &archived, now).unwrap_err();
        assert_eq!(
            e.to_string(),
            "sku: product with sku A is archived and cannot be ordered"
        );
        for e in [err(mk(None, vec![])), err(mk(Some("x"), vec![("A", 1)]))] {
            assert!(!e.to_string().contains('\n'));
        }
    }

    #[test]
    fn merges_repeated_skus() {
        let o = place(&[("A", 1), ("B", 2), ("A", 2)]);
        assert_eq!(o.items.len(), 2);
        assert_eq!((o.items[0].sku.as_str(), o.items[0].quantity), ("A", 3));
        assert_eq!(o.customer.as_deref(), Some("Buyer@example.com"));
    }

    #[test]
    fn happy_path_events_and_moves() {
        let o = place(&[("A", 3), ("B", 1)]);
        let now = o.placed_at + chrono::Duration::seconds(1);
        let (c, ev, moves) = o.confirm(now).unwrap();
        assert_eq!(types(&ev), ["order.status_changed"]);
        assert_eq!(
            moves.iter().map(|m| (m.kind, m.qty)).collect::<Vec<_>>(),
            [(StockMoveKind::Reserve, 3), (StockMoveKind::Reserve, 1)]
        );
        assert_eq!(
            (c.status, c.version, c.confirmed_at),
            (OrderStatus::Confirmed, 2, Some(now))
        );
        let req = c.charge_request(Uuid::now_v7(), "tok_visa").unwrap();
        assert_eq!(req.amount, c.total);
        let (p, ev, moves) = c.record_payment(success(&c), now).unwrap();
        assert_eq!(types(&ev), ["payment.succeeded", "order.status_changed"]);
        assert!(moves.iter().all(|m| m.kind == StockMoveKind::Sell));
        assert_eq!(
            (p.status, p.version, p.payment_reference.as_deref()),
            (OrderStatus::Paid, 3, Some("ch_1"))
        );
        assert!(p.ship(" ", "1Z999", now).is_err());
        assert_eq!(
            p.ship("UPS", "", now).unwrap_err().field(),
            Some("tracking")
        );
        let (s, ev, moves) = p.ship(" UPS ", "1Z999", now).unwrap();
        assert_eq!(types(&ev), ["order.status_changed"]);
        assert!(moves.is_empty());
        assert_eq!(
            (s.carrier.as_deref(), s.tracking_number.as_deref()),
            (Some("UPS"), Some("1Z999"))
        );
        let (d, _, _) = s.deliver(now).unwrap();
        assert_eq!((d.status, d.version), (OrderStatus::Delivered, 5));
        assert!(d.delivered_at.is_some() && d.shipped_at.is_some() && d.paid_at.is_some());
        for e in [d.confirm(now), d.cancel(None, now), d.deliver(now)] {
            assert_eq!(e.unwrap_err().kind(), "invalid_transition");
        }
        assert_eq!(
            d.cancel(Some("late"), now).unwrap_err().to_string(),
            "cannot cancel order in status delivered"
        );
    }

    #[test]
    fn failed_payment_changes_nothing() {
        let now = Utc::now();
        let o = place(&[("A", 1)]);
        assert_eq!(
            o.can_pay().unwrap_err().to_string(),
            "cannot pay order in status pending"
        );
        assert!(o.charge_request(Uuid::now_v7(), "tok_visa").is_err());
        let failed = PaymentOutcome::Declined {
            code: "card_declined".into(),
            reason: "card declined".into(),
        };
        assert_eq!(
            o.record_payment(failed.clone(), now).unwrap_err().kind(),
            "invalid_transition"
        );
        let (c, _, _) = o.confirm(now).unwrap();
        let (same, ev, moves) = c.record_payment(failed, now).unwrap();
        assert_eq!(same, c);
        assert_eq!(types(&ev), ["payment.failed"]);
        let (_, paid_events, _) = c.record_payment(success(&c), now).unwrap();
        for e in ev.iter().chain(&paid_events) {
            assert_eq!(e.aggregate_type(), "order");
            assert_eq!(
                &DomainEvent::from_parts(e.event_type(), &e.payload()).unwrap(),
                e
            );
        }
        assert!(moves.is_empty());
        let wrong = PaymentOutcome::Succeeded {
            reference: "ch".into(),
            amount: Money::new(1, Currency::USD),
        };
        assert_eq!(
            c.record_payment(wrong, now).unwrap_err().field(),
            Some("amount")
        );
        let blank = PaymentOutcome::Succeeded {
            reference: " ".into(),
            amount: c.total,
        };
        assert!(c.record_payment(blank, now).is_err());
    }

    #[test]
    fn cancel_from_each_state() {
        let now = Utc::now();
        let pending = place(&[("A", 2)]);
        let (c, ev, moves) = pending.cancel(Some("  changed my mind "), now).unwrap();
        assert_eq!(types(&ev), ["order.status_changed", "order.cancelled"]);
        assert!(moves.is_empty());
        assert_eq!(c.cancel_reason.as_deref(), Some("changed my mind"));

        let (confirmed, _, _) = pending.confirm(now).unwrap();
        let (_, ev, moves) = confirmed.cancel(Some(" "), now).unwrap();
        assert_eq!(types(&ev), ["order.status_changed", "order.cancelled"]);
        assert_eq!((moves[0].kind, moves[0].qty), (StockMoveKind::Release, 2));
        assert!(confirmed.refund_request(Uuid::now_v7()).is_none());

        let (paid, _, _) = confirmed.record_payment(success(&confirmed), now).unwrap();
        let refund = paid.refund_request(Uuid::now_v7()).unwrap();
        assert_eq!(
            (refund.amount, refund.payment_reference.as_str()),
            (paid.total, "ch_1")
        );
        let (_, ev, moves) = paid.cancel(None, now).unwrap();
        assert_eq!(
            types(&ev),
            [
                "order.status_changed",
                "order.cancelled",
                "payment.refunded"
            ]
        );
        assert_eq!(moves[0].kind, StockMoveKind::Restock);

        let (shipped, _, _) = paid.ship("DHL", "JD0001", now).unwrap();
        let (x, ev, moves) = shipped.cancel(None, now).unwrap();
        assert!(types(&ev).contains(&"payment.refunded"));
        assert!(moves.is_empty(), "shipped goods are not back: no restock");
        assert_eq!(x.refunded, x.captured());
        assert_eq!(
            (x.carrier.as_deref(), x.cancel_reason.as_deref()),
            (Some("DHL"), None)
        );
        assert!(x.cancel(None, now).is_err());
        for e in ev {
            assert_eq!(e.aggregate_type(), "order");
            assert_eq!(
                DomainEvent::from_parts(e.event_type(), &e.payload()).unwrap(),
                e
            );
        }
        assert!(pending.cancel(Some(&"r".repeat(501)), now).is_err());
    }

    /// What a summary (the board's card) says a cancel gives back is what the cancel's
    /// `payment.refunded` event carries: nothing before payment, the whole total when paid,
    /// what is left after partial refunds, nothing once all was given back.
    #[test]
    fn the_summary_names_what_a_cancel_refunds() {
        let now = Utc::now();
        let refunded_by_cancel = |o: &Order| -> i64 {
            let (_, ev, _) = o.cancel(Some("x"), now).unwrap();
            ev.iter()
                .filter_map(|e| match e {
                    DomainEvent::PaymentRefunded(r) => Some(r.amount.amount),
                    _ => None,
                })
                .sum()
        };
        let pending = place(&[("A", 2), ("B", 1)]); // 44.99
        let (confirmed, _, _) = pending.confirm(now).unwrap();
        let (paid, _, _) = confirmed.record_payment(success(&confirmed), now).unwrap();
        let (partly, _, _) = paid.refund("4.99", "scratched", &[], now).unwrap();
        let (held, _, _) = partly.hold(None, now).unwrap();
        let (shipped, _, _) = partly.ship("DHL", "JD1", now).unwrap();
        let (all, _, _) = paid.refund("44.99", "all", &[], now).unwrap();
        for (o, want) in [
            (&pending, 0),
            (&confirmed, 0),
            (&paid, 4499),
            (&partly, 4000),
            (&held, 4000),
            (&shipped, 4000),
            (&all, 0),
        ] {
            let summary = crate::read::OrderSummary::of(o);
            assert_eq!(summary.cancel_refund().amount, want, "{}", o.status);
            assert_eq!(refunded_by_cancel(o), want, "{}", o.status);
            assert_eq!(summary.refundable(), o.refundable());
        }
    }

    fn sku_qty(sku: &str, quantity: i64) -> SkuQty {
        SkuQty {
            sku: sku.into(),
            quantity,
        }
    }

    #[test]
    fn partial_refunds_up_to_what_was_captured() {
        let now = Utc::now();
        let o = place(&[("A", 2), ("B", 1)]); // 2 × 19.99 + 5.01 = 44.99
        let (c, _, _) = o.confirm(now).unwrap();
        assert_eq!(
            c.refund("1.00", "x", &[], now).unwrap_err().kind(),
            "invalid_transition"
        );
        let (p, _, _) = c.record_payment(success(&c), now).unwrap();
        assert_eq!(
            (p.captured().amount, p.refunded.amount, p.net().amount),
            (4499, 0, 4499)
        );
        let (r1, ev, moves) = p.refund("4.99", " scratched ", &[], now).unwrap();
        assert_eq!(
            (r1.status, r1.version, r1.refunded.amount),
            (OrderStatus::Paid, p.version + 1, 499)
        );
        assert_eq!(types(&ev), ["payment.refunded"]);
        assert!(moves.is_empty());
        let DomainEvent::PaymentRefunded(e) = &ev[0] else {
            panic!()
        };
        assert_eq!(
            (e.amount.amount, e.reason.as_deref(), e.reference.as_str()),
            (499, Some("scratched"), "ch_1")
        );
        assert_eq!(
            DomainEvent::from_parts("payment.refunded", &ev[0].payload()).unwrap(),
            ev[0]
        );
        let (r2, ev, moves) = r1
            .refund("20", "B came back", &[sku_qty("B", 1)], now)
            .unwrap();
        assert_eq!((r2.refunded.amount, r2.items[1].returned), (2499, 1));
        assert_eq!(types(&ev), ["payment.refunded", "order.returned"]);
        assert_eq!(
            (moves[0].kind, moves[0].sku.as_str(), moves[0].qty),
            (StockMoveKind::Restock, "B", 1)
        );
        let over = r2.refund("20.01", "x", &[], now).unwrap_err();
        assert_eq!(
            over.to_string(),
            "amount: cannot refund 20.01 USD: 44.99 USD was captured, 24.99 USD already refunded, 20.00 USD left"
        );
        for (bad, field) in [
            ("0", "amount"),
            ("-1", "amount"),
            ("1.001", "amount"),
            ("", "amount"),
        ] {
            assert_eq!(
                r2.refund(bad, "x", &[], now).unwrap_err().field(),
                Some(field),
                "{bad}"
            );
        }
        assert_eq!(
            r2.refund("1", " ", &[], now).unwrap_err().field(),
            Some("reason")
        );
        assert!(
            r2.refund("1", "x", &[sku_qty("B", 1)], now)
                .unwrap_err()
                .to_string()
                .contains("0 left")
        );
        assert!(r2.refund("1", "x", &[sku_qty("Z", 1)], now).is_err());
        // Cancelling refunds what is left and restocks what did not come back.
        let (x, ev, moves) = r2.cancel(None, now).unwrap();
        let refunded: Vec<i64> = ev
            .iter()
            .filter_map(|e| match e {
                DomainEvent::PaymentRefunded(r) => Some(r.amount.amount),
                _ => None,
            })
            .collect();
        assert_eq!(refunded, [2000]);
        assert_eq!((x.refunded, x.net().amount), (x.captured(), 0));
        assert_eq!(
            moves
                .iter()
                .map(|m| (m.sku.as_str(), m.qty))
                .collect::<Vec<_>>(),
            [("A", 2)]
        );
        // Refunded in full: a cancel refunds nothing more.
        let (all, _, _) = p.refund("44.99", "all", &[], now).unwrap();
        assert!(!all.needs_refund() && all.refund_request(Uuid::now_v7()).is_none());
        let (_, ev, _) = all.cancel(None, now).unwrap();
        assert!(!types(&ev).contains(&"payment.refunded"));
        assert_eq!(
            p.partial_refund_request(Uuid::now_v7(), "1.50")
                .unwrap()
                .amount
                .amount,
            150
        );
        assert!(all.partial_refund_request(Uuid::now_v7(), "0.01").is_err());
    }

    #[test]
    fn returns_from_shipped_or_delivered_orders() {
        let now = Utc::now();
        let o = place(&[("A", 3)]);
        let (c, _, _) = o.confirm(now).unwrap();
        let (p, _, _) = c.record_payment(success(&c), now).unwrap();
        assert_eq!(
            p.return_items(&[sku_qty("A", 1)], "x", true, now)
                .unwrap_err()
                .kind(),
            "invalid_transition"
        );
        let (s, _, _) = p.ship("UPS", "1Z", now).unwrap();
        let (r, ev, moves) = s
            .return_items(&[sku_qty("A", 1), sku_qty("A", 1)], "broken", false, now)
            .unwrap();
        assert_eq!(
            (r.status, r.items[0].returned, r.version),
            (OrderStatus::Shipped, 2, s.version + 1)
        );
        assert!(moves.is_empty(), "not restocked");
        let DomainEvent::OrderReturned(e) = &ev[0] else {
            panic!()
        };
        assert_eq!(
            (e.items.clone(), e.restocked),
            (vec![sku_qty("A", 2)], false)
        );
        assert_eq!(
            DomainEvent::from_parts("order.returned", &ev[0].payload()).unwrap(),
            ev[0]
        );
        assert!(
            r.return_items(&[sku_qty("A", 2)], "x", true, now)
                .unwrap_err()
                .to_string()
                .contains("1 left")
        );
        assert_eq!(
            r.return_items(&[], "x", true, now).unwrap_err().field(),
            Some("item")
        );
        let (d, _, _) = r.deliver(now).unwrap();
        let (last, _, moves) = d
            .return_items(&[sku_qty("A", 1)], "late", true, now)
            .unwrap();
        assert_eq!(
            (last.items[0].returned, moves[0].kind, moves[0].qty),
            (3, StockMoveKind::Restock, 1)
        );
        // The line's snapshot is unchanged by returns; placing an order serializes as before.
        assert_eq!(
            serde_json::to_value(&o.items[0]).unwrap().get("returned"),
            None
        );
    }

    #[test]
    fn stock_flow_through_apply_moves() {
        let now = Utc::now();
        let (t, catalog) = setup();
        let draft = OrderDraft {
            id: OrderId::new_v7(),
            customer: None,
            items: vec![("A".into(), 3)],
        };
        let (o, _) = Order::create(t, draft, &catalog, now).unwrap();
        let variants: Vec<_> = catalog.iter().flat_map(|p| p.variants.clone()).collect();
        let (c, _, moves) = o.confirm(now).unwrap();
        let ch = apply_moves(&variants, &moves).unwrap();
        assert_eq!((ch[0].variant.on_hand, ch[0].variant.reserved), (10, 3));
        let (_, ev, moves) = c.record_payment(success(&c), now).unwrap();
        let ch = apply_moves(&[ch[0].variant.clone()], &moves).unwrap();
        assert_eq!((ch[0].variant.on_hand, ch[0].variant.reserved), (7, 0));
        let mut all = types(&ev);
        all.extend(types(&ch[0].events));
        assert_eq!(
            all,
            [
                "payment.succeeded",
                "order.status_changed",
                "inventory.updated"
            ]
        );
    }

    #[test]
    fn timestamps_never_go_back() {
        let now = Utc::now();
        let o = place(&[("A", 1)]);
        let (c, _, _) = o.confirm(now - chrono::Duration::days(1)).unwrap();
        assert!(c.confirmed_at.unwrap() >= c.placed_at);
        assert!(c.check_version(Some(2)).is_ok());
        assert_eq!(c.check_version(Some(1)).unwrap_err().kind(), "conflict");
    }

    #[test]
    fn emails() {
        for ok in [
            "a@b.co",
            "first.last+tag@sub.example.org",
            "x_y@EXAMPLE.com",
        ] {
            assert!(validate_email(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            " ",
            "a",
            "a@",
            "@b.co",
            "a@b",
            "a@@b.co",
            "a b@c.co",
            ".a@b.co",
            "a..b@c.co",
            "a@-b.co",
            "a@b..co",
            "a@b.c",
            "a@1.23",
            "a\n@b.co",
            "é@b.co",
            &format!("{}@b.co", "a".repeat(65)),
        ] {
            assert!(validate_email(bad).is_err(), "{bad:?}");
        }
        assert_eq!(validate_email(" A@B.Co ").unwrap(), "A@b.co");
    }

    #[test]
    fn state_table() {
        use OrderStatus::*;
        for s in OrderStatus::ALL {
            for a in OrderAction::ALL {
                let next = s.apply(*a);
                assert_eq!(next.is_ok(), s.allowed_actions().contains(a), "{s} {a}");
                if s.is_terminal()
                    && let Ok(to) = next
                {
                    assert_eq!(to, *s, "a terminal status never changes ({a})");
                }
            }
        }
        assert_eq!(Pending.apply(OrderAction::Confirm).unwrap(), Confirmed);
        assert_eq!(Shipped.apply(OrderAction::Cancel).unwrap(), Cancelled);
    }
}
