//! Marketplace accounts: authorization (consent → callback → the SPA completes it as the
//! user who started it → ACTIVE), encrypted credentials, token refresh (single-flight per
//! account, row-locked across processes),
//! disable/delete, and the `invalid_grant` → NEEDS_REAUTHORIZATION rule.

mod credentials;
pub mod tokens;

use std::{collections::HashMap, sync::Arc};

use chrono::{Duration, Utc};
use entity::{
    account,
    enums::{AccountStatus, Platform, Role},
};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set, TransactionTrait};
use uuid::Uuid;

pub use credentials::Credentials;
pub use tokens::TokenError;

use crate::{
    auth::{Actor, Credential, Tenant, vault::Vault},
    connectors::{
        marketplace::{AccountRef, AppCredentials, Marketplace},
        oauth::Authorizer,
    },
    domain::{
        audit::{self, By},
        pagination::{self, Page, PageArgs},
        validate,
    },
    error::{DomainError, DomainResult, UserError, UserErrorCode},
    events::EventBus,
};

/// A platform's connector and the app it authorizes sellers for.
#[derive(Clone)]
pub struct PlatformConnector {
    /// Consent, code exchange and refresh.
    pub auth: Arc<dyn Authorizer>,
    /// Order download and write-back (`None` for the OrangeConnex warehouse).
    pub marketplace: Option<Arc<dyn Marketplace>>,
    /// The deployment's app; `None` for platforms where each seller brings their own.
    pub app: Option<AppCredentials>,
}

impl PlatformConnector {
    pub fn marketplace(connector: Arc<dyn Marketplace>, app: Option<AppCredentials>) -> Self {
        Self { auth: connector.clone(), marketplace: Some(connector), app }
    }
}

#[derive(Clone)]
pub struct Accounts {
    db: DatabaseConnection,
    vault: Arc<Vault>,
    bus: EventBus,
    platforms: Arc<HashMap<Platform, PlatformConnector>>,
    refresh_locks: Arc<tokens::RefreshLocks>,
    /// This server's public base URL (OAuth redirect URLs).
    public_url: String,
}

/// What `startAccountAuthorization` returns.
pub struct AuthorizationStart {
    pub account: account::Model,
    /// The consent page the seller opens (none yet when the seller's app is still missing).
    pub authorization_url: Option<String>,
    /// For platforms where the seller creates their own app (Wish, AliExpress): the
    /// redirect URL to register with that app (seed 000 §3: 添加账号页面上显示的URL).
    pub redirect_url: Option<String>,
}

/// A seller's own app key and secret (AliExpress APPkey / APP密钥, Wish client id/secret).
pub struct SellerApp {
    pub app_key: String,
    pub app_secret: secrecy::SecretString,
}

/// A self-authorized Amazon seller (seed 000 §4: SellId, MarketplaceId, plus the SP-API
/// refresh token; the legacy AWS keys are accepted and ignored).
pub struct AmazonSelfAuthorization {
    pub name: String,
    pub seller_id: String,
    pub marketplace_id: String,
    pub refresh_token: secrecy::SecretString,
}

/// How long a consent round's `state` may be completed after `start_authorization` or
/// `reauthorize` (the seller reads the consent page and agrees; the platform's code itself
/// lives minutes).
pub const AUTHORIZATION_TTL_MINUTES: i64 = 60;

/// The caller a consent round is bound to: the user, or the API key, that started it.
fn principal(actor: &Actor) -> Uuid {
    match actor.credential() {
        Credential::User { user_id } => user_id,
        Credential::ApiKey { api_key_id } => api_key_id,
    }
}

/// What the SPA hands back from the platform's redirect to finish a consent round.
pub struct AuthorizationCallback {
    pub platform: Platform,
    pub state: String,
    pub code: secrecy::SecretString,
    /// Amazon's `selling_partner_id`.
    pub seller_id: Option<String>,
}

/// Refresh tokens closer than this to expiry make the account "needs reauthorization soon".
pub const REAUTH_WARNING: i64 = 14;

