//! The action queue: one tokio task owns command execution. Callers send a command envelope
//! and get the outcome back on a oneshot channel; the UI never waits on the database.

use chrono::Utc;
use rustok_domain::CommandEnvelope;
use rustok_store::{Applied, Store, StoreError};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the action queue has stopped")]
    Stopped,
    #[error("the action queue is full ({0} commands waiting); try again")]
    Full(usize),
}

impl QueueError {
    pub fn domain(&self) -> Option<&rustok_domain::DomainError> {
        match self {
            QueueError::Store(s) => s.domain(),
            _ => None,
        }
    }
}

pub type Reply = oneshot::Receiver<Result<Applied, StoreError>>;

struct Job {
    env: CommandEnvelope,
    reply: oneshot::Sender<Result<Applied, StoreError>>,
}

#[derive(Debug, Clone)]
pub struct QueueOptions {
    pub capacity: usize,
    /// Artificial delay before each command (for demonstrating and testing slow commands).
    pub delay: Option<Duration>,
}

impl Default for QueueOptions {
    fn default() -> Self {
        Self {
            capacity: 1024,
            delay: None,
        }
    }
}

#[derive(Clone)]
pub struct ActionQueue {
    tx: mpsc::Sender<Job>,
    depth: Arc<AtomicUsize>,
}

impl ActionQueue {
    /// Starts the worker. After each commit it wakes `relay_wake`, so events reach the bus
    /// without waiting for the relay's next poll.
    pub fn spawn(
        store: Store,
        relay_wake: Option<Arc<Notify>>,
        options: QueueOptions,
    ) -> (ActionQueue, JoinHandle<()>) {
        let (tx, mut rx) = mpsc::channel::<Job>(options.capacity.max(1));
        let depth = Arc::new(AtomicUsize::new(0));
        let worker_depth = depth.clone();
        let handle = tokio::spawn(async move {
            while let Some(job) = rx.recv().await {
                if let Some(d) = options.delay {
                    tokio::time::sleep(d).await;
                }
                let result = store.execute(&job.env, Utc::now()).await;
                match &result {
                    Ok(applied) => {
                        tracing::info!(command = job.env.command.name(), id = %job.env.id, events = applied.events.len(), "command applied");
                        if let Some(w) = &relay_wake {
                            w.notify_one();
                        }
                    }
                    Err(e) => {
                        tracing::info!(command = job.env.command.name(), id = %job.env.id, error = %e, "command refused")
                    }
                }
                worker_depth.fetch_sub(1, Ordering::Relaxed);
                let _ = job.reply.send(result);
            }
        });
        (ActionQueue { tx, depth }, handle)
    }

    /// Queues a command without waiting for it; the reply arrives on the returned channel.
    pub fn submit(&self, env: CommandEnvelope) -> Result<Reply, QueueError> {
        let (reply, rx) = oneshot::channel();
        self.depth.fetch_add(1, Ordering::Relaxed);
        match self.tx.try_send(Job { env, reply }) {
            Ok(()) => Ok(rx),
            Err(e) => {
                self.depth.fetch_sub(1, Ordering::Relaxed);
                Err(match e {
                    mpsc::error::TrySendError::Full(_) => QueueError::Full(self.depth()),
                    mpsc::error::TrySendError::Closed(_) => QueueError::Stopped,
                })
            }
        }
    }

    /// Queues a command and waits for its outcome.
    pub async fn execute(&self, env: CommandEnvelope) -> Result<Applied, QueueError> {
        let (reply, rx) = oneshot::channel();
        self.depth.fetch_add(1, Ordering::Relaxed);
        if self.tx.send(Job { env, reply }).await.is_err() {
            self.depth.fetch_sub(1, Ordering::Relaxed);
            return Err(QueueError::Stopped);
        }
        rx.await
            .map_err(|_| QueueError::Stopped)?
            .map_err(Into::into)
    }

    /// Commands waiting or running.
    pub fn depth(&self) -> usize {
        self.depth.load(Ordering::Relaxed)
    }
}
