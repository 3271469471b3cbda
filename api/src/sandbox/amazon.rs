//! A fake Amazon Selling Partner API, its Login with Amazon (LWA) token service and the
//! Seller Central consent page, written from Amazon's own models
//! (`amzn/selling-partner-api-models`: `orders_2026-01-01.json`, `ordersV0.json`,
//! `sellers.json`) and developer docs, independent of the Amazon connector (no shared
//! types, paging or date code). Every wire fact and every choice is listed with its source
//! in `api/src/connectors/marketplace/amazon/WIRE.md`. Logical hosts sharing one router:
//!
//! - Seller Central `GET|POST /sellercentral/apps/authorize/consent` (unchanged): an
//!   "I Agree" page answering 303 to the app's redirect URI with `state`,
//!   `selling_partner_id` and `spapi_oauth_code` (single use, 5 minutes).
//! - LWA `POST /lwa/auth/o2/token` (unchanged): `authorization_code` and `refresh_token`
//!   grants, errors `{error, error_description}`.
//! - SP-API, one host per region: `/na`, `/eu`, `/fe` stand for
//!   `sellingpartnerapi-{na,eu,fe}.amazon.com`. Each serves
//!   - `GET /orders/2026-01-01/orders` (searchOrders) and
//!     `GET /orders/2026-01-01/orders/{orderId}` (getOrder) with `includedData`;
//!   - `POST /orders/v0/orders/{orderId}/shipmentConfirmation` (confirmShipment, 204);
//!   - `GET /sellers/v1/marketplaceParticipations` (getMarketplaceParticipations).
//!
//!   The Orders v0 reads (getOrders, getOrder, getOrderItems, getOrderAddress,
//!   getOrderBuyerInfo) are gone, as they will be after 2027-03-27. Only
//!   `x-amz-access-token` authenticates. A marketplace of another region answers 403
//!   `Unauthorized` "The marketplaces you provided are not valid for region.".
//!   PII (`buyer`, `recipient.deliveryAddress` name/lines/postal code/phone) is returned
//!   only while the app holds the Direct-to-Consumer Delivery role (`set_pii_role`).
//! - Errors `{"errors":[{code, message, details}]}`. Fault injection: `throttle_next`
//!   (429 + `Retry-After: 1`) and `malformed_next` (HTTP 200, broken JSON) on
//!   searchOrders; `lose_next_writes` (confirmShipment applied, then 503 with a
//!   non-Amazon body).
//!
//! The sandbox seller sells on amazon.com, .co.uk, .de, .fr, .es and .co.jp; about 40 %
//! of the seeded orders are outside the US, 10 % already shipped (with a package and
//! tracking number), 5 % cancelled, the rest UNSHIPPED.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
};

use axum::{
    Extension, Json, Router,
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

/// An SP-API region; its fake host is `{base_url}/{path()}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Region {
    Na,
    Eu,
    Fe,
}

impl Region {
    pub const ALL: [Region; 3] = [Region::Na, Region::Eu, Region::Fe];

    /// The router prefix: `na`, `eu` or `fe`.
    pub fn path(self) -> &'static str {
        match self {
            Region::Na => "na",
            Region::Eu => "eu",
            Region::Fe => "fe",
        }
    }
}

/// One entry of Amazon's marketplace list.
pub struct Marketplace {
    pub id: &'static str,
    /// ISO 3166-1 alpha-2 (the Sellers API's `countryCode`).
    pub country: &'static str,
    pub region: Region,
    /// `salesChannel.marketplaceName` / Sellers `marketplace.name`.
    pub name: &'static str,
    pub domain: &'static str,
    pub currency: &'static str,
    pub language: &'static str,
}

const fn mp(
    id: &'static str,
    country: &'static str,
    region: Region,
    name: &'static str,
    domain: &'static str,
    currency: &'static str,
    language: &'static str,
) -> Marketplace {
    Marketplace { id, country, region, name, domain, currency, language }
}

/// Every marketplace ID of Amazon's list, with its region.
pub const MARKETPLACES: &[Marketplace] = &[
    mp("A2EUQ1WTGCTBG2", "CA", Region::Na, "Amazon.ca", "www.amazon.ca", "CAD", "en_CA"),
    mp("ATVPDKIKX0DER", "US", Region::Na, "Amazon.com", "www.amazon.com", "USD", "en_US"),
    mp("A1AM78C64UM0Y8", "MX", Region::Na, "Amazon.com.mx", "www.amazon.com.mx", "MXN", "es_MX"),
    mp("A2Q3Y263D00KWC", "BR", Region::Na, "Amazon.com.br", "www.amazon.com.br", "BRL", "pt_BR"),
    mp("A28R8C7NBKEWEA", "IE", Region::Eu, "Amazon.ie", "www.amazon.ie", "EUR", "en_IE"),
    mp("A1RKKUPIHCS9HS", "ES", Region::Eu, "Amazon.es", "www.amazon.es", "EUR", "es_ES"),
    mp("A1F83G8C2ARO7P", "GB", Region::Eu, "Amazon.co.uk", "www.amazon.co.uk", "GBP", "en_GB"),
    mp("A13V1IB3VIYZZH", "FR", Region::Eu, "Amazon.fr", "www.amazon.fr", "EUR", "fr_FR"),
    mp("AMEN7PMS3EDWL", "BE", Region::Eu, "Amazon.com.be", "www.amazon.com.be", "EUR", "fr_BE"),
    mp("A1805IZSGTT6HS", "NL", Region::Eu, "Amazon.nl", "www.amazon.nl", "EUR", "nl_NL"),
    mp("A1PA6795UKMFR9", "DE", Region::Eu, "Amazon.de", "www.amazon.de", "EUR", "de_DE"),
    mp("APJ6JRA9NG5V4", "IT", Region::Eu, "Amazon.it", "www.amazon.it", "EUR", "it_IT"),
    mp("A2NODRKZP88ZB9", "SE", Region::Eu, "Amazon.se", "www.amazon.se", "SEK", "sv_SE"),
    mp("AE08WJ6YKNBMC", "ZA", Region::Eu, "Amazon.co.za", "www.amazon.co.za", "ZAR", "en_ZA"),
    mp("A1C3SOZRARQ6R3", "PL", Region::Eu, "Amazon.pl", "www.amazon.pl", "PLN", "pl_PL"),
    mp("ARBP9OOSHTCHU", "EG", Region::Eu, "Amazon.eg", "www.amazon.eg", "EGP", "ar_EG"),
    mp("A33AVAJ2PDY3EV", "TR", Region::Eu, "Amazon.com.tr", "www.amazon.com.tr", "TRY", "tr_TR"),
    mp("A17E79C6D8DWNP", "SA", Region::Eu, "Amazon.sa", "www.amazon.sa", "SAR", "ar_SA"),
    mp("A2VIGQ35RCS4UG", "AE", Region::Eu, "Amazon.ae", "www.amazon.ae", "AED", "en_AE"),
    mp("A21TJRUUN4KGV", "IN", Region::Eu, "Amazon.in", "www.amazon.in", "INR", "en_IN"),
    mp("A19VAU5U5O7RUS", "SG", Region::Fe, "Amazon.sg", "www.amazon.sg", "SGD", "en_SG"),
    mp("A39IBJ37TRP1C6", "AU", Region::Fe, "Amazon.com.au", "www.amazon.com.au", "AUD", "en_AU"),
    mp("A1VC38T7YXB528", "JP", Region::Fe, "Amazon.co.jp", "www.amazon.co.jp", "JPY", "ja_JP"),
];

