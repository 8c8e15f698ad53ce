//! The console's settings: config, keymap and themes from the config directory, each file
//! read bounded; a file that is present but unusable becomes a warning on screen (naming the
//! file and the reason) and its defaults apply. Both transports (the local terminal and the
//! SSH server) load them here.

use rustok_ui::{Config, Keymap, Theme};
use std::path::PathBuf;

/// What a console session is set up with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub config: Config,
    pub keymap: Keymap,
    /// The built-in themes and the user's, by name.
    pub themes: Vec<(String, Theme)>,
    /// One line per settings file that could not be used (shown when the console opens).
    pub warnings: Vec<String>,
}

impl Settings {
    /// Config, keymap and themes from the config directory; problems become warnings on
    /// screen (the console still opens, with defaults).
    pub fn load() -> Settings {
        load_settings_from(&crate::config::config_dir())
    }
}

/// The settings in `dir`; every file that is present but unusable gives a warning naming the
/// file and the reason, and its defaults apply.
fn load_settings_from(dir: &std::path::Path) -> Settings {
    let mut warnings = Vec::new();
    let config = match read_setting(&dir.join("config.toml"), &mut warnings) {
        Some((p, text)) => Config::parse(&text).unwrap_or_else(|e| {
            warnings.push(format!("{p}: {e}"));
            Config::default()
        }),
        None => Config::default(),
    };
    let keymap = match read_setting(&dir.join("keymap.toml"), &mut warnings) {
        Some((p, text)) => Keymap::with_overrides(&text).unwrap_or_else(|e| {
            warnings.push(format!("{p}: {e}"));
            Keymap::default()
        }),
        None => Keymap::default(),
    };
    let mut themes = rustok_ui::theme::builtin();
    if let Ok(entries) = std::fs::read_dir(dir.join("themes")) {
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for path in paths {
            if path.extension().is_none_or(|e| e != "toml") {
                continue;
            }
            if let Some((p, text)) = read_setting(&path, &mut warnings) {
                match rustok_ui::theme::parse(&text) {
                    Ok((name, theme)) => {
                        themes.retain(|(n, _)| *n != name);
                        themes.push((name, theme));
                    }
                    Err(e) => warnings.push(format!("{p}: {e}")),
                }
            }
        }
    }
    Settings {
        config,
        keymap,
        themes,
        warnings,
    }
}

/// Reads a settings file: `None` when it does not exist (defaults apply silently), or when it
/// cannot be used (unreadable, not UTF-8, larger than 1 MB, a device or a directory) — then
/// with a warning that names the file and the reason. Never reads more than 1 MB + 1 byte of
/// it (`crate::input::read_bounded`). The path comes back terminal-safe for the caller's
/// messages.
fn read_setting(path: &std::path::Path, warnings: &mut Vec<String>) -> Option<(String, String)> {
    use crate::input::{MAX_SETTINGS_FILE_BYTES, ReadError, read_bounded};
    let shown = rustok_domain::text::printable(&path.display().to_string());
    let reason = match read_bounded(path, MAX_SETTINGS_FILE_BYTES) {
        Err(e) if e.is_not_found() => return None,
        Ok(b) => match String::from_utf8(b) {
            Ok(text) => return Some((shown, text)),
            Err(e) => format!(
                "not UTF-8 text (bad byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        },
        Err(ReadError::TooLarge { size: Some(n), .. }) => {
            format!("{n} bytes is more than a settings file needs (limit 1 MB)")
        }
        Err(ReadError::TooLarge { size: None, .. }) => {
            "more than a settings file needs (limit 1 MB)".to_string()
        }
        Err(ReadError::Io(e)) => format!("cannot read it: {e}"),
        Err(e) => e.to_string(),
    };
    warnings.push(format!("{shown}: ignored, {reason}"));
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusable_settings_files_are_named_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("config.toml"),
            b"theme = \"nord\"\nevent_buffer = -1\n",
        )
        .unwrap();
        std::fs::write(d.join("keymap.toml"), b"\xff\xfe garbage").unwrap();
        std::fs::create_dir(d.join("themes")).unwrap();
        std::fs::write(d.join("themes/evil.toml"), "name = \"evil\x1b[2J\"\n").unwrap();
        std::fs::write(d.join("themes/big.toml"), vec![b'#'; 2 << 20]).unwrap();
        std::fs::write(d.join("themes/notes.txt"), b"\xff").unwrap();
        let Settings {
            config,
            keymap,
            themes,
            warnings,
        } = load_settings_from(d);
        assert_eq!(config, Config::default());
        assert_eq!(keymap, Keymap::default());
        assert_eq!(themes.len(), rustok_ui::theme::builtin().len());
        assert_eq!(warnings.len(), 4, "{warnings:#?}");
        let find = |name: &str| {
            warnings
                .iter()
                .find(|w| w.contains(name))
                .unwrap_or_else(|| panic!("no warning for {name}: {warnings:#?}"))
                .clone()
        };
        assert!(
            find("config.toml").ends_with(
                "config.toml: config: line 2: invalid value: integer `-1`, expected usize"
            ),
            "{}",
            find("config.toml")
        );
        assert!(
            find("keymap.toml")
                .ends_with("keymap.toml: ignored, not UTF-8 text (bad byte at offset 0)")
        );
        assert!(
            find("big.toml").contains("ignored, 2097152 bytes is more than a settings file needs")
        );
        assert!(find("evil.toml").contains("theme: "));
        for w in &warnings {
            assert!(!rustok_domain::text::has_control(w), "{w:?}");
        }
        let missing = tempfile::tempdir().unwrap();
        assert!(load_settings_from(missing.path()).warnings.is_empty());
    }

    /// A settings file that is a link to a device that never ends is ignored at once, not
    /// read (issue 16, item 4).
    #[cfg(unix)]
    #[test]
    fn a_settings_file_that_never_ends_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("config.toml")).unwrap();
        let Settings {
            config, warnings, ..
        } = load_settings_from(dir.path());
        assert_eq!(config, Config::default());
        assert_eq!(warnings.len(), 1, "{warnings:#?}");
        assert!(
            warnings[0].ends_with(
                "config.toml: ignored, it is a character device, not a file, a pipe or a terminal"
            ),
            "{}",
            warnings[0]
        );
    }
}
