//! The `LogisticsProvider` role (design.md §6): create a forecast (push), look one up by
//! our deterministic reference, cancel it (reset/cancel).
//!
//! NETWORK is the logistics company's own network, i.e. this system: a forecast is an
//! allocation from the channel's S10 number range, made in the same transaction that
//! records the waybill as FORECASTED. Booking and recording therefore commit or vanish
//! together: a crash at any point leaves either both or neither, so a rerun can never
//! book twice. That is why this implementation lives in the domain layer (it needs the
//! transaction) rather than under `connectors/`, which speak HTTP to someone else.
//! Remote providers (OrangeConnex) cannot share our transaction: they book with the
//! reference first, and the worker calls [`LogisticsProvider::find`] before creating
//! again after a timeout or crash.

use async_trait::async_trait;
use entity::{channel, order, waybill};
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter};

use super::snapshot::{self, Snapshot};
use crate::{
    domain::channels::{allocate, s10},
    error::{DomainResult, UserErrorCode},
};

/// A parcel to forecast, with our deterministic reference (the waybill's id: unlike the
/// customer reference it is never reused after a reset).
pub struct Parcel<'a> {
    pub reference: &'a str,
    pub snapshot: &'a Snapshot,
    /// The order it ships (its platform and platform order id matter to warehouses);
    /// `None` for a waybill made without an order.
    pub order: Option<&'a order::Model>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    /// `None` while the provider has accepted the parcel but not yet assigned a number
    /// (an OrangeConnex outbound order before packing); the polling job fills it in.
    pub tracking_number: Option<String>,
    /// The provider's id for the forecast (the reference itself for NETWORK).
    pub provider_reference: String,
}

/// A booking being recorded: its order, waybill and reference.
pub struct Recorded<'a> {
    pub order: &'a order::Model,
    pub waybill_id: uuid::Uuid,
    pub reference: String,
    pub booking: &'a Booking,
}

/// The provider refused one parcel (the others may still book).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: UserErrorCode,
    pub message: String,
}

#[async_trait]
pub trait LogisticsProvider: Send + Sync {
    /// True when booking happens in the caller's transaction (nothing can be booked
    /// without being recorded), so there is never anything to look up after a crash.
    fn books_in_transaction(&self) -> bool {
        false
    }
    /// Books forecasts, one outcome per parcel in input order.
    async fn create(
        &self,
        txn: &DatabaseTransaction,
        channel: &channel::Model,
        parcels: &[Parcel<'_>],
    ) -> DomainResult<Vec<Result<Booking, Refusal>>>;
    /// The forecast booked under `reference`, if any.
    async fn find(
        &self,
        txn: &DatabaseTransaction,
        channel: &channel::Model,
        reference: &str,
    ) -> DomainResult<Option<Booking>>;
    /// The provider's own bookkeeping for bookings just recorded, in the caller's write
    /// transaction (remote providers are called before it; this is where their side of
    /// the record is written, so it commits together with the orders).
    async fn record(
        &self,
        _txn: &DatabaseTransaction,
        _channel: &channel::Model,
        _booked: &[Recorded<'_>],
    ) -> DomainResult<()> {
        Ok(())
    }
    /// Cancels a booked forecast. NETWORK retires the number (never reissued). The
    /// provider may refuse (`Ok(Err(_))`, e.g. the warehouse already picked it): then
    /// nothing changes for that order.
    async fn cancel(
        &self,
        txn: &DatabaseTransaction,
        channel: &channel::Model,
        booking: &Booking,
    ) -> DomainResult<Result<(), Refusal>>;
}

pub struct Network;

#[async_trait]
impl LogisticsProvider for Network {
    fn books_in_transaction(&self) -> bool {
        true
    }

    async fn create(
        &self,
        txn: &DatabaseTransaction,
        channel: &channel::Model,
        parcels: &[Parcel<'_>],
    ) -> DomainResult<Vec<Result<Booking, Refusal>>> {
        let mut out: Vec<Result<Booking, Refusal>> = parcels
            .iter()
            .map(|p| match snapshot::carrier_refusal(p.snapshot, channel) {
                Some(message) => Err(Refusal { code: UserErrorCode::ProviderRejected, message }),
                // Placeholder until a number is allocated below.
                None => Ok(Booking { tracking_number: None, provider_reference: p.reference.to_owned() }),
            })
            .collect();
        let wanted = out.iter().filter(|r| r.is_ok()).count();
        let serials = allocate(txn, channel.id, i64::try_from(wanted).unwrap_or(i64::MAX)).await?;
        let mut serials = serials.into_iter();
        let prefix = channel.tracking_prefix.as_deref().unwrap_or_default();
        let suffix = channel.tracking_suffix.as_deref().unwrap_or_default();
        for r in &mut out {
            let Ok(b) = r else { continue };
            *r = match serials.next().and_then(|s| s10::format(prefix, s, suffix)) {
                Some(tracking) => {
                    Ok(Booking { tracking_number: Some(tracking), provider_reference: b.provider_reference.clone() })
                }
                None => Err(Refusal {
                    code: UserErrorCode::TrackingRangeExhausted,
                    message: format!(
                        "Channel {} has no tracking numbers left; ask the logistics company to extend its range.",
                        channel.code
                    ),
                }),
            };
        }
        Ok(out)
    }

    async fn find(
        &self,
        txn: &DatabaseTransaction,
        channel: &channel::Model,
        reference: &str,
    ) -> DomainResult<Option<Booking>> {
        Ok(waybill::Entity::find()
            .filter(waybill::Column::ChannelId.eq(channel.id))
            .filter(waybill::Column::ProviderReference.eq(reference))
            .filter(waybill::Column::TrackingNumber.is_not_null())
            .filter(waybill::Column::Status.ne(entity::enums::WaybillStatus::Cancelled))
            .one(txn)
            .await?
            .and_then(|w| {
                Some(Booking { tracking_number: Some(w.tracking_number?), provider_reference: reference.to_owned() })
            }))
    }

    async fn cancel(
        &self,
        _txn: &DatabaseTransaction,
        _channel: &channel::Model,
        _b: &Booking,
    ) -> DomainResult<Result<(), Refusal>> {
        // The number stays issued (range_next only grows), so it can never be reused.
        Ok(Ok(()))
    }
}
