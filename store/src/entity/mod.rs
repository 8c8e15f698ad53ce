//! sea-orm entities, one per table. Rows are converted to domain types in `repo`.

pub mod audit_log;
pub mod node;
pub mod node_schedule;
pub mod node_translation;
pub mod order;
pub mod order_item;
pub mod order_mention;
pub mod order_note;
pub mod outbox;
pub mod product;
pub mod product_translation;
pub mod staff;
pub mod staff_key;
pub mod tenant;
pub mod variant;
