//! Snapshot tests of every view and state, on ratatui's TestBackend at 120×40. The app is
//! driven with messages exactly as the runtime drives it; queries are answered from
//! in-memory fixtures, so these tests need no database. Snapshot files are reviewed like code;
//! CI runs with INSTA_UPDATE=no, so an unreviewed change fails.

use chrono::{TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use rustok_domain::content::{BodyFormat, Node, NodeKind, NodeStatus, Translation};
use rustok_domain::read::{Applied, NodeSummary, OutboxCounts, Outcome, Page};
use rustok_domain::{Command, CommandId, DomainError, Locale, NodeId, Tenant, TenantId};
use rustok_ui::{
    App, Config, Coverage, Effect, Failure, Keymap, Msg, Query, QueryResult, RequestId, Session,
};
use uuid::Uuid;

const W: u16 = 120;
const H: u16 = 40;

fn at(minute: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 9, minute, 0)
        .single()
        .expect("valid time")
}

fn locale(s: &str) -> Locale {
    s.parse().expect("locale")
}

fn tenant() -> Tenant {
    Tenant {
        id: TenantId::from_uuid(Uuid::from_u128(1)),
        slug: "acme".into(),
        name: "Acme Coffee".into(),
        default_locale: locale("en"),
        is_active: true,
        created_at: at(0),
    }
}

fn node(i: u128, title: &str, kind: NodeKind, status: NodeStatus, locales: &[&str]) -> Node {
    let translations = locales
        .iter()
        .map(|l| Translation {
            locale: locale(l),
            title: if *l == "en" {
                title.to_string()
            } else {
                format!("{title} ({l})")
            },
            slug: format!("node-{i}-{l}"),
            excerpt: Some(format!("Excerpt of {title}")),
            body: format!("# {title}\n\nFirst paragraph of the body.\n\n- a list item\n- another"),
            format: BodyFormat::Markdown,
            updated_at: at(i as u32),
        })
        .collect();
    Node {
        id: NodeId::from_uuid(Uuid::from_u128(0x1000 + i)),
        tenant_id: tenant().id,
        kind,
        status,
        version: 1 + i as i64 % 4,
        source_locale: locale("en"),
        author: "editor".into(),
        created_at: at(0),
        updated_at: at(i as u32),
        published_at: (status != NodeStatus::Draft).then(|| at(i as u32)),
        archived_at: (status == NodeStatus::Archived).then(|| at(i as u32)),
        translations,
    }
}

fn fixture_nodes() -> Vec<Node> {
    use NodeKind::*;
    use NodeStatus::*;
    vec![
        node(
            1,
            "Welcome to Acme",
            Article,
            Published,
            &["en", "es", "de"],
        ),
        node(2, "About us", Page, Published, &["en", "es"]),
        node(3, "Rust ownership explained", Article, Draft, &["en"]),
        node(
            4,
            "Async Rust in practice",
            BlogPost,
            Published,
            &["en", "de"],
        ),
        node(5, "Shipping and returns", Page, Published, &["en"]),
        node(6, "Winter blend (retired)", BlogPost, Archived, &["en"]),
        node(7, "Evil \x1b[2J title", Post, Draft, &["en"]),
        node(8, "Brewing", Tag, Published, &["en", "es"]),
    ]
}

struct Harness {
    app: App,
    nodes: Vec<Node>,
    term: Terminal<TestBackend>,
    /// Commands the app dispatched and nobody answered yet.
    dispatched: Vec<(RequestId, Command)>,
}

impl Harness {
    fn with(nodes: Vec<Node>, config: Config, read_only: bool) -> Harness {
        let session = Session {
            tenant: tenant(),
            actor: "editor".into(),
            role: "editor".into(),
            database: "sqlite:///var/lib/rustok/rustok.db".into(),
            read_only,
        };
        let app = App::new(
            session,
            &config,
            Keymap::default(),
            rustok_ui::theme::builtin(),
            (W, H),
        );
        let mut h = Harness {
            app,
            nodes,
            term: Terminal::new(TestBackend::new(W, H)).expect("terminal"),
            dispatched: Vec::new(),
        };
        let fx = h.app.init();
        h.run(fx);
        h
    }

