//! Database health: pings the store and reports when it becomes unreachable and when it is
//! back, so the console can say so in its status bar.

use rustok_store::Store;
use std::time::Duration;
use tokio::sync::watch;

/// Pings every `every` (each ping given `timeout`) until `shutdown` turns true. Calls
/// `report(Some(reason))` when the database stops answering and `report(None)` when it answers
/// again — only on changes.
pub async fn watch_database(
    store: Store,
    every: Duration,
    timeout: Duration,
    mut report: impl FnMut(Option<String>) + Send,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut down = false;
    loop {
        let result = match tokio::time::timeout(timeout, store.ping()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!(
                "database unavailable: no answer within {} s",
                timeout.as_secs().max(1)
            )),
        };
        match result {
            Ok(()) if down => {
                down = false;
                tracing::info!("database reachable again");
                report(None);
            }
            Err(reason) if !down => {
                down = true;
                tracing::warn!(%reason, "database unreachable");
                report(Some(reason));
            }
            _ => {}
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => {
                if *shutdown.borrow() {
                    return;
                }
            }
        }
    }
}
