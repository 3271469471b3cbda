//! OrangeConnex end to end over real HTTP against the sandbox OC server (seed 003's whole
//! flow): authorize → SKU create → pull → services → inbound with labels, tracking and a
//! clearance upload (GraphQL multipart) → put away → stock → outbound by pushing orders
//! (60 orders → 2 calls of ≤ 50) → poll to tracking number → cancel before and after
//! picking → autoFulfillmentEF import → stock movements over 30 days (5 windows). Then the
//! wire faults: expired access token (200 + success:false, and HTTP 401), a wrong
//! signature, a dead refresh token, and the upload limits.

use std::sync::Arc;

use api::sandbox::orangeconnex::{OcFake, SignMode};
use chrono::{Duration, Utc};
use entity::order;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::{Value, json};

use crate::{
    db_tests,
    fixtures::{self, MUG},
    helpers::{Session, TestApp},
};

db_tests!(orangeconnex_whole_flow, orangeconnex_wire_faults);

const START: &str = "mutation($n: String!) { startAccountAuthorization(input: { platform: ORANGECONNEX, name: $n }) { account { id status } authorizationUrl userErrors { code message } } }";
const ACCOUNT: &str = "query($id: ID!) { node(id: $id) { ... on Account { status accessTokenExpiresAt refreshTokenExpiresAt needsReauthorizationSoon lastSyncError } } }";
const PUSH_SKUS: &str = "mutation($i: PushSkusToWarehouseInput!) { pushSkusToWarehouse(input: $i) { results { skuId sku { code warehouseSkuId warehouseStatus } userErrors { code message } } userErrors { code field message } } }";
const PULL_SKUS: &str = "mutation($a: ID!) { pullWarehouseSkus(input: { accountId: $a }) { fetched linked unmatched userErrors { code message } } }";
const SKU: &str = "query($id: ID!) { node(id: $id) { ... on Sku { code warehouseSkuId warehouseStatus } } }";
const SERVICES: &str = "mutation($a: ID!) { syncWarehouseServices(input: { accountId: $a }) { channels { id code provider destinationCountries } userErrors { code message } } }";
const CREATE_INBOUND: &str = "mutation($i: CreateInboundOrderInput!) { createInboundOrder(input: $i) { inboundOrder { id inboundNumber status needClearanceDoc files { kind fileName sizeBytes url } lines { sellerCartonNumber quantity putAwayQuantity } } userErrors { code field message } } }";
const TRACKING: &str = "mutation($i: UploadInboundTrackingInput!) { uploadInboundTracking(input: $i) { inboundOrder { trackingNumbers { cartonNumber carrier trackingNumber } } userErrors { code field message } } }";
const UPLOAD: &str = "mutation($i: UploadClearanceDocumentInput!) { uploadClearanceDocument(input: $i) { file { kind fileType fileName contentType sizeBytes } userErrors { code field message } } }";
const INBOUND: &str = "query($id: ID!) { inboundOrder(id: $id) { status inboundNumber files { kind } lines { quantity receivedQuantity putAwayQuantity } } }";
const SYNC: &str = "mutation($a: ID!) { syncWarehouse(input: { accountId: $a }) { outboundUpdated trackingReceived autoFulfilledImported inboundUpdated userErrors { code message } } }";
const REFRESH: &str =
    "mutation($a: ID!) { refreshInventory(input: { accountId: $a }) { skus rows userErrors { code message } } }";
const SNAPSHOTS: &str = "query($s: ID!) { inventorySnapshots(filter: { skuId: $s }) { warehouseRegion countryCode warehouseCode available inTransit reserved } }";
const MOVEMENTS: &str = "query($s: ID!, $f: DateTime!, $t: DateTime!) { stockMovements(skuId: $s, from: $f, to: $t) { movementType quantity reference occurredAt } }";
const SET_CHANNEL: &str = "mutation($ids: [ID!]!, $c: ID!) { setOrderChannel(input: { orderIds: $ids, channelId: $c }) { results { orderId status userErrors { code message } } } }";
const PUSH: &str = "mutation($ids: [ID!]!) { pushOrders(input: { orderIds: $ids }) { job { id } results { orderId status userErrors { code message } } } }";
const CANCEL: &str = "mutation($ids: [ID!]!) { cancelOrders(input: { orderIds: $ids }) { results { orderId status userErrors { code message } } } }";
const ORDER: &str = "query($id: ID!) { node(id: $id) { ... on Order { fulfillmentStatus trackingNumber lastErrorCode lastOperationMessage waybill { status trackingNumber } } } }";
const OUTBOUND: &str = "query($o: ID!) { outboundOrders(orderId: $o) { outboundNumber status trackingNumber carrier chargeableWeightGrams feeMinor feeCurrency autoFulfilled } }";

fn oc(app: &TestApp) -> Arc<OcFake> {
    let oc = app.state.services.sandbox.as_ref().unwrap().orangeconnex.clone();
    // Tests move the fake by hand.
    oc.set_outbound_step(None);
    oc.set_inbound_step(None);
    oc.set_sku_review_delay(None);
    oc
}

