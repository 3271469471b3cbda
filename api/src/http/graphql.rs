//! `POST /graphql`: our own handler rather than the stock service, so that only
//! `application/json` single operations are accepted (no batches, no GET mutations), plus
//! `multipart/form-data` per the GraphQL multipart request spec for file uploads (one file,
//! at most [`UPLOAD_BYTES`]); the body is size-limited, the caller is authenticated before
//! execution, and per-request data (actor, request id, DataLoaders) is attached. Multipart
//! is a CORS-simple content type, which is safe here because nothing authenticates by
//! cookie: a request without an `Authorization` header acts as nobody.

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
    let mut resp = (status, Json(error_body(code, message))).into_response();
    // The rest of an oversized body is never read, so the connection cannot carry another
    // request: say so, or a keep-alive client sends its next request into a closed socket.
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        resp.headers_mut().insert(header::CONNECTION, axum::http::HeaderValue::from_static("close"));
    }
    resp
}

/// The largest file a multipart request may carry (clearance papers).
pub const UPLOAD_BYTES: usize = crate::domain::warehouse::inbound::MAX_FILE_BYTES;
/// The body limit of the route: a multipart upload plus its form fields.
pub const MULTIPART_BODY_BYTES: usize = UPLOAD_BYTES + 256 * 1024;

fn mime(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
}

pub async fn post_graphql(State(state): State<AppState>, req: axum::extract::Request) -> Response {
    let (parts, body) = req.into_parts();
    let headers = parts.headers;
    let multipart = match mime(&headers).as_deref() {
        Some("application/json") => false,
        Some("multipart/form-data") => true,
        _ => {
            return reject(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::BadUserInput,
                "Content-Type must be application/json (or multipart/form-data for file uploads).",
            );
        }
    };
    let services = &state.services;
    // Authenticated before the body is read: only a known caller may send an upload-sized
    // body; everyone else is held to the JSON limit.
    let mut actor = match bearer::authenticate(&services.identity, &headers).await {
        Ok(a) => a,
        Err(resp) => return resp,
    };
    let json_limit = services.settings.limits.body_bytes;
    let limit = if multipart && actor.is_some() { MULTIPART_BODY_BYTES.max(json_limit) } else { json_limit };
    let body: Bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => return reject(StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::BadUserInput, "Request body too large."),
    };
    let request: async_graphql::Request = if multipart {
        let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        let opts = async_graphql::http::MultipartOptions::default().max_file_size(UPLOAD_BYTES).max_num_files(1);
        match async_graphql::http::receive_batch_body(content_type, &body[..], opts).await {
            // The operation itself keeps the JSON limit; only the file may be larger.
            Ok(async_graphql::BatchRequest::Single(r))
                if r.query.len() + serde_json::to_string(&r.variables).map_or(usize::MAX, |v| v.len()) > json_limit =>
            {
                return reject(StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::BadUserInput, "Request body too large.");
            }
            Ok(async_graphql::BatchRequest::Single(r)) => r,
            Ok(async_graphql::BatchRequest::Batch(_)) => {
                return reject(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::BadUserInput,
                    "Batched requests are not supported: send one operation per request.",
                );
            }
            Err(async_graphql::ParseRequestError::PayloadTooLarge) => {
                return reject(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    ErrorCode::BadUserInput,
                    &format!("Files are at most {} MiB.", UPLOAD_BYTES / 1024 / 1024),
                );
            }
            Err(e) => {
                return reject(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::BadUserInput,
                    &format!("Invalid multipart request: {e}."),
                );
            }
        }
    } else {
        if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
            return reject(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                "Batched requests are not supported: send one operation per request.",
            );
        }
        match serde_json::from_slice(&body) {
            Ok(r) => r,
            Err(e) => {
                return reject(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::BadUserInput,
                    &format!("Invalid GraphQL request: {e}."),
                );
            }
        }
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
    let peer = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    if let Some(client) = client_addr(&services.settings, peer, &headers) {
        request = request.data(crate::graphql::auth::ClientAddr(client));
    }

    let started = Instant::now();
    let mut response = state.schema.execute(request).await;
    state.metrics.observe(operation.as_deref(), response.errors.is_empty(), started.elapsed());
    add_missing_codes(&mut response.errors);
    (StatusCode::OK, Json(response)).into_response()
}

