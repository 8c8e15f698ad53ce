//! Turns the bytes an SSH client sends into key events: printable UTF-8, control keys, Alt
//! (an ESC prefix), CSI and SS3 sequences (arrows, Home/End, PgUp/PgDn, Insert/Delete, F1–F12,
//! with xterm modifier parameters such as `ESC [1;5A`), Shift-Tab and bracketed paste.
//!
//! The parser is incremental: a sequence split across two packets is completed by the next
//! [`Parser::feed`]. A lone ESC (or an ESC prefix with nothing after it) stays pending until
//! more bytes arrive or the caller decides the client is done typing and calls
//! [`Parser::flush`]. No byte sequence makes it panic; unknown sequences are dropped.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a run of input bytes means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Key(KeyEvent),
    Paste(String),
}

/// Longest escape sequence kept while waiting for its end; longer ones are dropped.
const MAX_SEQUENCE: usize = 64;
/// Largest paste kept; the rest of a longer paste is dropped.
pub const MAX_PASTE: usize = 1 << 20;

const PASTE_START: &[u8] = b"\x1b[200~";
const PASTE_END: &[u8] = b"\x1b[201~";

#[derive(Debug, Default)]
pub struct Parser {
    /// Bytes not yet decided (an incomplete sequence or UTF-8 character).
    pending: Vec<u8>,
    /// Inside a bracketed paste: what has been pasted so far.
    paste: Option<Vec<u8>>,
    /// A paste that grew past [`MAX_PASTE`] (the excess is dropped).
    paste_truncated: bool,
}

enum Step {
    /// Consumed this many bytes, producing maybe an event.
    Done(usize, Option<Input>),
    /// The bytes so far are the start of something longer.
    Incomplete,
}

fn key(code: KeyCode, mods: KeyModifiers) -> Option<Input> {
    Some(Input::Key(KeyEvent::new(code, mods)))
}

/// xterm's modifier parameter: 1 + (shift 1 | alt 2 | ctrl 4 | meta 8).
fn modifiers(param: Option<u16>) -> KeyModifiers {
    let bits = param.unwrap_or(1).saturating_sub(1);
    let mut m = KeyModifiers::NONE;
    if bits & 1 != 0 {
        m |= KeyModifiers::SHIFT;
    }
    if bits & (2 | 8) != 0 {
        m |= KeyModifiers::ALT;
    }
    if bits & 4 != 0 {
        m |= KeyModifiers::CONTROL;
    }
    m
}

/// One byte below 0x20 (or DEL) as a key.
fn control(b: u8) -> Option<Input> {
    match b {
        b'\r' | b'\n' => key(KeyCode::Enter, KeyModifiers::NONE),
        b'\t' => key(KeyCode::Tab, KeyModifiers::NONE),
        0x7f | 0x08 => key(KeyCode::Backspace, KeyModifiers::NONE),
        0x1b => key(KeyCode::Esc, KeyModifiers::NONE),
        0x00 => key(KeyCode::Char(' '), KeyModifiers::CONTROL),
        0x01..=0x1a => key(KeyCode::Char((b'a' + b - 1) as char), KeyModifiers::CONTROL),
        0x1c => key(KeyCode::Char('\\'), KeyModifiers::CONTROL),
        0x1d => key(KeyCode::Char(']'), KeyModifiers::CONTROL),
        0x1e => key(KeyCode::Char('^'), KeyModifiers::CONTROL),
        0x1f => key(KeyCode::Char('_'), KeyModifiers::CONTROL),
        _ => None,
    }
}

fn char_key(c: char) -> Option<Input> {
    if c.is_control() {
        return None;
    }
    let mods = if c.is_uppercase() {
        KeyModifiers::SHIFT
    } else {
        KeyModifiers::NONE
    };
    key(KeyCode::Char(c), mods)
}

/// The length of the UTF-8 character starting with `b`, or `None` for a byte that cannot
/// start one.
fn utf8_len(b: u8) -> Option<usize> {
    match b {
        0x00..=0x7f => Some(1),
        0xc2..=0xdf => Some(2),
        0xe0..=0xef => Some(3),
        0xf0..=0xf4 => Some(4),
        _ => None,
    }
}

/// A printable character (or a control key) at the start of `buf`.
fn plain(buf: &[u8]) -> Step {
    let b = buf[0];
    if b < 0x20 || b == 0x7f {
        return Step::Done(1, control(b));
    }
    let Some(len) = utf8_len(b) else {
        return Step::Done(1, None);
    };
    if buf.len() < len {
        // Only wait when what is there could still become a character.
        return if std::str::from_utf8(buf).is_err_and(|e| e.error_len().is_none()) {
            Step::Incomplete
        } else {
            Step::Done(1, None)
        };
    }
    match std::str::from_utf8(&buf[..len]) {
        Ok(s) => Step::Done(len, s.chars().next().and_then(char_key)),
        Err(_) => Step::Done(1, None),
    }
}

