//! The panes. Each is a component (the gitui model): it owns its state and its outstanding
//! requests, turns keys into changes (reporting whether it consumed the key), takes its own
//! replies and the bus events it cares about, names its command-bar entries and draws itself.
//! `App` keeps the tabs, the overlays, the routing of keys and replies, and the request map.

pub mod audit;
pub mod conflict;
pub mod content;
pub mod dashboard;
pub mod editor;
pub mod events;
pub mod history;
pub mod orders;
pub mod schedule;
pub mod search;
pub mod sessions;
pub mod translate;
pub mod translations;

use crate::action::Action;
use crate::app::{Session, Tab};
use crate::keymap::{Context, Keymap};
use crate::msg::{Effect, Failure, Query, QueryResult, RequestId};
use crate::theme::Theme;
use ratatui::crossterm::event::KeyEvent;
use rustok_domain::Command;
use rustok_domain::event::EventEnvelope;
use rustok_domain::read::Applied;
use std::collections::BTreeMap;

/// What a pane did with a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// The pane used it.
    Consumed,
    /// Not the pane's: the app tries its global bindings with the action the key maps to.
    Unused(Option<Action>),
}

/// What the command bar shows for a pane.
#[derive(Debug, Clone, PartialEq)]
pub enum Bar {
    /// Key hints, generated from the keymap.
    Keys(Vec<(Context, Action)>),
    /// A one-line text input: prompt, text, hint.
    Input(&'static str, String, &'static str),
}

/// A line for the status bar and the message log.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub text: String,
    pub error: bool,
}

/// Something a pane asks of the app (which owns tabs and overlays).
#[derive(Debug, Clone, PartialEq)]
pub enum Ask {
    /// Ask "yes or no"; yes calls the pane's `confirmed`.
    Confirm {
        title: String,
        message: String,
        danger: bool,
    },
    /// The content pane should load and open this node (a jump from another pane).
    OpenNode(rustok_domain::NodeId),
    /// The translations pane should open this node for translation.
    OpenTranslation(rustok_domain::NodeId),
    /// The translations pane should open this node for translation into this locale.
    OpenTranslationIn(rustok_domain::NodeId, rustok_domain::Locale),
    /// Open a new draft of this kind in the content pane.
    NewDraft(rustok_domain::content::NodeKind),
    /// The orders pane should open this order.
    OpenOrder(rustok_domain::OrderId),
    /// The orders pane should show the stock list with this product's SKU selected.
    OpenStock(uuid::Uuid),
}

/// What the panes produced while the app routed one message to them.
#[derive(Debug, Default)]
pub struct Out {
    next_id: RequestId,
    /// Which pane each outstanding request belongs to.
    pub routes: BTreeMap<RequestId, Tab>,
    pub fx: Vec<Effect>,
    pub notes: Vec<Note>,
    /// What the panes asked of the app, with the pane that asked.
    pub asks: Vec<(Tab, Ask)>,
}

impl Out {
    pub fn new() -> Out {
        Out {
            next_id: 1,
            ..Out::default()
        }
    }

    pub fn next_request(&mut self, pane: Tab) -> RequestId {
        let id = self.next_id;
        self.next_id += 1;
        self.routes.insert(id, pane);
        id
    }
}

/// What a pane may read and ask for while it handles a message.
pub struct Ctx<'a> {
    /// The pane being called (its requests are routed back to it).
    pub pane: Tab,
    pub session: &'a Session,
    pub keymap: &'a Keymap,
    /// The terminal's size.
    pub size: (u16, u16),
    pub now: Option<chrono::DateTime<chrono::Utc>>,
    pub out: &'a mut Out,
}

