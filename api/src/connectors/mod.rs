//! Connectors: one module per external provider, behind a trait per role. They know
//! HTTP and wire formats only — no GraphQL, no entities. Wire DTOs stay private to each
//! provider folder and are mapped to the domain-facing types declared here.

pub mod http;
pub mod logistics;
pub mod marketplace;
pub mod oauth;

use std::time::Duration;

/// Failures a connector reports, classified for the caller's retry decision.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ConnectorError {
    /// Network failure, timeout or 5xx: safe to retry an idempotent call.
    #[error("provider unavailable: {0}")]
    Transient(String),
    /// 429: retry after the given delay.
    #[error("rate limited by the provider (retry after {retry_after:?})")]
    RateLimited { retry_after: Duration },
    /// The access token was refused: refresh it and try again.
    #[error("access token rejected: {0}")]
    Unauthorized(String),
    /// The refresh token or authorization is dead (`invalid_grant`, revoked consent,
    /// wrong app credentials): the seller must authorize again.
    #[error("authorization revoked or invalid: {0}")]
    AuthorizationInvalid(String),
    /// The provider refused the request with its own error code.
    #[error("provider refused the request ({code}): {message}")]
    Rejected { code: String, message: String },
    /// The provider answered something we cannot read.
    #[error("unexpected provider response: {0}")]
    Decode(String),
}

impl ConnectorError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Transient(_) | Self::RateLimited { .. })
    }
}
