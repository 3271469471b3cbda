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
        }
        let init = St { rx, last: None, pending: Some(first), done: false };
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
                        () = tokio::time::sleep(Duration::from_secs(1)) => {},
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
