//! eBay end to end over real HTTP: consent page → callback → ACTIVE account, paged
//! download from the fake eBay into the database, idempotent re-download, token refresh
//! mid-download and under concurrency, 429 + Retry-After, revoked consent, malformed
//! pages, credential binding and log secrecy.

use std::time::{Duration, Instant};

use entity::{account, order};
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, Set};
use serde_json::{Value, json};

use crate::{
    db_tests,
    helpers::{Session, TestApp, captured_logs},
};

db_tests!(ebay_connect_and_download, ebay_token_refresh_and_faults, ebay_revoked_and_malformed);

const START: &str = "mutation($n: String!) { startAccountAuthorization(input: { platform: EBAY, name: $n }) { account { id status } authorizationUrl userErrors { code message } } }";
const DOWNLOAD: &str = "mutation($ids: [ID!]!) { downloadOrders(input: { accountIds: $ids }) { jobs { id status } userErrors { code message } } }";
const JOB: &str = "query($id: ID!) { node(id: $id) { ... on Job { status attempts lastError progress } } }";
const ACCOUNT: &str = "query($id: ID!) { node(id: $id) { ... on Account { status hasCredentials accessTokenExpiresAt refreshTokenExpiresAt needsReauthorizationSoon lastSyncedAt lastSyncError syncWatermark } } }";

/// Connects an eBay account through the fake's consent page, like a seller would.
async fn connect(app: &TestApp, s: &Session, name: &str) -> String {
    let body = app.gql(START, json!({ "n": name }), Some(&s.access)).await;
    let p = &body["data"]["startAccountAuthorization"];
    assert_eq!(p["userErrors"], json!([]), "{body}");
    assert_eq!(p["account"]["status"], "PENDING_AUTHORIZATION");
    let account_id = p["account"]["id"].as_str().unwrap().to_owned();
    let url = p["authorizationUrl"].as_str().unwrap().to_owned();
    assert!(url.contains("redirect_uri=Shipgate_Sandbox-Shipgate-SBX-RuName"), "{url}");

    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = browser.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("I Agree"));
    let field = |name: &str| {
        let marker = format!("name=\"{name}\" value=\"");
        let start = html.find(&marker).unwrap() + marker.len();
        html[start..start + html[start..].find('"').unwrap()].to_owned()
    };
    let consent_url = url.split("/oauth2/authorize").next().unwrap().to_owned() + "/oauth2/consent";
    let agreed = browser
        .post(consent_url)
        .form(&[("client_id", field("client_id")), ("state", field("state")), ("decision", "agree".into())])
        .send()
        .await
        .unwrap();
    assert_eq!(agreed.status(), 303, "{:?}", agreed.text().await);
    let callback = agreed.headers()["location"].to_str().unwrap().to_owned();
    assert!(callback.starts_with(&app.url("/oauth/callback/ebay")), "{callback}");
    let done = browser.get(&callback).send().await.unwrap();
    assert_eq!(done.status(), 200);
    assert!(done.text().await.unwrap().contains("Account connected"));
    // The callback is single-use.
    assert_eq!(browser.get(&callback).send().await.unwrap().status(), 400);
    account_id
}

