//! Issue 20 in the console: a node's history, the side-by-side diff of two revisions picked by
//! version, restore with confirmation; the version-conflict view of both editors (take
//! theirs, keep mine, merge with marked overlaps, save mine as a copy) and the "changed
//! underneath" marker driven by the live event stream.

use crate::support;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use rustok_domain::content::{Node, NodeAt, Revision, RevisionContent};
use rustok_domain::event::{DomainEvent, EnvelopeMeta, EventEnvelope, LiveEvent};
use rustok_domain::{Command, DomainError, EventId};
use rustok_ui::{Failure, Msg};
use support::*;
use uuid::Uuid;

/// The node the Content list shows first (the most recently updated).
fn first(h: &Harness) -> Node {
    h.nodes
        .iter()
        .max_by_key(|n| n.updated_at)
        .cloned()
        .expect("nodes")
}

fn revision(n: &Node, version: i64, command: &str, body: &str, minute: u32) -> NodeAt {
    let mut content: Vec<RevisionContent> =
        n.translations.iter().map(RevisionContent::from).collect();
    content[0].body = body.into();
    NodeAt {
        node_id: n.id,
        revision: Revision {
            version,
            at: at(minute),
            actor: if version == 2 { "bob" } else { "editor" }.into(),
            command: command.into(),
            status: n.status,
            locales: vec![locale("en")],
            reverted_from: None,
        },
        translations: content,
    }
}

/// A harness whose first node has three revisions (1, 2, 3: the current one).
fn with_history() -> (Harness, Node) {
    let mut h = Harness::new(fixture_nodes());
    let mut n = first(&h);
    n.version = 3;
    if let Some(x) = h.nodes.iter_mut().find(|x| x.id == n.id) {
        x.version = 3;
    }
    h.revisions = vec![
        revision(&n, 1, "create_node", "Line one\nLine two\nLine three\n", 1),
        revision(&n, 2, "update_node", "Line one\nLine 2\nLine three\n", 2),
        revision(
            &n,
            3,
            "update_node",
            "Line one\nLine 2\nLine three\nLine four\n",
            3,
        ),
    ];
    (h, n)
}

#[test]
fn history_lists_revisions_and_diffs_two_picked_by_version() {
    let (mut h, n) = with_history();
    h.chars("H");
    let screen = h.screen();
    insta::assert_snapshot!("history_view", screen);
    assert!(screen.contains("v3") && screen.contains("bob"), "{screen}");
    // Pick v3, move to v1, diff them: v1 → v3 side by side.
    h.key(KeyCode::Char(' '));
    h.key(KeyCode::Down);
    h.key(KeyCode::Down);
    h.key(KeyCode::Enter);
    let screen = h.screen();
    insta::assert_snapshot!("history_diff_side_by_side", screen);
    assert!(screen.contains("Diff v1 → v3"), "{screen}");
    assert!(
        screen.contains("-Line two") && screen.contains("+Line 2"),
        "{screen}"
    );
    // Esc leaves the diff, then the history; nothing was dispatched.
    h.key(KeyCode::Esc);
    h.key(KeyCode::Esc);
    assert!(h.dispatched.is_empty());
    assert!(!h.screen().contains("History ·"));
    let _ = n;
}

#[test]
fn restore_asks_then_reverts_the_selected_version_at_the_version_shown() {
    let (mut h, n) = with_history();
    h.chars("H");
    h.key(KeyCode::Down); // v2
    // A new revision arrives meanwhile: the selection stays on v2 (a version, not a row).
    let mut v4 = revision(
        &n,
        4,
        "publish_node",
        "Line one\nLine 2\nLine three\nLine four\n",
        4,
    );
    v4.revision.locales.clear();
    h.revisions.push(v4);
    h.send(Msg::Event(node_event(&n, 4, "alice")));
    h.chars("R");
    let screen = h.screen();
    assert!(screen.contains("Restore version 2?"), "{screen}");
    assert!(h.dispatched.is_empty(), "asks first");
    h.chars("y");
    match &h.dispatched[..] {
        [
            (
                _,
                Command::RevertNode {
                    id,
                    to,
                    expected_version,
                },
            ),
        ] => assert_eq!((*id, *to, *expected_version), (n.id, 2, Some(4))),
        other => panic!("expected a revert, got {other:?}"),
    }
}

#[test]
fn history_opens_from_the_editor_too() {
    let (mut h, _) = with_history();
    h.key(KeyCode::Enter);
    h.send(Msg::Key(KeyEvent::new(KeyCode::F(2), KeyModifiers::NONE)));
    assert!(h.screen().contains("History ·"));
    h.key(KeyCode::Esc);
    assert!(h.screen().contains("Edit "), "back in the editor");
}

