//! A version conflict an editor met (issue 20): a save found the node at a newer version
//! (another console, SSH, the CLI). The view shows the three texts — what the edit started from
//! (base), what was saved meanwhile (theirs) and what is on screen (mine) — as two diffs
//! against the base, and offers: take theirs, keep mine (overwrite, explicitly), merge (the
//! domain's three-way merge: separate changes applied, overlaps marked in the body for the
//! user to settle), or save mine as a copy with every translation. Mine stays in the editor
//! until one of those is chosen; Esc goes back to editing it.
//!
//! Also the "changed underneath" marker: a node event of another version than the editor's,
//! seen on the live stream while the editor is open, with who and when.

use super::Ctx;
use super::editor::NodeEditor;
use super::translate::TranslationEditor;
use crate::action::Action;
use crate::keymap::Context;
use crate::theme::Theme;
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use rustok_domain::content::diff::{LineOp, NO_NEWLINE_MARKER, diff_text};
use rustok_domain::content::merge::{MergedTranslation, TranslationText, merge_translation};
use rustok_domain::content::{BodyFormat, Node, RevisionContent, Translation};
use rustok_domain::event::EventEnvelope;
use rustok_domain::text::printable;
use rustok_domain::{Command, Locale, NodeId};

/// Someone else's save of the node an editor has open, seen on the live event stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Underneath {
    pub version: i64,
    pub actor: String,
    pub at: DateTime<Utc>,
}

impl Underneath {
    /// The marker for `e` if it is a change of node `id` past version `base` (an editor's own
    /// save is answered with its version first, so it never marks itself).
    pub fn from_event(e: &EventEnvelope, id: NodeId, base: i64) -> Option<Underneath> {
        if e.aggregate_type != "node" || e.aggregate_id != id.as_uuid() {
            return None;
        }
        let version = e.payload.get("version")?.as_i64()?;
        (version > base).then(|| Underneath {
            version,
            actor: e.actor.clone(),
            at: e.occurred_at,
        })
    }

    pub fn text(&self) -> String {
        format!(
            " ⚠ changed underneath: v{} by {} at {} ",
            self.version,
            printable(&self.actor),
            self.at.format("%H:%M:%S")
        )
    }

    /// Draws the marker on the top border of an editor at `area`, right-aligned.
    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let text = self.text();
        let w = (text.chars().count() as u16).min(area.width.saturating_sub(2));
        if w == 0 {
            return;
        }
        let at = Rect::new(area.x + area.width - 1 - w, area.y, w, 1);
        frame.render_widget(Paragraph::new(text).style(theme.warning()), at);
    }
}

pub fn text_of(t: &Translation) -> TranslationText {
    TranslationText {
        title: t.title.clone(),
        slug: t.slug.clone(),
        excerpt: t.excerpt.clone().unwrap_or_default(),
        body: t.body.clone(),
        format: t.format,
    }
}

fn content_of(locale: &Locale, t: &TranslationText) -> RevisionContent {
    RevisionContent {
        locale: locale.clone(),
        title: t.title.clone(),
        slug: t.slug.clone(),
        excerpt: (!t.excerpt.trim().is_empty()).then(|| t.excerpt.clone()),
        body: t.body.clone(),
        format: t.format,
    }
}

fn empty(format: BodyFormat) -> TranslationText {
    TranslationText {
        title: String::new(),
        slug: String::new(),
        excerpt: String::new(),
        body: String::new(),
        format,
    }
}

/// The conflict view over an editor.
#[derive(Debug, Clone, PartialEq)]
pub struct ConflictView {
    /// The store's refusal ("version conflict on node: expected 3, found 4").
    pub message: String,
    pub locale: Locale,
    pub base: TranslationText,
    pub mine: TranslationText,
    /// The node as saved meanwhile (None until it is loaded).
    pub theirs: Option<Node>,
    /// Who saved it, when the live stream said so.
    pub by: Option<Underneath>,
    pub scroll: usize,
}

impl ConflictView {
    pub fn new(
        message: String,
        locale: Locale,
        base: TranslationText,
        mine: TranslationText,
        by: Option<Underneath>,
    ) -> ConflictView {
        ConflictView {
            message,
            locale,
            base,
            mine,
            theirs: None,
            by,
            scroll: 0,
        }
    }

    /// Their text of the conflicting locale (empty when they have none).
    pub fn theirs_text(&self) -> Option<TranslationText> {
        let n = self.theirs.as_ref()?;
        Some(
            n.translation(&self.locale)
                .map(text_of)
                .unwrap_or_else(|| empty(self.base.format)),
        )
    }

    /// The three-way merge of the texts (once theirs is loaded).
    pub fn merged(&self) -> Option<MergedTranslation> {
        Some(merge_translation(
            &self.base,
            &self.theirs_text()?,
            &self.mine,
        ))
    }

    /// "Save mine as a copy": a new draft of the node with every translation, mine in place
    /// of this locale.
    pub fn copy_command(&self, from: NodeId) -> Command {
        Command::CopyNode {
            id: NodeId::new_v7(),
            from,
            mine: Some(content_of(&self.locale, &self.mine)),
        }
    }

