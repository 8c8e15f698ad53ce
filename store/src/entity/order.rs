use sea_orm::entity::prelude::*;

/// An order; its lines live in `order_items`. Money is integer minor units + currency.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub customer: Option<String>,
    /// pending | confirmed | paid | shipped | delivered | cancelled
    pub status: String,
    pub total_amount: i64,
    pub currency: String,
    pub version: i64,
    pub placed_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub confirmed_at: Option<DateTimeUtc>,
    pub paid_at: Option<DateTimeUtc>,
    pub shipped_at: Option<DateTimeUtc>,
    pub delivered_at: Option<DateTimeUtc>,
    pub cancelled_at: Option<DateTimeUtc>,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub cancel_reason: Option<String>,
    pub payment_reference: Option<String>,
    /// Given back so far, minor units of `currency` (migration 000006).
    pub refunded_amount: i64,
}

/// No relation declared here: the lines name their order (`order_item.rs`), which also
/// declares how an order reaches its lines (`find_with_related(order_item::Entity)`).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
