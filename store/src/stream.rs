//! Independent consumers of the outbox (the JetStream stream): registry, per-consumer
//! deliveries with their own retries and dead letters, and a lease so that one process at a
//! time delivers a consumer, in order. The schema and why it is shaped so:
//! `migration/m20261207_000005_stream_consumers.rs`.
//!
//! Delivery rows are written by whichever relay first claims an outbox row (see
//! `outbox::Store::claim_batch`), for every registered consumer, in the claim's transaction; the consumer's own loop ([`Store::consumer_backlog`], then
//! [`Store::complete_deliveries`]) works them off. The in-process bus never waits for it.

use crate::entity::outbox;
use crate::rows::stored_event_from_row;
use crate::writes::Tx;
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use rustok_domain::EventId;
use rustok_domain::read::{ConsumerStats, StoredEvent};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Value};
use std::collections::HashMap;
use uuid::Uuid;

/// One event a consumer has still to get.
#[derive(Debug, Clone)]
pub struct PendingDelivery {
    pub event: StoredEvent,
    /// The slug of the event's tenant (`None` if the tenant row is gone).
    pub tenant_slug: Option<String>,
    /// Failed attempts so far.
    pub attempts: i32,
}

/// A failed attempt to deliver one event to a consumer.
#[derive(Debug, Clone)]
pub struct DeliveryFailure {
    pub seq: i64,
    pub attempts: i32,
    pub error: String,
    pub next_attempt_ms: i64,
    /// Out of attempts: becomes the consumer's dead letter.
    pub dead: bool,
}

/// What completing a consumer's batch recorded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConsumerReport {
    pub delivered: u64,
    /// Receipts that already existed (another process delivered the event too).
    pub duplicates: u64,
}

/// How old the shared read of the consumers' state may be (`Store::recent_consumer_stats`).
pub const CONSUMER_STATS_MAX_AGE: std::time::Duration = std::time::Duration::from_millis(900);

/// The last read of the consumers' state and when it was made. An async lock: concurrent
/// readers wait for the one read in flight instead of each querying.
#[derive(Clone, Default)]
pub(crate) struct StatsCache(std::sync::Arc<tokio::sync::Mutex<Option<StatsReading>>>);

/// When the consumers' state was read, and what it was.
type StatsReading = (std::time::Instant, Vec<ConsumerStats>);

