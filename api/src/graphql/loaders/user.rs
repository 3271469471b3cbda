use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use uuid::Uuid;

use crate::{
    auth::Tenant,
    domain::identity::{Identity, UserView},
    error::DomainError,
};

pub struct UserLoader {
    pub identity: Identity,
    pub tenant: Tenant,
}

impl Loader<Uuid> for UserLoader {
    type Value = UserView;
    type Error = DomainError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, UserView>, DomainError> {
        let views = self.identity.users_by_ids(self.tenant, keys).await?;
        Ok(views.into_iter().map(|v| (v.user.id, v)).collect())
    }
}
