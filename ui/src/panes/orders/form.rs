//! The order forms — an order step's inputs (built from its declaration in the domain's
//! `commerce/steps.rs`), adjust stock, new order — small modal dialogs that build one command.

use super::*;
use crate::panes::capitalize;
use rustok_domain::Money;
use rustok_domain::commerce::OrderAction;

#[derive(Debug, Clone, PartialEq)]
pub enum FormKind {
    /// An order step on this order, at the version the screen showed.
    Step(OrderAction, OrderId, i64),
    Adjust(String),
    NewOrder,
}

/// A small modal form: fields, a submit, and an error line.
#[derive(Debug, Clone)]
pub struct Form {
    pub kind: FormKind,
    pub title: String,
    pub hint: String,
    pub fields: Vec<Field>,
    pub focus: usize,
    pub error: Option<String>,
    pub danger: bool,
    /// The order's total, for naming the amount a refund gives back.
    pub total: Option<Money>,
    /// Asked before submitting (refunds and returns): the question naming the order and what
    /// it gives back, and the command the second Enter sends.
    pub confirm: Option<(String, Command)>,
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
            total: None,
            confirm: None,
        }
    }

    /// Whether this form asks once more, naming the order and the amount, before it submits.
    fn asks_first(&self) -> bool {
        matches!(
            self.kind,
            FormKind::Step(OrderAction::Refund | OrderAction::Return, _, _)
        )
    }

    /// The question asked before `command` is sent (refund: the amount in the order's
    /// currency; return: the units and whether they go back on hand).
    fn question(&self, command: &Command) -> String {
        use rustok_domain::commerce::OrderCommand;
        match command {
            Command::Order(OrderCommand::RefundOrder {
                id, amount, reason, ..
            }) => {
                let amount = match self.total {
                    Some(t) => Money::parse(amount, t.currency)
                        .map_or_else(|_| printable(amount), |m| m.to_string()),
                    None => printable(amount),
                };
                format!(
                    "Refund {amount} of order {} ({})? Reason: {}",
                    short(*id),
                    self.total
                        .map_or_else(String::new, |t| format!("total {t}")),
                    printable(reason)
                )
            }
            Command::Order(OrderCommand::ReturnOrder {
                id, item, restock, ..
            }) => {
                let units: Vec<String> = item.0.iter().map(|u| printable(&u.to_string())).collect();
                format!(
                    "Record the return of {} from order {}, {}?",
                    units.join(" "),
                    short(*id),
                    if *restock {
                        "back on hand"
                    } else {
                        "NOT restocked"
                    }
                )
            }
            _ => String::new(),
        }
    }

    /// The form of an order step: one field per declared input, its default filled in.
    pub fn step(action: OrderAction, order: &OrderSummary) -> Form {
        let step = action.step();
        let what = capitalize(action.as_str());
        let title = if matches!(action, OrderAction::Refund | OrderAction::Return) {
            format!(
                "{what} order {} — total {} ({})",
                short(order.id),
                order.total,
                order.status
            )
        } else if step.danger {
            format!("{what} order {} ({})?", short(order.id), order.status)
        } else {
            format!(
                "{what} order {} — {} ({})",
                short(order.id),
                order.total,
                order.status
            )
        };
        let hint = match step.inputs.first() {
            // The goods are on their way: the refund happens, the stock does not come back.
            _ if action == OrderAction::Cancel
                && order.status == rustok_domain::commerce::OrderStatus::Shipped =>
            {
                "refunded, NOT restocked (goods in transit): record a return (R) when back"
                    .to_string()
            }
            _ if step.danger => step.doc.trim().to_string(),
            Some(input) if step.inputs.len() == 1 => input.help.to_string(),
            _ => step.doc.trim().to_string(),
        };
        let fields = step
            .inputs
            .iter()
            .map(|i| Field::new(i.label, i.default, false))
            .collect();
        let mut form = Form::new(
            FormKind::Step(action, order.id, order.version),
            title,
            &hint,
            fields,
            step.danger,
        );
        form.total = Some(order.total);
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
    }

    pub fn key(&mut self, key: KeyEvent) -> FormKey {
        if let Some((_, command)) = &self.confirm {
            // The question: Enter or y sends, Esc or n goes back to the fields.
            return match key.code {
                KeyCode::Enter | KeyCode::Char('y') => FormKey::Submit(command.clone()),
                KeyCode::Esc | KeyCode::Char('n') => {
                    self.confirm = None;
                    FormKey::Editing
                }
                _ => FormKey::Editing,
            };
        }
        match key.code {
            KeyCode::Esc => FormKey::Cancelled,
            KeyCode::Tab | KeyCode::Down => {
                self.focus = (self.focus + 1) % self.fields.len();
                FormKey::Editing
            }
            KeyCode::BackTab | KeyCode::Up => {
                self.focus = (self.focus + self.fields.len() - 1) % self.fields.len();
                FormKey::Editing
            }
            KeyCode::Enter if self.focus + 1 < self.fields.len() => {
                self.focus += 1;
                FormKey::Editing
            }
            KeyCode::Enter => match self.command() {
                Ok(c) if self.asks_first() => {
                    self.confirm = Some((self.question(&c), c));
                    FormKey::Editing
                }
                Ok(c) => FormKey::Submit(c),
                Err(e) => {
                    self.error = Some(e);
                    FormKey::Editing
                }
            },
            _ => {
                self.error = None;
                self.fields[self.focus].input(key);
                FormKey::Editing
            }
        }
    }

    pub fn paste(&mut self, text: &str) {
        if self.confirm.is_some() {
            return;
        }
        self.fields[self.focus].paste(text);
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
                let values: Vec<String> = (0..self.fields.len()).map(|i| self.text(i)).collect();
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

    pub fn restyle(&mut self, theme: &Theme) {
        let focus = self.focus;
        for (i, f) in self.fields.iter_mut().enumerate() {
            f.restyle(theme, i == focus);
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let height = self.fields.len() as u16 + 6;
        let rect = centered(area, 76, height);
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
        let mut rows = vec![Constraint::Length(1); self.fields.len()];
        rows.extend([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(1),
        ]);
        let areas = Layout::vertical(rows).split(inner);
        for (i, f) in self.fields.iter().enumerate() {
            f.draw(frame, areas[i], theme, i == self.focus);
        }
        let n = self.fields.len();
        frame.render_widget(
            Paragraph::new(self.hint.as_str()).style(theme.muted()),
            areas[n + 1],
        );
        if let Some(e) = &self.error {
            frame.render_widget(
                Paragraph::new(format!("✗ {e}")).style(theme.error()),
                areas[n + 2],
            );
        }
        if let Some((question, _)) = &self.confirm {
            frame.render_widget(
                Paragraph::new(question.as_str()).style(theme.warning()),
                areas[n + 2],
            );
            frame.render_widget(
                Paragraph::new(Line::from(vec![
                    Span::styled(" Enter/y ", theme.key()),
                    Span::raw("confirm   "),
                    Span::styled(" Esc/n ", theme.key()),
                    Span::raw("back to the fields"),
                ])),
                areas[n + 3],
            );
            return;
        }
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(" Enter ", theme.key()),
                Span::raw(if self.danger {
                    "confirm   "
                } else {
                    "submit   "
                }),
                Span::styled(" Tab ", theme.key()),
                Span::raw("next field   "),
                Span::styled(" Esc ", theme.key()),
                Span::raw("cancel"),
            ])),
            areas[n + 3],
        );
    }
}
