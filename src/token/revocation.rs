//! The revocation list: credentials refused before their expiry, by `jti`,
//! `token_id` or `sub`.
//!
//! An entry revokes the matching credentials issued at or before the moment it
//! was added (so revoking a subject ends its outstanding credentials, and new
//! ones can be issued to it), and is dropped once `until` has passed: pass the
//! latest expiry of the credentials it targets (`None` keeps it for good, for
//! never-expiring API keys). The check on every request is a single atomic load
//! while the list is empty.

use std::sync::atomic::{AtomicUsize, Ordering};

use dashmap::DashMap;

/// Which claim an entry matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RevokeBy {
    Jti,
    TokenId,
    Subject,
}

impl RevokeBy {
    pub const ALL: [RevokeBy; 3] = [RevokeBy::Jti, RevokeBy::TokenId, RevokeBy::Subject];

    /// The name in the revocation API's JSON (`jti`, `token_id`, `sub`).
    pub const fn name(self) -> &'static str {
        match self {
            RevokeBy::Jti => "jti",
            RevokeBy::TokenId => "token_id",
            RevokeBy::Subject => "sub",
        }
    }

    pub fn from_name(name: &str) -> Option<RevokeBy> {
        RevokeBy::ALL.into_iter().find(|by| by.name() == name)
    }
}

/// One live entry, as the revocation API lists it and replicas share it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revocation {
    pub by: RevokeBy,
    pub value: String,
    /// Credentials issued at or before this second are revoked.
    pub revoked_at: u64,
    /// Dropped after this second; `None` keeps it.
    pub until: Option<u64>,
}

/// The most entries the list holds; past it a revocation is refused (and
/// counted) rather than memory growing without bound. Entries leave as the
/// credentials they target expire.
pub const MAX_REVOCATIONS: usize = 100_000;

/// The list is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the revocation list is full ({MAX_REVOCATIONS} live entries)")]
pub struct ListFull;

#[derive(Clone, Copy, Debug)]
struct Entry {
    /// Credentials issued at or before this second are revoked.
    revoked_at: u64,
    /// The entry is dropped after this second; `None` keeps it.
    until: Option<u64>,
}

impl Entry {
    fn covers(&self, issued_at: u64, now: u64) -> bool {
        issued_at <= self.revoked_at && self.until.is_none_or(|until| now <= until)
    }
}

/// Concurrent revocation list.
#[derive(Debug, Default)]
pub struct RevocationList {
    jti: DashMap<Box<str>, Entry>,
    token_id: DashMap<Box<str>, Entry>,
    subject: DashMap<Box<str>, Entry>,
    len: AtomicUsize,
}

impl RevocationList {
    fn map(&self, by: RevokeBy) -> &DashMap<Box<str>, Entry> {
        match by {
            RevokeBy::Jti => &self.jti,
            RevokeBy::TokenId => &self.token_id,
            RevokeBy::Subject => &self.subject,
        }
    }

    /// Revokes credentials whose `by` claim is `value` and that were issued at or
    /// before `now`, until `until` (epoch seconds). Expired entries are purged.
    pub fn revoke(
        &self,
        by: RevokeBy,
        value: &str,
        now: u64,
        until: Option<u64>,
    ) -> Result<(), ListFull> {
        self.insert(
            &Revocation {
                by,
                value: value.to_owned(),
                revoked_at: now,
                until,
            },
            now,
        )
    }

    /// Adds an entry as given (a replica's, with its own `revoked_at`). An
    /// entry for the same value keeps the later `revoked_at` and `until`.
    pub fn insert(&self, r: &Revocation, now: u64) -> Result<(), ListFull> {
        if r.until.is_some_and(|until| until < now) {
            return Ok(()); // nothing it targets is still valid
        }
        let map = self.map(r.by);
        if let Some(mut existing) = map.get_mut(r.value.as_str()) {
            existing.revoked_at = existing.revoked_at.max(r.revoked_at);
            existing.until = match (existing.until, r.until) {
                (Some(a), Some(b)) => Some(a.max(b)),
                _ => None,
            };
            return Ok(());
        }
        if self.len() >= MAX_REVOCATIONS {
            self.purge(now);
            if self.len() >= MAX_REVOCATIONS {
                return Err(ListFull);
            }
        }
        let entry = Entry {
            revoked_at: r.revoked_at,
            until: r.until,
        };
        if map.insert(r.value.as_str().into(), entry).is_none() {
            self.len.fetch_add(1, Ordering::Release);
        }
        Ok(())
    }

