//! The `rustok` binary's library half: CLI, configuration, logging and the runtime (action
//! queue, relay, bus) that wires `rustok-domain`, `rustok-store` and `rustok-ui` together.

pub mod cli;
pub mod config;
pub mod demo;
pub mod input;
pub mod logging;
pub mod runtime;
pub mod security;
pub mod ssh;
pub mod tui;