/// A `node.updated` of `n` at `version` by `actor`, from another process.
fn node_event(n: &Node, version: i64, actor: &str) -> LiveEvent {
    let payload = serde_json::json!({
        "locale": "en",
        "changed": ["body"],
        "title": n.source().title,
        "slug": n.source().slug,
        "version": version,
    });
    let event = DomainEvent::from_parts("node.updated", &payload).expect("valid payload");
    let envelope = EventEnvelope::new(
        &event,
        EnvelopeMeta {
            id: EventId::from_uuid(Uuid::from_u128(0xa000 + version as u128)),
            tenant_id: tenant().id,
            aggregate_id: n.id.as_uuid(),
            actor: actor.into(),
            occurred_at: at(40),
            correlation_id: None,
            causation_id: None,
        },
    );
    LiveEvent::new(100 + version, envelope)
}

/// Opens the first node, replaces its body with `mine`, and saves into a conflict: someone
/// else saved `theirs` as the next version meanwhile (seen on the live stream).
fn conflict(mine: &str, theirs: &str) -> (Harness, Node) {
    let mut h = Harness::new(fixture_nodes());
    let n = first(&h);
    let base = n.source().body.clone();
    h.key(KeyCode::Enter);
    // The editor opens on the body: replace it with mine.
    for _ in 0..base.chars().count() + 10 {
        h.key(KeyCode::Backspace);
    }
    for line in mine.split_inclusive('\n') {
        h.chars(line.trim_end_matches('\n'));
        if line.ends_with('\n') {
            h.key(KeyCode::Enter);
        }
    }
    let mut saved = n.clone();
    saved.version += 1;
    saved.translations[0].body = theirs.into();
    if let Some(x) = h.nodes.iter_mut().find(|x| x.id == n.id) {
        *x = saved.clone();
    }
    h.send(Msg::Event(node_event(&n, saved.version, "bob")));
    assert!(
        h.screen().contains("changed underneath"),
        "the marker shows before saving"
    );
    h.ctrl('s');
    h.reply(Err(Failure::Domain(DomainError::VersionConflict {
        entity: "node",
        expected: n.version,
        actual: saved.version,
    })));
    (h, n)
}

fn editor_body(h: &mut Harness) -> String {
    h.screen()
}

#[test]
fn a_conflict_shows_theirs_and_mine_and_merges_separate_edits() {
    let base_of = |n: &Node| n.source().body.clone();
    let h0 = Harness::new(fixture_nodes());
    let base = base_of(&first(&h0));
    // Mine changes the first line, theirs the last one.
    let mine = base.replacen("# ", "# My ", 1);
    let theirs = base.replace("- another", "- another (theirs)");
    let (mut h, n) = conflict(&mine, &theirs);
    let screen = h.screen();
    insta::assert_snapshot!("conflict_view", screen);
    assert!(screen.contains("by bob"), "who saved it: {screen}");
    h.chars("m");
    let screen = editor_body(&mut h);
    insta::assert_snapshot!("conflict_merged_clean", screen);
    assert!(
        screen.contains("# My ") && screen.contains("(theirs)"),
        "{screen}"
    );
    h.ctrl('s');
    match &h.dispatched[..] {
        [
            (
                _,
                Command::UpdateNode {
                    expected_version,
                    patch,
                    ..
                },
            ),
        ] => {
            assert_eq!(
                *expected_version,
                Some(n.version + 1),
                "based on theirs now"
            );
            let body = patch.body.clone().unwrap_or_default();
            assert!(
                body.contains("# My ") && body.contains("(theirs)"),
                "{body}"
            );
        }
        other => panic!("expected the merged save, got {other:?}"),
    }
}

#[test]
fn overlapping_edits_are_marked_and_must_be_settled_before_saving() {
    let h0 = Harness::new(fixture_nodes());
    let base = first(&h0).source().body.clone();
    let mine = base.replace("- a list item", "- my item");
    let theirs = base.replace("- a list item", "- their item");
    let (mut h, _) = conflict(&mine, &theirs);
    h.chars("m");
    let screen = h.screen();
    insta::assert_snapshot!("conflict_merged_with_markers", screen);
    assert!(screen.contains("<<<<<<< mine") && screen.contains(">>>>>>> theirs"));
    h.ctrl('s');
    assert!(h.dispatched.is_empty(), "refused while markers remain");
    assert!(h.screen().contains("settle the 1 marked conflict"));
}

