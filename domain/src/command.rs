//! Commands: every mutation, as data, carried in an envelope with the tenant, the actor and
//! a correlation id; and the pure decision that turns a command plus the current aggregate
//! into the next aggregate and its events.

use crate::content::{Node, NodeAction, NodeDraft, NodePatch, TranslationInput};
use crate::event::DomainEvent;
use crate::{CommandId, DomainError, Locale, NodeId, TenantId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Who is acting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub handle: String,
}

impl Actor {
    pub fn new(handle: impl Into<String>) -> Self {
        Self { handle: handle.into() }
    }
}

/// Every domain mutation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    CreateTenant {
        id: TenantId,
        slug: String,
        name: String,
        default_locale: Locale,
    },
    CreateNode(NodeDraft),
    UpdateNode {
        id: NodeId,
        patch: NodePatch,
        expected_version: Option<i64>,
    },
    TranslateNode {
        id: NodeId,
        input: TranslationInput,
        expected_version: Option<i64>,
    },
    ChangeNodeStatus {
        id: NodeId,
        action: NodeAction,
        expected_version: Option<i64>,
    },
}

impl Command {
    /// A short name for logs, the audit log and the status bar.
    pub fn name(&self) -> &'static str {
        match self {
            Command::CreateTenant { .. } => "create_tenant",
            Command::CreateNode(_) => "create_node",
            Command::UpdateNode { .. } => "update_node",
            Command::TranslateNode { .. } => "translate_node",
            Command::ChangeNodeStatus { action, .. } => match action {
                NodeAction::Publish => "publish_node",
                NodeAction::Unpublish => "unpublish_node",
                NodeAction::Archive => "archive_node",
                NodeAction::Restore => "restore_node",
            },
        }
    }

    /// The node an existing-node command targets.
    pub fn node_id(&self) -> Option<NodeId> {
        match self {
            Command::CreateNode(d) => Some(d.id),
            Command::UpdateNode { id, .. }
            | Command::TranslateNode { id, .. }
            | Command::ChangeNodeStatus { id, .. } => Some(*id),
            Command::CreateTenant { .. } => None,
        }
    }
}

/// A command with its context, as it travels through the action queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandEnvelope {
    pub id: CommandId,
    pub tenant_id: TenantId,
    pub actor: Actor,
    /// Ties the events of one user intent together; defaults to the first event's id.
    pub correlation_id: Option<Uuid>,
    pub command: Command,
}

impl CommandEnvelope {
    pub fn new(tenant_id: TenantId, actor: Actor, command: Command) -> Self {
        Self {
            id: CommandId::new_v7(),
            tenant_id,
            actor,
            correlation_id: None,
            command,
        }
    }
}

/// Decides a node command against the current node (None when it does not exist yet).
pub fn decide_node(
    tenant_id: TenantId,
    current: Option<&Node>,
    command: &Command,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(Node, Vec<DomainEvent>), DomainError> {
    let existing = |id: NodeId| current.ok_or_else(|| DomainError::not_found("node", id));
    match command {
        Command::CreateNode(draft) => {
            if current.is_some() {
                return Err(DomainError::Duplicate {
                    what: format!("node {}", draft.id),
                });
            }
            Node::create(tenant_id, draft.clone(), &actor.handle, now)
        }
        Command::UpdateNode {
            id,
            patch,
            expected_version,
        } => {
            let node = existing(*id)?;
            node.check_version(*expected_version)?;
            node.update(patch.clone(), now)
        }
        Command::TranslateNode {
            id,
            input,
            expected_version,
        } => {
            let node = existing(*id)?;
            node.check_version(*expected_version)?;
            node.translate(input.clone(), now)
        }
        Command::ChangeNodeStatus {
            id,
            action,
            expected_version,
        } => {
            let node = existing(*id)?;
            node.check_version(*expected_version)?;
            node.transition(*action, now)
        }
        Command::CreateTenant { .. } => Err(DomainError::validation(
            "command",
            "create_tenant is not a node command",
        )),
    }
}
