//! The event query language: one grammar for the console's Events filter, `rustok events
//! list --filter` and `events tail --filter`, and the dead-letter re-drive's `--filter`.
//!
//! An expression is space-separated terms, all of which must hold (AND):
//!
//! | term | matches |
//! |---|---|
//! | `type:order.*` | the event type, a glob (`*` any run, `?` one character); without a wildcard a prefix (`type:order` = `type:order*`) |
//! | `agg:ID` | the aggregate: a whole UUID, the short id the screens show (its last hex digits, 4 to 31), the start of the id as printed, or an aggregate type (`agg:order`) |
//! | `actor:HANDLE` | who caused it (case-insensitive; a glob with `*`) |
//! | `since:10m` / `since:RFC3339` | occurred at or after: `30s`, `10m`, `2h`, `7d`, `1w` ago, an RFC 3339 time, or a date (`2025-01-31`, midnight UTC) |
//! | `until:…` | occurred before (same forms) |
//! | `seq>N` `seq>=N` `seq<N` `seq<=N` `seq=N` `seq!=N` | its place in the store's sequence |
//! | `payload.PATH OP VALUE` | a payload field, OP one of `=` `!=` `>` `>=` `<` `<=` `~` (contains); a `*` segment is any element (`payload.items.*.sku=MUG-1`) |
//! | a bare word | anywhere: type, aggregate type and id, event id, actor, payload text (case-insensitive) |
//!
//! A value with spaces is quoted: `payload.customer="Ann Lee"`, `"card declined"`.
//! Inside quotes `\"` is a quote and `\\` a backslash.
//!
//! Parsing is bounded before anything is read ([`MAX_QUERY_BYTES`], [`MAX_QUERY_TERMS`]) and
//! never panics; a malformed expression is one line naming the term
//! (`filter term 'seq>abc': 'abc' is not a whole number`). Matching takes `now` as an
//! argument (for `since:10m`); nothing here reads a clock.

use super::EventEnvelope;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::Value;
use uuid::Uuid;

/// The longest expression accepted, in bytes (checked before it is read).
pub const MAX_QUERY_BYTES: usize = 2_000;
/// The most terms in one expression.
pub const MAX_QUERY_TERMS: usize = 32;
/// The deepest payload path (`payload.a.b.c…`).
pub const MAX_PATH_SEGMENTS: usize = 16;

/// Why an expression was refused: one line, naming the term when there is one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("the filter is too long: {bytes} bytes (at most {MAX_QUERY_BYTES})")]
    TooLong { bytes: usize },
    #[error("the filter has too many terms: more than {MAX_QUERY_TERMS}")]
    TooManyTerms,
    /// `term` is already printable and short (an excerpt of what was typed).
    #[error("filter term '{term}': {message}")]
    Term { term: String, message: String },
}

impl QueryError {
    fn term(raw: &str, message: impl Into<String>) -> QueryError {
        QueryError::Term {
            term: crate::text::excerpt(raw, crate::text::EXCERPT_CHARS),
            message: message.into(),
        }
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    /// Contains (case-insensitive), payload terms only.
    Contains,
}

impl Op {
    fn text(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Contains => "~",
        }
    }

    fn holds(self, ord: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            Op::Eq => ord == Equal,
            Op::Ne => ord != Equal,
            Op::Gt => ord == Greater,
            Op::Ge => ord != Less,
            Op::Lt => ord == Less,
            Op::Le => ord != Greater,
            Op::Contains => ord == Equal,
        }
    }
}

/// A point in time a `since:`/`until:` term names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeRef {
    /// This long before `now`.
    Ago(Duration),
    At(DateTime<Utc>),
}

impl TimeRef {
    /// Parses what `since:` and `until:` take (`10m`, an RFC 3339 time, a date), for options
    /// such as `--since`; the error's term is `value`.
    pub fn parse(value: &str) -> Result<TimeRef, QueryError> {
        if value.len() > MAX_QUERY_BYTES {
            return Err(QueryError::TooLong { bytes: value.len() });
        }
        time_ref(value, value)
    }

    /// The instant, given the time now.
    pub fn resolve(self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            TimeRef::Ago(d) => now
                .checked_sub_signed(d)
                .unwrap_or(DateTime::<Utc>::MIN_UTC),
            TimeRef::At(t) => t,
        }
    }
}

