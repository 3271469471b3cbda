//! AliExpress, Wish and Amazon end to end over real HTTP against their sandbox fakes:
//! the seller's consent (bringing their own app where the platform works that way),
//! paged download, idempotent re-download, changed orders, 429 + Retry-After, malformed
//! pages and revoked consent.

use std::time::{Duration, Instant};

use entity::order;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{Backend, Session, TestApp, spawn_app};

/// Runs `$body` with the fake of `$platform` bound to `$f`.
macro_rules! with_fake {
    ($app:expr, $platform:expr, |$f:ident| $body:expr) => {{
        let sb = $app.state.services.sandbox.as_ref().unwrap();
        match $platform {
            "ALIEXPRESS" => {
                let $f = sb.aliexpress.clone();
                $body
            }
            "WISH" => {
                let $f = sb.wish.clone();
                $body
            }
            "AMAZON" => {
                let $f = sb.amazon.clone();
                $body
            }
            other => panic!("no fake for {other}"),
        }
    }};
}

const START: &str = "mutation($p: Platform!, $n: String!) { startAccountAuthorization(input: { platform: $p, name: $n }) { account { id status } authorizationUrl redirectUrl userErrors { code field message } } }";
const REAUTH: &str = "mutation($id: ID!, $k: String, $s: String) { reauthorizeAccount(input: { id: $id, appKey: $k, appSecret: $s }) { authorizationUrl redirectUrl userErrors { code field message } } }";
const DOWNLOAD: &str = "mutation($ids: [ID!]!) { downloadOrders(input: { accountIds: $ids }) { jobs { id } userErrors { code message } } }";
const JOB: &str = "query($id: ID!) { node(id: $id) { ... on Job { status lastError progress } } }";
const ACCOUNT: &str = "query($id: ID!) { node(id: $id) { ... on Account { status externalAccountId lastSyncError needsReauthorizationSoon } } }";

fn attr(tag: &str, name: &str) -> Option<String> {
    let needle = format!("{name}=\"");
    let start = tag.find(&needle)? + needle.len();
    let end = tag[start..].find('"')?;
    Some(
        tag[start..start + end].replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"),
    )
}

/// Loads a consent page, presses its "I Agree" button and returns the redirect target.
pub(crate) async fn agree(browser: &reqwest::Client, consent_url: &str) -> String {
    let page = browser.get(consent_url).send().await.unwrap();
    assert_eq!(page.status(), 200, "consent page {consent_url}");
    let html = page.text().await.unwrap();
    let form_start = html.find("<form").expect("a form");
    let form_tag = &html[form_start..form_start + html[form_start..].find('>').unwrap()];
    let action = attr(form_tag, "action").unwrap_or_default();
    let action_url = reqwest::Url::parse(consent_url).unwrap().join(&action).unwrap();
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut rest = &html[form_start..];
    while let Some(i) = rest.find("<input") {
        let tag = &rest[i..i + rest[i..].find('>').unwrap()];
        if let (Some(n), Some(v)) = (attr(tag, "name"), attr(tag, "value"))
            && attr(tag, "type").as_deref() != Some("submit")
        {
            fields.push((n, v));
        }
        rest = &rest[i + 6..];
    }
    // The "I Agree" control: a <button name value> or an <input type=submit>.
    let agree_at = html.find("I Agree").expect("an I Agree button");
    let tag_start = html[..agree_at].rfind('<').unwrap();
    let tag = &html[tag_start..agree_at];
    if let (Some(n), Some(v)) = (attr(tag, "name"), attr(tag, "value")) {
        fields.push((n, v));
    }
    let resp = browser.post(action_url).form(&fields).send().await.unwrap();
    assert!(resp.status().is_redirection(), "consent answered {}", resp.status());
    resp.headers()["location"].to_str().unwrap().to_owned()
}

/// Connects an account of `platform` like a seller does, and finishes it as the SPA does:
/// `completeAccountAuthorization` with the user's token.
pub(crate) async fn connect(app: &TestApp, s: &Session, platform: &str) -> String {
    let (account_id, callback) = consent(app, s, platform).await;
    let fields = crate::oauth_binding::callback_page(app, &callback).await;
    let done = crate::oauth_binding::complete(app, s, &fields).await;
    assert_eq!(done["data"]["completeAccountAuthorization"]["userErrors"], json!([]), "{done}");
    let acc = app.gql(ACCOUNT, json!({ "id": account_id }), Some(&s.access)).await;
    assert_eq!(acc["data"]["node"]["status"], "ACTIVE", "{acc}");
    account_id
}

