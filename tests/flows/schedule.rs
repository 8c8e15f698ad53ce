//! Scheduled publishing (issue 20), on SQLite and PostgreSQL: a schedule is a checked, audited
//! command; a running relay executes a due one as the staff member who scheduled it, audited,
//! once; a role change before it is due refuses it (audit row + `node.schedule_refused`);
//! a time not in the future is refused clearly; two stores racing for one due schedule run
//! it once. (Several processes: tests/reliability/multi_relay.rs.)

use crate::support;
use rustok_domain::audit::AuditOutcome;
use rustok_domain::content::{NodeStatus, ScheduledAction};
use rustok_domain::rbac::Role;
use rustok_domain::staff::StaffDraft;
use rustok_domain::{Actor, Command, CommandEnvelope, NodeId, StaffId};
use rustok_store::{Outcome, SCHEDULER_SESSION, ScheduleRun, Store};
use std::time::Duration;
use support::TestApp;
use support::fixtures::draft;

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

/// `command` as `handle`, through the action queue (audited like any command).
async fn exec_as(
    app: &TestApp,
    handle: &str,
    command: Command,
) -> Result<rustok_store::Applied, rustok::runtime::QueueError> {
    app.queue
        .execute(CommandEnvelope::new(
            app.tenant.id,
            Actor::new(handle),
            command,
        ))
        .await
}

/// Schedules `id`'s publication `secs` seconds ahead (whole seconds, as the CLI's `+Ns`).
async fn schedule_publish(app: &TestApp, handle: &str, id: NodeId, secs: i64) {
    let at = chrono::Utc::now() + chrono::Duration::seconds(secs);
    let applied = exec_as(
        app,
        handle,
        Command::ScheduleNode {
            id,
            publish_at: Some(at),
            unpublish_at: None,
        },
    )
    .await
    .expect("schedule");
    let Outcome::Schedule(s) = applied.outcome else {
        panic!("a schedule outcome: {:?}", applied.outcome);
    };
    assert_eq!(s.len(), 1);
    assert_eq!(
        (s[0].action, s[0].by.as_str()),
        (ScheduledAction::Publish, handle)
    );
}

/// Waits until nothing of the tenant is scheduled any more.
async fn wait_agenda_empty(app: &TestApp) {
    let store = app.store.clone();
    let t = app.tenant.id;
    assert!(
        support::wait_until_async(Duration::from_secs(20), async || {
            store.agenda(t, 10).await.unwrap().is_empty()
        })
        .await,
        "the schedule was executed"
    );
}

/// The audit rows of `command` by `actor` from the scheduler.
async fn scheduler_rows(app: &TestApp, actor: &str) -> Vec<rustok_domain::audit::AuditLogEntry> {
    app.store
        .audit_log(0, 1000)
        .await
        .unwrap()
        .rows
        .into_iter()
        .filter(|e| e.actor == actor && e.session.as_deref() == Some(SCHEDULER_SESSION))
        .collect()
}

async fn test_a_running_relay_publishes_a_due_schedule_once_as_its_author(app: TestApp) {
    add_staff(&app, "ed", Role::Editor).await;
    let n = exec_as(&app, "ed", Command::CreateNode(draft("Launch post")))
        .await
        .unwrap();
    let Outcome::Node(node) = n.outcome else {
        panic!("a node")
    };
    schedule_publish(&app, "ed", node.id, 1).await;
    // The list marks it; the agenda lists it.
    let agenda = app.store.agenda(app.tenant.id, 10).await.unwrap();
    assert_eq!(agenda.len(), 1);
    assert_eq!(agenda[0].title, "Launch post");
    assert_eq!(agenda[0].status, NodeStatus::Draft);
    let page = app
        .store
        .list_nodes(app.tenant.id, &rustok_store::NodeFilter::default())
        .await
        .unwrap();
    let row = page.rows.iter().find(|r| r.id == node.id).unwrap();
    assert_eq!(
        row.scheduled.map(|s| s.0),
        Some(ScheduledAction::Publish),
        "the node list marks the scheduled node"
    );
    let relay = app.spawn_relay();
    wait_agenda_empty(&app).await;
    relay.stop().await;
    let now = app.get_node(node.id).await.unwrap();
    assert_eq!(now.status, NodeStatus::Published);
    let rows = scheduler_rows(&app, "ed").await;
    assert_eq!(rows.len(), 1, "one audit row: {rows:?}");
    assert_eq!(
        (rows[0].command.as_str(), rows[0].outcome),
        ("publish_node", AuditOutcome::Ok)
    );
    let types: Vec<String> = app
        .events_for(node.id.as_uuid())
        .await
        .into_iter()
        .map(|e| e.envelope.event_type)
        .collect();
    assert_eq!(
        types.iter().filter(|t| *t == "node.published").count(),
        1,
        "{types:?}"
    );
    assert!(types.contains(&"node.scheduled".to_string()), "{types:?}");
    let published = app
        .events_for(node.id.as_uuid())
        .await
        .into_iter()
        .find(|e| e.envelope.event_type == "node.published")
        .unwrap();
    assert_eq!(published.envelope.actor, "ed", "executed as its author");
}

