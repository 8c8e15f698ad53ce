//! One SSH console session: its own `ui::App`, terminal size, colour depth and input parser,
//! in its own tokio task, driven by the one console loop (`runtime::console`) with the SSH
//! channel as its transport. Frames are rendered as ANSI into a buffer (a fixed viewport
//! sized from the client's pty — never the server's own tty) and sent over the channel after
//! each draw.

use super::Shared;
use super::input::{Input, Parser};
use super::window::ClientSize;
use crate::runtime::console::{self, Console, LoopOptions, Step, Transport};
use crate::runtime::{ConsoleError, Executor, Exports, load_layout};
use ratatui::backend::{Backend, ClearType, IntoCrossterm, WindowSize};
use ratatui::buffer::Cell;
use ratatui::crossterm::cursor::{Hide, MoveTo, Show};
use ratatui::crossterm::queue;
use ratatui::crossterm::style::{
    Attribute as CtAttribute, Color as CtColor, Colors as CtColors, Print, SetAttribute,
    SetBackgroundColor, SetColors, SetForegroundColor, SetUnderlineColor,
};
use ratatui::crossterm::terminal::Clear;
use ratatui::layout::{Position, Rect, Size};
use ratatui::style::{Color, Modifier};
use ratatui::{Terminal, TerminalOptions, Viewport};
use russh::ChannelId;
use russh::server::Handle;
use rustok_domain::Actor;
use rustok_domain::rbac::Role;
use rustok_ui::{App, Msg, Session, Theme};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, mpsc};
use tokio::time::{Instant, sleep_until};

/// How long a lone ESC waits for the rest of a sequence before it counts as the Esc key.
const ESC_WAIT: Duration = Duration::from_millis(30);

/// Alternate screen, hidden cursor, bracketed paste on, cleared screen.
const ENTER: &[u8] = b"\x1b[?1049h\x1b[?25l\x1b[?2004h\x1b[0m\x1b[2J\x1b[H";
/// Bracketed paste off, attributes reset, cursor shown, alternate screen left.
pub(crate) const RESTORE: &[u8] = b"\x1b[?2004l\x1b[0m\x1b[?25h\x1b[?1049l";

/// Window changes are applied at most this often (the latest size wins).
pub(crate) const RESIZE_EVERY: Duration = Duration::from_millis(100);

/// From the connection handler to its session.
#[derive(Debug)]
pub(crate) enum SessionInput {
    Data(Vec<u8>),
    /// The window size changed: read it from [`ClientSize`].
    Resized,
    /// Input over the rate cap was dropped, and the rest of its burst will be (`burst`: the
    /// most input that arrives whole).
    Dropped {
        burst: u32,
    },
    /// The client closed the channel (or sent EOF).
    Closed,
}

pub(crate) struct SessionSpec {
    pub shared: Arc<Shared>,
    pub handle: Handle,
    pub channel: ChannelId,
    pub staff: String,
    pub role: Role,
    pub term: String,
    pub colorterm: Option<String>,
    pub size: (u16, u16),
    pub window: Arc<ClientSize>,
    /// This session's row in the server's session table (idle time, kick).
    pub entry: Arc<super::control::SessionEntry>,
    /// For logs: `ssh PEER`.
    pub id: String,
}

/// Whether the client's terminal shows 24-bit colour (COLORTERM, or a TERM that says so).
pub(crate) fn truecolor(term: &str, colorterm: Option<&str>) -> bool {
    let ct = colorterm.unwrap_or_default().to_ascii_lowercase();
    let term = term.to_ascii_lowercase();
    ct == "truecolor"
        || ct == "24bit"
        || term.contains("truecolor")
        || term.contains("24bit")
        || term.ends_with("-direct")
}