/// Starts an authorization of `platform` as `s` (registering the seller's own app where
/// the platform works that way) and presses "I Agree": (account id, callback URL).
pub(crate) async fn consent(app: &TestApp, s: &Session, platform: &str) -> (String, String) {
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let body = app.gql(START, json!({ "p": platform, "n": format!("{platform} store") }), Some(&s.access)).await;
    let p = body["data"]["startAccountAuthorization"].clone();
    assert_eq!(p["userErrors"], json!([]), "{body}");
    let account_id = p["account"]["id"].as_str().unwrap().to_owned();
    let consent_url = if platform == "AMAZON" {
        p["authorizationUrl"].as_str().unwrap().to_owned()
    } else {
        // The seller creates their own app with the redirect URL shown, then sends its key.
        assert!(p["authorizationUrl"].is_null());
        let redirect = p["redirectUrl"].as_str().unwrap();
        let portal = app.url(&format!("/sandbox/{}/portal/apps", platform.to_lowercase()));
        let created: Value =
            browser.post(portal).json(&json!({ "redirect_uri": redirect })).send().await.unwrap().json().await.unwrap();
        let body = app
            .gql(
                REAUTH,
                json!({ "id": account_id, "k": created["client_id"], "s": created["client_secret"] }),
                Some(&s.access),
            )
            .await;
        assert_eq!(body["data"]["reauthorizeAccount"]["userErrors"], json!([]), "{body}");
        assert_eq!(
            body["data"]["reauthorizeAccount"]["redirectUrl"],
            json!(redirect),
            "the registered URL stays valid"
        );
        body["data"]["reauthorizeAccount"]["authorizationUrl"].as_str().unwrap().to_owned()
    };
    let callback = agree(&browser, &consent_url).await;
    assert!(callback.starts_with(&app.url(&format!("/oauth/callback/{}", platform.to_lowercase()))), "{callback}");
    (account_id, callback)
}

