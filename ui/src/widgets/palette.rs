//! The `:` command palette: type a command, see matching commands fuzzily.

use crate::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

/// The palette's own commands with their descriptions; [`commands`] adds the node and order
/// steps the domain declares.
const OWN: &[(&str, &str)] = &[
    ("tenant SLUG", "switch to another tenant"),
    ("node ID", "open a node by id"),
    ("order ID", "open an order by id"),
    (
        "retry",
        "re-drive the dead letters matching the Events filter (asks first)",
    ),
    (
        "seek SEQ|WHEN",
        "Events: go to a sequence number or a time (10m, 2h, RFC 3339)",
    ),
    ("new [KIND]", "write a new draft (article by default)"),
    (
        "theme NAME",
        "switch theme (dark, light, catppuccin-mocha, nord, …)",
    ),
    (
        "locale LOCALE",
        "set the target locale of the translation editor",
    ),
    ("sessions", "live SSH sessions; end one (owners, admins)"),
    ("refresh", "reload what is shown"),
    ("help", "show keys and commands"),
    ("q", "quit"),
];

/// Every palette command with its description (also listed in help): the palette's own, then
/// each node status change (on the selected node) and each order step (on the selected
/// order), named and described by their domain declarations.
pub fn commands() -> Vec<(&'static str, &'static str)> {
    use rustok_domain::commerce::OrderAction;
    use rustok_domain::content::NodeAction;
    let mut all = OWN.to_vec();
    all.extend(NodeAction::ALL.iter().map(|a| (a.as_str(), a.doc())));
    all.extend(
        OrderAction::ALL
            .iter()
            .map(|a| (a.as_str(), a.step().doc.trim())),
    );
    all
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Palette {
    pub input: String,
}

impl Palette {
    /// Commands whose name matches what is typed so far.
    pub fn suggestions(&self) -> Vec<(&'static str, &'static str)> {
        let word = self.input.split_whitespace().next().unwrap_or("");
        let all = commands();
        crate::fuzzy::rank(word, &all, |(c, _)| c.split(' ').next().unwrap_or(c))
            .into_iter()
            .map(|i| all[i])
            .collect()
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let items = self.suggestions();
        let height = (items.len() as u16 + 2).min(area.height);
        let rect = Rect {
            x: area.x + 1,
            y: area.bottom().saturating_sub(height),
            width: area.width.min(70).saturating_sub(2),
            height,
        };
        frame.render_widget(Clear, rect);
        let lines: Vec<Line> = items
            .iter()
            .map(|(c, d)| {
                Line::from(vec![
                    Span::styled(format!(" :{c:<18}"), theme.key()),
                    Span::styled(*d, theme.muted()),
                ])
            })
            .collect();
        let block = Block::bordered()
            .border_style(theme.border(true))
            .title(Span::styled(" commands ", theme.title()))
            .style(theme.base());
        frame.render_widget(Paragraph::new(lines).block(block), rect);
    }
}
