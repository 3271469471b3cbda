//! 标记出货&回写单号 against each sandbox marketplace over real HTTP: connect, download,
//! complete the SKUs' declarations, set a channel, push, mark shipped with write-back,
//! and read the fake marketplace's own record of the call. Plus failure and retry.

use std::sync::Mutex;

use entity::sku;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};

use crate::{
    fixtures::{self, open_channel},
    fulfilment::{PUSH, SET_CHANNEL, SHIP, order_state, settled},
    helpers::{Backend, Session, TestApp, spawn_app},
};

const ORDERS: &str = "query($s: String) { orders(first: 3, filter: { status: $s, fulfillmentStatus: [UNPUSHED] }) { edges { node { id platformOrderId } } } }";

/// The platform status of orders waiting to be shipped (others are refused by the platform).
fn awaiting(platform: &str) -> &'static str {
    match platform {
        "EBAY" => "NOT_STARTED",
        "ALIEXPRESS" => "WAIT_SELLER_SEND_GOODS",
        "WISH" => "APPROVED",
        _ => "UNSHIPPED",
    }
}

/// Connects `platform`, downloads its orders and readies 3 of them for shipping.
pub(crate) async fn ready_orders(app: &TestApp, s: &Session, email: &str, platform: &str) -> Vec<(String, String)> {
    let account = if platform == "EBAY" {
        crate::ebay::connect(app, s, "eBay store").await
    } else {
        crate::marketplaces::connect(app, s, platform).await
    };
    let job = if platform == "EBAY" {
        crate::ebay::download(app, s, &account).await
    } else {
        crate::marketplaces::download(app, s, &account).await
    };
    assert_eq!(job["status"], "SUCCEEDED", "{job}");
    let body =
        app.gql("mutation { syncSkusFromOrders { created userErrors { code } } }", json!({}), Some(&s.access)).await;
    assert_eq!(body["data"]["syncSkusFromOrders"]["userErrors"], json!([]), "{body}");
    let org = fixtures::org_of(app, email).await;
    sku::Entity::update_many()
        .col_expr(sku::Column::DeclNameEn, Expr::value("Gift"))
        .col_expr(sku::Column::DeclValueMinor, Expr::value(100i64))
        .col_expr(sku::Column::DeclCurrency, Expr::value("USD"))
        .col_expr(sku::Column::WeightGrams, Expr::value(50))
        .filter(sku::Column::OrganizationId.eq(org))
        .exec(&app.state.services.db)
        .await
        .unwrap();
    let body = app.gql(ORDERS, json!({ "s": awaiting(platform) }), Some(&s.access)).await;
    let orders: Vec<(String, String)> = body["data"]["orders"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (e["node"]["id"].as_str().unwrap().to_owned(), e["node"]["platformOrderId"].as_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(orders.len(), 3, "{body}");
    let ids: Vec<&str> = orders.iter().map(|(id, _)| id.as_str()).collect();
    let ch = fixtures::channel(app, s, open_channel("WB")).await;
    map_carrier(app, s, &ch, platform, accepted_carrier(platform)).await;
    app.gql(SET_CHANNEL, json!({ "ids": ids, "c": ch }), Some(&s.access)).await;
    app.gql(PUSH, json!({ "ids": ids }), Some(&s.access)).await;
    for id in &ids {
        let o = settled(app, s, id).await;
        assert_eq!(o["fulfillmentStatus"], "PUSHED", "{o}");
    }
    orders
}

/// A carrier identifier each sandbox marketplace documents and accepts.
pub(crate) fn accepted_carrier(platform: &str) -> &'static str {
    match platform {
        "EBAY" => "ChinaPost",
        "ALIEXPRESS" => "CPAM",
        "WISH" => "ChinaAirPost",
        _ => "China Post",
    }
}

pub(crate) const SET_CARRIER: &str = "mutation($c: ID!, $p: Platform!, $code: String!, $name: String) { setChannelCarrier(input: { channelId: $c, platform: $p, carrierCode: $code, carrierName: $name }) { carrier { platform carrierCode global } userErrors { code field message } } }";

/// Maps the channel's carrier for `platform` (as the organization's ADMIN).
pub(crate) async fn map_carrier(app: &TestApp, s: &Session, channel: &str, platform: &str, code: &str) {
    let body = app.gql(SET_CARRIER, json!({ "c": channel, "p": platform, "code": code }), Some(&s.access)).await;
    assert_eq!(body["data"]["setChannelCarrier"]["userErrors"], json!([]), "{body}");
    assert_eq!(body["data"]["setChannelCarrier"]["carrier"]["carrierCode"], code, "{body}");
}

/// The fake's record of accepted tracking updates: (order key, body).
pub(crate) fn recorded(app: &TestApp, platform: &str) -> Vec<(String, Value)> {
    let sb = app.state.services.sandbox.as_ref().unwrap();
    let m: &Mutex<Vec<(String, Value)>> = match platform {
        "EBAY" => &sb.ebay.fulfillments,
        "ALIEXPRESS" => &sb.aliexpress.fulfillments,
        "WISH" => &sb.wish.fulfillments,
        _ => &sb.amazon.fulfillments,
    };
    m.lock().unwrap().clone()
}

async fn write_back_reaches(backend: Backend, platform: &'static str) {
    let app = spawn_app(backend).await;
    let email = format!("wb-{}@example.com", platform.to_lowercase());
    let s = app.sign_up("Seller", &email).await;
    let orders = ready_orders(&app, &s, &email, platform).await;
    let (id, platform_order_id) = &orders[0];
    let tracking = order_state(&app, &s, id).await["trackingNumber"].as_str().unwrap().to_owned();
    let body = app.gql(SHIP, json!({ "ids": [id], "wb": true }), Some(&s.access)).await;
    assert_eq!(body["data"]["markOrdersShipped"]["results"][0]["status"], "SHIPPED", "{body}");
    let o = settled(&app, &s, id).await;
    assert_eq!(o["writeBackStatus"], "WRITTEN", "{o}");
    assert!(o["writeBackError"].is_null());
    let calls = recorded(&app, platform);
    assert_eq!(calls.len(), 1, "one call: {calls:?}");
    let (key, body) = &calls[0];
    assert!(
        key.contains(platform_order_id.as_str()) || platform_order_id.contains(key.as_str()),
        "{key} vs {platform_order_id}"
    );
    assert!(body.to_string().contains(&tracking), "the tracking number reached {platform}: {body}");

    // Internal mark only: nothing is sent.
    let (other, _) = &orders[1];
    app.gql(SHIP, json!({ "ids": [other], "wb": false }), Some(&s.access)).await;
    assert_eq!(order_state(&app, &s, other).await["writeBackStatus"], "NOT_REQUESTED");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(recorded(&app, platform).len(), 1);
}

macro_rules! per_platform {
    ($($name:ident => $platform:expr),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::write_back_reaches(crate::helpers::Backend::Sqlite, $platform).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::write_back_reaches(crate::helpers::Backend::Postgres, $platform).await;
                }
            }
        )*
    };
}

