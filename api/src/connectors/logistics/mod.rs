//! The `Warehouse` role (design.md §6): an overseas warehouse's SKUs, services, outbound
//! orders, inbound orders and stock. OrangeConnex is the one implementation; its wire DTOs
//! stay in its folder and map to the types below. (The NETWORK logistics provider books in
//! our own database, so it lives in `domain::fulfilment::provider`.)

pub mod orangeconnex;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use secrecy::SecretString;

use super::{ConnectorError, marketplace::Address};

/// One item of a batch call the provider refused (the others may have gone through).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRefusal {
    pub code: String,
    pub message: String,
}

pub type ItemResult<T> = Result<T, ItemRefusal>;

/// A SKU to register with the warehouse (seed 003 §2-2, SKUCreation v3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWarehouseSku {
    /// Our SKU code (OC's `referenceSKUID`).
    pub reference: String,
    pub name_en: String,
    pub name_cn: Option<String>,
    pub with_battery: bool,
    /// The warehouse's own region codes (OC: `UK`, `DE`, `US-East`…), never ISO countries.
    pub regions: Vec<String>,
    pub origin_country: Option<String>,
    pub hs_code: Option<String>,
    /// ISO countries the HS code is declared for (the countries of `regions`).
    pub hs_countries: Vec<String>,
    pub declared_value_minor: Option<i64>,
    pub declared_currency: Option<String>,
    pub weight_grams: Option<i32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkuReview {
    Draft,
    Submitted,
    Approved,
    Rejected,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarehouseSku {
    /// The warehouse's id (OC's MFSKUID).
    pub warehouse_sku_id: String,
    /// The seller's code on the warehouse portal (editable there).
    pub seller_sku: Option<String>,
    /// Our SKU code, when the SKU came from us.
    pub reference: Option<String>,
    /// The review state, when the answer carries one we recognise (`None`: keep what we know).
    pub review: Option<SkuReview>,
    pub regions: Vec<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// A SKU the warehouse registered: its id and, when the answer says, its review state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedSku {
    pub warehouse_sku_id: String,
    pub review: Option<SkuReview>,
}

/// SKUs to look up. OC answers lists only (at least one non-empty; each sent in chunks of
/// the provider's limit); the optional window narrows them to SKUs changed in it.
#[derive(Debug, Clone, Default)]
pub struct SkuQuery {
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Our SKU codes (OC `referenceSKUIDList`).
    pub references: Vec<String>,
    /// The seller's codes on the warehouse portal (OC `sellerSKUIDList`).
    pub seller_skus: Vec<String>,
    /// The warehouse's ids (OC `mfskulist`).
    pub warehouse_sku_ids: Vec<String>,
}

impl SkuQuery {
    pub fn is_empty(&self) -> bool {
        self.references.is_empty() && self.seller_skus.is_empty() && self.warehouse_sku_ids.is_empty()
    }
}

/// A shipping service the warehouse offers in a region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarehouseService {
    /// The warehouse's region code, as it sent it.
    pub region: String,
    pub code: String,
    pub name: String,
}

/// Where an outbound order came from: eBay orders carry eBay's ids (the seller's eBay user
/// id, which OC requires, and the `NN-NNNNN-NNNNN` order id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderSource {
    Ebay { seller_id: String, order_id: String },
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundLine {
    pub warehouse_sku_id: String,
    pub quantity: i32,
    pub declared_value_minor: Option<i64>,
    pub currency: Option<String>,
}

