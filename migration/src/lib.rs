//! Shipgate database migrations (SQLite and PostgreSQL).

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_identity;
mod m20261123_000002_marketplace;
mod m20261123_000003_warehouse;
mod m20261123_000004_fulfilment;
mod m20261123_000005_labels;
mod m20261123_000006_reporting;
mod m20261123_000007_orangeconnex;
mod m20261206_000008_provider_fidelity;
mod m20261206_000009_login_throttle;
mod m20261206_000010_oauth_binding;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_identity::Migration),
            Box::new(m20261123_000002_marketplace::Migration),
            Box::new(m20261123_000003_warehouse::Migration),
            Box::new(m20261123_000004_fulfilment::Migration),
            Box::new(m20261123_000005_labels::Migration),
            Box::new(m20261123_000006_reporting::Migration),
            Box::new(m20261123_000007_orangeconnex::Migration),
            Box::new(m20261206_000008_provider_fidelity::Migration),
            Box::new(m20261206_000009_login_throttle::Migration),
            Box::new(m20261206_000010_oauth_binding::Migration),
        ]
    }
}
