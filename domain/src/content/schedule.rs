//! Scheduled publishing: a node published or taken back to draft at a time given in advance.
//!
//! A schedule is a pending status change — at most one `publish` and one `unpublish` per
//! node — with the staff member who asked for it. The decisions here are pure: the time is
//! parsed against `now` passed in (`+10m`, or an RFC 3339 instant), a time not in the future
//! is refused, and the pair is checked for order (publishing before unpublishing). When the
//! time comes, any relaying process executes it as that staff member's `publish_node` /
//! `unpublish_node` (the store claims the row in the same transaction, so it runs once).

use super::{Node, NodeAction, NodeStatus, string_enum};
use crate::event::{self, DomainEvent};
use crate::{DomainError, Locale, NodeId};
use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

string_enum!(
    /// A status change that can be scheduled.
    ScheduledAction, "action", { Publish => "publish", Unpublish => "unpublish" }
);

impl ScheduledAction {
    /// The node action it executes when due.
    pub fn node_action(self) -> NodeAction {
        match self {
            ScheduledAction::Publish => NodeAction::Publish,
            ScheduledAction::Unpublish => NodeAction::Unpublish,
        }
    }

    /// "goes live" / "comes down": how the agenda says it.
    pub fn agenda_words(self) -> &'static str {
        match self {
            ScheduledAction::Publish => "goes live",
            ScheduledAction::Unpublish => "comes down",
        }
    }
}

/// One pending scheduled status change of a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    pub node_id: NodeId,
    pub action: ScheduledAction,
    /// When it is due (whole seconds, UTC).
    pub at: DateTime<Utc>,
    /// The staff member who scheduled it; it executes as them.
    pub by: String,
    /// When it was scheduled.
    pub scheduled_at: DateTime<Utc>,
}

/// One line of the agenda: a schedule with what the node is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgendaEntry {
    #[serde(flatten)]
    pub schedule: Schedule,
    /// The node's title in its source locale.
    pub title: String,
    pub status: NodeStatus,
    pub source_locale: Locale,
}

/// The longest time text read (`parse_when`): longer input is refused before it is parsed.
pub const MAX_WHEN_CHARS: usize = 64;
/// How far ahead a schedule may be set.
pub const MAX_AHEAD_DAYS: i64 = 3660;

