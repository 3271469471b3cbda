//! `GET /graphql/ws`: GraphQL over WebSocket (graphql-transport-ws, and the legacy
//! graphql-ws protocol). The caller authenticates in `connection_init` with
//! `{"Authorization": "Bearer …"}` (or `{"token": "…"}`); browser origins other than the
//! public URL's and the CORS allow-list are refused; on shutdown every socket gets a
//! close frame.

use std::net::SocketAddr;

use async_graphql::{
    Data,
    http::{WebSocket as GqlWebSocket, WsMessage},
};
use axum::{
    Extension,
    extract::{
        ConnectInfo, State, WebSocketUpgrade,
        ws::{CloseFrame, Message, WebSocket},
    },
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use futures_util::{SinkExt, StreamExt, future};

use crate::{
    app::AppState,
    graphql::{
        auth::ClientAddr,
        context::{Loaders, RequestCtx},
    },
};

const UNAUTHENTICATED: &str = "Unauthenticated";
/// How often an open socket's credential is verified again.
const RECHECK: std::time::Duration = std::time::Duration::from_secs(30);

pub async fn upgrade(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if !origin_allowed(&state, &headers) {
        return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
    }
    let protocol = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').find_map(|p| p.trim().parse().ok()))
        .unwrap_or(async_graphql::http::WebSocketProtocols::GraphQLWS);
    // The same client address as over HTTP (trusted proxies' X-Forwarded-For).
    let peer = peer.map(|Extension(ConnectInfo(addr))| addr.ip());
    let client = super::graphql::client_addr(&state.services.settings, peer, &headers).map(ClientAddr);
    let tracker = state.ws_tasks.clone();
    ws.protocols(["graphql-transport-ws", "graphql-ws"])
        .on_upgrade(move |socket| tracker.track_future(serve(state, socket, protocol, client)))
}

/// Browsers always send `Origin`; other clients usually do not. Allowed: no origin, the
/// configured public URL's origin (GraphiQL) and the CORS allow-list. The `Host` header
/// plays no part: a page on any site can reach the server under a name it controls
/// (DNS rebinding), so Host and Origin agreeing proves nothing.
fn origin_allowed(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Some(origin) = origin.to_str().ok().and_then(normalized_origin) else {
        return false;
    };
    let settings = &state.services.settings;
    normalized_origin(&settings.public_url).as_deref() == Some(origin.as_str())
        || settings.cors_origins.iter().any(|o| normalized_origin(o).as_deref() == Some(origin.as_str()))
}

/// `scheme://host[:port]` of a URL or origin, lower-cased, without a default port or a
/// path; `None` for anything else (including the opaque origin `null`).
fn normalized_origin(url: &str) -> Option<String> {
    let url = url.trim().to_ascii_lowercase();
    let (scheme, rest) = url.split_once("://")?;
    let default_port = match scheme {
        "http" => ":80",
        "https" => ":443",
        _ => return None,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let authority = authority.strip_suffix(default_port).unwrap_or(authority);
    Some(format!("{scheme}://{authority}"))
}

async fn serve(
    state: AppState,
    socket: WebSocket,
    protocol: async_graphql::http::WebSocketProtocols,
    client: Option<ClientAddr>,
) {
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
        if let Some(c) = client {
            data.insert(c);
        }
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

#[cfg(test)]
mod tests {
    use super::normalized_origin;

    #[test]
    fn origins_are_compared_by_scheme_host_and_port() {
        assert_eq!(normalized_origin("HTTPS://App.Example.com:443/x").as_deref(), Some("https://app.example.com"));
        assert_eq!(normalized_origin("http://127.0.0.1:8080").as_deref(), Some("http://127.0.0.1:8080"));
        assert_eq!(normalized_origin("http://localhost:80/").as_deref(), Some("http://localhost"));
        assert_eq!(normalized_origin("null"), None);
        assert_eq!(normalized_origin("file://"), None);
        assert_eq!(normalized_origin("http://user@evil.example"), None);
    }
}
