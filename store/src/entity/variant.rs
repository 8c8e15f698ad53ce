use sea_orm::entity::prelude::*;

/// A sellable variant: SKU (unique per tenant), price in integer minor units, and stock.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "variants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub product_id: Uuid,
    /// Order of the variant within its product.
    pub position: i32,
    pub sku: String,
    pub title: String,
    pub price_amount: i64,
    pub currency: String,
    /// deny | continue
    pub inventory_policy: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub low_stock_threshold: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
