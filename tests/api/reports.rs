//! Reporting queries over HTTP, each compared with a straightforward count of the seeded
//! orders done here in Rust: orderStats under several groupings and filters,
//! pushFailureReasons, shippedPerDay; a VIEWER may read them; other tenants' orders never
//! count.

use std::collections::BTreeMap;

use api::graphql::ids::Kind;
use chrono::{Duration, TimeZone, Utc};
use entity::{enums::FulfillmentStatus, inventory_snapshot, order};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    db_tests,
    fixtures::{self, addr, gid},
    fulfilment::setup,
    helpers::TestApp,
};

db_tests!(reports_match_plain_counts, inventory_levels_per_warehouse);

const STATS: &str = "query($f: OrderStatsFilter, $by: [OrderStatsDimension!]!) { orderStats(filter: $f, groupBy: $by) { status fulfillmentStatus platform accountId channelId destinationCountry day count totals { amountMinor currency } } }";

fn status_name(s: FulfillmentStatus) -> &'static str {
    match s {
        FulfillmentStatus::Unpushed => "UNPUSHED",
        FulfillmentStatus::Pushing => "PUSHING",
        FulfillmentStatus::Pushed => "PUSHED",
        FulfillmentStatus::PushFailed => "PUSH_FAILED",
        FulfillmentStatus::Shipped => "SHIPPED",
        FulfillmentStatus::Cancelled => "CANCELLED",
    }
}

/// Seeds `n` varied orders for `org` over two accounts; returns them as stored.
async fn seed(app: &TestApp, org: Uuid, accounts: [Uuid; 2], n: usize) -> Vec<order::Model> {
    let db = &app.state.services.db;
    let base = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap();
    let statuses = [
        FulfillmentStatus::Unpushed,
        FulfillmentStatus::PushFailed,
        FulfillmentStatus::Pushed,
        FulfillmentStatus::Shipped,
    ];
    let mut out = Vec::new();
    for i in 0..n {
        let country = ["US", "GB", "DE"][i % 3];
        let id =
            fixtures::order(app, org, accounts[i % 2], &addr("Test Buyer", "1 Main St", country), &[(None, 1)]).await;
        let o = order::Entity::find_by_id(id).one(db).await.unwrap().unwrap();
        let status = statuses[i % 4];
        let mut a: order::ActiveModel = o.into();
        a.fulfillment_status = Set(status);
        a.platform_status = Set(Some(["NOT_STARTED", "IN_PROGRESS"][(i / 2) % 2].into()));
        // Every 7th order has no marketplace date: it counts by its download date.
        a.ordered_at = Set((i % 7 != 0).then(|| base - Duration::days((i % 5) as i64) - Duration::minutes(i as i64)));
        a.currency = Set(["USD", "EUR"][(i / 3) % 2].into());
        a.total_minor = Set(1_000 + i as i64);
        a.last_error_code = Set((status == FulfillmentStatus::PushFailed)
            .then(|| ["DESTINATION_NOT_SERVED", "DECLARATION_MISSING", "ADDRESS_INCOMPLETE"][i % 3].to_owned()));
        a.shipped_at = Set((status == FulfillmentStatus::Shipped).then(|| base - Duration::days((i % 3) as i64)));
        out.push(a.update(db).await.unwrap());
    }
    out
}

fn day(o: &order::Model) -> String {
    o.ordered_at.unwrap_or(o.created_at).format("%Y-%m-%d").to_string()
}

/// The API's groups as (key → (count, totals)), keyed by the JSON of the key fields.
fn by_key(body: &Value) -> BTreeMap<String, (i64, BTreeMap<String, i64>)> {
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["orderStats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let key = json!([
                g["fulfillmentStatus"],
                g["destinationCountry"],
                g["accountId"],
                g["day"],
                g["status"],
                g["platform"]
            ])
            .to_string();
            let totals = g["totals"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| (m["currency"].as_str().unwrap().to_owned(), m["amountMinor"].as_i64().unwrap()))
                .collect();
            (key, (g["count"].as_i64().unwrap(), totals))
        })
        .collect()
}

type Key = fn(&order::Model) -> [Value; 6];

/// The same grouping, counted plainly over the orders.
fn expected(orders: &[&order::Model], key: Key) -> BTreeMap<String, (i64, BTreeMap<String, i64>)> {
    let mut out: BTreeMap<String, (i64, BTreeMap<String, i64>)> = BTreeMap::new();
    for o in orders {
        let e = out.entry(json!(key(o)).to_string()).or_default();
        e.0 += 1;
        *e.1.entry(o.currency.clone()).or_default() += o.total_minor;
    }
    out
}

