//! What the CLI takes from people, and its bounds (issue 16).
//!
//! **Numbers** (item 5). Every numeric argument has a clap value range, so a value out of it
//! is a usage error (exit 2) before anything runs, never a panic further down (sea-query's
//! binder panicked on a `u64` limit above `i64::MAX`). The bounds of lists, offsets and leases
//! are here; stock and quantities use the domain's own (`MAX_STOCK`, `MAX_LINE_QUANTITY`).

/// Most rows a list or search may ask for (`--limit`; `events tail --last`).
pub const MAX_LIST_LIMIT: u64 = 1_000_000;

/// Most entries `audit log --limit` shows at once.
pub const MAX_AUDIT_LOG_LIMIT: u64 = 10_000;

/// Largest `--offset`: what both databases can take (a signed 64-bit integer).
pub const MAX_OFFSET: u64 = i64::MAX as u64;

/// Longest relay lease of `rustok script --lease-ms`: a day.
pub const MAX_LEASE_MS: u64 = 86_400_000;
