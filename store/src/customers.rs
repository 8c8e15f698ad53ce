//! Customers and refunds, read from the orders (issue 21). A customer is the email address
//! orders were placed under (case ignored): how many orders, what they paid net of refunds
//! (captured − refunded, per currency) and when they last ordered. An order's refunds are the
//! `order_refunds` rows its `payment.refunded` events wrote. Every query is the tenant's only.

use crate::commerce::money_of;
use crate::rows::sql_window;
use crate::{OrderFilter, Store, StoreError};
use chrono::{DateTime, Utc};
use rustok_domain::commerce::validate_email;
use rustok_domain::read::{Customer, CustomerDetail, Page, Refund, add_money};
use rustok_domain::{EventId, Money, OrderId, TenantId};
use sea_orm::{ConnectionTrait, Value};

/// What a customer's orders add up to, per email (lowercased) — one row per currency.
const AGGREGATE: &str = "SELECT LOWER(customer) AS email, currency, COUNT(*) AS n,
        CAST(SUM(CASE WHEN paid_at IS NOT NULL AND payment_reference IS NOT NULL
                      THEN total_amount ELSE 0 END - refunded_amount) AS BIGINT) AS amount,
        MAX(placed_at) AS last_order_at
     FROM orders WHERE tenant_id = $1 AND customer IS NOT NULL";

impl Store {
    /// An order's refunds, oldest first.
    pub async fn order_refunds(
        &self,
        tenant_id: TenantId,
        id: OrderId,
    ) -> Result<Vec<Refund>, StoreError> {
        let rows = self
            .db
            .query_all_raw(self.stmt(
                "SELECT id, order_id, amount, currency, reason, refunded_at
                 FROM order_refunds WHERE tenant_id = $1 AND order_id = $2
                 ORDER BY refunded_at, id",
                vec![tenant_id.as_uuid().into(), id.as_uuid().into()],
            ))
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Refund {
                    id: EventId::from_uuid(r.try_get("", "id")?),
                    order_id: OrderId::from_uuid(r.try_get("", "order_id")?),
                    amount: money_of(r)?,
                    reason: r.try_get("", "reason")?,
                    at: r.try_get("", "refunded_at")?,
                })
            })
            .collect()
    }

    /// A window of the tenant's customers, who ordered last first, with how many there are.
    pub async fn customers(
        &self,
        tenant_id: TenantId,
        offset: u64,
        limit: u64,
    ) -> Result<Page<Customer>, StoreError> {
        let tenant: Value = tenant_id.as_uuid().into();
        let total = self
            .db
            .query_one_raw(self.stmt(
                "SELECT COUNT(DISTINCT LOWER(customer)) AS n FROM orders
                 WHERE tenant_id = $1 AND customer IS NOT NULL",
                vec![tenant.clone()],
            ))
            .await?
            .map(|r| r.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0);
        let limit = if limit == 0 { 100 } else { limit };
        let page = self
            .db
            .query_all_raw(self.stmt(
                "SELECT LOWER(customer) AS email, MAX(placed_at) AS last_order_at FROM orders
                 WHERE tenant_id = $1 AND customer IS NOT NULL
                 GROUP BY LOWER(customer)
                 ORDER BY last_order_at DESC, email LIMIT $2 OFFSET $3",
                vec![
                    tenant.clone(),
                    i64::try_from(sql_window(limit)).unwrap_or(i64::MAX).into(),
                    i64::try_from(sql_window(offset)).unwrap_or(i64::MAX).into(),
                ],
            ))
            .await?;
        let emails: Vec<String> = page
            .iter()
            .map(|r| r.try_get::<String>("", "email"))
            .collect::<Result<_, _>>()?;
        let mut rows = Vec::with_capacity(emails.len());
        if !emails.is_empty() {
            // The page's customers, aggregated: one query, `$2…` their emails.
            let marks: Vec<String> = (2..emails.len() + 2).map(|i| format!("${i}")).collect();
            let mut values = vec![tenant];
            values.extend(emails.iter().map(|e| Value::from(e.clone())));
            let found = self
                .aggregate(
                    &format!(
                        "{AGGREGATE} AND LOWER(customer) IN ({})
                         GROUP BY LOWER(customer), currency",
                        marks.join(", ")
                    ),
                    values,
                )
                .await?;
            for email in &emails {
                if let Some(c) = found.iter().find(|c| &c.email == email) {
                    rows.push(c.clone());
                }
            }
        }
        Ok(Page {
            total: u64::try_from(total).unwrap_or(0),
            offset,
            rows,
        })
    }

    /// One customer (`email`, case ignored) with a window of their orders, newest first;
    /// `None` when the tenant has no order under that address.
    pub async fn customer(
        &self,
        tenant_id: TenantId,
        email: &str,
        offset: u64,
        limit: u64,
    ) -> Result<Option<CustomerDetail>, StoreError> {
        let email = validate_email(email)?.to_lowercase();
        let found = self
            .aggregate(
                &format!("{AGGREGATE} AND LOWER(customer) = $2 GROUP BY LOWER(customer), currency"),
                vec![tenant_id.as_uuid().into(), email.clone().into()],
            )
            .await?;
        let Some(customer) = found.into_iter().next() else {
            return Ok(None);
        };
        let filter = OrderFilter {
            customer: Some(email),
            offset,
            limit,
            ..Default::default()
        };
        let order_list = self.list_orders(tenant_id, &filter).await?;
        Ok(Some(CustomerDetail {
            customer,
            order_list,
        }))
    }

    /// Runs an [`AGGREGATE`] query and folds its per-currency rows into one customer each.
    async fn aggregate(&self, sql: &str, values: Vec<Value>) -> Result<Vec<Customer>, StoreError> {
        let rows = self.db.query_all_raw(self.stmt(sql, values)).await?;
        let mut out: Vec<Customer> = Vec::new();
        for r in &rows {
            let email: String = r.try_get("", "email")?;
            let n = u64::try_from(r.try_get::<i64>("", "n")?).unwrap_or(0);
            let value: Money = money_of(r)?;
            let last: DateTime<Utc> = r.try_get("", "last_order_at")?;
            match out.iter_mut().find(|c| c.email == email) {
                Some(c) => {
                    c.orders += n;
                    add_money(&mut c.lifetime_value, value);
                    c.last_order_at = c.last_order_at.max(last);
                }
                None => out.push(Customer {
                    email,
                    orders: n,
                    lifetime_value: vec![value],
                    last_order_at: last,
                }),
            }
        }
        Ok(out)
    }
}
