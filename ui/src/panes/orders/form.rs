//! The order forms — an order step's inputs (built from its declaration in the domain's
//! `commerce/steps.rs`), adjust stock, new order — small modal dialogs that build one command.
//!
//! Every form ends in a button, and Enter walks to it: Enter in a field moves to the next
//! field, Enter in the last field checks the form and moves to the button (or says what to
//! fix), and only Enter on the button submits. So a dialog never submits on the first Enter
//! in its first field, and a step declared `confirm` (ship, deliver, cancel, any dangerous
//! step) shows the order and its amount on the button that runs it. A form without fields
//! (deliver) opens on its button. A refund's button names the amount it gives back, a
//! return's the units and whether they go back on hand, as typed in the fields.

use super::*;
use crate::panes::capitalize;
use rustok_domain::Money;
use rustok_domain::commerce::{MAX_NOTE_CHARS, OrderAction};

#[derive(Debug, Clone, PartialEq)]
pub enum FormKind {
    /// An order step on this order, at the version the screen showed.
    Step(OrderAction, OrderId, i64),
    Adjust(String),
    NewOrder,
    /// A note on this order.
    Note(OrderId),
}

/// A small modal form: fields, a submit, and an error line.
#[derive(Debug, Clone)]
pub struct Form {
    pub kind: FormKind,
    pub title: String,
    pub hint: String,
    pub fields: Vec<Field>,
    /// The focused field; `fields.len()` is the button.
    pub focus: usize,
    pub error: Option<String>,
    pub danger: bool,
    /// What the button says: `Submit`, or for a confirmed step `Ship order d768ca19 ·
    /// 5,782,415.30 USD`.
    pub button: String,
    /// A confirmed step: Enter on the button confirms it.
    pub confirm: bool,
    /// A line under the fields (the order's customer).
    pub detail: Option<String>,
    /// The order a step's form acts on, as the screen showed it: its currency (a refund's
    /// amount is in it) and what is left to refund (a cancel's and a refund's button).
    pub order: Option<OrderSummary>,
    /// How the tenant's locale writes money (a refund's amount on the button).
    pub money: NumberFormat,
}

pub enum FormKey {
    /// Still editing.
    Editing,
    Cancelled,
    Submit(Command),
}

impl Form {
    pub(super) fn new(
        kind: FormKind,
        title: String,
        hint: &str,
        fields: Vec<Field>,
        danger: bool,
    ) -> Form {
        Form {
            kind,
            title,
            hint: hint.into(),
            fields,
            focus: 0,
            error: None,
            danger,
            button: "Submit".into(),
            confirm: false,
            detail: None,
            order: None,
            money: NumberFormat::default(),
        }
    }

    fn with_button(mut self, button: String) -> Form {
        self.button = button;
        self
    }

    /// The button has the focus.
    pub fn on_button(&self) -> bool {
        self.focus >= self.fields.len()
    }

    /// The form of an order step: one field per declared input, its default filled in; a
    /// step declared `confirm` names the order and its amount in the title and on the
    /// button.
    pub fn step(action: OrderAction, order: &OrderSummary, money: NumberFormat) -> Form {
        let step = action.step();
        let what = capitalize(action.as_str());
        let amount = order.total.format(money);
        let title = if matches!(action, OrderAction::Cancel | OrderAction::Refund) {
            // The total is the order's, not what goes back: the button and the help say that.
            format!(
                "{what} order {} (total {amount}, {})?",
                short(order.id),
                order.status
            )
        } else if step.confirm {
            format!(
                "{what} order {} — {amount} ({})?",
                short(order.id),
                order.status
            )
        } else {
            format!(
                "{what} order {} — {amount} ({})",
                short(order.id),
                order.status
            )
        };
        let hint = match step.inputs.first() {
            _ if action == OrderAction::Cancel => cancel_hint(order, money),
            _ if action == OrderAction::Refund => refund_hint(order, money),
            _ if step.danger => step.doc.trim().to_string(),
            Some(input) if step.inputs.len() == 1 => input.help.to_string(),
            _ => step.doc.trim().to_string(),
        };
        let fields = step
            .inputs
            .iter()
            .map(|i| Field::new(i.label, i.default, false))
            .collect();
        let button = if action == OrderAction::Cancel {
            // What the cancel gives back, not the order's total.
            let refund = order.cancel_refund();
            if refund.amount > 0 {
                format!(
                    "Cancel order {} · refund {}",
                    short(order.id),
                    refund.format(money)
                )
            } else {
                format!("Cancel order {} · no refund", short(order.id))
            }
        } else if step.confirm {
            format!("{what} order {} · {amount}", short(order.id))
        } else {
            what
        };
        let mut form = Form::new(
            FormKind::Step(action, order.id, order.version),
            title,
            &hint,
            fields,
            step.danger,
        )
        .with_button(button);
        form.confirm = step.confirm;
        form.order = Some(order.clone());
        form.money = money;
        form.detail = order
            .customer
            .as_deref()
            .map(|c| format!("customer {}", printable(c)));
        form
    }

