//! The OAuth authorization-code role every provider with seller consent plays
//! (marketplaces and the OrangeConnex warehouse): consent URL, code exchange, refresh.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;

use super::ConnectorError;

/// The app registered with the platform (the ERP's app, or the seller's own for
/// platforms where each seller creates one, like AliExpress and Wish).
#[derive(Debug, Clone)]
pub struct AppCredentials {
    pub client_id: String,
    pub client_secret: SecretString,
    /// Where the platform sends the seller back: a URL, or eBay's RuName.
    pub redirect: String,
}

#[derive(Debug, Clone)]
pub struct TokenSet {
    pub access_token: SecretString,
    pub access_expires_at: DateTime<Utc>,
    /// Some platforms rotate the refresh token on refresh; `None` keeps the current one.
    pub refresh_token: Option<SecretString>,
    pub refresh_expires_at: Option<DateTime<Utc>>,
    /// The seller's id on the platform, when the token response names it.
    pub seller_id: Option<String>,
}

#[async_trait]
pub trait Authorizer: Send + Sync {
    /// The consent page the seller opens.
    fn authorization_url(&self, app: &AppCredentials, state: &str) -> String;
    /// Exchanges the code from the consent redirect for tokens.
    async fn exchange_code(&self, app: &AppCredentials, code: &str) -> Result<TokenSet, ConnectorError>;
    async fn refresh(&self, app: &AppCredentials, refresh_token: &SecretString) -> Result<TokenSet, ConnectorError>;
}
