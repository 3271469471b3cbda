//! OrangeConnex services → channels (seed 003 §2-4): `getServiceList` becomes tenant
//! channels with provider ORANGECONNEX, the service code and OC's region code (`UK`,
//! `US-East`…), bound to the warehouse account; their destinations are ISO countries (a UK
//! service ships to GB, see [`super::regions`]). Re-running updates names, regions and
//! destinations (a channel the tenant switched off stays off; channels synced when regions
//! were stored as countries are matched and corrected); services OC no longer lists are
//! deactivated (never deleted: orders may point at them).

use chrono::Utc;
use entity::{
    channel,
    enums::{AddressPolicy, ChannelProvider, TrackingSource},
};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::{Warehouse, regions};
use crate::{
    auth::Actor,
    db::begin_write,
    domain::audit::{self, By, Change},
    error::{DomainError, DomainResult},
};

/// Countries a European OC region's "International" services reach (EU + UK; OC's list is
/// not public, so this is the conservative set its pan-European product names).
const EUROPE: [&str; 28] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GB", "GR", "HR", "HU", "IE", "IT", "LT", "LU",
    "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// The ISO destination countries of a service in OC region `region`: the region's country
/// for domestic services; Europe for the international services of a European region
/// (`DEIntStd_…`, `GBInternationalStandard`); the region's country alone for other
/// international services (OC does not publish their reach).
pub fn destinations(region: &str, code: &str) -> Vec<String> {
    let Some(country) = regions::country_of(region) else { return Vec::new() };
    let lower = code.to_ascii_lowercase();
    let international = lower.contains("international") || lower.contains("intstd") || lower.contains("int_");
    if international && EUROPE.contains(&country) {
        EUROPE.iter().map(|c| (*c).to_owned()).collect()
    } else {
        vec![country.to_owned()]
    }
}

/// The channel code of a service: `OC-{service}`, with the region when the service's
/// country has several OC regions (`OC-USDomesticStandard-US-East`, `OC-AU_PFLOnly-AU-MEL`).
pub fn channel_code(region: &str, service: &str) -> String {
    let several = regions::country_of(region).is_some_and(|c| regions::regions_of_country(c).len() > 1);
    if several { format!("OC-{service}-{region}") } else { format!("OC-{service}") }
}

