//! Marketplace accounts and background jobs in GraphQL.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{account, job};

use super::{
    connection::{Conn, connection, page_args},
    context::{actor, services},
    enums::{AccountStatus, JobStatus, Platform},
    errors::{ApiResult, UserErrorObject, payload},
    ids::{Kind, decode, encode},
};
use secrecy::SecretString;

use crate::domain::accounts::{
    AmazonSelfAuthorization, AuthorizationCallback, AuthorizationStart, SellerApp, needs_reauthorization_soon,
};

pub struct Account(pub account::Model);

#[Object]
impl Account {
    pub async fn id(&self) -> ID {
        encode(Kind::Account, self.0.id)
    }
    async fn platform(&self) -> Platform {
        self.0.platform.into()
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn status(&self) -> AccountStatus {
        self.0.status.into()
    }
    /// The seller's id on the platform, when known.
    async fn external_account_id(&self) -> Option<&str> {
        self.0.external_account_id.as_deref()
    }
    /// Whether credentials are stored (they are never returned).
    /// The seller's user id as the platform shows it (eBay username; OrangeConnex's `ebayId`).
    async fn platform_user_name(&self) -> Option<&str> {
        self.0.platform_user_name.as_deref()
    }
    /// Every marketplace the seller sells in (Amazon), downloaded each from its region.
    async fn marketplace_ids(&self) -> Vec<String> {
        crate::domain::accounts::marketplace_ids_of(&self.0)
    }
    async fn has_credentials(&self) -> bool {
        self.0.credentials_ciphertext.is_some()
    }
    async fn access_token_expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.access_token_expires_at
    }
    async fn refresh_token_expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.refresh_token_expires_at
    }
    /// True when the seller must authorize again now or within 14 days (30 for OrangeConnex,
    /// whose refresh token lives a year).
    async fn needs_reauthorization_soon(&self) -> bool {
        needs_reauthorization_soon(&self.0)
    }
    /// Orders modified up to this instant have been downloaded.
    async fn sync_watermark(&self) -> Option<DateTime<Utc>> {
        self.0.sync_watermark
    }
    async fn last_synced_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_synced_at
    }
    async fn last_sync_error(&self) -> Option<&str> {
        self.0.last_sync_error.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

pub struct Job(pub job::Model);

#[Object]
impl Job {
    pub async fn id(&self) -> ID {
        encode(Kind::Job, self.0.id)
    }
    /// e.g. `orders.download`.
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    async fn status(&self) -> JobStatus {
        self.0.status.into()
    }
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    /// Kind-specific progress, e.g. `{pages, seen, new, updated, unchanged, done}` for downloads.
    async fn progress(&self) -> Option<async_graphql::Json<serde_json::Value>> {
        self.0.progress.clone().map(async_graphql::Json)
    }
    async fn run_at(&self) -> DateTime<Utc> {
        self.0.run_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.0.finished_at
    }
}

#[derive(InputObject)]
pub struct StartAccountAuthorizationInput {
    pub platform: Platform,
    /// A name to tell accounts apart, e.g. the store name.
    pub name: String,
    /// AliExpress and Wish: the app key (client id) of the seller's own app.
    pub app_key: Option<String>,
    /// AliExpress and Wish: the app secret (签名串 / client secret). Stored encrypted, never returned.
    #[graphql(secret)]
    pub app_secret: Option<String>,
}

#[derive(InputObject)]
pub struct ConnectAmazonAccountInput {
    pub name: String,
    /// Seller Central "Merchant Token" / selling partner id (seed: SellId).
    pub seller_id: String,
    /// e.g. ATVPDKIKX0DER (US), A1PA6795UKMFR9 (DE).
    pub marketplace_id: String,
    /// The SP-API refresh token from self-authorization (Atzr|…). Stored encrypted.
    #[graphql(secret)]
    pub refresh_token: String,
    /// Legacy: no longer used by SP-API (no AWS signing since October 2023); accepted and ignored.
    pub aws_access_key: Option<String>,
    /// Legacy, accepted and ignored.
    #[graphql(secret)]
    pub aws_secret_key: Option<String>,
}

#[derive(SimpleObject)]
pub struct StartAccountAuthorizationPayload {
    pub account: Option<Account>,
    /// Open this in a browser; the platform sends the seller back to `/oauth/callback/{platform}`,
    /// which hands `state` and `code` to the SPA for `completeAccountAuthorization`.
    pub authorization_url: Option<String>,
    /// AliExpress and Wish: register this redirect URL with your app before opening the page.
    pub redirect_url: Option<String>,
    pub user_errors: Vec<UserErrorObject>,
}

#[derive(InputObject)]
pub struct AccountIdInput {
    pub id: ID,
}

#[derive(InputObject)]
pub struct ReauthorizeAccountInput {
    pub id: ID,
    /// AliExpress and Wish: (new) app key of the seller's app.
    pub app_key: Option<String>,
    #[graphql(secret)]
    pub app_secret: Option<String>,
}

/// What `/oauth/callback/{platform}` hands the SPA (query parameters `platform`, `state`,
/// `code` and, from Amazon, `sellingPartnerId`).
#[derive(InputObject)]
pub struct CompleteAccountAuthorizationInput {
    pub platform: Platform,
    pub state: String,
    /// The platform's authorization code. Spent once, never stored or returned.
    #[graphql(secret)]
    pub code: String,
    /// Amazon: the `selling_partner_id` the consent page returned.
    pub selling_partner_id: Option<String>,
}

#[derive(SimpleObject)]
pub struct AccountPayload {
    pub account: Option<Account>,
    pub user_errors: Vec<UserErrorObject>,
}

#[derive(SimpleObject)]
pub struct DeleteAccountPayload {
    pub deleted_account_id: Option<ID>,
    pub user_errors: Vec<UserErrorObject>,
}

#[derive(InputObject)]
pub struct DownloadOrdersInput {
    pub account_ids: Vec<ID>,
    /// Re-download orders modified since this instant (default: since the last download).
    pub since: Option<DateTime<Utc>>,
}

#[derive(SimpleObject)]
pub struct DownloadOrdersPayload {
    /// One job per account; follow them with `jobProgress`.
    pub jobs: Vec<Job>,
    pub user_errors: Vec<UserErrorObject>,
}

fn start_payload(
    (start, user_errors): (Option<AuthorizationStart>, Vec<UserErrorObject>),
) -> StartAccountAuthorizationPayload {
    match start {
        Some(st) => StartAccountAuthorizationPayload {
            account: Some(Account(st.account)),
            authorization_url: st.authorization_url,
            redirect_url: st.redirect_url,
            user_errors,
        },
        None => {
            StartAccountAuthorizationPayload { account: None, authorization_url: None, redirect_url: None, user_errors }
        }
    }
}

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The organization's marketplace and warehouse accounts, newest first.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn accounts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        platform: Option<Platform>,
    ) -> ApiResult<Conn<Account>> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let page = s
            .accounts
            .list(a.tenant(), platform.map(Into::into), page_args(ctx, first, after, s.settings.limits.page_size)?)
            .await?;
        Ok(connection(page, |m| m.id, Account))
    }
}

