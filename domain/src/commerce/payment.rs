//! The payment gateway port and the built-in `sandbox` gateway.
//!
//! The trait is synchronous and the sandbox is pure in-memory bookkeeping, so the domain
//! stays free of I/O; a real provider is implemented outside the domain and called by the
//! runtime from a blocking task, never inside a database transaction.
//!
//! Idempotency: every request carries an idempotency key (the command id). Asking again
//! with the same key returns the first outcome and charges (or refunds) nothing more; a
//! crash between the gateway call and `RecordPayment` is recovered by asking again.
//! If `Order::record_payment` then refuses a *successful* charge (say the order was
//! cancelled meanwhile), the runtime must refund it.

use crate::{DomainError, Money, OrderId};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use uuid::Uuid;

/// Ask the gateway to take `amount` from the card behind `card_token`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeRequest {
    pub idempotency_key: Uuid,
    pub order_id: OrderId,
    pub amount: Money,
    pub card_token: String,
}

/// Ask the gateway to give back `amount` of an earlier charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRequest {
    pub idempotency_key: Uuid,
    pub order_id: OrderId,
    pub amount: Money,
    /// The reference of the charge being refunded.
    pub payment_reference: String,
}

/// What a charge came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum PaymentOutcome {
    /// The money was taken; `reference` identifies the charge at the provider.
    Succeeded { reference: String, amount: Money },
    /// The card was refused (e.g. `card_declined`, `insufficient_funds`).
    Declined { code: String, reason: String },
    /// The request could not be processed (e.g. `invalid_card_token`).
    Invalid { code: String, reason: String },
}

impl PaymentOutcome {
    pub fn is_success(&self) -> bool {
        matches!(self, PaymentOutcome::Succeeded { .. })
    }

    /// `(code, reason)` of a failed charge.
    pub fn failure(&self) -> Option<(&str, &str)> {
        match self {
            PaymentOutcome::Succeeded { .. } => None,
            PaymentOutcome::Declined { code, reason }
            | PaymentOutcome::Invalid { code, reason } => Some((code, reason)),
        }
    }
}

/// What a refund came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RefundOutcome {
    Refunded { reference: String, amount: Money },
    Failed { code: String, reason: String },
}

impl RefundOutcome {
    pub fn is_success(&self) -> bool {
        matches!(self, RefundOutcome::Refunded { .. })
    }
}

/// A payment provider. Implementations must be idempotent per `idempotency_key`.
pub trait PaymentGateway: Send + Sync {
    /// Short name, e.g. `sandbox`.
    fn name(&self) -> &str;
    fn charge(&self, req: &ChargeRequest) -> PaymentOutcome;
    fn refund(&self, req: &RefundRequest) -> RefundOutcome;
    /// Reminds the gateway of a successful charge the platform recorded (its
    /// `payment.succeeded`: the order, the gateway's reference and the amount), before a
    /// refund of it. A real provider keeps its own records and ignores this (the default);
    /// the in-memory sandbox forgets everything when its process exits, so a refund asked
    /// by another process (`rustok order cancel` after `rustok order pay`) needs it.
    fn recall_charge(&self, _order_id: OrderId, _reference: &str, _amount: Money) {}
    /// Whether a charge or refund returns at once, without waiting on anything outside the
    /// process (the in-memory sandbox). A gateway that talks to a provider keeps the default:
    /// its calls are made off the async runtime's threads.
    fn answers_at_once(&self) -> bool {
        false
    }
}

/// The gateway registered under `name` (only `sandbox` is built in).
pub fn gateway_by_name(name: &str) -> Result<Box<dyn PaymentGateway>, DomainError> {
    match name {
        SandboxGateway::NAME => Ok(Box::new(SandboxGateway::new())),
        other => Err(DomainError::validation(
            "gateway",
            format!(
                "'{}' is not a known payment gateway (available: sandbox)",
                crate::text::excerpt(other, crate::text::EXCERPT_CHARS)
            ),
        )),
    }
}

/// One distinct charge the sandbox processed (replays with the same key are not repeated).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChargeRecord {
    pub request: ChargeRequest,
    pub outcome: PaymentOutcome,
}

