//! Every security audit check: one test where it fires and one where it does not, over a
//! clean baseline snapshot; plus scoring, batch reports and the HTML report's validity.

use chrono::{TimeZone, Utc};
use rustok_domain::StaffId;
use rustok_domain::audit::{
    AuditInput, AuditLogFacts, AuditReport, BatchReport, CHECKS, DatabaseFacts, OutboxFacts,
    SecurityConfig, Severity, TenantFacts, run_checks,
};
use rustok_domain::rbac::Role;
use rustok_domain::staff::{SshKey, Staff};

const ALICE_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHgiZPlMpwusZJHGccg3sfLIXCj4Og2G8s7+LltunsoQ alice@laptop";
const BOB_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIf97d1YOEoHVhbsokfN0gA9+IbPDd9c8ORH3msVxMEF bob@desk";
const RSA1024: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC+uyKxcAoyRUt3FleG0NcF5exiN5VfennzVfIR7pL3e9e8IZEh6vPdhQR6pdQTyvyZ2SdygXRCsxrHM3U360o9Qub2kYDE5TmJR9fF0R4Cqo49J/uzzZqG+kaAEF5T6HwZUssmQc0RO2OuIQxhhouz8qDNa9HrLfHPepg/k+uFUQ== old@box";

fn member(handle: &str, role: Role, key: Option<&str>) -> Staff {
    let t = Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap();
    Staff {
        id: StaffId::new_v7(),
        handle: handle.into(),
        display_name: handle.to_uppercase(),
        role,
        ssh_keys: key.map(|k| SshKey::parse(k).unwrap()).into_iter().collect(),
        mfa_enabled: true,
        password_hash: None,
        has_password: false,
        active: true,
        created_at: t,
        updated_at: t,
    }
}

/// A deployment where no check fires.
fn clean() -> AuditInput {
    AuditInput {
        staff: vec![member("alice", Role::Owner, Some(ALICE_KEY))],
        tenants: vec![TenantFacts {
            slug: "acme".into(),
            name: "Acme".into(),
            is_active: true,
            active_staff: 1,
            cross_tenant_rows: 0,
            isolation_checked: true,
        }],
        database: DatabaseFacts {
            file_mode: Some(0o600),
            dir_mode: Some(0o700),
            ..DatabaseFacts::from_url("sqlite:///var/lib/rustok/rustok.db")
        },
        config: SecurityConfig::default(),
        outbox: OutboxFacts::default(),
        invalid_events: 0,
        events_by_unknown_actor: 0,
        events_total: 12,
        audit_log: AuditLogFacts {
            entries: 12,
            denied_last_day: 0,
        },
        suspicious_text: 0,
    }
}

fn ids(input: &AuditInput) -> Vec<String> {
    run_checks(input).into_iter().map(|f| f.id).collect()
}

#[test]
fn the_baseline_is_clean_and_scores_100() {
    assert_eq!(ids(&clean()), Vec::<String>::new());
    let r = AuditReport::run(&clean(), Some("acme"), Utc::now());
    assert_eq!((r.score, r.passed, r.checks_run), (100, true, CHECKS.len()));
}

#[test]
fn there_are_at_least_20_checks_over_all_7_categories_with_full_metadata() {
    assert!(CHECKS.len() >= 20, "{}", CHECKS.len());
    for c in rustok_domain::audit::Category::ALL {
        assert!(CHECKS.iter().any(|k| k.category == c), "{c:?} has no check");
    }
    let mut seen = std::collections::HashSet::new();
    for c in CHECKS {
        assert!(seen.insert(c.id), "duplicate id {}", c.id);
        assert!(!c.compliance.is_empty(), "{} maps to no control", c.id);
        assert!(!c.remediation.is_empty() && !c.description.is_empty());
    }
}

