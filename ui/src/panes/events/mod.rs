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
use rustok_domain::TenantId;
use rustok_domain::event::EventEnvelope;
use rustok_domain::read::StoredEvent;
use rustok_domain::text::printable;
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

#[derive(Debug, Clone)]
pub struct EventsPane {
    ring: VecDeque<Arc<EventEnvelope>>,
    capacity: usize,
    pub follow: bool,
    /// Position from the newest matching event (0 = newest).
    selected: usize,
    top: usize,
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
            selected: 0,
            top: 0,
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
            .cloned()
            .collect();
        v.reverse();
        v
    }

    /// The events kept, oldest first.
    pub fn ring(&self) -> impl DoubleEndedIterator<Item = &Arc<EventEnvelope>> + ExactSizeIterator {
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
        self.selected = 0;
        self.top = 0;
        self.new_since_pause = 0;
        self.hist_selected = 0;
        self.dead_selected = 0;
        self.inspect = false;
    }

    /// Takes an event off the bus. Never blocks, never grows past the capacity.
    ///
    /// Events from other processes can arrive out of order: each is put in its place by the
    /// time it was committed, newest last (a late one lands below newer ones, and a paused
    /// selection stays on its event).
    pub fn push(&mut self, e: Arc<EventEnvelope>, own: TenantId) {
        self.received += 1;
        if let Some(last) = self.rate.back_mut() {
            *last += 1;
        }
        let matches = self.spec.matches(&e, own);
        if self.ring.len() == self.capacity {
            self.ring.pop_front();
        }
        // How many kept events are newer than this one (a short scan from the newest end).
        let newer = self
            .ring
            .iter()
            .rev()
            .take_while(|x| x.occurred_at > e.occurred_at)
            .count();
        let newer_matching = if matches && newer > 0 {
            let all = self.spec.is_empty();
            self.ring
                .iter()
                .rev()
                .take(newer)
                .filter(|x| {
                    if all {
                        x.tenant_id == own
                    } else {
                        self.spec.matches(x, own)
                    }
                })
                .count()
        } else {
            0
        };
        let at = self.ring.len() - newer;
        self.ring.insert(at, e);
        if matches && !self.follow && newer_matching <= self.selected {
            // Keep the selected event where it is while paused.
            self.selected += 1;
            self.top += 1;
            self.new_since_pause += 1;
        }
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
        self.selected = 0;
        self.top = 0;
    }

    /// Matching events, newest first.
    fn matching(&self, own: TenantId) -> impl Iterator<Item = &Arc<EventEnvelope>> {
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

    pub fn selected_event(&self, own: TenantId) -> Option<Arc<EventEnvelope>> {
        match self.mode {
            Mode::Live => self.matching(own).nth(self.selected).cloned(),
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

    pub fn toggle_follow(&mut self) {
        self.follow = !self.follow;
        if self.follow {
            self.selected = 0;
            self.top = 0;
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
                let next = (self.selected as i64 + delta).clamp(0, total as i64 - 1) as usize;
                if next != 0 {
                    self.follow = false;
                }
                self.selected = next;
                if self.selected < self.top {
                    self.top = self.selected;
                } else if self.selected >= self.top + h {
                    self.top = self.selected + 1 - h;
                }
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

    pub fn on_dead_letters(&mut self, rows: Vec<StoredEvent>) {
        self.dead = Some(rows);
        self.dead_selected = self
            .dead_selected
            .min(self.dead.as_ref().map_or(0, |d| d.len().saturating_sub(1)));
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
        let height = area.height.saturating_sub(3);
        let rows: Vec<Row> = self
            .matching(own)
            .skip(self.top)
            .take(usize::from(height))
            .enumerate()
            .map(|(i, e)| {
                let row = event_row(e, None, theme);
                if self.top + i == self.selected {
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
mod tests {
    use super::*;
    use rustok_domain::EventId;
    use rustok_domain::event::{DomainEvent, EnvelopeMeta, NodeVersion};

    fn ev(tenant: TenantId, kind: &str) -> Arc<EventEnvelope> {
        let e = match kind {
            "restored" => DomainEvent::NodeRestored(NodeVersion { version: 2 }),
            _ => DomainEvent::NodeUnpublished(NodeVersion { version: 3 }),
        };
        Arc::new(EventEnvelope::new(
            &e,
            EnvelopeMeta {
                id: EventId::new_v7(),
                tenant_id: tenant,
                aggregate_id: uuid::Uuid::now_v7(),
                actor: "ann".into(),
                occurred_at: chrono::Utc::now(),
                correlation_id: None,
                causation_id: None,
            },
        ))
    }

    #[test]
    fn the_ring_keeps_the_newest_and_pausing_keeps_the_selection() {
        let own = TenantId::new_v7();
        let mut p = EventsPane::new(3);
        let first = ev(own, "restored");
        p.push(first.clone(), own);
        p.toggle_follow(); // pause
        assert_eq!(p.selected_event(own).unwrap().id, first.id);
        p.push(ev(own, "unpublished"), own);
        p.push(ev(own, "unpublished"), own);
        assert_eq!(
            p.selected_event(own).unwrap().id,
            first.id,
            "the selected event stays selected"
        );
        assert_eq!(p.new_since_pause, 2);
        p.push(ev(own, "unpublished"), own); // evicts `first`
        assert_eq!(p.ring().len(), 3);
        assert!(p.ring().all(|e| e.id != first.id));
        p.toggle_follow();
        assert_eq!(
            p.selected_event(own).unwrap().id,
            p.ring().last().unwrap().id
        );
    }

    #[test]
    fn filters() {
        let own = TenantId::new_v7();
        let other = TenantId::new_v7();
        let e = ev(own, "restored");
        assert!(Spec::parse("").matches(&e, own));
        assert!(
            !Spec::parse("").matches(&e, other),
            "other tenants are hidden by default"
        );
        assert!(Spec::parse("tenant:*").matches(&e, other));
        assert!(Spec::parse("type:node.res").matches(&e, own));
        assert!(!Spec::parse("type:order.").matches(&e, own));
        assert!(Spec::parse("agg:node ann").matches(&e, own));
        assert!(Spec::parse(&format!("agg:{}", &e.aggregate_id.to_string()[..8])).matches(&e, own));
        let short = crate::widgets::node_list::short_id(e.aggregate_id);
        assert!(Spec::parse(&format!("agg:{short}")).matches(&e, own));
        assert!(Spec::parse(&format!("agg:{}", e.aggregate_id)).matches(&e, own));
        assert!(!Spec::parse("bob").matches(&e, own));
    }

    #[test]
    fn the_rate_window_moves_with_the_clock() {
        let own = TenantId::new_v7();
        let mut p = EventsPane::new(10);
        let t0 = chrono::Utc::now();
        p.clock(t0);
        p.push(ev(own, "x"), own);
        p.push(ev(own, "x"), own);
        assert_eq!(p.rate().back(), Some(&2));
        p.clock(t0 + chrono::Duration::seconds(3));
        assert_eq!(
            p.rate().iter().rev().take(4).copied().collect::<Vec<_>>(),
            vec![0, 0, 0, 2]
        );
        assert_eq!(p.rate().len(), RATE_WINDOW);
    }
}
