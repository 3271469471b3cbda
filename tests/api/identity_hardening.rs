//! Issue 17 items 6 and 8: login throttling per (account, address), per account and per
//! address; a revoked session's access tokens refused within the auth cache's window on
//! every replica; unreadable credentials turning the account NEEDS_REAUTHORIZATION; the
//! header read timeout closing slowloris and idle connections; the WebSocket Origin check
//! ignoring the Host header.

use std::{
    net::IpAddr,
    time::{Duration, Instant},
};

use entity::account;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, http::HeaderValue};

use crate::{
    db_tests, fixtures,
    helpers::{Backend, PASSWORD, SECRET, TestApp, postgres_enabled, session_from, spawn_with},
};

db_tests!(
    login_throttle_figures,
    login_burst_is_counted_before_checking,
    real_user_from_another_address_still_logs_in,
    revoked_session_refused_within_cache_window,
    unreadable_credentials_need_reauthorization,
    ws_forged_host_and_origin_refused,
);

const LOGIN: &str = "mutation($i: LoginInput!) { login(input: $i) { accessToken refreshToken user { id } userErrors { code field message } } }";
const ME: &str = "{ me { id email } }";

#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    SignedIn(Value),
    Invalid,
    RateLimited(u64),
}

/// A client whose connections come from `ip` (any 127.0.0.0/8 address reaches the
/// server on 127.0.0.1 over loopback).
fn client_from(ip: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder().local_address(IpAddr::from(ip)).timeout(Duration::from_secs(30)).build().unwrap()
}

