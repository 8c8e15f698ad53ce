//! The dashboard: today's orders and revenue, the order funnel, the event rate, low stock,
//! outbox health, content counts and the latest events.

use super::{Ctx, Key, Pane};
use crate::msg::{Coverage, Failure, Query, QueryResult, RequestId};
use crate::theme::Theme;
use crate::widgets::node_list::{group, percent};
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, BarGroup, Block, Paragraph, Sparkline};
use rustok_domain::DomainError;
use rustok_domain::Tenant;
use rustok_domain::content::NodeStatus;
use rustok_domain::event::EventEnvelope;
use rustok_domain::read::{ConsumerStats, OrderStats, OutboxCounts, StockRow};
use rustok_domain::text::printable;
use std::collections::VecDeque;
use std::sync::Arc;

#[derive(Debug, Clone, Default)]
pub struct Dashboard {
    pub by_status: [Option<u64>; 3],
    pub outbox: Option<(OutboxCounts, Option<DateTime<Utc>>)>,
    /// The outbox's consumers (the bus and each stream) with their lag.
    pub consumers: Option<Vec<ConsumerStats>>,
    pub orders: Option<OrderStats>,
    pub low_stock: Option<Vec<StockRow>>,
    pub loading: usize,
    pub stale: bool,
    /// The store refused this staff member the order figures (the one-line reason).
    pub orders_denied: Option<String>,
    pending: std::collections::BTreeMap<crate::msg::RequestId, Pending>,
    /// The counts were asked for at least once.
    asked: bool,
    /// Each independent consumer's delivery rate, sampled on a timer (see [`Dashboard::tick`]).
    rates: ConsumerRates,
    /// The consumers' state is due again (the timer).
    consumers_due: bool,
    /// When the consumers' state was last asked for.
    consumers_asked: Option<DateTime<Utc>>,
    /// The store refused this staff member the consumers' state: asked no more.
    consumers_denied: bool,
}

/// How often the dashboard reads the consumers' state again while it is shown (their lag
/// changes without an event reaching this console: NATS came back, another process relayed).
pub const CONSUMER_REFRESH_SECS: i64 = 2;

/// The most rate samples kept per consumer (at one per refresh, four minutes).
const RATE_SAMPLES: usize = 120;

/// Each independent consumer's delivered-per-second, from its running total
/// (`ConsumerStats::delivered`) at successive reads.
#[derive(Debug, Clone, Default)]
pub struct ConsumerRates {
    by_consumer: std::collections::BTreeMap<String, ConsumerRate>,
}

#[derive(Debug, Clone, Default)]
struct ConsumerRate {
    /// The last reading: when, and the total then.
    last: Option<(DateTime<Utc>, u64)>,
    /// Events per second between successive readings, oldest first.
    samples: VecDeque<u64>,
}

impl ConsumerRates {
    /// Takes a reading made at `now`. A reading less than a second after the previous one is
    /// skipped (the rate would be noise); a total that went down (the consumer was registered
    /// again) counts as 0. Consumers no longer listed are forgotten.
    pub fn sample(&mut self, stats: &[ConsumerStats], now: DateTime<Utc>) {
        for c in stats {
            let r = self.by_consumer.entry(c.consumer.clone()).or_default();
            if let Some((at, total)) = r.last {
                let ms = (now - at).num_milliseconds();
                if ms < 1000 {
                    continue;
                }
                let per_s = c.delivered.saturating_sub(total).saturating_mul(1000) / ms as u64;
                r.samples.push_back(per_s);
                if r.samples.len() > RATE_SAMPLES {
                    r.samples.pop_front();
                }
            }
            r.last = Some((now, c.delivered));
        }
        self.by_consumer
            .retain(|name, _| stats.iter().any(|c| c.consumer == *name));
    }

    /// `consumer`'s rates, oldest first (empty before its second reading).
    pub fn of(&self, consumer: &str) -> &VecDeque<u64> {
        static NONE: VecDeque<u64> = VecDeque::new();
        self.by_consumer.get(consumer).map_or(&NONE, |r| &r.samples)
    }
}

/// The dashboard's low-stock list length.
const LOW_STOCK_ROWS: u64 = 8;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Pending {
    Count(NodeStatus),
    Outbox,
    Consumers,
    OrderStats,
    LowStock,
}

fn status_index(s: NodeStatus) -> usize {
    match s {
        NodeStatus::Draft => 0,
        NodeStatus::Published => 1,
        NodeStatus::Archived => 2,
    }
}

