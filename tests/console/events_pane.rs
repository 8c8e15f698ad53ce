//! 50,000 events through the real bus while the Events pane is open: the pane keeps the newest
//! 10,000 in order, and the publisher never waits for the (slower) console.

use rustok::runtime::{Bus, BusMsg};
use rustok_domain::event::{DomainEvent, EnvelopeMeta, EventEnvelope, NodeVersion};
use rustok_domain::{EventId, Tenant, TenantId};
use rustok_ui::{App, Config, Keymap, Msg, Session};
use std::sync::Arc;
use std::time::{Duration, Instant};

const EVENTS: usize = 50_000;
const KEPT: usize = 10_000;

fn tenant() -> Tenant {
    Tenant {
        id: TenantId::new_v7(),
        slug: "acme".into(),
        name: "Acme".into(),
        default_locale: "en".parse().unwrap(),
        is_active: true,
        created_at: chrono::Utc::now(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_thousand_events_keep_the_newest_ten_thousand_without_blocking_the_publisher() {
    let tenant = tenant();
    let session = Session {
        tenant: tenant.clone(),
        actor: "support".into(),
        role: "support".into(),
        database: "test".into(),
        read_only: true,
    };
    let config = Config {
        event_buffer: KEPT,
        ..Config::default()
    };
    let mut app = App::new(session, &config, Keymap::default(), vec![], (120, 40));
    app.init();
    app.update(Msg::Key(ratatui::crossterm::event::KeyEvent::new(
        ratatui::crossterm::event::KeyCode::Char('5'),
        ratatui::crossterm::event::KeyModifiers::NONE,
    )));

    let bus = Bus::new(16_384);
    let mut sub = bus.subscribe();
    let events: Vec<Arc<EventEnvelope>> = (0..EVENTS)
        .map(|i| {
            Arc::new(EventEnvelope::new(
                &DomainEvent::NodeRestored(NodeVersion { version: i as i64 }),
                EnvelopeMeta {
                    id: EventId::new_v7(),
                    tenant_id: tenant.id,
                    aggregate_id: uuid::Uuid::now_v7(),
                    actor: "load".into(),
                    occurred_at: chrono::Utc::now(),
                    correlation_id: None,
                    causation_id: None,
                },
            ))
        })
        .collect();
    let ids: Vec<EventId> = events.iter().map(|e| e.id).collect();

    // The console side: a deliberately slow consumer that also draws now and then.
    let consumer = tokio::spawn(async move {
        let mut backend =
            ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)).unwrap();
        let mut seen = 0usize;
        let mut lagged = 0u64;
        while let Some(msg) = sub.recv().await {
            match msg {
                BusMsg::Event(e) => {
                    app.update(Msg::Event(e));
                    seen += 1;
                    if seen.is_multiple_of(5_000) {
                        backend.draw(|f| app.draw(f)).unwrap();
                        // A console slower than the publisher: the load this test is about.
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                }
                BusMsg::Lagged(n) => {
                    lagged += n;
                    app.update(Msg::BusLagged(n));
                }
            }
            if seen as u64 + lagged == EVENTS as u64 {
                break;
            }
        }
        (app, seen, lagged)
    });

    // The publisher: never awaits, so nothing the consumer does can block it.
    let started = Instant::now();
    for (seq, e) in events.into_iter().enumerate() {
        bus.publish(rustok_domain::event::LiveEvent::new(seq as i64 + 1, e));
    }
    let publish_time = started.elapsed();
    let (app, seen, lagged) = tokio::time::timeout(Duration::from_secs(60), consumer)
        .await
        .expect("the consumer catches up")
        .unwrap();

    let kept: Vec<EventId> = app.event_ring().map(|e| e.id).collect();
    assert_eq!(kept.len(), KEPT, "the ring is bounded");
    assert_eq!(kept, ids[EVENTS - KEPT..], "the newest 10,000, in order");
    let stats = bus.stats();
    assert_eq!(stats.published, EVENTS as u64);
    assert_eq!(stats.dropped, lagged, "every loss is counted");
    eprintln!(
        "published {EVENTS} in {publish_time:?}; the pane received {seen}, lost {lagged} to lag (counted), kept {}",
        kept.len()
    );
}
