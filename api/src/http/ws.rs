//! `GET /graphql/ws`: GraphQL over WebSocket (graphql-transport-ws, and the legacy
//! graphql-ws protocol). The caller authenticates in `connection_init` with
//! `{"Authorization": "Bearer …"}` (or `{"token": "…"}`); cross-site browser origins
//! outside the CORS allow-list are refused; on shutdown every socket gets a close frame.

use async_graphql::{
    Data,
    http::{WebSocket as GqlWebSocket, WsMessage},
};
use axum::{
    extract::{
        State, WebSocketUpgrade,
        ws::{CloseFrame, Message, WebSocket},
    },
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use futures_util::{SinkExt, StreamExt, future};

use crate::{
    app::AppState,
    graphql::context::{Loaders, RequestCtx},
};

const UNAUTHENTICATED: &str = "Unauthenticated";
/// How often an open socket's credential is verified again.
const RECHECK: std::time::Duration = std::time::Duration::from_secs(30);

pub async fn upgrade(State(state): State<AppState>, headers: HeaderMap, ws: WebSocketUpgrade) -> Response {
    if !origin_allowed(&state, &headers) {
        return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
    }
    let protocol = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').find_map(|p| p.trim().parse().ok()))
        .unwrap_or(async_graphql::http::WebSocketProtocols::GraphQLWS);
    let tracker = state.ws_tasks.clone();
    ws.protocols(["graphql-transport-ws", "graphql-ws"])
        .on_upgrade(move |socket| tracker.track_future(serve(state, socket, protocol)))
}

/// Browsers always send `Origin`; other clients usually do not. Allowed: no origin, the
/// server's own origin (GraphiQL), and the CORS allow-list.
fn origin_allowed(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let settings = &state.services.settings;
    if settings.cors_origins.iter().any(|o| o == origin) || origin == settings.public_url {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
    origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .is_some_and(|o| !host.is_empty() && o == host)
}

async fn serve(state: AppState, socket: WebSocket, protocol: async_graphql::http::WebSocketProtocols) {
    let (mut sink, source) = socket.split();
    let input = source
        .take_while(|m| future::ready(matches!(m, Ok(msg) if !matches!(msg, Message::Close(_)))))
        .filter_map(|m| {
            future::ready(match m {
                Ok(Message::Text(t)) => Some(t.as_str().as_bytes().to_vec()),
                Ok(Message::Binary(b)) => Some(b.to_vec()),
                _ => None,
            })
        });

    let services = state.services.clone();
    // The credential accepted at connection_init, re-checked while the socket lives.
    let (token_tx, mut token_rx) = tokio::sync::oneshot::channel::<String>();
    let gql = GqlWebSocket::new(state.schema.clone(), input, protocol).on_connection_init(move |payload| async move {
        let token = init_token(&payload)
            .ok_or_else(|| async_graphql::Error::new(format!("{UNAUTHENTICATED}: send a token in connection_init")))?;
        let _ = token_tx.send(token.clone());
        let actor = services
            .identity
            .authenticate(&token)
            .await
            .map_err(|_| async_graphql::Error::new(format!("{UNAUTHENTICATED}: invalid or expired token")))?;
        let mut data = Data::default();
        data.insert(Loaders::new(&services, &actor));
        data.insert(RequestCtx { actor: Some(actor), request_id: None });
        Ok(data)
    });
    let mut gql = std::pin::pin!(gql);
    let shutdown = state.services.shutdown.clone();
    let mut token: Option<String> = None;
    let mut recheck = tokio::time::interval(RECHECK);
    recheck.tick().await;
    loop {
        tokio::select! {
            t = &mut token_rx, if token.is_none() => {
                token = t.ok();
            }
            _ = recheck.tick(), if token.is_some() => {
                // Expired token, logout everywhere, deactivation, revoked key: the socket
                // closes within RECHECK instead of living on.
                let still_valid = match &token {
                    Some(t) => state.services.identity.authenticate(t).await.is_ok(),
                    None => true,
                };
                if !still_valid {
                    let _ = sink
                        .send(Message::Close(Some(CloseFrame { code: 4401, reason: "credential expired or revoked".into() })))
                        .await;
                    break;
                }
            }
            msg = gql.next() => match msg {
                Some(WsMessage::Text(text)) => {
                    if sink.send(Message::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                Some(WsMessage::Close(code, reason)) => {
                    // A refused connection_init is 4403 Forbidden in graphql-transport-ws.
                    let code = if reason.starts_with(UNAUTHENTICATED) { 4403 } else { code };
                    let _ = sink.send(Message::Close(Some(CloseFrame { code, reason: reason.into() }))).await;
                    break;
                }
                None => break,
            },
            () = shutdown.cancelled() => {
                let _ = sink
                    .send(Message::Close(Some(CloseFrame { code: 1001, reason: "server shutting down".into() })))
                    .await;
                break;
            }
        }
    }
}

fn init_token(payload: &serde_json::Value) -> Option<String> {
    let obj = payload.as_object()?;
    for key in ["Authorization", "authorization"] {
        if let Some(v) = obj.get(key).and_then(|v| v.as_str()) {
            let (scheme, value) = v.split_once(' ')?;
            return scheme.eq_ignore_ascii_case("bearer").then(|| value.trim().to_owned());
        }
    }
    ["token", "accessToken", "apiKey"].iter().find_map(|k| obj.get(*k).and_then(|v| v.as_str()).map(str::to_owned))
}
