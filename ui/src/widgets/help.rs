//! The help screen, generated from the keymap: every binding with its description.

use crate::action::Action;
use crate::keymap::{Context, Keymap};
use crate::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

/// The help's lines: every binding of every context, except the actions the session may not
/// do (`may`: a read-only session's mutations, what the role lacks).
pub fn lines(keymap: &Keymap, may: &dyn Fn(Action) -> bool) -> Vec<(Context, String, String)> {
    let mut out = Vec::new();
    for ctx in [
        Context::Global,
        Context::List,
        Context::Editor,
        Context::Dialog,
        Context::Orders,
        Context::Events,
        Context::Audit,
        Context::Sessions,
        Context::History,
        Context::Conflict,
    ] {
        for b in keymap.bindings().iter().filter(|b| b.context == ctx) {
            if !may(b.action) {
                continue;
            }
            let mut keys: Vec<String> = Vec::new();
            for k in &b.keys {
                let k = k.to_string();
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
            out.push((ctx, keys.join(" "), b.desc.clone()));
        }
    }
    out
}

pub fn draw(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    keymap: &Keymap,
    may: &dyn Fn(Action) -> bool,
    scroll: u16,
) {
    let rect = super::dialog::centered(area, 76, area.height.saturating_sub(4));
    frame.render_widget(Clear, rect);
    let mut text: Vec<Line> = Vec::new();
    let mut last = None;
    for (ctx, keys, desc) in lines(keymap, may) {
        if last != Some(ctx) {
            if last.is_some() {
                text.push(Line::raw(""));
            }
            text.push(Line::from(Span::styled(ctx.title(), theme.title())));
            last = Some(ctx);
        }
        text.push(Line::from(vec![
            Span::styled(format!("  {keys:<22}"), theme.key()),
            Span::raw(desc),
        ]));
    }
    text.push(Line::raw(""));
    text.push(Line::from(Span::styled("Commands (:)", theme.title())));
    for (cmd, desc) in super::palette::commands() {
        text.push(Line::from(vec![
            Span::styled(format!("  :{cmd:<21}"), theme.key()),
            Span::raw(desc),
        ]));
    }
    let block = Block::bordered()
        .border_style(theme.border(true))
        .title(Span::styled(
            " Help — ↑/↓ scroll, Esc close ",
            theme.title(),
        ))
        .style(theme.base());
    frame.render_widget(Paragraph::new(text).scroll((scroll, 0)).block(block), rect);
}
