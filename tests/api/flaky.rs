//! Failing providers (issue 17 items 3-5), over real HTTP against the sandbox Wish fake:
//! one token refresh per token version when the provider expires a token our clock thinks
//! valid; the circuit breaker per provider and seller account (fails fast while open,
//! probes half-open, shown in `/metrics` and `lastSyncError`); `Retry-After` on a 503
//! honoured; a request never queues behind a provider quota and is never answered with a
//! bare HTTP 408.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{
    db_tests,
    fixtures::uuid_of,
    helpers::{Backend, Session, TestApp, code},
    marketplaces::connect,
};

db_tests!(provider_expiry_refreshes_once, breaker_opens_fails_fast_and_probes, retry_after_on_503_is_honoured);
db_tests!(long_quota_wait_answers_rate_limited);

const CARRIERS: &str = "query($id: ID!) { accountCarriers(accountId: $id, refresh: true) { code } }";
const ACCOUNT: &str = "query($id: ID!) { node(id: $id) { ... on Account { status lastSyncError } } }";

fn wish(app: &TestApp) -> std::sync::Arc<api::sandbox::wish::WishFake> {
    app.state.services.sandbox.as_ref().unwrap().wish.clone()
}

fn api_calls(app: &TestApp) -> usize {
    wish(app).api_calls.lock().unwrap().len()
}

async fn wish_account(app: &TestApp) -> (Session, String) {
    let s = app.sign_up("Seller", "seller@example.com").await;
    let id = connect(app, &s, "WISH").await;
    // The token works: one carrier list read.
    let body = app.gql(CARRIERS, json!({ "id": id }), Some(&s.access)).await;
    assert!(body["data"]["accountCarriers"].as_array().is_some_and(|l| !l.is_empty()), "{body}");
    (s, id)
}

async fn metrics(app: &TestApp) -> String {
    app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap()
}

fn circuit_state(text: &str, account: uuid::Uuid) -> Option<u8> {
    let prefix = format!("shipgate_provider_circuit_state{{provider=\"wish\",account=\"{account}\"}} ");
    text.lines().find_map(|l| l.strip_prefix(prefix.as_str())).and_then(|v| v.trim().parse().ok())
}

