//! Fixing downloaded orders before they are pushed (seed 000 §5): change a line's SKU,
//! correct the recipient, and sync the seller SKUs seen on orders into the catalogue.
//! Edits are allowed only while the order is UNPUSHED or PUSH_FAILED, and use the
//! order's `version` as a compare-and-set so two tabs cannot overwrite each other.

use chrono::Utc;
use entity::{
    enums::{FulfillmentStatus, WarehouseSkuStatus},
    order, order_item, sku,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set,
    Statement,
    sea_query::{Expr, ExprTrait, OnConflict},
};
use uuid::Uuid;

use crate::{
    auth::Actor,
    db::begin_write,
    domain::{
        audit::{self, By},
        validate,
    },
    error::{DomainError, DomainResult, UserError, UserErrorCode},
    events::EventBus,
};

/// A corrected recipient: the same shape as a waybill's recipient.
pub type RecipientEdit = crate::domain::fulfilment::snapshot::Recipient;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SkuSync {
    pub created: u64,
    pub linked: u64,
}

fn editable(o: &order::Model) -> DomainResult<()> {
    match o.fulfillment_status {
        FulfillmentStatus::Unpushed | FulfillmentStatus::PushFailed => Ok(()),
        other => Err(DomainError::user(
            UserErrorCode::InvalidState,
            &["input", "orderId"],
            format!("The order is {other:?}; reset it before editing."),
        )),
    }
}

/// Bumps the order's version if it is still `version`; otherwise someone else changed it.
async fn bump(db: &impl ConnectionTrait, o: &order::Model) -> DomainResult<()> {
    let res = order::Entity::update_many()
        .col_expr(order::Column::Version, Expr::col(order::Column::Version).add(1))
        .col_expr(order::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(order::Column::Id.eq(o.id))
        .filter(order::Column::Version.eq(o.version))
        .exec(db)
        .await?;
    if res.rows_affected != 1 {
        return Err(DomainError::Conflict("the order changed meanwhile; reload and try again".into()));
    }
    Ok(())
}

pub async fn update_recipient(
    db: &DatabaseConnection,
    bus: &EventBus,
    actor: &Actor,
    order_id: Uuid,
    r: RecipientEdit,
) -> DomainResult<order::Model> {
    actor.require_write()?;
    let mut errors: Vec<UserError> = Vec::new();
    let name = validate::name(&r.name, 200, &["input", "recipient", "name"]).map_err(|e| errors.push(e)).ok();
    let line1 = validate::name(&r.line1, 500, &["input", "recipient", "line1"]).map_err(|e| errors.push(e)).ok();
    // Bounded by the order's columns.
    let mut text = |raw: Option<String>, max: usize, field: &str| {
        validate::optional(raw, max, &["input", "recipient", field]).map_err(|e| errors.push(e)).ok().flatten()
    };
    let company = text(r.company, 200, "company");
    let phone = text(r.phone, 64, "phone");
    let email = text(r.email, 320, "email");
    let line2 = text(r.line2, 500, "line2");
    let city = text(r.city, 200, "city");
    let state = text(r.state, 200, "state");
    let postal_code = text(r.postal_code, 32, "postalCode");
    let country = r.country_code.trim().to_uppercase();
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        errors.push(UserError::new(
            UserErrorCode::Invalid,
            &["input", "recipient", "countryCode"],
            "Use a two-letter ISO country code.",
        ));
    }
    let (Some(name), Some(line1), true) = (name, line1, errors.is_empty()) else {
        return Err(DomainError::User(errors));
    };
    let org = actor.tenant().id();
    let txn = begin_write(db).await?;
    let o = order::Entity::find_by_id(order_id)
        .filter(order::Column::OrganizationId.eq(org))
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    editable(&o)?;
    bump(&txn, &o).await?;
    let before =
        serde_json::json!({ "name": o.recipient_name, "line1": o.address_line1, "countryCode": o.country_code });
    let mut active: order::ActiveModel = o.into();
    active.recipient_name = Set(name);
    active.recipient_company = Set(company);
    active.recipient_phone = Set(phone);
    active.recipient_email = Set(email);
    active.address_line1 = Set(line1);
    active.address_line2 = Set(line2);
    active.city = Set(city);
    active.state = Set(state);
    active.postal_code = Set(postal_code);
    active.country_code = Set(country);
    let updated = active.update(&txn).await?;
    // The order's own address now wins over addresses edited on its waybills.
    entity::waybill::Entity::update_many()
        .col_expr(entity::waybill::Column::EditedAt, Expr::value(Option::<chrono::DateTime<Utc>>::None))
        .filter(entity::waybill::Column::OrderId.eq(order_id))
        .exec(&txn)
        .await?;
    let event = audit::record(
        &txn,
        org,
        By::Actor(actor),
        "order.recipient_updated",
        "Order",
        Some(order_id),
        Some(serde_json::json!({ "before": before })),
    )
    .await?;
    txn.commit().await?;
    bus.publish_all([event]);
    Ok(updated)
}

