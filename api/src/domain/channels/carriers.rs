//! Carrier identity for write-back: each marketplace names carriers its own way (eBay
//! shipping carrier codes, AliExpress `service_name` from the seller's logistics services,
//! Wish `shipping_provider` from its carrier list, Amazon `carrierCode` or `Other` with a
//! carrier name). A channel declares, per marketplace, the identifier that marketplace
//! accepts: the logistics company's default for a global channel (staff), and a tenant's
//! own mapping, which wins (ADMIN). Where the marketplace keeps a per-seller list
//! (AliExpress, Wish), it is fetched through the connector and cached on the account.

use std::collections::HashMap;

use chrono::{Duration, Utc};
use entity::{
    account, carrier_mapping,
    carrier_mapping::GLOBAL_SCOPE,
    channel,
    enums::{AccountStatus, Platform, Role},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use uuid::Uuid;

use crate::{
    auth::{Actor, Tenant},
    connectors::{
        ConnectorError,
        marketplace::{Carrier, CarrierOption},
    },
    db::begin_write,
    domain::{
        accounts::{Accounts, TokenError},
        audit::{self, By},
    },
    error::{DomainError, DomainResult, UserError, UserErrorCode},
    events::EventBus,
};

/// How long a fetched carrier list is trusted before it is read again.
pub const LIST_TTL_HOURS: i64 = 24;

/// What a channel's mapping for one marketplace says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarrierInput {
    pub channel_id: Uuid,
    pub platform: Platform,
    pub carrier_code: String,
    pub carrier_name: Option<String>,
    pub tracking_url: Option<String>,
    /// Set the logistics company's default (staff, global channels) instead of the
    /// caller's organization's own mapping.
    pub global: bool,
}

/// The carrier a write-back sends for an order, or why it cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    Carrier(Carrier),
    Refused { code: UserErrorCode, message: String },
}

fn marketplace(p: Platform) -> bool {
    matches!(p, Platform::Aliexpress | Platform::Ebay | Platform::Wish | Platform::Amazon)
}

fn platform_name(p: Platform) -> &'static str {
    match p {
        Platform::Aliexpress => "AliExpress",
        Platform::Ebay => "eBay",
        Platform::Wish => "Wish",
        Platform::Amazon => "Amazon",
        Platform::Orangeconnex => "OrangeConnex",
    }
}

/// Amazon's `Other` needs the carrier's name (confirmShipment `carrierName`).
fn is_amazon_other(p: Platform, code: &str) -> bool {
    p == Platform::Amazon && code.eq_ignore_ascii_case("other")
}

pub fn validate(input: &CarrierInput) -> Result<CarrierInput, Vec<UserError>> {
    let mut errors = Vec::new();
    let code = input.carrier_code.trim().to_owned();
    if !marketplace(input.platform) {
        errors.push(UserError::new(
            UserErrorCode::Invalid,
            &["input", "platform"],
            "Carrier identifiers are for marketplaces (AliExpress, eBay, Wish, Amazon).",
        ));
    }
    if code.is_empty() || code.chars().count() > 100 || code.chars().any(char::is_control) {
        errors.push(UserError::new(
            UserErrorCode::Invalid,
            &["input", "carrierCode"],
            "The carrier identifier must be 1-100 printable characters.",
        ));
    }
    let name = input.carrier_name.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned);
    if name.as_ref().is_some_and(|n| n.chars().count() > 200 || n.chars().any(char::is_control)) {
        errors.push(UserError::new(UserErrorCode::Invalid, &["input", "carrierName"], "At most 200 characters."));
    }
    if is_amazon_other(input.platform, &code) && name.is_none() {
        errors.push(UserError::new(
            UserErrorCode::Required,
            &["input", "carrierName"],
            "Amazon's carrier code Other needs the carrier's name.",
        ));
    }
    let url = input.tracking_url.as_deref().map(str::trim).filter(|u| !u.is_empty()).map(str::to_owned);
    if let Some(u) = &url {
        let ok = u.len() <= 500
            && reqwest::Url::parse(u).is_ok_and(|p| matches!(p.scheme(), "http" | "https") && p.host().is_some());
        if !ok {
            errors.push(UserError::new(
                UserErrorCode::Invalid,
                &["input", "trackingUrl"],
                "The tracking URL must be an http(s) URL of at most 500 characters.",
            ));
        }
    }
    if input.platform == Platform::Aliexpress
        && (code.eq_ignore_ascii_case("other") || code.starts_with("OTHER_"))
        && url.is_none()
    {
        errors.push(UserError::new(
            UserErrorCode::Required,
            &["input", "trackingUrl"],
            "AliExpress needs a tracking website with an OTHER logistics service.",
        ));
    }
    if errors.is_empty() {
        Ok(CarrierInput { carrier_code: code, carrier_name: name, tracking_url: url, ..input.clone() })
    } else {
        Err(errors)
    }
}

