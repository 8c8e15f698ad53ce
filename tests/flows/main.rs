//! The seed's scenarios in-process, through the real action queue, store, relay and bus, on
//! SQLite and on PostgreSQL: content, orders, events, the RBAC matrix and housekeeping.
//!
//! One test binary: `cargo test --test flows`. tests/README.md says which binary holds what.

#[macro_use]
#[path = "../support/mod.rs"]
mod support;

mod content;
mod events;
mod housekeeping;
mod orders;
mod rbac_matrix;
mod revisions;
mod schedule;
