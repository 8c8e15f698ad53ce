//! The SSH sessions view (issue 18, session admin in the console): snapshots at 120×40 and
//! 80×24, ending a session with a reason and a confirmation, the selection pinned to the
//! session, re-reading every second while shown, the refusal for other roles, and read-only.

use crate::support;

use ratatui::crossterm::event::KeyCode;
use rustok_domain::read::{SshSession, SshSessions};
use rustok_ui::{Effect, Failure, Msg};
use support::*;

const SERVER: &str = "0.0.0.0:2222";

fn session(id: u64, handle: &str, role: &str, source: &str, minute: u32, idle: u64) -> SshSession {
    SshSession {
        id,
        handle: handle.into(),
        role: role.into(),
        source: source.into(),
        since: at(minute),
        idle_secs: idle,
        cols: 120,
        rows: 40,
        server: SERVER.into(),
    }
}

fn three() -> Vec<SshSession> {
    vec![
        session(1, "olivia", "owner", "10.0.4.2:50022", 1, 0),
        session(2, "alice", "editor", "10.0.4.17:52144", 5, 250),
        SshSession {
            cols: 80,
            rows: 24,
            ..session(4, "bob", "support", "[2001:db8::7]:40112", 9, 4000)
        },
    ]
}

fn listed(sessions: Vec<SshSession>) -> SshSessions {
    SshSessions {
        origin: format!("this server ({SERVER})"),
        servers: vec![SERVER.into()],
        sessions,
        yours: Some((SERVER.into(), 1)),
    }
}

/// An owner's console over SSH with the sessions view open.
fn owner() -> Harness {
    let mut h = Harness::signed_in("olivia", "owner", false);
    h.ssh = listed(three());
    h.chars("S");
    h
}

/// The highlighted row's text (the selected style is the only thing that marks it, so the
/// tests ask the app through a kick instead where it matters).
fn kick_target(h: &Harness) -> (String, u64) {
    let (_, server, id, _, _) = h.kicks.last().expect("a kick").clone();
    (server, id)
}

#[test]
fn sessions_view_120x40() {
    let mut h = owner();
    let screen = h.screen();
    for want in [
        "Sessions",
        "SSH sessions",
        "3 live",
        "this server (0.0.0.0:2222)",
        "olivia (you)",
        "10.0.4.17:52144",
        "2026-11-20 09:05",
        "4m",
        "1h06m",
        "80x24",
        "end the session",
    ] {
        assert!(screen.contains(want), "{want}:\n{screen}");
    }
    insta::assert_snapshot!(screen);
}

#[test]
fn sessions_view_80x24() {
    let mut h = owner();
    h.resize(80, 24);
    let screen = h.screen();
    for want in ["alice", "[2001:db8::7]:40112", "09:05", "1h06m"] {
        assert!(screen.contains(want), "{want}:\n{screen}");
    }
    insta::assert_snapshot!(screen);
}

#[test]
fn kick_asks_a_reason_then_a_confirmation() {
    let mut h = owner();
    h.key(KeyCode::Down); // alice
    h.chars("x");
    assert!(h.screen().contains("reason:"), "{}", h.screen());
    h.chars("maintenance at 18:00");
    h.key(KeyCode::Enter);
    let screen = h.screen();
    assert!(screen.contains("End SSH session?"), "{screen}");
    assert!(screen.contains("alice"), "{screen}");
    insta::assert_snapshot!(screen);
    // "no" ends nothing.
    h.chars("n");
    assert!(h.kicks.is_empty());
    assert!(!h.screen().contains("End SSH session?"));

    // Again, and "yes": the session is named by server, id and start.
    h.chars("x");
    h.chars("maintenance at 18:00");
    h.key(KeyCode::Enter);
    h.chars("y");
    assert_eq!(h.kicks.len(), 1);
    let (id, server, session, since, reason) = h.kicks[0].clone();
    assert_eq!(
        (server.as_str(), session, since, reason.as_str()),
        (SERVER, 2, at(5), "maintenance at 18:00")
    );
    assert!(h.screen().contains("ending alice's session 2…"));

    // The server ended it; the list is read again at once and alice is gone.
    let reads = h.ssh_reads;
    let ended = h.ssh.sessions.remove(1);
    h.send(Msg::Kicked(id, Ok(vec![ended])));
    assert_eq!(h.ssh_reads, reads + 1, "read again after the kick");
    let screen = h.screen();
    assert!(
        screen.contains("ended alice's session 2; they were told why"),
        "{screen}"
    );
    assert!(!screen.contains("10.0.4.17"), "{screen}");
}

#[test]
fn an_empty_reason_is_the_default_one_and_esc_ends_nothing() {
    let mut h = owner();
    h.key(KeyCode::End); // bob
    h.chars("x");
    h.key(KeyCode::Esc);
    assert!(h.screen().contains("not ended"));
    h.chars("x");
    h.key(KeyCode::Enter);
    assert!(
        h.screen()
            .contains("ended by olivia: ended by an administrator"),
        "{}",
        h.screen()
    );
    h.chars("y");
    assert_eq!(kick_target(&h), (SERVER.to_string(), 4));
    assert_eq!(h.kicks[0].4, "ended by an administrator");
    // A refusal from the runtime is said as it is.
    let id = h.kicks[0].0;
    h.send(Msg::Kicked(
        id,
        Err(Failure::Other(
            "the SSH server 0.0.0.0:2222 did not answer".into(),
        )),
    ));
    assert!(
        h.screen()
            .contains("could not end bob's session 4: the SSH server 0.0.0.0:2222 did not answer")
    );
}

