//! The job table's primitives: enqueue (inside the caller's transaction), claim, renew,
//! complete, fail. Claiming is one `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)
//! RETURNING *` on PostgreSQL; on SQLite the same single statement runs under SQLite's
//! single-writer lock (the lock clause is not emitted there), which is equally exclusive.

use chrono::{DateTime, Duration, Utc};
use entity::{enums::JobStatus, job};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set,
    sea_query::{Expr, ExprTrait, LockBehavior, LockType, OnConflict},
};
use serde_json::Value;
use uuid::Uuid;

use crate::error::DomainResult;

pub type JobRecord = job::Model;

#[derive(Debug, Clone)]
pub struct NewJob {
    pub organization_id: Option<Uuid>,
    pub kind: &'static str,
    /// De-duplication key: while a job with this key is queued or running, enqueueing
    /// again returns the existing job instead of adding one.
    pub job_key: Option<String>,
    pub payload: Value,
    pub run_at: Option<DateTime<Utc>>,
    pub max_attempts: i32,
    pub priority: i32,
}

impl NewJob {
    pub fn new(kind: &'static str, organization_id: Option<Uuid>, payload: Value) -> Self {
        Self { organization_id, kind, job_key: None, payload, run_at: None, max_attempts: 10, priority: 0 }
    }
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.job_key = Some(key.into());
        self
    }
}

fn row(id: Uuid, new: NewJob, now: DateTime<Utc>) -> job::ActiveModel {
    job::ActiveModel {
        id: Set(id),
        organization_id: Set(new.organization_id),
        kind: Set(new.kind.to_owned()),
        job_key: Set(new.job_key),
        payload: Set(new.payload),
        status: Set(JobStatus::Queued),
        priority: Set(new.priority),
        run_at: Set(new.run_at.unwrap_or(now)),
        attempts: Set(0),
        max_attempts: Set(new.max_attempts),
        locked_by: Set(None),
        locked_until: Set(None),
        last_error: Set(None),
        progress: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        finished_at: Set(None),
    }
}

