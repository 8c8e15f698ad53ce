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
    /// Actions that take content away from readers ask for confirmation in the console.
    pub fn is_destructive(self) -> bool {
        matches!(self, NodeAction::Unpublish | NodeAction::Archive)
    }
}
