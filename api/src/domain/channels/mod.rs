//! Shipping channels (货运渠道): where a channel ships, its weight and value limits, the
//! declaration and address fields its carrier needs, how addresses are normalised and
//! where tracking numbers come from. The logistics company's staff manage the global
//! channels every tenant sees; a tenant's ADMIN manages its own.

pub mod carriers;
pub mod s10;

use chrono::Utc;
use entity::{
    channel,
    enums::{AddressPolicy, ChannelProvider, TrackingSource},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
    sea_query::{Expr, ExprTrait},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    auth::{Actor, Tenant},
    db::begin_write,
    domain::audit::{self, By},
    error::{DomainError, DomainResult, UserError, UserErrorCode},
    events::EventBus,
};

/// Fields a channel's carrier requires beyond the basics (name, line 1, city, country,
/// and a declaration with English name, value and weight for every line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RequiredField {
    DeclarationNameCn,
    HsCode,
    OriginCountry,
    RecipientPhone,
    RecipientEmail,
    RecipientPostalCode,
    RecipientState,
}

impl RequiredField {
    pub fn label(self) -> &'static str {
        match self {
            Self::DeclarationNameCn => "Chinese declared name",
            Self::HsCode => "HS code",
            Self::OriginCountry => "origin country",
            Self::RecipientPhone => "recipient phone",
            Self::RecipientEmail => "recipient email",
            Self::RecipientPostalCode => "postal code",
            Self::RecipientState => "state/province",
        }
    }
}

/// The fields of a channel read as typed values.
pub fn required_fields(c: &channel::Model) -> Vec<RequiredField> {
    serde_json::from_value(c.required_fields.clone()).unwrap_or_default()
}

/// Destination countries (ISO alpha-2); empty means every country.
pub fn destinations(c: &channel::Model) -> Vec<String> {
    serde_json::from_value(c.destination_countries.clone()).unwrap_or_default()
}

#[derive(Debug, Clone)]
pub struct TrackingRange {
    /// S10 service indicator, e.g. `RR` (registered), `LX`, `EE`.
    pub prefix: String,
    /// Country code of the issuing post, e.g. `CN`.
    pub suffix: String,
    pub start: i64,
    pub end: i64,
}

#[derive(Debug, Clone)]
pub struct ChannelInput {
    pub code: String,
    pub name: String,
    pub global: bool,
    pub destination_countries: Vec<String>,
    pub max_weight_grams: Option<i32>,
    pub max_value_minor: Option<i64>,
    pub value_currency: Option<String>,
    pub required_fields: Vec<RequiredField>,
    pub address_policy: AddressPolicy,
    pub address_line_max: Option<i32>,
    pub tracking_range: Option<TrackingRange>,
    pub active: bool,
}

/// A partial update; `None` leaves a field unchanged.
#[derive(Debug, Clone, Default)]
pub struct ChannelPatch {
    pub name: Option<String>,
    pub destination_countries: Option<Vec<String>>,
    /// `Some(None)` removes the limit.
    pub max_weight_grams: Option<Option<i32>>,
    pub max_value_minor: Option<Option<i64>>,
    pub value_currency: Option<Option<String>>,
    pub required_fields: Option<Vec<RequiredField>>,
    pub address_policy: Option<AddressPolicy>,
    pub address_line_max: Option<Option<i32>>,
    /// Extends the range's end (a range can grow, never shrink below what was issued).
    pub range_end: Option<i64>,
    pub active: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct ChannelFilter {
    pub provider: Option<ChannelProvider>,
    pub active: Option<bool>,
    /// Only channels that ship to this country.
    pub destination_country: Option<String>,
}

#[derive(Clone)]
pub struct Channels {
    db: DatabaseConnection,
    bus: EventBus,
}

fn err(code: UserErrorCode, field: &str, msg: impl Into<String>) -> UserError {
    UserError::new(code, &["input", field], msg)
}

fn country_list(raw: &[String], errors: &mut Vec<UserError>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in raw {
        let c = c.trim().to_uppercase();
        if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
            errors.push(err(
                UserErrorCode::Invalid,
                "destinationCountries",
                format!("{c:?} is not a two-letter ISO country code."),
            ));
        } else if !out.contains(&c) {
            out.push(c);
        }
    }
    out.sort();
    out
}

