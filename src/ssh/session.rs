//! One SSH console session: its own `ui::App`, terminal size, colour depth and input parser,
//! in its own tokio task. The loop mirrors the local console's (`tui/mod.rs`): one select
//! over client input, effect replies, bus events, the database health report, a 1 Hz clock
//! and a spinner tick; every ready message is applied before drawing, and a frame is drawn
//! at most every 16 ms and only when something changed. Frames are rendered as ANSI into a
//! buffer (a fixed viewport sized from the client's pty — never the server's own tty) and
//! sent over the channel after each draw.

use super::Shared;
use super::input::{Input, Parser};
use crate::tui::Executor;
use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Rect, Size};
use ratatui::{Terminal, TerminalOptions, Viewport};
use russh::ChannelId;
use russh::server::Handle;
use rustok_domain::Actor;
use rustok_domain::rbac::Role;
use rustok_ui::{App, Msg, Session, Theme};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, mpsc};
use tokio::time::{Instant, sleep_until};

const FRAME: Duration = Duration::from_millis(16);
const TICK: Duration = Duration::from_millis(80);
/// How long a lone ESC waits for the rest of a sequence before it counts as the Esc key.
const ESC_WAIT: Duration = Duration::from_millis(30);

/// Alternate screen, hidden cursor, bracketed paste on, cleared screen.
const ENTER: &[u8] = b"\x1b[?1049h\x1b[?25l\x1b[?2004h\x1b[0m\x1b[2J\x1b[H";
/// Bracketed paste off, attributes reset, cursor shown, alternate screen left.
pub(crate) const RESTORE: &[u8] = b"\x1b[?2004l\x1b[0m\x1b[?25h\x1b[?1049l";

/// Window changes are applied at most this often (the latest size wins).
pub(crate) const RESIZE_EVERY: Duration = Duration::from_millis(100);

/// The client's latest window size, written by the connection handler and read by the
/// session: a flood of window changes leaves one size here and one `Resized` in the queue.
#[derive(Debug)]
pub(crate) struct ClientSize {
    /// cols << 16 | rows
    packed: AtomicU32,
    /// A `Resized` is in the session's queue.
    queued: AtomicBool,
}

impl ClientSize {
    pub fn new(size: (u16, u16)) -> Self {
        ClientSize {
            packed: AtomicU32::new(Self::pack(size)),
            queued: AtomicBool::new(false),
        }
    }

    fn pack((w, h): (u16, u16)) -> u32 {
        (u32::from(w) << 16) | u32::from(h)
    }

    /// Records `size`; true when the session must be told (no `Resized` is queued).
    pub fn set(&self, size: (u16, u16)) -> bool {
        self.packed.store(Self::pack(size), Ordering::SeqCst);
        !self.queued.swap(true, Ordering::SeqCst)
    }

    /// The latest size (without re-arming).
    pub fn current(&self) -> (u16, u16) {
        let p = self.packed.load(Ordering::SeqCst);
        ((p >> 16) as u16, p as u16)
    }

    /// The `Resized` could not be queued.
    pub fn unqueue(&self) {
        self.queued.store(false, Ordering::SeqCst);
    }

    /// The latest size, re-arming `set` (called by the session on `Resized`).
    fn take(&self) -> (u16, u16) {
        self.queued.store(false, Ordering::SeqCst);
        let p = self.packed.load(Ordering::SeqCst);
        ((p >> 16) as u16, p as u16)
    }
}

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

