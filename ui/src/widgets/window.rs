//! A virtualized window over a long list held by the store: it keeps the rows around what is
//! visible and says which rows to load next as the selection moves. One request at a time;
//! a change marks it stale and it reloads when the request in flight returns.

use rustok_domain::read::Page;

#[derive(Debug, Clone)]
pub struct Window<T> {
    page: Page<T>,
    loaded: bool,
    selected: u64,
    top: u64,
    pub loading: bool,
    stale: bool,
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
        }
    }
}

impl<T> Window<T> {
    pub fn total(&self) -> u64 {
        self.page.total
    }

    pub fn is_loaded(&self) -> bool {
        self.loaded
    }

    pub fn selected_index(&self) -> u64 {
        self.selected
    }

    pub fn top(&self) -> u64 {
        self.top
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
        if total == 0 {
            self.selected = 0;
            self.top = 0;
        } else if self.selected >= total {
            self.selected = total - 1;
        }
        self.top = self.top.min(self.selected);
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
        let h = u64::from(height.max(1));
        if self.selected < self.top {
            self.top = self.selected;
        } else if self.selected >= self.top + h {
            self.top = self.selected + 1 - h;
        }
    }

    /// The indices to draw for a view `height` rows tall.
    pub fn visible(&self, height: u16) -> std::ops::Range<u64> {
        self.top..(self.top + u64::from(height)).min(self.total())
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
}