fn check_limits(
    weight: Option<i32>,
    value: Option<i64>,
    currency: Option<&str>,
    line_max: Option<i32>,
    errors: &mut Vec<UserError>,
) {
    if weight.is_some_and(|w| w <= 0) {
        errors.push(err(UserErrorCode::Invalid, "maxWeightGrams", "Must be positive."));
    }
    if value.is_some_and(|v| v <= 0) {
        errors.push(err(UserErrorCode::Invalid, "maxValueMinor", "Must be positive."));
    }
    if value.is_some() && currency.is_none() {
        errors.push(err(UserErrorCode::Required, "valueCurrency", "A value limit needs its currency."));
    }
    if currency.is_some_and(|c| c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase())) {
        errors.push(err(UserErrorCode::Invalid, "valueCurrency", "Use a three-letter ISO currency code."));
    }
    if line_max.is_some_and(|m| !(10..=500).contains(&m)) {
        errors.push(err(UserErrorCode::Invalid, "addressLineMax", "Must be between 10 and 500."));
    }
}

/// Checks a new channel's input (pure).
pub fn validate(input: &ChannelInput) -> Result<ChannelInput, Vec<UserError>> {
    let mut errors = Vec::new();
    let code = input.code.trim().to_uppercase();
    if code.is_empty() || code.len() > 64 || !code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        errors.push(err(UserErrorCode::Invalid, "code", "Use 1-64 letters, digits, '-' or '_'."));
    }
    let name = input.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 {
        errors.push(err(UserErrorCode::Required, "name", "Give a name of at most 200 characters."));
    }
    let countries = country_list(&input.destination_countries, &mut errors);
    let currency = input.value_currency.as_ref().map(|c| c.trim().to_uppercase()).filter(|c| !c.is_empty());
    check_limits(
        input.max_weight_grams,
        input.max_value_minor,
        currency.as_deref(),
        input.address_line_max,
        &mut errors,
    );
    let range = input.tracking_range.as_ref().map(|r| TrackingRange {
        prefix: r.prefix.trim().to_uppercase(),
        suffix: r.suffix.trim().to_uppercase(),
        start: r.start,
        end: r.end,
    });
    match &range {
        None => errors.push(err(
            UserErrorCode::Required,
            "trackingRange",
            "A NETWORK channel allocates tracking numbers from a range: give one.",
        )),
        Some(r) => {
            if s10::format(&r.prefix, Ord::max(r.start, 0), &r.suffix).is_none() {
                errors.push(err(
                    UserErrorCode::Invalid,
                    "trackingRange",
                    "Prefix and suffix are two capital letters each (e.g. RR … CN).",
                ));
            }
            if r.start < 0 || r.end > s10::MAX_SERIAL || r.start > r.end {
                errors.push(err(
                    UserErrorCode::Invalid,
                    "trackingRange",
                    format!("Serials run from start to end within 0..={}.", s10::MAX_SERIAL),
                ));
            }
        }
    }
    if errors.is_empty() {
        Ok(ChannelInput {
            code,
            name,
            destination_countries: countries,
            value_currency: currency,
            tracking_range: range,
            ..input.clone()
        })
    } else {
        Err(errors)
    }
}

/// The channels a tenant may see and use: its own and the global ones.
pub fn visible_to(org: Uuid) -> Condition {
    crate::domain::global_or_own(channel::Column::OrganizationId, org)
}

