//! A fake AliExpress Open Platform (IOP gateway `api-sg.aliexpress.com`), written from
//! AliExpress' own documents and official SDK, independent of the AliExpress connector (no
//! shared types, signing or paging code). Every rule, with its source, is listed in
//! `connectors/marketplace/aliexpress/WIRE.md`; in short:
//!
//! - Seller consent `GET /oauth/authorize?response_type=code&client_id=<app_key>&redirect_uri&state&force_auth`
//!   (AE-DOC 120687): `redirect_uri` must equal the app's registered callback; the
//!   "I Agree" form posts to `POST /oauth/consent`, which answers 303 to the callback
//!   with `code` and `state`. Codes look like `3_<app_key>_<random>`, are single-use and
//!   live 30 minutes (CHOICE: AliExpress publishes no code lifetime).
//! - Every gateway call carries `app_key, timestamp, sign_method, sign` (AE-DOC 120691),
//!   in a form-encoded body and/or the query string (both are read; the body wins), as
//!   the IOP SDK sends them (common parameters in the query, business ones in the body).
//!   `timestamp` is epoch ms, UTC ISO-8601 or legacy `yyyy-MM-dd HH:mm:ss` GMT+8, within
//!   7200 s of now. `sign`: every non-empty parameter but `sign`, sorted by name, as
//!   `k1v1k2v2…`, prefixed with the API path for `/rest` calls, HMAC-SHA256 keyed with the
//!   app secret, UPPER-case hex (AE-DOC 120692, IOP SDK `IopUtils.signApiRequest`).
//!   `sign_method=md5` (legacy TOP) is accepted too: upper-hex `MD5(secret+base+secret)`.
//! - `/rest/auth/token/create` and `/rest/auth/token/refresh` answer the flat body of the
//!   IOP SDK's `AuthTokenCreateResponse`; their errors are flat `{type, code, message,
//!   request_id}` (the SDK's DEFAULT error fields).
//! - `/sync` business calls answer `{"<method_with_underscores>_response":{…}}`; errors
//!   `{"error_response":{type, code, msg, sub_code?, sub_msg?, request_id}}` (the SDK's
//!   AE_DEFAULT error fields), with HTTP 200; only the injected throttle uses HTTP 429.
//! - `aliexpress.solution.order.get` (apiId 42270): `param0` JSON or the IOP SDK's flat
//!   parameters; without a status filter
//!   FINISH orders are left out (the API page: "FINISH … needs to be queried separately").
//!   Pages carry `total_count, total_page, current_page, page_size` (`PaginationResult`).
//! - `aliexpress.solution.order.info.get` (apiId 42707): `param1 {order_id,
//!   ext_info_bit_flag}` → `result.data` with `receipt_address`, `child_order_list`,
//!   `logistic_info_list` (the declared shipments), `logistics_status`, `over_time_left`,
//!   `order_end_reason`, `issue_status`.
//! - `aliexpress.logistics.redefining.listlogisticsservice`: the seller's services
//!   (`result_list.aeop_logistics_service_result[]`, `result_success`).
//! - `aliexpress.solution.order.fulfill` (apiId 42269): `service_name` must be one of the
//!   seller's services, `tracking_website` is required for `other`/`OTHER_*`, the tracking
//!   number must match the service's `tracking_no_regex`, and an order already declared
//!   with `send_type=all` is refused (AE-DOC 119601, 119464); refusals are
//!   `error_response{code 50, sub_code "-999", sub_msg}`.
//! - Sandbox developer portal `POST /portal/apps {"redirect_uri"}` → a freshly minted
//!   `{client_id (= app_key), client_secret}`, standing in for creating an app on the
//!   real portal (sellers bring their own key).
//! - Test hooks: `throttle_next` (HTTP 429 + `Retry-After: 1`, code `ApiCallLimit`) and
//!   `malformed_next` on order.get; `lose_next_writes` (a fulfil is applied, then answered
//!   503 with a non-provider body); `write_calls`; `ship_on_platform`,
//!   `cancel_on_platform`, `request_cancel_on_platform`.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Query, State},
    http::{StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, SubsecRound, TimeZone, Utc, Weekday};
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::Sha256;

use super::seed;

/// An app registered with the fake: its secret and its registered callback URL.
#[derive(Clone)]
pub struct FakeApp {
    pub client_secret: String,
    pub redirect_uri: String,
}

/// One order line (a child order in AliExpress terms).
#[derive(Clone)]
pub struct AeLine {
    pub child_id: u64,
    pub product_id: u64,
    pub sku: String,
    pub title: String,
    pub quantity: u32,
    pub unit_cents: i64,
}

/// One shipment declared on an order (by `order.fulfill` or on the platform): rendered as
/// an entry of order.info.get's `logistic_info_list`.
#[derive(Clone)]
pub struct AeShipment {
    /// The logistics service key (`service_name` of listlogisticsservice).
    pub service_name: String,
    pub logistics_no: String,
    /// `all` or `part`.
    pub send_type: String,
    pub tracking_website: Option<String>,
    pub sent: DateTime<Utc>,
}

/// One seeded order; rendered into the list (`order_dto`) and detail views.
#[derive(Clone)]
pub struct AeOrder {
    pub order_id: u64,
    pub status: String,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    /// Index into `seed::recipient`.
    pub recipient: usize,
    pub lines: Vec<AeLine>,
    pub shipping_cents: i64,
    /// Declared shipments, oldest first.
    pub shipments: Vec<AeShipment>,
    /// `end_reason` / `order_end_reason` of a finished order.
    pub end_reason: Option<String>,
    /// `gmt_trade_end` of a finished order.
    pub trade_end: Option<DateTime<Utc>>,
    /// `goods_prepare_time` of every child order, in days: the ship-by deadline is the
    /// payment time plus this.
    pub goods_prepare_days: i64,
}

impl AeOrder {
    /// Payment time (`gmt_pay_time` / `gmt_pay_success`).
    pub fn paid(&self) -> DateTime<Utc> {
        self.created + Duration::minutes(3)
    }

    /// The ship-by deadline (CHOICE: payment + `goods_prepare_time` days).
    pub fn ship_by(&self) -> DateTime<Utc> {
        self.paid() + Duration::days(self.goods_prepare_days)
    }

    /// True once a `send_type=all` shipment was declared.
    pub fn sent_all(&self) -> bool {
        self.shipments.iter().any(|s| s.send_type == "all")
    }
}

/// One entry of the seller's logistics services (listlogisticsservice's
/// `AeopLogisticsServiceResult`).
#[derive(Clone)]
pub struct AeLogisticsService {
    pub service_name: String,
    pub display_name: String,
    pub logistics_company: String,
    pub min_process_day: u32,
    pub max_process_day: u32,
    /// Empty: no format check (the `other`/`OTHER_*` services).
    pub tracking_no_regex: String,
    pub recommend_order: u32,
}

struct AccessToken {
    app_key: String,
    expires: DateTime<Utc>,
    refresh: String,
}

struct RefreshToken {
    app_key: String,
    expires: DateTime<Utc>,
    revoked: bool,
}

#[derive(Default)]
struct Tokens {
    access: HashMap<String, AccessToken>,
    refresh: HashMap<String, RefreshToken>,
    /// code → (app_key, expiry); removed when redeemed.
    codes: HashMap<String, (String, DateTime<Utc>)>,
}

/// Shared state; tests keep a handle to inspect and inject faults.
pub struct AliExpressFake {
    pub apps: Mutex<HashMap<String, FakeApp>>,
    tokens: Mutex<Tokens>,
    pub orders: Mutex<Vec<AeOrder>>,
    /// The seller's logistics services (listlogisticsservice); `order.fulfill` accepts
    /// only these `service_name`s.
    pub logistics_services: Mutex<Vec<AeLogisticsService>>,
    pub access_ttl: Mutex<Duration>,
    pub refresh_ttl: Mutex<Duration>,
    pub token_calls: Mutex<u32>,
    pub order_calls: Mutex<u32>,
    /// Answer the next N order.get calls with HTTP 429 + Retry-After: 1.
    pub throttle_next: Mutex<u32>,
    /// Answer the next order.get call with a malformed body (HTTP 200).
    pub malformed_next: Mutex<bool>,
    /// `(out_ref, parameters)` of every accepted `aliexpress.solution.order.fulfill`.
    pub fulfillments: Mutex<Vec<(String, Value)>>,
    /// The next N fulfil calls are applied, then answered HTTP 503 with a non-provider body.
    pub lose_next_writes: Mutex<u32>,
    /// Every fulfil call received, accepted or refused.
    pub write_calls: Mutex<u32>,
    /// Base URL the fake is reachable at.
    pub base_url: Mutex<String>,
    issued: Mutex<Vec<String>>,
}