/// The mappings `org` sees for these channels: its own, else the global default; keyed by
/// (channel, platform).
pub async fn effective(
    db: &impl ConnectionTrait,
    org: Uuid,
    channel_ids: &[Uuid],
) -> DomainResult<HashMap<(Uuid, Platform), carrier_mapping::Model>> {
    let mut out: HashMap<(Uuid, Platform), carrier_mapping::Model> = HashMap::new();
    for chunk in channel_ids.chunks(500) {
        let rows = carrier_mapping::Entity::find()
            .filter(carrier_mapping::Column::ChannelId.is_in(chunk.iter().copied()))
            .filter(
                Condition::any()
                    .add(carrier_mapping::Column::Scope.eq(org.to_string()))
                    .add(carrier_mapping::Column::Scope.eq(GLOBAL_SCOPE)),
            )
            .all(db)
            .await?;
        for r in rows {
            let own = r.organization_id.is_some();
            match out.get(&(r.channel_id, r.platform)) {
                Some(prev) if prev.organization_id.is_some() && !own => {}
                _ => {
                    out.insert((r.channel_id, r.platform), r);
                }
            }
        }
    }
    Ok(out)
}

/// The refusal for an order whose channel has no carrier for its marketplace.
pub fn not_mapped(channel_code: &str, platform: Platform) -> (UserErrorCode, String) {
    (
        UserErrorCode::CarrierNotMapped,
        format!(
            "Channel {channel_code} has no carrier identifier for {}; set one with setChannelCarrier before writing back.",
            platform_name(platform)
        ),
    )
}

#[derive(Clone)]
pub struct Carriers {
    db: DatabaseConnection,
    bus: EventBus,
    accounts: Accounts,
}

impl Carriers {
    pub fn new(db: DatabaseConnection, bus: EventBus, accounts: Accounts) -> Self {
        Self { db, bus, accounts }
    }

    /// The mappings of a channel the tenant can see (its own and the global defaults).
    pub async fn for_channel(&self, tenant: Tenant, channel_id: Uuid) -> DomainResult<Vec<carrier_mapping::Model>> {
        let org = tenant.id();
        Ok(carrier_mapping::Entity::find()
            .filter(carrier_mapping::Column::ChannelId.eq(channel_id))
            .filter(
                Condition::any()
                    .add(carrier_mapping::Column::Scope.eq(org.to_string()))
                    .add(carrier_mapping::Column::Scope.eq(GLOBAL_SCOPE)),
            )
            .order_by_asc(carrier_mapping::Column::Platform)
            .order_by_asc(carrier_mapping::Column::Scope)
            .all(&self.db)
            .await?)
    }