/// Marketplace IDs the fake accepts (all of `MARKETPLACES`).
pub const MARKETPLACE_IDS: &[&str] = &[
    "A2EUQ1WTGCTBG2",
    "ATVPDKIKX0DER",
    "A1AM78C64UM0Y8",
    "A2Q3Y263D00KWC",
    "A28R8C7NBKEWEA",
    "A1RKKUPIHCS9HS",
    "A1F83G8C2ARO7P",
    "A13V1IB3VIYZZH",
    "AMEN7PMS3EDWL",
    "A1805IZSGTT6HS",
    "A1PA6795UKMFR9",
    "APJ6JRA9NG5V4",
    "A2NODRKZP88ZB9",
    "AE08WJ6YKNBMC",
    "A1C3SOZRARQ6R3",
    "ARBP9OOSHTCHU",
    "A33AVAJ2PDY3EV",
    "A17E79C6D8DWNP",
    "A2VIGQ35RCS4UG",
    "A21TJRUUN4KGV",
    "A19VAU5U5O7RUS",
    "A39IBJ37TRP1C6",
    "A1VC38T7YXB528",
];

pub const MARKETPLACE_US: &str = "ATVPDKIKX0DER";
pub const MARKETPLACE_UK: &str = "A1F83G8C2ARO7P";
pub const MARKETPLACE_DE: &str = "A1PA6795UKMFR9";
pub const MARKETPLACE_FR: &str = "A13V1IB3VIYZZH";
pub const MARKETPLACE_ES: &str = "A1RKKUPIHCS9HS";
pub const MARKETPLACE_JP: &str = "A1VC38T7YXB528";

/// Where the sandbox seller participates (getMarketplaceParticipations) and sells.
pub const SELLER_MARKETPLACES: &[&str] =
    &[MARKETPLACE_US, MARKETPLACE_UK, MARKETPLACE_DE, MARKETPLACE_FR, MARKETPLACE_ES, MARKETPLACE_JP];

/// The marketplace of `id`, if Amazon lists it.
pub fn marketplace(id: &str) -> Option<&'static Marketplace> {
    MARKETPLACES.iter().find(|m| m.id == id)
}

/// Digits after the decimal point in a `Money.amount` of this currency (JPY: none).
pub fn currency_decimals(currency: &str) -> u32 {
    if currency == "JPY" { 0 } else { 2 }
}

/// A `Money.amount` string from minor units: `1234` USD → `"12.34"`, `1980` JPY → `"1980"`.
pub fn amount(minor: i64, currency: &str) -> String {
    if currency_decimals(currency) == 0 { minor.to_string() } else { seed::cents(minor) }
}

/// One line of an order.
#[derive(Clone)]
pub struct AmzItem {
    pub order_item_id: String,
    pub asin: String,
    pub sku: String,
    pub title: String,
    pub quantity: u32,
    /// Units already confirmed shipped (`fulfillment.quantityFulfilled`).
    pub shipped: u32,
    /// Unit price in the order's minor unit (cents; yen for JPY).
    pub unit_cents: i64,
}

/// A shipped package as getOrder's `packages` shows it (from confirmShipment or seeded).
#[derive(Clone)]
pub struct AmzPackage {
    pub package_reference_id: String,
    pub created: DateTime<Utc>,
    /// `carrier`: the carrierCode, or carrierName when the code is `Other`.
    pub carrier: String,
    pub shipping_service: Option<String>,
    pub tracking_number: String,
    pub ship_time: DateTime<Utc>,
    /// `(orderItemId, quantity)`.
    pub items: Vec<(String, u32)>,
}

/// One seeded order, rendered into searchOrders and getOrder.
#[derive(Clone)]
pub struct AmzOrder {
    pub id: String,
    /// `fulfillment.fulfillmentStatus`: PENDING_AVAILABILITY, PENDING, UNSHIPPED,
    /// PARTIALLY_SHIPPED, SHIPPED, CANCELLED or UNFULFILLABLE.
    pub status: String,
    pub purchased: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    /// Index into `seed::recipient`.
    pub recipient: usize,
    pub marketplace_id: String,
    pub currency: String,
    pub items: Vec<AmzItem>,
    /// Shipping charge in minor units (carried by the first item).
    pub shipping_cents: i64,
    pub packages: Vec<AmzPackage>,
    /// The buyer asked to cancel (`cancellation.cancellationRequest`).
    pub cancel_requested: bool,
    /// Who cancelled (`cancellation.cancellationExecution.cancelledBy`).
    pub cancelled_by: Option<String>,
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

/// The rest of a searchOrders result set, behind a `nextToken`.
#[derive(Clone)]
struct PageState {
    ids: Vec<String>,
    offset: usize,
    region: Region,
    /// The first request's parameters other than paginationToken, maxResultsPerPage and
    /// includedData: a follow-up must repeat them.
    signature: Vec<(String, Vec<String>)>,
    expires: DateTime<Utc>,
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
    /// searchOrders calls received.
    pub order_calls: Mutex<u32>,
    /// Answer the next N searchOrders calls with 429 + Retry-After: 1.
    pub throttle_next: Mutex<u32>,
    /// The next N searchOrders follow-ups find their paginationToken expired, as if 24 hours
    /// had passed since it was issued.
    pub expire_next_followups: Mutex<u32>,
    /// Answer the next searchOrders call with a malformed body (HTTP 200).
    pub malformed_next: Mutex<bool>,
    /// `(orderId, body)` of every accepted confirmShipment.
    pub fulfillments: Mutex<Vec<(String, Value)>>,
    /// The next N confirmShipment calls are applied, then answered 503 (lost answer).
    pub lose_next_writes: Mutex<u32>,
    /// Every confirmShipment call received, accepted or refused.
    pub write_calls: Mutex<u32>,
    /// Base URL the fake is reachable at (region hosts are `{base_url}/na|eu|fe`).
    pub base_url: Mutex<String>,
    pii_role: Mutex<bool>,
    issued: Mutex<Vec<String>>,
}

pub const SANDBOX_CLIENT_ID: &str = "amzn1.application-oa2-client.5b1f0c3ad7e54c4f8b7a6e2d9c0f1a23";
pub const SANDBOX_CLIENT_SECRET: &str =
    "amzn1.oa2-cs.v1.0d3c9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d";
pub const SANDBOX_APPLICATION_ID: &str = "amzn1.sellerapps.app.5b1f0c3a-d7e5-4c4f-8b7a-6e2d9c0f1a23";
/// The seller who consents on the sandbox page.
pub const SANDBOX_SELLING_PARTNER_ID: &str = "A2SBXSHIPGATE7";
/// amazon.com, where most seeded orders were placed.
pub const SANDBOX_MARKETPLACE_ID: &str = MARKETPLACE_US;
/// The seller's store name in getMarketplaceParticipations.
pub const SANDBOX_STORE_NAME: &str = "Shipgate Sandbox Store";
/// How long `spapi_oauth_code`s live.
pub const CODE_TTL_SECONDS: i64 = 300;
/// searchOrders `maxResultsPerPage`: 1..=100, default 100.
pub const MAX_RESULTS_PER_PAGE: usize = 100;
/// searchOrders `marketplaceIds` maxItems.
pub const MAX_MARKETPLACE_IDS: usize = 50;
/// A searchOrders `nextToken` expires after 24 hours.
pub const PAGINATION_TOKEN_TTL_HOURS: i64 = 24;

/// `FulfillmentStatus` (orders_2026-01-01.json).
pub const FULFILLMENT_STATUSES: &[&str] =
    &["PENDING_AVAILABILITY", "PENDING", "UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED", "CANCELLED", "UNFULFILLABLE"];

/// `includedData` values (orders_2026-01-01.json).
pub const INCLUDED_DATA: &[&str] = &[
    "BUYER",
    "RECIPIENT",
    "PROCEEDS",
    "EXPENSE",
    "PROMOTION",
    "CANCELLATION",
    "FULFILLMENT",
    "PACKAGES",
    "TAX",
    "PAYMENT",
    "FULFILLMENT_ORDERS",
];

/// Accepted confirmShipment `carrierCode` values besides `Other`: Seller Central's
/// shipping-confirmation carrier list (help page G641), matched exactly.
pub const CARRIER_CODES: &[&str] = &[
    "Blue Package",
    "USPS",
    "UPS",
    "UPSMI",
    "FedEx",
    "DHL",
    "DHL Global Mail",
    "Fastway",
    "UPS Mail Innovations",
    "Lasership",
    "Royal Mail",
    "FedEx SmartPost",
    "OSM",
    "OnTrac",
    "Streamlite",
    "Newgistics",
    "Canada Post",
    "City Link",
    "GLS",
    "GO!",
    "Hermes Logistik Gruppe",
    "Parcelforce",
    "TNT",
    "Target",
    "SagawaExpress",
    "NipponExpress",
    "YamatoTransport",
    "Ninjavan",
    "Qxpress",
    "Singapore Post",
    "4PX",
    "Yanwen",
    "Aramex",
    "China Post",
    "DHL eCommerce",
    "SF Express",
];

const RATE_SEARCH_ORDERS: &str = "0.0056";
const RATE_GET_ORDER: &str = "0.5";
const RATE_CONFIRM_SHIPMENT: &str = "2.0";
const RATE_MARKETPLACE_PARTICIPATIONS: &str = "0.016";

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
            expire_next_followups: Mutex::new(0),
            malformed_next: Mutex::new(false),
            fulfillments: Mutex::new(Vec::new()),
            lose_next_writes: Mutex::new(0),
            write_calls: Mutex::new(0),
            base_url: Mutex::new(String::new()),
            pii_role: Mutex::new(true),
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

