//! The headless command contract of CLI.md: every console action as a subcommand, `--json`
//! for scripts, exit code 0 on success, 1 on a refused command, 2 on a usage error.

mod audit;
mod commerce;
mod customer;
mod events;
mod node;
pub mod output;
mod script;
mod seed;
mod serve;
mod ssh;
mod staff;
mod tenant;

use crate::runtime::{ActionQueue, FirstUse, QueueError, QueueOptions, Reads, RuntimeError};
use crate::ssh::admin::SessionAdmin;
use clap::{Parser, Subcommand};
use rustok_domain::{
    Actor, Command, CommandEnvelope, DomainError, EventId, NodeId, OrderId, Tenant, TenantId,
};
use rustok_store::IdKind;
use rustok_store::{Applied, Store, StoreError};
use std::sync::Arc;

pub use crate::runtime::DEFAULT_TENANT;

#[derive(Debug, Parser)]
#[command(
    name = "rustok",
    version,
    about = "RusToK Console: the back-office for a multi-tenant content + commerce platform",
    long_about = "RusToK Console: the back-office for a multi-tenant content + commerce platform.\n\n\
                  Every console action is also a subcommand; add --json for one JSON value on stdout."
)]
pub struct Cli {
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB [default: SQLite in the data dir]
    #[arg(long, global = true, env = "RUSTOK_DATABASE_URL", value_name = "URL")]
    pub db: Option<String>,

    /// Tenant to act in (the `default` tenant is created on first use)
    #[arg(long, global = true, env = "RUSTOK_TENANT", default_value = DEFAULT_TENANT, value_name = "SLUG")]
    pub tenant: String,

    /// Acting staff member
    #[arg(
        long = "as",
        global = true,
        env = "RUSTOK_STAFF",
        default_value = "owner",
        value_name = "HANDLE"
    )]
    pub actor: String,

    /// Print exactly one JSON value on stdout
    #[arg(long, global = true)]
    pub json: bool,

    /// Stream every event to NATS JetStream at this URL (processes that relay: the console,
    /// `serve`, `outbox relay`) [default: `stream` in config.toml, else none]
    #[arg(
        long,
        global = true,
        env = "RUSTOK_STREAM_URL",
        value_name = "nats://HOST:PORT"
    )]
    pub stream: Option<String>,

    /// The JetStream stream's name [default: `stream_name` in config.toml, else RUSTOK_EVENTS]
    #[arg(long, global = true, env = "RUSTOK_STREAM_NAME", value_name = "NAME")]
    pub stream_name: Option<String>,

    /// Open the console read-only: every command that changes data is disabled
    #[arg(long, global = true)]
    pub read_only: bool,

    /// Draw the console's first frame and exit (to measure start-up time)
    #[arg(long, hide = true)]
    pub exit_after_first_frame: bool,

    #[command(subcommand)]
    pub command: Option<Cmd>,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Create and list tenants
    #[command(subcommand)]
    Tenant(tenant::TenantCmd),
    /// Create, edit, translate, publish and search content nodes
    #[command(subcommand)]
    Node(node::NodeCmd),
    /// Products: create, list with stock, show by id or SKU
    #[command(subcommand)]
    Product(commerce::ProductCmd),
    /// Stock corrections
    #[command(subcommand)]
    Inventory(commerce::InventoryCmd),
    /// Orders: create, each step (confirm, pay, ship, deliver, cancel, hold, release, refund, return), show, list, search, events
    #[command(subcommand)]
    Order(commerce::OrderCmd),
    /// Read the events each change produced
    #[command(subcommand)]
    Events(events::EventsCmd),
    /// Outbox delivery state, relay and dead letters
    #[command(subcommand)]
    Outbox(events::OutboxCmd),
    /// Staff accounts: add, list, change roles, MFA, deactivate
    #[command(subcommand)]
    Staff(staff::StaffCmd),
    /// The security audit and the audit log of staff actions
    #[command(subcommand)]
    Audit(audit::AuditCmd),
    /// Serve the console over SSH to many staff members at once
    Serve(serve::ServeArgs),
    /// The SSH servers' console sessions: list them, end one
    #[command(subcommand)]
    Ssh(ssh::SshCmd),
    /// Demo data: content and a small shop, or --scale N nodes and orders for load tests
    Seed {
        /// Demo content and shop (required)
        #[arg(long)]
        demo: bool,
        /// N nodes and N orders with their events, written in bulk
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=rustok_store::MAX_BULK_SEED))]
        scale: Option<u64>,
    },
    /// Read commands from stdin, acknowledge each after it committed (the crash driver's mode)
    #[command(hide = true)]
    Script(script::ScriptArgs),
    /// Customers as their orders tell: list them, show one with their orders
    #[command(subcommand)]
    Customer(customer::CustomerCmd),
}

