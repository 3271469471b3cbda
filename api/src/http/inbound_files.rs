//! `GET /inbound-files/{token}`: an inbound order's SKU labels, carton labels or clearance
//! papers, for whoever holds the signed link (it expires after 15 minutes). A tampered or
//! expired token is 404 Not Found. Served as an attachment: the content type is the one
//! recorded at upload, never rendered inline.

use axum::{
    body::Body,
    extract::{Path, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::{app::AppState, error::DomainError};

pub async fn download(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match state.services.warehouse.download(&token).await {
        Ok((name, content_type, bytes)) => {
            let safe: String =
                name.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_".contains(c) { c } else { '_' }).collect();
            let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\""))
                .unwrap_or(HeaderValue::from_static("attachment"));
            let ct =
                HeaderValue::from_str(&content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
            let mut resp = (StatusCode::OK, Body::from(bytes)).into_response();
            let h = resp.headers_mut();
            h.insert(header::CONTENT_TYPE, ct);
            h.insert(header::CONTENT_DISPOSITION, disposition);
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
            h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
            resp
        }
        Err(DomainError::NotFound) => (StatusCode::NOT_FOUND, "file not found or link expired\n").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "inbound file download failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
