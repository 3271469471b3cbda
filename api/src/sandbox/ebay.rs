//! A fake eBay, written from eBay's public documentation and independent of the eBay
//! connector (no shared types, encoding or paging code): consent page with "I Agree",
//! the Basic-auth token endpoint (authorization_code and refresh_token grants, single-use
//! codes, expiring access tokens, `invalid_grant`), `getOrders` with the
//! `lastmodifieddate` filter and `limit/offset/next` paging, `createShippingFulfillment`,
//! eBay-shaped errors, and fault injection (429 + Retry-After, malformed pages) for tests.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    Form, Json, Router,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::seed;

/// An app registered with the fake: its secret and where its RuName redirects.
#[derive(Clone)]
pub struct FakeApp {
    pub client_secret: String,
    pub ru_name: String,
    pub accept_url: String,
}

#[derive(Default)]
struct Tokens {
    /// access token → (expiry, refresh token it came from)
    access: HashMap<String, (DateTime<Utc>, String)>,
    /// refresh token → (client_id, revoked)
    refresh: HashMap<String, (String, bool)>,
    /// code → (client_id, expiry)
    codes: HashMap<String, (String, DateTime<Utc>)>,
}

/// Shared state; tests keep a handle to inspect and inject faults.
pub struct EbayFake {
    pub apps: Mutex<HashMap<String, FakeApp>>,
    tokens: Mutex<Tokens>,
    pub orders: Mutex<Vec<Value>>,
    /// (lastModifiedDate, orderId, index) sorted, built on first read and dropped when orders
    /// change: a page costs a binary search, not a sort of every order.
    by_modified: Mutex<Option<Vec<(String, String, usize)>>>,
    pub access_ttl: Mutex<Duration>,
    pub token_calls: Mutex<u32>,
    pub order_calls: Mutex<u32>,
    /// Answer the next N getOrders calls with 429 + Retry-After: 1.
    pub throttle_next: Mutex<u32>,
    /// Answer getOrders at this offset with a malformed page.
    pub malformed_at_offset: Mutex<Option<usize>>,
    pub fulfillments: Mutex<Vec<(String, Value)>>,
    /// Base URL the fake is reachable at (for absolute `next` links).
    pub base_url: Mutex<String>,
}

pub const SANDBOX_CLIENT_ID: &str = "ShipgateSandbox-SBX-0000";
pub const SANDBOX_CLIENT_SECRET: &str = "SBX-sandbox-client-secret-0000";
pub const SANDBOX_RU_NAME: &str = "Shipgate_Sandbox-Shipgate-SBX-RuName";

impl EbayFake {
    pub fn new(order_count: usize) -> Arc<Self> {
        Arc::new(Self {
            apps: Mutex::new(HashMap::new()),
            tokens: Mutex::new(Tokens::default()),
            orders: Mutex::new({
                let base = seed::base_time();
                (0..order_count).map(|i| order_json(i, base)).collect()
            }),
            by_modified: Mutex::new(None),
            access_ttl: Mutex::new(Duration::seconds(7200)),
            token_calls: Mutex::new(0),
            order_calls: Mutex::new(0),
            throttle_next: Mutex::new(0),
            malformed_at_offset: Mutex::new(None),
            fulfillments: Mutex::new(Vec::new()),
            base_url: Mutex::new(String::new()),
        })
    }

    pub fn register_app(&self, client_id: &str, app: FakeApp) {
        if let Ok(mut apps) = self.apps.lock() {
            apps.insert(client_id.to_owned(), app);
        }
    }

    /// Expires every access token now (the next API call gets 401).
    pub fn expire_access_tokens(&self) {
        if let Ok(mut t) = self.tokens.lock() {
            let past = Utc::now() - Duration::seconds(1);
            for v in t.access.values_mut() {
                v.0 = past;
            }
        }
    }