/// Parses `ESC [ params final`: returns the numeric parameters and the final byte, or
/// `Incomplete`, or a length to drop for a malformed sequence.
fn csi(buf: &[u8]) -> Step {
    // buf starts with ESC [
    let mut i = 2;
    while i < buf.len() {
        let b = buf[i];
        match b {
            // parameter and intermediate bytes
            0x20..=0x3f => i += 1,
            0x40..=0x7e => return Step::Done(i + 1, csi_key(&buf[2..i], b)),
            // Not part of a CSI sequence: drop the introducer, parse the rest again.
            _ => return Step::Done(i, None),
        }
        if i > MAX_SEQUENCE {
            return Step::Done(i, None);
        }
    }
    Step::Incomplete
}

fn params(raw: &[u8]) -> Vec<Option<u16>> {
    raw.split(|b| *b == b';')
        .map(|p| {
            std::str::from_utf8(p)
                .ok()
                .and_then(|s| s.parse::<u16>().ok())
        })
        .collect()
}

fn csi_key(raw: &[u8], fin: u8) -> Option<Input> {
    // Private sequences (mouse reports `<`, answers `?`) are not keys.
    if raw
        .first()
        .is_some_and(|b| matches!(b, b'<' | b'?' | b'>' | b'='))
    {
        return None;
    }
    let p = params(raw);
    let first = p.first().copied().flatten();
    let mods = modifiers(p.get(1).copied().flatten());
    let code = match fin {
        _ if let Some(code) = cursor_key(fin) => code,
        b'Z' => return key(KeyCode::BackTab, KeyModifiers::SHIFT | mods),
        b'~' => match first? {
            1 | 7 => KeyCode::Home,
            2 => KeyCode::Insert,
            3 => KeyCode::Delete,
            4 | 8 => KeyCode::End,
            5 => KeyCode::PageUp,
            6 => KeyCode::PageDown,
            n @ 11..=15 => KeyCode::F((n - 10) as u8),
            n @ 17..=21 => KeyCode::F((n - 11) as u8),
            n @ 23..=24 => KeyCode::F((n - 12) as u8),
            _ => return None,
        },
        _ => return None,
    };
    key(code, mods)
}

/// `ESC O x` (application cursor keys and F1–F4).
fn ss3(buf: &[u8]) -> Step {
    let Some(&b) = buf.get(2) else {
        return Step::Incomplete;
    };
    let code = match b {
        _ if let Some(code) = cursor_key(b) => code,
        b'M' => KeyCode::Enter,
        _ => return Step::Done(3, None),
    };
    Step::Done(3, key(code, KeyModifiers::NONE))
}

/// The final byte both `ESC [ … x` and `ESC O x` use for the cursor keys, Home, End and F1–F4.
fn cursor_key(b: u8) -> Option<KeyCode> {
    Some(match b {
        b'A' => KeyCode::Up,
        b'B' => KeyCode::Down,
        b'C' => KeyCode::Right,
        b'D' => KeyCode::Left,
        b'H' => KeyCode::Home,
        b'F' => KeyCode::End,
        b'P' => KeyCode::F(1),
        b'Q' => KeyCode::F(2),
        b'R' => KeyCode::F(3),
        b'S' => KeyCode::F(4),
        _ => return None,
    })
}

fn with_alt(input: Option<Input>) -> Option<Input> {
    match input {
        Some(Input::Key(mut k)) => {
            k.modifiers |= KeyModifiers::ALT;
            Some(Input::Key(k))
        }
        other => other,
    }
}

/// Something starting with ESC.
fn escape(buf: &[u8]) -> Step {
    match buf.get(1) {
        None => Step::Incomplete,
        Some(b'[') => csi(buf),
        Some(b'O') => ss3(buf),
        // ESC ESC: Alt-Esc if nothing follows, else the first ESC was a lone Esc key.
        Some(0x1b) => Step::Done(1, key(KeyCode::Esc, KeyModifiers::NONE)),
        Some(_) => match plain(&buf[1..]) {
            Step::Done(n, input) => Step::Done(1 + n, with_alt(input)),
            Step::Incomplete => Step::Incomplete,
        },
    }
}

impl Parser {
    pub fn new() -> Parser {
        Parser::default()
    }

