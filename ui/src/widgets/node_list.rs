//! A virtualized node list: it holds only a window of rows around what is visible and asks for
//! more as the selection moves, so a million nodes cost what a screenful costs. `/` narrows it
//! with a fuzzy filter over the most recent nodes.

use super::window::Window;
use crate::msg::Query;
use crate::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};
use rustok_domain::read::{NodeSummary, Page};
use rustok_domain::text::printable;

/// How many recent nodes a fuzzy filter searches.
pub const FILTER_CANDIDATES: u64 = 2_000;

/// The longest filter a node list takes, typed or pasted: a filter is a few words, and every
/// character of it is matched against every candidate at each change.
pub const MAX_FILTER_CHARS: usize = 200;

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub query: String,
    /// Still typing (the input line is shown and keys go to it).
    pub editing: bool,
    /// The recent nodes the filter ranks; `None` while they load.
    pub candidates: Option<Vec<NodeSummary>>,
    pub candidates_total: u64,
    /// Indices into `candidates`, best match first.
    pub matches: Vec<usize>,
    selected: u64,
    top: u64,
}

#[derive(Debug, Clone, Default)]
pub struct NodeList {
    win: Window<NodeSummary>,
    pub filter: Option<Filter>,
}

impl NodeList {
    pub fn total(&self) -> u64 {
        match &self.filter {
            Some(f) if f.candidates.is_some() => f.matches.len() as u64,
            _ => self.win.total(),
        }
    }

    /// The query for the window needed to show `height` rows, if the loaded rows do not cover
    /// it. Nothing while a filter is on (the filter ranks its own candidates).
    pub fn window_query(&mut self, height: u16) -> Option<Query> {
        if self.filter.is_some() {
            return None;
        }
        self.win.needs(height).map(|(offset, limit)| Query::Nodes {
            status: None,
            kind: None,
            offset,
            limit,
        })
    }

    /// Marks the rows out of date (something changed in the store).
    pub fn invalidate(&mut self) {
        self.win.invalidate();
    }

    pub fn on_page(&mut self, page: Page<NodeSummary>) {
        self.win.on_page(page);
    }

    /// The highlighted node was gone on the last reload (its neighbour is selected).
    pub fn take_lost(&mut self) -> bool {
        self.win.take_lost().is_some()
    }

    /// Selects this node once the next reload brings it.
    pub fn pin(&mut self, id: rustok_domain::NodeId) {
        self.win.pin(id.as_uuid());
    }

    pub fn on_load_failed(&mut self) {
        self.win.on_failed();
    }

    pub fn selected_index(&self) -> u64 {
        match &self.filter {
            Some(f) if f.candidates.is_some() => f.selected,
            _ => self.win.selected_index(),
        }
    }

    /// The selected row, if it is loaded.
    pub fn selected(&self) -> Option<&NodeSummary> {
        self.row(self.selected_index())
    }

    fn row(&self, index: u64) -> Option<&NodeSummary> {
        if let Some(f) = &self.filter
            && let Some(c) = &f.candidates
        {
            return f.matches.get(index as usize).and_then(|i| c.get(*i));
        }
        self.win.row(index)
    }

    /// Moves the selection by `delta` rows (clamped) and scrolls so it stays visible.
    pub fn move_by(&mut self, delta: i64, height: u16) {
        let total = self.total();
        let next = (self.selected_index() as i64)
            .saturating_add(delta)
            .clamp(0, (total as i64 - 1).max(0)) as u64;
        self.select(next, height);
    }

    pub fn select(&mut self, index: u64, height: u16) {
        match &mut self.filter {
            Some(f) if f.candidates.is_some() => {
                let total = f.matches.len() as u64;
                f.selected = index.min(total.saturating_sub(1));
                let h = u64::from(height.max(1));
                if f.selected < f.top {
                    f.top = f.selected;
                } else if f.selected >= f.top + h {
                    f.top = f.selected + 1 - h;
                }
            }
            _ => self.win.select(index, height),
        }
    }

    pub fn start_filter(&mut self) -> Option<Query> {
        let first = self.filter.is_none();
        let f = self.filter.get_or_insert_with(Filter::default);
        f.editing = true;
        first.then_some(Query::Nodes {
            status: None,
            kind: None,
            offset: 0,
            limit: FILTER_CANDIDATES,
        })
    }

