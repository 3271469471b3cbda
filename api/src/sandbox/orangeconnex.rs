//! A fake OrangeConnex (OC, 橙联) overseas-warehouse server, written from OC's own documents
//! (ef-open-api.apifox.cn, OC's Postman collections and ERP guide, as cited in
//! `connectors/logistics/orangeconnex/WIRE.md`) and independent of the OC connector: no
//! shared DTOs, signing, time or paging code, so a misreading on one side shows up as a
//! failing call.
//!
//! - Regions are OC's own codes ([`REGIONS`]: UK, DE, AU, AU-MEL, US-East, US-South,
//!   US-West); `GB` is not one. SKU creation naming no known region answers HTTP 200
//!   `success:false`; outbound and inbound orders in an unknown region are refused.
//!
//! - OAuth 2 authorization code: `GET /oauth/authorize` shows a sign-in/consent page
//!   (a "seller" field names the OC account the tokens act for; `POST /oauth/authorize`
//!   or `GET …&approve=1[&seller=…]` approves) and redirects to
//!   `redirect_uri?act=getAuthorizationCode&code=…&state=…`; codes contain `/`, `+` and
//!   `=`, are single use and live 10 minutes. `POST /oauth/token` takes its parameters
//!   from the query string only (the body is ignored); client auth by no header, `Basic`
//!   or `Bearer` base64(clientKey:secretKey); a code URL-encoded twice is accepted.
//!   Access tokens live 3600 s, refresh tokens one year; the refresh grant answers no new
//!   refresh token. Errors in Spring Security OAuth shape (`invalid_grant`,
//!   `invalid_client`, `invalid_request`, `unsupported_grant_type`).
//! - Signed calls under `/openapi/3pp/…`, checked in this order: `Access-Token: Bearer …`
//!   (missing, unknown or expired → `"401"`, HTTP 200 or 401 when toggled); `clientKey`
//!   known and the token's own, `TimeStamp` (epoch ms) within 5 minutes, `vAuthorization`
//!   = lower-hex MD5 of `path|body|clientKey|secretKey` over the raw body bytes (or
//!   `path||…` in [`SignMode::PathOnly`]) → `"403"`; `Content-Type: application/json`
//!   and the envelope `{messageId, timestamp, data}` on POST → `"400"`.
//! - Seller data (SKUs, stock, movements, outbound and inbound orders) belongs to the
//!   seller the access token was issued for; sellers never see each other's data.
//! - Time moves lazily: whenever anything is read, SKU drafts older than the review delay
//!   become `APPROVED`, outbound orders advance one status per outbound step
//!   (`CREATED → PROCESSING → PICKED → PACKED → SHIPPED`) and inbound orders one per
//!   inbound step (`Created → In transit → Receiving → Put away`), each transition
//!   stamped with the time it would have happened, with its side effects (tracking from
//!   `PACKED`, stock and `OEH` movement at `SHIPPED`, stock and `PAC` movements at
//!   `Put away`). Steps and delay are `None` (manual only) after [`OcFake::new`].
//!
//! - Lost answers ([`OcFake::lose_next_answers`]): the next calls of an operation are
//!   carried out, then answered HTTP 500 or with the connection closed, so the caller
//!   cannot tell whether anything happened. A repeated live `referenceNumber` is refused
//!   per item (`DUPLICATE_REFERENCE_NUMBER` with the existing `orderNumber`), a repeated
//!   `sellerInboundNumber` for the call (`DUPLICATE_SELLER_INBOUND_NUMBER`); a repeated
//!   `referenceSKUID` answers the SKU already registered.
//! - Held calls ([`OcFake::hold_next`]): the next calls of an operation wait, before being
//!   carried out, until [`OcFake::release_held`] (a slow OC while another request runs).
//! - Lookup lag ([`OcFake::set_inbound_lookup_lag`]): the inbound detail query shows an
//!   inbound order only this long after its creation (OC's read side catching up).
//!
//! Choices where WIRE.md is silent are marked CHOICE in the comments below.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{DefaultBodyLimit, Query, RawQuery, State},
    http::{HeaderMap, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
    routing::{MethodRouter, get, post},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, Offset, SubsecRound, TimeZone, Utc};
use md5::{Digest, Md5};
use serde_json::{Value, json};

use super::seed;

pub const SANDBOX_CLIENT_KEY: &str = "shipgate-sandbox-oc-client";
pub const SANDBOX_SECRET_KEY: &str = "shipgate-sandbox-oc-secret-0000";
/// The OC account the consent page proposes.
pub const DEFAULT_SELLER: &str = "sandbox-seller";

const ACCESS_TTL_SECONDS: i64 = 3600;
const REFRESH_TTL_DAYS: i64 = 365;
const CODE_TTL_SECONDS: i64 = 600;
const TIMESTAMP_SKEW_SECONDS: i64 = 300;
const MAX_SKU_CREATION: usize = 200;
const MAX_PAGE_SIZE: u64 = 200;
const MAX_OUTBOUND_BATCH: usize = 50;
/// CHOICE (WIRE.md): criteria lists of OrdersQuery hold at most 100 entries.
const MAX_ORDER_QUERY_LIST: usize = 100;
const MAX_ORDER_QUERY_RESULTS: usize = 1000;
const MAX_INBOUND_DETAIL: usize = 50;
/// Inbound detail/list windows (apifox "Inbound Order Detail Query"; evamp-ops' client).
const MAX_INBOUND_WINDOW_DAYS: i64 = 7;
const MAX_SNAPSHOT_SKUS: usize = 200;
const MAX_MOVEMENT_SKUS: usize = 50;
const MAX_MOVEMENT_WINDOW_DAYS: i64 = 7;
const MOVEMENT_LOOKBACK_DAYS: i64 = 365;
const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// Request bodies of the clearance-file upload may carry several base64 files.
const MAX_UPLOAD_BODY: usize = 64 * 1024 * 1024;
/// CHOICE: quantities above this are refused (keeps stock arithmetic far from overflow).
const MAX_QUANTITY: u64 = 1_000_000;
/// Every list the fake does not otherwise limit (SKU names, cartons, products…).
const MAX_OTHER_LIST: usize = 1000;

/// OC's service regions (its own codes, not ISO countries): the regions of getServiceList
/// in OC's Postman capture, and the regional warehouses of StockSnapshot v2's description.
/// `GB` is not one of them. Used by SKU creation, services, stock, outbound and inbound.
pub const REGIONS: [&str; 7] = ["UK", "DE", "AU", "AU-MEL", "US-East", "US-South", "US-West"];

/// `(serviceRegion, shippingServiceCode, en-US name, zh-CN name)`, as getServiceList answered
/// in OC's Postman collection (`OC openAPI-Stage.postman_collection.json`, saved response).
const SERVICES: &[(&str, &str, &str, &str)] = &[
    ("DE", "DEDomesticStandard", "DE Domestic Standard", "德国国内标准配送"),
    ("DE", "DEInternationalStandard", "DE International Standard", "德国国际标准配送"),
    ("DE", "DEDomesticEconomy", "DE Domestic Economy", "德国国内经济配送"),
    ("DE", "DEDomesticFreight", "DE Domestic Freight", "德国国内大件配送"),
    ("DE", "DEDomStd_GLSPreferred", "DE Domestic Standard-GLS as Preferred Carrier", "德国国内标准配送-优先GLS"),
    ("DE", "DEDomStd_GLSOnly", "DE Domestic Standard-GLS as Assigned Carrier", "德国国内标准配送-指定GLS"),
    ("DE", "DEIntStd_GLSPreferred", "DE International Standard-GLS as Preferred Carrier", "德国国际标准配送-优先GLS"),
    ("DE", "DEIntStd_GLSOnly", "DE International Standard-GLS as Assigned Carrier", "德国国际标准配送-指定GLS"),
    ("UK", "GBDomesticStandard", "GB Domestic Standard", "英国国内标准配送"),
    ("UK", "GBDomesticExpress", "GB Express", "英国国内快捷配送"),
    ("UK", "GBDomesticEconomy", "GB Domestic Economy", "英国国内经济信件配送"),
    ("UK", "GBDomesticStandardLetter", "GB Domestic Standard Letter", "英国国内标准信件配送"),
    ("UK", "GBInternationalStandard", "GB International", "英国国际标准配送"),
    ("UK", "GBDomesticFreight", "GB Domestic Freight", "英国国内大件配送"),
    (
        "UK",
        "GBDomStd_RMPreferred",
        "UK Domestic Standard-Royal Mail as Preferred Carrier",
        "英国国内标准配送-优先Royal Mail",
    ),
    ("UK", "GBDomStd_RMOnly", "UK Domestic Standard-Royal Mail as Assigned Carrier", "英国国内标准配送-指定Royal Mail"),
    ("UK", "GBDomStd_HMPreferred", "UK Domestic Standard-EVRi as Preferred Carrier", "英国国内标准配送-优先EVRi"),
    ("UK", "GBDomStd_HMOnly", "UK Domestic Standard-EVRi as Assigned Carrier", "英国国内标准配送-指定EVRi"),
    (
        "UK",
        "GBDomExp_RMPreferred",
        "UK Domestic Express-Royal Mail as Preferred Carrier",
        "英国国内快捷配送-优先Royal Mail",
    ),
    ("UK", "GBDomExp_RMOnly", "UK Domestic Express-Royal Mail as Assigned Carrier", "英国国内快捷配送-指定Royal Mail"),
    ("UK", "GBDomExp_HMPreferred", "UK Domestic Express-EVRi as Preferred Carrier", "英国国内快捷配送-优先EVRi"),
    ("UK", "GBDomExp_HMOnly", "UK Domestic Express-EVRi as Assigned Carrier", "英国国内快捷配送-指定EVRi"),
    ("UK", "GBDomExp_YodelPreferred", "UK Domestic Express-Yodel as Preferred Carrier", "英国国内快捷配送-优先Yodel"),
    ("UK", "GBDomStd_YodelOnly", "UK Domestic Standard-Yodel as Assigned Carrier", "英国国内标准配送-指定Yodel"),
    ("UK", "GBDomExp_YodelOnly", "UK Domestic Express-Yodel as Assigned Carrier", "英国国内快捷配送-指定Yodel"),
    ("UK", "GBDomStd_YodelPreferred", "UK Domestic Standard-Yodel as Preferred Carrier", "英国国内标准配送-优先Yodel"),
    ("AU", "AUDomesticExpress", "AU Express", "澳大利亚国内快捷配送"),
    (
        "AU",
        "AU_AUP_eParcel",
        "AU Domestic-Australia Post eParcel as Assigned Carrier",
        "澳大利亚国内指定Australia Post eParcel",
    ),
    (
        "AU",
        "AU_AUP_Express",
        "AU Domestic-Australia Post Express as Assigned Carrier",
        "澳大利亚国内指定Australia Post Express",
    ),
    ("AU", "AUDomesticStandard", "AU Domestic Standard", "澳大利亚国内标准配送"),
    ("AU", "AUDomesticEconomy", "AU Domestic Economy", "澳大利亚国内经济配送"),
    ("AU", "AUDomesticFreight", "AU Domestic Freight", "澳大利亚国内大件配送"),
    (
        "AU",
        "AUDomStd_AUPostPreferred",
        "AU Domestic Standard-AU Post as Preferred Carrier",
        "澳大利亚国内标准配送-优先AU Post",
    ),
    ("AU", "AUDomStd_PFLPreferred", "AU Domestic Standard-PFL as Preferred Carrier", "澳大利亚国内标准配送-优先PFL"),
    (
        "AU",
        "AUDomStd_AUPostOnly",
        "AU Domestic Standard-AU Post as Assigned Carrier",
        "澳大利亚国内标准配送-指定AU Post",
    ),
    ("AU", "AUDomStd_PFLOnly", "AU Domestic Standard-PFL as Assigned Carrier", "澳大利亚国内标准配送-指定PFL"),
    ("AU", "AUInternationalStandard", "AU International Standard", "澳洲国际标准服务"),
    ("AU", "AU_PFLOnly", "AU Domestic-PFL as Assigned Carrier", "澳大利亚国内指定PFL配送"),
    (
        "US-West",
        "USDomesticStandard",
        "US Domestic Standard-USPS Ground Advantage as Assigned Carrier",
        "美国国内标准配送-指定USPS Ground Advantage",
    ),
    (
        "US-West",
        "USDomesticExpress",
        "US Domestic Express-USPS Priority Mail as Assigned Carrier",
        "美国国内快捷配送-指定USPS Priority Mail",
    ),
    ("US-West", "USDomesticEconomy", "US Domestic Economy", "美国国内经济配送"),
    ("US-West", "US_UPSMIOnly", "US Domestic-UPS MI as Assigned Carrier", "美国国内指定UPS MI配送"),
    ("US-West", "USInternationalStandard", "US International Standard", "美国国际标准服务"),
    (
        "US-West",
        "US_FedExOnly",
        "US Domestic Standard-FedEx Ground as Assigned Carrier",
        "美国国内标准配送-指定FedEx Ground",
    ),
    (
        "US-West",
        "USDomestic_UPSGroundOnly",
        "US Domestic Standard-UPS Ground as Assigned Carrier",
        "美国国内标准配送-指定UPS Ground",
    ),
    (
        "US-West",
        "USDomestic_UPSSurePostOnly",
        "US Domestic-UPS SurePost as Assigned Carrier",
        "美国国内指定UPS SurePost配送",
    ),
    (
        "US-East",
        "USDomesticStandard",
        "US Domestic Standard-USPS Ground Advantage as Assigned Carrier",
        "美国国内标准配送-指定USPS Ground Advantage",
    ),
    (
        "US-East",
        "USDomesticExpress",
        "US Domestic Express-USPS Priority Mail as Assigned Carrier",
        "美国国内快捷配送-指定USPS Priority Mail",
    ),
    ("US-East", "USDomesticEconomy", "US Domestic Economy", "美国国内经济配送"),
    ("US-East", "US_UPSMIOnly", "US Domestic-UPS MI as Assigned Carrier", "美国国内指定UPS MI配送"),
    ("US-East", "USInternationalStandard", "US International Standard", "美国国际标准服务"),
    (
        "US-East",
        "US_FedExOnly",
        "US Domestic Standard-FedEx Ground as Assigned Carrier",
        "美国国内标准配送-指定FedEx Ground",
    ),
    (
        "US-East",
        "USDomestic_UPSGroundOnly",
        "US Domestic Standard-UPS Ground as Assigned Carrier",
        "美国国内标准配送-指定UPS Ground",
    ),
    (
        "US-East",
        "USDomestic_UPSSurePostOnly",
        "US Domestic-UPS SurePost as Assigned Carrier",
        "美国国内指定UPS SurePost配送",
    ),
    (
        "US-South",
        "USDomesticStandard",
        "US Domestic Standard-USPS Ground Advantage as Assigned Carrier",
        "美国国内标准配送-指定USPS Ground Advantage",
    ),
    (
        "US-South",
        "USDomesticExpress",
        "US Domestic Express-USPS Priority Mail as Assigned Carrier",
        "美国国内快捷配送-指定USPS Priority Mail",
    ),
    ("US-South", "USDomesticEconomy", "US Domestic Economy", "美国国内经济配送"),
    ("US-South", "US_UPSMIOnly", "US Domestic-UPS MI as Assigned Carrier", "美国国内指定UPS MI配送"),
    ("US-South", "USInternationalStandard", "US International Standard", "美国国际标准服务"),
    (
        "US-South",
        "US_FedExOnly",
        "US Domestic Standard-FedEx Ground as Assigned Carrier",
        "美国国内标准配送-指定FedEx Ground",
    ),
    (
        "US-South",
        "USDomestic_UPSGroundOnly",
        "US Domestic Standard-UPS Ground as Assigned Carrier",
        "美国国内标准配送-指定UPS Ground",
    ),
    (
        "US-South",
        "USDomestic_UPSSurePostOnly",
        "US Domestic-UPS SurePost as Assigned Carrier",
        "美国国内指定UPS SurePost配送",
    ),
    (
        "AU-MEL",
        "AU_AUP_eParcel",
        "AU Domestic-Australia Post eParcel as Assigned Carrier",
        "澳大利亚国内指定Australia Post eParcel",
    ),
    (
        "AU-MEL",
        "AU_AUP_Express",
        "AU Domestic-Australia Post Express as Assigned Carrier",
        "澳大利亚国内指定Australia Post Express",
    ),
    ("AU-MEL", "AU_PFLOnly", "AU Domestic-PFL as Assigned Carrier", "澳大利亚国内指定PFL配送"),
];

