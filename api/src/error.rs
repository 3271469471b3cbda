//! The error vocabulary shared by every layer above the database.
//!
//! [`ErrorCode`] is the one list of top-level codes a client switches on
//! (`extensions.code`). Domain functions return [`DomainError`]; the GraphQL layer maps
//! it exactly once (see `graphql::errors`). Internal causes are logged there and never
//! returned to the caller.

use std::sync::Arc;

/// Top-level error codes, sent as `extensions.code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    NotFound,
    BadUserInput,
    Conflict,
    RateLimited,
    Internal,
    /// A provider (marketplace, warehouse) could not be reached, or its circuit is open.
    ProviderUnavailable,
    /// The request ran out of time (`limits.request_timeout_secs`) and was stopped.
    Timeout,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::Conflict => "CONFLICT",
            Self::RateLimited => "RATE_LIMITED",
            Self::Internal => "INTERNAL",
            Self::ProviderUnavailable => "PROVIDER_UNAVAILABLE",
            Self::Timeout => "TIMEOUT",
        }
    }
}

/// Codes for expected business failures, returned in payloads as
/// `userErrors { code field message }` so a SPA can show them next to a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum, serde::Serialize, serde::Deserialize)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UserErrorCode {
    /// A value is malformed or out of range.
    Invalid,
    /// A required value is missing.
    Required,
    /// The value is already taken (e.g. an email address).
    Taken,
    /// Email and password do not match an active user.
    InvalidCredentials,
    /// The password does not meet the policy.
    WeakPassword,
    /// The operation would leave the organization without an owner.
    LastOwner,
    /// The caller may not grant a role above their own or act on themselves this way.
    RoleNotAllowed,
    /// The object is not in a state that allows the operation.
    InvalidState,
    /// The object is still used (e.g. a SKU on open orders) and cannot be deleted.
    InUse,
    /// Push: the order has no shipping channel.
    ChannelNotSet,
    /// Push: the channel does not ship to the order's destination country (货运方式不能到达目的地).
    DestinationNotServed,
    /// Push: a line has no catalogue SKU, or its SKU has no declaration (无申报信息).
    DeclarationMissing,
    /// Push: a SKU's declaration lacks the English name (申报英文名为空); the message names the SKU.
    DeclarationNameEnMissing,
    /// Push: a declaration field the channel requires is empty (HS code, origin, weight…).
    DeclarationFieldMissing,
    /// Push: the parcel is heavier than the channel allows.
    WeightLimitExceeded,
    /// Push: the declared value is above the channel's limit.
    ValueLimitExceeded,
    /// Push: the recipient address lacks a field the channel needs.
    AddressIncomplete,
    /// Push: the carrier refused the forecast; fix the unconfirmed waybill and push again.
    ProviderRejected,
    /// Push: the channel's tracking-number range is used up.
    TrackingRangeExhausted,
    /// The channel is inactive or not available to this organization.
    ChannelUnavailable,
    /// The provider could not be reached; the operation will be retried.
    ProviderUnavailable,
    /// One id of a batch does not exist (or is not yours).
    NotFound,
    /// Print: the waybill has no tracking number yet (UNCONFIRMED); push its order first.
    WaybillUnconfirmed,
    /// Print: the organization has no sender address for the labels' FROM block.
    SenderAddressMissing,
    /// Print (a warning, the label is printed): text did not fit a block even at the
    /// smallest size and ends in "…"; the message names the block.
    LabelTextTruncated,
    /// Print (a warning): the label font has no glyph for some characters (e.g. emoji),
    /// printed as boxes; the message names the block.
    LabelGlyphMissing,
    /// Print: the tracking number cannot be encoded as a Code 128 barcode.
    TrackingNumberUnprintable,
    /// Push to OrangeConnex: an eBay order id is not in eBay's `NN-NNNNN-NNNNN` form.
    OrderIdFormat,
    /// Push to OrangeConnex: an eBay order's seller eBay user id (OC's `ebayId`) is unknown;
    /// reconnect the eBay account so its username is read, then push again.
    EbayIdMissing,
    /// Push to OrangeConnex (or an inbound order): a SKU is not registered and approved
    /// in the warehouse (no MFSKUID yet); push the SKU to the warehouse first.
    SkuNotInWarehouse,
    /// Cancel/reset of an OrangeConnex order: the warehouse has started picking it.
    CancelRefusedAfterPicking,
    /// The provider account's authorization expired or was revoked; reauthorize it.
    AccountNeedsReauthorization,
    /// Push: the order was cancelled (or refunded) on the marketplace.
    MarketplaceCancelled,
    /// Push: the buyer asked the marketplace to cancel the order (or for a refund).
    MarketplaceCancelRequested,
    /// Push: the order was already shipped on the marketplace, outside Shipgate.
    MarketplaceShipped,
    /// Push: the marketplace has not released the order for shipping (unpaid, under review).
    MarketplaceNotPaid,
    /// Write-back: the channel has no carrier identifier for this marketplace; set one
    /// with `setChannelCarrier` (the message names the channel and the marketplace).
    CarrierNotMapped,
    /// Write-back: the marketplace does not accept the channel's carrier identifier for
    /// this seller (not in the account's carrier list).
    CarrierNotAccepted,
    /// Write-back: the marketplace refused the tracking update.
    WriteBackRejected,
    /// Account authorization: the consent round's `state` expired; start the authorization again.
    AuthorizationExpired,
    /// Account authorization: the consent round's `state` was already completed; start a new one.
    AuthorizationUsed,
}

