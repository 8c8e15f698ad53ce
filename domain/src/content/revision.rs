//! Revisions (issue 20): every saved change of a node is a revision — its version, when, who,
//! the command and the locales whose content it changed — and the decisions that use them:
//! reverting a node to an old version's content, and copying a node with all its
//! translations ("save mine as a copy" after a conflict).
//!
//! The store keeps, for each revision, a full copy of every locale it changed; a node's content
//! at version V is, per locale, the newest copy at or before V ([`NodeAt`]).

use super::node::{Node, Translation};
use super::slug::slugify;
use super::validate::{MAX_SLUG_CHARS, MAX_TITLE_CHARS, validate_body, validate_title};
use super::{BodyFormat, NodeStatus};
use crate::event::{self, DomainEvent};
use crate::{DomainError, Locale, NodeId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How many revisions of one node are kept (the newest ones); older ones are pruned when a
/// new one is written, except the copy each locale's content at the oldest kept revision
/// still needs.
pub const MAX_REVISIONS_PER_NODE: i64 = 100;

/// One saved change of a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    pub version: i64,
    pub at: DateTime<Utc>,
    /// The staff member who made it.
    pub actor: String,
    /// The command that made it (`create_node`, `update_node`, `publish_node`, `revert_node`,
    /// …; `imported` for a node's state when revisions started being kept).
    pub command: String,
    /// The node's status after it.
    pub status: NodeStatus,
    /// The locales whose content it changed (empty for a status change).
    pub locales: Vec<Locale>,
    /// For a revert: the version whose content it restored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverted_from: Option<i64>,
}

/// One locale's content as a revision keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionContent {
    pub locale: Locale,
    pub title: String,
    pub slug: String,
    pub excerpt: Option<String>,
    pub body: String,
    pub format: BodyFormat,
}

impl From<&Translation> for RevisionContent {
    fn from(t: &Translation) -> Self {
        RevisionContent {
            locale: t.locale.clone(),
            title: t.title.clone(),
            slug: t.slug.clone(),
            excerpt: t.excerpt.clone(),
            body: t.body.clone(),
            format: t.format,
        }
    }
}

impl RevisionContent {
    /// The fields in which `self` and `other` differ, by name (title, slug, excerpt, body,
    /// format).
    pub fn changed_fields(&self, other: &RevisionContent) -> Vec<String> {
        let mut v = Vec::new();
        if self.title != other.title {
            v.push("title".to_string());
        }
        if self.slug != other.slug {
            v.push("slug".to_string());
        }
        if self.excerpt != other.excerpt {
            v.push("excerpt".to_string());
        }
        if self.body != other.body {
            v.push("body".to_string());
        }
        if self.format != other.format {
            v.push("format".to_string());
        }
        v
    }

    fn into_translation(self, at: DateTime<Utc>) -> Translation {
        Translation {
            locale: self.locale,
            title: self.title,
            slug: self.slug,
            excerpt: self.excerpt,
            body: self.body,
            format: self.format,
            updated_at: at,
        }
    }
}

/// A node as it was at one version: that revision, and every locale's content then (sorted
/// by locale).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeAt {
    pub node_id: NodeId,
    pub revision: Revision,
    pub translations: Vec<RevisionContent>,
}

impl NodeAt {
    pub fn translation(&self, locale: &Locale) -> Option<&RevisionContent> {
        self.translations.iter().find(|t| &t.locale == locale)
    }
}

/// The `(copy)` mark a copy's titles end with.
pub const COPY_SUFFIX: &str = " (copy)";

/// `title` with [`COPY_SUFFIX`], shortened (by characters) so it stays within the title limit.
pub fn copy_title(title: &str) -> String {
    let room = MAX_TITLE_CHARS - COPY_SUFFIX.chars().count();
    let kept: String = title.chars().take(room).collect();
    format!("{}{COPY_SUFFIX}", kept.trim_end())
}