const SKU_STATUSES: [&str; 4] = ["DRAFT", "SUBMITTED", "APPROVED", "REJECTED"];
const OUTBOUND_FLOW: [&str; 5] = ["CREATED", "PROCESSING", "PICKED", "PACKED", "SHIPPED"];
const OUTBOUND_OTHER: [&str; 2] = ["CANCELLED", "EXCEPTION"];
const INBOUND_FLOW: [&str; 4] = ["Created", "In transit", "Receiving", "Put away"];
const INBOUND_OTHER: [&str; 1] = ["Cancelled"];

// Item error codes of placeOutboundOrder (CHOICE in WIRE.md).
const EBAY_ORDER_ID_INVALID: &str = "EBAY_ORDER_ID_INVALID";
const MFSKUID_NOT_FOUND: &str = "MFSKUID_NOT_FOUND";
const SKU_NOT_APPROVED: &str = "SKU_NOT_APPROVED";
const SERVICE_NOT_FOUND: &str = "SERVICE_NOT_FOUND";
const FIELD_INVALID: &str = "FIELD_INVALID";
const DUPLICATE_REFERENCE_NUMBER: &str = "DUPLICATE_REFERENCE_NUMBER";
/// CHOICE (WIRE.md): the refusal of a sellerInboundNumber already used.
const DUPLICATE_SELLER_INBOUND_NUMBER: &str = "DUPLICATE_SELLER_INBOUND_NUMBER";

// ---------------------------------------------------------------------------------
// State.

/// Which bytes fill the body slot of the signature (WIRE.md "Signed calls").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignMode {
    /// `path|body|clientKey|secretKey` (default).
    PathAndBody,
    /// `path||clientKey|secretKey` (OC's Postman).
    PathOnly,
}

/// How the fake loses the answer to a call it has applied (test hook
/// [`OcFake::lose_next_answers`]): the caller cannot tell whether anything happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LostAnswer {
    /// HTTP 500 with a gateway's plain-text body, as a proxy answers when the service behind
    /// it failed after doing the work.
    Http500,
    /// The connection closes before the answer is complete.
    Disconnect,
}

/// An ERP app registered with OC: its SecretKey and the one redirect URI it may use.
#[derive(Clone)]
pub struct FakeApp {
    pub secret_key: String,
    pub redirect_uri: String,
}

struct Code {
    client_key: String,
    redirect_uri: String,
    seller: String,
    expires: DateTime<Utc>,
}

/// What an access or refresh token stands for.
struct Grant {
    client_key: String,
    seller: String,
    expires: DateTime<Utc>,
}

#[derive(Default)]
struct Tokens {
    codes: HashMap<String, Code>,
    access: HashMap<String, Grant>,
    refresh: HashMap<String, Grant>,
    issued: Vec<String>,
}

/// How fast things move by themselves; `None` = only through the test hooks.
#[derive(Clone, Copy, Default)]
struct Timing {
    outbound: Option<Duration>,
    inbound: Option<Duration>,
    review: Option<Duration>,
}

struct Sku {
    seller: String,
    mfskuid: String,
    reference: String,
    seller_sku: String,
    /// `SKUNameList` as created.
    names: Value,
    regions: Vec<String>,
    status: String,
    /// When the current status was set (drafts auto-approve from here).
    status_at: DateTime<Utc>,
    updated: DateTime<Utc>,
}

struct Movement {
    id: u64,
    mfskuid: String,
    region: String,
    status: String,
    quantity: i64,
    /// CHOICE: for AVL the available quantity after the movement, else the quantity.
    actual: i64,
    reason: String,
    order: String,
    at: DateTime<Utc>,
}

struct Tracking {
    number: String,
    carrier_code: &'static str,
    carrier_name: &'static str,
    weight_g: i64,
    fee_cents: i64,
    currency: &'static str,
}

struct Outbound {
    seller: String,
    number: String,
    reference: String,
    platform: String,
    ebay_order_id: Option<String>,
    region: String,
    service: String,
    items: Vec<(String, i64)>,
    created: DateTime<Utc>,
    status: String,
    status_at: DateTime<Utc>,
    tracking: Option<Tracking>,
    auto_ef: bool,
    stock_taken: bool,
}

struct CartonLine {
    mfskuid: String,
    quantity: i64,
    received: i64,
    put_away: i64,
}

struct Carton {
    number: String,
    lines: Vec<CartonLine>,
}

struct Inbound {
    seller: String,
    number: String,
    seller_number: String,
    region: String,
    express: bool,
    need_clearance: bool,
    cartons: Vec<Carton>,
    status: String,
    status_at: DateTime<Utc>,
    created: DateTime<Utc>,
    /// When the goods arrived (status `Receiving`).
    arrived: Option<DateTime<Utc>>,
    tracking: Vec<(String, String, String)>,
    files: Vec<(String, String, usize)>,
    stocked: bool,
}

#[derive(Default)]
struct Store {
    /// By MFSKUID (globally unique; the owner is `Sku::seller`).
    skus: BTreeMap<String, Sku>,
    /// `(MFSKUID, region)` → available.
    stock: BTreeMap<(String, String), i64>,
    movements: Vec<Movement>,
    outbounds: Vec<Outbound>,
    inbounds: Vec<Inbound>,
    seq: u64,
}

/// Shared state; tests keep a handle to inspect it and move time along.
pub struct OcFake {
    pub apps: Mutex<HashMap<String, FakeApp>>,
    pub sign_mode: Mutex<SignMode>,
    tokens: Mutex<Tokens>,
    store: Mutex<Store>,
    timing: Mutex<Timing>,
    http_401: Mutex<bool>,
    calls: Mutex<HashMap<&'static str, u32>>,
    batch_sizes: Mutex<Vec<usize>>,
    windows: Mutex<Vec<(DateTime<Utc>, DateTime<Utc>)>>,
    /// Operation → (answers still to lose, how).
    lost: Mutex<HashMap<&'static str, (u32, LostAnswer)>>,
    /// Operation → (requests still to hold, the gate they wait at until it closes).
    held: Mutex<HashMap<&'static str, (u32, Arc<tokio::sync::Semaphore>)>>,
    /// How long after its creation the inbound detail query shows an inbound order.
    inbound_lookup_lag: Mutex<Option<Duration>>,
}

impl OcFake {
    /// A fake with the service list and no apps, SKUs or orders; nothing moves by itself.
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            apps: Mutex::new(HashMap::new()),
            sign_mode: Mutex::new(SignMode::PathAndBody),
            tokens: Mutex::new(Tokens::default()),
            store: Mutex::new(Store::default()),
            timing: Mutex::new(Timing::default()),
            http_401: Mutex::new(false),
            calls: Mutex::new(HashMap::new()),
            batch_sizes: Mutex::new(Vec::new()),
            windows: Mutex::new(Vec::new()),
            lost: Mutex::new(HashMap::new()),
            held: Mutex::new(HashMap::new()),
            inbound_lookup_lag: Mutex::new(None),
        })
    }

    pub fn register_app(&self, client_key: &str, app: FakeApp) {
        lock(&self.apps).insert(client_key.to_owned(), app);
    }

    pub fn router(self: &Arc<Self>) -> Router {
        let mut router = Router::new()
            .route("/oauth/authorize", get(authorize_page).post(authorize_submit))
            .route("/oauth/token", post(token));
        for op in OPS {
            let route = signed(op);
            let route =
                if op.name == "inbound.file" { route.layer(DefaultBodyLimit::max(MAX_UPLOAD_BODY)) } else { route };
            router = router.route(op.path, route);
        }
        router.with_state(self.clone())
    }

    // --- test hooks --------------------------------------------------------------

    /// Expires every access token now (the next signed call gets `"401"`).
    pub fn expire_access_tokens(&self) {
        let past = Utc::now() - Duration::seconds(1);
        for g in lock(&self.tokens).access.values_mut() {
            g.expires = past;
        }
    }

    /// Expires every refresh token now (the refresh grant answers `invalid_grant`).
    pub fn expire_refresh_tokens(&self) {
        let past = Utc::now() - Duration::seconds(1);
        for g in lock(&self.tokens).refresh.values_mut() {
            g.expires = past;
        }
    }

    /// Answers bad access tokens with HTTP 401 (same body) instead of HTTP 200.
    pub fn set_http_401_on_bad_token(&self, on: bool) {
        *lock(&self.http_401) = on;
    }

    /// Every access and refresh token issued (tests grep logs for them).
    pub fn issued_secrets(&self) -> Vec<String> {
        lock(&self.tokens).issued.clone()
    }

    /// Requests received by an operation (accepted or not): "token", "services",
    /// "sku.create", "sku.query", "stock.snapshot", "stock.movement", "outbound.create",
    /// "outbound.query", "outbound.cancel", "inbound.create", "inbound.tracking",
    /// "inbound.file", "inbound.detail", "inbound.list".
    pub fn calls(&self, op: &str) -> u32 {
        lock(&self.calls).get(op).copied().unwrap_or(0)
    }

    /// Item count of each accepted placeOutboundOrder call.
    pub fn outbound_batch_sizes(&self) -> Vec<usize> {
        lock(&self.batch_sizes).clone()
    }

    /// `(start, end)` of each accepted getStockMovement call.
    pub fn movement_windows(&self) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        lock(&self.windows).clone()
    }

    /// The next `n` requests to operation `op` (names as in [`Self::calls`], e.g.
    /// "outbound.create") are carried out as usual, then their answer is lost `how`.
    pub fn lose_next_answers(&self, op: &'static str, n: u32, how: LostAnswer) {
        lock(&self.lost).insert(op, (n, how));
    }

    /// The next `n` requests to operation `op` (names as in [`Self::calls`]) are counted,
    /// then wait before being carried out until [`Self::release_held`].
    pub fn hold_next(&self, op: &'static str, n: u32) {
        lock(&self.held).insert(op, (n, Arc::new(tokio::sync::Semaphore::new(0))));
    }

    /// Lets the requests held for `op` (and any it would still hold) go on.
    pub fn release_held(&self, op: &str) {
        if let Some((_, gate)) = lock(&self.held).remove(op) {
            gate.close();
        }
    }

    /// The inbound detail query shows an inbound order only `lag` after its creation
    /// (`None`: at once, the default).
    pub fn set_inbound_lookup_lag(&self, lag: Option<Duration>) {
        *lock(&self.inbound_lookup_lag) = lag;
    }

    pub fn set_outbound_step(&self, step: Option<Duration>) {
        let mut store = self.settled();
        lock(&self.timing).outbound = step;
        // Orders start counting the new step from now.
        let now = now();
        for o in &mut store.outbounds {
            o.status_at = o.status_at.max(now);
        }
    }

    /// Sets an outbound order's status now (any seller). `PACKED`/`SHIPPED` assign tracking
    /// if missing; `SHIPPED` takes the stock. False for an unknown order or status.
    pub fn set_outbound_status(&self, order_number: &str, status: &str) -> bool {
        let Some(status) = OUTBOUND_FLOW.iter().chain(&OUTBOUND_OTHER).find(|s| **s == status) else {
            return false;
        };
        let mut store = self.settled();
        let Some(i) = store.outbounds.iter().position(|o| o.number == order_number) else {
            return false;
        };
        store.set_outbound_status(i, status, now());
        true
    }

    pub fn outbound_status(&self, order_number: &str) -> Option<String> {
        self.settled().outbounds.iter().find(|o| o.number == order_number).map(|o| o.status.clone())
    }

    /// An order OC fulfilled by itself from an eBay sale (auto-EF): shipped now, with
    /// tracking, for the seller owning `mfskuid` (or the default seller). Returns its
    /// orderNumber.
    pub fn add_auto_fulfilled(&self, ebay_order_id: &str, region: &str, mfskuid: &str, qty: i64) -> String {
        let region = &hook_region(region);
        let mut store = self.settled();
        let seller = store.skus.get(mfskuid).map_or_else(|| DEFAULT_SELLER.to_owned(), |s| s.seller.clone());
        let number = store.next_order_number(region);
        let now = now();
        let service = SERVICES
            .iter()
            .find(|s| s.0 == region)
            .map_or_else(|| format!("{region}DomesticStandard"), |s| s.1.to_owned());
        store.outbounds.push(Outbound {
            seller,
            number: number.clone(),
            reference: ebay_order_id.to_owned(),
            platform: "eBay".into(),
            ebay_order_id: Some(ebay_order_id.to_owned()),
            region: region.to_owned(),
            service,
            items: vec![(mfskuid.to_owned(), qty)],
            created: now,
            status: "CREATED".into(),
            status_at: now,
            tracking: None,
            auto_ef: true,
            stock_taken: false,
        });
        let i = store.outbounds.len() - 1;
        store.set_outbound_status(i, "SHIPPED", now);
        number
    }

    pub fn set_sku_review_delay(&self, d: Option<Duration>) {
        let _settle = self.settled();
        lock(&self.timing).review = d;
    }

    /// Sets a SKU's review status now (updateTime moves). False for an unknown SKU or status.
    pub fn review_sku(&self, mfskuid: &str, status: &str) -> bool {
        if !SKU_STATUSES.contains(&status) {
            return false;
        }
        let mut store = self.settled();
        let Some(sku) = store.skus.get_mut(mfskuid) else {
            return false;
        };
        let now = now();
        sku.status = status.to_owned();
        sku.status_at = now;
        sku.updated = now;
        true
    }

    /// Sets the available stock of a known SKU in a region and logs the change as an AVL
    /// movement with reason "ADJ".
    pub fn set_stock(&self, mfskuid: &str, region: &str, available: i64) {
        let region = &hook_region(region);
        let mut store = self.settled();
        if !store.skus.contains_key(mfskuid) {
            return;
        }
        let old = store.stock.get(&(mfskuid.to_owned(), region.to_owned())).copied().unwrap_or(0);
        store.adjust(mfskuid, region, available - old, "ADJ", "", now());
    }

    /// Logs a movement (stock itself unchanged) for a known SKU.
    pub fn add_movement(
        &self,
        mfskuid: &str,
        region: &str,
        status: &str,
        quantity: i64,
        reason: &str,
        at: DateTime<Utc>,
    ) {
        let region = &hook_region(region);
        let mut store = self.settled();
        if !store.skus.contains_key(mfskuid) {
            return;
        }
        let actual = if status == "AVL" {
            store.stock.get(&(mfskuid.to_owned(), region.to_owned())).copied().unwrap_or(0)
        } else {
            quantity
        };
        store.log(mfskuid, region, status, quantity, actual, reason, "", at);
    }

    pub fn set_inbound_step(&self, step: Option<Duration>) {
        let mut store = self.settled();
        lock(&self.timing).inbound = step;
        let now = now();
        for ib in &mut store.inbounds {
            ib.status_at = ib.status_at.max(now);
        }
    }

    /// Sets an inbound order's status now. "Put away" receives and stocks everything.
    /// False for an unknown order or status.
    pub fn set_inbound_status(&self, inbound_number: &str, status: &str) -> bool {
        let Some(status) = INBOUND_FLOW.iter().chain(&INBOUND_OTHER).find(|s| **s == status) else {
            return false;
        };
        let mut store = self.settled();
        let Some(i) = store.inbounds.iter().position(|ib| ib.number == inbound_number) else {
            return false;
        };
        store.set_inbound_status(i, status, now());
        true
    }

    /// `(fileName, fileType, decoded bytes)` of every clearance file uploaded for an inbound.
    pub fn clearance_files(&self, inbound_number: &str) -> Vec<(String, String, usize)> {
        lock(&self.store)
            .inbounds
            .iter()
            .find(|ib| ib.number == inbound_number)
            .map(|ib| ib.files.clone())
            .unwrap_or_default()
    }

    // --- internals ---------------------------------------------------------------

    /// Whether this answer of `op` is to be lost, and how (one of the armed ones used up).
    fn take_lost(&self, op: &str) -> Option<LostAnswer> {
        let mut lost = lock(&self.lost);
        let (n, how) = lost.get_mut(op)?;
        if *n == 0 {
            return None;
        }
        *n -= 1;
        Some(*how)
    }

    /// The gate this request of `op` waits at, if it is to be held (one of the armed ones
    /// used up).
    fn take_held(&self, op: &str) -> Option<Arc<tokio::sync::Semaphore>> {
        let mut held = lock(&self.held);
        let (n, gate) = held.get_mut(op)?;
        if *n == 0 {
            return None;
        }
        *n -= 1;
        Some(gate.clone())
    }

    fn count(&self, op: &'static str) {
        *lock(&self.calls).entry(op).or_insert(0) += 1;
    }

    /// The store with every lazy transition up to now applied.
    fn settled(&self) -> MutexGuard<'_, Store> {
        let timing = *lock(&self.timing);
        let mut store = lock(&self.store);
        store.settle(now(), timing);
        store
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Now, to the second (OC's times have no fractions).
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

impl Store {
    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// `OC` + 13 digits, e.g. `OC0000250260096`.
    fn next_mfskuid(&mut self) -> String {
        format!("OC{:013}", 250_260_000 + self.next_seq())
    }

    /// `OCO` + 13 digits + country, e.g. `OCO2000011360056GB` (a UK order [C]).
    fn next_order_number(&mut self, region: &str) -> String {
        format!("OCO{:013}{}", 2_000_011_360_000 + self.next_seq(), region_country(region))
    }

    /// `OCI` + digit + country + 8 digits, e.g. `OCI5DE07295030`.
    fn next_inbound_number(&mut self, region: &str) -> String {
        format!("OCI5{}{:08}", region_country(region), 7_295_000 + self.next_seq())
    }

    fn owned<'a>(&'a self, seller: &str, mfskuid: &str) -> Option<&'a Sku> {
        self.skus.get(mfskuid).filter(|s| s.seller == seller)
    }

    #[allow(clippy::too_many_arguments)]
    fn log(
        &mut self,
        mfskuid: &str,
        region: &str,
        status: &str,
        quantity: i64,
        actual: i64,
        reason: &str,
        order: &str,
        at: DateTime<Utc>,
    ) {
        let id = self.next_seq();
        self.movements.push(Movement {
            id,
            mfskuid: mfskuid.to_owned(),
            region: region.to_owned(),
            status: status.to_owned(),
            quantity,
            actual,
            reason: reason.to_owned(),
            order: order.to_owned(),
            at,
        });
    }

    /// Changes available stock and logs the AVL movement.
    fn adjust(&mut self, mfskuid: &str, region: &str, delta: i64, reason: &str, order: &str, at: DateTime<Utc>) {
        let row = self.stock.entry((mfskuid.to_owned(), region.to_owned())).or_insert(0);
        *row = row.saturating_add(delta);
        let actual = *row;
        self.log(mfskuid, region, "AVL", delta, actual, reason, order, at);
    }

    /// Applies every transition due by `now`, each at the time it was due.
    fn settle(&mut self, now: DateTime<Utc>, timing: Timing) {
        if let Some(delay) = timing.review {
            let delay = delay.max(Duration::zero());
            for sku in self.skus.values_mut() {
                let due = sku.status_at + delay;
                if sku.status == "DRAFT" && due <= now {
                    sku.status = "APPROVED".into();
                    sku.status_at = due;
                    sku.updated = due;
                }
            }
        }
        if let Some(step) = timing.outbound {
            let step = step.max(Duration::zero());
            for i in 0..self.outbounds.len() {
                while let Some((next, at)) =
                    self.outbounds.get(i).and_then(|o| next_in_flow(&OUTBOUND_FLOW, &o.status, o.status_at, step, now))
                {
                    self.set_outbound_status(i, next, at);
                }
            }
        }
        if let Some(step) = timing.inbound {
            let step = step.max(Duration::zero());
            for i in 0..self.inbounds.len() {
                if let Some(ib) = self.inbounds.get_mut(i)
                    && inbound_held(ib)
                {
                    // The clock starts when the hold lifts.
                    ib.status_at = now;
                    continue;
                }
                while let Some((next, at)) =
                    self.inbounds.get(i).and_then(|ib| next_in_flow(&INBOUND_FLOW, &ib.status, ib.status_at, step, now))
                {
                    self.set_inbound_status(i, next, at);
                }
            }
        }
    }

    fn set_outbound_status(&mut self, i: usize, status: &str, at: DateTime<Utc>) {
        let Some(o) = self.outbounds.get_mut(i) else {
            return;
        };
        o.status = status.to_owned();
        o.status_at = at;
        if matches!(status, "PACKED" | "SHIPPED") && o.tracking.is_none() {
            o.tracking = Some(make_tracking(&o.region, &o.items));
        }
        if status == "SHIPPED" && !o.stock_taken {
            o.stock_taken = true;
            let (items, region, number) = (o.items.clone(), o.region.clone(), o.number.clone());
            for (mfskuid, qty) in items {
                self.adjust(&mfskuid, &region, -qty, "OEH", &number, at);
            }
        }
    }

    fn set_inbound_status(&mut self, i: usize, status: &str, at: DateTime<Utc>) {
        let Some(ib) = self.inbounds.get_mut(i) else {
            return;
        };
        ib.status = status.to_owned();
        ib.status_at = at;
        // CHOICE: everything is counted in at `Receiving` and shelved at `Put away`.
        if matches!(status, "Receiving" | "Put away") {
            ib.arrived.get_or_insert(at);
            for line in ib.cartons.iter_mut().flat_map(|c| c.lines.iter_mut()) {
                line.received = line.quantity;
            }
        }
        if status != "Put away" || ib.stocked {
            return;
        }
        ib.stocked = true;
        // One RCVD and one AVL movement per SKU, quantities summed over cartons.
        let mut totals: Vec<(String, i64)> = Vec::new();
        for line in ib.cartons.iter_mut().flat_map(|c| c.lines.iter_mut()) {
            line.received = line.quantity;
            line.put_away = line.quantity;
            match totals.iter_mut().find(|(m, _)| *m == line.mfskuid) {
                Some((_, q)) => *q += line.quantity,
                None => totals.push((line.mfskuid.clone(), line.quantity)),
            }
        }
        let (region, number) = (ib.region.clone(), ib.number.clone());
        for (mfskuid, qty) in totals {
            self.log(&mfskuid, &region, "RCVD", qty, qty, "PAC", &number, at);
            self.adjust(&mfskuid, &region, qty, "PAC", &number, at);
        }
    }
}

