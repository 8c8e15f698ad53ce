//! Scheduled publishing (issue 20): `node_schedules`, the pending status changes of nodes.
//!
//! One row per node and action (`publish`, `unpublish`): scheduling again replaces it. `id`
//! names one scheduling, so a relay claims exactly the row it read (a row replaced meanwhile
//! is not taken by mistake): the claim is a `DELETE … WHERE id = ?` inside the transaction
//! that executes the status change — on SQLite under the writer lock, on PostgreSQL a second
//! claimer waits for the first's row lock and then deletes nothing — so a schedule runs once
//! whatever the number of relaying processes. `ix_node_schedules_due` serves the relays'
//! once-a-second "what is due" query; `(tenant_id, due_at)` the agenda.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("node_schedules")
                .col(uuid("id").primary_key())
                .col(uuid("tenant_id"))
                .col(uuid("node_id"))
                .col(string("action"))
                .col(timestamp_with_time_zone("due_at"))
                .col(string("scheduled_by"))
                .col(timestamp_with_time_zone("scheduled_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("node_schedules", "node_id")
                        .to("nodes", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_node_schedules_node_action")
                .table("node_schedules")
                .col("tenant_id")
                .col("node_id")
                .col("action")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_node_schedules_due")
                .table("node_schedules")
                .col("due_at")
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_node_schedules_tenant_due")
                .table("node_schedules")
                .col("tenant_id")
                .col("due_at")
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("node_schedules").to_owned())
            .await?;
        Ok(())
    }
}
