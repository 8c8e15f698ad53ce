//! Snapshot tests of every view and state, on ratatui's TestBackend at 120×40. The app is
//! driven with messages exactly as the runtime drives it; queries are answered from
//! in-memory fixtures, so these tests need no database. Snapshot files are reviewed like code;
//! CI runs with INSTA_UPDATE=no, so an unreviewed change fails.

use crate::support;
use rustok_domain::command::NodeTransition;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use rustok_domain::content::NodeStatus;
use rustok_domain::read::Page;
use rustok_domain::{Command, DomainError};
use rustok_ui::{App, Config, Effect, Failure, Keymap, Msg, Query, QueryResult, Session};
use support::*;

#[test]
fn empty_database() {
    let mut h = Harness::new(vec![]);
    insta::assert_snapshot!(h.screen());
}

#[test]
fn node_list() {
    let mut h = Harness::new(fixture_nodes());
    h.key(KeyCode::Down);
    h.key(KeyCode::Down);
    let screen = h.screen();
    assert!(
        screen.contains("\\x1b[2J"),
        "escape sequences in titles are shown as text"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn node_list_filtered() {
    let mut h = Harness::new(fixture_nodes());
    h.chars("/rust");
    insta::assert_snapshot!(h.screen());
}

#[test]
fn editor_new_draft() {
    let mut h = Harness::new(fixture_nodes());
    h.chars("n");
    h.chars("Hello world");
    h.key(KeyCode::Tab);
    h.key(KeyCode::Tab);
    h.key(KeyCode::Tab);
    h.chars("Body line one");
    insta::assert_snapshot!(h.screen());
}

#[test]
fn editor_existing_node() {
    let mut h = Harness::new(fixture_nodes());
    h.key(KeyCode::Enter);
    insta::assert_snapshot!(h.screen());
}

#[test]
fn editor_validation_error_keeps_text() {
    let mut h = Harness::new(fixture_nodes());
    h.chars("n");
    h.key(KeyCode::Tab);
    h.chars("Bad Slug");
    h.key(KeyCode::Tab);
    h.key(KeyCode::Tab);
    h.chars("My precious body text");
    h.ctrl('s');
    assert_eq!(h.dispatched.len(), 1);
    h.reply(Err(Failure::Domain(DomainError::validation(
        "title",
        "must not be empty",
    ))));
    let screen = h.screen();
    assert!(
        screen.contains("My precious body text"),
        "the text survives the error"
    );
    assert!(screen.contains("✗ must not be empty"));
    insta::assert_snapshot!(screen);
}

#[test]
fn conflict_dialog() {
    let mut h = Harness::new(fixture_nodes());
    h.key(KeyCode::Enter);
    h.chars(" edited");
    h.ctrl('s');
    let Some((
        _,
        Command::UpdateNode {
            expected_version, ..
        },
    )) = h.dispatched.first().cloned()
    else {
        panic!("expected an update, got {:?}", h.dispatched)
    };
    let newest = fixture_nodes()
        .into_iter()
        .max_by_key(|n| n.updated_at)
        .expect("nodes");
    assert_eq!(
        expected_version,
        Some(newest.version),
        "the edit names the version it started from"
    );
    h.reply(Err(Failure::Domain(DomainError::VersionConflict {
        entity: "node",
        expected: newest.version,
        actual: newest.version + 1,
    })));
    insta::assert_snapshot!(h.screen());
    // "save mine as a copy" copies the node with the edited text (issue 20)
    h.chars("c");
    match &h.dispatched[0].1 {
        Command::CopyNode { mine: Some(m), .. } => {
            assert!(m.body.ends_with(" edited"), "{}", m.body)
        }
        other => panic!("expected a copy, got {other:?}"),
    }
}

#[test]
fn confirm_before_archiving() {
    let mut h = Harness::new(fixture_nodes());
    // Fixture order is newest first: row 1 is "Brewing" (published).
    h.chars("a");
    assert!(
        h.dispatched.is_empty(),
        "nothing happens before confirmation"
    );
    insta::assert_snapshot!(h.screen());
    h.chars("y");
    assert!(matches!(
        h.dispatched[0].1,
        Command::NodeStatus(NodeTransition { .. })
    ));
}

#[test]
fn help_overlay() {
    let mut h = Harness::new(fixture_nodes());
    h.chars("?");
    insta::assert_snapshot!(h.screen());
}

#[test]
fn command_palette() {
    let mut h = Harness::new(fixture_nodes());
    h.chars(":th");
    insta::assert_snapshot!(h.screen());
}

#[test]
fn translations_with_coverage() {
    let mut h = Harness::new(fixture_nodes());
    h.chars("3");
    insta::assert_snapshot!(h.screen());
}

#[test]
fn translation_editor() {
    let mut h = Harness::new(fixture_nodes());
    h.chars("3");
    h.key(KeyCode::Down);
    h.key(KeyCode::Down); // "Winter blend (retired)": English only
    h.key(KeyCode::Enter);
    h.chars("Propiedad en Rust");
    let screen = h.screen();
    assert!(screen.contains("Target de") || screen.contains("Target es"));
    insta::assert_snapshot!(screen);
    h.ctrl('s');
    assert!(matches!(h.dispatched[0].1, Command::TranslateNode { .. }));
}

#[test]
fn dashboard() {
    let mut h = Harness::new(fixture_nodes());
    h.chars("1");
    insta::assert_snapshot!(h.screen());
}

#[test]
fn read_only_session_hides_and_refuses_changes() {
    let mut h = Harness::with(fixture_nodes(), Config::default(), true);
    h.chars("p");
    assert!(h.dispatched.is_empty());
    let screen = h.screen();
    assert!(!screen.contains("n new draft"));
    insta::assert_snapshot!(screen);
}

#[test]
fn spinner_while_a_command_runs_and_keys_keep_working() {
    let mut h = Harness::new(fixture_nodes());
    h.chars("p"); // publish the selected draft? row 0 is "Brewing" (published): pick the draft
    h.key(KeyCode::Down);
    h.chars("p");
    assert_eq!(h.dispatched.len(), 1, "publish was sent");
    assert!(h.app.is_busy());
    h.send(Msg::Tick);
    h.chars("1"); // another pane, while the command is still running
    let screen = h.screen();
    assert!(
        screen.contains("Acme Coffee  (acme"),
        "dashboard shown: keys kept working"
    );
    insta::assert_snapshot!(screen);
    let mut n = fixture_nodes()[6].clone();
    n.status = NodeStatus::Published;
    h.reply(Ok(applied(n)));
    assert!(!h.app.is_busy());
}

#[test]
fn themes() {
    for name in ["dark", "light", "catppuccin-mocha", "nord"] {
        let config = Config {
            theme: name.into(),
            ..Config::default()
        };
        let mut h = Harness::with(fixture_nodes(), config, false);
        assert_eq!(h.app.theme_name(), name);
        insta::assert_snapshot!(format!("theme_{name}"), h.styled_screen());
    }
}

#[test]
fn windows_of_a_million_rows() {
    // The list asks for one window at a time, whatever the total.
    let session = Session {
        tenant: tenant(),
        actor: "editor".into(),
        role: "editor".into(),
        database: "db".into(),
        read_only: false,
    };
    let mut app = App::new(
        session,
        &Config::default(),
        Keymap::default(),
        vec![],
        (W, H),
    );
    let fx = app.init();
    let (id, limit) = fx
        .iter()
        .find_map(|e| match e {
            Effect::Load(
                id,
                Query::Nodes {
                    limit, offset: 0, ..
                },
            ) => Some((*id, *limit)),
            _ => None,
        })
        .expect("a window query");
    assert!(
        limit < 200,
        "asks for a screenful or so, not everything (limit {limit})"
    );
    let rows = fixture_nodes()
        .iter()
        .map(Harness::summary)
        .cycle()
        .take(limit as usize)
        .collect();
    app.update(Msg::Loaded(
        id,
        Ok(QueryResult::Nodes(Page {
            total: 1_000_000,
            offset: 0,
            rows,
        })),
    ));
    let fx = app.update(Msg::Key(KeyEvent::new(KeyCode::End, KeyModifiers::NONE)));
    assert!(
        fx.iter().any(
            |e| matches!(e, Effect::Load(_, Query::Nodes { offset, .. }) if *offset > 999_000)
        ),
        "End asks for the last window: {fx:?}"
    );
}

#[test]
fn database_unreachable_is_shown_until_it_recovers() {
    let mut h = Harness::new(fixture_nodes());
    h.send(Msg::DatabaseStatus(Some("connection refused".into())));
    let screen = h.screen();
    assert!(
        screen.contains("database unreachable: connection refused"),
        "{screen}"
    );
    h.chars("j"); // other messages do not hide it
    assert!(h.screen().contains("database unreachable"));
    h.send(Msg::DatabaseStatus(None));
    let screen = h.screen();
    assert!(!screen.contains("unreachable"));
    assert!(screen.contains("database reachable again"));
}
