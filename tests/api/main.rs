//! Integration tests: the real router on a random port, over real HTTP and WebSocket,
//! against a fresh SQLite file per test and, when `SHIPGATE_TEST_POSTGRES_URL` is set,
//! a fresh PostgreSQL database per test too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fixtures;
mod helpers;

mod auth;
mod ebay;
mod fidelity;
mod fulfilment;
mod http_shape;
mod jobs;
mod labels;
mod marketplaces;
mod ops;
mod orangeconnex;
mod reports;
mod schema_sdl;
mod skus;
mod subscriptions;
mod tenancy;
mod writeback;
