//! Commands: every mutation, as data, carried in an envelope with the tenant, the actor and
//! a correlation id; and the pure decision that turns a command plus the current aggregate
//! into the next aggregate and its events.

use crate::commerce::{Order, OrderDecision, OrderDraft, PaymentOutcome, Product, ProductDraft};
use crate::content::{Node, NodeAction, NodeDraft, NodePatch, TranslationInput};
use crate::event::DomainEvent;
use crate::{CommandId, DomainError, Locale, NodeId, OrderId, TenantId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Who is acting: the staff member's handle, the role as the caller resolved it (for
/// display; the store resolves the role again inside the command's transaction and never
/// trusts this one) and whether the session is read-only (every command refused).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub handle: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<crate::rbac::Role>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
}

impl Actor {
    pub fn new(handle: impl Into<String>) -> Self {
        Self {
            handle: handle.into(),
            role: None,
            read_only: false,
        }
    }

    /// The same actor in a read-only session (or not).
    pub fn read_only(self, read_only: bool) -> Self {
        Self { read_only, ..self }
    }
}

/// Every domain mutation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    CreateTenant {
        id: TenantId,
        slug: String,
        name: String,
        default_locale: Locale,
    },
    CreateNode(NodeDraft),
    UpdateNode {
        id: NodeId,
        patch: NodePatch,
        expected_version: Option<i64>,
    },
    TranslateNode {
        id: NodeId,
        input: TranslationInput,
        expected_version: Option<i64>,
    },
    ChangeNodeStatus {
        id: NodeId,
        action: NodeAction,
        expected_version: Option<i64>,
    },
    /// A product with its first variant.
    CreateProduct(ProductDraft),
    /// A manual correction of a variant's units on hand (`by` may be negative).
    AdjustInventory {
        sku: String,
        by: i64,
        reason: String,
    },
    CreateOrder(OrderDraft),
    ConfirmOrder {
        id: OrderId,
        expected_version: Option<i64>,
    },
    /// Records what the payment gateway said (the gateway is called before, outside any
    /// transaction, with this command's id as the idempotency key).
    RecordPayment {
        id: OrderId,
        outcome: PaymentOutcome,
    },
    /// The intent to pay an order with a card. Only the action queue executes it, in two
    /// steps: it asks the payment gateway (idempotency key = this command's id, no
    /// transaction open), then executes [`Command::RecordPayment`] with the outcome. The
    /// store refuses it.
    PayOrder {
        id: OrderId,
        card_token: String,
    },
    ShipOrder {
        id: OrderId,
        carrier: String,
        tracking: String,
    },
    DeliverOrder {
        id: OrderId,
    },
    CancelOrder {
        id: OrderId,
        reason: Option<String>,
    },
    /// Staff accounts are deployment-wide (not per tenant).
    AddStaff(crate::staff::StaffDraft),
    ChangeStaffRole {
        handle: String,
        role: crate::rbac::Role,
    },
    SetStaffMfa {
        handle: String,
        enabled: bool,
    },
    /// `password_hash` is an argon2 PHC string computed by the caller.
    SetStaffPassword {
        handle: String,
        password_hash: String,
    },
    SetStaffActive {
        handle: String,
        active: bool,
    },
    /// Puts the tenant's dead letters back in the outbox queue: those with these ids, or all
    /// of them when `ids` is empty. Never another tenant's.
    RetryDeadLetters {
        #[serde(default)]
        ids: Vec<crate::EventId>,
    },
}

