//! Staff accounts and RBAC enforcement, and the append-only audit log.
//!
//! [`authorize_in`] runs first in every command's transaction (see `uow.rs`): it loads the
//! acting staff member by handle and checks the role against the command's permission
//! before anything is decided. An empty staff table is bootstrapped on first use: the first
//! actor becomes the owner (as the `default` tenant is created on first use).

use crate::entity::{audit_log, staff, staff_key, tenant};
use crate::error::corrupt;
use crate::repo::{load_tenant, tenant_from_row};
use crate::uow::{map_unique, wrap};
use crate::writes::{Tx, Writes};
use crate::{Store, StoreError, backend_of, outbox, stmt};
use chrono::{DateTime, Utc};
use rustok_domain::audit::{AuditLogEntry, AuditOutcome};
use rustok_domain::rbac::{self, Role};
use rustok_domain::read::{Applied, Outcome, Page};
use rustok_domain::staff::{SshKey, Staff};
use rustok_domain::{Command, CommandEnvelope, CommandId, DomainError, StaffId, Tenant, TenantId};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Value,
};

fn staff_from_rows(m: staff::Model, keys: Vec<staff_key::Model>) -> Result<Staff, StoreError> {
    let mut keys = keys;
    keys.sort_by_key(|k| k.position);
    Ok(Staff {
        id: StaffId::from_uuid(m.id),
        role: m
            .role
            .parse::<Role>()
            .map_err(|e| corrupt("staff role", e))?,
        ssh_keys: keys
            .into_iter()
            .map(|k| SshKey {
                algorithm: k.algorithm,
                key: k.key,
                comment: k.comment,
                fingerprint: k.fingerprint,
                bits: k.bits.map(|b| b.max(0) as u32),
            })
            .collect(),
        has_password: m.password_hash.is_some(),
        password_hash: m.password_hash,
        handle: m.handle,
        display_name: m.display_name,
        mfa_enabled: m.mfa_enabled,
        active: m.active,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

async fn load_staff(c: &impl ConnectionTrait, handle: &str) -> Result<Option<Staff>, StoreError> {
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

async fn insert_staff(c: &impl ConnectionTrait, s: &Staff) -> Result<(), StoreError> {
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

async fn update_staff(c: &impl ConnectionTrait, s: &Staff) -> Result<(), StoreError> {
    staff::Entity::update_many()
        .set(staff::ActiveModel {
            display_name: Set(s.display_name.clone()),
            role: Set(s.role.as_str().to_string()),
            mfa_enabled: Set(s.mfa_enabled),
            password_hash: Set(s.password_hash.clone()),
            active: Set(s.active),
            updated_at: Set(s.updated_at),
            ..Default::default()
        })
        .filter(staff::Column::Id.eq(s.id.as_uuid()))
        .exec(c)
        .await?;
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

fn audit_row(e: &AuditLogEntry) -> audit_log::ActiveModel {
    audit_log::ActiveModel {
        at: Set(e.at),
        actor: Set(e.actor.clone()),
        command: Set(e.command.clone()),
        command_id: Set(e.command_id.as_uuid()),
        tenant_id: Set(e.tenant_id.as_uuid()),
        session: Set(e.session.clone()),
        outcome: Set(e.outcome.as_str().to_string()),
        reason: Set(e.reason.clone()),
        ..Default::default()
    }
}

/// Appends one audit-log entry on `c` (the pool).
pub(crate) async fn insert_audit(
    c: &impl ConnectionTrait,
    e: &AuditLogEntry,
) -> Result<(), StoreError> {
    audit_log::Entity::insert(audit_row(e))
        .exec_without_returning(c)
        .await?;
    Ok(())
}

/// Appends one audit-log entry with a command's writes.
pub(crate) async fn insert_audit_in(
    w: &mut Writes<'_>,
    e: &AuditLogEntry,
) -> Result<(), StoreError> {
    let insert = crate::uow::build(w.txn(), audit_log::Entity::insert(audit_row(e)));
    w.write(insert, || {
        format!("audit entry of command {}", e.command_id)
    })
    .await
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
    // the owner.
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

/// Executes a staff command (after [`authorize_in`] allowed it) in the open transaction.
pub(crate) async fn execute(
    w: &mut Writes<'_>,
    env: &CommandEnvelope,
    actor_role: Role,
    now: DateTime<Utc>,
) -> Result<Applied, StoreError> {
    let txn = w.txn();
    let (next, events, before) = match &env.command {
        Command::AddStaff(draft) => {
            if load_staff(txn, &draft.handle).await?.is_some() {
                return Err(DomainError::Duplicate {
                    what: format!("staff member '{}'", draft.handle),
                }
                .into());
            }
            let (s, ev) = Staff::add(draft.clone(), now)?;
            (s, ev, None)
        }
        command => {
            let handle = command.staff_handle().unwrap_or_default();
            let current = load_staff(txn, handle)
                .await?
                .ok_or_else(|| DomainError::not_found("staff member", format!("'{handle}'")))?;
            rbac::check_target(actor_role, current.role, command)?;
            let (s, ev) = match command {
                Command::ChangeStaffRole { role, .. } => current.change_role(*role, now)?,
                Command::SetStaffMfa { enabled, .. } => current.set_mfa(*enabled, now)?,
                Command::SetStaffPassword { password_hash, .. } => {
                    current.set_password(password_hash, now)?
                }
                Command::SetStaffActive { active, .. } => current.set_active(*active, now)?,
                other => {
                    return Err(DomainError::validation(
                        "command",
                        format!("{} is not a staff command", other.name()),
                    )
                    .into());
                }
            };
            (s, ev, Some(current))
        }
    };
    // Never leave the deployment without an active owner.
    if let Some(prev) = &before
        && prev.role == Role::Owner
        && prev.active
        && (next.role != Role::Owner || !next.active)
    {
        let owners = staff::Entity::find()
            .filter(staff::Column::Role.eq("owner"))
            .filter(staff::Column::Active.eq(true))
            .count(txn)
            .await?;
        if owners <= 1 {
            return Err(DomainError::validation(
                "role",
                format!(
                    "{} is the last active owner; promote another owner first",
                    prev.handle
                ),
            )
            .into());
        }
    }
    match before {
        None => insert_staff(txn, &next).await?,
        Some(_) => update_staff(txn, &next).await?,
    }
    let envelopes = wrap(env, env.tenant_id, next.id.as_uuid(), &events, now)?;
    outbox::append(w, &envelopes).await?;
    Ok(Applied {
        command_id: env.id,
        outcome: Outcome::Staff(next),
        events: envelopes,
    })
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

    /// All staff members, by handle.
    pub async fn staff_list(&self) -> Result<Vec<Staff>, StoreError> {
        let rows = staff::Entity::find()
            .order_by_asc(staff::Column::Handle)
            .all(&self.db)
            .await?;
        let mut keys = staff_key::Entity::find().all(&self.db).await?;
        rows.into_iter()
            .map(|m| {
                let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut keys)
                    .into_iter()
                    .partition(|k| k.staff_id == m.id);
                keys = rest;
                staff_from_rows(m, mine)
            })
            .collect()
    }

    pub async fn staff_by_handle(&self, handle: &str) -> Result<Option<Staff>, StoreError> {
        load_staff(&self.db, handle).await
    }

    /// The staff members holding the key with this SHA256 fingerprint (SSH login).
    pub async fn staff_by_key(&self, fingerprint: &str) -> Result<Vec<Staff>, StoreError> {
        let ids: Vec<uuid::Uuid> = staff_key::Entity::find()
            .select_only()
            .column(staff_key::Column::StaffId)
            .filter(staff_key::Column::Fingerprint.eq(fingerprint))
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut out = Vec::new();
        for id in ids {
            if let Some(m) = staff::Entity::find_by_id(id).one(&self.db).await? {
                let h = m.handle.clone();
                if let Some(s) = load_staff(&self.db, &h).await? {
                    out.push(s);
                }
            }
        }
        Ok(out)
    }

    /// Creates `handle` as the owner when there is no staff member at all (first use).
    /// Returns whether it did.
    pub async fn bootstrap_owner(&self, handle: &str) -> Result<bool, StoreError> {
        if staff_count(&self.db).await? > 0 {
            return Ok(false);
        }
        let owner = Staff::bootstrap_owner(StaffId::new_v7(), handle, Utc::now())?;
        match self
            .in_transaction(async |w: &Tx<'_>| insert_staff(w, &owner).await)
            .await
        {
            Ok(()) => Ok(true),
            Err(StoreError::Domain(DomainError::Duplicate { .. })) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Appends one entry to the audit log.
    pub async fn append_audit(&self, e: &AuditLogEntry) -> Result<(), StoreError> {
        self.in_transaction(async |w: &Tx<'_>| insert_audit(w, e).await)
            .await
    }

    /// A page of the audit log, newest first.
    pub async fn audit_log(
        &self,
        offset: u64,
        limit: u64,
    ) -> Result<Page<AuditLogEntry>, StoreError> {
        self.audit_log_matching(offset, limit, "").await
    }

    /// A page of the audit log entries whose actor, command, outcome, reason or session
    /// contains `text` (ignoring ASCII case; `%` and `_` are plain characters), newest first;
    /// every entry when `text` is blank. `total` counts the matching entries. Matching scans
    /// the log (no index serves a substring), so it costs what the log's size costs.
    pub async fn audit_log_matching(
        &self,
        offset: u64,
        limit: u64,
        text: &str,
    ) -> Result<Page<AuditLogEntry>, StoreError> {
        let mut find = audit_log::Entity::find();
        if let Some(matching) = audit_text_filter(text) {
            find = find.filter(matching);
        }
        let total = find.clone().count(&self.db).await?;
        let rows = find
            .order_by_desc(audit_log::Column::Seq)
            .offset(crate::repo::sql_window(offset))
            .limit(crate::repo::sql_window(limit.max(1)))
            .all(&self.db)
            .await?;
        let rows = rows
            .into_iter()
            .map(|m| {
                Ok(AuditLogEntry {
                    seq: m.seq,
                    at: m.at,
                    actor: m.actor,
                    command: m.command,
                    command_id: CommandId::from_uuid(m.command_id),
                    tenant_id: TenantId::from_uuid(m.tenant_id),
                    session: m.session,
                    outcome: AuditOutcome::parse(&m.outcome)
                        .ok_or_else(|| corrupt("audit outcome", &m.outcome))?,
                    reason: m.reason,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Page {
            total,
            offset,
            rows,
        })
    }

    /// How many audit log entries have this outcome since `since`.
    pub async fn audit_count(
        &self,
        outcome: Option<AuditOutcome>,
        since: Option<DateTime<Utc>>,
    ) -> Result<u64, StoreError> {
        let mut q = audit_log::Entity::find();
        if let Some(o) = outcome {
            q = q.filter(audit_log::Column::Outcome.eq(o.as_str()));
        }
        if let Some(s) = since {
            q = q.filter(audit_log::Column::At.gte(s));
        }
        Ok(q.count(&self.db).await?)
    }
}

/// Entries whose actor, command, outcome, reason or session contains `text` (ASCII case
/// ignored; `%`, `_` and the backslash match themselves); `None` for blank text.
fn audit_text_filter(text: &str) -> Option<sea_orm::Condition> {
    use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
    let text = text.trim().to_ascii_lowercase();
    if text.is_empty() {
        return None;
    }
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    let contains = |c: audit_log::Column| {
        Expr::expr(Func::lower(Func::coalesce([Expr::col(c), Expr::val("")])))
            .like(LikeExpr::new(pattern.clone()).escape('\\'))
    };
    use audit_log::Column as C;
    Some(
        sea_orm::Condition::any()
            .add(contains(C::Actor))
            .add(contains(C::Command))
            .add(contains(C::Outcome))
            .add(contains(C::Reason))
            .add(contains(C::Session)),
    )
}
