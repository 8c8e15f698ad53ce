//! Who may do what: RBAC over the staff table, checked first in every command's transaction.
//!
//! [`authorize_in`] loads the acting staff member by handle and checks the role against the
//! command's permission before anything is decided; [`active_tenant`] does it and loads the
//! command's tenant in one query. An empty staff table is bootstrapped on first use: the first
//! actor becomes the owner (as the `default` tenant is created on first use). The staff rows
//! RBAC needs (load, insert, count, the first-use lock) live here; the staff commands
//! (`staff.rs`) use them too.

use crate::entity::{staff, staff_key, tenant};
use crate::error::{corrupt, map_unique};
use crate::repo::load_tenant;
use crate::rows::{staff_from_rows, tenant_from_row};
use crate::writes::Tx;
use crate::{Store, StoreError, backend_of, stmt};
use chrono::{DateTime, Utc};
use rustok_domain::rbac::{self, Role};
use rustok_domain::staff::Staff;
use rustok_domain::{Command, CommandEnvelope, DomainError, StaffId, Tenant};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait,
    QueryFilter, Value,
};

/// The staff member with this handle, with their SSH keys.
pub(crate) async fn load_staff(
    c: &impl ConnectionTrait,
    handle: &str,
) -> Result<Option<Staff>, StoreError> {
    let Some(m) = staff::Entity::find()
        .filter(staff::Column::Handle.eq(handle))
        .one(c)
        .await?
    else {
        return Ok(None);
    };
    let keys = staff_key::Entity::find()
        .filter(staff_key::Column::StaffId.eq(m.id))
        .all(c)
        .await?;
    staff_from_rows(m, keys).map(Some)
}

async fn staff_count(c: &impl ConnectionTrait) -> Result<u64, StoreError> {
    Ok(staff::Entity::find().count(c).await?)
}

/// First use — bootstrapping the owner on an empty staff table — one process at a time, so
/// processes starting together on a new database make one owner, not one each. SQLite's
/// writing transaction is already exclusive (`BEGIN IMMEDIATE`); on PostgreSQL a
/// transaction-scoped advisory lock, after which the count is read again.
async fn lock_first_use(c: &impl ConnectionTrait) -> Result<(), StoreError> {
    if c.get_database_backend() == sea_orm::DbBackend::Postgres {
        c.execute_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            // "rustok-first-use" as a number: any constant shared by every process.
            "SELECT pg_advisory_xact_lock(7265737401)",
        ))
        .await?;
    }
    Ok(())
}

pub(crate) async fn insert_staff(c: &impl ConnectionTrait, s: &Staff) -> Result<(), StoreError> {
    staff::Entity::insert(staff::ActiveModel {
        id: Set(s.id.as_uuid()),
        handle: Set(s.handle.clone()),
        display_name: Set(s.display_name.clone()),
        role: Set(s.role.as_str().to_string()),
        mfa_enabled: Set(s.mfa_enabled),
        password_hash: Set(s.password_hash.clone()),
        active: Set(s.active),
        created_at: Set(s.created_at),
        updated_at: Set(s.updated_at),
    })
    .exec(c)
    .await
    .map_err(|e| map_unique(e, || format!("staff member '{}'", s.handle)))?;
    for (i, k) in s.ssh_keys.iter().enumerate() {
        staff_key::Entity::insert(staff_key::ActiveModel {
            staff_id: Set(s.id.as_uuid()),
            fingerprint: Set(k.fingerprint.clone()),
            algorithm: Set(k.algorithm.clone()),
            key: Set(k.key.clone()),
            comment: Set(k.comment.clone()),
            bits: Set(k.bits.map(|b| b as i32)),
            position: Set(i as i32),
        })
        .exec(c)
        .await
        .map_err(|e| {
            map_unique(e, || {
                format!("SSH key {} for '{}'", k.fingerprint, s.handle)
            })
        })?;
    }
    Ok(())
}

