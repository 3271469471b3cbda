//! The fulfilment workflow over HTTP (seed 000 §6-7 and its FAQ): set channel → push →
//! results → reset → push → mark shipped; each FAQ error with its code; fixing an
//! unconfirmed waybill and pushing again; special characters; concurrent pushes booking
//! exactly one waybill; idempotency keys; channels and their permissions; tenancy.

use std::time::{Duration, Instant};

use api::{domain::channels::s10, graphql::ids::Kind};
use entity::{sku, waybill};
use futures_util::future::join_all;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    db_tests,
    fixtures::{self, Decl, MUG, addr, gid, open_channel},
    helpers::{Session, TestApp, code},
};

db_tests!(
    workflow_end_to_end,
    faq_errors_have_codes,
    fix_unconfirmed_waybill_and_push_again,
    special_characters_round_trip,
    concurrent_pushes_book_one_waybill,
    idempotency_keys,
    manual_waybills,
    channels_and_permissions,
    tracking_range_exhaustion,
    other_tenants_orders_are_not_found,
    push_results_reach_subscribers,
);

pub const SET_CHANNEL: &str = "mutation($ids: [ID!]!, $c: ID!) { setOrderChannel(input: { orderIds: $ids, channelId: $c }) { results { orderId status userErrors { code message } } userErrors { code message } } }";
pub const PUSH: &str = "mutation($ids: [ID!]!, $k: String) { pushOrders(input: { orderIds: $ids, idempotencyKey: $k }) { results { orderId status waybill { id status customerReference } userErrors { code field message } } job { id } userErrors { code message } } }";
const RESET: &str = "mutation($ids: [ID!]!) { resetOrders(input: { orderIds: $ids }) { results { orderId status userErrors { code message } } userErrors { code message } } }";
const CANCEL: &str = "mutation($ids: [ID!]!) { cancelOrders(input: { orderIds: $ids }) { results { orderId status userErrors { code message } } userErrors { code message } } }";
pub const SHIP: &str = "mutation($ids: [ID!]!, $wb: Boolean!) { markOrdersShipped(input: { orderIds: $ids, writeBack: $wb }) { results { orderId status userErrors { code message } } userErrors { code message } } }";
pub const ORDER: &str = "query($id: ID!) { order(id: $id) { fulfillmentStatus writeBackStatus writeBackError trackingNumber lastErrorCode lastOperationMessage recipient { name line1 } waybill { id status trackingNumber errorCode errorMessage customerReference edited recipient { name line1 city } originalRecipient { name line1 } normalisedFields lines { skuCode nameEn nameCn pickingInfo quantity } } } }";
const WAYBILL: &str = "query($id: ID!) { node(id: $id) { ... on Waybill { status trackingNumber } } }";
const UPDATE_WAYBILL: &str = "mutation($i: UpdateWaybillInput!) { updateWaybill(input: $i) { waybill { id edited recipient { line1 } } userErrors { code field message } } }";

pub struct Setup {
    pub owner: Session,
    pub org: Uuid,
    pub account: Uuid,
}

pub async fn setup(app: &TestApp, email: &str) -> Setup {
    let owner = app.sign_up("Seller", email).await;
    let org = fixtures::org_of(app, email).await;
    let account = fixtures::account(app, org).await;
    Setup { owner, org, account }
}

pub async fn order_state(app: &TestApp, s: &Session, id: &str) -> Value {
    let body = app.gql(ORDER, json!({ "id": id }), Some(&s.access)).await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["order"].clone()
}

/// Polls until the order leaves PUSHING (or the write-back leaves PENDING).
pub async fn settled(app: &TestApp, s: &Session, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let o = order_state(app, s, id).await;
        if o["fulfillmentStatus"] != "PUSHING" && o["writeBackStatus"] != "PENDING" {
            return o;
        }
        assert!(Instant::now() < deadline, "order stuck: {o}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn results(body: &Value, op: &str) -> Vec<Value> {
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(body["data"][op]["userErrors"], json!([]), "{body}");
    body["data"][op]["results"].as_array().unwrap().clone()
}

fn codes(r: &Value) -> Vec<String> {
    r["userErrors"].as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap().to_owned()).collect()
}

async fn set_channel(app: &TestApp, s: &Session, ids: &[&str], channel: &str) {
    let body = app.gql(SET_CHANNEL, json!({ "ids": ids, "c": channel }), Some(&s.access)).await;
    for r in results(&body, "setOrderChannel") {
        assert_eq!(codes(&r), Vec::<String>::new(), "{r}");
    }
}

