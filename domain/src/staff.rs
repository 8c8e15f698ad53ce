//! Staff accounts: handle, display name, role, SSH public keys (with SHA256 fingerprints),
//! MFA flag, password hash (argon2, computed outside the domain; never serialized), active
//! flag — and the decisions that add and change them.

use crate::event::DomainEvent;
use crate::rbac::Role;
use crate::{DomainError, StaffId};
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A staff member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Staff {
    pub id: StaffId,
    pub handle: String,
    pub display_name: String,
    pub role: Role,
    pub ssh_keys: Vec<SshKey>,
    pub mfa_enabled: bool,
    /// The argon2 PHC string, when a password is set. Never serialized: it leaves the store
    /// only to be verified.
    #[serde(skip)]
    pub password_hash: Option<String>,
    /// Whether a password is set (what reports and JSON show instead of the hash).
    #[serde(default)]
    pub has_password: bool,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An OpenSSH public key line, parsed and fingerprinted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SshKey {
    /// `ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`, ...
    pub algorithm: String,
    /// The base64 key blob.
    pub key: String,
    pub comment: Option<String>,
    /// `SHA256:<base64 without padding>`, as `ssh-keygen -l` prints it.
    pub fingerprint: String,
    /// Modulus size for RSA keys.
    pub bits: Option<u32>,
}

pub const KEY_ALGORITHMS: &[&str] = &[
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "ssh-dss",
];

/// The smallest RSA modulus accepted for a staff or host key (NIST SP 800-57: 128-bit
/// security needs 3072 bits).
pub const MIN_RSA_BITS: u32 = 3072;

fn read_string(blob: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let len = u32::from_be_bytes(blob.get(at..at + 4)?.try_into().ok()?) as usize;
    let start = at + 4;
    Some((blob.get(start..start.checked_add(len)?)?, start + len))
}

impl SshKey {
    /// Parses `ALGORITHM BASE64 [COMMENT]` and checks the blob names the same algorithm.
    pub fn parse(line: &str) -> Result<SshKey, DomainError> {
        let bad = |why: &str| {
            DomainError::validation("ssh_key", format!("not an OpenSSH public key: {why}"))
        };
        let mut parts = line.trim().splitn(3, char::is_whitespace);
        let algorithm = parts.next().unwrap_or_default();
        let key = parts.next().unwrap_or_default().trim();
        let comment = parts
            .next()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string);
        if !KEY_ALGORITHMS.contains(&algorithm) {
            // Never echo the file: it may be a private key or a secret given by mistake.
            if line.contains("PRIVATE KEY") {
                return Err(bad(
                    "this is a private key; give its public half (the .pub file)",
                ));
            }
            let looks_like_a_type = ["ssh-", "ecdsa-", "sk-"]
                .iter()
                .any(|p| algorithm.starts_with(p))
                && algorithm.len() <= 40
                && algorithm
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-@._".contains(&b));
            return Err(bad(&if looks_like_a_type {
                format!("unknown key type '{algorithm}'")
            } else {
                "the line does not start with a key type such as ssh-ed25519".to_string()
            }));
        }
        if comment.as_deref().is_some_and(crate::text::has_control) {
            return Err(bad("the comment holds control characters"));
        }
        let blob = base64::engine::general_purpose::STANDARD
            .decode(key)
            .map_err(|_| bad("the key is not base64"))?;
        let (name, next) = read_string(&blob, 0).ok_or_else(|| bad("the key blob is truncated"))?;
        if name != algorithm.as_bytes() {
            return Err(bad("the key blob does not match its type"));
        }
        let bits = if algorithm == "ssh-rsa" {
            let (_e, next) = read_string(&blob, next).ok_or_else(|| bad("truncated RSA key"))?;
            let (n, _) = read_string(&blob, next).ok_or_else(|| bad("truncated RSA key"))?;
            let n = match n.iter().position(|b| *b != 0) {
                Some(i) => &n[i..],
                None => &[][..],
            };
            let lead = n.first().map_or(0, |b| 8 - b.leading_zeros());
            Some((n.len().saturating_sub(1) * 8) as u32 + lead)
        } else {
            None
        };
        let digest = Sha256::digest(&blob);
        let fingerprint = format!(
            "SHA256:{}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest)
        );
        Ok(SshKey {
            algorithm: algorithm.to_string(),
            key: key.to_string(),
            comment,
            fingerprint,
            bits,
        })
    }

    /// Why this key is too weak to register, if it is: DSA (1024-bit, SHA-1 signatures) and
    /// RSA under [`MIN_RSA_BITS`] bits. The `ssh-rsa` *signature* (SHA-1) is refused at login
    /// by the SSH server, which accepts RSA keys with rsa-sha2-256/512 signatures only.
    pub fn weakness(&self) -> Option<String> {
        match (self.algorithm.as_str(), self.bits) {
            ("ssh-dss", _) => Some("DSA keys are not accepted (use ed25519)".into()),
            ("ssh-rsa", Some(b)) if b < MIN_RSA_BITS => Some(format!(
                "RSA keys need at least {MIN_RSA_BITS} bits; this one has {b} (use ed25519)"
            )),
            ("ssh-rsa", None) => Some("RSA key of unknown size".into()),
            _ => None,
        }
    }

    /// The key as an OpenSSH line.
    pub fn line(&self) -> String {
        match &self.comment {
            Some(c) => format!("{} {} {c}", self.algorithm, self.key),
            None => format!("{} {}", self.algorithm, self.key),
        }
    }
}

