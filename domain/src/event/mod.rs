//! Domain events: the `DomainEvent` enum with dotted type names, their payloads, the
//! registry of type → schema version, the envelope and its validation, and de-duplication.

mod dedup;
mod envelope;

pub use dedup::Deduplicator;
pub use envelope::{EnvelopeMeta, EventEnvelope};

use crate::content::NodeKind;
use crate::{DomainError, Locale};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What the registry knows about one event type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EventTypeInfo {
    pub event_type: &'static str,
    pub aggregate_type: &'static str,
    pub schema_version: u16,
}

macro_rules! events {
    ($( $(#[$doc:meta])* $variant:ident($payload:ty) => $name:literal, $agg:literal, v = $ver:literal; )+) => {
        /// Every event the platform emits. Serialized adjacently tagged:
        /// `{"event_type": "node.created", "payload": {...}}`.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "event_type", content = "payload")]
        pub enum DomainEvent {
            $( $(#[$doc])* #[serde(rename = $name)] $variant($payload), )+
        }

        /// The registry: every event type with its aggregate type and current schema version.
        pub const REGISTRY: &[EventTypeInfo] = &[
            $( EventTypeInfo { event_type: $name, aggregate_type: $agg, schema_version: $ver }, )+
        ];

        impl DomainEvent {
            /// The dotted type name, e.g. `node.published`.
            pub fn event_type(&self) -> &'static str {
                match self { $( Self::$variant(_) => $name, )+ }
            }
            pub fn aggregate_type(&self) -> &'static str {
                match self { $( Self::$variant(_) => $agg, )+ }
            }
            pub fn schema_version(&self) -> u16 {
                match self { $( Self::$variant(_) => $ver, )+ }
            }
        }
    };
}

events! {
    TenantCreated(TenantCreated) => "tenant.created", "tenant", v = 1;
    NodeCreated(NodeCreated) => "node.created", "node", v = 1;
    NodeUpdated(NodeUpdated) => "node.updated", "node", v = 1;
    NodeTranslationUpdated(NodeTranslationUpdated) => "node.translation_updated", "node", v = 1;
    NodePublished(NodePublished) => "node.published", "node", v = 1;
    NodeUnpublished(NodeVersion) => "node.unpublished", "node", v = 1;
    NodeArchived(NodeArchived) => "node.archived", "node", v = 1;
    NodeRestored(NodeVersion) => "node.restored", "node", v = 1;
}

/// Looks up a registered event type.
pub fn registered(event_type: &str) -> Option<&'static EventTypeInfo> {
    REGISTRY.iter().find(|i| i.event_type == event_type)
}

impl DomainEvent {
    /// The payload alone, as JSON.
    pub fn payload(&self) -> serde_json::Value {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(mut m)) => {
                m.remove("payload").unwrap_or(serde_json::Value::Null)
            }
            _ => serde_json::Value::Null,
        }
    }

    /// Rebuilds an event from its type name and payload, checking the payload's shape.
    pub fn from_parts(event_type: &str, payload: &serde_json::Value) -> Result<Self, DomainError> {
        if registered(event_type).is_none() {
            return Err(DomainError::InvalidEvent(format!(
                "event type '{}' is not registered",
                crate::text::printable(event_type)
            )));
        }
        let tagged = serde_json::json!({ "event_type": event_type, "payload": payload });
        serde_json::from_value(tagged).map_err(|e| {
            DomainError::InvalidEvent(format!("payload of {event_type} does not match its schema: {e}"))
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantCreated {
    pub slug: String,
    pub name: String,
    pub default_locale: Locale,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeCreated {
    pub kind: NodeKind,
    pub locale: Locale,
    pub title: String,
    pub slug: String,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeUpdated {
    pub locale: Locale,
    /// Names of the fields that changed (title, slug, excerpt, body, format).
    pub changed: Vec<String>,
    pub title: String,
    pub slug: String,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeTranslationUpdated {
    pub locale: Locale,
    pub title: String,
    pub slug: String,
    /// True when this locale was added, false when it was replaced.
    pub created: bool,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodePublished {
    pub published_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeArchived {
    pub archived_at: DateTime<Utc>,
    pub version: i64,
}

/// Payload of events that carry nothing but the node's new version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeVersion {
    pub version: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_roundtrip() {
        let e = DomainEvent::NodePublished(NodePublished { published_at: Utc::now(), version: 2 });
        assert_eq!(e.event_type(), "node.published");
        assert_eq!(e.aggregate_type(), "node");
        let back = DomainEvent::from_parts(e.event_type(), &e.payload()).unwrap();
        assert_eq!(back, e);
        assert!(DomainEvent::from_parts("node.exploded", &e.payload()).is_err());
        assert!(DomainEvent::from_parts("node.published", &serde_json::json!({"x": 1})).is_err());
        let mut names: Vec<_> = REGISTRY.iter().map(|i| i.event_type).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), REGISTRY.len(), "event type names are unique");
    }
}
