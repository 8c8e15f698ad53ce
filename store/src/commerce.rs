//! Commerce in the store: products, variants and their stock, orders. Each command runs inside
//! the transaction `Store::execute` opened (see `uow.rs`): load what the command needs
//! (tenant-filtered), let the domain decide, apply the decided stock moves to the variants,
//! write order and variants guarded against concurrent writers, append the events — or, on any
//! refusal, write nothing.
//!
//! **Race safety.** Two commands that touch the same stock must not both succeed on stale
//! numbers. On SQLite the transaction holds the write lock from its first statement
//! (`BEGIN IMMEDIATE`), so commands run one after another. On PostgreSQL (READ COMMITTED) the
//! order and the variants a command moves stock on are read `FOR UPDATE`: a second confirmation
//! of the last unit waits for the first to commit, then reads the new numbers and is refused
//! by the domain ("only 0 of MUG available"). As a backstop every stock write is a guarded
//! `UPDATE … WHERE on_hand = <read> AND reserved = <read>`; if it matches no row the command
//! fails with a conflict and nothing is written. Orders are written `WHERE version = <read>`.

use crate::authz::{active_tenant, authorize_on};
use crate::entity::{
    order, order_item, outbox as outbox_row, product, product_translation, variant,
};
use crate::error::{corrupt, map_unique};
use crate::outbox::{applied, wrap};
use crate::rows::{
    item_row, order_from_rows, order_row, parse, product_from_rows, sql_window,
    stored_event_from_row, variant_from_row,
};
use crate::writes::{Tx, Writes, build};
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use rustok_domain::command::decide_order;
use rustok_domain::commerce::{Order, OrderDraft, OrderStatus, Product, Variant, apply_moves};
use rustok_domain::event::DomainEvent;
use rustok_domain::read::{Applied, OrderSummary, Outcome, Page, StockRow, add_money};
use rustok_domain::{
    CommandEnvelope, Currency, DomainError, Money, OrderId, ProductDraft, ProductId, TenantId,
};
use sea_orm::sea_query::{Expr, ExprTrait, Func, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, sea_query::LockType,
};
use std::collections::BTreeSet;
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// Loading (always tenant-filtered; `lock` reads FOR UPDATE on PostgreSQL, a no-op on SQLite
// whose transaction already holds the write lock)

/// The products of these rows, each with its translations and all its variants.
async fn products_of(
    c: &impl ConnectionTrait,
    tenant_id: TenantId,
    rows: Vec<product::Model>,
) -> Result<Vec<Product>, StoreError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut translations = product_translation::Entity::find()
        .filter(product_translation::Column::TenantId.eq(tenant_id.as_uuid()))
        .filter(product_translation::Column::ProductId.is_in(ids.clone()))
        .all(c)
        .await?;
    let mut variants = variant::Entity::find()
        .filter(variant::Column::TenantId.eq(tenant_id.as_uuid()))
        .filter(variant::Column::ProductId.is_in(ids))
        .all(c)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let (mine_t, rest_t): (Vec<_>, Vec<_>) =
            translations.into_iter().partition(|t| t.product_id == r.id);
        translations = rest_t;
        let (mine_v, rest_v): (Vec<_>, Vec<_>) =
            variants.into_iter().partition(|v| v.product_id == r.id);
        variants = rest_v;
        out.push(product_from_rows(r, mine_t, mine_v)?);
    }
    Ok(out)
}

pub(crate) async fn load_product(
    c: &impl ConnectionTrait,
    tenant_id: TenantId,
    id: ProductId,
) -> Result<Option<Product>, StoreError> {
    let rows = product::Entity::find_by_id(id.as_uuid())
        .filter(product::Column::TenantId.eq(tenant_id.as_uuid()))
        .all(c)
        .await?;
    Ok(products_of(c, tenant_id, rows).await?.pop())
}

/// The tenant's products holding any of `skus` (the catalog an order is placed against).
pub(crate) async fn products_with_skus(
    c: &impl ConnectionTrait,
    tenant_id: TenantId,
    skus: &[String],
) -> Result<Vec<Product>, StoreError> {
    if skus.is_empty() {
        return Ok(Vec::new());
    }
    let rows = product::Entity::find()
        .filter(product::Column::TenantId.eq(tenant_id.as_uuid()))
        .filter(
            product::Column::Id.in_subquery(
                Query::select()
                    .column(variant::Column::ProductId)
                    .from(variant::Entity)
                    .and_where(variant::Column::TenantId.eq(tenant_id.as_uuid()))
                    .and_where(variant::Column::Sku.is_in(skus.to_vec()))
                    .to_owned(),
            ),
        )
        .order_by_asc(product::Column::Id)
        .all(c)
        .await?;
    products_of(c, tenant_id, rows).await
}

