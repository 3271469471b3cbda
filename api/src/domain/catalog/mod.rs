//! The SKU catalogue (seed 000 §5(3-4), SKU管理): each tenant's SKUs with the customs
//! declaration (申报信息) a waybill needs and the picking info (配货信息) the warehouse
//! prints. Codes are unique per tenant; a SKU still on open orders cannot be deleted.

pub mod validate;

use std::collections::{HashMap, hash_map::Entry};

use chrono::{DateTime, Utc};
use entity::{
    enums::{FulfillmentStatus, WarehouseSkuStatus},
    inbound_order_line, order, order_item, sku,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QuerySelect, Set,
    sea_query::{Expr, ExprTrait, Func, LikeExpr, OnConflict, Query},
};
use uuid::Uuid;

pub use validate::{CleanSku, DeclarationInput, SkuInput, SkuPatch};

use crate::{
    auth::{Actor, Tenant},
    db::begin_write,
    domain::{
        audit::{self, By},
        pagination::{self, Page, PageArgs},
    },
    error::{DomainError, DomainResult, UserError, UserErrorCode},
    events::EventBus,
};

/// Most rows one `bulk_upsert` call takes.
pub const MAX_BULK_ROWS: usize = 1000;

/// Rows per multi-row INSERT (18 bound values each: well under both backends' limits).
const CHUNK: usize = 500;

/// Orders whose lines still need their SKU: not yet shipped and not cancelled.
const OPEN: [FulfillmentStatus; 4] =
    [FulfillmentStatus::Unpushed, FulfillmentStatus::Pushing, FulfillmentStatus::Pushed, FulfillmentStatus::PushFailed];

#[derive(Debug, Clone, Default)]
pub struct SkuFilter {
    /// Matches the code exactly or as a prefix, or the name as a substring (both any case).
    pub search: Option<String>,
    /// `true`: the English name, value or weight is missing; `false`: all three are set.
    pub missing_declaration: Option<bool>,
}

/// What a bulk upsert did: rows created, rows updated, and the rows refused (skipped).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulkUpsert {
    pub created: u64,
    pub updated: u64,
    /// One entry per problem, at `["input", "skus", "<index>", <field…>]`.
    pub errors: Vec<UserError>,
}

#[derive(Clone)]
pub struct Catalog {
    db: DatabaseConnection,
    bus: EventBus,
}

fn input_path() -> Vec<String> {
    vec!["input".to_owned()]
}

fn taken(field: &[&str], code: &str) -> UserError {
    UserError::new(UserErrorCode::Taken, field, format!("Another SKU already has the code {code:?}."))
}

/// A unique-index violation (two writers raced for one code) is the same TAKEN as the check.
fn taken_or(e: DbErr, code: &str) -> DomainError {
    DomainError::unique_or(e, DomainError::User(vec![taken(&["input", "code"], code)]))
}

/// Escapes LIKE wildcards with `!` (used as the ESCAPE character).
fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '!' | '%' | '_') {
            out.push('!');
        }
        out.push(c);
    }
    out
}

fn new_row(org: Uuid, c: &CleanSku, now: DateTime<Utc>) -> sku::ActiveModel {
    sku::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org),
        code: Set(c.code.clone()),
        name: Set(c.name.clone()),
        decl_name_en: Set(c.decl_name_en.clone()),
        decl_name_cn: Set(c.decl_name_cn.clone()),
        decl_value_minor: Set(c.decl_value_minor),
        decl_currency: Set(c.decl_currency.clone()),
        weight_grams: Set(c.weight_grams),
        hs_code: Set(c.hs_code.clone()),
        origin_country: Set(c.origin_country.clone()),
        picking_info: Set(c.picking_info.clone()),
        warehouse_account_id: Set(None),
        warehouse_sku_id: Set(None),
        warehouse_seller_sku: Set(None),
        warehouse_status: Set(WarehouseSkuStatus::NotSubmitted),
        warehouse_synced_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// Names of the catalogue fields that differ (for the audit trail).
