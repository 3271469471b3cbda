//! Orders in GraphQL: list with filters, detail with lines and account via DataLoaders.

use async_graphql::{
    Context, ID, InputObject, Lookahead, Object, SimpleObject,
    dataloader::{DataLoader, HashMapCache, Loader},
};
use chrono::{DateTime, Utc};
use entity::{order, order_item};

use super::{
    accounts::Account,
    channels::Channel,
    connection::{Conn, connection, page_args},
    context::{actor, loaders, services},
    enums::{FulfillmentStatus, Platform, WriteBackStatus},
    errors::{ApiResult, UserErrorObject, payload},
    ids::{Kind, decode, encode},
    waybills::Waybill,
};
use crate::{
    domain::orders::{OrderFilter as DomainFilter, edit::RecipientEdit},
    error::DomainError,
};

#[derive(SimpleObject)]
pub struct Money {
    /// Minor units (cents).
    pub amount_minor: i64,
    pub currency: String,
}

#[derive(SimpleObject)]
pub struct Address {
    pub name: String,
    pub company: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub line1: String,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country_code: String,
}

pub struct Order(pub order::Model);

#[Object]
impl Order {
    pub async fn id(&self) -> ID {
        encode(Kind::Order, self.0.id)
    }
    async fn platform(&self) -> Platform {
        self.0.platform.into()
    }
    async fn platform_order_id(&self) -> &str {
        &self.0.platform_order_id
    }
    async fn platform_status(&self) -> Option<&str> {
        self.0.platform_status.as_deref()
    }
    async fn fulfillment_status(&self) -> FulfillmentStatus {
        self.0.fulfillment_status.into()
    }
    async fn write_back_status(&self) -> WriteBackStatus {
        self.0.write_back_status.into()
    }
    /// Where the order stands on its marketplace; only AWAITING_SHIPMENT orders can be
    /// pushed (cancelled or already shipped ones are imported as such).
    async fn marketplace_state(&self) -> super::enums::MarketplaceState {
        self.0.marketplace_state.into()
    }
    /// The marketplace the order was placed in (Amazon marketplace id, e.g. A1F83G8C2ARO7P).
    async fn marketplace_id(&self) -> Option<&str> {
        self.0.marketplace_id.as_deref()
    }
    async fn buyer_name(&self) -> Option<&str> {
        self.0.buyer_name.as_deref()
    }
    async fn recipient(&self) -> Address {
        crate::domain::fulfilment::snapshot::recipient_of(&self.0).into()
    }
    async fn total(&self) -> Money {
        Money { amount_minor: self.0.total_minor, currency: self.0.currency.clone() }
    }
    async fn shipping(&self) -> Money {
        Money { amount_minor: self.0.shipping_minor, currency: self.0.currency.clone() }
    }
    async fn tracking_number(&self) -> Option<&str> {
        self.0.tracking_number.as_deref()
    }
    /// The last push/operation message shown next to the order (操作信息).
    /// The code of the last push failure (e.g. DESTINATION_NOT_SERVED), while PUSH_FAILED.
    async fn last_error_code(&self) -> Option<crate::error::UserErrorCode> {
        self.0.last_error_code.as_deref().and_then(crate::error::UserErrorCode::parse)
    }
    /// The marketplace's message when writing the tracking number back failed.
    async fn write_back_error(&self) -> Option<&str> {
        self.0.write_back_error.as_deref()
    }
    /// The code of a failed write-back (CARRIER_NOT_MAPPED, CARRIER_NOT_ACCEPTED,
    /// WRITE_BACK_REJECTED, ACCOUNT_NEEDS_REAUTHORIZATION…), while FAILED.
    async fn write_back_error_code(&self) -> Option<crate::error::UserErrorCode> {
        self.0.write_back_error_code.as_deref().and_then(crate::error::UserErrorCode::parse)
    }
    async fn pushed_at(&self) -> Option<DateTime<Utc>> {
        self.0.pushed_at
    }
    async fn shipped_at(&self) -> Option<DateTime<Utc>> {
        self.0.shipped_at
    }
    async fn last_operation_message(&self) -> Option<&str> {
        self.0.last_operation_message.as_deref()
    }
    async fn ordered_at(&self) -> Option<DateTime<Utc>> {
        self.0.ordered_at
    }
    async fn platform_updated_at(&self) -> Option<DateTime<Utc>> {
        self.0.platform_updated_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn account(&self, ctx: &Context<'_>) -> ApiResult<Account> {
        let acc = loaders(ctx)?.accounts.load_one(self.0.account_id).await?;
        acc.map(Account).ok_or_else(|| DomainError::NotFound.into())
    }
    /// The shipping channel chosen for the order.
    async fn channel(&self, ctx: &Context<'_>) -> ApiResult<Option<Channel>> {
        let Some(id) = self.0.channel_id else { return Ok(None) };
        Ok(loaders(ctx)?.channels.load_one(id).await?.map(Channel))
    }
    /// The order's active (not cancelled) waybill.
    async fn waybill(&self, ctx: &Context<'_>) -> ApiResult<Option<Waybill>> {
        Ok(loaders(ctx)?.waybills_by_order.load_one(self.0.id).await?.flatten().map(Waybill))
    }
    async fn items(&self, ctx: &Context<'_>) -> ApiResult<Vec<OrderItem>> {
        Ok(loaders(ctx)?
            .order_items
            .load_one(self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(OrderItem)
            .collect())
    }
}

pub struct OrderItem(pub order_item::Model);

#[Object]
impl OrderItem {
    async fn id(&self) -> ID {
        encode(Kind::OrderItem, self.0.id)
    }
    async fn platform_item_id(&self) -> Option<&str> {
        self.0.platform_item_id.as_deref()
    }
    /// The seller SKU as the platform sent it.
    async fn platform_sku(&self) -> Option<&str> {
        self.0.platform_sku.as_deref()
    }
    async fn title(&self) -> Option<&str> {
        self.0.title.as_deref()
    }
    async fn quantity(&self) -> i32 {
        self.0.quantity
    }
    async fn unit_price_minor(&self) -> i64 {
        self.0.unit_price_minor
    }
    /// The catalogue SKU this line ships as (null until synced or fixed with `updateOrderItemSku`).
    async fn sku(&self, ctx: &Context<'_>) -> ApiResult<Option<super::skus::Sku>> {
        let Some(id) = self.0.sku_id else { return Ok(None) };
        Ok(loaders(ctx)?.skus.load_one(id).await?.map(super::skus::Sku))
    }
}

#[derive(InputObject)]
pub struct AddressInput {
    pub name: String,
    pub company: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub line1: String,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub country_code: String,
}

impl From<AddressInput> for RecipientEdit {
    fn from(a: AddressInput) -> Self {
        Self {
            name: a.name,
            company: a.company,
            phone: a.phone,
            email: a.email,
            line1: a.line1,
            line2: a.line2,
            city: a.city,
            state: a.state,
            postal_code: a.postal_code,
            country_code: a.country_code,
        }
    }
}

impl From<RecipientEdit> for Address {
    fn from(r: RecipientEdit) -> Self {
        Self {
            name: r.name,
            company: r.company,
            phone: r.phone,
            email: r.email,
            line1: r.line1,
            line2: r.line2,
            city: r.city,
            state: r.state,
            postal_code: r.postal_code,
            country_code: r.country_code,
        }
    }
}

#[derive(InputObject)]
pub struct UpdateOrderRecipientInput {
    pub order_id: ID,
    pub recipient: AddressInput,
}

#[derive(InputObject)]
pub struct UpdateOrderItemSkuInput {
    pub order_item_id: ID,
    /// The catalogue SKU code to ship this line as (created in the catalogue if missing).
    pub sku_code: String,
}

#[derive(SimpleObject)]
pub struct OrderPayload {
    pub order: Option<Order>,
    pub user_errors: Vec<UserErrorObject>,
}

#[derive(SimpleObject)]
pub struct SyncSkusFromOrdersPayload {
    /// Catalogue SKUs created for seller SKUs seen on orders.
    pub created: u64,
    /// Order lines newly linked to a catalogue SKU.
    pub linked: u64,
    pub user_errors: Vec<UserErrorObject>,
}

#[derive(Default)]
pub struct OrderMutation;

#[Object]
impl OrderMutation {
    /// Corrects the recipient (only while UNPUSHED or PUSH_FAILED).
    async fn update_order_recipient(
        &self,
        ctx: &Context<'_>,
        input: UpdateOrderRecipientInput,
    ) -> ApiResult<OrderPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let id = decode(Kind::Order, &input.order_id)?;
        let edit = RecipientEdit::from(input.recipient);
        let (order, user_errors) = payload(s.orders.update_recipient(a, id, edit).await)?;
        Ok(OrderPayload { order: order.map(Order), user_errors })
    }

    /// Changes which catalogue SKU an order line ships as (修改sku).
    async fn update_order_item_sku(
        &self,
        ctx: &Context<'_>,
        input: UpdateOrderItemSkuInput,
    ) -> ApiResult<OrderPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let id = decode(Kind::OrderItem, &input.order_item_id)?;
        let (order, user_errors) = payload(s.orders.update_item_sku(a, id, &input.sku_code).await)?;
        Ok(OrderPayload { order: order.map(Order), user_errors })
    }

