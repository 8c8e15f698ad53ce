//! Property tests for the content node state machine and the validators around it.
//!
//! Sprint 4, task 4.2: only valid transitions succeed, published→draft only by unpublishing,
//! identity fields never change, archived_at >= published_at, versions grow by exactly one per
//! change, and the timestamps match the status; plus title/slug validation and total parsers.

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use rustok_domain::content::{
    BodyFormat, MAX_SLUG_CHARS, MAX_TITLE_CHARS, Node, NodeAction, NodeDraft, NodeKind, NodePatch,
    NodeStatus, TranslationInput, slugify, validate_slug, validate_title,
};
use rustok_domain::event::{DomainEvent, EnvelopeMeta, EventEnvelope};
use rustok_domain::text::{has_control, printable};
use rustok_domain::{Currency, DomainError, EventId, Locale, Money, NodeId, TenantId, tenant};

// ---------------------------------------------------------------------------------------
// Reference model
// ---------------------------------------------------------------------------------------

/// The state machine as a table, written independently of `NodeStatus::apply`.
fn expected(from: NodeStatus, action: NodeAction) -> Option<NodeStatus> {
    match (from, action) {
        (NodeStatus::Draft, NodeAction::Publish) => Some(NodeStatus::Published),
        (NodeStatus::Published, NodeAction::Unpublish) => Some(NodeStatus::Draft),
        (NodeStatus::Published, NodeAction::Archive) => Some(NodeStatus::Archived),
        (NodeStatus::Archived, NodeAction::Restore) => Some(NodeStatus::Draft),
        _ => None,
    }
}

fn expected_event_type(action: NodeAction) -> &'static str {
    match action {
        NodeAction::Publish => "node.published",
        NodeAction::Unpublish => "node.unpublished",
        NodeAction::Archive => "node.archived",
        NodeAction::Restore => "node.restored",
    }
}

// ---------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------

/// Any instant chrono can represent, in any order: clocks may jump backwards.
fn any_time() -> impl Strategy<Value = DateTime<Utc>> {
    let min = DateTime::<Utc>::MIN_UTC.timestamp();
    let max = DateTime::<Utc>::MAX_UTC.timestamp();
    let secs = prop_oneof![
        2 => 1_700_000_000i64..1_700_000_100, // close together: ties and small steps back
        2 => 0i64..4_102_444_800,
        1 => min..=max,
    ];
    (secs, 0u32..1_000_000_000).prop_map(|(s, n)| DateTime::from_timestamp(s, n).unwrap())
}

fn locale() -> impl Strategy<Value = Locale> {
    select(vec!["en", "ru", "de", "fr-FR", "pt-BR"]).prop_map(|s| s.parse().unwrap())
}

fn action() -> impl Strategy<Value = NodeAction> {
    select(NodeAction::ALL.to_vec())
}

fn kind() -> impl Strategy<Value = NodeKind> {
    select(NodeKind::ALL.to_vec())
}

fn format() -> impl Strategy<Value = BodyFormat> {
    select(BodyFormat::ALL.to_vec())
}

/// Mostly valid titles, sometimes invalid ones (blank, too long).
fn title_input() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[A-Za-z][A-Za-z0-9 ,.!-]{0,20}",
        2 => "\\PC{0,8}[a-zа-я]\\PC{0,8}",
        1 => Just(String::new()),
        1 => Just("   ".to_string()),
        1 => Just("x".repeat(MAX_TITLE_CHARS + 1)),
    ]
}

/// Mostly valid slugs, sometimes invalid ones.
fn slug_input() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,2}",
        1 => Just("Bad Slug".to_string()),
        1 => Just("-a".to_string()),
        1 => Just(String::new()),
    ]
}

fn draft() -> impl Strategy<Value = NodeDraft> {
    (
        kind(),
        locale(),
        "[A-Za-z][A-Za-z0-9 ,.!-]{0,20}",
        prop::option::of("[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,2}"),
        prop::option::of("\\PC{0,20}"),
        "\\PC{0,30}",
        format(),
    )
        .prop_map(
            |(kind, locale, title, slug, excerpt, body, format)| NodeDraft {
                id: NodeId::new_v7(),
                kind,
                locale,
                title,
                slug,
                excerpt,
                body,
                format,
            },
        )
}