fn changed_fields(s: &sku::Model, c: &CleanSku) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut diff = |changed: bool, name: &'static str| {
        if changed {
            out.push(name);
        }
    };
    diff(s.code != c.code, "code");
    diff(s.name != c.name, "name");
    diff(s.decl_name_en != c.decl_name_en, "declaration.nameEn");
    diff(s.decl_name_cn != c.decl_name_cn, "declaration.nameCn");
    diff(s.decl_value_minor != c.decl_value_minor, "declaration.valueMinor");
    diff(s.decl_currency != c.decl_currency, "declaration.currency");
    diff(s.weight_grams != c.weight_grams, "declaration.weightGrams");
    diff(s.hs_code != c.hs_code, "declaration.hsCode");
    diff(s.origin_country != c.origin_country, "declaration.originCountry");
    diff(s.picking_info != c.picking_info, "pickingInfo");
    out
}

async fn find_own(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> DomainResult<sku::Model> {
    sku::Entity::find_by_id(id).filter(sku::Column::OrganizationId.eq(org)).one(db).await?.ok_or(DomainError::NotFound)
}

/// The SKU, locked for the rest of the write transaction (two edits of different fields
/// must not overwrite each other).
async fn lock_own(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> DomainResult<sku::Model> {
    sku::Entity::find_by_id(id)
        .filter(sku::Column::OrganizationId.eq(org))
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or(DomainError::NotFound)
}

async fn code_taken(db: &impl ConnectionTrait, org: Uuid, code: &str) -> DomainResult<bool> {
    Ok(sku::Entity::find()
        .filter(sku::Column::OrganizationId.eq(org))
        .filter(sku::Column::Code.eq(code))
        .one(db)
        .await?
        .is_some())
}

impl Catalog {
    pub fn new(db: DatabaseConnection, bus: EventBus) -> Self {
        Self { db, bus }
    }

    /// The tenant's SKUs, newest first.
    pub async fn list(&self, tenant: Tenant, f: &SkuFilter, args: PageArgs) -> DomainResult<Page<sku::Model>> {
        let mut q = sku::Entity::find().filter(sku::Column::OrganizationId.eq(tenant.id()));
        if let Some(s) = f.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            // LOWER on both sides: SQLite's LIKE ignores ASCII case, PostgreSQL's does not.
            let esc = like_escape(&s.to_lowercase());
            q = q.filter(
                Condition::any()
                    .add(sku::Column::Code.eq(s))
                    .add(Func::lower(Expr::col(sku::Column::Code)).like(LikeExpr::new(format!("{esc}%")).escape('!')))
                    .add(Func::lower(Expr::col(sku::Column::Name)).like(LikeExpr::new(format!("%{esc}%")).escape('!'))),
            );
        }
        match f.missing_declaration {
            Some(true) => {
                q = q.filter(
                    Condition::any()
                        .add(sku::Column::DeclNameEn.is_null())
                        .add(sku::Column::DeclValueMinor.is_null())
                        .add(sku::Column::WeightGrams.is_null()),
                );
            }
            Some(false) => {
                q = q
                    .filter(sku::Column::DeclNameEn.is_not_null())
                    .filter(sku::Column::DeclValueMinor.is_not_null())
                    .filter(sku::Column::WeightGrams.is_not_null());
            }
            None => {}
        }
        pagination::fetch(&self.db, q, sku::Column::Id, args).await
    }

    /// One of the tenant's SKUs (another tenant's is NOT_FOUND).
    pub async fn get(&self, tenant: Tenant, id: Uuid) -> DomainResult<sku::Model> {
        find_own(&self.db, tenant.id(), id).await
    }

    pub async fn create(&self, actor: &Actor, input: SkuInput) -> DomainResult<sku::Model> {
        actor.require_write()?;
        let c = validate::check_input(&input, &input_path()).map_err(DomainError::User)?;
        let org = actor.tenant().id();
        let txn = begin_write(&self.db).await?;
        if code_taken(&txn, org, &c.code).await? {
            return Err(DomainError::User(vec![taken(&["input", "code"], &c.code)]));
        }
        let model = new_row(org, &c, Utc::now()).insert(&txn).await.map_err(|e| taken_or(e, &c.code))?;
        let event = audit::record(
            &txn,
            org,
            By::Actor(actor),
            "sku.created",
            "Sku",
            Some(model.id),
            Some(serde_json::json!({ "code": model.code })),
        )
        .await?;
        txn.commit().await?;
        self.bus.publish_all([event]);
        Ok(model)
    }

    /// Changes the fields the patch names (see [`SkuPatch`]); the warehouse fields are
    /// not the catalogue's to change.
    pub async fn update(&self, actor: &Actor, id: Uuid, patch: SkuPatch) -> DomainResult<sku::Model> {
        actor.require_write()?;
        let org = actor.tenant().id();
        let txn = begin_write(&self.db).await?;
        let current = lock_own(&txn, org, id).await?;
        let c = validate::check_patch(&current, &patch, &input_path()).map_err(DomainError::User)?;
        if c.code != current.code && code_taken(&txn, org, &c.code).await? {
            return Err(DomainError::User(vec![taken(&["input", "code"], &c.code)]));
        }
        let changed = changed_fields(&current, &c);
        let mut a: sku::ActiveModel = current.into();
        a.code = Set(c.code.clone());
        a.name = Set(c.name);
        a.decl_name_en = Set(c.decl_name_en);
        a.decl_name_cn = Set(c.decl_name_cn);
        a.decl_value_minor = Set(c.decl_value_minor);
        a.decl_currency = Set(c.decl_currency);
        a.weight_grams = Set(c.weight_grams);
        a.hs_code = Set(c.hs_code);
        a.origin_country = Set(c.origin_country);
        a.picking_info = Set(c.picking_info);
        a.updated_at = Set(Utc::now());
        let updated = a.update(&txn).await.map_err(|e| taken_or(e, &c.code))?;
        let event = audit::record(
            &txn,
            org,
            By::Actor(actor),
            "sku.updated",
            "Sku",
            Some(id),
            Some(serde_json::json!({ "code": updated.code, "changed": changed })),
        )
        .await?;
        txn.commit().await?;
        self.bus.publish_all([event]);
        Ok(updated)
    }

    /// Creates or replaces SKUs by code (a spreadsheet import). Each valid row replaces the
    /// SKU's name, declaration and picking info (a field left out is cleared); the
    /// warehouse fields are kept. Invalid rows, and a code repeated within the call (the
    /// later row), are reported and skipped; the valid rows are written in one transaction.
    pub async fn bulk_upsert(&self, actor: &Actor, rows: Vec<SkuInput>) -> DomainResult<BulkUpsert> {
        actor.require_write()?;
        if rows.len() > MAX_BULK_ROWS {
            return Err(DomainError::bad_input("skus", format!("at most {MAX_BULK_ROWS} rows per call")));
        }
        let mut errors: Vec<UserError> = Vec::new();
        let mut valid: Vec<CleanSku> = Vec::new();
        let mut first_row: HashMap<String, usize> = HashMap::new();
        for (i, row) in rows.iter().enumerate() {
            let at = vec!["input".to_owned(), "skus".to_owned(), i.to_string()];
            let repeat_of = match validate::code(&row.code) {
                Ok(code) => match first_row.entry(code) {
                    Entry::Occupied(e) => Some(*e.get()),
                    Entry::Vacant(v) => {
                        v.insert(i);
                        None
                    }
                },
                Err(_) => None,
            };
            if let Some(first) = repeat_of {
                errors.push(UserError {
                    code: UserErrorCode::Invalid,
                    field: at.iter().cloned().chain(["code".to_owned()]).collect(),
                    message: format!("Row {first} has the same code; each code may appear once per call."),
                });
            }
            match validate::check_input(row, &at) {
                Ok(c) if repeat_of.is_none() => valid.push(c),
                Ok(_) => {}
                Err(e) => errors.extend(e),
            }
        }
        if valid.is_empty() {
            return Ok(BulkUpsert { created: 0, updated: 0, errors });
        }
        let org = actor.tenant().id();
        let txn = begin_write(&self.db).await?;
        let mut existing = 0u64;
        for chunk in valid.chunks(CHUNK) {
            existing += sku::Entity::find()
                .filter(sku::Column::OrganizationId.eq(org))
                .filter(sku::Column::Code.is_in(chunk.iter().map(|c| c.code.clone())))
                .count(&txn)
                .await?;
        }
        let now = Utc::now();
        for chunk in valid.chunks(CHUNK) {
            sku::Entity::insert_many(chunk.iter().map(|c| new_row(org, c, now)))
                .on_conflict(
                    OnConflict::columns([sku::Column::OrganizationId, sku::Column::Code])
                        .update_columns([
                            sku::Column::Name,
                            sku::Column::DeclNameEn,
                            sku::Column::DeclNameCn,
                            sku::Column::DeclValueMinor,
                            sku::Column::DeclCurrency,
                            sku::Column::WeightGrams,
                            sku::Column::HsCode,
                            sku::Column::OriginCountry,
                            sku::Column::PickingInfo,
                            sku::Column::UpdatedAt,
                        ])
                        .to_owned(),
                )
                .exec_without_returning(&txn)
                .await?;
        }
        let total = valid.len() as u64;
        let updated = Ord::min(existing, total);
        let created = total - updated;
        let skipped = rows.len() as u64 - total;
        let event = audit::record(
            &txn,
            org,
            By::Actor(actor),
            "skus.bulk_upserted",
            "Sku",
            None,
            Some(serde_json::json!({ "created": created, "updated": updated, "skippedRows": skipped })),
        )
        .await?;
        txn.commit().await?;
        self.bus.publish_all([event]);
        Ok(BulkUpsert { created, updated, errors })
    }

    /// Deletes a SKU no open order (UNPUSHED, PUSHING, PUSHED, PUSH_FAILED) and no inbound
    /// shipment uses; lines of shipped or cancelled orders keep their seller SKU and lose
    /// the link.
    pub async fn delete(&self, actor: &Actor, id: Uuid) -> DomainResult<Uuid> {
        actor.require_write()?;
        let org = actor.tenant().id();
        let txn = begin_write(&self.db).await?;
        let s = lock_own(&txn, org, id).await?;
        let open = order::Entity::find()
            .filter(order::Column::OrganizationId.eq(org))
            .filter(order::Column::FulfillmentStatus.is_in(OPEN))
            .filter(
                order::Column::Id.in_subquery(
                    Query::select()
                        .column(order_item::Column::OrderId)
                        .from(order_item::Entity)
                        .and_where(order_item::Column::SkuId.eq(id))
                        .to_owned(),
                ),
            )
            .count(&txn)
            .await?;
        if open > 0 {
            return Err(DomainError::user(
                UserErrorCode::InUse,
                &["input", "id"],
                format!(
                    "SKU {:?} is used by {open} open order(s); ship or cancel them, or change their lines' SKU, first.",
                    s.code
                ),
            ));
        }
        let inbound = inbound_order_line::Entity::find()
            .filter(inbound_order_line::Column::OrganizationId.eq(org))
            .filter(inbound_order_line::Column::SkuId.eq(id))
            .count(&txn)
            .await?;
        if inbound > 0 {
            return Err(DomainError::user(
                UserErrorCode::InUse,
                &["input", "id"],
                format!("SKU {:?} is used by {inbound} inbound shipment line(s).", s.code),
            ));
        }
        // The foreign key sets these to NULL too; done explicitly so the count is audited.
        let unlinked = order_item::Entity::update_many()
            .col_expr(order_item::Column::SkuId, Expr::value(Option::<Uuid>::None))
            .filter(order_item::Column::OrganizationId.eq(org))
            .filter(order_item::Column::SkuId.eq(id))
            .exec(&txn)
            .await?
            .rows_affected;
        sku::Entity::delete_many()
            .filter(sku::Column::Id.eq(id))
            .filter(sku::Column::OrganizationId.eq(org))
            .exec(&txn)
            .await?;
        let event = audit::record(
            &txn,
            org,
            By::Actor(actor),
            "sku.deleted",
            "Sku",
            Some(id),
            Some(serde_json::json!({ "code": s.code, "unlinkedOrderLines": unlinked })),
        )
        .await?;
        txn.commit().await?;
        self.bus.publish_all([event]);
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(like_escape("A_1%!"), "A!_1!%!!");
        assert_eq!(like_escape("杯子"), "杯子");
    }
}
