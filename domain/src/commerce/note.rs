//! Order notes: staff's internal notes on an order's timeline, with `@handle` mentions.
//!
//! A note is its own record beside the order — writing one never changes the order (its
//! status, its `version`), so a note never makes another member's step on the same order
//! (sent with the version their screen showed) fail as a conflict. Its event,
//! `order.note_added`, belongs to the order aggregate (read with `order:read`) and carries the
//! text, the author and the mentioned handles: every console that sees it (on any process
//! sharing the database) tells a mentioned member at once.
//!
//! Everything here is pure: [`mentions`] finds the handles in a text, [`OrderNote::write`]
//! decides a note against the order and the staff who could be mentioned, and [`suggest`]
//! names the close matches of an unknown handle.

use crate::event::{DomainEvent, OrderNoteAdded};
use crate::rbac::{Permission, Role};
use crate::{DomainError, NoteId, OrderId, TenantId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Longest note accepted, in characters.
pub const MAX_NOTE_CHARS: usize = 2_000;
/// Most distinct staff members one note may mention.
pub const MAX_MENTIONS: usize = 20;
/// Most close matches an unknown handle's refusal lists.
pub const MAX_SUGGESTIONS: usize = 5;

/// A note on an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderNote {
    pub id: NoteId,
    pub tenant_id: TenantId,
    pub order_id: OrderId,
    /// The handle of the staff member who wrote it.
    pub author: String,
    pub text: String,
    /// The handles it mentions, in the order they first appear (each once).
    pub mentions: Vec<String>,
    pub created_at: DateTime<Utc>,
}

/// A staff member as far as a mention needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mentionable<'a> {
    pub handle: &'a str,
    pub role: Role,
    pub active: bool,
}

impl Mentionable<'_> {
    /// Can this member be told about a note (active, and allowed to read orders and notes)?
    pub fn can_be_mentioned(&self) -> bool {
        self.active && self.role.allows(Permission::new("order", "read"))
    }
}

/// A mention of the reader not yet seen: the note and the order it is on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mention {
    pub note_id: NoteId,
    pub order_id: OrderId,
    pub author: String,
    pub text: String,
    pub created_at: DateTime<Utc>,
}

impl Mention {
    /// The mention a note makes of `handle`, if it mentions them.
    pub fn of(note: &OrderNote, handle: &str) -> Option<Mention> {
        note.mentions.iter().any(|m| m == handle).then(|| Mention {
            note_id: note.id,
            order_id: note.order_id,
            author: note.author.clone(),
            text: note.text.clone(),
            created_at: note.created_at,
        })
    }

    /// The mention an `order.note_added` event makes of `handle` (the live path: a console
    /// told by the bus, with no read of its own).
    pub fn from_event(
        order_id: OrderId,
        payload: &serde_json::Value,
        handle: &str,
        at: DateTime<Utc>,
    ) -> Option<Mention> {
        let added: OrderNoteAdded = serde_json::from_value(payload.clone()).ok()?;
        if !added.mentions.iter().any(|m| m == handle) {
            return None;
        }
        Some(Mention {
            note_id: added.note_id,
            order_id,
            author: added.author,
            text: added.text,
            created_at: at,
        })
    }
}

/// Can `c` be part of a handle?
fn handle_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}

/// The handles `text` mentions (`@bob`, `@ops-lead`), lowercased, each once, in the order
/// they first appear. An `@` inside a word (`bob@example.com`) is no mention, nor one
/// followed by nothing a handle is made of; a trailing `-` is punctuation (`@bob-`).
pub fn mentions(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut prev: Option<char> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let starts = c == '@' && !prev.is_some_and(|p| p.is_alphanumeric() || "._-@".contains(p));
        prev = Some(c);
        if !starts {
            continue;
        }
        let rest = &text[i + 1..];
        let end = rest.find(|c: char| !handle_char(c)).unwrap_or(rest.len());
        let handle = rest[..end].trim_end_matches('-').to_ascii_lowercase();
        if handle.is_empty() || handle.starts_with('-') {
            continue;
        }
        // Skip what was read (the handle's characters are ASCII: one byte each).
        for _ in 0..end {
            if let Some((_, c)) = chars.next() {
                prev = Some(c);
            }
        }
        if !out.contains(&handle) {
            out.push(handle);
        }
    }
    out
}

