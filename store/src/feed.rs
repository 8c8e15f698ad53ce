//! Following committed outbox rows from any process, exactly once.
//!
//! On SQLite one writer commits at a time and sequence numbers are handed out under its lock,
//! so commit order is `seq` order and a cursor on `seq` is exact.
//!
//! On PostgreSQL sequence numbers are taken before commit: a transaction holding seq 7 can
//! commit after one holding seq 8, and a reader that saw 8 and moved its cursor past it would
//! never see 7. Each outbox row therefore records the 64-bit id of the transaction that wrote
//! it (`tx_id`, set by a column default). Every transaction older than the reader's snapshot
//! `xmin` has finished, so rows with `tx_id < xmin` are *final*: no row will ever appear below
//! them in `(tx_id, seq)` order. The follower's cursor moves over final rows only; rows of
//! younger, already committed transactions are handed out early (so live latency is the commit,
//! not the oldest open transaction) and remembered until the cursor passes them, so they are
//! never handed out twice.

use crate::entity::outbox;
use crate::outbox::CHANNEL;
use crate::rows::stored_event_from_row;
use crate::{Backend, Store, StoreError};
use rustok_domain::TenantId;
use rustok_domain::read::StoredEvent;
use sea_orm::{FromQueryResult, Value};
use std::collections::HashSet;

/// A position in commit order: `(tx, seq)` on PostgreSQL, `(0, seq)` on SQLite.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct FeedCursor {
    pub tx: i64,
    pub seq: i64,
}

/// Follows committed outbox rows (optionally of one tenant) from a cursor; see the module
/// documentation for why this is exact on PostgreSQL.
#[derive(Debug, Clone)]
pub struct Follower {
    cursor: FeedCursor,
    tenant: Option<TenantId>,
    /// Rows handed out before they became final, by seq.
    early: HashSet<i64>,
}

impl Follower {
    pub fn new(cursor: FeedCursor, tenant: Option<TenantId>) -> Self {
        Self {
            cursor,
            tenant,
            early: HashSet::new(),
        }
    }

    pub fn cursor(&self) -> FeedCursor {
        self.cursor
    }

    /// Rows handed out early and not yet final.
    pub fn early(&self) -> usize {
        self.early.len()
    }

    /// The committed rows not handed out yet, in commit order (at most about `limit`), and
    /// whether more may be ready right away.
    pub async fn poll(
        &mut self,
        store: &Store,
        limit: u64,
    ) -> Result<(Vec<StoredEvent>, bool), StoreError> {
        let limit = limit.max(1);
        let rows = store.feed_rows(self.cursor, self.tenant, limit).await?;
        let full = rows.len() as u64 >= limit;
        let mut out = Vec::new();
        let mut final_rows = 0usize;
        for (cursor, is_final, event) in rows {
            if is_final {
                final_rows += 1;
                self.cursor = cursor;
                if !self.early.remove(&cursor.seq) {
                    out.push(event);
                }
            } else if self.early.insert(cursor.seq) {
                out.push(event);
            }
        }
        // A full page of which some were final: the cursor moved, read on at once.
        Ok((out, full && final_rows > 0))
    }
}