/// Channels among `ids` that `org` may use, by id.
pub async fn by_ids(
    db: &impl ConnectionTrait,
    org: Uuid,
    ids: &[Uuid],
) -> DomainResult<std::collections::HashMap<Uuid, channel::Model>> {
    let mut out = std::collections::HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let rows = channel::Entity::find()
            .filter(channel::Column::Id.is_in(chunk.iter().copied()))
            .filter(visible_to(org))
            .all(db)
            .await?;
        out.extend(rows.into_iter().map(|c| (c.id, c)));
    }
    Ok(out)
}

/// Allocates `n` consecutive serials from a NETWORK channel's range in one statement (the
/// row lock serialises concurrent allocators, so a serial is never issued twice). Returns
/// fewer than `n` when the range runs out.
pub async fn allocate(db: &impl ConnectionTrait, channel_id: Uuid, n: i64) -> DomainResult<Vec<i64>> {
    if n <= 0 {
        return Ok(Vec::new());
    }
    let c = channel::Entity::find_by_id(channel_id).one(db).await?.ok_or(DomainError::NotFound)?;
    let (Some(next), Some(end)) = (c.range_next, c.range_end) else { return Ok(Vec::new()) };
    let take = Ord::max(Ord::min(n, end - next + 1), 0);
    if take == 0 {
        return Ok(Vec::new());
    }
    let updated = channel::Entity::update_many()
        .col_expr(channel::Column::RangeNext, Expr::col(channel::Column::RangeNext).add(take))
        .filter(channel::Column::Id.eq(channel_id))
        .filter(Expr::col(channel::Column::RangeNext).add(take - 1).lte(Expr::col(channel::Column::RangeEnd)))
        .exec_with_returning(db)
        .await?;
    let Some(after) = updated.into_iter().next().and_then(|c| c.range_next) else {
        // Someone else took numbers meanwhile (only possible without a row lock): retry once
        // with what is left.
        return Box::pin(allocate(db, channel_id, n)).await;
    };
    Ok(((after - take)..after).collect())
}

impl Channels {
    pub fn new(db: DatabaseConnection, bus: EventBus) -> Self {
        Self { db, bus }
    }

    /// The tenant's channels and the global ones, by code.
    pub async fn list(&self, tenant: Tenant, f: &ChannelFilter) -> DomainResult<Vec<channel::Model>> {
        let mut q = channel::Entity::find().filter(visible_to(tenant.id()));
        if let Some(p) = f.provider {
            q = q.filter(channel::Column::Provider.eq(p));
        }
        if let Some(a) = f.active {
            q = q.filter(channel::Column::Active.eq(a));
        }
        let mut rows = q.order_by_asc(channel::Column::Code).limit(1000).all(&self.db).await?;
        if let Some(c) = f.destination_country.as_deref().map(|c| c.trim().to_uppercase()) {
            rows.retain(|ch| {
                let d = destinations(ch);
                d.is_empty() || d.contains(&c)
            });
        }
        Ok(rows)
    }

    pub async fn get(&self, tenant: Tenant, id: Uuid) -> DomainResult<channel::Model> {
        let mut found = by_ids(&self.db, tenant.id(), &[id]).await?;
        found.remove(&id).ok_or(DomainError::NotFound)
    }

    /// Channels by id that the tenant may use (for the loader).
    pub async fn by_ids(&self, tenant: Tenant, ids: &[Uuid]) -> DomainResult<Vec<channel::Model>> {
        Ok(by_ids(&self.db, tenant.id(), ids).await?.into_values().collect())
    }