async fn workflow_end_to_end(app: TestApp) {
    let t = setup(&app, "flow@example.com").await;
    let s = &t.owner;
    let mug = fixtures::sku(&app, t.org, "MUG-1", MUG).await;
    let a = gid(
        Kind::Order,
        fixtures::order(&app, t.org, t.account, &addr("Seán O'Brien", "12 O'Connell St", "IE"), &[(Some(mug), 2)])
            .await,
    );
    let b = gid(
        Kind::Order,
        fixtures::order(&app, t.org, t.account, &addr("Chloé D'Arcy", "5 Rue de l'Église", "FR"), &[(Some(mug), 1)])
            .await,
    );
    let ch = fixtures::channel(&app, s, open_channel("OPEN")).await;
    set_channel(&app, s, &[&a, &b], &ch).await;

    // Push: accepted at once as PUSHING with an UNCONFIRMED OD… waybill, booked by a job.
    let body = app.gql(PUSH, json!({ "ids": [&a, &b] }), Some(&s.access)).await;
    let r = results(&body, "pushOrders");
    assert!(body["data"]["pushOrders"]["job"]["id"].is_string(), "{body}");
    for x in &r {
        assert_eq!(x["status"], "PUSHING", "{x}");
        assert_eq!(x["waybill"]["status"], "UNCONFIRMED");
        assert!(x["waybill"]["customerReference"].as_str().unwrap().starts_with("OD12-"), "{x}");
    }
    let oa = settled(&app, s, &a).await;
    let ob = settled(&app, s, &b).await;
    for o in [&oa, &ob] {
        assert_eq!(o["fulfillmentStatus"], "PUSHED", "{o}");
        let t = o["trackingNumber"].as_str().unwrap();
        assert!(s10::is_valid(t) && t.starts_with("RR") && t.ends_with("CN"), "{t}");
        assert_eq!(o["waybill"]["status"], "FORECASTED");
        assert_eq!(o["waybill"]["trackingNumber"], o["trackingNumber"]);
        assert_eq!(o["waybill"]["lines"][0]["pickingInfo"], "MUG-1 蓝色 blue");
    }
    assert_ne!(oa["trackingNumber"], ob["trackingNumber"]);
    let list = app
        .gql(
            "{ waybills(filter: { status: [FORECASTED] }) { totalCount edges { node { customerReference order { id } } } } }",
            json!({}),
            Some(&s.access),
        )
        .await;
    assert_eq!(list["data"]["waybills"]["totalCount"], 2, "{list}");

    // Reset: back to UNPUSHED, the waybill cancelled; a new push gets a new number.
    let first_waybill = oa["waybill"]["id"].as_str().unwrap().to_owned();
    let r = results(&app.gql(RESET, json!({ "ids": [&a] }), Some(&s.access)).await, "resetOrders");
    assert_eq!(r[0]["status"], "UNPUSHED", "{r:?}");
    let after = order_state(&app, s, &a).await;
    assert!(after["waybill"].is_null() && after["trackingNumber"].is_null(), "{after}");
    let w = app.gql(WAYBILL, json!({ "id": first_waybill }), Some(&s.access)).await;
    assert_eq!(w["data"]["node"]["status"], "CANCELLED", "{w}");
    results(&app.gql(PUSH, json!({ "ids": [&a] }), Some(&s.access)).await, "pushOrders");
    let again = settled(&app, s, &a).await;
    assert_eq!(again["fulfillmentStatus"], "PUSHED");
    assert_ne!(again["trackingNumber"], oa["trackingNumber"], "a reset number is never reused");

    // Mark shipped (internal): SHIPPED, nothing written back; then nothing else applies.
    let r = results(&app.gql(SHIP, json!({ "ids": [&a], "wb": false }), Some(&s.access)).await, "markOrdersShipped");
    assert_eq!(r[0]["status"], "SHIPPED");
    let shipped = order_state(&app, s, &a).await;
    assert_eq!(shipped["writeBackStatus"], "NOT_REQUESTED");
    assert_eq!(shipped["waybill"]["status"], "SHIPPED");
    for (q, op) in [(RESET, "resetOrders"), (CANCEL, "cancelOrders")] {
        let r = results(&app.gql(q, json!({ "ids": [&a] }), Some(&s.access)).await, op);
        assert_eq!(codes(&r[0]), ["INVALID_STATE"], "{op}: {r:?}");
        assert_eq!(r[0]["status"], "SHIPPED");
    }
    let r = results(&app.gql(PUSH, json!({ "ids": [&a] }), Some(&s.access)).await, "pushOrders");
    assert_eq!(codes(&r[0]), ["INVALID_STATE"]);

    // Cancel a pushed order: CANCELLED and its waybill too; it cannot be pushed again.
    let r = results(&app.gql(CANCEL, json!({ "ids": [&b] }), Some(&s.access)).await, "cancelOrders");
    assert_eq!(r[0]["status"], "CANCELLED");
    let w = app.gql(WAYBILL, json!({ "id": ob["waybill"]["id"] }), Some(&s.access)).await;
    assert_eq!(w["data"]["node"]["status"], "CANCELLED");
    let r = results(&app.gql(PUSH, json!({ "ids": [&b] }), Some(&s.access)).await, "pushOrders");
    assert_eq!(codes(&r[0]), ["INVALID_STATE"]);
    let r = results(&app.gql(SET_CHANNEL, json!({ "ids": [&b], "c": ch }), Some(&s.access)).await, "setOrderChannel");
    assert_eq!(codes(&r[0]), ["INVALID_STATE"]);
}

