//! Connection pool settings: from the database URL's query parameters or the environment.
//!
//! | URL parameter       | environment                   | default                     |
//! |---------------------|-------------------------------|-----------------------------|
//! | `max_connections`   | `RUSTOK_DB_MAX_CONNECTIONS`   | 10 (PostgreSQL), 4 (SQLite) |
//! | `min_connections`   | `RUSTOK_DB_MIN_CONNECTIONS`   | 1                           |
//! | `connect_timeout`   | `RUSTOK_DB_CONNECT_TIMEOUT`   | 10 (seconds)                |
//! | `acquire_timeout`   | `RUSTOK_DB_ACQUIRE_TIMEOUT`   | 30 (seconds)                |
//! | `idle_timeout`      | `RUSTOK_DB_IDLE_TIMEOUT`      | none (seconds)              |
//!
//! A URL parameter wins over the environment. These parameters are removed from the URL before
//! it reaches the driver; every other parameter (`sslmode`, `sslrootcert`, `sslcert`,
//! `sslkey`, `application_name`, `options`, …) is passed through untouched.

use crate::StoreError;
use std::time::Duration;

pub(crate) const PARAMS: [(&str, &str); 5] = [
    ("max_connections", "RUSTOK_DB_MAX_CONNECTIONS"),
    ("min_connections", "RUSTOK_DB_MIN_CONNECTIONS"),
    ("connect_timeout", "RUSTOK_DB_CONNECT_TIMEOUT"),
    ("acquire_timeout", "RUSTOK_DB_ACQUIRE_TIMEOUT"),
    ("idle_timeout", "RUSTOK_DB_IDLE_TIMEOUT"),
];

/// The longest timeout a pool setting takes: one day.
pub const MAX_TIMEOUT_SECS: u64 = 86_400;

/// How the pool is sized and how long it waits.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PoolSettings {
    pub max_connections: Option<u32>,
    pub min_connections: Option<u32>,
    pub connect_timeout: Option<Duration>,
    pub acquire_timeout: Option<Duration>,
    pub idle_timeout: Option<Duration>,
}

impl PoolSettings {
    /// Splits the pool parameters off `url`, falling back to the environment (`env` looks a
    /// variable up; `std::env::var` in production). Returns the URL for the driver.
    pub fn from_url(
        url: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<(String, PoolSettings), StoreError> {
        let (base, query) = match url.split_once('?') {
            Some((b, q)) => (b, q),
            None => (url, ""),
        };
        let mut kept = Vec::new();
        let mut found: Vec<(&str, String)> = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            if PARAMS.iter().any(|(name, _)| *name == k) {
                found.push((k, v.to_string()));
            } else {
                kept.push(pair);
            }
        }
        let mut s = PoolSettings::default();
        for (name, var) in PARAMS {
            let value = found
                .iter()
                .rev()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (name.to_string(), v.clone()))
                .or_else(|| env(var).map(|v| (var.to_string(), v)));
            let Some((source, value)) = value else {
                continue;
            };
            let n: u64 = value.trim().parse().map_err(|_| {
                StoreError::Config(format!(
                    "{source} must be a whole number, not '{}'",
                    value.chars().take(40).collect::<String>()
                ))
            })?;
            let count = || {
                u32::try_from(n)
                    .ok()
                    .filter(|n| *n > 0 || name == "min_connections")
                    .ok_or_else(|| {
                        StoreError::Config(format!("{source} must be between 1 and 4294967295"))
                    })
            };
            // Timeouts: 1 second to a day (a larger value overflowed the driver's deadline
            // arithmetic and panicked).
            let secs = || {
                (1..=MAX_TIMEOUT_SECS)
                    .contains(&n)
                    .then(|| Duration::from_secs(n))
                    .ok_or_else(|| {
                        StoreError::Config(format!(
                            "{source} must be between 1 and {MAX_TIMEOUT_SECS} (seconds)"
                        ))
                    })
            };
            match name {
                "max_connections" => s.max_connections = Some(count()?),
                "min_connections" => s.min_connections = Some(count()?),
                "connect_timeout" => s.connect_timeout = Some(secs()?),
                "acquire_timeout" => s.acquire_timeout = Some(secs()?),
                _ => s.idle_timeout = Some(secs()?),
            }
        }
        let clean = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        Ok((clean, s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn pool_parameters_are_taken_off_the_url_and_tls_ones_kept() {
        let (url, s) = PoolSettings::from_url(
            "postgres://u@h/db?sslmode=require&max_connections=3&acquire_timeout=5&application_name=x",
            none,
        )
        .unwrap();
        assert_eq!(url, "postgres://u@h/db?sslmode=require&application_name=x");
        assert_eq!(s.max_connections, Some(3));
        assert_eq!(s.acquire_timeout, Some(Duration::from_secs(5)));
        assert_eq!(s.connect_timeout, None);
    }

    #[test]
    fn the_url_wins_over_the_environment() {
        let env = |v: &str| match v {
            "RUSTOK_DB_MAX_CONNECTIONS" => Some("7".to_string()),
            "RUSTOK_DB_CONNECT_TIMEOUT" => Some("2".to_string()),
            _ => None,
        };
        let (url, s) = PoolSettings::from_url("postgres://u@h/db?max_connections=20", env).unwrap();
        assert_eq!(url, "postgres://u@h/db");
        assert_eq!(s.max_connections, Some(20));
        assert_eq!(s.connect_timeout, Some(Duration::from_secs(2)));
    }

    #[test]
    fn bad_values_are_one_clear_error() {
        let e = PoolSettings::from_url("postgres://h/db?max_connections=lots", none).unwrap_err();
        assert_eq!(
            e.to_string(),
            "max_connections must be a whole number, not 'lots'"
        );
        let e = PoolSettings::from_url("postgres://h/db?max_connections=0", none).unwrap_err();
        assert!(e.to_string().contains("between 1"), "{e}");
        let env = |_: &str| Some("x".to_string());
        let e = PoolSettings::from_url("sqlite::memory:", env).unwrap_err();
        assert!(e.to_string().starts_with("RUSTOK_DB_"), "{e}");
    }
}
