//! Per-request data: the verified actor (if any), the request id and the request's
//! DataLoaders. Built by the HTTP and WebSocket handlers, read by resolvers.

use async_graphql::{
    Context,
    dataloader::{DataLoader, HashMapCache},
};

use super::{
    errors::ApiResult,
    loaders::{
        AccountLoader, ChannelLoader, OrderItemsLoader, OrganizationLoader, SkuLoader, UserLoader, WaybillByOrderLoader,
    },
};
use crate::{auth::Actor, error::DomainError, state::Services};

pub struct RequestCtx {
    pub actor: Option<Actor>,
    pub request_id: Option<String>,
}

/// DataLoaders live per request: they capture the caller's tenant, so one request can
/// never read another tenant's rows through a shared cache.
/// Each loader caches for the request, so a resolver can prime a whole page's relations
/// in one query and every node then reads from the cache.
pub struct Loaders {
    pub users: DataLoader<UserLoader, HashMapCache>,
    pub organizations: DataLoader<OrganizationLoader, HashMapCache>,
    pub accounts: DataLoader<AccountLoader, HashMapCache>,
    pub order_items: DataLoader<OrderItemsLoader, HashMapCache>,
    pub skus: DataLoader<SkuLoader, HashMapCache>,
    pub channels: DataLoader<ChannelLoader, HashMapCache>,
    pub waybills_by_order: DataLoader<WaybillByOrderLoader, HashMapCache>,
}

impl Loaders {
    pub fn new(services: &Services, actor: &Actor) -> Self {
        let tenant = actor.tenant();
        Self {
            users: DataLoader::with_cache(
                UserLoader { identity: services.identity.clone(), tenant },
                tokio::spawn,
                HashMapCache::default(),
            ),
            organizations: DataLoader::with_cache(
                OrganizationLoader { identity: services.identity.clone(), tenant },
                tokio::spawn,
                HashMapCache::default(),
            ),
            accounts: DataLoader::with_cache(
                AccountLoader { accounts: services.accounts.clone(), tenant },
                tokio::spawn,
                HashMapCache::default(),
            ),
            order_items: DataLoader::with_cache(
                OrderItemsLoader { orders: services.orders.clone(), tenant },
                tokio::spawn,
                HashMapCache::default(),
            ),
            skus: DataLoader::with_cache(
                SkuLoader { orders: services.orders.clone(), tenant },
                tokio::spawn,
                HashMapCache::default(),
            ),
            channels: DataLoader::with_cache(
                ChannelLoader { channels: services.channels.clone(), tenant },
                tokio::spawn,
                HashMapCache::default(),
            ),
            waybills_by_order: DataLoader::with_cache(
                WaybillByOrderLoader { orders: services.orders.clone(), tenant },
                tokio::spawn,
                HashMapCache::default(),
            ),
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