    pub async fn create(&self, actor: &Actor, input: ChannelInput) -> DomainResult<channel::Model> {
        let org = if input.global { None } else { Some(actor.tenant().id()) };
        actor.require_manager_of(org)?;
        let input = validate(&input).map_err(DomainError::User)?;
        let txn = begin_write(&self.db).await?;
        let taken = channel::Entity::find()
            .filter(channel::Column::Code.eq(&input.code))
            .filter(match org {
                Some(o) => channel::Column::OrganizationId.eq(o),
                None => channel::Column::OrganizationId.is_null(),
            })
            .one(&txn)
            .await?
            .is_some();
        if taken {
            return Err(DomainError::user(UserErrorCode::Taken, &["input", "code"], "A channel has this code."));
        }
        let model = insert(&txn, org, &input).await.map_err(|e| {
            DomainError::unique_or(
                e,
                DomainError::user(UserErrorCode::Taken, &["input", "code"], "A channel has this code."),
            )
        })?;
        let event = audit::record(
            &txn,
            actor.tenant().id(),
            By::Actor(actor),
            "channel.created",
            "Channel",
            Some(model.id),
            Some(serde_json::json!({ "code": model.code, "global": org.is_none() })),
        )
        .await?;
        txn.commit().await?;
        self.bus.publish_all([event]);
        Ok(model)
    }

