//! Batch printing (打印面单, seed 000 §7): the chosen waybills' labels rendered into one
//! PDF with one template, stored for a short while and handed out as a signed link; the
//! waybills become PRINTED. Waybills without a tracking number (UNCONFIRMED) or cancelled
//! are refused one by one with a code; printed and shipped ones can be printed again.
//!
//! The PDF is rendered outside any transaction (on the blocking pool: it is CPU work), then
//! one short transaction locks the waybills, checks none changed since they were read and
//! records the print. If one did change (a reset raced the print), the batch is read and
//! rendered once more.

use serde::Deserialize;
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{channel, enums::WaybillStatus, label_file, label_template, waybill};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set, sea_query::Expr};
use uuid::Uuid;

use super::{Labels, templates};
use crate::{
    auth::Actor,
    db::begin_write,
    domain::{
        audit::{self, By},
        fulfilment::{
            MAX_BATCH,
            snapshot::{Recipient, Snapshot},
        },
    },
    error::{DomainError, DomainResult, UserError, UserErrorCode},
    labels::{self, Issue, Problem, layout::BlockKind},
};

/// What happened to one waybill of a print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelOutcome {
    pub waybill_id: Uuid,
    /// The waybill's status afterwards (`None` when the id is unknown).
    pub status: Option<WaybillStatus>,
    pub errors: Vec<UserError>,
    /// Printed, but with something to check (text cut short).
    pub warnings: Vec<UserError>,
}

/// The printed file: where to download it and until when.
#[derive(Debug, Clone)]
pub struct PrintedFile {
    pub id: Uuid,
    pub url: String,
    pub expires_at: DateTime<Utc>,
    pub pages: usize,
    pub bytes: usize,
}

#[derive(Debug, Clone)]
pub struct PrintOutcome {
    pub results: Vec<LabelOutcome>,
    pub file: Option<PrintedFile>,
}

const PATH: [&str; 2] = ["input", "waybillIds"];

fn refused(w: &waybill::Model, code: UserErrorCode, msg: impl Into<String>) -> LabelOutcome {
    LabelOutcome {
        waybill_id: w.id,
        status: Some(w.status),
        errors: vec![UserError::new(code, &PATH, msg)],
        warnings: Vec::new(),
    }
}

fn block_name(k: BlockKind) -> &'static str {
    match k {
        BlockKind::Sender => "sender",
        BlockKind::Recipient => "recipient",
        BlockKind::Destination => "destination",
        BlockKind::Channel => "channel",
        BlockKind::Barcode => "barcode",
        BlockKind::Reference => "reference",
        BlockKind::Weight => "weight",
        BlockKind::Declaration => "declaration",
        BlockKind::Picking => "picking info",
        BlockKind::Cn22 => "CN 22",
    }
}

fn address(r: &Recipient) -> labels::Address {
    labels::Address {
        name: r.name.clone(),
        company: r.company.clone(),
        phone: r.phone.clone(),
        line1: r.line1.clone(),
        line2: r.line2.clone(),
        city: r.city.clone(),
        state: r.state.clone(),
        postal_code: r.postal_code.clone(),
        country_code: r.country_code.clone(),
    }
}

fn warning(i: Issue) -> UserError {
    let block = block_name(i.block);
    let (code, msg) = match i.problem {
        Problem::Cut => (
            UserErrorCode::LabelTextTruncated,
            format!("The {block} text did not fit its block even at the smallest size and ends in \"…\"."),
        ),
        Problem::MissingGlyph => (
            UserErrorCode::LabelGlyphMissing,
            format!("The {block} text has characters the label font cannot show (printed as boxes)."),
        ),
        Problem::NarrowBarcode => (
            UserErrorCode::LabelTextTruncated,
            "The barcode's bars are narrower than 0.25 mm at this block width: check that it scans.".to_owned(),
        ),
    };
    UserError::new(code, &PATH, msg)
}