async fn login(app: &TestApp, client: &reqwest::Client, email: &str, password: &str) -> Outcome {
    let resp = client
        .post(app.url("/graphql"))
        .json(&json!({ "query": LOGIN, "variables": { "i": { "email": email, "password": password } } }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    if let Some(err) = body["errors"].get(0) {
        assert_eq!(err["extensions"]["code"], "RATE_LIMITED", "{body}");
        let retry = err["extensions"]["retryAfter"].as_u64().expect("retryAfter");
        return Outcome::RateLimited(retry);
    }
    let p = &body["data"]["login"];
    if p["accessToken"].is_string() {
        return Outcome::SignedIn(p.clone());
    }
    assert_eq!(p["userErrors"][0]["code"], "INVALID_CREDENTIALS", "{body}");
    Outcome::Invalid
}

/// The documented figures, from one address: 3 failures answered at once; after the 4th
/// the next attempt must wait 1 s, after the 5th 2 s, after the 6th 4 s; attempts before
/// then are RATE_LIMITED (retryAfter = the seconds left), even with the right password.
async fn login_throttle_figures(app: TestApp) {
    app.sign_up("Org", "victim@example.com").await;
    let c = &app.client;
    for _ in 0..3 {
        assert_eq!(login(&app, c, "victim@example.com", "wrong password 1").await, Outcome::Invalid);
    }
    assert_eq!(login(&app, c, "victim@example.com", "wrong password 2").await, Outcome::Invalid);
    let mut failed_at = Instant::now();
    for (round, delay) in [1u64, 2, 4].into_iter().enumerate() {
        match login(&app, c, "victim@example.com", "wrong password 3").await {
            Outcome::RateLimited(s) => assert!(s <= delay && s >= delay.saturating_sub(1).max(1), "{s} vs {delay}"),
            other => panic!("attempt during the {delay} s wait: {other:?}"),
        }
        if round == 0 {
            // No oracle: the right password is not even looked at during the wait.
            assert!(matches!(login(&app, c, "victim@example.com", PASSWORD).await, Outcome::RateLimited(_)));
        }
        // Wrong guesses while waiting are refused without being counted.
        let answer = loop {
            match login(&app, c, "victim@example.com", "wrong password 4").await {
                Outcome::RateLimited(_) => {
                    assert!(failed_at.elapsed() < Duration::from_secs(delay + 3), "still refused after {delay} s");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                other => break other,
            }
        };
        assert_eq!(answer, Outcome::Invalid);
        let waited = failed_at.elapsed();
        assert!(waited >= Duration::from_millis(delay * 1000 - 400), "waited only {waited:?} for {delay} s");
        failed_at = Instant::now();
    }
}

/// Concurrent guesses get no more checks than sequential ones: each attempt is counted
/// before the password is checked.
async fn login_burst_is_counted_before_checking(app: TestApp) {
    app.sign_up("Org", "burst@example.com").await;
    let (app, c) = (&app, &app.client);
    let answers = futures_util::future::join_all(
        (0..16).map(|i| async move { login(app, c, "burst@example.com", &format!("guess number {i}")).await }),
    )
    .await;
    let invalid = answers.iter().filter(|a| **a == Outcome::Invalid).count();
    let limited = answers.iter().filter(|a| matches!(a, Outcome::RateLimited(_))).count();
    assert_eq!(invalid + limited, 16, "{answers:?}");
    assert!((1..=4).contains(&invalid), "3 free failures and the 4th, no more: {answers:?}");
}

/// Someone guessing from another address cannot lock the real user out: the pair counter
/// is per address, and an address the user signed in from before is exempt from the
/// looser per-account cap that a spread-out attack runs into.
async fn real_user_from_another_address_still_logs_in(app: TestApp) {
    app.sign_up("Org", "user@example.com").await;
    let attacker = client_from([127, 0, 0, 2]);
    let mut attacker_failures = 0;
    for i in 0..10 {
        match login(&app, &attacker, "user@example.com", &format!("guess {i}")).await {
            Outcome::Invalid => attacker_failures += 1,
            Outcome::RateLimited(_) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(attacker_failures, 4, "then the attacker's address waits");
    // The attacker's address is refused even with the right password…
    assert!(matches!(login(&app, &attacker, "user@example.com", PASSWORD).await, Outcome::RateLimited(_)));
    // …while the real user, from their own address, signs in.
    let Outcome::SignedIn(p) = login(&app, &app.client, "user@example.com", PASSWORD).await else {
        panic!("the real user was locked out");
    };
    session_from(&p);

    // A spread-out attack: one guess from each of many addresses. The account-wide
    // counter allows 20 failures from addresses the user never signed in from, then
    // doubles its wait (1 s, 2 s, 4 s …).
    let mut unknown_failures = attacker_failures;
    let mut last = 9u8;
    while unknown_failures < 23 {
        last += 1;
        assert!(last < 250);
        let c = client_from([127, 0, 0, last]);
        loop {
            match login(&app, &c, "user@example.com", &format!("spread guess {last}")).await {
                Outcome::Invalid => {
                    unknown_failures += 1;
                    break;
                }
                Outcome::RateLimited(_) => {
                    assert!(unknown_failures > 20, "throttled after only {unknown_failures} failures");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                other => panic!("{other:?}"),
            }
        }
    }
    // The 23rd failure set a 4 s wait for every address the user never used: the right
    // password from a new address is refused…
    let fresh = client_from([127, 0, 0, last + 1]);
    assert!(matches!(login(&app, &fresh, "user@example.com", PASSWORD).await, Outcome::RateLimited(s) if s >= 2));
    // …but the user's own (known) address still gets in.
    let Outcome::SignedIn(p) = login(&app, &app.client, "user@example.com", PASSWORD).await else {
        panic!("the real user was locked out by a spread-out attack");
    };
    session_from(&p);
}

/// Starts a second server (another replica) on the same database.
async fn replica(app: &TestApp) -> (String, tokio::sync::oneshot::Sender<()>) {
    let settings = api::Settings::for_tests(app.state.services.settings.database_url(), SECRET);
    let second = api::Application::build(settings).await.unwrap();
    let base = format!("http://{}", second.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(second.run_until_stopped(async move {
        let _ = rx.await;
    }));
    (base, tx)
}

async fn me_status(client: &reqwest::Client, base: &str, token: &str) -> u16 {
    let resp =
        client.post(format!("{base}/graphql")).bearer_auth(token).json(&json!({ "query": ME })).send().await.unwrap();
    resp.status().as_u16()
}

/// Logging out one session refuses its access tokens on the next request on this replica
/// and within the auth cache's 2 s on another, instead of for the token's 15 minutes.
async fn revoked_session_refused_within_cache_window(app: TestApp) {
    let s = app.sign_up("Org", "owner@example.com").await;
    let Outcome::SignedIn(p) = login(&app, &app.client, "owner@example.com", PASSWORD).await else { panic!() };
    let l = session_from(&p);
    let (other, stop) = replica(&app).await;
    let c = &app.client;
    // Both replicas accept (and cache) the token.
    assert_eq!(me_status(c, &app.base, &l.access).await, 200);
    assert_eq!(me_status(c, &other, &l.access).await, 200);

    let out = app
        .gql(
            "mutation($t: String!) { logout(input: { refreshToken: $t }) { ok userErrors { code } } }",
            json!({ "t": l.refresh }),
            None,
        )
        .await;
    assert_eq!(out["data"]["logout"]["ok"], true, "{out}");
    let logged_out = Instant::now();
    assert_eq!(me_status(c, &app.base, &l.access).await, 401, "this replica: at once");
    loop {
        if me_status(c, &other, &l.access).await == 401 {
            break;
        }
        assert!(logged_out.elapsed() < Duration::from_secs(4), "the other replica still accepts the token");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(logged_out.elapsed() < Duration::from_millis(3000), "{:?}", logged_out.elapsed());
    // The user's other session is untouched.
    assert_eq!(me_status(c, &app.base, &s.access).await, 200);
    assert_eq!(me_status(c, &other, &s.access).await, 200);
    let _ = stop.send(());
}

const ACCOUNT: &str = "query($id: ID!) { node(id: $id) { ... on Account { status lastSyncError } } }";
const DOWNLOAD: &str = "mutation($ids: [ID!]!) { downloadOrders(input: { accountIds: $ids }) { jobs { id } userErrors { code message } } }";
const JOB: &str = "query($id: ID!) { node(id: $id) { ... on Job { status attempts lastError } } }";

/// Credentials that no longer decrypt are not retried as a transient failure behind an
/// ACTIVE account: the download fails for good and the account says why.
async fn unreadable_credentials_need_reauthorization(app: TestApp) {
    let s = app.sign_up("Seller", "seller@example.com").await;
    let account_id = crate::ebay::connect(&app, &s, "Store").await;
    let db = &app.state.services.db;
    let row = account::Entity::find_by_id(fixtures::uuid_of(&account_id)).one(db).await.unwrap().unwrap();
    let mut damaged = row.credentials_ciphertext.clone().unwrap();
    damaged[0] ^= 0x55;
    let mut active: account::ActiveModel = row.into();
    active.credentials_ciphertext = Set(Some(damaged));
    active.update(db).await.unwrap();

    let body = app.gql(DOWNLOAD, json!({ "ids": [account_id] }), Some(&s.access)).await;
    assert_eq!(body["data"]["downloadOrders"]["userErrors"], json!([]), "{body}");
    let job_id = body["data"]["downloadOrders"]["jobs"][0]["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(20);
    let (job, acc) = loop {
        let job = app.gql(JOB, json!({ "id": job_id }), Some(&s.access)).await["data"]["node"].clone();
        let acc = app.gql(ACCOUNT, json!({ "id": account_id }), Some(&s.access)).await["data"]["node"].clone();
        if job["status"] == "FAILED" && acc["status"] == "NEEDS_REAUTHORIZATION" {
            break (job, acc);
        }
        assert!(Instant::now() < deadline, "job {job}, account {acc}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(job["attempts"], 1, "a permanent failure, not retried: {job}");
    assert!(acc["lastSyncError"].as_str().unwrap().contains("cannot be decrypted"), "{acc}");
    assert!(acc["lastSyncError"].as_str().unwrap().contains("reauthorize"), "{acc}");
    // A new consent round replaces what cannot be read.
    let re = app
        .gql(
            "mutation($id: ID!) { reauthorizeAccount(input: { id: $id }) { authorizationUrl userErrors { code message } } }",
            json!({ "id": account_id }),
            Some(&s.access),
        )
        .await;
    assert!(re["data"]["reauthorizeAccount"]["authorizationUrl"].is_string(), "{re}");
}

async fn ws_connect(app: &TestApp, origin: &str, host: &str) -> Result<(), String> {
    let mut req = format!("ws://{}/graphql/ws", app.addr).into_client_request().unwrap();
    let h = req.headers_mut();
    h.insert("sec-websocket-protocol", HeaderValue::from_static("graphql-transport-ws"));
    h.insert("origin", HeaderValue::from_str(origin).unwrap());
    h.insert("host", HeaderValue::from_str(host).unwrap());
    tokio_tungstenite::connect_async(req).await.map(|_| ()).map_err(|e| e.to_string())
}

/// A page on any site can reach the server under a host name it controls (DNS
/// rebinding), so an Origin that merely matches the Host header proves nothing.
async fn ws_forged_host_and_origin_refused(app: TestApp) {
    let refused = ws_connect(&app, "http://evil.example", "evil.example").await;
    assert!(refused.as_ref().is_err_and(|e| e.contains("403")), "{refused:?}");
    let refused = ws_connect(&app, "http://evil.example:8080", "evil.example:8080").await;
    assert!(refused.is_err(), "{refused:?}");
    // The configured public URL (GraphiQL) and the CORS allow-list are accepted.
    let own = app.base.clone();
    assert_eq!(ws_connect(&app, &own, &app.addr.to_string()).await, Ok(()));
    assert_eq!(ws_connect(&app, "http://localhost:5173", &app.addr.to_string()).await, Ok(()));
}

mod slowloris_connection_is_closed {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::slowloris(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        if !postgres_enabled() {
            eprintln!("SHIPGATE_TEST_POSTGRES_URL not set: PostgreSQL variant not run");
            return;
        }
        super::slowloris(Backend::Postgres).await;
    }
}

/// Reads until the server closes the connection (EOF or reset); while `trickle`, sends
/// one more header line every 300 ms, as a slowloris client does. The time it took.
async fn until_closed(app: &TestApp, first: &[u8], trickle: bool) -> Duration {
    let started = Instant::now();
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    stream.write_all(first).await.unwrap();
    let mut buf = [0u8; 1024];
    let mut tick = tokio::time::interval(Duration::from_millis(300));
    loop {
        assert!(started.elapsed() < Duration::from_secs(10), "the half-open connection is still open");
        tokio::select! {
            read = stream.read(&mut buf) => match read {
                Ok(0) | Err(_) => return started.elapsed(),
                Ok(_) => {}
            },
            _ = tick.tick(), if trickle => {
                if stream.write_all(b"X-Slow: 1\r\n").await.is_err() {
                    return started.elapsed();
                }
            }
            () = tokio::time::sleep(Duration::from_millis(300)), if !trickle => {}
        }
    }
}

async fn slowloris(backend: Backend) {
    let app = spawn_with(backend, |s| s.limits.header_read_timeout_secs = 2).await;
    // Headers trickling in forever, and a connection that never says anything: both are
    // closed once the 2 s header read timeout passes.
    let (slow, idle) = tokio::join!(
        until_closed(&app, b"POST /graphql HTTP/1.1\r\nHost: shipgate\r\n", true),
        until_closed(&app, b"", false),
    );
    for took in [slow, idle] {
        assert!(took >= Duration::from_millis(1500) && took < Duration::from_secs(6), "closed after {took:?}");
    }
    // Ordinary requests are served as before.
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
}
