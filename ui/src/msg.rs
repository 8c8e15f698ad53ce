//! What flows into the app (`Msg`) and out of it (`Effect`). Both are plain data: the same
//! `App` runs in a local terminal, in an SSH session and in snapshot tests.

use ratatui::crossterm::event::KeyEvent;
use rustok_domain::content::{Node, NodeKind, NodeStatus};
use rustok_domain::read::{Applied, NodeSummary, OutboxCounts, Page, SearchHit};
use rustok_domain::{Command, DomainError, Locale, NodeId, Tenant};

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
    OutboxCounts,
}

/// The answer to a [`Query`].
#[derive(Debug, Clone, PartialEq)]
pub enum QueryResult {
    Nodes(Page<NodeSummary>),
    Node(Option<Node>),
    Search(Vec<SearchHit>),
    Tenants(Vec<Tenant>),
    LocaleCoverage(Coverage),
    OutboxCounts(OutboxCounts),
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

/// A summary of a bus event, enough for lists and the status bar.
#[derive(Debug, Clone, PartialEq)]
pub struct EventSummary {
    pub event_type: String,
    pub aggregate_id: uuid::Uuid,
    pub tenant_id: rustok_domain::TenantId,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
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
    Event(EventSummary),
    BusLagged(u64),
    /// The action queue's depth changed.
    QueueDepth(usize),
    /// The answer to `Effect::SwitchTenant`.
    TenantSwitched(Result<Tenant, Failure>),
    /// The database became unreachable (`Some(reason)`) or reachable again (`None`).
    DatabaseStatus(Option<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Execute a command through the action queue (in the session's tenant, as its actor).
    Dispatch(RequestId, Command),
    Load(RequestId, Query),
    /// Switch the session to another tenant (the runtime resolves and confirms it).
    SwitchTenant(String),
    Quit,
}
