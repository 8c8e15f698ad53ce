//! RBAC: every mutating command × every role, on SQLite and PostgreSQL. Each command is
//! allowed or denied exactly as the table below says (written out here, independently of
//! `rbac::MATRIX`); a denial changes nothing (state and event count unchanged) and the audit
//! log records it.

use crate::support;
use rustok_domain::command::NodeTransition;
use rustok_domain::commerce::{OrderAction, OrderCommand};

use rustok_domain::audit::AuditOutcome;
use rustok_domain::commerce::PaymentOutcome;
use rustok_domain::content::{NodeAction, NodePatch};
use rustok_domain::rbac::Role;
use rustok_domain::staff::StaffDraft;
use rustok_domain::{Actor, Command, CommandEnvelope, DomainError, StaffId};
use rustok_store::{NodeFilter, OrderFilter};
use support::TestApp;
use support::fixtures::{create_tenant, draft, order, product, translation};

/// Who may run what: owner, admin, manager, editor, support.
const EXPECTED: &[(&str, [bool; 5])] = &[
    ("create_tenant", [true, true, false, false, false]),
    ("create_node", [true, true, false, true, false]),
    ("update_node", [true, true, false, true, false]),
    ("translate_node", [true, true, false, true, false]),
    ("publish_node", [true, true, false, true, false]),
    ("unpublish_node", [true, true, false, true, false]),
    ("archive_node", [true, true, false, true, false]),
    ("restore_node", [true, true, false, true, false]),
    ("create_product", [true, true, true, false, false]),
    ("adjust_inventory", [true, true, true, false, false]),
    ("create_order", [true, true, true, false, false]),
    ("confirm_order", [true, true, true, false, false]),
    ("pay_order", [true, true, true, false, false]),
    ("record_payment", [true, true, true, false, false]),
    ("ship_order", [true, true, true, false, false]),
    ("deliver_order", [true, true, true, false, false]),
    ("cancel_order", [true, true, true, false, false]),
    ("hold_order", [true, true, true, false, false]),
    ("release_order", [true, true, true, false, false]),
    ("add_staff", [true, true, false, false, false]),
    ("add_owner", [true, false, false, false, false]),
    ("change_staff_role", [true, true, false, false, false]),
    ("grant_owner", [true, false, false, false, false]),
    ("set_staff_mfa", [true, true, false, false, false]),
    ("set_staff_password", [true, true, false, false, false]),
    ("set_staff_active", [true, true, false, false, false]),
    ("retry_dead_letters", [true, true, false, false, false]),
    ("add_order_note", [true, true, true, false, false]),
    ("revert_node", [true, true, false, true, false]),
    ("copy_node", [true, true, false, true, false]),
    ("schedule_node", [true, true, false, true, false]),
    ("unschedule_node", [true, true, false, true, false]),
    ("refund_order", [true, true, true, false, false]),
    ("return_order", [true, true, true, false, false]),
];

/// Adds a staff member (as the owner `tester`) with no keys and no MFA.
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

const ARGON: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

