//! Revisions of content nodes (issue 20): every saved change of a node is a revision.
//!
//! - `node_revisions (node_id, version)`: when, who (`actor`), the command, the node's status
//!   after it, the locales whose content it changed (comma-separated; empty for a status
//!   change) and, for a revert, the version it restored.
//! - `node_revision_contents (node_id, locale, version)`: a full copy of one locale's content
//!   as that revision left it — written only for the locales a revision changed. A node's
//!   content in locale L at version V is the newest row of L with a version ≤ V.
//!
//! Bounded: the newest `MAX_REVISIONS_PER_NODE` (100) revisions of a node are kept; writing
//! one more deletes the older revision rows and the content rows no kept revision needs
//! (each locale keeps its newest copy at or before the oldest kept revision). So a node holds
//! at most 100 + (its number of locales) content rows, each at most one translation's size
//! (body ≤ 1,000,000 characters). ARCHITECTURE.md documents it.
//!
//! Nodes that exist when this migration runs get one revision each: their current state,
//! command `imported`, by their author at their last update.

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
                .table("node_revisions")
                .col(uuid("node_id"))
                .col(big_integer("version"))
                .col(uuid("tenant_id"))
                .col(timestamp_with_time_zone("at"))
                .col(string("actor"))
                .col(string("command"))
                .col(string("status"))
                .col(text("locales"))
                .col(big_integer_null("reverted_from"))
                .primary_key(Index::create().col("node_id").col("version"))
                .foreign_key(
                    ForeignKey::create()
                        .from("node_revisions", "node_id")
                        .to("nodes", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("node_revision_contents")
                .col(uuid("node_id"))
                .col(string("locale"))
                .col(big_integer("version"))
                .col(uuid("tenant_id"))
                .col(string("title"))
                .col(string("slug"))
                .col(text_null("excerpt"))
                .col(text("body"))
                .col(string("format"))
                .primary_key(Index::create().col("node_id").col("locale").col("version"))
                .foreign_key(
                    ForeignKey::create()
                        .from("node_revision_contents", "node_id")
                        .to("nodes", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        let locales = match m.get_database_backend() {
            DbBackend::Postgres => "string_agg(t.locale, ',' ORDER BY t.locale)",
            _ => "group_concat(t.locale, ',')",
        };
        let db = m.get_connection();
        db.execute_unprepared(&format!(
            "INSERT INTO node_revisions
                 (node_id, version, tenant_id, at, actor, command, status, locales, reverted_from)
             SELECT n.id, n.version, n.tenant_id, n.updated_at, n.author, 'imported', n.status,
                    coalesce((SELECT {locales} FROM node_translations t WHERE t.node_id = n.id), ''),
                    NULL
             FROM nodes n"
        ))
        .await?;
        db.execute_unprepared(
            "INSERT INTO node_revision_contents
                 (node_id, locale, version, tenant_id, title, slug, excerpt, body, format)
             SELECT t.node_id, t.locale, n.version, t.tenant_id, t.title, t.slug, t.excerpt,
                    t.body, t.format
             FROM node_translations t JOIN nodes n ON n.id = t.node_id",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("node_revision_contents").to_owned())
            .await?;
        m.drop_table(Table::drop().table("node_revisions").to_owned())
            .await?;
        Ok(())
    }
}
