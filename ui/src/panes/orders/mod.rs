//! The order pipeline: a board with a column per status, forms that move an order along,
//! the order's detail with its event timeline, the stock list, and a new-order form.

use crate::theme::Theme;
use crate::widgets::dialog::centered;
use crate::widgets::field::Field;
use crate::widgets::node_list::group;
use crate::widgets::window::Window;
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Clear, Paragraph, Row, Table, Wrap};
use rustok_domain::commerce::{Mention, Order, OrderDraft, OrderStatus};
use rustok_domain::read::{OrderSummary, StockRow, StoredEvent};
use rustok_domain::text::printable;
use rustok_domain::{Command, OrderId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Board,
    Products,
}

mod form;
mod pane;

pub use form::{Form, FormKey};

/// One card of the board on row `y` of `inner`: the short id on the left, the total right-
/// aligned one cell before the border (the same cells a `Paragraph` line would fill).
/// An order on the board with its card's text, formatted once when its page loads, so that
/// a frame only copies it into cells.
#[derive(Debug, Clone)]
pub struct Card {
    pub order: OrderSummary,
    /// The last 8 hex digits of the id.
    id: [u8; 8],
    /// The total, `49.90 USD`.
    total: String,
}

impl From<OrderSummary> for Card {
    fn from(order: OrderSummary) -> Card {
        let mut hex = [0u8; uuid::fmt::Simple::LENGTH];
        order.id.as_uuid().simple().encode_lower(&mut hex);
        let mut id = [0u8; 8];
        id.copy_from_slice(&hex[hex.len() - 8..]);
        let total = order.total.to_string();
        Card { order, id, total }
    }
}

impl crate::widgets::window::Keyed for Card {
    fn key(&self) -> uuid::Uuid {
        self.order.id.as_uuid()
    }
}

/// The narrowest board column: a card's short id and a total such as `1,234.50 USD`.
const MIN_COLUMN_WIDTH: u16 = 20;

fn draw_card(buf: &mut Buffer, inner: Rect, y: u16, card: &Card, selected: bool, theme: &Theme) {
    let id = std::str::from_utf8(&card.id).unwrap_or("");
    let total = &card.total;
    let width = inner.width;
    let x = put(buf, inner.x, y, id, inner.right());
    let total_width = u16::try_from(total.chars().count()).unwrap_or(u16::MAX);
    let pad = width
        .saturating_sub(9u16.saturating_add(total_width))
        .max(1);
    let mut end = x;
    if let Some(tx) = x.checked_add(pad)
        && tx < inner.right()
    {
        end = put(buf, tx, y, total.as_str(), inner.right());
    }
    if selected {
        buf.set_style(Rect::new(inner.x, y, end - inner.x, 1), theme.selected());
    }
}

/// Writes `text` from `x` on row `y`, stopping before `right`; returns the column after it.
/// A card's text (hex digits, an amount and a currency code) is ASCII, one cell per byte,
/// so it is written cell by cell: `set_stringn`'s grapheme segmentation and width lookup
/// were most of a card's cost. Anything else goes through `set_stringn`.
fn put(buf: &mut Buffer, x: u16, y: u16, text: &str, right: u16) -> u16 {
    if !text.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
        let max = usize::from(right.saturating_sub(x));
        return buf.set_stringn(x, y, text, max, Style::new()).0;
    }
    let mut at = x;
    for b in text.bytes() {
        if at >= right {
            break;
        }
        buf[(at, y)].set_char(char::from(b));
        at += 1;
    }
    at
}

pub fn short(id: OrderId) -> String {
    crate::widgets::node_list::short_id(id.as_uuid())
}

