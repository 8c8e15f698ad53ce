//! The command log: every committed command's id and outcome, written inside the command's own
//! transaction. When a connection drops during `COMMIT` the caller cannot know whether the
//! command was applied; retrying it under the same command id then finds the log row (it
//! committed: the recorded outcome is returned, nothing is applied again) or does not (it
//! rolled back: the command runs now). Either way it is applied exactly once.

use crate::writes::Writes;
use crate::{StoreError, backend_of, stmt};
use chrono::{DateTime, Utc};
use rustok_domain::CommandEnvelope;
use rustok_domain::read::Applied;
use sea_orm::{ConnectionTrait, Value};

/// The outcome recorded for this command id, if it already committed.
pub(crate) async fn recorded(
    c: &impl ConnectionTrait,
    env: &CommandEnvelope,
) -> Result<Option<Applied>, StoreError> {
    let row = c
        .query_one_raw(stmt(
            backend_of(c),
            "SELECT applied FROM command_log WHERE command_id = $1",
            vec![Value::from(env.id.as_uuid())],
        ))
        .await?;
    match row {
        Some(r) => {
            let text = r.try_get::<String>("", "applied")?;
            serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| crate::error::corrupt("command log", e))
        }
        None => Ok(None),
    }
}

/// Records a command's outcome in the caller's transaction.
pub(crate) async fn record(
    w: &mut Writes<'_>,
    env: &CommandEnvelope,
    applied: &Applied,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let text =
        serde_json::to_string(applied).map_err(|e| crate::error::corrupt("command log", e))?;
    let insert = stmt(
        backend_of(w.txn()),
        "INSERT INTO command_log (command_id, command, applied, committed_at) \
         VALUES ($1, $2, $3, $4)",
        vec![
            Value::from(env.id.as_uuid()),
            Value::from(env.command.name()),
            Value::from(text),
            Value::from(now),
        ],
    );
    w.write(insert, || format!("command {}", env.id)).await
}

impl crate::Store {
    /// The recorded outcome of a command that already committed (for a caller retrying after
    /// a connection error), or `None` if it never committed.
    pub async fn command_outcome(
        &self,
        env: &CommandEnvelope,
    ) -> Result<Option<Applied>, StoreError> {
        recorded(&self.db, env).await
    }
}
