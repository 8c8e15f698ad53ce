//! A labelled text field around ratatui-textarea: single-line (title, slug, excerpt) or
//! multi-line (body), with its validation message shown beside it.

use crate::theme::Theme;
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui_textarea::TextArea;

#[derive(Debug, Clone)]
pub struct Field {
    pub label: &'static str,
    pub multiline: bool,
    area: TextArea<'static>,
    pub error: Option<String>,
}

impl Field {
    pub fn new(label: &'static str, text: &str, multiline: bool) -> Field {
        let lines: Vec<String> = if multiline {
            text.split('\n').map(str::to_string).collect()
        } else {
            vec![text.replace(['\n', '\r'], " ")]
        };
        let mut area = TextArea::new(lines);
        if multiline {
            soft_wrap(&mut area);
        }
        area.set_cursor_line_style(Style::new());
        area.move_cursor(ratatui_textarea::CursorMove::Bottom);
        area.move_cursor(ratatui_textarea::CursorMove::End);
        Field {
            label,
            multiline,
            area,
            error: None,
        }
    }

    pub fn text(&self) -> String {
        self.area.lines().join("\n")
    }

    pub fn set_text(&mut self, text: &str) {
        *self = Field::new(self.label, text, self.multiline);
    }

    /// Sends a key to the text area; single-line fields ignore Enter (the caller moves on).
    /// Returns whether the text changed.
    pub fn input(&mut self, key: KeyEvent) -> bool {
        if !self.multiline && key.code == KeyCode::Enter {
            return false;
        }
        let before = self.area.lines().len();
        let changed = self.area.input(key);
        if !self.multiline && self.area.lines().len() != before {
            // Never let a single-line field grow a second line.
            let joined = self.area.lines().join(" ");
            self.set_text(&joined);
        }
        changed
    }

    pub fn paste(&mut self, text: &str) -> bool {
        let text = if self.multiline {
            text.replace("\r\n", "\n").replace('\r', "\n")
        } else {
            text.replace(['\n', '\r'], " ")
        };
        self.area.insert_str(text)
    }

    /// Applies theme, focus and the current error to the text area. Call after any of them
    /// changes; `draw` then only borrows (no per-frame copy of a large body).
    pub fn restyle(&mut self, theme: &Theme, focused: bool) {
        self.area.set_style(theme.base());
        self.area.set_cursor_style(if focused {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            Style::new()
        });
        if self.multiline {
            let label_style = if focused { theme.key() } else { theme.muted() };
            let mut title = vec![Span::styled(format!(" {} ", self.label), label_style)];
            if let Some(e) = &self.error {
                title.push(Span::styled(format!("✗ {e} "), theme.error()));
            }
            self.area.set_block(
                Block::bordered()
                    .border_style(theme.border(focused))
                    .title(Line::from(title)),
            );
        }
    }

    /// Renders label, text and error. Single-line fields take one row.
    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        if self.multiline {
            frame.render_widget(&self.area, area);
            return;
        }
        let label_style = if focused { theme.key() } else { theme.muted() };
        let [label, text, error] = Layout::horizontal([
            Constraint::Length(9),
            Constraint::Fill(3),
            Constraint::Fill(if self.error.is_some() { 2 } else { 0 }),
        ])
        .areas(area);
        frame.render_widget(Paragraph::new(self.label).style(label_style), label);
        frame.render_widget(&self.area, text);
        if let Some(e) = &self.error {
            frame.render_widget(
                Paragraph::new(format!(" ✗ {e}")).style(theme.error()),
                error,
            );
        }
    }
}

/// Soft-wrap of a multi-line field (a body): long lines wrap at word boundaries at render
/// time, a word wider than the field at the glyph (ratatui-textarea 0.9's `WrapMode`). The
/// text itself is unchanged: no newline is inserted. The translation editor's source pane
/// renders the source body through [`wrapped_view`] so both sides wrap the same way.
fn soft_wrap(area: &mut TextArea<'static>) {
    area.set_wrap_mode(ratatui_textarea::WrapMode::WordOrGlyph);
}

/// A read-only view of `text` wrapped exactly as a multi-line [`Field`] wraps (the same
/// widget and wrap mode), for a pane shown beside one. Control characters are shown escaped
/// (`text::printable`). Style it with [`style_view`]; no cursor is drawn.
pub fn wrapped_view(text: &str) -> TextArea<'static> {
    let mut area = TextArea::new(
        text.split('\n')
            .map(rustok_domain::text::printable)
            .collect(),
    );
    soft_wrap(&mut area);
    area.set_cursor_line_style(Style::new());
    area.move_cursor(ratatui_textarea::CursorMove::Top);
    area
}

/// Styles a [`wrapped_view`] like an unfocused multi-line field labelled `label`.
pub fn style_view(area: &mut TextArea<'static>, theme: &Theme, label: String) {
    area.set_style(theme.base());
    area.set_cursor_style(theme.base());
    area.set_block(
        Block::bordered()
            .border_style(theme.border(false))
            .title(Span::styled(label, theme.muted())),
    );
}

/// `s` cut to `max` characters, with an ellipsis when cut.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}
