//! Live ingest: 10,000 events per second for 10 s into an open Events pane, with a keystroke
//! every 10 ms, through the console's one select loop (`rustok::runtime::console::run`, with
//! the local terminal's transport `rustok::tui::Local`: render coalescing, bus subscription ->
//! `App`, the real draw through crossterm's backend into a sink). Measures, for every keystroke, the time from the key entering the loop's input
//! stream to the end of the first frame that reflects it.
//!
//! Run: `cargo bench --bench live_ingest` (release profile). Knobs (environment):
//! `LIVE_RATE` events per second (10000), `LIVE_SECS` seconds (10), `LIVE_KEY_MS` ms between
//! keystrokes (10).
//!
//! The events go onto the console's bus, where the relay and the live feed put every
//! committed event; the relay and the feed run too (on a temporary SQLite database opened
//! like the console opens one, demo data included) so the loop shares the machine with them.

use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use rustok::runtime::console::{self, Console, FrameReport, LoopOptions};
use rustok::runtime::{
    ActionQueue, Bus, Executor, Exports, FeedConfig, FirstUse, QueueOptions, Reads, Relay,
    RelayConfig, feed::spawn_to_bus, open_tenant,
};
use rustok::tui::Local;
use rustok_domain::Actor;
use rustok_domain::commerce::OrderStatus;
use rustok_domain::event::{
    DomainEvent, EnvelopeMeta, EventEnvelope, LiveEvent, NodeVersion, OrderStatusChanged,
};
use rustok_domain::{EventId, TenantId};
use rustok_store::Store;
use rustok_ui::{App, Config, Keymap, Session};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

const WIDTH: u16 = 120;
const HEIGHT: u16 = 40;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A node or order event of `tenant` (what the demo shop's traffic looks like).
fn event(tenant: TenantId, i: u64) -> LiveEvent {
    let domain = if i.is_multiple_of(2) {
        DomainEvent::NodeRestored(NodeVersion { version: i as i64 })
    } else {
        DomainEvent::OrderStatusChanged(OrderStatusChanged {
            from: OrderStatus::Confirmed,
            to: OrderStatus::Paid,
            version: i as i64,
            reason: None,
        })
    };
    LiveEvent::new(
        i as i64,
        EventEnvelope::new(
            &domain,
            EnvelopeMeta {
                id: EventId::new_v7(),
                tenant_id: tenant,
                aggregate_id: uuid::Uuid::now_v7(),
                actor: "load".into(),
                occurred_at: chrono::Utc::now(),
                correlation_id: None,
                causation_id: None,
            },
        ),
    )
}

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: then only a
    // short smoke run.
    let benching = std::env::args().any(|a| a == "--bench");
    let rate = env_u64("LIVE_RATE", 10_000);
    let secs = if benching {
        env_u64("LIVE_SECS", 10)
    } else {
        1
    };
    let key_every = Duration::from_millis(env_u64("LIVE_KEY_MS", 10).max(1));
    // The console's own runtime: multi-threaded, one worker per core.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run(rate, secs, key_every));
}

