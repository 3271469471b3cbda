//! Shipping channels in GraphQL: the list a tenant picks from (global + its own) and
//! their management (STAFF for global channels, ADMIN for the tenant's own).

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::carrier_mapping;

use super::{
    context::{actor, services},
    enums::{AddressPolicy, ChannelProvider, Platform, RequiredField},
    errors::{ApiResult, UserErrorObject, payload},
    ids::{Kind, decode, encode},
    orders::Money,
};
use crate::domain::channels::{
    self as dom, ChannelFilter as DomainFilter, ChannelInput, ChannelPatch, TrackingRange, carriers::CarrierInput,
};

/// A shipping channel (货运渠道).
pub struct Channel(pub entity::channel::Model);

#[derive(SimpleObject)]
pub struct TrackingNumberRange {
    /// S10 service indicator (e.g. `RR`).
    pub prefix: String,
    /// Issuing country (e.g. `CN`).
    pub suffix: String,
    pub start: i64,
    pub end: i64,
    /// Serial numbers still available.
    pub remaining: i64,
}

#[Object]
impl Channel {
    pub async fn id(&self) -> ID {
        encode(Kind::Channel, self.0.id)
    }
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn provider(&self) -> ChannelProvider {
        self.0.provider.into()
    }
    /// True for the logistics company's channels shared by every tenant.
    async fn global(&self) -> bool {
        self.0.organization_id.is_none()
    }
    async fn active(&self) -> bool {
        self.0.active
    }
    /// ISO country codes served; empty means every country.
    async fn destination_countries(&self) -> Vec<String> {
        dom::destinations(&self.0)
    }
    async fn max_weight_grams(&self) -> Option<i32> {
        self.0.max_weight_grams
    }
    async fn max_declared_value(&self) -> Option<Money> {
        Some(Money { amount_minor: self.0.max_value_minor?, currency: self.0.value_currency.clone()? })
    }
    async fn required_fields(&self) -> Vec<RequiredField> {
        dom::required_fields(&self.0).into_iter().map(Into::into).collect()
    }
    async fn address_policy(&self) -> AddressPolicy {
        self.0.address_policy.into()
    }
    /// The carrier's limit on each address line, in characters.
    async fn address_line_max(&self) -> Option<i32> {
        self.0.address_line_max
    }
    /// Where NETWORK tracking numbers come from (UPU S10 format with a check digit). For
    /// global channels only platform staff see it (usage reveals other tenants' volume).
    async fn tracking_range(&self, ctx: &Context<'_>) -> Option<TrackingNumberRange> {
        let c = &self.0;
        if c.organization_id.is_none() && !super::context::optional_actor(ctx).is_some_and(|a| a.is_staff()) {
            return None;
        }
        Some(TrackingNumberRange {
            prefix: c.tracking_prefix.clone()?,
            suffix: c.tracking_suffix.clone()?,
            start: c.range_start?,
            end: c.range_end?,
            remaining: (c.range_end? - c.range_next? + 1).max(0),
        })
    }
    /// The carrier identifier each marketplace accepts for this channel (write-back): the
    /// organization's own mappings and the logistics company's defaults.
    async fn carriers(&self, ctx: &Context<'_>) -> ApiResult<Vec<ChannelCarrier>> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        Ok(s.carriers.for_channel(a.tenant(), self.0.id).await?.into_iter().map(ChannelCarrier).collect())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// How one marketplace names a channel's carrier when the tracking number is written back.
pub struct ChannelCarrier(pub carrier_mapping::Model);

#[Object]
impl ChannelCarrier {
    async fn platform(&self) -> Platform {
        self.0.platform.into()
    }
    /// eBay shipping carrier code, AliExpress `service_name`, Wish `shipping_provider` or
    /// Amazon `carrierCode` (`Other` with `carrierName`).
    async fn carrier_code(&self) -> &str {
        &self.0.carrier_code
    }
    async fn carrier_name(&self) -> Option<&str> {
        self.0.carrier_name.as_deref()
    }
    /// The tracking website (AliExpress OTHER services).
    async fn tracking_url(&self) -> Option<&str> {
        self.0.tracking_url.as_deref()
    }
    /// The logistics company's default (true) or the organization's own mapping, which wins.
    async fn global(&self) -> bool {
        self.0.organization_id.is_none()
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

#[derive(InputObject)]
pub struct SetChannelCarrierInput {
    pub channel_id: ID,
    pub platform: Platform,
    pub carrier_code: String,
    /// Amazon: required with carrier code `Other`.
    pub carrier_name: Option<String>,
    /// AliExpress: required with an OTHER logistics service.
    pub tracking_url: Option<String>,
    /// Set the logistics company's default for a global channel (staff) instead of the
    /// organization's own mapping.
    #[graphql(default)]
    pub global: bool,
}

#[derive(SimpleObject)]
pub struct ChannelCarrierPayload {
    pub carrier: Option<ChannelCarrier>,
    pub user_errors: Vec<UserErrorObject>,
}

#[derive(InputObject)]
pub struct RemoveChannelCarrierInput {
    pub channel_id: ID,
    pub platform: Platform,
    #[graphql(default)]
    pub global: bool,
}

#[derive(SimpleObject)]
pub struct RemoveChannelCarrierPayload {
    pub removed: bool,
    pub user_errors: Vec<UserErrorObject>,
}

/// A carrier a seller's marketplace account accepts (AliExpress logistics services, Wish
/// shipping carriers).
#[derive(SimpleObject)]
pub struct MarketplaceCarrier {
    /// The identifier to map a channel to.
    pub code: String,
    pub name: String,
    /// The marketplace wants a tracking website with it.
    pub requires_tracking_url: bool,
}

#[derive(InputObject, Default)]
pub struct ChannelFilter {
    pub provider: Option<ChannelProvider>,
    pub active: Option<bool>,
    /// Only channels that ship to this ISO country code.
    pub destination_country: Option<String>,
}

#[derive(InputObject)]
pub struct TrackingRangeInput {
    pub prefix: String,
    pub suffix: String,
    pub start: i64,
    pub end: i64,
}

#[derive(InputObject)]
pub struct CreateChannelInput {
    pub code: String,
    pub name: String,
    /// A global channel (every tenant sees it); platform staff only.
    #[graphql(default)]
    pub global: bool,
    /// ISO country codes; empty = every country.
    #[graphql(default)]
    pub destination_countries: Vec<String>,
    pub max_weight_grams: Option<i32>,
    pub max_value_minor: Option<i64>,
    pub value_currency: Option<String>,
    #[graphql(default)]
    pub required_fields: Vec<RequiredField>,
    #[graphql(default_with = "AddressPolicy::AsIs")]
    pub address_policy: AddressPolicy,
    pub address_line_max: Option<i32>,
    pub tracking_range: Option<TrackingRangeInput>,
    #[graphql(default = true)]
    pub active: bool,
}

#[derive(InputObject)]
pub struct UpdateChannelInput {
    pub id: ID,
    pub name: Option<String>,
    pub destination_countries: Option<Vec<String>>,
    /// Send together with `clearMaxWeight: true` to remove the limit.
    pub max_weight_grams: Option<i32>,
    #[graphql(default)]
    pub clear_max_weight: bool,
    pub max_value_minor: Option<i64>,
    pub value_currency: Option<String>,
    #[graphql(default)]
    pub clear_max_value: bool,
    pub required_fields: Option<Vec<RequiredField>>,
    pub address_policy: Option<AddressPolicy>,
    pub address_line_max: Option<i32>,
    /// Extends the tracking-number range.
    pub range_end: Option<i64>,
    pub active: Option<bool>,
}

#[derive(SimpleObject)]
pub struct ChannelPayload {
    pub channel: Option<Channel>,
    pub user_errors: Vec<UserErrorObject>,
}

#[derive(Default)]
pub struct ChannelQuery;

#[Object]
impl ChannelQuery {
    /// Channels the caller can ship with: the global ones and the organization's own.
    async fn channels(&self, ctx: &Context<'_>, filter: Option<ChannelFilter>) -> ApiResult<Vec<Channel>> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let f = filter.unwrap_or_default();
        let domain = DomainFilter {
            provider: f.provider.map(Into::into),
            active: f.active,
            destination_country: f.destination_country,
        };
        Ok(s.channels.list(a.tenant(), &domain).await?.into_iter().map(Channel).collect())
    }

    async fn channel(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Channel> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        Ok(Channel(s.channels.get(a.tenant(), decode(Kind::Channel, &id)?).await?))
    }

    /// The carriers a marketplace account accepts, where the marketplace keeps a list per
    /// seller (AliExpress logistics services, Wish shipping carriers), cached for a day;
    /// `refresh` reads it again. Null for eBay and Amazon, whose carrier codes are
    /// documented lists (see the README).
    async fn account_carriers(
        &self,
        ctx: &Context<'_>,
        account_id: ID,
        #[graphql(default)] refresh: bool,
    ) -> ApiResult<Option<Vec<MarketplaceCarrier>>> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let list = s.carriers.account_list(a.tenant(), decode(Kind::Account, &account_id)?, refresh).await?;
        Ok(list.map(|l| {
            l.into_iter()
                .map(|c| MarketplaceCarrier {
                    code: c.code,
                    name: c.name,
                    requires_tracking_url: c.requires_tracking_url,
                })
                .collect()
        }))
    }
}

#[derive(Default)]
pub struct ChannelMutation;

#[Object]
impl ChannelMutation {
    /// Creates a NETWORK channel with its tracking-number range.
    async fn create_channel(&self, ctx: &Context<'_>, input: CreateChannelInput) -> ApiResult<ChannelPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let i = ChannelInput {
            code: input.code,
            name: input.name,
            global: input.global,
            destination_countries: input.destination_countries,
            max_weight_grams: input.max_weight_grams,
            max_value_minor: input.max_value_minor,
            value_currency: input.value_currency,
            required_fields: input.required_fields.into_iter().map(Into::into).collect(),
            address_policy: input.address_policy.into(),
            address_line_max: input.address_line_max,
            tracking_range: input.tracking_range.map(|r| TrackingRange {
                prefix: r.prefix,
                suffix: r.suffix,
                start: r.start,
                end: r.end,
            }),
            active: input.active,
        };
        let (c, user_errors) = payload(s.channels.create(a, i).await)?;
        Ok(ChannelPayload { channel: c.map(Channel), user_errors })
    }

    async fn update_channel(&self, ctx: &Context<'_>, input: UpdateChannelInput) -> ApiResult<ChannelPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let id = decode(Kind::Channel, &input.id)?;
        let p = ChannelPatch {
            name: input.name,
            destination_countries: input.destination_countries,
            max_weight_grams: if input.clear_max_weight { Some(None) } else { input.max_weight_grams.map(Some) },
            max_value_minor: if input.clear_max_value { Some(None) } else { input.max_value_minor.map(Some) },
            value_currency: if input.clear_max_value { Some(None) } else { input.value_currency.map(Some) },
            required_fields: input.required_fields.map(|v| v.into_iter().map(Into::into).collect()),
            address_policy: input.address_policy.map(Into::into),
            address_line_max: input.address_line_max.map(Some),
            range_end: input.range_end,
            active: input.active,
        };
        let (c, user_errors) = payload(s.channels.update(a, id, p).await)?;
        Ok(ChannelPayload { channel: c.map(Channel), user_errors })
    }

    /// Sets the carrier identifier one marketplace accepts for a channel (write-back).
    async fn set_channel_carrier(
        &self,
        ctx: &Context<'_>,
        input: SetChannelCarrierInput,
    ) -> ApiResult<ChannelCarrierPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let i = CarrierInput {
            channel_id: decode(Kind::Channel, &input.channel_id)?,
            platform: input.platform.into(),
            carrier_code: input.carrier_code,
            carrier_name: input.carrier_name,
            tracking_url: input.tracking_url,
            global: input.global,
        };
        let (c, user_errors) = payload(s.carriers.set(a, i).await)?;
        Ok(ChannelCarrierPayload { carrier: c.map(ChannelCarrier), user_errors })
    }

    async fn remove_channel_carrier(
        &self,
        ctx: &Context<'_>,
        input: RemoveChannelCarrierInput,
    ) -> ApiResult<RemoveChannelCarrierPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let id = decode(Kind::Channel, &input.channel_id)?;
        let (removed, user_errors) = payload(s.carriers.remove(a, id, input.platform.into(), input.global).await)?;
        Ok(RemoveChannelCarrierPayload { removed: removed.unwrap_or(false), user_errors })
    }
}
