//! The SKU catalogue in GraphQL (SKU管理): list and search, the customs declaration
//! (申报信息) and picking info (配货信息), single edits and spreadsheet-style bulk upserts.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::sku;

use super::{
    connection::{Conn, connection, page_args},
    context::{actor, services},
    enums::WarehouseSkuStatus,
    errors::{ApiResult, UserErrorObject, payload},
    ids::{Kind, decode, encode},
};
use crate::domain::catalog::{
    DeclarationInput as DomainDeclaration, SkuFilter as DomainFilter, SkuInput as DomainInput, SkuPatch,
    validate::declaration_complete,
};

/// A catalogue SKU.
pub struct Sku(pub sku::Model);

/// The customs declaration (申报信息) printed on waybills and sent to carriers.
#[derive(SimpleObject)]
pub struct Declaration {
    /// English declared name (printable ASCII).
    pub name_en: Option<String>,
    /// Chinese declared name.
    pub name_cn: Option<String>,
    /// Declared value per unit, in minor units of `currency`.
    pub value_minor: Option<i64>,
    /// ISO 4217 currency of the value.
    pub currency: Option<String>,
    /// Unit weight in grams.
    pub weight_grams: Option<i32>,
    /// HS (tariff) code, digits only.
    pub hs_code: Option<String>,
    /// ISO 3166-1 alpha-2 country of origin.
    pub origin_country: Option<String>,
    /// True when the English name, value and weight are all set (what every channel needs).
    pub complete: bool,
}

#[Object]
impl Sku {
    pub async fn id(&self) -> ID {
        encode(Kind::Sku, self.0.id)
    }
    /// The seller's SKU code, unique in the organization.
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }
    async fn declaration(&self) -> Declaration {
        let s = &self.0;
        Declaration {
            name_en: s.decl_name_en.clone(),
            name_cn: s.decl_name_cn.clone(),
            value_minor: s.decl_value_minor,
            currency: s.decl_currency.clone(),
            weight_grams: s.weight_grams,
            hs_code: s.hs_code.clone(),
            origin_country: s.origin_country.clone(),
            complete: declaration_complete(s),
        }
    }
    /// Picking info (配货信息): what the warehouse picker needs to find the item.
    async fn picking_info(&self) -> Option<&str> {
        self.0.picking_info.as_deref()
    }
    /// The overseas warehouse's id for this SKU, once registered.
    async fn warehouse_sku_id(&self) -> Option<&str> {
        self.0.warehouse_sku_id.as_deref()
    }
    async fn warehouse_status(&self) -> WarehouseSkuStatus {
        self.0.warehouse_status.into()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A SKU's customs declaration. Strings are trimmed; an empty string means "not set".
/// In `createSku` and `bulkUpsertSkus` a field left out or null is not set. In `updateSku`
/// a field left out is unchanged, and null (or "") clears it.
#[derive(InputObject, Default)]
pub struct DeclarationInput {
    /// English declared name: at most 200 printable ASCII characters (no Chinese).
    pub name_en: MaybeUndefined<String>,
    /// Chinese declared name: at most 200 characters.
    pub name_cn: MaybeUndefined<String>,
    /// Declared value per unit in minor units (0 to 100,000,000); needs `currency`.
    pub value_minor: MaybeUndefined<i64>,
    /// ISO 4217 code, e.g. USD.
    pub currency: MaybeUndefined<String>,
    /// Unit weight, 1 to 1,000,000 grams.
    pub weight_grams: MaybeUndefined<i32>,
    /// 6 to 10 digits; dots and spaces are ignored.
    pub hs_code: MaybeUndefined<String>,
    /// ISO 3166-1 alpha-2, e.g. CN.
    pub origin_country: MaybeUndefined<String>,
}

/// A whole SKU (`createSku`, or one row of `bulkUpsertSkus`).
#[derive(InputObject)]
pub struct SkuInput {
    /// 1 to 100 characters, unique in the organization.
    pub code: String,
    /// At most 500 characters.
    pub name: Option<String>,
    pub declaration: Option<DeclarationInput>,
    /// At most 500 characters; line breaks allowed.
    pub picking_info: Option<String>,
}

impl SkuInput {
    fn into_domain(self) -> DomainInput {
        let d = self.declaration.unwrap_or_default();
        DomainInput {
            code: self.code,
            name: self.name,
            declaration: DomainDeclaration {
                name_en: d.name_en.take(),
                name_cn: d.name_cn.take(),
                value_minor: d.value_minor.take(),
                currency: d.currency.take(),
                weight_grams: d.weight_grams.take(),
                hs_code: d.hs_code.take(),
                origin_country: d.origin_country.take(),
            },
            picking_info: self.picking_info,
        }
    }
}

/// Changes some fields of a SKU: a field left out is unchanged; null (or "") clears a
/// nullable one.
#[derive(InputObject)]
pub struct UpdateSkuInput {
    pub id: ID,
    /// A new code (cannot be cleared).
    pub code: Option<String>,
    pub name: MaybeUndefined<String>,
    pub declaration: Option<DeclarationInput>,
    pub picking_info: MaybeUndefined<String>,
}

#[derive(InputObject)]
pub struct BulkUpsertSkusInput {
    /// At most 1000 rows, matched to existing SKUs by code.
    pub skus: Vec<SkuInput>,
}

#[derive(InputObject)]
pub struct DeleteSkuInput {
    pub id: ID,
}

#[derive(InputObject, Default)]
pub struct SkuFilter {
    /// The code (exact or prefix) or the name (contains); any case.
    pub search: Option<String>,
    /// true: SKUs whose declaration lacks the English name, value or weight; false: complete ones.
    pub missing_declaration: Option<bool>,
}

#[derive(SimpleObject)]
pub struct SkuPayload {
    pub sku: Option<Sku>,
    pub user_errors: Vec<UserErrorObject>,
}

#[derive(SimpleObject)]
pub struct BulkUpsertSkusPayload {
    /// SKUs created (codes not in the catalogue before).
    pub created: u64,
    /// Existing SKUs replaced by their row.
    pub updated: u64,
    /// Problems of the skipped rows, at `["input", "skus", "<index>", <field…>]`.
    pub user_errors: Vec<UserErrorObject>,
}

#[derive(SimpleObject)]
pub struct DeleteSkuPayload {
    pub deleted_sku_id: Option<ID>,
    pub user_errors: Vec<UserErrorObject>,
}

#[derive(Default)]
pub struct SkuQuery;

#[Object]
impl SkuQuery {
    /// The organization's SKUs, newest first.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn skus(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<SkuFilter>,
    ) -> ApiResult<Conn<Sku>> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let f = filter.unwrap_or_default();
        let domain = DomainFilter { search: f.search, missing_declaration: f.missing_declaration };
        let args = page_args(ctx, first, after, s.settings.limits.page_size)?;
        let page = s.catalog.list(a.tenant(), &domain, args).await?;
        Ok(connection(page, |k| k.id, Sku))
    }

    async fn sku(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Sku> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        Ok(Sku(s.catalog.get(a.tenant(), decode(Kind::Sku, &id)?).await?))
    }
}

