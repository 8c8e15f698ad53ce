//! The live SSH console sessions as the runtime sees them: something that lists them and ends
//! one. The runtime knows nothing of SSH — the SSH transport implements [`LiveSessions`]
//! (`ssh::admin::SessionAdmin`: its own server's table inside an SSH session, the control
//! sockets of the servers in the data directory elsewhere) and whoever opens a session injects
//! it into that session's [`Reads`](super::Reads) (`Reads::with_live_sessions`), which
//! authorizes every list and kick before calling it.

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use rustok_domain::read::{SshSession, SshSessions};

/// Why the sessions could not be listed or one ended: the transport's own error, shown to the
/// user as it prints.
pub type LiveSessionsError = Box<dyn std::error::Error + Send + Sync>;

/// Where a session finds the live SSH console sessions (docs/SSH.md "Session admin").
pub trait LiveSessions: Send + Sync {
    /// The live sessions, oldest first.
    fn list(&self) -> BoxFuture<'_, Result<SshSessions, LiveSessionsError>>;

    /// Ends the session `id` of `server` that started at `since`, as `by`, telling its client
    /// `reason`. Returns the sessions ended (none: it had ended already).
    fn kick<'a>(
        &'a self,
        server: &'a str,
        id: u64,
        since: DateTime<Utc>,
        by: &'a str,
        reason: &'a str,
    ) -> BoxFuture<'a, Result<Vec<SshSession>, LiveSessionsError>>;
}
