//! The SSH sessions view (owners and admins): who is connected to the console over SSH —
//! handle, role, source address, since when, idle time, window size — re-read every second
//! while it is shown, and ending a session with a reason and a confirmation.
//!
//! It is not one of the tabs: `S` (or `:sessions`) opens it from anywhere and Esc goes back.
//! The runtime answers `Query::SshSessions` from the server's session table (a console running
//! over SSH) or from the control sockets of the servers running from the data directory (a
//! local console); the read needs `staff:read`, ending a session `staff:update`, both checked
//! by the runtime. The selection is the session (`server`, `id`), never a row number.

use crate::action::Action;
use crate::keymap::Context;
use crate::msg::{Effect, Failure, Query, QueryResult, RequestId};
use crate::panes::{Bar, Ctx, Key, Pane, edit_line, step};
use crate::theme::Theme;
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, Wrap};
use rustok_domain::DomainError;
use rustok_domain::read::{SshSession, SshSessions};
use rustok_domain::text::printable;
use std::collections::BTreeMap;

/// The longest kick reason (what the server keeps of one, so the client reads it whole).
pub const MAX_REASON: usize = 64;
/// What the client reads when no reason is typed (as `rustok ssh kick` says).
pub const DEFAULT_REASON: &str = "ended by an administrator";

/// One session for good: its server and its id there.
pub type SessionKey = (String, u64);

fn key_of(s: &SshSession) -> SessionKey {
    (s.server.clone(), s.id)
}

/// Whether the sessions could be read.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Access {
    #[default]
    Unknown,
    Allowed,
    /// Refused (not an owner or admin): the one-line reason, naming the permission.
    Denied(String),
    /// The last read failed (the rows shown, if any, are from before).
    Failed(String),
}

#[derive(Debug, Clone, Default)]
pub struct SessionsPane {
    /// The latest answer.
    pub list: Option<SshSessions>,
    pub access: Access,
    /// The highlighted session.
    pub selected: Option<SessionKey>,
    /// The first row shown.
    top: usize,
    /// Read again at the next `reload`.
    stale: bool,
    /// The read in flight (one at a time).
    loading: Option<RequestId>,
    /// When the rows were read (the runtime's clock).
    pub read_at: Option<DateTime<Utc>>,
    /// The kick reason being typed, for this session.
    pub reason: Option<(SshSession, String)>,
    /// The session and reason waiting for "yes".
    armed: Option<(SshSession, String)>,
    /// Kicks on their way.
    kicking: BTreeMap<RequestId, SshSession>,
    /// Sessions this console ended since the last read (their end was said already).
    ended: Vec<SessionKey>,
}

impl SessionsPane {
    /// Opened (again): read at once, also after a refusal (the role may have changed).
    pub fn open(&mut self) {
        if matches!(self.access, Access::Denied(_)) {
            self.access = Access::Unknown;
        }
        self.stale = true;
    }

    /// The once-a-second clock while the view is shown: read again (not after a refusal).
    pub fn tick(&mut self) {
        if !matches!(self.access, Access::Denied(_)) {
            self.stale = true;
        }
    }

    fn rows(&self) -> &[SshSession] {
        self.list.as_ref().map_or(&[], |l| l.sessions.as_slice())
    }

    fn index(&self) -> Option<usize> {
        let key = self.selected.as_ref()?;
        self.rows().iter().position(|s| key_of(s) == *key)
    }

    /// The highlighted session's row.
    pub fn current(&self) -> Option<&SshSession> {
        self.index().map(|i| &self.rows()[i])
    }

    fn select(&mut self, i: usize, height: u16) {
        let rows = self.rows();
        if rows.is_empty() {
            self.selected = None;
            self.top = 0;
            return;
        }
        let i = i.min(rows.len() - 1);
        self.selected = Some(key_of(&rows[i]));
        let h = usize::from(height.max(1));
        if i < self.top {
            self.top = i;
        } else if i >= self.top + h {
            self.top = i + 1 - h;
        }
    }

    /// Rows the table shows (the body minus the borders and the header).
    fn height(ctx: &Ctx) -> u16 {
        ctx.body_height().saturating_sub(3 + 2)
    }

    fn on_sessions(&mut self, list: SshSessions, ctx: &mut Ctx) {
        // The selection follows the session; if it ended, the row that took its place.
        let before = self.index();
        let gone = self.current().cloned();
        self.list = Some(list);
        self.access = Access::Allowed;
        self.read_at = ctx.now;
        let height = Self::height(ctx);
        match (self.index(), before) {
            (Some(i), _) => self.select(i, height),
            (None, Some(i)) => {
                self.select(i, height);
                if let Some(g) = gone
                    && !self.kicking.values().any(|k| key_of(k) == key_of(&g))
                    && !self.ended.contains(&key_of(&g))
                {
                    ctx.info(format!(
                        "SSH session {} of {} has ended",
                        g.id,
                        printable(&g.handle)
                    ));
                }
            }
            (None, None) => self.select(0, height),
        }
        self.ended.clear();
        // A reason typed or a question asked about a session that has ended is moot.
        let live = |s: &SshSession| self.rows().iter().any(|r| key_of(r) == key_of(s));
        if self.reason.as_ref().is_some_and(|(s, _)| !live(s)) {
            self.reason = None;
        }
    }

