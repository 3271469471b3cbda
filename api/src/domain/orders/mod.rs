//! Marketplace orders: download (ingest), queries.

pub mod download;
pub mod edit;
pub mod ingest;
mod query;
pub mod schedule;

pub use query::{OrderFilter, Orders};
