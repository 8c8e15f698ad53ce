//! Rows ↔ domain types: what the store reads (entity models, raw rows' text columns) turned
//! into the domain's values — checked, a bad value reported as corrupt data, never a panic —
//! and the domain's orders as the rows written. Below every module that reads or writes; uses
//! only the entities.

use crate::StoreError;
use crate::entity::{
    node, node_translation, order, order_item, outbox, product, product_translation, staff,
    staff_key, tenant, variant,
};
use crate::error::corrupt;
use rustok_domain::commerce::{
    InventoryPolicy, LineItem, Order, OrderStatus, Product, ProductStatus, ProductTranslation,
    Variant,
};
use rustok_domain::content::{BodyFormat, Node, NodeKind, NodeStatus, Translation};
use rustok_domain::event::EventEnvelope;
use rustok_domain::rbac::Role;
use rustok_domain::read::StoredEvent;
use rustok_domain::staff::{SshKey, Staff};
use rustok_domain::{
    Currency, EventId, Money, NodeId, OrderId, ProductId, StaffId, Tenant, TenantId, VariantId,
};
use sea_orm::ActiveValue::Set;

pub(crate) fn parse<T: std::str::FromStr>(what: &str, s: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    s.parse().map_err(|e| corrupt(what, e))
}

pub(crate) fn tenant_from_row(m: tenant::Model) -> Result<Tenant, StoreError> {
    Ok(Tenant {
        id: TenantId::from_uuid(m.id),
        slug: m.slug,
        name: m.name,
        default_locale: parse("tenant locale", &m.default_locale)?,
        is_active: m.is_active,
        created_at: m.created_at,
    })
}

pub(crate) fn translation_from_row(m: node_translation::Model) -> Result<Translation, StoreError> {
    Ok(Translation {
        locale: parse("translation locale", &m.locale)?,
        title: m.title,
        slug: m.slug,
        excerpt: m.excerpt,
        body: m.body,
        format: parse::<BodyFormat>("body format", &m.format)?,
        updated_at: m.updated_at,
    })
}