    /// The answer to a kick.
    pub fn on_kicked(
        &mut self,
        id: RequestId,
        result: Result<Vec<SshSession>, Failure>,
        ctx: &mut Ctx,
    ) {
        let Some(target) = self.kicking.remove(&id) else {
            return;
        };
        let who = format!("{}'s session {}", printable(&target.handle), target.id);
        match result {
            Ok(ended) if ended.is_empty() => ctx.info(format!("{who} had already ended")),
            Ok(_) => {
                ctx.info(format!("ended {who}; they were told why"));
                self.ended.push(key_of(&target));
            }
            Err(f) => ctx.error(format!("could not end {who}: {f}")),
        }
        self.stale = true;
    }

    /// `x`: ask for the reason of ending the highlighted session.
    fn start_kick(&mut self, ctx: &mut Ctx) {
        if let Access::Denied(why) = &self.access {
            ctx.error(printable(why));
            return;
        }
        match self.current().cloned() {
            Some(s) => self.reason = Some((s, String::new())),
            None => ctx.error("no session selected"),
        }
    }

    fn on_reason_key(&mut self, key: KeyEvent, ctx: &mut Ctx) {
        let Some((target, mut text)) = self.reason.take() else {
            return;
        };
        match edit_line(&mut text, &key) {
            Some(true) => {
                let reason = match text.trim() {
                    "" => DEFAULT_REASON.to_string(),
                    t => t.to_string(),
                };
                let yours = self
                    .list
                    .as_ref()
                    .and_then(|l| l.yours.as_ref())
                    .is_some_and(|y| *y == key_of(&target));
                let message = format!(
                    "End {}'s SSH session {} ({}, from {})?{} Their console closes and they read: \"your session was ended by {}: {}\"",
                    printable(&target.handle),
                    target.id,
                    printable(&target.role),
                    printable(&target.source),
                    if yours { " This is YOUR session." } else { "" },
                    printable(&ctx.session.actor),
                    printable(&reason),
                );
                self.armed = Some((target, reason));
                ctx.confirm("End SSH session?", message);
            }
            Some(false) => ctx.info("not ended"),
            None => {
                if text.chars().count() > MAX_REASON {
                    text = text.chars().take(MAX_REASON).collect();
                    ctx.error(format!("a reason is at most {MAX_REASON} characters"));
                }
                self.reason = Some((target, text));
            }
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        let mut title = vec![Span::styled(" SSH sessions ", theme.title())];
        if let Some(l) = &self.list {
            title.push(Span::styled(
                format!(
                    "· {} live · {} · every second ",
                    l.sessions.len(),
                    printable(&l.origin)
                ),
                theme.muted(),
            ));
        }
        let mut block = Block::bordered()
            .border_style(theme.border(focused))
            .title(Line::from(title));
        if let Access::Failed(why) = &self.access {
            block = block.title_bottom(Line::styled(
                format!(" could not read the sessions: {} ", printable(why)),
                theme.error(),
            ));
        }
        let message = |lines: Vec<Line<'static>>| {
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .style(theme.base())
        };
        if let Access::Denied(why) = &self.access {
            frame.render_widget(
                message(vec![
                    Line::styled("Session admin is for owners and admins.", theme.error()),
                    Line::styled(printable(why), theme.muted()),
                ])
                .block(block),
                area,
            );
            return;
        }
        let Some(list) = &self.list else {
            let text = match &self.access {
                Access::Failed(_) => "",
                _ => "loading…",
            };
            frame.render_widget(
                message(vec![Line::styled(text, theme.muted())]).block(block),
                area,
            );
            return;
        };
        if list.servers.is_empty() {
            frame.render_widget(
                message(vec![
                    Line::styled(
                        format!(
                            "No SSH server is running from {}.",
                            printable(&list.origin)
                        ),
                        theme.warning(),
                    ),
                    Line::raw(""),
                    Line::styled(
                        "Start one with `rustok serve --ssh 127.0.0.1:2222` (same data directory); its sessions show here within a second.",
                        theme.muted(),
                    ),
                ])
                .block(block),
                area,
            );
            return;
        }
        if list.sessions.is_empty() {
            frame.render_widget(
                message(vec![Line::styled(
                    format!(
                        "No console sessions on {}.",
                        printable(&list.servers.join(", "))
                    ),
                    theme.muted(),
                )])
                .block(block),
                area,
            );
            return;
        }
        let wide = area.width >= 100;
        let many = list.servers.len() > 1;
        let height = usize::from(area.height.saturating_sub(3));
        let rows: Vec<Row> = list
            .sessions
            .iter()
            .skip(self.top)
            .take(height)
            .map(|s| {
                let yours = list.yours.as_ref().is_some_and(|y| *y == key_of(s));
                let mut handle = printable(&s.handle);
                if yours {
                    handle.push_str(" (you)");
                }
                let since = if wide {
                    s.since.format("%Y-%m-%d %H:%M").to_string()
                } else {
                    s.since.format("%H:%M").to_string()
                };
                let mut cells = vec![
                    Cell::from(s.id.to_string()),
                    Cell::from(handle),
                    Cell::from(printable(&s.role)),
                    Cell::from(printable(&s.source)),
                    Cell::from(since),
                    Cell::from(idle(s.idle_secs)).style(if s.idle_secs >= 600 {
                        theme.muted()
                    } else {
                        theme.base()
                    }),
                    Cell::from(format!("{}x{}", s.cols, s.rows)),
                ];
                if many {
                    cells.push(Cell::from(printable(&s.server)));
                }
                let row = Row::new(cells);
                if self.selected.as_ref() == Some(&key_of(s)) {
                    row.style(theme.selected())
                } else {
                    row
                }
            })
            .collect();
        let mut widths = vec![
            Constraint::Length(5),
            Constraint::Fill(1),
            Constraint::Length(8),
            Constraint::Length(if wide { 24 } else { 21 }),
            Constraint::Length(if wide { 16 } else { 5 }),
            Constraint::Length(6),
            Constraint::Length(8),
        ];
        let mut header = vec!["ID", "HANDLE", "ROLE", "SOURCE", "SINCE", "IDLE", "SIZE"];
        if many {
            widths.push(Constraint::Length(21));
            header.push("SERVER");
        }
        frame.render_widget(
            Table::new(rows, widths)
                .header(Row::new(header).style(theme.muted()))
                .block(block)
                .style(theme.base()),
            area,
        );
    }
}

