//! Shared HTTP plumbing for connectors: one pooled client with timeouts, retries with
//! jittered exponential backoff for idempotent calls only (via `backon`), `Retry-After`
//! honoured on every status that carries it (429, 503, …), a circuit breaker per provider
//! and seller account, request budgets (an interactive request never sits waiting for a
//! provider quota), and a redacting formatter so URLs with secrets never reach logs.
//!
//! Two task-local scopes steer a call without widening every connector signature:
//! - [`provider_scope`] (set by the domain around a connector call) names the provider and
//!   the seller account, the key of the circuit breaker; without it the URL's host is the key.
//! - [`interactive`] (set by the HTTP layer around a GraphQL request) bounds how long the
//!   request may wait for a quota, a `Retry-After` or a backoff: longer waits are refused at
//!   once as [`ConnectorError::RateLimited`] (the client sees `RATE_LIMITED`). Jobs run
//!   without it and wait as long as the provider asks (capped at 300 s a wait).

use std::{
    collections::HashMap,
    future::Future,
    sync::{
        Arc, LazyLock, Mutex,
        atomic::{AtomicU8, Ordering},
    },
    time::{Duration, Instant},
};

use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::{Response, StatusCode};

use super::ConnectorError;

#[derive(Debug, Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    max_attempts: usize,
    min_delay: Duration,
}

impl HttpClient {
    pub fn new() -> Result<Self, ConnectorError> {
        let inner = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("shipgate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ConnectorError::Transient(e.to_string()))?;
        Ok(Self { inner, max_attempts: 4, min_delay: Duration::from_millis(200) })
    }

    /// Shorter delays (tests).
    pub fn with_min_delay(mut self, d: Duration) -> Self {
        self.min_delay = d;
        self
    }

    pub fn raw(&self) -> &reqwest::Client {
        &self.inner
    }

    /// Sends once: for calls with side effects (token exchange, write-back), which must
    /// never be repeated blindly. The breaker still sees the outcome, and a provider's
    /// `Retry-After` holds the next call to the same provider and account.
    pub async fn send_once(&self, req: reqwest::RequestBuilder) -> Result<Response, ConnectorError> {
        let (client, request) = req.build_split();
        let request = request.map_err(transport_error)?;
        let key = breaker_key(request.url());
        let probe = admit(&key).await?;
        let sent = {
            let _mark = WaitMark::set(Waiting::Provider);
            client.execute(request).await
        };
        match sent {
            Ok(resp) => {
                record(&key, outcome_of(&resp), hint_of(&resp));
                probe.done();
                Ok(resp)
            }
            Err(e) => {
                let e = transport_error(e);
                record(&key, Outcome::Down(e.to_string()), None);
                probe.done();
                Err(e)
            }
        }
    }

    /// Sends an idempotent request, retrying transient failures and 429s. `build` makes
    /// a fresh request per attempt. `classify` turns a non-success response into an error.
    /// A `Retry-After` (on any status) sets the delay before the next attempt; an open
    /// breaker stops the retries at once.
    pub async fn send_idempotent<B, C, Fut>(&self, build: B, classify: C) -> Result<Response, ConnectorError>
    where
        B: Fn() -> reqwest::RequestBuilder,
        C: Fn(Response) -> Fut,
        Fut: std::future::Future<Output = ConnectorError>,
    {
        let mut backoff = ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(Duration::from_secs(30))
            .with_max_times(self.max_attempts.saturating_sub(1))
            .with_jitter()
            .build();
        loop {
            let (client, request) = build().build_split();
            let request = request.map_err(transport_error)?;
            let key = breaker_key(request.url());
            let probe = admit(&key).await?;
            let sent = {
                let _mark = WaitMark::set(Waiting::Provider);
                client.execute(request).await
            };
            let (error, hint) = match sent {
                Ok(resp) => {
                    let hint = hint_of(&resp);
                    record(&key, outcome_of(&resp), hint);
                    probe.done();
                    let status = resp.status();
                    if status.is_success() {
                        return Ok(resp);
                    }
                    let error = if status == StatusCode::TOO_MANY_REQUESTS {
                        ConnectorError::RateLimited { retry_after: hint.map_or(self.min_delay, |h| h.after) }
                    } else if status.is_server_error() {
                        ConnectorError::Transient(format!("HTTP {status}"))
                    } else {
                        classify(resp).await
                    };
                    (error, hint.map(|h| h.after))
                }
                Err(e) => {
                    let e = transport_error(e);
                    record(&key, Outcome::Down(e.to_string()), None);
                    probe.done();
                    (e, None)
                }
            };
            if !error.is_retryable() {
                return Err(error);
            }
            let Some(planned) = backoff.next() else { return Err(error) };
            // Retry-After is the provider's word: never earlier than it asks.
            let delay = hint.unwrap_or(planned);
            if is_open(&key) {
                return Err(error);
            }
            if let Err(too_long) = pause(delay, Waiting::Quota).await {
                return Err(match error {
                    ConnectorError::RateLimited { .. } => ConnectorError::RateLimited { retry_after: too_long },
                    other => other,
                });
            }
            tracing::warn!(error = %error, retry_in_ms = delay.as_millis() as u64, "retrying provider call");
        }
    }
}

// ---------------------------------------------------------------------------------
// Request budgets.

/// The longest an interactive request waits for a provider (quota, `Retry-After`,
/// backoff) in one go; longer waits are answered `RATE_LIMITED` at once.
pub const MAX_REQUEST_WAIT: Duration = Duration::from_secs(2);

/// What an interactive request is doing right now (for its timeout answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waiting {
    Nothing,
    /// Waiting for a quota, a `Retry-After` or a backoff delay.
    Quota,
    /// Waiting for a provider's answer.
    Provider,
}

