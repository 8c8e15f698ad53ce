//! Collecting the security audit's snapshot: the database's facts (from the store), the
//! database file's permission bits (std::fs), and the security settings (environment).
//! The checks themselves are pure (`rustok_domain::audit`).

use rustok_domain::audit::{AuditInput, SecurityConfig};
use rustok_store::{Store, StoreError};

fn flag(name: &str, default: bool) -> bool {
    match std::env::var(name) {
        Ok(v) => match v.trim().to_ascii_lowercase().as_str() {
            "1" | "on" | "true" | "yes" => true,
            "0" | "off" | "false" | "no" => false,
            _ => default,
        },
        Err(_) => default,
    }
}

/// The deployment's security settings, from the environment:
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `RUSTOK_SSH_PASSWORD_AUTH` | off | the SSH server also accepts passwords |
/// | `RUSTOK_SSH_HOST_KEY_POLICY` | unset | `strict`, `accept-new` or `accept-any` |
/// | `RUSTOK_RATE_LIMITS` | off | per-session command and login rate limits |
/// | `RUSTOK_AUDIT_LOG` | on | record every command in the audit log |
/// | `RUSTOK_SESSION_TIMEOUT_MINUTES` | 30 | idle sessions end after this (0: never) |
pub fn settings(read_only: bool) -> SecurityConfig {
    SecurityConfig {
        ssh_password_auth: flag("RUSTOK_SSH_PASSWORD_AUTH", false),
        ssh_host_key_policy: std::env::var("RUSTOK_SSH_HOST_KEY_POLICY")
            .map(|v| v.trim().to_ascii_lowercase())
            .unwrap_or_else(|_| "unset".into()),
        rate_limits_enabled: flag("RUSTOK_RATE_LIMITS", false),
        audit_log_enabled: audit_log_enabled(),
        read_only,
        session_timeout_minutes: match std::env::var("RUSTOK_SESSION_TIMEOUT_MINUTES")
            .ok()
            .and_then(|v| v.trim().parse::<u32>().ok())
        {
            Some(0) => None,
            Some(m) => Some(m),
            None => Some(30),
        },
    }
}

/// Whether commands are recorded in the audit log (`RUSTOK_AUDIT_LOG=off` turns it off).
pub fn audit_log_enabled() -> bool {
    flag("RUSTOK_AUDIT_LOG", true)
}

/// The SQLite file behind `url`, if it is one.
pub fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && !path.contains(":memory:")).then(|| std::path::PathBuf::from(path))
}

#[cfg(unix)]
fn mode(p: &std::path::Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .ok()
        .map(|m| m.permissions().mode() & 0o7777)
}

#[cfg(not(unix))]
fn mode(_: &std::path::Path) -> Option<u32> {
    None
}

/// The whole snapshot: the store's facts, the file modes and the settings.
pub async fn collect(store: &Store, url: &str, read_only: bool) -> Result<AuditInput, StoreError> {
    let mut input = store
        .audit_input(url, settings(read_only), chrono::Utc::now())
        .await?;
    if let Some(path) = sqlite_path(url) {
        input.database.file_mode = mode(&path);
        input.database.dir_mode = path.parent().and_then(|d| {
            mode(if d.as_os_str().is_empty() {
                std::path::Path::new(".")
            } else {
                d
            })
        });
    }
    Ok(input)
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_sqlite_paths() {
        assert_eq!(
            super::sqlite_path("sqlite:///tmp/a.db?mode=rwc").unwrap(),
            std::path::PathBuf::from("/tmp/a.db")
        );
        assert!(super::sqlite_path("sqlite::memory:").is_none());
        assert!(super::sqlite_path("postgres://h/db").is_none());
    }
}