    /// Whether the app holds the Direct-to-Consumer Delivery (Restricted) role (default
    /// true). Without it, `recipient` and `buyer` lose their PII fields.
    pub fn set_pii_role(&self, granted: bool) {
        *lock(&self.pii_role) = granted;
    }

    /// Makes every searchOrders `nextToken` issued so far expired, as after 24 hours.
    pub fn expire_pagination_tokens(&self) {
        let past = Utc::now() - Duration::seconds(1);
        for p in lock(&self.pages).values_mut() {
            p.expires = past;
        }
    }

    /// Marks the first `n` orders as updated now. `status` is mapped onto
    /// `FulfillmentStatus` ignoring case and `_`, and v0 names are understood
    /// (`Shipped`, `Canceled`, `PartiallyShipped`, `InvoiceUnconfirmed` → UNSHIPPED …):
    /// SHIPPED ships every remaining unit in one package, CANCELLED cancels, other values
    /// set the status; an unknown word (e.g. `CHANGED_AGAIN`) only bumps the time.
    pub fn touch_orders(&self, n: usize, status: &str) {
        let now = Utc::now().trunc_subsecs(0);
        let native = native_status(status);
        for o in lock(&self.orders).iter_mut().take(n) {
            match native {
                Some("SHIPPED") => ship_remaining(o, now),
                Some("CANCELLED") => cancel(o),
                Some(s) => s.clone_into(&mut o.status),
                None => {}
            }
            o.updated = now;
        }
    }

    /// The seller shipped this order outside Shipgate: every remaining unit goes into a
    /// new package with a tracking number, the order becomes SHIPPED, updated now.
    pub fn ship_on_platform(&self, platform_order_id: &str) {
        let now = Utc::now().trunc_subsecs(0);
        if let Some(o) = lock(&self.orders).iter_mut().find(|o| o.id == platform_order_id) {
            ship_remaining(o, now);
            o.updated = now;
        }
    }

    /// The order is cancelled on Amazon: CANCELLED, `cancellationExecution` on its items,
    /// updated now.
    pub fn cancel_on_platform(&self, platform_order_id: &str) {
        let now = Utc::now().trunc_subsecs(0);
        if let Some(o) = lock(&self.orders).iter_mut().find(|o| o.id == platform_order_id) {
            cancel(o);
            o.updated = now;
        }
    }

    /// The buyer asked to cancel: every item gets a `cancellationRequest` (requester
    /// BUYER); the status stays as it is; updated now.
    pub fn request_cancel_on_platform(&self, platform_order_id: &str) {
        let now = Utc::now().trunc_subsecs(0);
        if let Some(o) = lock(&self.orders).iter_mut().find(|o| o.id == platform_order_id) {
            o.cancel_requested = true;
            o.updated = now;
        }
    }

    /// Every code and token the fake has issued (tests grep logs for them).
    pub fn issued_secrets(&self) -> Vec<String> {
        lock(&self.issued).clone()
    }

    /// The fake host standing for `sellingpartnerapi-{region}.amazon.com`.
    pub fn region_url(&self, region: Region) -> String {
        format!("{}/{}", lock(&self.base_url), region.path())
    }

    pub fn router(self: &Arc<Self>) -> Router {
        let mut router = Router::new()
            .route("/sellercentral/apps/authorize/consent", get(consent_page).post(consent_submit))
            .route("/lwa/auth/o2/token", post(lwa_token));
        for region in Region::ALL {
            router = router.nest(&format!("/{}", region.path()), sp_routes().layer(Extension(region)));
        }
        router.with_state(self.clone())
    }

    fn remember(&self, secret: &str) {
        lock(&self.issued).push(secret.to_owned());
    }

    fn app_by_application_id(&self, application_id: &str) -> Option<(String, FakeApp)> {
        lock(&self.apps).iter().find(|(_, a)| a.application_id == application_id).map(|(k, a)| (k.clone(), a.clone()))
    }
}