/// The tenant's variants with these SKUs, in id order (so concurrent commands lock rows in
/// the same order).
async fn variants_with_skus(
    c: &impl ConnectionTrait,
    tenant_id: TenantId,
    skus: &BTreeSet<&str>,
    lock: bool,
) -> Result<Vec<Variant>, StoreError> {
    if skus.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = variant::Entity::find()
        .filter(variant::Column::TenantId.eq(tenant_id.as_uuid()))
        .filter(variant::Column::Sku.is_in(skus.iter().map(|s| s.to_string())))
        .order_by_asc(variant::Column::Id);
    if lock {
        q = q.lock_exclusive();
    }
    q.all(c).await?.into_iter().map(variant_from_row).collect()
}

pub(crate) async fn load_order(
    c: &impl ConnectionTrait,
    tenant_id: TenantId,
    id: OrderId,
    lock: bool,
) -> Result<Option<Order>, StoreError> {
    // The order and its lines in one query (one round trip to the database).
    let mut q = order::Entity::find_by_id(id.as_uuid())
        .filter(order::Column::TenantId.eq(tenant_id.as_uuid()))
        .find_with_related(order_item::Entity)
        .filter(
            Condition::any()
                .add(order_item::Column::TenantId.is_null())
                .add(order_item::Column::TenantId.eq(tenant_id.as_uuid())),
        )
        .order_by_asc(order_item::Column::Position);
    if lock {
        // Only the order's row: PostgreSQL refuses to lock the nullable side of an outer
        // join, and the lines never change once the order is placed.
        QuerySelect::query(&mut q).lock_with_tables(LockType::Update, [order::Entity]);
    }
    let Some((row, items)) = q.all(c).await?.pop() else {
        return Ok(None);
    };
    order_from_rows(row, items).map(Some)
}

fn sku_not_found(sku: &str) -> DomainError {
    DomainError::not_found(
        "product",
        format!("with sku {}", rustok_domain::text::printable(sku)),
    )
}

// ---------------------------------------------------------------------------------------------
// Executing: one handler per command (the order transitions are one family, all decided by
// `decide_order`), each on an active tenant, authorized before anything is read

/// `CreateProduct`: a product with its first variant; its SKUs must be free and its handle is
/// made unique.
pub(crate) async fn create_product(
    w: &mut Writes<'_>,
    env: &CommandEnvelope,
    draft: &ProductDraft,
    now: DateTime<Utc>,
) -> Result<Applied, StoreError> {
    let tenant_id = active_tenant(w.txn(), env, now).await?.id;
    let (product, events) = insert_product(w, tenant_id, draft, now).await?;
    let envelopes = wrap(env, tenant_id, product.id.as_uuid(), &events, now)?;
    applied(w, env, Outcome::Product(product), envelopes).await
}

