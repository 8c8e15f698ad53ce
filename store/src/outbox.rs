//! The transactional outbox: events are appended in the command's transaction, then claimed
//! by relays in batches (oldest first, with an expiring lease so a crashed relay's rows are
//! picked up again), marked dispatched, or rescheduled with backoff and finally dead-lettered.

use crate::entity::outbox;
use crate::rows::stored_event_from_row;
use crate::writes::{Tx, Writes, build};
use crate::{Backend, Store, StoreError, backend_of, stmt};
use chrono::{DateTime, Utc};
use rustok_domain::event::{DomainEvent, EnvelopeMeta, EventEnvelope};
use rustok_domain::read::{Applied, OutboxCounts, Outcome, StoredEvent};
use rustok_domain::{CommandEnvelope, EventId, TenantId};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Value,
};
use std::collections::HashSet;
use uuid::Uuid;

/// The PostgreSQL channel every outbox append notifies (delivered when the command commits).
pub const CHANNEL: &str = "rustok_outbox";

/// The receipt name of the relay's own hand-over of an event to its bus.
pub const BUS_CONSUMER: &str = rustok_domain::read::BUS_CONSUMER_NAME;

pub const PENDING: &str = "pending";
pub const DISPATCHED: &str = "dispatched";
pub const FAILED: &str = "failed";

/// Wraps decided events into validated envelopes. All events of one command share a
/// correlation id (the command's, or the first event's) and are caused by the command.
pub(crate) fn wrap(
    env: &CommandEnvelope,
    tenant_id: TenantId,
    aggregate_id: Uuid,
    events: &[DomainEvent],
    now: DateTime<Utc>,
) -> Result<Vec<EventEnvelope>, StoreError> {
    let mut correlation = env.correlation_id;
    let mut out = Vec::with_capacity(events.len());
    for e in events {
        let id = EventId::new_v7();
        let correlation_id = *correlation.get_or_insert(id.as_uuid());
        let envelope = EventEnvelope::new(
            e,
            EnvelopeMeta {
                id,
                tenant_id,
                aggregate_id,
                actor: env.actor.handle.clone(),
                occurred_at: now,
                correlation_id: Some(correlation_id),
                causation_id: Some(env.id.as_uuid()),
            },
        );
        envelope.validate()?;
        out.push(envelope);
    }
    Ok(out)
}

/// What a command applied, once its events are appended to the outbox in its transaction.
pub(crate) async fn applied(
    w: &mut Writes<'_>,
    env: &CommandEnvelope,
    outcome: Outcome,
    events: Vec<EventEnvelope>,
) -> Result<Applied, StoreError> {
    append(w, &events).await?;
    Ok(Applied {
        command_id: env.id,
        outcome,
        events,
    })
}

/// Rows claimed by one relay pass.
#[derive(Debug, Clone)]
pub struct RelayBatch {
    pub token: Uuid,
    pub events: Vec<StoredEvent>,
}

/// Appends envelopes to the outbox inside the caller's transaction.
pub(crate) async fn append(
    w: &mut Writes<'_>,
    envelopes: &[EventEnvelope],
) -> Result<(), StoreError> {
    if envelopes.is_empty() {
        return Ok(());
    }
    let rows = envelopes.iter().map(|e| outbox::ActiveModel {
        seq: NotSet,
        id: Set(e.id.as_uuid()),
        tenant_id: Set(e.tenant_id.as_uuid()),
        event_type: Set(e.event_type.clone()),
        schema_version: Set(i32::from(e.schema_version)),
        aggregate_type: Set(e.aggregate_type.clone()),
        aggregate_id: Set(e.aggregate_id),
        correlation_id: Set(e.correlation_id),
        causation_id: Set(e.causation_id),
        actor: Set(e.actor.clone()),
        occurred_at: Set(e.occurred_at),
        payload: Set(e.payload.to_string()),
        status: Set(PENDING.to_string()),
        attempts: Set(0),
        next_attempt_ms: Set(0),
        last_error: Set(None),
        claim_token: Set(None),
        claimed_until_ms: Set(None),
        dispatched_at: Set(None),
    });
    let c = w.txn();
    let insert = build(c, outbox::Entity::insert_many(rows));
    w.write(insert, || "event id".to_string()).await?;
    if backend_of(c) == Backend::Postgres {
        // Delivered when (and only if) the command's transaction commits: every listening
        // console's feed looks at the outbox at once instead of at its next poll.
        w.write(
            stmt(
                Backend::Postgres,
                "SELECT pg_notify($1, '')",
                vec![Value::from(CHANNEL)],
            ),
            String::new,
        )
        .await?;
    }
    Ok(())
}