/// The next status of a flow and when it is due, if it is due by `now`.
fn next_in_flow(
    flow: &[&'static str],
    status: &str,
    since: DateTime<Utc>,
    step: Duration,
    now: DateTime<Utc>,
) -> Option<(&'static str, DateTime<Utc>)> {
    let pos = flow.iter().position(|s| *s == status)?;
    let next = flow.get(pos + 1)?;
    let at = since + step;
    (at <= now).then_some((*next, at))
}

/// An inbound waits at `Created` for its clearance documents (when it asked to send
/// them) and, when it goes by express, for its tracking numbers.
fn inbound_held(ib: &Inbound) -> bool {
    ib.status == "Created" && ((ib.need_clearance && ib.files.is_empty()) || (ib.express && ib.tracking.is_empty()))
}

// ---------------------------------------------------------------------------------
// OAuth.

struct ConsentParams {
    client_key: String,
    redirect_uri: String,
    state: String,
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (status, Json(json!({ "error": error, "error_description": description }))).into_response()
}

fn error_page(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Html(format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>OrangeConnex sandbox: authorization error</title></head><body><h1>Authorization error</h1><p>{}</p></body></html>",
            seed::html_escape(message)
        )),
    )
        .into_response()
}

/// Checks the authorize parameters (the page and its submit take the same ones).
fn consent_params(fake: &OcFake, p: &HashMap<String, String>) -> Result<ConsentParams, Box<Response>> {
    let get = |k: &str| p.get(k).map(String::as_str).unwrap_or_default();
    if get("response_type") != "code" {
        return Err(Box::new(error_page("unsupported_response_type: response_type must be code")));
    }
    let client_key = get("client_id");
    let Some(app) = lock(&fake.apps).get(client_key).cloned() else {
        return Err(Box::new(error_page("invalid_client: unknown client_id")));
    };
    if get("redirect_uri") != app.redirect_uri {
        return Err(Box::new(error_page(
            "invalid_request: redirect_uri does not match the one registered for this client",
        )));
    }
    if get("state").is_empty() {
        return Err(Box::new(error_page("invalid_request: state is required")));
    }
    Ok(ConsentParams {
        client_key: client_key.to_owned(),
        redirect_uri: app.redirect_uri,
        state: get("state").to_owned(),
    })
}

async fn authorize_page(State(fake): State<Arc<OcFake>>, Query(q): Query<HashMap<String, String>>) -> Response {
    let c = match consent_params(&fake, &q) {
        Ok(c) => c,
        Err(page) => return *page,
    };
    if q.get("approve").map(String::as_str) == Some("1") {
        return approve(&fake, &c, q.get("seller").map(String::as_str));
    }
    let esc = seed::html_escape;
    Html(format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>OrangeConnex sandbox: sign in and authorize</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:3em auto">
<h1>OrangeConnex 橙联 (sandbox)</h1>
<p>The ERP application <b>{client}</b> asks to manage your SKUs, stock, inbound and outbound orders.</p>
<form method="post" action="authorize">
<input type="hidden" name="response_type" value="code"><input type="hidden" name="client_id" value="{client}">
<input type="hidden" name="redirect_uri" value="{redirect}"><input type="hidden" name="state" value="{state}">
<p><label>OC account <input name="seller" value="{seller}"></label></p>
<p><label>Password <input type="password" name="password" placeholder="any"></label></p>
<button type="submit" name="decision" value="agree">Authorize</button>
<button type="submit" name="decision" value="decline">Cancel</button>
</form></body></html>"#,
        client = esc(&c.client_key),
        redirect = esc(&c.redirect_uri),
        state = esc(&c.state),
        seller = esc(DEFAULT_SELLER),
    ))
    .into_response()
}

async fn authorize_submit(State(fake): State<Arc<OcFake>>, body: Bytes) -> Response {
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let c = match consent_params(&fake, &form) {
        Ok(c) => c,
        Err(page) => return *page,
    };
    if form.get("decision").map(String::as_str) == Some("decline") {
        return Redirect::to(&seed::append_query(&c.redirect_uri, &[("error", "access_denied"), ("state", &c.state)]))
            .into_response();
    }
    approve(&fake, &c, form.get("seller").map(String::as_str))
}

fn approve(fake: &OcFake, c: &ConsentParams, seller: Option<&str>) -> Response {
    let seller = seller.map(str::trim).filter(|s| !s.is_empty()).unwrap_or(DEFAULT_SELLER);
    let code = new_code();
    lock(&fake.tokens).codes.insert(
        code.clone(),
        Code {
            client_key: c.client_key.clone(),
            redirect_uri: c.redirect_uri.clone(),
            seller: seller.to_owned(),
            expires: Utc::now() + Duration::seconds(CODE_TTL_SECONDS),
        },
    );
    Redirect::to(&seed::append_query(
        &c.redirect_uri,
        &[("act", "getAuthorizationCode"), ("code", &code), ("state", &c.state)],
    ))
    .into_response()
}

/// Base64 of random bytes, with a `/` and a `+` placed so every code needs encoding
/// (16 bytes always end in `==`).
fn new_code() -> String {
    let mut b = [0u8; 16];
    rand::fill(&mut b);
    let mut chars: Vec<char> = STANDARD.encode(b).chars().collect();
    if let Some(c) = chars.get_mut(5) {
        *c = '/';
    }
    if let Some(c) = chars.get_mut(11) {
        *c = '+';
    }
    chars.into_iter().collect()
}

/// Client credentials from `Authorization: Basic|Bearer base64(key:secret)`; `Ok(None)`
/// without the header, `Err` when it cannot be read.
fn client_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, &'static str> {
    let Some(v) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let v = v.to_str().map_err(|_| "unreadable Authorization header")?;
    let b64 =
        strip_scheme(v, "Basic").or_else(|| strip_scheme(v, "Bearer")).ok_or("unsupported authorization scheme")?;
    let decoded = STANDARD
        .decode(b64.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or("client credentials are not base64")?;
    let (key, secret) = decoded.split_once(':').ok_or("client credentials must be clientKey:secretKey")?;
    Ok(Some((key.to_owned(), secret.to_owned())))
}

/// The rest of `value` after `scheme ` (scheme compared case-insensitively).
fn strip_scheme<'a>(value: &'a str, scheme: &str) -> Option<&'a str> {
    let head = value.get(..scheme.len())?;
    let rest = value.get(scheme.len()..)?;
    (head.eq_ignore_ascii_case(scheme) && rest.starts_with(' ')).then(|| rest.trim_start())
}

async fn token(State(fake): State<Arc<OcFake>>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    fake.count("token");
    // Parameters come in the query string only; the body is not read (OC's token call
    // has an empty body).
    let p: HashMap<String, String> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or_default()).unwrap_or_default();
    let get = |k: &str| p.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let Some(client_key) = get("client_id") else {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "client_id is required");
    };
    let Some(app) = lock(&fake.apps).get(client_key).cloned() else {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "Bad client credentials");
    };
    match client_credentials(&headers) {
        Ok(None) => {}
        Ok(Some((key, secret))) if key == client_key && secret == app.secret_key => {}
        Ok(Some(_)) => return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "Bad client credentials"),
        Err(e) => return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", e),
    }
    let now = Utc::now();
    let mut t = lock(&fake.tokens);
    match get("grant_type") {
        Some("authorization_code") => {
            let (Some(code), Some(redirect_uri)) = (get("code"), get("redirect_uri")) else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "code and redirect_uri are required");
            };
            // Single use: a code is gone once presented, whatever happens next. A code
            // URL-encoded twice arrives still encoded once (OC's Postman does that).
            let entry = t.codes.remove(code).or_else(|| {
                let decoded = code.contains('%').then(|| percent_decode(code)).flatten()?;
                t.codes.remove(&decoded)
            });
            let Some(entry) = entry else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Invalid authorization code");
            };
            if entry.client_key != client_key || entry.expires <= now {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Invalid authorization code");
            }
            if entry.redirect_uri != redirect_uri {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Redirect URI mismatch.");
            }
            let access = uuid::Uuid::new_v4().to_string();
            let refresh = uuid::Uuid::new_v4().to_string();
            let grant = |ttl: Duration| Grant {
                client_key: client_key.to_owned(),
                seller: entry.seller.clone(),
                expires: now + ttl,
            };
            t.access.insert(access.clone(), grant(Duration::seconds(ACCESS_TTL_SECONDS)));
            t.refresh.insert(refresh.clone(), grant(Duration::days(REFRESH_TTL_DAYS)));
            t.issued.push(access.clone());
            t.issued.push(refresh.clone());
            Json(json!({
                "access_token": access, "token_type": "bearer", "refresh_token": refresh,
                "expires_in": ACCESS_TTL_SECONDS
            }))
            .into_response()
        }
        Some("refresh_token") => {
            let Some(refresh) = get("refresh_token") else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "refresh_token is required");
            };
            let seller = match t.refresh.get(refresh) {
                Some(g) if g.client_key == client_key && g.expires > now => g.seller.clone(),
                Some(g) if g.client_key == client_key => {
                    return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Invalid refresh token (expired)");
                }
                _ => return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Invalid refresh token"),
            };
            let access = uuid::Uuid::new_v4().to_string();
            t.access.insert(
                access.clone(),
                Grant {
                    client_key: client_key.to_owned(),
                    seller,
                    expires: now + Duration::seconds(ACCESS_TTL_SECONDS),
                },
            );
            t.issued.push(access.clone());
            Json(json!({ "access_token": access, "token_type": "bearer", "expires_in": ACCESS_TTL_SECONDS }))
                .into_response()
        }
        Some(other) => {
            oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", &format!("Unsupported grant type: {other}"))
        }
        None => oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "Missing grant type"),
    }
}

/// Decodes `%XX` escapes (a `+` stays a `+`); None on a broken escape or non-UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

// ---------------------------------------------------------------------------------
// Signing and envelope.

/// A signed operation: its counter name, bare path (the signed one), method and body.
struct Op {
    name: &'static str,
    path: &'static str,
    post: bool,
    run: fn(&OcFake, &Ctx) -> Result<Value, OcError>,
}

