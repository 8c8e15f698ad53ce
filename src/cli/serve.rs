//! `rustok serve --ssh ADDR`: the console over SSH (see docs/SSH.md).

use super::{Cli, CliError};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on for SSH, e.g. 127.0.0.1:2222 or 0.0.0.0:2222
    #[arg(long, value_name = "ADDR", required = true)]
    pub ssh: String,
    /// The server's ed25519 host key (created with mode 0600 when missing)
    /// [default: ssh_host_ed25519_key in the data directory]
    #[arg(long, value_name = "FILE")]
    pub host_key: Option<PathBuf>,
    /// Most console sessions open at once
    #[arg(long, default_value_t = 64, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub max_sessions: u32,
    /// Close a session after this many seconds without input (at most a week)
    #[arg(long, default_value_t = 1800, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub idle_timeout: u64,
    /// Input bytes per second a session may send (bursts up to 16x); the excess is dropped
    #[arg(long, default_value_t = 16384, value_name = "BYTES", value_parser = clap::value_parser!(u32).range(64..))]
    pub input_rate: u32,
}

pub async fn run(cli: &Cli, args: &ServeArgs) -> Result<(), CliError> {
    let db_url = match &cli.db {
        Some(u) => u.clone(),
        None => crate::config::default_db_url()
            .map_err(|e| CliError::Input(format!("cannot create the data directory: {e}")))?,
    };
    crate::ssh::serve(crate::ssh::ServeOptions {
        addr: args.ssh.clone(),
        host_key: args
            .host_key
            .clone()
            .unwrap_or_else(crate::ssh::default_host_key_path),
        db_url,
        tenant: cli.tenant.clone(),
        read_only: cli.read_only,
        limits: crate::ssh::Limits {
            max_sessions: args.max_sessions as usize,
            idle_timeout: Duration::from_secs(args.idle_timeout),
            input_rate: args.input_rate,
            input_burst: args.input_rate.saturating_mul(16),
        },
        panic_on_input: None,
    })
    .await
}
