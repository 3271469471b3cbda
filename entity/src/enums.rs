//! Enums stored as short uppercase strings (`VARCHAR(32)`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    #[sea_orm(string_value = "OWNER")]
    Owner,
    #[sea_orm(string_value = "ADMIN")]
    Admin,
    #[sea_orm(string_value = "OPERATOR")]
    Operator,
    #[sea_orm(string_value = "VIEWER")]
    Viewer,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Platform {
    #[sea_orm(string_value = "ALIEXPRESS")]
    Aliexpress,
    #[sea_orm(string_value = "EBAY")]
    Ebay,
    #[sea_orm(string_value = "WISH")]
    Wish,
    #[sea_orm(string_value = "AMAZON")]
    Amazon,
    #[sea_orm(string_value = "ORANGECONNEX")]
    Orangeconnex,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccountStatus {
    #[sea_orm(string_value = "PENDING_AUTHORIZATION")]
    PendingAuthorization,
    #[sea_orm(string_value = "ACTIVE")]
    Active,
    #[sea_orm(string_value = "NEEDS_REAUTHORIZATION")]
    NeedsReauthorization,
    #[sea_orm(string_value = "DISABLED")]
    Disabled,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FulfillmentStatus {
    #[sea_orm(string_value = "UNPUSHED")]
    Unpushed,
    #[sea_orm(string_value = "PUSHING")]
    Pushing,
    #[sea_orm(string_value = "PUSHED")]
    Pushed,
    #[sea_orm(string_value = "PUSH_FAILED")]
    PushFailed,
    #[sea_orm(string_value = "SHIPPED")]
    Shipped,
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

/// Where an order stands on its marketplace (as opposed to in Shipgate's workflow).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MarketplaceState {
    #[sea_orm(string_value = "AWAITING_PAYMENT")]
    AwaitingPayment,
    #[sea_orm(string_value = "AWAITING_SHIPMENT")]
    AwaitingShipment,
    #[sea_orm(string_value = "SHIPPED")]
    Shipped,
    #[sea_orm(string_value = "CANCEL_REQUESTED")]
    CancelRequested,
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WriteBackStatus {
    #[sea_orm(string_value = "NOT_REQUESTED")]
    NotRequested,
    #[sea_orm(string_value = "PENDING")]
    Pending,
    #[sea_orm(string_value = "WRITTEN")]
    Written,
    #[sea_orm(string_value = "FAILED")]
    Failed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChannelProvider {
    #[sea_orm(string_value = "NETWORK")]
    Network,
    #[sea_orm(string_value = "ORANGECONNEX")]
    Orangeconnex,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WaybillStatus {
    #[sea_orm(string_value = "UNCONFIRMED")]
    Unconfirmed,
    #[sea_orm(string_value = "FORECASTED")]
    Forecasted,
    #[sea_orm(string_value = "PRINTED")]
    Printed,
    #[sea_orm(string_value = "SHIPPED")]
    Shipped,
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WarehouseSkuStatus {
    #[sea_orm(string_value = "NOT_SUBMITTED")]
    NotSubmitted,
    #[sea_orm(string_value = "DRAFT")]
    Draft,
    #[sea_orm(string_value = "SUBMITTED")]
    Submitted,
    #[sea_orm(string_value = "APPROVED")]
    Approved,
    #[sea_orm(string_value = "REJECTED")]
    Rejected,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ShippingMethod {
    #[sea_orm(string_value = "EXPRESS")]
    Express,
    #[sea_orm(string_value = "SEA")]
    Sea,
    #[sea_orm(string_value = "AIR")]
    Air,
    #[sea_orm(string_value = "TRUCK")]
    Truck,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InboundStatus {
    #[sea_orm(string_value = "DRAFT")]
    Draft,
    #[sea_orm(string_value = "CREATED")]
    Created,
    #[sea_orm(string_value = "IN_TRANSIT")]
    InTransit,
    #[sea_orm(string_value = "RECEIVING")]
    Receiving,
    #[sea_orm(string_value = "COMPLETED")]
    Completed,
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InboundFileKind {
    #[sea_orm(string_value = "SKU_LABEL")]
    SkuLabel,
    #[sea_orm(string_value = "CARTON_LABEL")]
    CartonLabel,
    #[sea_orm(string_value = "CLEARANCE")]
    Clearance,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OutboundStatus {
    #[sea_orm(string_value = "CREATED")]
    Created,
    #[sea_orm(string_value = "PROCESSING")]
    Processing,
    #[sea_orm(string_value = "PICKED")]
    Picked,
    #[sea_orm(string_value = "PACKED")]
    Packed,
    #[sea_orm(string_value = "SHIPPED")]
    Shipped,
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
    #[sea_orm(string_value = "EXCEPTION")]
    Exception,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobStatus {
    #[sea_orm(string_value = "QUEUED")]
    Queued,
    #[sea_orm(string_value = "RUNNING")]
    Running,
    #[sea_orm(string_value = "SUCCEEDED")]
    Succeeded,
    #[sea_orm(string_value = "FAILED")]
    Failed,
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AddressPolicy {
    #[sea_orm(string_value = "AS_IS")]
    AsIs,
    #[sea_orm(string_value = "LATIN_ONLY")]
    LatinOnly,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TrackingSource {
    #[sea_orm(string_value = "RANGE")]
    Range,
    #[sea_orm(string_value = "PROVIDER")]
    Provider,
}
