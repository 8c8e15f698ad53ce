//! The translation editor: the source locale read-only on the left, the target locale editable
//! on the right.

use crate::theme::Theme;
use crate::widgets::field::{Field, style_view, wrapped_view};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui_textarea::TextArea;
use rustok_domain::content::{Node, TranslationInput};
use rustok_domain::text::printable;
use rustok_domain::{Command, DomainError, Locale};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TField {
    Title,
    Excerpt,
    Body,
}

#[derive(Debug, Clone)]
pub struct TranslationEditor {
    pub node: Node,
    pub target: Locale,
    pub title: Field,
    pub excerpt: Field,
    pub body: Field,
    pub focus: TField,
    pub dirty: bool,
    pub saving: bool,
    /// The source body, wrapped as the target body is (`field::wrapped_view`).
    source_body: TextArea<'static>,
    /// A locale code being typed to translate into (the add-locale prompt), if open.
    pub locale_prompt: Option<String>,
}

/// The longest locale code the add-locale prompt takes.
pub const MAX_LOCALE_INPUT: usize = 35;

impl TranslationEditor {
    /// Opens `node` for translation into `target` (prefilled when that locale exists).
    pub fn new(node: Node, target: Locale) -> TranslationEditor {
        let existing = node.translation(&target).cloned();
        let (title, excerpt, body) = match &existing {
            Some(t) => (
                t.title.clone(),
                t.excerpt.clone().unwrap_or_default(),
                t.body.clone(),
            ),
            None => Default::default(),
        };
        TranslationEditor {
            target,
            title: Field::new("Title", &title, false),
            excerpt: Field::new("Excerpt", &excerpt, false),
            body: Field::new("Body", &body, true),
            focus: TField::Title,
            dirty: false,
            saving: false,
            source_body: wrapped_view(&node_source_body(&node)),
            node,
            locale_prompt: None,
        }
    }

    /// The locale to translate into by default: the first of `wanted` the node lacks, else the
    /// first that is not its source.
    pub fn default_target(node: &Node, wanted: &[Locale]) -> Option<Locale> {
        wanted
            .iter()
            .find(|l| node.translation(l).is_none())
            .or_else(|| wanted.iter().find(|l| **l != node.source_locale))
            .cloned()
    }

    fn field_mut(&mut self, f: TField) -> &mut Field {
        match f {
            TField::Title => &mut self.title,
            TField::Excerpt => &mut self.excerpt,
            TField::Body => &mut self.body,
        }
    }

    pub fn input(&mut self, key: KeyEvent) {
        if key.code == KeyCode::Enter && self.focus != TField::Body {
            self.next_field();
            return;
        }
        let f = self.focus;
        if self.field_mut(f).input(key) {
            self.dirty = true;
        }
    }

    pub fn paste(&mut self, text: &str) {
        let f = self.focus;
        if self.field_mut(f).paste(text) {
            self.dirty = true;
        }
    }

    pub fn next_field(&mut self) {
        self.focus = match self.focus {
            TField::Title => TField::Excerpt,
            TField::Excerpt => TField::Body,
            TField::Body => TField::Title,
        };
    }

    pub fn prev_field(&mut self) {
        self.focus = match self.focus {
            TField::Title => TField::Body,
            TField::Excerpt => TField::Title,
            TField::Body => TField::Excerpt,
        };
    }

    pub fn save_command(&self) -> Command {
        Command::TranslateNode {
            id: self.node.id,
            input: TranslationInput {
                locale: self.target.clone(),
                title: self.title.text(),
                slug: None,
                excerpt: Some(self.excerpt.text()),
                body: Some(self.body.text()),
                format: None,
            },
            expected_version: Some(self.node.version),
        }
    }

    pub fn show_error(&mut self, err: &DomainError) -> bool {
        let f = match err {
            DomainError::Validation { field: "title", .. } => TField::Title,
            DomainError::Validation {
                field: "excerpt", ..
            } => TField::Excerpt,
            DomainError::Validation { field: "body", .. } => TField::Body,
            _ => return false,
        };
        if let DomainError::Validation { message, .. } = err {
            self.field_mut(f).error = Some(message.clone());
        }
        self.focus = f;
        true
    }

    pub fn saved(&mut self, node: Node) {
        if node.source().body != self.node.source().body {
            self.source_body = wrapped_view(&node.source().body);
        }
        self.node = node;
        self.dirty = false;
        self.saving = false;
        for f in [TField::Title, TField::Excerpt, TField::Body] {
            self.field_mut(f).error = None;
        }
    }

