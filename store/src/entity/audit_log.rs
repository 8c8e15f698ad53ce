use sea_orm::entity::prelude::*;

/// The append-only audit log of staff actions (triggers refuse UPDATE and DELETE).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    pub at: DateTimeUtc,
    pub actor: String,
    pub command: String,
    pub command_id: Uuid,
    pub tenant_id: Uuid,
    pub session: Option<String>,
    /// ok | denied | refused | error
    pub outcome: String,
    pub reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
