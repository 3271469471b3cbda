//! Labels over HTTP (seed 000 §7): templates, the sender address, `printLabels` → one PDF
//! fetched through its signed link. The PDF is parsed with lopdf (page count, and each
//! page's tracking number, recipient, Chinese declared name and picking info as text), and
//! each page is rasterised with poppler's `pdftoppm` and its barcode read back with zbar's
//! `zbarimg` (both from Debian: `.ci/run` installs them), independently of our encoder.

use std::{path::Path, process::Command};

use api::{domain::labels::Links, graphql::ids::Kind};
use chrono::Utc;
use entity::label_file;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    db_tests,
    fixtures::{self, MUG, addr, gid, open_channel},
    fulfilment::{PUSH, SET_CHANNEL, SHIP, settled, setup},
    helpers::{Session, TestApp, code},
};

db_tests!(print_batch_end_to_end, templates_and_permissions);

const TEMPLATES: &str = "{ labelTemplates { id code name global widthMm heightMm blocks { kind xMm yMm widthMm heightMm fontSize border } } }";
const SENDER: &str = "mutation($a: AddressInput!) { updateSenderAddress(input: { address: $a }) { senderAddress { name city countryCode } userErrors { code field message } } }";
const PRINT: &str = "mutation($ids: [ID!]!, $t: ID!) { printLabels(input: { waybillIds: $ids, templateId: $t }) { results { waybillId status waybill { status printedAt trackingNumber } userErrors { code message } warnings { code message } } file { url expiresAt pageCount byteSize } userErrors { code field message } } }";
const CREATE_TEMPLATE: &str = "mutation($i: CreateLabelTemplateInput!) { createLabelTemplate(input: $i) { labelTemplate { id code global widthMm blocks { kind } } userErrors { code field message } } }";
const UPDATE_TEMPLATE: &str = "mutation($i: UpdateLabelTemplateInput!) { updateLabelTemplate(input: $i) { labelTemplate { id name heightMm } userErrors { code field message } } }";

