//! `TestApp`: the real store, action queue, relay and bus, wired as the console wires them,
//! with helpers that read like the seed's scenarios.

use super::db::TestDb;
use rustok::runtime::{
    ActionQueue, Bus, BusMsg, QueueError, QueueOptions, Relay, RelayConfig, Subscription,
};
use rustok_domain::command::NodeTransition;
use rustok_domain::commerce::OrderCommand;
use rustok_domain::content::{Node, NodeAction, NodeDraft, TranslationInput};
use rustok_domain::event::EventEnvelope;
use rustok_domain::{Actor, Command, CommandEnvelope, NodeId, Tenant};
use rustok_store::{Applied, EventFilter, NodeFilter, Outcome, SearchHit, Store, StoredEvent};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, watch};
use uuid::Uuid;

use rustok_domain::commerce::SandboxGateway;
use rustok_domain::{Order, OrderDraft, OrderId, Product, ProductDraft};
use rustok_store::{OrderFilter, OrderSummary, ProductFilter, StockRow};

pub struct TestApp {
    pub db: TestDb,
    pub store: Store,
    pub queue: ActionQueue,
    pub bus: Bus,
    pub relay: Arc<Relay>,
    pub tenant: Tenant,
    pub actor: Actor,
    sub: Mutex<Subscription>,
    /// The payment gateway the queue charges and refunds through (records every request).
    pub gateway: Arc<SandboxGateway>,
}

/// A relay tuned for tests: quick polling, the production backoff schedule.
pub fn test_relay_config() -> RelayConfig {
    RelayConfig {
        poll: Duration::from_millis(20),
        ..RelayConfig::default()
    }
}

impl TestApp {
    /// Connects (migrating a fresh database), starts the queue, and creates tenant `acme`.
    pub async fn start(db: TestDb) -> TestApp {
        let store = Store::connect(&db.url)
            .await
            .expect("connect test database");
        let bus = Bus::new(16_384);
        let relay = Arc::new(Relay::new(store.clone(), bus.clone(), test_relay_config()));
        let gateway = Arc::new(SandboxGateway::new());
        let options = QueueOptions {
            gateway: gateway.clone(),
            ..QueueOptions::default()
        };
        let (queue, _worker) = ActionQueue::spawn(store.clone(), Some(relay.waker()), options);
        let sub = Mutex::new(bus.subscribe());
        let actor = Actor::new("tester");
        let tenant = create_tenant(&queue, &actor, "acme").await;
        TestApp {
            db,
            store,
            queue,
            bus,
            relay,
            tenant,
            actor,
            sub,
            gateway,
        }
    }

    pub async fn create_tenant(&self, slug: &str) -> Tenant {
        create_tenant(&self.queue, &self.actor, slug).await
    }

    pub async fn exec_in(&self, tenant: &Tenant, command: Command) -> Result<Applied, QueueError> {
        self.queue
            .execute(CommandEnvelope::new(tenant.id, self.actor.clone(), command))
            .await
    }

    pub async fn exec(&self, command: Command) -> Result<Applied, QueueError> {
        self.exec_in(&self.tenant, command).await
    }

    async fn node_cmd(&self, command: Command) -> Result<Node, QueueError> {
        match self.exec(command).await?.outcome {
            Outcome::Node(n) => Ok(n),
            other => panic!("expected a node, got {other:?}"),
        }
    }

    pub async fn create_node(&self, draft: NodeDraft) -> Result<Node, QueueError> {
        self.node_cmd(Command::CreateNode(draft)).await
    }

    pub async fn get_node(&self, id: NodeId) -> Option<Node> {
        self.store
            .node(self.tenant.id, id)
            .await
            .expect("load node")
    }

    pub async fn transition(&self, id: NodeId, action: NodeAction) -> Result<Node, QueueError> {
        self.node_cmd(Command::NodeStatus(NodeTransition {
            id,
            action,
            expected_version: None,
        }))
        .await
    }

    pub async fn publish_node(&self, id: NodeId) -> Result<Node, QueueError> {
        self.transition(id, NodeAction::Publish).await
    }