/// What completing a relay batch recorded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Rows this claim marked dispatched.
    pub dispatched: u64,
    /// Receipts written (one per consumer and event).
    pub receipts: u64,
    /// Receipts that already existed: an event some consumer had already been handed (the
    /// claim expired and another relay delivered it too). Zero when delivery is exactly once.
    pub duplicates: u64,
}

/// One consumer's receipt for one event.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Receipt {
    pub consumer: String,
    pub event_id: EventId,
    pub seq: i64,
}

impl Store {
    /// Claims up to `limit` pending rows whose backoff has passed and whose previous claim (if
    /// any) has expired, oldest first, leasing them for `lease_ms`.
    pub async fn claim_batch(
        &self,
        limit: u64,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<RelayBatch, StoreError> {
        let token = Uuid::now_v7();
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE outbox SET claim_token = $1, claimed_until_ms = $2 WHERE seq IN (
                SELECT seq FROM outbox
                WHERE status = 'pending' AND next_attempt_ms <= $3
                  AND (claimed_until_ms IS NULL OR claimed_until_ms < $3)
                ORDER BY seq LIMIT $4{lock})"
        );
        let claim = self.stmt(
            &sql,
            vec![
                Value::from(token),
                Value::from(now_ms + lease_ms),
                Value::from(now_ms),
                Value::from(i64::try_from(limit).unwrap_or(i64::MAX)),
            ],
        );
        // Rows claimed for the first time (zero attempts: never completed, or re-queued dead
        // letters) get a delivery row for every registered independent consumer that has no
        // receipt for them yet (`stream.rs`), in the claim's transaction: whichever process
        // relays an event, and whether or not it has a stream configured, none is skipped.
        let deliveries = self.stmt(
            "INSERT INTO consumer_deliveries \
               (consumer, seq, event_id, status, attempts, next_attempt_ms) \
             SELECT c.name, o.seq, o.id, 'pending', 0, 0 \
             FROM outbox o CROSS JOIN stream_consumers c \
             WHERE o.claim_token = $1 AND o.attempts = 0 \
               AND NOT EXISTS (SELECT 1 FROM consumer_receipts r \
                 WHERE r.consumer = c.name AND r.event_id = o.id) \
             ON CONFLICT DO NOTHING",
            vec![Value::from(token)],
        );
        let mut events = self
            .in_transaction(async |w: &Tx<'_>| {
                if w.execute_raw(claim).await?.rows_affected() == 0 {
                    return Ok(Vec::new());
                }
                w.execute_raw(deliveries).await?;
                outbox::Entity::find()
                    .filter(outbox::Column::ClaimToken.eq(token))
                    .all(w)
                    .await?
                    .into_iter()
                    .map(stored_event_from_row)
                    .collect::<Result<Vec<_>, _>>()
            })
            .await?;
        events.sort_by_key(|e| e.seq);
        Ok(RelayBatch { token, events })
    }

    /// Marks delivered rows of a claim as dispatched.
    pub async fn mark_dispatched(
        &self,
        token: Uuid,
        seqs: &[i64],
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        if seqs.is_empty() {
            return Ok(0);
        }
        let update = outbox::Entity::update_many()
            .col_expr(outbox::Column::Status, DISPATCHED.into())
            .col_expr(outbox::Column::DispatchedAt, now.into())
            .col_expr(outbox::Column::ClaimToken, Option::<Uuid>::None.into())
            .col_expr(outbox::Column::ClaimedUntilMs, Option::<i64>::None.into())
            .filter(outbox::Column::ClaimToken.eq(token))
            .filter(outbox::Column::Seq.is_in(seqs.iter().copied()));
        self.in_transaction(async |w: &Tx<'_>| Ok(update.exec(w).await?.rows_affected))
            .await
    }

    /// The receipts that already exist among `event_ids` × `consumers` (so a relay never hands
    /// an event to a consumer that has had it).
    pub async fn receipts_for(
        &self,
        consumers: &[&str],
        event_ids: &[EventId],
    ) -> Result<HashSet<(String, EventId)>, StoreError> {
        if consumers.is_empty() || event_ids.is_empty() {
            return Ok(HashSet::new());
        }
        let mut values: Vec<Value> = Vec::new();
        let list = |vals: &mut Vec<Value>, items: Vec<Value>| {
            let start = vals.len();
            let names: Vec<String> = (1..=items.len())
                .map(|i| format!("${}", start + i))
                .collect();
            vals.extend(items);
            names.join(", ")
        };
        let c = list(
            &mut values,
            consumers
                .iter()
                .map(|c| Value::from(c.to_string()))
                .collect(),
        );
        let e = list(
            &mut values,
            event_ids.iter().map(|e| Value::from(e.as_uuid())).collect(),
        );
        let sql = format!(
            "SELECT consumer, event_id FROM consumer_receipts \
             WHERE consumer IN ({c}) AND event_id IN ({e})"
        );
        let rows = self.db.query_all_raw(self.stmt(&sql, values)).await?;
        rows.into_iter()
            .map(|r| {
                Ok((
                    r.try_get::<String>("", "consumer")?,
                    EventId::from_uuid(r.try_get::<Uuid>("", "event_id")?),
                ))
            })
            .collect()
    }

    /// Completes a claimed batch in one transaction: writes the consumers' receipts (a receipt
    /// that already exists is counted as a duplicate, never written twice) and marks the
    /// delivered rows dispatched — so "delivered" and "dispatched" commit together.
    pub async fn complete_batch(
        &self,
        token: Uuid,
        receipts: &[Receipt],
        delivered: &[i64],
        now: DateTime<Utc>,
    ) -> Result<DeliveryReport, StoreError> {
        if receipts.is_empty() && delivered.is_empty() {
            return Ok(DeliveryReport::default());
        }
        let complete = async |txn: &Tx<'_>| {
            let mut report = DeliveryReport::default();
            // 200 rows × 5 values per statement stays far below both backends' parameter limits.
            for chunk in receipts.chunks(200) {
                let mut values = Vec::with_capacity(chunk.len() * 5);
                let mut tuples = Vec::with_capacity(chunk.len());
                for (i, r) in chunk.iter().enumerate() {
                    let b = i * 5;
                    tuples.push(format!(
                        "(${}, ${}, ${}, ${}, ${})",
                        b + 1,
                        b + 2,
                        b + 3,
                        b + 4,
                        b + 5
                    ));
                    values.extend([
                        Value::from(r.consumer.clone()),
                        Value::from(r.event_id.as_uuid()),
                        Value::from(r.seq),
                        Value::from(token),
                        Value::from(now),
                    ]);
                }
                let sql = format!(
                    "INSERT INTO consumer_receipts (consumer, event_id, seq, claim_token, delivered_at) \
                 VALUES {} ON CONFLICT DO NOTHING",
                    tuples.join(", ")
                );
                let written = txn
                    .execute_raw(self.stmt(&sql, values))
                    .await?
                    .rows_affected();
                report.receipts += written;
                report.duplicates += chunk.len() as u64 - written;
            }
            if !delivered.is_empty() {
                report.dispatched = outbox::Entity::update_many()
                    .col_expr(outbox::Column::Status, DISPATCHED.into())
                    .col_expr(outbox::Column::DispatchedAt, now.into())
                    .col_expr(outbox::Column::ClaimToken, Option::<Uuid>::None.into())
                    .col_expr(outbox::Column::ClaimedUntilMs, Option::<i64>::None.into())
                    .filter(outbox::Column::ClaimToken.eq(token))
                    .filter(outbox::Column::Seq.is_in(delivered.iter().copied()))
                    .exec(txn)
                    .await?
                    .rows_affected;
            }
            Ok(report)
        };
        self.in_transaction(complete).await
    }

    /// How many receipts are stored (per consumer, or all).
    pub async fn receipt_count(&self, consumer: Option<&str>) -> Result<u64, StoreError> {
        let (sql, values) = match consumer {
            Some(c) => (
                "SELECT COUNT(*) AS n FROM consumer_receipts WHERE consumer = $1",
                vec![Value::from(c.to_string())],
            ),
            None => ("SELECT COUNT(*) AS n FROM consumer_receipts", vec![]),
        };
        let row = self.db.query_one_raw(self.stmt(sql, values)).await?;
        Ok(match row {
            Some(r) => u64::try_from(r.try_get::<i64>("", "n")?).unwrap_or(0),
            None => 0,
        })
    }

    /// Records a failed delivery: the row goes back to pending with a later attempt time, or
    /// becomes a dead letter (`failed`) when `dead` is set.
    pub async fn record_failure(
        &self,
        token: Uuid,
        seq: i64,
        attempts: i32,
        error: &str,
        next_attempt_ms: i64,
        dead: bool,
    ) -> Result<(), StoreError> {
        let update = outbox::Entity::update_many()
            .col_expr(
                outbox::Column::Status,
                if dead { FAILED } else { PENDING }.into(),
            )
            .col_expr(outbox::Column::Attempts, attempts.into())
            .col_expr(outbox::Column::LastError, Some(error.to_string()).into())
            .col_expr(outbox::Column::NextAttemptMs, next_attempt_ms.into())
            .col_expr(outbox::Column::ClaimToken, Option::<Uuid>::None.into())
            .col_expr(outbox::Column::ClaimedUntilMs, Option::<i64>::None.into())
            .filter(outbox::Column::ClaimToken.eq(token))
            .filter(outbox::Column::Seq.eq(seq));
        self.in_transaction(async |w: &Tx<'_>| update.exec(w).await.map(|_| ()).map_err(Into::into))
            .await
    }

    /// Pending / dispatched / failed counts: of one tenant's events, or of all.
    pub async fn outbox_counts(
        &self,
        tenant: Option<rustok_domain::TenantId>,
    ) -> Result<OutboxCounts, StoreError> {
        let count = |s: &'static str| {
            let mut q = outbox::Entity::find().filter(outbox::Column::Status.eq(s));
            if let Some(t) = tenant {
                q = q.filter(outbox::Column::TenantId.eq(t.as_uuid()));
            }
            q.count(&self.db)
        };
        Ok(OutboxCounts {
            pending: count(PENDING).await?,
            dispatched: count(DISPATCHED).await?,
            failed: count(FAILED).await?,
        })
    }

    /// The highest sequence number stored (0 when empty): where a live tail starts.
    pub async fn latest_seq(&self) -> Result<i64, StoreError> {
        let row = self
            .db
            .query_one_raw(self.stmt("SELECT COALESCE(MAX(seq), 0) AS m FROM outbox", vec![]))
            .await?;
        Ok(match row {
            Some(r) => r.try_get::<i64>("", "m")?,
            None => 0,
        })
    }
}

