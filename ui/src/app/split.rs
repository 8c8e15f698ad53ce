//! Split view: two panes side by side or stacked, each with its own selection; one has the
//! keys (the focused one is always `App::tab`). The layout is remembered per staff member:
//! the app says what to keep (`Effect::SaveLayout`) and the runtime hands it back at start
//! (`App::restore_layout`).

use super::{App, TABS, Tab};
use crate::msg::Effect;
use ratatui::layout::{Constraint, Layout, Rect};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Split {
    /// The pane without the keys.
    pub other: Tab,
    /// One above the other (else side by side).
    pub stacked: bool,
    /// The focused pane is the left (or top) one.
    pub first: bool,
}

impl App {
    /// Shows `tab` where the keys are; if the other half shows it, the keys move there.
    pub(super) fn show(&mut self, tab: Tab) {
        if let Some(s) = &mut self.split
            && s.other == tab
        {
            s.other = self.tab;
            s.first = !s.first;
        }
        self.tab = tab;
    }

    /// Off → side by side → stacked → off.
    pub(super) fn toggle_split(&mut self) {
        self.split = match self.split {
            None => Some(Split {
                other: if self.tab == Tab::Events {
                    Tab::Orders
                } else {
                    Tab::Events
                },
                stacked: false,
                first: true,
            }),
            Some(s) if !s.stacked => Some(Split { stacked: true, ..s }),
            Some(_) => None,
        };
        self.save_layout();
    }

    /// Moves the keys to the other half.
    pub(super) fn focus_other(&mut self) {
        if let Some(s) = self.split {
            self.show(s.other);
            self.save_layout();
        } else {
            self.info("one pane only: | splits the screen");
        }
    }

    fn save_layout(&mut self) {
        let text = self.layout();
        self.out.fx.push(Effect::SaveLayout(text));
    }

    /// The layout as the runtime keeps it: `single`, `side events` or `stacked orders`
    /// (the second word names the pane without the keys).
    pub fn layout(&self) -> String {
        match self.split {
            None => "single".into(),
            Some(s) => format!(
                "{} {}",
                if s.stacked { "stacked" } else { "side" },
                s.other.title().to_lowercase()
            ),
        }
    }

    /// Restores a layout kept by [`App::layout`]; anything else is ignored.
    pub fn restore_layout(&mut self, text: &str) {
        let mut words = text.split_whitespace();
        let (mode, pane) = (words.next(), words.next());
        let other = TABS
            .iter()
            .copied()
            .find(|t| pane.is_some_and(|p| t.title().eq_ignore_ascii_case(p)));
        self.split = match (mode, other) {
            (Some("side" | "stacked"), Some(other)) if other != self.tab => Some(Split {
                other,
                stacked: mode == Some("stacked"),
                first: true,
            }),
            _ => None,
        };
    }

    /// The panes on screen with their areas in `body`, and whether each has the keys.
    pub(super) fn slots(&self, body: Rect) -> Vec<(Tab, Rect, bool)> {
        let Some(s) = self.split else {
            return vec![(self.tab, body, true)];
        };
        let halves = [Constraint::Percentage(50), Constraint::Percentage(50)];
        let [a, b] = if s.stacked {
            Layout::vertical(halves).areas(body)
        } else {
            Layout::horizontal(halves).areas(body)
        };
        if s.first {
            vec![(self.tab, a, true), (s.other, b, false)]
        } else {
            vec![(s.other, a, false), (self.tab, b, true)]
        }
    }

    /// The size a pane plans for: its half of the body plus the bars, as if it were alone
    /// on a terminal of that size (so its page and scroll sizes fit its half).
    pub(super) fn pane_size(&self, tab: Tab) -> (u16, u16) {
        let (w, h) = self.size;
        let body = Rect::new(0, 0, w, h.saturating_sub(3));
        self.slots(body)
            .into_iter()
            .find(|(t, _, _)| *t == tab)
            .map_or((w, h), |(_, r, _)| (r.width, r.height + 3))
    }

    /// The panes on screen.
    pub(super) fn visible(&self) -> Vec<Tab> {
        let mut v = vec![self.tab];
        v.extend(self.split.map(|s| s.other));
        v
    }

    /// Whether the 1 Hz `Msg::Clock` changes what is drawn: only the Dashboard (events per
    /// second, today's figures) and the Audit pane (how long ago it ran) show the time. A
    /// console loop need not draw a frame for a tick on any other view — with 1,000 SSH
    /// sessions those frames were 1,000 renders a second that sent nothing.
    pub fn shows_clock(&self) -> bool {
        self.visible()
            .into_iter()
            .any(|t| matches!(t, Tab::Dashboard | Tab::Audit))
    }
}
