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

#[test]
fn seek_to_a_time_before_the_live_list_opens_the_stored_history_there() {
    let mut h = Harness::shop();
    h.chars("5");
    h.send(Msg::Clock(at(40)));
    // Only the newest stored event (#3, minute 33) reached this console live.
    let newest = h.stored.last().cloned().unwrap();
    h.send(Msg::Event(arc(&newest)));
    // Minute 31: older than the live list, so the store finds the first event since (#1).
    let when = at(31).to_rfc3339();
    h.chars(&format!(":seek {when}"));
    h.key(KeyCode::Enter);
    let screen = h.screen();
    assert!(screen.contains("History (from the store"), "{screen}");
    assert!(
        screen.contains("the first event since"),
        "the status line says where it went:\n{screen}"
    );
    h.chars("i");
    let screen = h.screen();
    let first = h.stored[0].envelope.id.to_string();
    assert!(screen.contains(&first), "the inspector shows #1:\n{screen}");
    // Older than anything stored: the store's first event (#1) too.
    h.chars("i");
    h.chars(&format!(":seek {}", at(10).to_rfc3339()));
    h.key(KeyCode::Enter);
    assert!(
        h.screen().contains("the first event since"),
        "{}",
        h.screen()
    );
    // Later than anything: said, nothing moves.
    h.chars(&format!(":seek {}", at(50).to_rfc3339()));
    h.key(KeyCode::Enter);
    assert!(
        h.screen().contains("no event in the live list since"),
        "{}",
        h.screen()
    );
}

#[test]
fn the_dashboard_shows_each_stream_consumer_with_its_rate_and_lag_on_a_timer() {
    use rustok_domain::read::ConsumerStats;
    let mut h = Harness::shop();
    let stream = |delivered: u64, pending: u64, failed: u64| ConsumerStats {
        consumer: "jetstream:RUSTOK_EVENTS".into(),
        delivered,
        pending,
        failed,
        lag_events: pending,
        lag_seconds: pending as f64 / 10.0,
        last_error: (failed > 0).then(|| "nats: timed out".into()),
        last_delivered_at: None,
    };
    h.chars("1");
    // No stream: the timer reads nothing (and draws nothing) however long it runs.
    let reads = h.consumer_reads;
    for s in 0..10 {
        h.send(Msg::Clock(at(30) + chrono::Duration::seconds(s)));
    }
    assert_eq!(h.consumer_reads, reads);
    // A stream shows at the next reload an event brings, then is read on the timer.
    h.consumers = vec![stream(1_000, 0, 0)];
    let e = h.stored[0].clone();
    h.send(Msg::Event(arc(&e)));
    h.send(Msg::Clock(at(40)));
    // The timer reads the consumers again every 2 s while the dashboard is shown, with no
    // event reaching this console; each reading adds a rate sample.
    let t = |s: i64| at(40) + chrono::Duration::seconds(s);
    for (s, delivered) in [(1, 1_000), (2, 1_400), (4, 2_400), (6, 5_400)] {
        h.consumers = vec![stream(delivered, 0, 0)];
        h.send(Msg::Clock(t(s)));
    }
    h.consumers = vec![stream(6_000, 37, 2)];
    let reads = h.consumer_reads;
    h.send(Msg::Clock(t(8)));
    h.send(Msg::Clock(t(9)));
    assert_eq!(h.consumer_reads, reads + 1, "once per 2 s");
    let screen = h.screen();
    assert!(
        screen.contains("→ RUSTOK_EVENTS 300/s · lag 37 · 4 s · 2 failed"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
}

/// A filter takes a paste as it takes typing (it ignored one): one line, bounded.
#[test]
fn a_paste_goes_into_the_filter_being_typed() {
    let mut h = Harness::shop();
    events(&mut h);
    h.chars("/");
    h.send(Msg::Paste("type:order.*\npayload.to=paid".into()));
    h.key(KeyCode::Enter);
    let screen = h.screen();
    assert!(
        screen.contains("filter: type:order.* payload.to=paid"),
        "{screen}"
    );
    assert!(screen.contains(&short(&h, 3)), "{screen}");
    assert!(!screen.contains(&short(&h, 2)), "{screen}");
    // Not while the filter is not being typed: a paste is no key.
    h.send(Msg::Paste("q".into()));
    assert!(!h.app.should_quit());
    // Bounded like typing: a huge paste is cut, and said too long.
    h.key(KeyCode::Esc);
    h.chars("/");
    h.send(Msg::Paste("a".repeat(1_000_000)));
    h.key(KeyCode::Enter);
    assert!(h.screen().contains("too long"), "{}", h.screen());
}

/// Content's list filter takes a paste (an id or a title copied from elsewhere).
#[test]
fn a_paste_goes_into_the_node_list_filter() {
    let mut h = Harness::new(fixture_nodes());
    h.chars("/");
    h.send(Msg::Paste("Welcome\tto".into()));
    let screen = h.screen();
    assert!(screen.contains("Welcome to Acme"), "{screen}");
    assert!(screen.contains("/Welcome to█"), "{screen}");
    // Bounded: the filter keeps 200 characters in all (the 10 it had and 190 of the 10,000
    // pasted), so 200 backspaces empty it.
    h.send(Msg::Paste("x".repeat(10_000)));
    for _ in 0..199 {
        h.key(KeyCode::Backspace);
    }
    assert!(h.screen().contains("/W█"), "{}", h.screen());
    h.key(KeyCode::Backspace);
    assert!(h.screen().contains("/█"), "{}", h.screen());
}
