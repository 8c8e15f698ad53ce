//! What a role may do to content, checked when the key is pressed: a role without the
//! permission the command needs (a manager has `content:read` only) is refused at once, with
//! the store's words, before any form or confirmation opens, and is not offered the key in
//! the command bar or the help. An editor (`content:manage`) keeps every key.

use crate::support;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use rustok_domain::content::{
    AgendaEntry, NodeAt, Revision, RevisionContent, Schedule, ScheduledAction,
};
use rustok_domain::read::SearchHit;
use rustok_ui::Msg;
use support::*;

/// The newest message of the log, which the status line shows.
fn last_message(h: &Harness) -> String {
    h.app
        .messages()
        .next()
        .map(|l| l.text.clone())
        .unwrap_or_default()
}

/// A manager's console on the fixture, with one schedule in the agenda, two revisions of the
/// first node of the list and a search hit.
fn manager() -> Harness {
    let mut h = Harness::signed_in("mia", "manager", false);
    let n = h
        .nodes
        .iter()
        .max_by_key(|n| n.updated_at)
        .cloned()
        .expect("nodes");
    h.agenda = vec![AgendaEntry {
        schedule: Schedule {
            node_id: n.id,
            action: ScheduledAction::Unpublish,
            at: at(59),
            by: "ed".into(),
            scheduled_at: at(20),
        },
        title: n.source().title.clone(),
        status: n.status,
        source_locale: n.source_locale.clone(),
    }];
    h.revisions = [1, 2]
        .into_iter()
        .map(|v| NodeAt {
            node_id: n.id,
            revision: Revision {
                version: v,
                at: at(v as u32),
                actor: "ed".into(),
                command: if v == 1 { "create_node" } else { "update_node" }.into(),
                status: n.status,
                locales: vec![locale("en")],
                reverted_from: None,
            },
            translations: n.translations.iter().map(RevisionContent::from).collect(),
        })
        .collect();
    h.hits = vec![SearchHit {
        node_id: n.id,
        locale: locale("es"),
        title: n.source().title.clone(),
        slug: "brewing".into(),
        kind: n.kind,
        status: n.status,
        snippet: Some("…brewing…".into()),
    }];
    h.send(Msg::Key(KeyEvent::new(KeyCode::F(5), KeyModifiers::NONE)));
    h
}

#[test]
fn a_manager_is_refused_schedule_revert_and_unschedule_before_any_form_opens() {
    let mut h = manager();
    // `s`: no schedule form, the refusal at once.
    h.chars("s");
    let screen = h.screen();
    assert!(!screen.contains("Publish at"), "no form: {screen}");
    assert_eq!(
        last_message(&h),
        "permission denied: manager cannot schedule publishing (needs content:publish)"
    );
    // `R` in the history: no "Restore version …?" question.
    h.chars("H");
    let screen = h.screen();
    assert!(screen.contains("History ·"), "history is a read");
    assert!(!screen.contains("R restores"), "no hint at R: {screen}");
    h.key(KeyCode::Down);
    h.chars("R");
    let screen = h.screen();
    assert!(!screen.contains("Restore version"), "no question: {screen}");
    assert_eq!(
        last_message(&h),
        "permission denied: manager cannot revert content (needs content:update)"
    );
    h.key(KeyCode::Esc);
    // `x` in the agenda: no "Cancel the schedule?" question.
    h.chars("A");
    let screen = h.screen();
    assert!(screen.contains("comes down"), "the agenda is a read");
    assert!(!screen.contains("x cancel"), "no hint at x: {screen}");
    h.chars("x");
    let screen = h.screen();
    assert!(!screen.contains("Cancel the schedule?"), "{screen}");
    assert_eq!(
        last_message(&h),
        "permission denied: manager cannot cancel scheduled publishing (needs content:publish)"
    );
    assert!(h.dispatched.is_empty());
}

