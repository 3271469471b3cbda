//! A fake Amazon Selling Partner API with its Login with Amazon (LWA) token service and
//! the Seller Central consent page, written from the wire reference (`connectors.md` §3)
//! and Amazon's public models (`selling-partner-api-models` ordersV0), independent of the
//! Amazon connector (no shared types, paging or date code). Three logical hosts share
//! one router:
//!
//! - Seller Central `GET /sellercentral/apps/authorize/consent?application_id&state[&version=beta][&redirect_uri]`
//!   (§3.2): an "I Agree" page posting back to the same path, which answers 303 to the
//!   app's registered redirect URI with `state`, `selling_partner_id` and
//!   `spapi_oauth_code` (§3.2). Codes are single-use and live 5 minutes (§3.2 says
//!   "minutes"). `version` may only be `beta`; an optional `redirect_uri` must be the
//!   registered one (Seller Central errors MD1000 / MD5101 are shown as pages). A
//!   declined consent shows a page and redirects nowhere (not documented: our choice).
//! - LWA `POST /lwa/auth/o2/token` (§3.2, AMZ-LWA), form body (a JSON body is accepted
//!   too): `grant_type=authorization_code&code&redirect_uri&client_id&client_secret` or
//!   `grant_type=refresh_token&refresh_token&client_id&client_secret` →
//!   `{"access_token":"Atza|…","token_type":"bearer","expires_in":3600,"refresh_token":"Atzr|…"}`.
//!   Refresh answers the same refresh token (LWA refresh tokens do not rotate). Errors
//!   `{error, error_description}`: `invalid_request` (400, missing parameter),
//!   `invalid_client` (401), `invalid_grant` (400: unknown, used, expired or another
//!   client's code; redirect mismatch; unknown or revoked refresh token),
//!   `unsupported_grant_type` (400).
//! - SP-API under `/sp` (§3.1, §3.3): only `x-amz-access-token` authenticates (no SigV4
//!   since 2023, §3.2). Missing, unknown or revoked token → 403 `{"errors":[{"code":
//!   "Unauthorized","message":"Access to requested resource is denied.","details":""}]}`;
//!   expired → 403 with "The access token you provided has expired.". Every response
//!   has `x-amzn-RequestId`; successes and 429s have `x-amzn-RateLimit-Limit` with the
//!   operation's documented rate (§3.3).
//! - `GET /sp/orders/v0/orders` (getOrders, §3.3): `MarketplaceIds` required (comma-
//!   separated, ≤50, from the documented list); exactly one of `CreatedAfter` /
//!   `LastUpdatedAfter` (ISO-8601); `CreatedBefore` / `LastUpdatedBefore` go with their
//!   `…After`, must follow it and be at least 2 minutes before now; the upper bound
//!   otherwise is now. `OrderStatuses`, `FulfillmentChannels`, `MaxResultsPerPage`
//!   (1..=100, default 100). Orders come sorted by `LastUpdateDate` (then id); when more
//!   remain, `NextToken` (opaque) carries the rest of that result set: a call with
//!   `NextToken` ignores every other parameter but `MarketplaceIds`. Payload
//!   `{Orders, NextToken?, LastUpdatedBefore | CreatedBefore}`. The sandbox seller sells
//!   on amazon.com (`ATVPDKIKX0DER`) and ships worldwide; other marketplaces are valid
//!   but hold no orders.
//! - `ShippingAddress{Name, AddressLine1, AddressLine2, City, StateOrRegion, PostalCode,
//!   CountryCode, Phone, AddressType}` and `BuyerInfo{BuyerEmail, BuyerName}` are
//!   returned in full. The real v0 API only returns this PII with a Restricted Data Token
//!   (RDT, §3.3); the sandbox skips the RDT step.
//! - `GET /sp/orders/v0/orders/{id}` (getOrder) and `…/{id}/orderItems` (getOrderItems)
//!   → `payload{AmazonOrderId, OrderItems[{ASIN, SellerSKU, OrderItemId, Title,
//!   QuantityOrdered, QuantityShipped, ItemPrice, ShippingPrice, ItemTax, …}]}`;
//!   `ItemPrice` is the line total (unit price × quantity), as the model documents.
//! - `POST /sp/orders/v0/orders/{id}/shipmentConfirmation` (confirmShipment, §3.3):
//!   `{marketplaceId, packageDetail{packageReferenceId (positive number as a string),
//!   carrierCode, carrierName (required when carrierCode is "Other"), shippingMethod?,
//!   trackingNumber, shipDate, orderItems[{orderItemId, quantity}]}}` → 204; the items
//!   count as shipped and the order becomes Shipped or PartiallyShipped.
//! - Errors `{"errors":[{code, message, details}]}`: `InvalidInput` (400), `NotFound`
//!   (404), `QuotaExceeded` (429). Fault injection for tests: `throttle_next` (429 +
//!   `Retry-After: 1`), `malformed_next` (HTTP 200, broken JSON) on getOrders.

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
    routing::{get, post},
};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, SubsecRound, Utc};
use serde_json::{Value, json};

use super::seed;