#[derive(Default)]
pub struct SkuMutation;

#[Object]
impl SkuMutation {
    /// Adds a SKU to the catalogue (code TAKEN if the organization has it already).
    async fn create_sku(&self, ctx: &Context<'_>, input: SkuInput) -> ApiResult<SkuPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let (sku, user_errors) = payload(s.catalog.create(a, input.into_domain()).await)?;
        Ok(SkuPayload { sku: sku.map(Sku), user_errors })
    }

    /// Changes a SKU's code, name, declaration or picking info.
    async fn update_sku(&self, ctx: &Context<'_>, input: UpdateSkuInput) -> ApiResult<SkuPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let id = decode(Kind::Sku, &input.id)?;
        let d = input.declaration.unwrap_or_default();
        let patch = SkuPatch {
            code: input.code,
            name: input.name.into(),
            decl_name_en: d.name_en.into(),
            decl_name_cn: d.name_cn.into(),
            decl_value_minor: d.value_minor.into(),
            decl_currency: d.currency.into(),
            weight_grams: d.weight_grams.into(),
            hs_code: d.hs_code.into(),
            origin_country: d.origin_country.into(),
            picking_info: input.picking_info.into(),
        };
        let (sku, user_errors) = payload(s.catalog.update(a, id, patch).await)?;
        Ok(SkuPayload { sku: sku.map(Sku), user_errors })
    }

    /// Creates or replaces up to 1000 SKUs by code in one transaction (a spreadsheet
    /// import). Each row replaces the SKU's name, declaration and picking info; invalid
    /// rows are skipped and reported in `userErrors`, the others are written.
    async fn bulk_upsert_skus(
        &self,
        ctx: &Context<'_>,
        input: BulkUpsertSkusInput,
    ) -> ApiResult<BulkUpsertSkusPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let rows = input.skus.into_iter().map(SkuInput::into_domain).collect();
        let (result, mut user_errors) = payload(s.catalog.bulk_upsert(a, rows).await)?;
        let result = result.unwrap_or_default();
        user_errors.extend(result.errors.into_iter().map(UserErrorObject::from));
        Ok(BulkUpsertSkusPayload { created: result.created, updated: result.updated, user_errors })
    }

    /// Deletes a SKU (IN_USE while open orders or inbound shipments use it).
    async fn delete_sku(&self, ctx: &Context<'_>, input: DeleteSkuInput) -> ApiResult<DeleteSkuPayload> {
        let s = services(ctx)?;
        let a = actor(ctx)?;
        let id = decode(Kind::Sku, &input.id)?;
        let (deleted, user_errors) = payload(s.catalog.delete(a, id).await)?;
        Ok(DeleteSkuPayload { deleted_sku_id: deleted.map(|d| encode(Kind::Sku, d)), user_errors })
    }
}
