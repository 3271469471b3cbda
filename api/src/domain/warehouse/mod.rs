//! The OrangeConnex overseas warehouse (seed 003): SKUs pushed to and pulled from the
//! warehouse, its services as channels, outbound orders placed by pushing orders on those
//! channels (see [`outbound`]), inbound shipments with their labels and clearance papers,
//! and stock. The warehouse account is an `accounts` row (platform ORANGECONNEX) authorized
//! like a marketplace; every call goes through [`Warehouse::call`], which supplies a fresh
//! access token and refreshes once when OC refuses it.

pub mod inbound;
pub mod outbound;
pub mod regions;
pub mod services;
pub mod skus;
pub mod stock;
pub mod sync;

use std::sync::Arc;

use entity::{
    account,
    enums::{AccountStatus, Platform},
};
use sea_orm::{DatabaseConnection, EntityTrait};
use secrecy::SecretString;
use uuid::Uuid;

use crate::{
    auth::Tenant,
    connectors::{ConnectorError, logistics::Warehouse as WarehouseConnector},
    domain::{
        accounts::{Accounts, TokenError},
        labels::links::Links,
    },
    error::{DomainError, DomainResult, UserErrorCode},
    events::EventBus,
};

#[derive(Clone)]
pub struct Warehouse {
    pub(crate) db: DatabaseConnection,
    pub(crate) bus: EventBus,
    pub(crate) accounts: Accounts,
    connector: Option<Arc<dyn WarehouseConnector>>,
    /// Signed download links for inbound label files.
    pub(crate) links: Links,
    pub(crate) public_url: String,
}

/// Why a warehouse call failed, for callers that decide between retry and refusal.
#[derive(Debug)]
pub enum CallError {
    Domain(DomainError),
    /// The account must be authorized again.
    Reauthorize(String),
    Connector(ConnectorError),
}

/// A creation that may or may not have happened at the provider: the request may have
/// reached it (timeout, 5xx, a dropped connection, an answer we cannot read). A 429, a
/// refusal or a token error means nothing was created.
pub(crate) fn is_unknown_outcome(e: &ConnectorError) -> bool {
    matches!(e, ConnectorError::Transient(_) | ConnectorError::Decode(_))
}

