//! Label templates (打印模板): the built-in global ones every tenant sees, plus templates
//! the logistics company's staff add for everyone or a tenant's ADMIN adds for itself.

use chrono::Utc;
use entity::label_template;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::Labels;
use crate::{
    auth::{Actor, Tenant},
    db::begin_write,
    domain::audit::{self, By},
    error::{DomainError, DomainResult, UserError, UserErrorCode},
    labels::layout::{self, Block, Layout},
};

#[derive(Debug, Clone)]
pub struct TemplateInput {
    pub code: String,
    pub name: String,
    pub global: bool,
    pub width_mm: i32,
    pub height_mm: i32,
    pub blocks: Vec<Block>,
}

/// A partial update; `None` leaves a field unchanged.
#[derive(Debug, Clone, Default)]
pub struct TemplatePatch {
    pub name: Option<String>,
    pub width_mm: Option<i32>,
    pub height_mm: Option<i32>,
    pub blocks: Option<Vec<Block>>,
}

/// The layout a stored template describes (`None` if its blocks cannot be read).
pub fn layout_of(t: &label_template::Model) -> Option<Layout> {
    Some(Layout {
        width_mm: t.page_width_mm as f32,
        height_mm: t.page_height_mm as f32,
        blocks: serde_json::from_value(t.layout.clone()).ok()?,
    })
}

/// The layout to print with: readable and valid, else a typed error on `templateId`.
pub fn printable_layout(t: &label_template::Model) -> DomainResult<Layout> {
    layout_of(t).filter(|l| layout::validate(l).is_empty()).ok_or_else(|| {
        DomainError::user(
            UserErrorCode::Invalid,
            &["input", "templateId"],
            "This template's layout is not valid: fix it with updateLabelTemplate.",
        )
    })
}

fn visible_to(org: Uuid) -> Condition {
    crate::domain::global_or_own(label_template::Column::OrganizationId, org)
}

fn check(layout: &Layout, name: Option<&str>, code: Option<&str>) -> Vec<UserError> {
    let mut errors: Vec<UserError> = layout::validate(layout)
        .into_iter()
        .map(|p| {
            let mut path: Vec<&str> = vec!["input"];
            path.extend(p.path.iter().map(String::as_str));
            UserError::new(UserErrorCode::Invalid, &path, p.message)
        })
        .collect();
    if name.is_some_and(|n| n.is_empty() || n.chars().count() > 200) {
        errors.push(UserError::new(
            UserErrorCode::Required,
            &["input", "name"],
            "Give a name of at most 200 characters.",
        ));
    }
    if code.is_some_and(|c| {
        c.is_empty() || c.len() > 64 || !c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }) {
        errors.push(UserError::new(
            UserErrorCode::Invalid,
            &["input", "code"],
            "Use 1-64 letters, digits, '-' or '_'.",
        ));
    }
    errors
}

/// Inserts the built-in templates that are missing (at every start; a concurrent start
/// that wins the race is fine).
pub async fn ensure_builtin(db: &DatabaseConnection) -> DomainResult<()> {
    let existing: Vec<String> = label_template::Entity::find()
        .filter(label_template::Column::OrganizationId.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|t| t.code)
        .collect();
    let now = Utc::now();
    for b in layout::builtin() {
        if existing.iter().any(|c| c == b.code) {
            continue;
        }
        let res = label_template::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(None),
            code: Set(b.code.to_owned()),
            name: Set(b.name.to_owned()),
            page_width_mm: Set(b.layout.width_mm as i32),
            page_height_mm: Set(b.layout.height_mm as i32),
            layout: Set(serde_json::to_value(&b.layout.blocks).map_err(DomainError::internal)?),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(db)
        .await;
        if let Err(e) = res {
            match DomainError::unique_or(e, DomainError::Conflict(String::new())) {
                DomainError::Conflict(_) => {}
                other => return Err(other),
            }
        }
    }
    Ok(())
}

pub(super) async fn find_visible(
    db: &impl ConnectionTrait,
    org: Uuid,
    id: Uuid,
) -> DomainResult<Option<label_template::Model>> {
    Ok(label_template::Entity::find_by_id(id).filter(visible_to(org)).one(db).await?)
}

