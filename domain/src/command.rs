//! Commands: every mutation, as data, carried in an envelope with the tenant, the actor and
//! a correlation id; and the pure decision that turns a command plus the current aggregate
//! into the next aggregate and its events.

use crate::commerce::{
    Order, OrderCommand, OrderDecision, OrderDraft, PaymentOutcome, Product, ProductDraft,
};
use crate::content::{
    Node, NodeAction, NodeAt, NodeDraft, NodePatch, RevisionContent, TranslationInput,
};
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
    /// A product with its first variant.
    CreateProduct(ProductDraft),
    /// A manual correction of a variant's units on hand (`by` may be negative).
    AdjustInventory {
        sku: String,
        by: i64,
        reason: String,
    },
    CreateOrder(OrderDraft),
    /// Records what the payment gateway said (the gateway is called before, outside any
    /// transaction, with this command's id as the idempotency key).
    RecordPayment {
        id: OrderId,
        outcome: PaymentOutcome,
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
    /// Puts one independent consumer's (a stream's) dead letters of the tenant back in that
    /// consumer's queue: those with these ids, or all of them when `ids` is empty. The outbox
    /// and the other consumers are not touched.
    RetryConsumerDeadLetters {
        consumer: String,
        #[serde(default)]
        ids: Vec<crate::EventId>,
    },
    /// A staff member's note on an order, `@handle` mentions in its text (`commerce/note.rs`).
    /// Not an order step: the order (its status, its version) is unchanged, so a note never
    /// makes a colleague's step on the same order fail as a conflict.
    AddOrderNote {
        /// The order.
        id: OrderId,
        note_id: crate::NoteId,
        text: String,
    },
    /// Makes version `to`'s content the current content of the node, as a new version
    /// (issue 20): its status stays; events as for an update.
    RevertNode {
        id: NodeId,
        to: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_version: Option<i64>,
    },
    /// A new draft `id` copying node `from` with all its translations, titled "… (copy)";
    /// `mine` (the text an editor had on screen) replaces its locale's current content.
    CopyNode {
        id: NodeId,
        from: NodeId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mine: Option<RevisionContent>,
    },
    /// Schedules a node's publication and/or unpublication (issue 20): each time given
    /// replaces the pending one of its action. When due, any relaying process executes it as
    /// `publish_node` / `unpublish_node` by the staff member who scheduled it.
    ScheduleNode {
        id: NodeId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        publish_at: Option<DateTime<Utc>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unpublish_at: Option<DateTime<Utc>>,
    },
    /// Cancels every pending schedule of a node.
    UnscheduleNode {
        id: NodeId,
    },
    /// A node's status change: `publish_node`, `unpublish_node`, `archive_node`,
    /// `restore_node` (tagged by its action).
    #[serde(untagged)]
    NodeStatus(NodeTransition),
    /// A step of an existing order (`confirm_order`, `ship_order`, …; `commerce/steps.rs`).
    /// Paying (`pay_order`) is the intent: only the action queue executes it, in two steps —
    /// it asks the payment gateway (idempotency key = this command's id, no transaction
    /// open), then executes [`Command::RecordPayment`] with the outcome. The store refuses it.
    #[serde(untagged)]
    Order(OrderCommand),
}

/// A node status change as data: the node, the action, the version the user saw. On the wire
/// (and in the audit log) it is named by its action: `{"command": "publish_node", "id": …}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "NodeTransitionWire", from = "NodeTransitionWire")]
pub struct NodeTransition {
    pub id: NodeId,
    pub action: NodeAction,
    pub expected_version: Option<i64>,
}

// The variants are the commands' names on the wire, each ending in `_node`.
#[allow(clippy::enum_variant_names)]
#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
enum NodeTransitionWire {
    PublishNode {
        id: NodeId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_version: Option<i64>,
    },
    UnpublishNode {
        id: NodeId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_version: Option<i64>,
    },
    ArchiveNode {
        id: NodeId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_version: Option<i64>,
    },
    RestoreNode {
        id: NodeId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_version: Option<i64>,
    },
}

impl From<NodeTransition> for NodeTransitionWire {
    fn from(t: NodeTransition) -> Self {
        let (id, expected_version) = (t.id, t.expected_version);
        match t.action {
            NodeAction::Publish => Self::PublishNode {
                id,
                expected_version,
            },
            NodeAction::Unpublish => Self::UnpublishNode {
                id,
                expected_version,
            },
            NodeAction::Archive => Self::ArchiveNode {
                id,
                expected_version,
            },
            NodeAction::Restore => Self::RestoreNode {
                id,
                expected_version,
            },
        }
    }
}

