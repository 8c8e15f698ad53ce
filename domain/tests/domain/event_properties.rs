//! Property tests for domain events, their envelopes and the de-duplicator.
//!
//! Sprint 4, task 4.2: unique ids, time-ordered ids, JSON roundtrip, valid envelopes pass,
//! invalid envelopes fail, event type consistency, schema versions, correlation defaults;
//! and the `Deduplicator`'s guarantees.

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use proptest::sample::select;
use rustok_domain::content::NodeKind;
use rustok_domain::event::{self, DomainEvent, EnvelopeMeta, EventEnvelope, REGISTRY, registered};
use rustok_domain::text::has_control;
use rustok_domain::{EventId, Locale, TenantId};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashSet, VecDeque};
use uuid::Uuid;

// ---------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------

fn locale() -> impl Strategy<Value = Locale> {
    "[a-z]{2,3}(-[A-Z][a-z]{3})?(-[A-Z]{2}|-[0-9]{3})?".prop_map(|s| s.parse().unwrap())
}

fn kind() -> impl Strategy<Value = NodeKind> {
    select(NodeKind::ALL.to_vec())
}

/// Any instant chrono can represent (years -262143 to 262142), biased towards the present
/// era, with nanosecond precision.
fn timestamp() -> impl Strategy<Value = DateTime<Utc>> {
    let min = DateTime::<Utc>::MIN_UTC.timestamp();
    let max = DateTime::<Utc>::MAX_UTC.timestamp();
    let secs = prop_oneof![3 => 0i64..4_102_444_800, 1 => min..=max];
    (secs, 0u32..1_000_000_000).prop_map(|(s, n)| DateTime::from_timestamp(s, n).unwrap())
}

/// Arbitrary text, including control characters, quotes and non-ASCII.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[a-zA-Z0-9 -]{0,20}", Just(String::new())]
}

fn version() -> impl Strategy<Value = i64> {
    prop_oneof![1i64..1000, any::<i64>()]
}

/// A random event of every kind the registry knows, with arbitrary strings in it.
fn domain_event() -> impl Strategy<Value = DomainEvent> {
    prop_oneof![
        (text(), text(), locale()).prop_map(|(slug, name, default_locale)| {
            DomainEvent::TenantCreated(event::TenantCreated {
                slug,
                name,
                default_locale,
            })
        }),
        (kind(), locale(), text(), text(), version()).prop_map(
            |(kind, locale, title, slug, version)| {
                DomainEvent::NodeCreated(event::NodeCreated {
                    kind,
                    locale,
                    title,
                    slug,
                    version,
                })
            }
        ),
        (
            locale(),
            prop::collection::vec(text(), 0..5),
            text(),
            text(),
            version()
        )
            .prop_map(|(locale, changed, title, slug, version)| {
                DomainEvent::NodeUpdated(event::NodeUpdated {
                    locale,
                    changed,
                    title,
                    slug,
                    version,
                })
            }),
        (locale(), text(), text(), any::<bool>(), version()).prop_map(
            |(locale, title, slug, created, version)| {
                DomainEvent::NodeTranslationUpdated(event::NodeTranslationUpdated {
                    locale,
                    title,
                    slug,
                    created,
                    version,
                })
            }
        ),
        (timestamp(), version()).prop_map(|(published_at, version)| {
            DomainEvent::NodePublished(event::NodePublished {
                published_at,
                version,
            })
        }),
        version().prop_map(|version| DomainEvent::NodeUnpublished(event::NodeVersion { version })),
        (timestamp(), version()).prop_map(|(archived_at, version)| {
            DomainEvent::NodeArchived(event::NodeArchived {
                archived_at,
                version,
            })
        }),
        version().prop_map(|version| DomainEvent::NodeRestored(event::NodeVersion { version })),
        (any::<bool>(), timestamp(), text()).prop_map(|(p, at, by)| {
            DomainEvent::NodeScheduled(event::NodeScheduled {
                action: scheduled_action(p),
                at,
                by,
            })
        }),
        (any::<bool>(), timestamp(), text(), text()).prop_map(|(p, due_at, by, reason)| {
            DomainEvent::NodeScheduleRefused(event::NodeScheduleRefused {
                action: scheduled_action(p),
                due_at,
                by,
                reason,
            })
        }),
    ]
}

