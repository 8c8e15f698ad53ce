//! A console others change under your feet: the selection follows the item (not the row
//! number) through inserts, deletes and re-sorts from another process; a key acts on the
//! highlighted item with the version the screen showed; Esc goes back after a jump.

use crate::support;
use rustok_domain::command::NodeTransition;
use rustok_domain::commerce::OrderCommand;

use ratatui::crossterm::event::KeyCode;
use rustok_domain::commerce::OrderStatus;
use rustok_domain::content::NodeAction;
use rustok_domain::event::LiveEvent;
use rustok_domain::{Command, NodeId};
use rustok_ui::Msg;
use support::*;

/// A committed event about `aggregate` (of `kind`) from another process.
fn event_about(kind: &str, aggregate: uuid::Uuid, seq: i64) -> LiveEvent {
    let o = fixture_orders()[0].clone();
    let mut e = order_event(&o, seq, "pending", "confirmed").envelope;
    e.aggregate_type = kind.into();
    e.aggregate_id = aggregate;
    if kind == "node" {
        e.event_type = "node.updated".into();
    }
    LiveEvent::new(seq, e)
}

fn node_by_title(h: &Harness, title: &str) -> NodeId {
    h.nodes
        .iter()
        .find(|n| n.source().title == title)
        .expect("fixture node")
        .id
}

/// The line of the screen that is highlighted can't be read from text; the title the
/// selected node is acted on tells: publish dispatches for the selected node.
fn publish_target(h: &mut Harness) -> (NodeId, Option<i64>) {
    h.chars("p");
    match h.dispatched.pop().expect("a command").1 {
        Command::NodeStatus(NodeTransition {
            id,
            action: NodeAction::Publish,
            expected_version,
        }) => (id, expected_version),
        other => panic!("expected publish, got {other:?}"),
    }
}

/// Selects the node with this title in the Content list (moving down from the top).
fn select(h: &mut Harness, title: &str) {
    h.chars("2g");
    for _ in 0..h.nodes.len() {
        // Publish dispatches for the selected (draft) node: peek by asking it.
        let target = h
            .nodes
            .iter()
            .position(|n| n.source().title == title)
            .unwrap();
        let id = h.nodes[target].id;
        h.chars("p");
        let hit = match h.dispatched.last() {
            Some((_, Command::NodeStatus(NodeTransition { id: got, .. }))) => *got == id,
            _ => false,
        };
        h.dispatched.clear();
        if hit {
            return;
        }
        h.chars("j");
    }
    panic!("{title} not reachable");
}

#[test]
fn a_re_sort_from_another_process_keeps_the_highlight_and_p_publishes_the_same_node() {
    let mut h = Harness::new(fixture_nodes());
    let draft = "Rust ownership explained";
    select(&mut h, draft);
    let wanted = node_by_title(&h, draft);
    let version = h.nodes.iter().find(|n| n.id == wanted).unwrap().version;
    // Another process edits two other nodes: both jump to the top of the list.
    for (i, title) in ["Shipping and returns", "About us"].iter().enumerate() {
        let id = node_by_title(&h, title);
        let n = h.nodes.iter_mut().find(|n| n.id == id).unwrap();
        n.updated_at = at(50 + i as u32);
        n.version += 1;
        h.send(Msg::Event(event_about("node", id.as_uuid(), 10 + i as i64)));
    }
    let (id, expected) = publish_target(&mut h);
    assert_eq!(id, wanted, "p acts on the node that is highlighted");
    assert_eq!(
        expected,
        Some(version),
        "with the version the screen showed"
    );
}

#[test]
fn an_insert_above_keeps_the_highlight() {
    let mut h = Harness::new(fixture_nodes());
    let title = "Rust ownership explained";
    select(&mut h, title);
    let wanted = node_by_title(&h, title);
    let mut fresh = fixture_nodes()[2].clone();
    fresh.id = NodeId::from_uuid(uuid::Uuid::from_u128(0xABCD));
    fresh.updated_at = at(55);
    h.nodes.push(fresh.clone());
    h.send(Msg::Event(event_about("node", fresh.id.as_uuid(), 20)));
    let screen = h.screen();
    assert!(
        screen.contains("Content 9"),
        "the new node is listed:\n{screen}"
    );
    assert_eq!(publish_target(&mut h).0, wanted);
}

