//! The checks: each one a pure function of the [`AuditInput`] with its metadata (category,
//! CWE, CVSS, remediation with effort, compliance controls). [`CHECKS`] lists them all; the
//! table in docs/SECURITY.md describes what fires each.

use super::AuditInput;
use super::finding::{Category, Control, Effort, Finding, Framework, Remediation, Severity};
use crate::rbac::Role;
use std::collections::BTreeMap;

/// What a check found: its severity for this occurrence, the evidence, and the tenant for
/// tenant-scoped checks.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub severity: Severity,
    pub evidence: Vec<String>,
    pub tenant: Option<String>,
}

fn hit(severity: Severity, evidence: Vec<String>) -> Vec<Hit> {
    vec![Hit {
        severity,
        evidence,
        tenant: None,
    }]
}

/// One check and its metadata.
pub struct CheckInfo {
    pub id: &'static str,
    pub title: &'static str,
    pub category: Category,
    pub description: &'static str,
    pub remediation: &'static str,
    pub effort: Effort,
    pub cwe: Option<&'static str>,
    pub cvss: Option<f32>,
    pub compliance: &'static [(Framework, &'static str)],
    pub run: fn(&AuditInput) -> Vec<Hit>,
}

use Framework::{Cis, Gdpr, Iso27001, Owasp, PciDss, Soc2};

fn privileged(r: Role) -> bool {
    matches!(r, Role::Owner | Role::Admin)
}

// ---- Authentication -------------------------------------------------------------------

fn auth_mfa(i: &AuditInput) -> Vec<Hit> {
    let without: Vec<_> = i
        .staff
        .iter()
        .filter(|s| s.active && !s.mfa_enabled)
        .collect();
    if without.is_empty() {
        return vec![];
    }
    let severity = if without.iter().any(|s| privileged(s.role)) {
        Severity::High
    } else {
        Severity::Medium
    };
    hit(
        severity,
        without
            .iter()
            .map(|s| {
                format!(
                    "{} \"{}\" ({}) has no MFA",
                    s.handle, s.display_name, s.role
                )
            })
            .collect(),
    )
}

fn auth_password_hash(i: &AuditInput) -> Vec<Hit> {
    let weak: Vec<String> = i
        .staff
        .iter()
        .filter_map(|s| {
            let h = s.password_hash.as_deref()?;
            (!h.starts_with("$argon2id$")).then(|| {
                let scheme = h.split('$').nth(1).unwrap_or("unknown");
                format!("{}: password stored as '{}'", s.handle, scheme)
            })
        })
        .collect();
    if weak.is_empty() {
        vec![]
    } else {
        hit(Severity::High, weak)
    }
}

fn auth_ssh_password(i: &AuditInput) -> Vec<Hit> {
    if i.config.ssh_password_auth {
        hit(
            Severity::High,
            vec!["ssh_password_auth = true: the SSH server accepts passwords".into()],
        )
    } else {
        vec![]
    }
}

fn auth_shared_keys(i: &AuditInput) -> Vec<Hit> {
    let mut by_key: BTreeMap<&str, Vec<&crate::staff::Staff>> = BTreeMap::new();
    for s in i.staff.iter().filter(|s| s.active) {
        let mut seen = std::collections::BTreeSet::new();
        for k in &s.ssh_keys {
            if seen.insert(k.fingerprint.as_str()) {
                by_key.entry(k.fingerprint.as_str()).or_default().push(s);
            }
        }
    }
    let shared: Vec<_> = by_key.into_iter().filter(|(_, v)| v.len() > 1).collect();
    if shared.is_empty() {
        return vec![];
    }
    let owners = shared
        .iter()
        .any(|(_, v)| v.iter().filter(|s| s.role == Role::Owner).count() > 1);
    hit(
        if owners {
            Severity::Critical
        } else {
            Severity::High
        },
        shared
            .iter()
            .map(|(fp, v)| {
                let who: Vec<String> = v
                    .iter()
                    .map(|s| format!("{} ({})", s.handle, s.role))
                    .collect();
                format!("key {fp} is shared by {}", who.join(", "))
            })
            .collect(),
    )
}

