//! Frame render time per pane with 100 rows behind it versus 1,000,000: the panes draw from a
//! window of the data (and the Events pane from its bounded ring), so the two should match.
//! Run: `cargo bench --bench render`.

use chrono::Utc;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use rustok_domain::commerce::OrderStatus;
use rustok_domain::content::{NodeKind, NodeStatus};
use rustok_domain::event::{DomainEvent, EnvelopeMeta, EventEnvelope, LiveEvent, NodeVersion};
use rustok_domain::read::{NodeSummary, OrderStats, OrderSummary, OutboxCounts, Page};
use rustok_domain::{Currency, EventId, Money, NodeId, OrderId, Tenant, TenantId};
use rustok_ui::{App, Config, Coverage, Effect, Keymap, Msg, Query, QueryResult, Session};
use std::time::Duration;

fn tenant() -> Tenant {
    Tenant::create(
        TenantId::new_v7(),
        "bench",
        "Bench",
        "en".parse().unwrap(),
        Utc::now(),
    )
    .unwrap()
    .0
}

fn node(i: u64) -> NodeSummary {
    NodeSummary {
        id: NodeId::new_v7(),
        kind: NodeKind::Article,
        status: NodeStatus::Published,
        version: 3,
        title: format!("Node number {i}"),
        source_locale: "en".parse().unwrap(),
        locales: vec!["en".parse().unwrap(), "de".parse().unwrap()],
        updated_at: Utc::now(),
        published_at: Some(Utc::now()),
        scheduled: None,
    }
}