/// Edit distance over characters, a swap of two neighbours counting as one edit (optimal
/// string alignment; handles are short: at most 63 characters).
fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        for j in 0..=b.len() {
            d[i * w + j] = if i == 0 || j == 0 {
                i + j
            } else {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                let mut best = (d[(i - 1) * w + j] + 1)
                    .min(d[i * w + j - 1] + 1)
                    .min(d[(i - 1) * w + j - 1] + cost);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    best = best.min(d[(i - 2) * w + j - 2] + 1);
                }
                best
            };
        }
    }
    d[a.len() * w + b.len()]
}

/// The handles among `known` close to `unknown`: one starts with the other, or they are at
/// most 2 edits apart (1 for handles of up to 4 characters). Closest first, then by name; at
/// most [`MAX_SUGGESTIONS`].
pub fn suggest<'a>(unknown: &str, known: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let limit = if unknown.chars().count() <= 4 { 1 } else { 2 };
    let mut close: Vec<(usize, &str)> = known
        .into_iter()
        .filter_map(|k| {
            let d = distance(unknown, k);
            let prefix = k.starts_with(unknown) || unknown.starts_with(k);
            (d <= limit || prefix).then_some((d, k))
        })
        .collect();
    close.sort();
    close.dedup();
    close
        .into_iter()
        .take(MAX_SUGGESTIONS)
        .map(|(_, k)| k.to_string())
        .collect()
}

