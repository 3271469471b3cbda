//! Provider fidelity, over real HTTP against the sandbox fakes (written from each
//! provider's documents, apart from the connectors): carrier identity for write-back,
//! reconciliation of a write-back whose answer was lost, marketplace state at import and
//! on re-download, Amazon's marketplaces across regions, and the eBay user id.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::{
    fulfilment::{PUSH, SHIP, order_state, settled},
    helpers::{Backend, Session, TestApp, spawn_app},
    writeback::{SET_CARRIER, accepted_carrier, map_carrier, ready_orders, recorded},
};

const ORDER_CHANNEL: &str = "query($id: ID!) { node(id: $id) { ... on Order { channel { id } } } }";
const REMOVE_CARRIER: &str = "mutation($c: ID!, $p: Platform!) { removeChannelCarrier(input: { channelId: $c, platform: $p }) { removed userErrors { code } } }";
const STATE: &str = "query($id: ID!) { node(id: $id) { ... on Order { fulfillmentStatus marketplaceState writeBackStatus writeBackError writeBackErrorCode lastOperationMessage } } }";
const RETRY: &str =
    "mutation($ids: [ID!]!) { retryWriteBack(input: { orderIds: $ids }) { results { status userErrors { code } } } }";
const ALL_ORDERS: &str = "query($after: String) { orders(first: 100, after: $after) { edges { node { id platformOrderId fulfillmentStatus marketplaceState marketplaceId } } pageInfo { hasNextPage endCursor } } }";

fn write_calls(app: &TestApp, platform: &str) -> u32 {
    let sb = app.state.services.sandbox.as_ref().unwrap();
    match platform {
        "EBAY" => *sb.ebay.write_calls.lock().unwrap(),
        "ALIEXPRESS" => *sb.aliexpress.write_calls.lock().unwrap(),
        "WISH" => *sb.wish.write_calls.lock().unwrap(),
        _ => *sb.amazon.write_calls.lock().unwrap(),
    }
}

async fn channel_of(app: &TestApp, s: &Session, order: &str) -> String {
    let body = app.gql(ORDER_CHANNEL, json!({ "id": order }), Some(&s.access)).await;
    body["data"]["node"]["channel"]["id"].as_str().unwrap().to_owned()
}

async fn state(app: &TestApp, s: &Session, order: &str) -> Value {
    app.gql(STATE, json!({ "id": order }), Some(&s.access)).await["data"]["node"].clone()
}

async fn all_orders(app: &TestApp, s: &Session) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let body = app.gql(ALL_ORDERS, json!({ "after": after }), Some(&s.access)).await;
        let page = &body["data"]["orders"];
        out.extend(page["edges"].as_array().unwrap().iter().map(|e| e["node"].clone()));
        if page["pageInfo"]["hasNextPage"] != true {
            return out;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
}

crate::db_tests!(carrier_not_mapped_makes_no_call, carrier_not_in_the_sellers_list);

/// Write-back without the marketplace's carrier identifier: refused with a typed code
/// naming channel and marketplace, nothing changes, nothing is sent; mapped, it goes.
async fn carrier_not_mapped_makes_no_call(app: TestApp) {
    let email = "carrier-missing@example.com";
    let s = app.sign_up("Seller", email).await;
    let orders = ready_orders(&app, &s, email, "EBAY").await;
    let (id, _) = &orders[0];
    let ch = channel_of(&app, &s, id).await;
    let body = app.gql(REMOVE_CARRIER, json!({ "c": ch, "p": "EBAY" }), Some(&s.access)).await;
    assert_eq!(body["data"]["removeChannelCarrier"]["removed"], true, "{body}");

    let body = app.gql(SHIP, json!({ "ids": [id], "wb": true }), Some(&s.access)).await;
    let r = &body["data"]["markOrdersShipped"]["results"][0];
    assert_eq!(r["userErrors"][0]["code"], "CARRIER_NOT_MAPPED", "{body}");
    let message = r["userErrors"][0]["message"].as_str().unwrap();
    assert!(message.contains("WB") && message.contains("eBay"), "names channel and marketplace: {message}");
    let o = state(&app, &s, id).await;
    assert_eq!(o["fulfillmentStatus"], "PUSHED", "{o}");
    assert_eq!(o["writeBackStatus"], "NOT_REQUESTED", "{o}");
    assert_eq!(write_calls(&app, "EBAY"), 0, "no call made");

    // An OPERATOR may not map carriers.
    let op = app.add_user(&s, "carrier-op@example.com", "OPERATOR").await;
    let body = app.gql(SET_CARRIER, json!({ "c": ch, "p": "EBAY", "code": "ChinaPost" }), Some(&op.access)).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body}");

    // Mapped: shipped and written with eBay's own carrier code.
    map_carrier(&app, &s, &ch, "EBAY", "ChinaPost").await;
    let body = app.gql(SHIP, json!({ "ids": [id], "wb": true }), Some(&s.access)).await;
    assert_eq!(body["data"]["markOrdersShipped"]["results"][0]["status"], "SHIPPED", "{body}");
    let o = settled(&app, &s, id).await;
    assert_eq!(o["writeBackStatus"], "WRITTEN", "{o}");
    let calls = recorded(&app, "EBAY");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].1["shippingCarrierCode"], "ChinaPost", "{:?}", calls[0]);
}