    pub fn on_candidates(&mut self, page: Page<NodeSummary>) {
        if let Some(f) = &mut self.filter {
            f.candidates_total = page.total;
            f.candidates = Some(page.rows);
        }
        self.refilter();
    }

    /// The filter's text as typed, cut at [`MAX_FILTER_CHARS`].
    pub fn set_filter_query(&mut self, query: String) {
        if let Some(f) = &mut self.filter {
            f.query = query.chars().take(MAX_FILTER_CHARS).collect();
        }
        self.refilter();
    }

    /// A paste into the filter being typed: one line (control characters become spaces),
    /// cut at [`MAX_FILTER_CHARS`]. Whether it was taken (no filter is being typed: no).
    pub fn paste_filter(&mut self, text: &str) -> bool {
        let Some(f) = self.filter.as_ref().filter(|f| f.editing) else {
            return false;
        };
        let mut query = f.query.clone();
        let room = MAX_FILTER_CHARS.saturating_sub(query.chars().count());
        query.extend(
            text.chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .take(room),
        );
        self.set_filter_query(query);
        true
    }

    fn refilter(&mut self) {
        if let Some(f) = &mut self.filter
            && let Some(c) = &f.candidates
        {
            f.matches = crate::fuzzy::rank(&f.query, c, |n| n.title.as_str());
            f.selected = 0;
            f.top = 0;
        }
    }

    pub fn clear_filter(&mut self) {
        self.filter = None;
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool, title: &str) {
        let total = self.total();
        let mut block_title = vec![Span::styled(format!(" {title} "), theme.title())];
        let count = match &self.filter {
            Some(f) => format!(
                "{} of {} recent match '{}' ",
                f.matches.len(),
                f.candidates.as_ref().map_or(0, Vec::len),
                printable(&f.query)
            ),
            None => format!("{} ", group(total)),
        };
        block_title.push(Span::styled(count, theme.muted()));
        let block = Block::bordered()
            .border_style(theme.border(focused))
            .title(Line::from(block_title));
        let inner_height = area.height.saturating_sub(3);
        if !self.win.is_loaded() && self.filter.is_none() {
            frame.render_widget(
                Paragraph::new("loading…").style(theme.muted()).block(block),
                area,
            );
            return;
        }
        if total == 0 {
            let text = if self.filter.is_some() {
                "no node matches the filter (Esc clears it)"
            } else {
                "no nodes yet — press n to write the first draft"
            };
            frame.render_widget(Paragraph::new(text).style(theme.muted()).block(block), area);
            return;
        }
        // Narrow (the Translations list beside its completeness, a split half): the title
        // keeps its room and the update time goes.
        let wide = area.width >= 100;
        let mut rows = Vec::with_capacity(inner_height as usize);
        let top = match &self.filter {
            Some(f) if f.candidates.is_some() => f.top,
            _ => self.win.top_within(inner_height),
        };
        let selected = self.selected_index();
        for i in top..(top + u64::from(inner_height)).min(total) {
            let row = match self.row(i) {
                Some(n) => {
                    let locales: Vec<String> = n.locales.iter().map(|l| l.to_string()).collect();
                    let mut cells = vec![
                        Cell::from(n.status.as_str()).style(theme.status(n.status)),
                        Cell::from(n.kind.as_str()),
                        Cell::from(locales.join(",")),
                        title_cell(n, theme),
                    ];
                    if wide {
                        cells.push(Cell::from(
                            n.updated_at.format("%Y-%m-%d %H:%M").to_string(),
                        ));
                    }
                    cells.push(Cell::from(format!("v{}", n.version)));
                    Row::new(cells)
                }
                None => Row::new(vec![Cell::from("…").style(theme.muted())]),
            };
            rows.push(if i == selected && focused {
                row.style(theme.selected())
            } else if i == selected {
                row.style(Style::new().bg(theme.selection_bg))
            } else {
                row
            });
        }
        let (header, widths) = if wide {
            (
                vec!["STATUS", "KIND", "LOCALES", "TITLE", "UPDATED", "VER"],
                vec![
                    Constraint::Length(9),
                    Constraint::Length(9),
                    Constraint::Length(12),
                    Constraint::Fill(1),
                    Constraint::Length(16),
                    Constraint::Length(5),
                ],
            )
        } else {
            (
                vec!["STATUS", "KIND", "LOCALES", "TITLE", "VER"],
                vec![
                    Constraint::Length(9),
                    Constraint::Length(9),
                    Constraint::Length(9),
                    Constraint::Fill(1),
                    Constraint::Length(4),
                ],
            )
        };
        let table = Table::new(rows, widths)
            .header(Row::new(header).style(theme.muted()))
            .block(block);
        frame.render_widget(table, area);
    }
}

