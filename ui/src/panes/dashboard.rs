//! The dashboard: what is in this tenant and how the event flow is doing.

use crate::msg::{Coverage, EventSummary};
use crate::theme::Theme;
use crate::widgets::node_list::group;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use rustok_domain::Tenant;
use rustok_domain::content::NodeStatus;
use rustok_domain::read::OutboxCounts;
use std::collections::VecDeque;

#[derive(Debug, Clone, Default)]
pub struct Dashboard {
    pub by_status: [Option<u64>; 3],
    pub outbox: Option<OutboxCounts>,
    pub loading: usize,
    pub stale: bool,
}

fn status_index(s: NodeStatus) -> usize {
    match s {
        NodeStatus::Draft => 0,
        NodeStatus::Published => 1,
        NodeStatus::Archived => 2,
    }
}

/// What the dashboard shows besides its own counts.
#[derive(Clone, Copy)]
pub struct View<'a> {
    pub tenant: &'a Tenant,
    pub coverage: Option<&'a Coverage>,
    pub recent: &'a VecDeque<EventSummary>,
    pub events_seen: u64,
}

impl Dashboard {
    pub fn set_count(&mut self, s: NodeStatus, n: u64) {
        self.by_status[status_index(s)] = Some(n);
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme, view: &View<'_>) {
        let View {
            tenant,
            coverage,
            recent,
            events_seen,
        } = *view;
        let [top, bottom] =
            Layout::vertical([Constraint::Length(9), Constraint::Fill(1)]).areas(area);
        let [content, flow] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(top);
        let count = |s: NodeStatus| self.by_status[status_index(s)].map_or("…".into(), group);
        let mut lines = vec![
            Line::from(vec![
                Span::styled(rustok_domain::text::printable(&tenant.name), theme.title()),
                Span::styled(
                    format!(
                        "  ({}, default locale {})",
                        tenant.slug, tenant.default_locale
                    ),
                    theme.muted(),
                ),
            ]),
            Line::raw(""),
        ];
        for s in NodeStatus::ALL {
            lines.push(Line::from(vec![
                Span::styled(format!("{:<10}", s.as_str()), theme.status(*s)),
                Span::raw(count(*s)),
            ]));
        }
        if let Some(c) = coverage {
            let locales: Vec<String> = c
                .locales
                .iter()
                .map(|(l, n)| {
                    format!(
                        "{l} {}%",
                        crate::widgets::node_list::percent(*n, c.total_nodes)
                    )
                })
                .collect();
            lines.push(Line::from(vec![
                Span::styled("locales   ", theme.muted()),
                Span::raw(locales.join("  ")),
            ]));
        }
        frame.render_widget(
            Paragraph::new(lines).block(
                Block::bordered()
                    .border_style(theme.border(false))
                    .title(Span::styled(" Content ", theme.title())),
            ),
            content,
        );
        let o = self.outbox.unwrap_or_default();
        let flow_lines = vec![
            Line::from(vec![
                Span::styled("pending     ", theme.muted()),
                Span::raw(group(o.pending)),
            ]),
            Line::from(vec![
                Span::styled("dispatched  ", theme.muted()),
                Span::raw(group(o.dispatched)),
            ]),
            Line::from(vec![
                Span::styled("failed      ", theme.muted()),
                Span::styled(
                    group(o.failed),
                    if o.failed > 0 {
                        theme.error()
                    } else {
                        theme.base()
                    },
                ),
            ]),
            Line::from(vec![
                Span::styled("seen live   ", theme.muted()),
                Span::raw(group(events_seen)),
            ]),
        ];
        frame.render_widget(
            Paragraph::new(flow_lines).block(
                Block::bordered()
                    .border_style(theme.border(false))
                    .title(Span::styled(" Outbox ", theme.title())),
            ),
            flow,
        );
        let recent_lines: Vec<Line> = if recent.is_empty() {
            vec![Line::styled("no events yet in this session", theme.muted())]
        } else {
            recent
                .iter()
                .rev()
                .map(|e| {
                    Line::from(vec![
                        Span::styled(
                            e.occurred_at.format("%H:%M:%S  ").to_string(),
                            theme.muted(),
                        ),
                        Span::styled(format!("{:<26}", e.event_type), theme.key()),
                        Span::raw(e.aggregate_id.to_string()),
                    ])
                })
                .collect()
        };
        frame.render_widget(
            Paragraph::new(recent_lines).block(
                Block::bordered()
                    .border_style(theme.border(false))
                    .title(Span::styled(" Latest events ", theme.title())),
            ),
            bottom,
        );
    }
}
