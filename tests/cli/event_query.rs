//! The event query language from the command line (issue 19, items 4 and 5): `events list
//! --filter/--since/--after-seq/--newest-first`, `events tail --filter`, `outbox failed
//! --filter` and `outbox retry --filter/--id --dry-run`, with malformed expressions as usage
//! errors (exit 2, one line naming the term).

use crate::support;

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};
use support::cli::{Cli, product};

cli_on_both_backends!(
    events_list_filters_with_the_query_language,
    dead_letters_are_filtered_shown_dry_run_and_redriven_as_a_command,
);

/// Two orders: ann's for 2 mugs (70.00), bob's for 1 (35.00). Returns their ids.
fn two_orders(cli: &Cli) -> (String, String) {
    cli.json(&product("MUG", "35.00").title("Mug").stock(10).args());
    let ann = cli.json(&[
        "order",
        "create",
        "--item",
        "MUG:2",
        "--customer",
        "ann@example.com",
    ]);
    let bob = cli.json(&[
        "order",
        "create",
        "--item",
        "MUG:1",
        "--customer",
        "bob@x.org",
    ]);
    (
        ann["id"].as_str().unwrap().to_string(),
        bob["id"].as_str().unwrap().to_string(),
    )
}

fn listed(cli: &Cli, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["events", "list"];
    all.extend_from_slice(args);
    cli.json(&all).as_array().unwrap().clone()
}

fn types(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|e| e["event_type"].as_str().unwrap().to_string())
        .collect()
}

fn seqs(rows: &[Value]) -> Vec<i64> {
    rows.iter().map(|e| e["seq"].as_i64().unwrap()).collect()
}

fn events_list_filters_with_the_query_language(cli: Cli) {
    let (ann, bob) = two_orders(&cli);
    let all = listed(&cli, &["--limit", "1000"]);
    assert!(all.len() >= 4, "{all:?}");

    let orders = listed(&cli, &["--filter", "type:order.*"]);
    assert!(!orders.is_empty());
    assert!(types(&orders).iter().all(|t| t.starts_with("order.")));

    let big = listed(
        &cli,
        &[
            "--filter",
            "payload.total.amount>6000 payload.customer~example.com",
        ],
    );
    assert_eq!(types(&big), ["order.placed"]);
    assert_eq!(big[0]["aggregate_id"], ann.as_str());
    let quoted = listed(&cli, &["--filter", "payload.customer=\"bob@x.org\""]);
    assert_eq!(quoted.len(), 1);
    assert_eq!(quoted[0]["aggregate_id"], bob.as_str());

    // The short id the screens show, and the whole id.
    let short = &ann.replace('-', "")[24..];
    let by_short = listed(&cli, &["--filter", &format!("agg:{short}")]);
    let by_full = listed(&cli, &["--filter", &format!("agg:{ann}")]);
    assert_eq!(by_short, by_full);
    assert!(!by_short.is_empty());
    assert!(by_short.iter().all(|e| e["aggregate_id"] == ann.as_str()));

    // A bare word matches anywhere; actor:, since:, until:.
    assert_eq!(listed(&cli, &["--filter", "bob@x.org"]).len(), 1);
    assert_eq!(listed(&cli, &["--filter", "actor:owner"]).len(), all.len());
    assert!(listed(&cli, &["--filter", "actor:nobody"]).is_empty());
    assert_eq!(listed(&cli, &["--since", "1h"]).len(), all.len());
    assert_eq!(listed(&cli, &["--filter", "since:1h"]).len(), all.len());
    assert!(listed(&cli, &["--filter", "until:1h"]).is_empty());
    assert!(listed(&cli, &["--since", "2999-01-01"]).is_empty());

    // Sequence numbers: --after-seq, seq terms, newest first with a limit.
    let s = seqs(&all);
    let mid = s[s.len() / 2];
    assert_eq!(
        seqs(&listed(&cli, &["--after-seq", &mid.to_string()])),
        s.iter().copied().filter(|x| *x > mid).collect::<Vec<_>>()
    );
    assert_eq!(
        seqs(&listed(
            &cli,
            &["--filter", &format!("seq>={} seq<={}", s[1], s[2])]
        )),
        vec![s[1], s[2]]
    );
    assert_eq!(
        seqs(&listed(&cli, &["--newest-first", "--limit", "2"])),
        vec![s[s.len() - 1], s[s.len() - 2]]
    );
    // A filter with a limit: the first `limit` matches, whatever the page size.
    let first_order = listed(&cli, &["--filter", "type:order.*", "--limit", "1"]);
    assert_eq!(first_order, orders[..1].to_vec());
    let newest_order = listed(
        &cli,
        &["--filter", "type:order.*", "--limit", "1", "--newest-first"],
    );
    assert_eq!(newest_order, orders[orders.len() - 1..].to_vec());
    // The old options still work, alone and with a filter.
    assert_eq!(
        listed(&cli, &["--type", "order.placed", "--filter", "bob"]),
        quoted
    );
    assert_eq!(listed(&cli, &["--aggregate", short]), by_full);
}

