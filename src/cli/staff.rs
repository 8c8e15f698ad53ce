//! `rustok staff ...`: add staff members, list them, change roles, MFA and activation.

use super::output::{cell, emit, table, time};
use super::{CliError, Ctx};
use crate::input::MAX_SSH_KEY_FILE_BYTES;
use clap::Subcommand;
use rustok_domain::rbac::Role;
use rustok_domain::staff::{Staff, StaffDraft};
use rustok_domain::{Command, StaffId};
use rustok_store::Outcome;

#[derive(Debug, Subcommand)]
pub enum StaffCmd {
    /// Add a staff member
    Add {
        /// Lowercase letters, digits and '-', up to 63 characters
        handle: String,
        /// owner, admin, manager, editor or support
        #[arg(long)]
        role: String,
        /// Display name [default: the handle]
        #[arg(long)]
        name: Option<String>,
        /// OpenSSH public key file (one key per line, at most 16 KiB; repeat for more files)
        #[arg(long = "ssh-key", value_name = "FILE")]
        ssh_keys: Vec<std::path::PathBuf>,
        /// The member has multi-factor authentication set up
        #[arg(long)]
        mfa: bool,
    },
    /// List staff members
    List,
    /// Change a staff member's role
    Role {
        handle: String,
        /// owner, admin, manager, editor or support
        role: String,
    },
    /// Turn multi-factor authentication on or off for a staff member
    Mfa {
        handle: String,
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
    /// Deactivate a staff member (every command they send is then denied)
    Deactivate { handle: String },
    /// Re-activate a staff member
    Activate { handle: String },
    /// Revoke an OpenSSH user certificate by serial: `serve --user-ca` refuses it from the
    /// next login on (it re-reads the list every time)
    RevokeCert {
        serial: u64,
        /// The revocation list [default: revoked_certs in the data directory]
        #[arg(long, value_name = "FILE")]
        file: Option<std::path::PathBuf>,
    },
}

fn summary(s: &Staff) -> String {
    format!(
        "{} ({}) {}, MFA {}, {} SSH key(s){}",
        cell(&s.handle, 63),
        cell(&s.display_name, 60),
        s.role,
        if s.mfa_enabled { "on" } else { "off" },
        s.ssh_keys.len(),
        if s.active { "" } else { ", inactive" }
    )
}

fn read_keys(files: &[std::path::PathBuf]) -> Result<Vec<String>, CliError> {
    let mut out = Vec::new();
    for f in files {
        let text = crate::input::read_text(f, MAX_SSH_KEY_FILE_BYTES, "SSH key file")?;
        out.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_string),
        );
    }
    Ok(out)
}

pub async fn run(ctx: &Ctx, cmd: &StaffCmd) -> Result<(), CliError> {
    let tenant = ctx.tenant().await?;
    if let StaffCmd::RevokeCert { serial, file } = cmd {
        ctx.reads
            .require_operation(
                rustok_domain::Permission::new("staff", "update"),
                "revoke certificates",
                ctx.read_only,
            )
            .await?;
        let path = file
            .clone()
            .unwrap_or_else(crate::ssh::certs::default_revoked_path);
        let note = format!("revoked by {} at {}", ctx.actor.handle, chrono::Utc::now());
        crate::ssh::certs::Revoked::append(&path, *serial, &note)
            .map_err(|e| CliError::Input(format!("cannot write {}: {e}", path.display())))?;
        let entry = rustok_domain::audit::AuditLogEntry {
            seq: 0,
            at: chrono::Utc::now(),
            actor: ctx.actor.handle.clone(),
            command: "revoke_cert".into(),
            command_id: rustok_domain::CommandId::new_v7(),
            tenant_id: tenant.id,
            session: None,
            outcome: rustok_domain::audit::AuditOutcome::Ok,
            reason: Some(format!(
                "certificate serial {serial} revoked in {}",
                path.display()
            )),
        };
        ctx.store.append_audit(&entry).await?;
        let out = serde_json::json!({ "revoked": serial, "file": path.display().to_string() });
        emit(ctx.json, &out, || {
            format!("revoked certificate serial {serial} ({})", path.display())
        });
        return Ok(());
    }
    let (command, verb) = match cmd {
        StaffCmd::List => {
            let staff = ctx.reads.staff().await?;
            emit(ctx.json, &staff, || {
                let rows: Vec<Vec<String>> = staff
                    .iter()
                    .map(|s| {
                        vec![
                            cell(&s.handle, 63),
                            cell(&s.display_name, 30),
                            s.role.to_string(),
                            if s.mfa_enabled { "on" } else { "off" }.into(),
                            s.ssh_keys.len().to_string(),
                            if s.active { "active" } else { "inactive" }.into(),
                            time(&s.created_at),
                        ]
                    })
                    .collect();
                table(
                    &["HANDLE", "NAME", "ROLE", "MFA", "KEYS", "STATE", "CREATED"],
                    &rows,
                )
            });
            return Ok(());
        }
        StaffCmd::Add {
            handle,
            role,
            name,
            ssh_keys,
            mfa,
        } => (
            Command::AddStaff(StaffDraft {
                id: StaffId::new_v7(),
                handle: handle.clone(),
                display_name: name.clone(),
                role: role.parse::<Role>()?,
                ssh_keys: read_keys(ssh_keys)?,
                mfa_enabled: *mfa,
            }),
            "added",
        ),
        StaffCmd::Role { handle, role } => (
            Command::ChangeStaffRole {
                handle: handle.clone(),
                role: role.parse::<Role>()?,
            },
            "changed",
        ),
        StaffCmd::Mfa { handle, state } => (
            Command::SetStaffMfa {
                handle: handle.clone(),
                enabled: state == "on",
            },
            "changed",
        ),
        StaffCmd::Deactivate { handle } => (
            Command::SetStaffActive {
                handle: handle.clone(),
                active: false,
            },
            "deactivated",
        ),
        StaffCmd::Activate { handle } => (
            Command::SetStaffActive {
                handle: handle.clone(),
                active: true,
            },
            "activated",
        ),
        StaffCmd::RevokeCert { .. } => unreachable!("handled above"),
    };
    let applied = ctx.execute(&tenant, command).await?;
    if let Outcome::Staff(s) = applied.outcome {
        emit(ctx.json, &s, || {
            format!("{verb} staff member {}", summary(&s))
        });
    }
    Ok(())
}
