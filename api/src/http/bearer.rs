//! `Authorization: Bearer …` → verified actor, or a 401 in the GraphQL error shape.

use axum::{
    Json,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::{
    auth::Actor,
    domain::identity::{AuthnError, Identity},
    error::ErrorCode,
    graphql::errors::{ApiError, error_body},
};

pub fn bearer_value(headers: &HeaderMap) -> Result<Option<&str>, ()> {
    let Some(raw) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let raw = raw.to_str().map_err(|_| ())?;
    match raw.split_once(' ') {
        Some((scheme, value)) if scheme.eq_ignore_ascii_case("bearer") && !value.trim().is_empty() => {
            Ok(Some(value.trim()))
        }
        _ => Err(()),
    }
}

/// No header: anonymous (sign-up and login still work). A header that does not verify
/// is refused outright with 401, so a client never silently runs as anonymous.
pub async fn authenticate(identity: &Identity, headers: &HeaderMap) -> Result<Option<Actor>, Response> {
    let value =
        bearer_value(headers).map_err(|()| unauthorized("malformed Authorization header", "invalid_request"))?;
    let Some(value) = value else { return Ok(None) };
    match identity.authenticate(value).await {
        Ok(actor) => Ok(Some(actor)),
        Err(AuthnError::Expired) => Err(unauthorized("access token expired", "invalid_token")),
        Err(AuthnError::Invalid) => Err(unauthorized("invalid or revoked credential", "invalid_token")),
        Err(AuthnError::Internal(e)) => {
            let e: ApiError = e.into();
            Err((StatusCode::INTERNAL_SERVER_ERROR, Json(error_body(e.code(), "Internal error."))).into_response())
        }
    }
}

fn unauthorized(message: &str, error: &str) -> Response {
    let mut resp = (StatusCode::UNAUTHORIZED, Json(error_body(ErrorCode::Unauthenticated, message))).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("Bearer error=\"{error}\"")) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}
