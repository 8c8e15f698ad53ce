//! Carries out one console session's effects (the local terminal's and every SSH session's
//! alike): queries through the session's authorized reads and commands through the action
//! queue, each in its own task, answering with a `Msg` on the app's channel; and admits bus
//! events by the member's role.

use super::audit::AuditMonitor;
use super::bus::BusMsg;
use super::queue::{ActionQueue, QueueError};
use super::reads::{EventGate, Reads};
use rustok_domain::{Actor, CommandEnvelope, Tenant};
use rustok_store::{Store, StoreError};
use rustok_ui::{Effect, Failure, Msg};
use std::sync::Arc;
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use tokio::sync::watch;

/// What effects need to know about the session.
#[derive(Clone)]
pub struct Executor {
    pub queue: ActionQueue,
    pub actor: Actor,
    pub tenant: Tenant,
    pub tx: UnboundedSender<Msg>,
    /// Runs, exports and monitors the security audit for this session.
    pub audit: AuditMonitor,
    /// Every query goes through the session's authorized reads (the executor holds no store
    /// handle of its own).
    pub reads: Reads,
    /// Which live events this session's staff member may see (built again after staff events).
    pub gate: Arc<watch::Sender<EventGate>>,
}

fn failure(e: StoreError) -> Failure {
    match e {
        StoreError::Domain(d) => Failure::Domain(d),
        other => Failure::Other(other.to_string()),
    }
}

fn queue_failure(e: QueueError) -> Failure {
    match e {
        QueueError::Store(s) => failure(s),
        other => Failure::Other(other.to_string()),
    }
}

/// Where a session's audit exports may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exports {
    /// Files in the working directory (the local console).
    Files,
    /// Refused (over SSH they would land on the server).
    Refused,
}

impl Executor {
    /// Everything one console session runs on: its executor (commands through `queue`,
    /// reads authorized for `actor`, the audit monitor, the event gate for `role`) and the
    /// channel its replies come back on. `actor` carries the session's read-only flag.
    pub fn start(
        store: Store,
        queue: ActionQueue,
        actor: Actor,
        role: rustok_domain::rbac::Role,
        tenant: Tenant,
        exports: Exports,
    ) -> (Executor, UnboundedReceiver<Msg>) {
        let (tx, rx) = mpsc::unbounded_channel::<Msg>();
        // Monitoring waits for its first interval or a change before it reads anything.
        let audit = AuditMonitor::start(
            store.clone(),
            actor.clone(),
            tx.clone(),
            exports == Exports::Files,
            super::audit::interval(),
        );
        let exec = Executor::new(store, queue, actor, role, tenant, tx, audit);
        (exec, rx)
    }

    /// The executor of a session of `actor`, whose role (as loaded when the session opened)
    /// gates its live events until a staff event makes it load the role again.
    pub fn new(
        store: Store,
        queue: ActionQueue,
        actor: Actor,
        role: rustok_domain::rbac::Role,
        tenant: Tenant,
        tx: UnboundedSender<Msg>,
        audit: AuditMonitor,
    ) -> Executor {
        Executor {
            reads: Reads::new(store, actor.handle.clone()),
            gate: Arc::new(watch::Sender::new(EventGate::for_role(role))),
            queue,
            actor,
            tenant,
            tx,
            audit,
        }
    }

    /// A bus message as the app's message, if the session may see it: events are admitted
    /// by the reader's role (an editor gets no order, payment or stock event). A staff event
    /// builds the gate again (the member's role may have changed, or they were deactivated).
    pub fn admit(&self, m: BusMsg) -> Option<Msg> {
        match m {
            BusMsg::Event(e) => {
                if EventGate::stale_after(&e) {
                    let reads = self.reads.clone();
                    let gate = self.gate.clone();
                    let tx = self.tx.clone();
                    tokio::spawn(async move {
                        let role = reads.role().await.ok();
                        let now = role.map_or(EventGate::CLOSED, EventGate::for_role);
                        // The screen drops what the member may no longer read.
                        if gate.send_replace(now) != now {
                            let _ = tx.send(Msg::Role(role));
                        }
                    });
                }
                self.gate.borrow().admits(&e).then_some(Msg::Event(e))
            }
            BusMsg::Lagged(n) => Some(Msg::BusLagged(n)),
        }
    }

