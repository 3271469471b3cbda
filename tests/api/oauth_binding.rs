//! Issue 17 item 9: a consent round is bound to the user who started it. The callback
//! completes nothing by itself; it hands `state` and `code` to the SPA (or shows them on a
//! page), and only the starting user's `completeAccountAuthorization` finishes it. A
//! forwarded consent link completed by anyone else (another organization, another user
//! of the same one, an API key) is NOT_FOUND and changes nothing; expired and used rounds
//! are typed user errors; Wish's stable state is rebound by each new round.

use entity::account;
use sea_orm::{EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::{
    db_tests,
    helpers::{Backend, Session, TestApp, code, spawn_with},
};

db_tests!(oauth_forwarded_link_refused, oauth_wish_rebinds_each_round, oauth_expired_used_and_declined);

const COMPLETE: &str = "mutation($i: CompleteAccountAuthorizationInput!) { completeAccountAuthorization(input: $i) { account { id status name hasCredentials } userErrors { code field message } } }";
const ACCOUNT: &str =
    "query($id: ID!) { node(id: $id) { ... on Account { status hasCredentials externalAccountId lastSyncError } } }";
const ACCOUNTS: &str = "{ accounts(first: 50) { edges { node { id platform status } } } }";
const REAUTH: &str = "mutation($id: ID!) { reauthorizeAccount(input: { id: $id }) { authorizationUrl redirectUrl userErrors { code field message } } }";
const API_KEY: &str =
    "mutation($n: String!) { createApiKey(input: { name: $n, role: ADMIN }) { secret userErrors { code message } } }";

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

/// The value of `<input id="{id}" … value="…">` on the callback page.
fn input_value(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let tag_end = at + html[at..].find('>')?;
    let tag = &html[at..tag_end];
    let start = tag.find("value=\"")? + "value=\"".len();
    let end = tag[start..].find('"')?;
    Some(unescape(&tag[start..start + end]))
}

/// Opens the callback URL the platform redirected to, as the browser does on a server
/// without an SPA: the page shows what the SPA would get. Returns the
/// `CompleteAccountAuthorizationInput` to send.
pub(crate) async fn callback_page(app: &TestApp, callback: &str) -> Value {
    assert!(callback.starts_with(&app.url("/oauth/callback/")), "{callback}");
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let resp = browser.get(callback).send().await.unwrap();
    let status = resp.status();
    assert_eq!(resp.headers()["referrer-policy"], "no-referrer");
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let csp = resp.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'nonce-"), "{csp}");
    let html = resp.text().await.unwrap();
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Finish connecting"), "{html}");
    let mut input = json!({
        "platform": input_value(&html, "platform").expect("platform"),
        "state": input_value(&html, "state").expect("state"),
        "code": input_value(&html, "code").expect("code"),
    });
    if let Some(id) = input_value(&html, "sellingPartnerId") {
        input["sellingPartnerId"] = json!(id);
    }
    input
}

/// `completeAccountAuthorization` as `s` (what the SPA or the callback page sends).
pub(crate) async fn complete(app: &TestApp, s: &Session, input: &Value) -> Value {
    app.gql(COMPLETE, json!({ "i": input }), Some(&s.access)).await
}

async fn complete_with(app: &TestApp, bearer: &str, input: &Value) -> Value {
    app.gql(COMPLETE, json!({ "i": input }), Some(bearer)).await
}

async fn account_of(app: &TestApp, s: &Session, id: &str) -> Value {
    app.gql(ACCOUNT, json!({ "id": id }), Some(&s.access)).await["data"]["node"].clone()
}

async fn accounts_of(app: &TestApp, s: &Session) -> Vec<Value> {
    let body = app.gql(ACCOUNTS, json!({}), Some(&s.access)).await;
    body["data"]["accounts"]["edges"].as_array().unwrap_or_else(|| panic!("{body}")).clone()
}

fn ebay_token_calls(app: &TestApp) -> u32 {
    *app.state.services.sandbox.as_ref().unwrap().ebay.token_calls.lock().unwrap()
}

fn wish_token_calls(app: &TestApp) -> u32 {
    *app.state.services.sandbox.as_ref().unwrap().wish.token_calls.lock().unwrap()
}

/// Seller A starts an eBay authorization and forwards the consent link; the link is
/// completed by seller B (another organization), by another ADMIN of A's organization and
/// by an ADMIN API key of A's organization: all refused exactly like an unknown state, no
/// code is spent, A's account stays pending and B's organization gets nothing. Then A
/// completes it, once.
async fn oauth_forwarded_link_refused(app: TestApp) {
    let a = app.sign_up("Org A", "a@example.com").await;
    let a2 = app.add_user(&a, "a2@example.com", "ADMIN").await;
    let b = app.sign_up("Org B", "b@example.com").await;
    let key = app.gql(API_KEY, json!({ "n": "integration" }), Some(&a.access)).await;
    let key = key["data"]["createApiKey"]["secret"].as_str().unwrap_or_else(|| panic!("{key}")).to_owned();

    let (account_id, callback) = crate::ebay::consent(&app, &a, "A's eBay store").await;
    let calls = ebay_token_calls(&app);
    let input = callback_page(&app, &callback).await;
    assert_eq!(input["platform"], "EBAY");
    // Opening the callback completes nothing by itself.
    assert_eq!(account_of(&app, &a, &account_id).await["status"], "PENDING_AUTHORIZATION");

    for (who, bearer) in [
        ("another organization", b.access.as_str()),
        ("another user of the same organization", a2.access.as_str()),
        ("an API key of the same organization", key.as_str()),
    ] {
        let body = complete_with(&app, bearer, &input).await;
        assert_eq!(code(&body), "NOT_FOUND", "{who}: {body}");
        assert!(body["data"].is_null() || body["data"]["completeAccountAuthorization"].is_null(), "{who}: {body}");
    }
    // An unknown state answers the same.
    let mut unknown = input.clone();
    unknown["state"] = json!("0".repeat(48));
    assert_eq!(code(&complete(&app, &a, &unknown).await), "NOT_FOUND");

    // Nothing happened: no code exchanged, A's account pending without credentials, B's
    // organization without accounts, one account in the database (A's).
    assert_eq!(ebay_token_calls(&app), calls, "no code was spent");
    let acc = account_of(&app, &a, &account_id).await;
    assert_eq!(acc["status"], "PENDING_AUTHORIZATION", "{acc}");
    assert_eq!(acc["hasCredentials"], false, "{acc}");
    assert!(accounts_of(&app, &b).await.is_empty());
    let rows = account::Entity::find().all(&app.state.services.db).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].credentials_ciphertext.is_none() && rows[0].access_token_expires_at.is_none());

    // The user who started it finishes it, once.
    let done = complete(&app, &a, &input).await;
    let p = &done["data"]["completeAccountAuthorization"];
    assert_eq!(p["userErrors"], json!([]), "{done}");
    assert_eq!(
        (p["account"]["id"].as_str(), p["account"]["status"].as_str()),
        (Some(account_id.as_str()), Some("ACTIVE"))
    );
    assert_eq!(p["account"]["hasCredentials"], true);
    assert_eq!(ebay_token_calls(&app), calls + 1, "one code exchange");
    let again = complete(&app, &a, &input).await;
    assert_eq!(again["data"]["completeAccountAuthorization"]["userErrors"][0]["code"], "AUTHORIZATION_USED", "{again}");
    assert_eq!(again["data"]["completeAccountAuthorization"]["userErrors"][0]["field"], json!(["input", "state"]));
    // A used round is not revealed to anyone else either.
    assert_eq!(code(&complete(&app, &b, &input).await), "NOT_FOUND");
    assert_eq!(code(&complete(&app, &a2, &input).await), "NOT_FOUND");
    assert_eq!(ebay_token_calls(&app), calls + 1);
    assert!(accounts_of(&app, &b).await.is_empty());
    assert_eq!(accounts_of(&app, &a).await.len(), 1);
}

