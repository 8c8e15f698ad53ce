//! A virtualized node list: it holds only a window of rows around what is visible and asks for
//! more as the selection moves, so a million nodes cost what a screenful costs. `/` narrows it
//! with a fuzzy filter over the most recent nodes.

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
}

#[derive(Debug, Clone, Default)]
pub struct NodeList {
    /// Rows loaded: `page.offset .. page.offset + page.rows.len()` of `page.total`.
    page: Page<NodeSummary>,
    loaded: bool,
    /// Absolute index of the selected row, and of the first visible row.
    selected: u64,
    top: u64,
    /// A window request is in flight.
    pub loading: bool,
    /// Data changed since the last load; reload when the current one returns.
    stale: bool,
    pub filter: Option<Filter>,
}

impl NodeList {
    pub fn total(&self) -> u64 {
        match &self.filter {
            Some(f) if f.candidates.is_some() => f.matches.len() as u64,
            _ => self.page.total,
        }
    }

    /// The query for the window needed to show `height` rows around the selection, if the
    /// loaded rows do not cover it (with a margin of a screen either way).
    pub fn window_query(&mut self, height: u16) -> Option<Query> {
        if self.filter.is_some() || self.loading {
            return None;
        }
        let h = u64::from(height.max(1));
        let need_start = self.top;
        let need_end = (self.top + h).min(self.page.total.max(h));
        let have_start = self.page.offset;
        let have_end = self.page.offset + self.page.rows.len() as u64;
        let covered = self.loaded
            && !self.stale
            && need_start >= have_start
            && (need_end <= have_end || have_end >= self.page.total);
        if covered {
            return None;
        }
        self.loading = true;
        self.stale = false;
        Some(Query::Nodes {
            status: None,
            kind: None,
            offset: self.top.saturating_sub(h),
            limit: h * 3,
        })
    }

    /// Marks the rows out of date (something changed in the store).
    pub fn invalidate(&mut self) {
        self.stale = true;
    }

    pub fn on_page(&mut self, page: Page<NodeSummary>) {
        self.loading = false;
        self.loaded = true;
        self.page = page;
        let total = self.page.total;
        if total == 0 {
            self.selected = 0;
            self.top = 0;
        } else if self.selected >= total {
            self.selected = total - 1;
        }
        self.top = self.top.min(self.selected);
    }

    pub fn on_load_failed(&mut self) {
        self.loading = false;
    }

    pub fn selected_index(&self) -> u64 {
        self.selected
    }

    /// The selected row, if it is loaded.
    pub fn selected(&self) -> Option<&NodeSummary> {
        self.row(self.selected)
    }

    fn row(&self, index: u64) -> Option<&NodeSummary> {
        if let Some(f) = &self.filter
            && let Some(c) = &f.candidates
        {
            return f.matches.get(index as usize).and_then(|i| c.get(*i));
        }
        let i = index.checked_sub(self.page.offset)?;
        self.page.rows.get(i as usize)
    }

    /// Moves the selection by `delta` rows (clamped) and scrolls so it stays visible.
    pub fn move_by(&mut self, delta: i64, height: u16) {
        let total = self.total();
        if total == 0 {
            return;
        }
        let next = (self.selected as i64 + delta).clamp(0, total as i64 - 1) as u64;
        self.select(next, height);
    }

    pub fn select(&mut self, index: u64, height: u16) {
        let total = self.total();
        if total == 0 {
            return;
        }
        self.selected = index.min(total - 1);
        let h = u64::from(height.max(1));
        if self.selected < self.top {
            self.top = self.selected;
        } else if self.selected >= self.top + h {
            self.top = self.selected + 1 - h;
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

    pub fn set_filter_query(&mut self, query: String) {
        if let Some(f) = &mut self.filter {
            f.query = query;
        }
        self.refilter();
    }

    fn refilter(&mut self) {
        if let Some(f) = &mut self.filter
            && let Some(c) = &f.candidates
        {
            f.matches = crate::fuzzy::rank(&f.query, c, |n| n.title.as_str());
        }
        self.selected = 0;
        self.top = 0;
    }

    pub fn clear_filter(&mut self) {
        self.filter = None;
        self.selected = 0;
        self.top = 0;
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
        if !self.loaded && self.filter.is_none() {
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
        let mut rows = Vec::with_capacity(inner_height as usize);
        for i in self.top..(self.top + u64::from(inner_height)).min(total) {
            let row = match self.row(i) {
                Some(n) => {
                    let locales: Vec<String> = n.locales.iter().map(|l| l.to_string()).collect();
                    Row::new(vec![
                        Cell::from(n.status.as_str()).style(theme.status(n.status)),
                        Cell::from(n.kind.as_str()),
                        Cell::from(locales.join(",")),
                        Cell::from(printable(&n.title)),
                        Cell::from(n.updated_at.format("%Y-%m-%d %H:%M").to_string()),
                        Cell::from(format!("v{}", n.version)),
                    ])
                }
                None => Row::new(vec![Cell::from("…").style(theme.muted())]),
            };
            rows.push(if i == self.selected && focused {
                row.style(theme.selected())
            } else if i == self.selected {
                row.style(Style::new().bg(theme.selection_bg))
            } else {
                row
            });
        }
        let header =
            Row::new(["STATUS", "KIND", "LOCALES", "TITLE", "UPDATED", "VER"]).style(theme.muted());
        let table = Table::new(
            rows,
            [
                Constraint::Length(9),
                Constraint::Length(9),
                Constraint::Length(12),
                Constraint::Fill(1),
                Constraint::Length(16),
                Constraint::Length(5),
            ],
        )
        .header(header)
        .block(block);
        frame.render_widget(table, area);
    }
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