async fn faq_errors_have_codes(app: TestApp) {
    let t = setup(&app, "faq@example.com").await;
    let s = &t.owner;
    let mug = fixtures::sku(&app, t.org, "MUG-1", MUG).await;
    let bare =
        fixtures::sku(&app, t.org, "BARE", Decl { name_en: None, name_cn: None, value_minor: None, weight: None })
            .await;
    let cn_only = fixtures::sku(
        &app,
        t.org,
        "CN-ONLY",
        Decl { name_en: None, name_cn: Some("杯子"), value_minor: Some(100), weight: Some(100) },
    )
    .await;
    let pricey = fixtures::sku(
        &app,
        t.org,
        "WATCH",
        Decl { name_en: Some("Watch"), name_cn: None, value_minor: Some(2_500), weight: Some(100) },
    )
    .await;
    let de = addr("Zoë Müller", "Königsallee 1", "DE");
    let mut no_city = de.clone();
    no_city.city = None;
    no_city.postal = None;
    let mk = |a: fixtures::Addr, lines: Vec<(Option<Uuid>, i32)>| {
        let app = &app;
        async move { gid(Kind::Order, fixtures::order(app, t.org, t.account, &a, &lines).await) }
    };
    let no_channel = mk(de.clone(), vec![(Some(mug), 1)]).await;
    let not_served = mk(addr("Seán", "1 Main St", "IE"), vec![(Some(mug), 1)]).await;
    let no_decl = mk(de.clone(), vec![(Some(bare), 1)]).await;
    let no_sku = mk(de.clone(), vec![(None, 1)]).await;
    let no_en = mk(de.clone(), vec![(Some(cn_only), 1)]).await;
    let heavy = mk(de.clone(), vec![(Some(mug), 4)]).await;
    let valuable = mk(de.clone(), vec![(Some(pricey), 1)]).await;
    let incomplete = mk(no_city, vec![(Some(mug), 1)]).await;
    let fine = mk(de.clone(), vec![(Some(mug), 2)]).await;
    let ch = fixtures::channel(
        &app,
        s,
        json!({
            "code": "EU", "name": "EU line", "destinationCountries": ["DE", "FR"],
            "maxWeightGrams": 1000, "maxValueMinor": 2000, "valueCurrency": "USD",
            "requiredFields": ["RECIPIENT_POSTAL_CODE"],
            "trackingRange": { "prefix": "EE", "suffix": "CN", "start": 1, "end": 1000 },
        }),
    )
    .await;
    let with_channel = [&not_served, &no_decl, &no_sku, &no_en, &heavy, &valuable, &incomplete, &fine];
    set_channel(&app, s, &with_channel.map(String::as_str), &ch).await;
    let all = [&no_channel, &not_served, &no_decl, &no_sku, &no_en, &heavy, &valuable, &incomplete, &fine];
    let body = app.gql(PUSH, json!({ "ids": all }), Some(&s.access)).await;
    let r = results(&body, "pushOrders");
    let expect = [
        ("CHANNEL_NOT_SET", &no_channel),
        ("DESTINATION_NOT_SERVED", &not_served),
        ("DECLARATION_MISSING", &no_decl),
        ("DECLARATION_MISSING", &no_sku),
        ("DECLARATION_NAME_EN_MISSING", &no_en),
        ("WEIGHT_LIMIT_EXCEEDED", &heavy),
        ("VALUE_LIMIT_EXCEEDED", &valuable),
        ("ADDRESS_INCOMPLETE", &incomplete),
    ];
    for (i, (c, id)) in expect.iter().enumerate() {
        assert_eq!(r[i]["orderId"], json!(id), "results keep input order");
        assert_eq!(codes(&r[i]), [*c], "{}", r[i]);
        assert_eq!(r[i]["status"], "PUSH_FAILED");
        let o = order_state(&app, s, id).await;
        assert_eq!(o["fulfillmentStatus"], "PUSH_FAILED");
        assert_eq!(o["lastErrorCode"], *c, "{o}");
        assert!(o["lastOperationMessage"].as_str().is_some_and(|m| !m.is_empty()));
    }
    assert!(r[4]["userErrors"][0]["message"].as_str().unwrap().contains("CN-ONLY"), "names the SKU: {}", r[4]);
    assert!(r[7]["userErrors"][0]["message"].as_str().unwrap().contains("city"), "{}", r[7]);
    assert_eq!(r[8]["status"], "PUSHING");
    assert_eq!(settled(&app, s, &fine).await["fulfillmentStatus"], "PUSHED");
    let r = results(&app.gql(PUSH, json!({ "ids": [&fine] }), Some(&s.access)).await, "pushOrders");
    assert_eq!(codes(&r[0]), ["INVALID_STATE"]);

    // FAQ fix: complete the SKU's declaration in the catalogue and push again.
    sku::Entity::update_many()
        .col_expr(sku::Column::DeclNameEn, Expr::value("Cup"))
        .filter(sku::Column::Id.eq(cn_only))
        .exec(&app.state.services.db)
        .await
        .unwrap();
    let r = results(&app.gql(PUSH, json!({ "ids": [&no_en] }), Some(&s.access)).await, "pushOrders");
    assert_eq!(r[0]["status"], "PUSHING", "{r:?}");
    let o = settled(&app, s, &no_en).await;
    assert_eq!(o["fulfillmentStatus"], "PUSHED");
    assert!(o["lastErrorCode"].is_null());
    assert_eq!(o["waybill"]["lines"][0]["nameEn"], "Cup");
}

