//! Reading orders (tenant-scoped) and requesting downloads.

use chrono::{DateTime, Utc};
use entity::{
    account,
    enums::{AccountStatus, FulfillmentStatus, Platform},
    job, order, order_item,
};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait};
use uuid::Uuid;

use super::download::{DownloadPayload, JOB_KIND};
use crate::{
    auth::{Actor, Tenant},
    domain::{
        audit::{self, By},
        pagination::{self, Page, PageArgs},
        validate,
    },
    error::{DomainError, DomainResult, UserError, UserErrorCode},
    events::EventBus,
    jobs::{NewJob, queue},
};

#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    /// The platform's own order status, exactly as the platform sends it.
    pub platform_status: Option<String>,
    pub fulfillment_status: Option<Vec<FulfillmentStatus>>,
    pub platform: Option<Platform>,
    pub account_id: Option<Uuid>,
    pub channel_id: Option<Uuid>,
    pub destination_country: Option<String>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    /// Matches the platform order id, recipient name or tracking number (prefix/contains).
    pub search: Option<String>,
}

#[derive(Clone)]
pub struct Orders {
    db: DatabaseConnection,
    bus: EventBus,
}

impl Orders {
    pub fn new(db: DatabaseConnection, bus: EventBus) -> Self {
        Self { db, bus }
    }

