//! A fake Wish Merchant API v3 (the router's root stands for `https://merchant.wish.com`),
//! written from Wish's own V3 OpenAPI (v3.0.65, `api-evangelist/wish:openapi/wish-{oauth,orders}-api-openapi.yml`)
//! and merchant.wish.com/documentation/api/v3/oauth, independent of the Wish connector
//! (no shared types, paging or date code). Every behaviour, its source, and every CHOICE
//! made where the documents are silent, is listed in
//! `api/src/connectors/marketplace/wish/WIRE.md`. In short:
//!
//! - OAuth: consent `GET /v3/oauth/authorize?client_id=` (+ the sandbox's "I Agree" form
//!   `POST /v3/oauth/consent`), `POST|GET /api/v3/oauth/access_token`, `GET
//!   /api/v3/oauth/refresh_token` (revokes the grant's current access tokens), `GET
//!   /api/v3/oauth/test`. Every body is `{code, message, data}`; errors answer HTTP 400
//!   with `data: {}` (the spec lists 400 for every documented error).
//! - Orders: `GET /api/v3/orders` (limit 1..=500, states ≤5, updated/released_at
//!   min/max inclusive, sort_by, order_type; keyset paging without cursor), `GET
//!   /api/v3/orders/{id}`, `GET /api/v3/orders/shipping_carriers?order_type=&dest_country_code=`
//!   (`data` = `[{name}]`), `PUT /api/v3/orders/{id}/tracking` (asynchronous: answers
//!   `processing_status: IN_PROGRESS`; `shipping_provider` must be a name from the
//!   carrier list, else 400 / code 1001 "… must be an accepted carrier").
//! - Native states: APPROVED (awaiting shipment), SHIPPED, REFUNDED (Wish's cancel is a
//!   refund: "Refund/Cancel an order"), REQUIRE_REVIEW, DECLINED. Wish has no
//!   "cancel requested" state, so `request_cancel_on_platform` is a no-op.
//! - Rate limit: `Wish-Rate-Limit-Remaining` on every response; 429 adds
//!   `Wish-Rate-Limit-Reset` (no `Retry-After`: Wish documents none).
//! - Test hooks: `throttle_next` (+ `throttle_reset_secs`), `malformed_next`,
//!   `lose_next_writes`, `write_calls`, `account_disabled`, outages (`unavailable_next`,
//!   `always_unavailable`, `unavailable_retry_after`, `slow_next_carriers`, `api_calls`), `ship_on_platform`, `cancel_on_platform`,
//!   `request_cancel_on_platform`, plus the sandbox developer portal `POST /portal/apps`.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post, put},
};
use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::seed;

/// An app registered with the fake: its secret and its registered redirect URI.
#[derive(Clone)]
pub struct FakeApp {
    pub client_secret: String,
    pub redirect_uri: String,
}

/// One seeded order (one product, as every Wish order).
#[derive(Clone)]
pub struct WishOrder {
    pub id: String,
    pub transaction_id: String,
    pub state: String,
    pub released: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    /// Index into `seed::recipient`.
    pub recipient: usize,
    /// Index into `seed::sku` / `seed::title`.
    pub product: usize,
    pub quantity: u32,
    pub unit_cents: i64,
    pub shipping_cents: i64,
    pub processing_status: Option<String>,
    /// `processing_source` (UPDATE_TRACKING, REFUND, MODIFY_SHIPPING).
    pub processing_source: Option<String>,
    /// `tracking_information`, newest first, at most two (the spec's limit).
    pub tracking: Vec<Value>,
    pub records: Vec<(String, DateTime<Utc>)>,
    /// `refunds[]` (`RefundsInfo`).
    pub refunds: Vec<Value>,
}

struct AccessToken {
    client_id: String,
    expires: DateTime<Utc>,
    revoked: bool,
    refresh: String,
}

struct RefreshToken {
    client_id: String,
    revoked: bool,
}

struct Code {
    client_id: String,
    expires: DateTime<Utc>,
    used: bool,
}

#[derive(Default)]
struct Tokens {
    access: HashMap<String, AccessToken>,
    refresh: HashMap<String, RefreshToken>,
    codes: HashMap<String, Code>,
}

/// Shared state; tests keep a handle to inspect and inject faults.
pub struct WishFake {
    pub apps: Mutex<HashMap<String, FakeApp>>,
    tokens: Mutex<Tokens>,
    pub orders: Mutex<Vec<WishOrder>>,
    pub access_ttl: Mutex<Duration>,
    pub token_calls: Mutex<u32>,
    pub order_calls: Mutex<u32>,
    /// Answer the next N order API calls (list, get, carriers, tracking) with 429 and
    /// `Wish-Rate-Limit-Reset` (Wish documents no `Retry-After`).
    pub throttle_next: Mutex<u32>,
    /// Answer the next order-list call with a malformed body (HTTP 200).
    pub malformed_next: Mutex<bool>,
    /// `(order id, body)` of every accepted tracking update.
    pub fulfillments: Mutex<Vec<(String, Value)>>,
    /// The next N tracking writes are applied (recorded, order updated) and then answered
    /// with HTTP 503 and a non-Wish HTML body, as if the answer was lost on the way.
    pub lose_next_writes: Mutex<u32>,
    /// Every `PUT /api/v3/orders/{id}/tracking` received, accepted or refused.
    pub write_calls: Mutex<u32>,
    /// The merchant's account is disabled: API calls and refresh answer code 1002.
    pub account_disabled: Mutex<bool>,
    /// Answer the next N order API calls with HTTP 503 (a non-Wish body, as a proxy in
    /// front of Wish would) and `Retry-After: unavailable_retry_after`, if set.
    pub unavailable_next: Mutex<u32>,
    /// Answer every order API call with HTTP 503 until cleared.
    pub always_unavailable: Mutex<bool>,
    /// The `Retry-After` (seconds) of those 503s; none when `None`.
    pub unavailable_retry_after: Mutex<Option<u64>>,
    /// Overrides how far ahead a 429's `Wish-Rate-Limit-Reset` is (seconds).
    pub throttle_reset_secs: Mutex<Option<i64>>,
    /// Hold the answer of the next carrier-list call this long (a slow provider).
    pub slow_next_carriers: Mutex<Option<std::time::Duration>>,
    /// When each order API call (list, get, carriers, tracking) arrived, answered or not.
    pub api_calls: Mutex<Vec<std::time::Instant>>,
    /// Base URL the fake is reachable at.
    pub base_url: Mutex<String>,
    issued: Mutex<Vec<String>>,
}