fn scheduled_action(publish: bool) -> rustok_domain::content::ScheduledAction {
    if publish {
        rustok_domain::content::ScheduledAction::Publish
    } else {
        rustok_domain::content::ScheduledAction::Unpublish
    }
}

fn non_nil_uuid() -> impl Strategy<Value = Uuid> {
    prop_oneof![
        (1u128..=u128::MAX).prop_map(Uuid::from_u128),
        Just(()).prop_map(|_| Uuid::now_v7()),
    ]
}

/// A non-blank actor: arbitrary text around at least one visible character.
fn actor() -> impl Strategy<Value = String> {
    (text(), "[a-zA-Z0-9@._]", text()).prop_map(|(a, b, c)| format!("{a}{b}{c}"))
}

fn meta() -> impl Strategy<Value = EnvelopeMeta> {
    (
        non_nil_uuid(),
        non_nil_uuid(),
        non_nil_uuid(),
        actor(),
        timestamp(),
        prop::option::of(non_nil_uuid()),
        prop::option::of(non_nil_uuid()),
    )
        .prop_map(
            |(id, tenant, aggregate_id, actor, occurred_at, correlation_id, causation_id)| {
                EnvelopeMeta {
                    id: EventId::from_uuid(id),
                    tenant_id: TenantId::from_uuid(tenant),
                    aggregate_id,
                    actor,
                    occurred_at,
                    correlation_id,
                    causation_id,
                }
            },
        )
}

/// Strings that `str::trim` reduces to nothing.
fn blank() -> impl Strategy<Value = String> {
    "[ \t\n\r\u{a0}\u{2003}\u{3000}]{0,6}"
}

fn payload_keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// Corruptions: each one turns a valid envelope into an invalid one.
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Corruption {
    NilId,
    NilTenant,
    NilAggregate,
    NilCorrelation,
    NilCausation,
    BlankEventType(String),
    BlankAggregateType(String),
    BlankActor(String),
    UnregisteredType(String),
    WrongSchemaVersion(u16),
    WrongAggregateType(String),
    /// The payload is not a JSON object at all (or an empty one).
    PayloadNotAnObject(Value),
    /// The payload has a field its schema does not know.
    PayloadExtraField(String, Value),
    /// The payload lacks one of its fields.
    PayloadMissingField(usize),
    /// One field holds a value of the wrong JSON type.
    PayloadFieldWrongType(usize, Value),
    /// The payload of another event type with a different set of fields.
    OtherEventsPayload(DomainEvent),
}

fn corruption() -> impl Strategy<Value = Corruption> {
    let not_an_object = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<String>().prop_map(Value::String),
        Just(json!({})),
        Just(json!([])),
        // (Arrays that spell a payload's fields in order are accepted today: see
        // `array_payloads_are_rejected`.)
    ];
    let wrong_type = prop_oneof![
        Just(Value::Null),
        Just(json!({})),
        Just(json!([{}])),
        Just(json!(1.5)),
    ];
    let wrong_aggregate = prop_oneof![
        text().prop_filter("non-blank", |s| !s.trim().is_empty()),
        Just("Node".to_string()),
        Just(" node".to_string()),
        Just("node ".to_string()),
        Just("tenant".to_string()),
        Just("nodes".to_string()),
    ];
    prop_oneof![
        Just(Corruption::NilId),
        Just(Corruption::NilTenant),
        Just(Corruption::NilAggregate),
        Just(Corruption::NilCorrelation),
        Just(Corruption::NilCausation),
        blank().prop_map(Corruption::BlankEventType),
        blank().prop_map(Corruption::BlankAggregateType),
        blank().prop_map(Corruption::BlankActor),
        prop_oneof![
            text(),
            Just("node.exploded".to_string()),
            Just("Node.Created".to_string()),
            Just(" node.created".to_string()),
            Just("node.created\n".to_string()),
        ]
        .prop_map(Corruption::UnregisteredType),
        any::<u16>().prop_map(Corruption::WrongSchemaVersion),
        wrong_aggregate.prop_map(Corruption::WrongAggregateType),
        not_an_object.prop_map(Corruption::PayloadNotAnObject),
        (
            text(),
            prop_oneof![Just(Value::Null), any::<i64>().prop_map(|n| json!(n))]
        )
            .prop_map(|(k, v)| Corruption::PayloadExtraField(k, v)),
        any::<usize>().prop_map(Corruption::PayloadMissingField),
        (any::<usize>(), wrong_type).prop_map(|(i, v)| Corruption::PayloadFieldWrongType(i, v)),
        domain_event().prop_map(Corruption::OtherEventsPayload),
    ]
}

