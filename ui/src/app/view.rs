//! Drawing the app: tab line, the visible pane, the command bar generated from the pane's
//! entries, the status bar, and the overlays.

use super::{App, Overlay, SPINNER, TABS, Tab};
use crate::keymap::Context;
use crate::panes::{Bar, Pane};
use crate::widgets::{bars, dialog, help};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use rustok_domain::text::printable;

/// The dashboard's list of the latest events.
const RECENT_EVENTS: usize = 12;

impl App {
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
        let selected = TABS.iter().position(|t| *t == self.tab);
        bars::tabs(
            frame,
            tabs,
            &self.theme,
            &titles,
            selected.unwrap_or(0),
            &printable(&self.session.tenant.name),
            // A view that is not a tab (Sessions) shows on the tab line while it is open.
            selected.is_none().then(|| self.tab.title()),
        );
        for (tab, rect, focused) in self.slots(body) {
            self.draw_pane(frame, rect, tab, focused);
        }
        self.draw_command_bar(frame, command);
        let busy = self.busy().map(|l| (SPINNER[self.spinner], l));
        let down = self
            .db_down
            .as_ref()
            .map(|why| format!("database unreachable: {why} — retrying"));
        let message = match &down {
            Some(d) => Some((d.as_str(), true)),
            None => self.flash.as_ref().map(|f| (f.text.as_str(), f.error)),
        };
        let log_key = self
            .keymap
            .key_for(Context::Global, crate::Action::Messages)
            .map(|(k, _)| k.to_string());
        let alert = self.mention_alert();
        bars::status_bar(
            frame,
            status,
            &self.theme,
            &bars::Status {
                alert: alert.as_deref(),
                tenant: &self.session.tenant.slug,
                actor: &self.session.actor,
                role: &self.session.role,
                database: &self.session.database,
                read_only: self.session.read_only,
                queue_depth: self.queue_depth,
                busy: busy.as_ref().map(|(c, l)| (*c, l.as_str())),
                message,
                log_key: log_key.as_deref(),
            },
        );
        match &self.overlay {
            Some(Overlay::Help { scroll }) => help::draw(
                frame,
                body,
                &self.theme,
                &self.keymap,
                &|a| self.session.may(a),
                *scroll,
            ),
            Some(Overlay::Log { scroll }) => self.draw_log(frame, body, *scroll),
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
            None => {}
        }
    }

    /// The status line's alert while the member has unread mentions: the newest, and the key
    /// that opens its order (`@alice 1a2b3c4d · M`, `3 mentions: @alice 1a2b3c4d · M`).
    fn mention_alert(&self) -> Option<String> {
        let newest = self.panes.orders.mentions.last()?;
        let key = self
            .keymap
            .key_for(Context::Global, crate::Action::OpenMention)
            .map(|(k, _)| format!(" · {k}"))
            .unwrap_or_default();
        let n = self.panes.orders.mentions.len();
        let count = if n > 1 {
            format!("{n} mentions: ")
        } else {
            String::new()
        };
        Some(format!(
            "✉ {count}@{} {}{key}",
            crate::widgets::field::clip(&printable(&newest.author), 16),
            crate::panes::orders::short(newest.order_id)
        ))
    }

    fn draw_pane(&self, frame: &mut Frame, area: Rect, tab: Tab, focused: bool) {
        let theme = &self.theme;
        let p = &self.panes;
        match tab {
            Tab::Dashboard => {
                let recent = p.events.latest(RECENT_EVENTS, self.session.tenant.id);
                p.dashboard.draw(
                    frame,
                    area,
                    theme,
                    &crate::panes::dashboard::View {
                        tenant: &self.session.tenant,
                        coverage: p.translations.coverage.as_ref(),
                        recent: &recent,
                        rate: p.events.rate(),
                        now: self.now,
                    },
                )
            }
            Tab::Orders => p.orders.draw(frame, area, theme, self.now),
            Tab::Events => p.events.draw(frame, area, theme, self.session.tenant.id),
            Tab::Content => p.content.draw(frame, area, theme, focused),
            Tab::Translations => p.translations.draw(frame, area, theme, focused),
            Tab::Audit => p
                .audit
                .draw(frame, area, theme, &self.session.tenant.slug, self.now),
            Tab::Sessions => p.sessions.draw(frame, area, theme, focused),
        }
    }

    /// The message log: newest first, with the time each was said.
    fn draw_log(&self, frame: &mut Frame, area: Rect, scroll: u16) {
        let theme = &self.theme;
        let rect = dialog::centered(area, area.width.saturating_sub(8).min(110), area.height);
        frame.render_widget(Clear, rect);
        let mut lines: Vec<Line> = self
            .messages()
            .map(|m| {
                let at = m.at.map_or_else(
                    || "--:--:--".to_string(),
                    |t| t.format("%H:%M:%S").to_string(),
                );
                Line::from(vec![
                    Span::styled(format!("{at} "), theme.muted()),
                    Span::styled(
                        if m.error { "error " } else { "info  " },
                        if m.error {
                            theme.error()
                        } else {
                            theme.success()
                        },
                    ),
                    Span::raw(printable(&m.text)),
                ])
            })
            .collect();
        if lines.is_empty() {
            lines.push(Line::styled("no messages yet", theme.muted()));
        }
        frame.render_widget(
            Paragraph::new(lines)
                .wrap(ratatui::widgets::Wrap { trim: false })
                .scroll((scroll, 0))
                .block(
                    Block::bordered()
                        .border_style(theme.border(true))
                        .title(Span::styled(
                            format!(" Messages ({}, newest first) · Esc closes ", self.log.len()),
                            theme.title(),
                        )),
                )
                .style(theme.base()),
            rect,
        );
    }

    fn draw_command_bar(&self, frame: &mut Frame, area: Rect) {
        let theme = &self.theme;
        use crate::action::Action as A;
        let bar = match &self.overlay {
            Some(Overlay::Palette(p)) => Bar::Input(
                ":",
                p.input.clone(),
                "Enter run · Tab complete · Esc cancel",
            ),
            Some(Overlay::Confirm { .. }) => Bar::Keys(vec![
                (Context::Dialog, A::Confirm),
                (Context::Dialog, A::Cancel),
            ]),
            Some(_) => Bar::Keys(vec![]),
            None => self.pane(self.tab).bar(),
        };
        match bar {
            Bar::Input(prompt, text, hint) => {
                bars::input_line(frame, area, theme, prompt, &text, hint)
            }
            Bar::Keys(mut cmds) => {
                // Only what the session may do: not a mutation read-only, not what the role
                // lacks (a manager is not offered publishing or scheduling).
                cmds.retain(|(_, a)| self.session.may(*a));
                bars::command_bar(frame, area, theme, &self.keymap, &cmds);
            }
        }
    }

    fn pane(&self, tab: Tab) -> &dyn Pane {
        self.panes.pane(tab)
    }
}
