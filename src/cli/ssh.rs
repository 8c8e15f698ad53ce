//! `rustok ssh sessions` and `rustok ssh kick`: the console sessions of the SSH servers
//! running from this data directory, through their control sockets (docs/SSH.md "Session
//! admin").

use super::output::{cell, emit, table, time};
use super::{CliError, Ctx};
use crate::ssh::control::{self, Request, Response, SessionRow};
use rustok_domain::Permission;

#[derive(Debug, clap::Subcommand)]
pub enum SshCmd {
    /// The console sessions open on the SSH servers running from this data directory
    Sessions,
    /// End console sessions (by session id or staff handle); the client is told why and
    /// gets its terminal back. Owners and admins only.
    Kick {
        /// A session id (from `rustok ssh sessions`) or a staff handle (all their sessions)
        target: String,
        /// Shown to the client and written to the audit log
        #[arg(long, default_value = "ended by an administrator")]
        reason: String,
    },
}

/// Asks every server with a control socket in the data directory.
async fn ask_all(request: &Request) -> Result<Vec<SessionRow>, CliError> {
    let dir = crate::config::data_dir();
    let mut rows = Vec::new();
    for socket in control::sockets(&dir) {
        match control::ask(&socket, request).await {
            Ok(Response::Sessions(r)) | Ok(Response::Kicked(r)) => rows.extend(r),
            Ok(Response::Server { sessions, .. }) => rows.extend(sessions),
            Ok(Response::Error(e)) => {
                return Err(CliError::Input(format!(
                    "the server at {} refused: {e}",
                    socket.display()
                )));
            }
            // A socket left over by a server that did not stop cleanly.
            Err(e) => {
                tracing::debug!(socket = %socket.display(), error = %e, "no SSH server answers")
            }
        }
    }
    Ok(rows)
}

fn idle(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

fn render(rows: &[SessionRow]) -> String {
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.id.to_string(),
                cell(&r.handle, 63),
                r.role.clone(),
                cell(&r.source, 60),
                time(&r.since),
                idle(r.idle_secs),
                format!("{}x{}", r.cols, r.rows),
                cell(&r.server, 60),
            ]
        })
        .collect();
    table(
        &[
            "ID", "HANDLE", "ROLE", "SOURCE", "SINCE", "IDLE", "SIZE", "SERVER",
        ],
        &body,
    )
}

pub async fn run(ctx: &Ctx, cmd: &SshCmd) -> Result<(), CliError> {
    match cmd {
        SshCmd::Sessions => {
            // Authorized (staff:read) and asked where the console's Sessions view asks.
            let list = ctx.reads.ssh_sessions().await?;
            let rows = list.sessions;
            emit(ctx.json, &rows, || {
                if list.servers.is_empty() {
                    format!(
                        "no SSH server is running from {} (start one with: rustok serve --ssh ADDR)",
                        cell(&list.origin, 200)
                    )
                } else if rows.is_empty() {
                    format!("no console sessions on {}", list.servers.join(", "))
                } else {
                    render(&rows)
                }
            });
        }
        SshCmd::Kick { target, reason } => {
            // Ending someone's session changes things: refused read-only too.
            ctx.reads
                .require_operation(
                    Permission::new("staff", "update"),
                    "end SSH sessions",
                    ctx.read_only,
                )
                .await?;
            let rows = ask_all(&Request::Kick {
                target: target.clone(),
                reason: reason.clone(),
                by: ctx.actor.handle.clone(),
            })
            .await?;
            if rows.is_empty() {
                return Err(CliError::Input(format!(
                    "no console session '{}' (see rustok ssh sessions)",
                    cell(target, 63)
                )));
            }
            emit(ctx.json, &rows, || {
                format!("ended {} session(s):\n{}", rows.len(), render(&rows))
            });
        }
    }
    Ok(())
}
