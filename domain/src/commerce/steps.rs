//! The order steps — every transition a user can ask of an existing order — declared once.
//!
//! One row of [`order_steps!`] gives a step its action name (`OrderAction`, the CLI verb
//! `rustok order <name>`, the palette's `:<name>`), its command (an [`OrderCommand`] variant
//! whose serde tag is the command's name in the audit log), the permission
//! (`order:<name>`), the words of a denial, the status line after it, whether the console asks
//! first, and the inputs it takes (the console's form fields, the CLI's `--flags`). The console
//! and the CLI build their keys, forms, verbs and help from these rows; the store executes
//! every step the same way (load the order, [`OrderCommand::decide`], write, append events).
//!
//! Adding a step: a row here, its arm in [`OrderCommand::decide`], and the transition itself in
//! `order.rs` (the state machine and the decision) — then a key in `ui/keymap.default.toml`.

use super::order::{
    MAX_CANCEL_REASON_CHARS, MAX_CARRIER_CHARS, MAX_TRACKING_CHARS, validate_quantity,
};
use super::product::validate_sku;
use super::{Order, OrderDecision};
use crate::command::Command;
use crate::content::string_enum;
use crate::{DomainError, OrderId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Longest payment token accepted.
pub const MAX_CARD_TOKEN_CHARS: usize = 255;

/// Longest amount text accepted (`5.00`).
pub const MAX_AMOUNT_CHARS: usize = 32;

/// Longest `SKU:QTY` list accepted (all of a list input's entries, space-separated) and the
/// most entries it may hold.
pub const MAX_LIST_CHARS: usize = 4_000;
pub const MAX_LIST_ITEMS: usize = 100;

/// How an input is given: one text (`--carrier UPS`), a list (`--item A:1 --item B:2`; in a
/// form, entries separated by spaces or commas), or a yes/no flag (`--restock` /
/// `--no-restock`; in a form, `yes` or `no`; absent is the input's default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    Text,
    List,
    Flag,
}

/// One input a step takes: a field of the console's form, a `--flag` of the CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepInput {
    /// The command's field; the CLI flag is this with `-` for `_` (`card_token` →
    /// `--card-token`).
    pub name: &'static str,
    /// The form's label.
    pub label: &'static str,
    /// A required input may not be blank; an optional one left blank is none.
    pub required: bool,
    /// One text, a repeated flag, or a yes/no switch.
    pub kind: InputKind,
    pub max_chars: usize,
    /// What the console's form starts with.
    pub default: &'static str,
    /// The CLI flag's help and the form's hint.
    pub help: &'static str,
}

/// The declaration of one order step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderStep {
    pub action: OrderAction,
    /// The command's name: its serde tag and its name in the audit log (`ship_order`).
    pub command: &'static str,
    /// One line: what it does (CLI help, the console's help and palette).
    pub doc: &'static str,
    /// The console's status line after it ("shipped").
    pub past: &'static str,
    /// The console's spinner while it runs ("shipping").
    pub doing: &'static str,
    /// What a denial says the role may not do ("ship orders"); the permission is
    /// `order:<name>`.
    pub deny: &'static str,
    /// The console asks before it runs: it takes something away (a cancel refunds).
    pub danger: bool,
    /// The console asks for a confirmation naming the order and its amount before it runs:
    /// every dangerous step (cancel, refund), and those declared `confirm true` (ship,
    /// deliver, return).
    pub confirm: bool,
    pub inputs: &'static [StepInput],
}

/// How an input's text becomes a command field: `String` is required, `Option<String>`
/// optional. Both are trimmed and bounded by [`StepInput::max_chars`].
pub trait FromInput: Sized {
    const REQUIRED: bool;
    const KIND: InputKind = InputKind::Text;
    fn from_input(input: &StepInput, value: Option<&str>) -> Result<Self, DomainError>;
}

fn bounded(input: &StepInput, value: &str) -> Result<(), DomainError> {
    let n = value.chars().count();
    if n > input.max_chars {
        return Err(DomainError::validation(
            input.name,
            format!("is {n} characters long; the limit is {}", input.max_chars),
        ));
    }
    Ok(())
}

