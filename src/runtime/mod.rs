//! The session runtime, under both transports (`tui/`, `ssh/`) and the CLI: the action queue
//! worker that executes commands one transaction each, the relay that moves committed outbox
//! rows onto the in-process bus, the bus, the live feed and the health check; and per session
//! the authorized reads, the executor of the app's effects, the audit monitor, the settings,
//! the tenant a session opens in (the default tenant bootstrapped once) and the one console
//! loop every terminal drives.
//!
//! Module order (no module imports one above it in this list): `error` → `bus` → `health` →
//! `reads` → `queue` → `relay` → `feed` → `demo` → `tenant` → `audit` → `executor` →
//! `settings` → `console`.

pub mod audit;
pub mod bus;
pub mod console;
pub mod demo;
pub mod error;
pub mod executor;
pub mod feed;
pub mod health;
pub mod queue;
pub mod reads;
pub mod relay;
pub mod settings;
pub mod tenant;

pub use audit::AuditMonitor;
pub use bus::{Backpressure, Bus, BusMsg, BusStats, Subscription};
pub use console::{Console, FrameReport, Input, LoopOptions, Step, Transport};
pub use error::{ConsoleError, RuntimeError};
pub use executor::{Executor, Exports, layout_path, load_layout};
pub use feed::{FeedConfig, FeedStream};
pub use queue::{ActionQueue, QueueError, QueueOptions};
pub use reads::{EventGate, Reads};
pub use relay::{BUS_CONSUMER, Consumer, Relay, RelayConfig, RelayPass, backoff};
pub use settings::Settings;
pub use tenant::{DEFAULT_TENANT, DEFAULT_TENANT_NAME, FirstUse, open_tenant};