macro_rules! check_cases {
    ($($name:ident: $id:literal => |$i:ident| $mutate:block;)+) => {
        $(
            mod $name {
                use super::*;

                #[test]
                fn fires() {
                    let mut $i = clean();
                    $mutate
                    let found = run_checks(&$i);
                    let f = found.iter().find(|f| f.id == $id);
                    let f = f.unwrap_or_else(|| panic!("{} did not fire: {:?}", $id, ids(&$i)));
                    assert!(!f.evidence.is_empty() && !f.evidence[0].is_empty());
                    assert!(!f.remediation.steps.is_empty());
                    assert!(!f.compliance.is_empty());
                    assert!(CHECKS.iter().any(|c| c.id == $id && c.category == f.category));
                }

                #[test]
                fn does_not_fire_when_clean() {
                    assert!(!ids(&clean()).contains(&$id.to_string()));
                }
            }
        )+
    };
}

check_cases! {
    auth_001_mfa: "AUTH-001" => |i| { i.staff[0].mfa_enabled = false; };
    auth_002_password_hash: "AUTH-002" => |i| { i.staff[0].password_hash = Some("$2b$12$abcdefghijklmnopqrstuv".into()); };
    auth_003_ssh_password: "AUTH-003" => |i| { i.config.ssh_password_auth = true; };
    auth_004_shared_keys: "AUTH-004" => |i| { i.staff.push(member("bob", Role::Manager, Some(ALICE_KEY))); };
    auth_005_weak_keys: "AUTH-005" => |i| { i.staff[0].ssh_keys.push(SshKey::parse(RSA1024).unwrap()); };
    auth_006_inactive_credentials: "AUTH-006" => |i| {
        let mut gone = member("gone", Role::Editor, Some(BOB_KEY));
        gone.active = false;
        i.staff.push(gone);
    };
    auth_007_session_timeout: "AUTH-007" => |i| { i.config.session_timeout_minutes = None; };
    authz_001_many_owners: "AUTHZ-001" => |i| {
        i.staff.push(member("bob", Role::Owner, Some(BOB_KEY)));
        i.staff.push(member("carol", Role::Owner, None));
    };
    authz_002_no_owner: "AUTHZ-002" => |i| { i.staff[0].role = Role::Admin; };
    authz_003_denials: "AUTHZ-003" => |i| { i.audit_log.denied_last_day = 10; };
    authz_004_privileged_share: "AUTHZ-004" => |i| {
        i.staff.push(member("bob", Role::Admin, None));
        i.staff.push(member("carol", Role::Editor, None));
        i.staff.push(member("dave", Role::Admin, None));
    };
    input_001_control_chars: "INPUT-001" => |i| { i.suspicious_text = 1; };
    input_002_invalid_handle: "INPUT-002" => |i| { i.staff.push(member("Bad Handle", Role::Support, None)); };
    data_001_password_in_url: "DATA-001" => |i| {
        i.database = DatabaseFacts::from_url("postgres://app:secret@127.0.0.1/rustok");
    };
    data_002_no_tls: "DATA-002" => |i| { i.database = DatabaseFacts::from_url("postgres://app@db.example.com/rustok"); };
    data_003_tls_unverified: "DATA-003" => |i| {
        i.database = DatabaseFacts::from_url("postgres://app@db.example.com/rustok?sslmode=require");
    };
    data_004_world_readable: "DATA-004" => |i| { i.database.file_mode = Some(0o644); };
    data_005_group_access: "DATA-005" => |i| { i.database.file_mode = Some(0o640); };
    evt_001_dead_letters: "EVT-001" => |i| { i.outbox.failed = 3; };
    evt_002_invalid_events: "EVT-002" => |i| { i.invalid_events = 1; };
    evt_003_stale_pending: "EVT-003" => |i| { i.outbox.pending = 4; i.outbox.stale_pending = 2; };
    evt_004_unknown_actor: "EVT-004" => |i| { i.events_by_unknown_actor = 5; };
    infra_001_rate_limits: "INFRA-001" => |i| { i.config.rate_limits_enabled = false; };
    infra_002_audit_log_off: "INFRA-002" => |i| { i.config.audit_log_enabled = false; };
    infra_003_unaudited_changes: "INFRA-003" => |i| { i.audit_log.entries = 0; };
    infra_004_host_keys: "INFRA-004" => |i| { i.config.ssh_host_key_policy = "unset".into(); };
    ten_001_no_staff: "TEN-001" => |i| { i.tenants[0].active_staff = 0; };
    ten_002_cross_tenant: "TEN-002" => |i| { i.tenants[0].cross_tenant_rows = 2; };
    ten_003_invalid_slug: "TEN-003" => |i| { i.tenants[0].slug = "admin".into(); };
    ten_004_isolation_unchecked: "TEN-004" => |i| { i.tenants[0].isolation_checked = false; };
}

