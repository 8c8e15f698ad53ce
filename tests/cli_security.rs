//! Issue 6's acceptance through the real binary: RBAC on `--as`, read-only sessions, staff
//! commands, the audit log and `audit run` reports.

mod support;

use serde_json::Value;
use support::cli::Cli;

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
    cli.json(&[
        "product",
        "create",
        "--title",
        "Mug",
        "--sku",
        "MUG",
        "--price",
        "12.50",
        "--currency",
        "USD",
        "--stock",
        "5",
    ]);
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
    assert_eq!(rows[1]["command"], "charge_order");
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
    let err = cli.refused(&["--as", "nobody", "order", "cancel", &id]);
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
    let out = cli.run(&["staff", "add", "bob", "--role", "root"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("'root' is not a role"));
}
