//! The console as a pure state machine: `update(Msg) -> Vec<Effect>` and `draw(&self)`.
//! It never awaits, queries or touches a terminal.
//!
//! `App` keeps the tabs, the overlays (help, palette, confirmation, message log), the
//! navigation stack and the request map, and routes: a key goes to the overlay, else to the
//! visible pane, which reports whether it consumed it; a reply goes to the pane that asked; a
//! bus event to the panes it touches. Everything else is the panes' (`crate::panes`).

mod overlays;
mod split;
mod view;

use crate::action::Action;
use crate::config::Config;
use crate::keymap::Keymap;
use crate::msg::{Effect, Msg};
use crate::panes::audit::AuditPane;
use crate::panes::content::ContentPane;
use crate::panes::dashboard::Dashboard;
use crate::panes::events::EventsPane;
use crate::panes::orders::{OrdersPane, View as OrdersView};
use crate::panes::sessions::SessionsPane;
use crate::panes::translations::TranslationsPane;
use crate::panes::{Ask, Ctx, Key, Note, Out, Pane};
use crate::theme::Theme;
use crate::widgets::palette::Palette;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use rustok_domain::Tenant;
use rustok_domain::content::NodeKind;
use rustok_domain::event::LiveEvent;
use rustok_domain::text::printable;
use std::collections::VecDeque;

const SPINNER: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
/// Messages the log keeps.
pub const LOG_CAPACITY: usize = 500;

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

impl Session {
    /// The role the session acts with: `None` when the member is no longer active (the
    /// status bar then shows `inactive`).
    pub fn rbac_role(&self) -> Option<rustok_domain::rbac::Role> {
        self.role.parse().ok()
    }

    /// Why the session refuses `action`, before anything opens: a read-only session refuses
    /// every mutation, and a role refuses what the command behind the action needs (the
    /// domain's rule, `Action::requirement`), in the store's words —
    /// `permission denied: manager cannot schedule publishing (needs content:publish)`.
    /// `None`: allowed here (the store still checks the command itself).
    pub fn refusal(&self, action: Action) -> Option<String> {
        self.refusal_needing(action, action.requirement())
    }

    /// [`Session::refusal`] of a key whose command needs `needed` rather than what its
    /// action names (`x` in the agenda cancels a schedule).
    pub fn refusal_needing(
        &self,
        action: Action,
        needed: Option<rustok_domain::rbac::Requirement>,
    ) -> Option<String> {
        if self.read_only && action.is_mutation() {
            return Some(format!(
                "read-only session: {} is disabled",
                action.name().replace('_', " ")
            ));
        }
        self.role_refusal(needed?)
    }

    /// Why the session's role refuses work that needs `needed` (`None`: allowed).
    pub fn role_refusal(&self, (needed, what): rustok_domain::rbac::Requirement) -> Option<String> {
        let denied = match self.rbac_role() {
            Some(role) => rustok_domain::rbac::check_permission(role, needed, what).err()?,
            None => rustok_domain::DomainError::denied(format!(
                "{} cannot {what} (needs {needed})",
                printable(&self.role)
            )),
        };
        Some(denied.to_string())
    }

    /// May the session do `action` (for the command bar and the help)?
    pub fn may(&self, action: Action) -> bool {
        self.refusal(action).is_none()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tab {
    Dashboard,
    Content,
    Translations,
    Orders,
    Events,
    Audit,
    /// The SSH sessions view: not on the tab line (opened with `S` or `:sessions`; shown
    /// there while open).
    Sessions,
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
            Tab::Sessions => "Sessions",
        }
    }
}

/// What to do when a confirmation is accepted.
#[derive(Debug, Clone, Copy, PartialEq)]
enum OnConfirm {
    /// The pane that asked goes on (it holds what it asked about).
    Pane(Tab),
    Quit,
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
    /// The message log, newest first.
    Log {
        scroll: u16,
    },
}

/// One line of the message log.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub at: Option<chrono::DateTime<chrono::Utc>>,
    pub text: String,
    pub error: bool,
}

/// The panes, one per tab.
pub(crate) struct Panes {
    pub dashboard: Dashboard,
    pub content: ContentPane,
    pub translations: TranslationsPane,
    pub orders: OrdersPane,
    pub events: EventsPane,
    pub audit: AuditPane,
    pub sessions: SessionsPane,
}