/// OrangeConnex's refresh token lives a year and needs the seller at OC's login page to
/// renew: warn a month ahead.
pub const REAUTH_WARNING_ORANGECONNEX: i64 = 30;

pub fn needs_reauthorization_soon(a: &account::Model) -> bool {
    let days = if a.platform == Platform::Orangeconnex { REAUTH_WARNING_ORANGECONNEX } else { REAUTH_WARNING };
    a.status == AccountStatus::NeedsReauthorization
        || a.refresh_token_expires_at.is_some_and(|t| t - Utc::now() < Duration::days(days))
}

impl Accounts {
    pub fn new(
        db: DatabaseConnection,
        vault: Arc<Vault>,
        bus: EventBus,
        platforms: HashMap<Platform, PlatformConnector>,
        public_url: String,
    ) -> Self {
        Self { db, vault, bus, platforms: Arc::new(platforms), refresh_locks: Arc::default(), public_url }
    }

    /// The redirect URL for a platform; Wish passes no `state`, so it rides in the URL.
    fn redirect_url(&self, platform: Platform, state: &str) -> String {
        let base = format!("{}/oauth/callback/{}", self.public_url, format!("{platform:?}").to_lowercase());
        if platform == Platform::Wish { format!("{base}?state={state}") } else { base }
    }

    /// The app to use for an account: the deployment's, or the seller's own (stored sealed).
    fn app_for(&self, acc: &account::Model, creds: &Credentials) -> DomainResult<AppCredentials> {
        let pc = self.platform(acc.platform)?;
        if let Some(app) = &pc.app {
            return Ok(app.clone());
        }
        match (&creds.app_key, &creds.app_secret) {
            (Some(k), Some(s)) => Ok(AppCredentials {
                client_id: k.clone(),
                client_secret: s.clone(),
                redirect: self.redirect_url(acc.platform, acc.oauth_state.as_deref().unwrap_or_default()),
            }),
            _ => Err(DomainError::Conflict("the account has no app key and secret".into())),
        }
    }

    fn open_credentials(&self, acc: &account::Model) -> DomainResult<Credentials> {
        match (&acc.credentials_ciphertext, &acc.credentials_nonce, acc.credentials_key_version) {
            (Some(c), Some(n), Some(v)) => Credentials::open(
                &self.vault,
                acc.organization_id,
                acc.id,
                &crate::auth::vault::Sealed { ciphertext: c.clone(), nonce: n.clone(), key_version: v },
            )
            .map_err(|_| self.credentials_unreadable(acc)),
            _ => Ok(Credentials::empty()),
        }
    }

    /// What a connector needs to act for this account.
    pub fn account_ref(&self, acc: &account::Model) -> DomainResult<AccountRef> {
        let creds = self.open_credentials(acc)?;
        let per_seller = self.platform(acc.platform)?.app.is_none();
        Ok(AccountRef {
            key: acc.id.to_string(),
            seller_id: acc.external_account_id.clone(),
            marketplace_id: acc.marketplace_id.clone(),
            marketplace_ids: marketplace_ids_of(acc),
            region: acc.region.clone(),
            app: if per_seller { Some(self.app_for(acc, &creds)?) } else { None },
        })
    }

    fn platform(&self, p: Platform) -> DomainResult<&PlatformConnector> {
        self.platforms.get(&p).ok_or_else(|| {
            DomainError::user(
                UserErrorCode::Invalid,
                &["input", "platform"],
                "This platform is not available on this server yet.",
            )
        })
    }

