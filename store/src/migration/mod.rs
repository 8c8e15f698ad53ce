//! Schema migrations (sea-orm-migration), one per file, applied on connect.

use sea_orm_migration::prelude::*;
use std::time::Duration;

mod m20261124_000001_foundation;
mod m20261124_000002_commerce;
mod m20261124_000003_staff;
mod m20261124_000004_delivery;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let all: Vec<Box<dyn MigrationTrait>> = vec![
            Box::new(m20261124_000001_foundation::Migration),
            Box::new(m20261124_000002_commerce::Migration),
            Box::new(m20261124_000003_staff::Migration),
            Box::new(m20261124_000004_delivery::Migration),
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