/// The session loop. Returns a note to print after the console closes (idle timeout), or an
/// error line.
async fn run(
    spec: SessionSpec,
    mut rx: mpsc::Receiver<SessionInput>,
) -> Result<Option<String>, String> {
    let shared = spec.shared.clone();
    let send = |bytes: Vec<u8>| {
        let handle = spec.handle.clone();
        let channel = spec.channel;
        async move {
            handle
                .data(channel, bytes)
                .await
                .map_err(|_| "the client went away".to_string())
        }
    };
    send(ENTER.to_vec()).await?;

    let themes: Vec<(String, Theme)> = if truecolor(&spec.term, spec.colorterm.as_deref()) {
        shared.themes.clone()
    } else {
        shared
            .themes
            .iter()
            .map(|(n, t)| (n.clone(), t.to_ansi16()))
            .collect()
    };
    let mut size = spec.size;
    let mut terminal = Terminal::with_options(
        SshBackend::new(size),
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, size.0, size.1)),
        },
    )
    .map_err(|e| format!("cannot set up the screen: {e}"))?;
    let read_only = shared.read_only || spec.role == Role::Support;
    let session = Session {
        tenant: shared.tenant.clone(),
        actor: spec.staff.clone(),
        role: spec.role.as_str().into(),
        database: shared.database.clone(),
        read_only,
    };
    let mut app = App::new(session, &shared.config, shared.keymap.clone(), themes, size);
    if let Some(layout) = crate::tui::load_layout(&spec.staff) {
        app.restore_layout(&layout);
    }
    for w in &shared.warnings {
        app.warn(w.clone());
    }
    let mut sub = shared.bus.subscribe();
    let (tx, mut replies) = mpsc::unbounded_channel::<Msg>();
    let mut actor = Actor::new(spec.staff.clone()).read_only(read_only);
    actor.role = Some(spec.role);
    // Over SSH the audit runs and monitors as in a local console, but exports are refused
    // (they would write files on the server).
    let audit = crate::tui::audit::AuditMonitor::start(
        shared.store.clone(),
        actor.clone(),
        tx.clone(),
        false,
        crate::tui::audit::interval(),
    );
    let mut exec = Executor::new(
        shared.store.clone(),
        shared.queue.clone(),
        actor,
        spec.role,
        shared.tenant.clone(),
        tx,
        audit,
    );
    // The Sessions view reads (and kicks in) this server's own session table.
    exec.reads = exec
        .reads
        .clone()
        .with_ssh_admin(super::admin::SessionAdmin::server(
            shared.clone(),
            spec.entry.id,
        ));
    for fx in app.init() {
        exec.run(fx);
    }
    let mut health = shared.health.clone();
    let mut stop = shared.stop.clone();
    let mut kick = spec.entry.kick.subscribe();
    let mut parser = Parser::new();
    let mut dirty = true;
    let mut next_frame = Instant::now();
    let mut ticker = tokio::time::interval(TICK);
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    let idle = shared.limits.idle_timeout;
    let mut last_input = Instant::now();
    let mut esc_deadline: Option<Instant> = None;
    // Window changes: the latest size waits here until the next one may be applied.
    let mut pending_size: Option<(u16, u16)> = None;
    let mut resize_at = Instant::now();

    'run: loop {
        let mut msgs: Vec<Msg> = Vec::new();
        tokio::select! {
            biased;
            _ = sleep_until(next_frame), if dirty => {
                if let Err(e) = terminal.draw(|f| app.draw(f)) {
                    break 'run Err(format!("cannot draw: {e}"));
                }
                let frame = terminal.backend_mut().take();
                if !frame.is_empty() {
                    send(frame).await?;
                }
                dirty = false;
                next_frame = Instant::now() + FRAME;
                continue;
            }
            input = rx.recv() => match input {
                None | Some(SessionInput::Closed) => break 'run Ok(None),
                Some(SessionInput::Data(bytes)) => {
                    last_input = Instant::now();
                    spec.entry.touch();
                    if let Some(trigger) = &shared.panic_on_input
                        && &bytes == trigger
                    {
                        panic!("test hook: session asked to panic");
                    }
                    msgs.extend(parser.feed(&bytes).into_iter().map(to_msg));
                    esc_deadline = parser.has_pending().then(|| Instant::now() + ESC_WAIT);
                    if parser.paste_truncated() {
                        app.warn(format!(
                            "paste too long: only the first {} KiB were kept",
                            super::input::MAX_PASTE / 1024
                        ));
                    }
                }
                Some(SessionInput::Resized) => {
                    let latest = spec.window.take();
                    pending_size = (latest != size).then_some(latest);
                }
                Some(SessionInput::Dropped) => {
                    app.warn("typing too fast: some input was dropped");
                    dirty = true;
                }
            },
            _ = sleep_until(resize_at), if pending_size.is_some() => {
                let (w, h) = pending_size.take().unwrap_or(size);
                size = (w, h);
                terminal.backend_mut().size = Size::new(w, h);
                if let Err(e) = terminal.resize(Rect::new(0, 0, w, h)) {
                    break 'run Err(format!("cannot resize: {e}"));
                }
                msgs.push(Msg::Resize(w, h));
                resize_at = Instant::now() + RESIZE_EVERY;
            }
            _ = sleep_until(esc_deadline.unwrap_or_else(Instant::now)), if esc_deadline.is_some() => {
                esc_deadline = None;
                msgs.extend(parser.flush().into_iter().map(to_msg));
            }
            _ = sleep_until(last_input + idle) => {
                break 'run Ok(Some(format!(
                    "closed after {} minutes without input",
                    idle.as_secs() / 60
                )));
            }
            why = kicked(&mut kick) => break 'run Ok(Some(why)),
            _ = super::stopped(&mut stop) => {
                break 'run Ok(Some("the server is shutting down; your session has ended".into()));
            }
            Some(m) = replies.recv() => msgs.push(m),
            Some(m) = sub.recv() => msgs.extend(exec.admit(m)),
            Ok(()) = health.changed() => msgs.push(Msg::DatabaseStatus(health.borrow_and_update().clone())),
            _ = ticker.tick(), if app.is_busy() => msgs.push(Msg::Tick),
            _ = clock.tick() => msgs.push(Msg::Clock(chrono::Utc::now())),
        }
        while let Ok(m) = replies.try_recv() {
            msgs.push(m);
        }
        while let Some(m) = sub.try_recv() {
            msgs.extend(exec.admit(m));
        }
        for m in msgs {
            if let Msg::TenantSwitched(Ok(t)) = &m {
                exec.tenant = t.clone();
            }
            for fx in app.update(m) {
                if !exec.run(fx) {
                    break 'run Ok(None);
                }
            }
            dirty = true;
        }
        if app.should_quit() {
            break 'run Ok(None);
        }
    }
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