/// Sets up what the command needs (as the owner `tester`) and returns the command.
async fn prepare(app: &TestApp, case: &str, n: usize) -> Command {
    let sku = format!("SKU-{case}-{n}");
    let order_in = |status: &'static str| {
        let sku = sku.clone();
        async move {
            app.create_product(product(&sku, "5.00", 10)).await.unwrap();
            let o = app.create_order(order(&[(&sku, 1)], None)).await.unwrap();
            if matches!(status, "confirmed" | "paid" | "on_hold" | "shipped") {
                app.confirm_order(o.id).await.unwrap();
            }
            if matches!(status, "paid" | "on_hold" | "shipped") {
                app.pay_order(o.id, "tok_visa").await.unwrap();
            }
            if status == "on_hold" {
                app.order_step(o.id, OrderAction::Hold, &[]).await.unwrap();
            }
            if status == "shipped" {
                app.ship_order(o.id, "UPS", "1Z").await.unwrap();
            }
            app.get_order(o.id).await.unwrap()
        }
    };
    let node = |action: Option<NodeAction>| async move {
        let nd = app
            .create_node(draft(&format!("Node {case} {n}")))
            .await
            .unwrap();
        if matches!(
            action,
            Some(NodeAction::Unpublish | NodeAction::Archive | NodeAction::Restore)
        ) {
            app.publish_node(nd.id).await.unwrap();
        }
        if action == Some(NodeAction::Restore) {
            app.transition(nd.id, NodeAction::Archive).await.unwrap();
        }
        nd.id
    };
    let target = |role: Role| async move {
        let handle = format!("target-{n}");
        add_staff(app, &handle, role).await;
        handle
    };
    let status = |id, action| {
        Command::NodeStatus(NodeTransition {
            id,
            action,
            expected_version: None,
        })
    };
    match case {
        "create_tenant" => create_tenant(&format!("t-{n}")),
        "create_node" => Command::CreateNode(draft(&format!("New {n}"))),
        "update_node" => Command::UpdateNode {
            id: node(None).await,
            patch: NodePatch {
                title: Some(format!("Changed {n}")),
                ..NodePatch::default()
            },
            expected_version: None,
        },
        "translate_node" => Command::TranslateNode {
            id: node(None).await,
            input: translation("de", &format!("Titel {n}")),
            expected_version: None,
        },
        "publish_node" => status(node(None).await, NodeAction::Publish),
        "unpublish_node" => status(
            node(Some(NodeAction::Unpublish)).await,
            NodeAction::Unpublish,
        ),
        "archive_node" => status(node(Some(NodeAction::Archive)).await, NodeAction::Archive),
        "restore_node" => status(node(Some(NodeAction::Restore)).await, NodeAction::Restore),
        "create_product" => Command::CreateProduct(product(&sku, "3.00", 2)),
        "adjust_inventory" => {
            app.create_product(product(&sku, "3.00", 2)).await.unwrap();
            Command::AdjustInventory {
                sku,
                by: 3,
                reason: "count".into(),
            }
        }
        "create_order" => {
            app.create_product(product(&sku, "3.00", 2)).await.unwrap();
            Command::CreateOrder(order(&[(&sku, 1)], None))
        }
        "confirm_order" => Command::Order(OrderCommand::ConfirmOrder {
            id: order_in("pending").await.id,
            expected_version: None,
        }),
        "pay_order" => Command::Order(OrderCommand::PayOrder {
            expected_version: None,
            id: order_in("confirmed").await.id,
            card_token: "tok_visa".into(),
        }),
        "record_payment" => {
            let o = order_in("confirmed").await;
            Command::RecordPayment {
                id: o.id,
                outcome: PaymentOutcome::Succeeded {
                    reference: format!("ch_test_{n}"),
                    amount: o.total,
                },
            }
        }
        "ship_order" => Command::Order(OrderCommand::ShipOrder {
            expected_version: None,
            id: order_in("paid").await.id,
            carrier: "UPS".into(),
            tracking: "1Z999".into(),
        }),
        "deliver_order" => Command::Order(OrderCommand::DeliverOrder {
            expected_version: None,
            id: order_in("shipped").await.id,
        }),
        "cancel_order" => Command::Order(OrderCommand::CancelOrder {
            expected_version: None,
            id: order_in("pending").await.id,
            reason: "no longer wanted".into(),
        }),
        "hold_order" => OrderAction::Hold
            .command(order_in("paid").await.id, None, &["fraud review"])
            .unwrap(),
        "release_order" => OrderAction::Release
            .command(order_in("on_hold").await.id, None, &[])
            .unwrap(),
        "add_staff" | "add_owner" => Command::AddStaff(StaffDraft {
            id: StaffId::new_v7(),
            handle: format!("new-{n}"),
            display_name: Some(format!("New {n}")),
            role: if case == "add_owner" {
                Role::Owner
            } else {
                Role::Editor
            },
            ssh_keys: vec![],
            mfa_enabled: false,
        }),
        "change_staff_role" => Command::ChangeStaffRole {
            handle: target(Role::Editor).await,
            role: Role::Manager,
        },
        "grant_owner" => Command::ChangeStaffRole {
            handle: target(Role::Editor).await,
            role: Role::Owner,
        },
        "set_staff_mfa" => Command::SetStaffMfa {
            handle: target(Role::Editor).await,
            enabled: true,
        },
        "set_staff_password" => Command::SetStaffPassword {
            handle: target(Role::Editor).await,
            password_hash: ARGON.into(),
        },
        "set_staff_active" => Command::SetStaffActive {
            handle: target(Role::Editor).await,
            active: false,
        },
        "retry_dead_letters" => Command::RetryDeadLetters { ids: vec![] },
        "add_order_note" => Command::AddOrderNote {
            id: order_in("paid").await.id,
            note_id: rustok_domain::NoteId::new_v7(),
            text: format!("customer called ({n}) — @as-support please check"),
        },
        "refund_order" => OrderAction::Refund
            .command(order_in("paid").await.id, None, &["1.00", "scratched", ""])
            .unwrap(),
        "return_order" => {
            let item = format!("{sku}:1");
            OrderAction::Return
                .command(
                    order_in("shipped").await.id,
                    None,
                    &[&item, "broken", "yes"],
                )
                .unwrap()
        }
        "retry_consumer_dead_letters" => Command::RetryConsumerDeadLetters {
            consumer: "jetstream:RUSTOK_EVENTS".into(),
            ids: vec![],
        },
        "revert_node" => {
            let id = node(None).await;
            app.exec(Command::UpdateNode {
                id,
                patch: NodePatch {
                    title: Some(format!("Changed {n}")),
                    ..NodePatch::default()
                },
                expected_version: None,
            })
            .await
            .unwrap();
            Command::RevertNode {
                id,
                to: 1,
                expected_version: None,
            }
        }
        "copy_node" => Command::CopyNode {
            id: rustok_domain::NodeId::new_v7(),
            from: node(None).await,
            mine: None,
        },
        "schedule_node" => Command::ScheduleNode {
            id: node(None).await,
            publish_at: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
            unpublish_at: None,
        },
        "unschedule_node" => {
            let id = node(None).await;
            app.exec(Command::ScheduleNode {
                id,
                publish_at: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
                unpublish_at: None,
            })
            .await
            .unwrap();
            Command::UnscheduleNode { id }
        }
        other => panic!("no setup for {other}"),
    }
}

