//! Integration tests: the real router on a random port, over real HTTP and WebSocket,
//! against a fresh SQLite file per test and, when `SHIPGATE_TEST_POSTGRES_URL` is set,
//! a fresh PostgreSQL database per test too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fixtures;
mod helpers;

mod auth;
mod creates;
mod ebay;
mod fidelity;
mod flaky;
mod fulfilment;
mod fuzz;
mod hostile;
mod http_shape;
mod identity_hardening;
mod jobs;
mod labels;
mod marketplaces;
mod oauth_binding;
mod ops;
mod orangeconnex;
mod reports;
mod schema_sdl;
mod skus;
mod subscriptions;
mod supply;
mod tenancy;
mod writeback;
