//! HTTP surface: GraphQL (POST), GraphiQL (GET), graphql-ws, label downloads, health, metrics.

mod bearer;
mod graphiql;
mod graphql;
mod health;
mod inbound_files;
mod labels;
pub mod metrics;
mod oauth;
mod ws;

use std::time::Duration;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderName, HeaderValue, Method, Request, header},
    routing::get,
};
use tower_http::{
    cors::{AllowOrigin, CorsLayer},
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

use crate::{app::AppState, connectors, error::ErrorCode};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn router(state: AppState) -> Router {
    let limits = &state.services.settings.limits;
    let graphql = Router::new()
        .route("/graphql", get(graphiql::get_graphql).post(graphql::post_graphql))
        // JSON requests are held to `limits.body_bytes` in the handler.
        .layer(DefaultBodyLimit::max(limits.body_bytes.max(graphql::MULTIPART_BODY_BYTES)))
        .layer(axum::middleware::from_fn_with_state(state.clone(), deadline));

    Router::new()
        .merge(graphql)
        .route("/graphql/ws", get(ws::upgrade))
        .route("/graphiql/assets/{package}/{file}", get(graphiql::get_asset))
        .route("/oauth/callback/{platform}", get(oauth::callback))
        .route("/labels/{file}", get(labels::download))
        .route("/inbound-files/{token}", get(inbound_files::download))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::render))
        .layer(cors(&state.services.settings.cors_origins))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
            // A label link's token is its only credential: keep it out of the logs.
            let path = req.uri().path();
            let path = if path.starts_with("/labels/") {
                "/labels/<token>"
            } else if path.starts_with("/inbound-files/") {
                "/inbound-files/<token>"
            } else {
                path
            };
            tracing::info_span!("http", method = %req.method(), path = %path, request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}

/// The time limit of a GraphQL request (`limits.request_timeout_secs`), answered in
/// GraphQL's shape: `RATE_LIMITED` when it was waiting for a provider's quota,
/// `PROVIDER_UNAVAILABLE` when waiting for a provider's answer, else `TIMEOUT`. Inside it,
/// provider calls run as an interactive request ([`connectors::http::interactive`]): a
/// wait for a quota longer than [`connectors::http::MAX_REQUEST_WAIT`] is refused at once
/// with `RATE_LIMITED` rather than queued.
async fn deadline(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    use connectors::http::{RequestBudget, Waiting, interactive};

    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let limit = Duration::from_secs(state.services.settings.limits.request_timeout_secs);
    let budget = RequestBudget::new(limit);
    match tokio::time::timeout(limit, interactive(budget.clone(), next.run(req))).await {
        Ok(resp) => resp,
        Err(_) => {
            let (code, message) = match budget.waiting() {
                Waiting::Quota => {
                    (ErrorCode::RateLimited, "A provider's rate limit held this request too long; try again later.")
                }
                Waiting::Provider => {
                    (ErrorCode::ProviderUnavailable, "A provider did not answer in time; try again later.")
                }
                Waiting::Nothing => (ErrorCode::Timeout, "The request took too long and was stopped."),
            };
            state.metrics.timed_out(code);
            tracing::warn!(code = code.as_str(), limit_secs = limit.as_secs(), "GraphQL request timed out");
            (axum::http::StatusCode::OK, axum::Json(crate::graphql::errors::error_body(code, message))).into_response()
        }
    }
}

/// CORS for the SPAs: an explicit allow-list; no credentials (tokens travel in the
/// Authorization header, so there is no ambient authority to protect).
fn cors(origins: &[String]) -> CorsLayer {
    let list: Vec<HeaderValue> = origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(list))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, REQUEST_ID])
        .max_age(Duration::from_secs(600))
}