/// The refusal of a mention of `handle`, which is not a member who can be mentioned.
fn not_mentionable(handle: &str, staff: &[Mentionable<'_>]) -> DomainError {
    let shown = crate::text::excerpt(handle, crate::text::EXCERPT_CHARS);
    if let Some(m) = staff.iter().find(|m| m.handle == handle) {
        let why = if !m.active {
            "is inactive".to_string()
        } else {
            format!("cannot read orders ({})", m.role)
        };
        return DomainError::validation("mention", format!("@{shown} {why}"));
    }
    let close = suggest(
        handle,
        staff
            .iter()
            .filter(|m| m.can_be_mentioned())
            .map(|m| m.handle),
    );
    let hint = if close.is_empty() {
        "no staff handle is close to it".to_string()
    } else {
        let listed: Vec<String> = close.iter().map(|h| format!("@{h}")).collect();
        format!("did you mean {}?", listed.join(", "))
    };
    DomainError::validation("mention", format!("@{shown} is not a staff member; {hint}"))
}

impl OrderNote {
    /// Decides a note by `author` on the tenant's order `order_id` (which the caller found in
    /// the tenant): the text trimmed, not empty, at most [`MAX_NOTE_CHARS`]; every mention a
    /// member in `staff` who can be mentioned (else refused, with the close matches); at most
    /// [`MAX_MENTIONS`]. Returns the note and its `order.note_added` event.
    pub fn write(
        id: NoteId,
        tenant_id: TenantId,
        order_id: OrderId,
        author: &str,
        text: &str,
        staff: &[Mentionable<'_>],
        now: DateTime<Utc>,
    ) -> Result<(OrderNote, DomainEvent), DomainError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(DomainError::validation("text", "must not be empty"));
        }
        let n = text.chars().count();
        if n > MAX_NOTE_CHARS {
            return Err(DomainError::validation(
                "text",
                format!("is {n} characters long; the limit is {MAX_NOTE_CHARS}"),
            ));
        }
        let mentioned = mentions(text);
        if mentioned.len() > MAX_MENTIONS {
            return Err(DomainError::validation(
                "mention",
                format!(
                    "{} staff members mentioned; the limit is {MAX_MENTIONS}",
                    mentioned.len()
                ),
            ));
        }
        for handle in &mentioned {
            let ok = staff
                .iter()
                .any(|m| m.handle == handle.as_str() && m.can_be_mentioned());
            if !ok {
                return Err(not_mentionable(handle, staff));
            }
        }
        let note = OrderNote {
            id,
            tenant_id,
            order_id,
            author: author.to_string(),
            text: text.to_string(),
            mentions: mentioned,
            created_at: now,
        };
        let event = DomainEvent::OrderNoteAdded(OrderNoteAdded {
            note_id: note.id,
            author: note.author.clone(),
            text: note.text.clone(),
            mentions: note.mentions.clone(),
        });
        Ok((note, event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staff() -> Vec<Mentionable<'static>> {
        let m = |handle, role, active| Mentionable {
            handle,
            role,
            active,
        };
        vec![
            m("bob", Role::Manager, true),
            m("bobby", Role::Support, true),
            m("alice", Role::Owner, true),
            m("ed", Role::Editor, true),
            m("gone", Role::Manager, false),
            m("ops-lead", Role::Admin, true),
        ]
    }

    #[test]
    fn mentions_are_handles_after_an_at_sign_each_once() {
        assert_eq!(
            mentions("@bob please check, cc @Ops-Lead. @bob again; mail bob@example.com"),
            ["bob", "ops-lead"]
        );
        assert_eq!(
            mentions("@bob- see (@alice) @ noon @@x -@y"),
            ["bob", "alice"]
        );
        assert!(mentions("no one, an @ alone, a@b").is_empty());
        assert_eq!(mentions("über@bob @ünïcode @a"), ["a"]);
    }

    #[test]
    fn close_matches_are_prefixes_or_a_few_edits_away() {
        let known = ["bob", "bobby", "alice", "ops-lead", "al"];
        assert_eq!(suggest("bbo", known), ["bob"]);
        assert_eq!(suggest("bo", known), ["bob", "bobby"]);
        assert_eq!(suggest("alcie", known), ["alice", "al"]);
        assert_eq!(suggest("zed", known), Vec::<String>::new());
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("bbo", "bob"), 1, "a swap is one edit");
    }

    #[test]
    fn a_note_carries_its_mentions_and_refuses_unknown_handles_with_suggestions() {
        let (t, o, now) = (TenantId::new_v7(), OrderId::new_v7(), Utc::now());
        let staff = staff();
        let (note, event) = OrderNote::write(
            NoteId::new_v7(),
            t,
            o,
            "alice",
            "  customer called — @bob and @bobby, please call back  ",
            &staff,
            now,
        )
        .unwrap();
        assert_eq!(
            note.text,
            "customer called — @bob and @bobby, please call back"
        );
        assert_eq!(note.mentions, ["bob", "bobby"]);
        assert_eq!(event.event_type(), "order.note_added");
        assert_eq!(
            event.payload()["mentions"],
            serde_json::json!(["bob", "bobby"])
        );
        let m = Mention::from_event(o, &event.payload(), "bobby", now).unwrap();
        assert_eq!((m.note_id, m.order_id), (note.id, o));
        assert!(Mention::from_event(o, &event.payload(), "alice", now).is_none());
        assert_eq!(Mention::of(&note, "bob").unwrap().author, "alice");

        let write = |text: &str| {
            OrderNote::write(NoteId::new_v7(), t, o, "alice", text, &staff, now)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            write("@bbo look"),
            "mention: @bbo is not a staff member; did you mean @bob?"
        );
        assert_eq!(
            write("@bo look"),
            "mention: @bo is not a staff member; did you mean @bob, @bobby?"
        );
        assert_eq!(
            write("@zed look"),
            "mention: @zed is not a staff member; no staff handle is close to it"
        );
        assert_eq!(
            write("@ed look"),
            "mention: @ed cannot read orders (editor)"
        );
        assert_eq!(write("@gone look"), "mention: @gone is inactive");
        assert_eq!(write("   "), "text: must not be empty");
        assert_eq!(
            write(&"x".repeat(MAX_NOTE_CHARS + 1)),
            format!("text: is 2001 characters long; the limit is {MAX_NOTE_CHARS}")
        );
        let many: String = (0..=MAX_MENTIONS).map(|i| format!("@h{i} ")).collect();
        assert_eq!(
            write(&many),
            "mention: 21 staff members mentioned; the limit is 20"
        );
        // A note without mentions is a plain note.
        let (plain, _) =
            OrderNote::write(NoteId::new_v7(), t, o, "bob", "packed twice", &staff, now).unwrap();
        assert!(plain.mentions.is_empty());
    }
}