    /// Adds every seller SKU seen on orders to the catalogue and links the lines (同步).
    async fn sync_skus_from_orders(&self, ctx: &Context<'_>) -> ApiResult<SyncSkusFromOrdersPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let (sync, user_errors) = payload(s.orders.sync_skus_from_orders(a).await)?;
        let sync = sync.unwrap_or_default();
        Ok(SyncSkusFromOrdersPayload { created: sync.created, linked: sync.linked, user_errors })
    }
}

#[derive(InputObject, Default)]
pub struct OrderFilter {
    /// The platform's own status (e.g. eBay `NOT_STARTED`, AliExpress `WAIT_SELLER_SEND_GOODS`).
    pub status: Option<String>,
    pub fulfillment_status: Option<Vec<FulfillmentStatus>>,
    pub platform: Option<Platform>,
    pub account_id: Option<ID>,
    pub channel_id: Option<ID>,
    pub destination_country: Option<String>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    /// Platform order id, tracking number (exact) or recipient name (contains).
    pub search: Option<String>,
}

/// Loads the selected relations of `orders` before their fields resolve: one query per
/// relation, the independent ones at the same time, straight through each loader (no
/// batching delay: every key is known already) into the request's loader caches, where the
/// nodes then find them. `node` is the selection of one order.
async fn prime(ctx: &Context<'_>, orders: &[order::Model], node: Lookahead<'_>) -> ApiResult<()> {
    let l = loaders(ctx)?;
    let order_ids = distinct(orders.iter().map(|o| o.id));
    let items_and_skus = async {
        if !node.field("items").exists() {
            return Ok(());
        }
        let items = fetch_into(&l.order_items, order_ids.clone()).await?;
        if node.field("items").field("sku").exists() {
            fetch_into(&l.skus, distinct(items.values().flatten().filter_map(|i| i.sku_id))).await?;
        }
        Ok::<(), DomainError>(())
    };
    let accounts = async {
        if node.field("account").exists() {
            fetch_into(&l.accounts, distinct(orders.iter().map(|o| o.account_id))).await?;
        }
        Ok::<(), DomainError>(())
    };
    let channels = async {
        if node.field("channel").exists() {
            fetch_into(&l.channels, distinct(orders.iter().filter_map(|o| o.channel_id))).await?;
        }
        Ok::<(), DomainError>(())
    };
    let waybills = async {
        if node.field("waybill").exists() {
            fetch_into(&l.waybills_by_order, order_ids.clone()).await?;
        }
        Ok::<(), DomainError>(())
    };
    let (a, b, c, d) = tokio::join!(items_and_skus, accounts, channels, waybills);
    a?;
    b?;
    c?;
    d?;
    Ok(())
}

