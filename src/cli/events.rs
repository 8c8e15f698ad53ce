use super::output::{cell, emit, opt_time, table, time};
use super::{CliError, Ctx};
use crate::runtime::{Bus, EventGate, FeedConfig, FeedStream};
use clap::Subcommand;
use rustok_domain::Command;
use rustok_domain::event::EventQuery;
use rustok_domain::event::query::{QueryError, TimeRef};
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
        /// Only events matching this expression of the event query language (CLI.md), e.g.
        /// 'type:order.* payload.total.amount>6000 since:1h'
        #[arg(long, value_name = "EXPR")]
        filter: Option<String>,
        /// Only events that occurred at or after this time: 10m, 2h, 7d ago, RFC 3339, a date
        #[arg(long, value_name = "WHEN")]
        since: Option<String>,
        /// Only events stored after this sequence number
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(i64).range(0..))]
        after_seq: Option<i64>,
        /// Newest first (the limit then keeps the newest)
        #[arg(long)]
        newest_first: bool,
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=crate::input::MAX_LIST_LIMIT))]
        limit: u64,
    },
    /// Follow new events until interrupted (one JSON object per line with --json)
    Tail {
        /// Also print this many of the latest events first (those of them that match --filter)
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=crate::input::MAX_LIST_LIMIT))]
        last: u64,
        /// Only events matching this expression of the event query language (CLI.md)
        #[arg(long, value_name = "EXPR")]
        filter: Option<String>,
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
        /// Only this event (repeatable; default: all dead letters)
        #[arg(long, value_name = "EVENT_ID", conflicts_with = "filter")]
        id: Vec<String>,
        /// Only the dead letters matching this expression of the event query language
        #[arg(long, value_name = "EXPR")]
        filter: Option<String>,
        /// Print what would be re-queued (count and rows) and change nothing
        #[arg(long)]
        dry_run: bool,
        /// An independent consumer's dead letters (e.g. jetstream:RUSTOK_EVENTS), back in its
        /// own queue [default: the outbox's]
        #[arg(long, value_name = "C")]
        consumer: Option<String>,
    },
    /// List dead letters with their attempts and last error
    Failed {
        /// Only the dead letters matching this expression of the event query language
        #[arg(long, value_name = "EXPR")]
        filter: Option<String>,
        /// An independent consumer's dead letters (`outbox consumers` names them), e.g.
        /// jetstream:RUSTOK_EVENTS [default: the outbox's own]
        #[arg(long, value_name = "C")]
        consumer: Option<String>,
    },
    /// Every consumer of the outbox: delivered, pending, failed, lag, last error
    Consumers,
    /// Drop a stream consumer: its registration, what it is still owed, its dead letters and
    /// receipts (owners and admins; audited). Stop the processes configured with it first:
    /// one that starts with it registers it again
    Unregister {
        /// The consumer, as `outbox consumers` names it (e.g. jetstream:RUSTOK_EVENTS)
        #[arg(long, value_name = "C")]
        consumer: String,
        /// Print what would be dropped and change nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Owe a stream consumer the events already stored, from a point on, so a stream
    /// registered late gets the history (owners and admins; audited)
    #[command(group(clap::ArgGroup::new("from").required(true).args(["after_seq", "since"])))]
    Backfill {
        /// The consumer, as `outbox consumers` names it (e.g. jetstream:RUSTOK_EVENTS)
        #[arg(long, value_name = "C")]
        consumer: String,
        /// The events stored after this sequence number (0: the whole history kept)
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(i64).range(0..))]
        after_seq: Option<i64>,
        /// The events that occurred at or after this time: 10m, 2h, 7d ago, RFC 3339, a date
        #[arg(long, value_name = "WHEN")]
        since: Option<String>,
    },
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

