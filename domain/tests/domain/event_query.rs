//! The event query language against arbitrary input: parsing never panics, matching a parsed
//! expression never panics, and every refusal is one clear line naming the term (or saying
//! the expression is too long or has too many terms).

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use rustok_domain::event::query::{MAX_QUERY_BYTES, MAX_QUERY_TERMS};
use rustok_domain::event::{DomainEvent, EnvelopeMeta, EventEnvelope, EventQuery, QueryError};
use rustok_domain::text::has_control;
use rustok_domain::{EventId, TenantId};

fn envelope() -> EventEnvelope {
    let e = DomainEvent::NodeRestored(rustok_domain::event::NodeVersion { version: 2 });
    EventEnvelope::new(
        &e,
        EnvelopeMeta {
            id: EventId::new_v7(),
            tenant_id: TenantId::new_v7(),
            aggregate_id: uuid::Uuid::now_v7(),
            actor: "ann".into(),
            occurred_at: Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap(),
            correlation_id: None,
            causation_id: None,
        },
    )
}

/// Pieces of the grammar, glued into nearly-valid expressions.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("type:".to_string()),
        Just("agg:".to_string()),
        Just("actor:".to_string()),
        Just("since:".to_string()),
        Just("until:".to_string()),
        Just("seq".to_string()),
        Just("payload".to_string()),
        Just(".".to_string()),
        Just("*".to_string()),
        Just("?".to_string()),
        Just("=".to_string()),
        Just("!=".to_string()),
        Just(">".to_string()),
        Just(">=".to_string()),
        Just("<".to_string()),
        Just("~".to_string()),
        Just("\"".to_string()),
        Just("\\".to_string()),
        Just(" ".to_string()),
        Just("\x1b[2J".to_string()),
        Just("10m".to_string()),
        Just("2025-01-01T00:00:00Z".to_string()),
        "[0-9]{1,25}",
        "[a-z]{1,6}",
        any::<char>().prop_map(|c| c.to_string()),
    ]
}

fn input() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::collection::vec(piece(), 0..20).prop_map(|v| v.concat()),
        2 => any::<String>(),
        1 => (any::<char>(), 0usize..12_000).prop_map(|(c, n)| c.to_string().repeat(n)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_input_never_panics_and_errors_are_one_line_naming_a_term(text in input()) {
        match EventQuery::parse(&text) {
            Ok(q) => {
                prop_assert!(text.len() <= MAX_QUERY_BYTES);
                prop_assert!(q.terms().len() <= MAX_QUERY_TERMS);
                let now = Utc::now();
                let _ = q.matches(1, &envelope(), now);
                let _ = (q.after_seq(), q.before_seq());
            }
            Err(e) => {
                let m = e.to_string();
                prop_assert!(!m.contains('\n'), "{m:?}");
                prop_assert!(!has_control(&m), "{m:?}");
                prop_assert!(m.chars().count() <= 400, "{} characters", m.chars().count());
                match &e {
                    QueryError::Term { term, .. } => {
                        prop_assert!(!term.is_empty());
                        prop_assert!(m.starts_with(&format!("filter term '{term}': ")), "{m}");
                    }
                    QueryError::TooLong { bytes } => prop_assert!(*bytes > MAX_QUERY_BYTES),
                    QueryError::TooManyTerms => {
                        prop_assert!(text.split_whitespace().count() > MAX_QUERY_TERMS
                            || text.contains('"'))
                    }
                }
            }
        }
    }
}
