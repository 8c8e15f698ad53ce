//! The security audit: pure checks over a snapshot of the deployment ([`AuditInput`]),
//! collected by the caller (the store's queries, file metadata, settings). Each check is
//! computed from the snapshot; the report is scored 0–100 and rendered as JSON, Markdown or
//! HTML text. Nothing here performs I/O.
//!
//! Continuous monitoring: [`AuditInput::fingerprint`] is a cheap hash of everything the
//! checks read. A console re-collects the snapshot now and then and re-runs the audit only
//! when the fingerprint changed (the checks are a pure function of the input).

pub mod checks;
pub mod finding;
pub mod log;
pub mod report;

pub use checks::{CHECKS, CheckInfo, run_checks};
pub use finding::{Category, Control, Effort, Finding, Framework, Remediation, Severity};
pub use log::{AuditLogEntry, AuditOutcome};
pub use report::{AuditReport, BatchReport, SeverityCounts, TenantSummary};

use crate::staff::Staff;
use serde::{Deserialize, Serialize};

/// Everything the checks read: a snapshot of the deployment, without timestamps (so equal
/// configurations have equal fingerprints).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AuditInput {
    pub staff: Vec<Staff>,
    pub tenants: Vec<TenantFacts>,
    pub database: DatabaseFacts,
    pub config: SecurityConfig,
    pub outbox: OutboxFacts,
    /// Stored events whose envelope or payload fails validation.
    pub invalid_events: u64,
    /// Stored events whose actor is not a staff member.
    pub events_by_unknown_actor: u64,
    /// All stored events.
    pub events_total: u64,
    pub audit_log: AuditLogFacts,
    /// Stored titles, names and excerpts holding control characters (escape sequences).
    pub suspicious_text: u64,
}

/// Per-tenant facts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TenantFacts {
    pub slug: String,
    pub name: String,
    pub is_active: bool,
    /// Active staff members who have acted in this tenant (audit log, outcome ok).
    pub active_staff: u32,
    /// Rows of this tenant referring to another tenant's rows (translations of another
    /// tenant's node, order lines of another tenant's order, ...).
    pub cross_tenant_rows: u64,
    /// Whether the isolation probe ran for this tenant.
    pub isolation_checked: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DatabaseFacts {
    /// The URL with any password removed.
    pub url: String,
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// `sslmode=require|verify-ca|verify-full` (PostgreSQL).
    pub tls: bool,
    /// `sslmode=verify-ca|verify-full`: the server certificate is checked.
    pub tls_verified: bool,
    /// localhost, a loopback address, a Unix socket, or an embedded file.
    pub host_local: bool,
    /// A password is written in the URL.
    pub password_in_url: bool,
    /// Permission bits of the SQLite file (collected by the caller).
    pub file_mode: Option<u32>,
    /// Permission bits of the directory holding it.
    pub dir_mode: Option<u32>,
}

impl DatabaseFacts {
    /// Reads what the URL says (pure string parsing). The caller adds the file modes and
    /// replaces `url` with the redacted form.
    pub fn from_url(url: &str) -> DatabaseFacts {
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            "postgres"
        } else {
            "sqlite"
        };
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let sslmode = query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == "sslmode")
            .map(|(_, v)| v.to_ascii_lowercase());
        let rest = base.split_once("://").map_or("", |(_, r)| r);
        let authority = rest.split('/').next().unwrap_or("");
        let (creds, hostport) = match authority.rsplit_once('@') {
            Some((c, h)) => (Some(c), h),
            None => (None, authority),
        };
        let host = if hostport.starts_with('[') {
            hostport
                .split(']')
                .next()
                .unwrap_or("")
                .trim_start_matches('[')
        } else {
            hostport.split(':').next().unwrap_or("")
        };
        let query_host = query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == "host")
            .map(|(_, v)| v);
        let host = query_host.unwrap_or(host);
        let host_local = backend == "sqlite"
            || host.is_empty()
            || host.starts_with('/')
            || host.starts_with("%2F")
            || host == "localhost"
            || host == "::1"
            || host.starts_with("127.");
        let tls = matches!(
            sslmode.as_deref(),
            Some("require" | "verify-ca" | "verify-full")
        );
        let tls_verified = matches!(sslmode.as_deref(), Some("verify-ca" | "verify-full"));
        DatabaseFacts {
            url: url.to_string(),
            backend: backend.into(),
            tls,
            tls_verified,
            host_local,
            password_in_url: creds.is_some_and(|c| c.contains(':')),
            file_mode: None,
            dir_mode: None,
        }
    }
}

/// Security-relevant settings of this deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityConfig {
    /// The SSH server accepts passwords (not only public keys).
    pub ssh_password_auth: bool,
    /// `strict`, `accept-new`, `accept-any`, or `unset`.
    pub ssh_host_key_policy: String,
    pub rate_limits_enabled: bool,
    pub audit_log_enabled: bool,
    /// The console runs read-only.
    pub read_only: bool,
    /// Idle sessions end after this many minutes (`None`: never).
    pub session_timeout_minutes: Option<u32>,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        Self {
            ssh_password_auth: false,
            ssh_host_key_policy: "strict".into(),
            rate_limits_enabled: true,
            audit_log_enabled: true,
            read_only: false,
            session_timeout_minutes: Some(30),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OutboxFacts {
    pub pending: u64,
    /// Dead letters.
    pub failed: u64,
    /// Pending events older than five minutes (no relay is delivering).
    pub stale_pending: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AuditLogFacts {
    pub entries: u64,
    /// Denied commands in the last 24 hours.
    pub denied_last_day: u64,
}

impl AuditInput {
    /// A cheap, stable hash (FNV-1a 64 over the JSON form, hex) of everything the checks
    /// read: when it is unchanged, re-running the audit gives the same findings.
    pub fn fingerprint(&self) -> String {
        let json = serde_json::to_string(self).unwrap_or_default();
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in json.as_bytes() {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        format!("{h:016x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_tell_tls_and_locality() {
        let f = DatabaseFacts::from_url("postgres://u:pw@db.example.com:5432/x");
        assert_eq!(
            (f.backend.as_str(), f.tls, f.host_local, f.password_in_url),
            ("postgres", false, false, true)
        );
        let f = DatabaseFacts::from_url("postgres://u@db.example.com/x?sslmode=verify-full");
        assert!(f.tls && f.tls_verified && !f.password_in_url);
        let f = DatabaseFacts::from_url("postgres://u@127.0.0.1:5432/x?sslmode=require");
        assert!(f.tls && !f.tls_verified && f.host_local);
        let f = DatabaseFacts::from_url("postgres://u@[::1]/x");
        assert!(f.host_local);
        let f = DatabaseFacts::from_url("postgres:///x?host=/var/run/postgresql");
        assert!(f.host_local);
        let f = DatabaseFacts::from_url("sqlite:///tmp/x.db");
        assert!(f.host_local && f.backend == "sqlite");
    }

    #[test]
    fn fingerprint_follows_the_input() {
        let a = AuditInput::default();
        let mut b = a.clone();
        assert_eq!(a.fingerprint(), b.fingerprint());
        b.config.rate_limits_enabled = false;
        assert_ne!(a.fingerprint(), b.fingerprint());
    }
}
