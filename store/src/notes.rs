//! Order notes and mentions: the `AddOrderNote` command and the reads of notes and of a staff
//! member's unread mentions (migration `m20261207_000007_order_notes`).
//!
//! A note is written beside its order: the order's row is read (tenant-filtered, so another
//! tenant's order is not found) but never written, so its version does not move and no
//! colleague's step sent at that version is refused because of a note. The domain decides the
//! note against the staff who can be mentioned (`OrderNote::write`); the note, one
//! `order_mentions` row per mentioned member (unread) and the `order.note_added` event are
//! written in the command's transaction.

use crate::authz::active_tenant;
use crate::entity::{order, order_mention, order_note, staff};
use crate::error::corrupt;
use crate::outbox::{applied, wrap};
use crate::rows::sql_window;
use crate::writes::{Tx, Writes, build};
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use rustok_domain::commerce::{Mention, Mentionable, OrderNote};
use rustok_domain::rbac::Role;
use rustok_domain::read::{Applied, Outcome};
use rustok_domain::{CommandEnvelope, DomainError, NoteId, OrderId, TenantId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

/// Most unread mentions a console is given at once (the newest).
pub const MAX_UNREAD_MENTIONS: u64 = 200;
/// Most notes `order show` lists (the oldest first; an order's timeline is not a chat).
pub const MAX_NOTES_SHOWN: u64 = 1_000;

fn note_from_row(m: order_note::Model) -> Result<OrderNote, StoreError> {
    let mentions: Vec<String> =
        serde_json::from_str(&m.mentions).map_err(|e| corrupt("note mentions", e))?;
    Ok(OrderNote {
        id: NoteId::from_uuid(m.id),
        tenant_id: TenantId::from_uuid(m.tenant_id),
        order_id: OrderId::from_uuid(m.order_id),
        author: m.author,
        text: m.text,
        mentions,
        created_at: m.created_at,
    })
}

/// `AddOrderNote`: a note on an existing order of the tenant, its mentions checked against
/// the staff.
pub(crate) async fn add(
    w: &mut Writes<'_>,
    env: &CommandEnvelope,
    order_id: OrderId,
    note_id: NoteId,
    text: &str,
    now: DateTime<Utc>,
) -> Result<Applied, StoreError> {
    let txn = w.txn();
    let tenant_id = active_tenant(txn, env, now).await?.id;
    let exists = order::Entity::find_by_id(order_id.as_uuid())
        .filter(order::Column::TenantId.eq(tenant_id.as_uuid()))
        .one(txn)
        .await?
        .is_some();
    if !exists {
        return Err(DomainError::not_found("order", order_id).into());
    }
    // The staff who could be mentioned (deployment-wide, a small table).
    let members = staff::Entity::find().all(txn).await?;
    let mut roles = Vec::with_capacity(members.len());
    for m in &members {
        let role = m
            .role
            .parse::<Role>()
            .map_err(|e| corrupt("staff role", e))?;
        roles.push(role);
    }
    let staff: Vec<Mentionable<'_>> = members
        .iter()
        .zip(&roles)
        .map(|(m, role)| Mentionable {
            handle: m.handle.as_str(),
            role: *role,
            active: m.active,
        })
        .collect();
    let (note, event) = OrderNote::write(
        note_id,
        tenant_id,
        order_id,
        &env.actor.handle,
        text,
        &staff,
        now,
    )?;
    let mentions = serde_json::to_string(&note.mentions).map_err(|e| corrupt("mentions", e))?;
    let insert = order_note::Entity::insert(order_note::ActiveModel {
        id: Set(note.id.as_uuid()),
        tenant_id: Set(tenant_id.as_uuid()),
        order_id: Set(order_id.as_uuid()),
        author: Set(note.author.clone()),
        text: Set(note.text.clone()),
        mentions: Set(mentions),
        created_at: Set(note.created_at),
    });
    w.write(build(txn, insert), || format!("note {}", note.id))
        .await?;
    if !note.mentions.is_empty() {
        let rows = note.mentions.iter().map(|h| order_mention::ActiveModel {
            note_id: Set(note.id.as_uuid()),
            handle: Set(h.clone()),
            tenant_id: Set(tenant_id.as_uuid()),
            order_id: Set(order_id.as_uuid()),
            created_at: Set(note.created_at),
            read_at: Set(None),
        });
        w.write(build(txn, order_mention::Entity::insert_many(rows)), || {
            format!("mention in note {}", note.id)
        })
        .await?;
    }
    let envelopes = wrap(env, tenant_id, order_id.as_uuid(), &[event], now)?;
    applied(w, env, Outcome::Note(note), envelopes).await
}

impl Store {
    /// The notes on one order of one tenant, oldest first (at most [`MAX_NOTES_SHOWN`]).
    pub async fn order_notes(
        &self,
        tenant_id: TenantId,
        order_id: OrderId,
    ) -> Result<Vec<OrderNote>, StoreError> {
        order_note::Entity::find()
            .filter(order_note::Column::TenantId.eq(tenant_id.as_uuid()))
            .filter(order_note::Column::OrderId.eq(order_id.as_uuid()))
            .order_by_asc(order_note::Column::CreatedAt)
            .order_by_asc(order_note::Column::Id)
            .limit(sql_window(MAX_NOTES_SHOWN))
            .all(&self.db)
            .await?
            .into_iter()
            .map(note_from_row)
            .collect()
    }

    /// `handle`'s unread mentions in one tenant, oldest first (the newest
    /// [`MAX_UNREAD_MENTIONS`]).
    pub async fn unread_mentions(
        &self,
        tenant_id: TenantId,
        handle: &str,
    ) -> Result<Vec<Mention>, StoreError> {
        let unread: Vec<uuid::Uuid> = order_mention::Entity::find()
            .select_only()
            .column(order_mention::Column::NoteId)
            .filter(order_mention::Column::TenantId.eq(tenant_id.as_uuid()))
            .filter(order_mention::Column::Handle.eq(handle))
            .filter(order_mention::Column::ReadAt.is_null())
            .order_by_desc(order_mention::Column::CreatedAt)
            .limit(MAX_UNREAD_MENTIONS)
            .into_tuple::<uuid::Uuid>()
            .all(&self.db)
            .await?;
        if unread.is_empty() {
            return Ok(Vec::new());
        }
        let mut out: Vec<Mention> = order_note::Entity::find()
            .filter(order_note::Column::TenantId.eq(tenant_id.as_uuid()))
            .filter(order_note::Column::Id.is_in(unread))
            .all(&self.db)
            .await?
            .into_iter()
            .map(note_from_row)
            .collect::<Result<Vec<_>, _>>()?
            .iter()
            .filter_map(|n| Mention::of(n, handle))
            .collect();
        out.sort_by_key(|m| (m.created_at, m.note_id));
        Ok(out)
    }

    /// Marks `handle`'s mentions in these notes of the tenant as read (their own rows only);
    /// returns how many were unread. A personal mark, not a change of the tenant's data: no
    /// event, no audit row, allowed in a read-only session.
    pub async fn mark_mentions_read(
        &self,
        tenant_id: TenantId,
        handle: &str,
        notes: &[NoteId],
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        if notes.is_empty() {
            return Ok(0);
        }
        let ids: Vec<uuid::Uuid> = notes.iter().map(NoteId::as_uuid).collect();
        let handle = handle.to_string();
        self.in_transaction(async |tx: &Tx<'_>| {
            let update = order_mention::Entity::update_many()
                .col_expr(order_mention::Column::ReadAt, Expr::value(now))
                .filter(order_mention::Column::TenantId.eq(tenant_id.as_uuid()))
                .filter(order_mention::Column::Handle.eq(handle.as_str()))
                .filter(order_mention::Column::NoteId.is_in(ids.clone()))
                .filter(order_mention::Column::ReadAt.is_null());
            Ok(tx.execute_raw(build(tx, update)).await?.rows_affected())
        })
        .await
    }
}
