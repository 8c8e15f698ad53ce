//! Everything a key can do. Keymaps (TOML) bind keys to these by their snake_case names.

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
    Publish,
    Unpublish,
    Archive,
    Restore,
    Refresh,
    Translate,
    NextLocale,
    Confirm,
    Cancel,
    Left,
    Right,
    OrderConfirm,
    OrderPay,
    OrderShip,
    OrderDeliver,
    OrderCancel,
    NewOrder,
    Products,
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
}

impl Action {
    /// Actions that change data; a read-only session refuses them.
    pub fn is_mutation(self) -> bool {
        matches!(
            self,
            Action::New
                | Action::Save
                | Action::Publish
                | Action::Unpublish
                | Action::Archive
                | Action::Restore
                | Action::Translate
                | Action::OrderConfirm
                | Action::OrderPay
                | Action::OrderShip
                | Action::OrderDeliver
                | Action::OrderCancel
                | Action::NewOrder
                | Action::AdjustStock
                | Action::Retry
                | Action::ToggleMfa
                | Action::ToggleActive
                | Action::KickSession
        )
    }
}