    pub async fn update(&self, actor: &Actor, id: Uuid, p: ChannelPatch) -> DomainResult<channel::Model> {
        let txn = begin_write(&self.db).await?;
        let c = channel::Entity::find_by_id(id)
            .filter(visible_to(actor.tenant().id()))
            .lock_exclusive()
            .one(&txn)
            .await?
            .ok_or(DomainError::NotFound)?;
        actor.require_manager_of(c.organization_id)?;
        let mut errors = Vec::new();
        let countries = p.destination_countries.as_ref().map(|d| country_list(d, &mut errors));
        let currency = p.value_currency.clone().map(|c| c.map(|c| c.trim().to_uppercase()).filter(|c| !c.is_empty()));
        let weight = p.max_weight_grams.unwrap_or(c.max_weight_grams);
        let value = p.max_value_minor.unwrap_or(c.max_value_minor);
        let cur = currency.clone().unwrap_or(c.value_currency.clone());
        let line_max = p.address_line_max.unwrap_or(c.address_line_max);
        check_limits(weight, value, cur.as_deref(), line_max, &mut errors);
        let name = p.name.as_ref().map(|n| n.trim().to_owned());
        if name.as_ref().is_some_and(|n| n.is_empty() || n.chars().count() > 200) {
            errors.push(err(UserErrorCode::Required, "name", "Give a name of at most 200 characters."));
        }
        if let Some(end) = p.range_end {
            let issued = c.range_next.unwrap_or(0) - 1;
            if end < issued || end > s10::MAX_SERIAL || c.tracking_source != TrackingSource::Range {
                errors.push(err(
                    UserErrorCode::Invalid,
                    "rangeEnd",
                    format!("The range end must be between {issued} (last issued) and {}.", s10::MAX_SERIAL),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(DomainError::User(errors));
        }
        let mut a: channel::ActiveModel = c.into();
        if let Some(n) = name {
            a.name = Set(n);
        }
        if let Some(d) = countries {
            a.destination_countries = Set(serde_json::json!(d));
        }
        a.max_weight_grams = Set(weight);
        a.max_value_minor = Set(value);
        a.value_currency = Set(cur);
        a.address_line_max = Set(line_max);
        if let Some(r) = &p.required_fields {
            a.required_fields = Set(serde_json::json!(r));
        }
        if let Some(ap) = p.address_policy {
            a.address_policy = Set(ap);
        }
        if let Some(end) = p.range_end {
            a.range_end = Set(Some(end));
        }
        if let Some(act) = p.active {
            a.active = Set(act);
        }
        a.updated_at = Set(Utc::now());
        let updated = a.update(&txn).await?;
        let event =
            audit::record(&txn, actor.tenant().id(), By::Actor(actor), "channel.updated", "Channel", Some(id), None)
                .await?;
        txn.commit().await?;
        self.bus.publish_all([event]);
        Ok(updated)
    }
}

async fn insert(
    db: &impl ConnectionTrait,
    org: Option<Uuid>,
    input: &ChannelInput,
) -> Result<channel::Model, sea_orm::DbErr> {
    let now = Utc::now();
    let r = input.tracking_range.as_ref();
    channel::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org),
        code: Set(input.code.clone()),
        name: Set(input.name.clone()),
        provider: Set(ChannelProvider::Network),
        destination_countries: Set(serde_json::json!(input.destination_countries)),
        max_weight_grams: Set(input.max_weight_grams),
        max_value_minor: Set(input.max_value_minor),
        value_currency: Set(input.value_currency.clone()),
        required_fields: Set(serde_json::json!(input.required_fields)),
        address_policy: Set(input.address_policy),
        tracking_source: Set(TrackingSource::Range),
        tracking_prefix: Set(r.map(|r| r.prefix.clone())),
        tracking_suffix: Set(r.map(|r| r.suffix.clone())),
        range_start: Set(r.map(|r| r.start)),
        range_end: Set(r.map(|r| r.end)),
        range_next: Set(r.map(|r| r.start)),
        service_code: Set(None),
        region: Set(None),
        warehouse_account_id: Set(None),
        active: Set(input.active),
        address_line_max: Set(input.address_line_max),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
}

/// The sandbox's global channels (created once, by code): a newcomer can push at once.
pub async fn seed_sandbox(db: &DatabaseConnection) -> DomainResult<()> {
    let exists = channel::Entity::find().filter(channel::Column::OrganizationId.is_null()).one(db).await?.is_some();
    if exists {
        return seed_sandbox_carriers(db).await;
    }
    let list = |c: &[&str]| c.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let channels = [
        ChannelInput {
            code: "CNPOST-RR".into(),
            name: "China Post Registered Air Mail".into(),
            global: true,
            // Postal: everywhere the UPU reaches; Latin-only labels; 35-character lines.
            destination_countries: Vec::new(),
            max_weight_grams: Some(2_000),
            max_value_minor: Some(40_000),
            value_currency: Some("USD".into()),
            required_fields: vec![RequiredField::RecipientPostalCode],
            address_policy: AddressPolicy::LatinOnly,
            address_line_max: Some(35),
            tracking_range: Some(TrackingRange {
                prefix: "RR".into(),
                suffix: "CN".into(),
                start: 10_000_000,
                end: 19_999_999,
            }),
            active: true,
        },
        ChannelInput {
            code: "EU-EXPRESS".into(),
            name: "EU Express (DDP)".into(),
            global: true,
            destination_countries: list(&["AT", "BE", "DE", "ES", "FR", "IE", "IT", "NL", "PL", "PT", "SE"]),
            max_weight_grams: Some(30_000),
            max_value_minor: Some(15_000),
            value_currency: Some("EUR".into()),
            required_fields: vec![
                RequiredField::HsCode,
                RequiredField::OriginCountry,
                RequiredField::RecipientPhone,
                RequiredField::RecipientPostalCode,
            ],
            address_policy: AddressPolicy::AsIs,
            address_line_max: None,
            tracking_range: Some(TrackingRange {
                prefix: "EE".into(),
                suffix: "CN".into(),
                start: 20_000_000,
                end: 29_999_999,
            }),
            active: true,
        },
        ChannelInput {
            code: "US-ECONOMY".into(),
            name: "US Economy Line".into(),
            global: true,
            destination_countries: list(&["US", "CA"]),
            max_weight_grams: Some(1_000),
            max_value_minor: Some(80_000),
            value_currency: Some("USD".into()),
            required_fields: vec![RequiredField::RecipientState, RequiredField::RecipientPostalCode],
            address_policy: AddressPolicy::AsIs,
            address_line_max: None,
            tracking_range: Some(TrackingRange {
                prefix: "LX".into(),
                suffix: "CN".into(),
                start: 30_000_000,
                end: 39_999_999,
            }),
            active: true,
        },
        ChannelInput {
            code: "ASIA-EPACKET".into(),
            name: "Asia ePacket".into(),
            global: true,
            destination_countries: list(&["CN", "HK", "JP", "KR", "SG", "TW"]),
            max_weight_grams: Some(2_000),
            max_value_minor: None,
            value_currency: None,
            required_fields: vec![RequiredField::DeclarationNameCn, RequiredField::RecipientPhone],
            address_policy: AddressPolicy::AsIs,
            address_line_max: None,
            tracking_range: Some(TrackingRange {
                prefix: "LK".into(),
                suffix: "CN".into(),
                start: 40_000_000,
                end: 49_999_999,
            }),
            active: true,
        },
    ];
    let txn = begin_write(db).await?;
    for c in &channels {
        let c = validate(c).map_err(|e| DomainError::internal(sea_orm::DbErr::Custom(format!("{e:?}"))))?;
        insert(&txn, None, &c).await?;
    }
    txn.commit().await?;
    seed_sandbox_carriers(db).await
}

/// The sandbox channels' carrier identifiers per marketplace (the logistics company's
/// defaults), where missing: China Post for the postal lines, DHL for EU Express. Each is
/// one the marketplace documents (eBay ShippingCarrierCodeType `ChinaPost`, AliExpress
/// service `CPAM`, Wish provider `ChinaAirPost`, Amazon carrier code `China Post`).
/// US-ECONOMY is left unmapped: write-back from it shows CARRIER_NOT_MAPPED.
async fn seed_sandbox_carriers(db: &DatabaseConnection) -> DomainResult<()> {
    use entity::{carrier_mapping, enums::Platform};
    let table: [(&str, [(Platform, &str); 4]); 3] = [
        (
            "CNPOST-RR",
            [
                (Platform::Ebay, "ChinaPost"),
                (Platform::Aliexpress, "CPAM"),
                (Platform::Wish, "ChinaAirPost"),
                (Platform::Amazon, "China Post"),
            ],
        ),
        (
            "ASIA-EPACKET",
            [
                (Platform::Ebay, "ChinaPost"),
                (Platform::Aliexpress, "EMS_ZX_ZX_US"),
                (Platform::Wish, "EPacket"),
                (Platform::Amazon, "China Post"),
            ],
        ),
        (
            "EU-EXPRESS",
            [
                (Platform::Ebay, "DHL"),
                (Platform::Aliexpress, "DHL"),
                (Platform::Wish, "DHL"),
                (Platform::Amazon, "DHL"),
            ],
        ),
    ];
    let now = Utc::now();
    for (code, mappings) in table {
        let Some(ch) = channel::Entity::find()
            .filter(channel::Column::OrganizationId.is_null())
            .filter(channel::Column::Code.eq(code))
            .one(db)
            .await?
        else {
            continue;
        };
        for (platform, carrier) in mappings {
            let exists = carrier_mapping::Entity::find()
                .filter(carrier_mapping::Column::ChannelId.eq(ch.id))
                .filter(carrier_mapping::Column::Platform.eq(platform))
                .filter(carrier_mapping::Column::Scope.eq(carrier_mapping::GLOBAL_SCOPE))
                .one(db)
                .await?
                .is_some();
            if exists {
                continue;
            }
            let row = carrier_mapping::ActiveModel {
                id: Set(Uuid::now_v7()),
                organization_id: Set(None),
                scope: Set(carrier_mapping::GLOBAL_SCOPE.to_owned()),
                channel_id: Set(ch.id),
                platform: Set(platform),
                carrier_code: Set(carrier.to_owned()),
                carrier_name: Set(None),
                tracking_url: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            };
            // Two replicas seeding at once: the unique index keeps one.
            if let Err(e) = row.insert(db).await
                && !matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_)))
            {
                return Err(e.into());
            }
        }
    }
    Ok(())
}