#[derive(Debug, Clone)]
pub struct OrdersPane {
    pub view: View,
    pub columns: Vec<(OrderStatus, Window<Card>)>,
    pub col: usize,
    pub products: Window<StockRow>,
    pub detail: Option<(Order, Vec<StoredEvent>)>,
    pub form: Option<Form>,
    /// The store refused to list orders to this staff member (the one-line reason, naming
    /// the permission): the board says so and asks for nothing more.
    pub denied: Option<String>,
    pending: std::collections::BTreeMap<crate::msg::RequestId, pane::Pending>,
    /// A jump asked for this product's SKU: selected when the stock list has it.
    want_product: Option<uuid::Uuid>,
    /// The order this console changed last (its card leaving a column is no news).
    acted: Option<uuid::Uuid>,
    /// The session's staff member's unread mentions in this tenant, oldest first (at most
    /// [`MAX_MENTIONS_KEPT`]): loaded at start, added to live by `order.note_added` events,
    /// removed when their order is opened.
    pub mentions: Vec<Mention>,
    /// A note form sent and not answered yet: shown again, with the reason, if refused (an
    /// unknown handle), so the text is not lost.
    sent_note: Option<(crate::msg::RequestId, Form)>,
}

/// Unread mentions a console keeps (the newest).
pub const MAX_MENTIONS_KEPT: usize = 200;

impl Default for OrdersPane {
    fn default() -> Self {
        OrdersPane {
            view: View::Board,
            columns: OrderStatus::ALL
                .iter()
                .map(|s| (*s, Window::default()))
                .collect(),
            col: 0,
            products: Window::default(),
            detail: None,
            form: None,
            denied: None,
            pending: Default::default(),
            want_product: None,
            acted: None,
            mentions: Vec::new(),
            sent_note: None,
        }
    }
}

impl OrdersPane {
    pub fn selected(&self) -> Option<&OrderSummary> {
        self.columns
            .get(self.col)
            .and_then(|(_, w)| w.selected())
            .map(|c| &c.order)
    }

    pub fn invalidate(&mut self) {
        for (_, w) in &mut self.columns {
            w.invalidate();
        }
        self.products.invalidate();
    }

    pub fn move_col(&mut self, delta: i64) {
        let n = self.columns.len() as i64;
        self.col = ((self.col as i64 + delta).rem_euclid(n)) as usize;
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        if let Some((order, events)) = &self.detail {
            draw_detail(frame, area, theme, order, events);
        } else {
            match self.view {
                View::Board => match &self.denied {
                    Some(why) => crate::widgets::dialog::denied(frame, area, theme, "Orders", why),
                    None => self.draw_board(frame, area, theme),
                },
                View::Products => self.draw_products(frame, area, theme),
            }
        }
        if let Some(f) = &self.form {
            f.draw(frame, area, theme);
        }
    }

    fn draw_board(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        // As many columns as fit at a readable width (a card is an id and a total); the
        // focused one is always among them, and a ‹ or › in a title says more are beside.
        let total = self.columns.len().max(1);
        let fit = usize::from(area.width / MIN_COLUMN_WIDTH).clamp(1, total);
        let first = self.col.saturating_sub(fit - 1).min(total - fit);
        let cols = Layout::horizontal(vec![Constraint::Ratio(1, fit as u32); fit]).split(area);
        let shown = self.columns.iter().enumerate().skip(first).take(fit);
        for ((i, (status, w)), rect) in shown.zip(cols.iter()) {
            let focused = i == self.col;
            let more_left = if i == first && first > 0 { "‹" } else { "" };
            let more_right = if i + 1 == first + fit && i + 1 < total {
                "› "
            } else {
                ""
            };
            let count = if w.is_loaded() {
                group(w.total())
            } else {
                "…".into()
            };
            let block = Block::bordered()
                .border_style(theme.border(focused))
                .title(Line::from(vec![
                    Span::styled(
                        format!("{more_left} {} ", status.as_str().replace('_', " ")),
                        if focused {
                            theme.title()
                        } else {
                            theme.muted()
                        },
                    ),
                    Span::styled(format!("{count} {more_right}"), theme.muted()),
                ]));
            let inner = block.inner(*rect);
            frame.render_widget(block, *rect);
            let buf = frame.buffer_mut();
            let mut y = inner.y;
            // Cards are written straight into the buffer from the text formatted when their
            // page loaded, so a full column costs little more than a sparse one (the frame's
            // fixed cost dominates; see docs/PERFORMANCE.md).
            for idx in w.visible(inner.height) {
                let selected = focused && idx == w.selected_index();
                match w.row(idx) {
                    Some(card) => draw_card(buf, inner, y, card, selected, theme),
                    None => {
                        let style = if selected {
                            theme.selected()
                        } else {
                            theme.muted()
                        };
                        buf.set_stringn(inner.x, y, "…", usize::from(inner.width), style);
                    }
                }
                y += 1;
            }
            if y == inner.y && w.is_loaded() && inner.height > 0 {
                buf.set_stringn(inner.x, y, "—", usize::from(inner.width), theme.muted());
            }
        }
    }

