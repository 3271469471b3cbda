//! Prometheus text metrics: GraphQL requests and latencies by operation name and
//! outcome, requests stopped by the time limit, and each provider circuit breaker's state
//! (per provider and seller account). Kept in-process (a few counters behind a mutex); the label set is capped so
//! arbitrary client operation names cannot grow memory without bound.

use std::{collections::HashMap, fmt::Write, sync::Mutex, time::Duration};

use axum::{extract::State, http::header, response::IntoResponse};

use crate::app::AppState;

const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];
const MAX_OPERATIONS: usize = 500;

#[derive(Default)]
struct Series {
    count: u64,
    sum_secs: f64,
    buckets: [u64; BUCKETS.len()],
}

#[derive(Default)]
pub struct Metrics {
    series: Mutex<HashMap<(String, &'static str), Series>>,
    /// SQL statements executed through the server's connection pool.
    pub db_statements: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// GraphQL requests stopped by the time limit, by the code answered.
    timeouts: Mutex<HashMap<&'static str, u64>>,
}

impl Metrics {
    pub fn observe(&self, operation: Option<&str>, ok: bool, elapsed: Duration) {
        let Ok(mut map) = self.series.lock() else {
            return;
        };
        let mut name = sanitize(operation.unwrap_or("anonymous"));
        if !map.contains_key(&(name.clone(), outcome(ok))) && map.len() >= MAX_OPERATIONS {
            name = "other".into();
        }
        let s = map.entry((name, outcome(ok))).or_default();
        let secs = elapsed.as_secs_f64();
        s.count += 1;
        s.sum_secs += secs;
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                s.buckets[i] += 1;
            }
        }
    }

    /// A GraphQL request was stopped by the time limit and answered `code`.
    pub fn timed_out(&self, code: crate::error::ErrorCode) {
        if let Ok(mut map) = self.timeouts.lock() {
            *map.entry(code.as_str()).or_default() += 1;
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        render_breakers(&mut out);
        out.push_str(
            "# HELP shipgate_graphql_timeouts_total GraphQL requests stopped by the time limit, by code answered.\n",
        );
        out.push_str("# TYPE shipgate_graphql_timeouts_total counter\n");
        if let Ok(map) = self.timeouts.lock() {
            let mut codes: Vec<_> = map.iter().collect();
            codes.sort();
            for (code, n) in codes {
                let _ = writeln!(out, "shipgate_graphql_timeouts_total{{code=\"{code}\"}} {n}");
            }
        }
        out.push_str("# HELP shipgate_db_statements_total SQL statements executed.\n");
        out.push_str("# TYPE shipgate_db_statements_total counter\n");
        let _ = writeln!(
            out,
            "shipgate_db_statements_total {}",
            self.db_statements.load(std::sync::atomic::Ordering::Relaxed)
        );
        out.push_str("# HELP shipgate_graphql_requests_total GraphQL operations by name and outcome.\n");
        out.push_str("# TYPE shipgate_graphql_requests_total counter\n");
        let Ok(map) = self.series.lock() else {
            return out;
        };
        let mut keys: Vec<_> = map.keys().collect();
        keys.sort();
        for k in &keys {
            if let Some(s) = map.get(k) {
                let _ = writeln!(
                    out,
                    "shipgate_graphql_requests_total{{operation=\"{}\",outcome=\"{}\"}} {}",
                    k.0, k.1, s.count
                );
            }
        }
        out.push_str("# HELP shipgate_graphql_request_duration_seconds GraphQL operation latency.\n");
        out.push_str("# TYPE shipgate_graphql_request_duration_seconds histogram\n");
        for k in &keys {
            let Some(s) = map.get(k) else { continue };
            let labels = format!("operation=\"{}\",outcome=\"{}\"", k.0, k.1);
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "shipgate_graphql_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ =
                writeln!(out, "shipgate_graphql_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", s.count);
            let _ = writeln!(out, "shipgate_graphql_request_duration_seconds_sum{{{labels}}} {}", s.sum_secs);
            let _ = writeln!(out, "shipgate_graphql_request_duration_seconds_count{{{labels}}} {}", s.count);
        }
        out
    }
}

/// Each provider breaker: state (0 closed, 1 open, 2 half-open), consecutive failures,
/// openings and calls refused while open.
fn render_breakers(out: &mut String) {
    let stats = crate::connectors::http::breaker_stats();
    type Series = (&'static str, &'static str, &'static str, fn(&crate::connectors::http::BreakerStat) -> u64);
    let series: [Series; 4] = [
        (
            "shipgate_provider_circuit_state",
            "gauge",
            "Provider circuit breaker per provider and seller account: 0 closed, 1 open, 2 half-open.",
            |s| u64::from(s.phase.as_metric()),
        ),
        (
            "shipgate_provider_consecutive_failures",
            "gauge",
            "Consecutive failed provider calls (transport errors, timeouts, 5xx).",
            |s| u64::from(s.consecutive_failures),
        ),
        ("shipgate_provider_circuit_opened_total", "counter", "Times the provider circuit opened.", |s| s.opened_total),
        (
            "shipgate_provider_calls_refused_total",
            "counter",
            "Provider calls refused without being sent because the circuit was open.",
            |s| s.refused_total,
        ),
    ];
    for (name, kind, help, value) in series {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for s in &stats {
            let _ = writeln!(
                out,
                "{name}{{provider=\"{}\",account=\"{}\"}} {}",
                label(&s.provider),
                label(&s.account),
                value(s)
            );
        }
    }
}

/// A label value: `[A-Za-z0-9_.:-]` only, at most 64 chars.
fn label(v: &str) -> String {
    v.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-')).take(64).collect()
}

fn outcome(ok: bool) -> &'static str {
    if ok { "ok" } else { "error" }
}

/// Operation names become label values: keep `[A-Za-z0-9_]`, at most 64 chars.
fn sanitize(name: &str) -> String {
    let s: String = name.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(64).collect();
    if s.is_empty() { "anonymous".into() } else { s }
}

pub async fn render(State(state): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_and_sanitises() {
        let m = Metrics::default();
        m.observe(Some("Me"), true, Duration::from_millis(3));
        m.observe(Some("Me"), true, Duration::from_millis(30));
        m.observe(Some("bad\"} name"), false, Duration::from_millis(1));
        let text = m.render();
        assert!(text.contains("shipgate_graphql_requests_total{operation=\"Me\",outcome=\"ok\"} 2"), "{text}");
        assert!(text.contains("operation=\"badname\",outcome=\"error\"} 1"), "{text}");
        assert!(text.contains("le=\"0.005\"} 1"));
    }
}