/// Everything a command could change, as JSON.
async fn snapshot(app: &TestApp) -> serde_json::Value {
    let nodes = app
        .store
        .list_nodes(
            app.tenant.id,
            &NodeFilter {
                limit: 10_000,
                ..NodeFilter::default()
            },
        )
        .await
        .unwrap();
    let orders = app
        .orders(OrderFilter {
            limit: 10_000,
            ..OrderFilter::default()
        })
        .await;
    serde_json::json!({
        "events": app.last_seq().await,
        "event_count": app.outbox_events().await.len(),
        "tenants": app.store.tenants().await.unwrap(),
        "staff": app.store.staff_list().await.unwrap(),
        "nodes": nodes.rows,
        "orders": orders,
        "stock": app.product_rows().await,
    })
}

async fn test_every_command_against_every_role(app: TestApp) {
    for role in Role::ALL {
        app.exec(Command::AddStaff(StaffDraft {
            id: StaffId::new_v7(),
            handle: format!("as-{role}"),
            display_name: None,
            role,
            ssh_keys: vec![],
            mfa_enabled: true,
        }))
        .await
        .unwrap();
    }
    let mut n = 0;
    for (case, allowed) in EXPECTED {
        for (ri, role) in Role::ALL.into_iter().enumerate() {
            n += 1;
            let command = prepare(&app, case, n).await;
            assert_eq!(
                rustok_domain::rbac::check(role, &command).is_ok(),
                allowed[ri],
                "rbac::MATRIX disagrees with this table for {case} as {role}"
            );
            let before = snapshot(&app).await;
            let charges = app.gateway.request_count();
            let actor = Actor::new(format!("as-{role}"));
            let env = CommandEnvelope::new(app.tenant.id, actor, command.clone());
            let result = app.queue.execute(env.clone()).await;
            let last = app.store.audit_log(0, 1).await.unwrap().rows.remove(0);
            assert_eq!(
                (last.command_id, last.actor.as_str(), last.command.as_str()),
                (env.id, format!("as-{role}").as_str(), command.name()),
                "{case} as {role}: the audit log records the command"
            );
            if allowed[ri] {
                assert!(
                    result.is_ok(),
                    "{case} as {role} should succeed: {:?}",
                    result.err()
                );
                assert_eq!(last.outcome, AuditOutcome::Ok);
            } else {
                let err = result.expect_err(&format!("{case} as {role} should be denied"));
                let d = err.domain().cloned();
                assert!(
                    matches!(d, Some(DomainError::PermissionDenied { .. })),
                    "{case} as {role}: {err}"
                );
                let msg = err.to_string();
                assert!(
                    msg.starts_with(&format!("permission denied: {role} cannot ")),
                    "{msg}"
                );
                assert_eq!(
                    snapshot(&app).await,
                    before,
                    "{case} as {role} changed something"
                );
                assert_eq!(
                    app.gateway.request_count(),
                    charges,
                    "{case} as {role} reached the gateway"
                );
                assert_eq!(last.outcome, AuditOutcome::Denied);
                assert_eq!(
                    last.reason.as_deref(),
                    Some(msg.trim_start_matches("permission denied: "))
                );
                assert!(last.session.is_some());
            }
        }
    }
}

async fn test_unknown_inactive_and_read_only_actors_are_denied(app: TestApp) {
    let before = snapshot(&app).await;
    let run = |actor: Actor| {
        let env = CommandEnvelope::new(app.tenant.id, actor, Command::CreateNode(draft("Nope")));
        app.queue.execute(env)
    };
    let e = run(Actor::new("mallory")).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "permission denied: unknown staff member 'mallory'"
    );
    let e = run(app.actor.clone().read_only(true)).await.unwrap_err();
    assert!(
        e.to_string()
            .contains("read-only session cannot create content"),
        "{e}"
    );
    add_staff(&app, "leaver", Role::Editor).await;
    app.exec(Command::SetStaffActive {
        handle: "leaver".into(),
        active: false,
    })
    .await
    .unwrap();
    let mid = snapshot(&app).await;
    let e = run(Actor::new("leaver")).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "permission denied: staff member 'leaver' is inactive"
    );
    assert_eq!(snapshot(&app).await, mid);
    assert_eq!(before["nodes"], mid["nodes"]);
    let log = app.store.audit_log(0, 10).await.unwrap();
    let denied: Vec<&str> = log
        .rows
        .iter()
        .filter(|e| e.outcome == AuditOutcome::Denied)
        .map(|e| e.actor.as_str())
        .collect();
    assert_eq!(denied, ["leaver", "tester", "mallory"], "newest first");
}

