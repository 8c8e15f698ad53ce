//! The Translations pane: the node list with the locale completeness beside it, and the
//! translation editor over it.

use super::conflict::{ConflictStep, ConflictView, Underneath, conflict_key};
use super::content::refuse_unsettled;
use super::content::{ListRoute, confirm_status, node_action, route_list_key, status_command};
use super::translate::TranslationEditor;
use super::{Bar, Ctx, Key, Pane};
use crate::action::Action;
use crate::keymap::Context;
use crate::msg::{Coverage, Failure, Query, QueryResult, RequestId};
use crate::theme::Theme;
use crate::widgets::node_list::{NodeList, group, percent};
use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use rustok_domain::content::NodeAction;
use rustok_domain::event::EventEnvelope;
use rustok_domain::read::{Applied, Outcome};
use rustok_domain::{Command, DomainError, Locale, NodeId};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
enum Pending {
    Window,
    Candidates,
    Open,
    Coverage,
    Translate,
    Transition(NodeAction),
    /// Issue 20: their version after a conflict; mine saved as a copy.
    Theirs,
    SaveCopy,
    /// The selected node, loaded to translate into a locale named with `:locale`.
    OpenIn(Locale),
}

#[derive(Debug, Clone, Default)]
pub struct TranslationsPane {
    pub list: NodeList,
    pub editor: Option<TranslationEditor>,
    /// How many nodes each locale covers (also shown on the dashboard).
    pub coverage: Option<Coverage>,
    /// A node changed since the coverage was counted.
    coverage_stale: bool,
    armed: Option<(Box<Command>, NodeAction)>,
    armed_close: bool,
    pending: BTreeMap<RequestId, Pending>,
    /// The version-conflict view over the translation editor (issue 20).
    pub conflict: Option<ConflictView>,
    /// Someone else's save of the node being translated, seen on the live stream.
    pub underneath: Option<(NodeId, Underneath)>,
    armed_take_theirs: bool,
}

impl TranslationsPane {
    /// Counts the locales again (unless a count is on its way; it then counts again after).
    pub fn load_coverage(&mut self, ctx: &mut Ctx) {
        if self.pending.values().any(|p| *p == Pending::Coverage) {
            self.coverage_stale = true;
            return;
        }
        self.coverage_stale = false;
        let r = ctx.load(Query::LocaleCoverage);
        self.pending.insert(r, Pending::Coverage);
    }

    /// Loads the node and opens it for translation.
    pub fn open(&mut self, id: NodeId, ctx: &mut Ctx) {
        let r = ctx.load(Query::Node(id));
        self.pending.insert(r, Pending::Open);
    }

    /// Opens a node for translation into `l` (a search hit's locale); the source locale
    /// opens as [`TranslationsPane::open`] does.
    pub fn open_in(&mut self, id: NodeId, l: Locale, ctx: &mut Ctx) {
        let r = ctx.load(Query::Node(id));
        self.pending.insert(r, Pending::OpenIn(l));
    }

    /// A node loaded to translate: the editor opens on the first locale of the tenant it
    /// lacks.
    fn open_loaded(&mut self, node: rustok_domain::content::Node, ctx: &mut Ctx) {
        let wanted = self.tenant_locales(ctx);
        match TranslationEditor::default_target(&node, &wanted) {
            Some(target) => self.editor = Some(TranslationEditor::new(node, target)),
            None => {
                // Nothing suggests a locale yet: open one with the palette.
                self.editor = None;
                ctx.info("this tenant has one locale; Alt-N adds another (es, for example)");
                let fallback = if node.source_locale.as_str() == "en" {
                    "es"
                } else {
                    "en"
                };
                if let Ok(l) = fallback.parse() {
                    self.editor = Some(TranslationEditor::new(node, l));
                }
            }
        }
    }

    /// The locales this tenant uses: the default first, then every locale some node has.
    fn tenant_locales(&self, ctx: &Ctx) -> Vec<Locale> {
        let mut out = vec![ctx.session.tenant.default_locale.clone()];
        if let Some(c) = &self.coverage {
            for (l, _) in &c.locales {
                if !out.contains(l) {
                    out.push(l.clone());
                }
            }
        }
        out
    }

