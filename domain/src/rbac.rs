//! Role-based access control: roles, `resource:action` permissions, the permission matrix
//! (as data), the permission every command needs, and the check the store runs before
//! deciding any command.
//!
//! `manage` on a resource implies every action on it; `*:manage` (the owner's grant) implies
//! everything. The matrix is [`MATRIX`]; docs/SECURITY.md renders it as a table.

use crate::DomainError;
use crate::command::Command;
use crate::content::NodeAction;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A staff member's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including granting the owner role.
    Owner,
    /// Runs the platform: tenants, staff (not owners), content, commerce, the audit.
    Admin,
    /// Store staff: catalog, stock and orders.
    Manager,
    /// Content: nodes, translations, publishing.
    Editor,
    /// Read-only: watches events, reads orders and content, changes nothing.
    Support,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Owner,
        Role::Admin,
        Role::Manager,
        Role::Editor,
        Role::Support,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Editor => "editor",
            Role::Support => "support",
        }
    }

    /// The permissions this role is granted (one row of [`MATRIX`]).
    pub fn grants(&self) -> &'static [&'static str] {
        MATRIX
            .iter()
            .find(|(r, _)| r == self)
            .map(|(_, g)| *g)
            .unwrap_or(&[])
    }

    /// Is `permission` granted, directly or through `manage`?
    pub fn allows(&self, permission: Permission) -> bool {
        self.grants()
            .iter()
            .any(|g| Permission::parse_grant(g).is_some_and(|g| g.implies(permission)))
    }

    /// Does this role hold any grant that changes data?
    pub fn can_mutate(&self) -> bool {
        self.grants().iter().any(|g| !g.ends_with(":read"))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Through `FromStr`, so a bad value's message is escaped (serde's own quotes it raw).
impl<'de> Deserialize<'de> for Role {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl FromStr for Role {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| {
                DomainError::validation(
                    "role",
                    format!(
                        "'{}' is not a role (owner, admin, manager, editor, support)",
                        crate::text::excerpt(s, crate::text::EXCERPT_CHARS)
                    ),
                )
            })
    }
}

/// A permission: `resource:action`. `*` as resource and `manage` as action are wildcards in
/// grants only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Permission {
    pub resource: &'static str,
    pub action: &'static str,
}

impl Permission {
    pub const fn new(resource: &'static str, action: &'static str) -> Self {
        Self { resource, action }
    }

    fn parse_grant(g: &'static str) -> Option<Permission> {
        g.split_once(':').map(|(r, a)| Permission::new(r, a))
    }

    /// Does this grant cover `needed`?
    pub fn implies(&self, needed: Permission) -> bool {
        (self.resource == "*" || self.resource == needed.resource)
            && (self.action == "manage" || self.action == needed.action)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.resource, self.action)
    }
}

/// The permission matrix: what each role is granted. `manage` implies every action on its
/// resource; `*:manage` implies everything.
///
/// | resource  | actions                                                        |
/// |-----------|----------------------------------------------------------------|
/// | tenant    | create, read                                                   |
/// | content   | create, update, translate, publish, archive, read              |
/// | product   | create, read                                                   |
/// | inventory | adjust, read                                                   |
/// | order     | create, read, note, and each step as `order:<step>` (confirm, pay, ship, …) |
/// | staff     | create, update, read, grant_owner                              |
/// | audit     | run, read                                                      |
/// | event     | read                                                           |
/// | outbox    | retry (re-drive dead letters), relay (deliver and prune by hand)  |
pub const MATRIX: &[(Role, &[&str])] = &[
    (Role::Owner, &["*:manage"]),
    (
        Role::Admin,
        &[
            "tenant:manage",
            "content:manage",
            "product:manage",
            "inventory:manage",
            "order:manage",
            "staff:create",
            "staff:update",
            "staff:read",
            "audit:manage",
            "event:read",
            "outbox:manage",
        ],
    ),
    (
        Role::Manager,
        &[
            "tenant:read",
            "content:read",
            "product:manage",
            "inventory:manage",
            "order:manage",
            "event:read",
        ],
    ),
    (
        Role::Editor,
        &[
            "tenant:read",
            "content:manage",
            "product:read",
            "event:read",
        ],
    ),
    (
        Role::Support,
        &[
            "tenant:read",
            "content:read",
            "product:read",
            "inventory:read",
            "order:read",
            "event:read",
        ],
    ),
];