/// A backend writing a frame's ANSI bytes into memory, sized by the client rather than the
/// server's tty.
///
/// The bytes are crossterm's, as `CrosstermBackend` writes them (a test compares the two on
/// every kind of cell), but a cell costs a few pushes onto a `Vec` instead of a `queue!` (a
/// `fmt::write` and a locked write per cell): with a thousand sessions drawing the same
/// payment, the encoding was a fifth of the server's CPU (docs/PERFORMANCE.md). The rarer
/// sequences (colours, attributes, the cursor, clearing) still go through crossterm's own
/// commands; a pair of colours is encoded once and kept.
pub(crate) struct SshBackend {
    out: Vec<u8>,
    /// The size of the last frame taken: the next one reserves as much at once rather than
    /// growing the buffer a few times (nothing is kept between frames).
    last_frame: usize,
    size: Size,
    /// `SetColors(fg, bg)` as crossterm encodes it, for the pairs this session has used.
    colors: Vec<EncodedColors>,
}

/// A foreground and background pair and its `SetColors` bytes.
type EncodedColors = ((Color, Color), Box<[u8]>);

impl SshBackend {
    fn new(size: (u16, u16)) -> Self {
        SshBackend {
            out: Vec::new(),
            last_frame: 0,
            size: Size::new(size.0, size.1),
            colors: Vec::new(),
        }
    }

    /// The bytes rendered since the last call.
    fn take(&mut self) -> Vec<u8> {
        self.last_frame = self.out.len();
        std::mem::take(&mut self.out)
    }

    fn set_colors(&mut self, fg: Color, bg: Color) -> std::io::Result<()> {
        let bytes = match self.colors.iter().find(|(k, _)| *k == (fg, bg)) {
            Some((_, b)) => b,
            None => {
                let mut b = Vec::new();
                queue!(
                    b,
                    SetColors(CtColors::new(fg.into_crossterm(), bg.into_crossterm()))
                )?;
                // Bounded: a theme has a handful of colours; a pathological screen re-encodes.
                if self.colors.len() >= 64 {
                    self.colors.clear();
                }
                self.colors.push(((fg, bg), b.into_boxed_slice()));
                &self.colors[self.colors.len() - 1].1
            }
        };
        self.out.extend_from_slice(bytes);
        Ok(())
    }

    /// `MoveTo(x, y)`: `ESC [ y+1 ; x+1 H`.
    fn move_to(&mut self, x: u16, y: u16) {
        self.out.extend_from_slice(b"\x1b[");
        push_decimal(&mut self.out, u32::from(y) + 1);
        self.out.push(b';');
        push_decimal(&mut self.out, u32::from(x) + 1);
        self.out.push(b'H');
    }
}

