//! The headless CLI through the real `rustok` binary, one process per command as a script
//! runs it: the command contract of CLI.md, the commerce commands, RBAC and the audit log from
//! the command line, and hostile argv, bodies and terminals.
//!
//! One test binary (each binary links sea-orm and russh again): `cargo test --test cli`.
//! tests/README.md says which binary holds what.

#[macro_use]
#[path = "../support/mod.rs"]
mod support;

mod commerce;
mod contract;
mod event_query;
mod hostile;
mod schedule;
mod security;
