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
pub mod warehouse;

use sea_orm::{ColumnTrait, Condition};
use uuid::Uuid;

/// Rows a tenant may see of a table holding global rows (no organization) beside each
/// tenant's own: channels, label templates.
pub fn global_or_own(organization_col: impl ColumnTrait, org: Uuid) -> Condition {
    Condition::any().add(organization_col.eq(org)).add(organization_col.is_null())
}
