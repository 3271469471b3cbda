//! The SKU catalogue (seed 000 §5(3-4), SKU管理) over HTTP: create, list, search and
//! filter by missing declaration (申报信息), partial updates that clear fields, field-level
//! validation errors, TAKEN codes, bulk upserts (counts, row paths, idempotent re-runs),
//! permissions and tenancy, and deletion refused while open orders use the SKU.

use api::graphql::ids::Kind;
use entity::{enums::FulfillmentStatus, order, order_item};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    db_tests,
    fixtures::{self, addr, gid},
    helpers::{Session, TestApp, code},
};

db_tests!(
    create_list_search_and_update,
    validation_errors_have_codes_and_paths,
    bulk_upsert_counts_and_is_idempotent,
    viewers_and_other_tenants_cannot_mutate,
    delete_refused_while_open_orders_use_it,
);

const FIELDS: &str = "id code name pickingInfo warehouseSkuId warehouseStatus createdAt updatedAt \
    declaration { nameEn nameCn valueMinor currency weightGrams hsCode originCountry complete }";

fn create_q() -> String {
    format!(
        "mutation($i: SkuInput!) {{ createSku(input: $i) {{ \
         sku {{ {FIELDS} }} userErrors {{ code field message }} }} }}"
    )
}

fn update_q() -> String {
    format!(
        "mutation($i: UpdateSkuInput!) {{ updateSku(input: $i) {{ \
         sku {{ {FIELDS} }} userErrors {{ code field message }} }} }}"
    )
}

const LIST: &str = "query($f: SkuFilter, $first: Int, $after: String) { skus(first: $first, after: $after, filter: $f) { totalCount pageInfo { hasNextPage endCursor } edges { node { code declaration { complete } } } } }";
const BULK: &str = "mutation($rows: [SkuInput!]!) { bulkUpsertSkus(input: { skus: $rows }) { created updated userErrors { code field message } } }";
const DELETE: &str =
    "mutation($id: ID!) { deleteSku(input: { id: $id }) { deletedSkuId userErrors { code field message } } }";

async fn create(app: &TestApp, s: &str, input: Value) -> Value {
    let body = app.gql(&create_q(), json!({ "i": input }), Some(s)).await;
    body["data"]["createSku"].clone()
}

/// Creates a SKU that must be valid and returns it.
async fn create_ok(app: &TestApp, s: &Session, input: Value) -> Value {
    let p = create(app, &s.access, input).await;
    assert_eq!(p["userErrors"], json!([]), "{p}");
    p["sku"].clone()
}

async fn update(app: &TestApp, s: &Session, input: Value) -> Value {
    let body = app.gql(&update_q(), json!({ "i": input }), Some(&s.access)).await;
    body["data"]["updateSku"].clone()
}

/// Codes of a filtered list, in list order.
async fn codes(app: &TestApp, s: &Session, filter: Value) -> Vec<String> {
    let body = app.gql(LIST, json!({ "f": filter, "first": 100 }), Some(&s.access)).await;
    let edges = body["data"]["skus"]["edges"].as_array().unwrap_or_else(|| panic!("{body}")).clone();
    edges.iter().map(|e| e["node"]["code"].as_str().unwrap().to_owned()).collect()
}

fn uuid_of(global: &str) -> Uuid {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(global).unwrap()).unwrap();
    let (kind, id) = raw.split_once(':').unwrap();
    assert_eq!(kind, "Sku");
    Uuid::parse_str(id).unwrap()
}

