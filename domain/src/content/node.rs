use super::slug::{slugify, validate_slug};
use super::validate::{validate_body, validate_excerpt, validate_title};
use super::{BodyFormat, NodeAction, NodeKind, NodeStatus};
use crate::event::{self, DomainEvent};
use crate::{DomainError, Locale, NodeId, TenantId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One locale's version of a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Translation {
    pub locale: Locale,
    pub title: String,
    pub slug: String,
    pub excerpt: Option<String>,
    pub body: String,
    pub format: BodyFormat,
    pub updated_at: DateTime<Utc>,
}

/// A content node with all its translations.
///
/// Invariants kept by the decisions below: `published_at` is set exactly when the status is
/// published or archived, `archived_at` exactly when archived, and `archived_at >=
/// published_at`; `version` grows by one with every change; `translations` is sorted by
/// locale and holds at most one entry per locale, at least one in all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    pub id: NodeId,
    pub tenant_id: TenantId,
    pub kind: NodeKind,
    pub status: NodeStatus,
    pub version: i64,
    /// The locale the node was written in; the source for translators.
    pub source_locale: Locale,
    pub author: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub archived_at: Option<DateTime<Utc>>,
    pub translations: Vec<Translation>,
}

/// Input for creating a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeDraft {
    pub id: NodeId,
    pub kind: NodeKind,
    pub locale: Locale,
    pub title: String,
    pub slug: Option<String>,
    pub excerpt: Option<String>,
    pub body: String,
    pub format: BodyFormat,
}

/// Input for adding or replacing a translation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranslationInput {
    pub locale: Locale,
    pub title: String,
    pub slug: Option<String>,
    pub excerpt: Option<String>,
    pub body: Option<String>,
    pub format: Option<BodyFormat>,
}

/// A partial edit of one translation; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodePatch {
    /// Which translation to edit; the source locale when absent.
    pub locale: Option<Locale>,
    pub title: Option<String>,
    pub slug: Option<String>,
    /// `Some("")` clears the excerpt.
    pub excerpt: Option<String>,
    pub body: Option<String>,
    pub format: Option<BodyFormat>,
}

fn fallback_slug(kind: NodeKind, id: NodeId) -> String {
    let hex = id.as_uuid().simple().to_string();
    format!(
        "{}-{}",
        kind.as_str().replace('_', "-"),
        &hex[hex.len() - 8..]
    )
}

fn resolve_slug(
    given: Option<&str>,
    title: &str,
    kind: NodeKind,
    id: NodeId,
) -> Result<String, DomainError> {
    match given {
        Some(s) => {
            validate_slug(s)?;
            Ok(s.to_string())
        }
        None => Ok(slugify(title).unwrap_or_else(|| fallback_slug(kind, id))),
    }
}

fn normalize_excerpt(excerpt: Option<&str>) -> Result<Option<String>, DomainError> {
    match excerpt {
        None => Ok(None),
        Some(e) if e.trim().is_empty() => Ok(None),
        Some(e) => {
            validate_excerpt(e)?;
            Ok(Some(e.to_string()))
        }
    }
}

impl Node {
    /// Decides the creation of a node: a draft at version 1 with one translation.
    /// Slug uniqueness per (tenant, locale) is checked by the store inside the same
    /// transaction.
    pub fn create(
        tenant_id: TenantId,
        draft: NodeDraft,
        author: &str,
        now: DateTime<Utc>,
    ) -> Result<(Node, Vec<DomainEvent>), DomainError> {
        if draft.id.is_nil() {
            return Err(DomainError::validation("id", "must not be nil"));
        }
        validate_title(&draft.title)?;
        let slug = resolve_slug(draft.slug.as_deref(), &draft.title, draft.kind, draft.id)?;
        let excerpt = normalize_excerpt(draft.excerpt.as_deref())?;
        validate_body(&draft.body)?;
        let translation = Translation {
            locale: draft.locale.clone(),
            title: draft.title,
            slug,
            excerpt,
            body: draft.body,
            format: draft.format,
            updated_at: now,
        };
        let node = Node {
            id: draft.id,
            tenant_id,
            kind: draft.kind,
            status: NodeStatus::Draft,
            version: 1,
            source_locale: draft.locale,
            author: author.to_string(),
            created_at: now,
            updated_at: now,
            published_at: None,
            archived_at: None,
            translations: vec![translation.clone()],
        };
        let event = DomainEvent::NodeCreated(event::NodeCreated {
            kind: node.kind,
            locale: translation.locale,
            title: translation.title,
            slug: translation.slug,
            version: 1,
        });
        Ok((node, vec![event]))
    }

    pub fn translation(&self, locale: &Locale) -> Option<&Translation> {
        self.translations.iter().find(|t| &t.locale == locale)
    }

