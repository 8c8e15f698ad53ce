//! Stock arithmetic on one variant, and the stock moves orders decide.
//!
//! Every function returns the variant's next state and its events; nothing changes on
//! error. All arithmetic is checked: an overflow is a validation error, never a panic.
//!
//! Events: each successful change emits `inventory.updated` with the new `on_hand`,
//! `reserved`, `available`, the change of `on_hand` as `delta` (0 for `reserve` and
//! `release`, which move units between available and reserved) and a `reason` (`reserve`,
//! `release`, `sell`, `restock`, or the text given to `adjust`). It is followed by
//! `inventory.low` when, and only when, the change crosses the low-stock threshold:
//! available was **above** `low_stock_threshold` before and is **at or below** it after.

use super::product::{InventoryPolicy, MAX_STOCK, Variant};
use crate::DomainError;
use crate::content::string_enum;
use crate::event::{self, DomainEvent};
use serde::{Deserialize, Serialize};

/// Longest reason accepted for a manual adjustment.
pub const MAX_REASON_CHARS: usize = 255;

/// The reason recorded when a manual adjustment gives none.
pub const DEFAULT_ADJUST_REASON: &str = "manual adjustment";

string_enum!(
    /// What an order does to a variant's stock.
    StockMoveKind, "kind", {
        Reserve => "reserve", Release => "release", Sell => "sell", Restock => "restock",
    }
);

/// One stock effect of an order transition, applied by the store with [`apply_moves`] in the
/// transaction that saves the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockMove {
    pub sku: String,
    pub kind: StockMoveKind,
    pub qty: i64,
}

/// The state of a variant after one stock move, and the events that move emitted.
#[derive(Debug, Clone, PartialEq)]
pub struct StockChange {
    pub variant: Variant,
    pub events: Vec<DomainEvent>,
}

fn positive(qty: i64) -> Result<(), DomainError> {
    if qty < 1 {
        return Err(DomainError::validation(
            "quantity",
            format!("must be at least 1, got {qty}"),
        ));
    }
    Ok(())
}

fn overflow(sku: &str) -> DomainError {
    DomainError::validation(
        "quantity",
        format!(
            "stock of {} would overflow; the quantity is too large",
            crate::text::excerpt(sku, crate::text::EXCERPT_CHARS)
        ),
    )
}

fn adjust_reason(reason: &str) -> Result<String, DomainError> {
    let r = reason.trim();
    if r.is_empty() {
        return Ok(DEFAULT_ADJUST_REASON.to_string());
    }
    if crate::text::has_control(r) {
        return Err(DomainError::validation(
            "reason",
            "must not contain control characters",
        ));
    }
    let n = r.chars().count();
    if n > MAX_REASON_CHARS {
        return Err(DomainError::validation(
            "reason",
            format!("is {n} characters long; the limit is {MAX_REASON_CHARS}"),
        ));
    }
    Ok(r.to_string())
}

impl Variant {
    /// `on_hand - reserved` (saturating, so malformed rows cannot panic).
    pub fn available(&self) -> i64 {
        self.on_hand.saturating_sub(self.reserved)
    }

    /// Is available stock at or below the low-stock threshold?
    pub fn is_low(&self) -> bool {
        self.available() <= self.low_stock_threshold
    }

    /// A manual correction of units on hand (`by` may be negative, at most [`MAX_STOCK`]
    /// either way). A decrease may not take `on_hand` below 0 or below what is reserved; an
    /// increase may not take it above [`MAX_STOCK`]. A blank reason is recorded as "manual
    /// adjustment".
    pub fn adjust(
        &self,
        by: i64,
        reason: &str,
    ) -> Result<(Variant, Vec<DomainEvent>), DomainError> {
        if by == 0 {
            return Err(DomainError::validation(
                "by",
                "must not be 0 (nothing to change)",
            ));
        }
        if by.unsigned_abs() > MAX_STOCK.unsigned_abs() {
            return Err(DomainError::validation(
                "by",
                format!("must be between -{MAX_STOCK} and {MAX_STOCK}, got {by}"),
            ));
        }
        let reason = adjust_reason(reason)?;
        let on_hand = self
            .on_hand
            .checked_add(by)
            .ok_or_else(|| overflow(&self.sku))?;
        if by > 0 && on_hand > MAX_STOCK {
            return Err(DomainError::validation(
                "by",
                format!(
                    "cannot add {by} to the {} on hand of {}: at most {MAX_STOCK} units can be on hand",
                    self.on_hand,
                    crate::text::excerpt(&self.sku, crate::text::EXCERPT_CHARS)
                ),
            ));
        }
        if by < 0 {
            let sku = crate::text::excerpt(&self.sku, crate::text::EXCERPT_CHARS);
            let removed = by.unsigned_abs();
            if on_hand < 0 {
                return Err(DomainError::validation(
                    "by",
                    format!(
                        "cannot remove {removed} of {sku}: only {} on hand",
                        self.on_hand
                    ),
                ));
            }
            if on_hand < self.reserved {
                return Err(DomainError::validation(
                    "by",
                    format!(
                        "cannot remove {removed} of {sku}: {} of the {} on hand are reserved for orders",
                        self.reserved, self.on_hand
                    ),
                ));
            }
        }
        Ok(self.changed(on_hand, self.reserved, by, reason))
    }