/// One distinct refund the sandbox processed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefundRecord {
    pub request: RefundRequest,
    pub outcome: RefundOutcome,
}

#[derive(Debug, Default)]
struct Ledger {
    charges: Vec<ChargeRecord>,
    refunds: Vec<RefundRecord>,
    /// Charges made by an earlier process, as the platform recorded them: reference → amount.
    recalled: HashMap<String, Money>,
    requests: usize,
    /// Lookups that stay as cheap with a million records as with one: position of the charge
    /// (and the refund) under each idempotency key, the amount of each successful charge by
    /// reference, and how much of it was refunded.
    charge_by_key: HashMap<Uuid, usize>,
    refund_by_key: HashMap<Uuid, usize>,
    charged: HashMap<String, Money>,
    refunded: HashMap<String, i64>,
}

/// The built-in test gateway. Tokens: `tok_visa`, `tok_mastercard` succeed;
/// `tok_chargeDeclined` is declined (`card_declined`, "card declined");
/// `tok_chargeDeclinedInsufficientFunds` is declined (`insufficient_funds`, "insufficient
/// funds"); anything else is invalid (`invalid_card_token`, "invalid card token").
/// References are derived from the idempotency key, so the sandbox is deterministic.
#[derive(Debug, Default)]
pub struct SandboxGateway {
    ledger: Mutex<Ledger>,
}

impl SandboxGateway {
    pub const NAME: &'static str = "sandbox";

    pub fn new() -> Self {
        Self::default()
    }

    fn ledger(&self) -> MutexGuard<'_, Ledger> {
        // A panic elsewhere while holding the lock leaves plain data behind; keep using it.
        self.ledger
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every distinct charge processed, oldest first.
    pub fn charges(&self) -> Vec<ChargeRecord> {
        self.ledger().charges.clone()
    }

    /// Every distinct refund processed, oldest first.
    pub fn refunds(&self) -> Vec<RefundRecord> {
        self.ledger().refunds.clone()
    }

    /// How many requests (charges and refunds, replays included) reached the sandbox.
    pub fn request_count(&self) -> usize {
        self.ledger().requests
    }

    fn decide_charge(req: &ChargeRequest) -> PaymentOutcome {
        let invalid = |code: &str, reason: &str| PaymentOutcome::Invalid {
            code: code.into(),
            reason: reason.into(),
        };
        if req.amount.amount <= 0 {
            return invalid("invalid_amount", "amount must be positive");
        }
        match req.card_token.as_str() {
            "tok_visa" | "tok_mastercard" => PaymentOutcome::Succeeded {
                reference: format!("ch_sandbox_{}", req.idempotency_key.simple()),
                amount: req.amount,
            },
            "tok_chargeDeclined" => PaymentOutcome::Declined {
                code: "card_declined".into(),
                reason: "card declined".into(),
            },
            "tok_chargeDeclinedInsufficientFunds" => PaymentOutcome::Declined {
                code: "insufficient_funds".into(),
                reason: "insufficient funds".into(),
            },
            _ => invalid("invalid_card_token", "invalid card token"),
        }
    }
}

impl PaymentGateway for SandboxGateway {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn answers_at_once(&self) -> bool {
        true
    }

    fn charge(&self, req: &ChargeRequest) -> PaymentOutcome {
        let mut ledger = self.ledger();
        ledger.requests += 1;
        if let Some(seen) = ledger
            .charge_by_key
            .get(&req.idempotency_key)
            .map(|&i| &ledger.charges[i])
        {
            return if seen.request == *req {
                seen.outcome.clone()
            } else {
                PaymentOutcome::Invalid {
                    code: "idempotency_key_reused".into(),
                    reason: "idempotency key already used for a different charge".into(),
                }
            };
        }
        let outcome = Self::decide_charge(req);
        let at = ledger.charges.len();
        ledger.charge_by_key.insert(req.idempotency_key, at);
        if let PaymentOutcome::Succeeded { reference, amount } = &outcome {
            ledger.charged.insert(reference.clone(), *amount);
        }
        ledger.charges.push(ChargeRecord {
            request: req.clone(),
            outcome: outcome.clone(),
        });
        outcome
    }

