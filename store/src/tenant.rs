//! Tenant commands: creating a tenant, and putting its dead letters back in the outbox queue.

use crate::StoreError;
use crate::authz::{authorize_in, existing_tenant};
use crate::entity::tenant;
use crate::outbox::{applied, requeue_dead_letters_in, wrap};
use crate::writes::{Writes, build};
use chrono::{DateTime, Utc};
use rustok_domain::read::{Applied, Outcome};
use rustok_domain::{CommandEnvelope, DomainError, EventId, Locale, Tenant, TenantId};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

/// `CreateTenant`: a new tenant, whose slug must be free.
pub(crate) async fn create(
    w: &mut Writes<'_>,
    env: &CommandEnvelope,
    id: TenantId,
    slug: &str,
    name: &str,
    default_locale: &Locale,
    now: DateTime<Utc>,
) -> Result<Applied, StoreError> {
    let txn = w.txn();
    authorize_in(txn, env, now).await?;
    let (t, events) = Tenant::create(id, slug, name, default_locale.clone(), now)?;
    if tenant::Entity::find()
        .filter(tenant::Column::Slug.eq(t.slug.as_str()))
        .one(txn)
        .await?
        .is_some()
    {
        return Err(DomainError::Duplicate {
            what: format!("tenant '{}'", t.slug),
        }
        .into());
    }
    let row = tenant::Entity::insert(tenant::ActiveModel {
        id: Set(t.id.as_uuid()),
        slug: Set(t.slug.clone()),
        name: Set(t.name.clone()),
        default_locale: Set(t.default_locale.to_string()),
        is_active: Set(t.is_active),
        created_at: Set(t.created_at),
    });
    w.write(build(txn, row), || format!("tenant '{}'", t.slug))
        .await?;
    let envelopes = wrap(env, t.id, t.id.as_uuid(), &events, now)?;
    applied(w, env, Outcome::Tenant(t), envelopes).await
}

/// `RetryConsumerDeadLetters`: one independent consumer's dead letters of the tenant (all, or
/// those with `ids`) pending again for that consumer alone.
pub(crate) async fn retry_consumer_dead_letters(
    w: &mut Writes<'_>,
    env: &CommandEnvelope,
    consumer: &str,
    ids: &[EventId],
    now: DateTime<Utc>,
) -> Result<Applied, StoreError> {
    let txn = w.txn();
    existing_tenant(txn, env, now).await?;
    let n =
        crate::stream::requeue_consumer_dead_letters_in(txn, consumer, env.tenant_id, ids).await?;
    applied(w, env, Outcome::Requeued(n), Vec::new()).await
}

/// `RetryDeadLetters`: the tenant's dead letters (all, or those with `ids`) pending again.
pub(crate) async fn retry_dead_letters(
    w: &mut Writes<'_>,
    env: &CommandEnvelope,
    ids: &[EventId],
    now: DateTime<Utc>,
) -> Result<Applied, StoreError> {
    let txn = w.txn();
    existing_tenant(txn, env, now).await?;
    let n = requeue_dead_letters_in(txn, env.tenant_id, ids).await?;
    applied(w, env, Outcome::Requeued(n), Vec::new()).await
}
