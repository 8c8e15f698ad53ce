//! The Events pane's ring, selection and filter.

use super::*;
use rustok_domain::event::{DomainEvent, EnvelopeMeta, NodeVersion};
use std::cell::Cell;

thread_local! {
    static SEQ: Cell<i64> = const { Cell::new(0) };
}

/// An event with the next sequence number.
fn ev(tenant: TenantId, kind: &str) -> LiveEvent {
    let seq = SEQ.with(|s| {
        s.set(s.get() + 1);
        s.get()
    });
    at(seq, tenant, kind)
}

/// An event with this sequence number.
fn at(seq: i64, tenant: TenantId, kind: &str) -> LiveEvent {
    let e = match kind {
        "restored" => DomainEvent::NodeRestored(NodeVersion { version: 2 }),
        _ => DomainEvent::NodeUnpublished(NodeVersion { version: 3 }),
    };
    LiveEvent::new(
        seq,
        EventEnvelope::new(
            &e,
            EnvelopeMeta {
                id: EventId::new_v7(),
                tenant_id: tenant,
                aggregate_id: uuid::Uuid::now_v7(),
                actor: "ann".into(),
                occurred_at: chrono::Utc::now(),
                correlation_id: None,
                causation_id: None,
            },
        ),
    )
}

fn seqs(p: &EventsPane, own: TenantId) -> Vec<i64> {
    p.matching(own).map(|e| e.seq).collect()
}

#[test]
fn the_ring_keeps_the_newest_and_pausing_keeps_the_selection() {
    let own = TenantId::new_v7();
    let mut p = EventsPane::new(3);
    let first = ev(own, "restored");
    p.push(first.clone(), own);
    p.toggle_follow(own); // pause
    assert_eq!(p.selected_event(own).unwrap().id, first.id);
    p.push(ev(own, "unpublished"), own);
    p.push(ev(own, "unpublished"), own);
    assert_eq!(
        p.selected_event(own).unwrap().id,
        first.id,
        "the selected event stays selected"
    );
    assert_eq!(p.new_since_pause, 2);
    assert_eq!(p.take_lost(), None);
    p.push(ev(own, "unpublished"), own); // evicts `first`
    assert_eq!(p.ring().len(), 3);
    assert!(p.ring().all(|e| e.id != first.id));
    let oldest = p.ring().next().unwrap().id;
    assert_eq!(
        p.selected_event(own).unwrap().id,
        oldest,
        "its newer neighbour is selected"
    );
    let said = p.take_lost().expect("the user is told");
    assert!(said.contains("left the live list"), "{said}");
    p.toggle_follow(own);
    assert_eq!(
        p.selected_event(own).unwrap().id,
        p.ring().last().unwrap().id
    );
}

#[test]
fn events_are_listed_in_the_stores_sequence_whatever_order_they_arrive_in() {
    let own = TenantId::new_v7();
    let mut p = EventsPane::new(10);
    for seq in [10, 12, 11, 14, 13] {
        p.push(at(seq, own, "x"), own);
    }
    assert_eq!(seqs(&p, own), vec![14, 13, 12, 11, 10], "newest first");
    // The same event delivered twice (two paths, or a relay retry) is listed once.
    p.push(at(12, own, "x"), own);
    assert_eq!(seqs(&p, own), vec![14, 13, 12, 11, 10]);
    // A full ring drops a late event older than everything it keeps, not a newer one.
    let mut full = EventsPane::new(2);
    full.push(at(5, own, "x"), own);
    full.push(at(6, own, "x"), own);
    full.push(at(4, own, "x"), own);
    assert_eq!(seqs(&full, own), vec![6, 5]);
}

