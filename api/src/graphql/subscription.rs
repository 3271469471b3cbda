//! Subscriptions over graphql-ws. Streams end when the access token expires (the client
//! reconnects with a fresh one) and when the server shuts down.

use std::time::Duration;

use async_graphql::{Context, ID, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt, stream};
use tokio::sync::broadcast::error::RecvError;

use super::{
    accounts::Job,
    ids::{Kind, decode},
};
use super::{
    auth::types::node_kind,
    context::{actor, services},
    ids::encode,
};
use crate::{error::DomainError, events::DomainEvent};

/// A change in the caller's organization. Events are hints: refetch what you show.
#[derive(SimpleObject, Clone)]
pub struct Event {
    /// e.g. `user.created`; `events.lagged` when the client fell behind and should refetch.
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<ID>,
    pub at: DateTime<Utc>,
}

impl From<DomainEvent> for Event {
    fn from(e: DomainEvent) -> Self {
        let entity_id = e.entity_id.and_then(|id| node_kind(&e.entity_type).map(|k| encode(k, id)));
        Self { action: e.action, entity_type: e.entity_type, entity_id, at: e.at }
    }
}

/// The outcome of one order's push, as it finishes.
#[derive(SimpleObject, Clone)]
pub struct PushResult {
    pub order_id: ID,
    /// PUSHED or PUSH_FAILED.
    pub status: super::enums::FulfillmentStatus,
    pub tracking_number: Option<String>,
    pub waybill_id: Option<ID>,
    /// Why it failed (e.g. PROVIDER_REJECTED, DESTINATION_NOT_SERVED).
    pub code: Option<crate::error::UserErrorCode>,
    pub message: Option<String>,
    pub at: DateTime<Utc>,
}

fn push_result(e: &DomainEvent) -> Option<PushResult> {
    let status = match e.action.as_str() {
        "order.pushed" => entity::enums::FulfillmentStatus::Pushed,
        "order.push_failed" => entity::enums::FulfillmentStatus::PushFailed,
        _ => return None,
    };
    let data = e.data.as_deref();
    let text = |k: &str| data.and_then(|d| d.get(k)).and_then(|v| v.as_str()).map(str::to_owned);
    Some(PushResult {
        order_id: encode(Kind::Order, e.entity_id?),
        status: status.into(),
        tracking_number: text("trackingNumber"),
        waybill_id: text("waybillId").and_then(|w| uuid::Uuid::parse_str(&w).ok()).map(|w| encode(Kind::Waybill, w)),
        code: text("code").as_deref().and_then(crate::error::UserErrorCode::parse),
        message: text("message"),
        at: e.at,
    })
}

fn from_order(o: &entity::order::Model) -> Option<PushResult> {
    let status = match o.fulfillment_status {
        entity::enums::FulfillmentStatus::Pushed => entity::enums::FulfillmentStatus::Pushed,
        entity::enums::FulfillmentStatus::PushFailed => entity::enums::FulfillmentStatus::PushFailed,
        _ => return None,
    };
    Some(PushResult {
        order_id: encode(Kind::Order, o.id),
        status: status.into(),
        tracking_number: o.tracking_number.clone(),
        waybill_id: None,
        code: o.last_error_code.as_deref().and_then(crate::error::UserErrorCode::parse),
        message: o.last_operation_message.clone(),
        at: o.updated_at,
    })
}

#[derive(Default)]
pub struct Subscription;

