//! `rustok ssh sessions` and `rustok ssh kick`: the console sessions of the SSH servers
//! running from this data directory, through their control sockets (docs/SSH.md "Session
//! admin").

use super::output::{cell, emit, table, time};
use super::{CliError, Ctx};
use crate::ssh::control::SessionRow;
use rustok_domain::{DomainError, Permission};

#[derive(Debug, clap::Subcommand)]
pub enum SshCmd {
    /// The console sessions open on the SSH servers running from this data directory
    Sessions,
    /// End console sessions (by session id or staff handle); the client is told why and
    /// gets its terminal back. Owners and admins only (an owner's session: owners only).
    Kick {
        /// A session id (from `rustok ssh sessions`) or a staff handle (all their sessions)
        target: String,
        /// Only the sessions of the server listening here (the SERVER column), when several
        /// servers run from this data directory (each numbers its sessions from 1)
        #[arg(long, value_name = "ADDR")]
        server: Option<String>,
        /// TARGET is a session id (for a handle made of digits)
        #[arg(long, conflicts_with = "handle")]
        id: bool,
        /// TARGET is a staff handle
        #[arg(long)]
        handle: bool,
        /// Shown to the client and written to the audit log
        #[arg(long, default_value = "ended by an administrator")]
        reason: String,
    },
}

/// The sessions a kick's TARGET names, or why it names none or is ambiguous.
fn resolve(
    rows: &[SessionRow],
    target: &str,
    server: Option<&str>,
    as_id: bool,
    as_handle: bool,
) -> Result<Vec<SessionRow>, CliError> {
    let on_server = |r: &&SessionRow| server.is_none_or(|s| r.server == s);
    let id = if as_handle {
        None
    } else {
        target.parse::<u64>().ok()
    };
    if as_id && id.is_none() {
        return Err(CliError::Usage(format!(
            "--id: '{}' is not a session id (a whole number from rustok ssh sessions)",
            cell(target, 63)
        )));
    }
    let by_id: Vec<SessionRow> = rows
        .iter()
        .filter(on_server)
        .filter(|r| id == Some(r.id))
        .cloned()
        .collect();
    let by_handle: Vec<SessionRow> = if as_id {
        Vec::new()
    } else {
        rows.iter()
            .filter(on_server)
            .filter(|r| r.handle == target)
            .cloned()
            .collect()
    };
    if !by_id.is_empty() && !by_handle.is_empty() {
        return Err(CliError::Usage(format!(
            "'{}' is both session {} ({}) and the staff member {} ({} session(s)): add --id or --handle",
            cell(target, 63),
            by_id[0].id,
            cell(&by_id[0].handle, 63),
            cell(target, 63),
            by_handle.len()
        )));
    }
    if by_id.len() > 1 {
        let servers: Vec<&str> = by_id.iter().map(|r| r.server.as_str()).collect();
        return Err(CliError::Usage(format!(
            "session {} is open on {} servers ({}): add --server ADDR",
            by_id[0].id,
            servers.len(),
            servers.join(", ")
        )));
    }
    let hit = if by_id.is_empty() { by_handle } else { by_id };
    if hit.is_empty() {
        return Err(CliError::Input(format!(
            "no console session '{}'{} (see rustok ssh sessions)",
            cell(target, 63),
            server.map_or(String::new(), |s| format!(" on {}", cell(s, 60)))
        )));
    }
    Ok(hit)
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
        SshCmd::Kick {
            target,
            server,
            id,
            handle,
            reason,
        } => {
            // Ending someone's session changes things: owners and admins (an owner's
            // session: owners), refused read-only too — the check the console's kick passes
            // through (`Reads::kick_ssh_session`). A refusal is one audit-log row; each
            // session ended is one, written by its server.
            let tenant = ctx.tenant_id_if_any().await?;
            let ended = async || -> Result<Vec<SessionRow>, CliError> {
                ctx.reads
                    .require_operation(
                        Permission::new("staff", "update"),
                        "end SSH sessions",
                        ctx.read_only,
                    )
                    .await?;
                let list = ctx.reads.ssh_sessions().await?;
                let hit = resolve(&list.sessions, target, server.as_deref(), *id, *handle)?;
                let mut ended = Vec::new();
                for r in hit {
                    let kicked = ctx
                        .reads
                        .kick_ssh_session(ctx.read_only, &r.server, r.id, r.since, reason)
                        .await?;
                    ended.extend(kicked);
                }
                Ok(ended)
            };
            let rows = match ended().await {
                Ok(rows) => rows,
                Err(e) => {
                    if let CliError::Domain(DomainError::PermissionDenied { .. }) = &e {
                        let why = format!("{} (target '{}')", e, cell(target, 63));
                        ctx.audit_row(tenant, "ssh_kick", super::audit_outcome(&e), why)
                            .await;
                    }
                    return Err(e);
                }
            };
            if rows.is_empty() {
                return Err(CliError::Input(format!(
                    "no console session '{}' any more (it ended meanwhile)",
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

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: u64, handle: &str, server: &str) -> SessionRow {
        SessionRow {
            id,
            handle: handle.into(),
            role: "editor".into(),
            source: "127.0.0.1:50000".into(),
            since: chrono::Utc::now(),
            idle_secs: 0,
            cols: 80,
            rows: 24,
            server: server.into(),
        }
    }

    fn usage(r: Result<Vec<SessionRow>, CliError>) -> String {
        match r {
            Err(CliError::Usage(m)) => m,
            other => panic!("a usage error expected: {other:?}"),
        }
    }

    #[test]
    fn an_id_open_on_two_servers_is_ambiguous_until_the_server_is_named() {
        let rows = [
            row(1, "editor", "127.0.0.1:2299"),
            row(1, "manager", "127.0.0.1:2298"),
        ];
        let err = usage(resolve(&rows, "1", None, false, false));
        assert!(
            err.contains("open on 2 servers") && err.contains("--server"),
            "{err}"
        );
        let one = resolve(&rows, "1", Some("127.0.0.1:2298"), false, false).unwrap();
        assert_eq!((one.len(), one[0].handle.as_str()), (1, "manager"));
        // A handle names all its sessions, on every server.
        let rows = [
            row(1, "ann", "a:1"),
            row(2, "ann", "b:2"),
            row(3, "bo", "a:1"),
        ];
        assert_eq!(resolve(&rows, "ann", None, false, false).unwrap().len(), 2);
    }

    #[test]
    fn a_handle_made_of_digits_is_told_apart_from_an_id() {
        let rows = [row(2, "manager", "s:1"), row(3, "2", "s:1")];
        let err = usage(resolve(&rows, "2", None, false, false));
        assert!(err.contains("--id or --handle"), "{err}");
        let by_id = resolve(&rows, "2", None, true, false).unwrap();
        assert_eq!((by_id.len(), by_id[0].handle.as_str()), (1, "manager"));
        let by_handle = resolve(&rows, "2", None, false, true).unwrap();
        assert_eq!((by_handle.len(), by_handle[0].id), (1, 3));
        assert!(matches!(
            resolve(&rows, "x", None, true, false),
            Err(CliError::Usage(_))
        ));
        assert!(matches!(
            resolve(&rows, "nobody", None, false, false),
            Err(CliError::Input(_))
        ));
    }
}
