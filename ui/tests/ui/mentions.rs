//! Issue 21, item 3: order notes in the console — the note form, the order's timeline with its
//! notes, and `@mentions`: a live mention of the session's member is a line in the message log
//! and an alert on the status line whose key opens the order (and marks it read); unread
//! mentions from while they were away show at start.

use crate::support;

use ratatui::crossterm::event::KeyCode;
use rustok_domain::DomainError;
use rustok_domain::commerce::{Mention, Order};
use rustok_domain::event::{DomainEvent, EnvelopeMeta, EventEnvelope};
use rustok_domain::read::StoredEvent;
use rustok_domain::{Command, EventId, NoteId, TenantId};
use rustok_ui::{Failure, Msg};
use support::*;
use uuid::Uuid;

/// Bob's console (a manager) on the shop's orders and events.
fn bobs_shop() -> Harness {
    let shop = Harness::shop();
    let mut h = Harness::signed_in("bob", "manager", false);
    h.orders = shop.orders;
    h.stock = shop.stock;
    h.stored = shop.stored;
    h
}

fn note_id(i: u128) -> NoteId {
    NoteId::from_uuid(Uuid::from_u128(0xb000 + i))
}

/// An `order.note_added` event of `order` by `author`, stored at a fixed time.
fn note_event(order: &Order, seq: i64, author: &str, text: &str, mentions: &[&str]) -> StoredEvent {
    let payload = serde_json::json!({
        "note_id": note_id(seq as u128),
        "author": author,
        "text": text,
        "mentions": mentions,
    });
    let event = DomainEvent::from_parts("order.note_added", &payload).expect("valid payload");
    let envelope = EventEnvelope::new(
        &event,
        EnvelopeMeta {
            id: EventId::from_uuid(Uuid::from_u128(0x9100 + seq as u128)),
            tenant_id: order.tenant_id,
            aggregate_id: order.id.as_uuid(),
            actor: author.into(),
            occurred_at: at(30 + seq as u32),
            correlation_id: None,
            causation_id: None,
        },
    );
    StoredEvent {
        seq,
        envelope,
        status: "dispatched".into(),
        attempts: 0,
        last_error: None,
        dispatched_at: Some(at(31)),
    }
}

