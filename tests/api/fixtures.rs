//! Test data written straight into the database (orders as a download would leave them,
//! SKUs, channels), so fulfilment tests start from a known state and then drive the real
//! API over HTTP.

use api::graphql::ids::{Kind, encode};
use chrono::Utc;
use entity::{
    account,
    enums::{AccountStatus, FulfillmentStatus, Platform, WarehouseSkuStatus, WriteBackStatus},
    membership, order, order_item, sku, user,
};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Session, TestApp};

pub fn gid(kind: Kind, id: Uuid) -> String {
    encode(kind, id).0
}

/// The UUID inside a global id (`base64url("Kind:uuid")`).
pub fn uuid_of(global: &str) -> Uuid {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(global).unwrap()).unwrap();
    Uuid::parse_str(raw.split_once(':').unwrap().1).unwrap()
}

pub async fn org_of(app: &TestApp, email: &str) -> Uuid {
    let db = &app.state.services.db;
    let u = user::Entity::find().filter(user::Column::Email.eq(email)).one(db).await.unwrap().unwrap();
    membership::Entity::find()
        .filter(membership::Column::UserId.eq(u.id))
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .organization_id
}

pub async fn account(app: &TestApp, org: Uuid) -> Uuid {
    let now = Utc::now();
    let id = Uuid::now_v7();
    account::ActiveModel {
        id: Set(id),
        organization_id: Set(org),
        platform: Set(Platform::Ebay),
        name: Set(format!("store {id}")),
        status: Set(AccountStatus::Active),
        external_account_id: Set(None),
        marketplace_id: Set(None),
        region: Set(None),
        platform_user_name: Set(Some("fixture_seller".into())),
        marketplace_ids: Set(None),
        carriers_json: Set(None),
        carriers_fetched_at: Set(None),
        credentials_ciphertext: Set(None),
        credentials_nonce: Set(None),
        credentials_key_version: Set(None),
        oauth_state: Set(None),
        oauth_started_by: Set(None),
        oauth_state_expires_at: Set(None),
        access_token_expires_at: Set(None),
        refresh_token_expires_at: Set(None),
        sync_watermark: Set(None),
        sync_cursor: Set(None),
        last_synced_at: Set(None),
        last_sync_error: Set(None),
        disabled_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&app.state.services.db)
    .await
    .unwrap();
    id
}

#[derive(Clone)]
pub struct Decl {
    pub name_en: Option<&'static str>,
    pub name_cn: Option<&'static str>,
    pub value_minor: Option<i64>,
    pub weight: Option<i32>,
}

pub const MUG: Decl =
    Decl { name_en: Some("Ceramic mug"), name_cn: Some("陶瓷杯"), value_minor: Some(500), weight: Some(300) };

pub async fn sku(app: &TestApp, org: Uuid, code: &str, d: Decl) -> Uuid {
    let now = Utc::now();
    let id = Uuid::now_v7();
    sku::ActiveModel {
        id: Set(id),
        organization_id: Set(org),
        code: Set(code.to_owned()),
        name: Set(Some(format!("{code} name"))),
        decl_name_en: Set(d.name_en.map(str::to_owned)),
        decl_name_cn: Set(d.name_cn.map(str::to_owned)),
        decl_value_minor: Set(d.value_minor),
        decl_currency: Set(d.value_minor.map(|_| "USD".to_owned())),
        weight_grams: Set(d.weight),
        hs_code: Set(Some("691200".into())),
        origin_country: Set(Some("CN".into())),
        picking_info: Set(Some(format!("{code} 蓝色 blue"))),
        warehouse_account_id: Set(None),
        warehouse_sku_id: Set(None),
        warehouse_seller_sku: Set(None),
        warehouse_status: Set(WarehouseSkuStatus::NotSubmitted),
        warehouse_synced_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&app.state.services.db)
    .await
    .unwrap();
    id
}

#[derive(Clone)]
pub struct Addr {
    pub name: String,
    pub line1: String,
    pub city: Option<String>,
    pub postal: Option<String>,
    pub country: String,
}

pub fn addr(name: &str, line1: &str, country: &str) -> Addr {
    Addr {
        name: name.into(),
        line1: line1.into(),
        city: Some("Dublin".into()),
        postal: Some("D01 F5P2".into()),
        country: country.into(),
    }
}

/// An UNPUSHED order with the given lines (SKU id or none, quantity).
pub async fn order(app: &TestApp, org: Uuid, account_id: Uuid, a: &Addr, lines: &[(Option<Uuid>, i32)]) -> Uuid {
    let db = &app.state.services.db;
    let now = Utc::now();
    let id = Uuid::now_v7();
    order::ActiveModel {
        id: Set(id),
        organization_id: Set(org),
        account_id: Set(account_id),
        platform: Set(Platform::Ebay),
        platform_order_id: Set(format!("12-{:05}-{:05}", id.as_u128() % 100_000, (id.as_u128() >> 20) % 100_000)),
        platform_status: Set(Some("NOT_STARTED".into())),
        buyer_name: Set(Some(a.name.clone())),
        buyer_email: Set(None),
        recipient_name: Set(a.name.clone()),
        recipient_phone: Set(Some("+353 1 555 0100".into())),
        recipient_email: Set(None),
        recipient_company: Set(None),
        address_line1: Set(a.line1.clone()),
        address_line2: Set(None),
        city: Set(a.city.clone()),
        state: Set(None),
        postal_code: Set(a.postal.clone()),
        country_code: Set(a.country.clone()),
        currency: Set("USD".into()),
        total_minor: Set(2_000),
        shipping_minor: Set(0),
        fulfillment_status: Set(FulfillmentStatus::Unpushed),
        write_back_status: Set(WriteBackStatus::NotRequested),
        write_back_error: Set(None),
        write_back_error_code: Set(None),
        marketplace_state: Set(entity::enums::MarketplaceState::AwaitingShipment),
        marketplace_id: Set(None),
        channel_id: Set(None),
        tracking_number: Set(None),
        last_operation_message: Set(None),
        last_error_code: Set(None),
        version: Set(0),
        ordered_at: Set(Some(now)),
        platform_updated_at: Set(Some(now)),
        pushed_at: Set(None),
        shipped_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .unwrap();
    for (i, (sku_id, qty)) in lines.iter().enumerate() {
        order_item::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(org),
            order_id: Set(id),
            platform_item_id: Set(Some(format!("item-{i}"))),
            platform_sku: Set(Some(format!("SELLER-{i}"))),
            title: Set(Some("A thing".into())),
            quantity: Set(*qty),
            unit_price_minor: Set(1_000),
            sku_id: Set(*sku_id),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(db)
        .await
        .unwrap();
    }
    id
}

pub const CREATE_CHANNEL: &str = "mutation($i: CreateChannelInput!) { createChannel(input: $i) { channel { id code trackingRange { remaining } } userErrors { code field message } } }";

/// A tenant channel (the caller must be ADMIN or OWNER); returns its id.
pub async fn channel(app: &TestApp, s: &Session, input: Value) -> String {
    let body = app.gql(CREATE_CHANNEL, json!({ "i": input }), Some(&s.access)).await;
    assert_eq!(body["data"]["createChannel"]["userErrors"], json!([]), "{body}");
    body["data"]["createChannel"]["channel"]["id"].as_str().unwrap().to_owned()
}

/// A permissive channel: everywhere, no limits, addresses as they are.
pub fn open_channel(code: &str) -> Value {
    json!({
        "code": code,
        "name": format!("{code} line"),
        "trackingRange": { "prefix": "RR", "suffix": "CN", "start": 1000, "end": 999_999 },
    })
}
