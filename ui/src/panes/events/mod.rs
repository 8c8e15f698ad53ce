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
use rustok_domain::event::{EventEnvelope, LiveEvent};
use rustok_domain::read::StoredEvent;
use rustok_domain::text::printable;
use rustok_domain::{EventId, TenantId};
use std::collections::VecDeque;
use std::sync::Arc;

/// Seconds of history in the rate sparkline.
pub const RATE_WINDOW: usize = 60;
/// History rows kept in memory at most (older pages are not loaded beyond this).
pub const HISTORY_CAP: usize = 5_000;
pub const HISTORY_PAGE: u64 = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Live,
    History,
    DeadLetters,
}

/// A parsed filter: `type:PREFIX`, `agg:ID-PREFIX|TYPE`, `tenant:*` or `tenant:ID-PREFIX`, and
/// free words that must all appear (case-insensitive) in the type, aggregate, actor or payload.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Spec {
    types: Vec<String>,
    aggs: Vec<String>,
    all_tenants: bool,
    tenants: Vec<String>,
    words: Vec<String>,
}

impl Spec {
    pub fn parse(text: &str) -> Spec {
        let mut s = Spec::default();
        for tok in text.split_whitespace() {
            let lower = tok.to_lowercase();
            if let Some(v) = lower.strip_prefix("type:") {
                s.types.push(v.to_string());
            } else if let Some(v) = lower.strip_prefix("agg:") {
                s.aggs.push(v.to_string());
            } else if let Some(v) = lower.strip_prefix("tenant:") {
                if v == "*" || v == "all" {
                    s.all_tenants = true;
                } else {
                    s.tenants.push(v.to_string());
                }
            } else {
                s.words.push(lower);
            }
        }
        s
    }

    pub fn matches(&self, e: &EventEnvelope, own: TenantId) -> bool {
        let tenant = e.tenant_id.to_string();
        let tenant_ok = if !self.tenants.is_empty() {
            self.tenants.iter().any(|t| tenant.starts_with(t.as_str()))
        } else {
            self.all_tenants || e.tenant_id == own
        };
        if !tenant_ok {
            return false;
        }
        if !self.types.is_empty()
            && !self
                .types
                .iter()
                .any(|t| e.event_type.starts_with(t.as_str()))
        {
            return false;
        }
        let agg = e.aggregate_id.to_string();
        // The short id the screens show (the last 8 hex digits), the whole id, or a kind.
        let hex = e.aggregate_id.simple().to_string();
        if !self.aggs.is_empty()
            && !self.aggs.iter().any(|a| {
                agg.starts_with(a.as_str()) || hex.ends_with(a.as_str()) || e.aggregate_type == *a
            })
        {
            return false;
        }
        if self.words.is_empty() {
            return true;
        }
        let hay = format!(
            "{} {} {} {} {}",
            e.event_type, e.aggregate_type, agg, e.actor, e.payload
        )
        .to_lowercase();
        self.words.iter().all(|w| hay.contains(w.as_str()))
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
    spec: Spec,
    pub inspect: bool,
    pub mode: Mode,
    history: Vec<StoredEvent>,
    pub history_loading: bool,
    history_exhausted: bool,
    hist_selected: usize,
    pub dead: Option<Vec<StoredEvent>>,
    dead_selected: usize,
    /// The dead letter the selection is pinned to (its sequence number).
    dead_pin: Option<i64>,
    rate: VecDeque<u64>,
    clock: Option<chrono::DateTime<chrono::Utc>>,
    pub received: u64,
    pub dropped: u64,
    pending: std::collections::BTreeMap<crate::msg::RequestId, pane::Pending>,
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
            spec: Spec::default(),
            inspect: false,
            mode: Mode::Live,
            history: Vec::new(),
            history_loading: false,
            history_exhausted: false,
            hist_selected: 0,
            dead: None,
            dead_selected: 0,
            dead_pin: None,
            rate: std::iter::repeat_n(0, RATE_WINDOW).collect(),
            clock: None,
            received: 0,
            dropped: 0,
            pending: Default::default(),
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
        let matches = self.spec.matches(&e, own);
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

    pub fn set_filter(&mut self, text: String) {
        self.spec = Spec::parse(&text);
        self.filter_text = text;
    }

    /// Matching events, newest first.
    fn matching(&self, own: TenantId) -> impl DoubleEndedIterator<Item = &LiveEvent> {
        let spec = &self.spec;
        let all = spec.is_empty();
        self.ring.iter().rev().filter(move |e| {
            if all {
                e.tenant_id == own
            } else {
                spec.matches(e, own)
            }
        })
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
                .history
                .get(self.hist_selected)
                .map(|s| Arc::new(s.envelope.clone())),
            Mode::DeadLetters => self
                .dead
                .as_ref()
                .and_then(|d| d.get(self.dead_selected))
                .map(|s| Arc::new(s.envelope.clone())),
        }
    }