/// A copy's slug: the original's with `-copy-` and the copy's id's last 8 hex digits (unique
/// without asking the database), shortened so it stays within the slug limit.
pub fn copy_slug(slug: &str, id: NodeId) -> String {
    let hex = id.as_uuid().simple().to_string();
    let tail = format!("-copy-{}", &hex[hex.len() - 8..]);
    let room = MAX_SLUG_CHARS - tail.len();
    let mut head: String = slug.chars().take(room).collect();
    while head.ends_with('-') {
        head.pop();
    }
    format!("{head}{tail}")
}

impl Node {
    /// Decides a revert: `target`'s content of every locale it had becomes the current content,
    /// as a new version. The status does not change (a published node's public content changes
    /// through this explicit step); a locale added after `target` stays as it is. One
    /// `node.updated` per locale that changes, as an update would emit.
    pub fn revert(
        &self,
        target: &NodeAt,
        now: DateTime<Utc>,
    ) -> Result<(Node, Vec<DomainEvent>), DomainError> {
        let to = target.revision.version;
        if target.node_id != self.id {
            return Err(DomainError::not_found(
                "revision",
                format!("{to} of node {}", self.id),
            ));
        }
        if to >= self.version {
            return Err(DomainError::validation(
                "to",
                format!(
                    "version {to} is not an earlier version (the node is at version {})",
                    self.version
                ),
            ));
        }
        let mut next = self.bumped(now);
        let mut events = Vec::new();
        for old in &target.translations {
            let changed = match self.translation(&old.locale) {
                Some(cur) => RevisionContent::from(cur).changed_fields(old),
                None => vec![
                    "title".into(),
                    "slug".into(),
                    "excerpt".into(),
                    "body".into(),
                    "format".into(),
                ],
            };
            if changed.is_empty() {
                continue;
            }
            validate_title(&old.title)?;
            validate_body(&old.body)?;
            let t = old.clone().into_translation(next.updated_at);
            events.push(DomainEvent::NodeUpdated(event::NodeUpdated {
                locale: t.locale.clone(),
                changed,
                title: t.title.clone(),
                slug: t.slug.clone(),
                version: next.version,
            }));
            next.put_translation(t);
        }
        if events.is_empty() {
            return Err(DomainError::validation(
                "to",
                format!("version {to} has the same content as now; nothing to revert"),
            ));
        }
        Ok((next, events))
    }