async fn fix_unconfirmed_waybill_and_push_again(app: TestApp) {
    let t = setup(&app, "fix@example.com").await;
    let s = &t.owner;
    let mug = fixtures::sku(&app, t.org, "MUG-1", MUG).await;
    let long = "Calle de Alcalá 42, 3º Izq., Escalera B";
    let o = gid(
        Kind::Order,
        fixtures::order(&app, t.org, t.account, &addr("José Álvarez", long, "ES"), &[(Some(mug), 1)]).await,
    );
    let mut input = open_channel("SHORT");
    input["addressLineMax"] = json!(20);
    let ch = fixtures::channel(&app, s, input).await;
    set_channel(&app, s, &[&o], &ch).await;
    results(&app.gql(PUSH, json!({ "ids": [&o] }), Some(&s.access)).await, "pushOrders");
    let failed = settled(&app, s, &o).await;
    assert_eq!(failed["fulfillmentStatus"], "PUSH_FAILED", "{failed}");
    assert_eq!(failed["lastErrorCode"], "PROVIDER_REJECTED");
    let w = &failed["waybill"];
    assert_eq!(w["status"], "UNCONFIRMED", "{failed}");
    assert_eq!(w["errorCode"], "PROVIDER_REJECTED");
    assert!(w["errorMessage"].as_str().unwrap().contains("at most 20"), "{w}");
    assert!(w["trackingNumber"].is_null());

    // 未确认运单 → edit: shorten the line, then push the order again.
    let body = app
        .gql(
            UPDATE_WAYBILL,
            json!({ "i": { "id": w["id"], "recipient": {
                "name": "José Álvarez", "line1": "C. Alcalá 42, 3º", "line2": "Izq., Esc. B",
                "city": "Madrid", "postalCode": "28014", "countryCode": "ES" } } }),
            Some(&s.access),
        )
        .await;
    assert_eq!(body["data"]["updateWaybill"]["userErrors"], json!([]), "{body}");
    assert_eq!(body["data"]["updateWaybill"]["waybill"]["edited"], true);
    results(&app.gql(PUSH, json!({ "ids": [&o] }), Some(&s.access)).await, "pushOrders");
    let done = settled(&app, s, &o).await;
    assert_eq!(done["fulfillmentStatus"], "PUSHED", "{done}");
    assert_eq!(done["waybill"]["id"], w["id"], "the same waybill, now forecast");
    assert_eq!(done["waybill"]["recipient"]["line1"], "C. Alcalá 42, 3º", "the edited snapshot was sent");
    assert_eq!(done["recipient"]["line1"], long, "the order keeps the marketplace's address");
    assert!(done["waybill"]["errorCode"].is_null());
    // A forecast waybill is no longer editable.
    let body = app.gql(UPDATE_WAYBILL, json!({ "i": { "id": w["id"], "lines": [] } }), Some(&s.access)).await;
    assert_eq!(body["data"]["updateWaybill"]["userErrors"][0]["code"], "INVALID_STATE", "{body}");

    // Reset and push again: the fixed address is kept (a new waybill, a new number).
    results(&app.gql(RESET, json!({ "ids": [&o] }), Some(&s.access)).await, "resetOrders");
    results(&app.gql(PUSH, json!({ "ids": [&o] }), Some(&s.access)).await, "pushOrders");
    let again = settled(&app, s, &o).await;
    assert_eq!(again["fulfillmentStatus"], "PUSHED", "{again}");
    assert_ne!(again["waybill"]["id"], w["id"]);
    assert_eq!(again["waybill"]["recipient"]["line1"], "C. Alcalá 42, 3º");
    assert_eq!(again["waybill"]["edited"], true);

    // Correcting the order's own recipient wins over the waybill edit from then on.
    results(&app.gql(RESET, json!({ "ids": [&o] }), Some(&s.access)).await, "resetOrders");
    let upd = "mutation($i: UpdateOrderRecipientInput!) { updateOrderRecipient(input: $i) { userErrors { code } } }";
    let body = app
        .gql(
            upd,
            json!({ "i": { "orderId": &o, "recipient": { "name": "José Álvarez", "line1": "Calle Alcalá 42",
                "city": "Madrid", "postalCode": "28014", "countryCode": "ES" } } }),
            Some(&s.access),
        )
        .await;
    assert_eq!(body["data"]["updateOrderRecipient"]["userErrors"], json!([]), "{body}");
    results(&app.gql(PUSH, json!({ "ids": [&o] }), Some(&s.access)).await, "pushOrders");
    let third = settled(&app, s, &o).await;
    assert_eq!(third["fulfillmentStatus"], "PUSHED", "{third}");
    assert_eq!(third["waybill"]["recipient"]["line1"], "Calle Alcalá 42");
    assert_eq!(third["waybill"]["edited"], false);
}

