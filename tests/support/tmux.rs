//! The real console in a real pseudo-terminal: a tmux session of 120×40 running `rustok`,
//! keystrokes in, screen text out. `.ci/run` installs tmux.

use super::wait::wait_until;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Whether tmux can be run here.
pub fn available() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A tmux session; killed when dropped.
pub struct Pane {
    pub session: String,
}

impl Pane {
    /// Runs `env... rustok --db DB; after; touch MARKER; sleep 60` in a new detached 120×40
    /// session named `rustok-{name}-{pid}`, with the console's data and config directories under
    /// `data`. `sleep 60` keeps the pane (and what `after` printed) readable once the console
    /// exits; the marker file (`wait_exited`) says that it did.
    pub fn console(name: &str, db: &str, data: &Path, env: &[(&str, &str)], after: &str) -> Pane {
        let session = format!("rustok-{name}-{}", std::process::id());
        let marker = exit_marker(&session);
        let _ = std::fs::remove_file(&marker);
        let mut envs = format!(
            "RUSTOK_DATA_DIR={d} RUSTOK_CONFIG_DIR={d}/config TERM=xterm-256color ",
            d = data.display()
        );
        for (k, v) in env {
            envs.push_str(&format!("{k}={v} "));
        }
        let cmd = format!(
            "{envs}{bin} --db {db}; {after}; touch {marker}; sleep 60",
            bin = env!("CARGO_BIN_EXE_rustok"),
            marker = marker.display(),
        );
        let ok = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                &session,
                "-x",
                "120",
                "-y",
                "40",
                &cmd,
            ])
            .status()
            .unwrap()
            .success();
        assert!(ok, "tmux new-session failed");
        Pane { session }
    }

    /// The screen's text now.
    pub fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.session])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until `text` is on the screen and returns the screen; fails the test with the
    /// screen after `timeout`.
    pub fn wait_for(&self, text: &str, timeout: Duration) -> String {
        let mut s = String::new();
        let shown = wait_until(timeout, || {
            s = self.screen();
            s.contains(text)
        });
        assert!(
            shown,
            "'{text}' did not appear within {timeout:?}; screen:\n{s}"
        );
        s
    }

    /// Waits until the screen satisfies `ready` (`what` names it for the failure) and returns
    /// it: a screen captured while a frame is still being written is looked at again.
    pub fn wait_screen(
        &self,
        what: &str,
        timeout: Duration,
        mut ready: impl FnMut(&str) -> bool,
    ) -> String {
        let mut s = String::new();
        let shown = wait_until(timeout, || {
            s = self.screen();
            ready(&s)
        });
        assert!(shown, "{what}: not within {timeout:?}; screen:\n{s}");
        s
    }

    /// Waits until the console started by `Pane::console` has exited (and `after` has run).
    pub fn wait_exited(&self, timeout: Duration) {
        let marker = exit_marker(&self.session);
        assert!(
            wait_until(timeout, || marker.exists()),
            "the console did not exit within {timeout:?}; screen:\n{}",
            self.screen()
        );
    }

    /// Sends tmux key names (`Enter`, `C-s`, `5`, …) and waits until the console has read them.
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", self.session.as_str()];
        args.extend(keys);
        assert!(Command::new("tmux").args(&args).status().unwrap().success());
        self.wait_read(&format!("{keys:?}"));
    }

    /// Types `text` literally and waits until the console has read it.
    pub fn text(&self, text: &str) {
        assert!(
            Command::new("tmux")
                .args(["send-keys", "-t", &self.session, "-l", text])
                .status()
                .unwrap()
                .success()
        );
        self.wait_read(text);
    }

    /// Waits until the program in the pane has read everything sent to it: the input queue of
    /// the pane's terminal (FIONREAD on its tty) is empty. tmux has written the keys by the time
    /// `send-keys` returns and this asks it for the tty. So the next keys arrive in a read of
    /// their own: an Escape is not taken for the start of Alt-key, and typed text is not mixed
    /// with the keys before it. (The console handles keys in order; what a key starts — a
    /// query, a command — is waited for with `wait_for`.)
    fn wait_read(&self, what: &str) {
        use std::os::fd::AsRawFd;
        use std::os::unix::fs::OpenOptionsExt;
        let out = Command::new("tmux")
            .args(["display", "-p", "-t", &self.session, "#{pane_tty}"])
            .output()
            .unwrap();
        let tty = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOCTTY | libc::O_NONBLOCK)
            .open(&tty)
            .unwrap_or_else(|e| panic!("open the pane's tty {tty:?}: {e}"));
        let unread = || {
            let mut n: libc::c_int = 0;
            // SAFETY: FIONREAD writes one int through a valid pointer; the descriptor is open.
            let rc = unsafe { libc::ioctl(file.as_raw_fd(), libc::FIONREAD, &mut n) };
            assert_eq!(rc, 0, "FIONREAD: {}", std::io::Error::last_os_error());
            n
        };
        assert!(
            wait_until(Duration::from_secs(20), || unread() == 0),
            "the console did not read {what} within 20 s ({} bytes unread); screen:\n{}",
            unread(),
            self.screen()
        );
    }
}

/// The file `Pane::console`'s shell creates once the console (and `after`) exited.
fn exit_marker(session: &str) -> PathBuf {
    std::env::temp_dir().join(format!("{session}.exited"))
}

impl Drop for Pane {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.session])
            .status();
        let _ = std::fs::remove_file(exit_marker(&self.session));
    }
}
