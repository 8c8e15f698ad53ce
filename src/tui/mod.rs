//! The console in the local terminal: one select loop over terminal input, replies from the
//! action queue and store, and events from the bus. Every pending message is applied before
//! drawing, frames that only show events or replies are at most 60 per second (a frame that
//! follows input is drawn at once), and nothing is drawn when nothing changed.

pub mod audit;
mod effects;
pub mod terminal;

pub use effects::{Executor, load_layout};

use crate::cli::{CliError, DEFAULT_TENANT};
use crate::runtime::bus::Subscription;
use crate::runtime::{ActionQueue, Bus, QueueOptions, Relay, RelayConfig};
use futures_util::StreamExt;
use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::crossterm::event::{Event, EventStream};
use rustok_domain::{Actor, Command, CommandEnvelope, DomainError, Tenant, TenantId};
use rustok_store::Store;
use rustok_ui::{App, Config, Keymap, Msg, Session, Theme};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, sleep_until};

const FRAME: Duration = Duration::from_millis(16);
const TICK: Duration = Duration::from_millis(80);

pub struct ConsoleOptions {
    pub db_url: String,
    pub tenant: String,
    pub actor: String,
    pub read_only: bool,
    /// Draw one frame and exit (to measure start-up from outside).
    pub exit_after_first_frame: bool,
}

/// Config, keymap and themes from the config directory; problems become warnings on screen
/// (the console still opens, with defaults).
pub(crate) fn load_settings() -> (Config, Keymap, Vec<(String, Theme)>, Vec<String>) {
    load_settings_from(&crate::config::config_dir())
}

/// The settings in `dir`; every file that is present but unusable gives a warning naming the
/// file and the reason, and its defaults apply.
fn load_settings_from(
    dir: &std::path::Path,
) -> (Config, Keymap, Vec<(String, Theme)>, Vec<String>) {
    let mut warnings = Vec::new();
    let config = match read_setting(&dir.join("config.toml"), &mut warnings) {
        Some((p, text)) => Config::parse(&text).unwrap_or_else(|e| {
            warnings.push(format!("{p}: {e}"));
            Config::default()
        }),
        None => Config::default(),
    };
    let keymap = match read_setting(&dir.join("keymap.toml"), &mut warnings) {
        Some((p, text)) => Keymap::with_overrides(&text).unwrap_or_else(|e| {
            warnings.push(format!("{p}: {e}"));
            Keymap::default()
        }),
        None => Keymap::default(),
    };
    let mut themes = rustok_ui::theme::builtin();
    if let Ok(entries) = std::fs::read_dir(dir.join("themes")) {
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for path in paths {
            if path.extension().is_none_or(|e| e != "toml") {
                continue;
            }
            if let Some((p, text)) = read_setting(&path, &mut warnings) {
                match rustok_ui::theme::parse(&text) {
                    Ok((name, theme)) => {
                        themes.retain(|(n, _)| *n != name);
                        themes.push((name, theme));
                    }
                    Err(e) => warnings.push(format!("{p}: {e}")),
                }
            }
        }
    }
    (config, keymap, themes, warnings)
}