/// Points an order line at a catalogue SKU by code (created if the catalogue lacks it).
pub async fn update_item_sku(
    db: &DatabaseConnection,
    bus: &EventBus,
    actor: &Actor,
    item_id: Uuid,
    sku_code: &str,
) -> DomainResult<order::Model> {
    actor.require_write()?;
    let code = validate::name(sku_code, 100, &["input", "skuCode"]).map_err(|e| DomainError::User(vec![e]))?;
    let org = actor.tenant().id();
    let txn = begin_write(db).await?;
    let item = order_item::Entity::find_by_id(item_id)
        .filter(order_item::Column::OrganizationId.eq(org))
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    let o = order::Entity::find_by_id(item.order_id).one(&txn).await?.ok_or(DomainError::NotFound)?;
    editable(&o)?;
    bump(&txn, &o).await?;
    ensure_skus(&txn, org, &[(code.clone(), item.title.clone())]).await?;
    let sku_id = sku::Entity::find()
        .filter(sku::Column::OrganizationId.eq(org))
        .filter(sku::Column::Code.eq(&code))
        .one(&txn)
        .await?
        .map(|s| s.id)
        .ok_or_else(|| DomainError::internal(sea_orm::DbErr::RecordNotFound("sku".into())))?;
    let previous = item.platform_sku.clone();
    let mut active: order_item::ActiveModel = item.into();
    active.sku_id = Set(Some(sku_id));
    active.updated_at = Set(Utc::now());
    active.update(&txn).await?;
    let event = audit::record(
        &txn,
        org,
        By::Actor(actor),
        "order.item_sku_changed",
        "Order",
        Some(o.id),
        Some(serde_json::json!({ "itemId": item_id, "platformSku": previous, "skuCode": code })),
    )
    .await?;
    let updated = order::Entity::find_by_id(o.id).one(&txn).await?.ok_or(DomainError::NotFound)?;
    txn.commit().await?;
    bus.publish_all([event]);
    Ok(updated)
}

/// Inserts catalogue SKUs for the given (code, name) pairs that do not exist yet
/// (existing codes are left untouched).
async fn ensure_skus(db: &impl ConnectionTrait, org: Uuid, codes: &[(String, Option<String>)]) -> DomainResult<()> {
    if codes.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let rows = codes.iter().map(|(code, name)| sku::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org),
        code: Set(code.clone()),
        name: Set(name.clone()),
        decl_name_en: Set(None),
        decl_name_cn: Set(None),
        decl_value_minor: Set(None),
        decl_currency: Set(None),
        weight_grams: Set(None),
        hs_code: Set(None),
        origin_country: Set(None),
        picking_info: Set(None),
        warehouse_account_id: Set(None),
        warehouse_sku_id: Set(None),
        warehouse_seller_sku: Set(None),
        warehouse_status: Set(WarehouseSkuStatus::NotSubmitted),
        warehouse_synced_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    });
    sku::Entity::insert_many(rows)
        .on_conflict(OnConflict::columns([sku::Column::OrganizationId, sku::Column::Code]).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Seed 000 §5(3) "同步": every seller SKU seen on the tenant's orders becomes a catalogue
/// SKU (idempotent), and order lines without a catalogue SKU are linked by code.
pub async fn sync_skus_from_orders(db: &DatabaseConnection, bus: &EventBus, actor: &Actor) -> DomainResult<SkuSync> {
    actor.require_write()?;
    let org = actor.tenant().id();
    let txn = begin_write(db).await?;
    let seen: Vec<(Option<String>, Option<String>)> = order_item::Entity::find()
        .select_only()
        .column(order_item::Column::PlatformSku)
        .column_as(Expr::col(order_item::Column::Title).max(), "title")
        .filter(order_item::Column::OrganizationId.eq(org))
        .filter(order_item::Column::PlatformSku.is_not_null())
        .group_by(order_item::Column::PlatformSku)
        .into_tuple()
        .all(&txn)
        .await?;
    let existing: std::collections::HashSet<String> = sku::Entity::find()
        .select_only()
        .column(sku::Column::Code)
        .filter(sku::Column::OrganizationId.eq(org))
        .into_tuple::<String>()
        .all(&txn)
        .await?
        .into_iter()
        .collect();
    let missing: Vec<(String, Option<String>)> = seen
        .into_iter()
        .filter_map(|(code, title)| code.map(|c| (c.trim().to_owned(), title)))
        .filter(|(c, _)| !c.is_empty() && c.chars().count() <= 100 && !existing.contains(c))
        .collect();
    let mut missing = missing;
    missing.sort();
    missing.dedup_by(|a, b| a.0 == b.0);
    let created = missing.len() as u64;
    for chunk in missing.chunks(500) {
        ensure_skus(&txn, org, chunk).await?;
    }
    // One statement links every unlinked line to the catalogue SKU with its code.
    let backend = txn.get_database_backend();
    let sql = match backend {
        sea_orm::DatabaseBackend::Postgres => {
            "UPDATE order_items SET sku_id = skus.id FROM skus \
             WHERE order_items.organization_id = $1 AND order_items.sku_id IS NULL \
             AND skus.organization_id = order_items.organization_id AND skus.code = TRIM(order_items.platform_sku)"
        }
        _ => {
            "UPDATE order_items SET sku_id = (SELECT skus.id FROM skus WHERE skus.organization_id = order_items.organization_id \
             AND skus.code = TRIM(order_items.platform_sku)) \
             WHERE organization_id = $1 AND sku_id IS NULL AND EXISTS (SELECT 1 FROM skus WHERE skus.organization_id = order_items.organization_id \
             AND skus.code = TRIM(order_items.platform_sku))"
        }
    };
    let linked = txn.execute_raw(Statement::from_sql_and_values(backend, sql, [org.into()])).await?.rows_affected();
    let event = audit::record(
        &txn,
        org,
        By::Actor(actor),
        "skus.synced_from_orders",
        "Organization",
        Some(org),
        Some(serde_json::json!({ "created": created, "linked": linked })),
    )
    .await?;
    txn.commit().await?;
    bus.publish_all([event]);
    Ok(SkuSync { created, linked })
}
