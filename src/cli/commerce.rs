//! `product`, `inventory` and `order`: the catalog, stock and the order pipeline.
//!
//! Prices are parsed exactly (`--price 19.99` is 1999 minor units, never a float); a price of
//! 0 is a free item, and an order whose total is 0 is paid without charging a card. Order
//! items are `SKU:QTY` strings parsed here with the domain's quantity rule (1 to
//! 1,000,000), so a quantity of 0, -1 or 10^20 is refused with a reason (exit 1), not a usage
//! error. Paying and cancelling a paid order go
//! through the action queue, which asks the payment gateway outside any transaction.

use super::output::{cell, emit, opt_time, table, time};
use super::{CliError, Ctx};
use clap::{ArgGroup, Subcommand};
use rustok_domain::IdRef;
use rustok_domain::commerce::{
    InputKind, InventoryPolicy, MAX_LINE_QUANTITY, MAX_STOCK, Order, OrderAction, OrderDraft,
    OrderNote, OrderStatus, ProductDraft, validate_quantity,
};
use rustok_domain::read::{OrderSummary, Refund, StockRow};
use rustok_domain::text::printable;
use rustok_domain::{
    Command, Currency, DomainError, Locale, Money, NoteId, NumberFormat, OrderId, Product,
    ProductId, ProductStatus, Tenant, VariantId,
};
use rustok_store::{IdKind, OrderFilter, Outcome, ProductFilter};

#[derive(Debug, Subcommand)]
pub enum ProductCmd {
    /// Create a product with its first variant (SKU), price and stock
    Create {
        /// Unique per tenant: A-Z a-z 0-9 - _ . (up to 64)
        #[arg(long)]
        sku: String,
        /// Defaults to the SKU
        #[arg(long)]
        title: Option<String>,
        /// Decimal price, parsed exactly: 12.50, 12.5, 12; 0 for a free item
        #[arg(long, allow_negative_numbers = true)]
        price: String,
        /// ISO 4217 code, e.g. USD, EUR, JPY
        #[arg(long)]
        currency: String,
        /// Units on hand, 0 to 1,000,000,000
        #[arg(long, default_value_t = 0, allow_negative_numbers = true,
              value_parser = clap::value_parser!(i64).range(0..=MAX_STOCK))]
        stock: i64,
        /// deny (never sell more than is available) or continue (allow backorders)
        #[arg(long, default_value = "deny")]
        policy: String,
        /// Available units at or below which `inventory.low` is raised [default: 5]
        #[arg(long = "low-stock", value_name = "N", allow_negative_numbers = true,
              value_parser = clap::value_parser!(i64).range(0..=MAX_STOCK))]
        low_stock: Option<i64>,
        /// URL handle; derived from the title when absent
        #[arg(long)]
        handle: Option<String>,
        /// Locale of the title; defaults to the tenant's default locale
        #[arg(long)]
        locale: Option<String>,
        /// draft, active or archived [default: active]
        #[arg(long)]
        status: Option<String>,
    },
    /// List SKUs with their stock (on hand, reserved, available, policy, low)
    List {
        /// Only SKUs at or below their low-stock threshold
        #[arg(long)]
        low: bool,
        /// Rows to show, 1 to 1,000,000
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=crate::input::MAX_LIST_LIMIT))]
        limit: u64,
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=crate::input::MAX_OFFSET))]
        offset: u64,
    },
    /// Show a product by id or by SKU
    Show {
        #[arg(value_name = "ID_OR_SKU")]
        id_or_sku: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum InventoryCmd {
    /// Correct the units on hand of a SKU (negative to remove)
    Adjust {
        sku: String,
        /// Units to add (or remove, when negative), at most 1,000,000,000 either way
        #[arg(long, allow_negative_numbers = true, value_name = "N",
              value_parser = clap::value_parser!(i64).range(-MAX_STOCK..=MAX_STOCK))]
        by: i64,
        /// Why (recorded in the inventory.updated event)
        #[arg(long, default_value = "")]
        reason: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum OrderCmd {
    /// Place an order (status pending)
    Create {
        /// A line: SKU:QTY, QTY 1 to 1,000,000 (repeat for more lines)
        #[arg(long = "item", value_name = "SKU:QTY", allow_hyphen_values = true)]
        items: Vec<String>,
        /// The customer's email
        #[arg(long, value_name = "EMAIL")]
        customer: Option<String>,
    },
    /// Every order step the domain declares (`domain/src/commerce/steps.rs`): confirm, pay,
    /// ship, deliver, cancel, hold, release — each `rustok order <step> ID [--input …]`.
    #[command(flatten)]
    Step(OrderStepCmd),
    /// Show an order with its items, total and timestamps
    Show { id: String },
    /// List orders, newest first
    List {
        /// pending, confirmed, paid, shipped, delivered or cancelled
        #[arg(long)]
        status: Option<String>,
        /// Rows to show, 1 to 1,000,000
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=crate::input::MAX_LIST_LIMIT))]
        limit: u64,
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=crate::input::MAX_OFFSET))]
        offset: u64,
    },
    /// Find orders by SKU, customer or status (every criterion given must hold)
    #[command(group(ArgGroup::new("criteria").required(true).multiple(true).args(["sku", "customer", "status"])))]
    Search {
        #[arg(long)]
        sku: Option<String>,
        #[arg(long, value_name = "EMAIL")]
        customer: Option<String>,
        #[arg(long)]
        status: Option<String>,
        /// Rows to show, 1 to 1,000,000
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=crate::input::MAX_LIST_LIMIT))]
        limit: u64,
    },
    /// The events of an order and the stock moves it caused, oldest first
    Events { id: String },
    /// Write a note on an order's timeline; `@handle` mentions tell that staff member's open
    /// consoles at once (an unknown handle is refused with the close matches)
    Note {
        /// The order: its id, or the short id screens show
        id: String,
        /// The note, at most 2,000 characters; `@handle` mentions a staff member
        #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
        text: String,
    },
}

