use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use entity::organization;
use uuid::Uuid;

use crate::{auth::Tenant, domain::identity::Identity, error::DomainError};

pub struct OrganizationLoader {
    pub identity: Identity,
    pub tenant: Tenant,
}

impl Loader<Uuid> for OrganizationLoader {
    type Value = organization::Model;
    type Error = DomainError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, organization::Model>, DomainError> {
        let orgs = self.identity.organizations_by_ids(self.tenant, keys).await?;
        Ok(orgs.into_iter().map(|o| (o.id, o)).collect())
    }
}
