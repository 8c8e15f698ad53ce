use super::output::{cell, emit, opt_time, table, time};
use super::{CliError, Ctx};
use crate::runtime::{Bus, EventGate, FeedConfig, FeedStream, Relay, RelayConfig};
use clap::Subcommand;
use rustok_domain::Command;
use rustok_domain::rbac::{self, Permission};
use rustok_store::{EventFilter, Outcome, StoredEvent};
use std::io::Write;

#[derive(Debug, Subcommand)]
pub enum EventsCmd {
    /// List stored events of the tenant, oldest first
    List {
        /// Only events of this aggregate (node, order, ...) id
        #[arg(long, value_name = "ID")]
        aggregate: Option<String>,
        /// Only events of this type, e.g. node.published
        #[arg(long = "type", value_name = "T")]
        event_type: Option<String>,
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=crate::input::MAX_LIST_LIMIT))]
        limit: u64,
    },
    /// Follow new events until interrupted (one JSON object per line with --json)
    Tail {
        /// Also print this many of the latest events first
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=crate::input::MAX_LIST_LIMIT))]
        last: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum OutboxCmd {
    /// Pending / dispatched / failed counts
    Status,
    /// Deliver pending events now and prune old bookkeeping (owners and admins; audited;
    /// the console does this continuously)
    Relay {
        /// Keep relaying until interrupted
        #[arg(long)]
        follow: bool,
    },
    /// Put the tenant's dead letters back in the queue (owners and admins; audited)
    Retry {
        /// Only this event (default: all dead letters)
        #[arg(long, value_name = "EVENT_ID")]
        id: Vec<String>,
        /// An independent consumer's dead letters (e.g. jetstream:RUSTOK_EVENTS), back in its
        /// own queue [default: the outbox's]
        #[arg(long, value_name = "C")]
        consumer: Option<String>,
    },
    /// List dead letters
    Failed {
        /// An independent consumer's dead letters (`outbox consumers` names them), e.g.
        /// jetstream:RUSTOK_EVENTS [default: the outbox's own]
        #[arg(long, value_name = "C")]
        consumer: Option<String>,
    },
    /// Every consumer of the outbox: delivered, pending, failed, lag, last error
    Consumers,
}

fn rows(events: &[StoredEvent]) -> String {
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|e| {
            vec![
                e.seq.to_string(),
                time(&e.envelope.occurred_at),
                e.envelope.event_type.clone(),
                e.envelope.aggregate_id.to_string(),
                cell(&e.envelope.actor, 20),
                e.status.clone(),
            ]
        })
        .collect();
    table(
        &["SEQ", "OCCURRED", "TYPE", "AGGREGATE", "ACTOR", "DELIVERY"],
        &rows,
    )
}

fn line(e: &StoredEvent) -> String {
    format!(
        "{}  {:<26} {}  {}  by {}",
        time(&e.envelope.occurred_at),
        e.envelope.event_type,
        e.envelope.aggregate_type,
        e.envelope.aggregate_id,
        cell(&e.envelope.actor, 20)
    )
}

