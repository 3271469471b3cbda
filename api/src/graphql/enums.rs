//! GraphQL mirrors of the stored enums (conversions generated with `remote`).

use async_graphql::Enum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::enums::Platform", rename_items = "SCREAMING_SNAKE_CASE")]
pub enum Platform {
    Aliexpress,
    Ebay,
    Wish,
    Amazon,
    Orangeconnex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::enums::AccountStatus", rename_items = "SCREAMING_SNAKE_CASE")]
pub enum AccountStatus {
    PendingAuthorization,
    Active,
    NeedsReauthorization,
    Disabled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::enums::FulfillmentStatus", rename_items = "SCREAMING_SNAKE_CASE")]
pub enum FulfillmentStatus {
    Unpushed,
    Pushing,
    Pushed,
    PushFailed,
    Shipped,
    Cancelled,
}

/// Where an order stands on its marketplace. Only AWAITING_SHIPMENT orders can be pushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::enums::MarketplaceState", rename_items = "SCREAMING_SNAKE_CASE")]
pub enum MarketplaceState {
    /// Not released for shipping yet (unpaid, under the marketplace's review).
    AwaitingPayment,
    AwaitingShipment,
    /// Shipped on the marketplace (by Shipgate, or outside it).
    Shipped,
    /// The buyer asked to cancel (or for a refund); settle it on the marketplace first.
    CancelRequested,
    /// Cancelled or refunded on the marketplace.
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::enums::WriteBackStatus", rename_items = "SCREAMING_SNAKE_CASE")]
pub enum WriteBackStatus {
    NotRequested,
    Pending,
    Written,
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::enums::JobStatus", rename_items = "SCREAMING_SNAKE_CASE")]
pub enum JobStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::enums::ChannelProvider", rename_items = "SCREAMING_SNAKE_CASE")]
pub enum ChannelProvider {
    Network,
    Orangeconnex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::enums::WaybillStatus", rename_items = "SCREAMING_SNAKE_CASE")]
pub enum WaybillStatus {
    Unconfirmed,
    Forecasted,
    Printed,
    Shipped,
    Cancelled,
}

/// Where a SKU stands with the overseas warehouse (海外仓).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::enums::WarehouseSkuStatus", rename_items = "SCREAMING_SNAKE_CASE")]
pub enum WarehouseSkuStatus {
    NotSubmitted,
    Draft,
    Submitted,
    Approved,
    Rejected,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::enums::AddressPolicy", rename_items = "SCREAMING_SNAKE_CASE")]
pub enum AddressPolicy {
    /// Addresses are sent exactly as stored (quotes, `&`, CJK and emoji included).
    AsIs,
    /// The carrier prints Latin only: a transliterated copy is sent, the original kept.
    LatinOnly,
}

/// Fields a channel's carrier requires beyond the basics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::domain::channels::RequiredField", rename_items = "SCREAMING_SNAKE_CASE")]
pub enum RequiredField {
    DeclarationNameCn,
    HsCode,
    OriginCountry,
    RecipientPhone,
    RecipientEmail,
    RecipientPostalCode,
    RecipientState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::enums::ShippingMethod", rename_items = "SCREAMING_SNAKE_CASE")]
pub enum ShippingMethod {
    /// Parcels by express courier: upload their tracking numbers, no appointment needed.
    Express,
    Sea,
    Air,
    Truck,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::enums::InboundStatus", rename_items = "SCREAMING_SNAKE_CASE")]
pub enum InboundStatus {
    /// Saved, not yet accepted by the warehouse (a creation that could not reach it).
    Draft,
    Created,
    InTransit,
    Receiving,
    /// Put away (and, when required, clearance papers uploaded).
    Completed,
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::enums::InboundFileKind", rename_items = "SCREAMING_SNAKE_CASE")]
pub enum InboundFileKind {
    SkuLabel,
    CartonLabel,
    Clearance,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::enums::OutboundStatus", rename_items = "SCREAMING_SNAKE_CASE")]
pub enum OutboundStatus {
    Created,
    Processing,
    Picked,
    Packed,
    Shipped,
    Cancelled,
    Exception,
}
