//! The panes: each holds its state, turns keys into changes, and draws itself.

pub mod audit;
pub mod dashboard;
pub mod editor;
pub mod events;
pub mod orders;
pub mod translate;
