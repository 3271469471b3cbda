//! Waybills (运单) in GraphQL: the forecasts pushes create and manual ones, their
//! snapshot as sent, editing unconfirmed ones and confirming manual ones.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::waybill;

use super::{
    channels::Channel,
    connection::{Conn, connection, page_args},
    context::{actor, loaders, services},
    enums::WaybillStatus,
    errors::{ApiResult, UserErrorObject, payload},
    ids::{Kind, decode, encode},
    orders::{Address, AddressInput, Money, Order},
};
use crate::{
    domain::fulfilment::{
        snapshot::{Line, Snapshot},
        waybills::{NewWaybill, WaybillEdit, WaybillFilter as DomainFilter},
    },
    error::{DomainError, UserErrorCode},
};

pub struct Waybill(pub waybill::Model);

impl Waybill {
    fn snapshot(&self) -> Snapshot {
        serde_json::from_value(self.0.snapshot.clone()).unwrap_or_default()
    }
}

/// One customs declaration line as sent.
#[derive(SimpleObject)]
pub struct DeclarationLine {
    pub sku_code: Option<String>,
    pub platform_sku: Option<String>,
    pub quantity: i32,
    pub name_en: Option<String>,
    pub name_cn: Option<String>,
    pub unit_value_minor: Option<i64>,
    pub currency: Option<String>,
    pub unit_weight_grams: Option<i32>,
    pub hs_code: Option<String>,
    pub origin_country: Option<String>,
    /// 配货信息, printed on the label.
    pub picking_info: Option<String>,
}

