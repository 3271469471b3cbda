//! The durable job table: de-duplication, exclusive claiming under concurrency, lease
//! expiry after a crashed worker, retry with backoff, permanent failure.

use std::{
    collections::HashSet,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use api::jobs::{JobContext, JobError, NewJob, Runner, queue};
use chrono::Duration as ChronoDuration;
use entity::{enums::JobStatus, job};
use sea_orm::{DatabaseConnection, EntityTrait};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::db_conn_tests;

db_conn_tests!(
    job_key_dedupes_while_active,
    concurrent_claims_are_exclusive,
    expired_lease_is_reclaimed,
    runner_retries_and_fails
);

async fn job_key_dedupes_while_active(db: DatabaseConnection) {
    let (a, new_a) = queue::enqueue(&db, NewJob::new("t", None, json!({ "n": 1 })).key("k1")).await.unwrap();
    let (b, new_b) = queue::enqueue(&db, NewJob::new("t", None, json!({ "n": 2 })).key("k1")).await.unwrap();
    assert!(new_a && !new_b);
    assert_eq!(a.id, b.id);
    let claimed = queue::claim(&db, "w", &["t"], 10, ChronoDuration::seconds(30)).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(queue::complete(&db, a.id, "w").await.unwrap());
    // Finished: the key is free again.
    let (c, new_c) = queue::enqueue(&db, NewJob::new("t", None, json!({})).key("k1")).await.unwrap();
    assert!(new_c);
    assert_ne!(c.id, a.id);
}

async fn concurrent_claims_are_exclusive(db: DatabaseConnection) {
    for i in 0..60 {
        queue::enqueue(&db, NewJob::new("c", None, json!({ "i": i }))).await.unwrap();
    }
    let mut tasks = Vec::new();
    for w in 0..4 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = queue::claim(&db, &format!("w{w}"), &["c"], 5, ChronoDuration::seconds(60)).await.unwrap();
                if got.is_empty() {
                    break;
                }
                mine.extend(got.into_iter().map(|j| j.id));
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let unique: HashSet<_> = all.iter().collect();
    assert_eq!(all.len(), 60, "every job claimed");
    assert_eq!(unique.len(), 60, "no job claimed twice");
}

async fn expired_lease_is_reclaimed(db: DatabaseConnection) {
    let (j, _) = queue::enqueue(&db, NewJob::new("l", None, json!({}))).await.unwrap();
    let first = queue::claim(&db, "crashed", &["l"], 1, ChronoDuration::milliseconds(300)).await.unwrap();
    assert_eq!(first.len(), 1);
    // Leased: nobody else gets it.
    assert!(queue::claim(&db, "other", &["l"], 1, ChronoDuration::seconds(30)).await.unwrap().is_empty());
    tokio::time::sleep(Duration::from_millis(450)).await;
    // The worker "died" (kill -9): the lease lapses and the job is claimed again.
    let second = queue::claim(&db, "other", &["l"], 1, ChronoDuration::seconds(30)).await.unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].id, j.id);
    assert_eq!(second[0].attempts, 2);
    // The old worker can no longer record an outcome.
    assert!(!queue::complete(&db, j.id, "crashed").await.unwrap());
    assert!(queue::complete(&db, j.id, "other").await.unwrap());
}

async fn runner_retries_and_fails(db: DatabaseConnection) {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let runner = Runner::new(db.clone())
        .poll_interval(Duration::from_millis(50))
        .register("flaky", move |ctx: JobContext| {
            let c = c.clone();
            async move {
                c.fetch_add(1, Ordering::SeqCst);
                ctx.progress(json!({ "step": 1 })).await?;
                Err(JobError::Transient("upstream 503".into()))
            }
        })
        .register("broken", |_ctx: JobContext| async { Err(JobError::Permanent("malformed payload".into())) })
        .register("fine", |_ctx: JobContext| async { Ok(()) });
    let (flaky, _) = queue::enqueue(&db, NewJob::new("flaky", None, json!({}))).await.unwrap();
    let (broken, _) = queue::enqueue(&db, NewJob::new("broken", None, json!({}))).await.unwrap();
    let (fine, _) = queue::enqueue(&db, NewJob::new("fine", None, json!({}))).await.unwrap();
    let stop = CancellationToken::new();
    let handle = tokio::spawn(runner.run(stop.clone()));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let f = job::Entity::find_by_id(fine.id).one(&db).await.unwrap().unwrap();
        let b = job::Entity::find_by_id(broken.id).one(&db).await.unwrap().unwrap();
        let x = job::Entity::find_by_id(flaky.id).one(&db).await.unwrap().unwrap();
        if f.status == JobStatus::Succeeded && b.status == JobStatus::Failed && x.last_error.is_some() {
            assert_eq!(b.last_error.as_deref(), Some("malformed payload"));
            // The transient failure went back to the queue with a backoff, not straight to FAILED.
            assert_eq!(x.status, JobStatus::Queued);
            assert!(x.run_at > chrono::Utc::now() - ChronoDuration::milliseconds(100));
            assert_eq!(x.attempts, 1);
            assert_eq!(x.progress, Some(json!({ "step": 1 })));
            break;
        }
        assert!(std::time::Instant::now() < deadline, "jobs did not settle: {f:?} {b:?} {x:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.cancel();
    handle.await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1, "not retried before its backoff");
}
