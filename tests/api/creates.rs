//! Issue 17 item 2: a create at a provider is never resent blindly. For each call that
//! creates something at OrangeConnex (outbound order, inbound order, SKU), the sandbox OC
//! carries the creation out and then loses the answer (HTTP 500, or the connection closed
//! mid-answer): Shipgate makes exactly one create and one lookup, and ends in the state a
//! clean answer would have given (the order placed with OC's outbound number, then PUSHED;
//! the inbound order stored with OC's number; the SKU with its MFSKUID).
//!
//! And what the first version missed (review of item 2): a second request for an inbound
//! number while the first is still at OC gets CONFLICT and sends nothing; OC refusing the
//! number as taken keeps the draft and stores what OC holds; a SKU whose creation's outcome
//! stayed unknown is looked up first by the next push, which creates nothing.

use std::sync::Arc;

use api::sandbox::orangeconnex::{LostAnswer, OcFake};
use chrono::{Duration, Utc};
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::{
    fixtures::{self, MUG},
    helpers::{Backend, Session, TestApp, spawn_with},
};

const START: &str = "mutation($n: String!) { startAccountAuthorization(input: { platform: ORANGECONNEX, name: $n }) { account { id } authorizationUrl userErrors { code message } } }";
const PUSH_SKUS: &str = "mutation($i: PushSkusToWarehouseInput!) { pushSkusToWarehouse(input: $i) { results { skuId sku { code warehouseSkuId warehouseStatus } userErrors { code message } } userErrors { code field message } } }";
const PULL_SKUS: &str = "mutation($a: ID!) { pullWarehouseSkus(input: { accountId: $a }) { fetched linked unmatched userErrors { code message } } }";
const SKU: &str = "query($id: ID!) { node(id: $id) { ... on Sku { code warehouseSkuId warehouseStatus } } }";
const SERVICES: &str = "mutation($a: ID!) { syncWarehouseServices(input: { accountId: $a }) { channels { id code } userErrors { code message } } }";
const CREATE_INBOUND: &str = "mutation($i: CreateInboundOrderInput!) { createInboundOrder(input: $i) { inboundOrder { id inboundNumber status lines { sellerCartonNumber quantity } } userErrors { code field message } } }";
const INBOUNDS: &str =
    "{ inboundOrders(first: 10) { edges { node { id inboundNumber status sellerInboundNumber } } } }";
const SET_CHANNEL: &str = "mutation($ids: [ID!]!, $c: ID!) { setOrderChannel(input: { orderIds: $ids, channelId: $c }) { results { userErrors { code message } } } }";
const PUSH: &str = "mutation($ids: [ID!]!) { pushOrders(input: { orderIds: $ids }) { results { orderId status userErrors { code message } } } }";
const ORDER: &str = "query($id: ID!) { node(id: $id) { ... on Order { fulfillmentStatus trackingNumber lastErrorCode lastOperationMessage waybill { status trackingNumber } } } }";
const OUTBOUND: &str = "query($o: ID!) { outboundOrders(orderId: $o) { outboundNumber status trackingNumber } }";
const SYNC: &str = "mutation($a: ID!) { syncWarehouse(input: { accountId: $a }) { outboundUpdated trackingReceived userErrors { code message } } }";