    /// Every live entry at `now`.
    pub fn entries(&self, now: u64) -> Vec<Revocation> {
        let mut out = Vec::new();
        for by in RevokeBy::ALL {
            for entry in self.map(by).iter() {
                if entry.until.is_none_or(|until| now <= until) {
                    out.push(Revocation {
                        by,
                        value: entry.key().to_string(),
                        revoked_at: entry.revoked_at,
                        until: entry.until,
                    });
                }
            }
        }
        out
    }

    /// Whether a credential with these claims is revoked at `now`.
    #[inline]
    pub fn is_revoked(
        &self,
        jti: &str,
        token_id: Option<&str>,
        subject: &str,
        issued_at: u64,
        now: u64,
    ) -> bool {
        if self.len.load(Ordering::Acquire) == 0 {
            return false;
        }
        let hit = |by, value: &str| {
            self.map(by)
                .get(value)
                .is_some_and(|entry| entry.covers(issued_at, now))
        };
        hit(RevokeBy::Jti, jti)
            || token_id.is_some_and(|id| hit(RevokeBy::TokenId, id))
            || hit(RevokeBy::Subject, subject)
    }

    /// Number of live entries.
    pub fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops the entries whose `until` has passed.
    pub fn purge(&self, now: u64) {
        for by in RevokeBy::ALL {
            self.map(by).retain(|_, entry| {
                let keep = entry.until.is_none_or(|until| now <= until);
                if !keep {
                    self.len.fetch_sub(1, Ordering::Release);
                }
                keep
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revokes_by_each_claim_and_only_credentials_issued_before() {
        let list = RevocationList::default();
        assert!(!list.is_revoked("j", Some("t"), "s", 10, 10));
        list.revoke(RevokeBy::Jti, "j1", 100, Some(200)).unwrap();
        list.revoke(RevokeBy::TokenId, "t1", 100, Some(200))
            .unwrap();
        list.revoke(RevokeBy::Subject, "s1", 100, None).unwrap();
        assert!(list.is_revoked("j1", None, "x", 50, 150));
        assert!(list.is_revoked("x", Some("t1"), "x", 100, 150));
        assert!(list.is_revoked("x", None, "s1", 99, 10_000));
        // Issued after the revocation: a new credential for the same subject works.
        assert!(!list.is_revoked("x", None, "s1", 101, 150));
        // Other values are untouched.
        assert!(!list.is_revoked("j2", Some("t2"), "s2", 50, 150));
        assert_eq!(list.len(), 3);
    }

    #[test]
    fn entries_expire_with_the_credentials_they_revoke() {
        let list = RevocationList::default();
        list.revoke(RevokeBy::Jti, "j1", 100, Some(200)).unwrap();
        assert!(list.is_revoked("j1", None, "s", 50, 200));
        assert!(!list.is_revoked("j1", None, "s", 50, 201));
        list.purge(201);
        assert!(list.is_empty());
        // Re-revoking the same value does not double count.
        list.revoke(RevokeBy::Subject, "s", 300, None).unwrap();
        list.revoke(RevokeBy::Subject, "s", 301, None).unwrap();
        assert_eq!(list.len(), 1);
    }

    #[test]
    fn the_list_is_capped_and_merges_repeats() {
        let list = RevocationList::default();
        for i in 0..MAX_REVOCATIONS {
            list.revoke(RevokeBy::Jti, &format!("j{i}"), 100, Some(1000))
                .unwrap();
        }
        assert_eq!(
            list.revoke(RevokeBy::Jti, "one-more", 100, Some(1000)),
            Err(ListFull)
        );
        // A repeat is a merge, not a new entry; expired ones make room.
        list.revoke(RevokeBy::Jti, "j1", 200, Some(2000)).unwrap();
        assert_eq!(list.len(), MAX_REVOCATIONS);
        assert!(list.is_revoked("j1", None, "s", 150, 1500));
        list.revoke(RevokeBy::Jti, "later", 1001, None).unwrap();
        assert_eq!(list.len(), 2, "the expired entries were purged");
        let entries = list.entries(1001);
        assert_eq!(entries.len(), 2);
    }
}
