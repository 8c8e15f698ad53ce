//! Commerce: products with their per-locale titles and handles, variants (SKU unique per
//! tenant, price in integer minor units, stock), orders and their line items.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

async fn index(
    m: &SchemaManager<'_>,
    name: &'static str,
    table: &'static str,
    cols: &[&'static str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut idx = Index::create();
    idx.name(name).table(table);
    for c in cols {
        idx.col(*c);
    }
    if unique {
        idx.unique();
    }
    m.create_index(idx.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("products")
                .col(uuid("id").primary_key())
                .col(uuid("tenant_id"))
                .col(string("status"))
                .col(big_integer("version"))
                .col(string("source_locale"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("products", "tenant_id")
                        .to("tenants", "id"),
                )
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_products_tenant_updated",
            "products",
            &["tenant_id", "updated_at"],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table("product_translations")
                .col(uuid("product_id"))
                .col(string("locale"))
                .col(uuid("tenant_id"))
                .col(string("title"))
                .col(string("handle"))
                .primary_key(Index::create().col("product_id").col("locale"))
                .foreign_key(
                    ForeignKey::create()
                        .from("product_translations", "product_id")
                        .to("products", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_product_translations_tenant_locale_handle",
            "product_translations",
            &["tenant_id", "locale", "handle"],
            true,
        )
        .await?;

        m.create_table(
            Table::create()
                .table("variants")
                .col(uuid("id").primary_key())
                .col(uuid("tenant_id"))
                .col(uuid("product_id"))
                .col(integer("position"))
                .col(string("sku"))
                .col(string("title"))
                .col(big_integer("price_amount"))
                .col(string_len("currency", 3))
                .col(string("inventory_policy"))
                .col(big_integer("on_hand"))
                .col(big_integer("reserved"))
                .col(big_integer("low_stock_threshold"))
                .foreign_key(
                    ForeignKey::create()
                        .from("variants", "product_id")
                        .to("products", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from("variants", "tenant_id")
                        .to("tenants", "id"),
                )
                .to_owned(),
        )
        .await?;
        // A SKU names one variant per tenant; the index is also the race-free backstop of the
        // check the store makes before inserting.
        index(
            m,
            "ux_variants_tenant_sku",
            "variants",
            &["tenant_id", "sku"],
            true,
        )
        .await?;
        index(
            m,
            "ix_variants_product",
            "variants",
            &["product_id", "position"],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table("orders")
                .col(uuid("id").primary_key())
                .col(uuid("tenant_id"))
                .col(string_null("customer"))
                .col(string("status"))
                .col(big_integer("total_amount"))
                .col(string_len("currency", 3))
                .col(big_integer("version"))
                .col(timestamp_with_time_zone("placed_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(timestamp_with_time_zone_null("confirmed_at"))
                .col(timestamp_with_time_zone_null("paid_at"))
                .col(timestamp_with_time_zone_null("shipped_at"))
                .col(timestamp_with_time_zone_null("delivered_at"))
                .col(timestamp_with_time_zone_null("cancelled_at"))
                .col(string_null("carrier"))
                .col(string_null("tracking_number"))
                .col(text_null("cancel_reason"))
                .col(string_null("payment_reference"))
                .foreign_key(
                    ForeignKey::create()
                        .from("orders", "tenant_id")
                        .to("tenants", "id"),
                )
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_orders_tenant_placed",
            "orders",
            &["tenant_id", "placed_at"],
            false,
        )
        .await?;
        index(
            m,
            "ix_orders_tenant_status",
            "orders",
            &["tenant_id", "status", "placed_at"],
            false,
        )
        .await?;
        index(
            m,
            "ix_orders_tenant_customer",
            "orders",
            &["tenant_id", "customer"],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table("order_items")
                .col(uuid("order_id"))
                .col(integer("position"))
                .col(uuid("tenant_id"))
                .col(string("sku"))
                .col(string("title"))
                .col(big_integer("unit_amount"))
                .col(string_len("currency", 3))
                .col(big_integer("quantity"))
                .primary_key(Index::create().col("order_id").col("position"))
                .foreign_key(
                    ForeignKey::create()
                        .from("order_items", "order_id")
                        .to("orders", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_order_items_tenant_sku",
            "order_items",
            &["tenant_id", "sku", "order_id"],
            false,
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "order_items",
            "orders",
            "variants",
            "product_translations",
            "products",
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