/// `AdjustInventory`: a manual correction of one variant's units on hand.
pub(crate) async fn adjust_inventory(
    w: &mut Writes<'_>,
    env: &CommandEnvelope,
    sku: &str,
    by: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Applied, StoreError> {
    let txn = w.txn();
    let tenant_id = active_tenant(txn, env, now).await?.id;
    let skus = BTreeSet::from([sku]);
    let before = variants_with_skus(txn, tenant_id, &skus, true)
        .await?
        .pop()
        .ok_or_else(|| sku_not_found(sku))?;
    let (after, events) = before.adjust(by, reason)?;
    write_stock(w, tenant_id, &before, &after).await?;
    let envelopes = wrap(env, tenant_id, after.product_id.as_uuid(), &events, now)?;
    // (Reads the stock just written: the held-back writes go first.)
    let product = load_product(w.txn(), tenant_id, after.product_id)
        .await?
        .ok_or_else(|| corrupt("variant", format!("{} has no product", after.id)))?;
    applied(w, env, Outcome::Product(product), envelopes).await
}

/// `CreateOrder`: an order placed against the catalog (its SKUs' products).
pub(crate) async fn create_order(
    w: &mut Writes<'_>,
    env: &CommandEnvelope,
    draft: &OrderDraft,
    now: DateTime<Utc>,
) -> Result<Applied, StoreError> {
    let txn = w.txn();
    let tenant_id = active_tenant(txn, env, now).await?.id;
    // No lookup of the id first: an order that exists already makes the insert below fail on
    // its primary key, reported as the same duplicate.
    let skus: Vec<String> = draft
        .items
        .iter()
        .map(|(s, _)| s.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let catalog = products_with_skus(txn, tenant_id, &skus).await?;
    let (order, events, _) = decide_order(tenant_id, None, &env.command, &catalog, now)?;
    insert_order(w, &order).await?;
    let envelopes = wrap(env, tenant_id, order.id.as_uuid(), &events, now)?;
    applied(w, env, Outcome::Order(order), envelopes).await
}

/// A step of an existing order (`commerce/steps.rs`: confirm, ship, deliver, cancel, hold, …)
/// or a recorded payment (the domain refuses `PayOrder`, which only the action queue runs, in
/// two steps): the order is read `FOR UPDATE`, the domain decides the order's next state and its stock moves, the
/// moved variants and the order are written guarded by what was read.
pub(crate) async fn order_transition(
    w: &mut Writes<'_>,
    env: &CommandEnvelope,
    now: DateTime<Utc>,
) -> Result<Applied, StoreError> {
    let txn = w.txn();
    let tenant_id = active_tenant(txn, env, now).await?.id;
    let command = &env.command;
    let id = command.order_id().ok_or_else(|| {
        DomainError::validation(
            "command",
            format!("{} is not a commerce command", command.name()),
        )
    })?;
    let current = load_order(txn, tenant_id, id, true).await?;
    let (next, events, moves) = decide_order(tenant_id, current.as_ref(), command, &[], now)?;
    let current = current.ok_or_else(|| DomainError::not_found("order", id))?;
    let skus: BTreeSet<&str> = moves.iter().map(|m| m.sku.as_str()).collect();
    let variants = variants_with_skus(txn, tenant_id, &skus, true).await?;
    let changes = apply_moves(&variants, &moves)?;
    // Write each moved variant's final state, guarded by the state it was read in.
    for before in &variants {
        if let Some(last) = changes.iter().rev().find(|c| c.variant.id == before.id) {
            write_stock(w, tenant_id, before, &last.variant).await?;
        }
    }
    if next != current {
        update_order(w, &current, &next).await?;
        update_returned(w, &current, &next).await?;
    }
    // The order's events first, then the stock events (on the product aggregates), all
    // sharing one correlation id.
    let mut envelopes = wrap(env, tenant_id, next.id.as_uuid(), &events, now)?;
    record_refunds(w, &next, &events, &envelopes).await?;
    let mut scoped = env.clone();
    scoped.correlation_id = env
        .correlation_id
        .or_else(|| envelopes.first().map(|e| e.correlation_id));
    for change in &changes {
        let product = change.variant.product_id.as_uuid();
        envelopes.extend(wrap(&scoped, tenant_id, product, &change.events, now)?);
    }
    applied(w, env, Outcome::Order(next), envelopes).await
}

async fn insert_product(
    w: &mut Writes<'_>,
    tenant_id: TenantId,
    draft: &ProductDraft,
    now: DateTime<Utc>,
) -> Result<(Product, Vec<DomainEvent>), StoreError> {
    let txn = w.txn();
    if product::Entity::find_by_id(draft.id.as_uuid())
        .one(txn)
        .await?
        .is_some()
    {
        return Err(DomainError::Duplicate {
            what: format!("product {}", draft.id),
        }
        .into());
    }
    let (mut product, mut events) = Product::create(tenant_id, draft.clone(), now)?;
    let sku_taken = |sku: &str| format!("sku '{}'", rustok_domain::text::printable(sku));
    for v in &product.variants {
        let taken = variant::Entity::find()
            .filter(variant::Column::TenantId.eq(tenant_id.as_uuid()))
            .filter(variant::Column::Sku.eq(v.sku.as_str()))
            .count(txn)
            .await?;
        if taken > 0 {
            return Err(DomainError::Duplicate {
                what: sku_taken(&v.sku),
            }
            .into());
        }
    }
    // A handle is unique per (tenant, locale). One the user chose must be free; one derived
    // from the title gets the first free `-2`, `-3`, ... suffix.
    let source = product
        .source()
        .cloned()
        .ok_or_else(|| corrupt("product", "decided without a translation"))?;
    let taken: BTreeSet<String> = product_translation::Entity::find()
        .select_only()
        .column(product_translation::Column::Handle)
        .filter(product_translation::Column::TenantId.eq(tenant_id.as_uuid()))
        .filter(product_translation::Column::Locale.eq(source.locale.as_str()))
        .filter(
            Condition::any()
                .add(product_translation::Column::Handle.eq(source.handle.as_str()))
                .add(product_translation::Column::Handle.like(format!("{}-%", source.handle))),
        )
        .into_tuple::<String>()
        .all(txn)
        .await?
        .into_iter()
        .collect();
    if taken.contains(&source.handle) {
        if draft.handle.is_some() {
            return Err(DomainError::Duplicate {
                what: format!("handle '{}' in locale {}", source.handle, source.locale),
            }
            .into());
        }
        let free = (2u32..)
            .map(|n| format!("{}-{n}", source.handle))
            .find(|h| !taken.contains(h))
            .ok_or_else(|| corrupt("product handles", "no free suffix"))?;
        let mut retry = draft.clone();
        retry.handle = Some(free);
        (product, events) = Product::create(tenant_id, retry, now)?;
    }
    product::Entity::insert(product::ActiveModel {
        id: Set(product.id.as_uuid()),
        tenant_id: Set(tenant_id.as_uuid()),
        status: Set(product.status.as_str().to_string()),
        version: Set(product.version),
        source_locale: Set(product.source_locale.to_string()),
        created_at: Set(product.created_at),
        updated_at: Set(product.updated_at),
    })
    .exec(txn)
    .await?;
    for t in &product.translations {
        product_translation::Entity::insert(product_translation::ActiveModel {
            product_id: Set(product.id.as_uuid()),
            locale: Set(t.locale.to_string()),
            tenant_id: Set(tenant_id.as_uuid()),
            title: Set(t.title.clone()),
            handle: Set(t.handle.clone()),
        })
        .exec(txn)
        .await
        .map_err(|e| {
            map_unique(e, || {
                format!("handle '{}' in locale {}", t.handle, t.locale)
            })
        })?;
    }
    for (position, v) in product.variants.iter().enumerate() {
        variant::Entity::insert(variant::ActiveModel {
            id: Set(v.id.as_uuid()),
            tenant_id: Set(tenant_id.as_uuid()),
            product_id: Set(product.id.as_uuid()),
            position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
            sku: Set(v.sku.clone()),
            title: Set(v.title.clone()),
            price_amount: Set(v.price.amount),
            currency: Set(v.price.currency.code().to_string()),
            inventory_policy: Set(v.inventory_policy.as_str().to_string()),
            on_hand: Set(v.on_hand),
            reserved: Set(v.reserved),
            low_stock_threshold: Set(v.low_stock_threshold),
        })
        .exec(txn)
        .await
        .map_err(|e| map_unique(e, || sku_taken(&v.sku)))?;
    }
    Ok((product, events))
}

/// Writes a variant's stock, only if it still holds what it held when it was read.
async fn write_stock(
    w: &mut Writes<'_>,
    tenant_id: TenantId,
    before: &Variant,
    after: &Variant,
) -> Result<(), StoreError> {
    let update = variant::Entity::update_many()
        .col_expr(variant::Column::OnHand, Expr::value(after.on_hand))
        .col_expr(variant::Column::Reserved, Expr::value(after.reserved))
        .filter(variant::Column::Id.eq(after.id.as_uuid()))
        .filter(variant::Column::TenantId.eq(tenant_id.as_uuid()))
        .filter(variant::Column::OnHand.eq(before.on_hand))
        .filter(variant::Column::Reserved.eq(before.reserved));
    if !w.update_one(build(w.txn(), update)).await? {
        return Err(DomainError::StockConflict {
            sku: after.sku.clone(),
        }
        .into());
    }
    Ok(())
}

async fn insert_order(w: &mut Writes<'_>, o: &Order) -> Result<(), StoreError> {
    let c = w.txn();
    w.write(build(c, order::Entity::insert(order_row(o))), || {
        format!("order {}", o.id)
    })
    .await?;
    let items = o
        .items
        .iter()
        .enumerate()
        .map(|(position, i)| item_row(o, position, i));
    w.write(build(c, order_item::Entity::insert_many(items)), || {
        format!("line of order {}", o.id)
    })
    .await
}

/// Optimistic lock: only the version the decision was made on may be replaced. Line items
/// never change after the order is placed.
async fn update_order(w: &mut Writes<'_>, before: &Order, next: &Order) -> Result<(), StoreError> {
    let c = w.txn();
    let update = order::Entity::update_many()
        .set(order_row(next))
        .filter(order::Column::Id.eq(next.id.as_uuid()))
        .filter(order::Column::TenantId.eq(next.tenant_id.as_uuid()))
        .filter(order::Column::Version.eq(before.version));
    if !w.update_one(build(c, update)).await? {
        let actual = load_order(c, next.tenant_id, next.id, false)
            .await?
            .map_or(before.version, |o| o.version);
        return Err(DomainError::VersionConflict {
            entity: "order",
            expected: before.version,
            actual,
        }
        .into());
    }
    Ok(())
}

/// The lines whose returned units changed (a return, a refund that restocked), written in the
/// order's transaction; the order's version guard above already ruled out a concurrent writer.
async fn update_returned(
    w: &mut Writes<'_>,
    before: &Order,
    next: &Order,
) -> Result<(), StoreError> {
    for (position, (old, new)) in before.items.iter().zip(&next.items).enumerate() {
        if old.returned == new.returned {
            continue;
        }
        let update = order_item::Entity::update_many()
            .col_expr(
                order_item::Column::ReturnedQuantity,
                Expr::value(new.returned),
            )
            .filter(order_item::Column::OrderId.eq(next.id.as_uuid()))
            .filter(order_item::Column::TenantId.eq(next.tenant_id.as_uuid()))
            .filter(order_item::Column::Position.eq(i32::try_from(position).unwrap_or(i32::MAX)))
            .filter(order_item::Column::ReturnedQuantity.eq(old.returned));
        if !w.update_one(build(w.txn(), update)).await? {
            return Err(DomainError::VersionConflict {
                entity: "order",
                expected: before.version,
                actual: next.version,
            }
            .into());
        }
    }
    Ok(())
}

/// One `order_refunds` row per `payment.refunded` event of the decision (a partial refund, a
/// cancel's refund), keyed by the event's id, in the command's transaction: what the order's
/// refunds list and "revenue today" read.
async fn record_refunds(
    w: &mut Writes<'_>,
    order: &Order,
    events: &[DomainEvent],
    envelopes: &[rustok_domain::event::EventEnvelope],
) -> Result<(), StoreError> {
    for (event, envelope) in events.iter().zip(envelopes) {
        let DomainEvent::PaymentRefunded(refund) = event else {
            continue;
        };
        let insert = crate::stmt(
            crate::backend_of(w.txn()),
            "INSERT INTO order_refunds (id, tenant_id, order_id, amount, currency, reason, refunded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            vec![
                envelope.id.as_uuid().into(),
                order.tenant_id.as_uuid().into(),
                order.id.as_uuid().into(),
                refund.amount.amount.into(),
                refund.amount.currency.code().to_string().into(),
                refund.reason.clone().into(),
                envelope.occurred_at.into(),
            ],
        );
        w.write(insert, || format!("refund {}", envelope.id))
            .await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Queries

/// Which catalog rows (variants) a product list shows.
#[derive(Debug, Clone, Default)]
pub struct ProductFilter {
    /// Only variants whose available stock is at or below their low-stock threshold.
    pub low_only: bool,
    pub offset: u64,
    /// At most this many rows; 0 means 100.
    pub limit: u64,
}

/// Which orders a list or search shows. Every criterion given must hold.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub status: Option<OrderStatus>,
    /// Orders with a line of this SKU (exact).
    pub sku: Option<String>,
    /// Orders of this customer email (case-insensitive).
    pub customer: Option<String>,
    /// Orders whose customer, a line's SKU or id (hex digits) contains this text
    /// (case-insensitive; the board's `/`). At most `MAX_ORDER_FILTER_CHARS` characters.
    pub text: Option<String>,
    pub offset: u64,
    /// At most this many rows; 0 means 100.
    pub limit: u64,
}

impl Store {
    /// One product of one tenant with all its variants; `None` if absent or another tenant's.
    pub async fn product(
        &self,
        tenant_id: TenantId,
        id: ProductId,
    ) -> Result<Option<Product>, StoreError> {
        load_product(&self.db, tenant_id, id).await
    }

    /// The product holding the variant with this SKU in this tenant.
    pub async fn product_by_sku(
        &self,
        tenant_id: TenantId,
        sku: &str,
    ) -> Result<Option<Product>, StoreError> {
        Ok(products_with_skus(&self.db, tenant_id, &[sku.to_string()])
            .await?
            .pop())
    }

    /// A window of the tenant's variants with their stock, by SKU, with the total count.
    pub async fn list_products(
        &self,
        tenant_id: TenantId,
        filter: &ProductFilter,
    ) -> Result<Page<StockRow>, StoreError> {
        let mut q =
            variant::Entity::find().filter(variant::Column::TenantId.eq(tenant_id.as_uuid()));
        if filter.low_only {
            q = q.filter(
                Expr::col(variant::Column::OnHand)
                    .sub(Expr::col(variant::Column::Reserved))
                    .lte(Expr::col(variant::Column::LowStockThreshold)),
            );
        }
        let total = q.clone().count(&self.db).await?;
        let limit = if filter.limit == 0 { 100 } else { filter.limit };
        let variants = q
            .order_by_asc(variant::Column::Sku)
            .offset(sql_window(filter.offset))
            .limit(sql_window(limit))
            .all(&self.db)
            .await?;
        let product_ids: BTreeSet<Uuid> = variants.iter().map(|v| v.product_id).collect();
        let products = if product_ids.is_empty() {
            Vec::new()
        } else {
            let rows = product::Entity::find()
                .filter(product::Column::TenantId.eq(tenant_id.as_uuid()))
                .filter(product::Column::Id.is_in(product_ids))
                .all(&self.db)
                .await?;
            products_of(&self.db, tenant_id, rows).await?
        };
        let mut rows = Vec::with_capacity(variants.len());
        for v in variants {
            let product = products
                .iter()
                .find(|p| p.id.as_uuid() == v.product_id)
                .ok_or_else(|| corrupt("variant", format!("{} has no product", v.id)))?;
            let row = StockRow::of(product)
                .into_iter()
                .find(|r| r.variant_id.as_uuid() == v.id)
                .ok_or_else(|| corrupt("variant", format!("{} not loaded", v.id)))?;
            rows.push(row);
        }
        Ok(Page {
            total,
            offset: filter.offset,
            rows,
        })
    }

    /// One order of one tenant with its line items; `None` if absent or another tenant's.
    pub async fn order(
        &self,
        tenant_id: TenantId,
        id: OrderId,
    ) -> Result<Option<Order>, StoreError> {
        load_order(&self.db, tenant_id, id, false).await
    }

    /// The order a payment command is about to charge, after checking (as [`Store::authorize`]
    /// does) that the envelope's actor may run it. Read where commands are executed: the
    /// connection that just wrote the order has its pages in its cache.
    pub async fn order_to_pay(
        &self,
        env: &CommandEnvelope,
        id: OrderId,
    ) -> Result<Option<Order>, StoreError> {
        self.writing(async |c: &Tx<'_>| {
            authorize_on(c, env).await?;
            load_order(c, env.tenant_id, id, false).await
        })
        .await
    }

    /// A window of the tenant's orders, newest first, with the total count: all of them, or
    /// those with a status, a SKU among their lines, a customer — or all of these.
    pub async fn list_orders(
        &self,
        tenant_id: TenantId,
        filter: &OrderFilter,
    ) -> Result<Page<OrderSummary>, StoreError> {
        let mut q = order::Entity::find().filter(order::Column::TenantId.eq(tenant_id.as_uuid()));
        if let Some(s) = filter.status {
            q = q.filter(order::Column::Status.eq(s.as_str()));
        }
        if let Some(sku) = &filter.sku {
            q = q.filter(
                order::Column::Id.in_subquery(
                    Query::select()
                        .column(order_item::Column::OrderId)
                        .from(order_item::Entity)
                        .and_where(order_item::Column::TenantId.eq(tenant_id.as_uuid()))
                        .and_where(order_item::Column::Sku.eq(sku.as_str()))
                        .to_owned(),
                ),
            );
        }
        if let Some(c) = &filter.customer {
            q = q.filter(
                Expr::expr(Func::lower(Expr::col(order::Column::Customer)))
                    .eq(c.trim().to_lowercase()),
            );
        }
        if let Some(text) = &filter.text
            && let Some(cond) = self.order_text_filter(tenant_id, text)?
        {
            q = q.filter(cond);
        }
        let total = q.clone().count(&self.db).await?;
        let limit = if filter.limit == 0 { 100 } else { filter.limit };
        let rows = q
            .order_by_desc(order::Column::PlacedAt)
            .order_by_desc(order::Column::Id)
            .offset(sql_window(filter.offset))
            .limit(sql_window(limit))
            .all(&self.db)
            .await?;
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let mut items = if ids.is_empty() {
            Vec::new()
        } else {
            order_item::Entity::find()
                .filter(order_item::Column::TenantId.eq(tenant_id.as_uuid()))
                .filter(order_item::Column::OrderId.is_in(ids))
                .all(&self.db)
                .await?
        };
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let (mine, rest): (Vec<_>, Vec<_>) =
                items.into_iter().partition(|i| i.order_id == r.id);
            items = rest;
            out.push(OrderSummary::of(&order_from_rows(r, mine)?));
        }
        Ok(Page {
            total,
            offset: filter.offset,
            rows: out,
        })
    }

    /// The stored events of one order and of the products its lines name, oldest first — the
    /// order's whole story, stock moves included.
    pub async fn order_events(
        &self,
        tenant_id: TenantId,
        id: OrderId,
    ) -> Result<Vec<crate::StoredEvent>, StoreError> {
        let Some(order) = self.order(tenant_id, id).await? else {
            return Ok(Vec::new());
        };
        let correlations: Vec<Uuid> = outbox_row::Entity::find()
            .select_only()
            .column(outbox_row::Column::CorrelationId)
            .filter(outbox_row::Column::TenantId.eq(tenant_id.as_uuid()))
            .filter(outbox_row::Column::AggregateId.eq(order.id.as_uuid()))
            .into_tuple::<Uuid>()
            .all(&self.db)
            .await?;
        if correlations.is_empty() {
            return Ok(Vec::new());
        }
        outbox_row::Entity::find()
            .filter(outbox_row::Column::TenantId.eq(tenant_id.as_uuid()))
            .filter(outbox_row::Column::CorrelationId.is_in(correlations))
            .order_by_asc(outbox_row::Column::Seq)
            .all(&self.db)
            .await?
            .into_iter()
            .map(stored_event_from_row)
            .collect()
    }
}