/// Wish keeps one state per account (it is in the redirect URL the seller registered):
/// the binding moves with each new round, to whoever started it.
async fn oauth_wish_rebinds_each_round(app: TestApp) {
    let a = app.sign_up("Org A", "a@example.com").await;
    let a2 = app.add_user(&a, "a2@example.com", "ADMIN").await;
    let b = app.sign_up("Org B", "b@example.com").await;

    let (account_id, callback) = crate::marketplaces::consent(&app, &a, "WISH").await;
    let input = callback_page(&app, &callback).await;
    assert_eq!(input["platform"], "WISH");
    let calls = wish_token_calls(&app);
    assert_eq!(code(&complete(&app, &b, &input).await), "NOT_FOUND");
    assert_eq!(code(&complete(&app, &a2, &input).await), "NOT_FOUND");
    assert_eq!(wish_token_calls(&app), calls);
    assert_eq!(account_of(&app, &a, &account_id).await["status"], "PENDING_AUTHORIZATION");
    assert!(accounts_of(&app, &b).await.is_empty());
    let done = complete(&app, &a, &input).await;
    assert_eq!(done["data"]["completeAccountAuthorization"]["userErrors"], json!([]), "{done}");
    assert_eq!(done["data"]["completeAccountAuthorization"]["account"]["status"], "ACTIVE");
    let again = complete(&app, &a, &input).await;
    assert_eq!(again["data"]["completeAccountAuthorization"]["userErrors"][0]["code"], "AUTHORIZATION_USED", "{again}");

    // The other ADMIN starts a new round: same state (the registered URL stays valid),
    // now bound to them.
    let body = app.gql(REAUTH, json!({ "id": account_id }), Some(&a2.access)).await;
    let p = &body["data"]["reauthorizeAccount"];
    assert_eq!(p["userErrors"], json!([]), "{body}");
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let callback2 = crate::marketplaces::agree(&browser, p["authorizationUrl"].as_str().unwrap()).await;
    let input2 = callback_page(&app, &callback2).await;
    assert_eq!(input2["state"], input["state"], "Wish's state is stable");
    assert_ne!(input2["code"], input["code"]);
    let calls = wish_token_calls(&app);
    assert_eq!(code(&complete(&app, &a, &input2).await), "NOT_FOUND", "the round is a2's now");
    assert_eq!(code(&complete(&app, &b, &input2).await), "NOT_FOUND");
    assert_eq!(wish_token_calls(&app), calls);
    let done = complete(&app, &a2, &input2).await;
    assert_eq!(done["data"]["completeAccountAuthorization"]["userErrors"], json!([]), "{done}");
    assert_eq!(done["data"]["completeAccountAuthorization"]["account"]["status"], "ACTIVE");
    assert_eq!(wish_token_calls(&app), calls + 1);
}

