//! Bounded audit of refused logins. Whatever a client sends ends up bounded:
//!
//! - every client-supplied string (the user name above all) is cut to [`CLIENT_TEXT_CHARS`]
//!   printable characters with a marker saying how long it was ([`client_text`]);
//! - refusals from one source (an IPv4 address or IPv6 /64) are coalesced: the first in a
//!   window (a minute) is written in full, the rest are counted and written as *one* row when
//!   the window ends;
//! - at most [`GLOBAL_ROWS`] sources get rows in a window; refusals beyond that are counted
//!   in one more row.
//!
//! So the audit log (and the log file) grows by at most `2 × GLOBAL_ROWS + 1` refusal rows per
//! window, each a few hundred bytes, however many clients try.

use super::gate::Source;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Characters of a client-supplied string kept in logs and the audit log.
pub const CLIENT_TEXT_CHARS: usize = 64;
/// Sources whose refusals get rows in one window.
pub const GLOBAL_ROWS: u32 = 100;
/// Characters of a stored refusal reason.
const REASON_CHARS: usize = 300;

/// `s` made printable and cut to [`CLIENT_TEXT_CHARS`] characters; a cut string ends with
/// `…[N bytes]` (its full length), so a reader knows it was longer.
pub fn client_text(s: &str) -> String {
    bounded(s, CLIENT_TEXT_CHARS)
}

fn bounded(s: &str, max: usize) -> String {
    let shown = rustok_domain::text::excerpt(s, max);
    if shown.ends_with('…') && s.chars().nth(max).is_some() {
        format!("{shown}[{} bytes]", s.len())
    } else {
        shown
    }
}

/// One coalesced row to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// `ssh SOURCE`, or `ssh (many sources)`.
    pub session: String,
    /// The last user name tried (already bounded).
    pub actor: String,
    pub reason: String,
    pub count: u64,
}

#[derive(Debug)]
struct Window {
    start: Instant,
    /// Refusals after the first (which was written).
    more: u64,
    last_user: String,
    last_reason: String,
}

#[derive(Debug)]
struct State {
    sources: HashMap<Source, Window>,
    /// The global window: when it started, rows written in it, refusals counted beyond.
    global_start: Option<Instant>,
    global_rows: u32,
    overflow: u64,
    overflow_sources: std::collections::HashSet<Source>,
    overflow_last: (String, String),
    /// Summaries of windows that ended and were noticed by `note`, not yet written.
    ready: Vec<Summary>,
}

pub struct RefusalLog {
    window: Duration,
    state: Mutex<State>,
}

