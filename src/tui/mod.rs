//! The local terminal: a transport of the console loop (`runtime::console`). It puts the
//! terminal in the console's state and restores it however the console ends
//! (`terminal.rs`), turns crossterm's input into the app's messages, ends the session on
//! SIGTERM, SIGHUP or SIGINT, and starts what only the local console runs — its own relay,
//! the live feed and the health check — once the first frame is on screen.

pub mod terminal;

use crate::runtime::console::{self, Console, Input, LoopOptions, Step, Transport};
use crate::runtime::{
    ActionQueue, ConsoleError, Executor, Exports, FirstUse, LiveSessions, QueueOptions, Reads,
    RuntimeError, Settings, load_layout, open_tenant,
};
use futures_util::StreamExt;
use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::crossterm::event::{Event, EventStream};
use rustok_domain::Actor;
use rustok_store::Store;
use rustok_ui::{App, Msg, Session};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

pub struct ConsoleOptions {
    pub db_url: String,
    pub tenant: String,
    pub actor: String,
    pub read_only: bool,
    /// Draw one frame and exit (to measure start-up from outside).
    pub exit_after_first_frame: bool,
    /// Where the Sessions view finds the live SSH sessions (the CLI passes the SSH servers
    /// running from the data directory).
    pub sessions: Arc<dyn LiveSessions>,
    /// `--stream` / `--stream-name`: the console's relay streams to JetStream (the config
    /// file's `stream` applies where unset).
    pub stream_url: Option<String>,
    pub stream_name: Option<String>,
}

/// A terminal of this process: any ratatui backend (crossterm on stdout; a sink in the
/// live-ingest bench), a stream of crossterm events, and a future that ends the session.
pub struct Local<'a, B: Backend, I> {
    terminal: &'a mut Terminal<B>,
    input: I,
    stop: Pin<Box<dyn Future<Output = ()> + Send + 'a>>,
}

impl<'a, B: Backend, I> Local<'a, B, I> {
    pub fn new(
        terminal: &'a mut Terminal<B>,
        input: I,
        stop: impl Future<Output = ()> + Send + 'a,
    ) -> Self {
        Local {
            terminal,
            input,
            stop: Box::pin(stop),
        }
    }
}

impl<B, I> Transport for Local<'_, B, I>
where
    B: Backend + Send,
    I: futures_util::Stream<Item = std::io::Result<Event>> + Unpin + Send,
{
    type Backend = B;

    fn terminal(&mut self) -> &mut Terminal<B> {
        self.terminal
    }

    async fn next(&mut self) -> Result<Step, ConsoleError> {
        tokio::select! {
            _ = &mut self.stop => Ok(Step::End(None)),
            ev = self.input.next() => match ev {
                Some(Ok(e)) => Ok(Step::Input(match to_msg(e) {
                    Some(m) => Input { msgs: vec![m], warnings: Vec::new(), typed: true },
                    None => Input::default(),
                })),
                Some(Err(e)) => Err(ConsoleError::Input(e)),
                None => Ok(Step::End(None)),
            },
        }
    }

    async fn deliver(&mut self) -> Result<(), ConsoleError> {
        // `Terminal::draw` has written and flushed the frame.
        Ok(())
    }
}

