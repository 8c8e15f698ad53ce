//! Tenants, content nodes with their translations, the outbox, and the search index.

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
                .table("tenants")
                .col(uuid("id").primary_key())
                .col(string("slug").unique_key())
                .col(string("name"))
                .col(string("default_locale"))
                .col(boolean("is_active"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("nodes")
                .col(uuid("id").primary_key())
                .col(uuid("tenant_id"))
                .col(string("kind"))
                .col(string("status"))
                .col(big_integer("version"))
                .col(string("source_locale"))
                .col(string("author"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(timestamp_with_time_zone_null("published_at"))
                .col(timestamp_with_time_zone_null("archived_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("nodes", "tenant_id")
                        .to("tenants", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_nodes_tenant_updated")
                .table("nodes")
                .col("tenant_id")
                .col("updated_at")
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_nodes_tenant_status")
                .table("nodes")
                .col("tenant_id")
                .col("status")
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("node_translations")
                .col(uuid("node_id"))
                .col(string("locale"))
                .col(uuid("tenant_id"))
                .col(string("title"))
                .col(string("slug"))
                .col(text_null("excerpt"))
                .col(text("body"))
                .col(string("format"))
                .col(timestamp_with_time_zone("updated_at"))
                .primary_key(Index::create().col("node_id").col("locale"))
                .foreign_key(
                    ForeignKey::create()
                        .from("node_translations", "node_id")
                        .to("nodes", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_translations_tenant_locale_slug")
                .table("node_translations")
                .col("tenant_id")
                .col("locale")
                .col("slug")
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("outbox")
                .col(big_pk_auto("seq"))
                .col(uuid("id").unique_key())
                .col(uuid("tenant_id"))
                .col(string("event_type"))
                .col(integer("schema_version"))
                .col(string("aggregate_type"))
                .col(uuid("aggregate_id"))
                .col(uuid("correlation_id"))
                .col(uuid_null("causation_id"))
                .col(string("actor"))
                .col(timestamp_with_time_zone("occurred_at"))
                .col(text("payload"))
                .col(string("status"))
                .col(integer("attempts"))
                .col(big_integer("next_attempt_ms"))
                .col(text_null("last_error"))
                .col(uuid_null("claim_token"))
                .col(big_integer_null("claimed_until_ms"))
                .col(timestamp_with_time_zone_null("dispatched_at"))
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            ("ix_outbox_status_seq", &["status", "seq"][..]),
            ("ix_outbox_claim", &["claim_token"][..]),
            (
                "ix_outbox_tenant_aggregate",
                &["tenant_id", "aggregate_id", "seq"][..],
            ),
            ("ix_outbox_tenant_seq", &["tenant_id", "seq"][..]),
        ] {
            let mut idx = Index::create();
            idx.name(name).table("outbox");
            for c in cols {
                idx.col(*c);
            }
            m.create_index(idx.to_owned()).await?;
        }

        let db = m.get_connection();
        match m.get_database_backend() {
            DbBackend::Sqlite => {
                db.execute_unprepared(
                    "CREATE VIRTUAL TABLE node_search USING fts5(
                        title, excerpt, body,
                        tenant_id UNINDEXED, node_id UNINDEXED, locale UNINDEXED,
                        tokenize = 'unicode61 remove_diacritics 2')",
                )
                .await?;
            }
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE INDEX ix_translations_search ON node_translations USING GIN (
                        to_tsvector('simple', title || ' ' || coalesce(excerpt, '') || ' ' || body))",
                )
                .await?;
            }
            _ => {}
        }
        Ok(())
    }
}
