//! Read models: pure data that queries return and command outcomes carry. They live here so
//! the console (`ui`) can show them without knowing the store.

use crate::commerce::{InventoryPolicy, Order, OrderStatus, Product, ProductStatus};
use crate::content::{Node, NodeKind, NodeStatus};
use crate::event::EventEnvelope;
use crate::{CommandId, Locale, Money, NodeId, OrderId, ProductId, Tenant, VariantId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A window of a larger list: the rows and how many there are in all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub total: u64,
    pub offset: u64,
    pub rows: Vec<T>,
}

impl<T> Default for Page<T> {
    fn default() -> Self {
        Self::empty()
    }
}

impl<T> Page<T> {
    pub fn empty() -> Self {
        Self {
            total: 0,
            offset: 0,
            rows: Vec::new(),
        }
    }
}

/// One row of a node list: what a list shows, no bodies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeSummary {
    pub id: NodeId,
    pub kind: NodeKind,
    pub status: NodeStatus,
    pub version: i64,
    pub title: String,
    pub source_locale: Locale,
    pub locales: Vec<Locale>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    /// The node's next pending scheduled status change, if any (the list marks it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled: Option<(crate::content::ScheduledAction, DateTime<Utc>)>,
}

/// One search result: a node's translation that matched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    pub node_id: NodeId,
    pub locale: Locale,
    pub title: String,
    pub slug: String,
    pub kind: NodeKind,
    pub status: NodeStatus,
    /// A short excerpt around the match, where the backend provides one.
    pub snippet: Option<String>,
}

/// An event as stored, with its delivery state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub seq: i64,
    #[serde(flatten)]
    pub envelope: EventEnvelope,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub dispatched_at: Option<DateTime<Utc>>,
}

impl StoredEvent {
    /// The event as the bus delivers it.
    pub fn live(&self) -> crate::event::LiveEvent {
        crate::event::LiveEvent::new(self.seq, self.envelope.clone())
    }

    /// The event as the bus delivers it, without a copy.
    pub fn into_live(self) -> crate::event::LiveEvent {
        crate::event::LiveEvent::new(self.seq, self.envelope)
    }
}

/// Delivery counts across the outbox.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxCounts {
    pub pending: u64,
    pub dispatched: u64,
    pub failed: u64,
}

/// The consumer name of the relay's hand-over of events to the in-process bus.
pub const BUS_CONSUMER_NAME: &str = "bus";

/// One consumer of the outbox and how far behind it is (`rustok outbox consumers`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsumerStats {
    pub consumer: String,
    /// Events it has a receipt for (receipts past the retention are pruned).
    pub delivered: u64,
    /// Events waiting for it (with their retries).
    pub pending: u64,
    /// Its dead letters.
    pub failed: u64,
    /// Events it has still to get: `pending` (its dead letters wait for a re-drive).
    pub lag_events: u64,
    /// How long ago the oldest event still waiting for it happened (0 when none waits).
    pub lag_seconds: f64,
    pub last_error: Option<String>,
    pub last_delivered_at: Option<DateTime<Utc>>,
}

/// What a command changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Outcome {
    Tenant(Tenant),
    Node(Node),
    /// A product with all its variants and their stock after the command.
    Product(Product),
    /// An order after the command (unchanged after a failed payment).
    Order(Order),
    /// A staff member after a staff command.
    Staff(crate::staff::Staff),
    /// How many dead letters a re-drive put back in the queue.
    Requeued(u64),
    /// A note written on an order.
    Note(crate::commerce::OrderNote),
    /// A node's pending schedules after `schedule_node` / `unschedule_node`, soonest first.
    Schedule(Vec<crate::content::Schedule>),
}

/// A committed command: its outcome and the events written with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Applied {
    pub command_id: CommandId,
    pub outcome: Outcome,
    pub events: Vec<EventEnvelope>,
}

/// One row of `product list`: a variant (SKU) with its product and its stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockRow {
    pub product_id: ProductId,
    pub variant_id: VariantId,
    pub sku: String,
    /// The product's title in its source locale.
    pub title: String,
    pub status: ProductStatus,
    pub price: Money,
    pub inventory_policy: InventoryPolicy,
    pub on_hand: i64,
    pub reserved: i64,
    /// `on_hand - reserved`.
    pub available: i64,
    pub low_stock_threshold: i64,
    /// Available stock is at or below the low-stock threshold.
    pub low: bool,
}

impl StockRow {
    /// One row per variant of `product`, in the product's variant order.
    pub fn of(product: &Product) -> Vec<StockRow> {
        product
            .variants
            .iter()
            .map(|v| StockRow {
                product_id: product.id,
                variant_id: v.id,
                sku: v.sku.clone(),
                title: product.title().to_string(),
                status: product.status,
                price: v.price,
                inventory_policy: v.inventory_policy,
                on_hand: v.on_hand,
                reserved: v.reserved,
                available: v.available(),
                low_stock_threshold: v.low_stock_threshold,
                low: v.is_low(),
            })
            .collect()
    }
}