/// What an `agg:` term names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AggRef {
    Full(Uuid),
    /// Lowercase hex digits (dashes kept as typed, lowercased): the end of the id's digits
    /// (the short id screens show) or the start of the id as printed.
    Part(String),
    /// An aggregate type (`order`, `node`, …).
    Kind(String),
    /// Hex that also reads as a word (`agg:face`): either.
    PartOrKind(String),
}

/// One term of an expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    Type(String),
    Agg(AggRef),
    Actor(String),
    Since(TimeRef),
    Until(TimeRef),
    Seq(Op, i64),
    Payload {
        path: Vec<String>,
        op: Op,
        value: String,
    },
    /// A bare word (lowercased).
    Word(String),
    /// A `key:value` term of a key the caller asked to handle itself (the console's
    /// `tenant:`): kept, never matched here.
    Extra {
        key: String,
        value: String,
    },
}

/// A parsed expression: the conjunction of its terms. The empty expression matches every event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventQuery {
    terms: Vec<Term>,
}

const KEYS: &str = "type, agg, actor, since, until, seq, payload.PATH";

impl std::str::FromStr for EventQuery {
    type Err = QueryError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventQuery::parse(s)
    }
}

impl EventQuery {
    /// Parses an expression of the grammar's terms only.
    pub fn parse(text: &str) -> Result<EventQuery, QueryError> {
        Self::parse_with(text, &[])
    }

    /// Parses an expression that may also hold `key:value` terms of `extra` keys, kept as
    /// [`Term::Extra`] for the caller.
    pub fn parse_with(text: &str, extra: &[&str]) -> Result<EventQuery, QueryError> {
        if text.len() > MAX_QUERY_BYTES {
            return Err(QueryError::TooLong { bytes: text.len() });
        }
        let mut terms = Vec::new();
        for raw in tokens(text)? {
            if terms.len() == MAX_QUERY_TERMS {
                return Err(QueryError::TooManyTerms);
            }
            terms.push(term(&raw, extra)?);
        }
        Ok(EventQuery { terms })
    }

    pub fn terms(&self) -> &[Term] {
        &self.terms
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The values of the caller's `key:` terms, in order.
    pub fn extra<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.terms.iter().filter_map(move |t| match t {
            Term::Extra { key: k, value } if k == key => Some(value.as_str()),
            _ => None,
        })
    }

    /// The lowest sequence number that can match (exclusive), for reading less: the
    /// greatest `seq>N` / `seq>=N+1` / `seq=N+1` bound.
    pub fn after_seq(&self) -> Option<i64> {
        self.terms
            .iter()
            .filter_map(|t| match *t {
                Term::Seq(Op::Gt, n) => Some(n),
                Term::Seq(Op::Ge | Op::Eq, n) => Some(n.saturating_sub(1)),
                _ => None,
            })
            .max()
    }

    /// The highest sequence number that can match (exclusive).
    pub fn before_seq(&self) -> Option<i64> {
        self.terms
            .iter()
            .filter_map(|t| match *t {
                Term::Seq(Op::Lt, n) => Some(n),
                Term::Seq(Op::Le | Op::Eq, n) => Some(n.saturating_add(1)),
                _ => None,
            })
            .min()
    }

    /// Does the event with sequence number `seq` match every term, at time `now`?
    pub fn matches(&self, seq: i64, e: &EventEnvelope, now: DateTime<Utc>) -> bool {
        self.terms.iter().all(|t| term_matches(t, seq, e, now))
    }
}

/// Splits on whitespace outside quotes; quotes are kept in the tokens.
fn tokens(text: &str) -> Result<Vec<String>, QueryError> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut escaped = false;
    for c in text.chars() {
        if quoted {
            cur.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                quoted = false;
            }
            continue;
        }
        if c.is_whitespace() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
                if out.len() > MAX_QUERY_TERMS {
                    return Err(QueryError::TooManyTerms);
                }
            }
            continue;
        }
        if c == '"' {
            quoted = true;
        }
        cur.push(c);
    }
    if quoted {
        return Err(QueryError::term(&cur, "the quote is not closed"));
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    if out.len() > MAX_QUERY_TERMS {
        return Err(QueryError::TooManyTerms);
    }
    Ok(out)
}

