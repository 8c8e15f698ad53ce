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
use rustok_domain::read::{Customer, CustomerDetail, OrderSummary, Page, StockRow, StoredEvent};
use rustok_domain::text::printable;
use rustok_domain::{Command, NumberFormat, OrderId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Board,
    Products,
    /// Every customer of the tenant (`u` from a customer or an order without one).
    Customers,
}

mod filter;
mod form;
mod pane;

pub use filter::{BoardFilter, FilterKey};
pub use form::{Form, FormKey};

/// An order on the board with its card's text, formatted once when its page loads (in the
/// tenant's money format), so that a frame only copies it into cells. The card's data is the
/// read model's [`OrderSummary`]: customer, units, placed time and total.
#[derive(Debug, Clone)]
pub struct Card {
    pub order: OrderSummary,
    /// The last 8 hex digits of the id.
    id: [u8; 8],
    /// The total, `5,782,415.30 USD`: never cut.
    total: String,
    /// Its width in cells.
    total_width: u16,
    /// The customer's email, printable (`—` without one).
    customer: String,
    /// Units over all lines.
    units: i64,
    /// The same, grouped the tenant locale's way (`1.234` in de).
    units_text: String,
}

impl Card {
    pub fn new(order: OrderSummary, money: NumberFormat) -> Card {
        let mut hex = [0u8; uuid::fmt::Simple::LENGTH];
        order.id.as_uuid().simple().encode_lower(&mut hex);
        let mut id = [0u8; 8];
        id.copy_from_slice(&hex[hex.len() - 8..]);
        let total = order.total.format(money);
        let total_width = u16::try_from(total.chars().count()).unwrap_or(u16::MAX);
        let customer = order
            .customer
            .as_deref()
            .map_or_else(|| "—".to_string(), printable);
        let units = order.units;
        Card {
            order,
            id,
            total,
            total_width,
            customer,
            units,
            units_text: count(units, money),
        }
    }
}

impl From<OrderSummary> for Card {
    fn from(order: OrderSummary) -> Card {
        Card::new(order, NumberFormat::default())
    }
}

impl crate::widgets::window::Keyed for Card {
    fn key(&self) -> uuid::Uuid {
        self.order.id.as_uuid()
    }
}

/// The narrowest board column: a card's short id and a total such as `1,234.50 USD`. A
/// column is widened to hold the widest total on screen beside the id (money is never cut).
const MIN_COLUMN_WIDTH: u16 = 20;

/// Rows of one card: id and total; customer, units and age.
pub const CARD_LINES: u16 = 2;

/// A count of items (units, a line's quantity) grouped the tenant locale's way, as its money
/// is: `1,234` in en, `1.234` in de, `1 234` in fr.
pub fn count(n: i64, money: NumberFormat) -> String {
    let digits = money.group_digits(n.unsigned_abs());
    if n < 0 { format!("-{digits}") } else { digits }
}

/// How long ago: `now`, `42m`, `5h`, `3d`.
pub fn age(now: chrono::DateTime<chrono::Utc>, then: chrono::DateTime<chrono::Utc>) -> String {
    let s = (now - then).num_seconds().max(0);
    match s {
        0..60 => "now".into(),
        60..3_600 => format!("{}m", s / 60),
        3_600..172_800 => format!("{}h", s / 3_600),
        _ => format!("{}d", s / 86_400),
    }
}