/// An expired round is AUTHORIZATION_EXPIRED (nothing spent, account pending) until a new
/// round is started; a declined consent shows the failure page.
async fn oauth_expired_used_and_declined(app: TestApp) {
    let a = app.sign_up("Org A", "a@example.com").await;
    let (account_id, callback) = crate::ebay::consent(&app, &a, "Late store").await;
    let input = callback_page(&app, &callback).await;
    account::Entity::update_many()
        .col_expr(
            account::Column::OauthStateExpiresAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now() - chrono::Duration::minutes(1)),
        )
        .filter(sea_orm::ColumnTrait::is_not_null(&account::Column::OauthStateExpiresAt))
        .exec(&app.state.services.db)
        .await
        .unwrap();
    let calls = ebay_token_calls(&app);
    let late = complete(&app, &a, &input).await;
    let errs = &late["data"]["completeAccountAuthorization"]["userErrors"];
    assert_eq!(errs[0]["code"], "AUTHORIZATION_EXPIRED", "{late}");
    assert_eq!(errs[0]["field"], json!(["input", "state"]));
    assert_eq!(ebay_token_calls(&app), calls);
    assert_eq!(account_of(&app, &a, &account_id).await["status"], "PENDING_AUTHORIZATION");

    // A new round (new state) completes; the expired one stays dead.
    let body = app.gql(REAUTH, json!({ "id": account_id }), Some(&a.access)).await;
    let p = &body["data"]["reauthorizeAccount"];
    assert_eq!(p["userErrors"], json!([]), "{body}");
    let callback2 = crate::ebay::agree(p["authorizationUrl"].as_str().unwrap(), "agree").await;
    let input2 = callback_page(&app, &callback2).await;
    assert_ne!(input2["state"], input["state"]);
    assert_eq!(code(&complete(&app, &a, &input).await), "NOT_FOUND", "the old state no longer names a round");
    // Hostile values are refused cleanly and spend nothing.
    for bad in [
        json!({ "platform": "EBAY", "state": "ab\u{0}cd", "code": "x" }),
        json!({ "platform": "EBAY", "state": "x".repeat(100_000), "code": "x" }),
        json!({ "platform": "EBAY", "state": input2["state"], "code": "a\u{0}b" }),
    ] {
        let (status, body) = app.post(COMPLETE, json!({ "i": bad }), Some(&a.access)).await;
        assert_eq!(status, 200, "{body}");
        assert_ne!(code(&body), "INTERNAL", "{body}");
        assert!(body["data"]["completeAccountAuthorization"]["account"].is_null(), "{body}");
    }
    assert_eq!(ebay_token_calls(&app), calls);
    let done = complete(&app, &a, &input2).await;
    assert_eq!(done["data"]["completeAccountAuthorization"]["userErrors"], json!([]), "{done}");
    assert_eq!(done["data"]["completeAccountAuthorization"]["account"]["status"], "ACTIVE");

    // Declined consent: the failure page, nothing to complete.
    let body = app
        .gql(
            "mutation { startAccountAuthorization(input: { platform: EBAY, name: \"Declined\" }) { authorizationUrl } }",
            json!({}),
            Some(&a.access),
        )
        .await;
    let url = body["data"]["startAccountAuthorization"]["authorizationUrl"].as_str().unwrap().to_owned();
    let declined = crate::ebay::agree(&url, "decline").await;
    let resp = reqwest::get(&declined).await.unwrap();
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.unwrap().contains("Authorization failed"));
}

