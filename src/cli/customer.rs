//! `customer`: the tenant's customers as their orders tell — `list` (email, orders, lifetime
//! value net of refunds, last order) and `show EMAIL` (the same, with their orders). Reads
//! need `order:read` (support reads them; editors do not), checked by the read service.

use super::output::{cell, emit, table, time};
use super::{CliError, Ctx};
use clap::Subcommand;
use rustok_domain::read::Customer;
use rustok_domain::text::printable;
use rustok_domain::{DomainError, NumberFormat};

#[derive(Debug, Subcommand)]
pub enum CustomerCmd {
    /// List customers (email, orders, lifetime value net of refunds, last order), who ordered last first
    List {
        /// Rows to show, 1 to 1,000,000
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=crate::input::MAX_LIST_LIMIT))]
        limit: u64,
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=crate::input::MAX_OFFSET))]
        offset: u64,
    },
    /// Show a customer by email (case ignored) with their orders, newest first
    Show {
        email: String,
        /// Orders to show, 1 to 1,000,000
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=crate::input::MAX_LIST_LIMIT))]
        limit: u64,
    },
}

/// `1,212.50 USD` or `12.50 USD + 3.00 EUR` (grouped as the tenant's locale writes money);
/// `-` for nothing.
fn amounts(value: &[rustok_domain::Money], money: NumberFormat) -> String {
    if value.is_empty() {
        return "-".into();
    }
    value
        .iter()
        .map(|m| m.format(money))
        .collect::<Vec<_>>()
        .join(" + ")
}

fn customer_table(rows: &[Customer], money: NumberFormat) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|c| {
            vec![
                cell(&c.email, 254),
                c.orders.to_string(),
                amounts(&c.lifetime_value, money),
                time(&c.last_order_at),
            ]
        })
        .collect();
    table(&["EMAIL", "ORDERS", "LIFETIME VALUE", "LAST ORDER"], &rows)
}

pub async fn run(ctx: &Ctx, cmd: &CustomerCmd) -> Result<(), CliError> {
    let tenant = ctx.tenant().await?;
    let money = NumberFormat::of(&tenant.default_locale);
    match cmd {
        CustomerCmd::List { limit, offset } => {
            let page = ctx
                .reads
                .customers(tenant.id, *offset, (*limit).max(1))
                .await?;
            emit(ctx.json, &page.rows, || {
                if page.rows.is_empty() {
                    return "no customers".into();
                }
                let mut s = customer_table(&page.rows, money);
                let shown = page.rows.len() as u64;
                if shown < page.total {
                    s.push_str(&format!(
                        "\n({shown} of {} shown; use --offset/--limit for more)",
                        page.total
                    ));
                }
                s
            });
            Ok(())
        }
        CustomerCmd::Show { email, limit } => {
            let detail = ctx
                .reads
                .customer(tenant.id, email, 0, (*limit).max(1))
                .await?
                .ok_or_else(|| {
                    DomainError::not_found(
                        "customer",
                        printable(&rustok_domain::text::excerpt(email, 254)),
                    )
                })?;
            emit(ctx.json, &detail, || {
                let c = &detail.customer;
                let mut s = format!(
                    "customer {}\norders {}  lifetime value {}  last order {}\n\n",
                    cell(&c.email, 254),
                    c.orders,
                    amounts(&c.lifetime_value, money),
                    time(&c.last_order_at)
                );
                s.push_str(&super::commerce::order_table(
                    &detail.order_list.rows,
                    money,
                ));
                let shown = detail.order_list.rows.len() as u64;
                if shown < detail.order_list.total {
                    s.push_str(&format!(
                        "\n({shown} of {} orders shown; use --limit for more)",
                        detail.order_list.total
                    ));
                }
                s
            });
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::amounts;
    use rustok_domain::{Currency, Locale, Money, NumberFormat};

    #[test]
    fn lifetime_values_are_written_as_the_tenant_locale_writes_money() {
        let en = NumberFormat::of(&"en".parse::<Locale>().unwrap());
        let de = NumberFormat::of(&"de".parse::<Locale>().unwrap());
        let value = [
            Money::new(123_450, Currency::USD),
            Money::new(300, Currency::EUR),
        ];
        assert_eq!(amounts(&value, en), "1,234.50 USD + 3.00 EUR");
        assert_eq!(amounts(&value, de), "1.234,50 USD + 3,00 EUR");
        assert_eq!(amounts(&[], en), "-");
    }
}
