//! The seed's content flow scenarios (Sprint 4, Task 4.1 §3), through the real action queue,
//! store and relay — on SQLite, and on PostgreSQL when RUSTOK_TEST_POSTGRES_URL is set.

use crate::support;
use rustok_domain::command::NodeTransition;

use rustok_domain::content::{BodyFormat, NodeAction, NodeKind, NodePatch, NodeStatus};
use rustok_domain::{Command, DomainError, NodeId};
use support::TestApp;
use support::fixtures::{draft, draft_with, locale, translation};

on_both_backends!(
    test_short_ids_resolve_within_the_tenant,
    test_complete_node_lifecycle,
    test_node_with_different_content_types,
    test_node_translations,
    test_node_search,
    test_node_validation,
    test_node_state_transitions,
    test_node_retrieval,
    test_node_slug_uniqueness,
    test_node_with_different_body_formats,
    test_optimistic_locking,
    test_tenant_isolation,
    test_large_bodies,
);

fn domain_err(e: rustok::runtime::QueueError) -> DomainError {
    e.domain()
        .cloned()
        .unwrap_or_else(|| panic!("expected a domain error, got {e}"))
}

async fn test_complete_node_lifecycle(app: TestApp) {
    let node = app.create_node(draft("Ownership in Rust")).await.unwrap();
    assert_eq!((node.status, node.version), (NodeStatus::Draft, 1));

    let node = app
        .add_translation(node.id, translation("ru", "Владение в Rust"))
        .await
        .unwrap();
    assert_eq!(node.translations.len(), 2);

    let node = app.publish_node(node.id).await.unwrap();
    assert_eq!(node.status, NodeStatus::Published);
    assert!(node.published_at.is_some());

    let types: Vec<String> = app
        .events_for(node.id.as_uuid())
        .await
        .into_iter()
        .map(|e| e.envelope.event_type)
        .collect();
    assert_eq!(
        types,
        ["node.created", "node.translation_updated", "node.published"]
    );

    let hits = app.search_nodes("ownership").await;
    assert_eq!(hits.len(), 1);
    assert_eq!(
        (hits[0].node_id, hits[0].status),
        (node.id, NodeStatus::Published)
    );
    let hits = app.search_nodes("Владение").await;
    assert_eq!(hits.len(), 1, "the Russian translation is searchable");
    assert_eq!(hits[0].locale, locale("ru"));
}

async fn test_node_with_different_content_types(app: TestApp) {
    for kind in [NodeKind::Article, NodeKind::Page, NodeKind::BlogPost] {
        let title = format!("A {kind}");
        let created = app
            .create_node(draft_with(kind, &title, "text", BodyFormat::Markdown))
            .await
            .unwrap();
        let loaded = app.get_node(created.id).await.unwrap();
        assert_eq!(loaded.kind, kind);
    }
    assert_eq!(app.node_count().await, 3);
}

async fn test_node_translations(app: TestApp) {
    let node = app.create_node(draft("Hello")).await.unwrap();
    app.add_translation(node.id, translation("ru", "Привет"))
        .await
        .unwrap();
    app.add_translation(node.id, translation("es", "Hola"))
        .await
        .unwrap();
    let node = app.get_node(node.id).await.unwrap();
    let locales: Vec<String> = node
        .translations
        .iter()
        .map(|t| t.locale.to_string())
        .collect();
    assert_eq!(locales, ["en", "es", "ru"]);
    assert_eq!(node.translation(&locale("es")).unwrap().title, "Hola");
    assert_eq!(node.version, 3);
    // Replacing a translation keeps one entry per locale.
    let node = app
        .add_translation(node.id, translation("es", "¡Hola!"))
        .await
        .unwrap();
    assert_eq!(node.translations.len(), 3);
    assert_eq!(node.translation(&locale("es")).unwrap().title, "¡Hola!");
}

async fn test_node_search(app: TestApp) {
    for title in [
        "Rust ownership explained",
        "Async Rust in practice",
        "Python tips",
    ] {
        app.create_node(draft(title)).await.unwrap();
    }
    assert_eq!(app.search_nodes("Rust").await.len(), 2);
    assert_eq!(app.search_nodes("Python").await.len(), 1);
    assert!(app.search_nodes("Haskell").await.is_empty());
    assert!(app.search_nodes("").await.is_empty());
    // Operators typed by a user are searched for as words, never interpreted.
    assert!(app.search_nodes("Rust OR NOT \"Python").await.is_empty());
    // Bodies are searched too (the fixture body repeats the title).
    let hits = app.search_nodes("practice").await;
    assert_eq!(hits.len(), 1);
    // An edit re-indexes.
    let id = hits[0].node_id;
    app.exec(Command::UpdateNode {
        id,
        patch: NodePatch {
            title: Some("Concurrency".into()),
            body: Some("threads".into()),
            ..Default::default()
        },
        expected_version: None,
    })
    .await
    .unwrap();
    assert!(app.search_nodes("practice").await.is_empty());
    assert_eq!(app.search_nodes("threads").await[0].node_id, id);
}

