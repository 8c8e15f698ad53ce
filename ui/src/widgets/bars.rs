//! The tab line, the command bar (generated from the focused view's commands and the keymap)
//! and the status bar.

use crate::action::Action;
use crate::keymap::{Context, Keymap};
use crate::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn tabs(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    titles: &[&str],
    selected: usize,
    right: &str,
    // A view that is not a tab, shown (selected, without a number) while it is open.
    extra: Option<&str>,
) {
    let mut spans = vec![Span::styled(" RusToK ", theme.title())];
    // With the extra view on a narrow screen, the tabs show their numbers only.
    let full: usize = titles.iter().map(|t| t.chars().count() + 4).sum::<usize>()
        + extra.map_or(0, |t| t.chars().count() + 2)
        + 8;
    let short = extra.is_some() && full > usize::from(area.width);
    for (i, t) in titles.iter().enumerate() {
        let style = if i == selected && extra.is_none() {
            theme.tab_active()
        } else {
            theme.muted()
        };
        let label = if short {
            format!(" {} ", i + 1)
        } else {
            format!(" {} {t} ", i + 1)
        };
        spans.push(Span::styled(label, style));
    }
    if let Some(t) = extra {
        spans.push(Span::styled(format!(" {t} "), theme.tab_active()));
    }
    let used: usize = spans.iter().map(|s| s.width()).sum();
    let pad = (area.width as usize).saturating_sub(used + right.chars().count() + 1);
    spans.push(Span::raw(" ".repeat(pad)));
    spans.push(Span::styled(format!("{right} "), theme.title()));
    frame.render_widget(Paragraph::new(Line::from(spans)).style(theme.base()), area);
}

/// `key description` pairs for the given commands, in order; skips unbound ones. When they do
/// not all fit, the view's own commands are cut (`…`) rather than help and quit: a new user on
/// an 80-column terminal must still see how to get help and how to leave.
pub fn command_bar(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    keymap: &Keymap,
    commands: &[(Context, Action)],
) {
    let pinned = |a: &Action| matches!(a, Action::Help | Action::Quit);
    let pairs: Vec<(bool, String, String)> = commands
        .iter()
        .filter_map(|(ctx, action)| {
            let (key, desc) = keymap.key_for(*ctx, *action)?;
            Some((pinned(action), format!(" {key}"), format!(" {desc} ")))
        })
        .collect();
    let width = |(_, k, d): &(bool, String, String)| k.chars().count() + d.chars().count();
    let room = usize::from(area.width);
    let mut keep: Vec<bool> = vec![true; pairs.len()];
    let mut used: usize = pairs.iter().map(width).sum();
    let more = " …";
    if used > room {
        used += more.chars().count();
        // Drop the view's commands from the end until the rest (and the mark) fits.
        for i in (0..pairs.len()).rev() {
            if used <= room {
                break;
            }
            if !pairs[i].0 {
                keep[i] = false;
                used -= width(&pairs[i]);
            }
        }
    }
    let mut spans = Vec::new();
    let mut marked = false;
    for (i, (is_pinned, key, desc)) in pairs.iter().enumerate() {
        if !keep[i] {
            continue;
        }
        if *is_pinned && !marked && keep.iter().any(|k| !k) {
            spans.push(Span::styled(more, theme.muted().bg(theme.bar_bg)));
            marked = true;
        }
        spans.push(Span::styled(key.clone(), theme.key()));
        spans.push(Span::styled(desc.clone(), theme.bar()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)).style(theme.bar()), area);
}

/// A free-form input line in place of the command bar (filter, palette).
pub fn input_line(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    prompt: &str,
    text: &str,
    hint: &str,
) {
    let line = Line::from(vec![
        Span::styled(prompt.to_string(), theme.key()),
        Span::styled(rustok_domain::text::printable(text), theme.bar()),
        Span::styled("█", theme.bar()),
        Span::styled(format!("  {hint}"), theme.muted().bg(theme.bar_bg)),
    ]);
    frame.render_widget(Paragraph::new(line).style(theme.bar()), area);
}

pub struct Status<'a> {
    pub tenant: &'a str,
    pub actor: &'a str,
    pub role: &'a str,
    pub database: &'a str,
    pub read_only: bool,
    pub queue_depth: usize,
    pub busy: Option<(char, &'a str)>,
    pub message: Option<(&'a str, bool)>,
    /// The key that opens the message log (named when a message is cut).
    pub log_key: Option<&'a str>,
    /// An alert that stays until dealt with (unread mentions), after the member's name.
    pub alert: Option<&'a str>,
}

/// `text` in at most `room` cells: cut with `…` and a hint to the full text when too long.
pub fn ellipsize(text: &str, room: usize, log_key: Option<&str>) -> String {
    if text.chars().count() <= room {
        return text.to_string();
    }
    let hint = log_key.map(|k| format!(" ({k}: log)")).unwrap_or_default();
    let keep = room.saturating_sub(1 + hint.chars().count());
    let mut out: String = text.chars().take(keep).collect();
    out.push('…');
    out.push_str(&hint);
    out.chars().take(room).collect()
}

pub fn status_bar(frame: &mut Frame, area: Rect, theme: &Theme, s: &Status<'_>) {
    let sep = Span::styled(" │ ", theme.muted().bg(theme.bar_bg));
    let mut spans = vec![
        Span::styled(format!(" {} ", s.tenant), theme.tab_active()),
        Span::styled(format!(" {} ({})", s.actor, s.role), theme.bar()),
    ];
    if s.read_only {
        spans.push(sep.clone());
        spans.push(Span::styled("READ-ONLY", theme.warning().bg(theme.bar_bg)));
    }
    if let Some(alert) = s.alert {
        spans.push(sep.clone());
        spans.push(Span::styled(
            alert.to_string(),
            theme.warning().bg(theme.bar_bg),
        ));
    }
    spans.push(sep.clone());
    spans.push(Span::styled(
        format!("queue {}", s.queue_depth),
        theme.bar(),
    ));
    if let Some((spin, label)) = s.busy {
        spans.push(sep.clone());
        spans.push(Span::styled(
            format!("{spin} {label}"),
            theme.key().bg(theme.bar_bg),
        ));
    }
    // The message matters more than the database, which gets the room that is left.
    if let Some((text, is_error)) = s.message {
        spans.push(sep.clone());
        let style = if is_error {
            theme.error()
        } else {
            theme.success()
        };
        let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
        let room = usize::from(area.width).saturating_sub(used);
        spans.push(Span::styled(
            ellipsize(text, room, s.log_key),
            style.bg(theme.bar_bg),
        ));
    }
    spans.push(sep);
    spans.push(Span::styled(
        s.database.to_string(),
        theme.muted().bg(theme.bar_bg),
    ));
    frame.render_widget(Paragraph::new(Line::from(spans)).style(theme.bar()), area);
}