fn sp_routes() -> Router<Arc<AmazonFake>> {
    Router::new()
        .route("/orders/2026-01-01/orders", get(search_orders))
        .route("/orders/2026-01-01/orders/{order_id}", get(get_order))
        .route("/orders/v0/orders/{order_id}/shipmentConfirmation", post(confirm_shipment))
        .route("/sellers/v1/marketplaceParticipations", get(marketplace_participations))
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

/// `FulfillmentStatus` for a word given to `touch_orders`.
fn native_status(s: &str) -> Option<&'static str> {
    let key: String = s.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_uppercase();
    match key.as_str() {
        "PENDINGAVAILABILITY" => Some("PENDING_AVAILABILITY"),
        "PENDING" => Some("PENDING"),
        "UNSHIPPED" | "INVOICEUNCONFIRMED" => Some("UNSHIPPED"),
        "PARTIALLYSHIPPED" => Some("PARTIALLY_SHIPPED"),
        "SHIPPED" => Some("SHIPPED"),
        "CANCELLED" | "CANCELED" => Some("CANCELLED"),
        "UNFULFILLABLE" => Some("UNFULFILLABLE"),
        _ => None,
    }
}

/// The next free numeric `packageReferenceId` of an order.
fn next_package_reference(o: &AmzOrder) -> String {
    let max = o.packages.iter().filter_map(|p| p.package_reference_id.parse::<u64>().ok()).max().unwrap_or(0);
    (max + 1).to_string()
}

/// A carrier and tracking number for packages shipped outside Shipgate (and seeds).
fn outside_tracking(o: &AmzOrder, n: usize) -> (&'static str, Option<&'static str>, String) {
    let digits: u64 =
        o.id.bytes()
            .filter(u8::is_ascii_digit)
            .fold(0u64, |acc, b| acc.wrapping_mul(10).wrapping_add(u64::from(b - b'0')) % 1_000_000_000_000)
            + n as u64;
    match o.marketplace_id.as_str() {
        MARKETPLACE_UK => ("Royal Mail", Some("Royal Mail Tracked 48"), format!("RR{:09}GB", digits % 1_000_000_000)),
        MARKETPLACE_DE | MARKETPLACE_FR | MARKETPLACE_ES => {
            ("DHL", Some("DHL Paket"), format!("00340434{:012}", digits % 1_000_000_000_000))
        }
        MARKETPLACE_JP => ("YamatoTransport", Some("宅急便"), format!("{:012}", digits % 1_000_000_000_000)),
        _ => ("USPS", Some("USPS Ground Advantage"), format!("9400111{:015}", digits)),
    }
}

/// Ships every remaining unit of `o` in one new package; SHIPPED.
fn ship_remaining(o: &mut AmzOrder, now: DateTime<Utc>) {
    let items: Vec<(String, u32)> = o
        .items
        .iter()
        .filter(|i| i.quantity > i.shipped)
        .map(|i| (i.order_item_id.clone(), i.quantity - i.shipped))
        .collect();
    if !items.is_empty() {
        let (carrier, service, tracking) = outside_tracking(o, o.packages.len());
        let package_reference_id = next_package_reference(o);
        o.packages.push(AmzPackage {
            package_reference_id,
            created: now,
            carrier: carrier.to_owned(),
            shipping_service: service.map(str::to_owned),
            tracking_number: tracking,
            ship_time: now,
            items,
        });
        for i in &mut o.items {
            i.shipped = i.quantity;
        }
    }
    "SHIPPED".clone_into(&mut o.status);
}

fn cancel(o: &mut AmzOrder) {
    "CANCELLED".clone_into(&mut o.status);
    if o.cancelled_by.is_none() {
        o.cancelled_by = Some(if o.cancel_requested { "BUYER" } else { "AMAZON" }.to_owned());
    }
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

fn sp_error_details(status: StatusCode, code: &str, message: &str, details: &str) -> Response {
    request_id(
        (status, Json(json!({ "errors": [{ "code": code, "message": message, "details": details }] }))).into_response(),
    )
}

fn sp_error(status: StatusCode, code: &str, message: &str) -> Response {
    sp_error_details(status, code, message, "")
}

/// 400 InvalidInput; the model lists `x-amzn-RateLimit-Limit` on 400 answers.
fn invalid_input(message: &str, rate: &'static str) -> Response {
    rate_limited(sp_error(StatusCode::BAD_REQUEST, "InvalidInput", message), rate)
}

fn not_found(message: &str, rate: &'static str) -> Response {
    rate_limited(sp_error(StatusCode::NOT_FOUND, "NotFound", message), rate)
}

fn wrong_region() -> Response {
    sp_error_details(
        StatusCode::FORBIDDEN,
        "Unauthorized",
        "Access to requested resource is denied.",
        "The marketplaces you provided are not valid for region.",
    )
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

fn throttled() -> Response {
    let mut r =
        sp_error(StatusCode::TOO_MANY_REQUESTS, "QuotaExceeded", "You exceeded your quota for the requested resource.");
    r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    r
}

/// All values of an array parameter: comma-separated (the model's default `csv`
/// collection format) or repeated.
fn list_param(pairs: &[(String, String)], name: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == name)
        .flat_map(|(_, v)| v.split(',').map(|s| s.trim().to_owned()))
        .filter(|s| !s.is_empty())
        .collect()
}

/// The last non-empty value of a scalar parameter.
fn one_param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
}

/// The validated `includedData` values.
fn included_data(pairs: &[(String, String)], rate: &'static str) -> Result<Vec<String>, Box<Response>> {
    let values = list_param(pairs, "includedData");
    match values.iter().find(|v| !INCLUDED_DATA.contains(&v.as_str())) {
        Some(bad) => Err(Box::new(invalid_input(&format!("Invalid includedData value: {bad}"), rate))),
        None => Ok(values),
    }
}

fn money(minor: i64, currency: &str) -> Value {
    json!({ "amount": amount(minor, currency), "currencyCode": currency })
}

fn window(from: DateTime<Utc>, to: DateTime<Utc>) -> Value {
    json!({ "earliestDateTime": amz_time(from), "latestDateTime": amz_time(to) })
}

