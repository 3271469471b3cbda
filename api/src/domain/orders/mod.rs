//! Marketplace orders: download (ingest), queries.

pub mod download;
pub mod ingest;
mod query;

pub use query::{OrderFilter, Orders};
