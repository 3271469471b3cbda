//! The job kinds this binary runs, each a thin adapter from the job table to a domain
//! operation.

use futures_util::future::BoxFuture;
use serde_json::json;

use super::{JobContext, JobError, Runner};
use crate::{
    domain::{
        fulfilment::{
            push::{self, PushPayload, PushProgress},
            writeback::{self, WriteBackPayload},
        },
        orders::download::{self, DownloadError, DownloadPayload, DownloadProgress, ProgressSink},
        warehouse::sync::{self as warehouse_sync, SyncPayload},
    },
    events::{DomainEvent, EventBus},
    state::Services,
};

pub fn register(runner: Runner, services: &Services) -> Runner {
    let (s1, s2, s3, s4) = (services.clone(), services.clone(), services.clone(), services.clone());
    runner
        .register(download::JOB_KIND, move |ctx: JobContext| download_orders(s1.clone(), ctx))
        .register(push::JOB_KIND, move |ctx: JobContext| push_orders(s2.clone(), ctx))
        .register(writeback::JOB_KIND, move |ctx: JobContext| write_back(s3.clone(), ctx))
        .register(warehouse_sync::JOB_KIND, move |ctx: JobContext| sync_warehouse(s4.clone(), ctx))
}

fn payload<T: serde::de::DeserializeOwned>(ctx: &JobContext) -> Result<T, JobError> {
    serde_json::from_value(ctx.payload().clone()).map_err(|e| JobError::Permanent(format!("bad payload: {e}")))
}

/// Records progress on the job and tells `jobProgress` subscribers.
async fn report(ctx: &JobContext, bus: &EventBus, progress: serde_json::Value) {
    if let Err(e) = ctx.progress(progress).await {
        tracing::warn!(error = %e, "could not record progress");
    }
    if let Some(org) = ctx.job.organization_id {
        bus.publish_all([DomainEvent {
            organization_id: org,
            action: "job.progress".into(),
            entity_type: "Job".into(),
            entity_id: Some(ctx.job.id),
            at: chrono::Utc::now(),
            data: None,
        }]);
    }
}

struct JobProgress<'a> {
    ctx: &'a JobContext,
    bus: EventBus,
}

impl ProgressSink for JobProgress<'_> {
    fn report<'a>(&'a self, p: &'a DownloadProgress) -> BoxFuture<'a, ()> {
        Box::pin(report(self.ctx, &self.bus, json!(p)))
    }
}

async fn download_orders(s: Services, ctx: JobContext) -> Result<(), JobError> {
    let payload: DownloadPayload = payload(&ctx)?;
    let sink = JobProgress { ctx: &ctx, bus: s.bus.clone() };
    match download::run(&s.db, &s.accounts, &payload, &sink).await {
        Ok(_) => Ok(()),
        Err(DownloadError::Retry(m)) => Err(JobError::Transient(m)),
        Err(DownloadError::Fail(m)) => Err(JobError::Permanent(m)),
    }
}

async fn push_orders(s: Services, ctx: JobContext) -> Result<(), JobError> {
    let p: PushPayload = payload(&ctx)?;
    let org = ctx.job.organization_id.ok_or_else(|| JobError::Permanent("push job without a tenant".into()))?;
    if ctx.is_exhausted() {
        push::give_up(&s.db, &s.bus, org, &p.order_ids, "the push job failed repeatedly").await?;
        return Err(JobError::Permanent("gave up after repeated crashes".into()));
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<PushProgress>();
    let run = push::run_job(&s.db, &s.bus, &s.fulfilment.providers, org, &p, move |progress| {
        let _ = tx.send(progress);
        Box::pin(async {})
    });
    let ctx_ref = &ctx;
    let bus = s.bus.clone();
    let reporter = async move {
        while let Some(progress) = rx.recv().await {
            report(ctx_ref, &bus, json!(progress)).await;
        }
    };
    let (result, ()) = tokio::join!(run, reporter);
    match result {
        Ok(_) => Ok(()),
        Err(e) => {
            let err = JobError::from(e);
            let last = ctx.is_last_attempt() || matches!(err, JobError::Permanent(_));
            if last {
                // Nobody is left to finish these: make them pushable again. The cause is
                // logged by the runner, not shown to users.
                if let Err(e) = push::give_up(&s.db, &s.bus, org, &p.order_ids, "an internal error").await {
                    tracing::error!(error = %e, "could not release orders of a failed push job");
                }
            }
            Err(err)
        }
    }
}

async fn write_back(s: Services, ctx: JobContext) -> Result<(), JobError> {
    let p: WriteBackPayload = payload(&ctx)?;
    let attempt = writeback::AttemptNo { first: ctx.job.attempts <= 1, last: ctx.is_last_attempt() };
    match writeback::run(&s.db, &s.bus, &s.accounts, &s.carriers, ctx.job.id, p.order_id, attempt).await? {
        writeback::Outcome::Done => Ok(()),
        writeback::Outcome::Retry(m) => Err(JobError::Transient(m)),
        writeback::Outcome::Failed(m) => Err(JobError::Permanent(m)),
    }
}

async fn sync_warehouse(s: Services, ctx: JobContext) -> Result<(), JobError> {
    let p: SyncPayload = payload(&ctx)?;
    s.warehouse.run_sync_job(p.account_id).await?;
    Ok(())
}
