//! A running count of what each independent consumer was handed (issue 19): the dashboard's
//! per-consumer rate and `outbox consumers` read `stream_consumers.delivered_total` (one row)
//! instead of counting `consumer_receipts`, which grows with history. The relay adds to it in
//! the transaction that writes the receipts, so it counts every receipt exactly once — a
//! duplicate receipt (`ON CONFLICT DO NOTHING`) adds nothing.
//!
//! And `ix_outbox_tenant_occurred (tenant_id, occurred_at)`: the first event of a tenant at or
//! after a time (the Events pane's `:seek WHEN` into the stored history, `events list
//! --since`) without scanning the tenant's whole history.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("stream_consumers")
                .add_column(big_integer("delivered_total").default(0))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_outbox_tenant_occurred")
                .table("outbox")
                .col("tenant_id")
                .col("occurred_at")
                .to_owned(),
        )
        .await?;
        // What was delivered before the column existed.
        m.get_connection()
            .execute_unprepared(
                "UPDATE stream_consumers SET delivered_total = \
                 (SELECT COUNT(*) FROM consumer_receipts r WHERE r.consumer = stream_consumers.name)",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_outbox_tenant_occurred")
                .table("outbox")
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("stream_consumers")
                .drop_column("delivered_total")
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