/// The one merchant every token of this fake belongs to.
pub const SANDBOX_MERCHANT_ID: &str = "5e1f0c3ad7e54c4f8b7a6e2d";
/// Scopes granted on every token.
pub const SCOPES: &[&str] = &["orders:read", "orders:write", "products:read", "merchant:read"];
/// How long consent codes live.
pub const CODE_TTL_SECONDS: i64 = 300;
pub const MAX_LIMIT: usize = 500;
pub const DEFAULT_LIMIT: usize = 50;
const STATES: &[&str] = &["APPROVED", "SHIPPED", "REFUNDED", "REQUIRE_REVIEW", "DECLINED"];
/// `order_type` filter values of `GET /api/v3/orders` (spec `OrderTypeFilter`).
const ORDER_TYPE_FILTERS: &[&str] = &[
    "WISH_EXPRESS",
    "FULFILLED_BY_WISH",
    "FULFILLED_BY_STORE",
    "LESS_THAN_TRUCKLOAD",
    "ADVANCED_LOGISTICS",
    "WISH_PLUS",
];
/// What `GET /api/v3/orders/shipping_carriers?order_type=GENERAL` serves, and so the
/// only `shipping_provider` values the tracking write accepts (exact, case-sensitive).
/// A deterministic sandbox list in Wish's naming style (names such as `DHL`,
/// `DHLeCommerce`, `DPD`, `AsendiaHK`, `AsendiaUSA` appear in Wish's "Accepted Carrier"
/// table); the real list comes from the endpoint.
pub const ACCEPTED_CARRIERS: &[&str] = &[
    "4PX",
    "AsendiaHK",
    "AsendiaUSA",
    "ChinaAirPost",
    "ChinaPost",
    "DHL",
    "DHLeCommerce",
    "DPD",
    "EMS",
    "EPacket",
    "FedEx",
    "RoyalMail",
    "SFExpress",
    "UPS",
    "USPS",
    "WishPost",
    "Yanwen",
    "YunExpress",
];
/// `order_type=CONFIRMED_DELIVERY` (spec: a subset of the GENERAL list).
pub const CONFIRMED_DELIVERY_CARRIERS: &[&str] = &["DHL", "DHLeCommerce", "FedEx", "UPS", "USPS"];
/// Provider and origin the fake's own "shipped outside Shipgate" records use.
pub const PLATFORM_SHIP_PROVIDER: &str = "ChinaAirPost";

impl WishFake {
    pub fn new(order_count: usize) -> Arc<Self> {
        let base = seed::base_time();
        Arc::new(Self {
            apps: Mutex::new(HashMap::new()),
            tokens: Mutex::new(Tokens::default()),
            orders: Mutex::new((0..order_count).map(|i| seed_order(i, base)).collect()),
            access_ttl: Mutex::new(Duration::days(30)),
            token_calls: Mutex::new(0),
            order_calls: Mutex::new(0),
            throttle_next: Mutex::new(0),
            malformed_next: Mutex::new(false),
            fulfillments: Mutex::new(Vec::new()),
            lose_next_writes: Mutex::new(0),
            write_calls: Mutex::new(0),
            account_disabled: Mutex::new(false),
            unavailable_next: Mutex::new(0),
            always_unavailable: Mutex::new(false),
            unavailable_retry_after: Mutex::new(None),
            throttle_reset_secs: Mutex::new(None),
            slow_next_carriers: Mutex::new(None),
            api_calls: Mutex::new(Vec::new()),
            base_url: Mutex::new(String::new()),
            issued: Mutex::new(Vec::new()),
        })
    }

    pub fn register_app(&self, client_id: &str, app: FakeApp) {
        lock(&self.apps).insert(client_id.to_owned(), app);
    }

    /// Expires every access token now (the next API call gets 1007).
    pub fn expire_access_tokens(&self) {
        let past = Utc::now() - Duration::seconds(1);
        for t in lock(&self.tokens).access.values_mut() {
            t.expires = past;
        }
    }

    /// Revokes every refresh and access token (the merchant removed the app): refresh
    /// answers 1006, API calls 1008.
    pub fn revoke_all(&self) {
        let mut t = lock(&self.tokens);
        for r in t.refresh.values_mut() {
            r.revoked = true;
        }
        for a in t.access.values_mut() {
            a.revoked = true;
        }
    }

    /// Marks the first `n` orders as updated now (all sharing that instant), with a new
    /// state.
    pub fn touch_orders(&self, n: usize, status: &str) {
        let now = Utc::now().trunc_subsecs(3);
        for o in lock(&self.orders).iter_mut().take(n) {
            o.updated = now;
            o.state = status.to_owned();
        }
    }

