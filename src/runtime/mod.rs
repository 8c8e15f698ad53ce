//! The runtime: the action queue worker that executes commands one transaction each, the
//! relay that moves committed outbox rows onto the in-process bus, and the bus itself.

pub mod bus;
pub mod feed;
pub mod health;
pub mod queue;
pub mod reads;
pub mod relay;

pub use bus::{Backpressure, Bus, BusMsg, BusStats, Subscription};
pub use feed::{FeedConfig, FeedStream};
pub use queue::{ActionQueue, QueueError, QueueOptions};
pub use reads::{EventGate, Reads};
pub use relay::{BUS_CONSUMER, Consumer, Relay, RelayConfig, RelayPass, backoff};
