//! The session runtime, under both transports (`tui/`, `ssh/`) and the CLI: the action queue
//! worker that executes commands one transaction each, the relay that moves committed outbox
//! rows onto the in-process bus, the bus, the live feed and the health check; and per session
//! the authorized reads, the executor of the app's effects, the audit monitor, the settings,
//! the tenant a session opens in (the default tenant bootstrapped once) and the one console
//! loop every terminal drives.
//!
//! Module order (each module imports only modules before it in this list): `bus` → `health`
//! → `live_sessions` → `reads` → `queue` → `error` → `relay` → `stream` → `feed` → `demo` → `tenant` →
//! `audit` → `executor` → `settings` → `console`. The runtime imports no transport and not
//! the CLI: what it needs of them (the live SSH sessions) is a trait here that they implement
//! and inject (`live_sessions`).

pub mod audit;
pub mod bus;
pub mod console;
pub mod demo;
pub mod error;
pub mod executor;
pub mod feed;
pub mod health;
pub mod live_sessions;
pub mod queue;
pub mod reads;
pub mod relay;
pub mod settings;
pub mod stream;
pub mod tenant;

pub use audit::AuditMonitor;
pub use bus::{Backpressure, Bus, BusMsg, BusStats, Subscription};
pub use console::{Console, FrameReport, Input, LoopOptions, Step, Transport};
pub use error::{ConsoleError, RuntimeError};
pub use executor::{Executor, Exports, layout_path, load_layout};
pub use feed::{FeedConfig, FeedStream};
pub use live_sessions::{LiveSessions, LiveSessionsError};
pub use queue::{ActionQueue, QueueError, QueueOptions};
pub use reads::{EventGate, Reads};
pub use relay::{
    BUS_CONSUMER, Consumer, DeliverFuture, IndependentConsumer, Relay, RelayConfig, RelayPass,
    SchedulePass, StreamPass, backoff,
};
pub use settings::Settings;
pub use stream::{JetStream, StreamSettings};
pub use tenant::{DEFAULT_TENANT, DEFAULT_TENANT_NAME, FirstUse, open_tenant};
