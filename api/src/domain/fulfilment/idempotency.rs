//! Idempotency keys for batch mutations (Stripe's semantics): the first request with a
//! key stores its response; the same key with the same input replays it; the same key
//! with different input is a CONFLICT. The key row is inserted in the mutation's own
//! transaction, so a concurrent request with the same key waits on the unique index
//! and then sees the committed response. Keys expire after 24 hours.

use chrono::{Duration, Utc};
use entity::idempotency_key;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, sea_query::OnConflict};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::{DomainError, DomainResult};

pub enum Claim {
    /// First use: run the operation, then [`store`] its response.
    Fresh(Uuid),
    /// Seen before with the same input: this was the response.
    Replay(serde_json::Value),
}

pub fn request_hash(scope: &str, ids: &[Uuid]) -> String {
    let mut sorted = ids.to_vec();
    sorted.sort();
    let mut h = Sha256::new();
    h.update(scope.as_bytes());
    for id in sorted {
        h.update(id.as_bytes());
    }
    hex::encode(h.finalize())
}

pub async fn claim(db: &impl ConnectionTrait, org: Uuid, scope: &str, key: &str, hash: &str) -> DomainResult<Claim> {
    let key = key.trim();
    if key.is_empty() || key.len() > 200 {
        return Err(DomainError::bad_input("idempotencyKey", "use 1-200 characters"));
    }
    let now = Utc::now();
    // Expired keys of this tenant and scope go first, so an old key can be reused.
    idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::OrganizationId.eq(org))
        .filter(idempotency_key::Column::Scope.eq(scope))
        .filter(idempotency_key::Column::Key.eq(key))
        .filter(idempotency_key::Column::ExpiresAt.lt(now))
        .exec(db)
        .await?;
    let id = Uuid::now_v7();
    idempotency_key::Entity::insert(idempotency_key::ActiveModel {
        id: Set(id),
        organization_id: Set(org),
        scope: Set(scope.to_owned()),
        key: Set(key.to_owned()),
        request_hash: Set(hash.to_owned()),
        response: Set(None),
        created_at: Set(now),
        expires_at: Set(now + Duration::hours(24)),
    })
    .on_conflict(
        OnConflict::columns([
            idempotency_key::Column::OrganizationId,
            idempotency_key::Column::Scope,
            idempotency_key::Column::Key,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    let row = idempotency_key::Entity::find()
        .filter(idempotency_key::Column::OrganizationId.eq(org))
        .filter(idempotency_key::Column::Scope.eq(scope))
        .filter(idempotency_key::Column::Key.eq(key))
        .one(db)
        .await?
        .ok_or_else(|| DomainError::Conflict("idempotency key vanished; retry".into()))?;
    if row.id == id {
        return Ok(Claim::Fresh(id));
    }
    if row.request_hash != hash {
        return Err(DomainError::Conflict(
            "This idempotency key was used with different input; use a new key for a new request.".into(),
        ));
    }
    match row.response {
        Some(v) => Ok(Claim::Replay(v)),
        None => Err(DomainError::Conflict("A request with this idempotency key is in progress.".into())),
    }
}

pub async fn store(db: &impl ConnectionTrait, id: Uuid, response: serde_json::Value) -> DomainResult<()> {
    idempotency_key::Entity::update_many()
        .col_expr(idempotency_key::Column::Response, sea_orm::sea_query::Expr::value(response))
        .filter(idempotency_key::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}