impl Store {
    /// When the oldest event still waiting for delivery happened (the relay's lag).
    pub async fn oldest_pending_at(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        use sea_orm::{QueryOrder, QuerySelect};
        Ok(outbox::Entity::find()
            .select_only()
            .column(outbox::Column::OccurredAt)
            .filter(outbox::Column::Status.eq(PENDING))
            .order_by_asc(outbox::Column::Seq)
            .limit(1)
            .into_tuple::<DateTime<Utc>>()
            .one(&self.db)
            .await?)
    }
}

/// Puts a tenant's dead letters back in the queue (all of them, or those with the given ids),
/// inside a command's transaction (`Command::RetryDeadLetters`). Returns how many.
pub(crate) async fn requeue_dead_letters_in(
    txn: &impl ConnectionTrait,
    tenant: rustok_domain::TenantId,
    ids: &[EventId],
) -> Result<u64, StoreError> {
    let mut q = outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, PENDING.into())
        .col_expr(outbox::Column::Attempts, 0.into())
        .col_expr(outbox::Column::NextAttemptMs, 0i64.into())
        .filter(outbox::Column::Status.eq(FAILED))
        .filter(outbox::Column::TenantId.eq(tenant.as_uuid()));
    if !ids.is_empty() {
        q = q.filter(outbox::Column::Id.is_in(ids.iter().map(|i| i.as_uuid())));
    }
    Ok(q.exec(txn).await?.rows_affected)
}