impl Ctx<'_> {
    pub fn load(&mut self, q: Query) -> RequestId {
        let id = self.out.next_request(self.pane);
        self.out.fx.push(Effect::Load(id, q));
        id
    }

    /// Dispatches a command; a read-only session refuses it (`None`).
    pub fn dispatch(&mut self, c: Command) -> Option<RequestId> {
        if self.session.read_only {
            self.error("read-only session: changes are disabled");
            return None;
        }
        let id = self.out.next_request(self.pane);
        self.out.fx.push(Effect::Dispatch(id, c));
        Some(id)
    }

    /// An effect that is answered (like a query): its request id routes the answer back to
    /// this pane.
    pub fn request(&mut self, make: impl FnOnce(RequestId) -> Effect) -> RequestId {
        let id = self.out.next_request(self.pane);
        self.out.fx.push(make(id));
        id
    }

    pub fn effect(&mut self, e: Effect) {
        self.out.fx.push(e);
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.out.notes.push(Note {
            text: text.into(),
            error: false,
        });
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.out.notes.push(Note {
            text: text.into(),
            error: true,
        });
    }

    pub fn ask(&mut self, a: Ask) {
        self.out.asks.push((self.pane, a));
    }

    pub fn confirm(&mut self, title: impl Into<String>, message: impl Into<String>) {
        self.ask(Ask::Confirm {
            title: title.into(),
            message: message.into(),
            danger: true,
        });
    }

    /// The action a key maps to in the pane's context, else in the global one.
    pub fn action(&self, context: Context, key: &KeyEvent) -> Option<Action> {
        self.keymap
            .lookup(context, key)
            .or_else(|| self.keymap.lookup(Context::Global, key))
    }

    /// The session refuses `action` at once (with a line saying why): a read-only session
    /// every mutation, a role what the command behind it needs (`Session::refusal`). Called
    /// when the key is pressed, before any form or confirmation opens: true if refused.
    pub fn refuses(&mut self, action: Action) -> bool {
        self.refuses_needing(action, action.requirement())
    }

    /// [`Ctx::refuses`] for a key whose command needs `needed` (see `Session::refusal_needing`).
    pub fn refuses_needing(
        &mut self,
        action: Action,
        needed: Option<rustok_domain::rbac::Requirement>,
    ) -> bool {
        match self.session.refusal_needing(action, needed) {
            Some(why) => {
                self.error(why);
                true
            }
            None => false,
        }
    }

    /// The height of the node lists (the body minus the table's borders and header).
    pub fn list_height(&self) -> u16 {
        self.size.1.saturating_sub(3).saturating_sub(3)
    }

    /// The body's height (the screen minus the tab line, command bar and status bar).
    pub fn body_height(&self) -> u16 {
        self.size.1.saturating_sub(3)
    }
}

/// A pane's contract with the app.
pub trait Pane {
    /// Requests whatever the visible pane is missing.
    fn reload(&mut self, ctx: &mut Ctx);
    /// Marks everything the pane shows out of date (the next `reload` asks again).
    fn invalidate(&mut self);
    fn on_key(&mut self, key: KeyEvent, ctx: &mut Ctx) -> Key;
    fn on_paste(&mut self, _text: &str) {}
    fn on_loaded(&mut self, id: RequestId, result: Result<QueryResult, Failure>, ctx: &mut Ctx);
    fn on_outcome(&mut self, _id: RequestId, _result: Result<Applied, Failure>, _ctx: &mut Ctx) {}
    /// A committed event of the session's tenant (or any tenant, for panes that say so).
    fn on_event(&mut self, _e: &EventEnvelope, _ctx: &mut Ctx) {}
    /// The user said yes to the pane's question.
    fn confirmed(&mut self, _ctx: &mut Ctx) {}
    fn bar(&self) -> Bar;
    /// What the pane is waiting for, for the spinner.
    fn busy(&self) -> Option<String> {
        None
    }
    /// Unsaved text would be lost on quit.
    fn dirty(&self) -> bool {
        false
    }
    fn restyle(&mut self, _theme: &Theme) {}
}

/// The standard list movements, as rows.
pub fn step(action: Action, page: u16) -> Option<i64> {
    let page = i64::from(page.max(1));
    Some(match action {
        Action::Up => -1,
        Action::Down => 1,
        Action::PageUp => -page,
        Action::PageDown => page,
        _ => return None,
    })
}

/// Applies a one-line text input key to `text`: `Some(true)` when Enter keeps it,
/// `Some(false)` when Esc clears it, `None` while typing.
pub fn edit_line(text: &mut String, key: &KeyEvent) -> Option<bool> {
    use ratatui::crossterm::event::{KeyCode, KeyModifiers};
    match key.code {
        KeyCode::Esc => {
            text.clear();
            Some(false)
        }
        KeyCode::Enter => Some(true),
        KeyCode::Backspace => {
            text.pop();
            None
        }
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
            text.push(c);
            None
        }
        _ => None,
    }
}

pub fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
