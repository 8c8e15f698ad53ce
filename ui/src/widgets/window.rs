//! A virtualized window over a long list held by the store: it keeps the rows around what is
//! visible and says which rows to load next as the selection moves. One request at a time;
//! a change marks it stale and it reloads when the request in flight returns.

//!
//! The selection is pinned to the selected row's id, not its position: when a reload brings
//! the rows back inserted, deleted or re-sorted, the same item stays selected; if it is gone,
//! the row now at its place (the nearest neighbour) is selected and `take_lost` says so.

use rustok_domain::read::{NodeSummary, Page, StockRow};

/// A row with an identity that survives re-sorting.
pub trait Keyed {
    fn key(&self) -> uuid::Uuid;
}

impl Keyed for NodeSummary {
    fn key(&self) -> uuid::Uuid {
        self.id.as_uuid()
    }
}

impl Keyed for StockRow {
    fn key(&self) -> uuid::Uuid {
        self.variant_id.as_uuid()
    }
}

impl Keyed for rustok_domain::audit::AuditLogEntry {
    fn key(&self) -> uuid::Uuid {
        uuid::Uuid::from_u64_pair(0, self.seq as u64)
    }
}

impl Keyed for u64 {
    fn key(&self) -> uuid::Uuid {
        uuid::Uuid::from_u64_pair(0, *self)
    }
}

#[derive(Debug, Clone)]
pub struct Window<T> {
    page: Page<T>,
    loaded: bool,
    selected: u64,
    top: u64,
    pub loading: bool,
    stale: bool,
    /// The id of the selected row (once it has been seen).
    pinned: Option<uuid::Uuid>,
    /// The pinned row that disappeared on the last reload.
    lost: Option<uuid::Uuid>,
}

impl<T> Default for Window<T> {
    fn default() -> Self {
        Self {
            page: Page::empty(),
            loaded: false,
            selected: 0,
            top: 0,
            loading: false,
            stale: false,
            pinned: None,
            lost: None,
        }
    }
}

impl<T: Keyed> Window<T> {
    pub fn total(&self) -> u64 {
        self.page.total
    }

    pub fn is_loaded(&self) -> bool {
        self.loaded
    }

    pub fn selected_index(&self) -> u64 {
        self.selected
    }

    /// `(offset, limit)` of the rows needed to show `height` rows around the selection, if
    /// the loaded rows do not cover them (a screen of margin either way). Marks it loading.
    pub fn needs(&mut self, height: u16) -> Option<(u64, u64)> {
        if self.loading {
            return None;
        }
        let h = u64::from(height.max(1));
        let need_end = (self.top + h).min(self.page.total.max(h));
        let have_end = self.page.offset + self.page.rows.len() as u64;
        let covered = self.loaded
            && !self.stale
            && self.top >= self.page.offset
            && (need_end <= have_end || have_end >= self.page.total);
        if covered {
            return None;
        }
        self.loading = true;
        self.stale = false;
        Some((self.top.saturating_sub(h), h * 3))
    }

    pub fn invalidate(&mut self) {
        self.stale = true;
    }

    pub fn on_page(&mut self, page: Page<T>) {
        self.loading = false;
        self.loaded = true;
        self.page = page;
        let total = self.page.total;
        if let Some(pin) = self.pinned {
            match self.page.rows.iter().position(|r| r.key() == pin) {
                Some(i) => {
                    // The same item, wherever it is now; the view keeps its place on screen.
                    let at = self.page.offset + i as u64;
                    let screen = self.selected.saturating_sub(self.top);
                    self.top = at.saturating_sub(screen);
                    self.selected = at;
                }
                // Gone, if the page holds every row it could be in: its neighbour is
                // selected (the same position). Beyond the loaded rows it may only have
                // moved: the position is kept until it is seen.
                None if self.page.offset <= self.selected.saturating_sub(1)
                    && self.page.offset + self.page.rows.len() as u64
                        >= (self.selected + 2).min(total) =>
                {
                    self.lost = Some(pin);
                    self.pinned = None;
                }
                None => {}
            }
        }
        if total == 0 {
            self.selected = 0;
            self.top = 0;
        } else if self.selected >= total {
            self.selected = total - 1;
        }
        self.top = self.top.min(self.selected);
        if self.pinned.is_none() {
            self.pinned = self.selected().map(Keyed::key);
        }
    }

    /// The pinned row that was gone on the last reload (once; the pane says so).
    pub fn take_lost(&mut self) -> Option<uuid::Uuid> {
        self.lost.take()
    }

