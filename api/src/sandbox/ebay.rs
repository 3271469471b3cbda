//! A fake eBay, written from eBay's own published documents (the Sell Fulfillment v1 and
//! Commerce Identity v1 OpenAPI contracts, the OAuth guide pages, the Trading API
//! `ShippingCarrierCodeType` list) and independent of the eBay connector (no shared types,
//! encoding or paging code). Every fact and every CHOICE is listed, with its source, in
//! `api/src/connectors/marketplace/ebay/WIRE.md`.
//!
//! Served: the consent page ("I Agree"), the Basic-auth token endpoint (authorization_code
//! and refresh_token grants, single-use codes, scopes recorded per grant and per token,
//! `invalid_grant` / `invalid_scope`), `getOrders` (filters `creationdate`,
//! `lastmodifieddate`, `orderfulfillmentstatus`, `orderIds`; `limit/offset/next/prev`),
//! `getOrder`, `createShippingFulfillment` (carrier codes checked against eBay's list,
//! already-fulfilled line items refused), `getShippingFulfillments`,
//! `getShippingFulfillment`, the Identity API `getUser` (refused without an identity
//! scope), eBay-shaped errors, and fault injection for tests (429, malformed pages, lost
//! write answers).

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
};

use axum::{
    Form, Json, Router,
    body::Bytes,
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

/// The base scope, "View public data from eBay".
pub const SCOPE_BASE: &str = "https://api.ebay.com/oauth/api_scope";
/// Needed by `createShippingFulfillment`; also accepted by every Fulfillment read.
pub const SCOPE_FULFILLMENT: &str = "https://api.ebay.com/oauth/api_scope/sell.fulfillment";
/// Accepted by `getOrders`, `getOrder`, `getShippingFulfillments`, `getShippingFulfillment`.
pub const SCOPE_FULFILLMENT_READONLY: &str = "https://api.ebay.com/oauth/api_scope/sell.fulfillment.readonly";
/// The Identity API's default scope (username, userId, account type…).
pub const SCOPE_IDENTITY_READONLY: &str = "https://api.ebay.com/oauth/api_scope/commerce.identity.readonly";
/// Every scope `getUser` accepts (commerce_identity_v1_oas3 `security`).
pub const IDENTITY_SCOPES: &[&str] = &[
    SCOPE_IDENTITY_READONLY,
    "https://api.ebay.com/oauth/api_scope/commerce.identity.status.readonly",
    "https://api.ebay.com/oauth/api_scope/commerce.identity.name.readonly",
    "https://api.ebay.com/oauth/api_scope/commerce.identity.address.readonly",
    "https://api.ebay.com/oauth/api_scope/commerce.identity.email.readonly",
    "https://api.ebay.com/oauth/api_scope/commerce.identity.phone.readonly",
];

/// A documented subset of eBay's `ShippingCarrierCodeType` (eBay's Trading API; the values
/// `GeteBayDetails`/`ShippingCarrierDetails` returns), matched exactly. Source:
/// `eBay/trading-api-java-sdk:source/core/src/com/ebay/soap/eBLBaseComponents/ShippingCarrierCodeType.java`
/// and developer.ebay.com/devzone/xml/docs/reference/ebay/types/ShippingCarrierCodeType.html.
/// Values eBay marks "Not currently supported" (e.g. `TNT`, `SFCExpress`) are left out.
pub const SHIPPING_CARRIER_CODES: &[&str] = &[
    // Global integrators and US
    "UPS",
    "USPS",
    "FedEx",
    "DHL",
    "DHLEXPRESS",
    "DHLGlobalMail",
    "FedExSmartPost",
    "UPSMailInnovations",
    "USPSCeP",
    "USPSPMI",
    "Landmark",
    "Iparcel",
    "CanPar",
    // Europe
    "DeutschePost",
    "Hermes",
    "DPD",
    "GLS",
    "RoyalMail",
    "Parcelforce",
    "Yodel",
    "LAPOSTE",
    "Colissimo",
    "Chronopost",
    "Correos",
    "PostNL",
    "PosteItaliane",
    "SwissPost",
    // Asia-Pacific, including the Chinese carriers eBay lists
    "ChinaPost",
    "HongKongPost",
    "FourPX",
    "FourPXCHINA",
    "FourPXExpress",
    "FourPXLTD",
    "YANWEN",
    "CHUKOU1",
    "FLYTExpress",
    "SuntekExpressLTD",
    "Winit",
    "SINGAPOREPOST",
    "JapanPost",
    "KoreaPost",
    "AustraliaPost",
    "Quantium",
    // "Use this code for any carrier not listed here."
    "Other",
];

/// The seller every seeded order belongs to (`Order.sellerId`, the eBay user ID / user name).
pub const SELLER_USERNAME: &str = "shipgate_demo_seller";
/// The seller's immutable Identity API `userId`.
pub const SELLER_USER_ID: &str = "nY8T0qhwRxa";

pub const SANDBOX_CLIENT_ID: &str = "ShipgateSandbox-SBX-0000";
pub const SANDBOX_CLIENT_SECRET: &str = "SBX-sandbox-client-secret-0000";
pub const SANDBOX_RU_NAME: &str = "Shipgate_Sandbox-Shipgate-SBX-RuName";

struct AccessToken {
    expires: DateTime<Utc>,
    refresh: String,
    scopes: Vec<String>,
}

struct RefreshToken {
    client_id: String,
    revoked: bool,
    scopes: Vec<String>,
}

struct AuthCode {
    client_id: String,
    expires: DateTime<Utc>,
    scopes: Vec<String>,
}

#[derive(Default)]
struct Tokens {
    access: HashMap<String, AccessToken>,
    refresh: HashMap<String, RefreshToken>,
    codes: HashMap<String, AuthCode>,
}

/// (date, orderId, index into `orders`), sorted.
type DateIndex = Vec<(String, String, usize)>;

/// Shared state; tests keep a handle to inspect and inject faults.
pub struct EbayFake {
    pub apps: Mutex<HashMap<String, FakeApp>>,
    tokens: Mutex<Tokens>,
    /// Orders as `getOrders` returns them (`cancelStatus.cancelRequests` always empty there,
    /// as eBay documents; `getOrder` fills it in).
    pub orders: Mutex<Vec<Value>>,
    /// Sorted by (lastModifiedDate, orderId), built on first read and dropped when orders
    /// change: a page costs a binary search, not a sort of every order.
    by_modified: Mutex<Option<DateIndex>>,
    /// Sorted by (creationDate, orderId); creation dates never change.
    by_created: Mutex<Option<DateIndex>>,
    pub access_ttl: Mutex<Duration>,
    pub token_calls: Mutex<u32>,
    pub order_calls: Mutex<u32>,
    /// Answer the next N getOrders calls with 429 + Retry-After: 1.
    pub throttle_next: Mutex<u32>,
    /// Answer getOrders at this offset with a malformed page.
    pub malformed_at_offset: Mutex<Option<usize>>,
    /// Every ACCEPTED createShippingFulfillment as (orderId, request body).
    pub fulfillments: Mutex<Vec<(String, Value)>>,
    /// The next N createShippingFulfillment calls are applied, then answered 503 with a
    /// non-eBay body (the answer was lost on the way).
    pub lose_next_writes: Mutex<u32>,
    /// Every createShippingFulfillment call received, accepted or refused.
    pub write_calls: Mutex<u32>,
    /// Every Identity `getUser` call received.
    pub identity_calls: Mutex<u32>,
    /// What `getUser` answers (tests may edit it).
    pub user: Mutex<Value>,
    /// orderId → its ShippingFulfillment records, oldest first.
    shipping: Mutex<HashMap<String, Vec<Value>>>,
    /// orderId → its CancelRequest records (only `getOrder` shows them).
    cancel_requests: Mutex<HashMap<String, Vec<Value>>>,
    seq: Mutex<u64>,
    /// Base URL the fake is reachable at (for absolute `next` links and `Location`).
    pub base_url: Mutex<String>,
}

impl EbayFake {
    pub fn new(order_count: usize) -> Arc<Self> {
        let base = seed::base_time();
        let mut orders = Vec::with_capacity(order_count);
        let mut shipping = HashMap::new();
        let mut cancels = HashMap::new();
        for i in 0..order_count {
            let mut o = order_json(i, base);
            let id = o["orderId"].as_str().unwrap_or_default().to_owned();
            let modified = o["lastModifiedDate"].as_str().and_then(parse_time).unwrap_or(base);
            if i % 10 == 3 {
                // About 10 % were shipped on eBay already.
                let record = json!({
                    "fulfillmentId": format!("9400{i:018}"),
                    "shipmentTrackingNumber": format!("9400{i:018}"),
                    "shippingCarrierCode": "USPS",
                    "shippedDate": stamp(modified - Duration::minutes(30)),
                    "lineItems": line_refs(&o, None),
                });
                mark_fulfilled(&mut o, None);
                shipping.insert(id, vec![record]);
            } else if i % 20 == 7 {
                // About 5 % were cancelled on eBay.
                let requested = stamp(modified - Duration::minutes(50));
                let done = stamp(modified);
                o["cancelStatus"] = json!({ "cancelState": "CANCELED", "cancelledDate": done, "cancelRequests": [] });
                o["orderPaymentStatus"] = json!("FULLY_REFUNDED");
                cancels.insert(
                    id,
                    vec![json!({
                        "cancelRequestId": format!("5{i:09}"),
                        "cancelInitiator": "Buyer",
                        "cancelReason": "ORDERED_BY_MISTAKE",
                        "cancelRequestedDate": requested,
                        "cancelCompletedDate": done,
                        "cancelRequestState": "COMPLETED"
                    })],
                );
            }
            orders.push(o);
        }
        Arc::new(Self {
            apps: Mutex::new(HashMap::new()),
            tokens: Mutex::new(Tokens::default()),
            orders: Mutex::new(orders),
            by_modified: Mutex::new(None),
            by_created: Mutex::new(None),
            access_ttl: Mutex::new(Duration::seconds(7200)),
            token_calls: Mutex::new(0),
            order_calls: Mutex::new(0),
            throttle_next: Mutex::new(0),
            malformed_at_offset: Mutex::new(None),
            fulfillments: Mutex::new(Vec::new()),
            lose_next_writes: Mutex::new(0),
            write_calls: Mutex::new(0),
            identity_calls: Mutex::new(0),
            user: Mutex::new(json!({
                "userId": SELLER_USER_ID,
                "username": SELLER_USERNAME,
                "accountType": "BUSINESS",
                "registrationMarketplaceId": "EBAY_US",
                "status": "CONFIRMED",
                "businessAccount": { "name": "Shipgate Demo Store" }
            })),
            shipping: Mutex::new(shipping),
            cancel_requests: Mutex::new(cancels),
            seq: Mutex::new(0),
            base_url: Mutex::new(String::new()),
        })
    }

    pub fn register_app(&self, client_id: &str, app: FakeApp) {
        lock(&self.apps).insert(client_id.to_owned(), app);
    }

    /// Expires every access token now (the next API call gets 401).
    pub fn expire_access_tokens(&self) {
        let past = Utc::now() - Duration::seconds(1);
        for v in lock(&self.tokens).access.values_mut() {
            v.expires = past;
        }
    }

    /// Every token the fake has issued (tests grep logs for them).
    pub fn issued_secrets(&self) -> Vec<String> {
        let t = lock(&self.tokens);
        t.access.keys().chain(t.refresh.keys()).cloned().collect()
    }

    /// Revokes every refresh token (the seller withdrew consent).
    pub fn revoke_all(&self) {
        let mut t = lock(&self.tokens);
        for v in t.refresh.values_mut() {
            v.revoked = true;
        }
        t.access.clear();
    }

    /// The scopes an access token was minted with (`None`: unknown token).
    pub fn access_token_scopes(&self, access_token: &str) -> Option<Vec<String>> {
        lock(&self.tokens).access.get(access_token).map(|a| a.scopes.clone())
    }

    /// The scopes of every grant (one entry per refresh token issued), sorted.
    pub fn granted_scopes(&self) -> Vec<Vec<String>> {
        let mut v: Vec<Vec<String>> = lock(&self.tokens).refresh.values().map(|r| r.scopes.clone()).collect();
        v.sort();
        v
    }

    /// Marks the first `n` orders as modified now (with a new `orderFulfillmentStatus`).
    pub fn touch_orders(&self, n: usize, status: &str) {
        let now = stamp(Utc::now());
        for o in lock(&self.orders).iter_mut().take(n) {
            o["lastModifiedDate"] = json!(now);
            o["orderFulfillmentStatus"] = json!(status);
        }
        *lock(&self.by_modified) = None;
    }

    /// The order as `getOrder` shows it (with its cancel requests).
    pub fn order(&self, order_id: &str) -> Option<Value> {
        let mut o = lock(&self.orders).iter().find(|o| o["orderId"] == order_id)?.clone();
        o["cancelStatus"]["cancelRequests"] =
            json!(lock(&self.cancel_requests).get(order_id).cloned().unwrap_or_default());
        Some(o)
    }

    /// The order's ShippingFulfillment records, as `getShippingFulfillments` lists them.
    pub fn shipping_fulfillments(&self, order_id: &str) -> Vec<Value> {
        lock(&self.shipping).get(order_id).cloned().unwrap_or_default()
    }

    /// The seller shipped the order on eBay (outside Shipgate): every line item not yet
    /// fulfilled goes into one new USPS fulfillment, the order becomes FULFILLED and its
    /// lastModifiedDate is now.
    pub fn ship_on_platform(&self, platform_order_id: &str) {
        let now = Utc::now();
        let tracking = format!("94001{:017}", self.next_seq());
        let mut orders = lock(&self.orders);
        let Some(o) = orders.iter_mut().find(|o| o["orderId"] == platform_order_id) else {
            return;
        };
        let open: Vec<String> = line_ids(o).into_iter().filter(|id| !line_fulfilled(o, id)).collect();
        if !open.is_empty() {
            let record = json!({
                "fulfillmentId": tracking,
                "shipmentTrackingNumber": tracking,
                "shippingCarrierCode": "USPS",
                "shippedDate": stamp(now),
                "lineItems": line_refs(o, Some(open.as_slice())),
            });
            mark_fulfilled(o, Some(open.as_slice()));
            lock(&self.shipping).entry(platform_order_id.to_owned()).or_default().push(record);
        }
        o["lastModifiedDate"] = json!(stamp(now));
        drop(orders);
        *lock(&self.by_modified) = None;
    }

    /// The order is cancelled on eBay: cancelState CANCELED, payment FULLY_REFUNDED, any
    /// open cancel request COMPLETED, lastModifiedDate now.
    pub fn cancel_on_platform(&self, platform_order_id: &str) {
        let now = stamp(Utc::now());
        let mut orders = lock(&self.orders);
        let Some(o) = orders.iter_mut().find(|o| o["orderId"] == platform_order_id) else {
            return;
        };
        o["cancelStatus"] = json!({ "cancelState": "CANCELED", "cancelledDate": now, "cancelRequests": [] });
        o["orderPaymentStatus"] = json!("FULLY_REFUNDED");
        o["lastModifiedDate"] = json!(now);
        let mut cancels = lock(&self.cancel_requests);
        let list = cancels.entry(platform_order_id.to_owned()).or_default();
        if list.is_empty() {
            list.push(json!({
                "cancelRequestId": format!("5{:09}", self.next_seq()),
                "cancelInitiator": "Buyer",
                "cancelReason": "ORDERED_BY_MISTAKE",
                "cancelRequestedDate": now,
                "cancelRequestState": "REQUESTED"
            }));
        }
        for r in list.iter_mut().filter(|r| r["cancelRequestState"] == "REQUESTED") {
            r["cancelRequestState"] = json!("COMPLETED");
            r["cancelCompletedDate"] = json!(now);
        }
        drop(cancels);
        drop(orders);
        *lock(&self.by_modified) = None;
    }

    /// The buyer asked to cancel: cancelState IN_PROGRESS with one REQUESTED cancel request
    /// (shown by `getOrder`), lastModifiedDate now.
    pub fn request_cancel_on_platform(&self, platform_order_id: &str) {
        let now = stamp(Utc::now());
        let mut orders = lock(&self.orders);
        let Some(o) = orders.iter_mut().find(|o| o["orderId"] == platform_order_id) else {
            return;
        };
        if o["cancelStatus"]["cancelState"] == "CANCELED" {
            return;
        }
        o["cancelStatus"]["cancelState"] = json!("IN_PROGRESS");
        o["lastModifiedDate"] = json!(now);
        lock(&self.cancel_requests).entry(platform_order_id.to_owned()).or_default().push(json!({
            "cancelRequestId": format!("5{:09}", self.next_seq()),
            "cancelInitiator": "Buyer",
            "cancelReason": "ORDERED_BY_MISTAKE",
            "cancelRequestedDate": now,
            "cancelRequestState": "REQUESTED"
        }));
        drop(orders);
        *lock(&self.by_modified) = None;
    }

    fn next_seq(&self) -> u64 {
        let mut s = lock(&self.seq);
        *s += 1;
        *s
    }

    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/oauth2/authorize", get(authorize))
            .route("/oauth2/consent", post(consent))
            .route("/identity/v1/oauth2/token", post(token))
            .route("/sell/fulfillment/v1/order", get(get_orders))
            .route("/sell/fulfillment/v1/order/{order_id}", get(get_order))
            .route(
                "/sell/fulfillment/v1/order/{order_id}/shipping_fulfillment",
                post(create_fulfillment).get(get_fulfillments),
            )
            .route("/sell/fulfillment/v1/order/{order_id}/shipping_fulfillment/{fulfillment_id}", get(get_fulfillment))
            .route("/commerce/identity/v1/user/", get(get_user))
            .with_state(self.clone())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// eBay's timestamp form: `2015-08-04T19:09:02.768Z`.
fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim()).ok().map(|d| d.with_timezone(&Utc))
}