/// What the dashboard shows besides its own data.
#[derive(Clone, Copy)]
pub struct View<'a> {
    pub tenant: &'a Tenant,
    pub coverage: Option<&'a Coverage>,
    pub recent: &'a [Arc<EventEnvelope>],
    pub rate: &'a VecDeque<u64>,
    pub now: Option<DateTime<Utc>>,
}

impl Dashboard {
    /// The independent consumers (the JetStream stream) the panel shows, at most two.
    fn streams(&self) -> Vec<&ConsumerStats> {
        self.consumers
            .iter()
            .flatten()
            .filter(|c| c.consumer != rustok_domain::read::BUS_CONSUMER_NAME)
            .take(2)
            .collect()
    }

    /// One consumer's box: its name, rate, lag and dead letters in the title, its delivery
    /// rate as a sparkline.
    fn draw_consumer(&self, frame: &mut Frame, area: Rect, theme: &Theme, c: &ConsumerStats) {
        let name = c.consumer.strip_prefix("jetstream:").unwrap_or(&c.consumer);
        let rates = self.rates.of(&c.consumer);
        let data = super::events::rate_tail(rates, area.width.saturating_sub(2));
        let now = rates
            .back()
            .map_or_else(|| "…".to_string(), |r| format!("{}/s", group(*r)));
        let mut text = format!(
            "{now} · lag {} · {:.0} s ",
            group(c.lag_events),
            c.lag_seconds.max(0.0)
        );
        if c.failed > 0 {
            text.push_str(&format!("· {} failed ", group(c.failed)));
        }
        let troubled = c.failed > 0 || c.last_error.is_some() && c.lag_events > 0;
        let style = if troubled {
            theme.error()
        } else {
            theme.muted()
        };
        frame.render_widget(
            Sparkline::default()
                .data(&data)
                .style(if troubled {
                    theme.error()
                } else {
                    theme.success()
                })
                .block(
                    Block::bordered()
                        .border_style(theme.border(false))
                        .title(Line::from(vec![
                            Span::styled(
                                format!(" → {} ", printable(&abbreviate(name, 24))),
                                theme.title(),
                            ),
                            Span::styled(text, style),
                        ])),
                ),
            area,
        );
    }

    /// The timer (once a second, while the dashboard is shown): the consumers' state is due
    /// again every [`CONSUMER_REFRESH_SECS`] — when there is a stream to show. With none, the
    /// timer costs nothing (no read, no frame: a thousand idle SSH dashboards stay idle); a
    /// stream registered later shows at the next reload an event brings.
    pub fn tick(&mut self, now: DateTime<Utc>) {
        if self.consumers_denied || self.streams().is_empty() {
            return;
        }
        if self
            .consumers_asked
            .is_none_or(|t| (now - t).num_seconds() >= CONSUMER_REFRESH_SECS)
        {
            self.consumers_due = true;
        }
    }

    /// The timer made the consumers' state due (the app then lets the dashboard ask).
    pub fn consumers_due(&self) -> bool {
        self.consumers_due
    }

    fn ask_consumers(&mut self, ctx: &mut Ctx) {
        self.consumers_due = false;
        if self.pending.values().any(|p| *p == Pending::Consumers) {
            return;
        }
        self.consumers_asked = ctx.now;
        self.ask(ctx, Pending::Consumers, Query::Consumers);
    }

