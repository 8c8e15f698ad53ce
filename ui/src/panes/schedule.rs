//! Scheduled publishing in the console (issue 20): the schedule form over the node list (key
//! `schedule`, `s`) and the agenda view (key `agenda`, `A`): what goes live or comes down
//! when. The Content pane owns both; they hold no request of their own.

use crate::theme::Theme;
use crate::widgets::dialog;
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState};
use rustok_domain::content::schedule::{MAX_WHEN_CHARS, parse_when};
use rustok_domain::content::{AgendaEntry, ScheduledAction};
use rustok_domain::read::NodeSummary;
use rustok_domain::text::printable;
use rustok_domain::{Command, NodeId, short_id};

/// How many agenda rows the view asks for.
pub const AGENDA_LIMIT: u64 = 500;

/// The schedule form: the node and the two times as typed.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleForm {
    pub node: NodeId,
    pub title: String,
    pub publish_at: String,
    pub unpublish_at: String,
    /// 0: publish at, 1: unpublish at.
    pub focus: usize,
    pub error: Option<String>,
}

/// What a key did to the form.
pub enum FormStep {
    Editing,
    Cancel,
    Submit(Command),
}

impl ScheduleForm {
    pub fn new(n: &NodeSummary) -> ScheduleForm {
        ScheduleForm {
            node: n.id,
            title: n.title.clone(),
            publish_at: String::new(),
            unpublish_at: String::new(),
            focus: 0,
            error: None,
        }
    }

    fn field(&mut self) -> &mut String {
        if self.focus == 0 {
            &mut self.publish_at
        } else {
            &mut self.unpublish_at
        }
    }

    /// Tab/Up/Down move between the fields, Enter submits, Esc cancels. Each time is
    /// bounded to `MAX_WHEN_CHARS` as it is typed; relative times are resolved against
    /// `now` (the console's clock) into an absolute one before the command leaves.
    pub fn key(&mut self, key: &KeyEvent, now: Option<chrono::DateTime<chrono::Utc>>) -> FormStep {
        match key.code {
            KeyCode::Esc => return FormStep::Cancel,
            KeyCode::Tab | KeyCode::BackTab | KeyCode::Up | KeyCode::Down => {
                self.focus = 1 - self.focus;
            }
            KeyCode::Enter => match self.command(now) {
                Ok(c) => return FormStep::Submit(c),
                Err(e) => self.error = Some(e),
            },
            KeyCode::Backspace => {
                self.field().pop();
            }
            KeyCode::Char(c) if !c.is_control() => {
                let f = self.field();
                if f.chars().count() < MAX_WHEN_CHARS {
                    f.push(c);
                }
            }
            _ => {}
        }
        FormStep::Editing
    }

    fn command(&self, now: Option<chrono::DateTime<chrono::Utc>>) -> Result<Command, String> {
        let Some(now) = now else {
            return Err("the clock is not known yet; try again in a second".into());
        };
        let when = |t: &str| -> Result<Option<chrono::DateTime<chrono::Utc>>, String> {
            if t.trim().is_empty() {
                return Ok(None);
            }
            parse_when(t, now).map(Some).map_err(|e| e.to_string())
        };
        let (publish_at, unpublish_at) = (when(&self.publish_at)?, when(&self.unpublish_at)?);
        if publish_at.is_none() && unpublish_at.is_none() {
            return Err("give a publication time, an unpublication time or both".into());
        }
        Ok(Command::ScheduleNode {
            id: self.node,
            publish_at,
            unpublish_at,
        })
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let field = |i: usize, label: &str, text: &str| {
            let focused = self.focus == i;
            Line::from(vec![
                Span::styled(
                    format!("{label:<14}"),
                    if focused { theme.key() } else { theme.muted() },
                ),
                Span::raw(printable(text)),
                Span::styled(if focused { "▏" } else { "" }, theme.key()),
            ])
        };
        let mut body = vec![
            Line::raw(format!("“{}”", printable(&self.title))),
            Line::raw(""),
            field(0, "Publish at", &self.publish_at),
            field(1, "Unpublish at", &self.unpublish_at),
            Line::raw(""),
            Line::styled(
                "+10m, +2h, +1d, +1h30m or 2026-12-24T18:00:00Z; empty = unchanged",
                theme.muted(),
            ),
        ];
        if let Some(e) = &self.error {
            body.push(Line::styled(format!("✗ {}", printable(e)), theme.error()));
        }
        dialog::draw(
            frame,
            area,
            theme,
            "Schedule",
            &body,
            &[
                ("Enter", "schedule"),
                ("Tab", "next field"),
                ("Esc", "cancel"),
            ],
            false,
        );
    }
}