fn random_token(prefix: &str) -> String {
    let mut b = [0u8; 24];
    rand::fill(&mut b);
    format!("{prefix}{}", STANDARD.encode(b))
}

fn line_ids(o: &Value) -> Vec<String> {
    o["lineItems"]
        .as_array()
        .map(|a| a.iter().filter_map(|l| l["lineItemId"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

fn line_fulfilled(o: &Value, line_id: &str) -> bool {
    o["lineItems"]
        .as_array()
        .is_some_and(|a| a.iter().any(|l| l["lineItemId"] == line_id && l["lineItemFulfillmentStatus"] == "FULFILLED"))
}

/// `[{lineItemId, quantity}]` for the given lines (all when `None`), quantities from the order.
fn line_refs(o: &Value, only: Option<&[String]>) -> Value {
    let refs: Vec<Value> = o["lineItems"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|l| only.is_none_or(|ids| ids.iter().any(|id| l["lineItemId"] == id.as_str())))
                .map(|l| json!({ "lineItemId": l["lineItemId"], "quantity": l["quantity"] }))
                .collect()
        })
        .unwrap_or_default();
    Value::Array(refs)
}

/// Marks lines FULFILLED (all when `None`) and derives orderFulfillmentStatus: FULFILLED
/// when every line is, IN_PROGRESS when some are.
fn mark_fulfilled(o: &mut Value, only: Option<&[String]>) {
    if let Some(lines) = o["lineItems"].as_array_mut() {
        for l in lines.iter_mut() {
            let hit = only.is_none_or(|ids| ids.iter().any(|id| l["lineItemId"] == id.as_str()));
            if hit {
                l["lineItemFulfillmentStatus"] = json!("FULFILLED");
            }
        }
    }
    let lines = o["lineItems"].as_array().cloned().unwrap_or_default();
    let done = lines.iter().filter(|l| l["lineItemFulfillmentStatus"] == "FULFILLED").count();
    o["orderFulfillmentStatus"] = json!(match done {
        0 => "NOT_STARTED",
        d if d == lines.len() => "FULFILLED",
        _ => "IN_PROGRESS",
    });
}

// ---------------------------------------------------------------------------------------
// Errors

/// `{"errors":[{errorId, domain, category, message, longMessage, parameters}]}`.
fn error_body(
    status: StatusCode,
    id: u32,
    domain: &str,
    category: &str,
    message: &str,
    long_message: &str,
    parameters: &[(&str, &str)],
) -> Response {
    let mut e = json!({ "errorId": id, "domain": domain, "category": category, "message": message, "longMessage": long_message });
    if !parameters.is_empty() {
        e["parameters"] = parameters.iter().map(|(n, v)| json!({ "name": n, "value": v })).collect();
    }
    (status, Json(json!({ "errors": [e] }))).into_response()
}

/// A Fulfillment API request error (`domain` API_FULFILLMENT, `category` REQUEST).
fn fulfillment_error(id: u32, message: &str, parameters: &[(&str, &str)]) -> Response {
    error_body(StatusCode::BAD_REQUEST, id, "API_FULFILLMENT", "REQUEST", message, message, parameters)
}

/// Token endpoint errors: `{"error","error_description"}`.
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (status, Json(json!({ "error": error, "error_description": description }))).into_response()
}

/// Consent-page errors, as eBay's authorize endpoint answers them.
fn consent_error(error: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error_id": error, "error_description": description, "http_status_code": 400 })),
    )
        .into_response()
}