impl Store {
    /// Orders whose customer, a line's SKU or id contains `text` (case ignored; `%`, `_` and
    /// the backslash match themselves); `None` for blank text. Longer than
    /// `MAX_ORDER_FILTER_CHARS` is refused.
    fn order_text_filter(
        &self,
        tenant_id: TenantId,
        text: &str,
    ) -> Result<Option<sea_orm::Condition>, StoreError> {
        use sea_orm::sea_query::LikeExpr;
        let max = rustok_domain::read::MAX_ORDER_FILTER_CHARS;
        let n = text.chars().count();
        if n > max {
            return Err(StoreError::Domain(rustok_domain::DomainError::validation(
                "filter",
                format!("is {n} characters long; the limit is {max}"),
            )));
        }
        let text = text.trim().to_lowercase();
        if text.is_empty() {
            return Ok(None);
        }
        let mut pattern = String::with_capacity(text.len() + 2);
        pattern.push('%');
        for c in text.chars() {
            if matches!(c, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('%');
        let like = || LikeExpr::new(pattern.clone()).escape('\\');
        let mut any = sea_orm::Condition::any()
            .add(
                Expr::expr(Func::lower(Func::coalesce([
                    Expr::col(order::Column::Customer),
                    Expr::val(""),
                ])))
                .like(like()),
            )
            .add(
                order::Column::Id.in_subquery(
                    Query::select()
                        .column(order_item::Column::OrderId)
                        .from(order_item::Entity)
                        .and_where(order_item::Column::TenantId.eq(tenant_id.as_uuid()))
                        .and_where(
                            Expr::expr(Func::lower(Expr::col(order_item::Column::Sku)))
                                .like(like()),
                        )
                        .to_owned(),
                ),
            );
        // Hex digits (a short id as screens show it) also match the order's id.
        if text.bytes().all(|b| b.is_ascii_hexdigit()) {
            let hex = match self.backend {
                crate::Backend::Sqlite => "lower(hex(orders.id))",
                crate::Backend::Postgres => "replace(orders.id::text, '-', '')",
            };
            any = any.add(Expr::cust(hex).like(like()));
        }
        Ok(Some(any))
    }

    /// Order counts by status, and what was ordered since `since` (the start of the day).
    pub async fn order_stats(
        &self,
        tenant_id: TenantId,
        since: DateTime<Utc>,
    ) -> Result<rustok_domain::read::OrderStats, StoreError> {
        let rows = self
            .db
            .query_all_raw(self.stmt(
                "SELECT status, COUNT(*) AS n FROM orders WHERE tenant_id = $1 GROUP BY status",
                vec![tenant_id.as_uuid().into()],
            ))
            .await?;
        let mut by_status: Vec<(OrderStatus, u64)> =
            OrderStatus::ALL.iter().map(|s| (*s, 0)).collect();
        for r in rows {
            let status: OrderStatus = parse("order status", &r.try_get::<String>("", "status")?)?;
            let n: i64 = r.try_get("", "n")?;
            if let Some(slot) = by_status.iter_mut().find(|(s, _)| *s == status) {
                slot.1 = u64::try_from(n).unwrap_or(0);
            }
        }
        // Aggregated in the database: the cost does not grow with the day's volume.
        // Orders placed today, apart those not paid yet (pending, confirmed): not revenue.
        let placed = self
            .db
            .query_all_raw(self.stmt(
                "SELECT currency, status, COUNT(*) AS n,
                        CAST(SUM(total_amount) AS BIGINT) AS amount
                 FROM orders WHERE tenant_id = $1 AND placed_at >= $2
                 GROUP BY currency, status",
                vec![tenant_id.as_uuid().into(), since.into()],
            ))
            .await?;
        let mut today_orders = 0u64;
        let mut today_unpaid_orders = 0u64;
        let mut unpaid: Vec<Money> = Vec::new();
        for r in placed {
            let n = u64::try_from(r.try_get::<i64>("", "n")?).unwrap_or(0);
            today_orders += n;
            let status: OrderStatus = parse("order status", &r.try_get::<String>("", "status")?)?;
            if matches!(status, OrderStatus::Pending | OrderStatus::Confirmed) {
                today_unpaid_orders += n;
                add_money(&mut unpaid, money_of(&r)?);
            }
        }
        // Revenue today: captured today (whatever happened to the order since: a cancel's
        // refund is subtracted below) less refunded today.
        let captured = self
            .sums(
                "SELECT currency, CAST(SUM(total_amount) AS BIGINT) AS amount
                 FROM orders WHERE tenant_id = $1 AND paid_at >= $2
                   AND payment_reference IS NOT NULL
                 GROUP BY currency",
                tenant_id,
                since,
            )
            .await?;
        let refunded = self
            .sums(
                "SELECT currency, CAST(SUM(amount) AS BIGINT) AS amount
                 FROM order_refunds WHERE tenant_id = $1 AND refunded_at >= $2
                 GROUP BY currency",
                tenant_id,
                since,
            )
            .await?;
        Ok(rustok_domain::read::OrderStats {
            by_status,
            today_orders,
            today_revenue: rustok_domain::read::OrderStats::net(&captured, &refunded),
            today_captured: captured,
            today_refunded: refunded,
            today_unpaid_orders,
            today_unpaid: unpaid,
        })
    }

    /// Per-currency sums: `sql` takes the tenant (`$1`) and a time (`$2`) and returns
    /// `currency` and `amount` rows.
    async fn sums(
        &self,
        sql: &str,
        tenant_id: TenantId,
        since: DateTime<Utc>,
    ) -> Result<Vec<Money>, StoreError> {
        let rows = self
            .db
            .query_all_raw(self.stmt(sql, vec![tenant_id.as_uuid().into(), since.into()]))
            .await?;
        let mut out = Vec::new();
        for r in rows {
            add_money(&mut out, money_of(&r)?);
        }
        Ok(out)
    }
}

/// A row's `currency` and `amount` (a sum: none counts as 0).
pub(crate) fn money_of(r: &sea_orm::QueryResult) -> Result<Money, StoreError> {
    let currency: Currency = parse("currency", &r.try_get::<String>("", "currency")?)?;
    let amount: i64 = r.try_get::<Option<i64>>("", "amount")?.unwrap_or(0);
    Ok(Money::new(amount, currency))
}