impl Store {
    /// Registers an independent consumer (idempotent): from now on every relay writes it a
    /// delivery row for each event it completes.
    pub async fn register_consumer(
        &self,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let insert = self.stmt(
            "INSERT INTO stream_consumers (name, registered_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            vec![Value::from(name.to_string()), Value::from(now)],
        );
        self.in_transaction(async |w: &Tx<'_>| {
            w.execute_raw(insert).await?;
            Ok(())
        })
        .await
    }

    /// The registered independent consumers' names.
    pub async fn registered_consumers(&self) -> Result<Vec<String>, StoreError> {
        let rows = self
            .db
            .query_all_raw(self.stmt("SELECT name FROM stream_consumers ORDER BY name", vec![]))
            .await?;
        rows.into_iter()
            .map(|r| Ok(r.try_get::<String>("", "name")?))
            .collect()
    }

    /// Takes (or renews) the lease on delivering `name`: true when this `token` holds it until
    /// `now_ms + lease_ms`. Another holder's lease is taken only once it has expired.
    pub async fn lease_consumer(
        &self,
        name: &str,
        token: Uuid,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<bool, StoreError> {
        let update = self.stmt(
            "UPDATE stream_consumers SET claim_token = $1, claimed_until_ms = $2 \
             WHERE name = $3 AND (claim_token = $1 OR claimed_until_ms IS NULL OR claimed_until_ms < $4)",
            vec![
                Value::from(token),
                Value::from(now_ms.saturating_add(lease_ms)),
                Value::from(name.to_string()),
                Value::from(now_ms),
            ],
        );
        self.in_transaction(
            async |w: &Tx<'_>| Ok(w.execute_raw(update).await?.rows_affected() == 1),
        )
        .await
    }

    /// Gives the lease up (a stopping process), so another may deliver at once.
    pub async fn release_consumer(&self, name: &str, token: Uuid) -> Result<(), StoreError> {
        let update = self.stmt(
            "UPDATE stream_consumers SET claim_token = NULL, claimed_until_ms = NULL \
             WHERE name = $1 AND claim_token = $2",
            vec![Value::from(name.to_string()), Value::from(token)],
        );
        self.in_transaction(async |w: &Tx<'_>| {
            w.execute_raw(update).await?;
            Ok(())
        })
        .await
    }

    /// Whether `consumer`'s oldest pending delivery is due (not in its back-off): one indexed
    /// read, so an idle consumer's loop writes nothing.
    pub async fn consumer_has_due(&self, consumer: &str, now_ms: i64) -> Result<bool, StoreError> {
        let row = self
            .db
            .query_one_raw(self.stmt(
                "SELECT next_attempt_ms FROM consumer_deliveries \
                 WHERE consumer = $1 AND status = 'pending' ORDER BY seq LIMIT 1",
                vec![Value::from(consumer.to_string())],
            ))
            .await?;
        Ok(match row {
            Some(r) => r.try_get::<i64>("", "next_attempt_ms")? <= now_ms,
            None => false,
        })
    }

    /// The next events `consumer` is due to get, oldest first, up to `limit`: the pending
    /// deliveries up to (not including) the first one still in its back-off — so a consumer
    /// gets its events in order, a failing one holding the rest back until it is delivered or
    /// dead-lettered.
    pub async fn consumer_backlog(
        &self,
        consumer: &str,
        limit: u64,
        now_ms: i64,
    ) -> Result<Vec<PendingDelivery>, StoreError> {
        let rows = self
            .db
            .query_all_raw(self.stmt(
                "SELECT seq, attempts, next_attempt_ms FROM consumer_deliveries \
                 WHERE consumer = $1 AND status = 'pending' ORDER BY seq LIMIT $2",
                vec![
                    Value::from(consumer.to_string()),
                    Value::from(i64::try_from(limit).unwrap_or(i64::MAX)),
                ],
            ))
            .await?;
        let mut due: Vec<(i64, i32)> = Vec::with_capacity(rows.len());
        for r in rows {
            if r.try_get::<i64>("", "next_attempt_ms")? > now_ms {
                break;
            }
            due.push((r.try_get("", "seq")?, r.try_get("", "attempts")?));
        }
        if due.is_empty() {
            return Ok(Vec::new());
        }
        let models = outbox::Entity::find()
            .filter(outbox::Column::Seq.is_in(due.iter().map(|(s, _)| *s)))
            .all(&self.db)
            .await?;
        let mut tenants: Vec<Uuid> = models.iter().map(|m| m.tenant_id).collect();
        tenants.sort();
        tenants.dedup();
        let slugs = self.tenant_slugs(&tenants).await?;
        let mut by_seq: HashMap<i64, StoredEvent> = HashMap::with_capacity(models.len());
        for m in models {
            let e = stored_event_from_row(m)?;
            by_seq.insert(e.seq, e);
        }
        Ok(due
            .into_iter()
            .filter_map(|(seq, attempts)| {
                let event = by_seq.remove(&seq)?;
                let tenant_slug = slugs.get(&event.envelope.tenant_id.as_uuid()).cloned();
                Some(PendingDelivery {
                    event,
                    tenant_slug,
                    attempts,
                })
            })
            .collect())
    }

    async fn tenant_slugs(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, String>, StoreError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let list: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT id, slug FROM tenants WHERE id IN ({})",
            list.join(", ")
        );
        let rows = self
            .db
            .query_all_raw(self.stmt(&sql, ids.iter().map(|i| Value::from(*i)).collect()))
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok((
                    r.try_get::<Uuid>("", "id")?,
                    r.try_get::<String>("", "slug")?,
                ))
            })
            .collect()
    }

    /// Records what one delivery attempt of `consumer` did, in one transaction: receipts for
    /// the delivered events (their delivery rows deleted), attempts and back-off for the
    /// failed ones, or their dead-lettering.
    pub async fn complete_deliveries(
        &self,
        consumer: &str,
        delivered: &[(i64, EventId)],
        failed: &[DeliveryFailure],
        now: DateTime<Utc>,
    ) -> Result<ConsumerReport, StoreError> {
        if delivered.is_empty() && failed.is_empty() {
            return Ok(ConsumerReport::default());
        }
        let name = consumer.to_string();
        self.in_transaction(async |w: &Tx<'_>| {
            let mut report = ConsumerReport::default();
            for chunk in delivered.chunks(200) {
                let mut values = Vec::with_capacity(chunk.len() * 3 + 2);
                values.push(Value::from(name.clone()));
                values.push(Value::from(now));
                let tuples: Vec<String> = chunk
                    .iter()
                    .enumerate()
                    .map(|(i, (seq, id))| {
                        values.push(Value::from(id.as_uuid()));
                        values.push(Value::from(*seq));
                        values.push(Value::from(Uuid::nil()));
                        let b = 3 + i * 3;
                        format!("($1, ${b}, ${}, ${}, $2)", b + 1, b + 2)
                    })
                    .collect();
                let sql = format!(
                    "INSERT INTO consumer_receipts (consumer, event_id, seq, claim_token, delivered_at) \
                     VALUES {} ON CONFLICT DO NOTHING",
                    tuples.join(", ")
                );
                let written = w.execute_raw(self.stmt(&sql, values)).await?.rows_affected();
                report.delivered += written;
                report.duplicates += chunk.len() as u64 - written;
                let mut values = vec![Value::from(name.clone())];
                let list: Vec<String> = chunk
                    .iter()
                    .enumerate()
                    .map(|(i, (seq, _))| {
                        values.push(Value::from(*seq));
                        format!("${}", i + 2)
                    })
                    .collect();
                let sql = format!(
                    "DELETE FROM consumer_deliveries WHERE consumer = $1 AND seq IN ({})",
                    list.join(", ")
                );
                w.execute_raw(self.stmt(&sql, values)).await?;
            }
            for f in failed {
                w.execute_raw(self.stmt(
                    "UPDATE consumer_deliveries SET status = $1, attempts = $2, last_error = $3, \
                     next_attempt_ms = $4, failed_at = $5 WHERE consumer = $6 AND seq = $7",
                    vec![
                        Value::from(if f.dead { "failed" } else { "pending" }),
                        Value::from(f.attempts),
                        Value::from(f.error.clone()),
                        Value::from(f.next_attempt_ms),
                        Value::from(f.dead.then_some(now)),
                        Value::from(name.clone()),
                        Value::from(f.seq),
                    ],
                ))
                .await?;
            }
            let n = Value::from(name.clone());
            // `delivered_total` counts the receipts written here (a duplicate adds nothing).
            let total = Value::from(i64::try_from(report.delivered).unwrap_or(i64::MAX));
            let (sql, values) = match (failed.last(), delivered.is_empty()) {
                (Some(f), true) => (
                    "UPDATE stream_consumers SET last_error = $1 WHERE name = $2",
                    vec![Value::from(f.error.clone()), n],
                ),
                (Some(f), false) => (
                    "UPDATE stream_consumers SET last_error = $1, last_delivered_at = $3, \
                     delivered_total = delivered_total + $4 WHERE name = $2",
                    vec![Value::from(f.error.clone()), n, Value::from(now), total],
                ),
                (None, _) => (
                    "UPDATE stream_consumers SET last_error = NULL, last_delivered_at = $2, \
                     delivered_total = delivered_total + $3 WHERE name = $1",
                    vec![n, Value::from(now), total],
                ),
            };
            w.execute_raw(self.stmt(sql, values)).await?;
            Ok(report)
        })
        .await
    }

    /// A consumer's dead letters, oldest first: the events with their attempts and last
    /// error (in `status`, `attempts`, `last_error`) as that consumer saw them.
    pub async fn consumer_dead_letters(
        &self,
        consumer: &str,
        tenant: Option<rustok_domain::TenantId>,
        limit: u64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = self
            .db
            .query_all_raw(self.stmt(
                "SELECT seq, attempts, last_error FROM consumer_deliveries \
                 WHERE consumer = $1 AND status = 'failed' ORDER BY seq",
                vec![Value::from(consumer.to_string())],
            ))
            .await?;
        let mut failed: HashMap<i64, (i32, Option<String>)> = HashMap::new();
        for r in rows {
            failed.insert(
                r.try_get("", "seq")?,
                (r.try_get("", "attempts")?, r.try_get("", "last_error")?),
            );
        }
        if failed.is_empty() {
            return Ok(Vec::new());
        }
        let mut q =
            outbox::Entity::find().filter(outbox::Column::Seq.is_in(failed.keys().copied()));
        if let Some(t) = tenant {
            q = q.filter(outbox::Column::TenantId.eq(t.as_uuid()));
        }
        let mut out = Vec::new();
        for m in q.all(&self.db).await? {
            let mut e = stored_event_from_row(m)?;
            if let Some((attempts, error)) = failed.remove(&e.seq) {
                e.status = "failed".into();
                e.attempts = attempts;
                e.last_error = error;
                e.dispatched_at = None;
            }
            out.push(e);
        }
        out.sort_by_key(|e| e.seq);
        out.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(out)
    }

    /// The independent consumers' state (no bus), read at most once per
    /// [`CONSUMER_STATS_MAX_AGE`] by all the store's clones together: what the dashboards of
    /// every session of a process show, refreshed on a timer.
    pub async fn recent_consumer_stats(&self) -> Result<Vec<ConsumerStats>, StoreError> {
        let mut cached = self.consumer_stats.0.lock().await;
        if let Some((at, stats)) = cached.as_ref()
            && at.elapsed() < CONSUMER_STATS_MAX_AGE
        {
            return Ok(stats.clone());
        }
        let stats = self.consumer_stats(None, Utc::now()).await?;
        *cached = Some((std::time::Instant::now(), stats.clone()));
        Ok(stats)
    }

    /// Every consumer's delivery state: the bus (`bus_name`, whose state is the outbox rows'
    /// own; `None` leaves it out) first, then the registered independent consumers.
    /// An independent consumer's `delivered` is its running total (`delivered_total`, one row);
    /// the bus's is the number of outbox rows dispatched — kept for ever, so it never goes down
    /// when the receipts past the retention are pruned (it was a count of receipts, which did).
    pub async fn consumer_stats(
        &self,
        bus_name: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Vec<ConsumerStats>, StoreError> {
        let count = async |sql: &str, values: Vec<Value>| -> Result<u64, StoreError> {
            let row = self.db.query_one_raw(self.stmt(sql, values)).await?;
            Ok(match row {
                Some(r) => u64::try_from(r.try_get::<i64>("", "n")?).unwrap_or(0),
                None => 0,
            })
        };
        let lag = |oldest: Option<DateTime<Utc>>| {
            oldest.map_or(0.0, |t| {
                ((now - t).num_milliseconds().max(0) as f64) / 1000.0
            })
        };
        let mut out = Vec::new();
        if let Some(bus_name) = bus_name {
            let counts = self.outbox_counts(None).await?;
            // Both through the (status, seq) index.
            let last_bus = self
                .db
                .query_one_raw(self.stmt(
                    "SELECT dispatched_at AS t FROM outbox WHERE status = 'dispatched' \
                     ORDER BY seq DESC LIMIT 1",
                    vec![],
                ))
                .await?
                .and_then(|r| r.try_get::<Option<DateTime<Utc>>>("", "t").ok().flatten());
            let bus_error = self
                .db
                .query_one_raw(self.stmt(
                    "SELECT last_error FROM outbox WHERE status IN ('pending', 'failed') \
                     AND last_error IS NOT NULL ORDER BY seq DESC LIMIT 1",
                    vec![],
                ))
                .await?
                .and_then(|r| r.try_get::<Option<String>>("", "last_error").ok().flatten());
            out.push(ConsumerStats {
                consumer: bus_name.to_string(),
                delivered: counts.dispatched,
                pending: counts.pending,
                failed: counts.failed,
                lag_events: counts.pending,
                lag_seconds: lag(self.oldest_pending_at().await?),
                last_error: bus_error,
                last_delivered_at: last_bus,
            });
        }
        let rows = self
            .db
            .query_all_raw(self.stmt(
                "SELECT name, last_error, last_delivered_at, delivered_total FROM stream_consumers \
                 ORDER BY name",
                vec![],
            ))
            .await?;
        for r in rows {
            let name: String = r.try_get("", "name")?;
            let by = |status: &'static str| {
                (
                    "SELECT COUNT(*) AS n FROM consumer_deliveries WHERE consumer = $1 AND status = $2",
                    vec![Value::from(name.clone()), Value::from(status)],
                )
            };
            let (sql, v) = by("pending");
            let pending = count(sql, v).await?;
            let (sql, v) = by("failed");
            let failed = count(sql, v).await?;
            let oldest = self
                .db
                .query_one_raw(self.stmt(
                    "SELECT o.occurred_at AS t FROM consumer_deliveries d JOIN outbox o ON o.seq = d.seq \
                     WHERE d.consumer = $1 AND d.status = 'pending' ORDER BY d.seq LIMIT 1",
                    vec![Value::from(name.clone())],
                ))
                .await?
                .map(|r| r.try_get::<DateTime<Utc>>("", "t"))
                .transpose()?;
            let total: i64 = r.try_get("", "delivered_total")?;
            out.push(ConsumerStats {
                delivered: u64::try_from(total).unwrap_or(0),
                pending,
                failed,
                lag_events: pending,
                lag_seconds: lag(oldest),
                last_error: r.try_get("", "last_error")?,
                last_delivered_at: r.try_get("", "last_delivered_at")?,
                consumer: name,
            });
        }
        Ok(out)
    }
}

