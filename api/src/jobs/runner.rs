//! The worker loop: claims due jobs for the registered handlers, runs each with a lease
//! heartbeat, and records the outcome. Stops claiming on shutdown and lets running jobs
//! finish (or their leases lapse: correctness never depends on a clean stop).

use std::{collections::HashMap, future::Future, pin::Pin, sync::Arc, time::Duration as StdDuration};

use chrono::Duration;
use sea_orm::DatabaseConnection;
use serde_json::Value;
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use uuid::Uuid;

use super::queue::{self, JobRecord};
use crate::error::DomainError;

/// How a handler failed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth retrying later (network, 5xx, rate limit).
    #[error("{0}")]
    Transient(String),
    /// Retrying cannot help (malformed payload, revoked authorization).
    #[error("{0}")]
    Permanent(String),
}

impl From<DomainError> for JobError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Internal(cause) => JobError::Transient(cause.to_string()),
            // A concurrent change (lost race, deadlock victim): worth another go.
            DomainError::Conflict(m) => JobError::Transient(m),
            other => JobError::Permanent(other.to_string()),
        }
    }
}

/// What a handler gets: its job, and a way to report progress.
pub struct JobContext {
    pub job: JobRecord,
    db: DatabaseConnection,
}

impl JobContext {
    pub fn payload(&self) -> &Value {
        &self.job.payload
    }
    /// True on the last attempt, and on the extra run after a worker died during it:
    /// handlers record a final failure instead of asking for a retry.
    pub fn is_last_attempt(&self) -> bool {
        self.job.attempts >= self.job.max_attempts
    }
    /// True on the extra run after a worker died during the last attempt: only clean up.
    pub fn is_exhausted(&self) -> bool {
        self.job.attempts > self.job.max_attempts
    }
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }
    pub async fn progress(&self, progress: Value) -> Result<(), JobError> {
        queue::set_progress(&self.db, self.job.id, progress).await.map_err(JobError::from)
    }
}

pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<(), JobError>> + Send>>;

/// A job kind's implementation.
pub trait Handler: Send + Sync + 'static {
    fn run(&self, ctx: JobContext) -> HandlerFuture;
}

impl<F, Fut> Handler for F
where
    F: Fn(JobContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), JobError>> + Send + 'static,
{
    fn run(&self, ctx: JobContext) -> HandlerFuture {
        Box::pin(self(ctx))
    }
}

#[derive(Clone)]
pub struct Runner {
    db: DatabaseConnection,
    worker_id: String,
    handlers: Arc<HashMap<&'static str, Arc<dyn Handler>>>,
    lease: Duration,
    poll: StdDuration,
    concurrency: usize,
}

