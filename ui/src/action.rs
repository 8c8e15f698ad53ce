//! Everything a key can do. Keymaps (TOML) bind keys to these by their snake_case names:
//! a node's status change by its action (`publish`), an order step as `order_<step>`
//! (`order_hold`) — both come from the domain's declarations, so a new order step needs no
//! new action here.

use rustok_domain::commerce::OrderAction;
use rustok_domain::content::NodeAction;
use rustok_domain::rbac;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Quit,
    Help,
    /// The message log overlay.
    Messages,
    /// Split the screen (side by side, stacked, off).
    Split,
    /// Move the keys to the other half of a split screen.
    FocusOther,
    Palette,
    Filter,
    NextTab,
    PrevTab,
    TabDashboard,
    TabContent,
    TabTranslations,
    TabOrders,
    TabEvents,
    TabAudit,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    Back,
    New,
    Save,
    NextField,
    PrevField,
    CycleFormat,
    CycleKind,
    /// A node's status change (`publish`, `unpublish`, `archive`, `restore`).
    #[serde(skip)]
    Node(NodeAction),
    Refresh,
    Translate,
    NextLocale,
    Confirm,
    Cancel,
    Left,
    Right,
    /// A step of the selected order (`order_confirm`, `order_hold`, …).
    #[serde(skip)]
    Order(OrderAction),
    NewOrder,
    Products,
    /// The customer of the highlighted order (their orders); from there, every customer.
    Customers,
    AdjustStock,
    Follow,
    Inspect,
    DeadLetters,
    Retry,
    History,
    AuditFindings,
    AuditLog,
    AuditStaff,
    RerunAudit,
    ExportAudit,
    CycleSeverity,
    ToggleMfa,
    ToggleActive,
    /// The live SSH sessions view.
    Sessions,
    /// End the selected SSH session (asks a reason, then confirms).
    KickSession,
    /// Write a note on the selected order (`@handle` mentions a colleague).
    AddNote,
    /// Open the order of the newest unread mention of you (and mark it read).
    OpenMention,
    /// Pick the highlighted revision as one side of a diff (issue 20).
    Mark,
    /// Make the highlighted revision's content the current content (asks first).
    Revert,
    /// Version conflict: take theirs (drop mine).
    TakeTheirs,
    /// Version conflict: save mine over theirs.
    KeepMine,
    /// Version conflict: merge theirs into mine (overlaps marked).
    Merge,
    /// Version conflict: save mine as a new draft with every translation.
    SaveCopy,
    /// Schedule the selected node's publication / unpublication (a form with the times).
    Schedule,
    /// The agenda: what goes live or comes down when.
    Agenda,
    /// Full-text search across every node and locale.
    Search,
    /// Add a locale to the node in the translation editor (a prompt for its code).
    AddLocale,
}

impl Action {
    /// Actions that change data; a read-only session refuses them.
    pub fn is_mutation(self) -> bool {
        matches!(
            self,
            Action::New
                | Action::Save
                | Action::Node(_)
                | Action::Translate
                | Action::Order(_)
                | Action::NewOrder
                | Action::AdjustStock
                | Action::Retry
                | Action::ToggleMfa
                | Action::ToggleActive
                | Action::KickSession
                | Action::AddNote
                | Action::Revert
                | Action::KeepMine
                | Action::SaveCopy
                | Action::Schedule
                | Action::AddLocale
        )
    }
}

impl Action {
    /// What the command behind a content action needs — the domain's own rule
    /// (`rbac::requirement` maps the command to the same one). The console checks it when the
    /// key is pressed, before any form or confirmation opens, and leaves the action out of
    /// the command bar and the help for a role without it. `None`: no command, or one whose
    /// permission depends on more than the key (saving in an editor); the store checks those
    /// when they arrive, as it checks everything.
    pub fn requirement(self) -> Option<rbac::Requirement> {
        Some(match self {
            Action::New => rbac::CREATE_CONTENT,
            Action::Node(a) => rbac::node_action_requirement(a),
            Action::Translate | Action::AddLocale => rbac::TRANSLATE_CONTENT,
            Action::Revert => rbac::REVERT_CONTENT,
            Action::KeepMine => rbac::EDIT_CONTENT,
            Action::SaveCopy => rbac::COPY_CONTENT,
            Action::Schedule => rbac::SCHEDULE_CONTENT,
            _ => return None,
        })
    }
}

/// The prefix of an order step's action name.
const ORDER_PREFIX: &str = "order_";

impl Action {
    /// The action a keymap names: `publish`, `order_hold`, `quit`, …
    pub fn from_name(name: &str) -> Result<Action, String> {
        if let Some(a) = NodeAction::ALL.iter().find(|a| a.as_str() == name) {
            return Ok(Action::Node(*a));
        }
        if let Some(step) = name.strip_prefix(ORDER_PREFIX)
            && let Some(a) = OrderAction::ALL.iter().find(|a| a.as_str() == step)
        {
            return Ok(Action::Order(*a));
        }
        let plain = |name: &str| {
            Action::deserialize(
                serde::de::value::StrDeserializer::<serde::de::value::Error>::new(name),
            )
        };
        plain(name).map_err(|_| {
            // serde's message names the value raw: name it escaped and shortened instead.
            let shown = rustok_domain::text::excerpt(name, rustok_domain::text::EXCERPT_CHARS);
            let listed = plain(&shown)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            let steps: Vec<String> = NodeAction::ALL
                .iter()
                .map(|a| a.as_str().to_string())
                .chain(
                    OrderAction::ALL
                        .iter()
                        .map(|a| format!("{ORDER_PREFIX}{a}")),
                )
                .collect();
            format!("{listed}; or a step: {}", steps.join(", "))
        })
    }

    /// The name a keymap uses for this action (the inverse of [`Action::from_name`]).
    pub fn name(self) -> String {
        match self {
            Action::Node(a) => a.as_str().to_string(),
            Action::Order(a) => format!("{ORDER_PREFIX}{a}"),
            other => serde_json::to_value(other)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
        }
    }
}

impl<'de> Deserialize<'de> for ActionName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Action::from_name(&s)
            .map(ActionName)
            .map_err(serde::de::Error::custom)
    }
}

/// An action as a keymap file spells it (see [`Action::from_name`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionName(pub Action);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_for_steps_and_plain_actions() {
        for a in [
            Action::Quit,
            Action::KickSession,
            Action::AddNote,
            Action::OpenMention,
            Action::Node(NodeAction::Archive),
            Action::Order(OrderAction::Ship),
            Action::Order(OrderAction::Cancel),
        ] {
            assert_eq!(Action::from_name(&a.name()), Ok(a), "{}", a.name());
        }
        assert_eq!(
            Action::from_name("order_confirm"),
            Ok(Action::Order(OrderAction::Confirm))
        );
        assert_eq!(
            Action::from_name("publish"),
            Ok(Action::Node(NodeAction::Publish))
        );
        assert!(Action::from_name("order_teleport").is_err());
        assert!(Action::from_name("node").is_err());
        assert!(Action::from_name("order").is_err());
    }
}