async fn special_characters_round_trip(app: TestApp) {
    let t = setup(&app, "chars@example.com").await;
    let s = &t.owner;
    let mug = fixtures::sku(&app, t.org, "MUG-1", MUG).await;
    let name = "Ben & Jerry's \"Outlet\" <b>Zoë</b>";
    let line1 = "中山路 88号 🎁 O'Brien's";
    let a = addr(name, line1, "CN");
    let exact = gid(Kind::Order, fixtures::order(&app, t.org, t.account, &a, &[(Some(mug), 1)]).await);
    let latin = gid(Kind::Order, fixtures::order(&app, t.org, t.account, &a, &[(Some(mug), 1)]).await);
    let as_is = fixtures::channel(&app, s, open_channel("ASIS")).await;
    let mut l = open_channel("LATIN");
    l["addressPolicy"] = json!("LATIN_ONLY");
    let latin_ch = fixtures::channel(&app, s, l).await;
    set_channel(&app, s, &[&exact], &as_is).await;
    set_channel(&app, s, &[&latin], &latin_ch).await;
    results(&app.gql(PUSH, json!({ "ids": [&exact, &latin] }), Some(&s.access)).await, "pushOrders");
    let e = settled(&app, s, &exact).await;
    assert_eq!(e["fulfillmentStatus"], "PUSHED", "{e}");
    assert_eq!(e["waybill"]["recipient"]["name"], name, "sent exactly as stored");
    assert_eq!(e["waybill"]["recipient"]["line1"], line1);
    assert!(e["waybill"]["originalRecipient"].is_null());
    let l = settled(&app, s, &latin).await;
    assert_eq!(l["fulfillmentStatus"], "PUSHED", "{l}");
    let sent = l["waybill"]["recipient"]["line1"].as_str().unwrap();
    assert!(sent.is_ascii() && sent.contains("O'Brien's") && sent.contains("88"), "{sent}");
    assert!(l["waybill"]["recipient"]["name"].as_str().unwrap().contains("Zoe"), "{l}");
    assert_eq!(l["waybill"]["originalRecipient"]["line1"], line1, "the original is kept");
    assert_eq!(l["waybill"]["normalisedFields"], json!(["name", "line1"]));
    assert_eq!(l["recipient"]["name"], name, "the order itself is unchanged");
}

async fn concurrent_pushes_book_one_waybill(app: TestApp) {
    let t = setup(&app, "race@example.com").await;
    let s = &t.owner;
    let mug = fixtures::sku(&app, t.org, "MUG-1", MUG).await;
    let ch = fixtures::channel(&app, s, open_channel("RACE")).await;
    let remaining = || async {
        let body = app
            .gql(
                "query($id: ID!) { channel(id: $id) { trackingRange { remaining } } }",
                json!({ "id": ch }),
                Some(&s.access),
            )
            .await;
        body["data"]["channel"]["trackingRange"]["remaining"].as_i64().unwrap()
    };
    let before = remaining().await;
    let db = &app.state.services.db;
    for same_key in [true, false] {
        let raw = fixtures::order(&app, t.org, t.account, &addr("Race", "1 Main St", "IE"), &[(Some(mug), 1)]).await;
        let o = gid(Kind::Order, raw);
        set_channel(&app, s, &[&o], &ch).await;
        let calls = (0..50).map(|i| {
            let key = if same_key { "same-key".to_owned() } else { format!("key-{i}") };
            let (app, s, o) = (&app, s, o.clone());
            async move { app.post(PUSH, json!({ "ids": [o], "k": key }), Some(&s.access)).await }
        });
        let answers = join_all(calls).await;
        let mut pushing = 0;
        for (status, body) in &answers {
            assert_eq!(*status, 200, "{body}");
            if !body["errors"].is_null() {
                // Only a same-key request overlapping the first may be told to retry.
                assert!(same_key && code(body) == "CONFLICT", "{body}");
                continue;
            }
            let r = &body["data"]["pushOrders"]["results"][0];
            if codes(r).is_empty() {
                assert_eq!(r["status"], "PUSHING", "{body}");
                pushing += 1;
            } else {
                // Refused results show the order's current state (PUSHING or PUSHED).
                assert!(!same_key && codes(r) == ["INVALID_STATE"], "{body}");
            }
        }
        if same_key {
            assert!(pushing >= 1, "the first answer is replayed to the others");
        } else {
            assert_eq!(pushing, 1, "exactly one push accepted");
        }
        let done = settled(&app, s, &o).await;
        assert_eq!(done["fulfillmentStatus"], "PUSHED");
        let waybills = waybill::Entity::find().filter(waybill::Column::OrderId.eq(raw)).count(db).await.unwrap();
        assert_eq!(waybills, 1, "exactly one waybill (same key: {same_key})");
    }
    assert_eq!(before - remaining().await, 2, "exactly one tracking number per order was issued");
}

async fn idempotency_keys(app: TestApp) {
    let t = setup(&app, "idem@example.com").await;
    let s = &t.owner;
    let mug = fixtures::sku(&app, t.org, "MUG-1", MUG).await;
    let ch = fixtures::channel(&app, s, open_channel("IDEM")).await;
    let a = gid(
        Kind::Order,
        fixtures::order(&app, t.org, t.account, &addr("A", "1 Main St", "IE"), &[(Some(mug), 1)]).await,
    );
    let b = gid(
        Kind::Order,
        fixtures::order(&app, t.org, t.account, &addr("B", "2 Main St", "IE"), &[(Some(mug), 1)]).await,
    );
    set_channel(&app, s, &[&a, &b], &ch).await;
    let first = app.gql(PUSH, json!({ "ids": [&a], "k": "batch-1" }), Some(&s.access)).await;
    assert_eq!(first["data"]["pushOrders"]["results"][0]["status"], "PUSHING", "{first}");
    settled(&app, s, &a).await;
    // Same key, same input: the first answer again (not INVALID_STATE for a pushed order).
    let replay = app.gql(PUSH, json!({ "ids": [&a], "k": "batch-1" }), Some(&s.access)).await;
    assert_eq!(replay["data"]["pushOrders"]["results"][0]["status"], "PUSHING", "{replay}");
    assert_eq!(replay["data"]["pushOrders"]["job"], first["data"]["pushOrders"]["job"]);
    // Same key, other input: CONFLICT, and nothing happens to B.
    let clash = app.gql(PUSH, json!({ "ids": [&b], "k": "batch-1" }), Some(&s.access)).await;
    assert_eq!(code(&clash), "CONFLICT", "{clash}");
    assert_eq!(order_state(&app, s, &b).await["fulfillmentStatus"], "UNPUSHED");
    // Keys are per organization: another tenant may use the same one.
    let other = app.sign_up("Other", "idem-other@example.com").await;
    let body = app.gql(PUSH, json!({ "ids": [&b], "k": "batch-1" }), Some(&other.access)).await;
    assert_eq!(body["data"]["pushOrders"]["results"][0]["userErrors"][0]["code"], "NOT_FOUND", "{body}");
}

