//! The order forms: pay, ship, cancel, adjust stock, new order — small modal dialogs that
//! build one command.

use super::*;
#[derive(Debug, Clone, PartialEq)]
pub enum FormKind {
    Pay(OrderId),
    Ship(OrderId),
    Cancel(OrderId),
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
        }
    }

    pub fn pay(order: &OrderSummary) -> Form {
        Form::new(
            FormKind::Pay(order.id),
            format!("Pay order {} — {}", short(order.id), order.total),
            "sandbox tokens: tok_visa, tok_mastercard succeed; tok_chargeDeclined is declined",
            vec![Field::new("Token", "tok_visa", false)],
            false,
        )
    }

    pub fn ship(order: &OrderSummary) -> Form {
        Form::new(
            FormKind::Ship(order.id),
            format!("Ship order {}", short(order.id)),
            "both are required",
            vec![
                Field::new("Carrier", "", false),
                Field::new("Tracking", "", false),
            ],
            false,
        )
    }

    pub fn cancel(order: &OrderSummary) -> Form {
        let refund = matches!(order.status, OrderStatus::Paid | OrderStatus::Shipped);
        Form::new(
            FormKind::Cancel(order.id),
            format!("Cancel order {} ({})?", short(order.id), order.status),
            if refund {
                "Enter cancels it, restocks and refunds the payment · Esc keeps the order"
            } else {
                "Enter cancels it and releases its stock · Esc keeps the order"
            },
            vec![Field::new("Reason", "", false)],
            true,
        )
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
            FormKind::Pay(id) => Command::PayOrder {
                id: *id,
                card_token: self.text(0),
            },
            FormKind::Ship(id) => {
                let (carrier, tracking) = (self.text(0), self.text(1));
                if carrier.is_empty() || tracking.is_empty() {
                    return Err("carrier and tracking number are both required".into());
                }
                Command::ShipOrder {
                    id: *id,
                    carrier,
                    tracking,
                }
            }
            FormKind::Cancel(id) => {
                let reason = self.text(0);
                Command::CancelOrder {
                    id: *id,
                    reason: (!reason.is_empty()).then_some(reason),
                }
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
