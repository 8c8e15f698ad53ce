//! The console's security audit: runs it when the Audit pane asks, writes exported reports,
//! and monitors continuously: once a report has been shown, it re-collects the audit input
//! every `RUSTOK_AUDIT_INTERVAL_SECS` seconds (default 30) and whenever the app reports a
//! staff or tenant change, and re-runs the audit when `AuditInput::fingerprint()` changed.
//! Every run (manual or automatic) is permission-checked in the store (`audit:run`).

use rustok_domain::audit::AuditReport;
use rustok_domain::{Actor, Permission};
use rustok_store::{Store, StoreError};
use rustok_ui::{AuditTrigger, Failure, Msg, ReportFormat};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::sync::mpsc::UnboundedSender;

/// The default pause between two checks of the audit input.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);

/// `RUSTOK_AUDIT_INTERVAL_SECS` (at least 1), else 30 s.
pub fn interval() -> Duration {
    std::env::var("RUSTOK_AUDIT_INTERVAL_SECS")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s.max(1)))
        .unwrap_or(DEFAULT_INTERVAL)
}

/// What the last run audited: monitoring compares against it.
#[derive(Debug, Clone)]
struct Watched {
    tenant: String,
    fingerprint: String,
}

struct Inner {
    store: Store,
    actor: Actor,
    tx: UnboundedSender<Msg>,
    watched: Mutex<Option<Watched>>,
    wake: Notify,
    /// Whether exports may write files here (not over SSH: the files would land on the
    /// server, in its working directory).
    files: bool,
}

/// One session's audit runner and monitor (cheap to clone).
#[derive(Clone)]
pub struct AuditMonitor {
    inner: Arc<Inner>,
}

fn failure(e: StoreError) -> Failure {
    match e {
        StoreError::Domain(d) => Failure::Domain(d),
        other => Failure::Other(other.to_string()),
    }
}

/// Checks the permission, collects the input and runs the audit of `tenant`.
async fn audit(store: &Store, actor: &Actor, tenant: &str) -> Result<AuditReport, StoreError> {
    store
        .authorize_read(
            &actor.handle,
            Permission::new("audit", "run"),
            "run the security audit",
        )
        .await?;
    let input = crate::security::collect(store, store.url(), actor.read_only).await?;
    Ok(AuditReport::run(&input, Some(tenant), chrono::Utc::now()))
}

impl AuditMonitor {
    /// Starts the monitoring task; it ends with the session (when `tx`'s receiver is gone).
    pub fn start(
        store: Store,
        actor: Actor,
        tx: UnboundedSender<Msg>,
        files: bool,
        every: Duration,
    ) -> AuditMonitor {
        let m = AuditMonitor {
            inner: Arc::new(Inner {
                store,
                actor,
                tx,
                watched: Mutex::new(None),
                wake: Notify::new(),
                files,
            }),
        };
        let task = m.clone();
        tokio::spawn(async move { task.watch(every).await });
        m
    }

    fn watched(&self) -> Option<Watched> {
        self.inner.watched.lock().ok().and_then(|w| w.clone())
    }

    fn set_watched(&self, w: Option<Watched>) {
        if let Ok(mut g) = self.inner.watched.lock() {
            *g = w;
        }
    }

    /// Runs the audit of `tenant` now and answers with `Msg::Audit(Manual, ..)`; from then
    /// on monitoring watches this tenant.
    pub fn run_now(&self, tenant: String) {
        let m = self.clone();
        tokio::spawn(async move {
            let i = &m.inner;
            let result = audit(&i.store, &i.actor, &tenant).await;
            match &result {
                Ok(r) => m.set_watched(Some(Watched {
                    tenant,
                    fingerprint: r.fingerprint.clone(),
                })),
                Err(_) => m.set_watched(None),
            }
            let _ = i.tx.send(Msg::Audit(
                AuditTrigger::Manual,
                result.map(Box::new).map_err(failure),
            ));
        });
    }

    /// Something the audit reads may have changed: check now.
    pub fn check_now(&self) {
        self.inner.wake.notify_one();
    }

    /// Writes `report` to `path`; answers with `Msg::Exported`.
    pub fn export(&self, report: AuditReport, format: ReportFormat, path: String) {
        let tx = self.inner.tx.clone();
        if !self.inner.files {
            let _ = tx.send(Msg::Exported(Err(Failure::Other(
                "exports are not written over SSH (the file would land on the server); run rustok audit run --format html --output FILE there".into(),
            ))));
            return;
        }
        tokio::task::spawn_blocking(move || {
            let text = format.render(&report);
            let shown = rustok_domain::text::printable(&path);
            let result = std::fs::write(&path, &text)
                .map(|()| {
                    format!(
                        "wrote the {} audit report to {shown} ({} bytes, score {}/100, {})",
                        format.label(),
                        text.len(),
                        report.score,
                        if report.passed { "passed" } else { "failed" }
                    )
                })
                .map_err(|e| Failure::Other(format!("cannot write {shown}: {e}")));
            let _ = tx.send(Msg::Exported(result));
        });
    }

    async fn watch(&self, every: Duration) {
        let i = &self.inner;
        loop {
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = i.wake.notified() => {}
                _ = i.tx.closed() => return,
            }
            let Some(w) = self.watched() else { continue };
            match self.recheck(&w).await {
                Ok(None) => {}
                Ok(Some(report)) => {
                    // A manual run for another tenant may have started meanwhile: only move
                    // the watch forward if it is still on the tenant just audited.
                    if self.watched().is_some_and(|now| now.tenant == w.tenant) {
                        self.set_watched(Some(Watched {
                            tenant: w.tenant.clone(),
                            fingerprint: report.fingerprint.clone(),
                        }));
                    }
                    let _ =
                        i.tx.send(Msg::Audit(AuditTrigger::Automatic, Ok(Box::new(report))));
                }
                Err(StoreError::Domain(d)) => {
                    // The permission was taken away: say so, and stop watching.
                    self.set_watched(None);
                    let _ =
                        i.tx.send(Msg::Audit(AuditTrigger::Automatic, Err(Failure::Domain(d))));
                }
                Err(e) => tracing::warn!(error = %e, "audit monitoring: could not collect"),
            }
        }
    }

    /// The new report if the audit input changed since `w`.
    async fn recheck(&self, w: &Watched) -> Result<Option<AuditReport>, StoreError> {
        let i = &self.inner;
        i.store
            .authorize_read(
                &i.actor.handle,
                Permission::new("audit", "run"),
                "run the security audit",
            )
            .await?;
        let input = crate::security::collect(&i.store, i.store.url(), i.actor.read_only).await?;
        if input.fingerprint() == w.fingerprint {
            return Ok(None);
        }
        Ok(Some(AuditReport::run(
            &input,
            Some(&w.tenant),
            chrono::Utc::now(),
        )))
    }
}