    /// The translation in the source locale (always present).
    pub fn source(&self) -> &Translation {
        self.translation(&self.source_locale)
            .unwrap_or(&self.translations[0])
    }

    pub fn locales(&self) -> Vec<Locale> {
        self.translations.iter().map(|t| t.locale.clone()).collect()
    }

    /// Optimistic locking: an edit made against an older version is refused.
    pub fn check_version(&self, expected: Option<i64>) -> Result<(), DomainError> {
        match expected {
            Some(v) if v != self.version => Err(DomainError::VersionConflict {
                entity: "node",
                expected: v,
                actual: self.version,
            }),
            _ => Ok(()),
        }
    }

    pub(super) fn bumped(&self, now: DateTime<Utc>) -> Node {
        let mut next = self.clone();
        next.version += 1;
        next.updated_at = now.max(self.updated_at);
        next
    }

    /// Decides an edit of one translation's fields.
    pub fn update(
        &self,
        patch: NodePatch,
        now: DateTime<Utc>,
    ) -> Result<(Node, Vec<DomainEvent>), DomainError> {
        let locale = patch
            .locale
            .clone()
            .unwrap_or_else(|| self.source_locale.clone());
        let Some(current) = self.translation(&locale) else {
            return Err(DomainError::validation(
                "locale",
                format!("node has no '{locale}' translation (add one with translate)"),
            ));
        };
        let mut t = current.clone();
        let mut changed = Vec::new();
        if let Some(title) = patch.title {
            validate_title(&title)?;
            if title != t.title {
                t.title = title;
                changed.push("title".to_string());
            }
        }
        if let Some(slug) = patch.slug {
            validate_slug(&slug)?;
            if slug != t.slug {
                t.slug = slug;
                changed.push("slug".to_string());
            }
        }
        if let Some(excerpt) = patch.excerpt {
            let excerpt = normalize_excerpt(Some(&excerpt))?;
            if excerpt != t.excerpt {
                t.excerpt = excerpt;
                changed.push("excerpt".to_string());
            }
        }
        if let Some(body) = patch.body {
            validate_body(&body)?;
            if body != t.body {
                t.body = body;
                changed.push("body".to_string());
            }
        }
        if let Some(format) = patch.format
            && format != t.format
        {
            t.format = format;
            changed.push("format".to_string());
        }
        if changed.is_empty() {
            return Err(DomainError::validation("update", "nothing to change"));
        }
        let mut next = self.bumped(now);
        t.updated_at = next.updated_at;
        next.put_translation(t.clone());
        let event = DomainEvent::NodeUpdated(event::NodeUpdated {
            locale,
            changed,
            title: t.title,
            slug: t.slug,
            version: next.version,
        });
        Ok((next, vec![event]))
    }

    /// Decides adding (or replacing) the translation for `input.locale`.
    pub fn translate(
        &self,
        input: TranslationInput,
        now: DateTime<Utc>,
    ) -> Result<(Node, Vec<DomainEvent>), DomainError> {
        validate_title(&input.title)?;
        let existing = self.translation(&input.locale).cloned();
        let slug = match (&input.slug, &existing) {
            (None, Some(e)) => e.slug.clone(),
            (given, _) => resolve_slug(given.as_deref(), &input.title, self.kind, self.id)?,
        };
        let excerpt = match (&input.excerpt, &existing) {
            (None, Some(e)) => e.excerpt.clone(),
            (given, _) => normalize_excerpt(given.as_deref())?,
        };
        let body = match (input.body, &existing) {
            (Some(b), _) => b,
            (None, Some(e)) => e.body.clone(),
            (None, None) => String::new(),
        };
        validate_body(&body)?;
        let format = input
            .format
            .or(existing.as_ref().map(|e| e.format))
            .unwrap_or(self.source().format);
        let mut next = self.bumped(now);
        let t = Translation {
            locale: input.locale.clone(),
            title: input.title,
            slug,
            excerpt,
            body,
            format,
            updated_at: next.updated_at,
        };
        if existing.as_ref().is_some_and(|e| {
            e.title == t.title
                && e.slug == t.slug
                && e.excerpt == t.excerpt
                && e.body == t.body
                && e.format == t.format
        }) {
            return Err(DomainError::validation("translation", "nothing to change"));
        }
        next.put_translation(t.clone());
        let event = DomainEvent::NodeTranslationUpdated(event::NodeTranslationUpdated {
            locale: t.locale,
            title: t.title,
            slug: t.slug,
            created: existing.is_none(),
            version: next.version,
        });
        Ok((next, vec![event]))
    }

