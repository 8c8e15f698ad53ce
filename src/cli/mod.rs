//! The headless command contract of CLI.md: every console action as a subcommand, `--json`
//! for scripts, exit code 0 on success, 1 on a refused command, 2 on a usage error.

mod audit;
mod commerce;
mod events;
mod node;
pub mod output;
mod script;
mod seed;
mod serve;
mod ssh;
mod staff;
mod tenant;

use crate::runtime::{ActionQueue, QueueError, QueueOptions};
use clap::{Parser, Subcommand};
use rustok_domain::{Actor, Command, CommandEnvelope, DomainError, Tenant, TenantId};
use rustok_store::{Applied, Store, StoreError};

pub const DEFAULT_TENANT: &str = "default";

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
    /// Orders: create, confirm, pay, ship, deliver, cancel, show, list, search
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
        #[arg(long, value_name = "N")]
        scale: Option<u64>,
    },
    /// Read commands from stdin, acknowledge each after it committed (the crash driver's mode)
    #[command(hide = true)]
    Script(script::ScriptArgs),
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
    pub queue: ActionQueue,
    pub actor: Actor,
    pub json: bool,
    /// The database URL connected to (the audit reads it; shown redacted).
    pub db_url: String,
    pub read_only: bool,
    tenant_slug: String,
}

impl Ctx {
    pub async fn open(cli: &Cli) -> Result<Ctx, CliError> {
        let url = match &cli.db {
            Some(u) => u.clone(),
            None => crate::config::default_db_url()
                .map_err(|e| CliError::Input(format!("cannot create the data directory: {e}")))?,
        };
        let store = Store::connect(&url).await?;
        // One CLI process is one session in the audit log.
        let options = QueueOptions {
            session: Some(format!("cli-{}", uuid::Uuid::now_v7())),
            audit_log: crate::security::audit_log_enabled(),
            ..QueueOptions::default()
        };
        let (queue, _worker) = ActionQueue::spawn(store.clone(), None, options);
        let mut actor = Actor::new(cli.actor.clone()).read_only(cli.read_only);
        // For display only: the store resolves the role again in every transaction.
        actor.role = store.staff_by_handle(&actor.handle).await?.map(|s| s.role);
        Ok(Ctx {
            store,
            queue,
            actor,
            json: cli.json,
            db_url: url,
            read_only: cli.read_only,
            tenant_slug: cli.tenant.clone(),
        })
    }

    /// The tenant named by `--tenant`. The `default` tenant is created on first use; any
    /// other must exist.
    pub async fn tenant(&self) -> Result<Tenant, CliError> {
        if let Some(t) = self.store.tenant_by_slug(&self.tenant_slug).await? {
            return Ok(t);
        }
        if self.tenant_slug != DEFAULT_TENANT {
            return Err(DomainError::not_found("tenant", format!("'{}'", self.tenant_slug)).into());
        }
        let id = TenantId::new_v7();
        let cmd = Command::CreateTenant {
            id,
            slug: DEFAULT_TENANT.into(),
            name: "Default".into(),
            default_locale: "en".parse()?,
        };
        match self
            .queue
            .execute(CommandEnvelope::new(id, self.actor.clone(), cmd))
            .await
        {
            Ok(_) => {}
            // Another process created it first.
            Err(e) if matches!(e.domain(), Some(DomainError::Duplicate { .. })) => {}
            Err(e) => return Err(e.into()),
        }
        self.store
            .tenant_by_slug(DEFAULT_TENANT)
            .await?
            .ok_or_else(|| DomainError::not_found("tenant", DEFAULT_TENANT).into())
    }

    /// Refuses a read that needs `permission` unless the acting staff member's role grants
    /// it. On an installation with no staff yet, the acting handle becomes the owner first
    /// (as any first command would make it).
    pub async fn require(
        &self,
        permission: rustok_domain::Permission,
        what: &str,
    ) -> Result<(), CliError> {
        self.store.bootstrap_owner(&self.actor.handle).await?;
        self.store
            .authorize_read(&self.actor.handle, permission, what)
            .await?;
        Ok(())
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
    crate::tui::run(crate::tui::ConsoleOptions {
        db_url,
        tenant: cli.tenant.clone(),
        actor: cli.actor.clone(),
        read_only: cli.read_only,
        exit_after_first_frame: cli.exit_after_first_frame,
    })
    .await
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
    let ctx = Ctx::open(&cli).await?;
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
    }
}
