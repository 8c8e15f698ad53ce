//! The seed's Task 4.3 benchmarks: tenant cache (hit, miss, eviction), event bus (publish,
//! dispatch, validation), and state machine transitions (order and node).
//! Run: `cargo bench --bench domain`.

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use rustok::runtime::{Bus, BusMsg};
use rustok_domain::commerce::{
    InventoryPolicy, Order, OrderDraft, PaymentOutcome, Product, ProductDraft,
};
use rustok_domain::content::{BodyFormat, Node, NodeAction, NodeDraft, NodeKind};
use rustok_domain::event::{DomainEvent, EnvelopeMeta, EventEnvelope, LiveEvent, NodeVersion};
use rustok_domain::{
    Currency, EventId, Money, NodeId, OrderId, ProductId, Tenant, TenantCache, TenantId, VariantId,
};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn tenant(i: u64) -> Tenant {
    Tenant::create(
        TenantId::new_v7(),
        &format!("t{i}"),
        "T",
        "en".parse().unwrap(),
        Utc::now(),
    )
    .unwrap()
    .0
}

fn tenant_cache(c: &mut Criterion) {
    let mut g = c.benchmark_group("tenant_cache");
    let now = Instant::now();
    let tenants: Vec<Tenant> = (0..1_000).map(tenant).collect();
    let mut cache = TenantCache::new(1_000, Duration::from_secs(300));
    for t in &tenants {
        cache.insert(t.clone(), now);
    }
    let mut i = 0usize;
    g.bench_function("hit", |b| {
        b.iter(|| {
            i = (i + 1) % tenants.len();
            black_box(cache.get(tenants[i].id, now).is_some())
        })
    });
    g.bench_function("hit_by_slug", |b| {
        b.iter(|| {
            i = (i + 1) % tenants.len();
            black_box(cache.get_by_slug(&tenants[i].slug, now).is_some())
        })
    });
    let absent = TenantId::new_v7();
    g.bench_function("miss", |b| {
        b.iter(|| black_box(cache.get(absent, now).is_none()))
    });
    let extra: Vec<Tenant> = (1_000..2_000).map(tenant).collect();
    g.bench_function("insert_with_eviction", |b| {
        b.iter(|| {
            i = (i + 1) % extra.len();
            cache.insert(extra[i].clone(), now);
        })
    });
    g.finish();
}

fn envelope() -> LiveEvent {
    LiveEvent::new(
        1,
        EventEnvelope::new(
            &DomainEvent::NodeRestored(NodeVersion { version: 2 }),
            EnvelopeMeta {
                id: EventId::new_v7(),
                tenant_id: TenantId::new_v7(),
                aggregate_id: uuid::Uuid::now_v7(),
                actor: "bench".into(),
                occurred_at: Utc::now(),
                correlation_id: None,
                causation_id: None,
            },
        ),
    )
}

fn event_bus(c: &mut Criterion) {
    let mut g = c.benchmark_group("event_bus");
    let e = envelope();
    let bus = Bus::new(16_384);
    g.bench_function("publish_no_subscriber", |b| {
        b.iter(|| black_box(bus.publish(e.clone())))
    });
    // Distinct events (the bus publishes an id once): 4,096 of them in turn, more than the
    // bus's window of 1,024 ids, so each is new again when its turn comes.
    let bus = Bus::new(1024);
    let mut sub = bus.subscribe();
    let events: Vec<_> = (0..4096)
        .map(|i| {
            let mut x = (*e.event).clone();
            x.id = rustok_domain::EventId::new_v7();
            LiveEvent::new(i + 2, x)
        })
        .collect();
    let mut next = events.iter().cycle();
    g.bench_function("dispatch_publish_and_receive", |b| {
        b.iter(|| {
            bus.publish(next.next().cloned().unwrap_or_else(|| e.clone()));
            black_box(matches!(sub.try_recv(), Some(BusMsg::Event(_))))
        })
    });
    let plain = (*e.event).clone();
    g.bench_function("validate_envelope", |b| {
        b.iter(|| black_box(plain.validate().is_ok()))
    });
    g.finish();
}

fn state_machines(c: &mut Criterion) {
    let mut g = c.benchmark_group("state_machines");
    let t = TenantId::new_v7();
    let now = Utc::now();
    let draft = NodeDraft {
        id: NodeId::new_v7(),
        kind: NodeKind::Article,
        locale: "en".parse().unwrap(),
        title: "Bench".into(),
        slug: None,
        excerpt: None,
        body: "body".into(),
        format: BodyFormat::Markdown,
    };
    let (node, _) = Node::create(t, draft, "bench", now).unwrap();
    g.bench_function("node_publish_archive_restore", |b| {
        b.iter(|| {
            let (n, _) = node.transition(NodeAction::Publish, now).unwrap();
            let (n, _) = n.transition(NodeAction::Archive, now).unwrap();
            black_box(n.transition(NodeAction::Restore, now).unwrap())
        })
    });
    let product_draft = ProductDraft {
        id: ProductId::new_v7(),
        variant_id: VariantId::new_v7(),
        locale: "en".parse().unwrap(),
        title: "Mug".into(),
        handle: None,
        status: None,
        sku: "MUG".into(),
        variant_title: None,
        price: Money::new(1250, Currency::USD),
        inventory_policy: InventoryPolicy::Deny,
        stock: 1_000_000,
        low_stock_threshold: None,
    };
    let (product, _) = Product::create(t, product_draft, now).unwrap();
    let catalog = vec![product];
    g.bench_function("order_place_confirm_pay_ship_deliver", |b| {
        b.iter(|| {
            let draft = OrderDraft {
                id: OrderId::new_v7(),
                customer: None,
                items: vec![("MUG".into(), 2)],
            };
            let (o, _) = Order::create(t, draft, &catalog, now).unwrap();
            let (o, _, _) = o.confirm(now).unwrap();
            let paid = PaymentOutcome::Succeeded {
                reference: "ch_1".into(),
                amount: o.total,
            };
            let (o, _, _) = o.record_payment(paid, now).unwrap();
            let (o, _, _) = o.ship("DHL", "JD1", now).unwrap();
            black_box(o.deliver(now).unwrap())
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = tenant_cache, event_bus, state_machines
}
criterion_main!(benches);
