//! Declarative key bindings: a TOML file maps keys to [`Action`]s per context, each with the
//! description that the help screen and the command bar show.

use crate::action::Action;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;
use std::fmt;

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Context {
    Global,
    List,
    Orders,
    Events,
    Audit,
    Sessions,
    Editor,
    Dialog,
    /// A node's history and the diff of two revisions (issue 20).
    History,
    /// The version-conflict view of an editor (issue 20).
    Conflict,
}

impl Context {
    pub fn title(self) -> &'static str {
        match self {
            Context::Global => "Everywhere",
            Context::List => "Content and translation lists",
            Context::Orders => "Orders",
            Context::Events => "Events",
            Context::Audit => "Audit",
            Context::Sessions => "SSH sessions",
            Context::Editor => "Editor",
            Context::Dialog => "Dialogs",
            Context::History => "Node history and diff",
            Context::Conflict => "Version conflict",
        }
    }
}

/// A key with its modifiers, as written in keymap files (`ctrl-s`, `?`, `shift-tab`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Key {
    pub fn from_event(e: &KeyEvent) -> Key {
        let mut mods =
            e.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        // A typed character already carries its case, and BackTab already means Shift-Tab.
        if matches!(e.code, KeyCode::Char(_) | KeyCode::BackTab) {
            mods.remove(KeyModifiers::SHIFT);
        }
        let code = match e.code {
            KeyCode::Char(c) if mods.contains(KeyModifiers::CONTROL) => {
                KeyCode::Char(c.to_ascii_lowercase())
            }
            c => c,
        };
        Key { code, mods }
    }

    pub fn parse(s: &str) -> Result<Key, KeymapError> {
        let bad = || KeymapError::Key(rustok_domain::text::excerpt(s, 40));
        let mut mods = KeyModifiers::NONE;
        let mut rest = s;
        loop {
            let lower = rest.to_ascii_lowercase();
            if let Some(r) = lower.strip_prefix("ctrl-") {
                mods |= KeyModifiers::CONTROL;
                rest = &rest[rest.len() - r.len()..];
            } else if let Some(r) = lower.strip_prefix("alt-") {
                mods |= KeyModifiers::ALT;
                rest = &rest[rest.len() - r.len()..];
            } else if let Some(r) = lower.strip_prefix("shift-") {
                mods |= KeyModifiers::SHIFT;
                rest = &rest[rest.len() - r.len()..];
            } else {
                break;
            }
        }
        let code = match rest.to_ascii_lowercase().as_str() {
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" if mods.contains(KeyModifiers::SHIFT) => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "space" => KeyCode::Char(' '),
            "backspace" => KeyCode::Backspace,
            "delete" | "del" => KeyCode::Delete,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pageup" => KeyCode::PageUp,
            "pagedown" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            f if f.len() >= 2
                && f.starts_with('f')
                && f[1..].parse::<u8>().is_ok_and(|n| (1..=24).contains(&n)) =>
            {
                KeyCode::F(f[1..].parse().map_err(|_| bad())?)
            }
            _ => {
                let mut chars = rest.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) if !rustok_domain::text::has_control(rest) => {
                        if mods.contains(KeyModifiers::CONTROL) {
                            KeyCode::Char(c.to_ascii_lowercase())
                        } else {
                            KeyCode::Char(c)
                        }
                    }
                    _ => return Err(bad()),
                }
            }
        };
        Ok(Key { code, mods })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("Ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("Alt-")?;
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            f.write_str("Shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) if self.mods.contains(KeyModifiers::CONTROL) => {
                write!(f, "{}", c.to_ascii_uppercase())
            }
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("Shift-Tab"),
            KeyCode::Backspace => f.write_str("Backspace"),
            KeyCode::Delete => f.write_str("Del"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::F(n) => write!(f, "F{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum KeymapError {
    /// The key as written, escaped and shortened.
    #[error("keymap: '{0}' is not a key (try e.g. \"ctrl-s\", \"?\", \"enter\", \"f5\")")]
    Key(String),
    #[error("keymap: {0}")]
    Toml(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    pub context: Context,
    pub keys: Vec<Key>,
    pub action: Action,
    /// The help screen's line (and the command bar's, without `bar`).
    pub desc: String,
    /// A shorter label for the command bar, when `desc` is too long for it.
    pub bar: Option<String>,
}

#[derive(Deserialize)]
struct RawFile {
    #[serde(default)]
    bindings: Vec<RawBinding>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBinding {
    context: Context,
    keys: Vec<String>,
    action: crate::action::ActionName,
    #[serde(default)]
    desc: Option<String>,
    #[serde(default)]
    bar: Option<String>,
}

/// The longest command-bar label a keymap may give (`bar = "…"`).
const BAR_LABEL_CHARS: usize = 20;

fn parse_file(text: &str) -> Result<Vec<Binding>, KeymapError> {
    let raw: RawFile =
        toml::from_str(text).map_err(|e| KeymapError::Toml(crate::config::toml_error(text, &e)))?;
    raw.bindings
        .into_iter()
        .map(|b| {
            Ok(Binding {
                context: b.context,
                keys: b
                    .keys
                    .iter()
                    .map(|k| Key::parse(k))
                    .collect::<Result<_, _>>()?,
                action: b.action.0,
                // Shown in the help screen and the command bar: terminal-safe, one short line.
                desc: match b.desc {
                    Some(d) => rustok_domain::text::excerpt(d.trim(), 60),
                    None => b.action.0.name().replace('_', " "),
                },
                bar: b
                    .bar
                    .map(|l| rustok_domain::text::excerpt(l.trim(), BAR_LABEL_CHARS)),
            })
        })
        .collect()
}

/// The active bindings.
#[derive(Debug, Clone, PartialEq)]
pub struct Keymap {
    bindings: Vec<Binding>,
}

const DEFAULT: &str = include_str!("../keymap.default.toml");

impl Default for Keymap {
    fn default() -> Self {
        Keymap {
            bindings: parse_file(DEFAULT).unwrap_or_default(),
        }
    }
}

impl Keymap {
    /// The defaults with a user's overrides applied: a user binding takes its keys away from
    /// any default binding in the same context.
    pub fn with_overrides(user: &str) -> Result<Keymap, KeymapError> {
        let mut map = Keymap::default();
        for b in parse_file(user)? {
            for existing in map.bindings.iter_mut().filter(|e| e.context == b.context) {
                existing.keys.retain(|k| !b.keys.contains(k));
            }
            map.bindings.retain(|e| !e.keys.is_empty());
            map.bindings.push(b);
        }
        Ok(map)
    }

    pub fn lookup(&self, context: Context, key: &KeyEvent) -> Option<Action> {
        let k = Key::from_event(key);
        self.bindings
            .iter()
            .find(|b| b.context == context && b.keys.contains(&k))
            .map(|b| b.action)
    }

    /// The first key bound to an action in a context, with its command-bar label (`bar`,
    /// else the help's `desc`): the bar and the help come from the same binding.
    pub fn key_for(&self, context: Context, action: Action) -> Option<(Key, &str)> {
        self.bindings
            .iter()
            .find(|b| b.context == context && b.action == action)
            .and_then(|b| {
                b.keys
                    .first()
                    .map(|k| (*k, b.bar.as_deref().unwrap_or(b.desc.as_str())))
            })
    }

    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::KeyEventKind;

    fn ev(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new_with_kind(code, mods, KeyEventKind::Press)
    }

    #[test]
    fn default_keymap_parses_and_resolves() {
        let k = Keymap::default();
        assert!(k.bindings().len() > 20);
        assert_eq!(
            k.lookup(
                Context::Global,
                &ev(KeyCode::Char('?'), KeyModifiers::SHIFT)
            ),
            Some(Action::Help)
        );
        assert_eq!(
            k.lookup(
                Context::Editor,
                &ev(KeyCode::Char('s'), KeyModifiers::CONTROL)
            ),
            Some(Action::Save)
        );
        assert_eq!(
            k.lookup(Context::Global, &ev(KeyCode::BackTab, KeyModifiers::SHIFT)),
            Some(Action::PrevTab)
        );
        assert_eq!(
            k.lookup(Context::List, &ev(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(Action::Bottom)
        );
    }

    #[test]
    fn keys_parse_and_print() {
        for (s, shown) in [
            ("ctrl-s", "Ctrl-S"),
            ("?", "?"),
            ("shift-tab", "Shift-Tab"),
            ("f5", "F5"),
            ("space", "Space"),
            ("alt-x", "Alt-x"),
        ] {
            assert_eq!(Key::parse(s).unwrap().to_string(), shown);
        }
        for bad in ["", "ctrl-", "nope", "f99"] {
            assert!(Key::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn user_overrides_replace_defaults() {
        let k = Keymap::with_overrides(
            "[[bindings]]\ncontext = \"global\"\nkeys = [\"q\"]\naction = \"help\"\ndesc = \"help!\"\n",
        )
        .unwrap();
        assert_eq!(
            k.lookup(Context::Global, &ev(KeyCode::Char('q'), KeyModifiers::NONE)),
            Some(Action::Help)
        );
        assert_eq!(
            k.lookup(
                Context::Global,
                &ev(KeyCode::Char('c'), KeyModifiers::CONTROL)
            ),
            Some(Action::Quit)
        );
        assert!(
            Keymap::with_overrides(
                "[[bindings]]\ncontext = \"global\"\nkeys = [\"ctrl-\"]\naction = \"quit\""
            )
            .is_err()
        );
        assert!(
            Keymap::with_overrides(
                "[[bindings]]\ncontext = \"global\"\nkeys = [\"x\"]\naction = \"explode\""
            )
            .is_err()
        );
        assert!(Keymap::with_overrides("not toml [").is_err());
    }

    #[test]
    fn the_bar_shows_a_bindings_short_label_and_the_help_its_description() {
        let k = Keymap::default();
        let b = k
            .bindings()
            .iter()
            .find(|b| b.context == Context::List && b.action == Action::Schedule)
            .expect("s is bound");
        assert!(
            b.desc.starts_with("schedule publish/unpublish"),
            "{}",
            b.desc
        );
        let (key, label) = k.key_for(Context::List, Action::Schedule).unwrap();
        assert_eq!((key.to_string().as_str(), label), ("s", "schedule"));
        // Without `bar`, the bar shows the description; a long label is cut.
        let k = Keymap::with_overrides(
            "[[bindings]]\ncontext = \"dialog\"\nkeys = [\"x\"]\naction = \"agenda\"\ndesc = \"the agenda\"\n\
             [[bindings]]\ncontext = \"dialog\"\nkeys = [\"y\"]\naction = \"search\"\nbar = \"search every node in every locale\"\n",
        )
        .unwrap();
        let label = |a| k.key_for(Context::Dialog, a).map(|(_, l)| l.to_string());
        assert_eq!(label(Action::Agenda).as_deref(), Some("the agenda"));
        let long = label(Action::Search).unwrap_or_default();
        assert!(
            long.starts_with("search every") && long.chars().count() <= BAR_LABEL_CHARS + 1,
            "{long}"
        );
    }
}
