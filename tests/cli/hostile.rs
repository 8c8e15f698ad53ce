//! Hostile input to the CLI (issue 10, item 4).
//!
//! - `Cli::try_parse_from` with arbitrary argv (any OS strings, invalid UTF-8 included, mixed
//!   with real subcommands and flags) never panics, and what an error prints is terminal-safe
//!   (256 cases; `PROPTEST_CASES=5000` for more).
//! - The real binary on nasty inputs: invalid UTF-8 arguments, control characters and escape
//!   sequences in arguments and in stored titles, a 1 MB body from a file and from stdin,
//!   a body just over the limit, a body file that is not UTF-8: exit 0, 1 or 2 as CLI.md
//!   says, with one clear line, and nothing raw on the terminal.

use crate::support;

use clap::{CommandFactory, Parser};
use proptest::prelude::*;
use rustok::cli::{Cli, parse_error_output};
use rustok_domain::text::has_control;
use std::ffi::OsString;
use std::io::Write;
use std::os::unix::ffi::OsStringExt;
use std::process::{Output, Stdio};
use support::cli::{Cli as Run, product};

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    ProptestConfig::with_cases(cases)
}

/// Words the parser knows, so arbitrary argv reaches deep into the subcommands.
const WORDS: &[&str] = &[
    "node",
    "create",
    "update",
    "list",
    "show",
    "search",
    "translate",
    "publish",
    "tenant",
    "order",
    "pay",
    "ship",
    "cancel",
    "product",
    "inventory",
    "adjust",
    "events",
    "tail",
    "outbox",
    "staff",
    "add",
    "role",
    "audit",
    "run",
    "serve",
    "seed",
    "--demo",
    "--scale",
    "--json",
    "--db",
    "--tenant",
    "--as",
    "--title",
    "--kind",
    "--body",
    "--body-file",
    "--locale",
    "--format",
    "--card-token",
    "--price",
    "--sku",
    "--qty",
    "--by",
    "--read-only",
    "--help",
    "-h",
    "--version",
    "--",
    "-",
    "article",
    "en",
    "1",
];

fn arg() -> impl Strategy<Value = OsString> {
    prop_oneof![
        3 => prop::sample::select(WORDS).prop_map(OsString::from),
        2 => any::<String>().prop_map(OsString::from),
        1 => prop::collection::vec(any::<u8>(), 0..20).prop_map(OsString::from_vec),
        1 => Just(OsString::from("\x1b[2J\u{9b}31m\r\x07")),
    ]
}

fn assert_safe_output(text: &str, to_stdout: bool) -> Result<(), TestCaseError> {
    if to_stdout {
        return Ok(()); // help and version: no user input in them
    }
    for line in text.lines() {
        prop_assert!(!has_control(line), "raw control character in {line:?}");
    }
    // An error, or the usage of a subcommand given without its command (exit 2 too).
    prop_assert!(
        text.starts_with("error: ") || text.contains("Usage: rustok"),
        "{text}"
    );
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_argv_parses_or_is_a_clear_usage_error(args in prop::collection::vec(arg(), 0..8)) {
        let argv = std::iter::once(OsString::from("rustok")).chain(args);
        match Cli::try_parse_from(argv) {
            Ok(_) => {}
            Err(e) => {
                let (to_stdout, text, code) = parse_error_output(&e);
                assert_safe_output(&text, to_stdout)?;
                prop_assert_eq!(code, if to_stdout { 0 } else { 2 });
            }
        }
    }
}

