//! Another tenant's id answers exactly like a missing one, for `node` and every
//! mutation that takes an id.

use serde_json::{Value, json};

use crate::{
    db_tests,
    helpers::{TestApp, code},
};

db_tests!(cross_tenant_ids_are_not_found);

fn random_id(kind: &str) -> String {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    URL_SAFE_NO_PAD.encode(format!("{kind}:{}", uuid::Uuid::now_v7().simple()))
}

/// The error part of a response, without locations (which differ by query text).
fn error_shape(body: &Value) -> Value {
    json!({ "code": body["errors"][0]["extensions"]["code"], "message": body["errors"][0]["message"] })
}

async fn cross_tenant_ids_are_not_found(app: TestApp) {
    let a = app.sign_up("Tenant A", "a@example.com").await;
    let b = app.sign_up("Tenant B", "b@example.com").await;
    let a_op = app.add_user(&a, "a-op@example.com", "OPERATOR").await;
    let key = app
        .gql(
            "mutation { createApiKey(input: { name: \"k\", role: VIEWER }) { apiKey { id } } }",
            json!({}),
            Some(&a.access),
        )
        .await;
    let a_key = key["data"]["createApiKey"]["apiKey"]["id"].as_str().unwrap().to_owned();
    let a_org = app.gql("{ organization { id } }", json!({}), Some(&a.access)).await["data"]["organization"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // A sees its own objects through node().
    for id in [&a_op.user_id, &a_key, &a_org] {
        let own = app.gql("query($id: ID!) { node(id: $id) { id } }", json!({ "id": id }), Some(&a.access)).await;
        assert_eq!(own["data"]["node"]["id"], json!(id), "{own}");
    }

    let cases: Vec<(&str, &str, String, String)> = vec![
        ("node User", "query($id: ID!) { node(id: $id) { id } }", a_op.user_id.clone(), random_id("User")),
        ("node ApiKey", "query($id: ID!) { node(id: $id) { id } }", a_key.clone(), random_id("ApiKey")),
        ("node Organization", "query($id: ID!) { node(id: $id) { id } }", a_org.clone(), random_id("Organization")),
        (
            "updateUserRole",
            "mutation($id: ID!) { updateUserRole(input: { userId: $id, role: VIEWER }) { user { id } } }",
            a_op.user_id.clone(),
            random_id("User"),
        ),
        (
            "deactivateUser",
            "mutation($id: ID!) { deactivateUser(input: { userId: $id }) { user { id } } }",
            a_op.user_id.clone(),
            random_id("User"),
        ),
        (
            "revokeApiKey",
            "mutation($id: ID!) { revokeApiKey(input: { id: $id }) { apiKey { id } } }",
            a_key.clone(),
            random_id("ApiKey"),
        ),
    ];
    for (what, query, foreign, missing) in cases {
        let theirs = app.gql(query, json!({ "id": foreign }), Some(&b.access)).await;
        let nothing = app.gql(query, json!({ "id": missing }), Some(&b.access)).await;
        assert_eq!(code(&theirs), "NOT_FOUND", "{what}: {theirs}");
        assert_eq!(error_shape(&theirs), error_shape(&nothing), "{what}: foreign and missing ids must look the same");
    }
    // An id of the wrong type is NOT_FOUND as well; a malformed one is BAD_USER_INPUT.
    let wrong_type = app
        .gql(
            "mutation($id: ID!) { revokeApiKey(input: { id: $id }) { apiKey { id } } }",
            json!({ "id": a_op.user_id }),
            Some(&a.access),
        )
        .await;
    assert_eq!(code(&wrong_type), "NOT_FOUND");
    let malformed = app.gql("query { node(id: \"%%%\") { id } }", json!({}), Some(&a.access)).await;
    assert_eq!(code(&malformed), "BAD_USER_INPUT");

    // Lists never leak: B sees only its own user; nodes() answers null for A's ids.
    let users = app.gql("{ users { totalCount edges { node { email } } } }", json!({}), Some(&b.access)).await;
    assert_eq!(users["data"]["users"]["totalCount"], 1);
    let nodes = app
        .gql(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": [a_op.user_id, b.user_id] }),
            Some(&b.access),
        )
        .await;
    assert_eq!(nodes["data"]["nodes"][0], Value::Null);
    assert_eq!(nodes["data"]["nodes"][1]["id"], json!(b.user_id));
    // A's operator is untouched.
    let me = app.gql("{ me { role } }", json!({}), Some(&a_op.access)).await;
    assert_eq!(me["data"]["me"]["role"], "OPERATOR");
}
