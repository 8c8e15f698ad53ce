//! One test per term and operator of the event query language.

use super::*;
use crate::event::{DomainEvent, EnvelopeMeta, OrderPlaced};
use crate::{Currency, EventId, LineItem, Money, TenantId};
use chrono::TimeZone;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap()
}

const AGG: &str = "01936c3e-7a2b-7c4d-8e5f-0a1b6a9768cf";

fn order(minutes_ago: i64) -> EventEnvelope {
    let e = DomainEvent::OrderPlaced(OrderPlaced {
        customer: Some("ann@example.com".into()),
        items: vec![LineItem {
            sku: "MUG-1".into(),
            title: "Blue mug".into(),
            unit_price: Money::new(3500, Currency::USD),
            quantity: 2,
            returned: 0,
        }],
        total: Money::new(7000, Currency::USD),
        version: 1,
    });
    EventEnvelope::new(
        &e,
        EnvelopeMeta {
            id: EventId::new_v7(),
            tenant_id: TenantId::new_v7(),
            aggregate_id: Uuid::parse_str(AGG).unwrap(),
            actor: "Ann".into(),
            occurred_at: now() - Duration::minutes(minutes_ago),
            correlation_id: None,
            causation_id: None,
        },
    )
}

fn hit(q: &str) -> bool {
    hit_seq(q, 42)
}

fn hit_seq(q: &str, seq: i64) -> bool {
    EventQuery::parse(q)
        .unwrap_or_else(|e| panic!("{q}: {e}"))
        .matches(seq, &order(5), now())
}

fn err(q: &str) -> String {
    EventQuery::parse(q).expect_err(q).to_string()
}

#[test]
fn the_empty_expression_matches_everything() {
    assert!(hit(""));
    assert!(hit("   "));
    assert!(EventQuery::parse("").unwrap().is_empty());
}

#[test]
fn type_is_a_glob_or_a_prefix() {
    assert!(hit("type:order.*"));
    assert!(hit("type:order.placed"));
    assert!(
        hit("type:order"),
        "no wildcard: a prefix, as the console's filter was"
    );
    assert!(hit("type:*.placed"));
    assert!(hit("type:order.pl?ced"));
    assert!(hit("TYPE:ORDER.*"), "case-insensitive");
    assert!(!hit("type:node.*"));
    assert!(!hit("type:*.cancelled"));
    assert!(!hit("type:order.placed?"));
}

#[test]
fn agg_takes_a_full_id_a_short_id_a_prefix_or_a_type() {
    assert!(hit(&format!("agg:{AGG}")));
    assert!(hit(&format!("agg:{}", AGG.to_uppercase())));
    assert!(hit("agg:6a9768cf"), "the short id screens show");
    assert!(hit("agg:01936c3e"), "the start of the id as printed");
    assert!(hit("agg:order"), "an aggregate type");
    assert!(!hit("agg:node"));
    assert!(!hit("agg:deadbeef"));
    assert!(!hit("agg:01936c3e-7a2b-7c4d-8e5f-0a1b6a9768ce"));
    assert!(err("agg:not-an-id!").contains("agg:not-an-id!"));
}

#[test]
fn actor_is_exact_or_a_glob() {
    assert!(hit("actor:ann"));
    assert!(hit("actor:A*"));
    assert!(!hit("actor:an"));
    assert!(!hit("actor:bob"));
}

#[test]
fn since_and_until_take_durations_times_and_dates() {
    // The event occurred 5 minutes before `now`.
    assert!(hit("since:10m"));
    assert!(!hit("since:4m"));
    assert!(hit("since:300s"), "inclusive");
    assert!(hit("until:4m"));
    assert!(!hit("until:10m"));
    assert!(hit("since:1h until:1m"));
    assert!(hit("since:1d") && hit("since:1w") && hit("since:2h"));
    assert!(hit("since:2025-03-01T11:50:00Z"));
    assert!(!hit("since:2025-03-01T11:56:00+00:00"));
    assert!(!hit("until:2025-03-01T12:50:00+01:00"));
    assert!(hit("since:2025-03-01 until:2025-03-02"));
    assert!(err("since:yesterday").contains("since:yesterday"));
    assert!(err("until:10x").contains("until:10x"));
    assert!(err("since:99999999999999w").contains("too long"));
}