/// The role and active flag of the staff member with this handle: the one row RBAC needs
/// (one query; the SSH keys are not needed to authorize a command).
async fn access_of(
    c: &impl ConnectionTrait,
    handle: &str,
) -> Result<Option<(Role, bool)>, StoreError> {
    // The whole row, read by column name (see `local.rs`: not a tuple read by position).
    let row = staff::Entity::find()
        .filter(staff::Column::Handle.eq(handle))
        .one(c)
        .await?;
    row.map(|m| {
        let role = m
            .role
            .parse::<Role>()
            .map_err(|e| corrupt("staff role", e))?;
        Ok((role, m.active))
    })
    .transpose()
}

/// The acting staff member's role, checked against the command. Inside the command's
/// transaction; bootstraps the first owner on an empty staff table.
pub(crate) async fn authorize_in(
    txn: &Tx<'_>,
    env: &CommandEnvelope,
    now: DateTime<Utc>,
) -> Result<Role, StoreError> {
    if let Some(role) = authorize_on(txn, env).await? {
        return Ok(role);
    }
    // An empty staff table (`authorize_on` refused anyone else): the first actor becomes
    // the owner — unless another process bootstrapped meanwhile, and then this actor is
    // judged as anyone else.
    lock_first_use(txn).await?;
    if staff_count(txn).await? > 0 {
        return authorize_on(txn, env)
            .await?
            .ok_or_else(|| unknown(&env.actor.handle).into());
    }
    let owner = Staff::bootstrap_owner(StaffId::new_v7(), &env.actor.handle, now)
        .map_err(|e| DomainError::denied(format!("cannot bootstrap the first owner: {e}")))?;
    insert_staff(txn, &owner).await?;
    tracing::info!(handle = %owner.handle, "first use: bootstrapped the owner");
    Ok(Role::Owner)
}

/// [`authorize_in`] and the command's tenant (`None` if there is no such tenant): one query
/// when the actor is on the staff and the tenant exists, as for nearly every command.
pub(crate) async fn authorize_with_tenant(
    txn: &Tx<'_>,
    env: &CommandEnvelope,
    now: DateTime<Utc>,
) -> Result<(Role, Option<Tenant>), StoreError> {
    if env.actor.read_only {
        return Err(rbac::read_only_denial(&env.command).into());
    }
    let row = txn
        .query_one_raw(stmt(
            backend_of(txn),
            "SELECT tenants.*, staff.role AS staff_role, staff.active AS staff_active \
             FROM tenants LEFT JOIN staff ON staff.handle = $1 WHERE tenants.id = $2",
            vec![
                Value::from(env.actor.handle.as_str()),
                Value::from(env.tenant_id.as_uuid()),
            ],
        ))
        .await?;
    if let Some(r) = row {
        let role: Option<String> = r.try_get("", "staff_role")?;
        let active: Option<bool> = r.try_get("", "staff_active")?;
        if let (Some(role), Some(active)) = (role, active) {
            let role = role.parse::<Role>().map_err(|e| corrupt("staff role", e))?;
            let role = check_member(&env.actor.handle, role, active, &env.command)?;
            let tenant = tenant_from_row(tenant::Model::from_query_result(&r, "")?)?;
            return Ok((role, Some(tenant)));
        }
    }
    // Not on the staff (unknown, or the first use of an empty staff table), or no such
    // tenant: the same answers as the two questions asked one by one.
    let role = authorize_in(txn, env, now).await?;
    Ok((role, load_tenant(txn, env.tenant_id).await?))
}

/// [`authorize_with_tenant`] for a command on an existing tenant: the tenant, or not found.
pub(crate) async fn existing_tenant(
    txn: &Tx<'_>,
    env: &CommandEnvelope,
    now: DateTime<Utc>,
) -> Result<Tenant, StoreError> {
    let (_, tenant) = authorize_with_tenant(txn, env, now).await?;
    Ok(tenant.ok_or_else(|| DomainError::not_found("tenant", env.tenant_id))?)
}

