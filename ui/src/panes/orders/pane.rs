//! The Orders pane as a component: its keys, its requests and replies, the events it reloads
//! on, and its command bar.

use super::{
    BoardFilter, CARD_LINES, Card, FilterKey, Form, FormKey, MAX_MENTIONS_KEPT, OrdersPane, View,
    short,
};
use crate::action::Action;
use crate::keymap::Context;
use crate::msg::{Effect, Failure, Query, QueryResult, RequestId};
use crate::panes::{Bar, Ctx, Key, Pane, step};
use crate::theme::Theme;
use ratatui::crossterm::event::KeyEvent;
use rustok_domain::commerce::{Mention, OrderAction};
use rustok_domain::event::EventEnvelope;
use rustok_domain::read::{Applied, OrderSummary, Outcome, Page};
use rustok_domain::text::printable;
use rustok_domain::{Command, DomainError, NumberFormat, OrderId};

/// How many of a customer's orders their view loads (newest first).
const CUSTOMER_ORDERS: u64 = 500;
/// How many customers the Customers view loads (who ordered last first).
const CUSTOMERS_SHOWN: u64 = 1_000;

#[derive(Debug, Clone, PartialEq)]
pub enum Pending {
    /// A short id typed in the palette, being resolved to the order it names.
    Resolve,
    /// A column's page, asked under this filter generation.
    Column(usize, u64),
    Products,
    Detail,
    Order(String),
    /// The member's unread mentions.
    Mentions,
    Customers,
    /// The customers asked for by `u`: the view switches to them once they are here.
    OpenCustomers,
    Customer,
}

impl OrdersPane {
    /// How many cards a column shows: its rows (the screen less the tab line, the status
    /// lines, the borders and the filter line when there is one) over a card's rows.
    fn board_height(&self, ctx: &Ctx) -> u16 {
        let filter = u16::from(self.filter.is_some());
        (ctx.size.1.saturating_sub(5 + filter) / CARD_LINES).max(1)
    }

    /// The filter changed: every column goes back to its top, asks the store again under the
    /// new text, and keeps its selection pinned to the order it had (selected again if it
    /// still matches).
    fn refilter(&mut self, ctx: &mut Ctx) {
        self.filter_generation += 1;
        for (_, w) in &mut self.columns {
            w.refilter();
        }
        self.reload(ctx);
    }

    /// The filter is gone: every column asks again, the card each had selected before the
    /// filter (unless another was chosen under it) selected again.
    fn clear_filter(&mut self, ctx: &mut Ctx) {
        let anchors = std::mem::take(&mut self.filter_anchors);
        self.filter_generation += 1;
        for (i, (_, w)) in self.columns.iter_mut().enumerate() {
            w.refilter();
            if let Some(Some(id)) = anchors.get(i) {
                w.pin(*id);
            }
        }
        self.reload(ctx);
    }

    fn on_filter_key(&mut self, key: KeyEvent, ctx: &mut Ctx) {
        let Some(f) = &mut self.filter else {
            return;
        };
        match f.key(key) {
            FilterKey::Changed => self.refilter(ctx),
            FilterKey::Cleared => {
                self.filter = None;
                self.clear_filter(ctx);
            }
            FilterKey::Full => ctx.error(format!(
                "the filter is at most {} characters",
                rustok_domain::read::MAX_ORDER_FILTER_CHARS
            )),
            FilterKey::Done | FilterKey::Unchanged => {}
        }
    }

    /// Asks for the member's unread mentions in the tenant (at start and after a switch).
    pub fn load_mentions(&mut self, ctx: &mut Ctx) {
        let r = ctx.load(Query::Mentions);
        self.pending.insert(r, Pending::Mentions);
    }

    /// Takes the newest unread mention (the alert's key opens its order).
    pub fn take_newest_mention(&mut self) -> Option<Mention> {
        self.mentions.pop()
    }