/// The order as the 2026-01-01 model shapes it, with the requested datasets.
fn order_json(o: &AmzOrder, included: &[String], pii: bool) -> Value {
    let wants = |d: &str| included.iter().any(|v| v == d);
    let cur = o.currency.as_str();
    let cancelled = o.status == "CANCELLED";
    let items: Vec<Value> = o
        .items
        .iter()
        .enumerate()
        .map(|(n, i)| {
            let mut item = json!({
                "orderItemId": i.order_item_id,
                "quantityOrdered": i.quantity,
                "product": {
                    "asin": i.asin,
                    "title": i.title,
                    "sellerSku": i.sku,
                    "condition": { "conditionType": "NEW", "conditionSubtype": "NEW" },
                    "price": { "unitPrice": money(i.unit_cents, cur) },
                },
            });
            if wants("PROCEEDS") {
                let line = i.unit_cents * i64::from(i.quantity);
                let shipping = if n == 0 { o.shipping_cents } else { 0 };
                let mut breakdowns = vec![json!({ "type": "ITEM", "subtotal": money(line, cur) })];
                if shipping > 0 {
                    breakdowns.push(json!({ "type": "SHIPPING", "subtotal": money(shipping, cur) }));
                }
                item["proceeds"] = json!({ "proceedsTotal": money(line + shipping, cur), "breakdowns": breakdowns });
            }
            if wants("FULFILLMENT") {
                let unfulfilled = if cancelled { 0 } else { i.quantity.saturating_sub(i.shipped) };
                item["fulfillment"] = json!({ "quantityFulfilled": i.shipped, "quantityUnfulfilled": unfulfilled });
            }
            if wants("CANCELLATION") && (o.cancel_requested || o.cancelled_by.is_some()) {
                let mut c = json!({});
                if o.cancel_requested {
                    c["cancellationRequest"] =
                        json!({ "requester": "BUYER", "cancelReason": "Buyer requested cancellation" });
                }
                if let Some(by) = &o.cancelled_by {
                    c["cancellationExecution"] = json!({ "cancelledBy": by, "cancelReason": "Order cancelled" });
                }
                item["cancellation"] = c;
            }
            item
        })
        .collect();
    let m = marketplace(&o.marketplace_id);
    let mut order = json!({
        "orderId": o.id,
        "createdTime": amz_time(o.purchased),
        "lastUpdatedTime": amz_time(o.updated),
        "salesChannel": {
            "channelName": "AMAZON",
            "marketplaceId": o.marketplace_id,
            "marketplaceName": m.map(|m| m.name).unwrap_or_default(),
        },
        "orderItems": items,
    });
    let r = seed::recipient(o.recipient);
    if wants("BUYER") && pii {
        let mut buyer = json!({ "buyerName": r.name });
        if matches!(o.status.as_str(), "UNSHIPPED" | "PARTIALLY_SHIPPED" | "SHIPPED") {
            buyer["buyerEmail"] = json!(format!("{}@marketplace.{}", r.buyer.replace('_', ""), market_domain(m)));
        }
        order["buyer"] = buyer;
    }
    if wants("RECIPIENT") {
        let mut address = json!({ "city": r.city, "countryCode": r.country, "addressType": "RESIDENTIAL" });
        if let Some(st) = &r.state {
            address["stateOrRegion"] = json!(st);
        }
        if pii {
            address["name"] = json!(r.name);
            address["addressLine1"] = json!(r.line1);
            if let Some(l2) = &r.line2 {
                address["addressLine2"] = json!(l2);
            }
            address["postalCode"] = json!(r.postal_code);
            address["phone"] = json!(r.phone);
        }
        order["recipient"] = json!({ "deliveryAddress": address });
    }
    if wants("PROCEEDS") {
        let items_total: i64 = o.items.iter().map(|i| i.unit_cents * i64::from(i.quantity)).sum();
        order["proceeds"] = json!({
            "grandTotal": money(items_total + o.shipping_cents, cur),
            "breakdowns": [
                { "type": "ITEM", "subtotal": money(items_total, cur) },
                { "type": "SHIPPING", "subtotal": money(o.shipping_cents, cur) },
            ],
        });
    }
    if wants("FULFILLMENT") {
        order["fulfillment"] = json!({
            "fulfillmentStatus": o.status,
            "fulfilledBy": "MERCHANT",
            "fulfillmentServiceLevel": "STANDARD",
            "shipByWindow": window(o.purchased, ship_by(o)),
            "deliverByWindow": window(o.purchased + Duration::days(5), o.purchased + Duration::days(21)),
        });
    }
    if wants("PACKAGES") {
        let packages: Vec<Value> = o
            .packages
            .iter()
            .map(|p| {
                let mut v = json!({
                    "packageReferenceId": p.package_reference_id,
                    "createdTime": amz_time(p.created),
                    "packageStatus": { "status": "SHIPPED" },
                    "carrier": p.carrier,
                    "shipTime": amz_time(p.ship_time),
                    "trackingNumber": p.tracking_number,
                    "packageItems": p.items.iter().map(|(id, q)| json!({ "orderItemId": id, "quantity": q })).collect::<Vec<_>>(),
                });
                if let Some(s) = &p.shipping_service {
                    v["shippingService"] = json!(s);
                }
                v
            })
            .collect();
        order["packages"] = json!(packages);
    }
    order
}

/// `fulfillment.shipByWindow.latestDateTime`: two days after purchase.
fn ship_by(o: &AmzOrder) -> DateTime<Utc> {
    o.purchased + Duration::days(2)
}

/// `amazon.com`, `amazon.co.uk`, … for the anonymised buyer e-mail.
fn market_domain(m: Option<&Marketplace>) -> &'static str {
    m.map(|m| m.domain.trim_start_matches("www.")).unwrap_or("amazon.com")
}

/// The parameters a paginationToken follow-up must repeat.
fn signature(pairs: &[(String, String)]) -> Vec<(String, Vec<String>)> {
    let mut by_key: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, _) in pairs {
        if !matches!(k.as_str(), "paginationToken" | "maxResultsPerPage" | "includedData") {
            by_key.entry(k.clone()).or_insert_with(|| list_param(pairs, k));
        }
    }
    by_key.into_iter().filter(|(_, v)| !v.is_empty()).collect()
}

async fn search_orders(
    State(fake): State<Arc<AmazonFake>>,
    Extension(region): Extension<Region>,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    const RATE: &str = RATE_SEARCH_ORDERS;
    *lock(&fake.order_calls) += 1;
    if let Err(r) = check_token(&fake, &headers) {
        return *r;
    }
    {
        let mut throttle = lock(&fake.throttle_next);
        if *throttle > 0 {
            *throttle -= 1;
            return throttled();
        }
    }
    let included = match included_data(&pairs, RATE) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let max = match one_param(&pairs, "maxResultsPerPage") {
        None => MAX_RESULTS_PER_PAGE,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=MAX_RESULTS_PER_PAGE).contains(&n) => n,
            _ => return invalid_input("maxResultsPerPage must be between 1 and 100.", RATE),
        },
    };
    let page = match one_param(&pairs, "paginationToken") {
        Some(token) => {
            let found = lock(&fake.pages).get(token).cloned();
            match found {
                Some(p) if p.region == region => {
                    let forced = {
                        let mut n = lock(&fake.expire_next_followups);
                        let hit = *n > 0;
                        *n = n.saturating_sub(1);
                        hit
                    };
                    if forced || p.expires <= Utc::now() {
                        return invalid_input("The paginationToken has expired.", RATE);
                    }
                    if p.signature != signature(&pairs) {
                        return invalid_input(
                            "All parameters other than paginationToken, maxResultsPerPage and includedData must have the same values as in the request that generated the paginationToken.",
                            RATE,
                        );
                    }
                    p
                }
                _ => return invalid_input("Invalid paginationToken.", RATE),
            }
        }
        None => match first_page(&fake, region, &pairs) {
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
                    r#"{"orders":[{"orderId":12,"createdTime":"oops","lastUpdatedTime":"#,
                )
                    .into_response(),
            );
        }
    }
    let pii = *lock(&fake.pii_role);
    let end = (page.offset + max).min(page.ids.len());
    let orders = lock(&fake.orders);
    let listed: Vec<Value> = page.ids[page.offset..end]
        .iter()
        .filter_map(|id| orders.iter().find(|o| o.id == *id))
        .map(|o| order_json(o, &included, pii))
        .collect();
    drop(orders);
    let mut body = json!({ "orders": listed });
    body[page.bound.0] = json!(page.bound.1.clone());
    if end < page.ids.len() {
        let token = seed::random_alnum(40);
        body["pagination"] = json!({ "nextToken": token });
        let expires = Utc::now() + Duration::hours(PAGINATION_TOKEN_TTL_HOURS);
        lock(&fake.pages).insert(token, PageState { offset: end, expires, ..page });
    }
    sp_ok(body, RATE)
}

