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
/// | order     | create, confirm, pay, ship, deliver, cancel, read              |
/// | staff     | create, update, read, grant_owner                              |
/// | audit     | run, read                                                      |
/// | event     | read                                                           |
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

/// The permission a command needs and how a denial describes it ("pay orders").
pub fn requirement(command: &Command) -> (Permission, &'static str) {
    use Command as C;
    let p = Permission::new;
    match command {
        C::CreateTenant { .. } => (p("tenant", "create"), "create tenants"),
        C::CreateNode(_) => (p("content", "create"), "create content"),
        C::UpdateNode { .. } => (p("content", "update"), "edit content"),
        C::TranslateNode { .. } => (p("content", "translate"), "translate content"),
        C::ChangeNodeStatus { action, .. } => match action {
            NodeAction::Publish => (p("content", "publish"), "publish content"),
            NodeAction::Unpublish => (p("content", "publish"), "unpublish content"),
            NodeAction::Archive => (p("content", "archive"), "archive content"),
            NodeAction::Restore => (p("content", "archive"), "restore content"),
        },
        C::CreateProduct(_) => (p("product", "create"), "create products"),
        C::AdjustInventory { .. } => (p("inventory", "adjust"), "adjust inventory"),
        C::CreateOrder(_) => (p("order", "create"), "create orders"),
        C::ConfirmOrder { .. } => (p("order", "confirm"), "confirm orders"),
        C::RecordPayment { .. } | C::PayOrder { .. } => (p("order", "pay"), "pay orders"),
        C::ShipOrder { .. } => (p("order", "ship"), "ship orders"),
        C::DeliverOrder { .. } => (p("order", "deliver"), "deliver orders"),
        C::CancelOrder { .. } => (p("order", "cancel"), "cancel orders"),
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
    if role.allows(needed) {
        Ok(())
    } else {
        Err(DomainError::denied(format!(
            "{role} cannot {what} (needs {needed})"
        )))
    }
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
        let pay = Command::PayOrder {
            id: OrderId::new_v7(),
            card_token: "tok_visa".into(),
        };
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