#[Object]
impl Waybill {
    pub async fn id(&self) -> ID {
        encode(Kind::Waybill, self.0.id)
    }
    /// `OD…` when created from an order.
    async fn customer_reference(&self) -> &str {
        &self.0.customer_reference
    }
    async fn tracking_number(&self) -> Option<&str> {
        self.0.tracking_number.as_deref()
    }
    async fn status(&self) -> WaybillStatus {
        self.0.status.into()
    }
    /// Why the last send failed (the carrier's message), while UNCONFIRMED.
    async fn error_code(&self) -> Option<UserErrorCode> {
        self.0.error_code.as_deref().and_then(UserErrorCode::parse)
    }
    async fn error_message(&self) -> Option<&str> {
        self.0.error_message.as_deref()
    }
    /// The recipient as sent (after the channel's address policy).
    async fn recipient(&self) -> Address {
        self.snapshot().recipient.into()
    }
    /// The recipient before the channel's policy changed it (null when unchanged).
    async fn original_recipient(&self) -> Option<Address> {
        self.snapshot().original_recipient.map(Into::into)
    }
    /// Recipient fields the channel's address policy changed.
    async fn normalised_fields(&self) -> Vec<String> {
        self.snapshot().normalised_fields
    }
    async fn lines(&self) -> Vec<DeclarationLine> {
        self.snapshot()
            .lines
            .into_iter()
            .map(|l| DeclarationLine {
                sku_code: l.sku_code,
                platform_sku: l.platform_sku,
                quantity: l.quantity,
                name_en: l.name_en,
                name_cn: l.name_cn,
                unit_value_minor: l.unit_value_minor,
                currency: l.currency,
                unit_weight_grams: l.unit_weight_grams,
                hs_code: l.hs_code,
                origin_country: l.origin_country,
                picking_info: l.picking_info,
            })
            .collect()
    }
    async fn weight_grams(&self) -> i64 {
        self.snapshot().weight_grams()
    }
    async fn declared_value(&self) -> Option<Money> {
        let s = self.snapshot();
        Some(Money { amount_minor: s.value_minor(), currency: s.currency()?.to_owned() })
    }
    /// True once a user edited the snapshot; the next push sends it unchanged.
    async fn edited(&self) -> bool {
        self.0.edited_at.is_some()
    }
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    async fn channel(&self, ctx: &Context<'_>) -> ApiResult<Option<Channel>> {
        Ok(loaders(ctx)?.channels.load_one(self.0.channel_id).await?.map(Channel))
    }
    async fn order(&self, ctx: &Context<'_>) -> ApiResult<Option<Order>> {
        let Some(id) = self.0.order_id else { return Ok(None) };
        let s = services(ctx)?;
        let a = actor(ctx)?;
        match s.orders.get(a.tenant(), id).await {
            Ok(o) => Ok(Some(Order(o))),
            Err(DomainError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
    async fn forecasted_at(&self) -> Option<DateTime<Utc>> {
        self.0.forecasted_at
    }
    async fn printed_at(&self) -> Option<DateTime<Utc>> {
        self.0.printed_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

#[derive(InputObject, Default)]
pub struct WaybillFilter {
    pub status: Option<Vec<WaybillStatus>>,
    pub channel_id: Option<ID>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    /// Tracking number or customer reference (exact), or a customer-reference prefix.
    pub search: Option<String>,
}

#[derive(InputObject)]
pub struct DeclarationLineInput {
    pub sku_code: Option<String>,
    pub quantity: i32,
    pub name_en: Option<String>,
    pub name_cn: Option<String>,
    pub unit_value_minor: Option<i64>,
    pub currency: Option<String>,
    pub unit_weight_grams: Option<i32>,
    pub hs_code: Option<String>,
    pub origin_country: Option<String>,
    pub picking_info: Option<String>,
}

fn line(l: DeclarationLineInput) -> Line {
    let t = |s: Option<String>| s.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    Line {
        sku_code: t(l.sku_code),
        platform_sku: None,
        quantity: l.quantity,
        name_en: t(l.name_en),
        name_cn: t(l.name_cn),
        unit_value_minor: l.unit_value_minor,
        currency: t(l.currency).map(|c| c.to_uppercase()),
        unit_weight_grams: l.unit_weight_grams,
        hs_code: t(l.hs_code),
        origin_country: t(l.origin_country).map(|c| c.to_uppercase()),
        picking_info: t(l.picking_info),
    }
}

#[derive(InputObject)]
pub struct CreateWaybillInput {
    pub channel_id: ID,
    /// Your reference (not starting with `OD`, which marks order forecasts); generated when omitted.
    pub customer_reference: Option<String>,
    pub recipient: AddressInput,
    pub lines: Vec<DeclarationLineInput>,
}

#[derive(InputObject)]
pub struct UpdateWaybillInput {
    pub id: ID,
    /// The corrected recipient (e.g. without the characters the carrier refused).
    pub recipient: Option<AddressInput>,
    pub lines: Option<Vec<DeclarationLineInput>>,
}

#[derive(InputObject)]
pub struct ConfirmWaybillsInput {
    pub waybill_ids: Vec<ID>,
}

#[derive(SimpleObject)]
pub struct WaybillPayload {
    pub waybill: Option<Waybill>,
    pub user_errors: Vec<UserErrorObject>,
}

#[derive(SimpleObject)]
pub struct WaybillResult {
    pub waybill_id: ID,
    pub status: Option<WaybillStatus>,
    pub waybill: Option<Waybill>,
    pub user_errors: Vec<UserErrorObject>,
}

#[derive(SimpleObject)]
pub struct ConfirmWaybillsPayload {
    pub results: Vec<WaybillResult>,
    pub user_errors: Vec<UserErrorObject>,
}

#[derive(Default)]
pub struct WaybillQuery;

#[Object]
impl WaybillQuery {
    /// Waybills, newest first (已预报运单: `status: [FORECASTED]`; 未确认运单: `[UNCONFIRMED]`).
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn waybills(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<WaybillFilter>,
    ) -> ApiResult<Conn<Waybill>> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let f = filter.unwrap_or_default();
        let domain = DomainFilter {
            status: f.status.map(|v| v.into_iter().map(Into::into).collect()),
            channel_id: f.channel_id.as_ref().map(|id| decode(Kind::Channel, id)).transpose()?,
            created_from: f.created_from,
            created_to: f.created_to,
            search: f.search,
        };
        let args = page_args(ctx, first, after, s.settings.limits.page_size)?;
        let page = s.fulfilment.waybills(a.tenant(), &domain, args).await?;
        Ok(connection(page, |w| w.id, Waybill))
    }

    async fn waybill(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Waybill> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        Ok(Waybill(s.fulfilment.waybill(a.tenant(), decode(Kind::Waybill, &id)?).await?))
    }
}

#[derive(Default)]
pub struct WaybillMutation;

#[Object]
impl WaybillMutation {
    /// A manual forecast without an order (UNCONFIRMED until `confirmWaybills`).
    async fn create_waybill(&self, ctx: &Context<'_>, input: CreateWaybillInput) -> ApiResult<WaybillPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let new = NewWaybill {
            channel_id: decode(Kind::Channel, &input.channel_id)?,
            customer_reference: input.customer_reference,
            recipient: input.recipient.into(),
            lines: input.lines.into_iter().map(line).collect(),
        };
        let (w, user_errors) = payload(s.fulfilment.create_waybill(a, new).await)?;
        Ok(WaybillPayload { waybill: w.map(Waybill), user_errors })
    }

    /// Edits an UNCONFIRMED waybill; the next push of its order sends exactly this.
    async fn update_waybill(&self, ctx: &Context<'_>, input: UpdateWaybillInput) -> ApiResult<WaybillPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let id = decode(Kind::Waybill, &input.id)?;
        let edit = WaybillEdit {
            recipient: input.recipient.map(Into::into),
            lines: input.lines.map(|v| v.into_iter().map(line).collect()),
        };
        let (w, user_errors) = payload(s.fulfilment.update_waybill(a, id, edit).await)?;
        Ok(WaybillPayload { waybill: w.map(Waybill), user_errors })
    }

    /// Sends manual UNCONFIRMED waybills for a tracking number (order waybills: push the order).
    async fn confirm_waybills(
        &self,
        ctx: &Context<'_>,
        input: ConfirmWaybillsInput,
    ) -> ApiResult<ConfirmWaybillsPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let ids = input.waybill_ids.iter().map(|id| decode(Kind::Waybill, id)).collect::<Result<Vec<_>, _>>()?;
        let (outcomes, user_errors) = payload(s.fulfilment.confirm_waybills(a, &ids).await)?;
        let outcomes = outcomes.unwrap_or_default();
        let found: Vec<uuid::Uuid> = outcomes.iter().filter(|o| o.status.is_some()).map(|o| o.waybill_id).collect();
        let mut loaded: std::collections::HashMap<uuid::Uuid, waybill::Model> =
            s.fulfilment.waybills_by_ids(a.tenant(), &found).await?.into_iter().map(|w| (w.id, w)).collect();
        let results = outcomes
            .into_iter()
            .map(|o| WaybillResult {
                waybill_id: encode(Kind::Waybill, o.waybill_id),
                status: o.status.map(Into::into),
                waybill: loaded.remove(&o.waybill_id).map(Waybill),
                user_errors: o.errors.into_iter().map(Into::into).collect(),
            })
            .collect();
        Ok(ConfirmWaybillsPayload { results, user_errors })
    }
}
