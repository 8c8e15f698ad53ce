//! Reusable pieces of the screen.

pub mod bars;
pub mod dialog;
pub mod field;
pub mod help;
pub mod node_list;
pub mod palette;
pub mod window;
