//! The Audit pane: snapshots (120×40 TestBackend, like the other views) of the summary and
//! findings, a finding's detail, the filters, the no-permission message, the audit log and
//! the staff views; and the operations its keys start (re-run, export, monitoring).
//! Reports are the real checks run over fixture input (`support::audit_input`).

use crate::support;

use ratatui::crossterm::event::KeyCode;
use rustok_domain::audit::{AuditReport, Severity};
use rustok_domain::{DomainError, event::DomainEvent};
use rustok_ui::{AuditTrigger, Effect, Failure, Msg, ReportFormat};
use support::*;

#[test]
fn summary_and_findings() {
    let mut h = Harness::audited();
    assert_eq!(h.audit_runs, 1, "opening the pane runs the audit once");
    let screen = h.screen();
    let r = h.report.clone().unwrap();
    assert!(screen.contains(&format!("{}/100", r.score)));
    assert!(screen.contains("AUTH-001"), "staff without MFA is found");
    assert!(screen.contains("ran 3 min ago by you"));
    insta::assert_snapshot!(screen);
}

#[test]
fn findings_are_sorted_by_severity() {
    let mut h = Harness::audited();
    let r = h.report.clone().unwrap();
    let screen = h.screen();
    let mut last = Severity::Critical;
    let mut seen = 0;
    for line in screen.lines() {
        for s in Severity::DESCENDING {
            if line.contains(&format!("│{:<9}", s.as_str().to_uppercase())) {
                assert!(s <= last, "{s} listed after {last}");
                last = s;
                seen += 1;
            }
        }
    }
    assert_eq!(seen, r.findings.len(), "every finding is listed once");
}

#[test]
fn finding_detail() {
    let mut h = Harness::audited();
    // Select the staff-without-MFA finding through the filter, then open it.
    h.chars("/AUTH-001");
    h.key(KeyCode::Enter);
    h.key(KeyCode::Enter);
    let screen = h.screen();
    for want in [
        "Staff without multi-factor authentication",
        "Evidence",
        "bob",
        "Remediation",
        "effort",
        "CWE-308",
        "Compliance",
        "OWASP Top 10",
    ] {
        assert!(screen.contains(want), "detail shows {want}");
    }
    insta::assert_snapshot!(screen);
}

/// A detail longer than the screen scrolls with PgUp/PgDn and Home/End, says which lines it
/// shows, stops at its last line, and starts at the top again for the next item.
#[test]
fn a_long_detail_scrolls() {
    // Thirty staff without MFA: the finding's evidence alone is longer than the screen.
    let mut h = Harness::shop();
    h.staff = (0..30)
        .map(|i| {
            staff_member(
                10 + i,
                &format!("staff{i:02}"),
                &format!("Staff {i}"),
                rustok_domain::rbac::Role::Editor,
                false,
                &[],
            )
        })
        .collect();
    h.audit_log = fixture_log(60);
    h.report = Some(fixture_report(h.staff.clone()));
    h.send(Msg::Clock(at(33)));
    h.key(KeyCode::Char('6'));
    h.chars("/AUTH-001");
    h.key(KeyCode::Enter);
    h.key(KeyCode::Enter);
    let top = h.screen();
    assert!(top.contains("Category") && top.contains("staff00"), "{top}");
    assert!(
        !top.contains("Compliance"),
        "the end is below the screen:\n{top}"
    );
    assert!(
        top.contains("· lines 1–"),
        "the title says it scrolls:\n{top}"
    );
    assert!(top.contains("PgUp/PgDn scroll"), "{top}");

    h.key(KeyCode::PageDown);
    let end = h.screen();
    for want in ["staff29", "Remediation", "Compliance", "PCI DSS"] {
        assert!(end.contains(want), "{want} is reached:\n{end}");
    }
    assert!(!end.contains("Category"), "the top scrolled away:\n{end}");
    insta::assert_snapshot!(end);

    // It stops at the last line: further pages change nothing, End shows the same.
    h.key(KeyCode::PageDown);
    assert_eq!(h.screen(), end, "no scrolling past the end");
    h.key(KeyCode::End);
    assert_eq!(h.screen(), end);
    // PgUp goes back up at once (no hidden overshoot to climb back from); Home is the top.
    h.key(KeyCode::PageUp);
    assert!(h.screen().contains("staff00") || h.screen().contains("Evidence"));
    assert_ne!(h.screen(), end);
    h.key(KeyCode::Home);
    assert_eq!(h.screen(), top);

    // ↓ opens the next finding at its top.
    h.key(KeyCode::PageDown);
    h.key(KeyCode::Up);
    h.key(KeyCode::Down);
    assert_eq!(
        h.screen(),
        top,
        "the same finding again, from its first line"
    );
}