/// What dropping an independent consumer removed ([`Store::unregister_consumer`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ConsumerRemoval {
    /// Events it was still owed (pending, in back-off included).
    pub pending: u64,
    /// Its dead letters.
    pub failed: u64,
    /// Its receipts (the record of what it was sent).
    pub receipts: u64,
}

/// Where a back-fill starts ([`Store::backfill_consumer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackfillFrom {
    /// The events stored after this sequence number (`0`: the whole history kept).
    AfterSeq(i64),
    /// The events that occurred at or after this time.
    Since(DateTime<Utc>),
}

impl Store {
    /// Drops the independent consumer `name`: its registration, what it is still owed, its
    /// dead letters and its receipts, in one transaction. From then on no relay writes it a
    /// delivery row; a process still configured with it registers it again when it starts
    /// (from the events committed after that). `None` when no such consumer is registered.
    pub async fn unregister_consumer(
        &self,
        name: &str,
    ) -> Result<Option<ConsumerRemoval>, StoreError> {
        let n = || Value::from(name.to_string());
        let exists = self.stmt(
            "SELECT COUNT(*) AS n FROM stream_consumers WHERE name = $1",
            vec![n()],
        );
        let by_status = self.stmt(
            "SELECT status, COUNT(*) AS n FROM consumer_deliveries WHERE consumer = $1 \
             GROUP BY status",
            vec![n()],
        );
        let deliveries = self.stmt(
            "DELETE FROM consumer_deliveries WHERE consumer = $1",
            vec![n()],
        );
        let receipts = self.stmt(
            "DELETE FROM consumer_receipts WHERE consumer = $1",
            vec![n()],
        );
        let registration = self.stmt("DELETE FROM stream_consumers WHERE name = $1", vec![n()]);
        let removed = self
            .in_transaction(async |w: &Tx<'_>| {
                let found = match w.query_one_raw(exists).await? {
                    Some(r) => r.try_get::<i64>("", "n")? > 0,
                    None => false,
                };
                if !found {
                    return Ok(None);
                }
                let mut removal = ConsumerRemoval::default();
                for r in w.query_all_raw(by_status).await? {
                    let count = u64::try_from(r.try_get::<i64>("", "n")?).unwrap_or(0);
                    if r.try_get::<String>("", "status")? == "failed" {
                        removal.failed += count;
                    } else {
                        removal.pending += count;
                    }
                }
                w.execute_raw(deliveries).await?;
                removal.receipts = w.execute_raw(receipts).await?.rows_affected();
                w.execute_raw(registration).await?;
                Ok(Some(removal))
            })
            .await?;
        if removed.is_some() {
            // The dashboards' shared reading would show it for up to a second more.
            *self.consumer_stats.0.lock().await = None;
        }
        Ok(removed)
    }

    /// Owes the independent consumer `name` the events already stored from `from` on, so a
    /// stream registered late gets the history: a delivery row for each event it has neither
    /// pending nor a receipt for (a receipt pruned past the retention does not count: such an
    /// event is sent again, and JetStream's duplicate window or the consumer's own
    /// de-duplication by event id drops it). Events no relay has claimed yet are left to the
    /// claim, which owes them to every registered consumer anyway. Delivered oldest first by
    /// the consumer's loop, before what it was already owed from later on. Returns how many
    /// were added; `None` when no such consumer is registered.
    pub async fn backfill_consumer(
        &self,
        name: &str,
        from: BackfillFrom,
    ) -> Result<Option<u64>, StoreError> {
        let n = || Value::from(name.to_string());
        let exists = self.stmt(
            "SELECT COUNT(*) AS n FROM stream_consumers WHERE name = $1",
            vec![n()],
        );
        let (condition, at) = match from {
            BackfillFrom::AfterSeq(seq) => ("o.seq > $2", Value::from(seq)),
            BackfillFrom::Since(t) => ("o.occurred_at >= $2", Value::from(t)),
        };
        let insert = self.stmt(
            &format!(
                "INSERT INTO consumer_deliveries \
                   (consumer, seq, event_id, status, attempts, next_attempt_ms) \
                 SELECT $1, o.seq, o.id, 'pending', 0, 0 FROM outbox o \
                 WHERE {condition} \
                   AND NOT (o.status = 'pending' AND o.attempts = 0 AND o.claim_token IS NULL) \
                   AND NOT EXISTS (SELECT 1 FROM consumer_receipts r \
                     WHERE r.consumer = $1 AND r.event_id = o.id) \
                 ON CONFLICT DO NOTHING"
            ),
            vec![n(), at],
        );
        self.in_transaction(async |w: &Tx<'_>| {
            let found = match w.query_one_raw(exists).await? {
                Some(r) => r.try_get::<i64>("", "n")? > 0,
                None => false,
            };
            if !found {
                return Ok(None);
            }
            Ok(Some(w.execute_raw(insert).await?.rows_affected()))
        })
        .await
    }
}

