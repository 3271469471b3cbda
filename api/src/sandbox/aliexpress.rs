//! A fake AliExpress Open Platform (IOP gateway `api-sg.aliexpress.com`), written from the
//! wire reference (`connectors.md` §4) and AliExpress' public docs, independent of the
//! AliExpress connector (no shared types, signing or paging code). Behaviour and the rule
//! each follows:
//!
//! - Seller consent `GET /oauth/authorize?response_type=code&client_id=<app_key>&redirect_uri&state&force_auth`
//!   (§4.2, AE-DOC 120687): `redirect_uri` must equal the app's registered callback; the
//!   "I Agree" form posts to `POST /oauth/consent`, which answers 303 to the callback
//!   with `code` and `state`. Codes look like `3_<app_key>_<random>`, are single-use and
//!   live 30 minutes (the IOP sister platforms' documented code lifetime; AliExpress' own
//!   figure is not published).
//! - Every gateway call carries `app_key, timestamp, sign_method, sign` (§4.1), in a
//!   form-encoded body and/or the query string (both are read; the body wins).
//!   `timestamp` is epoch milliseconds or ISO-8601 UTC, within 7200 s of now (AE-DOC
//!   articleId 120691). `sign` is verified exactly as §4.1 says: every parameter but
//!   `sign`, sorted by name (byte order), concatenated `k1v1k2v2…`, prefixed with the API
//!   path for `/rest` calls (`/auth/token/create`), HMAC-SHA256 keyed with the app secret,
//!   UPPER-case hex. `sign_method=md5` (legacy TOP) is accepted too: upper-hex
//!   `MD5(secret + same string + secret)`.
//! - `/rest/auth/token/create` (`code`) and `/rest/auth/token/refresh` (`refresh_token`)
//!   answer the flat IOP shape `{access_token, refresh_token, expires_in,
//!   refresh_expires_in, seller_id, user_id, account, …, code:"0", request_id}` (§4.2:
//!   field list inferred from the sister platforms; the exact AliExpress body is
//!   MISSING). Their errors are flat too, as IOP's `/rest` gateway answers:
//!   `{type, code, message, request_id}` with `InvalidAppKey`, `IncompleteSignature`,
//!   `InvalidCode`, `IllegalRefreshToken`, `MissingParameter`, `InvalidTimestamp`.
//!   Refresh keeps the same refresh token (no rotation documented) and a new access token.
//! - `/sync` business calls (`method=…`, `access_token` or legacy `session`) answer
//!   `{"<method_with_underscores>_response":{"result":{…},"request_id"}}` and errors
//!   `{"error_response":{type, code, msg, sub_code?, sub_msg?, request_id}}` (§4.1):
//!   `IllegalAccessToken` for a missing, unknown, expired or revoked token, bad business
//!   parameters as code `"50"` / `isv.invalid-parameter`. Like the real gateway these
//!   errors come with HTTP 200; only the injected throttle uses HTTP 429.
//! - `aliexpress.solution.order.get` (§4.3, AE-DOC 42270): `param0` JSON with
//!   `current_page*`, `page_size*` (1..=50, §4.3 "page size ≤50"), `modified_date_*`,
//!   `create_date_*` (US Pacific `yyyy-MM-dd HH:mm:ss`, both bounds inclusive),
//!   `order_status`, `order_status_list`, `buyer_login_id`. Offset pages sorted newest
//!   `gmt_create` first; page metadata `current_page, page_size, total_count,
//!   total_page` (MISSING in §4.3: our choice). No address in the list (as in reality).
//! - `aliexpress.solution.order.info.get` (AE-DOC 42707): `param1` JSON `{order_id}` →
//!   `result.data{receipt_address, buyer_info, child_order_list, order_amount, …}`.
//! - `aliexpress.solution.order.fulfill` (AE-DOC 42269): `service_name*, out_ref*,
//!   send_type* (all|part), logistics_no*, tracking_website` (required for `OTHER_…`
//!   services) → `result.result_success`; the order moves to WAIT_BUYER_ACCEPT_GOODS (all)
//!   or SELLER_PART_SEND_GOODS (part).
//! - Sandbox developer portal `POST /portal/apps {"redirect_uri"}` → a freshly minted
//!   `{client_id (= app_key), client_secret}`, standing in for creating an app on the
//!   real portal (sellers bring their own key).
//! - Fault injection for tests: `throttle_next` (HTTP 429 + `Retry-After: 1`, body code
//!   `ApiCallLimit`), `malformed_next` (HTTP 200, broken JSON) on order.get.

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
    /// Base URL the fake is reachable at.
    pub base_url: Mutex<String>,
    issued: Mutex<Vec<String>>,
}

