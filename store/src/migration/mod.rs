//! Schema migrations (sea-orm-migration), one per file, applied on connect.

use sea_orm_migration::prelude::*;

mod m20261124_000001_foundation;
mod m20261124_000002_commerce;
mod m20261124_000003_staff;
mod m20261124_000004_delivery;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_foundation::Migration),
            Box::new(m20261124_000002_commerce::Migration),
            Box::new(m20261124_000003_staff::Migration),
            Box::new(m20261124_000004_delivery::Migration),
        ]
    }
}
