//! Hostile request text: nesting bombs of every nestable construct (lists, input objects,
//! selection sets, arguments, fragment chains, variables JSON) at 100,000 levels, over
//! HTTP and graphql-ws, anonymous; alias floods; control characters and oversized strings.
//! Every request is answered with a GraphQL error carrying `extensions.code`, and the
//! server still answers afterwards.

use futures_util::SinkExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::{
    db_tests,
    helpers::TestApp,
    subscriptions::{connect, init, next_json},
};

db_tests!(nesting_bombs_are_answered, nesting_bombs_over_websocket, alias_flood_and_string_policy);

const LEVELS: usize = 100_000;

/// POSTs a raw body and returns (status, parsed body).
async fn raw(app: &TestApp, body: String) -> (u16, Value) {
    let resp = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json::<Value>().await.unwrap_or(Value::Null))
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or_default()
}

async fn still_answers(app: &TestApp) {
    let (status, body) = app.post("{ __typename }", json!({}), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["__typename"], "Query", "{body}");
}

fn bombs(levels: usize) -> Vec<(&'static str, String)> {
    let open_list = "[".repeat(levels);
    let close_list = "]".repeat(levels);
    let fragments = {
        // As many chained fragments as the body limit allows (each spreads the next).
        let n = 6_000;
        let mut q = String::from("query { ...F0 } ");
        for i in 0..n {
            q.push_str(&format!("fragment F{i} on Query {{ ...F{} }} ", i + 1));
        }
        q.push_str(&format!("fragment F{n} on Query {{ __typename }}"));
        q
    };
    vec![
        ("lists", format!("{{ nodes(ids: {open_list}\"x\"{close_list}) {{ id }} }}")),
        (
            "lists in login",
            format!(
                "mutation {{ login(input: {{ email: {open_list}\"x\"{close_list}, password: \"p\" }}) {{ accessToken }} }}"
            ),
        ),
        (
            "input objects",
            format!(
                "mutation {{ login(input: {}{}) {{ accessToken }} }}",
                "{a:".repeat(levels / 2),
                "}".repeat(levels / 2)
            ),
        ),
        ("selection sets", format!("{}{}", "{a".repeat(levels / 2), "}".repeat(levels / 2))),
        ("arguments", format!("{{ a{}{} }}", "(b:".repeat(levels / 3), ")".repeat(levels / 3))),
        ("fragments", fragments),
    ]
}