async fn test_node_validation(app: TestApp) {
    let events_before = app.outbox_events().await.len();
    let long = "x".repeat(256);
    for (title, field) in [("", "title"), ("   ", "title"), (long.as_str(), "title")] {
        let err = domain_err(app.create_node(draft(title)).await.unwrap_err());
        assert_eq!(err.field(), Some(field), "{err}");
    }
    let err = "bogus".parse::<NodeKind>().unwrap_err();
    assert_eq!(err.field(), Some("kind"));
    let mut bad_slug = draft("Fine");
    bad_slug.slug = Some("Not A Slug".into());
    assert_eq!(
        domain_err(app.create_node(bad_slug).await.unwrap_err()).field(),
        Some("slug")
    );
    assert_eq!(app.node_count().await, 0);
    assert_eq!(
        app.outbox_events().await.len(),
        events_before,
        "a refused command writes no event"
    );
}

async fn test_node_state_transitions(app: TestApp) {
    let node = app.create_node(draft("States")).await.unwrap();
    assert!(node.published_at.is_none());
    let published = app.publish_node(node.id).await.unwrap();
    assert_eq!(published.status, NodeStatus::Published);
    let at = published.published_at.expect("published_at set on publish");
    assert!(at >= node.created_at);
    let archived = app.transition(node.id, NodeAction::Archive).await.unwrap();
    assert!(archived.archived_at.unwrap() >= at);
    // archived → published is not a transition.
    let err = domain_err(app.publish_node(node.id).await.unwrap_err());
    assert!(
        matches!(err, DomainError::InvalidTransition { .. }),
        "{err}"
    );
    let restored = app.transition(node.id, NodeAction::Restore).await.unwrap();
    assert_eq!(restored.status, NodeStatus::Draft);
    let types: Vec<String> = app
        .events_for(node.id.as_uuid())
        .await
        .into_iter()
        .map(|e| e.envelope.event_type)
        .collect();
    assert_eq!(
        types,
        [
            "node.created",
            "node.published",
            "node.archived",
            "node.restored"
        ]
    );
    assert_eq!(app.get_node(node.id).await.unwrap().version, 4);
}

async fn test_node_retrieval(app: TestApp) {
    let mut d = draft("Retrieve me");
    d.excerpt = Some("Short".into());
    let created = app.create_node(d.clone()).await.unwrap();
    let loaded = app.get_node(created.id).await.unwrap();
    assert_eq!(loaded, created);
    let t = loaded.source();
    assert_eq!(
        (t.title.as_str(), t.slug.as_str()),
        ("Retrieve me", "retrieve-me")
    );
    assert_eq!(t.excerpt.as_deref(), Some("Short"));
    assert_eq!(t.body, d.body);
    assert_eq!(loaded.author, "tester");
    let missing = NodeId::new_v7();
    assert!(app.get_node(missing).await.is_none());
    let err = domain_err(app.publish_node(missing).await.unwrap_err());
    assert!(matches!(err, DomainError::NotFound { .. }));
}

async fn test_node_slug_uniqueness(app: TestApp) {
    let mut first = draft("First");
    first.slug = Some("unique-slug".into());
    let first = app.create_node(first).await.unwrap();
    let mut second = draft("Second");
    second.slug = Some("unique-slug".into());
    let err = domain_err(app.create_node(second.clone()).await.unwrap_err());
    assert!(matches!(err, DomainError::Duplicate { .. }), "{err}");
    assert_eq!(
        app.get_node(first.id).await.unwrap(),
        first,
        "first node unchanged"
    );
    assert!(app.get_node(second.id).await.is_none());
    // The same slug is fine in another locale and in another tenant.
    second.locale = locale("de");
    app.create_node(second.clone()).await.unwrap();
    let other = app.create_tenant("other").await;
    let mut third = draft("Third");
    third.slug = Some("unique-slug".into());
    app.exec_in(&other, Command::CreateNode(third))
        .await
        .unwrap();
    // A translation cannot take a slug already used in its locale either.
    let mut t = translation("de", "Zweite");
    t.slug = Some("unique-slug".into());
    let err = domain_err(app.add_translation(first.id, t).await.unwrap_err());
    assert!(matches!(err, DomainError::Duplicate { .. }));
}

