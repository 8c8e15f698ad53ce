//! The console's views and state without a terminal or a database: snapshots on ratatui's
//! TestBackend (files under `snapshots/`, named `ui__<module>__<name>.snap`), the operations
//! and audit panes, live changes under the selection, and hostile text and settings.
//!
//! One test binary: `cargo test -p rustok-ui --test ui`.

mod support;

mod audit_pane;
mod board;
mod content_rights;
mod events_filter;
mod hostile_config;
mod hostile_render;
mod live_changes;
mod mentions;
mod operations;
mod refunds;
mod revisions;
mod scheduling;
mod sessions_pane;
mod snapshots;
