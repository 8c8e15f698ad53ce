//! sea-orm entities, one per table. Rows are converted to domain types in `repo`.

pub mod node;
pub mod node_translation;
pub mod outbox;
pub mod tenant;
