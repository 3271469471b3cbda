use serde_json::json;

use crate::{
    db_tests,
    helpers::{PASSWORD, TestApp, code, session_from},
};

db_tests!(
    sign_up_login_refresh_rotation_and_reuse,
    wrong_password_and_unknown_email,
    sign_up_validation_errors,
    viewer_cannot_mutate,
    role_rules,
    api_key_auth,
    deactivated_user_is_locked_out,
    logout_revokes_family,
);

const REFRESH: &str = "mutation($t: String!) { refreshToken(input: { refreshToken: $t }) { accessToken refreshToken user { id email } userErrors { code } } }";
const ME: &str = "{ me { id email role organization { id name } } }";

async fn sign_up_login_refresh_rotation_and_reuse(app: TestApp) {
    let s = app.sign_up("Acme Cross-Border", "Owner@Example.com").await;
    let me = app.gql(ME, json!({}), Some(&s.access)).await;
    assert_eq!(me["data"]["me"]["email"], "owner@example.com");
    assert_eq!(me["data"]["me"]["role"], "OWNER");
    assert_eq!(me["data"]["me"]["organization"]["name"], "Acme Cross-Border");
    assert_eq!(me["data"]["me"]["id"], s.user_id);

    let login = app.login("owner@example.com", PASSWORD).await;
    let l = session_from(&login["data"]["login"]);
    assert_ne!(l.refresh, s.refresh);

    // Rotation: the refresh token works once and yields a new pair.
    let r1 = app.gql(REFRESH, json!({ "t": l.refresh }), None).await;
    let rotated = session_from(&r1["data"]["refreshToken"]);
    assert_ne!(rotated.refresh, l.refresh);
    assert_eq!(app.gql(ME, json!({}), Some(&rotated.access)).await["data"]["me"]["email"], "owner@example.com");

    // Reuse of the consumed token: UNAUTHENTICATED, and the whole family is revoked.
    let reuse = app.gql(REFRESH, json!({ "t": l.refresh }), None).await;
    assert_eq!(code(&reuse), "UNAUTHENTICATED", "{reuse}");
    let after = app.gql(REFRESH, json!({ "t": rotated.refresh }), None).await;
    assert_eq!(code(&after), "UNAUTHENTICATED", "the successor must be revoked too: {after}");

    // The other session (from sign-up) is a different family and still works.
    let other = app.gql(REFRESH, json!({ "t": s.refresh }), None).await;
    session_from(&other["data"]["refreshToken"]);

    // Garbage refresh tokens.
    let junk = app.gql(REFRESH, json!({ "t": "sgr_nope" }), None).await;
    assert_eq!(code(&junk), "UNAUTHENTICATED");
}

async fn wrong_password_and_unknown_email(app: TestApp) {
    app.sign_up("Org", "a@example.com").await;
    let wrong = app.login("a@example.com", "not the password at all").await;
    assert_eq!(wrong["data"]["login"]["accessToken"], json!(null));
    assert_eq!(wrong["data"]["login"]["userErrors"][0]["code"], "INVALID_CREDENTIALS");
    let unknown = app.login("nobody@example.com", PASSWORD).await;
    // Same answer for an unknown email: no account enumeration.
    assert_eq!(unknown["data"]["login"]["userErrors"], wrong["data"]["login"]["userErrors"]);
}