#[test]
fn the_clap_definitions_are_consistent() {
    Cli::command().debug_assert();
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Nothing the process wrote holds a raw control character other than newlines.
fn assert_no_raw_controls(out: &Output, what: &str) {
    for (name, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        assert!(
            !text
                .chars()
                .any(|c| c != '\n' && has_control(&c.to_string())),
            "{what}: raw control character on {name}: {text:?}"
        );
    }
}

#[test]
fn invalid_utf8_and_control_characters_in_arguments() {
    let cli = Run::new();
    let bad = OsString::from_vec(b"caf\xe9 \xff\xfe".to_vec());
    let out = cli
        .cmd(&["node", "create", "--kind", "article", "--title"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).starts_with("error: invalid UTF-8 was detected"));
    assert!(out.stdout.is_empty());

    // An unknown subcommand holding a C1 CSI and a carriage return is named, escaped.
    let out = cli.run(&["\u{9b}31mred\rover"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("'\\x9b31mred\\rover'"),
        "{}",
        stderr(&out)
    );
    assert_no_raw_controls(&out, "unknown subcommand");

    // A tenant that does not exist, named with an escape sequence: exit 1, one line.
    let out = cli.run(&["--tenant", "\x1b[2J\x07", "node", "list"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("\\x1b[2J\\x07"), "{err}");
    assert_no_raw_controls(&out, "unknown tenant");

    // Values that must be numbers, ids or known words.
    for args in [
        &["node", "show", "\x1b[2J"][..],
        &["order", "pay", "\x1b]0;x\x07", "--card-token", "tok_visa"][..],
        &[
            "node",
            "create",
            "--kind",
            "\u{202e}article",
            "--title",
            "t",
        ][..],
        &["seed", "--demo", "--scale", "\x1b[2J"][..],
    ] {
        let out = cli.run(args);
        let code = out.status.code();
        assert!(code == Some(1) || code == Some(2), "{args:?}: {code:?}");
        assert!(
            stderr(&out).starts_with("error: "),
            "{args:?}: {}",
            stderr(&out)
        );
        assert_no_raw_controls(&out, &format!("{args:?}"));
    }
}

#[test]
fn titles_with_control_characters_are_stored_and_printed_escaped() {
    let cli = Run::new();
    // (No NUL: an argument cannot hold one.)
    let title = "Evil \x1b[2J\u{9b}31m\x07\r\u{202e}title\x7fend";
    let created = cli.json(&["node", "create", "--kind", "article", "--title", title]);
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(
        created["translations"][0]["title"], title,
        "stored as given"
    );
    for args in [
        &["node", "list"][..],
        &["node", "show", &id][..],
        &["node", "search", "Evil"][..],
        &["events", "list"][..],
    ] {
        let out = cli.run(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert_no_raw_controls(&out, &format!("{args:?}"));
        let mut json = args.to_vec();
        json.push("--json");
        let out = cli.run(&json);
        assert!(out.status.success());
        assert_no_raw_controls(&out, &format!("{json:?}"));
    }
    let shown = String::from_utf8(cli.run(&["node", "show", &id]).stdout).unwrap();
    assert!(
        shown.contains("Evil \\x1b[2J\\x9b31m\\x07\\r\\u{202e}title\\x7fend"),
        "{shown}"
    );
}

#[test]
fn megabyte_bodies_from_a_file_and_from_stdin() {
    let cli = Run::new();
    let dir = tempfile::tempdir().unwrap();

    // Exactly the limit (1,000,000 characters, escape sequences included): accepted whole.
    let body = "\x1b[2J".repeat(250_000);
    let file = dir.path().join("body.txt");
    std::fs::write(&file, &body).unwrap();
    let created = cli.json(&[
        "node",
        "create",
        "--kind",
        "article",
        "--title",
        "Big",
        "--body-file",
        file.to_str().unwrap(),
    ]);
    let id = created["id"].as_str().unwrap().to_string();
    let stored = created["translations"][0]["body"].as_str().unwrap();
    assert_eq!(stored.chars().count(), 1_000_000);
    let out = cli.run(&["node", "show", &id]);
    assert!(out.status.success());
    assert_no_raw_controls(&out, "node show of a 1 MB body");
    assert!(String::from_utf8_lossy(&out.stdout).contains("1000000 chars"));

    // From stdin (a pipe), one megabyte of plain text.
    let mut child = cli
        .cmd(&[
            "node",
            "create",
            "--kind",
            "article",
            "--title",
            "From stdin",
            "--body-file",
            "/dev/stdin",
            "--json",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all("é".repeat(1_000_000).as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["translations"][0]["body"]
            .as_str()
            .unwrap()
            .chars()
            .count(),
        1_000_000
    );

    // One character over (a 1 MiB file): refused with the numbers, nothing stored.
    let over = dir.path().join("over.txt");
    std::fs::write(&over, "x".repeat(1 << 20)).unwrap();
    let before = cli.json(&["node", "list"]).as_array().unwrap().len();
    let out = cli.run(&[
        "node",
        "create",
        "--kind",
        "article",
        "--title",
        "Too big",
        "--body-file",
        over.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim_end(),
        "error: body: is 1048576 characters long; the limit is 1000000"
    );
    assert_eq!(
        cli.json(&["node", "list"]).as_array().unwrap().len(),
        before
    );

    // Not UTF-8: refused, saying where.
    let latin1 = dir.path().join("latin1.txt");
    std::fs::write(&latin1, b"caf\xe9\n").unwrap();
    let out = cli.run(&[
        "node",
        "create",
        "--kind",
        "article",
        "--title",
        "Latin-1",
        "--body-file",
        latin1.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is not valid UTF-8 (first bad byte at offset 3)"),
        "{}",
        stderr(&out)
    );
    // A file that does not exist, its name holding an escape sequence.
    let out = cli.run(&[
        "node",
        "create",
        "--kind",
        "article",
        "--title",
        "Missing",
        "--body-file",
        "/nonexistent/\x1b[2J.txt",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cannot read /nonexistent/\\x1b[2J.txt"));
    assert_no_raw_controls(&out, "missing body file");
}

/// A row another tool wrote with invalid UTF-8 in a title (SQLite does not check): listing
/// fails with one clear line naming the problem, exit 1, no panic, nothing raw printed; the
/// other commands keep working. (Known limit, docs/RELIABILITY.md: the one bad row makes the
/// whole listing fail rather than showing it lossily.)
#[test]
fn invalid_utf8_written_into_the_database_by_another_tool() {
    let cli = Run::new();
    let created = cli.json(&["node", "create", "--kind", "article", "--title", "Fine"]);
    let id = created["id"].as_str().unwrap().to_string();
    let path = cli.db.url.strip_prefix("sqlite://").unwrap().to_string();
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "UPDATE node_translations SET title = CAST(x'4576696cff1b5b324a' AS TEXT)",
        [],
    )
    .unwrap();
    drop(conn);
    for args in [&["node", "list"][..], &["node", "show", &id][..]] {
        let out = cli.run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("invalid utf-8"), "{err}");
        assert_no_raw_controls(&out, &format!("{args:?}"));
    }
    // Writing still works.
    cli.json(&[
        "node",
        "create",
        "--kind",
        "article",
        "--title",
        "Still fine",
    ]);
}

// ---------------------------------------------------------------------------------------------
// Issue 16, item 4: inputs are read bounded. Each test runs the real binary, measures its
// peak resident memory and kills it past a minute or 1 GB, so the code that read inputs
// whole fails these tests instead of exhausting the machine.
//
// The peak comes from `wait4`'s rusage, taken by a small helper process (this test binary
// re-run as `measure_child`) that spawns the binary: Linux records in a child's `ru_maxrss`
// the peak of the address space it was spawned from (`posix_spawn` shares the parent's until
// `exec`), so measured straight from this large, many-threaded test process the figure
// would be this process's own peak.

/// Peak memory a refused input may cost the process: the binary's own start-up (runtime,
/// database pool) is about 35 MB.
const SMALL_RSS_KB: i64 = 64 * 1024;

/// The helper's instructions (JSON in this environment variable).
const MEASURE_SPEC: &str = "RUSTOK_TEST_MEASURE_SPEC";

/// What a measured child did.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Measured {
    code: Option<i32>,
    stderr: String,
    peak_rss_kb: i64,
    elapsed_ms: u128,
    killed: bool,
}

impl Measured {
    /// Refused (exit 1) fast, with one `error:` line, at a small peak RSS.
    fn assert_refused_small(&self, what: &str) -> &str {
        assert!(!self.killed, "{what}: killed after {} ms", self.elapsed_ms);
        assert_eq!(self.code, Some(1), "{what}: {}", self.stderr);
        assert_eq!(self.stderr.lines().count(), 1, "{what}: {:?}", self.stderr);
        assert!(
            self.stderr.starts_with("error: "),
            "{what}: {}",
            self.stderr
        );
        assert!(
            self.peak_rss_kb < SMALL_RSS_KB,
            "{what}: peak RSS {} kB",
            self.peak_rss_kb
        );
        assert!(
            self.elapsed_ms < 20_000,
            "{what}: took {} ms",
            self.elapsed_ms
        );
        self.stderr.trim_end()
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct MeasureSpec {
    program: String,
    args: Vec<String>,
    /// (name, Some(value)) to set, (name, None) to remove.
    envs: Vec<(String, Option<String>)>,
    /// Write this many bytes of this byte to stdin (stopping when the reader hangs up).
    feed: Option<(u8, usize)>,
}

/// Runs `cmd` to its end in a fresh helper process and returns what it did and its peak
/// RSS; `feed` = (byte, count) is written to its stdin.
fn run_measured(cmd: std::process::Command, feed: Option<(u8, usize)>) -> Measured {
    let s = |o: &std::ffi::OsStr| o.to_str().expect("UTF-8 argument").to_string();
    let spec = MeasureSpec {
        program: s(cmd.get_program()),
        args: cmd.get_args().map(s).collect(),
        envs: cmd.get_envs().map(|(k, v)| (s(k), v.map(s))).collect(),
        feed,
    };
    // The helper's test name in this binary: its module path without the crate's name.
    let helper = module_path!()
        .split_once("::")
        .map_or("measure_child".to_string(), |(_, m)| {
            format!("{m}::measure_child")
        });
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            helper.as_str(),
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(MEASURE_SPEC, serde_json::to_string(&spec).unwrap())
        .output()
        .expect("run the helper");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("MEASURED ").map(|(_, json)| json))
        .unwrap_or_else(|| panic!("the helper said nothing: {stdout} {}", stderr(&out)));
    serde_json::from_str(line).unwrap()
}

fn rss_kb(pid: libc::pid_t) -> i64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// The helper of [`run_measured`] (not a test of its own: ignored unless asked for). Spawns
/// the command of its spec, feeds its stdin, reaps it with `wait4` to read its peak RSS, and
/// prints `MEASURED <json>`. A child still running after 60 s, or above 1 GB, is killed.
#[test]
#[ignore = "helper of run_measured, run in a process of its own"]
fn measure_child() {
    use std::io::Read;
    use std::time::{Duration, Instant};
    let spec: MeasureSpec =
        serde_json::from_str(&std::env::var(MEASURE_SPEC).expect("run by run_measured")).unwrap();
    let mut cmd = std::process::Command::new(&spec.program);
    cmd.args(&spec.args);
    for (k, v) in &spec.envs {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    cmd.stdin(if spec.feed.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let started = Instant::now();
    // Reaped below with wait4, for its rusage, rather than with Child::wait.
    #[allow(clippy::zombie_processes)]
    let mut child = cmd.spawn().expect("spawn rustok");
    let writer = spec.feed.map(|(byte, total)| {
        let mut stdin = child.stdin.take().unwrap();
        std::thread::spawn(move || {
            let chunk = vec![byte; 64 * 1024];
            let mut sent = 0;
            while sent < total && stdin.write_all(&chunk).is_ok() {
                sent += chunk.len();
            }
        })
    });
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain old data; wait4 fills it in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut killed = false;
    loop {
        // SAFETY: waits for our own child, by pid, with valid out-pointers.
        let r = unsafe {
            libc::wait4(
                pid,
                &mut status,
                if killed { 0 } else { libc::WNOHANG },
                &mut usage,
            )
        };
        if r == pid {
            break;
        }
        assert_eq!(r, 0, "wait4: {}", std::io::Error::last_os_error());
        if started.elapsed() > Duration::from_secs(60) || rss_kb(pid) > 1 << 20 {
            // SAFETY: signals our own child, which has not been reaped yet.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            killed = true;
        } else {
            // Sampling the child's memory while it runs (the guard above), not a guess.
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let elapsed_ms = started.elapsed().as_millis();
    if let Some(w) = writer {
        w.join().unwrap();
    }
    let m = Measured {
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        stderr: reader.join().unwrap(),
        peak_rss_kb: usage.ru_maxrss,
        elapsed_ms,
        killed,
    };
    println!("MEASURED {}", serde_json::to_string(&m).unwrap());
}

/// A sparse file of `len` bytes (no disk used): as large as an attacker likes, read back as
/// zeros.
fn sparse_file(dir: &std::path::Path, name: &str, len: u64) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::File::create(&path).unwrap().set_len(len).unwrap();
    path
}

fn create_with_body_file(cli: &Run, file: &str) -> std::process::Command {
    cli.cmd(&[
        "node",
        "create",
        "--kind",
        "article",
        "--title",
        "T",
        "--body-file",
        file,
    ])
}

/// `--body-file /dev/zero` grew one process to 24 GB until the kernel killed it. A device
/// that never ends is refused at once, from the open file's metadata.
#[test]
fn body_file_from_dev_zero_is_refused_without_reading_it_all() {
    let cli = Run::new();
    for device in ["/dev/zero", "/dev/urandom"] {
        let m = run_measured(create_with_body_file(&cli, device), None);
        let err = m.assert_refused_small(device);
        assert_eq!(
            err,
            format!(
                "error: cannot read {device} (body file): it is a character device, not a file, a pipe or a terminal"
            )
        );
    }
    // A directory likewise.
    let dir = tempfile::tempdir().unwrap();
    let m = run_measured(
        create_with_body_file(&cli, dir.path().to_str().unwrap()),
        None,
    );
    assert!(
        m.assert_refused_small("a directory")
            .contains("it is a directory")
    );
    assert_eq!(cli.json(&["node", "list"]), serde_json::json!([]));
}

/// A 300 MB body file used 635 MB before being refused. Its size is known before reading:
/// refused without reading a byte of it, naming the size and the limit (4,000,000 bytes:
/// 1,000,000 characters of at most 4 bytes).
#[test]
fn body_file_of_300_mb_is_refused_before_it_is_read() {
    let cli = Run::new();
    let dir = tempfile::tempdir().unwrap();
    let big = sparse_file(dir.path(), "big.txt", 300_000_000);
    let m = run_measured(create_with_body_file(&cli, big.to_str().unwrap()), None);
    let err = m.assert_refused_small("300 MB body file");
    assert!(
        err.ends_with("(body file): it is 300000000 bytes, more than the limit of 4000000"),
        "{err}"
    );
    // Just over the byte limit: refused the same way; at the limit, the domain judges the
    // characters (4,000,000 ASCII bytes are 4,000,000 characters: too long).
    let over = sparse_file(dir.path(), "over.txt", 4_000_001);
    let m = run_measured(create_with_body_file(&cli, over.to_str().unwrap()), None);
    assert!(
        m.assert_refused_small("4,000,001 bytes")
            .contains("more than the limit of 4000000")
    );
    let at = dir.path().join("at.txt");
    std::fs::write(&at, "x".repeat(4_000_000)).unwrap();
    let m = run_measured(create_with_body_file(&cli, at.to_str().unwrap()), None);
    assert_eq!(
        m.assert_refused_small("4,000,000 bytes"),
        "error: body: is 4000000 characters long; the limit is 1000000"
    );
}

/// A body from a pipe has no size to check first: reading stops one byte past the limit,
/// however much the writer has to send (here 100 MB).
#[test]
fn body_from_an_endless_pipe_is_cut_at_the_limit() {
    let cli = Run::new();
    let m = run_measured(
        create_with_body_file(&cli, "/dev/stdin"),
        Some((b'x', 100 << 20)),
    );
    let err = m.assert_refused_small("100 MB on stdin");
    assert!(
        err.ends_with("(body file): it is more than the limit of 4000000 bytes"),
        "{err}"
    );
}

/// A 200 MB `--ssh-key` file used 431 MB. A public key file may hold 16 KiB.
#[test]
fn ssh_key_file_of_200_mb_is_refused_before_it_is_read() {
    let cli = Run::new();
    let dir = tempfile::tempdir().unwrap();
    let big = sparse_file(dir.path(), "id.pub", 200_000_000);
    let add = |key: &str| cli.cmd(&["staff", "add", "eve", "--role", "editor", "--ssh-key", key]);
    let m = run_measured(add(big.to_str().unwrap()), None);
    assert!(
        m.assert_refused_small("200 MB key file")
            .ends_with("(SSH key file): it is 200000000 bytes, more than the limit of 16384")
    );
    let m = run_measured(add("/dev/zero"), None);
    assert!(
        m.assert_refused_small("/dev/zero key file")
            .contains("it is a character device")
    );
    // A real key file is still read.
    let key = dir.path().join("ok.pub");
    std::fs::write(
        &key,
        "# a comment\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl eve@laptop\n",
    )
    .unwrap();
    let s = cli.json(&[
        "staff",
        "add",
        "eve",
        "--role",
        "editor",
        "--ssh-key",
        key.to_str().unwrap(),
    ]);
    assert_eq!(s["ssh_keys"].as_array().unwrap().len(), 1);
}

/// The hidden `script` mode reads one JSON command a line from stdin: a line that never ends
/// is refused after 8 MiB of it.
#[test]
fn script_line_longer_than_the_limit_is_refused() {
    let cli = Run::new();
    let m = run_measured(cli.cmd(&["script"]), Some((b'{', 100 << 20)));
    assert_eq!(
        m.assert_refused_small("a 100 MB line"),
        "error: a line on stdin is longer than 8388608 bytes"
    );
}

/// The server's host key file is read bounded too (the function `serve` calls first).
#[test]
fn host_key_file_is_read_bounded() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let big = sparse_file(dir.path(), "host_key", 200_000_000);
    std::fs::set_permissions(&big, std::fs::Permissions::from_mode(0o600)).unwrap();
    let started = std::time::Instant::now();
    let err = rustok::ssh::load_or_create_host_key(&big)
        .unwrap_err()
        .to_string();
    assert!(
        err.ends_with("(host key): it is 200000000 bytes, more than the limit of 65536"),
        "{err}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
}

// ---------------------------------------------------------------------------------------------
// Issue 16, item 5: numbers out of range are usage errors (exit 2), never panics.

/// `node list --limit 18446744073709551615` panicked in sea-query's binder (`TryFromIntError`)
/// on both backends; so did `order list`, `product list`, `events list` and `audit log
/// --offset`. Every numeric argument now has a range: out of it, clap refuses with exit 2
/// and names the range.
#[test]
fn huge_limit_is_a_usage_error_not_a_panic() {
    const HUGE: &str = "18446744073709551615";
    const I64_MAX: &str = "9223372036854775807";
    let cli = Run::new();
    let huge_stock = product("X", "1").stock(I64_MAX);
    let negative_low_stock = product("X", "1").low_stock("-1");
    let cases: &[&[&str]] = &[
        &["node", "list", "--limit", HUGE],
        &["node", "list", "--limit", "0"],
        &["node", "list", "--offset", HUGE],
        &["node", "search", "x", "--limit", HUGE],
        &["product", "list", "--limit", HUGE],
        &["product", "list", "--offset", HUGE],
        &["order", "list", "--limit", HUGE],
        &["order", "list", "--offset", HUGE],
        &["order", "search", "--sku", "X", "--limit", HUGE],
        &["events", "list", "--limit", HUGE],
        &["events", "tail", "--last", HUGE],
        &["audit", "log", "--offset", HUGE],
        &["audit", "log", "--limit", "10001"],
        &["seed", "--demo", "--scale", HUGE],
        &["seed", "--demo", "--scale", "0"],
        &["script", "--lease-ms", HUGE],
        &["script", "--lease-ms", "0"],
        &[
            "node",
            "update",
            "x",
            "--title",
            "t",
            "--expect-version",
            "0",
        ],
        &["node", "publish", "x", "--expect-version=-1"],
        &[
            "node",
            "translate",
            "x",
            "--locale",
            "fr",
            "--title",
            "t",
            "--expect-version",
            HUGE,
        ],
        &huge_stock.args(),
        &negative_low_stock.args(),
        &["inventory", "adjust", "X", "--by", "-9223372036854775808"],
        &["serve", "--ssh", "127.0.0.1:1", "--idle-timeout", HUGE],
        &["serve", "--ssh", "127.0.0.1:1", "--idle-timeout", I64_MAX],
    ];
    for args in cases {
        let out = cli.run(args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        let first = err.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("error: invalid value '")
                && (first.contains(" is not in ") || first.contains("too large")),
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    // The edges of the ranges are accepted, on both backends (the store takes any window).
    Run::on_both_backends(|cli| {
        cli.json(&["node", "create", "--kind", "article", "--title", "One"]);
        for args in [
            &["node", "list", "--limit", "1000000", "--offset", I64_MAX][..],
            &["product", "list", "--limit", "1000000", "--offset", I64_MAX][..],
            &["order", "list", "--limit", "1000000", "--offset", I64_MAX][..],
            &["order", "search", "--sku", "X", "--limit", "1000000"][..],
            &["node", "search", "One", "--limit", "1000000"][..],
            &["audit", "log", "--limit", "10000", "--offset", I64_MAX][..],
        ] {
            let out = cli.run(&[args, &["--json"]].concat());
            assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        }
        assert_eq!(
            cli.json(&["node", "list", "--limit", "1000000"])
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert!(
            !cli.json(&["events", "list", "--limit", "1000000"])
                .as_array()
                .unwrap()
                .is_empty()
        );
    });
}

/// The store's own list methods take any `u64` window (a caller other than the CLI, say a
/// future API, cannot panic them either): values above `i64::MAX` are read as "all".
async fn store_lists_take_any_window(app: support::TestApp) {
    use rustok_store::{EventFilter, NodeFilter, OrderFilter, ProductFilter};
    app.create_node(support::fixtures::draft("Window"))
        .await
        .unwrap();
    let t = app.tenant.id;
    for (offset, limit) in [(u64::MAX, u64::MAX), (0, u64::MAX), (i64::MAX as u64, 1)] {
        let nodes = app
            .store
            .list_nodes(
                t,
                &NodeFilter {
                    offset,
                    limit,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(nodes.total, 1);
        assert_eq!(nodes.rows.len(), usize::from(offset == 0));
        app.store
            .list_products(
                t,
                &ProductFilter {
                    offset,
                    limit,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        app.store
            .list_orders(
                t,
                &OrderFilter {
                    offset,
                    limit,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        app.store
            .audit_log_matching(offset, limit, "")
            .await
            .unwrap();
        let events = app
            .store
            .list_events(&EventFilter {
                tenant_id: Some(t),
                limit,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(!events.is_empty());
        let hits = app
            .store
            .search_nodes(t, "Window", None, limit)
            .await
            .unwrap();
        assert_eq!(hits.len(), 1);
        app.store.feed_head(Some(t), limit).await.unwrap();
    }
}

on_both_backends!(store_lists_take_any_window);

// ---------------------------------------------------------------------------------------------
// Issue 16, item 8: slugs no longer lose letters.

/// "Café one" typed precomposed (NFC) became `caf-one`, the same title decomposed (NFD)
/// `cafe-one`, and "Ωmega" `mega`. Titles are normalized (NFKC) and transliterated: both
/// forms give `cafe-one`, so the second is a duplicate slug in the same locale; other
/// scripts keep their letters; emoji-only titles keep the fallback.
#[test]
fn slug_of_nfc_and_nfd_titles_is_equal() {
    Run::on_both_backends(|cli| {
        let create = |title: &str, locale: &str| {
            cli.cmd(&[
                "node", "create", "--kind", "article", "--title", title, "--locale", locale,
                "--json",
            ])
            .output()
            .unwrap()
        };
        let slug = |out: &Output| -> String {
            assert!(out.status.success(), "{}", stderr(out));
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            v["translations"][0]["slug"].as_str().unwrap().to_string()
        };
        let nfc = "Caf\u{e9} one";
        let nfd = "Cafe\u{301} one";
        assert_eq!(slug(&create(nfc, "en")), "cafe-one");
        assert_eq!(slug(&create(nfd, "fr")), "cafe-one");
        let dup = create(nfd, "en");
        assert_eq!(dup.status.code(), Some(1));
        assert!(
            stderr(&dup).contains("slug 'cafe-one' in locale en already exists"),
            "{}",
            stderr(&dup)
        );
        assert_eq!(slug(&create("Ωmega", "en")), "omega");
        assert_eq!(slug(&create("Привет мир", "ru")), "privet-mir");
        assert!(slug(&create("🦀✨", "en")).starts_with("article-"));
        // Product handles follow the same rule.
        let p = cli.json(&product("OM", "1").title("Ωmega Café").args());
        assert_eq!(p["translations"][0]["handle"], "omega-cafe");
    });
}