    /// The one-line summary of a merge for the status line.
    pub fn merge_note(m: &MergedTranslation, theirs: &TranslationText) -> String {
        if m.is_clean() {
            return "merged: their changes and yours are combined — review and save (Ctrl-S)"
                .into();
        }
        let mut parts = Vec::new();
        if m.body_conflicts > 0 {
            parts.push(format!(
                "{} overlapping change(s) marked in the body (<<<<<<< mine … ======= … >>>>>>> theirs)",
                m.body_conflicts
            ));
        }
        for f in &m.conflicting_fields {
            let theirs = match *f {
                "title" => theirs.title.clone(),
                "slug" => theirs.slug.clone(),
                "excerpt" => theirs.excerpt.clone(),
                _ => theirs.format.to_string(),
            };
            parts.push(format!(
                "{f} kept yours (theirs: “{}”)",
                rustok_domain::text::excerpt(&theirs, 40)
            ));
        }
        format!("merged with conflicts: {}", parts.join("; "))
    }

    fn side_lines(&self, side: &TranslationText, theme: &Theme) -> Vec<Line<'static>> {
        let fields: [(&str, &str, &str); 5] = [
            ("title", &self.base.title, &side.title),
            ("slug", &self.base.slug, &side.slug),
            ("excerpt", &self.base.excerpt, &side.excerpt),
            ("format", self.base.format.as_str(), side.format.as_str()),
            ("body", &self.base.body, &side.body),
        ];
        let mut out = Vec::new();
        for (name, base, new) in fields {
            let hunks = diff_text(base, new);
            if hunks.is_empty() {
                continue;
            }
            out.push(Line::styled(format!("── {name} "), theme.title()));
            for h in hunks {
                out.push(Line::styled(h.header(), theme.key()));
                let mark = h.newline_differs();
                for l in h.lines {
                    let style = match l.op {
                        LineOp::Context => theme.base(),
                        LineOp::Removed => theme.error(),
                        LineOp::Added => theme.success(),
                    };
                    out.push(Line::styled(
                        format!("{}{}", l.op.sign(), printable(&l.text)),
                        style,
                    ));
                    // A final newline added or removed is a change: marked as a unified
                    // diff marks it (only then: both sides without one is no news).
                    if mark && l.no_newline {
                        out.push(Line::styled(NO_NEWLINE_MARKER, theme.muted()));
                    }
                }
            }
        }
        if out.is_empty() {
            out.push(Line::styled("no changes since the base", theme.muted()));
        }
        out
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        frame.render_widget(Clear, area);
        let block = Block::bordered()
            .border_style(theme.border(true))
            .title(Line::styled(
                format!(" Version conflict [{}] ", self.locale),
                theme.title(),
            ));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let [head, body, foot] = Layout::vertical([
            Constraint::Length(2),
            Constraint::Fill(1),
            Constraint::Length(1),
        ])
        .areas(inner);
        let who = match (&self.theirs, &self.by) {
            (Some(n), Some(u)) if u.version == n.version => format!(
                "saved as version {} by {} at {}",
                n.version,
                printable(&u.actor),
                u.at.format("%Y-%m-%d %H:%M:%S")
            ),
            (Some(n), _) => format!(
                "saved as version {} at {}",
                n.version,
                n.updated_at.format("%Y-%m-%d %H:%M:%S")
            ),
            (None, _) => "loading their version…".into(),
        };
        frame.render_widget(
            Paragraph::new(vec![
                Line::from(vec![
                    Span::styled("Someone else saved this node: ", theme.warning()),
                    Span::raw(who),
                ]),
                Line::styled(
                    format!(
                        "{} — your text is kept until you choose.",
                        printable(&self.message)
                    ),
                    theme.muted(),
                ),
            ]),
            head,
        );
        let [l, r] = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
            .areas(body);
        let theirs = self.theirs_text();
        let left = match &theirs {
            Some(t) => self.side_lines(t, theme),
            None => vec![Line::styled("loading…", theme.muted())],
        };
        let right = self.side_lines(&self.mine, theme);
        let scroll = u16::try_from(self.scroll).unwrap_or(u16::MAX);
        frame.render_widget(
            Paragraph::new(left).scroll((scroll, 0)).block(
                Block::bordered()
                    .border_style(theme.border(false))
                    .title(" Theirs (changes since your base) "),
            ),
            l,
        );
        frame.render_widget(
            Paragraph::new(right).scroll((scroll, 0)).block(
                Block::bordered()
                    .border_style(theme.border(false))
                    .title(" Mine (changes since your base) "),
            ),
            r,
        );
        frame.render_widget(
            Paragraph::new(
                "t take theirs · o keep mine (overwrite) · m merge · c save mine as a copy · Esc keep editing",
            )
            .style(theme.muted()),
            foot,
        );
    }
}