/// Dead letters as a table: each with its attempts and last error.
fn dead_letter_rows(failed: &[StoredEvent]) -> String {
    let rows: Vec<Vec<String>> = failed
        .iter()
        .map(|e| {
            vec![
                e.seq.to_string(),
                e.envelope.id.to_string(),
                e.envelope.event_type.clone(),
                e.attempts.to_string(),
                opt_time(&e.dispatched_at),
                cell(e.last_error.as_deref().unwrap_or(""), 60),
            ]
        })
        .collect();
    table(
        &[
            "SEQ",
            "EVENT",
            "TYPE",
            "ATTEMPTS",
            "DISPATCHED",
            "LAST ERROR",
        ],
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

/// Dead letters a `--filter` considers at once (the oldest first); run again for more.
pub const MAX_REDRIVE: u64 = 10_000;

/// Rows read from the store at a time while a filter is applied in Rust.
const FILTER_PAGE: u64 = 1_000;

/// `--filter EXPR`: a malformed expression is a usage error (exit 2) of one line naming the
/// term. The expression is bounded before it is read (`event::query::MAX_QUERY_BYTES`).
fn query(filter: Option<&str>) -> Result<EventQuery, CliError> {
    match filter {
        None => Ok(EventQuery::default()),
        Some(text) => EventQuery::parse(text).map_err(|e| CliError::Usage(e.to_string())),
    }
}

/// An option that takes what `since:` takes (`--since 10m`).
fn time_option(option: &str, value: &str) -> Result<TimeRef, CliError> {
    TimeRef::parse(value).map_err(|e| {
        CliError::Usage(match e {
            QueryError::Term { term, message } => format!("{option} '{term}': {message}"),
            other => format!("{option}: {other}"),
        })
    })
}

pub async fn run_events(ctx: &Ctx, cmd: &EventsCmd) -> Result<(), CliError> {
    // Arguments are checked before anything is read or created.
    let (q, since) = match cmd {
        EventsCmd::List { filter, since, .. } => (
            query(filter.as_deref())?,
            since
                .as_deref()
                .map(|s| time_option("--since", s))
                .transpose()?,
        ),
        EventsCmd::Tail { filter, .. } => (query(filter.as_deref())?, None),
    };
    let tenant = ctx.tenant().await?;
    match cmd {
        EventsCmd::List {
            aggregate,
            event_type,
            after_seq,
            newest_first,
            limit,
            ..
        } => {
            // A UUID, or the short id screens show, resolved among the tenant's nodes,
            // orders and products.
            let aggregate_id = match aggregate {
                Some(a) => Some(ctx.reads.resolve_aggregate(tenant.id, a).await?),
                None => None,
            };
            let now = chrono::Utc::now();
            let since = since.map(|t| t.resolve(now));
            let limit = (*limit).max(1);
            // What the store can narrow (sequence bounds, one type, one aggregate) it does;
            // the rest of the expression is applied here, a page at a time, until `limit`
            // events matched or the store has no more.
            let plain = q.is_empty() && since.is_none();
            let page = if plain { limit } else { FILTER_PAGE };
            let mut after = [*after_seq, q.after_seq()].into_iter().flatten().max();
            let mut before = q.before_seq();
            let mut events = Vec::new();
            'pages: loop {
                let rows = ctx
                    .reads
                    .events(
                        tenant.id,
                        EventFilter {
                            aggregate_id,
                            event_type: event_type.clone(),
                            after_seq: after,
                            before_seq: before,
                            newest_first: *newest_first,
                            since,
                            limit: page,
                            ..Default::default()
                        },
                    )
                    .await?;
                let full = rows.len() as u64 >= page;
                match rows.last() {
                    Some(last) if *newest_first => before = Some(last.seq),
                    Some(last) => after = Some(last.seq),
                    None => {}
                }
                for e in rows {
                    if since.is_none_or(|t| e.envelope.occurred_at >= t)
                        && q.matches(e.seq, &e.envelope, now)
                    {
                        events.push(e);
                        if events.len() as u64 >= limit {
                            break 'pages;
                        }
                    }
                }
                if plain || !full {
                    break;
                }
            }
            emit(ctx.json, &events, || rows(&events));
            Ok(())
        }
        EventsCmd::Tail { last, .. } => {
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
                let now = chrono::Utc::now();
                for e in batch
                    .iter()
                    .filter(|e| gate.admits(&e.envelope) && q.matches(e.seq, &e.envelope, now))
                {
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
            let relay = crate::runtime::stream::relay(
                ctx.store.clone(),
                Bus::new(1024),
                ctx.stream_url.as_deref(),
                ctx.stream_name.as_deref(),
                &crate::runtime::Settings::load().config,
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
                        // Due schedules first (their events are then delivered by this pass).
                        let schedules = relay.run_schedules().await?;
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
                        Ok(((pass, streams, pruned, schedules), summary))
                    },
                )
                .await?;
            let (pass, streams, pruned, schedules) = pass;
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
                "schedules": schedules,
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
                if schedules.executed + schedules.refused > 0 {
                    text.push_str(&format!(
                        "\nschedules: executed {}, refused {}",
                        schedules.executed, schedules.refused
                    ));
                }
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
        OutboxCmd::Retry {
            id,
            filter,
            dry_run,
            consumer,
        } => {
            let q = filter.as_deref().map(|f| query(Some(f))).transpose()?;
            let tenant = ctx.tenant().await?;
            let mut ids = Vec::with_capacity(id.len());
            for text in id {
                ids.push(ctx.event_id(&tenant, text).await?);
            }
            // The dead letters concerned: those matching the filter, those with the ids
            // given, or all of them.
            let selected = if *dry_run || q.is_some() {
                let now = chrono::Utc::now();
                let dead = dead_letters(ctx, &tenant, consumer.as_deref()).await?;
                Some(
                    dead.into_iter()
                        .filter(|d| match &q {
                            Some(q) => q.matches(d.seq, &d.envelope, now),
                            None => ids.is_empty() || ids.contains(&d.envelope.id),
                        })
                        .collect::<Vec<_>>(),
                )
            } else {
                None
            };
            if *dry_run {
                let rows = selected.unwrap_or_default();
                let n = rows.len();
                let value =
                    serde_json::json!({ "dry_run": true, "would_requeue": n, "events": rows });
                emit(ctx.json, &value, || {
                    if n == 0 {
                        "no dead letter would be put back in the queue".to_string()
                    } else {
                        format!(
                            "{n} dead letter(s) would be put back in the queue (--dry-run: nothing changed)\n{}",
                            dead_letter_rows(&rows)
                        )
                    }
                });
                return Ok(());
            }
            if let Some(rows) = selected {
                ids = rows.iter().map(|d| d.envelope.id).collect();
                if ids.is_empty() {
                    // An empty id list would mean every dead letter: nothing is sent, but the
                    // attempt is checked (owners and admins, refused read-only) and audited
                    // as the command would be.
                    let nothing = retry_command(consumer.as_deref(), vec![]);
                    let (permission, what) = rbac::requirement(&nothing);
                    ctx.audited(tenant.id, nothing.name(), permission, what, async || {
                        Ok((
                            (),
                            "no dead letter matched the filter: 0 re-queued".to_string(),
                        ))
                    })
                    .await?;
                    emit(ctx.json, &serde_json::json!({ "requeued": 0 }), || {
                        "no dead letter matches the filter: 0 back in the queue".to_string()
                    });
                    return Ok(());
                }
            }
            // A command like any other: permission outbox:retry (owners and admins), refused
            // read-only, only this tenant's dead letters, one audit-log row either way.
            let command = retry_command(consumer.as_deref(), ids);
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
                let mut text = table(
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
                );
                // The column cuts an error where its cause usually is (the end of the
                // chain): each one whole, below the table.
                for c in &consumers {
                    if let Some(e) = c.last_error.as_deref().filter(|e| e.chars().count() > 50) {
                        text.push_str(&format!("\n{}: {}", c.consumer, cell(e, 1000)));
                    }
                }
                text
            });
            Ok(())
        }
        OutboxCmd::Unregister { consumer, dry_run } => {
            let tenant = ctx.tenant_id_if_any().await?;
            let name = independent_consumer(consumer)?;
            if *dry_run {
                // What would go: read like `outbox consumers` (event:read).
                let stats = ctx.reads.consumers().await?;
                let Some(c) = stats.iter().find(|c| c.consumer == name) else {
                    return Err(unknown_consumer(name, &stats).into());
                };
                let would = serde_json::json!({
                    "dry_run": true,
                    "consumer": name,
                    "would_drop": { "pending": c.pending, "failed": c.failed },
                });
                emit(ctx.json, &would, || {
                    format!(
                        "would drop {name}: {} pending, {} dead letter(s) and its receipts (nothing changed)",
                        c.pending, c.failed
                    )
                });
                return Ok(());
            }
            let removal = ctx
                .audited(
                    tenant,
                    "unregister_consumer",
                    rbac::OUTBOX_RELAY,
                    "drop a stream consumer",
                    async || match ctx.store.unregister_consumer(name).await? {
                        Some(r) => Ok((
                            r,
                            format!(
                                "{name} dropped: {} pending, {} dead letter(s), {} receipt(s)",
                                r.pending, r.failed, r.receipts
                            ),
                        )),
                        None => {
                            let stats = ctx.store.consumer_stats(None, chrono::Utc::now());
                            Err(unknown_consumer(name, &stats.await?).into())
                        }
                    },
                )
                .await?;
            let out = serde_json::json!({ "consumer": name, "dropped": removal });
            emit(ctx.json, &out, || {
                format!(
                    "{name} unregistered: {} pending and {} dead letter(s) dropped, {} receipt(s) deleted",
                    removal.pending, removal.failed, removal.receipts
                )
            });
            Ok(())
        }
        OutboxCmd::Backfill {
            consumer,
            after_seq,
            since,
        } => {
            let from = match (after_seq, since) {
                (Some(n), _) => rustok_store::BackfillFrom::AfterSeq(*n),
                (None, Some(s)) => rustok_store::BackfillFrom::Since(
                    time_option("--since", s)?.resolve(chrono::Utc::now()),
                ),
                (None, None) => {
                    return Err(CliError::Usage(
                        "one of --after-seq N or --since WHEN is required".into(),
                    ));
                }
            };
            let tenant = ctx.tenant_id_if_any().await?;
            let name = independent_consumer(consumer)?;
            let added = ctx
                .audited(
                    tenant,
                    "backfill_consumer",
                    rbac::OUTBOX_RELAY,
                    "back-fill a stream consumer",
                    async || match ctx.store.backfill_consumer(name, from).await? {
                        Some(n) => Ok((n, format!("{name} owed {n} stored event(s)"))),
                        None => {
                            let stats = ctx.store.consumer_stats(None, chrono::Utc::now());
                            Err(unknown_consumer(name, &stats.await?).into())
                        }
                    },
                )
                .await?;
            emit(
                ctx.json,
                &serde_json::json!({ "consumer": name, "owed": added }),
                || {
                    format!(
                        "{name} now owed {added} stored event(s); a relay with the stream configured delivers them, oldest first"
                    )
                },
            );
            Ok(())
        }
        OutboxCmd::Failed { filter, consumer } => {
            let q = query(filter.as_deref())?;
            let tenant = ctx.tenant().await?;
            let now = chrono::Utc::now();
            let failed: Vec<StoredEvent> = dead_letters(ctx, &tenant, consumer.as_deref())
                .await?
                .into_iter()
                .filter(|d| q.matches(d.seq, &d.envelope, now))
                .collect();
            emit(ctx.json, &failed, || dead_letter_rows(&failed));
            Ok(())
        }
    }
}

