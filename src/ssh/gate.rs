//! Limits before authentication: what an unauthenticated client can hold and how fast it can
//! come back. Every accepted TCP connection passes [`Gate::admit`] before a byte of SSH is
//! exchanged, and holds a [`Ticket`] until it authenticates (or ends):
//!
//! - **per-source rate**: a token bucket of new connections per source (an IPv4 address, or
//!   an IPv6 /64); over it, the connection is closed at once — no key exchange, so a DHEat
//!   style flood costs the server an `accept` and a `close`;
//! - **per-source cap**: unauthenticated connections open at once from one source;
//! - **total cap**: unauthenticated connections open at once. When it is reached the *oldest*
//!   unauthenticated connection is dropped to make room, so idle connections (slowloris)
//!   cannot keep a legitimate client out: a client that authenticates within the time it
//!   takes `max_unauthenticated` newer connections to arrive always gets in. The same
//!   eviction frees a descriptor when `accept` runs out of them (EMFILE).
//!
//! The login grace time (a deadline for authentication) is enforced by the connection task.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// Pre-authentication limits (`rustok serve` options, docs/SSH.md "Limits").
#[derive(Debug, Clone)]
pub struct PreAuthLimits {
    /// Unauthenticated connections at once; the oldest is dropped for a newcomer.
    pub max_unauthenticated: usize,
    /// Unauthenticated connections at once from one source; more are refused.
    pub max_unauthenticated_per_source: usize,
    /// New connections per second from one source (sustained)...
    pub connection_rate: f64,
    /// ...and in one burst.
    pub connection_burst: u32,
    /// A connection that has not authenticated after this long is closed.
    pub login_grace_time: Duration,
}

impl Default for PreAuthLimits {
    fn default() -> Self {
        PreAuthLimits {
            max_unauthenticated: 128,
            max_unauthenticated_per_source: 10,
            connection_rate: 2.0,
            connection_burst: 10,
            login_grace_time: Duration::from_secs(30),
        }
    }
}

/// Descriptors kept free of unauthenticated connections, besides one per console session:
/// the database pool, the log file, the listener, the runtime's own.
pub const RESERVED_DESCRIPTORS: usize = 128;

/// The process's descriptor limit (the soft `RLIMIT_NOFILE`), when there is one.
pub fn descriptor_limit() -> Option<usize> {
    #[cfg(unix)]
    {
        let mut l = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes into the struct it is given and nothing else.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) } == 0
            && l.rlim_cur != libc::RLIM_INFINITY
        {
            return usize::try_from(l.rlim_cur).ok();
        }
        None
    }
    #[cfg(not(unix))]
    None
}

impl PreAuthLimits {
    /// Lowers `max_unauthenticated` so that unauthenticated connections can never take the
    /// descriptors that console sessions and the database need (`descriptors` = the process
    /// limit). Returns the cap asked for when it had to be lowered.
    pub fn fit_descriptors(&mut self, descriptors: usize, max_sessions: usize) -> Option<usize> {
        let room = descriptors
            .saturating_sub(max_sessions + RESERVED_DESCRIPTORS)
            .max(8);
        (self.max_unauthenticated > room)
            .then(|| std::mem::replace(&mut self.max_unauthenticated, room))
    }
}

/// Where a connection comes from, for the per-source limits: an IPv4 address, or an IPv6
/// address's /64 (one subscriber's network; a single host can use any address in it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Source(IpAddr);

impl Source {
    pub fn of(ip: IpAddr) -> Source {
        match ip {
            IpAddr::V4(v4) => Source(IpAddr::V4(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Source(IpAddr::V4(v4)),
                None => {
                    let s = v6.segments();
                    Source(IpAddr::V6(Ipv6Addr::new(
                        s[0], s[1], s[2], s[3], 0, 0, 0, 0,
                    )))
                }
            },
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            IpAddr::V4(a) => write!(f, "{a}"),
            IpAddr::V6(a) => write!(f, "{a}/64"),
        }
    }
}

/// Why a connection was closed before any SSH was exchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Too many new connections from its source.
    Rate,
    /// Too many unauthenticated connections from its source.
    PerSource,
}