    /// Keeps an unread mention (once; the newest [`MAX_MENTIONS_KEPT`]); true if it is new.
    fn keep_mention(&mut self, m: Mention) -> bool {
        if self.mentions.iter().any(|k| k.note_id == m.note_id) {
            return false;
        }
        let at = self
            .mentions
            .partition_point(|k| (k.created_at, k.note_id) < (m.created_at, m.note_id));
        self.mentions.insert(at, m);
        if self.mentions.len() > MAX_MENTIONS_KEPT {
            self.mentions.remove(0);
        }
        true
    }

    /// The order `id` is on screen: its mentions are seen (marked read in the store).
    fn seen(&mut self, id: OrderId, ctx: &mut Ctx) {
        let (seen, unread): (Vec<Mention>, Vec<Mention>) = std::mem::take(&mut self.mentions)
            .into_iter()
            .partition(|m| m.order_id == id);
        self.mentions = unread;
        if !seen.is_empty() {
            ctx.effect(Effect::MarkMentionsRead(
                seen.iter().map(|m| m.note_id).collect(),
            ));
        }
    }

    /// A note on the highlighted order (or the one in detail): its form.
    fn note(&mut self, ctx: &mut Ctx) {
        match self.target_order() {
            Some(o) => self.form = Some(Form::note(&o)),
            None => ctx.info("select an order first"),
        }
    }

    /// Opens an order's detail (a jump from Events or the palette).
    pub fn open_order(&mut self, id: OrderId, ctx: &mut Ctx) {
        self.form = None;
        let r = ctx.load(Query::Order(id));
        self.pending.insert(r, Pending::Detail);
    }

    /// Opens a customer (their orders), by the email an order was placed under.
    pub fn open_customer(&mut self, email: &str, ctx: &mut Ctx) {
        let r = ctx.load(Query::Customer {
            email: email.to_string(),
            limit: CUSTOMER_ORDERS,
        });
        self.pending.insert(r, Pending::Customer);
    }

    /// Shows every customer of the tenant, once the store has listed them: refused (a role
    /// without `order:read`), the console stays where it was and says why.
    fn open_customers(&mut self, ctx: &mut Ctx) {
        if self.pending.values().any(|p| *p == Pending::OpenCustomers) {
            return;
        }
        let r = ctx.load(Query::Customers {
            offset: 0,
            limit: CUSTOMERS_SHOWN,
        });
        self.pending.insert(r, Pending::OpenCustomers);
    }

    /// `u`: the customer of the highlighted order; from a customer (or an order without
    /// one), every customer.
    fn on_customers(&mut self, ctx: &mut Ctx) {
        let email = match (&self.detail, &self.customer, self.view) {
            (Some((o, _)), _, _) => o.customer.clone(),
            (None, Some(_), _) | (None, None, View::Customers) => None,
            (None, None, _) => self.selected().and_then(|o| o.customer.clone()),
        };
        match email {
            Some(e) => self.open_customer(&e, ctx),
            None => self.open_customers(ctx),
        }
    }

    /// Opens the order a whole id or a short id (the last hex digits) names.
    pub fn open_order_text(&mut self, text: &str, ctx: &mut Ctx) {
        match text.parse::<OrderId>() {
            Ok(id) => self.open_order(id, ctx),
            Err(_) => {
                let r = ctx.load(Query::ResolveId {
                    kind: crate::msg::IdKind::Order,
                    text: text.to_string(),
                });
                self.pending.insert(r, Pending::Resolve);
            }
        }
    }

    /// Shows the stock list (a jump from an `inventory.*` event), with that product's
    /// first SKU selected once it is loaded.
    pub fn open_stock(&mut self, product: Option<uuid::Uuid>, ctx: &mut Ctx) {
        self.detail = None;
        self.view = View::Products;
        self.want_product = product;
        self.products.invalidate();
        self.reload(ctx);
    }

    /// The order the pane acts on: the one in detail, else the selected card.
    fn target_order(&self) -> Option<OrderSummary> {
        match &self.detail {
            Some((o, _)) => Some(OrderSummary::of(o)),
            None => self.selected().cloned(),
        }
    }