    /// Creates a PENDING_AUTHORIZATION account and returns the consent URL. Platforms
    /// where each seller registers their own app need `seller_app`.
    pub async fn start_authorization(
        &self,
        actor: &Actor,
        platform: Platform,
        name: &str,
        seller_app: Option<SellerApp>,
    ) -> DomainResult<AuthorizationStart> {
        actor.require(Role::Admin)?;
        let name = validate::name(name, 200, &["input", "name"]).map_err(|e| DomainError::User(vec![e]))?;
        let pc = self.platform(platform)?.clone();
        // Sellers who bring their own app may start without it: they get the redirect URL
        // to register first, then send the key and secret with `reauthorize`.
        let seller_app = match (&pc.app, seller_app) {
            (Some(_), _) => None,
            (None, a) => a.map(check_seller_app).transpose()?,
        };
        let org = actor.tenant().id();
        let state = random_state();
        let now = Utc::now();
        let id = Uuid::now_v7();
        let sealed = match &seller_app {
            Some(a) => {
                Some(Credentials::app(a.app_key.trim().to_owned(), a.app_secret.clone()).seal(&self.vault, org, id)?)
            }
            None => None,
        };
        let txn = self.db.begin().await?;
        let model = account::ActiveModel {
            id: Set(id),
            organization_id: Set(org),
            platform: Set(platform),
            name: Set(name),
            status: Set(AccountStatus::PendingAuthorization),
            external_account_id: Set(None),
            marketplace_id: Set(None),
            region: Set(None),
            platform_user_name: Set(None),
            marketplace_ids: Set(None),
            carriers_json: Set(None),
            carriers_fetched_at: Set(None),
            credentials_ciphertext: Set(sealed.as_ref().map(|s| s.ciphertext.clone())),
            credentials_nonce: Set(sealed.as_ref().map(|s| s.nonce.clone())),
            credentials_key_version: Set(sealed.as_ref().map(|s| s.key_version)),
            oauth_state: Set(Some(state.clone())),
            oauth_started_by: Set(Some(principal(actor))),
            oauth_state_expires_at: Set(Some(now + Duration::minutes(AUTHORIZATION_TTL_MINUTES))),
            access_token_expires_at: Set(None),
            refresh_token_expires_at: Set(None),
            sync_watermark: Set(None),
            sync_cursor: Set(None),
            last_synced_at: Set(None),
            last_sync_error: Set(None),
            disabled_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await?;
        let event = audit::record(
            &txn,
            org,
            By::Actor(actor),
            "account.authorization_started",
            "Account",
            Some(model.id),
            Some(serde_json::json!({ "platform": platform })),
        )
        .await?;
        txn.commit().await?;
        self.bus.publish_all([event]);
        let authorization_url = match (&pc.app, &seller_app) {
            (None, None) => None,
            _ => Some(pc.auth.authorization_url(&self.app_for(&model, &self.open_credentials(&model)?)?, &state)),
        };
        Ok(AuthorizationStart {
            authorization_url,
            redirect_url: pc.app.is_none().then(|| self.redirect_url(platform, &state)),
            account: model,
        })
    }

    /// Starts a new consent round for an existing account (expired or revoked consent).
    pub async fn reauthorize(
        &self,
        actor: &Actor,
        id: Uuid,
        seller_app: Option<SellerApp>,
    ) -> DomainResult<AuthorizationStart> {
        actor.require(Role::Admin)?;
        let acc = self.get(actor.tenant(), id).await?;
        let pc = self.platform(acc.platform)?.clone();
        let per_seller = pc.app.is_none();
        // Wish's registered redirect URL carries the state, so it stays stable per account.
        let state = match (&acc.oauth_state, acc.platform) {
            (Some(s), Platform::Wish) => s.clone(),
            _ => random_state(),
        };
        // Unreadable credentials are what a new consent round replaces.
        let mut creds = self.open_credentials(&acc).unwrap_or_else(|_| Credentials::empty());
        if let (true, Some(a)) = (per_seller, seller_app) {
            let a = check_seller_app(a)?;
            creds = Credentials::app(a.app_key.trim().to_owned(), a.app_secret);
        }
        if per_seller && creds.app_key.is_none() {
            return Err(DomainError::User(seller_app_required()));
        }
        let sealed = creds.seal(&self.vault, acc.organization_id, acc.id)?;
        let mut active: account::ActiveModel = acc.into();
        active.oauth_state = Set(Some(state.clone()));
        // A new round, bound to whoever asked for it (for Wish too: its state is stable, the
        // binding and the deadline are not).
        active.oauth_started_by = Set(Some(principal(actor)));
        active.oauth_state_expires_at = Set(Some(Utc::now() + Duration::minutes(AUTHORIZATION_TTL_MINUTES)));
        active.credentials_ciphertext = Set(Some(sealed.ciphertext));
        active.credentials_nonce = Set(Some(sealed.nonce));
        active.credentials_key_version = Set(Some(sealed.key_version));
        active.updated_at = Set(Utc::now());
        let txn = self.db.begin().await?;
        let model = active.update(&txn).await?;
        let event = audit::record(
            &txn,
            model.organization_id,
            By::Actor(actor),
            "account.reauthorization_started",
            "Account",
            Some(model.id),
            None,
        )
        .await?;
        txn.commit().await?;
        self.bus.publish_all([event]);
        let app = self.app_for(&model, &creds)?;
        Ok(AuthorizationStart {
            authorization_url: Some(pc.auth.authorization_url(&app, &state)),
            redirect_url: per_seller.then(|| self.redirect_url(model.platform, &state)),
            account: model,
        })
    }

    /// Finishes a consent round with what the platform sent the browser back with, handed
    /// over by the SPA as the caller who started the round. `state` finds the account in the
    /// caller's organization; a round started by anyone else (another organization, or
    /// another user of this one) answers NOT_FOUND exactly like an unknown state, so a
    /// forwarded consent link cannot land a seller's tokens in the sender's organization.
    /// The state is claimed before the code is spent (single use); an expired or already
    /// completed round is a typed user error.
    pub async fn complete_authorization(
        &self,
        actor: &Actor,
        callback: AuthorizationCallback,
    ) -> DomainResult<account::Model> {
        use secrecy::ExposeSecret;
        actor.require(Role::Admin)?;
        let AuthorizationCallback { platform, state, code, seller_id } = callback;
        // States are 48 hex characters; anything else cannot name a round (and never
        // reaches the database: no NUL or 1 MB strings in its query).
        if state.is_empty() || state.len() > 64 || !state.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(DomainError::NotFound);
        }
        // Not trimmed: some platforms' codes hold `+` and `/`.
        let code = code.expose_secret();
        if code.trim().is_empty() || code.len() > 4096 || code.chars().any(char::is_control) {
            return Err(DomainError::user(
                UserErrorCode::Invalid,
                &["input", "code"],
                "This is not an authorization code the platform sends.",
            ));
        }
        let seller_id = seller_id
            .map(|s| validate::name(&s, 200, &["input", "sellingPartnerId"]))
            .transpose()
            .map_err(|e| DomainError::User(vec![e]))?;
        let me = principal(actor);
        let acc = account::Entity::find()
            .filter(account::Column::OauthState.eq(state.as_str()))
            .filter(account::Column::Platform.eq(platform))
            .filter(account::Column::OrganizationId.eq(actor.tenant().id()))
            .one(&self.db)
            .await?
            .filter(|a| a.oauth_started_by == Some(me))
            .ok_or(DomainError::NotFound)?;
        let used = || {
            DomainError::user(
                UserErrorCode::AuthorizationUsed,
                &["input", "state"],
                "This authorization was already completed; start a new one to connect again.",
            )
        };
        match acc.oauth_state_expires_at {
            None => return Err(used()),
            Some(t) if t <= Utc::now() => {
                return Err(DomainError::user(
                    UserErrorCode::AuthorizationExpired,
                    &["input", "state"],
                    "This authorization expired; start it again.",
                ));
            }
            Some(_) => {}
        }
        if acc.status == AccountStatus::Disabled {
            return Err(DomainError::Conflict("the account is disabled; enable it before authorizing".into()));
        }
        let pc = self.platform(platform)?.clone();
        let creds = self.open_credentials(&acc)?;
        let app = self.app_for(&acc, &creds)?;
        // Claim the round before spending the code: two completions of the same redirect
        // cannot both succeed. The state itself stays (Wish's registered redirect URL embeds
        // it, and a used state is then told apart from an unknown one); a new round rebinds.
        let claimed = account::Entity::update_many()
            .col_expr(
                account::Column::OauthStateExpiresAt,
                sea_orm::sea_query::Expr::value(Option::<chrono::DateTime<Utc>>::None),
            )
            .filter(account::Column::Id.eq(acc.id))
            .filter(account::Column::OauthState.eq(state.as_str()))
            .filter(account::Column::OauthStartedBy.eq(me))
            .filter(account::Column::OauthStateExpiresAt.is_not_null())
            .exec(&self.db)
            .await?
            .rows_affected;
        if claimed != 1 {
            return Err(used());
        }
        let tokens = match pc.auth.exchange_code(&app, code).await {
            Ok(t) => t,
            Err(e) => {
                self.record_sync_error(acc.id, &e.to_string(), None).await?;
                return Err(DomainError::user(
                    UserErrorCode::Invalid,
                    &["input", "code"],
                    format!("The platform refused the authorization code ({e}); start the authorization again."),
                ));
            }
        };
        let creds = creds.with_tokens(&tokens);
        let sealed = creds.seal(&self.vault, acc.organization_id, acc.id)?;
        let seller_id = seller_id.or(tokens.seller_id.clone()).or(acc.external_account_id.clone());
        let txn = self.db.begin().await?;
        let org = acc.organization_id;
        let mut active: account::ActiveModel = acc.into();
        active.status = Set(AccountStatus::Active);
        active.oauth_state_expires_at = Set(None);
        active.external_account_id = Set(seller_id);
        active.credentials_ciphertext = Set(Some(sealed.ciphertext));
        active.credentials_nonce = Set(Some(sealed.nonce));
        active.credentials_key_version = Set(Some(sealed.key_version));
        active.access_token_expires_at = Set(Some(tokens.access_expires_at));
        active.refresh_token_expires_at = Set(tokens.refresh_expires_at);
        active.last_sync_error = Set(None);
        active.disabled_at = Set(None);
        active.updated_at = Set(Utc::now());
        let model = active.update(&txn).await?;
        let event =
            audit::record(&txn, org, By::Actor(actor), "account.authorized", "Account", Some(model.id), None).await?;
        txn.commit().await?;
        self.bus.publish_all([event]);
        Ok(self.read_facts(model).await)
    }

