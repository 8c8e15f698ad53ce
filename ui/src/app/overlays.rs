//! The overlays' keys: help and message log scrolling, the confirmation dialog, and the `:`
//! command palette (typing, Tab completion, running a command line).

use super::{App, OnConfirm, Overlay, Tab};
use crate::action::Action;
use crate::keymap::Context;
use crate::msg::Effect;
use crate::panes::Ask;
use crate::widgets::palette::Palette;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use rustok_domain::Locale;
use rustok_domain::commerce::OrderAction;
use rustok_domain::content::{NodeAction, NodeKind};
use rustok_domain::text::printable;

impl App {
    pub(super) fn on_palette_key(&mut self, mut p: Palette, key: KeyEvent) {
        match key.code {
            KeyCode::Esc => {}
            KeyCode::Enter => self.run_command(&p.input.clone()),
            KeyCode::Tab => {
                p.input = self.complete(&p);
                self.overlay = Some(Overlay::Palette(p));
            }
            KeyCode::Backspace => {
                if p.input.pop().is_some() {
                    self.overlay = Some(Overlay::Palette(p));
                }
            }
            KeyCode::Char(c) => {
                p.input.push(c);
                self.overlay = Some(Overlay::Palette(p));
            }
            _ => self.overlay = Some(Overlay::Palette(p)),
        }
    }

    /// Tab: completes the command name, or, after it, the argument (a theme name); never
    /// drops what was typed when nothing fits.
    fn complete(&self, p: &Palette) -> String {
        let input = p.input.as_str();
        if let Some((cmd, arg)) = input.split_once(' ') {
            if cmd == "theme" {
                let arg = arg.trim_start();
                let names: Vec<&str> = self.themes.iter().map(|(n, _)| n.as_str()).collect();
                if let Some(name) = names.iter().find(|n| n.starts_with(arg)).or_else(|| {
                    crate::fuzzy::rank(arg, &names, |n| n)
                        .first()
                        .map(|i| &names[*i])
                }) {
                    return format!("theme {name}");
                }
            }
            return input.to_string();
        }
        match p.suggestions().first() {
            Some((cmd, _)) => format!("{} ", cmd.split(' ').next().unwrap_or(cmd)),
            None => input.to_string(),
        }
    }

    pub(super) fn run_command(&mut self, line: &str) {
        let line = line.trim();
        let (cmd, arg) = match line.split_once(char::is_whitespace) {
            Some((c, a)) => (c, a.trim()),
            None => (line, ""),
        };
        // A node's status change or an order step, by its declared name.
        if let Some(a) = NodeAction::ALL.iter().copied().find(|a| a.as_str() == cmd) {
            return self.palette_node_step(a);
        }
        if let Some(a) = OrderAction::ALL.iter().copied().find(|a| a.as_str() == cmd) {
            return self.palette_order_step(a);
        }
        match cmd {
            "" => {}
            "q" | "quit" => self.request_quit(),
            "help" => self.overlay = Some(Overlay::Help { scroll: 0 }),
            "log" | "messages" => self.overlay = Some(Overlay::Log { scroll: 0 }),
            "refresh" => self.refresh_all(),
            "sessions" => self.on_action(Action::Sessions),
            "tenant" if !arg.is_empty() => self.out.fx.push(Effect::SwitchTenant(arg.to_string())),
            "theme" => match self.themes.iter().find(|(n, _)| n == arg).cloned() {
                Some((name, theme)) => {
                    self.theme = theme;
                    self.theme_name = name.clone();
                    self.info(format!("theme {name}"));
                }
                None => {
                    let names: Vec<&str> = self.themes.iter().map(|(n, _)| n.as_str()).collect();
                    self.error(format!(
                        "unknown theme '{}'; available: {}",
                        printable(arg),
                        names.join(", ")
                    ));
                }
            },
            // A whole id, or the short id screens show (resolved by the store).
            "node" | "order" if arg.is_empty() => self.error(format!("usage: :{cmd} ID")),
            "node" => {
                self.jump(Tab::Content);
                let (panes, mut ctx) = self.split(Tab::Content);
                panes.content.open_text(arg, &mut ctx);
            }
            "new" => {
                let kind = if arg.is_empty() {
                    Ok(NodeKind::Article)
                } else {
                    arg.parse::<NodeKind>()
                };
                match kind {
                    Ok(k) if self.session.may(Action::New) => {
                        self.out.asks.push((self.tab, Ask::NewDraft(k)));
                    }
                    Ok(_) => self.on_action(Action::New),
                    Err(e) => self.error(e.to_string()),
                }
            }
            "locale" => match arg.parse::<Locale>() {
                Ok(l) => {
                    let (panes, mut ctx) = self.split(Tab::Translations);
                    panes.translations.set_locale(l, &mut ctx);
                }
                Err(e) => self.error(e.to_string()),
            },
            "order" => {
                self.jump(Tab::Orders);
                let (panes, mut ctx) = self.split(Tab::Orders);
                panes.orders.open_order_text(arg, &mut ctx);
            }
            "seek" => {
                self.show(Tab::Events);
                let (panes, mut ctx) = self.split(Tab::Events);
                panes.events.seek_command(arg, &mut ctx);
            }
            "retry" => {
                if self.session.read_only {
                    self.error("read-only session: changes are disabled");
                    return;
                }
                self.show(Tab::Events);
                let (panes, mut ctx) = self.split(Tab::Events);
                panes.events.retry_all(&mut ctx);
            }
            other => self.error(format!(
                "unknown command ':{}' — type : and Tab to see commands",
                printable(other)
            )),
        }
    }