    /// Decides a copy of this node as a new draft `id`: every translation, titled
    /// "… (copy)" with a slug of its own, with `mine` (the text an editor had on screen)
    /// in place of its locale's current content.
    pub fn copy(
        &self,
        id: NodeId,
        mine: Option<&RevisionContent>,
        author: &str,
        now: DateTime<Utc>,
    ) -> Result<(Node, Vec<DomainEvent>), DomainError> {
        if id.is_nil() || id == self.id {
            return Err(DomainError::validation("id", "a copy needs a new id"));
        }
        let mut contents: Vec<RevisionContent> = self
            .translations
            .iter()
            .map(|t| match mine {
                Some(m) if m.locale == t.locale => m.clone(),
                _ => RevisionContent::from(t),
            })
            .collect();
        // Mine may be a translation the node does not have yet (a new locale's editor).
        if let Some(m) = mine
            && !contents.iter().any(|c| c.locale == m.locale)
        {
            contents.push(m.clone());
        }
        let mut translations: Vec<Translation> = Vec::with_capacity(contents.len());
        for content in contents {
            validate_title(&content.title)?;
            validate_body(&content.body)?;
            let mut t = content.into_translation(now);
            if t.slug.trim().is_empty() {
                t.slug = slugify(&t.title).unwrap_or_else(|| "copy".into());
            }
            t.title = copy_title(&t.title);
            t.slug = copy_slug(&t.slug, id);
            translations.push(t);
        }
        translations.sort_by(|a, b| a.locale.cmp(&b.locale));
        let node = Node {
            id,
            tenant_id: self.tenant_id,
            kind: self.kind,
            status: NodeStatus::Draft,
            version: 1,
            source_locale: self.source_locale.clone(),
            author: author.to_string(),
            created_at: now,
            updated_at: now,
            published_at: None,
            archived_at: None,
            translations,
        };
        let source = node.source().clone();
        let mut events = vec![DomainEvent::NodeCreated(event::NodeCreated {
            kind: node.kind,
            locale: source.locale.clone(),
            title: source.title.clone(),
            slug: source.slug.clone(),
            version: 1,
        })];
        for t in node
            .translations
            .iter()
            .filter(|t| t.locale != source.locale)
        {
            events.push(DomainEvent::NodeTranslationUpdated(
                event::NodeTranslationUpdated {
                    locale: t.locale.clone(),
                    title: t.title.clone(),
                    slug: t.slug.clone(),
                    created: true,
                    version: 1,
                },
            ));
        }
        Ok((node, events))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TenantId;
    use crate::content::{NodeDraft, NodeKind, NodePatch, TranslationInput};

    fn node() -> Node {
        let (n, _) = Node::create(
            TenantId::new_v7(),
            NodeDraft {
                id: NodeId::new_v7(),
                kind: NodeKind::Article,
                locale: "en".parse().unwrap(),
                title: "Hello".into(),
                slug: None,
                excerpt: None,
                body: "one\ntwo\n".into(),
                format: BodyFormat::Markdown,
            },
            "ann",
            Utc::now(),
        )
        .unwrap();
        n
    }

    fn at(n: &Node) -> NodeAt {
        NodeAt {
            node_id: n.id,
            revision: Revision {
                version: n.version,
                at: n.updated_at,
                actor: "ann".into(),
                command: "x".into(),
                status: n.status,
                locales: vec![],
                reverted_from: None,
            },
            translations: n.translations.iter().map(RevisionContent::from).collect(),
        }
    }

    #[test]
    fn revert_restores_old_content_as_a_new_version() {
        let v1 = node();
        let (v2, _) = v1
            .update(
                NodePatch {
                    body: Some("one\nTWO\n".into()),
                    title: Some("Hi".into()),
                    ..Default::default()
                },
                Utc::now(),
            )
            .unwrap();
        let (v3, ev) = v2.revert(&at(&v1), Utc::now()).unwrap();
        assert_eq!(v3.version, 3);
        assert_eq!(v3.source().body, "one\ntwo\n");
        assert_eq!(v3.source().title, "Hello");
        assert_eq!(v3.status, v2.status);
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].event_type(), "node.updated");
        let e = v3.revert(&at(&v3), Utc::now()).unwrap_err();
        assert_eq!(e.field(), Some("to"));
        let e = v3.revert(&at(&v1), Utc::now()).unwrap_err();
        assert!(e.to_string().contains("nothing to revert"), "{e}");
    }

    #[test]
    fn copy_keeps_every_translation_titled_copy() {
        let n = node();
        let (n, _) = n
            .translate(
                TranslationInput {
                    locale: "ru".parse().unwrap(),
                    title: "Привет".into(),
                    slug: None,
                    excerpt: None,
                    body: Some("тело".into()),
                    format: None,
                },
                Utc::now(),
            )
            .unwrap();
        let mut mine = RevisionContent::from(n.source());
        mine.body = "mine".into();
        let id = NodeId::new_v7();
        let (c, ev) = n.copy(id, Some(&mine), "bob", Utc::now()).unwrap();
        assert_eq!(c.translations.len(), 2);
        assert_eq!(c.source().title, "Hello (copy)");
        assert_eq!(c.source().body, "mine");
        let ru = c.translation(&"ru".parse().unwrap()).unwrap();
        assert_eq!(
            (ru.title.as_str(), ru.body.as_str()),
            ("Привет (copy)", "тело")
        );
        assert!(ru.slug.starts_with("privet-copy-"), "{}", ru.slug);
        assert_eq!((c.version, c.status), (1, NodeStatus::Draft));
        assert_eq!(ev.len(), 2);
        assert_eq!(copy_title(&"я".repeat(255)).chars().count(), 255);
        assert!(copy_slug(&"a".repeat(255), id).len() <= MAX_SLUG_CHARS);
    }
}