    pub fn set_count(&mut self, s: NodeStatus, n: u64) {
        self.by_status[status_index(s)] = Some(n);
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme, view: &View<'_>) {
        let [top, middle, bottom] = Layout::vertical([
            Constraint::Length(8),
            Constraint::Length(11),
            Constraint::Fill(1),
        ])
        .areas(area);
        // Today is the widest: its amounts are never cut.
        let [today, outbox, content] = Layout::horizontal([
            Constraint::Percentage(40),
            Constraint::Percentage(30),
            Constraint::Percentage(30),
        ])
        .areas(top);
        let money = rustok_domain::NumberFormat::of(&view.tenant.default_locale);
        let amounts = |ms: &[rustok_domain::Money]| {
            if ms.is_empty() {
                "0".to_string()
            } else {
                ms.iter()
                    .map(|m| m.format(money))
                    .collect::<Vec<_>>()
                    .join(" · ")
            }
        };
        let [funnel, rate] =
            Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
                .areas(middle);
        let [low, recent] =
            Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)])
                .areas(bottom);
        let boxed = |title: &str| {
            Block::bordered()
                .border_style(theme.border(false))
                .title(Span::styled(format!(" {title} "), theme.title()))
        };
        let dots = || "…".to_string();

        // Today
        let mut lines = vec![Line::from(vec![
            Span::styled(
                rustok_domain::text::printable(&view.tenant.name),
                theme.title(),
            ),
            Span::styled(format!("  ({})", view.tenant.slug), theme.muted()),
        ])];
        match &self.orders {
            Some(o) => {
                lines.push(Line::from(vec![
                    Span::styled("orders today  ", theme.muted()),
                    Span::raw(group(o.today_orders)),
                ]));
                // Revenue is what was captured less what was refunded; orders not paid yet
                // are shown apart, never counted in it.
                lines.push(Line::styled("revenue: captured − refunded", theme.muted()));
                lines.push(Line::styled(amounts(&o.today_revenue), theme.success()));
                lines.push(Line::from(vec![
                    Span::styled("unpaid        ", theme.muted()),
                    Span::raw(group(o.today_unpaid_orders)),
                    Span::styled(
                        if o.today_unpaid_orders > 0 {
                            format!(" · {}", amounts(&o.today_unpaid))
                        } else {
                            String::new()
                        },
                        theme.warning(),
                    ),
                ]));
                let open: u64 = o
                    .by_status
                    .iter()
                    .filter(|(s, _)| !s.is_terminal())
                    .map(|(_, n)| n)
                    .sum();
                lines.push(Line::from(vec![
                    Span::styled("open orders   ", theme.muted()),
                    Span::raw(group(open)),
                ]));
            }
            None if self.orders_denied.is_some() => {
                lines.push(Line::styled("orders: not permitted", theme.muted()))
            }
            None => lines.push(Line::styled("loading…", theme.muted())),
        }
        frame.render_widget(Paragraph::new(lines).block(boxed("Today")), today);

        // Outbox health
        let lines = match &self.outbox {
            Some((c, oldest)) => {
                let lag = match (oldest, view.now) {
                    (Some(o), Some(now)) => format!("{} s", (now - *o).num_seconds().max(0)),
                    (Some(_), None) => "…".into(),
                    (None, _) => "none pending".into(),
                };
                vec![
                    Line::from(vec![
                        Span::styled("pending     ", theme.muted()),
                        Span::raw(group(c.pending)),
                    ]),
                    Line::from(vec![
                        Span::styled("dispatched  ", theme.muted()),
                        Span::raw(group(c.dispatched)),
                    ]),
                    Line::from(vec![
                        Span::styled("failed      ", theme.muted()),
                        Span::styled(
                            group(c.failed),
                            if c.failed > 0 {
                                theme.error()
                            } else {
                                theme.base()
                            },
                        ),
                    ]),
                    Line::from(vec![
                        Span::styled("relay lag   ", theme.muted()),
                        Span::raw(lag),
                    ]),
                ]
            }
            None => vec![Line::styled("loading…", theme.muted())],
        };
        frame.render_widget(Paragraph::new(lines).block(boxed("Outbox")), outbox);

        // Content
        let mut lines: Vec<Line> = NodeStatus::ALL
            .iter()
            .map(|s| {
                Line::from(vec![
                    Span::styled(format!("{:<10}", s.as_str()), theme.status(*s)),
                    Span::raw(self.by_status[status_index(*s)].map_or_else(dots, group)),
                ])
            })
            .collect();
        if let Some(c) = view.coverage {
            let locales: Vec<String> = c
                .locales
                .iter()
                .map(|(l, n)| format!("{l} {}%", percent(*n, c.total_nodes)))
                .collect();
            lines.push(Line::from(vec![
                Span::styled("locales   ", theme.muted()),
                Span::raw(locales.join("  ")),
            ]));
        }
        frame.render_widget(Paragraph::new(lines).block(boxed("Content")), content);

        // Order funnel
        match &self.orders {
            Some(o) => {
                let columns = u16::try_from(o.by_status.len()).unwrap_or(u16::MAX).max(1);
                let width = (funnel.width.saturating_sub(2) / columns)
                    .saturating_sub(1)
                    .max(3);
                let bars: Vec<Bar> = o
                    .by_status
                    .iter()
                    .map(|(s, n)| {
                        Bar::default()
                            .value(*n)
                            .label(Line::from(abbreviate(
                                &s.as_str().replace('_', " "),
                                usize::from(width),
                            )))
                            .text_value(group(*n))
                    })
                    .collect();
                frame.render_widget(
                    BarChart::default()
                        .block(boxed("Order funnel"))
                        .data(BarGroup::default().bars(&bars))
                        .bar_width(width)
                        .bar_gap(1)
                        .bar_style(theme.title())
                        .value_style(theme.tab_active()),
                    funnel,
                );
            }
            None => frame.render_widget(
                Paragraph::new(match &self.orders_denied {
                    Some(why) => format!("not permitted: {}", rustok_domain::text::printable(why)),
                    None => "loading…".into(),
                })
                .wrap(ratatui::widgets::Wrap { trim: false })
                .style(theme.muted())
                .block(boxed("Order funnel")),
                funnel,
            ),
        }

        // Event rate (the bus), then each independent consumer's delivery rate.
        let streams = self.streams();
        let mut rows = vec![Constraint::Fill(1)];
        rows.extend(streams.iter().map(|_| Constraint::Length(4)));
        let areas = Layout::vertical(rows).split(rate);
        for (c, area) in streams.iter().zip(areas.iter().skip(1)) {
            self.draw_consumer(frame, *area, theme, c);
        }
        let rate = areas[0];
        let data = super::events::rate_tail(view.rate, rate.width.saturating_sub(2));
        let peak = view.rate.iter().copied().max().unwrap_or(0);
        frame.render_widget(
            Sparkline::default()
                .data(&data)
                .style(theme.success())
                .block(
                    Block::bordered()
                        .border_style(theme.border(false))
                        .title(Line::from(vec![
                            Span::styled(" Events/s ", theme.title()),
                            Span::styled(
                                format!(
                                    "now {} · peak {peak} · 60 s ",
                                    data.last().copied().unwrap_or(0)
                                ),
                                theme.muted(),
                            ),
                        ])),
                ),
            rate,
        );

        // Low stock
        let lines: Vec<Line> = match &self.low_stock {
            None => vec![Line::styled("loading…", theme.muted())],
            Some(rows) if rows.is_empty() => {
                vec![Line::styled("nothing is low on stock", theme.success())]
            }
            Some(rows) => rows
                .iter()
                .map(|r| {
                    Line::from(vec![
                        Span::styled(
                            format!("{:<14}", rustok_domain::text::printable(&r.sku)),
                            theme.key(),
                        ),
                        Span::styled(format!("{:>5} left", r.available), theme.warning()),
                        Span::styled(
                            format!("  (threshold {})  ", r.low_stock_threshold),
                            theme.muted(),
                        ),
                        Span::raw(rustok_domain::text::printable(&r.title)),
                    ])
                })
                .collect(),
        };
        frame.render_widget(Paragraph::new(lines).block(boxed("Low stock")), low);

        // Latest events
        let lines: Vec<Line> = if view.recent.is_empty() {
            vec![Line::styled("no events yet in this session", theme.muted())]
        } else {
            view.recent
                .iter()
                .rev()
                .map(|e| {
                    Line::from(vec![
                        Span::styled(
                            e.occurred_at.format("%H:%M:%S  ").to_string(),
                            theme.muted(),
                        ),
                        Span::styled(format!("{:<26}", e.event_type), theme.key()),
                        Span::raw(format!(
                            "{} {}",
                            e.aggregate_type,
                            crate::widgets::node_list::short_id(e.aggregate_id)
                        )),
                    ])
                })
                .collect()
        };
        frame.render_widget(Paragraph::new(lines).block(boxed("Latest events")), recent);
    }
}