async fn test_node_with_different_body_formats(app: TestApp) {
    for (format, body) in [
        (BodyFormat::Markdown, "# Title\n\n*emphasis*"),
        (BodyFormat::Html, "<h1>Title</h1><p>para</p>"),
        (BodyFormat::Plain, "just text"),
    ] {
        let n = app
            .create_node(draft_with(
                NodeKind::Page,
                &format!("In {format}"),
                body,
                format,
            ))
            .await
            .unwrap();
        let loaded = app.get_node(n.id).await.unwrap();
        assert_eq!(loaded.source().format, format);
        assert_eq!(loaded.source().body, body);
    }
}

async fn test_optimistic_locking(app: TestApp) {
    let node = app.create_node(draft("Locked")).await.unwrap();
    let edit = |title: &str, v: i64| Command::UpdateNode {
        id: node.id,
        patch: NodePatch {
            title: Some(title.into()),
            ..Default::default()
        },
        expected_version: Some(v),
    };
    app.exec(edit("Mine", 1)).await.unwrap();
    let events = app.outbox_events().await.len();
    let err = domain_err(app.exec(edit("Theirs", 1)).await.unwrap_err());
    assert_eq!(
        err,
        DomainError::VersionConflict {
            entity: "node",
            expected: 1,
            actual: 2
        }
    );
    let stored = app.get_node(node.id).await.unwrap();
    assert_eq!(
        (stored.source().title.as_str(), stored.version),
        ("Mine", 2)
    );
    assert_eq!(
        app.outbox_events().await.len(),
        events,
        "a conflict writes nothing"
    );
}

