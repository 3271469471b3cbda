//! Labels (seed 000 §7): templates, the organization's sender address, batch printing to
//! one PDF and the signed download link. Rendering itself is `crate::labels`.

pub mod links;
pub mod print;
pub mod templates;

use std::sync::Arc;

use chrono::{Duration, Utc};
use entity::organization;
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, Set};
use tokio::sync::Semaphore;

use crate::{
    auth::{Actor, Tenant},
    db::begin_write,
    domain::{
        audit::{self, By},
        fulfilment::{
            snapshot::Recipient,
            waybills::{check_address, normalise_recipient},
        },
    },
    error::{DomainError, DomainResult, UserError, UserErrorCode},
    events::EventBus,
};

pub use links::Links;

/// How long a printed file's download link works.
pub const LINK_TTL_MINUTES: i64 = 15;

/// Renders at once (each on a blocking thread); more wait their turn, so large prints
/// cannot take every core from the API.
const CONCURRENT_RENDERS: usize = 2;

#[derive(Clone)]
pub struct Labels {
    db: DatabaseConnection,
    bus: EventBus,
    links: Links,
    public_url: String,
    link_ttl: Duration,
    renders: Arc<Semaphore>,
}

impl Labels {
    pub fn new(db: DatabaseConnection, bus: EventBus, links: Links, public_url: String) -> Self {
        Self {
            db,
            bus,
            links,
            public_url,
            link_ttl: Duration::minutes(LINK_TTL_MINUTES),
            renders: Arc::new(Semaphore::new(CONCURRENT_RENDERS)),
        }
    }

    /// The organization's sender (return) address, if set.
    pub async fn sender_address(&self, tenant: Tenant) -> DomainResult<Option<Recipient>> {
        let org = organization::Entity::find_by_id(tenant.id()).one(&self.db).await?.ok_or(DomainError::NotFound)?;
        Ok(sender_address_of(&org))
    }

    /// Sets the sender address printed in every label's FROM block (ADMIN).
    pub async fn set_sender_address(&self, actor: &Actor, r: Recipient) -> DomainResult<Recipient> {
        actor.require(entity::enums::Role::Admin)?;
        let r = validate_address(r)?;
        let txn = begin_write(&self.db).await?;
        let org =
            organization::Entity::find_by_id(actor.tenant().id()).one(&txn).await?.ok_or(DomainError::NotFound)?;
        let mut a: organization::ActiveModel = org.into();
        a.sender_address = Set(Some(serde_json::to_value(&r).map_err(DomainError::internal)?));
        a.updated_at = Set(Utc::now());
        a.update(&txn).await?;
        let event = audit::record(
            &txn,
            actor.tenant().id(),
            By::Actor(actor),
            "organization.sender_address_updated",
            "Organization",
            Some(actor.tenant().id()),
            None,
        )
        .await?;
        txn.commit().await?;
        self.bus.publish_all([event]);
        Ok(r)
    }
}

/// The sender address stored on an organization row, if set and readable.
pub fn sender_address_of(org: &organization::Model) -> Option<Recipient> {
    serde_json::from_value(org.sender_address.clone()?).ok()
}

/// A sender address needs a name, a street line, a city and a country, each of sane
/// length and printable (pure).
pub fn validate_address(r: Recipient) -> DomainResult<Recipient> {
    let r = normalise_recipient(r);
    let mut errors = check_address(&r, &["input", "address"]);
    if r.city.is_none() {
        errors.push(UserError::new(UserErrorCode::Required, &["input", "address", "city"], "Give the city."));
    }
    if errors.is_empty() { Ok(r) } else { Err(DomainError::User(errors)) }
}