fn order(i: u64, status: OrderStatus) -> OrderSummary {
    OrderSummary {
        id: OrderId::new_v7(),
        status,
        customer: Some(format!("c{i}@example.com")),
        total: Money::new(1250 + i as i64, Currency::USD),
        captured: Money::zero(Currency::USD),
        refunded: Money::zero(Currency::USD),
        lines: 1,
        units: 2,
        version: 1,
        placed_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

fn log_entry(i: u64) -> rustok_domain::audit::AuditLogEntry {
    rustok_domain::audit::AuditLogEntry {
        seq: i as i64,
        at: Utc::now(),
        actor: "bench".into(),
        command: "pay_order".into(),
        command_id: rustok_domain::CommandId::new_v7(),
        tenant_id: TenantId::new_v7(),
        session: None,
        outcome: rustok_domain::audit::AuditOutcome::Ok,
        reason: None,
    }
}

fn window<T>(total: u64, offset: u64, limit: u64, make: impl Fn(u64) -> T) -> Page<T> {
    let end = (offset + limit).min(total);
    Page {
        total,
        offset,
        rows: (offset.min(end)..end).map(make).collect(),
    }
}

/// Answers every query as a store with `n` nodes and `n` orders would.
fn answer(n: u64, q: &Query) -> QueryResult {
    match q {
        Query::Nodes { offset, limit, .. } => QueryResult::Nodes(window(n, *offset, *limit, node)),
        Query::Orders {
            status,
            offset,
            limit,
            ..
        } => QueryResult::Orders(window(n / 6, *offset, *limit, |i| order(i, *status))),
        Query::LocaleCoverage => QueryResult::LocaleCoverage(Coverage {
            total_nodes: n,
            locales: vec![("de".parse().unwrap(), n / 2), ("en".parse().unwrap(), n)],
        }),
        Query::Consumers => QueryResult::Consumers(Vec::new()),
        Query::OutboxCounts => QueryResult::OutboxCounts(
            OutboxCounts {
                pending: 0,
                dispatched: 2 * n,
                failed: 0,
            },
            None,
        ),
        Query::OrderStats => QueryResult::OrderStats(OrderStats {
            by_status: OrderStatus::ALL.iter().map(|s| (*s, n / 6)).collect(),
            today_orders: n,
            today_revenue: vec![Money::new(n as i64 * 1250, Currency::USD)],
            today_captured: vec![Money::new(n as i64 * 1250, Currency::USD)],
            ..Default::default()
        }),
        Query::Products { .. } => QueryResult::Products(Page::empty()),
        Query::Node(_) => QueryResult::Node(None),
        Query::Order(_) => QueryResult::Order(None, vec![]),
        Query::EventHistory { .. } | Query::FirstEventSince(_) | Query::DeadLetters => {
            QueryResult::Events(vec![])
        }
        Query::Customers { .. } => QueryResult::Customers(Page::empty()),
        Query::Customer { .. } => QueryResult::Customer(None),
        Query::Search { .. } => QueryResult::Search(vec![]),
        Query::Agenda { .. } => QueryResult::Agenda(vec![]),
        Query::Tenants => QueryResult::Tenants(vec![]),
        Query::AuditLog { offset, limit, .. } => {
            QueryResult::AuditLog(window(n, *offset, *limit, log_entry), vec![])
        }
        Query::Staff => QueryResult::Staff(vec![]),
        Query::SshSessions => QueryResult::SshSessions(Default::default()),
        Query::ResolveId { .. } => QueryResult::Resolved(uuid::Uuid::nil()),
        Query::Mentions => QueryResult::Mentions(vec![]),
        // The bench never opens a node's history.
        Query::NodeHistory(_) | Query::NodeDiff { .. } => QueryResult::NodeHistory(vec![]),
    }
}

fn run(app: &mut App, n: u64, mut fx: Vec<Effect>) {
    while !fx.is_empty() {
        let mut next = Vec::new();
        for e in fx {
            if let Effect::Load(id, q) = e {
                next.extend(app.update(Msg::Loaded(id, Ok(answer(n, &q)))));
            }
        }
        fx = next;
    }
}

fn key(app: &mut App, n: u64, code: KeyCode) {
    let fx = app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    run(app, n, fx);
}

fn event(tenant: TenantId, i: u64) -> LiveEvent {
    LiveEvent::new(
        i as i64,
        EventEnvelope::new(
            &DomainEvent::NodeRestored(NodeVersion { version: i as i64 }),
            EnvelopeMeta {
                id: EventId::new_v7(),
                tenant_id: tenant,
                aggregate_id: uuid::Uuid::now_v7(),
                actor: "bench".into(),
                occurred_at: Utc::now(),
                correlation_id: None,
                causation_id: None,
            },
        ),
    )
}

/// An app showing `tab` with `n` rows behind every list, scrolled to the end where it can be.
fn app(n: u64, tab: char) -> App {
    let tenant = tenant();
    let session = Session {
        tenant: tenant.clone(),
        actor: "bench".into(),
        role: "owner".into(),
        database: "bench".into(),
        read_only: false,
    };
    let mut app = App::new(
        session,
        &Config::default(),
        Keymap::default(),
        vec![],
        (120, 40),
    );
    let fx = app.init();
    run(&mut app, n, fx);
    key(&mut app, n, KeyCode::Char(tab));
    match tab {
        '2' | '3' | '4' => key(&mut app, n, KeyCode::End),
        // The Audit pane's audit log: `n` entries, paged from the store.
        '6' => {
            key(&mut app, n, KeyCode::Char('l'));
            key(&mut app, n, KeyCode::End);
        }
        '5' => {
            for i in 0..n {
                let fx = app.update(Msg::Event(event(tenant.id, i)));
                run(&mut app, n, fx);
            }
        }
        _ => {}
    }
    app
}

fn render(c: &mut Criterion) {
    let mut g = c.benchmark_group("render");
    for (pane, tab) in [
        ("dashboard", '1'),
        ("content", '2'),
        ("translations", '3'),
        ("orders", '4'),
        ("events", '5'),
        ("audit", '6'),
    ] {
        for n in [100u64, 1_000_000] {
            let app = app(n, tab);
            let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
            g.bench_with_input(BenchmarkId::new(pane, n), &n, |b, _| {
                b.iter(|| term.draw(|f| app.draw(f)).map(|_| ()).unwrap())
            });
        }
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500));
    targets = render
}
criterion_main!(benches);
