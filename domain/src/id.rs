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