/// Authorizes an OC account through the fake's consent page (as `seller`).
async fn connect(app: &TestApp, s: &Session, name: &str, seller: &str) -> String {
    let body = app.gql(START, json!({ "n": name }), Some(&s.access)).await;
    let p = &body["data"]["startAccountAuthorization"];
    assert_eq!(p["userErrors"], json!([]), "{body}");
    let account = p["account"]["id"].as_str().unwrap().to_owned();
    let url = p["authorizationUrl"].as_str().unwrap().to_owned();
    assert!(url.contains("/sandbox/orangeconnex/oauth/authorize?response_type=code&client_id="), "{url}");
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = browser.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Authorize"));
    let approved = browser.get(format!("{url}&approve=1&seller={seller}")).send().await.unwrap();
    assert!(approved.status().is_redirection(), "{:?}", approved.text().await);
    let callback = approved.headers()["location"].to_str().unwrap().to_owned();
    assert!(callback.starts_with(&app.url("/oauth/callback/orangeconnex")), "{callback}");
    assert!(callback.contains("act=getAuthorizationCode"), "{callback}");
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

/// A GraphQL multipart request (spec: operations, map, file part).
async fn upload(app: &TestApp, s: &Session, vars: Value, name: &str, content_type: &str, bytes: &[u8]) -> (u16, Value) {
    let boundary = "----shipgate-test-boundary-7MA4YWxkTrZu0gW";
    let operations = json!({ "query": UPLOAD, "variables": { "i": vars } });
    let mut body = Vec::new();
    let mut part = |headers: String, content: &[u8]| {
        body.extend_from_slice(format!("--{boundary}\r\n{headers}\r\n\r\n").as_bytes());
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    };
    part("Content-Disposition: form-data; name=\"operations\"".into(), operations.to_string().as_bytes());
    part("Content-Disposition: form-data; name=\"map\"".into(), br#"{ "0": ["variables.i.file"] }"#);
    part(
        format!("Content-Disposition: form-data; name=\"0\"; filename=\"{name}\"\r\nContent-Type: {content_type}"),
        bytes,
    );
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let resp = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&s.access)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn order_state(app: &TestApp, s: &Session, id: &str) -> Value {
    app.gql(ORDER, json!({ "id": id }), Some(&s.access)).await["data"]["node"].clone()
}

/// Waits until the push job has dealt with every order (none left without a message).
async fn wait_placed(app: &TestApp, s: &Session, ids: &[String]) {
    for _ in 0..200 {
        let mut pending = 0;
        for id in ids {
            let o = order_state(app, s, id).await;
            let msg = o["lastOperationMessage"].as_str().unwrap_or_default();
            if o["fulfillmentStatus"] == "PUSHING" && !msg.starts_with("Placed with") {
                pending += 1;
            }
        }
        if pending == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("push job did not place the orders");
}

async fn orangeconnex_whole_flow(app: TestApp) {
    let oc = oc(&app);
    let s = app.sign_up("Warehouse Co", "wh@example.com").await;
    let org = fixtures::org_of(&app, "wh@example.com").await;

    // 1. Authorize: tokens with OC's lifetimes.
    let account = connect(&app, &s, "OC UK", "seller-a").await;
    let acc = app.gql(ACCOUNT, json!({ "id": account }), Some(&s.access)).await["data"]["node"].clone();
    assert_eq!(acc["status"], "ACTIVE", "{acc}");
    let exp = |k: &str| chrono::DateTime::parse_from_rfc3339(acc[k].as_str().unwrap()).unwrap().with_timezone(&Utc);
    let access_left = exp("accessTokenExpiresAt") - Utc::now();
    assert!(access_left > Duration::minutes(58) && access_left <= Duration::hours(1), "{access_left}");
    let refresh_left = exp("refreshTokenExpiresAt") - Utc::now();
    assert!(refresh_left > Duration::days(364) && refresh_left <= Duration::days(365), "{refresh_left}");
    assert_eq!(acc["needsReauthorizationSoon"], false);

    // 2. SKUs to the warehouse: MFSKUIDs, DRAFT until reviewed.
    let mug = fixtures::gid(api::graphql::ids::Kind::Sku, fixtures::sku(&app, org, "MUG-1", MUG).await);
    let cup = fixtures::gid(api::graphql::ids::Kind::Sku, fixtures::sku(&app, org, "CUP-2", MUG).await);
    let pushed = gql_ok(
        &app,
        &s,
        PUSH_SKUS,
        json!({ "i": { "accountId": account, "skuIds": [mug, cup], "regions": ["GB"] } }),
        "pushSkusToWarehouse",
    )
    .await;
    let results = pushed["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    let mut mf = Vec::new();
    for r in results {
        assert_eq!(r["userErrors"], json!([]), "{r}");
        assert_eq!(r["sku"]["warehouseStatus"], "DRAFT");
        let id = r["sku"]["warehouseSkuId"].as_str().unwrap().to_owned();
        assert!(id.starts_with("OC") && id.len() == 15 && id[2..].bytes().all(|b| b.is_ascii_digit()), "{id}");
        mf.push(id);
    }
    // Pushing again is harmless: the same MFSKUIDs (OC's own region code this time; GB above
    // stands for it).
    let again = gql_ok(
        &app,
        &s,
        PUSH_SKUS,
        json!({ "i": { "accountId": account, "skuIds": [mug], "regions": ["UK"] } }),
        "pushSkusToWarehouse",
    )
    .await;
    assert_eq!(again["results"][0]["sku"]["warehouseSkuId"], mf[0].as_str());
    // A region OC does not serve (or a country with several OC regions) is refused before any call.
    let bad = app
        .gql(PUSH_SKUS, json!({ "i": { "accountId": account, "skuIds": [mug], "regions": ["US"] } }), Some(&s.access))
        .await;
    assert_eq!(bad["data"]["pushSkusToWarehouse"]["userErrors"][0]["code"], "INVALID", "{bad}");

    // 3. Review on OC's portal, then pull: APPROVED.
    assert!(oc.review_sku(&mf[0], "APPROVED"));
    assert!(oc.review_sku(&mf[1], "APPROVED"));
    let pulled = gql_ok(&app, &s, PULL_SKUS, json!({ "a": account }), "pullWarehouseSkus").await;
    assert_eq!(pulled["linked"], 2, "{pulled}");
    let sku = app.gql(SKU, json!({ "id": mug }), Some(&s.access)).await;
    assert_eq!(sku["data"]["node"]["warehouseStatus"], "APPROVED", "{sku}");

    // 4. Services → channels.
    let services = gql_ok(&app, &s, SERVICES, json!({ "a": account }), "syncWarehouseServices").await;
    let channels = services["channels"].as_array().unwrap();
    assert!(channels.len() >= 7, "{services}");
    let gb = channels.iter().find(|c| c["code"] == "OC-GBDomesticStandard").unwrap();
    assert_eq!(gb["provider"], "ORANGECONNEX");
    assert_eq!(gb["destinationCountries"], json!(["GB"]));
    let gb = gb["id"].as_str().unwrap().to_owned();
    // Idempotent: the same channels again.
    let again = gql_ok(&app, &s, SERVICES, json!({ "a": account }), "syncWarehouseServices").await;
    assert_eq!(again["channels"].as_array().unwrap().len(), channels.len());

    // 5. Inbound: express, with clearance papers required.
    let eta = (Utc::now() + Duration::days(10)).date_naive().to_string();
    let input = json!({
        "accountId": account, "warehouseRegion": "GB", "sellerInboundNumber": "IN-0001", "shippingMethod": "EXPRESS",
        "eta": eta, "needClearanceDoc": true,
        "cartons": [
            { "sellerCartonNumber": "C1", "lines": [{ "skuId": mug, "quantity": 40 }] },
            { "sellerCartonNumber": "C2", "lines": [{ "skuId": mug, "quantity": 30 }, { "skuId": cup, "quantity": 50 }] },
        ],
    });
    let created = gql_ok(&app, &s, CREATE_INBOUND, json!({ "i": input }), "createInboundOrder").await;
    let ib = &created["inboundOrder"];
    let inbound_number = ib["inboundNumber"].as_str().unwrap().to_owned();
    assert!(inbound_number.starts_with("OCI"), "{inbound_number}");
    assert_eq!(ib["status"], "CREATED");
    let kinds: Vec<&str> = ib["files"].as_array().unwrap().iter().map(|f| f["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["SKU_LABEL", "CARTON_LABEL"]);
    let label = app.client.get(ib["files"][0]["url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(label.status(), 200);
    assert!(label.bytes().await.unwrap().starts_with(b"%PDF"));
    let inbound_id = ib["id"].as_str().unwrap().to_owned();
    // The same seller number again is taken.
    let dup = app.gql(CREATE_INBOUND, json!({ "i": input }), Some(&s.access)).await;
    assert_eq!(dup["data"]["createInboundOrder"]["userErrors"][0]["code"], "TAKEN", "{dup}");
    // An unknown SKU id is refused with nothing written.
    let mut unregistered = input.clone();
    unregistered["sellerInboundNumber"] = json!("IN-0002");
    let plain = fixtures::gid(api::graphql::ids::Kind::Sku, fixtures::sku(&app, org, "PLAIN", MUG).await);
    unregistered["cartons"][0]["lines"][0]["skuId"] = json!(plain);
    let refused = app.gql(CREATE_INBOUND, json!({ "i": unregistered }), Some(&s.access)).await;
    assert_eq!(refused["data"]["createInboundOrder"]["userErrors"][0]["code"], "SKU_NOT_IN_WAREHOUSE", "{refused}");

    let tracked = gql_ok(
        &app,
        &s,
        TRACKING,
        json!({ "i": { "inboundOrderId": inbound_id, "cartons": [
            { "cartonNumber": "C1", "carrier": "DHL", "trackingNumber": "1234567890" },
            { "cartonNumber": "C2", "carrier": "DHL", "trackingNumber": "1234567891" },
        ] } }),
        "uploadInboundTracking",
    )
    .await;
    assert_eq!(tracked["inboundOrder"]["trackingNumbers"].as_array().unwrap().len(), 2);

    // Put away at OC, but the clearance papers are missing: not complete yet.
    assert!(oc.set_inbound_status(&inbound_number, "Put away"));
    gql_ok(&app, &s, SYNC, json!({ "a": account }), "syncWarehouse").await;
    let state = app.gql(INBOUND, json!({ "id": inbound_id }), Some(&s.access)).await["data"]["inboundOrder"].clone();
    assert_ne!(state["status"], "COMPLETED", "{state}");

    let pdf = b"%PDF-1.4\n% packing list\n";
    let (status, up) = upload(
        &app,
        &s,
        json!({ "inboundOrderId": inbound_id, "fileType": "PL", "file": null }),
        "packing list.pdf",
        "application/pdf",
        pdf,
    )
    .await;
    assert_eq!(status, 200, "{up}");
    let f = &up["data"]["uploadClearanceDocument"];
    assert_eq!(f["userErrors"], json!([]), "{up}");
    assert_eq!(f["file"]["kind"], "CLEARANCE");
    assert_eq!(f["file"]["sizeBytes"], pdf.len());
    assert_eq!(oc.clearance_files(&inbound_number), vec![("packing list.pdf".to_owned(), "PL".to_owned(), pdf.len())]);
    // The same file again is not sent twice.
    upload(
        &app,
        &s,
        json!({ "inboundOrderId": inbound_id, "fileType": "PL", "file": null }),
        "packing list.pdf",
        "application/pdf",
        pdf,
    )
    .await;
    assert_eq!(oc.clearance_files(&inbound_number).len(), 1);

    let synced = gql_ok(&app, &s, SYNC, json!({ "a": account }), "syncWarehouse").await;
    assert_eq!(synced["inboundUpdated"], 1, "{synced}");
    let state = app.gql(INBOUND, json!({ "id": inbound_id }), Some(&s.access)).await["data"]["inboundOrder"].clone();
    assert_eq!(state["status"], "COMPLETED", "{state}");
    let put_away: i64 = state["lines"].as_array().unwrap().iter().map(|l| l["putAwayQuantity"].as_i64().unwrap()).sum();
    assert_eq!(put_away, 120);
    let received: i64 =
        state["lines"].as_array().unwrap().iter().map(|l| l["receivedQuantity"].as_i64().unwrap()).sum();
    assert_eq!(received, 120, "OC's received counts are read: {state}");

    // 6. Stock: one row per warehouse.
    let refreshed = gql_ok(&app, &s, REFRESH, json!({ "a": account }), "refreshInventory").await;
    assert_eq!(refreshed["skus"], 2, "{refreshed}");
    let snaps = app.gql(SNAPSHOTS, json!({ "s": mug }), Some(&s.access)).await["data"]["inventorySnapshots"].clone();
    // OC's region code, and the ISO country of its warehouse.
    let gb_row = snaps.as_array().unwrap().iter().find(|r| r["warehouseRegion"] == "UK").unwrap().clone();
    assert_eq!(gb_row["countryCode"], "GB", "{snaps}");
    assert_eq!(gb_row["available"], 70, "{snaps}");

    // 7. Outbound: 60 eBay orders on the GB service → 2 calls (50 + 10).
    let account_ebay = fixtures::account(&app, org).await;
    // OC's `ebayId`: the eBay username read when the account connected.
    let mut a: entity::account::ActiveModel =
        entity::account::Entity::find_by_id(account_ebay).one(&app.state.services.db).await.unwrap().unwrap().into();
    a.platform_user_name = Set(Some("seller-ebay-uk".into()));
    a.update(&app.state.services.db).await.unwrap();
    let uk = fixtures::addr("Siobhan O'Neil", "1 King's Road", "GB");
    let mut ids = Vec::new();
    for _ in 0..60 {
        let id = fixtures::order(&app, org, account_ebay, &uk, &[(Some(fixtures::uuid_of(&mug)), 1)]).await;
        ids.push(fixtures::gid(api::graphql::ids::Kind::Order, id));
    }
    // One more whose eBay id is in the old 12-digit form: refused before any call.
    let legacy = fixtures::order(&app, org, account_ebay, &uk, &[(Some(fixtures::uuid_of(&mug)), 1)]).await;
    let mut m: order::ActiveModel =
        order::Entity::find_by_id(legacy).one(&app.state.services.db).await.unwrap().unwrap().into();
    m.platform_order_id = Set("110012345678".into());
    m.update(&app.state.services.db).await.unwrap();
    let legacy = fixtures::gid(api::graphql::ids::Kind::Order, legacy);

    let mut all = ids.clone();
    all.push(legacy.clone());
    let set = app.gql(SET_CHANNEL, json!({ "ids": all, "c": gb }), Some(&s.access)).await;
    assert!(
        set["data"]["setOrderChannel"]["results"].as_array().unwrap().iter().all(|r| r["userErrors"] == json!([])),
        "{set}"
    );
    let pushed = app.gql(PUSH, json!({ "ids": all }), Some(&s.access)).await;
    let results = pushed["data"]["pushOrders"]["results"].as_array().unwrap().clone();
    let legacy_result = results.iter().find(|r| r["orderId"] == legacy.as_str()).unwrap();
    assert_eq!(legacy_result["status"], "PUSH_FAILED", "{pushed}");
    assert_eq!(legacy_result["userErrors"][0]["code"], "ORDER_ID_FORMAT");
    wait_placed(&app, &s, &ids).await;
    assert_eq!(oc.outbound_batch_sizes(), vec![50, 10]);
    let first = order_state(&app, &s, &ids[0]).await;
    assert_eq!(first["fulfillmentStatus"], "PUSHING", "{first}");
    assert_eq!(first["waybill"]["status"], "UNCONFIRMED");
    let out = app.gql(OUTBOUND, json!({ "o": ids[0] }), Some(&s.access)).await["data"]["outboundOrders"][0].clone();
    let number = out["outboundNumber"].as_str().unwrap().to_owned();
    assert!(number.starts_with("OCO") && number.ends_with("GB"), "{number}");

    // An eBay order whose seller eBay id is unknown is refused (typed), never sent without `ebayId`.
    let nameless_account = fixtures::account(&app, org).await;
    {
        let mut a: entity::account::ActiveModel = entity::account::Entity::find_by_id(nameless_account)
            .one(&app.state.services.db)
            .await
            .unwrap()
            .unwrap()
            .into();
        a.platform_user_name = Set(None);
        a.external_account_id = Set(None);
        a.update(&app.state.services.db).await.unwrap();
    }
    let nameless = fixtures::order(&app, org, nameless_account, &uk, &[(Some(fixtures::uuid_of(&mug)), 1)]).await;
    let nameless = fixtures::gid(api::graphql::ids::Kind::Order, nameless);
    let set = app.gql(SET_CHANNEL, json!({ "ids": [nameless], "c": gb }), Some(&s.access)).await;
    assert_eq!(set["data"]["setOrderChannel"]["results"][0]["userErrors"], json!([]), "{set}");
    let at_once = app.gql(PUSH, json!({ "ids": [nameless] }), Some(&s.access)).await;
    assert_eq!(
        at_once["data"]["pushOrders"]["results"][0]["userErrors"][0]["code"], "EBAY_ID_MISSING",
        "refused at push time: {at_once}"
    );
    let mut refused = Value::Null;
    for _ in 0..200 {
        refused = order_state(&app, &s, &nameless).await;
        if refused["fulfillmentStatus"] != "PUSHING" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(refused["fulfillmentStatus"], "PUSH_FAILED", "{refused}");
    assert_eq!(refused["lastErrorCode"], "EBAY_ID_MISSING", "{refused}");
    assert_eq!(oc.outbound_batch_sizes(), vec![50, 10]);

    // 8. Packed at OC → the poll brings the tracking number: PUSHED.
    assert!(oc.set_outbound_status(&number, "PACKED"));
    let synced = gql_ok(&app, &s, SYNC, json!({ "a": account }), "syncWarehouse").await;
    assert_eq!(synced["trackingReceived"], 1, "{synced}");
    let first = order_state(&app, &s, &ids[0]).await;
    assert_eq!(first["fulfillmentStatus"], "PUSHED", "{first}");
    let tracking = first["trackingNumber"].as_str().unwrap().to_owned();
    assert_eq!(first["waybill"]["trackingNumber"], tracking.as_str());
    assert_eq!(first["waybill"]["status"], "FORECASTED");
    let out = app.gql(OUTBOUND, json!({ "o": ids[0] }), Some(&s.access)).await["data"]["outboundOrders"][0].clone();
    assert_eq!(out["status"], "PACKED");
    assert_eq!(out["trackingNumber"], tracking.as_str());
    assert!(out["chargeableWeightGrams"].as_i64().unwrap() > 0 && out["feeMinor"].as_i64().unwrap() > 0, "{out}");
    // Polling again changes nothing.
    let again = gql_ok(&app, &s, SYNC, json!({ "a": account }), "syncWarehouse").await;
    assert_eq!(again["trackingReceived"], 0, "{again}");

    // 9. Cancel before picking: cancelled at OC too.
    let n1 =
        app.gql(OUTBOUND, json!({ "o": ids[1] }), Some(&s.access)).await["data"]["outboundOrders"][0]["outboundNumber"]
            .as_str()
            .unwrap()
            .to_owned();
    let cancelled = app.gql(CANCEL, json!({ "ids": [ids[1]] }), Some(&s.access)).await;
    assert_eq!(cancelled["data"]["cancelOrders"]["results"][0]["status"], "CANCELLED", "{cancelled}");
    assert_eq!(oc.outbound_status(&n1).as_deref(), Some("CANCELLED"));
    // After picking: refused, nothing changes here or there.
    let n2 =
        app.gql(OUTBOUND, json!({ "o": ids[2] }), Some(&s.access)).await["data"]["outboundOrders"][0]["outboundNumber"]
            .as_str()
            .unwrap()
            .to_owned();
    assert!(oc.set_outbound_status(&n2, "PICKED"));
    let refused = app.gql(CANCEL, json!({ "ids": [ids[2]] }), Some(&s.access)).await;
    let r = &refused["data"]["cancelOrders"]["results"][0];
    assert_eq!(r["userErrors"][0]["code"], "CANCEL_REFUSED_AFTER_PICKING", "{refused}");
    assert_eq!(r["status"], "PUSHING");
    assert_eq!(order_state(&app, &s, &ids[2]).await["fulfillmentStatus"], "PUSHING");
    assert_eq!(oc.outbound_status(&n2).as_deref(), Some("PICKED"));
    // A PUSHED order (packed) cannot be reset at OC either.
    let reset = app
        .gql(
            "mutation($ids: [ID!]!) { resetOrders(input: { orderIds: $ids }) { results { status userErrors { code } } } }",
            json!({ "ids": [ids[0]] }),
            Some(&s.access),
        )
        .await;
    assert_eq!(
        reset["data"]["resetOrders"]["results"][0]["userErrors"][0]["code"], "CANCEL_REFUSED_AFTER_PICKING",
        "{reset}"
    );

    // An exception at OC is OC's to resolve: the order keeps waiting, then gets its number.
    let n3 =
        app.gql(OUTBOUND, json!({ "o": ids[3] }), Some(&s.access)).await["data"]["outboundOrders"][0]["outboundNumber"]
            .as_str()
            .unwrap()
            .to_owned();
    assert!(oc.set_outbound_status(&n3, "EXCEPTION"));
    gql_ok(&app, &s, SYNC, json!({ "a": account }), "syncWarehouse").await;
    let waiting = order_state(&app, &s, &ids[3]).await;
    assert_eq!(waiting["fulfillmentStatus"], "PUSHING", "{waiting}");
    assert!(waiting["lastOperationMessage"].as_str().unwrap().contains("exception"), "{waiting}");
    assert!(oc.set_outbound_status(&n3, "SHIPPED"));
    gql_ok(&app, &s, SYNC, json!({ "a": account }), "syncWarehouse").await;
    assert_eq!(order_state(&app, &s, &ids[3]).await["fulfillmentStatus"], "PUSHED");

    // OC cancels an order on its side: PUSH_FAILED, and pushing again places a new outbound
    // order under a new reference (never the dead one).
    let n4 =
        app.gql(OUTBOUND, json!({ "o": ids[4] }), Some(&s.access)).await["data"]["outboundOrders"][0]["outboundNumber"]
            .as_str()
            .unwrap()
            .to_owned();
    assert!(oc.set_outbound_status(&n4, "CANCELLED"));
    gql_ok(&app, &s, SYNC, json!({ "a": account }), "syncWarehouse").await;
    let failed = order_state(&app, &s, &ids[4]).await;
    assert_eq!(failed["fulfillmentStatus"], "PUSH_FAILED", "{failed}");
    let again = app.gql(PUSH, json!({ "ids": [ids[4]] }), Some(&s.access)).await;
    assert_eq!(again["data"]["pushOrders"]["results"][0]["status"], "PUSHING", "{again}");
    wait_placed(&app, &s, &[ids[4].clone()]).await;
    let outs = app.gql(OUTBOUND, json!({ "o": ids[4] }), Some(&s.access)).await["data"]["outboundOrders"].clone();
    let numbers: Vec<&str> = outs.as_array().unwrap().iter().map(|o| o["outboundNumber"].as_str().unwrap()).collect();
    assert_eq!(numbers.len(), 2, "{outs}");
    assert_ne!(numbers[0], numbers[1]);
    assert_eq!(oc.outbound_status(numbers[1]).as_deref(), Some("CREATED"));

    // 10. autoFulfillmentEF: OC shipped an eBay order by itself; the poll records it shipped.
    let auto = fixtures::order(&app, org, account_ebay, &uk, &[(Some(fixtures::uuid_of(&mug)), 1)]).await;
    let auto_ebay_id =
        order::Entity::find_by_id(auto).one(&app.state.services.db).await.unwrap().unwrap().platform_order_id;
    let auto_number = oc.add_auto_fulfilled(&auto_ebay_id, "GB", &mf[0], 1);
    let synced = gql_ok(&app, &s, SYNC, json!({ "a": account }), "syncWarehouse").await;
    assert_eq!(synced["autoFulfilledImported"], 1, "{synced}");
    let auto_gid = fixtures::gid(api::graphql::ids::Kind::Order, auto);
    let shipped = order_state(&app, &s, &auto_gid).await;
    assert_eq!(shipped["fulfillmentStatus"], "SHIPPED", "{shipped}");
    assert!(shipped["lastOperationMessage"].as_str().unwrap().contains(&auto_number));
    let out = app.gql(OUTBOUND, json!({ "o": auto_gid }), Some(&s.access)).await["data"]["outboundOrders"][0].clone();
    assert_eq!(out["autoFulfilled"], true);
    let again = gql_ok(&app, &s, SYNC, json!({ "a": account }), "syncWarehouse").await;
    assert_eq!(again["autoFulfilledImported"], 0, "{again}");
    // Seen first while OC is still working on it: recorded, then marked shipped once it is.
    let later = fixtures::order(&app, org, account_ebay, &uk, &[(Some(fixtures::uuid_of(&mug)), 1)]).await;
    let later_ebay_id =
        order::Entity::find_by_id(later).one(&app.state.services.db).await.unwrap().unwrap().platform_order_id;
    let later_number = oc.add_auto_fulfilled(&later_ebay_id, "GB", &mf[0], 1);
    assert!(oc.set_outbound_status(&later_number, "PROCESSING"));
    let synced = gql_ok(&app, &s, SYNC, json!({ "a": account }), "syncWarehouse").await;
    assert_eq!(synced["autoFulfilledImported"], 1, "{synced}");
    let later_gid = fixtures::gid(api::graphql::ids::Kind::Order, later);
    assert_eq!(order_state(&app, &s, &later_gid).await["fulfillmentStatus"], "UNPUSHED");
    assert!(oc.set_outbound_status(&later_number, "SHIPPED"));
    gql_ok(&app, &s, SYNC, json!({ "a": account }), "syncWarehouse").await;
    assert_eq!(order_state(&app, &s, &later_gid).await["fulfillmentStatus"], "SHIPPED");

    // 11. Stock movements over 30 days: 5 windows of ≤ 7 days, the put-away among them.
    let before = oc.movement_windows().len();
    let to = Utc::now() + Duration::minutes(1);
    let from = to - Duration::days(30);
    let moves =
        app.gql(MOVEMENTS, json!({ "s": mug, "f": from.to_rfc3339(), "t": to.to_rfc3339() }), Some(&s.access)).await;
    assert!(moves.get("errors").is_none(), "{moves}");
    let windows = oc.movement_windows();
    assert_eq!(windows.len() - before, 5, "{windows:?}");
    assert!(windows[before..].iter().all(|(a, b)| *b - *a <= Duration::days(7)));
    let list = moves["data"]["stockMovements"].as_array().unwrap();
    assert!(list.iter().any(|m| m["reference"] == inbound_number.as_str()), "{moves}");
    // Re-reading the range stores nothing twice.
    let again =
        app.gql(MOVEMENTS, json!({ "s": mug, "f": from.to_rfc3339(), "t": to.to_rfc3339() }), Some(&s.access)).await;
    assert_eq!(again["data"]["stockMovements"].as_array().unwrap().len(), list.len());
    // Older than a year: refused.
    let old = app
        .gql(
            MOVEMENTS,
            json!({ "s": mug, "f": (Utc::now() - Duration::days(400)).to_rfc3339(), "t": Utc::now().to_rfc3339() }),
            Some(&s.access),
        )
        .await;
    assert_eq!(old["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{old}");

    // 12. Another tenant sees none of it.
    let other = app.sign_up("Other Co", "other@example.com").await;
    let peek = app.gql(INBOUND, json!({ "id": inbound_id }), Some(&other.access)).await;
    assert_eq!(peek["errors"][0]["extensions"]["code"], "NOT_FOUND", "{peek}");
    let poke = app.gql(SYNC, json!({ "a": account }), Some(&other.access)).await;
    assert_eq!(poke["errors"][0]["extensions"]["code"], "NOT_FOUND", "{poke}");
}

async fn orangeconnex_wire_faults(app: TestApp) {
    let oc = oc(&app);
    let s = app.sign_up("Faults Co", "faults@example.com").await;
    let org = fixtures::org_of(&app, "faults@example.com").await;
    let account = connect(&app, &s, "OC", "seller-b").await;
    let mug = fixtures::gid(api::graphql::ids::Kind::Sku, fixtures::sku(&app, org, "MUG-9", MUG).await);
    let pushed = gql_ok(
        &app,
        &s,
        PUSH_SKUS,
        json!({ "i": { "accountId": account, "skuIds": [mug], "regions": ["DE"] } }),
        "pushSkusToWarehouse",
    )
    .await;
    assert_eq!(pushed["results"][0]["userErrors"], json!([]), "{pushed}");

    // Expired access token, answered OC's usual way (HTTP 200 + success:false): refreshed
    // once, the call goes through.
    let tokens_before = oc.calls("token");
    oc.expire_access_tokens();
    gql_ok(&app, &s, REFRESH, json!({ "a": account }), "refreshInventory").await;
    assert_eq!(oc.calls("token"), tokens_before + 1);
    // And as HTTP 401.
    oc.set_http_401_on_bad_token(true);
    oc.expire_access_tokens();
    gql_ok(&app, &s, REFRESH, json!({ "a": account }), "refreshInventory").await;
    assert_eq!(oc.calls("token"), tokens_before + 2);
    oc.set_http_401_on_bad_token(false);

    // A signature OC does not accept (the server signs the body, OC expects path only).
    *oc.sign_mode.lock().unwrap() = SignMode::PathOnly;
    let refused = app.gql(REFRESH, json!({ "a": account }), Some(&s.access)).await;
    let e = &refused["data"]["refreshInventory"]["userErrors"][0];
    assert_eq!(e["code"], "PROVIDER_REJECTED", "{refused}");
    assert!(e["message"].as_str().unwrap().to_lowercase().contains("sign"), "{refused}");
    *oc.sign_mode.lock().unwrap() = SignMode::PathAndBody;

    // Upload limits (an express inbound without clearance need; files are still accepted).
    assert!(oc.review_sku(
        app.gql(SKU, json!({ "id": mug }), Some(&s.access)).await["data"]["node"]["warehouseSkuId"].as_str().unwrap(),
        "APPROVED"
    ));
    let eta = (Utc::now() + Duration::days(3)).date_naive().to_string();
    let created = gql_ok(
        &app,
        &s,
        CREATE_INBOUND,
        json!({ "i": { "accountId": account, "warehouseRegion": "DE", "sellerInboundNumber": "SEA-1", "shippingMethod": "SEA",
            "eta": eta, "cartons": [{ "sellerCartonNumber": "C1", "lines": [{ "skuId": mug, "quantity": 5 }] }] } }),
        "createInboundOrder",
    )
    .await;
    let inbound_id = created["inboundOrder"]["id"].as_str().unwrap().to_owned();
    // Tracking numbers are for express inbounds only.
    let t = app.gql(TRACKING, json!({ "i": { "inboundOrderId": inbound_id, "cartons": [{ "cartonNumber": "C1", "carrier": "DHL", "trackingNumber": "1" }] } }), Some(&s.access)).await;
    assert_eq!(t["data"]["uploadInboundTracking"]["userErrors"][0]["code"], "INVALID_STATE", "{t}");
    let vars = json!({ "inboundOrderId": inbound_id, "fileType": "IN", "file": null });
    let (status, body) =
        upload(&app, &s, vars.clone(), "big.pdf", "application/pdf", &vec![b'x'; 10 * 1024 * 1024 + 1]).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    let (_, body) = upload(&app, &s, vars.clone(), "notes.txt", "text/plain", b"hello").await;
    assert_eq!(body["data"]["uploadClearanceDocument"]["userErrors"][0]["code"], "INVALID", "{body}");
    let (_, body) = upload(
        &app,
        &s,
        json!({ "inboundOrderId": inbound_id, "fileType": "XX", "file": null }),
        "a.pdf",
        "application/pdf",
        b"%PDF",
    )
    .await;
    assert_eq!(
        body["data"]["uploadClearanceDocument"]["userErrors"][0]["field"],
        json!(["input", "fileType"]),
        "{body}"
    );
    let (_, body) = upload(&app, &s, vars, "invoice.pdf", "application/pdf", b"%PDF-1.4 invoice").await;
    assert_eq!(body["data"]["uploadClearanceDocument"]["userErrors"], json!([]), "{body}");
    // Without a login, a multipart body is held to the JSON limit (read before nothing else).
    let anonymous = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "multipart/form-data; boundary=x")
        .body(vec![b'x'; 300 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 413);
    // JSON requests keep their own, smaller body limit.
    let big = "x".repeat(300 * 1024);
    let (status, _) = app.post("query { __typename }", json!({ "pad": big }), Some(&s.access)).await;
    assert_eq!(status, 413);

    // The refresh token's year nearly over: warned a month ahead.
    let acc_id = fixtures::uuid_of(&account);
    let mut a: entity::account::ActiveModel =
        entity::account::Entity::find_by_id(acc_id).one(&app.state.services.db).await.unwrap().unwrap().into();
    a.refresh_token_expires_at = Set(Some(Utc::now() + Duration::days(20)));
    a.update(&app.state.services.db).await.unwrap();
    let acc = app.gql(ACCOUNT, json!({ "id": account }), Some(&s.access)).await["data"]["node"].clone();
    assert_eq!(acc["needsReauthorizationSoon"], true, "{acc}");

    // A dead refresh token: the account needs reauthorization, and says so.
    oc.expire_refresh_tokens();
    oc.expire_access_tokens();
    let dead = app.gql(REFRESH, json!({ "a": account }), Some(&s.access)).await;
    assert_eq!(dead["data"]["refreshInventory"]["userErrors"][0]["code"], "ACCOUNT_NEEDS_REAUTHORIZATION", "{dead}");
    let acc = app.gql(ACCOUNT, json!({ "id": account }), Some(&s.access)).await["data"]["node"].clone();
    assert_eq!(acc["status"], "NEEDS_REAUTHORIZATION", "{acc}");
    // No token reached the logs.
    let logs = crate::helpers::captured_logs();
    for secret in oc.issued_secrets() {
        assert!(!logs.contains(&secret), "a token leaked into the logs");
    }
}
