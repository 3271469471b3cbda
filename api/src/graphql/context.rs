//! Per-request data: the verified actor (if any), the request id and the request's
//! DataLoaders. Built by the HTTP and WebSocket handlers, read by resolvers.

use async_graphql::{Context, dataloader::DataLoader};

use super::{
    errors::ApiResult,
    loaders::{AccountLoader, OrderItemsLoader, OrganizationLoader, UserLoader},
};
use crate::{auth::Actor, error::DomainError, state::Services};

pub struct RequestCtx {
    pub actor: Option<Actor>,
    pub request_id: Option<String>,
}

/// DataLoaders live per request: they capture the caller's tenant, so one request can
/// never read another tenant's rows through a shared cache.
pub struct Loaders {
    pub users: DataLoader<UserLoader>,
    pub organizations: DataLoader<OrganizationLoader>,
    pub accounts: DataLoader<AccountLoader>,
    pub order_items: DataLoader<OrderItemsLoader>,
}

impl Loaders {
    pub fn new(services: &Services, actor: &Actor) -> Self {
        let tenant = actor.tenant();
        Self {
            users: DataLoader::new(UserLoader { identity: services.identity.clone(), tenant }, tokio::spawn),
            organizations: DataLoader::new(
                OrganizationLoader { identity: services.identity.clone(), tenant },
                tokio::spawn,
            ),
            accounts: DataLoader::new(AccountLoader { accounts: services.accounts.clone(), tenant }, tokio::spawn),
            order_items: DataLoader::new(OrderItemsLoader { orders: services.orders.clone(), tenant }, tokio::spawn),
        }
    }
}

pub fn services<'a>(ctx: &'a Context<'_>) -> ApiResult<&'a Services> {
    Ok(ctx.data::<Services>()?)
}

/// The verified caller, or UNAUTHENTICATED.
pub fn actor<'a>(ctx: &'a Context<'_>) -> ApiResult<&'a Actor> {
    ctx.data_opt::<RequestCtx>()
        .and_then(|r| r.actor.as_ref())
        .ok_or_else(|| DomainError::Unauthenticated("sign in or send an API key").into())
}

pub fn optional_actor<'a>(ctx: &'a Context<'_>) -> Option<&'a Actor> {
    ctx.data_opt::<RequestCtx>().and_then(|r| r.actor.as_ref())
}

pub fn loaders<'a>(ctx: &'a Context<'_>) -> ApiResult<&'a Loaders> {
    actor(ctx)?;
    Ok(ctx.data::<Loaders>()?)
}