/// The text of a value: quotes removed, escapes resolved.
fn unquote(raw: &str, v: &str) -> Result<String, QueryError> {
    let mut out = String::with_capacity(v.len());
    let mut quoted = false;
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => quoted = !quoted,
            '\\' if quoted => match chars.next() {
                Some(n) => out.push(n),
                None => return Err(QueryError::term(raw, "the quote is not closed")),
            },
            c if c.is_control() => {
                return Err(QueryError::term(raw, "control characters are not allowed"));
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

fn term(raw: &str, extra: &[&str]) -> Result<Term, QueryError> {
    // Where the value starts: the first `:` or operator before any quote.
    let head_end = raw.find('"').unwrap_or(raw.len());
    let head = &raw[..head_end];
    if head.starts_with("payload")
        && matches!(
            head.as_bytes().get(7),
            Some(b'.' | b'=' | b'!' | b'<' | b'>' | b'~')
        )
    {
        return payload_term(raw, head);
    }
    if let Some(rest) = head.strip_prefix("seq")
        && matches!(
            rest.as_bytes().first(),
            Some(b'=' | b'!' | b'<' | b'>' | b':' | b'~')
        )
    {
        let (op, len) = operator(rest).ok_or_else(|| {
            QueryError::term(
                raw,
                "expected seq>N, seq>=N, seq<N, seq<=N, seq=N or seq!=N",
            )
        })?;
        if op == Op::Contains {
            return Err(QueryError::term(raw, "seq compares with = != > >= < <="));
        }
        let v = unquote(raw, &raw[3 + len..])?;
        let n: i64 = v.trim().parse().map_err(|_| {
            QueryError::term(
                raw,
                format!(
                    "'{}' is not a whole number",
                    crate::text::excerpt(&v, crate::text::EXCERPT_CHARS)
                ),
            )
        })?;
        return Ok(Term::Seq(op, n));
    }
    if let Some(colon) = head.find(':') {
        let key = &head[..colon];
        if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphabetic()) {
            let value = unquote(raw, &raw[colon + 1..])?;
            if value.is_empty() {
                return Err(QueryError::term(raw, format!("{key}: needs a value")));
            }
            let lower = key.to_ascii_lowercase();
            return match lower.as_str() {
                "type" => Ok(Term::Type(value.to_lowercase())),
                "agg" => agg_term(raw, &value),
                "actor" => Ok(Term::Actor(value.to_lowercase())),
                "since" => Ok(Term::Since(time_ref(raw, &value)?)),
                "until" => Ok(Term::Until(time_ref(raw, &value)?)),
                k if extra.contains(&k) => Ok(Term::Extra {
                    key: k.to_string(),
                    value,
                }),
                _ => Err(QueryError::term(
                    raw,
                    format!("unknown key (keys: {KEYS}; quote a word with a colon)"),
                )),
            };
        }
    }
    let word = unquote(raw, raw)?;
    if word.is_empty() {
        return Err(QueryError::term(
            raw,
            "an empty quoted word matches nothing",
        ));
    }
    Ok(Term::Word(word.to_lowercase()))
}

/// The operator at the start of `s` and its length.
fn operator(s: &str) -> Option<(Op, usize)> {
    let b = s.as_bytes();
    Some(match (b.first()?, b.get(1)) {
        (b'!', Some(b'=')) => (Op::Ne, 2),
        (b'>', Some(b'=')) => (Op::Ge, 2),
        (b'<', Some(b'=')) => (Op::Le, 2),
        (b'=', _) | (b':', _) => (Op::Eq, 1),
        (b'>', _) => (Op::Gt, 1),
        (b'<', _) => (Op::Lt, 1),
        (b'~', _) => (Op::Contains, 1),
        _ => return None,
    })
}

fn payload_term(raw: &str, head: &str) -> Result<Term, QueryError> {
    let op_at = head.find(['=', '!', '<', '>', '~']).ok_or_else(|| {
        QueryError::term(
            raw,
            "expected payload.PATH OP VALUE, OP one of = != > >= < <= ~",
        )
    })?;
    let (op, len) = operator(&head[op_at..])
        .ok_or_else(|| QueryError::term(raw, "expected one of = != > >= < <= ~ after the path"))?;
    let path_text = &head["payload".len()..op_at];
    let mut path = Vec::new();
    if !path_text.is_empty() {
        let Some(segments) = path_text.strip_prefix('.') else {
            return Err(QueryError::term(
                raw,
                "a payload path is payload.FIELD.FIELD…",
            ));
        };
        for seg in segments.split('.') {
            if seg.is_empty() {
                return Err(QueryError::term(
                    raw,
                    "a payload path has an empty field name",
                ));
            }
            if !seg
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '*')
                || (seg.contains('*') && seg != "*")
            {
                return Err(QueryError::term(
                    raw,
                    format!(
                        "'{}' is not a field name (letters, digits, _ and -; * alone for any)",
                        crate::text::excerpt(seg, crate::text::EXCERPT_CHARS)
                    ),
                ));
            }
            path.push(seg.to_string());
        }
    }
    if path.len() > MAX_PATH_SEGMENTS {
        return Err(QueryError::term(
            raw,
            format!("a payload path has at most {MAX_PATH_SEGMENTS} fields"),
        ));
    }
    let value = unquote(raw, &raw[op_at + len..])?;
    if matches!(op, Op::Gt | Op::Ge | Op::Lt | Op::Le | Op::Contains) && value.is_empty() {
        return Err(QueryError::term(
            raw,
            format!("{} needs a value after it", op.text()),
        ));
    }
    Ok(Term::Payload { path, op, value })
}