    fn refund(&self, req: &RefundRequest) -> RefundOutcome {
        let mut ledger = self.ledger();
        ledger.requests += 1;
        if let Some(seen) = ledger
            .refund_by_key
            .get(&req.idempotency_key)
            .map(|&i| &ledger.refunds[i])
        {
            return if seen.request == *req {
                seen.outcome.clone()
            } else {
                RefundOutcome::Failed {
                    code: "idempotency_key_reused".into(),
                    reason: "idempotency key already used for a different refund".into(),
                }
            };
        }
        let failed = |code: &str, reason: String| RefundOutcome::Failed {
            code: code.into(),
            reason,
        };
        let charged = ledger
            .charged
            .get(&req.payment_reference)
            .or_else(|| ledger.recalled.get(&req.payment_reference))
            .copied();
        let refunded = ledger
            .refunded
            .get(&req.payment_reference)
            .copied()
            .unwrap_or(0);
        let outcome = match charged {
            None => failed(
                "unknown_charge",
                format!(
                    "no sandbox charge with reference {}",
                    crate::text::excerpt(&req.payment_reference, crate::text::EXCERPT_CHARS)
                ),
            ),
            Some(_) if req.amount.amount <= 0 => {
                failed("invalid_amount", "amount must be positive".into())
            }
            Some(c) if c.currency != req.amount.currency => failed(
                "currency_mismatch",
                format!(
                    "the charge was in {}, the refund in {}",
                    c.currency, req.amount.currency
                ),
            ),
            Some(c) if req.amount.amount > c.amount.saturating_sub(refunded) => failed(
                "amount_too_large",
                format!(
                    "only {} of the charge is left to refund",
                    Money::new(c.amount.saturating_sub(refunded), c.currency)
                ),
            ),
            Some(_) => RefundOutcome::Refunded {
                reference: format!("re_sandbox_{}", req.idempotency_key.simple()),
                amount: req.amount,
            },
        };
        if let RefundOutcome::Refunded { amount, .. } = &outcome {
            let total = ledger
                .refunded
                .entry(req.payment_reference.clone())
                .or_insert(0);
            *total = total.saturating_add(amount.amount);
        }
        let at = ledger.refunds.len();
        ledger.refund_by_key.insert(req.idempotency_key, at);
        ledger.refunds.push(RefundRecord {
            request: req.clone(),
            outcome: outcome.clone(),
        });
        outcome
    }

