//! Identity primitives: passwords, JWT access tokens, opaque refresh tokens and API keys,
//! and the verified [`Actor`] every domain call receives.

pub mod actor;
pub mod jwt;
pub mod keys;
pub mod opaque;
pub mod password;
pub mod vault;

pub use actor::{Actor, Credential, Tenant};