fn agg_term(raw: &str, value: &str) -> Result<Term, QueryError> {
    let v = value.trim().to_ascii_lowercase();
    if let Ok(u) = Uuid::parse_str(&v) {
        return Ok(Term::Agg(AggRef::Full(u)));
    }
    let hex = !v.is_empty() && v.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    let digits = v.chars().filter(|c| *c != '-').count();
    let word = !v.is_empty() && v.chars().all(|c| c.is_ascii_lowercase() || c == '_');
    match (hex && digits >= 1, word) {
        (true, true) => Ok(Term::Agg(AggRef::PartOrKind(v))),
        (true, false) if digits < 32 => Ok(Term::Agg(AggRef::Part(v))),
        (false, true) => Ok(Term::Agg(AggRef::Kind(v))),
        _ => Err(QueryError::term(
            raw,
            "expected an id (a UUID or the short id the screens show) or an aggregate type",
        )),
    }
}

fn time_ref(raw: &str, value: &str) -> Result<TimeRef, QueryError> {
    let v = value.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(TimeRef::At(t.with_timezone(&Utc)));
    }
    if let Ok(d) = NaiveDate::parse_from_str(v, "%Y-%m-%d")
        && let Some(t) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(TimeRef::At(t.and_utc()));
    }
    let bad = || {
        QueryError::term(
            raw,
            "expected a duration ago (30s, 10m, 2h, 7d, 1w), an RFC 3339 time or a date (2025-01-31)",
        )
    };
    let split = v.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (num, unit) = v.split_at(split);
    let n: i64 = num.parse().map_err(|_| bad())?;
    let secs_per = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(bad()),
    };
    // Bounded so the duration stays representable (about 10,000 years).
    let secs = n
        .checked_mul(secs_per)
        .filter(|s| *s <= 316_000_000_000)
        .ok_or_else(|| QueryError::term(raw, "the duration is too long"))?;
    Ok(TimeRef::Ago(Duration::seconds(secs)))
}

/// A glob of `*` (any run) and `?` (one character) against `text`; both lowercase.
fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative matching with one backtrack point: linear in practice, never exponential.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn has_wildcard(p: &str) -> bool {
    p.contains(['*', '?'])
}

fn term_matches(t: &Term, seq: i64, e: &EventEnvelope, now: DateTime<Utc>) -> bool {
    match t {
        Term::Type(p) => {
            let ty = e.event_type.to_lowercase();
            if has_wildcard(p) {
                glob(p, &ty)
            } else {
                ty.starts_with(p.as_str())
            }
        }
        Term::Agg(a) => agg_matches(a, e),
        Term::Actor(p) => {
            let actor = e.actor.to_lowercase();
            if has_wildcard(p) {
                glob(p, &actor)
            } else {
                actor == *p
            }
        }
        Term::Since(r) => e.occurred_at >= r.resolve(now),
        Term::Until(r) => e.occurred_at < r.resolve(now),
        Term::Seq(op, n) => op.holds(seq.cmp(n)),
        Term::Payload { path, op, value } => {
            let mut found = Vec::new();
            select(&e.payload, path, &mut found);
            if found.is_empty() {
                // A field that is not there is not equal to anything.
                return *op == Op::Ne;
            }
            if *op == Op::Ne {
                return found.iter().all(|v| !compare(v, Op::Eq, value));
            }
            found.iter().any(|v| compare(v, *op, value))
        }
        Term::Word(w) => {
            let w = w.as_str();
            contains_ci(&e.event_type, w)
                || contains_ci(&e.aggregate_type, w)
                || e.aggregate_id.to_string().contains(w)
                || e.id.to_string().contains(w)
                || contains_ci(&e.actor, w)
                || payload_contains(&e.payload, w)
        }
        Term::Extra { .. } => true,
    }
}