static OPS: &[Op] = &[
    Op { name: "services", path: "/openapi/3pp/base/v1/service", post: false, run: op_services },
    Op { name: "sku.create", path: "/openapi/3pp/sku/v3/creation", post: true, run: op_sku_create },
    Op { name: "sku.query", path: "/openapi/3pp/sku/v3/query", post: true, run: op_sku_query },
    Op { name: "stock.snapshot", path: "/openapi/3pp/inventory/v2/snapshot", post: true, run: op_stock_snapshot },
    Op { name: "stock.movement", path: "/openapi/3pp/inventory/v1/movement", post: true, run: op_stock_movement },
    Op { name: "outbound.create", path: "/openapi/3pp/outbound/v1/creation", post: true, run: op_outbound_create },
    Op { name: "outbound.query", path: "/openapi/3pp/outbound/v2/query", post: true, run: op_outbound_query },
    Op { name: "outbound.cancel", path: "/openapi/3pp/outbound/v1/cancel", post: true, run: op_outbound_cancel },
    Op { name: "inbound.create", path: "/openapi/3pp/inbound/v1/creation", post: true, run: op_inbound_create },
    Op {
        name: "inbound.tracking",
        path: "/openapi/3pp/inbound/v1/upload/shipment-file",
        post: true,
        run: op_inbound_tracking,
    },
    Op {
        name: "inbound.file",
        path: "/openapi/3pp/inbound/v1/upload/customs-clearance-file",
        post: true,
        run: op_inbound_file,
    },
    Op { name: "inbound.detail", path: "/openapi/3pp/inbound/v1/detail", post: true, run: op_inbound_detail },
    Op { name: "inbound.list", path: "/openapi/3pp/inbound/v1/query", post: true, run: op_inbound_list },
];

/// The authenticated caller and the request's `data`.
struct Ctx {
    seller: String,
    /// The whole request body (`Null` for GET).
    envelope: Value,
    data: Value,
}

/// An OC error answer: `code` on the envelope and one `(code, message)` per problem.
#[derive(Debug)]
struct OcError {
    code: String,
    errors: Vec<(String, String)>,
}

impl OcError {
    fn new(code: &str, message: impl Into<String>) -> Self {
        Self { code: code.to_owned(), errors: vec![(code.to_owned(), message.into())] }
    }

    fn invalid(message: impl Into<String>) -> Self {
        Self::new("400", message)
    }

    /// OC's documented error shape (apifox "Inbound Order Detail Query" example):
    /// `{"code":3,"errors":[{"code":"3A0529","message":"…"}],"messageId":"…","success":false}`
    /// — `code` an integer, `errors[].code` a string. CHOICE: the integer is 401 (token),
    /// 403 (clientKey/TimeStamp/signature), 400 (invalid request) and 3 (business refusal,
    /// as in OC's example); `errors[].code` keeps the specific string code.
    fn respond(self, http_401: bool, message_id: &str) -> Response {
        let status = if self.code == "401" && http_401 { StatusCode::UNAUTHORIZED } else { StatusCode::OK };
        let code: i64 = match self.code.as_str() {
            "401" => 401,
            "403" => 403,
            "400" => 400,
            _ => 3,
        };
        let message = self.errors.iter().map(|(_, m)| m.as_str()).collect::<Vec<_>>().join("; ");
        let errors: Vec<Value> = self.errors.iter().map(|(c, m)| json!({ "code": c, "message": m })).collect();
        (
            status,
            Json(json!({
                "success": false, "code": code, "message": message, "messageId": message_id, "errors": errors
            })),
        )
            .into_response()
    }
}

/// OC's answer as captured in its Postman collection (getServiceList saved response):
/// `{"code":0,"message":"Success","messageId":"…","data":…}` (no `success` field).
fn success(data: Value, message_id: &str) -> Response {
    Json(json!({ "code": 0, "message": "Success", "messageId": message_id, "data": data })).into_response()
}

/// The request's `messageId` (echoed in the answer), else a fresh one.
fn message_id_of(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("messageId").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| Utc::now().timestamp_millis().to_string())
}

fn signed(op: &'static Op) -> MethodRouter<Arc<OcFake>> {
    let handler = move |State(fake): State<Arc<OcFake>>, headers: HeaderMap, body: Bytes| async move {
        fake.count(op.name);
        if let Some(gate) = fake.take_held(op.name) {
            // Closed by release_held: the wait ends with an error, by design.
            let _released = gate.acquire().await;
        }
        let result = authenticate(&fake, op, &headers, &body).and_then(|ctx| (op.run)(&fake, &ctx));
        let message_id = message_id_of(&body);
        if let Some(how) = fake.take_lost(op.name) {
            return lost_answer(how);
        }
        match result {
            Ok(data) => success(data, &message_id),
            Err(e) => e.respond(*lock(&fake.http_401), &message_id),
        }
    };
    if op.post { post(handler) } else { get(handler) }
}

/// The answer to a call whose work was done but whose answer never arrives whole.
fn lost_answer(how: LostAnswer) -> Response {
    match how {
        LostAnswer::Http500 => (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response(),
        // A body that fails before its first byte: the server closes the connection.
        LostAnswer::Disconnect => {
            let failing = futures_util::stream::once(async {
                Err::<Bytes, std::io::Error>(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "answer lost (sandbox hook)",
                ))
            });
            (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], axum::body::Body::from_stream(failing))
                .into_response()
        }
    }
}

/// Lower-case hex MD5 of `path|body|clientKey|secretKey`.
fn sign(path: &str, body: &[u8], client_key: &str, secret_key: &str) -> String {
    let mut h = Md5::new();
    h.update(path.as_bytes());
    h.update(b"|");
    h.update(body);
    h.update(b"|");
    h.update(client_key.as_bytes());
    h.update(b"|");
    h.update(secret_key.as_bytes());
    hex::encode(h.finalize())
}

/// Token ("401"), then clientKey, timestamp and signature ("403"), then the body ("400").
fn authenticate(fake: &OcFake, op: &Op, headers: &HeaderMap, body: &Bytes) -> Result<Ctx, OcError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());

    // Spring's bearer extraction compares the scheme case-insensitively; the prefix
    // itself is required.
    let token = header("Access-Token").and_then(|v| strip_scheme(v, "Bearer")).map(str::trim);
    let grant = {
        let t = lock(&fake.tokens);
        token.and_then(|tok| t.access.get(tok)).map(|g| (g.client_key.clone(), g.seller.clone(), g.expires))
    };
    let Some((token_client, seller, expires)) = grant else {
        return Err(OcError::new("401", "Invalid access token"));
    };
    if expires <= Utc::now() {
        return Err(OcError::new("401", "Access token expired"));
    }

    let client_key = header("clientKey").unwrap_or_default();
    let Some(app) = lock(&fake.apps).get(client_key).cloned() else {
        return Err(OcError::new("403", "Unknown clientKey"));
    };
    // CHOICE: a token used with another app's clientKey is a client error ("403"), not an
    // expired token (refreshing would not help).
    if token_client != client_key {
        return Err(OcError::new("403", "The access token was not issued to this clientKey"));
    }
    let stamp =
        header("TimeStamp").and_then(|v| v.trim().parse::<i64>().ok()).and_then(DateTime::from_timestamp_millis);
    match stamp {
        Some(t) if (Utc::now() - t).num_seconds().abs() <= TIMESTAMP_SKEW_SECONDS => {}
        Some(_) => return Err(OcError::new("403", "TimeStamp is more than 5 minutes away from server time")),
        None => return Err(OcError::new("403", "TimeStamp header (epoch milliseconds) is required")),
    }
    let signed_body: &[u8] = match (*lock(&fake.sign_mode), op.post) {
        (SignMode::PathAndBody, true) => body,
        _ => b"",
    };
    let expected = sign(op.path, signed_body, client_key, &app.secret_key);
    if header("vAuthorization") != Some(expected.as_str()) {
        return Err(OcError::new("403", "Signature verification failed (vAuthorization)"));
    }

    if !op.post {
        return Ok(Ctx { seller, envelope: Value::Null, data: Value::Null });
    }
    let json_type = header("Content-Type")
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json_type {
        return Err(OcError::invalid("Content-Type must be application/json"));
    }
    let Ok(envelope) = serde_json::from_slice::<Value>(body) else {
        return Err(OcError::invalid("Request body is not valid JSON"));
    };
    if !envelope.is_object() {
        return Err(OcError::invalid("Request body must be a JSON object"));
    }
    let mut c = Check::request();
    match field(&envelope, "messageId") {
        Some(Value::String(s)) if !s.trim().is_empty() => {}
        _ => c.fail("messageId is required (non-empty string)"),
    }
    if !field(&envelope, "timestamp").is_some_and(Value::is_number) {
        c.fail("timestamp is required (epoch milliseconds as a number)");
    }
    if field(&envelope, "data").is_none() {
        c.fail("data is required");
    }
    c.into_result()?;
    let data = envelope.get("data").cloned().unwrap_or(Value::Null);
    Ok(Ctx { seller, envelope, data })
}

/// Collects validation problems as `(code, message)`.
struct Check {
    code: &'static str,
    problems: Vec<(String, String)>,
}

impl Check {
    /// Problems with the request itself ("400").
    fn request() -> Self {
        Self { code: "400", problems: Vec::new() }
    }

    /// Problems with one item of a batch (`FIELD_INVALID` unless told otherwise).
    fn item() -> Self {
        Self { code: FIELD_INVALID, problems: Vec::new() }
    }

    fn fail(&mut self, message: impl Into<String>) {
        self.problems.push((self.code.to_owned(), message.into()));
    }

    fn fail_with(&mut self, code: &str, message: impl Into<String>) {
        self.problems.push((code.to_owned(), message.into()));
    }

    fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }

    fn into_result(self) -> Result<(), OcError> {
        if self.problems.is_empty() { Ok(()) } else { Err(OcError { code: "400".into(), errors: self.problems }) }
    }

    fn errors_json(&self) -> Value {
        self.problems.iter().map(|(c, m)| json!({ "code": c, "message": m })).collect()
    }

    /// A required non-blank string.
    fn required(&mut self, obj: &Value, key: &str, at: &str) -> Option<String> {
        match field(obj, key) {
            None => self.fail(format!("{at}{key} is required")),
            Some(Value::String(s)) if !s.trim().is_empty() => return Some(s.clone()),
            Some(Value::String(_)) => self.fail(format!("{at}{key} must not be blank")),
            Some(_) => self.fail(format!("{at}{key} must be a string")),
        }
        None
    }

    /// An optional string (absent, null and "" are None).
    fn optional(&mut self, obj: &Value, key: &str, at: &str) -> Option<String> {
        match field(obj, key) {
            None => None,
            Some(Value::String(s)) => Some(s.clone()).filter(|s| !s.is_empty()),
            Some(_) => {
                self.fail(format!("{at}{key} must be a string"));
                None
            }
        }
    }

    fn max_chars(&mut self, value: Option<&str>, max: usize, key: &str, at: &str) {
        if let Some(v) = value
            && v.chars().count() > max
        {
            self.fail(format!("{at}{key} is longer than {max} characters"));
        }
    }

    /// An array; absent is empty (a problem when required, as is an empty one).
    fn list<'a>(&mut self, obj: &'a Value, key: &str, at: &str, required: bool, max: usize) -> &'a [Value] {
        match field(obj, key) {
            None if required => self.fail(format!("{at}{key} is required")),
            None => {}
            Some(Value::Array(a)) => {
                if required && a.is_empty() {
                    self.fail(format!("{at}{key} must not be empty"));
                } else if a.len() > max {
                    self.fail(format!("{at}{key} has {} entries; at most {max} are allowed", a.len()));
                } else {
                    return a;
                }
            }
            Some(_) => self.fail(format!("{at}{key} must be an array")),
        }
        &[]
    }

    /// A time `yyyy-MM-ddTHH:mm:ss+hhmm` or date `yyyy-MM-dd+hhmm`.
    fn time(&mut self, obj: &Value, key: &str, at: &str, required: bool) -> Option<DateTime<Utc>> {
        match field(obj, key) {
            None if required => self.fail(format!("{at}{key} is required")),
            None => {}
            Some(Value::String(s)) => match parse_oc_time(s) {
                Some(t) => return Some(t),
                None => self.fail(format!("{at}{key} must look like 2025-01-31T08:00:00+0800 or 2025-01-31+0800")),
            },
            Some(_) => self.fail(format!("{at}{key} must be a string")),
        }
        None
    }

    /// A required integer in `1..=max`.
    fn positive(&mut self, obj: &Value, key: &str, at: &str, max: u64) -> Option<u64> {
        match field(obj, key).map(Value::as_u64) {
            None => self.fail(format!("{at}{key} is required")),
            Some(Some(n)) if (1..=max).contains(&n) => return Some(n),
            Some(_) => self.fail(format!("{at}{key} must be an integer from 1 to {max}")),
        }
        None
    }

    fn boolean(&mut self, obj: &Value, key: &str, at: &str, required: bool) -> Option<bool> {
        match field(obj, key) {
            None if required => self.fail(format!("{at}{key} is required (true or false)")),
            None => {}
            Some(Value::Bool(b)) => return Some(*b),
            Some(_) => self.fail(format!("{at}{key} must be true or false")),
        }
        None
    }

    /// An optional non-negative number.
    fn amount(&mut self, obj: &Value, key: &str, at: &str) {
        if let Some(v) = field(obj, key)
            && !v.as_f64().is_some_and(|n| n >= 0.0)
        {
            self.fail(format!("{at}{key} must be a non-negative number"));
        }
    }

    /// A two-letter country code.
    fn country(&mut self, value: Option<&str>, key: &str, at: &str) {
        if let Some(v) = value
            && !(v.len() == 2 && v.bytes().all(|b| b.is_ascii_alphabetic()))
        {
            self.fail(format!("{at}{key} must be a 2-letter country code"));
        }
    }

    /// The strings under `key` of each object in `obj[list]` (`[{key: "…"}]`).
    fn keyed_list(&mut self, obj: &Value, list: &str, key: &str, max: usize) -> Vec<String> {
        let mut out = Vec::new();
        for (i, entry) in self.list(obj, list, "", false, max).iter().enumerate() {
            if let Some(s) = self.required(entry, key, &format!("{list}[{i}].")) {
                out.push(s);
            }
        }
        out
    }

    /// `startTime`/`endTime` given together, start not after end.
    fn window(&mut self, data: &Value) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let start = self.time(data, "startTime", "", false);
        let end = self.time(data, "endTime", "", false);
        match (start, end, field(data, "startTime").is_some(), field(data, "endTime").is_some()) {
            (Some(s), Some(e), _, _) if s > e => self.fail("startTime is after endTime"),
            (Some(s), Some(e), _, _) => return Some((s, e)),
            (_, _, true, false) | (_, _, false, true) => self.fail("startTime and endTime go together"),
            _ => {}
        }
        None
    }
}

fn field<'a>(obj: &'a Value, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

fn object(data: &Value) -> Result<&Value, OcError> {
    if data.is_object() { Ok(data) } else { Err(OcError::invalid("data must be an object")) }
}

// ---------------------------------------------------------------------------------
// Services.

fn op_services(_: &OcFake, _: &Ctx) -> Result<Value, OcError> {
    Ok(REGIONS
        .iter()
        .map(|region| {
            let products: Vec<Value> = SERVICES
                .iter()
                .filter(|s| s.0 == *region)
                .map(|(_, code, en, zh)| {
                    json!({
                        "shippingServiceCode": code,
                        "shippingServiceNameList": [
                            { "applyPlatform": "0,1", "language": "en-US", "shippingServiceName": en },
                            { "applyPlatform": "0,1", "language": "zh-CN", "shippingServiceName": zh }
                        ]
                    })
                })
                .collect();
            json!({ "serviceRegion": region, "productList": products })
        })
        .collect())
}

fn service_exists(region: &str, code: &str) -> bool {
    SERVICES.iter().any(|s| s.0 == region && s.1 == code)
}

// ---------------------------------------------------------------------------------
// SKUs.

