//! Shared HTTP plumbing for connectors: one pooled client with timeouts, retries with
//! jittered exponential backoff for idempotent calls only (via `backon`), `Retry-After`
//! honoured on 429, and a redacting formatter so URLs with secrets never reach logs.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
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
    /// never be repeated blindly.
    pub async fn send_once(&self, req: reqwest::RequestBuilder) -> Result<Response, ConnectorError> {
        req.send().await.map_err(transport_error)
    }

    /// Sends an idempotent request, retrying transient failures and 429s. `build` makes
    /// a fresh request per attempt. `classify` turns a non-success response into an error.
    pub async fn send_idempotent<B, C, Fut>(&self, build: B, classify: C) -> Result<Response, ConnectorError>
    where
        B: Fn() -> reqwest::RequestBuilder,
        C: Fn(Response) -> Fut,
        Fut: std::future::Future<Output = ConnectorError>,
    {
        let attempt = || async {
            let resp = build().send().await.map_err(transport_error)?;
            if resp.status().is_success() {
                return Ok(resp);
            }
            if resp.status() == StatusCode::TOO_MANY_REQUESTS {
                return Err(ConnectorError::RateLimited { retry_after: retry_after(&resp).unwrap_or(self.min_delay) });
            }
            if resp.status().is_server_error() {
                return Err(ConnectorError::Transient(format!("HTTP {}", resp.status())));
            }
            Err(classify(resp).await)
        };
        let policy = ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(Duration::from_secs(30))
            .with_max_times(self.max_attempts.saturating_sub(1))
            .with_jitter();
        attempt
            .retry(policy)
            .when(ConnectorError::is_retryable)
            .adjust(|e, planned| match e {
                // Honour the provider's Retry-After instead of our own schedule.
                ConnectorError::RateLimited { retry_after } => planned.map(|_| *retry_after),
                _ => planned,
            })
            .notify(
                |e, after| tracing::warn!(error = %e, retry_in_ms = after.as_millis() as u64, "retrying provider call"),
            )
            .await
    }
}

fn transport_error(e: reqwest::Error) -> ConnectorError {
    // reqwest's Display can include the URL (and so query secrets): strip it.
    ConnectorError::Transient(e.without_url().to_string())
}

/// How long a 429 asks us to wait: `Retry-After` in seconds (the HTTP-date form is rare
/// for APIs and treated as absent), else a rate-limit reset time some providers send
/// instead (Wish: `Wish-Rate-Limit-Reset`, an ISO-8601 date-time).
pub fn retry_after(resp: &Response) -> Option<Duration> {
    let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(s) = header(reqwest::header::RETRY_AFTER.as_str()).and_then(|v| v.parse::<u64>().ok()) {
        return Some(Duration::from_secs(s.min(300)));
    }
    let reset = chrono::DateTime::parse_from_rfc3339(header("Wish-Rate-Limit-Reset")?).ok()?;
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
    pub async fn wait(&self, operation: &'static str, key: &str) {
        if let Some(limiter) = self.0.get(operation) {
            limiter.until_key_ready(&key.to_owned()).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RateLimits;
    use std::time::{Duration, Instant};

    #[tokio::test]
    async fn limits_per_operation_and_key() {
        let limits = RateLimits::default().with("orders", 10.0, 1);
        let started = Instant::now();
        for _ in 0..6 {
            limits.wait("orders", "seller-a").await;
        }
        // 1 immediately, then one every 100 ms.
        assert!(started.elapsed() >= Duration::from_millis(450), "{:?}", started.elapsed());
        // Another seller and an unlimited operation are not held back.
        let other = Instant::now();
        limits.wait("orders", "seller-b").await;
        limits.wait("items", "seller-a").await;
        assert!(other.elapsed() < Duration::from_millis(50));
    }
}
