use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use entity::account;
use uuid::Uuid;

use crate::{auth::Tenant, domain::accounts::Accounts, error::DomainError};

pub struct AccountLoader {
    pub accounts: Accounts,
    pub tenant: Tenant,
}

impl Loader<Uuid> for AccountLoader {
    type Value = account::Model;
    type Error = DomainError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, account::Model>, DomainError> {
        Ok(self.accounts.by_ids(self.tenant, keys).await?.into_iter().map(|a| (a.id, a)).collect())
    }
}