/// The one seller every token of this fake belongs to.
pub const SANDBOX_SELLER_ID: &str = "2000123456";
pub const SANDBOX_USER_ID: &str = "2200987654321";
pub const SANDBOX_ACCOUNT: &str = "shipgate.sandbox.seller@example.com";
/// The seller's login id (`seller_login_id`, `seller_operator_login_id`).
pub const SANDBOX_SELLER_LOGIN: &str = "cn1500123456abcd";
/// How long consent codes live.
pub const CODE_TTL_SECONDS: i64 = 1800;
/// Largest `page_size` order.get accepts.
pub const MAX_PAGE_SIZE: u64 = 50;
/// Allowed distance between `timestamp` and now.
pub const TIMESTAMP_WINDOW_SECONDS: i64 = 7200;
/// `sub_code` of the fulfilment API's business refusals (AE-DOC 119601).
pub const BUSINESS_ERROR: &str = "-999";
/// `end_reason` / `order_end_reason` of an order cancelled on the platform (CHOICE).
pub const CANCEL_END_REASON: &str = "cancel_order_close_trade";
/// The service `ship_on_platform` declares.
pub const PLATFORM_SHIP_SERVICE: &str = "CAINIAO_STANDARD";
/// AE-DOC 119601 messages of the `-999` refusals.
pub const MSG_ALREADY_SHIPPED: &str = "该交易订单已填写发货通知,无需重复操作。";
pub const MSG_STATUS_NOT_ALLOWED: &str = "该交易订单缺少履约信息,请联系客服处理。";
pub const MSG_TRACKING_REJECTED: &str = "该货运跟踪号未通过物流风控审核,请更换货运跟踪号后重试。";
pub const MSG_ORDER_NOT_FOUND: &str = "您填写的交易订单号有误或不属于当前账号,请修改后重试。";
/// Suffix of the refusal of a `service_name` not in the seller's list.
pub const MSG_NOT_SELLER_SERVICE: &str = "is not a logistics service of this seller";

pub const ORDER_GET: &str = "aliexpress.solution.order.get";
pub const ORDER_INFO_GET: &str = "aliexpress.solution.order.info.get";
pub const ORDER_FULFILL: &str = "aliexpress.solution.order.fulfill";
pub const LIST_LOGISTICS_SERVICE: &str = "aliexpress.logistics.redefining.listlogisticsservice";

/// Statuses in which sellers may still act on an order (AE-DOC 119601).
const FULFILLABLE: [&str; 5] =
    ["WAIT_SELLER_SEND_GOODS", "SELLER_PART_SEND_GOODS", "IN_ISSUE", "IN_CANCEL", "IN_FROZEN"];

/// UPU S10 as the documented CPAM regex writes it (`A-z` included, as published).
const REGEX_UPU: &str = "^[a-zA-z]{2}[A-Za-z0-9]{9}[a-zA-z]{2}$";
/// The regex AE-DOC 109549 shows for CAINIAO_OVERSEA_STD_SERVICE_ES.
const REGEX_12_DIGITS: &str = "(^[0-9]{12}$)";
/// CHOICE for express carriers and the documented EMS example `LA88887777CN`.
const REGEX_EMS: &str = "^[A-Za-z]{2}[0-9]{8,9}[A-Za-z]{2}$";
const REGEX_ALNUM: &str = "^[A-Za-z0-9]{8,40}$";

/// Countries the `OTHER_<ISO2>_LOCAL` / `OTHER_<ISO2>_OVERSEAS` services exist for.
const OTHER_COUNTRIES: [&str; 12] = ["AU", "CA", "CN", "DE", "ES", "FR", "GB", "IE", "IT", "JP", "PL", "US"];

/// The deterministic list of logistics services every sandbox seller has.
pub fn default_logistics_services() -> Vec<AeLogisticsService> {
    let svc =
        |name: &str, display: &str, company: &str, days: (u32, u32), regex: &str, order: u32| AeLogisticsService {
            service_name: name.to_owned(),
            display_name: display.to_owned(),
            logistics_company: company.to_owned(),
            min_process_day: days.0,
            max_process_day: days.1,
            tracking_no_regex: regex.to_owned(),
            recommend_order: order,
        };
    let mut list = vec![
        svc("CPAM", "China Post Registered Air Mail", "CPAM", (1, 5), REGEX_UPU, 11),
        svc("EMS", "EMS", "EMS", (1, 5), REGEX_EMS, 12),
        svc("EMS_ZX_ZX_US", "ePacket", "EMS_ZX_ZX_US", (1, 5), REGEX_UPU, 13),
        svc(PLATFORM_SHIP_SERVICE, "AliExpress Standard Shipping", "CAINIAO", (1, 7), REGEX_ALNUM, 1),
        svc(
            "CAINIAO_OVERSEA_STD_SERVICE_ES",
            "Euro-business Parcel",
            "CAINIAO_OVERSEA_STD_SERVICE_ES",
            (1, 5),
            REGEX_12_DIGITS,
            10,
        ),
        svc("YANWEN_JYT", "Yanwen Special Line-YW", "YANWEN", (1, 5), REGEX_ALNUM, 20),
        svc("DHL", "DHL", "DHL", (1, 5), REGEX_ALNUM, 30),
        svc("UPS", "UPS Express Saver", "UPS", (1, 5), REGEX_ALNUM, 31),
        svc("FEDEX", "Fedex IP", "FEDEX", (1, 5), REGEX_ALNUM, 32),
        svc("POSTEITALIANE", "Posteitaliane", "POSTEITALIANE", (1, 5), REGEX_ALNUM, 40),
        svc("SEUR", "SEUR", "SEUR", (1, 5), REGEX_ALNUM, 41),
    ];
    let mut order = 100;
    for cc in OTHER_COUNTRIES {
        for (kind, label) in [("LOCAL", "Local Carrier"), ("OVERSEAS", "Overseas Carrier")] {
            let name = format!("OTHER_{cc}_{kind}");
            list.push(svc(&name, &format!("{cc} {label}"), &name, (1, 7), "", order));
            order += 1;
        }
    }
    list.push(svc("other", "Seller's Shipping Method", "other", (1, 7), "", 999));
    list
}

/// Checks a tracking number against a `tracking_no_regex` this fake publishes. The fake
/// evaluates only its own patterns (the crate has no regex engine); any other pattern is
/// not enforced.
pub fn tracking_number_matches(regex: &str, number: &str) -> bool {
    let b = number.as_bytes();
    // `[a-zA-z]`: a-z plus the range A..=z, exactly as published.
    let az = |c: u8| c.is_ascii_lowercase() || (b'A'..=b'z').contains(&c);
    match regex {
        "" => true,
        REGEX_UPU => {
            b.len() == 13
                && b[..2].iter().all(|c| az(*c))
                && b[2..11].iter().all(u8::is_ascii_alphanumeric)
                && b[11..].iter().all(|c| az(*c))
        }
        REGEX_12_DIGITS => b.len() == 12 && b.iter().all(u8::is_ascii_digit),
        REGEX_EMS => {
            (12..=13).contains(&b.len())
                && b[..2].iter().all(u8::is_ascii_alphabetic)
                && b[b.len() - 2..].iter().all(u8::is_ascii_alphabetic)
                && b[2..b.len() - 2].iter().all(u8::is_ascii_digit)
        }
        REGEX_ALNUM => (8..=40).contains(&b.len()) && b.iter().all(u8::is_ascii_alphanumeric),
        _ => true,
    }
}

/// True for the non-official carriers that need a `tracking_website` (AE-DOC 119464).
pub fn needs_tracking_website(service_name: &str) -> bool {
    service_name.eq_ignore_ascii_case("other") || service_name.starts_with("OTHER_")
}

impl AliExpressFake {
    pub fn new(order_count: usize) -> Arc<Self> {
        let base = seed::base_time();
        Arc::new(Self {
            apps: Mutex::new(HashMap::new()),
            tokens: Mutex::new(Tokens::default()),
            orders: Mutex::new((0..order_count).map(|i| seed_order(i, base)).collect()),
            logistics_services: Mutex::new(default_logistics_services()),
            access_ttl: Mutex::new(Duration::days(30)),
            refresh_ttl: Mutex::new(Duration::days(60)),
            token_calls: Mutex::new(0),
            order_calls: Mutex::new(0),
            throttle_next: Mutex::new(0),
            malformed_next: Mutex::new(false),
            fulfillments: Mutex::new(Vec::new()),
            lose_next_writes: Mutex::new(0),
            write_calls: Mutex::new(0),
            base_url: Mutex::new(String::new()),
            issued: Mutex::new(Vec::new()),
        })
    }

    pub fn register_app(&self, client_id: &str, app: FakeApp) {
        lock(&self.apps).insert(client_id.to_owned(), app);
    }

    /// Expires every access token now (the next business call gets IllegalAccessToken).
    pub fn expire_access_tokens(&self) {
        let past = Utc::now() - Duration::seconds(1);
        for t in lock(&self.tokens).access.values_mut() {
            t.expires = past;
        }
    }

    /// Revokes every refresh token and access token (the seller withdrew consent):
    /// refresh then answers IllegalRefreshToken.
    pub fn revoke_all(&self) {
        let mut t = lock(&self.tokens);
        for r in t.refresh.values_mut() {
            r.revoked = true;
        }
        t.access.clear();
    }

    /// Marks the first `n` orders as modified now, with a new status.
    pub fn touch_orders(&self, n: usize, status: &str) {
        let now = Utc::now().trunc_subsecs(0);
        for o in lock(&self.orders).iter_mut().take(n) {
            o.updated = now;
            o.status = status.to_owned();
        }
    }

    /// The seller shipped the order outside Shipgate: a `send_type=all` shipment with
    /// `PLATFORM_SHIP_SERVICE` and a tracking number derived from the order id is declared,
    /// the order moves to WAIT_BUYER_ACCEPT_GOODS, modified now. Unknown ids are ignored.
    pub fn ship_on_platform(&self, platform_order_id: &str) {
        let now = Utc::now().trunc_subsecs(0);
        self.with_order(platform_order_id, |o| {
            o.shipments.push(AeShipment {
                service_name: PLATFORM_SHIP_SERVICE.to_owned(),
                logistics_no: format!("LP{:014}", o.order_id % 100_000_000_000_000),
                send_type: "all".to_owned(),
                tracking_website: None,
                sent: now,
            });
            o.status = "WAIT_BUYER_ACCEPT_GOODS".to_owned();
            o.updated = now;
        });
    }

