//! The JetStream consumer of the outbox (issue 19): every event is published to
//! `rustok.<tenant-slug>.<event_type>` on a JetStream stream (default `RUSTOK_EVENTS`, created
//! with file storage if missing) with the header `Nats-Msg-Id: <event id>`, so that the
//! stream's duplicate window drops a re-send; the relay writes its receipt only after the
//! publish is acknowledged. It is an [`IndependentConsumer`]: its retries, back-off and dead
//! letters are its own, and the bus never waits for it (`relay.rs`).
//!
//! Configured by `--stream nats://HOST:PORT` (env `RUSTOK_STREAM_URL`) or `stream = "…"` in
//! `config.toml`; `--stream-name`/`RUSTOK_STREAM_NAME`/`stream_name` names the stream,
//! `RUSTOK_STREAM_SUBJECTS`/`stream_subjects` the subjects it is created with (default
//! `rustok.>`), `RUSTOK_STREAM_MAX_ATTEMPTS`/`stream_max_attempts` the attempts before an
//! event becomes the stream's dead letter (default 10: about four minutes of outage).

use super::relay::{DeliverFuture, IndependentConsumer};
use async_nats::jetstream::{self, message::PublishMessage, stream};
use futures_util::future::join_all;
use rustok_store::PendingDelivery;
use std::time::Duration;
use tokio::sync::Mutex;

pub const DEFAULT_STREAM: &str = "RUSTOK_EVENTS";
pub const DEFAULT_SUBJECTS: &str = "rustok.>";
pub const DEFAULT_MAX_ATTEMPTS: i32 = 10;
/// The longest one batch's publishes and acks may take: below the 10 s lease, so a holder
/// records its batch before another process may take the consumer over.
const BATCH_TIMEOUT: Duration = Duration::from_secs(9);

/// Where and how the outbox is streamed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSettings {
    /// `nats://HOST:PORT` (several separated by commas).
    pub url: String,
    pub stream: String,
    pub subjects: Vec<String>,
    pub max_attempts: i32,
}

impl StreamSettings {
    /// The settings of a process: `url` from `--stream`/`RUSTOK_STREAM_URL` wins over the
    /// config file's `stream`; `None` (no stream, as before issue 19) when neither is set.
    pub fn resolve(
        url: Option<&str>,
        name: Option<&str>,
        config: &rustok_ui::Config,
    ) -> Option<StreamSettings> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let url = url
            .map(str::to_string)
            .or_else(|| config.stream.clone())
            .filter(|u| !u.trim().is_empty())?;
        let stream = name
            .map(str::to_string)
            .or_else(|| config.stream_name.clone())
            .unwrap_or_else(|| DEFAULT_STREAM.to_string());
        let subjects = env("RUSTOK_STREAM_SUBJECTS")
            .map(|s| s.split(',').map(|x| x.trim().to_string()).collect())
            .or_else(|| config.stream_subjects.clone())
            .unwrap_or_else(|| vec![DEFAULT_SUBJECTS.to_string()]);
        let max_attempts = env("RUSTOK_STREAM_MAX_ATTEMPTS")
            .and_then(|v| v.trim().parse().ok())
            .or(config.stream_max_attempts)
            .unwrap_or(DEFAULT_MAX_ATTEMPTS)
            .max(1);
        Some(StreamSettings {
            url,
            stream,
            subjects,
            max_attempts,
        })
    }

    /// The consumer's name in receipts, deliveries and `outbox consumers`.
    pub fn consumer_name(&self) -> String {
        format!("jetstream:{}", self.stream)
    }
}

/// The relay with the JetStream consumer attached when a stream is configured (a process
/// with none relays as before).
pub fn attach(relay: super::Relay, settings: Option<StreamSettings>) -> super::Relay {
    match settings {
        Some(s) => relay.with_stream(std::sync::Arc::new(JetStream::new(s))),
        None => relay,
    }
}

/// What a console process (the local console, `serve`) starts from: its settings, the bus its
/// sessions subscribe to (sized by `event_buffer`, at least 1,024) and the relay feeding it,
/// with the stream that `url`/`name`, the environment or the config file names, if any.
pub fn console_services(
    store: &rustok_store::Store,
    url: Option<&str>,
    name: Option<&str>,
) -> (super::Settings, super::Bus, std::sync::Arc<super::Relay>) {
    let settings = super::Settings::load();
    let bus = super::Bus::new(settings.config.event_buffer.max(1024));
    let relay = relay(store.clone(), bus.clone(), url, name, &settings.config);
    (settings, bus, std::sync::Arc::new(relay))
}

/// A process's relay: the default configuration, onto `bus`, with the stream that
/// `--stream`/`--stream-name` (`url`, `name`), the environment or `config` name, if any.
pub fn relay(
    store: rustok_store::Store,
    bus: super::Bus,
    url: Option<&str>,
    name: Option<&str>,
    config: &rustok_ui::Config,
) -> super::Relay {
    attach(
        super::Relay::new(store, bus, super::RelayConfig::default()),
        StreamSettings::resolve(url, name, config),
    )
}