    /// `:locale xx`: translates the open node into another locale.
    pub fn set_locale(&mut self, l: Locale, ctx: &mut Ctx) {
        match &self.editor {
            Some(ed) if ed.dirty => {
                ctx.info("save or close this translation before switching locale")
            }
            Some(ed) if l == ed.node.source_locale => {
                ctx.error(format!("{l} is the source locale"))
            }
            Some(ed) => {
                let node = ed.node.clone();
                self.editor = Some(TranslationEditor::new(node, l));
            }
            // From the list: the highlighted node, opened in that locale (added on save).
            None => self.open_selected_in(l, ctx),
        }
    }

    /// Opens the highlighted node of the list for translation into `l` (a locale it may not
    /// have yet: saving adds it).
    fn open_selected_in(&mut self, l: Locale, ctx: &mut Ctx) {
        let Some(n) = self.list.selected().cloned() else {
            ctx.info("select a node in Translations first, then :locale xx");
            return;
        };
        if l == n.source_locale {
            ctx.error(format!("{l} is the source locale"));
            return;
        }
        let r = ctx.load(Query::Node(n.id));
        self.pending.insert(r, Pending::OpenIn(l));
    }

    /// A key while the translation editor's add-locale prompt is open.
    fn on_locale_prompt_key(&mut self, key: KeyEvent, ctx: &mut Ctx) {
        let Some(ed) = &mut self.editor else { return };
        let Some(code) = ed.locale_prompt_key(key) else {
            return;
        };
        match code.parse::<Locale>() {
            Ok(l) => self.set_locale(l, ctx),
            Err(e) => ctx.error(e.to_string()),
        }
    }

    /// The list's action on the highlighted node: what it was when the key was pressed.
    pub fn list_action(&mut self, a: Action, ctx: &mut Ctx) -> bool {
        let selected = self.list.selected().cloned();
        match (a, selected) {
            (Action::Open | Action::Translate, Some(n)) => self.open(n.id, ctx),
            (a, Some(n)) if node_action(a).is_some() => {
                let na = node_action(a).unwrap_or(NodeAction::Publish);
                if let Some(c) = status_command(ctx, (n.id, n.status, n.version), na) {
                    if na.is_destructive() {
                        self.armed = Some((Box::new(c), na));
                        confirm_status(ctx, &n.title, na);
                    } else {
                        self.dispatch(ctx, Pending::Transition(na), c);
                    }
                }
            }
            (Action::Open | Action::Translate, None) => {}
            (a, None) if node_action(a).is_some() => {}
            _ => return false,
        }
        true
    }

    fn dispatch(&mut self, ctx: &mut Ctx, p: Pending, c: Command) -> bool {
        match ctx.dispatch(c) {
            Some(id) => {
                self.pending.insert(id, p);
                true
            }
            None => false,
        }
    }