async fn test_the_last_owner_cannot_be_demoted_and_admins_cannot_touch_owners(app: TestApp) {
    let e = app
        .exec(Command::ChangeStaffRole {
            handle: "tester".into(),
            role: Role::Admin,
        })
        .await
        .unwrap_err();
    assert!(e.to_string().contains("last active owner"), "{e}");
    add_staff(&app, "boss", Role::Admin).await;
    let as_admin = CommandEnvelope::new(
        app.tenant.id,
        Actor::new("boss"),
        Command::SetStaffActive {
            handle: "tester".into(),
            active: false,
        },
    );
    let e = app.queue.execute(as_admin).await.unwrap_err();
    assert!(
        e.to_string().starts_with(
            "permission denied: admin cannot activate or deactivate staff of an owner"
        ),
        "{e}"
    );
    assert!(
        app.store
            .staff_by_handle("tester")
            .await
            .unwrap()
            .unwrap()
            .active
    );
}

async fn test_audit_log_is_append_only(app: TestApp) {
    use sea_orm::ConnectionTrait;
    app.create_node(draft("Logged")).await.unwrap();
    let total = app.store.audit_log(0, 1).await.unwrap().total;
    assert!(total >= 2);
    for sql in [
        "UPDATE audit_log SET outcome = 'ok'",
        "DELETE FROM audit_log",
    ] {
        let r = app.store.connection().execute_unprepared(sql).await;
        assert!(r.is_err(), "{sql} must be refused");
        assert!(r.unwrap_err().to_string().contains("append-only"));
    }
    assert_eq!(app.store.audit_log(0, 1).await.unwrap().total, total);
}

async fn test_the_audit_snapshot_reflects_the_database(app: TestApp) {
    app.create_node(draft("Hello")).await.unwrap();
    let input = app
        .store
        .audit_input(&app.db.url, Default::default(), chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(input.staff.len(), 1, "the bootstrapped owner");
    assert_eq!(input.staff[0].role, Role::Owner);
    assert_eq!(input.tenants[0].slug, "acme");
    assert_eq!(input.tenants[0].active_staff, 1);
    assert!(input.tenants[0].isolation_checked);
    assert_eq!(input.tenants[0].cross_tenant_rows, 0);
    assert_eq!(input.invalid_events, 0);
    assert_eq!(input.events_by_unknown_actor, 0);
    assert!(input.events_total >= 2 && input.audit_log.entries >= 2);
    let report = rustok_domain::audit::AuditReport::run(&input, Some("acme"), chrono::Utc::now());
    let ids: Vec<&str> = report.findings.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["AUTH-001"], "only the owner's missing MFA");
    app.exec(Command::SetStaffMfa {
        handle: "tester".into(),
        enabled: true,
    })
    .await
    .unwrap();
    let input2 = app
        .store
        .audit_input(&app.db.url, Default::default(), chrono::Utc::now())
        .await
        .unwrap();
    assert_ne!(input.fingerprint(), input2.fingerprint());
    let report = rustok_domain::audit::AuditReport::run(&input2, Some("acme"), chrono::Utc::now());
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    assert_eq!(report.score, 100);
}