    /// The order is cancelled on the platform: FINISH with `end_reason` =
    /// `CANCEL_END_REASON`, trade ended and modified now.
    pub fn cancel_on_platform(&self, platform_order_id: &str) {
        let now = Utc::now().trunc_subsecs(0);
        self.with_order(platform_order_id, |o| {
            o.status = "FINISH".to_owned();
            o.end_reason = Some(CANCEL_END_REASON.to_owned());
            o.trade_end = Some(now);
            o.updated = now;
        });
    }

    /// The buyer asked to cancel: IN_CANCEL ("Buyer request cancellation"), modified now.
    pub fn request_cancel_on_platform(&self, platform_order_id: &str) {
        let now = Utc::now().trunc_subsecs(0);
        self.with_order(platform_order_id, |o| {
            o.status = "IN_CANCEL".to_owned();
            o.updated = now;
        });
    }

    fn with_order(&self, platform_order_id: &str, f: impl FnOnce(&mut AeOrder)) {
        let Ok(id) = platform_order_id.trim().parse::<u64>() else { return };
        if let Some(o) = lock(&self.orders).iter_mut().find(|o| o.order_id == id) {
            f(o);
        }
    }

    /// Every code, token and app secret the fake has issued (tests grep logs for them).
    pub fn issued_secrets(&self) -> Vec<String> {
        lock(&self.issued).clone()
    }

    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/oauth/authorize", get(authorize))
            .route("/oauth/consent", post(consent))
            .route("/rest/auth/token/create", get(token_create).post(token_create))
            .route("/rest/auth/token/refresh", get(token_refresh).post(token_refresh))
            .route("/sync", get(sync).post(sync))
            .route("/portal/apps", post(portal_create_app))
            .with_state(self.clone())
    }

    fn remember(&self, secret: &str) {
        lock(&self.issued).push(secret.to_owned());
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

// ---------------------------------------------------------------------------------
// US Pacific time (AliExpress' order dates), without a time-zone database.

/// Hours behind UTC in US Pacific time at `t`: 7 in daylight time, else 8. US rules
/// since 2007: daylight time from the second Sunday of March 02:00 PST (10:00 UTC) to
/// the first Sunday of November 02:00 PDT (09:00 UTC).
pub fn pacific_hours_behind(t: DateTime<Utc>) -> i64 {
    let year = t.year();
    let at =
        |d: Option<NaiveDate>, hour: u32| d.and_then(|d| d.and_hms_opt(hour, 0, 0)).map(|n| Utc.from_utc_datetime(&n));
    let start = at(NaiveDate::from_weekday_of_month_opt(year, 3, Weekday::Sun, 2), 10);
    let end = at(NaiveDate::from_weekday_of_month_opt(year, 11, Weekday::Sun, 1), 9);
    match (start, end) {
        (Some(s), Some(e)) if t >= s && t < e => 7,
        _ => 8,
    }
}

/// `yyyy-MM-dd HH:mm:ss` in US Pacific time.
pub fn to_pacific(t: DateTime<Utc>) -> String {
    (t - Duration::hours(pacific_hours_behind(t))).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Parses `yyyy-MM-dd HH:mm:ss` US Pacific time. In the repeated autumn hour the first
/// (daylight) reading wins; a time in the skipped spring hour reads as standard time.
pub fn from_pacific(s: &str) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S").ok()?;
    for h in [7, 8] {
        let candidate = Utc.from_utc_datetime(&(naive + Duration::hours(h)));
        if pacific_hours_behind(candidate) == h {
            return Some(candidate);
        }
    }
    Some(Utc.from_utc_datetime(&(naive + Duration::hours(8))))
}

// ---------------------------------------------------------------------------------
// Signing.

/// The string IOP signs: optional API path, then every parameter but `sign` sorted by
/// name, as `k1v1k2v2…`. Parameters whose name or value is empty or blank are left out,
/// as the official IOP SDK's `IopUtils.signApiRequest` does (`areNotEmpty(key, value)`).
pub fn sign_base(api_path: Option<&str>, params: &HashMap<String, String>) -> String {
    let mut keys: Vec<&String> = params
        .iter()
        .filter(|(k, v)| k.as_str() != "sign" && !k.trim().is_empty() && !v.trim().is_empty())
        .map(|(k, _)| k)
        .collect();
    keys.sort();
    let mut out = api_path.unwrap_or_default().to_owned();
    for k in keys {
        out.push_str(k);
        out.push_str(params.get(k).map(String::as_str).unwrap_or_default());
    }
    out
}

/// The expected `sign` for `sign_method` (`sha256` or `md5`), or None for another method.
pub fn expected_sign(secret: &str, api_path: Option<&str>, params: &HashMap<String, String>) -> Option<String> {
    let base = sign_base(api_path, params);
    match params.get("sign_method").map(String::as_str) {
        Some("sha256") => {
            let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).ok()?;
            mac.update(base.as_bytes());
            Some(hex::encode_upper(mac.finalize().into_bytes()))
        }
        Some("md5") => Some(hex::encode_upper(Md5::digest(format!("{secret}{base}{secret}").as_bytes()))),
        _ => None,
    }
}

/// True when `sign` matches exactly (upper-case hex, as documented).
pub fn verify_sign(secret: &str, api_path: Option<&str>, params: &HashMap<String, String>) -> bool {
    match (expected_sign(secret, api_path, params), params.get("sign")) {
        (Some(expected), Some(given)) => expected == *given,
        _ => false,
    }
}

// ---------------------------------------------------------------------------------
// Errors.

struct AeError {
    kind: &'static str,
    code: &'static str,
    msg: String,
    sub: Option<(&'static str, String)>,
}

impl AeError {
    fn isv(code: &'static str, msg: impl Into<String>) -> Self {
        Self { kind: "ISV", code, msg: msg.into(), sub: None }
    }

    fn invalid_parameter(detail: impl Into<String>) -> Self {
        Self {
            kind: "ISV",
            code: "50",
            msg: "Remote service error".into(),
            sub: Some(("isv.invalid-parameter", detail.into())),
        }
    }

    /// A business refusal of the fulfilment API: the `-999` messages of AE-DOC 119601,
    /// carried in the envelope of the API page's exception example (code 50).
    fn business(detail: impl Into<String>) -> Self {
        Self { kind: "ISV", code: "50", msg: "Remote service error".into(), sub: Some((BUSINESS_ERROR, detail.into())) }
    }

    /// The flat shape of IOP's `/rest` gateway.
    fn flat(self) -> Response {
        let mut body = json!({ "type": self.kind, "code": self.code, "message": self.msg, "request_id": request_id() });
        if let Some((sub_code, sub_msg)) = self.sub {
            body["sub_code"] = json!(sub_code);
            body["sub_msg"] = json!(sub_msg);
        }
        Json(body).into_response()
    }

    /// The `error_response` envelope of the `/sync` gateway.
    fn wrapped(self) -> Response {
        let mut inner = json!({ "type": self.kind, "code": self.code, "msg": self.msg, "request_id": request_id() });
        if let Some((sub_code, sub_msg)) = self.sub {
            inner["sub_code"] = json!(sub_code);
            inner["sub_msg"] = json!(sub_msg);
        }
        Json(json!({ "error_response": inner })).into_response()
    }
}

fn request_id() -> String {
    format!("21{}", &seed::random_hex(12)[..23])
}

fn missing(name: &str) -> AeError {
    AeError::isv(
        "MissingParameter",
        format!("The input parameter \"{name}\" that is mandatory for processing this request is not supplied."),
    )
}

// ---------------------------------------------------------------------------------
// Consent.

#[derive(Deserialize)]
struct AuthorizeQuery {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    state: Option<String>,
}

fn error_page(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Html(format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>AliExpress sandbox: authorization error</title></head><body><h1>Authorization error</h1><p>{}</p></body></html>",
            seed::html_escape(message)
        )),
    )
        .into_response()
}

async fn authorize(State(fake): State<Arc<AliExpressFake>>, Query(q): Query<AuthorizeQuery>) -> Response {
    if q.response_type.as_deref() != Some("code") {
        return error_page("response_type must be code");
    }
    let client_id = q.client_id.unwrap_or_default();
    let app = lock(&fake.apps).get(&client_id).cloned();
    let Some(app) = app else {
        return error_page("Invalid app key (client_id)");
    };
    let redirect = q.redirect_uri.unwrap_or_default();
    if redirect != app.redirect_uri {
        return error_page("redirect_uri does not match the callback URL registered for this app");
    }
    let esc = seed::html_escape;
    Html(format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>AliExpress sandbox: authorize</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:3em auto">
<h1>Authorize application {client}</h1>
<p>This application would like to read your orders and ship them on your behalf.</p>
<form method="post" action="consent">
<input type="hidden" name="client_id" value="{client}"><input type="hidden" name="redirect_uri" value="{redirect}"><input type="hidden" name="state" value="{state}">
<button type="submit" name="decision" value="agree">I Agree</button>
<button type="submit" name="decision" value="decline">Cancel</button>
</form></body></html>"#,
        client = esc(&client_id),
        redirect = esc(&redirect),
        state = esc(q.state.as_deref().unwrap_or_default()),
    ))
    .into_response()
}

