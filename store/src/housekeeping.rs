//! Housekeeping: the command log and the consumer receipts are bookkeeping for retries, not
//! history, and would otherwise grow with every command and every delivery for ever (the
//! command log keeps each command's whole outcome: a node with all its translations, for every
//! edit). Rows older than the retention are found on a read connection and deleted by key in
//! small chunks, each its own short write, so that commands are never held up behind one long
//! delete or scan.
//!
//! What is kept is what a retry can still need:
//! - a command retried within the retention is answered from the log (or refused when run
//!   again); after it, it would run again, so the retention must be longer than anything that
//!   resends a command (the console's queue and the CLI resend within seconds);
//! - a receipt is deleted only once its event is dispatched; an event still pending or
//!   dead-lettered keeps its receipts, so a retried dead letter reaches only the consumers that
//!   did not have it.

use crate::writes::Tx;
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, Value};
use uuid::Uuid;

/// Rows deleted per statement.
pub const PRUNE_CHUNK: u64 = 2_000;

/// What one prune deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub command_log: u64,
    pub receipts: u64,
}

impl Store {
    /// Deletes command-log rows committed before `before` and the receipts of dispatched
    /// events delivered before it, [`PRUNE_CHUNK`] rows per statement.
    pub async fn prune_history(&self, before: DateTime<Utc>) -> Result<Pruned, StoreError> {
        self.prune_history_chunked(before, PRUNE_CHUNK).await
    }

    /// [`Store::prune_history`], `chunk` rows per statement. Each chunk's rows are found on a
    /// read connection (which holds no write lock while it scans: WAL on SQLite, MVCC on
    /// PostgreSQL) and deleted by key in one short write.
    pub async fn prune_history_chunked(
        &self,
        before: DateTime<Utc>,
        chunk: u64,
    ) -> Result<Pruned, StoreError> {
        let chunk = chunk.max(1);
        let limit = Value::from(i64::try_from(chunk).unwrap_or(i64::MAX));
        let mut pruned = Pruned::default();
        loop {
            let rows = self
                .db
                .query_all_raw(self.stmt(
                    "SELECT command_id FROM command_log WHERE committed_at < $1 LIMIT $2",
                    vec![Value::from(before), limit.clone()],
                ))
                .await?;
            let ids = rows
                .iter()
                .map(|r| r.try_get::<Uuid>("", "command_id"))
                .collect::<Result<Vec<_>, _>>()?;
            pruned.command_log += self
                .delete_keys("DELETE FROM command_log WHERE command_id IN", &ids, |id| {
                    vec![Value::from(*id)]
                })
                .await?;
            if (ids.len() as u64) < chunk {
                break;
            }
        }
        loop {
            let rows = self
                .db
                .query_all_raw(self.stmt(
                    "SELECT r.consumer, r.event_id FROM consumer_receipts r
                     WHERE r.delivered_at < $1 AND EXISTS (
                        SELECT 1 FROM outbox o WHERE o.seq = r.seq AND o.status = 'dispatched')
                     LIMIT $2",
                    vec![Value::from(before), limit.clone()],
                ))
                .await?;
            let keys = rows
                .iter()
                .map(|r| {
                    Ok::<_, sea_orm::DbErr>((
                        r.try_get::<String>("", "consumer")?,
                        r.try_get::<Uuid>("", "event_id")?,
                    ))
                })
                .collect::<Result<Vec<_>, _>>()?;
            pruned.receipts += self
                .delete_keys(
                    "DELETE FROM consumer_receipts WHERE (consumer, event_id) IN",
                    &keys,
                    |(consumer, id)| vec![Value::from(consumer.clone()), Value::from(*id)],
                )
                .await?;
            if (keys.len() as u64) < chunk {
                break;
            }
        }
        Ok(pruned)
    }

    /// `DELETE … IN ((…), …)` for `keys`, on the writer; the number of rows deleted.
    async fn delete_keys<K>(
        &self,
        head: &str,
        keys: &[K],
        values: impl Fn(&K) -> Vec<Value>,
    ) -> Result<u64, StoreError> {
        if keys.is_empty() {
            return Ok(0);
        }
        let mut sql = format!("{head} (");
        let mut all = Vec::new();
        for (i, k) in keys.iter().enumerate() {
            let vs = values(k);
            sql.push_str(if i == 0 { "(" } else { ", (" });
            for j in 0..vs.len() {
                if j > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("${}", all.len() + j + 1));
            }
            sql.push(')');
            all.extend(vs);
        }
        sql.push(')');
        let stmt = self.stmt(&sql, all);
        let n = self
            .in_transaction(async |w: &Tx<'_>| Ok(w.execute_raw(stmt).await?.rows_affected()))
            .await?;
        // Let a waiting command have the database between chunks.
        tokio::task::yield_now().await;
        Ok(n)
    }
}
