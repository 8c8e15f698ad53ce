//! The node editor: title, slug, excerpt and a real text editor for the body, with kind,
//! locale and format. Saving goes through the action queue; on any error the text stays.

use crate::theme::Theme;
use crate::widgets::field::Field;
use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use rustok_domain::content::{BodyFormat, Node, NodeDraft, NodeKind, NodePatch, NodeStatus};
use rustok_domain::{Command, DomainError, Locale, NodeId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditorField {
    Title,
    Slug,
    Excerpt,
    Body,
}

const ORDER: [EditorField; 4] = [
    EditorField::Title,
    EditorField::Slug,
    EditorField::Excerpt,
    EditorField::Body,
];

#[derive(Debug, Clone)]
pub struct NodeEditor {
    /// `None` for a draft not saved yet.
    pub node_id: Option<NodeId>,
    /// The version this edit is based on (optimistic locking).
    pub base_version: Option<i64>,
    pub status: Option<NodeStatus>,
    pub kind: NodeKind,
    pub locale: Locale,
    pub format: BodyFormat,
    pub title: Field,
    pub slug: Field,
    pub excerpt: Field,
    pub body: Field,
    pub focus: EditorField,
    pub dirty: bool,
    pub saving: bool,
    /// The stored text this edit started from (the base of a three-way merge; `None` for a
    /// draft never saved).
    pub base: Option<rustok_domain::content::merge::TranslationText>,
}

impl NodeEditor {
    pub fn new_draft(kind: NodeKind, locale: Locale) -> NodeEditor {
        NodeEditor {
            node_id: None,
            base_version: None,
            status: None,
            kind,
            locale,
            format: BodyFormat::Markdown,
            title: Field::new("Title", "", false),
            slug: Field::new("Slug", "", false),
            excerpt: Field::new("Excerpt", "", false),
            body: Field::new("Body", "", true),
            focus: EditorField::Title,
            dirty: false,
            saving: false,
            base: None,
        }
    }

    /// Opens a node in `locale` (its source locale when `None` or missing).
    pub fn from_node(node: &Node, locale: Option<&Locale>) -> NodeEditor {
        let t = locale
            .and_then(|l| node.translation(l))
            .unwrap_or_else(|| node.source());
        NodeEditor {
            node_id: Some(node.id),
            base_version: Some(node.version),
            status: Some(node.status),
            kind: node.kind,
            locale: t.locale.clone(),
            format: t.format,
            title: Field::new("Title", &t.title, false),
            slug: Field::new("Slug", &t.slug, false),
            excerpt: Field::new("Excerpt", t.excerpt.as_deref().unwrap_or(""), false),
            body: Field::new("Body", &t.body, true),
            focus: EditorField::Body,
            dirty: false,
            saving: false,
            base: Some(super::conflict::text_of(t)),
        }
    }

    pub fn field_mut(&mut self, f: EditorField) -> &mut Field {
        match f {
            EditorField::Title => &mut self.title,
            EditorField::Slug => &mut self.slug,
            EditorField::Excerpt => &mut self.excerpt,
            EditorField::Body => &mut self.body,
        }
    }

    pub fn input(&mut self, key: KeyEvent) {
        if key.code == ratatui::crossterm::event::KeyCode::Enter && self.focus != EditorField::Body
        {
            self.next_field();
            return;
        }
        let focus = self.focus;
        if self.field_mut(focus).input(key) {
            self.dirty = true;
        }
    }

    pub fn paste(&mut self, text: &str) {
        let focus = self.focus;
        if self.field_mut(focus).paste(text) {
            self.dirty = true;
        }
    }

    pub fn next_field(&mut self) {
        let i = ORDER.iter().position(|f| *f == self.focus).unwrap_or(0);
        self.focus = ORDER[(i + 1) % ORDER.len()];
    }

    pub fn prev_field(&mut self) {
        let i = ORDER.iter().position(|f| *f == self.focus).unwrap_or(0);
        self.focus = ORDER[(i + ORDER.len() - 1) % ORDER.len()];
    }

    pub fn cycle_format(&mut self) {
        let all = BodyFormat::ALL;
        let i = all.iter().position(|f| *f == self.format).unwrap_or(0);
        self.format = all[(i + 1) % all.len()];
        self.dirty = true;
    }

    /// Kind can only be chosen before the first save.
    pub fn cycle_kind(&mut self) -> bool {
        if self.node_id.is_some() {
            return false;
        }
        let all = NodeKind::ALL;
        let i = all.iter().position(|k| *k == self.kind).unwrap_or(0);
        self.kind = all[(i + 1) % all.len()];
        true
    }

    fn slug_text(&self) -> Option<String> {
        let s = self.slug.text().trim().to_string();
        (!s.is_empty()).then_some(s)
    }

    /// The command that saves what is on screen.
    pub fn save_command(&self) -> Command {
        match self.node_id {
            None => Command::CreateNode(NodeDraft {
                id: NodeId::new_v7(),
                kind: self.kind,
                locale: self.locale.clone(),
                title: self.title.text(),
                slug: self.slug_text(),
                excerpt: Some(self.excerpt.text()),
                body: self.body.text(),
                format: self.format,
            }),
            Some(id) => Command::UpdateNode {
                id,
                patch: NodePatch {
                    locale: Some(self.locale.clone()),
                    title: Some(self.title.text()),
                    slug: self.slug_text(),
                    excerpt: Some(self.excerpt.text()),
                    body: Some(self.body.text()),
                    format: Some(self.format),
                },
                expected_version: self.base_version,
            },
        }
    }

    /// Shows a refusal beside the field it concerns. Returns false when it concerns no field.
    pub fn show_error(&mut self, err: &DomainError) -> bool {
        let field = match err {
            DomainError::Validation { field, .. } => match *field {
                "title" => Some(EditorField::Title),
                "slug" => Some(EditorField::Slug),
                "excerpt" => Some(EditorField::Excerpt),
                "body" => Some(EditorField::Body),
                _ => None,
            },
            DomainError::Duplicate { what } if what.starts_with("slug") => Some(EditorField::Slug),
            _ => None,
        };
        let Some(f) = field else { return false };
        let message = match err {
            DomainError::Validation { message, .. } => message.clone(),
            other => other.to_string(),
        };
        self.field_mut(f).error = Some(message);
        self.focus = f;
        true
    }

    pub fn clear_errors(&mut self) {
        for f in ORDER {
            self.field_mut(f).error = None;
        }
    }

    /// The save came back: this is now the node as stored.
    pub fn saved(&mut self, node: &Node) {
        self.node_id = Some(node.id);
        self.base_version = Some(node.version);
        self.status = Some(node.status);
        self.saving = false;
        self.dirty = false;
        self.clear_errors();
        if let Some(t) = node.translation(&self.locale)
            && self.slug.text() != t.slug
        {
            self.slug.set_text(&t.slug); // the slug derived from the title
        }
        self.base = node.translation(&self.locale).map(super::conflict::text_of);
    }

    pub fn restyle(&mut self, theme: &Theme) {
        let focus = self.focus;
        for f in ORDER {
            self.field_mut(f).restyle(theme, f == focus);
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let heading = match (self.node_id, self.status, self.base_version) {
            (Some(id), Some(status), Some(v)) => {
                let short = crate::widgets::node_list::short_id(id.as_uuid());
                format!(" Edit {} …{} — {}, v{} ", self.kind, short, status, v)
            }
            _ => format!(" New {} ", self.kind),
        };
        let mut title = vec![Span::styled(heading, theme.title())];
        if self.dirty {
            title.push(Span::styled("● unsaved ", theme.warning()));
        }
        if self.saving {
            title.push(Span::styled("saving… ", theme.key()));
        }
        let block = Block::bordered()
            .border_style(theme.border(true))
            .title(Line::from(title));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let [title_row, slug_row, excerpt_row, meta_row, body] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Fill(1),
        ])
        .areas(inner);
        self.title
            .draw(frame, title_row, theme, self.focus == EditorField::Title);
        self.slug
            .draw(frame, slug_row, theme, self.focus == EditorField::Slug);
        self.excerpt.draw(
            frame,
            excerpt_row,
            theme,
            self.focus == EditorField::Excerpt,
        );
        let kind_hint = if self.node_id.is_none() {
            " (Ctrl-T)"
        } else {
            ""
        };
        let meta = Line::from(vec![
            Span::styled("Kind     ", theme.muted()),
            Span::raw(format!("{}{kind_hint}", self.kind)),
            Span::styled("   Locale ", theme.muted()),
            Span::raw(self.locale.to_string()),
            Span::styled("   Format ", theme.muted()),
            Span::raw(format!("{} (Ctrl-O)", self.format)),
            Span::styled(
                if self.slug.text().trim().is_empty() {
                    "   slug: derived from the title on save"
                } else {
                    ""
                },
                theme.muted(),
            ),
        ]);
        frame.render_widget(Paragraph::new(meta), meta_row);
        self.body
            .draw(frame, body, theme, self.focus == EditorField::Body);
    }
}
