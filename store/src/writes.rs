//! The writes of one command's transaction.
//!
//! On SQLite every statement is a round trip to the driver's worker thread, and a command's
//! writes (its rows, its outbox events, its command-log and audit rows) are most of its
//! statements. So on SQLite they are held back and sent together, as one multi-statement
//! round trip, just before the transaction commits — or before the command next reads, so a
//! read always sees the command's own writes. Guarded updates (the optimistic locks) carry
//! `RETURNING 1`, and the batch must return one row per guard.
//!
//! When a held-back batch fails — a unique key taken, a guard that matched nothing — the
//! transaction rolls back and the command is run again with every write executed at once
//! ([`Writes::immediate`]), which reports the precise error (which key, which version). The
//! same mode is used on PostgreSQL, whose prepared statements hold one statement each.

use crate::uow::map_unique;
use crate::{Backend, StoreError, backend_of};
use sea_orm::{ConnectionTrait, DatabaseTransaction, Statement, Value};

pub(crate) struct Writes<'t> {
    txn: &'t DatabaseTransaction,
    held: Option<Held>,
    /// Set when a held-back batch failed: the caller runs the command again, immediately.
    batch_failed: bool,
}

#[derive(Default)]
struct Held {
    sql: String,
    values: Vec<Value>,
    /// Guarded updates in `sql`; each returns one row when its guard holds.
    guards: usize,
}

impl<'t> Writes<'t> {
    /// Writes held back and sent together (SQLite), or executed at once (PostgreSQL).
    pub(crate) fn batched(txn: &'t DatabaseTransaction) -> Self {
        let batch = backend_of(txn) == Backend::Sqlite;
        Writes {
            txn,
            held: batch.then(Held::default),
            batch_failed: false,
        }
    }

    /// Every write executed at once, its own error reported as such.
    pub(crate) fn immediate(txn: &'t DatabaseTransaction) -> Self {
        Writes {
            txn,
            held: None,
            batch_failed: false,
        }
    }

    /// Whether a held-back batch failed (then the command's error is not precise: run it
    /// again with [`Writes::immediate`]).
    pub(crate) fn batch_failed(&self) -> bool {
        self.batch_failed
    }

    /// The transaction, to build statements for (or to read from when nothing has been
    /// written yet, or when what was written does not matter to the read).
    pub(crate) fn txn(&self) -> &'t DatabaseTransaction {
        self.txn
    }

    /// The transaction, for a read or a write not made through `Writes`: the held-back
    /// writes are sent first, so it sees them.
    pub(crate) async fn conn(&mut self) -> Result<&'t DatabaseTransaction, StoreError> {
        self.flush().await?;
        Ok(self.txn)
    }

    /// An insert, upsert or delete. `dup` names what a unique-key violation means (reported
    /// as a duplicate when executed at once).
    pub(crate) async fn write(
        &mut self,
        stmt: Statement,
        dup: impl FnOnce() -> String,
    ) -> Result<(), StoreError> {
        match &mut self.held {
            Some(held) => {
                held.push(stmt, false);
                Ok(())
            }
            None => {
                self.txn
                    .execute_raw(stmt)
                    .await
                    .map_err(|e| map_unique(e, dup))?;
                Ok(())
            }
        }
    }

    /// A guarded update that must change exactly one row. Returns whether it did when
    /// executed at once; held back, it answers `true` and the batch checks the guard.
    pub(crate) async fn update_one(&mut self, stmt: Statement) -> Result<bool, StoreError> {
        match &mut self.held {
            Some(held) => {
                held.push(stmt, true);
                Ok(true)
            }
            None => Ok(self.txn.execute_raw(stmt).await?.rows_affected() == 1),
        }
    }

    /// Sends the held-back writes.
    pub(crate) async fn flush(&mut self) -> Result<(), StoreError> {
        let Some(held) = self.held.as_mut() else {
            return Ok(());
        };
        if held.sql.is_empty() {
            return Ok(());
        }
        let Held {
            sql,
            values,
            guards,
        } = std::mem::take(held);
        let stmt = Statement::from_sql_and_values(sea_orm::DbBackend::Sqlite, sql, values);
        match self.txn.query_all_raw(stmt).await {
            Ok(rows) if rows.len() == guards => Ok(()),
            Ok(rows) => {
                self.batch_failed = true;
                Err(StoreError::Db(format!(
                    "{} of {guards} guarded updates matched",
                    rows.len()
                )))
            }
            Err(e) => {
                self.batch_failed = true;
                Err(e.into())
            }
        }
    }
}

impl Held {
    fn push(&mut self, stmt: Statement, guarded: bool) {
        let values = stmt.values.map(|v| v.0).unwrap_or_default();
        let (sql, values) = sequential(&stmt.sql, &values);
        if !self.sql.is_empty() {
            self.sql.push_str(";\n");
        }
        self.sql.push_str(&sql);
        if guarded {
            self.sql.push_str(" RETURNING 1");
            self.guards += 1;
        }
        self.values.extend(values);
    }
}

/// Rewrites one SQLite statement's parameters (`?` in order, or `?N`) as plain `?`s with the
/// values in the order they appear, so statements can be joined into one text over one list
/// of values (the driver binds each statement's `?`s from where the previous one stopped).
/// Quoted strings and identifiers are copied untouched.
fn sequential(sql: &str, values: &[Value]) -> (String, Vec<Value>) {
    let mut out = String::with_capacity(sql.len());
    let mut ordered = Vec::with_capacity(values.len());
    let mut next = 0usize;
    let mut chars = sql.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            out.push(c);
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' | '`' => {
                quote = Some(c);
                out.push(c);
            }
            '?' => {
                let mut n = 0usize;
                let mut numbered = false;
                while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
                    n = n.saturating_mul(10).saturating_add(d as usize);
                    numbered = true;
                    chars.next();
                }
                if !numbered {
                    next += 1;
                    n = next;
                }
                // (A number past the values binds NULL, as SQLite does for an unbound one.)
                ordered.push(
                    n.checked_sub(1)
                        .and_then(|i| values.get(i))
                        .cloned()
                        .unwrap_or(Value::String(None)),
                );
                out.push('?');
            }
            c => out.push(c),
        }
    }
    (out, ordered)
}

#[cfg(test)]
mod tests {
    use super::sequential;
    use sea_orm::Value;

    fn v(n: i64) -> Value {
        Value::BigInt(Some(n))
    }

    #[test]
    fn placeholders_become_plain_with_values_in_the_order_they_appear() {
        assert_eq!(
            sequential("INSERT INTO t (a, b) VALUES (?, ?)", &[v(1), v(2)]),
            (
                "INSERT INTO t (a, b) VALUES (?, ?)".to_string(),
                vec![v(1), v(2)]
            )
        );
        assert_eq!(
            sequential("UPDATE t SET a = ?2, c = ?2 WHERE b = ?1", &[v(1), v(2)]),
            (
                "UPDATE t SET a = ?, c = ? WHERE b = ?".to_string(),
                vec![v(2), v(2), v(1)]
            )
        );
    }

    #[test]
    fn quoted_text_is_left_alone() {
        assert_eq!(
            sequential("SELECT '?1', \"a?\" FROM t WHERE x = ?1", &[v(7)]),
            (
                "SELECT '?1', \"a?\" FROM t WHERE x = ?".to_string(),
                vec![v(7)]
            )
        );
    }
}