    /// Every token the fake has issued (tests grep logs for them).
    pub fn issued_secrets(&self) -> Vec<String> {
        let t = lock(&self.tokens);
        t.access.keys().chain(t.refresh.keys()).cloned().collect()
    }

    /// Revokes every refresh token (the seller withdrew consent).
    pub fn revoke_all(&self) {
        if let Ok(mut t) = self.tokens.lock() {
            for v in t.refresh.values_mut() {
                v.1 = true;
            }
            t.access.clear();
        }
    }

    /// Marks some orders as modified now (with a new status).
    pub fn touch_orders(&self, n: usize, status: &str) {
        if let Ok(mut orders) = self.orders.lock() {
            let now = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
            for o in orders.iter_mut().take(n) {
                o["lastModifiedDate"] = json!(now);
                o["orderFulfillmentStatus"] = json!(status);
            }
            *lock(&self.by_modified) = None;
        }
    }

    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/oauth2/authorize", get(authorize))
            .route("/oauth2/consent", post(consent))
            .route("/identity/v1/oauth2/token", post(token))
            .route("/sell/fulfillment/v1/order", get(get_orders))
            .route("/sell/fulfillment/v1/order/{order_id}/shipping_fulfillment", post(create_fulfillment))
            .with_state(self.clone())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn random_token(prefix: &str) -> String {
    let mut b = [0u8; 24];
    rand::fill(&mut b);
    format!("{prefix}{}", STANDARD.encode(b))
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (status, Json(json!({ "error": error, "error_description": description }))).into_response()
}

fn api_error(status: StatusCode, id: u32, message: &str) -> Response {
    (
        status,
        Json(json!({ "errors": [{ "errorId": id, "domain": "API_FULFILLMENT", "category": "REQUEST", "message": message, "longMessage": message }] })),
    )
        .into_response()
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    client_id: String,
    redirect_uri: String,
    response_type: String,
    scope: Option<String>,
    state: Option<String>,
}

async fn authorize(State(fake): State<Arc<EbayFake>>, Query(q): Query<AuthorizeQuery>) -> Response {
    let app = lock(&fake.apps).get(&q.client_id).cloned();
    let Some(app) = app else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_client", "client authentication failed");
    };
    if q.redirect_uri != app.ru_name {
        // eBay wants the RuName here, never a URL.
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "Input request parameters are invalid.");
    }
    if q.response_type != "code" || q.scope.as_deref().unwrap_or_default().is_empty() {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "response_type and scope are required");
    }
    let esc = |s: &str| s.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;");
    Html(format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>eBay sandbox: grant access</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:3em auto">
<h1>Grant application access: Shipgate</h1>
<p>Shipgate would like to view and manage your orders and fulfillments (scopes: {scope}).</p>
<form method="post" action="consent">
<input type="hidden" name="client_id" value="{client}"><input type="hidden" name="state" value="{state}">
<button type="submit" name="decision" value="agree">I Agree</button>
<button type="submit" name="decision" value="decline">No Thanks</button>
</form></body></html>"#,
        scope = esc(q.scope.as_deref().unwrap_or_default()),
        client = esc(&q.client_id),
        state = esc(q.state.as_deref().unwrap_or_default()),
    ))
    .into_response()
}

#[derive(Deserialize)]
struct ConsentForm {
    client_id: String,
    state: String,
    decision: String,
}

async fn consent(State(fake): State<Arc<EbayFake>>, Form(f): Form<ConsentForm>) -> Response {
    let app = lock(&fake.apps).get(&f.client_id).cloned();
    let Some(app) = app else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_client", "unknown client");
    };
    let sep = if app.accept_url.contains('?') { '&' } else { '?' };
    let state = form_encode(&f.state);
    if f.decision != "agree" {
        return Redirect::to(&format!("{}{sep}error=access_denied&state={state}", app.accept_url)).into_response();
    }
    let code = random_token("v^1.1#i^1#f^0#r^1#I^3#p^3#t^");
    lock(&fake.tokens).codes.insert(code.clone(), (f.client_id.clone(), Utc::now() + Duration::seconds(299)));
    Redirect::to(&format!("{}{sep}state={state}&code={}&expires_in=299", app.accept_url, form_encode(&code)))
        .into_response()
}

fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn basic_client(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let b64 = v.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(b64.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

async fn token(
    State(fake): State<Arc<EbayFake>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    *lock(&fake.token_calls) += 1;
    let Some((client_id, secret)) = basic_client(&headers) else {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "client authentication failed");
    };
    let app = lock(&fake.apps).get(&client_id).cloned();
    match app {
        Some(app) if app.client_secret == secret => {
            let ttl = *lock(&fake.access_ttl);
            let mut t = lock(&fake.tokens);
            match form.get("grant_type").map(String::as_str) {
                Some("authorization_code") => {
                    let code = form.get("code").cloned().unwrap_or_default();
                    if form.get("redirect_uri") != Some(&app.ru_name) {
                        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "redirect_uri mismatch");
                    }
                    // Codes are single-use and short-lived.
                    match t.codes.remove(&code) {
                        Some((cid, exp)) if cid == client_id && exp > Utc::now() => {}
                        _ => {
                            return oauth_error(
                                StatusCode::BAD_REQUEST,
                                "invalid_grant",
                                "the provided authorization grant code is invalid or was issued to another client",
                            );
                        }
                    }
                    let refresh = random_token("v^1.1#i^1#r^1#p^3#I^3#f^0#t^Ul4x");
                    let access = random_token("v^1.1#i^1#p^3#I^3#r^0#f^0#t^H4sI");
                    t.refresh.insert(refresh.clone(), (client_id, false));
                    t.access.insert(access.clone(), (Utc::now() + ttl, refresh.clone()));
                    Json(json!({
                        "access_token": access, "expires_in": ttl.num_seconds(),
                        "refresh_token": refresh, "refresh_token_expires_in": 47_304_000,
                        "token_type": "User Access Token"
                    }))
                    .into_response()
                }
                Some("refresh_token") => {
                    let refresh = form.get("refresh_token").cloned().unwrap_or_default();
                    match t.refresh.get(&refresh) {
                        Some((cid, false)) if *cid == client_id => {}
                        _ => {
                            return oauth_error(
                                StatusCode::BAD_REQUEST,
                                "invalid_grant",
                                "the provided authorization refresh token is invalid or was issued to another client",
                            );
                        }
                    }
                    let access = random_token("v^1.1#i^1#p^3#I^3#r^0#f^0#t^H4sI");
                    t.access.insert(access.clone(), (Utc::now() + ttl, refresh));
                    Json(json!({ "access_token": access, "expires_in": ttl.num_seconds(), "token_type": "User Access Token" })).into_response()
                }
                _ => oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "grant type not supported"),
            }
        }
        _ => oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "client authentication failed"),
    }
}

fn check_bearer(fake: &EbayFake, headers: &HeaderMap) -> Result<(), Box<Response>> {
    let token =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    let t = lock(&fake.tokens);
    match token.and_then(|tok| t.access.get(tok)) {
        Some((exp, refresh)) if *exp > Utc::now() && t.refresh.get(refresh).is_some_and(|r| !r.1) => Ok(()),
        _ => Err(Box::new(api_error(StatusCode::UNAUTHORIZED, 1001, "Invalid access token"))),
    }
}

#[derive(Deserialize)]
struct OrdersQuery {
    filter: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
}