impl Panes {
    fn new(event_buffer: usize) -> Panes {
        Panes {
            dashboard: Dashboard::default(),
            content: ContentPane::default(),
            translations: TranslationsPane::default(),
            orders: OrdersPane::default(),
            events: EventsPane::new(event_buffer),
            audit: AuditPane::default(),
            sessions: SessionsPane::default(),
        }
    }

    fn get(&mut self, tab: Tab) -> &mut dyn Pane {
        match tab {
            Tab::Dashboard => &mut self.dashboard,
            Tab::Content => &mut self.content,
            Tab::Translations => &mut self.translations,
            Tab::Orders => &mut self.orders,
            Tab::Events => &mut self.events,
            Tab::Audit => &mut self.audit,
            Tab::Sessions => &mut self.sessions,
        }
    }

    fn pane(&self, tab: Tab) -> &dyn Pane {
        match tab {
            Tab::Dashboard => &self.dashboard,
            Tab::Content => &self.content,
            Tab::Translations => &self.translations,
            Tab::Orders => &self.orders,
            Tab::Events => &self.events,
            Tab::Audit => &self.audit,
            Tab::Sessions => &self.sessions,
        }
    }

    fn all(&self) -> [&dyn Pane; 7] {
        [
            &self.dashboard,
            &self.content,
            &self.translations,
            &self.orders,
            &self.events,
            &self.audit,
            &self.sessions,
        ]
    }

    /// The pane has nothing open that Esc would close (a jump back may happen).
    fn at_rest(&self, tab: Tab) -> bool {
        match tab {
            Tab::Content => self.content.editor.is_none(),
            Tab::Orders => {
                self.orders.detail.is_none()
                    && self.orders.form.is_none()
                    && self.orders.view == OrdersView::Board
            }
            _ => true,
        }
    }
}

