//! Shared-database delivery (issue 8):
//!
//! - `consumer_receipts (consumer, event_id)`: one row per event a consumer was handed, written
//!   in the same transaction that marks the event dispatched. The primary key makes a second
//!   delivery of one event to one consumer impossible to record, so relays on many processes
//!   can prove (and count) that each event was delivered exactly once.
//! - `command_log (command_id)`: every committed command's id and outcome, written inside the
//!   command's own transaction. A command retried after a connection error whose commit outcome
//!   is unknown finds its id here and gets the recorded outcome instead of being applied twice.
//! - `outbox.tx_id` (PostgreSQL only): the 64-bit id of the transaction that appended the row.
//!   Sequence numbers can commit out of order on PostgreSQL; a reader that only reads rows of
//!   transactions older than its snapshot's `xmin` and orders by `(tx_id, seq)` sees every
//!   committed row exactly once (see `Store::feed_after`).

use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("consumer_receipts")
                .col(string("consumer"))
                .col(uuid("event_id"))
                .col(big_integer("seq"))
                .col(uuid("claim_token"))
                .col(timestamp_with_time_zone("delivered_at"))
                .primary_key(Index::create().col("consumer").col("event_id"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("command_log")
                .col(uuid("command_id").primary_key())
                .col(string("command"))
                .col(text("applied"))
                .col(timestamp_with_time_zone("committed_at"))
                .to_owned(),
        )
        .await?;
        if m.get_database_backend() == DbBackend::Postgres {
            let db = m.get_connection();
            db.execute_unprepared(
                "ALTER TABLE outbox ADD COLUMN tx_id BIGINT NOT NULL \
                 DEFAULT (pg_current_xact_id()::text::bigint)",
            )
            .await?;
            db.execute_unprepared("CREATE INDEX ix_outbox_tx_seq ON outbox (tx_id, seq)")
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DbBackend::Postgres {
            m.get_connection()
                .execute_unprepared("ALTER TABLE outbox DROP COLUMN tx_id")
                .await?;
        }
        m.drop_table(Table::drop().table("command_log").to_owned())
            .await?;
        m.drop_table(Table::drop().table("consumer_receipts").to_owned())
            .await?;
        Ok(())
    }
}