    fn on_editor_key(&mut self, key: KeyEvent, ctx: &mut Ctx) {
        if self
            .editor
            .as_ref()
            .is_some_and(|e| e.locale_prompt.is_some())
        {
            return self.on_locale_prompt_key(key, ctx);
        }
        let action = ctx.keymap.lookup(Context::Editor, &key);
        if let Some(a) = action
            && a.requirement().is_some()
            && ctx.refuses(a)
        {
            return;
        }
        let locales = self.tenant_locales(ctx);
        let Some(ed) = &mut self.editor else {
            return;
        };
        match action {
            Some(Action::AddLocale) => {
                if ed.dirty {
                    ctx.info("save or close this translation before adding a locale");
                } else {
                    ed.open_locale_prompt();
                }
            }
            Some(Action::Save) => {
                if !ed.dirty {
                    ctx.info("nothing to save");
                    return;
                }
                if ed.saving || refuse_unsettled(&ed.body.text(), ctx) {
                    return;
                }
                ed.saving = true;
                let command = ed.save_command();
                if !self.dispatch(ctx, Pending::Translate, command)
                    && let Some(e) = &mut self.editor
                {
                    e.saving = false;
                }
            }
            Some(Action::Back) => {
                if ed.dirty {
                    self.armed_close = true;
                    ctx.confirm(
                        "Close the translation?",
                        "Your translation is not saved. Close and lose it?",
                    );
                    return;
                }
                self.list.pin(ed.node.id);
                self.editor = None;
                self.reload(ctx);
            }
            Some(Action::NextField) => ed.next_field(),
            Some(Action::PrevField) => ed.prev_field(),
            Some(Action::NextLocale) => {
                if ed.dirty {
                    ctx.info("save or close this translation before switching locale");
                    return;
                }
                let mut choices = locales;
                for t in &ed.node.translations {
                    if !choices.contains(&t.locale) {
                        choices.push(t.locale.clone());
                    }
                }
                choices.retain(|l| *l != ed.node.source_locale);
                if choices.is_empty() {
                    ctx.info("no other locale yet: Alt-N adds one (es, for example)");
                    return;
                }
                let i = choices
                    .iter()
                    .position(|l| *l == ed.target)
                    .map_or(0, |i| (i + 1) % choices.len());
                let node = ed.node.clone();
                self.editor = Some(TranslationEditor::new(node, choices[i].clone()));
            }
            _ => ed.input(key),
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        match &self.editor {
            Some(e) => {
                e.draw(frame, area, theme);
                if let Some((id, u)) = &self.underneath
                    && *id == e.node.id
                    && u.version > e.node.version
                {
                    u.draw(frame, area, theme);
                }
            }
            None => {
                let [list, side] =
                    Layout::horizontal([Constraint::Percentage(62), Constraint::Percentage(38)])
                        .areas(area);
                self.list.draw(frame, list, theme, focused, "Translate");
                self.draw_coverage(frame, side, theme);
            }
        }
        if let Some(c) = &self.conflict {
            c.draw(frame, area, theme);
        }
    }

    /// Issue 20: a save met a newer version — the conflict view, while theirs loads.
    fn on_conflict(&mut self, message: String, ctx: &mut Ctx) {
        let Some(ed) = &self.editor else { return };
        let id = ed.node.id;
        let by = self
            .underneath
            .as_ref()
            .filter(|(n, _)| *n == id)
            .map(|(_, u)| u.clone());
        self.conflict = Some(ConflictView::new(
            message,
            ed.target.clone(),
            ed.base_text(),
            ed.mine(),
            by,
        ));
        let r = ctx.load(Query::Node(id));
        self.pending.insert(r, Pending::Theirs);
    }

    fn on_conflict_key(&mut self, key: KeyEvent, ctx: &mut Ctx) {
        let body = self
            .editor
            .as_ref()
            .map(|e| e.body.text())
            .unwrap_or_default();
        match conflict_key(&mut self.conflict, &key, &body, ctx) {
            ConflictStep::Done => {}
            ConflictStep::TakeTheirs(version) => {
                self.armed_take_theirs = true;
                ctx.confirm(
                    "Take theirs?",
                    format!("Drop your translation and load version {version} as it was saved?"),
                );
            }
            ConflictStep::KeepMine(n) => {
                let Some(ed) = &mut self.editor else { return };
                ed.node = n;
                ed.saving = true;
                let command = ed.save_command();
                if !self.dispatch(ctx, Pending::Translate, command)
                    && let Some(e) = &mut self.editor
                {
                    e.saving = false;
                }
            }
            ConflictStep::Merge(merged, n) => {
                if let Some(ed) = &mut self.editor {
                    ed.apply_merge(&merged, n);
                }
            }
            ConflictStep::SaveCopy(command) => {
                if let Some(ed) = &mut self.editor {
                    ed.saving = true;
                }
                self.dispatch(ctx, Pending::SaveCopy, command);
            }
        }
    }

    fn draw_coverage(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let mut lines = vec![
            Line::styled("Which locales are missing", theme.muted()),
            Line::raw(""),
        ];
        match &self.coverage {
            None => lines.push(Line::styled("loading…", theme.muted())),
            Some(c) => {
                for (l, have) in &c.locales {
                    let missing = c.total_nodes.saturating_sub(*have);
                    let pct = percent(*have, c.total_nodes);
                    let bar_len = (pct / 5) as usize;
                    lines.push(Line::from(vec![
                        Span::styled(format!("{:<7}", l.to_string()), theme.key()),
                        Span::styled("█".repeat(bar_len), theme.success()),
                        Span::styled("░".repeat(20 - bar_len.min(20)), theme.muted()),
                        Span::raw(format!(" {pct:>3}%  ")),
                        Span::styled(
                            if missing == 0 {
                                "complete".to_string()
                            } else {
                                format!("{} missing", group(missing))
                            },
                            if missing == 0 {
                                theme.success()
                            } else {
                                theme.warning()
                            },
                        ),
                    ]));
                }
                lines.push(Line::raw(""));
                lines.push(Line::styled(
                    "t or Enter translates the selected node;",
                    theme.muted(),
                ));
                lines.push(Line::styled(
                    ":locale xx opens it in a new locale;",
                    theme.muted(),
                ));
                lines.push(Line::styled(
                    "Alt-N in the editor adds one too.",
                    theme.muted(),
                ));
            }
        }
        frame.render_widget(
            Paragraph::new(lines).block(
                Block::bordered()
                    .border_style(theme.border(false))
                    .title(Span::styled(" Completeness ", theme.title())),
            ),
            area,
        );
    }
}

impl Pane for TranslationsPane {
    fn reload(&mut self, ctx: &mut Ctx) {
        if let Some(q) = self.list.window_query(ctx.list_height()) {
            let r = ctx.load(q);
            self.pending.insert(r, Pending::Window);
        }
    }