    fn draw_products(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let w = &self.products;
        let block = Block::bordered()
            .border_style(theme.border(true))
            .title(Line::from(vec![
                Span::styled(" Products and stock ", theme.title()),
                Span::styled(
                    format!(
                        "{} SKUs · a adjusts · Esc back to the board ",
                        group(w.total())
                    ),
                    theme.muted(),
                ),
            ]));
        if w.is_loaded() && w.total() == 0 {
            frame.render_widget(
                Paragraph::new("no products yet — create one with: rustok product create --sku MUG --price 12.50 --currency USD --stock 10")
                    .style(theme.muted())
                    .wrap(Wrap { trim: false })
                    .block(block),
                area,
            );
            return;
        }
        let height = area.height.saturating_sub(3);
        let rows: Vec<Row> = w
            .visible(height)
            .map(|i| match w.row(i) {
                Some(r) => {
                    let row = Row::new(vec![
                        Cell::from(printable(&r.sku)),
                        Cell::from(printable(&r.title)),
                        Cell::from(r.price.to_string()),
                        Cell::from(r.on_hand.to_string()),
                        Cell::from(r.reserved.to_string()),
                        Cell::from(r.available.to_string()).style(if r.low {
                            theme.warning()
                        } else {
                            Style::new()
                        }),
                        Cell::from(format!("{:?}", r.inventory_policy).to_lowercase()),
                        Cell::from(if r.low { "LOW" } else { "" }).style(theme.warning()),
                    ]);
                    if i == w.selected_index() {
                        row.style(theme.selected())
                    } else {
                        row
                    }
                }
                None => Row::new(vec![Cell::from("…")]),
            })
            .collect();
        let table = Table::new(
            rows,
            [
                Constraint::Length(14),
                Constraint::Fill(1),
                Constraint::Length(14),
                Constraint::Length(8),
                Constraint::Length(9),
                Constraint::Length(10),
                Constraint::Length(9),
                Constraint::Length(4),
            ],
        )
        .header(
            Row::new([
                "SKU",
                "TITLE",
                "PRICE",
                "ON HAND",
                "RESERVED",
                "AVAILABLE",
                "POLICY",
                "",
            ])
            .style(theme.muted()),
        )
        .block(block);
        frame.render_widget(table, area);
    }
}

