//! Login throttling. Three counters of failed logins, kept in the database
//! (`login_throttles`) so every replica sees the same counts:
//!
//! - per (account, client address): the first [`PAIR_FREE`] failures cost nothing; after
//!   each further failure the pair waits 1 s, 2 s, 4 s … (doubling, at most
//!   [`MAX_DELAY_SECS`]) before its next attempt is even checked;
//! - per account, over every address the account never signed in from: the same, after
//!   [`ACCOUNT_FREE`] failures (a botnet spread over many addresses);
//! - per client address, over every account it never signed in to: the same, after
//!   [`ADDRESS_FREE`] failures (one address spraying many accounts).
//!
//! An attempt that comes before the wait is over is answered `RATE_LIMITED` with
//! `retryAfter`, without looking at the password (so the answer tells nothing either).
//!
//! A real user is not locked out by someone guessing from elsewhere:
//! - the pair counter is per address, and an address the account has signed in from
//!   before (within [`KNOWN_DAYS`]) is held to its own pair counter only;
//! - the account-wide and address-wide waits hold only pairs that have failed themselves
//!   (a failure within [`FORGET_HOURS`], or an attempt in flight): the first attempt of a
//!   fresh (account, address) pair is always checked, even while the account is under
//!   attack. A user on a new address gets in with the right password; a wrong one makes
//!   the pair wait out the account's (or address's) delay like the attacker's addresses.
//!   Each fresh address is one guess per account per [`FORGET_HOURS`], and still counts.
//!
//! Failures are forgotten [`FORGET_HOURS`] after the last one; a successful login clears
//! its pair.
//!
//! Each attempt is counted as a failure *before* the password is checked (in one write
//! transaction, rows locked), and given back if it succeeds: a burst of concurrent
//! guesses gets no more checks than a sequence of them. An attempt that ends without a
//! verdict (an internal error, or the request cancelled by its deadline or a closed
//! connection) is given back as well, by the [`Ticket`]'s `Drop` if nothing else did.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use entity::login_throttle;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, sea_query::OnConflict,
};
use sha2::{Digest, Sha256};

use crate::{
    db::begin_write,
    error::{DomainError, DomainResult},
};

/// Failures per (account, address) answered without delay.
pub const PAIR_FREE: i32 = 3;
/// Failures per account, from addresses it never signed in from, without delay.
pub const ACCOUNT_FREE: i32 = 20;
/// Failures per address, on accounts it never signed in to, without delay.
pub const ADDRESS_FREE: i32 = 50;
/// Failures from one address (across accounts it never signed in to) after which its
/// wait holds every attempt from it, fresh (account, address) pairs included.
pub const ADDRESS_SPRAY: i32 = 500;
/// The longest wait between two attempts.
pub const MAX_DELAY_SECS: i64 = 15 * 60;
/// Failures are forgotten this long after the last one.
pub const FORGET_HOURS: i64 = 24;
/// An address the account signed in from is "known" for this long.
pub const KNOWN_DAYS: i64 = 90;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    Pair,
    Account,
    Address,
}

impl Scope {
    fn free(self) -> i32 {
        match self {
            Self::Pair => PAIR_FREE,
            Self::Account => ACCOUNT_FREE,
            Self::Address => ADDRESS_FREE,
        }
    }
}

/// Seconds to wait after `failures` consecutive failures, given `free` undelayed ones:
/// 0 up to `free`, then 1, 2, 4 … capped at [`MAX_DELAY_SECS`].
pub fn delay_secs(free: i32, failures: i32) -> i64 {
    if failures <= free {
        return 0;
    }
    let doublings = u32::try_from(failures - free - 1).unwrap_or(0).min(30);
    (1i64 << doublings).min(MAX_DELAY_SECS)
}

