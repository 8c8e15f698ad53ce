use sea_orm::entity::prelude::*;

/// One SSH public key of a staff member, with its SHA256 fingerprint (indexed for lookups).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "staff_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub staff_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub fingerprint: String,
    pub algorithm: String,
    #[sea_orm(column_type = "Text")]
    pub key: String,
    pub comment: Option<String>,
    pub bits: Option<i32>,
    pub position: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