/// Wish keeps a carrier list per seller: a code not on it fails with
/// CARRIER_NOT_ACCEPTED before any call; one from `accountCarriers` is written.
async fn carrier_not_in_the_sellers_list(app: TestApp) {
    let email = "carrier-list@example.com";
    let s = app.sign_up("Seller", email).await;
    let orders = ready_orders(&app, &s, email, "WISH").await;
    let (id, _) = &orders[0];
    let ch = channel_of(&app, &s, id).await;
    map_carrier(&app, &s, &ch, "WISH", "CNPOST-RR").await;
    let body = app.gql(SHIP, json!({ "ids": [id], "wb": true }), Some(&s.access)).await;
    assert_eq!(body["data"]["markOrdersShipped"]["results"][0]["status"], "SHIPPED", "{body}");
    settled(&app, &s, id).await;
    let o = state(&app, &s, id).await;
    assert_eq!(o["writeBackStatus"], "FAILED", "{o}");
    assert_eq!(o["writeBackErrorCode"], "CARRIER_NOT_ACCEPTED", "{o}");
    assert_eq!(write_calls(&app, "WISH"), 0, "no call made");

    // The seller's list, read through the connector.
    let account: String = {
        let q = "{ accounts(first: 5) { edges { node { id platform } } } }";
        let body = app.gql(q, json!({}), Some(&s.access)).await;
        body["data"]["accounts"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["node"]["platform"] == "WISH")
            .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
            .unwrap()
    };
    let q = "query($a: ID!) { accountCarriers(accountId: $a) { code name requiresTrackingUrl } }";
    let body = app.gql(q, json!({ "a": account }), Some(&s.access)).await;
    let codes: Vec<&str> =
        body["data"]["accountCarriers"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"ChinaAirPost"), "{body}");
    assert!(!codes.contains(&"CNPOST-RR"), "{body}");

    map_carrier(&app, &s, &ch, "WISH", "ChinaAirPost").await;
    let body = app.gql(RETRY, json!({ "ids": [id] }), Some(&s.access)).await;
    assert_eq!(body["data"]["retryWriteBack"]["results"][0]["userErrors"], json!([]), "{body}");
    let o = settled(&app, &s, id).await;
    assert_eq!(o["writeBackStatus"], "WRITTEN", "{o}");
    assert_eq!(recorded(&app, "WISH").len(), 1);
}

/// The marketplace recorded the write but its answer was lost (503): the next attempt
/// reads the marketplace's record instead of writing again. Exactly one record, WRITTEN.
async fn lost_answer_reconciled(backend: Backend, platform: &'static str) {
    let app = spawn_app(backend).await;
    let email = format!("lost-{}@example.com", platform.to_lowercase());
    let s = app.sign_up("Seller", &email).await;
    let orders = ready_orders(&app, &s, &email, platform).await;
    let (id, _) = &orders[0];
    {
        let sb = app.state.services.sandbox.as_ref().unwrap();
        let lose = match platform {
            "EBAY" => &sb.ebay.lose_next_writes,
            "ALIEXPRESS" => &sb.aliexpress.lose_next_writes,
            "WISH" => &sb.wish.lose_next_writes,
            _ => &sb.amazon.lose_next_writes,
        };
        *lose.lock().unwrap() = 1;
    }
    let body = app.gql(SHIP, json!({ "ids": [id], "wb": true }), Some(&s.access)).await;
    assert_eq!(body["data"]["markOrdersShipped"]["results"][0]["status"], "SHIPPED", "{body}");
    let o = settled(&app, &s, id).await;
    assert_eq!(o["writeBackStatus"], "WRITTEN", "{o}");
    assert_eq!(recorded(&app, platform).len(), 1, "exactly one record at {platform}");
    assert_eq!(write_calls(&app, platform), 1, "the write was not sent again");
}