    pub fn adjust(row: &StockRow) -> Form {
        Form::new(
            FormKind::Adjust(row.sku.clone()),
            format!(
                "Adjust stock of {} (on hand {})",
                printable(&row.sku),
                row.on_hand
            ),
            "By: a whole number, negative to remove units",
            vec![Field::new("By", "", false), Field::new("Reason", "", false)],
            false,
        )
        .with_button("Adjust stock".into())
    }

    /// A note on an order: one line of text, `@handle` mentions a colleague.
    pub fn note(order: &OrderSummary) -> Form {
        Form::new(
            FormKind::Note(order.id),
            format!("Note on order {} ({})", short(order.id), order.status),
            "@handle tells a colleague at once · the order itself is not changed",
            vec![Field::new("Note", "", false)],
            false,
        )
    }

    pub fn new_order() -> Form {
        Form::new(
            FormKind::NewOrder,
            "New order".into(),
            "Items: SKU:QTY separated by spaces or commas, e.g. MUG:2 TEE:1",
            vec![
                Field::new("Items", "", false),
                Field::new("Customer", "", false),
            ],
            false,
        )
        .with_button("Place the order".into())
    }

    /// What the button says now: a refund names the amount typed (in the order's currency)
    /// and a return the units and whether they go back on hand, once the fields make a
    /// command; otherwise the button set when the form opened.
    pub fn button_text(&self) -> String {
        use rustok_domain::commerce::OrderCommand;
        let FormKind::Step(_, id, _) = &self.kind else {
            return self.button.clone();
        };
        if let FormKind::Step(OrderAction::Refund, _, _) = &self.kind {
            // The amount typed, once it reads as one; before, what can be refunded.
            return match (self.refund_amount(), &self.order) {
                (Some(Ok(m)), _) => {
                    format!("Refund {} of order {}", m.format(self.money), short(*id))
                }
                (_, Some(o)) if o.refundable().amount > 0 => format!(
                    "Refund order {} · type an amount, up to {}",
                    short(*id),
                    o.refundable().format(self.money)
                ),
                (_, Some(_)) => format!("Refund order {} · nothing left to refund", short(*id)),
                (_, None) => format!("Refund order {} · type an amount", short(*id)),
            };
        }
        match self.command() {
            Ok(Command::Order(OrderCommand::ReturnOrder { item, restock, .. })) => {
                let units: Vec<String> = item.0.iter().map(|u| printable(&u.to_string())).collect();
                format!(
                    "Return {} of order {} · {}",
                    units.join(" "),
                    short(*id),
                    if restock {
                        "back on hand"
                    } else {
                        "NOT restocked"
                    }
                )
            }
            _ => self.button.clone(),
        }
    }

    /// Enter moves to the next field, from the last field (checked first) to the button;
    /// Enter on the button submits. Tab/↓ and Shift-Tab/↑ move through fields and button.
    pub fn key(&mut self, key: KeyEvent) -> FormKey {
        let stops = self.fields.len() + 1;
        match key.code {
            KeyCode::Esc => FormKey::Cancelled,
            KeyCode::Tab | KeyCode::Down => {
                self.focus = (self.focus + 1) % stops;
                FormKey::Editing
            }
            KeyCode::BackTab | KeyCode::Up => {
                self.focus = (self.focus + stops - 1) % stops;
                FormKey::Editing
            }
            KeyCode::Enter if self.focus + 1 < self.fields.len() => {
                self.focus += 1;
                FormKey::Editing
            }
            KeyCode::Enter if !self.on_button() => {
                match self.command() {
                    Ok(_) => {
                        self.error = None;
                        self.focus = self.fields.len();
                    }
                    Err(e) => self.error = Some(e),
                }
                FormKey::Editing
            }
            KeyCode::Enter => match self.command() {
                Ok(c) => FormKey::Submit(c),
                Err(e) => {
                    self.error = Some(e);
                    FormKey::Editing
                }
            },
            _ if self.on_button() => FormKey::Editing,
            _ => {
                self.error = None;
                self.fields[self.focus].input(key);
                FormKey::Editing
            }
        }
    }

    pub fn paste(&mut self, text: &str) {
        if let Some(f) = self.fields.get_mut(self.focus) {
            f.paste(text);
        }
    }