async fn wait_job(app: &TestApp, s: &Session, job_id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let body = app.gql(JOB, json!({ "id": job_id }), Some(&s.access)).await;
        let job = body["data"]["node"].clone();
        if job["status"] == "SUCCEEDED" || job["status"] == "FAILED" {
            return job;
        }
        assert!(Instant::now() < deadline, "job did not finish: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn download(app: &TestApp, s: &Session, account_id: &str) -> Value {
    let body = app.gql(DOWNLOAD, json!({ "ids": [account_id] }), Some(&s.access)).await;
    assert_eq!(body["data"]["downloadOrders"]["userErrors"], json!([]), "{body}");
    let job_id = body["data"]["downloadOrders"]["jobs"][0]["id"].as_str().unwrap().to_owned();
    wait_job(app, s, &job_id).await
}

async fn order_count(app: &TestApp) -> u64 {
    order::Entity::find().count(&app.state.services.db).await.unwrap()
}

async fn ebay_connect_and_download(app: TestApp) {
    let s = app.sign_up("Seller", "seller@example.com").await;
    let account_id = connect(&app, &s, "My eBay store").await;
    let acc = app.gql(ACCOUNT, json!({ "id": account_id }), Some(&s.access)).await["data"]["node"].clone();
    assert_eq!(acc["status"], "ACTIVE");
    assert_eq!(acc["hasCredentials"], true);
    assert!(acc["accessTokenExpiresAt"].is_string() && acc["refreshTokenExpiresAt"].is_string());
    assert_eq!(acc["needsReauthorizationSoon"], false);

    // 250 sandbox orders at 100 a page: 3 pages.
    let job = download(&app, &s, &account_id).await;
    assert_eq!(job["status"], "SUCCEEDED", "{job}");
    assert_eq!(job["progress"]["pages"], 3, "{job}");
    assert_eq!(job["progress"]["new"], 250);
    assert_eq!(job["progress"]["done"], true);
    assert_eq!(order_count(&app).await, 250);

    // Orders read back with lines and account, special characters intact.
    let list = app
        .gql(
            "{ orders(first: 40, filter: { search: \"Seán O'Brien\" }) { totalCount edges { node { platformOrderId recipient { name line1 countryCode } items { platformSku quantity unitPriceMinor } account { name } total { amountMinor currency } } } } }",
            json!({}),
            Some(&s.access),
        )
        .await;
    let conn = &list["data"]["orders"];
    assert!(conn["totalCount"].as_u64().is_some_and(|n| n > 10), "{list}");
    let first = &conn["edges"][0]["node"];
    assert_eq!(first["recipient"]["line1"], "12 O'Connell St");
    assert_eq!(first["account"]["name"], "My eBay store");
    assert!(!first["items"].as_array().unwrap().is_empty());
    let cjk = app.gql("{ orders(first: 5, filter: { destinationCountry: \"jp\" }) { edges { node { recipient { name city } } } } }", json!({}), Some(&s.access)).await;
    assert_eq!(cjk["data"]["orders"]["edges"][0]["node"]["recipient"]["name"], "山田 太郎", "{cjk}");

    // Re-download: nothing changes.
    let again = download(&app, &s, &account_id).await;
    assert_eq!(again["status"], "SUCCEEDED");
    assert_eq!(again["progress"]["new"], 0, "{again}");
    assert_eq!(again["progress"]["updated"], 0, "{again}");
    assert_eq!(order_count(&app).await, 250);

    // Five orders change on eBay: exactly those are updated.
    let fake = app.state.services.sandbox.as_ref().unwrap().ebay.clone();
    fake.touch_orders(5, "IN_PROGRESS");
    let changed = download(&app, &s, &account_id).await;
    assert_eq!(changed["progress"]["updated"], 5, "{changed} {again}");
    assert_eq!(changed["progress"]["new"], 0);
    use sea_orm::{ColumnTrait, QueryFilter};
    let n = order::Entity::find()
        .filter(order::Column::PlatformStatus.eq("IN_PROGRESS"))
        .count(&app.state.services.db)
        .await
        .unwrap();
    assert_eq!(n, 5);

    // Another tenant sees none of it.
    let other = app.sign_up("Other", "other@example.com").await;
    let theirs = app.gql("{ orders { totalCount } accounts { totalCount } }", json!({}), Some(&other.access)).await;
    assert_eq!(theirs["data"]["orders"]["totalCount"], 0);
    assert_eq!(theirs["data"]["accounts"]["totalCount"], 0);
    let foreign = app.gql(DOWNLOAD, json!({ "ids": [account_id] }), Some(&other.access)).await;
    assert_eq!(crate::helpers::code(&foreign), "NOT_FOUND");
}

async fn ebay_token_refresh_and_faults(app: TestApp) {
    let s = app.sign_up("Seller", "seller@example.com").await;
    let account_id = connect(&app, &s, "Store").await;
    let fake = app.state.services.sandbox.as_ref().unwrap().ebay.clone();
    let uuid = decode(&account_id);

    // Token expires mid-download (after the first page): refreshed once, download completes.
    fake.expire_access_tokens();
    let before = *fake.token_calls.lock().unwrap();
    let job = download(&app, &s, &account_id).await;
    assert_eq!(job["status"], "SUCCEEDED", "{job}");
    assert_eq!(*fake.token_calls.lock().unwrap() - before, 1, "exactly one refresh");

    // 100 concurrent callers on an expired token: one token request.
    fake.expire_access_tokens();
    account::Entity::update_many()
        .col_expr(
            account::Column::AccessTokenExpiresAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now() - chrono::Duration::minutes(1)),
        )
        .exec(&app.state.services.db)
        .await
        .unwrap();
    let before = *fake.token_calls.lock().unwrap();
    let mut handles = Vec::new();
    for _ in 0..100 {
        let accounts = app.state.services.accounts.clone();
        handles.push(tokio::spawn(async move { accounts.access_token(uuid, false).await.map(|_| ()) }));
    }
    for h in handles {
        h.await.unwrap().unwrap();
    }
    assert_eq!(*fake.token_calls.lock().unwrap() - before, 1, "single-flight refresh");

    // 429 with Retry-After: 1 → waited for and retried; the download succeeds.
    *fake.throttle_next.lock().unwrap() = 2;
    let started = Instant::now();
    let job = download(&app, &s, &account_id).await;
    assert_eq!(job["status"], "SUCCEEDED", "{job}");
    assert!(started.elapsed() >= Duration::from_secs(2), "Retry-After honoured");

    // No secret reached the logs.
    let logs = captured_logs();
    assert!(!logs.is_empty());
    for secret in fake.issued_secrets().iter().chain([&api::sandbox::ebay::SANDBOX_CLIENT_SECRET.to_owned()]) {
        assert!(!logs.contains(secret.as_str()), "a secret was logged");
    }

    // A ciphertext copied into another tenant's account does not open.
    let other = app.sign_up("Other", "other@example.com").await;
    let other_account = connect(&app, &other, "Theirs").await;
    let mine = account::Entity::find_by_id(uuid).one(&app.state.services.db).await.unwrap().unwrap();
    let theirs =
        account::Entity::find_by_id(decode(&other_account)).one(&app.state.services.db).await.unwrap().unwrap();
    let mut moved: account::ActiveModel = theirs.into();
    moved.credentials_ciphertext = Set(mine.credentials_ciphertext.clone());
    moved.credentials_nonce = Set(mine.credentials_nonce.clone());
    moved.access_token_expires_at = Set(mine.access_token_expires_at);
    let moved = moved.update(&app.state.services.db).await.unwrap();
    assert!(app.state.services.accounts.access_token(moved.id, false).await.is_err());
    assert!(app.state.services.accounts.access_token(uuid, false).await.is_ok());
}