/// The title, after a marker when the node has a pending schedule.
fn title_cell<'a>(n: &NodeSummary, theme: &Theme) -> Cell<'a> {
    match &n.scheduled {
        Some(s) => Cell::from(Line::from(vec![
            Span::styled(format!("{} ", schedule_marker(s)), theme.warning()),
            Span::raw(printable(&n.title)),
        ])),
        None => Cell::from(printable(&n.title)),
    }
}

/// The node list's marker for a scheduled node: `◷ live 12-24 18:00` (a publication) or
/// `◷ down 12-24 18:00` (an unpublication), the soonest one, in UTC.
pub fn schedule_marker(
    s: &(
        rustok_domain::content::ScheduledAction,
        chrono::DateTime<chrono::Utc>,
    ),
) -> String {
    let what = match s.0 {
        rustok_domain::content::ScheduledAction::Publish => "live",
        rustok_domain::content::ScheduledAction::Unpublish => "down",
    };
    format!("◷ {what} {}", s.1.format("%m-%d %H:%M"))
}

/// The last 8 hex digits of an id: UUIDv7 ids begin with their timestamp, so only the
/// random tail tells ids of the same day apart.
pub fn short_id(id: uuid::Uuid) -> String {
    let hex = id.simple().to_string();
    hex[hex.len() - 8..].to_string()
}

/// `part` as a whole percentage of `whole` (100 when `whole` is 0: nothing is missing).
pub fn percent(part: u64, whole: u64) -> u64 {
    part.saturating_mul(100).checked_div(whole).unwrap_or(100)
}

/// 1234567 → "1,234,567".
pub fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustok_domain::NodeId;
    use rustok_domain::content::{NodeKind, NodeStatus};

    fn summary(i: u64) -> NodeSummary {
        NodeSummary {
            id: NodeId::new_v7(),
            kind: NodeKind::Post,
            status: NodeStatus::Draft,
            version: 1,
            title: format!("Node {i}"),
            source_locale: "en".parse().unwrap(),
            locales: vec!["en".parse().unwrap()],
            updated_at: chrono::Utc::now(),
            published_at: None,
            scheduled: None,
        }
    }

    fn page(offset: u64, len: u64, total: u64) -> Page<NodeSummary> {
        Page {
            total,
            offset,
            rows: (offset..offset + len).map(summary).collect(),
        }
    }

    #[test]
    fn loads_only_windows_around_the_view() {
        let mut l = NodeList::default();
        assert_eq!(
            l.window_query(10),
            Some(Query::Nodes {
                status: None,
                kind: None,
                offset: 0,
                limit: 30
            })
        );
        assert_eq!(l.window_query(10), None, "one request at a time");
        l.on_page(page(0, 30, 1_000_000));
        assert_eq!(l.window_query(10), None, "covered");
        l.move_by(25, 10);
        assert_eq!(l.window_query(10), None, "still covered");
        l.move_by(10, 10); // selected 35, top 26: needs rows up to 36
        assert_eq!(
            l.window_query(10),
            Some(Query::Nodes {
                status: None,
                kind: None,
                offset: 16,
                limit: 30
            })
        );
        l.on_page(page(16, 30, 1_000_000));
        l.select(999_999, 10);
        assert_eq!(l.selected_index(), 999_999);
        assert!(l.selected().is_none(), "not loaded yet");
        assert!(matches!(
            l.window_query(10),
            Some(Query::Nodes {
                offset: 999_980,
                ..
            })
        ));
    }

    #[test]
    fn filters_fuzzily_over_candidates() {
        let mut l = NodeList::default();
        l.on_page(page(0, 5, 5));
        assert!(l.start_filter().is_some());
        l.on_candidates(page(0, 20, 20));
        l.set_filter_query("node 1".into());
        assert!(l.total() >= 1);
        assert_eq!(l.selected().unwrap().title, "Node 1");
        l.clear_filter();
        assert_eq!(l.total(), 5);
        assert_eq!(group(1_234_567), "1,234,567");
    }
}