    fn text(&self, i: usize) -> String {
        self.fields
            .get(i)
            .map(|f| f.text().trim().to_string())
            .unwrap_or_default()
    }

    /// The command the form describes, or what to fix.
    pub fn command(&self) -> Result<Command, String> {
        Ok(match &self.kind {
            FormKind::Step(action, id, version) => {
                let mut values: Vec<String> =
                    (0..self.fields.len()).map(|i| self.text(i)).collect();
                // The amount as typed in the tenant's format (`1.234,50`), carried in the plain
                // form the command takes (`1234.50`).
                if let (Some(i), Some(amount)) = (self.amount_field(), self.refund_amount()) {
                    values[i] = amount.map_err(|e| e.to_string())?.plain();
                }
                let values: Vec<&str> = values.iter().map(String::as_str).collect();
                action
                    .command(*id, Some(*version), &values)
                    .map_err(|e| e.to_string())?
            }
            FormKind::Adjust(sku) => {
                let by: i64 = self
                    .text(0)
                    .parse()
                    .map_err(|_| format!("'{}' is not a whole number", printable(&self.text(0))))?;
                Command::AdjustInventory {
                    sku: sku.clone(),
                    by,
                    reason: self.text(1),
                }
            }
            FormKind::Note(id) => {
                let text = self.text(0);
                if text.is_empty() {
                    return Err("write the note first".into());
                }
                let n = text.chars().count();
                if n > MAX_NOTE_CHARS {
                    return Err(format!(
                        "the note is {n} characters long; the limit is {MAX_NOTE_CHARS}"
                    ));
                }
                Command::AddOrderNote {
                    id: *id,
                    note_id: rustok_domain::NoteId::new_v7(),
                    text,
                }
            }
            FormKind::NewOrder => {
                let mut items = Vec::new();
                for part in self.text(0).split([',', ' ']).filter(|p| !p.is_empty()) {
                    let (sku, qty) = part
                        .rsplit_once(':')
                        .ok_or_else(|| format!("'{}' is not SKU:QTY", printable(part)))?;
                    let qty: i64 = qty
                        .parse()
                        .map_err(|_| format!("'{}' is not a quantity", printable(qty)))?;
                    items.push((sku.to_string(), qty));
                }
                if items.is_empty() {
                    return Err("add at least one item, e.g. MUG:1".into());
                }
                let customer = self.text(1);
                Command::CreateOrder(OrderDraft {
                    id: OrderId::new_v7(),
                    customer: (!customer.is_empty()).then_some(customer),
                    items,
                })
            }
        })
    }

    /// The index of a step's `amount` input (a refund's).
    fn amount_field(&self) -> Option<usize> {
        let FormKind::Step(action, _, _) = &self.kind else {
            return None;
        };
        action.step().inputs.iter().position(|i| i.name == "amount")
    }

    /// The amount typed in a step's `amount` field, read in the tenant's format and the
    /// order's currency ([`Money::parse_typed`]); `None` without such a field or order.
    fn refund_amount(&self) -> Option<Result<Money, rustok_domain::DomainError>> {
        let i = self.amount_field()?;
        let currency = self.order.as_ref()?.total.currency;
        Some(Money::parse_typed(&self.text(i), currency, self.money))
    }

    pub fn restyle(&mut self, theme: &Theme) {
        let focus = self.focus;
        for (i, f) in self.fields.iter_mut().enumerate() {
            f.restyle(theme, i == focus);
        }
    }