/// An order step as a CLI verb, built from its declaration: the subcommand is the step's name,
/// its doc the help, each declared input a `--flag` (`card_token` → `--card-token`, required
/// when the step requires it), plus `--expected-version N` (refused if the order changed
/// since: optimistic locking for scripts).
#[derive(Debug)]
pub struct OrderStepCmd {
    pub action: OrderAction,
    pub id: String,
    pub values: Vec<String>,
    pub expected_version: Option<i64>,
}

const ID_ARG: &str = "id";
const VERSION_ARG: &str = "expected_version";

impl clap::FromArgMatches for OrderStepCmd {
    fn from_arg_matches(m: &clap::ArgMatches) -> Result<Self, clap::Error> {
        Self::from_arg_matches_mut(&mut m.clone())
    }

    fn from_arg_matches_mut(m: &mut clap::ArgMatches) -> Result<Self, clap::Error> {
        let missing = || clap::Error::new(clap::error::ErrorKind::MissingSubcommand);
        let (name, mut sub) = m.remove_subcommand().ok_or_else(missing)?;
        let action = OrderAction::ALL
            .iter()
            .copied()
            .find(|a| a.as_str() == name)
            .ok_or_else(|| clap::Error::new(clap::error::ErrorKind::InvalidSubcommand))?;
        let id = sub
            .remove_one::<String>(ID_ARG)
            .ok_or_else(|| clap::Error::new(clap::error::ErrorKind::MissingRequiredArgument))?;
        let values = action
            .step()
            .inputs
            .iter()
            .map(|i| match i.kind {
                InputKind::Text => sub.remove_one::<String>(i.name).unwrap_or_default(),
                // A repeated flag: its entries as the form takes them, space-separated.
                InputKind::List => sub
                    .remove_many::<String>(i.name)
                    .map(|v| v.collect::<Vec<_>>().join(" "))
                    .unwrap_or_default(),
                // `--x` is yes, `--no-x` no, neither the input's default.
                InputKind::Flag => {
                    let yes = sub.remove_one::<bool>(i.name).unwrap_or(false);
                    let no = sub.remove_one::<bool>(&negated(i.name)).unwrap_or(false);
                    match (yes, no) {
                        (true, _) => "yes".into(),
                        (_, true) => "no".into(),
                        _ => String::new(),
                    }
                }
            })
            .collect();
        Ok(OrderStepCmd {
            action,
            id,
            values,
            expected_version: sub.remove_one::<i64>(VERSION_ARG),
        })
    }