async fn run(rate: u64, secs: u64, key_every: Duration) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("live.db").display());
    let store = Store::connect(&url).await.expect("store");
    let config = Config::default();
    let bus = Bus::new(config.event_buffer.max(1024));
    let relay = Arc::new(Relay::new(
        store.clone(),
        bus.clone(),
        RelayConfig::default(),
    ));
    let (queue, _worker) =
        ActionQueue::spawn(store.clone(), Some(relay.waker()), QueueOptions::default());
    let actor = Actor::new("bench");
    store.bootstrap_owner("bench").await.expect("owner");
    let reads = Reads::new(store.clone(), "bench");
    let tenant = open_tenant(&reads, &queue, &actor, "default", FirstUse::Demo)
        .await
        .expect("tenant");
    let (stop_bg, stop_rx) = watch::channel(false);
    let _feed = spawn_to_bus(
        store.clone(),
        bus.clone(),
        FeedConfig::default(),
        stop_bg.subscribe(),
    );
    let relay_task = {
        let relay = relay.clone();
        tokio::spawn(async move { relay.run(stop_rx).await })
    };

    let session = Session {
        tenant: tenant.clone(),
        actor: "bench".into(),
        role: "owner".into(),
        database: url.clone(),
        read_only: false,
    };
    let mut app = App::new(session, &config, Keymap::default(), vec![], (WIDTH, HEIGHT));
    let (exec, rx) = Executor::start(
        store.clone(),
        queue,
        actor,
        rustok_domain::rbac::Role::Owner,
        tenant.clone(),
        Exports::Files,
    );
    let mut terminal = Terminal::with_options(
        CrosstermBackend::new(std::io::sink()),
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, WIDTH, HEIGHT)),
        },
    )
    .expect("terminal");

    // Keystrokes: when each entered the input stream, in order.
    let sent: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let (key_tx, mut key_rx) = mpsc::unbounded_channel::<Event>();
    let input = futures_util::stream::poll_fn(move |cx| key_rx.poll_recv(cx).map(|o| o.map(Ok)));
    let send_key = {
        let sent = sent.clone();
        move |e: Event| {
            sent.lock().unwrap().push(Instant::now());
            let _ = key_tx.send(e);
        }
    };
    // Open the Events pane before the flood starts.
    send_key(key(KeyCode::Char('5')));

    let (done_tx, done_rx) = oneshot::channel::<()>();
    let flood = {
        let bus = bus.clone();
        let tenant = tenant.id;
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let start = Instant::now();
            let total = rate * secs;
            let mut published = 0u64;
            let mut publish_tick = tokio::time::interval(Duration::from_millis(1));
            let mut next_key = start;
            let mut down = true;
            while published < total {
                publish_tick.tick().await;
                let now = Instant::now();
                let due = ((now - start).as_secs_f64() * rate as f64) as u64;
                while published < due.min(total) {
                    bus.publish(event(tenant, published));
                    published += 1;
                }
                if now >= next_key {
                    // Move the selection down and up again: each key changes what is drawn.
                    send_key(key(if down { KeyCode::Down } else { KeyCode::Up }));
                    down = !down;
                    next_key += key_every;
                }
            }
            let elapsed = start.elapsed();
            // Let the last frames land, then stop the loop.
            tokio::time::sleep(Duration::from_millis(200)).await;
            let _ = done_tx.send(());
            (published, elapsed)
        })
    };

    let mut latencies: Vec<Duration> = Vec::new();
    let mut draws: Vec<Duration> = Vec::new();
    let mut measured = 0usize;
    let mut frames = 0u64;
    let mut last_events = 0u64;
    let on_frame = |r: &FrameReport| {
        frames += 1;
        draws.push(r.draw);
        last_events = r.events;
        let sent = sent.lock().unwrap();
        let applied = usize::try_from(r.keys)
            .unwrap_or(usize::MAX)
            .min(sent.len());
        // The first key opens the pane before the flood: not part of the measurement.
        for (i, at) in sent.iter().enumerate().take(applied).skip(measured) {
            if i > 0 {
                latencies.push(r.done - *at);
            }
        }
        measured = measured.max(applied);
    };
    let mut local = Local::new(&mut terminal, input, async {
        let _ = done_rx.await;
    });
    let (_health_tx, health) = watch::channel(None);
    let result = console::run(
        Console {
            app: &mut app,
            exec,
            transport: &mut local,
            rx,
            sub: bus.subscribe(),
            health,
        },
        LoopOptions::default(),
        |_, _| {},
        on_frame,
    )
    .await;
    drop(local);
    result.expect("console loop");
    let (published, elapsed) = flood.await.expect("flood");
    let _ = stop_bg.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(2), relay_task).await;

    let kept = app.event_ring().len();
    let stats = bus.stats();
    latencies.sort();
    draws.sort();
    let keys = sent.lock().unwrap().len().saturating_sub(1);
    println!(
        "live ingest: {published} events in {:.2} s ({:.0} events/s) into the open Events pane, {WIDTH}x{HEIGHT}",
        elapsed.as_secs_f64(),
        published as f64 / elapsed.as_secs_f64()
    );
    println!(
        "  events applied by the console: {last_events} (relay/feed included); lost to lag: {}; kept in the ring: {kept}",
        stats.dropped
    );
    println!(
        "  keystrokes: {keys} sent, {} measured; key-to-frame p50 {} · p99 {} · max {}",
        latencies.len(),
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&latencies, 99.0)),
        ms(latencies.last().copied().unwrap_or_default())
    );
    println!(
        "  frames: {frames} ({:.0}/s); draw (render + write) p50 {} · p99 {} · max {}",
        frames as f64 / (elapsed.as_secs_f64() + 0.5),
        ms(percentile(&draws, 50.0)),
        ms(percentile(&draws, 99.0)),
        ms(draws.last().copied().unwrap_or_default())
    );
    assert_eq!(latencies.len(), keys, "every keystroke reached a frame");
}
