//! Prometheus text metrics: GraphQL requests and latencies by operation name and
//! outcome. Kept in-process (a few counters behind a mutex); the label set is capped so
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

    pub fn render(&self) -> String {
        let mut out = String::new();
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
