//! `GET /oauth/callback/{platform}`: where a marketplace sends the seller back after
//! consent. Finishes the authorization and redirects the browser to the SPA (or shows a
//! small page when no SPA URL is configured).

use std::collections::HashMap;

use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{Html, IntoResponse, Redirect, Response},
};
use entity::enums::Platform;

use crate::{app::AppState, error::DomainError};

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

pub async fn callback(
    State(state): State<AppState>,
    Path(platform): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(platform) = platform_of(&platform) else {
        return (StatusCode::NOT_FOUND, "unknown platform").into_response();
    };
    let services = &state.services;
    let state_param = q.get("state").cloned().unwrap_or_default();
    // Amazon names its code `spapi_oauth_code` and adds `selling_partner_id`.
    let code = q.get("code").or_else(|| q.get("spapi_oauth_code"));
    let seller_id = q.get("selling_partner_id").cloned();
    let outcome = match (code, q.get("error")) {
        (_, Some(err)) => Err(format!("authorization was declined ({err})")),
        (Some(code), None) if !state_param.is_empty() => {
            match services.accounts.complete_authorization(platform, &state_param, code, seller_id).await {
                Ok(acc) => Ok(acc),
                Err(DomainError::NotFound) => Err("this authorization link is unknown or was already used".into()),
                Err(DomainError::Internal(e)) => {
                    tracing::error!(error = %e, "completing authorization failed");
                    Err("internal error".into())
                }
                Err(e) => Err(e.to_string()),
            }
        }
        _ => Err("the platform did not return an authorization code".into()),
    };
    let (status, account, message) = match &outcome {
        Ok(acc) => (
            "connected",
            Some(crate::graphql::ids::encode(crate::graphql::ids::Kind::Account, acc.id).0),
            String::new(),
        ),
        Err(m) => ("error", None, m.clone()),
    };
    if let Some(spa) = &services.settings.spa_url {
        let mut params = vec![("status", status.to_owned()), ("platform", format!("{platform:?}").to_uppercase())];
        if let Some(a) = account {
            params.push(("account", a));
        }
        if !message.is_empty() {
            params.push(("message", message));
        }
        let query = serde_urlencoded::to_string(&params).unwrap_or_default();
        let sep = if spa.contains('?') { '&' } else { '?' };
        return Redirect::to(&format!("{spa}{sep}{query}")).into_response();
    }
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;");
    let body = match outcome {
        Ok(acc) => {
            format!("<h1>Account connected</h1><p>{} is now active. You can close this window.</p>", esc(&acc.name))
        }
        Err(m) => format!("<h1>Authorization failed</h1><p>{}</p>", esc(&m)),
    };
    let code = if status == "connected" { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    (code, Html(format!("<!doctype html><meta charset=\"utf-8\"><title>Shipgate</title>{body}"))).into_response()
}
