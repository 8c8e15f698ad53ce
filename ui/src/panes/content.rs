//! The Content pane: the node list, the node editor over it, and the version-conflict dialog.

use super::conflict::{ConflictStep, ConflictView, Underneath, conflict_key};
use super::editor::NodeEditor;
use super::history::{DiffView, HistoryView};
use super::schedule::{AGENDA_LIMIT, Agenda, AgendaStep, FormStep, ScheduleForm};
use super::search::{SEARCH_LIMIT, SearchStep, SearchView};
use super::{Ask, Bar, Ctx, Key, Pane, capitalize};
use crate::action::Action;
use crate::keymap::Context;
use crate::msg::{Failure, Query, QueryResult, RequestId};
use crate::theme::Theme;
use crate::widgets::node_list::NodeList;
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use rustok_domain::command::NodeTransition;
use rustok_domain::content::{NodeAction, NodeKind, NodeStatus};
use rustok_domain::event::EventEnvelope;
use rustok_domain::read::{Applied, Outcome};
use rustok_domain::text::printable;
use rustok_domain::{Command, DomainError, NodeId};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
enum Pending {
    /// A short id typed in the palette, being resolved to the node it names.
    Resolve,
    Window,
    Candidates,
    Open,
    Save {
        title: String,
    },
    SaveCopy,
    Transition(NodeAction),
    /// Issue 20: the history view's revisions, a diff, a restore; their version after a
    /// conflict.
    History,
    Diff,
    Revert(i64),
    Theirs,
    /// Scheduled publishing: the agenda's rows, a schedule or its cancellation.
    Agenda,
    /// A schedule sent from the form: the form as submitted, reopened with the reason if
    /// the store refuses it (so the times typed are not lost).
    Schedule(Box<ScheduleForm>),
    Unschedule,
    /// A full-text search.
    Search,
}

/// What a "yes" in the confirmation dialog does.
#[derive(Debug, Clone, PartialEq)]
enum Armed {
    Dispatch(Box<Command>, NodeAction),
    CloseEditor,
    /// Restore this version (the history view's revert).
    Revert(Box<Command>, i64),
    /// Drop mine and load theirs (the conflict view).
    TakeTheirs,
    /// Cancel a node's schedules (asked from the agenda).
    Unschedule(NodeId),
}

#[derive(Debug, Clone, Default)]
pub struct ContentPane {
    pub list: NodeList,
    pub editor: Option<NodeEditor>,
    /// The version-conflict view over the editor (issue 20).
    pub conflict: Option<ConflictView>,
    /// A node's history (and a diff of two revisions) over the list or the editor.
    pub history: Option<HistoryView>,
    /// Someone else's save of the node being edited, seen on the live stream.
    pub underneath: Option<(NodeId, Underneath)>,
    armed: Option<Armed>,
    pending: BTreeMap<RequestId, Pending>,
    /// The schedule form over the list (`schedule`), if open.
    pub schedule_form: Option<ScheduleForm>,
    /// The agenda view in place of the list (`agenda`), if open.
    pub agenda: Option<Agenda>,
    /// The full-text search view in place of the list (`search`), if open.
    pub search: Option<SearchView>,
}

/// Checks a status change against the row the screen showed (id and version as seen when the
/// key was pressed) and returns the command; the store refuses a stale version as a conflict.
pub fn status_command(
    ctx: &mut Ctx,
    (id, status, version): (NodeId, NodeStatus, i64),
    action: NodeAction,
) -> Option<Command> {
    if let Err(e) = status.apply(action) {
        ctx.error(e.to_string());
        return None;
    }
    Some(Command::NodeStatus(NodeTransition {
        id,
        action,
        expected_version: Some(version),
    }))
}

/// Asks before a destructive status change.
pub fn confirm_status(ctx: &mut Ctx, title: &str, action: NodeAction) {
    ctx.confirm(
        format!("{} node?", capitalize(action.as_str())),
        format!(
            "{} “{}”? Readers will no longer see it.",
            capitalize(action.as_str()),
            printable(title)
        ),
    );
}

pub fn node_action(action: Action) -> Option<NodeAction> {
    match action {
        Action::Node(a) => Some(a),
        _ => None,
    }
}