/// A subcommand as typed, for the audit log: `outbox retry`, `node create`, `seed`.
fn command_path(cmd: &Cmd) -> String {
    fn verb(c: &impl std::fmt::Debug) -> String {
        let text = format!("{c:?}");
        let word: String = text.chars().take_while(|c| c.is_alphanumeric()).collect();
        word.to_lowercase()
    }
    let (group, inner) = match cmd {
        Cmd::Tenant(c) => ("tenant", verb(c)),
        Cmd::Node(c) => ("node", verb(c)),
        Cmd::Product(c) => ("product", verb(c)),
        Cmd::Inventory(c) => ("inventory", verb(c)),
        Cmd::Order(c) => ("order", verb(c)),
        Cmd::Events(c) => ("events", verb(c)),
        Cmd::Outbox(c) => ("outbox", verb(c)),
        Cmd::Staff(c) => ("staff", verb(c)),
        Cmd::Audit(c) => ("audit", verb(c)),
        Cmd::Ssh(c) => ("ssh", verb(c)),
        Cmd::Serve(_) => ("serve", String::new()),
        Cmd::Seed { .. } => ("seed", String::new()),
        Cmd::Script(_) => ("script", String::new()),
        Cmd::Customer(c) => ("customer", verb(c)),
    };
    if inner.is_empty() {
        group.to_string()
    } else {
        format!("{group} {inner}")
    }
}

/// What to print for an argument error (or `--help` / `--version`), and the exit code.
/// Errors quote the offending argument, which may hold control characters
/// (`rustok $'\e[2J'`): every line is made terminal-safe, and the text is plain (no colour
/// codes). `--help` and `--version` go to stdout unchanged (they hold no user input).
pub fn parse_error_output(e: &clap::Error) -> (bool, String, u8) {
    use clap::error::ErrorKind;
    let text = e.render().to_string();
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => (true, text, 0),
        _ => {
            let safe: Vec<String> = text
                .trim_end()
                .lines()
                .map(rustok_domain::text::printable)
                .collect();
            (false, safe.join("\n"), 2)
        }
    }
}

/// Why a command failed, and with which exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Store(StoreError),
    #[error("{0}")]
    Queue(String),
    #[error("{0}")]
    Input(String),
    #[error("{0}")]
    Usage(String),
}

impl From<StoreError> for CliError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Domain(d) => CliError::Domain(d),
            other => CliError::Store(other),
        }
    }
}

impl From<QueueError> for CliError {
    fn from(e: QueueError) -> Self {
        match e {
            QueueError::Store(s) => s.into(),
            other => CliError::Queue(other.to_string()),
        }
    }
}

impl From<RuntimeError> for CliError {
    fn from(e: RuntimeError) -> Self {
        match e {
            RuntimeError::Store(s) => s.into(),
            RuntimeError::Queue(q) => q.into(),
            other => CliError::Input(other.to_string()),
        }
    }
}

impl From<crate::ssh::SshError> for CliError {
    fn from(e: crate::ssh::SshError) -> Self {
        match e {
            crate::ssh::SshError::Store(s) => s.into(),
            other => CliError::Input(other.to_string()),
        }
    }
}

impl From<crate::input::InputError> for CliError {
    fn from(e: crate::input::InputError) -> Self {
        CliError::Input(e.to_string())
    }
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            _ => 1,
        }
    }
}

/// What every command needs: the store, the action queue, the tenant and the actor.
pub struct Ctx {
    pub store: Store,
    /// Every read, authorized (`runtime::reads`): the CLI reads through nothing else.
    pub reads: Reads,
    pub queue: ActionQueue,
    pub actor: Actor,
    pub json: bool,
    /// The database URL connected to (the audit reads it; shown redacted).
    pub db_url: String,
    pub read_only: bool,
    /// This process's session in the audit log (`cli-<uuid>`).
    pub session: String,
    tenant_slug: String,
    /// `--stream` / `--stream-name` (the config file's apply where these are unset).
    pub stream_url: Option<String>,
    pub stream_name: Option<String>,
}