#[test]
fn a_paused_selection_stays_on_its_event_and_its_line_as_events_arrive_around_it() {
    let own = TenantId::new_v7();
    let mut p = EventsPane::new(100);
    for seq in 1..=20 {
        p.push(at(seq * 10, own, "x"), own);
    }
    p.move_by(5, 10, own); // pauses on the 6th newest
    let chosen = p.selected_event(own).unwrap().id;
    assert_eq!(p.selected_pos(own).unwrap().1.seq, 150);
    // Newer events, and late ones both above and below it.
    p.push(at(300, own, "x"), own);
    p.push(at(155, own, "x"), own);
    p.push(at(145, own, "x"), own);
    p.push(at(5, own, "x"), own);
    assert_eq!(p.selected_event(own).unwrap().id, chosen);
    assert_eq!(p.new_since_pause, 2, "300 and 155 are newer than it");
    // Moving goes from where the event is now.
    p.move_by(1, 10, own);
    assert_eq!(p.selected_pos(own).unwrap().1.seq, 145);
    p.move_by(-2, 10, own);
    assert_eq!(p.selected_pos(own).unwrap().1.seq, 155);
}

#[test]
fn a_filter_keeps_the_selection_on_its_event_or_the_nearest_older_match() {
    let own = TenantId::new_v7();
    let mut p = EventsPane::new(100);
    for seq in 1..=6 {
        let kind = if seq % 2 == 0 { "restored" } else { "x" };
        p.push(at(seq, own, kind), own);
    }
    p.move_by(2, 10, own); // seq 4, a restored one
    p.set_filter("type:node.restored".into());
    assert_eq!(p.selected_pos(own).unwrap().1.seq, 4);
    p.set_filter("type:node.unpublished".into());
    assert_eq!(
        p.selected_pos(own).unwrap().1.seq,
        3,
        "the nearest older match stands in for it"
    );
    p.set_filter(String::new());
    assert_eq!(p.selected_pos(own).unwrap().1.seq, 4, "and it comes back");
}

fn stored(seq: i64, own: TenantId) -> StoredEvent {
    StoredEvent {
        seq,
        envelope: (*at(seq, own, "x").event).clone(),
        status: "failed".into(),
        attempts: 5,
        last_error: Some("boom".into()),
        dispatched_at: None,
    }
}

#[test]
fn the_dead_letter_view_shows_what_the_filter_matches_and_keeps_its_selection() {
    let own = TenantId::new_v7();
    let mut p = EventsPane::new(10);
    p.mode = Mode::DeadLetters;
    p.on_dead_letters((1..=6).map(|s| stored(s, own)).collect());
    p.move_by(3, 10, own);
    assert_eq!(p.selected_dead_letter().unwrap().seq, 4);
    p.set_filter("seq>2 seq<6".into());
    let shown: Vec<i64> = p.dead_matching().iter().map(|d| d.seq).collect();
    assert_eq!(shown, vec![3, 4, 5]);
    assert_eq!(p.selected_dead_letter().unwrap().seq, 4, "still selected");
    p.set_filter("seq>=5".into());
    assert_eq!(p.selected_dead_letter().unwrap().seq, 5);
}

#[test]
fn the_dead_letter_selection_stays_on_its_row_when_the_list_reloads() {
    let own = TenantId::new_v7();
    let mut p = EventsPane::new(10);
    p.mode = Mode::DeadLetters;
    p.on_dead_letters((1..=5).map(|s| stored(s, own)).collect());
    p.move_by(3, 10, own);
    assert_eq!(p.selected_dead_letter().unwrap().seq, 4);
    // Another process retried two of the rows above it.
    p.on_dead_letters([3, 4, 5].into_iter().map(|s| stored(s, own)).collect());
    assert_eq!(p.selected_dead_letter().unwrap().seq, 4);
    // It was retried itself: the row now at its place.
    p.on_dead_letters([3, 5].into_iter().map(|s| stored(s, own)).collect());
    assert_eq!(p.selected_dead_letter().unwrap().seq, 5);
}