fn op_sku_create(fake: &OcFake, ctx: &Ctx) -> Result<Value, OcError> {
    let Some(items) = ctx.data.as_array() else {
        return Err(OcError::invalid("data must be an array of SKUs"));
    };
    if items.is_empty() || items.len() > MAX_SKU_CREATION {
        return Err(OcError::invalid(format!("data must hold 1 to {MAX_SKU_CREATION} SKUs, not {}", items.len())));
    }
    let mut store = fake.settled();
    let now = now();
    let mut results = Vec::with_capacity(items.len());
    // SKUs naming no known serviceRegion refuse the whole call (HTTP 200, success:false),
    // as an operator saw OC do with `GB`.
    let mut unknown_regions: Vec<String> = Vec::new();
    let mut created: Vec<Sku> = Vec::new();
    for (n, item) in items.iter().enumerate() {
        let mut c = Check::item();
        if !item.is_object() {
            c.fail("each SKU must be an object");
        }
        let reference = c.required(item, "referenceSKUID", "");
        for (i, n) in c.list(item, "SKUNameList", "", true, MAX_OTHER_LIST).iter().enumerate() {
            let at = format!("SKUNameList[{i}].");
            c.required(n, "SKUName", &at);
            c.optional(n, "languageCode", &at);
        }
        for (i, p) in c.list(item, "SKUPictureURLList", "", false, MAX_OTHER_LIST).iter().enumerate() {
            c.required(p, "SKUPictureURL", &format!("SKUPictureURLList[{i}]."));
        }
        c.boolean(item, "withBattery", "", true);
        let mut regions: Vec<String> = Vec::new();
        let region_list = c.list(item, "serviceRegionList", "", true, MAX_OTHER_LIST);
        for (i, r) in region_list.iter().enumerate() {
            let at = format!("serviceRegionList[{i}].");
            // CHOICE: an unknown region next to a known one is ignored.
            if let Some(region) = c.required(r, "serviceRegion", &at)
                && REGIONS.contains(&region.as_str())
                && !regions.contains(&region)
            {
                regions.push(region);
            }
            // OC's Postman sends `"withBrand":"WOB"`; a boolean is tolerated too.
            if field(r, "withBrand").is_some_and(|v| !v.is_string() && !v.is_boolean()) {
                c.fail(format!("{at}withBrand must be a string (e.g. WB, WOB)"));
            }
        }
        if !region_list.is_empty() && regions.is_empty() {
            unknown_regions.push(format!(
                "data[{n}].serviceRegionList needs at least one known serviceRegion ({})",
                REGIONS.join(", ")
            ));
        }
        c.optional(item, "salesURL", "");
        let origin = c.optional(item, "countryOfOrigin", "");
        c.country(origin.as_deref(), "countryOfOrigin", "");
        for (i, h) in c.list(item, "hscodeList", "", false, MAX_OTHER_LIST).iter().enumerate() {
            let at = format!("hscodeList[{i}].");
            c.required(h, "hscode", &at);
            c.optional(h, "countryCode", &at);
        }
        c.amount(item, "declaredValue", "");
        c.optional(item, "declaredCurrency", "");
        c.amount(item, "weight", "");

        let (Some(reference), true) = (reference, c.is_ok()) else {
            results.push(json!({
                "referenceSKUID": field(item, "referenceSKUID"), "success": false, "errors": c.errors_json()
            }));
            continue;
        };
        if regions.is_empty() {
            results.push(Value::Null);
            continue;
        }
        // One MFSKUID per referenceSKUID: creating it again answers the same one.
        let existing = store
            .skus
            .values()
            .chain(created.iter())
            .find(|s| s.seller == ctx.seller && s.reference == reference)
            .map(|s| (s.mfskuid.clone(), s.status.clone()));
        let (mfskuid, status) = match existing {
            Some(m) => m,
            None => {
                let mfskuid = store.next_mfskuid();
                let names = field(item, "SKUNameList").cloned().unwrap_or_else(|| json!([]));
                created.push(Sku {
                    seller: ctx.seller.clone(),
                    mfskuid: mfskuid.clone(),
                    seller_sku: reference.clone(),
                    reference: reference.clone(),
                    names,
                    regions,
                    status: "DRAFT".into(),
                    status_at: now,
                    updated: now,
                });
                (mfskuid, "DRAFT".to_owned())
            }
        };
        // A new SKU is a draft until the seller submits it and OC approves it (seed 003 line 129).
        results.push(json!({ "referenceSKUID": reference, "success": true, "MFSKUID": mfskuid, "status": status }));
    }
    if !unknown_regions.is_empty() {
        return Err(OcError {
            code: "400".into(),
            errors: unknown_regions.into_iter().map(|m| ("400".into(), m)).collect(),
        });
    }
    for sku in created {
        for region in &sku.regions {
            store.stock.insert((sku.mfskuid.clone(), region.clone()), 0);
        }
        store.skus.insert(sku.mfskuid.clone(), sku);
    }
    Ok(Value::Array(results))
}

fn op_sku_query(fake: &OcFake, ctx: &Ctx) -> Result<Value, OcError> {
    let data = object(&ctx.data)?;
    let mut c = Check::request();
    let window = c.window(data);
    let references = c.keyed_list(data, "referenceSKUIDList", "referenceSKUID", MAX_PAGE_SIZE as usize);
    let seller_skus = c.keyed_list(data, "sellerSKUIDList", "sellerSKUID", MAX_PAGE_SIZE as usize);
    let mfskuids = c.keyed_list(data, "mfskulist", "mfskuid", MAX_PAGE_SIZE as usize);
    // page/limit optional (OC: "default response being the first page and a maximum of 200
    // entries per page").
    let page = field(data, "page").is_some().then(|| c.positive(data, "page", "", u64::from(u32::MAX))).flatten();
    let limit = field(data, "limit").is_some().then(|| c.positive(data, "limit", "", MAX_PAGE_SIZE)).flatten();
    // OC: "The input parameter SKUlist requires at least one entry" (apifox SKUQuery v3);
    // a window alone is not enough.
    let given = !references.is_empty() || !seller_skus.is_empty() || !mfskuids.is_empty();
    if c.is_ok() && !given {
        c.fail("At least one of referenceSKUIDList, sellerSKUIDList, mfskulist is required");
    }
    c.into_result()?;
    let (page, limit) = (page.unwrap_or(1), limit.unwrap_or(MAX_PAGE_SIZE));

    let store = fake.settled();
    let mut rows: Vec<&Sku> = store
        .skus
        .values()
        .filter(|s| s.seller == ctx.seller)
        .filter(|s| window.is_none_or(|(start, end)| s.updated >= start && s.updated < end))
        .filter(|s| references.is_empty() || references.contains(&s.reference))
        .filter(|s| seller_skus.is_empty() || seller_skus.contains(&s.seller_sku))
        .filter(|s| mfskuids.is_empty() || mfskuids.contains(&s.mfskuid))
        .collect();
    rows.sort_by(|a, b| a.updated.cmp(&b.updated).then_with(|| a.mfskuid.cmp(&b.mfskuid)));
    let skip = usize::try_from((page - 1).saturating_mul(limit)).unwrap_or(usize::MAX);
    let list: Vec<Value> = rows
        .iter()
        .skip(skip)
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .map(|s| {
            json!({
                "MFSKUID": s.mfskuid,
                "sellerSKUID": s.seller_sku,
                "referenceSKUID": s.reference,
                "SKUNameList": s.names,
                "status": s.status,
                "serviceRegionList": s.regions.iter().map(|r| json!({ "serviceRegion": r })).collect::<Vec<_>>(),
                "updateTime": oc_time(s.updated),
            })
        })
        .collect();
    // OC's example answers `data` as the array of SKUs (apifox SKUQuery v3); a caller pages
    // until a page comes back short.
    Ok(Value::Array(list))
}

// ---------------------------------------------------------------------------------
// Outbound orders.

/// A valid placeOutboundOrder item.
struct NewOrder {
    reference: String,
    platform: String,
    ebay_order_id: Option<String>,
    region: String,
    service: String,
    items: Vec<(String, i64)>,
}

/// Checks one placeOutboundOrder item against the seller's SKUs and orders.
fn check_outbound_item(store: &Store, seller: &str, item: &Value) -> Result<NewOrder, (Check, Option<String>)> {
    let mut c = Check::item();
    if !item.is_object() {
        c.fail("each order must be an object");
    }
    let reference = c.required(item, "referenceNumber", "");
    // OC: orderPlatform optional, ≤ 50 characters; "eBay" compared ignoring case.
    let platform = c.optional(item, "orderPlatform", "");
    c.max_chars(platform.as_deref(), 50, "orderPlatform", "");
    let is_ebay = platform.as_deref().is_some_and(|p| p.eq_ignore_ascii_case("ebay"));
    // OC: "If orderPlatform = eBay (ignore case), this field is mandatory" for both.
    let ebay_id = c.optional(item, "ebayId", "");
    c.max_chars(ebay_id.as_deref(), 100, "ebayId", "");
    if is_ebay && ebay_id.as_deref().is_none_or(|v| v.trim().is_empty()) {
        c.fail_with(EBAY_ORDER_ID_INVALID, "ebayId is required when orderPlatform is eBay");
    }
    let ebay_order_id = c.optional(item, "ebayOrderId", "");
    c.max_chars(ebay_order_id.as_deref(), 100, "ebayOrderId", "");
    if is_ebay && !ebay_order_id.as_deref().is_some_and(is_ebay_order_id) {
        c.fail_with(
            EBAY_ORDER_ID_INVALID,
            "ebayOrderId is required in the form NN-NNNNN-NNNNN (e.g. 02-05696-00555) when orderPlatform is eBay",
        );
    }
    let region = c.required(item, "serviceRegion", "");
    let service = c.required(item, "shippingServiceCode", "");
    if let (Some(region), Some(service)) = (&region, &service) {
        if !REGIONS.contains(&region.as_str()) {
            c.fail_with(
                SERVICE_NOT_FOUND,
                format!("serviceRegion {region} is not an OC service region ({})", REGIONS.join(", ")),
            );
        } else if !service_exists(region, service) {
            c.fail_with(SERVICE_NOT_FOUND, format!("shippingServiceCode {service} does not exist in {region}"));
        }
    }
    c.required(item, "consigneeName", "");
    let address1 = c.required(item, "consigneeAddress1", "");
    c.max_chars(address1.as_deref(), 200, "consigneeAddress1", "");
    let address2 = c.optional(item, "consigneeAddress2", "");
    c.max_chars(address2.as_deref(), 200, "consigneeAddress2", "");
    let house = c.optional(item, "houseNumber", "");
    c.max_chars(house.as_deref(), 10, "houseNumber", "");
    let zip = c.optional(item, "consigneeZipCode", "");
    c.max_chars(zip.as_deref(), 10, "consigneeZipCode", "");
    let country = c.required(item, "consigneeCountryCode", "");
    c.country(country.as_deref(), "consigneeCountryCode", "");
    // OC: optional, ≤ 100 characters each (consigneeCity too).
    for key in ["consigneeCity", "consigneeProvinceOrState", "consigneePhone", "consigneeEmail", "companyName"] {
        let v = c.optional(item, key, "");
        c.max_chars(v.as_deref(), 100, key, "");
    }
    c.optional(item, "remarks", "");
    let mut items: Vec<(String, i64)> = Vec::new();
    for (i, p) in c.list(item, "productList", "", true, MAX_OTHER_LIST).iter().enumerate() {
        let at = format!("productList[{i}].");
        let mfskuid = c.required(p, "mfSkuId", &at);
        let qty = c.positive(p, "skuQuantity", &at, MAX_QUANTITY);
        c.amount(p, "declaredValue", &at);
        c.optional(p, "currency", &at);
        if let Some(m) = &mfskuid {
            match store.owned(seller, m) {
                None => c.fail_with(MFSKUID_NOT_FOUND, format!("{at}mfSkuId {m} not found")),
                Some(s) if s.status != "APPROVED" => {
                    c.fail_with(SKU_NOT_APPROVED, format!("{at}mfSkuId {m} is {}, not APPROVED", s.status));
                }
                Some(_) => {}
            }
        }
        if let (Some(m), Some(q)) = (mfskuid, qty) {
            items.push((m, i64::try_from(q).unwrap_or(0)));
        }
    }
    let duplicate = reference.as_ref().and_then(|r| {
        store.outbounds.iter().find(|o| o.seller == seller && o.reference == *r && o.status != "CANCELLED")
    });
    let duplicate = duplicate.map(|o| o.number.clone());
    if let Some(number) = &duplicate {
        c.fail_with(DUPLICATE_REFERENCE_NUMBER, format!("referenceNumber was already placed as {number}"));
    }
    match (reference, region, service, c.is_ok()) {
        (Some(reference), Some(region), Some(service), true) => Ok(NewOrder {
            reference,
            // CHOICE: a missing orderPlatform reads back as OTHERS.
            platform: if is_ebay { "eBay".into() } else { platform.unwrap_or_else(|| "OTHERS".into()) },
            ebay_order_id,
            region,
            service,
            items,
        }),
        _ => Err((c, duplicate)),
    }
}

fn is_ebay_order_id(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    matches!(parts.as_slice(), [a, b, c]
        if a.len() == 2 && b.len() == 5 && c.len() == 5
            && [a, b, c].iter().all(|p| p.bytes().all(|x| x.is_ascii_digit())))
}

fn op_outbound_create(fake: &OcFake, ctx: &Ctx) -> Result<Value, OcError> {
    let Some(items) = ctx.data.as_array() else {
        return Err(OcError::invalid("data must be an array of orders"));
    };
    if items.is_empty() || items.len() > MAX_OUTBOUND_BATCH {
        return Err(OcError::invalid(format!("data must hold 1 to {MAX_OUTBOUND_BATCH} orders, not {}", items.len())));
    }
    let mut store = fake.settled();
    let now = now();
    let mut results = Vec::with_capacity(items.len());
    for item in items {
        match check_outbound_item(&store, &ctx.seller, item) {
            Ok(order) => {
                let number = store.next_order_number(&order.region);
                results.push(json!({ "referenceNumber": order.reference, "success": true, "orderNumber": number }));
                store.outbounds.push(Outbound {
                    seller: ctx.seller.clone(),
                    number,
                    reference: order.reference,
                    platform: order.platform,
                    ebay_order_id: order.ebay_order_id,
                    region: order.region,
                    service: order.service,
                    items: order.items,
                    created: now,
                    status: "CREATED".into(),
                    status_at: now,
                    tracking: None,
                    auto_ef: false,
                    stock_taken: false,
                });
            }
            Err((c, duplicate)) => {
                let mut r = json!({
                    "referenceNumber": field(item, "referenceNumber"), "success": false, "errors": c.errors_json()
                });
                if let Some(number) = duplicate {
                    r["orderNumber"] = json!(number);
                }
                results.push(r);
            }
        }
    }
    drop(store);
    lock(&fake.batch_sizes).push(items.len());
    Ok(Value::Array(results))
}

/// Tracking from `PACKED` on: carrier by region, weight 120 g + 50 g per unit, fee from a
/// regional base plus 0.50 per extra unit.
fn make_tracking(region: &str, items: &[(String, i64)]) -> Tracking {
    let units: i64 = items.iter().map(|(_, q)| *q).sum::<i64>().max(1);
    let r = rand::random::<u64>();
    let (number, carrier_code, carrier_name, base_cents, currency) = match region_country(region) {
        "DE" => (format!("00340434{:012}", r % 1_000_000_000_000), "DHL", "DHL Paket", 349, "EUR"),
        "AU" => (format!("OC{:09}AU", r % 1_000_000_000), "AUSPOST", "Australia Post", 595, "AUD"),
        "US" => (format!("9400{:018}", r % 1_000_000_000_000_000_000), "USPS", "USPS", 450, "USD"),
        _ => (format!("OC{:09}GB", r % 1_000_000_000), "RM", "Royal Mail", 295, "GBP"),
    };
    Tracking {
        number,
        carrier_code,
        carrier_name,
        weight_g: 120 + 50 * units,
        fee_cents: base_cents + 50 * (units - 1),
        currency,
    }
}

