//! In-process event bus. Events are hints (`{tenant, kind, entity, id}`): subscribers
//! refetch what they show, so a lagging or reconnecting client only needs to resync.
//! A multi-replica deployment swaps this for Redis pub/sub behind the same type.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::broadcast;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
pub struct DomainEvent {
    pub organization_id: Uuid,
    /// The audit action, e.g. `user.created`.
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<Uuid>,
    pub at: DateTime<Utc>,
    /// The change's details (the audit event's data), shared by every subscriber.
    pub data: Option<Arc<serde_json::Value>>,
}

#[derive(Debug, Clone)]
pub struct EventBus {
    tx: broadcast::Sender<DomainEvent>,
}

impl EventBus {
    pub fn new(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity);
        Self { tx }
    }

    /// Publishes committed events; having no subscribers is not an error.
    pub fn publish_all(&self, events: impl IntoIterator<Item = DomainEvent>) {
        for e in events {
            let _ = self.tx.send(e);
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<DomainEvent> {
        self.tx.subscribe()
    }
}
