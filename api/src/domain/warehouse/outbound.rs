//! Outbound orders (seed 003 §2-4): pushing an order on an ORANGECONNEX channel places an
//! OC outbound order (≤ 50 per call, batched by the connector) in the channel's OC region
//! (`serviceRegion`, OC's code; see [`super::regions`]). An eBay order carries the seller's
//! eBay user id (`ebayId`: the eBay account's username, read when it connected) and eBay's
//! `NN-NNNNN-NNNNN` order id; without a known user id the order is refused
//! (`EBAY_ID_MISSING`) rather than sent incomplete. OC assigns the tracking
//! number only when it packs, so the order stays PUSHING ("placed") until the polling job
//! ([`super::sync`]) brings the number back; cancelling asks OC first and is refused once
//! picking started (`CANCEL_REFUSED_AFTER_PICKING`).
//!
//! Never placed twice: the outbound order's referenceNumber is our waybill id, and the
//! creation call is sent once (no HTTP-level retry). When its outcome is unknown (timeout,
//! 5xx, a connection dropped after the request was written), the references are looked up
//! at once (OutboundQuery by referenceNumber) and only those confirmed absent are created
//! again ([`OrangeConnexProvider::place`]). After a crash, the push job's attempt mark
//! (committed before the call) makes the next try look the reference up first. OC also
//! refuses a repeated live reference, naming the existing order (DUPLICATE_REFERENCE_NUMBER
//! and its number), which is read as that order. When OC cancels an order, its waybill is
//! retired, so a new push places under a new reference.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::Utc;
use entity::{
    channel,
    enums::{OutboundStatus, Platform, WarehouseSkuStatus},
    order, order_item, outbound_order, sku,
};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set, sea_query::Expr};
use uuid::Uuid;

use super::{CallError, Warehouse, regions};
use crate::{
    connectors::{
        ConnectorError,
        logistics::{OrderSource, OutboundLine, OutboundPhase, OutboundQuery, OutboundRequest},
        marketplace::Address,
    },
    domain::fulfilment::{
        provider::{Booking, LogisticsProvider, Parcel, Recorded, Refusal},
        snapshot::Snapshot,
    },
    error::{DomainError, DomainResult, UserError, UserErrorCode},
};

