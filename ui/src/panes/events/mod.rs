//! The live event stream: a bounded ring of the newest events (10,000 by default) that keeps
//! up with real time, follow/pause, a filter, an inspector, a per-second rate, paged history
//! from the store, and the dead letters with retry.

mod pane;

use crate::theme::Theme;
use crate::widgets::node_list::{group, short_id};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Sparkline, Table, Wrap};
use rustok_domain::event::query::TimeRef;
use rustok_domain::event::{EventEnvelope, EventQuery, LiveEvent, QueryError};
use rustok_domain::read::StoredEvent;
use rustok_domain::text::{excerpt, printable};
use rustok_domain::{EventId, TenantId};
use std::collections::VecDeque;
use std::sync::Arc;

/// Seconds of history in the rate sparkline.
pub const RATE_WINDOW: usize = 60;
/// History rows kept in memory at most (older pages are not loaded beyond this).
pub const HISTORY_CAP: usize = 5_000;
pub const HISTORY_PAGE: u64 = 200;
/// How many sequence numbers past a seek's target the stored history starts, so the events
/// just after it are above it in the list.
pub const SEEK_CONTEXT: i64 = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Live,
    History,
    DeadLetters,
}

/// A parsed filter: an expression of the event query language (`rustok_domain::event::query`,
/// the grammar `events list --filter` takes) plus the console's own `tenant:*` (every tenant's
/// events) and `tenant:ID-PREFIX` terms; without a `tenant:` term only the session's tenant.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Spec {
    query: EventQuery,
    all_tenants: bool,
    tenants: Vec<String>,
}

impl Spec {
    /// Parses a filter; a malformed one is a one-line error naming the term.
    pub fn parse(text: &str) -> Result<Spec, QueryError> {
        let query = EventQuery::parse_with(text, &["tenant"])?;
        let mut s = Spec {
            all_tenants: false,
            tenants: Vec::new(),
            query,
        };
        for v in s.query.extra("tenant") {
            let v = v.to_lowercase();
            if v == "*" || v == "all" {
                s.all_tenants = true;
            } else {
                s.tenants.push(v);
            }
        }
        Ok(s)
    }

    /// Does the event (`seq` in the store's sequence) match, at time `now` (for `since:10m`)?
    pub fn matches(
        &self,
        seq: i64,
        e: &EventEnvelope,
        own: TenantId,
        now: chrono::DateTime<chrono::Utc>,
    ) -> bool {
        let tenant_ok = if !self.tenants.is_empty() {
            let tenant = e.tenant_id.to_string();
            self.tenants.iter().any(|t| tenant.starts_with(t.as_str()))
        } else {
            self.all_tenants || e.tenant_id == own
        };
        tenant_ok && self.query.matches(seq, e, now)
    }

    pub fn is_empty(&self) -> bool {
        *self == Spec::default()
    }
}

/// The event the selection is pinned to: its place in the store's sequence and its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pin {
    seq: i64,
    id: EventId,
}

#[derive(Debug, Clone)]
pub struct EventsPane {
    /// The newest events, in the store's sequence (oldest first, newest last).
    ring: VecDeque<LiveEvent>,
    capacity: usize,
    pub follow: bool,
    /// The selected event while paused (following selects the newest matching one).
    pin: Option<Pin>,
    /// The selected row's line on screen, so rows arriving above or below it never move it.
    screen: usize,
    /// The pinned event left the list (evicted, or no longer readable): said once.
    lost: Option<String>,
    /// Matching events that arrived while paused.
    pub new_since_pause: u64,
    pub filter_text: String,
    pub filter_editing: bool,
    /// Why the filter text as typed is not an expression (the last valid one still applies).
    pub filter_error: Option<String>,
    spec: Spec,
    pub inspect: bool,
    pub mode: Mode,
    history: Vec<StoredEvent>,
    pub history_loading: bool,
    history_exhausted: bool,
    /// Where a seek opened the history: the first page ends before this sequence number.
    history_start: Option<i64>,
    /// The selected row among the history's matching events.
    hist_selected: usize,
    /// The stored event the history's selection is pinned to (its sequence number): a filter
    /// change or a new page keeps it, or the nearest older match.
    hist_pin: Option<i64>,
    /// A `:seek WHEN` the live list does not reach back to: the store is asked for the first
    /// event since then (taken by the pane).
    pub seek_since: Option<chrono::DateTime<chrono::Utc>>,
    pub dead: Option<Vec<StoredEvent>>,
    dead_selected: usize,
    /// The dead letter the selection is pinned to (its sequence number).
    dead_pin: Option<i64>,
    rate: VecDeque<u64>,
    clock: Option<chrono::DateTime<chrono::Utc>>,
    pub received: u64,
    pub dropped: u64,
    pending: std::collections::BTreeMap<crate::msg::RequestId, pane::Pending>,
    /// The dead letters a confirmation will re-drive (their ids, as the dry run counted them).
    armed: Option<Vec<EventId>>,
    /// `:retry` asked before the dead letters were loaded: confirm once they are.
    redrive_when_loaded: bool,
}