/// Reads a settings file: `None` when it does not exist (defaults apply silently), or when it
/// cannot be used (unreadable, not UTF-8, larger than 1 MB, a device or a directory) — then
/// with a warning that names the file and the reason. Never reads more than 1 MB + 1 byte of
/// it (`crate::input::read_bounded`). The path comes back terminal-safe for the caller's
/// messages.
fn read_setting(path: &std::path::Path, warnings: &mut Vec<String>) -> Option<(String, String)> {
    use crate::input::{MAX_SETTINGS_FILE_BYTES, ReadError, read_bounded};
    let shown = rustok_domain::text::printable(&path.display().to_string());
    let reason = match read_bounded(path, MAX_SETTINGS_FILE_BYTES) {
        Err(e) if e.is_not_found() => return None,
        Ok(b) => match String::from_utf8(b) {
            Ok(text) => return Some((shown, text)),
            Err(e) => format!(
                "not UTF-8 text (bad byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        },
        Err(ReadError::TooLarge { size: Some(n), .. }) => {
            format!("{n} bytes is more than a settings file needs (limit 1 MB)")
        }
        Err(ReadError::TooLarge { size: None, .. }) => {
            "more than a settings file needs (limit 1 MB)".to_string()
        }
        Err(ReadError::Io(e)) => format!("cannot read it: {e}"),
        Err(e) => e.to_string(),
    };
    warnings.push(format!("{shown}: ignored, {reason}"));
    None
}

/// The tenant the console opens in; on an empty database, the default tenant with demo data.
/// (Public for the live-ingest bench, which opens the console the same way.)
pub async fn open_tenant(
    store: &Store,
    queue: &ActionQueue,
    slug: &str,
    actor: &Actor,
) -> Result<Tenant, CliError> {
    if let Some(t) = store.tenant_by_slug(slug).await? {
        return Ok(t);
    }
    if slug != DEFAULT_TENANT {
        return Err(DomainError::not_found("tenant", format!("'{slug}'")).into());
    }
    let fresh = store.tenants().await?.is_empty();
    let id = TenantId::new_v7();
    let cmd = Command::CreateTenant {
        id,
        slug: DEFAULT_TENANT.into(),
        name: "Demo Store".into(),
        default_locale: "en".parse()?,
    };
    queue
        .execute(CommandEnvelope::new(id, actor.clone(), cmd))
        .await?;
    let tenant = store
        .tenant_by_slug(DEFAULT_TENANT)
        .await?
        .ok_or_else(|| DomainError::not_found("tenant", DEFAULT_TENANT))?;
    if fresh {
        crate::demo::seed(queue, &tenant, actor).await?;
        crate::demo::ensure_products(queue, store, &tenant, actor).await?;
        crate::demo::seed_orders(queue, &tenant, actor).await?;
    }
    Ok(tenant)
}

pub async fn run(opts: ConsoleOptions) -> Result<(), CliError> {
    let started = std::time::Instant::now();
    let store = Store::connect(&opts.db_url).await?;
    let (config, keymap, themes, warnings) = load_settings();
    let bus = Bus::new(config.event_buffer.max(1024));
    let relay = Arc::new(Relay::new(
        store.clone(),
        bus.clone(),
        RelayConfig::default(),
    ));
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
    let actor = Actor::new(opts.actor.clone());
    // The tenant by slug, the staff count (first use) and the member by handle: the only
    // queries before the first frame, none of which grows with the data.
    let tenant = open_tenant(&store, &queue, &opts.tenant, &actor).await?;
    // Every read goes through the session's authorized reads; an unknown or inactive staff
    // member gets no console at all (one line, exit 1).
    // (On an installation with no staff yet the first handle becomes the owner, as in the CLI.)
    store.bootstrap_owner(&opts.actor).await?;
    let reads = crate::runtime::Reads::new(store.clone(), opts.actor.clone());
    let role = reads.role().await?;
    let sub = bus.subscribe();

    let mut guard = terminal::Guard::enter()
        .map_err(|e| CliError::Input(format!("cannot open the terminal: {e}")))?;
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
    let (tx, rx) = mpsc::unbounded_channel::<Msg>();
    // Monitoring waits for its first interval or a change before it reads anything.
    let audit = audit::AuditMonitor::start(
        store.clone(),
        actor.clone().read_only(session_read_only),
        tx.clone(),
        true,
        audit::interval(),
    );
    // A read-only session's commands are refused by the store too, not only by the keys the
    // console offers (as over SSH).
    let exec = Executor::new(
        store.clone(),
        queue,
        actor.read_only(session_read_only),
        role,
        tenant,
        tx.clone(),
        audit,
    );
    // A deliberate panic after the first frame, to check from outside that a panic restores
    // the terminal (tests/terminal_restore.rs; docs/RELIABILITY.md). Off unless set.
    let debug_panic = std::env::var("RUSTOK_DEBUG_PANIC").ok();
    let (stop_relay, stop_rx) = watch::channel(false);
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
        let tx = tx.clone();
        tokio::spawn(crate::runtime::health::watch_database(
            store.clone(),
            Duration::from_secs(2),
            Duration::from_secs(3),
            move |status| {
                let _ = tx.send(Msg::DatabaseStatus(status));
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
    let stop = async {
        tokio::select! {
            _ = recv_signal(&mut sigterm) => {}
            _ = recv_signal(&mut sighup) => {}
            _ = recv_signal(&mut sigint) => {}
        }
    };
    let result = console_loop(
        Console {
            app: &mut app,
            exec,
            terminal: &mut guard.terminal,
            input: EventStream::new(),
            rx,
            sub,
        },
        LoopOptions {
            exit_after_first_frame: opts.exit_after_first_frame,
        },
        stop,
        background,
        |_| {},
    )
    .await;
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
    result
}

/// What the select loop drives: the app, its effects, a terminal, input events, the app's
/// reply channel and a bus subscription.
pub struct Console<'a, B: Backend, I> {
    pub app: &'a mut App,
    pub exec: Executor,
    pub terminal: &'a mut Terminal<B>,
    pub input: I,
    pub rx: mpsc::UnboundedReceiver<Msg>,
    pub sub: Subscription,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct LoopOptions {
    /// Stop after the first frame.
    pub exit_after_first_frame: bool,
}

/// One frame, as reported to the loop's observer.
#[derive(Debug, Clone, Copy)]
pub struct FrameReport {
    /// When the frame's write to the terminal finished.
    pub done: Instant,
    /// Key events applied to the app before this frame, since the loop started.
    pub keys: u64,
    /// Bus events applied to the app before this frame, since the loop started.
    pub events: u64,
    /// How long drawing (render and write) took.
    pub draw: Duration,
}

/// The console's select loop. Every message that is ready is applied before drawing; a
/// frame that follows input is drawn at once, while frames that only show bus events, query
/// replies or ticks are at most one per [`FRAME`]; nothing is drawn when nothing changed.
/// `first_frame` runs once, right after the first frame is written; `on_frame` after every
/// frame. Returns when the app quits, `stop` resolves, input ends, or drawing fails.
pub async fn console_loop<B, I>(
    c: Console<'_, B, I>,
    opts: LoopOptions,
    stop: impl std::future::Future<Output = ()>,
    first_frame: impl FnOnce(&mut Executor, &mut App),
    mut on_frame: impl FnMut(&FrameReport),
) -> Result<(), CliError>
where
    B: Backend,
    I: futures_util::Stream<Item = std::io::Result<Event>> + Unpin,
{
    let Console {
        app,
        mut exec,
        terminal,
        mut input,
        mut rx,
        mut sub,
    } = c;
    let mut first_frame = Some(first_frame);
    tokio::pin!(stop);
    let mut dirty = true;
    let mut next_frame = Instant::now();
    let mut keys = 0u64;
    let mut events = 0u64;
    let mut ticker = tokio::time::interval(TICK);
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    let mut msgs: Vec<Msg> = Vec::new();
    loop {
        tokio::select! {
            biased;
            _ = sleep_until(next_frame), if dirty => {
                let began = Instant::now();
                if let Err(e) = terminal.draw(|f| app.draw(f)) {
                    return Err(CliError::Input(format!("cannot draw: {e}")));
                }
                let done = Instant::now();
                dirty = false;
                next_frame = done + FRAME;
                if let Some(start) = first_frame.take() {
                    start(&mut exec, app);
                    if opts.exit_after_first_frame {
                        return Ok(());
                    }
                }
                on_frame(&FrameReport { done, keys, events, draw: done - began });
                continue;
            }
            _ = &mut stop => return Ok(()),
            ev = input.next() => match ev {
                Some(Ok(e)) => {
                    if let Some(m) = to_msg(e) {
                        // Input is answered with the next frame at once, not at the next
                        // frame slot: keystroke-to-frame latency is one draw.
                        next_frame = Instant::now();
                        msgs.push(m);
                    }
                }
                Some(Err(e)) => return Err(CliError::Input(format!("terminal input failed: {e}"))),
                None => return Ok(()),
            },
            Some(m) = rx.recv() => msgs.push(m),
            Some(m) = sub.recv() => msgs.extend(exec.admit(m)),
            _ = ticker.tick(), if app.is_busy() => msgs.push(Msg::Tick),
            _ = clock.tick() => msgs.push(Msg::Clock(chrono::Utc::now())),
        }
        // Coalesce: take every other message that is ready now, then apply them all; the
        // frame deadline above draws once for however many arrived. (Terminal input is not
        // drained with now_or_never: crossterm's EventStream would keep that no-op waker.)
        while let Ok(m) = rx.try_recv() {
            msgs.push(m);
        }
        while let Some(m) = sub.try_recv() {
            msgs.extend(exec.admit(m));
        }
        for m in msgs.drain(..) {
            match &m {
                Msg::TenantSwitched(Ok(t)) => exec.tenant = t.clone(),
                Msg::Key(_) | Msg::Paste(_) => keys += 1,
                Msg::Event(_) => events += 1,
                _ => {}
            }
            for fx in app.update(m) {
                if !exec.run(fx) {
                    return Ok(());
                }
            }
            dirty = true;
        }
        if app.should_quit() {
            return Ok(());
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusable_settings_files_are_named_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("config.toml"),
            b"theme = \"nord\"\nevent_buffer = -1\n",
        )
        .unwrap();
        std::fs::write(d.join("keymap.toml"), b"\xff\xfe garbage").unwrap();
        std::fs::create_dir(d.join("themes")).unwrap();
        std::fs::write(d.join("themes/evil.toml"), "name = \"evil\x1b[2J\"\n").unwrap();
        std::fs::write(d.join("themes/big.toml"), vec![b'#'; 2 << 20]).unwrap();
        std::fs::write(d.join("themes/notes.txt"), b"\xff").unwrap();
        let (config, keymap, themes, warnings) = load_settings_from(d);
        assert_eq!(config, Config::default());
        assert_eq!(keymap, Keymap::default());
        assert_eq!(themes.len(), rustok_ui::theme::builtin().len());
        assert_eq!(warnings.len(), 4, "{warnings:#?}");
        let find = |name: &str| {
            warnings
                .iter()
                .find(|w| w.contains(name))
                .unwrap_or_else(|| panic!("no warning for {name}: {warnings:#?}"))
                .clone()
        };
        assert!(
            find("config.toml").ends_with(
                "config.toml: config: line 2: invalid value: integer `-1`, expected usize"
            ),
            "{}",
            find("config.toml")
        );
        assert!(
            find("keymap.toml")
                .ends_with("keymap.toml: ignored, not UTF-8 text (bad byte at offset 0)")
        );
        assert!(
            find("big.toml").contains("ignored, 2097152 bytes is more than a settings file needs")
        );
        assert!(find("evil.toml").contains("theme: "));
        for w in &warnings {
            assert!(!rustok_domain::text::has_control(w), "{w:?}");
        }
        let missing = tempfile::tempdir().unwrap();
        assert!(load_settings_from(missing.path()).3.is_empty());
    }

    /// A settings file that is a link to a device that never ends is ignored at once, not
    /// read (issue 16, item 4).
    #[cfg(unix)]
    #[test]
    fn a_settings_file_that_never_ends_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("config.toml")).unwrap();
        let (config, _, _, warnings) = load_settings_from(dir.path());
        assert_eq!(config, Config::default());
        assert_eq!(warnings.len(), 1, "{warnings:#?}");
        assert!(
            warnings[0].ends_with(
                "config.toml: ignored, it is a character device, not a file, a pipe or a terminal"
            ),
            "{}",
            warnings[0]
        );
    }
}