fn auth_weak_keys(i: &AuditInput) -> Vec<Hit> {
    let weak: Vec<String> = i
        .staff
        .iter()
        .filter(|s| s.active)
        .flat_map(|s| {
            s.ssh_keys.iter().filter_map(move |k| {
                let why = match (k.algorithm.as_str(), k.bits) {
                    ("ssh-dss", _) => "DSA".to_string(),
                    ("ssh-rsa", Some(b)) if b < crate::staff::MIN_RSA_BITS => {
                        format!("RSA {b} bits")
                    }
                    _ => return None,
                };
                Some(format!("{}: {} key {}", s.handle, why, k.fingerprint))
            })
        })
        .collect();
    if weak.is_empty() {
        vec![]
    } else {
        hit(Severity::High, weak)
    }
}

fn auth_inactive_credentials(i: &AuditInput) -> Vec<Hit> {
    let stale: Vec<String> = i
        .staff
        .iter()
        .filter(|s| !s.active && (!s.ssh_keys.is_empty() || s.password_hash.is_some()))
        .map(|s| {
            format!(
                "{} is inactive but keeps {} SSH key(s){}",
                s.handle,
                s.ssh_keys.len(),
                if s.password_hash.is_some() {
                    " and a password"
                } else {
                    ""
                }
            )
        })
        .collect();
    if stale.is_empty() {
        vec![]
    } else {
        hit(Severity::Medium, stale)
    }
}

fn auth_session_timeout(i: &AuditInput) -> Vec<Hit> {
    match i.config.session_timeout_minutes {
        None => hit(
            Severity::Warning,
            vec!["session_timeout_minutes is unset: idle sessions never end".into()],
        ),
        Some(m) if m > 720 => hit(
            Severity::Warning,
            vec![format!(
                "session_timeout_minutes = {m} (more than 12 hours)"
            )],
        ),
        Some(_) => vec![],
    }
}

// ---- Authorization --------------------------------------------------------------------

fn authz_many_owners(i: &AuditInput) -> Vec<Hit> {
    let owners: Vec<&str> = i
        .staff
        .iter()
        .filter(|s| s.active && s.role == Role::Owner)
        .map(|s| s.handle.as_str())
        .collect();
    if owners.len() > 2 {
        hit(
            Severity::Medium,
            vec![format!(
                "{} active owners: {}",
                owners.len(),
                owners.join(", ")
            )],
        )
    } else {
        vec![]
    }
}

fn authz_no_owner(i: &AuditInput) -> Vec<Hit> {
    let owners = i
        .staff
        .iter()
        .filter(|s| s.active && s.role == Role::Owner)
        .count();
    if owners == 0 {
        hit(
            Severity::High,
            vec![format!(
                "{} staff member(s), none of them an active owner",
                i.staff.len()
            )],
        )
    } else {
        vec![]
    }
}

fn authz_denials(i: &AuditInput) -> Vec<Hit> {
    if i.audit_log.denied_last_day >= 10 {
        hit(
            Severity::Warning,
            vec![format!(
                "{} commands denied in the last 24 hours",
                i.audit_log.denied_last_day
            )],
        )
    } else {
        vec![]
    }
}

fn authz_privileged_share(i: &AuditInput) -> Vec<Hit> {
    let active: Vec<_> = i.staff.iter().filter(|s| s.active).collect();
    let privileged_n = active.iter().filter(|s| privileged(s.role)).count();
    if active.len() >= 3 && privileged_n * 2 > active.len() {
        hit(
            Severity::Low,
            vec![format!(
                "{privileged_n} of {} active staff members are owners or admins",
                active.len()
            )],
        )
    } else {
        vec![]
    }
}

// ---- Input validation -----------------------------------------------------------------

fn input_control_chars(i: &AuditInput) -> Vec<Hit> {
    let names = i
        .staff
        .iter()
        .filter(|s| crate::text::has_control(&s.display_name))
        .count() as u64
        + i.tenants
            .iter()
            .filter(|t| crate::text::has_control(&t.name))
            .count() as u64;
    let n = i.suspicious_text + names;
    if n > 0 {
        hit(
            Severity::Medium,
            vec![format!(
                "{n} stored title(s) or name(s) hold control characters (terminal escape sequences)"
            )],
        )
    } else {
        vec![]
    }
}

fn input_invalid_staff(i: &AuditInput) -> Vec<Hit> {
    let bad: Vec<String> = i
        .staff
        .iter()
        .filter(|s| crate::staff::validate_handle(&s.handle).is_err())
        .map(|s| {
            format!(
                "staff handle '{}' fails validation",
                crate::text::printable(&s.handle)
            )
        })
        .collect();
    if bad.is_empty() {
        vec![]
    } else {
        hit(Severity::Low, bad)
    }
}