impl Dashboard {
    fn loaded(&mut self) {
        self.loading = self.loading.saturating_sub(1);
    }

    fn ask(&mut self, ctx: &mut Ctx, p: Pending, q: Query) {
        self.loading += 1;
        let r = ctx.load(q);
        self.pending.insert(r, p);
    }
}

impl Pane for Dashboard {
    /// Counts everything again when something changed (one round of counts at a time: the
    /// app calls this again after the replies).
    fn reload(&mut self, ctx: &mut Ctx) {
        if self.consumers_due {
            self.ask_consumers(ctx);
        }
        if self.loading > 0 || (self.asked && !self.stale) {
            return;
        }
        self.asked = true;
        for s in NodeStatus::ALL {
            self.ask(
                ctx,
                Pending::Count(*s),
                Query::Nodes {
                    status: Some(*s),
                    kind: None,
                    offset: 0,
                    limit: 1,
                },
            );
        }
        self.ask(ctx, Pending::Outbox, Query::OutboxCounts);
        if !self.consumers_denied {
            self.ask_consumers(ctx);
        }
        // A role without `order:read` was refused once: ask no more.
        if self.orders_denied.is_none() {
            self.ask(ctx, Pending::OrderStats, Query::OrderStats);
        }
        self.ask(
            ctx,
            Pending::LowStock,
            Query::Products {
                low_only: true,
                offset: 0,
                limit: LOW_STOCK_ROWS,
            },
        );
        self.stale = false;
    }

