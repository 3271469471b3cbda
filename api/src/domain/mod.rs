//! Business rules. Knows nothing of GraphQL or HTTP: functions take a verified
//! [`crate::auth::Actor`] (and so a tenant), validate, run one transaction, write an
//! audit event for every state change and return domain values or a [`crate::error::DomainError`].

pub mod accounts;
pub mod audit;
pub mod catalog;
pub mod channels;
pub mod fulfilment;
pub mod identity;
pub mod labels;
pub mod orders;
pub mod pagination;
pub mod reports;
pub mod validate;