    /// An order step (`commerce/steps.rs`) on the order highlighted now, with the version the
    /// screen shows: a card that changed since is refused by the store as a conflict. A step
    /// with inputs, or one declared `confirm`, opens its form first.
    pub fn step(&mut self, action: OrderAction, ctx: &mut Ctx) {
        let Some(o) = self.target_order() else {
            return ctx.info("select an order first");
        };
        if let Err(e) = o.status.apply(action) {
            return ctx.error(e.to_string());
        }
        let step = action.step();
        if step.inputs.is_empty() && !step.confirm {
            match action.command(o.id, Some(o.version), &[]) {
                Ok(c) => self.dispatch(ctx, step.doing, c),
                Err(e) => ctx.error(e.to_string()),
            }
        } else {
            self.form = Some(Form::step(action, &o, self.money));
        }
    }

    fn dispatch(&mut self, ctx: &mut Ctx, label: &str, c: Command) {
        if let Some(id) = ctx.dispatch(c) {
            self.pending.insert(id, Pending::Order(label.into()));
        }
    }

    fn on_form_key(&mut self, key: KeyEvent, ctx: &mut Ctx) {
        let Some(form) = &mut self.form else {
            return;
        };
        match form.key(key) {
            FormKey::Editing => {}
            FormKey::Cancelled => self.form = None,
            FormKey::Submit(command) => {
                let form = self.form.take();
                let label = match &command {
                    Command::Order(c) => c.action().step().doing,
                    Command::AdjustInventory { .. } => "adjusting stock",
                    Command::CreateOrder(_) => "placing the order",
                    Command::AddOrderNote { .. } => "adding the note",
                    _ => "working",
                };
                if let Some(id) = ctx.dispatch(command) {
                    self.pending.insert(id, Pending::Order(label.into()));
                    self.sent_form = form.map(|f| (id, f));
                }
            }
        }
    }

    /// The pane's actions; `false` leaves the action to the global bindings.
    fn on_action(&mut self, action: Action, ctx: &mut Ctx) -> bool {
        let h = self.board_height(ctx);
        match action {
            Action::Left | Action::Right => {
                if self.detail.is_none() && self.view == View::Board {
                    self.move_col(if action == Action::Left { -1 } else { 1 });
                }
            }
            Action::Up | Action::Down | Action::PageUp | Action::PageDown
                if self.detail.is_none()
                    && (self.customer.is_some() || self.view == View::Customers) =>
            {
                let delta = step(action, h).unwrap_or(0);
                let (len, sel) = match &mut self.customer {
                    Some((c, sel)) => (c.order_list.rows.len(), sel),
                    None => (
                        self.customers.as_ref().map_or(0, |p| p.rows.len()),
                        &mut self.customers_sel,
                    ),
                };
                let last = len.saturating_sub(1) as i64;
                *sel = (*sel as i64 + delta).clamp(0, last.max(0)) as usize;
            }
            Action::Up | Action::Down | Action::PageUp | Action::PageDown => {
                let delta = step(action, h).unwrap_or(0);
                match self.view {
                    View::Board => {
                        if let Some((_, w)) = self.columns.get_mut(self.col) {
                            w.move_by(delta, h);
                        }
                        // A card chosen under the filter stays chosen when it is cleared.
                        if let Some(a) = self.filter_anchors.get_mut(self.col) {
                            *a = None;
                        }
                    }
                    View::Products => self.products.move_by(delta, h),
                    View::Customers => {}
                }
                self.reload(ctx);
            }
            Action::Open if self.detail.is_none() && self.customer.is_some() => {
                if let Some((c, sel)) = &self.customer
                    && let Some(o) = c.order_list.rows.get(*sel)
                {
                    let id = o.id;
                    self.open_order(id, ctx);
                }
            }
            Action::Open if self.detail.is_none() && self.view == View::Customers => {
                if let Some(c) = self
                    .customers
                    .as_ref()
                    .and_then(|p| p.rows.get(self.customers_sel))
                {
                    let email = c.email.clone();
                    self.open_customer(&email, ctx);
                }
            }
            Action::Open => {
                if let Some(id) = self.selected().map(|o| o.id)
                    && self.view == View::Board
                {
                    self.open_order(id, ctx);
                }
            }
            Action::Back => {
                // The order, then the customer it was opened from, then the board's filter,
                // then the board.
                if self.detail.take().is_none() && self.customer.take().is_none() {
                    if self.view == View::Board && self.filter.take().is_some() {
                        self.clear_filter(ctx);
                        return true;
                    }
                    self.view = View::Board;
                }
                self.reload(ctx);
            }
            Action::Customers => self.on_customers(ctx),
            Action::Filter if self.detail.is_none() && self.view == View::Board => {
                match &mut self.filter {
                    Some(f) => f.editing = true,
                    None => {
                        self.filter = Some(BoardFilter::editing());
                        // What each column had selected, selected again when the filter
                        // is cleared (a filter that hid it moved the selection).
                        self.filter_anchors = self
                            .columns
                            .iter()
                            .map(|(_, w)| w.selected().map(|c| c.order.id.as_uuid()))
                            .collect();
                        self.refilter(ctx);
                    }
                }
            }
            Action::Products => {
                self.detail = None;
                self.customer = None;
                self.view = match self.view {
                    View::Board => View::Products,
                    View::Products | View::Customers => View::Board,
                };
                self.reload(ctx);
            }
            Action::NewOrder => self.form = Some(Form::new_order()),
            Action::AdjustStock => match (self.view, self.products.selected()) {
                (View::Products, Some(row)) => self.form = Some(Form::adjust(row)),
                _ => ctx.info("open the stock list (i) and select a SKU to adjust"),
            },
            Action::Order(step) => self.step(step, ctx),
            Action::AddNote => self.note(ctx),
            _ => return false,
        }
        true
    }