/// [`existing_tenant`] for a command that changes the tenant's content, catalog or orders:
/// the tenant must also be active.
pub(crate) async fn active_tenant(
    txn: &Tx<'_>,
    env: &CommandEnvelope,
    now: DateTime<Utc>,
) -> Result<Tenant, StoreError> {
    let tenant = existing_tenant(txn, env, now).await?;
    if !tenant.is_active {
        return Err(DomainError::validation(
            "tenant",
            format!("tenant '{}' is not active", tenant.slug),
        )
        .into());
    }
    Ok(tenant)
}

/// [`Store::authorize`] on `c`: the actor's role if they may run the command, `None` when the
/// staff table is empty (the command's transaction bootstraps the owner), a denial otherwise.
pub(crate) async fn authorize_on(
    c: &impl ConnectionTrait,
    env: &CommandEnvelope,
) -> Result<Option<Role>, StoreError> {
    if env.actor.read_only {
        return Err(rbac::read_only_denial(&env.command).into());
    }
    match access_of(c, &env.actor.handle).await? {
        Some((role, active)) => {
            check_member(&env.actor.handle, role, active, &env.command).map(Some)
        }
        None if staff_count(c).await? == 0 => Ok(None),
        None => Err(unknown(&env.actor.handle).into()),
    }
}

fn unknown(handle: &str) -> DomainError {
    DomainError::denied(format!(
        "unknown staff member '{}'",
        rustok_domain::text::printable(handle)
    ))
}

fn check_member(
    handle: &str,
    role: Role,
    active: bool,
    command: &Command,
) -> Result<Role, StoreError> {
    if !active {
        return Err(DomainError::denied(format!("staff member '{handle}' is inactive")).into());
    }
    rbac::check(role, command)?;
    Ok(role)
}

impl Store {
    /// May this envelope's actor run its command? The same check the transaction makes, for
    /// callers that must refuse before doing anything outside it (the queue checks before
    /// asking the payment gateway). An empty staff table allows (the command's transaction
    /// bootstraps the owner).
    pub async fn authorize(&self, env: &CommandEnvelope) -> Result<Option<Role>, StoreError> {
        authorize_on(&self.db, env).await
    }

    /// May `handle` read what `permission` guards (the staff list, the audit log, the
    /// security audit)? Returns the staff member's role, or a one-line denial naming the
    /// permission, e.g. `editor cannot read the audit log (needs audit:read)`. Unlike
    /// commands, reads do not bootstrap an owner: an unknown handle is denied.
    pub async fn authorize_read(
        &self,
        handle: &str,
        permission: rbac::Permission,
        what: &str,
    ) -> Result<Role, StoreError> {
        match load_staff(&self.db, handle).await? {
            None => Err(unknown(handle).into()),
            Some(s) if !s.active => {
                Err(DomainError::denied(format!("staff member '{}' is inactive", s.handle)).into())
            }
            Some(s) if !s.role.allows(permission) => Err(DomainError::denied(format!(
                "{} cannot {what} (needs {permission})",
                s.role
            ))
            .into()),
            Some(s) => Ok(s.role),
        }
    }

    /// Creates `handle` as the owner when there is no staff member at all (first use).
    /// Returns whether it did.
    pub async fn bootstrap_owner(&self, handle: &str) -> Result<bool, StoreError> {
        if staff_count(&self.db).await? > 0 {
            return Ok(false);
        }
        let owner = Staff::bootstrap_owner(StaffId::new_v7(), handle, Utc::now())?;
        match self
            .in_transaction(async |w: &Tx<'_>| {
                // Counted again under the first-use lock: another process may have
                // bootstrapped since the count above.
                lock_first_use(w).await?;
                if staff_count(w).await? > 0 {
                    return Ok(false);
                }
                insert_staff(w, &owner).await.map(|()| true)
            })
            .await
        {
            Ok(made) => Ok(made),
            Err(StoreError::Domain(DomainError::Duplicate { .. })) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