/// Checks a staff handle: like a tenant slug (`^[a-z0-9][a-z0-9-]{0,62}$`), no reserved words.
pub fn validate_handle(handle: &str) -> Result<(), DomainError> {
    if crate::tenant::RESERVED_SLUGS.contains(&handle) {
        return Err(DomainError::validation(
            "handle",
            format!("'{handle}' is a reserved word and cannot be a staff handle"),
        ));
    }
    crate::tenant::validate_slug(handle).map_err(|_| {
        DomainError::validation(
            "handle",
            format!(
                "'{}' is not a valid staff handle (1-63 chars of a-z, 0-9 and '-', starting with a letter or digit, not a reserved word)",
                crate::text::excerpt(handle, crate::text::EXCERPT_CHARS)
            ),
        )
    })
}

/// What `staff add` asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffDraft {
    pub id: StaffId,
    pub handle: String,
    pub display_name: Option<String>,
    pub role: Role,
    /// OpenSSH public key lines.
    pub ssh_keys: Vec<String>,
    pub mfa_enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffAdded {
    pub handle: String,
    pub display_name: String,
    pub role: Role,
    /// Fingerprints of the keys (never the keys' text).
    pub ssh_keys: Vec<String>,
    pub mfa_enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffRoleChanged {
    pub handle: String,
    pub from: Role,
    pub to: Role,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffMfaChanged {
    pub handle: String,
    pub enabled: bool,
}

/// Password set or changed (the hash never appears in an event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffPasswordChanged {
    pub handle: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffActiveChanged {
    pub handle: String,
    pub active: bool,
}

pub type StaffDecision = Result<(Staff, Vec<DomainEvent>), DomainError>;

fn validate_display_name(name: &str) -> Result<(), DomainError> {
    let n = name.trim().chars().count();
    if n == 0 || n > 120 {
        return Err(DomainError::validation(
            "name",
            "display name must be 1-120 characters",
        ));
    }
    if crate::text::has_control(name) {
        return Err(DomainError::validation(
            "name",
            "display name must not contain control characters",
        ));
    }
    Ok(())
}

impl Staff {
    /// Decides adding a staff member. Uniqueness of the handle is the store's to check.
    pub fn add(draft: StaffDraft, now: DateTime<Utc>) -> StaffDecision {
        validate_handle(&draft.handle)?;
        let display_name = draft
            .display_name
            .map(|n| n.trim().to_string())
            .unwrap_or_else(|| draft.handle.clone());
        validate_display_name(&display_name)?;
        let ssh_keys = draft
            .ssh_keys
            .iter()
            .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .map(|l| SshKey::parse(l))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some((k, why)) = ssh_keys.iter().find_map(|k| k.weakness().map(|w| (k, w))) {
            return Err(DomainError::validation(
                "ssh_key",
                format!("key {} refused: {why}", k.fingerprint),
            ));
        }
        let staff = Staff {
            id: draft.id,
            handle: draft.handle,
            display_name,
            role: draft.role,
            ssh_keys,
            mfa_enabled: draft.mfa_enabled,
            password_hash: None,
            has_password: false,
            active: true,
            created_at: now,
            updated_at: now,
        };
        let event = DomainEvent::StaffAdded(StaffAdded {
            handle: staff.handle.clone(),
            display_name: staff.display_name.clone(),
            role: staff.role,
            ssh_keys: staff
                .ssh_keys
                .iter()
                .map(|k| k.fingerprint.clone())
                .collect(),
            mfa_enabled: staff.mfa_enabled,
        });
        Ok((staff, vec![event]))
    }

    pub fn change_role(&self, role: Role, now: DateTime<Utc>) -> StaffDecision {
        if role == self.role {
            return Err(DomainError::validation(
                "role",
                format!("{} is already {role}", self.handle),
            ));
        }
        let next = Staff {
            role,
            updated_at: now,
            ..self.clone()
        };
        let e = DomainEvent::StaffRoleChanged(StaffRoleChanged {
            handle: self.handle.clone(),
            from: self.role,
            to: role,
        });
        Ok((next, vec![e]))
    }

    pub fn set_mfa(&self, enabled: bool, now: DateTime<Utc>) -> StaffDecision {
        let next = Staff {
            mfa_enabled: enabled,
            updated_at: now,
            ..self.clone()
        };
        let e = DomainEvent::StaffMfaChanged(StaffMfaChanged {
            handle: self.handle.clone(),
            enabled,
        });
        Ok((next, vec![e]))
    }

    /// Stores a password hash computed outside the domain; only argon2 PHC strings are taken.
    pub fn set_password(&self, hash: &str, now: DateTime<Utc>) -> StaffDecision {
        if !hash.starts_with("$argon2") {
            return Err(DomainError::validation(
                "password",
                "only argon2 password hashes are stored",
            ));
        }
        let next = Staff {
            password_hash: Some(hash.to_string()),
            has_password: true,
            updated_at: now,
            ..self.clone()
        };
        let e = DomainEvent::StaffPasswordChanged(StaffPasswordChanged {
            handle: self.handle.clone(),
        });
        Ok((next, vec![e]))
    }

    pub fn set_active(&self, active: bool, now: DateTime<Utc>) -> StaffDecision {
        if active == self.active {
            return Err(DomainError::validation(
                "active",
                format!(
                    "{} is already {}",
                    self.handle,
                    if active { "active" } else { "inactive" }
                ),
            ));
        }
        let next = Staff {
            active,
            updated_at: now,
            ..self.clone()
        };
        let e = DomainEvent::StaffActiveChanged(StaffActiveChanged {
            handle: self.handle.clone(),
            active,
        });
        Ok((next, vec![e]))
    }

    /// The owner created on first use of an empty installation (no event: it precedes any).
    pub fn bootstrap_owner(
        id: StaffId,
        handle: &str,
        now: DateTime<Utc>,
    ) -> Result<Staff, DomainError> {
        Ok(Staff::add(
            StaffDraft {
                id,
                handle: handle.to_string(),
                display_name: None,
                role: Role::Owner,
                ssh_keys: vec![],
                mfa_enabled: false,
            },
            now,
        )?
        .0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub const ED25519: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHgiZPlMpwusZJHGccg3sfLIXCj4Og2G8s7+LltunsoQ alice@laptop";
    const RSA1024: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC+uyKxcAoyRUt3FleG0NcF5exiN5VfennzVfIR7pL3e9e8IZEh6vPdhQR6pdQTyvyZ2SdygXRCsxrHM3U360o9Qub2kYDE5TmJR9fF0R4Cqo49J/uzzZqG+kaAEF5T6HwZUssmQc0RO2OuIQxhhouz8qDNa9HrLfHPepg/k+uFUQ== old@box";

    #[test]
    fn parses_and_fingerprints_keys() {
        let k = SshKey::parse(ED25519).unwrap();
        assert_eq!(k.algorithm, "ssh-ed25519");
        assert_eq!(k.comment.as_deref(), Some("alice@laptop"));
        // What `ssh-keygen -lf` prints for this key.
        assert_eq!(
            k.fingerprint,
            "SHA256:VqRsdOqe89LsIIVRW8TUNthMDE8gsLYWCU0i9IT6pTc"
        );
        assert_eq!(k.bits, None);
        let rsa = SshKey::parse(RSA1024).unwrap();
        assert_eq!((rsa.algorithm.as_str(), rsa.bits), ("ssh-rsa", Some(1024)));
        assert_eq!(k.line(), ED25519);
        for bad in [
            "",
            "ssh-ed25519",
            "ssh-foo AAAA",
            "ssh-ed25519 !!!notbase64",
            "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
        ] {
            assert_eq!(
                SshKey::parse(bad).unwrap_err().field(),
                Some("ssh_key"),
                "{bad}"
            );
        }
    }

    /// A key file given by mistake is never echoed: a private key, or any other text.
    #[test]
    fn a_bad_key_line_is_not_echoed() {
        let private =
            "-----BEGIN OPENSSH PRIVATE KEY----- b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ";
        let e = SshKey::parse(private).unwrap_err().to_string();
        assert!(e.contains("private key") && e.contains(".pub"), "{e}");
        assert!(!e.contains("b3Blbn"), "{e}");
        let secret = "hunter2-my-database-password";
        let e = SshKey::parse(secret).unwrap_err().to_string();
        assert!(!e.contains("hunter2"), "{e}");
        assert!(e.contains("does not start with a key type"), "{e}");
        let e = SshKey::parse("ssh-ed25518 AAAA").unwrap_err().to_string();
        assert!(e.contains("unknown key type 'ssh-ed25518'"), "{e}");
    }

    const RSA3072: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQCs6YrZhixTKoJdzqCSSI90DrWM1x+KGc3OXOSuIoRwUnIgjnk3KMFA+2v95G+R6To/mzqdwTkOhyA91ualrBjmj4HAy11AEdWpLZKOYhx/4Xfdl6T+rV1zrWeErzE63R7sHukvOkf+4k36gIL9LSkFj9On4OUN58rV52EVJyF4EUai2wtMSuxDhlEOEqef/oMo3L8mCA+PVzPq4nc63LIigD0VTBYSU9+t08Ygzp9bqrXvQZxvVmI3o4LP+pp8/pG09ZbgEAYWIlbgkOFYWRMcuRo8mEtmYypPRzMJYPrkIh1wRQzU38BPd1RyqW/KGGHzfDTYbtFU8uOl+28Qa2o9KPAHmzAlbMGR0Tr91V64BzcMK5bOzTvMyXCxpBu1tgjXiJ0ZjAMiTuGEEfGQOVSu981i1BBqQLh7ZmJgp98o9KIAlY6Ykh/m65irs5qFP9shsrKidlOLB1cJ7qoN2dvC8rfCAovprdSwGg/PmzBWKgTybQTEDSpirVl0UGkhDaE= rsa3072@box";
    const DSA: &str = "ssh-dss AAAAB3NzaC1kc3MAAACBAMXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFAAAAFQCbm5ubm5ubm5ubm5ubm5ubm5ubmwAAAIACAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgAAAIADAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAw== dsa@box";

    #[test]
    fn weak_keys_are_refused_when_staff_are_added() {
        let now = Utc::now();
        let draft = |key: &str| StaffDraft {
            id: StaffId::new_v7(),
            handle: "old".into(),
            display_name: None,
            role: Role::Editor,
            ssh_keys: vec![ED25519.into(), key.into()],
            mfa_enabled: false,
        };
        let rsa = SshKey::parse(RSA3072).unwrap();
        assert_eq!(rsa.bits, Some(3072));
        assert_eq!(rsa.weakness(), None);
        assert!(Staff::add(draft(RSA3072), now).is_ok());
        let e = Staff::add(draft(RSA1024), now).unwrap_err();
        assert_eq!(e.field(), Some("ssh_key"));
        assert!(e.to_string().contains("at least 3072 bits"), "{e}");
        assert!(e.to_string().contains("1024"), "{e}");
        let e = Staff::add(draft(DSA), now).unwrap_err();
        assert!(e.to_string().contains("DSA"), "{e}");
        // Parsing alone still reads them (keys stored before this rule stay readable).
        assert!(SshKey::parse(DSA).unwrap().weakness().is_some());
    }

    #[test]
    fn decisions_emit_events_and_validate() {
        let now = Utc::now();
        let draft = StaffDraft {
            id: StaffId::new_v7(),
            handle: "alice".into(),
            display_name: Some("Alice".into()),
            role: Role::Editor,
            ssh_keys: vec![ED25519.into()],
            mfa_enabled: false,
        };
        let (s, ev) = Staff::add(draft.clone(), now).unwrap();
        assert_eq!(ev[0].event_type(), "staff.added");
        assert_eq!(s.ssh_keys.len(), 1);
        let (s2, ev) = s.change_role(Role::Manager, now).unwrap();
        assert_eq!(
            (s2.role, ev[0].event_type()),
            (Role::Manager, "staff.role_changed")
        );
        assert!(s2.change_role(Role::Manager, now).is_err());
        let (s3, ev) = s2.set_mfa(true, now).unwrap();
        assert!(s3.mfa_enabled);
        assert_eq!(ev[0].event_type(), "staff.mfa_changed");
        assert!(s3.set_password("plain", now).is_err());
        let (s4, _) = s3
            .set_password("$argon2id$v=19$m=19456,t=2,p=1$x$y", now)
            .unwrap();
        assert!(s4.has_password);
        let json = serde_json::to_string(&s4).unwrap();
        assert!(!json.contains("argon2"), "{json}");
        for bad in ["Alice", "", "admin", "a b"] {
            let d = StaffDraft {
                handle: bad.into(),
                ..draft.clone()
            };
            assert_eq!(Staff::add(d, now).unwrap_err().field(), Some("handle"));
        }
        let d = StaffDraft {
            display_name: Some("<b>\x1b[2J".into()),
            ..draft
        };
        assert_eq!(Staff::add(d, now).unwrap_err().field(), Some("name"));
    }
}