fn distinct(ids: impl Iterator<Item = uuid::Uuid>) -> Vec<uuid::Uuid> {
    let mut seen = std::collections::HashSet::new();
    ids.filter(|i| seen.insert(*i)).collect()
}

/// Loads `keys` with the loader itself and feeds the results into its cache.
async fn fetch_into<T>(
    dl: &DataLoader<T, HashMapCache>,
    keys: Vec<uuid::Uuid>,
) -> Result<std::collections::HashMap<uuid::Uuid, T::Value>, T::Error>
where
    T: Loader<uuid::Uuid>,
{
    if keys.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    let values = dl.loader().load(&keys).await?;
    dl.feed_many(values.clone()).await;
    Ok(values)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum, Default)]
pub enum OrderSortField {
    /// When Shipgate first saw the order (stable, unique with the id).
    #[default]
    CreatedAt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum, Default)]
pub enum SortDirection {
    Asc,
    #[default]
    Desc,
}

#[derive(InputObject, Default)]
pub struct OrderOrder {
    #[graphql(default)]
    pub field: OrderSortField,
    #[graphql(default)]
    pub direction: SortDirection,
}

#[derive(Default)]
pub struct OrderQuery;

#[Object]
impl OrderQuery {
    /// Orders, newest first.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn orders(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<OrderFilter>,
        order_by: Option<OrderOrder>,
    ) -> ApiResult<Conn<Order>> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let f = filter.unwrap_or_default();
        let domain = DomainFilter {
            platform_status: f.status,
            fulfillment_status: f.fulfillment_status.map(|v| v.into_iter().map(Into::into).collect()),
            platform: f.platform.map(Into::into),
            account_id: f.account_id.as_ref().map(|id| decode(Kind::Account, id)).transpose()?,
            channel_id: f.channel_id.as_ref().map(|id| decode(Kind::Channel, id)).transpose()?,
            destination_country: f.destination_country,
            created_from: f.created_from,
            created_to: f.created_to,
            search: f.search,
        };
        let mut args = page_args(ctx, first, after, s.settings.limits.page_size)?;
        if order_by.is_some_and(|o| o.direction == SortDirection::Asc) {
            args.direction = crate::domain::pagination::Direction::Asc;
        }
        let page = s.orders.list(a.tenant(), &domain, args).await?;
        prime(ctx, &page.items, ctx.look_ahead().field("edges").field("node")).await?;
        Ok(connection(page, |o| o.id, Order))
    }

    async fn order(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Order> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let o = s.orders.get(a.tenant(), decode(Kind::Order, &id)?).await?;
        prime(ctx, std::slice::from_ref(&o), ctx.look_ahead()).await?;
        Ok(Order(o))
    }
}
