//! What survives when things go wrong or many processes share a database: processes killed
//! mid-stream and mid-migration, database and relay faults, several relays and several stores
//! on one database, live events across processes, and a PostgreSQL restart (ignored by default:
//! `.ci/run` runs it alone).
//!
//! One test binary: `cargo test --test reliability`. tests/README.md says which binary holds
//! what.

#[macro_use]
#[path = "../support/mod.rs"]
mod support;

mod crash_driver;
mod crash_recovery;
mod db_faults;
mod live_events;
mod multi_relay;
mod pg_restart;
mod relay_faults;
mod shared_db;
mod stream;
