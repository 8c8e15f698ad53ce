//! Issue 6's acceptance through the real binary: RBAC on `--as`, read-only sessions, staff
//! commands, the audit log and `audit run` reports.

use crate::support;

use serde_json::Value;
use support::cli::{Cli, product};

/// The audit's other settings fixed, so each test sees only the finding it is about.
fn security_cli() -> Cli {
    Cli::with_env(&[
        ("RUSTOK_RATE_LIMITS", "on"),
        ("RUSTOK_SSH_HOST_KEY_POLICY", "strict"),
    ])
}

impl Cli {
    fn audit(&self) -> Value {
        self.json(&["audit", "run", "--format", "json"])
    }
}

fn finding_ids(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn an_editor_cannot_pay_an_order_and_a_manager_can() {
    let cli = security_cli();
    cli.json(&["staff", "add", "an-editor", "--role", "editor"]);
    cli.json(&[
        "staff",
        "add",
        "a-manager",
        "--role",
        "manager",
        "--name",
        "Store Staff",
    ]);
    cli.json(&product("MUG", "12.50").title("Mug").stock(5).args());
    let order = cli.json(&["order", "create", "--item", "MUG:2"]);
    let id = order["id"].as_str().unwrap().to_string();
    cli.json(&["order", "confirm", &id]);
    let events_before = cli.json(&["events", "list", "--limit", "100000"]);
    let stock_before = cli.json(&["product", "show", "MUG"]);

    let err = cli.refused(&[
        "--as",
        "an-editor",
        "order",
        "pay",
        &id,
        "--card-token",
        "tok_visa",
    ]);
    assert_eq!(
        err.trim_end(),
        "error: permission denied: editor cannot pay orders (needs order:pay)"
    );
    assert_eq!(cli.json(&["order", "show", &id])["status"], "confirmed");
    assert_eq!(
        cli.json(&["events", "list", "--limit", "100000"]),
        events_before,
        "no event written"
    );
    assert_eq!(cli.json(&["product", "show", "MUG"]), stock_before);

    let paid = cli.json(&[
        "--as",
        "a-manager",
        "order",
        "pay",
        &id,
        "--card-token",
        "tok_visa",
    ]);
    assert_eq!(paid["status"], "paid");
    assert_eq!(cli.json(&["order", "show", &id])["status"], "paid");

    // The audit log has both, newest first, each with a session.
    let log = cli.json(&["audit", "log", "--limit", "2"]);
    let rows = log["rows"].as_array().unwrap();
    assert_eq!(rows[0]["actor"], "a-manager");
    assert_eq!(rows[0]["outcome"], "ok");
    assert_eq!(rows[1]["actor"], "an-editor");
    assert_eq!(rows[1]["command"], "pay_order");
    assert_eq!(rows[1]["outcome"], "denied");
    assert_eq!(
        rows[1]["reason"],
        "editor cannot pay orders (needs order:pay)"
    );
    assert_ne!(
        rows[0]["session"], rows[1]["session"],
        "one CLI process, one session"
    );
    assert!(rows[1]["session"].as_str().unwrap().starts_with("cli-"));
    // --filter: the entries containing the text, counted.
    let denied = cli.json(&["audit", "log", "--filter", "DENIED"]);
    assert_eq!(denied["total"], 1, "{denied}");
    assert_eq!(denied["rows"][0]["actor"], "an-editor");

    // Unknown staff and reads above one's role are refused too.
    let err = cli.refused(&["--as", "nobody", "order", "cancel", &id, "--reason", "x"]);
    assert!(err.contains("unknown staff member 'nobody'"), "{err}");
    let err = cli.refused(&["--as", "a-manager", "audit", "run"]);
    assert!(
        err.contains("manager cannot run the security audit (needs audit:run)"),
        "{err}"
    );
    let err = cli.refused(&["--as", "an-editor", "staff", "add", "x", "--role", "owner"]);
    assert!(err.contains("editor cannot grant the owner role"), "{err}");
    // An editor reads content and products, not orders (and the customers in them).
    for args in [
        vec!["order", "list"],
        vec!["order", "show", &id],
        vec!["order", "search", "--sku", "MUG"],
        vec!["order", "events", &id],
    ] {
        let mut all = vec!["--as", "an-editor"];
        all.extend(args.iter().copied());
        let err = cli.refused(&all);
        assert_eq!(
            err.trim_end(),
            "error: permission denied: editor cannot read orders (needs order:read)",
            "{args:?}"
        );
    }
    assert_eq!(
        cli.json(&["--as", "an-editor", "product", "show", "MUG"])["variants"][0]["sku"],
        "MUG"
    );
    let orders = cli.json(&["--as", "a-manager", "order", "list"]);
    assert_eq!(orders.as_array().map(Vec::len), Some(1), "{orders}");
}

#[test]
fn a_read_only_session_changes_nothing() {
    let cli = security_cli();
    cli.json(&["tenant", "list"]);
    let err = cli.refused(&[
        "--read-only",
        "node",
        "create",
        "--kind",
        "post",
        "--title",
        "Hi",
    ]);
    assert!(
        err.contains("permission denied: read-only session cannot create content"),
        "{err}"
    );
    let err = cli.refused(&["--read-only", "staff", "add", "x", "--role", "editor"]);
    assert!(err.contains("read-only session"), "{err}");
    assert_eq!(cli.json(&["node", "list"]).as_array().unwrap().len(), 0);
    assert_eq!(cli.json(&["staff", "list"]).as_array().unwrap().len(), 1);
    // Reading still works.
    assert_eq!(
        cli.json(&["--read-only", "staff", "list"])[0]["handle"],
        "owner"
    );
}

#[test]
fn audit_run_on_a_fresh_install_and_fixing_a_finding() {
    let cli = security_cli();
    let report = cli.audit();
    assert!(report["score"].as_u64().unwrap() <= 100);
    assert!(report["passed"].is_boolean());
    assert_eq!(report["tenant"], "default");
    assert!(report["checks_run"].as_u64().unwrap() >= 20);
    let findings = report["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    for f in findings {
        for field in [
            "id",
            "title",
            "category",
            "severity",
            "description",
            "evidence",
            "remediation",
            "compliance",
        ] {
            assert!(!f[field].is_null(), "{field} missing: {f}");
        }
        assert!(f["remediation"]["steps"].is_string() && f["remediation"]["effort"].is_string());
        assert!(f.get("cwe").is_some() && f.get("cvss").is_some());
    }
    let ids = finding_ids(&report);
    assert!(
        ids.contains(&"AUTH-001".to_string()),
        "the bootstrapped owner has no MFA: {ids:?}"
    );
    let mfa = findings.iter().find(|f| f["id"] == "AUTH-001").unwrap();
    assert!(
        mfa["evidence"][0].as_str().unwrap().starts_with("owner "),
        "{mfa}"
    );
    assert_eq!(mfa["severity"], "high");

    let staff = cli.json(&["staff", "mfa", "owner", "on"]);
    assert_eq!(staff["mfa_enabled"], true);
    let after = cli.audit();
    assert!(!finding_ids(&after).contains(&"AUTH-001".to_string()));
    assert_eq!(
        after["score"].as_u64().unwrap(),
        report["score"].as_u64().unwrap() + 15
    );
    assert_ne!(after["fingerprint"], report["fingerprint"]);

    // The other formats, to a file and to stdout.
    let html = cli.data.path().join("audit.html");
    let out = cli.run(&[
        "audit",
        "run",
        "--format",
        "html",
        "--output",
        html.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("wrote the audit report to"));
    assert!(
        std::fs::read_to_string(&html)
            .unwrap()
            .starts_with("<!DOCTYPE html>")
    );
    let md = cli.run(&["audit", "run", "--format", "markdown"]);
    assert!(String::from_utf8_lossy(&md.stdout).starts_with("# Security audit: tenant default"));
    cli.json(&["tenant", "create", "shop", "--name", "Shop"]);
    let batch = cli.json(&["audit", "run", "--all-tenants"]);
    assert_eq!(batch["reports"].as_array().unwrap().len(), 2);
    assert_eq!(batch["summary"].as_array().unwrap().len(), 2);
}

#[test]
fn staff_add_with_an_ssh_key_and_list() {
    let cli = security_cli();
    let key = cli.data.path().join("id.pub");
    std::fs::write(
        &key,
        "# alice\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHgiZPlMpwusZJHGccg3sfLIXCj4Og2G8s7+LltunsoQ alice@laptop\n",
    )
    .unwrap();
    let s = cli.json(&[
        "staff",
        "add",
        "alice",
        "--role",
        "admin",
        "--ssh-key",
        key.to_str().unwrap(),
        "--mfa",
    ]);
    assert_eq!(
        s["ssh_keys"][0]["fingerprint"],
        "SHA256:VqRsdOqe89LsIIVRW8TUNthMDE8gsLYWCU0i9IT6pTc"
    );
    assert_eq!(s["mfa_enabled"], true);
    assert!(s.get("password_hash").is_none());
    let list = cli.json(&["staff", "list"]);
    let handles: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["handle"].as_str().unwrap())
        .collect();
    assert_eq!(handles, ["alice", "owner"]);
    let err = cli.refused(&["--as", "alice", "staff", "role", "owner", "editor"]);
    assert!(
        err.contains("admin cannot change staff roles of an owner"),
        "{err}"
    );
    let changed = cli.json(&["staff", "role", "alice", "editor"]);
    assert_eq!(changed["role"], "editor");
    std::fs::write(&key, "ssh-ed25519 not-base64\n").unwrap();
    let err = cli.refused(&[
        "staff",
        "add",
        "bob",
        "--role",
        "editor",
        "--ssh-key",
        key.to_str().unwrap(),
    ]);
    assert!(err.contains("ssh_key: not an OpenSSH public key"), "{err}");
    let err = cli.refused(&["staff", "add", "Bob!", "--role", "editor"]);
    assert!(err.contains("not a valid staff handle"), "{err}");
    // A reserved word is said to be one (it said "not a reserved word").
    let err = cli.refused(&["staff", "add", "admin", "--role", "editor"]);
    assert!(err.contains("'admin' is a reserved word"), "{err}");
    let out = cli.run(&["staff", "add", "bob", "--role", "root"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("'root' is not a role"));
}

cli_on_both_backends!(
    processes_starting_together_on_a_new_database_make_one_owner,
    order_and_customer_data_do_not_reach_an_editor_or_an_unknown_handle,
    dead_letter_redrive_is_for_owners_and_admins_refused_read_only_and_audited,
    outbox_relay_needs_a_permission_and_is_refused_read_only,
    outbox_status_counts_only_the_tenant,
    a_refused_bulk_seed_writes_nothing_and_is_audited,
);

fn audit_rows(cli: &Cli, command: &str) -> Vec<(String, String)> {
    cli.json(&["audit", "log", "--filter", command, "--limit", "100"])["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["command"] == command)
        .map(|r| {
            (
                r["actor"].as_str().unwrap().to_string(),
                r["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Item 1: `events list` as an editor shows no order, payment or stock event (no customer
/// email anywhere in its output); an unknown or deactivated handle is refused every command,
/// reads included.
fn order_and_customer_data_do_not_reach_an_editor_or_an_unknown_handle(cli: Cli) {
    cli.json(&product("MUG", "2.00").title("Mug").stock(6).args());
    let order = cli.json(&[
        "order",
        "create",
        "--item",
        "MUG:3",
        "--customer",
        "bob@b.com",
    ]);
    let id = order["id"].as_str().unwrap().to_string();
    cli.json(&["order", "confirm", &id]);
    cli.json(&["staff", "add", "ed", "--role", "editor"]);
    cli.json(&["staff", "add", "su", "--role", "support"]);
    cli.json(&["staff", "add", "leaver", "--role", "admin"]);
    cli.json(&["staff", "deactivate", "leaver"]);

    let placed = cli.json(&["--as", "ed", "events", "list", "--type", "order.placed"]);
    assert_eq!(placed, serde_json::json!([]));
    let out = cli.run(&["--as", "ed", "events", "list", "--json"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("bob@b.com"), "{text}");
    let types: Vec<String> = serde_json::from_str::<Value>(&text)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap().to_string())
        .collect();
    assert!(types.iter().any(|t| t == "product.created"), "{types:?}");
    assert!(
        types.iter().all(|t| !t.starts_with("order.")
            && !t.starts_with("payment.")
            && !t.starts_with("inventory.")
            && !t.starts_with("staff.")),
        "{types:?}"
    );
    // Support reads orders, and so their events.
    let placed = cli.json(&["--as", "su", "events", "list", "--type", "order.placed"]);
    assert_eq!(placed.as_array().unwrap().len(), 1);
    assert!(placed.to_string().contains("bob@b.com"));

    for args in [
        &["events", "list"][..],
        &["node", "list"],
        &["product", "list"],
        &["tenant", "list"],
        &["outbox", "status"],
        &["order", "show", &id],
    ] {
        let mut a = vec!["--as", "nosuchperson"];
        a.extend_from_slice(args);
        assert_eq!(
            cli.refused(&a).trim(),
            "error: permission denied: unknown staff member 'nosuchperson'",
            "{args:?}"
        );
        let mut a = vec!["--as", "leaver"];
        a.extend_from_slice(args);
        assert_eq!(
            cli.refused(&a).trim(),
            "error: permission denied: staff member 'leaver' is inactive",
            "{args:?}"
        );
    }
    assert!(
        cli.refused(&["--as", "ed", "order", "show", &id])
            .contains("editor cannot read orders (needs order:read)")
    );
}

/// Item 2: `outbox retry` is a command: owners and admins only, refused read-only and for
/// unknown or deactivated members, and every attempt is one audit-log row.
fn dead_letter_redrive_is_for_owners_and_admins_refused_read_only_and_audited(cli: Cli) {
    cli.json(&["staff", "add", "su", "--role", "support"]);
    cli.json(&["staff", "add", "ed", "--role", "editor"]);
    cli.json(&["staff", "add", "ad", "--role", "admin"]);
    for (who, line) in [
        (
            &["--as", "su", "--read-only"][..],
            "error: permission denied: read-only session cannot re-drive dead letters (needs outbox:retry; start without --read-only)",
        ),
        (
            &["--as", "su"],
            "error: permission denied: support cannot re-drive dead letters (needs outbox:retry)",
        ),
        (
            &["--as", "ed"],
            "error: permission denied: editor cannot re-drive dead letters (needs outbox:retry)",
        ),
        (
            &["--as", "mallory"],
            "error: permission denied: unknown staff member 'mallory'",
        ),
    ] {
        let mut a = who.to_vec();
        a.extend_from_slice(&["outbox", "retry"]);
        assert_eq!(cli.refused(&a).trim(), line);
    }
    assert_eq!(
        cli.json(&["--as", "ad", "outbox", "retry"]),
        serde_json::json!({ "requeued": 0 })
    );
    let rows = audit_rows(&cli, "retry_dead_letters");
    assert_eq!(
        rows,
        [
            ("ad", "ok"),
            ("ed", "denied"),
            ("su", "denied"),
            ("su", "denied")
        ]
        .map(|(a, o)| (a.to_string(), o.to_string())),
        "newest first"
    );
    // An unknown handle is refused before a session opens: recorded under what it typed.
    assert_eq!(
        audit_rows(&cli, "outbox retry"),
        [("mallory".to_string(), "denied".to_string())]
    );
}

/// Item 2: `outbox relay` (it delivers and prunes) needs `outbox:relay` and is refused
/// read-only; each run or refusal is one audit-log row.
fn outbox_relay_needs_a_permission_and_is_refused_read_only(cli: Cli) {
    cli.json(&["staff", "add", "su", "--role", "support"]);
    assert_eq!(
        cli.refused(&["--as", "su", "outbox", "relay"]).trim(),
        "error: permission denied: support cannot run the relay by hand (needs outbox:relay)"
    );
    assert_eq!(
        cli.refused(&["--read-only", "outbox", "relay"]).trim(),
        "error: permission denied: read-only session cannot run the relay by hand (needs outbox:relay; start without --read-only)"
    );
    let before = cli.json(&["outbox", "status"]);
    assert!(before["pending"].as_u64().unwrap() > 0, "{before}");
    let pass = cli.json(&["outbox", "relay"]);
    assert!(pass["delivered"].as_u64().unwrap() > 0, "{pass}");
    assert_eq!(cli.json(&["outbox", "status"])["pending"], 0);
    let rows = audit_rows(&cli, "relay_outbox");
    assert_eq!(
        rows,
        [("owner", "ok"), ("owner", "denied"), ("su", "denied")]
            .map(|(a, o)| (a.to_string(), o.to_string()))
    );
}

/// Item 2: `outbox status` counts the tenant's events only.
fn outbox_status_counts_only_the_tenant(cli: Cli) {
    cli.json(&["tenant", "create", "other", "--name", "Other"]);
    for i in 0..3 {
        cli.json(&[
            "--tenant",
            "other",
            "node",
            "create",
            "--kind",
            "post",
            "--title",
            &format!("T{i}"),
        ]);
    }
    let ours = cli.json(&["outbox", "status"]);
    let theirs = cli.json(&["--tenant", "other", "outbox", "status"]);
    let count = |args: &[&str]| cli.json(args).as_array().unwrap().len() as u64;
    // Nothing relayed yet: each tenant's pending count is the number of its own events.
    assert_eq!(
        theirs["pending"],
        count(&["--tenant", "other", "events", "list"])
    );
    assert!(theirs["pending"].as_u64().unwrap() >= 3, "{theirs}");
    assert_eq!(ours["pending"], count(&["events", "list"]), "{ours}");
}

/// Item 6: a bulk seed refused by RBAC writes nothing (not even the demo products) and the
/// refusal is in the audit log.
fn a_refused_bulk_seed_writes_nothing_and_is_audited(cli: Cli) {
    cli.json(&["staff", "add", "mgr", "--role", "manager"]);
    assert_eq!(
        cli.refused(&["--as", "mgr", "seed", "--demo", "--scale", "10"])
            .trim(),
        "error: permission denied: manager cannot seed demo data (needs tenant:seed)"
    );
    assert_eq!(
        cli.refused(&["--read-only", "seed", "--demo"]).trim(),
        "error: permission denied: read-only session cannot seed demo data (needs tenant:seed; start without --read-only)"
    );
    assert_eq!(cli.json(&["product", "list"]), serde_json::json!([]));
    assert_eq!(cli.json(&["node", "list"]), serde_json::json!([]));
    assert_eq!(
        audit_rows(&cli, "seed"),
        [("owner", "denied"), ("mgr", "denied")].map(|(a, o)| (a.to_string(), o.to_string()))
    );
    // The owner may; the run is one row too.
    cli.json(&["seed", "--demo", "--scale", "5"]);
    assert!(
        cli.json(&["order", "list", "--limit", "100"])
            .as_array()
            .unwrap()
            .len()
            >= 5
    );
    assert_eq!(
        audit_rows(&cli, "seed")[0],
        ("owner".to_string(), "ok".to_string())
    );
}

/// First use: several processes starting at once on a new database, each as another handle,
/// make exactly one owner; the others are refused as unknown staff members.
fn processes_starting_together_on_a_new_database_make_one_owner(cli: Cli) {
    // Four new databases: a race that wins half the time does not pass four times running.
    let pg = cli.db.is_postgres();
    one_owner(&cli);
    for _ in 0..3 {
        let fresh = if pg {
            Cli::postgres().unwrap()
        } else {
            Cli::new()
        };
        one_owner(&fresh);
    }
}

fn one_owner(cli: &Cli) {
    let children: Vec<_> = ["a1", "b2", "c3", "d4", "e5", "f6"]
        .into_iter()
        .map(|h| {
            cli.cmd(&["--as", h, "--json", "tenant", "list"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("start rustok")
        })
        .collect();
    let mut owners = Vec::new();
    for (c, h) in children
        .into_iter()
        .zip(["a1", "b2", "c3", "d4", "e5", "f6"])
    {
        let out = c.wait_with_output().unwrap();
        if out.status.success() {
            owners.push(h);
        } else {
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("unknown staff member"), "{h}: {err}");
        }
    }
    assert_eq!(
        owners.len(),
        1,
        "exactly one process became the owner: {owners:?}"
    );
    let staff = cli.json(&["--as", owners[0], "staff", "list"]);
    let staff = staff.as_array().unwrap();
    assert_eq!(staff.len(), 1, "one staff member: {staff:?}");
    assert_eq!(staff[0]["role"], "owner");
}
