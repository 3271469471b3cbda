use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use entity::order_item;
use uuid::Uuid;

use crate::{auth::Tenant, domain::orders::Orders, error::DomainError};

/// Lines by order id: one query for a whole page of orders.
pub struct OrderItemsLoader {
    pub orders: Orders,
    pub tenant: Tenant,
}

impl Loader<Uuid> for OrderItemsLoader {
    type Value = Vec<order_item::Model>;
    type Error = DomainError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<order_item::Model>>, DomainError> {
        // Every key gets an entry, so an order without lines is cached as such.
        let mut map: HashMap<Uuid, Vec<order_item::Model>> = keys.iter().map(|k| (*k, Vec::new())).collect();
        for item in self.orders.items_of(self.tenant, keys).await? {
            map.entry(item.order_id).or_default().push(item);
        }
        for lines in map.values_mut() {
            lines.sort_by_key(|l| l.id);
        }
        Ok(map)
    }
}