/// An order for the warehouse to pick, pack and ship.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundRequest {
    /// Our deterministic reference (never reused).
    pub reference: String,
    pub source: OrderSource,
    /// The warehouse's region code (OC `serviceRegion`).
    pub region: String,
    pub service_code: String,
    pub recipient: Address,
    pub lines: Vec<OutboundLine>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboundPhase {
    Created,
    Processing,
    Picked,
    Packed,
    Shipped,
    Cancelled,
    Exception,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundParcel {
    pub tracking_number: String,
    pub carrier_code: Option<String>,
    pub carrier_name: Option<String>,
    pub chargeable_weight_grams: Option<i32>,
    pub fee_minor: Option<i64>,
    pub fee_currency: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundState {
    pub order_number: String,
    pub reference: Option<String>,
    /// The warehouse fulfilled it on its own (OC `autoFulfillmentEF`).
    pub auto_fulfilled: bool,
    /// The marketplace order id it ships (eBay's), when known.
    pub platform_order_id: Option<String>,
    pub phase: OutboundPhase,
    pub region: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub parcel: Option<OutboundParcel>,
}

#[derive(Debug, Clone, Default)]
pub struct OutboundQuery {
    pub order_numbers: Vec<String>,
    pub references: Vec<String>,
    pub window: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboundMethod {
    Express,
    Sea,
    Air,
    Truck,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundCarton {
    pub number: String,
    pub origin_country: Option<String>,
    /// (warehouse SKU id, quantity)
    pub lines: Vec<(String, i32)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundRequest {
    pub seller_number: String,
    /// The warehouse's region code (OC `serviceRegion`).
    pub region: String,
    pub ship_from: String,
    pub method: InboundMethod,
    pub eta: NaiveDate,
    pub need_clearance_doc: bool,
    pub cartons: Vec<InboundCarton>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileData {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundCreated {
    pub inbound_number: String,
    pub sku_labels: Option<FileData>,
    pub carton_labels: Option<FileData>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartonTracking {
    pub carton: String,
    pub carrier: String,
    pub tracking_number: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboundPhase {
    Created,
    InTransit,
    Receiving,
    PutAway,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundLineState {
    pub warehouse_sku_id: String,
    pub carton: Option<String>,
    pub quantity: i32,
    /// `None` when the answer does not say (keep what we know).
    pub received: Option<i32>,
    pub put_away: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundState {
    pub inbound_number: String,
    pub phase: InboundPhase,
    pub warehouse_code: Option<String>,
    pub clearance_received: Option<bool>,
    pub lines: Vec<InboundLineState>,
}

/// One SKU's stock in one warehouse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockLevel {
    pub warehouse_sku_id: String,
    pub region: String,
    pub warehouse_code: String,
    pub available: i32,
    pub in_transit: i32,
    pub received: i32,
    pub reserved: i32,
    pub unfulfillable: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockMovement {
    pub warehouse_sku_id: String,
    pub region: String,
    /// AVL, INTRAN, RCVD, RSVALOC…
    pub inventory_status: String,
    /// The warehouse's id for the movement (idempotent re-import).
    pub id: String,
    pub quantity: i32,
    pub reason: Option<String>,
    pub order_number: Option<String>,
    pub at: DateTime<Utc>,
}

#[async_trait]
pub trait Warehouse: Send + Sync {
    async fn services(&self, token: &SecretString) -> Result<Vec<WarehouseService>, ConnectorError>;
    /// Registers SKUs (the connector batches to the provider's limit); one result per input.
    async fn create_skus(
        &self,
        token: &SecretString,
        skus: &[NewWarehouseSku],
    ) -> Result<Vec<ItemResult<CreatedSku>>, ConnectorError>;
    /// Every SKU named by the query's lists (the connector chunks and pages).
    async fn query_skus(&self, token: &SecretString, q: &SkuQuery) -> Result<Vec<WarehouseSku>, ConnectorError>;
    /// Places outbound orders (batched to the provider's limit); one order number per input.
    async fn place_outbound(
        &self,
        token: &SecretString,
        orders: &[OutboundRequest],
    ) -> Result<Vec<ItemResult<String>>, ConnectorError>;
    async fn query_outbound(
        &self,
        token: &SecretString,
        q: &OutboundQuery,
    ) -> Result<Vec<OutboundState>, ConnectorError>;
    /// Cancels an outbound order; `Rejected { code: "ORDER_PICKED" }` once picking started.
    async fn cancel_outbound(
        &self,
        token: &SecretString,
        order_number: &str,
        reason: &str,
    ) -> Result<(), ConnectorError>;
    async fn create_inbound(
        &self,
        token: &SecretString,
        req: &InboundRequest,
    ) -> Result<InboundCreated, ConnectorError>;
    async fn upload_inbound_tracking(
        &self,
        token: &SecretString,
        inbound_number: &str,
        seller_number: &str,
        cartons: &[CartonTracking],
    ) -> Result<(), ConnectorError>;
    async fn upload_clearance_file(
        &self,
        token: &SecretString,
        inbound_number: &str,
        file_type: &str,
        file: &FileData,
    ) -> Result<(), ConnectorError>;
    async fn inbound_details(
        &self,
        token: &SecretString,
        inbound_numbers: &[String],
    ) -> Result<Vec<InboundState>, ConnectorError>;
    /// The inbound order the warehouse holds under our seller inbound number, if any: the
    /// lookup after a creation whose answer was lost.
    async fn find_inbound(
        &self,
        token: &SecretString,
        seller_number: &str,
    ) -> Result<Option<InboundState>, ConnectorError>;
    async fn stock_levels(
        &self,
        token: &SecretString,
        warehouse_sku_ids: &[String],
    ) -> Result<Vec<StockLevel>, ConnectorError>;
    /// Movements in `[from, to)`; the connector splits the range into the provider's windows.
    async fn stock_movements(
        &self,
        token: &SecretString,
        warehouse_sku_ids: &[String],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<StockMovement>, ConnectorError>;
}