    /// Reads and stores what the platform says about the connected seller (eBay username
    /// for OrangeConnex's `ebayId`, Amazon's marketplaces). Best effort: the account works
    /// without them, and order download tries again while they are missing.
    pub async fn read_facts(&self, acc: account::Model) -> account::Model {
        match self.try_read_facts(&acc).await {
            Ok(Some(updated)) => updated,
            Ok(None) => acc,
            Err(e) => {
                tracing::warn!(account = %acc.id, error = %e, "could not read the account's facts from the platform");
                acc
            }
        }
    }

    /// True when facts the product relies on are still unknown for this account.
    pub fn facts_missing(acc: &account::Model) -> bool {
        match acc.platform {
            Platform::Ebay => acc.platform_user_name.is_none(),
            Platform::Amazon => acc.marketplace_ids.is_none(),
            _ => false,
        }
    }

    async fn try_read_facts(&self, acc: &account::Model) -> Result<Option<account::Model>, TokenError> {
        if !matches!(acc.platform, Platform::Ebay | Platform::Amazon) {
            return Ok(None);
        }
        let connector = self.connector(acc.platform)?;
        let account_ref = self.account_ref(acc)?;
        let token = self.access_token(acc.id, false).await?;
        let facts = connector.account_facts(&token, &account_ref).await?;
        let mut active: account::ActiveModel = acc.clone().into();
        if let Some(user) = facts.user_name {
            active.platform_user_name = Set(Some(user));
        }
        if !facts.marketplace_ids.is_empty() {
            active.marketplace_ids =
                Set(Some(serde_json::to_string(&facts.marketplace_ids).map_err(DomainError::internal)?));
        }
        if !active.is_changed() {
            return Ok(None);
        }
        active.updated_at = Set(Utc::now());
        Ok(Some(active.update(&self.db).await.map_err(DomainError::from)?))
    }

