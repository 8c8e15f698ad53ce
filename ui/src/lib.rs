//! The RusToK console: pure state and rendering. `App::update(Msg) -> Vec<Effect>` changes
//! state and asks for work; `App::draw` renders the state. No I/O, no database, no awaiting —
//! the same `App` runs in a local terminal, over SSH, and in snapshot tests.

pub mod action;
pub mod app;
pub mod config;
pub mod fuzzy;
pub mod keymap;
pub mod msg;
mod panes;
pub mod theme;
mod widgets;

pub use action::Action;
pub use app::{App, Session, Tab};
pub use config::Config;
pub use keymap::Keymap;
pub use msg::{
    AuditTrigger, Coverage, Effect, Failure, IdKind, Msg, Query, QueryResult, ReportFormat,
    RequestId,
};
pub use theme::Theme;