/// Puts `consumer`'s dead letters of `tenant` (all, or those with the given event ids) back in
/// its queue, inside a command's transaction (`Command::RetryConsumerDeadLetters`): attempts
/// start again from zero and it gets them at its next pass, in order. Returns how many.
pub(crate) async fn requeue_consumer_dead_letters_in(
    txn: &impl ConnectionTrait,
    consumer: &str,
    tenant: rustok_domain::TenantId,
    ids: &[EventId],
) -> Result<u64, StoreError> {
    let backend = crate::backend_of(txn);
    let mut values = vec![
        Value::from(consumer.to_string()),
        Value::from(tenant.as_uuid()),
    ];
    let mut only = String::new();
    if !ids.is_empty() {
        let list: Vec<String> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                values.push(Value::from(id.as_uuid()));
                format!("${}", i + 3)
            })
            .collect();
        only = format!(" AND o.id IN ({})", list.join(", "));
    }
    let sql = format!(
        "UPDATE consumer_deliveries SET status = 'pending', attempts = 0, next_attempt_ms = 0, \
           failed_at = NULL \
         WHERE consumer = $1 AND status = 'failed' AND seq IN ( \
           SELECT o.seq FROM outbox o WHERE o.tenant_id = $2{only})"
    );
    Ok(txn
        .execute_raw(crate::stmt(backend, &sql, values))
        .await?
        .rows_affected())
}
