//! The console as a user meets it: the real binary in tmux and in a pseudo-terminal (keys in,
//! screen out, the terminal restored after every kind of exit), the Events pane under a flood
//! of events, and the console over SSH.
//!
//! One test binary: `cargo test --test console`. tests/README.md says which binary holds what.

#[macro_use]
#[path = "../support/mod.rs"]
mod support;

mod e2e;
mod events_pane;
mod ssh;
mod terminal_restore;