    fn invalidate(&mut self) {
        self.list.invalidate();
    }

    fn on_key(&mut self, key: KeyEvent, ctx: &mut Ctx) -> Key {
        if self.conflict.is_some() {
            self.on_conflict_key(key, ctx);
            return Key::Consumed;
        }
        if self.editor.is_some() {
            self.on_editor_key(key, ctx);
            return Key::Consumed;
        }
        let action = match route_list_key(&mut self.list, &key, ctx) {
            ListRoute::Consumed { reload } => {
                if reload {
                    self.reload(ctx);
                }
                return Key::Consumed;
            }
            ListRoute::Pass(action) => action,
        };
        let Some(a) = action else {
            return Key::Unused(None);
        };
        if a == Action::Filter {
            if let Some(q) = self.list.start_filter() {
                let r = ctx.load(q);
                self.pending.insert(r, Pending::Candidates);
            }
            return Key::Consumed;
        }
        if self.list_action(a, ctx) {
            Key::Consumed
        } else {
            Key::Unused(Some(a))
        }
    }

    fn on_paste(&mut self, text: &str) {
        if self.conflict.is_none()
            && let Some(e) = &mut self.editor
        {
            e.paste(text);
        } else if self.editor.is_none() {
            self.list.paste_filter(text);
        }
    }

    fn on_loaded(&mut self, id: RequestId, result: Result<QueryResult, Failure>, ctx: &mut Ctx) {
        let Some(p) = self.pending.remove(&id) else {
            return;
        };
        let result = match result {
            Ok(r) => r,
            Err(f) => {
                if p == Pending::Window {
                    self.list.on_load_failed();
                }
                ctx.error(format!("could not load: {f}"));
                return;
            }
        };
        match (p, result) {
            (Pending::Window, QueryResult::Nodes(page)) => {
                self.list.on_page(page);
                if self.list.take_lost() {
                    ctx.info("the highlighted node is gone; the nearest one is selected");
                }
                self.reload(ctx);
            }
            (Pending::Candidates, QueryResult::Nodes(page)) => self.list.on_candidates(page),
            (Pending::Coverage, QueryResult::LocaleCoverage(c)) => {
                self.coverage = Some(c);
                if self.coverage_stale {
                    self.load_coverage(ctx);
                }
            }
            (Pending::Open, QueryResult::Node(Some(node))) => self.open_loaded(node, ctx),
            // The source locale is not a target: opened as usual.
            (Pending::OpenIn(l), QueryResult::Node(Some(node))) if l == node.source_locale => {
                self.open_loaded(node, ctx)
            }
            (Pending::OpenIn(l), QueryResult::Node(Some(node))) => {
                self.editor = Some(TranslationEditor::new(node, l));
            }
            (Pending::Open | Pending::OpenIn(_), QueryResult::Node(None)) => {
                ctx.error("that node no longer exists")
            }
            (Pending::Theirs, QueryResult::Node(Some(node))) => {
                if let Some(c) = &mut self.conflict {
                    c.theirs = Some(node);
                }
            }
            (Pending::Theirs, QueryResult::Node(None)) => {
                self.conflict = None;
                ctx.error("that node no longer exists; your text is kept");
            }
            _ => {}
        }
    }

