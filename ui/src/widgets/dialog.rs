//! Modal dialogs drawn over the screen.

use crate::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use rustok_domain::text::printable;

/// A rectangle of `width` × `height` centred in `area` (clamped to it).
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [h] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(v);
    h
}

/// A dialog with a message and a row of `(key, label)` choices.
pub fn draw(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    title: &str,
    body: &[Line<'_>],
    choices: &[(&str, &str)],
    danger: bool,
) {
    let choices_width: usize = choices
        .iter()
        .map(|(k, l)| k.chars().count() + l.chars().count() + 5)
        .sum();
    let widest = body
        .iter()
        .map(Line::width)
        .chain([choices_width, title.chars().count() + 4])
        .max()
        .unwrap_or(40);
    let width = (widest as u16 + 4).clamp(40, area.width.saturating_sub(4).max(40));
    let height = body.len() as u16 + 5;
    let rect = centered(area, width, height);
    frame.render_widget(Clear, rect);
    let border = if danger {
        theme.error()
    } else {
        theme.border(true)
    };
    let block = Block::bordered()
        .border_style(border)
        .title(Span::styled(format!(" {title} "), theme.title()))
        .style(theme.base());
    let mut lines: Vec<Line> = body.to_vec();
    lines.push(Line::raw(""));
    let mut spans = Vec::new();
    for (key, label) in choices {
        spans.push(Span::styled(format!(" {key} "), theme.key()));
        spans.push(Span::raw(format!("{label}   ")));
    }
    lines.push(Line::from(spans));
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block),
        rect,
    );
}

/// The clear message for a view the staff member may not see.
pub fn denied(frame: &mut Frame, area: Rect, theme: &Theme, what: &str, why: &str) {
    let lines = vec![
        Line::styled(format!("{what}: not permitted"), theme.error()),
        Line::raw(""),
        Line::raw(printable(why)),
        Line::raw(""),
        Line::styled(
            "Your role does not grant this. An owner or admin can change roles with:",
            theme.muted(),
        ),
        Line::styled("  rustok staff role HANDLE admin", theme.key()),
    ];
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::bordered()
                .border_style(theme.error())
                .title(Span::styled(format!(" {what} "), theme.title())),
        ),
        area,
    );
}