impl Ctx {
    /// Connects and checks the acting member. `command` names what is about to run
    /// (`outbox retry`) for the audit row of a refusal.
    pub async fn open(cli: &Cli, command: &str) -> Result<Ctx, CliError> {
        let url = match &cli.db {
            Some(u) => u.clone(),
            None => crate::config::default_db_url()
                .map_err(|e| CliError::Input(format!("cannot create the data directory: {e}")))?,
        };
        let store = Store::connect(&url).await?;
        // One CLI process is one session in the audit log.
        let session = format!("cli-{}", uuid::Uuid::now_v7());
        let options = QueueOptions {
            session: Some(session.clone()),
            audit_log: crate::security::audit_log_enabled(),
            ..QueueOptions::default()
        };
        let (queue, _worker) = ActionQueue::spawn(store.clone(), None, options);
        let mut actor = Actor::new(cli.actor.clone()).read_only(cli.read_only);
        // First use: on an installation with no staff yet, the acting handle becomes the
        // owner (as its first command would make it). From then on an unknown or inactive
        // handle is refused every command, reads included.
        store.bootstrap_owner(&actor.handle).await?;
        // `rustok ssh sessions/kick` ask the SSH servers running from the data directory.
        let reads = Reads::new(store.clone(), actor.handle.clone())
            .with_live_sessions(Arc::new(SessionAdmin::data_dir()));
        // For display only: the store resolves the role again in every transaction and read.
        match reads.role().await {
            Ok(role) => actor.role = Some(role),
            Err(e) => {
                // An unknown or inactive member's attempt is recorded like a denied command.
                if let rustok_store::StoreError::Domain(d @ DomainError::PermissionDenied { .. }) =
                    &e
                    && crate::security::audit_log_enabled()
                {
                    let tenant = store
                        .tenant_by_slug(&cli.tenant)
                        .await
                        .ok()
                        .flatten()
                        .map_or(TenantId::from_uuid(uuid::Uuid::nil()), |t| t.id);
                    let entry = rustok_domain::audit::AuditLogEntry {
                        seq: 0,
                        at: chrono::Utc::now(),
                        actor: actor.handle.clone(),
                        command: command.to_string(),
                        command_id: rustok_domain::CommandId::new_v7(),
                        tenant_id: tenant,
                        session: Some(session.clone()),
                        outcome: rustok_domain::audit::AuditOutcome::Denied,
                        reason: Some(d.to_string()),
                    };
                    if let Err(e) = store.append_audit(&entry).await {
                        tracing::warn!(error = %e, "cannot write the audit row of a refused session");
                    }
                }
                return Err(e.into());
            }
        }
        Ok(Ctx {
            store,
            reads,
            queue,
            actor,
            json: cli.json,
            db_url: url,
            read_only: cli.read_only,
            session,
            tenant_slug: cli.tenant.clone(),
            stream_url: cli.stream.clone(),
            stream_name: cli.stream_name.clone(),
        })
    }

    /// The tenant named by `--tenant`. The `default` tenant is created on first use (empty,
    /// `runtime::tenant`); any other must exist.
    pub async fn tenant(&self) -> Result<Tenant, CliError> {
        Ok(crate::runtime::open_tenant(
            &self.reads,
            &self.queue,
            &self.actor,
            &self.tenant_slug,
            FirstUse::Empty,
        )
        .await?)
    }

    /// The node an ID argument names: a UUID, or the short id screens show (the last 8 hex
    /// digits), resolved within the tenant; unknown or ambiguous short ids exit 1.
    pub async fn node_id(&self, tenant: &Tenant, text: &str) -> Result<NodeId, CliError> {
        let id = self.reads.resolve_id(tenant.id, IdKind::Node, text).await?;
        Ok(NodeId::from_uuid(id))
    }

    /// The order an ID argument names (see [`Ctx::node_id`]).
    pub async fn order_id(&self, tenant: &Tenant, text: &str) -> Result<OrderId, CliError> {
        let id = self
            .reads
            .resolve_id(tenant.id, IdKind::Order, text)
            .await?;
        Ok(OrderId::from_uuid(id))
    }

    /// The event an ID argument names (see [`Ctx::node_id`]).
    pub async fn event_id(&self, tenant: &Tenant, text: &str) -> Result<EventId, CliError> {
        let id = self
            .reads
            .resolve_id(tenant.id, IdKind::Event, text)
            .await?;
        Ok(EventId::from_uuid(id))
    }

    /// The tenant named by `--tenant` if it exists (never created): for deployment-wide work
    /// such as relaying, whose audit row names it; the nil id when there is none.
    pub async fn tenant_id_if_any(&self) -> Result<TenantId, CliError> {
        Ok(self
            .store
            .tenant_by_slug(&self.tenant_slug)
            .await?
            .map_or(TenantId::from_uuid(uuid::Uuid::nil()), |t| t.id))
    }