/// `userErrors` as (code, dotted field) pairs.
fn problems(payload: &Value) -> Vec<(String, String)> {
    payload["userErrors"]
        .as_array()
        .unwrap_or_else(|| panic!("{payload}"))
        .iter()
        .map(|e| {
            let field: Vec<&str> = e["field"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
            (e["code"].as_str().unwrap().to_owned(), field.join("."))
        })
        .collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter().map(|(c, f)| ((*c).to_owned(), (*f).to_owned())).collect()
}

fn mug() -> Value {
    json!({
        "code": "  MUG-01 ",
        "name": "Ceramic mug, blue",
        "declaration": {
            "nameEn": "Ceramic mug",
            "nameCn": "陶瓷杯",
            "valueMinor": 500,
            "currency": "usd",
            "weightGrams": 300,
            "hsCode": "6912.00",
            "originCountry": "cn",
        },
        "pickingInfo": "Shelf A3\n蓝色 blue box",
    })
}

async fn create_list_search_and_update(app: TestApp) {
    let s = app.sign_up("Seller", "seller@example.com").await;
    let m = create_ok(&app, &s, mug()).await;
    assert_eq!(m["code"], "MUG-01");
    assert_eq!(
        m["declaration"],
        json!({
            "nameEn": "Ceramic mug", "nameCn": "陶瓷杯", "valueMinor": 500, "currency": "USD", "weightGrams": 300,
            "hsCode": "691200", "originCountry": "CN", "complete": true,
        })
    );
    assert_eq!(m["pickingInfo"], "Shelf A3\n蓝色 blue box");
    assert_eq!(m["warehouseStatus"], "NOT_SUBMITTED");
    assert_eq!(m["warehouseSkuId"], Value::Null);
    let cable = create_ok(&app, &s, json!({ "code": "CBL-1M", "name": "USB-C Cable 1m" })).await;
    assert_eq!(cable["declaration"]["complete"], false);
    assert_eq!(cable["declaration"]["nameEn"], Value::Null);
    create_ok(&app, &s, json!({ "code": "MUGGLE", "name": "Not a mug", "declaration": { "nameEn": "Toy" } })).await;

    // Lists, newest first, and filters.
    assert_eq!(codes(&app, &s, json!({})).await, vec!["MUGGLE", "CBL-1M", "MUG-01"]);
    assert_eq!(codes(&app, &s, json!({ "missingDeclaration": true })).await, vec!["MUGGLE", "CBL-1M"]);
    assert_eq!(codes(&app, &s, json!({ "missingDeclaration": false })).await, vec!["MUG-01"]);
    assert_eq!(codes(&app, &s, json!({ "search": "MUG-01" })).await, vec!["MUG-01"]);
    assert_eq!(codes(&app, &s, json!({ "search": "MUG" })).await, vec!["MUGGLE", "MUG-01"]);
    assert_eq!(codes(&app, &s, json!({ "search": "cable" })).await, vec!["CBL-1M"], "name, any case");
    assert_eq!(codes(&app, &s, json!({ "search": "%" })).await, Vec::<String>::new(), "wildcards are literal");
    assert_eq!(codes(&app, &s, json!({ "search": "MUG", "missingDeclaration": true })).await, vec!["MUGGLE"]);
    // Paging and totalCount.
    let page = app.gql(LIST, json!({ "first": 2 }), Some(&s.access)).await;
    assert_eq!(page["data"]["skus"]["totalCount"], 3, "{page}");
    assert_eq!(page["data"]["skus"]["pageInfo"]["hasNextPage"], true);
    let after = page["data"]["skus"]["pageInfo"]["endCursor"].clone();
    let rest = app.gql(LIST, json!({ "first": 2, "after": after }), Some(&s.access)).await;
    assert_eq!(rest["data"]["skus"]["edges"][0]["node"]["code"], "MUG-01", "{rest}");

    // Completing the cable's declaration: fields left out are unchanged.
    let decl = json!({ "nameEn": "USB cable", "valueMinor": 150, "currency": "EUR", "weightGrams": 40 });
    let p = update(&app, &s, json!({ "id": cable["id"], "declaration": decl })).await;
    assert_eq!(p["userErrors"], json!([]), "{p}");
    assert_eq!(p["sku"]["name"], "USB-C Cable 1m");
    assert_eq!(p["sku"]["declaration"]["complete"], true);
    assert_eq!(codes(&app, &s, json!({ "missingDeclaration": true })).await, vec!["MUGGLE"]);

    // Clearing: null clears a field, "" too; the rest stays.
    let p = update(&app, &s, json!({ "id": m["id"], "declaration": { "hsCode": null }, "pickingInfo": "" })).await;
    assert_eq!(p["userErrors"], json!([]), "{p}");
    assert_eq!(p["sku"]["declaration"]["hsCode"], Value::Null);
    assert_eq!(p["sku"]["pickingInfo"], Value::Null);
    assert_eq!(p["sku"]["declaration"]["nameCn"], "陶瓷杯");
    assert_eq!(p["sku"]["declaration"]["originCountry"], "CN");
    let p = update(&app, &s, json!({ "id": m["id"], "declaration": { "weightGrams": null } })).await;
    assert_eq!(p["sku"]["declaration"]["complete"], false, "{p}");
    // Clearing the currency while the value stays is refused.
    let p = update(&app, &s, json!({ "id": m["id"], "declaration": { "currency": null } })).await;
    assert_eq!(problems(&p), pairs(&[("REQUIRED", "input.declaration.currency")]), "{p}");
    assert_eq!(p["sku"], Value::Null);
    // Renaming the code.
    let p = update(&app, &s, json!({ "id": m["id"], "code": "MUG-02" })).await;
    assert_eq!(p["sku"]["code"], "MUG-02", "{p}");

    // node() and sku() resolve it.
    let vars = json!({ "id": m["id"] });
    let n = app.gql("query($id: ID!) { node(id: $id) { ... on Sku { code } } }", vars.clone(), Some(&s.access)).await;
    assert_eq!(n["data"]["node"]["code"], "MUG-02", "{n}");
    let one = app.gql("query($id: ID!) { sku(id: $id) { code name } }", vars, Some(&s.access)).await;
    assert_eq!(one["data"]["sku"]["name"], "Ceramic mug, blue", "{one}");
}

async fn validation_errors_have_codes_and_paths(app: TestApp) {
    let s = app.sign_up("Seller", "seller@example.com").await;
    let bad = json!({
        "code": "BAD-1",
        "declaration": { "nameEn": "陶瓷杯 mug", "valueMinor": -1, "currency": "US", "hsCode": "69.12" },
    });
    let p = create(&app, &s.access, bad).await;
    assert_eq!(p["sku"], Value::Null);
    assert_eq!(
        problems(&p),
        pairs(&[
            ("INVALID", "input.declaration.nameEn"),
            ("INVALID", "input.declaration.valueMinor"),
            ("INVALID", "input.declaration.currency"),
            ("INVALID", "input.declaration.hsCode"),
        ]),
        "{p}"
    );
    assert!(p["userErrors"][0]["message"].as_str().unwrap().contains("Chinese"), "{p}");

    let p = create(&app, &s.access, json!({ "code": "BAD-2", "declaration": { "valueMinor": 100 } })).await;
    assert_eq!(problems(&p), pairs(&[("REQUIRED", "input.declaration.currency")]), "{p}");
    let p = create(
        &app,
        &s.access,
        json!({ "code": "   ", "declaration": { "weightGrams": 0, "originCountry": "CHN" }, "name": "x".repeat(501) }),
    )
    .await;
    assert_eq!(
        problems(&p),
        pairs(&[
            ("REQUIRED", "input.code"),
            ("INVALID", "input.name"),
            ("INVALID", "input.declaration.weightGrams"),
            ("INVALID", "input.declaration.originCountry"),
        ]),
        "{p}"
    );
    assert_eq!(codes(&app, &s, json!({})).await, Vec::<String>::new(), "nothing was written");

    // Codes are unique per organization (after trimming).
    let first = create_ok(&app, &s, mug()).await;
    let p = create(&app, &s.access, json!({ "code": "MUG-01" })).await;
    assert_eq!(problems(&p), pairs(&[("TAKEN", "input.code")]), "{p}");
    let other = create_ok(&app, &s, json!({ "code": "MUG-03" })).await;
    let p = update(&app, &s, json!({ "id": other["id"], "code": " MUG-01 " })).await;
    assert_eq!(problems(&p), pairs(&[("TAKEN", "input.code")]), "{p}");
    // Keeping one's own code is not a clash.
    let p = update(&app, &s, json!({ "id": first["id"], "code": "MUG-01", "name": "Mug" })).await;
    assert_eq!(p["userErrors"], json!([]), "{p}");
    // An update is checked too.
    let p =
        update(&app, &s, json!({ "id": first["id"], "declaration": { "nameEn": "马克杯", "hsCode": "abc" } })).await;
    assert_eq!(
        problems(&p),
        pairs(&[("INVALID", "input.declaration.nameEn"), ("INVALID", "input.declaration.hsCode")]),
        "{p}"
    );
}

async fn bulk_upsert_counts_and_is_idempotent(app: TestApp) {
    let s = app.sign_up("Seller", "seller@example.com").await;
    create_ok(&app, &s, json!({ "code": "B-1", "name": "old name", "pickingInfo": "old shelf" })).await;
    let rows = json!([
        {
            "code": "B-1",
            "name": "Bowl",
            "declaration": { "nameEn": "Bowl", "valueMinor": 300, "currency": "USD", "weightGrams": 250 },
        },
        { "code": "B-BAD", "declaration": { "hsCode": "12" } },
        { "code": "B-2", "name": "Plate" },
        { "code": "B-3", "name": "Cup", "pickingInfo": "Shelf C1" },
    ]);
    let body = app.gql(BULK, json!({ "rows": rows }), Some(&s.access)).await;
    let p = &body["data"]["bulkUpsertSkus"];
    assert_eq!((p["created"].clone(), p["updated"].clone()), (json!(2), json!(1)), "{body}");
    assert_eq!(problems(p), pairs(&[("INVALID", "input.skus.1.declaration.hsCode")]), "{body}");
    // B-1 was replaced by its row: the picking info left out is cleared.
    let b1 = app
        .gql(
            "{ skus(filter: { search: \"B-1\" }) { edges { node { name pickingInfo declaration { complete } } } } }",
            json!({}),
            Some(&s.access),
        )
        .await;
    assert_eq!(
        b1["data"]["skus"]["edges"][0]["node"],
        json!({ "name": "Bowl", "pickingInfo": null, "declaration": { "complete": true } }),
        "{b1}"
    );

    // The same import again changes nothing new: all updates.
    let again = app.gql(BULK, json!({ "rows": rows }), Some(&s.access)).await;
    let p = &again["data"]["bulkUpsertSkus"];
    assert_eq!((p["created"].clone(), p["updated"].clone()), (json!(0), json!(3)), "{again}");
    assert_eq!(problems(p).len(), 1);
    let mut all = codes(&app, &s, json!({})).await;
    all.sort();
    assert_eq!(all, vec!["B-1", "B-2", "B-3"]);

    // A code twice in one call: the later row is refused.
    let dup = app
        .gql(
            BULK,
            json!({ "rows": [{ "code": "D-1", "name": "first" }, { "code": " D-1 ", "name": "second" }] }),
            Some(&s.access),
        )
        .await;
    let p = &dup["data"]["bulkUpsertSkus"];
    assert_eq!((p["created"].clone(), p["updated"].clone()), (json!(1), json!(0)), "{dup}");
    assert_eq!(problems(p), pairs(&[("INVALID", "input.skus.1.code")]), "{dup}");
    let d1 =
        app.gql("{ skus(filter: { search: \"D-1\" }) { edges { node { name } } } }", json!({}), Some(&s.access)).await;
    assert_eq!(d1["data"]["skus"]["edges"][0]["node"]["name"], "first");

    // Every row invalid: nothing written, every problem reported.
    let rows = json!([{ "code": "" }, { "code": "E-1", "declaration": { "weightGrams": -1 } }]);
    let none = app.gql(BULK, json!({ "rows": rows }), Some(&s.access)).await;
    let p = &none["data"]["bulkUpsertSkus"];
    assert_eq!((p["created"].clone(), p["updated"].clone()), (json!(0), json!(0)), "{none}");
    assert_eq!(
        problems(p),
        pairs(&[("REQUIRED", "input.skus.0.code"), ("INVALID", "input.skus.1.declaration.weightGrams")]),
        "{none}"
    );

    // At most 1000 rows per call.
    let many: Vec<Value> = (0..1001).map(|i| json!({ "code": format!("M-{i}") })).collect();
    let too_many = app.gql(BULK, json!({ "rows": many }), Some(&s.access)).await;
    assert_eq!(code(&too_many), "BAD_USER_INPUT", "{too_many}");
    let thousand: Vec<Value> = (0..1000).map(|i| json!({ "code": format!("M-{i:04}") })).collect();
    let ok = app.gql(BULK, json!({ "rows": thousand }), Some(&s.access)).await;
    assert_eq!(ok["data"]["bulkUpsertSkus"]["created"], 1000, "{ok}");
}

async fn viewers_and_other_tenants_cannot_mutate(app: TestApp) {
    let a = app.sign_up("Tenant A", "a@example.com").await;
    let b = app.sign_up("Tenant B", "b@example.com").await;
    let m = create_ok(&app, &a, mug()).await;
    let id = m["id"].as_str().unwrap().to_owned();

    // A VIEWER API key reads but cannot write.
    let key = app
        .gql("mutation { createApiKey(input: { name: \"k\", role: VIEWER }) { secret } }", json!({}), Some(&a.access))
        .await;
    let viewer = key["data"]["createApiKey"]["secret"].as_str().unwrap().to_owned();
    let list = app.gql(LIST, json!({}), Some(&viewer)).await;
    assert_eq!(list["data"]["skus"]["edges"][0]["node"]["code"], "MUG-01", "{list}");
    let writes = [
        (create_q(), json!({ "i": { "code": "V-1" } })),
        (update_q(), json!({ "i": { "id": id, "name": "hijacked" } })),
        (BULK.to_owned(), json!({ "rows": [{ "code": "V-2" }] })),
        (DELETE.to_owned(), json!({ "id": id })),
    ];
    for (q, vars) in &writes {
        let body = app.gql(q, vars.clone(), Some(&viewer)).await;
        assert_eq!(code(&body), "FORBIDDEN", "{q}: {body}");
    }

    // Another tenant: A's SKU does not exist for B.
    let reads = [
        ("query($id: ID!) { sku(id: $id) { code } }", json!({ "id": id })),
        ("query($id: ID!) { node(id: $id) { id } }", json!({ "id": id })),
        (DELETE, json!({ "id": id })),
    ];
    for (q, vars) in &reads {
        let body = app.gql(q, vars.clone(), Some(&b.access)).await;
        assert_eq!(code(&body), "NOT_FOUND", "{q}: {body}");
    }
    let body = app.gql(&update_q(), json!({ "i": { "id": id, "name": "hijacked" } }), Some(&b.access)).await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
    assert_eq!(codes(&app, &b, json!({})).await, Vec::<String>::new());
    // Codes are per organization: B may use A's code, and B's bulk import leaves A's SKU alone.
    create_ok(&app, &b, json!({ "code": "MUG-01", "name": "B's mug" })).await;
    let bulk = app.gql(BULK, json!({ "rows": [{ "code": "MUG-01", "name": "B again" }] }), Some(&b.access)).await;
    assert_eq!(bulk["data"]["bulkUpsertSkus"]["updated"], 1, "{bulk}");
    let mine = app.gql("query($id: ID!) { sku(id: $id) { name } }", json!({ "id": id }), Some(&a.access)).await;
    assert_eq!(mine["data"]["sku"]["name"], "Ceramic mug, blue", "{mine}");
}

async fn delete_refused_while_open_orders_use_it(app: TestApp) {
    let s = app.sign_up("Seller", "seller@example.com").await;
    let m = create_ok(&app, &s, mug()).await;
    let spare = create_ok(&app, &s, json!({ "code": "SPARE" })).await;
    let sku_id = uuid_of(m["id"].as_str().unwrap());
    let org = fixtures::org_of(&app, "seller@example.com").await;
    let acc = fixtures::account(&app, org).await;
    let order_id =
        fixtures::order(&app, org, acc, &addr("Ann Murphy", "1 Main Street", "IE"), &[(Some(sku_id), 2)]).await;

    // The order line shows the catalogue SKU with its declaration.
    let o = app
        .gql(
            "query($id: ID!) { order(id: $id) { items { sku { id code declaration { nameEn complete } } } } }",
            json!({ "id": gid(Kind::Order, order_id) }),
            Some(&s.access),
        )
        .await;
    assert_eq!(
        o["data"]["order"]["items"][0]["sku"],
        json!({ "id": m["id"], "code": "MUG-01", "declaration": { "nameEn": "Ceramic mug", "complete": true } }),
        "{o}"
    );

    // Refused while the order is open (UNPUSHED).
    let body = app.gql(DELETE, json!({ "id": m["id"] }), Some(&s.access)).await;
    let p = &body["data"]["deleteSku"];
    assert_eq!(p["deletedSkuId"], Value::Null, "{body}");
    assert_eq!(problems(p), pairs(&[("IN_USE", "input.id")]), "{body}");
    assert!(p["userErrors"][0]["message"].as_str().unwrap().contains("1 open order"), "{body}");
    for status in [FulfillmentStatus::PushFailed, FulfillmentStatus::Pushed] {
        set_status(&app, order_id, status).await;
        let body = app.gql(DELETE, json!({ "id": m["id"] }), Some(&s.access)).await;
        assert_eq!(problems(&body["data"]["deleteSku"]), pairs(&[("IN_USE", "input.id")]), "{status:?}: {body}");
    }
    // An unused SKU goes at once.
    let body = app.gql(DELETE, json!({ "id": spare["id"] }), Some(&s.access)).await;
    assert_eq!(body["data"]["deleteSku"]["deletedSkuId"], spare["id"], "{body}");

    // Allowed once the order is cancelled; the line keeps its seller SKU and loses the link.
    set_status(&app, order_id, FulfillmentStatus::Cancelled).await;
    let body = app.gql(DELETE, json!({ "id": m["id"] }), Some(&s.access)).await;
    assert_eq!(body["data"]["deleteSku"]["userErrors"], json!([]), "{body}");
    assert_eq!(body["data"]["deleteSku"]["deletedSkuId"], m["id"], "{body}");
    let db = &app.state.services.db;
    let lines = order_item::Entity::find().all(db).await.unwrap();
    assert!(lines.iter().all(|l| l.sku_id.is_none() && l.platform_sku.is_some()));
    let gone = app.gql("query($id: ID!) { sku(id: $id) { code } }", json!({ "id": m["id"] }), Some(&s.access)).await;
    assert_eq!(code(&gone), "NOT_FOUND", "{gone}");
    let audit = app
        .gql("{ auditEvents(first: 20) { edges { node { action entityType entityId } } } }", json!({}), Some(&s.access))
        .await;
    let deleted = audit["data"]["auditEvents"]["edges"]
        .as_array()
        .map(|e| e.iter().any(|e| e["node"]["action"] == "sku.deleted" && e["node"]["entityId"] == m["id"]));
    assert_eq!(deleted, Some(true), "{audit}");
}

async fn set_status(app: &TestApp, order_id: Uuid, status: FulfillmentStatus) {
    let db = &app.state.services.db;
    let o = order::Entity::find_by_id(order_id).one(db).await.unwrap().unwrap();
    let mut a: order::ActiveModel = o.into();
    a.fulfillment_status = Set(status);
    a.update(db).await.unwrap();
}