    /// The seller shipped this order outside Shipgate (on Wish's dashboard): SHIPPED, one
    /// `tracking_information` entry, a MARK_SHIPPED record, `updated_at` = now.
    pub fn ship_on_platform(&self, platform_order_id: &str) {
        let now = Utc::now().trunc_subsecs(3);
        let mut orders = lock(&self.orders);
        let Some(o) = orders.iter_mut().find(|o| o.id == platform_order_id) else { return };
        let tracking = format!("LP{:09}CN", 300_000_000 + o.recipient % 100_000_000);
        o.tracking.insert(
            0,
            json!({
                "tracking_number": tracking,
                "shipping_provider": { "name": PLATFORM_SHIP_PROVIDER },
                "origin_country": "CN",
            }),
        );
        o.tracking.truncate(2);
        o.state = "SHIPPED".into();
        o.processing_source = Some("UPDATE_TRACKING".into());
        o.processing_status = Some("SUCCEEDED".into());
        o.records.push(("MARK_SHIPPED".into(), now));
        o.updated = now;
    }

    /// The order is cancelled on Wish. Wish's cancel is a refund ("Refund/Cancel an
    /// order"): state REFUNDED, a `refunds[]` entry from the customer, `updated_at` = now.
    pub fn cancel_on_platform(&self, platform_order_id: &str) {
        let now = Utc::now().trunc_subsecs(3);
        let mut orders = lock(&self.orders);
        let Some(o) = orders.iter_mut().find(|o| o.id == platform_order_id) else { return };
        o.refunds.push(refund_info(o, now));
        o.state = "REFUNDED".into();
        o.processing_source = Some("REFUND".into());
        o.processing_status = Some("SUCCEEDED".into());
        o.updated = now;
    }

    /// The buyer asked to cancel. Wish documents no such state (a Wish order is refunded
    /// at once; `State` has only APPROVED, SHIPPED, REFUNDED, REQUIRE_REVIEW, DECLINED),
    /// so this changes nothing.
    pub fn request_cancel_on_platform(&self, platform_order_id: &str) {
        let _ = platform_order_id;
    }

    /// Every code, token and app secret the fake has issued (tests grep logs for them).
    pub fn issued_secrets(&self) -> Vec<String> {
        lock(&self.issued).clone()
    }

    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/v3/oauth/authorize", get(authorize))
            .route("/v3/oauth/consent", post(consent))
            .route("/api/v3/oauth/access_token", post(access_token).get(access_token))
            .route("/api/v3/oauth/refresh_token", get(refresh_token))
            .route("/api/v3/oauth/test", get(token_test))
            .route("/api/v3/orders", get(list_orders))
            .route("/api/v3/orders/shipping_carriers", get(shipping_carriers))
            .route("/api/v3/orders/{id}", get(get_order))
            .route("/api/v3/orders/{id}/tracking", put(update_tracking))
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

/// Wish's date-time form `YYYY-MM-DDTHH:mm:ss.sss+00:00`.
pub fn wish_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+00:00").to_string()
}

/// Parses an RFC 3339 date-time (milliseconds optional, `Z` or an offset).
pub fn parse_wish_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|d| d.with_timezone(&Utc))
}

/// Headers on every Wish response: `Wish-Request-Id` and `Wish-Rate-Limit-Remaining`.
fn with_request_id(mut r: Response) -> Response {
    if let Ok(v) = HeaderValue::from_str(&seed::random_hex(12)) {
        r.headers_mut().insert("wish-request-id", v);
    }
    r.headers_mut().entry("wish-rate-limit-remaining").or_insert(HeaderValue::from_static("99"));
    r
}

fn ok(data: Value) -> Response {
    with_request_id(Json(json!({ "code": 0, "message": "", "data": data })).into_response())
}

fn wish_error(status: StatusCode, code: i64, message: &str) -> Response {
    with_request_id((status, Json(json!({ "code": code, "message": message, "data": {} }))).into_response())
}

// ---------------------------------------------------------------------------------
// Consent and developer portal.

fn error_page(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Html(format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>Wish sandbox: authorization error</title></head><body><h1>Authorization error</h1><p>{}</p></body></html>",
            seed::html_escape(message)
        )),
    )
        .into_response()
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    client_id: Option<String>,
    state: Option<String>,
}

async fn authorize(State(fake): State<Arc<WishFake>>, Query(q): Query<AuthorizeQuery>) -> Response {
    let client_id = q.client_id.unwrap_or_default();
    if !lock(&fake.apps).contains_key(&client_id) {
        return error_page("The app does not exist (client_id)");
    }
    let esc = seed::html_escape;
    let state =
        q.state.map(|s| format!(r#"<input type="hidden" name="state" value="{}">"#, esc(&s))).unwrap_or_default();
    Html(format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>Wish sandbox: authorize app</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:3em auto">
<h1>Authorize app {client}</h1>
<p>This app requests access to your store: orders:read, orders:write, products:read, merchant:read.</p>
<form method="post" action="consent">
<input type="hidden" name="client_id" value="{client}">{state}
<button type="submit" name="decision" value="agree">I Agree</button>
<button type="submit" name="decision" value="decline">Cancel</button>
</form></body></html>"#,
        client = esc(&client_id),
    ))
    .into_response()
}

async fn consent(State(fake): State<Arc<WishFake>>, body: Bytes) -> Response {
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let client_id = form.get("client_id").cloned().unwrap_or_default();
    let app = lock(&fake.apps).get(&client_id).cloned();
    let Some(app) = app else {
        return error_page("The app does not exist (client_id)");
    };
    let mut extra: Vec<(&str, &str)> = Vec::new();
    if let Some(state) = form.get("state") {
        extra.push(("state", state));
    }
    if form.get("decision").map(String::as_str) != Some("agree") {
        let mut pairs = vec![("error", "access_denied")];
        pairs.extend(extra);
        return Redirect::to(&seed::append_query(&app.redirect_uri, &pairs)).into_response();
    }
    let code = seed::random_hex(16);
    lock(&fake.tokens).codes.insert(
        code.clone(),
        Code { client_id, expires: Utc::now() + Duration::seconds(CODE_TTL_SECONDS), used: false },
    );
    fake.remember(&code);
    let mut pairs = vec![("code", code.as_str())];
    pairs.extend(extra);
    Redirect::to(&seed::append_query(&app.redirect_uri, &pairs)).into_response()
}

#[derive(Deserialize)]
struct PortalRequest {
    redirect_uri: String,
}

async fn portal_create_app(State(fake): State<Arc<WishFake>>, Json(req): Json<PortalRequest>) -> Response {
    if req.redirect_uri.trim().is_empty() {
        return (StatusCode::BAD_REQUEST, Json(json!({ "error": "redirect_uri is required" }))).into_response();
    }
    let client_id = seed::random_hex(12);
    let client_secret = seed::random_hex(16);
    fake.register_app(&client_id, FakeApp { client_secret: client_secret.clone(), redirect_uri: req.redirect_uri });
    fake.remember(&client_secret);
    Json(json!({ "client_id": client_id, "client_secret": client_secret })).into_response()
}

// ---------------------------------------------------------------------------------
// OAuth.

/// Query parameters plus a JSON object or form body; the body wins on a clash.
fn gather(query: HashMap<String, String>, body: &Bytes) -> HashMap<String, String> {
    let mut params = query;
    if body.iter().all(u8::is_ascii_whitespace) {
        return params;
    }
    if let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(body) {
        for (k, v) in m {
            let s = match v {
                Value::String(s) => s,
                Value::Null => continue,
                other => other.to_string(),
            };
            params.insert(k, s);
        }
    } else if let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body) {
        params.extend(pairs);
    }
    params
}