impl Warehouse {
    /// `syncWarehouseServices`: the tenant's ORANGECONNEX channels, one per service.
    pub async fn sync_services(&self, actor: &Actor, account_id: Uuid) -> DomainResult<Vec<channel::Model>> {
        actor.require(entity::enums::Role::Admin)?;
        let org = actor.tenant().id();
        let acc = self.account(actor.tenant(), account_id).await?;
        let services = self
            .call(acc.id, |c, token| async move { c.services(&token).await })
            .await
            .map_err(|e| e.into_domain(&["input", "accountId"]))?;
        let now = Utc::now();
        let txn = begin_write(&self.db).await?;
        let existing = channel::Entity::find()
            .filter(channel::Column::OrganizationId.eq(org))
            .filter(channel::Column::Provider.eq(ChannelProvider::Orangeconnex))
            .filter(channel::Column::WarehouseAccountId.eq(acc.id))
            .all(&txn)
            .await?;
        let mut changes = Vec::new();
        let mut ids = Vec::new();
        for s in &services {
            // OC's spelling of its region (a legacy `GB` read as `UK`).
            let region = regions::normalise(&s.region);
            if regions::oc_region(&region).is_none() {
                tracing::warn!(region = %s.region, service = %s.code, "OrangeConnex service in an unknown region");
            }
            let code = channel_code(&region, &s.code);
            let name = format!("OrangeConnex {} ({region})", s.name);
            let dest = serde_json::json!(destinations(&region, &s.code));
            let model = match existing.iter().find(|c| {
                c.service_code.as_deref() == Some(s.code.as_str())
                    && c.region.as_deref().map(regions::normalise).as_deref() == Some(region.as_str())
            }) {
                // Names, region spelling and reach follow OC; whether it is offered stays the
                // tenant's choice.
                Some(c) => {
                    let mut a: channel::ActiveModel = c.clone().into();
                    a.name = Set(name);
                    a.region = Set(Some(region.clone()));
                    a.destination_countries = Set(dest);
                    a.updated_at = Set(now);
                    a.update(&txn).await?
                }
                None => {
                    // Another channel of the tenant may hold the code (a second OC account).
                    let taken = channel::Entity::find()
                        .filter(channel::Column::OrganizationId.eq(org))
                        .filter(channel::Column::Code.eq(&code))
                        .one(&txn)
                        .await?
                        .is_some();
                    let code = if taken { format!("{code}-{}", &acc.id.simple().to_string()[24..]) } else { code };
                    let m = channel::ActiveModel {
                        id: Set(Uuid::now_v7()),
                        organization_id: Set(Some(org)),
                        code: Set(code),
                        name: Set(name),
                        provider: Set(ChannelProvider::Orangeconnex),
                        destination_countries: Set(dest),
                        max_weight_grams: Set(None),
                        max_value_minor: Set(None),
                        value_currency: Set(None),
                        required_fields: Set(serde_json::json!([])),
                        address_policy: Set(AddressPolicy::AsIs),
                        tracking_source: Set(TrackingSource::Provider),
                        tracking_prefix: Set(None),
                        tracking_suffix: Set(None),
                        range_start: Set(None),
                        range_end: Set(None),
                        range_next: Set(None),
                        service_code: Set(Some(s.code.clone())),
                        region: Set(Some(region.clone())),
                        warehouse_account_id: Set(Some(acc.id)),
                        active: Set(true),
                        // consigneeAddress1 ≤ 200 [D].
                        address_line_max: Set(Some(200)),
                        created_at: Set(now),
                        updated_at: Set(now),
                    }
                    .insert(&txn)
                    .await
                    .map_err(|e| {
                        DomainError::unique_or(e, DomainError::Conflict("channels changed meanwhile; try again".into()))
                    })?;
                    changes.push(Change {
                        action: "channel.created",
                        entity_type: "Channel",
                        entity_id: Some(m.id),
                        data: Some(serde_json::json!({ "code": m.code, "serviceCode": s.code, "region": region })),
                    });
                    m
                }
            };
            ids.push(model.id);
        }
        for c in existing.iter().filter(|c| c.active && !ids.contains(&c.id)) {
            let mut a: channel::ActiveModel = c.clone().into();
            a.active = Set(false);
            a.updated_at = Set(now);
            a.update(&txn).await?;
            changes.push(Change {
                action: "channel.deactivated",
                entity_type: "Channel",
                entity_id: Some(c.id),
                data: Some(serde_json::json!({ "reason": "OrangeConnex no longer lists the service" })),
            });
        }
        let events = audit::record_many(&txn, org, By::Actor(actor), changes).await?;
        txn.commit().await?;
        self.bus.publish_all(events);
        let mut out = channel::Entity::find()
            .filter(channel::Column::OrganizationId.eq(org))
            .filter(channel::Column::WarehouseAccountId.eq(acc.id))
            .all(&self.db)
            .await?;
        out.sort_by(|a, b| a.code.cmp(&b.code));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::{channel_code, destinations};

    #[test]
    fn service_destinations() {
        // OC's UK region ships to the ISO country GB.
        assert_eq!(destinations("UK", "GBDomesticStandard"), vec!["GB"]);
        assert_eq!(destinations("GB", "GBDomesticStandard"), vec!["GB"]);
        assert_eq!(destinations("DE", "DEDomesticEconomy"), vec!["DE"]);
        assert_eq!(destinations("AU-MEL", "AU_PFLOnly"), vec!["AU"]);
        assert_eq!(destinations("US-East", "USDomesticStandard"), vec!["US"]);
        assert_eq!(destinations("US-West", "USInternationalStandard"), vec!["US"]);
        for (region, code) in
            [("DE", "DEInternationalStandard"), ("DE", "DEIntStd_GLSOnly"), ("UK", "GBInternationalStandard")]
        {
            let intl = destinations(region, code);
            assert!(
                intl.contains(&"FR".to_owned()) && intl.contains(&"DE".to_owned()) && intl.contains(&"GB".to_owned())
            );
        }
        assert!(destinations("Mars", "MarsDomestic").is_empty());
    }

    #[test]
    fn channel_codes() {
        assert_eq!(channel_code("UK", "GBDomesticStandard"), "OC-GBDomesticStandard");
        assert_eq!(channel_code("DE", "DEDomesticStandard"), "OC-DEDomesticStandard");
        assert_eq!(channel_code("US-East", "USDomesticStandard"), "OC-USDomesticStandard-US-East");
        assert_eq!(channel_code("AU-MEL", "AU_PFLOnly"), "OC-AU_PFLOnly-AU-MEL");
        assert_eq!(channel_code("AU", "AU_PFLOnly"), "OC-AU_PFLOnly-AU");
    }
}
