//! `schema.graphql` must be exactly what the code exports. `UPDATE_SCHEMA=1` rewrites it.

#[test]
fn schema_graphql_matches_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema.graphql");
    let sdl = api::graphql::sdl();
    if std::env::var("UPDATE_SCHEMA").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &sdl).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == sdl,
        "schema.graphql is out of date: run `cargo run -p api -- export-schema --out schema.graphql` (or UPDATE_SCHEMA=1 cargo test)"
    );
}