/// Checks the bearer token and that it carries one of `scopes`.
fn check_call(fake: &EbayFake, headers: &HeaderMap, scopes: &[&str]) -> Result<(), Box<Response>> {
    let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return Err(Box::new(error_body(
            StatusCode::BAD_REQUEST,
            1002,
            "OAuth",
            "REQUEST",
            "Missing access token",
            "Access token is missing in the Authorization HTTP request header.",
            &[],
        )));
    };
    let Some(token) = value.strip_prefix("Bearer ") else {
        let scheme = value.split(' ').next().unwrap_or_default();
        let msg = format!("Token type in the Authorization header is invalid:{scheme}");
        return Err(Box::new(error_body(StatusCode::BAD_REQUEST, 1003, "OAuth", "REQUEST", &msg, &msg, &[])));
    };
    let t = lock(&fake.tokens);
    let live = t
        .access
        .get(token.trim())
        .filter(|a| a.expires > Utc::now() && t.refresh.get(&a.refresh).is_some_and(|r| !r.revoked));
    let Some(access) = live else {
        return Err(Box::new(error_body(
            StatusCode::UNAUTHORIZED,
            1001,
            "OAuth",
            "REQUEST",
            "Invalid access token",
            "Invalid access token. Check the value of the Authorization HTTP request header.",
            &[],
        )));
    };
    if !access.scopes.iter().any(|s| scopes.contains(&s.as_str())) {
        return Err(Box::new(error_body(
            StatusCode::FORBIDDEN,
            1100,
            "ACCESS",
            "REQUEST",
            "Access denied",
            "Insufficient permissions to fulfill the request.",
            &[],
        )));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// OAuth

#[derive(Deserialize)]
struct AuthorizeQuery {
    client_id: String,
    redirect_uri: String,
    response_type: String,
    scope: Option<String>,
    state: Option<String>,
}

fn split_scopes(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s.split_whitespace().map(str::to_owned).collect();
    v.sort();
    v.dedup();
    v
}

async fn authorize(State(fake): State<Arc<EbayFake>>, Query(q): Query<AuthorizeQuery>) -> Response {
    let app = lock(&fake.apps).get(&q.client_id).cloned();
    let Some(app) = app else {
        return consent_error("invalid_client", "client authentication failed");
    };
    // eBay wants the RuName here, never a URL.
    if q.redirect_uri != app.ru_name || q.response_type != "code" {
        return consent_error("invalid_request", "Input request parameters are invalid.");
    }
    let scopes = split_scopes(q.scope.as_deref().unwrap_or_default());
    if scopes.is_empty() || scopes.iter().any(|s| !s.starts_with(SCOPE_BASE)) {
        return consent_error(
            "invalid_scope",
            "The requested scope is invalid, unknown, malformed, or exceeds the scope granted to the client",
        );
    }
    let esc = |s: &str| s.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;");
    let scope_line = scopes.join(" ");
    Html(format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>eBay sandbox: grant access</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:3em auto">
<h1>Grant application access: Shipgate</h1>
<p>Shipgate would like to view and manage your orders and fulfillments (scopes: {scope}).</p>
<form method="post" action="consent">
<input type="hidden" name="client_id" value="{client}"><input type="hidden" name="state" value="{state}">
<input type="hidden" name="scope" value="{scope}">
<button type="submit" name="decision" value="agree">I Agree</button>
<button type="submit" name="decision" value="decline">No Thanks</button>
</form></body></html>"#,
        scope = esc(&scope_line),
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
    #[serde(default)]
    scope: String,
}

async fn consent(State(fake): State<Arc<EbayFake>>, Form(f): Form<ConsentForm>) -> Response {
    let app = lock(&fake.apps).get(&f.client_id).cloned();
    let Some(app) = app else {
        return consent_error("invalid_client", "unknown client");
    };
    let sep = if app.accept_url.contains('?') { '&' } else { '?' };
    let state = form_encode(&f.state);
    if f.decision != "agree" {
        return Redirect::to(&format!("{}{sep}error=access_denied&state={state}", app.accept_url)).into_response();
    }
    let code = random_token("v^1.1#i^1#f^0#r^1#I^3#p^3#t^");
    lock(&fake.tokens).codes.insert(
        code.clone(),
        AuthCode {
            client_id: f.client_id.clone(),
            expires: Utc::now() + Duration::seconds(299),
            scopes: split_scopes(&f.scope),
        },
    );
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
    let Some(app) = app.filter(|a| a.client_secret == secret) else {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "client authentication failed");
    };
    let ttl = *lock(&fake.access_ttl);
    let mut t = lock(&fake.tokens);
    match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            let code = form.get("code").cloned().unwrap_or_default();
            if form.get("redirect_uri") != Some(&app.ru_name) {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "redirect_uri mismatch");
            }
            // Codes are single-use and short-lived.
            let scopes = match t.codes.remove(&code) {
                Some(c) if c.client_id == client_id && c.expires > Utc::now() => c.scopes,
                _ => {
                    return oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        "the provided authorization grant code is invalid or was issued to another client",
                    );
                }
            };
            let refresh = random_token("v^1.1#i^1#r^1#p^3#I^3#f^0#t^Ul4x");
            let access = random_token("v^1.1#i^1#p^3#I^3#r^0#f^0#t^H4sI");
            t.refresh.insert(refresh.clone(), RefreshToken { client_id, revoked: false, scopes: scopes.clone() });
            t.access
                .insert(access.clone(), AccessToken { expires: Utc::now() + ttl, refresh: refresh.clone(), scopes });
            Json(json!({
                "access_token": access, "expires_in": ttl.num_seconds(),
                "refresh_token": refresh, "refresh_token_expires_in": 47_304_000,
                "token_type": "User Access Token"
            }))
            .into_response()
        }
        Some("refresh_token") => {
            let refresh = form.get("refresh_token").cloned().unwrap_or_default();
            let granted = match t.refresh.get(&refresh) {
                Some(r) if r.client_id == client_id && !r.revoked => r.scopes.clone(),
                _ => {
                    return oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        "the provided authorization refresh token is invalid or was issued to another client",
                    );
                }
            };
            // `scope` is optional; when given it must stay within what the seller granted.
            let scopes = match form.get("scope") {
                None => granted,
                Some(s) => {
                    let asked = split_scopes(s);
                    if asked.is_empty() || asked.iter().any(|a| !granted.contains(a)) {
                        return oauth_error(
                            StatusCode::BAD_REQUEST,
                            "invalid_scope",
                            "The requested scope is invalid, unknown, malformed, or exceeds the scope granted to the client",
                        );
                    }
                    asked
                }
            };
            let access = random_token("v^1.1#i^1#p^3#I^3#r^0#f^0#t^H4sI");
            t.access.insert(access.clone(), AccessToken { expires: Utc::now() + ttl, refresh, scopes });
            Json(json!({ "access_token": access, "expires_in": ttl.num_seconds(), "token_type": "User Access Token" }))
                .into_response()
        }
        _ => oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "grant type not supported"),
    }
}