#[test]
fn a_manager_is_refused_every_other_content_change_at_once() {
    let mut h = manager();
    // Row 0 is published: `a` (archive) and `u` (unpublish) would ask first.
    for (keys, says) in [
        ("a", "cannot archive content (needs content:archive)"),
        ("u", "cannot unpublish content (needs content:publish)"),
        ("n", "cannot create content (needs content:create)"),
        ("t", "cannot translate content (needs content:translate)"),
    ] {
        h.chars(keys);
        let screen = h.screen();
        assert!(!screen.contains("node?"), "{keys}: no question: {screen}");
        assert!(!screen.contains("New draft"), "{keys}: no kind picker");
        assert_eq!(
            last_message(&h),
            format!("permission denied: manager {says}"),
            "{keys}"
        );
    }
    // The draft below: `p` (publish) and `:publish`.
    h.key(KeyCode::Down);
    h.chars("p");
    assert!(last_message(&h).contains("manager cannot publish content"));
    h.chars(":publish");
    h.key(KeyCode::Enter);
    assert!(last_message(&h).contains("manager cannot publish content"));
    h.chars(":new");
    h.key(KeyCode::Enter);
    assert!(last_message(&h).contains("manager cannot create content"));
    // In the editor (opening is a read): Alt-P publish.
    h.key(KeyCode::Enter);
    h.send(Msg::Key(KeyEvent::new(
        KeyCode::Char('p'),
        KeyModifiers::ALT,
    )));
    assert!(last_message(&h).contains("manager cannot publish content"));
    h.key(KeyCode::Esc);
    // `t` on a search hit (the search itself is a read).
    h.chars("F");
    h.chars("brewing");
    h.key(KeyCode::Enter);
    h.chars("t");
    assert!(last_message(&h).contains("manager cannot translate content"));
    h.key(KeyCode::Esc);
    // Translations: `t`, and Alt-N in the translation editor that Enter opens to read.
    h.chars("3");
    h.chars("t");
    assert!(last_message(&h).contains("manager cannot translate content"));
    h.key(KeyCode::Enter);
    h.send(Msg::Key(KeyEvent::new(
        KeyCode::Char('n'),
        KeyModifiers::ALT,
    )));
    assert!(last_message(&h).contains("manager cannot translate content"));
    assert!(!h.screen().contains("add locale"), "no prompt");
    assert!(h.dispatched.is_empty(), "nothing was sent");
}

#[test]
fn a_manager_is_not_offered_content_changes_in_the_bar_or_the_help() {
    let mut h = manager();
    let screen = h.screen();
    let bar = screen.lines().rev().nth(1).unwrap_or_default().to_string();
    assert!(bar.contains("Enter open"), "{bar}");
    assert!(
        bar.contains("A agenda") && bar.contains("F search"),
        "{bar}"
    );
    for hidden in [
        "n new",
        "p publish",
        "u unpublish",
        "a archive",
        "t translate",
        "s schedule",
    ] {
        assert!(!bar.contains(hidden), "{hidden} offered: {bar}");
    }
    h.chars("H");
    let screen = h.screen();
    let bar = screen.lines().rev().nth(1).unwrap_or_default().to_string();
    assert!(bar.contains("diff") && !bar.contains("R restore"), "{bar}");
    h.key(KeyCode::Esc);
    // The help, scrolled through to its end.
    h.chars("?");
    let mut help = h.screen();
    for _ in 0..20 {
        h.key(KeyCode::PageDown);
        help.push_str(&h.screen());
    }
    assert!(help.contains(&format!("{:<22}{}", "A", "agenda")), "{help}");
    for (key, desc) in [
        ("n", "new draft"),
        ("p", "publish"),
        ("s", "schedule publish"),
        ("R", "restore this version"),
        ("t", "translate"),
    ] {
        let line = format!("{key:<22}{desc}");
        assert!(!help.contains(&line), "{line} in the help: {help}");
    }
}

#[test]
fn an_editor_keeps_every_content_key() {
    let mut h = Harness::signed_in("ed", "editor", false);
    h.send(Msg::Key(KeyEvent::new(KeyCode::F(5), KeyModifiers::NONE)));
    let screen = h.screen();
    let bar = screen.lines().rev().nth(1).unwrap_or_default().to_string();
    for offered in [
        "n new",
        "u unpublish",
        "a archive",
        "t translate",
        "s schedule",
    ] {
        assert!(bar.contains(offered), "{offered} not offered: {bar}");
    }
    h.chars("s");
    assert!(h.screen().contains("Publish at"), "the form opens");
}

/// The bar's line for each kind of row: the status changes the highlighted node can take now
/// (as the order board lists an order's steps), then scheduling, the agenda and search —
/// which the help listed and the bar did not.
#[test]
fn the_content_bar_lists_schedule_agenda_and_search_and_the_status_changes_possible_now() {
    let mut h = Harness::signed_in("ed", "editor", false);
    h.send(Msg::Key(KeyEvent::new(KeyCode::F(5), KeyModifiers::NONE)));
    let bar = |h: &mut Harness| {
        let screen = h.screen();
        screen.lines().rev().nth(1).unwrap_or_default().to_string()
    };
    // Row 0 is published, row 1 a draft; the archived one further down.
    let published = bar(&mut h);
    h.key(KeyCode::Down);
    let draft = bar(&mut h);
    h.chars("/retired");
    h.key(KeyCode::Enter);
    let archived = bar(&mut h);
    for (line, now, not_now) in [
        (
            &published,
            &["u unpublish", "a archive"][..],
            &["p publish", "r restore"][..],
        ),
        (
            &draft,
            &["p publish"][..],
            &["u unpublish", "a archive", "r restore"][..],
        ),
        (
            &archived,
            &["r restore"][..],
            &["p publish", "u unpublish", "a archive"][..],
        ),
    ] {
        for k in now
            .iter()
            .chain(&["s schedule", "A agenda", "F search", "? help", "q quit"])
        {
            assert!(line.contains(k), "{k} not offered: {line}");
        }
        for k in not_now {
            assert!(!line.contains(k), "{k} offered: {line}");
        }
    }
}