    pub fn selected_dead_letter(&self) -> Option<&StoredEvent> {
        self.dead.as_ref().and_then(|d| d.get(self.dead_selected))
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
                let total = self.history.len();
                if total > 0 {
                    self.hist_selected =
                        (self.hist_selected as i64 + delta).clamp(0, total as i64 - 1) as usize;
                }
            }
            Mode::DeadLetters => {
                let total = self.dead.as_ref().map_or(0, Vec::len);
                if total > 0 {
                    self.dead_selected =
                        (self.dead_selected as i64 + delta).clamp(0, total as i64 - 1) as usize;
                    self.dead_pin = self
                        .dead
                        .as_ref()
                        .and_then(|d| d.get(self.dead_selected))
                        .map(|d| d.seq);
                }
            }
        }
    }

    /// The next history page to load, when the selection nears the end of what is loaded.
    pub fn history_needs(&mut self, height: u16) -> Option<Option<i64>> {
        if self.mode != Mode::History || self.history_loading || self.history_exhausted {
            return None;
        }
        if self.history.len() >= HISTORY_CAP {
            return None;
        }
        let near_end = self.hist_selected + usize::from(height) * 2 >= self.history.len();
        if !near_end {
            return None;
        }
        self.history_loading = true;
        Some(self.history.last().map(|e| e.seq))
    }

    pub fn open_history(&mut self) {
        self.mode = Mode::History;
        self.history.clear();
        self.history_exhausted = false;
        self.hist_selected = 0;
    }

    pub fn on_history(&mut self, page: Vec<StoredEvent>) {
        self.history_loading = false;
        if (page.len() as u64) < HISTORY_PAGE {
            self.history_exhausted = true;
        }
        self.history.extend(page);
    }

    /// A (re)loaded list of dead letters: the selection stays on its dead letter; if that one
    /// is gone (retried, from here or elsewhere), the one now at its place is selected.
    pub fn on_dead_letters(&mut self, rows: Vec<StoredEvent>) {
        let pinned = self
            .dead_pin
            .and_then(|seq| rows.iter().position(|d| d.seq == seq));
        self.dead_selected = match pinned {
            Some(i) => i,
            None => self.dead_selected.min(rows.len().saturating_sub(1)),
        };
        self.dead_pin = rows.get(self.dead_selected).map(|d| d.seq);
        self.dead = Some(rows);
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
                &self.history,
                self.hist_selected,
            ),
            Mode::DeadLetters => match &self.dead {
                Some(d) => self.draw_stored(
                    frame,
                    list_area,
                    theme,
                    "Dead letters (R retries the selected one)",
                    d,
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
        if !self.filter_text.is_empty() {
            title.push(Span::styled(
                format!(" filter: {} ", printable(&self.filter_text)),
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
        rows: &[StoredEvent],
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
            let text = if self.mode == Mode::DeadLetters {
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

fn event_row<'a>(e: &EventEnvelope, extra: Option<String>, theme: &Theme) -> Row<'a> {
    Row::new(vec![
        Cell::from(e.occurred_at.format("%H:%M:%S%.3f").to_string()).style(theme.muted()),
        Cell::from(e.event_type.clone()).style(theme.key()),
        Cell::from(format!("{} {}", e.aggregate_type, short_id(e.aggregate_id))),
        Cell::from(printable(&e.actor)),
        Cell::from(extra.map(|x| printable(&x)).unwrap_or_default()).style(theme.muted()),
    ])
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