#[test]
fn a_delete_selects_the_neighbour_and_says_so() {
    let mut h = Harness::new(fixture_nodes());
    let title = "Rust ownership explained";
    select(&mut h, title);
    let gone = node_by_title(&h, title);
    h.nodes.retain(|n| n.id != gone);
    h.send(Msg::Event(event_about("node", gone.as_uuid(), 21)));
    let screen = h.screen();
    assert!(
        screen.contains("the highlighted node is gone; the nearest one is selected"),
        "{screen}"
    );
    // The neighbour at its place (the list is newest first): "About us", published.
    h.chars("u");
    assert!(h.screen().contains("Unpublish “About us”?"));
    h.chars("y");
    match h.dispatched.pop().expect("a command").1 {
        Command::NodeStatus(NodeTransition { id, .. }) => {
            assert_eq!(id, node_by_title(&h, "About us"))
        }
        other => panic!("expected unpublish, got {other:?}"),
    }
}

#[test]
fn the_board_keeps_the_card_when_another_process_adds_an_order_before_it() {
    let mut h = Harness::shop();
    h.chars("4");
    h.chars("j"); // the second pending card
    let second = h.orders[1].id;
    // Another process places an order that sorts first in the pending column.
    let mut placed = order(9, OrderStatus::Pending, 1990);
    placed.id = rustok_domain::OrderId::from_uuid(uuid::Uuid::from_u128(0x4000));
    h.orders.insert(0, placed.clone());
    h.send(Msg::Event(event_about("order", placed.id.as_uuid(), 22)));
    assert!(h.screen().contains("pending 3"), "{}", h.screen());
    h.chars("c");
    match &h.dispatched[0].1 {
        Command::Order(OrderCommand::ConfirmOrder {
            id,
            expected_version,
        }) => {
            assert_eq!(*id, second, "c confirms the card that is highlighted");
            assert_eq!(*expected_version, Some(h.orders[2].version));
        }
        other => panic!("expected a confirm, got {other:?}"),
    }
}

#[test]
fn esc_after_opening_an_order_from_events_returns_to_the_same_event() {
    let mut h = Harness::shop();
    let stored = h.stored.clone();
    for e in &stored {
        h.send(Msg::Event(arc(e)));
    }
    h.chars("5");
    h.chars("j"); // the second newest event
    let before = h.screen();
    h.key(KeyCode::Enter);
    let detail = h.screen();
    assert!(
        detail.contains("Timeline") || detail.contains("timeline"),
        "{detail}"
    );
    h.key(KeyCode::Esc);
    let after = h.screen();
    assert_eq!(before, after, "back in Events, the same event selected");
}

#[test]
fn a_jump_from_the_newest_event_keeps_that_event_while_new_ones_arrive() {
    let mut h = Harness::shop();
    let stored = h.stored.clone();
    h.send(Msg::Event(arc(&stored[0])));
    h.chars("5");
    h.key(KeyCode::Enter);
    h.send(Msg::Event(arc(&stored[1])));
    h.key(KeyCode::Esc);
    h.chars("i"); // inspect the selected event
    let screen = h.screen();
    let first = stored[0].envelope.id.to_string();
    assert!(
        screen.contains(&first[first.len() - 8..]) || screen.contains(&first),
        "{screen}"
    );
}

#[test]
fn an_inventory_event_opens_the_stock_list_at_that_sku() {
    let mut h = Harness::shop();
    let mug = h.stock[1].clone();
    let mut e = (*event_about("product", mug.product_id.as_uuid(), 23)).clone();
    e.event_type = "inventory.low".into();
    h.send(Msg::Event(LiveEvent::new(23, e)));
    h.chars("5");
    h.key(KeyCode::Enter);
    h.chars("a"); // adjust opens for the selected SKU
    let screen = h.screen();
    assert!(screen.contains("MUG"), "{screen}");
    assert!(!screen.contains("BEANS-1KG on hand"), "{screen}");
    h.key(KeyCode::Esc);
    h.key(KeyCode::Esc);
    assert!(h.screen().contains("inventory.low"), "back in Events");
}

#[test]
fn the_message_log_keeps_every_message_newest_first() {
    let mut h = Harness::new(fixture_nodes());
    h.chars(":theme nope");
    h.key(KeyCode::Enter);
    h.chars(":theme light");
    h.key(KeyCode::Enter);
    h.chars("L");
    let screen = h.screen();
    let light = screen.find("theme light").expect("logged");
    let nope = screen.find("unknown theme 'nope'").expect("logged");
    assert!(light < nope, "newest first:\n{screen}");
    assert!(screen.contains("Messages (2"), "{screen}");
}

#[test]
fn palette_tab_completes_the_theme_without_erasing_what_was_typed() {
    let mut h = Harness::new(fixture_nodes());
    h.chars(":theme li");
    h.key(KeyCode::Tab);
    assert!(h.screen().contains(":theme light"), "{}", h.screen());
    h.key(KeyCode::Esc);
    h.chars(":the");
    h.key(KeyCode::Tab);
    assert!(h.screen().contains(":theme "), "{}", h.screen());
}