/// The time an interactive request (a GraphQL operation over HTTP) has left.
#[derive(Debug)]
pub struct RequestBudget {
    deadline: Instant,
    waiting: AtomicU8,
}

impl RequestBudget {
    pub fn new(timeout: Duration) -> Arc<Self> {
        Arc::new(Self { deadline: Instant::now() + timeout, waiting: AtomicU8::new(0) })
    }

    pub fn waiting(&self) -> Waiting {
        match self.waiting.load(Ordering::Relaxed) {
            1 => Waiting::Quota,
            2 => Waiting::Provider,
            _ => Waiting::Nothing,
        }
    }

    /// How long this request may still wait in one go (a second kept for answering).
    fn allowed_wait(&self) -> Duration {
        MAX_REQUEST_WAIT
            .min(self.deadline.saturating_duration_since(Instant::now()).saturating_sub(Duration::from_secs(1)))
    }
}

tokio::task_local! {
    static REQUEST: Arc<RequestBudget>;
    static SCOPE: Arc<CallScope>;
}

/// Runs `f` as an interactive request bound by `budget`: provider waits longer than
/// [`MAX_REQUEST_WAIT`] (or past the deadline) are refused instead of waited for.
pub async fn interactive<F: Future>(budget: Arc<RequestBudget>, f: F) -> F::Output {
    REQUEST.scope(budget, f).await
}

/// `Some(limit)` inside an interactive request, `None` in a job (waits are unbounded).
fn allowed_wait() -> Option<Duration> {
    REQUEST.try_with(|b| b.allowed_wait()).ok()
}

/// Marks what the current request waits for while alive.
struct WaitMark(Option<(Arc<RequestBudget>, u8)>);

impl WaitMark {
    fn set(what: Waiting) -> Self {
        let v = match what {
            Waiting::Nothing => 0,
            Waiting::Quota => 1,
            Waiting::Provider => 2,
        };
        Self(REQUEST.try_with(|b| (b.clone(), b.waiting.swap(v, Ordering::Relaxed))).ok())
    }
}

impl Drop for WaitMark {
    fn drop(&mut self) {
        // Past the deadline the request is being cancelled: keep what it was waiting for,
        // which its timeout answer reports.
        if let Some((b, previous)) = &self.0
            && Instant::now() < b.deadline
        {
            b.waiting.store(*previous, Ordering::Relaxed);
        }
    }
}

/// Sleeps `d`, unless an interactive request may not wait that long: then `Err(d)`.
async fn pause(d: Duration, what: Waiting) -> Result<(), Duration> {
    if allowed_wait().is_some_and(|limit| d > limit) {
        return Err(d);
    }
    let _mark = WaitMark::set(what);
    tokio::time::sleep(d).await;
    Ok(())
}

// ---------------------------------------------------------------------------------
// Circuit breakers, per provider and seller account.