    /// Asks again for the open customer (their orders or figures changed).
    fn reload_customer(&mut self, ctx: &mut Ctx) {
        if let Some((c, _)) = &self.customer
            && !self.pending.values().any(|p| *p == Pending::Customer)
        {
            let email = c.customer.email.clone();
            self.open_customer(&email, ctx);
        }
    }

    fn reload_detail(&mut self, ctx: &mut Ctx) {
        if let Some((o, _)) = &self.detail
            && !self.pending.values().any(|p| *p == Pending::Detail)
        {
            let id = o.id;
            let r = ctx.load(Query::Order(id));
            self.pending.insert(r, Pending::Detail);
        }
    }
}

impl OrdersPane {
    /// The steps the highlighted order can take now, for the command bar.
    fn steps_now(&self) -> Vec<(Context, Action)> {
        self.target_order()
            .map(|o| o.status.allowed_actions())
            .unwrap_or(&[])
            .iter()
            .map(|a| (Context::Orders, Action::Order(*a)))
            .collect()
    }
}

/// The message-log line of a mention: who, which order, what (cut to a line's worth).
pub fn mention_line(m: &Mention) -> String {
    format!(
        "@{} mentioned you on order {}: “{}”",
        printable(&m.author),
        short(m.order_id),
        crate::widgets::field::clip(&printable(&m.text), 120)
    )
}

