//! Independent consumers (issue 19): a consumer that is not the in-process bus — the JetStream
//! stream — has its own delivery state, so that its failures never hold the bus back.
//!
//! - `stream_consumers (name)`: the registry. A relaying process with a stream configured
//!   registers it; from then on *every* relay (with or without a stream configured) writes a
//!   delivery row for each registered consumer when it first claims an outbox row, in the
//!   claim's transaction — so no event is skipped, whichever process relays it, and PostgreSQL's
//!   out-of-order sequence commits cannot make a cursor jump over one. `claim_token` and
//!   `claimed_until_ms` are a lease: one process delivers a consumer at a time (in order); a
//!   crashed holder's lease expires and another takes over.
//! - `consumer_deliveries (consumer, seq)`: what a consumer has still to get (`pending`, with
//!   its attempts, back-off and last error) or gave up on (`failed`: that consumer's dead
//!   letters). A delivered row is deleted in the transaction that writes its receipt in
//!   `consumer_receipts`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("stream_consumers")
                .col(string("name").primary_key())
                .col(timestamp_with_time_zone("registered_at"))
                .col(uuid_null("claim_token"))
                .col(big_integer_null("claimed_until_ms"))
                .col(text_null("last_error"))
                .col(timestamp_with_time_zone_null("last_delivered_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("consumer_deliveries")
                .col(string("consumer"))
                .col(big_integer("seq"))
                .col(uuid("event_id"))
                .col(string("status"))
                .col(integer("attempts"))
                .col(big_integer("next_attempt_ms"))
                .col(text_null("last_error"))
                .col(timestamp_with_time_zone_null("failed_at"))
                .primary_key(Index::create().col("consumer").col("seq"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("consumer_deliveries").to_owned())
            .await?;
        m.drop_table(Table::drop().table("stream_consumers").to_owned())
            .await?;
        Ok(())
    }
}
