//! `rustok script` (hidden): a long-running process that reads one command per line from
//! stdin, runs each through the action queue and acknowledges it on stdout only after it
//! committed — the crash driver (`tests/crash_driver.rs`) kills it with SIGKILL at random
//! points and checks that nothing acknowledged was lost and nothing applied twice.
//!
//! Input, one JSON object per line (at most 8 MiB a line, `input::MAX_SCRIPT_LINE_BYTES`; a
//! longer one ends the process with an error, having read no more than that of it):
//! `{"id": "<command uuid>", "command": <Command>}`. The
//! command id is the caller's, so a command sent again after a crash (its acknowledgement
//! never arrived) is found in the command log and not applied twice.
//!
//! Output, one line per command, flushed at once:
//! - `ack <command id> <event id>,<event id>,...` — committed, with the events it wrote;
//! - `refused <command id> <one-line reason>` — not applied.
//!
//! With `--relay` a relay runs in the same process, so kills also land mid-delivery; with
//! `--consumer-log DIR` it has two consumers (`crash-a`, `crash-b`) that append one line per
//! hand-over (`<pid> <event id> <unix µs>`) to `DIR/<consumer>.log`. When stdin closes the
//! relay drains everything deliverable, then the process prints `drained` and exits.

use super::{CliError, Ctx};
use crate::runtime::{Bus, Consumer, Relay, RelayConfig};
use clap::Args;
use rustok_domain::event::EventEnvelope;
use rustok_domain::{Command, CommandEnvelope, CommandId};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct ScriptArgs {
    /// Run a relay in this process too
    #[arg(long)]
    relay: bool,
    /// How long the relay's claims are leased (a killed process's claims expire after this)
    #[arg(long, default_value_t = 30_000, value_name = "MS",
          value_parser = clap::value_parser!(u64).range(1..=crate::input::MAX_LEASE_MS))]
    lease_ms: u64,
    /// Add two consumers that log every hand-over to DIR/crash-a.log and DIR/crash-b.log
    #[arg(long, value_name = "DIR")]
    consumer_log: Option<PathBuf>,
}

#[derive(serde::Deserialize)]
struct Line {
    id: CommandId,
    command: Command,
}

/// A consumer whose effect is a line appended to its own file: one `write` of one line on an
/// `O_APPEND` file, so a SIGKILL leaves whole lines only (the kernel keeps what was written).
struct FileConsumer {
    name: String,
    file: std::sync::Mutex<std::fs::File>,
}

impl FileConsumer {
    fn open(dir: &Path, name: &str) -> std::io::Result<FileConsumer> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(format!("{name}.log")))?;
        Ok(FileConsumer {
            name: name.to_string(),
            file: std::sync::Mutex::new(file),
        })
    }
}

impl Consumer for FileConsumer {
    fn name(&self) -> &str {
        &self.name
    }

    fn handle(&self, event: &EventEnvelope) -> Result<(), String> {
        let line = format!(
            "{} {} {}\n",
            std::process::id(),
            event.id,
            chrono::Utc::now().timestamp_micros()
        );
        let mut f = self.file.lock().map_err(|_| "log file lock poisoned")?;
        f.write_all(line.as_bytes()).map_err(|e| e.to_string())
    }
}

fn say(line: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")
        .and_then(|_| out.flush())
        .map_err(|e| CliError::Input(format!("cannot write to stdout: {e}")))
}

pub async fn run(ctx: &Ctx, args: &ScriptArgs) -> Result<(), CliError> {
    let tenant = ctx.tenant().await?;
    let relay = if args.relay {
        let cfg = RelayConfig {
            lease: Duration::from_millis(args.lease_ms.max(1)),
            ..RelayConfig::default()
        };
        let mut relay = Relay::new(ctx.store.clone(), Bus::new(1024), cfg);
        if let Some(dir) = &args.consumer_log {
            for name in ["crash-a", "crash-b"] {
                let c = FileConsumer::open(dir, name)
                    .map_err(|e| CliError::Input(format!("cannot open {}: {e}", dir.display())))?;
                relay = relay.with_consumer(Arc::new(c));
            }
        }
        Some(Arc::new(relay))
    } else {
        None
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let relay_task = relay.clone().map(|r| {
        let stopped = stopped.clone();
        tokio::spawn(async move { r.run(stopped).await })
    });

    let mut stdin = tokio::io::BufReader::new(tokio::io::stdin());
    while let Some(text) =
        crate::input::read_line_bounded(&mut stdin, crate::input::MAX_SCRIPT_LINE_BYTES).await?
    {
        if text.trim().is_empty() {
            continue;
        }
        let line: Line = serde_json::from_str(&text).map_err(|e| {
            CliError::Input(rustok_domain::text::printable(&format!(
                "not a command line: {e}"
            )))
        })?;
        let env = CommandEnvelope {
            id: line.id,
            tenant_id: tenant.id,
            actor: ctx.actor.clone(),
            correlation_id: None,
            command: line.command,
        };
        match ctx.queue.execute(env).await {
            Ok(applied) => {
                let events: Vec<String> = applied.events.iter().map(|e| e.id.to_string()).collect();
                say(&format!("ack {} {}", line.id, events.join(",")))?;
            }
            Err(e) => say(&format!(
                "refused {} {}",
                line.id,
                rustok_domain::text::printable(&e.to_string())
            ))?,
        }
        if let Some(r) = &relay {
            // The relay also runs on its own; waking it keeps delivery close behind.
            r.waker().notify_one();
        }
    }

    // stdin closed: stop the background relay, then deliver everything deliverable (rows a
    // killed process had claimed become claimable when their lease expires).
    let _ = stop.send(true);
    if let Some(t) = relay_task {
        let _ = t.await;
    }
    if let Some(r) = &relay {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(args.lease_ms) * 2;
        loop {
            r.drain().await?;
            if ctx.store.outbox_counts(None).await?.pending == 0
                || tokio::time::Instant::now() > deadline
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    say("drained")
}