/// What a node list made of a key (the part Content and Translations share).
pub enum ListRoute {
    /// The list took the key (a filter being typed, movement, a refused action); `reload`
    /// when its window must be loaded again.
    Consumed { reload: bool },
    /// The pane's to handle: the key's action, if it has one.
    Pass(Option<Action>),
}

/// Routes a key through a node list: a filter being typed takes every key, an action the
/// session refuses (read-only) is consumed, movement and `/` are the list's; anything else is
/// passed on with its action.
pub fn route_list_key(list: &mut NodeList, key: &KeyEvent, ctx: &mut Ctx) -> ListRoute {
    let filtering = list.filter.as_ref().is_some_and(|f| f.editing);
    let action = if filtering {
        None
    } else {
        ctx.action(Context::List, key)
    };
    if let Some(a) = action
        && ctx.refuses(a)
    {
        return ListRoute::Consumed { reload: false };
    }
    let h = ctx.list_height();
    match list_key(list, key, action, h) {
        Some(reload) => ListRoute::Consumed { reload },
        None if filtering => ListRoute::Consumed { reload: false },
        None => ListRoute::Pass(action),
    }
}

/// The list keys shared by Content and Translations: movement and the `/` filter.
/// `Some(true)` when the list consumed the key and wants a reload, `Some(false)` consumed.
pub fn list_key(
    list: &mut NodeList,
    key: &KeyEvent,
    action: Option<Action>,
    h: u16,
) -> Option<bool> {
    if let Some(f) = &mut list.filter
        && f.editing
    {
        let mut query = f.query.clone();
        match key.code {
            KeyCode::Esc => {
                list.clear_filter();
                return Some(true);
            }
            KeyCode::Enter | KeyCode::Down | KeyCode::Up => {
                f.editing = false;
                return Some(false);
            }
            _ => {}
        }
        if super::edit_line(&mut query, key).is_none() {
            list.set_filter_query(query);
        }
        return Some(false);
    }
    match action? {
        a @ (Action::Up | Action::Down | Action::PageUp | Action::PageDown) => {
            list.move_by(super::step(a, h)?, h);
            Some(true)
        }
        Action::Top => {
            list.select(0, h);
            Some(true)
        }
        Action::Bottom => {
            list.select(list.total().saturating_sub(1), h);
            Some(true)
        }
        Action::Back if list.filter.is_some() => {
            list.clear_filter();
            Some(true)
        }
        _ => None,
    }
}

impl ContentPane {
    pub fn new_draft(&mut self, kind: NodeKind, ctx: &mut Ctx) {
        self.editor = Some(NodeEditor::new_draft(
            kind,
            ctx.session.tenant.default_locale.clone(),
        ));
    }

    /// Loads the node and opens it in the editor.
    pub fn open(&mut self, id: NodeId, ctx: &mut Ctx) {
        let r = ctx.load(Query::Node(id));
        self.pending.insert(r, Pending::Open);
    }

