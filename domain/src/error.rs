//! The one error type of the domain. Every message is a single line a user can act on.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    /// Input broke a rule; `field` names the input so a form can show the message beside it.
    #[error("{field}: {message}")]
    Validation {
        field: &'static str,
        message: String,
    },

    /// A state machine refused a transition.
    #[error("cannot {action} {entity} in status {from}")]
    InvalidTransition {
        entity: &'static str,
        from: String,
        action: String,
    },

    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: String },

    /// Optimistic locking: the caller edited an older version than the one stored.
    #[error(
        "version conflict: expected version {expected}, but the {entity} is at version {actual}"
    )]
    VersionConflict {
        entity: &'static str,
        expected: i64,
        actual: i64,
    },

    /// A uniqueness rule (slug per tenant and locale, tenant slug, SKU per tenant, ...).
    #[error("{what} already exists")]
    Duplicate { what: String },

    /// An event envelope or payload failed validation.
    #[error("invalid event: {0}")]
    InvalidEvent(String),

    /// The payment gateway declined the charge or could not process it (`code` is the
    /// gateway's, e.g. `card_declined`, `invalid_card_token`). The order is unchanged; a
    /// `payment.failed` event records the attempt.
    #[error("payment declined: {reason}")]
    PaymentDeclined { code: String, reason: String },

    /// The payment gateway refused a refund; the command that needed it changed nothing.
    #[error("refund failed: {reason}")]
    RefundFailed { code: String, reason: String },

    /// The stock of a variant changed between reading and writing it (another command got
    /// there first); nothing was written.
    #[error("the stock of {sku} changed while the command ran; nothing was written, try again")]
    StockConflict { sku: String },

    /// RBAC refused the command (role lacks the permission, unknown or inactive staff
    /// member, read-only session). Checked before deciding; nothing was written.
    #[error("permission denied: {reason}")]
    PermissionDenied { reason: String },
}

impl DomainError {
    pub fn validation(field: &'static str, message: impl Into<String>) -> Self {
        Self::Validation {
            field,
            message: message.into(),
        }
    }

    pub fn not_found(entity: &'static str, id: impl ToString) -> Self {
        Self::NotFound {
            entity,
            id: id.to_string(),
        }
    }

    pub fn denied(reason: impl Into<String>) -> Self {
        Self::PermissionDenied {
            reason: reason.into(),
        }
    }

    /// A short, stable machine-readable kind for JSON error output and tests.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Validation { .. } => "validation",
            Self::InvalidTransition { .. } => "invalid_transition",
            Self::NotFound { .. } => "not_found",
            Self::VersionConflict { .. } => "conflict",
            Self::Duplicate { .. } => "duplicate",
            Self::InvalidEvent(_) => "invalid_event",
            Self::PaymentDeclined { .. } => "payment_declined",
            Self::RefundFailed { .. } => "refund_failed",
            Self::StockConflict { .. } => "conflict",
            Self::PermissionDenied { .. } => "permission",
        }
    }

    /// The field a validation error belongs to, if any.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::Validation { field, .. } => Some(field),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payment_errors_are_one_line_with_a_kind() {
        let e = DomainError::PaymentDeclined {
            code: "card_declined".into(),
            reason: "card declined".into(),
        };
        assert_eq!(e.to_string(), "payment declined: card declined");
        assert_eq!(e.kind(), "payment_declined");
        let r = DomainError::RefundFailed {
            code: "unknown_charge".into(),
            reason: "no sandbox charge with reference x".into(),
        };
        assert_eq!(
            r.to_string(),
            "refund failed: no sandbox charge with reference x"
        );
        assert_eq!(r.kind(), "refund_failed");
        let c = DomainError::StockConflict { sku: "MUG".into() };
        assert_eq!(c.kind(), "conflict");
        assert!(!c.to_string().contains('\n'));
    }
}
