//! `rustok audit run|log`: the security audit and the audit log of staff actions.

use super::output::{cell, emit, table, time};
use super::{CliError, Ctx};
use clap::{Subcommand, ValueEnum};
use rustok_domain::audit::{AuditReport, BatchReport};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Json,
    Markdown,
    Html,
}

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Run the security audit of this deployment and print or save the report
    Run {
        /// Report format [default: json with --json, markdown otherwise]
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// Write the report to FILE instead of stdout
        #[arg(long, value_name = "FILE")]
        output: Option<std::path::PathBuf>,
        /// One report per tenant plus a summary (batch audit)
        #[arg(long)]
        all_tenants: bool,
    },
    /// The audit log of staff actions, newest first
    Log {
        /// Entries to show, 1 to 10,000
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=crate::input::MAX_AUDIT_LOG_LIMIT))]
        limit: u64,
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=crate::input::MAX_OFFSET))]
        offset: u64,
        /// Only entries whose actor, command, outcome, reason or session contains this text
        /// (ASCII case ignored), as the console's `/` in the audit log
        #[arg(long, value_name = "TEXT", default_value = "")]
        filter: String,
    },
}

pub async fn run(ctx: &Ctx, cmd: &AuditCmd) -> Result<(), CliError> {
    let tenant = ctx.tenant().await?;
    match cmd {
        AuditCmd::Run {
            format,
            output,
            all_tenants,
        } => {
            let input = ctx.reads.audit_input(&ctx.db_url, ctx.read_only).await?;
            let now = chrono::Utc::now();
            let format = format.unwrap_or(if ctx.json {
                Format::Json
            } else {
                Format::Markdown
            });
            let (text, score, passed) = if *all_tenants {
                let b = BatchReport::run(&input, None, now);
                let text = match format {
                    Format::Json => b.to_json(),
                    Format::Markdown => b.to_markdown(),
                    Format::Html => b.to_html(),
                };
                (text, b.lowest_score, b.all_passed)
            } else {
                let r = AuditReport::run(&input, Some(&tenant.slug), now);
                let text = match format {
                    Format::Json => r.to_json(),
                    Format::Markdown => r.to_markdown(),
                    Format::Html => r.to_html(),
                };
                (text, r.score, r.passed)
            };
            match output {
                Some(path) => {
                    std::fs::write(path, &text).map_err(|e| {
                        CliError::Input(format!("cannot write {}: {e}", path.display()))
                    })?;
                    let line = format!(
                        "wrote the audit report to {} (score {score}/100, {})",
                        path.display(),
                        if passed { "passed" } else { "failed" }
                    );
                    if ctx.json {
                        eprintln!("{line}");
                    } else {
                        println!("{line}");
                    }
                }
                None => println!("{}", text.trim_end()),
            }
            Ok(())
        }
        AuditCmd::Log {
            limit,
            offset,
            filter,
        } => {
            let page = ctx.reads.audit_log(*offset, *limit, filter).await?;
            emit(ctx.json, &page, || {
                let rows: Vec<Vec<String>> = page
                    .rows
                    .iter()
                    .map(|e| {
                        vec![
                            time(&e.at),
                            cell(&e.actor, 30),
                            e.command.clone(),
                            e.outcome.as_str().into(),
                            cell(e.session.as_deref().unwrap_or("-"), 45),
                            cell(e.reason.as_deref().unwrap_or(""), 80),
                        ]
                    })
                    .collect();
                table(
                    &["AT", "ACTOR", "COMMAND", "OUTCOME", "SESSION", "REASON"],
                    &rows,
                )
            });
            Ok(())
        }
    }
}
