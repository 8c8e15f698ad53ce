//! The console loop: one `tokio::select!` that drives a session's `ui::App`, whatever carries
//! it — the local terminal (`tui/`) or an SSH channel (`ssh/`). Those are [`Transport`]s:
//! they hand the loop the user's input (and their own reasons to end the session) and deliver
//! the frames it draws; everything else is here.
//!
//! The loop selects over the transport, the replies of the session's effects, the bus, the
//! database health report, a spinner tick (only while something is pending) and a 1 Hz
//! clock. Every message that is ready is applied before drawing; a frame is drawn only when
//! something changed — at once after the user's own input (keystroke-to-frame latency is one
//! draw), else at most once per [`FRAME`] (render coalescing: a flood of events, replies or
//! window changes costs one frame per slot); a clock tick draws only on a view that shows the
//! time (`App::shows_clock`).

use super::bus::Subscription;
use super::error::ConsoleError;
use super::executor::Executor;
use ratatui::Terminal;
use ratatui::backend::Backend;
use rustok_ui::{App, Msg};
use std::future::Future;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, sleep_until};

/// Frames that only show events, replies or ticks are at most one per this long (60/s).
pub const FRAME: Duration = Duration::from_millis(16);
/// The spinner's step while something is pending.
pub const TICK: Duration = Duration::from_millis(80);
/// The status bar's clock.
pub const CLOCK: Duration = Duration::from_secs(1);

/// What the user's side sent, for the app.
#[derive(Debug, Default)]
pub struct Input {
    pub msgs: Vec<Msg>,
    /// Lines for the status line and the message log ("typing too fast: …").
    pub warnings: Vec<String>,
    /// The user's own input (keys, a paste): answered with a frame at once rather than at
    /// the next frame slot.
    pub typed: bool,
}

/// One step of the user's side.
#[derive(Debug)]
pub enum Step {
    Input(Input),
    /// The session ends, with a note for the user (or none): the input ended, the client
    /// closed, a signal, a kick, the idle timeout, the server stopping.
    End(Option<String>),
}

/// What carries a console session: a terminal the loop draws into, the user's input, and the
/// transport's own reasons to end the session.
pub trait Transport {
    type Backend: Backend;

    /// The terminal frames are drawn into.
    fn terminal(&mut self) -> &mut Terminal<Self::Backend>;

    /// The next step of the user's side. Must be cancel-safe: the loop drops this future
    /// whenever something else is ready first, and calls it again.
    fn next(&mut self) -> impl Future<Output = Result<Step, ConsoleError>> + Send;

    /// A frame has been drawn into [`Transport::terminal`]: deliver it (an SSH channel sends
    /// the bytes; a local terminal has written them already).
    fn deliver(&mut self) -> impl Future<Output = Result<(), ConsoleError>> + Send;
}

/// What the loop drives.
pub struct Console<'a, T: Transport> {
    pub app: &'a mut App,
    pub exec: Executor,
    pub transport: &'a mut T,
    /// The replies of the session's effects (the other end is `exec.tx`).
    pub rx: mpsc::UnboundedReceiver<Msg>,
    pub sub: Subscription,
    /// The database health report (None: reachable), shown in the status bar.
    pub health: watch::Receiver<Option<String>>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct LoopOptions {
    /// Stop after the first frame.
    pub exit_after_first_frame: bool,
}

/// One frame, as reported to the loop's observer.
#[derive(Debug, Clone, Copy)]
pub struct FrameReport {
    /// When the frame's delivery finished.
    pub done: Instant,
    /// Key events applied to the app before this frame, since the loop started.
    pub keys: u64,
    /// Bus events applied to the app before this frame, since the loop started.
    pub events: u64,
    /// How long drawing (render, write and delivery) took.
    pub draw: Duration,
}

/// Runs the session until the app quits, the transport ends it, or drawing or input fails.
/// `first_frame` runs once, right after the first frame is delivered; `on_frame` after every
/// frame. Returns the transport's note for the user, if it gave one.
pub async fn run<T: Transport>(
    c: Console<'_, T>,
    opts: LoopOptions,
    first_frame: impl FnOnce(&mut Executor, &mut App),
    mut on_frame: impl FnMut(&FrameReport),
) -> Result<Option<String>, ConsoleError> {
    let Console {
        app,
        mut exec,
        transport,
        mut rx,
        mut sub,
        mut health,
    } = c;
    let mut first_frame = Some(first_frame);
    let mut dirty = true;
    let mut next_frame = Instant::now();
    let mut keys = 0u64;
    let mut events = 0u64;
    let mut ticker = tokio::time::interval(TICK);
    let mut clock = tokio::time::interval(CLOCK);
    let mut msgs: Vec<Msg> = Vec::new();
    loop {
        tokio::select! {
            biased;
            _ = sleep_until(next_frame), if dirty => {
                let began = Instant::now();
                if let Err(e) = transport.terminal().draw(|f| app.draw(f)) {
                    return Err(ConsoleError::Draw(e.to_string()));
                }
                transport.deliver().await?;
                let done = Instant::now();
                dirty = false;
                next_frame = done + FRAME;
                if let Some(start) = first_frame.take() {
                    start(&mut exec, app);
                    if opts.exit_after_first_frame {
                        return Ok(None);
                    }
                }
                on_frame(&FrameReport { done, keys, events, draw: done - began });
                continue;
            }
            step = transport.next() => match step? {
                Step::End(note) => return Ok(note),
                Step::Input(input) => {
                    if input.typed {
                        // Input is answered with the next frame at once, not at the next
                        // frame slot: keystroke-to-frame latency is one draw.
                        next_frame = Instant::now();
                    }
                    for w in input.warnings {
                        app.warn(w);
                        dirty = true;
                    }
                    msgs.extend(input.msgs);
                }
            },
            Some(m) = rx.recv() => msgs.push(m),
            Some(m) = sub.recv() => msgs.extend(exec.admit(m)),
            Ok(()) = health.changed() => {
                msgs.push(Msg::DatabaseStatus(health.borrow_and_update().clone()));
            }
            _ = ticker.tick(), if app.is_busy() => msgs.push(Msg::Tick),
            _ = clock.tick() => msgs.push(Msg::Clock(chrono::Utc::now())),
        }
        // Coalesce: take every other message that is ready now, then apply them all; the
        // frame deadline above draws once for however many arrived. (The transport's input
        // is not drained here: crossterm's EventStream would keep a no-op waker.)
        while let Ok(m) = rx.try_recv() {
            msgs.push(m);
        }
        while let Some(m) = sub.try_recv() {
            msgs.extend(exec.admit(m));
        }
        for m in msgs.drain(..) {
            let tick = matches!(m, Msg::Clock(_));
            match &m {
                Msg::TenantSwitched(Ok(t)) => exec.tenant = t.clone(),
                Msg::Key(_) | Msg::Paste(_) => keys += 1,
                Msg::Event(_) => events += 1,
                _ => {}
            }
            for fx in app.update(m) {
                if !exec.run(fx) {
                    return Ok(None);
                }
            }
            // A clock tick redraws only a view that shows the time.
            if !tick || app.shows_clock() {
                dirty = true;
            }
        }
        if app.should_quit() {
            return Ok(None);
        }
    }
}