async fn consent(State(fake): State<Arc<AliExpressFake>>, body: Bytes) -> Response {
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let field = |k: &str| form.get(k).cloned().unwrap_or_default();
    let client_id = field("client_id");
    let app = lock(&fake.apps).get(&client_id).cloned();
    let Some(app) = app else {
        return error_page("Invalid app key (client_id)");
    };
    if field("redirect_uri") != app.redirect_uri {
        return error_page("redirect_uri does not match the callback URL registered for this app");
    }
    let state = field("state");
    if field("decision") != "agree" {
        return Redirect::to(&seed::append_query(&app.redirect_uri, &[("error", "access_denied"), ("state", &state)]))
            .into_response();
    }
    let code = format!("3_{client_id}_{}", seed::random_alnum(26));
    lock(&fake.tokens).codes.insert(code.clone(), (client_id, Utc::now() + Duration::seconds(CODE_TTL_SECONDS)));
    fake.remember(&code);
    Redirect::to(&seed::append_query(&app.redirect_uri, &[("code", &code), ("state", &state)])).into_response()
}

#[derive(Deserialize)]
struct PortalRequest {
    redirect_uri: String,
}

async fn portal_create_app(State(fake): State<Arc<AliExpressFake>>, Json(req): Json<PortalRequest>) -> Response {
    if req.redirect_uri.trim().is_empty() {
        return (StatusCode::BAD_REQUEST, Json(json!({ "error": "redirect_uri is required" }))).into_response();
    }
    let mut apps = lock(&fake.apps);
    let client_id = loop {
        let mut b = [0u8; 4];
        rand::fill(&mut b);
        let candidate = format!("5{:05}", u32::from_le_bytes(b) % 100_000);
        if !apps.contains_key(&candidate) {
            break candidate;
        }
    };
    let client_secret = seed::random_alnum(32);
    apps.insert(client_id.clone(), FakeApp { client_secret: client_secret.clone(), redirect_uri: req.redirect_uri });
    drop(apps);
    fake.remember(&client_secret);
    Json(json!({ "client_id": client_id, "client_secret": client_secret })).into_response()
}

// ---------------------------------------------------------------------------------
// Gateway plumbing.

/// Query-string and form-body parameters; the body wins on a clash.
fn gather(query: Vec<(String, String)>, body: &Bytes) -> HashMap<String, String> {
    let mut params: HashMap<String, String> = query.into_iter().collect();
    if let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body) {
        params.extend(pairs);
    }
    params
}

/// `timestamp` as epoch milliseconds or UTC ISO-8601 (AE-DOC 120691), or the legacy TOP
/// form `yyyy-MM-dd HH:mm:ss` in GMT+8 (the IOP SDK's `Constants.DATE_TIMEZONE`).
fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<i64>().ok().and_then(DateTime::from_timestamp_millis);
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").ok().map(|n| Utc.from_utc_datetime(&(n - Duration::hours(8))))
}

/// Checks `app_key`, `timestamp` and `sign`; returns the app key.
fn check_call(
    fake: &AliExpressFake,
    params: &HashMap<String, String>,
    api_path: Option<&str>,
) -> Result<String, AeError> {
    let app_key = params.get("app_key").cloned().unwrap_or_default();
    let app = lock(&fake.apps).get(&app_key).cloned();
    let Some(app) = app else {
        return Err(AeError::isv("InvalidAppKey", "Invalid app Key"));
    };
    let Some(ts) = params.get("timestamp") else {
        return Err(missing("timestamp"));
    };
    match parse_timestamp(ts) {
        Some(t) if (Utc::now() - t).num_seconds().abs() <= TIMESTAMP_WINDOW_SECONDS => {}
        _ => {
            return Err(AeError::isv(
                "InvalidTimestamp",
                "The timestamp is invalid or differs from the server time by more than 7200 seconds",
            ));
        }
    }
    if !verify_sign(&app.client_secret, api_path, params) {
        return Err(AeError::isv(
            "IncompleteSignature",
            "The request signature does not conform to platform standards",
        ));
    }
    Ok(app_key)
}

fn token_body(access: &str, refresh: &str, access_exp: DateTime<Utc>, refresh_exp: DateTime<Utc>) -> Response {
    let now = Utc::now();
    Json(json!({
        "access_token": access,
        "refresh_token": refresh,
        "expires_in": (access_exp - now).num_seconds().max(0),
        "refresh_expires_in": (refresh_exp - now).num_seconds().max(0),
        "expire_time": access_exp.timestamp_millis(),
        "refresh_token_valid_time": refresh_exp.timestamp_millis(),
        "seller_id": SANDBOX_SELLER_ID,
        "user_id": SANDBOX_USER_ID,
        "havana_id": SANDBOX_USER_ID,
        "account": SANDBOX_ACCOUNT,
        "user_nick": "shipgate_sandbox",
        "account_platform": "seller_center",
        "sp": "ae",
        "locale": "en_US",
        "code": "0",
        "request_id": request_id(),
    }))
    .into_response()
}

fn mint_access(fake: &AliExpressFake, t: &mut Tokens, app_key: &str, refresh: &str) -> (String, DateTime<Utc>) {
    let access = format!("50000{}", seed::random_alnum(40));
    let exp = Utc::now() + *lock(&fake.access_ttl);
    t.access
        .insert(access.clone(), AccessToken { app_key: app_key.to_owned(), expires: exp, refresh: refresh.to_owned() });
    fake.remember(&access);
    (access, exp)
}

async fn token_create(
    State(fake): State<Arc<AliExpressFake>>,
    Query(query): Query<Vec<(String, String)>>,
    body: Bytes,
) -> Response {
    *lock(&fake.token_calls) += 1;
    let params = gather(query, &body);
    let app_key = match check_call(&fake, &params, Some("/auth/token/create")) {
        Ok(k) => k,
        Err(e) => return e.flat(),
    };
    let Some(code) = params.get("code") else {
        return missing("code").flat();
    };
    let mut t = lock(&fake.tokens);
    // Codes are single-use and short-lived.
    match t.codes.remove(code) {
        Some((owner, exp)) if owner == app_key && exp > Utc::now() => {}
        _ => return AeError::isv("InvalidCode", "Invalid authorization code").flat(),
    }
    let refresh = format!("50001{}", seed::random_alnum(40));
    let refresh_exp = Utc::now() + *lock(&fake.refresh_ttl);
    t.refresh.insert(refresh.clone(), RefreshToken { app_key: app_key.clone(), expires: refresh_exp, revoked: false });
    fake.remember(&refresh);
    let (access, access_exp) = mint_access(&fake, &mut t, &app_key, &refresh);
    drop(t);
    token_body(&access, &refresh, access_exp, refresh_exp)
}

async fn token_refresh(
    State(fake): State<Arc<AliExpressFake>>,
    Query(query): Query<Vec<(String, String)>>,
    body: Bytes,
) -> Response {
    *lock(&fake.token_calls) += 1;
    let params = gather(query, &body);
    let app_key = match check_call(&fake, &params, Some("/auth/token/refresh")) {
        Ok(k) => k,
        Err(e) => return e.flat(),
    };
    let Some(refresh) = params.get("refresh_token").cloned() else {
        return missing("refresh_token").flat();
    };
    let mut t = lock(&fake.tokens);
    let refresh_exp = match t.refresh.get(&refresh) {
        Some(r) if r.app_key == app_key && !r.revoked && r.expires > Utc::now() => r.expires,
        _ => {
            return AeError::isv("IllegalRefreshToken", "The specified refresh token is invalid or expired").flat();
        }
    };
    let (access, access_exp) = mint_access(&fake, &mut t, &app_key, &refresh);
    drop(t);
    token_body(&access, &refresh, access_exp, refresh_exp)
}

fn check_access_token(fake: &AliExpressFake, params: &HashMap<String, String>, app_key: &str) -> Result<(), AeError> {
    let token = params.get("access_token").or_else(|| params.get("session"));
    let t = lock(&fake.tokens);
    let ok = token.and_then(|tok| t.access.get(tok)).is_some_and(|a| {
        a.app_key == app_key
            && a.expires > Utc::now()
            && t.refresh.get(&a.refresh).is_some_and(|r| !r.revoked && r.app_key == app_key)
    });
    if ok {
        Ok(())
    } else {
        Err(AeError::isv("IllegalAccessToken", "The specified access token is invalid or expired"))
    }
}

async fn sync(
    State(fake): State<Arc<AliExpressFake>>,
    Query(query): Query<Vec<(String, String)>>,
    body: Bytes,
) -> Response {
    let params = gather(query, &body);
    let method = params.get("method").cloned().unwrap_or_default();
    match method.as_str() {
        ORDER_GET => *lock(&fake.order_calls) += 1,
        // Every write call received counts, accepted or refused.
        ORDER_FULFILL => *lock(&fake.write_calls) += 1,
        _ => {}
    }
    if method.is_empty() {
        return missing("method").wrapped();
    }
    let app_key = match check_call(&fake, &params, None) {
        Ok(k) => k,
        Err(e) => return e.wrapped(),
    };
    if ![ORDER_GET, ORDER_INFO_GET, ORDER_FULFILL, LIST_LOGISTICS_SERVICE].contains(&method.as_str()) {
        return AeError::isv("InvalidApiPath", "The specified API path is invalid").wrapped();
    }
    if let Err(e) = check_access_token(&fake, &params, &app_key) {
        return e.wrapped();
    }
    match method.as_str() {
        ORDER_GET => order_get(&fake, &params),
        ORDER_INFO_GET => order_info_get(&fake, &params),
        LIST_LOGISTICS_SERVICE => list_logistics_service(&fake),
        _ => order_fulfill(&fake, &params),
    }
}