/// With `SHIPGATE_SPA_URL` the callback redirects the browser to the SPA with `state`
/// and `code` (or the error), and the SPA completes as the user.
async fn spa_redirect(backend: Backend) {
    let app = spawn_with(backend, |s| s.spa_url = Some("https://spa.example/accounts?tab=connect".into())).await;
    let a = app.sign_up("Org A", "a@example.com").await;
    let b = app.sign_up("Org B", "b@example.com").await;
    let (account_id, callback) = crate::ebay::consent(&app, &a, "SPA store").await;
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let resp = browser.get(&callback).send().await.unwrap();
    assert!(resp.status().is_redirection(), "{}", resp.status());
    assert_eq!(resp.headers()["referrer-policy"], "no-referrer");
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("https://spa.example/accounts?tab=connect&status=authorized&"), "{location}");
    let q: std::collections::HashMap<String, String> =
        reqwest::Url::parse(&location).unwrap().query_pairs().into_owned().collect();
    assert_eq!(q["platform"], "EBAY");
    let input = json!({ "platform": q["platform"], "state": q["state"], "code": q["code"] });
    assert_eq!(account_of(&app, &a, &account_id).await["status"], "PENDING_AUTHORIZATION");
    assert_eq!(code(&complete(&app, &b, &input).await), "NOT_FOUND");
    let done = complete(&app, &a, &input).await;
    assert_eq!(done["data"]["completeAccountAuthorization"]["userErrors"], json!([]), "{done}");
    assert_eq!(done["data"]["completeAccountAuthorization"]["account"]["status"], "ACTIVE");

    // Declined: the SPA gets the error.
    let body = app
        .gql(
            "mutation { startAccountAuthorization(input: { platform: EBAY, name: \"Declined\" }) { authorizationUrl } }",
            json!({}),
            Some(&a.access),
        )
        .await;
    let url = body["data"]["startAccountAuthorization"]["authorizationUrl"].as_str().unwrap().to_owned();
    let declined = crate::ebay::agree(&url, "decline").await;
    let resp = browser.get(&declined).send().await.unwrap();
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let q: std::collections::HashMap<String, String> =
        reqwest::Url::parse(&location).unwrap().query_pairs().into_owned().collect();
    assert_eq!(q["status"], "error", "{location}");
    assert!(q["message"].contains("declined"), "{location}");
    assert!(!q.contains_key("code"));
}

mod oauth_spa_redirect {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::spa_redirect(crate::helpers::Backend::Sqlite).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::spa_redirect(crate::helpers::Backend::Postgres).await;
    }
}