// ---- Data protection ------------------------------------------------------------------

fn data_password_in_url(i: &AuditInput) -> Vec<Hit> {
    if i.database.password_in_url {
        hit(
            Severity::Low,
            vec![format!(
                "the database URL carries a password: {}",
                i.database.url
            )],
        )
    } else {
        vec![]
    }
}

fn data_no_tls(i: &AuditInput) -> Vec<Hit> {
    let d = &i.database;
    if d.backend == "postgres" && !d.host_local && !d.tls {
        hit(
            Severity::High,
            vec![format!(
                "{} is a remote PostgreSQL server reached without sslmode=require/verify-*",
                d.url
            )],
        )
    } else {
        vec![]
    }
}

fn data_tls_unverified(i: &AuditInput) -> Vec<Hit> {
    let d = &i.database;
    if d.backend == "postgres" && !d.host_local && d.tls && !d.tls_verified {
        hit(
            Severity::Medium,
            vec![format!(
                "{} uses TLS without verifying the server certificate",
                d.url
            )],
        )
    } else {
        vec![]
    }
}

fn data_world_readable(i: &AuditInput) -> Vec<Hit> {
    match i.database.file_mode {
        Some(m) if m & 0o006 != 0 => hit(
            Severity::High,
            vec![format!(
                "database file mode {:04o}: {} by every local user",
                m & 0o7777,
                if m & 0o002 != 0 {
                    "writable"
                } else {
                    "readable"
                }
            )],
        ),
        _ => vec![],
    }
}

fn data_group_access(i: &AuditInput) -> Vec<Hit> {
    let mut ev = vec![];
    if let Some(m) = i.database.file_mode
        && m & 0o060 != 0
        && m & 0o006 == 0
    {
        ev.push(format!(
            "database file mode {:04o}: group access",
            m & 0o7777
        ));
    }
    if let Some(m) = i.database.dir_mode
        && m & 0o002 != 0
    {
        ev.push(format!(
            "database directory mode {:04o}: world-writable",
            m & 0o7777
        ));
    }
    if ev.is_empty() {
        vec![]
    } else {
        hit(Severity::Low, ev)
    }
}

// ---- Event system ---------------------------------------------------------------------

fn evt_dead_letters(i: &AuditInput) -> Vec<Hit> {
    let n = i.outbox.failed;
    if n == 0 {
        return vec![];
    }
    hit(
        if n >= 100 {
            Severity::High
        } else {
            Severity::Medium
        },
        vec![format!("{n} dead letter(s) in the outbox")],
    )
}

fn evt_invalid(i: &AuditInput) -> Vec<Hit> {
    if i.invalid_events > 0 {
        hit(
            Severity::High,
            vec![format!(
                "{} stored event(s) fail envelope or payload validation",
                i.invalid_events
            )],
        )
    } else {
        vec![]
    }
}

fn evt_stale(i: &AuditInput) -> Vec<Hit> {
    if i.outbox.stale_pending > 0 {
        hit(
            Severity::Warning,
            vec![format!(
                "{} of {} pending event(s) have waited more than five minutes",
                i.outbox.stale_pending, i.outbox.pending
            )],
        )
    } else {
        vec![]
    }
}

fn evt_unknown_actor(i: &AuditInput) -> Vec<Hit> {
    if i.events_by_unknown_actor > 0 {
        hit(
            Severity::Low,
            vec![format!(
                "{} stored event(s) name an actor who is not a staff member",
                i.events_by_unknown_actor
            )],
        )
    } else {
        vec![]
    }
}

// ---- Infrastructure -------------------------------------------------------------------

fn infra_rate_limits(i: &AuditInput) -> Vec<Hit> {
    if i.config.rate_limits_enabled {
        vec![]
    } else {
        hit(Severity::Medium, vec!["rate_limits_enabled = false".into()])
    }
}

fn infra_audit_log_off(i: &AuditInput) -> Vec<Hit> {
    if i.config.audit_log_enabled {
        vec![]
    } else {
        hit(Severity::High, vec!["audit_log_enabled = false".into()])
    }
}

fn infra_unaudited_changes(i: &AuditInput) -> Vec<Hit> {
    if i.config.audit_log_enabled && i.audit_log.entries == 0 && i.events_total > 0 {
        hit(
            Severity::Medium,
            vec![format!(
                "{} event(s) stored but the audit log is empty",
                i.events_total
            )],
        )
    } else {
        vec![]
    }
}

