//! A fake Wish Merchant API v3 (the router's root stands for `https://merchant.wish.com`),
//! written from the wire reference (`connectors.md` §5) and Wish's public V3 spec
//! (v3.0.65), independent of the Wish connector (no shared types, paging or date code).
//! Behaviour and the rule each follows:
//!
//! - Consent `GET /v3/oauth/authorize?client_id=…` (§5.1: `client_id` is the only
//!   parameter); the "I Agree" form posts to `POST /v3/oauth/consent`, which answers 303
//!   to the app's registered redirect URI with `?code=` (§5.1). A `state` given to the
//!   authorize URL is echoed back (not documented either way; a client must not rely on
//!   it). Codes are single-use and live 5 minutes (§5.1).
//! - `POST /api/v3/oauth/access_token` with a JSON body, or GET/POST with query
//!   parameters (§5.1), `{client_id, client_secret, code, grant_type:"authorization_code",
//!   redirect_uri}`; `redirect_uri` must equal the registered one (spec: 10001 "One of
//!   client_id, client_secret, or redirect_url does not match").
//! - `GET /api/v3/oauth/refresh_token?client_id&client_secret&refresh_token&grant_type=refresh_token`
//!   (§5.1) revokes every current access token of that grant (later use → 1008) and
//!   returns a new access token with the same refresh token (no rotation documented).
//! - Every body is the envelope `{"code":0|n,"message","data"}` (§5.1); `code` is an
//!   integer (spec `APIError.code: int32`); on errors `data` is `{}`. Token data is
//!   `{access_token, refresh_token, expiry_time, merchant_id, scopes}`; `expiry_time` is
//!   an ISO-8601 date-time string (spec `format: date-time`), access tokens last 30 days.
//! - Error codes (§5.1 and the spec's examples): 1001 bad parameter, 1006 unauthorized
//!   (no/unknown token, or a refresh token that is unknown, revoked or another app's),
//!   1007 access token expired, 1008 access token revoked, 10001 bad client credentials,
//!   10002 code already redeemed, 10004 code expired, 10008 unknown code. HTTP status:
//!   400 on the OAuth endpoints (as the spec lists them), 401 for 1006/1007/1008 on API
//!   calls, 404 with code 1004 for an unknown order (code not documented: our choice).
//! - `GET /api/v3/orders` (§5.2, spec): Bearer token; `limit` 1..=500 (default 50),
//!   `updated_at_min/max`, `released_at_min/max` (inclusive), `sort_by`
//!   `updated_at|released_at` + `.asc|.desc` (default `updated_at.desc`), `states`
//!   (≤5 of APPROVED, SHIPPED, REFUNDED, REQUIRE_REVIEW, DECLINED; repeated or
//!   comma-separated). Keyset paging with NO cursor: a client moves the `_min` bound to
//!   the last item's timestamp and, bounds being inclusive, sees that item again. Seeded
//!   orders come in groups of three sharing one `updated_at`, so de-duplication by `id`
//!   matters. Dates parse as RFC 3339 (milliseconds optional) and are written as
//!   `YYYY-MM-DDTHH:mm:ss.sss+00:00` (the spec's `±XX:ZZ` form): a client that puts
//!   them in a query string must percent-encode the `+`.
//! - Order shape (§5.2, spec `Order`): `id` (24-hex), `transaction_id`, `state`,
//!   `released_at`, `updated_at`, `processing_status`, `product_information{id,
//!   variation_id, sku, name}`, `order_payment.general_payment_details{product_quantity,
//!   product_price, product_shipping_price, payment_total, product_merchant_payment,
//!   shipping_merchant_payment}` (money `{amount: number, currency_code}`), and
//!   `full_address.shipping_detail{name, street_address1, street_address2, city, state,
//!   zipcode, country_code, phone_number{country_code, number}}`. The quantity field
//!   name, MISSING in §5.2, is `product_quantity`: the spec's `GeneralPaymentDetails`
//!   has it and public clients read it. One Wish order is one product (the API's model),
//!   so a seeded order has one line with quantity 1-3.
//! - `PUT /api/v3/orders/{id}/tracking` `{tracking_number*, shipping_provider*,
//!   origin_country*, ship_note?}` (§5.2): tracking number alphanumeric without spaces,
//!   origin an ISO-2 code. Answers the order with `processing_status: "IN_PROGRESS"`;
//!   being asynchronous, the stored order then completes (state SHIPPED, processing
//!   SUCCEEDED, a MARK_SHIPPED record, new `updated_at`).
//! - Also `GET /api/v3/orders/{id}` and `GET /api/v3/oauth/test` → `{merchant_id}`.
//! - Sandbox developer portal `POST /portal/apps {"redirect_uri"}` → a freshly minted
//!   `{client_id, client_secret}`, standing in for creating an app on the real portal.
//! - Fault injection for tests: `throttle_next` (429 + `Retry-After: 1`, plus
//!   `Wish-Rate-Limit-Remaining: 0` and `Wish-Rate-Limit-Reset`), `malformed_next`.
//!   Every response carries a `Wish-Request-Id` header.

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
    pub tracking: Vec<Value>,
    pub records: Vec<(String, DateTime<Utc>)>,
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
    /// Answer the next N order-list calls with 429 + Retry-After: 1.
    pub throttle_next: Mutex<u32>,
    /// Answer the next order-list call with a malformed body (HTTP 200).
    pub malformed_next: Mutex<bool>,
    /// `(order id, body)` of every accepted tracking update.
    pub fulfillments: Mutex<Vec<(String, Value)>>,
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

    /// Every code, token and app secret the fake has issued (tests grep logs for them).
    pub fn issued_secrets(&self) -> Vec<String> {
        lock(&self.issued).clone()
    }

    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/v3/oauth/authorize", get(authorize))
            .route("/v3/oauth/consent", post(consent))
            .route("/api/v3/oauth/access_token", post(access_token).get(access_token))
            .route("/api/v3/oauth/refresh_token", get(refresh_token).post(refresh_token))
            .route("/api/v3/oauth/test", get(token_test))
            .route("/api/v3/orders", get(list_orders))
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