// ---------------------------------------------------------------------------------
// Business methods.

fn json_param(params: &HashMap<String, String>, name: &str) -> Result<serde_json::Map<String, Value>, AeError> {
    let raw = params.get(name).ok_or_else(|| missing(name))?;
    match serde_json::from_str::<Value>(raw) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(AeError::invalid_parameter(format!("{name} must be a JSON object"))),
    }
}

/// order.get's query: the `param0` JSON object of the API page (apiId 42270), or the flat
/// parameters the IOP SDK sends (`AliexpressSolutionOrderGetRequest`; `order_status_list`
/// as a JSON array text).
fn order_query(params: &HashMap<String, String>) -> Result<serde_json::Map<String, Value>, AeError> {
    if params.contains_key("param0") {
        return json_param(params, "param0");
    }
    let mut q = serde_json::Map::new();
    for name in [
        "current_page",
        "page_size",
        "create_date_start",
        "create_date_end",
        "modified_date_start",
        "modified_date_end",
        "order_status",
        "order_status_list",
        "buyer_login_id",
    ] {
        if let Some(v) = params.get(name) {
            let value = match serde_json::from_str::<Value>(v) {
                Ok(Value::Array(a)) if name == "order_status_list" => Value::Array(a),
                _ => Value::String(v.clone()),
            };
            q.insert(name.to_owned(), value);
        }
    }
    Ok(q)
}

/// A non-negative integer given as a JSON number or a numeric string.
fn int_field(m: &serde_json::Map<String, Value>, name: &str) -> Result<Option<u64>, AeError> {
    match m.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::Number(n)) => {
            n.as_u64().map(Some).ok_or_else(|| AeError::invalid_parameter(format!("{name} is invalid")))
        }
        Some(Value::String(s)) => {
            s.trim().parse().map(Some).map_err(|_| AeError::invalid_parameter(format!("{name} is invalid")))
        }
        Some(_) => Err(AeError::invalid_parameter(format!("{name} is invalid"))),
    }
}

fn date_field(m: &serde_json::Map<String, Value>, name: &str) -> Result<Option<DateTime<Utc>>, AeError> {
    match m.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => from_pacific(s).map(Some).ok_or_else(|| {
            AeError::invalid_parameter(format!("{name} must be a US Pacific time as yyyy-MM-dd HH:mm:ss"))
        }),
        Some(_) => Err(AeError::invalid_parameter(format!("{name} is invalid"))),
    }
}

fn throttled() -> Response {
    let mut r = AeError {
        kind: "ISP",
        code: "ApiCallLimit",
        msg: "The request has exceeded the allowed call frequency limit".into(),
        sub: None,
    }
    .wrapped();
    *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    r.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    r
}

/// `{"<method_with_underscores>_response": {…, request_id}}`.
fn answer(method: &str, mut body: serde_json::Map<String, Value>) -> Response {
    body.insert("request_id".into(), json!(request_id()));
    let key = format!("{}_response", method.replace('.', "_"));
    Json(json!({ key: Value::Object(body) })).into_response()
}

/// order.get's `SimpleMoney`.
fn money(cents: i64) -> Value {
    json!({ "amount": seed::cents(cents), "currency_code": "USD" })
}

/// order.info.get's `GlobalMoneyStr` (`amount_key` is `amount` or, on child orders'
/// logistics amounts, `amount_str`).
fn global_money(cents: i64, amount_key: &str) -> Value {
    json!({
        amount_key: seed::cents(cents),
        "cent": cents,
        "cent_factor": 100,
        "currency_code": "USD",
        "currency": {
            "currency_code": "USD",
            "default_fraction_digits": 2,
            "numeric_code": 840,
            "symbol": "$",
            "display_name": "US Dollar",
        },
    })
}

fn order_total(o: &AeOrder) -> i64 {
    o.lines.iter().map(|l| l.unit_cents * i64::from(l.quantity)).sum::<i64>() + o.shipping_cents
}

/// Order-level `logistics_status` (apiId 42270/42707 value lists).
fn logistics_status(o: &AeOrder) -> &'static str {
    if o.sent_all() {
        "SELLER_SEND_GOODS"
    } else if !o.shipments.is_empty() {
        "SELLER_SEND_PART_GOODS"
    } else if o.status == "FINISH" || o.status == "PLACE_ORDER_SUCCESS" {
        "NO_LOGISTICS"
    } else {
        "WAIT_SELLER_SEND_GOODS"
    }
}

/// True while the order has a running ship-by clock (AE-DOC 114953: the expiration time
/// is given for IN_CANCEL, WAIT_SELLER_EXAMINE_MONEY, WAIT_SELLER_SEND_GOODS…; CHOICE:
/// SELLER_PART_SEND_GOODS too), else null.
fn has_deadline(o: &AeOrder) -> bool {
    matches!(o.status.as_str(), "WAIT_SELLER_SEND_GOODS" | "SELLER_PART_SEND_GOODS" | "IN_CANCEL")
}

fn display_name(fake: &AliExpressFake, service: &str) -> String {
    lock(&fake.logistics_services)
        .iter()
        .find(|s| s.service_name == service)
        .map(|s| s.display_name.clone())
        .unwrap_or_else(|| service.to_owned())
}

fn order_dto(o: &AeOrder) -> Value {
    let r = seed::recipient(o.recipient);
    let (first, last) = r.name.split_once(' ').unwrap_or((r.name.as_str(), ""));
    let products: Vec<Value> = o
        .lines
        .iter()
        .map(|l| {
            let mut p = json!({
                "child_id": l.child_id,
                "order_id": o.order_id,
                "product_id": l.product_id,
                "sku_code": l.sku,
                "product_name": l.title,
                "product_count": l.quantity,
                "product_unit": "piece",
                "product_standard": "",
                "product_unit_price": money(l.unit_cents),
                "total_product_amount": money(l.unit_cents * i64::from(l.quantity)),
                "logistics_amount": money(0),
                "show_status": o.status,
                "son_order_status": o.status,
                "send_goods_operator": "SELLER_SEND_GOODS",
                "logistics_type": PLATFORM_SHIP_SERVICE,
                "logistics_service_name": "AliExpress Standard Shipping",
                "goods_prepare_time": o.goods_prepare_days,
                "freight_commit_day": "75",
                "delivery_time": "7-15",
                "issue_status": "NO_ISSUE",
                "fund_status": "PAY_SUCCESS",
                "can_submit_issue": false,
                "money_back3x": false,
                "escrow_fee_rate": "0.08",
                "afflicate_fee_rate": "0.03",
                "buyer_signer_first_name": first,
                "buyer_signer_last_name": last,
                "product_snap_url": format!("//www.aliexpress.com/snapshot/{}.html?orderId={}", l.child_id, o.order_id),
                "product_img_url": format!("https://ae01.alicdn.com/kf/sandbox-{}.jpg", l.product_id),
            });
            if has_deadline(o) {
                p["send_goods_time"] = json!(to_pacific(o.ship_by()));
            }
            p
        })
        .collect();
    let mut dto = json!({
        "order_id": o.order_id,
        "order_status": o.status,
        "logistics_status": logistics_status(o),
        "biz_type": "AE_COMMON",
        "gmt_create": to_pacific(o.created),
        "gmt_pay_time": to_pacific(o.paid()),
        "gmt_update": to_pacific(o.updated),
        "buyer_login_id": r.buyer,
        "buyer_signer_fullname": r.name,
        "seller_login_id": SANDBOX_SELLER_LOGIN,
        "seller_operator_login_id": SANDBOX_SELLER_LOGIN,
        "seller_signer_fullname": "Shipgate Sandbox Store",
        "fund_status": "PAY_SUCCESS",
        "frozen_status": "NO_FROZEN",
        "issue_status": "NO_ISSUE",
        "has_request_loan": false,
        "phone": false,
        "payment_type": "MIXEDCARD",
        "pay_amount": money(order_total(o)),
        "order_detail_url": format!("https://gsp.aliexpress.com/apps/order/detail?orderId={}", o.order_id),
        "product_list": { "order_product_dto": products },
    });
    if let Some(last) = o.shipments.last() {
        dto["gmt_send_goods_time"] = json!(to_pacific(last.sent));
    }
    if let Some(reason) = &o.end_reason {
        dto["end_reason"] = json!(reason);
    }
    if has_deadline(o) {
        let left = o.ship_by() - Utc::now();
        dto["timeout_left_time"] = json!(left.num_milliseconds());
        let mins = left.num_minutes().max(0);
        dto["left_send_good_day"] = json!((mins / 1440).to_string());
        dto["left_send_good_hour"] = json!((mins % 1440 / 60).to_string());
        dto["left_send_good_min"] = json!((mins % 60).to_string());
    }
    dto
}