    fn new(nodes: Vec<Node>) -> Harness {
        Harness::with(nodes, Config::default(), false)
    }

    fn summary(n: &Node) -> NodeSummary {
        NodeSummary {
            id: n.id,
            kind: n.kind,
            status: n.status,
            version: n.version,
            title: n.source().title.clone(),
            source_locale: n.source_locale.clone(),
            locales: n.locales(),
            updated_at: n.updated_at,
            published_at: n.published_at,
        }
    }

    fn answer(&self, q: &Query) -> QueryResult {
        match q {
            Query::Nodes {
                status,
                kind,
                offset,
                limit,
            } => {
                let mut rows: Vec<&Node> = self
                    .nodes
                    .iter()
                    .filter(|n| {
                        status.is_none_or(|s| n.status == s) && kind.is_none_or(|k| n.kind == k)
                    })
                    .collect();
                rows.sort_by_key(|n| std::cmp::Reverse(n.updated_at));
                QueryResult::Nodes(Page {
                    total: rows.len() as u64,
                    offset: *offset,
                    rows: rows
                        .iter()
                        .skip(*offset as usize)
                        .take(*limit as usize)
                        .map(|n| Self::summary(n))
                        .collect(),
                })
            }
            Query::Node(id) => QueryResult::Node(self.nodes.iter().find(|n| n.id == *id).cloned()),
            Query::LocaleCoverage => {
                let mut locales: Vec<(Locale, u64)> = Vec::new();
                for n in &self.nodes {
                    for l in n.locales() {
                        match locales.iter_mut().find(|(x, _)| *x == l) {
                            Some((_, c)) => *c += 1,
                            None => locales.push((l, 1)),
                        }
                    }
                }
                locales.sort();
                QueryResult::LocaleCoverage(Coverage {
                    total_nodes: self.nodes.len() as u64,
                    locales,
                })
            }
            Query::OutboxCounts => QueryResult::OutboxCounts(OutboxCounts {
                pending: 2,
                dispatched: 1_234,
                failed: 1,
            }),
            Query::Tenants => QueryResult::Tenants(vec![tenant()]),
            Query::Search { .. } => QueryResult::Search(vec![]),
        }
    }

    /// Answers queries at once (repeatedly, as answers cause new queries); keeps commands.
    fn run(&mut self, mut fx: Vec<Effect>) {
        while !fx.is_empty() {
            let mut next = Vec::new();
            for e in fx {
                match e {
                    Effect::Load(id, q) => {
                        let r = self.answer(&q);
                        next.extend(self.app.update(Msg::Loaded(id, Ok(r))));
                    }
                    Effect::Dispatch(id, c) => self.dispatched.push((id, c)),
                    Effect::SwitchTenant(_) | Effect::Quit => {}
                }
            }
            fx = next;
        }
    }

    fn send(&mut self, msg: Msg) {
        let fx = self.app.update(msg);
        self.run(fx);
    }

    fn key(&mut self, code: KeyCode) {
        self.send(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }

    fn ctrl(&mut self, c: char) {
        self.send(Msg::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::CONTROL,
        )));
    }

    fn chars(&mut self, s: &str) {
        for c in s.chars() {
            let mods = if c.is_uppercase() {
                KeyModifiers::SHIFT
            } else {
                KeyModifiers::NONE
            };
            self.send(Msg::Key(KeyEvent::new(KeyCode::Char(c), mods)));
        }
    }

    /// Answers the oldest dispatched command.
    fn reply(&mut self, result: Result<Applied, Failure>) {
        let (id, _) = self.dispatched.remove(0);
        self.send(Msg::Outcome(id, result));
    }

    fn screen(&mut self) -> String {
        self.term.draw(|f| self.app.draw(f)).expect("draw");
        self.term.backend().to_string()
    }

    /// Text plus colours, for theme snapshots.
    fn styled_screen(&mut self) -> String {
        self.term.draw(|f| self.app.draw(f)).expect("draw");
        format!("{:?}", self.term.backend().buffer())
    }
}

fn applied(node: Node) -> Applied {
    Applied {
        command_id: CommandId::from_uuid(Uuid::from_u128(99)),
        outcome: Outcome::Node(node),
        events: vec![],
    }
}