#[derive(Debug, Clone)]
enum Op {
    Transition(NodeAction),
    Update(NodePatch),
    Translate(TranslationInput),
}

fn patch() -> impl Strategy<Value = NodePatch> {
    (
        prop::option::of(locale()),
        prop::option::of(title_input()),
        prop::option::of(slug_input()),
        prop::option::of("\\PC{0,10}"),
        prop::option::of("\\PC{0,10}"),
        prop::option::of(format()),
    )
        .prop_map(|(locale, title, slug, excerpt, body, format)| NodePatch {
            locale,
            title,
            slug,
            excerpt,
            body,
            format,
        })
}

fn translation_input() -> impl Strategy<Value = TranslationInput> {
    (
        locale(),
        title_input(),
        prop::option::of(slug_input()),
        prop::option::of("\\PC{0,10}"),
        prop::option::of("\\PC{0,10}"),
        prop::option::of(format()),
    )
        .prop_map(
            |(locale, title, slug, excerpt, body, format)| TranslationInput {
                locale,
                title,
                slug,
                excerpt,
                body,
                format,
            },
        )
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => action().prop_map(Op::Transition),
        2 => patch().prop_map(Op::Update),
        2 => translation_input().prop_map(Op::Translate),
    ]
}

fn apply(
    node: &Node,
    op: &Op,
    now: DateTime<Utc>,
) -> Result<(Node, Vec<DomainEvent>), DomainError> {
    match op {
        Op::Transition(a) => node.transition(*a, now),
        Op::Update(p) => node.update(p.clone(), now),
        Op::Translate(t) => node.translate(t.clone(), now),
    }
}

fn is_published_or_archived(s: NodeStatus) -> bool {
    matches!(s, NodeStatus::Published | NodeStatus::Archived)
}

/// The invariants every node must satisfy, whatever happened to it.
fn check_invariants(n: &Node) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        n.published_at.is_some(),
        is_published_or_archived(n.status),
        "{:?}",
        n
    );
    prop_assert_eq!(
        n.archived_at.is_some(),
        n.status == NodeStatus::Archived,
        "{:?}",
        n
    );
    if let (Some(p), Some(a)) = (n.published_at, n.archived_at) {
        prop_assert!(a >= p, "archived_at {} before published_at {}", a, p);
    }
    for t in [n.published_at, n.archived_at].into_iter().flatten() {
        prop_assert!(
            t <= n.updated_at,
            "status timestamp {} after updated_at {}",
            t,
            n.updated_at
        );
    }
    prop_assert!(n.version >= 1);
    prop_assert!(!n.translations.is_empty());
    prop_assert!(
        n.translation(&n.source_locale).is_some(),
        "source translation missing"
    );
    prop_assert!(
        n.translations.windows(2).all(|w| w[0].locale < w[1].locale),
        "translations not sorted by locale / duplicated: {:?}",
        n.locales()
    );
    for t in &n.translations {
        prop_assert!(
            validate_slug(&t.slug).is_ok(),
            "stored slug {:?} is invalid",
            t.slug
        );
        prop_assert!(
            validate_title(&t.title).is_ok(),
            "stored title {:?} is invalid",
            t.title
        );
    }
    Ok(())
}

/// The events of a successful decision: exactly one, at the node's new version, wrapping into
/// an envelope that validates.
fn check_events(
    next: &Node,
    events: &[DomainEvent],
    now: DateTime<Utc>,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(events.len(), 1);
    let e = &events[0];
    let payload = e.payload();
    prop_assert_eq!(
        payload.get("version").and_then(|v| v.as_i64()),
        Some(next.version)
    );
    let env = EventEnvelope::new(
        e,
        EnvelopeMeta {
            id: EventId::new_v7(),
            tenant_id: next.tenant_id,
            aggregate_id: next.id.as_uuid(),
            actor: next.author.clone(),
            occurred_at: now,
            correlation_id: None,
            causation_id: None,
        },
    );
    prop_assert!(env.validate().is_ok(), "{:?}", env.validate());
    prop_assert_eq!(env.aggregate_type.as_str(), "node");
    Ok(())
}