#[test]
fn findings_filtered_and_by_severity() {
    let mut h = Harness::audited();
    h.chars("/dead letter");
    let filtered = h.screen();
    assert!(filtered.contains("EVT-001") && !filtered.contains("AUTH-001"));
    insta::assert_snapshot!("findings_filtered", filtered);
    h.key(KeyCode::Esc);
    h.key(KeyCode::Esc);
    h.chars("vv");
    let screen = h.screen();
    assert!(screen.contains("high and above"));
    assert!(!screen.contains("│MEDIUM"), "medium findings are hidden");
    insta::assert_snapshot!("findings_high_and_above", screen);
}

#[test]
fn no_permission_is_a_clear_message() {
    let mut h = Harness::shop();
    h.deny_reads = true;
    h.key(KeyCode::Char('6'));
    let screen = h.screen();
    assert!(screen.contains("not permitted"));
    assert!(screen.contains("editor cannot run the security audit (needs audit:run)"));
    insta::assert_snapshot!("no_permission", screen);
    h.chars("l");
    let log = h.screen();
    assert!(log.contains("editor cannot read the audit log (needs audit:read)"));
    h.chars("s");
    let staff = h.screen();
    assert!(staff.contains("editor cannot list staff (needs staff:read)"));
    assert_eq!(h.audit_runs, 1, "a denied run is not retried on its own");
}

#[test]
fn audit_log_view() {
    let mut h = Harness::audited();
    h.chars("l");
    let screen = h.screen();
    assert!(screen.contains("60 entries, newest first"));
    // Newest first: entry 60 (dave, denied) is the first row.
    let first = screen
        .lines()
        .find(|l| l.contains("pay_order") || l.contains("set_staff_mfa"))
        .unwrap();
    assert!(
        first.contains("dave") && first.contains("denied"),
        "{first}"
    );
    insta::assert_snapshot!(screen);
}

/// `/` in the audit log filters it in the store (every change asks for the first page again):
/// only matching entries, their count in the title, the text on the input line; Esc clears.
#[test]
fn audit_log_filter() {
    let mut h = Harness::audited();
    h.chars("l");
    h.chars("/DENIED");
    let screen = h.screen();
    assert!(screen.contains("12 matching, newest first"), "{screen}");
    assert!(screen.contains("· /DENIED"), "{screen}");
    let rows: Vec<&str> = screen
        .lines()
        .filter(|l| {
            [
                "pay_order",
                "set_staff_mfa",
                "confirm_order",
                "publish_node",
                "create_order",
            ]
            .iter()
            .any(|c| l.contains(c))
        })
        .collect();
    assert_eq!(rows.len(), 12, "{screen}");
    assert!(
        rows.iter()
            .all(|l| l.contains("dave") && l.contains("denied")),
        "{screen}"
    );
    insta::assert_snapshot!(screen);

    // Enter keeps the filter; the list keys work on the matching entries.
    h.key(KeyCode::Enter);
    assert!(h.screen().contains("12 matching"));
    // No match says so.
    h.chars("/");
    h.chars("zzz");
    assert!(
        h.screen()
            .contains("No entry matches (Esc clears the filter).")
    );
    // Esc on the input line clears it: the whole log again.
    h.key(KeyCode::Esc);
    assert!(h.screen().contains("60 entries, newest first"));
    // Esc in the list clears a kept filter before it leaves the log.
    h.chars("/carol");
    h.key(KeyCode::Enter);
    assert!(h.screen().contains("12 matching"));
    h.key(KeyCode::Esc);
    let screen = h.screen();
    assert!(screen.contains("60 entries, newest first"), "{screen}");
}

#[test]
fn audit_log_pages_from_the_store() {
    let mut h = Harness::audited();
    h.audit_log = fixture_log(500);
    h.chars("l");
    h.key(KeyCode::End);
    let screen = h.screen();
    assert!(screen.contains("500 entries"));
    assert!(
        screen.contains("2026-11-20 09:01:00"),
        "the oldest entry is reached by paging"
    );
}

#[test]
fn staff_list() {
    let mut h = Harness::audited();
    h.chars("s");
    let screen = h.screen();
    for want in ["alice", "Bob Admin", "manager", "inactive", "SSH KEYS"] {
        assert!(screen.contains(want), "{want}");
    }
    insta::assert_snapshot!(screen);
}

