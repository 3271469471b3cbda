//! Labels in GraphQL: templates (打印模板), the sender address printed on labels, and
//! `printLabels` (打印面单), which returns a short-lived signed download link.

use std::collections::HashMap;

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::label_template;

use super::{
    context::{actor, services},
    enums::WaybillStatus,
    errors::{ApiResult, UserErrorObject, payload},
    ids::{Kind, decode, encode},
    orders::{Address, AddressInput},
    waybills::Waybill,
};
use crate::{
    domain::labels::templates::{TemplateInput, TemplatePatch, layout_of},
    labels::layout,
};

/// What a block of a label shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::labels::layout::BlockKind", rename_items = "SCREAMING_SNAKE_CASE")]
pub enum LabelBlockKind {
    /// FROM: the organization's sender address.
    Sender,
    /// TO: the recipient as sent to the carrier.
    Recipient,
    /// The destination country code, large, for sorting.
    Destination,
    /// The channel's name and code.
    Channel,
    /// The tracking number as a Code 128 barcode with the number beneath.
    Barcode,
    /// The customer reference.
    Reference,
    /// The parcel's declared weight.
    Weight,
    /// Declaration lines: English and Chinese names, quantity, value, HS code.
    Declaration,
    /// Picking info (配货信息): SKU × quantity and the picking note.
    Picking,
    /// A CN 22 customs declaration.
    Cn22,
}

/// A positioned block, in millimetres from the page's top-left corner.
#[derive(SimpleObject)]
pub struct LabelBlock {
    pub kind: LabelBlockKind,
    pub x_mm: f64,
    pub y_mm: f64,
    pub width_mm: f64,
    pub height_mm: f64,
    /// The largest font size (points); text shrinks down to 5 pt to fit, then ends in "…".
    pub font_size: f64,
    pub border: bool,
}

#[derive(InputObject)]
pub struct LabelBlockInput {
    pub kind: LabelBlockKind,
    pub x_mm: f64,
    pub y_mm: f64,
    pub width_mm: f64,
    pub height_mm: f64,
    pub font_size: f64,
    #[graphql(default)]
    pub border: bool,
}

impl From<LabelBlockInput> for layout::Block {
    fn from(b: LabelBlockInput) -> Self {
        Self {
            kind: b.kind.into(),
            x_mm: b.x_mm as f32,
            y_mm: b.y_mm as f32,
            width_mm: b.width_mm as f32,
            height_mm: b.height_mm as f32,
            font_size: b.font_size as f32,
            border: b.border,
        }
    }
}

/// A print template (打印模板): a page size and positioned blocks.
pub struct LabelTemplate(pub label_template::Model);

