//! eBay end to end over real HTTP: consent page → callback → completeAccountAuthorization
//! → ACTIVE account, paged
//! download from the fake eBay into the database, idempotent re-download, token refresh
//! mid-download and under concurrency, 429 + Retry-After, revoked consent, malformed
//! pages, credential binding and log secrecy.

use std::time::{Duration, Instant};

use entity::{account, order};
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{Value, json};

use crate::{
    db_tests, fixtures,
    helpers::{Session, TestApp, captured_logs},
};

db_tests!(ebay_connect_and_download, ebay_token_refresh_and_faults, ebay_revoked_and_malformed);

const START: &str = "mutation($n: String!) { startAccountAuthorization(input: { platform: EBAY, name: $n }) { account { id status } authorizationUrl userErrors { code message } } }";
const DOWNLOAD: &str = "mutation($ids: [ID!]!) { downloadOrders(input: { accountIds: $ids }) { jobs { id status } userErrors { code message } } }";
const JOB: &str = "query($id: ID!) { node(id: $id) { ... on Job { status attempts lastError progress } } }";
const ACCOUNT: &str = "query($id: ID!) { node(id: $id) { ... on Account { status hasCredentials accessTokenExpiresAt refreshTokenExpiresAt needsReauthorizationSoon lastSyncedAt lastSyncError syncWatermark } } }";

/// Connects an eBay account through the fake's consent page, like a seller would, and
/// finishes it as the SPA does: `completeAccountAuthorization` with the user's token.
pub(crate) async fn connect(app: &TestApp, s: &Session, name: &str) -> String {
    let (account_id, callback) = consent(app, s, name).await;
    let fields = crate::oauth_binding::callback_page(app, &callback).await;
    let done = crate::oauth_binding::complete(app, s, &fields).await;
    assert_eq!(done["data"]["completeAccountAuthorization"]["userErrors"], json!([]), "{done}");
    assert_eq!(done["data"]["completeAccountAuthorization"]["account"]["status"], "ACTIVE", "{done}");
    // The round is single-use.
    let again = crate::oauth_binding::complete(app, s, &fields).await;
    assert_eq!(again["data"]["completeAccountAuthorization"]["userErrors"][0]["code"], "AUTHORIZATION_USED", "{again}");
    account_id
}

/// Starts an eBay authorization as `s` and presses "I Agree" on the fake's consent page:
/// (account id, the callback URL eBay sends the browser to).
pub(crate) async fn consent(app: &TestApp, s: &Session, name: &str) -> (String, String) {
    let body = app.gql(START, json!({ "n": name }), Some(&s.access)).await;
    let p = &body["data"]["startAccountAuthorization"];
    assert_eq!(p["userErrors"], json!([]), "{body}");
    assert_eq!(p["account"]["status"], "PENDING_AUTHORIZATION");
    let account_id = p["account"]["id"].as_str().unwrap().to_owned();
    let url = p["authorizationUrl"].as_str().unwrap().to_owned();
    assert!(url.contains("redirect_uri=Shipgate_Sandbox-Shipgate-SBX-RuName"), "{url}");
    let callback = agree(&url, "agree").await;
    assert!(callback.starts_with(&app.url("/oauth/callback/ebay")), "{callback}");
    (account_id, callback)
}