    /// Connects an Amazon seller who authorized the app themselves (a refresh token from
    /// Seller Central): the token is checked by refreshing it once before the account is saved.
    pub async fn connect_amazon(&self, actor: &Actor, input: AmazonSelfAuthorization) -> DomainResult<account::Model> {
        actor.require(Role::Admin)?;
        let name = validate::name(&input.name, 200, &["input", "name"]).map_err(|e| DomainError::User(vec![e]))?;
        let seller_id =
            validate::name(&input.seller_id, 64, &["input", "sellerId"]).map_err(|e| DomainError::User(vec![e]))?;
        let marketplace_id = validate::name(&input.marketplace_id, 32, &["input", "marketplaceId"])
            .map_err(|e| DomainError::User(vec![e]))?;
        let pc = self.platform(Platform::Amazon)?.clone();
        let app = pc.app.clone().ok_or(DomainError::Forbidden("Amazon is not configured on this server"))?;
        let tokens = pc.auth.refresh(&app, &input.refresh_token).await.map_err(|e| {
            DomainError::user(
                UserErrorCode::Invalid,
                &["input", "refreshToken"],
                format!("Amazon refused this refresh token: {e}"),
            )
        })?;
        let org = actor.tenant().id();
        let id = Uuid::now_v7();
        let creds =
            Credentials { refresh_token: Some(input.refresh_token), ..Credentials::empty() }.with_tokens(&tokens);
        let sealed = creds.seal(&self.vault, org, id)?;
        let now = Utc::now();
        let txn = self.db.begin().await?;
        let model = account::ActiveModel {
            id: Set(id),
            organization_id: Set(org),
            platform: Set(Platform::Amazon),
            name: Set(name),
            status: Set(AccountStatus::Active),
            external_account_id: Set(Some(seller_id)),
            marketplace_id: Set(Some(marketplace_id)),
            region: Set(None),
            platform_user_name: Set(None),
            marketplace_ids: Set(None),
            carriers_json: Set(None),
            carriers_fetched_at: Set(None),
            credentials_ciphertext: Set(Some(sealed.ciphertext)),
            credentials_nonce: Set(Some(sealed.nonce)),
            credentials_key_version: Set(Some(sealed.key_version)),
            oauth_state: Set(None),
            oauth_started_by: Set(None),
            oauth_state_expires_at: Set(None),
            access_token_expires_at: Set(Some(tokens.access_expires_at)),
            refresh_token_expires_at: Set(Some(now + Duration::days(365))),
            sync_watermark: Set(None),
            sync_cursor: Set(None),
            last_synced_at: Set(None),
            last_sync_error: Set(None),
            disabled_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(|e| match e.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => DomainError::user(
                UserErrorCode::Taken,
                &["input", "sellerId"],
                "This Amazon seller is already connected.",
            ),
            _ => e.into(),
        })?;
        let event = audit::record(&txn, org, By::Actor(actor), "account.authorized", "Account", Some(id), None).await?;
        txn.commit().await?;
        self.bus.publish_all([event]);
        Ok(self.read_facts(model).await)
    }

