//! `GET /oauth/callback/{platform}`: where a platform sends the seller's browser back
//! after consent. It completes nothing itself: the `state` alone must not decide whose
//! organization receives the seller's tokens (a forwarded consent link would land them in
//! the sender's). It hands `code` and `state` to the SPA (a redirect to `SHIPGATE_SPA_URL`)
//! — or, without an SPA, shows a small page that sends them with the user's access token —
//! and the SPA finishes with `completeAccountAuthorization`, authenticated as the user who
//! started the round.

use std::collections::HashMap;

use axum::{
    extract::{Path, Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
};
use entity::enums::Platform;

use crate::app::AppState;

fn platform_of(segment: &str) -> Option<Platform> {
    Some(match segment.to_ascii_lowercase().as_str() {
        "aliexpress" => Platform::Aliexpress,
        "ebay" => Platform::Ebay,
        "wish" => Platform::Wish,
        "amazon" => Platform::Amazon,
        "orangeconnex" => Platform::Orangeconnex,
        _ => return None,
    })
}

/// What the platform sent back.
enum Outcome {
    /// Consent given: what `completeAccountAuthorization` needs.
    Authorized {
        state: String,
        code: String,
        selling_partner_id: Option<String>,
    },
    Failed(String),
}

pub async fn callback(
    State(state): State<AppState>,
    Path(platform): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(platform) = platform_of(&platform) else {
        return (StatusCode::NOT_FOUND, "unknown platform").into_response();
    };
    let platform_name = format!("{platform:?}").to_uppercase();
    let state_param = q.get("state").cloned().unwrap_or_default();
    // Amazon names its code `spapi_oauth_code` and adds `selling_partner_id`.
    let code = q.get("code").or_else(|| q.get("spapi_oauth_code"));
    let outcome = match (code, q.get("error")) {
        (_, Some(err)) => Outcome::Failed(format!("authorization was declined ({err})")),
        (Some(code), None) if !state_param.is_empty() && !code.is_empty() => Outcome::Authorized {
            state: state_param.clone(),
            code: code.clone(),
            selling_partner_id: q.get("selling_partner_id").cloned(),
        },
        _ => Outcome::Failed("the platform did not return an authorization code".into()),
    };
    let mut response = match &state.services.settings.spa_url {
        Some(spa) => spa_redirect(spa, &platform_name, &state_param, &outcome),
        None => page(&platform_name, &outcome),
    };
    // The code is in this URL and page: keep it out of Referer headers and caches.
    let headers = response.headers_mut();
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `{spa}?status=authorized&platform=EBAY&state=…&code=…[&sellingPartnerId=…]`, or
/// `?status=error&platform=…&message=…[&state=…]`.
fn spa_redirect(spa: &str, platform: &str, state_param: &str, outcome: &Outcome) -> Response {
    let mut params = vec![("platform", platform.to_owned())];
    match outcome {
        Outcome::Authorized { state, code, selling_partner_id } => {
            params.insert(0, ("status", "authorized".to_owned()));
            params.push(("state", state.clone()));
            params.push(("code", code.clone()));
            if let Some(id) = selling_partner_id {
                params.push(("sellingPartnerId", id.clone()));
            }
        }
        Outcome::Failed(message) => {
            params.insert(0, ("status", "error".to_owned()));
            params.push(("message", message.clone()));
            if !state_param.is_empty() {
                params.push(("state", state_param.to_owned()));
            }
        }
    }
    let query = serde_urlencoded::to_string(&params).unwrap_or_default();
    let sep = if spa.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{spa}{sep}{query}")).into_response()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// Without an SPA: a page showing what the platform sent, with a form that posts it to
/// `completeAccountAuthorization` with the access token of the user who started the round.
fn page(platform: &str, outcome: &Outcome) -> Response {
    let (state, code, selling_partner_id) = match outcome {
        Outcome::Authorized { state, code, selling_partner_id } => (state, code, selling_partner_id),
        Outcome::Failed(message) => {
            let body = format!(
                "<!doctype html><meta charset=\"utf-8\"><title>Shipgate</title><h1>Authorization failed</h1><p>{}</p>",
                esc(message)
            );
            return (StatusCode::BAD_REQUEST, Html(body)).into_response();
        }
    };
    let mut nonce = [0u8; 16];
    rand::fill(&mut nonce);
    let nonce = hex::encode(nonce);
    let partner = selling_partner_id
        .as_deref()
        .map(|id| {
            format!(
                "<label>Selling partner id <input id=\"sellingPartnerId\" name=\"sellingPartnerId\" readonly value=\"{}\"></label>",
                esc(id)
            )
        })
        .unwrap_or_default();
    let body = format!(
        r#"<!doctype html><meta charset="utf-8"><title>Shipgate: finish connecting</title>
<style>label{{display:block;margin:.4em 0}}input{{width:36em;font-family:monospace}}</style>
<h1>Finish connecting the account</h1>
<p>The platform accepted. Only the Shipgate user who started this authorization can finish it:
sign in to your Shipgate app, or paste that user's access token below. (API clients: call
<code>completeAccountAuthorization(input: {{ platform, state, code }})</code> with these values.)</p>
<form id="finish">
<label>Platform <input id="platform" name="platform" readonly value="{platform}"></label>
<label>State <input id="state" name="state" readonly value="{state}"></label>
<label>Code <input id="code" name="code" readonly value="{code}"></label>
{partner}
<label>Access token <input id="token" name="token" type="password" autocomplete="off" required></label>
<button type="submit">Finish connecting</button>
</form>
<p id="result" role="status"></p>
<script nonce="{nonce}">
document.getElementById('finish').addEventListener('submit', async (ev) => {{
  ev.preventDefault();
  const f = ev.target.elements, out = document.getElementById('result');
  const input = {{ platform: f.namedItem('platform').value, state: f.namedItem('state').value, code: f.namedItem('code').value }};
  const partner = f.namedItem('sellingPartnerId');
  if (partner && partner.value) input.sellingPartnerId = partner.value;
  out.textContent = 'Connecting…';
  try {{
    const r = await fetch('../../graphql', {{ method: 'POST', headers: {{ 'content-type': 'application/json',
      authorization: 'Bearer ' + f.namedItem('token').value.trim() }}, body: JSON.stringify({{
      query: 'mutation($i: CompleteAccountAuthorizationInput!) {{ completeAccountAuthorization(input: $i) {{ account {{ name status }} userErrors {{ code message }} }} }}',
      variables: {{ i: input }} }}) }});
    const b = await r.json();
    const p = b.data && b.data.completeAccountAuthorization;
    if (p && p.account) out.textContent = 'Account connected: ' + p.account.name + ' is ' + p.account.status + '. You can close this window.';
    else if (p && p.userErrors.length) out.textContent = p.userErrors.map((e) => e.message).join(' ');
    else out.textContent = (b.errors && b.errors[0] && b.errors[0].message) || 'The authorization could not be completed.';
  }} catch (e) {{ out.textContent = String(e); }}
}});
</script>"#,
        platform = esc(platform),
        state = esc(state),
        code = esc(code),
    );
    let csp = format!(
        "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; connect-src 'self'; \
         form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
    );
    let mut response = (StatusCode::OK, Html(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&csp) {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    response
}