fn token_data(access: &str, refresh: &str, expires: DateTime<Utc>) -> Response {
    ok(json!({
        "access_token": access,
        "refresh_token": refresh,
        "expiry_time": wish_time(expires),
        "merchant_id": SANDBOX_MERCHANT_ID,
        "scopes": SCOPES,
    }))
}

fn mint_access(fake: &WishFake, t: &mut Tokens, client_id: &str, refresh: &str) -> (String, DateTime<Utc>) {
    let access = seed::random_hex(16);
    let expires = (Utc::now() + *lock(&fake.access_ttl)).trunc_subsecs(3);
    t.access.insert(
        access.clone(),
        AccessToken { client_id: client_id.to_owned(), expires, revoked: false, refresh: refresh.to_owned() },
    );
    fake.remember(&access);
    (access, expires)
}

async fn access_token(
    State(fake): State<Arc<WishFake>>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    *lock(&fake.token_calls) += 1;
    let p = gather(query, &body);
    let bad = |code, msg: &str| wish_error(StatusCode::BAD_REQUEST, code, msg);
    for name in ["client_id", "client_secret", "code", "grant_type", "redirect_uri"] {
        if p.get(name).is_none_or(String::is_empty) {
            return bad(1001, &format!("Missing required parameter: {name}"));
        }
    }
    let field = |k: &str| p.get(k).cloned().unwrap_or_default();
    if field("grant_type") != "authorization_code" {
        return bad(1001, "grant_type must be set to 'authorization_code'");
    }
    let client_id = field("client_id");
    let app = lock(&fake.apps).get(&client_id).cloned();
    match app {
        Some(app) if app.client_secret == field("client_secret") && app.redirect_uri == field("redirect_uri") => {}
        _ => {
            return bad(
                10001,
                "Incorrect credentials. One of client_id, client_secret, or redirect_url does not match our records",
            );
        }
    }
    let mut t = lock(&fake.tokens);
    match t.codes.get_mut(&field("code")) {
        Some(c) if c.client_id == client_id => {
            if c.used {
                return bad(10002, "The authorization code has already been redeemed");
            }
            if c.expires <= Utc::now() {
                return bad(10004, "The authorization code has expired");
            }
            c.used = true;
        }
        _ => return bad(10008, "Incorrect authorization code provided"),
    }
    let refresh = seed::random_hex(16);
    t.refresh.insert(refresh.clone(), RefreshToken { client_id: client_id.clone(), revoked: false });
    fake.remember(&refresh);
    let (access, expires) = mint_access(&fake, &mut t, &client_id, &refresh);
    drop(t);
    token_data(&access, &refresh, expires)
}

async fn refresh_token(
    State(fake): State<Arc<WishFake>>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    *lock(&fake.token_calls) += 1;
    let p = gather(query, &body);
    let bad = |code, msg: &str| wish_error(StatusCode::BAD_REQUEST, code, msg);
    for name in ["client_id", "client_secret", "refresh_token", "grant_type"] {
        if p.get(name).is_none_or(String::is_empty) {
            return bad(1001, &format!("Missing required parameter: {name}"));
        }
    }
    let field = |k: &str| p.get(k).cloned().unwrap_or_default();
    if field("grant_type") != "refresh_token" {
        return bad(1001, "grant_type must be set to 'refresh_token'");
    }
    let client_id = field("client_id");
    let app = lock(&fake.apps).get(&client_id).cloned();
    if app.is_none_or(|a| a.client_secret != field("client_secret")) {
        return bad(10001, "Incorrect credentials. client_id or client_secret does not match our records");
    }
    if *lock(&fake.account_disabled) {
        return bad(1002, "Cannot access API due to account is disabled");
    }
    let refresh = field("refresh_token");
    let mut t = lock(&fake.tokens);
    match t.refresh.get(&refresh) {
        Some(r) if r.client_id == client_id && !r.revoked => {}
        _ => return bad(1006, "Unauthorized access on this API"),
    }
    // Refreshing revokes the grant's current access tokens.
    for a in t.access.values_mut() {
        if a.refresh == refresh && a.client_id == client_id {
            a.revoked = true;
        }
    }
    let (access, expires) = mint_access(&fake, &mut t, &client_id, &refresh);
    drop(t);
    token_data(&access, &refresh, expires)
}