    pub async fn get(&self, tenant: Tenant, id: Uuid) -> DomainResult<account::Model> {
        account::Entity::find_by_id(id)
            .filter(account::Column::OrganizationId.eq(tenant.id()))
            .one(&self.db)
            .await?
            .ok_or(DomainError::NotFound)
    }

    pub async fn by_ids(&self, tenant: Tenant, ids: &[Uuid]) -> DomainResult<Vec<account::Model>> {
        Ok(account::Entity::find()
            .filter(account::Column::OrganizationId.eq(tenant.id()))
            .filter(account::Column::Id.is_in(ids.iter().copied()))
            .all(&self.db)
            .await?)
    }

    pub async fn list(
        &self,
        tenant: Tenant,
        platform: Option<Platform>,
        args: PageArgs,
    ) -> DomainResult<Page<account::Model>> {
        let mut q = account::Entity::find().filter(account::Column::OrganizationId.eq(tenant.id()));
        if let Some(p) = platform {
            q = q.filter(account::Column::Platform.eq(p));
        }
        pagination::fetch(&self.db, q, account::Column::Id, args).await
    }

    pub async fn disable(&self, actor: &Actor, id: Uuid) -> DomainResult<account::Model> {
        actor.require(Role::Admin)?;
        let acc = self.get(actor.tenant(), id).await?;
        let mut active: account::ActiveModel = acc.into();
        active.status = Set(AccountStatus::Disabled);
        active.disabled_at = Set(Some(Utc::now()));
        active.updated_at = Set(Utc::now());
        let txn = self.db.begin().await?;
        let model = active.update(&txn).await?;
        let event =
            audit::record(&txn, model.organization_id, By::Actor(actor), "account.disabled", "Account", Some(id), None)
                .await?;
        txn.commit().await?;
        self.bus.publish_all([event]);
        Ok(model)
    }