#[test]
fn a_reason_is_bounded() {
    let mut h = owner();
    h.chars("x");
    h.send(Msg::Paste("z".repeat(10_000)));
    h.chars("more");
    h.key(KeyCode::Enter);
    h.chars("y");
    assert_eq!(h.kicks[0].4.chars().count(), 64);
}

#[test]
fn the_selection_follows_the_session_not_the_row() {
    let mut h = owner();
    h.key(KeyCode::Down); // alice, row 2
    // A session that started earlier appears above her: she stays selected.
    h.ssh
        .sessions
        .insert(0, session(7, "sam", "manager", "10.0.9.9:40000", 0, 3));
    h.send(Msg::Clock(at(30)));
    h.chars("x");
    h.key(KeyCode::Enter);
    h.chars("y");
    assert_eq!(kick_target(&h), (SERVER.to_string(), 2), "still alice");
    h.kicks.clear();

    // Bob (last) ends by himself: the row that took his place is selected, and it is said.
    let mut h = owner();
    h.key(KeyCode::End);
    h.ssh.sessions.pop();
    h.send(Msg::Clock(at(31)));
    assert!(
        h.screen().contains("SSH session 4 of bob has ended"),
        "{}",
        h.screen()
    );
    h.chars("x");
    h.key(KeyCode::Enter);
    h.chars("y");
    assert_eq!(
        kick_target(&h),
        (SERVER.to_string(), 2),
        "alice, his neighbour"
    );
}

#[test]
fn shown_it_is_read_every_second_hidden_never() {
    let mut h = owner();
    let reads = h.ssh_reads;
    assert_eq!(reads, 1, "opening reads once");
    h.ssh.sessions[1].idle_secs = 7;
    h.send(Msg::Clock(at(40)));
    assert_eq!(h.ssh_reads, 2);
    assert!(h.screen().contains("7s"), "fresh idle time");
    // Esc goes back to where it was opened; hidden, the clock reads nothing.
    h.key(KeyCode::Esc);
    assert!(!h.screen().contains("SSH sessions"));
    for m in 41..45 {
        h.send(Msg::Clock(at(m)));
    }
    assert_eq!(h.ssh_reads, 2);
}

#[test]
fn the_palette_and_help_name_it() {
    let mut h = Harness::signed_in("olivia", "owner", false);
    h.chars(":sessions");
    h.key(KeyCode::Enter);
    assert!(h.screen().contains("SSH sessions"));
    assert_eq!(h.ssh_reads, 1);
    h.chars("?");
    let help = h.screen();
    assert!(help.contains("SSH sessions (owners, admins)"), "{help}");
    // Further down the help: the view's own keys.
    let mut seen = false;
    for _ in 0..200 {
        h.key(KeyCode::Down);
        seen |= h
            .screen()
            .contains("x                     end the session (asks a reason, then confirms)");
    }
    assert!(seen, "the help lists the kick key");
}

#[test]
fn editors_and_support_are_refused_with_a_clear_message() {
    for (actor, role) in [("alice", "editor"), ("bob", "support")] {
        let mut h = Harness::signed_in(actor, role, false);
        h.ssh = listed(three());
        h.deny_reads = true;
        h.chars("S");
        let screen = h.screen();
        assert!(
            screen.contains("Session admin is for owners and admins."),
            "{screen}"
        );
        assert!(
            screen.contains("cannot list SSH sessions (needs staff:read)"),
            "{screen}"
        );
        assert!(!screen.contains("10.0.4.17"), "no row is shown: {screen}");
        // Refused: not asked again every second, and nothing to kick.
        h.send(Msg::Clock(at(50)));
        h.send(Msg::Clock(at(51)));
        assert_eq!(h.ssh_reads, 1);
        h.chars("x");
        assert!(h.kicks.is_empty());
    }
}

#[test]
fn a_read_only_session_lists_but_cannot_kick() {
    let mut h = Harness::signed_in("olivia", "owner", true);
    h.ssh = listed(three());
    h.chars("S");
    let screen = h.screen();
    assert!(screen.contains("alice"), "{screen}");
    assert!(!screen.contains("end the session"), "no kick in the bar");
    h.chars("x");
    assert!(h.screen().contains("read-only session"), "{}", h.screen());
    assert!(!h.screen().contains("reason:"));
    assert!(h.kicks.is_empty());
    assert!(
        !h.app
            .update(Msg::Key(ratatui::crossterm::event::KeyEvent::from(
                KeyCode::Char('x')
            )))
            .iter()
            .any(|e| matches!(e, Effect::KickSession { .. }))
    );
}

#[test]
fn no_server_running_is_said_plainly() {
    let mut h = Harness::signed_in("olivia", "owner", false);
    h.ssh = SshSessions {
        origin: "/home/olivia/.local/share/rustok".into(),
        ..SshSessions::default()
    };
    h.chars("S");
    let screen = h.screen();
    assert!(
        screen.contains("No SSH server is running from /home/olivia/.local/share/rustok."),
        "{screen}"
    );
    assert!(screen.contains("rustok serve --ssh"), "{screen}");
    // A server starts: its sessions show at the next second.
    h.ssh = listed(three());
    h.send(Msg::Clock(at(52)));
    assert!(h.screen().contains("alice"));
}
