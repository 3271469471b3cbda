//! The OrangeConnex warehouse in GraphQL (seed 003): SKUs to and from the warehouse,
//! services as channels, polling, inbound orders with labels and clearance uploads
//! (GraphQL multipart request spec), outbound orders, stock snapshots and movements.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject, Upload};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    inbound_order, inbound_order_file, inbound_order_line, inventory_snapshot, outbound_order, stock_movement,
};

use super::{
    channels::Channel,
    connection::{Conn, connection, page_args},
    context::{actor, services},
    enums::{InboundFileKind, InboundStatus, OutboundStatus, ShippingMethod},
    errors::{ApiResult, UserErrorObject, payload},
    ids::{Kind, decode, encode},
    skus::Sku,
};
use crate::{
    connectors::logistics::CartonTracking,
    domain::warehouse::{
        inbound::{CartonInput, ClearanceUpload, InboundFilter as DomainInboundFilter, InboundInput},
        regions,
        stock::SnapshotFilter,
    },
    error::DomainError,
};

/// An inbound shipment to the warehouse (入库单).
pub struct InboundOrder(pub inbound_order::Model);

#[Object]
impl InboundOrder {
    pub async fn id(&self) -> ID {
        encode(Kind::InboundOrder, self.0.id)
    }
    async fn account_id(&self) -> ID {
        encode(Kind::Account, self.0.account_id)
    }
    /// OrangeConnex's region code of the receiving warehouse (UK, DE, AU, AU-MEL, US-East…).
    async fn warehouse_region(&self) -> &str {
        &self.0.warehouse_region
    }
    /// The ISO country of that warehouse (GB for UK), when the region is known.
    async fn warehouse_country_code(&self) -> Option<&'static str> {
        regions::country_of(&self.0.warehouse_region)
    }
    /// Our number for it (sellerInboundNumber).
    async fn seller_inbound_number(&self) -> &str {
        &self.0.seller_inbound_number
    }
    /// OrangeConnex's number (OCI…), once accepted.
    async fn inbound_number(&self) -> Option<&str> {
        self.0.inbound_number.as_deref()
    }
    async fn shipping_method(&self) -> ShippingMethod {
        self.0.shipping_method.into()
    }
    async fn eta(&self) -> Option<NaiveDate> {
        self.0.eta.map(|d| d.date_naive())
    }
    async fn need_clearance_doc(&self) -> bool {
        self.0.need_clearance_doc
    }
    async fn status(&self) -> InboundStatus {
        self.0.status.into()
    }
    /// Express tracking numbers uploaded, per carton.
    async fn tracking_numbers(&self) -> Vec<CartonTrackingObject> {
        serde_json::from_value::<Vec<serde_json::Value>>(self.0.tracking_numbers.clone())
            .unwrap_or_default()
            .iter()
            .map(|v| CartonTrackingObject {
                carton_number: v["cartonNumber"].as_str().unwrap_or_default().to_owned(),
                carrier: v["carrier"].as_str().unwrap_or_default().to_owned(),
                tracking_number: v["trackingNumber"].as_str().unwrap_or_default().to_owned(),
            })
            .collect()
    }
    async fn lines(&self, ctx: &Context<'_>) -> ApiResult<Vec<InboundOrderLine>> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        Ok(s.warehouse.inbound_lines(a.tenant(), self.0.id).await?.into_iter().map(InboundOrderLine).collect())
    }
    /// SKU labels, carton labels and clearance papers.
    async fn files(&self, ctx: &Context<'_>) -> ApiResult<Vec<InboundFile>> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        Ok(s.warehouse.inbound_files(a.tenant(), self.0.id).await?.into_iter().map(InboundFile).collect())
    }
    async fn last_polled_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_polled_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

#[derive(SimpleObject)]
#[graphql(name = "CartonTracking")]
pub struct CartonTrackingObject {
    pub carton_number: String,
    pub carrier: String,
    pub tracking_number: String,
}

pub struct InboundOrderLine(pub inbound_order_line::Model);