impl Pane for OrdersPane {
    fn reload(&mut self, ctx: &mut Ctx) {
        if self.detail.is_some() || self.customer.is_some() {
            return;
        }
        match self.view {
            View::Customers => {
                if self.customers.is_none()
                    && !self.pending.values().any(|p| *p == Pending::Customers)
                {
                    let r = ctx.load(Query::Customers {
                        offset: 0,
                        limit: CUSTOMERS_SHOWN,
                    });
                    self.pending.insert(r, Pending::Customers);
                }
            }
            // Refused once (no `order:read`): the board says so and asks no more.
            View::Board if self.denied.is_some() => {}
            View::Board => {
                let h = self.board_height(ctx);
                self.money = NumberFormat::of(&ctx.session.tenant.default_locale);
                let filter = self
                    .filter
                    .as_ref()
                    .map(|f| f.query().to_string())
                    .filter(|q| !q.is_empty());
                for i in 0..self.columns.len() {
                    let (status, w) = &mut self.columns[i];
                    let status = *status;
                    if let Some((offset, limit)) = w.needs(h) {
                        let r = ctx.load(Query::Orders {
                            status,
                            filter: filter.clone(),
                            offset,
                            limit,
                        });
                        self.pending
                            .insert(r, Pending::Column(i, self.filter_generation));
                    }
                }
            }
            View::Products => {
                if let Some((offset, limit)) = self.products.needs(ctx.list_height()) {
                    let r = ctx.load(Query::Products {
                        low_only: false,
                        offset,
                        limit,
                    });
                    self.pending.insert(r, Pending::Products);
                }
            }
        }
    }

    fn invalidate(&mut self) {
        OrdersPane::invalidate(self);
    }

    fn on_key(&mut self, key: KeyEvent, ctx: &mut Ctx) -> Key {
        if self.form.is_some() {
            self.on_form_key(key, ctx);
            return Key::Consumed;
        }
        if self.detail.is_none() && self.filter.as_ref().is_some_and(|f| f.editing) {
            self.on_filter_key(key, ctx);
            return Key::Consumed;
        }
        let Some(action) = ctx.action(Context::Orders, &key) else {
            return Key::Unused(None);
        };
        if ctx.refuses(action) {
            return Key::Consumed;
        }
        if self.on_action(action, ctx) {
            Key::Consumed
        } else {
            Key::Unused(Some(action))
        }
    }

    fn on_paste(&mut self, text: &str) {
        if let Some(f) = &mut self.form {
            f.paste(text);
        } else if let Some(f) = &mut self.filter
            && f.editing
            && f.paste(text) == FilterKey::Changed
        {
            // Asked again at the next reload (a paste has no context to ask with).
            self.filter_generation += 1;
            for (_, w) in &mut self.columns {
                w.refilter();
            }
        }
    }

