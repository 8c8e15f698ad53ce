//! A node's history (issue 20): its kept revisions, newest first; pick two (like a wiki) and
//! see what changed side by side; restore one (asks first). Opened from the Content list and
//! the node editor; hosted by the Content pane. The selection and the pick are revision
//! versions, never row numbers, so a reload (a new revision arriving) keeps them.

use crate::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use rustok_domain::NodeId;
use rustok_domain::content::Revision;
use rustok_domain::content::diff::{NodeDiff, side_by_side};
use rustok_domain::text::printable;

/// One row of the side-by-side diff.
#[derive(Debug, Clone, PartialEq)]
pub enum DiffRow {
    /// A changed field: `[en] body`, `status`.
    Field(String),
    /// A hunk's header (`@@ -1,3 +1,4 @@`).
    Hunk(String),
    /// Old line (number, text) and new line; `changed` when they differ.
    Pair {
        left: Option<(usize, String)>,
        right: Option<(usize, String)>,
        changed: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct DiffView {
    pub diff: NodeDiff,
    pub rows: Vec<DiffRow>,
    /// The first row shown.
    pub scroll: usize,
}

impl DiffView {
    pub fn new(diff: NodeDiff) -> DiffView {
        let mut rows = Vec::new();
        for f in &diff.fields {
            rows.push(DiffRow::Field(f.label()));
            for h in &f.hunks {
                rows.push(DiffRow::Hunk(h.header()));
                rows.extend(side_by_side(h).into_iter().map(|r| DiffRow::Pair {
                    left: r.left,
                    right: r.right,
                    changed: r.changed,
                }));
            }
        }
        DiffView {
            diff,
            rows,
            scroll: 0,
        }
    }

    pub fn scroll_by(&mut self, delta: i64, height: u16) {
        let max = self.rows.len().saturating_sub(usize::from(height.max(1)));
        let next = (self.scroll as i64).saturating_add(delta).max(0) as usize;
        self.scroll = next.min(max);
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct HistoryView {
    pub node_id: NodeId,
    /// The node's title when the view was opened (for the heading and the question).
    pub title: String,
    /// Newest first.
    pub revisions: Vec<Revision>,
    pub loaded: bool,
    /// The highlighted revision's version.
    pub selected: Option<i64>,
    /// The revision picked as the other side of the diff.
    pub marked: Option<i64>,
    pub diff: Option<DiffView>,
    /// The session may not restore a revision (read-only, or the role): the hint leaves `R`
    /// out, as the command bar does.
    pub no_revert: bool,
}

impl HistoryView {
    pub fn new(node_id: NodeId, title: &str) -> HistoryView {
        HistoryView {
            node_id,
            title: title.to_string(),
            revisions: Vec::new(),
            loaded: false,
            selected: None,
            marked: None,
            diff: None,
            no_revert: false,
        }
    }

    /// The revisions arrived (again): the selection stays on its version while it is kept,
    /// else the newest is selected; a pick of a revision no longer kept is dropped.
    pub fn on_revisions(&mut self, revisions: Vec<Revision>) {
        let has = |v: Option<i64>| v.filter(|v| revisions.iter().any(|r| r.version == *v));
        self.selected = has(self.selected).or(revisions.first().map(|r| r.version));
        self.marked = has(self.marked);
        self.revisions = revisions;
        self.loaded = true;
    }

    fn index(&self) -> Option<usize> {
        let v = self.selected?;
        self.revisions.iter().position(|r| r.version == v)
    }

    pub fn selected_revision(&self) -> Option<&Revision> {
        self.index().map(|i| &self.revisions[i])
    }

    /// The node's current version (the newest revision).
    pub fn current(&self) -> Option<&Revision> {
        self.revisions.first()
    }

    pub fn move_by(&mut self, delta: i64) {
        if self.revisions.is_empty() {
            return;
        }
        let i = self.index().unwrap_or(0) as i64;
        let last = self.revisions.len() as i64 - 1;
        let next = (i + delta).clamp(0, last) as usize;
        self.selected = Some(self.revisions[next].version);
    }

    /// Picks (or un-picks) the highlighted revision.
    pub fn toggle_mark(&mut self) {
        self.marked = if self.marked == self.selected {
            None
        } else {
            self.selected
        };
    }

    /// The two versions to diff, older first: the picked one and the highlighted one, or —
    /// with nothing else picked — the highlighted one and the revision before it.
    pub fn diff_pair(&self) -> Option<(i64, i64)> {
        let sel = self.selected?;
        match self.marked {
            Some(m) if m != sel => Some((m.min(sel), m.max(sel))),
            _ => {
                let i = self.index()?;
                let older = self.revisions.get(i + 1)?;
                Some((older.version, sel))
            }
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        match &self.diff {
            Some(d) => self.draw_diff(d, frame, area, theme),
            None => self.draw_list(frame, area, theme),
        }
    }

    fn heading(&self, what: &str) -> Line<'static> {
        let short = crate::widgets::node_list::short_id(self.node_id.as_uuid());
        Line::from(vec![Span::raw(format!(
            " {what} · “{}” …{short} ",
            printable(&self.title)
        ))])
    }

    fn draw_list(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let block = Block::bordered()
            .border_style(theme.border(true))
            .title(self.heading("History").style(theme.title()));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if !self.loaded {
            frame.render_widget(Paragraph::new("loading…").style(theme.muted()), inner);
            return;
        }
        let mut lines = vec![Line::styled(
            format!(
                "   {:<6} {:<17} {:<14} {:<22} {:<10} {}",
                "VER", "WHEN", "WHO", "WHAT", "STATUS", "LOCALES"
            ),
            theme.muted(),
        )];
        let height = usize::from(inner.height.saturating_sub(2).max(1));
        let i = self.index().unwrap_or(0);
        let first = i.saturating_sub(height.saturating_sub(1));
        for r in self.revisions.iter().skip(first).take(height) {
            let what = match r.reverted_from {
                Some(v) => format!("{} (to v{v})", r.command),
                None => r.command.clone(),
            };
            let pick = if self.marked == Some(r.version) {
                "● "
            } else {
                "  "
            };
            let locales: Vec<String> = r.locales.iter().map(|l| l.to_string()).collect();
            let text = format!(
                " {pick}{:<6} {:<17} {:<14} {:<22} {:<10} {}",
                format!("v{}", r.version),
                r.at.format("%Y-%m-%d %H:%M"),
                rustok_domain::text::excerpt(&r.actor, 14),
                what,
                r.status.as_str(),
                locales.join(",")
            );
            let style = if Some(r.version) == self.selected {
                theme.selected()
            } else {
                Style::default()
            };
            lines.push(Line::styled(text, style));
        }
        let restores = |s: &str| {
            if self.no_revert {
                String::new()
            } else {
                s.to_string()
            }
        };
        let hint = match (self.marked, self.diff_pair()) {
            (Some(m), Some((a, b))) => format!(
                "picked v{m} · Enter: diff v{a} → v{b}{}",
                restores(" · R restores the highlighted one")
            ),
            (None, Some((a, b))) => format!(
                "Enter: diff v{a} → v{b} · Space picks a revision to compare with{}",
                restores(" · R restores")
            ),
            _ => "the first kept revision · Space picks it for a diff".into(),
        };
        let [list, foot] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(inner);
        frame.render_widget(Paragraph::new(lines), list);
        frame.render_widget(Paragraph::new(hint).style(theme.muted()), foot);
    }

    fn draw_diff(&self, d: &DiffView, frame: &mut Frame, area: Rect, theme: &Theme) {
        let (from, to) = (&d.diff.from, &d.diff.to);
        let block = Block::bordered().border_style(theme.border(true)).title(
            self.heading(&format!("Diff v{} → v{}", from.version, to.version))
                .style(theme.title()),
        );
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let [head, body] =
            Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(inner);
        let [hl, hr] = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
            .areas(head);
        let side = |r: &Revision| {
            format!(
                "v{} · {} · {} · {}",
                r.version,
                r.at.format("%Y-%m-%d %H:%M"),
                printable(&r.actor),
                r.command
            )
        };
        frame.render_widget(Paragraph::new(side(from)).style(theme.muted()), hl);
        frame.render_widget(Paragraph::new(side(to)).style(theme.muted()), hr);
        if d.rows.is_empty() {
            frame.render_widget(
                Paragraph::new("no differences between these versions").style(theme.muted()),
                body,
            );
            return;
        }
        let [bl, br] = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
            .areas(body);
        let (mut left, mut right) = (Vec::new(), Vec::new());
        for row in d.rows.iter().skip(d.scroll).take(usize::from(body.height)) {
            match row {
                DiffRow::Field(label) => {
                    left.push(Line::styled(format!("── {label} "), theme.title()));
                    right.push(Line::styled(format!("── {label} "), theme.title()));
                }
                DiffRow::Hunk(h) => {
                    left.push(Line::styled(h.clone(), theme.key()));
                    right.push(Line::styled(h.clone(), theme.key()));
                }
                DiffRow::Pair {
                    left: l,
                    right: r,
                    changed,
                } => {
                    let cell = |c: &Option<(usize, String)>, sign: &str, style: Style| match c {
                        Some((n, t)) => Line::from(vec![
                            Span::styled(format!("{n:>4} "), theme.muted()),
                            Span::styled(format!("{sign}{}", printable(t)), style),
                        ]),
                        None => Line::raw(""),
                    };
                    if *changed {
                        left.push(cell(l, "-", theme.error()));
                        right.push(cell(r, "+", theme.success()));
                    } else {
                        left.push(cell(l, " ", Style::default()));
                        right.push(cell(r, " ", Style::default()));
                    }
                }
            }
        }
        frame.render_widget(Paragraph::new(left), bl);
        frame.render_widget(Paragraph::new(right), br);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use rustok_domain::content::NodeStatus;

    fn rev(v: i64) -> Revision {
        Revision {
            version: v,
            at: Utc::now(),
            actor: "ann".into(),
            command: "update_node".into(),
            status: NodeStatus::Draft,
            locales: vec![],
            reverted_from: None,
        }
    }

    #[test]
    fn selection_and_pick_are_versions() {
        let mut h = HistoryView::new(NodeId::new_v7(), "T");
        h.on_revisions(vec![rev(3), rev(2), rev(1)]);
        assert_eq!(h.selected, Some(3));
        assert_eq!(h.diff_pair(), Some((2, 3)));
        h.move_by(2);
        assert_eq!(h.diff_pair(), None, "the oldest has nothing before it");
        h.toggle_mark();
        h.move_by(-2);
        assert_eq!(h.diff_pair(), Some((1, 3)));
        // A new revision arrives: the selection and the pick stay on their versions.
        h.on_revisions(vec![rev(4), rev(3), rev(2), rev(1)]);
        assert_eq!((h.selected, h.marked), (Some(3), Some(1)));
        h.on_revisions(vec![rev(4), rev(3)]);
        assert_eq!(h.marked, None, "a pruned pick is dropped");
    }
}
