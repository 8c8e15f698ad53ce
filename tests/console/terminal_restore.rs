//! The terminal is restored after a panic, SIGTERM, SIGHUP and SIGINT (issue 10, item 5).
//!
//! Each test runs the REAL `rustok` binary on the slave side of a fresh pseudo-terminal
//! (openpty; the console is the session leader and the pty is its controlling terminal),
//! reads everything it writes from the master side, waits for the first frame, then injects
//! the fault. Afterwards it checks, on the pty itself (tcgetattr on the master), that the line
//! discipline is back in cooked mode (ICANON, ECHO, ISIG), and, by replaying every byte the
//! console wrote through a vt100 emulator and looking at the raw bytes, that the alternate
//! screen was left (`ESC[?1049l`) and the cursor shown again (`ESC[?25h`).
//!
//! SIGHUP is injected two ways: `kill -HUP` with the pty still open (everything above is
//! checked), and by closing the master side, as a dropped SSH connection or a closed terminal
//! window does: the kernel hangs the terminal up, and the console must exit promptly.
//!
//! The panic comes from `RUSTOK_DEBUG_PANIC=after-first-frame` (docs/RELIABILITY.md).

#![cfg(target_os = "linux")]

use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::wait_until;

const COLS: u16 = 120;
const ROWS: u16 = 40;
const ENTER_ALT: &[u8] = b"\x1b[?1049h";
const LEAVE_ALT: &[u8] = b"\x1b[?1049l";
const HIDE_CURSOR: &[u8] = b"\x1b[?25l";
const SHOW_CURSOR: &[u8] = b"\x1b[?25h";