async fn sign_up_validation_errors(app: TestApp) {
    let body = app
        .gql(
            "mutation { signUp(input: { organizationName: \"  \", email: \"not-an-email\", password: \"x\" }) { accessToken userErrors { code field message } } }",
            json!({}),
            None,
        )
        .await;
    let errors = body["data"]["signUp"]["userErrors"].as_array().unwrap().clone();
    let fields: Vec<_> = errors.iter().map(|e| e["field"].clone()).collect();
    assert!(fields.contains(&json!(["input", "organizationName"])), "{body}");
    assert!(fields.contains(&json!(["input", "email"])), "{body}");
    assert_eq!(body["data"]["signUp"]["accessToken"], json!(null));

    let weak = app
        .gql(
            "mutation { signUp(input: { organizationName: \"Org\", email: \"w@example.com\", password: \"short\" }) { userErrors { code field } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(weak["data"]["signUp"]["userErrors"][0]["code"], "WEAK_PASSWORD");

    app.sign_up("Org", "dup@example.com").await;
    let dup = app
        .gql(
            "mutation($p: String!) { signUp(input: { organizationName: \"Org2\", email: \"DUP@example.com\", password: $p }) { userErrors { code field } } }",
            json!({ "p": PASSWORD }),
            None,
        )
        .await;
    assert_eq!(dup["data"]["signUp"]["userErrors"][0]["code"], "TAKEN", "{dup}");
}

async fn viewer_cannot_mutate(app: TestApp) {
    let owner = app.sign_up("Org", "owner@example.com").await;
    let viewer = app.add_user(&owner, "viewer@example.com", "VIEWER").await;
    let me = app.gql(ME, json!({}), Some(&viewer.access)).await;
    assert_eq!(me["data"]["me"]["role"], "VIEWER");

    let create = app
        .gql(
            "mutation($p: String!) { createUser(input: { email: \"x@example.com\", password: $p, role: VIEWER }) { user { id } } }",
            json!({ "p": PASSWORD }),
            Some(&viewer.access),
        )
        .await;
    assert_eq!(code(&create), "FORBIDDEN", "{create}");
    let key = app
        .gql(
            "mutation { createApiKey(input: { name: \"k\", role: VIEWER }) { secret } }",
            json!({}),
            Some(&viewer.access),
        )
        .await;
    assert_eq!(code(&key), "FORBIDDEN");
    // Reads still work.
    let users = app.gql("{ users(first: 10) { totalCount } }", json!({}), Some(&viewer.access)).await;
    assert_eq!(users["data"]["users"]["totalCount"], 2);
    // Anonymous callers get UNAUTHENTICATED, not FORBIDDEN.
    let anon = app.gql(ME, json!({}), None).await;
    assert_eq!(code(&anon), "UNAUTHENTICATED");
}

async fn role_rules(app: TestApp) {
    let owner = app.sign_up("Org", "owner@example.com").await;
    let admin = app.add_user(&owner, "admin@example.com", "ADMIN").await;
    const ROLE: &str = "mutation($u: ID!, $r: Role!) { updateUserRole(input: { userId: $u, role: $r }) { user { role } userErrors { code } } }";

    // An admin cannot grant OWNER, nor touch the owner.
    let op = app.add_user(&owner, "op@example.com", "OPERATOR").await;
    let r = app.gql(ROLE, json!({ "u": op.user_id, "r": "OWNER" }), Some(&admin.access)).await;
    assert_eq!(r["data"]["updateUserRole"]["userErrors"][0]["code"], "ROLE_NOT_ALLOWED");
    let r = app.gql(ROLE, json!({ "u": owner.user_id, "r": "VIEWER" }), Some(&admin.access)).await;
    assert_eq!(r["data"]["updateUserRole"]["userErrors"][0]["code"], "ROLE_NOT_ALLOWED");
    // Admin may promote an operator to admin; the change applies to their next request.
    let r = app.gql(ROLE, json!({ "u": op.user_id, "r": "ADMIN" }), Some(&admin.access)).await;
    assert_eq!(r["data"]["updateUserRole"]["user"]["role"], "ADMIN", "{r}");
    assert_eq!(app.gql(ME, json!({}), Some(&op.access)).await["data"]["me"]["role"], "ADMIN");
    // Nobody changes their own role; the last owner cannot be demoted by another owner either.
    let r = app.gql(ROLE, json!({ "u": owner.user_id, "r": "ADMIN" }), Some(&owner.access)).await;
    assert_eq!(r["data"]["updateUserRole"]["userErrors"][0]["code"], "ROLE_NOT_ALLOWED");
    let owner2 = app.add_user(&owner, "owner2@example.com", "OWNER").await;
    let r = app.gql(ROLE, json!({ "u": owner.user_id, "r": "ADMIN" }), Some(&owner2.access)).await;
    assert_eq!(r["data"]["updateUserRole"]["user"]["role"], "ADMIN", "{r}");
    // `owner` is an admin now and cannot touch an owner.
    let r = app.gql(ROLE, json!({ "u": owner2.user_id, "r": "ADMIN" }), Some(&owner.access)).await;
    assert_eq!(r["data"]["updateUserRole"]["userErrors"][0]["code"], "ROLE_NOT_ALLOWED", "{r}");

    // Every change left an audit event.
    let audit = app
        .gql(
            "{ auditEvents(first: 50) { totalCount edges { node { action actor { email } } } } }",
            json!({}),
            Some(&owner2.access),
        )
        .await;
    let actions: Vec<_> = audit["data"]["auditEvents"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["action"].as_str().unwrap().to_owned())
        .collect();
    assert!(actions.iter().filter(|a| *a == "user.role_changed").count() >= 2, "{actions:?}");
    assert!(actions.contains(&"user.created".to_owned()));
    assert!(actions.contains(&"organization.created".to_owned()));
}

async fn api_key_auth(app: TestApp) {
    let owner = app.sign_up("Org", "owner@example.com").await;
    let created = app
        .gql(
            "mutation { createApiKey(input: { name: \"reporting\", role: VIEWER }) { secret apiKey { id name role prefix createdBy { email } } userErrors { code } } }",
            json!({}),
            Some(&owner.access),
        )
        .await;
    let p = &created["data"]["createApiKey"];
    let secret = p["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("sgk_"));
    assert_eq!(p["apiKey"]["createdBy"]["email"], "owner@example.com");
    let key_id = p["apiKey"]["id"].as_str().unwrap().to_owned();

    // The key reads the organization, cannot mutate (VIEWER), and is not a user.
    let org = app.gql("{ organization { name users(first: 5) { totalCount } } }", json!({}), Some(&secret)).await;
    assert_eq!(org["data"]["organization"]["name"], "Org", "{org}");
    let m = app
        .gql("mutation { createApiKey(input: { name: \"x\", role: VIEWER }) { secret } }", json!({}), Some(&secret))
        .await;
    assert_eq!(code(&m), "FORBIDDEN");

    // The secret is never listed again.
    let list = app.gql("{ apiKeys { edges { node { id name prefix } } } }", json!({}), Some(&owner.access)).await;
    assert!(!list.to_string().contains(&secret[20..]));

    // An admin cannot mint a key above their own role.
    let admin = app.add_user(&owner, "admin@example.com", "ADMIN").await;
    let up = app
        .gql(
            "mutation { createApiKey(input: { name: \"x\", role: OWNER }) { userErrors { code } } }",
            json!({}),
            Some(&admin.access),
        )
        .await;
    assert_eq!(up["data"]["createApiKey"]["userErrors"][0]["code"], "ROLE_NOT_ALLOWED");

    // Revoked: refused at the door with 401, even though the key was verified a moment
    // before (and so remembered by the auth cache).
    assert_eq!(app.post("{ organization { name } }", json!({}), Some(&secret)).await.0, 200);
    let rev = app
        .gql(
            "mutation($id: ID!) { revokeApiKey(input: { id: $id }) { apiKey { revokedAt } } }",
            json!({ "id": key_id }),
            Some(&owner.access),
        )
        .await;
    assert!(rev["data"]["revokeApiKey"]["apiKey"]["revokedAt"].is_string(), "{rev}");
    let (status, body) = app.post("{ organization { name } }", json!({}), Some(&secret)).await;
    assert_eq!(status, 401);
    assert_eq!(code(&body), "UNAUTHENTICATED");
    // A forged key with a real prefix but wrong secret.
    let forged = format!("{}{}", &secret[..21], "A".repeat(43));
    assert_eq!(app.post("{ organization { name } }", json!({}), Some(&forged)).await.0, 401);
}

async fn deactivated_user_is_locked_out(app: TestApp) {
    let owner = app.sign_up("Org", "owner@example.com").await;
    let op = app.add_user(&owner, "op@example.com", "OPERATOR").await;
    // Used just before (so remembered by the auth cache).
    assert_eq!(app.post(ME, json!({}), Some(&op.access)).await.0, 200);
    let d = app
        .gql(
            "mutation($u: ID!) { deactivateUser(input: { userId: $u }) { user { active } userErrors { code } } }",
            json!({ "u": op.user_id }),
            Some(&owner.access),
        )
        .await;
    assert_eq!(d["data"]["deactivateUser"]["user"]["active"], false, "{d}");
    // The still-unexpired access token stops working at once, refresh and login too.
    assert_eq!(app.post(ME, json!({}), Some(&op.access)).await.0, 401);
    assert_eq!(code(&app.gql(REFRESH, json!({ "t": op.refresh }), None).await), "UNAUTHENTICATED");
    assert_eq!(
        app.login("op@example.com", PASSWORD).await["data"]["login"]["userErrors"][0]["code"],
        "INVALID_CREDENTIALS"
    );
    // The last owner cannot deactivate themselves.
    let selfd = app
        .gql(
            "mutation($u: ID!) { deactivateUser(input: { userId: $u }) { userErrors { code } } }",
            json!({ "u": owner.user_id }),
            Some(&owner.access),
        )
        .await;
    assert_eq!(selfd["data"]["deactivateUser"]["userErrors"][0]["code"], "ROLE_NOT_ALLOWED");
}

async fn logout_revokes_family(app: TestApp) {
    let s = app.sign_up("Org", "owner@example.com").await;
    let out = app
        .gql(
            "mutation($t: String!) { logout(input: { refreshToken: $t }) { ok } }",
            json!({ "t": s.refresh }),
            Some(&s.access),
        )
        .await;
    assert_eq!(out["data"]["logout"]["ok"], true);
    assert_eq!(code(&app.gql(REFRESH, json!({ "t": s.refresh }), None).await), "UNAUTHENTICATED");

    let l = session_from(&app.login("owner@example.com", PASSWORD).await["data"]["login"]);
    let all = app.gql("mutation { logout(input: { allSessions: true }) { ok } }", json!({}), Some(&l.access)).await;
    assert_eq!(all["data"]["logout"]["ok"], true, "{all}");
    assert_eq!(app.post(ME, json!({}), Some(&l.access)).await.0, 401, "access tokens are revoked by the version bump");
}