fn label_of(w: &waybill::Model, snap: Snapshot, c: &channel::Model, sender: &Recipient, date: &str) -> labels::Label {
    labels::Label {
        tracking_number: w.tracking_number.clone().unwrap_or_default(),
        customer_reference: w.customer_reference.clone(),
        channel_name: c.name.clone(),
        channel_code: c.code.clone(),
        sender: address(sender),
        recipient: address(&snap.recipient),
        lines: snap
            .lines
            .into_iter()
            .map(|l| labels::Line {
                sku: l.sku_code.or(l.platform_sku),
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
            .collect(),
        date: date.to_owned(),
    }
}

/// One read of the batch: per-id outcomes so far, and the printable waybills in input order.
struct Read {
    outcomes: Vec<Option<LabelOutcome>>,
    printable: Vec<(waybill::Model, Snapshot)>,
    channels: HashMap<Uuid, channel::Model>,
}

impl Labels {
    /// Prints the labels of `ids` (1-1000) with template `template_id`.
    pub async fn print(&self, actor: &Actor, ids: &[Uuid], template_id: Uuid) -> DomainResult<PrintOutcome> {
        actor.require_write()?;
        if ids.is_empty() || ids.len() > MAX_BATCH {
            return Err(DomainError::user(UserErrorCode::Invalid, &PATH, "Give 1-1000 waybills."));
        }
        let org = actor.tenant().id();
        let mut seen = HashSet::new();
        let ids: Vec<Uuid> = ids.iter().copied().filter(|i| seen.insert(*i)).collect();
        let template = templates::find_visible(&self.db, org, template_id).await?.ok_or_else(|| {
            DomainError::user(UserErrorCode::NotFound, &["input", "templateId"], "No such label template.")
        })?;
        let layout = templates::printable_layout(&template)?;
        let sender = self.sender_address(actor.tenant()).await?.ok_or_else(|| {
            DomainError::user(
                UserErrorCode::SenderAddressMissing,
                &["input"],
                "Labels need a sender address: set it with updateSenderAddress first.",
            )
        })?;
        for attempt in 0..2 {
            let read = self.read(org, &ids).await?;
            if read.printable.is_empty() {
                return Ok(PrintOutcome { results: read.outcomes.into_iter().flatten().collect(), file: None });
            }
            let date = Utc::now().format("%Y-%m-%d").to_string();
            let data = read
                .printable
                .iter()
                .map(|(w, snap)| {
                    let c = read.channels.get(&w.channel_id).ok_or(DomainError::NotFound)?;
                    Ok(label_of(w, snap.clone(), c, &sender, &date))
                })
                .collect::<DomainResult<Vec<_>>>()?;
            let layout = layout.clone();
            let permit = self.renders.clone().acquire_owned().await.map_err(DomainError::internal)?;
            let rendered = tokio::task::spawn_blocking(move || {
                let _permit = permit;
                labels::render(&layout, &data)
            })
            .await
            .map_err(DomainError::internal)?
            .map_err(DomainError::internal)?;
            match self.record(actor, &template, read, rendered).await? {
                Some(done) => return Ok(done),
                None if attempt == 0 => continue,
                None => break,
            }
        }
        Err(DomainError::Conflict("the waybills changed while printing; try again".into()))
    }

    async fn read(&self, org: Uuid, ids: &[Uuid]) -> DomainResult<Read> {
        let mut rows: HashMap<Uuid, waybill::Model> = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let found = waybill::Entity::find()
                .filter(waybill::Column::OrganizationId.eq(org))
                .filter(waybill::Column::Id.is_in(chunk.iter().copied()))
                .all(&self.db)
                .await?;
            rows.extend(found.into_iter().map(|w| (w.id, w)));
        }
        let channel_ids: Vec<Uuid> = {
            let set: HashSet<Uuid> = rows.values().map(|w| w.channel_id).collect();
            set.into_iter().collect()
        };
        let channels = crate::domain::channels::by_ids(&self.db, org, &channel_ids).await?;
        let mut outcomes = Vec::with_capacity(ids.len());
        let mut printable = Vec::new();
        for id in ids {
            let Some(w) = rows.remove(id) else {
                outcomes.push(Some(LabelOutcome {
                    waybill_id: *id,
                    status: None,
                    errors: vec![UserError::new(UserErrorCode::NotFound, &PATH, "No such waybill.")],
                    warnings: Vec::new(),
                }));
                continue;
            };
            let refusal = match (w.status, &w.tracking_number) {
                (WaybillStatus::Unconfirmed, _) => Some(refused(
                    &w,
                    UserErrorCode::WaybillUnconfirmed,
                    "The waybill has no tracking number yet: push its order (or confirm it) first.",
                )),
                (WaybillStatus::Cancelled, _) => {
                    Some(refused(&w, UserErrorCode::InvalidState, "The waybill was cancelled (its order was reset)."))
                }
                (_, None) => Some(refused(&w, UserErrorCode::InvalidState, "The waybill has no tracking number.")),
                (_, Some(t)) if labels::barcode::code128(t).is_err() => Some(refused(
                    &w,
                    UserErrorCode::TrackingNumberUnprintable,
                    "The tracking number cannot be printed as a Code 128 barcode (printable ASCII, at most 80).",
                )),
                _ if !channels.contains_key(&w.channel_id) => {
                    Some(refused(&w, UserErrorCode::ChannelUnavailable, "The waybill's channel is not available."))
                }
                _ => None,
            };
            if let Some(r) = refusal {
                outcomes.push(Some(r));
                continue;
            }
            match Snapshot::deserialize(&w.snapshot) {
                Ok(snap) => {
                    outcomes.push(None);
                    printable.push((w, snap));
                }
                Err(e) => {
                    tracing::error!(waybill = %w.id, error = %e, "unreadable waybill snapshot");
                    outcomes.push(Some(refused(&w, UserErrorCode::InvalidState, "The waybill's data cannot be read.")));
                }
            }
        }
        Ok(Read { outcomes, printable, channels })
    }

    /// Records a rendered print: `None` when a waybill changed since it was read.
    async fn record(
        &self,
        actor: &Actor,
        template: &label_template::Model,
        read: Read,
        rendered: labels::Rendered,
    ) -> DomainResult<Option<PrintOutcome>> {
        let org = actor.tenant().id();
        let ids: Vec<Uuid> = read.printable.iter().map(|(w, _)| w.id).collect();
        let txn = begin_write(&self.db).await?;
        let mut current: HashMap<Uuid, waybill::Model> = HashMap::with_capacity(ids.len());
        let mut sorted = ids.clone();
        sorted.sort();
        for chunk in sorted.chunks(500) {
            let rows = waybill::Entity::find()
                .filter(waybill::Column::OrganizationId.eq(org))
                .filter(waybill::Column::Id.is_in(chunk.iter().copied()))
                .lock_exclusive()
                .all(&txn)
                .await?;
            current.extend(rows.into_iter().map(|w| (w.id, w)));
        }
        let unchanged = read
            .printable
            .iter()
            .all(|(w, _)| current.get(&w.id).is_some_and(|c| c.status == w.status && c.updated_at == w.updated_at));
        if !unchanged {
            return Ok(None);
        }
        let now = Utc::now();
        let first_time: Vec<Uuid> =
            read.printable.iter().filter(|(w, _)| w.status == WaybillStatus::Forecasted).map(|(w, _)| w.id).collect();
        for chunk in first_time.chunks(500) {
            waybill::Entity::update_many()
                .col_expr(waybill::Column::Status, Expr::value(WaybillStatus::Printed))
                .col_expr(waybill::Column::UpdatedAt, Expr::value(now))
                .filter(waybill::Column::Id.is_in(chunk.iter().copied()))
                .filter(waybill::Column::OrganizationId.eq(org))
                .filter(waybill::Column::Status.eq(WaybillStatus::Forecasted))
                .exec(&txn)
                .await?;
        }
        for chunk in ids.chunks(500) {
            waybill::Entity::update_many()
                .col_expr(waybill::Column::PrintedAt, Expr::value(now))
                .filter(waybill::Column::Id.is_in(chunk.iter().copied()))
                .filter(waybill::Column::OrganizationId.eq(org))
                .exec(&txn)
                .await?;
        }
        let bytes = rendered.pdf.len();
        let expires_at = now + self.link_ttl;
        let file = label_file::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(org),
            template_id: Set(template.id),
            waybill_count: Set(i32::try_from(ids.len()).unwrap_or(i32::MAX)),
            content: Set(rendered.pdf),
            created_by: Set(actor.user_id()),
            created_at: Set(now),
            expires_at: Set(expires_at),
        }
        .insert(&txn)
        .await?;
        let event = audit::record(
            &txn,
            org,
            By::Actor(actor),
            "labels.printed",
            "LabelFile",
            Some(file.id),
            Some(serde_json::json!({
                "template": template.code,
                "waybills": ids.len(),
                "firstPrint": first_time.len(),
            })),
        )
        .await?;
        txn.commit().await?;
        self.bus.publish_all([event]);
        let mut printed = read.printable.into_iter().map(|(w, _)| w).zip(rendered.issues);
        let mut results = Vec::with_capacity(read.outcomes.len());
        for o in read.outcomes {
            if let Some(o) = o {
                results.push(o);
                continue;
            }
            let (w, issues) = printed
                .next()
                .ok_or_else(|| DomainError::internal(std::io::Error::other("print outcomes out of step")))?;
            let status = if w.status == WaybillStatus::Forecasted { WaybillStatus::Printed } else { w.status };
            let warnings = issues.into_iter().map(warning).collect();
            results.push(LabelOutcome { waybill_id: w.id, status: Some(status), errors: Vec::new(), warnings });
        }
        let token = self.links.sign(file.id, expires_at);
        Ok(Some(PrintOutcome {
            results,
            file: Some(PrintedFile {
                id: file.id,
                url: format!("{}/labels/{token}.pdf", self.public_url),
                expires_at,
                pages: ids.len(),
                bytes,
            }),
        }))
    }

    /// The PDF behind a download token, when the token is authentic and unexpired.
    pub async fn download(&self, token: &str) -> DomainResult<Option<Vec<u8>>> {
        let now = Utc::now();
        let Some(id) = self.links.verify(token, now) else { return Ok(None) };
        let file =
            label_file::Entity::find_by_id(id).filter(label_file::Column::ExpiresAt.gt(now)).one(&self.db).await?;
        Ok(file.map(|f| f.content))
    }
}

/// Deletes label files past their expiry.
pub async fn prune_files(db: &sea_orm::DatabaseConnection) -> DomainResult<u64> {
    let res = label_file::Entity::delete_many().filter(label_file::Column::ExpiresAt.lte(Utc::now())).exec(db).await?;
    Ok(res.rows_affected)
}