impl Command {
    /// A short name for logs, the audit log and the status bar.
    pub fn name(&self) -> &'static str {
        match self {
            Command::CreateTenant { .. } => "create_tenant",
            Command::CreateNode(_) => "create_node",
            Command::UpdateNode { .. } => "update_node",
            Command::TranslateNode { .. } => "translate_node",
            Command::ChangeNodeStatus { action, .. } => match action {
                NodeAction::Publish => "publish_node",
                NodeAction::Unpublish => "unpublish_node",
                NodeAction::Archive => "archive_node",
                NodeAction::Restore => "restore_node",
            },
            Command::CreateProduct(_) => "create_product",
            Command::AdjustInventory { .. } => "adjust_inventory",
            Command::CreateOrder(_) => "create_order",
            Command::ConfirmOrder { .. } => "confirm_order",
            Command::RecordPayment { .. } => "pay_order",
            Command::PayOrder { .. } => "charge_order",
            Command::ShipOrder { .. } => "ship_order",
            Command::DeliverOrder { .. } => "deliver_order",
            Command::CancelOrder { .. } => "cancel_order",
            Command::AddStaff(_) => "add_staff",
            Command::ChangeStaffRole { .. } => "change_staff_role",
            Command::SetStaffMfa { .. } => "set_staff_mfa",
            Command::SetStaffPassword { .. } => "set_staff_password",
            Command::SetStaffActive { .. } => "set_staff_active",
            Command::RetryDeadLetters { .. } => "retry_dead_letters",
        }
    }

    /// Is this a staff account command (executed by the store's staff module)?
    pub fn is_staff(&self) -> bool {
        self.staff_handle().is_some()
    }

    /// The staff member a staff command targets.
    pub fn staff_handle(&self) -> Option<&str> {
        match self {
            Command::AddStaff(d) => Some(&d.handle),
            Command::ChangeStaffRole { handle, .. }
            | Command::SetStaffMfa { handle, .. }
            | Command::SetStaffPassword { handle, .. }
            | Command::SetStaffActive { handle, .. } => Some(handle),
            _ => None,
        }
    }

    /// The node an existing-node command targets.
    pub fn node_id(&self) -> Option<NodeId> {
        match self {
            Command::CreateNode(d) => Some(d.id),
            Command::UpdateNode { id, .. }
            | Command::TranslateNode { id, .. }
            | Command::ChangeNodeStatus { id, .. } => Some(*id),
            _ => None,
        }
    }

    /// Is this a catalog, stock or order command (executed by the store's commerce module)?
    pub fn is_commerce(&self) -> bool {
        matches!(
            self,
            Command::CreateProduct(_)
                | Command::AdjustInventory { .. }
                | Command::CreateOrder(_)
                | Command::ConfirmOrder { .. }
                | Command::RecordPayment { .. }
                | Command::PayOrder { .. }
                | Command::ShipOrder { .. }
                | Command::DeliverOrder { .. }
                | Command::CancelOrder { .. }
        )
    }

    /// The order an order command targets.
    pub fn order_id(&self) -> Option<OrderId> {
        match self {
            Command::CreateOrder(d) => Some(d.id),
            Command::ConfirmOrder { id, .. }
            | Command::RecordPayment { id, .. }
            | Command::PayOrder { id, .. }
            | Command::ShipOrder { id, .. }
            | Command::DeliverOrder { id }
            | Command::CancelOrder { id, .. } => Some(*id),
            _ => None,
        }
    }
}

/// A command with its context, as it travels through the action queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandEnvelope {
    pub id: CommandId,
    pub tenant_id: TenantId,
    pub actor: Actor,
    /// Ties the events of one user intent together; defaults to the first event's id.
    pub correlation_id: Option<Uuid>,
    pub command: Command,
}

impl CommandEnvelope {
    pub fn new(tenant_id: TenantId, actor: Actor, command: Command) -> Self {
        Self {
            id: CommandId::new_v7(),
            tenant_id,
            actor,
            correlation_id: None,
            command,
        }
    }
}

