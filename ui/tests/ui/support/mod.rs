//! The snapshot harness: drives `App` with messages as the runtime does and answers its
//! queries from in-memory fixtures, so the view tests need no database.
#![allow(dead_code)]

use chrono::{TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use rustok_domain::audit::{
    AuditInput, AuditLogEntry, AuditOutcome, AuditReport, DatabaseFacts, OutboxFacts,
    SecurityConfig, TenantFacts,
};
use rustok_domain::commerce::{InventoryPolicy, LineItem, Order, OrderStatus, ProductStatus};
use rustok_domain::content::{BodyFormat, Node, NodeKind, NodeStatus, Translation};
use rustok_domain::event::{DomainEvent, EnvelopeMeta, EventEnvelope, LiveEvent};
use rustok_domain::rbac::Role;
use rustok_domain::read::{
    Applied, Customer, CustomerDetail, NodeSummary, OrderStats, OrderSummary, OutboxCounts,
    Outcome, Page, SshSessions, StockRow, StoredEvent,
};
use rustok_domain::staff::{SshKey, Staff};
use rustok_domain::{
    Command, CommandId, Currency, EventId, Locale, Money, NodeId, OrderId, ProductId, Tenant,
    TenantId, VariantId,
};
use rustok_domain::{DomainError, StaffId};
use rustok_ui::{
    App, AuditTrigger, Config, Coverage, Effect, Failure, Keymap, Msg, Query, QueryResult,
    ReportFormat, RequestId, Session,
};
use uuid::Uuid;

pub const W: u16 = 120;
pub const H: u16 = 40;

pub fn at(minute: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 9, minute, 0)
        .single()
        .expect("valid time")
}

pub fn locale(s: &str) -> Locale {
    s.parse().expect("locale")
}

pub fn tenant() -> Tenant {
    Tenant {
        id: TenantId::from_uuid(Uuid::from_u128(1)),
        slug: "acme".into(),
        name: "Acme Coffee".into(),
        default_locale: locale("en"),
        is_active: true,
        created_at: at(0),
    }
}