    fn on_outcome(&mut self, id: RequestId, result: Result<Applied, Failure>, ctx: &mut Ctx) {
        let Some(p) = self.pending.remove(&id) else {
            return;
        };
        match result {
            Ok(applied) => {
                if let Outcome::Node(n) = applied.outcome {
                    match p {
                        Pending::SaveCopy => {
                            let target = self.editor.as_ref().map(|e| e.target.clone());
                            ctx.info(format!(
                                "your translation is saved in a new draft “{}” with {} translation(s)",
                                rustok_domain::text::printable(&n.source().title),
                                n.translations.len()
                            ));
                            if let Some(t) = target {
                                self.editor = Some(TranslationEditor::new(n, t));
                            }
                        }
                        Pending::Translate => {
                            let target = self.editor.as_ref().map(|e| e.target.clone());
                            if let Some(e) = &mut self.editor {
                                e.saved(n);
                            }
                            if let Some(t) = target {
                                ctx.info(format!("translation {t} saved"));
                            }
                        }
                        _ => ctx.info(format!(
                            "{} is now {}",
                            rustok_domain::text::printable(&n.source().title),
                            n.status
                        )),
                    }
                }
                self.list.invalidate();
                self.reload(ctx);
                self.load_coverage(ctx);
            }
            Err(failure) => {
                if let Some(e) = &mut self.editor {
                    e.saving = false;
                }
                match (&p, &failure) {
                    (Pending::Translate, Failure::Domain(d)) => {
                        if matches!(d, DomainError::VersionConflict { .. }) {
                            self.on_conflict(d.to_string(), ctx);
                        } else {
                            let shown = self.editor.as_mut().is_some_and(|e| e.show_error(d));
                            ctx.error(if shown {
                                "not saved: fix the field marked ✗".to_string()
                            } else {
                                format!("not saved: {d}")
                            });
                        }
                    }
                    (Pending::Translate, f) => {
                        ctx.error(format!("not saved, your text is kept: {f}"))
                    }
                    (_, f) => ctx.error(f.to_string()),
                }
            }
        }
    }

    fn on_event(&mut self, e: &EventEnvelope, ctx: &mut Ctx) {
        if e.aggregate_type == "node" {
            if let Some(ed) = &self.editor
                && let Some(u) = Underneath::from_event(e, ed.node.id, ed.node.version)
                && self
                    .underneath
                    .as_ref()
                    .is_none_or(|(n, old)| *n != ed.node.id || old.version < u.version)
            {
                self.underneath = Some((ed.node.id, u));
            }
            self.list.invalidate();
            // The completeness counts are shown here and on the dashboard: recount now.
            self.load_coverage(ctx);
        }
    }

    fn confirmed(&mut self, ctx: &mut Ctx) {
        if std::mem::take(&mut self.armed_take_theirs) {
            if let Some(c) = self.conflict.take()
                && let Some(n) = c.theirs
            {
                ctx.info(format!("loaded version {} (theirs)", n.version));
                self.editor = Some(TranslationEditor::new(n, c.locale));
            }
        } else if std::mem::take(&mut self.armed_close) {
            self.editor = None;
            self.reload(ctx);
        } else if let Some((c, a)) = self.armed.take() {
            self.dispatch(ctx, Pending::Transition(a), *c);
        }
    }

    fn bar(&self) -> Bar {
        use Action as A;
        use Context::{Editor, Global, List};
        if self.conflict.is_some() {
            return Bar::Keys(vec![
                (Context::Conflict, A::TakeTheirs),
                (Context::Conflict, A::KeepMine),
                (Context::Conflict, A::Merge),
                (Context::Conflict, A::SaveCopy),
                (Context::Conflict, A::Back),
            ]);
        }
        if let Some(ed) = &self.editor {
            if let Some(p) = &ed.locale_prompt {
                return Bar::Input("locale: ", p.clone(), "Enter open · Esc cancel");
            }
            return Bar::Keys(vec![
                (Editor, A::Save),
                (Editor, A::NextField),
                (Editor, A::NextLocale),
                (Editor, A::AddLocale),
                (Editor, A::Back),
            ]);
        }
        if let Some(f) = self.list.filter.as_ref().filter(|f| f.editing) {
            return Bar::Input("/", f.query.clone(), "Enter keep · Esc clear");
        }
        Bar::Keys(vec![
            (List, A::Translate),
            (List, A::Filter),
            (Global, A::Palette),
            (Global, A::Help),
            (Global, A::Quit),
        ])
    }

    fn busy(&self) -> Option<String> {
        self.pending.values().find_map(|p| match p {
            Pending::Translate => Some("saving translation…".into()),
            Pending::Transition(a) => Some(format!("{a}ing…").replace("eing", "ing")),
            Pending::Theirs => Some("loading their version…".into()),
            Pending::SaveCopy => Some("saving a copy…".into()),
            Pending::Open | Pending::OpenIn(_) => Some("loading…".into()),
            _ => None,
        })
    }

    fn dirty(&self) -> bool {
        self.editor.as_ref().is_some_and(|e| e.dirty)
    }

    fn restyle(&mut self, theme: &Theme) {
        if let Some(e) = &mut self.editor {
            e.restyle(theme);
        }
    }
}