fn template_id(app_templates: &Value, code: &str) -> String {
    app_templates["data"]["labelTemplates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["code"] == code)
        .unwrap_or_else(|| panic!("no template {code}: {app_templates}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn set_sender(app: &TestApp, s: &Session) {
    let a = json!({ "name": "深圳仓 Shenzhen DC", "line1": "18 Keji Rd", "city": "Shenzhen", "countryCode": "cn", "phone": "+86 755 1234" });
    let body = app.gql(SENDER, json!({ "a": a }), Some(&s.access)).await;
    assert_eq!(body["data"]["updateSenderAddress"]["userErrors"], json!([]), "{body}");
    assert_eq!(body["data"]["updateSenderAddress"]["senderAddress"]["countryCode"], "CN");
}

/// Pushed orders (one per recipient), their waybill ids and tracking numbers.
async fn pushed(
    app: &TestApp,
    s: &Session,
    org: Uuid,
    account: Uuid,
    who: &[(&str, &str, &str)],
) -> Vec<(String, String, String)> {
    let mug = fixtures::sku(app, org, "MUG-L", MUG).await;
    let ch = fixtures::channel(app, s, open_channel("LBL")).await;
    let mut ids = Vec::new();
    for (name, line1, country) in who {
        ids.push(gid(
            Kind::Order,
            fixtures::order(app, org, account, &addr(name, line1, country), &[(Some(mug), 2)]).await,
        ));
    }
    let body = app.gql(SET_CHANNEL, json!({ "ids": ids, "c": ch }), Some(&s.access)).await;
    assert!(body["errors"].is_null(), "{body}");
    let body = app.gql(PUSH, json!({ "ids": ids }), Some(&s.access)).await;
    assert!(body["errors"].is_null(), "{body}");
    let mut out = Vec::new();
    for id in ids {
        let o = settled(app, s, &id).await;
        assert_eq!(o["fulfillmentStatus"], "PUSHED", "{o}");
        out.push((
            id,
            o["waybill"]["id"].as_str().unwrap().to_owned(),
            o["waybill"]["trackingNumber"].as_str().unwrap().to_owned(),
        ));
    }
    out
}

/// Reads every Code 128 on page `page` (1-based) of `pdf` with pdftoppm + zbarimg.
fn barcodes(pdf: &Path, page: usize) -> Vec<String> {
    let prefix = pdf.with_extension(format!("p{page}"));
    let status = Command::new("pdftoppm")
        .args(["-r", "300", "-gray", "-png", "-singlefile", "-f", &page.to_string(), "-l", &page.to_string()])
        .arg(pdf)
        .arg(&prefix)
        .status()
        .expect("pdftoppm (Debian poppler-utils; .ci/run installs it)");
    assert!(status.success());
    let png = prefix.with_extension(format!("p{page}.png"));
    let out = Command::new("zbarimg")
        .args(["--quiet", "--raw", "-Sdisable", "-Scode128.enable"])
        .arg(&png)
        .output()
        .expect("zbarimg (Debian zbar-tools; .ci/run installs it)");
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).filter(|l| !l.is_empty()).collect()
}

async fn get(app: &TestApp, url: &str) -> (u16, Option<String>, Vec<u8>) {
    let resp = app.client.get(url).send().await.unwrap();
    let status = resp.status().as_u16();
    let ct = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
    (status, ct, resp.bytes().await.unwrap().to_vec())
}

async fn print_batch_end_to_end(app: TestApp) {
    let t = setup(&app, "labels@example.com").await;
    let s = &t.owner;
    let orders = pushed(
        &app,
        s,
        t.org,
        t.account,
        &[
            ("山田太郎", "東京都千代田区丸の内1-1-1", "JP"),
            ("Zoë Müller-Lüdenscheidt", "12 Rue de l'Église", "FR"),
            ("Seán O'Brien", "12 O'Connell St", "IE"),
        ],
    )
    .await;
    // An UNCONFIRMED manual waybill, and another tenant's waybill.
    let ch = fixtures::channel(&app, s, open_channel("MANL")).await;
    let create =
        "mutation($i: CreateWaybillInput!) { createWaybill(input: $i) { waybill { id status } userErrors { code } } }";
    let body = app
        .gql(
            create,
            json!({ "i": { "channelId": ch, "recipient": { "name": "A", "line1": "1 St", "city": "X", "countryCode": "US" }, "lines": [{ "quantity": 1, "nameEn": "Book", "unitValueMinor": 100, "currency": "USD", "unitWeightGrams": 100 }] } }),
            Some(&s.access),
        )
        .await;
    let unconfirmed = body["data"]["createWaybill"]["waybill"]["id"].as_str().unwrap().to_owned();
    let other = setup(&app, "labels-other@example.com").await;
    let theirs = pushed(&app, &other.owner, other.org, other.account, &[("Eve", "1 Other St", "GB")]).await;

    let templates = app.gql(TEMPLATES, json!({}), Some(&s.access)).await;
    let codes: Vec<&str> =
        templates["data"]["labelTemplates"].as_array().unwrap().iter().map(|t| t["code"].as_str().unwrap()).collect();
    for c in ["LABEL_100X100", "LABEL_100X150", "LABEL_100X150_CN22"] {
        assert!(codes.contains(&c), "{templates}");
    }
    let cn22 = template_id(&templates, "LABEL_100X150_CN22");
    let l15 = template_id(&templates, "LABEL_100X150");

    // No sender address yet: the whole print is refused with a code.
    let ids: Vec<&str> = orders.iter().map(|o| o.1.as_str()).collect();
    let body = app.gql(PRINT, json!({ "ids": ids, "t": l15 }), Some(&s.access)).await;
    assert_eq!(body["data"]["printLabels"]["userErrors"][0]["code"], "SENDER_ADDRESS_MISSING", "{body}");
    let bad =
        app.gql(SENDER, json!({ "a": { "name": "X", "line1": "1 St", "countryCode": "CHN" } }), Some(&s.access)).await;
    let errs = bad["data"]["updateSenderAddress"]["userErrors"].as_array().unwrap().clone();
    assert!(errs.iter().any(|e| e["field"] == json!(["input", "address", "city"])), "{bad}");
    assert!(errs.iter().any(|e| e["field"] == json!(["input", "address", "countryCode"])), "{bad}");
    set_sender(&app, s).await;

    // A viewer may not print.
    let viewer = app.add_user(s, "labels-viewer@example.com", "VIEWER").await;
    let body = app.gql(PRINT, json!({ "ids": ids, "t": cn22 }), Some(&viewer.access)).await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");

    // Print: three labels; the unconfirmed and the foreign waybill refused per waybill;
    // a repeated id counts once.
    let mut batch: Vec<&str> = ids.clone();
    batch.push(&unconfirmed);
    batch.push(&theirs[0].1);
    batch.push(ids[0]);
    let body = app.gql(PRINT, json!({ "ids": batch, "t": l15 }), Some(&s.access)).await;
    assert!(body["errors"].is_null(), "{body}");
    let p = &body["data"]["printLabels"];
    assert_eq!(p["userErrors"], json!([]), "{body}");
    let results = p["results"].as_array().unwrap();
    assert_eq!(results.len(), 5, "{body}");
    for r in &results[..3] {
        assert_eq!(r["status"], "PRINTED", "{r}");
        assert_eq!(r["waybill"]["status"], "PRINTED", "{r}");
        assert!(r["waybill"]["printedAt"].is_string(), "{r}");
        assert_eq!(r["userErrors"], json!([]), "{r}");
    }
    for r in &results[..3] {
        assert_eq!(r["warnings"], json!([]), "{body}");
    }
    assert_eq!(results[3]["status"], "UNCONFIRMED");
    assert_eq!(results[3]["userErrors"][0]["code"], "WAYBILL_UNCONFIRMED", "{body}");
    assert_eq!(results[4]["status"], Value::Null);
    assert_eq!(results[4]["userErrors"][0]["code"], "NOT_FOUND", "{body}");
    assert_eq!(p["file"]["pageCount"], 3);
    let url = p["file"]["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&format!("{}/labels/", app.base)) && url.ends_with(".pdf"), "{url}");

    // Download and read the PDF back.
    let (status, ct, pdf) = get(&app, &url).await;
    assert_eq!(status, 200);
    assert_eq!(ct.as_deref(), Some("application/pdf"));
    assert_eq!(pdf.len() as i64, p["file"]["byteSize"].as_i64().unwrap());
    let doc = lopdf::Document::load_mem(&pdf).expect("a valid PDF");
    assert_eq!(doc.get_pages().len(), 3);
    let names = ["山田太郎", "Zoë Müller-Lüdenscheidt", "Seán O'Brien"];
    let dir = std::env::temp_dir().join(format!("shipgate-labels-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("labels.pdf");
    std::fs::write(&file, &pdf).unwrap();
    for (i, (_, _, tracking)) in orders.iter().enumerate() {
        let text = doc.extract_text(&[i as u32 + 1]).unwrap();
        for want in
            [tracking.as_str(), names[i], "Ceramic mug / 陶瓷杯", "MUG-L × 2  MUG-L 蓝色 blue", "深圳仓", "LBL line"]
        {
            assert!(text.contains(want), "page {}: {want:?} missing in {text:?}", i + 1);
        }
        if i == 0 {
            assert!(text.contains("東京都千代田区丸の内1-1-1"), "{text:?}");
        }
        assert_eq!(barcodes(&file, i + 1), vec![tracking.clone()], "page {}", i + 1);
    }
    std::fs::remove_dir_all(&dir).ok();

    // A printed waybill ships as before, and can be printed again (here with the CN 22).
    let body = app.gql(SHIP, json!({ "ids": [&orders[0].0], "wb": false }), Some(&s.access)).await;
    assert!(body["errors"].is_null(), "{body}");
    let body = app.gql(PRINT, json!({ "ids": [ids[0], ids[1]], "t": cn22 }), Some(&s.access)).await;
    let r = &body["data"]["printLabels"]["results"];
    assert_eq!(r[0]["status"], "SHIPPED", "{body}");
    assert_eq!(r[1]["status"], "PRINTED", "{body}");
    let again = body["data"]["printLabels"]["file"]["url"].as_str().unwrap().to_owned();
    let (status, _, pdf) = get(&app, &again).await;
    assert_eq!(status, 200);
    let doc = lopdf::Document::load_mem(&pdf).unwrap();
    assert_eq!(doc.get_pages().len(), 2);
    let text = doc.extract_text(&[2]).unwrap();
    for want in ["CUSTOMS DECLARATION", "CN 22", "2 × Ceramic mug", "0.600", "10.00 USD", "Total value: 10.00 USD"] {
        assert!(text.contains(want), "{want:?} missing in {text:?}");
    }

    // Tampered, truncated, foreign-key-signed and expired links are all 404.
    let token = url.rsplit('/').next().unwrap().trim_end_matches(".pdf").to_owned();
    let mut flipped = token.clone().into_bytes();
    flipped[3] = if flipped[3] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    for bad in [
        format!("{}/labels/{flipped}.pdf", app.base),
        format!("{}/labels/{}.pdf", app.base, &token[..token.len() - 1]),
        format!("{}/labels/{token}", app.base),
        format!("{}/labels/nonsense.pdf", app.base),
    ] {
        assert_eq!(get(&app, &bad).await.0, 404, "{bad}");
    }
    let id = {
        let links = Links::new(*app.keys().links());
        let id = links.verify(&token, Utc::now()).expect("our own token verifies");
        let stale = links.sign(id, Utc::now() - chrono::Duration::seconds(1));
        assert_eq!(get(&app, &format!("{}/labels/{stale}.pdf", app.base)).await.0, 404);
        let forged = Links::new([9; 32]).sign(id, Utc::now() + chrono::Duration::minutes(5));
        assert_eq!(get(&app, &format!("{}/labels/{forged}.pdf", app.base)).await.0, 404);
        id
    };
    // The file itself expired (the link's own date is still ahead): 404, then pruned.
    label_file::Entity::update_many()
        .col_expr(label_file::Column::ExpiresAt, Expr::value(Utc::now() - chrono::Duration::seconds(1)))
        .filter(label_file::Column::Id.eq(id))
        .exec(&app.state.services.db)
        .await
        .unwrap();
    assert_eq!(get(&app, &url).await.0, 404);
    assert!(api::domain::labels::print::prune_files(&app.state.services.db).await.unwrap() >= 1);
    assert!(label_file::Entity::find_by_id(id).one(&app.state.services.db).await.unwrap().is_none());
}

async fn templates_and_permissions(app: TestApp) {
    let t = setup(&app, "tpl@example.com").await;
    let s = &t.owner;
    set_sender(&app, s).await;
    let minimal = json!({
        "code": "mini-50x30",
        "name": "Mini 50×30",
        "widthMm": 50,
        "heightMm": 30,
        "blocks": [
            { "kind": "BARCODE", "xMm": 1, "yMm": 1, "widthMm": 48, "heightMm": 14, "fontSize": 7 },
            { "kind": "RECIPIENT", "xMm": 1, "yMm": 16, "widthMm": 48, "heightMm": 13, "fontSize": 7, "border": true },
        ],
    });
    // Validation, by field.
    let mut bad = minimal.clone();
    bad["blocks"][1]["xMm"] = json!(30);
    bad["blocks"][0]["fontSize"] = json!(200);
    let body = app.gql(CREATE_TEMPLATE, json!({ "i": bad }), Some(&s.access)).await;
    let errs = body["data"]["createLabelTemplate"]["userErrors"].as_array().unwrap().clone();
    assert!(errs.iter().any(|e| e["field"] == json!(["input", "blocks", "1", "xMm"])), "{body}");
    assert!(errs.iter().any(|e| e["field"] == json!(["input", "blocks", "0", "fontSize"])), "{body}");
    let mut no_barcode = minimal.clone();
    no_barcode["blocks"] = json!([minimal["blocks"][1]]);
    let body = app.gql(CREATE_TEMPLATE, json!({ "i": no_barcode }), Some(&s.access)).await;
    assert!(body["data"]["createLabelTemplate"]["userErrors"].to_string().contains("BARCODE"), "{body}");
    // Global templates are for platform staff; operators manage no templates.
    let mut global = minimal.clone();
    global["global"] = json!(true);
    assert_eq!(code(&app.gql(CREATE_TEMPLATE, json!({ "i": global }), Some(&s.access)).await), "FORBIDDEN");
    let operator = app.add_user(s, "tpl-op@example.com", "OPERATOR").await;
    assert_eq!(code(&app.gql(CREATE_TEMPLATE, json!({ "i": minimal }), Some(&operator.access)).await), "FORBIDDEN");
    // Created by the owner; the code is unique within the tenant.
    let body = app.gql(CREATE_TEMPLATE, json!({ "i": minimal }), Some(&s.access)).await;
    let created = &body["data"]["createLabelTemplate"];
    assert_eq!(created["userErrors"], json!([]), "{body}");
    assert_eq!(created["labelTemplate"]["code"], "MINI-50X30");
    assert_eq!(created["labelTemplate"]["global"], false);
    let mine = created["labelTemplate"]["id"].as_str().unwrap().to_owned();
    let body = app.gql(CREATE_TEMPLATE, json!({ "i": minimal }), Some(&s.access)).await;
    assert_eq!(body["data"]["createLabelTemplate"]["userErrors"][0]["code"], "TAKEN", "{body}");
    let body =
        app.gql(UPDATE_TEMPLATE, json!({ "i": { "id": mine, "name": "Mini", "heightMm": 40 } }), Some(&s.access)).await;
    assert_eq!(body["data"]["updateLabelTemplate"]["labelTemplate"]["heightMm"], 40, "{body}");
    // Built-in templates are staff-managed.
    let templates = app.gql(TEMPLATES, json!({}), Some(&s.access)).await;
    let builtin = template_id(&templates, "LABEL_100X100");
    let body = app.gql(UPDATE_TEMPLATE, json!({ "i": { "id": builtin, "name": "Mine now" } }), Some(&s.access)).await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");

    // Printing with the tenant's template. An address too long for the small recipient
    // block even at the smallest size is printed, cut with "…", and reported.
    let long = "Flat 4, Building of the Extremely Long Street Names ".repeat(9);
    let orders =
        pushed(&app, s, t.org, t.account, &[("Ada Lovelace", "1 Analytical St", "GB"), ("Al Long", &long, "GB")]).await;
    let body = app.gql(PRINT, json!({ "ids": [&orders[0].1, &orders[1].1], "t": mine }), Some(&s.access)).await;
    let p = &body["data"]["printLabels"];
    assert_eq!(p["results"][0]["status"], "PRINTED", "{body}");
    assert_eq!(p["results"][0]["warnings"], json!([]), "{body}");
    assert_eq!(p["results"][1]["status"], "PRINTED", "{body}");
    assert_eq!(p["results"][1]["warnings"][0]["code"], "LABEL_TEXT_TRUNCATED", "{body}");
    assert!(p["results"][1]["warnings"][0]["message"].as_str().unwrap().contains("recipient"), "{body}");
    let (status, _, pdf) = get(&app, p["file"]["url"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    let doc = lopdf::Document::load_mem(&pdf).unwrap();
    assert_eq!(doc.get_pages().len(), 2);
    let text = doc.extract_text(&[1]).unwrap();
    assert!(text.contains(&orders[0].2) && text.contains("Ada Lovelace"), "{text:?}");
    let text = doc.extract_text(&[2]).unwrap();
    assert!(text.contains(&orders[1].2) && text.contains('…'), "{text:?}");

    // Another tenant neither sees nor prints with it.
    let other = setup(&app, "tpl-other@example.com").await;
    set_sender(&app, &other.owner).await;
    let theirs = app.gql(TEMPLATES, json!({}), Some(&other.owner.access)).await;
    assert!(!theirs.to_string().contains("MINI-50X30"), "{theirs}");
    let q = "query($id: ID!) { labelTemplate(id: $id) { id } }";
    assert_eq!(code(&app.gql(q, json!({ "id": mine }), Some(&other.owner.access)).await), "NOT_FOUND");
    let their_orders = pushed(&app, &other.owner, other.org, other.account, &[("Bob", "2 St", "GB")]).await;
    let body = app.gql(PRINT, json!({ "ids": [&their_orders[0].1], "t": mine }), Some(&other.owner.access)).await;
    let e = &body["data"]["printLabels"]["userErrors"][0];
    assert_eq!(e["code"], "NOT_FOUND", "{body}");
    assert_eq!(e["field"], json!(["input", "templateId"]));

    // A stored layout that no longer reads is refused with a code, not printed blank; a
    // tracking number no barcode can carry is refused for that waybill.
    let db = &app.state.services.db;
    let mine_uuid = fixtures::uuid_of(&mine);
    entity::label_template::Entity::update_many()
        .col_expr(entity::label_template::Column::Layout, Expr::value(json!({ "not": "blocks" })))
        .filter(entity::label_template::Column::Id.eq(mine_uuid))
        .exec(db)
        .await
        .unwrap();
    let body = app.gql(PRINT, json!({ "ids": [&orders[0].1], "t": mine }), Some(&s.access)).await;
    let e = &body["data"]["printLabels"]["userErrors"][0];
    assert_eq!(e["code"], "INVALID", "{body}");
    assert_eq!(e["field"], json!(["input", "templateId"]));
    let wb = fixtures::uuid_of(&orders[0].1);
    entity::waybill::Entity::update_many()
        .col_expr(entity::waybill::Column::TrackingNumber, Expr::value("RR1234五678CN"))
        .filter(entity::waybill::Column::Id.eq(wb))
        .exec(db)
        .await
        .unwrap();
    let templates = app.gql(TEMPLATES, json!({}), Some(&s.access)).await;
    let l10 = template_id(&templates, "LABEL_100X100");
    let body = app.gql(PRINT, json!({ "ids": [&orders[0].1, &orders[1].1], "t": l10 }), Some(&s.access)).await;
    let r = &body["data"]["printLabels"]["results"];
    assert_eq!(r[0]["userErrors"][0]["code"], "TRACKING_NUMBER_UNPRINTABLE", "{body}");
    assert_eq!(r[1]["status"], "PRINTED", "{body}");
    assert_eq!(body["data"]["printLabels"]["file"]["pageCount"], 1);
}
