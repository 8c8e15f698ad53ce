//! Revisions (issue 20): every saved change of a node is a revision written with it; history,
//! diff, revert and copy through the real action queue and store — on SQLite, and on
//! PostgreSQL when RUSTOK_TEST_POSTGRES_URL is set.

use crate::support;
use rustok_domain::content::diff::LineOp;
use rustok_domain::content::{
    MAX_REVISIONS_PER_NODE, Node, NodeAction, NodePatch, NodeStatus, RevisionContent,
};
use rustok_domain::{Command, DomainError, NodeId};
use support::TestApp;
use support::fixtures::{draft, locale, translation};

on_both_backends!(
    test_every_saved_change_is_a_revision,
    test_diff_of_two_revisions,
    test_revert_creates_a_new_version_with_the_old_content,
    test_copy_keeps_translations,
    test_revisions_are_bounded,
    test_revisions_are_tenant_scoped,
);

fn domain_err(e: rustok::runtime::QueueError) -> DomainError {
    e.domain()
        .cloned()
        .unwrap_or_else(|| panic!("expected a domain error, got {e}"))
}

async fn node_cmd(app: &TestApp, command: Command) -> Result<Node, DomainError> {
    match app.exec(command).await.map_err(domain_err)?.outcome {
        rustok_domain::read::Outcome::Node(n) => Ok(n),
        other => panic!("expected a node, got {other:?}"),
    }
}

async fn update_body(app: &TestApp, id: NodeId, body: &str) -> Node {
    node_cmd(
        app,
        Command::UpdateNode {
            id,
            patch: NodePatch {
                body: Some(body.into()),
                ..NodePatch::default()
            },
            expected_version: None,
        },
    )
    .await
    .unwrap()
}