pub async fn run_events(ctx: &Ctx, cmd: &EventsCmd) -> Result<(), CliError> {
    let tenant = ctx.tenant().await?;
    match cmd {
        EventsCmd::List {
            aggregate,
            event_type,
            limit,
        } => {
            // A UUID, or the short id screens show, resolved among the tenant's nodes,
            // orders and products.
            let aggregate_id = match aggregate {
                Some(a) => Some(ctx.reads.resolve_aggregate(tenant.id, a).await?),
                None => None,
            };
            let events = ctx
                .reads
                .events(
                    tenant.id,
                    EventFilter {
                        aggregate_id,
                        event_type: event_type.clone(),
                        limit: (*limit).max(1),
                        ..Default::default()
                    },
                )
                .await?;
            emit(ctx.json, &events, || rows(&events));
            Ok(())
        }
        EventsCmd::Tail { last } => {
            // Only the events the member may read; the role is checked again after a staff
            // event and every few seconds, and a member deactivated meanwhile is cut off.
            let mut gate = EventGate::for_role(
                ctx.reads
                    .require(Permission::new("event", "read"), "read events")
                    .await?,
            );
            let mut recheck = tokio::time::interval(std::time::Duration::from_secs(5));
            recheck.tick().await;
            // The live feed: every event any process commits (LISTEN/NOTIFY on PostgreSQL,
            // polling on SQLite), in commit order, each exactly once.
            let mut feed = FeedStream::start(
                ctx.store.clone(),
                Some(tenant.id),
                *last,
                FeedConfig::default(),
            )
            .await?;
            let stop = tokio::signal::ctrl_c();
            tokio::pin!(stop);
            loop {
                let batch = tokio::select! {
                    _ = &mut stop => return Ok(()),
                    _ = recheck.tick() => {
                        gate = EventGate::for_role(ctx.reads.role().await?);
                        continue;
                    }
                    batch = feed.next() => batch,
                };
                if batch.iter().any(|e| EventGate::stale_after(&e.envelope)) {
                    gate = EventGate::for_role(ctx.reads.role().await?);
                }
                let mut out = std::io::stdout().lock();
                for e in batch.iter().filter(|e| gate.admits(&e.envelope)) {
                    let text = if ctx.json {
                        super::output::json_safe(&serde_json::to_string(e).unwrap_or_default())
                    } else {
                        line(e)
                    };
                    if writeln!(out, "{text}").is_err() {
                        return Ok(()); // stdout closed (e.g. piped into head)
                    }
                }
                if out.flush().is_err() {
                    return Ok(());
                }
            }
        }
    }
}