impl EventsPane {
    pub fn new(capacity: usize) -> EventsPane {
        EventsPane {
            ring: VecDeque::with_capacity(capacity.min(16_384)),
            capacity: capacity.max(1),
            follow: true,
            pin: None,
            screen: 0,
            lost: None,
            new_since_pause: 0,
            filter_text: String::new(),
            filter_editing: false,
            filter_error: None,
            spec: Spec::default(),
            inspect: false,
            mode: Mode::Live,
            history: Vec::new(),
            history_loading: false,
            history_exhausted: false,
            history_start: None,
            hist_selected: 0,
            hist_pin: None,
            seek_since: None,
            dead: None,
            dead_selected: 0,
            dead_pin: None,
            rate: std::iter::repeat_n(0, RATE_WINDOW).collect(),
            clock: None,
            received: 0,
            dropped: 0,
            pending: Default::default(),
            armed: None,
            redrive_when_loaded: false,
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The newest `n` events of `own` tenant, oldest first (for the dashboard).
    pub fn latest(&self, n: usize, own: TenantId) -> Vec<Arc<EventEnvelope>> {
        let mut v: Vec<Arc<EventEnvelope>> = self
            .ring
            .iter()
            .rev()
            .filter(|e| e.tenant_id == own)
            .take(n)
            .map(|e| e.event.clone())
            .collect();
        v.reverse();
        v
    }

    /// The events kept, oldest first (in the store's sequence).
    pub fn ring(&self) -> impl DoubleEndedIterator<Item = &LiveEvent> + ExactSizeIterator {
        self.ring.iter()
    }

    pub fn rate(&self) -> &VecDeque<u64> {
        &self.rate
    }

    /// Drops every event the reader may no longer read (after a role change): the live list
    /// (and so the dashboard's latest events), history and dead letters; the view goes back to
    /// following the newest event with the inspector closed.
    pub fn forget_unreadable(&mut self, readable: impl Fn(&str) -> bool) {
        self.ring.retain(|e| readable(&e.event_type));
        self.history.retain(|e| readable(&e.envelope.event_type));
        if let Some(dead) = &mut self.dead {
            dead.retain(|e| readable(&e.envelope.event_type));
        }
        self.follow = true;
        self.pin = None;
        self.screen = 0;
        self.new_since_pause = 0;
        self.hist_selected = 0;
        self.hist_pin = None;
        self.dead_selected = 0;
        self.dead_pin = None;
        self.inspect = false;
    }

    /// Takes an event off the bus. Never blocks, never grows past the capacity.
    ///
    /// Events are kept in the store's sequence, whatever order they arrive in (events from
    /// other processes can come late): each is put in its place, and the selection stays on
    /// its event, on the same line of the screen.
    pub fn push(&mut self, e: LiveEvent, own: TenantId) {
        self.received += 1;
        if let Some(last) = self.rate.back_mut() {
            *last += 1;
        }
        // Where it goes: after every kept event with a lower sequence number (a short scan
        // from the newest end; events arrive nearly in order). The same event twice is kept once.
        let newer = self.ring.iter().rev().take_while(|x| x.seq > e.seq).count();
        let at = self.ring.len() - newer;
        if at > 0 && self.ring[at - 1].seq == e.seq {
            return;
        }
        if self.ring.len() == self.capacity {
            if at == 0 {
                // Older than everything kept in a full ring: it would be evicted at once.
                return;
            }
            self.evict_oldest(own);
        }
        let at = self.ring.len() - newer;
        let matches = self.spec.matches(e.seq, &e, own, self.now());
        if matches && !self.follow && self.pin.is_some_and(|p| e.seq > p.seq) {
            self.new_since_pause += 1;
        }
        self.ring.insert(at, e);
    }

    fn evict_oldest(&mut self, own: TenantId) {
        let Some(gone) = self.ring.pop_front() else {
            return;
        };
        if self.pin.is_some_and(|p| p.id == gone.id) {
            // Its newer neighbour is selected now.
            let pin = self.matching(own).last().map(|e| Pin {
                seq: e.seq,
                id: e.id,
            });
            self.pin = pin;
            self.lost = Some(format!(
                "the selected event ({} {}) left the live list (it keeps the newest {}); \
                 the next one is selected — H shows the stored history",
                gone.event_type,
                short_id(gone.aggregate_id),
                group(self.capacity as u64)
            ));
        }
    }

    /// The selected event left the list since the last call (once; the app says so).
    pub fn take_lost(&mut self) -> Option<String> {
        self.lost.take()
    }

    /// One second passed: the rate window moves on.
    pub fn clock(&mut self, now: chrono::DateTime<chrono::Utc>) {
        let steps = match self.clock {
            Some(prev) => (now - prev).num_seconds().clamp(0, RATE_WINDOW as i64) as usize,
            None => 0,
        };
        if self.clock.is_none() || steps > 0 {
            self.clock = Some(now);
        }
        for _ in 0..steps {
            self.rate.pop_front();
            self.rate.push_back(0);
        }
    }

    /// The time relative filter terms (`since:10m`) count from: the clock's last tick, else
    /// the newest event's time.
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock
            .or_else(|| self.ring.back().map(|e| e.occurred_at))
            .unwrap_or(chrono::DateTime::UNIX_EPOCH)
    }

    /// Sets the filter text. A malformed expression is kept as typed with its error (one line
    /// naming the term, in `filter_error`), and the last valid filter goes on applying.
    pub fn set_filter(&mut self, text: String) {
        match Spec::parse(&text) {
            Ok(spec) => {
                self.spec = spec;
                self.filter_error = None;
                self.repin_dead();
                self.repin_history();
            }
            Err(e) => self.filter_error = Some(e.to_string()),
        }
        self.filter_text = text;
    }

    /// Matching events, newest first.
    fn matching(&self, own: TenantId) -> impl DoubleEndedIterator<Item = &LiveEvent> {
        let spec = &self.spec;
        let all = spec.is_empty();
        let now = self.now();
        self.ring.iter().rev().filter(move |e| {
            if all {
                e.tenant_id == own
            } else {
                spec.matches(e.seq, e, own, now)
            }
        })
    }

    /// The stored history the filter matches (the session tenant's), newest first.
    pub fn history_matching(&self) -> Vec<&StoredEvent> {
        let now = self.now();
        self.history
            .iter()
            .filter(|d| self.spec.query.matches(d.seq, &d.envelope, now))
            .collect()
    }

    /// After the history or the filter changed: the selection stays on its event, or the
    /// nearest older match, or the oldest loaded.
    fn repin_history(&mut self) {
        let Some(pin) = self.hist_pin else {
            return;
        };
        let rows = self.history_matching();
        self.hist_selected = rows
            .iter()
            .position(|e| e.seq <= pin)
            .unwrap_or(rows.len().saturating_sub(1));
    }

    /// The dead letters the filter matches (they are all the session tenant's: `tenant:`
    /// terms do not apply), in the order loaded.
    pub fn dead_matching(&self) -> Vec<&StoredEvent> {
        let now = self.now();
        self.dead
            .iter()
            .flatten()
            .filter(|d| self.spec.query.matches(d.seq, &d.envelope, now))
            .collect()
    }

    /// After the list or the filter changed: the selection stays on its dead letter, or the
    /// next one after it.
    fn repin_dead(&mut self) {
        let rows = self.dead_matching();
        // Its row, else the next one after it (the list is in the store's order), else the last.
        let selected = match self.dead_pin {
            Some(seq) => rows
                .iter()
                .position(|d| d.seq >= seq)
                .unwrap_or(rows.len().saturating_sub(1)),
            None => self.dead_selected.min(rows.len().saturating_sub(1)),
        };
        let pin = rows.get(selected).map(|d| d.seq);
        self.dead_selected = selected;
        if pin.is_some() {
            self.dead_pin = pin;
        }
    }

    /// The selected event's position among the matching events (0 = newest), and the pin it
    /// resolves to: the pinned event, or if it does not match (any more) the nearest older one.
    fn selected_pos(&self, own: TenantId) -> Option<(usize, &LiveEvent)> {
        let pin = match self.pin {
            Some(p) if !self.follow => p,
            _ => return self.matching(own).next().map(|e| (0, e)),
        };
        let mut oldest = None;
        for (i, e) in self.matching(own).enumerate() {
            if e.seq <= pin.seq {
                return Some((i, e));
            }
            oldest = Some((i, e));
        }
        // Nothing as old as the pin matches: the oldest match.
        oldest
    }

    pub fn selected_event(&self, own: TenantId) -> Option<Arc<EventEnvelope>> {
        match self.mode {
            Mode::Live => self.selected_pos(own).map(|(_, e)| e.event.clone()),
            Mode::History => self
                .history_matching()
                .get(self.hist_selected)
                .map(|s| Arc::new(s.envelope.clone())),
            Mode::DeadLetters => self
                .selected_dead_letter()
                .map(|s| Arc::new(s.envelope.clone())),
        }
    }

    pub fn selected_dead_letter(&self) -> Option<&StoredEvent> {
        self.dead_matching().get(self.dead_selected).copied()
    }

    /// Pauses on the selected event (so it is still selected after a jump and back).
    pub fn pause(&mut self, own: TenantId) {
        if self.follow {
            let pin = self.selected_pos(own).map(|(_, e)| Pin {
                seq: e.seq,
                id: e.id,
            });
            self.pin = pin;
            self.follow = false;
            self.new_since_pause = 0;
        }
    }

    pub fn toggle_follow(&mut self, own: TenantId) {
        if self.follow {
            self.pause(own);
        } else {
            self.follow = true;
            self.pin = None;
            self.screen = 0;
            self.new_since_pause = 0;
        }
    }

    /// Moves the selection; moving off the newest event pauses following.
    pub fn move_by(&mut self, delta: i64, height: u16, own: TenantId) {
        let h = usize::from(height.max(1));
        match self.mode {
            Mode::Live => {
                let total = self.matching(own).count();
                if total == 0 {
                    return;
                }
                let from = self.selected_pos(own).map_or(0, |(i, _)| i);
                let next = (from as i64 + delta).clamp(0, total as i64 - 1) as usize;
                if next != 0 || !self.follow {
                    if self.follow {
                        self.new_since_pause = 0;
                    }
                    self.follow = false;
                    let pin = self.matching(own).nth(next).map(|e| Pin {
                        seq: e.seq,
                        id: e.id,
                    });
                    self.pin = pin;
                }
                let screen = self.screen as i64 + (next as i64 - from as i64);
                self.screen = screen.clamp(0, (h - 1).min(next) as i64) as usize;
            }
            Mode::History => {
                let rows = self.history_matching();
                if !rows.is_empty() {
                    let at = (self.hist_selected as i64 + delta).clamp(0, rows.len() as i64 - 1);
                    let pin = rows[at as usize].seq;
                    self.hist_selected = at as usize;
                    self.hist_pin = Some(pin);
                }
            }
            Mode::DeadLetters => {
                let total = self.dead_matching().len();
                if total > 0 {
                    self.dead_selected =
                        (self.dead_selected as i64 + delta).clamp(0, total as i64 - 1) as usize;
                    self.dead_pin = self.selected_dead_letter().map(|d| d.seq);
                }
            }
        }
    }

    /// `:seek N` or `:seek WHEN` (`10m`, an RFC 3339 time, a date): pauses on the event with
    /// that sequence number (or the nearest older match), or on the first matching event at
    /// or after that time. A sequence number older than the live list opens the stored
    /// history there. Returns what to tell the user, or why the argument is not a place.
    pub fn seek(&mut self, arg: &str, own: TenantId) -> Result<String, String> {
        let arg = arg.trim();
        if arg.is_empty() {
            return Err(
                "usage: :seek SEQ or :seek WHEN (10m, 2h, an RFC 3339 time, a date)".into(),
            );
        }
        if let Ok(seq) = arg.parse::<i64>() {
            return Ok(self.seek_seq(seq, own));
        }
        let at = TimeRef::parse(arg)
            .map_err(|e| match e {
                QueryError::Term { term, message } => format!(":seek '{term}': {message}"),
                other => format!(":seek: {other}"),
            })?
            .resolve(self.now());
        Ok(self.seek_time(at, own))
    }

    fn seek_seq(&mut self, seq: i64, own: TenantId) -> String {
        let oldest = self.ring.front().map(|e| e.seq);
        if oldest.is_none_or(|o| seq < o) {
            // Older than the live list (or nothing live yet): the stored history, from that
            // event back.
            self.open_history();
            self.history_start = Some(seq.saturating_add(1 + SEEK_CONTEXT));
            self.hist_pin = Some(seq);
            let why = if oldest.is_some() {
                "is older than the live list"
            } else {
                "is not in the live list (empty)"
            };
            return format!("#{seq} {why}: the stored history around it (H returns)");
        }
        self.pin_at(seq, own);
        match self.selected_pos(own) {
            Some((_, e)) if e.seq == seq => format!("#{seq} {}", e.event_type),
            Some((_, e)) => format!(
                "#{seq} is not in the list (or does not match the filter): #{} is the nearest older",
                e.seq
            ),
            None => "no event matches the filter".into(),
        }
    }

    fn seek_time(&mut self, at: chrono::DateTime<chrono::Utc>, own: TenantId) -> String {
        let when = at.format("%Y-%m-%d %H:%M:%S").to_string();
        // The live list does not reach back that far: the store finds the first event since.
        if self.ring.front().is_none_or(|e| e.occurred_at > at) {
            self.seek_since = Some(at);
            return format!("looking for the first stored event since {when}…");
        }
        // The oldest matching event at or after `at` (events are kept in the store's order).
        let found = self
            .matching(own)
            .rev()
            .find(|e| e.occurred_at >= at)
            .map(|e| e.seq);
        let Some(seq) = found else {
            return format!("no event in the live list since {when}");
        };
        self.pin_at(seq, own);
        format!("#{seq}: the first event since {when}")
    }

    /// Pauses with the selection on `seq` (or the nearest older match), at the top line.
    fn pin_at(&mut self, seq: i64, own: TenantId) {
        self.mode = Mode::Live;
        self.follow = false;
        self.new_since_pause = 0;
        let nearest = self.matching(own).find(|e| e.seq <= seq);
        self.pin = nearest.map(|e| Pin {
            seq: e.seq,
            id: e.id,
        });
        self.screen = 0;
    }

    /// The next history page to load, when the selection nears the end of what is loaded.
    pub fn history_needs(&mut self, height: u16) -> Option<Option<i64>> {
        if self.mode != Mode::History || self.history_loading || self.history_exhausted {
            return None;
        }
        if self.history.len() >= HISTORY_CAP {
            return None;
        }
        // Measured in matching rows: a narrow filter loads on until a screenful matches (or
        // the cap, or the end of the history).
        let near_end =
            self.hist_selected + usize::from(height) * 2 >= self.history_matching().len();
        if !near_end {
            return None;
        }
        self.history_loading = true;
        Some(self.history.last().map(|e| e.seq).or(self.history_start))
    }

    pub fn open_history(&mut self) {
        self.mode = Mode::History;
        self.history.clear();
        self.history_exhausted = false;
        self.history_start = None;
        self.hist_selected = 0;
        self.hist_pin = None;
    }

    pub fn on_history(&mut self, page: Vec<StoredEvent>) {
        self.history_loading = false;
        if (page.len() as u64) < HISTORY_PAGE {
            self.history_exhausted = true;
        }
        self.history.extend(page);
        self.repin_history();
    }

    /// A (re)loaded list of dead letters: the selection stays on its dead letter; if that one
    /// is gone (retried, from here or elsewhere), the one now at its place is selected.
    pub fn on_dead_letters(&mut self, rows: Vec<StoredEvent>) {
        self.dead = Some(rows);
        self.repin_dead();
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme, own: TenantId) {
        let [main, spark] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(4)]).areas(area);
        let (list_area, detail_area) = if self.inspect {
            let [l, r] =
                Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
                    .areas(main);
            (l, Some(r))
        } else {
            (main, None)
        };
        match self.mode {
            Mode::Live => self.draw_live(frame, list_area, theme, own),
            Mode::History => self.draw_stored(
                frame,
                list_area,
                theme,
                "History (from the store, newest first)",
                &self.history_matching(),
                self.hist_selected,
            ),
            Mode::DeadLetters => match &self.dead {
                Some(_) => self.draw_stored(
                    frame,
                    list_area,
                    theme,
                    if self.spec.query.is_empty() {
                        "Dead letters (R re-drives the selected one, :retry all)"
                    } else {
                        "Dead letters matching the filter (R the selected one, :retry all matching)"
                    },
                    &self.dead_matching(),
                    self.dead_selected,
                ),
                None => frame.render_widget(
                    Paragraph::new("loading…")
                        .style(theme.muted())
                        .block(Block::bordered().border_style(theme.border(true))),
                    list_area,
                ),
            },
        }
        if let Some(r) = detail_area {
            self.draw_inspector(frame, r, theme, own);
        }
        let max = self.rate.iter().copied().max().unwrap_or(0);
        let now = self.rate.back().copied().unwrap_or(0);
        let data = rate_tail(&self.rate, spark.width.saturating_sub(2));
        frame.render_widget(
            Sparkline::default()
                .data(&data)
                .style(theme.success())
                .block(
                    Block::bordered()
                        .border_style(theme.border(false))
                        .title(Line::from(vec![
                            Span::styled(" events/s ", theme.title()),
                            Span::styled(
                                format!("now {now} · peak {max} · last {RATE_WINDOW} s "),
                                theme.muted(),
                            ),
                        ])),
                ),
            spark,
        );
    }

    fn draw_live(&self, frame: &mut Frame, area: Rect, theme: &Theme, own: TenantId) {
        let state = if self.follow {
            Span::styled(" ● following ", theme.success())
        } else {
            Span::styled(
                format!(" ‖ paused · {} new ", group(self.new_since_pause)),
                theme.warning(),
            )
        };
        let mut title = vec![Span::styled(" Events ", theme.title()), state];
        title.push(Span::styled(
            format!(
                " {} kept of {} · {} seen · {} dropped ",
                group(self.ring.len() as u64),
                group(self.capacity as u64),
                group(self.received),
                group(self.dropped)
            ),
            theme.muted(),
        ));
        if self.filter_error.is_some() {
            title.push(Span::styled(
                " filter not applied (see the status line) ",
                theme.error(),
            ));
        }
        if !self.filter_text.is_empty() {
            title.push(Span::styled(
                format!(" filter: {} ", excerpt(&self.filter_text, 60)),
                theme.key(),
            ));
        }
        let block = Block::bordered()
            .border_style(theme.border(true))
            .title(Line::from(title));
        let height = usize::from(area.height.saturating_sub(3)).max(1);
        let selected = self.selected_pos(own).map_or(0, |(i, _)| i);
        let top = selected.saturating_sub(self.screen.min(height - 1));
        let rows: Vec<Row> = self
            .matching(own)
            .skip(top)
            .take(height)
            .enumerate()
            .map(|(i, e)| {
                let row = event_row(e, None, theme);
                if top + i == selected {
                    row.style(theme.selected())
                } else {
                    row
                }
            })
            .collect();
        if rows.is_empty() {
            let text = if self.ring.is_empty() {
                "waiting for events — they appear here as they are committed"
            } else {
                "no event matches the filter (Esc clears it)"
            };
            frame.render_widget(Paragraph::new(text).style(theme.muted()).block(block), area);
            return;
        }
        frame.render_widget(events_table(rows, theme).block(block), area);
    }

    fn draw_stored(
        &self,
        frame: &mut Frame,
        area: Rect,
        theme: &Theme,
        title: &str,
        rows: &[&StoredEvent],
        selected: usize,
    ) {
        let height = usize::from(area.height.saturating_sub(3)).max(1);
        let top = selected.saturating_sub(height - 1);
        let mut head = vec![
            Span::styled(format!(" {title} "), theme.title()),
            Span::styled(
                format!("{} loaded ", group(rows.len() as u64)),
                theme.muted(),
            ),
        ];
        if self.mode == Mode::History && self.history_loading {
            head.push(Span::styled("loading more… ", theme.key()));
        }
        let block = Block::bordered()
            .border_style(theme.border(true))
            .title(Line::from(head));
        if rows.is_empty() {
            let text =
                if self.mode == Mode::DeadLetters && self.dead.iter().flatten().next().is_some() {
                    "no dead letter matches the filter (Esc clears it)"
                } else if self.mode == Mode::DeadLetters {
                    "no dead letters: every event was delivered"
                } else {
                    "no events stored yet"
                };
            frame.render_widget(Paragraph::new(text).style(theme.muted()).block(block), area);
            return;
        }
        let table_rows: Vec<Row> = rows
            .iter()
            .enumerate()
            .skip(top)
            .take(height)
            .map(|(i, s)| {
                let extra = if self.mode == Mode::DeadLetters {
                    Some(format!(
                        "{}× {}",
                        s.attempts,
                        s.last_error.as_deref().unwrap_or("")
                    ))
                } else {
                    Some(format!("#{} {}", s.seq, s.status))
                };
                let row = event_row(&s.envelope, extra, theme);
                if i == selected {
                    row.style(theme.selected())
                } else {
                    row
                }
            })
            .collect();
        frame.render_widget(events_table(table_rows, theme).block(block), area);
    }

    fn draw_inspector(&self, frame: &mut Frame, area: Rect, theme: &Theme, own: TenantId) {
        let block = Block::bordered()
            .border_style(theme.border(false))
            .title(Span::styled(
                " Inspect (i closes, Enter opens its order/node) ",
                theme.title(),
            ));
        let Some(e) = self.selected_event(own) else {
            frame.render_widget(
                Paragraph::new("nothing selected")
                    .style(theme.muted())
                    .block(block),
                area,
            );
            return;
        };
        let text = serde_json::to_string_pretty(e.as_ref())
            .unwrap_or_else(|err| format!("cannot show: {err}"));
        let lines: Vec<Line> = text.lines().map(|l| Line::raw(printable(l))).collect();
        frame.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .block(block),
            area,
        );
    }
}