// ---------------------------------------------------------------------------------------
// getOrders / getOrder

const READ_SCOPES: &[&str] = &[SCOPE_FULFILLMENT, SCOPE_FULFILLMENT_READONLY];
const WRITE_SCOPES: &[&str] = &[SCOPE_FULFILLMENT];

#[derive(Deserialize)]
struct OrdersQuery {
    filter: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
    #[serde(rename = "orderIds")]
    order_ids: Option<String>,
}

struct DateRange {
    start: DateTime<Utc>,
    end: Option<DateTime<Utc>>,
}

#[derive(Default)]
struct Filter {
    created: Option<DateRange>,
    modified: Option<DateRange>,
    statuses: Option<Vec<String>>,
}

fn parse_range(name: &str, value: &str) -> Result<DateRange, Box<Response>> {
    let bad_value = || {
        Box::new(fulfillment_error(
            30800,
            &format!("Invalid filter value {value} for filter {name}"),
            &[("filter", value)],
        ))
    };
    let inner = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')).ok_or_else(bad_value)?;
    let (start, end) = inner.split_once("..").ok_or_else(bad_value)?;
    if start.trim().is_empty() {
        return Err(Box::new(fulfillment_error(30820, "Start date is missing", &[])));
    }
    let bad_date = || Box::new(fulfillment_error(30810, "Invalid date format", &[("filter", value)]));
    let start = parse_time(start).ok_or_else(bad_date)?;
    let end = if end.trim().is_empty() { None } else { Some(parse_time(end).ok_or_else(bad_date)?) };
    let now = Utc::now();
    // A few minutes of clock skew are tolerated.
    let future = now + Duration::minutes(5);
    if start > future || end.is_some_and(|e| e > future) {
        return Err(Box::new(fulfillment_error(30850, "Start and end dates can't be in the future", &[])));
    }
    if end.is_some_and(|e| e < start) {
        return Err(Box::new(fulfillment_error(30840, "Start date should be before end date", &[])));
    }
    let reference = end.unwrap_or(now).min(now);
    if start < reference - Duration::days(90) {
        return Err(Box::new(fulfillment_error(
            30830,
            "Start date must be within 90 days of end date and current date.",
            &[],
        )));
    }
    Ok(DateRange { start, end })
}

