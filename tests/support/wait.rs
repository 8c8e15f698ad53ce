//! Waiting for a condition instead of sleeping for a guess: where a test has no signal to wait
//! on (a channel, a child's exit, a line of output), it polls the condition until a deadline.
//! The poll starts at 2 ms and doubles up to 100 ms, so a condition that holds at once costs
//! nothing and an expensive check (a `rustok` process, `tmux capture-pane`) is not run in a
//! tight loop.

use std::time::{Duration, Instant};

const FIRST_POLL: Duration = Duration::from_millis(2);
const MAX_POLL: Duration = Duration::from_millis(100);

/// Polls `ready` until it returns true (then `true`) or `within` has passed (then `false`: the
/// caller fails with what it knows).
pub fn wait_until(within: Duration, mut ready: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    let mut poll = FIRST_POLL;
    loop {
        if ready() {
            return true;
        }
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        std::thread::sleep(poll.min(deadline - now));
        poll = (poll * 2).min(MAX_POLL);
    }
}

/// `wait_until` for a condition that awaits (a store query), on the test's runtime.
pub async fn wait_until_async(within: Duration, mut ready: impl AsyncFnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    let mut poll = FIRST_POLL;
    loop {
        if ready().await {
            return true;
        }
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        tokio::time::sleep(poll.min(deadline - now)).await;
        poll = (poll * 2).min(MAX_POLL);
    }
}