#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Adds an account awaiting the seller's consent and returns the page to open.
    async fn start_account_authorization(
        &self,
        ctx: &Context<'_>,
        input: StartAccountAuthorizationInput,
    ) -> ApiResult<StartAccountAuthorizationPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let seller_app = match (input.app_key, input.app_secret) {
            (Some(app_key), Some(secret)) => Some(SellerApp { app_key, app_secret: SecretString::from(secret) }),
            _ => None,
        };
        let result = s.accounts.start_authorization(a, input.platform.into(), &input.name, seller_app).await;
        Ok(start_payload(payload(result)?))
    }

    /// A new consent round for an account whose authorization expired or was revoked.
    async fn reauthorize_account(
        &self,
        ctx: &Context<'_>,
        input: ReauthorizeAccountInput,
    ) -> ApiResult<StartAccountAuthorizationPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let id = decode(Kind::Account, &input.id)?;
        let seller_app = match (input.app_key, input.app_secret) {
            (Some(app_key), Some(secret)) => Some(SellerApp { app_key, app_secret: SecretString::from(secret) }),
            _ => None,
        };
        Ok(start_payload(payload(s.accounts.reauthorize(a, id, seller_app).await)?))
    }

    /// Finishes a consent round with the `state` and `code` the platform sent back (the
    /// callback passes them to the SPA). Only the user (or API key) that started the round
    /// may complete it: anyone else gets NOT_FOUND, as for an unknown state. An expired or
    /// already completed round answers `AUTHORIZATION_EXPIRED` / `AUTHORIZATION_USED`.
    async fn complete_account_authorization(
        &self,
        ctx: &Context<'_>,
        input: CompleteAccountAuthorizationInput,
    ) -> ApiResult<AccountPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let callback = AuthorizationCallback {
            platform: input.platform.into(),
            state: input.state,
            code: SecretString::from(input.code),
            seller_id: input.selling_partner_id,
        };
        let (acc, user_errors) = payload(s.accounts.complete_authorization(a, callback).await)?;
        Ok(AccountPayload { account: acc.map(Account), user_errors })
    }

    /// Connects a self-authorized Amazon seller (seller id, marketplace id, refresh token).
    async fn connect_amazon_account(
        &self,
        ctx: &Context<'_>,
        input: ConnectAmazonAccountInput,
    ) -> ApiResult<AccountPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let self_auth = AmazonSelfAuthorization {
            name: input.name,
            seller_id: input.seller_id,
            marketplace_id: input.marketplace_id,
            refresh_token: SecretString::from(input.refresh_token),
        };
        let (acc, user_errors) = payload(s.accounts.connect_amazon(a, self_auth).await)?;
        Ok(AccountPayload { account: acc.map(Account), user_errors })
    }

    /// Stops downloads and write-backs for the account (credentials are kept).
    async fn disable_account(&self, ctx: &Context<'_>, input: AccountIdInput) -> ApiResult<AccountPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let id = decode(Kind::Account, &input.id)?;
        let (acc, user_errors) = payload(s.accounts.disable(a, id).await)?;
        Ok(AccountPayload { account: acc.map(Account), user_errors })
    }

    /// Deletes the account, its credentials and its downloaded orders (OWNER only).
    async fn delete_account(&self, ctx: &Context<'_>, input: AccountIdInput) -> ApiResult<DeleteAccountPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let id = decode(Kind::Account, &input.id)?;
        let (deleted, user_errors) = payload(s.accounts.delete(a, id).await)?;
        Ok(DeleteAccountPayload { deleted_account_id: deleted.map(|d| encode(Kind::Account, d)), user_errors })
    }

    /// Downloads new and changed orders for each account, in the background.
    async fn download_orders(&self, ctx: &Context<'_>, input: DownloadOrdersInput) -> ApiResult<DownloadOrdersPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let ids = input.account_ids.iter().map(|id| decode(Kind::Account, id)).collect::<Result<Vec<_>, _>>()?;
        let (jobs, user_errors) = payload(s.orders.request_download(a, &ids, input.since).await)?;
        Ok(DownloadOrdersPayload { jobs: jobs.unwrap_or_default().into_iter().map(Job).collect(), user_errors })
    }
}
