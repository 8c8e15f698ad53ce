//! Scheduled publishing through the real binary (issue 20): `node schedule` (relative and
//! RFC 3339 times, past times refused with one line), `node agenda` (text and JSON),
//! `node unschedule`, the list's `scheduled` field, RBAC on `--as`, and a scheduled
//! publication executed by `outbox relay` once due; and `node search` finding text in every
//! locale of every node, with snippets (issue 20, item 4).

use crate::support::cli::Cli;
use std::time::Duration;

fn new_node(cli: &Cli, title: &str) -> String {
    let node = cli.json(&["node", "create", "--kind", "article", "--title", title]);
    node["id"].as_str().unwrap().to_string()
}

#[test]
fn schedule_agenda_and_unschedule() {
    Cli::on_both_backends(|cli| {
        let id = new_node(cli, "Winter menu");
        let s = cli.json(&[
            "node",
            "schedule",
            &id,
            "--publish-at",
            "+10m",
            "--unpublish-at",
            "2030-01-01T00:00:00Z",
        ]);
        assert_eq!(s["node_id"], id.as_str());
        let schedules = s["schedules"].as_array().unwrap();
        assert_eq!(schedules.len(), 2);
        assert_eq!(schedules[0]["action"], "publish");
        assert_eq!(schedules[0]["by"], "owner");
        assert_eq!(schedules[1]["at"], "2030-01-01T00:00:00Z");

        let agenda = cli.json(&["node", "agenda"]);
        let rows = agenda.as_array().unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["title"], "Winter menu");
        assert_eq!(rows[0]["status"], "draft");
        assert_eq!(rows[0]["action"], "publish");
        assert_eq!(rows[1]["action"], "unpublish");

        let text = cli.run(&["node", "agenda"]);
        assert!(text.status.success());
        let text = String::from_utf8(text.stdout).unwrap();
        assert!(text.contains("goes live"), "{text}");
        assert!(text.contains("comes down"), "{text}");
        assert!(text.contains("Winter menu"), "{text}");

        let list = cli.json(&["node", "list"]);
        assert_eq!(list[0]["scheduled"][0], "publish", "{list}");

        // A time not in the future, a bad time: one line each, nothing changed.
        let err = cli.refused(&[
            "node",
            "schedule",
            &id,
            "--publish-at",
            "2001-01-01T00:00:00Z",
        ]);
        assert!(err.contains("is in the past"), "{err}");
        let err = cli.refused(&["node", "schedule", &id, "--publish-at", "tomorrow"]);
        assert!(err.contains("+10m"), "{err}");
        // Neither time: a usage error naming both flags (either one will do).
        let out = cli.run(&["node", "schedule", &id]);
        assert_eq!(out.status.code(), Some(2), "a usage error");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.contains("--publish-at <TIME>|--unpublish-at <TIME>"),
            "{err}"
        );
        // Only --unpublish-at is enough.
        let only = cli.json(&["node", "schedule", &id, "--unpublish-at", "+3h"]);
        assert_eq!(only["schedules"].as_array().unwrap().len(), 2, "{only}");
        // Support may read the agenda but not schedule.
        cli.json(&["staff", "add", "sue", "--role", "support"]);
        let err = cli.refused(&[
            "--as",
            "sue",
            "node",
            "schedule",
            &id,
            "--publish-at",
            "+1h",
        ]);
        assert!(err.contains("support cannot schedule publishing"), "{err}");
        assert_eq!(
            cli.json(&["--as", "sue", "node", "agenda"])
                .as_array()
                .unwrap()
                .len(),
            2
        );

        cli.json(&["node", "unschedule", &id]);
        let text = cli.run(&["node", "agenda"]);
        assert_eq!(
            String::from_utf8(text.stdout).unwrap().trim(),
            "nothing scheduled"
        );
        let err = cli.refused(&["node", "unschedule", &id]);
        assert!(err.contains("nothing scheduled"), "{err}");
    });
}

#[test]
fn outbox_relay_executes_a_due_schedule() {
    let cli = Cli::new();
    let id = new_node(&cli, "Flash sale");
    cli.json(&["node", "schedule", &id, "--publish-at", "+1s"]);
    // Wait until it is due (the CLI itself does not relay), then relay by hand.
    let due = crate::support::wait_until(Duration::from_secs(10), || {
        let r = cli.json(&["outbox", "relay"]);
        r["schedules"]["executed"] == 1
    });
    assert!(due, "the relay executed the schedule once it was due");
    let node = cli.json(&["node", "show", &id]);
    assert_eq!(node["status"], "published");
    assert!(
        cli.json(&["node", "agenda"]).as_array().unwrap().is_empty(),
        "nothing left"
    );
}

#[test]
fn node_search_finds_text_in_every_locale_with_snippets() {
    Cli::on_both_backends(|cli| {
        let en = cli.json(&[
            "node",
            "create",
            "--kind",
            "article",
            "--title",
            "Brewing guide",
            "--body",
            "Use filtered water at 94 degrees.",
        ]);
        let id = en["id"].as_str().unwrap();
        cli.json(&[
            "node",
            "translate",
            id,
            "--locale",
            "es",
            "--title",
            "Guía",
            "--body",
            "El café de la casa se prepara despacio.",
        ]);
        cli.json(&[
            "node",
            "translate",
            id,
            "--locale",
            "ru",
            "--title",
            "Колдун и кофе",
            "--body",
            "Колдовство варки кофе.",
        ]);
        new_node(cli, "Unrelated");
        for (q, locale, word) in [
            ("casa", "es", "casa"),
            ("Колд", "ru", "Колд"),
            ("filtered water", "en", "filtered water"),
        ] {
            let hits = cli.json(&["node", "search", q]);
            let hits = hits.as_array().unwrap();
            assert_eq!(hits.len(), 1, "{q}: {hits:?}");
            assert_eq!(hits[0]["node_id"], id, "{q}");
            assert_eq!(hits[0]["locale"], locale, "{q}");
            let snippet = hits[0]["snippet"].as_str().unwrap_or("");
            assert!(snippet.contains(word), "{q}: {snippet}");
        }
        // Only one locale when asked; the text output names the locale and title.
        assert!(
            cli.json(&["node", "search", "casa", "--locale", "ru"])
                .as_array()
                .unwrap()
                .is_empty()
        );
        // A blank query is a usage error (exit 2), not "no matches".
        for blank in ["", "   ", "\t"] {
            for json in [false, true] {
                let mut args = vec!["node", "search", blank];
                if json {
                    args.push("--json");
                }
                let out = cli.run(&args);
                assert_eq!(out.status.code(), Some(2), "{blank:?}: a usage error");
                assert!(out.stdout.is_empty(), "{blank:?}");
                let err = String::from_utf8(out.stderr).unwrap();
                assert!(err.contains("the search text is blank"), "{err}");
            }
        }
        let out = cli.run(&["node", "search", "Колд"]);
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.contains("ru") && text.contains("Колдун и кофе"),
            "{text}"
        );
    });
}
