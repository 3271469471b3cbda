//! The Relay `Node` interface and `node`/`nodes` lookups, always scoped to the caller's
//! tenant: another tenant's id answers exactly like a missing one.

use async_graphql::{Context, ID, Interface, Object};

use super::{
    accounts::{Account, Job},
    auth::types::{ApiKey, AuditEvent, Organization, User},
    channels::Channel,
    context::{actor, services},
    errors::ApiResult,
    ids::{Kind, decode_any},
    labels::LabelTemplate,
    orders::Order,
    skus::Sku,
    warehouse::InboundOrder,
    waybills::Waybill,
};
use crate::error::{DomainError, DomainResult};

#[derive(Interface)]
#[allow(clippy::large_enum_variant)]
#[graphql(field(name = "id", ty = "ID", desc = "Opaque global id."))]
pub enum Node {
    User(User),
    Organization(Organization),
    ApiKey(ApiKey),
    AuditEvent(AuditEvent),
    Account(Account),
    Order(Order),
    Job(Job),
    Channel(Channel),
    Waybill(Waybill),
    Sku(Sku),
    LabelTemplate(LabelTemplate),
    InboundOrder(InboundOrder),
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Fetches any object by its global id (NOT_FOUND when missing or not yours).
    async fn node(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Node> {
        Ok(load(ctx, &id).await?)
    }

    /// Fetches up to 100 objects by global id; missing ones are null.
    #[graphql(complexity = "ids.len() * child_complexity")]
    async fn nodes(&self, ctx: &Context<'_>, ids: Vec<ID>) -> ApiResult<Vec<Option<Node>>> {
        let max = services(ctx)?.settings.limits.page_size;
        if ids.len() as u64 > max {
            return Err(DomainError::bad_input("ids", format!("at most {max} ids")).into());
        }
        let mut out = Vec::with_capacity(ids.len());
        for id in &ids {
            out.push(match load(ctx, id).await {
                Ok(n) => Some(n),
                Err(DomainError::NotFound) => None,
                Err(e) => return Err(e.into()),
            });
        }
        Ok(out)
    }
}

async fn load(ctx: &Context<'_>, id: &ID) -> DomainResult<Node> {
    // An object the caller's role may not read answers like a missing one.
    load_any(ctx, id).await.map_err(|e| match e {
        DomainError::Forbidden(_) => DomainError::NotFound,
        other => other,
    })
}

async fn load_any(ctx: &Context<'_>, id: &ID) -> DomainResult<Node> {
    let (kind, uuid) = decode_any(id)?;
    let a = actor(ctx).map_err(|_| DomainError::Unauthenticated("sign in or send an API key"))?;
    let s = services(ctx).map_err(|_| DomainError::NotFound)?;
    Ok(match kind {
        Kind::User => Node::User(User(s.identity.user(a.tenant(), uuid).await?)),
        Kind::Organization => {
            let org = s.identity.organization(a.tenant()).await?;
            if org.id != uuid {
                return Err(DomainError::NotFound);
            }
            Node::Organization(Organization(org))
        }
        Kind::ApiKey => Node::ApiKey(s.identity.api_key(a, uuid).await?.into()),
        Kind::AuditEvent => Node::AuditEvent(AuditEvent(s.identity.audit_event(a, uuid).await?)),
        Kind::Account => Node::Account(Account(s.accounts.get(a.tenant(), uuid).await?)),
        Kind::Order => Node::Order(Order(s.orders.get(a.tenant(), uuid).await?)),
        Kind::Job => Node::Job(Job(s.orders.job(a.tenant(), uuid).await?)),
        Kind::Channel => Node::Channel(Channel(s.channels.get(a.tenant(), uuid).await?)),
        Kind::Waybill => Node::Waybill(Waybill(s.fulfilment.waybill(a.tenant(), uuid).await?)),
        Kind::Sku => Node::Sku(Sku(s.catalog.get(a.tenant(), uuid).await?)),
        Kind::LabelTemplate => Node::LabelTemplate(LabelTemplate(s.labels.template(a.tenant(), uuid).await?)),
        Kind::InboundOrder => Node::InboundOrder(InboundOrder(s.warehouse.inbound(a.tenant(), uuid).await?)),
        Kind::OrderItem => return Err(DomainError::NotFound),
    })
}
