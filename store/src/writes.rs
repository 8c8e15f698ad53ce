//! The writes of one command's transaction, and the transaction itself.
//!
//! A command's transaction is a sea-orm transaction on PostgreSQL and, on SQLite, the writer
//! connection's handle run on the command's own thread ([`crate::local`]): [`Tx`] is either,
//! and the store's command code is written once against it. Each write is executed at once
//! and reports its own error (which key was taken, which version was stale).

use crate::StoreError;
use crate::local::Local;
use crate::uow::map_unique;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult,
    QueryResult, Statement, TransactionOptions, TransactionTrait,
};

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