    /// A new filter: back to the top, asked again, the selection still pinned to its row's
    /// id (selected again where the filtered rows bring it).
    pub fn refilter(&mut self) {
        self.top = 0;
        self.selected = 0;
        self.lost = None;
        self.stale = true;
    }

    /// Selects the row with this id once a reload brings it (a node just created, say).
    pub fn pin(&mut self, key: uuid::Uuid) {
        self.pinned = Some(key);
        self.stale = true;
    }

    /// Selects the first loaded row that `f` accepts.
    pub fn select_where(&mut self, f: impl Fn(&T) -> bool, height: u16) -> bool {
        match self.page.rows.iter().position(f) {
            Some(i) => {
                let at = self.page.offset + i as u64;
                self.select(at, height);
                true
            }
            None => false,
        }
    }

    pub fn on_failed(&mut self) {
        self.loading = false;
    }

    pub fn row(&self, index: u64) -> Option<&T> {
        let i = index.checked_sub(self.page.offset)?;
        self.page.rows.get(i as usize)
    }

    pub fn selected(&self) -> Option<&T> {
        self.row(self.selected)
    }

    pub fn move_by(&mut self, delta: i64, height: u16) {
        let total = self.total();
        if total == 0 {
            return;
        }
        let next = (self.selected as i64)
            .saturating_add(delta)
            .clamp(0, total as i64 - 1) as u64;
        self.select(next, height);
    }

    pub fn select(&mut self, index: u64, height: u16) {
        let total = self.total();
        if total == 0 {
            return;
        }
        self.selected = index.min(total - 1);
        self.pinned = self.selected().map(Keyed::key);
        let h = u64::from(height.max(1));
        if self.selected < self.top {
            self.top = self.selected;
        } else if self.selected >= self.top + h {
            self.top = self.selected + 1 - h;
        }
    }

    /// The indices to draw for a view `height` rows tall.
    pub fn visible(&self, height: u16) -> std::ops::Range<u64> {
        let top = self.top_within(height);
        top..(top + u64::from(height)).min(self.total())
    }

    /// The first row shown in `height` rows: the view's top, but never with rows hidden above
    /// while there is room below. (A row arriving above the pinned selection moves the view
    /// down with its row, so the selection keeps its line; when everything fits, every row is
    /// shown instead. The selection stays in view either way.)
    pub fn top_within(&self, height: u16) -> u64 {
        self.top
            .min(self.total().saturating_sub(u64::from(height.max(1))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(offset: u64, len: u64, total: u64) -> Page<u64> {
        Page {
            total,
            offset,
            rows: (offset..offset + len).collect(),
        }
    }

    #[test]
    fn windows_follow_the_selection() {
        let mut w: Window<u64> = Window::default();
        assert_eq!(w.needs(10), Some((0, 30)));
        assert_eq!(w.needs(10), None, "one request at a time");
        w.on_page(page(0, 30, 1_000_000));
        assert_eq!(w.needs(10), None);
        w.move_by(35, 10);
        assert_eq!(w.needs(10), Some((16, 30)));
        w.on_page(page(16, 30, 1_000_000));
        assert_eq!(w.selected(), Some(&35));
        w.select(u64::MAX, 10);
        assert_eq!(w.selected_index(), 999_999);
        assert_eq!(w.visible(10), 999_990..1_000_000);
        w.invalidate();
        assert!(w.needs(10).is_some(), "stale windows reload");
    }

    /// A row arriving above the pinned selection: when every row fits, every row is shown
    /// (the new one was hidden above the old ones on the order board); in a longer list the
    /// selection keeps its line on screen.
    #[test]
    fn a_row_arriving_above_the_selection_is_shown_when_everything_fits() {
        let rows = |keys: &[u64], total: u64| Page {
            total,
            offset: 0,
            rows: keys.to_vec(),
        };
        let mut w: Window<u64> = Window::default();
        w.needs(10);
        w.on_page(rows(&[1, 2], 2));
        w.select(0, 10);
        w.invalidate();
        w.needs(10);
        w.on_page(rows(&[99, 1, 2], 3));
        assert_eq!(w.selected(), Some(&1), "the selection follows its row");
        assert_eq!(w.visible(10), 0..3, "the new row is not hidden above");

        let mut w: Window<u64> = Window::default();
        w.needs(10);
        w.on_page(rows(&(1..=30).collect::<Vec<_>>(), 1_000));
        w.select(5, 10);
        w.invalidate();
        w.needs(10);
        let mut moved = vec![99];
        moved.extend(1..=29);
        w.on_page(rows(&moved, 1_001));
        assert_eq!(w.selected(), Some(&6));
        assert_eq!(w.visible(10), 1..11, "the selection keeps its line");
    }
}