/// A committed command's audit row is written in the command's own transaction: exactly one
/// row, stamped with the command's time and session; a retry answered from the command log
/// writes nothing through the store; a refused command (rolled back) writes no row there
/// either (the queue records the refusal separately); a declined payment commits its event
/// and its `refused` row together.
async fn test_the_audit_row_commits_with_the_command(app: TestApp) {
    use rustok_store::AuditStamp;
    let stamp = AuditStamp {
        session: Some("session-test".into()),
        outcome: AuditOutcome::Ok,
        reason: None,
        command: None,
    };
    // Through the queue: the owner exists and the tenant is created.
    app.create_node(draft("Before")).await.unwrap();
    let before = app.store.audit_log(0, 1).await.unwrap().total;
    let d = draft("Audited");
    let env = CommandEnvelope::new(app.tenant.id, app.actor.clone(), Command::CreateNode(d));
    let now = chrono::Utc::now();
    let (_, audited) = app
        .store
        .execute_audited(&env, now, Some(&stamp))
        .await
        .unwrap();
    assert!(audited);
    let log = app.store.audit_log(0, 5).await.unwrap();
    assert_eq!(log.total, before + 1);
    let row = &log.rows[0];
    assert_eq!(row.command_id, env.id);
    assert_eq!(row.outcome, AuditOutcome::Ok);
    assert_eq!(row.session.as_deref(), Some("session-test"));
    assert_eq!(row.command, "create_node");
    // The retry is answered from the command log: nothing applied, nothing recorded.
    let (_, audited) = app
        .store
        .execute_audited(&env, chrono::Utc::now(), Some(&stamp))
        .await
        .unwrap();
    assert!(!audited);
    assert_eq!(app.store.audit_log(0, 1).await.unwrap().total, before + 1);
    // A refused command rolls back, audit row included.
    let dup = CommandEnvelope::new(
        app.tenant.id,
        app.actor.clone(),
        Command::CreateNode(draft("Audited")),
    );
    let err = app
        .store
        .execute_audited(&dup, chrono::Utc::now(), Some(&stamp))
        .await
        .unwrap_err();
    assert!(err.domain().is_some(), "{err}");
    assert_eq!(app.store.audit_log(0, 1).await.unwrap().total, before + 1);
    // Through the queue, a refusal still gets its row (written after the rollback)...
    let refused = app.exec(Command::CreateNode(draft("Audited"))).await;
    assert!(refused.is_err());
    let last = app.store.audit_log(0, 1).await.unwrap();
    assert_eq!(last.total, before + 2);
    assert_eq!(last.rows[0].outcome, AuditOutcome::Refused);
    // ...and a declined payment commits `payment.failed` with its `refused` row, once.
    app.create_product(product("AUD-1", "5.00", 10))
        .await
        .unwrap();
    let o = app
        .create_order(order(&[("AUD-1", 1)], None))
        .await
        .unwrap();
    app.confirm_order(o.id).await.unwrap();
    let total = app.store.audit_log(0, 1).await.unwrap().total;
    let declined = app.pay_order(o.id, "tok_chargeDeclined").await.unwrap_err();
    assert!(
        matches!(declined.domain(), Some(DomainError::PaymentDeclined { .. })),
        "{declined}"
    );
    let log = app.store.audit_log(0, 2).await.unwrap();
    assert_eq!(log.total, total + 1, "one row for the declined payment");
    assert_eq!(
        log.rows[0].command, "pay_order",
        "the paying command's name"
    );
    assert_eq!(log.rows[0].outcome, AuditOutcome::Refused);
    assert_eq!(
        log.rows[0].reason.as_deref(),
        Some(declined.domain().unwrap().to_string().as_str())
    );
    let events = app.events_for(o.id.as_uuid()).await;
    assert!(
        events
            .iter()
            .any(|e| e.envelope.event_type == "payment.failed"),
        "the decline's event committed with its row"
    );
}

on_both_backends!(
    test_the_audit_row_commits_with_the_command,
    test_every_command_against_every_role,
    test_unknown_inactive_and_read_only_actors_are_denied,
    test_the_last_owner_cannot_be_demoted_and_admins_cannot_touch_owners,
    test_audit_log_is_append_only,
    test_the_audit_snapshot_reflects_the_database,
    test_the_audit_log_is_searched_in_the_store,
);

/// `audit log --filter` and the console's `/` in the audit log: entries whose actor, command,
/// outcome, reason or session contains the text, ASCII case ignored, `%` and `_` taken
/// literally, counted for paging.
async fn test_the_audit_log_is_searched_in_the_store(app: TestApp) {
    add_staff(&app, "ed", Role::Editor).await;
    app.create_node(draft("Searchable")).await.unwrap();
    let denied = CommandEnvelope::new(
        app.tenant.id,
        Actor::new("ed"),
        Command::CreateTenant {
            id: rustok_domain::TenantId::new_v7(),
            slug: "nope".into(),
            name: "Nope".into(),
            default_locale: "en".parse().unwrap(),
        },
    );
    app.queue.execute(denied).await.unwrap_err();
    let all = app.store.audit_log(0, 100).await.unwrap();
    assert!(all.total >= 3, "{all:?}");

    let page = app
        .store
        .audit_log_matching(0, 100, "  CREATE_Node ")
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.rows[0].command, "create_node");
    let page = app
        .store
        .audit_log_matching(0, 100, "denied")
        .await
        .unwrap();
    assert_eq!((page.total, page.rows.len()), (1, 1));
    assert_eq!(page.rows[0].actor, "ed");
    let page = app
        .store
        .audit_log_matching(0, 100, "cannot create tenants")
        .await
        .unwrap();
    assert_eq!(page.total, 1, "the reason is searched");
    // Wildcards are plain characters: nothing has a '%', and '_' is not "any character".
    assert_eq!(
        app.store
            .audit_log_matching(0, 100, "%")
            .await
            .unwrap()
            .total,
        0
    );
    assert_eq!(
        app.store
            .audit_log_matching(0, 100, "create_t_nant")
            .await
            .unwrap()
            .total,
        0
    );
    // Paging counts the matches, not the log.
    let ok = app.store.audit_log_matching(0, 1, "ok").await.unwrap();
    assert_eq!(ok.rows.len(), 1);
    assert!(ok.total >= 2 && ok.total < all.total, "{ok:?}");
    // Blank is everything.
    assert_eq!(
        app.store
            .audit_log_matching(0, 100, " ")
            .await
            .unwrap()
            .total,
        all.total
    );
}

/// A consumer that never succeeds: after five attempts every event is a dead letter.
struct Broken;

impl rustok::runtime::Consumer for Broken {
    fn name(&self) -> &str {
        "broken"
    }
    fn handle(&self, _: &rustok_domain::event::EventEnvelope) -> Result<(), String> {
        Err("downstream unavailable".into())
    }
}