macro_rules! per_platform {
    ($test:ident: $($name:ident => $platform:expr),* $(,)?) => {
        mod $test {
            $(
                mod $name {
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn sqlite() {
                        super::super::$test(crate::helpers::Backend::Sqlite, $platform).await;
                    }
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn postgres() {
                        super::super::$test(crate::helpers::Backend::Postgres, $platform).await;
                    }
                }
            )*
        }
    };
}

per_platform!(lost_answer_reconciled: ebay => "EBAY", aliexpress => "ALIEXPRESS", wish => "WISH", amazon => "AMAZON");
per_platform!(marketplace_state_followed: ebay => "EBAY", aliexpress => "ALIEXPRESS", wish => "WISH", amazon => "AMAZON");

/// Orders shipped or cancelled on the marketplace arrive in a state that says so and are
/// not pushable; a cancellation (or a buyer's request) after download is followed by the
/// next download and refuses the push with a code.
async fn marketplace_state_followed(backend: Backend, platform: &'static str) {
    let app = spawn_app(backend).await;
    let email = format!("state-{}@example.com", platform.to_lowercase());
    let s = app.sign_up("Seller", &email).await;
    let account = if platform == "EBAY" {
        crate::ebay::connect(&app, &s, "eBay store").await
    } else {
        crate::marketplaces::connect(&app, &s, platform).await
    };
    download_ok(&app, &s, platform, &account).await;
    let orders = all_orders(&app, &s).await;
    let count = |m: &str| orders.iter().filter(|o| o["marketplaceState"] == m).count();
    assert!(count("SHIPPED") > 0 && count("CANCELLED") > 0, "the fake seeds both: {orders:?}");
    for o in &orders {
        let expected = match o["marketplaceState"].as_str().unwrap() {
            "SHIPPED" => "SHIPPED",
            "CANCELLED" => "CANCELLED",
            _ => "UNPUSHED",
        };
        assert_eq!(o["fulfillmentStatus"], expected, "{o}");
    }
    // Shipped outside Shipgate: pushing it is refused.
    let shipped = orders.iter().find(|o| o["marketplaceState"] == "SHIPPED").unwrap();
    let body = app.gql(PUSH, json!({ "ids": [shipped["id"]] }), Some(&s.access)).await;
    assert_eq!(body["data"]["pushOrders"]["results"][0]["userErrors"][0]["code"], "INVALID_STATE", "{body}");

    let awaiting: Vec<&Value> = orders.iter().filter(|o| o["marketplaceState"] == "AWAITING_SHIPMENT").collect();
    let (a, b) = (awaiting[0], awaiting[1]);
    {
        let sb = app.state.services.sandbox.as_ref().unwrap();
        let (pa, pb) = (a["platformOrderId"].as_str().unwrap(), b["platformOrderId"].as_str().unwrap());
        match platform {
            "EBAY" => {
                sb.ebay.cancel_on_platform(pa);
                sb.ebay.request_cancel_on_platform(pb);
            }
            "ALIEXPRESS" => {
                sb.aliexpress.cancel_on_platform(pa);
                sb.aliexpress.request_cancel_on_platform(pb);
            }
            "WISH" => sb.wish.cancel_on_platform(pa),
            _ => {
                sb.amazon.cancel_on_platform(pa);
                sb.amazon.request_cancel_on_platform(pb);
            }
        }
    }
    // Let the marketplace's modification time pass the download watermark.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    download_ok(&app, &s, platform, &account).await;
    let oa = state(&app, &s, a["id"].as_str().unwrap()).await;
    assert_eq!(oa["marketplaceState"], "CANCELLED", "{oa}");
    assert_eq!(oa["fulfillmentStatus"], "CANCELLED", "{oa}");
    if platform != "WISH" {
        let ob = state(&app, &s, b["id"].as_str().unwrap()).await;
        assert_eq!(ob["marketplaceState"], "CANCEL_REQUESTED", "{ob}");
        let body = app.gql(PUSH, json!({ "ids": [b["id"]] }), Some(&s.access)).await;
        let r = &body["data"]["pushOrders"]["results"][0];
        assert_eq!(r["userErrors"][0]["code"], "MARKETPLACE_CANCEL_REQUESTED", "{body}");
        assert!(r["waybill"].is_null(), "no waybill booked: {body}");
        assert_eq!(order_state(&app, &s, b["id"].as_str().unwrap()).await["fulfillmentStatus"], "UNPUSHED");
    }
    // Idempotent: the third download changes nothing.
    download_ok(&app, &s, platform, &account).await;
    assert_eq!(all_orders(&app, &s).await.len(), orders.len());
}

