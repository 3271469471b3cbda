use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};

use crate::{app::AppState, db};

/// Liveness: the process answers.
pub async fn healthz() -> impl IntoResponse {
    (StatusCode::OK, Json(serde_json::json!({ "status": "ok" })))
}

/// Readiness: the database answers and every migration is applied.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let db = &state.services.db;
    let reachable = db.ping().await.is_ok();
    let current = reachable && db::migrations_current(db).await.unwrap_or(false);
    let status = if reachable && current { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (
        status,
        Json(serde_json::json!({
            "status": if status == StatusCode::OK { "ready" } else { "not_ready" },
            "database": reachable,
            "migrations": current,
        })),
    )
}