async fn get_orders(State(fake): State<Arc<EbayFake>>, headers: HeaderMap, Query(q): Query<OrdersQuery>) -> Response {
    *lock(&fake.order_calls) += 1;
    if let Err(r) = check_bearer(&fake, &headers) {
        return *r;
    }
    {
        let mut throttle = lock(&fake.throttle_next);
        if *throttle > 0 {
            *throttle -= 1;
            let mut r = api_error(
                StatusCode::TOO_MANY_REQUESTS,
                2001,
                "Too many requests. The request limit has been reached for the resource.",
            );
            r.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
            return r;
        }
    }
    let limit: usize = match q.limit.as_deref().map(str::parse) {
        None => 50,
        // eBay: `limit` 1 to 200, default 50.
        Some(Ok(n)) if (1..=200).contains(&n) => n,
        _ => {
            return api_error(StatusCode::BAD_REQUEST, 30700, "The value of 'limit' is invalid.");
        }
    };
    let offset: usize = match q.offset.as_deref().map(str::parse) {
        None => 0,
        Some(Ok(n)) => n,
        _ => {
            return api_error(StatusCode::BAD_REQUEST, 30800, "The value of 'offset' is invalid.");
        }
    };
    // filter=lastmodifieddate:[2026-01-01T00:00:00.000Z..]
    let since = match q.filter.as_deref() {
        None => None,
        Some(f) => {
            let inner = f.strip_prefix("lastmodifieddate:[").and_then(|r| r.strip_suffix("..]"));
            match inner.and_then(|s| DateTime::parse_from_rfc3339(s).ok()) {
                Some(d) => Some(d.with_timezone(&Utc)),
                None => {
                    return api_error(StatusCode::BAD_REQUEST, 30850, "The 'filter' value is invalid.");
                }
            }
        }
    };
    if *lock(&fake.malformed_at_offset) == Some(offset) {
        return (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"orders":[{"orderId": 12, "lineItems": "oops"}]"#,
        )
            .into_response();
    }
    let orders = lock(&fake.orders);
    let mut index = lock(&fake.by_modified);
    // Sorted once by (lastModifiedDate, orderId): the fake writes every date in one
    // RFC 3339 form (milliseconds, `Z`), so the strings sort as the times do.
    let sorted = index.get_or_insert_with(|| {
        let mut v: Vec<(String, String, usize)> = orders
            .iter()
            .enumerate()
            .map(|(i, o)| {
                (
                    o["lastModifiedDate"].as_str().unwrap_or_default().to_owned(),
                    o["orderId"].as_str().unwrap_or_default().to_owned(),
                    i,
                )
            })
            .collect();
        v.sort();
        v
    });
    let start = match since {
        Some(s) => {
            let key = s.to_rfc3339_opts(SecondsFormat::Millis, true);
            sorted.partition_point(|(d, _, _)| d.as_str() < key.as_str())
        }
        None => 0,
    };
    let total = sorted.len() - start;
    let base = lock(&fake.base_url).clone();
    let link = |off: usize| {
        let mut url = format!("{base}/sell/fulfillment/v1/order?limit={limit}&offset={off}");
        if let Some(f) = &q.filter {
            url.push_str(&format!("&filter={}", form_encode(f)));
        }
        url
    };
    // Serialised straight from the stored orders (no copy of the page).
    let body = OrderPage {
        href: link(offset),
        total,
        limit,
        offset,
        orders: sorted.iter().skip(start + offset).take(limit).filter_map(|(_, _, i)| orders.get(*i)).collect(),
        next: (offset + limit < total).then(|| link(offset + limit)),
        prev: (offset > 0).then(|| link(offset.saturating_sub(limit))),
    };
    match serde_json::to_vec(&body) {
        Ok(bytes) => ([(header::CONTENT_TYPE, "application/json")], bytes).into_response(),
        Err(_) => api_error(StatusCode::INTERNAL_SERVER_ERROR, 10001, "System error."),
    }
}

#[derive(serde::Serialize)]
struct OrderPage<'a> {
    href: String,
    total: usize,
    limit: usize,
    offset: usize,
    orders: Vec<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prev: Option<String>,
}