#[test]
fn seq_compares_with_every_operator() {
    assert!(hit_seq("seq>41", 42) && !hit_seq("seq>42", 42));
    assert!(hit_seq("seq>=42", 42) && !hit_seq("seq>=43", 42));
    assert!(hit_seq("seq<43", 42) && !hit_seq("seq<42", 42));
    assert!(hit_seq("seq<=42", 42) && !hit_seq("seq<=41", 42));
    assert!(hit_seq("seq=42", 42) && !hit_seq("seq=41", 42));
    assert!(hit_seq("seq:42", 42));
    assert!(hit_seq("seq!=41", 42) && !hit_seq("seq!=42", 42));
    let e = err("seq>abc");
    assert_eq!(e, "filter term 'seq>abc': 'abc' is not a whole number");
    assert!(err("seq~4").contains("seq~4"));
    let q = EventQuery::parse("seq>10 seq>=20 seq<100 seq<=50").unwrap();
    assert_eq!(q.after_seq(), Some(19));
    assert_eq!(q.before_seq(), Some(51));
    assert_eq!(EventQuery::parse("seq=7").unwrap().after_seq(), Some(6));
}

#[test]
fn payload_paths_compare_numbers_text_and_contain() {
    assert!(hit("payload.total.amount>6000"));
    assert!(!hit("payload.total.amount>7000"));
    assert!(hit("payload.total.amount>=7000"));
    assert!(hit("payload.total.amount<7001"));
    assert!(hit("payload.total.amount<=7000"));
    assert!(hit("payload.total.amount=7000"));
    assert!(hit("payload.total.amount!=6999"));
    assert!(
        hit("payload.total.amount>69.5"),
        "numbers compare as numbers"
    );
    assert!(hit("payload.customer~example.com"));
    assert!(
        hit("payload.customer=ANN@example.com"),
        "= on text ignores case"
    );
    assert!(!hit("payload.customer~example.org"));
    assert!(hit("payload.total.currency=usd"));
    assert!(hit("payload.items.0.sku=MUG-1"), "array index");
    assert!(hit("payload.items.*.sku=mug-1"), "any element");
    assert!(hit("payload.items.*.title=\"blue mug\""), "a quoted value");
    assert!(hit("payload~mug"), "the whole payload");
    assert!(!hit("payload.missing=1"));
    assert!(hit("payload.missing!=1"), "a missing field equals nothing");
    assert!(!hit("payload.total.amount>abc"), "a number is not text");
}

#[test]
fn bare_words_match_anywhere() {
    assert!(hit("placed"));
    assert!(hit("ann"));
    assert!(hit("6a9768cf"));
    assert!(hit("example.com"));
    assert!(hit("\"blue mug\""), "quoted words keep their spaces");
    assert!(!hit("12:30"), "a word with a colon after digits is a word");
    assert!(!hit("bob"));
    assert!(hit("order ann placed"), "every term must hold");
    assert!(!hit("order bob"));
}

#[test]
fn extra_keys_are_kept_for_the_caller() {
    let q = EventQuery::parse_with("tenant:* type:order", &["tenant"]).unwrap();
    assert_eq!(q.extra("tenant").collect::<Vec<_>>(), vec!["*"]);
    assert!(q.matches(1, &order(1), now()));
    assert!(err("tenant:*").contains("unknown key"));
}

#[test]
fn malformed_terms_are_one_line_naming_the_term() {
    for (q, term) in [
        ("payload.=", "payload.="),
        ("payload..a=1", "payload..a=1"),
        ("payload.a b", "payload.a"),
        ("payload.a$=1", "payload.a$=1"),
        ("payload.x>", "payload.x>"),
        ("type:", "type:"),
        ("\"unbalanced", "\"unbalanced"),
        ("type:\"order", "type:\"order"),
        ("wat:now", "wat:now"),
        ("a\u{1b}[2Jb", "a\\x1b[2Jb"),
        ("\"\"", "\"\""),
    ] {
        let e = err(q);
        assert!(!e.contains('\n'), "{e}");
        assert!(e.contains(&format!("'{term}'")), "{q}: {e}");
    }
}

#[test]
fn input_is_bounded_before_it_is_read() {
    let long = "a".repeat(MAX_QUERY_BYTES + 1);
    assert_eq!(
        EventQuery::parse(&long),
        Err(QueryError::TooLong { bytes: long.len() })
    );
    let many = vec!["x"; MAX_QUERY_TERMS + 1].join(" ");
    assert_eq!(EventQuery::parse(&many), Err(QueryError::TooManyTerms));
    let ok = vec!["x"; MAX_QUERY_TERMS].join(" ");
    assert!(EventQuery::parse(&ok).is_ok());
    let deep = format!("payload.{}=1", vec!["a"; MAX_PATH_SEGMENTS + 1].join("."));
    assert!(err(&deep).contains("at most"));
}

#[test]
fn globs_do_not_blow_up() {
    assert!(!glob("a*a*a*a*a*a*b", &"a".repeat(60)));
    assert!(glob("*", ""));
    assert!(glob("a*", "a"));
    assert!(!glob("?", ""));
}