    fn update_from_arg_matches(&mut self, m: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

impl clap::Subcommand for OrderStepCmd {
    fn augment_subcommands(cmd: clap::Command) -> clap::Command {
        OrderAction::ALL.iter().fold(cmd, |cmd, a| {
            let step = a.step();
            let mut sub = clap::Command::new(a.as_str()).about(step.doc.trim()).arg(
                clap::Arg::new(ID_ARG)
                    .required(true)
                    .value_name("ID")
                    .help("The order: its id, or the short id screens show"),
            );
            for input in step.inputs {
                let flag = input.name.replace('_', "-");
                sub = match input.kind {
                    InputKind::Text => sub.arg(
                        clap::Arg::new(input.name)
                            .long(flag)
                            .value_name(input.label.to_uppercase())
                            .help(input.help)
                            .required(input.required),
                    ),
                    InputKind::List => sub.arg(
                        clap::Arg::new(input.name)
                            .long(flag)
                            .value_name("SKU:QTY")
                            .action(clap::ArgAction::Append)
                            .allow_hyphen_values(true)
                            .help(input.help)
                            .required(input.required),
                    ),
                    InputKind::Flag => {
                        let no = negated(input.name);
                        sub.arg(
                            clap::Arg::new(input.name)
                                .long(flag.clone())
                                .action(clap::ArgAction::SetTrue)
                                .conflicts_with(no.clone())
                                .help(format!(
                                    "{} [default: {}]",
                                    input.help,
                                    if input.default == "yes" {
                                        format!("--{flag}")
                                    } else {
                                        format!("--no-{flag}")
                                    }
                                )),
                        )
                        .arg(
                            clap::Arg::new(no)
                                .long(format!("no-{flag}"))
                                .action(clap::ArgAction::SetTrue)
                                .help(format!("The opposite of --{flag}")),
                        )
                    }
                };
            }
            cmd.subcommand(
                sub.arg(
                    clap::Arg::new(VERSION_ARG)
                        .long("expected-version")
                        .value_name("N")
                        .value_parser(clap::value_parser!(i64))
                        .help("Refuse if the order is no longer at this version"),
                ),
            )
        })
    }

    fn augment_subcommands_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_subcommands(cmd)
    }

    fn has_subcommand(name: &str) -> bool {
        OrderAction::ALL.iter().any(|a| a.as_str() == name)
    }
}

/// The id of a flag input's `--no-…` form.
fn negated(name: &str) -> String {
    format!("no_{name}")
}

fn opt<T: std::str::FromStr<Err = DomainError>>(s: &Option<String>) -> Result<Option<T>, CliError> {
    Ok(s.as_deref().map(str::parse).transpose()?)
}

/// `SKU:QTY` → (sku, qty), the quantity 1 to [`MAX_LINE_QUANTITY`] (the domain's own rule,
/// [`validate_quantity`]: a quantity out of range is refused here, with the domain's
/// message, exit 1, as the domain would refuse it).
pub fn parse_item(item: &str) -> Result<(String, i64), CliError> {
    let shown = printable(item);
    let Some((sku, qty)) = item.rsplit_once(':') else {
        return Err(CliError::Input(format!(
            "item '{shown}' must look like SKU:QTY, e.g. MUG:2"
        )));
    };
    let sku = sku.trim();
    let qty_text = qty.trim();
    let digits = qty_text.strip_prefix(['-', '+']).unwrap_or(qty_text);
    let qty = match qty_text.parse::<i64>() {
        Ok(q) => q,
        // All digits but beyond any 64-bit integer: out of range all the same, said with
        // the domain's rule and the number as typed.
        Err(_) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            let typed = rustok_domain::text::excerpt(qty_text, 30);
            let rule = if qty_text.starts_with('-') {
                "must be at least 1"
            } else {
                &format!("must be at most {MAX_LINE_QUANTITY} per order line")
            };
            return Err(DomainError::validation(
                "quantity",
                format!(
                    "quantity of {} {rule}, got {typed}",
                    rustok_domain::text::excerpt(sku, rustok_domain::text::EXCERPT_CHARS)
                ),
            )
            .into());
        }
        Err(_) => {
            return Err(CliError::Input(format!(
                "item '{shown}': the quantity '{}' is not a whole number",
                printable(qty)
            )));
        }
    };
    validate_quantity(sku, qty)?;
    Ok((sku.to_string(), qty))
}