async fn download_ok(app: &TestApp, s: &Session, platform: &str, account: &str) {
    let job = if platform == "EBAY" {
        crate::ebay::download(app, s, account).await
    } else {
        crate::marketplaces::download(app, s, account).await
    };
    assert_eq!(job["status"], "SUCCEEDED", "{job}");
}

crate::db_tests!(amazon_every_marketplace, ebay_user_id_captured);

/// An Amazon seller selling in US, UK, DE, FR, ES and JP: every marketplace is found
/// through the Sellers API and downloaded from its region's host, across pages whose
/// pagination token expires.
async fn amazon_every_marketplace(app: TestApp) {
    let s = app.sign_up("Seller", "amz-mkt@example.com").await;
    let account = crate::marketplaces::connect(&app, &s, "AMAZON").await;
    let q = "query($id: ID!) { node(id: $id) { ... on Account { marketplaceIds } } }";
    let body = app.gql(q, json!({ "id": account }), Some(&s.access)).await;
    let ids: HashSet<&str> =
        body["data"]["node"]["marketplaceIds"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    let expected: HashSet<&str> =
        ["ATVPDKIKX0DER", "A1F83G8C2ARO7P", "A1PA6795UKMFR9", "A13V1IB3VIYZZH", "A1RKKUPIHCS9HS", "A1VC38T7YXB528"]
            .into_iter()
            .collect();
    assert_eq!(ids, expected, "{body}");
    // The follow-up page's token has expired (24 h): the region is read again from the
    // same watermark, and nothing is lost or doubled.
    let fake = app.state.services.sandbox.as_ref().unwrap().amazon.clone();
    *fake.expire_next_followups.lock().unwrap() = 1;
    let job = crate::marketplaces::download(&app, &s, &account).await;
    assert_eq!(job["status"], "SUCCEEDED", "{job}");
    assert_eq!(*fake.expire_next_followups.lock().unwrap(), 0, "a follow-up met the expired token");
    let orders = all_orders(&app, &s).await;
    let seeded = app.state.services.sandbox.as_ref().unwrap().amazon.orders.lock().unwrap().len();
    assert_eq!(orders.len(), seeded, "every order of every marketplace");
    let found: HashSet<&str> = orders.iter().filter_map(|o| o["marketplaceId"].as_str()).collect();
    assert_eq!(found, expected);
    // With the recipient role, Amazon orders carry their address and can be pushed.
    let awaiting = orders.iter().find(|o| o["marketplaceState"] == "AWAITING_SHIPMENT").unwrap();
    let q = "query($id: ID!) { node(id: $id) { ... on Order { recipient { name line1 countryCode } } } }";
    let body = app.gql(q, json!({ "id": awaiting["id"] }), Some(&s.access)).await;
    let r = &body["data"]["node"]["recipient"];
    assert!(r["name"].as_str().is_some_and(|n| !n.is_empty()), "{body}");
    assert!(r["line1"].as_str().is_some_and(|n| !n.is_empty()), "{body}");
}

/// OrangeConnex wants the seller's eBay user id: read from eBay's Identity API when the
/// account connects.
async fn ebay_user_id_captured(app: TestApp) {
    let s = app.sign_up("Seller", "ebay-id@example.com").await;
    let account = crate::ebay::connect(&app, &s, "eBay store").await;
    let q = "query($id: ID!) { node(id: $id) { ... on Account { platformUserName } } }";
    let body = app.gql(q, json!({ "id": account }), Some(&s.access)).await;
    assert_eq!(body["data"]["node"]["platformUserName"], api::sandbox::ebay::SELLER_USERNAME, "{body}");
}

#[test]
fn carriers_documented_for_each_sandbox_marketplace() {
    // The codes the tests map are on each fake's documented list.
    assert!(api::sandbox::wish::ACCEPTED_CARRIERS.contains(&accepted_carrier("WISH")));
}