/// A permission and how a denial describes the work it guards ("pay orders").
pub type Requirement = (Permission, &'static str);

/// What the content commands need. [`requirement`] maps each content command to one of these;
/// the console checks a key against the same one before it opens a form or asks to confirm,
/// so what it offers and what the store allows cannot drift apart.
pub const CREATE_CONTENT: Requirement = (Permission::new("content", "create"), "create content");
pub const EDIT_CONTENT: Requirement = (Permission::new("content", "update"), "edit content");
pub const TRANSLATE_CONTENT: Requirement =
    (Permission::new("content", "translate"), "translate content");
pub const REVERT_CONTENT: Requirement = (Permission::new("content", "update"), "revert content");
pub const COPY_CONTENT: Requirement = (Permission::new("content", "create"), "copy content");
/// Scheduling is publishing ahead of time: the same permission as publishing.
pub const SCHEDULE_CONTENT: Requirement =
    (Permission::new("content", "publish"), "schedule publishing");
pub const UNSCHEDULE_CONTENT: Requirement = (
    Permission::new("content", "publish"),
    "cancel scheduled publishing",
);

/// What a node's status change needs.
pub fn node_action_requirement(action: NodeAction) -> Requirement {
    let p = Permission::new;
    match action {
        NodeAction::Publish => (p("content", "publish"), "publish content"),
        NodeAction::Unpublish => (p("content", "publish"), "unpublish content"),
        NodeAction::Archive => (p("content", "archive"), "archive content"),
        NodeAction::Restore => (p("content", "archive"), "restore content"),
    }
}

/// The permission a command needs and how a denial describes it ("pay orders").
pub fn requirement(command: &Command) -> Requirement {
    use Command as C;
    let p = Permission::new;
    match command {
        C::CreateTenant { .. } => (p("tenant", "create"), "create tenants"),
        C::CreateNode(_) => CREATE_CONTENT,
        C::UpdateNode { .. } => EDIT_CONTENT,
        C::TranslateNode { .. } => TRANSLATE_CONTENT,
        C::NodeStatus(t) => node_action_requirement(t.action),
        C::CreateProduct(_) => (p("product", "create"), "create products"),
        C::AdjustInventory { .. } => (p("inventory", "adjust"), "adjust inventory"),
        C::CreateOrder(_) => (p("order", "create"), "create orders"),
        C::RecordPayment { .. } => (p("order", "pay"), "pay orders"),
        // A step's permission is `order:<step>` (`commerce/steps.rs`).
        C::Order(c) => {
            let step = c.action().step();
            (p("order", c.action().as_str()), step.deny)
        }
        C::AddStaff(d) if d.role == Role::Owner => {
            (p("staff", "grant_owner"), "grant the owner role")
        }
        C::AddStaff(_) => (p("staff", "create"), "add staff"),
        C::ChangeStaffRole { role, .. } if *role == Role::Owner => {
            (p("staff", "grant_owner"), "grant the owner role")
        }
        C::ChangeStaffRole { .. } => (p("staff", "update"), "change staff roles"),
        C::SetStaffMfa { .. } => (p("staff", "update"), "change staff MFA"),
        C::SetStaffPassword { .. } => (p("staff", "update"), "set staff passwords"),
        C::SetStaffActive { .. } => (p("staff", "update"), "activate or deactivate staff"),
        C::RetryDeadLetters { .. } | C::RetryConsumerDeadLetters { .. } => {
            (p("outbox", "retry"), "re-drive dead letters")
        }
        C::AddOrderNote { .. } => (p("order", "note"), "write order notes"),
        C::RevertNode { .. } => REVERT_CONTENT,
        C::CopyNode { .. } => COPY_CONTENT,
        C::ScheduleNode { .. } => SCHEDULE_CONTENT,
        C::UnscheduleNode { .. } => UNSCHEDULE_CONTENT,
    }
}

/// Seeding demo data (it writes many rows at once, in bulk without each command's own check)
/// is owner and admin work: `tenant:seed`.
pub const SEED: Permission = Permission::new("tenant", "seed");

/// Re-queueing dead letters by hand and running the relay by hand (`outbox relay`: it
/// delivers and prunes) are owner and admin work.
pub const OUTBOX_RELAY: Permission = Permission::new("outbox", "relay");

/// The permission that reading an event of `event_type` needs: the read permission of the
/// aggregate it belongs to, so an event never shows what its aggregate's own read would
/// refuse. Stock events (`inventory.*`, on a product) need `inventory:read`; order and
/// payment events `order:read`; staff events `staff:read`; node events `content:read`;
/// product events `product:read`; tenant events `tenant:read`. A type the registry does not
/// know is for owners only (`event:manage`).
pub fn event_read_permission(event_type: &str) -> Permission {
    let p = Permission::new;
    if event_type.starts_with("inventory.") {
        return p("inventory", "read");
    }
    match crate::event::registered(event_type).map(|i| i.aggregate_type) {
        Some("node") => p("content", "read"),
        Some("product") => p("product", "read"),
        Some("order") => p("order", "read"),
        Some("staff") => p("staff", "read"),
        Some("tenant") => p("tenant", "read"),
        _ => p("event", "manage"),
    }
}

impl Role {
    /// May this role read an event of `event_type` (its type, payload, aggregate)?
    pub fn can_read_event(&self, event_type: &str) -> bool {
        self.allows(Permission::new("event", "read"))
            && self.allows(event_read_permission(event_type))
    }

    /// The registered event types this role may read: `None` when it may read every one (no
    /// filter needed), else the list (possibly empty).
    pub fn readable_event_types(&self) -> Option<Vec<&'static str>> {
        let all = crate::event::REGISTRY;
        let mine: Vec<&'static str> = all
            .iter()
            .map(|i| i.event_type)
            .filter(|t| self.can_read_event(t))
            .collect();
        (mine.len() < all.len()).then_some(mine)
    }
}

