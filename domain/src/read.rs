//! Read models: pure data that queries return and command outcomes carry. They live here so
//! the console (`ui`) can show them without knowing the store.

use crate::content::{Node, NodeKind, NodeStatus};
use crate::event::EventEnvelope;
use crate::{CommandId, Locale, NodeId, Tenant};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A window of a larger list: the rows and how many there are in all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub total: u64,
    pub offset: u64,
    pub rows: Vec<T>,
}

impl<T> Page<T> {
    pub fn empty() -> Self {
        Self {
            total: 0,
            offset: 0,
            rows: Vec::new(),
        }
    }
}

/// One row of a node list: what a list shows, no bodies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeSummary {
    pub id: NodeId,
    pub kind: NodeKind,
    pub status: NodeStatus,
    pub version: i64,
    pub title: String,
    pub source_locale: Locale,
    pub locales: Vec<Locale>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

/// One search result: a node's translation that matched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    pub node_id: NodeId,
    pub locale: Locale,
    pub title: String,
    pub slug: String,
    pub kind: NodeKind,
    pub status: NodeStatus,
    /// A short excerpt around the match, where the backend provides one.
    pub snippet: Option<String>,
}

/// An event as stored, with its delivery state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub seq: i64,
    #[serde(flatten)]
    pub envelope: EventEnvelope,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub dispatched_at: Option<DateTime<Utc>>,
}

/// Delivery counts across the outbox.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxCounts {
    pub pending: u64,
    pub dispatched: u64,
    pub failed: u64,
}

/// What a command changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Outcome {
    Tenant(Tenant),
    Node(Node),
}

/// A committed command: its outcome and the events written with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Applied {
    pub command_id: CommandId,
    pub outcome: Outcome,
    pub events: Vec<EventEnvelope>,
}
