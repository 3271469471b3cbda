//! The order workflow mutations (seed 000 §6): set channel, push, reset, mark shipped
//! (± write-back), cancel, retry write-back. All batch; each returns one result per order.

use std::collections::HashMap;

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use super::{
    accounts::Job,
    context::{actor, loaders, services},
    enums::FulfillmentStatus,
    errors::{ApiResult, UserErrorObject, payload},
    ids::{Kind, decode, encode},
    orders::Order,
    waybills::Waybill,
};
use crate::{auth::Actor, domain::fulfilment::BatchOutcome, error::DomainError, state::Services};

/// What happened to one order of a batch.
#[derive(SimpleObject)]
pub struct OrderResult {
    pub order_id: ID,
    /// The order's state afterwards (null when the id is unknown).
    pub status: Option<FulfillmentStatus>,
    pub order: Option<Order>,
    /// The order's waybill, when it has one (UNCONFIRMED while a push runs).
    pub waybill: Option<Waybill>,
    /// Why this order was refused or failed (e.g. DESTINATION_NOT_SERVED).
    pub user_errors: Vec<UserErrorObject>,
}

#[derive(SimpleObject)]
pub struct OrderBatchPayload {
    pub results: Vec<OrderResult>,
    /// Errors about the request as a whole (e.g. too many orders).
    pub user_errors: Vec<UserErrorObject>,
}

#[derive(SimpleObject)]
pub struct PushOrdersPayload {
    /// PUSHING for accepted orders (results follow on `pushResults`), PUSH_FAILED with codes
    /// for orders that failed validation, INVALID_STATE for orders that cannot be pushed.
    pub results: Vec<OrderResult>,
    /// The job booking the accepted orders (follow it with `jobProgress`).
    pub job: Option<Job>,
    pub user_errors: Vec<UserErrorObject>,
}

#[derive(InputObject)]
pub struct SetOrderChannelInput {
    pub order_ids: Vec<ID>,
    pub channel_id: ID,
}

#[derive(InputObject)]
pub struct PushOrdersInput {
    pub order_ids: Vec<ID>,
    /// Same key + same orders within 24 h replays the first result; same key + other
    /// orders is a CONFLICT.
    pub idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct OrderIdsInput {
    pub order_ids: Vec<ID>,
}

#[derive(InputObject)]
pub struct MarkOrdersShippedInput {
    pub order_ids: Vec<ID>,
    /// true: 标记出货&回写单号 (write the tracking number back to the marketplace);
    /// false: 标记出货 (internal mark only).
    pub write_back: bool,
}

fn ids(v: &[ID]) -> ApiResult<Vec<uuid::Uuid>> {
    Ok(v.iter().map(|id| decode(Kind::Order, id)).collect::<Result<Vec<_>, _>>()?)
}

/// Turns domain outcomes into results, loading the orders and waybills (one query each)
/// only when the client selected them.
async fn results(ctx: &Context<'_>, s: &Services, a: &Actor, b: BatchOutcome) -> ApiResult<Vec<OrderResult>> {
    let wanted: Vec<uuid::Uuid> = b.results.iter().filter(|r| r.status.is_some()).map(|r| r.order_id).collect();
    let selected = ctx.look_ahead().field("results");
    let orders: HashMap<uuid::Uuid, entity::order::Model> = if selected.field("order").exists() {
        s.orders.by_ids(a.tenant(), &wanted).await?.into_iter().map(|o| (o.id, o)).collect()
    } else {
        HashMap::new()
    };
    let waybills = if selected.field("waybill").exists() {
        loaders(ctx)?.waybills_by_order.load_many(wanted.iter().copied()).await?
    } else {
        HashMap::new()
    };
    Ok(b.results
        .into_iter()
        .map(|r| OrderResult {
            order_id: encode(Kind::Order, r.order_id),
            status: r.status.map(Into::into),
            order: orders.get(&r.order_id).cloned().map(Order),
            waybill: waybills.get(&r.order_id).cloned().flatten().map(Waybill),
            user_errors: r.errors.into_iter().map(Into::into).collect(),
        })
        .collect())
}

async fn batch(ctx: &Context<'_>, r: Result<BatchOutcome, DomainError>) -> ApiResult<OrderBatchPayload> {
    let s = services(ctx)?;
    let a = actor(ctx)?;
    let (b, user_errors) = payload(r)?;
    let results = match b {
        Some(b) => results(ctx, s, a, b).await?,
        None => Vec::new(),
    };
    Ok(OrderBatchPayload { results, user_errors })
}

#[derive(Default)]
pub struct FulfilmentMutation;

#[Object]
impl FulfilmentMutation {
    /// 设置渠道: assigns a shipping channel to UNPUSHED / PUSH_FAILED orders.
    async fn set_order_channel(&self, ctx: &Context<'_>, input: SetOrderChannelInput) -> ApiResult<OrderBatchPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let channel = decode(Kind::Channel, &input.channel_id)?;
        batch(ctx, s.fulfilment.set_channel(a, &ids(&input.order_ids)?, channel).await).await
    }

    /// 推送运单: requests waybills and tracking numbers. Validation failures come back at
    /// once per order; accepted orders go PUSHING and finish on `pushResults`.
    async fn push_orders(&self, ctx: &Context<'_>, input: PushOrdersInput) -> ApiResult<PushOrdersPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let r = s.fulfilment.push(a, &ids(&input.order_ids)?, input.idempotency_key.as_deref()).await;
        let (b, user_errors) = payload(r)?;
        let Some(b) = b else { return Ok(PushOrdersPayload { results: Vec::new(), job: None, user_errors }) };
        let job = match b.job_id {
            Some(id) => Some(Job(s.orders.job(a.tenant(), id).await?)),
            None => None,
        };
        Ok(PushOrdersPayload { results: results(ctx, s, a, b).await?, job, user_errors })
    }

    /// 重置: PUSHED → UNPUSHED, cancelling the waybill (its number is never reused).
    async fn reset_orders(&self, ctx: &Context<'_>, input: OrderIdsInput) -> ApiResult<OrderBatchPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        batch(ctx, s.fulfilment.reset(a, &ids(&input.order_ids)?).await).await
    }

    /// PUSHED → SHIPPED; with `writeBack`, the tracking number is written back to the
    /// marketplace by a durable job (`writeBackStatus` PENDING → WRITTEN / FAILED).
    async fn mark_orders_shipped(
        &self,
        ctx: &Context<'_>,
        input: MarkOrdersShippedInput,
    ) -> ApiResult<OrderBatchPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        batch(ctx, s.fulfilment.mark_shipped(a, &ids(&input.order_ids)?, input.write_back).await).await
    }

    /// Cancels UNPUSHED, PUSH_FAILED or PUSHED orders (a booked waybill is cancelled too).
    async fn cancel_orders(&self, ctx: &Context<'_>, input: OrderIdsInput) -> ApiResult<OrderBatchPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        batch(ctx, s.fulfilment.cancel(a, &ids(&input.order_ids)?).await).await
    }

    /// Queues the write-back again for shipped orders whose write-back FAILED.
    async fn retry_write_back(&self, ctx: &Context<'_>, input: OrderIdsInput) -> ApiResult<OrderBatchPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        batch(ctx, s.fulfilment.retry_write_back(a, &ids(&input.order_ids)?).await).await
    }
}