    /// Opens the node a whole id or a short id (the last hex digits) names.
    pub fn open_text(&mut self, text: &str, ctx: &mut Ctx) {
        match text.parse::<NodeId>() {
            Ok(id) => self.open(id, ctx),
            Err(_) => {
                let r = ctx.load(Query::ResolveId {
                    kind: crate::msg::IdKind::Node,
                    text: text.to_string(),
                });
                self.pending.insert(r, Pending::Resolve);
            }
        }
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

    fn change_status(
        &mut self,
        ctx: &mut Ctx,
        title: &str,
        row: (NodeId, NodeStatus, i64),
        a: NodeAction,
    ) {
        let Some(command) = status_command(ctx, row, a) else {
            return;
        };
        if a.is_destructive() {
            self.armed = Some(Armed::Dispatch(Box::new(command), a));
            confirm_status(ctx, title, a);
        } else {
            self.dispatch(ctx, Pending::Transition(a), command);
        }
    }

    fn on_editor_key(&mut self, key: KeyEvent, ctx: &mut Ctx) {
        let action = ctx.keymap.lookup(Context::Editor, &key);
        if let Some(a) = action
            && a.requirement().is_some()
            && ctx.refuses(a)
        {
            return;
        }
        let Some(editor) = &mut self.editor else {
            return;
        };
        match action {
            Some(Action::Save) => {
                if !editor.dirty && editor.node_id.is_some() {
                    ctx.info("nothing to save");
                    return;
                }
                if refuse_unsettled(&editor.body.text(), ctx) {
                    return;
                }
                if editor.saving {
                    return;
                }
                editor.clear_errors();
                editor.saving = true;
                let title = editor.title.text();
                let command = editor.save_command();
                if !self.dispatch(ctx, Pending::Save { title }, command)
                    && let Some(e) = &mut self.editor
                {
                    e.saving = false;
                }
            }
            Some(Action::Back) => {
                if editor.dirty {
                    self.armed = Some(Armed::CloseEditor);
                    ctx.confirm(
                        "Close the editor?",
                        "Your changes are not saved. Close and lose them?",
                    );
                    return;
                }
                // Back in the list on the node just edited (or created).
                if let Some(id) = editor.node_id {
                    self.list.pin(id);
                }
                self.editor = None;
                self.reload(ctx);
            }
            Some(Action::History) => match editor.node_id {
                Some(id) => {
                    let title = editor.title.text();
                    self.open_history(id, &title, ctx);
                }
                None => ctx.info("a draft has no history until it is saved (Ctrl-S)"),
            },
            Some(Action::NextField) => editor.next_field(),
            Some(Action::PrevField) => editor.prev_field(),
            Some(Action::CycleFormat) => editor.cycle_format(),
            Some(Action::CycleKind) => {
                if !editor.cycle_kind() {
                    ctx.info("the kind of a saved node cannot change");
                }
            }
            Some(Action::Node(NodeAction::Publish)) => {
                let (Some(id), Some(status), Some(v)) =
                    (editor.node_id, editor.status, editor.base_version)
                else {
                    ctx.info("save the draft first (Ctrl-S)");
                    return;
                };
                if editor.dirty {
                    ctx.info("save your changes first (Ctrl-S)");
                    return;
                }
                let title = editor.title.text();
                self.change_status(ctx, &title, (id, status, v), NodeAction::Publish);
            }
            _ => editor.input(key),
        }
    }

    /// The list's action on the highlighted node: what it was when the key was pressed.
    pub fn on_list_action(&mut self, action: Action, ctx: &mut Ctx) -> bool {
        match action {
            Action::Agenda => {
                self.open_agenda(ctx);
                return true;
            }
            Action::Search => {
                self.search = Some(SearchView::new());
                return true;
            }
            _ => {}
        }
        let Some(n) = self.list.selected().cloned() else {
            return matches!(
                action,
                Action::Open
                    | Action::Translate
                    | Action::Node(_)
                    | Action::History
                    | Action::Schedule
            );
        };
        match action {
            Action::Schedule => self.schedule_form = Some(ScheduleForm::new(&n)),
            Action::Open => self.open(n.id, ctx),
            Action::Translate => ctx.ask(Ask::OpenTranslation(n.id)),
            Action::History => self.open_history(n.id, &n.title, ctx),
            a => match node_action(a) {
                Some(na) => self.change_status(ctx, &n.title, (n.id, n.status, n.version), na),
                None => return false,
            },
        }
        true
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        if let Some(h) = &self.history {
            h.draw(frame, area, theme);
            return;
        }
        match (&self.editor, &self.search, &self.agenda) {
            (Some(e), _, _) => {
                e.draw(frame, area, theme);
                if let Some(u) = self.underneath_shown() {
                    u.draw(frame, area, theme);
                }
            }
            (None, Some(s), _) => s.draw(frame, area, theme, focused),
            (None, None, Some(a)) => a.draw(frame, area, theme, focused),
            (None, None, None) => self.list.draw(frame, area, theme, focused, "Content"),
        }
        if let Some(f) = &self.schedule_form {
            f.draw(frame, area, theme);
        }
        if let Some(c) = &self.conflict {
            c.draw(frame, area, theme);
        }
    }

    /// Opens (or reloads) the agenda view.
    pub fn open_agenda(&mut self, ctx: &mut Ctx) {
        let no_cancel = ctx
            .session
            .refusal_needing(
                Action::Schedule,
                Some(rustok_domain::rbac::UNSCHEDULE_CONTENT),
            )
            .is_some();
        self.agenda.get_or_insert_with(Agenda::default).no_cancel = no_cancel;
        if self.pending.values().any(|p| *p == Pending::Agenda) {
            return;
        }
        let r = ctx.load(Query::Agenda {
            limit: AGENDA_LIMIT,
        });
        self.pending.insert(r, Pending::Agenda);
    }

    /// The command bar over the schedule form, the search or the agenda.
    fn view_bar(&self) -> Option<Bar> {
        use Action as A;
        use Context::Global;
        if self.schedule_form.is_some() {
            return Some(Bar::Keys(vec![]));
        }
        if let Some(s) = &self.search {
            return Some(if s.editing {
                Bar::Input("find: ", s.query.clone(), "Enter search · Esc close")
            } else {
                Bar::Keys(vec![(Global, A::Palette), (Global, A::Help)])
            });
        }
        if self.agenda.is_some() {
            return Some(Bar::Keys(vec![
                (Context::List, A::Open),
                (Global, A::Help),
                (Global, A::Quit),
            ]));
        }
        None
    }

    /// A key while the schedule form is open.
    fn on_schedule_form_key(&mut self, key: &KeyEvent, ctx: &mut Ctx) {
        let Some(form) = &mut self.schedule_form else {
            return;
        };
        match form.key(key, ctx.now) {
            FormStep::Editing => {}
            FormStep::Cancel => self.schedule_form = None,
            FormStep::Submit(c) => {
                let sent = Box::new(form.clone());
                if self.dispatch(ctx, Pending::Schedule(sent), c) {
                    self.schedule_form = None;
                }
            }
        }
    }

    /// A key in the agenda view: `true` when it took it.
    fn on_agenda_key(&mut self, key: &KeyEvent, ctx: &mut Ctx) -> bool {
        let Some(agenda) = &mut self.agenda else {
            return false;
        };
        match agenda.key(key) {
            AgendaStep::Consumed => {}
            AgendaStep::Close => self.agenda = None,
            AgendaStep::Open(id) => self.open(id, ctx),
            AgendaStep::Unschedule(id, title) => {
                if ctx.refuses_needing(
                    Action::Schedule,
                    Some(rustok_domain::rbac::UNSCHEDULE_CONTENT),
                ) {
                    return true;
                }
                self.armed = Some(Armed::Unschedule(id));
                ctx.confirm(
                    "Cancel the schedule?",
                    format!(
                        "Cancel everything scheduled for “{}”? It stays as it is now.",
                        printable(&title)
                    ),
                );
            }
            AgendaStep::Unused => return false,
        }
        true
    }

    /// A key in the search view: `true` when it took it.
    fn on_search_key(&mut self, key: &KeyEvent, ctx: &mut Ctx) -> bool {
        let Some(search) = &mut self.search else {
            return false;
        };
        match search.key(key) {
            SearchStep::Consumed => {}
            SearchStep::Close => self.search = None,
            SearchStep::Search(text) => {
                let r = ctx.load(Query::Search {
                    text,
                    limit: SEARCH_LIMIT,
                });
                self.pending.retain(|_, p| *p != Pending::Search);
                self.pending.insert(r, Pending::Search);
            }
            SearchStep::Open(id) => self.open(id, ctx),
            SearchStep::Translate(id, l) => {
                if !ctx.refuses(Action::Translate) {
                    ctx.ask(Ask::OpenTranslationIn(id, l));
                }
            }
            SearchStep::Unused => return false,
        }
        true
    }

    /// A due schedule was refused: every console of the tenant says so.
    fn on_schedule_refused(&mut self, e: &EventEnvelope, ctx: &mut Ctx) {
        let text = |k: &str| {
            e.payload
                .get(k)
                .and_then(|v| v.as_str())
                .map(printable)
                .unwrap_or_default()
        };
        ctx.error(format!(
            "scheduled {} of node {} by {} was refused: {}",
            text("action"),
            super::super::widgets::node_list::short_id(e.aggregate_id),
            text("by"),
            text("reason")
        ));
    }

    fn on_failure(&mut self, p: &Pending, failure: Failure, ctx: &mut Ctx) {
        if let Some(e) = &mut self.editor {
            e.saving = false;
        }
        match (p, &failure) {
            (Pending::Save { .. }, Failure::Domain(d @ DomainError::VersionConflict { .. })) => {
                self.on_conflict(d.to_string(), ctx)
            }
            (Pending::Save { .. } | Pending::SaveCopy, Failure::Domain(d)) => {
                if self.editor.as_mut().is_some_and(|e| e.show_error(d)) {
                    ctx.error("not saved: fix the field marked ✗");
                } else {
                    ctx.error(format!("not saved: {d}"));
                }
            }
            // The database failed (read-only, disk full, unreachable): the editor keeps
            // the text, so saving again once it is fixed loses nothing.
            (Pending::Save { .. } | Pending::SaveCopy, f) => {
                ctx.error(format!("not saved, your text is kept: {f}"))
            }
            // A refused schedule: the form comes back with the reason and the times typed
            // (unless another form was opened meanwhile).
            (Pending::Schedule(form), f) => {
                ctx.error(format!("not scheduled: {f}"));
                if self.schedule_form.is_none() {
                    let mut form = form.as_ref().clone();
                    form.error = Some(f.to_string());
                    self.schedule_form = Some(form);
                }
            }
            (_, f) => ctx.error(f.to_string()),
        }
    }
}

/// Refuses to save a body that still holds conflict markers (after a merge): true if refused.
pub(super) fn refuse_unsettled(body: &str, ctx: &mut Ctx) -> bool {
    let n = rustok_domain::content::merge::unsettled(body);
    if n > 0 {
        ctx.error(format!(
            "settle the {n} marked conflict(s) in the body first (<<<<<<< mine … ======= … >>>>>>> theirs)"
        ));
    }
    n > 0
}

/// Issue 20: the history view and the conflict view of the Content pane.
impl ContentPane {
    /// Opens the history of node `id` (over the list or the editor).
    pub fn open_history(&mut self, id: NodeId, title: &str, ctx: &mut Ctx) {
        let mut h = HistoryView::new(id, title);
        h.no_revert = !ctx.session.may(Action::Revert);
        self.history = Some(h);
        self.load_history(ctx);
    }

