//! graphql-ws at /graphql/ws: authentication in connection_init, tenant-scoped events,
//! Origin checks and close frames on shutdown.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};

use crate::{
    db_tests,
    helpers::{PASSWORD, TestApp},
};

db_tests!(
    subscription_requires_token,
    events_reach_own_tenant_only,
    shutdown_closes_subscriptions,
    cross_site_origin_refused
);

pub(crate) type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub(crate) async fn connect(app: &TestApp, origin: Option<&str>) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let mut req = format!("ws://{}/graphql/ws", app.addr).into_client_request().unwrap();
    req.headers_mut().insert("sec-websocket-protocol", HeaderValue::from_static("graphql-transport-ws"));
    if let Some(o) = origin {
        req.headers_mut().insert("origin", HeaderValue::from_str(o).unwrap());
    }
    tokio_tungstenite::connect_async(req).await.map(|(ws, _)| ws)
}

pub(crate) async fn next_json(ws: &mut Ws) -> Option<Result<Value, (u16, String)>> {
    loop {
        let msg =
            tokio::time::timeout(Duration::from_secs(10), ws.next()).await.expect("timed out waiting for a message")?;
        match msg.ok()? {
            Message::Text(t) => return Some(Ok(serde_json::from_str(t.as_str()).unwrap())),
            Message::Close(frame) => {
                return Some(Err(frame
                    .map(|f| (u16::from(f.code), f.reason.to_string()))
                    .unwrap_or((0, String::new()))));
            }
            _ => continue,
        }
    }
}

pub(crate) async fn init(ws: &mut Ws, payload: Value) -> Option<Result<Value, (u16, String)>> {
    ws.send(Message::Text(json!({ "type": "connection_init", "payload": payload }).to_string().into())).await.unwrap();
    next_json(ws).await
}

async fn subscription_requires_token(app: TestApp) {
    let mut ws = connect(&app, None).await.unwrap();
    let closed = init(&mut ws, json!({})).await;
    assert!(matches!(closed, Some(Err((4403, _)))), "no token: {closed:?}");

    let mut ws = connect(&app, None).await.unwrap();
    let closed = init(&mut ws, json!({ "Authorization": "Bearer nonsense" })).await;
    assert!(matches!(closed, Some(Err((4403, _)))), "bad token: {closed:?}");

    // Subscribing before connection_init is refused too.
    let mut ws = connect(&app, None).await.unwrap();
    ws.send(Message::Text(
        json!({ "type": "subscribe", "id": "1", "payload": { "query": "subscription { events { action } }" } })
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let r = next_json(&mut ws).await;
    assert!(matches!(r, Some(Err(_)) | None), "{r:?}");
}

async fn events_reach_own_tenant_only(app: TestApp) {
    let a = app.sign_up("A", "a@example.com").await;
    let b = app.sign_up("B", "b@example.com").await;
    let mut ws = connect(&app, None).await.unwrap();
    let ack = init(&mut ws, json!({ "Authorization": format!("Bearer {}", a.access) })).await;
    assert_eq!(ack.unwrap().unwrap()["type"], "connection_ack");
    ws.send(Message::Text(
        json!({ "type": "subscribe", "id": "1", "payload": { "query": "subscription { events { action entityType entityId } }" } })
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    // B's change must not reach A; A's must.
    app.add_user(&b, "b2@example.com", "VIEWER").await;
    let created = app
        .gql(
            "mutation($p: String!) { createUser(input: { email: \"a2@example.com\", password: $p, role: VIEWER }) { user { id } } }",
            json!({ "p": PASSWORD }),
            Some(&a.access),
        )
        .await;
    let new_id = created["data"]["createUser"]["user"]["id"].clone();
    let msg = next_json(&mut ws).await.unwrap().unwrap();
    assert_eq!(msg["type"], "next", "{msg}");
    assert_eq!(msg["id"], "1");
    assert_eq!(msg["payload"]["data"]["events"]["action"], "user.created");
    assert_eq!(msg["payload"]["data"]["events"]["entityId"], new_id);
}

async fn shutdown_closes_subscriptions(mut app: TestApp) {
    let a = app.sign_up("A", "a@example.com").await;
    let mut sockets = Vec::new();
    for _ in 0..5 {
        let mut ws = connect(&app, None).await.unwrap();
        assert_eq!(init(&mut ws, json!({ "token": a.access })).await.unwrap().unwrap()["type"], "connection_ack");
        ws.send(Message::Text(
            json!({ "type": "subscribe", "id": "s", "payload": { "query": "subscription { events { action } }" } })
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
        sockets.push(ws);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = std::time::Instant::now();
    let stop = tokio::spawn(async move {
        app.stop().await;
    });
    for mut ws in sockets {
        // Each socket sees its stream complete and/or a close frame (1001), never a hang.
        let mut closed = false;
        while let Some(msg) = next_json(&mut ws).await {
            match msg {
                Ok(v) => assert!(v["type"] == "complete" || v["type"] == "next", "{v}"),
                Err((code, _)) => {
                    assert_eq!(code, 1001);
                    closed = true;
                    break;
                }
            }
        }
        assert!(closed, "expected a close frame");
    }
    stop.await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(15));
}

async fn cross_site_origin_refused(app: TestApp) {
    assert!(connect(&app, Some("https://evil.example")).await.is_err());
    assert!(connect(&app, Some("http://localhost:5173")).await.is_ok());
}
