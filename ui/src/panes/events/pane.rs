//! The Events pane as a component: its keys, its requests (history pages, dead letters,
//! retry) and replies, and its command bar.

use super::{EventsPane, HISTORY_PAGE, Mode};
use crate::action::Action;
use crate::keymap::Context;
use crate::msg::{Failure, Query, QueryResult, RequestId};
use crate::panes::{Ask, Bar, Ctx, Key, Pane, edit_line, step};
use crate::widgets::node_list::short_id;
use ratatui::crossterm::event::KeyEvent;
use rustok_domain::event::EventEnvelope;
use rustok_domain::event::query::MAX_QUERY_BYTES;
use rustok_domain::read::{Applied, Outcome};
use rustok_domain::{Command, NodeId, OrderId};

#[derive(Debug, Clone, PartialEq)]
pub enum Pending {
    History,
    /// `:seek WHEN` past the live list: the first stored event since then.
    Seek(chrono::DateTime<chrono::Utc>),
    DeadLetters,
    Retry,
}

impl EventsPane {
    fn height(ctx: &Ctx) -> u16 {
        ctx.size.1.saturating_sub(3 + 4 + 3)
    }

    fn load_dead_letters(&mut self, ctx: &mut Ctx) {
        if !self.pending.values().any(|p| *p == Pending::DeadLetters) {
            let r = ctx.load(Query::DeadLetters);
            self.pending.insert(r, Pending::DeadLetters);
        }
    }

    /// `:retry`: re-drives every dead letter the filter matches (all of them without a
    /// filter), after a confirmation showing how many (the dry run). The dead letters are
    /// loaded first if they are not yet.
    pub fn retry_all(&mut self, ctx: &mut Ctx) {
        if self.mode != Mode::DeadLetters || self.dead.is_none() {
            self.mode = Mode::DeadLetters;
            self.redrive_when_loaded = true;
            self.load_dead_letters(ctx);
            return;
        }
        self.arm_matching(ctx);
    }

    /// Asks to re-drive the dead letters shown (those matching the filter).
    fn arm_matching(&mut self, ctx: &mut Ctx) {
        let ids: Vec<_> = self.dead_matching().iter().map(|d| d.envelope.id).collect();
        if ids.is_empty() {
            ctx.info(if self.filter_text.is_empty() {
                "no dead letters to re-drive"
            } else {
                "no dead letter matches the filter: nothing to re-drive"
            });
            return;
        }
        let what = if self.filter_text.is_empty() {
            "every dead letter of this tenant".to_string()
        } else {
            format!(
                "the dead letters matching '{}'",
                rustok_domain::text::excerpt(&self.filter_text, 60)
            )
        };
        let n = ids.len();
        self.armed = Some(ids);
        ctx.confirm(
            "Re-drive dead letters",
            format!("Dry run: {n} dead letter(s) would be put back in the queue ({what}). Re-drive them?"),
        );
    }

    /// Asks to re-drive the selected dead letter.
    fn arm_selected(&mut self, ctx: &mut Ctx) {
        let Some(d) = self.selected_dead_letter() else {
            return;
        };
        let (id, label) = (
            d.envelope.id,
            format!(
                "{} of {} {} ({}× {})",
                d.envelope.event_type,
                d.envelope.aggregate_type,
                short_id(d.envelope.aggregate_id),
                d.attempts,
                rustok_domain::text::excerpt(d.last_error.as_deref().unwrap_or(""), 60)
            ),
        );
        self.armed = Some(vec![id]);
        ctx.confirm(
            "Re-drive a dead letter",
            format!("Dry run: 1 dead letter would be put back in the queue: {label}. Re-drive it?"),
        );
    }

    /// `:seek SEQ` / `:seek WHEN`: see [`EventsPane::seek`].
    pub fn seek_command(&mut self, arg: &str, ctx: &mut Ctx) {
        match self.seek(arg, ctx.session.tenant.id) {
            Ok(said) => {
                ctx.info(said);
                if let Some(at) = self.seek_since.take() {
                    let r = ctx.load(Query::FirstEventSince(at));
                    self.pending.insert(r, Pending::Seek(at));
                }
                self.reload(ctx);
            }
            Err(e) => ctx.error(e),
        }
    }