#[Object]
impl InboundOrderLine {
    async fn seller_carton_number(&self) -> &str {
        &self.0.seller_carton_number
    }
    async fn sku_id(&self) -> ID {
        encode(Kind::Sku, self.0.sku_id)
    }
    async fn sku(&self, ctx: &Context<'_>) -> ApiResult<Option<Sku>> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        match s.catalog.get(a.tenant(), self.0.sku_id).await {
            Ok(k) => Ok(Some(Sku(k))),
            Err(DomainError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
    async fn quantity(&self) -> i32 {
        self.0.quantity
    }
    async fn received_quantity(&self) -> i32 {
        self.0.received_quantity
    }
    async fn put_away_quantity(&self) -> i32 {
        self.0.putaway_quantity
    }
}

pub struct InboundFile(pub inbound_order_file::Model);

#[Object]
impl InboundFile {
    async fn kind(&self) -> InboundFileKind {
        self.0.kind.into()
    }
    /// Clearance papers: PL, IN, BL, MAWB or CO.
    async fn file_type(&self) -> Option<&str> {
        self.0.file_type.as_deref()
    }
    async fn file_name(&self) -> &str {
        &self.0.file_name
    }
    async fn content_type(&self) -> &str {
        &self.0.content_type
    }
    async fn size_bytes(&self) -> i64 {
        self.0.size_bytes
    }
    async fn sha256(&self) -> &str {
        &self.0.sha256
    }
    /// A download link (no other authentication) valid for 15 minutes from this query.
    async fn url(&self, ctx: &Context<'_>) -> ApiResult<String> {
        Ok(services(ctx)?.warehouse.file_url(self.0.id).0)
    }
    async fn uploaded_to_warehouse_at(&self) -> Option<DateTime<Utc>> {
        self.0.uploaded_to_provider_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// An order the warehouse picks, packs and ships (出库单).
pub struct OutboundOrder(pub outbound_order::Model);

#[Object]
impl OutboundOrder {
    async fn account_id(&self) -> ID {
        encode(Kind::Account, self.0.account_id)
    }
    async fn order_id(&self) -> Option<ID> {
        self.0.order_id.map(|o| encode(Kind::Order, o))
    }
    async fn waybill_id(&self) -> Option<ID> {
        self.0.waybill_id.map(|w| encode(Kind::Waybill, w))
    }
    /// OrangeConnex's number (OCO…).
    async fn outbound_number(&self) -> Option<&str> {
        self.0.outbound_number.as_deref()
    }
    /// The reference we placed it with (or the marketplace order id for orders OC fulfilled itself).
    async fn reference(&self) -> &str {
        &self.0.seller_order_number
    }
    async fn status(&self) -> OutboundStatus {
        self.0.status.into()
    }
    async fn carrier(&self) -> Option<&str> {
        self.0.carrier.as_deref()
    }
    async fn tracking_number(&self) -> Option<&str> {
        self.0.tracking_number.as_deref()
    }
    async fn chargeable_weight_grams(&self) -> Option<i32> {
        self.0.chargeable_weight_grams
    }
    /// The warehouse's fee, minor units of `feeCurrency`.
    async fn fee_minor(&self) -> Option<i64> {
        self.0.fee_minor
    }
    async fn fee_currency(&self) -> Option<&str> {
        self.0.fee_currency.as_deref()
    }
    /// OrangeConnex fulfilled it on its own (autoFulfillmentEF).
    async fn auto_fulfilled(&self) -> bool {
        self.0.auto_fulfilled
    }
    async fn last_polled_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_polled_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// One SKU's stock in one warehouse.
pub struct InventorySnapshot(pub inventory_snapshot::Model);

#[Object]
impl InventorySnapshot {
    async fn sku_id(&self) -> ID {
        encode(Kind::Sku, self.0.sku_id)
    }
    async fn account_id(&self) -> ID {
        encode(Kind::Account, self.0.account_id)
    }
    /// OrangeConnex's region code (UK, DE, AU, AU-MEL, US-East, US-South, US-West).
    async fn warehouse_region(&self) -> &str {
        &self.0.region
    }
    /// The ISO country of the warehouse (GB for UK, US for US-East…), when the region is known.
    async fn country_code(&self) -> Option<&'static str> {
        regions::country_of(&self.0.region)
    }
    async fn warehouse_code(&self) -> &str {
        &self.0.warehouse_code
    }
    async fn available(&self) -> i32 {
        self.0.available
    }
    async fn in_transit(&self) -> i32 {
        self.0.in_transit
    }
    async fn received(&self) -> i32 {
        self.0.received
    }
    /// Allocated, on hold or reserved for value-added services.
    async fn reserved(&self) -> i32 {
        self.0.reserved
    }
    /// Unfulfillable or suspended.
    async fn unfulfillable(&self) -> i32 {
        self.0.unfulfillable
    }
    async fn captured_at(&self) -> DateTime<Utc> {
        self.0.captured_at
    }
}

pub struct StockMovement(pub stock_movement::Model);

#[Object]
impl StockMovement {
    async fn warehouse_region(&self) -> &str {
        &self.0.warehouse_code
    }
    /// Inventory status and reason, e.g. `AVL:OEH` (shipped), `AVL:PAC` (put away).
    async fn movement_type(&self) -> &str {
        &self.0.movement_type
    }
    async fn quantity(&self) -> i32 {
        self.0.quantity
    }
    /// The warehouse order it belongs to (OCO…/OCI…).
    async fn reference(&self) -> Option<&str> {
        self.0.reference.as_deref()
    }
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
}

#[derive(InputObject)]
pub struct PushSkusToWarehouseInput {
    pub account_id: ID,
    pub sku_ids: Vec<ID>,
    /// OrangeConnex regions to register the SKUs for: OC's codes (UK, DE, AU, AU-MEL,
    /// US-East, US-South, US-West), or a country with a single region (GB stands for UK).
    pub regions: Vec<String>,
}

#[derive(SimpleObject)]
pub struct WarehouseSkuResult {
    pub sku_id: ID,
    pub sku: Option<Sku>,
    pub user_errors: Vec<UserErrorObject>,
}

#[derive(SimpleObject)]
pub struct PushSkusToWarehousePayload {
    pub results: Vec<WarehouseSkuResult>,
    pub user_errors: Vec<UserErrorObject>,
}

#[derive(InputObject)]
pub struct PullWarehouseSkusInput {
    pub account_id: ID,
    /// Only SKUs changed at the warehouse since then (default: every SKU we know of).
    pub since: Option<DateTime<Utc>>,
}

#[derive(SimpleObject)]
pub struct PullWarehouseSkusPayload {
    /// Warehouse SKUs read.
    pub fetched: i32,
    /// Catalogue SKUs linked or updated.
    pub linked: i32,
    /// Warehouse SKUs with no catalogue SKU of the same code.
    pub unmatched: i32,
    pub user_errors: Vec<UserErrorObject>,
}

#[derive(InputObject)]
pub struct WarehouseAccountInput {
    pub account_id: ID,
}

#[derive(SimpleObject)]
pub struct SyncWarehouseServicesPayload {
    /// The account's channels, one per OrangeConnex service.
    pub channels: Vec<Channel>,
    pub user_errors: Vec<UserErrorObject>,
}

#[derive(SimpleObject)]
pub struct SyncWarehousePayload {
    pub outbound_updated: i32,
    pub tracking_received: i32,
    pub auto_fulfilled_imported: i32,
    pub inbound_updated: i32,
    pub user_errors: Vec<UserErrorObject>,
}

#[derive(SimpleObject)]
pub struct RefreshInventoryPayload {
    pub skus: i32,
    pub rows: i32,
    pub user_errors: Vec<UserErrorObject>,
}

#[derive(InputObject)]
pub struct InboundLineInput {
    pub sku_id: ID,
    pub quantity: i32,
}

#[derive(InputObject)]
pub struct InboundCartonInput {
    pub seller_carton_number: String,
    pub lines: Vec<InboundLineInput>,
}

#[derive(InputObject)]
pub struct CreateInboundOrderInput {
    pub account_id: ID,
    /// OrangeConnex's region code (UK, DE, AU, AU-MEL, US-East, US-South, US-West), or a
    /// country with a single region (GB stands for UK).
    pub warehouse_region: String,
    /// Your number for the shipment; unique.
    pub seller_inbound_number: String,
    pub shipping_method: ShippingMethod,
    pub eta: NaiveDate,
    #[graphql(default)]
    pub need_clearance_doc: bool,
    /// Country the goods ship from (default CN).
    pub ship_from: Option<String>,
    pub cartons: Vec<InboundCartonInput>,
}

#[derive(SimpleObject)]
pub struct InboundOrderPayload {
    pub inbound_order: Option<InboundOrder>,
    pub user_errors: Vec<UserErrorObject>,
}

#[derive(InputObject)]
pub struct CartonTrackingInput {
    pub carton_number: String,
    pub carrier: String,
    pub tracking_number: String,
}

#[derive(InputObject)]
pub struct UploadInboundTrackingInput {
    pub inbound_order_id: ID,
    pub cartons: Vec<CartonTrackingInput>,
}

#[derive(InputObject)]
pub struct UploadClearanceDocumentInput {
    pub inbound_order_id: ID,
    /// PL (packing list), IN (invoice), BL (bill of lading), MAWB (air waybill), CO (certificate of origin).
    pub file_type: String,
    /// PDF, JPEG, PNG, Excel or Word; at most 10 MiB.
    pub file: Upload,
}

#[derive(SimpleObject)]
pub struct UploadClearanceDocumentPayload {
    pub file: Option<InboundFile>,
    pub user_errors: Vec<UserErrorObject>,
}

#[derive(InputObject, Default)]
pub struct InboundOrderFilter {
    pub account_id: Option<ID>,
    pub status: Option<InboundStatus>,
}

#[derive(InputObject, Default)]
pub struct InventorySnapshotFilter {
    pub sku_id: Option<ID>,
    /// An OrangeConnex region code, or a country (all its regions: US → US-East, US-South, US-West).
    pub warehouse_region: Option<String>,
    pub account_id: Option<ID>,
}

/// An OrangeConnex region and the country its warehouse is in.
#[derive(SimpleObject)]
pub struct WarehouseRegion {
    /// OrangeConnex's code (what the warehouse API uses): UK, DE, AU, AU-MEL, US-East…
    pub code: String,
    /// ISO 3166-1 alpha-2 country (GB for UK).
    pub country_code: String,
}

#[derive(Default)]
pub struct WarehouseQuery;

#[Object]
impl WarehouseQuery {
    /// OrangeConnex's regions, for `regions` / `warehouseRegion` inputs.
    async fn warehouse_regions(&self) -> Vec<WarehouseRegion> {
        regions::OC_REGIONS
            .iter()
            .map(|(code, cc)| WarehouseRegion { code: (*code).to_owned(), country_code: (*cc).to_owned() })
            .collect()
    }

    async fn inbound_orders(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<InboundOrderFilter>,
    ) -> ApiResult<Conn<InboundOrder>> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let f = filter.unwrap_or_default();
        let domain = DomainInboundFilter {
            account_id: f.account_id.map(|id| decode(Kind::Account, &id)).transpose()?,
            status: f.status.map(Into::into),
        };
        let args = page_args(ctx, first, after, s.settings.limits.page_size)?;
        Ok(connection(s.warehouse.inbound_orders(a.tenant(), &domain, args).await?, |o| o.id, InboundOrder))
    }

    async fn inbound_order(&self, ctx: &Context<'_>, id: ID) -> ApiResult<InboundOrder> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        Ok(InboundOrder(s.warehouse.inbound(a.tenant(), decode(Kind::InboundOrder, &id)?).await?))
    }

    /// The warehouse's outbound orders for one of our orders (placed by pushing it).
    async fn outbound_orders(&self, ctx: &Context<'_>, order_id: ID) -> ApiResult<Vec<OutboundOrder>> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let id = decode(Kind::Order, &order_id)?;
        Ok(s.warehouse.outbound_of_order(a.tenant(), id).await?.into_iter().map(OutboundOrder).collect())
    }

    /// Stock per SKU and warehouse, as last refreshed (`refreshInventory`, or the polling job).
    async fn inventory_snapshots(
        &self,
        ctx: &Context<'_>,
        filter: Option<InventorySnapshotFilter>,
    ) -> ApiResult<Vec<InventorySnapshot>> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let f = filter.unwrap_or_default();
        let domain = SnapshotFilter {
            sku_id: f.sku_id.map(|id| decode(Kind::Sku, &id)).transpose()?,
            warehouse_region: f.warehouse_region,
            account_id: f.account_id.map(|id| decode(Kind::Account, &id)).transpose()?,
        };
        Ok(s.warehouse.snapshots(a.tenant(), &domain).await?.into_iter().map(InventorySnapshot).collect())
    }

    /// A SKU's stock movements in `[from, to)`, read from the warehouse (any range within
    /// the last year; split into 7-day windows behind the scenes).
    async fn stock_movements(
        &self,
        ctx: &Context<'_>,
        sku_id: ID,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> ApiResult<Vec<StockMovement>> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let id = decode(Kind::Sku, &sku_id)?;
        Ok(s.warehouse.stock_movements(a, id, from, to).await?.into_iter().map(StockMovement).collect())
    }
}

#[derive(Default)]
pub struct WarehouseMutation;

fn n(v: usize) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

#[Object]
impl WarehouseMutation {
    /// Registers catalogue SKUs with the warehouse (SKUCreation v3): each gets its MFSKUID
    /// and the status OrangeConnex answers with (DRAFT until submitted and approved on its
    /// portal).
    async fn push_skus_to_warehouse(
        &self,
        ctx: &Context<'_>,
        input: PushSkusToWarehouseInput,
    ) -> ApiResult<PushSkusToWarehousePayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let account = decode(Kind::Account, &input.account_id)?;
        let ids = input.sku_ids.iter().map(|id| decode(Kind::Sku, id)).collect::<Result<Vec<_>, _>>()?;
        let (outcomes, user_errors) = payload(s.warehouse.push_skus(a, account, &ids, &input.regions).await)?;
        Ok(PushSkusToWarehousePayload {
            results: outcomes
                .unwrap_or_default()
                .into_iter()
                .map(|o| WarehouseSkuResult {
                    sku_id: encode(Kind::Sku, o.sku_id),
                    sku: o.sku.map(Sku),
                    user_errors: o.errors.into_iter().map(Into::into).collect(),
                })
                .collect(),
            user_errors,
        })
    }

    /// Brings the warehouse's view of our SKUs back (SKUQuery v3, by the MFSKUIDs we hold and
    /// the codes not linked yet): MFSKUID, seller SKU, review state.
    async fn pull_warehouse_skus(
        &self,
        ctx: &Context<'_>,
        input: PullWarehouseSkusInput,
    ) -> ApiResult<PullWarehouseSkusPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let account = decode(Kind::Account, &input.account_id)?;
        let (o, user_errors) = payload(s.warehouse.pull_skus(a, account, input.since).await)?;
        let o = o.unwrap_or_default();
        Ok(PullWarehouseSkusPayload {
            fetched: n(o.fetched),
            linked: n(o.linked),
            unmatched: n(o.unmatched),
            user_errors,
        })
    }