/// `Authorization: Bearer <token>`. Failures answer HTTP 400 with 1006/1007/1008, and
/// 1002 for a disabled account, as the spec's `/api/v3/oauth/test` lists them.
fn check_bearer(fake: &WishFake, headers: &HeaderMap) -> Result<(), Box<Response>> {
    let token =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    let t = lock(&fake.tokens);
    let unauthorized = |code, msg: &str| Err(Box::new(wish_error(StatusCode::BAD_REQUEST, code, msg)));
    match token.map(str::trim).and_then(|tok| t.access.get(tok)) {
        None => unauthorized(1006, "No access token found or the app does not exist"),
        Some(a) if a.revoked || t.refresh.get(&a.refresh).is_none_or(|r| r.revoked) => {
            unauthorized(1008, "This access token has been revoked")
        }
        Some(a) if a.expires <= Utc::now() => unauthorized(1007, "This access token has expired"),
        Some(_) if *lock(&fake.account_disabled) => unauthorized(1002, "Cannot access API due to account is disabled"),
        Some(_) => Ok(()),
    }
}

/// Outage hooks (`always_unavailable`, `unavailable_next`), the bearer check, then the
/// rate limiter (`throttle_next`), for the order endpoints.
fn guard(fake: &WishFake, headers: &HeaderMap) -> Result<(), Box<Response>> {
    lock(&fake.api_calls).push(std::time::Instant::now());
    let down = *lock(&fake.always_unavailable) || {
        let mut next = lock(&fake.unavailable_next);
        let down = *next > 0;
        *next = next.saturating_sub(1);
        down
    };
    if down {
        let mut r = (StatusCode::SERVICE_UNAVAILABLE, Html("<html><body>503 Service Unavailable</body></html>"))
            .into_response();
        if let Some(secs) = *lock(&fake.unavailable_retry_after) {
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        return Err(Box::new(r));
    }
    check_bearer(fake, headers)?;
    let mut throttle = lock(&fake.throttle_next);
    if *throttle > 0 {
        *throttle -= 1;
        return Err(Box::new(throttled(*lock(&fake.throttle_reset_secs))));
    }
    Ok(())
}

async fn token_test(State(fake): State<Arc<WishFake>>, headers: HeaderMap) -> Response {
    if let Err(r) = check_bearer(&fake, &headers) {
        return *r;
    }
    ok(json!({ "merchant_id": SANDBOX_MERCHANT_ID }))
}

// ---------------------------------------------------------------------------------
// Orders.

fn money(cents: i64) -> Value {
    // Money amounts are JSON numbers in Wish's spec.
    json!({ "amount": cents as f64 / 100.0, "currency_code": "USD" })
}

fn order_json(o: &WishOrder) -> Value {
    let r = seed::recipient(o.recipient);
    let (phone_cc, phone_number) = seed::phone_parts(&r.phone);
    let mut shipping = json!({
        "name": r.name,
        "street_address1": r.line1,
        "city": r.city,
        "zipcode": r.postal_code,
        "country_code": r.country,
        "phone_number": { "country_code": phone_cc, "number": phone_number },
    });
    if let Some(l2) = &r.line2 {
        shipping["street_address2"] = json!(l2);
    }
    if let Some(st) = &r.state {
        shipping["state"] = json!(st);
    }
    let qty = i64::from(o.quantity);
    let merchant_unit = o.unit_cents * 85 / 100;
    let product_id = format!("5f{:022x}", 0x00a1_b2c3_0000u64 + o.product as u64);
    json!({
        "id": o.id,
        "transaction_id": o.transaction_id,
        "state": o.state,
        "released_at": wish_time(o.released),
        "updated_at": wish_time(o.updated),
        "processing_status": o.processing_status,
        "processing_source": o.processing_source,
        "product_information": {
            "id": product_id,
            "variation_id": format!("6a{:022x}", 0x00d4_e5f6_0000u64 + o.product as u64),
            "sku": seed::sku(o.product),
            "name": seed::title(o.product),
        },
        "order_payment": {
            "general_payment_details": {
                "product_quantity": o.quantity,
                "product_price": money(o.unit_cents),
                "product_shipping_price": money(o.shipping_cents),
                "product_merchant_payment": money(merchant_unit),
                "shipping_merchant_payment": money(o.shipping_cents),
                "payment_total": money((merchant_unit + o.shipping_cents) * qty),
            }
        },
        "full_address": { "shipping_detail": shipping },
        "fulfillment_requirements": {
            "expected_ship_time": wish_time(o.released + Duration::days(5)),
            "expected_delivery_time": wish_time(o.released + Duration::days(30)),
        },
        "tracking_information": o.tracking,
        "fulfillment_records": o.records.iter().map(|(event, at)| json!({ "event_type": event, "event_time": wish_time(*at) })).collect::<Vec<_>>(),
        "fulfillment_order_types": [],
        "refunds": o.refunds,
    })
}

/// 429 with `Wish-Rate-Limit-Remaining: 0` and `Wish-Rate-Limit-Reset` (Wish's
/// date-time form), 1.5 to 2.5 s ahead. No `Retry-After`: Wish documents none.
/// `reset_secs` overrides how far ahead the reset is.
fn throttled(reset_secs: Option<i64>) -> Response {
    let mut r = wish_error(StatusCode::TOO_MANY_REQUESTS, 1018, "Rate limit exceeded. Please try again later.");
    let h = r.headers_mut();
    h.insert("wish-rate-limit-remaining", HeaderValue::from_static("0"));
    let reset = match reset_secs {
        Some(s) => Utc::now().trunc_subsecs(0) + Duration::seconds(s),
        None => (Utc::now() + Duration::milliseconds(1500)).trunc_subsecs(0) + Duration::seconds(1),
    };
    if let Ok(v) = HeaderValue::from_str(&wish_time(reset)) {
        h.insert("wish-rate-limit-reset", v);
    }
    r
}

struct ListQuery {
    limit: usize,
    updated: (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
    released: (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
    by_released: bool,
    ascending: bool,
    states: Vec<String>,
    order_type: Option<String>,
}

fn parse_list_query(pairs: &[(String, String)]) -> Result<ListQuery, Box<Response>> {
    let bad = |msg: String| Box::new(wish_error(StatusCode::BAD_REQUEST, 1001, &msg));
    let one = |name: &str| pairs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let limit = match one("limit") {
        None => DEFAULT_LIMIT,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => return Err(bad(format!("Invalid parameter limit: must be an integer between 1 and {MAX_LIMIT}"))),
        },
    };
    let time = |name: &str| -> Result<Option<DateTime<Utc>>, Box<Response>> {
        match one(name) {
            None => Ok(None),
            Some(v) => parse_wish_time(v).map(Some).ok_or_else(|| {
                bad(format!("Invalid parameter {name}: expected YYYY-MM-DDTHH:mm:ss.sss±HH:MM, got {v:?}"))
            }),
        }
    };
    let updated = (time("updated_at_min")?, time("updated_at_max")?);
    let released = (time("released_at_min")?, time("released_at_max")?);
    let sort = one("sort_by").unwrap_or("updated_at.desc");
    let (field, dir) = sort.split_once('.').unwrap_or((sort, "desc"));
    if !matches!(field, "updated_at" | "released_at") || !matches!(dir, "asc" | "desc") {
        return Err(bad(format!("Invalid parameter sort_by: {sort:?}")));
    }
    let states: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "states" || k == "states[]")
        .flat_map(|(_, v)| v.split(',').map(|s| s.trim().to_owned()))
        .filter(|s| !s.is_empty())
        .collect();
    if states.len() > 5 {
        return Err(bad("Invalid parameter states: at most 5 values".into()));
    }
    if let Some(s) = states.iter().find(|s| !STATES.contains(&s.as_str())) {
        return Err(bad(format!("Invalid parameter states: {s:?}")));
    }
    let order_type = one("order_type").map(str::to_owned);
    if let Some(t) = order_type.as_deref().filter(|t| !ORDER_TYPE_FILTERS.contains(t)) {
        return Err(bad(format!("Invalid parameter order_type: {t:?}")));
    }
    Ok(ListQuery {
        limit,
        updated,
        released,
        by_released: field == "released_at",
        ascending: dir == "asc",
        states,
        order_type,
    })
}

async fn list_orders(
    State(fake): State<Arc<WishFake>>,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    *lock(&fake.order_calls) += 1;
    if let Err(r) = guard(&fake, &headers) {
        return *r;
    }
    let q = match parse_list_query(&pairs) {
        Ok(q) => q,
        Err(r) => return *r,
    };
    {
        let mut malformed = lock(&fake.malformed_next);
        if *malformed {
            *malformed = false;
            return with_request_id(
                (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "application/json")],
                    r#"{"code":0,"message":"","data":[{"id":12,"product_information":"oops","updated_at":"#,
                )
                    .into_response(),
            );
        }
    }
    let within = |t: DateTime<Utc>, (lo, hi): (Option<DateTime<Utc>>, Option<DateTime<Utc>>)| {
        lo.is_none_or(|lo| t >= lo) && hi.is_none_or(|hi| t <= hi)
    };
    let mut matching: Vec<WishOrder> = lock(&fake.orders)
        .iter()
        .filter(|o| {
            within(o.updated, q.updated)
                && within(o.released, q.released)
                && (q.states.is_empty() || q.states.contains(&o.state))
                // Seeded orders belong to no program (`fulfillment_order_types: []`).
                && q.order_type.is_none()
        })
        .cloned()
        .collect();
    let key = |o: &WishOrder| if q.by_released { o.released } else { o.updated };
    matching.sort_by(|a, b| {
        let ord = key(a).cmp(&key(b)).then(a.id.cmp(&b.id));
        if q.ascending { ord } else { ord.reverse() }
    });
    let data: Vec<Value> = matching.iter().take(q.limit).map(order_json).collect();
    ok(Value::Array(data))
}