/// Decides a node command against the current node (None when it does not exist yet).
pub fn decide_node(
    tenant_id: TenantId,
    current: Option<&Node>,
    command: &Command,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(Node, Vec<DomainEvent>), DomainError> {
    let existing = |id: NodeId| current.ok_or_else(|| DomainError::not_found("node", id));
    match command {
        Command::CreateNode(draft) => {
            if current.is_some() {
                return Err(DomainError::Duplicate {
                    what: format!("node {}", draft.id),
                });
            }
            Node::create(tenant_id, draft.clone(), &actor.handle, now)
        }
        Command::UpdateNode {
            id,
            patch,
            expected_version,
        } => {
            let node = existing(*id)?;
            node.check_version(*expected_version)?;
            node.update(patch.clone(), now)
        }
        Command::TranslateNode {
            id,
            input,
            expected_version,
        } => {
            let node = existing(*id)?;
            node.check_version(*expected_version)?;
            node.translate(input.clone(), now)
        }
        Command::ChangeNodeStatus {
            id,
            action,
            expected_version,
        } => {
            let node = existing(*id)?;
            node.check_version(*expected_version)?;
            node.transition(*action, now)
        }
        other => Err(DomainError::validation(
            "command",
            format!("{} is not a node command", other.name()),
        )),
    }
}

/// Decides an order command against the current order (None when it does not exist yet).
/// `catalog` is only read by `CreateOrder`: the tenant's products holding the ordered SKUs
/// (pass `&[]` otherwise). The store then applies the returned stock moves with
/// [`crate::commerce::apply_moves`] in the same transaction. A `RecordPayment` with a failed
/// outcome returns the order unchanged (same version) with only a `payment.failed` event.
pub fn decide_order(
    tenant_id: TenantId,
    current: Option<&Order>,
    command: &Command,
    catalog: &[Product],
    now: DateTime<Utc>,
) -> Result<OrderDecision, DomainError> {
    let existing = |id: OrderId| match current {
        Some(o) if o.id == id && o.tenant_id == tenant_id => Ok(o),
        _ => Err(DomainError::not_found("order", id)),
    };
    match command {
        Command::CreateOrder(draft) => {
            if current.is_some() {
                return Err(DomainError::Duplicate {
                    what: format!("order {}", draft.id),
                });
            }
            let (order, events) = Order::create(tenant_id, draft.clone(), catalog, now)?;
            Ok((order, events, Vec::new()))
        }
        Command::ConfirmOrder {
            id,
            expected_version,
        } => {
            let order = existing(*id)?;
            order.check_version(*expected_version)?;
            order.confirm(now)
        }
        Command::RecordPayment { id, outcome } => {
            existing(*id)?.record_payment(outcome.clone(), now)
        }
        Command::ShipOrder {
            id,
            carrier,
            tracking,
        } => existing(*id)?.ship(carrier, tracking, now),
        Command::DeliverOrder { id } => existing(*id)?.deliver(now),
        Command::CancelOrder { id, reason } => existing(*id)?.cancel(reason.as_deref(), now),
        Command::PayOrder { .. } => Err(DomainError::validation(
            "command",
            "paying must go through the action queue: it asks the payment gateway first, \
             outside any transaction, then records the outcome",
        )),
        other => Err(DomainError::validation(
            "command",
            format!("{} is not an order command", other.name()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commerce::InventoryPolicy;
    use crate::{Currency, Money, ProductId, VariantId};

    #[test]
    fn pay_order_is_for_the_queue_only() {
        let id = OrderId::new_v7();
        let pay = Command::PayOrder {
            id,
            card_token: "tok_visa".into(),
        };
        assert_eq!((pay.name(), pay.order_id()), ("charge_order", Some(id)));
        assert!(pay.is_commerce());
        assert!(Command::DeliverOrder { id }.node_id().is_none());
        let err = decide_order(TenantId::new_v7(), None, &pay, &[], Utc::now()).unwrap_err();
        assert_eq!(err.field(), Some("command"));
        assert!(err.to_string().contains("action queue"), "{err}");
        let json = serde_json::to_value(&pay).unwrap();
        assert_eq!(json["command"], "pay_order");
        assert_eq!(serde_json::from_value::<Command>(json).unwrap(), pay);
        assert!(
            !Command::CreateTenant {
                id: TenantId::new_v7(),
                slug: "a".into(),
                name: "A".into(),
                default_locale: "en".parse().unwrap(),
            }
            .is_commerce()
        );
    }

    #[test]
    fn order_commands_decide() {
        let t = TenantId::new_v7();
        let now = Utc::now();
        let draft = ProductDraft {
            id: ProductId::new_v7(),
            variant_id: VariantId::new_v7(),
            locale: "en".parse().unwrap(),
            title: "Mug".into(),
            handle: None,
            status: None,
            sku: "MUG-1".into(),
            variant_title: None,
            price: Money::parse("12.50", Currency::USD).unwrap(),
            inventory_policy: InventoryPolicy::Deny,
            stock: 3,
            low_stock_threshold: None,
        };
        let create_product = Command::CreateProduct(draft.clone());
        assert_eq!(create_product.name(), "create_product");
        let (product, _) = Product::create(t, draft, now).unwrap();
        let id = OrderId::new_v7();
        let create = Command::CreateOrder(OrderDraft {
            id,
            customer: None,
            items: vec![("MUG-1".into(), 2)],
        });
        assert_eq!(
            (create.name(), create.order_id()),
            ("create_order", Some(id))
        );
        let (o, ev, moves) =
            decide_order(t, None, &create, std::slice::from_ref(&product), now).unwrap();
        assert_eq!((o.total.amount, ev.len(), moves.len()), (2500, 1, 0));
        assert_eq!(
            decide_order(t, Some(&o), &create, &[product], now)
                .unwrap_err()
                .kind(),
            "duplicate"
        );
        let confirm = Command::ConfirmOrder {
            id,
            expected_version: Some(7),
        };
        assert_eq!(
            decide_order(t, Some(&o), &confirm, &[], now)
                .unwrap_err()
                .kind(),
            "conflict"
        );
        let confirm = Command::ConfirmOrder {
            id,
            expected_version: Some(1),
        };
        let (o, _, moves) = decide_order(t, Some(&o), &confirm, &[], now).unwrap();
        assert_eq!(moves.len(), 1);
        assert_eq!(
            decide_order(t, None, &confirm, &[], now)
                .unwrap_err()
                .kind(),
            "not_found"
        );
        assert_eq!(
            decide_order(TenantId::new_v7(), Some(&o), &confirm, &[], now)
                .unwrap_err()
                .kind(),
            "not_found",
            "another tenant's order is invisible"
        );
        let pay = Command::RecordPayment {
            id,
            outcome: PaymentOutcome::Succeeded {
                reference: "ch_1".into(),
                amount: o.total,
            },
        };
        assert_eq!(pay.name(), "pay_order");
        let (o, _, _) = decide_order(t, Some(&o), &pay, &[], now).unwrap();
        let ship = Command::ShipOrder {
            id,
            carrier: "UPS".into(),
            tracking: "1Z".into(),
        };
        let (o, _, _) = decide_order(t, Some(&o), &ship, &[], now).unwrap();
        let deliver = Command::DeliverOrder { id };
        let (o, _, _) = decide_order(t, Some(&o), &deliver, &[], now).unwrap();
        let cancel = Command::CancelOrder { id, reason: None };
        assert_eq!(
            decide_order(t, Some(&o), &cancel, &[], now)
                .unwrap_err()
                .kind(),
            "invalid_transition"
        );
        let adjust = Command::AdjustInventory {
            sku: "MUG-1".into(),
            by: 1,
            reason: String::new(),
        };
        assert_eq!(adjust.name(), "adjust_inventory");
        assert!(decide_order(t, Some(&o), &adjust, &[], now).is_err());
        for c in [
            create_product,
            create,
            confirm,
            pay,
            ship,
            deliver,
            cancel,
            adjust,
        ] {
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(serde_json::from_str::<Command>(&json).unwrap(), c, "{json}");
        }
    }
}