pub async fn run_product(ctx: &Ctx, cmd: &ProductCmd) -> Result<(), CliError> {
    let tenant = ctx.tenant().await?;
    match cmd {
        ProductCmd::Create {
            sku,
            title,
            price,
            currency,
            stock,
            policy,
            low_stock,
            handle,
            locale,
            status,
        } => {
            let currency: Currency = currency.parse()?;
            let draft = ProductDraft {
                id: ProductId::new_v7(),
                variant_id: VariantId::new_v7(),
                locale: opt::<Locale>(locale)?.unwrap_or_else(|| tenant.default_locale.clone()),
                title: title.clone().unwrap_or_else(|| sku.clone()),
                handle: handle.clone(),
                status: opt::<ProductStatus>(status)?,
                sku: sku.clone(),
                variant_title: None,
                price: Money::parse(price, currency)?,
                inventory_policy: policy.parse::<InventoryPolicy>()?,
                stock: *stock,
                low_stock_threshold: *low_stock,
            };
            let applied = ctx.execute(&tenant, Command::CreateProduct(draft)).await?;
            if let Outcome::Product(p) = applied.outcome {
                emit(ctx.json, &p, || {
                    let v = p.variants.first();
                    format!(
                        "created product {} {} ({}): {} at {}, {} on hand",
                        p.id,
                        cell(p.title(), 80),
                        p.status,
                        v.map_or_else(String::new, |v| cell(&v.sku, 64)),
                        v.map_or_else(String::new, |v| v.price.format(money(&tenant))),
                        v.map_or(0, |v| v.on_hand),
                    )
                });
            }
            Ok(())
        }
        ProductCmd::List { low, limit, offset } => {
            let filter = ProductFilter {
                low_only: *low,
                offset: *offset,
                limit: (*limit).max(1),
            };
            let page = ctx.reads.products(tenant.id, &filter).await?;
            emit(ctx.json, &page.rows, || {
                if page.rows.is_empty() {
                    return "no products".into();
                }
                let mut s = stock_table(&page.rows, money(&tenant));
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
        ProductCmd::Show { id_or_sku } => {
            let product = find_product(ctx, &tenant, id_or_sku).await?;
            emit(ctx.json, &product, || {
                describe_product(&product, money(&tenant))
            });
            Ok(())
        }
    }
}

/// A product by UUID, by SKU (exact), or by the short id screens show — in that order, so a
/// SKU that happens to be hex digits is still found as a SKU.
async fn find_product(ctx: &Ctx, tenant: &Tenant, id_or_sku: &str) -> Result<Product, CliError> {
    if let Ok(id) = id_or_sku.parse::<ProductId>()
        && let Some(p) = ctx.reads.product(tenant.id, id).await?
    {
        return Ok(p);
    }
    if let Some(p) = ctx
        .reads
        .product_by_sku(tenant.id, id_or_sku.trim())
        .await?
    {
        return Ok(p);
    }
    if matches!(id_or_sku.parse::<IdRef>(), Ok(IdRef::Suffix(_))) {
        let id = ctx
            .reads
            .resolve_id(tenant.id, IdKind::Product, id_or_sku)
            .await?;
        if let Some(p) = ctx
            .reads
            .product(tenant.id, ProductId::from_uuid(id))
            .await?
        {
            return Ok(p);
        }
    }
    Err(DomainError::not_found(
        "product",
        format!("with id or sku {}", printable(id_or_sku)),
    )
    .into())
}

pub async fn run_inventory(ctx: &Ctx, cmd: &InventoryCmd) -> Result<(), CliError> {
    let tenant = ctx.tenant().await?;
    match cmd {
        InventoryCmd::Adjust { sku, by, reason } => {
            let command = Command::AdjustInventory {
                sku: sku.trim().to_string(),
                by: *by,
                reason: reason.clone(),
            };
            let applied = ctx.execute(&tenant, command).await?;
            if let Outcome::Product(p) = applied.outcome {
                let row = StockRow::of(&p)
                    .into_iter()
                    .find(|r| r.sku == sku.trim())
                    .ok_or_else(|| DomainError::not_found("product", format!("with sku {sku}")))?;
                emit(ctx.json, &row, || {
                    format!(
                        "{}: {:+} → on hand {}, reserved {}, available {}{}",
                        cell(&row.sku, 64),
                        by,
                        row.on_hand,
                        row.reserved,
                        row.available,
                        if row.low { " (low)" } else { "" }
                    )
                });
            }
            Ok(())
        }
    }
}

pub async fn run_order(ctx: &Ctx, cmd: &OrderCmd) -> Result<(), CliError> {
    let tenant = ctx.tenant().await?;
    let command = match cmd {
        OrderCmd::Create { items, customer } => Command::CreateOrder(OrderDraft {
            id: OrderId::new_v7(),
            customer: customer.clone(),
            items: items
                .iter()
                .map(|i| parse_item(i))
                .collect::<Result<_, _>>()?,
        }),
        OrderCmd::Step(step) => {
            let id = ctx.order_id(&tenant, &step.id).await?;
            let mut values = step.values.clone();
            // `--amount` as the tenant's locale writes it (`1.234,50` in de) or plain
            // (`1234.50`, what scripts pass), carried in the plain form.
            if let Some(i) = step
                .action
                .step()
                .inputs
                .iter()
                .position(|i| i.name == "amount")
                && let Some(text) = values.get(i).filter(|t| !t.trim().is_empty())
            {
                let order = ctx
                    .reads
                    .order(tenant.id, id)
                    .await?
                    .ok_or_else(|| DomainError::not_found("order", id))?;
                values[i] = Money::parse_typed(text, order.total.currency, money(&tenant))?.plain();
            }
            let values: Vec<&str> = values.iter().map(String::as_str).collect();
            step.action.command(id, step.expected_version, &values)?
        }
        OrderCmd::Show { id } => {
            let id = ctx.order_id(&tenant, id).await?;
            let order = ctx
                .reads
                .order(tenant.id, id)
                .await?
                .ok_or_else(|| DomainError::not_found("order", id))?;
            let refunds = ctx.reads.order_refunds(tenant.id, id).await?;
            let notes = ctx.reads.order_notes(tenant.id, id).await?;
            let view = OrderView::of(&order, refunds, Some(notes));
            emit(ctx.json, &view, || {
                let mut s = describe_order(&view, money(&tenant));
                s.push_str(&describe_notes(view.notes.as_deref().unwrap_or_default()));
                s
            });
            return Ok(());
        }
        OrderCmd::Note { id, text } => {
            let id = ctx.order_id(&tenant, id).await?;
            let command = Command::AddOrderNote {
                id,
                note_id: NoteId::new_v7(),
                text: text.clone(),
            };
            let applied = ctx.execute(&tenant, command).await?;
            if let Outcome::Note(note) = applied.outcome {
                emit(ctx.json, &note, || {
                    let to = if note.mentions.is_empty() {
                        String::new()
                    } else {
                        let who: Vec<String> =
                            note.mentions.iter().map(|h| format!("@{h}")).collect();
                        format!(" (told {})", who.join(", "))
                    };
                    format!("noted on order {}{to}", note.order_id)
                });
            }
            return Ok(());
        }
        OrderCmd::List {
            status,
            limit,
            offset,
        } => {
            let filter = OrderFilter {
                status: opt::<OrderStatus>(status)?,
                offset: *offset,
                limit: (*limit).max(1),
                ..Default::default()
            };
            return list_orders(ctx, &tenant, &filter).await;
        }
        OrderCmd::Search {
            sku,
            customer,
            status,
            limit,
        } => {
            let filter = OrderFilter {
                status: opt::<OrderStatus>(status)?,
                sku: sku.as_deref().map(|s| s.trim().to_string()),
                customer: customer.clone(),
                text: None,
                offset: 0,
                limit: (*limit).max(1),
            };
            return list_orders(ctx, &tenant, &filter).await;
        }
        OrderCmd::Events { id } => {
            let id = ctx.order_id(&tenant, id).await?;
            if ctx.reads.order(tenant.id, id).await?.is_none() {
                return Err(DomainError::not_found("order", id).into());
            }
            let events = ctx.reads.order_events(tenant.id, id).await?;
            emit(ctx.json, &events, || {
                let rows: Vec<Vec<String>> = events
                    .iter()
                    .map(|e| {
                        vec![
                            e.seq.to_string(),
                            time(&e.envelope.occurred_at),
                            e.envelope.event_type.clone(),
                            e.envelope.aggregate_type.clone(),
                            cell(&e.envelope.payload.to_string(), 80),
                        ]
                    })
                    .collect();
                table(&["SEQ", "AT", "TYPE", "AGGREGATE", "PAYLOAD"], &rows)
            });
            return Ok(());
        }
    };
    let action = match cmd {
        OrderCmd::Step(step) => Some(step.action),
        _ => None,
    };
    let verb = action.map_or("created", |a| a.step().past);
    let applied = ctx.execute(&tenant, command).await?;
    if let Outcome::Order(order) = applied.outcome {
        let nf = money(&tenant);
        emit(ctx.json, &OrderView::of(&order, Vec::new(), None), || {
            let mut s = format!(
                "{verb}: order {} is {} (total {}, version {})",
                order.id,
                order.status,
                order.total.format(nf),
                order.version
            );
            if order.refunded.amount > 0 {
                s.push_str(&format!(
                    "\ncaptured {}, refunded {}, net {}",
                    order.captured().format(nf),
                    order.refunded.format(nf),
                    order.net().format(nf)
                ));
            }
            if action == Some(OrderAction::Cancel) && order.shipped_at.is_some() {
                s.push_str(&format!(
                    "\nthe goods had shipped and are not back on hand: when they come back, \
                     record them with `rustok order return {} --item SKU:QTY --reason …`",
                    order.id
                ));
            }
            s
        });
    }
    Ok(())
}

/// An order as `order show` and the order steps print it: the order, plus what was captured,
/// what is left after refunds (`net`; `refunded` is the order's own) and its refunds.
#[derive(serde::Serialize)]
struct OrderView<'a> {
    #[serde(flatten)]
    order: &'a Order,
    captured: Money,
    net: Money,
    refunds: Vec<Refund>,
    /// The order's notes, oldest first (issue 21, item 3): in `order show`, not in a step's
    /// answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    notes: Option<Vec<OrderNote>>,
}

impl<'a> OrderView<'a> {
    fn of(order: &'a Order, refunds: Vec<Refund>, notes: Option<Vec<OrderNote>>) -> Self {
        OrderView {
            order,
            captured: order.captured(),
            net: order.net(),
            refunds,
            notes,
        }
    }
}

async fn list_orders(ctx: &Ctx, tenant: &Tenant, filter: &OrderFilter) -> Result<(), CliError> {
    let page = ctx.reads.orders(tenant.id, filter).await?;
    emit(ctx.json, &page.rows, || {
        if page.rows.is_empty() {
            return "no orders".into();
        }
        let mut s = order_table(&page.rows, money(tenant));
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

/// How the tenant's locale writes money (the CLI's text output; JSON keeps minor units).
fn money(tenant: &Tenant) -> NumberFormat {
    NumberFormat::of(&tenant.default_locale)
}

fn stock_table(rows: &[StockRow], money: NumberFormat) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                cell(&r.sku, 64),
                cell(&r.title, 40),
                r.status.to_string(),
                r.price.format(money),
                r.on_hand.to_string(),
                r.reserved.to_string(),
                r.available.to_string(),
                r.inventory_policy.to_string(),
                if r.low { "LOW".into() } else { String::new() },
            ]
        })
        .collect();
    table(
        &[
            "SKU",
            "TITLE",
            "STATUS",
            "PRICE",
            "ON HAND",
            "RESERVED",
            "AVAILABLE",
            "POLICY",
            "LOW",
        ],
        &rows,
    )
}

pub(super) fn order_table(rows: &[OrderSummary], money: NumberFormat) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|o| {
            vec![
                o.id.to_string(),
                o.status.to_string(),
                o.total.format(money),
                format!("{} ({} lines)", o.units, o.lines),
                cell(o.customer.as_deref().unwrap_or("-"), 40),
                time(&o.placed_at),
            ]
        })
        .collect();
    table(
        &["ID", "STATUS", "TOTAL", "UNITS", "CUSTOMER", "PLACED"],
        &rows,
    )
}