/// `42s`, `4m`, `2h05m`.
pub fn idle(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

impl Pane for SessionsPane {
    fn reload(&mut self, ctx: &mut Ctx) {
        if self.stale && self.loading.is_none() {
            self.stale = false;
            self.loading = Some(ctx.load(Query::SshSessions));
        }
    }

    fn invalidate(&mut self) {
        self.open();
    }

    fn on_key(&mut self, key: KeyEvent, ctx: &mut Ctx) -> Key {
        if self.reason.is_some() {
            self.on_reason_key(key, ctx);
            return Key::Consumed;
        }
        let Some(action) = ctx.action(Context::Sessions, &key) else {
            return Key::Unused(None);
        };
        let height = Self::height(ctx);
        if let Some(delta) = step(action, height) {
            let at = self.index().unwrap_or(0) as i64;
            self.select(at.saturating_add(delta).max(0) as usize, height);
            return Key::Consumed;
        }
        match action {
            Action::Top => self.select(0, height),
            Action::Bottom => self.select(usize::MAX, height),
            Action::KickSession => {
                if !ctx.refuses(action) {
                    self.start_kick(ctx);
                }
            }
            other => return Key::Unused(Some(other)),
        }
        Key::Consumed
    }

    fn on_paste(&mut self, text: &str) {
        if let Some((_, reason)) = &mut self.reason {
            let room = MAX_REASON.saturating_sub(reason.chars().count());
            reason.extend(text.chars().filter(|c| !c.is_control()).take(room));
        }
    }

    fn on_loaded(&mut self, id: RequestId, result: Result<QueryResult, Failure>, ctx: &mut Ctx) {
        if self.loading != Some(id) {
            return;
        }
        self.loading = None;
        match result {
            Ok(QueryResult::SshSessions(list)) => self.on_sessions(list, ctx),
            Ok(_) => {}
            Err(Failure::Domain(DomainError::PermissionDenied { reason })) => {
                if !matches!(self.access, Access::Denied(_)) {
                    ctx.error(format!(
                        "SSH sessions are for owners and admins: {}",
                        printable(&reason)
                    ));
                }
                self.access = Access::Denied(reason);
                self.list = None;
                self.selected = None;
                self.reason = None;
            }
            Err(f) => self.access = Access::Failed(f.to_string()),
        }
    }

    fn confirmed(&mut self, ctx: &mut Ctx) {
        let Some((target, reason)) = self.armed.take() else {
            return;
        };
        if ctx.session.read_only {
            ctx.error("read-only session: changes are disabled");
            return;
        }
        let (server, session, since) = (target.server.clone(), target.id, target.since);
        let id = ctx.request(|id| Effect::KickSession {
            id,
            server,
            session,
            since,
            reason,
        });
        self.kicking.insert(id, target);
    }

    fn bar(&self) -> Bar {
        if let Some((_, text)) = &self.reason {
            return Bar::Input(
                "reason: ",
                text.clone(),
                "Enter continue (empty: \"ended by an administrator\") · Esc cancel",
            );
        }
        use Action as A;
        use Context::{Global, Sessions};
        Bar::Keys(vec![
            (Sessions, A::KickSession),
            (Sessions, A::Refresh),
            (Sessions, A::Back),
            (Global, A::Help),
            (Global, A::Quit),
        ])
    }

    fn busy(&self) -> Option<String> {
        self.kicking
            .values()
            .next()
            .map(|s| format!("ending {}'s session {}…", printable(&s.handle), s.id))
    }
}