impl UserErrorCode {
    /// The name a client sees (`DESTINATION_NOT_SERVED`), also stored on orders.
    pub fn as_str(self) -> String {
        serde_json::to_value(self).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
    }
    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
    }
}

/// An expected, field-level business failure.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UserError {
    pub code: UserErrorCode,
    /// Input path of the offending field, e.g. `["input", "email"]`.
    pub field: Vec<String>,
    pub message: String,
}

impl UserError {
    pub fn new(code: UserErrorCode, field: &[&str], message: impl Into<String>) -> Self {
        Self { code, field: field.iter().map(|s| (*s).to_owned()).collect(), message: message.into() }
    }
}

/// Failures of domain operations.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DomainError {
    #[error("authentication required")]
    Unauthenticated(&'static str),
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
    /// Also used for another tenant's objects: they must look exactly like missing ones.
    #[error("not found")]
    NotFound,
    #[error("invalid input: {message}")]
    BadInput { field: Option<String>, message: String },
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    /// Expected business failures, reported in the mutation payload.
    #[error("{} user error(s)", .0.len())]
    User(Vec<UserError>),
    #[error("internal error: {0}")]
    Internal(Arc<dyn std::error::Error + Send + Sync>),
}

impl DomainError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Unauthenticated(_) => ErrorCode::Unauthenticated,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::NotFound => ErrorCode::NotFound,
            // A provider outage reaching the top level (a query) is no fault of the input.
            Self::User(e) if e.len() == 1 && e[0].code == UserErrorCode::ProviderUnavailable => {
                ErrorCode::ProviderUnavailable
            }
            Self::BadInput { .. } | Self::User(_) => ErrorCode::BadUserInput,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    pub fn internal(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal(Arc::new(e))
    }

    pub fn user(code: UserErrorCode, field: &[&str], message: impl Into<String>) -> Self {
        Self::User(vec![UserError::new(code, field, message)])
    }

    /// A unique-index violation (two writers raced for the same key) as the clean error the
    /// check before the write would have given; any other database error stays internal.
    pub fn unique_or(e: sea_orm::DbErr, on_unique: DomainError) -> Self {
        match e.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => on_unique,
            _ => e.into(),
        }
    }

    pub fn bad_input(field: &str, message: impl Into<String>) -> Self {
        Self::BadInput { field: Some(field.to_owned()), message: message.into() }
    }
}

impl From<sea_orm::DbErr> for DomainError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::internal(e)
    }
}

impl From<sea_orm::TransactionError<DomainError>> for DomainError {
    fn from(e: sea_orm::TransactionError<DomainError>) -> Self {
        match e {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(d) => d,
        }
    }
}

pub type DomainResult<T> = Result<T, DomainError>;