/// Parses a schedule time: an RFC 3339 instant (`2026-12-24T18:00:00+01:00`,
/// `2026-12-24T17:00:00Z`) or a time relative to `now`: `+` and a number with a unit — `s`,
/// `m`, `h`, `d` or `w` (`+90s`, `+10m`, `+2h`, `+1d`), several may follow each other
/// (`+1h30m`). Truncated to whole seconds. Only the form is checked here; whether the time
/// is in the future is the decision's (`decide_schedule`).
pub fn parse_when(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, DomainError> {
    let bad = |why: &str| {
        DomainError::validation(
            "time",
            format!(
                "'{}' {why}: give an RFC 3339 time (2026-12-24T18:00:00Z) or +N with s, m, h, d or w (+10m, +1h30m)",
                crate::text::excerpt(text, crate::text::EXCERPT_CHARS)
            ),
        )
    };
    if text.chars().count() > MAX_WHEN_CHARS {
        return Err(bad("is too long"));
    }
    let t = text.trim();
    if t.is_empty() {
        return Err(DomainError::validation("time", "must not be empty"));
    }
    if let Some(rest) = t.strip_prefix('+') {
        let mut total = Duration::zero();
        let mut digits = String::new();
        let mut any = false;
        for c in rest.chars() {
            if c.is_ascii_digit() {
                digits.push(c);
                if digits.len() > 7 {
                    return Err(bad("is too far ahead"));
                }
                continue;
            }
            let n: i64 = digits.parse().map_err(|_| bad("is not a time"))?;
            digits.clear();
            let unit = match c.to_ascii_lowercase() {
                's' => Duration::seconds(n),
                'm' => Duration::minutes(n),
                'h' => Duration::hours(n),
                'd' => Duration::days(n),
                'w' => Duration::weeks(n),
                _ => return Err(bad("is not a time")),
            };
            total = total
                .checked_add(&unit)
                .ok_or_else(|| bad("is too far ahead"))?;
            any = true;
        }
        if !digits.is_empty() || !any {
            return Err(bad("is not a time"));
        }
        if total > Duration::days(MAX_AHEAD_DAYS) {
            return Err(bad("is too far ahead"));
        }
        return Ok((now + total).trunc_subsecs(0));
    }
    DateTime::parse_from_rfc3339(t)
        .map(|d| d.with_timezone(&Utc).trunc_subsecs(0))
        .map_err(|_| bad("is not a time"))
}

/// Decides `schedule_node`: the node's schedules after it (the given times replace the
/// pending ones of the same action) and a `node.scheduled` event for each time set.
///
/// Refused: neither time given; a time not after `now` ("… is in the past"); more than
/// [`MAX_AHEAD_DAYS`] ahead; an archived node; an unpublication not after the publication;
/// a publication of a node that will be published then anyway (published and no earlier
/// unpublication pending), or an unpublication of one that will not be.
pub fn decide_schedule(
    node: &Node,
    current: &[Schedule],
    publish_at: Option<DateTime<Utc>>,
    unpublish_at: Option<DateTime<Utc>>,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(Vec<Schedule>, Vec<DomainEvent>), DomainError> {
    if publish_at.is_none() && unpublish_at.is_none() {
        return Err(DomainError::validation(
            "time",
            "give a publication time, an unpublication time or both",
        ));
    }
    if node.status == NodeStatus::Archived {
        return Err(DomainError::validation(
            "status",
            format!("node {} is archived; restore it before scheduling", node.id),
        ));
    }
    let mut next: Vec<Schedule> = current.to_vec();
    let mut events = Vec::new();
    for (action, at) in [
        (ScheduledAction::Publish, publish_at),
        (ScheduledAction::Unpublish, unpublish_at),
    ] {
        let Some(at) = at else { continue };
        let at = at.trunc_subsecs(0);
        let field = match action {
            ScheduledAction::Publish => "publish_at",
            ScheduledAction::Unpublish => "unpublish_at",
        };
        if at <= now {
            return Err(DomainError::validation(
                field,
                format!(
                    "{} is in the past (now {}); give a later time",
                    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ),
            ));
        }
        if at > now + Duration::days(MAX_AHEAD_DAYS) {
            return Err(DomainError::validation(
                field,
                format!("is more than {MAX_AHEAD_DAYS} days ahead"),
            ));
        }
        next.retain(|s| s.action != action);
        next.push(Schedule {
            node_id: node.id,
            action,
            at,
            by: by.to_string(),
            scheduled_at: now,
        });
        events.push(DomainEvent::NodeScheduled(event::NodeScheduled {
            action,
            at,
            by: by.to_string(),
        }));
    }
    let at_of = |a: ScheduledAction| next.iter().find(|s| s.action == a).map(|s| s.at);
    let (p, u) = (
        at_of(ScheduledAction::Publish),
        at_of(ScheduledAction::Unpublish),
    );
    match (node.status, p, u) {
        (_, Some(p), Some(u)) if p == u => {
            return Err(DomainError::validation(
                "unpublish_at",
                "must differ from the publication time",
            ));
        }
        // Draft: publish first, then (optionally) unpublish.
        (NodeStatus::Draft, Some(p), Some(u)) if u < p => {
            return Err(DomainError::validation(
                "unpublish_at",
                "a draft must be published before it is unpublished: give a later time",
            ));
        }
        (NodeStatus::Draft, None, Some(_)) => {
            return Err(DomainError::validation(
                "unpublish_at",
                format!(
                    "node {} is a draft; schedule its publication first",
                    node.id
                ),
            ));
        }
        // Published: unpublish first, then (optionally) publish again.
        (NodeStatus::Published, Some(p), Some(u)) if p < u => {
            return Err(DomainError::validation(
                "publish_at",
                "the node is published: it can be published again only after it is unpublished",
            ));
        }
        (NodeStatus::Published, Some(_), None) => {
            return Err(DomainError::validation(
                "publish_at",
                format!("node {} is already published", node.id),
            ));
        }
        _ => {}
    }
    next.sort_by_key(|s| s.at);
    Ok((next, events))
}

/// Decides `unschedule_node`: every pending schedule of the node goes (one
/// `node.unscheduled` event naming them); nothing pending is refused.
pub fn decide_unschedule(
    node: &Node,
    current: &[Schedule],
) -> Result<Vec<DomainEvent>, DomainError> {
    if current.is_empty() {
        return Err(DomainError::validation(
            "schedule",
            format!("node {} has nothing scheduled", node.id),
        ));
    }
    let mut actions: Vec<ScheduledAction> = current.iter().map(|s| s.action).collect();
    actions.sort();
    actions.dedup();
    Ok(vec![DomainEvent::NodeUnscheduled(event::NodeUnscheduled {
        actions,
    })])
}

/// The event a due schedule leaves when its execution is refused (the staff member's role no
/// longer allows it, they are inactive, the node's status changed meanwhile): visible in the
/// Events pane and to every console, beside the audit row.
pub fn refused_event(s: &Schedule, reason: &str) -> DomainEvent {
    DomainEvent::NodeScheduleRefused(event::NodeScheduleRefused {
        action: s.action,
        due_at: s.at,
        by: s.by.clone(),
        reason: crate::text::excerpt(reason, 500),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::{BodyFormat, NodeDraft, NodeKind};
    use crate::{NodeId, TenantId};

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-07T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn node(status: NodeStatus) -> Node {
        let (mut n, _) = Node::create(
            TenantId::new_v7(),
            NodeDraft {
                id: NodeId::new_v7(),
                kind: NodeKind::Article,
                locale: "en".parse().unwrap(),
                title: "Hello".into(),
                slug: None,
                excerpt: None,
                body: String::new(),
                format: BodyFormat::Markdown,
            },
            "ann",
            now(),
        )
        .unwrap();
        n.status = status;
        n
    }

    #[test]
    fn times_parse_relative_and_absolute() {
        let n = now();
        assert_eq!(parse_when("+10m", n).unwrap(), n + Duration::minutes(10));
        assert_eq!(
            parse_when(" +1h30m ", n).unwrap(),
            n + Duration::minutes(90)
        );
        assert_eq!(parse_when("+2d", n).unwrap(), n + Duration::days(2));
        assert_eq!(
            parse_when("2026-12-24T18:00:00+01:00", n).unwrap(),
            DateTime::parse_from_rfc3339("2026-12-24T17:00:00Z").unwrap()
        );
        for bad in [
            "",
            "+",
            "+10",
            "+10x",
            "tomorrow",
            "+m",
            "-10m",
            "+99999999d",
        ] {
            assert!(parse_when(bad, n).is_err(), "{bad}");
        }
        let long = format!("+{}", "1".repeat(100));
        assert!(
            parse_when(&long, n)
                .unwrap_err()
                .to_string()
                .contains("too long")
        );
    }

    #[test]
    fn a_past_time_is_refused_clearly() {
        let n = node(NodeStatus::Draft);
        let e = decide_schedule(&n, &[], Some(now()), None, "ann", now()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "publish_at: 2026-12-07T10:00:00Z is in the past (now 2026-12-07T10:00:00Z); give a later time"
        );
    }

    #[test]
    fn publish_then_unpublish_in_order() {
        let n = node(NodeStatus::Draft);
        let (p, u) = (now() + Duration::hours(1), now() + Duration::hours(2));
        let (s, ev) = decide_schedule(&n, &[], Some(p), Some(u), "ann", now()).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(ev.len(), 2);
        assert_eq!(s[0].action, ScheduledAction::Publish);
        assert!(decide_schedule(&n, &[], Some(u), Some(p), "ann", now()).is_err());
        assert!(decide_schedule(&n, &[], None, Some(u), "ann", now()).is_err());
        // With the publication pending, an unpublication alone is fine.
        assert!(decide_schedule(&n, &s[..1], None, Some(u), "ann", now()).is_ok());
        let published = node(NodeStatus::Published);
        assert!(decide_schedule(&published, &[], Some(p), None, "ann", now()).is_err());
        assert!(decide_schedule(&published, &[], None, Some(p), "ann", now()).is_ok());
        assert!(
            decide_schedule(
                &node(NodeStatus::Archived),
                &[],
                Some(p),
                None,
                "ann",
                now()
            )
            .is_err()
        );
        assert!(decide_schedule(&n, &[], None, None, "ann", now()).is_err());
        let e = decide_unschedule(&n, &[]).unwrap_err();
        assert!(e.to_string().contains("nothing scheduled"), "{e}");
        assert_eq!(decide_unschedule(&n, &s).unwrap().len(), 1);
    }
}