/// Events beside the order board, each with its own selection; `w` moves the keys.
fn split_shop() -> Harness {
    let mut h = Harness::shop();
    let stored = h.stored.clone();
    for e in &stored {
        h.send(Msg::Event(arc(e)));
    }
    h.chars("4"); // the board has the keys
    h.chars("|"); // Events beside it
    h
}

#[test]
fn split_view_side_by_side_120x40() {
    let mut h = split_shop();
    h.chars("j"); // the board's selection
    h.chars("w"); // keys to Events
    h.chars("j"); // Events' own selection
    let screen = h.screen();
    assert!(screen.contains("00005002"), "{screen}");
    assert!(screen.contains("order.status_ch"), "{screen}");
    assert_eq!(h.layouts.last().map(String::as_str), Some("side orders"));
    insta::assert_snapshot!(screen);
}

#[test]
fn split_view_stacked_80x24() {
    let mut h = split_shop();
    h.chars("|"); // stacked
    h.resize(80, 24);
    let screen = h.screen();
    assert_eq!(h.layouts.last().map(String::as_str), Some("stacked events"));
    insta::assert_snapshot!(screen);
    h.chars("|"); // off
    assert_eq!(h.layouts.last().map(String::as_str), Some("single"));
}

#[test]
fn a_kept_layout_is_restored() {
    let mut h = Harness::shop();
    h.app.restore_layout("side events");
    h.chars("4");
    assert_eq!(h.app.layout(), "side events");
    let screen = h.screen();
    assert!(
        screen.contains("Orders") && screen.contains("Events"),
        "{screen}"
    );
    h.app.restore_layout("nonsense");
    assert_eq!(h.app.layout(), "single");
}

#[test]
fn events_from_another_process_are_listed_newest_first_even_when_they_arrive_late() {
    let mut h = Harness::shop();
    let o = h.orders[0].clone();
    // Committed at 09:41, 09:43, 09:42 — the last arrives after a newer one.
    for seq in [11, 13, 12] {
        h.send(Msg::Event(arc(&order_event(
            &o,
            seq,
            "pending",
            "confirmed",
        ))));
    }
    h.chars("5");
    let screen = h.screen();
    let pos = |t: &str| screen.find(t).unwrap_or_else(|| panic!("{t}:\n{screen}"));
    assert!(pos("09:43:00") < pos("09:42:00") && pos("09:42:00") < pos("09:41:00"));
}

#[test]
fn the_palette_takes_the_short_id_screens_show() {
    let mut h = Harness::shop();
    // Unique: the order opens.
    h.chars(":order 00005003");
    h.key(KeyCode::Enter);
    let screen = h.screen();
    assert!(screen.contains("Timeline"), "{screen}");
    h.key(KeyCode::Esc);
    // Ambiguous: an error naming the candidates, nothing opens.
    let mut twin = order(1, OrderStatus::Pending, 990);
    twin.id = rustok_domain::OrderId::from_uuid(uuid::Uuid::from_u128(0x1_5001));
    h.orders.push(twin);
    h.chars(":order 5001");
    h.key(KeyCode::Enter);
    let screen = h.screen();
    assert!(screen.contains("is ambiguous"), "{screen}");
    // Unknown.
    h.chars(":order 99999999");
    h.key(KeyCode::Enter);
    assert!(
        h.screen().contains("no order ends with 99999999"),
        "{}",
        h.screen()
    );
    // A node by its short id.
    let n = fixture_nodes()[2].clone();
    let short = n.id.as_uuid().simple().to_string()[24..].to_string();
    h.chars(&format!(":node {short}"));
    h.key(KeyCode::Enter);
    assert!(h.screen().contains(&n.source().title), "{}", h.screen());
}

#[test]
fn shown_panes_follow_another_process_at_once_completeness_and_board_counts() {
    let mut h = Harness::shop();
    // Translations: the completeness count follows a node created elsewhere.
    h.chars("3");
    assert!(h.screen().contains("es     ███████"), "{}", h.screen());
    let mut fresh = fixture_nodes()[1].clone(); // "About us": en, es
    fresh.id = NodeId::from_uuid(uuid::Uuid::from_u128(0xBEEF));
    fresh.updated_at = at(56);
    h.nodes.push(fresh.clone());
    h.send(Msg::Event(event_about("node", fresh.id.as_uuid(), 24)));
    let screen = h.screen();
    assert!(screen.contains("Translate 9"), "{screen}");
    assert!(
        screen.contains("de     ████░") || screen.contains("7 missing"),
        "{screen}"
    );
    // The board: column counts follow an order placed elsewhere, with no Ctrl-R.
    h.chars("4");
    assert!(h.screen().contains("pending 2"));
    let placed = order(9, OrderStatus::Pending, 1990);
    h.orders.push(placed.clone());
    h.send(Msg::Event(event_about("order", placed.id.as_uuid(), 25)));
    assert!(h.screen().contains("pending 3"), "{}", h.screen());
    // The dashboard recounts when shown.
    h.chars("1");
    let mut extra = fixture_nodes()[2].clone();
    extra.id = NodeId::from_uuid(uuid::Uuid::from_u128(0xBEEF2));
    h.nodes.push(extra.clone());
    let before = h.screen();
    h.send(Msg::Event(event_about("node", extra.id.as_uuid(), 26)));
    let after = h.screen();
    assert_ne!(before, after, "the dashboard counted again");
}

