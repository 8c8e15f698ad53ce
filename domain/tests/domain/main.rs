//! Property and table tests of the pure domain: ids, events and their envelopes, the node and
//! order state machines, the security audit checks and hostile input to every validator.
//!
//! One test binary: `cargo test -p rustok-domain --test domain`.

mod audit_checks;
mod event_properties;
mod event_query;
mod hostile_input;
mod id_properties;
mod layering;
mod node_state_machine;
mod order_state_machine;
