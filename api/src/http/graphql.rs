//! `POST /graphql`: our own handler rather than the stock service, so that only
//! `application/json` single operations are accepted (no batches, no multipart, no GET
//! mutations), the body is size-limited, the caller is authenticated before execution,
//! and per-request data (actor, request id, DataLoaders) is attached.

use std::time::Instant;

use async_graphql::ServerError;
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
            return reject(StatusCode::BAD_REQUEST, ErrorCode::BadUserInput, &format!("Invalid GraphQL request: {e}."));
        }
    };

    let services = &state.services;
    let mut actor = match bearer::authenticate(&services.identity, &headers).await {
        Ok(a) => a,
        Err(resp) => return resp,
    };
    // Client-supplied ids are kept for tracing but bounded (audit rows store 64 chars).
    let request_id =
        headers.get(REQUEST_ID).and_then(|v| v.to_str().ok()).map(|v| v.chars().take(64).collect::<String>());
    if let Some(a) = actor.as_mut() {
        a.request_id.clone_from(&request_id);
    }
    let operation = request.operation_name.clone().or_else(|| operation_name_in(&request.query).map(str::to_owned));
    let mut request = request;
    if let Some(a) = &actor {
        request = request.data(Loaders::new(services, a));
    }
    request = request.data(RequestCtx { actor, request_id });

    let started = Instant::now();
    let mut response = state.schema.execute(request).await;
    state.metrics.observe(operation.as_deref(), response.errors.is_empty(), started.elapsed());
    add_missing_codes(&mut response.errors);
    (StatusCode::OK, Json(response)).into_response()
}

/// The name of the first named operation in the document (`query Name …`), for metrics
/// when the client did not send `operationName`. A cheap scan, not a parse.
fn operation_name_in(query: &str) -> Option<&str> {
    let mut rest = query.trim_start();
    while let Some(comment) = rest.strip_prefix('#') {
        rest = comment.split_once('\n').map_or("", |(_, r)| r).trim_start();
    }
    let after_kw = ["query", "mutation", "subscription"].iter().find_map(|kw| rest.strip_prefix(kw))?;
    if !after_kw.starts_with(char::is_whitespace) {
        return None;
    }
    let name = after_kw.trim_start();
    let end = name.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(name.len());
    (end > 0).then(|| &name[..end])
}

/// Errors async-graphql raises itself (parse, validation, depth/complexity limits, input
/// coercion) carry no code: they are all the client's input.
fn add_missing_codes(errors: &mut [ServerError]) {
    for e in errors {
        let has_code = e.extensions.as_ref().is_some_and(|ext| ext.get("code").is_some());
        if !has_code {
            e.extensions.get_or_insert_with(Default::default).set("code", ErrorCode::BadUserInput.as_str());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::operation_name_in;

    #[test]
    fn operation_names() {
        assert_eq!(operation_name_in("query Ping { a }"), Some("Ping"));
        assert_eq!(operation_name_in("  # c\n mutation Do_It($x: Int) { a }"), Some("Do_It"));
        assert_eq!(operation_name_in("{ a }"), None);
        assert_eq!(operation_name_in("query { a }"), None);
        assert_eq!(operation_name_in("queryX { a }"), None);
    }
}