    /// Decides a status change through the node state machine.
    pub fn transition(
        &self,
        action: NodeAction,
        now: DateTime<Utc>,
    ) -> Result<(Node, Vec<DomainEvent>), DomainError> {
        let status = self.status.apply(action)?;
        let mut next = self.bumped(now);
        next.status = status;
        let at = next.updated_at;
        let version = next.version;
        let event = match action {
            NodeAction::Publish => {
                next.published_at = Some(at);
                next.archived_at = None;
                DomainEvent::NodePublished(event::NodePublished {
                    published_at: at,
                    version,
                })
            }
            NodeAction::Unpublish => {
                next.published_at = None;
                DomainEvent::NodeUnpublished(event::NodeVersion { version })
            }
            NodeAction::Archive => {
                // Never before the publication, even if the clock went backwards.
                let archived_at = self.published_at.map_or(at, |p| at.max(p));
                next.archived_at = Some(archived_at);
                DomainEvent::NodeArchived(event::NodeArchived {
                    archived_at,
                    version,
                })
            }
            NodeAction::Restore => {
                next.published_at = None;
                next.archived_at = None;
                DomainEvent::NodeRestored(event::NodeVersion { version })
            }
        };
        Ok((next, vec![event]))
    }

    pub(super) fn put_translation(&mut self, t: Translation) {
        match self
            .translations
            .binary_search_by(|x| x.locale.cmp(&t.locale))
        {
            Ok(i) => self.translations[i] = t,
            Err(i) => self.translations.insert(i, t),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(title: &str) -> NodeDraft {
        NodeDraft {
            id: NodeId::new_v7(),
            kind: NodeKind::Article,
            locale: "en".parse().unwrap(),
            title: title.into(),
            slug: None,
            excerpt: None,
            body: "Body".into(),
            format: BodyFormat::Markdown,
        }
    }

    #[test]
    fn lifecycle_sets_timestamps() {
        let now = Utc::now();
        let (n, ev) = Node::create(TenantId::new_v7(), draft("Hello World"), "me", now).unwrap();
        assert_eq!((n.status, n.version), (NodeStatus::Draft, 1));
        assert_eq!(n.source().slug, "hello-world");
        assert_eq!(ev[0].event_type(), "node.created");
        let (p, _) = n.transition(NodeAction::Publish, now).unwrap();
        assert_eq!(p.published_at, Some(now));
        let (a, _) = p
            .transition(NodeAction::Archive, now - chrono::Duration::seconds(5))
            .unwrap();
        assert!(a.archived_at.unwrap() >= a.published_at.unwrap());
        assert!(a.transition(NodeAction::Publish, now).is_err());
        let (r, _) = a.transition(NodeAction::Restore, now).unwrap();
        assert_eq!(
            (r.status, r.published_at, r.archived_at, r.version),
            (NodeStatus::Draft, None, None, 4)
        );
    }

    #[test]
    fn translate_and_update() {
        let now = Utc::now();
        let (n, _) = Node::create(TenantId::new_v7(), draft("Hello"), "me", now).unwrap();
        let (n2, ev) = n
            .translate(
                TranslationInput {
                    locale: "ru".parse().unwrap(),
                    title: "Привет".into(),
                    slug: None,
                    excerpt: None,
                    body: Some("Тело".into()),
                    format: None,
                },
                now,
            )
            .unwrap();
        assert_eq!(n2.translations.len(), 2);
        assert_eq!(
            n2.translation(&"ru".parse().unwrap()).unwrap().slug,
            "privet",
            "transliterated"
        );
        assert_eq!(ev[0].event_type(), "node.translation_updated");
        let patch = NodePatch {
            title: Some("Hello again".into()),
            ..Default::default()
        };
        let (n3, _) = n2.update(patch, now).unwrap();
        assert_eq!(n3.source().title, "Hello again");
        assert_eq!(
            n3.source().slug,
            "hello",
            "slugs stay stable when titles change"
        );
        assert_eq!(n3.version, 3);
        assert!(n3.update(NodePatch::default(), now).is_err());
        assert!(n3.check_version(Some(2)).is_err());
        assert!(n3.check_version(Some(3)).is_ok());
    }

    #[test]
    fn rejects_bad_input() {
        let now = Utc::now();
        let t = TenantId::new_v7();
        assert!(Node::create(t, draft(""), "me", now).is_err());
        assert!(Node::create(t, draft("   "), "me", now).is_err());
        assert!(Node::create(t, draft(&"x".repeat(256)), "me", now).is_err());
        assert!(Node::create(t, draft(&"я".repeat(255)), "me", now).is_ok());
        let mut d = draft("ok");
        d.slug = Some("Bad Slug".into());
        assert!(Node::create(t, d, "me", now).is_err());
        let mut d = draft("ok");
        d.excerpt = Some("e".repeat(1001));
        assert!(Node::create(t, d, "me", now).is_err());
        let mut d = draft("ok");
        d.body = "b".repeat(1_000_001);
        assert!(Node::create(t, d, "me", now).is_err());
        let mut d = draft("ok");
        d.body = "b".repeat(1_000_000);
        assert!(Node::create(t, d, "me", now).is_ok());
    }
}
