//! SKUs in the warehouse (seed 003 §2-2): push catalogue SKUs (SKUCreation v3 → MFSKUID and
//! the status OC answers with; a draft until reviewed on OC's portal; sent once, and after
//! a lost answer looked up by referenceSKUID before anything is created again — in the same
//! call, and in any later push: a SKU is marked as attempted at the account before the call
//! is sent, and a marked SKU is looked up first) and pull OC's view back
//! (SKUQuery v3, which takes lists only: the MFSKUIDs we hold, plus, on a manual pull, the
//! codes of catalogue SKUs not linked yet as seller SKUs; links by referenceSKUID, or by the
//! seller SKU for SKUs made on the portal; keeps the seller SKU; updates the review state).

use std::collections::HashMap;

use chrono::{Duration, Utc};
use entity::{enums::WarehouseSkuStatus, sku};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde::Serialize;
use uuid::Uuid;

use super::{CallError, Warehouse, regions};
use crate::{
    auth::Actor,
    connectors::logistics::{CreatedSku, ItemRefusal, ItemResult, NewWarehouseSku, SkuQuery, SkuReview, WarehouseSku},
    db::begin_write,
    domain::audit::{self, By, Change},
    error::{DomainError, DomainResult, UserError, UserErrorCode},
};

/// Most SKUs one push takes.
pub const MAX_PUSH: usize = 1_000;

/// The refusal standing for a SKU OC's answer did not mention (its outcome unknown).
const NO_RESULT: &str = "NO_RESULT";

