//! Audit trail: one row per state change, written in the same transaction as the change.
//! The returned [`DomainEvent`] is published by the caller after commit.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use serde_json::Value;
use uuid::Uuid;

use crate::{auth::Actor, error::DomainResult, events::DomainEvent};

/// Who caused a change: a verified actor, or the system itself (CLI, jobs, sign-up).
#[derive(Debug, Clone, Copy)]
pub enum By<'a> {
    Actor(&'a Actor),
    User { user_id: Uuid },
    System,
}

pub async fn record(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
    by: By<'_>,
    action: &str,
    entity_type: &str,
    entity_id: Option<Uuid>,
    data: Option<Value>,
) -> DomainResult<DomainEvent> {
    let now = Utc::now();
    let (actor_user_id, actor_api_key_id, request_id) = match by {
        By::Actor(a) => (a.user_id(), a.api_key_id(), a.request_id.clone()),
        By::User { user_id } => (Some(user_id), None, None),
        By::System => (None, None, None),
    };
    entity::audit_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(Some(organization_id)),
        actor_user_id: Set(actor_user_id),
        actor_api_key_id: Set(actor_api_key_id),
        action: Set(action.to_owned()),
        entity_type: Set(entity_type.to_owned()),
        entity_id: Set(entity_id),
        data: Set(data),
        request_id: Set(request_id),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(DomainEvent {
        organization_id,
        action: action.to_owned(),
        entity_type: entity_type.to_owned(),
        entity_id,
        at: now,
        data: None,
    })
}

/// One change among many recorded together (see [`record_many`]).
#[derive(Debug, Clone)]
pub struct Change {
    pub action: &'static str,
    pub entity_type: &'static str,
    pub entity_id: Option<Uuid>,
    pub data: Option<Value>,
}

/// Records many changes with multi-row inserts (batch operations), returning the events
/// to publish after commit; each event carries its data for subscribers.
pub async fn record_many(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
    by: By<'_>,
    changes: Vec<Change>,
) -> DomainResult<Vec<DomainEvent>> {
    let now = Utc::now();
    let (actor_user_id, actor_api_key_id, request_id) = match by {
        By::Actor(a) => (a.user_id(), a.api_key_id(), a.request_id.clone()),
        By::User { user_id } => (Some(user_id), None, None),
        By::System => (None, None, None),
    };
    let mut events = Vec::with_capacity(changes.len());
    for chunk in changes.chunks(500) {
        let rows = chunk.iter().map(|c| entity::audit_event::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(Some(organization_id)),
            actor_user_id: Set(actor_user_id),
            actor_api_key_id: Set(actor_api_key_id),
            action: Set(c.action.to_owned()),
            entity_type: Set(c.entity_type.to_owned()),
            entity_id: Set(c.entity_id),
            data: Set(c.data.clone()),
            request_id: Set(request_id.clone()),
            created_at: Set(now),
        });
        entity::audit_event::Entity::insert_many(rows).exec_without_returning(db).await?;
    }
    for c in changes {
        events.push(DomainEvent {
            organization_id,
            action: c.action.to_owned(),
            entity_type: c.entity_type.to_owned(),
            entity_id: c.entity_id,
            at: now,
            data: c.data.map(std::sync::Arc::new),
        });
    }
    Ok(events)
}