/// Human-readable detail of a product, every user string made terminal-safe.
fn describe_product(p: &Product, money: NumberFormat) -> String {
    let mut s = format!(
        "product {} ({}, version {})\ncreated {}  updated {}\n",
        p.id,
        p.status,
        p.version,
        time(&p.created_at),
        time(&p.updated_at)
    );
    for t in &p.translations {
        s.push_str(&format!(
            "[{}] {}  handle {}\n",
            t.locale,
            cell(&t.title, 255),
            t.handle
        ));
    }
    s.push('\n');
    s.push_str(&stock_table(&StockRow::of(p), money));
    s
}

/// The notes of `order show`, oldest first, every user string made terminal-safe.
fn describe_notes(notes: &[OrderNote]) -> String {
    if notes.is_empty() {
        return "\nno notes\n".into();
    }
    let mut s = format!("\nnotes ({})\n", notes.len());
    for n in notes {
        s.push_str(&format!(
            "{}  {}: {}\n",
            time(&n.created_at),
            printable(&n.author),
            cell(&n.text, rustok_domain::commerce::MAX_NOTE_CHARS)
        ));
    }
    s
}

/// Human-readable detail of an order.
fn describe_order(view: &OrderView<'_>, money: NumberFormat) -> String {
    let o = view.order;
    let mut s = format!(
        "order {} ({}, version {})\ncustomer {}\ntotal {}\n",
        o.id,
        o.status,
        o.version,
        cell(o.customer.as_deref().unwrap_or("-"), 254),
        o.total.format(money)
    );
    s.push_str(&format!(
        "placed {}  confirmed {}  paid {}  shipped {}  delivered {}  cancelled {}\n",
        time(&o.placed_at),
        opt_time(&o.confirmed_at),
        opt_time(&o.paid_at),
        opt_time(&o.shipped_at),
        opt_time(&o.delivered_at),
        opt_time(&o.cancelled_at)
    ));
    if let (Some(c), Some(t)) = (&o.carrier, &o.tracking_number) {
        s.push_str(&format!(
            "shipped with {} ({})\n",
            cell(c, 100),
            cell(t, 100)
        ));
    }
    if let Some(r) = &o.cancel_reason {
        s.push_str(&format!("cancelled: {}\n", cell(r, 500)));
    }
    if let Some(r) = &o.payment_reference {
        s.push_str(&format!("payment {}\n", cell(r, 255)));
    }
    s.push_str(&format!(
        "captured {}  refunded {}  net {}\n",
        view.captured.format(money),
        o.refunded.format(money),
        view.net.format(money)
    ));
    for r in &view.refunds {
        s.push_str(&format!(
            "refund {} at {}: {}\n",
            r.amount.format(money),
            time(&r.at),
            cell(r.reason.as_deref().unwrap_or("-"), 500)
        ));
    }
    s.push('\n');
    let rows: Vec<Vec<String>> = o
        .items
        .iter()
        .map(|i| {
            vec![
                cell(&i.sku, 64),
                cell(&i.title, 60),
                i.quantity.to_string(),
                i.returned.to_string(),
                i.unit_price.format(money),
                i.line_total()
                    .map_or_else(|| "overflow".into(), |m| m.format(money)),
            ]
        })
        .collect();
    s.push_str(&table(
        &["SKU", "TITLE", "QTY", "RETURNED", "UNIT", "LINE"],
        &rows,
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::parse_item;

    #[test]
    fn items_parse_sku_and_quantity() {
        assert_eq!(parse_item("MUG:3").unwrap(), ("MUG".into(), 3));
        assert_eq!(
            parse_item(" MUG : 1000000 ").unwrap(),
            ("MUG".into(), 1_000_000)
        );
        // The quantity is 1 to 1,000,000, judged with the domain's rule and message.
        for (bad, says) in [
            ("MUG:0", "must be at least 1, got 0"),
            ("A:B:-1", "must be at least 1, got -1"),
            (
                "MUG:1000001",
                "must be at most 1000000 per order line, got 1000001",
            ),
            (
                "MUG:99999999999999999999",
                "must be at most 1000000 per order line",
            ),
            ("MUG:-99999999999999999999", "must be at least 1"),
        ] {
            let e = parse_item(bad).unwrap_err();
            assert_eq!(e.exit_code(), 1, "{bad}");
            assert!(e.to_string().contains(says), "{bad}: {e}");
        }
        for bad in ["MUG", "MUG:", "MUG:x", "MUG:1.5", "-1", "MUG:-", "MUG:+"] {
            let e = parse_item(bad).unwrap_err();
            assert_eq!(e.exit_code(), 1, "{bad}");
            assert!(!e.to_string().contains('\n'));
        }
        assert!(
            parse_item("\x1b[2J:x")
                .unwrap_err()
                .to_string()
                .contains("\\x1b")
        );
    }
}
