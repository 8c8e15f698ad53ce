//! Email and blob storage ports with in-memory implementations that record what they were
//! given. Real implementations (SMTP, disk, S3) live outside the domain.

use super::order::validate_email;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use thiserror::Error;

/// A port refused or failed to do its job. One line, safe to show.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct ServiceError(pub String);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A plain-text email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub body: String,
}

pub trait EmailSender: Send + Sync {
    fn send(&self, email: &Email) -> Result<(), ServiceError>;
}

/// Keeps every email it is asked to send.
#[derive(Debug, Default)]
pub struct MemoryMailbox {
    sent: Mutex<Vec<Email>>,
}

impl MemoryMailbox {
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything sent, oldest first.
    pub fn sent(&self) -> Vec<Email> {
        lock(&self.sent).clone()
    }
}

impl EmailSender for MemoryMailbox {
    fn send(&self, email: &Email) -> Result<(), ServiceError> {
        validate_email(&email.to).map_err(|e| ServiceError(e.to_string()))?;
        if email.subject.trim().is_empty() || crate::text::has_control(&email.subject) {
            return Err(ServiceError(
                "subject: must be a non-empty single line".into(),
            ));
        }
        lock(&self.sent).push(email.clone());
        Ok(())
    }
}

pub trait BlobStorage: Send + Sync {
    fn put(&self, key: &str, content_type: &str, bytes: &[u8]) -> Result<(), ServiceError>;
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ServiceError>;
    /// Returns whether something was deleted.
    fn delete(&self, key: &str) -> Result<bool, ServiceError>;
}

/// A stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Keys: 1–1024 bytes, relative (`reports/2025/audit.html`), no empty, `.` or `..` segment,
/// no backslash or control character.
fn validate_key(key: &str) -> Result<(), ServiceError> {
    let ok = !key.is_empty()
        && key.len() <= 1024
        && !key.contains('\\')
        && !crate::text::has_control(key)
        && key
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != "..");
    if ok {
        Ok(())
    } else {
        Err(ServiceError(format!(
            "'{}' is not a valid storage key (relative path segments, no '..')",
            crate::text::excerpt(key, crate::text::EXCERPT_CHARS)
        )))
    }
}

/// Keeps blobs in memory, sorted by key.
#[derive(Debug, Default)]
pub struct MemoryStorage {
    blobs: Mutex<BTreeMap<String, StoredBlob>>,
}

impl MemoryStorage {
    pub fn new() -> Self {
        Self::default()
    }

    /// Keys currently stored, sorted.
    pub fn keys(&self) -> Vec<String> {
        lock(&self.blobs).keys().cloned().collect()
    }

    pub fn blob(&self, key: &str) -> Option<StoredBlob> {
        lock(&self.blobs).get(key).cloned()
    }
}

impl BlobStorage for MemoryStorage {
    fn put(&self, key: &str, content_type: &str, bytes: &[u8]) -> Result<(), ServiceError> {
        validate_key(key)?;
        lock(&self.blobs).insert(
            key.to_string(),
            StoredBlob {
                content_type: content_type.to_string(),
                bytes: bytes.to_vec(),
            },
        );
        Ok(())
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ServiceError> {
        validate_key(key)?;
        Ok(lock(&self.blobs).get(key).map(|b| b.bytes.clone()))
    }

    fn delete(&self, key: &str) -> Result<bool, ServiceError> {
        validate_key(key)?;
        Ok(lock(&self.blobs).remove(key).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailbox_records() {
        let m = MemoryMailbox::new();
        let mail = Email {
            to: "buyer@example.com".into(),
            subject: "Order confirmed".into(),
            body: "Thanks!".into(),
        };
        m.send(&mail).unwrap();
        assert_eq!(m.sent(), vec![mail.clone()]);
        assert!(
            m.send(&Email {
                to: "nope".into(),
                ..mail.clone()
            })
            .is_err()
        );
        assert!(
            m.send(&Email {
                subject: "a\nb".into(),
                ..mail
            })
            .is_err()
        );
        assert_eq!(m.sent().len(), 1);
    }

    #[test]
    fn storage_roundtrip() {
        let s = MemoryStorage::new();
        s.put("reports/audit.html", "text/html", b"<p>ok</p>")
            .unwrap();
        assert_eq!(
            s.get("reports/audit.html").unwrap().as_deref(),
            Some(&b"<p>ok</p>"[..])
        );
        assert_eq!(
            s.blob("reports/audit.html").unwrap().content_type,
            "text/html"
        );
        assert_eq!(s.keys(), vec!["reports/audit.html".to_string()]);
        assert!(s.delete("reports/audit.html").unwrap());
        assert!(!s.delete("reports/audit.html").unwrap());
        assert_eq!(s.get("missing").unwrap(), None);
        for bad in ["", "/etc/passwd", "a/../b", "a//b", "a\\b", "a\x00"] {
            assert!(s.put(bad, "x", b"").is_err(), "{bad:?}");
        }
    }
}