fn parse_filter(raw: &str) -> Result<Filter, Box<Response>> {
    let mut f = Filter::default();
    for criterion in raw.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        let (name, value) = criterion.split_once(':').unwrap_or((criterion, ""));
        match name.trim() {
            "creationdate" => f.created = Some(parse_range("creationdate", value.trim())?),
            "lastmodifieddate" => f.modified = Some(parse_range("lastmodifieddate", value.trim())?),
            "orderfulfillmentstatus" => {
                let set: HashSet<&str> = value
                    .trim()
                    .strip_prefix('{')
                    .and_then(|v| v.strip_suffix('}'))
                    .map(|v| v.split('|').map(str::trim).collect())
                    .unwrap_or_default();
                // Only these two combinations are supported.
                let ok = set == HashSet::from(["NOT_STARTED", "IN_PROGRESS"])
                    || set == HashSet::from(["FULFILLED", "IN_PROGRESS"]);
                if !ok {
                    return Err(Box::new(fulfillment_error(
                        30800,
                        &format!("Invalid filter value {} for filter orderfulfillmentstatus", value.trim()),
                        &[("filter", value.trim())],
                    )));
                }
                f.statuses = Some(set.into_iter().map(str::to_owned).collect());
            }
            other => {
                return Err(Box::new(fulfillment_error(
                    30700,
                    &format!("Invalid filter name: {other}"),
                    &[("filter", other)],
                )));
            }
        }
    }
    Ok(f)
}