/// Makes every pending event of the outbox a dead letter.
async fn dead_letter_everything(app: &TestApp) {
    let cfg = rustok::runtime::RelayConfig {
        base_backoff: std::time::Duration::ZERO,
        ..support::app::test_relay_config()
    };
    let relay = rustok::runtime::Relay::new(app.store.clone(), rustok::runtime::Bus::new(16), cfg)
        .with_consumer(std::sync::Arc::new(Broken));
    for _ in 0..5 {
        relay.drain().await.unwrap();
    }
    assert_eq!(app.store.outbox_counts(None).await.unwrap().pending, 0);
}

/// The reads: owner, admin, manager, editor, support. Written out here, independently of
/// `rbac::MATRIX` and `runtime::reads`.
const EXPECTED_READS: &[(&str, [bool; 5])] = &[
    ("tenants", [true, true, true, true, true]),
    ("nodes", [true, true, true, true, true]),
    ("node", [true, true, true, true, true]),
    ("search", [true, true, true, true, true]),
    ("locale_coverage", [true, true, true, true, true]),
    ("products", [true, true, true, true, true]),
    ("product", [true, true, true, true, true]),
    ("product_by_sku", [true, true, true, true, true]),
    ("orders", [true, true, true, false, true]),
    ("order", [true, true, true, false, true]),
    ("order_events", [true, true, true, false, true]),
    ("order_stats", [true, true, true, false, true]),
    ("order_notes", [true, true, true, false, true]),
    ("unread_mentions", [true, true, true, false, true]),
    ("events", [true, true, true, true, true]),
    ("dead_letters", [true, true, true, true, true]),
    ("outbox_counts", [true, true, true, true, true]),
    ("staff", [true, true, false, false, false]),
    ("audit_log", [true, true, false, false, false]),
    ("node_history", [true, true, true, true, true]),
    ("node_diff", [true, true, true, true, true]),
    ("agenda", [true, true, true, true, true]),
    ("order_refunds", [true, true, true, false, true]),
    ("customers", [true, true, true, false, true]),
    ("customer", [true, true, true, false, true]),
];

/// Which event types each role reads (in lists, history, dead letters, the live stream):
/// owner, admin, manager, editor, support.
fn reads_event(role: Role, event_type: &str) -> bool {
    let family = event_type.split('.').next().unwrap_or("");
    match (role, family) {
        (Role::Owner | Role::Admin, _) => true,
        (_, "staff") => false,
        (Role::Editor, "order" | "payment" | "inventory") => false,
        _ => true,
    }
}

