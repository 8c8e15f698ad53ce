//! Where and how the store writes: the writer connection ([`Store::writing`]), transactions
//! on it ([`Tx::transaction`], [`Store::in_transaction`]), and the writes of one command's
//! transaction ([`Writes`]).
//!
//! A command's transaction is a sea-orm transaction on PostgreSQL and, on SQLite, the writer
//! connection's handle run on the command's own thread ([`crate::local`]): [`Tx`] is either,
//! and the store's command code is written once against it. Each write is executed at once
//! and reports its own error (which key was taken, which version was stale).
//!
//! Everything that writes (the unit of work, the relay's claims and marks, housekeeping, the
//! owner's bootstrap) goes through here; nothing here knows about commands.

use crate::error::map_unique;
use crate::local::Local;
use crate::{Backend, Store, StoreError};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult,
    QueryResult, QueryTrait, Statement, TransactionOptions, TransactionTrait,
};

/// The statement a query builder makes, for the transaction's backend.
pub(crate) fn build(c: &impl ConnectionTrait, q: impl QueryTrait) -> Statement {
    q.build(c.get_database_backend())
}

impl Store {
    /// After a write met a read-only database: no connection opened before now is handed out
    /// again (each is closed when next taken from its pool, see `fence.rs`), and the idle ones
    /// are closed at once. New connections are opened on demand, writable if the database is
    /// (an SQLite file made writable again; a PostgreSQL database no longer
    /// `default_transaction_read_only`; an SQLite file's writer connection is opened again when
    /// next used). Callers that meet `StoreError::ReadOnly` use it.
    pub async fn forget_read_only_connections(&self) {
        self.fence.raise();
        match self.backend {
            Backend::Sqlite => {
                let pool = self.db.get_sqlite_connection_pool();
                while let Some(c) = pool.try_acquire() {
                    let _ = c.close().await;
                }
            }
            Backend::Postgres => {
                let pool = self.db.get_postgres_connection_pool();
                while let Some(c) = pool.try_acquire() {
                    let _ = c.close().await;
                }
            }
        }
    }