fn outbound_json(o: &Outbound) -> Value {
    let tracking: Vec<Value> = o
        .tracking
        .iter()
        .map(|t| {
            json!({
                "trackingNumber": t.number,
                "LMCarrierCode": t.carrier_code,
                "LMCarrierName": t.carrier_name,
                "chargeableWeight": t.weight_g,
                "chargeableWeightUnit": "g",
                "feeAmount": seed::cents(t.fee_cents),
                "feeAmountCurrency": t.currency,
                "SKUList": o.items.iter().map(|(m, q)| json!({ "MFSKUID": m, "SKUQuantity": q, "SN": "" })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "orderNumber": o.number,
        "referenceNumber": o.reference,
        "autoFulfillmentEF": o.auto_ef,
        "orderPlatform": o.platform,
        "ebayOrderId": o.ebay_order_id,
        "orderStatus": o.status,
        "orderCreationTime": oc_time(o.created),
        "serviceRegion": o.region,
        "shippingServiceCode": o.service,
        "trackingNumberList": tracking,
    })
}

fn op_outbound_query(fake: &OcFake, ctx: &Ctx) -> Result<Value, OcError> {
    if ctx.envelope.get("apiVersion").and_then(Value::as_str) != Some("2.0") {
        return Err(OcError::invalid("apiVersion must be \"2.0\""));
    }
    let data = object(&ctx.data)?;
    let mut c = Check::request();
    // CHOICE: no limit on the window's length (WIRE.md names none); the 1000-match cap
    // is what makes a caller narrow it.
    let window = c.window(data);
    let numbers = c.keyed_list(data, "orderNumberList", "orderNumber", MAX_ORDER_QUERY_LIST);
    let references = c.keyed_list(data, "referenceNumberList", "referenceNumber", MAX_ORDER_QUERY_LIST);
    let ebay_ids = c.keyed_list(data, "ebayOrderIdList", "ebayOrderId", MAX_ORDER_QUERY_LIST);
    if c.is_ok() && window.is_none() && numbers.is_empty() && references.is_empty() && ebay_ids.is_empty() {
        c.fail("give startTime/endTime or at least one of orderNumberList, referenceNumberList, ebayOrderIdList");
    }
    c.into_result()?;

    let store = fake.settled();
    let mut rows: Vec<&Outbound> = store
        .outbounds
        .iter()
        .filter(|o| o.seller == ctx.seller)
        .filter(|o| window.is_none_or(|(start, end)| o.created >= start && o.created < end))
        .filter(|o| numbers.is_empty() || numbers.contains(&o.number))
        .filter(|o| references.is_empty() || references.contains(&o.reference))
        .filter(|o| ebay_ids.is_empty() || o.ebay_order_id.as_ref().is_some_and(|id| ebay_ids.contains(id)))
        .collect();
    if rows.len() > MAX_ORDER_QUERY_RESULTS {
        return Err(OcError::invalid(format!(
            "{} orders match; at most {MAX_ORDER_QUERY_RESULTS} are returned, narrow the window",
            rows.len()
        )));
    }
    rows.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.number.cmp(&b.number)));
    Ok(rows.into_iter().map(outbound_json).collect())
}

fn op_outbound_cancel(fake: &OcFake, ctx: &Ctx) -> Result<Value, OcError> {
    let data = object(&ctx.data)?;
    let mut c = Check::request();
    let number = c.required(data, "orderNumber", "");
    c.optional(data, "cancelReason", "");
    c.time(data, "cancelTime", "", false);
    c.into_result()?;
    let number = number.unwrap_or_default();
    let mut store = fake.settled();
    let Some(i) = store.outbounds.iter().position(|o| o.seller == ctx.seller && o.number == number) else {
        return Err(OcError::new("404", format!("Order {number} not found")));
    };
    let status = store.outbounds.get(i).map(|o| o.status.clone()).unwrap_or_default();
    match status.as_str() {
        "CANCELLED" => {}
        "PICKED" | "PACKED" | "SHIPPED" => {
            return Err(OcError::new("ORDER_PICKED", format!("Order {number} is {status}: picking has started")));
        }
        _ => store.set_outbound_status(i, "CANCELLED", now()),
    }
    Ok(json!({ "orderNumber": number, "orderStatus": "CANCELLED" }))
}

// ---------------------------------------------------------------------------------
// Inbound orders.

/// CHOICE: warehouse codes start with the region (evamp-ops' client expects `UK-…`, `DE-…`).
fn warehouse_code(region: &str) -> &'static str {
    match region {
        "DE" => "DE-HAM-1",
        "AU" => "AU-SYD-1",
        "AU-MEL" => "AU-MEL-1",
        "US-East" => "US-EAST-1",
        "US-South" => "US-SOUTH-1",
        "US-West" => "US-WEST-1",
        _ => "UK-NUN-1",
    }
}

/// The ISO country of a service region (order-number suffixes, tracking).
fn region_country(region: &str) -> &'static str {
    match region {
        "UK" => "GB",
        "DE" => "DE",
        r if r.starts_with("AU") => "AU",
        r if r.starts_with("US") => "US",
        _ => "XX",
    }
}

/// Test hooks take OC region codes; `GB` (what the tests used before) means `UK`.
fn hook_region(region: &str) -> String {
    if region.eq_ignore_ascii_case("GB") { "UK".to_owned() } else { region.to_owned() }
}

/// A positive quantity given as a number or a numeric string (OC's samples use both).
fn lenient_quantity(v: Option<&Value>) -> Option<i64> {
    let n = match v? {
        Value::Number(n) => n.as_u64()?,
        Value::String(s) => s.trim().parse::<u64>().ok()?,
        _ => return None,
    };
    if (1..=MAX_QUANTITY).contains(&n) { i64::try_from(n).ok() } else { None }
}

/// The first of `keys` present in `obj` (for keys OC's samples spell two ways), else the first.
fn either_key<'k>(obj: &Value, keys: [&'k str; 2]) -> &'k str {
    if field(obj, keys[0]).is_none() && field(obj, keys[1]).is_some() { keys[1] } else { keys[0] }
}

fn op_inbound_create(fake: &OcFake, ctx: &Ctx) -> Result<Value, OcError> {
    let data = object(&ctx.data)?;
    let mut store = fake.settled();
    let mut c = Check::request();
    let seller_number = c.required(data, "sellerInboundNumber", "");
    let region = c.required(data, "serviceRegion", "");
    if let Some(r) = &region
        && !REGIONS.contains(&r.as_str())
    {
        c.fail(format!("serviceRegion {r} is not an OC service region ({})", REGIONS.join(", ")));
    }
    let from = c.required(data, "shippingFrom", "");
    c.country(from.as_deref(), "shippingFrom", "");
    let method = c.required(data, "shippingMethod", "");
    if let Some(m) = &method
        && m != "EX"
        && m != "TK"
    {
        c.fail("shippingMethod must be EX (express) or TK (freight)");
    }
    // OC: optional; OF = Ocean Freight, AF = Air Freight, RF = Rail Freight, TK = Truck.
    match c.optional(data, "transportMethod", "").as_deref() {
        None | Some("OF" | "AF" | "RF" | "TK") => {}
        Some(_) => c.fail("transportMethod must be OF, AF, RF or TK"),
    }
    c.time(data, either_key(data, ["eta", "ETA"]), "", true);
    let need_clearance = c.boolean(data, "needClearanceDoc", "", false).unwrap_or(false);
    let mut cartons: Vec<Carton> = Vec::new();
    for (i, carton) in c.list(data, "cartonList", "", true, MAX_OTHER_LIST).iter().enumerate() {
        let at = format!("cartonList[{i}].");
        if !carton.is_object() {
            c.fail(format!("cartonList[{i}] must be an object"));
            continue;
        }
        let number = c.required(carton, "sellerCartonNumber", &at);
        if let Some(n) = &number
            && cartons.iter().any(|x| x.number == *n)
        {
            c.fail(format!("{at}sellerCartonNumber {n} appears twice"));
        }
        let origin = c.optional(carton, "cartonOriginCountry", &at);
        c.country(origin.as_deref(), "cartonOriginCountry", &at);
        let mut lines = Vec::new();
        for (j, p) in c.list(carton, "productList", &at, true, MAX_OTHER_LIST).iter().enumerate() {
            let at = format!("{at}productList[{j}].");
            let mfskuid = c.required(p, either_key(p, ["mfskuid", "MFSKUID"]), &at);
            if let Some(m) = &mfskuid
                && store.owned(&ctx.seller, m).is_none()
            {
                c.fail(format!("{at}mfskuid {m} not found"));
            }
            let quantity = lenient_quantity(field(p, "quantity"));
            if quantity.is_none() {
                c.fail(format!("{at}quantity must be a positive integer"));
            }
            if let (Some(mfskuid), Some(quantity)) = (mfskuid, quantity) {
                lines.push(CartonLine { mfskuid, quantity, received: 0, put_away: 0 });
            }
        }
        cartons.push(Carton { number: number.unwrap_or_default(), lines });
    }
    c.into_result()?;
    let (seller_number, region) = (seller_number.unwrap_or_default(), region.unwrap_or_default());

    // CHOICE (WIRE.md): a repeated sellerInboundNumber is refused (a business refusal,
    // code 3), naming the existing order; OC's documents are silent.
    if let Some(ib) = store.inbounds.iter().find(|ib| ib.seller == ctx.seller && ib.seller_number == seller_number) {
        return Err(OcError::new(
            DUPLICATE_SELLER_INBOUND_NUMBER,
            format!("sellerInboundNumber {seller_number} already exists as {}", ib.number),
        ));
    }
    let number = store.next_inbound_number(&region);
    let answer = inbound_answer(&number, &cartons);
    let now = now();
    store.inbounds.push(Inbound {
        seller: ctx.seller.clone(),
        number,
        seller_number,
        region,
        express: method.as_deref() == Some("EX"),
        need_clearance,
        cartons,
        status: "Created".into(),
        status_at: now,
        created: now,
        arrived: None,
        tracking: Vec::new(),
        files: Vec::new(),
        stocked: false,
    });
    Ok(answer)
}

/// `{inboundNumber, skuLabel, cartonLabel}` with both labels as base64 PDFs.
fn inbound_answer(number: &str, cartons: &[Carton]) -> Value {
    let mut totals: Vec<(&str, i64)> = Vec::new();
    for line in cartons.iter().flat_map(|c| &c.lines) {
        match totals.iter_mut().find(|(m, _)| *m == line.mfskuid) {
            Some((_, q)) => *q += line.quantity,
            None => totals.push((&line.mfskuid, line.quantity)),
        }
    }
    let sku_lines: Vec<String> = totals.iter().map(|(m, q)| format!("{m}    x {q}")).collect();
    let carton_lines: Vec<String> = cartons
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{number}-{:03}  carton {}/{}  {}", i + 1, i + 1, cartons.len(), c.number))
        .collect();
    let label = |kind: &str, title: String, lines: &[String]| {
        json!({
            "fileName": format!("{number}_{kind}.pdf"),
            "fileType": "PDF",
            "content": STANDARD.encode(simple_pdf(&title, lines)),
        })
    };
    json!({
        "inboundNumber": number,
        "skuLabel": label("SKU", format!("OrangeConnex SKU labels - {number}"), &sku_lines),
        "cartonLabel": label("CARTON", format!("OrangeConnex carton labels - {number}"), &carton_lines),
    })
}

fn op_inbound_tracking(fake: &OcFake, ctx: &Ctx) -> Result<Value, OcError> {
    let data = object(&ctx.data)?;
    let mut c = Check::request();
    let number = c.required(data, "inboundNumber", "");
    let reference = c.required(data, "referenceNumber", "");
    let mut tracking = Vec::new();
    for (i, t) in c.list(data, "trackingList", "", true, MAX_OTHER_LIST).iter().enumerate() {
        let at = format!("trackingList[{i}].");
        let carton = c.required(t, "cartonNumber", &at);
        let carrier = c.required(t, "carrier", &at);
        let tracking_number = c.required(t, "trackingNumber", &at);
        if let (Some(a), Some(b), Some(n)) = (carton, carrier, tracking_number) {
            tracking.push((a, b, n));
        }
    }
    c.into_result()?;
    let (number, reference) = (number.unwrap_or_default(), reference.unwrap_or_default());
    let mut store = fake.settled();
    let Some(ib) = store.inbounds.iter_mut().find(|ib| ib.seller == ctx.seller && ib.number == number) else {
        return Err(OcError::new("404", format!("Inbound order {number} not found")));
    };
    if !ib.express {
        return Err(OcError::invalid(format!(
            "{number} is not an express (EX) inbound; book its delivery on the portal"
        )));
    }
    if ib.seller_number != reference {
        return Err(OcError::invalid(format!(
            "referenceNumber {reference} is not the sellerInboundNumber of {number}"
        )));
    }
    for t in tracking {
        if !ib.tracking.iter().any(|x| x.2 == t.2) {
            ib.tracking.push(t);
        }
    }
    Ok(json!({ "inboundNumber": number }))
}

fn op_inbound_file(fake: &OcFake, ctx: &Ctx) -> Result<Value, OcError> {
    let data = object(&ctx.data)?;
    let mut c = Check::request();
    let number = c.required(data, "inboundNumber", "");
    let mut files = Vec::new();
    for (i, f) in c.list(data, "fileList", "", true, MAX_OTHER_LIST).iter().enumerate() {
        let at = format!("fileList[{i}].");
        let name = c.required(f, "fileName", &at);
        let kind = c.required(f, "fileType", &at);
        if let Some(k) = &kind
            && !["PL", "IN", "BL", "MAWB", "CO"].contains(&k.as_str())
        {
            c.fail(format!("{at}fileType must be PL, IN, BL, MAWB or CO"));
        }
        let size = match c.required(f, "file", &at).map(|b| STANDARD.decode(b.as_bytes()).map(|d| d.len())) {
            Some(Ok(0)) => {
                c.fail(format!("{at}file is empty"));
                None
            }
            Some(Ok(n)) if n > MAX_FILE_BYTES => {
                c.fail(format!("{at}file is {n} bytes; at most {MAX_FILE_BYTES} are allowed"));
                None
            }
            Some(Ok(n)) => Some(n),
            Some(Err(_)) => {
                c.fail(format!("{at}file must be base64"));
                None
            }
            None => None,
        };
        if let (Some(name), Some(kind), Some(size)) = (name, kind, size) {
            files.push((name, kind, size));
        }
    }
    c.into_result()?;
    let number = number.unwrap_or_default();
    let mut store = fake.settled();
    let Some(ib) = store.inbounds.iter_mut().find(|ib| ib.seller == ctx.seller && ib.number == number) else {
        return Err(OcError::new("404", format!("Inbound order {number} not found")));
    };
    // CHOICE: fileCount counts the files of this call.
    let count = files.len();
    ib.files.extend(files);
    Ok(json!({ "inboundNumber": number, "fileCount": count }))
}

/// An inbound order's window filter: created or status changed in `[start, end]` (OC: "OC
/// returns all the orders created or having status changed since this start time").
fn inbound_window(c: &mut Check, data: &Value) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let start = c.time(data, "startTime", "", false);
    let end = c.time(data, "endTime", "", false);
    if (field(data, "startTime").is_some() && start.is_none()) || (field(data, "endTime").is_some() && end.is_none()) {
        return None;
    }
    let now = Utc::now();
    // OC: "If null, OC takes the API request time as the end time."
    let end = end.unwrap_or(now);
    let start = start?;
    if start > end {
        c.fail("startTime is after endTime");
    } else if end - start > Duration::days(MAX_INBOUND_WINDOW_DAYS) {
        // OC: "The duration between endTime and startTime should be less than 7days."
        c.fail(format!(
            "The duration between endTime and startTime should be less than {MAX_INBOUND_WINDOW_DAYS} days"
        ));
    }
    if start < now - Duration::days(MOVEMENT_LOOKBACK_DAYS) {
        // OC: "startTime can not be one year ago."
        c.fail("startTime can not be one year ago");
    }
    Some((start, end))
}

fn inbound_in_window(ib: &Inbound, window: Option<(DateTime<Utc>, DateTime<Utc>)>) -> bool {
    window.is_none_or(|(s, e)| (ib.created >= s && ib.created <= e) || (ib.status_at >= s && ib.status_at <= e))
}

/// `(SKU lines, total planned, total received, total put away)` of an inbound.
fn inbound_lines(store: &Store, ib: &Inbound) -> (Vec<Value>, i64, i64, i64) {
    let (mut planned, mut received, mut put_away) = (0, 0, 0);
    let mut lines = Vec::new();
    for c in &ib.cartons {
        for l in &c.lines {
            planned += l.quantity;
            received += l.received;
            put_away += l.put_away;
            let seller_sku = store.skus.get(&l.mfskuid).map(|s| s.seller_sku.clone()).unwrap_or_default();
            // CHOICE: OC's documents do not show the SKU line's fields; names follow OC's
            // outbound `SKUList` (`MFSKUID`, `SKUQuantity`) and the list query's
            // `skuQty`/`putAwayQty` [C].
            lines.push(json!({
                "MFSKUID": l.mfskuid, "sellerSKUID": seller_sku, "sellerCartonNumber": c.number,
                "SKUQuantity": l.quantity, "receivedQty": l.received, "putAwayQty": l.put_away
            }));
        }
    }
    (lines, planned, received, put_away)
}