pub fn node(i: u128, title: &str, kind: NodeKind, status: NodeStatus, locales: &[&str]) -> Node {
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

pub fn fixture_nodes() -> Vec<Node> {
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

pub struct Harness {
    pub app: App,
    pub nodes: Vec<Node>,
    pub orders: Vec<Order>,
    pub stock: Vec<StockRow>,
    pub stored: Vec<StoredEvent>,
    term: Terminal<TestBackend>,
    /// Commands the app dispatched and nobody answered yet.
    pub dispatched: Vec<(RequestId, Command)>,
    /// Dead letters the app asked to retry.
    pub staff: Vec<Staff>,
    pub audit_log: Vec<AuditLogEntry>,
    /// The report `Effect::RunAudit` is answered with (`None`: the run is denied as for an
    /// editor).
    pub report: Option<AuditReport>,
    /// Reads refused as the store refuses them for an editor (`staff`, `audit log`).
    pub deny_reads: bool,
    /// Refuse orders and order figures, as the store does for a role without `order:read`.
    pub deny_orders: bool,
    /// Order queries asked (orders, an order, the order figures).
    pub order_queries: usize,
    /// How many times the app asked to run the audit / to check for changes.
    pub audit_runs: usize,
    pub audit_checks: usize,
    pub exports: Vec<(ReportFormat, String, u32)>,
    /// Layouts the app asked to keep.
    pub layouts: Vec<String>,
    /// What `Query::Consumers` is answered with (the outbox's independent consumers).
    pub consumers: Vec<rustok_domain::read::ConsumerStats>,
    /// How many times the consumers were read.
    pub consumer_reads: usize,
    /// What `Query::SshSessions` is answered with.
    pub ssh: SshSessions,
    /// How many times the sessions were read.
    pub ssh_reads: usize,
    /// Kicks the app asked for and nobody answered yet: (request, server, session, since, reason).
    pub kicks: Vec<(RequestId, String, u64, chrono::DateTime<Utc>, String)>,
    /// What `Query::Mentions` is answered with (the member's unread mentions).
    pub mentions: Vec<rustok_domain::commerce::Mention>,
    /// The notes whose mentions the app marked read.
    pub marked_read: Vec<rustok_domain::NoteId>,
    /// Issue 20: the nodes' revisions `Query::NodeHistory` and `Query::NodeDiff` answer from.
    pub revisions: Vec<rustok_domain::content::NodeAt>,
    /// What `Query::Agenda` is answered with (the node list marks these nodes too).
    pub agenda: Vec<rustok_domain::content::AgendaEntry>,
    /// What `Query::Search` is answered with.
    pub hits: Vec<rustok_domain::read::SearchHit>,
}

impl Harness {
    pub fn with(nodes: Vec<Node>, config: Config, read_only: bool) -> Harness {
        Harness::with_orders_denied(nodes, config, read_only, false)
    }

    /// [`Harness::with`], the store refusing orders from the start when `deny_orders`.
    pub fn with_orders_denied(
        nodes: Vec<Node>,
        config: Config,
        read_only: bool,
        deny_orders: bool,
    ) -> Harness {
        let session = Session {
            tenant: tenant(),
            actor: "editor".into(),
            role: "editor".into(),
            database: "sqlite:///var/lib/rustok/rustok.db".into(),
            read_only,
        };
        Harness::build(session, nodes, config, deny_orders)
    }

    /// A console of `actor` with `role` (the status bar shows them; the fixture's answers do
    /// not depend on them — `deny_reads` does).
    pub fn signed_in(actor: &str, role: &str, read_only: bool) -> Harness {
        let session = Session {
            tenant: tenant(),
            actor: actor.into(),
            role: role.into(),
            database: "sqlite:///var/lib/rustok/rustok.db".into(),
            read_only,
        };
        Harness::build(session, fixture_nodes(), Config::default(), false)
    }

    fn build(session: Session, nodes: Vec<Node>, config: Config, deny_orders: bool) -> Harness {
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
            orders: Vec::new(),
            stock: Vec::new(),
            stored: Vec::new(),
            term: Terminal::new(TestBackend::new(W, H)).expect("terminal"),
            dispatched: Vec::new(),
            staff: Vec::new(),
            audit_log: Vec::new(),
            report: None,
            deny_reads: false,
            deny_orders,
            order_queries: 0,
            audit_runs: 0,
            audit_checks: 0,
            exports: Vec::new(),
            layouts: Vec::new(),
            consumers: Vec::new(),
            consumer_reads: 0,
            ssh: SshSessions::default(),
            ssh_reads: 0,
            kicks: Vec::new(),
            mentions: Vec::new(),
            marked_read: Vec::new(),
            revisions: Vec::new(),
            agenda: Vec::new(),
            hits: Vec::new(),
        };
        let fx = h.app.init();
        h.run(fx);
        h
    }

    pub fn new(nodes: Vec<Node>) -> Harness {
        Harness::with(nodes, Config::default(), false)
    }

    pub fn summary(n: &Node) -> NodeSummary {
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
            scheduled: None,
        }
    }

    /// The fixture's customers as the store reads them: per email (lowercased), who ordered
    /// last first, with their orders newest first; lifetime value is captured less refunded.
    pub fn customers(&self) -> Vec<(Customer, Vec<OrderSummary>)> {
        let mut out: Vec<(Customer, Vec<OrderSummary>)> = Vec::new();
        for o in &self.orders {
            let Some(email) = o.customer.as_deref().map(str::to_lowercase) else {
                continue;
            };
            let net = o.net();
            match out.iter_mut().find(|(c, _)| c.email == email) {
                Some((c, orders)) => {
                    c.orders += 1;
                    c.lifetime_value[0].amount += net.amount;
                    c.last_order_at = c.last_order_at.max(o.placed_at);
                    orders.push(OrderSummary::of(o));
                }
                None => out.push((
                    Customer {
                        email,
                        orders: 1,
                        lifetime_value: vec![net],
                        last_order_at: o.placed_at,
                    },
                    vec![OrderSummary::of(o)],
                )),
            }
        }
        for (_, orders) in &mut out {
            orders.sort_by(|a, b| b.placed_at.cmp(&a.placed_at).then(b.id.cmp(&a.id)));
        }
        out.sort_by(|(a, _), (b, _)| {
            b.last_order_at
                .cmp(&a.last_order_at)
                .then(a.email.cmp(&b.email))
        });
        out
    }

    pub fn answer(&self, q: &Query) -> QueryResult {
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
                        .map(|n| {
                            let mut s = Self::summary(n);
                            s.scheduled = self
                                .agenda
                                .iter()
                                .filter(|e| e.schedule.node_id == n.id)
                                .map(|e| (e.schedule.action, e.schedule.at))
                                .min_by_key(|(_, at)| *at);
                            s
                        })
                        .collect(),
                })
            }
            Query::Node(id) => QueryResult::Node(self.nodes.iter().find(|n| n.id == *id).cloned()),
            Query::ResolveId { .. } => unreachable!("answered by answer_checked"),
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
            Query::Consumers => QueryResult::Consumers(self.consumers.clone()),
            Query::OutboxCounts => QueryResult::OutboxCounts(
                OutboxCounts {
                    pending: 2,
                    dispatched: 1_234,
                    failed: 1,
                },
                Some(at(0)),
            ),
            Query::Orders {
                status,
                filter,
                offset,
                limit,
            } => {
                // Like the store: customer, a line's SKU or the id's hex digits contain the
                // filter (case ignored).
                let f = filter.as_deref().unwrap_or("").trim().to_lowercase();
                let matches = |o: &Order| {
                    f.is_empty()
                        || o.customer
                            .as_deref()
                            .is_some_and(|c| c.to_lowercase().contains(&f))
                        || o.items.iter().any(|i| i.sku.to_lowercase().contains(&f))
                        || (f.bytes().all(|b| b.is_ascii_hexdigit())
                            && o.id.as_uuid().simple().to_string().contains(&f))
                };
                let rows: Vec<OrderSummary> = self
                    .orders
                    .iter()
                    .filter(|o| o.status == *status && matches(o))
                    .map(OrderSummary::of)
                    .collect();
                QueryResult::Orders(Page {
                    total: rows.len() as u64,
                    offset: *offset,
                    rows: rows
                        .into_iter()
                        .skip(*offset as usize)
                        .take(*limit as usize)
                        .collect(),
                })
            }
            Query::Order(id) => {
                let order = self.orders.iter().find(|o| o.id == *id).cloned();
                let events = self
                    .stored
                    .iter()
                    .filter(|e| e.envelope.aggregate_id == id.as_uuid())
                    .cloned()
                    .collect();
                QueryResult::Order(order, events)
            }
            Query::Customers { offset, limit } => {
                let all = self.customers();
                QueryResult::Customers(Page {
                    total: all.len() as u64,
                    offset: *offset,
                    rows: all
                        .into_iter()
                        .skip(*offset as usize)
                        .take(*limit as usize)
                        .map(|(c, _)| c)
                        .collect(),
                })
            }
            Query::Customer { email, limit } => QueryResult::Customer(
                self.customers()
                    .into_iter()
                    .find(|(c, _)| c.email == email.to_lowercase())
                    .map(|(customer, orders)| CustomerDetail {
                        customer,
                        order_list: Page {
                            total: orders.len() as u64,
                            offset: 0,
                            rows: orders.into_iter().take(*limit as usize).collect(),
                        },
                    }),
            ),
            Query::Products {
                low_only,
                offset,
                limit,
            } => {
                let rows: Vec<StockRow> = self
                    .stock
                    .iter()
                    .filter(|r| !low_only || r.low)
                    .cloned()
                    .collect();
                QueryResult::Products(Page {
                    total: rows.len() as u64,
                    offset: *offset,
                    rows: rows
                        .into_iter()
                        .skip(*offset as usize)
                        .take(*limit as usize)
                        .collect(),
                })
            }
            Query::EventHistory { before_seq, limit } => QueryResult::Events(
                self.stored
                    .iter()
                    .rev()
                    .filter(|e| before_seq.is_none_or(|b| e.seq < b))
                    .take(*limit as usize)
                    .cloned()
                    .collect(),
            ),
            Query::FirstEventSince(at) => QueryResult::Events(
                self.stored
                    .iter()
                    .filter(|e| e.envelope.occurred_at >= *at)
                    .take(1)
                    .cloned()
                    .collect(),
            ),
            Query::DeadLetters => QueryResult::Events(
                self.stored
                    .iter()
                    .filter(|e| e.status == "failed")
                    .cloned()
                    .collect(),
            ),
            Query::OrderStats => {
                let by_status = OrderStatus::ALL
                    .iter()
                    .map(|s| {
                        (
                            *s,
                            self.orders.iter().filter(|o| o.status == *s).count() as u64,
                        )
                    })
                    .collect();
                // Like the store: every fixture order is today's; captured = paid ones,
                // refunded = paid then cancelled, unpaid = pending or confirmed.
                let sum = |f: &dyn Fn(&Order) -> bool| {
                    vec![Money::new(
                        self.orders
                            .iter()
                            .filter(|o| f(o))
                            .map(|o| o.total.amount)
                            .sum(),
                        Currency::USD,
                    )]
                };
                let unpaid =
                    |o: &Order| matches!(o.status, OrderStatus::Pending | OrderStatus::Confirmed);
                let captured = sum(&|o: &Order| o.paid_at.is_some());
                let refunded =
                    sum(&|o: &Order| o.paid_at.is_some() && o.status == OrderStatus::Cancelled);
                QueryResult::OrderStats(OrderStats {
                    by_status,
                    today_orders: self.orders.len() as u64,
                    today_revenue: OrderStats::net(&captured, &refunded),
                    today_captured: captured,
                    today_refunded: refunded,
                    today_unpaid_orders: self.orders.iter().filter(|o| unpaid(o)).count() as u64,
                    today_unpaid: sum(&unpaid),
                })
            }
            Query::Tenants => QueryResult::Tenants(vec![tenant()]),
            Query::Search { .. } => QueryResult::Search(self.hits.clone()),
            Query::Agenda { .. } => QueryResult::Agenda(self.agenda.clone()),
            Query::AuditLog {
                offset,
                limit,
                filter,
            } => {
                // Like the store: a substring of actor, command, outcome, reason or session.
                let f = filter.trim().to_ascii_lowercase();
                let matching: Vec<&AuditLogEntry> = self
                    .audit_log
                    .iter()
                    .rev()
                    .filter(|e| {
                        [
                            e.actor.as_str(),
                            e.command.as_str(),
                            e.outcome.as_str(),
                            e.reason.as_deref().unwrap_or(""),
                            e.session.as_deref().unwrap_or(""),
                        ]
                        .iter()
                        .any(|t| t.to_ascii_lowercase().contains(&f))
                    })
                    .collect();
                QueryResult::AuditLog(
                    Page {
                        total: matching.len() as u64,
                        offset: *offset,
                        rows: matching
                            .into_iter()
                            .skip(*offset as usize)
                            .take(*limit as usize)
                            .cloned()
                            .collect(),
                    },
                    vec![(tenant().id, tenant().slug)],
                )
            }
            Query::Staff => QueryResult::Staff(self.staff.clone()),
            Query::SshSessions => QueryResult::SshSessions(self.ssh.clone()),
            Query::Mentions => QueryResult::Mentions(self.mentions.clone()),
            Query::NodeHistory(id) => {
                let mut v: Vec<rustok_domain::content::Revision> = self
                    .revisions
                    .iter()
                    .filter(|r| r.node_id == *id)
                    .map(|r| r.revision.clone())
                    .collect();
                v.sort_by_key(|r| std::cmp::Reverse(r.version));
                QueryResult::NodeHistory(v)
            }
            Query::NodeDiff { id, from, to } => {
                let at = |v: i64| {
                    self.revisions
                        .iter()
                        .find(|r| r.node_id == *id && r.revision.version == v)
                        .cloned()
                        .expect("a fixture revision")
                };
                QueryResult::NodeDiff(Box::new(rustok_domain::content::diff::NodeDiff::between(
                    &at(*from),
                    &at(*to),
                    None,
                )))
            }
        }
    }

    /// Like the store: reads of staff and the audit log need a permission.
    pub fn answer_checked(&mut self, q: &Query) -> Result<QueryResult, Failure> {
        if let Query::ResolveId { kind, text } = q {
            return self.resolve(*kind, text);
        }
        let what = match q {
            Query::AuditLog { .. } => Some("read the audit log (needs audit:read)"),
            Query::Staff => Some("list staff (needs staff:read)"),
            Query::SshSessions => Some("list SSH sessions (needs staff:read)"),
            _ => None,
        };
        self.ssh_reads += usize::from(*q == Query::SshSessions);
        self.consumer_reads += usize::from(*q == Query::Consumers);
        let order = matches!(
            q,
            Query::Orders { .. }
                | Query::Order(_)
                | Query::OrderStats
                | Query::Customers { .. }
                | Query::Customer { .. }
        );
        self.order_queries += usize::from(order);
        match what {
            Some(w) if self.deny_reads => Err(Failure::Domain(DomainError::denied(format!(
                "editor cannot {w}"
            )))),
            _ if (order || *q == Query::Mentions) && self.deny_orders => Err(Failure::Domain(
                DomainError::denied("editor cannot read orders (needs order:read)"),
            )),
            _ => Ok(self.answer(q)),
        }
    }

    /// A short id (last hex digits) among the fixture's ids, as the store resolves it.
    pub fn resolve(&self, kind: rustok_ui::IdKind, text: &str) -> Result<QueryResult, Failure> {
        let ids: Vec<Uuid> = match kind {
            rustok_ui::IdKind::Node => self.nodes.iter().map(|n| n.id.as_uuid()).collect(),
            rustok_ui::IdKind::Order => self.orders.iter().map(|o| o.id.as_uuid()).collect(),
            rustok_ui::IdKind::Product => {
                self.stock.iter().map(|r| r.product_id.as_uuid()).collect()
            }
        };
        let text = text.to_lowercase();
        let found: Vec<Uuid> = ids
            .into_iter()
            .filter(|u| u.simple().to_string().ends_with(&text))
            .collect();
        match found.as_slice() {
            [one] => Ok(QueryResult::Resolved(*one)),
            [] => Err(Failure::Other(
                format!("no {kind:?} ends with {text}").to_lowercase(),
            )),
            many => Err(Failure::Other(format!(
                "{text} is ambiguous: {}",
                many.iter()
                    .map(|u| u.simple().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// Answers queries at once (repeatedly, as answers cause new queries); keeps commands.
    pub fn run(&mut self, mut fx: Vec<Effect>) {
        // A console that asks again at every answer (a refused read retried at once) would
        // loop here forever: fail instead.
        let mut rounds = 0;
        while !fx.is_empty() {
            rounds += 1;
            assert!(
                rounds < 1_000,
                "the app keeps asking: {} effects after 1,000 rounds",
                fx.len()
            );
            let mut next = Vec::new();
            for e in fx {
                match e {
                    Effect::Load(id, q) => {
                        let r = self.answer_checked(&q);
                        next.extend(self.app.update(Msg::Loaded(id, r)));
                    }
                    Effect::RunAudit => {
                        self.audit_runs += 1;
                        let result = match &self.report {
                            Some(r) => Ok(Box::new(r.clone())),
                            None => Err(Failure::Domain(DomainError::denied(
                                "editor cannot run the security audit (needs audit:run)",
                            ))),
                        };
                        next.extend(self.app.update(Msg::Audit(AuditTrigger::Manual, result)));
                    }
                    Effect::CheckAudit => self.audit_checks += 1,
                    Effect::ExportAudit {
                        report,
                        format,
                        path,
                    } => {
                        self.exports.push((format, path.clone(), report.score));
                        next.extend(self.app.update(Msg::Exported(Ok(format!(
                            "wrote the {} audit report to {path}",
                            format.label()
                        )))));
                    }
                    Effect::Dispatch(id, c) => self.dispatched.push((id, c)),
                    Effect::SaveLayout(l) => self.layouts.push(l),
                    Effect::MarkMentionsRead(ids) => self.marked_read.extend(ids),
                    Effect::KickSession {
                        id,
                        server,
                        session,
                        since,
                        reason,
                    } => self.kicks.push((id, server, session, since, reason)),
                    Effect::SwitchTenant(_) | Effect::Quit => {}
                }
            }
            fx = next;
        }
    }

    pub fn send(&mut self, msg: Msg) {
        let fx = self.app.update(msg);
        self.run(fx);
    }

    pub fn key(&mut self, code: KeyCode) {
        self.send(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }

    pub fn ctrl(&mut self, c: char) {
        self.send(Msg::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::CONTROL,
        )));
    }

    pub fn chars(&mut self, s: &str) {
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
    pub fn reply(&mut self, result: Result<Applied, Failure>) {
        let (id, _) = self.dispatched.remove(0);
        self.send(Msg::Outcome(id, result));
    }

    /// A terminal of another size.
    pub fn resize(&mut self, w: u16, h: u16) {
        self.term = Terminal::new(TestBackend::new(w, h)).expect("terminal");
        self.send(Msg::Resize(w, h));
    }

    pub fn screen(&mut self) -> String {
        self.term.draw(|f| self.app.draw(f)).expect("draw");
        self.term.backend().to_string()
    }

    /// Text plus colours, for theme snapshots.
    pub fn styled_screen(&mut self) -> String {
        self.term.draw(|f| self.app.draw(f)).expect("draw");
        format!("{:?}", self.term.backend().buffer())
    }
}

pub fn applied(node: Node) -> Applied {
    Applied {
        command_id: CommandId::from_uuid(Uuid::from_u128(99)),
        outcome: Outcome::Node(node),
        events: vec![],
    }
}

pub fn usd(cents: i64) -> Money {
    Money::new(cents, Currency::USD)
}

pub fn order(i: u128, status: OrderStatus, cents: i64) -> Order {
    use OrderStatus::*;
    let t = at(10 + i as u32);
    let rank = |s: OrderStatus| {
        [Pending, Confirmed, Paid, Shipped, Delivered]
            .iter()
            .position(|x| *x == s)
    };
    let reached = |s: OrderStatus| match (rank(status), rank(s)) {
        (Some(a), Some(b)) if a >= b => Some(t),
        _ => None,
    };
    Order {
        id: OrderId::from_uuid(Uuid::from_u128(0x5000 + i)),
        tenant_id: tenant().id,
        customer: Some(format!("customer{i}@example.com")),
        items: vec![
            LineItem {
                sku: "MUG".into(),
                title: "Coffee mug".into(),
                unit_price: usd(1250),
                quantity: 2,
                returned: 0,
            },
            LineItem {
                sku: "BEANS-1KG".into(),
                title: "Beans 1 kg".into(),
                unit_price: usd(cents - 2500),
                quantity: 1,
                returned: 0,
            },
        ],
        total: usd(cents),
        status,
        version: 1 + rank(status).unwrap_or(1) as i64,
        placed_at: t,
        updated_at: t,
        confirmed_at: reached(Confirmed),
        paid_at: reached(Paid),
        shipped_at: reached(Shipped),
        delivered_at: reached(Delivered),
        cancelled_at: (status == Cancelled).then_some(t),
        carrier: reached(Shipped).map(|_| "DHL".into()),
        tracking_number: reached(Shipped).map(|_| "JD0146000".into()),
        cancel_reason: (status == Cancelled).then(|| "customer changed their mind".into()),
        payment_reference: reached(Paid).map(|_| format!("ch_sandbox_{i}")),
        refunded: usd(0),
    }
}

pub fn fixture_orders() -> Vec<Order> {
    use OrderStatus::*;
    vec![
        order(1, Pending, 4990),
        order(2, Pending, 3750),
        order(3, Confirmed, 6498),
        order(4, Paid, 2999),
        order(5, Shipped, 8800),
        order(6, Delivered, 4500),
        order(7, Cancelled, 3100),
        order(8, Confirmed, 2700),
    ]
}

pub fn stock_row(sku: &str, on_hand: i64, reserved: i64) -> StockRow {
    StockRow {
        product_id: ProductId::from_uuid(Uuid::from_u128(0x6000 + on_hand as u128)),
        variant_id: VariantId::from_uuid(Uuid::from_u128(0x7000 + on_hand as u128)),
        sku: sku.into(),
        title: format!("Product {sku}"),
        status: ProductStatus::Active,
        price: usd(1250),
        inventory_policy: InventoryPolicy::Deny,
        on_hand,
        reserved,
        available: on_hand - reserved,
        low_stock_threshold: 5,
        low: on_hand - reserved <= 5,
    }
}

pub fn fixture_stock() -> Vec<StockRow> {
    vec![
        stock_row("BEANS-1KG", 40, 3),
        stock_row("MUG", 7, 3),
        stock_row("TEE-M", 2, 0),
    ]
}

/// An `order.status_changed` event of an order, stored at a fixed time.
pub fn order_event(order: &Order, seq: i64, from: &str, to: &str) -> StoredEvent {
    let payload = serde_json::json!({ "from": from, "to": to, "version": seq });
    let event = DomainEvent::from_parts("order.status_changed", &payload).expect("valid payload");
    let envelope = EventEnvelope::new(
        &event,
        EnvelopeMeta {
            id: EventId::from_uuid(Uuid::from_u128(0x9000 + seq as u128)),
            tenant_id: tenant().id,
            aggregate_id: order.id.as_uuid(),
            actor: "clerk".into(),
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

/// A stored event as the bus delivers it.
pub fn arc(e: &StoredEvent) -> LiveEvent {
    e.live()
}

impl Harness {
    /// A harness with nodes, orders, stock and stored events (one of them a dead letter).
    pub fn shop() -> Harness {
        let mut h = Harness::new(fixture_nodes());
        h.orders = fixture_orders();
        h.stock = fixture_stock();
        let (o3, o4, o5) = (
            h.orders[2].clone(),
            h.orders[3].clone(),
            h.orders[4].clone(),
        );
        h.stored = vec![
            order_event(&o3, 1, "pending", "confirmed"),
            order_event(&o4, 2, "confirmed", "paid"),
        ];
        let mut dead = order_event(&o5, 3, "paid", "shipped");
        dead.status = "failed".into();
        dead.attempts = 5;
        dead.last_error = Some("search-index: connection refused".into());
        h.stored.push(dead);
        h
    }
}

pub const KEY_ALICE: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHgiZPlMpwusZJHGccg3sfLIXCj4Og2G8s7+LltunsoQ alice@laptop";
pub const KEY_BOB: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIf97d1YOEoHVhbsokfN0gA9+IbPDd9c8ORH3msVxMEF bob@desk";

pub fn staff_member(
    i: u128,
    handle: &str,
    name: &str,
    role: Role,
    mfa: bool,
    keys: &[&str],
) -> Staff {
    Staff {
        id: StaffId::from_uuid(Uuid::from_u128(0xa000 + i)),
        handle: handle.into(),
        display_name: name.into(),
        role,
        ssh_keys: keys
            .iter()
            .map(|k| SshKey::parse(k).expect("valid key"))
            .collect(),
        mfa_enabled: mfa,
        password_hash: None,
        has_password: i.is_multiple_of(2),
        active: i != 4,
        created_at: at(1),
        updated_at: at(2 + i as u32),
    }
}

pub fn fixture_staff() -> Vec<Staff> {
    vec![
        staff_member(1, "alice", "Alice Owner", Role::Owner, true, &[KEY_ALICE]),
        staff_member(2, "bob", "Bob Admin", Role::Admin, false, &[KEY_BOB]),
        staff_member(3, "carol", "Carol Manager", Role::Manager, true, &[]),
        staff_member(4, "dave", "Dave (left)", Role::Editor, false, &[KEY_ALICE]),
        staff_member(5, "erin", "Erin Support", Role::Support, true, &[]),
    ]
}

/// What the real checks read, for a deployment with a few problems.
pub fn audit_input(staff: Vec<Staff>) -> AuditInput {
    AuditInput {
        staff,
        tenants: vec![TenantFacts {
            slug: "acme".into(),
            name: "Acme Coffee".into(),
            is_active: true,
            active_staff: 2,
            cross_tenant_rows: 0,
            isolation_checked: true,
        }],
        database: DatabaseFacts {
            file_mode: Some(0o644),
            dir_mode: Some(0o755),
            ..DatabaseFacts::from_url("sqlite:///var/lib/rustok/rustok.db")
        },
        config: SecurityConfig {
            rate_limits_enabled: false,
            ..SecurityConfig::default()
        },
        outbox: OutboxFacts {
            pending: 2,
            failed: 1,
            stale_pending: 0,
        },
        events_total: 1_234,
        ..AuditInput::default()
    }
}

/// The report of [`audit_input`] for tenant acme, generated at 09:30.
pub fn fixture_report(staff: Vec<Staff>) -> AuditReport {
    AuditReport::run(&audit_input(staff), Some("acme"), at(30))
}

pub fn log_entry(seq: i64, actor: &str, command: &str, outcome: AuditOutcome) -> AuditLogEntry {
    AuditLogEntry {
        seq,
        at: at(0) + chrono::Duration::minutes(seq),
        actor: actor.into(),
        command: command.into(),
        command_id: CommandId::from_uuid(Uuid::from_u128(0xc000 + seq as u128)),
        tenant_id: tenant().id,
        session: (seq.rem_euclid(3) == 0).then(|| format!("ssh-{seq}")),
        outcome,
        reason: (outcome == AuditOutcome::Denied)
            .then(|| "editor cannot pay orders (needs order:pay)".into()),
    }
}

pub fn fixture_log(n: i64) -> Vec<AuditLogEntry> {
    (1..=n)
        .map(|i| {
            let (actor, cmd, outcome) = match i % 5 {
                0 => ("dave", "pay_order", AuditOutcome::Denied),
                1 => ("alice", "set_staff_mfa", AuditOutcome::Ok),
                2 => ("carol", "confirm_order", AuditOutcome::Ok),
                3 => ("bob", "publish_node", AuditOutcome::Refused),
                _ => ("alice", "create_order", AuditOutcome::Ok),
            };
            log_entry(i, actor, cmd, outcome)
        })
        .collect()
}

impl Harness {
    /// The shop with staff, an audit log and a report, on the Audit tab.
    pub fn audited() -> Harness {
        let mut h = Harness::shop();
        h.staff = fixture_staff();
        h.audit_log = fixture_log(60);
        h.report = Some(fixture_report(h.staff.clone()));
        h.send(Msg::Clock(at(33)));
        h.key(KeyCode::Char('6'));
        h
    }
}