#[test]
fn empty_database() {
    let mut h = Harness::new(vec![]);
    insta::assert_snapshot!(h.screen());
}

#[test]
fn node_list() {
    let mut h = Harness::new(fixture_nodes());
    h.key(KeyCode::Down);
    h.key(KeyCode::Down);
    let screen = h.screen();
    assert!(
        screen.contains("\\x1b[2J"),
        "escape sequences in titles are shown as text"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn node_list_filtered() {
    let mut h = Harness::new(fixture_nodes());
    h.chars("/rust");
    insta::assert_snapshot!(h.screen());
}

#[test]
fn editor_new_draft() {
    let mut h = Harness::new(fixture_nodes());
    h.chars("n");
    h.chars("Hello world");
    h.key(KeyCode::Tab);
    h.key(KeyCode::Tab);
    h.key(KeyCode::Tab);
    h.chars("Body line one");
    insta::assert_snapshot!(h.screen());
}

#[test]
fn editor_existing_node() {
    let mut h = Harness::new(fixture_nodes());
    h.key(KeyCode::Enter);
    insta::assert_snapshot!(h.screen());
}

#[test]
fn editor_validation_error_keeps_text() {
    let mut h = Harness::new(fixture_nodes());
    h.chars("n");
    h.key(KeyCode::Tab);
    h.chars("Bad Slug");
    h.key(KeyCode::Tab);
    h.key(KeyCode::Tab);
    h.chars("My precious body text");
    h.ctrl('s');
    assert_eq!(h.dispatched.len(), 1);
    h.reply(Err(Failure::Domain(DomainError::validation(
        "title",
        "must not be empty",
    ))));
    let screen = h.screen();
    assert!(
        screen.contains("My precious body text"),
        "the text survives the error"
    );
    assert!(screen.contains("✗ must not be empty"));
    insta::assert_snapshot!(screen);
}

#[test]
fn conflict_dialog() {
    let mut h = Harness::new(fixture_nodes());
    h.key(KeyCode::Enter);
    h.chars(" edited");
    h.ctrl('s');
    let Some((
        _,
        Command::UpdateNode {
            expected_version, ..
        },
    )) = h.dispatched.first().cloned()
    else {
        panic!("expected an update, got {:?}", h.dispatched)
    };
    let newest = fixture_nodes()
        .into_iter()
        .max_by_key(|n| n.updated_at)
        .expect("nodes");
    assert_eq!(
        expected_version,
        Some(newest.version),
        "the edit names the version it started from"
    );
    h.reply(Err(Failure::Domain(DomainError::VersionConflict {
        entity: "node",
        expected: newest.version,
        actual: newest.version + 1,
    })));
    insta::assert_snapshot!(h.screen());
    // "keep mine as a copy" creates a new draft with the edited text
    h.chars("c");
    match &h.dispatched[0].1 {
        Command::CreateNode(d) => assert!(d.body.ends_with(" edited"), "{}", d.body),
        other => panic!("expected a copy, got {other:?}"),
    }
}

#[test]
fn confirm_before_archiving() {
    let mut h = Harness::new(fixture_nodes());
    // Fixture order is newest first: row 1 is "Brewing" (published).
    h.chars("a");
    assert!(
        h.dispatched.is_empty(),
        "nothing happens before confirmation"
    );
    insta::assert_snapshot!(h.screen());
    h.chars("y");
    assert!(matches!(
        h.dispatched[0].1,
        Command::ChangeNodeStatus { .. }
    ));
}

#[test]
fn help_overlay() {
    let mut h = Harness::new(fixture_nodes());
    h.chars("?");
    insta::assert_snapshot!(h.screen());
}

#[test]
fn command_palette() {
    let mut h = Harness::new(fixture_nodes());
    h.chars(":th");
    insta::assert_snapshot!(h.screen());
}

#[test]
fn translations_with_coverage() {
    let mut h = Harness::new(fixture_nodes());
    h.chars("3");
    insta::assert_snapshot!(h.screen());
}

#[test]
fn translation_editor() {
    let mut h = Harness::new(fixture_nodes());
    h.chars("3");
    h.key(KeyCode::Down);
    h.key(KeyCode::Down); // "Winter blend (retired)": English only
    h.key(KeyCode::Enter);
    h.chars("Propiedad en Rust");
    let screen = h.screen();
    assert!(screen.contains("Target de") || screen.contains("Target es"));
    insta::assert_snapshot!(screen);
    h.ctrl('s');
    assert!(matches!(h.dispatched[0].1, Command::TranslateNode { .. }));
}

#[test]
fn dashboard() {
    let mut h = Harness::new(fixture_nodes());
    h.chars("1");
    insta::assert_snapshot!(h.screen());
}

#[test]
fn orders_placeholder() {
    let mut h = Harness::new(fixture_nodes());
    h.chars("4");
    insta::assert_snapshot!(h.screen());
}

#[test]
fn read_only_session_hides_and_refuses_changes() {
    let mut h = Harness::with(fixture_nodes(), Config::default(), true);
    h.chars("p");
    assert!(h.dispatched.is_empty());
    let screen = h.screen();
    assert!(!screen.contains("n new draft"));
    insta::assert_snapshot!(screen);
}

#[test]
fn spinner_while_a_command_runs_and_keys_keep_working() {
    let mut h = Harness::new(fixture_nodes());
    h.chars("p"); // publish the selected draft? row 0 is "Brewing" (published): pick the draft
    h.key(KeyCode::Down);
    h.chars("p");
    assert_eq!(h.dispatched.len(), 1, "publish was sent");
    assert!(h.app.is_busy());
    h.send(Msg::Tick);
    h.chars("1"); // another pane, while the command is still running
    let screen = h.screen();
    assert!(
        screen.contains("Acme Coffee  (acme"),
        "dashboard shown: keys kept working"
    );
    insta::assert_snapshot!(screen);
    let mut n = fixture_nodes()[6].clone();
    n.status = NodeStatus::Published;
    h.reply(Ok(applied(n)));
    assert!(!h.app.is_busy());
}

#[test]
fn themes() {
    for name in ["dark", "light", "catppuccin-mocha", "nord"] {
        let config = Config {
            theme: name.into(),
            ..Config::default()
        };
        let mut h = Harness::with(fixture_nodes(), config, false);
        assert_eq!(h.app.theme_name(), name);
        insta::assert_snapshot!(format!("theme_{name}"), h.styled_screen());
    }
}

#[test]
fn windows_of_a_million_rows() {
    // The list asks for one window at a time, whatever the total.
    let session = Session {
        tenant: tenant(),
        actor: "editor".into(),
        role: "editor".into(),
        database: "db".into(),
        read_only: false,
    };
    let mut app = App::new(
        session,
        &Config::default(),
        Keymap::default(),
        vec![],
        (W, H),
    );
    let fx = app.init();
    let (id, limit) = fx
        .iter()
        .find_map(|e| match e {
            Effect::Load(
                id,
                Query::Nodes {
                    limit, offset: 0, ..
                },
            ) => Some((*id, *limit)),
            _ => None,
        })
        .expect("a window query");
    assert!(
        limit < 200,
        "asks for a screenful or so, not everything (limit {limit})"
    );
    let rows = fixture_nodes()
        .iter()
        .map(Harness::summary)
        .cycle()
        .take(limit as usize)
        .collect();
    app.update(Msg::Loaded(
        id,
        Ok(QueryResult::Nodes(Page {
            total: 1_000_000,
            offset: 0,
            rows,
        })),
    ));
    let fx = app.update(Msg::Key(KeyEvent::new(KeyCode::End, KeyModifiers::NONE)));
    assert!(
        fx.iter().any(
            |e| matches!(e, Effect::Load(_, Query::Nodes { offset, .. }) if *offset > 999_000)
        ),
        "End asks for the last window: {fx:?}"
    );
}

#[test]
fn database_unreachable_is_shown_until_it_recovers() {
    let mut h = Harness::new(fixture_nodes());
    h.send(Msg::DatabaseStatus(Some("connection refused".into())));
    let screen = h.screen();
    assert!(
        screen.contains("database unreachable: connection refused"),
        "{screen}"
    );
    h.chars("j"); // other messages do not hide it
    assert!(h.screen().contains("database unreachable"));
    h.send(Msg::DatabaseStatus(None));
    let screen = h.screen();
    assert!(!screen.contains("unreachable"));
    assert!(screen.contains("database reachable again"));
}