/// The newest `width` seconds of the rate: a sparkline draws its data from the left and
/// cuts what does not fit, which would cut the newest seconds off a narrow chart.
pub fn rate_tail(rate: &VecDeque<u64>, width: u16) -> Vec<u64> {
    let skip = rate.len().saturating_sub(usize::from(width));
    rate.iter().skip(skip).copied().collect()
}

/// A row of the list. Drawn for every visible row of every session at each frame (a thousand
/// SSH sessions draw each payment), so it borrows what it can and formats without `format!`.
fn event_row<'a>(e: &'a EventEnvelope, extra: Option<String>, theme: &Theme) -> Row<'a> {
    let mut aggregate = String::with_capacity(e.aggregate_type.len() + 9);
    aggregate.push_str(&e.aggregate_type);
    aggregate.push(' ');
    aggregate.push_str(short_hex(e.aggregate_id, &mut [0; 32]));
    Row::new(vec![
        Cell::from(time_millis(e.occurred_at)).style(theme.muted()),
        Cell::from(e.event_type.as_str()).style(theme.key()),
        Cell::from(aggregate),
        Cell::from(printable(&e.actor)),
        Cell::from(extra.map(|x| printable(&x)).unwrap_or_default()).style(theme.muted()),
    ])
}

/// The last 8 hex digits of an id, as [`short_id`] shows them, without allocating.
fn short_hex(id: uuid::Uuid, buf: &mut [u8; 32]) -> &str {
    &id.simple().encode_lower(buf)[24..]
}