impl Refusal {
    /// What the client reads before the connection closes (OpenSSH's wording, which tools
    /// such as ssh-audit recognise).
    pub fn banner(self) -> &'static [u8] {
        match self {
            Refusal::Rate => b"Not allowed at this time\r\n",
            Refusal::PerSource => b"Exceeded MaxStartups\r\n",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Rate => "connection rate from its source exceeded",
            Refusal::PerSource => "too many unauthenticated connections from its source",
        }
    }
}

/// Sources whose rate buckets are kept; full buckets are forgotten beyond this.
const RATE_TABLE: usize = 4096;
/// Hard bound on the rate table (memory); beyond it the table starts over.
const RATE_TABLE_MAX: usize = 65_536;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

struct Inner {
    next: u64,
    /// Unauthenticated connections, oldest first.
    pending: BTreeMap<u64, (Source, Arc<Notify>)>,
    per_source: HashMap<Source, usize>,
    rate: HashMap<Source, Bucket>,
    /// Refusals since the last log line about them.
    refused: u64,
    evicted: u64,
    last_log: Option<Instant>,
}

pub struct Gate {
    limits: PreAuthLimits,
    inner: Mutex<Inner>,
}

/// An unauthenticated connection's place; released when dropped or on authentication.
pub struct Ticket {
    gate: Arc<Gate>,
    id: u64,
    evict: Arc<Notify>,
    held: bool,
}

impl Ticket {
    /// Completes when the gate dropped this connection to make room (or to free a descriptor).
    pub async fn evicted(&self) {
        self.evict.notified().await
    }

    /// The connection authenticated: it no longer counts against the pre-auth limits.
    pub fn authenticated(&mut self) {
        if std::mem::take(&mut self.held) {
            self.gate.release(self.id);
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if self.held {
            self.gate.release(self.id);
        }
    }
}

/// A summary of refusals for the log, at most one every [`LOG_EVERY`].
#[derive(Debug, PartialEq, Eq)]
pub struct RefusalSummary {
    pub refused: u64,
    pub evicted: u64,
}

const LOG_EVERY: Duration = Duration::from_secs(10);

impl Gate {
    pub fn new(limits: PreAuthLimits) -> Arc<Gate> {
        Arc::new(Gate {
            limits,
            inner: Mutex::new(Inner {
                next: 0,
                pending: BTreeMap::new(),
                per_source: HashMap::new(),
                rate: HashMap::new(),
                refused: 0,
                evicted: 0,
                last_log: None,
            }),
        })
    }