/// A usage error: exit 2, nothing on stdout, one `error:` line on stderr. Returns it.
fn usage(cli: &Cli, args: &[&str]) -> String {
    let out = cli.run(args);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
    assert_eq!(err.lines().count(), 1, "{err:?}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(!err.chars().any(|c| c.is_control() && c != '\n'), "{err:?}");
    err
}

#[test]
fn a_malformed_filter_is_a_usage_error_naming_the_term() {
    let cli = Cli::new();
    let long = "x".repeat(10_000);
    for (filter, says) in [
        (
            "seq>abc",
            "filter term 'seq>abc': 'abc' is not a whole number",
        ),
        ("payload.=", "filter term 'payload.='"),
        ("type:order.* \"unbalanced", "filter term '\"unbalanced'"),
        ("a\u{1b}[2Jb", "filter term 'a\\x1b[2Jb'"),
        ("since:yesterday", "filter term 'since:yesterday'"),
        ("colour:red", "filter term 'colour:red': unknown key"),
        (long.as_str(), "the filter is too long"),
    ] {
        for cmd in [
            &["events", "list"][..],
            &["events", "tail"],
            &["outbox", "failed"],
            &["outbox", "retry", "--dry-run"],
            &["outbox", "retry"],
        ] {
            let mut args = cmd.to_vec();
            args.extend_from_slice(&["--filter", filter]);
            let err = usage(&cli, &args);
            assert!(err.contains(says), "{cmd:?}: {err}");
        }
    }
    let err = usage(&cli, &["events", "list", "--since", "soon"]);
    assert!(err.contains("--since 'soon'"), "{err}");
    // clap's own usage errors (several lines, as for every option) exit 2 too.
    for args in [
        &["events", "list", "--after-seq", "-1"][..],
        &["outbox", "retry", "--id", "abcd1234", "--filter", "x"],
    ] {
        assert_eq!(cli.run(args).status.code(), Some(2), "{args:?}");
    }
    // Nothing was retried or created by any of them.
    assert!(
        cli.json(&["audit", "log", "--filter", "retry"])["rows"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn events_tail_filters_the_live_tail() {
    let cli = Cli::new();
    let (ann, _) = two_orders(&cli);
    let mut child = cli
        .cmd(&[
            "events",
            "tail",
            "--last",
            "100",
            "--filter",
            "type:order.placed",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn tail");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let next = || {
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("a line from events tail");
        serde_json::from_str::<Value>(&line).expect("one JSON object a line")
    };
    // The latest events first: only the two placements of the 100.
    let first = next();
    let second = next();
    assert_eq!(first["event_type"], "order.placed");
    assert_eq!(second["event_type"], "order.placed");
    assert_eq!(first["aggregate_id"], ann.as_str());
    // Then live: a confirmation (filtered out) and a new order (shown).
    cli.json(&["order", "confirm", &ann]);
    let carl = cli.json(&[
        "order",
        "create",
        "--item",
        "MUG:1",
        "--customer",
        "c@c.com",
    ]);
    let live = next();
    assert_eq!(live["event_type"], "order.placed");
    assert_eq!(live["aggregate_id"], carl["id"]);
    let deadline = Instant::now() + Duration::from_millis(300);
    // Nothing else arrives: the confirmation and the stock events were filtered out.
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        if let Ok(line) = rx.recv_timeout(left) {
            panic!("unexpected line: {line}");
        }
    }
    child.kill().ok();
    child.wait().ok();
}

/// A consumer that never succeeds: after five attempts every event is a dead letter.
struct Broken;

impl rustok::runtime::Consumer for Broken {
    fn name(&self) -> &str {
        "broken"
    }
    fn handle(&self, _: &rustok_domain::event::EventEnvelope) -> Result<(), String> {
        Err("downstream unavailable".into())
    }
}

/// Makes every pending event of the database a dead letter.
fn dead_letter_everything(cli: &Cli) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let store = rustok_store::Store::connect(&cli.db.url).await.unwrap();
        let cfg = rustok::runtime::RelayConfig {
            base_backoff: Duration::ZERO,
            ..support::app::test_relay_config()
        };
        let relay = rustok::runtime::Relay::new(store.clone(), rustok::runtime::Bus::new(16), cfg)
            .with_consumer(std::sync::Arc::new(Broken));
        for _ in 0..5 {
            relay.drain().await.unwrap();
        }
        assert_eq!(store.outbox_counts(None).await.unwrap().pending, 0);
    });
}

fn audit(cli: &Cli) -> Vec<(String, String)> {
    cli.json(&[
        "audit",
        "log",
        "--filter",
        "retry_dead_letters",
        "--limit",
        "100",
    ])["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["command"] == "retry_dead_letters")
        .map(|r| {
            (
                r["actor"].as_str().unwrap().to_string(),
                r["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn dead_letters_are_filtered_shown_dry_run_and_redriven_as_a_command(cli: Cli) {
    let (ann, _) = two_orders(&cli);
    cli.json(&["staff", "add", "su", "--role", "support"]);
    cli.json(&["staff", "add", "ad", "--role", "admin"]);
    dead_letter_everything(&cli);
    let failed = cli.json(&["outbox", "failed"]);
    let failed = failed.as_array().unwrap();
    let total = failed.len();
    assert!(total >= 4, "{failed:?}");
    assert!(failed.iter().all(|d| {
        d["attempts"] == 5
            && d["last_error"]
                .as_str()
                .unwrap()
                .contains("downstream unavailable")
    }));

    // `failed --filter`: the dead letters matching, with attempts and last error.
    let placed = cli.json(&["outbox", "failed", "--filter", "type:order.placed"]);
    let placed = placed.as_array().unwrap().clone();
    assert_eq!(types(&placed), ["order.placed", "order.placed"]);
    let out = cli.run(&["outbox", "failed", "--filter", "type:order.placed"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("ATTEMPTS") && text.contains("LAST ERROR"),
        "{text}"
    );
    assert!(text.contains("downstream unavailable"), "{text}");

    // --dry-run: the count and the rows, and nothing changes (no audit row either).
    let dry = cli.json(&[
        "outbox",
        "retry",
        "--filter",
        "type:order.placed",
        "--dry-run",
    ]);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["would_requeue"], 2);
    assert_eq!(dry["events"].as_array().unwrap().clone(), placed);
    let out = cli.run(&[
        "outbox",
        "retry",
        "--filter",
        "payload.customer~example.com",
        "--dry-run",
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("1 dead letter(s) would be put back in the queue"),
        "{text}"
    );
    assert!(text.contains("order.placed"), "{text}");
    let ann_only = cli.json(&[
        "outbox",
        "retry",
        "--filter",
        "payload.customer~example.com",
        "--dry-run",
    ]);
    assert_eq!(ann_only["events"][0]["aggregate_id"], ann.as_str());
    let id = placed[0]["id"].as_str().unwrap();
    let by_id = cli.json(&["outbox", "retry", "--id", id, "--dry-run"]);
    assert_eq!(by_id["would_requeue"], 1);
    assert_eq!(cli.json(&["outbox", "status"])["failed"], total as u64);
    assert!(audit(&cli).is_empty());

    // Without --dry-run: a command through the action queue, for owners and admins,
    // refused read-only, one audit row each time.
    let err = cli.refused(&[
        "--as",
        "su",
        "outbox",
        "retry",
        "--filter",
        "type:order.placed",
    ]);
    assert!(
        err.contains("support cannot re-drive dead letters (needs outbox:retry)"),
        "{err}"
    );
    let err = cli.refused(&[
        "--read-only",
        "outbox",
        "retry",
        "--filter",
        "type:order.placed",
    ]);
    assert!(
        err.contains("read-only session cannot re-drive dead letters"),
        "{err}"
    );
    assert_eq!(cli.json(&["outbox", "status"])["failed"], total as u64);
    let done = cli.json(&[
        "--as",
        "ad",
        "outbox",
        "retry",
        "--filter",
        "type:order.placed",
    ]);
    assert_eq!(done, serde_json::json!({ "requeued": 2 }));
    let left = cli.json(&["outbox", "failed"]);
    assert_eq!(left.as_array().unwrap().len(), total - 2);
    assert!(
        types(left.as_array().unwrap())
            .iter()
            .all(|t| t != "order.placed")
    );
    // A filter that matches nothing re-queues nothing (never "all"), still checked and audited.
    let none = cli.json(&["outbox", "retry", "--filter", "type:order.placed"]);
    assert_eq!(none, serde_json::json!({ "requeued": 0 }));
    assert_eq!(
        cli.json(&["outbox", "status"])["failed"],
        (total - 2) as u64
    );
    let err = cli.refused(&["--as", "su", "outbox", "retry", "--filter", "type:nothing"]);
    assert!(err.contains("needs outbox:retry"), "{err}");
    assert_eq!(
        audit(&cli),
        [
            ("su", "denied"),
            ("owner", "ok"),
            ("ad", "ok"),
            ("owner", "denied"),
            ("su", "denied")
        ]
        .map(|(a, o)| (a.to_string(), o.to_string())),
        "newest first"
    );

    // Scoped to the tenant: another tenant's filter sees none of these.
    cli.json(&["tenant", "create", "other", "--name", "Other"]);
    let theirs = cli.json(&[
        "--tenant",
        "other",
        "outbox",
        "retry",
        "--filter",
        "type:*",
        "--dry-run",
    ]);
    assert_eq!(theirs["would_requeue"], 0);
}
