use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use entity::sku;
use uuid::Uuid;

use crate::{auth::Tenant, domain::orders::Orders, error::DomainError};

pub struct SkuLoader {
    pub orders: Orders,
    pub tenant: Tenant,
}

impl Loader<Uuid> for SkuLoader {
    type Value = sku::Model;
    type Error = DomainError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, sku::Model>, DomainError> {
        Ok(self.orders.skus_by_ids(self.tenant, keys).await?.into_iter().map(|s| (s.id, s)).collect())
    }
}