async fn ebay_revoked_and_malformed(app: TestApp) {
    let s = app.sign_up("Seller", "seller@example.com").await;
    let account_id = connect(&app, &s, "Store").await;
    let fake = app.state.services.sandbox.as_ref().unwrap().ebay.clone();

    // A malformed page fails the job with a clear message and writes nothing.
    *fake.malformed_at_offset.lock().unwrap() = Some(0);
    let job = download(&app, &s, &account_id).await;
    assert_eq!(job["status"], "FAILED", "{job}");
    assert!(job["lastError"].as_str().unwrap().contains("unexpected provider response"), "{job}");
    assert_eq!(order_count(&app).await, 0);
    *fake.malformed_at_offset.lock().unwrap() = None;

    // The seller revokes consent: the account turns NEEDS_REAUTHORIZATION with a message.
    fake.revoke_all();
    account::Entity::update_many()
        .col_expr(
            account::Column::AccessTokenExpiresAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now() - chrono::Duration::minutes(1)),
        )
        .exec(&app.state.services.db)
        .await
        .unwrap();
    let job = download(&app, &s, &account_id).await;
    assert_eq!(job["status"], "FAILED", "{job}");
    let acc = app.gql(ACCOUNT, json!({ "id": account_id }), Some(&s.access)).await["data"]["node"].clone();
    assert_eq!(acc["status"], "NEEDS_REAUTHORIZATION", "{acc}");
    assert_eq!(acc["needsReauthorizationSoon"], true);
    assert!(acc["lastSyncError"].as_str().unwrap().contains("reauthorize"), "{acc}");
    // Downloads are refused until the seller reauthorizes.
    let refused = app.gql(DOWNLOAD, json!({ "ids": [account_id] }), Some(&s.access)).await;
    assert_eq!(refused["data"]["downloadOrders"]["userErrors"][0]["code"], "INVALID_STATE", "{refused}");
}

fn decode(global: &str) -> uuid::Uuid {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(global).unwrap()).unwrap();
    uuid::Uuid::parse_str(raw.split_once(':').unwrap().1).unwrap()
}