/// What happened to one SKU of a push.
#[derive(Debug, Clone)]
pub struct SkuOutcome {
    pub sku_id: Uuid,
    pub sku: Option<sku::Model>,
    pub errors: Vec<UserError>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PullOutcome {
    /// Warehouse SKUs read.
    pub fetched: usize,
    /// Catalogue SKUs linked or updated.
    pub linked: usize,
    /// Warehouse SKUs with no catalogue SKU of the same code.
    pub unmatched: usize,
}

pub fn review_status(r: SkuReview) -> WarehouseSkuStatus {
    match r {
        SkuReview::Draft => WarehouseSkuStatus::Draft,
        SkuReview::Submitted => WarehouseSkuStatus::Submitted,
        SkuReview::Approved => WarehouseSkuStatus::Approved,
        SkuReview::Rejected => WarehouseSkuStatus::Rejected,
    }
}

/// OC region codes from the user's regions (OC codes, or a country with one region: GB → UK).
fn check_regions(input: &[String]) -> DomainResult<Vec<String>> {
    let out = regions::parse_list(input).map_err(|bad| {
        DomainError::user(UserErrorCode::Invalid, &["input", "regions"], regions::unknown_message(&bad))
    })?;
    if out.is_empty() {
        return Err(DomainError::user(UserErrorCode::Required, &["input", "regions"], "Give at least one region."));
    }
    Ok(out.into_iter().map(str::to_owned).collect())
}

impl Warehouse {
    /// `pushSkusToWarehouse`: registers catalogue SKUs with the warehouse; one outcome per SKU.
    pub async fn push_skus(
        &self,
        actor: &Actor,
        account_id: Uuid,
        sku_ids: &[Uuid],
        regions: &[String],
    ) -> DomainResult<Vec<SkuOutcome>> {
        actor.require_write()?;
        let org = actor.tenant().id();
        let acc = self.account(actor.tenant(), account_id).await?;
        let regions = check_regions(regions)?;
        let mut ids: Vec<Uuid> = Vec::new();
        for id in sku_ids {
            if !ids.contains(id) {
                ids.push(*id);
            }
        }
        if ids.is_empty() || ids.len() > MAX_PUSH {
            return Err(DomainError::user(
                UserErrorCode::Invalid,
                &["input", "skuIds"],
                format!("Give between 1 and {MAX_PUSH} SKUs."),
            ));
        }
        let found: HashMap<Uuid, sku::Model> = super::skus_by_id(&self.db, org, &ids).await?;
        let mut outcomes: Vec<SkuOutcome> = Vec::with_capacity(ids.len());
        let mut to_send: Vec<(usize, NewWarehouseSku)> = Vec::new();
        for id in &ids {
            let Some(s) = found.get(id) else {
                outcomes.push(SkuOutcome {
                    sku_id: *id,
                    sku: None,
                    errors: vec![UserError::new(UserErrorCode::NotFound, &["input", "skuIds"], "No such SKU.")],
                });
                continue;
            };
            let mut errors = Vec::new();
            if s.warehouse_account_id.is_some_and(|a| a != acc.id) && s.warehouse_sku_id.is_some() {
                errors.push(UserError::new(
                    UserErrorCode::InvalidState,
                    &["input", "skuIds"],
                    format!("SKU {} is already registered with another warehouse account.", s.code),
                ));
            }
            let name = s.decl_name_en.clone().or_else(|| s.name.clone()).filter(|n| !n.trim().is_empty());
            if name.is_none() {
                errors.push(UserError::new(
                    UserErrorCode::DeclarationNameEnMissing,
                    &["input", "skuIds"],
                    format!("SKU {} needs an English declaration name (or a name) for the warehouse.", s.code),
                ));
            }
            if errors.is_empty() {
                to_send.push((
                    outcomes.len(),
                    NewWarehouseSku {
                        reference: s.code.clone(),
                        name_en: name.unwrap_or_default(),
                        name_cn: s.decl_name_cn.clone(),
                        with_battery: false,
                        regions: regions.clone(),
                        hs_countries: countries_of(&regions),
                        origin_country: s.origin_country.clone(),
                        hs_code: s.hs_code.clone(),
                        declared_value_minor: s.decl_value_minor,
                        declared_currency: s.decl_currency.clone(),
                        weight_grams: s.weight_grams,
                    },
                ));
            }
            outcomes.push(SkuOutcome { sku_id: *id, sku: Some(s.clone()), errors });
        }
        if to_send.is_empty() {
            return Ok(outcomes);
        }
        let batch: Vec<NewWarehouseSku> = to_send.iter().map(|(_, s)| s.clone()).collect();
        // A SKU unlinked yet marked at this account: an earlier push's creation may have
        // reached OC (its answer lost, or the request stopped mid-call). Looked up first.
        let look_first: Vec<usize> = to_send
            .iter()
            .enumerate()
            .filter(|(_, (pos, _))| outcomes[*pos].sku.as_ref().is_some_and(|s| attempted_at(s, acc.id)))
            .map(|(i, _)| i)
            .collect();
        // The mark, committed before anything is sent: a SKU not linked yet is tied to the
        // account with no MFSKUID ("creation attempted") until OC's answer links it.
        let unlinked: Vec<Uuid> = to_send
            .iter()
            .filter_map(|(pos, _)| outcomes[*pos].sku.as_ref())
            .filter(|s| s.warehouse_sku_id.is_none())
            .map(|s| s.id)
            .collect();
        for chunk in unlinked.chunks(500) {
            sku::Entity::update_many()
                .col_expr(sku::Column::WarehouseAccountId, Expr::value(acc.id))
                .filter(sku::Column::OrganizationId.eq(org))
                .filter(sku::Column::Id.is_in(chunk.iter().copied()))
                .filter(sku::Column::WarehouseSkuId.is_null())
                .exec(&self.db)
                .await?;
        }
        let results = self
            .create_skus_once(acc.id, &batch, &look_first)
            .await
            .map_err(|e| e.into_domain(&["input", "skuIds"]))?;
        let now = Utc::now();
        let txn = begin_write(&self.db).await?;
        let mut changes = Vec::new();
        for ((pos, _), result) in to_send.iter().zip(results) {
            let outcome = &mut outcomes[*pos];
            if result.as_ref().is_err_and(|r| r.code != NO_RESULT)
                && let Some(s) = outcome.sku.as_ref()
            {
                // Refused by OC: nothing was created, so the mark goes.
                sku::Entity::update_many()
                    .col_expr(sku::Column::WarehouseAccountId, Expr::value(Option::<Uuid>::None))
                    .filter(sku::Column::Id.eq(s.id))
                    .filter(sku::Column::WarehouseAccountId.eq(acc.id))
                    .filter(sku::Column::WarehouseSkuId.is_null())
                    .exec(&txn)
                    .await?;
            }
            match result {
                Ok(created) => {
                    let Some(s) = outcome.sku.as_ref() else { continue };
                    let mfskuid = created.warehouse_sku_id;
                    // The status OC answers with; without one, a SKU already reviewed keeps its
                    // state and a new one is a draft [seed 003 §2-2-2].
                    let status = match (created.review, s.warehouse_sku_id.as_deref() == Some(mfskuid.as_str())) {
                        (Some(r), _) => review_status(r),
                        (None, true) if s.warehouse_status != WarehouseSkuStatus::NotSubmitted => s.warehouse_status,
                        (None, _) => WarehouseSkuStatus::Draft,
                    };
                    sku::Entity::update_many()
                        .col_expr(sku::Column::WarehouseAccountId, Expr::value(acc.id))
                        .col_expr(sku::Column::WarehouseSkuId, Expr::value(mfskuid.clone()))
                        .col_expr(sku::Column::WarehouseStatus, Expr::value(status))
                        .col_expr(sku::Column::WarehouseSyncedAt, Expr::value(now))
                        .col_expr(sku::Column::UpdatedAt, Expr::value(now))
                        .filter(sku::Column::Id.eq(s.id))
                        .exec(&txn)
                        .await?;
                    changes.push(Change {
                        action: "sku.pushed_to_warehouse",
                        entity_type: "Sku",
                        entity_id: Some(s.id),
                        data: Some(
                            serde_json::json!({ "warehouseSkuId": mfskuid, "accountId": acc.id, "status": status }),
                        ),
                    });
                }
                Err(r) => outcome.errors.push(UserError::new(
                    UserErrorCode::ProviderRejected,
                    &["input", "skuIds"],
                    format!(
                        "OrangeConnex refused SKU {}: {} ({})",
                        outcome.sku.as_ref().map(|s| s.code.as_str()).unwrap_or_default(),
                        r.message,
                        r.code
                    ),
                )),
            }
        }
        let events = audit::record_many(&txn, org, By::Actor(actor), changes).await?;
        txn.commit().await?;
        self.bus.publish_all(events);
        // Return the SKUs as stored now.
        let fresh = super::skus_by_id(&self.db, org, &found.keys().copied().collect::<Vec<_>>()).await?;
        for o in &mut outcomes {
            if let Some(s) = fresh.get(&o.sku_id) {
                o.sku = Some(s.clone());
            }
        }
        Ok(outcomes)
    }