/// The deployment's app as registered with the fake.
#[derive(Clone)]
pub struct FakeApp {
    pub application_id: String,
    pub client_secret: String,
    pub redirect_uri: String,
}

#[derive(Clone)]
pub struct AmzItem {
    pub order_item_id: String,
    pub asin: String,
    pub sku: String,
    pub title: String,
    pub quantity: u32,
    pub shipped: u32,
    pub unit_cents: i64,
}

/// One seeded order; rendered into the getOrders, getOrder and getOrderItems views.
#[derive(Clone)]
pub struct AmzOrder {
    pub id: String,
    pub status: String,
    pub purchased: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    /// Index into `seed::recipient`.
    pub recipient: usize,
    pub marketplace_id: String,
    pub items: Vec<AmzItem>,
    pub shipping_cents: i64,
}

struct AccessToken {
    client_id: String,
    expires: DateTime<Utc>,
    revoked: bool,
}

struct RefreshToken {
    client_id: String,
    revoked: bool,
}

struct Code {
    client_id: String,
    redirect_uri: String,
    expires: DateTime<Utc>,
}

#[derive(Default)]
struct Tokens {
    access: HashMap<String, AccessToken>,
    refresh: HashMap<String, RefreshToken>,
    codes: HashMap<String, Code>,
}

/// The rest of a getOrders result set, behind a NextToken (reusable, like SP-API's).
#[derive(Clone)]
struct PageState {
    ids: Vec<String>,
    offset: usize,
    max: usize,
    bound: (&'static str, String),
}

/// Shared state; tests keep a handle to inspect and inject faults.
pub struct AmazonFake {
    pub apps: Mutex<HashMap<String, FakeApp>>,
    tokens: Mutex<Tokens>,
    pages: Mutex<HashMap<String, PageState>>,
    pub orders: Mutex<Vec<AmzOrder>>,
    pub access_ttl: Mutex<Duration>,
    pub token_calls: Mutex<u32>,
    pub order_calls: Mutex<u32>,
    /// Answer the next N getOrders calls with 429 + Retry-After: 1.
    pub throttle_next: Mutex<u32>,
    /// Answer the next getOrders call with a malformed body (HTTP 200).
    pub malformed_next: Mutex<bool>,
    /// `(AmazonOrderId, body)` of every accepted confirmShipment.
    pub fulfillments: Mutex<Vec<(String, Value)>>,
    /// Base URL the fake is reachable at.
    pub base_url: Mutex<String>,
    issued: Mutex<Vec<String>>,
}

pub const SANDBOX_CLIENT_ID: &str = "amzn1.application-oa2-client.5b1f0c3ad7e54c4f8b7a6e2d9c0f1a23";
pub const SANDBOX_CLIENT_SECRET: &str =
    "amzn1.oa2-cs.v1.0d3c9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d";
pub const SANDBOX_APPLICATION_ID: &str = "amzn1.sellerapps.app.5b1f0c3a-d7e5-4c4f-8b7a-6e2d9c0f1a23";
/// The seller who consents on the sandbox page.
pub const SANDBOX_SELLING_PARTNER_ID: &str = "A2SBXSHIPGATE7";
/// amazon.com: where every seeded order was placed.
pub const SANDBOX_MARKETPLACE_ID: &str = "ATVPDKIKX0DER";
/// How long `spapi_oauth_code`s live.
pub const CODE_TTL_SECONDS: i64 = 300;
pub const MAX_RESULTS_PER_PAGE: usize = 100;

/// Marketplace IDs the fake accepts (`connectors.md` §3.1).
pub const MARKETPLACE_IDS: &[&str] = &[
    "ATVPDKIKX0DER",
    "A2EUQ1WTGCTBG2",
    "A1AM78C64UM0Y8",
    "A2Q3Y263D00KWC",
    "A1F83G8C2ARO7P",
    "A1PA6795UKMFR9",
    "A13V1IB3VIYZZH",
    "APJ6JRA9NG5V4",
    "A1RKKUPIHCS9HS",
    "A1805IZSGTT6HS",
    "A1C3SOZRARQ6R3",
    "A2NODRKZP88ZB9",
    "AMEN7PMS3EDWL",
    "A28R8C7NBKEWEA",
    "A33AVAJ2PDY3EV",
    "A2VIGQ35RCS4UG",
    "A17E79C6D8DWNP",
    "ARBP9OOSHTCHU",
    "AE08WJ6YKNBMC",
    "A21TJRUUN4KGV",
    "A1VC38T7YXB528",
    "A39IBJ37TRP1C6",
    "A19VAU5U5O7RUS",
];

const ORDER_STATUSES: &[&str] = &[
    "Pending",
    "Unshipped",
    "PartiallyShipped",
    "Shipped",
    "Canceled",
    "Unfulfillable",
    "InvoiceUnconfirmed",
    "PendingAvailability",
];

const RATE_GET_ORDERS: &str = "0.0167";
const RATE_GET_ORDER: &str = "0.5";
const RATE_GET_ORDER_ITEMS: &str = "0.5";
const RATE_CONFIRM_SHIPMENT: &str = "2.0";

impl AmazonFake {
    pub fn new(order_count: usize) -> Arc<Self> {
        let base = seed::base_time();
        Arc::new(Self {
            apps: Mutex::new(HashMap::new()),
            tokens: Mutex::new(Tokens::default()),
            pages: Mutex::new(HashMap::new()),
            orders: Mutex::new((0..order_count).map(|i| seed_order(i, base)).collect()),
            access_ttl: Mutex::new(Duration::seconds(3600)),
            token_calls: Mutex::new(0),
            order_calls: Mutex::new(0),
            throttle_next: Mutex::new(0),
            malformed_next: Mutex::new(false),
            fulfillments: Mutex::new(Vec::new()),
            base_url: Mutex::new(String::new()),
            issued: Mutex::new(Vec::new()),
        })
    }

