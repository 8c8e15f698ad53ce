//! The staff commands — add a member; change a member's role, MFA, password or active flag —
//! and the staff reads. Staff accounts are deployment-wide; who may change whom is checked
//! against the actor's role (`authz.rs`) before anything is decided.

use crate::authz::{authorize_in, insert_staff, load_staff};
use crate::entity::{staff, staff_key};
use crate::outbox::{applied, wrap};
use crate::rows::staff_from_rows;
use crate::writes::Writes;
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use rustok_domain::event::DomainEvent;
use rustok_domain::rbac::{self, Role};
use rustok_domain::read::{Applied, Outcome};
use rustok_domain::staff::{Staff, StaffDraft};
use rustok_domain::{Command, CommandEnvelope, DomainError};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

/// `AddStaff`: a new member, whose handle must be free.
pub(crate) async fn add(
    w: &mut Writes<'_>,
    env: &CommandEnvelope,
    draft: &StaffDraft,
    now: DateTime<Utc>,
) -> Result<Applied, StoreError> {
    // RBAC before deciding: a denial is a DomainError and the transaction writes nothing.
    authorize_in(w.txn(), env, now).await?;
    let txn = w.txn();
    if load_staff(txn, &draft.handle).await?.is_some() {
        return Err(DomainError::Duplicate {
            what: format!("staff member '{}'", draft.handle),
        }
        .into());
    }
    let (next, events) = Staff::add(draft.clone(), now)?;
    insert_staff(txn, &next).await?;
    finish(w, env, next, &events, now).await
}

/// A change to an existing member (`ChangeStaffRole`, `SetStaffMfa`, `SetStaffPassword`,
/// `SetStaffActive`): the actor's role must outrank what it changes, and the deployment is
/// never left without an active owner.
pub(crate) async fn change(
    w: &mut Writes<'_>,
    env: &CommandEnvelope,
    now: DateTime<Utc>,
) -> Result<Applied, StoreError> {
    let actor_role = authorize_in(w.txn(), env, now).await?;
    let txn = w.txn();
    let command = &env.command;
    let handle = command.staff_handle().unwrap_or_default();
    let current = load_staff(txn, handle)
        .await?
        .ok_or_else(|| DomainError::not_found("staff member", format!("'{handle}'")))?;
    rbac::check_target(actor_role, current.role, command)?;
    let (next, events) = match command {
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
    // Never leave the deployment without an active owner.
    if current.role == Role::Owner && current.active && (next.role != Role::Owner || !next.active) {
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
                    current.handle
                ),
            )
            .into());
        }
    }
    update_staff(txn, &next).await?;
    finish(w, env, next, &events, now).await
}

/// The member's events in the outbox, and what the command applied.
async fn finish(
    w: &mut Writes<'_>,
    env: &CommandEnvelope,
    next: Staff,
    events: &[DomainEvent],
    now: DateTime<Utc>,
) -> Result<Applied, StoreError> {
    let envelopes = wrap(env, env.tenant_id, next.id.as_uuid(), events, now)?;
    applied(w, env, Outcome::Staff(next), envelopes).await
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

impl Store {
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
}
