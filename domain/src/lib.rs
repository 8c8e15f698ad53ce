//! RusToK domain core: pure types, validation, state machines and decisions.
//!
//! Nothing in this crate performs I/O, awaits, or reads a clock or a random source inside a
//! decision: callers pass `now` and freshly generated ids in, so every decision is
//! deterministic and property-testable.

pub mod audit;
pub mod command;
pub mod commerce;
pub mod content;
pub mod error;
pub mod event;
pub mod id;
pub mod locale;
pub mod money;
pub mod rbac;
pub mod read;
pub mod staff;
pub mod tenant;
pub mod text;

pub use command::{Actor, Command, CommandEnvelope};
pub use commerce::{
    InventoryPolicy, LineItem, Order, OrderDraft, OrderStatus, PaymentGateway, PaymentOutcome,
    Product, ProductDraft, ProductStatus, StockMove, StockMoveKind, Variant,
};
pub use error::DomainError;
pub use id::{
    CommandId, EventId, IdRef, NodeId, NoteId, OrderId, ProductId, SHORT_ID_DIGITS, StaffId,
    TenantId, VariantId, short_id,
};
pub use locale::Locale;
pub use money::{Currency, Money, NumberFormat};
pub use rbac::{Permission, Role};
pub use staff::Staff;
pub use tenant::{Tenant, TenantCache, TenantCacheStats};