    /// Registers an LWA client (`client_id`) with its SP-API application.
    pub fn register_app(&self, client_id: &str, app: FakeApp) {
        lock(&self.apps).insert(client_id.to_owned(), app);
    }

    /// Expires every access token now (the next SP-API call gets 403 "expired").
    pub fn expire_access_tokens(&self) {
        let past = Utc::now() - Duration::seconds(1);
        for t in lock(&self.tokens).access.values_mut() {
            t.expires = past;
        }
    }

    /// Revokes every refresh and access token (the seller removed the app): LWA then
    /// answers `invalid_grant`.
    pub fn revoke_all(&self) {
        let mut t = lock(&self.tokens);
        for r in t.refresh.values_mut() {
            r.revoked = true;
        }
        for a in t.access.values_mut() {
            a.revoked = true;
        }
    }

    /// Marks the first `n` orders as updated now, with a new `OrderStatus`.
    pub fn touch_orders(&self, n: usize, status: &str) {
        let now = Utc::now().trunc_subsecs(0);
        for o in lock(&self.orders).iter_mut().take(n) {
            o.updated = now;
            o.status = status.to_owned();
        }
    }

    /// Every code and token the fake has issued (tests grep logs for them).
    pub fn issued_secrets(&self) -> Vec<String> {
        lock(&self.issued).clone()
    }

    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/sellercentral/apps/authorize/consent", get(consent_page).post(consent_submit))
            .route("/lwa/auth/o2/token", post(lwa_token))
            .route("/sp/orders/v0/orders", get(get_orders))
            .route("/sp/orders/v0/orders/{order_id}", get(get_order))
            .route("/sp/orders/v0/orders/{order_id}/orderItems", get(get_order_items))
            .route("/sp/orders/v0/orders/{order_id}/shipmentConfirmation", post(confirm_shipment))
            .with_state(self.clone())
    }

    fn remember(&self, secret: &str) {
        lock(&self.issued).push(secret.to_owned());
    }

    fn app_by_application_id(&self, application_id: &str) -> Option<(String, FakeApp)> {
        lock(&self.apps).iter().find(|(_, a)| a.application_id == application_id).map(|(k, a)| (k.clone(), a.clone()))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// ISO-8601 UTC with whole seconds, as SP-API writes dates.
pub fn amz_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Parses the ISO-8601 forms SP-API accepts: RFC 3339, a date-time without offset (UTC)
/// or a bare date (midnight UTC).
pub fn parse_iso(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    if let Ok(n) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(n.and_utc());
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|n| n.and_utc())
}

/// True for the 3-7-7 digit AmazonOrderId shape.
pub fn is_order_id(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 3
        && [3, 7, 7].iter().zip(&parts).all(|(n, p)| p.len() == *n && p.bytes().all(|b| b.is_ascii_digit()))
}

// ---------------------------------------------------------------------------------
// Responses.

fn request_id(mut r: Response) -> Response {
    if let Ok(v) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        r.headers_mut().insert("x-amzn-requestid", v);
    }
    r
}

fn rate_limited(mut r: Response, rate: &'static str) -> Response {
    r.headers_mut().insert("x-amzn-ratelimit-limit", HeaderValue::from_static(rate));
    r
}

fn sp_ok(body: Value, rate: &'static str) -> Response {
    request_id(rate_limited(Json(body).into_response(), rate))
}

fn sp_error(status: StatusCode, code: &str, message: &str) -> Response {
    request_id(
        (status, Json(json!({ "errors": [{ "code": code, "message": message, "details": "" }] }))).into_response(),
    )
}

fn invalid_input(message: &str) -> Response {
    sp_error(StatusCode::BAD_REQUEST, "InvalidInput", message)
}

fn lwa_error(status: StatusCode, error: &str, description: &str) -> Response {
    (status, Json(json!({ "error_description": description, "error": error }))).into_response()
}

// ---------------------------------------------------------------------------------
// Seller Central consent.

fn error_page(code: &str, message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Html(format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>Seller Central sandbox: error</title></head><body><h1>We're sorry</h1><p>{}</p><p>Error code: {}</p></body></html>",
            seed::html_escape(message),
            seed::html_escape(code)
        )),
    )
        .into_response()
}

