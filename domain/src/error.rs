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

    /// A short, stable machine-readable kind for JSON error output and tests.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Validation { .. } => "validation",
            Self::InvalidTransition { .. } => "invalid_transition",
            Self::NotFound { .. } => "not_found",
            Self::VersionConflict { .. } => "conflict",
            Self::Duplicate { .. } => "duplicate",
            Self::InvalidEvent(_) => "invalid_event",
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