// ---------------------------------------------------------------------------------------
// State machine properties
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Property 1: only the four transitions of the table succeed; everything else is an
    /// `InvalidTransition` naming the status and action, and leaves the node as it was.
    #[test]
    fn only_valid_transitions_succeed(
        d in draft(),
        created in any_time(),
        steps in prop::collection::vec((action(), any_time()), 0..40),
    ) {
        let (mut node, _) = Node::create(TenantId::new_v7(), d, "author", created).unwrap();
        for (a, now) in steps {
            let before = node.clone();
            prop_assert_eq!(node.status.apply(a).ok(), expected(node.status, a));
            match (node.transition(a, now), expected(node.status, a)) {
                (Ok((next, events)), Some(want)) => {
                    prop_assert_eq!(next.status, want);
                    prop_assert_eq!(events[0].event_type(), expected_event_type(a));
                    check_events(&next, &events, now)?;
                    node = next;
                }
                (Err(err), None) => {
                    prop_assert_eq!(err.kind(), "invalid_transition");
                    let want = DomainError::InvalidTransition {
                        entity: "node",
                        from: node.status.as_str().to_string(),
                        action: a.as_str().to_string(),
                    };
                    prop_assert_eq!(err, want);
                    prop_assert_eq!(&node, &before, "a refused transition changed the node");
                }
                (got, want) => prop_assert!(false, "{:?} from {:?}: got {:?}, want {:?}", a, node.status, got, want),
            }
            check_invariants(&node)?;
        }
    }

    /// The actions offered in menus are exactly the ones the state machine accepts.
    #[test]
    fn allowed_actions_match_the_table(s in select(NodeStatus::ALL.to_vec())) {
        for &a in NodeAction::ALL {
            prop_assert_eq!(s.allowed_actions().contains(&a), expected(s, a).is_some(), "{:?} {:?}", s, a);
        }
    }

    /// Property 4 head-on: publish at one arbitrary time, archive at another (possibly much
    /// earlier) one — the archive is never dated before the publication.
    #[test]
    fn archive_never_precedes_publication(
        d in draft(),
        created in any_time(),
        published in any_time(),
        archived in any_time(),
        republished in any_time(),
    ) {
        let (n, _) = Node::create(TenantId::new_v7(), d, "author", created).unwrap();
        let (p, _) = n.transition(NodeAction::Publish, published).unwrap();
        let (a, events) = p.transition(NodeAction::Archive, archived).unwrap();
        prop_assert!(a.archived_at.unwrap() >= a.published_at.unwrap());
        prop_assert_eq!(a.published_at, p.published_at, "archiving changed published_at");
        match &events[0] {
            DomainEvent::NodeArchived(e) => prop_assert_eq!(Some(e.archived_at), a.archived_at),
            other => prop_assert!(false, "unexpected event {:?}", other),
        }
        let (r, _) = a.transition(NodeAction::Restore, republished).unwrap();
        prop_assert_eq!((r.published_at, r.archived_at), (None, None));
        let (p2, _) = r.transition(NodeAction::Publish, republished).unwrap();
        let (a2, _) = p2.transition(NodeAction::Archive, created).unwrap();
        prop_assert!(a2.archived_at.unwrap() >= a2.published_at.unwrap());
    }

    /// Property 2 head-on: from a published node, every action except unpublish (and the
    /// archive → restore detour) keeps it out of draft.
    #[test]
    fn published_to_draft_only_via_unpublish(d in draft(), a in action(), now in any_time()) {
        let (n, _) = Node::create(TenantId::new_v7(), d, "author", now).unwrap();
        let (p, _) = n.transition(NodeAction::Publish, now).unwrap();
        let result = p.transition(a, now);
        let became_draft = matches!(&result, Ok((next, _)) if next.status == NodeStatus::Draft);
        prop_assert_eq!(became_draft, a == NodeAction::Unpublish);
        if let Ok((next, _)) = result {
            prop_assert_eq!(next.version, p.version + 1);
        }
    }
}