pub(crate) async fn download(app: &TestApp, s: &Session, account_id: &str) -> Value {
    let body = app.gql(DOWNLOAD, json!({ "ids": [account_id] }), Some(&s.access)).await;
    assert_eq!(body["data"]["downloadOrders"]["userErrors"], json!([]), "{body}");
    let job_id = body["data"]["downloadOrders"]["jobs"][0]["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let job = app.gql(JOB, json!({ "id": job_id }), Some(&s.access)).await["data"]["node"].clone();
        if job["status"] == "SUCCEEDED" || job["status"] == "FAILED" {
            return job;
        }
        assert!(Instant::now() < deadline, "job stuck: {job}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn orders_of(app: &TestApp) -> u64 {
    order::Entity::find().count(&app.state.services.db).await.unwrap()
}

async fn full_cycle(backend: Backend, platform: &'static str) {
    let app = spawn_app(backend).await;
    let s = app.sign_up("Seller", "seller@example.com").await;
    let account_id = connect(&app, &s, platform).await;

    let job = download(&app, &s, &account_id).await;
    assert_eq!(job["status"], "SUCCEEDED", "{platform}: {job}");
    assert!(job["progress"]["pages"].as_u64().unwrap() >= 3, "{platform} pages: {job}");
    assert_eq!(job["progress"]["new"], 250, "{platform}: {job}");
    assert_eq!(orders_of(&app).await, 250);
    let sample = app
        .gql("{ orders(first: 5, filter: { destinationCountry: \"JP\" }) { edges { node { recipient { name line1 } items { quantity } } } } }", json!({}), Some(&s.access))
        .await;
    let first = &sample["data"]["orders"]["edges"][0]["node"];
    assert_eq!(first["recipient"]["name"], "山田 太郎", "{platform}: {sample}");
    assert!(!first["items"].as_array().unwrap().is_empty());

    let again = download(&app, &s, &account_id).await;
    assert_eq!(
        (again["progress"]["new"].clone(), again["progress"]["updated"].clone()),
        (json!(0), json!(0)),
        "{platform}: {again}"
    );

    with_fake!(app, platform, |f| f.touch_orders(5, "SHIPPED"));
    let changed = download(&app, &s, &account_id).await;
    assert_eq!(changed["progress"]["updated"], 5, "{platform}: {changed}");
    let shipped = order::Entity::find()
        .filter(order::Column::PlatformStatus.eq("SHIPPED"))
        .count(&app.state.services.db)
        .await
        .unwrap();
    assert!(shipped >= 5, "{platform}");

    // The access token expires on the provider's side: refreshed exactly once, download continues.
    with_fake!(app, platform, |f| f.expire_access_tokens());
    let before = with_fake!(app, platform, |f| *f.token_calls.lock().unwrap());
    let job = download(&app, &s, &account_id).await;
    assert_eq!(job["status"], "SUCCEEDED", "{platform}: {job}");
    assert_eq!(with_fake!(app, platform, |f| *f.token_calls.lock().unwrap()) - before, 1, "{platform}: one refresh");

    // 100 concurrent callers on an expired token: exactly one token request.
    with_fake!(app, platform, |f| f.expire_access_tokens());
    entity::account::Entity::update_many()
        .col_expr(
            entity::account::Column::AccessTokenExpiresAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now() - chrono::Duration::minutes(1)),
        )
        .exec(&app.state.services.db)
        .await
        .unwrap();
    let before = with_fake!(app, platform, |f| *f.token_calls.lock().unwrap());
    let uuid = {
        use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
        let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(&account_id).unwrap()).unwrap();
        uuid::Uuid::parse_str(raw.split_once(':').unwrap().1).unwrap()
    };
    let mut handles = Vec::new();
    for _ in 0..100 {
        let accounts = app.state.services.accounts.clone();
        handles.push(tokio::spawn(async move { accounts.access_token(uuid, false).await.map(|_| ()) }));
    }
    for h in handles {
        h.await.unwrap().unwrap();
    }
    assert_eq!(with_fake!(app, platform, |f| *f.token_calls.lock().unwrap()) - before, 1, "{platform}: single-flight");

    // 429 + Retry-After: 1 twice → the download still succeeds, after waiting.
    with_fake!(app, platform, |f| *f.throttle_next.lock().unwrap() = 2);
    let started = Instant::now();
    let job = download(&app, &s, &account_id).await;
    assert_eq!(job["status"], "SUCCEEDED", "{platform}: {job}");
    assert!(started.elapsed() >= Duration::from_secs(2), "{platform}: Retry-After honoured");

    // A malformed page fails the job; nothing partial.
    with_fake!(app, platform, |f| f.touch_orders(3, "CHANGED_AGAIN"));
    with_fake!(app, platform, |f| *f.malformed_next.lock().unwrap() = true);
    let job = download(&app, &s, &account_id).await;
    assert_eq!(job["status"], "FAILED", "{platform}: {job}");
    assert!(
        job["lastError"].as_str().unwrap_or_default().contains("unexpected provider response"),
        "{platform}: {job}"
    );
    let changed_again = order::Entity::find()
        .filter(order::Column::PlatformStatus.eq("CHANGED_AGAIN"))
        .count(&app.state.services.db)
        .await
        .unwrap();
    assert_eq!(changed_again, 0, "{platform}: nothing written from the bad page");

    // The seller revokes consent; the access token expires: NEEDS_REAUTHORIZATION.
    with_fake!(app, platform, |f| {
        f.revoke_all();
        f.expire_access_tokens();
    });
    entity::account::Entity::update_many()
        .col_expr(
            entity::account::Column::AccessTokenExpiresAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now() - chrono::Duration::minutes(1)),
        )
        .exec(&app.state.services.db)
        .await
        .unwrap();
    let job = download(&app, &s, &account_id).await;
    assert_eq!(job["status"], "FAILED", "{platform}: {job}");
    let acc = app.gql(ACCOUNT, json!({ "id": account_id }), Some(&s.access)).await["data"]["node"].clone();
    assert_eq!(acc["status"], "NEEDS_REAUTHORIZATION", "{platform}: {acc} {job}");
    assert!(acc["lastSyncError"].as_str().unwrap_or_default().contains("reauthorize"), "{platform}: {acc}");

    // No secret in the logs.
    let logs = crate::helpers::captured_logs();
    for secret in with_fake!(app, platform, |f| f.issued_secrets()) {
        assert!(!logs.contains(&secret), "{platform}: a secret was logged");
    }
}

macro_rules! platform_tests {
    ($($name:ident => $platform:literal),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::full_cycle(crate::helpers::Backend::Sqlite, $platform).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::full_cycle(crate::helpers::Backend::Postgres, $platform).await;
                }
            }
        )*
    };
}

platform_tests!(aliexpress => "ALIEXPRESS", wish => "WISH", amazon => "AMAZON");

/// AliExpress apps on the legacy signature (`sign_method=md5`) work end to end too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliexpress_legacy_md5_signing() {
    let app = crate::helpers::spawn_with(Backend::Sqlite, |s| s.aliexpress_md5 = true).await;
    let s = app.sign_up("Seller", "seller@example.com").await;
    let account_id = connect(&app, &s, "ALIEXPRESS").await;
    let job = download(&app, &s, &account_id).await;
    assert_eq!(job["status"], "SUCCEEDED", "{job}");
    assert_eq!(job["progress"]["new"], 250);
}