/// The app and effective redirect URI of a consent request, or an error page.
fn consent_target(fake: &AmazonFake, p: &HashMap<String, String>) -> Result<(String, FakeApp, String), Box<Response>> {
    let application_id = p.get("application_id").cloned().unwrap_or_default();
    let Some((client_id, app)) = fake.app_by_application_id(&application_id) else {
        return Err(Box::new(error_page(
            "MD1000",
            "The application was not found or is not available for authorization.",
        )));
    };
    if p.get("version").is_some_and(|v| v != "beta") {
        return Err(Box::new(error_page("MD1000", "The version parameter may only be beta.")));
    }
    let redirect = match p.get("redirect_uri").filter(|r| !r.is_empty()) {
        Some(r) if *r != app.redirect_uri => {
            return Err(Box::new(error_page(
                "MD5101",
                "The redirect_uri is not one of the application's OAuth redirect URIs.",
            )));
        }
        _ => app.redirect_uri.clone(),
    };
    if p.get("state").is_none_or(String::is_empty) {
        return Err(Box::new(error_page("MD9010", "The state parameter is required.")));
    }
    Ok((client_id, app, redirect))
}

async fn consent_page(State(fake): State<Arc<AmazonFake>>, Query(p): Query<HashMap<String, String>>) -> Response {
    let (_, app, redirect) = match consent_target(&fake, &p) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    let esc = seed::html_escape;
    let version = p
        .get("version")
        .map(|v| format!(r#"<input type="hidden" name="version" value="{}">"#, esc(v)))
        .unwrap_or_default();
    Html(format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>Seller Central sandbox: authorize application</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:3em auto">
<h1>Authorize Shipgate</h1>
<p>Shipgate ({app_id}) would like access to your Amazon selling account: orders, including buyer shipping addresses, and shipment confirmation.</p>
<form method="post" action="consent">
<input type="hidden" name="application_id" value="{app_id}"><input type="hidden" name="state" value="{state}"><input type="hidden" name="redirect_uri" value="{redirect}">{version}
<button type="submit" name="decision" value="agree">I Agree</button>
<button type="submit" name="decision" value="cancel">Cancel</button>
</form></body></html>"#,
        app_id = esc(&app.application_id),
        state = esc(p.get("state").map(String::as_str).unwrap_or_default()),
        redirect = esc(&redirect),
    ))
    .into_response()
}

async fn consent_submit(State(fake): State<Arc<AmazonFake>>, body: Bytes) -> Response {
    let p: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let (client_id, _, redirect) = match consent_target(&fake, &p) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    if p.get("decision").map(String::as_str) != Some("agree") {
        return Html("<!doctype html><html><body><p>You did not authorize the application. You can close this window.</p></body></html>")
            .into_response();
    }
    let code = seed::random_alnum(20);
    lock(&fake.tokens).codes.insert(
        code.clone(),
        Code { client_id, redirect_uri: redirect.clone(), expires: Utc::now() + Duration::seconds(CODE_TTL_SECONDS) },
    );
    fake.remember(&code);
    let state = p.get("state").cloned().unwrap_or_default();
    Redirect::to(&seed::append_query(
        &redirect,
        &[("state", &state), ("selling_partner_id", SANDBOX_SELLING_PARTNER_ID), ("spapi_oauth_code", &code)],
    ))
    .into_response()
}

// ---------------------------------------------------------------------------------
// Login with Amazon.

fn lwa_params(headers: &HeaderMap, body: &Bytes) -> HashMap<String, String> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        if let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(body) {
            return m
                .into_iter()
                .filter_map(|(k, v)| match v {
                    Value::String(s) => Some((k, s)),
                    Value::Null => None,
                    other => Some((k, other.to_string())),
                })
                .collect();
        }
        return HashMap::new();
    }
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

fn mint_access(fake: &AmazonFake, t: &mut Tokens, client_id: &str) -> (String, i64) {
    let access = format!("Atza|IwEB{}", seed::random_alnum(120));
    let ttl = *lock(&fake.access_ttl);
    t.access.insert(
        access.clone(),
        AccessToken { client_id: client_id.to_owned(), expires: Utc::now() + ttl, revoked: false },
    );
    fake.remember(&access);
    (access, ttl.num_seconds())
}