fn build_index(orders: &[Value], field: &str) -> DateIndex {
    let mut v: DateIndex = orders
        .iter()
        .enumerate()
        .map(|(i, o)| {
            (o[field].as_str().unwrap_or_default().to_owned(), o["orderId"].as_str().unwrap_or_default().to_owned(), i)
        })
        .collect();
    v.sort();
    v
}

fn throttled() -> Response {
    let mut r = error_body(
        StatusCode::TOO_MANY_REQUESTS,
        2001,
        "ACCESS",
        "REQUEST",
        "Too many requests",
        "The request limit has been reached for the resource.",
        &[],
    );
    r.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    r
}

async fn get_orders(State(fake): State<Arc<EbayFake>>, headers: HeaderMap, Query(q): Query<OrdersQuery>) -> Response {
    *lock(&fake.order_calls) += 1;
    if let Err(r) = check_call(&fake, &headers, READ_SCOPES) {
        return *r;
    }
    {
        let mut throttle = lock(&fake.throttle_next);
        if *throttle > 0 {
            *throttle -= 1;
            return throttled();
        }
    }
    // orderIds overrides every other parameter.
    if let Some(ids) = q.order_ids.as_deref() {
        let ids: Vec<&str> = ids.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
        if ids.len() > 50 {
            return fulfillment_error(30900, "Exceeded maximum number of order IDs (the current limit is 50)", &[]);
        }
        let orders = lock(&fake.orders);
        let found: Vec<&Value> = ids.iter().filter_map(|id| orders.iter().find(|o| o["orderId"] == *id)).collect();
        let base = lock(&fake.base_url).clone();
        let body = OrderPage {
            href: format!("{base}/sell/fulfillment/v1/order?orderIds={}", form_encode(&ids.join(","))),
            total: found.len(),
            limit: found.len(),
            offset: 0,
            orders: found,
            next: None,
            prev: None,
        };
        return serialise(&body);
    }
    // eBay: `limit` default 50, maximum 1000.
    let limit: usize = match q.limit.as_deref().map(str::parse::<usize>) {
        None => 50,
        Some(Ok(n)) if (1..=1000).contains(&n) => n,
        _ => {
            let v = q.limit.clone().unwrap_or_default();
            return fulfillment_error(31100, &format!("Invalid limit: {v}"), &[("limit", v.as_str())]);
        }
    };
    let offset: usize = match q.offset.as_deref().map(str::parse::<usize>) {
        None => 0,
        Some(Ok(n)) => n,
        _ => {
            let v = q.offset.clone().unwrap_or_default();
            return fulfillment_error(31000, &format!("Invalid offset: {v}"), &[("offset", v.as_str())]);
        }
    };
    let filter = match q.filter.as_deref().map(parse_filter).transpose() {
        Ok(f) => f.unwrap_or_default(),
        Err(r) => return *r,
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
    // creationdate wins over lastmodifieddate; with neither, orders come by creation date.
    let (range, by_modified) = match (filter.created, filter.modified) {
        (Some(c), _) => (Some(c), false),
        (None, Some(m)) => (Some(m), true),
        (None, None) => (None, false),
    };
    let mut index_guard = if by_modified { lock(&fake.by_modified) } else { lock(&fake.by_created) };
    let field = if by_modified { "lastModifiedDate" } else { "creationDate" };
    let sorted = index_guard.get_or_insert_with(|| build_index(&orders, field));
    let (from, to) = match &range {
        Some(r) => {
            let start = stamp(r.start);
            let from = sorted.partition_point(|(d, _, _)| d.as_str() < start.as_str());
            let to = match r.end {
                Some(e) => {
                    let end = stamp(e);
                    sorted.partition_point(|(d, _, _)| d.as_str() <= end.as_str())
                }
                None => sorted.len(),
            };
            (from, to.max(from))
        }
        None => (0, sorted.len()),
    };
    let slice = sorted.get(from..to).unwrap_or_default();
    let (total, page): (usize, Vec<usize>) = match &filter.statuses {
        Some(st) => {
            let m: Vec<usize> = slice
                .iter()
                .map(|e| e.2)
                .filter(|&i| {
                    orders
                        .get(i)
                        .and_then(|o| o["orderFulfillmentStatus"].as_str())
                        .is_some_and(|s| st.iter().any(|x| x == s))
                })
                .collect();
            (m.len(), m.into_iter().skip(offset).take(limit).collect())
        }
        None => (slice.len(), slice.iter().skip(offset).take(limit).map(|e| e.2).collect()),
    };
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
        orders: page.iter().filter_map(|i| orders.get(*i)).collect(),
        next: (offset + limit < total).then(|| link(offset + limit)),
        prev: (offset > 0).then(|| link(offset.saturating_sub(limit))),
    };
    serialise(&body)
}

