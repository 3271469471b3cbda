//! Inbound shipments to the warehouse (seed 003 §2-5): create (→ OC's inboundNumber, SKU
//! labels and carton labels, stored and downloadable), upload the express tracking numbers,
//! upload clearance papers (required before the order counts as complete when
//! `needClearanceDoc`), list. Status and put-away quantities come from the polling job.
//!
//! Creation is a draft first (our record, unique per seller inbound number), then the OC
//! call (sent once), then the numbers and labels. OC refuses a repeated sellerInboundNumber,
//! so a creation whose answer was lost is never simply sent again: OC is asked for the
//! order under that number first (at once, and when the same request resumes the draft
//! later), and what it holds is stored with OC's number; a creation is sent only on
//! confirmed absence. OC's refusal of the number as taken means it holds an order under it:
//! that order is looked up and stored, and the draft is never removed on it. The draft is
//! claimed by one request at a time (compare-and-set on its `updated_at`, [`CLAIM`]), so a
//! second request for the number while the first is still talking to OC gets CONFLICT and
//! sends nothing. Any other refusal removes the draft, so nothing half-written stays behind.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, SubsecRound, Utc};
use entity::{
    enums::{InboundFileKind, InboundStatus, ShippingMethod},
    inbound_order, inbound_order_file, inbound_order_line, sku,
};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, sea_query::Expr};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{CallError, Warehouse, regions};
use crate::{
    auth::{Actor, Tenant},
    connectors::{
        ConnectorError,
        logistics::{CartonTracking, FileData, InboundCarton, InboundCreated, InboundMethod, InboundRequest},
    },
    db::begin_write,
    domain::{
        audit::{self, By},
        pagination::{self, Page, PageArgs},
    },
    error::{DomainError, DomainResult, UserError, UserErrorCode},
};

/// Largest clearance file accepted (also OC's limit in our contract).
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// Clearance file types (PL packing list, IN invoice, BL bill of lading, MAWB air waybill,
/// CO certificate of origin).
pub const FILE_TYPES: [&str; 5] = ["PL", "IN", "BL", "MAWB", "CO"];
/// Content types accepted for clearance papers.
pub const CONTENT_TYPES: [&str; 6] = [
    "application/pdf",
    "image/jpeg",
    "image/png",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
];
const MAX_CARTONS: usize = 200;

/// A file row without its content: id, kind, type, name, content type, size, hash,
/// uploaded, created.
type FileRow = (
    Uuid,
    InboundFileKind,
    Option<String>,
    String,
    String,
    i64,
    String,
    Option<chrono::DateTime<Utc>>,
    chrono::DateTime<Utc>,
);

pub struct InboundInput {
    pub account_id: Uuid,
    pub warehouse_region: String,
    pub seller_inbound_number: String,
    pub shipping_method: ShippingMethod,
    pub eta: NaiveDate,
    pub need_clearance_doc: bool,
    /// Country the goods ship from (default CN).
    pub ship_from: Option<String>,
    pub cartons: Vec<CartonInput>,
}

pub struct CartonInput {
    pub seller_carton_number: String,
    /// (SKU id, quantity)
    pub lines: Vec<(Uuid, i32)>,
}

#[derive(Debug, Clone, Default)]
pub struct InboundFilter {
    pub account_id: Option<Uuid>,
    pub status: Option<InboundStatus>,
}

