//! Commerce: the catalog (products and their variants), stock, orders and their state
//! machine, and the payment gateway, email and storage ports.
//!
//! # How a commerce command is executed
//!
//! Every decision here is pure: it takes the current aggregate, the input and `now`, and
//! returns the next aggregate and the events it emits — or a [`DomainError`](crate::DomainError).
//! Nothing is written; the store does that inside one transaction.
//!
//! **Orders decide their stock effects but do not apply them.** An order transition returns
//! an [`OrderDecision`]: `(Order, Vec<DomainEvent>, Vec<StockMove>)`. The store, in the same
//! transaction, loads the variants named by the moves, applies them with [`apply_moves`]
//! (which runs the [`Variant`] inventory functions and may refuse — e.g. a `reserve` under the
//! `deny` policy when not enough is available — in which case the whole transaction is rolled
//! back), writes the order and the changed variants, and appends to the outbox first the
//! order's events and then the inventory events, in the order returned. That gives, for the
//! order flow: `order.placed`, `order.status_changed` (confirmed) + `inventory.updated`
//! (reserve), `payment.succeeded`, `order.status_changed` (paid), `inventory.updated` (sell).
//!
//! | transition | stock moves |
//! |---|---|
//! | pending → confirmed | `reserve` every line |
//! | confirmed → paid | `sell` every line (reserved and on hand both drop) |
//! | confirmed → cancelled | `release` every line |
//! | paid / shipped → cancelled | `restock` every line (and `payment.refunded`) |
//! | anything else | none |
//!
//! **Paying is two steps** (no network call inside a transaction): the runtime first checks
//! [`Order::can_pay`] and builds the request with [`Order::charge_request`] (a free order,
//! total 0, is settled at once by [`Order::free_payment`], no gateway asked), calls the
//! [`PaymentGateway`] (idempotency key = the command id, so a retry after a crash is safe),
//! then executes [`Order::record_payment`] in a transaction. A declined or invalid payment
//! returns the order *unchanged* (same version) with a single `payment.failed` event and no
//! stock moves: the store then writes only the event. Cancelling a paid or shipped order
//! emits `payment.refunded` (unless it was free); the runtime performs the refund first with
//! [`Order::refund_request`] and the gateway, then executes the cancel.
//!
//! **Inventory events** (`inventory.updated`, `inventory.low`) belong to the product
//! aggregate: the envelope's `aggregate_id` is the variant's `product_id`, and the payload's
//! `sku` names the variant. `inventory.low` is emitted only when a change *crosses* the
//! threshold: available was above `low_stock_threshold` before and is at or below it after.
//! Staying low does not repeat the alert; a restock above the threshold re-arms it.

mod inventory;
mod note;
mod order;
mod payment;
mod product;
mod services;
mod steps;

pub use inventory::{StockChange, StockMove, StockMoveKind, apply_moves};
pub use note::{MAX_MENTIONS, MAX_NOTE_CHARS, Mention, Mentionable, OrderNote, mentions, suggest};
pub use order::{
    FREE_PAYMENT_PREFIX, LineItem, MAX_LINE_QUANTITY, Order, OrderDecision, OrderDraft,
    OrderStatus, cancel_refund, validate_email, validate_quantity,
};
pub use payment::{
    ChargeRecord, ChargeRequest, PaymentGateway, PaymentOutcome, RefundOutcome, RefundRecord,
    RefundRequest, SandboxGateway, gateway_by_name,
};
pub use product::{
    DEFAULT_LOW_STOCK_THRESHOLD, InventoryPolicy, MAX_SKU_CHARS, MAX_STOCK, Product, ProductDraft,
    ProductStatus, ProductTranslation, Variant, validate_handle, validate_sku,
};
pub use services::{BlobStorage, Email, EmailSender, MemoryMailbox, MemoryStorage, ServiceError};
pub use steps::{
    FromInput, InputKind, MAX_AMOUNT_CHARS, MAX_CARD_TOKEN_CHARS, MAX_LIST_CHARS, MAX_LIST_ITEMS,
    OrderAction, OrderCommand, OrderStep, SkuQty, SkuQuantities, StepInput, parse_sku_quantities,
};
