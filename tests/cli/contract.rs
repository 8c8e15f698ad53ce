//! The headless command contract (CLI.md), through the real `rustok` binary.

use crate::support;

use serde_json::Value;
use support::cli::{Cli, product};

impl Cli {
    fn counts(&self, tenant: &str) -> (usize, usize) {
        let nodes = self.json(&["--tenant", tenant, "node", "list", "--limit", "10000"]);
        let events = self.json(&["--tenant", tenant, "events", "list", "--limit", "100000"]);
        (
            nodes.as_array().unwrap().len(),
            events.as_array().unwrap().len(),
        )
    }
}

#[test]
fn create_publish_show_and_read_events() {
    let cli = Cli::new();
    let node = cli.json(&["node", "create", "--kind", "article", "--title", "Hello"]);
    assert_eq!(node["status"], "draft");
    assert_eq!(node["version"], 1);
    let id = node["id"].as_str().unwrap();

    let out = cli.run(&["node", "publish", id]);
    assert!(out.status.success());
    let shown = cli.json(&["node", "show", id]);
    assert_eq!(shown["status"], "published");
    assert!(shown["published_at"].is_string());
    assert_eq!(shown["translations"][0]["title"], "Hello");
    chrono::DateTime::parse_from_rfc3339(shown["published_at"].as_str().unwrap())
        .expect("RFC 3339");

    let events = cli.json(&["events", "list", "--aggregate", id]);
    let events = events.as_array().unwrap();
    let types: Vec<&str> = events
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["node.created", "node.published"]);
    for e in events {
        assert_eq!(e["tenant_id"], node["tenant_id"]);
        assert_eq!(e["aggregate_id"], node["id"]);
    }
}

#[test]
fn refused_commands_change_nothing() {
    let cli = Cli::new();
    let node = cli.json(&[
        "node", "create", "--kind", "article", "--title", "Keep", "--slug", "taken",
    ]);
    let id = node["id"].as_str().unwrap().to_string();
    cli.json(&["node", "publish", &id]);
    cli.json(&["node", "archive", &id]);
    let before = cli.counts("default");
    let long = "x".repeat(256);
    for (args, reason) in [
        (
            vec!["node", "create", "--kind", "article", "--title", ""],
            "title",
        ),
        (
            vec!["node", "create", "--kind", "bogus", "--title", "X"],
            "kind",
        ),
        (
            vec![
                "node",
                "create",
                "--kind",
                "article",
                "--title",
                long.as_str(),
            ],
            "255",
        ),
        (
            vec![
                "node", "create", "--kind", "article", "--title", "Y", "--slug", "taken",
            ],
            "already exists",
        ),
        (vec!["node", "publish", id.as_str()], "archived"),
        (
            vec![
                "node",
                "update",
                id.as_str(),
                "--title",
                "Z",
                "--expect-version",
                "1",
            ],
            "version conflict",
        ),
        (vec!["node", "show", "not-a-uuid"], "is not an id"),
        (vec!["--tenant", "nope", "node", "list"], "tenant"),
    ] {
        let err = cli.refused(&args);
        assert!(err.contains(reason), "{args:?}: {err}");
    }
    assert_eq!(cli.counts("default"), before);
    assert_eq!(cli.json(&["node", "show", &id])["status"], "archived");
}