pub async fn run(opts: ConsoleOptions) -> Result<(), RuntimeError> {
    let started = std::time::Instant::now();
    let store = Store::connect(&opts.db_url).await?;
    let (settings, bus, relay) = crate::runtime::stream::console_services(
        &store,
        opts.stream_url.as_deref(),
        opts.stream_name.as_deref(),
    );
    let Settings {
        config,
        keymap,
        themes,
        warnings,
    } = settings;
    let delay = std::env::var("RUSTOK_TEST_COMMAND_DELAY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(Duration::from_millis);
    let (queue, _worker) = ActionQueue::spawn(
        store.clone(),
        Some(relay.waker()),
        QueueOptions {
            delay,
            ..QueueOptions::default()
        },
    );
    let mut actor = Actor::new(opts.actor.clone());
    // On an installation with no staff yet the first handle becomes the owner, as in the CLI.
    // Then every read goes through the session's authorized reads; an unknown or inactive
    // staff member gets no console at all (one line, exit 1). The staff count, the member by
    // handle and the tenant by slug: the only queries before the first frame, none of which
    // grows with the data.
    store.bootstrap_owner(&opts.actor).await?;
    let reads = Reads::new(store.clone(), opts.actor.clone());
    let role = reads.role().await?;
    let tenant = open_tenant(&reads, &queue, &actor, &opts.tenant, FirstUse::Demo).await?;
    let sub = bus.subscribe();

    let mut guard = terminal::Guard::enter().map_err(ConsoleError::Open)?;
    let size = guard
        .terminal
        .size()
        .map(|s| (s.width, s.height))
        .unwrap_or((80, 24));
    // The role shown is the staff member's as stored (the store checks it on every command);
    // the support role is read-only.
    let session = Session {
        tenant: tenant.clone(),
        actor: opts.actor.clone(),
        role: role.to_string(),
        database: store.url().to_string(),
        read_only: opts.read_only || config.read_only || role == rustok_domain::rbac::Role::Support,
    };
    let session_read_only = session.read_only;
    let mut app = App::new(session, &config, keymap, themes, size);
    if let Some(layout) = load_layout(&opts.actor) {
        app.restore_layout(&layout);
    }
    for w in warnings {
        app.warn(w);
    }
    // A read-only session's commands are refused by the store too, not only by the keys the
    // console offers (as over SSH).
    actor = actor.read_only(session_read_only);
    let (mut exec, rx) = Executor::start(store.clone(), queue, actor, role, tenant, Exports::Files);
    exec.reads = exec.reads.clone().with_live_sessions(opts.sessions.clone());
    // A deliberate panic after the first frame, to check from outside that a panic restores
    // the terminal (tests/terminal_restore.rs; docs/RELIABILITY.md). Off unless set.
    let debug_panic = std::env::var("RUSTOK_DEBUG_PANIC").ok();
    let (stop_relay, stop_rx) = watch::channel(false);
    let (health_tx, health) = watch::channel(None);
    let mut relay_task = None;
    let mut first_frame = None;
    // Everything that reads the data starts once the first frame is on screen: the opening
    // pane's queries (App::init), the relay (which may have a backlog to deliver), the live
    // feed and the health check. The first frame shows the layout with "…" where numbers go.
    let background = |exec: &mut Executor, app: &mut App| {
        first_frame = Some(started.elapsed());
        // What every process commits (other consoles included) reaches this console's bus
        // through the live feed (LISTEN/NOTIFY on PostgreSQL, polling on SQLite). The local
        // relay publishes this process's events too; subscriptions drop the second copy.
        crate::runtime::feed::spawn_to_bus(
            store.clone(),
            bus.clone(),
            crate::runtime::FeedConfig::default(),
            stop_relay.subscribe(),
        );
        relay_task = Some({
            let relay = relay.clone();
            tokio::spawn(async move { relay.run(stop_rx).await })
        });
        // The status bar says when the database stops answering, and when it is back.
        tokio::spawn(crate::runtime::health::watch_database(
            store.clone(),
            Duration::from_secs(2),
            Duration::from_secs(3),
            move |status| {
                health_tx.send_replace(status);
            },
            stop_relay.subscribe(),
        ));
        for fx in app.init() {
            exec.run(fx);
        }
        if debug_panic.as_deref() == Some("after-first-frame") && !opts.exit_after_first_frame {
            panic!(
                "RUSTOK_DEBUG_PANIC=after-first-frame: a deliberate panic, to check that the terminal is restored"
            );
        }
    };
    let mut sigterm = signal(SignalKind::terminate());
    let mut sighup = signal(SignalKind::hangup());
    let mut sigint = signal(SignalKind::interrupt());
    let stop = async move {
        tokio::select! {
            _ = recv_signal(&mut sigterm) => {}
            _ = recv_signal(&mut sighup) => {}
            _ = recv_signal(&mut sigint) => {}
        }
    };
    // If the loop cannot end on a signal (its input stuck), the process ends anyway.
    let watchdog = tokio::spawn(leave_if_stuck_after_a_signal());
    let mut local = Local::new(
        &mut *guard.terminal,
        TtyInput::new(EventStream::new()),
        stop,
    );
    let result = console::run(
        Console {
            app: &mut app,
            exec,
            transport: &mut local,
            rx,
            sub,
            health,
        },
        LoopOptions {
            exit_after_first_frame: opts.exit_after_first_frame,
        },
        background,
        |_| {},
    )
    .await;
    watchdog.abort();
    drop(local);
    drop(guard); // restore the terminal before anything else is printed
    let _ = stop_relay.send(true);
    if let Some(task) = relay_task {
        let _ = tokio::time::timeout(Duration::from_secs(2), task).await;
    }
    if opts.exit_after_first_frame
        && let Some(t) = first_frame
    {
        // For scripts/startup.sh: the console's own clock, from the start of `run` (after
        // argument parsing and the runtime) to the end of the first frame's write.
        eprintln!("first frame after {:.1} ms", t.as_secs_f64() * 1000.0);
    }
    result.map(drop).map_err(RuntimeError::from)
}

/// How long after SIGTERM, SIGHUP or SIGINT the console may take to end by itself before
/// [`leave_if_stuck_after_a_signal`] ends the process.
pub const STUCK_AFTER_SIGNAL: Duration = Duration::from_secs(5);

/// The last resort: crossterm's event source can spin for ever inside one poll on a terminal
/// that hung up (read(2) answering 0 again and again: crossterm issue #793), and the console
/// loop, stuck in it, never sees the signal that says so. Runs beside the loop on the
/// runtime's workers; when the loop has not ended [`STUCK_AFTER_SIGNAL`] after a signal, the
/// process exits with 128 + the signal. Nothing is lost: every command is its own
/// transaction, and the terminal this could restore is gone.
async fn leave_if_stuck_after_a_signal() {
    let (mut term, mut hup, mut int) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
        signal(SignalKind::interrupt()),
    );
    let code = tokio::select! {
        _ = recv_signal(&mut term) => 128 + 15,
        _ = recv_signal(&mut hup) => 128 + 1,
        _ = recv_signal(&mut int) => 128 + 2,
    };
    tokio::time::sleep(STUCK_AFTER_SIGNAL).await;
    tracing::error!(
        code,
        "the console did not end within {STUCK_AFTER_SIGNAL:?} of a signal (its terminal gone?): exiting"
    );
    std::process::exit(code);
}

