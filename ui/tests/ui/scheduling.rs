//! Issue 20 in the console: the agenda and the node list's schedule markers, the schedule
//! form, the full-text search across locales, adding a locale from Translations, and the
//! translation editor's soft-wrap lining up with its source pane.

use crate::support;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use rustok_domain::content::{AgendaEntry, NodeKind, NodeStatus, Schedule, ScheduledAction};
use rustok_domain::read::{Applied, Outcome, SearchHit};
use rustok_domain::{Command, CommandId, NodeId};
use rustok_ui::Msg;
use support::*;
use uuid::Uuid;

fn node_id(i: u128) -> NodeId {
    NodeId::from_uuid(Uuid::from_u128(0x1000 + i))
}

fn agenda() -> Vec<AgendaEntry> {
    vec![
        AgendaEntry {
            schedule: Schedule {
                node_id: node_id(3),
                action: ScheduledAction::Publish,
                at: at(45),
                by: "editor".into(),
                scheduled_at: at(20),
            },
            title: "Rust ownership explained".into(),
            status: NodeStatus::Draft,
            source_locale: locale("en"),
        },
        AgendaEntry {
            schedule: Schedule {
                node_id: node_id(4),
                action: ScheduledAction::Unpublish,
                at: at(59),
                by: "ann".into(),
                scheduled_at: at(21),
            },
            title: "Async Rust in practice".into(),
            status: NodeStatus::Published,
            source_locale: locale("en"),
        },
    ]
}

fn harness() -> Harness {
    let mut h = Harness::new(fixture_nodes());
    h.agenda = agenda();
    // Reload the list so it carries the markers.
    h.send(Msg::Key(KeyEvent::new(KeyCode::F(5), KeyModifiers::NONE)));
    h
}

fn alt(h: &mut Harness, c: char) {
    h.send(Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::ALT)));
}