/// Validates a first searchOrders call and snapshots its result set.
fn first_page(fake: &AmazonFake, region: Region, pairs: &[(String, String)]) -> Result<PageState, Box<Response>> {
    const RATE: &str = RATE_SEARCH_ORDERS;
    let bad = |m: &str| Box::new(invalid_input(m, RATE));
    let mut marketplaces = list_param(pairs, "marketplaceIds");
    if marketplaces.len() > MAX_MARKETPLACE_IDS {
        return Err(bad("marketplaceIds accepts at most 50 values."));
    }
    for id in &marketplaces {
        match marketplace(id) {
            None => return Err(bad(&format!("Invalid marketplaceId: {id}"))),
            Some(m) if m.region != region => return Err(Box::new(wrong_region())),
            Some(_) => {}
        }
    }
    if marketplaces.is_empty() {
        marketplaces = MARKETPLACES.iter().filter(|m| m.region == region).map(|m| m.id.to_owned()).collect();
    }
    let date = |name: &str| -> Result<Option<DateTime<Utc>>, Box<Response>> {
        match one_param(pairs, name) {
            None => Ok(None),
            Some(v) => parse_iso(v).map(Some).ok_or_else(|| bad(&format!("{name} is not a valid ISO 8601 date: {v}"))),
        }
    };
    let (created_after, created_before) = (date("createdAfter")?, date("createdBefore")?);
    let (updated_after, updated_before) = (date("lastUpdatedAfter")?, date("lastUpdatedBefore")?);
    if created_after.is_some() == updated_after.is_some() {
        return Err(bad("Exactly one of createdAfter and lastUpdatedAfter must be provided."));
    }
    if (created_after.is_some() || created_before.is_some()) && (updated_after.is_some() || updated_before.is_some()) {
        return Err(bad(
            "createdAfter and createdBefore cannot be combined with lastUpdatedAfter or lastUpdatedBefore.",
        ));
    }
    let (by_update, after, before, before_name) = match (created_after, updated_after) {
        (Some(a), _) => (false, a, created_before, "createdBefore"),
        (None, Some(a)) => (true, a, updated_before, "lastUpdatedBefore"),
        (None, None) => return Err(bad("Exactly one of createdAfter and lastUpdatedAfter must be provided.")),
    };
    let now = Utc::now();
    if let Some(b) = before {
        if b < after {
            return Err(bad(&format!(
                "{before_name} must be equal to or after the {}.",
                if by_update { "lastUpdatedAfter" } else { "createdAfter" }
            )));
        }
        if b > now - Duration::minutes(2) {
            return Err(bad(&format!("{before_name} must be at least two minutes before the time of the request.")));
        }
    }
    let before = before.unwrap_or(now);
    let statuses = list_param(pairs, "fulfillmentStatuses");
    if let Some(s) = statuses.iter().find(|s| !FULFILLMENT_STATUSES.contains(&s.as_str())) {
        return Err(bad(&format!("Invalid fulfillmentStatuses value: {s}")));
    }
    let fulfilled_by = list_param(pairs, "fulfilledBy");
    if let Some(f) = fulfilled_by.iter().find(|f| *f != "MERCHANT" && *f != "AMAZON") {
        return Err(bad(&format!("Invalid fulfilledBy value: {f}")));
    }
    let merchant = fulfilled_by.is_empty() || fulfilled_by.iter().any(|f| f == "MERCHANT");
    let mut matching: Vec<(DateTime<Utc>, String)> = lock(&fake.orders)
        .iter()
        .filter(|o| {
            let t = if by_update { o.updated } else { o.purchased };
            merchant
                && marketplaces.contains(&o.marketplace_id)
                && t >= after
                && t <= before
                && (statuses.is_empty() || statuses.contains(&o.status))
        })
        .map(|o| (if by_update { o.updated } else { o.purchased }, o.id.clone()))
        .collect();
    matching.sort();
    Ok(PageState {
        ids: matching.into_iter().map(|(_, id)| id).collect(),
        offset: 0,
        region,
        signature: signature(pairs),
        expires: now + Duration::hours(PAGINATION_TOKEN_TTL_HOURS),
        bound: (before_name, amz_time(before)),
    })
}

/// The order, if it exists and belongs to a marketplace of `region`.
fn find_order(
    fake: &AmazonFake,
    region: Region,
    order_id: &str,
    rate: &'static str,
) -> Result<AmzOrder, Box<Response>> {
    if !is_order_id(order_id) {
        return Err(Box::new(invalid_input(&format!("Invalid orderId: {order_id}"), rate)));
    }
    lock(&fake.orders)
        .iter()
        .find(|o| o.id == order_id && marketplace(&o.marketplace_id).is_some_and(|m| m.region == region))
        .cloned()
        .ok_or_else(|| Box::new(not_found("The requested order was not found.", rate)))
}

