use super::string_enum;
use crate::DomainError;

string_enum!(
    /// The publication status of a node.
    NodeStatus, "status", { Draft => "draft", Published => "published", Archived => "archived" }
);

string_enum!(
    /// A status change a user can ask for.
    NodeAction, "action", {
        Publish => "publish", Unpublish => "unpublish", Archive => "archive", Restore => "restore",
    }
);

impl NodeStatus {
    /// The node state machine: draft→published (publish), published→draft (unpublish),
    /// published→archived (archive), archived→draft (restore). Everything else is refused.
    pub fn apply(self, action: NodeAction) -> Result<NodeStatus, DomainError> {
        use NodeAction::*;
        use NodeStatus::*;
        match (self, action) {
            (Draft, Publish) => Ok(Published),
            (Published, Unpublish) => Ok(Draft),
            (Published, Archive) => Ok(Archived),
            (Archived, Restore) => Ok(Draft),
            (from, action) => Err(DomainError::InvalidTransition {
                entity: "node",
                from: from.to_string(),
                action: action.to_string(),
            }),
        }
    }

    /// The actions this status accepts (for menus and help).
    pub fn allowed_actions(self) -> &'static [NodeAction] {
        match self {
            NodeStatus::Draft => &[NodeAction::Publish],
            NodeStatus::Published => &[NodeAction::Unpublish, NodeAction::Archive],
            NodeStatus::Archived => &[NodeAction::Restore],
        }
    }
}

impl NodeAction {
    /// The command's name (its serde tag, its name in the audit log).
    pub fn command_name(self) -> &'static str {
        match self {
            NodeAction::Publish => "publish_node",
            NodeAction::Unpublish => "unpublish_node",
            NodeAction::Archive => "archive_node",
            NodeAction::Restore => "restore_node",
        }
    }

    /// One line: what it does (the palette, help, the CLI).
    pub fn doc(self) -> &'static str {
        match self {
            NodeAction::Publish => "publish the node (draft → published)",
            NodeAction::Unpublish => "take the node back to draft (published → draft)",
            NodeAction::Archive => "archive the node (published → archived)",
            NodeAction::Restore => "restore the node to draft (archived → draft)",
        }
    }

    /// The console's status line after it.
    pub fn past(self) -> &'static str {
        match self {
            NodeAction::Publish => "published",
            NodeAction::Unpublish => "unpublished",
            NodeAction::Archive => "archived",
            NodeAction::Restore => "restored",
        }
    }

    /// Actions that take content away from readers ask for confirmation in the console.
    pub fn is_destructive(self) -> bool {
        matches!(self, NodeAction::Unpublish | NodeAction::Archive)
    }
}
