//! Order notes with `@mentions` (issue 21): staff's notes on an order's timeline, and which
//! staff member each note mentions, with whether they have seen it.
//!
//! - `order_notes (id)`: a note on an order of a tenant — author, text (at most 2,000
//!   characters), the mentioned handles as a JSON array, when. Listed by
//!   `(tenant_id, order_id, created_at)`. The order row is not touched: a note changes no
//!   order's version.
//! - `order_mentions (note_id, handle)`: one row per mentioned staff member, `read_at` null
//!   until they open it (or dismiss it) in a console — their unread mentions at the next
//!   start are the rows of `(handle, tenant_id)` with no `read_at`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("order_notes")
                .col(uuid("id").primary_key())
                .col(uuid("tenant_id"))
                .col(uuid("order_id"))
                .col(string("author"))
                .col(text("text"))
                .col(text("mentions"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("order_notes", "order_id")
                        .to("orders", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_order_notes_tenant_order")
                .table("order_notes")
                .col("tenant_id")
                .col("order_id")
                .col("created_at")
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("order_mentions")
                .col(uuid("note_id"))
                .col(string("handle"))
                .col(uuid("tenant_id"))
                .col(uuid("order_id"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("read_at"))
                .primary_key(Index::create().col("note_id").col("handle"))
                .foreign_key(
                    ForeignKey::create()
                        .from("order_mentions", "note_id")
                        .to("order_notes", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_order_mentions_handle_tenant")
                .table("order_mentions")
                .col("handle")
                .col("tenant_id")
                .col("created_at")
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("order_mentions").to_owned())
            .await?;
        m.drop_table(Table::drop().table("order_notes").to_owned())
            .await?;
        Ok(())
    }
}