#[test]
fn the_node_list_marks_scheduled_nodes() {
    let mut h = harness();
    let screen = h.screen();
    assert!(screen.contains("◷ live 11-20 09:45"), "{screen}");
    assert!(screen.contains("◷ down 11-20 09:59"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn agenda_view() {
    let mut h = harness();
    h.chars("A");
    let screen = h.screen();
    assert!(screen.contains("goes live") && screen.contains("comes down"));
    insta::assert_snapshot!(screen);
    // Enter opens the selected node (its id, not its row).
    h.key(KeyCode::Down);
    h.key(KeyCode::Enter);
    assert!(h.screen().contains("Async Rust in practice"));
}

#[test]
fn agenda_x_cancels_after_confirmation() {
    let mut h = harness();
    h.chars("A");
    h.chars("x");
    h.chars("y");
    assert_eq!(h.dispatched.len(), 1);
    assert_eq!(
        h.dispatched[0].1,
        Command::UnscheduleNode { id: node_id(3) }
    );
}

#[test]
fn schedule_form() {
    let mut h = harness();
    h.send(Msg::Clock(at(30)));
    h.chars("s");
    h.chars("+10m");
    h.key(KeyCode::Tab);
    h.chars("2026-12-24T18:00:00Z");
    insta::assert_snapshot!(h.screen());
    h.key(KeyCode::Enter);
    assert_eq!(h.dispatched.len(), 1, "one command");
    let (_, c) = &h.dispatched[0];
    let Command::ScheduleNode {
        publish_at,
        unpublish_at,
        ..
    } = c
    else {
        panic!("{c:?}")
    };
    assert_eq!(*publish_at, Some(at(40)), "relative to the console's clock");
    assert_eq!(
        unpublish_at.map(|t| t.to_rfc3339()),
        Some("2026-12-24T18:00:00+00:00".into())
    );
    h.reply(Ok(Applied {
        command_id: CommandId::from_uuid(Uuid::from_u128(98)),
        outcome: Outcome::Schedule(vec![]),
        events: vec![],
    }));
    assert!(!h.screen().contains("Publish at"), "the form closed");
}

#[test]
fn schedule_form_refuses_a_bad_time_and_keeps_the_text() {
    let mut h = harness();
    h.send(Msg::Clock(at(30)));
    h.chars("s");
    h.chars("soon");
    h.key(KeyCode::Enter);
    assert!(h.dispatched.is_empty());
    let screen = h.screen();
    assert!(screen.contains("is not a time"), "{screen}");
    assert!(screen.contains("soon"));
}

#[test]
fn a_schedule_the_store_refuses_reopens_the_form_with_the_reason() {
    let mut h = harness();
    h.send(Msg::Clock(at(30)));
    h.chars("s");
    h.chars("+10m");
    h.key(KeyCode::Enter);
    assert_eq!(h.dispatched.len(), 1);
    assert!(
        !h.screen().contains("Publish at"),
        "closed while it is sent"
    );
    h.reply(Err(rustok_ui::Failure::Domain(
        rustok_domain::DomainError::validation("publish_at", "the node is published"),
    )));
    let screen = h.screen();
    assert!(
        screen.contains("Publish at    +10m"),
        "the text typed: {screen}"
    );
    assert!(
        screen.contains("the node is published"),
        "the reason: {screen}"
    );
}

fn hits() -> Vec<SearchHit> {
    vec![
        SearchHit {
            node_id: node_id(2),
            locale: locale("es"),
            title: "Sobre nosotros".into(),
            slug: "sobre-nosotros".into(),
            kind: NodeKind::Page,
            status: NodeStatus::Published,
            snippet: Some("…nuestra casa de café en el centro…".into()),
        },
        SearchHit {
            node_id: node_id(1),
            locale: locale("ru"),
            title: "Колдун и кофе".into(),
            slug: "koldun".into(),
            kind: NodeKind::Article,
            status: NodeStatus::Published,
            snippet: Some("…Колдун варит кофе дома…".into()),
        },
    ]
}

#[test]
fn search_results() {
    let mut h = harness();
    h.hits = hits();
    h.chars("F");
    h.chars("casa");
    h.key(KeyCode::Enter);
    let screen = h.screen();
    assert!(screen.contains("Sobre nosotros") && screen.contains("Колдун"));
    insta::assert_snapshot!(screen);
    // The second hit (by node and locale), then Enter opens that node.
    h.key(KeyCode::Down);
    h.key(KeyCode::Enter);
    assert!(h.screen().contains("Welcome to Acme"), "node 1 opened");
}

#[test]
fn t_on_a_hit_translates_into_its_locale() {
    let mut h = harness();
    h.hits = hits();
    h.chars("F");
    h.chars("колд");
    h.key(KeyCode::Enter);
    h.key(KeyCode::Down);
    h.chars("t");
    let screen = h.screen();
    assert!(screen.contains("Target ru"), "the hit's locale: {screen}");
}

#[test]
fn search_highlights_the_words_searched() {
    let mut h = harness();
    h.hits = hits();
    h.chars("F");
    h.chars("колд");
    h.key(KeyCode::Enter);
    h.screen();
    let buf = format!("{:?}", h.styled_screen());
    // The matched word is drawn in the key style with bold and underline.
    assert!(buf.contains("BOLD | UNDERLINED"), "highlighted");
}

#[test]
fn a_locale_is_added_from_the_translations_list() {
    let mut h = harness();
    h.chars("3");
    h.chars(":locale ru");
    h.key(KeyCode::Enter);
    let screen = h.screen();
    assert!(screen.contains("Target ru"), "{screen}");
    assert!(screen.contains("new · Ctrl-L"), "{screen}");
}

#[test]
fn alt_n_adds_a_locale_in_the_translation_editor() {
    let mut h = harness();
    h.chars("3");
    h.key(KeyCode::Enter);
    alt(&mut h, 'n');
    h.chars("pt-BR");
    let screen = h.screen();
    assert!(screen.contains("Add a locale: pt-BR"), "{screen}");
    h.key(KeyCode::Enter);
    let screen = h.screen();
    assert!(screen.contains("Target pt-BR"), "{screen}");
    // A bad code is refused with its reason, the editor stays.
    alt(&mut h, 'n');
    h.chars("x");
    h.key(KeyCode::Enter);
    assert!(h.screen().contains("Target pt-BR"));
}

#[test]
fn translation_editor_wraps_side_by_side() {
    let long = "Coffee is brewed from roasted beans; this sentence is long enough to wrap in a \
                pane that is half of a terminal one hundred and twenty columns wide.";
    let mut nodes = fixture_nodes();
    for n in &mut nodes {
        n.translations[0].body = long.into();
    }
    let mut h = Harness::new(nodes);
    h.chars("3");
    h.key(KeyCode::Enter);
    // The same text typed into the target body wraps at the same width.
    h.key(KeyCode::Tab);
    h.key(KeyCode::Tab);
    h.chars(long);
    let screen = h.screen();
    insta::assert_snapshot!(screen);
    let rows: Vec<&str> = screen.lines().collect();
    let body_rows: Vec<(String, String)> = rows
        .iter()
        .filter(|r| r.contains("Coffee is") || r.contains("columns wide"))
        .map(|r| {
            let chars: Vec<char> = r.chars().collect();
            let half = chars.len() / 2;
            (
                chars[..half].iter().collect::<String>(),
                chars[half..].iter().collect::<String>(),
            )
        })
        .collect();
    assert!(!body_rows.is_empty(), "{screen}");
    for (l, r) in body_rows {
        assert_eq!(
            l.trim_matches(['│', '"', ' ']),
            r.trim_matches(['│', '"', ' ', '▏']),
            "the two bodies wrap alike"
        );
    }
}