impl FromInput for String {
    const REQUIRED: bool = true;
    fn from_input(input: &StepInput, value: Option<&str>) -> Result<Self, DomainError> {
        let v = value.unwrap_or("").trim();
        if v.is_empty() {
            return Err(DomainError::validation(input.name, "must not be empty"));
        }
        bounded(input, v)?;
        Ok(v.to_string())
    }
}

impl FromInput for Option<String> {
    const REQUIRED: bool = false;
    fn from_input(input: &StepInput, value: Option<&str>) -> Result<Self, DomainError> {
        let v = value.unwrap_or("").trim();
        bounded(input, v)?;
        Ok((!v.is_empty()).then(|| v.to_string()))
    }
}

/// One `SKU:QTY` entry of a list input: units of one of the order's SKUs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkuQty {
    pub sku: String,
    pub quantity: i64,
}

impl std::fmt::Display for SkuQty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.sku, self.quantity)
    }
}

/// A list input's text — `SKU:QTY` entries separated by spaces or commas — bounded (chars,
/// then entries) before it is read; each SKU and quantity checked by the catalog's and the
/// order's own rules. Repeated SKUs are kept as given (the decision merges them).
pub fn parse_sku_quantities(input: &StepInput, text: &str) -> Result<Vec<SkuQty>, DomainError> {
    bounded(input, text)?;
    let entries: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|e| !e.is_empty())
        .collect();
    if entries.len() > MAX_LIST_ITEMS {
        return Err(DomainError::validation(
            input.name,
            format!(
                "has {} entries; the limit is {MAX_LIST_ITEMS}",
                entries.len()
            ),
        ));
    }
    entries
        .into_iter()
        .map(|entry| {
            let shown = crate::text::excerpt(entry, crate::text::EXCERPT_CHARS);
            let Some((sku, qty)) = entry.rsplit_once(':') else {
                return Err(DomainError::validation(
                    input.name,
                    format!("'{shown}' must look like SKU:QTY, e.g. MUG:2"),
                ));
            };
            validate_sku(sku)?;
            let quantity = qty.parse::<i64>().map_err(|_| {
                DomainError::validation(
                    input.name,
                    format!("'{shown}': the quantity is not a whole number from 1 to 1000000"),
                )
            })?;
            validate_quantity(sku, quantity)?;
            Ok(SkuQty {
                sku: sku.to_string(),
                quantity,
            })
        })
        .collect()
}

/// An optional list of `SKU:QTY` entries (blank is none).
impl FromInput for Vec<SkuQty> {
    const REQUIRED: bool = false;
    const KIND: InputKind = InputKind::List;
    fn from_input(input: &StepInput, value: Option<&str>) -> Result<Self, DomainError> {
        parse_sku_quantities(input, value.unwrap_or(""))
    }
}

/// A required list of `SKU:QTY` entries: at least one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SkuQuantities(pub Vec<SkuQty>);

impl FromInput for SkuQuantities {
    const REQUIRED: bool = true;
    const KIND: InputKind = InputKind::List;
    fn from_input(input: &StepInput, value: Option<&str>) -> Result<Self, DomainError> {
        let list = parse_sku_quantities(input, value.unwrap_or(""))?;
        if list.is_empty() {
            return Err(DomainError::validation(
                input.name,
                "needs at least one SKU:QTY",
            ));
        }
        Ok(SkuQuantities(list))
    }
}

/// A yes/no switch: `yes`/`no` (also `y`, `true`, `on`, `1` and their opposites); blank is
/// the input's default.
impl FromInput for bool {
    const REQUIRED: bool = false;
    const KIND: InputKind = InputKind::Flag;
    fn from_input(input: &StepInput, value: Option<&str>) -> Result<Self, DomainError> {
        let v = value.unwrap_or("").trim();
        bounded(input, v)?;
        let v = if v.is_empty() { input.default } else { v };
        match v.to_ascii_lowercase().as_str() {
            "yes" | "y" | "true" | "on" | "1" => Ok(true),
            "no" | "n" | "false" | "off" | "0" => Ok(false),
            _ => Err(DomainError::validation(
                input.name,
                format!(
                    "'{}' is not yes or no",
                    crate::text::excerpt(v, crate::text::EXCERPT_CHARS)
                ),
            )),
        }
    }
}