async fn test_every_saved_change_is_a_revision(app: TestApp) {
    let n = app.create_node(draft("Ownership")).await.unwrap();
    app.add_translation(n.id, translation("ru", "Владение"))
        .await
        .unwrap();
    update_body(&app, n.id, "one\ntwo\n").await;
    app.publish_node(n.id).await.unwrap();
    let history = app.store.node_history(app.tenant.id, n.id).await.unwrap();
    let rows: Vec<(i64, &str, &str, NodeStatus, Vec<String>)> = history
        .iter()
        .map(|r| {
            (
                r.version,
                r.actor.as_str(),
                r.command.as_str(),
                r.status,
                r.locales.iter().map(|l| l.to_string()).collect(),
            )
        })
        .collect();
    let actor = app.actor.handle.as_str();
    assert_eq!(
        rows,
        vec![
            (4, actor, "publish_node", NodeStatus::Published, vec![]),
            (
                3,
                actor,
                "update_node",
                NodeStatus::Draft,
                vec!["en".into()]
            ),
            (
                2,
                actor,
                "translate_node",
                NodeStatus::Draft,
                vec!["ru".into()]
            ),
            (
                1,
                actor,
                "create_node",
                NodeStatus::Draft,
                vec!["en".into()]
            ),
        ]
    );
    // Each version's content is rebuilt from the copies.
    let v2 = app
        .store
        .node_at(app.tenant.id, n.id, 2)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v2.translations.len(), 2);
    assert_eq!(
        v2.translation(&locale("en")).unwrap().body,
        "# Ownership\n\nBody of Ownership."
    );
    let v4 = app
        .store
        .node_at(app.tenant.id, n.id, 4)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v4.translation(&locale("en")).unwrap().body, "one\ntwo\n");
    // A refused command writes no revision.
    let e = node_cmd(
        &app,
        Command::UpdateNode {
            id: n.id,
            patch: NodePatch {
                title: Some(String::new()),
                ..NodePatch::default()
            },
            expected_version: None,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(e.field(), Some("title"));
    // Four revisions; content copies only of what changed (the publication has none).
    assert_eq!(app.store.revision_rows(n.id).await.unwrap(), (4, 3));
}

async fn test_diff_of_two_revisions(app: TestApp) {
    let n = app.create_node(draft("Diffs")).await.unwrap();
    update_body(&app, n.id, "a\nb\nc\n").await;
    update_body(&app, n.id, "a\nB\nc\nd\n").await;
    app.add_translation(n.id, translation("de", "Unterschiede"))
        .await
        .unwrap();
    app.publish_node(n.id).await.unwrap();
    let reads = rustok::runtime::Reads::new(app.store.clone(), app.actor.handle.clone());
    let d = reads
        .node_diff(app.tenant.id, n.id, 2, 3, None)
        .await
        .unwrap();
    assert_eq!((d.from.version, d.to.version), (2, 3));
    assert_eq!(d.fields.len(), 1);
    assert_eq!(d.fields[0].label(), "[en] body");
    let ops: Vec<(LineOp, &str)> = d.fields[0].hunks[0]
        .lines
        .iter()
        .map(|l| (l.op, l.text.as_str()))
        .collect();
    assert_eq!(
        ops,
        [
            (LineOp::Context, "a"),
            (LineOp::Removed, "b"),
            (LineOp::Added, "B"),
            (LineOp::Context, "c"),
            (LineOp::Added, "d"),
        ]
    );
    assert_eq!(
        d.unified(),
        "--- v2 [en] body\n+++ v3 [en] body\n@@ -1,3 +1,4 @@\n a\n-b\n+B\n c\n+d\n"
    );
    // Across the translation and the publication: the status, and the new locale's fields.
    let d = reads
        .node_diff(app.tenant.id, n.id, 3, 5, None)
        .await
        .unwrap();
    let labels: Vec<String> = d.fields.iter().map(|f| f.label()).collect();
    assert_eq!(
        labels,
        [
            "status",
            "[de] title",
            "[de] slug",
            "[de] body",
            "[de] format"
        ]
    );
    let d = reads
        .node_diff(app.tenant.id, n.id, 3, 5, Some(&locale("en")))
        .await
        .unwrap();
    assert!(d.fields.is_empty(), "nothing of en changed: {d:?}");
    let e = reads
        .node_diff(app.tenant.id, n.id, 1, 9, None)
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("revision 9 of node {} not found", n.id)
    );
    // JSON: fields with hunks.
    let json = serde_json::to_value(
        reads
            .node_diff(app.tenant.id, n.id, 2, 3, None)
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(json["fields"][0]["field"], "body");
    assert_eq!(json["fields"][0]["hunks"][0]["lines"][1]["op"], "removed");
}

async fn test_revert_creates_a_new_version_with_the_old_content(app: TestApp) {
    let n = app.create_node(draft("Revert me")).await.unwrap();
    let original = n.source().clone();
    app.add_translation(n.id, translation("ru", "Верни"))
        .await
        .unwrap();
    update_body(&app, n.id, "changed\n").await;
    node_cmd(
        &app,
        Command::UpdateNode {
            id: n.id,
            patch: NodePatch {
                title: Some("Renamed".into()),
                ..NodePatch::default()
            },
            expected_version: None,
        },
    )
    .await
    .unwrap();
    let published = app.publish_node(n.id).await.unwrap();
    assert_eq!(published.version, 5);
    let seq = app.last_seq().await;
    let reverted = node_cmd(
        &app,
        Command::RevertNode {
            id: n.id,
            to: 2,
            expected_version: Some(5),
        },
    )
    .await
    .unwrap();
    assert_eq!(reverted.version, 6, "a new version");
    assert_eq!(reverted.status, NodeStatus::Published, "status unchanged");
    assert_eq!(reverted.published_at, published.published_at);
    let en = reverted.source();
    assert_eq!(
        (&en.title, &en.body, &en.slug),
        (&original.title, &original.body, &original.slug)
    );
    assert_eq!(
        reverted.translation(&locale("ru")).unwrap().title,
        "Верни",
        "a locale the revert does not change stays"
    );
    assert_eq!(app.get_node(n.id).await.unwrap(), reverted, "stored");
    assert_eq!(app.event_types_after(seq).await, ["node.updated"]);
    let history = app.store.node_history(app.tenant.id, n.id).await.unwrap();
    assert_eq!(
        (
            history[0].version,
            history[0].command.as_str(),
            history[0].reverted_from
        ),
        (6, "revert_node", Some(2))
    );
    let hits = app.search_nodes("Renamed").await;
    assert!(hits.is_empty(), "the search index follows the revert");
    // Refusals change nothing.
    let revert = |to, expected_version| Command::RevertNode {
        id: n.id,
        to,
        expected_version,
    };
    let e = node_cmd(&app, revert(6, None)).await.unwrap_err();
    assert_eq!(e.field(), Some("to"), "{e}");
    let e = node_cmd(&app, revert(5, Some(5))).await.unwrap_err();
    assert!(matches!(e, DomainError::VersionConflict { .. }), "{e}");
    let e = node_cmd(&app, revert(2, None)).await.unwrap_err();
    assert!(e.to_string().contains("nothing to revert"), "{e}");
    let e = node_cmd(
        &app,
        Command::RevertNode {
            id: NodeId::new_v7(),
            to: 1,
            expected_version: None,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind(), "not_found");
    assert_eq!(app.get_node(n.id).await.unwrap().version, 6);
    // Reverting the revert gets the renamed content back.
    let again = node_cmd(&app, revert(5, None)).await.unwrap();
    assert_eq!(again.source().title, "Renamed");
}

async fn test_copy_keeps_translations(app: TestApp) {
    let n = app.create_node(draft("Original")).await.unwrap();
    app.add_translation(n.id, translation("ru", "Оригинал"))
        .await
        .unwrap();
    let mut mine = RevisionContent::from(n.source());
    mine.body = "my unsaved text".into();
    let copy_id = NodeId::new_v7();
    let copy = node_cmd(
        &app,
        Command::CopyNode {
            id: copy_id,
            from: n.id,
            mine: Some(mine),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        (copy.id, copy.version, copy.status),
        (copy_id, 1, NodeStatus::Draft)
    );
    assert_eq!(copy.translations.len(), 2);
    assert_eq!(copy.source().title, "Original (copy)");
    assert_eq!(copy.source().body, "my unsaved text");
    let ru = copy.translation(&locale("ru")).unwrap();
    assert_eq!(
        (ru.title.as_str(), ru.body.as_str()),
        ("Оригинал (copy)", "Оригинал (ru)")
    );
    assert_eq!(app.get_node(copy_id).await.unwrap(), copy);
    assert_eq!(
        app.get_node(n.id).await.unwrap().version,
        2,
        "the original is untouched"
    );
    let types: Vec<String> = app
        .events_for(copy_id.as_uuid())
        .await
        .into_iter()
        .map(|e| e.envelope.event_type)
        .collect();
    assert_eq!(types, ["node.created", "node.translation_updated"]);
    let h = app
        .store
        .node_history(app.tenant.id, copy_id)
        .await
        .unwrap();
    assert_eq!((h.len(), h[0].command.as_str()), (1, "copy_node"));
    // The same id twice is a duplicate.
    let e = node_cmd(
        &app,
        Command::CopyNode {
            id: copy_id,
            from: n.id,
            mine: None,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind(), "duplicate");
    let _ = app.transition(copy_id, NodeAction::Publish).await.unwrap();
}

async fn test_revisions_are_bounded(app: TestApp) {
    let n = app.create_node(draft("Busy")).await.unwrap();
    app.add_translation(n.id, translation("ru", "Занятой"))
        .await
        .unwrap();
    let edits = MAX_REVISIONS_PER_NODE + 5;
    for i in 0..edits {
        update_body(&app, n.id, &format!("edit {i}\n")).await;
    }
    let version = 2 + edits;
    let (revisions, contents) = app.store.revision_rows(n.id).await.unwrap();
    assert_eq!(revisions as i64, MAX_REVISIONS_PER_NODE);
    // 100 kept en copies plus the ru copy the oldest kept revision still needs.
    assert_eq!(contents as i64, MAX_REVISIONS_PER_NODE + 1);
    let oldest = version - MAX_REVISIONS_PER_NODE + 1;
    let at = app
        .store
        .node_at(app.tenant.id, n.id, oldest)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(at.translations.len(), 2, "every locale rebuilt");
    assert_eq!(at.translation(&locale("ru")).unwrap().title, "Занятой");
    assert!(
        app.store
            .node_at(app.tenant.id, n.id, oldest - 1)
            .await
            .unwrap()
            .is_none()
    );
    let e = node_cmd(
        &app,
        Command::RevertNode {
            id: n.id,
            to: 1,
            expected_version: None,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind(), "not_found", "{e}");
    let back = node_cmd(
        &app,
        Command::RevertNode {
            id: n.id,
            to: oldest,
            expected_version: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(back.version, version + 1);
}

async fn test_revisions_are_tenant_scoped(app: TestApp) {
    let n = app.create_node(draft("Ours")).await.unwrap();
    let other = app.create_tenant("other").await;
    assert!(
        app.store
            .node_history(other.id, n.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        app.store
            .node_at(other.id, n.id, 1)
            .await
            .unwrap()
            .is_none()
    );
    let e = app
        .exec_in(
            &other,
            Command::RevertNode {
                id: n.id,
                to: 1,
                expected_version: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(domain_err(e).kind(), "not_found");
    let reads = rustok::runtime::Reads::new(app.store.clone(), app.actor.handle.clone());
    let e = reads.node_history(other.id, n.id).await.unwrap_err();
    assert!(e.to_string().contains("not found"), "{e}");
}