/// One card from row `y` of `inner`, two rows tall:
///
/// ```text
/// d768ca19    5,782,415.30 USD
/// ann@example.c… 3 items · 2h
/// ```
///
/// The total is right-aligned and whole (the id gives way first when the column is too
/// narrow for both); the customer is ellipsised to leave room for the units and the age.
fn draw_card(
    buf: &mut Buffer,
    inner: Rect,
    y: u16,
    card: &Card,
    selected: bool,
    now: Option<chrono::DateTime<chrono::Utc>>,
    theme: &Theme,
) {
    let width = inner.width;
    let right = inner.right();
    let id = std::str::from_utf8(&card.id).unwrap_or("");
    let total_x = right.saturating_sub(card.total_width).max(inner.x);
    if width >= 9u16.saturating_add(card.total_width) {
        put(buf, inner.x, y, id, right);
    }
    put(buf, total_x, y, &card.total, right);
    if selected {
        buf.set_style(Rect::new(inner.x, y, width, 1), theme.selected());
    }
    let y = y + 1;
    if y >= inner.bottom() {
        return;
    }
    let noun = if card.units == 1 { "item" } else { "items" };
    let when = now.map(|n| age(n, card.order.placed_at));
    let long = match &when {
        Some(a) => format!("{} {noun} · {a}", card.units_text),
        None => format!("{} {noun}", card.units_text),
    };
    let short = match &when {
        Some(a) => format!("{}× {a}", card.units_text),
        None => format!("{}×", card.units_text),
    };
    // The units and age keep at least 8 cells for the customer, shortening first.
    let room = |m: &str| usize::from(width).saturating_sub(m.chars().count() + 1);
    let meta = if room(&long) >= 8 {
        long
    } else if room(&short) >= 4 {
        short
    } else {
        String::new()
    };
    let meta_width = u16::try_from(meta.chars().count()).unwrap_or(u16::MAX);
    let customer_room = if meta.is_empty() {
        usize::from(width)
    } else {
        room(&meta)
    };
    let customer = crate::widgets::field::clip(&card.customer, customer_room);
    buf.set_stringn(inner.x, y, &customer, customer_room, Style::new());
    if !meta.is_empty() {
        put(buf, right.saturating_sub(meta_width), y, &meta, right);
        buf.set_style(
            Rect::new(
                right.saturating_sub(meta_width),
                y,
                meta_width.min(width),
                1,
            ),
            theme.muted(),
        );
    }
    if selected {
        buf.set_style(Rect::new(inner.x, y, width, 1), theme.selected());
    }
}

/// Writes `text` from `x` on row `y`, stopping before `right`; returns the column after it.
/// A card's text (hex digits, an amount and a currency code) is mostly ASCII, one cell per
/// byte, so it is written cell by cell: `set_stringn`'s grapheme segmentation and width
/// lookup were most of a card's cost. Anything else goes through `set_stringn`.
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

