//! Themes: colours by role, read from TOML (`themes/*.toml`; four are built in, more can be
//! dropped into the config directory's `themes/`).

use ratatui::style::{Color, Modifier, Style};
use rustok_domain::content::NodeStatus;
use serde::Deserialize;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ThemeError {
    #[error("theme: {0}")]
    Toml(String),
    #[error(
        "theme {theme}: '{value}' is not a colour for {field} (use #rrggbb, a name like red, or reset)"
    )]
    Color {
        theme: String,
        field: &'static str,
        value: String,
    },
    #[error("theme: name '{0}' must be 1-40 characters without control characters")]
    Name(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub background: Color,
    pub foreground: Color,
    pub muted: Color,
    pub accent: Color,
    pub accent_fg: Color,
    pub border: Color,
    pub border_focus: Color,
    pub selection_bg: Color,
    pub selection_fg: Color,
    pub bar_bg: Color,
    pub bar_fg: Color,
    pub key: Color,
    pub error: Color,
    pub warning: Color,
    pub success: Color,
    pub draft: Color,
    pub published: Color,
    pub archived: Color,
}

macro_rules! raw_theme {
    ($($field:ident),+) => {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct RawTheme { name: String, $($field: String),+ }

        fn build(raw: RawTheme) -> Result<(String, Theme), ThemeError> {
            Ok((raw.name.clone(), Theme { $($field: color(&raw.name, stringify!($field), &raw.$field)?),+ }))
        }
    };
}
raw_theme!(
    background,
    foreground,
    muted,
    accent,
    accent_fg,
    border,
    border_focus,
    selection_bg,
    selection_fg,
    bar_bg,
    bar_fg,
    key,
    error,
    warning,
    success,
    draft,
    published,
    archived
);

fn color(theme: &str, field: &'static str, value: &str) -> Result<Color, ThemeError> {
    let bad = || ThemeError::Color {
        theme: rustok_domain::text::excerpt(theme, 40),
        field,
        value: rustok_domain::text::excerpt(value, 40),
    };
    if let Some(hex) = value.strip_prefix('#') {
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let n = u32::from_str_radix(hex, 16).map_err(|_| bad())?;
        return Ok(Color::Rgb((n >> 16) as u8, (n >> 8) as u8, n as u8));
    }
    match value.to_ascii_lowercase().as_str() {
        "reset" => Ok(Color::Reset),
        "black" => Ok(Color::Black),
        "red" => Ok(Color::Red),
        "green" => Ok(Color::Green),
        "yellow" => Ok(Color::Yellow),
        "blue" => Ok(Color::Blue),
        "magenta" => Ok(Color::Magenta),
        "cyan" => Ok(Color::Cyan),
        "gray" | "grey" => Ok(Color::Gray),
        "darkgray" | "darkgrey" => Ok(Color::DarkGray),
        "white" => Ok(Color::White),
        _ => Err(bad()),
    }
}

/// Parses a theme file; returns its name and the theme.
pub fn parse(text: &str) -> Result<(String, Theme), ThemeError> {
    let raw: RawTheme =
        toml::from_str(text).map_err(|e| ThemeError::Toml(crate::config::toml_error(text, &e)))?;
    let n = raw.name.trim().chars().count();
    if n == 0 || n > 40 || rustok_domain::text::has_control(&raw.name) {
        return Err(ThemeError::Name(rustok_domain::text::excerpt(
            &raw.name, 40,
        )));
    }
    build(raw)
}

const BUILTIN: &[&str] = &[
    include_str!("../../themes/dark.toml"),
    include_str!("../../themes/light.toml"),
    include_str!("../../themes/catppuccin-mocha.toml"),
    include_str!("../../themes/nord.toml"),
];

/// The built-in themes, dark first.
pub fn builtin() -> Vec<(String, Theme)> {
    BUILTIN.iter().filter_map(|t| parse(t).ok()).collect()
}

impl Default for Theme {
    fn default() -> Self {
        builtin()
            .into_iter()
            .next()
            .map(|(_, t)| t)
            .unwrap_or(Theme {
                background: Color::Reset,
                foreground: Color::Reset,
                muted: Color::DarkGray,
                accent: Color::Blue,
                accent_fg: Color::Black,
                border: Color::DarkGray,
                border_focus: Color::Blue,
                selection_bg: Color::DarkGray,
                selection_fg: Color::White,
                bar_bg: Color::Black,
                bar_fg: Color::White,
                key: Color::Yellow,
                error: Color::Red,
                warning: Color::Yellow,
                success: Color::Green,
                draft: Color::Yellow,
                published: Color::Green,
                archived: Color::DarkGray,
            })
    }
}

