//! The verified caller. An [`Actor`] is only built from a checked access token or API
//! key, and it is the only way to obtain a [`Tenant`], so every data-access function
//! that takes a tenant is scoped by construction.

use entity::enums::Role;
use uuid::Uuid;

use crate::error::DomainError;

/// The organization whose data a call may touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tenant(Uuid);

impl Tenant {
    pub fn id(self) -> Uuid {
        self.0
    }
}

/// How the caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    User { user_id: Uuid },
    ApiKey { api_key_id: Uuid },
}

#[derive(Debug, Clone)]
pub struct Actor {
    tenant: Tenant,
    credential: Credential,
    role: Role,
    is_staff: bool,
    /// Access-token expiry (unix seconds); `None` for API keys.
    pub expires_at: Option<i64>,
    /// The HTTP request id, recorded on audit events.
    pub request_id: Option<String>,
}

/// Rank for role comparisons: OWNER > ADMIN > OPERATOR > VIEWER.
pub fn rank(role: Role) -> u8 {
    match role {
        Role::Owner => 4,
        Role::Admin => 3,
        Role::Operator => 2,
        Role::Viewer => 1,
    }
}

impl Actor {
    /// Only the authentication layer constructs actors, after verifying a credential.
    pub(crate) fn verified(
        organization_id: Uuid,
        credential: Credential,
        role: Role,
        is_staff: bool,
        expires_at: Option<i64>,
    ) -> Self {
        Self { tenant: Tenant(organization_id), credential, role, is_staff, expires_at, request_id: None }
    }

    pub fn tenant(&self) -> Tenant {
        self.tenant
    }
    pub fn role(&self) -> Role {
        self.role
    }
    pub fn is_staff(&self) -> bool {
        self.is_staff
    }
    pub fn credential(&self) -> Credential {
        self.credential
    }
    pub fn user_id(&self) -> Option<Uuid> {
        match self.credential {
            Credential::User { user_id } => Some(user_id),
            Credential::ApiKey { .. } => None,
        }
    }
    pub fn api_key_id(&self) -> Option<Uuid> {
        match self.credential {
            Credential::ApiKey { api_key_id } => Some(api_key_id),
            Credential::User { .. } => None,
        }
    }

    pub fn has_role(&self, min: Role) -> bool {
        rank(self.role) >= rank(min)
    }

    /// Fails with FORBIDDEN unless the caller holds at least `min`.
    pub fn require(&self, min: Role) -> Result<(), DomainError> {
        if self.has_role(min) { Ok(()) } else { Err(DomainError::Forbidden("role too low")) }
    }

    /// Any state change needs at least OPERATOR (VIEWER is read-only).
    pub fn require_write(&self) -> Result<(), DomainError> {
        self.require(Role::Operator)
    }

    /// Platform staff (the logistics company), e.g. for global channels.
    pub fn require_staff(&self) -> Result<(), DomainError> {
        if self.is_staff { Ok(()) } else { Err(DomainError::Forbidden("platform staff only")) }
    }

    /// Who may change a record that is either global (`owner` None: platform staff) or a
    /// tenant's own (that tenant's ADMIN); another tenant's record is NOT_FOUND. Channels
    /// and label templates follow this rule.
    pub fn require_manager_of(&self, owner: Option<Uuid>) -> Result<(), DomainError> {
        match owner {
            None => self.require_staff(),
            Some(org) if org == self.tenant().id() => self.require(Role::Admin),
            Some(_) => Err(DomainError::NotFound),
        }
    }

    /// Fails unless the caller is a user (not an API key), e.g. for session management.
    pub fn require_user(&self) -> Result<Uuid, DomainError> {
        self.user_id().ok_or(DomainError::Forbidden("not available to API keys"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_order() {
        let a = Actor::verified(Uuid::nil(), Credential::User { user_id: Uuid::nil() }, Role::Operator, false, None);
        assert!(a.require_write().is_ok());
        assert!(a.require(Role::Admin).is_err());
        let v = Actor::verified(Uuid::nil(), Credential::User { user_id: Uuid::nil() }, Role::Viewer, false, None);
        assert!(v.require_write().is_err());
        assert!(v.require_staff().is_err());
    }
}
