//! Printing results: one JSON value with `--json`, otherwise aligned, terminal-safe text.
//! Every user-supplied string is passed through `printable`, so a title holding an escape
//! sequence shows as text and never drives the terminal.

use rustok_domain::text::printable;
use serde::Serialize;

/// Prints `value` as JSON, or the human rendering.
pub fn emit<T: Serialize>(json: bool, value: &T, human: impl FnOnce() -> String) {
    if json {
        match serde_json::to_string_pretty(value) {
            Ok(s) => out(&json_safe(&s)),
            Err(e) => eprintln!("error: cannot encode the result as JSON: {e}"),
        }
    } else {
        let text = human();
        if !text.is_empty() {
            out(text.trim_end_matches('\n'));
        }
    }
}

/// Writes one result to stdout. A reader that went away (`rustok … | head`) ends the output
/// quietly: the command's work is done, and `println!` would panic on the broken pipe.
pub fn out(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{text}").and_then(|()| stdout.flush());
}

/// JSON text that is also terminal-safe: serde_json escapes only C0 controls inside strings;
/// this also writes DEL, C1 controls (U+0080–U+009F, e.g. the one-byte CSI U+009B) and bidi
/// overrides as `\uXXXX` escapes. The JSON value is unchanged. (Outside strings the JSON
/// holds no such character, only spaces and newlines, which are kept.)
pub fn json_safe(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c != '\n' && rustok_domain::text::has_control(c.encode_utf8(&mut [0; 4])) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Terminal-safe text, cut to `max` characters with an ellipsis.
pub fn cell(s: &str, max: usize) -> String {
    let p = printable(s);
    if p.chars().count() <= max {
        p
    } else {
        let mut out: String = p.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// Renders rows as left-aligned columns under a header.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let line = |cells: Vec<String>| {
        let mut s = String::new();
        let last = cells.len().saturating_sub(1);
        for (i, c) in cells.into_iter().enumerate() {
            if i == last {
                s.push_str(&c);
            } else {
                let pad = widths[i].saturating_sub(c.chars().count());
                s.push_str(&c);
                s.push_str(&" ".repeat(pad + 2));
            }
        }
        s.trim_end().to_string()
    };
    let mut out = line(header.iter().map(|h| h.to_string()).collect());
    for r in rows {
        out.push('\n');
        out.push_str(&line(r.clone()));
    }
    out
}

pub fn time(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

pub fn opt_time(t: &Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.as_ref().map(time).unwrap_or_else(|| "-".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_output_is_terminal_safe_and_the_same_value() {
        let v = serde_json::json!({ "t": "a\x1b[2J\u{9b}31m\u{7f}\u{202e}b\n", "n": [1, 2] });
        let text = json_safe(&serde_json::to_string_pretty(&v).unwrap());
        assert!(!text.chars().any(|c| c != '\n' && c.is_control()), "{text}");
        assert!(text.contains("\\u009b31m\\u007f\\u202eb"), "{text}");
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn cells_are_safe_and_bounded() {
        assert_eq!(cell("a\x1b[2Jb", 40), "a\\x1b[2Jb");
        assert_eq!(cell("abcdef", 4), "abc…");
        let t = table(&["A", "BB"], &[vec!["xxx".into(), "y".into()]]);
        assert_eq!(t, "A    BB\nxxx  y");
    }
}