/// One row of an order list or search: no line items, just what a list shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderSummary {
    pub id: OrderId,
    pub status: OrderStatus,
    pub customer: Option<String>,
    pub total: Money,
    /// What the gateway took ([`Order::captured`]: the total once paid, 0 before).
    pub captured: Money,
    /// Given back so far (partial refunds and a cancel's refund).
    pub refunded: Money,
    /// Number of lines.
    pub lines: u64,
    /// Units over all lines.
    pub units: i64,
    pub version: i64,
    pub placed_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl OrderSummary {
    pub fn of(order: &Order) -> OrderSummary {
        OrderSummary {
            id: order.id,
            status: order.status,
            customer: order.customer.clone(),
            total: order.total,
            captured: order.captured(),
            refunded: order.refunded,
            lines: order.items.len() as u64,
            units: order
                .items
                .iter()
                .fold(0i64, |n, i| n.saturating_add(i.quantity)),
            version: order.version,
            placed_at: order.placed_at,
            updated_at: order.updated_at,
        }
    }

    /// What is left to refund: captured less refunded ([`Order::refundable`]).
    pub fn refundable(&self) -> Money {
        Money::new(
            self.captured
                .amount
                .saturating_sub(self.refunded.amount)
                .max(0),
            self.total.currency,
        )
    }

    /// What cancelling this order now gives back ([`Order::cancel_refund`]): what is left of
    /// the captured amount for a paid, held or shipped order, nothing for an unpaid one.
    pub fn cancel_refund(&self) -> Money {
        crate::commerce::cancel_refund(self.status, self.refundable())
    }
}

/// The longest text an order list can be filtered by (the board's `/`: customer, SKU or id).
pub const MAX_ORDER_FILTER_CHARS: usize = 100;

/// What the dashboard shows about orders.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OrderStats {
    /// How many orders are in each status (every status listed, zeros included).
    pub by_status: Vec<(OrderStatus, u64)>,
    /// Orders placed since the start of the day (UTC).
    pub today_orders: u64,
    /// Revenue today per currency: captured since the start of the day less refunded since
    /// then ([`OrderStats::today_captured`] − [`OrderStats::today_refunded`]). Unpaid orders
    /// count for nothing here (they are [`OrderStats::today_unpaid`]).
    pub today_revenue: Vec<Money>,
    /// Charged since the start of the day (payments captured today), per currency.
    #[serde(default)]
    pub today_captured: Vec<Money>,
    /// Given back since the start of the day (partial refunds and cancels' refunds), per
    /// currency.
    #[serde(default)]
    pub today_refunded: Vec<Money>,
    /// Orders placed today and not paid yet (pending or confirmed): how many, and their total
    /// per currency.
    #[serde(default)]
    pub today_unpaid_orders: u64,
    #[serde(default)]
    pub today_unpaid: Vec<Money>,
}

/// Adds `m` to the per-currency sums `sums` (saturating).
pub fn add_money(sums: &mut Vec<Money>, m: Money) {
    match sums.iter_mut().find(|s| s.currency == m.currency) {
        Some(s) => s.amount = s.amount.saturating_add(m.amount),
        None => sums.push(m),
    }
}

/// One refund of an order (`order show`'s `refunds[]`): a partial refund or a cancel's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    /// The id of its `payment.refunded` event.
    pub id: crate::EventId,
    pub order_id: OrderId,
    pub amount: Money,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

/// A customer of a tenant, as its orders tell (`customer list`): orders placed under one
/// email address (case ignored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    /// The address as their latest order spelled it.
    pub email: String,
    /// Orders placed, whatever their status.
    pub orders: u64,
    /// What they paid, net of refunds, per currency (captured − refunded over their orders).
    pub lifetime_value: Vec<Money>,
    pub last_order_at: DateTime<Utc>,
}

/// A customer with their orders, newest first (`customer show`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerDetail {
    #[serde(flatten)]
    pub customer: Customer,
    pub order_list: Page<OrderSummary>,
}

impl OrderStats {
    /// `captured` minus `refunded`, per currency (in the order the currencies first appear).
    pub fn net(captured: &[Money], refunded: &[Money]) -> Vec<Money> {
        let mut out: Vec<Money> = captured.to_vec();
        for r in refunded {
            match out.iter_mut().find(|m| m.currency == r.currency) {
                Some(m) => m.amount = m.amount.saturating_sub(r.amount),
                None => out.push(Money::new(r.amount.saturating_neg(), r.currency)),
            }
        }
        out
    }
}

/// One console session of a running SSH server (`rustok ssh sessions`, the console's Sessions
/// view). Ids are per server; `(server, id, since)` names one session for good.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SshSession {
    pub id: u64,
    pub handle: String,
    pub role: String,
    /// The client's address.
    pub source: String,
    pub since: DateTime<Utc>,
    pub idle_secs: u64,
    pub cols: u16,
    pub rows: u16,
    /// The server's listening address.
    pub server: String,
}

/// The live SSH sessions as one place sees them: a session of a server sees its own server;
/// a local console sees every server running from its data directory.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SshSessions {
    /// Where they were asked: `this server (ADDR)`, or the data directory.
    pub origin: String,
    /// The servers that answered (empty: no SSH server is running there).
    pub servers: Vec<String>,
    pub sessions: Vec<SshSession>,
    /// The asking console's own session (`(server, id)`), when it runs over SSH.
    pub yours: Option<(String, u64)>,
}