fn not_found(id: &str) -> Response {
    wish_error(StatusCode::NOT_FOUND, 1004, &format!("We could not find an order for id: '{id}'"))
}

async fn get_order(State(fake): State<Arc<WishFake>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(r) = guard(&fake, &headers) {
        return *r;
    }
    let order = lock(&fake.orders).iter().find(|o| o.id == id).map(order_json);
    match order {
        Some(o) => ok(o),
        None => not_found(&id),
    }
}

#[derive(Deserialize)]
struct CarrierQuery {
    order_type: Option<String>,
    dest_country_code: Option<String>,
}

/// `GET /api/v3/orders/shipping_carriers`: `data` is the spec's `Carriers`, an array of
/// `ShippingProvider {name}`. `order_type` (GENERAL | CONFIRMED_DELIVERY) is required;
/// `dest_country_code` is needed only when it is not GENERAL.
async fn shipping_carriers(
    State(fake): State<Arc<WishFake>>,
    headers: HeaderMap,
    Query(q): Query<CarrierQuery>,
) -> Response {
    let slow = lock(&fake.slow_next_carriers).take();
    if let Some(d) = slow {
        tokio::time::sleep(d).await;
    }
    if let Err(r) = guard(&fake, &headers) {
        return *r;
    }
    let bad = |msg: &str| wish_error(StatusCode::BAD_REQUEST, 1001, msg);
    let names = |list: &[&str]| ok(Value::Array(list.iter().map(|n| json!({ "name": n })).collect()));
    match q.order_type.as_deref().map(str::trim) {
        Some("GENERAL") => names(ACCEPTED_CARRIERS),
        Some("CONFIRMED_DELIVERY") => {
            let dest = q.dest_country_code.unwrap_or_default();
            if dest.len() != 2 || !dest.chars().all(|c| c.is_ascii_uppercase()) {
                return bad("Invalid parameter dest_country_code: expected an ISO 3166 alpha-2 code");
            }
            names(CONFIRMED_DELIVERY_CARRIERS)
        }
        None | Some("") => bad("Missing required parameter: order_type"),
        Some(other) => bad(&format!("Invalid parameter order_type: {other:?}")),
    }
}

