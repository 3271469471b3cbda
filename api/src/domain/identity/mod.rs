//! Identity: organizations, users and roles, sessions (JWT access + rotating refresh
//! tokens), API keys, and turning a presented bearer credential into an [`Actor`].

mod api_keys;
mod audit_log;
mod authn;
mod authn_cache;
mod sessions;
pub mod throttle;
mod users;

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::{
    auth::{jwt::JwtCodec, password::PasswordHasherPool},
    events::EventBus,
};

pub use api_keys::{ApiKeyView, CreatedApiKey};
pub use authn::AuthnError;
pub use sessions::Session;
pub use users::{NewUser, OrgChoice, UserView};

/// The identity service: cheap to clone, shared by the HTTP layer and the CLI.
#[derive(Clone)]
pub struct Identity {
    db: DatabaseConnection,
    jwt: Arc<JwtCodec>,
    hasher: PasswordHasherPool,
    bus: EventBus,
    refresh_ttl_secs: i64,
    auth_cache: Arc<authn_cache::AuthCache>,
}

impl Identity {
    pub fn new(
        db: DatabaseConnection,
        jwt: Arc<JwtCodec>,
        hasher: PasswordHasherPool,
        bus: EventBus,
        refresh_ttl_secs: i64,
    ) -> Self {
        Self { db, jwt, hasher, bus, refresh_ttl_secs, auth_cache: Arc::default() }
    }
}
