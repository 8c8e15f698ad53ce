//! The translation editor: the source locale read-only on the left, the target locale editable
//! on the right.

use crate::theme::Theme;
use crate::widgets::field::Field;
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};
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
}

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
            node,
            target,
            title: Field::new("Title", &title, false),
            excerpt: Field::new("Excerpt", &excerpt, false),
            body: Field::new("Body", &body, true),
            focus: TField::Title,
            dirty: false,
            saving: false,
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
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                .areas(area);
        let src = self.node.source();
        let mut lines = vec![
            Line::from(vec![
                Span::styled("Title    ", theme.muted()),
                Span::raw(printable(&src.title)),
            ]),
            Line::from(vec![
                Span::styled("Excerpt  ", theme.muted()),
                Span::raw(printable(src.excerpt.as_deref().unwrap_or(""))),
            ]),
            Line::raw(""),
        ];
        lines.extend(src.body.lines().map(|l| Line::raw(printable(l))));
        let locales: Vec<String> = self
            .node
            .translations
            .iter()
            .map(|t| t.locale.to_string())
            .collect();
        frame.render_widget(
            Paragraph::new(lines).wrap(Wrap { trim: false }).block(
                Block::bordered()
                    .border_style(theme.border(false))
                    .title(Line::from(vec![
                        Span::styled(format!(" Source {} ", src.locale), theme.title()),
                        Span::styled(
                            format!("read-only · has {} ", locales.join(", ")),
                            theme.muted(),
                        ),
                    ])),
            ),
            left,
        );
        let exists = self.node.translation(&self.target).is_some();
        let mut title = vec![
            Span::styled(format!(" Target {} ", self.target), theme.title()),
            Span::styled(
                if exists {
                    "editing existing · Ctrl-L next locale "
                } else {
                    "new translation · Ctrl-L next locale "
                },
                theme.muted(),
            ),
        ];
        if self.dirty {
            title.push(Span::styled("● unsaved ", theme.warning()));
        }
        let block = Block::bordered()
            .border_style(theme.border(true))
            .title(Line::from(title));
        let inner = block.inner(right);
        frame.render_widget(block, right);
        let [t, e, b] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Fill(1),
        ])
        .areas(inner);
        self.title
            .draw(frame, t, theme, self.focus == TField::Title);
        self.excerpt
            .draw(frame, e, theme, self.focus == TField::Excerpt);
        self.body.draw(frame, b, theme, self.focus == TField::Body);
    }
}