    /// Sets (or replaces) a channel's carrier for one marketplace.
    pub async fn set(&self, actor: &Actor, input: CarrierInput) -> DomainResult<carrier_mapping::Model> {
        let input = validate(&input).map_err(DomainError::User)?;
        let org = actor.tenant().id();
        let txn = begin_write(&self.db).await?;
        let ch = channel::Entity::find_by_id(input.channel_id)
            .filter(crate::domain::channels::visible_to(org))
            .one(&txn)
            .await?
            .ok_or(DomainError::NotFound)?;
        let owner = if input.global {
            if ch.organization_id.is_some() {
                return Err(DomainError::user(
                    UserErrorCode::Invalid,
                    &["input", "global"],
                    "Only global channels have a global carrier mapping.",
                ));
            }
            actor.require_staff()?;
            None
        } else {
            // Each organization maps the channels it uses, its own or global ones.
            actor.require(Role::Admin)?;
            Some(org)
        };
        let scope = owner.map(|o| o.to_string()).unwrap_or_else(|| GLOBAL_SCOPE.to_owned());
        let now = Utc::now();
        let existing = carrier_mapping::Entity::find()
            .filter(carrier_mapping::Column::ChannelId.eq(ch.id))
            .filter(carrier_mapping::Column::Platform.eq(input.platform))
            .filter(carrier_mapping::Column::Scope.eq(scope.clone()))
            .one(&txn)
            .await?;
        let model = match existing {
            Some(m) => {
                let mut a: carrier_mapping::ActiveModel = m.into();
                a.carrier_code = Set(input.carrier_code.clone());
                a.carrier_name = Set(input.carrier_name.clone());
                a.tracking_url = Set(input.tracking_url.clone());
                a.updated_at = Set(now);
                a.update(&txn).await?
            }
            None => carrier_mapping::ActiveModel {
                id: Set(Uuid::now_v7()),
                organization_id: Set(owner),
                scope: Set(scope),
                channel_id: Set(ch.id),
                platform: Set(input.platform),
                carrier_code: Set(input.carrier_code.clone()),
                carrier_name: Set(input.carrier_name.clone()),
                tracking_url: Set(input.tracking_url.clone()),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await
            .map_err(|e| DomainError::unique_or(e, DomainError::Conflict("set at the same time; try again".into())))?,
        };
        let event = audit::record(
            &txn,
            org,
            By::Actor(actor),
            "channel.carrier_set",
            "Channel",
            Some(ch.id),
            Some(serde_json::json!({
                "platform": input.platform,
                "carrierCode": model.carrier_code,
                "global": owner.is_none(),
            })),
        )
        .await?;
        txn.commit().await?;
        self.bus.publish_all([event]);
        Ok(model)
    }

    /// Removes a channel's carrier for one marketplace (the caller's own, or the global one
    /// for staff with `global`). Returns whether one was removed.
    pub async fn remove(
        &self,
        actor: &Actor,
        channel_id: Uuid,
        platform: Platform,
        global: bool,
    ) -> DomainResult<bool> {
        let org = actor.tenant().id();
        let ch = channel::Entity::find_by_id(channel_id)
            .filter(crate::domain::channels::visible_to(org))
            .one(&self.db)
            .await?
            .ok_or(DomainError::NotFound)?;
        let scope = if global {
            actor.require_staff()?;
            GLOBAL_SCOPE.to_owned()
        } else {
            actor.require(Role::Admin)?;
            org.to_string()
        };
        let txn = begin_write(&self.db).await?;
        let res = carrier_mapping::Entity::delete_many()
            .filter(carrier_mapping::Column::ChannelId.eq(ch.id))
            .filter(carrier_mapping::Column::Platform.eq(platform))
            .filter(carrier_mapping::Column::Scope.eq(scope))
            .exec(&txn)
            .await?;
        let event = audit::record(
            &txn,
            org,
            By::Actor(actor),
            "channel.carrier_removed",
            "Channel",
            Some(ch.id),
            Some(serde_json::json!({ "platform": platform, "global": global })),
        )
        .await?;
        txn.commit().await?;
        self.bus.publish_all([event]);
        Ok(res.rows_affected > 0)
    }

    /// The carriers a seller's marketplace account accepts, where the marketplace keeps a
    /// per-seller list (AliExpress, Wish); `None` for marketplaces with a documented code
    /// list instead (eBay, Amazon). Cached on the account for `LIST_TTL_HOURS`;
    /// `refresh` reads it again now.
    pub async fn account_list(
        &self,
        tenant: Tenant,
        account_id: Uuid,
        refresh: bool,
    ) -> DomainResult<Option<Vec<CarrierOption>>> {
        let acc = self.accounts.get(tenant, account_id).await?;
        self.list_of(&acc, refresh).await.map_err(|e| match e {
            ListError::Domain(d) => d,
            ListError::RateLimited(retry_after) => {
                DomainError::RateLimited { retry_after_secs: retry_after.as_secs_f64().ceil() as u64 }
            }
            ListError::Provider(m) => DomainError::user(UserErrorCode::ProviderUnavailable, &["input", "accountId"], m),
            ListError::Reauthorize(m) => {
                DomainError::user(UserErrorCode::AccountNeedsReauthorization, &["input", "accountId"], m)
            }
        })
    }

    async fn list_of(&self, acc: &account::Model, refresh: bool) -> Result<Option<Vec<CarrierOption>>, ListError> {
        if !matches!(acc.platform, Platform::Aliexpress | Platform::Wish) {
            return Ok(None);
        }
        let fresh = acc.carriers_fetched_at.is_some_and(|t| Utc::now() - t < Duration::hours(LIST_TTL_HOURS));
        if !refresh
            && fresh
            && let Some(list) = acc.carriers_json.as_deref().and_then(|j| serde_json::from_str(j).ok())
        {
            return Ok(Some(list));
        }
        if acc.status != AccountStatus::Active {
            return Err(ListError::Provider(format!(
                "account \"{}\" is {:?}; reauthorize it to read its carriers",
                acc.name, acc.status
            )));
        }
        let connector = self.accounts.connector(acc.platform)?;
        let account_ref = self.accounts.account_ref(acc)?;
        let list = self
            .accounts
            .provider_call(acc.id, acc.platform, async {
                let token = self.accounts.access_token(acc.id, false).await.map_err(ListError::token)?;
                let first = connector.carriers(&token, &account_ref).await;
                // Refused: the one refresh of that token version; revoked: the token another
                // caller's refresh stored since, if any.
                let retry = match &first {
                    Err(ConnectorError::Unauthorized(_)) => Some(
                        self.accounts.access_token_after_rejection(acc.id, &token).await.map_err(ListError::token)?,
                    ),
                    Err(ConnectorError::AuthorizationInvalid(_)) => {
                        self.accounts.newer_access_token(acc.id, &token).await.map_err(ListError::token)?
                    }
                    _ => None,
                };
                match retry {
                    Some(token) => connector.carriers(&token, &account_ref).await,
                    None => first,
                }
                .map_err(|e| ListError::connector(acc.platform, e))
            })
            .await?
            .unwrap_or_default();
        let json = serde_json::to_string(&list).map_err(DomainError::internal)?;
        account::Entity::update_many()
            .col_expr(account::Column::CarriersJson, sea_orm::sea_query::Expr::value(Some(json)))
            .col_expr(account::Column::CarriersFetchedAt, sea_orm::sea_query::Expr::value(Some(Utc::now())))
            .filter(account::Column::Id.eq(acc.id))
            .exec(&self.db)
            .await
            .map_err(DomainError::from)?;
        Ok(Some(list))
    }

    /// The carrier to write back with for an order of `acc` shipped on `channel_id`, checked
    /// against the account's list where the marketplace keeps one. `Err` only for failures
    /// worth retrying (the list could not be read).
    pub async fn resolve(&self, acc: &account::Model, channel_id: Option<Uuid>) -> Result<Resolved, (String, bool)> {
        let internal = |e: DomainError| (format!("a temporary internal error ({e}); it will be retried"), true);
        let Some(channel_id) = channel_id else {
            return Ok(Resolved::Refused {
                code: UserErrorCode::ChannelNotSet,
                message: "The order has no channel, so no carrier to write back.".into(),
            });
        };
        let mapped = effective(&self.db, acc.organization_id, &[channel_id]).await.map_err(internal)?;
        let Some(m) = mapped.get(&(channel_id, acc.platform)) else {
            let code = channel::Entity::find_by_id(channel_id)
                .one(&self.db)
                .await
                .map_err(|e| internal(e.into()))?
                .map(|c| c.code)
                .unwrap_or_else(|| channel_id.to_string());
            let (code, message) = not_mapped(&code, acc.platform);
            return Ok(Resolved::Refused { code, message });
        };
        let carrier = Carrier {
            code: m.carrier_code.clone(),
            name: m.carrier_name.clone(),
            tracking_url: m.tracking_url.clone(),
        };
        // A list the seller's account keeps: the code must be on it (read again once if
        // the cached copy lacks it: the seller may have just added the service).
        let accepted = |list: &[CarrierOption]| list.iter().any(|c| c.code == carrier.code);
        let list = match self.list_of(acc, false).await {
            Ok(l) => l,
            Err(ListError::Domain(d)) => return Err(internal(d)),
            Err(ListError::Provider(m)) => return Err((m, true)),
            Err(ListError::RateLimited(d)) => return Err((format!("rate limited; retry in {} s", d.as_secs()), true)),
            Err(ListError::Reauthorize(message)) => {
                return Ok(Resolved::Refused { code: UserErrorCode::AccountNeedsReauthorization, message });
            }
        };
        let Some(list) = list else { return Ok(Resolved::Carrier(carrier)) };
        if accepted(&list) {
            return Ok(Resolved::Carrier(carrier));
        }
        let list = match self.list_of(acc, true).await {
            Ok(l) => l.unwrap_or_default(),
            Err(ListError::Domain(d)) => return Err(internal(d)),
            Err(ListError::Provider(m)) => return Err((m, true)),
            Err(ListError::RateLimited(d)) => return Err((format!("rate limited; retry in {} s", d.as_secs()), true)),
            Err(ListError::Reauthorize(message)) => {
                return Ok(Resolved::Refused { code: UserErrorCode::AccountNeedsReauthorization, message });
            }
        };
        if accepted(&list) {
            return Ok(Resolved::Carrier(carrier));
        }
        // An empty list is not an answer to act on (no seller has no services): retried.
        if list.is_empty() {
            return Err((format!("{} listed no carriers for this seller", platform_name(acc.platform)), true));
        }
        Ok(Resolved::Refused {
            code: UserErrorCode::CarrierNotAccepted,
            message: format!(
                "{} does not list carrier \"{}\" for account \"{}\"; pick one from its carriers (accountCarriers) for the channel.",
                platform_name(acc.platform),
                carrier.code,
                acc.name
            ),
        })
    }
}

#[derive(Debug)]
enum ListError {
    Domain(DomainError),
    Provider(String),
    /// The provider's quota (or its `Retry-After`) asks for a wait longer than a request may take.
    RateLimited(std::time::Duration),
    /// The seller must authorize the account again: retrying cannot help.
    Reauthorize(String),
}

impl From<DomainError> for ListError {
    fn from(e: DomainError) -> Self {
        Self::Domain(e)
    }
}

impl ListError {
    fn token(e: TokenError) -> Self {
        match e {
            TokenError::Domain(d) => Self::Domain(d),
            TokenError::Connector(ConnectorError::RateLimited { retry_after }) => Self::RateLimited(retry_after),
            TokenError::NeedsReauthorization(m) | TokenError::Connector(ConnectorError::AuthorizationInvalid(m)) => {
                Self::Reauthorize(m)
            }
            other => Self::Provider(other.to_string()),
        }
    }

