//! Labels (seed 000 §7): templates, the organization's sender address, batch printing to
//! one PDF and the signed download link. Rendering itself is `crate::labels`.

pub mod links;
pub mod print;
pub mod templates;

use chrono::{Duration, Utc};
use entity::organization;
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, Set};

use crate::{
    auth::{Actor, Tenant},
    db::begin_write,
    domain::{
        audit::{self, By},
        fulfilment::snapshot::Recipient,
        validate,
    },
    error::{DomainError, DomainResult, UserError, UserErrorCode},
    events::EventBus,
};

pub use links::Links;

/// How long a printed file's download link works.
pub const LINK_TTL_MINUTES: i64 = 15;

#[derive(Clone)]
pub struct Labels {
    db: DatabaseConnection,
    bus: EventBus,
    links: Links,
    public_url: String,
    link_ttl: Duration,
}

impl Labels {
    pub fn new(db: DatabaseConnection, bus: EventBus, links: Links, public_url: String) -> Self {
        Self { db, bus, links, public_url, link_ttl: Duration::minutes(LINK_TTL_MINUTES) }
    }

    /// The organization's sender (return) address, if set.
    pub async fn sender_address(&self, tenant: Tenant) -> DomainResult<Option<Recipient>> {
        let org = organization::Entity::find_by_id(tenant.id()).one(&self.db).await?.ok_or(DomainError::NotFound)?;
        Ok(org.sender_address.and_then(|v| serde_json::from_value(v).ok()))
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

/// A sender address needs a name, a street line, a city and a country (pure).
pub fn validate_address(r: Recipient) -> DomainResult<Recipient> {
    let t = |s: Option<String>| s.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let mut errors: Vec<UserError> = Vec::new();
    let name = validate::name(&r.name, 200, &["input", "address", "name"]).map_err(|e| errors.push(e)).ok();
    let line1 = validate::name(&r.line1, 500, &["input", "address", "line1"]).map_err(|e| errors.push(e)).ok();
    let city = t(r.city);
    if city.is_none() {
        errors.push(UserError::new(UserErrorCode::Required, &["input", "address", "city"], "Give the city."));
    }
    let country = r.country_code.trim().to_uppercase();
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        errors.push(UserError::new(
            UserErrorCode::Invalid,
            &["input", "address", "countryCode"],
            "Use a two-letter ISO country code.",
        ));
    }
    let (Some(name), Some(line1), true) = (name, line1, errors.is_empty()) else {
        return Err(DomainError::User(errors));
    };
    Ok(Recipient {
        name,
        company: t(r.company),
        phone: t(r.phone),
        email: t(r.email),
        line1,
        line2: t(r.line2),
        city,
        state: t(r.state),
        postal_code: t(r.postal_code),
        country_code: country,
    })
}