    /// Registers the SKUs, never twice: the SKUs at `look_first` (an earlier attempt's
    /// outcome unknown) are looked up first, and when the creation's outcome is unknown
    /// (timeout, 5xx, connection dropped after the request was written, an unreadable
    /// answer), OC is asked for the batch's referenceSKUIDs (SKUQuery v3); the SKUs found are
    /// OC's answer (MFSKUID and review state) and only those confirmed absent are created
    /// (again), once. One result per input, in order.
    async fn create_skus_once(
        &self,
        account_id: Uuid,
        batch: &[NewWarehouseSku],
        look_first: &[usize],
    ) -> Result<Vec<ItemResult<CreatedSku>>, CallError> {
        let mut out: Vec<Option<ItemResult<CreatedSku>>> = vec![None; batch.len()];
        let create = |sent: Vec<NewWarehouseSku>| async move {
            self.call(account_id, |c, token| {
                let sent = sent.clone();
                async move { c.create_skus(&token, &sent).await }
            })
            .await
        };
        let lookup = |sent: Vec<NewWarehouseSku>| async move {
            let found = self.skus_by_reference(account_id, sent.iter().map(|s| s.reference.clone()).collect()).await?;
            Ok(sent
                .iter()
                .map(|s| {
                    found
                        .iter()
                        .find(|f| f.reference.as_deref() == Some(s.reference.as_str()))
                        .map(|f| Ok(CreatedSku { warehouse_sku_id: f.warehouse_sku_id.clone(), review: f.review }))
                })
                .collect())
        };
        let mut pending: Vec<usize> = (0..batch.len()).collect();
        if !look_first.is_empty() {
            let found = lookup(look_first.iter().map(|i| batch[*i].clone()).collect()).await?;
            for (i, f) in look_first.iter().zip(found) {
                out[*i] = f;
            }
            pending.retain(|i| out[*i].is_none());
        }
        super::create_once("SKU", batch, pending, &mut out, create, lookup).await?;
        Ok(out
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(ItemRefusal {
                        code: NO_RESULT.into(),
                        message: "OrangeConnex answered nothing for this SKU".into(),
                    })
                })
            })
            .collect())
    }

    /// OC's SKUs with these referenceSKUIDs (SKUQuery v3).
    async fn skus_by_reference(
        &self,
        account_id: Uuid,
        references: Vec<String>,
    ) -> Result<Vec<WarehouseSku>, CallError> {
        let q = SkuQuery { references, ..SkuQuery::default() };
        self.call(account_id, |c, token| {
            let q = q.clone();
            async move { c.query_skus(&token, &q).await }
        })
        .await
    }

    /// `pullWarehouseSkus`: OC's view of the SKUs we know (linked to this account, and the
    /// catalogue's unlinked codes as seller SKUs), optionally only those changed since `since`.
    pub async fn pull_skus(
        &self,
        actor: &Actor,
        account_id: Uuid,
        since: Option<chrono::DateTime<Utc>>,
    ) -> DomainResult<PullOutcome> {
        actor.require_write()?;
        let acc = self.account(actor.tenant(), account_id).await?;
        if since.is_some_and(|s| s > Utc::now()) {
            return Err(DomainError::user(UserErrorCode::Invalid, &["input", "since"], "since is in the future."));
        }
        if since.is_some_and(|s| s < Utc::now() - Duration::days(3650)) {
            return Err(DomainError::user(UserErrorCode::Invalid, &["input", "since"], "since is too far back."));
        }
        self.pull_skus_of(&acc, since, true, Some(actor)).await
    }

    /// The query for one account: the MFSKUIDs we hold for it, and with `unlinked` the codes
    /// of catalogue SKUs linked to no warehouse yet (as seller SKUs: OC sets sellerSKUID to
    /// referenceSKUID, and portal-made SKUs carry the seller's code there [seed 003 §2-2-2]).
    async fn known_skus(&self, acc: &entity::account::Model, unlinked: bool) -> DomainResult<SkuQuery> {
        use sea_orm::{QueryOrder, QuerySelect};
        let linked: Vec<Option<String>> = sku::Entity::find()
            .select_only()
            .column(sku::Column::WarehouseSkuId)
            .filter(sku::Column::OrganizationId.eq(acc.organization_id))
            .filter(sku::Column::WarehouseAccountId.eq(acc.id))
            .filter(sku::Column::WarehouseSkuId.is_not_null())
            .order_by_asc(sku::Column::Id)
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut q = SkuQuery { warehouse_sku_ids: linked.into_iter().flatten().collect(), ..SkuQuery::default() };
        q.warehouse_sku_ids.sort();
        q.warehouse_sku_ids.dedup();
        if unlinked {
            q.seller_skus = sku::Entity::find()
                .select_only()
                .column(sku::Column::Code)
                .filter(sku::Column::OrganizationId.eq(acc.organization_id))
                .filter(sku::Column::WarehouseSkuId.is_null())
                .order_by_asc(sku::Column::Id)
                .into_tuple()
                .all(&self.db)
                .await?;
        }
        Ok(q)
    }

    /// Pulls for one account (also run by the polling job: linked SKUs only, `by = None`).
    pub async fn pull_skus_of(
        &self,
        acc: &entity::account::Model,
        since: Option<chrono::DateTime<Utc>>,
        unlinked: bool,
        by: Option<&Actor>,
    ) -> DomainResult<PullOutcome> {
        let org = acc.organization_id;
        let now = Utc::now();
        let mut q = self.known_skus(acc, unlinked).await?;
        if q.is_empty() {
            // Nothing to ask about (OC refuses a query without a list).
            return Ok(PullOutcome::default());
        }
        q.since = since;
        let rows = self
            .call(acc.id, |c, token| {
                let q = q.clone();
                async move { c.query_skus(&token, &q).await }
            })
            .await
            .map_err(|e| e.into_domain(&["input", "accountId"]))?;
        let mut out = PullOutcome { fetched: rows.len(), ..PullOutcome::default() };
        // Catalogue SKUs by code among the references and seller SKUs named.
        let codes: Vec<String> =
            rows.iter().flat_map(|r| r.reference.iter().chain(r.seller_sku.iter()).cloned()).collect();
        let mut by_code: HashMap<String, sku::Model> = HashMap::new();
        for chunk in codes.chunks(500) {
            by_code.extend(
                sku::Entity::find()
                    .filter(sku::Column::OrganizationId.eq(org))
                    .filter(sku::Column::Code.is_in(chunk.iter().cloned()))
                    .all(&self.db)
                    .await?
                    .into_iter()
                    .map(|s| (s.code.clone(), s)),
            );
        }
        // And the SKUs already linked, by MFSKUID (the warehouse's id outlives code edits).
        let mut by_mf: HashMap<String, sku::Model> = HashMap::new();
        let mfs: Vec<String> = rows.iter().map(|r| r.warehouse_sku_id.clone()).collect();
        for chunk in mfs.chunks(500) {
            by_mf.extend(
                sku::Entity::find()
                    .filter(sku::Column::OrganizationId.eq(org))
                    .filter(sku::Column::WarehouseAccountId.eq(acc.id))
                    .filter(sku::Column::WarehouseSkuId.is_in(chunk.iter().cloned()))
                    .all(&self.db)
                    .await?
                    .into_iter()
                    .filter_map(|s| s.warehouse_sku_id.clone().map(|m| (m, s))),
            );
        }
        let txn = begin_write(&self.db).await?;
        let mut changes = Vec::new();
        for r in &rows {
            let local = by_mf
                .get(&r.warehouse_sku_id)
                .or_else(|| r.reference.as_ref().and_then(|c| by_code.get(c)))
                .or_else(|| r.seller_sku.as_ref().and_then(|c| by_code.get(c)));
            let Some(s) = local else {
                out.unmatched += 1;
                continue;
            };
            if s.warehouse_account_id.is_some_and(|a| a != acc.id) && s.warehouse_sku_id.is_some() {
                out.unmatched += 1;
                continue;
            }
            // A status we could not read keeps the one we have (a new link starts as a draft).
            let status = match r.review {
                Some(review) => review_status(review),
                None if s.warehouse_sku_id.as_deref() == Some(r.warehouse_sku_id.as_str()) => s.warehouse_status,
                None => WarehouseSkuStatus::Draft,
            };
            sku::Entity::update_many()
                .col_expr(sku::Column::WarehouseAccountId, Expr::value(acc.id))
                .col_expr(sku::Column::WarehouseSkuId, Expr::value(r.warehouse_sku_id.clone()))
                .col_expr(sku::Column::WarehouseSellerSku, Expr::value(r.seller_sku.clone()))
                .col_expr(sku::Column::WarehouseStatus, Expr::value(status))
                .col_expr(sku::Column::WarehouseSyncedAt, Expr::value(now))
                .col_expr(sku::Column::UpdatedAt, Expr::value(now))
                .filter(sku::Column::Id.eq(s.id))
                .exec(&txn)
                .await?;
            out.linked += 1;
            if s.warehouse_status != status || s.warehouse_sku_id.as_deref() != Some(r.warehouse_sku_id.as_str()) {
                changes.push(Change {
                    action: "sku.warehouse_status_changed",
                    entity_type: "Sku",
                    entity_id: Some(s.id),
                    data: Some(serde_json::json!({ "warehouseSkuId": r.warehouse_sku_id, "status": status })),
                });
            }
        }
        let by = by.map_or(By::System, By::Actor);
        let events = audit::record_many(&txn, org, by, changes).await?;
        txn.commit().await?;
        self.bus.publish_all(events);
        Ok(out)
    }
}

/// Whether an earlier push tried to create the SKU at the account without learning the
/// outcome: tied to the account (the mark set before the call) but not linked.
fn attempted_at(s: &sku::Model, account_id: Uuid) -> bool {
    s.warehouse_account_id == Some(account_id) && s.warehouse_sku_id.is_none()
}

/// ISO countries of OC regions (for the HS codes' `countryCode`), without duplicates.
fn countries_of(oc_regions: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in oc_regions {
        let c = regions::country_of(r).map_or_else(|| r.clone(), str::to_owned);
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}
