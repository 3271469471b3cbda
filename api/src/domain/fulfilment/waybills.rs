//! Waybill management (运单管理, seed 000 §7): the forecasts pushes create (customer
//! reference `OD…`) and manual ones; UNCONFIRMED waybills are editable (e.g. to fix an
//! address a carrier refused) and then re-sent — by pushing the order again, or with
//! `confirmWaybills` for a manual waybill.

use chrono::{DateTime, Utc};
use entity::{enums::WaybillStatus, waybill};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect, Set,
    sea_query::{Expr, ExprTrait},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    Fulfilment, channels_of, provider,
    snapshot::{self, Line, Recipient, Snapshot},
};
use crate::{
    auth::{Actor, Tenant},
    db::begin_write,
    domain::{
        audit::{self, By, Change},
        pagination::{self, Page, PageArgs},
        validate,
    },
    error::{DomainError, DomainResult, UserError, UserErrorCode},
};

#[derive(Debug, Clone, Default)]
pub struct WaybillFilter {
    pub status: Option<Vec<WaybillStatus>>,
    pub channel_id: Option<Uuid>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    /// Tracking number or customer reference (exact), or a customer-reference prefix.
    pub search: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewWaybill {
    pub channel_id: Uuid,
    pub customer_reference: Option<String>,
    pub recipient: Recipient,
    pub lines: Vec<Line>,
}

#[derive(Debug, Clone, Default)]
pub struct WaybillEdit {
    pub recipient: Option<Recipient>,
    pub lines: Option<Vec<Line>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaybillOutcome {
    pub waybill_id: Uuid,
    pub status: Option<WaybillStatus>,
    pub errors: Vec<UserError>,
}

/// Bounds on a hand-entered declaration line (a parcel, not a container).
const MAX_UNIT_VALUE_MINOR: i64 = 1_000_000_000;
const MAX_UNIT_WEIGHT_GRAMS: i32 = 1_000_000;

fn field_err(code: UserErrorCode, path: &[&str], msg: impl Into<String>) -> UserError {
    UserError::new(code, path, msg)
}

/// Shape checks on an address (a recipient, or the sender printed on labels) whose fields
/// are reported under `at` (e.g. `["input", "recipient"]`).
pub(crate) fn check_address(r: &Recipient, at: &[&str]) -> Vec<UserError> {
    let mut out = Vec::new();
    let path = |f: &'static str| -> Vec<&str> { at.iter().copied().chain([f]).collect() };
    let text = |v: &str, max: usize| v.chars().count() <= max && !v.chars().any(char::is_control);
    if r.name.trim().is_empty() || !text(&r.name, 200) {
        out.push(field_err(UserErrorCode::Invalid, &path("name"), "Give a name (≤ 200 characters)."));
    }
    if r.line1.trim().is_empty() || !text(&r.line1, 500) {
        out.push(field_err(UserErrorCode::Invalid, &path("line1"), "Give address line 1 (≤ 500 characters)."));
    }
    for (name, v) in [("line2", &r.line2), ("city", &r.city), ("state", &r.state), ("company", &r.company)] {
        if v.as_deref().is_some_and(|v| !text(v, 500)) {
            out.push(field_err(UserErrorCode::Invalid, &path(name), "At most 500 printable characters."));
        }
    }
    for (name, v) in [("phone", &r.phone), ("email", &r.email), ("postalCode", &r.postal_code)] {
        if v.as_deref().is_some_and(|v| !text(v, 100)) {
            out.push(field_err(UserErrorCode::Invalid, &path(name), "At most 100 printable characters."));
        }
    }
    if r.country_code.len() != 2 || !r.country_code.bytes().all(|b| b.is_ascii_uppercase()) {
        out.push(field_err(UserErrorCode::Invalid, &path("countryCode"), "Use a two-letter ISO country code."));
    }
    out
}

/// Shape checks on an edited or manual snapshot (the channel's rules apply when it is sent).
fn check_shape(r: &Recipient, lines: &[Line]) -> Vec<UserError> {
    let mut out = check_address(r, &["input", "recipient"]);
    if lines.is_empty() || lines.len() > 100 {
        out.push(field_err(UserErrorCode::Invalid, &["input", "lines"], "Give 1-100 declaration lines."));
    }
    for (i, l) in lines.iter().enumerate() {
        let idx = i.to_string();
        if l.quantity <= 0 || l.quantity > 100_000 {
            out.push(field_err(
                UserErrorCode::Invalid,
                &["input", "lines", &idx, "quantity"],
                "Quantity must be 1-100000.",
            ));
        }
        let value_ok = l.unit_value_minor.is_none_or(|v| (0..=MAX_UNIT_VALUE_MINOR).contains(&v));
        let weight_ok = l.unit_weight_grams.is_none_or(|w| (1..=MAX_UNIT_WEIGHT_GRAMS).contains(&w));
        if !value_ok || !weight_ok {
            out.push(field_err(
                UserErrorCode::Invalid,
                &["input", "lines", &idx],
                "Unit value must be 0-10,000,000.00 and unit weight 1 g-1,000 kg.",
            ));
        }
    }
    out
}

pub(crate) fn normalise_recipient(mut r: Recipient) -> Recipient {
    let t = |s: Option<String>| s.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    r.name = r.name.trim().to_owned();
    r.line1 = r.line1.trim().to_owned();
    r.country_code = r.country_code.trim().to_uppercase();
    r.company = t(r.company);
    r.phone = t(r.phone);
    r.email = t(r.email);
    r.line2 = t(r.line2);
    r.city = t(r.city);
    r.state = t(r.state);
    r.postal_code = t(r.postal_code);
    r
}

impl Fulfilment {
    pub async fn waybills(
        &self,
        tenant: Tenant,
        f: &WaybillFilter,
        args: PageArgs,
    ) -> DomainResult<Page<waybill::Model>> {
        let mut q = waybill::Entity::find().filter(waybill::Column::OrganizationId.eq(tenant.id()));
        if let Some(s) = &f.status {
            // At most the five statuses, however long the list sent.
            let mut distinct: Vec<WaybillStatus> = Vec::new();
            for st in s {
                if !distinct.contains(st) {
                    distinct.push(*st);
                }
            }
            q = q.filter(waybill::Column::Status.is_in(distinct));
        }
        if let Some(c) = f.channel_id {
            q = q.filter(waybill::Column::ChannelId.eq(c));
        }
        if let Some(t) = validate::instant(f.created_from, "createdFrom")? {
            q = q.filter(waybill::Column::CreatedAt.gte(t));
        }
        if let Some(t) = validate::instant(f.created_to, "createdTo")? {
            q = q.filter(waybill::Column::CreatedAt.lt(t));
        }
        if let Some(s) = f.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            let mut any = Condition::any()
                .add(waybill::Column::TrackingNumber.eq(s))
                .add(waybill::Column::CustomerReference.eq(s));
            // Prefix search only for plain references (no LIKE wildcards from users).
            if s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                any = any.add(waybill::Column::CustomerReference.starts_with(s));
            }
            q = q.filter(any);
        }
        pagination::fetch(&self.db, q, waybill::Column::Id, args).await
    }