    /// Sets `qty` units aside for an order. Under the `deny` policy this fails when fewer than
    /// `qty` are available; under `continue` it always succeeds.
    pub fn reserve(&self, qty: i64) -> Result<(Variant, Vec<DomainEvent>), DomainError> {
        positive(qty)?;
        let available = self.available();
        if self.inventory_policy == InventoryPolicy::Deny && available < qty {
            return Err(DomainError::validation(
                "quantity",
                format!(
                    "only {} of {} available, {qty} requested",
                    available.max(0),
                    crate::text::excerpt(&self.sku, crate::text::EXCERPT_CHARS)
                ),
            ));
        }
        let reserved = self
            .reserved
            .checked_add(qty)
            .ok_or_else(|| overflow(&self.sku))?;
        Ok(self.changed(
            self.on_hand,
            reserved,
            0,
            StockMoveKind::Reserve.as_str().into(),
        ))
    }

    /// Gives back `qty` reserved units (an order was cancelled before it was paid).
    pub fn release(&self, qty: i64) -> Result<(Variant, Vec<DomainEvent>), DomainError> {
        positive(qty)?;
        self.check_reserved("release", qty)?;
        Ok(self.changed(
            self.on_hand,
            self.reserved - qty,
            0,
            StockMoveKind::Release.as_str().into(),
        ))
    }

    /// Turns `qty` reserved units into a sale: both reserved and on hand drop by `qty`.
    pub fn sell(&self, qty: i64) -> Result<(Variant, Vec<DomainEvent>), DomainError> {
        positive(qty)?;
        self.check_reserved("sell", qty)?;
        let on_hand = self
            .on_hand
            .checked_sub(qty)
            .ok_or_else(|| overflow(&self.sku))?;
        Ok(self.changed(
            on_hand,
            self.reserved - qty,
            -qty,
            StockMoveKind::Sell.as_str().into(),
        ))
    }

    /// Puts `qty` units back on hand (a paid or shipped order was cancelled).
    pub fn restock(&self, qty: i64) -> Result<(Variant, Vec<DomainEvent>), DomainError> {
        positive(qty)?;
        let on_hand = self
            .on_hand
            .checked_add(qty)
            .ok_or_else(|| overflow(&self.sku))?;
        Ok(self.changed(
            on_hand,
            self.reserved,
            qty,
            StockMoveKind::Restock.as_str().into(),
        ))
    }

    /// Applies one order stock move to this variant.
    pub fn apply_move(&self, mv: &StockMove) -> Result<(Variant, Vec<DomainEvent>), DomainError> {
        if mv.sku != self.sku {
            return Err(DomainError::validation(
                "sku",
                format!(
                    "stock move for {} applied to variant {}",
                    crate::text::excerpt(&mv.sku, crate::text::EXCERPT_CHARS),
                    crate::text::excerpt(&self.sku, crate::text::EXCERPT_CHARS)
                ),
            ));
        }
        match mv.kind {
            StockMoveKind::Reserve => self.reserve(mv.qty),
            StockMoveKind::Release => self.release(mv.qty),
            StockMoveKind::Sell => self.sell(mv.qty),
            StockMoveKind::Restock => self.restock(mv.qty),
        }
    }

    fn check_reserved(&self, action: &str, qty: i64) -> Result<(), DomainError> {
        if qty > self.reserved {
            return Err(DomainError::validation(
                "quantity",
                format!(
                    "cannot {action} {qty} of {}: only {} reserved",
                    crate::text::excerpt(&self.sku, crate::text::EXCERPT_CHARS),
                    self.reserved.max(0)
                ),
            ));
        }
        Ok(())
    }

