//! What flows into the app (`Msg`) and out of it (`Effect`). Both are plain data: the same
//! `App` runs in a local terminal, in an SSH session and in snapshot tests.

use ratatui::crossterm::event::KeyEvent;
use rustok_domain::audit::{AuditLogEntry, AuditReport};
use rustok_domain::commerce::{Order, OrderStatus};
use rustok_domain::content::{Node, NodeKind, NodeStatus};
use rustok_domain::event::LiveEvent;
use rustok_domain::read::{
    Applied, NodeSummary, OrderStats, OrderSummary, OutboxCounts, Page, SearchHit, SshSession,
    SshSessions, StockRow, StoredEvent,
};
use rustok_domain::{Command, DomainError, Locale, NodeId, OrderId, Staff, Tenant, TenantId};

/// Identifies one request so its reply finds the place that asked.
pub type RequestId = u64;

/// A query the runtime answers from the store.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// One window of a tenant's nodes.
    Nodes {
        status: Option<NodeStatus>,
        kind: Option<NodeKind>,
        offset: u64,
        limit: u64,
    },
    Node(NodeId),
    Search {
        text: String,
        limit: u64,
    },
    Tenants,
    /// How many nodes lack each locale the tenant uses.
    LocaleCoverage,
    /// Outbox counts and when the oldest pending event happened (relay lag).
    OutboxCounts,
    /// The independent consumers of the outbox (streams) with their lag.
    Consumers,
    /// One window of the orders in one status, newest first; with a filter, only those whose
    /// customer, a line's SKU or id contains it (case-insensitive).
    Orders {
        status: OrderStatus,
        filter: Option<String>,
        offset: u64,
        limit: u64,
    },
    /// An order with its event history.
    Order(OrderId),
    /// The tenant's customers (as their orders tell), who ordered last first. Needs
    /// `order:read`.
    Customers {
        offset: u64,
        limit: u64,
    },
    /// One customer (an email, case ignored) with their newest orders. Needs `order:read`.
    Customer {
        email: String,
        limit: u64,
    },
    /// One window of the stock list (by SKU), optionally only what is low.
    Products {
        low_only: bool,
        offset: u64,
        limit: u64,
    },
    /// Stored events of the tenant, newest first, before a sequence number.
    EventHistory {
        before_seq: Option<i64>,
        limit: u64,
    },
    /// The tenant's first stored event (that the reader may read) at or after a time, as
    /// `Events` of at most one (the Events pane's `:seek WHEN` past the live list).
    FirstEventSince(chrono::DateTime<chrono::Utc>),
    /// The tenant's dead letters.
    DeadLetters,
    OrderStats,
    /// One page of the audit log of staff actions (all tenants), newest first. Needs
    /// `audit:read`; the store refuses otherwise.
    AuditLog {
        offset: u64,
        limit: u64,
        /// Only entries whose actor, command, outcome, reason or session contains this text
        /// (ASCII case ignored); all when empty.
        filter: String,
    },
    /// Every staff member. Needs `staff:read`.
    Staff,
    /// The live SSH console sessions (of this session's server over SSH; of the servers
    /// running from the data directory in a local console). Needs `staff:read`.
    SshSessions,
    /// The whole id a short id (the last hex digits screens show) or a whole id names in
    /// the tenant; unknown or ambiguous is a failure whose text lists the candidates.
    ResolveId {
        kind: IdKind,
        text: String,
    },
    /// The session's staff member's unread mentions in the tenant (at start, and after a
    /// tenant switch), oldest first. Needs `order:read`.
    Mentions,
    /// A node's kept revisions, newest first (issue 20).
    NodeHistory(NodeId),
    /// What changed in a node between two revisions (all locales).
    NodeDiff {
        id: NodeId,
        from: i64,
        to: i64,
    },
    /// The tenant's pending scheduled publications and unpublications, soonest first.
    Agenda {
        limit: u64,
    },
}

/// What a short id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Node,
    Order,
    Product,
}

/// The answer to a [`Query`].
#[derive(Debug, Clone, PartialEq)]
pub enum QueryResult {
    Nodes(Page<NodeSummary>),
    Node(Option<Node>),
    Search(Vec<SearchHit>),
    Tenants(Vec<Tenant>),
    LocaleCoverage(Coverage),
    OutboxCounts(OutboxCounts, Option<chrono::DateTime<chrono::Utc>>),
    Consumers(Vec<rustok_domain::read::ConsumerStats>),
    Orders(Page<OrderSummary>),
    Order(Option<Order>, Vec<StoredEvent>),
    Customers(Page<rustok_domain::read::Customer>),
    Customer(Option<rustok_domain::read::CustomerDetail>),
    Products(Page<StockRow>),
    Events(Vec<StoredEvent>),
    OrderStats(OrderStats),
    /// A page of the audit log with the slugs of the tenants it mentions.
    AuditLog(Page<AuditLogEntry>, Vec<(TenantId, String)>),
    Staff(Vec<Staff>),
    Resolved(uuid::Uuid),
    SshSessions(SshSessions),
    Mentions(Vec<rustok_domain::commerce::Mention>),
    NodeHistory(Vec<rustok_domain::content::Revision>),
    NodeDiff(Box<rustok_domain::content::diff::NodeDiff>),
    Agenda(Vec<rustok_domain::content::AgendaEntry>),
}

