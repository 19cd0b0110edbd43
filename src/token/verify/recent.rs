//! The credentials each thread verified last: a small direct-mapped table per
//! thread in front of the shared verification cache.
//!
//! A hit in the shared cache (moka) costs its read bookkeeping, a channel
//! send shared by every thread, and clock reads for the entry's expiry; most
//! requests on a connection repeat the credential the thread saw a moment
//! ago. A hit here is a hash, a comparison and an `Arc` clone.
//!
//! What keeps it sound: an entry is served only to the [`Authenticator`] that
//! stored it (`owner`), only while the key ring is the one it was verified
//! under (`generation`, bumped by every ring replacement), and only until its
//! `until` (the shared cache's TTL). Expiry and revocation are checked on
//! every hit by the caller, as for shared-cache hits. Failures are never
//! stored. Its size is bounded: `SLOTS` entries per thread, each at most
//! `auth.max_credential_bytes` long.
//!
//! [`Authenticator`]: super::Authenticator

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::Verified;

/// Entries per thread.
const SLOTS: usize = 64;

/// The owner id of the next table handle (one per `Authenticator`).
static NEXT_OWNER: AtomicU64 = AtomicU64::new(1);

struct Slot {
    owner: u64,
    generation: u64,
    hash: u64,
    /// Epoch seconds after which the entry is not served.
    until: u64,
    credential: Box<[u8]>,
    verified: Arc<Verified>,
}

thread_local! {
    static TABLE: RefCell<Vec<Option<Slot>>> = const { RefCell::new(Vec::new()) };
}

/// One authenticator's handle on the per-thread tables.
pub(super) struct Recent {
    owner: u64,
    generation: AtomicU64,
    /// Credentials are the client's choice: the slot index is keyed at random.
    hasher: ahash::RandomState,
}

impl Recent {
    pub(super) fn new() -> Self {
        Recent {
            owner: NEXT_OWNER.fetch_add(1, Ordering::Relaxed),
            generation: AtomicU64::new(0),
            hasher: ahash::RandomState::new(),
        }
    }

    /// The key ring's generation now. Read it before reading the ring, and
    /// store what was verified under the generation read.
    pub(super) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Called after the ring is replaced: nothing stored before is served.
    pub(super) fn new_generation(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The slot hash of `credential`: computed once per request, for its
    /// [`get`](Self::get) and its [`put`](Self::put).
    pub(super) fn hash(&self, credential: &[u8]) -> u64 {
        self.hasher.hash_one(credential)
    }

    /// What this thread stored for `credential` (of `hash`) under
    /// `generation`, if it is still to be served at `now`.
    pub(super) fn get(
        &self,
        credential: &[u8],
        hash: u64,
        generation: u64,
        now: u64,
    ) -> Option<Arc<Verified>> {
        TABLE.with(|table| {
            let table = table.borrow();
            let slot = table.get(index(hash))?.as_ref()?;
            let live = slot.owner == self.owner
                && slot.generation == generation
                && slot.hash == hash
                && now < slot.until
                && *slot.credential == *credential;
            live.then(|| Arc::clone(&slot.verified))
        })
    }

    /// Stores a verified `credential` (of `hash`) for this thread, until `until`.
    pub(super) fn put(
        &self,
        credential: &[u8],
        hash: u64,
        verified: &Arc<Verified>,
        generation: u64,
        until: u64,
    ) {
        TABLE.with(|table| {
            let mut table = table.borrow_mut();
            if table.is_empty() {
                table.resize_with(SLOTS, || None);
            }
            table[index(hash)] = Some(Slot {
                owner: self.owner,
                generation,
                hash,
                until,
                credential: credential.into(),
                verified: Arc::clone(verified),
            });
        });
    }
}

fn index(hash: u64) -> usize {
    // The high bits: ahash mixes them well, and the low ones pick moka's
    // shard and bucket too.
    (hash >> 58) as usize % SLOTS
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::{ScopeLimits, compile, json};
    use crate::token::CredentialKind;

    fn verified(jti: &str) -> Arc<Verified> {
        Arc::new(Verified {
            kind: CredentialKind::ApiKey,
            kid: "k".into(),
            subject: "s".into(),
            jti: jti.into(),
            token_id: None,
            issued_at: 0,
            expires_at: None,
            scope: compile(&json::superuser(), &ScopeLimits::default()).unwrap(),
        })
    }

    #[test]
    fn served_only_to_its_owner_under_its_generation_until_its_time() {
        let (a, b) = (Recent::new(), Recent::new());
        let v = verified("one");
        a.put(b"cred", a.hash(b"cred"), &v, a.generation(), 100);
        let hit = a.get(b"cred", a.hash(b"cred"), a.generation(), 99).unwrap();
        assert!(Arc::ptr_eq(&hit, &v));
        assert!(
            a.get(b"cred", a.hash(b"cred"), a.generation(), 100)
                .is_none(),
            "until is exclusive"
        );
        assert!(
            a.get(b"cred2", a.hash(b"cred2"), a.generation(), 1)
                .is_none()
        );
        // The same slot and generation, another owner: not served.
        assert_eq!(a.generation(), b.generation());
        assert!(
            b.get(b"cred", a.hash(b"cred"), b.generation(), 1).is_none(),
            "another owner"
        );
        // Another thread has its own table.
        std::thread::scope(|t| {
            t.spawn(|| assert!(a.get(b"cred", a.hash(b"cred"), a.generation(), 1).is_none()));
        });
        let old = a.generation();
        a.new_generation();
        assert!(
            a.get(b"cred", a.hash(b"cred"), a.generation(), 1).is_none(),
            "a new ring"
        );
        // Stored under the old generation after the bump: still not served.
        a.put(b"cred", a.hash(b"cred"), &v, old, 100);
        assert!(a.get(b"cred", a.hash(b"cred"), a.generation(), 1).is_none());
    }

    #[test]
    fn a_slot_holds_one_credential_and_the_table_stays_bounded() {
        let r = Recent::new();
        for i in 0..1000 {
            let cred = format!("cred-{i}");
            r.put(
                cred.as_bytes(),
                r.hash(cred.as_bytes()),
                &verified("x"),
                r.generation(),
                10,
            );
        }
        TABLE.with(|t| assert_eq!(t.borrow().len(), SLOTS));
        let served = (0..1000)
            .filter(|i| {
                let cred = format!("cred-{i}");
                r.get(cred.as_bytes(), r.hash(cred.as_bytes()), r.generation(), 1)
                    .is_some()
            })
            .count();
        assert!((1..=SLOTS).contains(&served), "{served}");
    }
}