async fn manual_waybills(app: TestApp) {
    let t = setup(&app, "manual@example.com").await;
    let s = &t.owner;
    let ch = fixtures::channel(&app, s, open_channel("MAN")).await;
    let create = "mutation($i: CreateWaybillInput!) { createWaybill(input: $i) { waybill { id status customerReference recipient { name } } userErrors { code field message } } }";
    let recipient =
        json!({ "name": "Ann O'Neil", "line1": "1 Main St", "city": "Cork", "postalCode": "T12", "countryCode": "ie" });
    let line =
        json!({ "quantity": 1, "nameEn": "Book", "unitValueMinor": 900, "currency": "USD", "unitWeightGrams": 400 });
    let body = app
        .gql(create, json!({ "i": { "channelId": ch, "recipient": recipient, "lines": [line] } }), Some(&s.access))
        .await;
    let w = &body["data"]["createWaybill"];
    assert_eq!(w["userErrors"], json!([]), "{body}");
    assert_eq!(w["waybill"]["status"], "UNCONFIRMED");
    assert!(w["waybill"]["customerReference"].as_str().unwrap().starts_with("MW"));
    let bad = app
        .gql(
            create,
            json!({ "i": { "channelId": ch, "customerReference": "OD123", "recipient": recipient, "lines": [] } }),
            Some(&s.access),
        )
        .await;
    let errs = bad["data"]["createWaybill"]["userErrors"].as_array().unwrap().clone();
    assert!(errs.iter().any(|e| e["field"] == json!(["input", "customerReference"])), "{bad}");
    assert!(errs.iter().any(|e| e["field"] == json!(["input", "lines"])), "{bad}");
    let id = w["waybill"]["id"].clone();
    let confirm = "mutation($ids: [ID!]!) { confirmWaybills(input: { waybillIds: $ids }) { results { status waybill { trackingNumber } userErrors { code } } userErrors { code } } }";
    let body = app.gql(confirm, json!({ "ids": [id] }), Some(&s.access)).await;
    let r = &body["data"]["confirmWaybills"]["results"][0];
    assert_eq!(r["status"], "FORECASTED", "{body}");
    let tracking = r["waybill"]["trackingNumber"].as_str().unwrap().to_owned();
    assert!(s10::is_valid(&tracking));
    let again = app.gql(confirm, json!({ "ids": [id] }), Some(&s.access)).await;
    assert_eq!(again["data"]["confirmWaybills"]["results"][0]["userErrors"][0]["code"], "INVALID_STATE");
    let found = app
        .gql(
            "query($q: String) { waybills(filter: { search: $q }) { totalCount edges { node { id } } } }",
            json!({ "q": tracking }),
            Some(&s.access),
        )
        .await;
    assert_eq!(found["data"]["waybills"]["totalCount"], 1, "{found}");
}