fn op_inbound_detail(fake: &OcFake, ctx: &Ctx) -> Result<Value, OcError> {
    let data = object(&ctx.data)?;
    let mut c = Check::request();
    let window = inbound_window(&mut c, data);
    let mut strings = |key: &str| -> Vec<String> {
        let mut out = Vec::new();
        for (i, v) in c.list(data, key, "", false, MAX_INBOUND_DETAIL).iter().enumerate() {
            match v.as_str().filter(|s| !s.is_empty()) {
                Some(s) => out.push(s.to_owned()),
                None => c.fail(format!("{key}[{i}] must be a non-empty string")),
            }
        }
        out
    };
    let numbers = strings("inboundNumberList");
    // OC spells it with a lower-case i.
    let seller_numbers = strings("sellerinboundNumberList");
    if c.is_ok() && numbers.is_empty() && seller_numbers.is_empty() {
        c.fail("inboundNumberList or sellerinboundNumberList is required");
    }
    c.into_result()?;
    let store = fake.settled();
    let lag = *lock(&fake.inbound_lookup_lag);
    let shown_from = now();
    let mine = |ib: &&Inbound| ib.seller == ctx.seller && lag.is_none_or(|l| ib.created + l <= shown_from);
    if let Some(missing) = numbers.iter().find(|n| !store.inbounds.iter().filter(mine).any(|ib| ib.number == **n)) {
        // OC's documented answer for an unknown number.
        return Err(OcError::new(
            "3A0529",
            format!(
                "Query fail. Because inboundNumber [{missing}] doesnt exists. Please check your inboundNumber and try again."
            ),
        ));
    }
    let rows: Vec<Value> = store
        .inbounds
        .iter()
        .filter(mine)
        .filter(|ib| numbers.contains(&ib.number) || seller_numbers.contains(&ib.seller_number))
        .filter(|ib| inbound_in_window(ib, window))
        .map(|ib| {
            let (skus, _, _, _) = inbound_lines(&store, ib);
            let tracking: Vec<Value> = ib
                .tracking
                .iter()
                .map(|(carton, carrier, number)| {
                    json!({ "cartonNumber": carton, "carrier": carrier, "trackingNumber": number })
                })
                .collect();
            let files: Vec<Value> = ib
                .files
                .iter()
                .map(|(name, kind, _)| json!({ "fileName": name, "fileType": kind, "verifyStatus": "PASS", "failReason": "" }))
                .collect();
            let batches: Vec<Value> = ib
                .arrived
                .iter()
                .map(|t| json!({ "inboundBatchNumber": format!("{}-1", ib.number), "arrivalTime": t.timestamp_millis() }))
                .collect();
            json!({
                "inboundNumber": ib.number,
                "sellerinboundNumber": ib.seller_number,
                "status": ib.status,
                "serviceRegion": ib.region,
                "warehouseCode": warehouse_code(&ib.region),
                "needClearanceDoc": ib.need_clearance,
                "fileList": files,
                "batchList": batches,
                "SKUList": skus,
                "trackingList": tracking,
            })
        })
        .collect();
    Ok(json!({ "inboundOrderList": rows }))
}

/// Inbound Order List Query `/3pp/inbound/v1/query`: the orders created or changed in a
/// window of at most 7 days, paged by `page`/`limit` (or `pageNumber`/`pageSize`).
fn op_inbound_list(fake: &OcFake, ctx: &Ctx) -> Result<Value, OcError> {
    let data = object(&ctx.data)?;
    let mut c = Check::request();
    if field(data, "startTime").is_none() {
        c.fail("startTime is required");
    }
    let window = inbound_window(&mut c, data);
    let page_key = either_key(data, ["page", "pageNumber"]);
    let size_key = either_key(data, ["limit", "pageSize"]);
    let page = field(data, page_key).is_some().then(|| c.positive(data, page_key, "", u64::from(u32::MAX))).flatten();
    let size = field(data, size_key).is_some().then(|| c.positive(data, size_key, "", MAX_PAGE_SIZE)).flatten();
    c.into_result()?;
    let (page, size) = (page.unwrap_or(1), size.unwrap_or(MAX_PAGE_SIZE));
    let store = fake.settled();
    let mut rows: Vec<&Inbound> =
        store.inbounds.iter().filter(|ib| ib.seller == ctx.seller && inbound_in_window(ib, window)).collect();
    rows.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.number.cmp(&b.number)));
    let list: Vec<Value> = rows
        .into_iter()
        .skip(usize::try_from((page - 1).saturating_mul(size)).unwrap_or(usize::MAX))
        .take(usize::try_from(size).unwrap_or(usize::MAX))
        .map(|ib| {
            let (_, planned, received, put_away) = inbound_lines(&store, ib);
            json!({
                "inboundNumber": ib.number,
                "referenceNumber": ib.seller_number,
                "status": ib.status,
                "serviceRegion": ib.region,
                "warehouseCode": warehouse_code(&ib.region),
                "shippingMethod": if ib.express { "EX" } else { "TK" },
                "skuQty": planned,
                "receivedQty": received,
                "putAwayQty": put_away,
                "createTime": oc_time(ib.created),
            })
        })
        .collect();
    Ok(json!({ "inboundOrderList": list }))
}

// ---------------------------------------------------------------------------------
// Stock.

fn op_stock_snapshot(fake: &OcFake, ctx: &Ctx) -> Result<Value, OcError> {
    let data = object(&ctx.data)?;
    let mut c = Check::request();
    let page = c.positive(data, "pageNumber", "", u64::from(u32::MAX));
    let size = c.positive(data, "pageSize", "", MAX_PAGE_SIZE);
    let regions = c.keyed_list(data, "serviceRegionList", "serviceRegion", MAX_OTHER_LIST);
    if field(data, "skuList").is_none() {
        c.fail("skuList is required");
    }
    let skus = c.keyed_list(data, "skuList", "mfSkuId", MAX_SNAPSHOT_SKUS);
    if c.is_ok() && skus.is_empty() {
        c.fail("skuList must not be empty");
    }
    c.into_result()?;
    let (page, size) = (page.unwrap_or(1), size.unwrap_or(MAX_PAGE_SIZE));

    let store = fake.settled();
    let mut seen = HashSet::new();
    let rows: Vec<Value> = skus
        .iter()
        .filter(|m| seen.insert(m.as_str()) && store.owned(&ctx.seller, m).is_some())
        .flat_map(|m| store.stock.iter().filter(move |((sku, _), _)| sku == m))
        .filter(|((_, region), _)| regions.is_empty() || regions.contains(region))
        .skip(usize::try_from((page - 1).saturating_mul(size)).unwrap_or(usize::MAX))
        .take(usize::try_from(size).unwrap_or(usize::MAX))
        .map(|((sku, region), available)| {
            json!({
                "MFSKUID": sku, "serviceRegion": region, "warehouseCode": warehouse_code(region),
                "available": available, "inTransit": 0, "received": 0, "reservedAllocated": 0,
                "reservedHold": 0, "reservedVAS": 0, "suspend": 0, "unfulfillable": 0
            })
        })
        .collect();
    Ok(json!({ "SKUList": rows }))
}

fn op_stock_movement(fake: &OcFake, ctx: &Ctx) -> Result<Value, OcError> {
    let data = object(&ctx.data)?;
    let mut c = Check::request();
    let start = c.time(data, "startTime", "", true);
    let end = c.time(data, "endTime", "", true);
    if field(data, "mfSkuList").is_none() {
        c.fail("mfSkuList is required");
    }
    let skus = c.keyed_list(data, "mfSkuList", "mfSkuId", MAX_MOVEMENT_SKUS);
    if c.is_ok() && skus.is_empty() {
        c.fail("mfSkuList must not be empty");
    }
    if let (Some(s), Some(e)) = (start, end) {
        if s > e {
            c.fail("startTime is after endTime");
        } else if e - s > Duration::days(MAX_MOVEMENT_WINDOW_DAYS) {
            c.fail(format!("the window is longer than {MAX_MOVEMENT_WINDOW_DAYS} days"));
        }
        if s < Utc::now() - Duration::days(MOVEMENT_LOOKBACK_DAYS) {
            c.fail("startTime is more than one year ago");
        }
    }
    c.into_result()?;
    let (Some(start), Some(end)) = (start, end) else {
        return Err(OcError::invalid("startTime and endTime are required"));
    };

    let store = fake.settled();
    let mut seen = HashSet::new();
    let out: Vec<Value> = skus
        .iter()
        .filter(|m| seen.insert(m.as_str()))
        .filter_map(|m| store.owned(&ctx.seller, m))
        .map(|sku| {
            // region → status → movements, oldest first.
            let mut by_region: BTreeMap<&str, BTreeMap<&str, Vec<&Movement>>> = BTreeMap::new();
            let mut moves: Vec<&Movement> = store
                .movements
                .iter()
                .filter(|mv| mv.mfskuid == sku.mfskuid && mv.at >= start && mv.at < end)
                .collect();
            moves.sort_by_key(|mv| (mv.at, mv.id));
            for mv in moves {
                by_region.entry(&mv.region).or_default().entry(&mv.status).or_default().push(mv);
            }
            let regions: Vec<Value> = by_region
                .into_iter()
                .map(|(region, statuses)| {
                    let inventory: Vec<Value> = statuses
                        .into_iter()
                        .map(|(status, list)| {
                            let list: Vec<Value> = list
                                .into_iter()
                                .map(|mv| {
                                    json!({
                                        "moventmentID": mv.id.to_string(), "quantity": mv.quantity,
                                        "actualCount": mv.actual, "reason": mv.reason,
                                        "orderNumber": mv.order, "updateTime": oc_time(mv.at)
                                    })
                                })
                                .collect();
                            json!({ "inventoryStatus": status, "movementList": list })
                        })
                        .collect();
                    json!({ "serviceRegion": region, "inventoryList": inventory })
                })
                .collect();
            json!({ "MFSKUID": sku.mfskuid, "sellerSkuId": sku.seller_sku, "serviceRegionList": regions })
        })
        .collect();
    drop(store);
    lock(&fake.windows).push((start, end));
    Ok(Value::Array(out))
}

// ---------------------------------------------------------------------------------
// Helpers: times and label PDFs.

/// China Standard Time, the offset OC writes its times in.
fn cst() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| Utc.fix())
}

/// `yyyy-MM-ddTHH:mm:ss+0800`.
fn oc_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&cst()).format("%Y-%m-%dT%H:%M:%S%z").to_string()
}

/// Parses `yyyy-MM-ddTHH:mm:ss±hhmm` or `yyyy-MM-dd±hhmm` (midnight at that offset); any
/// offset, no colon in it, no fractions.
fn parse_oc_time(s: &str) -> Option<DateTime<Utc>> {
    if !s.is_ascii() || s.len() < 5 {
        return None;
    }
    let (local, offset) = s.split_at(s.len() - 5);
    let (sign, digits) = match offset.split_at(1) {
        ("+", d) => (1, d),
        ("-", d) => (-1, d),
        _ => return None,
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits.get(..2)?.parse().ok()?;
    let minutes: i32 = digits.get(2..)?.parse().ok()?;
    if hours > 23 || minutes > 59 {
        return None;
    }
    let offset = FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))?;
    let shape_ok = |pattern: &str| {
        local.len() == pattern.len()
            && local.bytes().zip(pattern.bytes()).all(|(c, p)| if p == b'd' { c.is_ascii_digit() } else { c == p })
    };
    let naive = if shape_ok("dddd-dd-ddTdd:dd:dd") {
        NaiveDateTime::parse_from_str(local, "%Y-%m-%dT%H:%M:%S").ok()?
    } else if shape_ok("dddd-dd-dd") {
        NaiveDate::parse_from_str(local, "%Y-%m-%d").ok()?.and_hms_opt(0, 0, 0)?
    } else {
        return None;
    };
    offset.from_local_datetime(&naive).single().map(|t| t.with_timezone(&Utc))
}

/// A one-page PDF (Helvetica text lines), written by hand with a correct xref table.
fn simple_pdf(title: &str, lines: &[String]) -> Vec<u8> {
    const MAX_LINES: usize = 200;
    let mut shown: Vec<String> = lines.iter().take(MAX_LINES).map(|l| pdf_text(l)).collect();
    if lines.len() > MAX_LINES {
        shown.push(format!("... and {} more", lines.len() - MAX_LINES));
    }
    let height = 425usize.max(80 + 16 * shown.len());
    let mut content = format!("BT /F1 14 Tf 20 {} Td ({}) Tj ET\n", height - 40, pdf_text(title));
    for (i, line) in shown.iter().enumerate() {
        content.push_str(&format!("BT /F1 11 Tf 20 {} Td ({line}) Tj ET\n", height - 70 - 16 * i));
    }
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 283 {height}] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>"
        ),
        format!("<< /Length {} >>\nstream\n{content}endstream", content.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_owned(),
    ];
    let mut out: Vec<u8> = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, obj) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{obj}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    let mut tail = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for off in offsets {
        tail.push_str(&format!("{off:010} 00000 n \n"));
    }
    tail.push_str(&format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1));
    out.extend_from_slice(tail.as_bytes());
    out
}

