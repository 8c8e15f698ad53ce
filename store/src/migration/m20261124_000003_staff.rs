//! Staff accounts, their SSH public keys, and the append-only audit log of staff actions.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("staff")
                .col(uuid("id").primary_key())
                .col(string("handle").unique_key())
                .col(string("display_name"))
                .col(string("role"))
                .col(boolean("mfa_enabled"))
                .col(text_null("password_hash"))
                .col(boolean("active"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("staff_keys")
                .col(uuid("staff_id"))
                .col(string("fingerprint"))
                .col(string("algorithm"))
                .col(text("key"))
                .col(string_null("comment"))
                .col(integer_null("bits"))
                .col(integer("position"))
                .primary_key(Index::create().col("staff_id").col("fingerprint"))
                .foreign_key(
                    ForeignKey::create()
                        .from("staff_keys", "staff_id")
                        .to("staff", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_staff_keys_fingerprint")
                .table("staff_keys")
                .col("fingerprint")
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("audit_log")
                .col(big_pk_auto("seq"))
                .col(timestamp_with_time_zone("at"))
                .col(string("actor"))
                .col(string("command"))
                .col(uuid("command_id"))
                .col(uuid("tenant_id"))
                .col(string_null("session"))
                .col(string("outcome"))
                .col(text_null("reason"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_audit_log_at")
                .table("audit_log")
                .col("at")
                .to_owned(),
        )
        .await?;
        // Append-only: the database itself refuses to change or remove an entry.
        let db = m.get_connection();
        match m.get_database_backend() {
            DbBackend::Sqlite => {
                for op in ["UPDATE", "DELETE"] {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER audit_log_no_{} BEFORE {op} ON audit_log \
                         BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
                        op.to_lowercase()
                    ))
                    .await?;
                }
            }
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$ \
                     BEGIN RAISE EXCEPTION 'the audit log is append-only'; END; \
                     $$ LANGUAGE plpgsql",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log \
                     FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
                )
                .await?;
            }
            _ => {}
        }
        Ok(())
    }
}