    fn connector(platform: Platform, e: ConnectorError) -> Self {
        match e {
            ConnectorError::RateLimited { retry_after } => Self::RateLimited(retry_after),
            e => Self::Provider(format!("{} carrier list: {e}", platform_name(platform))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(p: Platform, code: &str) -> CarrierInput {
        CarrierInput {
            channel_id: Uuid::nil(),
            platform: p,
            carrier_code: code.into(),
            carrier_name: None,
            tracking_url: None,
            global: false,
        }
    }

    #[test]
    fn validation() {
        assert!(validate(&input(Platform::Ebay, " ChinaPost ")).is_ok_and(|i| i.carrier_code == "ChinaPost"));
        assert!(validate(&input(Platform::Ebay, "")).is_err());
        assert!(validate(&input(Platform::Orangeconnex, "X")).is_err());
        // Amazon Other needs a name; AliExpress OTHER needs a tracking website.
        assert!(validate(&input(Platform::Amazon, "Other")).is_err());
        let mut other = input(Platform::Amazon, "Other");
        other.carrier_name = Some("Shipgate Post".into());
        assert!(validate(&other).is_ok());
        assert!(validate(&input(Platform::Aliexpress, "OTHER_US_LOCAL")).is_err());
        let mut ae = input(Platform::Aliexpress, "OTHER_US_LOCAL");
        ae.tracking_url = Some("javascript:alert(1)".into());
        assert!(validate(&ae).is_err());
        ae.tracking_url = Some("https://track.example.com/".into());
        assert!(validate(&ae).is_ok());
    }
}