async fn reports_match_plain_counts(app: TestApp) {
    let t = setup(&app, "reports@example.com").await;
    let second = fixtures::account(&app, t.org).await;
    let orders = seed(&app, t.org, [t.account, second], 60).await;
    // Another tenant's orders must never count.
    let other = setup(&app, "reports-other@example.com").await;
    let other_second = fixtures::account(&app, other.org).await;
    seed(&app, other.org, [other.account, other_second], 12).await;
    let viewer = app.add_user(&t.owner, "reports-viewer@example.com", "VIEWER").await;
    let all: Vec<&order::Model> = orders.iter().collect();
    let acct = |id: Uuid| Value::String(gid(Kind::Account, id));

    // By fulfilment status × destination.
    let body =
        app.gql(STATS, json!({ "by": ["FULFILLMENT_STATUS", "DESTINATION_COUNTRY"] }), Some(&viewer.access)).await;
    let want = expected(&all, |o| {
        [
            json!(status_name(o.fulfillment_status)),
            json!(o.country_code),
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
        ]
    });
    assert_eq!(by_key(&body), want);

    // By account × day, within a date range (to exclusive).
    let from = Utc.with_ymd_and_hms(2026, 11, 17, 0, 0, 0).unwrap();
    let to = Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0).unwrap();
    let body = app
        .gql(STATS, json!({ "by": ["ACCOUNT", "DAY"], "f": { "from": from, "to": to } }), Some(&viewer.access))
        .await;
    let in_range: Vec<&order::Model> = orders
        .iter()
        .filter(|o| {
            let d = o.ordered_at.unwrap_or(o.created_at);
            d >= from && d < to
        })
        .collect();
    assert!(!in_range.is_empty() && in_range.len() < orders.len());
    let got = by_key(&body);
    let mut want = BTreeMap::new();
    for o in &in_range {
        let key = json!([Value::Null, Value::Null, gid(Kind::Account, o.account_id), day(o), Value::Null, Value::Null])
            .to_string();
        let e: &mut (i64, BTreeMap<String, i64>) = want.entry(key).or_default();
        e.0 += 1;
        *e.1.entry(o.currency.clone()).or_default() += o.total_minor;
    }
    assert_eq!(got, want);

    // One account, by marketplace status; and no grouping at all (one group).
    let body = app
        .gql(
            STATS,
            json!({ "by": ["STATUS"], "f": { "accountIds": [acct(second)], "platforms": ["EBAY"] } }),
            Some(&viewer.access),
        )
        .await;
    let mine: Vec<&order::Model> = orders.iter().filter(|o| o.account_id == second).collect();
    let want = expected(&mine, |o| {
        [Value::Null, Value::Null, Value::Null, Value::Null, json!(o.platform_status), Value::Null]
    });
    assert_eq!(by_key(&body), want);
    let body = app.gql(STATS, json!({ "by": [], "f": { "platforms": ["AMAZON"] } }), Some(&viewer.access)).await;
    assert_eq!(body["data"]["orderStats"], json!([]), "{body}");
    let body = app.gql(STATS, json!({ "by": ["PLATFORM"] }), Some(&viewer.access)).await;
    let groups = body["data"]["orderStats"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{body}");
    assert_eq!(groups[0]["platform"], "EBAY");
    assert_eq!(groups[0]["count"], 60);

    // Push failures per code.
    let body = app.gql("{ pushFailureReasons { code count } }", json!({}), Some(&viewer.access)).await;
    assert!(body["errors"].is_null(), "{body}");
    let mut want: BTreeMap<String, i64> = BTreeMap::new();
    for o in orders.iter().filter(|o| o.fulfillment_status == FulfillmentStatus::PushFailed) {
        *want.entry(o.last_error_code.clone().unwrap()).or_default() += 1;
    }
    let got: BTreeMap<String, i64> = body["data"]["pushFailureReasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["code"].as_str().unwrap().to_owned(), r["count"].as_i64().unwrap()))
        .collect();
    assert_eq!(got, want);
    let counts: Vec<i64> =
        body["data"]["pushFailureReasons"].as_array().unwrap().iter().map(|r| r["count"].as_i64().unwrap()).collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "most frequent first: {counts:?}");

    // Shipped per day.
    let body = app.gql("{ shippedPerDay { day count } }", json!({}), Some(&viewer.access)).await;
    assert!(body["errors"].is_null(), "{body}");
    let mut want: BTreeMap<String, i64> = BTreeMap::new();
    for o in orders.iter().filter_map(|o| o.shipped_at) {
        *want.entry(o.format("%Y-%m-%d").to_string()).or_default() += 1;
    }
    let got: BTreeMap<String, i64> = body["data"]["shippedPerDay"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["day"].as_str().unwrap().to_owned(), r["count"].as_i64().unwrap()))
        .collect();
    assert_eq!(got, want);
    assert!(got.len() > 1);

    // The other tenant sees only its own.
    let body = app.gql(STATS, json!({ "by": [] }), Some(&other.owner.access)).await;
    assert_eq!(body["data"]["orderStats"][0]["count"], 12, "{body}");
    // Unauthenticated: refused.
    let body = app.gql(STATS, json!({ "by": [] }), None).await;
    assert_eq!(crate::helpers::code(&body), "UNAUTHENTICATED", "{body}");
}