macro_rules! order_steps {
    ($(
        #[doc = $doc:literal]
        $action:ident $name:literal => $variant:ident $command:literal {
            $( $(#[$fattr:meta])* $field:ident : $fty:ty = $label:literal, max $max:expr, default $default:literal, help $help:literal; )*
        } past $past:literal, doing $doing:literal, danger $danger:literal $(, confirm $confirm:literal)?;
    )+) => {
        string_enum!(
            /// A step a user can ask an order to take (declared in `commerce/steps.rs`).
            OrderAction, "action", { $($action => $name),+ }
        );

        /// A command on an existing order: one variant per step, tagged with the command's
        /// name.
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(tag = "command", deny_unknown_fields)]
        pub enum OrderCommand {
            $(
                #[doc = $doc]
                #[serde(rename = $command)]
                $variant {
                    id: OrderId,
                    /// Optimistic locking: refused if the order changed since.
                    #[serde(default, skip_serializing_if = "Option::is_none")]
                    expected_version: Option<i64>,
                    $( $(#[$fattr])* #[serde(default)] $field: $fty, )*
                },
            )+
        }

        impl OrderAction {
            /// This step's declaration.
            pub const fn step(self) -> OrderStep {
                match self {
                    $(OrderAction::$action => OrderStep {
                        action: OrderAction::$action,
                        command: $command,
                        doc: $doc,
                        past: $past,
                        doing: $doing,
                        deny: concat!($name, " orders"),
                        danger: $danger,
                        confirm: $danger $(|| $confirm)?,
                        inputs: &[$(StepInput {
                            name: stringify!($field),
                            label: $label,
                            required: <$fty as FromInput>::REQUIRED,
                            kind: <$fty as FromInput>::KIND,
                            max_chars: $max,
                            default: $default,
                            help: $help,
                        }),*],
                    },)+
                }
            }

            /// The command taking this step on order `id`, from the inputs' text in
            /// [`OrderStep::inputs`] order (a missing one is blank).
            pub fn command(
                self,
                id: OrderId,
                expected_version: Option<i64>,
                values: &[&str],
            ) -> Result<Command, DomainError> {
                let step = self.step();
                #[allow(unused_mut, unused_variables)]
                let mut inputs = step.inputs.iter().enumerate();
                let command = match self {
                    $(OrderAction::$action => OrderCommand::$variant {
                        id,
                        expected_version,
                        $( $field: {
                            let (k, input) = inputs.next().ok_or_else(|| {
                                DomainError::validation("command", "a step input is undeclared")
                            })?;
                            <$fty as FromInput>::from_input(input, values.get(k).copied())?
                        }, )*
                    },)+
                };
                Ok(Command::Order(command))
            }
        }

        impl OrderCommand {
            /// The command's name (= its serde tag).
            pub fn name(&self) -> &'static str {
                match self { $(OrderCommand::$variant { .. } => $command,)+ }
            }

            pub fn action(&self) -> OrderAction {
                match self { $(OrderCommand::$variant { .. } => OrderAction::$action,)+ }
            }

            pub fn id(&self) -> OrderId {
                match self { $(OrderCommand::$variant { id, .. } => *id,)+ }
            }

            pub fn expected_version(&self) -> Option<i64> {
                match self {
                    $(OrderCommand::$variant { expected_version, .. } => *expected_version,)+
                }
            }
        }
    };
}

order_steps! {
    /// pending → confirmed: reserves every line's stock
    Confirm "confirm" => ConfirmOrder "confirm_order" {} past "confirmed", doing "confirming", danger false;

    /// confirmed → paid: charges the card through the payment gateway, then sells the stock
    Pay "pay" => PayOrder "pay_order" {
        card_token: String = "Token", max MAX_CARD_TOKEN_CHARS, default "tok_visa",
            help "Sandbox tokens: tok_visa, tok_mastercard succeed; tok_chargeDeclined is declined";
    } past "paid", doing "charging the card", danger false;

    /// paid → shipped, with the carrier and its tracking number
    Ship "ship" => ShipOrder "ship_order" {
        carrier: String = "Carrier", max MAX_CARRIER_CHARS, default "", help "The carrier";
        tracking: String = "Tracking", max MAX_TRACKING_CHARS, default "",
            help "The carrier's tracking number";
    } past "shipped", doing "shipping", danger false, confirm true;

    /// shipped → delivered
    Deliver "deliver" => DeliverOrder "deliver_order" {} past "delivered", doing "marking delivered", danger false, confirm true;

    /// cancel: a paid order is refunded; stock returns unless it was shipped
    Cancel "cancel" => CancelOrder "cancel_order" {
        reason: String = "Reason", max MAX_CANCEL_REASON_CHARS, default "",
            help "Why (required; kept with the order)";
    } past "cancelled", doing "cancelling", danger true;

    /// paid → on hold: stops shipping until released (a fraud review, a customer's request)
    Hold "hold" => HoldOrder "hold_order" {
        reason: Option<String> = "Reason", max MAX_CANCEL_REASON_CHARS, default "",
            help "Why (recorded in the order's timeline)";
    } past "put on hold", doing "putting on hold", danger false;

    /// on hold → paid: the order can be shipped again
    Release "release" => ReleaseOrder "release_order" {} past "released", doing "releasing", danger false;

    /// give back part of what was paid (paid, on hold, shipped or delivered; the status stays); --restock puts units back on hand
    Refund "refund" => RefundOrder "refund_order" {
        amount: String = "Amount", max MAX_AMOUNT_CHARS, default "",
            help "How much to give back, in the order's currency, as the tenant's locale writes it (1.234,50 in de) or plain (1234.50): at most what is left of the captured amount";
        reason: String = "Reason", max MAX_CANCEL_REASON_CHARS, default "",
            help "Why (recorded in the payment.refunded event)";
        restock: Vec<SkuQty> = "Restock", max MAX_LIST_CHARS, default "",
            help "SKU:QTY of the order's units that came back and go on hand again (repeat for more)";
    } past "refunded", doing "refunding", danger true;

    /// record goods sent back from a shipped or delivered order, or one cancelled after shipping (restocked unless --no-restock); refunding is a separate step
    Return "return" => ReturnOrder "return_order" {
        /// The units sent back (`--item SKU:QTY`, repeated).
        item: SkuQuantities = "Items", max MAX_LIST_CHARS, default "",
            help "SKU:QTY sent back, at most what was ordered less what was returned (repeat for more)";
        reason: String = "Reason", max MAX_CANCEL_REASON_CHARS, default "",
            help "Why (recorded in the order.returned event)";
        restock: bool = "Restock", max 5, default "yes",
            help "Put the units back on hand (yes), or not: damaged, kept by the carrier (no)";
    } past "returned", doing "recording the return", danger false, confirm true;
}

impl OrderCommand {
    /// Decides this step against the order it names, as the caller found it (it checked the
    /// order is the tenant's).
    pub fn decide(
        &self,
        order: Result<&Order, DomainError>,
        now: DateTime<Utc>,
    ) -> Result<OrderDecision, DomainError> {
        let ready = || -> Result<&Order, DomainError> {
            let order = order.clone()?;
            order.check_version(self.expected_version())?;
            Ok(order)
        };
        match self {
            OrderCommand::ConfirmOrder { .. } => ready()?.confirm(now),
            OrderCommand::PayOrder { .. } => Err(DomainError::validation(
                "command",
                "paying must go through the action queue: it asks the payment gateway first, \
                 outside any transaction, then records the outcome",
            )),
            OrderCommand::ShipOrder {
                carrier, tracking, ..
            } => ready()?.ship(carrier, tracking, now),
            OrderCommand::DeliverOrder { .. } => ready()?.deliver(now),
            OrderCommand::CancelOrder { reason, .. } => {
                // Required whatever the command came from (a form, a flag, JSON).
                if reason.trim().is_empty() {
                    return Err(DomainError::validation(
                        "reason",
                        "must not be empty: say why the order is cancelled",
                    ));
                }
                ready()?.cancel(Some(reason.as_str()), now)
            }
            OrderCommand::HoldOrder { reason, .. } => ready()?.hold(reason.as_deref(), now),
            OrderCommand::ReleaseOrder { .. } => ready()?.release(now),
            OrderCommand::RefundOrder {
                amount,
                reason,
                restock,
                ..
            } => ready()?.refund(amount, reason, restock, now),
            OrderCommand::ReturnOrder {
                item,
                reason,
                restock,
                ..
            } => ready()?.return_items(&item.0, reason, *restock, now),
        }
    }
}
