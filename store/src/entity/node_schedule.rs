use sea_orm::entity::prelude::*;

/// A pending scheduled status change of a node (`m20261207_000009_node_schedules`).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "node_schedules")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub node_id: Uuid,
    pub action: String,
    pub due_at: DateTimeUtc,
    pub scheduled_by: String,
    pub scheduled_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
