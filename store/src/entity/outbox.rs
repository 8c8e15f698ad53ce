use sea_orm::entity::prelude::*;

/// The transactional outbox, which is also the event store: rows are written in the same
/// transaction as the state change and kept after delivery (status `dispatched`).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    /// Insertion order; the relay delivers oldest first by this.
    #[sea_orm(primary_key)]
    pub seq: i64,
    #[sea_orm(unique)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub event_type: String,
    pub schema_version: i32,
    pub aggregate_type: String,
    pub aggregate_id: Uuid,
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
    pub actor: String,
    pub occurred_at: DateTimeUtc,
    #[sea_orm(column_type = "Text")]
    pub payload: String,
    /// pending | dispatched | failed
    pub status: String,
    pub attempts: i32,
    /// Unix milliseconds before which the relay does not try again (backoff).
    pub next_attempt_ms: i64,
    pub last_error: Option<String>,
    /// The claim of the relay batch currently delivering this row, and when it expires.
    pub claim_token: Option<Uuid>,
    pub claimed_until_ms: Option<i64>,
    pub dispatched_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
