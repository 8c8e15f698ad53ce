//! Refunds and returns (issue 21): partial refunds and goods coming back.
//!
//! - `orders.refunded_amount`: what was given back so far (minor units of the order's
//!   currency), never more than the captured total; a cancel's refund adds what was left.
//! - `order_items.returned_quantity`: units of a line sent back (returns, and refunds that
//!   restocked), never more than the line's quantity.
//! - `order_refunds`: one row per `payment.refunded` event (its id), written in the same
//!   transaction — the refunds an order shows and what "revenue today" subtracts
//!   (`ix_order_refunds_tenant_at`).
//!
//! Existing rows get 0 for both columns: nothing was refunded or returned before.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        m.alter_table(
            Table::alter()
                .table("orders")
                .add_column(big_integer("refunded_amount").default(0))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("order_items")
                .add_column(big_integer("returned_quantity").default(0))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("order_refunds")
                .col(uuid("id").primary_key())
                .col(uuid("tenant_id"))
                .col(uuid("order_id"))
                .col(big_integer("amount"))
                .col(string_len("currency", 3))
                .col(text_null("reason"))
                .col(timestamp_with_time_zone("refunded_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("order_refunds", "order_id")
                        .to("orders", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_order_refunds_tenant_order")
                .table("order_refunds")
                .col("tenant_id")
                .col("order_id")
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_order_refunds_tenant_at")
                .table("order_refunds")
                .col("tenant_id")
                .col("refunded_at")
                .to_owned(),
        )
        .await?;
        // "Revenue today" sums what was captured since midnight.
        m.create_index(
            Index::create()
                .name("ix_orders_tenant_paid")
                .table("orders")
                .col("tenant_id")
                .col("paid_at")
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_orders_tenant_paid")
                .table("orders")
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table("order_refunds").to_owned())
            .await?;
        m.alter_table(
            Table::alter()
                .table("order_items")
                .drop_column("returned_quantity")
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("orders")
                .drop_column("refunded_amount")
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