fn infra_host_keys(i: &AuditInput) -> Vec<Hit> {
    match i.config.ssh_host_key_policy.as_str() {
        "strict" | "accept-new" => vec![],
        "accept-any" => hit(
            Severity::Medium,
            vec!["ssh_host_key_policy = accept-any: any host key is trusted".into()],
        ),
        other => hit(
            Severity::Warning,
            vec![format!(
                "ssh_host_key_policy = '{}': unknown policy",
                crate::text::printable(other)
            )],
        ),
    }
}

// ---- Tenant security ------------------------------------------------------------------

fn per_tenant(
    i: &AuditInput,
    f: impl Fn(&super::TenantFacts) -> Option<(Severity, String)>,
) -> Vec<Hit> {
    i.tenants
        .iter()
        .filter_map(|t| {
            f(t).map(|(severity, e)| Hit {
                severity,
                evidence: vec![e],
                tenant: Some(t.slug.clone()),
            })
        })
        .collect()
}

fn ten_no_staff(i: &AuditInput) -> Vec<Hit> {
    per_tenant(i, |t| {
        (t.is_active && t.active_staff == 0).then(|| {
            (
                Severity::Warning,
                format!("tenant {} has no active staff member", t.slug),
            )
        })
    })
}

fn ten_cross_rows(i: &AuditInput) -> Vec<Hit> {
    per_tenant(i, |t| {
        (t.cross_tenant_rows > 0).then(|| {
            (
                Severity::Critical,
                format!(
                    "tenant {}: {} row(s) refer to another tenant's data",
                    t.slug, t.cross_tenant_rows
                ),
            )
        })
    })
}

fn ten_invalid_slug(i: &AuditInput) -> Vec<Hit> {
    per_tenant(i, |t| {
        crate::tenant::validate_slug(&t.slug)
            .err()
            .map(|e| (Severity::Medium, format!("tenant slug check: {e}")))
    })
}

fn ten_isolation_unchecked(i: &AuditInput) -> Vec<Hit> {
    per_tenant(i, |t| {
        (!t.isolation_checked).then(|| {
            (
                Severity::Warning,
                format!("tenant {}: the isolation probe did not run", t.slug),
            )
        })
    })
}

