//! The board's filter (`/`): orders whose customer, a line's SKU or id contains the text. The
//! store filters (every column's count is of the matching orders); the filter is bounded to
//! [`MAX_ORDER_FILTER_CHARS`] characters as it is typed.

use crate::theme::Theme;
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use rustok_domain::read::MAX_ORDER_FILTER_CHARS;
use rustok_domain::text::printable;

/// The filter line over the board.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BoardFilter {
    text: String,
    /// Keys go to the text (else the filter only shows, and `/` edits it again).
    pub editing: bool,
}

/// What a key did to the filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterKey {
    /// The text changed: the board asks the store again.
    Changed,
    /// Typing stopped (Enter): the filter stays.
    Done,
    /// Esc: the filter is gone.
    Cleared,
    /// Refused (the text is at its limit) or nothing to do.
    Full,
    Unchanged,
}

impl BoardFilter {
    pub fn editing() -> BoardFilter {
        BoardFilter {
            text: String::new(),
            editing: true,
        }
    }

    /// The text the store is asked for (trimmed).
    pub fn query(&self) -> &str {
        self.text.trim()
    }

    pub fn key(&mut self, key: KeyEvent) -> FilterKey {
        match key.code {
            KeyCode::Esc => FilterKey::Cleared,
            KeyCode::Enter => {
                self.editing = false;
                FilterKey::Done
            }
            KeyCode::Backspace => match self.text.pop() {
                Some(_) => FilterKey::Changed,
                None => FilterKey::Unchanged,
            },
            KeyCode::Char(c)
                if !key
                    .modifiers
                    .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
                    && !c.is_control() =>
            {
                self.push(&c.to_string())
            }
            _ => FilterKey::Unchanged,
        }
    }

    /// Pasted text, on one line, up to the limit.
    pub fn paste(&mut self, text: &str) -> FilterKey {
        let one_line: String = text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        self.push(&one_line)
    }

    fn push(&mut self, text: &str) -> FilterKey {
        let room = MAX_ORDER_FILTER_CHARS.saturating_sub(self.text.chars().count());
        if room == 0 {
            return FilterKey::Full;
        }
        self.text.extend(text.chars().take(room));
        FilterKey::Changed
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let mut spans = vec![
            Span::styled(" / ", theme.key()),
            Span::raw(printable(&self.text)),
        ];
        if self.editing {
            spans.push(Span::styled("▏", theme.key()));
            spans.push(Span::styled(
                "  customer, SKU or id · Enter keeps · Esc clears",
                theme.muted(),
            ));
        } else {
            spans.push(Span::styled("  (/ edits · Esc clears)", theme.muted()));
        }
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ch(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    #[test]
    fn typing_is_bounded_and_enter_keeps_it() {
        let mut f = BoardFilter::editing();
        assert_eq!(f.key(ch('a')), FilterKey::Changed);
        assert_eq!(f.paste(&"x\ny".repeat(100)), FilterKey::Changed);
        assert_eq!(f.query().chars().count(), MAX_ORDER_FILTER_CHARS);
        assert!(!f.query().contains('\n'));
        assert_eq!(f.key(ch('z')), FilterKey::Full);
        assert_eq!(
            f.key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
            FilterKey::Unchanged
        );
        assert_eq!(
            f.key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
            FilterKey::Done
        );
        assert!(!f.editing);
        assert_eq!(
            f.key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)),
            FilterKey::Cleared
        );
    }
}
