//! Typed UUIDv7 identifiers. Each id type is a distinct newtype so a node id can never be
//! passed where a tenant id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new time-ordered (UUIDv7) id. Callers generate ids; decisions never do.
            pub fn new_v7() -> Self {
                Self(Uuid::now_v7())
            }
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
            pub fn is_nil(&self) -> bool {
                self.0.is_nil()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl FromStr for $name {
            type Err = crate::DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s.trim()).map(Self).map_err(|_| crate::DomainError::Validation {
                    field: "id",
                    message: format!("'{}' is not a valid id (expected a UUID)", crate::text::excerpt(s, crate::text::EXCERPT_CHARS)),
                })
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }
    };
}

typed_id!(
    /// A tenant.
    TenantId
);
typed_id!(
    /// A content node.
    NodeId
);
typed_id!(
    /// An event envelope (also the outbox row's identity and the de-duplication key).
    EventId
);
typed_id!(
    /// A command sent through the action queue (also the payment idempotency key).
    CommandId
);
typed_id!(
    /// A catalog product.
    ProductId
);
typed_id!(
    /// One sellable variant of a product (the thing with a SKU, a price and stock).
    VariantId
);
typed_id!(
    /// A customer order.
    OrderId
);
typed_id!(
    /// A staff member (an account of the back-office).
    StaffId
);
typed_id!(
    /// A staff member's note on an order.
    NoteId
);

/// How screens shorten an id: its last 8 hex digits. (A UUIDv7 starts with its timestamp, so
/// the prefixes of ids made close together are alike; the suffix is random.)
pub const SHORT_ID_DIGITS: usize = 8;

/// The short form of `id` that screens show: its last [`SHORT_ID_DIGITS`] hex digits.
pub fn short_id(id: Uuid) -> String {
    let hex = id.simple().to_string();
    hex[hex.len() - SHORT_ID_DIGITS..].to_string()
}

/// What an id argument names: a whole UUID, or the end of one (the short form screens show,
/// or any 4 to 31 hex digits), resolved within the tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdRef {
    Full(Uuid),
    /// Lowercase hex digits the id ends with.
    Suffix(String),
}

impl FromStr for IdRef {
    type Err = crate::DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if let Ok(u) = Uuid::parse_str(t) {
            return Ok(IdRef::Full(u));
        }
        let hex: String = t.chars().filter(|c| *c != '-').collect();
        if (4..32).contains(&hex.len()) && hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Ok(IdRef::Suffix(hex.to_ascii_lowercase()));
        }
        Err(crate::DomainError::Validation {
            field: "id",
            message: format!(
                "'{}' is not an id (a UUID, or the last {SHORT_ID_DIGITS} hex digits the screens show)",
                crate::text::excerpt(s, crate::text::EXCERPT_CHARS)
            ),
        })
    }
}

#[cfg(test)]
mod short_id_tests {
    use super::*;

    #[test]
    fn short_ids_are_the_last_eight_hex_digits_and_parse_back() {
        let u = Uuid::parse_str("01936c3e-7a2b-7c4d-8e5f-0a1b6a9768cf").unwrap();
        assert_eq!(short_id(u), "6a9768cf");
        assert_eq!(
            "6a9768cf".parse::<IdRef>().unwrap(),
            IdRef::Suffix("6a9768cf".into())
        );
        assert_eq!(
            " 6A97-68CF ".parse::<IdRef>().unwrap(),
            IdRef::Suffix("6a9768cf".into())
        );
        assert_eq!(u.to_string().parse::<IdRef>().unwrap(), IdRef::Full(u));
        for bad in [
            "",
            "abc",
            "xyz12345",
            "6a9768cg",
            &"a".repeat(33),
            "'; drop",
        ] {
            assert!(bad.parse::<IdRef>().is_err(), "{bad:?}");
        }
    }
}