/// Applies a corruption; `None` when it would not change the envelope's validity (the case
/// is then discarded).
fn corrupt(mut env: EventEnvelope, c: &Corruption) -> Option<EventEnvelope> {
    let info = registered(&env.event_type).expect("a valid envelope has a registered type");
    match c {
        Corruption::NilId => env.id = EventId::from_uuid(Uuid::nil()),
        Corruption::NilTenant => env.tenant_id = TenantId::from_uuid(Uuid::nil()),
        Corruption::NilAggregate => env.aggregate_id = Uuid::nil(),
        Corruption::NilCorrelation => env.correlation_id = Uuid::nil(),
        Corruption::NilCausation => env.causation_id = Some(Uuid::nil()),
        Corruption::BlankEventType(s) => env.event_type = s.clone(),
        Corruption::BlankAggregateType(s) => env.aggregate_type = s.clone(),
        Corruption::BlankActor(s) => env.actor = s.clone(),
        Corruption::UnregisteredType(s) => {
            if registered(s).is_some() {
                return None;
            }
            env.event_type = s.clone();
        }
        Corruption::WrongSchemaVersion(v) => {
            if *v == info.schema_version {
                return None;
            }
            env.schema_version = *v;
        }
        Corruption::WrongAggregateType(s) => {
            if s == info.aggregate_type {
                return None;
            }
            env.aggregate_type = s.clone();
        }
        Corruption::PayloadNotAnObject(v) => env.payload = v.clone(),
        Corruption::PayloadExtraField(k, v) => {
            let map = env.payload.as_object_mut()?;
            if map.contains_key(k) {
                return None;
            }
            map.insert(k.clone(), v.clone());
        }
        Corruption::PayloadMissingField(i) => {
            let map = env.payload.as_object_mut()?;
            let key = map.keys().nth(i % map.len().max(1))?.clone();
            map.remove(&key);
        }
        Corruption::PayloadFieldWrongType(i, v) => {
            let map = env.payload.as_object_mut()?;
            let key = map.keys().nth(i % map.len().max(1))?.clone();
            map.insert(key, v.clone());
        }
        Corruption::OtherEventsPayload(other) => {
            let payload = other.payload();
            if payload_keys(&payload) == payload_keys(&env.payload) {
                return None;
            }
            env.payload = payload;
        }
    }
    Some(env)
}