/// eBay's REST order id, the 3-part form OC requires (`02-05696-00555`).
pub fn is_ebay_order_id(id: &str) -> bool {
    let parts: Vec<&str> = id.split('-').collect();
    parts.len() == 3
        && [2, 5, 5].iter().zip(&parts).all(|(n, p)| p.len() == *n && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Checks at push time, before the order goes PUSHING: an eBay order needs eBay's 3-part
/// id; every line needs a catalogue SKU registered (MFSKUID) and approved in this
/// channel's warehouse account.
pub fn check(
    o: &order::Model,
    snap: &Snapshot,
    ch: &channel::Model,
    items: &[(&order_item::Model, Option<&sku::Model>)],
) -> Vec<UserError> {
    let mut errors = Vec::new();
    if o.platform == Platform::Ebay && !is_ebay_order_id(&o.platform_order_id) {
        errors.push(UserError::new(
            UserErrorCode::OrderIdFormat,
            &["input", "orderIds"],
            format!(
                "OrangeConnex needs eBay's order id in the form NN-NNNNN-NNNNN (e.g. 02-05696-00555); this order has {:?}.",
                o.platform_order_id
            ),
        ));
    }
    // OC's consignee rules [D/C]: a city, a postcode of at most 10 characters.
    let r = &snap.recipient;
    if r.city.as_deref().is_none_or(|c| c.trim().is_empty()) {
        errors.push(UserError::new(
            UserErrorCode::AddressIncomplete,
            &["input", "orderIds"],
            "OrangeConnex needs the recipient's city; fix the order's address.",
        ));
    }
    if r.postal_code.as_deref().is_some_and(|z| z.trim().chars().count() > 10) {
        errors.push(UserError::new(
            UserErrorCode::Invalid,
            &["input", "orderIds"],
            "OrangeConnex takes postcodes of at most 10 characters; fix the order's address.",
        ));
    }
    let by_code: HashMap<&str, &sku::Model> =
        items.iter().filter_map(|(_, s)| s.map(|s| (s.code.as_str(), s))).collect();
    for line in &snap.lines {
        let name = line.sku_code.as_deref().or(line.platform_sku.as_deref()).unwrap_or("(no SKU)");
        let s = line.sku_code.as_deref().and_then(|c| by_code.get(c));
        let problem = match s {
            None => Some(format!("Line {name} has no catalogue SKU; fix the order's SKU first.")),
            Some(s) if s.warehouse_sku_id.is_none() || s.warehouse_account_id != ch.warehouse_account_id => {
                Some(format!("SKU {name} is not in this OrangeConnex warehouse; push it to the warehouse first."))
            }
            Some(s) if s.warehouse_status != WarehouseSkuStatus::Approved => Some(format!(
                "SKU {name} is {:?} in the warehouse; OrangeConnex must approve it before orders can ship it.",
                s.warehouse_status
            )),
            Some(_) => None,
        };
        if let Some(message) = problem {
            errors.push(UserError::new(UserErrorCode::SkuNotInWarehouse, &["input", "orderIds"], message));
        }
    }
    errors
}

pub fn outbound_status(p: OutboundPhase) -> OutboundStatus {
    match p {
        OutboundPhase::Created => OutboundStatus::Created,
        OutboundPhase::Processing => OutboundStatus::Processing,
        OutboundPhase::Picked => OutboundStatus::Picked,
        OutboundPhase::Packed => OutboundStatus::Packed,
        OutboundPhase::Shipped => OutboundStatus::Shipped,
        OutboundPhase::Cancelled => OutboundStatus::Cancelled,
        OutboundPhase::Exception => OutboundStatus::Exception,
    }
}

/// OC's per-item refusal codes (WIRE.md) as ours.
fn refusal_code(code: &str) -> UserErrorCode {
    match code {
        "EBAY_ORDER_ID_INVALID" => UserErrorCode::OrderIdFormat,
        "MFSKUID_NOT_FOUND" | "SKU_NOT_APPROVED" => UserErrorCode::SkuNotInWarehouse,
        _ => UserErrorCode::ProviderRejected,
    }
}

/// The ORANGECONNEX `LogisticsProvider`.
pub struct OrangeConnexProvider {
    pub warehouse: Warehouse,
}

fn refuse_all(n: usize, code: UserErrorCode, message: &str) -> Vec<Result<Booking, Refusal>> {
    (0..n).map(|_| Err(Refusal { code, message: message.to_owned() })).collect()
}

impl OrangeConnexProvider {
    /// A failed call as per-parcel refusals, or as an error the push job retries.
    fn call_failed(e: CallError, n: usize) -> DomainResult<Vec<Result<Booking, Refusal>>> {
        match e {
            CallError::Domain(e) => Err(e),
            CallError::Reauthorize(m) => Ok(refuse_all(
                n,
                UserErrorCode::AccountNeedsReauthorization,
                &format!("Reauthorize the OrangeConnex account, then push again. ({m})"),
            )),
            // A refusal of the request itself (bad signature, client key): nothing was placed.
            CallError::Connector(e @ ConnectorError::Rejected { .. }) => {
                Ok(refuse_all(n, UserErrorCode::ProviderRejected, &format!("OrangeConnex refused the orders: {e}")))
            }
            // Unreachable, or an answer we cannot read: the outcome is unknown, so the job
            // tries again (and looks the references up first; OC never places one twice).
            CallError::Connector(e) => {
                Err(DomainError::Conflict(format!("OrangeConnex outcome unknown, will retry: {e}")))
            }
        }
    }

    /// Places the batch, never twice: a creation whose outcome is unknown (timeout, 5xx,
    /// connection dropped after the request was written, an unreadable answer) is followed
    /// by one lookup of every reference of the batch; the orders found are OC's answer, and
    /// only those confirmed absent are created again (once; a second unknown outcome leaves
    /// them to the push job's next attempt, which looks them up first).
    async fn place(
        &self,
        account_id: Uuid,
        batch: &[OutboundRequest],
    ) -> Result<Vec<Result<Booking, Refusal>>, CallError> {
        let mut out: Vec<Option<Result<Booking, Refusal>>> = vec![None; batch.len()];
        let create = |sent: Vec<OutboundRequest>| async move {
            let results = self
                .warehouse
                .call(account_id, |c, token| {
                    let sent = sent.clone();
                    async move { c.place_outbound(&token, &sent).await }
                })
                .await?;
            Ok(results.into_iter().map(booking_of).collect())
        };
        let lookup = |sent: Vec<OutboundRequest>| async move {
            let found = self.lookup(account_id, &sent).await?;
            Ok(sent.iter().map(|r| found.get(r.reference.as_str()).cloned().map(Ok)).collect())
        };
        super::create_once("outbound", batch, (0..batch.len()).collect(), &mut out, create, lookup).await?;
        Ok(out
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(Refusal {
                        code: UserErrorCode::ProviderUnavailable,
                        message: "No answer from OrangeConnex.".into(),
                    })
                })
            })
            .collect())
    }

    /// The live outbound orders OC holds under the batch's references (one query).
    async fn lookup(&self, account_id: Uuid, batch: &[OutboundRequest]) -> Result<HashMap<String, Booking>, CallError> {
        let q = OutboundQuery {
            references: batch.iter().map(|r| r.reference.clone()).collect(),
            ..OutboundQuery::default()
        };
        let rows = self
            .warehouse
            .call(account_id, |c, token| {
                let q = q.clone();
                async move { c.query_outbound(&token, &q).await }
            })
            .await?;
        Ok(rows
            .into_iter()
            .filter(|s| s.phase != OutboundPhase::Cancelled)
            .filter_map(|s| {
                let reference = s.reference?;
                Some((
                    reference,
                    Booking {
                        tracking_number: s.parcel.map(|p| p.tracking_number),
                        provider_reference: s.order_number,
                    },
                ))
            })
            .collect())
    }
}

