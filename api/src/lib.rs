//! Shipgate: the GraphQL backend cross-border sellers and their logistics provider run
//! their shipping on. See `README.md` and `../shared/design.md` for the architecture.
//!
//! Layers (dependencies point down): `http` → `graphql` → `domain` → (`auth`, `entity`);
//! nothing depends on `graphql`.

pub mod app;
pub mod auth;
pub mod config;
pub mod connectors;
pub mod db;
pub mod domain;
pub mod error;
pub mod events;
pub mod graphql;
pub mod http;
pub mod jobs;
pub mod labels;
pub mod sandbox;
pub mod state;
pub mod telemetry;

pub use app::{Application, shutdown_signal};
pub use config::Settings;