fn order_get(fake: &AliExpressFake, params: &HashMap<String, String>) -> Response {
    {
        let mut throttle = lock(&fake.throttle_next);
        if *throttle > 0 {
            *throttle -= 1;
            return throttled();
        }
    }
    let q = match order_query(params) {
        Ok(q) => q,
        Err(e) => return e.wrapped(),
    };
    let parsed = (|| -> Result<_, AeError> {
        let page =
            int_field(&q, "current_page")?.ok_or_else(|| AeError::invalid_parameter("current_page is required"))?;
        let size = int_field(&q, "page_size")?.ok_or_else(|| AeError::invalid_parameter("page_size is required"))?;
        if page < 1 {
            return Err(AeError::invalid_parameter("current_page must be at least 1"));
        }
        if !(1..=MAX_PAGE_SIZE).contains(&size) {
            return Err(AeError::invalid_parameter(format!("page_size must be between 1 and {MAX_PAGE_SIZE}")));
        }
        let bounds = [
            date_field(&q, "modified_date_start")?,
            date_field(&q, "modified_date_end")?,
            date_field(&q, "create_date_start")?,
            date_field(&q, "create_date_end")?,
        ];
        let mut statuses: Vec<String> = Vec::new();
        if let Some(s) = q.get("order_status").and_then(Value::as_str).filter(|s| !s.is_empty()) {
            statuses.push(s.to_owned());
        }
        match q.get("order_status_list") {
            None | Some(Value::Null) => {}
            Some(Value::Array(a)) => {
                for s in a {
                    let s = s.as_str().ok_or_else(|| AeError::invalid_parameter("order_status_list is invalid"))?;
                    statuses.push(s.to_owned());
                }
            }
            Some(Value::String(s)) => {
                statuses.extend(s.split(',').map(|x| x.trim().to_owned()).filter(|x| !x.is_empty()))
            }
            Some(_) => return Err(AeError::invalid_parameter("order_status_list is invalid")),
        }
        let buyer = q.get("buyer_login_id").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
        // The IOP SDK's parameter notes (AliexpressSolutionOrderGetRequest).
        if bounds[0].is_none() && bounds[2].is_none() {
            return Err(AeError::invalid_parameter("create_date_start and modified_date_start cannot be both empty"));
        }
        if let (Some(a), Some(b)) = (bounds[2], bounds[3]) {
            let limit = if statuses.iter().any(|s| s == "FINISH") { 30 } else { 180 };
            if b - a > Duration::days(limit) {
                return Err(AeError::invalid_parameter(format!(
                    "the interval between create_date_start and create_date_end cannot exceed {limit} days"
                )));
            }
        }
        Ok((page, size, bounds, statuses, buyer))
    })();
    let (page, size, [mod_start, mod_end, create_start, create_end], statuses, buyer) = match parsed {
        Ok(p) => p,
        Err(e) => return e.wrapped(),
    };
    {
        let mut malformed = lock(&fake.malformed_next);
        if *malformed {
            *malformed = false;
            return (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
                r#"{"aliexpress_solution_order_get_response":{"result":{"success":true,"target_list":{"order_dto":[{"order_id":"x","product_list":7}"#,
            )
                .into_response();
        }
    }
    let in_range = |t: DateTime<Utc>, a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>| {
        a.is_none_or(|a| t >= a) && b.is_none_or(|b| t <= b)
    };
    // Without a status filter FINISH orders are not returned (apiId 42270, order_status).
    let status_ok = |s: &str| if statuses.is_empty() { s != "FINISH" } else { statuses.iter().any(|x| x == s) };
    let mut matching: Vec<AeOrder> = lock(&fake.orders)
        .iter()
        .filter(|o| {
            // Pacific strings have whole seconds: compare at that resolution.
            let updated = o.updated.trunc_subsecs(0);
            in_range(updated, mod_start, mod_end)
                && in_range(o.created.trunc_subsecs(0), create_start, create_end)
                && status_ok(&o.status)
                && buyer.as_ref().is_none_or(|b| seed::recipient(o.recipient).buyer == *b)
        })
        .cloned()
        .collect();
    matching.sort_by(|a, b| b.created.cmp(&a.created).then(b.order_id.cmp(&a.order_id)));
    let total = matching.len() as u64;
    let total_page = total.div_ceil(size);
    let skip = usize::try_from((page - 1).saturating_mul(size)).unwrap_or(usize::MAX);
    let take = usize::try_from(size).unwrap_or(usize::MAX);
    let dtos: Vec<Value> = matching.iter().skip(skip).take(take).map(order_dto).collect();
    let mut body = serde_json::Map::new();
    body.insert(
        "result".into(),
        json!({
            "success": true,
            "error_code": null,
            "error_message": null,
            "target_list": { "order_dto": dtos },
            "current_page": page,
            "page_size": size,
            "total_count": total,
            "total_page": total_page,
            "time_stamp": to_pacific(Utc::now()),
        }),
    );
    answer(ORDER_GET, body)
}

/// Which optional blocks order.info.get returns: `ext_info_bit_flag` read as a binary
/// number, lowest bit first: issue, loan, logistics, buyer, refund; absent = all.
struct InfoBlocks {
    issue: bool,
    logistics: bool,
    buyer: bool,
    refund: bool,
}

fn order_info_get(fake: &AliExpressFake, params: &HashMap<String, String>) -> Response {
    let q = match json_param(params, "param1") {
        Ok(q) => q,
        Err(e) => return e.wrapped(),
    };
    let order_id = match int_field(&q, "order_id") {
        Ok(Some(id)) => id,
        Ok(None) => return AeError::invalid_parameter("order_id is required").wrapped(),
        Err(e) => return e.wrapped(),
    };
    let blocks = match int_field(&q, "ext_info_bit_flag") {
        Ok(None) => InfoBlocks { issue: true, logistics: true, buyer: true, refund: true },
        Ok(Some(f)) => InfoBlocks { issue: f & 1 != 0, logistics: f & 4 != 0, buyer: f & 8 != 0, refund: f & 16 != 0 },
        Err(e) => return e.wrapped(),
    };
    let order = lock(&fake.orders).iter().find(|o| o.order_id == order_id).cloned();
    let mut result = json!({ "error_code": null, "error_message": null, "time_stamp": to_pacific(Utc::now()) });
    match order {
        None => {
            result["error_code"] = json!("ORDER_NOT_FOUND");
            result["error_message"] = json!("order not found");
        }
        Some(o) => result["data"] = order_detail(fake, &o, &blocks),
    }
    let mut body = serde_json::Map::new();
    body.insert("result".into(), result);
    answer(ORDER_INFO_GET, body)
}

fn order_detail(fake: &AliExpressFake, o: &AeOrder, blocks: &InfoBlocks) -> Value {
    let r = seed::recipient(o.recipient);
    let (phone_country, mobile) = seed::phone_parts(&r.phone);
    let (first, last) = r.name.split_once(' ').unwrap_or((r.name.as_str(), ""));
    let mut address = json!({
        "contact_person": r.name,
        "address": r.line1,
        "detail_address": r.line1,
        "city": r.city,
        "zip": r.postal_code,
        "country": r.country,
        "phone_country": format!("+{phone_country}"),
        "mobile_no": mobile,
    });
    if let Some(l2) = &r.line2 {
        address["address2"] = json!(l2);
    }
    if let Some(st) = &r.state {
        address["province"] = json!(st);
    }
    let children: Vec<Value> = o
        .lines
        .iter()
        .enumerate()
        .map(|(n, l)| {
            json!({
                "id": l.child_id,
                "child_order_id": l.child_id.to_string(),
                "order_sort_id": n + 1,
                "product_id": l.product_id,
                "sku_code": l.sku,
                "product_name": l.title,
                "product_count": l.quantity,
                "product_unit": "piece",
                "lot_num": 1,
                "product_price": global_money(l.unit_cents, "amount"),
                "init_order_amt": global_money(l.unit_cents * i64::from(l.quantity), "amount"),
                "logistics_amount": global_money(0, "amount_str"),
                "order_status": o.status,
                "logistics_type": PLATFORM_SHIP_SERVICE,
                "logistics_service_name": "AliExpress Standard Shipping",
                "send_goods_operator": "SELLER_SEND_GOODS",
                "goods_prepare_time": o.goods_prepare_days,
                "issue_status": "NO_ISSUE",
                "frozen_status": "NO_FROZEN",
                "fund_status": "PAY_SUCCESS",
                "product_snap_url": format!("//www.aliexpress.com/snapshot/{}.html?orderId={}", l.child_id, o.order_id),
            })
        })
        .collect();
    let mut data = json!({
        "id": o.order_id,
        "order_status": o.status,
        "logistics_status": logistics_status(o),
        "issue_status": "NO_ISSUE",
        "frozen_status": "NO_FROZEN",
        "fund_status": "PAY_SUCCESS",
        "loan_status": "loan_none",
        "gmt_create": to_pacific(o.created),
        "gmt_pay_success": to_pacific(o.paid()),
        "gmt_modified": to_pacific(o.updated),
        "buyerloginid": r.buyer,
        "buyer_signer_fullname": r.name,
        "receipt_address": address,
        "order_amount": global_money(order_total(o), "amount"),
        "init_oder_amount": global_money(order_total(o), "amount"),
        "logistics_amount": global_money(o.shipping_cents, "amount"),
        "settlement_currency": "USD",
        "payment_type": "MIXEDCARD",
        "is_phone": false,
        "child_order_list": { "global_aeop_tp_child_order_dto": children },
        "seller_operator_login_id": SANDBOX_SELLER_LOGIN,
        "seller_signer_fullname": "Shipgate Sandbox Store",
    });
    if has_deadline(o) {
        data["over_time_left"] = json!(to_pacific(o.ship_by()));
    }
    if let Some(reason) = &o.end_reason {
        data["order_end_reason"] = json!(reason);
    }
    if let Some(end) = o.trade_end {
        data["gmt_trade_end"] = json!(to_pacific(end));
    }
    if blocks.buyer {
        data["buyer_info"] =
            json!({ "login_id": r.buyer, "first_name": first, "last_name": last, "country": r.country });
    }
    if blocks.issue {
        data["issue_info"] = json!({ "issue_status": "NO_ISSUE" });
    }
    if blocks.refund && o.status == "FINISH" && o.end_reason.as_deref() == Some(CANCEL_END_REASON) {
        data["refund_info"] = json!({
            "refund_status": "refund_ok",
            "refund_type": "cancel_order_refund",
            "refund_reason": "buyer_cancel_order",
            "refund_cash_amt": global_money(order_total(o), "amount"),
            "refund_time": o.trade_end.map(to_pacific),
        });
    }
    if blocks.logistics && !o.shipments.is_empty() {
        let records: Vec<Value> = o
            .shipments
            .iter()
            .map(|s| {
                json!({
                    "logistics_no": s.logistics_no,
                    "logistics_type_code": s.service_name,
                    "logistics_service_name": display_name(fake, &s.service_name),
                    "gmt_send": to_pacific(s.sent),
                    "have_tracking_info": false,
                    "receive_status": "default",
                })
            })
            .collect();
        data["logistic_info_list"] = json!({ "global_aeop_tp_logistic_info_dto": records });
    }
    data
}