/// Answers an eBay consent page (`decision`: agree or decline): the redirect target.
pub(crate) async fn agree(url: &str, decision: &str) -> String {
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = browser.get(url).send().await.unwrap();
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
        .form(&[
            ("client_id", field("client_id")),
            ("state", field("state")),
            ("scope", field("scope")),
            ("decision", decision.into()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(agreed.status(), 303, "{:?}", agreed.text().await);
    agreed.headers()["location"].to_str().unwrap().to_owned()
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

pub(crate) async fn download(app: &TestApp, s: &Session, account_id: &str) -> Value {
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

    // 250 sandbox orders at 200 a page (getOrders' maximum): 2 pages.
    let job = download(&app, &s, &account_id).await;
    assert_eq!(job["status"], "SUCCEEDED", "{job}");
    assert_eq!(job["progress"]["pages"], 2, "{job}");
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
    let uuid = fixtures::uuid_of(&account_id);

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
    let theirs = account::Entity::find_by_id(fixtures::uuid_of(&other_account))
        .one(&app.state.services.db)
        .await
        .unwrap()
        .unwrap();
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

db_tests!(order_page_costs_constant_statements, job_progress_subscription);

/// A page of orders with lines and accounts costs the same number of SQL statements
/// whatever its size (DataLoaders batch the relations).
async fn order_page_costs_constant_statements(app: TestApp) {
    let s = app.sign_up("Seller", "seller@example.com").await;
    let account_id = connect(&app, &s, "Store").await;
    assert_eq!(download(&app, &s, &account_id).await["status"], "SUCCEEDED");
    let counter = app.state.metrics.db_statements.clone();
    let mut costs = Vec::new();
    for first in [5, 25, 50] {
        let q = format!(
            "{{ orders(first: {first}) {{ totalCount edges {{ node {{ platformOrderId items {{ platformSku quantity sku {{ code }} }} account {{ name status }} channel {{ code }} waybill {{ trackingNumber }} }} }} }} }}"
        );
        // The job runner polls on the same pool: take the quietest of a few runs.
        let mut best = u64::MAX;
        for _ in 0..4 {
            let before = counter.load(std::sync::atomic::Ordering::SeqCst);
            let body = app.gql(&q, json!({}), Some(&s.access)).await;
            let after = counter.load(std::sync::atomic::Ordering::SeqCst);
            assert_eq!(body["data"]["orders"]["edges"].as_array().map(Vec::len), Some(first), "{body}");
            best = best.min(after - before);
        }
        costs.push(best);
    }
    if !costs.iter().all(|c| *c == costs[0]) {
        let logs = captured_logs();
        let tail: Vec<&str> =
            logs.lines().filter(|l| l.contains("shipgate::sql") || l.contains("statement")).rev().take(40).collect();
        panic!("statements per page must not grow with the page: {costs:?}\n{}", tail.join("\n"));
    }
    assert!(costs[0] <= 8, "{costs:?}");
}

/// `jobProgress` streams a download's progress over graphql-ws until it finishes.
async fn job_progress_subscription(app: TestApp) {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};

    let s = app.sign_up("Seller", "seller@example.com").await;
    let account_id = connect(&app, &s, "Store").await;
    let body = app.gql(DOWNLOAD, json!({ "ids": [account_id] }), Some(&s.access)).await;
    let job_id = body["data"]["downloadOrders"]["jobs"][0]["id"].as_str().unwrap().to_owned();

    let mut req = format!("ws://{}/graphql/ws", app.addr).into_client_request().unwrap();
    req.headers_mut().insert("sec-websocket-protocol", HeaderValue::from_static("graphql-transport-ws"));
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    ws.send(Message::Text(
        json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {}", s.access) } })
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let q = "subscription($id: ID!) { jobProgress(jobId: $id) { status progress } }";
    ws.send(Message::Text(
        json!({ "type": "subscribe", "id": "p", "payload": { "query": q, "variables": { "id": job_id } } })
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let mut statuses = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let msg =
            tokio::time::timeout_at(deadline.into(), ws.next()).await.expect("progress within 30 s").unwrap().unwrap();
        let Message::Text(t) = msg else { continue };
        let v: Value = serde_json::from_str(t.as_str()).unwrap();
        match v["type"].as_str() {
            Some("next") => statuses.push(v["payload"]["data"]["jobProgress"].clone()),
            Some("complete") => break,
            _ => {}
        }
    }
    let last = statuses.last().unwrap();
    assert_eq!(last["status"], "SUCCEEDED", "{statuses:?}");
    assert_eq!(last["progress"]["new"], 250);
    assert!(statuses.len() >= 2, "saw the job move: {statuses:?}");
}

db_tests!(fix_orders_before_push);

/// Seed 000 §5: sync SKUs from orders, change a line's SKU, correct the recipient; edits
/// are refused once an order has left UNPUSHED/PUSH_FAILED.
async fn fix_orders_before_push(app: TestApp) {
    let s = app.sign_up("Seller", "seller@example.com").await;
    let account_id = connect(&app, &s, "Store").await;
    assert_eq!(download(&app, &s, &account_id).await["status"], "SUCCEEDED");

    let sync = app
        .gql("mutation { syncSkusFromOrders { created linked userErrors { code } } }", json!({}), Some(&s.access))
        .await;
    let p = &sync["data"]["syncSkusFromOrders"];
    assert_eq!(p["created"], 8, "{sync}");
    assert!(p["linked"].as_u64().unwrap() > 250, "{sync}");
    let again = app.gql("mutation { syncSkusFromOrders { created linked } }", json!({}), Some(&s.access)).await;
    assert_eq!(again["data"]["syncSkusFromOrders"], json!({ "created": 0, "linked": 0 }), "idempotent: {again}");

    let list = app
        .gql(
            "{ orders(first: 1, filter: { fulfillmentStatus: [UNPUSHED] }) { edges { node { id items { id platformSku sku { code } } } } } }",
            json!({}),
            Some(&s.access),
        )
        .await;
    let order = list["data"]["orders"]["edges"][0]["node"].clone();
    let item = order["items"][0].clone();
    assert_eq!(item["sku"]["code"], item["platformSku"], "{list}");

    let fix = app
        .gql(
            "mutation($i: ID!) { updateOrderItemSku(input: { orderItemId: $i, skuCode: \"BUNDLE-42\" }) { order { items { id sku { code } } } userErrors { code } } }",
            json!({ "i": item["id"] }),
            Some(&s.access),
        )
        .await;
    let items = fix["data"]["updateOrderItemSku"]["order"]["items"].as_array().unwrap().clone();
    assert!(items.iter().any(|i| i["id"] == item["id"] && i["sku"]["code"] == "BUNDLE-42"), "{fix}");

    const RECIPIENT: &str = "mutation($o: ID!, $c: String!) { updateOrderRecipient(input: { orderId: $o, recipient: { name: \"Zoë O'Brien & Co\", line1: \"1 Rue de l'Église <b>\", countryCode: $c } }) { order { recipient { name line1 countryCode } } userErrors { code field } } }";
    let bad = app.gql(RECIPIENT, json!({ "o": order["id"], "c": "France" }), Some(&s.access)).await;
    assert_eq!(
        bad["data"]["updateOrderRecipient"]["userErrors"][0]["field"],
        json!(["input", "recipient", "countryCode"]),
        "{bad}"
    );
    let ok = app.gql(RECIPIENT, json!({ "o": order["id"], "c": "fr" }), Some(&s.access)).await;
    assert_eq!(
        ok["data"]["updateOrderRecipient"]["order"]["recipient"],
        json!({ "name": "Zoë O'Brien & Co", "line1": "1 Rue de l'Église <b>", "countryCode": "FR" }),
        "{ok}"
    );

    // Once pushed, the order is frozen.
    let uuid = fixtures::uuid_of(order["id"].as_str().unwrap());
    order::Entity::update_many()
        .col_expr(
            order::Column::FulfillmentStatus,
            sea_orm::sea_query::Expr::value(entity::enums::FulfillmentStatus::Pushed),
        )
        .filter(sea_orm::ColumnTrait::eq(&order::Column::Id, uuid))
        .exec(&app.state.services.db)
        .await
        .unwrap();
    let frozen = app.gql(RECIPIENT, json!({ "o": order["id"], "c": "DE" }), Some(&s.access)).await;
    assert_eq!(frozen["data"]["updateOrderRecipient"]["userErrors"][0]["code"], "INVALID_STATE", "{frozen}");
    // A viewer cannot edit; another tenant cannot see the order.
    let viewer = app.add_user(&s, "viewer@example.com", "VIEWER").await;
    assert_eq!(
        crate::helpers::code(&app.gql(RECIPIENT, json!({ "o": order["id"], "c": "DE" }), Some(&viewer.access)).await),
        "FORBIDDEN"
    );
    let other = app.sign_up("Other", "other@example.com").await;
    assert_eq!(
        crate::helpers::code(&app.gql(RECIPIENT, json!({ "o": order["id"], "c": "DE" }), Some(&other.access)).await),
        "NOT_FOUND"
    );
}

db_tests!(order_channel_and_waybill);

/// An order's channel and active waybill resolve through loaders; `channelId` filters.
async fn order_channel_and_waybill(app: TestApp) {
    use entity::{channel, enums, waybill};
    let s = app.sign_up("Seller", "seller@example.com").await;
    let account_id = connect(&app, &s, "Store").await;
    assert_eq!(download(&app, &s, &account_id).await["status"], "SUCCEEDED");
    let db = &app.state.services.db;
    let o = order::Entity::find().one(db).await.unwrap().unwrap();
    let now = chrono::Utc::now();
    let ch = channel::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        organization_id: Set(None),
        code: Set("GLOBAL-PRIORITY".into()),
        name: Set("Global Priority".into()),
        provider: Set(enums::ChannelProvider::Network),
        destination_countries: Set(json!([])),
        max_weight_grams: Set(None),
        max_value_minor: Set(None),
        value_currency: Set(None),
        required_fields: Set(json!([])),
        address_policy: Set(enums::AddressPolicy::AsIs),
        tracking_source: Set(enums::TrackingSource::Range),
        tracking_prefix: Set(Some("RR".into())),
        tracking_suffix: Set(Some("CN".into())),
        range_start: Set(Some(10_000_000)),
        range_end: Set(Some(99_999_999)),
        range_next: Set(Some(10_000_000)),
        service_code: Set(None),
        region: Set(None),
        warehouse_account_id: Set(None),
        active: Set(true),
        address_line_max: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .unwrap();
    let mut active: order::ActiveModel = o.clone().into();
    active.channel_id = Set(Some(ch.id));
    active.update(db).await.unwrap();
    waybill::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        organization_id: Set(o.organization_id),
        order_id: Set(Some(o.id)),
        channel_id: Set(ch.id),
        customer_reference: Set(format!("OD{}", o.platform_order_id)),
        tracking_number: Set(Some("RR123456785CN".into())),
        status: Set(enums::WaybillStatus::Forecasted),
        snapshot: Set(json!({})),
        provider_reference: Set(None),
        error_message: Set(None),
        error_code: Set(None),
        edited_at: Set(None),
        attempts: Set(1),
        printed_at: Set(None),
        forecasted_at: Set(Some(now)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .unwrap();
    let channel_id = {
        use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
        URL_SAFE_NO_PAD.encode(format!("Channel:{}", ch.id.simple()))
    };
    let body = app
        .gql(
            "query($c: ID!) { orders(first: 10, filter: { channelId: $c }) { totalCount edges { node { channel { id code global } waybill { trackingNumber status customerReference } } } } }",
            json!({ "c": channel_id }),
            Some(&s.access),
        )
        .await;
    let conn = &body["data"]["orders"];
    assert_eq!(conn["totalCount"], 1, "{body}");
    let node = &conn["edges"][0]["node"];
    assert_eq!(node["channel"], json!({ "id": channel_id, "code": "GLOBAL-PRIORITY", "global": true }));
    assert_eq!(node["waybill"]["trackingNumber"], "RR123456785CN");
    assert_eq!(node["waybill"]["status"], "FORECASTED");
    // Another tenant sees the global channel by id, but never the waybill.
    let other = app.sign_up("Other", "other@example.com").await;
    let seen = app
        .gql(
            "query($c: ID!) { node(id: $c) { ... on Channel { code } } }",
            json!({ "c": channel_id }),
            Some(&other.access),
        )
        .await;
    assert_eq!(seen["data"]["node"]["code"], "GLOBAL-PRIORITY", "{seen}");
    let none = app.gql("{ orders { totalCount } }", json!({}), Some(&other.access)).await;
    assert_eq!(none["data"]["orders"]["totalCount"], 0);
}