/// The console running on a pseudo-terminal, with everything it wrote so far.
struct PtyConsole {
    child: Child,
    master: Arc<Mutex<Option<OwnedFd>>>,
    output: Arc<Mutex<Vec<u8>>>,
    hangup: Arc<AtomicBool>,
    reader: Option<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

/// A new pseudo-terminal of COLS×ROWS, both sides opened close-on-exec from the start: this
/// test binary also runs tests that start processes (the SSH server, tmux, the CLI) at any
/// moment, and one that inherited a side of this pty would keep it from hanging up when its
/// master is closed (and its output from ending when the console exits).
fn open_pty() -> (OwnedFd, OwnedFd) {
    // SAFETY: posix_openpt returns a new descriptor or -1.
    let master = unsafe { libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) };
    assert!(
        master >= 0,
        "posix_openpt: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: the descriptor was just opened and is owned by nobody else.
    let master = unsafe { OwnedFd::from_raw_fd(master) };
    let mut name = [0 as libc::c_char; 128];
    // SAFETY: grantpt/unlockpt on a pty master; ptsname_r writes a NUL-terminated name into
    // the buffer of the given length.
    unsafe {
        assert_eq!(libc::grantpt(master.as_raw_fd()), 0, "grantpt");
        assert_eq!(libc::unlockpt(master.as_raw_fd()), 0, "unlockpt");
        assert_eq!(
            libc::ptsname_r(master.as_raw_fd(), name.as_mut_ptr(), name.len()),
            0,
            "ptsname_r"
        );
    }
    // SAFETY: `name` is NUL-terminated (ptsname_r succeeded).
    let slave = unsafe {
        libc::open(
            name.as_ptr(),
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        )
    };
    assert!(
        slave >= 0,
        "open the pty's slave side: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: as above.
    let slave = unsafe { OwnedFd::from_raw_fd(slave) };
    let size = libc::winsize {
        ws_row: ROWS,
        ws_col: COLS,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one winsize through a valid pointer.
    let rc = unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCSWINSZ, &size) };
    assert_eq!(rc, 0, "TIOCSWINSZ: {}", std::io::Error::last_os_error());
    (master, slave)
}

fn prepare_database(dir: &Path) -> String {
    let url = format!("sqlite://{}", dir.join("restore.db").display());
    // A tenant already exists, so the console does not spend time writing demo data.
    let out = Command::new(env!("CARGO_BIN_EXE_rustok"))
        .args(["--db", &url, "tenant", "list"])
        .env("RUSTOK_DATA_DIR", dir)
        .env("RUSTOK_CONFIG_DIR", dir.join("config"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    url
}

impl PtyConsole {
    fn start(env: &[(&str, &str)]) -> PtyConsole {
        PtyConsole::start_with(env, true)
    }

    /// With `controlling` false the pty is not the console's controlling terminal: a hang-up
    /// then sends it no SIGHUP (a terminal it was handed, as by some supervisors and `setsid`).
    fn start_with(env: &[(&str, &str)], controlling: bool) -> PtyConsole {
        let dir = tempfile::tempdir().unwrap();
        let url = prepare_database(dir.path());
        let (master, slave) = open_pty();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rustok"));
        cmd.args(["--db", &url])
            .env("RUSTOK_DATA_DIR", dir.path())
            .env("RUSTOK_CONFIG_DIR", dir.path().join("config"))
            .env("TERM", "xterm-256color")
            .env_remove("RUSTOK_DEBUG_PANIC")
            .env("RUST_BACKTRACE", "0")
            .stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave));
        for (k, v) in env {
            cmd.env(k, v);
        }
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                // A new session whose controlling terminal is the pty, as a login shell has.
                if libc::setsid() == -1 || (controlling && libc::ioctl(0, libc::TIOCSCTTY, 0) == -1)
                {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("start rustok");
        drop(cmd); // closes the parent's copies of the slave side

        let output = Arc::new(Mutex::new(Vec::new()));
        let hangup = Arc::new(AtomicBool::new(false));
        let master = Arc::new(Mutex::new(Some(master)));
        let reader = {
            let (output, hangup, master) = (output.clone(), hangup.clone(), master.clone());
            std::thread::spawn(move || read_loop(&master, &output, &hangup))
        };
        PtyConsole {
            child,
            master,
            output,
            hangup,
            reader: Some(reader),
            _dir: dir,
        }
    }

    fn output(&self) -> Vec<u8> {
        self.output.lock().unwrap().clone()
    }

    fn screen(&self) -> vt100::Parser {
        let mut p = vt100::Parser::new(
            std::num::NonZeroU16::new(ROWS).unwrap(),
            std::num::NonZeroU16::new(COLS).unwrap(),
            0,
        );
        p.process(&self.output());
        p
    }

    /// Waits until the first frame is on the screen.
    fn wait_for_first_frame(&mut self) {
        let has = |out: &[u8], needle: &[u8]| out.windows(needle.len()).any(|w| w == needle);
        let mut exited = None;
        // From the raw bytes, not the emulated screen: the console may already have left the
        // alternate screen again (a panic after the first frame).
        let framed = wait_until(Duration::from_secs(60), || {
            let out = self.output();
            if has(&out, ENTER_ALT) && has(&out, b" 1 Dashboard ") {
                return true;
            }
            exited = self.child.try_wait().unwrap();
            exited.is_some()
        });
        if let Some(status) = exited {
            let out = self.output();
            assert!(
                has(&out, ENTER_ALT) && has(&out, b" 1 Dashboard "),
                "the console exited ({status}) before its first frame:\n{}",
                String::from_utf8_lossy(&out)
            );
        }
        assert!(
            framed,
            "no first frame within 60 s; output so far:\n{}",
            String::from_utf8_lossy(&self.output())
        );
    }

    fn signal(&self, sig: libc::c_int) {
        // SAFETY: plain kill(2) on our own child.
        let rc = unsafe { libc::kill(self.child.id() as libc::pid_t, sig) };
        assert_eq!(rc, 0, "kill: {}", std::io::Error::last_os_error());
    }

    /// Waits for the console to exit, then for the reader to have taken everything it wrote
    /// (the reader ends when the slave side is closed); fails the test if either hangs.
    fn wait_exit(&mut self, what: &str) -> ExitStatus {
        let mut status = None;
        if !wait_until(Duration::from_secs(20), || {
            status = self.child.try_wait().unwrap();
            status.is_some()
        }) {
            let _ = self.child.kill();
            panic!("the console did not exit within 20 s of {what}");
        }
        if let Some(r) = self.reader.take() {
            assert!(
                wait_until(Duration::from_secs(5), || r.is_finished()),
                "the pty's output did not end after the console exited ({what})"
            );
            r.join().unwrap();
        }
        status.unwrap()
    }

    /// The pty's line discipline flags, read through the master side.
    fn local_flags(&self) -> libc::tcflag_t {
        let guard = self.master.lock().unwrap();
        let fd = guard.as_ref().expect("the pty is still open");
        // SAFETY: tcgetattr fills a termios for a valid descriptor.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        let rc = unsafe { libc::tcgetattr(fd.as_raw_fd(), &mut t) };
        assert_eq!(rc, 0, "tcgetattr: {}", std::io::Error::last_os_error());
        t.c_lflag
    }

    /// Closes the master side: the terminal hangs up, as when an SSH connection drops.
    fn hang_up(&mut self) {
        self.hangup.store(true, Ordering::SeqCst);
        if let Some(r) = self.reader.take() {
            r.join().unwrap();
        }
        assert!(self.master.lock().unwrap().is_none());
    }

    /// The checks shared by every fault that leaves the pty open.
    fn assert_restored(&self, what: &str) {
        let flags = self.local_flags();
        for (flag, name) in [
            (libc::ICANON, "icanon"),
            (libc::ECHO, "echo"),
            (libc::ISIG, "isig"),
        ] {
            assert!(
                flags & flag != 0,
                "after {what} the terminal is still raw: {name} is off"
            );
        }
        let out = self.output();
        let last = |needle: &[u8]| out.windows(needle.len()).rposition(|w| w == needle);
        let entered = last(ENTER_ALT).expect("the console entered the alternate screen");
        let left = last(LEAVE_ALT)
            .unwrap_or_else(|| panic!("after {what} the alternate screen was never left"));
        // Exactly once: leaving again restores the cursor saved on entry, and the shell
        // prompt then overwrites whatever was printed in between (a panic message).
        let leaves = out
            .windows(LEAVE_ALT.len())
            .filter(|w| *w == LEAVE_ALT)
            .count();
        assert_eq!(
            leaves, 1,
            "after {what} the alternate screen was left {leaves} times"
        );
        assert!(
            left > entered,
            "after {what} the alternate screen was not left"
        );
        let hidden = last(HIDE_CURSOR).expect("the console hid the cursor");
        let shown = last(SHOW_CURSOR)
            .unwrap_or_else(|| panic!("after {what} the cursor was never shown again"));
        assert!(shown > hidden, "after {what} the cursor stays hidden");
        let p = self.screen();
        assert!(!p.screen().alternate_screen(), "{what}: alternate screen");
        assert!(!p.screen().hide_cursor(), "{what}: cursor hidden");
    }
}

fn read_loop(master: &Mutex<Option<OwnedFd>>, output: &Mutex<Vec<u8>>, hangup: &AtomicBool) {
    let fd = master
        .lock()
        .unwrap()
        .as_ref()
        .unwrap()
        .try_clone()
        .unwrap();
    let raw = fd.as_raw_fd();
    let mut file = File::from(fd);
    let mut buf = [0u8; 8192];
    loop {
        if hangup.load(Ordering::SeqCst) {
            break;
        }
        let mut pfd = libc::pollfd {
            fd: raw,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut pfd, 1, 50) };
        if n <= 0 {
            continue;
        }
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => output.lock().unwrap().extend_from_slice(&buf[..n]),
            // EIO: the slave side is closed (the console exited) and everything it wrote has
            // been read. The master stays open (in `master`) for the checks on the pty.
            Err(_) => break,
        }
    }
    // The last descriptor of the master side closes here (with `hangup`, this is the
    // hang-up itself).
    drop(file);
    if hangup.load(Ordering::SeqCst) {
        master.lock().unwrap().take();
    }
}

