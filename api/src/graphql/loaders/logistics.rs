use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use entity::{channel, waybill};
use uuid::Uuid;

use crate::{
    auth::Tenant,
    domain::{channels::Channels, orders::Orders},
    error::DomainError,
};

/// Channels by id (the tenant's own and the global ones).
pub struct ChannelLoader {
    pub channels: Channels,
    pub tenant: Tenant,
}

impl Loader<Uuid> for ChannelLoader {
    type Value = channel::Model;
    type Error = DomainError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, channel::Model>, DomainError> {
        Ok(self.channels.by_ids(self.tenant, keys).await?.into_iter().map(|c| (c.id, c)).collect())
    }
}

/// The active waybill of each order, by order id. Every key gets an entry (`None` when the
/// order has no waybill), so "no waybill" is cached too and never re-queried.
pub struct WaybillByOrderLoader {
    pub orders: Orders,
    pub tenant: Tenant,
}

impl Loader<Uuid> for WaybillByOrderLoader {
    type Value = Option<waybill::Model>;
    type Error = DomainError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Option<waybill::Model>>, DomainError> {
        let mut map: HashMap<Uuid, Option<waybill::Model>> = keys.iter().map(|k| (*k, None)).collect();
        for w in self.orders.active_waybills_of(self.tenant, keys).await? {
            if let Some(o) = w.order_id {
                map.insert(o, Some(w));
            }
        }
        Ok(map)
    }
}