pub struct ClearanceUpload {
    pub inbound_order_id: Uuid,
    pub file_type: String,
    pub file_name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

fn user(code: UserErrorCode, field: &[&str], m: impl Into<String>) -> UserError {
    UserError::new(code, field, m)
}

fn method(m: ShippingMethod) -> InboundMethod {
    match m {
        ShippingMethod::Express => InboundMethod::Express,
        ShippingMethod::Sea => InboundMethod::Sea,
        ShippingMethod::Air => InboundMethod::Air,
        ShippingMethod::Truck => InboundMethod::Truck,
    }
}

fn code_ok(s: &str, max: usize) -> bool {
    !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// How long a creation attempt holds its draft (the draft's `updated_at` is the claim):
/// longer than any GraphQL request runs (`limits.request_timeout_secs`, 15 s by default), so
/// a younger draft belongs to a request that may still be talking to OC, and another request
/// for the same number gets CONFLICT instead of sending. A request that ends without an
/// answer hands the draft back at once (dating the claim this much earlier); one dropped
/// mid-call leaves it to lapse.
const CLAIM: chrono::Duration = chrono::Duration::seconds(60);

/// OC's refusal of a sellerInboundNumber it already holds (WIRE.md, inboundOrderCreation).
const DUPLICATE_SELLER_INBOUND_NUMBER: &str = "DUPLICATE_SELLER_INBOUND_NUMBER";

/// How an inbound creation at OC failed.
enum Placing {
    /// OC refused the creation, or it was never sent: OC holds nothing under the number.
    Refused(CallError),
    /// OC may hold an order under the number (an answer lost, a lookup that failed).
    Unsure(CallError),
}

fn in_progress(number: &str) -> DomainError {
    DomainError::Conflict(format!("Inbound order {number} is being created by another request; try again in a minute."))
}

/// Whether the draft is still held by the claim `claim` (locking its row until `txn` ends).
async fn hold_claim(
    txn: &sea_orm::DatabaseTransaction,
    id: Uuid,
    claim: chrono::DateTime<Utc>,
) -> Result<bool, sea_orm::DbErr> {
    let held = inbound_order::Entity::update_many()
        .col_expr(inbound_order::Column::UpdatedAt, Expr::value(claim))
        .filter(inbound_order::Column::Id.eq(id))
        .filter(inbound_order::Column::Status.eq(InboundStatus::Draft))
        .filter(inbound_order::Column::UpdatedAt.eq(claim))
        .exec(txn)
        .await?;
    Ok(held.rows_affected == 1)
}

impl Warehouse {
    pub async fn inbound(&self, tenant: Tenant, id: Uuid) -> DomainResult<inbound_order::Model> {
        inbound_order::Entity::find_by_id(id)
            .filter(inbound_order::Column::OrganizationId.eq(tenant.id()))
            .one(&self.db)
            .await?
            .ok_or(DomainError::NotFound)
    }

    pub async fn inbound_orders(
        &self,
        tenant: Tenant,
        f: &InboundFilter,
        args: PageArgs,
    ) -> DomainResult<Page<inbound_order::Model>> {
        let mut q = inbound_order::Entity::find().filter(inbound_order::Column::OrganizationId.eq(tenant.id()));
        if let Some(a) = f.account_id {
            q = q.filter(inbound_order::Column::AccountId.eq(a));
        }
        if let Some(s) = f.status {
            q = q.filter(inbound_order::Column::Status.eq(s));
        }
        pagination::fetch(&self.db, q, inbound_order::Column::Id, args).await
    }

    pub async fn inbound_lines(&self, tenant: Tenant, id: Uuid) -> DomainResult<Vec<inbound_order_line::Model>> {
        Ok(inbound_order_line::Entity::find()
            .filter(inbound_order_line::Column::OrganizationId.eq(tenant.id()))
            .filter(inbound_order_line::Column::InboundOrderId.eq(id))
            .order_by_asc(inbound_order_line::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// The order's files without their content.
    pub async fn inbound_files(&self, tenant: Tenant, id: Uuid) -> DomainResult<Vec<inbound_order_file::Model>> {
        use sea_orm::QuerySelect;
        let rows: Vec<FileRow> = inbound_order_file::Entity::find()
            .select_only()
            .columns([
                inbound_order_file::Column::Id,
                inbound_order_file::Column::Kind,
                inbound_order_file::Column::FileType,
                inbound_order_file::Column::FileName,
                inbound_order_file::Column::ContentType,
                inbound_order_file::Column::SizeBytes,
                inbound_order_file::Column::Sha256,
                inbound_order_file::Column::UploadedToProviderAt,
                inbound_order_file::Column::CreatedAt,
            ])
            .filter(inbound_order_file::Column::OrganizationId.eq(tenant.id()))
            .filter(inbound_order_file::Column::InboundOrderId.eq(id))
            .order_by_asc(inbound_order_file::Column::Id)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(fid, kind, file_type, file_name, content_type, size_bytes, sha256, uploaded, created_at)| {
                inbound_order_file::Model {
                    id: fid,
                    organization_id: tenant.id(),
                    inbound_order_id: id,
                    kind,
                    file_type,
                    file_name,
                    content_type,
                    size_bytes,
                    sha256,
                    content: Vec::new(),
                    uploaded_to_provider_at: uploaded,
                    created_at,
                }
            })
            .collect())
    }

    /// A signed download URL for an inbound file, valid for 15 minutes.
    pub fn file_url(&self, file_id: Uuid) -> (String, chrono::DateTime<Utc>) {
        let expires = Utc::now() + chrono::Duration::minutes(15);
        (format!("{}/inbound-files/{}", self.public_url, self.links.sign(file_id, expires)), expires)
    }

    /// The file behind a download token (name, content type, bytes), if the token is valid.
    pub async fn download(&self, token: &str) -> DomainResult<(String, String, Vec<u8>)> {
        let id = self.links.verify(token, Utc::now()).ok_or(DomainError::NotFound)?;
        let f = inbound_order_file::Entity::find_by_id(id).one(&self.db).await?.ok_or(DomainError::NotFound)?;
        Ok((f.file_name, f.content_type, f.content))
    }

    /// `createInboundOrder`.
    pub async fn create_inbound(&self, actor: &Actor, input: InboundInput) -> DomainResult<inbound_order::Model> {
        actor.require_write()?;
        let org = actor.tenant().id();
        let acc = self.account(actor.tenant(), input.account_id).await?;
        let mut errors = Vec::new();
        // OC's region code (GB stands for UK); sent to OC and stored as such.
        let region = regions::oc_region(&input.warehouse_region)
            .map_or_else(|| input.warehouse_region.trim().to_owned(), str::to_owned);
        if regions::oc_region(&input.warehouse_region).is_none() {
            errors.push(user(
                UserErrorCode::Invalid,
                &["input", "warehouseRegion"],
                regions::unknown_message(&input.warehouse_region),
            ));
        }
        let number = input.seller_inbound_number.trim().to_owned();
        if !code_ok(&number, 100) {
            errors.push(user(
                UserErrorCode::Invalid,
                &["input", "sellerInboundNumber"],
                "Use 1-100 letters, digits, '-' or '_'.",
            ));
        }
        let ship_from = input.ship_from.as_deref().unwrap_or("CN").trim().to_ascii_uppercase();
        if ship_from.len() != 2 || !ship_from.bytes().all(|b| b.is_ascii_uppercase()) {
            errors.push(user(UserErrorCode::Invalid, &["input", "shipFrom"], "Give a two-letter country code."));
        }
        if input.eta < Utc::now().date_naive() {
            errors.push(user(UserErrorCode::Invalid, &["input", "eta"], "The arrival date is in the past."));
        }
        if input.cartons.is_empty() || input.cartons.len() > MAX_CARTONS {
            errors.push(user(
                UserErrorCode::Invalid,
                &["input", "cartons"],
                format!("Give between 1 and {MAX_CARTONS} cartons."),
            ));
        }
        let sku_ids: Vec<Uuid> = input
            .cartons
            .iter()
            .flat_map(|c| c.lines.iter().map(|(s, _)| *s))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let skus: HashMap<Uuid, sku::Model> = super::skus_by_id(&self.db, org, &sku_ids).await?;
        let mut seen_cartons = HashSet::new();
        for (i, c) in input.cartons.iter().enumerate() {
            let idx = i.to_string();
            let at = |f: &'static str| -> Vec<&str> { vec!["input", "cartons", idx.as_str(), f] };
            let cn = c.seller_carton_number.trim();
            if !code_ok(cn, 100) {
                errors.push(user(
                    UserErrorCode::Invalid,
                    &at("sellerCartonNumber"),
                    "Use 1-100 letters, digits, '-' or '_'.",
                ));
            } else if !seen_cartons.insert(cn.to_owned()) {
                errors.push(user(UserErrorCode::Taken, &at("sellerCartonNumber"), "Carton numbers must be unique."));
            }
            if c.lines.is_empty() {
                errors.push(user(UserErrorCode::Required, &at("lines"), "A carton needs at least one SKU."));
            }
            for (sku_id, qty) in &c.lines {
                if !(1..=100_000).contains(qty) {
                    errors.push(user(UserErrorCode::Invalid, &at("lines"), "Quantities are 1-100000."));
                }
                match skus.get(sku_id) {
                    None => errors.push(user(UserErrorCode::NotFound, &at("lines"), "No such SKU.")),
                    Some(s) if s.warehouse_sku_id.is_none() || s.warehouse_account_id != Some(acc.id) => {
                        errors.push(user(
                            UserErrorCode::SkuNotInWarehouse,
                            &at("lines"),
                            format!("SKU {} is not in this OrangeConnex warehouse; push it there first.", s.code),
                        ));
                    }
                    Some(_) => {}
                }
            }
        }
        if !errors.is_empty() {
            return Err(DomainError::User(errors));
        }

        // 1. The draft (or the draft a timed-out attempt left), claimed by this request: its
        //    `updated_at` is the claim ([`CLAIM`]), taken with a compare-and-set.
        let claim = Utc::now().trunc_subsecs(6);
        let txn = begin_write(&self.db).await?;
        let existing = inbound_order::Entity::find()
            .filter(inbound_order::Column::OrganizationId.eq(org))
            .filter(inbound_order::Column::SellerInboundNumber.eq(&number))
            .one(&txn)
            .await?;
        // A draft left by an earlier attempt whose outcome is unknown: OC may hold it.
        let resumed = existing.as_ref().is_some_and(|e| e.status == InboundStatus::Draft && e.account_id == acc.id);
        let id = match existing {
            Some(e) if e.status == InboundStatus::Draft && e.account_id == acc.id => {
                // Another request may be talking to OC about this number right now: it
                // holds the draft until its claim lapses (or it hands the draft back).
                if e.updated_at > claim - CLAIM {
                    return Err(in_progress(&number));
                }
                // Resumed with this request's details (OC gets them; so do we), if no other
                // request claimed it since we read it.
                let taken = inbound_order::Entity::update_many()
                    .col_expr(inbound_order::Column::WarehouseRegion, Expr::value(region.clone()))
                    .col_expr(inbound_order::Column::ShippingMethod, Expr::value(input.shipping_method))
                    .col_expr(
                        inbound_order::Column::Eta,
                        Expr::value(input.eta.and_hms_opt(0, 0, 0).map(|d| d.and_utc())),
                    )
                    .col_expr(inbound_order::Column::NeedClearanceDoc, Expr::value(input.need_clearance_doc))
                    .col_expr(inbound_order::Column::UpdatedAt, Expr::value(claim))
                    .filter(inbound_order::Column::Id.eq(e.id))
                    .filter(inbound_order::Column::Status.eq(InboundStatus::Draft))
                    .filter(inbound_order::Column::UpdatedAt.eq(e.updated_at))
                    .exec(&txn)
                    .await?;
                if taken.rows_affected != 1 {
                    return Err(in_progress(&number));
                }
                inbound_order_line::Entity::delete_many()
                    .filter(inbound_order_line::Column::InboundOrderId.eq(e.id))
                    .exec(&txn)
                    .await?;
                e.id
            }
            Some(_) => {
                return Err(DomainError::user(
                    UserErrorCode::Taken,
                    &["input", "sellerInboundNumber"],
                    "An inbound order has this number.",
                ));
            }
            None => {
                let id = Uuid::now_v7();
                inbound_order::ActiveModel {
                    id: Set(id),
                    organization_id: Set(org),
                    account_id: Set(acc.id),
                    warehouse_region: Set(region.clone()),
                    seller_inbound_number: Set(number.clone()),
                    inbound_number: Set(None),
                    shipping_method: Set(input.shipping_method),
                    eta: Set(input.eta.and_hms_opt(0, 0, 0).map(|d| d.and_utc())),
                    need_clearance_doc: Set(input.need_clearance_doc),
                    status: Set(InboundStatus::Draft),
                    tracking_numbers: Set(serde_json::json!([])),
                    last_polled_at: Set(None),
                    created_at: Set(claim),
                    updated_at: Set(claim),
                }
                .insert(&txn)
                .await
                // Inserted by a request running alongside since we looked: it holds it.
                .map_err(|e| DomainError::unique_or(e, in_progress(&number)))?;
                id
            }
        };
        let mut rows = Vec::new();
        for c in &input.cartons {
            for (sku_id, qty) in &c.lines {
                rows.push(inbound_order_line::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    organization_id: Set(org),
                    inbound_order_id: Set(id),
                    seller_carton_number: Set(c.seller_carton_number.trim().to_owned()),
                    sku_id: Set(*sku_id),
                    quantity: Set(*qty),
                    received_quantity: Set(0),
                    putaway_quantity: Set(0),
                    created_at: Set(claim),
                    updated_at: Set(claim),
                });
            }
        }
        for chunk in rows.chunks(500) {
            inbound_order_line::Entity::insert_many(chunk.to_vec()).exec_without_returning(&txn).await?;
        }
        txn.commit().await?;

        // 2. OC.
        let req = InboundRequest {
            seller_number: number.clone(),
            region,
            ship_from,
            method: method(input.shipping_method),
            eta: input.eta,
            need_clearance_doc: input.need_clearance_doc,
            cartons: input
                .cartons
                .iter()
                .map(|c| InboundCarton {
                    number: c.seller_carton_number.trim().to_owned(),
                    origin_country: None,
                    lines: c
                        .lines
                        .iter()
                        .filter_map(|(s, q)| skus.get(s).and_then(|s| s.warehouse_sku_id.clone()).map(|w| (w, *q)))
                        .collect(),
                })
                .collect(),
        };
        let created = match self.place_inbound(acc.id, &req, resumed).await {
            Ok(c) => c,
            Err(Placing::Refused(e)) => {
                // Refused: nothing stays behind (unless the draft is no longer ours).
                let txn = begin_write(&self.db).await?;
                if hold_claim(&txn, id, claim).await? {
                    inbound_order_line::Entity::delete_many()
                        .filter(inbound_order_line::Column::InboundOrderId.eq(id))
                        .exec(&txn)
                        .await?;
                    inbound_order::Entity::delete_by_id(id).exec(&txn).await?;
                }
                txn.commit().await?;
                return Err(e.into_domain(&["input"]));
            }
            Err(Placing::Unsure(e)) => {
                // Unknown (or rate limited): the draft stays, handed back so that the same
                // request again, at once, looks the number up at OC before creating anything.
                inbound_order::Entity::update_many()
                    .col_expr(inbound_order::Column::UpdatedAt, Expr::value(claim - CLAIM))
                    .filter(inbound_order::Column::Id.eq(id))
                    .filter(inbound_order::Column::Status.eq(InboundStatus::Draft))
                    .filter(inbound_order::Column::UpdatedAt.eq(claim))
                    .exec(&self.db)
                    .await?;
                return Err(e.into_domain(&["input"]));
            }
        };

        // 3. The numbers and labels (OC holds the order under this number, whoever holds
        //    the draft now).
        let txn = begin_write(&self.db).await?;
        let stored = inbound_order::Entity::update_many()
            .col_expr(inbound_order::Column::InboundNumber, Expr::value(Some(created.inbound_number.clone())))
            .col_expr(inbound_order::Column::Status, Expr::value(InboundStatus::Created))
            .col_expr(inbound_order::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(inbound_order::Column::Id.eq(id))
            .filter(inbound_order::Column::Status.eq(InboundStatus::Draft))
            .exec(&txn)
            .await?;
        let model = inbound_order::Entity::find_by_id(id).one(&txn).await?.ok_or_else(|| {
            DomainError::Conflict(format!(
                "OrangeConnex created inbound order {} for {number}, but its draft was removed meanwhile.",
                created.inbound_number
            ))
        })?;
        if stored.rows_affected != 1 {
            // Stored already, by a request that resumed the draft after this one's claim lapsed.
            txn.commit().await?;
            return Ok(model);
        }
        for (kind, file) in
            [(InboundFileKind::SkuLabel, &created.sku_labels), (InboundFileKind::CartonLabel, &created.carton_labels)]
        {
            if let Some(f) = file {
                insert_file(&txn, org, id, kind, None, &f.file_name, "application/pdf", &f.bytes, None).await?;
            }
        }
        let event = audit::record(
            &txn,
            org,
            By::Actor(actor),
            "inbound_order.created",
            "InboundOrder",
            Some(id),
            Some(serde_json::json!({ "inboundNumber": created.inbound_number, "sellerInboundNumber": number })),
        )
        .await?;
        txn.commit().await?;
        self.bus.publish_all([event]);
        Ok(model)
    }

    /// Creates the inbound order at OC, never twice: when a creation's outcome is unknown
    /// (timeout, 5xx, connection dropped after the request was written, an unreadable
    /// answer), or a draft from such an attempt is resumed, OC is asked first for the order
    /// under our seller inbound number (Inbound Order Detail Query); one found is taken as
    /// created (its number, without the labels only the creation answers), and a creation is
    /// sent only on confirmed absence. OC refusing the number as taken
    /// (`DUPLICATE_SELLER_INBOUND_NUMBER`) means it holds an order under it: that order is
    /// looked up and taken, never treated as a refusal.
    async fn place_inbound(
        &self,
        account_id: Uuid,
        req: &InboundRequest,
        look_first: bool,
    ) -> Result<InboundCreated, Placing> {
        if look_first
            && let Some(found) = self.find_inbound(account_id, &req.seller_number).await.map_err(Placing::Unsure)?
        {
            return Ok(found);
        }
        for round in 0..2 {
            let created = self
                .call(account_id, |c, token| {
                    let req = req.clone();
                    async move { c.create_inbound(&token, &req).await }
                })
                .await;
            match created {
                Ok(c) => return Ok(c),
                Err(CallError::Connector(ConnectorError::Rejected { code, message }))
                    if code == DUPLICATE_SELLER_INBOUND_NUMBER =>
                {
                    tracing::warn!(%message, "OrangeConnex holds an inbound order under this seller inbound number; looking it up");
                    return match self.find_inbound(account_id, &req.seller_number).await.map_err(Placing::Unsure)? {
                        Some(found) => Ok(found),
                        // OC says it holds one but does not show it (yet): the draft stays
                        // and the next attempt looks again.
                        None => Err(Placing::Unsure(CallError::Connector(ConnectorError::Transient(format!(
                            "OrangeConnex holds an inbound order under {} but does not show it yet",
                            req.seller_number
                        ))))),
                    };
                }
                Err(CallError::Connector(e)) if super::is_unknown_outcome(&e) && round == 0 => {
                    tracing::warn!(error = %e, "OrangeConnex inbound creation outcome unknown; looking the seller inbound number up");
                    if let Some(found) =
                        self.find_inbound(account_id, &req.seller_number).await.map_err(Placing::Unsure)?
                    {
                        return Ok(found);
                    }
                }
                // Refused by OC (a lookup confirmed absence first where one was due), or not
                // sent at all (reauthorization, …) when no earlier attempt may have reached
                // OC: OC holds nothing under the number.
                Err(e) => {
                    let unknown =
                        matches!(&e, CallError::Connector(c) if c.is_retryable() || super::is_unknown_outcome(c));
                    let by_oc = matches!(&e, CallError::Connector(ConnectorError::Rejected { .. }));
                    let unsure = unknown || ((look_first || round > 0) && !by_oc);
                    return Err(if unsure { Placing::Unsure(e) } else { Placing::Refused(e) });
                }
            }
        }
        Err(Placing::Unsure(CallError::Connector(ConnectorError::Transient(
            "OrangeConnex inbound creation outcome unknown".into(),
        ))))
    }

    async fn find_inbound(&self, account_id: Uuid, seller_number: &str) -> Result<Option<InboundCreated>, CallError> {
        let found = self
            .call(account_id, |c, token| {
                let seller_number = seller_number.to_owned();
                async move { c.find_inbound(&token, &seller_number).await }
            })
            .await?;
        Ok(found.map(|s| InboundCreated { inbound_number: s.inbound_number, sku_labels: None, carton_labels: None }))
    }

    /// `uploadInboundTracking`: the express carriers' tracking numbers per carton.
    pub async fn upload_tracking(
        &self,
        actor: &Actor,
        inbound_id: Uuid,
        cartons: Vec<CartonTracking>,
    ) -> DomainResult<inbound_order::Model> {
        actor.require_write()?;
        let row = self.inbound(actor.tenant(), inbound_id).await?;
        if row.shipping_method != ShippingMethod::Express {
            return Err(DomainError::user(
                UserErrorCode::InvalidState,
                &["input", "inboundOrderId"],
                "Tracking numbers are uploaded for express inbound orders only; book a warehouse appointment on OrangeConnex's portal for freight.",
            ));
        }
        let Some(number) = row
            .inbound_number
            .clone()
            .filter(|_| !matches!(row.status, InboundStatus::Cancelled | InboundStatus::Completed))
        else {
            return Err(DomainError::user(
                UserErrorCode::InvalidState,
                &["input", "inboundOrderId"],
                format!("The inbound order is {:?}.", row.status),
            ));
        };
        let cartons_known: HashSet<String> =
            self.inbound_lines(actor.tenant(), row.id).await?.into_iter().map(|l| l.seller_carton_number).collect();
        let mut errors = Vec::new();
        if cartons.is_empty() {
            errors.push(user(UserErrorCode::Required, &["input", "cartons"], "Give at least one tracking number."));
        }
        for (i, c) in cartons.iter().enumerate() {
            let idx = i.to_string();
            if !cartons_known.contains(c.carton.trim()) {
                errors.push(user(
                    UserErrorCode::NotFound,
                    &["input", "cartons", &idx, "cartonNumber"],
                    "No such carton on this order.",
                ));
            }
            if c.carrier.trim().is_empty() || c.carrier.len() > 64 {
                errors.push(user(
                    UserErrorCode::Required,
                    &["input", "cartons", &idx, "carrier"],
                    "Name the carrier (≤ 64 characters).",
                ));
            }
            if !code_ok(c.tracking_number.trim(), 64) {
                errors.push(user(
                    UserErrorCode::Invalid,
                    &["input", "cartons", &idx, "trackingNumber"],
                    "Use 1-64 letters, digits, '-' or '_'.",
                ));
            }
        }
        if !errors.is_empty() {
            return Err(DomainError::User(errors));
        }
        let cartons: Vec<CartonTracking> = cartons
            .into_iter()
            .map(|c| CartonTracking {
                carton: c.carton.trim().to_owned(),
                carrier: c.carrier.trim().to_owned(),
                tracking_number: c.tracking_number.trim().to_owned(),
            })
            .collect();
        let seller = row.seller_inbound_number.clone();
        self.call(row.account_id, |c, token| {
            let (cartons, number, seller) = (cartons.clone(), number.clone(), seller.clone());
            async move { c.upload_inbound_tracking(&token, &number, &seller, &cartons).await }
        })
        .await
        .map_err(|e| e.into_domain(&["input", "cartons"]))?;
        let txn = begin_write(&self.db).await?;
        // Merged by carton: a later upload adds cartons or replaces a carton's number.
        let mut all: Vec<serde_json::Value> = serde_json::from_value(row.tracking_numbers.clone()).unwrap_or_default();
        for c in &cartons {
            all.retain(|v| v["cartonNumber"].as_str() != Some(c.carton.as_str()));
            all.push(serde_json::json!({ "cartonNumber": c.carton, "carrier": c.carrier, "trackingNumber": c.tracking_number }));
        }
        let json = serde_json::Value::Array(all);

        let mut a: inbound_order::ActiveModel = row.into();
        a.tracking_numbers = Set(json);
        a.updated_at = Set(Utc::now());
        let model = a.update(&txn).await?;
        let event = audit::record(
            &txn,
            model.organization_id,
            By::Actor(actor),
            "inbound_order.tracking_uploaded",
            "InboundOrder",
            Some(model.id),
            None,
        )
        .await?;
        txn.commit().await?;
        self.bus.publish_all([event]);
        Ok(model)
    }

    /// `uploadClearanceDocument`: a customs clearance paper for the inbound order, sent to OC
    /// and kept. The same file sent twice is stored and sent once.
    pub async fn upload_clearance(
        &self,
        actor: &Actor,
        up: ClearanceUpload,
    ) -> DomainResult<inbound_order_file::Model> {
        actor.require_write()?;
        let row = self.inbound(actor.tenant(), up.inbound_order_id).await?;
        let mut errors = Vec::new();
        let file_type = up.file_type.trim().to_ascii_uppercase();
        if !FILE_TYPES.contains(&file_type.as_str()) {
            errors.push(user(
                UserErrorCode::Invalid,
                &["input", "fileType"],
                format!("Use one of {}.", FILE_TYPES.join(", ")),
            ));
        }
        let content_type = up.content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        if !CONTENT_TYPES.contains(&content_type.as_str()) {
            errors.push(user(
                UserErrorCode::Invalid,
                &["input", "file"],
                "Upload a PDF, JPEG, PNG, Excel or Word file.",
            ));
        }
        if up.bytes.is_empty() {
            errors.push(user(UserErrorCode::Required, &["input", "file"], "The file is empty."));
        } else if up.bytes.len() > MAX_FILE_BYTES {
            errors.push(user(
                UserErrorCode::Invalid,
                &["input", "file"],
                format!("Files are at most {} MiB.", MAX_FILE_BYTES / 1024 / 1024),
            ));
        }
        let file_name: String = up
            .file_name
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_control())
            .take(255)
            .collect();
        if file_name.trim().is_empty() {
            errors.push(user(UserErrorCode::Required, &["input", "file"], "The file needs a name."));
        }
        if !errors.is_empty() {
            return Err(DomainError::User(errors));
        }
        let Some(number) = row.inbound_number.clone().filter(|_| row.status != InboundStatus::Cancelled) else {
            return Err(DomainError::user(
                UserErrorCode::InvalidState,
                &["input", "inboundOrderId"],
                format!("The inbound order is {:?}.", row.status),
            ));
        };
        let sha = hex::encode(Sha256::digest(&up.bytes));
        if let Some(f) = inbound_order_file::Entity::find()
            .filter(inbound_order_file::Column::InboundOrderId.eq(row.id))
            .filter(inbound_order_file::Column::Sha256.eq(&sha))
            .filter(inbound_order_file::Column::UploadedToProviderAt.is_not_null())
            .one(&self.db)
            .await?
        {
            return Ok(f);
        }
        let file = FileData { file_name: file_name.clone(), bytes: up.bytes };
        self.call(row.account_id, |c, token| {
            let (file, number, file_type) = (file.clone(), number.clone(), file_type.clone());
            async move { c.upload_clearance_file(&token, &number, &file_type, &file).await }
        })
        .await
        .map_err(|e| match e {
            CallError::Connector(ConnectorError::Rejected { message, .. }) => DomainError::user(
                UserErrorCode::ProviderRejected,
                &["input", "file"],
                format!("OrangeConnex refused the file: {message}"),
            ),
            other => other.into_domain(&["input", "file"]),
        })?;
        let txn = begin_write(&self.db).await?;
        let model = insert_file(
            &txn,
            row.organization_id,
            row.id,
            InboundFileKind::Clearance,
            Some(file_type),
            &file_name,
            &content_type,
            &file.bytes,
            Some(Utc::now()),
        )
        .await?;
        inbound_order::Entity::update_many()
            .col_expr(inbound_order::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(inbound_order::Column::Id.eq(row.id))
            .exec(&txn)
            .await?;
        let event = audit::record(
            &txn,
            row.organization_id,
            By::Actor(actor),
            "inbound_order.clearance_uploaded",
            "InboundOrder",
            Some(row.id),
            Some(serde_json::json!({ "fileId": model.id, "fileType": model.file_type, "sizeBytes": model.size_bytes })),
        )
        .await?;
        txn.commit().await?;
        self.bus.publish_all([event]);
        Ok(inbound_order_file::Model { content: Vec::new(), ..model })
    }
}

#[allow(clippy::too_many_arguments)]
async fn insert_file(
    txn: &sea_orm::DatabaseTransaction,
    org: Uuid,
    inbound_id: Uuid,
    kind: InboundFileKind,
    file_type: Option<String>,
    file_name: &str,
    content_type: &str,
    bytes: &[u8],
    uploaded: Option<chrono::DateTime<Utc>>,
) -> DomainResult<inbound_order_file::Model> {
    Ok(inbound_order_file::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org),
        inbound_order_id: Set(inbound_id),
        kind: Set(kind),
        file_type: Set(file_type),
        file_name: Set(file_name.to_owned()),
        content_type: Set(content_type.to_owned()),
        size_bytes: Set(i64::try_from(bytes.len()).unwrap_or(i64::MAX)),
        sha256: Set(hex::encode(Sha256::digest(bytes))),
        content: Set(bytes.to_vec()),
        uploaded_to_provider_at: Set(uploaded),
        created_at: Set(Utc::now()),
    }
    .insert(txn)
    .await?)
}
