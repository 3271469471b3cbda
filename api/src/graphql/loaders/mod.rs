//! One loader per relation, each a single `IN (…)` query scoped to the request's tenant.

mod account;
mod logistics;
mod order_items;
mod organization;
mod sku;
mod user;

pub use account::AccountLoader;
pub use logistics::{ChannelLoader, WaybillByOrderLoader};
pub use order_items::OrderItemsLoader;
pub use organization::OrganizationLoader;
pub use sku::SkuLoader;
pub use user::UserLoader;