pub(crate) fn node_from_rows(
    m: node::Model,
    translations: Vec<node_translation::Model>,
) -> Result<Node, StoreError> {
    let mut translations = translations
        .into_iter()
        .map(translation_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    translations.sort_by(|a, b| a.locale.cmp(&b.locale));
    if translations.is_empty() {
        return Err(StoreError::Corrupt(format!(
            "node {} has no translation",
            m.id
        )));
    }
    Ok(Node {
        id: NodeId::from_uuid(m.id),
        tenant_id: TenantId::from_uuid(m.tenant_id),
        kind: parse::<NodeKind>("node kind", &m.kind)?,
        status: parse::<NodeStatus>("node status", &m.status)?,
        version: m.version,
        source_locale: parse("source locale", &m.source_locale)?,
        author: m.author,
        created_at: m.created_at,
        updated_at: m.updated_at,
        published_at: m.published_at,
        archived_at: m.archived_at,
        translations,
    })
}

/// A row count or offset as SQL takes it: both backends bind `LIMIT` and `OFFSET` as a
/// signed 64-bit integer, and sea-query's binder panics on a `u64` above `i64::MAX`. Every
/// window a caller asks for goes through this, so no value can panic a list (a window that
/// large is as good as "all of them").
pub(crate) fn sql_window(n: u64) -> u64 {
    n.min(i64::MAX as u64)
}

pub(crate) fn staff_from_rows(
    m: staff::Model,
    keys: Vec<staff_key::Model>,
) -> Result<Staff, StoreError> {
    let mut keys = keys;
    keys.sort_by_key(|k| k.position);
    Ok(Staff {
        id: StaffId::from_uuid(m.id),
        role: m
            .role
            .parse::<Role>()
            .map_err(|e| corrupt("staff role", e))?,
        ssh_keys: keys
            .into_iter()
            .map(|k| SshKey {
                algorithm: k.algorithm,
                key: k.key,
                comment: k.comment,
                fingerprint: k.fingerprint,
                bits: k.bits.map(|b| b.max(0) as u32),
            })
            .collect(),
        has_password: m.password_hash.is_some(),
        password_hash: m.password_hash,
        handle: m.handle,
        display_name: m.display_name,
        mfa_enabled: m.mfa_enabled,
        active: m.active,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

pub(crate) fn money(amount: i64, currency: &str) -> Result<Money, StoreError> {
    Ok(Money::new(amount, parse::<Currency>("currency", currency)?))
}

pub(crate) fn variant_from_row(m: variant::Model) -> Result<Variant, StoreError> {
    Ok(Variant {
        id: VariantId::from_uuid(m.id),
        product_id: ProductId::from_uuid(m.product_id),
        price: money(m.price_amount, &m.currency)?,
        inventory_policy: parse::<InventoryPolicy>("inventory policy", &m.inventory_policy)?,
        sku: m.sku,
        title: m.title,
        on_hand: m.on_hand,
        reserved: m.reserved,
        low_stock_threshold: m.low_stock_threshold,
    })
}

pub(crate) fn product_from_rows(
    m: product::Model,
    translations: Vec<product_translation::Model>,
    mut variants: Vec<variant::Model>,
) -> Result<Product, StoreError> {
    let mut translations = translations
        .into_iter()
        .map(|t| {
            Ok(ProductTranslation {
                locale: parse("product locale", &t.locale)?,
                title: t.title,
                handle: t.handle,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    translations.sort_by(|a, b| a.locale.cmp(&b.locale));
    if translations.is_empty() {
        return Err(StoreError::Corrupt(format!(
            "product {} has no translation",
            m.id
        )));
    }
    variants.sort_by_key(|v| v.position);
    Ok(Product {
        id: ProductId::from_uuid(m.id),
        tenant_id: TenantId::from_uuid(m.tenant_id),
        status: parse::<ProductStatus>("product status", &m.status)?,
        version: m.version,
        source_locale: parse("source locale", &m.source_locale)?,
        translations,
        variants: variants
            .into_iter()
            .map(variant_from_row)
            .collect::<Result<_, _>>()?,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

pub(crate) fn order_from_rows(
    m: order::Model,
    mut items: Vec<order_item::Model>,
) -> Result<Order, StoreError> {
    items.sort_by_key(|i| i.position);
    let items = items
        .into_iter()
        .map(|i| {
            Ok(LineItem {
                unit_price: money(i.unit_amount, &i.currency)?,
                sku: i.sku,
                title: i.title,
                quantity: i.quantity,
                returned: i.returned_quantity,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    if items.is_empty() {
        return Err(StoreError::Corrupt(format!("order {} has no items", m.id)));
    }
    Ok(Order {
        id: OrderId::from_uuid(m.id),
        tenant_id: TenantId::from_uuid(m.tenant_id),
        customer: m.customer,
        items,
        total: money(m.total_amount, &m.currency)?,
        status: parse::<OrderStatus>("order status", &m.status)?,
        version: m.version,
        placed_at: m.placed_at,
        updated_at: m.updated_at,
        confirmed_at: m.confirmed_at,
        paid_at: m.paid_at,
        shipped_at: m.shipped_at,
        delivered_at: m.delivered_at,
        cancelled_at: m.cancelled_at,
        carrier: m.carrier,
        tracking_number: m.tracking_number,
        cancel_reason: m.cancel_reason,
        payment_reference: m.payment_reference,
        refunded: money(m.refunded_amount, &m.currency)?,
    })
}

pub(crate) fn item_row(o: &Order, position: usize, i: &LineItem) -> order_item::ActiveModel {
    order_item::ActiveModel {
        order_id: Set(o.id.as_uuid()),
        position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
        tenant_id: Set(o.tenant_id.as_uuid()),
        sku: Set(i.sku.clone()),
        title: Set(i.title.clone()),
        unit_amount: Set(i.unit_price.amount),
        currency: Set(i.unit_price.currency.code().to_string()),
        quantity: Set(i.quantity),
        returned_quantity: Set(i.returned),
    }
}

pub(crate) fn order_row(o: &Order) -> order::ActiveModel {
    order::ActiveModel {
        id: Set(o.id.as_uuid()),
        tenant_id: Set(o.tenant_id.as_uuid()),
        customer: Set(o.customer.clone()),
        status: Set(o.status.as_str().to_string()),
        total_amount: Set(o.total.amount),
        currency: Set(o.total.currency.code().to_string()),
        version: Set(o.version),
        placed_at: Set(o.placed_at),
        updated_at: Set(o.updated_at),
        confirmed_at: Set(o.confirmed_at),
        paid_at: Set(o.paid_at),
        shipped_at: Set(o.shipped_at),
        delivered_at: Set(o.delivered_at),
        cancelled_at: Set(o.cancelled_at),
        carrier: Set(o.carrier.clone()),
        tracking_number: Set(o.tracking_number.clone()),
        cancel_reason: Set(o.cancel_reason.clone()),
        payment_reference: Set(o.payment_reference.clone()),
        refunded_amount: Set(o.refunded.amount),
    }
}

pub(crate) fn stored_event_from_row(m: outbox::Model) -> Result<StoredEvent, StoreError> {
    let payload = serde_json::from_str(&m.payload).map_err(|e| corrupt("event payload", e))?;
    Ok(StoredEvent {
        seq: m.seq,
        envelope: EventEnvelope {
            id: EventId::from_uuid(m.id),
            event_type: m.event_type,
            schema_version: u16::try_from(m.schema_version)
                .map_err(|e| corrupt("schema version", e))?,
            tenant_id: TenantId::from_uuid(m.tenant_id),
            aggregate_type: m.aggregate_type,
            aggregate_id: m.aggregate_id,
            correlation_id: m.correlation_id,
            causation_id: m.causation_id,
            actor: m.actor,
            occurred_at: m.occurred_at,
            payload,
        },
        status: m.status,
        attempts: m.attempts,
        last_error: m.last_error,
        dispatched_at: m.dispatched_at,
    })
}
