//! The seed's order flow scenarios (Sprint 4, "Order Flow Integration Tests"), on SQLite and
//! on PostgreSQL, through the real action queue, store and sandbox payment gateway. The seed's
//! Draft → PendingPayment → Paid maps onto pending → confirmed → paid. One module per concern.

mod board;
mod bulk_seed;
mod inventory;
mod lifecycle;
mod notes;
mod refunds;
mod retries;
mod search;

use crate::support::TestApp;
use rustok_domain::DomainError;
use rustok_store::{Backend, Store, StoredEvent};

/// `SELECT COUNT(*) …` with `$n` parameters, bound by sea-orm as the store binds them.
async fn count(store: &Store, sql: &str, values: Vec<sea_orm::Value>) -> i64 {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let stmt = match store.backend() {
        Backend::Postgres => Statement::from_sql_and_values(DbBackend::Postgres, sql, values),
        Backend::Sqlite => {
            Statement::from_sql_and_values(DbBackend::Sqlite, sql.replace('$', "?"), values)
        }
    };
    let row = store
        .connection()
        .query_one_raw(stmt)
        .await
        .expect("count query")
        .expect("one row");
    row.try_get_by_index::<i64>(0).expect("a count")
}

fn domain(e: &rustok::runtime::QueueError) -> &DomainError {
    e.domain()
        .unwrap_or_else(|| panic!("expected a refused command, got {e}"))
}

fn types(events: &[StoredEvent]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e.envelope.event_type.as_str())
        .collect()
}

/// This tenant's events stored after `seq`, oldest first.
async fn events_after(app: &TestApp, seq: i64) -> Vec<StoredEvent> {
    app.store
        .list_events(&rustok_store::EventFilter {
            tenant_id: Some(app.tenant.id),
            after_seq: Some(seq),
            limit: 1_000_000,
            ..Default::default()
        })
        .await
        .expect("list events")
}