#[test]
fn filters() {
    let own = TenantId::new_v7();
    let other = TenantId::new_v7();
    let e = ev(own, "restored");
    let now = chrono::Utc::now();
    let m = |text: &str, tenant: TenantId| {
        Spec::parse(text)
            .unwrap_or_else(|err| panic!("{text}: {err}"))
            .matches(e.seq, &e, tenant, now)
    };
    assert!(m("", own));
    assert!(!m("", other), "other tenants are hidden by default");
    assert!(m("tenant:*", other));
    assert!(m(&format!("tenant:{own}"), own));
    assert!(!m(&format!("tenant:{other}"), own));
    // What the console's filter took before the query language still works.
    assert!(m("type:node.res", own));
    assert!(!m("type:order.", own));
    assert!(m("agg:node ann", own));
    assert!(m(&format!("agg:{}", &e.aggregate_id.to_string()[..8]), own));
    let short = crate::widgets::node_list::short_id(e.aggregate_id);
    assert!(m(&format!("agg:{short}"), own));
    assert!(m(&format!("agg:{}", e.aggregate_id), own));
    assert!(!m("bob", own));
    // And the grammar's terms.
    assert!(m("type:node.* actor:ann since:1h", own));
    assert!(m(&format!("seq={}", e.seq), own));
    assert!(!m(&format!("seq>{}", e.seq), own));
    assert!(m("payload.version=2", own));
    assert!(!m("payload.version>2", own));
    assert!(!m("until:1h", own));
    let err = Spec::parse("seq>abc").unwrap_err().to_string();
    assert_eq!(err, "filter term 'seq>abc': 'abc' is not a whole number");
}

#[test]
fn a_malformed_filter_keeps_the_last_valid_one_and_says_why() {
    let own = TenantId::new_v7();
    let mut p = EventsPane::new(10);
    p.push(at(1, own, "restored"), own);
    p.push(at(2, own, "x"), own);
    p.set_filter("type:node.restored".into());
    assert_eq!(seqs(&p, own), vec![1]);
    p.set_filter("type:node.restored payload.".into());
    assert!(p.filter_error.as_deref().unwrap().contains("'payload.'"));
    assert_eq!(
        seqs(&p, own),
        vec![1],
        "the last valid filter still applies"
    );
    p.set_filter(String::new());
    assert_eq!(p.filter_error, None);
    assert_eq!(seqs(&p, own), vec![2, 1]);
}

#[test]
fn seek_goes_to_a_sequence_number_or_a_time() {
    let own = TenantId::new_v7();
    let mut p = EventsPane::new(100);
    let t0 = chrono::Utc::now() - chrono::Duration::hours(1);
    for seq in 10..=30 {
        let mut e = at(seq, own, "x");
        // One event a minute.
        std::sync::Arc::make_mut(&mut e.event).occurred_at =
            t0 + chrono::Duration::minutes(seq - 10);
        p.push(e, own);
    }
    p.clock(t0 + chrono::Duration::minutes(20));
    let said = p.seek("15", own).unwrap();
    assert!(!p.follow);
    assert_eq!(p.selected_pos(own).unwrap().1.seq, 15, "{said}");
    // It stays on it as events arrive.
    p.push(at(31, own, "x"), own);
    assert_eq!(p.selected_pos(own).unwrap().1.seq, 15);
    // A time: the first event at or after it (5 minutes before the clock: seq 25).
    p.seek("5m", own).unwrap();
    assert_eq!(p.selected_pos(own).unwrap().1.seq, 25);
    let at_17 = (t0 + chrono::Duration::minutes(7)).to_rfc3339();
    p.seek(&at_17, own).unwrap();
    assert_eq!(p.selected_pos(own).unwrap().1.seq, 17);
    // Not in the list: the nearest older match, or the stored history from it.
    p.set_filter("seq!=20".into());
    let said = p.seek("20", own).unwrap();
    assert_eq!(p.selected_pos(own).unwrap().1.seq, 19, "{said}");
    let said = p.seek("3", own).unwrap();
    assert_eq!(p.mode, Mode::History, "{said}");
    assert_eq!(
        p.history_needs(10),
        Some(Some(4 + SEEK_CONTEXT)),
        "the first page starts a little after #3, so what followed it is above it"
    );
    // The page arrives: #3 is selected, the later events above it.
    let page: Vec<StoredEvent> = (1..=3 + SEEK_CONTEXT)
        .rev()
        .map(|seq| kept(at(seq, own, "x")))
        .collect();
    p.on_history(page);
    assert_eq!(
        p.selected_event(own).unwrap().id,
        p.history[SEEK_CONTEXT as usize].envelope.id
    );
    // A time older than the live list is the store's to find.
    let said = p
        .seek(&(t0 - chrono::Duration::hours(2)).to_rfc3339(), own)
        .unwrap();
    assert!(p.seek_since.is_some(), "{said}");
    // Nonsense is a one-line error, nothing moves.
    for bad in ["", "soon", "10x", "\u{1b}[2J"] {
        let e = p.seek(bad, own).unwrap_err();
        assert!(!e.contains('\n') && !e.contains('\u{1b}'), "{e}");
    }
}