fn agg_matches(a: &AggRef, e: &EventEnvelope) -> bool {
    let part = |p: &str| {
        let printed = e.aggregate_id.to_string();
        let hex = e.aggregate_id.simple().to_string();
        let digits: String = p.chars().filter(|c| *c != '-').collect();
        printed.starts_with(p) || (!digits.is_empty() && hex.ends_with(&digits))
    };
    match a {
        AggRef::Full(u) => e.aggregate_id == *u,
        AggRef::Part(p) => part(p),
        AggRef::Kind(k) => e.aggregate_type.eq_ignore_ascii_case(k),
        AggRef::PartOrKind(p) => part(p) || e.aggregate_type.eq_ignore_ascii_case(p),
    }
}

fn contains_ci(hay: &str, lower_needle: &str) -> bool {
    hay.to_lowercase().contains(lower_needle)
}

/// Does any string, number or key of the payload contain the word?
fn payload_contains(v: &Value, w: &str) -> bool {
    match v {
        Value::String(s) => contains_ci(s, w),
        Value::Number(n) => n.to_string().contains(w),
        Value::Bool(_) | Value::Null => false,
        Value::Array(a) => a.iter().any(|x| payload_contains(x, w)),
        Value::Object(m) => m
            .iter()
            .any(|(k, x)| contains_ci(k, w) || payload_contains(x, w)),
    }
}

/// The values at `path` (a `*` segment is every element or field).
fn select<'a>(v: &'a Value, path: &[String], out: &mut Vec<&'a Value>) {
    let Some((first, rest)) = path.split_first() else {
        out.push(v);
        return;
    };
    match v {
        Value::Object(m) if first == "*" => m.values().for_each(|x| select(x, rest, out)),
        Value::Array(a) if first == "*" => a.iter().for_each(|x| select(x, rest, out)),
        Value::Object(m) => {
            if let Some(x) = m.get(first.as_str()) {
                select(x, rest, out);
            }
        }
        Value::Array(a) => {
            if let Some(x) = first.parse::<usize>().ok().and_then(|i| a.get(i)) {
                select(x, rest, out);
            }
        }
        _ => {}
    }
}

/// Compares a payload value with what was typed: numbers as numbers, `true`/`false`/`null`
/// as themselves, everything else as text (`=` case-insensitive; `<` `>` in text order, which
/// orders RFC 3339 times); `~` is contains on the value's text.
fn compare(v: &Value, op: Op, typed: &str) -> bool {
    if op == Op::Contains {
        let text = match v {
            Value::String(s) => s.to_lowercase(),
            other => other.to_string().to_lowercase(),
        };
        return text.contains(&typed.to_lowercase());
    }
    match v {
        Value::Number(n) => {
            if let (Some(a), Ok(b)) = (n.as_i64(), typed.trim().parse::<i64>()) {
                return op.holds(a.cmp(&b));
            }
            match (n.as_f64(), typed.trim().parse::<f64>()) {
                (Some(a), Ok(b)) if b.is_finite() => {
                    a.partial_cmp(&b).is_some_and(|ord| op.holds(ord))
                }
                _ => false,
            }
        }
        Value::Bool(b) => match typed.trim().to_ascii_lowercase().as_str() {
            "true" => matches!(op, Op::Eq | Op::Ne) && op.holds(b.cmp(&true)),
            "false" => matches!(op, Op::Eq | Op::Ne) && op.holds(b.cmp(&false)),
            _ => false,
        },
        Value::Null => matches!(op, Op::Eq) && typed.trim().eq_ignore_ascii_case("null"),
        Value::String(s) => {
            let (a, b) = (s.to_lowercase(), typed.to_lowercase());
            op.holds(a.as_str().cmp(b.as_str()))
        }
        Value::Array(_) | Value::Object(_) => false,
    }
}

#[cfg(test)]
mod tests;