    /// From an event to what it is about: its order, its node, or its product's stock.
    fn open_aggregate(&mut self, e: &EventEnvelope, ctx: &mut Ctx) {
        match e.aggregate_type.as_str() {
            "order" => ctx.ask(Ask::OpenOrder(OrderId::from_uuid(e.aggregate_id))),
            "node" => ctx.ask(Ask::OpenNode(NodeId::from_uuid(e.aggregate_id))),
            "product" => ctx.ask(Ask::OpenStock(e.aggregate_id)),
            _ => self.inspect = true,
        }
    }

    fn on_action(&mut self, action: Action, ctx: &mut Ctx) -> bool {
        let own = ctx.session.tenant.id;
        let h = Self::height(ctx);
        match action {
            Action::Up | Action::Down | Action::PageUp | Action::PageDown => {
                self.move_by(step(action, h).unwrap_or(0), h, own);
                self.reload(ctx);
            }
            Action::Follow => self.toggle_follow(own),
            Action::Filter => self.filter_editing = true,
            Action::Inspect => self.inspect = !self.inspect,
            Action::Open => {
                if let Some(e) = self.selected_event(own) {
                    // Paused on it, so the event is still selected when Esc comes back.
                    self.pause(own);
                    self.open_aggregate(&e, ctx);
                }
            }
            Action::History => {
                if self.mode == Mode::History {
                    self.mode = Mode::Live;
                } else {
                    self.open_history();
                    self.reload(ctx);
                }
            }
            Action::DeadLetters => {
                if self.mode == Mode::DeadLetters {
                    self.mode = Mode::Live;
                } else {
                    self.mode = Mode::DeadLetters;
                    self.dead = None;
                    self.load_dead_letters(ctx);
                }
            }
            Action::Retry => match (self.mode, self.selected_dead_letter().is_some()) {
                (Mode::DeadLetters, true) => self.arm_selected(ctx),
                _ => ctx.info(
                    "open the dead letters (D) and select one to re-drive; :retry re-drives all that match the filter",
                ),
            },
            Action::Back => {
                if self.inspect {
                    self.inspect = false;
                } else if self.mode != Mode::Live {
                    self.mode = Mode::Live;
                } else if !self.filter_text.is_empty() {
                    self.set_filter(String::new());
                } else {
                    return false;
                }
            }
            _ => return false,
        }
        true
    }
}

impl Pane for EventsPane {
    fn reload(&mut self, ctx: &mut Ctx) {
        if let Some(before_seq) = self.history_needs(Self::height(ctx)) {
            let r = ctx.load(Query::EventHistory {
                before_seq,
                limit: HISTORY_PAGE,
            });
            self.pending.insert(r, Pending::History);
        }
        if self.mode == Mode::DeadLetters && self.dead.is_none() {
            self.load_dead_letters(ctx);
        }
    }

    fn invalidate(&mut self) {
        if self.mode == Mode::DeadLetters {
            self.dead = None;
        }
    }

    /// A paste into the filter being typed: one line (control characters become spaces),
    /// bounded as typing is.
    fn on_paste(&mut self, text: &str) {
        if !self.filter_editing {
            return;
        }
        let mut query = self.filter_text.clone();
        for c in text.chars().map(|c| if c.is_control() { ' ' } else { c }) {
            if query.len() + c.len_utf8() > MAX_QUERY_BYTES + 4 {
                break;
            }
            query.push(c);
        }
        if query != self.filter_text {
            self.set_filter(query);
        }
    }