    pub async fn add_translation(
        &self,
        id: NodeId,
        input: TranslationInput,
    ) -> Result<Node, QueueError> {
        self.node_cmd(Command::TranslateNode {
            id,
            input,
            expected_version: None,
        })
        .await
    }

    pub async fn search_nodes(&self, query: &str) -> Vec<SearchHit> {
        self.store
            .search_nodes(self.tenant.id, query, None, 100)
            .await
            .expect("search")
    }

    /// Stored events of one aggregate in this tenant, oldest first.
    pub async fn events_for(&self, aggregate: Uuid) -> Vec<StoredEvent> {
        self.store
            .list_events(&EventFilter {
                tenant_id: Some(self.tenant.id),
                aggregate_id: Some(aggregate),
                ..Default::default()
            })
            .await
            .expect("list events")
    }

    /// Every stored event of every tenant, oldest first.
    pub async fn outbox_events(&self) -> Vec<StoredEvent> {
        self.store
            .list_events(&EventFilter {
                limit: 1_000_000,
                ..Default::default()
            })
            .await
            .expect("list events")
    }

    pub async fn node_count(&self) -> u64 {
        self.store
            .list_nodes(self.tenant.id, &NodeFilter::default())
            .await
            .expect("list nodes")
            .total
    }

    /// Runs the relay until the outbox has nothing claimable, then returns what reached the
    /// bus since the last call.
    pub async fn relay_and_capture(&self) -> Vec<Arc<EventEnvelope>> {
        self.relay.drain().await.expect("relay");
        let mut sub = self.sub.lock().await;
        let mut out = Vec::new();
        while let Some(msg) = sub.try_recv() {
            match msg {
                BusMsg::Event(e) => out.push(e.event),
                BusMsg::Lagged(n) => panic!("test subscriber lagged by {n}"),
            }
        }
        out
    }

    /// Starts the relay in the background, as the console runs it.
    pub fn spawn_relay(&self) -> RelayTask {
        let (stop, rx) = watch::channel(false);
        let relay = self.relay.clone();
        let handle = tokio::spawn(async move { relay.run(rx).await });
        RelayTask { stop, handle }
    }

    /// Waits (up to `timeout`) for an event matching `pred` on the bus.
    pub async fn wait_for(
        &self,
        timeout: Duration,
        pred: impl Fn(&EventEnvelope) -> bool,
    ) -> Option<Arc<EventEnvelope>> {
        let mut sub = self.sub.lock().await;
        tokio::time::timeout(timeout, async {
            while let Some(msg) = sub.recv().await {
                if let BusMsg::Event(e) = msg
                    && pred(&e)
                {
                    return Some(e.event);
                }
            }
            None
        })
        .await
        .ok()
        .flatten()
    }
}

pub struct RelayTask {
    stop: watch::Sender<bool>,
    handle: tokio::task::JoinHandle<()>,
}

impl RelayTask {
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.handle.await;
    }
}

async fn create_tenant(queue: &ActionQueue, actor: &Actor, slug: &str) -> Tenant {
    let cmd = super::fixtures::create_tenant(slug);
    let Command::CreateTenant { id, .. } = &cmd else {
        unreachable!("fixture builds a CreateTenant")
    };
    let env = CommandEnvelope::new(*id, actor.clone(), cmd);
    match queue.execute(env).await.expect("create tenant").outcome {
        Outcome::Tenant(t) => t,
        other => panic!("expected a tenant, got {other:?}"),
    }
}

/// Commerce helpers: every command goes through the real action queue (so paying and
/// cancelling use the gateway exactly as the console and the CLI do).
impl TestApp {
    async fn order_cmd(&self, command: Command) -> Result<Order, QueueError> {
        match self.exec(command).await?.outcome {
            Outcome::Order(o) => Ok(o),
            other => panic!("expected an order, got {other:?}"),
        }
    }

    pub async fn create_product(&self, draft: ProductDraft) -> Result<Product, QueueError> {
        match self.exec(Command::CreateProduct(draft)).await?.outcome {
            Outcome::Product(p) => Ok(p),
            other => panic!("expected a product, got {other:?}"),
        }
    }

