//! Issue 21, item 3: notes on an order's timeline with `@mentions`, on SQLite and PostgreSQL —
//! a note leaves the order (and its version) alone, its event carries the mentioned handles,
//! a mention of an unknown handle is refused with the close matches and writes nothing, the
//! mentioned member's unread mentions are kept until marked read, and another tenant sees none
//! of it.

use super::domain;
use crate::support::TestApp;
use crate::support::fixtures::{order, product};
use rustok_domain::commerce::OrderAction;
use rustok_domain::rbac::Role;
use rustok_domain::staff::StaffDraft;
use rustok_domain::{Command, NoteId, OrderId, StaffId};
use rustok_store::Outcome;

async fn add_staff(app: &TestApp, handle: &str, role: Role) {
    app.exec(Command::AddStaff(StaffDraft {
        id: StaffId::new_v7(),
        handle: handle.into(),
        display_name: None,
        role,
        ssh_keys: vec![],
        mfa_enabled: false,
    }))
    .await
    .unwrap();
}

fn note(id: OrderId, text: &str) -> Command {
    Command::AddOrderNote {
        id,
        note_id: NoteId::new_v7(),
        text: text.into(),
    }
}

async fn test_a_note_changes_nothing_on_the_order_and_tells_who_it_mentions(app: TestApp) {
    add_staff(&app, "bob", Role::Manager).await;
    add_staff(&app, "sue", Role::Support).await;
    app.create_product(product("MUG", "4.00", 5)).await.unwrap();
    let o = app.create_order(order(&[("MUG", 1)], None)).await.unwrap();
    let o = app.confirm_order(o.id).await.unwrap();
    let before = app.last_seq().await;

    let applied = app
        .exec(note(
            o.id,
            "customer called: new address — @bob @sue please check",
        ))
        .await
        .unwrap();
    let Outcome::Note(n) = applied.outcome else {
        panic!("a note: {:?}", applied.outcome)
    };
    assert_eq!(n.mentions, ["bob", "sue"]);
    assert_eq!(n.author, "tester");
    // The order is untouched: a colleague's step sent at the version they saw still applies.
    assert_eq!(app.get_order(o.id).await.unwrap(), o);
    let cancel = OrderAction::Cancel
        .command(o.id, Some(o.version), &["customer asked"])
        .unwrap();
    app.exec(cancel)
        .await
        .expect("a step at the version seen before the note");

    // One event, on the order, carrying the mentions.
    let events = super::events_after(&app, before).await;
    let note_event = &events[0];
    assert_eq!(note_event.envelope.event_type, "order.note_added");
    assert_eq!(note_event.envelope.aggregate_id, o.id.as_uuid());
    assert_eq!(
        note_event.envelope.payload["mentions"],
        serde_json::json!(["bob", "sue"])
    );
    // It is part of the order's timeline, and of its notes.
    let timeline = app.store.order_events(app.tenant.id, o.id).await.unwrap();
    assert!(super::types(&timeline).contains(&"order.note_added"));
    let notes = app.store.order_notes(app.tenant.id, o.id).await.unwrap();
    assert_eq!(notes, std::slice::from_ref(&n));

    // Each mentioned member has it unread until they mark it read (their own mark only).
    let t = app.tenant.id;
    for h in ["bob", "sue"] {
        let unread = app.store.unread_mentions(t, h).await.unwrap();
        assert_eq!(unread.len(), 1, "{h}");
        assert_eq!((unread[0].note_id, unread[0].order_id), (n.id, o.id));
    }
    assert!(
        app.store
            .unread_mentions(t, "tester")
            .await
            .unwrap()
            .is_empty()
    );
    let now = chrono::Utc::now();
    assert_eq!(
        app.store
            .mark_mentions_read(t, "bob", &[n.id], now)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        app.store
            .mark_mentions_read(t, "bob", &[n.id], now)
            .await
            .unwrap(),
        0
    );
    assert!(
        app.store
            .unread_mentions(t, "bob")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(app.store.unread_mentions(t, "sue").await.unwrap().len(), 1);
}

async fn test_an_unknown_handle_is_refused_with_close_matches_and_nothing_is_written(app: TestApp) {
    add_staff(&app, "bob", Role::Manager).await;
    add_staff(&app, "bobby", Role::Support).await;
    add_staff(&app, "ed", Role::Editor).await;
    app.create_product(product("MUG", "4.00", 5)).await.unwrap();
    let o = app.create_order(order(&[("MUG", 1)], None)).await.unwrap();
    let before = app.last_seq().await;
    for (text, why) in [
        (
            "@bo call the customer",
            "mention: @bo is not a staff member; did you mean @bob, @bobby?",
        ),
        (
            "@bbo call the customer",
            "mention: @bbo is not a staff member; did you mean @bob?",
        ),
        (
            "@zed call",
            "mention: @zed is not a staff member; no staff handle is close to it",
        ),
        // An editor cannot read orders, so cannot be told about one.
        ("@ed look", "mention: @ed cannot read orders (editor)"),
        ("   ", "text: must not be empty"),
    ] {
        let e = app.exec(note(o.id, text)).await.unwrap_err();
        assert_eq!(domain(&e).to_string(), why, "{text}");
    }
    let long = "x".repeat(rustok_domain::commerce::MAX_NOTE_CHARS + 1);
    let e = app.exec(note(o.id, &long)).await.unwrap_err();
    assert_eq!(domain(&e).field(), Some("text"));
    assert_eq!(app.last_seq().await, before, "no event written");
    assert!(
        app.store
            .order_notes(app.tenant.id, o.id)
            .await
            .unwrap()
            .is_empty()
    );
    // A note on an order that does not exist is not found.
    let e = app
        .exec(note(OrderId::new_v7(), "hello"))
        .await
        .unwrap_err();
    assert_eq!(domain(&e).kind(), "not_found");
}

async fn test_notes_and_mentions_stay_in_their_tenant(app: TestApp) {
    add_staff(&app, "bob", Role::Manager).await;
    app.create_product(product("MUG", "4.00", 5)).await.unwrap();
    let o = app.create_order(order(&[("MUG", 1)], None)).await.unwrap();
    app.exec(note(o.id, "ours — @bob")).await.unwrap();
    let other = app.create_tenant("other").await;
    // Another tenant cannot note our order, nor see its notes or the mention.
    let e = app
        .exec_in(&other, note(o.id, "theirs — @bob"))
        .await
        .unwrap_err();
    assert_eq!(domain(&e).kind(), "not_found");
    assert!(
        app.store
            .order_notes(other.id, o.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        app.store
            .unread_mentions(other.id, "bob")
            .await
            .unwrap()
            .is_empty()
    );
    // Marking read in the other tenant marks nothing of ours.
    let ours = app
        .store
        .unread_mentions(app.tenant.id, "bob")
        .await
        .unwrap();
    assert_eq!(ours.len(), 1);
    let n = app
        .store
        .mark_mentions_read(other.id, "bob", &[ours[0].note_id], chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(n, 0);
    assert_eq!(
        app.store
            .unread_mentions(app.tenant.id, "bob")
            .await
            .unwrap(),
        ours
    );
}

on_both_backends!(
    test_a_note_changes_nothing_on_the_order_and_tells_who_it_mentions,
    test_an_unknown_handle_is_refused_with_close_matches_and_nothing_is_written,
    test_notes_and_mentions_stay_in_their_tenant,
);