/// 100 concurrent requests after Wish expired the access token on its side (our stored
/// expiry still says valid): every one gets the list, with exactly one refresh.
async fn provider_expiry_refreshes_once(app: TestApp) {
    let (s, id) = wish_account(&app).await;
    let fake = wish(&app);
    fake.expire_access_tokens();
    let before = *fake.token_calls.lock().unwrap();
    let mut calls = Vec::new();
    for _ in 0..100 {
        let (client, url, access, id) = (app.client.clone(), app.url("/graphql"), s.access.clone(), id.clone());
        calls.push(tokio::spawn(async move {
            let resp = client
                .post(url)
                .bearer_auth(access)
                .json(&json!({ "query": CARRIERS, "variables": { "id": id } }))
                .send()
                .await
                .unwrap();
            (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
        }));
    }
    let mut failed = Vec::new();
    for c in calls {
        let (status, body) = c.await.unwrap();
        if status != 200
            || !body["errors"].is_null()
            || body["data"]["accountCarriers"].as_array().is_none_or(Vec::is_empty)
        {
            failed.push(format!("{status} {body}"));
        }
    }
    let refreshes = *fake.token_calls.lock().unwrap() - before;
    eprintln!("100 concurrent calls after provider-side expiry: {refreshes} refresh call(s)");
    assert!(failed.is_empty(), "{} failed ({refreshes} refreshes): {failed:#?}", failed.len());
    assert_eq!(refreshes, 1, "one refresh per token version");
}

/// An always-failing provider: after FAILURE_THRESHOLD failed attempts the breaker opens,
/// the following calls fail fast as PROVIDER_UNAVAILABLE without reaching it, the account
/// and `/metrics` say so; once the provider is back, one half-open probe closes it.
async fn breaker_opens_fails_fast_and_probes(app: TestApp) {
    let (s, id) = wish_account(&app).await;
    let account = uuid_of(&id);
    let fake = wish(&app);
    *fake.always_unavailable.lock().unwrap() = true;
    let before = api_calls(&app);
    for i in 0..6 {
        let started = Instant::now();
        let body = app.gql(CARRIERS, json!({ "id": id }), Some(&s.access)).await;
        assert_eq!(code(&body), "PROVIDER_UNAVAILABLE", "call {i}: {body}");
        assert!(body["data"]["accountCarriers"].is_null(), "{body}");
        if i >= 2 {
            assert!(started.elapsed() < Duration::from_millis(500), "call {i} failed fast: {:?}", started.elapsed());
            assert!(body.to_string().contains("circuit open"), "{body}");
        }
    }
    let reached = api_calls(&app) - before;
    eprintln!("six calls against an always-failing provider: {reached} provider calls");
    assert_eq!(reached, api::connectors::http::FAILURE_THRESHOLD as usize, "calls stop once the breaker opens");
    let opened_at = Instant::now();

    let text = metrics(&app).await;
    assert_eq!(circuit_state(&text, account), Some(1), "{text}");
    assert!(
        text.contains(&format!("shipgate_provider_circuit_opened_total{{provider=\"wish\",account=\"{account}\"}} 1"))
    );
    let acc = app.gql(ACCOUNT, json!({ "id": id }), Some(&s.access)).await["data"]["node"].clone();
    assert_eq!(acc["status"], "ACTIVE", "{acc}");
    assert!(acc["lastSyncError"].as_str().is_some_and(|e| e.contains("circuit open")), "{acc}");

    // The provider recovers; calls are still refused until the open window ends, then one
    // probe goes through and closes the breaker.
    *fake.always_unavailable.lock().unwrap() = false;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut refused = 0;
    loop {
        let body = app.gql(CARRIERS, json!({ "id": id }), Some(&s.access)).await;
        if body["errors"].is_null() {
            assert!(body["data"]["accountCarriers"].as_array().is_some_and(|l| !l.is_empty()), "{body}");
            break;
        }
        assert_eq!(code(&body), "PROVIDER_UNAVAILABLE", "{body}");
        assert_eq!(api_calls(&app) - before, reached, "nothing reaches the provider while open");
        refused += 1;
        assert!(Instant::now() < deadline, "the breaker never closed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(refused > 0);
    assert_eq!(api_calls(&app) - before, reached + 1, "exactly one probe");
    assert!(
        opened_at.elapsed() + Duration::from_millis(500) >= api::connectors::http::FIRST_OPEN,
        "the breaker stayed open for its window: {:?}",
        opened_at.elapsed()
    );
    assert_eq!(circuit_state(&metrics(&app).await, account), Some(0));
    let acc = app.gql(ACCOUNT, json!({ "id": id }), Some(&s.access)).await["data"]["node"].clone();
    assert!(acc["lastSyncError"].is_null(), "the note goes when the breaker closes: {acc}");
}

/// A 503 with `Retry-After: 1` is retried no sooner than 1 s later.
async fn retry_after_on_503_is_honoured(app: TestApp) {
    let (s, id) = wish_account(&app).await;
    let fake = wish(&app);
    *fake.unavailable_retry_after.lock().unwrap() = Some(1);
    *fake.unavailable_next.lock().unwrap() = 1;
    let before = api_calls(&app);
    let body = app.gql(CARRIERS, json!({ "id": id }), Some(&s.access)).await;
    assert!(body["data"]["accountCarriers"].as_array().is_some_and(|l| !l.is_empty()), "{body}");
    let calls = fake.api_calls.lock().unwrap()[before..].to_vec();
    assert_eq!(calls.len(), 2, "one 503, one retry");
    let gap = calls[1] - calls[0];
    eprintln!("503 with Retry-After: 1 retried after {:.3} s", gap.as_secs_f64());
    assert!(gap >= Duration::from_secs(1), "retried after {gap:?}");
}

/// A provider asking us to wait a minute: the request answers RATE_LIMITED at once, in
/// GraphQL's shape with `retryAfter`, and the next one does not even reach the provider.
/// A provider too slow for the request's time limit: a GraphQL-shaped
/// PROVIDER_UNAVAILABLE, never HTTP 408 with `{}`.
async fn long_quota_wait_answers_rate_limited(app: TestApp) {
    let (s, id) = wish_account(&app).await;
    let fake = wish(&app);
    *fake.throttle_reset_secs.lock().unwrap() = Some(60);
    *fake.throttle_next.lock().unwrap() = 1;
    for attempt in 0..2 {
        let before = api_calls(&app);
        let started = Instant::now();
        let (status, body) = app.post(CARRIERS, json!({ "id": id }), Some(&s.access)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(code(&body), "RATE_LIMITED", "{body}");
        let retry_after = body["errors"][0]["extensions"]["retryAfter"].as_u64().unwrap_or_default();
        assert!((50..=61).contains(&retry_after), "{body}");
        assert!(started.elapsed() < Duration::from_secs(3), "answered at once: {:?}", started.elapsed());
        assert_eq!(api_calls(&app) - before, usize::from(attempt == 0), "the hold keeps later calls away");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_provider_times_out_in_graphql_shape_sqlite() {
    slow_provider_times_out_in_graphql_shape(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_provider_times_out_in_graphql_shape_postgres() {
    slow_provider_times_out_in_graphql_shape(Backend::Postgres).await;
}

async fn slow_provider_times_out_in_graphql_shape(backend: Backend) {
    let app = crate::helpers::spawn_with(backend, |s| s.limits.request_timeout_secs = 3).await;
    let (s, id) = wish_account(&app).await;
    *wish(&app).slow_next_carriers.lock().unwrap() = Some(Duration::from_secs(6));
    let started = Instant::now();
    let resp = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&s.access)
        .json(&json!({ "query": CARRIERS, "variables": { "id": id } }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(code(&body), "PROVIDER_UNAVAILABLE", "{body}");
    assert!(body["errors"][0]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert!(metrics(&app).await.contains("shipgate_graphql_timeouts_total{code=\"PROVIDER_UNAVAILABLE\"} 1"));
}