/// Who started an audit run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditTrigger {
    /// The staff member asked (opening the pane, the re-run key).
    Manual,
    /// Continuous monitoring: what the audit reads changed since the last run.
    Automatic,
}

/// The formats a report can be exported in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Json,
    Markdown,
    Html,
}

impl ReportFormat {
    pub const ALL: [ReportFormat; 3] = [
        ReportFormat::Html,
        ReportFormat::Markdown,
        ReportFormat::Json,
    ];

    pub fn extension(self) -> &'static str {
        match self {
            ReportFormat::Json => "json",
            ReportFormat::Markdown => "md",
            ReportFormat::Html => "html",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ReportFormat::Json => "JSON",
            ReportFormat::Markdown => "Markdown",
            ReportFormat::Html => "HTML",
        }
    }

    /// The report as text in this format.
    pub fn render(self, report: &AuditReport) -> String {
        match self {
            ReportFormat::Json => report.to_json(),
            ReportFormat::Markdown => report.to_markdown(),
            ReportFormat::Html => report.to_html(),
        }
    }
}

/// Translation completeness of a tenant.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Coverage {
    pub total_nodes: u64,
    /// Each locale in use (the tenant's default first) with how many nodes have it.
    pub locales: Vec<(Locale, u64)>,
}

/// Why a command or query failed.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// The domain refused it; nothing changed.
    Domain(DomainError),
    /// Something else went wrong (database unreachable, queue stopped, ...).
    Other(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Domain(d) => write!(f, "{d}"),
            Failure::Other(s) => f.write_str(s),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    Key(KeyEvent),
    Paste(String),
    Resize(u16, u16),
    /// Animation tick (spinner); the runtime sends it only while something is pending.
    Tick,
    Outcome(RequestId, Result<Applied, Failure>),
    Loaded(RequestId, Result<QueryResult, Failure>),
    /// An event delivered on the bus (any tenant's; the app filters).
    Event(LiveEvent),
    /// Wall-clock time, once a second (for rates and "how long ago").
    Clock(chrono::DateTime<chrono::Utc>),
    BusLagged(u64),
    /// The action queue's depth changed.
    QueueDepth(usize),
    /// The answer to `Effect::SwitchTenant`.
    TenantSwitched(Result<Tenant, Failure>),
    /// The database became unreachable (`Some(reason)`) or reachable again (`None`).
    DatabaseStatus(Option<String>),
    /// A security audit report of the session's tenant (the answer to `Effect::RunAudit`,
    /// or continuous monitoring re-running it after a change), or why it could not run.
    Audit(AuditTrigger, Result<Box<AuditReport>, Failure>),
    /// The answer to `Effect::ExportAudit`: the line for the status bar.
    Exported(Result<String, Failure>),
    /// The answer to `Effect::KickSession`: the sessions ended (none: it had ended already).
    Kicked(RequestId, Result<Vec<SshSession>, Failure>),
    /// The session's staff member has this role now (`None`: deactivated or removed). What it
    /// may no longer read is dropped from the screen; new events are gated by the runtime.
    Role(Option<rustok_domain::rbac::Role>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Execute a command through the action queue (in the session's tenant, as its actor).
    Dispatch(RequestId, Command),
    Load(RequestId, Query),
    /// Switch the session to another tenant (the runtime resolves and confirms it).
    SwitchTenant(String),
    /// Run the security audit of the session's tenant now (answered with `Msg::Audit`);
    /// from then on the runtime keeps watching for changes and re-runs it on its own.
    RunAudit,
    /// Something the audit reads may have changed (a staff or tenant event): re-collect the
    /// audit input now, and re-run the audit if its fingerprint changed.
    CheckAudit,
    /// Write the report to `path` in `format` (answered with `Msg::Exported`).
    ExportAudit {
        report: Box<AuditReport>,
        format: ReportFormat,
        path: String,
    },
    /// End one SSH console session (`staff:update`, refused read-only; answered with
    /// `Msg::Kicked`): its client is told `reason` and gets its terminal back. The session is
    /// named by its server, id and start, so a row shown a moment ago never ends a newer
    /// session that got the same id.
    KickSession {
        id: RequestId,
        server: String,
        session: u64,
        since: chrono::DateTime<chrono::Utc>,
        reason: String,
    },
    /// Keep this screen layout for the staff member (see `App::restore_layout`).
    SaveLayout(String),
    /// The staff member has seen their mentions in these notes (opened, or dismissed): mark
    /// them read in the store, so the next start does not show them again. Not a command
    /// (a personal mark, allowed read-only); nothing is answered.
    MarkMentionsRead(Vec<rustok_domain::NoteId>),
    Quit,
}