/// The one seller every token of this fake belongs to.
pub const SANDBOX_SELLER_ID: &str = "2000123456";
pub const SANDBOX_USER_ID: &str = "2200987654321";
pub const SANDBOX_ACCOUNT: &str = "shipgate.sandbox.seller@example.com";
/// How long consent codes live.
pub const CODE_TTL_SECONDS: i64 = 1800;
/// Largest `page_size` order.get accepts.
pub const MAX_PAGE_SIZE: u64 = 50;
/// Allowed distance between `timestamp` and now.
pub const TIMESTAMP_WINDOW_SECONDS: i64 = 7200;

const ORDER_GET: &str = "aliexpress.solution.order.get";
const ORDER_INFO_GET: &str = "aliexpress.solution.order.info.get";
const ORDER_FULFILL: &str = "aliexpress.solution.order.fulfill";

impl AliExpressFake {
    pub fn new(order_count: usize) -> Arc<Self> {
        let base = seed::base_time();
        Arc::new(Self {
            apps: Mutex::new(HashMap::new()),
            tokens: Mutex::new(Tokens::default()),
            orders: Mutex::new((0..order_count).map(|i| seed_order(i, base)).collect()),
            access_ttl: Mutex::new(Duration::days(30)),
            refresh_ttl: Mutex::new(Duration::days(60)),
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
/// name, as `k1v1k2v2…`.
pub fn sign_base(api_path: Option<&str>, params: &HashMap<String, String>) -> String {
    let mut keys: Vec<&String> = params.keys().filter(|k| k.as_str() != "sign").collect();
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

fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<i64>().ok().and_then(DateTime::from_timestamp_millis);
    }
    DateTime::parse_from_rfc3339(s).ok().map(|d| d.with_timezone(&Utc))
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
    if method == ORDER_GET {
        *lock(&fake.order_calls) += 1;
    }
    if method.is_empty() {
        return missing("method").wrapped();
    }
    let app_key = match check_call(&fake, &params, None) {
        Ok(k) => k,
        Err(e) => return e.wrapped(),
    };
    if ![ORDER_GET, ORDER_INFO_GET, ORDER_FULFILL].contains(&method.as_str()) {
        return AeError::isv("InvalidApiPath", "The specified API path is invalid").wrapped();
    }
    if let Err(e) = check_access_token(&fake, &params, &app_key) {
        return e.wrapped();
    }
    match method.as_str() {
        ORDER_GET => order_get(&fake, &params),
        ORDER_INFO_GET => order_info_get(&fake, &params),
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

/// A positive integer given as a JSON number or a numeric string.
fn int_field(m: &serde_json::Map<String, Value>, name: &str) -> Result<Option<u64>, AeError> {
    match m.get(name) {
        None | Some(Value::Null) => Ok(None),
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

fn money(cents: i64) -> Value {
    json!({ "amount": seed::cents(cents), "currency_code": "USD" })
}

fn order_total(o: &AeOrder) -> i64 {
    o.lines.iter().map(|l| l.unit_cents * i64::from(l.quantity)).sum::<i64>() + o.shipping_cents
}

fn order_dto(o: &AeOrder) -> Value {
    let r = seed::recipient(o.recipient);
    let products: Vec<Value> = o
        .lines
        .iter()
        .map(|l| {
            json!({
                "child_id": l.child_id,
                "order_id": o.order_id,
                "product_id": l.product_id,
                "sku_code": l.sku,
                "product_name": l.title,
                "product_count": l.quantity,
                "product_unit": "piece",
                "product_unit_price": money(l.unit_cents),
                "total_product_amount": money(l.unit_cents * i64::from(l.quantity)),
                "show_status": o.status,
                "send_goods_operator": "WAREHOUSE_SEND_GOODS",
                "logistics_service_name": "AliExpress Standard Shipping",
                "logistics_type": "CAINIAO_STANDARD",
                "product_snap_url": format!("//www.aliexpress.com/snapshot/{}.html?orderId={}", l.child_id, o.order_id),
            })
        })
        .collect();
    json!({
        "order_id": o.order_id,
        "order_status": o.status,
        "biz_type": "AE_COMMON",
        "gmt_create": to_pacific(o.created),
        "gmt_pay_time": to_pacific(o.created + Duration::minutes(3)),
        "gmt_update": to_pacific(o.updated),
        "buyer_login_id": r.buyer,
        "seller_login_id": "shipgate_sandbox",
        "fund_status": "PAY_SUCCESS",
        "frozen_status": "NO_FROZEN",
        "issue_status": "NO_ISSUE",
        "payment_type": "MIXEDCARD",
        "pay_amount": money(order_total(o)),
        "product_list": { "order_product_dto": products },
    })
}

fn order_get(fake: &AliExpressFake, params: &HashMap<String, String>) -> Response {
    {
        let mut throttle = lock(&fake.throttle_next);
        if *throttle > 0 {
            *throttle -= 1;
            return throttled();
        }
    }
    let q = match json_param(params, "param0") {
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
    let mut matching: Vec<AeOrder> = lock(&fake.orders)
        .iter()
        .filter(|o| {
            // Pacific strings have whole seconds: compare at that resolution.
            let updated = o.updated.trunc_subsecs(0);
            in_range(updated, mod_start, mod_end)
                && in_range(o.created.trunc_subsecs(0), create_start, create_end)
                && (statuses.is_empty() || statuses.contains(&o.status))
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
    Json(json!({
        "aliexpress_solution_order_get_response": {
            "result": {
                "success": true,
                "error_code": null,
                "error_message": null,
                "target_list": { "order_dto": dtos },
                "current_page": page,
                "page_size": size,
                "total_count": total,
                "total_page": total_page,
            },
            "request_id": request_id(),
        }
    }))
    .into_response()
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
    let order = lock(&fake.orders).iter().find(|o| o.order_id == order_id).cloned();
    let result = match order {
        None => {
            json!({ "success": false, "error_code": "ORDER_NOT_FOUND", "error_message": "The order does not exist" })
        }
        Some(o) => {
            let r = seed::recipient(o.recipient);
            let (phone_country, mobile) = seed::phone_parts(&r.phone);
            let (first, last) = r.name.split_once(' ').unwrap_or((r.name.as_str(), ""));
            let mut address = json!({
                "contact_person": r.name,
                "address": r.line1,
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
                .map(|l| {
                    json!({
                        "id": l.child_id,
                        "product_id": l.product_id,
                        "sku_code": l.sku,
                        "product_name": l.title,
                        "product_count": l.quantity,
                        "product_price": money(l.unit_cents),
                        "order_status": o.status,
                    })
                })
                .collect();
            json!({
                "success": true,
                "error_code": null,
                "error_message": null,
                "data": {
                    "id": o.order_id,
                    "order_status": o.status,
                    "gmt_create": to_pacific(o.created),
                    "gmt_pay_success": to_pacific(o.created + Duration::minutes(3)),
                    "gmt_modified": to_pacific(o.updated),
                    "buyerloginid": r.buyer,
                    "buyer_signer_fullname": r.name,
                    "buyer_info": { "login_id": r.buyer, "first_name": first, "last_name": last, "country": r.country },
                    "receipt_address": address,
                    "order_amount": money(order_total(&o)),
                    "logistics_amount": money(o.shipping_cents),
                    "child_order_list": { "global_aeop_tp_child_order_dto": children },
                    "seller_operator_login_id": "shipgate_sandbox",
                }
            })
        }
    };
    Json(json!({ "aliexpress_solution_order_info_get_response": { "result": result, "request_id": request_id() } }))
        .into_response()
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
    let (service, out_ref, send_type) = (text("service_name"), text("out_ref"), text("send_type"));
    let failed = |code: &str, desc: &str| {
        Json(json!({ "aliexpress_solution_order_fulfill_response": {
            "result": { "result_success": false, "result_error_code": code, "result_error_desc": desc },
            "request_id": request_id(),
        } }))
        .into_response()
    };
    if send_type != "all" && send_type != "part" {
        return AeError::invalid_parameter("send_type must be all or part").wrapped();
    }
    if text("description").chars().count() > 512 {
        return AeError::invalid_parameter("description is longer than 512 characters").wrapped();
    }
    if service.to_ascii_uppercase().starts_with("OTHER") && text("tracking_website").is_empty() {
        return failed("TRACKING_WEBSITE_REQUIRED", "tracking_website is required when service_name is OTHER");
    }
    let Ok(order_id) = out_ref.parse::<u64>() else {
        return failed("ORDER_NOT_FOUND", "The order does not exist");
    };
    {
        let mut orders = lock(&fake.orders);
        let Some(o) = orders.iter_mut().find(|o| o.order_id == order_id) else {
            return failed("ORDER_NOT_FOUND", "The order does not exist");
        };
        if o.status != "WAIT_SELLER_SEND_GOODS" && o.status != "SELLER_PART_SEND_GOODS" {
            return failed("ORDER_STATUS_NOT_ALLOWED", "The order is not waiting for shipment");
        }
        o.status = if send_type == "all" { "WAIT_BUYER_ACCEPT_GOODS" } else { "SELLER_PART_SEND_GOODS" }.to_owned();
        o.updated = Utc::now().trunc_subsecs(0);
    }
    lock(&fake.fulfillments).push((out_ref, Value::Object(business)));
    Json(json!({ "aliexpress_solution_order_fulfill_response": {
        "result": { "result_success": true },
        "request_id": request_id(),
    } }))
    .into_response()
}

// ---------------------------------------------------------------------------------
// Seed data.

/// One realistic order, deterministic in `i`: 1-3 lines, updated `base + 7i s`.
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
    let status = match i % 10 {
        7 => "WAIT_BUYER_ACCEPT_GOODS",
        9 => "FINISH",
        4 => "SELLER_PART_SEND_GOODS",
        _ => "WAIT_SELLER_SEND_GOODS",
    };
    AeOrder {
        order_id,
        status: status.to_owned(),
        created: updated - Duration::hours(2),
        updated,
        recipient: i,
        lines,
        shipping_cents: (i % 4) as i64 * 150,
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