    fn on_loaded(&mut self, id: RequestId, result: Result<QueryResult, Failure>, ctx: &mut Ctx) {
        let Some(p) = self.pending.remove(&id) else {
            return;
        };
        let result = match result {
            Ok(r) => r,
            Err(f) => {
                match p {
                    Pending::Column(i, _) => {
                        if let Some((_, w)) = self.columns.get_mut(i) {
                            w.on_failed();
                        }
                        // A denial is the role's, not an error of the console: the board
                        // says why.
                        if let Failure::Domain(DomainError::PermissionDenied { reason }) = &f {
                            self.denied = Some(reason.clone());
                            return;
                        }
                    }
                    Pending::Products => self.products.on_failed(),
                    Pending::Resolve
                    | Pending::Customer
                    | Pending::Customers
                    | Pending::OpenCustomers => {
                        return ctx.error(f.to_string());
                    }
                    // Not allowed to read orders (an editor): nobody can mention them.
                    Pending::Mentions => return,
                    _ => {}
                }
                ctx.error(format!("could not load: {f}"));
                return;
            }
        };
        match (p, result) {
            (Pending::Column(i, generation), QueryResult::Orders(page)) => {
                let money = self.money;
                let refiltered = generation != self.filter_generation;
                if let Some((_, w)) = self.columns.get_mut(i) {
                    if refiltered {
                        // Asked under an older filter: asked again under this one.
                        w.on_failed();
                        self.reload(ctx);
                        return;
                    }
                    w.on_page(Page {
                        total: page.total,
                        offset: page.offset,
                        rows: page.rows.into_iter().map(|o| Card::new(o, money)).collect(),
                    });
                    // A card this console just moved on leaves its column as it should; a
                    // filter hides cards as it should.
                    if let Some(k) = w.take_lost()
                        && i == self.col
                        && Some(k) != self.acted
                        && self.filter.is_none()
                    {
                        ctx.info(
                            "the highlighted order left this column; the nearest one is selected",
                        );
                    }
                }
                self.reload(ctx);
            }
            (Pending::Products, QueryResult::Products(page)) => {
                self.products.on_page(page);
                let h = ctx.list_height();
                if let Some(p) = self.want_product.take()
                    && !self
                        .products
                        .select_where(|r| r.product_id.as_uuid() == p, h)
                {
                    ctx.info("that product's SKU is not in the loaded stock rows");
                }
                if self.products.take_lost().is_some() {
                    ctx.info("the highlighted SKU is gone; the nearest one is selected");
                }
                self.reload(ctx);
            }
            (Pending::Detail, QueryResult::Order(Some(order), events)) => {
                self.seen(order.id, ctx);
                self.detail = Some((order, events));
            }
            (Pending::Mentions, QueryResult::Mentions(found)) => {
                let new = found
                    .into_iter()
                    .filter(|m| self.keep_mention(m.clone()))
                    .count();
                if new > 0 {
                    let key = ctx
                        .keymap
                        .key_for(Context::Global, Action::OpenMention)
                        .map(|(k, _)| format!(" — {k} opens the newest"))
                        .unwrap_or_default();
                    let s = if self.mentions.len() == 1 { "" } else { "s" };
                    ctx.info(format!("{} unread mention{s}{key}", self.mentions.len()));
                }
            }
            (Pending::Resolve, QueryResult::Resolved(id)) => {
                self.open_order(OrderId::from_uuid(id), ctx)
            }
            (Pending::OpenCustomers, QueryResult::Customers(page)) => {
                self.detail = None;
                self.customer = None;
                self.view = View::Customers;
                self.customers_sel = self.customers_sel.min(page.rows.len().saturating_sub(1));
                self.customers = Some(page);
            }
            (Pending::Customers, QueryResult::Customers(page)) => {
                self.customers_sel = self.customers_sel.min(page.rows.len().saturating_sub(1));
                self.customers = Some(page);
            }
            (Pending::Customer, QueryResult::Customer(Some(c))) => {
                let sel = match &self.customer {
                    Some((old, sel)) if old.customer.email == c.customer.email => {
                        (*sel).min(c.order_list.rows.len().saturating_sub(1))
                    }
                    _ => 0,
                };
                self.detail = None;
                self.customer = Some((c, sel));
            }
            (Pending::Customer, QueryResult::Customer(None)) => {
                ctx.error("no order of this tenant was placed under that email");
            }
            (Pending::Detail, QueryResult::Order(None, _)) => {
                ctx.error("that order does not exist in this tenant");
            }
            _ => {}
        }
    }

    fn on_outcome(&mut self, id: RequestId, result: Result<Applied, Failure>, ctx: &mut Ctx) {
        let Some(Pending::Order(label)) = self.pending.remove(&id) else {
            return;
        };
        // A form refused for what it says (a note's unknown handle, a refund over what is
        // left, a malformed quantity) comes back with the reason; the text is kept. Refused
        // for the order's state (changed meanwhile, a declined card), the board reloads.
        if let Some((sent, mut form)) = self.sent_form.take() {
            match (&result, sent == id) {
                (Err(f @ Failure::Domain(DomainError::Validation { .. })), true)
                    if self.form.is_none() =>
                {
                    form.error = Some(f.to_string());
                    self.form = Some(form);
                    return ctx.error(format!("{label} refused: {f}"));
                }
                (_, false) => self.sent_form = Some((sent, form)),
                _ => {}
            }
        }
        match result {
            Ok(applied) => {
                match &applied.outcome {
                    Outcome::Order(o) => {
                        self.acted = Some(o.id.as_uuid());
                        ctx.info(format!("order {} is {}", short(o.id), o.status));
                        if let Some((open, _)) = &mut self.detail
                            && open.id == o.id
                        {
                            *open = o.clone();
                        }
                    }
                    Outcome::Note(n) => {
                        let told = if n.mentions.is_empty() {
                            String::new()
                        } else {
                            let who: Vec<String> =
                                n.mentions.iter().map(|h| format!("@{h}")).collect();
                            format!(" — told {}", who.join(", "))
                        };
                        ctx.info(format!("note added to order {}{told}", short(n.order_id)));
                    }
                    Outcome::Product(p) => {
                        let stock: Vec<String> = p
                            .variants
                            .iter()
                            .map(|v| format!("{} on hand {}", printable(&v.sku), v.on_hand))
                            .collect();
                        ctx.info(format!("stock adjusted: {}", stock.join(", ")));
                    }
                    _ => ctx.info(format!("{label}: done")),
                }
                OrdersPane::invalidate(self);
                self.reload(ctx);
                self.reload_detail(ctx);
                self.reload_customer(ctx);
            }
            Err(Failure::Domain(d @ DomainError::PaymentDeclined { .. })) => {
                ctx.error(format!("{d} — the order stays confirmed"));
                OrdersPane::invalidate(self);
                self.reload(ctx);
            }
            Err(f) => ctx.error(format!("{label} failed: {f}")),
        }
    }