pub async fn run_outbox(ctx: &Ctx, cmd: &OutboxCmd) -> Result<(), CliError> {
    match cmd {
        OutboxCmd::Status => {
            let tenant = ctx.tenant().await?;
            let c = ctx.reads.outbox_counts(tenant.id).await?;
            emit(ctx.json, &c, || {
                format!(
                    "pending     {}\ndispatched  {}\nfailed      {}",
                    c.pending, c.dispatched, c.failed
                )
            });
            Ok(())
        }
        OutboxCmd::Relay { follow } => {
            // Delivering and pruning by hand is owner and admin work (audited, refused
            // read-only); it delivers every tenant's events, as a console's relay does, so it
            // creates no tenant (its audit row names the --tenant one if it exists).
            let tenant = ctx.tenant_id_if_any().await?;
            let stream = crate::runtime::StreamSettings::resolve(
                ctx.stream_url.as_deref(),
                ctx.stream_name.as_deref(),
                &crate::runtime::Settings::load().config,
            );
            let relay = crate::runtime::stream::attach(
                Relay::new(ctx.store.clone(), Bus::new(1024), RelayConfig::default()),
                stream,
            );
            let what = "run the relay by hand";
            if *follow {
                return ctx
                    .audited(
                        tenant,
                        "relay_outbox",
                        rbac::OUTBOX_RELAY,
                        what,
                        async move || {
                            let (tx, rx) = tokio::sync::watch::channel(false);
                            let task = tokio::spawn(async move { relay.run(rx).await });
                            let _ = tokio::signal::ctrl_c().await;
                            let _ = tx.send(true);
                            let _ = task.await;
                            Ok(((), "relayed until interrupted".to_string()))
                        },
                    )
                    .await;
            }
            let pass = ctx
                .audited(
                    tenant,
                    "relay_outbox",
                    rbac::OUTBOX_RELAY,
                    what,
                    async || {
                        let pass = relay.drain().await?;
                        // Then the independent consumers (the stream), as far as they go.
                        let streams = relay.drain_streams().await?;
                        // What a running relay does every hour: forget the bookkeeping older than
                        // the retention (store/src/housekeeping.rs).
                        let pruned = relay.prune().await?;
                        let summary = format!(
                            "delivered {}, dead-lettered {}, pruned {} + {}",
                            pass.delivered, pass.dead_lettered, pruned.command_log, pruned.receipts
                        );
                        Ok(((pass, streams, pruned), summary))
                    },
                )
                .await?;
            let (pass, streams, pruned) = pass;
            let streams_json: serde_json::Map<String, serde_json::Value> = streams
                .iter()
                .map(|(name, p)| (name.clone(), serde_json::json!(p)))
                .collect();
            let summary = serde_json::json!({
                "delivered": pass.delivered,
                "retried": pass.retried,
                "dead_lettered": pass.dead_lettered,
                "duplicates": pass.duplicates,
                "pruned_command_log": pruned.command_log,
                "pruned_receipts": pruned.receipts,
                "streams": streams_json,
            });
            emit(ctx.json, &summary, || {
                let mut text = format!(
                    "delivered {}, retried {}, dead-lettered {}, duplicates {}; pruned {} command-log row(s) and {} receipt(s) past the retention",
                    pass.delivered,
                    pass.retried,
                    pass.dead_lettered,
                    pass.duplicates,
                    pruned.command_log,
                    pruned.receipts
                );
                for (name, p) in &streams {
                    text.push_str(&format!(
                        "\n{name}: delivered {}, retried {}, dead-lettered {}",
                        p.delivered, p.retried, p.dead_lettered
                    ));
                }
                text
            });
            Ok(())
        }
        OutboxCmd::Retry { id, consumer } => {
            let tenant = ctx.tenant().await?;
            let mut ids = Vec::with_capacity(id.len());
            for text in id {
                ids.push(ctx.event_id(&tenant, text).await?);
            }
            // A command like any other: permission outbox:retry (owners and admins), refused
            // read-only, only this tenant's dead letters, one audit-log row either way.
            let command = match consumer.as_deref() {
                None | Some(crate::runtime::BUS_CONSUMER) => Command::RetryDeadLetters { ids },
                Some(c) => Command::RetryConsumerDeadLetters {
                    consumer: c.to_string(),
                    ids,
                },
            };
            let applied = ctx.execute(&tenant, command).await?;
            let n = match applied.outcome {
                Outcome::Requeued(n) => n,
                _ => 0,
            };
            emit(ctx.json, &serde_json::json!({ "requeued": n }), || {
                format!("{n} dead letter(s) back in the queue")
            });
            Ok(())
        }
        OutboxCmd::Consumers => {
            let consumers = ctx.reads.consumers().await?;
            emit(ctx.json, &consumers, || {
                let rows: Vec<Vec<String>> = consumers
                    .iter()
                    .map(|c| {
                        vec![
                            c.consumer.clone(),
                            c.delivered.to_string(),
                            c.pending.to_string(),
                            c.failed.to_string(),
                            format!("{:.1}s", c.lag_seconds),
                            opt_time(&c.last_delivered_at),
                            cell(c.last_error.as_deref().unwrap_or(""), 50),
                        ]
                    })
                    .collect();
                table(
                    &[
                        "CONSUMER",
                        "DELIVERED",
                        "PENDING",
                        "FAILED",
                        "LAG",
                        "LAST DELIVERED",
                        "LAST ERROR",
                    ],
                    &rows,
                )
            });
            Ok(())
        }
        OutboxCmd::Failed { consumer } => {
            let tenant = ctx.tenant().await?;
            let failed = match consumer.as_deref() {
                None | Some(crate::runtime::BUS_CONSUMER) => {
                    ctx.reads.dead_letters(tenant.id, 10_000).await?
                }
                Some(c) => {
                    ctx.reads
                        .consumer_dead_letters(tenant.id, c, 10_000)
                        .await?
                }
            };
            emit(ctx.json, &failed, || {
                let rows: Vec<Vec<String>> = failed
                    .iter()
                    .map(|e| {
                        vec![
                            e.envelope.id.to_string(),
                            e.envelope.event_type.clone(),
                            e.attempts.to_string(),
                            opt_time(&e.dispatched_at),
                            cell(e.last_error.as_deref().unwrap_or(""), 60),
                        ]
                    })
                    .collect();
                table(
                    &["EVENT", "TYPE", "ATTEMPTS", "DISPATCHED", "LAST ERROR"],
                    &rows,
                )
            });
            Ok(())
        }
    }
}