/// `HH:MM:SS.mmm`, as chrono's `%H:%M:%S%.3f` writes it (a leap second shows as `:60`).
fn time_millis(at: chrono::DateTime<chrono::Utc>) -> String {
    use chrono::Timelike;
    let t = at.time();
    let nano = t.nanosecond();
    let fields = [
        t.hour(),
        t.minute(),
        t.second() + nano / 1_000_000_000,
        (nano % 1_000_000_000) / 1_000_000,
    ];
    let mut s = String::with_capacity(12);
    for (i, v) in fields.into_iter().enumerate() {
        match i {
            0 => {}
            3 => s.push('.'),
            _ => s.push(':'),
        }
        if i == 3 {
            s.push(char::from(b'0' + (v / 100 % 10) as u8));
        }
        s.push(char::from(b'0' + (v / 10 % 10) as u8));
        s.push(char::from(b'0' + (v % 10) as u8));
    }
    s
}

fn events_table<'a>(rows: Vec<Row<'a>>, theme: &Theme) -> Table<'a> {
    Table::new(
        rows,
        [
            Constraint::Length(12),
            Constraint::Length(26),
            Constraint::Length(18),
            Constraint::Length(12),
            Constraint::Fill(1),
        ],
    )
    .header(Row::new(["TIME", "TYPE", "AGGREGATE", "ACTOR", ""]).style(theme.muted()))
}

#[cfg(test)]
mod tests;