    pub fn restyle(&mut self, theme: &Theme) {
        let focus = self.focus;
        for f in [TField::Title, TField::Excerpt, TField::Body] {
            self.field_mut(f).restyle(theme, f == focus);
        }
        style_view(&mut self.source_body, theme, " Body ".to_string());
    }

    /// Opens the add-locale prompt (the key `add_locale`, Alt-N by default).
    pub fn open_locale_prompt(&mut self) {
        self.locale_prompt = Some(String::new());
    }

    /// A key while the add-locale prompt is open: `Some(code)` when Enter submits it, `None`
    /// otherwise (Esc closes the prompt). The code is bounded to [`MAX_LOCALE_INPUT`].
    pub fn locale_prompt_key(&mut self, key: KeyEvent) -> Option<String> {
        let text = self.locale_prompt.as_mut()?;
        match key.code {
            KeyCode::Esc => self.locale_prompt = None,
            KeyCode::Enter => return self.locale_prompt.take(),
            KeyCode::Backspace => {
                text.pop();
            }
            KeyCode::Char(c)
                if (c.is_ascii_alphanumeric() || c == '-' || c == '_')
                    && text.chars().count() < MAX_LOCALE_INPUT =>
            {
                text.push(c)
            }
            _ => {}
        }
        None
    }

    /// The two halves of the editor: equal widths, so the source body and the target body
    /// (each in the same bordered box under a title row and an excerpt row) wrap at the
    /// same width and line up (an odd column is left blank on the right).
    fn halves(area: Rect) -> (Rect, Rect) {
        let half = area.width / 2;
        let left = Rect {
            width: half,
            ..area
        };
        let right = Rect {
            x: area.x + half,
            width: half,
            ..area
        };
        (left, right)
    }

    /// The rows inside a half: title, excerpt, body.
    fn rows(inner: Rect) -> [Rect; 3] {
        Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Fill(1),
        ])
        .areas(inner)
    }

    /// The source half: title and excerpt rows, then the body wrapped as the target's.
    fn draw_source(&self, frame: &mut Frame, left: Rect, theme: &Theme) {
        let src = self.node.source();
        let locales: Vec<String> = self
            .node
            .translations
            .iter()
            .map(|t| t.locale.to_string())
            .collect();
        let block = Block::bordered()
            .border_style(theme.border(false))
            .title(Line::from(vec![
                Span::styled(format!(" Source {} ", src.locale), theme.title()),
                Span::styled(
                    format!("read-only · has {} ", locales.join(", ")),
                    theme.muted(),
                ),
            ]));
        let inner = block.inner(left);
        frame.render_widget(block, left);
        let [t, e, b] = Self::rows(inner);
        let row = |label: &'static str, text: &str| {
            Paragraph::new(Line::from(vec![
                Span::styled(format!("{label:<9}"), theme.muted()),
                Span::raw(printable(text)),
            ]))
        };
        frame.render_widget(row("Title", &src.title), t);
        frame.render_widget(row("Excerpt", src.excerpt.as_deref().unwrap_or("")), e);
        frame.render_widget(&self.source_body, b);
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let (left, right) = Self::halves(area);
        self.draw_source(frame, left, theme);
        let exists = self.node.translation(&self.target).is_some();
        let mut title = vec![
            Span::styled(format!(" Target {} ", self.target), theme.title()),
            Span::styled(
                if exists {
                    "existing · Ctrl-L next · Alt-N add "
                } else {
                    "new · Ctrl-L next · Alt-N add "
                },
                theme.muted(),
            ),
        ];
        if self.dirty {
            title.push(Span::styled("● unsaved ", theme.warning()));
        }
        if let Some(p) = &self.locale_prompt {
            title = vec![
                Span::styled(" Add a locale: ", theme.title()),
                Span::styled(format!("{p}▏"), theme.key()),
                Span::styled(" Enter open · Esc cancel ", theme.muted()),
            ];
        }
        let block = Block::bordered()
            .border_style(theme.border(true))
            .title(Line::from(title));
        let inner = block.inner(right);
        frame.render_widget(block, right);
        let [t, e, b] = Self::rows(inner);
        self.title
            .draw(frame, t, theme, self.focus == TField::Title);
        self.excerpt
            .draw(frame, e, theme, self.focus == TField::Excerpt);
        self.body.draw(frame, b, theme, self.focus == TField::Body);
    }
}

/// The source translation's body of `node`.
fn node_source_body(node: &Node) -> String {
    node.source().body.clone()
}
