use sea_orm::entity::prelude::*;

/// One order line: a snapshot of the variant (sku, title, unit price) and the quantity.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "order_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub order_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub position: i32,
    pub tenant_id: Uuid,
    pub sku: String,
    pub title: String,
    pub unit_amount: i64,
    pub currency: String,
    pub quantity: i64,
    /// Units sent back (returns, refunds that restocked); migration 000006.
    pub returned_quantity: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::order::Entity",
        from = "Column::OrderId",
        to = "super::order::Column::Id"
    )]
    Order,
}

/// An order's lines, as `order::Entity::find_with_related(order_item::Entity)` reads them: the
/// order's side of [`Relation::Order`] (what a `has_many` on the order would declare), kept
/// here so that the order's entity does not name its lines back.
impl Related<Entity> for super::order::Entity {
    fn to() -> RelationDef {
        super::order::Entity::has_many_via(Entity, Relation::Order).into()
    }
}

impl ActiveModelBehavior for ActiveModel {}