#[test]
fn the_rate_window_moves_with_the_clock() {
    let own = TenantId::new_v7();
    let mut p = EventsPane::new(10);
    let t0 = chrono::Utc::now();
    p.clock(t0);
    p.push(ev(own, "x"), own);
    p.push(ev(own, "x"), own);
    assert_eq!(p.rate().back(), Some(&2));
    p.clock(t0 + chrono::Duration::seconds(3));
    assert_eq!(
        p.rate().iter().rev().take(4).copied().collect::<Vec<_>>(),
        vec![0, 0, 0, 2]
    );
    assert_eq!(p.rate().len(), RATE_WINDOW);
}

/// A live event as the store keeps it (delivered).
fn kept(e: LiveEvent) -> StoredEvent {
    StoredEvent {
        seq: e.seq,
        envelope: (*e.event).clone(),
        status: "dispatched".into(),
        attempts: 0,
        last_error: None,
        dispatched_at: None,
    }
}

#[test]
fn the_history_is_filtered_and_its_selection_stays_on_its_event() {
    let own = TenantId::new_v7();
    let mut p = EventsPane::new(10);
    p.open_history();
    // A full page, newest first: #200 .. #1, the even ones restored.
    let page: Vec<StoredEvent> = (1..=HISTORY_PAGE as i64)
        .rev()
        .map(|seq| kept(at(seq, own, if seq % 2 == 0 { "restored" } else { "x" })))
        .collect();
    p.on_history(page);
    assert_eq!(p.history_matching().len(), 200);
    p.set_filter("type:node.restored seq<=20".into());
    let seqs: Vec<i64> = p.history_matching().iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=10).rev().map(|i| i * 2).collect::<Vec<_>>());
    // Down three: #14.
    p.move_by(3, 10, own);
    let selected = |p: &EventsPane| {
        let id = p.selected_event(own).unwrap().id;
        p.history.iter().find(|e| e.envelope.id == id).unwrap().seq
    };
    assert_eq!(selected(&p), 14);
    // Another filter that keeps #14 keeps it selected; one that drops it goes to the
    // nearest older match.
    p.set_filter("seq<=16".into());
    assert_eq!(selected(&p), 14);
    p.set_filter("seq!=14 seq<=20 type:node.restored".into());
    assert_eq!(selected(&p), 12);
    // The filter's matches, not the rows loaded, decide when more is loaded.
    p.set_filter("seq>1000".into());
    assert!(p.history_matching().is_empty());
    assert!(
        p.history_needs(10).is_some(),
        "nothing matches yet: load on"
    );
}

/// The list's time and aggregate columns read as chrono's `%H:%M:%S%.3f` and `short_id` would
/// write them, including midnight, the last millisecond of a day and a leap second.
#[test]
fn the_rows_time_and_id_are_written_as_chrono_and_short_id_write_them() {
    use chrono::{NaiveDate, TimeZone, Utc};
    let day = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap();
    let times = [
        (0, 0, 0, 0),
        (0, 0, 0, 999_999),
        (9, 5, 7, 1_000_000),
        (12, 34, 56, 789_123_456),
        (23, 59, 59, 999_999_999),
        // A leap second: chrono keeps it as 59 s and over a billion nanoseconds.
        (23, 59, 59, 1_234_567_890),
    ];
    for (h, m, s, n) in times {
        let at = Utc.from_utc_datetime(&day.and_hms_nano_opt(h, m, s, n).unwrap());
        assert_eq!(
            time_millis(at),
            at.format("%H:%M:%S%.3f").to_string(),
            "{h}:{m}:{s}.{n}"
        );
    }
    for i in 0..50u128 {
        let id = uuid::Uuid::from_u128(i.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835));
        assert_eq!(short_hex(id, &mut [0; 32]), short_id(id));
    }
}