/// One test per (case, lost answer, database).
macro_rules! lost_answer_tests {
    ($($test:ident),* $(,)?) => {
        $(
            mod $test {
                use api::sandbox::orangeconnex::LostAnswer;
                use crate::helpers::Backend;
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn http_500_sqlite() {
                    super::$test(Backend::Sqlite, LostAnswer::Http500).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn disconnect_sqlite() {
                    super::$test(Backend::Sqlite, LostAnswer::Disconnect).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn http_500_postgres() {
                    super::$test(Backend::Postgres, LostAnswer::Http500).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn disconnect_postgres() {
                    super::$test(Backend::Postgres, LostAnswer::Disconnect).await;
                }
            }
        )*
    };
}

lost_answer_tests!(
    lost_outbound_create,
    lost_inbound_create,
    lost_sku_create,
    duplicate_inbound_kept,
    sku_attempt_remembered
);

/// One test per database.
macro_rules! database_tests {
    ($($test:ident),* $(,)?) => {
        $(
            mod $test {
                use crate::helpers::Backend;
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$test(Backend::Sqlite).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$test(Backend::Postgres).await;
                }
            }
        )*
    };
}

database_tests!(concurrent_inbound_resume);

/// An app whose warehouse poll stays out of the way (the lookups counted are ours), with
/// the sandbox OC moved by hand only.
async fn start(backend: Backend) -> (TestApp, Arc<OcFake>) {
    start_with(backend, |_| {}).await
}

/// [`start`] with more settings changed.
async fn start_with(backend: Backend, tweak: impl FnOnce(&mut api::config::Settings)) -> (TestApp, Arc<OcFake>) {
    let app = spawn_with(backend, |s| {
        s.warehouse_poll_secs = 3600;
        tweak(s);
    })
    .await;
    let oc = app.state.services.sandbox.as_ref().unwrap().orangeconnex.clone();
    oc.set_outbound_step(None);
    oc.set_inbound_step(None);
    oc.set_sku_review_delay(None);
    (app, oc)
}

/// Authorizes an OC account through the fake's consent page.
async fn connect(app: &TestApp, s: &Session, seller: &str) -> String {
    let body = app.gql(START, json!({ "n": "OC UK" }), Some(&s.access)).await;
    let p = &body["data"]["startAccountAuthorization"];
    assert_eq!(p["userErrors"], json!([]), "{body}");
    let account = p["account"]["id"].as_str().unwrap().to_owned();
    let url = p["authorizationUrl"].as_str().unwrap().to_owned();
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let approved = browser.get(format!("{url}&approve=1&seller={seller}")).send().await.unwrap();
    assert!(approved.status().is_redirection(), "{:?}", approved.text().await);
    let callback = approved.headers()["location"].to_str().unwrap().to_owned();
    // The callback page hands code and state to an authenticated mutation (item 9).
    let fields = crate::oauth_binding::callback_page(app, &callback).await;
    let done = crate::oauth_binding::complete(app, s, &fields).await;
    assert_eq!(done["data"]["completeAccountAuthorization"]["userErrors"], json!([]), "{done}");
    account
}

async fn gql_ok(app: &TestApp, s: &Session, q: &str, v: Value, field: &str) -> Value {
    let body = app.gql(q, v, Some(&s.access)).await;
    assert!(body.get("errors").is_none(), "{body}");
    let p = body["data"][field].clone();
    if let Some(errs) = p.get("userErrors") {
        assert_eq!(errs, &json!([]), "{body}");
    }
    p
}

/// A seller with an OC account and one catalogue SKU (`code`), not yet in the warehouse.
async fn seller(app: &TestApp, email: &str, code: &str) -> (Session, uuid::Uuid, String, String) {
    let s = app.sign_up("Creates Co", email).await;
    let org = fixtures::org_of(app, email).await;
    let account = connect(app, &s, &format!("seller-{}", email.split('@').next().unwrap())).await;
    let sku = fixtures::gid(api::graphql::ids::Kind::Sku, fixtures::sku(app, org, code, MUG).await);
    (s, org, account, sku)
}

/// The SKU pushed to the warehouse (a clean answer) and approved there; its MFSKUID.
async fn sku_in_warehouse(app: &TestApp, oc: &OcFake, s: &Session, account: &str, sku: &str) -> String {
    let pushed = gql_ok(
        app,
        s,
        PUSH_SKUS,
        json!({ "i": { "accountId": account, "skuIds": [sku], "regions": ["UK"] } }),
        "pushSkusToWarehouse",
    )
    .await;
    assert_eq!(pushed["results"][0]["userErrors"], json!([]), "{pushed}");
    let mf = pushed["results"][0]["sku"]["warehouseSkuId"].as_str().unwrap().to_owned();
    assert!(oc.review_sku(&mf, "APPROVED"));
    gql_ok(app, s, PULL_SKUS, json!({ "a": account }), "pullWarehouseSkus").await;
    mf
}

async fn order_state(app: &TestApp, s: &Session, id: &str) -> Value {
    app.gql(ORDER, json!({ "id": id }), Some(&s.access)).await["data"]["node"].clone()
}

/// Outbound: OC places the order, then its answer is lost. One creation, one lookup by
/// referenceNumber; the order is placed (PUSHING, OC's number recorded) and goes PUSHED
/// with OC's tracking number as usual.
async fn lost_outbound_create(backend: Backend, how: LostAnswer) {
    let (app, oc) = start(backend).await;
    let (s, org, account, mug) = seller(&app, "outbound@example.com", "MUG-OUT").await;
    sku_in_warehouse(&app, &oc, &s, &account, &mug).await;
    let services = gql_ok(&app, &s, SERVICES, json!({ "a": account }), "syncWarehouseServices").await;
    let gb =
        services["channels"].as_array().unwrap().iter().find(|c| c["code"] == "OC-GBDomesticStandard").unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
    let ebay = fixtures::account(&app, org).await;
    let uk = fixtures::addr("Siobhan O'Neil", "1 King's Road", "GB");
    let order = fixtures::gid(
        api::graphql::ids::Kind::Order,
        fixtures::order(&app, org, ebay, &uk, &[(Some(fixtures::uuid_of(&mug)), 2)]).await,
    );
    let set = app.gql(SET_CHANNEL, json!({ "ids": [order], "c": gb }), Some(&s.access)).await;
    assert_eq!(set["data"]["setOrderChannel"]["results"][0]["userErrors"], json!([]), "{set}");

    let (creates, lookups) = (oc.calls("outbound.create"), oc.calls("outbound.query"));
    oc.lose_next_answers("outbound.create", 1, how);
    let pushed = app.gql(PUSH, json!({ "ids": [order] }), Some(&s.access)).await;
    assert_eq!(pushed["data"]["pushOrders"]["results"][0]["status"], "PUSHING", "{pushed}");
    let mut placed = Value::Null;
    for _ in 0..300 {
        placed = order_state(&app, &s, &order).await;
        let message = placed["lastOperationMessage"].as_str().unwrap_or_default();
        if placed["fulfillmentStatus"] != "PUSHING" || message.starts_with("Placed with") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(placed["fulfillmentStatus"], "PUSHING", "placed, waiting for OC's number: {placed}");
    let message = placed["lastOperationMessage"].as_str().unwrap_or_default().to_owned();
    assert!(message.starts_with("Placed with OC-GBDomesticStandard as OCO"), "{placed}");
    assert_eq!(oc.calls("outbound.create") - creates, 1, "exactly one creation at OC");
    assert_eq!(oc.calls("outbound.query") - lookups, 1, "exactly one lookup");
    assert_eq!(oc.outbound_batch_sizes(), vec![1], "one order placed at OC");

    // OC's outbound number is recorded, and it is the order OC holds.
    let out = app.gql(OUTBOUND, json!({ "o": order }), Some(&s.access)).await["data"]["outboundOrders"].clone();
    assert_eq!(out.as_array().unwrap().len(), 1, "{out}");
    let number = out[0]["outboundNumber"].as_str().unwrap().to_owned();
    assert!(message.contains(&number), "{message} names {number}");
    assert_eq!(oc.outbound_status(&number).as_deref(), Some("CREATED"));

    // Then as today: OC packs it, the poll brings the tracking number, the order is PUSHED.
    assert!(oc.set_outbound_status(&number, "PACKED"));
    gql_ok(&app, &s, SYNC, json!({ "a": account }), "syncWarehouse").await;
    let pushed = order_state(&app, &s, &order).await;
    assert_eq!(pushed["fulfillmentStatus"], "PUSHED", "{pushed}");
    let tracking = pushed["trackingNumber"].as_str().unwrap();
    assert!(tracking.starts_with("OC") && tracking.ends_with("GB"), "{pushed}");
    assert_eq!(oc.calls("outbound.create") - creates, 1, "never created again");
    let out = app.gql(OUTBOUND, json!({ "o": order }), Some(&s.access)).await["data"]["outboundOrders"].clone();
    assert_eq!(out[0]["outboundNumber"], number.as_str(), "{out}");
    assert_eq!(out[0]["trackingNumber"], tracking, "{out}");
}

/// Inbound: OC records the inbound order, then its answer is lost. One creation, one
/// lookup by seller inbound number; the order is stored with OC's number.
async fn lost_inbound_create(backend: Backend, how: LostAnswer) {
    let (app, oc) = start(backend).await;
    let (s, _, account, mug) = seller(&app, "inbound@example.com", "MUG-IN").await;
    sku_in_warehouse(&app, &oc, &s, &account, &mug).await;

    let (creates, lookups) = (oc.calls("inbound.create"), oc.calls("inbound.detail"));
    oc.lose_next_answers("inbound.create", 1, how);
    let eta = (Utc::now() + Duration::days(10)).date_naive().to_string();
    let input = json!({
        "accountId": account, "warehouseRegion": "UK", "sellerInboundNumber": "IN-LOST-1", "shippingMethod": "EXPRESS",
        "eta": eta, "needClearanceDoc": false,
        "cartons": [{ "sellerCartonNumber": "C1", "lines": [{ "skuId": mug, "quantity": 12 }] }],
    });
    let created = gql_ok(&app, &s, CREATE_INBOUND, json!({ "i": input }), "createInboundOrder").await;
    let ib = &created["inboundOrder"];
    let number = ib["inboundNumber"].as_str().unwrap().to_owned();
    assert!(number.starts_with("OCI"), "{created}");
    assert_eq!(ib["status"], "CREATED", "{created}");
    assert_eq!(ib["lines"], json!([{ "sellerCartonNumber": "C1", "quantity": 12 }]), "{created}");
    assert_eq!(oc.calls("inbound.create") - creates, 1, "exactly one creation at OC");
    assert_eq!(oc.calls("inbound.detail") - lookups, 1, "exactly one lookup");

    // Stored once, with the number OC holds it under (OC knows it: its status can be set).
    let list = app.gql(INBOUNDS, json!({}), Some(&s.access)).await;
    let edges = list["data"]["inboundOrders"]["edges"].as_array().unwrap().clone();
    assert_eq!(edges.len(), 1, "{list}");
    assert_eq!(edges[0]["node"]["inboundNumber"], number.as_str(), "{list}");
    assert_eq!(edges[0]["node"]["sellerInboundNumber"], "IN-LOST-1", "{list}");
    assert!(oc.set_inbound_status(&number, "In transit"), "OC holds {number}");
    // The seller number stays taken (refused by us, no call).
    let again = app.gql(CREATE_INBOUND, json!({ "i": input }), Some(&s.access)).await;
    assert_eq!(again["data"]["createInboundOrder"]["userErrors"][0]["code"], "TAKEN", "{again}");
    assert_eq!(oc.calls("inbound.create") - creates, 1);
}

/// SKU: OC registers the SKU, then its answer is lost. One creation, one lookup by
/// referenceSKUID; the SKU is stored with its MFSKUID (a draft, as OC holds it).
async fn lost_sku_create(backend: Backend, how: LostAnswer) {
    let (app, oc) = start(backend).await;
    let (s, _, account, mug) = seller(&app, "sku@example.com", "MUG-SKU").await;

    let (creates, lookups) = (oc.calls("sku.create"), oc.calls("sku.query"));
    oc.lose_next_answers("sku.create", 1, how);
    let pushed = gql_ok(
        &app,
        &s,
        PUSH_SKUS,
        json!({ "i": { "accountId": account, "skuIds": [mug], "regions": ["UK"] } }),
        "pushSkusToWarehouse",
    )
    .await;
    let r = &pushed["results"][0];
    assert_eq!(r["userErrors"], json!([]), "{pushed}");
    let mf = r["sku"]["warehouseSkuId"].as_str().unwrap().to_owned();
    assert!(mf.starts_with("OC") && mf.len() == 15, "{pushed}");
    assert_eq!(r["sku"]["warehouseStatus"], "DRAFT", "{pushed}");
    assert_eq!(oc.calls("sku.create") - creates, 1, "exactly one creation at OC");
    assert_eq!(oc.calls("sku.query") - lookups, 1, "exactly one lookup");

    // Stored: the MFSKUID OC holds (OC knows it: it can be reviewed).
    let stored = app.gql(SKU, json!({ "id": mug }), Some(&s.access)).await["data"]["node"].clone();
    assert_eq!(stored["warehouseSkuId"], mf.as_str(), "{stored}");
    assert!(oc.review_sku(&mf, "APPROVED"), "OC holds {mf}");
    let db = &app.state.services.db;
    let row = entity::sku::Entity::find_by_id(fixtures::uuid_of(&mug)).one(db).await.unwrap().unwrap();
    assert_eq!(row.warehouse_sku_id.as_deref(), Some(mf.as_str()));
    assert_eq!(row.warehouse_account_id, Some(fixtures::uuid_of(&account)));
}

/// `createInboundOrder`'s input: one carton of 12 of `sku`.
fn inbound_input(account: &str, sku: &str, number: &str) -> Value {
    let eta = (Utc::now() + Duration::days(10)).date_naive().to_string();
    json!({
        "accountId": account, "warehouseRegion": "UK", "sellerInboundNumber": number, "shippingMethod": "EXPRESS",
        "eta": eta, "needClearanceDoc": false,
        "cartons": [{ "sellerCartonNumber": "C1", "lines": [{ "skuId": sku, "quantity": 12 }] }],
    })
}

/// The organization's inbound orders (id, inboundNumber, status, sellerInboundNumber).
async fn inbound_list(app: &TestApp, s: &Session) -> Vec<Value> {
    let list = app.gql(INBOUNDS, json!({}), Some(&s.access)).await;
    list["data"]["inboundOrders"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{list}"))
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

/// Request A's creation reaches OC and waits there; request B for the same number (a double
/// click, or a retry) comes meanwhile. B gets CONFLICT and sends nothing (no lookup, no
/// creation); A's creation goes through and is stored with OC's number.
async fn concurrent_inbound_resume(backend: Backend) {
    let (app, oc) = start(backend).await;
    let (s, _, account, mug) = seller(&app, "race@example.com", "MUG-RACE").await;
    sku_in_warehouse(&app, &oc, &s, &account, &mug).await;
    let input = inbound_input(&account, &mug, "IN-RACE-1");

    let (creates, lookups) = (oc.calls("inbound.create"), oc.calls("inbound.detail"));
    oc.hold_next("inbound.create", 1);
    let a = app.gql(CREATE_INBOUND, json!({ "i": input }), Some(&s.access));
    let b = async {
        for _ in 0..500 {
            if oc.calls("inbound.create") > creates {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(oc.calls("inbound.create") - creates, 1, "A's creation is at OC");
        let b = app.gql(CREATE_INBOUND, json!({ "i": input }), Some(&s.access)).await;
        let during = (oc.calls("inbound.create") - creates, oc.calls("inbound.detail") - lookups);
        oc.release_held("inbound.create");
        (b, during)
    };
    let (a, (b, during)) = tokio::join!(a, b);
    assert_eq!(b["errors"][0]["extensions"]["code"], "CONFLICT", "{b}");
    assert_eq!(during, (1, 0), "B sent nothing to OC: {b}");

    // A: created and stored with the number OC holds it under.
    assert!(a.get("errors").is_none(), "{a}");
    let p = &a["data"]["createInboundOrder"];
    assert_eq!(p["userErrors"], json!([]), "{a}");
    let number = p["inboundOrder"]["inboundNumber"].as_str().unwrap_or_else(|| panic!("{a}")).to_owned();
    assert!(number.starts_with("OCI"), "{a}");
    assert_eq!(p["inboundOrder"]["status"], "CREATED", "{a}");
    assert_eq!(p["inboundOrder"]["lines"], json!([{ "sellerCartonNumber": "C1", "quantity": 12 }]), "{a}");
    assert_eq!(oc.calls("inbound.create") - creates, 1, "exactly one creation at OC");
    assert_eq!(oc.calls("inbound.detail") - lookups, 0, "nothing to look up");
    let list = inbound_list(&app, &s).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["inboundNumber"], number.as_str(), "{list:?}");
    assert!(oc.set_inbound_status(&number, "In transit"), "OC holds {number}");

    // B again, now that A is done: the number is taken (refused by us, no call).
    let again = app.gql(CREATE_INBOUND, json!({ "i": input }), Some(&s.access)).await;
    assert_eq!(again["data"]["createInboundOrder"]["userErrors"][0]["code"], "TAKEN", "{again}");
    assert_eq!(oc.calls("inbound.create") - creates, 1);
}

/// OC records the creation and loses its answer, and its detail query does not show the
/// order yet, so the lookup misses and the creation is sent again: OC refuses the number as
/// taken (DUPLICATE_SELLER_INBOUND_NUMBER). The draft stays (PROVIDER_UNAVAILABLE, not a
/// refusal); once OC shows the order, the same request stores it without creating anything.
async fn duplicate_inbound_kept(backend: Backend, how: LostAnswer) {
    let (app, oc) = start(backend).await;
    let (s, _, account, mug) = seller(&app, "duplicate@example.com", "MUG-DUP").await;
    sku_in_warehouse(&app, &oc, &s, &account, &mug).await;
    let input = inbound_input(&account, &mug, "IN-DUP-1");

    let (creates, lookups) = (oc.calls("inbound.create"), oc.calls("inbound.detail"));
    oc.set_inbound_lookup_lag(Some(Duration::hours(1)));
    oc.lose_next_answers("inbound.create", 1, how);
    let first = app.gql(CREATE_INBOUND, json!({ "i": input }), Some(&s.access)).await;
    assert!(first.get("errors").is_none(), "{first}");
    assert_eq!(first["data"]["createInboundOrder"]["userErrors"][0]["code"], "PROVIDER_UNAVAILABLE", "{first}");
    assert_eq!(oc.calls("inbound.create") - creates, 2, "the creation, and the one OC refused as a duplicate");
    assert_eq!(oc.calls("inbound.detail") - lookups, 2, "after the lost answer, after the duplicate");
    let list = inbound_list(&app, &s).await;
    assert_eq!(list.len(), 1, "the draft stays: {list:?}");
    assert_eq!(list[0]["status"], "DRAFT", "{list:?}");
    assert_eq!(list[0]["inboundNumber"], Value::Null, "{list:?}");

    oc.set_inbound_lookup_lag(None);
    let again = gql_ok(&app, &s, CREATE_INBOUND, json!({ "i": input }), "createInboundOrder").await;
    let ib = &again["inboundOrder"];
    let number = ib["inboundNumber"].as_str().unwrap_or_else(|| panic!("{again}")).to_owned();
    assert!(number.starts_with("OCI"), "{again}");
    assert_eq!(ib["status"], "CREATED", "{again}");
    assert_eq!(ib["lines"], json!([{ "sellerCartonNumber": "C1", "quantity": 12 }]), "{again}");
    assert_eq!(oc.calls("inbound.create") - creates, 2, "nothing created again");
    assert_eq!(oc.calls("inbound.detail") - lookups, 3, "looked up first");
    let list = inbound_list(&app, &s).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["inboundNumber"], number.as_str(), "{list:?}");
    assert!(oc.set_inbound_status(&number, "In transit"), "OC holds {number}");
}

/// SKU: OC registers the SKU and its answer is lost, then the request's deadline stops it
/// while it looks the SKU up (OC slow to answer): the push fails (PROVIDER_UNAVAILABLE). The
/// next push looks the SKU up before sending anything, finds it, and stores its MFSKUID: one
/// creation in all.
async fn sku_attempt_remembered(backend: Backend, how: LostAnswer) {
    let (app, oc) = start_with(backend, |s| s.limits.request_timeout_secs = 3).await;
    let (s, _, account, mug) = seller(&app, "mark@example.com", "MUG-MARK").await;
    let vars = json!({ "i": { "accountId": account, "skuIds": [mug], "regions": ["UK"] } });

    let (creates, lookups) = (oc.calls("sku.create"), oc.calls("sku.query"));
    oc.lose_next_answers("sku.create", 1, how);
    oc.hold_next("sku.query", 1);
    let first = app.gql(PUSH_SKUS, vars.clone(), Some(&s.access)).await;
    oc.release_held("sku.query");
    assert_eq!(first["errors"][0]["extensions"]["code"], "PROVIDER_UNAVAILABLE", "stopped by the deadline: {first}");
    assert_eq!(oc.calls("sku.create") - creates, 1);
    assert_eq!(oc.calls("sku.query") - lookups, 1);
    let stored = app.gql(SKU, json!({ "id": mug }), Some(&s.access)).await["data"]["node"].clone();
    assert_eq!(stored["warehouseSkuId"], Value::Null, "{stored}");

    let pushed = gql_ok(&app, &s, PUSH_SKUS, vars, "pushSkusToWarehouse").await;
    let r = &pushed["results"][0];
    assert_eq!(r["userErrors"], json!([]), "{pushed}");
    let mf = r["sku"]["warehouseSkuId"].as_str().unwrap_or_else(|| panic!("{pushed}")).to_owned();
    assert!(mf.starts_with("OC") && mf.len() == 15, "{pushed}");
    assert_eq!(r["sku"]["warehouseStatus"], "DRAFT", "{pushed}");
    assert_eq!(oc.calls("sku.create") - creates, 1, "never created again");
    assert_eq!(oc.calls("sku.query") - lookups, 2, "looked up first");
    assert!(oc.review_sku(&mf, "APPROVED"), "OC holds {mf}");
    let db = &app.state.services.db;
    let row = entity::sku::Entity::find_by_id(fixtures::uuid_of(&mug)).one(db).await.unwrap().unwrap();
    assert_eq!(row.warehouse_sku_id.as_deref(), Some(mf.as_str()));
    assert_eq!(row.warehouse_account_id, Some(fixtures::uuid_of(&account)));
}