#[test]
fn keep_mine_overwrites_explicitly_and_take_theirs_asks() {
    let h0 = Harness::new(fixture_nodes());
    let base = first(&h0).source().body.clone();
    let (mut h, n) = conflict(&format!("{base}\nmine"), &format!("{base}\ntheirs"));
    h.chars("o");
    match &h.dispatched[..] {
        [
            (
                _,
                Command::UpdateNode {
                    expected_version,
                    patch,
                    ..
                },
            ),
        ] => {
            assert_eq!(*expected_version, Some(n.version + 1));
            assert!(patch.body.as_deref().unwrap_or("").ends_with("mine"));
        }
        other => panic!("expected an overwrite, got {other:?}"),
    }
    let (mut h, _) = conflict(&format!("{base}\nmine"), &format!("{base}\ntheirs"));
    h.chars("t");
    assert!(h.screen().contains("Take theirs?"));
    h.chars("y");
    let screen = h.screen();
    assert!(
        screen.contains("theirs") && !screen.contains("mine"),
        "{screen}"
    );
    assert!(h.dispatched.is_empty());
}

#[test]
fn save_mine_as_a_copy_keeps_every_translation() {
    let h0 = Harness::new(fixture_nodes());
    let base = first(&h0).source().body.clone();
    let (mut h, n) = conflict(&format!("{base}\nmine"), &format!("{base}\ntheirs"));
    h.chars("c");
    match &h.dispatched[..] {
        [(_, Command::CopyNode { from, mine, .. })] => {
            assert_eq!(*from, n.id);
            let mine = mine.clone().expect("mine");
            assert!(mine.body.ends_with("mine"), "{}", mine.body);
            assert_eq!(mine.locale, locale("en"));
        }
        other => panic!("expected a copy, got {other:?}"),
    }
}

#[test]
fn the_translation_editor_merges_too() {
    let mut h = Harness::new(fixture_nodes());
    // The oldest node (last in the list) has every locale: it opens on de.
    let n = h
        .nodes
        .iter()
        .min_by_key(|n| n.updated_at)
        .cloned()
        .expect("nodes");
    h.chars("3"); // Translations
    h.chars("G");
    h.key(KeyCode::Enter);
    let target = locale("de");
    let ti = n
        .translations
        .iter()
        .position(|t| t.locale == target)
        .expect("de");
    assert!(h.screen().contains("Target de"), "{}", h.screen());
    h.key(KeyCode::Tab);
    h.key(KeyCode::Tab); // the body
    h.chars(" mine");
    let mut saved = n.clone();
    saved.version += 1;
    saved.translations[ti].title = "Their title".into();
    if let Some(x) = h.nodes.iter_mut().find(|x| x.id == n.id) {
        *x = saved.clone();
    }
    h.send(Msg::Event(node_event(&n, saved.version, "bob")));
    assert!(h.screen().contains("changed underneath"));
    h.ctrl('s');
    h.reply(Err(Failure::Domain(DomainError::VersionConflict {
        entity: "node",
        expected: n.version,
        actual: saved.version,
    })));
    assert!(h.screen().contains("Version conflict"));
    h.chars("m");
    h.ctrl('s');
    match &h.dispatched[..] {
        [
            (
                _,
                Command::TranslateNode {
                    input,
                    expected_version,
                    ..
                },
            ),
        ] => {
            assert_eq!(*expected_version, Some(saved.version));
            assert_eq!(input.title, "Their title", "their separate change is taken");
            assert!(input.body.as_deref().unwrap_or("").ends_with(" mine"));
        }
        other => panic!("expected the merged translation, got {other:?}"),
    }
}

/// A final newline added on one side is a change the merge may mark: the conflict view shows
/// it, as a unified diff does (`\ No newline at end of file` under the line without one).
#[test]
fn the_conflict_view_shows_a_final_newline_added() {
    let h0 = Harness::new(fixture_nodes());
    let base = first(&h0).source().body.clone();
    assert!(
        !base.ends_with('\n'),
        "the fixture's body has no final newline"
    );
    let mine = format!("{base}\n");
    let theirs = base.replacen("# ", "# Their ", 1);
    let (mut h, _) = conflict(&mine, &theirs);
    let screen = h.screen();
    let mine_side: Vec<&str> = screen
        .lines()
        .filter(|l| l.contains("No newline at end of file"))
        .collect();
    assert!(!mine_side.is_empty(), "{screen}");
    assert!(!screen.contains("no changes since the base"), "{screen}");
    insta::assert_snapshot!("conflict_view_final_newline", screen);
}