    fn load_history(&mut self, ctx: &mut Ctx) {
        let Some(h) = &self.history else { return };
        if self.pending.values().any(|p| *p == Pending::History) {
            return;
        }
        let r = ctx.load(Query::NodeHistory(h.node_id));
        self.pending.insert(r, Pending::History);
    }

    fn on_history_key(&mut self, key: KeyEvent, ctx: &mut Ctx) -> Key {
        let action = ctx.action(Context::History, &key);
        if let Some(a) = action
            && ctx.refuses(a)
        {
            return Key::Consumed;
        }
        let h_page = ctx.body_height().saturating_sub(4);
        let Some(h) = &mut self.history else {
            return Key::Unused(action);
        };
        if let Some(d) = &mut h.diff {
            match action {
                Some(a @ (Action::Up | Action::Down | Action::PageUp | Action::PageDown)) => {
                    d.scroll_by(super::step(a, h_page).unwrap_or(0), h_page)
                }
                Some(Action::Back) => h.diff = None,
                other => return Key::Unused(other),
            }
            return Key::Consumed;
        }
        match action {
            Some(a @ (Action::Up | Action::Down | Action::PageUp | Action::PageDown)) => {
                h.move_by(super::step(a, h_page).unwrap_or(0))
            }
            Some(Action::Mark) => h.toggle_mark(),
            Some(Action::Open) => match h.diff_pair() {
                Some((from, to)) => {
                    let r = ctx.load(Query::NodeDiff {
                        id: h.node_id,
                        from,
                        to,
                    });
                    self.pending.insert(r, Pending::Diff);
                }
                None => ctx.info("nothing older to compare with: pick another revision (Space)"),
            },
            Some(Action::Revert) => self.arm_revert(ctx),
            Some(Action::Back) => {
                self.history = None;
                if self.editor.is_none() {
                    self.reload(ctx);
                }
            }
            other => return Key::Unused(other),
        }
        Key::Consumed
    }