#[test]
fn order_timeline_with_notes() {
    let mut h = bobs_shop();
    let o3 = h.orders[2].clone();
    h.stored.push(note_event(
        &o3,
        4,
        "alice",
        "customer called: deliver to the back door — @bob please check",
        &["bob"],
    ));
    h.stored
        .push(note_event(&o3, 5, "bob", "done, label updated", &[]));
    h.chars("4");
    h.chars("l"); // confirmed: order 3
    h.key(KeyCode::Enter);
    let screen = h.screen();
    assert!(screen.contains("pending → confirmed"), "{screen}");
    assert!(screen.contains("alice: customer"), "{screen}");
    assert!(screen.contains("bob: done, label"), "{screen}");
    assert!(
        screen.contains("n note"),
        "the detail offers a note: {screen}"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn the_note_form_dispatches_a_note_on_the_selected_order() {
    let mut h = bobs_shop();
    h.chars("4");
    h.chars("l"); // confirmed: order 3 selected
    h.chars("n");
    h.chars("gift wrap please @carol");
    let screen = h.screen();
    assert!(screen.contains("Note on order 00005003"), "{screen}");
    insta::assert_snapshot!("note_form", screen);
    // The first Enter goes to the button (a dialog never submits from its first field).
    h.key(KeyCode::Enter);
    assert!(h.dispatched.is_empty(), "{:?}", h.dispatched);
    h.key(KeyCode::Enter);
    let [(_, Command::AddOrderNote { id, text, .. })] = h.dispatched.as_slice() else {
        panic!("one note: {:?}", h.dispatched)
    };
    assert_eq!(
        (*id, text.as_str()),
        (h.orders[2].id, "gift wrap please @carol")
    );
    // Refused (an unknown handle): the form comes back with the reason and the text.
    h.reply(Err(Failure::Domain(DomainError::validation(
        "mention",
        "@carol is not a staff member; did you mean @carl?",
    ))));
    let screen = h.screen();
    assert!(screen.contains("gift wrap please @carol"), "{screen}");
    assert!(screen.contains("did you mean @carl?"), "{screen}");
    h.key(KeyCode::Esc);
    // An empty note is not sent.
    h.chars("n");
    h.key(KeyCode::Enter);
    h.key(KeyCode::Enter);
    assert!(h.dispatched.is_empty());
    assert!(h.screen().contains("write the note first"));
    h.key(KeyCode::Esc);
    // A read-only session (support over SSH) cannot write notes.
    let mut ro = Harness::signed_in("sue", "support", true);
    ro.orders = h.orders.clone();
    ro.chars("4n");
    assert!(ro.dispatched.is_empty());
    assert!(
        ro.screen()
            .contains("read-only session: add note is disabled")
    );
}

#[test]
fn mention_alert() {
    let mut h = bobs_shop();
    let o4 = h.orders[3].clone();
    h.send(Msg::Clock(at(40)));
    let e = note_event(
        &o4,
        7,
        "alice",
        "@bob the customer is on the phone",
        &["bob"],
    );
    h.send(Msg::Event(e.live()));
    let screen = h.screen();
    assert!(
        screen.contains("✉ @alice 00005004 · M"),
        "the status line's alert: {screen}"
    );
    assert!(
        screen.contains("@alice mentioned you on order 00005004"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
    // The same event again (the relay and the feed both deliver it): one mention.
    h.send(Msg::Event(e.live()));
    assert_eq!(h.app.mentions().len(), 1);
    assert_eq!(
        h.app
            .messages()
            .filter(|m| m.text.contains("mentioned you"))
            .count(),
        1,
        "one line in the message log"
    );
    // Its key opens the order and marks the mention read.
    h.chars("M");
    let screen = h.screen();
    assert!(screen.contains(&format!("Order {}", o4.id)), "{screen}");
    assert!(!screen.contains('✉'), "{screen}");
    assert_eq!(h.marked_read, [note_id(7)]);
    assert!(h.app.mentions().is_empty());
    h.chars("M");
    assert!(h.screen().contains("no unread mentions"));
}

#[test]
fn only_the_mentioned_member_of_this_tenant_is_alerted() {
    let mut h = bobs_shop();
    let o4 = h.orders[3].clone();
    // Someone else is mentioned; a note without mentions.
    h.send(Msg::Event(
        note_event(&o4, 7, "alice", "@carol call back", &["carol"]).live(),
    ));
    h.send(Msg::Event(
        note_event(&o4, 8, "alice", "packed", &[]).live(),
    ));
    // Bob, mentioned in another tenant's order.
    let mut theirs = o4.clone();
    theirs.tenant_id = TenantId::from_uuid(Uuid::from_u128(2));
    h.send(Msg::Event(
        note_event(&theirs, 9, "zed", "@bob hi", &["bob"]).live(),
    ));
    assert!(h.app.mentions().is_empty());
    assert!(!h.screen().contains('✉'));
}

#[test]
fn unread_mentions_show_at_start_and_opening_the_order_reads_them() {
    let mut h = bobs_shop();
    let (o3, o4) = (h.orders[2].clone(), h.orders[3].clone());
    let mention = |i: u128, order: &Order, minute: u32| Mention {
        note_id: note_id(i),
        order_id: order.id,
        author: "alice".into(),
        text: format!("@bob note {i}"),
        created_at: at(minute),
    };
    h.mentions = vec![
        mention(1, &o3, 20),
        mention(2, &o4, 21),
        mention(3, &o3, 22),
    ];
    // The console starts (again) as after a restart: it asks for the unread mentions.
    let fx = h.app.init();
    h.run(fx);
    let screen = h.screen();
    assert_eq!(
        h.app.messages().next().map(|m| m.text.as_str()),
        Some("3 unread mentions — M opens the newest")
    );
    assert!(
        screen.contains("✉ 3 mentions: @alice 00005003 · M"),
        "{screen}"
    );
    // Opening order 3 by hand reads both of its mentions; order 4's stays.
    h.chars("4");
    h.chars("l");
    h.key(KeyCode::Enter);
    assert_eq!(h.marked_read, [note_id(1), note_id(3)]);
    assert_eq!(h.app.mentions().len(), 1);
    assert!(h.screen().contains("✉ @alice 00005004 · M"));
}
