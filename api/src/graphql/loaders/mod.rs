//! One loader per relation, each a single `IN (…)` query scoped to the request's tenant.

mod organization;
mod user;

pub use organization::OrganizationLoader;
pub use user::UserLoader;