    /// Draws the form centred in `area`: 76 columns wide (less on a narrow screen), as tall
    /// as its fields and its wrapped help and error lines need, within the screen. Rows
    /// that do not fit a tiny screen are left out, never drawn outside.
    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let width = 76.min(area.width);
        let text_width = width.saturating_sub(2).max(1);
        let wrapped = |text: String, style: Style| {
            let p = Paragraph::new(text).style(style).wrap(Wrap { trim: true });
            let lines = u16::try_from(p.line_count(text_width)).unwrap_or(u16::MAX);
            (p, lines.max(1))
        };
        let (hint, hint_lines) = wrapped(printable(&self.hint), theme.muted());
        let (error, error_lines) = wrapped(
            self.error
                .as_deref()
                .map(|e| format!("✗ {}", printable(e)))
                .unwrap_or_default(),
            theme.error(),
        );
        let on_button = self.on_button();
        let button_style = match (on_button, self.danger) {
            (true, true) => theme
                .error()
                .add_modifier(ratatui::style::Modifier::REVERSED),
            (true, false) => theme.selected(),
            (false, _) => theme.muted(),
        };
        let button = Paragraph::new(Span::styled(
            format!("[ {} ]", printable(&self.button_text())),
            button_style,
        ))
        .wrap(Wrap { trim: true })
        .alignment(ratatui::layout::Alignment::Center);
        let button_lines = u16::try_from(button.line_count(text_width))
            .unwrap_or(u16::MAX)
            .max(1);
        let n = self.fields.len();
        let height = (n as u16)
            .saturating_add(1 + hint_lines + error_lines + button_lines + 1)
            .saturating_add(2);
        let rect = centered(area, width, height);
        frame.render_widget(Clear, rect);
        let border = if self.danger {
            theme.error()
        } else {
            theme.border(true)
        };
        let block = Block::bordered()
            .border_style(border)
            .title(Span::styled(
                format!(" {} ", printable(&self.title)),
                theme.title(),
            ))
            .style(theme.base());
        let inner = block.inner(rect);
        frame.render_widget(block, rect);
        // Rows from the top of the dialog, each cut to what is left of it.
        let mut y = inner.y;
        let mut next = |rows: u16| -> Option<Rect> {
            let room = inner.bottom().saturating_sub(y);
            if room == 0 {
                return None;
            }
            let r = Rect::new(inner.x, y, inner.width, rows.min(room));
            y = y.saturating_add(rows);
            Some(r)
        };
        for (i, f) in self.fields.iter().enumerate() {
            if let Some(r) = next(1) {
                f.draw(frame, r, theme, i == self.focus);
            }
        }
        if let Some(r) = next(1)
            && let Some(d) = &self.detail
        {
            frame.render_widget(Paragraph::new(printable(d)).style(theme.muted()), r);
        }
        if let Some(r) = next(hint_lines) {
            frame.render_widget(hint, r);
        }
        if let Some(r) = next(error_lines)
            && self.error.is_some()
        {
            frame.render_widget(error, r);
        }
        let button_area = next(button_lines);
        let keys_area = next(1);
        if let Some(r) = button_area {
            frame.render_widget(button, r);
        }
        let enter = if on_button {
            if self.confirm {
                "confirm   "
            } else {
                "submit   "
            }
        } else if self.focus + 1 < n {
            "next field   "
        } else {
            "to the button   "
        };
        if let Some(r) = keys_area {
            frame.render_widget(
                Paragraph::new(Line::from(vec![
                    Span::styled(" Enter ", theme.key()),
                    Span::raw(enter),
                    Span::styled(" Tab ", theme.key()),
                    Span::raw("next   "),
                    Span::styled(" Esc ", theme.key()),
                    Span::raw("cancel"),
                ])),
                r,
            );
        }
    }
}

/// A cancel's help: exactly what it gives back (captured less refunded for a paid order,
/// nothing for an unpaid one) and what happens to the stock.
fn cancel_hint(order: &OrderSummary, money: NumberFormat) -> String {
    use rustok_domain::commerce::OrderStatus as S;
    let refund = order.cancel_refund();
    let stock = match order.status {
        S::Pending => "",
        S::Confirmed => "; the reserved stock is released",
        // The goods are on their way: the stock does not come back.
        S::Shipped => ", NOT restocked (goods in transit): record a return (R) when back",
        _ => "; the stock goes back on hand",
    };
    if refund.amount > 0 && order.refunded.amount > 0 {
        format!(
            "refunds {}: {} captured less {} refunded already{stock}",
            refund.format(money),
            order.captured.format(money),
            order.refunded.format(money)
        )
    } else if refund.amount > 0 {
        format!("refunds {}{stock}", refund.format(money))
    } else if order.refunded.amount > 0 {
        format!(
            "refunds nothing: all {} captured was refunded already{stock}",
            order.captured.format(money)
        )
    } else {
        format!("nothing was paid, nothing is refunded{stock}")
    }
}

/// A refund's help: what is left to refund and how to type the amount in the tenant's format.
fn refund_hint(order: &OrderSummary, money: NumberFormat) -> String {
    let left = order.refundable();
    let example = Money::new(123_450, left.currency).format(money);
    let example = example.trim_end_matches(left.currency.code()).trim_end();
    let plain = Money::new(123_450, left.currency).plain();
    let typed = if example == plain {
        format!("e.g. {example}")
    } else {
        format!("e.g. {example} or {plain}")
    };
    if order.refunded.amount > 0 {
        format!(
            "at most {} left ({} captured, {} refunded already) · amount {typed}",
            left.format(money),
            order.captured.format(money),
            order.refunded.format(money)
        )
    } else {
        format!("at most {} left · amount {typed}", left.format(money))
    }
}
