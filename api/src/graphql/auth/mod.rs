//! Identity in GraphQL: sessions, users and roles, API keys, the audit log.

mod api_keys;
mod session;
pub mod types;
mod users;

pub use api_keys::{ApiKeyMutation, ApiKeyQuery};
pub use session::{ClientAddr, SessionMutation, SessionQuery};
pub use users::{UserMutation, UserQuery};
