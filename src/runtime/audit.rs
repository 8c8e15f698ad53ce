//! The console's security audit: runs it when the Audit pane asks, writes exported reports,
//! and monitors continuously: once a report has been shown, it re-collects the audit input
//! every `RUSTOK_AUDIT_INTERVAL_SECS` seconds (default 30) and whenever the app reports a
//! staff or tenant change, and re-runs the audit when `AuditInput::fingerprint()` changed.
//! Every run (manual or automatic) is permission-checked in the store (`audit:run`).

use super::reads::Reads;
use rustok_domain::Actor;
use rustok_domain::audit::AuditReport;
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
    let input = Reads::new(store.clone(), actor.handle.clone())
        .audit_input(store.url(), actor.read_only)
        .await?;
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
        let input = Reads::new(i.store.clone(), i.actor.handle.clone())
            .audit_input(i.store.url(), i.actor.read_only)
            .await?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use rustok_domain::rbac::Role;
    use rustok_domain::staff::StaffDraft;
    use rustok_domain::{Command, CommandEnvelope, StaffId, TenantId};
    use tokio::sync::mpsc;

    async fn store() -> (Store, TenantId, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("m.db").display());
        let store = Store::connect(&url).await.unwrap();
        let id = TenantId::new_v7();
        let cmd = Command::CreateTenant {
            id,
            slug: "acme".into(),
            name: "Acme".into(),
            default_locale: "en".parse().unwrap(),
        };
        store
            .execute(
                &CommandEnvelope::new(id, Actor::new("owner"), cmd),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        (store, id, dir)
    }

    async fn run(store: &Store, tenant: TenantId, cmd: Command) {
        store
            .execute(
                &CommandEnvelope::new(tenant, Actor::new("owner"), cmd),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
    }

    async fn next(rx: &mut mpsc::UnboundedReceiver<Msg>) -> Msg {
        tokio::time::timeout(Duration::from_secs(60), rx.recv())
            .await
            .expect("a message within a minute")
            .expect("channel open")
    }

    fn mfa_finding(r: &AuditReport) -> bool {
        r.findings.iter().any(|f| f.id == "AUTH-001")
    }

    #[tokio::test]
    async fn monitoring_re_runs_when_the_input_changes_and_only_then() {
        let (store, tenant, _dir) = store().await;
        let (tx, mut rx) = mpsc::unbounded_channel();
        let m = AuditMonitor::start(
            store.clone(),
            Actor::new("owner"),
            tx,
            true,
            Duration::from_millis(200),
        );
        m.run_now("acme".into());
        let Msg::Audit(AuditTrigger::Manual, Ok(first)) = next(&mut rx).await else {
            panic!("the manual run answers first");
        };
        assert!(mfa_finding(&first), "the owner has no MFA yet");
        // Several periodic checks pass without a change: nothing is sent.
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert!(rx.try_recv().is_err(), "no re-run without a change");
        run(
            &store,
            tenant,
            Command::SetStaffMfa {
                handle: "owner".into(),
                enabled: true,
            },
        )
        .await;
        let Msg::Audit(AuditTrigger::Automatic, Ok(second)) = next(&mut rx).await else {
            panic!("monitoring re-runs after the change");
        };
        assert!(!mfa_finding(&second), "the fixed finding is gone");
        assert_ne!(first.fingerprint, second.fingerprint);
    }

    #[tokio::test]
    async fn runs_need_audit_run_and_monitoring_stops_when_it_is_taken_away() {
        let (store, tenant, _dir) = store().await;
        run(
            &store,
            tenant,
            Command::AddStaff(StaffDraft {
                id: StaffId::new_v7(),
                handle: "ann".into(),
                display_name: None,
                role: Role::Admin,
                ssh_keys: vec![],
                mfa_enabled: false,
            }),
        )
        .await;
        let (tx, mut rx) = mpsc::unbounded_channel();
        let m = AuditMonitor::start(
            store.clone(),
            Actor::new("ann"),
            tx.clone(),
            true,
            Duration::from_secs(3600),
        );
        m.run_now("acme".into());
        assert!(matches!(
            next(&mut rx).await,
            Msg::Audit(AuditTrigger::Manual, Ok(_))
        ));
        run(
            &store,
            tenant,
            Command::ChangeStaffRole {
                handle: "ann".into(),
                role: Role::Editor,
            },
        )
        .await;
        m.check_now();
        match next(&mut rx).await {
            Msg::Audit(AuditTrigger::Automatic, Err(Failure::Domain(d))) => {
                assert!(d.to_string().contains("needs audit:run"), "{d}")
            }
            other => panic!("expected a denial, got {other:?}"),
        }
        m.run_now("acme".into());
        assert!(matches!(
            next(&mut rx).await,
            Msg::Audit(AuditTrigger::Manual, Err(Failure::Domain(_)))
        ));
        // An editor's export of a report is still written only where files are allowed.
        let ssh = AuditMonitor::start(store, Actor::new("ann"), tx, false, DEFAULT_INTERVAL);
        ssh.export(
            AuditReport::run(&Default::default(), Some("acme"), chrono::Utc::now()),
            ReportFormat::Html,
            "/tmp/never-written.html".into(),
        );
        assert!(matches!(next(&mut rx).await, Msg::Exported(Err(_))));
    }
}
