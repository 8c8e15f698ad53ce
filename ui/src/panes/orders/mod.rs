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
use rustok_domain::commerce::{Order, OrderDraft, OrderStatus};
use rustok_domain::read::{Customer, CustomerDetail, OrderSummary, Page, StockRow, StoredEvent};
use rustok_domain::text::printable;
use rustok_domain::{Command, OrderId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Board,
    Products,
    /// Every customer of the tenant (`u` from a customer or an order without one).
    Customers,
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
    /// A customer with their orders and the selected one (`u` on an order).
    pub customer: Option<(CustomerDetail, usize)>,
    /// The Customers view's rows (loaded on opening it) and the selected one.
    pub customers: Option<Page<Customer>>,
    pub customers_sel: usize,
    pub form: Option<Form>,
    /// The store refused to list orders to this staff member (the one-line reason, naming
    /// the permission): the board says so and asks for nothing more.
    pub denied: Option<String>,
    pending: std::collections::BTreeMap<crate::msg::RequestId, pane::Pending>,
    /// A jump asked for this product's SKU: selected when the stock list has it.
    want_product: Option<uuid::Uuid>,
    /// The order this console changed last (its card leaving a column is no news).
    acted: Option<uuid::Uuid>,
}

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
            customer: None,
            customers: None,
            customers_sel: 0,
            form: None,
            denied: None,
            pending: Default::default(),
            want_product: None,
            acted: None,
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
        self.customers = None;
    }

    pub fn move_col(&mut self, delta: i64) {
        let n = self.columns.len() as i64;
        self.col = ((self.col as i64 + delta).rem_euclid(n)) as usize;
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        if let Some((order, events)) = &self.detail {
            draw_detail(frame, area, theme, order, events);
        } else if let Some((c, sel)) = &self.customer {
            draw_customer(frame, area, theme, c, *sel);
        } else {
            match self.view {
                View::Customers => self.draw_customers(frame, area, theme),
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

    fn draw_customers(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let (rows, total) = match &self.customers {
            Some(p) => (p.rows.as_slice(), Some(p.total)),
            None => (&[][..], None),
        };
        let count = match total {
            Some(t) if (rows.len() as u64) < t => {
                format!("{} of {} shown", group(rows.len() as u64), group(t))
            }
            Some(t) => group(t),
            None => "…".into(),
        };
        let block = Block::bordered()
            .border_style(theme.border(true))
            .title(Line::from(vec![
                Span::styled(" Customers ", theme.title()),
                Span::styled(
                    format!("{count} · Enter their orders · Esc back to the board "),
                    theme.muted(),
                ),
            ]));
        if total == Some(0) {
            frame.render_widget(
                Paragraph::new("no customers yet: an order placed with a customer email adds one")
                    .style(theme.muted())
                    .block(block),
                area,
            );
            return;
        }
        let height = usize::from(area.height.saturating_sub(3)).max(1);
        let first = self.customers_sel.saturating_sub(height - 1);
        let table_rows: Vec<Row> = rows
            .iter()
            .enumerate()
            .skip(first)
            .take(height)
            .map(|(i, c)| {
                let row = customer_row(c);
                if i == self.customers_sel {
                    row.style(theme.selected())
                } else {
                    row
                }
            })
            .collect();
        frame.render_widget(
            Table::new(table_rows, CUSTOMER_WIDTHS)
                .header(Row::new(CUSTOMER_HEADER).style(theme.muted()))
                .block(block),
            area,
        );
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

const CUSTOMER_HEADER: [&str; 4] = ["EMAIL", "ORDERS", "LIFETIME VALUE", "LAST ORDER"];
const CUSTOMER_WIDTHS: [Constraint; 4] = [
    Constraint::Fill(1),
    Constraint::Length(7),
    Constraint::Length(24),
    Constraint::Length(17),
];

/// `12.50 USD`, `12.50 USD + 3.00 EUR`, `-` for nothing.
fn amounts(value: &[rustok_domain::Money]) -> String {
    if value.is_empty() {
        return "-".into();
    }
    value
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" + ")
}

fn customer_row(c: &Customer) -> Row<'static> {
    Row::new(vec![
        Cell::from(printable(&c.email)),
        Cell::from(group(c.orders)),
        Cell::from(amounts(&c.lifetime_value)),
        Cell::from(c.last_order_at.format("%Y-%m-%d %H:%M").to_string()),
    ])
}

/// A customer: email, orders, lifetime value net of refunds, last order; then their orders,
/// newest first, the selected one highlighted (`Enter` opens it).
fn draw_customer(frame: &mut Frame, area: Rect, theme: &Theme, d: &CustomerDetail, sel: usize) {
    let c = &d.customer;
    let [head, list] = Layout::vertical([Constraint::Length(4), Constraint::Fill(1)]).areas(area);
    let lines = vec![
        Line::from(vec![
            Span::styled("Orders          ", theme.muted()),
            Span::raw(group(c.orders)),
        ]),
        Line::from(vec![
            Span::styled("Lifetime value  ", theme.muted()),
            Span::styled(amounts(&c.lifetime_value), theme.title()),
            Span::styled("  (paid, net of refunds)", theme.muted()),
        ]),
    ];
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().border_style(theme.border(true)).title(
            Line::from(vec![
                Span::styled(format!(" Customer {} ", printable(&c.email)), theme.title()),
                Span::styled("u all customers · Esc back ", theme.muted()),
            ]),
        )),
        head,
    );
    let page = &d.order_list;
    let height = usize::from(list.height.saturating_sub(3)).max(1);
    let first = sel.saturating_sub(height - 1);
    let rows: Vec<Row> = page
        .rows
        .iter()
        .enumerate()
        .skip(first)
        .take(height)
        .map(|(i, o)| {
            let row = Row::new(vec![
                Cell::from(short(o.id)),
                Cell::from(o.status.as_str().replace('_', " ")),
                Cell::from(o.total.to_string()),
                Cell::from(o.units.to_string()),
                Cell::from(o.placed_at.format("%Y-%m-%d %H:%M").to_string()),
            ]);
            if i == sel {
                row.style(theme.selected())
            } else {
                row
            }
        })
        .collect();
    let shown = if (page.rows.len() as u64) < page.total {
        format!(
            "{} of {} ",
            group(page.rows.len() as u64),
            group(page.total)
        )
    } else {
        format!("{} ", group(page.total))
    };
    frame.render_widget(
        Table::new(
            rows,
            [
                Constraint::Length(9),
                Constraint::Length(10),
                Constraint::Length(18),
                Constraint::Length(6),
                Constraint::Fill(1),
            ],
        )
        .header(Row::new(["ORDER", "STATUS", "TOTAL", "UNITS", "PLACED"]).style(theme.muted()))
        .block(
            Block::bordered()
                .border_style(theme.border(false))
                .title(Line::from(vec![
                    Span::styled(" Orders ", theme.title()),
                    Span::styled(format!("{shown}· Enter opens "), theme.muted()),
                ])),
        ),
        list,
    );
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
            Span::styled(
                if item.returned > 0 {
                    format!("  {} returned", item.returned)
                } else {
                    String::new()
                },
                theme.warning(),
            ),
        ]));
    }
    lines.push(
        Line::styled(format!("Total {} ", o.total), theme.title())
            .alignment(ratatui::layout::Alignment::Right),
    );
    if o.refunded.amount > 0 {
        lines.push(
            Line::styled(
                format!(
                    "Captured {} · refunded {} · net {} ",
                    o.captured(),
                    o.refunded,
                    o.net()
                ),
                theme.warning(),
            )
            .alignment(ratatui::layout::Alignment::Right),
        );
    }
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
                    Span::styled(
                        e.envelope.occurred_at.format("%H:%M:%S  ").to_string(),
                        theme.muted(),
                    ),
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