    /// The tenant's waybills among `ids`, in one query per 500.
    pub async fn waybills_by_ids(&self, tenant: Tenant, ids: &[Uuid]) -> DomainResult<Vec<waybill::Model>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            out.extend(
                waybill::Entity::find()
                    .filter(waybill::Column::OrganizationId.eq(tenant.id()))
                    .filter(waybill::Column::Id.is_in(chunk.iter().copied()))
                    .all(&self.db)
                    .await?,
            );
        }
        Ok(out)
    }

    pub async fn waybill(&self, tenant: Tenant, id: Uuid) -> DomainResult<waybill::Model> {
        waybill::Entity::find_by_id(id)
            .filter(waybill::Column::OrganizationId.eq(tenant.id()))
            .one(&self.db)
            .await?
            .ok_or(DomainError::NotFound)
    }

    /// A manual forecast without an order: UNCONFIRMED until `confirmWaybills`.
    pub async fn create_waybill(&self, actor: &Actor, input: NewWaybill) -> DomainResult<waybill::Model> {
        actor.require_write()?;
        let org = actor.tenant().id();
        let recipient = normalise_recipient(input.recipient);
        let mut errors = check_shape(&recipient, &input.lines);
        let reference = match input.customer_reference.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(r) if r.len() > 64 || !r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') => {
                errors.push(field_err(
                    UserErrorCode::Invalid,
                    &["input", "customerReference"],
                    "Use up to 64 letters, digits, '-' or '_'.",
                ));
                String::new()
            }
            Some(r) if r.to_ascii_uppercase().starts_with("OD") => {
                errors.push(field_err(
                    UserErrorCode::Invalid,
                    &["input", "customerReference"],
                    "References starting with OD are reserved for orders.",
                ));
                String::new()
            }
            Some(r) => r.to_owned(),
            None => format!("MW{}", &Uuid::now_v7().simple().to_string()[20..]).to_uppercase(),
        };
        if !errors.is_empty() {
            return Err(DomainError::User(errors));
        }
        let txn = begin_write(&self.db).await?;
        let channel = channels_of(&txn, org, &[input.channel_id])
            .await?
            .remove(&input.channel_id)
            .ok_or(DomainError::NotFound)?;
        let snap = snapshot::normalise(
            Snapshot { recipient, lines: input.lines, ..Snapshot::default() },
            channel.address_policy,
        );
        let taken = waybill::Entity::find()
            .filter(waybill::Column::OrganizationId.eq(org))
            .filter(waybill::Column::CustomerReference.eq(&reference))
            .filter(waybill::Column::Status.ne(WaybillStatus::Cancelled))
            .one(&txn)
            .await?
            .is_some();
        if taken {
            return Err(DomainError::user(
                UserErrorCode::Taken,
                &["input", "customerReference"],
                "An active waybill has this reference.",
            ));
        }
        let now = Utc::now();
        let model = waybill::Entity::insert(waybill::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(org),
            order_id: Set(None),
            channel_id: Set(channel.id),
            customer_reference: Set(reference),
            tracking_number: Set(None),
            status: Set(WaybillStatus::Unconfirmed),
            snapshot: Set(serde_json::to_value(&snap).map_err(DomainError::internal)?),
            provider_reference: Set(None),
            error_message: Set(None),
            error_code: Set(None),
            edited_at: Set(None),
            attempts: Set(0),
            printed_at: Set(None),
            forecasted_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .exec_with_returning(&txn)
        .await?;
        let event =
            audit::record(&txn, org, By::Actor(actor), "waybill.created", "Waybill", Some(model.id), None).await?;
        txn.commit().await?;
        self.bus.publish_all([event]);
        Ok(model)
    }

    /// Edits an UNCONFIRMED waybill's snapshot (未确认运单 → 编辑); the next push of its
    /// order (or `confirmWaybills`) sends exactly what was saved.
    pub async fn update_waybill(&self, actor: &Actor, id: Uuid, edit: WaybillEdit) -> DomainResult<waybill::Model> {
        actor.require_write()?;
        let org = actor.tenant().id();
        let txn = begin_write(&self.db).await?;
        // Push locks the order and then writes its waybill: take the locks in the same
        // order, so an edit and a push serialise instead of overwriting each other.
        let order_id = waybill::Entity::find_by_id(id)
            .filter(waybill::Column::OrganizationId.eq(org))
            .one(&txn)
            .await?
            .ok_or(DomainError::NotFound)?
            .order_id;
        if let Some(order_id) = order_id {
            super::lock_orders(&txn, org, &[order_id]).await?;
        }
        let w = waybill::Entity::find_by_id(id)
            .filter(waybill::Column::OrganizationId.eq(org))
            .lock_exclusive()
            .one(&txn)
            .await?
            .ok_or(DomainError::NotFound)?;
        if w.status != WaybillStatus::Unconfirmed {
            return Err(DomainError::user(
                UserErrorCode::InvalidState,
                &["input", "id"],
                format!("Only unconfirmed waybills can be edited; this one is {:?} (reset its order first).", w.status),
            ));
        }
        if let Some(order_id) = w.order_id {
            let o = entity::order::Entity::find_by_id(order_id).one(&txn).await?;
            if o.is_some_and(|o| o.fulfillment_status == entity::enums::FulfillmentStatus::Pushing) {
                return Err(DomainError::user(
                    UserErrorCode::InvalidState,
                    &["input", "id"],
                    "The order is being pushed; wait for the result.",
                ));
            }
        }
        let mut snap: Snapshot = serde_json::from_value(w.snapshot.clone()).map_err(DomainError::internal)?;
        if let Some(r) = edit.recipient {
            snap.recipient = normalise_recipient(r);
            snap.original_recipient = None;
            snap.normalised_fields.clear();
            snap.recipient_edited = true;
        }
        if let Some(l) = edit.lines {
            snap.lines = l;
            snap.lines_edited = true;
        }
        let errors = check_shape(&snap.recipient, &snap.lines);
        if !errors.is_empty() {
            return Err(DomainError::User(errors));
        }
        let now = Utc::now();
        waybill::Entity::update_many()
            .col_expr(
                waybill::Column::Snapshot,
                Expr::value(serde_json::to_value(&snap).map_err(DomainError::internal)?),
            )
            .col_expr(waybill::Column::EditedAt, Expr::value(now))
            .col_expr(waybill::Column::UpdatedAt, Expr::value(now))
            .filter(waybill::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        let event = audit::record(&txn, org, By::Actor(actor), "waybill.updated", "Waybill", Some(id), None).await?;
        let updated = waybill::Entity::find_by_id(id).one(&txn).await?.ok_or(DomainError::NotFound)?;
        txn.commit().await?;
        self.bus.publish_all([event]);
        Ok(updated)
    }

    /// Sends manual UNCONFIRMED waybills to their channel's provider (one transaction).
    /// A waybill created by a push is re-sent by pushing its order.
    pub async fn confirm_waybills(&self, actor: &Actor, ids: &[Uuid]) -> DomainResult<Vec<WaybillOutcome>> {
        actor.require_write()?;
        if ids.is_empty() || ids.len() > super::MAX_BATCH {
            return Err(DomainError::user(UserErrorCode::Invalid, &["input", "waybillIds"], "Give 1-1000 waybills."));
        }
        let org = actor.tenant().id();
        let mut seen = std::collections::HashSet::new();
        let ids: Vec<Uuid> = ids.iter().copied().filter(|i| seen.insert(*i)).collect();
        let txn = begin_write(&self.db).await?;
        let rows = waybill::Entity::find()
            .filter(waybill::Column::OrganizationId.eq(org))
            .filter(waybill::Column::Id.is_in(ids.iter().copied()))
            .lock_exclusive()
            .all(&txn)
            .await?;
        let channel_ids: Vec<Uuid> = rows.iter().map(|w| w.channel_id).collect();
        let channels = channels_of(&txn, org, &channel_ids).await?;
        let now = Utc::now();
        let mut out = Vec::new();
        let mut changes = Vec::new();
        let path = ["input", "waybillIds"];
        for id in &ids {
            let Some(w) = rows.iter().find(|w| w.id == *id) else {
                out.push(WaybillOutcome {
                    waybill_id: *id,
                    status: None,
                    errors: vec![field_err(UserErrorCode::NotFound, &path, "No such waybill.")],
                });
                continue;
            };
            let refuse = |code, msg: String| WaybillOutcome {
                waybill_id: w.id,
                status: Some(w.status),
                errors: vec![field_err(code, &path, msg)],
            };
            if w.status != WaybillStatus::Unconfirmed {
                out.push(refuse(
                    UserErrorCode::InvalidState,
                    format!("The waybill is {:?}, not unconfirmed.", w.status),
                ));
                continue;
            }
            if w.order_id.is_some() {
                out.push(refuse(
                    UserErrorCode::InvalidState,
                    "This waybill belongs to an order: push the order to send it.".into(),
                ));
                continue;
            }
            let Some(ch) = channels.get(&w.channel_id) else {
                out.push(refuse(UserErrorCode::ChannelUnavailable, "The channel is no longer available.".into()));
                continue;
            };
            let snap: Snapshot = serde_json::from_value(w.snapshot.clone()).map_err(DomainError::internal)?;
            let problems = snapshot::check(&snap, ch);
            let result = if let Some(first) = problems.first() {
                Err(provider::Refusal {
                    code: first.code,
                    message: problems.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join(" "),
                })
            } else {
                let p = self.providers.for_channel(ch)?;
                let reference = w.id.simple().to_string();
                let found = if w.attempts > 0 { p.find(&txn, ch, &reference).await? } else { None };
                match found {
                    Some(b) => Ok(b),
                    None => p
                        .create(&txn, ch, &[provider::Parcel { reference: &reference, snapshot: &snap, order: None }])
                        .await?
                        .into_iter()
                        .next()
                        .unwrap_or_else(|| {
                            Err(provider::Refusal {
                                code: UserErrorCode::ProviderUnavailable,
                                message: "No answer from the provider.".into(),
                            })
                        }),
                }
            };
            let mut q = waybill::Entity::update_many()
                .col_expr(waybill::Column::Attempts, Expr::col(waybill::Column::Attempts).add(1))
                .col_expr(waybill::Column::UpdatedAt, Expr::value(now))
                .filter(waybill::Column::Id.eq(w.id))
                .filter(waybill::Column::Status.eq(WaybillStatus::Unconfirmed));
            match result {
                Ok(b) => {
                    q = q
                        .col_expr(waybill::Column::Status, Expr::value(WaybillStatus::Forecasted))
                        .col_expr(waybill::Column::TrackingNumber, Expr::value(b.tracking_number.clone()))
                        .col_expr(waybill::Column::ProviderReference, Expr::value(b.provider_reference))
                        .col_expr(waybill::Column::ErrorCode, Expr::value(Option::<String>::None))
                        .col_expr(waybill::Column::ErrorMessage, Expr::value(Option::<String>::None))
                        .col_expr(waybill::Column::ForecastedAt, Expr::value(now));
                    q.exec(&txn).await?;
                    changes.push(Change {
                        action: "waybill.forecasted",
                        entity_type: "Waybill",
                        entity_id: Some(w.id),
                        data: Some(serde_json::json!({ "trackingNumber": b.tracking_number })),
                    });
                    out.push(WaybillOutcome {
                        waybill_id: w.id,
                        status: Some(WaybillStatus::Forecasted),
                        errors: Vec::new(),
                    });
                }
                Err(r) => {
                    q = q
                        .col_expr(waybill::Column::ErrorCode, Expr::value(r.code.as_str()))
                        .col_expr(waybill::Column::ErrorMessage, Expr::value(r.message.clone()));
                    q.exec(&txn).await?;
                    changes.push(Change {
                        action: "waybill.forecast_failed",
                        entity_type: "Waybill",
                        entity_id: Some(w.id),
                        data: None,
                    });
                    out.push(WaybillOutcome {
                        waybill_id: w.id,
                        status: Some(WaybillStatus::Unconfirmed),
                        errors: vec![field_err(r.code, &path, r.message)],
                    });
                }
            }
        }
        let events = audit::record_many(&txn, org, By::Actor(actor), changes).await?;
        txn.commit().await?;
        self.bus.publish_all(events);
        Ok(out)
    }
}
