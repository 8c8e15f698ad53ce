//! Tenants: slug rules, creation, and the tenant cache.

use crate::event::DomainEvent;
use crate::locale::Locale;
use crate::{DomainError, TenantId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// Slugs that would collide with routes, system accounts or well-known names.
pub const RESERVED_SLUGS: &[&str] = &[
    "admin",
    "administrator",
    "api",
    "app",
    "assets",
    "auth",
    "billing",
    "cdn",
    "console",
    "dashboard",
    "docs",
    "help",
    "internal",
    "login",
    "logout",
    "mail",
    "null",
    "public",
    "root",
    "rustok",
    "static",
    "status",
    "support",
    "system",
    "www",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: TenantId,
    pub slug: String,
    pub name: String,
    pub default_locale: Locale,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
}

/// Checks a tenant slug against `^[a-z0-9][a-z0-9-]{0,62}$` and the reserved words.
pub fn validate_slug(slug: &str) -> Result<(), DomainError> {
    let bytes = slug.as_bytes();
    let well_formed = !bytes.is_empty()
        && bytes.len() <= 63
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
    if !well_formed {
        return Err(DomainError::validation(
            "slug",
            format!(
                "'{}' is not a valid tenant slug (1-63 chars of a-z, 0-9 and '-', starting with a letter or digit)",
                crate::text::excerpt(slug, crate::text::EXCERPT_CHARS)
            ),
        ));
    }
    if RESERVED_SLUGS.contains(&slug) {
        return Err(DomainError::validation(
            "slug",
            format!("'{slug}' is a reserved word and cannot be a tenant slug"),
        ));
    }
    Ok(())
}

pub fn validate_name(name: &str) -> Result<(), DomainError> {
    let n = name.trim().chars().count();
    if n == 0 {
        return Err(DomainError::validation("name", "must not be empty"));
    }
    if n > 255 {
        return Err(DomainError::validation(
            "name",
            format!("is {n} characters long; the limit is 255"),
        ));
    }
    if crate::text::has_control(name) {
        return Err(DomainError::validation(
            "name",
            "must not contain control characters",
        ));
    }
    Ok(())
}

impl Tenant {
    /// Decides the creation of a tenant. Uniqueness of the slug is the store's to check.
    pub fn create(
        id: TenantId,
        slug: &str,
        name: &str,
        default_locale: Locale,
        now: DateTime<Utc>,
    ) -> Result<(Tenant, Vec<DomainEvent>), DomainError> {
        if id.is_nil() {
            return Err(DomainError::validation("id", "must not be nil"));
        }
        validate_slug(slug)?;
        validate_name(name)?;
        let tenant = Tenant {
            id,
            slug: slug.to_string(),
            name: name.trim().to_string(),
            default_locale,
            is_active: true,
            created_at: now,
        };
        let event = DomainEvent::TenantCreated(crate::event::TenantCreated {
            slug: tenant.slug.clone(),
            name: tenant.name.clone(),
            default_locale: tenant.default_locale.clone(),
        });
        Ok((tenant, vec![event]))
    }
}

/// Counters of a [`TenantCache`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TenantCacheStats {
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
    pub len: usize,
}

struct Entry {
    tenant: Tenant,
    inserted: Instant,
    tick: u64,
}

/// A bounded LRU cache of tenants by id and by slug, with a time-to-live. Time is passed in
/// (`now`), so the cache is deterministic in tests and benches.
pub struct TenantCache {
    capacity: usize,
    ttl: Duration,
    by_id: HashMap<TenantId, Entry>,
    by_slug: HashMap<String, TenantId>,
    lru: BTreeMap<u64, TenantId>,
    tick: u64,
    stats: TenantCacheStats,
}

impl TenantCache {
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        Self {
            capacity: capacity.max(1),
            ttl,
            by_id: HashMap::new(),
            by_slug: HashMap::new(),
            lru: BTreeMap::new(),
            tick: 0,
            stats: TenantCacheStats::default(),
        }
    }

    pub fn get(&mut self, id: TenantId, now: Instant) -> Option<&Tenant> {
        let fresh = match self.by_id.get(&id) {
            Some(e) => now.saturating_duration_since(e.inserted) < self.ttl,
            None => {
                self.stats.misses += 1;
                return None;
            }
        };
        if !fresh {
            self.remove(id);
            self.stats.evictions += 1;
            self.stats.misses += 1;
            return None;
        }
        self.stats.hits += 1;
        self.tick += 1;
        let tick = self.tick;
        let entry = self.by_id.get_mut(&id)?;
        self.lru.remove(&entry.tick);
        entry.tick = tick;
        self.lru.insert(tick, id);
        Some(&entry.tenant)
    }

    pub fn get_by_slug(&mut self, slug: &str, now: Instant) -> Option<&Tenant> {
        match self.by_slug.get(slug).copied() {
            Some(id) => self.get(id, now),
            None => {
                self.stats.misses += 1;
                None
            }
        }
    }

    pub fn insert(&mut self, tenant: Tenant, now: Instant) {
        self.remove(tenant.id);
        while self.by_id.len() >= self.capacity {
            let Some((_, oldest)) = self.lru.pop_first() else {
                break;
            };
            self.remove(oldest);
            self.stats.evictions += 1;
        }
        self.tick += 1;
        self.lru.insert(self.tick, tenant.id);
        self.by_slug.insert(tenant.slug.clone(), tenant.id);
        self.by_id.insert(
            tenant.id,
            Entry {
                tenant,
                inserted: now,
                tick: self.tick,
            },
        );
    }

    /// Drops a tenant (after it changed); not counted as an eviction.
    pub fn invalidate(&mut self, id: TenantId) {
        self.remove(id);
    }

    fn remove(&mut self, id: TenantId) {
        if let Some(e) = self.by_id.remove(&id) {
            self.lru.remove(&e.tick);
            self.by_slug.remove(&e.tenant.slug);
        }
    }

    pub fn stats(&self) -> TenantCacheStats {
        TenantCacheStats {
            len: self.by_id.len(),
            ..self.stats
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(slug: &str) -> Tenant {
        Tenant::create(
            TenantId::new_v7(),
            slug,
            "Name",
            "en".parse().unwrap(),
            Utc::now(),
        )
        .unwrap()
        .0
    }

    #[test]
    fn slug_rules() {
        for ok in ["a", "acme", "acme-2", "0day", &"a".repeat(63)] {
            assert!(validate_slug(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-acme",
            "Acme",
            "ac me",
            "acme_",
            &"a".repeat(64),
            "admin",
            "api",
            "www",
        ] {
            assert!(validate_slug(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cache_counts_hits_misses_evictions_and_expires() {
        let t0 = Instant::now();
        let mut cache = TenantCache::new(2, Duration::from_secs(60));
        let (a, b, c) = (tenant("a"), tenant("b"), tenant("c"));
        cache.insert(a.clone(), t0);
        cache.insert(b.clone(), t0);
        assert_eq!(cache.get(a.id, t0).map(|t| t.slug.as_str()), Some("a"));
        cache.insert(c.clone(), t0); // evicts b, the least recently used
        assert!(cache.get(b.id, t0).is_none());
        assert!(cache.get_by_slug("c", t0).is_some());
        let s = cache.stats();
        assert_eq!((s.hits, s.misses, s.evictions, s.len), (2, 1, 1, 2));
        // expiry
        assert!(cache.get(a.id, t0 + Duration::from_secs(61)).is_none());
        assert_eq!(cache.stats().evictions, 2);
        assert_eq!(cache.stats().len, 1);
    }
}