// ---------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Property 1: every envelope carries the id it was given, and envelopes built with
    /// freshly generated ids all have distinct ids (even for the very same event).
    #[test]
    fn envelope_ids_are_unique(events in prop::collection::vec(domain_event(), 1..8), m in meta()) {
        let mut seen = HashSet::new();
        for e in &events {
            for _ in 0..3 {
                let id = EventId::new_v7();
                let env = EventEnvelope::new(e, EnvelopeMeta { id, ..m.clone() });
                prop_assert_eq!(env.id, id);
                prop_assert!(seen.insert(env.id), "duplicate envelope id {:?}", env.id);
            }
        }
        prop_assert_eq!(seen.len(), events.len() * 3);
    }

    /// Property 2: envelopes created one after another get time-ordered ids: sorting by id
    /// restores creation order, and the ids' embedded timestamps never go backwards.
    #[test]
    fn envelope_ids_are_time_ordered(events in prop::collection::vec(domain_event(), 2..8), m in meta()) {
        let envs: Vec<EventEnvelope> = events
            .iter()
            .map(|e| EventEnvelope::new(e, EnvelopeMeta { id: EventId::new_v7(), correlation_id: None, ..m.clone() }))
            .collect();
        for w in envs.windows(2) {
            prop_assert!(w[0].id < w[1].id);
            let t = |e: &EventEnvelope| e.id.as_uuid().get_timestamp().unwrap().to_unix();
            prop_assert!(t(&w[0]) <= t(&w[1]));
        }
        let mut sorted = envs.clone();
        sorted.sort_by_key(|e| e.id);
        prop_assert_eq!(sorted, envs);
    }

    /// Property 3: an envelope survives JSON serialization unchanged, still validates, and
    /// still decodes to the same event.
    #[test]
    fn envelope_json_roundtrip(e in domain_event(), m in meta()) {
        let env = EventEnvelope::new(&e, m);
        let json = serde_json::to_string(&env).unwrap();
        let back: EventEnvelope = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(&back, &env);
        prop_assert!(back.validate().is_ok(), "{:?}", back.validate());
        prop_assert_eq!(back.decode().unwrap(), e.clone());
        // Also through a `Value`, as the outbox stores it.
        let back: EventEnvelope = serde_json::from_value(serde_json::to_value(&env).unwrap()).unwrap();
        prop_assert_eq!(back, env);
        // And the event on its own.
        let back: DomainEvent = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
        prop_assert_eq!(back, e);
    }

    /// Property 4: an envelope built from any event and any well-formed metadata validates,
    /// and decodes back to the event; the metadata is carried over as given.
    #[test]
    fn valid_envelopes_pass(e in domain_event(), m in meta()) {
        let env = EventEnvelope::new(&e, m.clone());
        prop_assert!(env.validate().is_ok(), "{:?}", env.validate());
        prop_assert_eq!(env.decode().unwrap(), e);
        prop_assert_eq!(env.tenant_id, m.tenant_id);
        prop_assert_eq!(env.aggregate_id, m.aggregate_id);
        prop_assert_eq!(env.causation_id, m.causation_id);
        prop_assert_eq!(&env.actor, &m.actor);
        prop_assert_eq!(env.occurred_at, m.occurred_at);
    }

    /// Property 5: corrupting any single part of a valid envelope makes validation fail with
    /// an invalid-event error.
    #[test]
    fn invalid_envelopes_fail(e in domain_event(), m in meta(), c in corruption()) {
        let env = EventEnvelope::new(&e, m);
        prop_assert!(env.validate().is_ok());
        let bad = corrupt(env, &c);
        prop_assume!(bad.is_some());
        let bad = bad.unwrap();
        match bad.validate() {
            Ok(()) => prop_assert!(false, "{:?} was accepted: {:?}", c, bad),
            Err(err) => {
                prop_assert_eq!(err.kind(), "invalid_event");
                // Messages about the envelope's own fields escape what they quote. (For
                // payload errors see `payload_error_messages_are_escaped`.)
                let about_payload = matches!(
                    c,
                    Corruption::PayloadNotAnObject(_)
                        | Corruption::PayloadExtraField(..)
                        | Corruption::PayloadMissingField(_)
                        | Corruption::PayloadFieldWrongType(..)
                        | Corruption::OtherEventsPayload(_)
                );
                if !about_payload {
                    let msg = err.to_string();
                    prop_assert!(!has_control(&msg), "unescaped control char in {:?}", msg);
                }
            }
        }
    }

    /// A payload must be a JSON object. serde's derived `Deserialize` also accepts a struct
    /// written as a JSON array of its fields in declaration order (`"payload": [2]` for
    /// `node.unpublished`); validation must not let such a payload through.
    #[test]
    fn array_payloads_are_rejected(e in domain_event(), m in meta()) {
        let mut env = EventEnvelope::new(&e, m);
        let obj = e.payload();
        let field = |k: &str| obj.get(k).cloned().unwrap();
        env.payload = match &e {
            DomainEvent::NodeUnpublished(_) | DomainEvent::NodeRestored(_) => json!([field("version")]),
            DomainEvent::NodePublished(_) => json!([field("published_at"), field("version")]),
            DomainEvent::NodeArchived(_) => json!([field("archived_at"), field("version")]),
            DomainEvent::TenantCreated(_) => json!([field("slug"), field("name"), field("default_locale")]),
            DomainEvent::NodeCreated(_) => json!([
                field("kind"), field("locale"), field("title"), field("slug"), field("version")
            ]),
            DomainEvent::NodeUpdated(_) => json!([
                field("locale"), field("changed"), field("title"), field("slug"), field("version")
            ]),
            DomainEvent::NodeTranslationUpdated(_) => json!([
                field("locale"), field("title"), field("slug"), field("created"), field("version")
            ]),
            #[allow(unreachable_patterns)]
            _ => return Ok(()),
        };
        let outcome = env.validate();
        prop_assert!(outcome.is_err(), "array payload {} accepted for {}", env.payload, env.event_type);
    }

    /// Error messages are shown in the terminal, so like every other message of the domain
    /// they must not carry raw control characters from the input (see `text::printable`).
    /// serde quotes unknown field names and enum variants as they are, so its message is
    /// escaped before it becomes part of ours.
    #[test]
    fn payload_error_messages_are_escaped(
        e in domain_event(),
        m in meta(),
        evil in "[a-z]{0,3}[\x00-\x1f\x7f\u{9b}\u{202e}][a-z\x1b\n]{0,5}",
        which in 0u8..2,
    ) {
        let mut env = EventEnvelope::new(&e, m);
        match which {
            // An unknown field whose name carries control characters.
            0 => {
                env.payload.as_object_mut().unwrap().insert(evil.clone(), json!(1));
            }
            // A node kind that is not one (an enum variant serde quotes in its error).
            _ => {
                env.event_type = "node.created".into();
                env.aggregate_type = "node".into();
                env.payload = json!({"kind": evil, "locale": "en", "title": "t", "slug": "s", "version": 1});
            }
        }
        let err = env.validate().unwrap_err();
        let msg = err.to_string();
        prop_assert!(!has_control(&msg), "unescaped control char in {:?}", msg);
        prop_assert!(!msg.contains('\n'), "message is not a single line: {:?}", msg);
    }

    /// Property 6: the event type string is consistent everywhere: `event_type()` names a
    /// registry entry with the same aggregate type and schema version, it is the serialized
    /// tag, the envelope carries it, and type + payload rebuild the event.
    #[test]
    fn event_type_string_consistency(e in domain_event(), m in meta()) {
        let name = e.event_type();
        let info = registered(name);
        prop_assert!(info.is_some(), "{} is not in the registry", name);
        let info = info.unwrap();
        prop_assert_eq!(info.event_type, name);
        prop_assert_eq!(info.aggregate_type, e.aggregate_type());
        prop_assert_eq!(info.schema_version, e.schema_version());
        prop_assert_eq!(REGISTRY.iter().filter(|i| i.event_type == name).count(), 1);

        let tagged = serde_json::to_value(&e).unwrap();
        prop_assert_eq!(tagged.get("event_type"), Some(&Value::String(name.to_string())));
        prop_assert_eq!(tagged.get("payload"), Some(&e.payload()));
        prop_assert!(e.payload().is_object());

        let env = EventEnvelope::new(&e, m);
        prop_assert_eq!(env.event_type.as_str(), name);
        prop_assert_eq!(env.aggregate_type.as_str(), info.aggregate_type);
        prop_assert_eq!(env.schema_version, info.schema_version);
        prop_assert_eq!(DomainEvent::from_parts(name, &e.payload()).unwrap(), e);
    }

    /// Property 7: schema versions are at least 1, for events and for their envelopes.
    #[test]
    fn schema_version_is_positive(e in domain_event(), m in meta()) {
        prop_assert!(e.schema_version() >= 1);
        prop_assert!(EventEnvelope::new(&e, m).schema_version >= 1);
    }

    /// Property 8: the correlation id defaults to the event's own id and is kept as given
    /// otherwise; the causation id is never filled in.
    #[test]
    fn correlation_defaults_to_event_id(e in domain_event(), m in meta(), given in prop::option::of(non_nil_uuid())) {
        let env = EventEnvelope::new(&e, EnvelopeMeta { correlation_id: given, ..m.clone() });
        match given {
            Some(c) => prop_assert_eq!(env.correlation_id, c),
            None => prop_assert_eq!(env.correlation_id, m.id.as_uuid()),
        }
        prop_assert_eq!(env.causation_id, m.causation_id);
        prop_assert!(env.validate().is_ok());
    }

    /// Property 9: looking up arbitrary names in the registry and rebuilding events from
    /// arbitrary type names never panics and only succeeds for registered names.
    #[test]
    fn from_parts_is_total(name in text(), e in domain_event()) {
        let result = DomainEvent::from_parts(&name, &e.payload());
        if registered(&name).is_none() {
            prop_assert!(result.is_err());
            let msg = result.unwrap_err().to_string();
            prop_assert!(!has_control(&msg), "unescaped control char in {:?}", msg);
        }
    }

    /// The de-duplicator never reports a fresh id as a duplicate, always reports an id
    /// repeated right away (or within its window of `capacity` first-seen ids) as one, and
    /// counts exactly the duplicates it reported.
    #[test]
    fn deduplicator_fresh_and_repeated(
        capacity in 0usize..12,
        ops in prop::collection::vec((0u8..4, any::<usize>()), 1..300),
    ) {
        let window = capacity.max(1);
        let mut d = rustok_domain::event::Deduplicator::new(capacity);
        let mut offered: Vec<EventId> = Vec::new();
        let mut recent: VecDeque<EventId> = VecDeque::new();
        let mut reported = 0u64;
        for (op, pick) in ops {
            let (id, must_be_dup) = match op {
                // A fresh id.
                0 | 1 => (EventId::new_v7(), Some(false)),
                // The previous id again, right away.
                2 => match offered.last() {
                    Some(id) => (*id, Some(true)),
                    None => (EventId::new_v7(), Some(false)),
                },
                // Some id offered earlier: a duplicate if still inside the window.
                _ => match offered.get(pick % offered.len().max(1)) {
                    Some(id) if recent.contains(id) => (*id, Some(true)),
                    Some(id) => (*id, None),
                    None => (EventId::new_v7(), Some(false)),
                },
            };
            let first = d.first_seen(id);
            if let Some(dup) = must_be_dup {
                prop_assert_eq!(first, !dup, "id {:?} (op {}) misreported", id, op);
            }
            if first {
                recent.push_back(id);
                if recent.len() > window {
                    recent.pop_front();
                }
            } else {
                reported += 1;
            }
            offered.push(id);
            prop_assert_eq!(d.duplicates(), reported);
        }
    }
}

/// The registry itself: unique non-blank names, non-blank aggregate types, versions >= 1,
/// and `registered` finds each entry (and nothing else).
#[test]
fn registry_is_consistent() {
    let mut names = HashSet::new();
    for info in REGISTRY {
        assert!(
            names.insert(info.event_type),
            "{} registered twice",
            info.event_type
        );
        assert!(!info.event_type.trim().is_empty());
        assert!(!info.aggregate_type.trim().is_empty());
        assert!(
            info.schema_version >= 1,
            "{} has schema version 0",
            info.event_type
        );
        assert_eq!(registered(info.event_type), Some(info));
        assert_eq!(registered(&info.event_type.to_uppercase()), None);
    }
    assert!(registered("").is_none());
}
