//! JetStream throughput and lag (docs/PERFORMANCE.md, "Streaming to JetStream", issue 19):
//!
//! 1. events/s relayed to JetStream — `Relay::drain_streams` over N pending events of a seeded
//!    SQLite database (`rustok seed --demo --scale N/2`) — against a plain async-nats loop
//!    publishing the same messages (same payloads, `Nats-Msg-Id`s, batches of 256 whose acks
//!    are awaited together) to a stream of its own on the same server;
//! 2. the lag under 1,000 commands/s: a running relay with the stream while node creations
//!    are committed at 1,000/s for 10 s; for every message a core subscriber receives, the time
//!    from the event's `occurred_at` (its commit) to its arrival.
//!
//! ```sh
//! cargo build --release && cargo run --release --example stream_bench -- [--events 20000] \
//!     [--pg postgres://postgres@127.0.0.1:5432/postgres] [--rate 1000]
//! ```
//!
//! With `--pg` the database is a fresh PostgreSQL one on that server (dropped after), else a
//! temporary SQLite file. Commands are committed by 8 tasks, each at `rate / 8` per second.
//!
//! It starts its own `nats-server -js` (Debian's) on a free port in a temp dir.

use async_nats::jetstream::{self, message::PublishMessage, stream};
use futures_util::StreamExt;
use futures_util::future::join_all;
use rustok::runtime::{Bus, JetStream, Relay, RelayConfig, StreamSettings};
use rustok_domain::content::{BodyFormat, NodeDraft, NodeKind};
use rustok_domain::{Actor, Command, CommandEnvelope, Locale, NodeId};
use rustok_store::{EventFilter, Store};
use std::process::{Command as Process, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn settings(url: &str, stream: &str) -> StreamSettings {
    StreamSettings {
        url: url.into(),
        stream: stream.into(),
        subjects: vec!["rustok.>".into()],
        max_attempts: 1000,
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let events = arg("--events", 20_000);
    let dir = tempfile::tempdir()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut nats = Process::new("nats-server")
        .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
        .arg(dir.path().join("nats"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let url = format!("nats://127.0.0.1:{port}");
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // A seeded database: N/2 nodes and N/2 orders, their events pending.
    let pg = std::env::args()
        .collect::<Vec<_>>()
        .windows(2)
        .find(|w| w[0] == "--pg")
        .map(|w| w[1].clone());
    let db = match &pg {
        Some(admin) => {
            use sea_orm::ConnectionTrait;
            let name = format!("rustok_bench_{}", uuid::Uuid::now_v7().simple());
            let conn = sea_orm::Database::connect(admin.as_str()).await?;
            conn.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await?;
            let (base, _) = admin.rsplit_once('/').expect("a database in the URL");
            format!("{base}/{name}")
        }
        None => format!("sqlite://{}", dir.path().join("bench.db").display()),
    };
    let exe = std::env::current_exe()?;
    let rustok = exe
        .parent()
        .and_then(|p| p.parent())
        .unwrap()
        .join("rustok");
    let status = Process::new(&rustok)
        .args([
            "--db",
            &db,
            "seed",
            "--demo",
            "--scale",
            &(events / 2).to_string(),
        ])
        .env("RUSTOK_DATA_DIR", dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    assert!(status.success(), "seed failed");
    let store = Store::connect(&db).await?;
    let relay = Relay::new(store.clone(), Bus::new(1024), RelayConfig::default())
        .with_stream(Arc::new(JetStream::new(settings(&url, "BENCH_RELAY"))));
    // Registers the stream, delivers the outbox to the bus (writing the stream's deliveries).
    relay.drain().await?;
    let all = store
        .list_events(&EventFilter {
            limit: u64::MAX / 2,
            ..Default::default()
        })
        .await?;
    let n = all.len();
    let started = Instant::now();
    let passes = relay.drain_streams().await?;
    let relayed = started.elapsed();
    assert_eq!(passes[0].1.delivered, n, "{passes:?}");

    // The plain loop: the same messages, the same batching, a stream of its own.
    let client = async_nats::connect(url.as_str()).await?;
    let js = jetstream::new(client.clone());
    js.get_or_create_stream(stream::Config {
        name: "BENCH_PLAIN".into(),
        subjects: vec!["plain.>".into()],
        storage: stream::StorageType::File,
        ..Default::default()
    })
    .await?;
    let started = Instant::now();
    for batch in all.chunks(256) {
        let mut acks = Vec::with_capacity(batch.len());
        for e in batch {
            let payload = serde_json::to_vec(&e.envelope)?;
            let msg = PublishMessage::build()
                .payload(payload.into())
                .message_id(e.envelope.id.to_string());
            acks.push(
                js.send_publish(format!("plain.acme.{}", e.envelope.event_type), msg)
                    .await?,
            );
        }
        for r in join_all(acks.into_iter().map(std::future::IntoFuture::into_future)).await {
            r?;
        }
    }
    let plain = started.elapsed();
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    println!(
        "{n} events: relayed to JetStream in {:.2} s ({:.0} events/s); plain async-nats loop {:.2} s ({:.0} events/s); plain/relay time ratio {:.2}",
        relayed.as_secs_f64(),
        rate(relayed),
        plain.as_secs_f64(),
        rate(plain),
        relayed.as_secs_f64() / plain.as_secs_f64()
    );

    // Lag under 1,000 commands/s for 10 s, the relay running with the stream.
    let tenant = store
        .tenant_by_slug("default")
        .await?
        .expect("seeded tenant");
    let relay = Arc::new(
        Relay::new(store.clone(), Bus::new(16_384), RelayConfig::default())
            .with_stream(Arc::new(JetStream::new(settings(&url, "BENCH_RELAY")))),
    );
    let mut sub = client.subscribe("rustok.>").await?;
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn({
        let relay = relay.clone();
        async move { relay.run(stop_rx).await }
    });
    let lags = tokio::spawn(async move {
        let mut lags = Vec::new();
        while let Ok(Some(m)) = tokio::time::timeout(Duration::from_secs(5), sub.next()).await {
            let v: serde_json::Value = serde_json::from_slice(&m.payload).unwrap();
            let at: chrono::DateTime<chrono::Utc> =
                serde_json::from_value(v["occurred_at"].clone()).unwrap();
            lags.push((chrono::Utc::now() - at).num_microseconds().unwrap_or(0) as f64 / 1000.0);
        }
        lags
    });
    let rate = arg("--rate", 1000);
    let tasks = 8u64;
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..tasks {
        let (store, waker) = (store.clone(), relay.waker());
        let tenant = tenant.id;
        workers.push(tokio::spawn(async move {
            let every = Duration::from_secs_f64(tasks as f64 / rate as f64);
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let mut sent = 0u64;
            while started.elapsed() < Duration::from_secs(10) {
                tick.tick().await;
                let env = CommandEnvelope::new(
                    tenant,
                    Actor::new("owner"),
                    Command::CreateNode(NodeDraft {
                        id: NodeId::new_v7(),
                        kind: NodeKind::Post,
                        locale: "en".parse::<Locale>().unwrap(),
                        title: format!("Lag {w} {sent}"),
                        slug: None,
                        excerpt: None,
                        body: "x".into(),
                        format: BodyFormat::Plain,
                    }),
                );
                store.execute(&env, chrono::Utc::now()).await.unwrap();
                waker.notify_one();
                sent += 1;
            }
            sent
        }));
    }
    let mut sent = 0u64;
    for w in workers {
        sent += w.await?;
    }
    let took = started.elapsed();
    let mut lags = lags.await?;
    stop.send(true)?;
    task.await?;
    lags.sort_by(f64::total_cmp);
    let q = |p: f64| lags[((lags.len() as f64 - 1.0) * p) as usize];
    println!(
        "lag under {:.0} commands/s ({sent} in {:.1} s): {} messages, commit → in the stream p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        sent as f64 / took.as_secs_f64(),
        took.as_secs_f64(),
        lags.len(),
        q(0.5),
        q(0.99),
        q(1.0)
    );
    let _ = nats.kill();
    let _ = nats.wait();
    store.close().await.ok();
    if let (Some(admin), Some((_, name))) = (&pg, db.rsplit_once('/')) {
        use sea_orm::ConnectionTrait;
        let conn = sea_orm::Database::connect(admin.as_str()).await?;
        conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await?;
    }
    Ok(())
}