    /// Only sandbox references (`ch_sandbox_…`) are remembered, and only once; a charge this
    /// sandbox made itself is already known. Not counted as a request.
    fn recall_charge(&self, _order_id: OrderId, reference: &str, amount: Money) {
        if !reference.starts_with("ch_sandbox_") {
            return;
        }
        let mut ledger = self.ledger();
        if !ledger.charged.contains_key(reference) {
            ledger
                .recalled
                .entry(reference.to_string())
                .or_insert(amount);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;

    fn charge(token: &str) -> ChargeRequest {
        ChargeRequest {
            idempotency_key: Uuid::now_v7(),
            order_id: OrderId::new_v7(),
            amount: Money::new(6498, Currency::USD),
            card_token: token.into(),
        }
    }

    #[test]
    fn test_tokens() {
        let g = SandboxGateway::new();
        assert_eq!(g.name(), "sandbox");
        for ok in ["tok_visa", "tok_mastercard"] {
            let req = charge(ok);
            match g.charge(&req) {
                PaymentOutcome::Succeeded { reference, amount } => {
                    assert!(reference.starts_with("ch_sandbox_"));
                    assert_eq!(amount, req.amount);
                }
                other => panic!("{ok}: {other:?}"),
            }
        }
        assert_eq!(
            g.charge(&charge("tok_chargeDeclined")),
            PaymentOutcome::Declined {
                code: "card_declined".into(),
                reason: "card declined".into()
            }
        );
        assert_eq!(
            g.charge(&charge("tok_chargeDeclinedInsufficientFunds"))
                .failure(),
            Some(("insufficient_funds", "insufficient funds"))
        );
        for bad in ["tok_amex", "", "TOK_VISA", "tok_visa "] {
            assert_eq!(
                g.charge(&charge(bad)),
                PaymentOutcome::Invalid {
                    code: "invalid_card_token".into(),
                    reason: "invalid card token".into()
                },
                "{bad:?}"
            );
        }
        let mut zero = charge("tok_visa");
        zero.amount.amount = 0;
        assert!(!g.charge(&zero).is_success());
    }

    #[test]
    fn idempotent_charges() {
        let g = SandboxGateway::new();
        let req = charge("tok_visa");
        let first = g.charge(&req);
        let again = g.charge(&req);
        assert_eq!(first, again);
        assert_eq!(g.charges().len(), 1, "a replay is not a second charge");
        assert_eq!(g.request_count(), 2);
        let mut other = req.clone();
        other.amount.amount += 1;
        assert_eq!(
            g.charge(&other).failure().map(|f| f.0),
            Some("idempotency_key_reused")
        );
        assert_eq!(g.charges().len(), 1);
    }

    #[test]
    fn refunds() {
        let g = SandboxGateway::new();
        let req = charge("tok_visa");
        let PaymentOutcome::Succeeded { reference, amount } = g.charge(&req) else {
            panic!("expected success");
        };
        let refund = RefundRequest {
            idempotency_key: Uuid::now_v7(),
            order_id: req.order_id,
            amount,
            payment_reference: reference.clone(),
        };
        assert!(g.refund(&refund).is_success());
        assert!(
            g.refund(&refund).is_success(),
            "replay returns the same outcome"
        );
        assert_eq!(g.refunds().len(), 1);
        let twice = RefundRequest {
            idempotency_key: Uuid::now_v7(),
            ..refund.clone()
        };
        assert!(
            !g.refund(&twice).is_success(),
            "cannot refund more than was charged"
        );
        let unknown = RefundRequest {
            idempotency_key: Uuid::now_v7(),
            payment_reference: "ch_nope".into(),
            ..refund
        };
        assert!(!g.refund(&unknown).is_success());
    }

    #[test]
    fn recalled_charges_can_be_refunded_once() {
        let g = SandboxGateway::new();
        let order_id = OrderId::new_v7();
        let amount = Money::new(3750, Currency::USD);
        let refund = |reference: &str| RefundRequest {
            idempotency_key: Uuid::now_v7(),
            order_id,
            amount,
            payment_reference: reference.into(),
        };
        let reference = format!("ch_sandbox_{}", Uuid::now_v7().simple());
        assert!(
            !g.refund(&refund(&reference)).is_success(),
            "unknown before"
        );
        g.recall_charge(order_id, &reference, amount);
        g.recall_charge(order_id, &reference, amount);
        assert!(g.refund(&refund(&reference)).is_success());
        assert!(
            !g.refund(&refund(&reference)).is_success(),
            "a recalled charge is refunded at most once"
        );
        g.recall_charge(order_id, "ch_elsewhere_1", amount);
        assert!(!g.refund(&refund("ch_elsewhere_1")).is_success());
        assert_eq!(g.charges().len(), 0, "recalling is not charging");
        assert_eq!(g.refunds().len(), 4);
    }

    #[test]
    fn registry_and_threads() {
        assert_eq!(gateway_by_name("sandbox").unwrap().name(), "sandbox");
        assert!(gateway_by_name("stripe").is_err());
        let g = std::sync::Arc::new(SandboxGateway::new());
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let g = g.clone();
                std::thread::spawn(move || g.charge(&charge("tok_visa")).is_success())
            })
            .collect();
        for h in handles {
            assert!(h.join().unwrap());
        }
        assert_eq!(g.charges().len(), 4);
    }

    #[test]
    fn outcome_json() {
        let o = PaymentOutcome::Declined {
            code: "card_declined".into(),
            reason: "card declined".into(),
        };
        let json = serde_json::to_value(&o).unwrap();
        assert_eq!(json["outcome"], "declined");
        assert_eq!(serde_json::from_value::<PaymentOutcome>(json).unwrap(), o);
    }
}