#[test]
fn usage_errors_exit_2() {
    let cli = Cli::new();
    assert_eq!(
        cli.run(&["node", "create", "--kind", "article"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(cli.run(&["node", "frobnicate"]).status.code(), Some(2));
    assert_eq!(cli.run(&[]).status.code(), Some(2));
}

#[test]
fn tenants_are_isolated() {
    let cli = Cli::new();
    cli.json(&["tenant", "create", "alpha", "--name", "Alpha"]);
    cli.json(&[
        "tenant", "create", "beta", "--name", "Beta", "--locale", "de",
    ]);
    let err = cli.refused(&["tenant", "create", "alpha", "--name", "Again"]);
    assert!(err.contains("already exists"));
    cli.refused(&["tenant", "create", "admin", "--name", "Reserved"]);
    let node = cli.json(&[
        "--tenant",
        "alpha",
        "node",
        "create",
        "--kind",
        "post",
        "--title",
        "Alpha secret",
    ]);
    let id = node["id"].as_str().unwrap();
    assert!(
        cli.refused(&["--tenant", "beta", "node", "show", id])
            .contains("not found")
    );
    assert_eq!(
        cli.json(&["--tenant", "beta", "node", "list"]),
        Value::Array(vec![])
    );
    assert_eq!(
        cli.json(&["--tenant", "beta", "node", "search", "secret"]),
        Value::Array(vec![])
    );
    assert_eq!(
        cli.json(&["--tenant", "beta", "events", "list", "--aggregate", id]),
        Value::Array(vec![])
    );
    assert_eq!(
        cli.json(&["--tenant", "alpha", "node", "search", "secret"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let beta_node = cli.json(&[
        "--tenant", "beta", "node", "create", "--kind", "post", "--title", "Hallo",
    ]);
    assert_eq!(
        beta_node["source_locale"], "de",
        "the tenant's default locale is used"
    );
    let tenants = cli.json(&["tenant", "list"]);
    let slugs: Vec<&str> = tenants
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["alpha", "beta", "default"]);
}

#[test]
fn translate_update_search_and_list_filters() {
    let cli = Cli::new();
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("body.md");
    std::fs::write(&body, "# Borrowing\n\nReferences without ownership.").unwrap();
    let node = cli.json(&[
        "node",
        "create",
        "--kind",
        "article",
        "--title",
        "Borrowing",
        "--body-file",
        body.to_str().unwrap(),
        "--excerpt",
        "Short",
    ]);
    let id = node["id"].as_str().unwrap();
    let t = cli.json(&[
        "node",
        "translate",
        id,
        "--locale",
        "es",
        "--title",
        "Préstamos",
        "--body",
        "Referencias",
    ]);
    assert_eq!(t["version"], 2);
    assert_eq!(t["translations"].as_array().unwrap().len(), 2);
    let u = cli.json(&[
        "node",
        "update",
        id,
        "--locale",
        "es",
        "--title",
        "Préstamo",
        "--expect-version",
        "2",
    ]);
    assert_eq!(u["version"], 3);
    let hits = cli.json(&["node", "search", "ownership"]);
    assert_eq!(hits[0]["node_id"], node["id"]);
    let hits = cli.json(&["node", "search", "referencias", "--locale", "es"]);
    assert_eq!(hits.as_array().unwrap().len(), 1);
    assert_eq!(
        cli.json(&["node", "list", "--locale", "es"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        cli.json(&["node", "list", "--locale", "fr"])
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        cli.json(&["node", "list", "--status", "draft"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        cli.json(&["node", "list", "--status", "published"])
            .as_array()
            .unwrap()
            .len(),
        0
    );
    cli.refused(&["node", "list", "--status", "gone"]);

    std::fs::write(&body, [0xff, 0xfe, b'x']).unwrap();
    let err = cli.refused(&[
        "node",
        "create",
        "--kind",
        "post",
        "--title",
        "Bad",
        "--body-file",
        body.to_str().unwrap(),
    ]);
    assert!(err.contains("UTF-8"), "{err}");
}

#[test]
fn escape_sequences_never_reach_the_terminal() {
    let cli = Cli::new();
    let title = "Evil \x1b[2J\x1b]0;pwned\x07 title";
    let node = cli.json(&["node", "create", "--kind", "post", "--title", title]);
    assert_eq!(node["translations"][0]["title"], title, "stored as typed");
    let id = node["id"].as_str().unwrap();
    for args in [
        vec!["node", "show", id],
        vec!["node", "list"],
        vec!["node", "search", "evil"],
    ] {
        let out = cli.run(&args);
        assert!(out.status.success());
        assert!(!out.stdout.contains(&0x1b), "{args:?} printed a raw ESC");
        assert!(!out.stdout.contains(&0x07), "{args:?} printed a raw BEL");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("\\x1b[2J"),
            "{args:?} shows the sequence as text"
        );
    }
    let json = cli.run(&["node", "show", id, "--json"]);
    assert!(
        !json.stdout.contains(&0x1b),
        "JSON escapes control characters"
    );
    assert!(String::from_utf8_lossy(&json.stdout).contains("\\u001b[2J"));
}

#[test]
fn outbox_status_and_relay() {
    let cli = Cli::new();
    cli.json(&["node", "create", "--kind", "page", "--title", "P"]);
    let s = cli.json(&["outbox", "status"]);
    assert_eq!(
        (
            s["pending"].as_u64(),
            s["dispatched"].as_u64(),
            s["failed"].as_u64()
        ),
        (Some(2), Some(0), Some(0))
    );
    let r = cli.json(&["outbox", "relay"]);
    assert_eq!(r["delivered"], 2);
    // Nothing is past the default retention (7 days) yet.
    assert_eq!(
        (
            r["pruned_command_log"].as_u64(),
            r["pruned_receipts"].as_u64()
        ),
        (Some(0), Some(0))
    );
    let s = cli.json(&["outbox", "status"]);
    assert_eq!(
        (s["pending"].as_u64(), s["dispatched"].as_u64()),
        (Some(0), Some(2))
    );
    assert_eq!(cli.json(&["outbox", "failed"]), Value::Array(vec![]));
}

#[cfg(unix)]
#[test]
fn events_tail_follows_new_events() {
    use std::io::{BufRead, BufReader};
    let cli = Cli::new();
    // One event before the tail starts: `--last 1` prints it first, the sign that the tail
    // follows (from there on, every later commit is printed).
    cli.json(&["node", "create", "--kind", "post", "--title", "Before"]);
    let mut tail = cli
        .cmd(&["events", "tail", "--json", "--last", "1"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = tail.stdout.take().unwrap();
    let (lines, printed) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            let event = serde_json::from_str::<Value>(&line).unwrap();
            if lines.send(event).is_err() {
                return;
            }
        }
    });
    let next = || {
        printed
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("events tail printed nothing within 30 s")
    };
    let ready = next();
    assert_eq!(ready["event_type"], "node.created", "{ready}");
    let node = cli.json(&["node", "create", "--kind", "post", "--title", "Tailed"]);
    cli.json(&["node", "publish", node["id"].as_str().unwrap()]);
    let lines = [next(), next()];
    tail.kill().ok();
    tail.wait().ok();
    let types: Vec<&str> = lines
        .iter()
        .map(|l| l["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["node.created", "node.published"]);
    assert_ne!(
        lines[0]["id"], ready["id"],
        "the first event is not printed twice"
    );
}

cli_on_both_backends!(short_ids_that_screens_show_are_accepted_by_every_id_argument);

/// The console shows ids as their last 8 hex digits (`order 6a9768cf`): every ID argument
/// takes that text too, resolved within the tenant; an unknown one exits 1 naming what was
/// looked for. (Ambiguity is covered where ids can be chosen: tests/flows/content.rs's
/// `test_short_ids_resolve_within_the_tenant`.)
fn short_ids_that_screens_show_are_accepted_by_every_id_argument(cli: Cli) {
    let short = |v: &Value| {
        let id = v["id"].as_str().unwrap().replace('-', "");
        id[id.len() - 8..].to_string()
    };
    let node = cli.json(&["node", "create", "--kind", "post", "--title", "Short"]);
    let n = short(&node);
    assert_eq!(cli.json(&["node", "show", &n])["id"], node["id"]);
    assert_eq!(
        cli.json(&["node", "update", &n, "--title", "Shorter"])["version"],
        2
    );
    assert_eq!(cli.json(&["node", "publish", &n])["status"], "published");
    let events = cli.json(&["events", "list", "--aggregate", &n]);
    assert_eq!(events.as_array().unwrap().len(), 3, "{events}");

    cli.json(&product("CUP", "1.00").title("Cup").stock(5).args());
    let product = cli.json(&["product", "show", "CUP"]);
    assert_eq!(
        cli.json(&["product", "show", &short(&product)])["id"],
        product["id"]
    );
    let order = cli.json(&["order", "create", "--item", "CUP:1"]);
    let o = short(&order);
    assert_eq!(cli.json(&["order", "confirm", &o])["status"], "confirmed");
    assert_eq!(
        cli.json(&["order", "show", &o.to_uppercase()])["id"],
        order["id"]
    );
    let types: Vec<Value> = cli
        .json(&["order", "events", &o])
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].clone())
        .collect();
    assert!(
        types.contains(&"order.placed".into()) && types.contains(&"order.status_changed".into()),
        "{types:?}"
    );

    // Unknown and malformed: exit 1, one line.
    let missing = if n == "00000000" {
        "11111111"
    } else {
        "00000000"
    };
    assert_eq!(
        cli.refused(&["node", "show", missing]).trim(),
        format!("error: node ending in {missing} not found")
    );
    assert!(
        cli.refused(&["order", "pay", "zz", "--card-token", "tok_visa"])
            .contains("is not an id (a UUID, or the last 8 hex digits the screens show)")
    );
}

/// Pool timeouts from the environment: a value past a day is refused in one line (it used to
/// overflow the driver's deadline arithmetic and panic).
#[test]
fn huge_pool_timeouts_are_refused_not_a_panic() {
    for var in [
        "RUSTOK_DB_ACQUIRE_TIMEOUT",
        "RUSTOK_DB_CONNECT_TIMEOUT",
        "RUSTOK_DB_IDLE_TIMEOUT",
    ] {
        for value in ["18446744073709551615", "9223372036854775807", "0"] {
            let cli = Cli::with_env(&[(var, value)]);
            let err = cli.refused(&["node", "list"]);
            assert!(
                err.contains(&format!("{var} must be between 1 and 86400")),
                "{var}={value}: {err}"
            );
        }
    }
}

/// Issue 20: `node history`, `node diff` and `node revert` through the binary — JSON shapes,
/// the unified text, refusals with exit 1, the audit row, and an editor-only read for support.
#[test]
fn node_history_diff_and_revert() {
    let cli = Cli::new();
    let node = cli.json(&[
        "node",
        "create",
        "--kind",
        "article",
        "--title",
        "Doc",
        "--body",
        "a\nb\nc\n",
    ]);
    let id = node["id"].as_str().unwrap().to_string();
    cli.json(&["node", "update", &id, "--body", "a\nB\nc\n"]);
    cli.json(&["node", "publish", &id]);
    let history = cli.json(&["node", "history", &id]);
    let rows: Vec<(i64, &str)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["version"].as_i64().unwrap(),
                r["command"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [(3, "publish_node"), (2, "update_node"), (1, "create_node")]
    );
    assert_eq!(history[1]["locales"], serde_json::json!(["en"]));
    assert_eq!(history[0]["status"], "published");

    let out = cli.run(&["node", "diff", &id, "--from", "1", "--to", "2"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "--- v1 [en] body\n+++ v2 [en] body\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
    );
    let diff = cli.json(&["node", "diff", &id, "--from", "1", "--to", "3"]);
    assert_eq!(diff["fields"][0]["field"], "status");
    assert_eq!(diff["fields"][1]["locale"], "en");
    assert_eq!(diff["fields"][1]["hunks"][0]["lines"][1]["op"], "removed");
    let diff = cli.json(&[
        "node", "diff", &id, "--from", "2", "--to", "3", "--locale", "en",
    ]);
    assert_eq!(diff["fields"], serde_json::json!([]));
    // A locale neither revision has is not "no differences": exit 1, naming theirs.
    for json in [false, true] {
        let mut args = vec![
            "node", "diff", &id, "--from", "1", "--to", "2", "--locale", "de",
        ];
        if json {
            args.push("--json");
        }
        let err = cli.refused(&args);
        assert!(
            err.contains("neither version 1 nor version 2") && err.contains("has locale de"),
            "{err}"
        );
        assert!(err.trim_end().ends_with("they have en"), "{err}");
    }

    let reverted = cli.json(&["node", "revert", &id, "--to", "1"]);
    assert_eq!(
        (&reverted["version"], &reverted["status"]),
        (&serde_json::json!(4), &serde_json::json!("published"))
    );
    assert_eq!(reverted["translations"][0]["body"], "a\nb\nc\n");
    let err = cli.refused(&["node", "revert", &id, "--to", "4"]);
    assert!(err.contains("not an earlier version"), "{err}");
    let err = cli.refused(&["node", "diff", &id, "--from", "1", "--to", "99"]);
    assert!(err.contains("revision 99"), "{err}");
    let out = cli.run(&["node", "revert", &id, "--to", "0"]);
    assert_eq!(out.status.code(), Some(2), "a usage error");
    let history = cli.json(&["node", "history", &id]);
    assert_eq!(history[0]["command"], "revert_node");
    assert_eq!(history[0]["reverted_from"], 1);

    // Reads go with the node's read permission; the revert with update's.
    cli.json(&["staff", "add", "sue", "--role", "support"]);
    let h = cli.json(&["--as", "sue", "node", "history", &id]);
    assert_eq!(h.as_array().unwrap().len(), 4);
    let err = cli.refused(&["--as", "sue", "node", "revert", &id, "--to", "2"]);
    assert!(err.contains("support cannot revert content"), "{err}");
}