/// The address as counted: IPv4 as is (IPv4-mapped IPv6 too), IPv6 by its /64 (one
/// subscriber usually holds a whole /64).
fn address_label(ip: Option<IpAddr>) -> String {
    match ip {
        None => "unknown".to_owned(),
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

fn key(prefix: &str, parts: &[&str]) -> String {
    let mut h = Sha256::new();
    h.update(prefix.as_bytes());
    for p in parts {
        h.update([0u8]);
        h.update(p.as_bytes());
    }
    format!("{prefix}:{}", hex::encode(h.finalize()))
}

/// One admitted attempt, counted as a failure. [`Ticket::failed`] keeps it counted;
/// [`Ticket::succeeded`] and [`Ticket::abandoned`] give it back. Dropped without any of
/// them (the request was cancelled: its deadline, a closed connection), it is given back
/// in the background, as a success if the password had been found right.
#[must_use]
pub struct Ticket {
    db: DatabaseConnection,
    reserved: Vec<Reserved>,
    /// Set once the password was found right (so a give-back cut short is redone as one).
    correct: bool,
}

struct Reserved {
    key: String,
    scope: Scope,
    /// `blocked_until` before this attempt, and as this attempt set it.
    before: Option<DateTime<Utc>>,
    set: Option<DateTime<Utc>>,
}

/// Admits one login attempt for `email` (normalised) from `client`, or refuses it with
/// `RATE_LIMITED` while one of its counters says to wait.
pub async fn admit(db: &DatabaseConnection, email: &str, client: Option<IpAddr>) -> DomainResult<Ticket> {
    let now = Utc::now();
    let addr = address_label(client);
    let mut keys = [
        (key("p", &[email, &addr]), Scope::Pair),
        (key("a", &[email]), Scope::Account),
        (key("i", &[&addr]), Scope::Address),
    ];
    // One lock order for every transaction.
    keys.sort_by(|a, b| a.0.cmp(&b.0));
    if rand::random::<u8>() == 0 {
        prune(db, now).await;
    }

    let txn = begin_write(db).await?;
    // The rows must exist to be locked (PostgreSQL); SQLite's write transaction already
    // serialises admissions.
    login_throttle::Entity::insert_many(keys.iter().map(|(k, _)| login_throttle::ActiveModel {
        key: Set(k.clone()),
        failures: Set(0),
        blocked_until: Set(None),
        last_failure_at: Set(None),
        last_success_at: Set(None),
        expires_at: Set(now + Duration::hours(FORGET_HOURS)),
    }))
    .on_conflict(OnConflict::column(login_throttle::Column::Key).do_nothing().to_owned())
    .exec_without_returning(&txn)
    .await?;
    let rows = login_throttle::Entity::find()
        .filter(login_throttle::Column::Key.is_in(keys.iter().map(|(k, _)| k.clone())))
        .order_by_asc(login_throttle::Column::Key)
        .lock_exclusive()
        .all(&txn)
        .await?;
    let row_of =
        |scope: Scope| keys.iter().find(|(_, s)| *s == scope).and_then(|(k, _)| rows.iter().find(|r| &r.key == k));
    let pair = row_of(Scope::Pair);
    let known = pair.is_some_and(|r| r.last_success_at.is_some_and(|t| now - t < Duration::days(KNOWN_DAYS)));
    // A pair with a recent failure (or an attempt of its own in flight) waits out the
    // account's and the address's delays too; a fresh pair's first attempt is checked.
    let pair_failed = pair
        .is_some_and(|r| r.failures > 0 && r.last_failure_at.is_some_and(|t| now - t < Duration::hours(FORGET_HOURS)));
    let counted: Vec<(&login_throttle::Model, Scope)> = keys
        .iter()
        .filter(|(_, scope)| !known || *scope == Scope::Pair)
        .filter_map(|(k, scope)| rows.iter().find(|r| &r.key == k).map(|r| (r, *scope)))
        .collect();

    let wait = counted
        .iter()
        // An address spraying passwords across many accounts waits even for fresh pairs
        // once it is far past its free failures (a real user never gets there).
        .filter(|(r, scope)| {
            *scope == Scope::Pair || pair_failed || (*scope == Scope::Address && r.failures > ADDRESS_SPRAY)
        })
        .filter_map(|(r, _)| r.blocked_until)
        .filter(|until| *until > now)
        .map(|until| until - now)
        .max();
    if let Some(wait) = wait {
        txn.rollback().await?;
        let ms = wait.num_milliseconds().max(0);
        return Err(DomainError::RateLimited { retry_after_secs: u64::try_from((ms + 999) / 1000).unwrap_or(1) });
    }

    let mut reserved = Vec::with_capacity(counted.len());
    for (row, scope) in counted {
        let recent = row.last_failure_at.is_some_and(|t| now - t < Duration::hours(FORGET_HOURS));
        let failures = if recent { row.failures.saturating_add(1) } else { 1 };
        let delay = delay_secs(scope.free(), failures);
        let set = (delay > 0).then(|| now + Duration::seconds(delay));
        let expires = (now + Duration::hours(FORGET_HOURS)).max(row.expires_at);
        reserved.push(Reserved { key: row.key.clone(), scope, before: row.blocked_until, set });
        let mut active: login_throttle::ActiveModel = row.clone().into();
        active.failures = Set(failures);
        active.blocked_until = Set(set);
        active.last_failure_at = Set(Some(now));
        active.expires_at = Set(expires);
        active.update(&txn).await?;
    }
    txn.commit().await?;
    Ok(Ticket { db: db.clone(), reserved, correct: false })
}

impl Ticket {
    /// The password was wrong: the attempt stays counted.
    pub fn failed(mut self) {
        self.reserved.clear();
    }

    /// The password was right: the pair starts over and remembers the address; the
    /// account and address counters get their reservation back.
    pub async fn succeeded(mut self, db: &DatabaseConnection) -> DomainResult<()> {
        self.correct = true;
        give_back(db, &self.reserved, true).await?;
        self.reserved.clear();
        Ok(())
    }

    /// The attempt ended before a verdict (an internal error): nothing is counted.
    pub async fn abandoned(mut self, db: &DatabaseConnection) -> DomainResult<()> {
        give_back(db, &self.reserved, false).await?;
        self.reserved.clear();
        Ok(())
    }
}

impl Drop for Ticket {
    /// Neither kept nor given back: the attempt was cancelled before a verdict (or while
    /// giving back, whose transaction then rolled back). It is given back in the
    /// background; the answer never reached the client, so nothing was learnt from it.
    fn drop(&mut self) {
        if self.reserved.is_empty() {
            return;
        }
        let reserved = std::mem::take(&mut self.reserved);
        let (db, correct) = (self.db.clone(), self.correct);
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    if let Err(e) = give_back(&db, &reserved, correct).await {
                        tracing::warn!(error = %e, "giving back a cancelled login attempt failed");
                    }
                });
            }
            Err(_) => tracing::warn!("a cancelled login attempt stays counted: no runtime to give it back"),
        }
    }
}