/// The answer a proxy gives when Wish's own answer was lost: not a Wish body.
fn lost_answer() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::CONTENT_TYPE, "text/html")],
        "<html><head><title>503 Service Temporarily Unavailable</title></head><body><center><h1>503 Service Temporarily Unavailable</h1></center><hr><center>nginx</center></body></html>",
    )
        .into_response()
}

/// `PUT /api/v3/orders/{id}/tracking` ("Ship or update tracking", asynchronous).
async fn update_tracking(
    State(fake): State<Arc<WishFake>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    *lock(&fake.write_calls) += 1;
    if let Err(r) = guard(&fake, &headers) {
        return *r;
    }
    let bad = |msg: &str| wish_error(StatusCode::BAD_REQUEST, 1001, msg);
    let Ok(Value::Object(req)) = serde_json::from_slice::<Value>(&body) else {
        return bad("The request body must be a JSON object");
    };
    let text = |k: &str| req.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    let tracking = text("tracking_number");
    if tracking.is_empty() || !tracking.chars().all(|c| c.is_ascii_alphanumeric()) {
        return bad("Invalid parameter tracking_number: alphanumeric characters only, no spaces");
    }
    let provider = text("shipping_provider");
    if provider.is_empty() {
        return bad("Missing required parameter: shipping_provider");
    }
    if !ACCEPTED_CARRIERS.contains(&provider.as_str()) {
        return bad(&format!(
            "Invalid parameter shipping_provider: '{provider}' must be an accepted carrier (see GET /api/v3/orders/shipping_carriers)"
        ));
    }
    let origin = text("origin_country");
    if origin.len() != 2 || !origin.chars().all(|c| c.is_ascii_uppercase()) {
        return bad("Invalid parameter origin_country: expected an ISO 3166 alpha-2 code");
    }
    if req.get("ship_note").is_some_and(|n| n.as_str().is_none_or(|s| s.is_empty() || s.chars().count() > 500)) {
        return bad("Invalid parameter ship_note");
    }
    let answer = {
        let mut orders = lock(&fake.orders);
        let Some(o) = orders.iter_mut().find(|o| o.id == id) else {
            return not_found(&id);
        };
        if o.state != "APPROVED" && o.state != "SHIPPED" {
            return bad(&format!("Order {id} cannot be shipped in state {}", o.state));
        }
        let now = Utc::now().trunc_subsecs(3);
        let mut info = json!({
            "tracking_number": tracking,
            "shipping_provider": { "name": provider },
            "origin_country": origin,
        });
        if let Some(note) = req.get("ship_note") {
            info["ship_note"] = note.clone();
        }
        let first_shipment = o.state == "APPROVED";
        // Re-sending the tracking already shown adds no second entry.
        let same = o.tracking.first().is_some_and(|t| {
            t["tracking_number"] == info["tracking_number"]
                && t["shipping_provider"] == info["shipping_provider"]
                && t["origin_country"] == info["origin_country"]
        });
        if !same {
            o.tracking.insert(0, info);
            o.tracking.truncate(2);
        }
        o.updated = now;
        o.processing_source = Some("UPDATE_TRACKING".into());
        o.processing_status = Some("IN_PROGRESS".into());
        let answer = order_json(o);
        // The asynchronous update completes right after the answer.
        o.state = "SHIPPED".into();
        o.processing_status = Some("SUCCEEDED".into());
        if first_shipment {
            o.records.push(("MARK_SHIPPED".into(), now));
        }
        answer
    };
    lock(&fake.fulfillments).push((id, Value::Object(req)));
    {
        let mut lose = lock(&fake.lose_next_writes);
        if *lose > 0 {
            *lose -= 1;
            return lost_answer();
        }
    }
    ok(answer)
}

/// A customer-initiated refund (`RefundsInfo`) of the whole order.
fn refund_info(o: &WishOrder, at: DateTime<Utc>) -> Value {
    let qty = i64::from(o.quantity);
    json!({
        "refund_source": "CUSTOMER",
        "refund_reason": "Customer cancelled the order",
        "refund_reason_note": "Cancelled by the customer before shipment",
        "refund_time": wish_time(at),
        "refund_amount": money((o.unit_cents + o.shipping_cents) * qty),
        "merchant_responsible_amount": money(0),
    })
}

// ---------------------------------------------------------------------------------
// Seed data.

