//! Shared application state.

use std::sync::Arc;

use sea_orm::DatabaseConnection;
use tokio_util::sync::CancellationToken;

use crate::{config::Settings, domain::identity::Identity, events::EventBus};

/// What resolvers and handlers call into. Cheap to clone.
#[derive(Clone)]
pub struct Services {
    pub settings: Arc<Settings>,
    pub db: DatabaseConnection,
    pub identity: Identity,
    pub bus: EventBus,
    /// Cancelled on SIGTERM / Ctrl-C: subscriptions and workers watch it.
    pub shutdown: CancellationToken,
}
