//! `POST /graphql`: our own handler rather than the stock service, so that only
//! `application/json` single operations are accepted (no batches, no multipart, no GET
//! mutations), the body is size-limited, the caller is authenticated before execution,
//! and per-request data (actor, request id, DataLoaders) is attached.

use std::time::Instant;

use async_graphql::{ServerError, Value};
use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};

use super::{REQUEST_ID, bearer};
use crate::{
    app::AppState,
    error::ErrorCode,
    graphql::{
        context::{Loaders, RequestCtx},
        errors::error_body,
    },
};

fn reject(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    (status, Json(error_body(code, message))).into_response()
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

pub async fn post_graphql(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    if !is_json(&headers) {
        return reject(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::BadUserInput,
            "Content-Type must be application/json.",
        );
    }
    let body = match body {
        Ok(b) => b,
        Err(rejection) => {
            let status = rejection.status();
            let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
                "Request body too large."
            } else {
                "Cannot read request body."
            };
            return reject(status, ErrorCode::BadUserInput, message);
        }
    };
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return reject(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "Batched requests are not supported: send one operation per request.",
        );
    }
    let request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return reject(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                &format!("Invalid GraphQL request: {e}."),
            );
        }
    };

    let services = &state.services;
    let mut actor = match bearer::authenticate(&services.identity, &headers).await {
        Ok(a) => a,
        Err(resp) => return resp,
    };
    let request_id = headers
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Some(a) = actor.as_mut() {
        a.request_id.clone_from(&request_id);
    }
    let operation = request.operation_name.clone();
    let mut request = request;
    if let Some(a) = &actor {
        request = request.data(Loaders::new(services, a));
    }
    request = request.data(RequestCtx { actor, request_id });

    let started = Instant::now();
    let mut response = state.schema.execute(request).await;
    state.metrics.observe(
        operation.as_deref(),
        response.errors.is_empty(),
        started.elapsed(),
    );
    add_missing_codes(&mut response.errors, response.data == Value::Null);
    (StatusCode::OK, Json(response)).into_response()
}

/// Errors async-graphql raises itself (parse, validation, depth/complexity limits, input
/// coercion) carry no code: they are all the client's input.
fn add_missing_codes(errors: &mut [ServerError], _request_failed: bool) {
    for e in errors {
        let has_code = e
            .extensions
            .as_ref()
            .is_some_and(|ext| ext.get("code").is_some());
        if !has_code {
            e.extensions
                .get_or_insert_with(Default::default)
                .set("code", ErrorCode::BadUserInput.as_str());
        }
    }
}