async fn create_fulfillment(
    State(fake): State<Arc<EbayFake>>,
    headers: HeaderMap,
    Path(order_id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    if let Err(r) = check_bearer(&fake, &headers) {
        return *r;
    }
    if !lock(&fake.orders).iter().any(|o| o["orderId"] == json!(order_id)) {
        return api_error(StatusCode::NOT_FOUND, 32100, "Invalid order ID");
    }
    let tracking = body["trackingNumber"].as_str().unwrap_or_default().to_owned();
    if tracking.is_empty() || body["shippingCarrierCode"].as_str().unwrap_or_default().is_empty() {
        return api_error(StatusCode::BAD_REQUEST, 32300, "Invalid shipment tracking number or carrier");
    }
    lock(&fake.fulfillments).push((order_id.clone(), body));
    let base = lock(&fake.base_url).clone();
    (
        StatusCode::CREATED,
        [(header::LOCATION, format!("{base}/sell/fulfillment/v1/order/{order_id}/shipping_fulfillment/{tracking}"))],
        Json(json!({})),
    )
        .into_response()
}

/// One realistic order, deterministic in `i`: 1-3 lines, several countries, names and
/// addresses with `'`, `&`, accents and CJK.
fn order_json(i: usize, base: DateTime<Utc>) -> Value {
    let r = seed::recipient(i);
    let modified = base + Duration::seconds(i64::try_from(i).unwrap_or(0) * 7);
    let lines = 1 + i % 3;
    let mut total_cents = 0i64;
    let items: Vec<Value> = (0..lines)
        .map(|l| {
            let qty = 1 + ((i + l) % 2) as i64;
            let unit = 499 + ((i * 7 + l * 13) % 5000) as i64;
            total_cents += unit * qty;
            json!({
                "lineItemId": format!("{}", 10_000_000_000i64 + (i * 3 + l) as i64),
                "legacyItemId": format!("{}", 110_000_000_000i64 + (i % 400) as i64),
                "sku": seed::sku(i + l),
                "title": seed::title(i + l),
                "quantity": qty,
                "lineItemCost": { "value": cents(unit * qty), "currency": "USD" },
                "lineItemFulfillmentStatus": "NOT_STARTED"
            })
        })
        .collect();
    let shipping = 350 + (i % 4) as i64 * 100;
    json!({
        "orderId": format!("{:02}-{:05}-{:05}", 10 + i % 90, 10_000 + (i / 97) % 90_000, 10_000 + i % 90_000),
        "legacyOrderId": format!("{}-{}", 110_000_000_000i64 + i as i64, 2_000_000_000_000i64 + i as i64),
        "creationDate": (modified - Duration::hours(2)).to_rfc3339_opts(SecondsFormat::Millis, true),
        "lastModifiedDate": modified.to_rfc3339_opts(SecondsFormat::Millis, true),
        "orderFulfillmentStatus": "NOT_STARTED",
        "orderPaymentStatus": "PAID",
        "sellerId": "shipgate_demo_seller",
        "buyer": { "username": r.buyer },
        "pricingSummary": {
            "priceSubtotal": { "value": cents(total_cents), "currency": "USD" },
            "deliveryCost": { "value": cents(shipping), "currency": "USD" },
            "total": { "value": cents(total_cents + shipping), "currency": "USD" }
        },
        "fulfillmentStartInstructions": [{
            "fulfillmentInstructionsType": "SHIP_TO",
            "shippingStep": { "shipTo": {
                "fullName": r.name,
                "contactAddress": {
                    "addressLine1": r.line1, "addressLine2": r.line2, "city": r.city,
                    "stateOrProvince": r.state, "postalCode": r.postal_code, "countryCode": r.country
                },
                "primaryPhone": { "phoneNumber": r.phone },
                "email": r.email
            } }
        }],
        "lineItems": items
    })
}

fn cents(c: i64) -> String {
    format!("{}.{:02}", c / 100, c % 100)
}