async fn lwa_token(State(fake): State<Arc<AmazonFake>>, headers: HeaderMap, body: Bytes) -> Response {
    *lock(&fake.token_calls) += 1;
    let p = lwa_params(&headers, &body);
    let field = |k: &str| p.get(k).cloned().filter(|v| !v.is_empty());
    let missing = |k: &str| {
        lwa_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &format!("The request is missing a required parameter : {k}"),
        )
    };
    let Some(grant_type) = field("grant_type") else {
        return missing("grant_type");
    };
    let (Some(client_id), Some(secret)) = (field("client_id"), field("client_secret")) else {
        return missing(if field("client_id").is_none() { "client_id" } else { "client_secret" });
    };
    let app = lock(&fake.apps).get(&client_id).cloned();
    if app.is_none_or(|a| a.client_secret != secret) {
        return lwa_error(StatusCode::UNAUTHORIZED, "invalid_client", "Client authentication failed");
    }
    let mut t = lock(&fake.tokens);
    match grant_type.as_str() {
        "authorization_code" => {
            let Some(code) = field("code") else { return missing("code") };
            let Some(redirect) = field("redirect_uri") else { return missing("redirect_uri") };
            // Codes are single-use and short-lived.
            match t.codes.remove(&code) {
                Some(c) if c.client_id == client_id && c.expires > Utc::now() => {
                    if c.redirect_uri != redirect {
                        return lwa_error(
                            StatusCode::BAD_REQUEST,
                            "invalid_grant",
                            "The redirect URI provided does not match the one used in the authorization request",
                        );
                    }
                }
                _ => {
                    return lwa_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        "The request has an invalid grant parameter : code",
                    );
                }
            }
            let refresh = format!("Atzr|IwEB{}", seed::random_alnum(300));
            t.refresh.insert(refresh.clone(), RefreshToken { client_id: client_id.clone(), revoked: false });
            fake.remember(&refresh);
            let (access, expires_in) = mint_access(&fake, &mut t, &client_id);
            Json(json!({ "access_token": access, "refresh_token": refresh, "token_type": "bearer", "expires_in": expires_in }))
                .into_response()
        }
        "refresh_token" => {
            let Some(refresh) = field("refresh_token") else { return missing("refresh_token") };
            match t.refresh.get(&refresh) {
                Some(r) if r.client_id == client_id && !r.revoked => {}
                _ => {
                    return lwa_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        "The request has an invalid grant parameter : refresh_token",
                    );
                }
            }
            let (access, expires_in) = mint_access(&fake, &mut t, &client_id);
            Json(json!({ "access_token": access, "refresh_token": refresh, "token_type": "bearer", "expires_in": expires_in }))
                .into_response()
        }
        _ => lwa_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The authorization grant type is not supported",
        ),
    }
}

// ---------------------------------------------------------------------------------
// SP-API.

fn check_token(fake: &AmazonFake, headers: &HeaderMap) -> Result<(), Box<Response>> {
    let token = headers.get("x-amz-access-token").and_then(|v| v.to_str().ok()).map(str::trim);
    let t = lock(&fake.tokens);
    let denied = |msg: &str| Err(Box::new(sp_error(StatusCode::FORBIDDEN, "Unauthorized", msg)));
    match token.and_then(|tok| t.access.get(tok)) {
        Some(a) if a.revoked || lock(&fake.apps).get(&a.client_id).is_none() => {
            denied("Access to requested resource is denied.")
        }
        Some(a) if a.expires <= Utc::now() => denied("The access token you provided has expired."),
        Some(_) => Ok(()),
        None => denied("Access to requested resource is denied."),
    }
}

fn money(cents: i64) -> Value {
    json!({ "CurrencyCode": "USD", "Amount": seed::cents(cents) })
}

fn order_json(o: &AmzOrder) -> Value {
    let r = seed::recipient(o.recipient);
    let ordered: u32 = o.items.iter().map(|i| i.quantity).sum();
    let shipped: u32 = o.items.iter().map(|i| i.shipped).sum();
    let total: i64 = o.items.iter().map(|i| i.unit_cents * i64::from(i.quantity)).sum::<i64>() + o.shipping_cents;
    let mut address = json!({
        "Name": r.name,
        "AddressLine1": r.line1,
        "City": r.city,
        "PostalCode": r.postal_code,
        "CountryCode": r.country,
        "Phone": r.phone,
        "AddressType": "Residential",
    });
    if let Some(l2) = &r.line2 {
        address["AddressLine2"] = json!(l2);
    }
    if let Some(st) = &r.state {
        address["StateOrRegion"] = json!(st);
    }
    json!({
        "AmazonOrderId": o.id,
        "PurchaseDate": amz_time(o.purchased),
        "LastUpdateDate": amz_time(o.updated),
        "OrderStatus": o.status,
        "FulfillmentChannel": "MFN",
        "SalesChannel": "Amazon.com",
        "ShipServiceLevel": "Std US D2D Dom",
        "OrderTotal": money(total),
        "NumberOfItemsShipped": shipped,
        "NumberOfItemsUnshipped": ordered - shipped.min(ordered),
        "PaymentMethod": "Other",
        "PaymentMethodDetails": ["Standard"],
        "MarketplaceId": o.marketplace_id,
        "ShipmentServiceLevelCategory": "Standard",
        "OrderType": "StandardOrder",
        "EarliestShipDate": amz_time(o.purchased + Duration::days(1)),
        "LatestShipDate": amz_time(o.purchased + Duration::days(3)),
        "EarliestDeliveryDate": amz_time(o.purchased + Duration::days(5)),
        "LatestDeliveryDate": amz_time(o.purchased + Duration::days(21)),
        "IsBusinessOrder": false,
        "IsPrime": false,
        "IsPremiumOrder": false,
        "IsGlobalExpressEnabled": false,
        "IsReplacementOrder": false,
        "IsSoldByAB": false,
        "IsISPU": false,
        "IsAccessPointOrder": false,
        "HasRegulatedItems": false,
        // Real SP-API returns these two only with a Restricted Data Token.
        "ShippingAddress": address,
        "BuyerInfo": {
            "BuyerEmail": format!("{}@marketplace.amazon.com", &seed::recipient(o.recipient).buyer.replace('_', "")),
            "BuyerName": r.name,
        },
    })
}

