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
    /// Stream the outbox to NATS JetStream at this URL (`nats://HOST:PORT`); the `--stream`
    /// flag and `RUSTOK_STREAM_URL` win over it.
    pub stream: Option<String>,
    /// The JetStream stream's name (default `RUSTOK_EVENTS`).
    pub stream_name: Option<String>,
    /// The subjects the stream is created with when missing (default `["rustok.>"]`).
    pub stream_subjects: Option<Vec<String>>,
    /// Attempts before an event becomes the stream's dead letter (default 10).
    pub stream_max_attempts: Option<i32>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            theme: "dark".into(),
            read_only: false,
            event_buffer: 10_000,
            stream: None,
            stream_name: None,
            stream_subjects: None,
            stream_max_attempts: None,
        }
    }
}

impl Config {
    pub fn parse(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| format!("config: {}", toml_error(text, &e)))
    }
}

/// One line for a TOML error: where (`line N`) and why, terminal-safe and of bounded length
/// (toml's own `Display` is several lines and quotes the offending source line raw).
pub(crate) fn toml_error(text: &str, e: &toml::de::Error) -> String {
    let why = rustok_domain::text::excerpt(e.message().trim(), 300);
    match e.span() {
        Some(span) => {
            let at = span.start.min(text.len());
            let line = text.as_bytes()[..at]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                + 1;
            format!("line {line}: {why}")
        }
        None => why,
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
        assert_eq!(
            Config::parse("theme = \"x\"\nthme = \"x\"").unwrap_err(),
            "config: line 2: unknown field `thme`, expected one of `theme`, `read_only`, `event_buffer`, `stream`, `stream_name`, `stream_subjects`, `stream_max_attempts`"
        );
        let e = Config::parse("event_buffer = \"\x1b[2J\"").unwrap_err();
        assert!(
            e.starts_with("config: line 1: ") && !e.contains('\x1b'),
            "{e}"
        );
    }
}