#[test]
fn every_check_has_a_case() {
    let src = include_str!("audit_checks.rs");
    for c in CHECKS {
        assert!(
            src.contains(&format!("\"{}\" =>", c.id)),
            "{} has no test",
            c.id
        );
    }
}

#[test]
fn severities_follow_the_facts() {
    let mut i = clean();
    i.staff.push(member("ed", Role::Editor, None));
    i.staff[1].mfa_enabled = false;
    assert_eq!(
        run_checks(&i)[0].severity,
        Severity::Medium,
        "an editor without MFA"
    );
    i.staff[0].mfa_enabled = false;
    assert_eq!(
        run_checks(&i)[0].severity,
        Severity::High,
        "an owner without MFA"
    );
    let mut i = clean();
    i.outbox.failed = 100;
    assert_eq!(run_checks(&i)[0].severity, Severity::High);
    let mut i = clean();
    i.staff.push(member("bob", Role::Owner, Some(ALICE_KEY)));
    let f = run_checks(&i);
    assert_eq!(
        (f[0].id.as_str(), f[0].severity),
        ("AUTH-004", Severity::Critical),
        "owners sharing a key"
    );
}

#[test]
fn score_subtracts_penalties_with_a_floor_and_passes_at_80() {
    let mut i = clean();
    i.config.session_timeout_minutes = None; // warning −5
    i.suspicious_text = 1; // medium −8
    let r = AuditReport::run(&i, None, Utc::now());
    assert_eq!((r.score, r.passed), (87, true));
    i.config.ssh_password_auth = true; // high −15
    let r = AuditReport::run(&i, None, Utc::now());
    assert_eq!((r.score, r.passed), (72, false));
    assert_eq!(
        (r.counts.high, r.counts.medium, r.counts.warning),
        (1, 1, 1)
    );
    i.tenants[0].cross_tenant_rows = 1; // critical −25
    i.outbox.failed = 500; // high −15
    i.invalid_events = 1; // high −15
    let r = AuditReport::run(&i, None, Utc::now());
    assert_eq!(r.score, 17);
    i.config.audit_log_enabled = false; // high −15
    i.config.rate_limits_enabled = false; // medium −8
    let r = AuditReport::run(&i, None, Utc::now());
    assert_eq!((r.score, r.passed), (0, false), "never below 0");
}

#[test]
fn batch_gives_one_report_per_tenant_and_a_summary() {
    let mut i = clean();
    i.tenants.push(TenantFacts {
        slug: "globex".into(),
        name: "Globex".into(),
        is_active: true,
        active_staff: 0,
        cross_tenant_rows: 3,
        isolation_checked: true,
    });
    let b = BatchReport::run(&i, None, Utc::now());
    assert_eq!(b.reports.len(), 2);
    assert_eq!(b.summary[0].tenant, "acme");
    assert_eq!((b.summary[0].score, b.summary[0].passed), (100, true));
    assert_eq!(b.summary[1].score, 100 - 25 - 5);
    assert!(!b.all_passed);
    assert_eq!(b.lowest_score, 70);
    assert!(
        b.reports[0].findings.is_empty(),
        "globex's findings stay in globex's report"
    );
    let json: serde_json::Value = serde_json::from_str(&b.to_json()).unwrap();
    assert_eq!(json["reports"].as_array().unwrap().len(), 2);
    let md = b.to_markdown();
    assert!(md.contains("| globex | 70 | failed |"), "{md}");
}