/// A column's title in `width` cells: `‹ confirmed 12,345 › `. The count is never cut: the
/// status abbreviates first (`confi.`), and a count past three digits becomes `999+` only
/// when even that does not fit. Returns the name part and the count part.
pub fn column_title(
    status: &str,
    count: Option<u64>,
    more_left: bool,
    more_right: bool,
    width: usize,
) -> (String, String) {
    let left = if more_left { "‹" } else { "" };
    let right = if more_right { "› " } else { "" };
    let mut counts = vec![count.map_or_else(|| "…".to_string(), group)];
    if count.is_some_and(|n| n > 999) {
        counts.push("999+".into());
    }
    let name_len = status.chars().count();
    let mut fallback = None;
    for c in &counts {
        for keep in (3.min(name_len)..=name_len).rev() {
            let name = if keep == name_len {
                status.to_string()
            } else {
                let mut cut: String = status.chars().take(keep).collect();
                cut.push('.');
                cut
            };
            let head = format!("{left} {name} ");
            let tail = format!("{c} {right}");
            if head.chars().count() + tail.chars().count() <= width {
                return (head, tail);
            }
            fallback = Some((head, tail));
        }
    }
    fallback.unwrap_or_default()
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
    /// The session's staff member's unread mentions in this tenant, oldest first (at most
    /// [`MAX_MENTIONS_KEPT`]): loaded at start, added to live by `order.note_added` events,
    /// removed when their order is opened.
    pub mentions: Vec<Mention>,
    /// A form sent and not answered yet: shown again, with the reason, if refused for what it
    /// says (a note's unknown handle, a refund over what is left), so the text is not lost.
    sent_form: Option<(crate::msg::RequestId, Form)>,
    /// How the tenant's locale writes money (set from the session when pages load).
    pub money: NumberFormat,
    /// The board's filter (`/`), while there is one.
    pub filter: Option<BoardFilter>,
    /// Counts filter changes: a column's page asked under an older filter is dropped.
    filter_generation: u64,
    /// Per column, the order selected when the filter was opened (none once another card is
    /// chosen in that column): selected again when the filter is cleared.
    filter_anchors: Vec<Option<uuid::Uuid>>,
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
            customer: None,
            customers: None,
            customers_sel: 0,
            form: None,
            denied: None,
            pending: Default::default(),
            want_product: None,
            acted: None,
            mentions: Vec::new(),
            sent_form: None,
            money: NumberFormat::default(),
            filter: None,
            filter_generation: 0,
            filter_anchors: Vec::new(),
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

    pub fn draw(
        &self,
        frame: &mut Frame,
        area: Rect,
        theme: &Theme,
        now: Option<chrono::DateTime<chrono::Utc>>,
    ) {
        if let Some((order, events)) = &self.detail {
            draw_detail(frame, area, theme, order, events, self.money);
        } else if let Some((c, sel)) = &self.customer {
            draw_customer(frame, area, theme, c, *sel, self.money);
        } else {
            match self.view {
                View::Customers => self.draw_customers(frame, area, theme),
                View::Board => match &self.denied {
                    Some(why) => crate::widgets::dialog::denied(frame, area, theme, "Orders", why),
                    None => self.draw_board(frame, area, theme, now),
                },
                View::Products => self.draw_products(frame, area, theme),
            }
        }
        if let Some(f) = &self.form {
            f.draw(frame, area, theme);
        }
    }

    /// The width a board column needs: a card's id, a space and the widest total among the
    /// cards on screen in any column (so the layout does not depend on which columns show).
    fn column_width(&self, card_rows: u16) -> u16 {
        let widest = self
            .columns
            .iter()
            .flat_map(|(_, w)| w.visible(card_rows).filter_map(|i| w.row(i)))
            .map(|c| c.total_width)
            .max()
            .unwrap_or(0);
        MIN_COLUMN_WIDTH.max(widest.saturating_add(11))
    }

    fn draw_board(
        &self,
        frame: &mut Frame,
        area: Rect,
        theme: &Theme,
        now: Option<chrono::DateTime<chrono::Utc>>,
    ) {
        let area = match &self.filter {
            Some(f) => {
                let [line, rest] =
                    Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
                f.draw(frame, line, theme);
                rest
            }
            None => area,
        };
        // As many columns as fit at a readable width (a card is an id and a whole total);
        // the focused one is always among them, and a ‹ or › in a title says more are beside.
        let card_rows = area.height.saturating_sub(2) / CARD_LINES;
        let total = self.columns.len().max(1);
        let fit = usize::from(area.width / self.column_width(card_rows)).clamp(1, total);
        let first = self.col.saturating_sub(fit - 1).min(total - fit);
        let cols = Layout::horizontal(vec![Constraint::Ratio(1, fit as u32); fit]).split(area);
        let shown = self.columns.iter().enumerate().skip(first).take(fit);
        for ((i, (status, w)), rect) in shown.zip(cols.iter()) {
            let focused = i == self.col;
            let (name, count) = column_title(
                &status.as_str().replace('_', " "),
                w.is_loaded().then(|| w.total()),
                i == first && first > 0,
                i + 1 == first + fit && i + 1 < total,
                usize::from(rect.width.saturating_sub(2)),
            );
            let block = Block::bordered()
                .border_style(theme.border(focused))
                .title(Line::from(vec![
                    Span::styled(
                        name,
                        if focused {
                            theme.title()
                        } else {
                            theme.muted()
                        },
                    ),
                    Span::styled(count, theme.muted()),
                ]));
            let inner = block.inner(*rect);
            frame.render_widget(block, *rect);
            let buf = frame.buffer_mut();
            let mut y = inner.y;
            // Cards are written straight into the buffer from the text formatted when their
            // page loaded, and only the window on screen is drawn, so a full column costs
            // little more than a sparse one (the frame's fixed cost dominates; see
            // docs/PERFORMANCE.md).
            for idx in w.visible(card_rows) {
                let selected = focused && idx == w.selected_index();
                match w.row(idx) {
                    Some(card) => draw_card(buf, inner, y, card, selected, now, theme),
                    None => {
                        let style = if selected {
                            theme.selected()
                        } else {
                            theme.muted()
                        };
                        buf.set_stringn(inner.x, y, "…", usize::from(inner.width), style);
                    }
                }
                y += CARD_LINES;
            }
            if y == inner.y && w.is_loaded() && inner.height > 0 {
                let empty = if self.filter.as_ref().is_some_and(|f| !f.query().is_empty()) {
                    "no match"
                } else {
                    "—"
                };
                buf.set_stringn(inner.x, y, empty, usize::from(inner.width), theme.muted());
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
                let row = customer_row(c, self.money);
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
                        Cell::from(r.price.format(self.money)),
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

/// `1,212.50 USD`, `12.50 USD + 3.00 EUR` (as the tenant's locale writes money), `-` for
/// nothing.
fn amounts(value: &[rustok_domain::Money], money: NumberFormat) -> String {
    if value.is_empty() {
        return "-".into();
    }
    value
        .iter()
        .map(|m| m.format(money))
        .collect::<Vec<_>>()
        .join(" + ")
}

fn customer_row(c: &Customer, money: NumberFormat) -> Row<'static> {
    Row::new(vec![
        Cell::from(printable(&c.email)),
        Cell::from(group(c.orders)),
        Cell::from(amounts(&c.lifetime_value, money)),
        Cell::from(c.last_order_at.format("%Y-%m-%d %H:%M").to_string()),
    ])
}

/// A customer: email, orders, lifetime value net of refunds, last order; then their orders,
/// newest first, the selected one highlighted (`Enter` opens it).
fn draw_customer(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    d: &CustomerDetail,
    sel: usize,
    money: NumberFormat,
) {
    let c = &d.customer;
    let [head, list] = Layout::vertical([Constraint::Length(4), Constraint::Fill(1)]).areas(area);
    let lines = vec![
        Line::from(vec![
            Span::styled("Orders          ", theme.muted()),
            Span::raw(group(c.orders)),
        ]),
        Line::from(vec![
            Span::styled("Lifetime value  ", theme.muted()),
            Span::styled(amounts(&c.lifetime_value, money), theme.title()),
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
                Cell::from(o.total.format(money)),
                Cell::from(count(o.units, money)),
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

fn draw_detail(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    o: &Order,
    events: &[StoredEvent],
    money: NumberFormat,
) {
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
    // One line per item: SKU, title (cut to what is left), quantity × unit price and the line
    // total at the right edge; the amounts are whole at any width the title leaves room for.
    let width = usize::from(left.width.saturating_sub(2));
    for item in &o.items {
        let line_total = item
            .line_total()
            .map_or("overflow".to_string(), |m| m.format(money));
        let amounts = format!(
            " {} × {} {line_total:>12}",
            count(item.quantity, money),
            item.unit_price.format(money)
        );
        let sku = format!(
            "{:<11}",
            crate::widgets::field::clip(&printable(&item.sku), 10)
        );
        let returned = if item.returned > 0 {
            format!("  {} returned", count(item.returned, money))
        } else {
            String::new()
        };
        let room = width.saturating_sub(11 + amounts.chars().count() + returned.chars().count());
        let title = crate::widgets::field::clip(&printable(&item.title), room.min(24));
        lines.push(Line::from(vec![
            Span::styled(sku, theme.key()),
            Span::raw(format!("{title:<room$}", room = room.min(24))),
            Span::raw(amounts),
            Span::styled(returned, theme.warning()),
        ]));
    }
    lines.push(
        Line::styled(format!("Total {} ", o.total.format(money)), theme.title())
            .alignment(ratatui::layout::Alignment::Right),
    );
    if o.refunded.amount > 0 {
        lines.push(
            Line::styled(
                format!(
                    "Captured {} · refunded {} · net {} ",
                    o.captured().format(money),
                    o.refunded.format(money),
                    o.net().format(money)
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
                let amount = p
                    .get("amount")
                    .or_else(|| p.get("total"))
                    .and_then(|m| serde_json::from_value::<rustok_domain::Money>(m.clone()).ok())
                    .map(|m| m.format(money));
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
                // An amount (an order's total, a payment, a refund) in the tenant's format,
                // before what else the event says.
                let detail = match (amount, detail.is_empty()) {
                    (Some(a), true) => a,
                    (Some(a), false) => format!("{a} · {detail}"),
                    (None, _) => detail,
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
    fn cards_show_id_total_customer_units_and_age_and_only_the_selected_is_highlighted() {
        use ratatui::Terminal;
        use ratatui::backend::TestBackend;
        use rustok_domain::read::Page;
        use rustok_domain::{Currency, Money};
        let theme = Theme::default();
        let placed = chrono::DateTime::UNIX_EPOCH;
        let card = |i: u128, customer: Option<&str>| OrderSummary {
            id: OrderId::from_uuid(uuid::Uuid::from_u128(0x5000 + i)),
            status: OrderStatus::Pending,
            customer: customer.map(Into::into),
            total: Money::new(4990, Currency::USD),
            captured: Money::zero(Currency::USD),
            refunded: Money::zero(Currency::USD),
            lines: 2,
            units: 3,
            version: 1,
            placed_at: placed,
            updated_at: placed,
        };
        let mut pane = OrdersPane::default();
        pane.columns[0].1.on_page(Page {
            total: 2,
            offset: 0,
            rows: vec![
                card(1, Some("ann@example.com")).into(),
                card(2, None).into(),
            ],
        });
        pane.columns[1].1.on_page(Page::empty());
        let mut term = Terminal::new(TestBackend::new(120, 7)).unwrap();
        let now = placed + chrono::Duration::minutes(90);
        term.draw(|f| pane.draw(f, f.area(), &theme, Some(now)))
            .unwrap();
        let buf = term.backend().buffer();
        let row = |y: u16| (1..19).map(|x| buf[(x, y)].symbol()).collect::<String>();
        assert_eq!(row(1), "00005001 49.90 USD");
        // Narrow: the customer ellipsised, units and age in short.
        assert_eq!(row(2), "ann@example… 3× 1h");
        assert_eq!(row(3), "00005002 49.90 USD");
        assert_eq!(row(4), "—            3× 1h");
        // The selected card (first of the focused column) is highlighted on both its rows;
        // the other card is not.
        let selected = theme.selected();
        for x in 1..19 {
            for y in [1, 2] {
                assert_eq!(buf[(x, y)].bg, selected.bg.unwrap_or_default(), "x = {x}");
            }
            for y in [3, 4] {
                assert_ne!(buf[(x, y)].bg, selected.bg.unwrap_or_default(), "x = {x}");
            }
        }
        // A loaded empty column shows a dash.
        assert_eq!(buf[(21, 1)].symbol(), "—");
    }

    #[test]
    fn titles_keep_the_whole_count_and_abbreviate_the_status_first() {
        let t = |status: &str, n: u64, l: bool, r: bool, w: usize| {
            let (a, b) = column_title(status, Some(n), l, r, w);
            format!("{a}{b}")
        };
        assert_eq!(t("pending", 157, false, false, 18), " pending 157 ");
        assert_eq!(t("pending", 12_345, false, false, 18), " pending 12,345 ");
        assert_eq!(t("confirmed", 12_345, true, true, 18), "‹ confi. 12,345 › ");
        assert_eq!(
            t("delivered", 1_234_567, true, true, 19),
            "‹ del. 1,234,567 › "
        );
        // Only when even the shortest status leaves no room is the count `999+`.
        assert_eq!(
            t("delivered", 123_456_789, true, true, 17),
            "‹ delive. 999+ › "
        );
        assert_eq!(t("pending", 999, true, true, 13), "‹ pen. 999 › ");
        let (a, b) = column_title("pending", None, false, false, 18);
        assert_eq!(format!("{a}{b}"), " pending … ");
    }

    #[test]
    fn ages_are_short() {
        let t0 = chrono::DateTime::UNIX_EPOCH;
        let after = |s: i64| age(t0 + chrono::Duration::seconds(s), t0);
        assert_eq!(after(-5), "now");
        assert_eq!(after(59), "now");
        assert_eq!(after(60), "1m");
        assert_eq!(after(3_599), "59m");
        assert_eq!(after(3_600), "1h");
        assert_eq!(after(47 * 3_600), "47h");
        assert_eq!(after(3 * 86_400), "3d");
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

    /// A dialog's long help and error lines wrap inside it (it grows, within the screen),
    /// and no size of screen makes it panic or draw outside the screen.
    /// A paid order of 5,782,415.30 EUR of which `refunded` cents were refunded.
    fn paid_order(refunded: i64) -> OrderSummary {
        use rustok_domain::{Currency, Money};
        OrderSummary {
            id: OrderId::from_uuid(uuid::Uuid::from_u128(0xd768ca19)),
            status: OrderStatus::Paid,
            customer: Some("ann@example.com".into()),
            total: Money::new(578_241_530, Currency::EUR),
            captured: Money::new(578_241_530, Currency::EUR),
            refunded: Money::new(refunded, Currency::EUR),
            lines: 1,
            units: 1,
            version: 3,
            placed_at: chrono::DateTime::UNIX_EPOCH,
            updated_at: chrono::DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn dialogs_wrap_long_lines_and_fit_any_screen() {
        use ratatui::Terminal;
        use ratatui::backend::TestBackend;
        use rustok_domain::commerce::OrderAction;
        let theme = Theme::default();
        let order = paid_order(1_000);
        let error = "amount: cannot refund 5.782.415,30 EUR: 5.782.415,30 EUR was captured, \
                     10,00 EUR already refunded, 5.782.405,30 EUR left — the end";
        let de = NumberFormat::of(&"de".parse().unwrap());
        let mut forms: Vec<Form> = OrderAction::ALL
            .iter()
            .map(|a| Form::step(*a, &order, de))
            .collect();
        forms.extend([Form::new_order(), Form::note(&order)]);
        for f in &mut forms {
            f.error = Some(error.into());
        }
        let text = |term: &Terminal<TestBackend>| -> String {
            let buf = term.backend().buffer();
            let a = buf.area;
            (a.y..a.bottom())
                .map(|y| {
                    (a.x..a.right())
                        .map(|x| buf[(x, y)].symbol())
                        .collect::<String>()
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        for (w, h) in [
            (0, 0),
            (1, 1),
            (20, 6),
            (22, 5),
            (30, 8),
            (40, 12),
            (80, 24),
        ] {
            for f in &forms {
                let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
                term.draw(|frame| f.draw(frame, frame.area(), &theme))
                    .unwrap();
                if (w, h) == (80, 24) {
                    // The whole error, on lines of the dialog.
                    let screen = text(&term);
                    let joined: String = screen
                        .lines()
                        .map(|l| l.trim_matches(|c| c == ' ' || c == '│'))
                        .collect::<Vec<_>>()
                        .join(" ");
                    assert!(
                        joined.contains(&format!("✗ {error}")),
                        "{}\n{screen}",
                        f.title
                    );
                    assert!(joined.contains(&f.hint), "{}\n{screen}", f.title);
                }
            }
        }
    }

    /// Every step declared `confirm` (dangerous ones included: a refund row gets it by its
    /// declaration) names the order and its whole amount in the tenant's format, and no step
    /// form submits on the first Enter in its first field.
    #[test]
    fn step_forms_confirm_by_declaration_and_never_submit_on_the_first_enter() {
        use rustok_domain::commerce::OrderAction;
        let order = paid_order(0);
        let de = NumberFormat::of(&"de".parse().unwrap());
        let enter = || KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE);
        for a in OrderAction::ALL {
            let step = a.step();
            let mut f = Form::step(*a, &order, de);
            assert!(f.title.contains("d768ca19"), "{}", f.title);
            assert!(f.title.contains("5.782.415,30 EUR"), "{}", f.title);
            if step.confirm {
                assert!(f.title.ends_with('?'), "{}", f.title);
                // A cancel names what it refunds, a refund what can be refunded until an
                // amount is typed; the others the order's amount.
                let want = match a {
                    OrderAction::Cancel => "Cancel order d768ca19 · refund 5.782.415,30 EUR".into(),
                    OrderAction::Refund => {
                        "Refund order d768ca19 · type an amount, up to 5.782.415,30 EUR".into()
                    }
                    _ => format!(
                        "{} order d768ca19 · 5.782.415,30 EUR",
                        crate::panes::capitalize(a.as_str())
                    ),
                };
                assert_eq!(f.button_text(), want);
            }
            if !step.inputs.is_empty() {
                for (i, input) in step.inputs.iter().enumerate() {
                    f.fields[i].set_text(if input.default.is_empty() {
                        "x"
                    } else {
                        input.default
                    });
                }
                assert!(matches!(f.key(enter()), FormKey::Editing), "{a}");
            }
        }
    }
}