/// One realistic order, deterministic in `i`. Orders come in groups of three sharing
/// one `updated_at` (`base + 20 s × (i / 3)`), so keyset paging must de-duplicate.
fn seed_order(i: usize, base: DateTime<Utc>) -> WishOrder {
    let updated = base + Duration::seconds(i64::try_from(i / 3).unwrap_or(0) * 20);
    let released = updated - Duration::hours(2);
    // About 10 % shipped and 5 % cancelled (REFUNDED) on Wish already; the rest await
    // shipment (APPROVED).
    let state = if i % 10 == 7 {
        "SHIPPED"
    } else if i % 20 == 13 {
        "REFUNDED"
    } else {
        "APPROVED"
    };
    let mut records = vec![("ORDER_RELEASED".to_owned(), released)];
    let mut tracking = Vec::new();
    if state == "SHIPPED" {
        records.push(("MARK_SHIPPED".to_owned(), updated));
        tracking.push(json!({
            "tracking_number": format!("LX{:09}CN", 100_000_000 + i),
            "shipping_provider": { "name": "ChinaAirPost" },
            "origin_country": "CN",
        }));
    }
    let mut order = WishOrder {
        id: format!("{:08x}{:016x}", released.timestamp() as u32, 0x1a2b_3c4d_5e00_0000u64 + i as u64),
        transaction_id: format!("{:08x}{:016x}", released.timestamp() as u32, 0x7c8d_9e0f_1a00_0000u64 + i as u64),
        state: state.to_owned(),
        released,
        updated,
        recipient: i,
        product: i,
        quantity: 1 + (i % 3) as u32,
        unit_cents: 199 + ((i * 7) % 3000) as i64,
        shipping_cents: 100 + (i % 4) as i64 * 50,
        processing_status: None,
        processing_source: None,
        tracking,
        records,
        refunds: Vec::new(),
    };
    if state == "REFUNDED" {
        order.refunds.push(refund_info(&order, updated));
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wish_time_round_trips_and_uses_an_offset() {
        let Ok(t) = DateTime::parse_from_rfc3339("2026-03-04T05:06:07.089Z") else { panic!("bad literal") };
        let t = t.with_timezone(&Utc);
        assert_eq!(wish_time(t), "2026-03-04T05:06:07.089+00:00");
        assert_eq!(parse_wish_time(&wish_time(t)), Some(t));
        assert_eq!(parse_wish_time("2026-03-04T06:06:07.089+01:00"), Some(t));
        // Milliseconds are optional.
        assert!(parse_wish_time("2026-03-04T05:06:07Z").is_some());
        // A `+` decoded from an unencoded query string becomes a space: rejected.
        assert_eq!(parse_wish_time("2026-03-04T05:06:07.089 00:00"), None);
    }

    #[test]
    fn seeded_orders_share_update_times_in_threes() {
        let base = Utc::now().trunc_subsecs(0);
        let orders: Vec<WishOrder> = (0..9).map(|i| seed_order(i, base)).collect();
        assert!(orders.iter().all(|o| o.id.len() == 24 && o.id.chars().all(|c| c.is_ascii_hexdigit())));
        assert_eq!(orders[0].updated, orders[2].updated);
        assert!(orders[3].updated > orders[2].updated);
        let mut ids: Vec<&str> = orders.iter().map(|o| o.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 9);
    }

    #[test]
    fn seeded_orders_mix_native_states() {
        let base = Utc::now().trunc_subsecs(0);
        let orders: Vec<WishOrder> = (0..250).map(|i| seed_order(i, base)).collect();
        let count = |s: &str| orders.iter().filter(|o| o.state == s).count();
        assert_eq!((count("SHIPPED"), count("REFUNDED"), count("APPROVED")), (25, 12, 213));
        assert!(orders.iter().take(5).all(|o| o.state == "APPROVED"));
        for o in orders.iter().filter(|o| o.state == "SHIPPED") {
            let provider = o.tracking[0]["shipping_provider"]["name"].as_str().unwrap_or_default();
            assert!(ACCEPTED_CARRIERS.contains(&provider));
        }
        assert!(orders.iter().filter(|o| o.state == "REFUNDED").all(|o| o.refunds.len() == 1));
    }

    #[test]
    fn platform_hooks_use_native_states() {
        let fake = WishFake::new(6);
        let (a, b) = {
            let orders = lock(&fake.orders);
            (orders[0].id.clone(), orders[1].id.clone())
        };
        fake.ship_on_platform(&a);
        fake.cancel_on_platform(&b);
        fake.request_cancel_on_platform(&a);
        let orders = lock(&fake.orders);
        let o = order_json(&orders[0]);
        assert_eq!(o["state"], "SHIPPED");
        assert_eq!(o["tracking_information"][0]["shipping_provider"]["name"], PLATFORM_SHIP_PROVIDER);
        assert!(orders[0].updated > orders[2].updated);
        assert_eq!(order_json(&orders[1])["state"], "REFUNDED");
        assert_eq!(order_json(&orders[1])["refunds"][0]["refund_source"], "CUSTOMER");
        assert!(!ACCEPTED_CARRIERS.contains(&"CNPOST-RR"));
        assert!(CONFIRMED_DELIVERY_CARRIERS.iter().all(|c| ACCEPTED_CARRIERS.contains(c)));
    }

    #[test]
    fn list_query_validates_limit_sort_and_states() {
        let q = |pairs: &[(&str, &str)]| {
            parse_list_query(&pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect::<Vec<_>>())
        };
        let Ok(d) = q(&[]) else { panic!("defaults rejected") };
        assert_eq!((d.limit, d.ascending, d.by_released), (DEFAULT_LIMIT, false, false));
        assert!(q(&[("limit", "0")]).is_err());
        assert!(q(&[("limit", "501")]).is_err());
        assert!(q(&[("limit", "500"), ("sort_by", "updated_at.asc")]).is_ok_and(|q| q.ascending && q.limit == 500));
        assert!(q(&[("sort_by", "created_at.asc")]).is_err());
        assert!(q(&[("states", "APPROVED,SHIPPED")]).is_ok_and(|q| q.states.len() == 2));
        assert!(q(&[("states", "PENDING")]).is_err());
        assert!(q(&[("updated_at_min", "2026-01-01 00:00:00")]).is_err());
        assert!(q(&[("sort_by", "released_at")]).is_ok_and(|q| q.by_released && !q.ascending));
        assert!(q(&[("order_type", "WISH_EXPRESS")]).is_ok());
        assert!(q(&[("order_type", "GENERAL")]).is_err());
    }
}