/// The client's address, as the login throttle counts it (HTTP and WebSocket alike): the
/// TCP peer, unless the peer is a trusted proxy (`SHIPGATE_TRUSTED_PROXIES`); then the
/// right-most entry of `X-Forwarded-For` (several headers read as one list, in order) that
/// is not a trusted proxy. Everything left of that entry was written by the client and is
/// ignored; entries right of it were appended by trusted proxies. When every entry is a
/// trusted proxy, the left-most one; when an entry does not parse, the trusted hop that
/// passed it on (the header is not believed any further).
pub(super) fn client_addr(
    settings: &crate::config::Settings,
    peer: Option<std::net::IpAddr>,
    headers: &HeaderMap,
) -> Option<std::net::IpAddr> {
    let mut client = crate::config::canonical_ip(peer?);
    if !settings.is_trusted_proxy(client) {
        return Some(client);
    }
    let entries: Vec<Option<&str>> = headers
        .get_all(X_FORWARDED_FOR)
        .iter()
        .flat_map(|v| match v.to_str() {
            Ok(v) => v.split(',').map(Some).collect::<Vec<_>>(),
            Err(_) => vec![None],
        })
        .collect();
    for entry in entries.into_iter().rev() {
        let Some(ip) = entry.and_then(forwarded_ip) else {
            return Some(client);
        };
        client = ip;
        if !settings.is_trusted_proxy(ip) {
            break;
        }
    }
    Some(client)
}

const X_FORWARDED_FOR: header::HeaderName = header::HeaderName::from_static("x-forwarded-for");

/// One `X-Forwarded-For` entry: an address, optionally with a port (`203.0.113.9:5123`,
/// `[2001:db8::1]:443`, as some load balancers write it).
fn forwarded_ip(entry: &str) -> Option<std::net::IpAddr> {
    let entry = entry.trim();
    let ip = entry
        .parse::<std::net::IpAddr>()
        .ok()
        .or_else(|| entry.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| entry.strip_prefix('[').and_then(|e| e.strip_suffix(']')).and_then(|e| e.parse().ok()))?;
    Some(crate::config::canonical_ip(ip))
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
    use std::net::IpAddr;

    use axum::http::{HeaderMap, HeaderValue};

    use super::{X_FORWARDED_FOR, client_addr, operation_name_in};
    use crate::config::Settings;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::from([0u8; 4]))
    }

    fn client(trusted: &[&str], peer: &str, xff: &[&str]) -> Option<IpAddr> {
        let mut settings = Settings::for_tests("sqlite::memory:", "x");
        settings.trusted_proxies = trusted.iter().filter_map(|t| t.parse().ok()).collect();
        let mut headers = HeaderMap::new();
        for v in xff {
            headers.append(X_FORWARDED_FOR, HeaderValue::from_str(v).unwrap_or(HeaderValue::from_static("")));
        }
        client_addr(&settings, Some(ip(peer)), &headers)
    }

    #[test]
    fn client_address_behind_trusted_proxies() {
        // No trusted proxy: the header is the client's own word and is ignored.
        assert_eq!(client(&[], "198.51.100.1", &["203.0.113.9"]), Some(ip("198.51.100.1")));
        // An untrusted peer's header is ignored even when proxies are configured.
        assert_eq!(client(&["10.0.0.0/8"], "198.51.100.1", &["203.0.113.9"]), Some(ip("198.51.100.1")));
        // Behind the load balancer: the address it appended.
        assert_eq!(client(&["10.0.0.0/8"], "10.0.0.5", &["203.0.113.9"]), Some(ip("203.0.113.9")));
        // A forged left part is ignored: the right-most untrusted entry counts.
        assert_eq!(client(&["10.0.0.0/8"], "10.0.0.5", &["1.2.3.4, 203.0.113.9"]), Some(ip("203.0.113.9")));
        // Through a chain of trusted proxies, over several headers, with ports.
        assert_eq!(
            client(&["10.0.0.0/8"], "::ffff:10.0.0.5", &["1.2.3.4, 203.0.113.9:5123", "10.9.9.9"]),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(client(&["10.0.0.0/8"], "10.0.0.5", &["[2001:db8::1]:443"]), Some(ip("2001:db8::1")));
        // All trusted: the left-most. Missing header: the peer. Garbage: the hop that passed it.
        assert_eq!(client(&["10.0.0.0/8"], "10.0.0.5", &["10.0.0.9, 10.0.0.8"]), Some(ip("10.0.0.9")));
        assert_eq!(client(&["10.0.0.0/8"], "10.0.0.5", &[]), Some(ip("10.0.0.5")));
        assert_eq!(client(&["10.0.0.0/8"], "10.0.0.5", &["203.0.113.9, unknown, 10.0.0.7"]), Some(ip("10.0.0.7")));
    }

    #[test]
    fn operation_names() {
        assert_eq!(operation_name_in("query Ping { a }"), Some("Ping"));
        assert_eq!(operation_name_in("  # c\n mutation Do_It($x: Int) { a }"), Some("Do_It"));
        assert_eq!(operation_name_in("{ a }"), None);
        assert_eq!(operation_name_in("query { a }"), None);
        assert_eq!(operation_name_in("queryX { a }"), None);
    }
}