per_platform!(ebay => "EBAY", aliexpress => "ALIEXPRESS", wish => "WISH", amazon => "AMAZON");

crate::db_tests!(write_back_failure_and_retry);

async fn write_back_failure_and_retry(app: TestApp) {
    let email = "wb-fail@example.com";
    let s = app.sign_up("Seller", email).await;
    let orders = ready_orders(&app, &s, email, "EBAY").await;
    let fake = app.state.services.sandbox.as_ref().unwrap().ebay.clone();
    // Throttled first (429 + Retry-After): retried by the job, then written.
    *fake.throttle_next.lock().unwrap() = 1;
    let (a, _) = &orders[0];
    app.gql(SHIP, json!({ "ids": [a], "wb": true }), Some(&s.access)).await;
    let o = settled(&app, &s, a).await;
    assert_eq!(o["writeBackStatus"], "WRITTEN", "{o}");
    // Consent revoked: FAILED with the marketplace's reason; retry is possible and fails again.
    fake.revoke_all();
    let (b, _) = &orders[1];
    app.gql(SHIP, json!({ "ids": [b], "wb": true }), Some(&s.access)).await;
    let o = settled(&app, &s, b).await;
    assert_eq!(o["writeBackStatus"], "FAILED", "{o}");
    assert!(o["writeBackError"].as_str().is_some_and(|m| !m.is_empty()), "{o}");
    let retry = "mutation($ids: [ID!]!) { retryWriteBack(input: { orderIds: $ids }) { results { status userErrors { code } } } }";
    let body = app.gql(retry, json!({ "ids": [b] }), Some(&s.access)).await;
    assert_eq!(body["data"]["retryWriteBack"]["results"][0]["userErrors"], json!([]), "{body}");
    let o = settled(&app, &s, b).await;
    assert_eq!(o["writeBackStatus"], "FAILED", "{o}");
    // Written orders cannot be retried.
    let body = app.gql(retry, json!({ "ids": [a] }), Some(&s.access)).await;
    assert_eq!(body["data"]["retryWriteBack"]["results"][0]["userErrors"][0]["code"], "INVALID_STATE");
}