async fn give_back(db: &DatabaseConnection, reserved: &[Reserved], success: bool) -> DomainResult<()> {
    if reserved.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let txn = begin_write(db).await?;
    for r in reserved {
        let Some(row) = login_throttle::Entity::find_by_id(r.key.clone()).lock_exclusive().one(&txn).await? else {
            continue;
        };
        let mut active: login_throttle::ActiveModel = row.clone().into();
        if success && r.scope == Scope::Pair {
            active.failures = Set(0);
            active.blocked_until = Set(None);
            active.last_failure_at = Set(None);
            active.last_success_at = Set(Some(now));
            active.expires_at = Set((now + Duration::days(KNOWN_DAYS)).max(row.expires_at));
        } else {
            active.failures = Set((row.failures - 1).max(0));
            // Undo our block unless a later attempt has set its own since.
            if row.blocked_until == r.set {
                active.blocked_until = Set(r.before.filter(|b| *b > now));
            }
        }
        active.update(&txn).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Deletes rows past their expiry (a flood of distinct emails cannot grow the table
/// forever). Best effort.
async fn prune(db: &impl ConnectionTrait, now: DateTime<Utc>) {
    if let Err(e) =
        login_throttle::Entity::delete_many().filter(login_throttle::Column::ExpiresAt.lt(now)).exec(db).await
    {
        tracing::warn!(error = %e, "pruning login throttles failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_after_the_free_failures_and_are_capped() {
        let d: Vec<i64> = (1..=8).map(|n| delay_secs(PAIR_FREE, n)).collect();
        assert_eq!(d, vec![0, 0, 0, 1, 2, 4, 8, 16]);
        assert_eq!(delay_secs(PAIR_FREE, 13), 512);
        assert_eq!(delay_secs(PAIR_FREE, 14), MAX_DELAY_SECS);
        assert_eq!(delay_secs(PAIR_FREE, i32::MAX), MAX_DELAY_SECS);
        assert_eq!(delay_secs(ACCOUNT_FREE, 20), 0);
        assert_eq!(delay_secs(ACCOUNT_FREE, 21), 1);
    }

    #[test]
    fn addresses_are_counted_by_ipv4_and_ipv6_slash_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap_or(IpAddr::from([0u8; 4]));
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap_or(IpAddr::from([0u8; 4]));
        assert_eq!(address_label(Some(a)), address_label(Some(b)));
        let mapped: IpAddr = "::ffff:10.0.0.7".parse().unwrap_or(IpAddr::from([0u8; 4]));
        assert_eq!(address_label(Some(mapped)), "10.0.0.7");
        assert_ne!(key("p", &["a@x", "1.2.3.4"]), key("p", &["a@x1.2", ".3.4"]));
    }
}
