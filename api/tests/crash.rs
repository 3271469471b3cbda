//! `kill -9` of a real `shipgate serve` process in the middle of pushing a batch, then a
//! restart on the same database: every order ends PUSHED exactly once, with one waybill
//! and one tracking number each, and no tracking number is issued twice.
//!
//! Runs on SQLite, and on PostgreSQL too when `SHIPGATE_TEST_POSTGRES_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use chrono::Utc;
use entity::{
    account, channel,
    enums::{AccountStatus, FulfillmentStatus, Platform, WarehouseSkuStatus, WaybillStatus, WriteBackStatus},
    membership, order, order_item, sku, user, waybill,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, Set,
};
use serde_json::{Value, json};
use uuid::Uuid;

const SECRET: &str = "crash-test-secret-key-that-is-long-enough-0123456789";
const ORDERS: usize = 3_000;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A server process, killed when dropped (so a failing test leaves none behind).
struct Server(Child);

impl Server {
    fn kill_9(&mut self) {
        self.0.kill().unwrap();
        self.0.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(url: &str, port: u16) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_shipgate"))
        .arg("serve")
        .env("SHIPGATE_DATABASE_URL", url)
        .env("SHIPGATE_BIND", format!("127.0.0.1:{port}"))
        .env("SHIPGATE_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        .env("SHIPGATE_SECRET_KEY", SECRET)
        .env("SHIPGATE_JOB_LEASE_SECS", "3")
        .env("SHIPGATE_SANDBOX_ORDERS", "1")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start shipgate");
    Server(child)
}

async fn wait_ready(http: &reqwest::Client, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(r) = http.get(format!("http://127.0.0.1:{port}/readyz")).send().await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server on {port} never became ready");
}

async fn gql(http: &reqwest::Client, port: u16, token: Option<&str>, query: &str, vars: Value) -> Value {
    let mut req =
        http.post(format!("http://127.0.0.1:{port}/graphql")).json(&json!({ "query": query, "variables": vars }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap().json().await.unwrap()
}

async fn fresh_url(postgres: bool) -> String {
    let id = Uuid::new_v4().simple().to_string();
    if postgres {
        let admin_url = std::env::var("SHIPGATE_TEST_POSTGRES_URL")
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let admin = sea_orm::Database::connect(admin_url.as_str()).await.unwrap();
        admin.execute_unprepared(&format!("CREATE DATABASE sg_crash_{id}")).await.unwrap();
        let (base, _) = admin_url.rsplit_once('/').unwrap();
        format!("{base}/sg_crash_{id}")
    } else {
        let dir = std::env::temp_dir().join("shipgate-tests");
        std::fs::create_dir_all(&dir).unwrap();
        format!("sqlite://{}/crash-{id}.db?mode=rwc", dir.display())
    }
}

/// An ACTIVE account, a declared SKU and `n` orders on `channel_id`, written directly.
async fn seed(db: &DatabaseConnection, org: Uuid, channel_id: Uuid, n: usize) -> Vec<Uuid> {
    let now = Utc::now();
    let account_id = Uuid::now_v7();
    account::Entity::insert(account::ActiveModel {
        id: Set(account_id),
        organization_id: Set(org),
        platform: Set(Platform::Ebay),
        name: Set("store".into()),
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
    })
    .exec(db)
    .await
    .unwrap();
    let sku_id = Uuid::now_v7();
    sku::Entity::insert(sku::ActiveModel {
        id: Set(sku_id),
        organization_id: Set(org),
        code: Set("MUG".into()),
        name: Set(None),
        decl_name_en: Set(Some("Mug".into())),
        decl_name_cn: Set(Some("杯子".into())),
        decl_value_minor: Set(Some(500)),
        decl_currency: Set(Some("USD".into())),
        weight_grams: Set(Some(300)),
        hs_code: Set(None),
        origin_country: Set(None),
        picking_info: Set(None),
        warehouse_account_id: Set(None),
        warehouse_sku_id: Set(None),
        warehouse_seller_sku: Set(None),
        warehouse_status: Set(WarehouseSkuStatus::NotSubmitted),
        warehouse_synced_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec(db)
    .await
    .unwrap();
    let ids: Vec<Uuid> = (0..n).map(|_| Uuid::now_v7()).collect();
    for chunk in ids.chunks(200) {
        let orders = chunk.iter().enumerate().map(|(i, id)| order::ActiveModel {
            id: Set(*id),
            organization_id: Set(org),
            account_id: Set(account_id),
            platform: Set(Platform::Ebay),
            platform_order_id: Set(format!("O-{}", id.simple())),
            platform_status: Set(None),
            buyer_name: Set(None),
            buyer_email: Set(None),
            recipient_name: Set(format!("Buyer {i}")),
            recipient_phone: Set(None),
            recipient_email: Set(None),
            recipient_company: Set(None),
            address_line1: Set("1 Main St".into()),
            address_line2: Set(None),
            city: Set(Some("Dublin".into())),
            state: Set(None),
            postal_code: Set(Some("D01".into())),
            country_code: Set("IE".into()),
            currency: Set("USD".into()),
            total_minor: Set(500),
            shipping_minor: Set(0),
            fulfillment_status: Set(FulfillmentStatus::Unpushed),
            write_back_status: Set(WriteBackStatus::NotRequested),
            write_back_error: Set(None),
            write_back_error_code: Set(None),
            marketplace_state: Set(entity::enums::MarketplaceState::AwaitingShipment),
            marketplace_id: Set(None),
            channel_id: Set(Some(channel_id)),
            tracking_number: Set(None),
            last_operation_message: Set(None),
            last_error_code: Set(None),
            version: Set(0),
            ordered_at: Set(None),
            platform_updated_at: Set(None),
            pushed_at: Set(None),
            shipped_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        });
        order::Entity::insert_many(orders).exec_without_returning(db).await.unwrap();
        let items = chunk.iter().map(|id| order_item::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(org),
            order_id: Set(*id),
            platform_item_id: Set(Some("1".into())),
            platform_sku: Set(Some("MUG".into())),
            title: Set(None),
            quantity: Set(1),
            unit_price_minor: Set(500),
            sku_id: Set(Some(sku_id)),
            created_at: Set(now),
            updated_at: Set(now),
        });
        order_item::Entity::insert_many(items).exec_without_returning(db).await.unwrap();
    }
    ids
}

async fn count(db: &DatabaseConnection, status: FulfillmentStatus) -> u64 {
    order::Entity::find().filter(order::Column::FulfillmentStatus.eq(status)).count(db).await.unwrap()
}

async fn kill_mid_batch(postgres: bool) {
    let url = fresh_url(postgres).await;
    let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
    let port = free_port();
    let mut first = start(&url, port);
    wait_ready(&http, port).await;
    let signup = gql(
        &http,
        port,
        None,
        "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }",
        json!({ "i": { "organizationName": "Crash Co", "email": "crash@example.com", "password": "correct horse battery staple" } }),
    )
    .await;
    let token = signup["data"]["signUp"]["accessToken"].as_str().expect("signed up").to_owned();
    let ch = gql(
        &http,
        port,
        Some(&token),
        "mutation($i: CreateChannelInput!) { createChannel(input: $i) { channel { id } userErrors { message } } }",
        json!({ "i": { "code": "CRASH", "name": "Crash line", "trackingRange": { "prefix": "RR", "suffix": "CN", "start": 1, "end": 9_999_999 } } }),
    )
    .await;
    assert!(ch["data"]["createChannel"]["channel"]["id"].is_string(), "{ch}");

    let db = api::db::connect(&url).await.unwrap();
    let u = user::Entity::find().filter(user::Column::Email.eq("crash@example.com")).one(&db).await.unwrap().unwrap();
    let org = membership::Entity::find()
        .filter(membership::Column::UserId.eq(u.id))
        .one(&db)
        .await
        .unwrap()
        .unwrap()
        .organization_id;
    let channel_row =
        channel::Entity::find().filter(channel::Column::Code.eq("CRASH")).one(&db).await.unwrap().unwrap();
    let ids = seed(&db, org, channel_row.id, ORDERS).await;

    let push = "mutation($ids: [ID!]!) { pushOrders(input: { orderIds: $ids }) { results { status } job { id } userErrors { message } } }";
    for chunk in ids.chunks(1_000) {
        let gids: Vec<String> =
            chunk.iter().map(|id| api::graphql::ids::encode(api::graphql::ids::Kind::Order, *id).0).collect();
        let body = gql(&http, port, Some(&token), push, json!({ "ids": gids })).await;
        assert!(body["data"]["pushOrders"]["job"]["id"].is_string(), "{body}");
    }
    // Kill -9 as soon as the workers are under way.
    let deadline = Instant::now() + Duration::from_secs(60);
    while count(&db, FulfillmentStatus::Pushed).await == 0 {
        assert!(Instant::now() < deadline, "nothing was pushed");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    first.kill_9();
    let pushing_at_kill = count(&db, FulfillmentStatus::Pushing).await;
    assert!(pushing_at_kill > 0, "the kill came after the batch finished; nothing was tested");

    // Restart on the same database: the leases lapse and the jobs resume.
    let port = free_port();
    let mut second = start(&url, port);
    wait_ready(&http, port).await;
    let deadline = Instant::now() + Duration::from_secs(120);
    while count(&db, FulfillmentStatus::Pushing).await > 0 {
        assert!(Instant::now() < deadline, "orders still PUSHING after the restart");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    second.kill_9();

    assert_eq!(count(&db, FulfillmentStatus::Pushed).await, ORDERS as u64, "every order pushed");
    let waybills = waybill::Entity::find().all(&db).await.unwrap();
    assert_eq!(waybills.len(), ORDERS, "one waybill per order, none duplicated");
    assert!(waybills.iter().all(|w| w.status == WaybillStatus::Forecasted));
    let numbers: std::collections::HashSet<String> =
        waybills.iter().filter_map(|w| w.tracking_number.clone()).collect();
    assert_eq!(numbers.len(), ORDERS, "no tracking number issued twice");
    let next: Option<i64> = channel::Entity::find_by_id(channel_row.id)
        .select_only()
        .column(channel::Column::RangeNext)
        .into_tuple()
        .one(&db)
        .await
        .unwrap();
    assert_eq!(next, Some(1 + ORDERS as i64), "exactly one booking per order: none lost to the crash");
    eprintln!("killed with {pushing_at_kill} of {ORDERS} orders still PUSHING; all pushed once after restart");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_batch_sqlite() {
    kill_mid_batch(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_batch_postgres() {
    // Always run (never pass by skipping): the URL, else the local server `.ci/test` starts.
    kill_mid_batch(true).await;
}