    fn on_event(&mut self, e: &EventEnvelope, ctx: &mut Ctx) {
        if !matches!(e.aggregate_type.as_str(), "order" | "product") {
            return;
        }
        // A note that mentions this session's member: a line in the message log and the
        // status line's alert, at once (whichever process committed it).
        if e.event_type == "order.note_added"
            && let Some(m) = Mention::from_event(
                OrderId::from_uuid(e.aggregate_id),
                &e.payload,
                &ctx.session.actor,
                e.occurred_at,
            )
        {
            let line = mention_line(&m);
            if self.keep_mention(m) {
                ctx.info(line);
            }
        }
        OrdersPane::invalidate(self);
        if e.aggregate_type == "order" {
            self.reload_customer(ctx);
        }
        if e.aggregate_type == "order"
            && self
                .detail
                .as_ref()
                .is_some_and(|(o, _)| o.id.as_uuid() == e.aggregate_id)
        {
            self.reload_detail(ctx);
        }
    }

    fn bar(&self) -> Bar {
        use Action as A;
        use Context::{Global, Orders};
        Bar::Keys(if self.form.is_some() {
            vec![]
        } else if self.detail.is_some() {
            let mut keys = self.steps_now();
            keys.extend([
                (Orders, A::AddNote),
                (Orders, A::Customers),
                (Orders, A::Back),
                (Global, A::Help),
            ]);
            keys
        } else if self.customer.is_some() || self.view == View::Customers {
            vec![
                (Orders, A::Open),
                (Orders, A::Customers),
                (Orders, A::Back),
                (Global, A::Help),
                (Global, A::Quit),
            ]
        } else if self.view == View::Products {
            vec![
                (Orders, A::AdjustStock),
                (Orders, A::NewOrder),
                (Orders, A::Back),
                (Global, A::Help),
                (Global, A::Quit),
            ]
        } else if self.denied.is_some() {
            // Refused the orders: nothing on the board to act on, only the stock list.
            vec![(Orders, A::Products), (Global, A::Help), (Global, A::Quit)]
        } else {
            let mut keys = vec![(Orders, A::Open)];
            keys.extend(self.steps_now());
            keys.extend([
                (Orders, A::Filter),
                (Orders, A::NewOrder),
                (Orders, A::Products),
                (Global, A::Help),
                (Global, A::Quit),
            ]);
            keys
        })
    }

    fn busy(&self) -> Option<String> {
        self.pending.values().find_map(|p| match p {
            Pending::Order(label) => Some(format!("{label}…")),
            Pending::Detail | Pending::Customer | Pending::OpenCustomers => Some("loading…".into()),
            _ => None,
        })
    }

    fn restyle(&mut self, theme: &Theme) {
        if let Some(f) = &mut self.form {
            f.restyle(theme);
        }
    }
}