proptest! {
    // Each case runs a whole history of up to 40 decisions, so fewer cases suffice.
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Properties 2–6 over random mixes of transitions, edits and translations at arbitrary
    /// (also backwards-moving) times:
    /// - a published node becomes a draft only through an explicit unpublish, and only
    ///   transitions change the status at all;
    /// - id, tenant, kind (and creation time, source locale, author) never change;
    /// - archived_at >= published_at whenever both are set;
    /// - the version grows by exactly 1 per successful decision and not at all on a failed one;
    /// - published_at is set iff published or archived, archived_at iff archived.
    #[test]
    fn node_invariants_hold_over_any_history(
        d in draft(),
        tenant in (1u128..).prop_map(|u| TenantId::from_uuid(uuid::Uuid::from_u128(u))),
        created in any_time(),
        steps in prop::collection::vec((op(), any_time()), 0..40),
    ) {
        let (first, events) = Node::create(tenant, d.clone(), "author", created).unwrap();
        prop_assert_eq!(first.version, 1);
        prop_assert_eq!(first.status, NodeStatus::Draft);
        check_events(&first, &events, created)?;
        check_invariants(&first)?;
        let mut node = first.clone();
        let mut successes = 0i64;
        for (op, now) in steps {
            let before = node.clone();
            match apply(&node, &op, now) {
                Ok((next, events)) => {
                    successes += 1;
                    prop_assert_eq!(next.version, before.version + 1, "{:?}", op);
                    prop_assert!(next.updated_at >= before.updated_at, "updated_at went backwards");
                    if before.status == NodeStatus::Published && next.status == NodeStatus::Draft {
                        prop_assert!(
                            matches!(op, Op::Transition(NodeAction::Unpublish)),
                            "published -> draft through {:?}", op
                        );
                    }
                    if !matches!(op, Op::Transition(_)) {
                        prop_assert_eq!(next.status, before.status, "{:?} changed the status", op);
                        prop_assert_eq!(next.published_at, before.published_at);
                        prop_assert_eq!(next.archived_at, before.archived_at);
                    }
                    check_events(&next, &events, now)?;
                    node = next;
                }
                Err(_) => prop_assert_eq!(&node, &before),
            }
            prop_assert_eq!(node.version, 1 + successes);
            prop_assert_eq!(node.id, d.id);
            prop_assert_eq!(node.tenant_id, tenant);
            prop_assert_eq!(node.kind, d.kind);
            prop_assert_eq!(node.created_at, first.created_at);
            prop_assert_eq!(&node.source_locale, &d.locale);
            prop_assert_eq!(node.author.as_str(), "author");
            check_invariants(&node)?;
        }
    }
}

// ---------------------------------------------------------------------------------------
// Validation properties
// ---------------------------------------------------------------------------------------

/// Strings that `str::trim` removes entirely.
const WHITESPACE: &[char] = &[
    ' ', '\t', '\n', '\r', '\x0b', '\x0c', '\u{85}', '\u{a0}', '\u{1680}', '\u{2000}', '\u{2005}',
    '\u{200a}', '\u{2028}', '\u{2029}', '\u{202f}', '\u{205f}', '\u{3000}',
];

/// 1..=255 arbitrary chars (control characters included) with at least one non-whitespace.
fn valid_title() -> impl Strategy<Value = String> {
    let len = prop_oneof![0usize..MAX_TITLE_CHARS, Just(MAX_TITLE_CHARS - 1)];
    (
        len.prop_flat_map(|n| prop::collection::vec(any::<char>(), n)),
        any::<char>().prop_filter("visible", |c| !c.is_whitespace()),
        any::<Index>(),
    )
        .prop_map(|(mut chars, c, at)| {
            let i = at.index(chars.len() + 1);
            chars.insert(i, c);
            chars.into_iter().collect()
        })
}

/// Arbitrary text of every flavour, including control characters and escape sequences.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-zA-Z0-9_ .-]{0,12}",
        "[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}\\u{202a}-\\u{202e}\\u{2066}-\\u{2069}a-z\\[]{0,12}",
    ]
}

fn currency() -> impl Strategy<Value = Currency> {
    select(vec!["USD", "EUR", "JPY", "KWD", "CLP", "BHD", "GBP"]).prop_map(|c| c.parse().unwrap())
}