#[Subscription]
impl Subscription {
    /// Change notifications for the caller's organization.
    async fn events(&self, ctx: &Context<'_>) -> Result<impl Stream<Item = Event> + use<>, async_graphql::Error> {
        let a = actor(ctx).map_err(async_graphql::Error::from)?;
        let s = services(ctx).map_err(async_graphql::Error::from)?;
        let tenant = a.tenant().id();
        let rx = s.bus.subscribe();
        let events = stream::unfold(rx, move |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok(e) if e.organization_id == tenant => return Some((Event::from(e), rx)),
                    Ok(_) => continue,
                    Err(RecvError::Lagged(_)) => {
                        let lagged = Event {
                            action: "events.lagged".into(),
                            entity_type: "Event".into(),
                            entity_id: None,
                            at: Utc::now(),
                        };
                        return Some((lagged, rx));
                    }
                    Err(RecvError::Closed) => return None,
                }
            }
        });
        let until_expiry = match a.expires_at {
            Some(exp) => Duration::from_secs(u64::try_from(exp - Utc::now().timestamp()).unwrap_or(0)),
            None => Duration::from_secs(u64::MAX / 4),
        };
        let shutdown = s.shutdown.clone().cancelled_owned();
        Ok(events.take_until(tokio::time::sleep(until_expiry)).take_until(shutdown))
    }

    /// One event per order as its push finishes (success with the tracking number, or
    /// failure with code and message), for the given orders (at most 10,000) or all of the
    /// organization's. Given orders that are already PUSHED or PUSH_FAILED when the
    /// subscription starts are sent first (so a result that beat the subscription is not
    /// missed); if the client falls behind, the given orders are re-read from the
    /// database. A result may therefore arrive twice, never not at all.
    async fn push_results(
        &self,
        ctx: &Context<'_>,
        order_ids: Option<Vec<ID>>,
    ) -> Result<impl Stream<Item = PushResult> + use<>, async_graphql::Error> {
        let a = actor(ctx).map_err(async_graphql::Error::from)?;
        let s = services(ctx).map_err(async_graphql::Error::from)?.clone();
        let tenant = a.tenant();
        let wanted: Option<std::collections::HashSet<uuid::Uuid>> = match order_ids {
            Some(ids) => Some(
                ids.iter()
                    .map(|id| decode(Kind::Order, id))
                    .collect::<Result<_, _>>()
                    .map_err(|e| async_graphql::Error::from(super::errors::ApiError::from(e)))?,
            ),
            None => None,
        };
        if wanted.as_ref().is_some_and(|w| w.len() > 10_000) {
            return Err(
                super::errors::ApiError::from(DomainError::bad_input("orderIds", "at most 10000 orders")).into()
            );
        }
        struct St {
            rx: tokio::sync::broadcast::Receiver<DomainEvent>,
            queue: std::collections::VecDeque<PushResult>,
            since: DateTime<Utc>,
        }
        let rx = s.bus.subscribe();
        let since = Utc::now();
        // Subscribed first, then read: a result is either in the bus or in this snapshot.
        let mut queue = std::collections::VecDeque::new();
        if let Some(w) = &wanted {
            let ids: Vec<uuid::Uuid> = w.iter().copied().collect();
            for chunk in ids.chunks(500) {
                let orders = s
                    .orders
                    .by_ids(tenant, chunk)
                    .await
                    .map_err(|e| async_graphql::Error::from(super::errors::ApiError::from(e)))?;
                queue.extend(orders.iter().filter_map(from_order));
            }
        }
        let init = St { rx, queue, since };
        let stream = stream::unfold(init, move |mut st| {
            let s = s.clone();
            let wanted = wanted.clone();
            async move {
                loop {
                    if let Some(r) = st.queue.pop_front() {
                        return Some((r, st));
                    }
                    match st.rx.recv().await {
                        Ok(e) if e.organization_id == tenant.id() => {
                            if wanted.as_ref().is_some_and(|w| !e.entity_id.is_some_and(|id| w.contains(&id))) {
                                continue;
                            }
                            if let Some(r) = push_result(&e) {
                                return Some((r, st));
                            }
                        }
                        Ok(_) => continue,
                        Err(RecvError::Lagged(_)) => {
                            // Missed events: re-read the watched orders that finished since
                            // the subscription began (duplicates are possible, losses not).
                            if let Some(w) = &wanted {
                                let ids: Vec<uuid::Uuid> = w.iter().copied().collect();
                                for chunk in ids.chunks(500) {
                                    match s.orders.by_ids(tenant, chunk).await {
                                        Ok(orders) => st.queue.extend(
                                            orders.iter().filter(|o| o.updated_at >= st.since).filter_map(from_order),
                                        ),
                                        Err(e) => tracing::warn!(error = %e, "pushResults could not re-read orders"),
                                    }
                                }
                            }
                        }
                        Err(RecvError::Closed) => return None,
                    }
                }
            }
        });
        let until_expiry = match a.expires_at {
            Some(exp) => Duration::from_secs(u64::try_from(exp - Utc::now().timestamp()).unwrap_or(0)),
            None => Duration::from_secs(u64::MAX / 4),
        };
        let shutdown = services(ctx).map_err(async_graphql::Error::from)?.shutdown.clone().cancelled_owned();
        Ok(stream.take_until(tokio::time::sleep(until_expiry)).take_until(shutdown))
    }

    /// A job's state as it runs (downloads, batch pushes, syncs): the current state
    /// first, then every change, ending after the job finishes.
    async fn job_progress(
        &self,
        ctx: &Context<'_>,
        job_id: ID,
    ) -> Result<impl Stream<Item = Job> + use<>, async_graphql::Error> {
        let a = actor(ctx).map_err(async_graphql::Error::from)?;
        let s = services(ctx).map_err(async_graphql::Error::from)?.clone();
        let tenant = a.tenant();
        let id =
            decode(Kind::Job, &job_id).map_err(|e| async_graphql::Error::from(super::errors::ApiError::from(e)))?;
        let first = s
            .orders
            .job(tenant, id)
            .await
            .map_err(|e: DomainError| async_graphql::Error::from(super::errors::ApiError::from(e)))?;
        let rx = s.bus.subscribe();
        let shutdown = s.shutdown.clone();
        struct St {
            rx: tokio::sync::broadcast::Receiver<DomainEvent>,
            last: Option<(chrono::DateTime<Utc>, entity::enums::JobStatus)>,
            pending: Option<entity::job::Model>,
            done: bool,
            // One ticker for the stream: unrelated bus traffic must not keep postponing it.
            tick: tokio::time::Interval,
        }
        let init = St {
            rx,
            last: None,
            pending: Some(first),
            done: false,
            tick: tokio::time::interval(Duration::from_secs(1)),
        };
        let stream = stream::unfold(init, move |mut st| {
            let s = s.clone();
            async move {
                if st.done {
                    return None;
                }
                loop {
                    if let Some(job) = st.pending.take() {
                        let key = (job.updated_at, job.status);
                        if st.last != Some(key) {
                            st.last = Some(key);
                            st.done = matches!(
                                job.status,
                                entity::enums::JobStatus::Succeeded
                                    | entity::enums::JobStatus::Failed
                                    | entity::enums::JobStatus::Cancelled
                            );
                            return Some((Job(job), st));
                        }
                    }
                    // Wake on this job's progress events, or every second (completion).
                    tokio::select! {
                        ev = st.rx.recv() => match ev {
                            Ok(e) if e.entity_id == Some(id) => {}
                            Ok(_) => continue,
                            Err(RecvError::Lagged(_)) => {}
                            Err(RecvError::Closed) => return None,
                        },
                        _ = st.tick.tick() => {},
                    }
                    match s.orders.job(tenant, id).await {
                        Ok(j) => st.pending = Some(j),
                        // The job is gone (its account was deleted): end the stream.
                        Err(DomainError::NotFound) => return None,
                        Err(_) => {}
                    }
                }
            }
        });
        Ok(stream.take_until(shutdown.cancelled_owned()))
    }
}
