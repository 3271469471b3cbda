//! The sealed credential document of an account. Plaintext exists only in memory, only
//! for the duration of a connector call; `Debug` never shows it.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    auth::vault::{Sealed, Vault},
    connectors::marketplace::TokenSet,
    error::{DomainError, DomainResult},
};

const PURPOSE: &str = "account-credentials";

#[derive(Serialize, Deserialize, Default)]
struct Doc {
    access_token: Option<String>,
    refresh_token: Option<String>,
    app_key: Option<String>,
    app_secret: Option<String>,
}

pub struct Credentials {
    pub access_token: Option<SecretString>,
    pub refresh_token: Option<SecretString>,
    pub app_key: Option<String>,
    pub app_secret: Option<SecretString>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("has_access_token", &self.access_token.is_some())
            .field("has_refresh_token", &self.refresh_token.is_some())
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// Per-seller app credentials only (before consent).
    pub fn app(app_key: String, app_secret: SecretString) -> Self {
        Self { access_token: None, refresh_token: None, app_key: Some(app_key), app_secret: Some(app_secret) }
    }

    /// The same document with new tokens; a refresh that returns no refresh token keeps
    /// the current one.
    pub fn with_tokens(self, t: &TokenSet) -> Self {
        Self {
            access_token: Some(t.access_token.clone()),
            refresh_token: t.refresh_token.clone().or(self.refresh_token),
            app_key: self.app_key,
            app_secret: self.app_secret,
        }
    }

    pub fn empty() -> Self {
        Self { access_token: None, refresh_token: None, app_key: None, app_secret: None }
    }

    pub fn seal(&self, vault: &Vault, tenant: Uuid, account: Uuid) -> DomainResult<Sealed> {
        let doc = Doc {
            access_token: self.access_token.as_ref().map(|s| s.expose_secret().to_owned()),
            refresh_token: self.refresh_token.as_ref().map(|s| s.expose_secret().to_owned()),
            app_key: self.app_key.clone(),
            app_secret: self.app_secret.as_ref().map(|s| s.expose_secret().to_owned()),
        };
        let bytes = serde_json::to_vec(&doc).map_err(DomainError::internal)?;
        vault.seal(tenant, account, PURPOSE, &bytes).map_err(DomainError::internal)
    }

    pub fn open(vault: &Vault, tenant: Uuid, account: Uuid, sealed: &Sealed) -> DomainResult<Self> {
        let bytes = vault.open(tenant, account, PURPOSE, sealed).map_err(DomainError::internal)?;
        let doc: Doc = serde_json::from_slice(&bytes).map_err(DomainError::internal)?;
        Ok(Self {
            access_token: doc.access_token.map(SecretString::from),
            refresh_token: doc.refresh_token.map(SecretString::from),
            app_key: doc.app_key,
            app_secret: doc.app_secret.map(SecretString::from),
        })
    }
}
