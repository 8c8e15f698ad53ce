//! Schema migrations (sea-orm-migration), one per file, applied on connect.
//!
//! [`apply`] runs them atomically and one process at a time: each pending migration runs in a
//! transaction of its own together with its row in `seaql_migrations`, and that transaction
//! first takes a lock every other process's migration transaction waits for — on SQLite the
//! database file's write lock (`BEGIN IMMEDIATE`), on PostgreSQL a transaction-level advisory
//! lock ([`LOCK_KEY`]). Which migrations are pending is decided under that lock. A process
//! killed at any point leaves either the migration committed with its row or neither: SQLite
//! and PostgreSQL both roll back DDL with the transaction.

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};
use sea_orm_migration::prelude::*;
use std::time::Duration;

mod m20261124_000001_foundation;
mod m20261124_000002_commerce;
mod m20261124_000003_staff;
mod m20261124_000004_delivery;
mod m20261207_000005_stream_consumers;
mod m20261207_000006_refunds;
mod m20261207_000007_order_notes;
mod m20261207_000008_revisions;
mod m20261207_000009_node_schedules;
mod m20261207_000010_consumer_totals;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let all: Vec<Box<dyn MigrationTrait>> = vec![
            Box::new(m20261124_000001_foundation::Migration),
            Box::new(m20261124_000002_commerce::Migration),
            Box::new(m20261124_000003_staff::Migration),
            Box::new(m20261124_000004_delivery::Migration),
            Box::new(m20261207_000005_stream_consumers::Migration),
            Box::new(m20261207_000006_refunds::Migration),
            Box::new(m20261207_000007_order_notes::Migration),
            Box::new(m20261207_000008_revisions::Migration),
            Box::new(m20261207_000009_node_schedules::Migration),
            Box::new(m20261207_000010_consumer_totals::Migration),
        ];
        match pause() {
            None => all,
            Some(pause) => all
                .into_iter()
                .map(|m| Box::new(Paused(m, pause)) as Box<dyn MigrationTrait>)
                .collect(),
        }
    }
}

/// The PostgreSQL advisory lock a migration transaction holds (`pg_advisory_xact_lock`): any
/// fixed 64-bit number no other code of the database uses; these are the bytes `rustokmg`.
pub const LOCK_KEY: i64 = 0x7275_7374_6f6b_6d67;

/// Applies every pending migration, each in one transaction with its bookkeeping row, under a
/// lock that other processes' migrations wait for (see the module docs). Processes that find
/// nothing pending once they hold the lock (another one migrated meanwhile) apply nothing.
pub(crate) async fn apply(db: &DatabaseConnection) -> Result<(), DbErr> {
    loop {
        let txn = begin_locked(db).await?;
        let applied = match apply_one(&txn).await {
            Ok(applied) => applied,
            Err(e) => {
                let _ = txn.rollback().await;
                return Err(e);
            }
        };
        txn.commit().await?;
        if !applied {
            return Ok(());
        }
    }
}

/// A transaction holding the migration lock: on SQLite `BEGIN IMMEDIATE` (the file's write
/// lock, waited for up to the connection's busy timeout); on PostgreSQL `BEGIN` then
/// `pg_advisory_xact_lock`, released by the commit or rollback, or by the server when the
/// session ends (a killed process).
async fn begin_locked(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let backend = db.get_database_backend();
    let txn = db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: (backend == DbBackend::Sqlite)
                .then_some(SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await?;
    if backend == DbBackend::Postgres {
        let lock = Statement::from_sql_and_values(
            backend,
            "SELECT pg_advisory_xact_lock($1)",
            [LOCK_KEY.into()],
        );
        if let Err(e) = txn.execute_raw(lock).await {
            let _ = txn.rollback().await;
            return Err(e);
        }
    }
    Ok(txn)
}

/// Applies the first pending migration and records it, inside `txn`; false when nothing is
/// pending. (sea-orm-migration runs a migration on the connection it is given: on SQLite
/// without a transaction of its own, on PostgreSQL in a savepoint of `txn`.)
async fn apply_one(txn: &DatabaseTransaction) -> Result<bool, DbErr> {
    if Migrator::get_pending_migrations(txn).await?.is_empty() {
        return Ok(false);
    }
    Migrator::up(txn, Some(1)).await?;
    Ok(true)
}

/// `RUSTOK_MIGRATION_PAUSE_MS`, a hidden hook for the crash tests (`tests/crash_recovery.rs`):
/// when set to a number of milliseconds, every migration, once its schema changes are made and
/// before its bookkeeping row is written and committed, prints `migration NAME: paused` on
/// stderr and sleeps that long, so a test can kill a process at that point. Unset (always, in
/// use), migrations run as they are.
fn pause() -> Option<Duration> {
    let ms = std::env::var("RUSTOK_MIGRATION_PAUSE_MS").ok()?;
    ms.trim().parse().ok().map(Duration::from_millis)
}

/// A migration followed by the test hook's pause (see [`pause`]).
struct Paused(Box<dyn MigrationTrait>, Duration);

impl MigrationName for Paused {
    fn name(&self) -> &str {
        self.0.name()
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Paused {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        self.0.up(m).await?;
        eprintln!("migration {}: paused", self.0.name());
        tokio::time::sleep(self.1).await;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        self.0.down(m).await
    }

    fn use_transaction(&self) -> Option<bool> {
        self.0.use_transaction()
    }
}