fn list_logistics_service(fake: &AliExpressFake) -> Response {
    let services: Vec<Value> = lock(&fake.logistics_services)
        .iter()
        .map(|s| {
            json!({
                "service_name": s.service_name,
                "display_name": s.display_name,
                "logistics_company": s.logistics_company,
                "min_process_day": s.min_process_day,
                "max_process_day": s.max_process_day,
                "tracking_no_regex": s.tracking_no_regex,
                "recommend_order": s.recommend_order,
            })
        })
        .collect();
    let mut body = serde_json::Map::new();
    body.insert("result_list".into(), json!({ "aeop_logistics_service_result": services }));
    body.insert("result_success".into(), json!(true));
    answer(LIST_LOGISTICS_SERVICE, body)
}

fn order_fulfill(fake: &AliExpressFake, params: &HashMap<String, String>) -> Response {
    let field = |k: &str| params.get(k).map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let mut business = serde_json::Map::new();
    for name in ["service_name", "out_ref", "send_type", "logistics_no"] {
        match field(name) {
            Some(v) => {
                business.insert(name.to_owned(), json!(v));
            }
            None => return missing(name).wrapped(),
        }
    }
    for name in ["tracking_website", "description"] {
        if let Some(v) = field(name) {
            business.insert(name.to_owned(), json!(v));
        }
    }
    let text = |k: &str| business.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    let (service, out_ref, send_type, number) =
        (text("service_name"), text("out_ref"), text("send_type"), text("logistics_no"));
    let website = field("tracking_website");
    if send_type != "all" && send_type != "part" {
        return AeError::invalid_parameter("send_type must be all or part").wrapped();
    }
    let description = text("description");
    if description.chars().count() > 512 || !description.is_ascii() {
        return AeError::invalid_parameter("description must be English text of at most 512 characters").wrapped();
    }
    let regex =
        lock(&fake.logistics_services).iter().find(|s| s.service_name == service).map(|s| s.tracking_no_regex.clone());
    let Some(regex) = regex else {
        return AeError::business(format!("{service} {MSG_NOT_SELLER_SERVICE}")).wrapped();
    };
    if needs_tracking_website(&service) && website.is_none() {
        return AeError::business(format!("tracking_website is required for service_name {service}")).wrapped();
    }
    if !tracking_number_matches(&regex, &number) {
        return AeError::business(MSG_TRACKING_REJECTED).wrapped();
    }
    let Ok(order_id) = out_ref.parse::<u64>() else {
        return AeError::business(MSG_ORDER_NOT_FOUND).wrapped();
    };
    {
        let mut orders = lock(&fake.orders);
        let Some(o) = orders.iter_mut().find(|o| o.order_id == order_id) else {
            return AeError::business(MSG_ORDER_NOT_FOUND).wrapped();
        };
        if o.sent_all() {
            return AeError::business(MSG_ALREADY_SHIPPED).wrapped();
        }
        if !FULFILLABLE.contains(&o.status.as_str()) {
            return AeError::business(MSG_STATUS_NOT_ALLOWED).wrapped();
        }
        let now = Utc::now().trunc_subsecs(0);
        o.shipments.push(AeShipment {
            service_name: service,
            logistics_no: number,
            send_type: send_type.clone(),
            tracking_website: website,
            sent: now,
        });
        if o.status == "WAIT_SELLER_SEND_GOODS" || o.status == "SELLER_PART_SEND_GOODS" {
            o.status = if send_type == "all" { "WAIT_BUYER_ACCEPT_GOODS" } else { "SELLER_PART_SEND_GOODS" }.to_owned();
        }
        o.updated = now;
    }
    lock(&fake.fulfillments).push((out_ref, Value::Object(business)));
    {
        let mut lose = lock(&fake.lose_next_writes);
        if *lose > 0 {
            *lose -= 1;
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "upstream connect error or disconnect/reset before headers. reset reason: connection termination",
            )
                .into_response();
        }
    }
    let mut body = serde_json::Map::new();
    body.insert("result".into(), json!({ "result_success": true }));
    answer(ORDER_FULFILL, body)
}

// ---------------------------------------------------------------------------------
// Seed data.