    /// Asks before restoring the highlighted revision.
    fn arm_revert(&mut self, ctx: &mut Ctx) {
        let Some(h) = &self.history else { return };
        let (Some(r), Some(current)) = (h.selected_revision(), h.current()) else {
            return;
        };
        if r.version == current.version {
            ctx.info("that is the current version");
            return;
        }
        let command = Command::RevertNode {
            id: h.node_id,
            to: r.version,
            expected_version: Some(current.version),
        };
        ctx.confirm(
            format!("Restore version {}?", r.version),
            format!(
                "Make version {} ({} by {}) the current content of “{}”? It is saved as version {}; the status ({}) stays.",
                r.version,
                r.at.format("%Y-%m-%d %H:%M"),
                printable(&r.actor),
                printable(&h.title),
                current.version + 1,
                current.status
            ),
        );
        self.armed = Some(Armed::Revert(Box::new(command), r.version));
    }

    /// The marker for the editor, while it is about its node and newer than its base.
    fn underneath_shown(&self) -> Option<&Underneath> {
        let e = self.editor.as_ref()?;
        let (id, u) = self.underneath.as_ref()?;
        (Some(*id) == e.node_id && e.base_version.is_some_and(|v| u.version > v)).then_some(u)
    }

    /// A save met a newer version: the conflict view, while their version loads.
    fn on_conflict(&mut self, message: String, ctx: &mut Ctx) {
        let Some(e) = &self.editor else { return };
        let Some(id) = e.node_id else { return };
        let by = self
            .underneath
            .as_ref()
            .filter(|(n, _)| *n == id)
            .map(|(_, u)| u.clone());
        self.conflict = Some(ConflictView::new(
            message,
            e.locale.clone(),
            e.base_text(),
            e.mine(),
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
                self.armed = Some(Armed::TakeTheirs);
                ctx.confirm(
                    "Take theirs?",
                    format!("Drop your changes and load version {version} as it was saved?"),
                );
            }
            ConflictStep::KeepMine(n) => {
                let Some(e) = &mut self.editor else { return };
                e.rebase(&n);
                e.saving = true;
                let title = e.title.text();
                let command = e.save_command();
                if !self.dispatch(ctx, Pending::Save { title }, command)
                    && let Some(e) = &mut self.editor
                {
                    e.saving = false;
                }
            }
            ConflictStep::Merge(merged, n) => {
                if let Some(e) = &mut self.editor {
                    e.apply_merge(&merged, &n);
                    e.focus = super::editor::EditorField::Body;
                }
            }
            ConflictStep::SaveCopy(command) => {
                if let Some(e) = &mut self.editor {
                    e.saving = true;
                }
                self.dispatch(ctx, Pending::SaveCopy, command);
            }
        }
    }
}

impl Pane for ContentPane {
    fn reload(&mut self, ctx: &mut Ctx) {
        if self.agenda.as_ref().is_some_and(|a| !a.loaded) {
            self.open_agenda(ctx);
        }
        if let Some(q) = self.list.window_query(ctx.list_height()) {
            let r = ctx.load(q);
            self.pending.insert(r, Pending::Window);
        }
    }

