//! The console as a pure state machine: `update(Msg) -> Vec<Effect>` and `draw(&self)`.
//! It never awaits, queries or touches a terminal.

use crate::action::Action;
use crate::config::Config;
use crate::keymap::{Context, Keymap};
use crate::msg::{Coverage, Effect, Failure, Msg, Query, QueryResult, RequestId};
use crate::panes::audit::{AuditPane, Intent as AuditIntent, View as AuditView};
use crate::panes::dashboard::Dashboard;
use crate::panes::editor::NodeEditor;
use crate::panes::events::{EventsPane, HISTORY_PAGE, Mode as EventsMode};
use crate::panes::orders::{Card, Form, FormKey, OrdersPane, View as OrdersView};
use crate::panes::translate::TranslationEditor;
use crate::theme::Theme;
use crate::widgets::node_list::NodeList;
use crate::widgets::palette::Palette;
use crate::widgets::{bars, dialog, help};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use rustok_domain::content::{NodeAction, NodeKind, NodeStatus};
use rustok_domain::event::EventEnvelope;
use rustok_domain::read::{Applied, Outcome};
use rustok_domain::text::printable;
use rustok_domain::{Command, DomainError, Locale, NodeId, OrderId, Tenant};
use std::collections::BTreeMap;
use std::sync::Arc;

const SPINNER: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const RECENT_EVENTS: usize = 12;
/// The dashboard's low-stock list length.
const LOW_STOCK_ROWS: u64 = 8;

/// Who is using the console, where.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub tenant: Tenant,
    pub actor: String,
    pub role: String,
    /// Shown in the status bar (no password).
    pub database: String,
    pub read_only: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Dashboard,
    Content,
    Translations,
    Orders,
    Events,
    Audit,
}

const TABS: [Tab; 6] = [
    Tab::Dashboard,
    Tab::Content,
    Tab::Translations,
    Tab::Orders,
    Tab::Events,
    Tab::Audit,
];

impl Tab {
    fn title(self) -> &'static str {
        match self {
            Tab::Dashboard => "Dashboard",
            Tab::Content => "Content",
            Tab::Translations => "Translations",
            Tab::Orders => "Orders",
            Tab::Events => "Events",
            Tab::Audit => "Audit",
        }
    }
}

/// What to do when a confirmation is accepted.
#[derive(Debug, Clone, PartialEq)]
enum OnConfirm {
    Dispatch(Box<Command>, Pending),
    Quit,
    CloseEditor,
    CloseTranslation,
}

#[derive(Debug, Clone)]
enum Overlay {
    Help {
        scroll: u16,
    },
    Palette(Palette),
    Confirm {
        title: String,
        message: String,
        on_yes: OnConfirm,
        danger: bool,
    },
    Conflict {
        message: String,
    },
}

/// What an outstanding request is for.
#[derive(Debug, Clone, PartialEq)]
enum Pending {
    ContentWindow,
    ContentCandidates,
    TranslationsWindow,
    TranslationsCandidates,
    OpenEditor,
    OpenTranslation,
    ReloadEditor,
    Coverage,
    Count(NodeStatus),
    Outbox,
    Save {
        title: String,
    },
    SaveCopy,
    Transition(NodeAction),
    Translate,
    OrdersColumn(usize),
    Products,
    OrderDetail,
    DeadLetters,
    History,
    OrderStats,
    LowStock,
    Retry,
    Order(String),
    /// A page of the audit log for this filter (a page for an older filter is dropped).
    AuditLog(String),
    Staff,
    StaffChange(String),
}