impl Store {
    /// Checks the database answers (`SELECT 1`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        use sea_orm::ConnectionTrait;
        self.db.execute_raw(self.stmt("SELECT 1", vec![])).await?;
        Ok(())
    }

    /// The cursor a live follower starts from: after everything committed so far except the
    /// `back` latest rows (of `tenant`, if given).
    pub async fn feed_head(
        &self,
        tenant: Option<TenantId>,
        back: u64,
    ) -> Result<FeedCursor, StoreError> {
        use sea_orm::ConnectionTrait;
        let mut values = vec![Value::from(i64::try_from(back).unwrap_or(i64::MAX))];
        let tenant_sql = match tenant {
            Some(t) => {
                values.push(Value::from(t.as_uuid()));
                " AND tenant_id = $2"
            }
            None => "",
        };
        let sql = match self.backend {
            Backend::Postgres => format!(
                "SELECT tx_id AS t, seq AS s FROM outbox \
                 WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot())::text::bigint{tenant_sql} \
                 ORDER BY tx_id DESC, seq DESC LIMIT 1 OFFSET $1"
            ),
            Backend::Sqlite => format!(
                "SELECT 0 AS t, seq AS s FROM outbox WHERE 1 = 1{tenant_sql} \
                 ORDER BY seq DESC LIMIT 1 OFFSET $1"
            ),
        };
        let row = self.db.query_one_raw(self.stmt(&sql, values)).await?;
        Ok(match row {
            Some(r) => FeedCursor {
                tx: r.try_get::<i64>("", "t")?,
                seq: r.try_get::<i64>("", "s")?,
            },
            None => FeedCursor::default(),
        })
    }

    /// Committed rows after `cursor` in commit order, each with its own cursor and whether it
    /// is final (see the module documentation).
    async fn feed_rows(
        &self,
        cursor: FeedCursor,
        tenant: Option<TenantId>,
        limit: u64,
    ) -> Result<Vec<(FeedCursor, bool, StoredEvent)>, StoreError> {
        use sea_orm::ConnectionTrait;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let sql = match (self.backend, tenant.is_some()) {
            (Backend::Postgres, t) => format!(
                "SELECT o.*, o.tx_id AS feed_tx, (o.tx_id < x.xmin) AS feed_final \
                 FROM outbox o, \
                      (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin) x \
                 WHERE (o.tx_id, o.seq) > ($1, $2){} \
                 ORDER BY o.tx_id, o.seq LIMIT $3",
                if t { " AND o.tenant_id = $4" } else { "" }
            ),
            (Backend::Sqlite, t) => format!(
                "SELECT *, 0 AS feed_tx, 1 AS feed_final FROM outbox \
                 WHERE $1 = $1 AND seq > $2{} ORDER BY seq LIMIT $3",
                if t { " AND tenant_id = $4" } else { "" }
            ),
        };
        let mut values = vec![
            Value::from(cursor.tx),
            Value::from(cursor.seq),
            Value::from(limit),
        ];
        if let Some(t) = tenant {
            values.push(Value::from(t.as_uuid()));
        }
        let rows = self.db.query_all_raw(self.stmt(&sql, values)).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let tx = r.try_get::<i64>("", "feed_tx")?;
            let is_final = match self.backend {
                Backend::Postgres => r.try_get::<bool>("", "feed_final")?,
                Backend::Sqlite => true,
            };
            let model = outbox::Model::from_query_result(&r, "")?;
            let seq = model.seq;
            out.push((
                FeedCursor { tx, seq },
                is_final,
                stored_event_from_row(model)?,
            ));
        }
        Ok(out)
    }

    /// Subscribes to commit notifications (PostgreSQL); `None` on SQLite, which polls.
    pub async fn listen(&self) -> Result<Option<Listener>, StoreError> {
        if self.backend != Backend::Postgres {
            return Ok(None);
        }
        let pool = self.db.get_postgres_connection_pool();
        let mut l = sea_orm::sqlx::postgres::PgListener::connect_with(pool)
            .await
            .map_err(sqlx_err)?;
        l.listen(CHANNEL).await.map_err(sqlx_err)?;
        Ok(Some(Listener(l)))
    }
}

fn sqlx_err(e: sea_orm::sqlx::Error) -> StoreError {
    let text = crate::error::one_line(&e.to_string());
    if crate::error::sqlx_connection_level(&e) {
        StoreError::Unavailable(text)
    } else {
        StoreError::Db(text)
    }
}

/// A PostgreSQL `LISTEN rustok_outbox` connection.
pub struct Listener(sea_orm::sqlx::postgres::PgListener);

impl Listener {
    /// Waits for the next commit notification: `Ok(true)`; `Ok(false)` when the connection was
    /// lost and re-established (notifications may have been missed: poll); `Err` when the
    /// server cannot be reached.
    pub async fn recv(&mut self) -> Result<bool, StoreError> {
        Ok(self.0.try_recv().await.map_err(sqlx_err)?.is_some())
    }
}