/// Every check, in report order.
pub const CHECKS: &[CheckInfo] = &[
    CheckInfo {
        id: "AUTH-001",
        title: "Staff without multi-factor authentication",
        category: Category::Authentication,
        description: "Active staff members sign in with a single factor; a stolen key or password is enough to act as them.",
        remediation: "Enable MFA for every listed member: `rustok staff mfa HANDLE on`.",
        effort: Effort::Minutes,
        cwe: Some("CWE-308"),
        cvss: Some(7.5),
        compliance: &[
            (Owasp, "A07:2021"),
            (Cis, "6.5"),
            (Soc2, "CC6.1"),
            (Iso27001, "A.8.5"),
            (PciDss, "8.4.2"),
        ],
        run: auth_mfa,
    },
    CheckInfo {
        id: "AUTH-002",
        title: "Weak password hashing",
        category: Category::Authentication,
        description: "Passwords are stored with a scheme other than argon2id, which makes offline cracking cheaper.",
        remediation: "Reset the listed passwords so they are re-hashed with argon2id (SetStaffPassword with an argon2id hash).",
        effort: Effort::Hours,
        cwe: Some("CWE-916"),
        cvss: Some(7.5),
        compliance: &[
            (Owasp, "A02:2021"),
            (Cis, "5.2"),
            (Iso27001, "A.8.5"),
            (PciDss, "8.3.2"),
        ],
        run: auth_password_hash,
    },
    CheckInfo {
        id: "AUTH-003",
        title: "SSH password authentication enabled",
        category: Category::Authentication,
        description: "The SSH console accepts passwords, which can be guessed or sprayed; public keys cannot.",
        remediation: "Set RUSTOK_SSH_PASSWORD_AUTH=off and give every staff member an SSH key (`rustok staff add HANDLE --ssh-key FILE`).",
        effort: Effort::Hours,
        cwe: Some("CWE-307"),
        cvss: Some(8.1),
        compliance: &[
            (Owasp, "A07:2021"),
            (Cis, "4.8"),
            (Soc2, "CC6.1"),
            (Iso27001, "A.8.5"),
            (PciDss, "8.3.1"),
        ],
        run: auth_ssh_password,
    },
    CheckInfo {
        id: "AUTH-004",
        title: "SSH keys shared between staff members",
        category: Category::Authentication,
        description: "One public key is registered for several staff members, so their actions cannot be told apart and revoking one revokes neither.",
        remediation: "Give each person their own key; remove the shared key from all but one account.",
        effort: Effort::Hours,
        cwe: Some("CWE-287"),
        cvss: Some(6.5),
        compliance: &[
            (Owasp, "A07:2021"),
            (Cis, "5.1"),
            (Soc2, "CC6.2"),
            (Iso27001, "A.5.16"),
            (PciDss, "8.2.2"),
        ],
        run: auth_shared_keys,
    },
    CheckInfo {
        id: "AUTH-005",
        title: "Weak SSH keys",
        category: Category::Authentication,
        description: "DSA keys and RSA keys under 3072 bits fall short of 128-bit security (NIST SP 800-57); the SSH server refuses them at login.",
        remediation: "Replace the listed keys with ed25519 keys (`ssh-keygen -t ed25519`).",
        effort: Effort::Hours,
        cwe: Some("CWE-326"),
        cvss: Some(5.9),
        compliance: &[
            (Owasp, "A02:2021"),
            (Cis, "3.10"),
            (Iso27001, "A.8.24"),
            (PciDss, "4.2.1"),
        ],
        run: auth_weak_keys,
    },
    CheckInfo {
        id: "AUTH-006",
        title: "Inactive staff keep credentials",
        category: Category::Authentication,
        description: "Deactivated staff members still have SSH keys or a password on record; reactivating the account silently restores access.",
        remediation: "Remove the keys and password of staff members who left.",
        effort: Effort::Minutes,
        cwe: Some("CWE-613"),
        cvss: Some(4.3),
        compliance: &[
            (Cis, "5.3"),
            (Soc2, "CC6.2"),
            (Iso27001, "A.5.18"),
            (PciDss, "8.2.6"),
        ],
        run: auth_inactive_credentials,
    },
    CheckInfo {
        id: "AUTH-007",
        title: "Idle sessions do not expire",
        category: Category::Authentication,
        description: "Console sessions stay open indefinitely (or longer than 12 hours) when left idle.",
        remediation: "Set RUSTOK_SESSION_TIMEOUT_MINUTES to 30 or less.",
        effort: Effort::Minutes,
        cwe: Some("CWE-613"),
        cvss: Some(4.2),
        compliance: &[
            (Owasp, "A07:2021"),
            (Cis, "4.3"),
            (Iso27001, "A.8.5"),
            (PciDss, "8.2.8"),
        ],
        run: auth_session_timeout,
    },
    CheckInfo {
        id: "AUTHZ-001",
        title: "Too many owners",
        category: Category::Authorization,
        description: "More than two active owners: the role that can do everything, including granting itself, should be rare.",
        remediation: "Demote owners who do not need it: `rustok staff role HANDLE admin`.",
        effort: Effort::Minutes,
        cwe: Some("CWE-250"),
        cvss: None,
        compliance: &[
            (Owasp, "A01:2021"),
            (Cis, "5.4"),
            (Soc2, "CC6.3"),
            (Iso27001, "A.8.2"),
            (PciDss, "7.2.1"),
        ],
        run: authz_many_owners,
    },
    CheckInfo {
        id: "AUTHZ-002",
        title: "No active owner",
        category: Category::Authorization,
        description: "No active staff member holds the owner role, so nobody can grant it or recover an admin lock-out.",
        remediation: "Have an owner re-activate or promote a trusted member to owner.",
        effort: Effort::Minutes,
        cwe: Some("CWE-284"),
        cvss: None,
        compliance: &[(Soc2, "CC6.3"), (Iso27001, "A.5.15"), (Cis, "5.1")],
        run: authz_no_owner,
    },
    CheckInfo {
        id: "AUTHZ-003",
        title: "Repeated permission denials",
        category: Category::Authorization,
        description: "Ten or more commands were denied in the last 24 hours: someone may be probing for permissions they lack.",
        remediation: "Review `rustok audit log` for the denied actors and commands; adjust roles or investigate.",
        effort: Effort::Hours,
        cwe: Some("CWE-285"),
        cvss: None,
        compliance: &[
            (Owasp, "A01:2021"),
            (Cis, "8.11"),
            (Soc2, "CC7.2"),
            (Iso27001, "A.8.16"),
        ],
        run: authz_denials,
    },
    CheckInfo {
        id: "AUTHZ-004",
        title: "Most staff are privileged",
        category: Category::Authorization,
        description: "More than half of the active staff are owners or admins; least privilege says most should be managers, editors or support.",
        remediation: "Give staff the narrowest role that covers their work (`rustok staff role HANDLE manager`).",
        effort: Effort::Hours,
        cwe: Some("CWE-269"),
        cvss: None,
        compliance: &[
            (Owasp, "A01:2021"),
            (Cis, "6.8"),
            (Soc2, "CC6.3"),
            (Iso27001, "A.8.2"),
            (PciDss, "7.2.2"),
        ],
        run: authz_privileged_share,
    },
    CheckInfo {
        id: "INPUT-001",
        title: "Stored text with control characters",
        category: Category::InputValidation,
        description: "Titles, excerpts or names hold control characters such as escape sequences, which could drive a terminal that prints them raw.",
        remediation: "Find and edit the offending records; the console escapes them when it prints, other tools may not.",
        effort: Effort::Hours,
        cwe: Some("CWE-150"),
        cvss: Some(4.3),
        compliance: &[(Owasp, "A03:2021"), (Cis, "16.1"), (Iso27001, "A.8.28")],
        run: input_control_chars,
    },
    CheckInfo {
        id: "INPUT-002",
        title: "Staff handles that fail validation",
        category: Category::InputValidation,
        description: "Staff records whose handle breaks today's rules (imported or written outside the console).",
        remediation: "Re-create the accounts under valid handles and deactivate the old ones.",
        effort: Effort::Hours,
        cwe: Some("CWE-20"),
        cvss: None,
        compliance: &[(Owasp, "A03:2021"), (Iso27001, "A.8.28")],
        run: input_invalid_staff,
    },
    CheckInfo {
        id: "DATA-001",
        title: "Database password in the URL",
        category: Category::DataProtection,
        description: "The database URL carries a password; it ends up in shell history, process lists and config files.",
        remediation: "Use a .pgpass file or PGPASSWORD from a secret store and drop the password from RUSTOK_DATABASE_URL.",
        effort: Effort::Minutes,
        cwe: Some("CWE-798"),
        cvss: Some(5.5),
        compliance: &[
            (Owasp, "A07:2021"),
            (Cis, "3.11"),
            (Soc2, "CC6.1"),
            (Iso27001, "A.5.17"),
            (PciDss, "8.3.2"),
        ],
        run: data_password_in_url,
    },
    CheckInfo {
        id: "DATA-002",
        title: "Remote PostgreSQL without TLS",
        category: Category::DataProtection,
        description: "The database is on another host and the connection is not required to be encrypted: customer data and credentials cross the network in clear text.",
        remediation: "Add `sslmode=verify-full` (with the server's CA) to the database URL.",
        effort: Effort::Hours,
        cwe: Some("CWE-319"),
        cvss: Some(7.4),
        compliance: &[
            (Owasp, "A02:2021"),
            (Cis, "3.10"),
            (Soc2, "CC6.7"),
            (Iso27001, "A.8.24"),
            (PciDss, "4.2.1"),
            (Gdpr, "Art. 32"),
        ],
        run: data_no_tls,
    },
    CheckInfo {
        id: "DATA-003",
        title: "TLS without certificate verification",
        category: Category::DataProtection,
        description: "The remote database connection is encrypted but the server's certificate is not verified, so a machine in the middle can impersonate it.",
        remediation: "Use `sslmode=verify-full` and point `sslrootcert` at the server's CA.",
        effort: Effort::Hours,
        cwe: Some("CWE-295"),
        cvss: Some(5.9),
        compliance: &[
            (Owasp, "A02:2021"),
            (Cis, "3.10"),
            (Iso27001, "A.8.24"),
            (PciDss, "4.2.1"),
        ],
        run: data_tls_unverified,
    },
    CheckInfo {
        id: "DATA-004",
        title: "Database file readable by every user",
        category: Category::DataProtection,
        description: "The SQLite database file can be read (or written) by any local user: orders, customers and staff records included.",
        remediation: "`chmod 600` the database file (and its -wal/-shm files).",
        effort: Effort::Minutes,
        cwe: Some("CWE-732"),
        cvss: Some(5.5),
        compliance: &[
            (Owasp, "A01:2021"),
            (Cis, "3.3"),
            (Soc2, "CC6.1"),
            (Iso27001, "A.8.3"),
            (PciDss, "7.2.1"),
            (Gdpr, "Art. 32"),
        ],
        run: data_world_readable,
    },
    CheckInfo {
        id: "DATA-005",
        title: "Loose database file or directory permissions",
        category: Category::DataProtection,
        description: "The database file is group-accessible, or its directory is world-writable (anyone can replace the file).",
        remediation: "`chmod 600` the file and `chmod 700` its directory.",
        effort: Effort::Minutes,
        cwe: Some("CWE-276"),
        cvss: Some(3.3),
        compliance: &[(Cis, "3.3"), (Iso27001, "A.8.3")],
        run: data_group_access,
    },
    CheckInfo {
        id: "EVT-001",
        title: "Dead letters in the outbox",
        category: Category::EventSystem,
        description: "Events that failed delivery five times: their consumers never saw them (emails, projections, integrations are behind).",
        remediation: "Read the errors (`rustok outbox dead`), fix the consumer, then `rustok outbox retry`.",
        effort: Effort::Hours,
        cwe: Some("CWE-755"),
        cvss: None,
        compliance: &[(Soc2, "A1.2"), (Iso27001, "A.8.16"), (Cis, "8.2")],
        run: evt_dead_letters,
    },
    CheckInfo {
        id: "EVT-002",
        title: "Stored events fail validation",
        category: Category::EventSystem,
        description: "Events in the store fail envelope or payload validation: written outside the console or corrupted.",
        remediation: "Inspect the listed events (`rustok events list`), find the writer, and repair or quarantine them.",
        effort: Effort::Days,
        cwe: Some("CWE-20"),
        cvss: Some(6.5),
        compliance: &[(Owasp, "A08:2021"), (Soc2, "PI1.2"), (Iso27001, "A.8.28")],
        run: evt_invalid,
    },
    CheckInfo {
        id: "EVT-003",
        title: "Events waiting for delivery",
        category: Category::EventSystem,
        description: "Pending events older than five minutes: no relay is delivering (no console open, no `rustok outbox relay`).",
        remediation: "Run a relay (`rustok outbox relay`) or keep a console open.",
        effort: Effort::Minutes,
        cwe: Some("CWE-400"),
        cvss: None,
        compliance: &[(Soc2, "A1.1"), (Iso27001, "A.8.6")],
        run: evt_stale,
    },
    CheckInfo {
        id: "EVT-004",
        title: "Events by unknown actors",
        category: Category::EventSystem,
        description: "Stored events name an actor who is not a staff member, so the change cannot be attributed.",
        remediation: "Find the writers of those events; give every automation its own staff account.",
        effort: Effort::Hours,
        cwe: Some("CWE-778"),
        cvss: None,
        compliance: &[
            (Owasp, "A09:2021"),
            (Cis, "8.5"),
            (Soc2, "CC7.2"),
            (Iso27001, "A.8.15"),
        ],
        run: evt_unknown_actor,
    },
    CheckInfo {
        id: "INFRA-001",
        title: "Rate limits are off",
        category: Category::Infrastructure,
        description: "Nothing limits how fast a session may send commands or SSH login attempts.",
        remediation: "Set RUSTOK_RATE_LIMITS=on.",
        effort: Effort::Minutes,
        cwe: Some("CWE-770"),
        cvss: Some(5.3),
        compliance: &[
            (Owasp, "A04:2021"),
            (Cis, "13.10"),
            (Iso27001, "A.8.6"),
            (Soc2, "A1.1"),
        ],
        run: infra_rate_limits,
    },
    CheckInfo {
        id: "INFRA-002",
        title: "Audit logging disabled",
        category: Category::Infrastructure,
        description: "Staff actions are not written to the audit log: nobody can tell afterwards who did what.",
        remediation: "Unset RUSTOK_AUDIT_LOG=off.",
        effort: Effort::Minutes,
        cwe: Some("CWE-778"),
        cvss: Some(5.3),
        compliance: &[
            (Owasp, "A09:2021"),
            (Cis, "8.2"),
            (Soc2, "CC7.2"),
            (Iso27001, "A.8.15"),
            (PciDss, "10.2.1"),
            (Gdpr, "Art. 30"),
        ],
        run: infra_audit_log_off,
    },
    CheckInfo {
        id: "INFRA-003",
        title: "Changes without audit entries",
        category: Category::Infrastructure,
        description: "Events were written but the audit log is empty: changes came from somewhere that does not record staff actions.",
        remediation: "Make every writer go through the console or CLI; investigate the events' actors.",
        effort: Effort::Hours,
        cwe: Some("CWE-778"),
        cvss: None,
        compliance: &[
            (Owasp, "A09:2021"),
            (Cis, "8.2"),
            (Soc2, "CC7.2"),
            (PciDss, "10.2.1"),
        ],
        run: infra_unaudited_changes,
    },
    CheckInfo {
        id: "INFRA-004",
        title: "Unknown or permissive SSH host key policy",
        category: Category::Infrastructure,
        description: "The SSH host key policy is unset or accepts any key, so a server impersonation goes unnoticed.",
        remediation: "Set RUSTOK_SSH_HOST_KEY_POLICY=strict (or accept-new) and pin the host key.",
        effort: Effort::Minutes,
        cwe: Some("CWE-295"),
        cvss: Some(4.8),
        compliance: &[(Cis, "4.1"), (Iso27001, "A.8.20"), (PciDss, "4.2.1")],
        run: infra_host_keys,
    },
    CheckInfo {
        id: "TEN-001",
        title: "Tenant without active staff",
        category: Category::TenantSecurity,
        description: "No active staff member has worked in this tenant: nobody watches its orders and content.",
        remediation: "Assign staff to the tenant or deactivate it.",
        effort: Effort::Hours,
        cwe: None,
        cvss: None,
        compliance: &[(Soc2, "CC1.3"), (Iso27001, "A.5.2")],
        run: ten_no_staff,
    },
    CheckInfo {
        id: "TEN-002",
        title: "Cross-tenant references",
        category: Category::TenantSecurity,
        description: "Rows of this tenant refer to another tenant's data (translations of a foreign node, order lines of a foreign order): tenant isolation is broken.",
        remediation: "Stop writes, find the writer, and move or delete the offending rows; every query must filter by tenant.",
        effort: Effort::Days,
        cwe: Some("CWE-639"),
        cvss: Some(8.1),
        compliance: &[
            (Owasp, "A01:2021"),
            (Cis, "3.3"),
            (Soc2, "CC6.1"),
            (Iso27001, "A.8.3"),
            (Gdpr, "Art. 32"),
        ],
        run: ten_cross_rows,
    },
    CheckInfo {
        id: "TEN-003",
        title: "Invalid tenant slug",
        category: Category::TenantSecurity,
        description: "The tenant's slug breaks today's rules or is a reserved word, which can collide with routes such as admin or api.",
        remediation: "Create a tenant with a valid slug and move the data.",
        effort: Effort::Days,
        cwe: Some("CWE-20"),
        cvss: None,
        compliance: &[(Owasp, "A03:2021"), (Iso27001, "A.8.28")],
        run: ten_invalid_slug,
    },
    CheckInfo {
        id: "TEN-004",
        title: "Tenant isolation not verified",
        category: Category::TenantSecurity,
        description: "The isolation probe (cross-tenant references) could not run for this tenant.",
        remediation: "Re-run the audit with a database user that can read every table.",
        effort: Effort::Minutes,
        cwe: Some("CWE-639"),
        cvss: None,
        compliance: &[(Soc2, "CC4.1"), (Iso27001, "A.8.29")],
        run: ten_isolation_unchecked,
    },
];

/// Runs every check over `input`: all findings, most severe first.
pub fn run_checks(input: &AuditInput) -> Vec<Finding> {
    let mut out = Vec::new();
    for c in CHECKS {
        for h in (c.run)(input) {
            out.push(Finding {
                id: c.id.to_string(),
                title: c.title.to_string(),
                category: c.category,
                severity: h.severity,
                description: c.description.to_string(),
                evidence: h.evidence,
                remediation: Remediation {
                    steps: c.remediation.to_string(),
                    effort: c.effort,
                },
                cwe: c.cwe.map(str::to_string),
                cvss: c.cvss,
                compliance: c
                    .compliance
                    .iter()
                    .map(|(f, id)| Control {
                        framework: *f,
                        control: id.to_string(),
                    })
                    .collect(),
                tenant: h.tenant,
            });
        }
    }
    out.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)));
    out
}