impl Drop for PtyConsole {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.hangup.store(true, Ordering::SeqCst);
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }
}

fn signal_restores(sig: libc::c_int, name: &str) {
    let mut c = PtyConsole::start(&[]);
    c.wait_for_first_frame();
    c.signal(sig);
    let status = c.wait_exit(name);
    assert_eq!(
        status.code(),
        Some(0),
        "{name}: the console exits normally ({status})"
    );
    c.assert_restored(name);
}

#[test]
fn sigterm_restores_the_terminal() {
    signal_restores(libc::SIGTERM, "SIGTERM");
}

#[test]
fn sigint_restores_the_terminal() {
    signal_restores(libc::SIGINT, "SIGINT");
}

#[test]
fn sighup_restores_the_terminal() {
    signal_restores(libc::SIGHUP, "SIGHUP");
}

#[test]
fn a_panic_restores_the_terminal_and_says_why() {
    let mut c = PtyConsole::start(&[("RUSTOK_DEBUG_PANIC", "after-first-frame")]);
    c.wait_for_first_frame();
    let status = c.wait_exit("the panic");
    assert_eq!(status.code(), Some(101), "a panic exits with 101");
    c.assert_restored("a panic");
    // The panic message is printed after the restore, so it is readable on the normal screen.
    let out = c.output();
    let left = out
        .windows(LEAVE_ALT.len())
        .rposition(|w| w == LEAVE_ALT)
        .unwrap();
    let text = String::from_utf8_lossy(&out[left..]);
    assert!(
        text.contains("RUSTOK_DEBUG_PANIC=after-first-frame: a deliberate panic"),
        "the panic message is shown after the terminal is restored:\n{text}"
    );
    let p = c.screen();
    assert!(
        p.screen().contents().contains("a deliberate panic"),
        "visible on the normal screen:\n{}",
        p.screen().contents()
    );
}

#[test]
fn a_closed_terminal_ends_the_console() {
    let mut c = PtyConsole::start(&[]);
    c.wait_for_first_frame();
    let pid = c.child.id();
    c.hang_up();
    let status = c.wait_exit("the hang-up (master side closed)");
    assert!(
        status.code().is_some_and(|code| code != 101),
        "the hang-up killed the console or made it panic ({status})"
    );
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "the console process is gone"
    );
}

/// A terminal that hangs up without a SIGHUP (not the console's controlling terminal): its
/// reads answer 0 for ever, and crossterm's event source spun on them at 100% CPU, the console
/// never ending (found as an orphan on this machine). The console now sees the hang-up itself.
#[test]
fn a_hang_up_without_a_signal_ends_the_console() {
    let mut c = PtyConsole::start_with(&[], false);
    c.wait_for_first_frame();
    c.hang_up();
    let status = c.wait_exit("the hang-up of a terminal that is not the controlling one");
    assert_eq!(status.code(), Some(0), "it ends as on q ({status})");
}
