//! GraphQL: schema roots and one module per domain. Resolvers translate GraphQL to a
//! domain call and back; they hold no business rules.

pub mod accounts;
pub mod auth;
pub mod channels;
pub mod connection;
pub mod context;
pub mod enums;
pub mod errors;
pub mod fulfilment;
pub mod ids;
pub mod introspection;
pub mod labels;
pub mod limits;
pub mod loaders;
pub mod node;
pub mod orders;
pub mod reports;
pub mod schema;
pub mod skus;
pub mod subscription;
pub mod warehouse;
pub mod waybills;

pub use schema::{AppSchema, build_schema, build_schema_bare, sdl};