/// What the node editor needs for conflicts (kept beside the editor's own code).
/// What a key in the conflict view leaves to the editor pane under it: the decision both
/// editors (Content, Translations) share is [`conflict_key`]; what is left touches the pane's
/// own editor.
#[derive(Debug, Clone, PartialEq)]
pub enum ConflictStep {
    /// Nothing left to do: the view scrolled, closed, said "loading their version…", or
    /// the key was refused or unused.
    Done,
    /// `t`: ask before dropping mine for their version `n` (the view stays open).
    TakeTheirs(i64),
    /// `o`: save mine over theirs — rebased on this node; the body is settled and the view
    /// closed.
    KeepMine(Node),
    /// `m`: put this merge of theirs into mine in the editor; the view is closed and the note
    /// said (an error while overlaps are marked).
    Merge(MergedTranslation, Node),
    /// `c`: send this copy (mine as a new draft); the view is closed.
    SaveCopy(Command),
}

/// A key in the conflict view over an editor whose body is `body`: scrolls, closes (Esc) or
/// decides what the key asks of the pane ([`ConflictStep`]). A refused action (read-only,
/// the role) and an unsettled body (`o` while conflict markers remain) stop here with the
/// reason said; a choice made before their version is loaded says it is loading.
pub fn conflict_key(
    view: &mut Option<ConflictView>,
    key: &KeyEvent,
    body: &str,
    ctx: &mut Ctx,
) -> ConflictStep {
    let action = ctx.keymap.lookup(Context::Conflict, key);
    if let Some(a) = action
        && ctx.refuses(a)
    {
        return ConflictStep::Done;
    }
    let Some(c) = view else {
        return ConflictStep::Done;
    };
    let theirs = c.theirs.clone();
    match (action, theirs) {
        (Some(Action::Up), _) => c.scroll = c.scroll.saturating_sub(1),
        (Some(Action::Down), _) => c.scroll = c.scroll.saturating_add(1),
        (Some(Action::Back), _) => {
            *view = None;
            ctx.info("still editing; your text is kept (saving will meet their version again)");
        }
        (Some(Action::TakeTheirs), Some(n)) => return ConflictStep::TakeTheirs(n.version),
        (Some(Action::KeepMine), Some(n)) => {
            if super::content::refuse_unsettled(body, ctx) {
                return ConflictStep::Done;
            }
            *view = None;
            return ConflictStep::KeepMine(n);
        }
        (Some(Action::Merge), Some(n)) => {
            let (Some(merged), Some(theirs_text)) = (c.merged(), c.theirs_text()) else {
                return ConflictStep::Done;
            };
            let note = ConflictView::merge_note(&merged, &theirs_text);
            let clean = merged.is_clean();
            *view = None;
            if clean {
                ctx.info(note);
            } else {
                ctx.error(note);
            }
            return ConflictStep::Merge(merged, n);
        }
        (Some(Action::SaveCopy), Some(n)) => {
            let command = c.copy_command(n.id);
            *view = None;
            return ConflictStep::SaveCopy(command);
        }
        (Some(Action::TakeTheirs | Action::KeepMine | Action::Merge | Action::SaveCopy), None) => {
            ctx.info("loading their version…")
        }
        _ => {}
    }
    ConflictStep::Done
}

impl NodeEditor {
    /// What is on screen, as the merge sees it.
    pub fn mine(&self) -> TranslationText {
        TranslationText {
            title: self.title.text(),
            slug: self.slug.text().trim().to_string(),
            excerpt: self.excerpt.text(),
            body: self.body.text(),
            format: self.format,
        }
    }

    /// The text this edit started from (empty for a draft never saved).
    pub fn base_text(&self) -> TranslationText {
        self.base.clone().unwrap_or_else(|| empty(self.format))
    }

    /// Puts the merge of mine and `theirs` on screen, now based on their version: saving it
    /// replaces theirs (after the user settled the marked overlaps).
    pub fn apply_merge(&mut self, merged: &MergedTranslation, theirs: &Node) {
        let v = &merged.value;
        self.title.set_text(&v.title);
        self.slug.set_text(&v.slug);
        self.excerpt.set_text(&v.excerpt);
        self.body.set_text(&v.body);
        self.format = v.format;
        self.rebase(theirs);
        self.dirty = true;
    }

    /// Mine stays on screen, now based on `theirs` (keep mine: the next save overwrites it).
    pub fn rebase(&mut self, theirs: &Node) {
        self.base_version = Some(theirs.version);
        self.status = Some(theirs.status);
        self.base = theirs.translation(&self.locale).map(text_of);
    }
}

/// What the translation editor needs for conflicts.
impl TranslationEditor {
    pub fn mine(&self) -> TranslationText {
        let base = self.base_text();
        TranslationText {
            title: self.title.text(),
            excerpt: self.excerpt.text(),
            body: self.body.text(),
            ..base
        }
    }

    /// The target locale's text when the editor opened (empty for a new translation).
    pub fn base_text(&self) -> TranslationText {
        self.node
            .translation(&self.target)
            .map(text_of)
            .unwrap_or_else(|| empty(self.node.source().format))
    }

    pub fn apply_merge(&mut self, merged: &MergedTranslation, theirs: Node) {
        let v = &merged.value;
        self.title.set_text(&v.title);
        self.excerpt.set_text(&v.excerpt);
        self.body.set_text(&v.body);
        self.node = theirs;
        self.dirty = true;
    }
}