fn serialise<T: serde::Serialize>(body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => ([(header::CONTENT_TYPE, "application/json")], bytes).into_response(),
        Err(_) => error_body(
            StatusCode::INTERNAL_SERVER_ERROR,
            30500,
            "API_FULFILLMENT",
            "APPLICATION",
            "System error",
            "System error",
            &[],
        ),
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

fn invalid_order(order_id: &str) -> Response {
    fulfillment_error(32100, &format!("Invalid order ID: {order_id}"), &[("orderId", order_id)])
}

async fn get_order(State(fake): State<Arc<EbayFake>>, headers: HeaderMap, Path(order_id): Path<String>) -> Response {
    if let Err(r) = check_call(&fake, &headers, READ_SCOPES) {
        return *r;
    }
    match fake.order(&order_id) {
        Some(o) => Json(o).into_response(),
        None => invalid_order(&order_id),
    }
}

// ---------------------------------------------------------------------------------------
// Shipping fulfillments

async fn create_fulfillment(
    State(fake): State<Arc<EbayFake>>,
    headers: HeaderMap,
    Path(order_id): Path<String>,
    body: Bytes,
) -> Response {
    *lock(&fake.write_calls) += 1;
    if let Err(r) = check_call(&fake, &headers, WRITE_SCOPES) {
        return *r;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return fulfillment_error(32600, "Invalid input data", &[]);
    };
    if !body.is_object() {
        return fulfillment_error(32600, "Invalid input data", &[]);
    }
    let now = Utc::now();
    let shipped = match &body["shippedDate"] {
        Value::Null => now,
        Value::String(s) => match parse_time(s) {
            Some(t) => t,
            None => return fulfillment_error(32500, "Invalid shipped date", &[("shippedDate", s.as_str())]),
        },
        other => {
            return fulfillment_error(32500, "Invalid shipped date", &[("shippedDate", other.to_string().as_str())]);
        }
    };
    // trackingNumber and shippingCarrierCode go together or not at all; the carrier must be
    // one of eBay's ShippingCarrierCodeType values.
    let tracking = body["trackingNumber"].as_str().map(str::trim).filter(|s| !s.is_empty());
    let carrier = body["shippingCarrierCode"].as_str().map(str::trim).filter(|s| !s.is_empty());
    match (tracking, carrier) {
        (None, None) => {}
        (Some(_), Some(c)) if SHIPPING_CARRIER_CODES.contains(&c) => {}
        _ => {
            return fulfillment_error(
                32300,
                "Invalid shipment tracking number or carrier",
                &[
                    ("shippingCarrierCode", body["shippingCarrierCode"].as_str().unwrap_or_default()),
                    ("trackingNumber", body["trackingNumber"].as_str().unwrap_or_default()),
                ],
            );
        }
    }
    let asked: Vec<String> = match body["lineItems"].as_array() {
        Some(a) if !a.is_empty() => {
            let ids: Vec<String> = a.iter().filter_map(|l| l["lineItemId"].as_str().map(str::to_owned)).collect();
            if ids.len() != a.len() {
                return fulfillment_error(32200, "Invalid line item id", &[]);
            }
            ids
        }
        _ => return fulfillment_error(32600, "Invalid input data", &[("lineItems", "")]),
    };
    let base = lock(&fake.base_url).clone();
    let fulfillment_id = match tracking {
        Some(t) => t.to_owned(),
        None => (998 + fake.next_seq()).to_string(),
    };
    let mut orders = lock(&fake.orders);
    let Some(o) = orders.iter_mut().find(|o| o["orderId"] == order_id.as_str()) else {
        return invalid_order(&order_id);
    };
    if o["cancelStatus"]["cancelState"] == "CANCELED" {
        return error_body(
            StatusCode::BAD_REQUEST,
            32600,
            "API_FULFILLMENT",
            "REQUEST",
            "Invalid input data",
            "The order has been cancelled.",
            &[("orderId", order_id.as_str())],
        );
    }
    let known = line_ids(o);
    for id in &asked {
        if !known.contains(id) || line_fulfilled(o, id) {
            return fulfillment_error(32200, "Invalid line item id", &[("lineItemId", id.as_str())]);
        }
    }
    let mut record = json!({
        "fulfillmentId": fulfillment_id,
        "shippedDate": stamp(shipped),
        "lineItems": line_refs(o, Some(asked.as_slice())),
    });
    if let (Some(t), Some(c)) = (tracking, carrier) {
        record["shipmentTrackingNumber"] = json!(t);
        record["shippingCarrierCode"] = json!(c);
    }
    mark_fulfilled(o, Some(asked.as_slice()));
    o["lastModifiedDate"] = json!(stamp(now));
    lock(&fake.shipping).entry(order_id.clone()).or_default().push(record);
    drop(orders);
    *lock(&fake.by_modified) = None;
    lock(&fake.fulfillments).push((order_id.clone(), body));
    {
        let mut lose = lock(&fake.lose_next_writes);
        if *lose > 0 {
            *lose -= 1;
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "text/html")],
                "<html><body><h1>503 Service Unavailable</h1>upstream connect error</body></html>",
            )
                .into_response();
        }
    }
    (
        StatusCode::CREATED,
        [(
            header::LOCATION,
            format!(
                "{base}/sell/fulfillment/v1/order/{}/shipping_fulfillment/{}",
                form_encode(&order_id),
                form_encode(&fulfillment_id)
            ),
        )],
        Json(json!({})),
    )
        .into_response()
}