    /// `:publish` and the like: the status change of the node selected in Content or
    /// Translations.
    fn palette_node_step(&mut self, a: NodeAction) {
        let action = Action::Node(a);
        if !self.session.may(action) {
            return self.on_action(action);
        }
        let tab = self.tab;
        if !matches!(tab, Tab::Content | Tab::Translations) {
            return self.error(format!(
                ":{a} acts on the selected node in Content or Translations"
            ));
        }
        let (panes, mut ctx) = self.split(tab);
        if tab == Tab::Content {
            panes.content.on_list_action(action, &mut ctx);
        } else {
            panes.translations.list_action(action, &mut ctx);
        }
    }

    /// `:hold` and the like: an order step (`commerce/steps.rs`) on the order selected in
    /// Orders.
    fn palette_order_step(&mut self, a: OrderAction) {
        let action = Action::Order(a);
        if self.session.read_only {
            return self.on_action(action);
        }
        if self.tab != Tab::Orders {
            return self.error(format!(":{a} acts on the selected order in Orders"));
        }
        let (panes, mut ctx) = self.split(Tab::Orders);
        panes.orders.step(a, &mut ctx);
    }

    pub(super) fn on_overlay_key(&mut self, key: KeyEvent) {
        let Some(overlay) = self.overlay.take() else {
            return;
        };
        let scrolled = |scroll: u16| match key.code {
            KeyCode::Up | KeyCode::Char('k') => Some(scroll.saturating_sub(1)),
            KeyCode::Down | KeyCode::Char('j') => Some(scroll + 1),
            KeyCode::PageDown => Some(scroll + 10),
            KeyCode::PageUp => Some(scroll.saturating_sub(10)),
            _ => None,
        };
        match overlay {
            Overlay::Help { scroll } => {
                if let Some(scroll) = scrolled(scroll) {
                    self.overlay = Some(Overlay::Help { scroll });
                }
            }
            Overlay::Log { scroll } => {
                if let Some(scroll) = scrolled(scroll) {
                    self.overlay = Some(Overlay::Log { scroll });
                }
            }
            Overlay::Palette(p) => self.on_palette_key(p, key),
            Overlay::Confirm {
                title,
                message,
                on_yes,
                danger,
            } => match self.keymap.lookup(Context::Dialog, &key) {
                Some(Action::Confirm) => match on_yes {
                    OnConfirm::Pane(tab) => {
                        self.with(tab, |p, ctx| p.confirmed(ctx));
                    }
                    OnConfirm::Quit => {
                        self.quit = true;
                        self.out.fx.push(Effect::Quit);
                    }
                },
                Some(Action::Cancel) => {}
                _ => {
                    self.overlay = Some(Overlay::Confirm {
                        title,
                        message,
                        on_yes,
                        danger,
                    })
                }
            },
        }
    }
}
