//! The per-account download schedule: every account that has not synced within the
//! interval gets a download job (the job key keeps it to one per account however many
//! replicas run this).

use chrono::{Duration, Utc};
use entity::{
    account,
    enums::{AccountStatus, Platform},
};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter};

use super::download::{DownloadPayload, JOB_KIND};
use crate::{
    error::{DomainError, DomainResult},
    jobs::{NewJob, queue},
};

/// Default interval between scheduled downloads of an account.
pub const DEFAULT_INTERVAL_MINUTES: i64 = 15;

/// Enqueues downloads for accounts due; returns how many new jobs were created.
pub async fn enqueue_due(db: &DatabaseConnection, interval: Duration) -> DomainResult<usize> {
    let cutoff = Utc::now() - interval;
    let due = account::Entity::find()
        .filter(account::Column::Status.eq(AccountStatus::Active))
        .filter(account::Column::Platform.ne(Platform::Orangeconnex))
        .filter(
            Condition::any().add(account::Column::LastSyncedAt.is_null()).add(account::Column::LastSyncedAt.lt(cutoff)),
        )
        .all(db)
        .await?;
    let mut created = 0;
    for a in due {
        let payload =
            serde_json::to_value(DownloadPayload { account_id: a.id, since: None }).map_err(DomainError::internal)?;
        let (_, new) = queue::enqueue(
            db,
            NewJob::new(JOB_KIND, Some(a.organization_id), payload).key(format!("{JOB_KIND}:{}", a.id)),
        )
        .await?;
        created += usize::from(new);
    }
    Ok(created)
}