    /// Runs `op` — work that is not a command but needs `permission` (running the relay by
    /// hand, seeding in bulk) — after checking the acting member (refused in a read-only
    /// session), with one audit-log row for the refusal or the outcome, as a command has.
    pub async fn audited<T>(
        &self,
        tenant: TenantId,
        name: &str,
        permission: rustok_domain::Permission,
        what: &str,
        op: impl AsyncFnOnce() -> Result<(T, String), CliError>,
    ) -> Result<T, CliError> {
        use rustok_domain::audit::AuditOutcome;
        let checked = self
            .reads
            .require_operation(permission, what, self.read_only)
            .await;
        let result = match checked {
            Ok(_) => op().await,
            Err(e) => Err(e.into()),
        };
        let (outcome, reason) = match &result {
            Ok((_, summary)) => (AuditOutcome::Ok, summary.clone()),
            Err(e) => (audit_outcome(e), e.to_string()),
        };
        self.audit_row(tenant, name, outcome, reason).await;
        result.map(|(t, _)| t)
    }

    /// One audit-log row for this member's `name`, written when the audit log is on.
    pub async fn audit_row(
        &self,
        tenant: TenantId,
        name: &str,
        outcome: rustok_domain::audit::AuditOutcome,
        reason: String,
    ) {
        if !crate::security::audit_log_enabled() {
            return;
        }
        let entry = rustok_domain::audit::AuditLogEntry {
            seq: 0,
            at: chrono::Utc::now(),
            actor: self.actor.handle.clone(),
            command: name.to_string(),
            command_id: rustok_domain::CommandId::new_v7(),
            tenant_id: tenant,
            session: Some(self.session.clone()),
            outcome,
            reason: Some(reason),
        };
        if let Err(e) = self.store.append_audit(&entry).await {
            tracing::warn!(error = %e, "cannot write the audit row of {name}");
        }
    }

    /// Sends a command through the action queue and waits for the outcome.
    pub async fn execute(&self, tenant: &Tenant, command: Command) -> Result<Applied, CliError> {
        let env = CommandEnvelope::new(tenant.id, self.actor.clone(), command);
        Ok(self.queue.execute(env).await?)
    }
}

/// `rustok` with no subcommand: the console, on the database and tenant the flags name.
pub async fn run_console(cli: &Cli) -> Result<(), CliError> {
    let db_url = match &cli.db {
        Some(u) => u.clone(),
        None => crate::config::default_db_url()
            .map_err(|e| CliError::Input(format!("cannot create the data directory: {e}")))?,
    };
    Ok(crate::tui::run(crate::tui::ConsoleOptions {
        db_url,
        tenant: cli.tenant.clone(),
        actor: cli.actor.clone(),
        read_only: cli.read_only,
        exit_after_first_frame: cli.exit_after_first_frame,
        sessions: Arc::new(SessionAdmin::data_dir()),
        stream_url: cli.stream.clone(),
        stream_name: cli.stream_name.clone(),
    })
    .await?)
}

pub async fn run(cli: Cli) -> Result<(), CliError> {
    let Some(command) = &cli.command else {
        return Err(CliError::Usage(
            "no command given: run `rustok --help` to see the commands".into(),
        ));
    };
    if let Cmd::Serve(args) = command {
        return serve::run(&cli, args).await;
    }
    let ctx = Ctx::open(&cli, &command_path(command)).await?;
    match command {
        Cmd::Tenant(c) => tenant::run(&ctx, c).await,
        Cmd::Node(c) => node::run(&ctx, c).await,
        Cmd::Events(c) => events::run_events(&ctx, c).await,
        Cmd::Outbox(c) => events::run_outbox(&ctx, c).await,
        Cmd::Seed { demo, scale } => seed::run(&ctx, *demo, *scale).await,
        Cmd::Product(c) => commerce::run_product(&ctx, c).await,
        Cmd::Inventory(c) => commerce::run_inventory(&ctx, c).await,
        Cmd::Order(c) => commerce::run_order(&ctx, c).await,
        Cmd::Staff(c) => staff::run(&ctx, c).await,
        Cmd::Audit(c) => audit::run(&ctx, c).await,
        Cmd::Ssh(c) => ssh::run(&ctx, c).await,
        Cmd::Script(args) => script::run(&ctx, args).await,
        Cmd::Serve(args) => serve::run(&cli, args).await,
        Cmd::Customer(c) => customer::run(&ctx, c).await,
    }
}

/// How a failed operation is recorded: denied (permission), refused (a domain rule), error.
pub fn audit_outcome(e: &CliError) -> rustok_domain::audit::AuditOutcome {
    use rustok_domain::audit::AuditOutcome;
    match e {
        CliError::Domain(DomainError::PermissionDenied { .. }) => AuditOutcome::Denied,
        CliError::Domain(_) => AuditOutcome::Refused,
        _ => AuditOutcome::Error,
    }
}