async fn channels_and_permissions(app: TestApp) {
    let t = setup(&app, "chan@example.com").await;
    let s = &t.owner;
    let own = fixtures::channel(&app, s, open_channel("OWN")).await;
    // Invalid input: field-level errors.
    let bad = app
        .gql(
            fixtures::CREATE_CHANNEL,
            json!({ "i": { "code": "bad code!", "name": "", "destinationCountries": ["XYZ"],
                "trackingRange": { "prefix": "R1", "suffix": "CN", "start": 5, "end": 1 } } }),
            Some(&s.access),
        )
        .await;
    let fields: Vec<Value> =
        bad["data"]["createChannel"]["userErrors"].as_array().unwrap().iter().map(|e| e["field"].clone()).collect();
    for f in ["code", "name", "destinationCountries", "trackingRange"] {
        assert!(fields.contains(&json!(["input", f])), "{f}: {bad}");
    }
    // Global channels are for platform staff only.
    let mut global = open_channel("GLOBAL-X");
    global["global"] = json!(true);
    let body = app.gql(fixtures::CREATE_CHANNEL, json!({ "i": global }), Some(&s.access)).await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    let operator = app.add_user(s, "op@example.com", "OPERATOR").await;
    let body = app.gql(fixtures::CREATE_CHANNEL, json!({ "i": open_channel("OP") }), Some(&operator.access)).await;
    assert_eq!(code(&body), "FORBIDDEN", "operators cannot manage channels: {body}");
    app.state
        .services
        .identity
        .create_user_cli(
            "staff@logistics.example",
            crate::helpers::PASSWORD,
            entity::enums::Role::Owner,
            true,
            api::domain::identity::OrgChoice::New("Logistics Co".into()),
        )
        .await
        .unwrap();
    let staff = crate::helpers::session_from(
        &app.login("staff@logistics.example", crate::helpers::PASSWORD).await["data"]["login"],
    );
    let g = fixtures::channel(&app, &staff, global).await;
    // The tenant sees the sandbox's and staff's global channels and its own; another tenant not its own.
    let list = "{ channels { id code global } }";
    let mine = app.gql(list, json!({}), Some(&s.access)).await;
    let ids: Vec<&str> =
        mine["data"]["channels"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&own.as_str()) && ids.contains(&g.as_str()), "{mine}");
    assert!(
        mine["data"]["channels"].as_array().unwrap().iter().any(|c| c["code"] == "CNPOST-RR"),
        "sandbox channels seeded"
    );
    let other = app.sign_up("Other", "chan-other@example.com").await;
    let theirs = app.gql(list, json!({}), Some(&other.access)).await;
    assert!(!theirs.to_string().contains(&own), "{theirs}");
    let body =
        app.gql("query($id: ID!) { channel(id: $id) { code } }", json!({ "id": own }), Some(&other.access)).await;
    assert_eq!(code(&body), "NOT_FOUND");
    // A tenant cannot edit a global channel; staff can. Viewers cannot push.
    let upd = "mutation($i: UpdateChannelInput!) { updateChannel(input: $i) { channel { name active } userErrors { code field } } }";
    let body = app.gql(upd, json!({ "i": { "id": g, "name": "Mine now" } }), Some(&s.access)).await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    let body = app.gql(upd, json!({ "i": { "id": g, "active": false } }), Some(&staff.access)).await;
    assert_eq!(body["data"]["updateChannel"]["channel"]["active"], false, "{body}");
    let viewer = app.add_user(s, "viewer@example.com", "VIEWER").await;
    let mug = fixtures::sku(&app, t.org, "MUG-1", MUG).await;
    let o = gid(
        Kind::Order,
        fixtures::order(&app, t.org, t.account, &addr("V", "1 Main St", "IE"), &[(Some(mug), 1)]).await,
    );
    let body = app.gql(PUSH, json!({ "ids": [&o] }), Some(&viewer.access)).await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    // An inactive channel cannot be chosen.
    let body = app.gql(SET_CHANNEL, json!({ "ids": [&o], "c": g }), Some(&s.access)).await;
    assert_eq!(body["data"]["setOrderChannel"]["userErrors"][0]["code"], "CHANNEL_UNAVAILABLE", "{body}");
}

async fn tracking_range_exhaustion(app: TestApp) {
    let t = setup(&app, "range@example.com").await;
    let s = &t.owner;
    let mug = fixtures::sku(&app, t.org, "MUG-1", MUG).await;
    let mut input = open_channel("TINY");
    input["trackingRange"] = json!({ "prefix": "LX", "suffix": "CN", "start": 5, "end": 6 });
    let ch = fixtures::channel(&app, s, input).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(gid(
            Kind::Order,
            fixtures::order(&app, t.org, t.account, &addr(&format!("N{i}"), "1 Main St", "IE"), &[(Some(mug), 1)])
                .await,
        ));
    }
    set_channel(&app, s, &ids.iter().map(String::as_str).collect::<Vec<_>>(), &ch).await;
    results(&app.gql(PUSH, json!({ "ids": ids }), Some(&s.access)).await, "pushOrders");
    let mut pushed = Vec::new();
    let mut exhausted = 0;
    for id in &ids {
        let o = settled(&app, s, id).await;
        match o["fulfillmentStatus"].as_str().unwrap() {
            "PUSHED" => pushed.push(o["trackingNumber"].as_str().unwrap().to_owned()),
            _ => {
                assert_eq!(o["lastErrorCode"], "TRACKING_RANGE_EXHAUSTED", "{o}");
                exhausted += 1;
            }
        }
    }
    pushed.sort();
    assert_eq!(
        pushed,
        ["LX000000059CN", "LX000000062CN"].map(|s| s.to_owned()),
        "serials 5 and 6 with S10 check digits"
    );
    assert!(pushed.iter().all(|t| s10::is_valid(t)));
    assert_eq!(exhausted, 1);
}

async fn other_tenants_orders_are_not_found(app: TestApp) {
    let t = setup(&app, "ten-a@example.com").await;
    let mug = fixtures::sku(&app, t.org, "MUG-1", MUG).await;
    let o = gid(
        Kind::Order,
        fixtures::order(&app, t.org, t.account, &addr("A", "1 Main St", "IE"), &[(Some(mug), 1)]).await,
    );
    let ch = fixtures::channel(&app, &t.owner, open_channel("A-ONLY")).await;
    set_channel(&app, &t.owner, &[&o], &ch).await;
    let b = app.sign_up("B", "ten-b@example.com").await;
    let b_ch = fixtures::channel(&app, &b, open_channel("B-ONLY")).await;
    for (q, op, vars) in [
        (PUSH, "pushOrders", json!({ "ids": [&o] })),
        (RESET, "resetOrders", json!({ "ids": [&o] })),
        (CANCEL, "cancelOrders", json!({ "ids": [&o] })),
        (SHIP, "markOrdersShipped", json!({ "ids": [&o], "wb": true })),
        (SET_CHANNEL, "setOrderChannel", json!({ "ids": [&o], "c": b_ch })),
    ] {
        let body = app.gql(q, vars, Some(&b.access)).await;
        let r = results(&body, op);
        assert_eq!(codes(&r[0]), ["NOT_FOUND"], "{op}: {body}");
        assert!(r[0]["status"].is_null());
    }
    // B cannot put A's channel on its orders either.
    let body = app.gql(SET_CHANNEL, json!({ "ids": [&o], "c": ch }), Some(&b.access)).await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
    assert_eq!(order_state(&app, &t.owner, &o).await["fulfillmentStatus"], "UNPUSHED");
}