impl From<NodeTransitionWire> for NodeTransition {
    fn from(w: NodeTransitionWire) -> Self {
        use NodeTransitionWire as W;
        let (action, id, expected_version) = match w {
            W::PublishNode {
                id,
                expected_version,
            } => (NodeAction::Publish, id, expected_version),
            W::UnpublishNode {
                id,
                expected_version,
            } => (NodeAction::Unpublish, id, expected_version),
            W::ArchiveNode {
                id,
                expected_version,
            } => (NodeAction::Archive, id, expected_version),
            W::RestoreNode {
                id,
                expected_version,
            } => (NodeAction::Restore, id, expected_version),
        };
        NodeTransition {
            id,
            action,
            expected_version,
        }
    }
}

impl NodeTransition {
    /// The command's name (= its serde tag).
    pub fn name(&self) -> &'static str {
        self.action.command_name()
    }
}

impl Command {
    /// The command's name: its serde tag, and its name in logs, the audit log and the
    /// status bar.
    pub fn name(&self) -> &'static str {
        match self {
            Command::CreateTenant { .. } => "create_tenant",
            Command::CreateNode(_) => "create_node",
            Command::UpdateNode { .. } => "update_node",
            Command::TranslateNode { .. } => "translate_node",
            Command::NodeStatus(t) => t.name(),
            Command::CreateProduct(_) => "create_product",
            Command::AdjustInventory { .. } => "adjust_inventory",
            Command::CreateOrder(_) => "create_order",
            Command::RecordPayment { .. } => "record_payment",
            Command::Order(c) => c.name(),
            Command::AddStaff(_) => "add_staff",
            Command::ChangeStaffRole { .. } => "change_staff_role",
            Command::SetStaffMfa { .. } => "set_staff_mfa",
            Command::SetStaffPassword { .. } => "set_staff_password",
            Command::SetStaffActive { .. } => "set_staff_active",
            Command::RetryDeadLetters { .. } => "retry_dead_letters",
            Command::RetryConsumerDeadLetters { .. } => "retry_consumer_dead_letters",
            Command::AddOrderNote { .. } => "add_order_note",
            Command::RevertNode { .. } => "revert_node",
            Command::CopyNode { .. } => "copy_node",
            Command::ScheduleNode { .. } => "schedule_node",
            Command::UnscheduleNode { .. } => "unschedule_node",
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
            | Command::RevertNode { id, .. }
            | Command::CopyNode { id, .. }
            | Command::NodeStatus(NodeTransition { id, .. })
            | Command::ScheduleNode { id, .. }
            | Command::UnscheduleNode { id } => Some(*id),
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
                | Command::RecordPayment { .. }
                | Command::Order(_)
        )
    }

    /// The order an order command targets.
    pub fn order_id(&self) -> Option<OrderId> {
        match self {
            Command::CreateOrder(d) => Some(d.id),
            Command::RecordPayment { id, .. } => Some(*id),
            Command::Order(c) => Some(c.id()),
            Command::AddOrderNote { id, .. } => Some(*id),
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
        Command::NodeStatus(NodeTransition {
            id,
            action,
            expected_version,
        }) => {
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

/// Decides a revert (`RevertNode`): `current` is the node, `target` its content at the
/// version asked for (None when that revision does not exist or was pruned).
pub fn decide_revert(
    current: Option<&Node>,
    target: Option<&NodeAt>,
    command: &Command,
    now: DateTime<Utc>,
) -> Result<(Node, Vec<DomainEvent>), DomainError> {
    let Command::RevertNode {
        id,
        to,
        expected_version,
    } = command
    else {
        return Err(DomainError::validation(
            "command",
            format!("{} is not a revert", command.name()),
        ));
    };
    let node = current.ok_or_else(|| DomainError::not_found("node", id))?;
    node.check_version(*expected_version)?;
    let target = target.ok_or_else(|| {
        DomainError::not_found(
            "revision",
            format!(
                "{to} of node {id} (the last {} revisions are kept)",
                crate::content::MAX_REVISIONS_PER_NODE
            ),
        )
    })?;
    node.revert(target, now)
}

/// Decides a copy (`CopyNode`): `source` is the node copied; `taken` whether the new id is
/// already a node.
pub fn decide_copy(
    source: Option<&Node>,
    taken: bool,
    command: &Command,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(Node, Vec<DomainEvent>), DomainError> {
    let Command::CopyNode { id, from, mine } = command else {
        return Err(DomainError::validation(
            "command",
            format!("{} is not a copy", command.name()),
        ));
    };
    if taken {
        return Err(DomainError::Duplicate {
            what: format!("node {id}"),
        });
    }
    let node = source.ok_or_else(|| DomainError::not_found("node", from))?;
    node.copy(*id, mine.as_ref(), &actor.handle, now)
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
        Command::RecordPayment { id, outcome } => {
            existing(*id)?.record_payment(outcome.clone(), now)
        }
        Command::Order(c) => c.decide(existing(c.id()), now),
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

    /// A valid text for a step input of any kind.
    fn sample(input: &crate::commerce::StepInput) -> &'static str {
        match input.kind {
            crate::commerce::InputKind::Text => "x",
            crate::commerce::InputKind::List => "MUG:1",
            crate::commerce::InputKind::Flag => "yes",
        }
    }

    /// One of each command: every order step and node action, and every other variant
    /// (the exhaustive match in `name_is_the_serde_tag_for_every_command` makes a new variant
    /// fail to compile until it is listed here).
    fn one_of_each() -> Vec<Command> {
        let (tenant, node, order) = (TenantId::new_v7(), NodeId::new_v7(), OrderId::new_v7());
        let mut all = vec![
            Command::CreateTenant {
                id: tenant,
                slug: "a".into(),
                name: "A".into(),
                default_locale: "en".parse().unwrap(),
            },
            Command::CreateNode(NodeDraft {
                id: node,
                kind: crate::content::NodeKind::Article,
                locale: "en".parse().unwrap(),
                title: "T".into(),
                slug: None,
                excerpt: None,
                body: String::new(),
                format: crate::content::BodyFormat::Markdown,
            }),
            Command::UpdateNode {
                id: node,
                patch: NodePatch::default(),
                expected_version: Some(1),
            },
            Command::TranslateNode {
                id: node,
                input: TranslationInput {
                    locale: "de".parse().unwrap(),
                    title: "T".into(),
                    slug: None,
                    excerpt: None,
                    body: None,
                    format: None,
                },
                expected_version: None,
            },
            Command::CreateProduct(ProductDraft {
                id: crate::ProductId::new_v7(),
                variant_id: crate::VariantId::new_v7(),
                locale: "en".parse().unwrap(),
                title: "Mug".into(),
                handle: None,
                status: None,
                sku: "MUG".into(),
                variant_title: None,
                price: Money::parse("1.00", Currency::USD).unwrap(),
                inventory_policy: InventoryPolicy::Deny,
                stock: 1,
                low_stock_threshold: None,
            }),
            Command::AdjustInventory {
                sku: "MUG".into(),
                by: -1,
                reason: "count".into(),
            },
            Command::CreateOrder(OrderDraft {
                id: order,
                customer: None,
                items: vec![("MUG".into(), 1)],
            }),
            Command::RecordPayment {
                id: order,
                outcome: PaymentOutcome::Declined {
                    code: "card_declined".into(),
                    reason: "no".into(),
                },
            },
            Command::AddStaff(crate::staff::StaffDraft {
                id: crate::StaffId::new_v7(),
                handle: "ann".into(),
                display_name: None,
                role: crate::rbac::Role::Editor,
                ssh_keys: vec![],
                mfa_enabled: false,
            }),
            Command::ChangeStaffRole {
                handle: "ann".into(),
                role: crate::rbac::Role::Manager,
            },
            Command::SetStaffMfa {
                handle: "ann".into(),
                enabled: true,
            },
            Command::SetStaffPassword {
                handle: "ann".into(),
                password_hash: "$argon2id$x".into(),
            },
            Command::SetStaffActive {
                handle: "ann".into(),
                active: false,
            },
            Command::RetryDeadLetters { ids: vec![] },
            Command::RetryConsumerDeadLetters {
                consumer: "jetstream:RUSTOK_EVENTS".into(),
                ids: vec![],
            },
            Command::AddOrderNote {
                id: order,
                note_id: crate::NoteId::new_v7(),
                text: "@ann please call".into(),
            },
            Command::RevertNode {
                id: node,
                to: 2,
                expected_version: Some(4),
            },
            Command::CopyNode {
                id: NodeId::new_v7(),
                from: node,
                mine: None,
            },
            Command::ScheduleNode {
                id: node,
                publish_at: Some(chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap()),
                unpublish_at: None,
            },
            Command::UnscheduleNode { id: node },
        ];
        for action in NodeAction::ALL {
            all.push(Command::NodeStatus(NodeTransition {
                id: node,
                action: *action,
                expected_version: Some(3),
            }));
        }
        for action in crate::commerce::OrderAction::ALL {
            let values: Vec<&str> = action.step().inputs.iter().map(sample).collect();
            all.push(action.command(order, Some(2), &values).unwrap());
        }
        all
    }

    #[test]
    fn name_is_the_serde_tag_for_every_command() {
        let all = one_of_each();
        let mut seen = std::collections::BTreeSet::new();
        for c in &all {
            // Exhaustive on purpose: a new variant must be added to `one_of_each`.
            let variant = match c {
                Command::CreateTenant { .. } => 0,
                Command::CreateNode(_) => 1,
                Command::UpdateNode { .. } => 2,
                Command::TranslateNode { .. } => 3,
                Command::CreateProduct(_) => 4,
                Command::AdjustInventory { .. } => 5,
                Command::CreateOrder(_) => 6,
                Command::RecordPayment { .. } => 7,
                Command::AddStaff(_) => 8,
                Command::ChangeStaffRole { .. } => 9,
                Command::SetStaffMfa { .. } => 10,
                Command::SetStaffPassword { .. } => 11,
                Command::SetStaffActive { .. } => 12,
                Command::RetryDeadLetters { .. } => 13,
                Command::NodeStatus(_) => 14,
                Command::Order(_) => 15,
                Command::RetryConsumerDeadLetters { .. } => 16,
                Command::AddOrderNote { .. } => 17,
                Command::RevertNode { .. } => 18,
                Command::CopyNode { .. } => 19,
                Command::ScheduleNode { .. } => 20,
                Command::UnscheduleNode { .. } => 21,
            };
            seen.insert(variant);
            let json = serde_json::to_value(c).unwrap();
            assert_eq!(json["command"], c.name(), "{json}");
            assert_eq!(
                serde_json::from_value::<Command>(json.clone()).unwrap(),
                *c,
                "{json}"
            );
        }
        assert_eq!(seen.len(), 22, "one_of_each lists every variant");
        // Names are unique: the audit log tells every command apart.
        let names: std::collections::BTreeSet<&str> = all.iter().map(Command::name).collect();
        assert_eq!(names.len(), all.len(), "{names:?}");
        // Every order step's declaration names its own command.
        for a in crate::commerce::OrderAction::ALL {
            let values: Vec<&str> = a.step().inputs.iter().map(sample).collect();
            assert_eq!(
                a.command(OrderId::new_v7(), None, &values).unwrap().name(),
                a.step().command
            );
        }
    }

    #[test]
    fn an_unknown_command_or_field_is_refused() {
        for bad in [
            serde_json::json!({"command": "publish_nodes", "id": NodeId::new_v7()}),
            serde_json::json!({"command": "ship_order", "id": OrderId::new_v7(), "extra": 1}),
            serde_json::json!({"id": OrderId::new_v7()}),
        ] {
            assert!(
                serde_json::from_value::<Command>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn step_inputs_are_required_or_optional_and_bounded() {
        use crate::commerce::OrderAction;
        let id = OrderId::new_v7();
        let e = OrderAction::Ship
            .command(id, None, &["UPS", "  "])
            .unwrap_err();
        assert_eq!(e.field(), Some("tracking"));
        assert_eq!(e.to_string(), "tracking: must not be empty");
        let long = "x".repeat(501);
        let e = OrderAction::Cancel.command(id, None, &[&long]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "reason: is 501 characters long; the limit is 500"
        );
        let Command::Order(OrderCommand::HoldOrder { reason, .. }) =
            OrderAction::Hold.command(id, Some(4), &["   "]).unwrap()
        else {
            panic!("a hold");
        };
        assert_eq!(reason, None, "blank is none");
        // A cancel's reason is required: blank is refused.
        let e = OrderAction::Cancel
            .command(id, Some(4), &["   "])
            .unwrap_err();
        assert_eq!(e.to_string(), "reason: must not be empty");
        let Command::Order(OrderCommand::ShipOrder {
            carrier,
            tracking,
            expected_version,
            ..
        }) = OrderAction::Ship
            .command(id, Some(4), &[" UPS ", "1Z"])
            .unwrap()
        else {
            panic!("a shipment");
        };
        assert_eq!(
            (carrier.as_str(), tracking.as_str(), expected_version),
            ("UPS", "1Z", Some(4)),
            "trimmed, at the version given"
        );
    }

    #[test]
    fn list_and_flag_inputs_are_parsed_and_bounded() {
        use crate::commerce::{InputKind, OrderAction, SkuQty};
        let id = OrderId::new_v7();
        let kinds: Vec<InputKind> = OrderAction::Return
            .step()
            .inputs
            .iter()
            .map(|i| i.kind)
            .collect();
        assert_eq!(kinds, [InputKind::List, InputKind::Text, InputKind::Flag]);
        assert!(
            OrderAction::Refund.step().danger,
            "the console asks before a refund"
        );
        let Command::Order(OrderCommand::ReturnOrder { item, restock, .. }) = OrderAction::Return
            .command(id, None, &["MUG:2, CAP:1  MUG:1", "broken", ""])
            .unwrap()
        else {
            panic!("a return");
        };
        let mug = |q| SkuQty {
            sku: "MUG".into(),
            quantity: q,
        };
        assert_eq!(
            item.0[..],
            [
                mug(2),
                SkuQty {
                    sku: "CAP".into(),
                    quantity: 1
                },
                mug(1)
            ]
        );
        assert!(restock, "restock is the default");
        for (flag, want) in [("no", false), ("N", false), ("yes", true), ("on", true)] {
            let Command::Order(OrderCommand::ReturnOrder { restock, .. }) = OrderAction::Return
                .command(id, None, &["MUG:1", "r", flag])
                .unwrap()
            else {
                panic!("a return");
            };
            assert_eq!(restock, want, "{flag}");
        }
        let err = |values: &[&str]| {
            OrderAction::Return
                .command(id, None, values)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(err(&["", "r", ""]), "item: needs at least one SKU:QTY");
        assert_eq!(
            err(&["MUG:1", "r", "maybe"]),
            "restock: 'maybe' is not yes or no"
        );
        assert_eq!(
            err(&["MUG", "r", ""]),
            "item: 'MUG' must look like SKU:QTY, e.g. MUG:2"
        );
        assert!(err(&["MUG:0", "r", ""]).contains("must be at least 1"));
        assert!(err(&["MUG:x", "r", ""]).contains("not a whole number"));
        assert_eq!(
            err(&["bad sku:1", "r", ""]),
            "item: 'bad' must look like SKU:QTY, e.g. MUG:2"
        );
        assert_eq!(err(&["b\u{1b}d:1", "r", ""]).split(':').next(), Some("sku"));
        let many = vec!["MUG:1"; 101].join(" ");
        assert_eq!(
            err(&[&many, "r", ""]),
            "item: has 101 entries; the limit is 100"
        );
        let long = "M".repeat(4001);
        assert!(err(&[&long, "r", ""]).contains("the limit is 4000"));
        // A refund's restock list is optional; its amount is text, read against the order.
        let Command::Order(OrderCommand::RefundOrder {
            amount,
            restock,
            reason,
            ..
        }) = OrderAction::Refund
            .command(id, None, &[" 5.00 ", "late", ""])
            .unwrap()
        else {
            panic!("a refund");
        };
        assert_eq!(
            (amount.as_str(), restock, reason.as_str()),
            ("5.00", vec![], "late")
        );
        assert_eq!(
            OrderAction::Refund
                .command(id, None, &["", "late", ""])
                .unwrap_err()
                .to_string(),
            "amount: must not be empty"
        );
    }

    #[test]
    fn pay_order_is_for_the_queue_only() {
        let id = OrderId::new_v7();
        let pay = Command::Order(OrderCommand::PayOrder {
            expected_version: None,
            id,
            card_token: "tok_visa".into(),
        });
        assert_eq!((pay.name(), pay.order_id()), ("pay_order", Some(id)));
        assert!(pay.is_commerce());
        assert!(
            Command::Order(OrderCommand::DeliverOrder {
                expected_version: None,
                id
            })
            .node_id()
            .is_none()
        );
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
        let confirm = Command::Order(OrderCommand::ConfirmOrder {
            id,
            expected_version: Some(7),
        });
        assert_eq!(
            decide_order(t, Some(&o), &confirm, &[], now)
                .unwrap_err()
                .kind(),
            "conflict"
        );
        let confirm = Command::Order(OrderCommand::ConfirmOrder {
            id,
            expected_version: Some(1),
        });
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
        assert_eq!(pay.name(), "record_payment");
        let (o, _, _) = decide_order(t, Some(&o), &pay, &[], now).unwrap();
        let ship = Command::Order(OrderCommand::ShipOrder {
            expected_version: None,
            id,
            carrier: "UPS".into(),
            tracking: "1Z".into(),
        });
        let (o, _, _) = decide_order(t, Some(&o), &ship, &[], now).unwrap();
        let deliver = Command::Order(OrderCommand::DeliverOrder {
            expected_version: None,
            id,
        });
        let (o, _, _) = decide_order(t, Some(&o), &deliver, &[], now).unwrap();
        let cancel = Command::Order(OrderCommand::CancelOrder {
            expected_version: None,
            id,
            reason: "changed my mind".into(),
        });
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