#[test]
fn a_paused_event_selection_stays_on_its_event_when_a_late_one_arrives() {
    let mut h = Harness::shop();
    let o = h.orders[0].clone();
    for seq in [11, 13] {
        h.send(Msg::Event(arc(&order_event(
            &o,
            seq,
            "pending",
            "confirmed",
        ))));
    }
    h.chars("5");
    h.chars("j"); // the 09:41 event; following pauses
    h.chars("i");
    let before = h.screen();
    assert!(before.contains("09:41"), "{before}");
    // Committed at 09:42 but arrives last: listed between the two, selection unmoved.
    h.send(Msg::Event(arc(&order_event(
        &o,
        12,
        "pending",
        "confirmed",
    ))));
    h.send(Msg::Event(arc(&order_event(
        &o,
        14,
        "pending",
        "confirmed",
    ))));
    let after = h.screen();
    let inspected = |s: &str| {
        s.lines()
            .filter(|l| l.contains("occurred_at"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(inspected(&before), inspected(&after), "{after}");
}

#[test]
fn events_are_listed_in_the_stores_sequence_even_when_process_clocks_disagree() {
    let mut h = Harness::shop();
    let o = h.orders[0].clone();
    // Sequence 21 was stamped 09:45 by a process whose clock runs fast; 22 was stamped 09:44
    // by another, but committed after it: the store's order wins.
    let mut fast = order_event(&o, 15, "pending", "confirmed");
    fast.seq = 21;
    let mut slow = order_event(&o, 14, "confirmed", "paid");
    slow.seq = 22;
    h.send(Msg::Event(arc(&fast)));
    h.send(Msg::Event(arc(&slow)));
    h.chars("5");
    let screen = h.screen();
    let pos = |t: &str| screen.find(t).unwrap_or_else(|| panic!("{t}:\n{screen}"));
    assert!(pos("09:44:00") < pos("09:45:00"), "{screen}");
}

#[test]
fn the_selected_event_stays_selected_while_another_process_commits_around_it() {
    let mut h = Harness::shop();
    let orders = h.orders.clone();
    for (i, o) in orders.iter().take(3).enumerate() {
        h.send(Msg::Event(arc(&order_event(
            o,
            10 + i as i64,
            "pending",
            "confirmed",
        ))));
    }
    h.chars("5");
    h.chars("j"); // the second newest: orders[1]'s event (seq 11)
    // Another process commits a newer event and a late, older one.
    h.send(Msg::Event(arc(&order_event(
        &orders[3],
        20,
        "confirmed",
        "paid",
    ))));
    h.send(Msg::Event(arc(&order_event(
        &orders[4],
        5,
        "pending",
        "confirmed",
    ))));
    let screen = h.screen();
    assert!(screen.contains("paused · 1 new"), "{screen}");
    // Enter opens the order of the event that is highlighted: still orders[1]'s.
    h.key(KeyCode::Enter);
    let detail = h.screen();
    let want = orders[1].id.to_string();
    assert!(detail.contains(&want[want.len() - 8..]), "{detail}");
    h.key(KeyCode::Esc);
    h.chars("i");
    let inspected = h.screen();
    assert!(
        inspected.contains("\"version\": 11"),
        "back in Events on the same event: {inspected}"
    );
}

/// A clock tick changes nothing on screen outside the Dashboard and the Audit pane, so the
/// console loop draws no frame for it there (`App::shows_clock`); on the Dashboard it does.
#[test]
fn a_clock_tick_changes_the_screen_only_where_the_time_is_shown() {
    let mut h = Harness::new(fixture_nodes());
    for (key, shown) in [('2', false), ('4', false), ('5', false), ('1', true)] {
        h.chars(&key.to_string());
        let before = h.styled_screen();
        assert_eq!(h.app.shows_clock(), shown, "tab {key}");
        if !shown {
            for s in [5, 65, 3600] {
                h.send(Msg::Clock(at(0) + chrono::Duration::seconds(s)));
                assert_eq!(h.styled_screen(), before, "tab {key} after a tick of {s} s");
            }
        }
    }
}
