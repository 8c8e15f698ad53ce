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

/// How much of a rejected input an error message quotes (see [`excerpt`]).
pub const EXCERPT_CHARS: usize = 60;

/// [`printable`] text of at most about `max` characters: what an error message quotes of a
/// rejected input, so a megabyte of garbage gives a one-line message of a sane length. The
/// cut is made between input characters (never inside an escape) and marked with `…`.
pub fn excerpt(s: &str, max: usize) -> String {
    let mut out = String::new();
    let mut shown = 0;
    for (i, c) in s.char_indices() {
        if shown >= max {
            out.push('…');
            break;
        }
        let p = printable(&s[i..i + c.len_utf8()]);
        shown += p.chars().count();
        out.push_str(&p);
    }
    out
}

/// Bidirectional overrides can make text render differently from what it is.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` as a piece of a file name: ASCII letters, digits, `-` and `_` kept, anything else `_`
/// (no path separator, no dot, nothing a shell or a terminal reads).
pub fn file_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
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

    #[test]
    fn file_safe_keeps_only_name_characters() {
        assert_eq!(file_safe("acme-shop_2"), "acme-shop_2");
        assert_eq!(file_safe("../etc/pass wd\u{1b}"), "___etc_pass_wd_");
    }

    #[test]
    fn excerpts_are_bounded_and_escaped() {
        assert_eq!(excerpt("short", 60), "short");
        assert_eq!(excerpt("", 60), "");
        let long = excerpt(&"a".repeat(1_000_000), EXCERPT_CHARS);
        assert_eq!(long, format!("{}…", "a".repeat(60)));
        let esc = excerpt(&"\x1b[2J".repeat(100), 10);
        assert!(!has_control(&esc) && esc.ends_with('…') && esc.chars().count() <= 20);
        assert_eq!(excerpt(&"é".repeat(60), 60), "é".repeat(60));
    }
}