/// Consecutive failed attempts (transport errors, timeouts, 5xx) that open a breaker.
pub const FAILURE_THRESHOLD: u32 = 5;
/// How long a breaker first stays open; doubled after each failed probe, up to
/// [`MAX_OPEN`]; never shorter than the provider's `Retry-After`.
pub const FIRST_OPEN: Duration = Duration::from_secs(5);
pub const MAX_OPEN: Duration = Duration::from_secs(300);

/// The state of one breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Closed,
    /// Calls fail fast without reaching the provider.
    Open,
    /// The open window has passed: one probe call goes through, the others fail fast.
    HalfOpen,
}

impl Phase {
    /// The value of `shipgate_provider_circuit_state`.
    pub fn as_metric(self) -> u8 {
        match self {
            Self::Closed => 0,
            Self::Open => 1,
            Self::HalfOpen => 2,
        }
    }
}

/// A breaker changed state during a scoped call: the domain records it on the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// Calls are refused until `until` (wall clock) after `failures` consecutive failures.
    Opened { until: chrono::DateTime<chrono::Utc>, failures: u32, last_error: String },
    /// A probe succeeded: calls flow again.
    Closed,
}

/// A breaker's counters, for `/metrics`.
#[derive(Debug, Clone)]
pub struct BreakerStat {
    pub provider: String,
    pub account: String,
    pub phase: Phase,
    pub consecutive_failures: u32,
    pub opened_total: u64,
    pub refused_total: u64,
}

type Key = (String, String);

struct Breaker {
    phase: Phase,
    consecutive: u32,
    open_until: Instant,
    open_for: Duration,
    probing: bool,
    /// A `Retry-After` received: no call to this key before then.
    hold_until: Option<Instant>,
    /// Whether the hold came from a 429 (else the provider said it is unavailable).
    hold_rate_limited: bool,
    last_error: String,
    opened_total: u64,
    refused_total: u64,
}

impl Default for Breaker {
    fn default() -> Self {
        Self {
            phase: Phase::Closed,
            consecutive: 0,
            open_until: Instant::now(),
            open_for: FIRST_OPEN,
            probing: false,
            hold_until: None,
            hold_rate_limited: false,
            last_error: String::new(),
            opened_total: 0,
            refused_total: 0,
        }
    }
}

/// In-process: each replica keeps its own (a shared store is the next step, design §7).
static BREAKERS: LazyLock<Mutex<HashMap<Key, Breaker>>> = LazyLock::new(Default::default);

fn breakers() -> std::sync::MutexGuard<'static, HashMap<Key, Breaker>> {
    BREAKERS.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Every breaker's state and counters.
pub fn breaker_stats() -> Vec<BreakerStat> {
    let mut out: Vec<BreakerStat> = breakers()
        .iter()
        .map(|((provider, account), b)| BreakerStat {
            provider: provider.clone(),
            account: account.clone(),
            phase: if b.phase == Phase::Open && b.open_until <= Instant::now() { Phase::HalfOpen } else { b.phase },
            consecutive_failures: b.consecutive,
            opened_total: b.opened_total,
            refused_total: b.refused_total,
        })
        .collect();
    out.sort_by(|a, b| (&a.provider, &a.account).cmp(&(&b.provider, &b.account)));
    out
}

/// The state of the breaker of `provider` and `account` (Closed if none yet).
pub fn breaker_phase(provider: &str, account: &str) -> Phase {
    breaker_stats()
        .into_iter()
        .find(|s| s.provider == provider && s.account == account)
        .map_or(Phase::Closed, |s| s.phase)
}

/// A domain-level call to one provider for one seller account.
struct CallScope {
    provider: String,
    account: String,
    transition: Mutex<Option<Transition>>,
}

/// Runs `f` (one or more connector calls) keyed to `provider` and the seller `account`
/// for the circuit breaker; returns its output and the breaker's last state change during
/// it, if any (the domain shows it on the account).
pub async fn provider_scope<F: Future>(
    provider: &str,
    account: impl Into<String>,
    f: F,
) -> (F::Output, Option<Transition>) {
    let scope =
        Arc::new(CallScope { provider: provider.to_owned(), account: account.into(), transition: Mutex::new(None) });
    let out = SCOPE.scope(scope.clone(), f).await;
    let transition = scope.transition.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
    (out, transition)
}

fn breaker_key(url: &reqwest::Url) -> Key {
    SCOPE.try_with(|s| (s.provider.clone(), s.account.clone())).unwrap_or_else(|_| {
        let host = url.host_str().unwrap_or("-");
        (url.port().map_or_else(|| host.to_owned(), |p| format!("{host}:{p}")), String::new())
    })
}