    pub async fn adjust_inventory(&self, sku: &str, by: i64) -> Result<Product, QueueError> {
        let command = Command::AdjustInventory {
            sku: sku.into(),
            by,
            reason: String::new(),
        };
        match self.exec(command).await?.outcome {
            Outcome::Product(p) => Ok(p),
            other => panic!("expected a product, got {other:?}"),
        }
    }

    pub async fn create_order(&self, draft: OrderDraft) -> Result<Order, QueueError> {
        self.order_cmd(Command::CreateOrder(draft)).await
    }

    pub async fn confirm_order(&self, id: OrderId) -> Result<Order, QueueError> {
        self.order_cmd(Command::Order(OrderCommand::ConfirmOrder {
            id,
            expected_version: None,
        }))
        .await
    }

    pub async fn pay_order(&self, id: OrderId, card_token: &str) -> Result<Order, QueueError> {
        self.order_cmd(Command::Order(OrderCommand::PayOrder {
            expected_version: None,
            id,
            card_token: card_token.into(),
        }))
        .await
    }

    pub async fn ship_order(
        &self,
        id: OrderId,
        carrier: &str,
        tracking: &str,
    ) -> Result<Order, QueueError> {
        self.order_cmd(Command::Order(OrderCommand::ShipOrder {
            expected_version: None,
            id,
            carrier: carrier.into(),
            tracking: tracking.into(),
        }))
        .await
    }

    pub async fn deliver_order(&self, id: OrderId) -> Result<Order, QueueError> {
        self.order_cmd(Command::Order(OrderCommand::DeliverOrder {
            expected_version: None,
            id,
        }))
        .await
    }

    /// Cancels with this reason (required: a blank one is refused).
    pub async fn cancel_order(&self, id: OrderId, reason: &str) -> Result<Order, QueueError> {
        self.order_cmd(Command::Order(OrderCommand::CancelOrder {
            expected_version: None,
            id,
            reason: reason.into(),
        }))
        .await
    }

    /// Any order step by its declaration (`commerce/steps.rs`), inputs in its order.
    pub async fn order_step(
        &self,
        id: OrderId,
        action: rustok_domain::commerce::OrderAction,
        inputs: &[&str],
    ) -> Result<Order, QueueError> {
        let command = action
            .command(id, None, inputs)
            .map_err(|e| QueueError::Store(e.into()))?;
        self.order_cmd(command).await
    }

    pub async fn get_order(&self, id: OrderId) -> Option<Order> {
        self.store
            .order(self.tenant.id, id)
            .await
            .expect("load order")
    }

    /// The stock row of one SKU in this tenant.
    pub async fn stock(&self, sku: &str) -> StockRow {
        let product = self
            .store
            .product_by_sku(self.tenant.id, sku)
            .await
            .expect("load product")
            .unwrap_or_else(|| panic!("no product with sku {sku}"));
        StockRow::of(&product)
            .into_iter()
            .find(|r| r.sku == sku)
            .expect("stock row")
    }

    pub async fn orders(&self, filter: OrderFilter) -> Vec<OrderSummary> {
        self.store
            .list_orders(self.tenant.id, &filter)
            .await
            .expect("list orders")
            .rows
    }

    pub async fn order_count(&self) -> u64 {
        self.store
            .list_orders(self.tenant.id, &OrderFilter::default())
            .await
            .expect("list orders")
            .total
    }

    pub async fn product_rows(&self) -> Vec<StockRow> {
        self.store
            .list_products(self.tenant.id, &ProductFilter::default())
            .await
            .expect("list products")
            .rows
    }

    /// Event types of this tenant stored after `seq`, oldest first.
    pub async fn event_types_after(&self, seq: i64) -> Vec<String> {
        self.store
            .list_events(&EventFilter {
                tenant_id: Some(self.tenant.id),
                after_seq: Some(seq),
                limit: 1_000_000,
                ..Default::default()
            })
            .await
            .expect("list events")
            .into_iter()
            .map(|e| e.envelope.event_type)
            .collect()
    }

    /// The sequence number of the newest stored event (0 when there is none).
    pub async fn last_seq(&self) -> i64 {
        self.outbox_events().await.last().map_or(0, |e| e.seq)
    }
}