/// May `role` do what `permission` guards (a read, or an operation that is not a command,
/// such as running the relay by hand)? The same one-line denial as a command's.
pub fn check_permission(role: Role, permission: Permission, what: &str) -> Result<(), DomainError> {
    if role.allows(permission) {
        Ok(())
    } else {
        Err(DomainError::denied(format!(
            "{role} cannot {what} (needs {permission})"
        )))
    }
}

/// The permission `command` needs.
pub fn required_permission(command: &Command) -> Permission {
    requirement(command).0
}

/// May `role` run `command`? A denial is one line, e.g.
/// `permission denied: editor cannot pay orders (needs order:pay)`.
pub fn check(role: Role, command: &Command) -> Result<(), DomainError> {
    let (needed, what) = requirement(command);
    check_permission(role, needed, what)
}

/// Changing a staff member who is an owner (role, MFA, password, deactivation) is for owners
/// only, so an admin can never lock an owner out.
pub fn check_target(
    actor_role: Role,
    target_role: Role,
    command: &Command,
) -> Result<(), DomainError> {
    if target_role == Role::Owner && actor_role != Role::Owner {
        let (_, what) = requirement(command);
        return Err(DomainError::denied(format!(
            "{actor_role} cannot {what} of an owner (needs staff:grant_owner)"
        )));
    }
    Ok(())
}

