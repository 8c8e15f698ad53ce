//! The `rustok` binary's library half: the session runtime (action queue, relay, bus, reads,
//! executor, console loop) that wires `rustok-domain`, `rustok-store` and `rustok-ui`
//! together, its two transports (`tui`: the local terminal, `ssh`: the SSH server) and the
//! CLI on top. Module order (nothing imports a module after it): `config`, `logging`,
//! `input`, `security` → `runtime` → `tui`, `ssh` → `cli` (docs/ARCHITECTURE.md).

pub mod cli;
pub mod config;
pub mod input;
pub mod logging;
pub mod runtime;
pub mod security;
pub mod ssh;
pub mod tui;