fn push_decimal(out: &mut Vec<u8>, mut n: u32) {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// The attributes to go from one modifier to another, as ratatui's crossterm backend sets them.
fn modifier_diff(w: &mut Vec<u8>, from: Modifier, to: Modifier) -> std::io::Result<()> {
    use CtAttribute as A;
    let removed = from - to;
    if removed.contains(Modifier::REVERSED) {
        queue!(w, SetAttribute(A::NoReverse))?;
    }
    let reset_intensity = removed.contains(Modifier::BOLD) || removed.contains(Modifier::DIM);
    if reset_intensity {
        queue!(w, SetAttribute(A::NormalIntensity))?;
        if to.contains(Modifier::DIM) {
            queue!(w, SetAttribute(A::Dim))?;
        }
        if to.contains(Modifier::BOLD) {
            queue!(w, SetAttribute(A::Bold))?;
        }
    }
    if removed.contains(Modifier::ITALIC) {
        queue!(w, SetAttribute(A::NoItalic))?;
    }
    if removed.contains(Modifier::UNDERLINED) {
        queue!(w, SetAttribute(A::NoUnderline))?;
    }
    if removed.contains(Modifier::CROSSED_OUT) {
        queue!(w, SetAttribute(A::NotCrossedOut))?;
    }
    if removed.contains(Modifier::HIDDEN) {
        queue!(w, SetAttribute(A::NoHidden))?;
    }
    if removed.contains(Modifier::SLOW_BLINK) || removed.contains(Modifier::RAPID_BLINK) {
        queue!(w, SetAttribute(A::NoBlink))?;
    }
    let added = to - from;
    if added.contains(Modifier::REVERSED) {
        queue!(w, SetAttribute(A::Reverse))?;
    }
    if added.contains(Modifier::BOLD) && !reset_intensity {
        queue!(w, SetAttribute(A::Bold))?;
    }
    if added.contains(Modifier::ITALIC) {
        queue!(w, SetAttribute(A::Italic))?;
    }
    if added.contains(Modifier::UNDERLINED) {
        queue!(w, SetAttribute(A::Underlined))?;
    }
    if added.contains(Modifier::DIM) && !reset_intensity {
        queue!(w, SetAttribute(A::Dim))?;
    }
    if added.contains(Modifier::CROSSED_OUT) {
        queue!(w, SetAttribute(A::CrossedOut))?;
    }
    if added.contains(Modifier::HIDDEN) {
        queue!(w, SetAttribute(A::Hidden))?;
    }
    if added.contains(Modifier::SLOW_BLINK) {
        queue!(w, SetAttribute(A::SlowBlink))?;
    }
    if added.contains(Modifier::RAPID_BLINK) {
        queue!(w, SetAttribute(A::RapidBlink))?;
    }
    Ok(())
}

impl Backend for SshBackend {
    type Error = std::io::Error;

    fn draw<'a, I>(&mut self, content: I) -> Result<(), Self::Error>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        self.out.reserve(self.last_frame);
        let mut fg = Color::Reset;
        let mut bg = Color::Reset;
        let mut underline_color = Color::Reset;
        let mut modifier = Modifier::empty();
        let mut last: Option<(u16, u16)> = None;
        for (x, y, cell) in content {
            if !matches!(last, Some((lx, ly)) if x == lx + 1 && y == ly) {
                self.move_to(x, y);
            }
            last = Some((x, y));
            if cell.modifier != modifier {
                modifier_diff(&mut self.out, modifier, cell.modifier)?;
                modifier = cell.modifier;
            }
            if cell.fg != fg || cell.bg != bg {
                self.set_colors(cell.fg, cell.bg)?;
                fg = cell.fg;
                bg = cell.bg;
            }
            if cell.underline_color != underline_color {
                queue!(
                    self.out,
                    SetUnderlineColor(cell.underline_color.into_crossterm())
                )?;
                underline_color = cell.underline_color;
            }
            self.out.extend_from_slice(cell.symbol().as_bytes());
        }
        queue!(
            self.out,
            SetForegroundColor(CtColor::Reset),
            SetBackgroundColor(CtColor::Reset),
            SetUnderlineColor(CtColor::Reset),
            SetAttribute(CtAttribute::Reset),
        )
    }
    fn append_lines(&mut self, n: u16) -> Result<(), Self::Error> {
        for _ in 0..n {
            queue!(self.out, Print("\n"))?;
        }
        Ok(())
    }
    fn hide_cursor(&mut self) -> Result<(), Self::Error> {
        queue!(self.out, Hide)
    }
    fn show_cursor(&mut self) -> Result<(), Self::Error> {
        queue!(self.out, Show)
    }
    fn get_cursor_position(&mut self) -> Result<Position, Self::Error> {
        // Asking the client would need a round trip; a fixed viewport never needs it.
        Ok(Position::ORIGIN)
    }
    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> Result<(), Self::Error> {
        let Position { x, y } = position.into();
        queue!(self.out, MoveTo(x, y))
    }
    fn clear(&mut self) -> Result<(), Self::Error> {
        self.clear_region(ClearType::All)
    }
    fn clear_region(&mut self, clear_type: ClearType) -> Result<(), Self::Error> {
        use ratatui::crossterm::terminal::ClearType as C;
        queue!(
            self.out,
            Clear(match clear_type {
                ClearType::All => C::All,
                ClearType::AfterCursor => C::FromCursorDown,
                ClearType::BeforeCursor => C::FromCursorUp,
                ClearType::CurrentLine => C::CurrentLine,
                ClearType::UntilNewLine => C::UntilNewLine,
            })
        )
    }
    fn size(&self) -> Result<Size, Self::Error> {
        Ok(self.size)
    }
    fn window_size(&mut self) -> Result<WindowSize, Self::Error> {
        Ok(WindowSize {
            columns_rows: self.size,
            pixels: Size::new(0, 0),
        })
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// Runs one session in its own task and cleans up however it ends: the client's terminal
/// is restored and the channel closed, also after a panic (which ends this session only).
pub(crate) async fn supervise(
    spec: SessionSpec,
    rx: mpsc::Receiver<SessionInput>,
    permit: OwnedSemaphorePermit,
) {
    let handle = spec.handle.clone();
    let channel = spec.channel;
    let entry = spec.entry.clone();
    let table_id = entry.id;
    let shared = spec.shared.clone();
    let who = format!("{} ({})", spec.staff, spec.id);
    tracing::info!(session = %who, "SSH session started");
    let (status, message) = match tokio::spawn(run(spec, rx)).await {
        Ok(Ok(Some(note))) => (0, Some(note)),
        Ok(Ok(None)) => (0, None),
        Ok(Err(e)) => {
            tracing::warn!(session = %who, error = %e, "SSH session failed");
            (1, Some(format!("error: {e}")))
        }
        Err(e) => {
            tracing::error!(session = %who, error = %e, "SSH session panicked");
            (
                1,
                Some("error: the session ended unexpectedly (see the server log)".into()),
            )
        }
    };
    let mut out = RESTORE.to_vec();
    if let Some(m) = message {
        out.extend_from_slice(rustok_domain::text::printable(&m).as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    let _ = handle.data(channel, out).await;
    let _ = handle.exit_status_request(channel, status).await;
    let _ = handle.eof(channel).await;
    let _ = handle.close(channel).await;
    shared.table.remove(table_id);
    drop(entry);
    drop(permit);
    tracing::info!(session = %who, "SSH session ended");
}

/// Completes with the message for the client once an administrator ends this session.
async fn kicked(kick: &mut tokio::sync::watch::Receiver<Option<(String, String)>>) -> String {
    let why = match kick.wait_for(|k| k.is_some()).await {
        Ok(k) => k
            .as_ref()
            .map(|(by, reason)| format!("your session was ended by {by}: {reason}")),
        Err(_) => None,
    };
    match why {
        Some(why) => why,
        // The table entry is gone: never.
        None => std::future::pending().await,
    }
}

fn to_msg(i: Input) -> Msg {
    match i {
        Input::Key(k) => Msg::Key(k),
        Input::Paste(s) => Msg::Paste(s),
    }
}

/// An SSH channel as a transport of the console loop: the client's bytes through the input
/// parser, window changes applied at most every [`RESIZE_EVERY`] (the latest size wins), the
/// idle timeout, a kick and the server stopping end the session; every frame's bytes are sent
/// over the channel.
struct Channel {
    terminal: Terminal<SshBackend>,
    handle: Handle,
    channel: ChannelId,
    rx: mpsc::Receiver<SessionInput>,
    parser: Parser,
    /// When a lone ESC counts as the Esc key.
    esc_deadline: Option<Instant>,
    size: (u16, u16),
    window: Arc<ClientSize>,
    /// The latest window size, waiting until the next one may be applied.
    pending_size: Option<(u16, u16)>,
    resize_at: Instant,
    idle: Duration,
    last_input: Instant,
    entry: Arc<super::control::SessionEntry>,
    kick: tokio::sync::watch::Receiver<Option<(String, String)>>,
    stop: tokio::sync::watch::Receiver<bool>,
    panic_on_input: Option<Vec<u8>>,
}

impl Channel {
    async fn send(&self, bytes: Vec<u8>) -> Result<(), ConsoleError> {
        self.handle
            .data(self.channel, bytes)
            .await
            .map_err(|_| ConsoleError::Gone)
    }

    fn input(&mut self, i: SessionInput) -> Result<Step, ConsoleError> {
        let mut out = console::Input::default();
        match i {
            SessionInput::Closed => return Ok(Step::End(None)),
            SessionInput::Data(bytes) => {
                self.last_input = Instant::now();
                self.entry.touch();
                if let Some(trigger) = &self.panic_on_input
                    && &bytes == trigger
                {
                    panic!("test hook: session asked to panic");
                }
                out.msgs
                    .extend(self.parser.feed(&bytes).into_iter().map(to_msg));
                out.typed = !out.msgs.is_empty();
                self.esc_deadline = self.parser.has_pending().then(|| Instant::now() + ESC_WAIT);
                if self.parser.paste_truncated() {
                    out.warnings.push(format!(
                        "paste too long: only the first {} KiB were kept",
                        super::input::MAX_PASTE / 1024
                    ));
                }
            }
            SessionInput::Resized => {
                let latest = self.window.take();
                self.pending_size = (latest != self.size).then_some(latest);
            }
            SessionInput::Dropped { burst } => {
                // What was parsed of the cut input is dropped with it: a paste whose end
                // marker was dropped would otherwise swallow every key after it.
                self.parser.reset();
                self.esc_deadline = None;
                out.warnings.push(format!(
                    "typing too fast: input dropped until the client pauses (at most {} KiB arrive at once, a longer paste not at all)",
                    burst / 1024
                ));
            }
        }
        Ok(Step::Input(out))
    }

    fn resize(&mut self) -> Result<Step, ConsoleError> {
        let (w, h) = self.pending_size.take().unwrap_or(self.size);
        self.size = (w, h);
        self.terminal.backend_mut().size = Size::new(w, h);
        self.terminal
            .resize(Rect::new(0, 0, w, h))
            .map_err(|e| ConsoleError::Resize(e.to_string()))?;
        self.resize_at = Instant::now() + RESIZE_EVERY;
        Ok(Step::Input(console::Input {
            msgs: vec![Msg::Resize(w, h)],
            ..Default::default()
        }))
    }
}

impl Transport for Channel {
    type Backend = SshBackend;

    fn terminal(&mut self) -> &mut Terminal<SshBackend> {
        &mut self.terminal
    }

    async fn next(&mut self) -> Result<Step, ConsoleError> {
        tokio::select! {
            input = self.rx.recv() => match input {
                None => Ok(Step::End(None)),
                Some(i) => self.input(i),
            },
            _ = sleep_until(self.resize_at), if self.pending_size.is_some() => self.resize(),
            _ = sleep_until(self.esc_deadline.unwrap_or_else(Instant::now)), if self.esc_deadline.is_some() => {
                self.esc_deadline = None;
                Ok(Step::Input(console::Input {
                    msgs: self.parser.flush().into_iter().map(to_msg).collect(),
                    typed: true,
                    ..Default::default()
                }))
            }
            _ = sleep_until(self.last_input + self.idle) => Ok(Step::End(Some(format!(
                "closed after {} minutes without input",
                self.idle.as_secs() / 60
            )))),
            why = kicked(&mut self.kick) => Ok(Step::End(Some(why))),
            _ = super::stopped(&mut self.stop) => Ok(Step::End(Some(
                "the server is shutting down; your session has ended".into(),
            ))),
        }
    }

    async fn deliver(&mut self) -> Result<(), ConsoleError> {
        let frame = self.terminal.backend_mut().take();
        if frame.is_empty() {
            return Ok(());
        }
        self.send(frame).await
    }
}

/// The session: its app and executor, driven by the console loop over its channel. Returns a
/// note to print after the console closes (idle timeout, kick, shutdown), or an error line.
async fn run(
    spec: SessionSpec,
    rx: mpsc::Receiver<SessionInput>,
) -> Result<Option<String>, ConsoleError> {
    let shared = spec.shared.clone();
    let themes: Vec<(String, Theme)> = if truecolor(&spec.term, spec.colorterm.as_deref()) {
        shared.themes.clone()
    } else {
        shared
            .themes
            .iter()
            .map(|(n, t)| (n.clone(), t.to_ansi16()))
            .collect()
    };
    let size = spec.size;
    let terminal = Terminal::with_options(
        SshBackend::new(size),
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, size.0, size.1)),
        },
    )
    .map_err(|e| ConsoleError::Setup(e.to_string()))?;
    let mut channel = Channel {
        terminal,
        handle: spec.handle.clone(),
        channel: spec.channel,
        rx,
        parser: Parser::new(),
        esc_deadline: None,
        size,
        window: spec.window.clone(),
        pending_size: None,
        resize_at: Instant::now(),
        idle: shared.limits.idle_timeout,
        last_input: Instant::now(),
        kick: spec.entry.kick.subscribe(),
        entry: spec.entry.clone(),
        stop: shared.stop.clone(),
        panic_on_input: shared.panic_on_input.clone(),
    };
    channel.send(ENTER.to_vec()).await?;

    let read_only = shared.read_only || spec.role == Role::Support;
    let session = Session {
        tenant: shared.tenant.clone(),
        actor: spec.staff.clone(),
        role: spec.role.as_str().into(),
        database: shared.database.clone(),
        read_only,
    };
    let mut app = App::new(session, &shared.config, shared.keymap.clone(), themes, size);
    if let Some(layout) = load_layout(&spec.staff) {
        app.restore_layout(&layout);
    }
    for w in &shared.warnings {
        app.warn(w.clone());
    }
    let sub = shared.bus.subscribe();
    let mut actor = Actor::new(spec.staff.clone()).read_only(read_only);
    actor.role = Some(spec.role);
    // Over SSH the audit runs and monitors as in a local console, but exports are refused
    // (they would write files on the server).
    let (mut exec, replies) = Executor::start(
        shared.store.clone(),
        shared.queue.clone(),
        actor,
        spec.role,
        shared.tenant.clone(),
        Exports::Refused,
    );
    // The Sessions view reads (and kicks in) this server's own session table.
    exec.reads =
        exec.reads
            .clone()
            .with_live_sessions(Arc::new(super::admin::SessionAdmin::server(
                shared.clone(),
                spec.entry.id,
            )));
    for fx in app.init() {
        exec.run(fx);
    }
    console::run(
        Console {
            app: &mut app,
            exec,
            transport: &mut channel,
            rx: replies,
            sub,
            health: shared.health.clone(),
        },
        LoopOptions::default(),
        |_, _| {},
        |_| {},
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_depth_from_term_and_colorterm() {
        assert!(truecolor("xterm-256color", Some("truecolor")));
        assert!(truecolor("xterm-256color", Some("24bit")));
        assert!(truecolor("xterm-direct", None));
        assert!(!truecolor("xterm-256color", None));
        assert!(!truecolor("vt100", Some("")));
    }

    /// What crossterm's backend writes, read back by the test.
    #[derive(Clone, Default)]
    struct Written(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

    impl std::io::Write for Written {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The SSH backend writes the very bytes ratatui's crossterm backend writes, for cells of
    /// every colour kind, modifier, underline colour and symbol, contiguous or not, and for the
    /// cursor and clearing.
    #[test]
    fn frames_are_byte_for_byte_crossterms() {
        use ratatui::backend::CrosstermBackend;
        let colors = [
            Color::Reset,
            Color::Black,
            Color::Red,
            Color::Green,
            Color::Yellow,
            Color::Blue,
            Color::Magenta,
            Color::Cyan,
            Color::Gray,
            Color::DarkGray,
            Color::LightRed,
            Color::LightGreen,
            Color::LightYellow,
            Color::LightBlue,
            Color::LightMagenta,
            Color::LightCyan,
            Color::White,
            Color::Indexed(0),
            Color::Indexed(137),
            Color::Indexed(255),
            Color::Rgb(0, 0, 0),
            Color::Rgb(18, 200, 255),
        ];
        let symbols = [
            "a", " ", "é", "─", "│", "●", "中", "👍", "Z", "9", "\u{2026}",
        ];
        // A small deterministic generator: the same cells every run.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        for round in 0..200u16 {
            let mut cells: Vec<(u16, u16, Cell)> = Vec::new();
            let (mut x, mut y) = (0u16, 0u16);
            for _ in 0..next(300) + 1 {
                // Mostly the next column; sometimes a jump (a cursor move).
                match next(10) {
                    0 => {
                        x = next(300) as u16;
                        y = next(300) as u16;
                    }
                    1 => {
                        x = 0;
                        y += 1;
                    }
                    _ => x += 1,
                }
                let mut cell = Cell::new(symbols[next(symbols.len())]);
                // Runs of the same style, as on a real screen, and changes of every kind.
                if next(4) == 0 {
                    cell.fg = colors[next(colors.len())];
                    cell.bg = colors[next(colors.len())];
                    cell.underline_color = if next(3) == 0 {
                        colors[next(colors.len())]
                    } else {
                        Color::Reset
                    };
                    cell.modifier = Modifier::from_bits_truncate(next(1 << 9) as u16);
                } else if let Some((_, _, prev)) = cells.last() {
                    cell.fg = prev.fg;
                    cell.bg = prev.bg;
                    cell.underline_color = prev.underline_color;
                    cell.modifier = prev.modifier;
                }
                cells.push((x, y, cell));
            }
            let mut ours = SshBackend::new((80, 24));
            let written = Written::default();
            let mut theirs = CrosstermBackend::new(written.clone());
            ours.draw(cells.iter().map(|(x, y, c)| (*x, *y, c)))
                .unwrap();
            theirs
                .draw(cells.iter().map(|(x, y, c)| (*x, *y, c)))
                .unwrap();
            if round % 3 == 0 {
                ours.hide_cursor().unwrap();
                theirs.hide_cursor().unwrap();
                ours.set_cursor_position((round, 7)).unwrap();
                theirs.set_cursor_position((round, 7)).unwrap();
                ours.show_cursor().unwrap();
                theirs.show_cursor().unwrap();
                ours.clear().unwrap();
                theirs.clear().unwrap();
                ours.clear_region(ClearType::UntilNewLine).unwrap();
                theirs.clear_region(ClearType::UntilNewLine).unwrap();
                ours.append_lines(2).unwrap();
                theirs.append_lines(2).unwrap();
            }
            assert_eq!(
                String::from_utf8_lossy(&ours.take()),
                String::from_utf8_lossy(&written.0.borrow()),
                "round {round}"
            );
        }
    }

    #[test]
    fn backend_reports_the_client_size_not_the_servers() {
        let mut t = Terminal::with_options(
            SshBackend::new((120, 40)),
            TerminalOptions {
                viewport: Viewport::Fixed(Rect::new(0, 0, 120, 40)),
            },
        )
        .unwrap();
        t.draw(|f| {
            assert_eq!(f.area(), Rect::new(0, 0, 120, 40));
            f.render_widget(ratatui::widgets::Paragraph::new("hello"), f.area());
        })
        .unwrap();
        let bytes = t.backend_mut().take();
        assert!(String::from_utf8_lossy(&bytes).contains("hello"));
        t.backend_mut().size = Size::new(60, 20);
        t.resize(Rect::new(0, 0, 60, 20)).unwrap();
        t.draw(|f| assert_eq!(f.area(), Rect::new(0, 0, 60, 20)))
            .unwrap();
    }
}
