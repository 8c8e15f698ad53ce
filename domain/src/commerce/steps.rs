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

use super::order::{MAX_CANCEL_REASON_CHARS, MAX_CARRIER_CHARS, MAX_TRACKING_CHARS};
use super::{Order, OrderDecision};
use crate::command::Command;
use crate::content::string_enum;
use crate::{DomainError, OrderId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Longest payment token accepted.
pub const MAX_CARD_TOKEN_CHARS: usize = 255;

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
    /// every dangerous step, and those declared `confirm true` (ship, deliver).
    pub confirm: bool,
    pub inputs: &'static [StepInput],
}

/// How an input's text becomes a command field: `String` is required, `Option<String>`
/// optional. Both are trimmed and bounded by [`StepInput::max_chars`].
pub trait FromInput: Sized {
    const REQUIRED: bool;
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

    /// cancel: its stock returns; a paid, held or shipped order is refunded
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
        }
    }
}