fn note(t: Transition) {
    let _ = SCOPE.try_with(|s| *s.transition.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(t));
}

enum Admission {
    Go { probe: bool },
    Hold { wait: Duration, rate_limited: bool },
    Open { retry_in: Duration, failures: u32, last_error: String },
}

fn try_admit(key: &Key) -> Admission {
    let now = Instant::now();
    let mut map = breakers();
    let b = map.entry(key.clone()).or_default();
    if let Some(until) = b.hold_until {
        if until > now {
            return Admission::Hold { wait: until - now, rate_limited: b.hold_rate_limited };
        }
        b.hold_until = None;
    }
    let refuse = |b: &mut Breaker, retry_in: Duration| {
        b.refused_total += 1;
        Admission::Open { retry_in, failures: b.consecutive, last_error: b.last_error.clone() }
    };
    match b.phase {
        Phase::Closed => Admission::Go { probe: false },
        Phase::Open if now < b.open_until => {
            let retry_in = b.open_until - now;
            refuse(b, retry_in)
        }
        Phase::Open | Phase::HalfOpen if !b.probing => {
            b.phase = Phase::HalfOpen;
            b.probing = true;
            Admission::Go { probe: true }
        }
        Phase::Open | Phase::HalfOpen => refuse(b, Duration::from_secs(1)),
    }
}

/// Waits out a `Retry-After` hold (or refuses, in a request), then lets the call through,
/// or refuses it at once while the breaker is open.
async fn admit(key: &Key) -> Result<Probe, ConnectorError> {
    loop {
        match try_admit(key) {
            Admission::Go { probe } => return Ok(Probe { key: probe.then(|| key.clone()) }),
            Admission::Hold { wait, rate_limited } => {
                if let Err(wait) = pause(wait, Waiting::Quota).await {
                    return Err(if rate_limited {
                        ConnectorError::RateLimited { retry_after: wait }
                    } else {
                        ConnectorError::Transient(format!(
                            "{} asked us to wait {} s before calling again (Retry-After)",
                            key.0,
                            wait.as_secs_f64().ceil()
                        ))
                    });
                }
            }
            Admission::Open { retry_in, failures, last_error } => {
                return Err(ConnectorError::Transient(format!(
                    "{} is unavailable: circuit open after {failures} consecutive failures (last: {last_error}); calls paused for {} s",
                    key.0,
                    retry_in.as_secs_f64().ceil()
                )));
            }
        }
    }
}

/// A half-open probe in flight; dropped without an outcome (the call was cancelled), it
/// lets the next call probe instead.
struct Probe {
    key: Option<Key>,
}

impl Probe {
    fn done(mut self) {
        self.key = None;
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        if let Some(key) = self.key.take()
            && let Some(b) = breakers().get_mut(&key)
        {
            b.probing = false;
        }
    }
}

fn is_open(key: &Key) -> bool {
    breakers().get(key).is_some_and(|b| b.phase != Phase::Closed)
}

enum Outcome {
    /// The provider answered (success, or a refusal that proves it is up).
    Up,
    /// Transport failure, timeout or 5xx.
    Down(String),
}

#[derive(Debug, Clone, Copy)]
struct Hint {
    after: Duration,
    rate_limited: bool,
}

fn outcome_of(resp: &Response) -> Outcome {
    if resp.status().is_server_error() { Outcome::Down(format!("HTTP {}", resp.status())) } else { Outcome::Up }
}

/// The `Retry-After` (or equivalent) of a non-success answer.
fn hint_of(resp: &Response) -> Option<Hint> {
    if resp.status().is_success() {
        return None;
    }
    retry_after(resp).map(|after| Hint { after, rate_limited: resp.status() == StatusCode::TOO_MANY_REQUESTS })
}