/// Enqueues a job on `db` (pass the business transaction). Returns the job and whether
/// it is new (false: an active job with the same key already existed).
pub async fn enqueue(db: &impl ConnectionTrait, new: NewJob) -> DomainResult<(JobRecord, bool)> {
    let id = Uuid::now_v7();
    let key = new.job_key.clone();
    let model = row(id, new, Utc::now());
    // `ON CONFLICT (job_key) DO NOTHING`: concurrent enqueuers (two tabs, two replicas'
    // schedulers) never fail; the loser gets the existing job.
    job::Entity::insert(model)
        .on_conflict(OnConflict::column(job::Column::JobKey).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    let stored = job::Entity::find_by_id(id).one(db).await?;
    if let Some(j) = stored {
        return Ok((j, true));
    }
    let existing = match key {
        Some(k) => job::Entity::find().filter(job::Column::JobKey.eq(k)).one(db).await?,
        None => None,
    };
    existing
        .map(|j| (j, false))
        .ok_or_else(|| crate::error::DomainError::Conflict("job vanished while enqueueing".into()))
}

/// Enqueues many jobs with multi-row inserts (`ON CONFLICT (job_key) DO NOTHING`: a key
/// already queued or running keeps its job). For batch operations; no rows are returned.
pub async fn enqueue_many(db: &impl ConnectionTrait, jobs: Vec<NewJob>) -> DomainResult<()> {
    let now = Utc::now();
    for chunk in jobs.chunks(500) {
        let rows = chunk.iter().cloned().map(|new| row(Uuid::now_v7(), new, now));
        job::Entity::insert_many(rows)
            .on_conflict(OnConflict::column(job::Column::JobKey).do_nothing().to_owned())
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Claims up to `limit` due jobs of the given kinds for `worker`, leasing them until
/// `now + lease`. Jobs whose lease expired (a crashed worker) are due again.
pub async fn claim(
    db: &impl ConnectionTrait,
    worker: &str,
    kinds: &[&str],
    limit: u64,
    lease: Duration,
) -> DomainResult<Vec<JobRecord>> {
    let now = Utc::now();
    let due = job::Entity::find()
        .select_only()
        .column(job::Column::Id)
        .filter(job::Column::Kind.is_in(kinds.iter().copied()))
        .filter(job::Column::RunAt.lte(now))
        // Queued jobs with attempts left; and jobs whose worker died (lease expired), even on
        // their last attempt: they run once more with `attempts > max_attempts`, so the
        // handler can clean up (release orders, record the failure). A job that crashed its
        // worker that often is not reclaimed again.
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(job::Column::Status.eq(JobStatus::Queued))
                        .add(Expr::col(job::Column::Attempts).lt(Expr::col(job::Column::MaxAttempts))),
                )
                .add(
                    Condition::all()
                        .add(job::Column::Status.eq(JobStatus::Running))
                        .add(job::Column::LockedUntil.lt(now))
                        .add(Expr::col(job::Column::Attempts).lte(Expr::col(job::Column::MaxAttempts))),
                ),
        )
        .order_by_desc(job::Column::Priority)
        .order_by_asc(job::Column::RunAt)
        .limit(limit)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .into_query();
    let claimed = job::Entity::update_many()
        .col_expr(job::Column::Status, Expr::value(JobStatus::Running))
        .col_expr(job::Column::LockedBy, Expr::value(worker))
        .col_expr(job::Column::LockedUntil, Expr::value(now + lease))
        .col_expr(job::Column::Attempts, Expr::col(job::Column::Attempts).add(1))
        .col_expr(job::Column::UpdatedAt, Expr::value(now))
        .filter(job::Column::Id.in_subquery(due))
        .exec_with_returning(db)
        .await?;
    Ok(claimed)
}

/// Extends the lease of a job this worker holds. False when the lease was lost.
pub async fn renew(db: &impl ConnectionTrait, id: Uuid, worker: &str, lease: Duration) -> DomainResult<bool> {
    let now = Utc::now();
    let res = job::Entity::update_many()
        .col_expr(job::Column::LockedUntil, Expr::value(now + lease))
        .filter(job::Column::Id.eq(id))
        .filter(job::Column::LockedBy.eq(worker))
        .filter(job::Column::Status.eq(JobStatus::Running))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Records progress (a small JSON document) on a running job.
pub async fn set_progress(db: &impl ConnectionTrait, id: Uuid, progress: Value) -> DomainResult<()> {
    job::Entity::update_many()
        .col_expr(job::Column::Progress, Expr::value(progress))
        .col_expr(job::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(job::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Frees a running job's de-duplication key inside the caller's transaction. For handlers
/// whose business outcome is final before the runner records the job's end: work enqueued
/// after that commit (a retry the user asked for) gets a job of its own instead of being
/// folded into this one, which is about to finish without doing it.
pub async fn release_key(db: &impl ConnectionTrait, id: Uuid) -> DomainResult<()> {
    job::Entity::update_many()
        .col_expr(job::Column::JobKey, Expr::value(Option::<String>::None))
        .filter(job::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Terminal success. The key is released so the same work can be enqueued again later.
pub async fn complete(db: &impl ConnectionTrait, id: Uuid, worker: &str) -> DomainResult<bool> {
    finish(db, id, worker, JobStatus::Succeeded, None).await
}

/// Terminal failure (permanent error, or attempts exhausted).
pub async fn fail(db: &impl ConnectionTrait, id: Uuid, worker: &str, error: &str) -> DomainResult<bool> {
    finish(db, id, worker, JobStatus::Failed, Some(error)).await
}

async fn finish(
    db: &impl ConnectionTrait,
    id: Uuid,
    worker: &str,
    status: JobStatus,
    error: Option<&str>,
) -> DomainResult<bool> {
    let now = Utc::now();
    let res = job::Entity::update_many()
        .col_expr(job::Column::Status, Expr::value(status))
        .col_expr(job::Column::JobKey, Expr::value(Option::<String>::None))
        .col_expr(job::Column::LockedBy, Expr::value(Option::<String>::None))
        .col_expr(job::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(job::Column::LastError, Expr::value(error.map(str::to_owned)))
        .col_expr(job::Column::FinishedAt, Expr::value(now))
        .col_expr(job::Column::UpdatedAt, Expr::value(now))
        .filter(job::Column::Id.eq(id))
        .filter(job::Column::LockedBy.eq(worker))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Transient failure: back to the queue at `run_at`, keeping the error for display.
pub async fn retry_at(
    db: &impl ConnectionTrait,
    id: Uuid,
    worker: &str,
    run_at: DateTime<Utc>,
    error: &str,
) -> DomainResult<bool> {
    let now = Utc::now();
    let res = job::Entity::update_many()
        .col_expr(job::Column::Status, Expr::value(JobStatus::Queued))
        .col_expr(job::Column::RunAt, Expr::value(run_at))
        .col_expr(job::Column::LockedBy, Expr::value(Option::<String>::None))
        .col_expr(job::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(job::Column::LastError, Expr::value(error.to_owned()))
        .col_expr(job::Column::UpdatedAt, Expr::value(now))
        .filter(job::Column::Id.eq(id))
        .filter(job::Column::LockedBy.eq(worker))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Full-jitter exponential backoff: uniform in [0, min(cap, base·2^attempt)], at least 1 s.
pub fn backoff(attempt: i32) -> Duration {
    let base_ms: i64 = 1_000;
    let cap_ms: i64 = 15 * 60 * 1_000;
    let exp = std::cmp::min(base_ms.saturating_mul(1i64 << attempt.clamp(0, 20)), cap_ms);
    let jitter = rand::random_range(0..=exp);
    Duration::milliseconds(std::cmp::max(jitter, 1_000))
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn backoff_is_bounded_and_jittered() {
        let samples: Vec<_> = (0..50).map(|_| backoff(6).num_milliseconds()).collect();
        assert!(samples.iter().all(|&ms| (1_000..=64_000).contains(&ms)));
        assert!(samples.iter().any(|&ms| ms != samples[0]), "jitter");
        assert!(backoff(40).num_milliseconds() <= 15 * 60 * 1_000);
    }
}