impl Runner {
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            worker_id: format!("worker-{}", Uuid::now_v7().simple()),
            handlers: Arc::new(HashMap::new()),
            lease: Duration::seconds(60),
            poll: StdDuration::from_millis(500),
            concurrency: 4,
        }
    }

    pub fn register(mut self, kind: &'static str, handler: impl Handler) -> Self {
        let mut map: HashMap<_, _> = self.handlers.iter().map(|(k, v)| (*k, v.clone())).collect();
        map.insert(kind, Arc::new(handler));
        self.handlers = Arc::new(map);
        self
    }

    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    pub fn poll_interval(mut self, poll: StdDuration) -> Self {
        self.poll = poll;
        self
    }

    pub fn worker_id(&self) -> &str {
        &self.worker_id
    }

    /// Claims and runs jobs until `shutdown` is cancelled; then waits for running jobs.
    pub async fn run(self, shutdown: CancellationToken) {
        let tasks = TaskTracker::new();
        let kinds: Vec<&'static str> = self.handlers.keys().copied().collect();
        let slots = Arc::new(tokio::sync::Semaphore::new(self.concurrency));
        while !shutdown.is_cancelled() {
            let free = slots.available_permits();
            let claimed = if free == 0 {
                Vec::new()
            } else {
                match queue::claim(&self.db, &self.worker_id, &kinds, free as u64, self.lease).await {
                    Ok(jobs) => jobs,
                    Err(e) => {
                        tracing::warn!(error = %e, "claiming jobs failed");
                        Vec::new()
                    }
                }
            };
            let idle = claimed.is_empty();
            for job in claimed {
                let Ok(permit) = slots.clone().acquire_owned().await else {
                    break;
                };
                let this = self.clone();
                tasks.spawn(async move {
                    this.execute(job).await;
                    drop(permit);
                });
            }
            if idle {
                tokio::select! {
                    () = tokio::time::sleep(self.poll) => {},
                    () = shutdown.cancelled() => {},
                }
            }
        }
        tasks.close();
        tasks.wait().await;
    }

    /// Runs one claimed job to an outcome.
    pub async fn execute(&self, job: JobRecord) {
        let Some(handler) = self.handlers.get(job.kind.as_str()).cloned() else {
            let _ = queue::fail(&self.db, job.id, &self.worker_id, "no handler for this job kind").await;
            return;
        };
        let id = job.id;
        let attempts = job.attempts;
        let max_attempts = job.max_attempts;
        // Aborted when `execute` ends in any way (a panicking handler included), so a
        // dead job never keeps its lease alive.
        struct AbortOnDrop(tokio::task::JoinHandle<()>);
        impl Drop for AbortOnDrop {
            fn drop(&mut self) {
                self.0.abort();
            }
        }
        let lease_lost = CancellationToken::new();
        let heartbeat = {
            let lost = lease_lost.clone();
            let db = self.db.clone();
            let worker = self.worker_id.clone();
            let lease = self.lease;
            let every = StdDuration::from_millis(u64::try_from(lease.num_milliseconds() / 3).unwrap_or(1_000).max(100));
            AbortOnDrop(tokio::spawn(async move {
                loop {
                    tokio::time::sleep(every).await;
                    match queue::renew(&db, id, &worker, lease).await {
                        Ok(true) => {}
                        Ok(false) => {
                            lost.cancel();
                            break;
                        }
                        Err(e) => tracing::warn!(job = %id, error = %e, "lease renewal failed"),
                    }
                }
            }))
        };
        let span = tracing::info_span!("job", job = %id, kind = %job.kind, attempt = attempts);
        let outcome = {
            let _enter = span.enter();
            tracing::info!("job started");
            drop(_enter);
            // Another worker owns the job once our lease is gone: stop working on it.
            tokio::select! {
                r = handler.run(JobContext { job, db: self.db.clone() }) => r,
                () = lease_lost.cancelled() => Err(JobError::Transient("lease lost".into())),
            }
        };
        drop(heartbeat);
        let recorded = match &outcome {
            Ok(()) => queue::complete(&self.db, id, &self.worker_id).await,
            Err(JobError::Permanent(msg)) => queue::fail(&self.db, id, &self.worker_id, msg).await,
            Err(JobError::Transient(msg)) if attempts >= max_attempts => {
                queue::fail(&self.db, id, &self.worker_id, &format!("gave up after {attempts} attempts: {msg}")).await
            }
            Err(JobError::Transient(msg)) => {
                let at = chrono::Utc::now() + queue::backoff(attempts);
                queue::retry_at(&self.db, id, &self.worker_id, at, msg).await
            }
        };
        match (outcome, recorded) {
            (Ok(()), Ok(true)) => tracing::info!(job = %id, "job succeeded"),
            (Err(e), Ok(true)) => tracing::warn!(job = %id, error = %e, "job failed"),
            (_, Ok(false)) => {
                tracing::warn!(job = %id, "lease lost before the outcome was recorded; another worker owns the job")
            }
            (_, Err(e)) => {
                tracing::error!(job = %id, error = %e, "recording the job outcome failed; the lease will expire and it will rerun")
            }
        }
    }
}