async fn get_order(
    State(fake): State<Arc<AmazonFake>>,
    Extension(region): Extension<Region>,
    headers: HeaderMap,
    Path(order_id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    if let Err(r) = check_token(&fake, &headers) {
        return *r;
    }
    let included = match included_data(&pairs, RATE_GET_ORDER) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    match find_order(&fake, region, &order_id, RATE_GET_ORDER) {
        Ok(o) => sp_ok(json!({ "order": order_json(&o, &included, *lock(&fake.pii_role)) }), RATE_GET_ORDER),
        Err(r) => *r,
    }
}

async fn marketplace_participations(
    State(fake): State<Arc<AmazonFake>>,
    Extension(region): Extension<Region>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = check_token(&fake, &headers) {
        return *r;
    }
    let payload: Vec<Value> = SELLER_MARKETPLACES
        .iter()
        .filter_map(|id| marketplace(id))
        .filter(|m| m.region == region)
        .map(|m| {
            json!({
                "marketplace": {
                    "id": m.id,
                    "name": m.name,
                    "countryCode": m.country,
                    "defaultCurrencyCode": m.currency,
                    "defaultLanguageCode": m.language,
                    "domainName": m.domain,
                },
                "storeName": SANDBOX_STORE_NAME,
                "participation": { "isParticipating": true, "hasSuspendedListings": false },
            })
        })
        .collect();
    sp_ok(json!({ "payload": payload }), RATE_MARKETPLACE_PARTICIPATIONS)
}

/// A validated confirmShipment package.
struct Confirmation {
    package_reference_id: String,
    carrier: String,
    shipping_service: Option<String>,
    tracking_number: String,
    ship_date: DateTime<Utc>,
    items: Vec<(String, u32)>,
}

/// Checks a confirmShipment body against the order (ordersV0.json ConfirmShipmentRequest).
fn parse_confirmation(order: &AmzOrder, req: &Value) -> Result<Confirmation, String> {
    let text = |v: &Value| v.as_str().unwrap_or_default().trim().to_owned();
    let marketplace_id = text(&req["marketplaceId"]);
    if marketplace_id.is_empty() {
        return Err("marketplaceId is required.".into());
    }
    if marketplace_id != order.marketplace_id {
        return Err(format!("marketplaceId {marketplace_id} is not the order's marketplace."));
    }
    let pkg = &req["packageDetail"];
    if !pkg.is_object() {
        return Err("packageDetail is required.".into());
    }
    let package_reference_id = text(&pkg["packageReferenceId"]);
    if !package_reference_id.parse::<u64>().is_ok_and(|n| n > 0) {
        return Err("packageReferenceId must be a positive numeric value.".into());
    }
    let carrier_code = text(&pkg["carrierCode"]);
    if carrier_code.is_empty() {
        return Err("carrierCode is required.".into());
    }
    let carrier_name = text(&pkg["carrierName"]);
    let carrier = if carrier_code == "Other" {
        if carrier_name.is_empty() {
            return Err("carrierName is required when carrierCode is Other.".into());
        }
        carrier_name
    } else if CARRIER_CODES.contains(&carrier_code.as_str()) {
        carrier_code
    } else {
        return Err(format!(
            "Invalid carrierCode: {carrier_code}. Use a listed carrier code, or Other with carrierName."
        ));
    };
    let tracking_number = text(&pkg["trackingNumber"]);
    if tracking_number.is_empty() {
        return Err("trackingNumber is required.".into());
    }
    let ship_date = text(&pkg["shipDate"]);
    let Some(ship_date) = DateTime::parse_from_rfc3339(&ship_date).ok().map(|d| d.with_timezone(&Utc)) else {
        return Err(format!("shipDate must be an ISO 8601 date-time: {ship_date}"));
    };
    let Some(lines) = pkg["orderItems"].as_array().filter(|a| !a.is_empty()) else {
        return Err("orderItems is required.".into());
    };
    let mut items: Vec<(String, u32)> = Vec::new();
    for l in lines {
        let id = text(&l["orderItemId"]);
        if !order.items.iter().any(|i| i.order_item_id == id) {
            return Err(format!("Invalid orderItemId: {id}"));
        }
        let Some(qty) = l["quantity"].as_u64().and_then(|q| u32::try_from(q).ok()).filter(|q| *q > 0) else {
            return Err(format!("Invalid quantity for orderItemId {id}."));
        };
        match items.iter_mut().find(|(i, _)| *i == id) {
            Some((_, q)) => *q += qty,
            None => items.push((id, qty)),
        }
    }
    items.sort();
    let shipping_service = Some(text(&pkg["shippingMethod"])).filter(|s| !s.is_empty());
    Ok(Confirmation { package_reference_id, carrier, shipping_service, tracking_number, ship_date, items })
}

fn lost_answer() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::CONTENT_TYPE, "text/html")],
        "<html><head><title>503 Service Temporarily Unavailable</title></head><body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>",
    )
        .into_response()
}

async fn confirm_shipment(
    State(fake): State<Arc<AmazonFake>>,
    Extension(region): Extension<Region>,
    headers: HeaderMap,
    Path(order_id): Path<String>,
    body: Bytes,
) -> Response {
    const RATE: &str = RATE_CONFIRM_SHIPMENT;
    *lock(&fake.write_calls) += 1;
    if let Err(r) = check_token(&fake, &headers) {
        return *r;
    }
    let order = match find_order(&fake, region, &order_id, RATE) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return invalid_input("The request body is not valid JSON.", RATE);
    };
    let c = match parse_confirmation(&order, &req) {
        Ok(c) => c,
        Err(m) => return invalid_input(&m, RATE),
    };
    if !matches!(order.status.as_str(), "UNSHIPPED" | "PARTIALLY_SHIPPED" | "SHIPPED") {
        return invalid_input(&format!("The order cannot be confirmed in status {}.", order.status), RATE);
    }
    let now = Utc::now().trunc_subsecs(0);
    {
        let mut orders = lock(&fake.orders);
        let Some(o) = orders.iter_mut().find(|o| o.id == order_id) else {
            return not_found("The requested order was not found.", RATE);
        };
        if let Some(p) = o.packages.iter_mut().find(|p| p.package_reference_id == c.package_reference_id) {
            // The same package again: its tracking details are replaced, quantities stay.
            if p.items != c.items {
                return invalid_input(
                    &format!("packageReferenceId {} was already confirmed with other items.", c.package_reference_id),
                    RATE,
                );
            }
            p.carrier = c.carrier;
            p.shipping_service = c.shipping_service;
            p.tracking_number = c.tracking_number;
            p.ship_time = c.ship_date;
        } else {
            for (id, qty) in &c.items {
                if o.items.iter().any(|i| i.order_item_id == *id && i.shipped + qty > i.quantity) {
                    return invalid_input(
                        &format!("Invalid quantity for orderItemId {id}: more than remains unshipped."),
                        RATE,
                    );
                }
            }
            for (id, qty) in &c.items {
                if let Some(item) = o.items.iter_mut().find(|i| i.order_item_id == *id) {
                    item.shipped += qty;
                }
            }
            o.packages.push(AmzPackage {
                package_reference_id: c.package_reference_id,
                created: now,
                carrier: c.carrier,
                shipping_service: c.shipping_service,
                tracking_number: c.tracking_number,
                ship_time: c.ship_date,
                items: c.items,
            });
            let done = o.items.iter().all(|i| i.shipped >= i.quantity);
            o.status = if done { "SHIPPED" } else { "PARTIALLY_SHIPPED" }.to_owned();
        }
        o.updated = now;
    }
    lock(&fake.fulfillments).push((order_id, req));
    {
        let mut lose = lock(&fake.lose_next_writes);
        if *lose > 0 {
            *lose -= 1;
            return lost_answer();
        }
    }
    request_id(rate_limited(StatusCode::NO_CONTENT.into_response(), RATE))
}

// ---------------------------------------------------------------------------------
// Seed data.

/// Marketplace of each position in a block of 20 orders: 12 US, 2 UK, 2 DE, 1 FR,
/// 1 ES, 2 JP (40 % outside the US).
const SLOTS: [&str; 20] = [
    MARKETPLACE_US,
    MARKETPLACE_UK,
    MARKETPLACE_US,
    MARKETPLACE_DE,
    MARKETPLACE_US,
    MARKETPLACE_JP,
    MARKETPLACE_US,
    MARKETPLACE_FR,
    MARKETPLACE_US,
    MARKETPLACE_US,
    MARKETPLACE_UK,
    MARKETPLACE_US,
    MARKETPLACE_DE,
    MARKETPLACE_US,
    MARKETPLACE_JP,
    MARKETPLACE_US,
    MARKETPLACE_ES,
    MARKETPLACE_US,
    MARKETPLACE_US,
    MARKETPLACE_US,
];

