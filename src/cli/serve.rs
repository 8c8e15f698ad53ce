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
    /// Most unauthenticated connections at once; when full, the oldest is dropped for a newcomer
    #[arg(long, default_value_t = 128, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_unauthenticated: u32,
    /// Most unauthenticated connections at once from one address (IPv6: one /64); more are refused
    #[arg(long, default_value_t = 10, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_unauthenticated_per_source: u32,
    /// New connections per second allowed from one address (IPv6: one /64), after a burst of
    /// 5x that (at least 10); faster ones are closed before any key exchange
    #[arg(long, default_value_t = 2, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub connection_rate: u32,
    /// Trust OpenSSH user certificates signed by the CA public key(s) in FILE; a certificate's
    /// principal is the staff handle (role from the database)
    #[arg(long, value_name = "FILE")]
    pub user_ca: Option<PathBuf>,
    /// Revoked certificates: serials and key fingerprints, one per line (rustok staff
    /// revoke-cert appends here) [default: revoked_certs in the data directory]
    #[arg(long, value_name = "FILE")]
    pub revoked_certs: Option<PathBuf>,
    /// Close a connection that has not authenticated after this many seconds
    #[arg(long, default_value_t = 30, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub login_grace_time: u64,
}

pub async fn run(cli: &Cli, args: &ServeArgs) -> Result<(), CliError> {
    let db_url = match &cli.db {
        Some(u) => u.clone(),
        None => crate::config::default_db_url()
            .map_err(|e| CliError::Input(format!("cannot create the data directory: {e}")))?,
    };
    Ok(crate::ssh::serve(crate::ssh::ServeOptions {
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
            pre_auth: crate::ssh::gate::PreAuthLimits {
                max_unauthenticated: args.max_unauthenticated as usize,
                max_unauthenticated_per_source: args.max_unauthenticated_per_source as usize,
                connection_rate: f64::from(args.connection_rate),
                connection_burst: args.connection_rate.saturating_mul(5).max(10),
                login_grace_time: Duration::from_secs(args.login_grace_time),
            },
            ..crate::ssh::Limits::default()
        },
        user_ca: args.user_ca.clone(),
        revoked_certs: args.revoked_certs.clone(),
        control_dir: Some(crate::config::data_dir()),
        panic_on_input: None,
        stream_url: cli.stream.clone(),
        stream_name: cli.stream_name.clone(),
    })
    .await?)
}