    /// Turns the warehouse's services into channels (provider ORANGECONNEX). ADMIN.
    async fn sync_warehouse_services(
        &self,
        ctx: &Context<'_>,
        input: WarehouseAccountInput,
    ) -> ApiResult<SyncWarehouseServicesPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let account = decode(Kind::Account, &input.account_id)?;
        let (channels, user_errors) = payload(s.warehouse.sync_services(a, account).await)?;
        Ok(SyncWarehouseServicesPayload {
            channels: channels.unwrap_or_default().into_iter().map(Channel).collect(),
            user_errors,
        })
    }

    /// Polls the warehouse now (the server also does so on a schedule): outbound status and
    /// tracking numbers, orders it fulfilled itself, inbound progress.
    async fn sync_warehouse(&self, ctx: &Context<'_>, input: WarehouseAccountInput) -> ApiResult<SyncWarehousePayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let account = decode(Kind::Account, &input.account_id)?;
        let (o, user_errors) = payload(s.warehouse.sync_now(a, account).await)?;
        let o = o.unwrap_or_default();
        Ok(SyncWarehousePayload {
            outbound_updated: n(o.outbound_updated),
            tracking_received: n(o.tracking_received),
            auto_fulfilled_imported: n(o.auto_fulfilled_imported),
            inbound_updated: n(o.inbound_updated),
            user_errors,
        })
    }

    /// Reads the stock of every SKU registered with the account now (stockSnapshot).
    async fn refresh_inventory(
        &self,
        ctx: &Context<'_>,
        input: WarehouseAccountInput,
    ) -> ApiResult<RefreshInventoryPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let account = decode(Kind::Account, &input.account_id)?;
        let (o, user_errors) = payload(s.warehouse.refresh_inventory(a, account).await)?;
        let o = o.unwrap_or_default();
        Ok(RefreshInventoryPayload { skus: n(o.skus), rows: n(o.rows), user_errors })
    }

    /// Creates an inbound order (inboundOrderCreation): OrangeConnex's number, SKU labels and
    /// carton labels come back and are kept for download.
    async fn create_inbound_order(
        &self,
        ctx: &Context<'_>,
        input: CreateInboundOrderInput,
    ) -> ApiResult<InboundOrderPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let mut cartons = Vec::with_capacity(input.cartons.len());
        for c in input.cartons {
            let lines = c
                .lines
                .iter()
                .map(|l| decode(Kind::Sku, &l.sku_id).map(|id| (id, l.quantity)))
                .collect::<Result<Vec<_>, _>>()?;
            cartons.push(CartonInput { seller_carton_number: c.seller_carton_number, lines });
        }
        let domain = InboundInput {
            account_id: decode(Kind::Account, &input.account_id)?,
            warehouse_region: input.warehouse_region,
            seller_inbound_number: input.seller_inbound_number,
            shipping_method: input.shipping_method.into(),
            eta: input.eta,
            need_clearance_doc: input.need_clearance_doc,
            ship_from: input.ship_from,
            cartons,
        };
        let (o, user_errors) = payload(s.warehouse.create_inbound(a, domain).await)?;
        Ok(InboundOrderPayload { inbound_order: o.map(InboundOrder), user_errors })
    }

    /// Uploads the express carriers' tracking numbers (express inbound orders only).
    async fn upload_inbound_tracking(
        &self,
        ctx: &Context<'_>,
        input: UploadInboundTrackingInput,
    ) -> ApiResult<InboundOrderPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let id = decode(Kind::InboundOrder, &input.inbound_order_id)?;
        let cartons = input
            .cartons
            .into_iter()
            .map(|c| CartonTracking { carton: c.carton_number, carrier: c.carrier, tracking_number: c.tracking_number })
            .collect();
        let (o, user_errors) = payload(s.warehouse.upload_tracking(a, id, cartons).await)?;
        Ok(InboundOrderPayload { inbound_order: o.map(InboundOrder), user_errors })
    }

    /// Uploads a customs clearance paper (multipart request); required before an inbound
    /// order with `needClearanceDoc` counts as complete.
    async fn upload_clearance_document(
        &self,
        ctx: &Context<'_>,
        input: UploadClearanceDocumentInput,
    ) -> ApiResult<UploadClearanceDocumentPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let id = decode(Kind::InboundOrder, &input.inbound_order_id)?;
        let value = input.file.value(ctx).map_err(|e| DomainError::bad_input("file", e.to_string()))?;
        let file_name = value.filename.clone();
        let content_type = value.content_type.clone().unwrap_or_default();
        let bytes = tokio::task::spawn_blocking(move || {
            use std::io::Read;
            let mut buf = Vec::new();
            value
                .into_read()
                .take((crate::domain::warehouse::inbound::MAX_FILE_BYTES + 1) as u64)
                .read_to_end(&mut buf)
                .map(|_| buf)
        })
        .await
        .map_err(DomainError::internal)?
        .map_err(|e| DomainError::bad_input("file", e.to_string()))?;
        let up = ClearanceUpload { inbound_order_id: id, file_type: input.file_type, file_name, content_type, bytes };
        let (f, user_errors) = payload(s.warehouse.upload_clearance(a, up).await)?;
        Ok(UploadClearanceDocumentPayload { file: f.map(InboundFile), user_errors })
    }
}