fn throttled(rate: &'static str) -> Response {
    let mut r = rate_limited(
        sp_error(StatusCode::TOO_MANY_REQUESTS, "QuotaExceeded", "You exceeded your quota for the requested resource."),
        rate,
    );
    r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    r
}

/// All values of a list parameter, repeated or comma-separated.
fn list_param(pairs: &[(String, String)], name: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == name)
        .flat_map(|(_, v)| v.split(',').map(|s| s.trim().to_owned()))
        .filter(|s| !s.is_empty())
        .collect()
}

async fn get_orders(
    State(fake): State<Arc<AmazonFake>>,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    *lock(&fake.order_calls) += 1;
    if let Err(r) = check_token(&fake, &headers) {
        return *r;
    }
    {
        let mut throttle = lock(&fake.throttle_next);
        if *throttle > 0 {
            *throttle -= 1;
            return throttled(RATE_GET_ORDERS);
        }
    }
    let marketplaces = list_param(&pairs, "MarketplaceIds");
    if marketplaces.is_empty() {
        return invalid_input("Missing or invalid request parameters: [MarketplaceIds]");
    }
    if marketplaces.len() > 50 {
        return invalid_input("MarketplaceIds accepts at most 50 values.");
    }
    if let Some(m) = marketplaces.iter().find(|m| !MARKETPLACE_IDS.contains(&m.as_str())) {
        return invalid_input(&format!("Invalid Marketplace ID: {m}"));
    }
    let one =
        |name: &str| pairs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone()).filter(|v| !v.is_empty());
    let page = match one("NextToken") {
        Some(token) => match lock(&fake.pages).get(&token).cloned() {
            Some(p) => p,
            None => return invalid_input("Invalid NextToken."),
        },
        None => match first_page(&fake, &pairs, &marketplaces) {
            Ok(p) => p,
            Err(r) => return *r,
        },
    };
    {
        let mut malformed = lock(&fake.malformed_next);
        if *malformed {
            *malformed = false;
            return request_id(
                (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "application/json")],
                    r#"{"payload":{"Orders":[{"AmazonOrderId":12,"OrderTotal":"oops","LastUpdateDate":"#,
                )
                    .into_response(),
            );
        }
    }
    let end = (page.offset + page.max).min(page.ids.len());
    let orders = lock(&fake.orders);
    let listed: Vec<Value> = page.ids[page.offset..end]
        .iter()
        .filter_map(|id| orders.iter().find(|o| o.id == *id))
        .map(order_json)
        .collect();
    drop(orders);
    let mut payload = json!({ "Orders": listed });
    payload[page.bound.0] = json!(page.bound.1.clone());
    if end < page.ids.len() {
        let token = format!("{}{}", seed::random_alnum(40), "==");
        payload["NextToken"] = json!(token);
        lock(&fake.pages).insert(token, PageState { offset: end, ..page });
    }
    sp_ok(json!({ "payload": payload }), RATE_GET_ORDERS)
}

/// Validates a first getOrders call and snapshots its result set.
fn first_page(
    fake: &AmazonFake,
    pairs: &[(String, String)],
    marketplaces: &[String],
) -> Result<PageState, Box<Response>> {
    let bad = |m: &str| Box::new(invalid_input(m));
    let one =
        |name: &str| pairs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty());
    let date = |name: &str| -> Result<Option<DateTime<Utc>>, Box<Response>> {
        match one(name) {
            None => Ok(None),
            Some(v) => parse_iso(v).map(Some).ok_or_else(|| bad(&format!("{name} is not a valid ISO 8601 date: {v}"))),
        }
    };
    let (created_after, updated_after) = (date("CreatedAfter")?, date("LastUpdatedAfter")?);
    let (created_before, updated_before) = (date("CreatedBefore")?, date("LastUpdatedBefore")?);
    let now = Utc::now();
    let (by_update, after, before) = match (created_after, updated_after) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(bad("Exactly one of CreatedAfter and LastUpdatedAfter must be specified."));
        }
        (Some(a), None) => {
            if updated_before.is_some() {
                return Err(bad("LastUpdatedBefore can only be used with LastUpdatedAfter."));
            }
            (false, a, created_before)
        }
        (None, Some(a)) => {
            if created_before.is_some() {
                return Err(bad("CreatedBefore can only be used with CreatedAfter."));
            }
            (true, a, updated_before)
        }
    };
    if let Some(b) = before {
        if b <= after {
            return Err(bad("The …Before date must be later than the …After date."));
        }
        if b > now - Duration::minutes(2) {
            return Err(bad("The …Before date must be at least two minutes before the time of the request."));
        }
    }
    if after > now {
        return Err(bad("The …After date must not be in the future."));
    }
    let before = before.unwrap_or(now);
    let statuses = list_param(pairs, "OrderStatuses");
    if let Some(s) = statuses.iter().find(|s| !ORDER_STATUSES.contains(&s.as_str())) {
        return Err(bad(&format!("Invalid OrderStatuses value: {s}")));
    }
    let channels = list_param(pairs, "FulfillmentChannels");
    if let Some(c) = channels.iter().find(|c| *c != "AFN" && *c != "MFN") {
        return Err(bad(&format!("Invalid FulfillmentChannels value: {c}")));
    }
    let max = match one("MaxResultsPerPage") {
        None => MAX_RESULTS_PER_PAGE,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=MAX_RESULTS_PER_PAGE).contains(&n) => n,
            _ => return Err(bad("MaxResultsPerPage must be a number between 1 and 100.")),
        },
    };
    let mut matching: Vec<(DateTime<Utc>, String)> = lock(&fake.orders)
        .iter()
        .filter(|o| {
            let t = if by_update { o.updated } else { o.purchased };
            marketplaces.contains(&o.marketplace_id)
                && t >= after
                && t <= before
                && (statuses.is_empty() || statuses.contains(&o.status))
                && (channels.is_empty() || channels.iter().any(|c| c == "MFN"))
        })
        .map(|o| (if by_update { o.updated } else { o.purchased }, o.id.clone()))
        .collect();
    matching.sort();
    let bound = (if by_update { "LastUpdatedBefore" } else { "CreatedBefore" }, amz_time(before));
    Ok(PageState { ids: matching.into_iter().map(|(_, id)| id).collect(), offset: 0, max, bound })
}