impl Pending {
    fn label(&self) -> Option<String> {
        Some(match self {
            Pending::Save { title } => format!("saving “{}”…", printable(title)),
            Pending::SaveCopy => "saving a copy…".into(),
            Pending::Transition(a) => format!("{a}ing…").replace("eing", "ing"),
            Pending::Translate => "saving translation…".into(),
            Pending::Order(label) => format!("{label}…"),
            Pending::Retry => "re-queueing…".into(),
            Pending::StaffChange(label) => format!("{label}…"),
            Pending::OpenEditor
            | Pending::OpenTranslation
            | Pending::ReloadEditor
            | Pending::OrderDetail => "loading…".into(),
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Flash {
    text: String,
    error: bool,
}

pub struct App {
    session: Session,
    tab: Tab,
    keymap: Keymap,
    theme: Theme,
    theme_name: String,
    themes: Vec<(String, Theme)>,
    size: (u16, u16),
    content: NodeList,
    editor: Option<NodeEditor>,
    trans_list: NodeList,
    trans_editor: Option<TranslationEditor>,
    coverage: Option<Coverage>,
    dashboard: Dashboard,
    overlay: Option<Overlay>,
    /// Text being typed into the `/` filter (the list keeps the matches).
    pending: BTreeMap<RequestId, Pending>,
    next_id: RequestId,
    queue_depth: usize,
    spinner: usize,
    flash: Option<Flash>,
    orders: OrdersPane,
    events: EventsPane,
    audit: AuditPane,
    /// Wall-clock time from the runtime's once-a-second clock.
    now: Option<chrono::DateTime<chrono::Utc>>,
    /// Why the database is unreachable, while it is.
    db_down: Option<String>,
    quit: bool,
}

impl App {
    pub fn new(
        session: Session,
        config: &Config,
        keymap: Keymap,
        themes: Vec<(String, Theme)>,
        size: (u16, u16),
    ) -> App {
        let themes = if themes.is_empty() {
            crate::theme::builtin()
        } else {
            themes
        };
        let (theme_name, theme) = themes
            .iter()
            .find(|(n, _)| *n == config.theme)
            .or(themes.first())
            .cloned()
            .unwrap_or_else(|| ("dark".into(), Theme::default()));
        let mut app = App {
            session,
            tab: Tab::Content,
            keymap,
            theme,
            theme_name,
            themes,
            size,
            content: NodeList::default(),
            editor: None,
            trans_list: NodeList::default(),
            trans_editor: None,
            coverage: None,
            dashboard: Dashboard::default(),
            overlay: None,
            pending: BTreeMap::new(),
            next_id: 1,
            queue_depth: 0,
            spinner: 0,
            flash: None,
            orders: OrdersPane::default(),
            events: EventsPane::new(config.event_buffer),
            audit: AuditPane::default(),
            now: None,
            db_down: None,
            quit: false,
        };
        if app.session.read_only {
            app.flash = Some(Flash {
                text: "read-only session: changes are disabled".into(),
                error: false,
            });
        }
        if config.theme != app.theme_name {
            app.flash = Some(Flash {
                text: format!(
                    "unknown theme '{}', using {}",
                    printable(&config.theme),
                    app.theme_name
                ),
                error: true,
            });
        }
        app
    }

    /// The first requests: what the opening screen needs.
    pub fn init(&mut self) -> Vec<Effect> {
        let mut fx = self.reload_visible();
        fx.extend(self.load(Pending::Coverage, Query::LocaleCoverage));
        fx
    }

    /// Shows a warning from start-up (a broken config file, an unknown theme, ...).
    pub fn warn(&mut self, text: impl Into<String>) {
        self.error(text);
    }

    pub fn should_quit(&self) -> bool {
        self.quit
    }

    /// True while a request is outstanding (the runtime then sends ticks for the spinner).
    pub fn is_busy(&self) -> bool {
        self.pending.values().any(|p| p.label().is_some())
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The events the Events pane keeps, oldest first (bounded by its capacity).
    pub fn event_ring(
        &self,
    ) -> impl DoubleEndedIterator<Item = &Arc<EventEnvelope>> + ExactSizeIterator {
        self.events.ring()
    }

    pub fn theme_name(&self) -> &str {
        &self.theme_name
    }

    // ----- requests ---------------------------------------------------------------------

    fn request(&mut self, p: Pending) -> RequestId {
        let id = self.next_id;
        self.next_id += 1;
        self.pending.insert(id, p);
        id
    }

    fn load(&mut self, p: Pending, q: Query) -> Vec<Effect> {
        let id = self.request(p);
        vec![Effect::Load(id, q)]
    }

    fn dispatch(&mut self, p: Pending, c: Command) -> Vec<Effect> {
        if self.session.read_only {
            self.error("read-only session: changes are disabled");
            return vec![];
        }
        let id = self.request(p);
        vec![Effect::Dispatch(id, c)]
    }

    fn list_height(&self) -> u16 {
        self.size.1.saturating_sub(3).saturating_sub(3)
    }

    /// Requests whatever the visible pane is missing.
    fn reload_visible(&mut self) -> Vec<Effect> {
        let h = self.list_height();
        let mut fx = Vec::new();
        match self.tab {
            Tab::Content => {
                if let Some(q) = self.content.window_query(h) {
                    fx.extend(self.load(Pending::ContentWindow, q));
                }
            }
            Tab::Translations => {
                if let Some(q) = self.trans_list.window_query(h) {
                    fx.extend(self.load(Pending::TranslationsWindow, q));
                }
            }
            Tab::Dashboard => {
                if self.dashboard.loading == 0 {
                    for s in NodeStatus::ALL {
                        self.dashboard.loading += 1;
                        fx.extend(self.load(
                            Pending::Count(*s),
                            Query::Nodes {
                                status: Some(*s),
                                kind: None,
                                offset: 0,
                                limit: 1,
                            },
                        ));
                    }
                    self.dashboard.loading += 2;
                    fx.extend(self.load(Pending::Outbox, Query::OutboxCounts));
                    // A role without `order:read` was refused once: ask no more.
                    if self.dashboard.orders_denied.is_none() {
                        self.dashboard.loading += 1;
                        fx.extend(self.load(Pending::OrderStats, Query::OrderStats));
                    }
                    fx.extend(self.load(
                        Pending::LowStock,
                        Query::Products {
                            low_only: true,
                            offset: 0,
                            limit: LOW_STOCK_ROWS,
                        },
                    ));
                    self.dashboard.stale = false;
                } else {
                    self.dashboard.stale = true;
                }
            }
            Tab::Orders if self.orders.detail.is_none() => match self.orders.view {
                // Refused once (no `order:read`): the board says so and asks no more.
                OrdersView::Board if self.orders.denied.is_some() => {}
                OrdersView::Board => {
                    let h = self.size.1.saturating_sub(5);
                    for i in 0..self.orders.columns.len() {
                        let (status, w) = &mut self.orders.columns[i];
                        let status = *status;
                        if let Some((offset, limit)) = w.needs(h) {
                            fx.extend(self.load(
                                Pending::OrdersColumn(i),
                                Query::Orders {
                                    status,
                                    offset,
                                    limit,
                                },
                            ));
                        }
                    }
                }
                OrdersView::Products => {
                    if let Some((offset, limit)) = self.orders.products.needs(h) {
                        fx.extend(self.load(
                            Pending::Products,
                            Query::Products {
                                low_only: false,
                                offset,
                                limit,
                            },
                        ));
                    }
                }
            },
            Tab::Events => {
                if let Some(before_seq) = self.events.history_needs(self.events_height()) {
                    fx.extend(self.load(
                        Pending::History,
                        Query::EventHistory {
                            before_seq,
                            limit: HISTORY_PAGE,
                        },
                    ));
                }
            }
            Tab::Audit => {
                let intents = self.audit.needs(self.body_height());
                fx.extend(self.audit_effects(intents));
            }
            _ => {}
        }
        fx
    }

    /// The body's height (the screen minus the tab line, command bar and status bar).
    fn body_height(&self) -> u16 {
        self.size.1.saturating_sub(3)
    }

    /// Turns what the Audit pane needs into effects.
    fn audit_effects(&mut self, intents: Vec<AuditIntent>) -> Vec<Effect> {
        let mut fx = Vec::new();
        for i in intents {
            match i {
                AuditIntent::RunAudit => fx.push(Effect::RunAudit),
                AuditIntent::LoadLog {
                    offset,
                    limit,
                    filter,
                } => fx.extend(self.load(
                    Pending::AuditLog(filter.clone()),
                    Query::AuditLog {
                        offset,
                        limit,
                        filter,
                    },
                )),
                AuditIntent::LoadStaff => fx.extend(self.load(Pending::Staff, Query::Staff)),
                AuditIntent::Export { format, path } => {
                    if let Some(r) = self.audit.report.clone() {
                        self.info(format!("writing {}…", printable(&path)));
                        fx.push(Effect::ExportAudit {
                            report: Box::new(r),
                            format,
                            path,
                        });
                    }
                }
                AuditIntent::Info(text) => self.info(text),
                AuditIntent::Confirm {
                    title,
                    message,
                    command,
                    label,
                } => {
                    self.overlay = Some(Overlay::Confirm {
                        title,
                        message,
                        on_yes: OnConfirm::Dispatch(command, Pending::StaffChange(label)),
                        danger: true,
                    });
                }
            }
        }
        fx
    }

    fn events_height(&self) -> u16 {
        self.size.1.saturating_sub(3 + 4 + 3)
    }

    fn refresh_all(&mut self) -> Vec<Effect> {
        self.orders.invalidate();
        if self.events.mode == EventsMode::DeadLetters {
            self.events.dead = None;
            let id = self.request(Pending::DeadLetters);
            return [
                vec![Effect::Load(id, Query::DeadLetters)],
                self.refresh_lists(),
            ]
            .concat();
        }
        self.refresh_lists()
    }

    fn refresh_lists(&mut self) -> Vec<Effect> {
        self.content.invalidate();
        self.trans_list.invalidate();
        self.dashboard.stale = true;
        let mut fx = self.reload_visible();
        fx.extend(self.load(Pending::Coverage, Query::LocaleCoverage));
        fx
    }

    fn info(&mut self, text: impl Into<String>) {
        self.flash = Some(Flash {
            text: text.into(),
            error: false,
        });
    }

    fn error(&mut self, text: impl Into<String>) {
        self.flash = Some(Flash {
            text: text.into(),
            error: true,
        });
    }

    fn restyle(&mut self) {
        let theme = self.theme;
        if let Some(e) = &mut self.editor {
            e.restyle(&theme);
        }
        if let Some(e) = &mut self.trans_editor {
            e.restyle(&theme);
        }
        if let Some(f) = &mut self.orders.form {
            f.restyle(&theme);
        }
    }

    // ----- update -----------------------------------------------------------------------

    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        let fx = match msg {
            Msg::Key(key) => self.on_key(key),
            Msg::Paste(text) => {
                self.on_paste(&text);
                vec![]
            }
            Msg::Resize(w, h) => {
                self.size = (w, h);
                let lh = self.list_height();
                let sel = self.content.selected_index();
                self.content.select(sel, lh);
                let sel = self.trans_list.selected_index();
                self.trans_list.select(sel, lh);
                self.reload_visible()
            }
            Msg::Tick => {
                self.spinner = (self.spinner + 1) % SPINNER.len();
                vec![]
            }
            Msg::QueueDepth(d) => {
                self.queue_depth = d;
                vec![]
            }
            Msg::Loaded(id, result) => self.on_loaded(id, result),
            Msg::Outcome(id, result) => self.on_outcome(id, result),
            Msg::Event(e) => self.on_event(e),
            Msg::BusLagged(n) => {
                self.events.dropped += n;
                self.refresh_all()
            }
            Msg::Clock(now) => {
                self.now = Some(now);
                self.events.clock(now);
                vec![]
            }
            Msg::DatabaseStatus(status) => {
                let recovered = self.db_down.is_some() && status.is_none();
                self.db_down = status;
                if recovered {
                    self.info("database reachable again");
                    return self.refresh_all();
                }
                vec![]
            }
            Msg::Audit(trigger, result) => {
                let tenant = self.session.tenant.slug.clone();
                let body = self.body_height();
                match self.audit.on_report(trigger, result, &tenant, body) {
                    Some(Ok(line)) => self.info(line),
                    Some(Err(line)) => self.error(line),
                    None => {}
                }
                vec![]
            }
            Msg::Exported(result) => {
                match result {
                    Ok(line) => self.info(line),
                    Err(f) => self.error(format!("export failed: {f}")),
                }
                vec![]
            }
            Msg::TenantSwitched(result) => match result {
                Ok(t) => {
                    self.info(format!("now in tenant {}", printable(&t.slug)));
                    self.session.tenant = t;
                    self.editor = None;
                    self.trans_editor = None;
                    self.content = NodeList::default();
                    self.trans_list = NodeList::default();
                    self.coverage = None;
                    self.dashboard = Dashboard::default();
                    self.orders = OrdersPane::default();
                    self.events = EventsPane::new(self.events.capacity());
                    // A watched audit follows the session to the new tenant (monitoring
                    // then watches that one).
                    let watched = self.audit.watching();
                    self.audit = AuditPane::default();
                    let mut fx = self.init();
                    if watched && !self.audit.running {
                        self.audit.running = true;
                        fx.push(Effect::RunAudit);
                    }
                    fx
                }
                Err(f) => {
                    self.error(f.to_string());
                    vec![]
                }
            },
        };
        self.restyle();
        fx
    }

    fn on_paste(&mut self, text: &str) {
        match (&self.overlay, self.tab) {
            (Some(Overlay::Palette(_)), _) => {
                if let Some(Overlay::Palette(p)) = &mut self.overlay {
                    p.input.push_str(&text.replace(['\n', '\r'], " "));
                }
            }
            (Some(_), _) => {}
            (None, Tab::Content) if self.editor.is_some() => {
                if let Some(e) = &mut self.editor {
                    e.paste(text);
                }
            }
            (None, Tab::Translations) if self.trans_editor.is_some() => {
                if let Some(e) = &mut self.trans_editor {
                    e.paste(text);
                }
            }
            (None, Tab::Orders) if self.orders.form.is_some() => {
                if let Some(f) = &mut self.orders.form {
                    f.paste(text);
                }
            }
            _ => {}
        }
    }

    fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if key.kind == KeyEventKind::Release {
            return vec![];
        }
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            return self.request_quit();
        }
        if self.overlay.is_some() {
            return self.on_overlay_key(key);
        }
        self.flash = None;
        // Text editing has the keyboard first.
        if self.tab == Tab::Content && self.editor.is_some() {
            return self.on_editor_key(key);
        }
        if self.tab == Tab::Translations && self.trans_editor.is_some() {
            return self.on_translation_key(key);
        }
        if self.tab == Tab::Orders && self.orders.form.is_some() {
            return self.on_form_key(key);
        }
        if self.tab == Tab::Events && self.events.filter_editing {
            return self.on_events_filter_key(key);
        }
        if self.tab == Tab::Audit && self.audit.captures_text() {
            let intents = self.audit.on_text_key(key, self.body_height());
            return self.audit_effects(intents);
        }
        if let Some(list) = self.focused_list_mut()
            && list.filter.as_ref().is_some_and(|f| f.editing)
        {
            return self.on_filter_key(key);
        }
        let action = match self.tab {
            Tab::Content | Tab::Translations => self.keymap.lookup(Context::List, &key),
            Tab::Orders => self.keymap.lookup(Context::Orders, &key),
            Tab::Events => self.keymap.lookup(Context::Events, &key),
            Tab::Audit => self.keymap.lookup(Context::Audit, &key),
            _ => None,
        }
        .or_else(|| self.keymap.lookup(Context::Global, &key));
        match action {
            Some(a) => self.on_action(a),
            None => vec![],
        }
    }

    fn focused_list_mut(&mut self) -> Option<&mut NodeList> {
        match self.tab {
            Tab::Content => Some(&mut self.content),
            Tab::Translations => Some(&mut self.trans_list),
            _ => None,
        }
    }

    fn request_quit(&mut self) -> Vec<Effect> {
        let dirty = self.editor.as_ref().is_some_and(|e| e.dirty)
            || self.trans_editor.as_ref().is_some_and(|e| e.dirty);
        if dirty
            && !matches!(
                self.overlay,
                Some(Overlay::Confirm {
                    on_yes: OnConfirm::Quit,
                    ..
                })
            )
        {
            self.overlay = Some(Overlay::Confirm {
                title: "Quit?".into(),
                message: "You have unsaved changes. Quit and lose them?".into(),
                on_yes: OnConfirm::Quit,
                danger: true,
            });
            return vec![];
        }
        self.quit = true;
        vec![Effect::Quit]
    }

    fn switch_tab(&mut self, tab: Tab) -> Vec<Effect> {
        self.tab = tab;
        self.reload_visible()
    }

    fn on_action(&mut self, action: Action) -> Vec<Effect> {
        if self.session.read_only && action.is_mutation() {
            self.error(format!(
                "read-only session: {} is disabled",
                format!("{action:?}").to_lowercase()
            ));
            return vec![];
        }
        let pane = match self.tab {
            Tab::Orders => self.on_orders_action(action),
            Tab::Events => self.on_events_action(action),
            Tab::Audit => {
                let tenant = self.session.tenant.slug.clone();
                let body = (self.size.0, self.body_height());
                self.audit
                    .on_action(action, body, &tenant, self.now)
                    .map(|intents| {
                        let mut fx = self.audit_effects(intents);
                        fx.extend(self.reload_visible());
                        fx
                    })
            }
            _ => None,
        };
        if let Some(fx) = pane {
            return fx;
        }
        let h = self.list_height();
        match action {
            Action::Quit => self.request_quit(),
            Action::Help => {
                self.overlay = Some(Overlay::Help { scroll: 0 });
                vec![]
            }
            Action::Palette => {
                self.overlay = Some(Overlay::Palette(Palette::default()));
                vec![]
            }
            Action::NextTab | Action::PrevTab => {
                let i = TABS.iter().position(|t| *t == self.tab).unwrap_or(0);
                let n = if action == Action::NextTab {
                    (i + 1) % TABS.len()
                } else {
                    (i + TABS.len() - 1) % TABS.len()
                };
                self.switch_tab(TABS[n])
            }
            Action::TabDashboard => self.switch_tab(Tab::Dashboard),
            Action::TabContent => self.switch_tab(Tab::Content),
            Action::TabTranslations => self.switch_tab(Tab::Translations),
            Action::TabOrders => self.switch_tab(Tab::Orders),
            Action::TabEvents => self.switch_tab(Tab::Events),
            Action::TabAudit => self.switch_tab(Tab::Audit),
            Action::Refresh => {
                self.info("reloading");
                self.refresh_all()
            }
            Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom => {
                let Some(list) = self.focused_list_mut() else {
                    return vec![];
                };
                match action {
                    Action::Up => list.move_by(-1, h),
                    Action::Down => list.move_by(1, h),
                    Action::PageUp => list.move_by(-i64::from(h.max(1)), h),
                    Action::PageDown => list.move_by(i64::from(h.max(1)), h),
                    Action::Top => list.select(0, h),
                    _ => {
                        let last = list.total().saturating_sub(1);
                        list.select(last, h)
                    }
                }
                self.reload_visible()
            }
            Action::Filter => {
                let Some(list) = self.focused_list_mut() else {
                    return vec![];
                };
                match list.start_filter() {
                    Some(q) => {
                        let p = if self.tab == Tab::Content {
                            Pending::ContentCandidates
                        } else {
                            Pending::TranslationsCandidates
                        };
                        self.load(p, q)
                    }
                    None => vec![],
                }
            }
            Action::Back => {
                if let Some(list) = self.focused_list_mut()
                    && list.filter.is_some()
                {
                    list.clear_filter();
                    return self.reload_visible();
                }
                vec![]
            }
            Action::Open | Action::Translate => {
                let Some(id) = self
                    .focused_list_mut()
                    .and_then(|l| l.selected().map(|n| n.id))
                else {
                    return vec![];
                };
                if self.tab == Tab::Content && action == Action::Open {
                    self.load(Pending::OpenEditor, Query::Node(id))
                } else {
                    self.tab = Tab::Translations;
                    self.load(Pending::OpenTranslation, Query::Node(id))
                }
            }
            Action::New => {
                self.tab = Tab::Content;
                self.editor = Some(NodeEditor::new_draft(
                    NodeKind::Article,
                    self.session.tenant.default_locale.clone(),
                ));
                self.info("new draft — Tab moves between fields, Ctrl-S saves, Esc closes");
                vec![]
            }
            Action::Publish | Action::Unpublish | Action::Archive | Action::Restore => {
                let node = match self.tab {
                    Tab::Content => self
                        .content
                        .selected()
                        .map(|n| (n.id, n.title.clone(), n.status, n.version)),
                    Tab::Translations => self
                        .trans_list
                        .selected()
                        .map(|n| (n.id, n.title.clone(), n.status, n.version)),
                    _ => None,
                };
                let Some((id, title, status, version)) = node else {
                    return vec![];
                };
                let node_action = match action {
                    Action::Publish => NodeAction::Publish,
                    Action::Unpublish => NodeAction::Unpublish,
                    Action::Archive => NodeAction::Archive,
                    _ => NodeAction::Restore,
                };
                self.change_status(id, &title, status, version, node_action)
            }
            _ => vec![],
        }
    }

    /// The order the Orders pane acts on: the one in detail, else the selected card.
    fn target_order(&self) -> Option<rustok_domain::read::OrderSummary> {
        match &self.orders.detail {
            Some((o, _)) => Some(rustok_domain::read::OrderSummary::of(o)),
            None => self.orders.selected().cloned(),
        }
    }

    /// Orders-pane actions; `None` lets the global bindings handle the action.
    fn on_orders_action(&mut self, action: Action) -> Option<Vec<Effect>> {
        use rustok_domain::commerce::OrderAction;
        let h = self.size.1.saturating_sub(5);
        let check =
            |o: &rustok_domain::read::OrderSummary, a: OrderAction| o.status.apply(a).map(|_| ());
        Some(match action {
            Action::Left | Action::Right => {
                if self.orders.detail.is_none() && self.orders.view == OrdersView::Board {
                    self.orders
                        .move_col(if action == Action::Left { -1 } else { 1 });
                }
                vec![]
            }
            Action::Up | Action::Down | Action::PageUp | Action::PageDown => {
                let delta = match action {
                    Action::Up => -1,
                    Action::Down => 1,
                    Action::PageUp => -i64::from(h.max(1)),
                    _ => i64::from(h.max(1)),
                };
                match self.orders.view {
                    OrdersView::Board => {
                        if let Some((_, w)) = self.orders.columns.get_mut(self.orders.col) {
                            w.move_by(delta, h);
                        }
                    }
                    OrdersView::Products => self.orders.products.move_by(delta, h),
                }
                self.reload_visible()
            }
            Action::Open => match self.orders.selected().map(|o| o.id) {
                Some(id) if self.orders.view == OrdersView::Board => {
                    self.load(Pending::OrderDetail, Query::Order(id))
                }
                _ => vec![],
            },
            Action::Back => {
                if self.orders.detail.take().is_none() {
                    self.orders.view = OrdersView::Board;
                }
                self.reload_visible()
            }
            Action::Products => {
                self.orders.detail = None;
                self.orders.view = match self.orders.view {
                    OrdersView::Board => OrdersView::Products,
                    OrdersView::Products => OrdersView::Board,
                };
                self.reload_visible()
            }
            Action::NewOrder => {
                self.orders.form = Some(Form::new_order());
                vec![]
            }
            Action::AdjustStock => {
                match (self.orders.view, self.orders.products.selected()) {
                    (OrdersView::Products, Some(row)) => self.orders.form = Some(Form::adjust(row)),
                    _ => self.info("open the stock list (i) and select a SKU to adjust"),
                }
                vec![]
            }
            Action::OrderConfirm
            | Action::OrderPay
            | Action::OrderShip
            | Action::OrderDeliver
            | Action::OrderCancel => {
                let Some(o) = self.target_order() else {
                    return Some(vec![]);
                };
                let order_action = match action {
                    Action::OrderConfirm => OrderAction::Confirm,
                    Action::OrderPay => OrderAction::Pay,
                    Action::OrderShip => OrderAction::Ship,
                    Action::OrderDeliver => OrderAction::Deliver,
                    _ => OrderAction::Cancel,
                };
                if let Err(e) = check(&o, order_action) {
                    self.error(e.to_string());
                    return Some(vec![]);
                }
                match order_action {
                    OrderAction::Confirm => self.dispatch(
                        Pending::Order("confirming".into()),
                        Command::ConfirmOrder {
                            id: o.id,
                            expected_version: Some(o.version),
                        },
                    ),
                    OrderAction::Deliver => self.dispatch(
                        Pending::Order("marking delivered".into()),
                        Command::DeliverOrder { id: o.id },
                    ),
                    OrderAction::Pay => {
                        self.orders.form = Some(Form::pay(&o));
                        vec![]
                    }
                    OrderAction::Ship => {
                        self.orders.form = Some(Form::ship(&o));
                        vec![]
                    }
                    OrderAction::Cancel => {
                        self.orders.form = Some(Form::cancel(&o));
                        vec![]
                    }
                }
            }
            _ => return None,
        })
    }

    fn on_form_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let Some(form) = &mut self.orders.form else {
            return vec![];
        };
        match form.key(key) {
            FormKey::Editing => vec![],
            FormKey::Cancelled => {
                self.orders.form = None;
                vec![]
            }
            FormKey::Submit(command) => {
                if self.session.read_only {
                    self.orders.form = None;
                    self.error("read-only session: changes are disabled");
                    return vec![];
                }
                let label = match &command {
                    Command::PayOrder { .. } => "charging the card",
                    Command::ShipOrder { .. } => "shipping",
                    Command::CancelOrder { .. } => "cancelling",
                    Command::AdjustInventory { .. } => "adjusting stock",
                    Command::CreateOrder(_) => "placing the order",
                    _ => "working",
                };
                self.orders.form = None;
                self.dispatch(Pending::Order(label.into()), command)
            }
        }
    }

    /// Events-pane actions; `None` lets the global bindings handle the action.
    fn on_events_action(&mut self, action: Action) -> Option<Vec<Effect>> {
        let own = self.session.tenant.id;
        let h = self.events_height();
        Some(match action {
            Action::Up | Action::Down | Action::PageUp | Action::PageDown => {
                let delta = match action {
                    Action::Up => -1,
                    Action::Down => 1,
                    Action::PageUp => -i64::from(h.max(1)),
                    _ => i64::from(h.max(1)),
                };
                self.events.move_by(delta, h, own);
                self.reload_visible()
            }
            Action::Follow => {
                self.events.toggle_follow();
                vec![]
            }
            Action::Filter => {
                self.events.filter_editing = true;
                vec![]
            }
            Action::Inspect => {
                self.events.inspect = !self.events.inspect;
                vec![]
            }
            Action::Open => match self.events.selected_event(own) {
                Some(e) => self.open_aggregate(&e),
                None => vec![],
            },
            Action::History => {
                if self.events.mode == EventsMode::History {
                    self.events.mode = EventsMode::Live;
                    vec![]
                } else {
                    self.events.open_history();
                    self.reload_visible()
                }
            }
            Action::DeadLetters => {
                if self.events.mode == EventsMode::DeadLetters {
                    self.events.mode = EventsMode::Live;
                    vec![]
                } else {
                    self.events.mode = EventsMode::DeadLetters;
                    self.events.dead = None;
                    self.load(Pending::DeadLetters, Query::DeadLetters)
                }
            }
            Action::Retry => {
                match (self.events.mode, self.events.selected_dead_letter()) {
                    (EventsMode::DeadLetters, Some(d)) => {
                        let event = d.envelope.id;
                        self.dispatch(
                            Pending::Retry,
                            Command::RetryDeadLetters { ids: vec![event] },
                        )
                    }
                    _ => {
                        self.info("open the dead letters (D) and select one to retry; :retry re-queues all");
                        vec![]
                    }
                }
            }
            Action::Back => {
                if self.events.inspect {
                    self.events.inspect = false;
                } else if self.events.mode != EventsMode::Live {
                    self.events.mode = EventsMode::Live;
                } else if !self.events.filter_text.is_empty() {
                    self.events.set_filter(String::new());
                }
                vec![]
            }
            _ => return None,
        })
    }

    fn on_events_filter_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let mut text = self.events.filter_text.clone();
        match key.code {
            KeyCode::Esc => {
                self.events.filter_editing = false;
                text.clear();
            }
            KeyCode::Enter => {
                self.events.filter_editing = false;
                return vec![];
            }
            KeyCode::Backspace => {
                text.pop();
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => text.push(c),
            _ => return vec![],
        }
        self.events.set_filter(text);
        vec![]
    }

    /// From an event to what it is about: its order, its node, or its product's stock.
    fn open_aggregate(&mut self, e: &EventEnvelope) -> Vec<Effect> {
        match e.aggregate_type.as_str() {
            "order" => {
                self.tab = Tab::Orders;
                self.orders.form = None;
                self.load(
                    Pending::OrderDetail,
                    Query::Order(OrderId::from_uuid(e.aggregate_id)),
                )
            }
            "node" => {
                self.tab = Tab::Content;
                self.load(
                    Pending::OpenEditor,
                    Query::Node(NodeId::from_uuid(e.aggregate_id)),
                )
            }
            "product" => {
                self.tab = Tab::Orders;
                self.orders.detail = None;
                self.orders.view = OrdersView::Products;
                self.reload_visible()
            }
            _ => {
                self.events.inspect = true;
                vec![]
            }
        }
    }

    /// Publishes, unpublishes, archives or restores; the destructive ones ask first.
    fn change_status(
        &mut self,
        id: NodeId,
        title: &str,
        status: NodeStatus,
        version: i64,
        action: NodeAction,
    ) -> Vec<Effect> {
        if let Err(e) = status.apply(action) {
            self.error(e.to_string());
            return vec![];
        }
        let command = Command::ChangeNodeStatus {
            id,
            action,
            expected_version: Some(version),
        };
        if action.is_destructive() {
            self.overlay = Some(Overlay::Confirm {
                title: format!("{} node?", capitalize(action.as_str())),
                message: format!(
                    "{} “{}”? Readers will no longer see it.",
                    capitalize(action.as_str()),
                    printable(title)
                ),
                on_yes: OnConfirm::Dispatch(Box::new(command), Pending::Transition(action)),
                danger: true,
            });
            return vec![];
        }
        self.dispatch(Pending::Transition(action), command)
    }

    fn on_filter_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let Some(list) = self.focused_list_mut() else {
            return vec![];
        };
        let Some(f) = &mut list.filter else {
            return vec![];
        };
        let mut query = f.query.clone();
        match key.code {
            KeyCode::Esc => {
                list.clear_filter();
                return self.reload_visible();
            }
            KeyCode::Enter | KeyCode::Down | KeyCode::Up => {
                f.editing = false;
                return vec![];
            }
            KeyCode::Backspace => {
                query.pop();
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => query.push(c),
            _ => return vec![],
        }
        list.set_filter_query(query);
        vec![]
    }

    fn on_editor_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let Some(editor) = &mut self.editor else {
            return vec![];
        };
        match self.keymap.lookup(Context::Editor, &key) {
            Some(Action::Save) => {
                if !editor.dirty && editor.node_id.is_some() {
                    self.info("nothing to save");
                    return vec![];
                }
                if editor.saving {
                    return vec![];
                }
                editor.clear_errors();
                editor.saving = true;
                let title = editor.title.text();
                let command = editor.save_command();
                let fx = self.dispatch(Pending::Save { title }, command);
                if fx.is_empty()
                    && let Some(e) = &mut self.editor
                {
                    e.saving = false;
                }
                fx
            }
            Some(Action::Back) => {
                if editor.dirty {
                    self.overlay = Some(Overlay::Confirm {
                        title: "Close the editor?".into(),
                        message: "Your changes are not saved. Close and lose them?".into(),
                        on_yes: OnConfirm::CloseEditor,
                        danger: true,
                    });
                    return vec![];
                }
                self.editor = None;
                self.reload_visible()
            }
            Some(Action::NextField) => {
                editor.next_field();
                vec![]
            }
            Some(Action::PrevField) => {
                editor.prev_field();
                vec![]
            }
            Some(Action::CycleFormat) => {
                editor.cycle_format();
                vec![]
            }
            Some(Action::CycleKind) => {
                if !editor.cycle_kind() {
                    self.info("the kind of a saved node cannot change");
                }
                vec![]
            }
            Some(Action::Publish) => {
                let (Some(id), Some(status), Some(v)) =
                    (editor.node_id, editor.status, editor.base_version)
                else {
                    self.info("save the draft first (Ctrl-S)");
                    return vec![];
                };
                if editor.dirty {
                    self.info("save your changes first (Ctrl-S)");
                    return vec![];
                }
                let title = editor.title.text();
                self.change_status(id, &title, status, v, NodeAction::Publish)
            }
            _ => {
                editor.input(key);
                vec![]
            }
        }
    }