fn draw_detail(frame: &mut Frame, area: Rect, theme: &Theme, o: &Order, events: &[StoredEvent]) {
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(area);
    let time = |t: &Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or("-".to_string(), |t| {
            t.format("%Y-%m-%d %H:%M:%S").to_string()
        })
    };
    let mut lines = vec![
        Line::from(vec![
            Span::styled("Status    ", theme.muted()),
            Span::styled(o.status.to_string(), theme.title()),
            Span::styled(format!("   version {}", o.version), theme.muted()),
        ]),
        Line::from(vec![
            Span::styled("Customer  ", theme.muted()),
            Span::raw(printable(o.customer.as_deref().unwrap_or("-"))),
        ]),
        Line::from(vec![
            Span::styled("Placed    ", theme.muted()),
            Span::raw(o.placed_at.format("%Y-%m-%d %H:%M:%S").to_string()),
        ]),
        Line::from(vec![
            Span::styled("Confirmed ", theme.muted()),
            Span::raw(time(&o.confirmed_at)),
        ]),
        Line::from(vec![
            Span::styled("Paid      ", theme.muted()),
            Span::raw(time(&o.paid_at)),
        ]),
        Line::from(vec![
            Span::styled("Shipped   ", theme.muted()),
            Span::raw(time(&o.shipped_at)),
        ]),
        Line::from(vec![
            Span::styled("Delivered ", theme.muted()),
            Span::raw(time(&o.delivered_at)),
        ]),
        Line::from(vec![
            Span::styled("Cancelled ", theme.muted()),
            Span::raw(time(&o.cancelled_at)),
        ]),
    ];
    if let (Some(c), Some(t)) = (&o.carrier, &o.tracking_number) {
        lines.push(Line::from(vec![
            Span::styled("Carrier   ", theme.muted()),
            Span::raw(format!("{} · {}", printable(c), printable(t))),
        ]));
    }
    if let Some(r) = &o.payment_reference {
        lines.push(Line::from(vec![
            Span::styled("Payment   ", theme.muted()),
            Span::raw(printable(r)),
        ]));
    }
    if let Some(r) = &o.cancel_reason {
        lines.push(Line::from(vec![
            Span::styled("Reason    ", theme.muted()),
            Span::raw(printable(r)),
        ]));
    }
    lines.push(Line::raw(""));
    for item in &o.items {
        let line_total = item
            .line_total()
            .map_or("overflow".to_string(), |m| m.to_string());
        lines.push(Line::from(vec![
            Span::styled(
                format!(
                    "{:<11}",
                    crate::widgets::field::clip(&printable(&item.sku), 10)
                ),
                theme.key(),
            ),
            Span::raw(format!(
                "{:<18} {:>3} × {:>11} {:>12}",
                crate::widgets::field::clip(&printable(&item.title), 18),
                item.quantity,
                item.unit_price.to_string(),
                line_total
            )),
        ]));
    }
    lines.push(
        Line::styled(format!("Total {} ", o.total), theme.title())
            .alignment(ratatui::layout::Alignment::Right),
    );
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().border_style(theme.border(true)).title(
            Line::from(vec![
                Span::styled(format!(" Order {} ", o.id), theme.title()),
                Span::styled("Esc back ", theme.muted()),
            ]),
        )),
        left,
    );
    let timeline: Vec<Line> = if events.is_empty() {
        vec![Line::styled("no events", theme.muted())]
    } else {
        events
            .iter()
            .map(|e| {
                let p = &e.envelope.payload;
                let at = Span::styled(
                    e.envelope.occurred_at.format("%H:%M:%S  ").to_string(),
                    theme.muted(),
                );
                // A note: who wrote it and what, the mentions standing out.
                if e.envelope.event_type == "order.note_added" {
                    let author = p.get("author").and_then(|a| a.as_str()).unwrap_or("?");
                    let text = p.get("text").and_then(|t| t.as_str()).unwrap_or("");
                    let mut spans = vec![
                        at,
                        Span::styled(format!("{:<22}", "note"), theme.title()),
                        Span::styled(format!("{}: ", printable(author)), theme.key()),
                    ];
                    spans.extend(note_spans(text, theme));
                    return Line::from(spans);
                }
                let detail = match (p.get("from"), p.get("to"), p.get("reason"), p.get("sku")) {
                    (Some(f), Some(t), reason, _) => {
                        let why = reason
                            .and_then(|r| r.as_str())
                            .map(|r| format!(" · {}", printable(r)))
                            .unwrap_or_default();
                        format!(
                            "{} → {}{why}",
                            f.as_str().unwrap_or("?"),
                            t.as_str().unwrap_or("?")
                        )
                    }
                    (_, _, Some(r), _) if !r.is_null() => printable(r.as_str().unwrap_or("")),
                    (_, _, _, Some(s)) => printable(s.as_str().unwrap_or("")),
                    _ => String::new(),
                };
                Line::from(vec![
                    at,
                    Span::styled(format!("{:<22}", e.envelope.event_type), theme.key()),
                    Span::raw(detail),
                ])
            })
            .collect()
    };
    frame.render_widget(
        Paragraph::new(timeline).wrap(Wrap { trim: false }).block(
            Block::bordered()
                .border_style(theme.border(false))
                .title(Span::styled(" Timeline ", theme.title())),
        ),
        right,
    );
}