/// The agenda: the tenant's pending schedules, soonest first. The selection is the row's
/// node and action, so a reload keeps it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Agenda {
    pub rows: Vec<AgendaEntry>,
    pub loaded: bool,
    selected: Option<(NodeId, ScheduledAction)>,
    /// The session may not cancel schedules (read-only, or the role): the title leaves `x`
    /// out.
    pub no_cancel: bool,
}

/// What a key did in the agenda.
pub enum AgendaStep {
    Consumed,
    Close,
    Open(NodeId),
    Unschedule(NodeId, String),
    Unused,
}

impl Agenda {
    pub fn on_rows(&mut self, rows: Vec<AgendaEntry>) {
        let keep = self.selected_index();
        self.rows = rows;
        self.loaded = true;
        if self.selected_index().is_none() {
            let i = keep.unwrap_or(0).min(self.rows.len().saturating_sub(1));
            self.selected = self.rows.get(i).map(key_of);
        }
    }

    fn selected_index(&self) -> Option<usize> {
        let sel = self.selected?;
        self.rows.iter().position(|r| key_of(r) == sel)
    }

    pub fn selected(&self) -> Option<&AgendaEntry> {
        self.selected_index().map(|i| &self.rows[i])
    }

    fn move_by(&mut self, d: i64) {
        if self.rows.is_empty() {
            return;
        }
        let i = self.selected_index().unwrap_or(0) as i64;
        let j = (i + d).clamp(0, self.rows.len() as i64 - 1) as usize;
        self.selected = Some(key_of(&self.rows[j]));
    }

    /// Up/Down (k/j) move, Enter opens the node, `x` cancels its schedules, Esc closes.
    pub fn key(&mut self, key: &KeyEvent) -> AgendaStep {
        match key.code {
            KeyCode::Esc => AgendaStep::Close,
            KeyCode::Up | KeyCode::Char('k') => {
                self.move_by(-1);
                AgendaStep::Consumed
            }
            KeyCode::Down | KeyCode::Char('j') => {
                self.move_by(1);
                AgendaStep::Consumed
            }
            KeyCode::Enter => match self.selected() {
                Some(r) => AgendaStep::Open(r.schedule.node_id),
                None => AgendaStep::Consumed,
            },
            KeyCode::Char('x') => match self.selected() {
                Some(r) => AgendaStep::Unschedule(r.schedule.node_id, r.title.clone()),
                None => AgendaStep::Consumed,
            },
            _ => AgendaStep::Unused,
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        let block = Block::bordered()
            .border_style(theme.border(focused))
            .title(Line::from(vec![
                Span::styled(" Agenda ", theme.title()),
                Span::styled(
                    format!(
                        "{} scheduled · times UTC · Enter open{} · Esc back ",
                        self.rows.len(),
                        if self.no_cancel { "" } else { " · x cancel" }
                    ),
                    theme.muted(),
                ),
            ]));
        if !self.loaded || self.rows.is_empty() {
            let text = if self.loaded {
                "Nothing scheduled. On a node in Content: s schedules it."
            } else {
                "loading…"
            };
            frame.render_widget(
                Paragraph::new(Line::styled(text, theme.muted())).block(block),
                area,
            );
            return;
        }
        let rows: Vec<Row> = self
            .rows
            .iter()
            .map(|e| {
                let what = match e.schedule.action {
                    ScheduledAction::Publish => Span::styled("goes live", theme.success()),
                    ScheduledAction::Unpublish => Span::styled("comes down", theme.warning()),
                };
                Row::new(vec![
                    Cell::from(e.schedule.at.format("%Y-%m-%d %H:%M:%S").to_string()),
                    Cell::from(what),
                    Cell::from(short_id(e.schedule.node_id.as_uuid())),
                    Cell::from(e.status.to_string()),
                    Cell::from(printable(&e.schedule.by)),
                    Cell::from(printable(&e.title)),
                ])
            })
            .collect();
        let table = Table::new(
            rows,
            [
                Constraint::Length(19),
                Constraint::Length(10),
                Constraint::Length(8),
                Constraint::Length(9),
                Constraint::Length(12),
                Constraint::Fill(1),
            ],
        )
        .header(Row::new(["WHEN", "WHAT", "NODE", "STATUS", "BY", "TITLE"]).style(theme.muted()))
        .row_highlight_style(theme.selected())
        .block(block);
        let mut state = TableState::default().with_selected(self.selected_index());
        frame.render_stateful_widget(table, area, &mut state);
    }
}

fn key_of(e: &AgendaEntry) -> (NodeId, ScheduledAction) {
    (e.schedule.node_id, e.schedule.action)
}