/// Creates the `pending` items of `batch` at the provider, never twice: when the
/// creation's outcome is unknown, `lookup` asks the provider for the items sent (one
/// `Some` per item it holds, in order); those found are its answer and only those
/// confirmed absent are created again, once. A second unknown outcome is returned as the
/// error, for a later attempt that looks up first. Results land in `out` by index.
pub(crate) async fn create_once<R, T, C, CF, L, LF>(
    what: &str,
    batch: &[R],
    mut pending: Vec<usize>,
    out: &mut [Option<T>],
    create: C,
    lookup: L,
) -> Result<(), CallError>
where
    R: Clone,
    C: Fn(Vec<R>) -> CF,
    CF: std::future::Future<Output = Result<Vec<T>, CallError>>,
    L: Fn(Vec<R>) -> LF,
    LF: std::future::Future<Output = Result<Vec<Option<T>>, CallError>>,
{
    for round in 0..2 {
        if pending.is_empty() {
            break;
        }
        let sent: Vec<R> = pending.iter().map(|i| batch[*i].clone()).collect();
        match create(sent.clone()).await {
            Ok(results) => {
                for (i, r) in pending.iter().zip(results) {
                    out[*i] = Some(r);
                }
                break;
            }
            Err(CallError::Connector(e)) if is_unknown_outcome(&e) && round == 0 => {
                tracing::warn!(error = %e, items = sent.len(), "OrangeConnex {what} creation outcome unknown; looking the references up");
                let mut found = lookup(sent).await?.into_iter();
                let mut absent = Vec::new();
                for i in pending {
                    match found.next().flatten() {
                        Some(v) => out[i] = Some(v),
                        None => absent.push(i),
                    }
                }
                pending = absent;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

impl From<DomainError> for CallError {
    fn from(e: DomainError) -> Self {
        Self::Domain(e)
    }
}

impl From<sea_orm::DbErr> for CallError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Domain(e.into())
    }
}

impl CallError {
    /// As the error a mutation returns, naming `field` for provider refusals.
    pub fn into_domain(self, field: &[&str]) -> DomainError {
        match self {
            Self::Domain(e) => e,
            Self::Reauthorize(m) => DomainError::user(
                UserErrorCode::AccountNeedsReauthorization,
                &["input", "accountId"],
                format!("Reauthorize the OrangeConnex account: {m}"),
            ),
            Self::Connector(ConnectorError::RateLimited { retry_after }) => {
                DomainError::RateLimited { retry_after_secs: retry_after.as_secs_f64().ceil() as u64 }
            }
            Self::Connector(e) if e.is_retryable() => DomainError::user(
                UserErrorCode::ProviderUnavailable,
                field,
                format!("OrangeConnex could not be reached; try again shortly. ({e})"),
            ),
            Self::Connector(ConnectorError::Rejected { message, .. }) => {
                DomainError::user(UserErrorCode::ProviderRejected, field, format!("OrangeConnex refused: {message}"))
            }
            Self::Connector(e) => {
                DomainError::user(UserErrorCode::ProviderRejected, field, format!("OrangeConnex: {e}"))
            }
        }
    }
}

impl Warehouse {
    pub fn new(
        db: DatabaseConnection,
        bus: EventBus,
        accounts: Accounts,
        connector: Option<Arc<dyn WarehouseConnector>>,
        links: Links,
        public_url: String,
    ) -> Self {
        Self { db, bus, accounts, connector, links, public_url }
    }

    fn connector(&self) -> DomainResult<&Arc<dyn WarehouseConnector>> {
        self.connector.as_ref().ok_or_else(|| {
            DomainError::user(
                UserErrorCode::ChannelUnavailable,
                &["input", "accountId"],
                "OrangeConnex is not configured on this server.",
            )
        })
    }

    /// The tenant's OrangeConnex account `id`, active.
    pub async fn account(&self, tenant: Tenant, id: Uuid) -> DomainResult<account::Model> {
        let acc = self.accounts.get(tenant, id).await?;
        check_account(&acc)?;
        Ok(acc)
    }

    /// Runs `f` with a valid access token for `account_id`; when OC refuses the token, the
    /// token is refreshed (single-flight) and `f` runs once more.
    pub async fn call<T, F, Fut>(&self, account_id: Uuid, f: F) -> Result<T, CallError>
    where
        F: Fn(Arc<dyn WarehouseConnector>, SecretString) -> Fut,
        Fut: std::future::Future<Output = Result<T, ConnectorError>>,
    {
        let connector = self.connector()?.clone();
        let (result, rejected) = self
            .accounts
            .provider_call(account_id, Platform::Orangeconnex, async {
                let token = self.token(account_id, None).await?;
                match f(connector.clone(), token.clone()).await {
                    Err(ConnectorError::Unauthorized(_)) => {
                        let token = self.token(account_id, Some(&token)).await?;
                        Ok((f(connector, token).await, true))
                    }
                    // Revoked by another caller's refresh: the token stored since, if any.
                    Err(e @ ConnectorError::AuthorizationInvalid(_)) => {
                        match self.accounts.newer_access_token(account_id, &token).await {
                            Ok(Some(newer)) => Ok((f(connector, newer).await, true)),
                            Ok(None) => Ok((Err(e), false)),
                            Err(t) => Err(token_error(t)),
                        }
                    }
                    other => Ok::<_, CallError>((other, false)),
                }
            })
            .await?;
        match result {
            // Refused again with a fresh token: the authorization itself is gone.
            Err(ConnectorError::Unauthorized(m) | ConnectorError::AuthorizationInvalid(m)) if rejected => {
                let message = format!("Authorization expired or was revoked; reauthorize the account. ({m})");
                let _ = self
                    .accounts
                    .record_sync_error(account_id, &message, Some(AccountStatus::NeedsReauthorization))
                    .await;
                Err(CallError::Reauthorize(m))
            }
            other => other.map_err(CallError::Connector),
        }
    }

    /// A token; after `rejected` was refused, the one refresh of that version (single-flight).
    async fn token(&self, account_id: Uuid, rejected: Option<&SecretString>) -> Result<SecretString, CallError> {
        let token = match rejected {
            None => self.accounts.access_token(account_id, false).await,
            Some(r) => self.accounts.access_token_after_rejection(account_id, r).await,
        };
        token.map_err(token_error)
    }
}

fn token_error(e: TokenError) -> CallError {
    match e {
        TokenError::NeedsReauthorization(m) => CallError::Reauthorize(m),
        TokenError::Domain(e) => CallError::Domain(e),
        TokenError::Connector(e) => CallError::Connector(e),
    }
}

pub fn check_account(acc: &account::Model) -> DomainResult<()> {
    if acc.platform != Platform::Orangeconnex {
        return Err(DomainError::user(
            UserErrorCode::Invalid,
            &["input", "accountId"],
            "This is not an OrangeConnex warehouse account.",
        ));
    }
    if acc.status != AccountStatus::Active {
        return Err(DomainError::user(
            UserErrorCode::AccountNeedsReauthorization,
            &["input", "accountId"],
            "Authorize the OrangeConnex account first.",
        ));
    }
    Ok(())
}

/// Active OrangeConnex accounts (for the polling job).
pub async fn active_accounts(db: &DatabaseConnection) -> DomainResult<Vec<account::Model>> {
    use sea_orm::{ColumnTrait, QueryFilter};
    Ok(account::Entity::find()
        .filter(account::Column::Platform.eq(Platform::Orangeconnex))
        .filter(account::Column::Status.eq(AccountStatus::Active))
        .all(db)
        .await?)
}

impl Warehouse {
    /// The outbound orders placed for one of the tenant's orders.
    pub async fn outbound_of_order(
        &self,
        tenant: Tenant,
        order_id: Uuid,
    ) -> DomainResult<Vec<entity::outbound_order::Model>> {
        use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
        Ok(entity::outbound_order::Entity::find()
            .filter(entity::outbound_order::Column::OrganizationId.eq(tenant.id()))
            .filter(entity::outbound_order::Column::OrderId.eq(order_id))
            .order_by_asc(entity::outbound_order::Column::Id)
            .all(&self.db)
            .await?)
    }
}

/// The tenant's SKUs among `ids`, by id (500 ids per query).
pub(crate) async fn skus_by_id(
    db: &impl sea_orm::ConnectionTrait,
    org: Uuid,
    ids: &[Uuid],
) -> DomainResult<std::collections::HashMap<Uuid, entity::sku::Model>> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let mut out = std::collections::HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        out.extend(
            entity::sku::Entity::find()
                .filter(entity::sku::Column::OrganizationId.eq(org))
                .filter(entity::sku::Column::Id.is_in(chunk.iter().copied()))
                .all(db)
                .await?
                .into_iter()
                .map(|s| (s.id, s)),
        );
    }
    Ok(out)
}