    fn changed(
        &self,
        on_hand: i64,
        reserved: i64,
        delta: i64,
        reason: String,
    ) -> (Variant, Vec<DomainEvent>) {
        let mut next = self.clone();
        next.on_hand = on_hand;
        next.reserved = reserved;
        let mut events = vec![DomainEvent::InventoryUpdated(event::InventoryUpdated {
            sku: next.sku.clone(),
            on_hand,
            reserved,
            available: next.available(),
            delta,
            reason,
        })];
        if !self.is_low() && next.is_low() {
            events.push(DomainEvent::InventoryLow(event::InventoryLow {
                sku: next.sku.clone(),
                available: next.available(),
                threshold: next.low_stock_threshold,
            }));
        }
        (next, events)
    }
}

/// Applies order stock moves, in order, to the given variants (matched by SKU). Returns one
/// [`StockChange`] per move with the variant's state after it; when a SKU appears in several
/// moves, later changes supersede earlier ones, so writing each variant's last state is
/// enough. Fails — and the store rolls the whole transaction back — when a SKU is unknown
/// (`NotFound`) or a move is refused (e.g. reserving more than is available under `deny`).
/// The events of a change belong to the product aggregate `change.variant.product_id`.
pub fn apply_moves(
    variants: &[Variant],
    moves: &[StockMove],
) -> Result<Vec<StockChange>, DomainError> {
    let mut current = variants.to_vec();
    let mut out = Vec::with_capacity(moves.len());
    for mv in moves {
        let Some(v) = current.iter_mut().find(|v| v.sku == mv.sku) else {
            return Err(DomainError::not_found(
                "product",
                format!(
                    "with sku {}",
                    crate::text::excerpt(&mv.sku, crate::text::EXCERPT_CHARS)
                ),
            ));
        };
        let (next, events) = v.apply_move(mv)?;
        *v = next.clone();
        out.push(StockChange {
            variant: next,
            events,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Currency, Money, ProductId, VariantId};

    fn variant(on_hand: i64, reserved: i64, policy: InventoryPolicy) -> Variant {
        Variant {
            id: VariantId::new_v7(),
            product_id: ProductId::new_v7(),
            sku: "SKU-1".into(),
            title: "Thing".into(),
            price: Money::new(1000, Currency::USD),
            inventory_policy: policy,
            on_hand,
            reserved,
            low_stock_threshold: 5,
        }
    }

    fn types(events: &[DomainEvent]) -> Vec<&'static str> {
        events.iter().map(|e| e.event_type()).collect()
    }

    fn updated(events: &[DomainEvent]) -> &event::InventoryUpdated {
        match &events[0] {
            DomainEvent::InventoryUpdated(u) => u,
            other => panic!("expected inventory.updated, got {other:?}"),
        }
    }

    #[test]
    fn adjust_rules() {
        let v = variant(10, 3, InventoryPolicy::Deny);
        let (n, ev) = v.adjust(5, "  recount ").unwrap();
        assert_eq!((n.on_hand, n.reserved, n.available()), (15, 3, 12));
        let u = updated(&ev);
        assert_eq!(
            (u.delta, u.reason.as_str(), u.available),
            (5, "recount", 12)
        );
        let (n, ev) = v.adjust(-7, "").unwrap();
        assert_eq!((n.on_hand, n.available()), (3, 0));
        assert_eq!(updated(&ev).reason, DEFAULT_ADJUST_REASON);
        assert_eq!(
            v.adjust(-8, "x").unwrap_err().field(),
            Some("by"),
            "below reserved"
        );
        assert!(
            variant(2, 0, InventoryPolicy::Deny)
                .adjust(-3, "x")
                .is_err(),
            "below zero"
        );
        assert!(v.adjust(0, "x").is_err());
        assert!(v.adjust(i64::MAX, "x").is_err(), "overflow is an error");
        assert!(v.adjust(i64::MIN, "x").is_err());
        assert!(v.adjust(1, &"r".repeat(256)).is_err());
        assert!(v.adjust(1, "a\x1bb").is_err());
        // A backordered variant (continue policy) can always be topped up.
        let b = variant(1, 4, InventoryPolicy::Continue);
        assert_eq!(b.adjust(2, "delivery").unwrap().0.on_hand, 3);
    }

    #[test]
    fn reserve_respects_policy() {
        let v = variant(3, 1, InventoryPolicy::Deny);
        let (n, ev) = v.reserve(2).unwrap();
        assert_eq!((n.on_hand, n.reserved, n.available()), (3, 3, 0));
        assert_eq!(updated(&ev).delta, 0);
        let err = v.reserve(3).unwrap_err();
        assert_eq!(
            err.to_string(),
            "quantity: only 2 of SKU-1 available, 3 requested"
        );
        assert!(v.reserve(0).is_err());
        assert!(v.reserve(-1).is_err());
        let c = variant(3, 1, InventoryPolicy::Continue);
        let (n, _) = c.reserve(10).unwrap();
        assert_eq!((n.reserved, n.available()), (11, -8));
        assert!(
            variant(0, i64::MAX, InventoryPolicy::Continue)
                .reserve(1)
                .is_err()
        );
    }

    #[test]
    fn release_sell_restock() {
        let v = variant(10, 4, InventoryPolicy::Deny);
        let (n, _) = v.release(4).unwrap();
        assert_eq!((n.on_hand, n.reserved), (10, 0));
        assert!(v.release(5).is_err());
        let (n, ev) = v.sell(3).unwrap();
        assert_eq!((n.on_hand, n.reserved, n.available()), (7, 1, 6));
        let u = updated(&ev);
        assert_eq!((u.delta, u.reason.as_str()), (-3, "sell"));
        assert_eq!(
            v.sell(5).unwrap_err().to_string(),
            "quantity: cannot sell 5 of SKU-1: only 4 reserved"
        );
        let (n, ev) = v.restock(2).unwrap();
        assert_eq!((n.on_hand, n.reserved), (12, 4));
        assert_eq!(updated(&ev).delta, 2);
        assert!(v.restock(i64::MAX).is_err());
    }

    #[test]
    fn low_stock_fires_only_when_crossing() {
        // threshold 5: 8 available → reserve 3 → 5 available: crossing.
        let v = variant(8, 0, InventoryPolicy::Deny);
        let (n, ev) = v.reserve(3).unwrap();
        assert_eq!(types(&ev), ["inventory.updated", "inventory.low"]);
        match &ev[1] {
            DomainEvent::InventoryLow(l) => assert_eq!((l.available, l.threshold), (5, 5)),
            other => panic!("unexpected {other:?}"),
        }
        // Already low: no repeat.
        let (n, ev) = n.reserve(1).unwrap();
        assert_eq!(types(&ev), ["inventory.updated"]);
        // Selling reserved units does not change available: no alert.
        let (n, ev) = n.sell(4).unwrap();
        assert_eq!(types(&ev), ["inventory.updated"]);
        // Restock above the threshold re-arms it.
        let (n, ev) = n.restock(10).unwrap();
        assert_eq!(types(&ev), ["inventory.updated"]);
        assert!(!n.is_low());
        let (_, ev) = n.adjust(-9, "damaged").unwrap();
        assert_eq!(types(&ev), ["inventory.updated", "inventory.low"]);
        for e in &ev {
            assert_eq!(e.aggregate_type(), "product");
            assert_eq!(
                DomainEvent::from_parts(e.event_type(), &e.payload()).unwrap(),
                *e
            );
        }
    }

    #[test]
    fn apply_moves_in_order() {
        let a = variant(10, 0, InventoryPolicy::Deny);
        let mut b = variant(1, 0, InventoryPolicy::Deny);
        b.sku = "SKU-2".into();
        let moves = vec![
            StockMove {
                sku: "SKU-1".into(),
                kind: StockMoveKind::Reserve,
                qty: 2,
            },
            StockMove {
                sku: "SKU-1".into(),
                kind: StockMoveKind::Sell,
                qty: 2,
            },
        ];
        let changes = apply_moves(&[a.clone(), b.clone()], &moves).unwrap();
        assert_eq!(changes.len(), 2);
        assert_eq!(
            (changes[1].variant.on_hand, changes[1].variant.reserved),
            (8, 0)
        );
        let too_many = vec![StockMove {
            sku: "SKU-2".into(),
            kind: StockMoveKind::Reserve,
            qty: 2,
        }];
        assert_eq!(
            apply_moves(&[a.clone(), b.clone()], &too_many)
                .unwrap_err()
                .kind(),
            "validation"
        );
        let unknown = vec![StockMove {
            sku: "NOPE".into(),
            kind: StockMoveKind::Restock,
            qty: 1,
        }];
        let err = apply_moves(&[a.clone(), b], &unknown).unwrap_err();
        assert_eq!(err.to_string(), "product with sku NOPE not found");
        assert!(
            a.apply_move(&unknown[0]).is_err(),
            "a move for another sku is refused"
        );
    }
}