/// Text for a PDF literal string: printable ASCII, with `\`, `(` and `)` escaped.
fn pdf_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' | '(' | ')' => {
                out.push('\\');
                out.push(ch);
            }
            ' '..='~' => out.push(ch),
            _ => out.push('?'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_independent_vectors() {
        // printf '%s' '/openapi/3pp/base/v1/service||k|s' | md5sum
        assert_eq!(sign("/openapi/3pp/base/v1/service", b"", "k", "s"), "9eb9fe6447325cf46868004652b6a976");
        // printf '%s' '/openapi/3pp/sku/v3/query|{"messageId":"m1","timestamp":1700000000000,"data":{}}|shipgate-sandbox-oc-client|shipgate-sandbox-oc-secret-0000' | md5sum
        let body = br#"{"messageId":"m1","timestamp":1700000000000,"data":{}}"#;
        assert_eq!(
            sign("/openapi/3pp/sku/v3/query", body, SANDBOX_CLIENT_KEY, SANDBOX_SECRET_KEY),
            "b02aee0ce8715268793fb11078c1e939"
        );
        // PATH_ONLY: printf '%s' '/openapi/3pp/sku/v3/query||shipgate-sandbox-oc-client|shipgate-sandbox-oc-secret-0000' | md5sum
        assert_eq!(
            sign("/openapi/3pp/sku/v3/query", b"", SANDBOX_CLIENT_KEY, SANDBOX_SECRET_KEY),
            "5d0ce23d97529f585dc357eefa703886"
        );
    }

    #[test]
    fn times_parse_any_offset_and_format_in_china_time() {
        let t = parse_oc_time("2025-12-27T08:30:00+0800").unwrap();
        assert_eq!(t, Utc.with_ymd_and_hms(2025, 12, 27, 0, 30, 0).unwrap());
        assert_eq!(oc_time(t), "2025-12-27T08:30:00+0800");
        assert_eq!(parse_oc_time("2025-12-26T19:30:00-0500"), Some(t));
        assert_eq!(parse_oc_time("2025-12-27T00:30:00+0000"), Some(t));
        assert_eq!(parse_oc_time("2025-12-27+0800"), Some(Utc.with_ymd_and_hms(2025, 12, 26, 16, 0, 0).unwrap()));
        for bad in [
            "2025-12-27T08:30:00+08:00",
            "2025-12-27T08:30:00Z",
            "2025-12-27 08:30:00+0800",
            "2025-12-27T08:30:00.000+0800",
            "2025-13-27T08:30:00+0800",
            "2025-1-27+0800",
            "2025-12-27",
            "+0800",
            "",
            "2025-12-27T08:30:00+2400",
            "２０２５-12-27+0800",
        ] {
            assert_eq!(parse_oc_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn ids_have_documented_shapes() {
        let mut s = Store::default();
        let m = s.next_mfskuid();
        assert!(m.len() == 15 && m.starts_with("OC") && m[2..].bytes().all(|b| b.is_ascii_digit()), "{m}");
        let o = s.next_order_number("UK");
        assert!(o.len() == 18 && o.starts_with("OCO") && o.ends_with("GB"), "{o}");
        assert!(o[3..16].bytes().all(|b| b.is_ascii_digit()), "{o}");
        let i = s.next_inbound_number("DE");
        assert!(i.len() == 14 && i.starts_with("OCI") && &i[4..6] == "DE", "{i}");
        assert!(i[3..4].bytes().all(|b| b.is_ascii_digit()) && i[6..].bytes().all(|b| b.is_ascii_digit()), "{i}");
        for _ in 0..50 {
            let code = new_code();
            assert!(code.contains('/') && code.contains('+') && code.ends_with('='), "{code}");
            assert!(STANDARD.decode(&code).is_ok());
        }
        assert!(is_ebay_order_id("02-05696-00555"));
        for bad in ["2-05696-00555", "02-5696-00555", "02-05696-0055a", "02-05696-00555-1", "0205696000555"] {
            assert!(!is_ebay_order_id(bad), "{bad}");
        }
    }

    #[test]
    fn double_encoded_codes_decode_once_more() {
        assert_eq!(percent_decode("ab%2Fc%2B%3D").as_deref(), Some("ab/c+="));
        assert_eq!(percent_decode("a+b").as_deref(), Some("a+b"));
        assert_eq!(percent_decode("bad%2"), None);
        assert_eq!(percent_decode("bad%zz"), None);
    }

    #[test]
    fn label_pdf_has_correct_xref_offsets() {
        let pdf =
            simple_pdf("OrangeConnex SKU labels - OCI5DE07295030", &["OC0000250260096    x 3".into(), "(a\\b)".into()]);
        let text = String::from_utf8_lossy(&pdf).into_owned();
        assert!(pdf.starts_with(b"%PDF-1.4\n") && text.ends_with("%%EOF\n"));
        assert!(text.contains("(OC0000250260096    x 3) Tj") && text.contains("(\\(a\\\\b\\)) Tj"));
        let startxref: usize = text.rsplit("startxref\n").next().unwrap().lines().next().unwrap().parse().unwrap();
        assert!(pdf[startxref..].starts_with(b"xref\n0 6\n"));
        // Offsets are in bytes (the binary comment on line 2 is not UTF-8).
        let table = std::str::from_utf8(&pdf[startxref..]).unwrap();
        for (n, line) in table.lines().skip(3).take(5).enumerate() {
            let off: usize = line[..10].parse().unwrap();
            assert!(pdf[off..].starts_with(format!("{} 0 obj\n", n + 1).as_bytes()), "object {}", n + 1);
        }
        // The content stream's /Length matches its bytes.
        let find = |needle: &[u8]| pdf.windows(needle.len()).position(|w| w == needle).unwrap();
        let start = find(b"stream\n") + "stream\n".len();
        let end = find(b"endstream");
        assert!(text.contains(&format!("<< /Length {} >>", end - start)));
    }

    #[test]
    fn lazy_progression_applies_effects_at_due_times() {
        let mut s = Store::default();
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        s.skus.insert(
            "OC1".into(),
            Sku {
                seller: "a".into(),
                mfskuid: "OC1".into(),
                reference: "R".into(),
                seller_sku: "R".into(),
                names: json!([]),
                regions: vec!["UK".into()],
                status: "DRAFT".into(),
                status_at: t0,
                updated: t0,
            },
        );
        s.outbounds.push(Outbound {
            seller: "a".into(),
            number: "OCO1GB".into(),
            reference: "ref".into(),
            platform: "OTHERS".into(),
            ebay_order_id: None,
            region: "UK".into(),
            service: "GBDomesticStandard".into(),
            items: vec![("OC1".into(), 2)],
            created: t0,
            status: "CREATED".into(),
            status_at: t0,
            tracking: None,
            auto_ef: false,
            stock_taken: false,
        });
        let step = Duration::seconds(10);
        let timing = Timing { outbound: Some(step), inbound: Some(step), review: Some(Duration::seconds(20)) };
        s.settle(t0 + Duration::seconds(35), timing);
        assert_eq!(s.outbounds[0].status, "PACKED");
        assert!(s.outbounds[0].tracking.as_ref().is_some_and(|t| t.number.ends_with("GB") && t.fee_cents == 345));
        assert_eq!(s.skus["OC1"].status, "APPROVED");
        assert_eq!(s.skus["OC1"].updated, t0 + Duration::seconds(20));
        assert!(s.movements.is_empty());
        s.settle(t0 + Duration::seconds(60), timing);
        assert_eq!(s.outbounds[0].status, "SHIPPED");
        assert_eq!(s.stock[&("OC1".to_owned(), "UK".to_owned())], -2);
        let mv = &s.movements[0];
        assert_eq!((mv.status.as_str(), mv.quantity, mv.reason.as_str()), ("AVL", -2, "OEH"));
        assert_eq!(mv.at, t0 + Duration::seconds(40));
        assert_eq!(mv.order, "OCO1GB");
    }

    mod flow {
        use axum::{body::Body, http::Request};
        use tower::ServiceExt;

        use super::*;

        const CB: &str = "https://erp.example/cb";

        async fn send(router: &Router, req: Request<Body>) -> (StatusCode, HeaderMap, Value) {
            let resp = router.clone().oneshot(req).await.unwrap();
            let (parts, body) = resp.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
            (parts.status, parts.headers, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
        }

        /// Consent for `seller`, then the code exchange; returns the access token.
        async fn login(router: &Router, seller: &str) -> String {
            let uri = format!(
                "/oauth/authorize?response_type=code&client_id={SANDBOX_CLIENT_KEY}&redirect_uri={}&state=u1&approve=1&seller={seller}",
                seed::url_encode(CB)
            );
            let (status, headers, _) = send(router, Request::get(uri).body(Body::empty()).unwrap()).await;
            assert_eq!(status, StatusCode::SEE_OTHER);
            let location = headers[header::LOCATION].to_str().unwrap().to_owned();
            assert!(
                location.starts_with(&format!("{CB}?act=getAuthorizationCode&code="))
                    && location.ends_with("&state=u1")
            );
            // The code as it sits in the redirect is URL-encoded once; send it encoded twice.
            let code = location.split("code=").nth(1).unwrap().split('&').next().unwrap().replace('%', "%25");
            let token_uri = |code: &str| {
                format!(
                    "/oauth/token?grant_type=authorization_code&code={code}&redirect_uri={}&client_id={SANDBOX_CLIENT_KEY}",
                    seed::url_encode(CB)
                )
            };
            let (status, _, body) = send(router, Request::post(token_uri(&code)).body(Body::empty()).unwrap()).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!((body["token_type"].as_str(), body["expires_in"].as_i64()), (Some("bearer"), Some(3600)));
            let (status, _, again) = send(router, Request::post(token_uri(&code)).body(Body::empty()).unwrap()).await;
            assert_eq!((status, again["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
            body["access_token"].as_str().unwrap().to_owned()
        }

        fn call(path: &str, token: &str, data: Value) -> Request<Body> {
            let body = json!({ "messageId": "m", "timestamp": Utc::now().timestamp_millis(), "apiVersion": "2.0", "data": data }).to_string();
            Request::post(path)
                .header("Content-Type", "application/json")
                .header("Access-Token", format!("Bearer {token}"))
                .header("clientKey", SANDBOX_CLIENT_KEY)
                .header("TimeStamp", Utc::now().timestamp_millis().to_string())
                .header("vAuthorization", sign(path, body.as_bytes(), SANDBOX_CLIENT_KEY, SANDBOX_SECRET_KEY))
                .body(Body::from(body))
                .unwrap()
        }

        #[tokio::test]
        async fn consent_token_and_an_order_through_to_shipped() {
            let fake = OcFake::new();
            fake.register_app(
                SANDBOX_CLIENT_KEY,
                FakeApp { secret_key: SANDBOX_SECRET_KEY.into(), redirect_uri: CB.into() },
            );
            let router = fake.router();
            let alice = login(&router, "alice").await;
            let bob = login(&router, "bob").await;

            let sku = |region: &str| {
                json!([{ "referenceSKUID": "MUG-1", "SKUNameList": [{ "SKUName": "Mug", "languageCode": "en-US" }],
                    "withBattery": false, "serviceRegionList": [{ "serviceRegion": region, "withBrand": "WOB" }] }])
            };
            // GB is not an OC region: HTTP 200, success:false.
            let (status, _, body) = send(&router, call("/openapi/3pp/sku/v3/creation", &alice, sku("GB"))).await;
            assert_eq!((status, body["success"].as_bool()), (StatusCode::OK, Some(false)), "{body}");
            assert!(body["message"].as_str().unwrap().contains("needs at least one known serviceRegion"), "{body}");
            let (_, _, body) = send(&router, call("/openapi/3pp/sku/v3/creation", &alice, sku("UK"))).await;
            assert_eq!((body["code"].clone(), body["messageId"].as_str()), (json!(0), Some("m")), "{body}");
            assert_eq!(body["data"][0]["status"], "DRAFT", "{body}");
            let mfskuid = body["data"][0]["MFSKUID"].as_str().unwrap().to_owned();

            // SKU query needs a list; it answers the array of SKUs.
            let (_, _, body) = send(&router, call("/openapi/3pp/sku/v3/query", &alice, json!({ "page": 1 }))).await;
            assert_eq!(body["code"], json!(400), "{body}");
            assert_eq!(
                body["errors"][0]["message"],
                "At least one of referenceSKUIDList, sellerSKUIDList, mfskulist is required"
            );
            let q = json!({ "mfskulist": [{ "mfskuid": mfskuid }], "page": 1, "limit": 200 });
            let (_, _, body) = send(&router, call("/openapi/3pp/sku/v3/query", &alice, q)).await;
            assert_eq!(body["data"][0]["serviceRegionList"][0]["serviceRegion"], "UK", "{body}");

            // A wrong signature is 403; no token 401.
            let mut req = call("/openapi/3pp/sku/v3/query", &alice, json!({}));
            req.headers_mut().insert("vAuthorization", "0".repeat(32).parse().unwrap());
            assert_eq!(send(&router, req).await.2["code"], json!(403));
            let mut req = call("/openapi/3pp/sku/v3/query", &alice, json!({}));
            req.headers_mut().remove("Access-Token");
            assert_eq!(send(&router, req).await.2["code"], json!(401));

            let order = |reference: &str, ebay: &str| {
                json!([{ "referenceNumber": reference, "orderPlatform": "eBay", "ebayId": "seller1", "ebayOrderId": ebay,
                    "serviceRegion": "UK", "shippingServiceCode": "GBDomesticStandard", "consigneeName": "A. Buyer",
                    "consigneeAddress1": "1 High St", "consigneeCity": "Leeds", "consigneeZipCode": "LS1 1AA",
                    "consigneeCountryCode": "GB", "productList": [{ "mfSkuId": mfskuid, "skuQuantity": 2 }] }])
            };
            let (_, _, body) =
                send(&router, call("/openapi/3pp/outbound/v1/creation", &alice, order("R1", "02-05696-00555"))).await;
            assert_eq!(body["data"][0]["errors"][0]["code"], json!(SKU_NOT_APPROVED), "{body}");
            assert!(fake.review_sku(&mfskuid, "APPROVED"));
            let (_, _, body) =
                send(&router, call("/openapi/3pp/outbound/v1/creation", &alice, order("R1", "2-5696-555"))).await;
            assert_eq!(body["data"][0]["errors"][0]["code"], json!(EBAY_ORDER_ID_INVALID), "{body}");
            let mut no_ebay_id = order("R1", "02-05696-00555");
            no_ebay_id[0]["ebayId"] = json!("");
            let (_, _, body) = send(&router, call("/openapi/3pp/outbound/v1/creation", &alice, no_ebay_id)).await;
            assert_eq!(body["data"][0]["errors"][0]["code"], json!(EBAY_ORDER_ID_INVALID), "{body}");
            let mut gb = order("R1", "02-05696-00555");
            gb[0]["serviceRegion"] = json!("GB");
            let (_, _, body) = send(&router, call("/openapi/3pp/outbound/v1/creation", &alice, gb)).await;
            assert_eq!(body["data"][0]["errors"][0]["code"], json!(SERVICE_NOT_FOUND), "{body}");
            let (_, _, body) =
                send(&router, call("/openapi/3pp/outbound/v1/creation", &alice, order("R1", "02-05696-00555"))).await;
            let number = body["data"][0]["orderNumber"].as_str().unwrap().to_owned();
            let (_, _, body) =
                send(&router, call("/openapi/3pp/outbound/v1/creation", &bob, order("R1", "02-05696-00555"))).await;
            assert_eq!(body["data"][0]["errors"][0]["code"], json!(MFSKUID_NOT_FOUND), "{body}");

            fake.set_stock(&mfskuid, "UK", 5);
            assert!(fake.set_outbound_status(&number, "SHIPPED"));
            let query = json!({ "orderNumberList": [{ "orderNumber": number }] });
            let (_, _, body) = send(&router, call("/openapi/3pp/outbound/v2/query", &alice, query.clone())).await;
            let row = &body["data"][0];
            assert_eq!(
                (row["orderStatus"].as_str(), row["trackingNumberList"][0]["LMCarrierCode"].as_str()),
                (Some("SHIPPED"), Some("RM"))
            );
            assert_eq!(send(&router, call("/openapi/3pp/outbound/v2/query", &bob, query)).await.2["data"], json!([]));

            let window = json!({ "startTime": oc_time(Utc::now() - Duration::hours(1)), "endTime": oc_time(Utc::now() + Duration::hours(1)),
                "mfSkuList": [{ "mfSkuId": mfskuid }] });
            let (_, _, body) = send(&router, call("/openapi/3pp/inventory/v1/movement", &alice, window)).await;
            let moves = &body["data"][0]["serviceRegionList"][0]["inventoryList"][0]["movementList"];
            assert_eq!(
                (moves[1]["reason"].as_str(), moves[1]["quantity"].as_i64(), moves[1]["actualCount"].as_i64()),
                (Some("OEH"), Some(-2), Some(3))
            );
            let snapshot = json!({ "pageNumber": 1, "pageSize": 200, "skuList": [{ "mfSkuId": mfskuid }] });
            let (_, _, body) = send(&router, call("/openapi/3pp/inventory/v2/snapshot", &alice, snapshot)).await;
            assert_eq!(body["data"]["SKUList"][0]["available"], json!(3));
            assert_eq!(
                (fake.calls("outbound.create"), fake.outbound_batch_sizes().len(), fake.movement_windows().len()),
                (6, 6, 1)
            );

            // Inbound: GB refused; UK received then put away, line quantities filled.
            let inbound = |region: &str| {
                json!({ "sellerInboundNumber": "IN-1", "serviceRegion": region, "shippingFrom": "CN", "shippingMethod": "TK",
                    "transportMethod": "OF", "eta": "2030-01-01+0800",
                    "cartonList": [{ "sellerCartonNumber": "C1", "productList": [{ "mfskuid": mfskuid, "quantity": 4 }] }] })
            };
            let (_, _, body) = send(&router, call("/openapi/3pp/inbound/v1/creation", &alice, inbound("GB"))).await;
            assert_eq!(body["code"], json!(400), "{body}");
            let (_, _, body) = send(&router, call("/openapi/3pp/inbound/v1/creation", &alice, inbound("UK"))).await;
            let ib = body["data"]["inboundNumber"].as_str().unwrap().to_owned();
            assert!(ib.starts_with("OCI5GB"), "{ib}");
            // The same seller inbound number again: refused, naming the order OC holds.
            let (_, _, body) = send(&router, call("/openapi/3pp/inbound/v1/creation", &alice, inbound("UK"))).await;
            assert_eq!(
                (body["code"].as_i64(), body["errors"][0]["code"].as_str()),
                (Some(3), Some("DUPLICATE_SELLER_INBOUND_NUMBER")),
                "{body}"
            );
            assert!(body["message"].as_str().unwrap().contains(&ib), "{body}");
            let detail = json!({ "inboundNumberList": [ib] });
            assert!(fake.set_inbound_status(&ib, "Receiving"));
            let (_, _, body) = send(&router, call("/openapi/3pp/inbound/v1/detail", &alice, detail.clone())).await;
            let line = &body["data"]["inboundOrderList"][0]["SKUList"][0];
            assert_eq!(
                (line["SKUQuantity"].as_i64(), line["receivedQty"].as_i64(), line["putAwayQty"].as_i64()),
                (Some(4), Some(4), Some(0)),
                "{body}"
            );
            assert!(fake.set_inbound_status(&ib, "Put away"));
            let (_, _, body) = send(&router, call("/openapi/3pp/inbound/v1/detail", &alice, detail)).await;
            assert_eq!(body["data"]["inboundOrderList"][0]["SKUList"][0]["putAwayQty"], json!(4), "{body}");
            let list = json!({ "startTime": oc_time(Utc::now() - Duration::days(1)), "endTime": oc_time(Utc::now() + Duration::hours(1)), "page": 1, "limit": 50 });
            let (_, _, body) = send(&router, call("/openapi/3pp/inbound/v1/query", &alice, list)).await;
            let row = &body["data"]["inboundOrderList"][0];
            assert_eq!(
                (row["skuQty"].as_i64(), row["putAwayQty"].as_i64(), row["status"].as_str()),
                (Some(4), Some(4), Some("Put away")),
                "{body}"
            );
            let (_, _, body) = send(
                &router,
                call("/openapi/3pp/inbound/v1/detail", &alice, json!({ "inboundNumberList": ["OCI5GB0"] })),
            )
            .await;
            assert_eq!(body["errors"][0]["code"], "3A0529", "{body}");
        }
    }
}