impl Theme {
    pub fn base(&self) -> Style {
        Style::new().fg(self.foreground).bg(self.background)
    }
    pub fn muted(&self) -> Style {
        Style::new().fg(self.muted)
    }
    pub fn border(&self, focused: bool) -> Style {
        Style::new().fg(if focused {
            self.border_focus
        } else {
            self.border
        })
    }
    pub fn title(&self) -> Style {
        Style::new().fg(self.accent).add_modifier(Modifier::BOLD)
    }
    pub fn selected(&self) -> Style {
        Style::new()
            .fg(self.selection_fg)
            .bg(self.selection_bg)
            .add_modifier(Modifier::BOLD)
    }
    pub fn bar(&self) -> Style {
        Style::new().fg(self.bar_fg).bg(self.bar_bg)
    }
    pub fn key(&self) -> Style {
        Style::new().fg(self.key).add_modifier(Modifier::BOLD)
    }
    pub fn error(&self) -> Style {
        Style::new().fg(self.error)
    }
    pub fn warning(&self) -> Style {
        Style::new().fg(self.warning)
    }
    pub fn success(&self) -> Style {
        Style::new().fg(self.success)
    }
    pub fn tab_active(&self) -> Style {
        Style::new()
            .fg(self.accent_fg)
            .bg(self.accent)
            .add_modifier(Modifier::BOLD)
    }
    pub fn status(&self, s: NodeStatus) -> Style {
        Style::new().fg(match s {
            NodeStatus::Draft => self.draft,
            NodeStatus::Published => self.published,
            NodeStatus::Archived => self.archived,
        })
    }

    /// Maps RGB colours onto the 16 basic colours, for terminals without true colour.
    pub fn to_ansi16(mut self) -> Theme {
        for c in [
            &mut self.background,
            &mut self.foreground,
            &mut self.muted,
            &mut self.accent,
            &mut self.accent_fg,
            &mut self.border,
            &mut self.border_focus,
            &mut self.selection_bg,
            &mut self.selection_fg,
            &mut self.bar_bg,
            &mut self.bar_fg,
            &mut self.key,
            &mut self.error,
            &mut self.warning,
            &mut self.success,
            &mut self.draft,
            &mut self.published,
            &mut self.archived,
        ] {
            if let Color::Rgb(r, g, b) = *c {
                *c = nearest_ansi(r, g, b);
            }
        }
        self
    }
}

fn nearest_ansi(r: u8, g: u8, b: u8) -> Color {
    const PALETTE: &[(Color, (i32, i32, i32))] = &[
        (Color::Black, (0, 0, 0)),
        (Color::Red, (205, 49, 49)),
        (Color::Green, (13, 188, 121)),
        (Color::Yellow, (229, 229, 16)),
        (Color::Blue, (36, 114, 200)),
        (Color::Magenta, (188, 63, 188)),
        (Color::Cyan, (17, 168, 205)),
        (Color::Gray, (204, 204, 204)),
        (Color::DarkGray, (102, 102, 102)),
        (Color::White, (255, 255, 255)),
    ];
    let (r, g, b) = (i32::from(r), i32::from(g), i32::from(b));
    PALETTE
        .iter()
        .min_by_key(|(_, (pr, pg, pb))| (pr - r).pow(2) + (pg - g).pow(2) + (pb - b).pow(2))
        .map(|(c, _)| *c)
        .unwrap_or(Color::Reset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_themes_parse() {
        let names: Vec<String> = builtin().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["dark", "light", "catppuccin-mocha", "nord"]);
    }

    #[test]
    fn bad_themes_are_clear_errors() {
        let dark = include_str!("../../themes/dark.toml");
        let err = parse(&dark.replace("#5fafff", "#zzz")).unwrap_err();
        assert!(err.to_string().contains("'#zzz' is not a colour"), "{err}");
        assert!(parse("name = \"x\"").is_err());
        assert!(parse(&format!("{dark}\nbogus = \"red\"")).is_err());
        assert_eq!(Theme::default().to_ansi16().accent, Color::Cyan);
    }
}