/// One item of OC's answer as a booking or a refusal.
fn booking_of(r: crate::connectors::logistics::ItemResult<String>) -> Result<Booking, Refusal> {
    match r {
        Ok(number) => Ok(Booking { tracking_number: None, provider_reference: number }),
        Err(r) => Err(Refusal {
            code: refusal_code(&r.code),
            message: format!("OrangeConnex refused the order: {} ({})", r.message, r.code),
        }),
    }
}

#[async_trait]
impl LogisticsProvider for OrangeConnexProvider {
    async fn create(
        &self,
        txn: &DatabaseTransaction,
        channel: &channel::Model,
        parcels: &[Parcel<'_>],
    ) -> DomainResult<Vec<Result<Booking, Refusal>>> {
        let (Some(account_id), Some(service)) = (channel.warehouse_account_id, channel.service_code.clone()) else {
            return Ok(refuse_all(
                parcels.len(),
                UserErrorCode::ChannelUnavailable,
                "The channel is not bound to an OrangeConnex service; sync the warehouse services again.",
            ));
        };
        // The SKUs named by the snapshots, with their MFSKUIDs.
        let org = channel.organization_id;
        let codes: Vec<String> =
            parcels.iter().flat_map(|p| p.snapshot.lines.iter().filter_map(|l| l.sku_code.clone())).collect();
        let mut skus: HashMap<String, sku::Model> = HashMap::new();
        for chunk in codes.chunks(500) {
            let mut q = sku::Entity::find().filter(sku::Column::Code.is_in(chunk.iter().cloned()));
            if let Some(org) = org {
                q = q.filter(sku::Column::OrganizationId.eq(org));
            }
            skus.extend(q.all(txn).await?.into_iter().map(|s| (s.code.clone(), s)));
        }
        // OC's `ebayId` is the seller's eBay user id: the eBay account's username (read from
        // eBay's Identity API when it connected), else its external id.
        let account_ids: Vec<Uuid> = parcels.iter().filter_map(|p| p.order.map(|o| o.account_id)).collect();
        let accounts: HashMap<Uuid, entity::account::Model> = entity::account::Entity::find()
            .filter(entity::account::Column::Id.is_in(account_ids))
            .all(txn)
            .await?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
        let mut out: Vec<Option<Result<Booking, Refusal>>> = Vec::with_capacity(parcels.len());
        let mut requests: Vec<(usize, OutboundRequest)> = Vec::new();
        for (i, p) in parcels.iter().enumerate() {
            let Some(o) = p.order else {
                out.push(Some(Err(Refusal {
                    code: UserErrorCode::ChannelUnavailable,
                    message: "OrangeConnex ships orders: push the order instead of a standalone waybill.".into(),
                })));
                continue;
            };
            let mut lines = Vec::new();
            let mut missing = None;
            for l in &p.snapshot.lines {
                match l.sku_code.as_ref().and_then(|c| skus.get(c)).and_then(|s| s.warehouse_sku_id.clone()) {
                    Some(id) => lines.push(OutboundLine {
                        warehouse_sku_id: id,
                        quantity: l.quantity,
                        declared_value_minor: l.unit_value_minor,
                        currency: l.currency.clone(),
                    }),
                    None => missing = Some(l.sku_code.clone().or(l.platform_sku.clone()).unwrap_or_default()),
                }
            }
            if let Some(code) = missing {
                out.push(Some(Err(Refusal {
                    code: UserErrorCode::SkuNotInWarehouse,
                    message: format!("SKU {code} is not in the OrangeConnex warehouse; push it there first."),
                })));
                continue;
            }
            let r = &p.snapshot.recipient;
            let source = if o.platform == Platform::Ebay {
                let acc = accounts.get(&o.account_id);
                let Some(seller_id) = acc.and_then(ebay_user_id) else {
                    out.push(Some(Err(Refusal { code: UserErrorCode::EbayIdMissing, message: ebay_id_missing(acc) })));
                    continue;
                };
                OrderSource::Ebay { seller_id, order_id: o.platform_order_id.clone() }
            } else {
                OrderSource::Other
            };
            // The warehouse that ships it: the service's OC region (a channel synced before
            // regions were OC's codes still maps), else the destination country's only region.
            let Some(region) = regions::outbound_region(channel.region.as_deref(), &r.country_code) else {
                out.push(Some(Err(Refusal {
                    code: UserErrorCode::ChannelUnavailable,
                    message: format!(
                        "Channel {} names no OrangeConnex region ({}); sync the warehouse services again.",
                        channel.code,
                        channel.region.as_deref().unwrap_or("none")
                    ),
                })));
                continue;
            };
            requests.push((
                i,
                OutboundRequest {
                    reference: p.reference.to_owned(),
                    source,
                    region: region.to_owned(),
                    service_code: service.clone(),
                    recipient: Address {
                        name: r.name.clone(),
                        company: r.company.clone(),
                        phone: r.phone.clone(),
                        email: r.email.clone(),
                        line1: r.line1.clone(),
                        line2: r.line2.clone(),
                        city: r.city.clone(),
                        state: r.state.clone(),
                        postal_code: r.postal_code.clone(),
                        country_code: r.country_code.clone(),
                    },
                    lines,
                },
            ));
            out.push(None);
        }
        if !requests.is_empty() {
            let batch: Vec<OutboundRequest> = requests.iter().map(|(_, r)| r.clone()).collect();
            let results = match self.place(account_id, &batch).await {
                Ok(r) => r,
                Err(e) => {
                    let refusals = Self::call_failed(e, requests.len())?;
                    for ((i, _), r) in requests.iter().zip(refusals) {
                        out[*i] = Some(r);
                    }
                    return Ok(out.into_iter().flatten().collect());
                }
            };
            for ((i, _), result) in requests.iter().zip(results) {
                out[*i] = Some(result);
            }
        }
        Ok(out
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(Refusal {
                        code: UserErrorCode::ProviderUnavailable,
                        message: "No answer from OrangeConnex.".into(),
                    })
                })
            })
            .collect())
    }

    async fn find(
        &self,
        _txn: &DatabaseTransaction,
        channel: &channel::Model,
        reference: &str,
    ) -> DomainResult<Option<Booking>> {
        let Some(account_id) = channel.warehouse_account_id else { return Ok(None) };
        let q = OutboundQuery { references: vec![reference.to_owned()], ..OutboundQuery::default() };
        let found = match self
            .warehouse
            .call(account_id, |c, token| {
                let q = q.clone();
                async move { c.query_outbound(&token, &q).await }
            })
            .await
        {
            Ok(rows) => rows,
            Err(CallError::Domain(e)) => return Err(e),
            Err(e) => return Err(DomainError::Conflict(format!("could not look the order up at OrangeConnex: {e:?}"))),
        };
        Ok(found
            .into_iter()
            .find(|s| s.reference.as_deref() == Some(reference) && s.phase != OutboundPhase::Cancelled)
            .map(|s| Booking {
                tracking_number: s.parcel.map(|p| p.tracking_number),
                provider_reference: s.order_number,
            }))
    }

    async fn record(
        &self,
        txn: &DatabaseTransaction,
        channel: &channel::Model,
        booked: &[Recorded<'_>],
    ) -> DomainResult<()> {
        let Some(account_id) = channel.warehouse_account_id else { return Ok(()) };
        let now = Utc::now();
        for r in booked {
            record_outbound(txn, account_id, r, now).await?;
        }
        Ok(())
    }

    async fn cancel(
        &self,
        txn: &DatabaseTransaction,
        channel: &channel::Model,
        booking: &Booking,
    ) -> DomainResult<Result<(), Refusal>> {
        let Some(account_id) = channel.warehouse_account_id else { return Ok(Ok(())) };
        let number = booking.provider_reference.clone();
        if number.is_empty() {
            return Ok(Ok(()));
        }
        let result = self
            .warehouse
            .call(account_id, |c, token| {
                let number = number.clone();
                async move { c.cancel_outbound(&token, &number, "Cancelled by the seller").await }
            })
            .await;
        match result {
            Ok(()) => {}
            // Unknown at OC: nothing to cancel there.
            Err(CallError::Connector(ConnectorError::Rejected { code, .. })) if code == "404" => {}
            Err(CallError::Connector(ConnectorError::Rejected { code, .. })) if code == "ORDER_PICKED" => {
                return Ok(Err(Refusal {
                    code: UserErrorCode::CancelRefusedAfterPicking,
                    message: format!(
                        "OrangeConnex has started picking {number}; it can no longer be cancelled. Nothing was changed."
                    ),
                }));
            }
            Err(CallError::Domain(e)) => return Err(e),
            Err(CallError::Reauthorize(m)) => {
                return Ok(Err(Refusal {
                    code: UserErrorCode::AccountNeedsReauthorization,
                    message: format!("Reauthorize the OrangeConnex account first. ({m})"),
                }));
            }
            Err(CallError::Connector(e)) => {
                return Ok(Err(Refusal {
                    code: if e.is_retryable() {
                        UserErrorCode::ProviderUnavailable
                    } else {
                        UserErrorCode::ProviderRejected
                    },
                    message: format!("OrangeConnex did not cancel {number}: {e}"),
                }));
            }
        }
        outbound_order::Entity::update_many()
            .col_expr(outbound_order::Column::Status, Expr::value(OutboundStatus::Cancelled))
            .col_expr(outbound_order::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(outbound_order::Column::AccountId.eq(account_id))
            .filter(outbound_order::Column::OutboundNumber.eq(number))
            .exec(txn)
            .await?;
        Ok(Ok(()))
    }
}

/// The seller's eBay user id for OC's `ebayId`: the account's eBay username, else its
/// external id; `None` when neither is known (blank counts as unknown).
/// Why an eBay order of this account cannot go to OrangeConnex without an `ebayId`.
pub fn ebay_id_missing(acc: Option<&entity::account::Model>) -> String {
    format!(
        "OrangeConnex needs the seller's eBay user id (ebayId) for eBay orders, and eBay account {} has none on record; reconnect it so Shipgate reads its eBay username, then push again.",
        acc.map_or("(unknown)", |a| a.name.as_str())
    )
}

pub fn ebay_user_id(acc: &entity::account::Model) -> Option<String> {
    [acc.platform_user_name.as_deref(), acc.external_account_id.as_deref()]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The outbound order as we know it (one row per reference; a retry updates it).
async fn record_outbound(
    txn: &impl ConnectionTrait,
    account_id: Uuid,
    r: &Recorded<'_>,
    now: chrono::DateTime<Utc>,
) -> DomainResult<()> {
    let (o, reference, number) = (r.order, r.reference.as_str(), r.booking.provider_reference.as_str());
    let existing = outbound_order::Entity::find()
        .filter(outbound_order::Column::AccountId.eq(account_id))
        .filter(outbound_order::Column::SellerOrderNumber.eq(reference))
        .one(txn)
        .await?;
    let waybill_id = Some(r.waybill_id);
    match existing {
        Some(row) => {
            outbound_order::Entity::update_many()
                .col_expr(outbound_order::Column::OutboundNumber, Expr::value(number))
                .col_expr(outbound_order::Column::UpdatedAt, Expr::value(now))
                .filter(outbound_order::Column::Id.eq(row.id))
                .exec(txn)
                .await?;
        }
        None => {
            outbound_order::Entity::insert(outbound_order::ActiveModel {
                id: Set(Uuid::now_v7()),
                organization_id: Set(o.organization_id),
                account_id: Set(account_id),
                order_id: Set(Some(o.id)),
                waybill_id: Set(waybill_id),
                seller_order_number: Set(reference.to_owned()),
                outbound_number: Set(Some(number.to_owned())),
                status: Set(OutboundStatus::Created),
                carrier: Set(None),
                tracking_number: Set(None),
                chargeable_weight_grams: Set(None),
                fee_minor: Set(None),
                fee_currency: Set(None),
                auto_fulfilled: Set(false),
                raw: Set(None),
                last_polled_at: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            })
            .exec_without_returning(txn)
            .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::is_ebay_order_id;

    #[test]
    fn ebay_ids() {
        assert!(is_ebay_order_id("02-05696-00555"));
        assert!(is_ebay_order_id("12-34567-89012"));
        assert!(!is_ebay_order_id("123456789012"));
        assert!(!is_ebay_order_id("02-5696-00555"));
        assert!(!is_ebay_order_id("02-05696-0055a"));
        assert!(!is_ebay_order_id("02-05696-00555-1"));
        assert!(!is_ebay_order_id(""));
    }
}
