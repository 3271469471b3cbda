//! SeaORM entities for Shipgate. Plain data definitions only (no business logic).

pub mod enums;
pub mod prelude;

pub mod account;
pub mod api_key;
pub mod audit_event;
pub mod carrier_mapping;
pub mod channel;
pub mod idempotency_key;
pub mod inbound_order;
pub mod inbound_order_file;
pub mod inbound_order_line;
pub mod inventory_snapshot;
pub mod job;
pub mod label_file;
pub mod label_template;
pub mod login_throttle;
pub mod membership;
pub mod order;
pub mod order_item;
pub mod organization;
pub mod outbound_order;
pub mod refresh_token;
pub mod sku;
pub mod stock_movement;
pub mod user;
pub mod waybill;