fn with_request_id(mut r: Response) -> Response {
    if let Ok(v) = HeaderValue::from_str(&seed::random_hex(12)) {
        r.headers_mut().insert("wish-request-id", v);
    }
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

fn check_bearer(fake: &WishFake, headers: &HeaderMap) -> Result<(), Box<Response>> {
    let token =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    let t = lock(&fake.tokens);
    let unauthorized = |code, msg: &str| Err(Box::new(wish_error(StatusCode::UNAUTHORIZED, code, msg)));
    match token.map(str::trim).and_then(|tok| t.access.get(tok)) {
        None => unauthorized(1006, "No access token found or the app does not exist"),
        Some(a) if a.revoked || t.refresh.get(&a.refresh).is_none_or(|r| r.revoked) => {
            unauthorized(1008, "This access token has been revoked")
        }
        Some(a) if a.expires <= Utc::now() => unauthorized(1007, "This access token has expired"),
        Some(_) => Ok(()),
    }
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
    })
}

fn throttled() -> Response {
    let mut r = wish_error(StatusCode::TOO_MANY_REQUESTS, 1018, "Rate limit exceeded. Please try again later.");
    let h = r.headers_mut();
    h.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    h.insert("wish-rate-limit-remaining", HeaderValue::from_static("0"));
    if let Ok(v) = HeaderValue::from_str(&wish_time(Utc::now() + Duration::seconds(1))) {
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
    Ok(ListQuery { limit, updated, released, by_released: field == "released_at", ascending: dir == "asc", states })
}

async fn list_orders(
    State(fake): State<Arc<WishFake>>,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    *lock(&fake.order_calls) += 1;
    if let Err(r) = check_bearer(&fake, &headers) {
        return *r;
    }
    {
        let mut throttle = lock(&fake.throttle_next);
        if *throttle > 0 {
            *throttle -= 1;
            return throttled();
        }
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
        })
        .cloned()
        .collect();
    let key = |o: &WishOrder| if q.by_released { o.released } else { o.updated };
    matching.sort_by(|a, b| {
        let ord = key(a).cmp(&key(b)).then(a.id.cmp(&b.id));
        if q.ascending { ord } else { ord.reverse() }
    });
    let data: Vec<Value> = matching.iter().take(q.limit).map(order_json).collect();
    let mut r = ok(Value::Array(data));
    r.headers_mut().insert("wish-rate-limit-remaining", HeaderValue::from_static("99"));
    r
}

fn not_found(id: &str) -> Response {
    wish_error(StatusCode::NOT_FOUND, 1004, &format!("We could not find an order for id: '{id}'"))
}

async fn get_order(State(fake): State<Arc<WishFake>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(r) = check_bearer(&fake, &headers) {
        return *r;
    }
    let order = lock(&fake.orders).iter().find(|o| o.id == id).map(order_json);
    match order {
        Some(o) => ok(o),
        None => not_found(&id),
    }
}

async fn update_tracking(
    State(fake): State<Arc<WishFake>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(r) = check_bearer(&fake, &headers) {
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
    if text("shipping_provider").is_empty() {
        return bad("Missing required parameter: shipping_provider");
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
            "shipping_provider": { "name": text("shipping_provider") },
            "origin_country": origin,
        });
        if let Some(note) = req.get("ship_note") {
            info["ship_note"] = note.clone();
        }
        o.tracking.insert(0, info);
        o.tracking.truncate(2);
        o.updated = now;
        o.processing_status = Some("IN_PROGRESS".into());
        let mut answer = order_json(o);
        answer["processing_source"] = json!("UPDATE_TRACKING");
        // The asynchronous update completes right after the answer.
        o.state = "SHIPPED".into();
        o.processing_status = Some("SUCCEEDED".into());
        o.records.push(("MARK_SHIPPED".into(), now));
        answer
    };
    lock(&fake.fulfillments).push((id, Value::Object(req)));
    ok(answer)
}

// ---------------------------------------------------------------------------------
// Seed data.

/// One realistic order, deterministic in `i`. Orders come in groups of three sharing
/// one `updated_at` (`base + 20 s × (i / 3)`), so keyset paging must de-duplicate.
fn seed_order(i: usize, base: DateTime<Utc>) -> WishOrder {
    let updated = base + Duration::seconds(i64::try_from(i / 3).unwrap_or(0) * 20);
    let released = updated - Duration::hours(2);
    let state = if i % 10 == 7 { "SHIPPED" } else { "APPROVED" };
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
    WishOrder {
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
        tracking,
        records,
    }
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
    }
}