/// A stream consumer's name as given: the bus is not one (it is the outbox itself).
fn independent_consumer(name: &str) -> Result<&str, CliError> {
    if name == crate::runtime::BUS_CONSUMER {
        return Err(CliError::Usage(format!(
            "--consumer {}: the bus is the outbox's own delivery, not a stream consumer (outbox consumers lists them)",
            crate::runtime::BUS_CONSUMER
        )));
    }
    // Names are `jetstream:` and a stream name (JetStream allows 255 characters at most).
    if name.len() > 300 {
        return Err(CliError::Usage(format!(
            "--consumer: {} bytes; a consumer name is at most 300",
            name.len()
        )));
    }
    Ok(name)
}

/// No stream consumer by this name: the error names those there are.
fn unknown_consumer(
    name: &str,
    stats: &[rustok_domain::read::ConsumerStats],
) -> rustok_domain::DomainError {
    let known: Vec<&str> = stats
        .iter()
        .map(|c| c.consumer.as_str())
        .filter(|c| *c != crate::runtime::BUS_CONSUMER)
        .collect();
    let registered = if known.is_empty() {
        "none is registered".to_string()
    } else {
        format!("registered: {}", known.join(", "))
    };
    rustok_domain::DomainError::validation(
        "--consumer",
        format!(
            "no stream consumer {} ({registered})",
            rustok_domain::text::printable(&super::output::cell(name, 60))
        ),
    )
}

/// The dead letters of the outbox (the in-process consumers') or of an independent consumer,
/// oldest first, at most [`MAX_REDRIVE`].
async fn dead_letters(
    ctx: &Ctx,
    tenant: &rustok_domain::Tenant,
    consumer: Option<&str>,
) -> Result<Vec<StoredEvent>, CliError> {
    Ok(match consumer {
        None | Some(crate::runtime::BUS_CONSUMER) => {
            ctx.reads.dead_letters(tenant.id, MAX_REDRIVE).await?
        }
        Some(c) => {
            ctx.reads
                .consumer_dead_letters(tenant.id, c, MAX_REDRIVE)
                .await?
        }
    })
}

/// The re-drive command for these dead letters of the outbox or of an independent consumer.
fn retry_command(consumer: Option<&str>, ids: Vec<rustok_domain::EventId>) -> Command {
    match consumer {
        None | Some(crate::runtime::BUS_CONSUMER) => Command::RetryDeadLetters { ids },
        Some(c) => Command::RetryConsumerDeadLetters {
            consumer: c.to_string(),
            ids,
        },
    }
}