    fn invalidate(&mut self) {
        self.stale = true;
    }

    fn on_key(&mut self, key: KeyEvent, ctx: &mut Ctx) -> Key {
        Key::Unused(ctx.action(crate::keymap::Context::Global, &key))
    }

    fn on_loaded(&mut self, id: RequestId, result: Result<QueryResult, Failure>, ctx: &mut Ctx) {
        let Some(p) = self.pending.remove(&id) else {
            return;
        };
        match (p, result) {
            (
                Pending::OrderStats,
                Err(Failure::Domain(DomainError::PermissionDenied { reason })),
            ) => {
                self.loading = self.loading.saturating_sub(1);
                self.orders_denied = Some(reason);
                return;
            }
            (Pending::Consumers, Err(Failure::Domain(DomainError::PermissionDenied { .. }))) => {
                self.loading = self.loading.saturating_sub(1);
                self.consumers_denied = true;
                return;
            }
            (_, Err(f)) => ctx.error(format!("could not load: {f}")),
            (Pending::Count(s), Ok(QueryResult::Nodes(page))) => self.set_count(s, page.total),
            (Pending::Outbox, Ok(QueryResult::OutboxCounts(c, oldest))) => {
                self.outbox = Some((c, oldest))
            }
            (Pending::Consumers, Ok(QueryResult::Consumers(c))) => {
                if let Some(now) = ctx.now {
                    self.rates.sample(&c, now);
                }
                self.consumers = Some(c);
            }
            (Pending::OrderStats, Ok(QueryResult::OrderStats(stats))) => self.orders = Some(stats),
            (Pending::LowStock, Ok(QueryResult::Products(page))) => {
                self.low_stock = Some(page.rows)
            }
            _ => {}
        }
        self.loaded();
    }

    fn on_event(&mut self, _e: &EventEnvelope, _ctx: &mut Ctx) {
        self.stale = true;
    }

    fn bar(&self) -> super::Bar {
        use crate::action::Action as A;
        use crate::keymap::Context::Global;
        super::Bar::Keys(vec![
            (Global, A::NextTab),
            (Global, A::Refresh),
            (Global, A::Palette),
            (Global, A::Help),
            (Global, A::Quit),
        ])
    }
}

/// `label` in at most `width` characters: cut, with a full stop marking the cut
/// ("confirm." for "confirmed" in 8).
fn abbreviate(label: &str, width: usize) -> String {
    if label.chars().count() <= width {
        return label.to_string();
    }
    let mut cut: String = label.chars().take(width.saturating_sub(1)).collect();
    cut.push('.');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(name: &str, delivered: u64) -> ConsumerStats {
        ConsumerStats {
            consumer: name.into(),
            delivered,
            pending: 0,
            failed: 0,
            lag_events: 0,
            lag_seconds: 0.0,
            last_error: None,
            last_delivered_at: None,
        }
    }

    #[test]
    fn rates_are_the_running_total_over_the_time_between_readings() {
        let t0 = DateTime::UNIX_EPOCH + chrono::Duration::days(20_000);
        let s = |secs: i64| t0 + chrono::Duration::milliseconds(secs);
        let mut r = ConsumerRates::default();
        r.sample(&[stats("jetstream:A", 1_000)], s(0));
        assert!(r.of("jetstream:A").is_empty(), "one reading is no rate");
        r.sample(&[stats("jetstream:A", 1_200)], s(2_000));
        // Less than a second later: skipped, not a spike.
        r.sample(&[stats("jetstream:A", 1_300)], s(2_100));
        r.sample(&[stats("jetstream:A", 1_500)], s(4_000));
        assert_eq!(r.of("jetstream:A"), &VecDeque::from([100, 150]));
        // Registered again (the total went down): 0, never an underflow.
        r.sample(&[stats("jetstream:A", 10)], s(6_000));
        assert_eq!(r.of("jetstream:A").back(), Some(&0));
        // Bounded.
        for i in 0..1_000 {
            r.sample(&[stats("jetstream:A", 10 + i)], s(8_000 + i as i64 * 1_000));
        }
        assert_eq!(r.of("jetstream:A").len(), RATE_SAMPLES);
        // A consumer no longer listed is forgotten.
        r.sample(&[stats("jetstream:B", 0)], s(2_000_000));
        assert!(r.of("jetstream:A").is_empty());
    }
}