    fn invalidate(&mut self) {
        self.list.invalidate();
        if let Some(a) = &mut self.agenda {
            a.loaded = false;
        }
    }

    fn on_key(&mut self, key: KeyEvent, ctx: &mut Ctx) -> Key {
        if self.conflict.is_some() {
            self.on_conflict_key(key, ctx);
            return Key::Consumed;
        }
        if self.history.is_some() {
            return self.on_history_key(key, ctx);
        }
        if self.editor.is_some() {
            self.on_editor_key(key, ctx);
            return Key::Consumed;
        }
        if self.schedule_form.is_some() {
            self.on_schedule_form_key(&key, ctx);
            return Key::Consumed;
        }
        if self.on_search_key(&key, ctx) || self.on_agenda_key(&key, ctx) {
            return Key::Consumed;
        }
        if self.search.is_some() || self.agenda.is_some() {
            // Over the search or the agenda only the global keys work.
            return Key::Unused(ctx.keymap.lookup(Context::Global, &key));
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
        match action {
            Some(Action::Filter) => {
                if let Some(q) = self.list.start_filter() {
                    let r = ctx.load(q);
                    self.pending.insert(r, Pending::Candidates);
                }
                Key::Consumed
            }
            Some(a) if self.on_list_action(a, ctx) => Key::Consumed,
            other => Key::Unused(other),
        }
    }

    fn on_paste(&mut self, text: &str) {
        if self.conflict.is_none()
            && self.history.is_none()
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
                match p {
                    Pending::Window => self.list.on_load_failed(),
                    Pending::Resolve => return ctx.error(f.to_string()),
                    _ => {}
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
            (Pending::Agenda, QueryResult::Agenda(rows)) => {
                if let Some(a) = &mut self.agenda {
                    a.on_rows(rows);
                }
            }
            (Pending::Search, QueryResult::Search(hits)) => {
                if let Some(s) = &mut self.search {
                    s.on_hits(hits);
                }
            }
            (Pending::Resolve, QueryResult::Resolved(id)) => self.open(NodeId::from_uuid(id), ctx),
            (Pending::Open, QueryResult::Node(Some(node))) => {
                self.editor = Some(NodeEditor::from_node(&node, None));
            }
            (Pending::Open, QueryResult::Node(None)) => {
                ctx.error("that node no longer exists");
            }
            (Pending::History, QueryResult::NodeHistory(revisions)) => {
                if let Some(h) = &mut self.history {
                    h.on_revisions(revisions);
                }
            }
            (Pending::Diff, QueryResult::NodeDiff(d)) => {
                if let Some(h) = &mut self.history {
                    h.diff = Some(DiffView::new(*d));
                }
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
        let applied = match result {
            Ok(a) => a,
            Err(f) => return self.on_failure(&p, f, ctx),
        };
        if let Outcome::Schedule(s) = &applied.outcome {
            ctx.info(match (&p, s.first()) {
                (Pending::Schedule(_), Some(first)) => format!(
                    "scheduled: {} {} UTC{}",
                    first.action.agenda_words(),
                    first.at.format("%Y-%m-%d %H:%M:%S"),
                    if s.len() > 1 {
                        " (and more: A shows the agenda)"
                    } else {
                        ""
                    }
                ),
                _ => "schedule cancelled".to_string(),
            });
            if self.agenda.is_some() {
                self.open_agenda(ctx);
            }
        }
        if let Outcome::Node(n) = applied.outcome {
            match p {
                Pending::Save { .. } => {
                    if let Some(e) = &mut self.editor {
                        e.saved(&n);
                    }
                    ctx.info(format!(
                        "saved “{}” — version {}",
                        printable(&n.source().title),
                        n.version
                    ));
                }
                Pending::SaveCopy => {
                    let locale = self.editor.as_ref().map(|e| e.locale.clone());
                    self.editor = Some(NodeEditor::from_node(&n, locale.as_ref()));
                    ctx.info(format!(
                        "your text is saved as a new draft “{}” with its {} translation(s)",
                        printable(&n.source().title),
                        n.translations.len()
                    ));
                }
                Pending::Revert(v) => {
                    if let Some(e) = &mut self.editor
                        && e.node_id == Some(n.id)
                        && !e.dirty
                    {
                        let locale = e.locale.clone();
                        *e = NodeEditor::from_node(&n, Some(&locale));
                    }
                    ctx.info(format!(
                        "restored version {v} of “{}” as version {}",
                        printable(&n.source().title),
                        n.version
                    ));
                    self.load_history(ctx);
                }
                Pending::Transition(_) => {
                    if let Some(e) = &mut self.editor
                        && e.node_id == Some(n.id)
                        && !e.dirty
                    {
                        e.saved(&n);
                    }
                    ctx.info(format!(
                        "{} is now {}",
                        printable(&n.source().title),
                        n.status
                    ));
                }
                _ => {}
            }
        }
        // The list shows the change at once; the bus event refreshes the other panes.
        self.list.invalidate();
        self.reload(ctx);
    }

    fn on_event(&mut self, e: &EventEnvelope, ctx: &mut Ctx) {
        if e.aggregate_type == "node" {
            self.list.invalidate();
            if self
                .history
                .as_ref()
                .is_some_and(|h| h.node_id.as_uuid() == e.aggregate_id)
            {
                self.load_history(ctx);
            }
            if let Some(ed) = &self.editor
                && let (Some(id), Some(base)) = (ed.node_id, ed.base_version)
                && let Some(u) = Underneath::from_event(e, id, base)
                && self
                    .underneath
                    .as_ref()
                    .is_none_or(|(n, old)| *n != id || old.version < u.version)
            {
                self.underneath = Some((id, u));
            }
            if self.agenda.is_some() {
                self.open_agenda(ctx);
            }
        }
        if e.event_type == "node.schedule_refused" {
            self.on_schedule_refused(e, ctx);
        }
    }

    fn confirmed(&mut self, ctx: &mut Ctx) {
        match self.armed.take() {
            Some(Armed::Dispatch(c, a)) => {
                self.dispatch(ctx, Pending::Transition(a), *c);
            }
            Some(Armed::CloseEditor) => {
                self.editor = None;
                self.reload(ctx);
            }
            Some(Armed::Revert(c, v)) => {
                self.dispatch(ctx, Pending::Revert(v), *c);
            }
            Some(Armed::TakeTheirs) => {
                if let Some(c) = self.conflict.take()
                    && let Some(n) = c.theirs
                {
                    self.editor = Some(NodeEditor::from_node(&n, Some(&c.locale)));
                    ctx.info(format!("loaded version {} (theirs)", n.version));
                }
            }
            Some(Armed::Unschedule(id)) => {
                self.dispatch(ctx, Pending::Unschedule, Command::UnscheduleNode { id });
            }
            None => {}
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
        if let Some(h) = &self.history {
            return Bar::Keys(if h.diff.is_some() {
                vec![
                    (Context::History, A::Down),
                    (Context::History, A::PageDown),
                    (Context::History, A::Back),
                ]
            } else {
                vec![
                    (Context::History, A::Mark),
                    (Context::History, A::Open),
                    (Context::History, A::Revert),
                    (Context::History, A::Back),
                ]
            });
        }
        if let Some(e) = &self.editor {
            let mut v = vec![
                (Editor, A::Save),
                (Editor, A::NextField),
                (Editor, A::CycleFormat),
            ];
            v.push(if e.node_id.is_none() {
                (Editor, A::CycleKind)
            } else {
                (Editor, A::Node(NodeAction::Publish))
            });
            if e.node_id.is_some() {
                v.push((Editor, A::History));
            }
            v.push((Editor, A::Back));
            return Bar::Keys(v);
        }
        if let Some(b) = self.view_bar() {
            return b;
        }
        if let Some(f) = self.list.filter.as_ref().filter(|f| f.editing) {
            return Bar::Input("/", f.query.clone(), "Enter keep · Esc clear");
        }
        // Like the order board: only the status changes the highlighted node can take now
        // (the help lists them all), which leaves room for scheduling, the agenda and search.
        let mut keys = vec![(List, A::Open), (List, A::New)];
        keys.extend(
            self.list
                .selected()
                .map_or(&[][..], |n| n.status.allowed_actions())
                .iter()
                .map(|a| (List, A::Node(*a))),
        );
        keys.extend([
            (List, A::Translate),
            (List, A::Schedule),
            (List, A::Agenda),
            (List, A::Search),
            (List, A::Filter),
            (Global, A::Help),
            (Global, A::Quit),
        ]);
        Bar::Keys(keys)
    }

    fn busy(&self) -> Option<String> {
        self.pending.values().find_map(|p| {
            Some(match p {
                Pending::Save { title } => format!("saving “{}”…", printable(title)),
                Pending::SaveCopy => "saving a copy…".into(),
                Pending::Transition(a) => format!("{a}ing…").replace("eing", "ing"),
                Pending::Open => "loading…".into(),
                Pending::History | Pending::Diff => "loading history…".into(),
                Pending::Revert(v) => format!("restoring version {v}…"),
                Pending::Theirs => "loading their version…".into(),
                Pending::Schedule(_) => "scheduling…".into(),
                Pending::Unschedule => "cancelling the schedule…".into(),
                Pending::Search => "searching…".into(),
                _ => return None,
            })
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