pub struct App {
    session: Session,
    tab: Tab,
    keymap: Keymap,
    theme: Theme,
    theme_name: String,
    themes: Vec<(String, Theme)>,
    size: (u16, u16),
    panes: Panes,
    overlay: Option<Overlay>,
    /// The request map and what the panes asked for while handling a message.
    out: Out,
    /// Where jumps came from: Esc goes back.
    nav: Vec<Tab>,
    /// A second pane beside or below the focused one.
    split: Option<split::Split>,
    queue_depth: usize,
    spinner: usize,
    /// The latest message, until the next key.
    flash: Option<Note>,
    /// Every message, oldest first (bounded).
    log: VecDeque<LogLine>,
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
            panes: Panes::new(config.event_buffer),
            overlay: None,
            out: Out::new(),
            nav: Vec::new(),
            split: None,
            queue_depth: 0,
            spinner: 0,
            flash: None,
            log: VecDeque::new(),
            now: None,
            db_down: None,
            quit: false,
        };
        if app.session.read_only {
            app.info("read-only session: changes are disabled");
        }
        if config.theme != app.theme_name {
            app.error(format!(
                "unknown theme '{}', using {}",
                printable(&config.theme),
                app.theme_name
            ));
        }
        app
    }

    /// The first requests: what the opening screen needs.
    pub fn init(&mut self) -> Vec<Effect> {
        let (panes, mut ctx) = self.split(Tab::Translations);
        panes.translations.load_coverage(&mut ctx);
        // Mentions of the member while they were away (this tenant's).
        let (panes, mut ctx) = self.split(Tab::Orders);
        panes.orders.load_mentions(&mut ctx);
        self.settle()
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
        self.busy().is_some()
    }

    fn busy(&self) -> Option<String> {
        self.panes.all().iter().find_map(|p| p.busy())
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The events the Events pane keeps, oldest first (bounded by its capacity).
    pub fn event_ring(&self) -> impl DoubleEndedIterator<Item = &LiveEvent> + ExactSizeIterator {
        self.panes.events.ring()
    }

    pub fn theme_name(&self) -> &str {
        &self.theme_name
    }

    /// The member's unread mentions in this tenant, oldest first.
    pub fn mentions(&self) -> &[rustok_domain::commerce::Mention] {
        &self.panes.orders.mentions
    }

    /// The message log, newest first.
    pub fn messages(&self) -> impl Iterator<Item = &LogLine> {
        self.log.iter().rev()
    }

    // ----- routing ----------------------------------------------------------------------

    /// The panes and a context for calling `tab`'s pane.
    fn split(&mut self, tab: Tab) -> (&mut Panes, Ctx<'_>) {
        let size = self.pane_size(tab);
        (
            &mut self.panes,
            Ctx {
                pane: tab,
                session: &self.session,
                keymap: &self.keymap,
                size,
                now: self.now,
                out: &mut self.out,
            },
        )
    }

    fn with<R>(&mut self, tab: Tab, f: impl FnOnce(&mut dyn Pane, &mut Ctx) -> R) -> R {
        let (panes, mut ctx) = self.split(tab);
        f(panes.get(tab), &mut ctx)
    }

    /// Takes what the panes asked for: messages, questions and jumps; then lets the visible
    /// pane ask for what it is missing; returns the effects.
    fn settle(&mut self) -> Vec<Effect> {
        loop {
            for n in std::mem::take(&mut self.out.notes) {
                self.note(n);
            }
            let asks = std::mem::take(&mut self.out.asks);
            if asks.is_empty() {
                break;
            }
            for (from, a) in asks {
                self.on_ask(from, a);
            }
        }
        for tab in self.visible() {
            self.with(tab, |p, ctx| p.reload(ctx));
        }
        for n in std::mem::take(&mut self.out.notes) {
            self.note(n);
        }
        let theme = self.theme;
        for tab in TABS {
            self.panes.get(tab).restyle(&theme);
        }
        std::mem::take(&mut self.out.fx)
    }

    fn on_ask(&mut self, from: Tab, ask: Ask) {
        match ask {
            Ask::Confirm {
                title,
                message,
                danger,
            } => {
                self.overlay = Some(Overlay::Confirm {
                    title,
                    message,
                    on_yes: OnConfirm::Pane(from),
                    danger,
                })
            }
            Ask::OpenNode(id) => {
                self.jump(Tab::Content);
                let (panes, mut ctx) = self.split(Tab::Content);
                panes.content.open(id, &mut ctx);
            }
            Ask::OpenTranslation(id) => {
                self.show(Tab::Translations);
                let (panes, mut ctx) = self.split(Tab::Translations);
                panes.translations.open(id, &mut ctx);
            }
            Ask::OpenTranslationIn(id, l) => {
                self.show(Tab::Translations);
                let (panes, mut ctx) = self.split(Tab::Translations);
                panes.translations.open_in(id, l, &mut ctx);
            }
            Ask::NewDraft(kind) => {
                self.show(Tab::Content);
                let (panes, mut ctx) = self.split(Tab::Content);
                panes.content.new_draft(kind, &mut ctx);
            }
            Ask::OpenOrder(id) => {
                self.jump(Tab::Orders);
                let (panes, mut ctx) = self.split(Tab::Orders);
                panes.orders.open_order(id, &mut ctx);
            }
            Ask::OpenStock(product) => {
                self.jump(Tab::Orders);
                let (panes, mut ctx) = self.split(Tab::Orders);
                panes.orders.open_stock(Some(product), &mut ctx);
            }
        }
    }

    /// Shows `tab`, remembering where the jump came from.
    pub(super) fn jump(&mut self, tab: Tab) {
        if tab != self.tab {
            self.nav.push(self.tab);
            if self.nav.len() > 32 {
                self.nav.remove(0);
            }
        }
        self.show(tab);
    }

    fn note(&mut self, n: Note) {
        if self.log.len() == LOG_CAPACITY {
            self.log.pop_front();
        }
        self.log.push_back(LogLine {
            at: self.now,
            text: n.text.clone(),
            error: n.error,
        });
        self.flash = Some(n);
    }

    fn info(&mut self, text: impl Into<String>) {
        self.note(Note {
            text: text.into(),
            error: false,
        });
    }

    fn error(&mut self, text: impl Into<String>) {
        self.note(Note {
            text: text.into(),
            error: true,
        });
    }

    /// Marks everything out of date (Ctrl-R, a lagged bus, the database back).
    fn refresh_all(&mut self) {
        for tab in TABS {
            self.panes.get(tab).invalidate();
        }
        self.panes.sessions.invalidate();
        let (panes, mut ctx) = self.split(Tab::Translations);
        panes.translations.load_coverage(&mut ctx);
    }

    // ----- update -----------------------------------------------------------------------

    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Key(key) => return self.on_key(key),
            Msg::Paste(text) => {
                match &mut self.overlay {
                    Some(Overlay::Palette(p)) => p.input.push_str(&text.replace(['\n', '\r'], " ")),
                    Some(_) => {}
                    None => self.panes.get(self.tab).on_paste(&text),
                }
                // A paste may change what a pane asks for (the board's filter).
                return self.settle();
            }
            Msg::Resize(w, h) => {
                self.size = (w, h);
                let lh = self.size.1.saturating_sub(6);
                for list in [
                    &mut self.panes.content.list,
                    &mut self.panes.translations.list,
                ] {
                    let sel = list.selected_index();
                    list.select(sel, lh);
                }
            }
            Msg::Tick => {
                self.spinner = (self.spinner + 1) % SPINNER.len();
                return vec![];
            }
            Msg::QueueDepth(d) => {
                self.queue_depth = d;
                return vec![];
            }
            Msg::Loaded(id, result) => {
                if let Some(tab) = self.out.routes.remove(&id) {
                    self.with(tab, |p, ctx| p.on_loaded(id, result, ctx));
                }
            }
            Msg::Outcome(id, result) => {
                if let Some(tab) = self.out.routes.remove(&id) {
                    self.with(tab, |p, ctx| p.on_outcome(id, result, ctx));
                }
            }
            Msg::Kicked(id, result) => {
                if self.out.routes.remove(&id).is_some() {
                    let (panes, mut ctx) = self.split(Tab::Sessions);
                    panes.sessions.on_kicked(id, result, &mut ctx);
                }
            }
            Msg::Event(e) => self.on_event(e),
            Msg::Role(role) => {
                self.session.role = role.map_or_else(|| "inactive".into(), |r| r.to_string());
                let readable = |t: &str| role.is_some_and(|r| r.can_read_event(t));
                self.panes.events.forget_unreadable(readable);
                // Read again under the new role (refused, or allowed once more).
                self.panes.sessions.invalidate();
            }
            Msg::BusLagged(n) => {
                self.panes.events.dropped += n;
                self.refresh_all();
            }
            Msg::Clock(now) => {
                self.now = Some(now);
                self.panes.events.clock(now);
                let visible = self.visible();
                // The consumers' lag and rate on the dashboard are re-read on a timer.
                if visible.contains(&Tab::Dashboard) {
                    self.panes.dashboard.tick(now);
                }
                // The sessions view is re-read every second while it is shown.
                if visible.contains(&Tab::Sessions) {
                    self.panes.sessions.tick();
                } else if !self.panes.dashboard.consumers_due() {
                    return vec![];
                }
            }
            Msg::DatabaseStatus(status) => {
                let recovered = self.db_down.is_some() && status.is_none();
                self.db_down = status;
                if !recovered {
                    return vec![];
                }
                self.info("database reachable again");
                self.refresh_all();
            }
            Msg::Audit(trigger, result) => {
                let (panes, mut ctx) = self.split(Tab::Audit);
                panes.audit.on_report_msg(trigger, result, &mut ctx);
            }
            Msg::Exported(result) => match result {
                Ok(line) => self.info(line),
                Err(f) => self.error(format!("export failed: {f}")),
            },
            Msg::TenantSwitched(result) => match result {
                Ok(t) => {
                    self.info(format!("now in tenant {}", printable(&t.slug)));
                    self.session.tenant = t;
                    // A watched audit follows the session to the new tenant (monitoring
                    // then watches that one).
                    let watched = self.panes.audit.watching();
                    self.panes = Panes::new(self.panes.events.capacity());
                    self.out.routes.clear();
                    self.nav.clear();
                    let mut fx = self.init();
                    if watched && !self.panes.audit.running {
                        self.panes.audit.running = true;
                        fx.push(Effect::RunAudit);
                    }
                    return fx;
                }
                Err(f) => self.error(f.to_string()),
            },
        }
        self.settle()
    }

    fn on_event(&mut self, e: LiveEvent) {
        let own = self.session.tenant.id;
        self.panes.events.push(e.clone(), own);
        if let Some(lost) = self.panes.events.take_lost() {
            self.info(lost);
        }
        // The audit log is every tenant's; the other panes show the session's tenant only.
        self.with(Tab::Audit, |p, ctx| p.on_event(&e, ctx));
        if e.tenant_id != own {
            return;
        }
        for tab in [Tab::Dashboard, Tab::Content, Tab::Translations, Tab::Orders] {
            self.with(tab, |p, ctx| p.on_event(&e, ctx));
        }
    }

    fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if key.kind == KeyEventKind::Release {
            return vec![];
        }
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            self.request_quit();
            return self.settle();
        }
        if self.overlay.is_some() {
            self.on_overlay_key(key);
            return self.settle();
        }
        self.flash = None;
        let tab = self.tab;
        let was_at_rest = self.panes.at_rest(tab);
        let used = self.with(tab, |p, ctx| p.on_key(key, ctx));
        match used {
            Key::Consumed => {
                // Esc that closed what a jump opened (an order, a node) goes back too.
                if key.code == KeyCode::Esc
                    && !was_at_rest
                    && self.panes.at_rest(tab)
                    && self.out.asks.is_empty()
                    && self.tab == tab
                {
                    self.back();
                }
            }
            Key::Unused(Some(action)) => self.on_action(action),
            Key::Unused(None) => {}
        }
        self.settle()
    }

    /// Pops the navigation stack: back to the pane a jump came from.
    fn back(&mut self) -> bool {
        match self.nav.pop() {
            Some(tab) => {
                self.show(tab);
                true
            }
            None => false,
        }
    }

    fn request_quit(&mut self) {
        let dirty = self.panes.all().iter().any(|p| p.dirty());
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
            return;
        }
        self.quit = true;
        self.out.fx.push(Effect::Quit);
    }

    /// Shows the SSH sessions view (Esc goes back to where it was opened).
    fn open_sessions(&mut self) {
        self.panes.sessions.open();
        self.jump(Tab::Sessions);
    }

    fn switch_tab(&mut self, tab: Tab) {
        self.nav.clear();
        self.show(tab);
    }

    /// The global bindings: what no pane consumed.
    fn on_action(&mut self, action: Action) {
        if let Some(why) = self.session.refusal(action) {
            self.error(why);
            return;
        }
        match action {
            Action::Quit => self.request_quit(),
            Action::Help => self.overlay = Some(Overlay::Help { scroll: 0 }),
            Action::Messages => self.overlay = Some(Overlay::Log { scroll: 0 }),
            Action::Split => self.toggle_split(),
            Action::FocusOther => self.focus_other(),
            Action::Palette => self.overlay = Some(Overlay::Palette(Palette::default())),
            Action::NextTab | Action::PrevTab => {
                let i = TABS.iter().position(|t| *t == self.tab).unwrap_or(0);
                let n = if action == Action::NextTab {
                    (i + 1) % TABS.len()
                } else {
                    (i + TABS.len() - 1) % TABS.len()
                };
                self.switch_tab(TABS[n]);
            }
            Action::TabDashboard => self.switch_tab(Tab::Dashboard),
            Action::TabContent => self.switch_tab(Tab::Content),
            Action::TabTranslations => self.switch_tab(Tab::Translations),
            Action::TabOrders => self.switch_tab(Tab::Orders),
            Action::TabEvents => self.switch_tab(Tab::Events),
            Action::TabAudit => self.switch_tab(Tab::Audit),
            Action::Sessions => self.open_sessions(),
            Action::Refresh => {
                self.info("reloading");
                self.refresh_all();
            }
            Action::Back => {
                self.back();
            }
            Action::OpenMention => match self.panes.orders.take_newest_mention() {
                Some(m) => {
                    self.out.fx.push(Effect::MarkMentionsRead(vec![m.note_id]));
                    self.on_ask(self.tab, Ask::OpenOrder(m.order_id));
                }
                None => self.info("no unread mentions"),
            },
            Action::New => {
                self.out
                    .asks
                    .push((self.tab, Ask::NewDraft(NodeKind::Article)));
                self.info("new draft — Tab moves between fields, Ctrl-S saves, Esc closes");
            }
            _ => {}
        }
    }
}