/// The subject an event is published on: `rustok.<tenant-slug>.<event_type>` (`_` for an
/// event whose tenant is gone).
pub fn subject(tenant_slug: Option<&str>, event_type: &str) -> String {
    format!("rustok.{}.{}", tenant_slug.unwrap_or("_"), event_type)
}

/// Publishes the outbox to a JetStream stream. Connects on first use and again after a
/// failed connection; the client reconnects by itself once connected.
pub struct JetStream {
    name: String,
    settings: StreamSettings,
    ctx: Mutex<Option<jetstream::Context>>,
}

impl JetStream {
    pub fn new(settings: StreamSettings) -> Self {
        Self {
            name: settings.consumer_name(),
            settings,
            ctx: Mutex::new(None),
        }
    }

    /// The JetStream context, connecting and creating the stream if needed.
    async fn context(&self) -> Result<jetstream::Context, String> {
        let mut slot = self.ctx.lock().await;
        if let Some(ctx) = slot.as_ref() {
            return Ok(ctx.clone());
        }
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(Duration::from_secs(3))
            .connect(self.settings.url.as_str())
            .await
            .map_err(|e| format!("connecting to {}: {e}", self.settings.url))?;
        let ctx = jetstream::context::ContextBuilder::new()
            .timeout(Duration::from_secs(5))
            .ack_timeout(Duration::from_secs(5))
            .build(client);
        ctx.get_or_create_stream(stream::Config {
            name: self.settings.stream.clone(),
            subjects: self.settings.subjects.clone(),
            storage: stream::StorageType::File,
            ..Default::default()
        })
        .await
        .map_err(|e| format!("stream {}: {e}", self.settings.stream))?;
        *slot = Some(ctx.clone());
        Ok(ctx)
    }

    async fn publish_all(&self, batch: &[PendingDelivery]) -> Vec<Result<(), String>> {
        let ctx = match self.context().await {
            Ok(c) => c,
            Err(e) => return vec![Err(e); batch.len()],
        };
        // Send them all, then await the acknowledgements together.
        let mut acks = Vec::with_capacity(batch.len());
        for d in batch {
            let e = &d.event.envelope;
            let payload = match serde_json::to_vec(e) {
                Ok(p) => p,
                Err(err) => {
                    acks.push(Err(format!("encoding: {err}")));
                    continue;
                }
            };
            let message = PublishMessage::build()
                .payload(payload.into())
                .message_id(e.id.to_string());
            let subject = subject(d.tenant_slug.as_deref(), &e.event_type);
            acks.push(
                ctx.send_publish(subject, message)
                    .await
                    .map_err(|err| format!("publish: {err}")),
            );
        }
        join_all(acks.into_iter().map(async |a| match a {
            Ok(ack) => ack.await.map(|_| ()).map_err(|e| format!("ack: {e}")),
            Err(e) => Err(e),
        }))
        .await
    }
}

impl IndependentConsumer for JetStream {
    fn name(&self) -> &str {
        &self.name
    }

    fn max_attempts(&self) -> i32 {
        self.settings.max_attempts
    }

    fn deliver<'a>(&'a self, batch: &'a [PendingDelivery]) -> DeliverFuture<'a> {
        Box::pin(async move {
            // A send into a client that cannot reach the server may wait; the acks time out
            // after 5 s each (awaited together): a whole batch gets at most this long.
            match tokio::time::timeout(BATCH_TIMEOUT, self.publish_all(batch)).await {
                Ok(results) => results,
                Err(_) => vec![Err(format!("no answer in {BATCH_TIMEOUT:?}")); batch.len()],
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_name_the_tenant_and_the_event_type() {
        assert_eq!(
            subject(Some("acme"), "order.paid"),
            "rustok.acme.order.paid"
        );
        assert_eq!(subject(None, "tenant.created"), "rustok._.tenant.created");
    }

    #[test]
    fn no_url_means_no_stream_and_the_flag_wins_over_the_file() {
        let mut config = rustok_ui::Config::default();
        assert_eq!(StreamSettings::resolve(None, None, &config), None);
        config.stream = Some("nats://file:4222".into());
        let s = StreamSettings::resolve(None, None, &config).unwrap();
        assert_eq!(
            (s.url.as_str(), s.stream.as_str()),
            ("nats://file:4222", DEFAULT_STREAM)
        );
        let s = StreamSettings::resolve(Some("nats://flag:4222"), Some("S"), &config).unwrap();
        assert_eq!(
            (s.url.as_str(), s.consumer_name().as_str()),
            ("nats://flag:4222", "jetstream:S")
        );
    }
}
