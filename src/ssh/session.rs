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
use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Rect, Size};
use ratatui::{Terminal, TerminalOptions, Viewport};
use russh::ChannelId;
use russh::server::Handle;
use rustok_domain::Actor;
use rustok_domain::rbac::Role;
use rustok_ui::{App, Msg, Session, Theme};
use std::sync::{Arc, Mutex};
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
    /// Input over the rate cap was dropped.
    Dropped,
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

/// Where the crossterm backend writes a frame's bytes.
#[derive(Clone, Default)]
struct FrameBuf(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for FrameBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A crossterm backend writing into memory, sized by the client rather than the server's tty.
pub(crate) struct SshBackend {
    inner: CrosstermBackend<FrameBuf>,
    buf: FrameBuf,
    size: Size,
}

impl SshBackend {
    fn new(size: (u16, u16)) -> Self {
        let buf = FrameBuf::default();
        SshBackend {
            inner: CrosstermBackend::new(buf.clone()),
            buf,
            size: Size::new(size.0, size.1),
        }
    }

    /// The bytes rendered since the last call.
    fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut *self.buf.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl Backend for SshBackend {
    type Error = std::io::Error;

    fn draw<'a, I>(&mut self, content: I) -> Result<(), Self::Error>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        self.inner.draw(content)
    }
    fn append_lines(&mut self, n: u16) -> Result<(), Self::Error> {
        self.inner.append_lines(n)
    }
    fn hide_cursor(&mut self) -> Result<(), Self::Error> {
        self.inner.hide_cursor()
    }
    fn show_cursor(&mut self) -> Result<(), Self::Error> {
        self.inner.show_cursor()
    }
    fn get_cursor_position(&mut self) -> Result<Position, Self::Error> {
        // Asking the client would need a round trip; a fixed viewport never needs it.
        Ok(Position::ORIGIN)
    }
    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> Result<(), Self::Error> {
        self.inner.set_cursor_position(position)
    }
    fn clear(&mut self) -> Result<(), Self::Error> {
        self.inner.clear()
    }
    fn clear_region(&mut self, clear_type: ClearType) -> Result<(), Self::Error> {
        self.inner.clear_region(clear_type)
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
        self.inner.flush()
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
            SessionInput::Dropped => {
                out.warnings
                    .push("typing too fast: some input was dropped".into());
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