async fn test_tenant_isolation(app: TestApp) {
    let node = app.create_node(draft("Secret plans")).await.unwrap();
    let other = app.create_tenant("rival").await;
    assert!(app.store.node(other.id, node.id).await.unwrap().is_none());
    let list = app
        .store
        .list_nodes(other.id, &Default::default())
        .await
        .unwrap();
    assert_eq!(list.total, 0);
    assert!(
        app.store
            .search_nodes(other.id, "secret", None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let theirs = app
        .store
        .list_events(&rustok_store::EventFilter {
            tenant_id: Some(other.id),
            aggregate_id: Some(node.id.as_uuid()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(theirs.is_empty());
    // Acting on another tenant's node is a not-found, and changes nothing.
    let err = app
        .exec_in(
            &other,
            Command::NodeStatus(NodeTransition {
                id: node.id,
                action: NodeAction::Publish,
                expected_version: None,
            }),
        )
        .await
        .unwrap_err();
    assert!(matches!(err.domain(), Some(DomainError::NotFound { .. })));
    assert_eq!(
        app.get_node(node.id).await.unwrap().status,
        NodeStatus::Draft
    );
}

async fn test_large_bodies(app: TestApp) {
    let body = "ä".repeat(1_000_000);
    let node = app
        .create_node(draft_with(
            NodeKind::Article,
            "Big",
            &body,
            BodyFormat::Plain,
        ))
        .await
        .unwrap();
    assert_eq!(
        app.get_node(node.id)
            .await
            .unwrap()
            .source()
            .body
            .chars()
            .count(),
        1_000_000
    );
    let too_big = "a".repeat(1_000_001);
    let err = domain_err(
        app.create_node(draft_with(
            NodeKind::Article,
            "Bigger",
            &too_big,
            BodyFormat::Plain,
        ))
        .await
        .unwrap_err(),
    );
    assert_eq!(err.field(), Some("body"));
}

/// The store's search returns its hits in the order of SQLite's own `ORDER BY rank` (best
/// first): the same ids in the same order as the plain FTS5 query on the same file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_search_hits_come_in_rank_order() {
    let app = TestApp::start(support::TestDb::sqlite()).await;
    // Bodies of one length with the term 1 to 24 times: every node ranks differently.
    for i in 1..=24usize {
        let words: Vec<&str> = (0..24)
            .map(|w| if w < i { "espresso" } else { "water" })
            .collect();
        let title = format!("Brew note {i:02}");
        app.create_node(draft_with(
            NodeKind::Article,
            &title,
            &words.join(" "),
            BodyFormat::Markdown,
        ))
        .await
        .unwrap();
    }
    let ours: Vec<String> = app
        .store
        .search_nodes(app.tenant.id, "espresso", None, 10)
        .await
        .unwrap()
        .iter()
        .map(|h| h.node_id.to_string())
        .collect();
    let path = app.db.dir().unwrap().join("rustok.db");
    let raw: Vec<String> = rusqlite::Connection::open(&path)
        .unwrap()
        .prepare(
            "SELECT node_id FROM node_search WHERE node_search MATCH ?1 AND tenant_id = ?2 \
             ORDER BY rank LIMIT 10",
        )
        .unwrap()
        .query_map(
            rusqlite::params!["\"espresso\"*", app.tenant.id.to_string()],
            |r| r.get(0),
        )
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(ours.len(), 10);
    assert_eq!(ours, raw, "the store's hits are not in rank order");
}

/// Short ids (the last 8 hex digits screens show): unique within the tenant → resolved;
/// shared by several → an error naming the candidates; another tenant's → not found; a whole
/// UUID always works; resolving an order's short id needs `order:read`.
async fn test_short_ids_resolve_within_the_tenant(app: TestApp) {
    use rustok::runtime::Reads;
    use rustok_store::IdKind;
    let with_id = |id: &str, title: &str| {
        let mut d = draft(title);
        d.id = NodeId::from_uuid(uuid::Uuid::parse_str(id).unwrap());
        d
    };
    let a = app
        .create_node(with_id("01936c3e-0000-7000-8000-11116a9768cf", "A"))
        .await
        .unwrap();
    let b = app
        .create_node(with_id("01936c3e-0000-7000-8000-22226a9768cf", "B"))
        .await
        .unwrap();
    let other = app.create_tenant("elsewhere").await;
    app.exec_in(
        &other,
        Command::CreateNode(with_id("01936c3e-0000-7000-8000-0000deadbeef", "Theirs")),
    )
    .await
    .unwrap();
    let reads = Reads::new(app.store.clone(), "tester");
    let t = app.tenant.id;
    let e = reads
        .resolve_id(t, IdKind::Node, "6a9768cf")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("'6a9768cf' is ambiguous: 2 nodes end in it")
            && e.contains(&a.id.to_string())
            && e.contains(&b.id.to_string()),
        "{e}"
    );
    assert_eq!(
        reads
            .resolve_id(t, IdKind::Node, "22226A9768CF")
            .await
            .unwrap(),
        b.id.as_uuid()
    );
    assert_eq!(
        reads
            .resolve_id(t, IdKind::Node, &a.id.to_string())
            .await
            .unwrap(),
        a.id.as_uuid()
    );
    assert_eq!(
        reads
            .resolve_id(t, IdKind::Node, "deadbeef")
            .await
            .unwrap_err()
            .to_string(),
        "node ending in deadbeef not found",
        "another tenant's node is not found"
    );
    assert!(reads.resolve_id(t, IdKind::Node, "nothex!").await.is_err());
    assert_eq!(
        reads.resolve_aggregate(t, "11116a9768cf").await.unwrap(),
        a.id.as_uuid()
    );
    // Short order ids need order:read; a whole UUID reads nothing and needs nothing.
    app.exec(Command::AddStaff(rustok_domain::staff::StaffDraft {
        id: rustok_domain::StaffId::new_v7(),
        handle: "ed".into(),
        display_name: None,
        role: rustok_domain::rbac::Role::Editor,
        ssh_keys: vec![],
        mfa_enabled: false,
    }))
    .await
    .unwrap();
    let editor = Reads::new(app.store.clone(), "ed");
    assert!(
        editor
            .resolve_id(t, IdKind::Order, "6a9768cf")
            .await
            .unwrap_err()
            .to_string()
            .contains("editor cannot read orders")
    );
    let whole = rustok_domain::OrderId::new_v7().to_string();
    assert!(editor.resolve_id(t, IdKind::Order, &whole).await.is_ok());
}

/// Issue 20, item 4: the search the console's `F` and `rustok node search` use finds text in
/// any locale of any node — a word in a Spanish body, the start of a Russian word, two
/// words of an English excerpt — with a snippet of the matching text, on both backends.
async fn test_search_finds_text_in_every_locale(app: TestApp) {
    let node = app
        .create_node(draft_with(
            NodeKind::Article,
            "Brewing guide",
            "Use filtered water at 94 degrees.",
            BodyFormat::Markdown,
        ))
        .await
        .unwrap();
    let mut es = translation("es", "Guía de preparación");
    es.body = Some("El café de la casa se prepara despacio.".into());
    app.add_translation(node.id, es).await.unwrap();
    let mut ru = translation("ru", "Колдун и кофе");
    ru.body = Some("Колдовство варки кофе.".into());
    app.add_translation(node.id, ru).await.unwrap();
    let found = |q: &'static str| {
        let app = &app;
        async move { app.search_nodes(q).await }
    };
    let hits = found("casa").await;
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!((hits[0].node_id, hits[0].locale.as_str()), (node.id, "es"));
    let snippet = hits[0].snippet.clone().unwrap_or_default();
    assert!(
        snippet.contains("casa"),
        "a snippet around the match: {snippet}"
    );
    let hits = found("Колд").await;
    assert_eq!(hits.len(), 1, "a prefix of a Russian word: {hits:?}");
    assert_eq!(hits[0].locale.as_str(), "ru");
    let hits = found("filtered water").await;
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].locale.as_str(), "en");
    assert!(found("casa Колд").await.is_empty(), "every word must match");
    // Operators typed by a user are text.
    assert!(found("casa | !x:*").await.is_empty());
}

on_both_backends!(test_search_finds_text_in_every_locale);