impl RefusalLog {
    pub fn new(window: Duration) -> RefusalLog {
        RefusalLog {
            window: window.max(Duration::from_millis(10)),
            state: Mutex::new(State {
                sources: HashMap::new(),
                global_start: None,
                global_rows: 0,
                overflow: 0,
                overflow_sources: Default::default(),
                overflow_last: Default::default(),
                ready: Vec::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Notes a refusal of `user` (bounded) from `source` for `reason`; true when it is to be
    /// written in full now, false when it was counted for a coalesced row.
    pub fn note(&self, source: Source, user: &str, reason: &str, now: Instant) -> bool {
        let reason = bounded(reason, REASON_CHARS);
        let mut st = self.lock();
        if let Some(w) = st.sources.get_mut(&source) {
            if now.saturating_duration_since(w.start) < self.window {
                w.more += 1;
                w.last_user = user.to_string();
                w.last_reason = reason;
                return false;
            }
            let w = st.sources.remove(&source).expect("present");
            if let Some(s) = self.source_summary(source, w) {
                st.ready.push(s);
            }
        }
        if st
            .global_start
            .is_none_or(|at| now.saturating_duration_since(at) >= self.window)
        {
            if let Some(s) = self.overflow_summary(&mut st) {
                st.ready.push(s);
            }
            st.global_start = Some(now);
            st.global_rows = 0;
        }
        if st.global_rows >= GLOBAL_ROWS {
            st.overflow += 1;
            if st.overflow_sources.len() < 10_000 {
                st.overflow_sources.insert(source);
            }
            st.overflow_last = (user.to_string(), reason);
            return false;
        }
        st.global_rows += 1;
        st.sources.insert(
            source,
            Window {
                start: now,
                more: 0,
                last_user: String::new(),
                last_reason: String::new(),
            },
        );
        true
    }

    fn source_summary(&self, source: Source, w: Window) -> Option<Summary> {
        (w.more > 0).then(|| Summary {
            session: format!("ssh {source}"),
            actor: w.last_user,
            reason: format!(
                "{} more refused logins from {source} within {} s of the one before (coalesced); the last: {}",
                w.more,
                self.window.as_secs(),
                w.last_reason
            ),
            count: w.more,
        })
    }

    fn overflow_summary(&self, st: &mut State) -> Option<Summary> {
        if st.overflow == 0 {
            return None;
        }
        let n = std::mem::take(&mut st.overflow);
        let sources = std::mem::take(&mut st.overflow_sources).len();
        let (user, reason) = std::mem::take(&mut st.overflow_last);
        Some(Summary {
            session: "ssh (many sources)".into(),
            actor: user,
            reason: format!(
                "{n} more refused logins from {sources} source(s) beyond {GLOBAL_ROWS} audited sources within {} s (coalesced); the last: {reason}",
                self.window.as_secs()
            ),
            count: n,
        })
    }

    /// Coalesced rows whose windows have ended by `now` (all of them when `all`).
    pub fn due(&self, now: Instant, all: bool) -> Vec<Summary> {
        let mut st = self.lock();
        let mut out = std::mem::take(&mut st.ready);
        let ended: Vec<Source> = st
            .sources
            .iter()
            .filter(|(_, w)| all || now.saturating_duration_since(w.start) >= self.window)
            .map(|(s, _)| *s)
            .collect();
        for source in ended {
            let w = st.sources.remove(&source).expect("present");
            out.extend(self.source_summary(source, w));
        }
        if all
            || st
                .global_start
                .is_some_and(|at| now.saturating_duration_since(at) >= self.window)
        {
            out.extend(self.overflow_summary(&mut st));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(n: u8) -> Source {
        Source::of(std::net::IpAddr::from([10, 0, 0, n]))
    }

    #[test]
    fn client_text_is_bounded_and_marked() {
        assert_eq!(client_text("alice"), "alice");
        let long = "x".repeat(200_000);
        let t = client_text(&long);
        assert!(t.chars().count() < 90, "{t}");
        assert!(t.ends_with("…[200000 bytes]"), "{t}");
        assert_eq!(client_text(&"y".repeat(64)), "y".repeat(64));
        assert!(!client_text("a\x1b[2Jb").contains('\x1b'));
    }

    #[test]
    fn one_source_is_coalesced_per_window() {
        let log = RefusalLog::new(Duration::from_secs(60));
        let t0 = Instant::now();
        assert!(log.note(src(1), "alice", "bad key", t0));
        for i in 0..99 {
            assert!(!log.note(src(1), &format!("u{i}"), "bad key", t0));
        }
        // Another source gets its own first row.
        assert!(log.note(src(2), "bob", "bad key", t0));
        assert!(log.due(t0 + Duration::from_secs(30), false).is_empty());
        let rows = log.due(t0 + Duration::from_secs(60), false);
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].count, 99);
        assert_eq!(rows[0].actor, "u98");
        assert!(
            rows[0]
                .reason
                .starts_with("99 more refused logins from 10.0.0.1")
        );
        // A new window starts with a row in full again.
        assert!(log.note(src(1), "alice", "bad key", t0 + Duration::from_secs(61)));
    }

    #[test]
    fn sources_beyond_the_global_limit_share_one_row() {
        let log = RefusalLog::new(Duration::from_secs(60));
        let t0 = Instant::now();
        let mut written = 0;
        for i in 0..(GLOBAL_ROWS + 50) {
            let s = Source::of(std::net::IpAddr::from((0x0a00_0000 + i).to_be_bytes()));
            written += u32::from(log.note(s, "x", "bad key", t0));
        }
        assert_eq!(written, GLOBAL_ROWS);
        let rows = log.due(t0 + Duration::from_secs(60), false);
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].count, 50);
        assert!(
            rows[0].reason.contains("from 50 source(s)"),
            "{}",
            rows[0].reason
        );
    }

    #[test]
    fn everything_is_flushed_on_demand() {
        let log = RefusalLog::new(Duration::from_secs(60));
        let t0 = Instant::now();
        log.note(src(1), "a", "r", t0);
        log.note(src(1), "a", "r", t0);
        assert_eq!(log.due(t0, true).len(), 1);
        assert!(log.due(t0, true).is_empty());
    }
}