async fn snapshot(app: &TestApp, org: Uuid, account: Uuid, sku: Uuid, warehouse: &str, available: i32) {
    let now = Utc::now();
    inventory_snapshot::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org),
        account_id: Set(account),
        sku_id: Set(sku),
        warehouse_code: Set(warehouse.into()),
        available: Set(available),
        reserved: Set(2),
        in_transit: Set(7),
        received: Set(0),
        region: Set("GB".into()),
        unfulfillable: Set(1),
        captured_at: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&app.state.services.db)
    .await
    .unwrap();
}

async fn inventory_levels_per_warehouse(app: TestApp) {
    let t = setup(&app, "stock@example.com").await;
    let mug = fixtures::sku(&app, t.org, "MUG-1", fixtures::MUG).await;
    let cup = fixtures::sku(&app, t.org, "CUP-1", fixtures::MUG).await;
    for (sku, wh, n) in [(mug, "UK-WH1", 3), (mug, "DE-WH1", 40), (cup, "UK-WH1", 5), (cup, "DE-WH1", 6)] {
        snapshot(&app, t.org, t.account, sku, wh, n).await;
    }
    let other = setup(&app, "stock-other@example.com").await;
    let theirs = fixtures::sku(&app, other.org, "MUG-1", fixtures::MUG).await;
    snapshot(&app, other.org, other.account, theirs, "UK-WH1", 0).await;
    let viewer = app.add_user(&t.owner, "stock-viewer@example.com", "VIEWER").await;
    let q = "query($f: InventoryLevelFilter, $t: Int) { inventoryLevels(filter: $f, lowStockThreshold: $t) { sku { code } warehouseCode available reserved inTransit unfulfillable lowStock } }";
    let rows = |body: &Value| -> Vec<(String, String, i64, bool)> {
        assert!(body["errors"].is_null(), "{body}");
        body["data"]["inventoryLevels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["sku"]["code"].as_str().unwrap().to_owned(),
                    r["warehouseCode"].as_str().unwrap().to_owned(),
                    r["available"].as_i64().unwrap(),
                    r["lowStock"].as_bool().unwrap(),
                )
            })
            .collect()
    };
    let s = |a: &str, b: &str, n: i64, low: bool| (a.to_owned(), b.to_owned(), n, low);
    let body = app.gql(q, json!({}), Some(&viewer.access)).await;
    assert_eq!(
        rows(&body),
        vec![
            s("CUP-1", "DE-WH1", 6, false),
            s("CUP-1", "UK-WH1", 5, true),
            s("MUG-1", "DE-WH1", 40, false),
            s("MUG-1", "UK-WH1", 3, true)
        ]
    );
    assert_eq!(body["data"]["inventoryLevels"][0]["inTransit"], 7);
    let body = app.gql(q, json!({ "f": { "lowStockOnly": true }, "t": 10 }), Some(&viewer.access)).await;
    assert_eq!(
        rows(&body),
        vec![s("CUP-1", "DE-WH1", 6, true), s("CUP-1", "UK-WH1", 5, true), s("MUG-1", "UK-WH1", 3, true)]
    );
    let body = app
        .gql(q, json!({ "f": { "skuId": gid(Kind::Sku, mug), "warehouseCode": "DE-WH1" } }), Some(&viewer.access))
        .await;
    assert_eq!(rows(&body), vec![s("MUG-1", "DE-WH1", 40, false)]);
    // Another tenant's SKU id finds nothing.
    let body = app.gql(q, json!({ "f": { "skuId": gid(Kind::Sku, theirs) } }), Some(&viewer.access)).await;
    assert_eq!(rows(&body), vec![]);
}
