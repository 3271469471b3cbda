//! Shared application state.

use std::sync::Arc;

use sea_orm::DatabaseConnection;
use tokio_util::sync::CancellationToken;

use crate::{
    config::Settings,
    domain::{
        accounts::Accounts, catalog::Catalog, channels::Channels, channels::carriers::Carriers, fulfilment::Fulfilment,
        identity::Identity, labels::Labels, orders::Orders, reports::Reports, warehouse::Warehouse,
    },
    events::EventBus,
    sandbox::Sandbox,
};

/// What resolvers, handlers and jobs call into. Cheap to clone.
#[derive(Clone)]
pub struct Services {
    pub settings: Arc<Settings>,
    pub db: DatabaseConnection,
    pub identity: Identity,
    pub accounts: Accounts,
    pub orders: Orders,
    pub catalog: Catalog,
    pub channels: Channels,
    pub carriers: Carriers,
    pub fulfilment: Fulfilment,
    pub labels: Labels,
    pub reports: Reports,
    pub warehouse: Warehouse,
    pub bus: EventBus,
    /// The fake providers, when sandbox mode is on.
    pub sandbox: Option<Sandbox>,
    /// Cancelled on SIGTERM / Ctrl-C: subscriptions and workers watch it.
    pub shutdown: CancellationToken,
}
