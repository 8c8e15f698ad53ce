//! Fixtures for every domain entity, with deterministic ids where a test wants to name them.

use rustok_domain::content::{BodyFormat, NodeDraft, NodeKind, TranslationInput};
use rustok_domain::event::{DomainEvent, EnvelopeMeta, EventEnvelope, NodeCreated};
use rustok_domain::{Command, EventId, Locale, NodeId, TenantId};
use uuid::Uuid;

/// Deterministic ids: the same `n` always gives the same id (a valid, non-nil UUID).
pub fn uuid(n: u64) -> Uuid {
    Uuid::from_u64_pair(0x0190_0000_0000_7000, 0x8000_0000_0000_0000 | n)
}
pub fn tenant_id(n: u64) -> TenantId {
    TenantId::from_uuid(uuid(0x1000 + n))
}
pub fn node_id(n: u64) -> NodeId {
    NodeId::from_uuid(uuid(0x2000 + n))
}
pub fn event_id(n: u64) -> EventId {
    EventId::from_uuid(uuid(0x3000 + n))
}

pub fn locale(s: &str) -> Locale {
    s.parse().expect("valid locale")
}

pub fn create_tenant(slug: &str) -> Command {
    Command::CreateTenant {
        id: TenantId::new_v7(),
        slug: slug.into(),
        name: format!("Tenant {slug}"),
        default_locale: locale("en"),
    }
}

/// A draft article in English with a Markdown body.
pub fn draft(title: &str) -> NodeDraft {
    NodeDraft {
        id: NodeId::new_v7(),
        kind: NodeKind::Article,
        locale: locale("en"),
        title: title.into(),
        slug: None,
        excerpt: None,
        body: format!("# {title}\n\nBody of {title}."),
        format: BodyFormat::Markdown,
    }
}

pub fn draft_with(kind: NodeKind, title: &str, body: &str, format: BodyFormat) -> NodeDraft {
    NodeDraft {
        kind,
        body: body.into(),
        format,
        ..draft(title)
    }
}

pub fn translation(loc: &str, title: &str) -> TranslationInput {
    TranslationInput {
        locale: locale(loc),
        title: title.into(),
        slug: None,
        excerpt: None,
        body: Some(format!("{title} ({loc})")),
        format: None,
    }
}

/// A valid `node.created` envelope, for validation tests.
pub fn node_created_envelope() -> EventEnvelope {
    let event = DomainEvent::NodeCreated(NodeCreated {
        kind: NodeKind::Post,
        locale: locale("en"),
        title: "T".into(),
        slug: "t".into(),
        version: 1,
    });
    EventEnvelope::new(
        &event,
        EnvelopeMeta {
            id: event_id(1),
            tenant_id: tenant_id(1),
            aggregate_id: node_id(1).as_uuid(),
            actor: "tester".into(),
            occurred_at: chrono::Utc::now(),
            correlation_id: None,
            causation_id: None,
        },
    )
}

/// A product with one variant: `sku` at `price` (exact decimal) in USD, `stock` on hand,
/// policy deny, the default low-stock threshold.
pub fn product(sku: &str, price: &str, stock: i64) -> rustok_domain::ProductDraft {
    use rustok_domain::{Currency, InventoryPolicy, Money, ProductDraft, ProductId, VariantId};
    ProductDraft {
        id: ProductId::new_v7(),
        variant_id: VariantId::new_v7(),
        locale: locale("en"),
        title: format!("Product {sku}"),
        handle: None,
        status: None,
        sku: sku.into(),
        variant_title: None,
        price: Money::parse(price, Currency::USD).expect("valid price"),
        inventory_policy: InventoryPolicy::Deny,
        stock,
        low_stock_threshold: None,
    }
}

/// An order draft from `(sku, qty)` pairs.
pub fn order(items: &[(&str, i64)], customer: Option<&str>) -> rustok_domain::OrderDraft {
    rustok_domain::OrderDraft {
        id: rustok_domain::OrderId::new_v7(),
        customer: customer.map(Into::into),
        items: items.iter().map(|(s, q)| (s.to_string(), *q)).collect(),
    }
}
