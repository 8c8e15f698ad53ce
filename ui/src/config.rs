//! The console's configuration file (`config.toml` in the platform config directory). The
//! runtime reads the file; parsing and defaults live here so they are testable.

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Theme name: dark, light, catppuccin-mocha, nord, or one in the config dir's themes/.
    pub theme: String,
    /// Disable every command that changes data.
    pub read_only: bool,
    /// How many live events the Events pane keeps.
    pub event_buffer: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            theme: "dark".into(),
            read_only: false,
            event_buffer: 10_000,
        }
    }
}

impl Config {
    pub fn parse(text: &str) -> Result<Config, String> {
        toml::from_str(text)
            .map_err(|e| format!("config: {}", rustok_domain::text::printable(e.message())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_with_defaults() {
        assert_eq!(Config::parse("").unwrap(), Config::default());
        let c = Config::parse("theme = \"nord\"\nread_only = true").unwrap();
        assert_eq!(
            (c.theme.as_str(), c.read_only, c.event_buffer),
            ("nord", true, 10_000)
        );
        assert!(Config::parse("thme = \"x\"").is_err());
    }
}