    fn on_translation_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let locales = self.tenant_locales();
        let Some(ed) = &mut self.trans_editor else {
            return vec![];
        };
        match self.keymap.lookup(Context::Editor, &key) {
            Some(Action::Save) => {
                if !ed.dirty {
                    self.info("nothing to save");
                    return vec![];
                }
                if ed.saving {
                    return vec![];
                }
                ed.saving = true;
                let command = ed.save_command();
                let fx = self.dispatch(Pending::Translate, command);
                if fx.is_empty()
                    && let Some(e) = &mut self.trans_editor
                {
                    e.saving = false;
                }
                fx
            }
            Some(Action::Back) => {
                if ed.dirty {
                    self.overlay = Some(Overlay::Confirm {
                        title: "Close the translation?".into(),
                        message: "Your translation is not saved. Close and lose it?".into(),
                        on_yes: OnConfirm::CloseTranslation,
                        danger: true,
                    });
                    return vec![];
                }
                self.trans_editor = None;
                self.reload_visible()
            }
            Some(Action::NextField) => {
                ed.next_field();
                vec![]
            }
            Some(Action::PrevField) => {
                ed.prev_field();
                vec![]
            }
            Some(Action::NextLocale) => {
                if ed.dirty {
                    self.info("save or close this translation before switching locale");
                    return vec![];
                }
                let mut choices = locales;
                for t in &ed.node.translations {
                    if !choices.contains(&t.locale) {
                        choices.push(t.locale.clone());
                    }
                }
                choices.retain(|l| *l != ed.node.source_locale);
                if choices.is_empty() {
                    self.info("no other locale yet: type :locale es (for example)");
                    return vec![];
                }
                let i = choices
                    .iter()
                    .position(|l| *l == ed.target)
                    .map_or(0, |i| (i + 1) % choices.len());
                let node = ed.node.clone();
                self.trans_editor = Some(TranslationEditor::new(node, choices[i].clone()));
                vec![]
            }
            _ => {
                ed.input(key);
                vec![]
            }
        }
    }

    /// The locales this tenant uses: the default first, then every locale some node has.
    fn tenant_locales(&self) -> Vec<Locale> {
        let mut out = vec![self.session.tenant.default_locale.clone()];
        if let Some(c) = &self.coverage {
            for (l, _) in &c.locales {
                if !out.contains(l) {
                    out.push(l.clone());
                }
            }
        }
        out
    }

    fn on_overlay_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let Some(overlay) = self.overlay.take() else {
            return vec![];
        };
        match overlay {
            Overlay::Help { scroll } => {
                match key.code {
                    KeyCode::Up | KeyCode::Char('k') => {
                        self.overlay = Some(Overlay::Help {
                            scroll: scroll.saturating_sub(1),
                        })
                    }
                    KeyCode::Down | KeyCode::Char('j') => {
                        self.overlay = Some(Overlay::Help { scroll: scroll + 1 })
                    }
                    KeyCode::PageDown => {
                        self.overlay = Some(Overlay::Help {
                            scroll: scroll + 10,
                        })
                    }
                    KeyCode::PageUp => {
                        self.overlay = Some(Overlay::Help {
                            scroll: scroll.saturating_sub(10),
                        })
                    }
                    _ => {}
                }
                vec![]
            }
            Overlay::Palette(mut p) => match key.code {
                KeyCode::Esc => vec![],
                KeyCode::Enter => self.run_command(&p.input),
                KeyCode::Tab => {
                    if let Some((cmd, _)) = p.suggestions().first() {
                        p.input = format!("{} ", cmd.split(' ').next().unwrap_or(cmd));
                    }
                    self.overlay = Some(Overlay::Palette(p));
                    vec![]
                }
                KeyCode::Backspace => {
                    if p.input.pop().is_some() {
                        self.overlay = Some(Overlay::Palette(p));
                    }
                    vec![]
                }
                KeyCode::Char(c) => {
                    p.input.push(c);
                    self.overlay = Some(Overlay::Palette(p));
                    vec![]
                }
                _ => {
                    self.overlay = Some(Overlay::Palette(p));
                    vec![]
                }
            },
            Overlay::Confirm {
                title,
                message,
                on_yes,
                danger,
            } => match self.keymap.lookup(Context::Dialog, &key) {
                Some(Action::Confirm) => match on_yes {
                    OnConfirm::Dispatch(c, p) => self.dispatch(p, *c),
                    OnConfirm::Quit => {
                        self.quit = true;
                        vec![Effect::Quit]
                    }
                    OnConfirm::CloseEditor => {
                        self.editor = None;
                        self.reload_visible()
                    }
                    OnConfirm::CloseTranslation => {
                        self.trans_editor = None;
                        self.reload_visible()
                    }
                },
                Some(Action::Cancel) => vec![],
                _ => {
                    self.overlay = Some(Overlay::Confirm {
                        title,
                        message,
                        on_yes,
                        danger,
                    });
                    vec![]
                }
            },
            Overlay::Conflict { message } => match key.code {
                KeyCode::Char('r') => {
                    let Some(id) = self.editor.as_ref().and_then(|e| e.node_id) else {
                        return vec![];
                    };
                    self.load(Pending::ReloadEditor, Query::Node(id))
                }
                KeyCode::Char('c') => {
                    let Some(e) = &mut self.editor else {
                        return vec![];
                    };
                    e.saving = true;
                    let command = e.copy_command();
                    self.dispatch(Pending::SaveCopy, command)
                }
                KeyCode::Esc => {
                    self.info("still editing; your text is kept");
                    vec![]
                }
                _ => {
                    self.overlay = Some(Overlay::Conflict { message });
                    vec![]
                }
            },
        }
    }

    fn run_command(&mut self, line: &str) -> Vec<Effect> {
        let line = line.trim();
        let (cmd, arg) = match line.split_once(char::is_whitespace) {
            Some((c, a)) => (c, a.trim()),
            None => (line, ""),
        };
        match cmd {
            "" => vec![],
            "q" | "quit" => self.request_quit(),
            "help" => {
                self.overlay = Some(Overlay::Help { scroll: 0 });
                vec![]
            }
            "refresh" => self.refresh_all(),
            "tenant" if !arg.is_empty() => vec![Effect::SwitchTenant(arg.to_string())],
            "theme" => match self.themes.iter().find(|(n, _)| n == arg).cloned() {
                Some((name, theme)) => {
                    self.theme = theme;
                    self.theme_name = name.clone();
                    self.info(format!("theme {name}"));
                    vec![]
                }
                None => {
                    let names: Vec<&str> = self.themes.iter().map(|(n, _)| n.as_str()).collect();
                    self.error(format!(
                        "unknown theme '{}'; available: {}",
                        printable(arg),
                        names.join(", ")
                    ));
                    vec![]
                }
            },
            "node" => match arg.parse::<NodeId>() {
                Ok(id) => {
                    self.tab = Tab::Content;
                    self.load(Pending::OpenEditor, Query::Node(id))
                }
                Err(e) => {
                    self.error(e.to_string());
                    vec![]
                }
            },
            "new" => {
                let kind = if arg.is_empty() {
                    Ok(NodeKind::Article)
                } else {
                    arg.parse::<NodeKind>()
                };
                match kind {
                    Ok(k) if !self.session.read_only => {
                        self.tab = Tab::Content;
                        self.editor = Some(NodeEditor::new_draft(
                            k,
                            self.session.tenant.default_locale.clone(),
                        ));
                        vec![]
                    }
                    Ok(_) => self.on_action(Action::New),
                    Err(e) => {
                        self.error(e.to_string());
                        vec![]
                    }
                }
            }
            "locale" => match arg.parse::<Locale>() {
                Ok(l) => match &self.trans_editor {
                    Some(ed) if ed.dirty => {
                        self.info("save or close this translation before switching locale");
                        vec![]
                    }
                    Some(ed) if l == ed.node.source_locale => {
                        self.error(format!("{l} is the source locale"));
                        vec![]
                    }
                    Some(ed) => {
                        let node = ed.node.clone();
                        self.trans_editor = Some(TranslationEditor::new(node, l));
                        vec![]
                    }
                    None => {
                        self.info("open a node in Translations first (t on a node)");
                        vec![]
                    }
                },
                Err(e) => {
                    self.error(e.to_string());
                    vec![]
                }
            },
            "order" => match arg.parse::<OrderId>() {
                Ok(id) => {
                    self.tab = Tab::Orders;
                    self.load(Pending::OrderDetail, Query::Order(id))
                }
                Err(e) => {
                    self.error(e.to_string());
                    vec![]
                }
            },
            "retry" => {
                if self.session.read_only {
                    self.error("read-only session: changes are disabled");
                    return vec![];
                }
                self.tab = Tab::Events;
                self.events.mode = EventsMode::DeadLetters;
                self.dispatch(Pending::Retry, Command::RetryDeadLetters { ids: vec![] })
            }
            "publish" => self.on_action(Action::Publish),
            "unpublish" => self.on_action(Action::Unpublish),
            "archive" => self.on_action(Action::Archive),
            "restore" => self.on_action(Action::Restore),
            other => {
                self.error(format!(
                    "unknown command ':{}' — type : and Tab to see commands",
                    printable(other)
                ));
                vec![]
            }
        }
    }

    fn on_loaded(&mut self, id: RequestId, result: Result<QueryResult, Failure>) -> Vec<Effect> {
        let Some(p) = self.pending.remove(&id) else {
            return vec![];
        };
        let result = match result {
            Ok(r) => r,
            Err(f) => {
                match p {
                    Pending::ContentWindow => self.content.on_load_failed(),
                    Pending::TranslationsWindow => self.trans_list.on_load_failed(),
                    Pending::OrdersColumn(i) => {
                        if let Some((_, w)) = self.orders.columns.get_mut(i) {
                            w.on_failed();
                        }
                        // A denial is the role's, not an error of the console: the board
                        // says why.
                        if let Failure::Domain(DomainError::PermissionDenied { reason }) = &f {
                            self.orders.denied = Some(reason.clone());
                            return vec![];
                        }
                    }
                    Pending::Products => self.orders.products.on_failed(),
                    Pending::History => self.events.history_loading = false,
                    // The pane says why (a denial is not an error of the console).
                    Pending::AuditLog(_) => {
                        self.audit.on_log_failed(&f);
                        return vec![];
                    }
                    Pending::Staff => {
                        self.audit.on_staff_failed(&f);
                        return vec![];
                    }
                    Pending::OrderStats | Pending::LowStock => {
                        self.dashboard.loading = self.dashboard.loading.saturating_sub(1);
                        if let (
                            Pending::OrderStats,
                            Failure::Domain(DomainError::PermissionDenied { reason }),
                        ) = (&p, &f)
                        {
                            self.dashboard.orders_denied = Some(reason.clone());
                            return vec![];
                        }
                    }
                    Pending::Count(_) | Pending::Outbox => {
                        self.dashboard.loading = self.dashboard.loading.saturating_sub(1)
                    }
                    _ => {}
                }
                self.error(format!("could not load: {f}"));
                return vec![];
            }
        };
        match (p, result) {
            (Pending::ContentWindow, QueryResult::Nodes(page)) => {
                self.content.on_page(page);
                self.reload_visible()
            }
            (Pending::TranslationsWindow, QueryResult::Nodes(page)) => {
                self.trans_list.on_page(page);
                self.reload_visible()
            }
            (Pending::ContentCandidates, QueryResult::Nodes(page)) => {
                self.content.on_candidates(page);
                vec![]
            }
            (Pending::TranslationsCandidates, QueryResult::Nodes(page)) => {
                self.trans_list.on_candidates(page);
                vec![]
            }
            (Pending::Count(s), QueryResult::Nodes(page)) => {
                self.dashboard.set_count(s, page.total);
                self.dashboard_loaded()
            }
            (Pending::Outbox, QueryResult::OutboxCounts(c, oldest)) => {
                self.dashboard.outbox = Some((c, oldest));
                self.dashboard_loaded()
            }
            (Pending::OrderStats, QueryResult::OrderStats(stats)) => {
                self.dashboard.orders = Some(stats);
                self.dashboard_loaded()
            }
            (Pending::LowStock, QueryResult::Products(page)) => {
                self.dashboard.low_stock = Some(page.rows);
                self.dashboard_loaded()
            }
            (Pending::OrdersColumn(i), QueryResult::Orders(page)) => {
                if let Some((_, w)) = self.orders.columns.get_mut(i) {
                    w.on_page(rustok_domain::read::Page {
                        total: page.total,
                        offset: page.offset,
                        rows: page.rows.into_iter().map(Card::from).collect(),
                    });
                }
                self.reload_visible()
            }
            (Pending::Products, QueryResult::Products(page)) => {
                self.orders.products.on_page(page);
                self.reload_visible()
            }
            (Pending::OrderDetail, QueryResult::Order(Some(order), events)) => {
                self.tab = Tab::Orders;
                self.orders.detail = Some((order, events));
                vec![]
            }
            (Pending::OrderDetail, QueryResult::Order(None, _)) => {
                self.error("that order does not exist in this tenant");
                vec![]
            }
            (Pending::DeadLetters, QueryResult::Events(rows)) => {
                self.events.on_dead_letters(rows);
                vec![]
            }
            (Pending::History, QueryResult::Events(rows)) => {
                self.events.on_history(rows);
                vec![]
            }
            (Pending::AuditLog(filter), QueryResult::AuditLog(page, tenants)) => {
                if filter != self.audit.log_query {
                    return vec![];
                }
                self.audit.on_log(page, tenants);
                self.reload_visible()
            }
            (Pending::Staff, QueryResult::Staff(staff)) => {
                let body = self.body_height();
                self.audit.on_staff(staff, body);
                vec![]
            }
            (Pending::Coverage, QueryResult::LocaleCoverage(c)) => {
                self.coverage = Some(c);
                vec![]
            }
            (Pending::OpenEditor, QueryResult::Node(Some(node))) => {
                self.editor = Some(NodeEditor::from_node(&node, None));
                vec![]
            }
            (Pending::ReloadEditor, QueryResult::Node(Some(node))) => {
                let locale = self.editor.as_ref().map(|e| e.locale.clone());
                self.editor = Some(NodeEditor::from_node(&node, locale.as_ref()));
                self.info(format!(
                    "reloaded version {} from the database",
                    node.version
                ));
                vec![]
            }
            (Pending::OpenTranslation, QueryResult::Node(Some(node))) => {
                let wanted = self.tenant_locales();
                match TranslationEditor::default_target(&node, &wanted) {
                    Some(target) => self.trans_editor = Some(TranslationEditor::new(node, target)),
                    None => {
                        // Nothing suggests a locale yet: open one with the palette.
                        self.trans_editor = None;
                        self.info("this tenant has one locale; type :locale es (for example) after opening");
                        let fallback = if node.source_locale.as_str() == "en" {
                            "es"
                        } else {
                            "en"
                        };
                        if let Ok(l) = fallback.parse() {
                            self.trans_editor = Some(TranslationEditor::new(node, l));
                        }
                    }
                }
                vec![]
            }
            (
                Pending::OpenEditor | Pending::ReloadEditor | Pending::OpenTranslation,
                QueryResult::Node(None),
            ) => {
                self.error("that node no longer exists");
                vec![]
            }
            _ => vec![],
        }
    }

    fn dashboard_loaded(&mut self) -> Vec<Effect> {
        self.dashboard.loading = self.dashboard.loading.saturating_sub(1);
        if self.dashboard.loading == 0 && self.dashboard.stale && self.tab == Tab::Dashboard {
            return self.reload_visible();
        }
        vec![]
    }

    fn on_outcome(&mut self, id: RequestId, result: Result<Applied, Failure>) -> Vec<Effect> {
        let Some(p) = self.pending.remove(&id) else {
            return vec![];
        };
        if let Pending::Order(label) = &p {
            let label = label.clone();
            return self.on_order_outcome(&label, result);
        }
        match result {
            Ok(applied) => {
                if let (Pending::Retry, Outcome::Requeued(n)) = (&p, &applied.outcome) {
                    self.info(format!("{n} dead letter(s) back in the queue"));
                    self.events.dead = None;
                    let mut fx = self.refresh_all();
                    fx.extend(self.load(Pending::DeadLetters, Query::DeadLetters));
                    return fx;
                }
                let node = match applied.outcome {
                    Outcome::Node(n) => Some(n),
                    _ => None,
                };
                match (p, node) {
                    (Pending::StaffChange(label), _) => {
                        self.audit.invalidate_staff();
                        self.info(label);
                    }
                    (Pending::Save { .. }, Some(n)) => {
                        if let Some(e) = &mut self.editor {
                            e.saved(&n);
                        }
                        self.info(format!(
                            "saved “{}” — version {}",
                            printable(&n.source().title),
                            n.version
                        ));
                    }
                    (Pending::SaveCopy, Some(n)) => {
                        self.editor = Some(NodeEditor::from_node(&n, None));
                        self.info("your text is saved as a new draft");
                    }
                    (Pending::Transition(a), Some(n)) => {
                        if let Some(e) = &mut self.editor
                            && e.node_id == Some(n.id)
                            && !e.dirty
                        {
                            e.saved(&n);
                        }
                        self.info(format!(
                            "{} is now {}",
                            printable(&n.source().title),
                            n.status
                        ));
                        let _ = a;
                    }
                    (Pending::Translate, Some(n)) => {
                        let target = self.trans_editor.as_ref().map(|e| e.target.clone());
                        if let Some(e) = &mut self.trans_editor {
                            e.saved(n);
                        }
                        if let Some(t) = target {
                            self.info(format!("translation {t} saved"));
                        }
                    }
                    _ => {}
                }
                self.refresh_all()
            }
            Err(failure) => {
                if let Some(e) = &mut self.editor {
                    e.saving = false;
                }
                if let Some(e) = &mut self.trans_editor {
                    e.saving = false;
                }
                match (&p, &failure) {
                    (
                        Pending::Save { .. } | Pending::SaveCopy,
                        Failure::Domain(d @ DomainError::VersionConflict { .. }),
                    ) => {
                        self.overlay = Some(Overlay::Conflict {
                            message: d.to_string(),
                        });
                    }
                    (Pending::Save { .. } | Pending::SaveCopy, Failure::Domain(d)) => {
                        let shown = self.editor.as_mut().is_some_and(|e| e.show_error(d));
                        if shown {
                            self.error("not saved: fix the field marked ✗");
                        } else {
                            self.error(format!("not saved: {d}"));
                        }
                    }
                    (Pending::Translate, Failure::Domain(d)) => {
                        if matches!(d, DomainError::VersionConflict { .. }) {
                            self.error(format!("not saved: {d} — someone changed this node; your text is kept, close and reopen to see theirs"));
                        } else {
                            let shown = self.trans_editor.as_mut().is_some_and(|e| e.show_error(d));
                            self.error(if shown {
                                "not saved: fix the field marked ✗".to_string()
                            } else {
                                format!("not saved: {d}")
                            });
                        }
                    }
                    // The database failed (read-only, disk full, unreachable): the editor keeps
                    // the text, so saving again once it is fixed loses nothing.
                    (Pending::Save { .. } | Pending::SaveCopy | Pending::Translate, f) => {
                        self.error(format!("not saved, your text is kept: {f}"))
                    }
                    (_, f) => self.error(f.to_string()),
                }
                vec![]
            }
        }
    }

    fn on_order_outcome(&mut self, label: &str, result: Result<Applied, Failure>) -> Vec<Effect> {
        match result {
            Ok(applied) => {
                match &applied.outcome {
                    Outcome::Order(o) => {
                        let short = crate::panes::orders::short(o.id);
                        self.info(format!("order {short} is {}", o.status));
                        if let Some((open, _)) = &mut self.orders.detail
                            && open.id == o.id
                        {
                            *open = o.clone();
                        }
                    }
                    Outcome::Product(p) => {
                        let stock: Vec<String> = p
                            .variants
                            .iter()
                            .map(|v| format!("{} on hand {}", printable(&v.sku), v.on_hand))
                            .collect();
                        self.info(format!("stock adjusted: {}", stock.join(", ")));
                    }
                    _ => self.info(format!("{label}: done")),
                }
                let mut fx = self.refresh_all();
                if let Some((o, _)) = &self.orders.detail {
                    let id = o.id;
                    fx.extend(self.load(Pending::OrderDetail, Query::Order(id)));
                }
                fx
            }
            Err(Failure::Domain(d @ DomainError::PaymentDeclined { .. })) => {
                self.error(format!("{d} — the order stays confirmed"));
                self.refresh_all()
            }
            Err(f) => {
                self.error(format!("{label} failed: {f}"));
                vec![]
            }
        }
    }

    fn on_event(&mut self, e: Arc<EventEnvelope>) -> Vec<Effect> {
        let own = self.session.tenant.id;
        let mine = e.tenant_id == own;
        let aggregate = (e.aggregate_type.clone(), e.aggregate_id);
        self.events.push(e, own);
        // Every command is in the audit log; staff and tenant changes are what the security
        // audit reads, so continuous monitoring checks at once instead of at its next tick.
        self.audit.invalidate_log();
        if aggregate.0 == "staff" {
            self.audit.invalidate_staff();
        }
        let mut audit_fx = Vec::new();
        if matches!(aggregate.0.as_str(), "staff" | "tenant") && self.audit.watching() {
            audit_fx.push(Effect::CheckAudit);
        }
        if self.tab == Tab::Audit {
            audit_fx.extend(self.reload_visible());
        }
        if !mine {
            return audit_fx;
        }
        match aggregate.0.as_str() {
            "node" => {
                self.content.invalidate();
                self.trans_list.invalidate();
            }
            "order" | "product" => self.orders.invalidate(),
            _ => {}
        }
        self.dashboard.stale = true;
        let mut fx = audit_fx;
        if self.tab != Tab::Audit {
            fx.extend(self.reload_visible());
        }
        if aggregate.0 == "order"
            && let Some((o, _)) = &self.orders.detail
            && o.id.as_uuid() == aggregate.1
            && !self.pending.values().any(|p| *p == Pending::OrderDetail)
        {
            let id = o.id;
            fx.extend(self.load(Pending::OrderDetail, Query::Order(id)));
        }
        fx
    }

    // ----- draw -------------------------------------------------------------------------

    pub fn draw(&self, frame: &mut Frame) {
        let area = frame.area();
        frame.render_widget(Block::new().style(self.theme.base()), area);
        let [tabs, body, command, status] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Fill(1),
            Constraint::Length(1),
            Constraint::Length(1),
        ])
        .areas(area);
        let titles: Vec<&str> = TABS.iter().map(|t| t.title()).collect();
        let selected = TABS.iter().position(|t| *t == self.tab).unwrap_or(0);
        bars::tabs(
            frame,
            tabs,
            &self.theme,
            &titles,
            selected,
            &printable(&self.session.tenant.name),
        );
        self.draw_body(frame, body);
        self.draw_command_bar(frame, command);
        let busy = self
            .pending
            .values()
            .find_map(Pending::label)
            .map(|l| (SPINNER[self.spinner], l));
        let down = self
            .db_down
            .as_ref()
            .map(|why| format!("database unreachable: {why} — retrying"));
        let message = match &down {
            Some(d) => Some((d.as_str(), true)),
            None => self.flash.as_ref().map(|f| (f.text.as_str(), f.error)),
        };
        bars::status_bar(
            frame,
            status,
            &self.theme,
            &bars::Status {
                tenant: &self.session.tenant.slug,
                actor: &self.session.actor,
                role: &self.session.role,
                database: &self.session.database,
                read_only: self.session.read_only,
                queue_depth: self.queue_depth,
                busy: busy.as_ref().map(|(c, l)| (*c, l.as_str())),
                message,
            },
        );
        match &self.overlay {
            Some(Overlay::Help { scroll }) => help::draw(
                frame,
                body,
                &self.theme,
                &self.keymap,
                self.session.read_only,
                *scroll,
            ),
            Some(Overlay::Palette(p)) => p.draw(frame, body, &self.theme),
            Some(Overlay::Confirm {
                title,
                message,
                danger,
                ..
            }) => dialog::draw(
                frame,
                body,
                &self.theme,
                title,
                &[Line::raw(message.clone())],
                &[("y", "yes"), ("n", "no")],
                *danger,
            ),
            Some(Overlay::Conflict { message }) => dialog::draw(
                frame,
                body,
                &self.theme,
                "Someone else saved this node",
                &[
                    Line::raw(message.clone()),
                    Line::raw("Your text is still here. What now?"),
                ],
                &[
                    ("r", "reload theirs (drop mine)"),
                    ("c", "keep mine as a copy"),
                    ("Esc", "keep editing"),
                ],
                true,
            ),
            None => {}
        }
    }

    fn draw_body(&self, frame: &mut Frame, area: Rect) {
        let theme = &self.theme;
        match self.tab {
            Tab::Dashboard => {
                let recent = self.events.latest(RECENT_EVENTS, self.session.tenant.id);
                self.dashboard.draw(
                    frame,
                    area,
                    theme,
                    &crate::panes::dashboard::View {
                        tenant: &self.session.tenant,
                        coverage: self.coverage.as_ref(),
                        recent: &recent,
                        rate: self.events.rate(),
                        now: self.now,
                    },
                )
            }
            Tab::Orders => self.orders.draw(frame, area, theme),
            Tab::Events => self.events.draw(frame, area, theme, self.session.tenant.id),
            Tab::Content => match &self.editor {
                Some(e) => e.draw(frame, area, theme),
                None => self.content.draw(frame, area, theme, true, "Content"),
            },
            Tab::Translations => match &self.trans_editor {
                Some(e) => e.draw(frame, area, theme),
                None => {
                    let [list, side] = Layout::horizontal([
                        Constraint::Percentage(62),
                        Constraint::Percentage(38),
                    ])
                    .areas(area);
                    self.trans_list.draw(frame, list, theme, true, "Translate");
                    self.draw_coverage(frame, side);
                }
            },
            Tab::Audit => self
                .audit
                .draw(frame, area, theme, &self.session.tenant.slug, self.now),
        }
    }

    fn draw_coverage(&self, frame: &mut Frame, area: Rect) {
        let theme = &self.theme;
        let mut lines = vec![
            Line::styled("Which locales are missing", theme.muted()),
            Line::raw(""),
        ];
        match &self.coverage {
            None => lines.push(Line::styled("loading…", theme.muted())),
            Some(c) => {
                for (l, have) in &c.locales {
                    let missing = c.total_nodes.saturating_sub(*have);
                    let pct = crate::widgets::node_list::percent(*have, c.total_nodes);
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
                                format!("{} missing", crate::widgets::node_list::group(missing))
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
                    ":locale xx in the editor adds a new locale.",
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

    fn draw_command_bar(&self, frame: &mut Frame, area: Rect) {
        let theme = &self.theme;
        if let Some(Overlay::Palette(p)) = &self.overlay {
            bars::input_line(
                frame,
                area,
                theme,
                ":",
                &p.input,
                "Enter run · Tab complete · Esc cancel",
            );
            return;
        }
        let list = match self.tab {
            Tab::Content if self.editor.is_none() => Some(&self.content),
            Tab::Translations if self.trans_editor.is_none() => Some(&self.trans_list),
            _ => None,
        };
        if self.tab == Tab::Events && self.events.filter_editing {
            bars::input_line(
                frame,
                area,
                theme,
                "/",
                &self.events.filter_text,
                "type:PREFIX agg:ID|TYPE tenant:* words · Enter keep · Esc clear",
            );
            return;
        }
        if self.tab == Tab::Audit && self.audit.export.is_some() {
            bars::input_line(
                frame,
                area,
                theme,
                "file: ",
                self.audit.export.as_ref().map_or("", |d| d.path.as_str()),
                "Tab format · Enter write · Esc cancel",
            );
            return;
        }
        if self.tab == Tab::Audit && self.audit.captures_text() {
            let q = match self.audit.view {
                AuditView::Staff => &self.audit.staff_list.query,
                AuditView::Log => &self.audit.log_query,
                AuditView::Findings => &self.audit.findings.query,
            };
            bars::input_line(frame, area, theme, "/", q, "Enter keep · Esc clear");
            return;
        }
        if let Some(f) = list.and_then(|l| l.filter.as_ref())
            && f.editing
        {
            bars::input_line(frame, area, theme, "/", &f.query, "Enter keep · Esc clear");
            return;
        }
        use Action as A;
        use Context::{Dialog, Editor, Global, List};
        let mut cmds: Vec<(Context, Action)> = match (&self.overlay, self.tab) {
            (Some(Overlay::Confirm { .. }), _) => vec![(Dialog, A::Confirm), (Dialog, A::Cancel)],
            (Some(_), _) => vec![],
            (None, Tab::Content) if self.editor.is_some() => {
                let mut v = vec![
                    (Editor, A::Save),
                    (Editor, A::NextField),
                    (Editor, A::CycleFormat),
                ];
                if self.editor.as_ref().is_some_and(|e| e.node_id.is_none()) {
                    v.push((Editor, A::CycleKind));
                } else {
                    v.push((Editor, A::Publish));
                }
                v.push((Editor, A::Back));
                v
            }
            (None, Tab::Translations) if self.trans_editor.is_some() => {
                vec![
                    (Editor, A::Save),
                    (Editor, A::NextField),
                    (Editor, A::NextLocale),
                    (Editor, A::Back),
                ]
            }
            (None, Tab::Content) => vec![
                (List, A::Open),
                (List, A::New),
                (List, A::Publish),
                (List, A::Unpublish),
                (List, A::Archive),
                (List, A::Restore),
                (List, A::Translate),
                (List, A::Filter),
                (Global, A::Palette),
                (Global, A::Help),
                (Global, A::Quit),
            ],
            (None, Tab::Orders) if self.orders.form.is_some() => vec![],
            (None, Tab::Orders) if self.orders.detail.is_some() => vec![
                (Context::Orders, A::OrderConfirm),
                (Context::Orders, A::OrderPay),
                (Context::Orders, A::OrderShip),
                (Context::Orders, A::OrderDeliver),
                (Context::Orders, A::OrderCancel),
                (Context::Orders, A::Back),
                (Global, A::Help),
            ],
            (None, Tab::Orders) if self.orders.view == OrdersView::Products => vec![
                (Context::Orders, A::AdjustStock),
                (Context::Orders, A::NewOrder),
                (Context::Orders, A::Back),
                (Global, A::Help),
                (Global, A::Quit),
            ],
            // Refused the orders: nothing on the board to act on, only the stock list.
            (None, Tab::Orders)
                if self.orders.denied.is_some() && self.orders.view == OrdersView::Board =>
            {
                vec![
                    (Context::Orders, A::Products),
                    (Global, A::Help),
                    (Global, A::Quit),
                ]
            }
            (None, Tab::Orders) => vec![
                (Context::Orders, A::Open),
                (Context::Orders, A::OrderConfirm),
                (Context::Orders, A::OrderPay),
                (Context::Orders, A::OrderShip),
                (Context::Orders, A::OrderDeliver),
                (Context::Orders, A::OrderCancel),
                (Context::Orders, A::NewOrder),
                (Context::Orders, A::Products),
                (Global, A::Help),
                (Global, A::Quit),
            ],
            (None, Tab::Events) => {
                let mut v = vec![
                    (Context::Events, A::Follow),
                    (Context::Events, A::Filter),
                    (Context::Events, A::Inspect),
                    (Context::Events, A::Open),
                    (Context::Events, A::History),
                    (Context::Events, A::DeadLetters),
                ];
                if self.events.mode == EventsMode::DeadLetters {
                    v.push((Context::Events, A::Retry));
                }
                v.extend([(Global, A::Help), (Global, A::Quit)]);
                v
            }
            (None, Tab::Audit) => {
                use crate::keymap::Context::Audit;
                let detail = match self.audit.view {
                    AuditView::Findings => self.audit.findings.detail,
                    AuditView::Staff => self.audit.staff_list.detail,
                    AuditView::Log => false,
                };
                let mut v = vec![
                    (Audit, A::AuditFindings),
                    (Audit, A::AuditLog),
                    (Audit, A::AuditStaff),
                ];
                match self.audit.view {
                    _ if detail => v.push((Audit, A::Back)),
                    AuditView::Findings => v.extend([
                        (Audit, A::Open),
                        (Audit, A::Filter),
                        (Audit, A::CycleSeverity),
                        (Audit, A::RerunAudit),
                        (Audit, A::ExportAudit),
                    ]),
                    AuditView::Staff => v.extend([
                        (Audit, A::Open),
                        (Audit, A::Filter),
                        (Audit, A::ToggleMfa),
                        (Audit, A::ToggleActive),
                    ]),
                    AuditView::Log => v.push((Global, A::Refresh)),
                }
                v.extend([(Global, A::Help), (Global, A::Quit)]);
                v
            }
            (None, Tab::Translations) => vec![
                (List, A::Translate),
                (List, A::Filter),
                (Global, A::Palette),
                (Global, A::Help),
                (Global, A::Quit),
            ],
            (None, _) => vec![
                (Global, A::NextTab),
                (Global, A::Refresh),
                (Global, A::Palette),
                (Global, A::Help),
                (Global, A::Quit),
            ],
        };
        if self.session.read_only {
            cmds.retain(|(_, a)| !a.is_mutation());
        }
        bars::command_bar(frame, area, theme, &self.keymap, &cmds);
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