/// One realistic order, deterministic in `i`: 1-3 lines, updated `base + 7i s`. Of every
/// 20 orders, 16 await shipment (WAIT_SELLER_SEND_GOODS), 2 were shipped in full on the
/// platform (WAIT_BUYER_ACCEPT_GOODS with a CPAM shipment), 1 in part
/// (SELLER_PART_SEND_GOODS) and 1 was cancelled (FINISH, `CANCEL_END_REASON`).
fn seed_order(i: usize, base: DateTime<Utc>) -> AeOrder {
    let n = i as u64;
    let order_id = 3_040_000_000_000_000 + n * 100_003;
    let updated = base + Duration::seconds(i64::try_from(i).unwrap_or(0) * 7);
    let lines = (0..1 + i % 3)
        .map(|l| AeLine {
            child_id: 8_100_000_000_000_000 + n * 10 + l as u64,
            product_id: 1_005_000_000_000_000 + ((i + l) % 8) as u64 * 7_919,
            sku: seed::sku(i + l),
            title: seed::title(i + l),
            quantity: 1 + ((i + l) % 3) as u32,
            unit_cents: 199 + ((i * 7 + l * 13) % 3000) as i64,
        })
        .collect();
    let shipment = |send_type: &str| AeShipment {
        service_name: "CPAM".to_owned(),
        logistics_no: format!("RB{:09}CN", 100_000_000 + n),
        send_type: send_type.to_owned(),
        tracking_website: None,
        sent: updated - Duration::minutes(30),
    };
    let (status, shipments, end_reason, trade_end) = match i % 20 {
        3 | 13 => ("WAIT_BUYER_ACCEPT_GOODS", vec![shipment("all")], None, None),
        11 => ("SELLER_PART_SEND_GOODS", vec![shipment("part")], None, None),
        7 => ("FINISH", Vec::new(), Some(CANCEL_END_REASON.to_owned()), Some(updated)),
        _ => ("WAIT_SELLER_SEND_GOODS", Vec::new(), None, None),
    };
    AeOrder {
        order_id,
        status: status.to_owned(),
        created: updated - Duration::hours(2),
        updated,
        recipient: i,
        lines,
        shipping_cents: (i % 4) as i64 * 150,
        shipments,
        end_reason,
        trade_end,
        goods_prepare_days: 3 + (i % 5) as i64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        match DateTime::parse_from_rfc3339(s) {
            Ok(d) => d.with_timezone(&Utc),
            Err(e) => panic!("{s}: {e}"),
        }
    }

    #[test]
    fn pacific_time_follows_us_daylight_rules() {
        assert_eq!(to_pacific(utc("2026-01-15T12:00:00Z")), "2026-01-15 04:00:00");
        assert_eq!(to_pacific(utc("2026-07-01T12:00:00Z")), "2026-07-01 05:00:00");
        // 2026: DST starts Sunday 8 March 10:00 UTC, ends Sunday 1 November 09:00 UTC.
        assert_eq!(to_pacific(utc("2026-03-08T09:59:59Z")), "2026-03-08 01:59:59");
        assert_eq!(to_pacific(utc("2026-03-08T10:00:00Z")), "2026-03-08 03:00:00");
        assert_eq!(to_pacific(utc("2026-11-01T08:59:59Z")), "2026-11-01 01:59:59");
        assert_eq!(to_pacific(utc("2026-11-01T09:00:00Z")), "2026-11-01 01:00:00");
        // Day boundary.
        assert_eq!(to_pacific(utc("2026-12-31T05:30:00Z")), "2026-12-30 21:30:00");
    }

    #[test]
    fn pacific_parse_round_trips() {
        for s in ["2026-01-15T12:00:00Z", "2026-07-01T00:00:07Z", "2026-03-08T10:00:00Z", "2026-11-01T10:00:01Z"] {
            let t = utc(s);
            assert_eq!(from_pacific(&to_pacific(t)), Some(t), "{s}");
        }
        assert_eq!(from_pacific("2026-06-01 10:00:00"), Some(utc("2026-06-01T17:00:00Z")));
        assert_eq!(from_pacific("2026-12-01 10:00:00"), Some(utc("2026-12-01T18:00:00Z")));
        assert_eq!(from_pacific("2026-12-01T10:00:00"), None);
        // The repeated hour reads as daylight time.
        assert_eq!(from_pacific("2026-11-01 01:30:00"), Some(utc("2026-11-01T08:30:00Z")));
    }

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn sha256_signature_matches_an_independent_vector() {
        // Computed outside Rust:
        // printf '/auth/token/createapp_key500123code3_500123_abcdefsign_methodsha256timestamp1700000000000' \
        //   | openssl dgst -sha256 -hmac topsecret
        let mut p = params(&[
            ("timestamp", "1700000000000"),
            ("code", "3_500123_abcdef"),
            ("app_key", "500123"),
            ("sign_method", "sha256"),
        ]);
        assert_eq!(
            sign_base(Some("/auth/token/create"), &p),
            "/auth/token/createapp_key500123code3_500123_abcdefsign_methodsha256timestamp1700000000000"
        );
        p.insert("sign".into(), "1B9C87786F1AAADC2102B6DD598B932FC39096EDDA1660E057E532CEECAAA22B".into());
        assert!(verify_sign("topsecret", Some("/auth/token/create"), &p));
        // Lower-case hex, a wrong secret, a missing path or a changed value all fail.
        assert!(!verify_sign("other", Some("/auth/token/create"), &p));
        assert!(!verify_sign("topsecret", None, &p));
        p.insert("sign".into(), "1b9c87786f1aaadc2102b6dd598b932fc39096edda1660e057e532ceecaaa22b".into());
        assert!(!verify_sign("topsecret", Some("/auth/token/create"), &p));
    }

    #[test]
    fn md5_signature_matches_an_independent_vector() {
        // printf 'topsecretapp_key500123methodaliexpress.solution.order.getsign_methodmd5timestamp1700000000000topsecret' | openssl dgst -md5
        let p = params(&[
            ("method", "aliexpress.solution.order.get"),
            ("app_key", "500123"),
            ("timestamp", "1700000000000"),
            ("sign_method", "md5"),
            ("sign", "87DE067E5400EFFE48781673B7F0C316"),
        ]);
        assert!(verify_sign("topsecret", None, &p));
    }

    #[test]
    fn empty_parameters_are_not_signed() {
        let mut p = params(&[("app_key", "500123"), ("sign_method", "sha256"), ("timestamp", "1700000000000")]);
        let base = sign_base(None, &p);
        p.insert("simplify".into(), String::new());
        p.insert("debug".into(), "  ".into());
        assert_eq!(sign_base(None, &p), base);
    }

    #[test]
    fn legacy_timestamps_are_gmt_plus_8() {
        assert_eq!(parse_timestamp("2026-01-15 20:00:00"), Some(utc("2026-01-15T12:00:00Z")));
        assert_eq!(parse_timestamp("1700000000000"), DateTime::from_timestamp_millis(1_700_000_000_000));
        assert_eq!(parse_timestamp("2017-11-11T12:00:00Z"), Some(utc("2017-11-11T12:00:00Z")));
        assert_eq!(parse_timestamp(""), None);
    }

    #[test]
    fn tracking_rules_follow_the_published_patterns() {
        assert!(tracking_number_matches(REGEX_UPU, "RR123456785CN"));
        assert!(!tracking_number_matches(REGEX_UPU, "RR12345678CN"));
        assert!(!tracking_number_matches(REGEX_UPU, "1Z999AA10123456784"));
        assert!(tracking_number_matches(REGEX_EMS, "LA88887777CN"));
        assert!(tracking_number_matches(REGEX_12_DIGITS, "123456789012"));
        assert!(!tracking_number_matches(REGEX_12_DIGITS, "12345678901A"));
        assert!(tracking_number_matches(REGEX_ALNUM, "1Z999AA10123456784"));
        assert!(!tracking_number_matches(REGEX_ALNUM, "1Z 999"));
        assert!(tracking_number_matches("", "anything at all"));
        let services = default_logistics_services();
        assert!(services.iter().any(|s| s.service_name == "OTHER_US_LOCAL" && s.tracking_no_regex.is_empty()));
        assert!(services.iter().any(|s| s.service_name == "other"));
        assert!(needs_tracking_website("other") && needs_tracking_website("OTHER_DE_OVERSEAS"));
        assert!(!needs_tracking_website("CPAM"));
    }

    #[test]
    fn seed_mix_is_mostly_awaiting_shipment() {
        let base = utc("2026-01-01T00:00:00Z");
        let orders: Vec<AeOrder> = (0..200).map(|i| seed_order(i, base)).collect();
        let count = |s: &str| orders.iter().filter(|o| o.status == s).count();
        assert_eq!(count("WAIT_SELLER_SEND_GOODS"), 160);
        assert_eq!(count("WAIT_BUYER_ACCEPT_GOODS"), 20);
        assert_eq!(count("SELLER_PART_SEND_GOODS"), 10);
        assert_eq!(count("FINISH"), 10);
        assert!(orders.iter().filter(|o| o.status == "WAIT_BUYER_ACCEPT_GOODS").all(AeOrder::sent_all));
        assert!(orders.iter().filter(|o| o.status == "FINISH").all(|o| o.end_reason.is_some()));
    }

    fn fulfil(fake: &AliExpressFake, pairs: &[(&str, &str)]) -> (StatusCode, Value) {
        let r = order_fulfill(fake, &params(pairs));
        let status = r.status();
        let body = futures_util::FutureExt::now_or_never(axum::body::to_bytes(r.into_body(), 1 << 20))
            .and_then(Result::ok)
            .unwrap_or_default();
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    #[test]
    fn fulfil_validates_service_and_refuses_a_second_full_shipment() {
        let fake = AliExpressFake::new(3);
        let id = lock(&fake.orders)[0].order_id.to_string();
        let (_, body) = fulfil(
            &fake,
            &[
                ("service_name", "WB"),
                ("out_ref", id.as_str()),
                ("send_type", "all"),
                ("logistics_no", "RR123456785CN"),
            ],
        );
        assert_eq!(body["error_response"]["sub_code"], BUSINESS_ERROR, "{body}");
        assert!(body["error_response"]["sub_msg"].as_str().unwrap_or_default().contains(MSG_NOT_SELLER_SERVICE));
        let (_, body) = fulfil(
            &fake,
            &[
                ("service_name", "OTHER_US_LOCAL"),
                ("out_ref", id.as_str()),
                ("send_type", "all"),
                ("logistics_no", "X1"),
            ],
        );
        assert_eq!(body["error_response"]["code"], "50", "{body}");
        let ok = [
            ("service_name", "CPAM"),
            ("out_ref", id.as_str()),
            ("send_type", "all"),
            ("logistics_no", "RR123456785CN"),
        ];
        let (_, body) = fulfil(&fake, &ok);
        assert_eq!(body["aliexpress_solution_order_fulfill_response"]["result"]["result_success"], true, "{body}");
        assert_eq!(lock(&fake.orders)[0].status, "WAIT_BUYER_ACCEPT_GOODS");
        let (_, body) = fulfil(&fake, &ok);
        assert_eq!(body["error_response"]["sub_msg"], MSG_ALREADY_SHIPPED, "{body}");
        assert_eq!(lock(&fake.fulfillments).len(), 1);
        let first = lock(&fake.orders)[0].clone();
        let all = InfoBlocks { issue: true, logistics: true, buyer: true, refund: true };
        let detail = order_detail(&fake, &first, &all);
        assert_eq!(
            detail["logistic_info_list"]["global_aeop_tp_logistic_info_dto"][0]["logistics_no"],
            "RR123456785CN"
        );
        assert_eq!(detail["logistics_status"], "SELLER_SEND_GOODS");
    }

    #[test]
    fn a_lost_answer_still_applies_the_write() {
        let fake = AliExpressFake::new(3);
        let id = lock(&fake.orders)[1].order_id.to_string();
        *lock(&fake.lose_next_writes) = 1;
        let (status, _) = fulfil(
            &fake,
            &[
                ("service_name", "CPAM"),
                ("out_ref", id.as_str()),
                ("send_type", "part"),
                ("logistics_no", "RR123456785CN"),
            ],
        );
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(lock(&fake.orders)[1].status, "SELLER_PART_SEND_GOODS");
        assert_eq!(lock(&fake.fulfillments).len(), 1);
        let third = lock(&fake.orders)[2].order_id.to_string();
        fake.cancel_on_platform(&third);
        assert_eq!(lock(&fake.orders)[2].status, "FINISH");
    }

    #[test]
    fn seeded_orders_have_sixteen_digit_ids_and_spread_updates() {
        let base = utc("2026-01-01T00:00:00Z");
        let orders: Vec<AeOrder> = (0..250).map(|i| seed_order(i, base)).collect();
        assert!(orders.iter().all(|o| o.order_id.to_string().len() == 16 && o.order_id < (1 << 53)));
        assert!(orders.iter().all(|o| (1..=3).contains(&o.lines.len())));
        assert_eq!(orders[3].updated - orders[2].updated, Duration::seconds(7));
        let mut ids: Vec<u64> = orders.iter().map(|o| o.order_id).collect();
        ids.dedup();
        assert_eq!(ids.len(), 250);
    }
}