async fn push_results_reach_subscribers(app: TestApp) {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;

    use crate::subscriptions::{connect, init, next_json};
    let t = setup(&app, "live@example.com").await;
    let s = &t.owner;
    let mug = fixtures::sku(&app, t.org, "MUG-1", MUG).await;
    let ch = fixtures::channel(&app, s, open_channel("LIVE")).await;
    let mut ids = Vec::new();
    for i in 0..500 {
        // Every 50th order lacks its street, so it fails validation at once.
        let a = if i % 50 == 0 { addr(&format!("R{i}"), "", "IE") } else { addr(&format!("R{i}"), "1 Main St", "IE") };
        ids.push(gid(Kind::Order, fixtures::order(&app, t.org, t.account, &a, &[(Some(mug), 1)]).await));
    }
    set_channel(&app, s, &ids.iter().map(String::as_str).collect::<Vec<_>>(), &ch).await;

    let mut ws = connect(&app, None).await.unwrap();
    let ack = init(&mut ws, json!({ "Authorization": format!("Bearer {}", s.access) })).await;
    assert_eq!(ack.unwrap().unwrap()["type"], "connection_ack");
    let sub =
        "subscription($ids: [ID!]) { pushResults(orderIds: $ids) { orderId status trackingNumber code message } }";
    ws.send(Message::Text(
        json!({ "type": "subscribe", "id": "p", "payload": { "query": sub, "variables": { "ids": ids } } })
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let mut jobs = connect(&app, None).await.unwrap();
    init(&mut jobs, json!({ "Authorization": format!("Bearer {}", s.access) })).await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let body = app.gql(PUSH, json!({ "ids": ids }), Some(&s.access)).await;
    let r = results(&body, "pushOrders");
    assert_eq!(r.iter().filter(|x| x["status"] == "PUSHING").count(), 490);
    let job = body["data"]["pushOrders"]["job"]["id"].as_str().unwrap().to_owned();
    let progress = "subscription($id: ID!) { jobProgress(jobId: $id) { status progress } }";
    jobs.send(Message::Text(
        json!({ "type": "subscribe", "id": "j", "payload": { "query": progress, "variables": { "id": job } } })
            .to_string()
            .into(),
    ))
    .await
    .unwrap();

    // Validation failures are published at once, bookings as each chunk commits.
    let mut seen = std::collections::HashMap::new();
    while seen.len() < 500 {
        let msg = next_json(&mut ws).await.expect("stream open").expect("no close");
        assert_eq!(msg["type"], "next", "{msg}");
        let p = &msg["payload"]["data"]["pushResults"];
        let id = p["orderId"].as_str().unwrap().to_owned();
        assert!(ids.contains(&id));
        seen.insert(id, p.clone());
    }
    let ok: Vec<&Value> = seen.values().filter(|p| p["status"] == "PUSHED").collect();
    assert_eq!(ok.len(), 490);
    assert!(ok.iter().all(|p| s10::is_valid(p["trackingNumber"].as_str().unwrap())));
    let failed: Vec<&Value> = seen.values().filter(|p| p["status"] == "PUSH_FAILED").collect();
    assert_eq!(failed.len(), 10);
    assert!(failed.iter().all(|p| p["code"] == "ADDRESS_INCOMPLETE" && p["message"].is_string()));
    let tracking: std::collections::HashSet<&str> = ok.iter().map(|p| p["trackingNumber"].as_str().unwrap()).collect();
    assert_eq!(tracking.len(), 490, "no number issued twice");

    // jobProgress ends with the finished job and its counts.
    let mut last = Value::Null;
    loop {
        match next_json(&mut jobs).await {
            Some(Ok(m)) if m["type"] == "next" => last = m["payload"]["data"]["jobProgress"].clone(),
            Some(Ok(m)) if m["type"] == "complete" => break,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(last["status"], "SUCCEEDED", "{last}");
    assert_eq!(last["progress"]["pushed"], 490, "{last}");
    assert_eq!(last["progress"]["done"], 490, "{last}");

    // A client that subscribes after the results were published still gets them.
    let late = connect(&app, None).await.unwrap();
    let mut late = late;
    init(&mut late, json!({ "Authorization": format!("Bearer {}", s.access) })).await.unwrap().unwrap();
    late.send(Message::Text(
        json!({ "type": "subscribe", "id": "l", "payload": { "query": sub, "variables": { "ids": [&ids[0], &ids[1]] } } })
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let mut got = std::collections::HashSet::new();
    for _ in 0..2 {
        let m = next_json(&mut late).await.unwrap().unwrap();
        got.insert(m["payload"]["data"]["pushResults"]["status"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        got,
        ["PUSH_FAILED".to_owned(), "PUSHED".to_owned()].into(),
        "order 0 failed validation, order 1 pushed"
    );
}
