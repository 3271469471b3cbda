//! The GraphQL-over-HTTP rules and query limits, plus token verification at the door.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use crate::{
    db_tests,
    helpers::{TestApp, code},
};

db_tests!(request_shapes, query_limits, jwt_rejections);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_hides_introspection_suggestions_and_graphiql() {
    let app =
        crate::helpers::spawn_with(crate::helpers::Backend::Sqlite, |s| s.env = api::config::Environment::Prod).await;
    let body = app.gql("{ __schema { types { name } } }", json!({}), None).await;
    assert!(body["errors"].as_array().is_some_and(|e| !e.is_empty()), "{body}");
    let body = app.gql("{ organizaton { name } }", json!({}), None).await;
    assert!(!body.to_string().contains("Did you mean"), "{body}");
    assert_eq!(app.client.get(app.url("/graphql")).send().await.unwrap().status(), 404);
    // In dev, suggestions help.
    let dev = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite).await;
    let body = dev.gql("{ organizaton { name } }", json!({}), None).await;
    assert!(body.to_string().contains("Did you mean"), "{body}");
}

async fn request_shapes(app: TestApp) {
    let c = &app.client;
    // Batch array → 400.
    let r = c
        .post(app.url("/graphql"))
        .json(&json!([{ "query": "{ __typename }" }, { "query": "{ __typename }" }]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(code(&r.json::<Value>().await.unwrap()), "BAD_USER_INPUT");
    // GET with an operation (a mutation, even) → 405; plain GET → GraphiQL.
    let r = c
        .get(app.url("/graphql?query=mutation%20%7B%20logout(input%3A%7B%7D)%20%7B%20ok%20%7D%20%7D"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "POST");
    let r = c.get(app.url("/graphql")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("GraphiQL"));
    // Other methods → 405.
    assert_eq!(c.put(app.url("/graphql")).send().await.unwrap().status(), 405);
    // text/plain (a CORS "simple" request) → 415; no content type → 415.
    let r = c
        .post(app.url("/graphql"))
        .header("content-type", "text/plain")
        .body(r#"{"query":"{ __typename }"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let r = c.post(app.url("/graphql")).body(r#"{"query":"{ __typename }"}"#).send().await.unwrap();
    assert_eq!(r.status(), 415);
    // application/json with charset is fine.
    let r = c
        .post(app.url("/graphql"))
        .header("content-type", "application/json; charset=utf-8")
        .body(r#"{"query":"{ __typename }"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["data"]["__typename"], "Query");
    // Oversize body (1 MiB) → 413.
    let big = format!(r#"{{"query":"{{ __typename }}","variables":{{"x":"{}"}}}}"#, "a".repeat(1024 * 1024));
    // (A separate client: the server closes the connection after refusing the body.)
    let r = reqwest::Client::new()
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    // Malformed JSON → 400.
    let r = c.post(app.url("/graphql")).header("content-type", "application/json").body("{nope").send().await.unwrap();
    assert_eq!(r.status(), 400);
    // Unknown field: a validation error with a code.
    let body = app.gql("{ nope }", json!({}), None).await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    // CORS: allowed origin echoed, another origin gets no ACAO header.
    let r = c
        .post(app.url("/graphql"))
        .header("origin", "http://localhost:5173")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers().get("access-control-allow-origin").map(|v| v.to_str().unwrap()),
        Some("http://localhost:5173")
    );
    let r = c
        .post(app.url("/graphql"))
        .header("origin", "https://evil.example")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
    // Every response carries a request id.
    assert!(r.headers().get("x-request-id").is_some());
}

async fn query_limits(app: TestApp) {
    let s = app.sign_up("Org", "owner@example.com").await;
    // Depth 50 → rejected before any resolver runs, with the depth message.
    let nest = |levels: usize| {
        let mut inner = String::from("name");
        for _ in 0..levels {
            inner = format!("users(first: 1) {{ edges {{ node {{ organization {{ {inner} }} }} }} }}");
        }
        format!("{{ organization {{ {inner} }} }}")
    };
    let body = app.gql(&nest(12), json!({}), Some(&s.access)).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("nested too deep"), "{body}");
    assert_eq!(body["data"], Value::Null);
    // Far deeper (≈ 400 levels) is stopped by the parser's recursion limit: no stack overflow.
    let body = app.gql(&nest(100), json!({}), Some(&s.access)).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    // Complexity: 100 users × nested 100 users → too complex.
    let q = String::from(
        "{ users(first: 100) { edges { node { organization { users(first: 100) { edges { node { email } } } } } } } }",
    );
    let body = app.gql(&q, json!({}), Some(&s.access)).await;
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("too complex"), "{body}");
    assert_eq!(code(&body), "BAD_USER_INPUT");
    // Page size above 100 → BAD_USER_INPUT; negative too.
    let body = app.gql("{ users(first: 101) { totalCount } }", json!({}), Some(&s.access)).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    // Too many directives on one field.
    let many = format!("{{ __typename {} }}", "@include(if: true) ".repeat(50));
    let body = app.gql(&many, json!({}), None).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert!(body["errors"].as_array().is_some_and(|e| !e.is_empty()));
}

/// Signs with the server's real HS256 key (derived from the test secret), so the only
/// thing wrong in each forged token is the claim under test.
fn forge(app: &TestApp, header: Value, claims: Value) -> String {
    use hmac::{Hmac, Mac};
    let h = URL_SAFE_NO_PAD.encode(header.to_string());
    let c = URL_SAFE_NO_PAD.encode(claims.to_string());
    let input = format!("{h}.{c}");
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(app.keys().jwt()).unwrap();
    mac.update(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

async fn jwt_rejections(app: TestApp) {
    let s = app.sign_up("Org", "owner@example.com").await;
    let payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(s.access.split('.').nth(1).unwrap()).unwrap()).unwrap();
    let hdr = json!({ "alg": "HS256", "typ": "at+jwt" });
    // Sanity: a token forged with the real key and real claims is accepted.
    let good = forge(&app, hdr.clone(), payload.clone());
    assert_eq!(app.post("{ me { email } }", json!({}), Some(&good)).await.0, 200);

    let now = chrono::Utc::now().timestamp();
    let mut cases: Vec<(&str, String)> = Vec::new();
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({ "alg": "none", "typ": "at+jwt" }).to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string())
    );
    cases.push(("alg=none", unsigned));
    let mut p = payload.clone();
    p["aud"] = json!("someone-else");
    cases.push(("wrong aud", forge(&app, hdr.clone(), p)));
    let mut p = payload.clone();
    p["iss"] = json!("evil");
    cases.push(("wrong iss", forge(&app, hdr.clone(), p)));
    let mut p = payload.clone();
    p["exp"] = json!(now - 3600);
    p["iat"] = json!(now - 7200);
    p["nbf"] = json!(now - 7200);
    cases.push(("expired", forge(&app, hdr.clone(), p)));
    let mut p = payload.clone();
    p["nbf"] = json!(now + 3600);
    cases.push(("not yet valid", forge(&app, hdr.clone(), p)));
    cases.push(("wrong typ", forge(&app, json!({ "alg": "HS256", "typ": "JWT" }), payload.clone())));
    cases.push(("HS512", forge(&app, json!({ "alg": "HS512", "typ": "at+jwt" }), payload.clone())));
    let mut p = payload.clone();
    p["role"] = json!("OWNER");
    p["ver"] = json!(99);
    cases.push(("stale token version", forge(&app, hdr.clone(), p)));
    let mut tampered = s.access.clone();
    tampered.push('x');
    cases.push(("tampered signature", tampered));
    cases.push(("garbage", "not.a.jwt".into()));

    for (what, token) in cases {
        let (status, body) = app.post("{ me { email } }", json!({}), Some(&token)).await;
        assert_eq!(status, 401, "{what}: {body}");
        assert_eq!(code(&body), "UNAUTHENTICATED", "{what}");
    }
    // A non-Bearer scheme is refused as well.
    let r = app
        .client
        .post(app.url("/graphql"))
        .header("authorization", "Basic Zm9vOmJhcg==")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}