    /// Starts the work for one effect; returns `false` for `Quit`.
    pub fn run(&mut self, effect: Effect) -> bool {
        match effect {
            Effect::Quit => return false,
            Effect::Load(id, query) => {
                let reads = self.reads.clone();
                let tenant = self.tenant.id;
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    let result = reads.query(tenant, query).await.map_err(failure);
                    let _ = tx.send(Msg::Loaded(id, result));
                });
            }
            Effect::Dispatch(id, command) => {
                let env = CommandEnvelope::new(self.tenant.id, self.actor.clone(), command);
                let tx = self.tx.clone();
                match self.queue.submit(env) {
                    Ok(reply) => {
                        let _ = tx.send(Msg::QueueDepth(self.queue.depth()));
                        let queue = self.queue.clone();
                        tokio::spawn(async move {
                            let result = match reply.await {
                                Ok(r) => r.map_err(failure),
                                Err(_) => Err(Failure::Other("the action queue stopped".into())),
                            };
                            let _ = tx.send(Msg::Outcome(id, result));
                            let _ = tx.send(Msg::QueueDepth(queue.depth()));
                        });
                    }
                    Err(e) => {
                        let _ = tx.send(Msg::Outcome(id, Err(queue_failure(e))));
                    }
                }
            }
            Effect::KickSession {
                id,
                server,
                session,
                since,
                reason,
            } => {
                let reads = self.reads.clone();
                let read_only = self.actor.read_only;
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    let result = reads
                        .kick_ssh_session(read_only, &server, session, since, &reason)
                        .await
                        .map_err(failure);
                    let _ = tx.send(Msg::Kicked(id, result));
                });
            }
            Effect::SaveLayout(text) => {
                let path = layout_path(&self.actor.handle);
                tokio::task::spawn_blocking(move || {
                    if let Some(dir) = path.parent() {
                        let _ = std::fs::create_dir_all(dir);
                    }
                    let _ = std::fs::write(&path, text);
                });
            }
            Effect::MarkMentionsRead(notes) => {
                let reads = self.reads.clone();
                let tenant = self.tenant.id;
                tokio::spawn(async move {
                    if let Err(e) = reads.mark_mentions_read(tenant, &notes).await {
                        tracing::warn!(error = %e, "cannot mark mentions read");
                    }
                });
            }
            Effect::RunAudit => self.audit.run_now(self.tenant.slug.clone()),
            Effect::CheckAudit => self.audit.check_now(),
            Effect::ExportAudit {
                report,
                format,
                path,
            } => self.audit.export(*report, format, path),
            Effect::SwitchTenant(slug) => {
                let reads = self.reads.clone();
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    let result = match reads.tenant_by_slug(&slug).await {
                        Ok(Some(t)) => Ok(t),
                        Ok(None) => Err(Failure::Other(format!(
                            "no tenant '{}' (create it with: rustok tenant create {} --name NAME)",
                            rustok_domain::text::printable(&slug),
                            rustok_domain::text::printable(&slug)
                        ))),
                        Err(e) => Err(failure(e)),
                    };
                    let _ = tx.send(Msg::TenantSwitched(result));
                });
            }
        }
        true
    }
}

/// Where a staff member's screen layout (split view) is kept: a small file per handle in the
/// data directory, so it survives restarts in the local console and over SSH alike.
pub fn layout_path(handle: &str) -> std::path::PathBuf {
    let safe = rustok_domain::text::file_safe(handle);
    crate::config::data_dir()
        .join("layouts")
        .join(format!("{safe}.layout"))
}

/// The layout `handle` kept, if any (restored with `App::restore_layout`).
pub fn load_layout(handle: &str) -> Option<String> {
    std::fs::read_to_string(layout_path(handle))
        .ok()
        .filter(|s| s.len() < 200)
}