    /// Deletes the account, its credentials and (by cascade) its downloaded orders.
    pub async fn delete(&self, actor: &Actor, id: Uuid) -> DomainResult<Uuid> {
        actor.require(Role::Owner)?;
        let acc = self.get(actor.tenant(), id).await?;
        let txn = self.db.begin().await?;
        account::Entity::delete_by_id(acc.id).exec(&txn).await?;
        let event = audit::record(
            &txn,
            acc.organization_id,
            By::Actor(actor),
            "account.deleted",
            "Account",
            Some(id),
            Some(serde_json::json!({ "platform": acc.platform, "name": acc.name })),
        )
        .await?;
        txn.commit().await?;
        self.bus.publish_all([event]);
        Ok(id)
    }

    pub(crate) async fn record_sync_error(
        &self,
        id: Uuid,
        message: &str,
        status: Option<AccountStatus>,
    ) -> DomainResult<()> {
        let Some(acc) = account::Entity::find_by_id(id).one(&self.db).await? else {
            return Ok(());
        };
        let mut active: account::ActiveModel = acc.into();
        active.last_sync_error = Set(Some(message.chars().take(2000).collect()));
        if let Some(s) = status {
            active.status = Set(s);
        }
        active.updated_at = Set(Utc::now());
        active.update(&self.db).await?;
        Ok(())
    }

    pub fn connector(&self, platform: Platform) -> DomainResult<Arc<dyn Marketplace>> {
        self.platform(platform)?.marketplace.clone().ok_or_else(|| {
            DomainError::user(UserErrorCode::Invalid, &["input", "accountId"], "This account is not a marketplace.")
        })
    }
}

fn seller_app_required() -> Vec<UserError> {
    vec![
        UserError::new(
            UserErrorCode::Required,
            &["input", "appKey"],
            "This platform needs the app key from your developer account.",
        ),
        UserError::new(
            UserErrorCode::Required,
            &["input", "appSecret"],
            "This platform needs the app secret from your developer account.",
        ),
    ]
}

fn check_seller_app(a: SellerApp) -> DomainResult<SellerApp> {
    use secrecy::ExposeSecret;
    if a.app_key.trim().is_empty() || a.app_secret.expose_secret().trim().is_empty() {
        return Err(DomainError::User(seller_app_required()));
    }
    Ok(a)
}

/// The account's stored marketplace list (a JSON array), if any.
pub fn marketplace_ids_of(acc: &account::Model) -> Vec<String> {
    acc.marketplace_ids.as_deref().and_then(|j| serde_json::from_str(j).ok()).unwrap_or_default()
}

fn random_state() -> String {
    let mut b = [0u8; 24];
    rand::fill(&mut b);
    hex::encode(b)
}