#[test]
fn json_report_has_every_field() {
    let mut i = clean();
    i.staff[0].mfa_enabled = false;
    let r = AuditReport::run(&i, Some("acme"), Utc::now());
    let v: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(v["score"], 85);
    assert_eq!(v["passed"], true);
    let f = &v["findings"][0];
    for field in [
        "id",
        "title",
        "category",
        "severity",
        "description",
        "evidence",
        "remediation",
        "cwe",
        "cvss",
        "compliance",
    ] {
        assert!(!f[field].is_null(), "{field} missing in {f}");
    }
    assert_eq!(f["severity"], "high");
    assert_eq!(f["category"], "authentication");
    assert_eq!(f["cwe"], "CWE-308");
    assert!(f["remediation"]["effort"].is_string());
    assert_eq!(f["compliance"][0]["framework"], "OWASP Top 10");
}

#[test]
fn html_report_is_valid_and_escapes_user_text() {
    use scraper::{Html, Selector};
    let mut i = clean();
    i.staff[0].mfa_enabled = false;
    i.staff[0].display_name = "<script>alert('x')</script>".into();
    i.tenants[0].slug = "acme".into();
    i.outbox.failed = 2;
    let html = AuditReport::run(&i, Some("acme"), Utc::now()).to_html();
    let doc = Html::parse_document(&html);
    assert!(doc.errors.is_empty(), "parse errors: {:?}", doc.errors);
    let sel = |s: &str| Selector::parse(s).unwrap();
    assert_eq!(doc.select(&sel("html > head > title")).count(), 1);
    assert_eq!(
        doc.select(&sel("script")).count(),
        0,
        "no script element may appear"
    );
    assert_eq!(doc.select(&sel("article.finding")).count(), 2);
    assert_eq!(doc.select(&sel("table.counts tbody tr")).count(), 6);
    let evidence: Vec<String> = doc
        .select(&sel("article.finding ul.evidence li"))
        .map(|e| e.text().collect())
        .collect();
    assert!(
        evidence
            .iter()
            .any(|e| e.contains("<script>alert('x')</script>")),
        "the display name shows as text: {evidence:?}"
    );
    assert!(html.contains("&lt;script&gt;"));
    assert!(!html.contains("<script>"));
    let b = BatchReport::run(&i, None, Utc::now()).to_html();
    let doc = Html::parse_document(&b);
    assert!(doc.errors.is_empty(), "{:?}", doc.errors);
    assert_eq!(doc.select(&sel("table.summary tbody tr")).count(), 1);
    assert_eq!(doc.select(&sel("section.report")).count(), 1);
}

#[test]
fn markdown_report_lists_findings_and_escapes() {
    let mut i = clean();
    i.staff[0].mfa_enabled = false;
    i.staff[0].display_name = "a|b **bold**".into();
    let md = AuditReport::run(&i, Some("acme"), Utc::now()).to_markdown();
    assert!(md.contains("## AUTH-001"), "{md}");
    assert!(md.contains("a\\|b \\*\\*bold\\*\\*"), "{md}");
    assert!(md.contains("**Remediation** (effort: minutes)"));
}

#[test]
fn fixing_a_finding_removes_it_and_changes_the_fingerprint() {
    let mut i = clean();
    i.staff[0].mfa_enabled = false;
    let before = i.fingerprint();
    assert!(ids(&i).contains(&"AUTH-001".to_string()));
    i.staff[0].mfa_enabled = true;
    assert!(!ids(&i).contains(&"AUTH-001".to_string()));
    assert_ne!(before, i.fingerprint());
    assert_eq!(i.fingerprint(), clean().fingerprint_with_staff(&i));
}

trait SameStaff {
    fn fingerprint_with_staff(self, other: &AuditInput) -> String;
}

impl SameStaff for AuditInput {
    /// The fingerprint of `self` with `other`'s staff (ids are random per `member`).
    fn fingerprint_with_staff(mut self, other: &AuditInput) -> String {
        self.staff = other.staff.clone();
        self.fingerprint()
    }
}
