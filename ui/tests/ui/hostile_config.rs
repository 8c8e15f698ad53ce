//! Hostile settings files (issue 10, item 4): arbitrary text and garbled copies of the real
//! keymap, theme and config files never panic; every rejection is one terminal-safe line that
//! says what is wrong and where (`line N`), and unknown actions, keys and contexts are named.
//!
//! 256 cases per property; `PROPTEST_CASES=5000 cargo test -p rustok-ui --test
//! ui hostile_config::` runs more.

use proptest::prelude::*;
use rustok_domain::text::has_control;
use rustok_ui::keymap::{Keymap, KeymapError};
use rustok_ui::{Config, theme};

const KEYMAP: &str = include_str!("../../keymap.default.toml");
const THEME: &str = include_str!("../../../themes/dark.toml");
const CONFIG: &str = "theme = \"nord\"\nread_only = false\nevent_buffer = 5000\n";

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    ProptestConfig::with_cases(cases)
}

fn one_clear_line(m: &str, prefix: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        m.starts_with(prefix),
        "{m:?} does not start with {prefix:?}"
    );
    prop_assert!(!has_control(m), "raw control character in {m:?}");
    prop_assert!(
        m.chars().count() <= 600,
        "a {}-character message",
        m.chars().count()
    );
    prop_assert!(m.len() > prefix.len() + 3, "no reason given: {m:?}");
    Ok(())
}

fn nasty() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        Just("\x1b[2J".to_string()),
        Just("\\u001b[2J".to_string()),
        Just("\"".to_string()),
        Just("[[bindings]]".to_string()),
        Just("= = =".to_string()),
        Just("\0".to_string()),
        Just("\u{feff}".to_string()),
        "[a-z_ =\"\\[\\]\n#-]{0,20}",
    ]
}

/// A real file with random edits: characters deleted, hostile text inserted, lines swapped.
fn garbled(base: &'static str) -> impl Strategy<Value = String> {
    let n = base.chars().count();
    prop::collection::vec((0..=n, 0usize..12, nasty()), 1..6).prop_map(move |edits| {
        let mut chars: Vec<char> = base.chars().collect();
        for (at, del, ins) in edits {
            let at = at.min(chars.len());
            let end = (at + del).min(chars.len());
            chars.splice(at..end, ins.chars());
        }
        chars.into_iter().collect()
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_text_never_panics(s in any::<String>()) {
        if let Err(e) = Config::parse(&s) { one_clear_line(&e, "config: ")?; }
        if let Err(e) = theme::parse(&s) { one_clear_line(&e.to_string(), "theme")?; }
        if let Err(e) = Keymap::with_overrides(&s) { one_clear_line(&e.to_string(), "keymap: ")?; }
    }

    #[test]
    fn garbled_keymap(s in garbled(KEYMAP)) {
        match Keymap::with_overrides(&s) {
            Err(e) => one_clear_line(&e.to_string(), "keymap: ")?,
            Ok(k) => {
                for b in k.bindings() {
                    prop_assert!(!has_control(&b.desc), "description {:?}", b.desc);
                    for key in &b.keys {
                        prop_assert!(!has_control(&key.to_string()), "key {key:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn garbled_theme(s in garbled(THEME)) {
        match theme::parse(&s) {
            Err(e) => one_clear_line(&e.to_string(), "theme")?,
            Ok((name, _)) => prop_assert!(!has_control(&name) && !name.trim().is_empty()),
        }
    }

    #[test]
    fn garbled_config(s in garbled(CONFIG)) {
        if let Err(e) = Config::parse(&s) { one_clear_line(&e, "config: ")?; }
    }

    #[test]
    fn any_key_name(k in any::<String>()) {
        if let Err(e) = rustok_ui::keymap::Key::parse(&k) {
            one_clear_line(&e.to_string(), "keymap: ")?;
        }
    }
}

fn binding(context: &str, key: &str, action: &str) -> String {
    format!("[[bindings]]\ncontext = \"{context}\"\nkeys = [\"{key}\"]\naction = \"{action}\"\n")
}

#[test]
fn unknown_actions_keys_and_contexts_are_named() {
    let e = Keymap::with_overrides(&binding("global", "x", "explode"))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("keymap: line 4: unknown variant `explode`, expected one of `quit`"),
        "{e}"
    );
    let e = Keymap::with_overrides(&binding("everywhere", "x", "quit"))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("keymap: line 2: unknown variant `everywhere`"),
        "{e}"
    );
    let e = Keymap::with_overrides(&binding("global", "hyper-x", "quit")).unwrap_err();
    assert_eq!(
        e,
        KeymapError::Key("hyper-x".into()),
        "the key is named as written"
    );
    // A key holding an escape sequence (TOML's \u001b escape) is named, escaped.
    let e = Keymap::with_overrides(&binding("global", "\\u001b[2J", "quit"))
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "keymap: '\\x1b[2J' is not a key (try e.g. \"ctrl-s\", \"?\", \"enter\", \"f5\")"
    );
    let e = Keymap::with_overrides(
        "[[bindings]]\ncontext = \"global\"\nkeys = [\"x\"]\naction = \"quit\"\ncolour = 1\n",
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with("keymap: line 5: unknown field `colour`"),
        "{e}"
    );
}

#[test]
fn descriptions_with_escape_sequences_are_shown_as_text() {
    let k = Keymap::with_overrides(&format!(
        "{}desc = \"clear \\u001b[2J screen \\u009b31m\"\n",
        binding("global", "x", "help")
    ))
    .unwrap();
    let b = k.bindings().last().unwrap();
    assert_eq!(b.desc, "clear \\x1b[2J screen \\x9b31m");
}

#[test]
fn theme_colours_and_names_are_checked() {
    let e = theme::parse(&THEME.replace("#5fafff", "\\u001b[31m")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "theme dark: '\\x1b[31m' is not a colour for accent (use #rrggbb, a name like red, or reset)"
    );
    let e =
        theme::parse(&THEME.replace("name = \"dark\"", "name = \"dark\\u001b[2J\"")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "theme: name 'dark\\x1b[2J' must be 1-40 characters without control characters"
    );
    let e = theme::parse(&THEME.replace("name = \"dark\"", "name = 7")).unwrap_err();
    assert!(e.to_string().starts_with("theme: line "), "{e}");
}

#[test]
fn megabyte_settings_files() {
    let big = format!("{KEYMAP}\n# {}\n", "x".repeat(1 << 20));
    assert!(Keymap::with_overrides(&big).is_ok());
    let e = Config::parse(&"[".repeat(1 << 20)).unwrap_err();
    assert!(
        e.starts_with("config: line 1: ") && e.len() < 600,
        "{}",
        &e[..100]
    );
}

#[test]
fn keys_that_would_reorder_text_are_refused() {
    for k in ["\u{202e}", "ctrl-\u{2066}", "\u{9b}"] {
        assert!(rustok_ui::keymap::Key::parse(k).is_err(), "{k:?}");
    }
}
