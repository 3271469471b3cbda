//! The single mapping from domain failures to GraphQL errors.
//!
//! [`ApiError`] deliberately does not implement `Display`: async-graphql converts any
//! `Display` type into an error *without* a code, so a resolver returning
//! `ApiResult<T>` can only produce errors that went through [`From<DomainError>`] here,
//! and every top-level error carries `extensions.code`.

use async_graphql::{ErrorExtensions, SimpleObject};

use crate::error::{DomainError, ErrorCode, UserError, UserErrorCode};

#[derive(Debug, Clone)]
pub struct ApiError {
    code: ErrorCode,
    message: String,
    field: Option<String>,
    retry_after_secs: Option<u64>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), field: None, retry_after_secs: None }
    }
    pub fn code(&self) -> ErrorCode {
        self.code
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        let code = e.code();
        match e {
            DomainError::Internal(cause) => {
                // Logged with the request's span (request id); never returned.
                tracing::error!(error = %cause, "internal error");
                Self::new(code, "Internal error.")
            }
            DomainError::Unauthenticated(why) => Self::new(code, format!("Authentication required: {why}.")),
            DomainError::Forbidden(why) => Self::new(code, format!("Not allowed: {why}.")),
            DomainError::NotFound => Self::new(code, "Not found."),
            DomainError::BadInput { field, message } => {
                Self { code, message: format!("Invalid input: {message}."), field, retry_after_secs: None }
            }
            DomainError::Conflict(message) => Self::new(code, message),
            DomainError::RateLimited { retry_after_secs } => Self {
                code,
                message: "Too many requests.".into(),
                field: None,
                retry_after_secs: Some(retry_after_secs),
            },
            DomainError::User(errors) => {
                let first = errors.first();
                Self {
                    code,
                    message: first.map(|e| e.message.clone()).unwrap_or_else(|| "Invalid input.".into()),
                    field: first.map(|e| e.field.join(".")),
                    retry_after_secs: None,
                }
            }
        }
    }
}

/// Errors raised by async-graphql itself inside a resolver (e.g. missing context data)
/// are programming errors: log and hide them.
impl From<async_graphql::Error> for ApiError {
    fn from(e: async_graphql::Error) -> Self {
        tracing::error!(error = %e.message, "resolver error");
        Self::new(ErrorCode::Internal, "Internal error.")
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(e: ApiError) -> Self {
        async_graphql::Error::new(e.message).extend_with(|_, ext| {
            ext.set("code", e.code.as_str());
            if let Some(field) = &e.field {
                ext.set("field", field.as_str());
            }
            if let Some(secs) = e.retry_after_secs {
                ext.set("retryAfter", secs);
            }
        })
    }
}

/// An expected business failure, returned inside a mutation payload.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "UserError")]
pub struct UserErrorObject {
    pub code: UserErrorCode,
    /// Path of the input field at fault, e.g. `["input", "email"]`.
    pub field: Vec<String>,
    pub message: String,
}

impl From<UserError> for UserErrorObject {
    fn from(e: UserError) -> Self {
        Self { code: e.code, field: e.field, message: e.message }
    }
}

/// Splits a domain result into (value, userErrors) for a mutation payload; any other
/// failure becomes a top-level error.
pub fn payload<T>(result: Result<T, DomainError>) -> ApiResult<(Option<T>, Vec<UserErrorObject>)> {
    match result {
        Ok(v) => Ok((Some(v), Vec::new())),
        Err(DomainError::User(errors)) => Ok((None, errors.into_iter().map(Into::into).collect())),
        Err(e) => Err(e.into()),
    }
}

/// An error response built outside a resolver (HTTP layer), with the same shape.
pub fn error_body(code: ErrorCode, message: &str) -> serde_json::Value {
    serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code.as_str() } }] })
}