    pub fn limits(&self) -> &PreAuthLimits {
        &self.limits
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Admits a new connection from `ip` (at `now`), or says why not.
    pub fn admit(self: &Arc<Self>, ip: IpAddr, now: Instant) -> Result<Ticket, Refusal> {
        let source = Source::of(ip);
        let mut inner = self.lock();
        let open = inner.per_source.get(&source).copied().unwrap_or(0);
        if open >= self.limits.max_unauthenticated_per_source.max(1) {
            inner.refused += 1;
            return Err(Refusal::PerSource);
        }
        if !self.take_token(&mut inner, source, now) {
            inner.refused += 1;
            return Err(Refusal::Rate);
        }
        while inner.pending.len() >= self.limits.max_unauthenticated.max(1) {
            Self::evict_oldest_locked(&mut inner);
        }
        let id = inner.next;
        inner.next += 1;
        let evict = Arc::new(Notify::new());
        inner.pending.insert(id, (source, evict.clone()));
        *inner.per_source.entry(source).or_insert(0) += 1;
        Ok(Ticket {
            gate: self.clone(),
            id,
            evict,
            held: true,
        })
    }

    fn take_token(&self, inner: &mut Inner, source: Source, now: Instant) -> bool {
        let rate = self.limits.connection_rate.max(0.001);
        let burst = f64::from(self.limits.connection_burst.max(1));
        if inner.rate.len() >= RATE_TABLE && !inner.rate.contains_key(&source) {
            // A full bucket is the same as no bucket: forget those.
            inner.rate.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate < burst
            });
            if inner.rate.len() >= RATE_TABLE_MAX {
                inner.rate.clear();
            }
        }
        let b = inner.rate.entry(source).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        b.tokens = (b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate).min(burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    fn evict_oldest_locked(inner: &mut Inner) -> bool {
        let Some((_, (source, notify))) = inner.pending.pop_first() else {
            return false;
        };
        Self::forget_source(inner, source);
        inner.evicted += 1;
        notify.notify_one();
        true
    }

    fn forget_source(inner: &mut Inner, source: Source) {
        if let Some(n) = inner.per_source.get_mut(&source) {
            *n -= 1;
            if *n == 0 {
                inner.per_source.remove(&source);
            }
        }
    }

    /// Drops the oldest unauthenticated connection (to free a descriptor); false if none.
    pub fn evict_oldest(&self) -> bool {
        Self::evict_oldest_locked(&mut self.lock())
    }

    fn release(&self, id: u64) {
        let mut inner = self.lock();
        if let Some((source, _)) = inner.pending.remove(&id) {
            Self::forget_source(&mut inner, source);
        }
    }

    /// Unauthenticated connections now.
    pub fn unauthenticated(&self) -> usize {
        self.lock().pending.len()
    }

    /// Refusals and evictions since the last summary, at most once every 10 seconds (so a
    /// flood writes a bounded number of log lines).
    pub fn summary_due(&self, now: Instant) -> Option<RefusalSummary> {
        let mut inner = self.lock();
        if inner.refused == 0 && inner.evicted == 0 {
            return None;
        }
        if inner
            .last_log
            .is_some_and(|at| now.saturating_duration_since(at) < LOG_EVERY)
        {
            return None;
        }
        inner.last_log = Some(now);
        Some(RefusalSummary {
            refused: std::mem::take(&mut inner.refused),
            evicted: std::mem::take(&mut inner.evicted),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn limits(total: usize, per_source: usize, rate: f64, burst: u32) -> PreAuthLimits {
        PreAuthLimits {
            max_unauthenticated: total,
            max_unauthenticated_per_source: per_source,
            connection_rate: rate,
            connection_burst: burst,
            ..PreAuthLimits::default()
        }
    }

    #[test]
    fn the_cap_fits_the_descriptor_limit() {
        let mut l = PreAuthLimits::default();
        assert_eq!(l.fit_descriptors(1024, 64), None);
        assert_eq!(l.max_unauthenticated, 128);
        l.max_unauthenticated = 100_000;
        assert_eq!(l.fit_descriptors(1024, 64), Some(100_000));
        assert_eq!(l.max_unauthenticated, 1024 - 64 - RESERVED_DESCRIPTORS);
        assert_eq!(l.fit_descriptors(100, 64), Some(832));
        assert_eq!(l.max_unauthenticated, 8);
    }

    #[test]
    fn sources_are_addresses_and_ipv6_slash_64s() {
        assert_eq!(
            Source::of(ip("10.0.0.1")),
            Source::of(ip("::ffff:10.0.0.1"))
        );
        assert_ne!(Source::of(ip("10.0.0.1")), Source::of(ip("10.0.0.2")));
        assert_eq!(
            Source::of(ip("2001:db8:1:2:aaaa::1")),
            Source::of(ip("2001:db8:1:2:bbbb::2"))
        );
        assert_ne!(
            Source::of(ip("2001:db8:1:2::1")),
            Source::of(ip("2001:db8:1:3::1"))
        );
        assert_eq!(
            Source::of(ip("2001:db8:1:2::1")).to_string(),
            "2001:db8:1:2::/64"
        );
    }

    #[test]
    fn the_rate_per_source_is_a_token_bucket() {
        let gate = Gate::new(limits(100, 100, 2.0, 3));
        let t0 = Instant::now();
        let mut held = Vec::new();
        for _ in 0..3 {
            held.push(gate.admit(ip("10.0.0.1"), t0).expect("within the burst"));
        }
        assert_eq!(gate.admit(ip("10.0.0.1"), t0).err(), Some(Refusal::Rate));
        // Another source has its own bucket.
        held.push(gate.admit(ip("10.0.0.2"), t0).expect("other source"));
        // Half a second later one more token (2/s).
        let t1 = t0 + Duration::from_millis(500);
        held.push(gate.admit(ip("10.0.0.1"), t1).expect("refilled"));
        assert_eq!(gate.admit(ip("10.0.0.1"), t1).err(), Some(Refusal::Rate));
    }

    #[test]
    fn unauthenticated_connections_per_source_are_capped_until_released() {
        let gate = Gate::new(limits(100, 2, 1000.0, 1000));
        let now = Instant::now();
        let a = gate.admit(ip("10.0.0.1"), now).unwrap();
        let mut b = gate.admit(ip("10.0.0.1"), now).unwrap();
        assert_eq!(
            gate.admit(ip("10.0.0.1"), now).err(),
            Some(Refusal::PerSource)
        );
        b.authenticated();
        let c = gate
            .admit(ip("10.0.0.1"), now)
            .expect("an authenticated one frees its place");
        drop(a);
        let _d = gate.admit(ip("10.0.0.1"), now).expect("a closed one too");
        assert_eq!(gate.unauthenticated(), 2);
        drop(c);
        drop(b);
        assert_eq!(gate.unauthenticated(), 1);
    }

    #[tokio::test]
    async fn the_oldest_is_evicted_when_the_total_is_reached() {
        let gate = Gate::new(limits(3, 10, 1000.0, 1000));
        let now = Instant::now();
        let first = gate.admit(ip("10.0.0.1"), now).unwrap();
        let _second = gate.admit(ip("10.0.0.2"), now).unwrap();
        let _third = gate.admit(ip("10.0.0.3"), now).unwrap();
        let _fourth = gate.admit(ip("10.0.0.4"), now).expect("room is made");
        assert_eq!(gate.unauthenticated(), 3);
        // The first one is told (the notification waits for it).
        tokio::time::timeout(Duration::from_secs(1), first.evicted())
            .await
            .expect("the oldest was evicted");
        // Its source no longer counts it; dropping the evicted ticket changes nothing.
        drop(first);
        assert_eq!(gate.unauthenticated(), 3);
        assert!(gate.evict_oldest());
        assert_eq!(gate.unauthenticated(), 2);
    }

    #[test]
    fn refusals_are_summarised_at_most_every_ten_seconds() {
        let gate = Gate::new(limits(100, 1, 1000.0, 1000));
        let t0 = Instant::now();
        let _a = gate.admit(ip("10.0.0.1"), t0).unwrap();
        assert_eq!(gate.summary_due(t0), None);
        for _ in 0..5 {
            let _ = gate.admit(ip("10.0.0.1"), t0);
        }
        assert_eq!(
            gate.summary_due(t0),
            Some(RefusalSummary {
                refused: 5,
                evicted: 0
            })
        );
        let _ = gate.admit(ip("10.0.0.1"), t0);
        assert_eq!(gate.summary_due(t0 + Duration::from_secs(1)), None);
        assert_eq!(
            gate.summary_due(t0 + Duration::from_secs(11)),
            Some(RefusalSummary {
                refused: 1,
                evicted: 0
            })
        );
    }

    #[test]
    fn the_rate_table_stays_bounded() {
        let gate = Gate::new(limits(100_000, 10, 1.0, 1));
        let t0 = Instant::now();
        for i in 0..(RATE_TABLE as u32 + 10) {
            let a = std::net::Ipv4Addr::from(0x0a00_0000 + i);
            drop(gate.admit(IpAddr::V4(a), t0));
        }
        // Seconds later every bucket is full again and forgotten on the next newcomer.
        let _ = gate.admit(ip("192.168.0.1"), t0 + Duration::from_secs(5));
        assert!(gate.lock().rate.len() < 10, "{}", gate.lock().rate.len());
    }
}