fn record(key: &Key, outcome: Outcome, hint: Option<Hint>) {
    let now = Instant::now();
    let transition = {
        let mut map = breakers();
        let b = map.entry(key.clone()).or_default();
        if let Some(h) = hint {
            b.hold_until = Some(b.hold_until.map_or(now + h.after, |t| t.max(now + h.after)));
            b.hold_rate_limited = h.rate_limited;
        }
        let hold = hint.map_or(Duration::ZERO, |h| h.after);
        match outcome {
            Outcome::Up => {
                b.consecutive = 0;
                b.probing = false;
                if b.phase == Phase::Closed {
                    None
                } else {
                    b.phase = Phase::Closed;
                    b.open_for = FIRST_OPEN;
                    Some(Transition::Closed)
                }
            }
            Outcome::Down(e) => {
                b.consecutive = b.consecutive.saturating_add(1);
                b.last_error = e;
                // A failed probe opens again, for twice as long; calls admitted before the
                // breaker opened and failing after it change nothing.
                let reopen = b.phase == Phase::HalfOpen;
                if reopen {
                    b.open_for = (b.open_for * 2).min(MAX_OPEN);
                }
                if reopen || (b.phase == Phase::Closed && b.consecutive >= FAILURE_THRESHOLD) {
                    let open_for = b.open_for.max(hold);
                    b.phase = Phase::Open;
                    b.probing = false;
                    b.open_until = now + open_for;
                    b.opened_total += 1;
                    tracing::warn!(provider = %key.0, account = %key.1, open_secs = open_for.as_secs(), failures = b.consecutive, "circuit opened");
                    Some(Transition::Opened {
                        until: chrono::Utc::now() + open_for,
                        failures: b.consecutive,
                        last_error: b.last_error.clone(),
                    })
                } else {
                    None
                }
            }
        }
    };
    if let Some(t) = transition {
        if t == Transition::Closed {
            tracing::info!(provider = %key.0, account = %key.1, "circuit closed: the probe succeeded");
        }
        note(t);
    }
}

fn transport_error(e: reqwest::Error) -> ConnectorError {
    // reqwest's Display can include the URL (and so query secrets): strip it.
    ConnectorError::Transient(e.without_url().to_string())
}

/// How long a 429 (or a 503) asks us to wait: `Retry-After` in seconds (the HTTP-date form
/// is rare for APIs and treated as absent), else a `*-Rate-Limit-Reset` header holding an
/// RFC 3339 date-time, which some providers send instead (Wish: `Wish-Rate-Limit-Reset`).
pub fn retry_after(resp: &Response) -> Option<Duration> {
    let headers = resp.headers();
    if let Some(s) = headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        return Some(Duration::from_secs(s.min(300)));
    }
    let reset = headers
        .iter()
        .filter(|(name, _)| name.as_str().ends_with("-rate-limit-reset"))
        .find_map(|(_, v)| chrono::DateTime::parse_from_rfc3339(v.to_str().ok()?.trim()).ok())?;
    let wait = (reset.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_milliseconds().clamp(0, 300_000);
    Some(Duration::from_millis(wait.unsigned_abs()))
}

/// Per-provider, per-operation rate limits (GCRA via `governor`), keyed by seller so one
/// busy account does not starve another. In-process only: with several workers, each
/// holds its own buckets (a shared store is the next step, design §7).
#[derive(Clone, Default)]
pub struct RateLimits(
    std::sync::Arc<std::collections::HashMap<&'static str, std::sync::Arc<governor::DefaultKeyedRateLimiter<String>>>>,
);

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

impl RateLimits {
    /// Adds a limit for `operation`: `per_second` sustained, `burst` at once.
    pub fn with(self, operation: &'static str, per_second: f64, burst: u32) -> Self {
        let period = Duration::from_secs_f64(1.0 / per_second.max(0.000_1));
        let burst = std::num::NonZeroU32::new(burst.max(1)).unwrap_or(std::num::NonZeroU32::MIN);
        let Some(quota) = governor::Quota::with_period(period).map(|q| q.allow_burst(burst)) else { return self };
        let mut map: std::collections::HashMap<_, _> = self.0.iter().map(|(k, v)| (*k, v.clone())).collect();
        map.insert(operation, std::sync::Arc::new(governor::RateLimiter::dashmap(quota)));
        Self(std::sync::Arc::new(map))
    }

