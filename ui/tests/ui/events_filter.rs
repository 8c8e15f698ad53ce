//! The Events pane's filter is the event query language (issue 19, item 4): what it shows,
//! a malformed or hostile expression said in the status line (never a panic), `:seek`, and
//! re-driving dead letters after a confirmation with the dry run's count (item 5).

use crate::support;

use ratatui::crossterm::event::KeyCode;
use rustok_domain::Command;
use rustok_domain::short_id;
use rustok_ui::Msg;
use support::*;

fn events(h: &mut Harness) {
    h.chars("5");
    h.send(Msg::Clock(at(40)));
    for e in h.stored.clone() {
        h.send(Msg::Event(arc(&e)));
    }
}

fn short(h: &Harness, i: usize) -> String {
    short_id(h.orders[i].id.as_uuid())
}

#[test]
fn the_filter_takes_the_query_language() {
    let mut h = Harness::shop();
    events(&mut h);
    let screen = h.screen();
    for i in [2, 3, 4] {
        assert!(screen.contains(&short(&h, i)), "{screen}");
    }
    h.chars("/type:order.* payload.to=paid");
    h.key(KeyCode::Enter);
    let screen = h.screen();
    assert!(screen.contains(&short(&h, 3)), "{screen}");
    assert!(!screen.contains(&short(&h, 2)), "{screen}");
    assert!(!screen.contains(&short(&h, 4)), "{screen}");
    // The short id screens show, and sequence numbers.
    h.key(KeyCode::Esc);
    h.chars(&format!("/agg:{} seq>=2", short(&h, 4)));
    h.key(KeyCode::Enter);
    let screen = h.screen();
    assert!(screen.contains(&short(&h, 4)), "{screen}");
    assert!(!screen.contains(&short(&h, 3)), "{screen}");
}

#[test]
fn a_malformed_or_hostile_filter_is_said_in_the_status_line() {
    let mut h = Harness::shop();
    events(&mut h);
    let long = "a".repeat(10_000);
    for (typed, says) in [
        (
            "seq>abc",
            "filter term 'seq>abc': 'abc' is not a whole number",
        ),
        ("payload.=", "filter term 'payload.='"),
        ("type:order.* \"unbalanced", "the quote is not closed"),
        ("x\u{1b}[2J\u{7}y", "control characters are not allowed"),
        ("colour:red", "unknown key"),
        (long.as_str(), "the filter is too long"),
    ] {
        h.chars("/");
        h.chars(typed);
        h.key(KeyCode::Enter);
        let screen = h.screen();
        assert!(screen.contains(says), "{says}:\n{screen}");
        assert!(!screen.contains('\u{1b}'), "{screen}");
        assert!(
            screen.contains("not applied"),
            "the list says its filter is not the text:\n{screen}"
        );
        // Still editing: Esc clears it and every event is back.
        h.key(KeyCode::Esc);
        let screen = h.screen();
        assert!(!screen.contains("not applied"), "{screen}");
        for i in [2, 3, 4] {
            assert!(screen.contains(&short(&h, i)), "{screen}");
        }
    }
}

#[test]
fn seek_goes_to_a_sequence_number_or_a_time() {
    let mut h = Harness::shop();
    events(&mut h);
    h.chars(":seek 2");
    h.key(KeyCode::Enter);
    let screen = h.screen();
    assert!(screen.contains("#2 order.status_changed"), "{screen}");
    assert!(screen.contains("paused"), "{screen}");
    h.chars("i");
    let screen = h.screen();
    assert!(
        screen.contains(&h.orders[3].id.to_string()),
        "the inspector shows event #2:\n{screen}"
    );
    h.chars("i");
    // Events occurred at minutes 31..33; the clock says 40: 8 minutes ago is minute 32.
    h.chars(":seek 8m");
    h.key(KeyCode::Enter);
    assert!(h.screen().contains("#2: the first event since"));
    h.chars(":seek whenever");
    h.key(KeyCode::Enter);
    let screen = h.screen();
    assert!(
        screen.contains(":seek 'whenever': expected a duration"),
        "{screen}"
    );
}

#[test]
fn all_dead_letters_matching_the_filter_are_redriven_after_a_dry_run() {
    let mut h = Harness::shop();
    // Two more dead letters, of another order.
    let o = h.orders[1].clone();
    for seq in [4, 5] {
        let mut dead = order_event(&o, seq, "paid", "shipped");
        dead.status = "failed".into();
        dead.attempts = 5;
        dead.last_error = Some("mailer: timeout".into());
        h.stored.push(dead);
    }
    events(&mut h);
    h.chars("D");
    assert!(h.screen().contains("3 loaded"));
    h.chars(&format!("/agg:{}", short_id(o.id.as_uuid())));
    h.key(KeyCode::Enter);
    let screen = h.screen();
    assert!(screen.contains("mailer: timeout"), "{screen}");
    assert!(!screen.contains("search-index"), "{screen}");
    h.chars(":retry");
    h.key(KeyCode::Enter);
    let screen = h.screen();
    assert!(
        screen.contains("Dry run: 2 dead letter(s) would be put back"),
        "{screen}"
    );
    assert!(h.dispatched.is_empty(), "nothing before yes");
    h.chars("y");
    let (_, command) = h.dispatched.last().cloned().expect("dispatched");
    assert_eq!(
        command,
        Command::RetryDeadLetters {
            ids: vec![h.stored[3].envelope.id, h.stored[4].envelope.id]
        }
    );
    // A filter that matches none: nothing to confirm, nothing sent (never "all").
    h.dispatched.clear();
    h.chars("/");
    h.key(KeyCode::Esc);
    h.chars("/seq>99");
    h.key(KeyCode::Enter);
    h.chars(":retry");
    h.key(KeyCode::Enter);
    let screen = h.screen();
    assert!(
        screen.contains("no dead letter matches the filter"),
        "{screen}"
    );
    assert!(h.dispatched.is_empty());
}

#[test]
fn a_read_only_session_cannot_redrive() {
    let mut h = Harness::with(fixture_nodes(), Default::default(), true);
    h.chars("5");
    h.chars(":retry");
    h.key(KeyCode::Enter);
    assert!(h.screen().contains("read-only session"));
    assert!(h.dispatched.is_empty());
}
