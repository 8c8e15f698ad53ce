use super::{DomainEvent, registered};
use crate::{DomainError, EventId, TenantId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The metadata a caller supplies to wrap an event (ids and time come from outside).
#[derive(Debug, Clone)]
pub struct EnvelopeMeta {
    pub id: EventId,
    pub tenant_id: TenantId,
    pub aggregate_id: Uuid,
    pub actor: String,
    pub occurred_at: DateTime<Utc>,
    /// Defaults to the event's own id.
    pub correlation_id: Option<Uuid>,
    pub causation_id: Option<Uuid>,
}

/// An event as the bus delivers it: the envelope and its place in the store's sequence (the
/// outbox's `seq`), which orders events the same way in every process whatever their clocks
/// say or the order they arrive in.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveEvent {
    pub seq: i64,
    pub event: std::sync::Arc<EventEnvelope>,
}

impl LiveEvent {
    pub fn new(seq: i64, event: impl Into<std::sync::Arc<EventEnvelope>>) -> LiveEvent {
        LiveEvent {
            seq,
            event: event.into(),
        }
    }
}

impl std::ops::Deref for LiveEvent {
    type Target = EventEnvelope;
    fn deref(&self) -> &EventEnvelope {
        &self.event
    }
}

/// An event as it is stored in the outbox and delivered on the bus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventEnvelope {
    pub id: EventId,
    pub event_type: String,
    pub schema_version: u16,
    pub tenant_id: TenantId,
    pub aggregate_type: String,
    pub aggregate_id: Uuid,
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
    pub actor: String,
    pub occurred_at: DateTime<Utc>,
    pub payload: serde_json::Value,
}

impl EventEnvelope {
    pub fn new(event: &DomainEvent, meta: EnvelopeMeta) -> Self {
        Self {
            id: meta.id,
            event_type: event.event_type().to_string(),
            schema_version: event.schema_version(),
            tenant_id: meta.tenant_id,
            aggregate_type: event.aggregate_type().to_string(),
            aggregate_id: meta.aggregate_id,
            correlation_id: meta.correlation_id.unwrap_or(meta.id.as_uuid()),
            causation_id: meta.causation_id,
            actor: meta.actor,
            occurred_at: meta.occurred_at,
            payload: event.payload(),
        }
    }

    /// Validates the envelope: no nil ids, no empty strings, a registered type at its
    /// registered schema version and aggregate type, and a payload of the right shape.
    pub fn validate(&self) -> Result<(), DomainError> {
        let bad = |m: String| Err(DomainError::InvalidEvent(m));
        for (name, nil) in [
            ("id", self.id.is_nil()),
            ("tenant_id", self.tenant_id.is_nil()),
            ("aggregate_id", self.aggregate_id.is_nil()),
            ("correlation_id", self.correlation_id.is_nil()),
            (
                "causation_id",
                self.causation_id.is_some_and(|c| c.is_nil()),
            ),
        ] {
            if nil {
                return bad(format!("{name} must not be the nil UUID"));
            }
        }
        for (name, value) in [
            ("event_type", &self.event_type),
            ("aggregate_type", &self.aggregate_type),
            ("actor", &self.actor),
        ] {
            if value.trim().is_empty() {
                return bad(format!("{name} must not be empty"));
            }
        }
        let Some(info) = registered(&self.event_type) else {
            return bad(format!(
                "event type '{}' is not registered",
                crate::text::excerpt(&self.event_type, crate::text::EXCERPT_CHARS)
            ));
        };
        if self.schema_version == 0 {
            return bad("schema_version must be at least 1".into());
        }
        if self.schema_version != info.schema_version {
            return bad(format!(
                "{} is registered at schema version {}, got {}",
                info.event_type, info.schema_version, self.schema_version
            ));
        }
        if self.aggregate_type != info.aggregate_type {
            return bad(format!(
                "{} belongs to aggregate type {}, got '{}'",
                info.event_type,
                info.aggregate_type,
                crate::text::excerpt(&self.aggregate_type, crate::text::EXCERPT_CHARS)
            ));
        }
        self.decode().map(|_| ())
    }

    /// The typed event inside.
    pub fn decode(&self) -> Result<DomainEvent, DomainError> {
        DomainEvent::from_parts(&self.event_type, &self.payload)
    }
}