fn no_control_in_error<T: std::fmt::Debug>(
    r: &Result<T, DomainError>,
) -> Result<(), TestCaseError> {
    if let Err(e) = r {
        let msg = e.to_string();
        prop_assert!(!has_control(&msg), "unescaped control char in {:?}", msg);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Titles of 1..=255 characters with something visible in them are accepted, kept
    /// verbatim, and a node can be created with them.
    #[test]
    fn titles_up_to_255_chars_accepted(title in valid_title(), d in draft(), now in any_time()) {
        let n = title.chars().count();
        prop_assert!((1..=MAX_TITLE_CHARS).contains(&n));
        prop_assert!(validate_title(&title).is_ok(), "{:?} ({} chars) rejected", title, n);
        let (node, _) = Node::create(TenantId::new_v7(), NodeDraft { title: title.clone(), slug: None, ..d }, "me", now).unwrap();
        prop_assert_eq!(&node.source().title, &title);
        prop_assert!(validate_slug(&node.source().slug).is_ok());
    }

    /// Titles longer than 255 characters are rejected, whatever they contain.
    #[test]
    fn titles_over_255_chars_rejected(
        chars in (MAX_TITLE_CHARS + 1..MAX_TITLE_CHARS + 300).prop_flat_map(|n| prop::collection::vec(any::<char>(), n)),
        d in draft(),
    ) {
        let title: String = chars.into_iter().collect();
        let err = validate_title(&title).unwrap_err();
        prop_assert_eq!(err.field(), Some("title"));
        let created = Node::create(TenantId::new_v7(), NodeDraft { title, ..d }, "me", Utc::now());
        prop_assert_eq!(created.unwrap_err().field(), Some("title"));
    }

    /// Blank titles (empty or only whitespace, of any length) are rejected.
    #[test]
    fn blank_titles_rejected(ws in prop::collection::vec(select(WHITESPACE), 0..300)) {
        let title: String = ws.into_iter().collect();
        prop_assert_eq!(validate_title(&title).unwrap_err().field(), Some("title"));
    }

    /// `slugify` only ever produces slugs that `validate_slug` accepts; it returns `None`
    /// exactly when there is no ASCII letter or digit; and it leaves a slug it made as it is.
    #[test]
    fn slugify_output_is_a_valid_slug(title in prop_oneof![any_text(), "([A-Za-z0-9]{1,20}[^A-Za-z0-9]{1,3}){0,30}"]) {
        let has_alnum = title.chars().any(|c| c.is_ascii_alphanumeric());
        match slugify(&title) {
            Some(slug) => {
                prop_assert!(validate_slug(&slug).is_ok(), "slugify({:?}) = {:?} is invalid: {:?}", title, slug, validate_slug(&slug));
                prop_assert!(slug.len() <= MAX_SLUG_CHARS);
                prop_assert_eq!(slugify(&slug), Some(slug.clone()), "slugify is not idempotent");
            }
            None => prop_assert!(!has_alnum, "slugify({:?}) gave nothing", title),
        }
    }

    /// `validate_slug` never panics and agrees with its rule: 1–255 of [a-z0-9-], no leading,
    /// trailing or doubled '-'.
    #[test]
    fn content_validate_slug_is_total(s in prop_oneof![any_text(), "[a-z0-9-]{0,20}", "[a-z0-9-]{250,260}"]) {
        let r = validate_slug(&s);
        let ok = !s.is_empty()
            && s.len() <= MAX_SLUG_CHARS
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-')
            && !s.ends_with('-')
            && !s.contains("--");
        prop_assert_eq!(r.is_ok(), ok, "{:?}: {:?}", s, r);
        no_control_in_error(&r)?;
    }

    /// `Locale::from_str` never panics; what it accepts is canonical (parses back to itself)
    /// and plain ASCII; the grammar is case- and separator-insensitive.
    #[test]
    fn locale_parsing_is_total(
        s in any_text(),
        tag in "[a-zA-Z]{2,3}([-_][a-zA-Z]{4})?([-_]([a-zA-Z]{2}|[0-9]{3}))?",
    ) {
        let r = s.parse::<Locale>();
        no_control_in_error(&r)?;
        if let Ok(l) = &r {
            prop_assert_eq!(&l.as_str().parse::<Locale>().unwrap(), l);
            prop_assert!(l.as_str().bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
        }
        let l: Locale = tag.parse().unwrap();
        let swapped: String = tag
            .chars()
            .map(|c| if c.is_ascii_uppercase() { c.to_ascii_lowercase() } else { c.to_ascii_uppercase() })
            .collect();
        prop_assert_eq!(&swapped.parse::<Locale>().unwrap(), &l);
        prop_assert_eq!(&tag.replace('_', "-").parse::<Locale>().unwrap(), &l);
        prop_assert_eq!(&l.as_str().parse::<Locale>().unwrap(), &l);
    }

    /// `Currency::from_str` never panics; an accepted code is three uppercase letters that
    /// parse back to the same currency.
    #[test]
    fn currency_parsing_is_total(s in prop_oneof![any_text(), "[a-zA-Z]{3}", " ?(usd|Jpy|KWD) ?"]) {
        let r = s.parse::<Currency>();
        no_control_in_error(&r)?;
        if let Ok(c) = r {
            prop_assert_eq!(c.code().len(), 3);
            prop_assert!(c.code().bytes().all(|b| b.is_ascii_uppercase()));
            prop_assert_eq!(c.code(), s.trim().to_ascii_uppercase());
            prop_assert_eq!(c.code().parse::<Currency>().unwrap(), c);
            prop_assert!(c.exponent() <= 3);
        }
    }

    /// `Money::parse` never panics, and what it accepts it reads exactly: the amount is the
    /// written decimal in minor units, never rounded, never negative.
    #[test]
    fn money_parsing_is_total_and_exact(s in prop_oneof![any_text(), "[0-9]{0,22}(\\.[0-9]{0,4})?", " [0-9.,e+-]{0,8} "], c in currency()) {
        let r = Money::parse(&s, c);
        no_control_in_error(&r)?;
        if let Ok(m) = r {
            prop_assert!(m.amount >= 0);
            prop_assert_eq!(m.currency, c);
            // Reference reading: whole digits, then the fraction padded to the exponent.
            let t = s.trim();
            let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
            let exp = usize::from(c.exponent());
            prop_assert!(frac.len() <= exp, "{:?} was rounded to {:?}", s, m);
            let digits = format!("{whole}{frac:0<exp$}");
            prop_assert!(digits.bytes().all(|b| b.is_ascii_digit()), "{:?} accepted", s);
            prop_assert_eq!(digits.parse::<u128>().ok(), Some(m.amount as u128), "{:?}", s);
        }
    }

    /// Any non-negative amount printed by `Display` (English grouping, `1,234.50`) parses
    /// back exactly once its group separators are taken out (no rounding).
    #[test]
    fn money_display_parse_roundtrip(amount in prop_oneof![0i64..1_000_000, 0i64..=i64::MAX], c in currency()) {
        let m = Money::new(amount, c);
        let shown = m.to_string();
        let suffix = format!(" {}", c.code());
        prop_assert!(shown.ends_with(&suffix), "{}", shown);
        let number = shown[..shown.len() - suffix.len()].replace(',', "");
        prop_assert_eq!(Money::parse(&number, c).unwrap(), m);
    }

    /// `tenant::validate_slug` never panics and accepts exactly `^[a-z0-9][a-z0-9-]{0,62}$`
    /// minus the reserved words.
    #[test]
    fn tenant_slug_validation_is_total(s in prop_oneof![any_text(), "[a-z0-9][a-z0-9-]{0,62}", "[a-z0-9-]{60,66}", select(tenant::RESERVED_SLUGS).prop_map(String::from)]) {
        let r = tenant::validate_slug(&s);
        no_control_in_error(&r)?;
        let b = s.as_bytes();
        let well_formed = (1..=63).contains(&b.len())
            && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
            && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-');
        prop_assert_eq!(r.is_ok(), well_formed && !tenant::RESERVED_SLUGS.contains(&s.as_str()), "{:?}: {:?}", s, r);
    }

    /// `printable` never panics, never lets a control character (ESC included) or a bidi
    /// override through, keeps everything on one line, and leaves clean text untouched.
    #[test]
    fn printable_output_has_no_control_chars(s in any_text()) {
        let out = printable(&s);
        prop_assert!(!out.chars().any(char::is_control), "{:?} -> {:?}", s, out);
        prop_assert!(!out.contains('\x1b'));
        prop_assert!(
            !out.chars().any(|c| matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')),
            "bidi control survived: {:?}",
            out
        );
        prop_assert!(!has_control(&out));
        prop_assert!(!out.contains('\n'));
        prop_assert_eq!(out == s, !has_control(&s), "{:?} -> {:?}", s, out);
        prop_assert_eq!(printable(&out), out.clone(), "printable is not idempotent");
    }
}
