//! What the security audit reads from the database: staff, tenants with their isolation
//! probe, outbox and audit-log facts, events failing validation. The caller adds what lives
//! outside the database (file permissions, settings) and runs the pure checks.

use crate::entity::outbox;
use crate::{Backend, Store, StoreError};
use chrono::{DateTime, Duration, Utc};
use rustok_domain::audit::{
    AuditInput, AuditLogFacts, AuditOutcome, DatabaseFacts, OutboxFacts, SecurityConfig,
    TenantFacts,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::HashMap;
use uuid::Uuid;

/// At most this many of the newest events are validated (the check says so in its evidence
/// by counting only what it read).
pub const VALIDATE_NEWEST_EVENTS: u64 = 10_000;

/// Rows of one tenant that refer to another tenant's rows.
const CROSS_TENANT: &[&str] = &[
    "SELECT t.tenant_id AS tid, COUNT(*) AS n FROM node_translations t JOIN nodes p ON p.id = t.node_id WHERE p.tenant_id <> t.tenant_id GROUP BY t.tenant_id",
    "SELECT t.tenant_id AS tid, COUNT(*) AS n FROM product_translations t JOIN products p ON p.id = t.product_id WHERE p.tenant_id <> t.tenant_id GROUP BY t.tenant_id",
    "SELECT t.tenant_id AS tid, COUNT(*) AS n FROM variants t JOIN products p ON p.id = t.product_id WHERE p.tenant_id <> t.tenant_id GROUP BY t.tenant_id",
    "SELECT t.tenant_id AS tid, COUNT(*) AS n FROM order_items t JOIN orders p ON p.id = t.order_id WHERE p.tenant_id <> t.tenant_id GROUP BY t.tenant_id",
];

impl Store {
    async fn count_sql(&self, sql: &str) -> Result<u64, StoreError> {
        let row = self.db.query_one_raw(self.stmt(sql, vec![])).await?;
        Ok(match row {
            Some(r) => r.try_get::<i64>("", "n")?.max(0) as u64,
            None => 0,
        })
    }

    /// The database's part of the audit snapshot. `url` is the URL connected to (its
    /// password is removed here); file modes are the caller's to fill in.
    pub async fn audit_input(
        &self,
        url: &str,
        config: SecurityConfig,
        now: DateTime<Utc>,
    ) -> Result<AuditInput, StoreError> {
        let staff = self.staff_list().await?;
        let active: std::collections::HashSet<&str> = staff
            .iter()
            .filter(|s| s.active)
            .map(|s| s.handle.as_str())
            .collect();

        // Who acted (successfully) in which tenant.
        let rows = self
            .db
            .query_all_raw(self.stmt(
                "SELECT DISTINCT tenant_id, actor FROM audit_log WHERE outcome = $1",
                vec![AuditOutcome::Ok.as_str().into()],
            ))
            .await?;
        let mut acted: HashMap<Uuid, u32> = HashMap::new();
        for r in rows {
            let tid: Uuid = r.try_get("", "tenant_id")?;
            let actor: String = r.try_get("", "actor")?;
            if active.contains(actor.as_str()) {
                *acted.entry(tid).or_default() += 1;
            }
        }
        let mut cross: HashMap<Uuid, u64> = HashMap::new();
        let mut probe_ok = true;
        for sql in CROSS_TENANT {
            match self.db.query_all_raw(self.stmt(sql, vec![])).await {
                Ok(rows) => {
                    for r in rows {
                        let tid: Uuid = r.try_get("", "tid")?;
                        let n: i64 = r.try_get("", "n")?;
                        *cross.entry(tid).or_default() += n.max(0) as u64;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "tenant isolation probe failed");
                    probe_ok = false;
                }
            }
        }
        let tenants = self
            .tenants()
            .await?
            .into_iter()
            .map(|t| TenantFacts {
                active_staff: acted.get(&t.id.as_uuid()).copied().unwrap_or(0),
                cross_tenant_rows: cross.get(&t.id.as_uuid()).copied().unwrap_or(0),
                isolation_checked: probe_ok,
                slug: t.slug,
                name: t.name,
                is_active: t.is_active,
            })
            .collect();

        let counts = self.outbox_counts(None).await?;
        let stale_pending = outbox::Entity::find()
            .filter(outbox::Column::Status.eq("pending"))
            .filter(outbox::Column::OccurredAt.lt(now - Duration::minutes(5)))
            .count(&self.db)
            .await?;
        let events_total = outbox::Entity::find().count(&self.db).await?;

        // Validate the newest events as stored.
        let newest = outbox::Entity::find()
            .order_by_desc(outbox::Column::Seq)
            .limit(VALIDATE_NEWEST_EVENTS)
            .all(&self.db)
            .await?;
        let invalid_events = newest
            .into_iter()
            .filter(|m| match crate::rows::stored_event_from_row(m.clone()) {
                Ok(e) => e.envelope.validate().is_err(),
                Err(_) => true,
            })
            .count() as u64;
        let events_by_unknown_actor = self
            .count_sql(
                "SELECT COUNT(*) AS n FROM outbox WHERE actor NOT IN (SELECT handle FROM staff)",
            )
            .await?;

        // Stored text holding ESC (the start of every terminal escape sequence).
        let has_esc = |col: &str| match self.backend {
            Backend::Sqlite => format!("instr(coalesce({col}, ''), char(27)) > 0"),
            Backend::Postgres => format!("strpos(coalesce({col}, ''), chr(27)) > 0"),
        };
        let suspicious_text = self
            .count_sql(&format!(
                "SELECT COUNT(*) AS n FROM node_translations WHERE {} OR {}",
                has_esc("title"),
                has_esc("excerpt")
            ))
            .await?
            + self
                .count_sql(&format!(
                    "SELECT COUNT(*) AS n FROM product_translations WHERE {}",
                    has_esc("title")
                ))
                .await?;

        let mut database = DatabaseFacts::from_url(url);
        database.url = crate::redact_url(url);
        Ok(AuditInput {
            staff,
            tenants,
            database,
            config,
            outbox: OutboxFacts {
                pending: counts.pending,
                failed: counts.failed,
                stale_pending,
            },
            invalid_events,
            events_by_unknown_actor,
            events_total,
            audit_log: AuditLogFacts {
                entries: self.audit_count(None, None).await?,
                denied_last_day: self
                    .audit_count(Some(AuditOutcome::Denied), Some(now - Duration::hours(24)))
                    .await?,
            },
            suspicious_text,
        })
    }
}