    /// Runs `f` in one transaction where the store writes (see [`Store::writing`]).
    pub(crate) async fn in_transaction<T>(
        &self,
        f: impl AsyncFnOnce(&Tx<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.writing(async |w: &Tx<'_>| w.transaction(f).await)
            .await
    }

    /// Runs `f` where the store writes. On an SQLite file, that is the store's own writer
    /// connection, used on this thread (see `local.rs`; its writes are made in
    /// [`Tx::transaction`]s, whose wait for another process's lock is asynchronous); on an
    /// in-memory SQLite database, the pool's one connection, its handle taken out of sqlx's
    /// worker thread; on PostgreSQL, the pool.
    pub(crate) async fn writing<T>(
        &self,
        f: impl AsyncFnOnce(&Tx<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if let Some(writer) = &self.local {
            let mut conn = writer.conn.lock().await;
            // Opened on first use, and again after a read-only error met it (see `fence.rs`).
            if conn.as_ref().is_none_or(|c| !self.fence.admits(c.age())) {
                *conn = None;
                *conn = Some(Local::open(&writer.path)?);
            }
            let local = conn
                .as_mut()
                .ok_or_else(|| StoreError::Db("the writer connection is closed".into()))?;
            // (A caller dropped while its transaction was open leaves nothing behind.)
            local.rollback();
            return f(&Tx::Local(local)).await;
        }
        if self.backend == Backend::Postgres {
            return f(&Tx::Pool(&self.writer)).await;
        }
        let pool = self.writer.get_sqlite_connection_pool();
        let mut conn = pool.acquire().await.map_err(crate::error::sqlx_err)?;
        let mut handle = conn.lock_handle().await.map_err(crate::error::sqlx_err)?;
        // SAFETY: the handle is the pooled connection's open `sqlite3*`; while `handle` (the
        // lock taken from sqlx's worker thread) is held, that thread makes no call on it, so
        // this one is its only user. `local` is declared after `handle` and so dropped before
        // it: the lock outlives the rusqlite connection, which never closes the handle.
        let local = unsafe { Local::new(handle.as_raw_handle().as_ptr()) }?;
        if !local.is_autocommit() {
            return Err(StoreError::Db(
                "the writer connection is still inside a transaction".into(),
            ));
        }
        f(&Tx::Local(&local)).await
    }
}

/// Where the store writes: the writer pool (PostgreSQL), a transaction opened on it, or the
/// SQLite connection used on this thread.
#[derive(Clone, Copy)]
pub(crate) enum Tx<'t> {
    Pool(&'t DatabaseConnection),
    Sea(&'t DatabaseTransaction),
    Local(&'t Local),
}

impl Tx<'_> {
    /// Runs `f` in one transaction, committed if `f` succeeds and rolled back otherwise. On
    /// SQLite it takes the write lock up front (`BEGIN IMMEDIATE`), so two writers never
    /// deadlock on a lock upgrade; on the store's own writer connection, waiting for that lock
    /// while another process holds it does not hold up a thread (see
    /// [`Local::begin_immediate`]).
    pub(crate) async fn transaction<T>(
        &self,
        f: impl AsyncFnOnce(&Tx<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let txn = match self {
            Tx::Local(l) => {
                l.begin_immediate().await?;
                let done = match f(self).await {
                    Ok(v) => l.batch("COMMIT").map(|()| v).map_err(StoreError::from),
                    Err(e) => Err(e),
                };
                if done.is_err() {
                    l.rollback();
                }
                return done;
            }
            Tx::Pool(db) => {
                let options = TransactionOptions {
                    sqlite_transaction_mode: (db.get_database_backend() == DbBackend::Sqlite)
                        .then_some(sea_orm::SqliteTransactionMode::Immediate),
                    ..Default::default()
                };
                db.begin_with_options(options).await?
            }
            Tx::Sea(t) => t.begin().await?,
        };
        match f(&Tx::Sea(&txn)).await {
            Ok(v) => {
                txn.commit().await?;
                Ok(v)
            }
            Err(e) => {
                let _ = txn.rollback().await;
                Err(e)
            }
        }
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Tx<'_> {
    fn get_database_backend(&self) -> DbBackend {
        match self {
            Tx::Pool(p) => p.get_database_backend(),
            Tx::Sea(t) => t.get_database_backend(),
            Tx::Local(l) => l.get_database_backend(),
        }
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match self {
            Tx::Pool(p) => p.execute_raw(stmt).await,
            Tx::Sea(t) => t.execute_raw(stmt).await,
            Tx::Local(l) => l.execute_raw(stmt).await,
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match self {
            Tx::Pool(p) => p.execute_unprepared(sql).await,
            Tx::Sea(t) => t.execute_unprepared(sql).await,
            Tx::Local(l) => l.execute_unprepared(sql).await,
        }
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match self {
            Tx::Pool(p) => p.query_one_raw(stmt).await,
            Tx::Sea(t) => t.query_one_raw(stmt).await,
            Tx::Local(l) => l.query_one_raw(stmt).await,
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match self {
            Tx::Pool(p) => p.query_all_raw(stmt).await,
            Tx::Sea(t) => t.query_all_raw(stmt).await,
            Tx::Local(l) => l.query_all_raw(stmt).await,
        }
    }
}

pub(crate) struct Writes<'t> {
    txn: &'t Tx<'t>,
}

impl<'t> Writes<'t> {
    pub(crate) fn new(txn: &'t Tx<'t>) -> Self {
        Writes { txn }
    }

    /// The transaction, to build statements for and to read from.
    pub(crate) fn txn(&self) -> &'t Tx<'t> {
        self.txn
    }

    /// An insert, upsert or delete. `dup` names what a unique-key violation means (reported
    /// as a duplicate).
    pub(crate) async fn write(
        &mut self,
        stmt: Statement,
        dup: impl FnOnce() -> String,
    ) -> Result<(), StoreError> {
        self.txn
            .execute_raw(stmt)
            .await
            .map_err(|e| map_unique(e, dup))?;
        Ok(())
    }

    /// A guarded update that must change exactly one row. Returns whether it did.
    pub(crate) async fn update_one(&mut self, stmt: Statement) -> Result<bool, StoreError> {
        Ok(self.txn.execute_raw(stmt).await?.rows_affected() == 1)
    }
}
