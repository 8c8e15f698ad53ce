//! The tenant a session opens in. The `default` tenant is created on first use — by the CLI
//! and the console alike, here and nowhere else, under one name — and only once: when two
//! processes start together on an empty database, one creates it and the other finds it (its
//! own creation is refused as a duplicate, which is not an error here). Any other slug must
//! exist.

use super::demo;
use super::error::RuntimeError;
use super::queue::ActionQueue;
use super::reads::Reads;
use rustok_domain::{Actor, Command, CommandEnvelope, DomainError, Tenant, TenantId};

/// The slug of the tenant created on first use.
pub const DEFAULT_TENANT: &str = "default";

/// Its name (shown in the console's tab bar; `rustok tenant list`).
pub const DEFAULT_TENANT_NAME: &str = "Default";

/// What to write into a default tenant this call created on an empty database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstUse {
    /// Nothing (the CLI: a script gets an empty tenant).
    Empty,
    /// The demo content and shop (the console: a newcomer sees something real).
    Demo,
}

/// The tenant `slug` names, read as `reads`' member. The default tenant is created when it
/// does not exist yet (by `actor`, through `queue`); with [`FirstUse::Demo`] the call that
/// created it on a database with no other tenant also writes the demo data.
pub async fn open_tenant(
    reads: &Reads,
    queue: &ActionQueue,
    actor: &Actor,
    slug: &str,
    first_use: FirstUse,
) -> Result<Tenant, RuntimeError> {
    if let Some(t) = reads.tenant_by_slug(slug).await? {
        return Ok(t);
    }
    if slug != DEFAULT_TENANT {
        return Err(DomainError::not_found("tenant", format!("'{slug}'")).into());
    }
    let fresh = first_use == FirstUse::Demo && reads.tenants().await?.is_empty();
    let id = TenantId::new_v7();
    let cmd = Command::CreateTenant {
        id,
        slug: DEFAULT_TENANT.into(),
        name: DEFAULT_TENANT_NAME.into(),
        default_locale: "en".parse()?,
    };
    let created = match queue
        .execute(CommandEnvelope::new(id, actor.clone(), cmd))
        .await
    {
        Ok(_) => true,
        // Another process (or session) created it first: use theirs, seed nothing.
        Err(e) if matches!(e.domain(), Some(DomainError::Duplicate { .. })) => false,
        Err(e) => return Err(e.into()),
    };
    let tenant = reads
        .tenant_by_slug(DEFAULT_TENANT)
        .await?
        .ok_or_else(|| DomainError::not_found("tenant", DEFAULT_TENANT))?;
    if created && fresh {
        demo::seed(queue, &tenant, actor).await?;
        demo::ensure_products(queue, reads, &tenant, actor).await?;
        demo::seed_orders(queue, &tenant, actor).await?;
    }
    Ok(tenant)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::QueueOptions;
    use rustok_store::Store;

    /// Two sessions opening the default tenant at the same time on an empty database: both
    /// get the same tenant, it exists once, and the demo data was written once.
    #[tokio::test]
    async fn the_default_tenant_is_created_once_when_sessions_race() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = Store::connect(&url).await.unwrap();
        store.bootstrap_owner("owner").await.unwrap();
        let (queue, _worker) = ActionQueue::spawn(store.clone(), None, QueueOptions::default());
        let actor = Actor::new("owner");
        let reads = Reads::new(store.clone(), "owner");
        let (a, b) = tokio::join!(
            open_tenant(&reads, &queue, &actor, DEFAULT_TENANT, FirstUse::Demo),
            open_tenant(&reads, &queue, &actor, DEFAULT_TENANT, FirstUse::Demo),
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.id, b.id);
        assert_eq!(a.name, DEFAULT_TENANT_NAME);
        assert_eq!(reads.tenants().await.unwrap().len(), 1);
        let products = reads
            .products(a.id, &rustok_store::ProductFilter::default())
            .await
            .unwrap();
        assert_eq!(products.total, 4, "the demo shop once, not twice");
        // A third session finds it; an unknown slug is not created.
        let c = open_tenant(&reads, &queue, &actor, DEFAULT_TENANT, FirstUse::Empty)
            .await
            .unwrap();
        assert_eq!(c.id, a.id);
        let err = open_tenant(&reads, &queue, &actor, "nope", FirstUse::Empty)
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "tenant 'nope' not found");
    }
}
