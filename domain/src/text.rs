//! Helpers for text that came from users and goes to a terminal.

/// Returns `s` with every control character (including ESC, so no terminal escape sequence
/// survives) replaced by a visible escape such as `\x1b` or `\n`. Printable text, including
/// non-ASCII letters, is kept as is.
pub fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() || is_bidi_control(c) {
            match c {
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
                c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Bidirectional overrides can make text render differently from what it is.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Does `s` contain characters that would be interpreted by a terminal?
pub fn has_control(s: &str) -> bool {
    s.chars().any(|c| c.is_control() || is_bidi_control(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_sequences() {
        assert_eq!(printable("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(printable("line\nnext"), "line\\nnext");
        assert_eq!(printable("Привет"), "Привет");
        assert!(!printable("\u{9b}x").contains('\u{9b}'));
        assert!(has_control("\x07"));
        assert!(!has_control("plain"));
    }
}