fn find_order(fake: &AmazonFake, order_id: &str) -> Result<AmzOrder, Box<Response>> {
    if !is_order_id(order_id) {
        return Err(Box::new(invalid_input(&format!("Invalid AmazonOrderId: {order_id}"))));
    }
    lock(&fake.orders)
        .iter()
        .find(|o| o.id == order_id)
        .cloned()
        .ok_or_else(|| Box::new(sp_error(StatusCode::NOT_FOUND, "NotFound", "The requested order was not found.")))
}

async fn get_order(State(fake): State<Arc<AmazonFake>>, headers: HeaderMap, Path(order_id): Path<String>) -> Response {
    if let Err(r) = check_token(&fake, &headers) {
        return *r;
    }
    match find_order(&fake, &order_id) {
        Ok(o) => sp_ok(json!({ "payload": order_json(&o) }), RATE_GET_ORDER),
        Err(r) => *r,
    }
}

async fn get_order_items(
    State(fake): State<Arc<AmazonFake>>,
    headers: HeaderMap,
    Path(order_id): Path<String>,
) -> Response {
    if let Err(r) = check_token(&fake, &headers) {
        return *r;
    }
    let o = match find_order(&fake, &order_id) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let zero = money(0);
    let items: Vec<Value> = o
        .items
        .iter()
        .enumerate()
        .map(|(n, i)| {
            json!({
                "ASIN": i.asin,
                "SellerSKU": i.sku,
                "OrderItemId": i.order_item_id,
                "Title": i.title,
                "QuantityOrdered": i.quantity,
                "QuantityShipped": i.shipped,
                "ProductInfo": { "NumberOfItems": "1" },
                "ItemPrice": money(i.unit_cents * i64::from(i.quantity)),
                "ShippingPrice": money(if n == 0 { o.shipping_cents } else { 0 }),
                "ItemTax": zero,
                "ShippingTax": zero,
                "ShippingDiscount": zero,
                "PromotionDiscount": zero,
                "PromotionDiscountTax": zero,
                "IsGift": "false",
                "ConditionId": "New",
                "ConditionSubtypeId": "New",
                "IsTransparency": false,
                "SerialNumberRequired": false,
            })
        })
        .collect();
    sp_ok(json!({ "payload": { "AmazonOrderId": o.id, "OrderItems": items } }), RATE_GET_ORDER_ITEMS)
}