async fn get_fulfillments(
    State(fake): State<Arc<EbayFake>>,
    headers: HeaderMap,
    Path(order_id): Path<String>,
) -> Response {
    if let Err(r) = check_call(&fake, &headers, READ_SCOPES) {
        return *r;
    }
    if !lock(&fake.orders).iter().any(|o| o["orderId"] == order_id.as_str()) {
        return invalid_order(&order_id);
    }
    let list = fake.shipping_fulfillments(&order_id);
    Json(json!({ "fulfillments": list, "total": list.len() })).into_response()
}

async fn get_fulfillment(
    State(fake): State<Arc<EbayFake>>,
    headers: HeaderMap,
    Path((order_id, fulfillment_id)): Path<(String, String)>,
) -> Response {
    if let Err(r) = check_call(&fake, &headers, READ_SCOPES) {
        return *r;
    }
    if !lock(&fake.orders).iter().any(|o| o["orderId"] == order_id.as_str()) {
        return invalid_order(&order_id);
    }
    match fake.shipping_fulfillments(&order_id).into_iter().find(|f| f["fulfillmentId"] == fulfillment_id.as_str()) {
        Some(f) => Json(f).into_response(),
        None => fulfillment_error(
            32110,
            &format!("Invalid shipping fulfillment ID: {fulfillment_id}"),
            &[("fulfillmentId", fulfillment_id.as_str())],
        ),
    }
}

// ---------------------------------------------------------------------------------------
// Identity

async fn get_user(State(fake): State<Arc<EbayFake>>, headers: HeaderMap) -> Response {
    *lock(&fake.identity_calls) += 1;
    if let Err(r) = check_call(&fake, &headers, IDENTITY_SCOPES) {
        return *r;
    }
    let user = lock(&fake.user).clone();
    Json(user).into_response()
}

// ---------------------------------------------------------------------------------------
// Seed

/// One realistic order, deterministic in `i`: 1-3 lines, several countries, names and
/// addresses with `'`, `&`, accents and CJK.
fn order_json(i: usize, base: DateTime<Utc>) -> Value {
    let r = seed::recipient(i);
    let modified = base + Duration::seconds(i64::try_from(i).unwrap_or(0) * 7);
    let created = modified - Duration::hours(2);
    let ship_by = created + Duration::days(2);
    let min_delivery = created + Duration::days(5);
    let max_delivery = created + Duration::days(10);
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
                "total": { "value": cents(unit * qty), "currency": "USD" },
                "soldFormat": "FIXED_PRICE",
                "lineItemFulfillmentStatus": "NOT_STARTED",
                "lineItemFulfillmentInstructions": {
                    "guaranteedDelivery": false,
                    "shipByDate": stamp(ship_by),
                    "minEstimatedDeliveryDate": stamp(min_delivery),
                    "maxEstimatedDeliveryDate": stamp(max_delivery)
                }
            })
        })
        .collect();
    let shipping = 350 + (i % 4) as i64 * 100;
    json!({
        "orderId": format!("{:02}-{:05}-{:05}", 10 + i % 90, 10_000 + (i / 97) % 90_000, 10_000 + i % 90_000),
        "legacyOrderId": format!("{}-{}", 110_000_000_000i64 + i as i64, 2_000_000_000_000i64 + i as i64),
        "creationDate": stamp(created),
        "lastModifiedDate": stamp(modified),
        "orderFulfillmentStatus": "NOT_STARTED",
        "orderPaymentStatus": "PAID",
        "cancelStatus": { "cancelState": "NONE_REQUESTED", "cancelRequests": [] },
        "sellerId": SELLER_USERNAME,
        "buyer": { "username": r.buyer },
        "pricingSummary": {
            "priceSubtotal": { "value": cents(total_cents), "currency": "USD" },
            "deliveryCost": { "value": cents(shipping), "currency": "USD" },
            "total": { "value": cents(total_cents + shipping), "currency": "USD" }
        },
        "fulfillmentStartInstructions": [{
            "fulfillmentInstructionsType": "SHIP_TO",
            "minEstimatedDeliveryDate": stamp(min_delivery),
            "maxEstimatedDeliveryDate": stamp(max_delivery),
            "ebaySupportedFulfillment": false,
            "shippingStep": {
                "shippingCarrierCode": "USPS",
                "shippingServiceCode": "USPSPriority",
                "shipTo": {
                    "fullName": r.name,
                    "contactAddress": {
                        "addressLine1": r.line1, "addressLine2": r.line2, "city": r.city,
                        "stateOrProvince": r.state, "postalCode": r.postal_code, "countryCode": r.country
                    },
                    "primaryPhone": { "phoneNumber": r.phone },
                    "email": r.email
                }
            }
        }],
        "lineItems": items
    })
}

fn cents(c: i64) -> String {
    format!("{}.{:02}", c / 100, c % 100)
}
