//! Verified bearer credentials remembered for [`TTL`], so a busy integrator's requests do
//! not each pay the key (or user and membership) lookup. Every change that could make a
//! remembered answer wrong (key revoked, role changed, user deactivated, sessions ended)
//! empties the cache of this process when it commits; another replica sees the change
//! within [`TTL`]. A lookup that started before such a change never fills the cache with
//! its now-stale answer (the generation check).

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use sha2::{Digest, Sha256};

use crate::auth::Actor;

pub const TTL: Duration = Duration::from_secs(2);
/// Entries at most; past that the cache starts over (a flood of distinct credentials
/// cannot grow memory).
const CAPACITY: usize = 10_000;

#[derive(Default)]
pub struct AuthCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    generation: u64,
    entries: HashMap<[u8; 32], (Actor, Instant)>,
}

/// Where a lookup stood when it missed: pass it back to [`AuthCache::put`].
pub struct Miss {
    key: [u8; 32],
    generation: u64,
}

impl AuthCache {
    pub fn get(&self, bearer: &str) -> Result<Actor, Miss> {
        let key: [u8; 32] = Sha256::digest(bearer.as_bytes()).into();
        let Ok(inner) = self.inner.lock() else { return Err(Miss { key, generation: u64::MAX }) };
        match inner.entries.get(&key) {
            Some((actor, until)) if Instant::now() < *until => Ok(actor.clone()),
            _ => Err(Miss { key, generation: inner.generation }),
        }
    }

    /// Remembers `actor` for [`TTL`] (never past `valid_until`), unless the cache was
    /// invalidated since the miss.
    pub fn put(&self, miss: Miss, actor: &Actor, valid_until: Option<Instant>) {
        let Ok(mut inner) = self.inner.lock() else { return };
        if inner.generation != miss.generation {
            return;
        }
        let now = Instant::now();
        let until = valid_until.map_or(now + TTL, |v| v.min(now + TTL));
        if until <= now {
            return;
        }
        if inner.entries.len() >= CAPACITY {
            inner.entries.retain(|_, (_, u)| *u > now);
            if inner.entries.len() >= CAPACITY {
                inner.entries.clear();
            }
        }
        inner.entries.insert(miss.key, (actor.clone(), until));
    }

    /// Forgets everything (after a change to credentials, roles or users commits).
    pub fn invalidate(&self) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.generation = inner.generation.wrapping_add(1);
            inner.entries.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use entity::enums::Role;

    use super::*;
    use crate::auth::Credential;

    fn actor() -> Actor {
        Actor::verified(Uuid::nil(), Credential::ApiKey { api_key_id: Uuid::nil() }, Role::Viewer, false, None)
    }

    #[test]
    fn remembers_then_forgets_on_invalidate() {
        let c = AuthCache::default();
        let miss = c.get("sgk_a").expect_err("empty cache misses");
        c.put(miss, &actor(), None);
        assert!(c.get("sgk_a").is_ok());
        assert!(c.get("sgk_b").is_err());
        c.invalidate();
        assert!(c.get("sgk_a").is_err());
    }

    #[test]
    fn a_lookup_older_than_an_invalidation_is_not_kept() {
        let c = AuthCache::default();
        let miss = c.get("sgk_a").expect_err("empty cache misses");
        c.invalidate();
        c.put(miss, &actor(), None);
        assert!(c.get("sgk_a").is_err());
    }

    #[test]
    fn never_kept_past_the_credential_expiry() {
        let c = AuthCache::default();
        let miss = c.get("jwt").expect_err("empty cache misses");
        c.put(miss, &actor(), Some(Instant::now()));
        assert!(c.get("jwt").is_err());
    }
}