#[Object]
impl LabelTemplate {
    pub async fn id(&self) -> ID {
        encode(Kind::LabelTemplate, self.0.id)
    }
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// True for the built-in and staff-managed templates every tenant sees.
    async fn global(&self) -> bool {
        self.0.organization_id.is_none()
    }
    async fn width_mm(&self) -> i32 {
        self.0.page_width_mm
    }
    async fn height_mm(&self) -> i32 {
        self.0.page_height_mm
    }
    async fn blocks(&self) -> Vec<LabelBlock> {
        layout_of(&self.0)
            .map(|l| l.blocks)
            .unwrap_or_default()
            .into_iter()
            .map(|b| LabelBlock {
                kind: b.kind.into(),
                x_mm: f64::from(b.x_mm),
                y_mm: f64::from(b.y_mm),
                width_mm: f64::from(b.width_mm),
                height_mm: f64::from(b.height_mm),
                font_size: f64::from(b.font_size),
                border: b.border,
            })
            .collect()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

#[derive(InputObject)]
pub struct CreateLabelTemplateInput {
    pub code: String,
    pub name: String,
    /// A global template (every tenant sees it); platform staff only.
    #[graphql(default)]
    pub global: bool,
    pub width_mm: i32,
    pub height_mm: i32,
    pub blocks: Vec<LabelBlockInput>,
}

#[derive(InputObject)]
pub struct UpdateLabelTemplateInput {
    pub id: ID,
    pub name: Option<String>,
    pub width_mm: Option<i32>,
    pub height_mm: Option<i32>,
    /// Replaces all blocks.
    pub blocks: Option<Vec<LabelBlockInput>>,
}

#[derive(SimpleObject)]
pub struct LabelTemplatePayload {
    pub label_template: Option<LabelTemplate>,
    pub user_errors: Vec<UserErrorObject>,
}

#[derive(InputObject)]
pub struct UpdateSenderAddressInput {
    pub address: AddressInput,
}

#[derive(SimpleObject)]
pub struct SenderAddressPayload {
    pub sender_address: Option<Address>,
    pub user_errors: Vec<UserErrorObject>,
}

#[derive(InputObject)]
pub struct PrintLabelsInput {
    /// 1-1000 waybills, printed in this order (one page each).
    pub waybill_ids: Vec<ID>,
    pub template_id: ID,
}

/// One waybill of a print.
#[derive(SimpleObject)]
pub struct LabelResult {
    pub waybill_id: ID,
    /// The waybill's status afterwards (PRINTED once printed; null for an unknown id).
    pub status: Option<WaybillStatus>,
    pub waybill: Option<Waybill>,
    /// Why this waybill was not printed (`WAYBILL_UNCONFIRMED`, `NOT_FOUND`, …).
    pub user_errors: Vec<UserErrorObject>,
    /// Printed, but check the label (`LABEL_TEXT_TRUNCATED`).
    pub warnings: Vec<UserErrorObject>,
}

/// The printed PDF.
#[derive(SimpleObject)]
pub struct LabelFile {
    /// Download link (`GET`, no other authentication); works until `expiresAt`.
    pub url: String,
    pub expires_at: DateTime<Utc>,
    pub page_count: i32,
    pub byte_size: i32,
}

#[derive(SimpleObject)]
pub struct PrintLabelsPayload {
    /// One result per distinct waybill id, in input order.
    pub results: Vec<LabelResult>,
    /// Null when nothing could be printed.
    pub file: Option<LabelFile>,
    pub user_errors: Vec<UserErrorObject>,
}

#[derive(Default)]
pub struct LabelQuery;

#[Object]
impl LabelQuery {
    /// Print templates: the global ones and the organization's own, by code.
    async fn label_templates(&self, ctx: &Context<'_>) -> ApiResult<Vec<LabelTemplate>> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        Ok(s.labels.templates(a.tenant()).await?.into_iter().map(LabelTemplate).collect())
    }

    async fn label_template(&self, ctx: &Context<'_>, id: ID) -> ApiResult<LabelTemplate> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        Ok(LabelTemplate(s.labels.template(a.tenant(), decode(Kind::LabelTemplate, &id)?).await?))
    }
}

#[derive(Default)]
pub struct LabelMutation;

#[Object]
impl LabelMutation {
    /// Adds a template (ADMIN for the organization's own; staff for a global one).
    async fn create_label_template(
        &self,
        ctx: &Context<'_>,
        input: CreateLabelTemplateInput,
    ) -> ApiResult<LabelTemplatePayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let i = TemplateInput {
            code: input.code,
            name: input.name,
            global: input.global,
            width_mm: input.width_mm,
            height_mm: input.height_mm,
            blocks: input.blocks.into_iter().map(Into::into).collect(),
        };
        let (t, user_errors) = payload(s.labels.create_template(a, i).await)?;
        Ok(LabelTemplatePayload { label_template: t.map(LabelTemplate), user_errors })
    }

    async fn update_label_template(
        &self,
        ctx: &Context<'_>,
        input: UpdateLabelTemplateInput,
    ) -> ApiResult<LabelTemplatePayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let id = decode(Kind::LabelTemplate, &input.id)?;
        let p = TemplatePatch {
            name: input.name,
            width_mm: input.width_mm,
            height_mm: input.height_mm,
            blocks: input.blocks.map(|v| v.into_iter().map(Into::into).collect()),
        };
        let (t, user_errors) = payload(s.labels.update_template(a, id, p).await)?;
        Ok(LabelTemplatePayload { label_template: t.map(LabelTemplate), user_errors })
    }

    /// Sets the sender (return) address printed in every label's FROM block (ADMIN).
    async fn update_sender_address(
        &self,
        ctx: &Context<'_>,
        input: UpdateSenderAddressInput,
    ) -> ApiResult<SenderAddressPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let (r, user_errors) = payload(s.labels.set_sender_address(a, input.address.into()).await)?;
        Ok(SenderAddressPayload { sender_address: r.map(Into::into), user_errors })
    }

    /// Renders the waybills' labels into one PDF (one label per page) and returns its
    /// download link; the waybills become PRINTED. UNCONFIRMED waybills are refused one by
    /// one (`WAYBILL_UNCONFIRMED`); printed and shipped ones can be printed again.
    async fn print_labels(&self, ctx: &Context<'_>, input: PrintLabelsInput) -> ApiResult<PrintLabelsPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let ids = input.waybill_ids.iter().map(|id| decode(Kind::Waybill, id)).collect::<Result<Vec<_>, _>>()?;
        let template = decode(Kind::LabelTemplate, &input.template_id)?;
        let (outcome, user_errors) = payload(s.labels.print(a, &ids, template).await)?;
        let Some(outcome) = outcome else {
            return Ok(PrintLabelsPayload { results: Vec::new(), file: None, user_errors });
        };
        let mut loaded: HashMap<uuid::Uuid, entity::waybill::Model> =
            if ctx.look_ahead().field("results").field("waybill").exists() {
                let found: Vec<uuid::Uuid> =
                    outcome.results.iter().filter(|r| r.status.is_some()).map(|r| r.waybill_id).collect();
                s.fulfilment.waybills_by_ids(a.tenant(), &found).await?.into_iter().map(|w| (w.id, w)).collect()
            } else {
                HashMap::new()
            };
        let results = outcome
            .results
            .into_iter()
            .map(|r| LabelResult {
                waybill_id: encode(Kind::Waybill, r.waybill_id),
                status: r.status.map(Into::into),
                waybill: loaded.remove(&r.waybill_id).map(Waybill),
                user_errors: r.errors.into_iter().map(Into::into).collect(),
                warnings: r.warnings.into_iter().map(Into::into).collect(),
            })
            .collect();
        let file = outcome.file.map(|f| LabelFile {
            url: f.url,
            expires_at: f.expires_at,
            page_count: i32::try_from(f.pages).unwrap_or(i32::MAX),
            byte_size: i32::try_from(f.bytes).unwrap_or(i32::MAX),
        });
        Ok(PrintLabelsPayload { results, file, user_errors })
    }
}