/// Order-id prefix per marketplace (the first group of the 3-7-7 id).
fn id_prefix(marketplace_id: &str, i: usize) -> String {
    match marketplace_id {
        MARKETPLACE_UK => format!("20{}", 2 + i % 5),
        MARKETPLACE_DE => format!("30{}", 2 + i % 5),
        MARKETPLACE_FR | MARKETPLACE_ES => format!("40{}", 2 + i % 5),
        MARKETPLACE_JP => format!("25{}", i % 10),
        _ => format!("11{}", 1 + i % 4),
    }
}

/// A recipient in the marketplace's country (US orders ship worldwide).
fn recipient_for(marketplace_id: &str, i: usize) -> usize {
    // Indexes of `seed::recipient` per country: ES 2, DE 3, JP 5, FR 6, GB 7.
    let person = match marketplace_id {
        MARKETPLACE_ES => 2,
        MARKETPLACE_DE => 3,
        MARKETPLACE_JP => 5,
        MARKETPLACE_FR => 6,
        MARKETPLACE_UK => 7,
        _ => return i,
    };
    i - i % 12 + person
}

/// How many orders before `i` were placed in the same marketplace.
fn market_seq(i: usize) -> usize {
    let slot = i % SLOTS.len();
    let m = SLOTS[slot];
    let per_block = SLOTS.iter().filter(|s| **s == m).count();
    i / SLOTS.len() * per_block + SLOTS[..slot].iter().filter(|s| **s == m).count()
}

/// One realistic order, deterministic in `i`: 1-3 items, updated `base + 7i s`. Within
/// each marketplace, orders number 3 and 13 of every 20 are SHIPPED (with a package) and
/// number 8 is CANCELLED (10 % and 5 %); the rest are UNSHIPPED.
fn seed_order(i: usize, base: DateTime<Utc>) -> AmzOrder {
    let updated = base + Duration::seconds(i64::try_from(i).unwrap_or(0) * 7);
    let purchased = updated - Duration::hours(2);
    let marketplace_id = SLOTS[i % 20];
    let currency = marketplace(marketplace_id).map(|m| m.currency).unwrap_or("USD");
    let jpy = currency == "JPY";
    let items = (0..1 + i % 3)
        .map(|l| {
            let quantity = 1 + ((i + l) % 3) as u32;
            let cents = 299 + ((i * 11 + l * 17) % 4000) as i64;
            AmzItem {
                order_item_id: format!("{:014}", 10_000_000_000_000u64 + (i * 10 + l) as u64),
                asin: format!("B0{:08X}", 0x1A2B_3C00u32 + ((i + l) % 8) as u32),
                sku: seed::sku(i + l),
                title: seed::title(i + l),
                quantity,
                shipped: 0,
                unit_cents: if jpy { cents * 3 / 20 * 10 } else { cents },
            }
        })
        .collect();
    let mut o = AmzOrder {
        id: format!(
            "{}-{:07}-{:07}",
            id_prefix(marketplace_id, i),
            (1_234_567 + i * 7_919) % 10_000_000,
            (7_654_321 + i * 104_729) % 10_000_000
        ),
        status: "UNSHIPPED".to_owned(),
        purchased,
        updated,
        recipient: recipient_for(marketplace_id, i),
        marketplace_id: marketplace_id.to_owned(),
        currency: currency.to_owned(),
        items,
        shipping_cents: if jpy { 500 + (i % 4) as i64 * 100 } else { 399 + (i % 4) as i64 * 100 },
        packages: Vec::new(),
        cancel_requested: false,
        cancelled_by: None,
    };
    match market_seq(i) % 20 {
        3 | 13 => ship_remaining(&mut o, purchased + Duration::hours(1)),
        8 => cancel(&mut o),
        _ => {}
    }
    o
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
    fn seed_mix_and_currencies() {
        let base = seed::base_time();
        let orders: Vec<AmzOrder> = (0..400).map(|i| seed_order(i, base)).collect();
        let count = |f: &dyn Fn(&AmzOrder) -> bool| orders.iter().filter(|o| f(o)).count();
        assert_eq!(count(&|o: &AmzOrder| o.marketplace_id != MARKETPLACE_US), 160);
        assert_eq!(count(&|o: &AmzOrder| o.status == "SHIPPED"), 40);
        assert_eq!(count(&|o: &AmzOrder| o.status == "CANCELLED"), 20);
        assert!(orders[..5].iter().all(|o| o.status == "UNSHIPPED"));
        let orders: Vec<AmzOrder> = orders.into_iter().take(200).collect();
        for m in SELLER_MARKETPLACES {
            let here: Vec<&AmzOrder> = orders.iter().filter(|o| o.marketplace_id == *m).collect();
            assert!(here.iter().any(|o| o.status == "SHIPPED"), "{m}");
            assert!(here.iter().any(|o| o.status == "CANCELLED"), "{m}");
            assert!(here.iter().filter(|o| o.status == "UNSHIPPED").count() * 2 > here.len(), "{m}");
        }
        let jp = orders.iter().find(|o| o.marketplace_id == MARKETPLACE_JP).unwrap();
        let v = order_json(jp, &["PROCEEDS".to_owned()], true);
        assert_eq!(v["proceeds"]["grandTotal"]["currencyCode"], "JPY");
        assert!(!v["proceeds"]["grandTotal"]["amount"].as_str().unwrap().contains('.'));
        let uk = orders.iter().find(|o| o.marketplace_id == MARKETPLACE_UK).unwrap();
        let v = order_json(uk, &["PROCEEDS".to_owned()], true);
        assert_eq!(v["proceeds"]["grandTotal"]["currencyCode"], "GBP");
        assert!(v["proceeds"]["grandTotal"]["amount"].as_str().unwrap().contains('.'));
    }

    #[test]
    fn included_data_and_pii() {
        let o = seed_order(5, seed::base_time());
        let basic = order_json(&o, &[], true);
        assert!(basic.get("recipient").is_none() && basic.get("fulfillment").is_none());
        assert_eq!(basic["orderItems"][0]["product"]["sellerSku"], json!(o.items[0].sku));
        let all: Vec<String> =
            ["RECIPIENT", "BUYER", "FULFILLMENT", "PACKAGES"].iter().map(|s| s.to_string()).collect();
        let v = order_json(&o, &all, true);
        assert!(v["recipient"]["deliveryAddress"]["addressLine1"].is_string());
        assert_eq!(v["fulfillment"]["fulfillmentStatus"], json!(o.status));
        let v = order_json(&o, &all, false);
        assert!(v["recipient"]["deliveryAddress"].get("addressLine1").is_none());
        assert!(v["recipient"]["deliveryAddress"]["countryCode"].is_string());
        assert!(v.get("buyer").is_none());
    }

    #[test]
    fn shipping_outside_adds_a_package() {
        let mut o = seed_order(1, seed::base_time());
        assert_eq!(o.status, "UNSHIPPED");
        ship_remaining(&mut o, Utc::now());
        assert_eq!(o.status, "SHIPPED");
        assert_eq!(o.packages.len(), 1);
        assert_eq!(o.packages[0].package_reference_id, "1");
        let v = order_json(&o, &["PACKAGES".to_owned()], true);
        assert!(v["packages"][0]["trackingNumber"].is_string());
        assert_eq!(native_status("Canceled"), Some("CANCELLED"));
        assert_eq!(native_status("CHANGED_AGAIN"), None);
    }
}
