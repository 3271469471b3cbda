//! Marketplace accounts: authorization (consent → callback → ACTIVE), encrypted
//! credentials, token refresh (single-flight per account, row-locked across processes),
//! disable/delete, and the `invalid_grant` → NEEDS_REAUTHORIZATION rule.

mod credentials;
mod tokens;

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
    auth::{Actor, Tenant, vault::Vault},
    connectors::marketplace::{AppCredentials, Marketplace},
    domain::{
        audit::{self, By},
        pagination::{self, Page, PageArgs},
        validate,
    },
    error::{DomainError, DomainResult, UserErrorCode},
    events::EventBus,
};

/// A platform's connector and the app it authorizes sellers for.
#[derive(Clone)]
pub struct PlatformConnector {
    pub connector: Arc<dyn Marketplace>,
    /// The deployment's app; `None` for platforms where each seller brings their own.
    pub app: Option<AppCredentials>,
}

#[derive(Clone)]
pub struct Accounts {
    db: DatabaseConnection,
    vault: Arc<Vault>,
    bus: EventBus,
    platforms: Arc<HashMap<Platform, PlatformConnector>>,
    refresh_locks: Arc<tokens::RefreshLocks>,
}

/// What `startAccountAuthorization` returns.
pub struct AuthorizationStart {
    pub account: account::Model,
    /// The consent page the seller opens.
    pub authorization_url: String,
}

/// Refresh tokens closer than this to expiry make the account "needs reauthorization soon".
pub const REAUTH_WARNING: i64 = 14;

pub fn needs_reauthorization_soon(a: &account::Model) -> bool {
    a.status == AccountStatus::NeedsReauthorization
        || a.refresh_token_expires_at.is_some_and(|t| t - Utc::now() < Duration::days(REAUTH_WARNING))
}

impl Accounts {
    pub fn new(
        db: DatabaseConnection,
        vault: Arc<Vault>,
        bus: EventBus,
        platforms: HashMap<Platform, PlatformConnector>,
    ) -> Self {
        Self { db, vault, bus, platforms: Arc::new(platforms), refresh_locks: Arc::default() }
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

    /// Creates a PENDING_AUTHORIZATION account and returns the consent URL.
    pub async fn start_authorization(
        &self,
        actor: &Actor,
        platform: Platform,
        name: &str,
    ) -> DomainResult<AuthorizationStart> {
        actor.require(Role::Admin)?;
        let name = validate::name(name, 200, &["input", "name"]).map_err(|e| DomainError::User(vec![e]))?;
        let pc = self.platform(platform)?.clone();
        let app = pc.app.clone().ok_or_else(|| {
            DomainError::user(
                UserErrorCode::Required,
                &["input", "appKey"],
                "This platform needs the seller's app key and secret.",
            )
        })?;
        let org = actor.tenant().id();
        let state = random_state();
        let now = Utc::now();
        let txn = self.db.begin().await?;
        let model = account::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(org),
            platform: Set(platform),
            name: Set(name),
            status: Set(AccountStatus::PendingAuthorization),
            external_account_id: Set(None),
            marketplace_id: Set(None),
            region: Set(None),
            credentials_ciphertext: Set(None),
            credentials_nonce: Set(None),
            credentials_key_version: Set(None),
            oauth_state: Set(Some(state.clone())),
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
        Ok(AuthorizationStart { authorization_url: pc.connector.authorization_url(&app, &state), account: model })
    }

    /// Starts a new consent round for an existing account (expired or revoked consent).
    pub async fn reauthorize(&self, actor: &Actor, id: Uuid) -> DomainResult<AuthorizationStart> {
        actor.require(Role::Admin)?;
        let acc = self.get(actor.tenant(), id).await?;
        let pc = self.platform(acc.platform)?.clone();
        let app = pc.app.clone().ok_or(DomainError::Forbidden("platform not configured"))?;
        let state = random_state();
        let mut active: account::ActiveModel = acc.into();
        active.oauth_state = Set(Some(state.clone()));
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
        Ok(AuthorizationStart { authorization_url: pc.connector.authorization_url(&app, &state), account: model })
    }

    /// Finishes the consent round from the platform's redirect: `state` finds the account
    /// (it is unguessable and single-use), the code is exchanged, tokens sealed.
    pub async fn complete_authorization(
        &self,
        platform: Platform,
        state: &str,
        code: &str,
    ) -> DomainResult<account::Model> {
        let acc = account::Entity::find()
            .filter(account::Column::OauthState.eq(state))
            .filter(account::Column::Platform.eq(platform))
            .one(&self.db)
            .await?
            .ok_or(DomainError::NotFound)?;
        let pc = self.platform(platform)?.clone();
        let app = pc.app.clone().ok_or(DomainError::Forbidden("platform not configured"))?;
        let tokens = match pc.connector.exchange_code(&app, code).await {
            Ok(t) => t,
            Err(e) => {
                self.record_sync_error(acc.id, &e.to_string(), None).await?;
                return Err(DomainError::BadInput { field: Some("code".into()), message: e.to_string() });
            }
        };
        let creds = Credentials::from_tokens(&tokens, None);
        let sealed = creds.seal(&self.vault, acc.organization_id, acc.id)?;
        let txn = self.db.begin().await?;
        let org = acc.organization_id;
        let mut active: account::ActiveModel = acc.into();
        active.status = Set(AccountStatus::Active);
        active.oauth_state = Set(None);
        active.credentials_ciphertext = Set(Some(sealed.ciphertext));
        active.credentials_nonce = Set(Some(sealed.nonce));
        active.credentials_key_version = Set(Some(sealed.key_version));
        active.access_token_expires_at = Set(Some(tokens.access_expires_at));
        active.refresh_token_expires_at = Set(tokens.refresh_expires_at);
        active.last_sync_error = Set(None);
        active.disabled_at = Set(None);
        active.updated_at = Set(Utc::now());
        let model = active.update(&txn).await?;
        let event = audit::record(&txn, org, By::System, "account.authorized", "Account", Some(model.id), None).await?;
        txn.commit().await?;
        self.bus.publish_all([event]);
        Ok(model)
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
        Ok(self.platform(platform)?.connector.clone())
    }
}

fn random_state() -> String {
    let mut b = [0u8; 24];
    rand::fill(&mut b);
    hex::encode(b)
}
