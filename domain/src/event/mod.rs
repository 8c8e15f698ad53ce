//! Domain events: the `DomainEvent` enum with dotted type names, their payloads, the
//! registry of type → schema version, the envelope and its validation, and de-duplication.

mod dedup;
mod envelope;
pub mod query;

pub use dedup::Deduplicator;
pub use envelope::{EnvelopeMeta, EventEnvelope, LiveEvent};
pub use query::{EventQuery, QueryError};

use crate::commerce::{InventoryPolicy, LineItem, OrderStatus, ProductStatus};
use crate::content::NodeKind;
use crate::{DomainError, Locale, Money, VariantId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What the registry knows about one event type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EventTypeInfo {
    pub event_type: &'static str,
    pub aggregate_type: &'static str,
    pub schema_version: u16,
}

macro_rules! events {
    ($( $(#[$doc:meta])* $variant:ident($payload:ty) => $name:literal, $agg:literal, v = $ver:literal; )+) => {
        /// Every event the platform emits. Serialized adjacently tagged:
        /// `{"event_type": "node.created", "payload": {...}}`.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "event_type", content = "payload")]
        pub enum DomainEvent {
            $( $(#[$doc])* #[serde(rename = $name)] $variant($payload), )+
        }

        /// The registry: every event type with its aggregate type and current schema version.
        pub const REGISTRY: &[EventTypeInfo] = &[
            $( EventTypeInfo { event_type: $name, aggregate_type: $agg, schema_version: $ver }, )+
        ];

        impl DomainEvent {
            /// The dotted type name, e.g. `node.published`.
            pub fn event_type(&self) -> &'static str {
                match self { $( Self::$variant(_) => $name, )+ }
            }
            pub fn aggregate_type(&self) -> &'static str {
                match self { $( Self::$variant(_) => $agg, )+ }
            }
            pub fn schema_version(&self) -> u16 {
                match self { $( Self::$variant(_) => $ver, )+ }
            }
        }
    };
}

events! {
    TenantCreated(TenantCreated) => "tenant.created", "tenant", v = 1;
    NodeCreated(NodeCreated) => "node.created", "node", v = 1;
    NodeUpdated(NodeUpdated) => "node.updated", "node", v = 1;
    NodeTranslationUpdated(NodeTranslationUpdated) => "node.translation_updated", "node", v = 1;
    NodePublished(NodePublished) => "node.published", "node", v = 1;
    NodeUnpublished(NodeVersion) => "node.unpublished", "node", v = 1;
    NodeArchived(NodeArchived) => "node.archived", "node", v = 1;
    NodeRestored(NodeVersion) => "node.restored", "node", v = 1;
    ProductCreated(ProductCreated) => "product.created", "product", v = 1;
    /// Stock of one variant changed; aggregate id = the variant's product id.
    InventoryUpdated(InventoryUpdated) => "inventory.updated", "product", v = 1;
    /// Available stock of one variant crossed its low-stock threshold.
    InventoryLow(InventoryLow) => "inventory.low", "product", v = 1;
    OrderPlaced(OrderPlaced) => "order.placed", "order", v = 1;
    OrderStatusChanged(OrderStatusChanged) => "order.status_changed", "order", v = 1;
    OrderCancelled(OrderCancelled) => "order.cancelled", "order", v = 1;
    PaymentSucceeded(PaymentSucceeded) => "payment.succeeded", "order", v = 1;
    PaymentFailed(PaymentFailed) => "payment.failed", "order", v = 1;
    PaymentRefunded(PaymentRefunded) => "payment.refunded", "order", v = 1;
    StaffAdded(crate::staff::StaffAdded) => "staff.added", "staff", v = 1;
    StaffRoleChanged(crate::staff::StaffRoleChanged) => "staff.role_changed", "staff", v = 1;
    StaffMfaChanged(crate::staff::StaffMfaChanged) => "staff.mfa_changed", "staff", v = 1;
    StaffPasswordChanged(crate::staff::StaffPasswordChanged) => "staff.password_changed", "staff", v = 1;
    StaffActiveChanged(crate::staff::StaffActiveChanged) => "staff.active_changed", "staff", v = 1;
    /// A staff member's note on an order (the order itself is unchanged: no version).
    OrderNoteAdded(OrderNoteAdded) => "order.note_added", "order", v = 1;
    /// A publication or unpublication was scheduled (issue 20).
    NodeScheduled(NodeScheduled) => "node.scheduled", "node", v = 1;
    /// A node's pending schedules were cancelled.
    NodeUnscheduled(NodeUnscheduled) => "node.unscheduled", "node", v = 1;
    /// A due schedule was not executed: the staff member's role no longer allows it, they
    /// are inactive, or the node's status no longer admits it.
    NodeScheduleRefused(NodeScheduleRefused) => "node.schedule_refused", "node", v = 1;
    /// Goods came back from a shipped or delivered order (a return, or a refund that
    /// restocked).
    OrderReturned(OrderReturned) => "order.returned", "order", v = 1;
}

/// Looks up a registered event type.
pub fn registered(event_type: &str) -> Option<&'static EventTypeInfo> {
    REGISTRY.iter().find(|i| i.event_type == event_type)
}

impl DomainEvent {
    /// The payload alone, as JSON.
    pub fn payload(&self) -> serde_json::Value {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(mut m)) => {
                m.remove("payload").unwrap_or(serde_json::Value::Null)
            }
            _ => serde_json::Value::Null,
        }
    }

    /// Rebuilds an event from its type name and payload, checking the payload's shape.
    pub fn from_parts(event_type: &str, payload: &serde_json::Value) -> Result<Self, DomainError> {
        if registered(event_type).is_none() {
            return Err(DomainError::InvalidEvent(format!(
                "event type '{}' is not registered",
                crate::text::excerpt(event_type, crate::text::EXCERPT_CHARS)
            )));
        }
        // Every payload is a struct: only a JSON object is the right shape (serde would
        // also accept an array of the fields in order).
        if !payload.is_object() {
            return Err(DomainError::InvalidEvent(format!(
                "payload of {event_type} must be a JSON object"
            )));
        }
        let tagged = serde_json::json!({ "event_type": event_type, "payload": payload });
        serde_json::from_value(tagged).map_err(|e| {
            DomainError::InvalidEvent(format!(
                "payload of {event_type} does not match its schema: {}",
                crate::text::excerpt(&e.to_string(), 200)
            ))
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantCreated {
    pub slug: String,
    pub name: String,
    pub default_locale: Locale,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeCreated {
    pub kind: NodeKind,
    pub locale: Locale,
    pub title: String,
    pub slug: String,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeUpdated {
    pub locale: Locale,
    /// Names of the fields that changed (title, slug, excerpt, body, format).
    pub changed: Vec<String>,
    pub title: String,
    pub slug: String,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeTranslationUpdated {
    pub locale: Locale,
    pub title: String,
    pub slug: String,
    /// True when this locale was added, false when it was replaced.
    pub created: bool,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodePublished {
    pub published_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeArchived {
    pub archived_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeScheduled {
    pub action: crate::content::ScheduledAction,
    pub at: DateTime<Utc>,
    pub by: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeUnscheduled {
    pub actions: Vec<crate::content::ScheduledAction>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeScheduleRefused {
    pub action: crate::content::ScheduledAction,
    pub due_at: DateTime<Utc>,
    pub by: String,
    pub reason: String,
}

/// Payload of events that carry nothing but the node's new version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeVersion {
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductCreated {
    pub locale: Locale,
    pub title: String,
    pub handle: String,
    pub status: ProductStatus,
    pub variants: Vec<ProductVariantCreated>,
    pub version: i64,
}

/// One variant as it was created (inside `product.created`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductVariantCreated {
    pub variant_id: VariantId,
    pub sku: String,
    pub title: String,
    pub price: Money,
    pub inventory_policy: InventoryPolicy,
    pub on_hand: i64,
    pub low_stock_threshold: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InventoryUpdated {
    pub sku: String,
    pub on_hand: i64,
    pub reserved: i64,
    /// `on_hand - reserved` after the change.
    pub available: i64,
    /// The change of `on_hand` (0 for reserve and release).
    pub delta: i64,
    /// `reserve`, `release`, `sell`, `restock`, or the reason given to a manual adjustment.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InventoryLow {
    pub sku: String,
    pub available: i64,
    pub threshold: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderPlaced {
    pub customer: Option<String>,
    pub items: Vec<LineItem>,
    pub total: Money,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderStatusChanged {
    pub from: OrderStatus,
    pub to: OrderStatus,
    pub version: i64,
    /// Why, when the step takes a reason and the user gave one (a cancel's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderCancelled {
    pub from: OrderStatus,
    pub reason: Option<String>,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentSucceeded {
    pub amount: Money,
    /// The gateway's charge reference.
    pub reference: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentFailed {
    /// Machine-readable, e.g. `card_declined`, `insufficient_funds`, `invalid_card_token`.
    pub code: String,
    /// Human-readable, e.g. "card declined".
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentRefunded {
    pub amount: Money,
    /// The reference of the charge that was refunded.
    pub reference: String,
    /// Why: a partial refund's reason, or the cancel's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderReturned {
    /// The units that came back, per SKU.
    pub items: Vec<crate::commerce::SkuQty>,
    pub reason: Option<String>,
    /// Whether they went on hand again.
    pub restocked: bool,
    pub version: i64,
}

/// A note on an order (`commerce/note.rs`), with the handles it mentions: every console of a
/// mentioned member that sees the event tells them at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderNoteAdded {
    pub note_id: crate::NoteId,
    pub author: String,
    pub text: String,
    pub mentions: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_roundtrip() {
        let e = DomainEvent::NodePublished(NodePublished {
            published_at: Utc::now(),
            version: 2,
        });
        assert_eq!(e.event_type(), "node.published");
        assert_eq!(e.aggregate_type(), "node");
        let back = DomainEvent::from_parts(e.event_type(), &e.payload()).unwrap();
        assert_eq!(back, e);
        assert!(DomainEvent::from_parts("node.exploded", &e.payload()).is_err());
        assert!(DomainEvent::from_parts("node.published", &serde_json::json!({"x": 1})).is_err());
        let mut names: Vec<_> = REGISTRY.iter().map(|i| i.event_type).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), REGISTRY.len(), "event type names are unique");
    }
}