/// The refusal of every command in a read-only session.
pub fn read_only_denial(command: &Command) -> DomainError {
    let (needed, what) = requirement(command);
    DomainError::denied(format!(
        "read-only session cannot {what} (needs {needed}; start without --read-only)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CommandId, OrderId};

    #[test]
    fn manage_implies_every_action_and_wildcards_only_grant() {
        let g = Permission::new("order", "manage");
        assert!(g.implies(Permission::new("order", "pay")));
        assert!(!g.implies(Permission::new("content", "publish")));
        assert!(Permission::new("*", "manage").implies(Permission::new("staff", "grant_owner")));
        assert!(!Permission::new("order", "read").implies(Permission::new("order", "pay")));
        let _ = CommandId::new_v7();
    }

    #[test]
    fn denials_are_one_line_with_the_permission() {
        let pay = Command::Order(crate::commerce::OrderCommand::PayOrder {
            expected_version: None,
            id: OrderId::new_v7(),
            card_token: "tok_visa".into(),
        });
        let e = check(Role::Editor, &pay).unwrap_err();
        assert_eq!(
            e.to_string(),
            "permission denied: editor cannot pay orders (needs order:pay)"
        );
        assert_eq!(e.kind(), "permission");
        assert!(check(Role::Manager, &pay).is_ok());
        assert!(check(Role::Support, &pay).is_err());
        assert_eq!(required_permission(&pay).to_string(), "order:pay");
        assert!(read_only_denial(&pay).to_string().contains("read-only"));
    }

    #[test]
    fn events_are_read_by_the_rule_of_their_aggregate() {
        // Owners and admins read every event; nobody else reads staff events.
        assert_eq!(Role::Owner.readable_event_types(), None);
        assert_eq!(Role::Admin.readable_event_types(), None);
        for r in [Role::Manager, Role::Editor, Role::Support] {
            assert!(!r.can_read_event("staff.added"), "{r}");
            assert!(r.can_read_event("node.published"), "{r}");
            assert!(r.can_read_event("tenant.created"), "{r}");
        }
        // An editor sees no order, payment or stock payloads.
        for t in [
            "order.placed",
            "order.status_changed",
            "payment.failed",
            "payment.refunded",
            "inventory.low",
            "inventory.updated",
        ] {
            assert!(!Role::Editor.can_read_event(t), "{t}");
            assert!(Role::Support.can_read_event(t), "{t}");
            assert!(Role::Manager.can_read_event(t), "{t}");
        }
        assert!(Role::Editor.can_read_event("product.created"));
        let editor = Role::Editor.readable_event_types().unwrap();
        assert!(editor.contains(&"node.created") && !editor.contains(&"order.placed"));
        // Unknown types: owners only.
        assert!(Role::Owner.can_read_event("made.up"));
        assert!(!Role::Admin.can_read_event("made.up"));
    }

    #[test]
    fn outbox_work_is_for_owners_and_admins() {
        let retry = Command::RetryDeadLetters { ids: vec![] };
        let stream = Command::RetryConsumerDeadLetters {
            consumer: "jetstream:RUSTOK_EVENTS".into(),
            ids: vec![],
        };
        for r in Role::ALL {
            let allowed = matches!(r, Role::Owner | Role::Admin);
            assert_eq!(check(r, &retry).is_ok(), allowed, "{r}");
            assert_eq!(check(r, &stream).is_ok(), allowed, "{r}");
            assert_eq!(
                check_permission(r, OUTBOX_RELAY, "run the relay").is_ok(),
                allowed,
                "{r}"
            );
        }
        assert_eq!(
            check(Role::Support, &retry).unwrap_err().to_string(),
            "permission denied: support cannot re-drive dead letters (needs outbox:retry)"
        );
    }

    #[test]
    fn managers_and_up_write_order_notes_support_and_editors_do_not() {
        let note = Command::AddOrderNote {
            id: OrderId::new_v7(),
            note_id: crate::NoteId::new_v7(),
            text: "@bob".into(),
        };
        for r in Role::ALL {
            let allowed = matches!(r, Role::Owner | Role::Admin | Role::Manager);
            assert_eq!(check(r, &note).is_ok(), allowed, "{r}");
        }
        assert_eq!(
            check(Role::Support, &note).unwrap_err().to_string(),
            "permission denied: support cannot write order notes (needs order:note)"
        );
        // Notes are read like the order they are on.
        assert!(Role::Support.can_read_event("order.note_added"));
        assert!(!Role::Editor.can_read_event("order.note_added"));
    }

    #[test]
    fn roles_parse_and_support_is_read_only() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
            assert!(!r.grants().is_empty());
        }
        assert!("root".parse::<Role>().is_err());
        assert!(!Role::Support.can_mutate());
        assert!(Role::Editor.can_mutate());
        assert!(Role::Admin.allows(Permission::new("staff", "create")));
        assert!(!Role::Admin.allows(Permission::new("staff", "grant_owner")));
        assert!(Role::Owner.allows(Permission::new("staff", "grant_owner")));
    }
}
