//! Runs every migration up, down and up again on SQLite (always) and on
//! PostgreSQL (when `SHIPGATE_TEST_POSTGRES_URL` points at an admin connection).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use migration::{Migrator, MigratorTrait};
use sea_orm_migration::sea_orm::{ConnectionTrait, Database, DatabaseConnection};

/// Tables every migration is expected to create.
const TABLES: &[&str] = &[
    "organizations",
    "users",
    "memberships",
    "refresh_tokens",
    "api_keys",
    "audit_events",
    "idempotency_keys",
    "jobs",
    "accounts",
    "skus",
    "channels",
    "orders",
    "order_items",
    "waybills",
    "outbound_orders",
    "inbound_orders",
    "inbound_order_lines",
    "inbound_order_files",
    "inventory_snapshots",
    "stock_movements",
    "label_templates",
];

async fn assert_tables(db: &DatabaseConnection, present: bool) {
    let manager = sea_orm_migration::SchemaManager::new(db);
    for table in TABLES {
        let exists = manager.has_table(*table).await.expect("has_table");
        assert_eq!(exists, present, "table {table} present={exists}, expected {present}");
    }
}

async fn up_down_up(db: &DatabaseConnection) {
    Migrator::up(db, None).await.expect("first up");
    assert_tables(db, true).await;
    assert_eq!(Migrator::get_pending_migrations(db).await.expect("pending").len(), 0);
    Migrator::down(db, None).await.expect("down");
    assert_tables(db, false).await;
    Migrator::up(db, None).await.expect("second up");
    assert_tables(db, true).await;
}

#[tokio::test]
async fn sqlite_up_down_up() {
    let db = Database::connect("sqlite::memory:").await.expect("connect sqlite");
    up_down_up(&db).await;
}

#[tokio::test]
async fn postgres_up_down_up() {
    let Ok(admin_url) = std::env::var("SHIPGATE_TEST_POSTGRES_URL") else {
        eprintln!("SHIPGATE_TEST_POSTGRES_URL not set; skipping PostgreSQL migration test");
        return;
    };
    let admin = Database::connect(&admin_url).await.expect("connect postgres admin");
    let name = format!("mig_test_{}", uuid::Uuid::new_v4().simple());
    admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.expect("create database");

    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (admin_url.as_str(), None),
    };
    let prefix = match base.rfind('/') {
        Some(i) if i > "postgres://".len() => &base[..i],
        _ => base,
    };
    let mut url = format!("{prefix}/{name}");
    if let Some(q) = query {
        url = format!("{url}?{q}");
    }

    let result = {
        let db = Database::connect(&url).await.expect("connect test database");
        let run = tokio::spawn({
            let db = db.clone();
            async move { up_down_up(&db).await }
        })
        .await;
        db.close().await.expect("close test database");
        run
    };

    admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await.expect("drop database");

    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}