    fn on_key(&mut self, key: KeyEvent, ctx: &mut Ctx) -> Key {
        if self.filter_editing {
            let mut text = self.filter_text.clone();
            let outcome = edit_line(&mut text, &key);
            // Bounded as it is typed: one character past the limit is kept (so the error
            // says the filter is too long), no more.
            if text.len() > MAX_QUERY_BYTES + 4 {
                return Key::Consumed;
            }
            match outcome {
                Some(true) => match &self.filter_error {
                    // A malformed expression: said in the status line, and still editable.
                    Some(e) => ctx.error(e.clone()),
                    None => self.filter_editing = false,
                },
                Some(false) => {
                    self.filter_editing = false;
                    self.set_filter(text);
                }
                None => {
                    if text != self.filter_text {
                        self.set_filter(text);
                    }
                }
            }
            return Key::Consumed;
        }
        let Some(action) = ctx.action(Context::Events, &key) else {
            return Key::Unused(None);
        };
        if ctx.refuses(action) {
            return Key::Consumed;
        }
        if self.on_action(action, ctx) {
            Key::Consumed
        } else {
            Key::Unused(Some(action))
        }
    }

    fn on_loaded(&mut self, id: RequestId, result: Result<QueryResult, Failure>, ctx: &mut Ctx) {
        let Some(p) = self.pending.remove(&id) else {
            return;
        };
        match (p, result) {
            (Pending::History, Ok(QueryResult::Events(rows))) => self.on_history(rows),
            (Pending::Seek(at), Ok(QueryResult::Events(rows))) => {
                let when = at.format("%Y-%m-%d %H:%M:%S");
                match rows.first() {
                    Some(first) => {
                        let said = self.seek_seq(first.seq, ctx.session.tenant.id);
                        ctx.info(format!("the first event since {when}: {said}"));
                    }
                    None => ctx.info(format!("no event stored since {when}")),
                }
                self.reload(ctx);
            }
            (Pending::DeadLetters, Ok(QueryResult::Events(rows))) => {
                self.on_dead_letters(rows);
                if std::mem::take(&mut self.redrive_when_loaded) {
                    self.arm_matching(ctx);
                }
            }
            (p, Err(f)) => {
                if p == Pending::History {
                    self.history_loading = false;
                }
                if p == Pending::DeadLetters {
                    self.redrive_when_loaded = false;
                }
                ctx.error(format!("could not load: {f}"));
            }
            _ => {}
        }
    }

    fn on_outcome(&mut self, id: RequestId, result: Result<Applied, Failure>, ctx: &mut Ctx) {
        if self.pending.remove(&id).is_none() {
            return;
        }
        match result {
            Ok(applied) => {
                if let Outcome::Requeued(n) = applied.outcome {
                    ctx.info(format!("{n} dead letter(s) back in the queue"));
                }
                self.dead = None;
                self.load_dead_letters(ctx);
            }
            Err(f) => ctx.error(f.to_string()),
        }
    }

    fn confirmed(&mut self, ctx: &mut Ctx) {
        // A command like any other: outbox:retry (owners and admins), refused read-only, this
        // tenant's dead letters only, one audit-log row.
        if let Some(ids) = self.armed.take()
            && let Some(r) = ctx.dispatch(Command::RetryDeadLetters { ids })
        {
            self.pending.insert(r, Pending::Retry);
        }
    }

    fn bar(&self) -> Bar {
        use Action as A;
        use Context::{Events, Global};
        if self.filter_editing {
            return Bar::Input(
                "/",
                self.filter_text.clone(),
                "type:order.* agg:ID actor: since:10m seq>N payload.F>V tenant:* words · Enter · Esc",
            );
        }
        let mut v = vec![
            (Events, A::Follow),
            (Events, A::Filter),
            (Events, A::Inspect),
            (Events, A::Open),
            (Events, A::History),
            (Events, A::DeadLetters),
        ];
        if self.mode == Mode::DeadLetters {
            v.push((Events, A::Retry));
        }
        v.extend([(Global, A::Help), (Global, A::Quit)]);
        Bar::Keys(v)
    }

    fn busy(&self) -> Option<String> {
        self.pending
            .values()
            .any(|p| *p == Pending::Retry)
            .then(|| "re-queueing…".into())
    }
}