    pub async fn list(&self, tenant: Tenant, f: &OrderFilter, args: PageArgs) -> DomainResult<Page<order::Model>> {
        let mut q = order::Entity::find().filter(order::Column::OrganizationId.eq(tenant.id()));
        if let Some(s) = &f.platform_status {
            q = q.filter(order::Column::PlatformStatus.eq(s.as_str()));
        }
        if let Some(s) = &f.fulfillment_status {
            q = q.filter(order::Column::FulfillmentStatus.is_in(s.iter().copied()));
        }
        if let Some(p) = f.platform {
            q = q.filter(order::Column::Platform.eq(p));
        }
        if let Some(a) = f.account_id {
            q = q.filter(order::Column::AccountId.eq(a));
        }
        if let Some(c) = f.channel_id {
            q = q.filter(order::Column::ChannelId.eq(c));
        }
        if let Some(c) = &f.destination_country {
            q = q.filter(order::Column::CountryCode.eq(c.to_uppercase()));
        }
        if let Some(t) = validate::instant(f.created_from, "createdFrom")? {
            q = q.filter(order::Column::CreatedAt.gte(t));
        }
        if let Some(t) = validate::instant(f.created_to, "createdTo")? {
            q = q.filter(order::Column::CreatedAt.lt(t));
        }
        if let Some(s) = f.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            q = q.filter(
                Condition::any()
                    .add(order::Column::PlatformOrderId.eq(s))
                    .add(order::Column::TrackingNumber.eq(s))
                    .add(order::Column::RecipientName.contains(s)),
            );
        }
        pagination::fetch(&self.db, q, order::Column::Id, args).await
    }

    pub async fn get(&self, tenant: Tenant, id: Uuid) -> DomainResult<order::Model> {
        order::Entity::find_by_id(id)
            .filter(order::Column::OrganizationId.eq(tenant.id()))
            .one(&self.db)
            .await?
            .ok_or(DomainError::NotFound)
    }

    pub async fn by_ids(&self, tenant: Tenant, ids: &[Uuid]) -> DomainResult<Vec<order::Model>> {
        Ok(order::Entity::find()
            .filter(order::Column::OrganizationId.eq(tenant.id()))
            .filter(order::Column::Id.is_in(ids.iter().copied()))
            .all(&self.db)
            .await?)
    }

    /// Lines of many orders in one query (for the loader).
    pub async fn items_of(&self, tenant: Tenant, order_ids: &[Uuid]) -> DomainResult<Vec<order_item::Model>> {
        Ok(order_item::Entity::find()
            .filter(order_item::Column::OrganizationId.eq(tenant.id()))
            .filter(order_item::Column::OrderId.is_in(order_ids.iter().copied()))
            .all(&self.db)
            .await?)
    }

    /// Enqueues one download job per account (an account already downloading gets its
    /// running job back, not a second one).
    pub async fn request_download(
        &self,
        actor: &Actor,
        account_ids: &[Uuid],
        since: Option<DateTime<Utc>>,
    ) -> DomainResult<Vec<job::Model>> {
        actor.require_write()?;
        if account_ids.is_empty() || account_ids.len() > 100 {
            return Err(DomainError::user(
                UserErrorCode::Invalid,
                &["input", "accountIds"],
                "Give between 1 and 100 accounts.",
            ));
        }
        let org = actor.tenant().id();
        let accounts = account::Entity::find()
            .filter(account::Column::OrganizationId.eq(org))
            .filter(account::Column::Id.is_in(account_ids.iter().copied()))
            .all(&self.db)
            .await?;
        if accounts.len() != account_ids.iter().collect::<std::collections::HashSet<_>>().len() {
            return Err(DomainError::NotFound);
        }
        let errors: Vec<UserError> = accounts
            .iter()
            .filter(|a| a.status != AccountStatus::Active)
            .map(|a| {
                UserError::new(
                    UserErrorCode::InvalidState,
                    &["input", "accountIds"],
                    format!("Account \"{}\" is not active ({:?}).", a.name, a.status),
                )
            })
            .collect();
        if !errors.is_empty() {
            return Err(DomainError::User(errors));
        }
        let txn = self.db.begin().await?;
        let mut jobs = Vec::new();
        let mut events = Vec::new();
        for a in &accounts {
            let payload =
                serde_json::to_value(DownloadPayload { account_id: a.id, since }).map_err(DomainError::internal)?;
            let (job, created) =
                queue::enqueue(&txn, NewJob::new(JOB_KIND, Some(org), payload).key(format!("{JOB_KIND}:{}", a.id)))
                    .await?;
            if created {
                events.push(
                    audit::record(
                        &txn,
                        org,
                        By::Actor(actor),
                        "orders.download_requested",
                        "Job",
                        Some(job.id),
                        Some(serde_json::json!({ "accountId": a.id })),
                    )
                    .await?,
                );
            }
            jobs.push(job);
        }
        txn.commit().await?;
        self.bus.publish_all(events);
        Ok(jobs)
    }

    pub async fn update_recipient(
        &self,
        actor: &Actor,
        order_id: Uuid,
        r: super::edit::RecipientEdit,
    ) -> DomainResult<order::Model> {
        super::edit::update_recipient(&self.db, &self.bus, actor, order_id, r).await
    }

    pub async fn update_item_sku(&self, actor: &Actor, item_id: Uuid, sku_code: &str) -> DomainResult<order::Model> {
        super::edit::update_item_sku(&self.db, &self.bus, actor, item_id, sku_code).await
    }

    pub async fn sync_skus_from_orders(&self, actor: &Actor) -> DomainResult<super::edit::SkuSync> {
        super::edit::sync_skus_from_orders(&self.db, &self.bus, actor).await
    }

    /// The active (not cancelled) waybill of each order (for the loader).
    pub async fn active_waybills_of(
        &self,
        tenant: Tenant,
        order_ids: &[Uuid],
    ) -> DomainResult<Vec<entity::waybill::Model>> {
        Ok(entity::waybill::Entity::find()
            .filter(entity::waybill::Column::OrganizationId.eq(tenant.id()))
            .filter(entity::waybill::Column::OrderId.is_in(order_ids.iter().copied()))
            .filter(entity::waybill::Column::Status.ne(entity::enums::WaybillStatus::Cancelled))
            .all(&self.db)
            .await?)
    }

    /// Catalogue SKUs by id (for the loader).
    pub async fn skus_by_ids(&self, tenant: Tenant, ids: &[Uuid]) -> DomainResult<Vec<entity::sku::Model>> {
        Ok(entity::sku::Entity::find()
            .filter(entity::sku::Column::OrganizationId.eq(tenant.id()))
            .filter(entity::sku::Column::Id.is_in(ids.iter().copied()))
            .all(&self.db)
            .await?)
    }

    pub async fn job(&self, tenant: Tenant, id: Uuid) -> DomainResult<job::Model> {
        job::Entity::find_by_id(id)
            .filter(job::Column::OrganizationId.eq(tenant.id()))
            .one(&self.db)
            .await?
            .ok_or(DomainError::NotFound)
    }
}