impl Labels {
    /// The global templates and the tenant's own, by code.
    pub async fn templates(&self, tenant: Tenant) -> DomainResult<Vec<label_template::Model>> {
        Ok(label_template::Entity::find()
            .filter(visible_to(tenant.id()))
            .order_by_asc(label_template::Column::Code)
            .limit(500)
            .all(&self.db)
            .await?)
    }

    pub async fn template(&self, tenant: Tenant, id: Uuid) -> DomainResult<label_template::Model> {
        find_visible(&self.db, tenant.id(), id).await?.ok_or(DomainError::NotFound)
    }

    pub async fn create_template(&self, actor: &Actor, input: TemplateInput) -> DomainResult<label_template::Model> {
        let org = if input.global { None } else { Some(actor.tenant().id()) };
        actor.require_manager_of(org)?;
        let code = input.code.trim().to_uppercase();
        let name = input.name.trim().to_owned();
        let layout =
            Layout { width_mm: input.width_mm as f32, height_mm: input.height_mm as f32, blocks: input.blocks };
        let errors = check(&layout, Some(&name), Some(&code));
        if !errors.is_empty() {
            return Err(DomainError::User(errors));
        }
        let taken = || DomainError::user(UserErrorCode::Taken, &["input", "code"], "A template has this code.");
        let txn = begin_write(&self.db).await?;
        let exists = label_template::Entity::find()
            .filter(label_template::Column::Code.eq(&code))
            .filter(match org {
                Some(o) => label_template::Column::OrganizationId.eq(o),
                None => label_template::Column::OrganizationId.is_null(),
            })
            .one(&txn)
            .await?
            .is_some();
        if exists {
            return Err(taken());
        }
        let now = Utc::now();
        let model = label_template::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(org),
            code: Set(code),
            name: Set(name),
            page_width_mm: Set(input.width_mm),
            page_height_mm: Set(input.height_mm),
            layout: Set(serde_json::to_value(&layout.blocks).map_err(DomainError::internal)?),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(|e| DomainError::unique_or(e, taken()))?;
        let event = audit::record(
            &txn,
            actor.tenant().id(),
            By::Actor(actor),
            "label_template.created",
            "LabelTemplate",
            Some(model.id),
            Some(serde_json::json!({ "code": model.code, "global": org.is_none() })),
        )
        .await?;
        txn.commit().await?;
        self.bus.publish_all([event]);
        Ok(model)
    }

    pub async fn update_template(
        &self,
        actor: &Actor,
        id: Uuid,
        p: TemplatePatch,
    ) -> DomainResult<label_template::Model> {
        let txn = begin_write(&self.db).await?;
        let t = label_template::Entity::find_by_id(id)
            .filter(visible_to(actor.tenant().id()))
            .lock_exclusive()
            .one(&txn)
            .await?
            .ok_or(DomainError::NotFound)?;
        actor.require_manager_of(t.organization_id)?;
        let current = layout_of(&t).unwrap_or(Layout { width_mm: 0.0, height_mm: 0.0, blocks: Vec::new() });
        let layout = Layout {
            width_mm: p.width_mm.map_or(current.width_mm, |w| w as f32),
            height_mm: p.height_mm.map_or(current.height_mm, |h| h as f32),
            blocks: p.blocks.unwrap_or(current.blocks),
        };
        let name = p.name.map(|n| n.trim().to_owned());
        let errors = check(&layout, name.as_deref(), None);
        if !errors.is_empty() {
            return Err(DomainError::User(errors));
        }
        let mut a: label_template::ActiveModel = t.into();
        if let Some(n) = name {
            a.name = Set(n);
        }
        a.page_width_mm = Set(layout.width_mm as i32);
        a.page_height_mm = Set(layout.height_mm as i32);
        a.layout = Set(serde_json::to_value(&layout.blocks).map_err(DomainError::internal)?);
        a.updated_at = Set(Utc::now());
        let model = a.update(&txn).await?;
        let event = audit::record(
            &txn,
            actor.tenant().id(),
            By::Actor(actor),
            "label_template.updated",
            "LabelTemplate",
            Some(model.id),
            Some(serde_json::json!({ "code": model.code })),
        )
        .await?;
        txn.commit().await?;
        self.bus.publish_all([event]);
        Ok(model)
    }
}
