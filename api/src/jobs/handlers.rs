//! The job kinds this binary runs, each a thin adapter from the job table to a domain
//! operation.

use futures_util::future::BoxFuture;
use serde_json::json;

use super::{JobContext, JobError, Runner};
use crate::{
    domain::orders::download::{self, DownloadError, DownloadPayload, DownloadProgress, ProgressSink},
    events::{DomainEvent, EventBus},
    state::Services,
};

pub fn register(runner: Runner, services: &Services) -> Runner {
    let s = services.clone();
    runner.register(download::JOB_KIND, move |ctx: JobContext| download_orders(s.clone(), ctx))
}

struct JobProgress<'a> {
    ctx: &'a JobContext,
    bus: EventBus,
}

impl ProgressSink for JobProgress<'_> {
    fn report<'a>(&'a self, p: &'a DownloadProgress) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            if let Err(e) = self.ctx.progress(json!(p)).await {
                tracing::warn!(error = %e, "could not record progress");
            }
            if let Some(org) = self.ctx.job.organization_id {
                self.bus.publish_all([DomainEvent {
                    organization_id: org,
                    action: "job.progress".into(),
                    entity_type: "Job".into(),
                    entity_id: Some(self.ctx.job.id),
                    at: chrono::Utc::now(),
                }]);
            }
        })
    }
}

async fn download_orders(s: Services, ctx: JobContext) -> Result<(), JobError> {
    let payload: DownloadPayload =
        serde_json::from_value(ctx.payload().clone()).map_err(|e| JobError::Permanent(format!("bad payload: {e}")))?;
    let sink = JobProgress { ctx: &ctx, bus: s.bus.clone() };
    match download::run(&s.db, &s.accounts, &payload, &sink).await {
        Ok(_) => Ok(()),
        Err(DownloadError::Retry(m)) => Err(JobError::Transient(m)),
        Err(DownloadError::Fail(m)) => Err(JobError::Permanent(m)),
    }
}