/// A note's text as spans, each `@handle` mention in the warning colour (the text made
/// terminal-safe).
fn note_spans(text: &str, theme: &Theme) -> Vec<Span<'static>> {
    let text = printable(text);
    let mentioned = rustok_domain::commerce::mentions(&text);
    if mentioned.is_empty() {
        return vec![Span::raw(text)];
    }
    let mut spans = Vec::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find('@') {
        let tail = &rest[at + 1..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .unwrap_or(tail.len());
        let handle = tail[..end].trim_end_matches('-').to_ascii_lowercase();
        if !handle.is_empty() && mentioned.contains(&handle) {
            spans.push(Span::raw(rest[..at].to_string()));
            let len = 1 + handle.len();
            spans.push(Span::styled(
                rest[at..at + len].to_string(),
                theme.warning(),
            ));
            rest = &rest[at + len..];
        } else {
            spans.push(Span::raw(rest[..=at].to_string()));
            rest = &rest[at + 1..];
        }
    }
    spans.push(Span::raw(rest.to_string()));
    spans
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::KeyModifiers;

    #[test]
    fn cards_are_id_then_amount_and_only_the_selected_card_is_highlighted() {
        use ratatui::Terminal;
        use ratatui::backend::TestBackend;
        use rustok_domain::read::Page;
        use rustok_domain::{Currency, Money};
        let theme = Theme::default();
        let card = |i: u128| OrderSummary {
            id: OrderId::from_uuid(uuid::Uuid::from_u128(0x5000 + i)),
            status: OrderStatus::Pending,
            customer: None,
            total: Money::new(4990, Currency::USD),
            lines: 1,
            units: 1,
            version: 1,
            placed_at: chrono::DateTime::UNIX_EPOCH,
            updated_at: chrono::DateTime::UNIX_EPOCH,
        };
        let mut pane = OrdersPane::default();
        pane.columns[0].1.on_page(Page {
            total: 2,
            offset: 0,
            rows: vec![card(1).into(), card(2).into()],
        });
        pane.columns[1].1.on_page(Page::empty());
        let mut term = Terminal::new(TestBackend::new(120, 6)).unwrap();
        term.draw(|f| pane.draw(f, f.area(), &theme)).unwrap();
        let buf = term.backend().buffer();
        let row = |y: u16| (1..19).map(|x| buf[(x, y)].symbol()).collect::<String>();
        assert_eq!(row(1), "00005001 49.90 USD");
        assert_eq!(row(2), "00005002 49.90 USD");
        // The selected card (first of the focused column) is highlighted from its first cell
        // to the end of its amount; the other card is not.
        let selected = theme.selected();
        for x in 1..19 {
            assert_eq!(buf[(x, 1)].bg, selected.bg.unwrap_or_default(), "x = {x}");
            assert_ne!(buf[(x, 2)].bg, selected.bg.unwrap_or_default(), "x = {x}");
        }
        // A loaded empty column shows a dash.
        assert_eq!(buf[(21, 1)].symbol(), "—");
    }

    fn typed(form: &mut Form, text: &str) {
        for c in text.chars() {
            form.key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
    }

    #[test]
    fn forms_build_commands_or_say_what_to_fix() {
        let mut f = Form::new_order();
        assert!(matches!(
            f.key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE)),
            FormKey::Editing
        ));
        assert!(matches!(
            f.key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
            FormKey::Editing
        ));
        assert!(f.error.as_deref().unwrap().contains("at least one item"));
        f.focus = 0;
        typed(&mut f, "MUG:2, TEE:x");
        assert!(f.command().unwrap_err().contains("'x' is not a quantity"));
        f.fields[0].set_text("MUG:2 TEE:1");
        match f.command().unwrap() {
            Command::CreateOrder(d) => assert_eq!(
                d.items,
                vec![("MUG".to_string(), 2), ("TEE".to_string(), 1)]
            ),
            other => panic!("{other:?}"),
        }
        let mut adjust = Form::new(
            form::FormKind::Adjust("MUG".into()),
            "t".into(),
            "",
            vec![Field::new("By", "", false), Field::new("Reason", "", false)],
            false,
        );
        typed(&mut adjust, "-3");
        assert!(matches!(
            adjust.command().unwrap(),
            Command::AdjustInventory { by: -3, .. }
        ));
    }
}