/// The terminal's input, as crossterm reads it — unless the terminal has hung up (the SSH
/// connection or the terminal window it ran in is gone): then the input ends, and with it the
/// console, before crossterm is asked (it would spin reading a hung-up terminal; see
/// [`leave_if_stuck_after_a_signal`]).
pub struct TtyInput<S> {
    events: S,
    /// Standard input when it is the terminal (crossterm reads it then), else nothing to ask.
    fd: Option<std::os::fd::RawFd>,
}

impl<S> TtyInput<S> {
    pub fn new(events: S) -> Self {
        let tty = unsafe { libc::isatty(libc::STDIN_FILENO) } == 1;
        TtyInput {
            events,
            fd: tty.then_some(libc::STDIN_FILENO),
        }
    }
}

/// Whether the terminal `fd` has hung up (or is not usable any more), without waiting.
fn hung_up(fd: std::os::fd::RawFd) -> bool {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let n = unsafe { libc::poll(&mut p, 1, 0) };
    n > 0 && p.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0
}

impl<S> futures_util::Stream for TtyInput<S>
where
    S: futures_util::Stream<Item = std::io::Result<Event>> + Unpin,
{
    type Item = std::io::Result<Event>;

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        if self.fd.is_some_and(hung_up) {
            return std::task::Poll::Ready(None);
        }
        self.events.poll_next_unpin(cx)
    }
}

fn to_msg(e: Event) -> Option<Msg> {
    match e {
        Event::Key(k) => Some(Msg::Key(k)),
        Event::Paste(s) => Some(Msg::Paste(s)),
        Event::Resize(w, h) => Some(Msg::Resize(w, h)),
        _ => None,
    }
}

#[cfg(unix)]
use tokio::signal::unix::{Signal, SignalKind, signal as unix_signal};

#[cfg(unix)]
fn signal(kind: SignalKind) -> Option<Signal> {
    unix_signal(kind).ok()
}

#[cfg(unix)]
async fn recv_signal(s: &mut Option<Signal>) {
    match s {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending::<()>().await,
    }
}
