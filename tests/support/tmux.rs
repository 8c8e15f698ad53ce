//! The real console in a real pseudo-terminal: a tmux session of 120×40 running `rustok`,
//! keystrokes in, screen text out. `.ci/run` installs tmux.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

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
    /// Runs `env... rustok --db DB; after; sleep 60` in a new detached 120×40 session named
    /// `rustok-{name}-{pid}`, with the console's data and config directories under `data`.
    /// `sleep 60` keeps the pane (and what `after` printed) readable once the console exits.
    pub fn console(name: &str, db: &str, data: &Path, env: &[(&str, &str)], after: &str) -> Pane {
        let session = format!("rustok-{name}-{}", std::process::id());
        let mut envs = format!(
            "RUSTOK_DATA_DIR={d} RUSTOK_CONFIG_DIR={d}/config TERM=xterm-256color ",
            d = data.display()
        );
        for (k, v) in env {
            envs.push_str(&format!("{k}={v} "));
        }
        let cmd = format!(
            "{envs}{bin} --db {db}; {after}; sleep 60",
            bin = env!("CARGO_BIN_EXE_rustok"),
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
        let start = Instant::now();
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            assert!(
                start.elapsed() < timeout,
                "'{text}' did not appear within {timeout:?}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Sends tmux key names (`Enter`, `C-s`, `5`, …), then gives the console a moment.
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", self.session.as_str()];
        args.extend(keys);
        assert!(Command::new("tmux").args(&args).status().unwrap().success());
        std::thread::sleep(Duration::from_millis(150));
    }

    /// Types `text` literally.
    pub fn text(&self, text: &str) {
        assert!(
            Command::new("tmux")
                .args(["send-keys", "-t", &self.session, "-l", text])
                .status()
                .unwrap()
                .success()
        );
        std::thread::sleep(Duration::from_millis(150));
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.session])
            .status();
    }
}