async fn confirm_shipment(
    State(fake): State<Arc<AmazonFake>>,
    headers: HeaderMap,
    Path(order_id): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(r) = check_token(&fake, &headers) {
        return *r;
    }
    let order = match find_order(&fake, &order_id) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return invalid_input("The request body is not valid JSON.");
    };
    let text = |v: &Value| v.as_str().unwrap_or_default().trim().to_owned();
    if text(&req["marketplaceId"]) != order.marketplace_id {
        return invalid_input("marketplaceId is missing or does not match the order's marketplace.");
    }
    let pkg = &req["packageDetail"];
    if !pkg.is_object() {
        return invalid_input("packageDetail is required.");
    }
    if !text(&pkg["packageReferenceId"]).parse::<u64>().is_ok_and(|n| n > 0) {
        return invalid_input("packageReferenceId must be a positive number given as a string.");
    }
    let carrier = text(&pkg["carrierCode"]);
    if carrier.is_empty() {
        return invalid_input("carrierCode is required.");
    }
    if carrier == "Other" && text(&pkg["carrierName"]).is_empty() {
        return invalid_input("carrierName is required when carrierCode is Other.");
    }
    if text(&pkg["trackingNumber"]).is_empty() {
        return invalid_input("trackingNumber is required.");
    }
    if parse_iso(&text(&pkg["shipDate"])).is_none() {
        return invalid_input("shipDate is missing or not a valid ISO 8601 date.");
    }
    let Some(lines) = pkg["orderItems"].as_array().filter(|a| !a.is_empty()) else {
        return invalid_input("orderItems is required.");
    };
    let mut shipping: Vec<(String, u32)> = Vec::new();
    for l in lines {
        let id = text(&l["orderItemId"]);
        let qty = l["quantity"].as_u64().and_then(|q| u32::try_from(q).ok()).unwrap_or(0);
        let Some(item) = order.items.iter().find(|i| i.order_item_id == id) else {
            return invalid_input(&format!("Invalid orderItemId: {id}"));
        };
        let already = shipping.iter().filter(|(i, _)| *i == id).map(|(_, q)| *q).sum::<u32>();
        if qty == 0 || item.shipped + already + qty > item.quantity {
            return invalid_input(&format!("Invalid quantity for orderItemId {id}."));
        }
        shipping.push((id, qty));
    }
    if !matches!(order.status.as_str(), "Unshipped" | "PartiallyShipped") {
        return invalid_input(&format!("The order cannot be confirmed in status {}.", order.status));
    }
    {
        let mut orders = lock(&fake.orders);
        if let Some(o) = orders.iter_mut().find(|o| o.id == order_id) {
            for (id, qty) in &shipping {
                if let Some(item) = o.items.iter_mut().find(|i| i.order_item_id == *id) {
                    item.shipped += qty;
                }
            }
            let done = o.items.iter().all(|i| i.shipped >= i.quantity);
            o.status = if done { "Shipped" } else { "PartiallyShipped" }.to_owned();
            o.updated = Utc::now().trunc_subsecs(0);
        }
    }
    lock(&fake.fulfillments).push((order_id, req));
    request_id(rate_limited(StatusCode::NO_CONTENT.into_response(), RATE_CONFIRM_SHIPMENT))
}

// ---------------------------------------------------------------------------------
// Seed data.

/// One realistic order, deterministic in `i`: 1-3 items, updated `base + 7i s`.
fn seed_order(i: usize, base: DateTime<Utc>) -> AmzOrder {
    let updated = base + Duration::seconds(i64::try_from(i).unwrap_or(0) * 7);
    let shipped = i % 10 == 7;
    let items = (0..1 + i % 3)
        .map(|l| {
            let quantity = 1 + ((i + l) % 3) as u32;
            AmzItem {
                order_item_id: format!("{:014}", 10_000_000_000_000u64 + (i * 10 + l) as u64),
                asin: format!("B0{:08X}", 0x1A2B_3C00u32 + ((i + l) % 8) as u32),
                sku: seed::sku(i + l),
                title: seed::title(i + l),
                quantity,
                shipped: if shipped { quantity } else { 0 },
                unit_cents: 299 + ((i * 11 + l * 17) % 4000) as i64,
            }
        })
        .collect();
    AmzOrder {
        id: format!(
            "11{}-{:07}-{:07}",
            1 + i % 4,
            (1_234_567 + i * 7_919) % 10_000_000,
            (7_654_321 + i * 104_729) % 10_000_000
        ),
        status: if shipped { "Shipped" } else { "Unshipped" }.to_owned(),
        purchased: updated - Duration::hours(2),
        updated,
        recipient: i,
        marketplace_id: SANDBOX_MARKETPLACE_ID.to_owned(),
        items,
        shipping_cents: 399 + (i % 4) as i64 * 100,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_ids_have_the_3_7_7_shape_and_are_unique() {
        let base = seed::base_time();
        let mut ids: Vec<String> = (0..1000).map(|i| seed_order(i, base).id).collect();
        assert!(ids.iter().all(|id| is_order_id(id)), "{:?}", &ids[..3]);
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 1000);
        assert!(!is_order_id("123-1234567-123456"));
        assert!(!is_order_id("12-34567-89012"));
    }

    #[test]
    fn iso_dates_parse_in_the_accepted_forms() {
        let t = parse_iso("2026-01-02T03:04:05Z");
        assert_eq!(t.map(amz_time).as_deref(), Some("2026-01-02T03:04:05Z"));
        assert_eq!(parse_iso("2026-01-02T04:04:05+01:00"), t);
        assert_eq!(parse_iso("2026-01-02T03:04:05"), t);
        assert_eq!(parse_iso("2026-01-02").map(amz_time).as_deref(), Some("2026-01-02T00:00:00Z"));
        // An unencoded `+` arrives as a space.
        assert_eq!(parse_iso("2026-01-02T04:04:05 01:00"), None);
    }

    #[test]
    fn seeded_items_and_totals_are_consistent() {
        let o = seed_order(5, seed::base_time());
        assert_eq!(o.items.len(), 3);
        let v = order_json(&o);
        assert_eq!(v["NumberOfItemsUnshipped"], json!(o.items.iter().map(|i| i.quantity).sum::<u32>()));
        assert_eq!(v["ShippingAddress"]["CountryCode"], json!(seed::recipient(5).country));
        assert!(v["ShippingAddress"].get("StateOrRegion").is_some());
    }
}
