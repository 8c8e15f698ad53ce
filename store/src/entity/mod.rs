//! sea-orm entities, one per table. Rows are converted to domain types in `repo`.

pub mod node;
pub mod node_translation;
pub mod order;
pub mod order_item;
pub mod outbox;
pub mod product;
pub mod product_translation;
pub mod tenant;
pub mod variant;
