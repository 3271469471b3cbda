//! Opaque global ids (Relay): base64url of `Type:uuid`. Clients must treat them as
//! opaque; the type prefix lets `node(id:)` dispatch and stops an id of one type being
//! used where another is expected.

use async_graphql::ID;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use uuid::Uuid;

use crate::error::DomainError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    User,
    Organization,
    ApiKey,
    AuditEvent,
    Account,
    Order,
    OrderItem,
    Job,
    Channel,
    Waybill,
    Sku,
    LabelTemplate,
    InboundOrder,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Organization => "Organization",
            Kind::ApiKey => "ApiKey",
            Kind::AuditEvent => "AuditEvent",
            Kind::Account => "Account",
            Kind::Order => "Order",
            Kind::OrderItem => "OrderItem",
            Kind::Job => "Job",
            Kind::Channel => "Channel",
            Kind::Waybill => "Waybill",
            Kind::Sku => "Sku",
            Kind::LabelTemplate => "LabelTemplate",
            Kind::InboundOrder => "InboundOrder",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "User" => Kind::User,
            "Organization" => Kind::Organization,
            "ApiKey" => Kind::ApiKey,
            "AuditEvent" => Kind::AuditEvent,
            "Account" => Kind::Account,
            "Order" => Kind::Order,
            "OrderItem" => Kind::OrderItem,
            "Job" => Kind::Job,
            "Channel" => Kind::Channel,
            "Waybill" => Kind::Waybill,
            "Sku" => Kind::Sku,
            "LabelTemplate" => Kind::LabelTemplate,
            "InboundOrder" => Kind::InboundOrder,
            _ => return None,
        })
    }
}

pub fn encode(kind: Kind, id: Uuid) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{}", kind.as_str(), id.simple())))
}

/// Decodes any global id. Malformed input is BAD_USER_INPUT.
pub fn decode_any(id: &ID) -> Result<(Kind, Uuid), DomainError> {
    let malformed = || DomainError::bad_input("id", "malformed id");
    let bytes = URL_SAFE_NO_PAD.decode(id.as_str()).map_err(|_| malformed())?;
    let text = std::str::from_utf8(&bytes).map_err(|_| malformed())?;
    let (kind, raw) = text.split_once(':').ok_or_else(malformed)?;
    let kind = Kind::parse(kind).ok_or_else(malformed)?;
    let uuid = Uuid::try_parse(raw).map_err(|_| malformed())?;
    Ok((kind, uuid))
}

/// Decodes an id that must be of `kind`; an id of another type is NOT_FOUND, exactly
/// like a missing object.
pub fn decode(kind: Kind, id: &ID) -> Result<Uuid, DomainError> {
    match decode_any(id)? {
        (k, uuid) if k == kind => Ok(uuid),
        _ => Err(DomainError::NotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_type_check() {
        let u = Uuid::now_v7();
        let id = encode(Kind::User, u);
        assert_eq!(decode(Kind::User, &id).ok(), Some(u));
        assert!(matches!(decode(Kind::ApiKey, &id), Err(DomainError::NotFound)));
        assert!(matches!(decode(Kind::User, &ID("!!".into())), Err(DomainError::BadInput { .. })));
        assert!(matches!(decode_any(&ID(URL_SAFE_NO_PAD.encode("Nope:1"))), Err(DomainError::BadInput { .. })));
    }
}