#[test]
fn staff_detail() {
    let mut h = Harness::audited();
    h.chars("s");
    h.key(KeyCode::Down);
    h.key(KeyCode::Enter);
    let screen = h.screen();
    assert!(screen.contains("Bob Admin"));
    assert!(screen.contains("SHA256:"), "key fingerprints are shown");
    assert!(
        screen.contains("staff:read"),
        "the role's permissions are shown"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn staff_filter() {
    let mut h = Harness::audited();
    h.chars("s/carol");
    let screen = h.screen();
    assert!(screen.contains("carol") && !screen.contains("Bob Admin"));
}

#[test]
fn rerun_sends_the_effect() {
    let mut h = Harness::audited();
    let fx = h
        .app
        .update(Msg::Key(ratatui::crossterm::event::KeyEvent::new(
            KeyCode::Char('r'),
            ratatui::crossterm::event::KeyModifiers::NONE,
        )));
    assert_eq!(fx, vec![Effect::RunAudit]);
    assert!(h.screen().contains("re-running now"));
    h.run(fx);
    assert_eq!(h.audit_runs, 2);
    assert!(h.screen().contains("by you"));
}

#[test]
fn export_builds_the_right_effect() {
    let mut h = Harness::audited();
    h.chars("e");
    let dialog = h.screen();
    assert!(dialog.contains("./rustok-audit-acme-20261120-0933.html"));
    insta::assert_snapshot!("export_dialog", dialog);
    // Tab to Markdown, then edit the name.
    h.key(KeyCode::Tab);
    for _ in 0..".md".len() {
        h.key(KeyCode::Backspace);
    }
    h.chars(".markdown");
    h.key(KeyCode::Enter);
    let score = h.report.as_ref().unwrap().score;
    assert_eq!(
        h.exports,
        vec![(
            ReportFormat::Markdown,
            "./rustok-audit-acme-20261120-0933.markdown".to_string(),
            score
        )]
    );
    assert!(h.screen().contains("wrote the Markdown audit report to"));
    // Esc cancels without an export.
    h.chars("e");
    h.key(KeyCode::Esc);
    assert_eq!(h.exports.len(), 1);
}

#[test]
fn monitoring_report_replaces_the_old_one() {
    let mut h = Harness::audited();
    let before = h.report.clone().unwrap();
    assert!(before.findings.iter().any(|f| f.id == "AUTH-001"));
    // Everyone enables MFA (another process); monitoring re-runs the audit.
    let mut staff = fixture_staff();
    for s in &mut staff {
        s.mfa_enabled = true;
    }
    let mut after: AuditReport = fixture_report(staff);
    after.generated_at = at(34);
    h.send(Msg::Clock(at(35)));
    h.send(Msg::Audit(
        AuditTrigger::Automatic,
        Ok(Box::new(after.clone())),
    ));
    let screen = h.screen();
    assert!(!screen.contains("AUTH-001"), "the fixed finding is gone");
    assert!(screen.contains("automatically after a change"));
    assert!(screen.contains(&format!("score {} → {}", before.score, after.score)));
    assert!(screen.contains(&format!("{}/100", after.score)));
    // A report of another tenant (a run from before a switch) is ignored.
    let mut other = before.clone();
    other.tenant = Some("elsewhere".into());
    h.send(Msg::Audit(AuditTrigger::Automatic, Ok(Box::new(other))));
    assert!(!h.screen().contains("AUTH-001"));
}

#[test]
fn staff_events_ask_monitoring_to_check() {
    let mut h = Harness::audited();
    let payload = serde_json::json!({ "handle": "bob", "enabled": true });
    let event = DomainEvent::from_parts("staff.mfa_changed", &payload).expect("payload");
    let envelope = rustok_domain::event::EventEnvelope::new(
        &event,
        rustok_domain::event::EnvelopeMeta {
            id: rustok_domain::EventId::from_uuid(uuid::Uuid::from_u128(0xeee)),
            tenant_id: tenant().id,
            aggregate_id: uuid::Uuid::from_u128(0xa002),
            actor: "alice".into(),
            occurred_at: at(34),
            correlation_id: None,
            causation_id: None,
        },
    );
    assert_eq!(envelope.aggregate_type, "staff");
    let fx = h
        .app
        .update(Msg::Event(rustok_domain::event::LiveEvent::new(
            99, envelope,
        )));
    assert!(fx.contains(&Effect::CheckAudit), "{fx:?}");
}

#[test]
fn monitoring_losing_the_permission_says_so() {
    let mut h = Harness::audited();
    h.send(Msg::Audit(
        AuditTrigger::Automatic,
        Err(Failure::Domain(DomainError::denied(
            "support cannot run the security audit (needs audit:run)",
        ))),
    ));
    let screen = h.screen();
    assert!(screen.contains("not permitted"));
    assert!(
        !screen.contains("AUTH-001"),
        "the stale report is not shown"
    );
}

#[test]
fn staff_changes_ask_first_then_go_through_the_queue() {
    let mut h = Harness::audited();
    h.chars("s");
    h.key(KeyCode::Down); // bob, an admin without MFA
    h.chars("m");
    let dialog = h.screen();
    assert!(dialog.contains("Turn MFA on for bob?"));
    insta::assert_snapshot!("staff_mfa_confirm", dialog);
    h.chars("n");
    assert!(h.dispatched.is_empty(), "cancelled: nothing is sent");
    h.chars("m");
    h.chars("y");
    assert_eq!(
        h.dispatched
            .iter()
            .map(|(_, c)| c.clone())
            .collect::<Vec<_>>(),
        vec![rustok_domain::Command::SetStaffMfa {
            handle: "bob".into(),
            enabled: true,
        }]
    );
    let mut bob = h.staff[1].clone();
    bob.mfa_enabled = true;
    h.staff[1] = bob.clone();
    h.reply(Ok(rustok_domain::read::Applied {
        command_id: rustok_domain::CommandId::from_uuid(uuid::Uuid::from_u128(7)),
        outcome: rustok_domain::read::Outcome::Staff(bob),
        events: vec![],
    }));
    let screen = h.screen();
    assert!(
        screen.contains("MFA on for bob"),
        "the status bar says it is done"
    );
    let bob_row = screen.lines().find(|l| l.contains("Bob Admin")).unwrap();
    assert!(bob_row.contains("yes"), "the list reloaded: {bob_row}");
    // The selection stayed on bob through the reload.
    h.key(KeyCode::Enter);
    assert!(h.screen().contains("bob  Bob Admin"));
    // Deactivating asks too.
    h.chars("x");
    assert!(h.screen().contains("Deactivate bob?"));
    h.key(KeyCode::Esc);
}

#[test]
fn a_denied_staff_change_is_shown() {
    let mut h = Harness::audited();
    h.chars("s");
    h.chars("my");
    h.reply(Err(Failure::Domain(DomainError::denied(
        "admin cannot change MFA of an owner (needs staff:grant_owner)",
    ))));
    assert!(h.screen().contains("needs staff:grant_owner"));
}

#[test]
fn read_only_sessions_cannot_change_staff() {
    let mut h = Harness::with(fixture_nodes(), rustok_ui::Config::default(), true);
    h.staff = fixture_staff();
    h.report = Some(fixture_report(h.staff.clone()));
    h.key(KeyCode::Char('6'));
    h.chars("s");
    let screen = h.screen();
    assert!(screen.contains("Bob Admin"), "the staff list is visible");
    assert!(!screen.contains("MFA on/off"), "the key is hidden");
    assert!(!screen.contains("activate/deactivate"));
    h.chars("m");
    assert!(!h.screen().contains("Turn MFA"), "no dialog");
    h.chars("y");
    assert!(h.dispatched.is_empty());
}

#[test]
fn a_tenant_switch_re_runs_a_watched_audit_for_the_new_tenant() {
    let mut h = Harness::audited();
    h.key(KeyCode::Char('2'));
    let mut other = tenant();
    other.slug = "beans".into();
    let fx = h.app.update(Msg::TenantSwitched(Ok(other)));
    assert_eq!(
        fx.iter().filter(|e| **e == Effect::RunAudit).count(),
        1,
        "{fx:?}"
    );
    h.report.as_mut().unwrap().tenant = Some("beans".into());
    h.run(fx);
    h.key(KeyCode::Char('6'));
    let screen = h.screen();
    assert!(screen.contains("tenant beans"), "{screen}");
    assert_eq!(
        h.audit_runs, 2,
        "opening the tab does not run it a second time"
    );
    // A late report of the old tenant is dropped.
    let mut late = fixture_report(fixture_staff());
    late.score = 1;
    h.send(Msg::Audit(AuditTrigger::Automatic, Ok(Box::new(late))));
    assert!(h.screen().contains("tenant beans") && !h.screen().contains(" 1/100"));
}

#[test]
fn a_failed_run_says_why_and_r_tries_again() {
    let mut h = Harness::shop();
    h.report = Some(fixture_report(fixture_staff()));
    h.key(KeyCode::Char('2'));
    let fx = h
        .app
        .update(Msg::Key(ratatui::crossterm::event::KeyEvent::new(
            KeyCode::Char('6'),
            ratatui::crossterm::event::KeyModifiers::NONE,
        )));
    assert_eq!(fx, vec![Effect::RunAudit]);
    h.send(Msg::Audit(
        AuditTrigger::Manual,
        Err(Failure::Other("database is locked".into())),
    ));
    let screen = h.screen();
    assert!(screen.contains("The audit could not run: database is locked"));
    assert!(screen.contains("the audit could not run: database is locked"));
    h.chars("r");
    assert_eq!(h.audit_runs, 1);
    assert!(h.screen().contains("AUTH-001"));
}