async fn nesting_bombs_are_answered(app: TestApp) {
    for (name, query) in bombs(LEVELS) {
        let (status, body) = raw(&app, json!({ "query": query }).to_string()).await;
        assert!(status < 500, "{name}: HTTP {status}");
        assert!(
            matches!(code(&body), "BAD_USER_INPUT" | "GRAPHQL_PARSE_FAILED"),
            "{name}: a coded GraphQL error, got HTTP {status} {body}"
        );
        still_answers(&app).await;
    }
    // Variables JSON nested 100,000 deep (serde_json's own limit) and 100 deep (ours).
    for depth in [LEVELS, 100] {
        let variables = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        let body =
            format!(r#"{{"query":"query($v: [ID!]) {{ nodes(ids: $v) {{ id }} }}","variables":{{"v":{variables}}}}}"#);
        let (status, body) = raw(&app, body).await;
        assert!(status < 500, "variables {depth}: HTTP {status}");
        assert_eq!(code(&body), "BAD_USER_INPUT", "variables {depth}: {body}");
        still_answers(&app).await;
    }
    // What a client really sends still works.
    let (status, body) =
        app.post("query($i: [ID!]!) { nodes(ids: $i) { id } }", json!({ "i": ["T3JkZXI6eA"] }), None).await;
    assert!(status == 200 && code(&body) != "INTERNAL", "{body}");
}

async fn nesting_bombs_over_websocket(app: TestApp) {
    let s = app.sign_up("Bombs", "bombs-ws@example.com").await;
    let mut ws = connect(&app, None).await.unwrap();
    let ack = init(&mut ws, json!({ "Authorization": format!("Bearer {}", s.access) })).await;
    assert!(matches!(&ack, Some(Ok(v)) if v["type"] == "connection_ack"), "{ack:?}");
    // Over graphql-ws there is no HTTP body limit: the full 100,000 levels of everything.
    for (i, (name, query)) in bombs(LEVELS).into_iter().enumerate() {
        let id = format!("b{i}");
        let msg = json!({ "id": id, "type": "subscribe", "payload": { "query": query } });
        ws.send(Message::Text(msg.to_string().into())).await.unwrap();
        // graphql-ws: an `error` message, or a `next` carrying the errors then `complete`.
        let reply = loop {
            let reply = next_json(&mut ws).await;
            let Some(Ok(reply)) = reply else { panic!("{name}: the connection closed: {reply:?}") };
            if reply["id"] == id.as_str() && matches!(reply["type"].as_str(), Some("error" | "next")) {
                break reply;
            }
        };
        let errors = if reply["type"] == "error" { &reply["payload"] } else { &reply["payload"]["errors"] };
        let code = errors[0]["extensions"]["code"].as_str().unwrap_or_default();
        assert!(matches!(code, "BAD_USER_INPUT" | "GRAPHQL_PARSE_FAILED"), "{name}: {reply}");
        assert!(reply["payload"]["data"].is_null(), "{name}: {reply}");
    }
    // The connection still works.
    let msg = json!({ "id": "ok", "type": "subscribe", "payload": { "query": "{ __typename }" } });
    ws.send(Message::Text(msg.to_string().into())).await.unwrap();
    let reply = loop {
        let Some(Ok(reply)) = next_json(&mut ws).await else { panic!("closed") };
        if reply["id"] == "ok" && reply["type"] == "next" {
            break reply;
        }
    };
    assert_eq!(reply["payload"]["data"]["__typename"], "Query", "{reply}");
    still_answers(&app).await;
}

async fn alias_flood_and_string_policy(app: TestApp) {
    // 10,000 aliases of one field, and 10,000 `__typename`s.
    let aliases: String = (0..10_000).map(|i| format!("a{i}: __typename ")).collect();
    let (status, body) = app.post(&format!("{{ {aliases} }}"), json!({}), None).await;
    assert!(status < 500 && code(&body) == "BAD_USER_INPUT", "{body}");
    let typenames = "__typename ".repeat(10_000);
    let (status, body) = app.post(&format!("{{ {typenames} }}"), json!({}), None).await;
    assert!(status < 500 && code(&body) == "BAD_USER_INPUT", "{body}");

    // Aliases hidden in a fragment spread many times count as executed: 50 × 50.
    let inner: String = (0..50).map(|i| format!("t{i}: __typename ")).collect();
    let outer: String = (0..50).map(|i| format!("q{i}: __typename ...F ")).collect();
    let (status, body) = app.post(&format!("{{ {outer} }} fragment F on Query {{ {inner} }}"), json!({}), None).await;
    assert!(status < 500 && code(&body) == "BAD_USER_INPUT", "{body}");

    // A variable's default value meets the same string policy as its value.
    let (_, body) = app
        .post(
            "mutation($e: String! = \"a\\u0000@b.c\") { login(input: { email: $e, password: \"x\" }) { accessToken } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "variables.e", "{body}");

    // NUL and other control characters, in variables and in the document, anonymous.
    let login = "mutation($e: String!) { login(input: { email: $e, password: \"x\" }) { accessToken } }";
    let (_, body) = app.post(login, json!({ "e": "a\u{0}@example.com" }), None).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "variables.e", "{body}");
    let (_, body) = app
        .post("mutation { login(input: { email: \"a\\u0000b\", password: \"x\" }) { accessToken } }", json!({}), None)
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert!(
        body["errors"][0]["extensions"]["field"].as_str().unwrap_or_default().ends_with("login.input.email"),
        "{body}"
    );

    // An oversized search and a NUL search, signed in: BAD_USER_INPUT, never INTERNAL.
    let s = app.sign_up("Strings", "strings@example.com").await;
    let search = "query($s: String) { orders(first: 5, filter: { search: $s }) { totalCount } }";
    for value in ["x".repeat(200_000), "a\u{0}b".to_owned()] {
        let (status, body) = app.post(search, json!({ "s": value }), Some(&s.access)).await;
        assert!(status < 500, "{body}");
        assert!(matches!(code(&body), "BAD_USER_INPUT"), "{body}");
    }
    // Ordinary unusual text passes.
    let (_, body) = app.post(search, json!({ "s": "Zoë O'Brien & 茶具 🚚 \u{200f}" }), Some(&s.access)).await;
    assert!(body["errors"].is_null(), "{body}");
    still_answers(&app).await;
}