/// Item 1 of the defects issue: order and customer data reach no role refused `order:read`,
/// by any read path — the CLI's, the console's and SSH's all go through `runtime::Reads`:
/// every read × every role, events filtered by the rule of their aggregate (lists, history,
/// dead letters, the live gate), and unknown or inactive members refused every read.
async fn test_order_and_customer_data_do_not_reach_roles_without_order_read(app: TestApp) {
    use rustok::runtime::{EventGate, Reads};
    use rustok_store::{EventFilter, ProductFilter};
    use rustok_ui::Query;
    let t = app.tenant.id;
    let p = app.create_product(product("MUG", "4.00", 6)).await.unwrap();
    let o = app
        .create_order(order(&[("MUG", 3)], Some("bob@b.com")))
        .await
        .unwrap();
    app.confirm_order(o.id).await.unwrap(); // inventory.low: 3 left of a threshold of 5
    app.pay_order(o.id, "tok_visa").await.unwrap();
    app.exec(Command::AddOrderNote {
        id: o.id,
        note_id: rustok_domain::NoteId::new_v7(),
        text: "the customer called about the address".into(),
    })
    .await
    .unwrap();
    let declined = app.create_order(order(&[("MUG", 1)], None)).await.unwrap();
    app.confirm_order(declined.id).await.unwrap();
    let _ = app.pay_order(declined.id, "tok_chargeDeclined").await;
    let n = app.create_node(draft("Readable")).await.unwrap();
    let roles = [
        ("tester", Role::Owner),
        ("ad", Role::Admin),
        ("ma", Role::Manager),
        ("ed", Role::Editor),
        ("su", Role::Support),
    ];
    for (h, r) in &roles[1..] {
        add_staff(&app, h, *r).await;
    }
    add_staff(&app, "gone", Role::Admin).await;
    app.exec(Command::SetStaffActive {
        handle: "gone".into(),
        active: false,
    })
    .await
    .unwrap();
    let all_types: std::collections::BTreeSet<String> = app
        .outbox_events()
        .await
        .into_iter()
        .map(|e| e.envelope.event_type)
        .collect();
    for t in [
        "order.placed",
        "payment.failed",
        "inventory.low",
        "staff.added",
    ] {
        assert!(all_types.contains(t), "the setup emits {t}: {all_types:?}");
    }
    dead_letter_everything(&app).await;

    let read = async |reads: &Reads, name: &str| -> Result<Vec<String>, rustok_store::StoreError> {
        let types = |ev: Vec<rustok_store::StoredEvent>| {
            ev.into_iter().map(|e| e.envelope.event_type).collect()
        };
        Ok(match name {
            "tenants" => reads.tenants().await.map(|_| vec![])?,
            "nodes" => reads
                .nodes(t, &NodeFilter::default())
                .await
                .map(|_| vec![])?,
            "node" => reads.node(t, n.id).await.map(|_| vec![])?,
            "search" => reads
                .search(t, "Readable", None, 10)
                .await
                .map(|_| vec![])?,
            "locale_coverage" => reads.locale_coverage(t).await.map(|_| vec![])?,
            "products" => reads
                .products(t, &ProductFilter::default())
                .await
                .map(|_| vec![])?,
            "product" => reads.product(t, p.id).await.map(|_| vec![])?,
            "product_by_sku" => reads.product_by_sku(t, "MUG").await.map(|_| vec![])?,
            "orders" => reads
                .orders(t, &OrderFilter::default())
                .await
                .map(|_| vec![])?,
            "order" => reads.order(t, o.id).await.map(|_| vec![])?,
            "order_events" => types(reads.order_events(t, o.id).await?),
            "order_stats" => reads.order_stats(t).await.map(|_| vec![])?,
            "order_notes" => reads.order_notes(t, o.id).await.map(|n| {
                assert_eq!(n.len(), 1, "the note on the order");
                vec![]
            })?,
            "unread_mentions" => reads.unread_mentions(t).await.map(|_| vec![])?,
            "events" => types(reads.events(t, EventFilter::default()).await?),
            "dead_letters" => types(reads.dead_letters(t, 1000).await?),
            "outbox_counts" => reads.outbox_counts(t).await.map(|_| vec![])?,
            "staff" => reads.staff().await.map(|_| vec![])?,
            "audit_log" => reads.audit_log(0, 10, "").await.map(|_| vec![])?,
            "node_history" => reads.node_history(t, n.id).await.map(|_| vec![])?,
            "node_diff" => reads.node_diff(t, n.id, 1, 1, None).await.map(|_| vec![])?,
            "agenda" => reads.agenda(t, 10).await.map(|_| vec![])?,
            "order_refunds" => reads.order_refunds(t, o.id).await.map(|_| vec![])?,
            "customers" => reads.customers(t, 0, 10).await.map(|_| vec![])?,
            "customer" => reads
                .customer(t, "bob@b.com", 0, 10)
                .await
                .map(|_| vec![])?,
            other => panic!("no read {other}"),
        })
    };
    for (ri, (handle, role)) in roles.iter().enumerate() {
        let reads = Reads::new(app.store.clone(), *handle);
        let gate = EventGate::for_role(*role);
        for (name, allowed) in EXPECTED_READS {
            let result = read(&reads, name).await;
            match (&result, allowed[ri]) {
                (Ok(types), true) => {
                    for ty in types {
                        assert!(
                            reads_event(*role, ty),
                            "{name} as {role} shows a {ty} event"
                        );
                    }
                    if matches!(*name, "events" | "dead_letters") {
                        let seen: std::collections::BTreeSet<&String> = types.iter().collect();
                        let expected: std::collections::BTreeSet<&String> =
                            all_types.iter().filter(|t| reads_event(*role, t)).collect();
                        assert_eq!(seen, expected, "{name} as {role}");
                    }
                }
                (
                    Err(rustok_store::StoreError::Domain(DomainError::PermissionDenied { .. })),
                    false,
                ) => {}
                (other, allowed) => {
                    panic!("{name} as {role}: expected allowed={allowed}, got {other:?}")
                }
            }
        }
        // A type the member may not read, asked for by name, is an empty list.
        let placed = reads
            .events(
                t,
                EventFilter {
                    event_type: Some("order.placed".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(
            placed.is_empty(),
            !reads_event(*role, "order.placed"),
            "{role}"
        );
        // The live stream is gated by the same rule.
        for e in app.outbox_events().await {
            assert_eq!(
                gate.admits(&e.envelope),
                reads_event(*role, &e.envelope.event_type),
                "live {} as {role}",
                e.envelope.event_type
            );
        }
        assert_eq!(reads.gate().await, gate, "{role}");
        // The console's queries (local and SSH) go through the same service.
        let q = reads.query(t, Query::Order(o.id)).await;
        assert_eq!(q.is_ok(), *role != Role::Editor, "console order as {role}");
        if let Ok(rustok_ui::QueryResult::Events(rows)) = reads
            .query(
                t,
                Query::EventHistory {
                    before_seq: None,
                    limit: 1000,
                },
            )
            .await
        {
            assert!(
                rows.iter()
                    .all(|e| reads_event(*role, &e.envelope.event_type))
            );
            assert!(
                rows.windows(2).all(|w| w[0].seq > w[1].seq),
                "history is newest first"
            );
        } else {
            panic!("history as {role}");
        }
        let dead = reads.query(t, Query::DeadLetters).await.unwrap();
        let rustok_ui::QueryResult::Events(rows) = dead else {
            panic!("dead letters as {role}")
        };
        assert!(
            rows.iter()
                .all(|e| reads_event(*role, &e.envelope.event_type))
        );
    }
    // Unknown and inactive members read nothing at all.
    for (handle, why) in [
        ("nosuchperson", "unknown staff member 'nosuchperson'"),
        ("gone", "staff member 'gone' is inactive"),
    ] {
        let reads = Reads::new(app.store.clone(), handle);
        for (name, _) in EXPECTED_READS {
            match read(&reads, name).await {
                Err(rustok_store::StoreError::Domain(DomainError::PermissionDenied { reason })) => {
                    assert_eq!(reason, why, "{name}")
                }
                other => panic!("{name} as {handle}: {other:?}"),
            }
        }
        assert_eq!(reads.gate().await, EventGate::CLOSED);
    }
}

/// Item 2 of the defects issue: re-driving dead letters is a command — owners and admins
/// only, refused read-only and for unknown or inactive members, scoped to the tenant, one
/// audit row whether it is allowed or refused.
async fn test_dead_letter_redrive_is_a_checked_audited_tenant_scoped_command(app: TestApp) {
    let other = app.create_tenant("other").await;
    app.exec_in(&other, Command::CreateNode(draft("Theirs")))
        .await
        .unwrap();
    app.create_node(draft("Ours")).await.unwrap();
    for (h, r) in [
        ("ad", Role::Admin),
        ("ma", Role::Manager),
        ("ed", Role::Editor),
        ("su", Role::Support),
        ("gone", Role::Admin),
    ] {
        add_staff(&app, h, r).await;
    }
    app.exec(Command::SetStaffActive {
        handle: "gone".into(),
        active: false,
    })
    .await
    .unwrap();
    dead_letter_everything(&app).await;
    let failed_of = async |tenant| app.store.outbox_counts(Some(tenant)).await.unwrap().failed;
    let ours = failed_of(app.tenant.id).await;
    let theirs = failed_of(other.id).await;
    assert!(ours > 0 && theirs > 0);
    let redrive = |actor: Actor| {
        app.queue.execute(CommandEnvelope::new(
            app.tenant.id,
            actor,
            Command::RetryDeadLetters { ids: vec![] },
        ))
    };
    let audit_before = app.store.audit_log(0, 1).await.unwrap().total;
    for (actor, reason) in [
        (
            Actor::new("ma"),
            "manager cannot re-drive dead letters (needs outbox:retry)",
        ),
        (
            Actor::new("ed"),
            "editor cannot re-drive dead letters (needs outbox:retry)",
        ),
        (
            Actor::new("su"),
            "support cannot re-drive dead letters (needs outbox:retry)",
        ),
        (Actor::new("gone"), "staff member 'gone' is inactive"),
        (
            Actor::new("nosuchperson"),
            "unknown staff member 'nosuchperson'",
        ),
        (
            Actor::new("ad").read_only(true),
            "read-only session cannot re-drive dead letters (needs outbox:retry; start without --read-only)",
        ),
    ] {
        let handle = actor.handle.clone();
        match redrive(actor).await.unwrap_err().domain() {
            Some(DomainError::PermissionDenied { reason: r }) => assert_eq!(r, reason),
            other => panic!("{handle}: {other:?}"),
        }
        assert_eq!(
            failed_of(app.tenant.id).await,
            ours,
            "{handle} changed nothing"
        );
    }
    let applied = redrive(Actor::new("ad")).await.unwrap();
    assert_eq!(applied.outcome, rustok_store::Outcome::Requeued(ours));
    assert_eq!(failed_of(app.tenant.id).await, 0);
    assert_eq!(
        failed_of(other.id).await,
        theirs,
        "another tenant's dead letters stay"
    );
    // One row per attempt: six refusals and the re-drive, newest first.
    let log = app.store.audit_log(0, 7).await.unwrap();
    assert_eq!(log.total, audit_before + 7);
    let rows: Vec<(&str, &str, AuditOutcome)> = log
        .rows
        .iter()
        .map(|e| (e.actor.as_str(), e.command.as_str(), e.outcome))
        .collect();
    assert_eq!(rows[0], ("ad", "retry_dead_letters", AuditOutcome::Ok));
    assert!(
        rows[1..]
            .iter()
            .all(|r| r.1 == "retry_dead_letters" && r.2 == AuditOutcome::Denied),
        "{rows:?}"
    );
    // Another tenant's dead letter, named by id, is not re-queued from this tenant.
    let their_event = app
        .store
        .list_events(&rustok_store::EventFilter {
            tenant_id: Some(other.id),
            status: Some("failed".into()),
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap()[0]
        .envelope
        .id;
    let applied = app
        .exec(Command::RetryDeadLetters {
            ids: vec![their_event],
        })
        .await
        .unwrap();
    assert_eq!(applied.outcome, rustok_store::Outcome::Requeued(0));
    assert_eq!(failed_of(other.id).await, theirs);
}

on_both_backends!(
    test_order_and_customer_data_do_not_reach_roles_without_order_read,
    test_dead_letter_redrive_is_a_checked_audited_tenant_scoped_command,
);