    /// True when bytes are waiting for the rest of a sequence (the caller flushes them after a
    /// short pause).
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty() && self.paste.is_none()
    }

    /// Parses what has arrived; incomplete sequences wait for the next call.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Input> {
        self.pending.extend_from_slice(bytes);
        let mut out = Vec::new();
        let mut at = 0;
        loop {
            if self.paste.is_some() {
                at = self.in_paste(at, &mut out);
                if self.paste.is_some() {
                    break;
                }
                continue;
            }
            let rest = &self.pending[at..];
            if rest.is_empty() {
                break;
            }
            if rest.starts_with(PASTE_START) {
                self.paste = Some(Vec::new());
                self.paste_truncated = false;
                at += PASTE_START.len();
                continue;
            }
            if PASTE_START.starts_with(rest) && rest.len() > 2 {
                break; // maybe the start of a paste
            }
            let step = if rest[0] == 0x1b {
                escape(rest)
            } else {
                plain(rest)
            };
            match step {
                Step::Done(n, input) => {
                    at += n.max(1);
                    out.extend(input);
                }
                Step::Incomplete => break,
            }
        }
        self.pending.drain(..at.min(self.pending.len()));
        if self.pending.len() > MAX_SEQUENCE && self.paste.is_none() {
            self.pending.clear();
        }
        out
    }

    /// Inside a paste: moves bytes into the paste until its end marker; returns the new
    /// position in `pending`.
    fn in_paste(&mut self, at: usize, out: &mut Vec<Input>) -> usize {
        let rest = &self.pending[at..];
        let end = rest.windows(PASTE_END.len()).position(|w| w == PASTE_END);
        let Some(paste) = self.paste.as_mut() else {
            return at;
        };
        let take = match end {
            Some(i) => i,
            // Keep a possible partial end marker for the next call.
            None => rest.len().saturating_sub(PASTE_END.len() - 1),
        };
        let room = MAX_PASTE.saturating_sub(paste.len());
        if take > room {
            self.paste_truncated = true;
        }
        paste.extend_from_slice(&rest[..take.min(room)]);
        match end {
            Some(i) => {
                let text = String::from_utf8_lossy(paste).into_owned();
                self.paste = None;
                out.push(Input::Paste(text));
                at + i + PASTE_END.len()
            }
            None => at + take,
        }
    }

    /// Forgets whatever has been parsed and not yet delivered — an unfinished sequence, a
    /// paste still open — when the input it belongs to was cut: the next bytes are read afresh.
    pub fn reset(&mut self) {
        *self = Parser::default();
    }

    /// Whether the last paste was cut at [`MAX_PASTE`].
    pub fn paste_truncated(&self) -> bool {
        self.paste_truncated
    }

    /// The client paused: whatever is pending means what it says on its own (a lone ESC is
    /// the Esc key, `ESC [` is Alt-[ ...).
    pub fn flush(&mut self) -> Vec<Input> {
        if self.paste.is_some() {
            return Vec::new();
        }
        let bytes = std::mem::take(&mut self.pending);
        let mut out = Vec::new();
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            let (n, input) = match rest {
                [0x1b] => (1, key(KeyCode::Esc, KeyModifiers::NONE)),
                [0x1b, b, ..] if b.is_ascii_graphic() => (2, with_alt(char_key(*b as char))),
                _ => match plain(rest) {
                    Step::Done(n, input) => (n, input),
                    Step::Incomplete => (rest.len(), None),
                },
            };
            out.extend(input);
            rest = &rest[n.clamp(1, rest.len())..];
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Bytes biased towards what confuses a terminal parser: sequence starts and ends,
    /// paste markers, UTF-8 lead and continuation bytes, C1 controls, arbitrary bytes.
    fn hostile_bytes() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            any::<u8>().prop_map(|b| vec![b]),
            Just(b"\x1b".to_vec()),
            Just(b"\x1b[".to_vec()),
            Just(b"\x1bO".to_vec()),
            Just(b"\x1b[1;5".to_vec()),
            Just(b"A".to_vec()),
            Just(b"~".to_vec()),
            Just(PASTE_START.to_vec()),
            Just(PASTE_END.to_vec()),
            Just("é€🦀".as_bytes().to_vec()),
            Just(b"\xc2\x9b".to_vec()),
            Just(b"\xe2\x82".to_vec()),
            Just(b"\r\n\t\x7f\x00".to_vec()),
        ];
        proptest::collection::vec(piece, 0..40).prop_map(|v| v.concat())
    }

    #[test]
    fn a_reset_parser_reads_keys_again_after_a_paste_whose_end_was_lost() {
        let mut p = Parser::new();
        assert!(p.feed(PASTE_START).is_empty());
        assert!(p.feed(b"half of a paste, the rest dropped").is_empty());
        // Without a reset every key after it is taken for more of the paste.
        assert!(p.feed(b"x").is_empty());
        p.reset();
        assert_eq!(
            p.feed(b"x"),
            vec![key(KeyCode::Char('x'), KeyModifiers::NONE).unwrap()]
        );
        // And an unfinished escape sequence is forgotten too.
        assert!(p.feed(b"\x1b[1;").is_empty());
        p.reset();
        assert!(!p.has_pending());
    }

    #[test]
    fn an_oversized_paste_is_cut_at_the_limit() {
        let mut p = Parser::new();
        let mut out = p.feed(PASTE_START);
        let chunk = vec![b'x'; 64 * 1024];
        for _ in 0..40 {
            out.extend(p.feed(&chunk)); // 2.5 MB in 64 KB packets
        }
        out.extend(p.feed(PASTE_END));
        out.extend(p.feed(b"q"));
        assert_eq!(out.len(), 2, "the paste, then the key after it");
        assert!(matches!(&out[0], Input::Paste(t) if t.len() == MAX_PASTE));
        assert!(p.paste_truncated());
        assert_eq!(out[1], k(KeyCode::Char('q'), KeyModifiers::NONE));
    }

    fn keys(bytes: &[u8]) -> Vec<Input> {
        let mut p = Parser::new();
        let mut out = p.feed(bytes);
        out.extend(p.flush());
        out
    }

    fn k(code: KeyCode, mods: KeyModifiers) -> Input {
        Input::Key(KeyEvent::new(code, mods))
    }

    const N: KeyModifiers = KeyModifiers::NONE;

    #[test]
    fn printable_utf8_and_uppercase() {
        assert_eq!(
            keys("aé€😀B".as_bytes()),
            vec![
                k(KeyCode::Char('a'), N),
                k(KeyCode::Char('é'), N),
                k(KeyCode::Char('€'), N),
                k(KeyCode::Char('😀'), N),
                k(KeyCode::Char('B'), KeyModifiers::SHIFT),
            ]
        );
    }

    #[test]
    fn control_keys() {
        assert_eq!(
            keys(b"\r\t\x7f\x08\x03\x00\x1f"),
            vec![
                k(KeyCode::Enter, N),
                k(KeyCode::Tab, N),
                k(KeyCode::Backspace, N),
                k(KeyCode::Backspace, N),
                k(KeyCode::Char('c'), KeyModifiers::CONTROL),
                k(KeyCode::Char(' '), KeyModifiers::CONTROL),
                k(KeyCode::Char('_'), KeyModifiers::CONTROL),
            ]
        );
    }

    #[test]
    fn lone_escape_waits_for_flush() {
        let mut p = Parser::new();
        assert!(p.feed(b"\x1b").is_empty());
        assert!(p.has_pending());
        assert_eq!(p.flush(), vec![k(KeyCode::Esc, N)]);
        assert!(!p.has_pending());
    }

    #[test]
    fn alt_keys() {
        assert_eq!(
            keys(b"\x1bx\x1bX\x1b\x7f"),
            vec![
                k(KeyCode::Char('x'), KeyModifiers::ALT),
                k(KeyCode::Char('X'), KeyModifiers::ALT | KeyModifiers::SHIFT),
                k(KeyCode::Backspace, KeyModifiers::ALT),
            ]
        );
        assert_eq!(
            keys(b"\x1b["),
            vec![k(KeyCode::Char('['), KeyModifiers::ALT)]
        );
    }

    #[test]
    fn arrows_csi_ss3_and_modifiers() {
        assert_eq!(
            keys(b"\x1b[A\x1bOB\x1b[1;5C\x1b[1;3D\x1b[1;2H\x1bOF"),
            vec![
                k(KeyCode::Up, N),
                k(KeyCode::Down, N),
                k(KeyCode::Right, KeyModifiers::CONTROL),
                k(KeyCode::Left, KeyModifiers::ALT),
                k(KeyCode::Home, KeyModifiers::SHIFT),
                k(KeyCode::End, N),
            ]
        );
    }

    #[test]
    fn tilde_keys_and_function_keys() {
        assert_eq!(
            keys(b"\x1b[2~\x1b[3~\x1b[5~\x1b[6~\x1b[1~\x1b[4~\x1b[3;5~"),
            vec![
                k(KeyCode::Insert, N),
                k(KeyCode::Delete, N),
                k(KeyCode::PageUp, N),
                k(KeyCode::PageDown, N),
                k(KeyCode::Home, N),
                k(KeyCode::End, N),
                k(KeyCode::Delete, KeyModifiers::CONTROL),
            ]
        );
        let f: Vec<Input> = (1..=12).map(|n| k(KeyCode::F(n), N)).collect();
        assert_eq!(
            keys(b"\x1bOP\x1bOQ\x1bOR\x1bOS\x1b[15~\x1b[17~\x1b[18~\x1b[19~\x1b[20~\x1b[21~\x1b[23~\x1b[24~"),
            f
        );
        assert_eq!(keys(b"\x1b[11~"), vec![k(KeyCode::F(1), N)]);
        assert_eq!(
            keys(b"\x1b[1;2P"),
            vec![k(KeyCode::F(1), KeyModifiers::SHIFT)]
        );
    }

    #[test]
    fn shift_tab() {
        assert_eq!(
            keys(b"\x1b[Z"),
            vec![k(KeyCode::BackTab, KeyModifiers::SHIFT)]
        );
    }

    #[test]
    fn sequences_split_across_packets() {
        let mut p = Parser::new();
        assert!(p.feed(b"\x1b[1;").is_empty());
        assert_eq!(p.feed(b"5A"), vec![k(KeyCode::Up, KeyModifiers::CONTROL)]);
        assert!(p.feed(&"é".as_bytes()[..1]).is_empty());
        assert_eq!(p.feed(&"é".as_bytes()[1..]), vec![k(KeyCode::Char('é'), N)]);
    }

    #[test]
    fn bracketed_paste() {
        assert_eq!(
            keys(b"a\x1b[200~hello\r\n\x1b[Aworld\x1b[201~b"),
            vec![
                k(KeyCode::Char('a'), N),
                Input::Paste("hello\r\n\x1b[Aworld".into()),
                k(KeyCode::Char('b'), N),
            ]
        );
        // Split anywhere, including inside both markers.
        let whole = b"\x1b[200~one two\x1b[201~";
        for cut in 1..whole.len() {
            let mut p = Parser::new();
            let mut out = p.feed(&whole[..cut]);
            out.extend(p.feed(&whole[cut..]));
            assert_eq!(out, vec![Input::Paste("one two".into())], "cut at {cut}");
        }
    }

    #[test]
    fn unknown_and_mouse_sequences_are_dropped() {
        assert_eq!(
            keys(b"\x1b[<0;10;5M\x1b[99~\x1b[?1;2cq"),
            vec![k(KeyCode::Char('q'), N)]
        );
        assert_eq!(keys(b"\xff\xfe\xc3"), vec![]);
    }

    proptest! {
        #[test]
        fn never_panics_on_any_bytes(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..16)) {
            let mut p = Parser::new();
            for c in &chunks {
                let _ = p.feed(c);
                prop_assert!(p.pending.len() <= MAX_SEQUENCE || p.paste.is_some());
            }
            let _ = p.flush();
        }

        /// Bytes cut into packets anywhere mean what they mean whole (escape sequences,
        /// UTF-8 characters and paste markers split across packets included), and no key is
        /// a raw control character that a text field would insert.
        #[test]
        fn packets_split_anywhere_mean_the_same(bytes in hostile_bytes(), cuts in proptest::collection::vec(any::<proptest::sample::Index>(), 0..6)) {
            let mut whole = Parser::new();
            let mut expected = whole.feed(&bytes);
            expected.extend(whole.flush());
            let mut at: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
            at.sort_unstable();
            let mut split = Parser::new();
            let mut got = Vec::new();
            let mut from = 0;
            for to in at.into_iter().chain([bytes.len()]) {
                got.extend(split.feed(&bytes[from..to]));
                from = to;
            }
            got.extend(split.flush());
            prop_assert_eq!(&got, &expected);
            for input in &got {
                match input {
                    Input::Key(KeyEvent { code: KeyCode::Char(c), .. }) => {
                        prop_assert!(!c.is_control(), "a control character as a Char key: {:?}", c);
                    }
                    Input::Paste(p) => prop_assert!(p.len() <= MAX_PASTE),
                    _ => {}
                }
            }
        }

        #[test]
        fn printable_text_round_trips(s in "[a-z0-9 .,é€]{0,40}") {
            let got: String = keys(s.as_bytes()).into_iter().filter_map(|i| match i {
                Input::Key(KeyEvent { code: KeyCode::Char(c), .. }) => Some(c),
                _ => None,
            }).collect();
            prop_assert_eq!(got, s);
        }
    }
}