async fn test_a_role_change_before_it_is_due_refuses_the_schedule(app: TestApp) {
    add_staff(&app, "ed", Role::Editor).await;
    let n = exec_as(&app, "ed", Command::CreateNode(draft("Embargoed")))
        .await
        .unwrap();
    let Outcome::Node(node) = n.outcome else {
        panic!("a node")
    };
    schedule_publish(&app, "ed", node.id, 1).await;
    // Before it is due, ed becomes support (read-only).
    app.exec(Command::ChangeStaffRole {
        handle: "ed".into(),
        role: Role::Support,
    })
    .await
    .unwrap();
    let relay = app.spawn_relay();
    wait_agenda_empty(&app).await;
    relay.stop().await;
    assert_eq!(
        app.get_node(node.id).await.unwrap().status,
        NodeStatus::Draft,
        "not published"
    );
    let rows = scheduler_rows(&app, "ed").await;
    assert_eq!(rows.len(), 1, "one audit row: {rows:?}");
    assert_eq!(
        (rows[0].command.as_str(), rows[0].outcome),
        ("publish_node", AuditOutcome::Denied)
    );
    let reason = rows[0].reason.clone().unwrap_or_default();
    assert!(
        reason.contains("support cannot publish content"),
        "{reason}"
    );
    let refused: Vec<_> = app
        .events_for(node.id.as_uuid())
        .await
        .into_iter()
        .filter(|e| e.envelope.event_type == "node.schedule_refused")
        .collect();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].envelope.payload["by"], "ed");
    // The event names the action and time in fields; its reason is the refusal itself.
    assert_eq!(refused[0].envelope.payload["action"], "publish");
    assert_eq!(
        refused[0].envelope.payload["reason"],
        "support cannot publish content (needs content:publish)"
    );
}

async fn test_an_inactive_author_is_refused_too(app: TestApp) {
    add_staff(&app, "ed", Role::Editor).await;
    let node = app.create_node(draft("Quiet")).await.unwrap();
    schedule_publish(&app, "ed", node.id, 1).await;
    app.exec(Command::SetStaffActive {
        handle: "ed".into(),
        active: false,
    })
    .await
    .unwrap();
    let relay = app.spawn_relay();
    wait_agenda_empty(&app).await;
    relay.stop().await;
    let rows = scheduler_rows(&app, "ed").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].outcome, AuditOutcome::Denied);
    assert!(
        rows[0].reason.as_deref().unwrap_or("").contains("inactive"),
        "{rows:?}"
    );
}

async fn test_times_not_in_the_future_and_wrong_orders_are_refused(app: TestApp) {
    let node = app.create_node(draft("Past")).await.unwrap();
    let past = chrono::Utc::now() - chrono::Duration::minutes(5);
    let err = app
        .exec(Command::ScheduleNode {
            id: node.id,
            publish_at: Some(past),
            unpublish_at: None,
        })
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with("publish_at: ") && msg.contains("is in the past"),
        "{msg}"
    );
    // A draft cannot come down before it goes live.
    let err = app
        .exec(Command::ScheduleNode {
            id: node.id,
            publish_at: None,
            unpublish_at: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
        })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("is a draft"), "{err}");
    assert!(
        app.store
            .agenda(app.tenant.id, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Unscheduling with nothing scheduled is refused; with something, it empties the agenda.
    assert!(
        app.exec(Command::UnscheduleNode { id: node.id })
            .await
            .is_err()
    );
    app.exec(Command::ScheduleNode {
        id: node.id,
        publish_at: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
        unpublish_at: Some(chrono::Utc::now() + chrono::Duration::hours(2)),
    })
    .await
    .unwrap();
    assert_eq!(app.store.agenda(app.tenant.id, 10).await.unwrap().len(), 2);
    app.exec(Command::UnscheduleNode { id: node.id })
        .await
        .unwrap();
    assert!(
        app.store
            .agenda(app.tenant.id, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Another tenant sees none of it.
    let other = app.create_tenant("other").await;
    assert!(app.store.agenda(other.id, 10).await.unwrap().is_empty());
}

async fn test_two_stores_racing_for_a_due_schedule_run_it_once(app: TestApp) {
    let node = app.create_node(draft("Raced")).await.unwrap();
    schedule_publish(&app, "tester", node.id, 1).await;
    let due_at = app.store.agenda(app.tenant.id, 1).await.unwrap()[0]
        .schedule
        .at;
    let store = app.store.clone();
    assert!(
        support::wait_until_async(Duration::from_secs(10), async || {
            !store
                .due_schedules(chrono::Utc::now(), 10)
                .await
                .unwrap()
                .is_empty()
        })
        .await,
        "due at {due_at}"
    );
    let other = Store::connect(&app.db.url).await.unwrap();
    let due = app
        .store
        .due_schedules(chrono::Utc::now(), 10)
        .await
        .unwrap();
    assert_eq!(due.len(), 1);
    let now = chrono::Utc::now();
    let (a, b) = tokio::join!(
        app.store.run_due_schedule(&due[0], now),
        other.run_due_schedule(&due[0], now)
    );
    let runs = [a.unwrap().0, b.unwrap().0];
    let executed = runs
        .iter()
        .filter(|r| matches!(r, ScheduleRun::Executed(_)))
        .count();
    let taken = runs
        .iter()
        .filter(|r| matches!(r, ScheduleRun::Taken))
        .count();
    assert_eq!((executed, taken), (1, 1), "{runs:?}");
    assert_eq!(
        app.get_node(node.id).await.unwrap().status,
        NodeStatus::Published
    );
    // Once taken, a third try finds nothing to do.
    let (again, _) = app.store.run_due_schedule(&due[0], now).await.unwrap();
    assert_eq!(again, ScheduleRun::Taken);
}

on_both_backends!(
    test_a_running_relay_publishes_a_due_schedule_once_as_its_author,
    test_a_role_change_before_it_is_due_refuses_the_schedule,
    test_an_inactive_author_is_refused_too,
    test_times_not_in_the_future_and_wrong_orders_are_refused,
    test_two_stores_racing_for_a_due_schedule_run_it_once,
);