    /// Waits until `operation` may run for `key` (a seller/account); no-op without a limit.
    /// In an interactive request ([`interactive`]), a wait longer than the request may
    /// spend is refused at once with [`ConnectorError::RateLimited`] (nothing consumed).
    pub async fn wait(&self, operation: &'static str, key: &str) -> Result<(), ConnectorError> {
        use governor::clock::Clock;
        let Some(limiter) = self.0.get(operation) else { return Ok(()) };
        let key = key.to_owned();
        if allowed_wait().is_none() {
            let _mark = WaitMark::set(Waiting::Quota);
            limiter.until_key_ready(&key).await;
            return Ok(());
        }
        loop {
            match limiter.check_key(&key) {
                Ok(()) => return Ok(()),
                Err(not_until) => {
                    let wait = not_until.wait_time_from(limiter.clock().now());
                    pause(wait, Waiting::Quota)
                        .await
                        .map_err(|retry_after| ConnectorError::RateLimited { retry_after })?;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn limits_per_operation_and_key() {
        let limits = RateLimits::default().with("orders", 10.0, 1);
        let started = Instant::now();
        for _ in 0..6 {
            limits.wait("orders", "seller-a").await.unwrap();
        }
        // 1 immediately, then one every 100 ms.
        assert!(started.elapsed() >= Duration::from_millis(450), "{:?}", started.elapsed());
        // Another seller and an unlimited operation are not held back.
        let other = Instant::now();
        limits.wait("orders", "seller-b").await.unwrap();
        limits.wait("items", "seller-a").await.unwrap();
        assert!(other.elapsed() < Duration::from_millis(50));
    }

    #[tokio::test]
    async fn a_request_never_queues_for_a_long_quota_wait() {
        // One call a minute: the second would wait ~60 s.
        let limits = RateLimits::default().with("orders", 1.0 / 60.0, 1);
        let budget = RequestBudget::new(Duration::from_secs(15));
        let started = Instant::now();
        let (first, second) =
            interactive(budget, async { (limits.wait("orders", "s").await, limits.wait("orders", "s").await) }).await;
        assert_eq!(first, Ok(()));
        match second {
            Err(ConnectorError::RateLimited { retry_after }) => assert!(retry_after > Duration::from_secs(50)),
            other => panic!("{other:?}"),
        }
        assert!(started.elapsed() < Duration::from_millis(100), "{:?}", started.elapsed());
        // A short wait inside the budget is waited for.
        let limits = RateLimits::default().with("orders", 5.0, 1);
        let started = Instant::now();
        interactive(RequestBudget::new(Duration::from_secs(15)), async {
            limits.wait("orders", "s").await.unwrap();
            limits.wait("orders", "s").await.unwrap();
        })
        .await;
        assert!(started.elapsed() >= Duration::from_millis(150));
    }

    #[tokio::test]
    async fn breaker_opens_after_consecutive_failures_and_refuses_fast() {
        let account = uuid::Uuid::new_v4().to_string();
        let key: Key = ("unit".into(), account.clone());
        let ((), transition) = provider_scope("unit", account.clone(), async {
            for _ in 0..FAILURE_THRESHOLD - 1 {
                record(&key, Outcome::Down("HTTP 503".into()), None);
            }
            assert!(matches!(try_admit(&key), Admission::Go { probe: false }));
            record(&key, Outcome::Down("HTTP 503".into()), None);
        })
        .await;
        assert!(matches!(transition, Some(Transition::Opened { failures: 5, .. })), "{transition:?}");
        assert_eq!(breaker_phase("unit", &account), Phase::Open);
        match admit(&key).await {
            Err(ConnectorError::Transient(m)) => assert!(m.contains("circuit open"), "{m}"),
            other => panic!("{:?}", other.map(|_| ())),
        }
        // Past the window: one probe, the others refused; a success closes it.
        breakers().get_mut(&key).unwrap().open_until = Instant::now();
        assert!(matches!(try_admit(&key), Admission::Go { probe: true }));
        assert!(matches!(try_admit(&key), Admission::Open { .. }));
        let ((), transition) = provider_scope("unit", account.clone(), async { record(&key, Outcome::Up, None) }).await;
        assert_eq!(transition, Some(Transition::Closed));
        assert_eq!(breaker_phase("unit", &account), Phase::Closed);
        // A failed probe opens it again for twice as long.
        for _ in 0..FAILURE_THRESHOLD {
            record(&key, Outcome::Down("timeout".into()), None);
        }
        breakers().get_mut(&key).unwrap().open_until = Instant::now();
        assert!(matches!(try_admit(&key), Admission::Go { probe: true }));
        record(&key, Outcome::Down("timeout".into()), None);
        let b = &breakers()[&key];
        assert_eq!((b.phase, b.open_for), (Phase::Open, FIRST_OPEN * 2));
    }
}
