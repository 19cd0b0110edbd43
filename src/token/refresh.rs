//! Refresh tokens: single-use secrets bound to one API key.
//!
//! Only a SHA-256 digest of each token is kept, so the store holds nothing a
//! reader could present. Redeeming removes the entry atomically (a token works
//! once) and only when it is presented with the API key it was issued for, so
//! a token presented with the wrong key is not burnt. The store is bounded,
//! and every token expires: with its API key, and at the latest
//! `UNREDEEMED_LIFETIME` after it was issued (so tokens of never-expiring keys
//! cannot fill the store for good); expired entries are dropped first when it
//! is full. This store lives in memory (refresh tokens do not survive a
//! restart); on the Redis backend `App` keeps them in Redis instead, with the
//! same digests and rules, so any replica redeems them, once.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dashmap::DashMap;
use sha2::{Digest, Sha256};

use super::{CredentialKind, Verified};

/// Why a refresh is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefreshRefusal {
    /// Only API keys are refreshed (a disposable token is minted anew).
    NotAnApiKey,
    /// Unknown, used, expired, or issued for another key.
    BadToken,
}

/// The longest a refresh token stays redeemable (30 days), whatever its key.
pub const UNREDEEMED_LIFETIME: u64 = 30 * 24 * 3600;

struct Entry {
    api_jti: Box<str>,
    /// The API key's expiry, or `UNREDEEMED_LIFETIME` after issue if sooner.
    expires_at: u64,
}

/// Outstanding refresh tokens.
pub struct RefreshTokens {
    entries: DashMap<[u8; 32], Entry>,
    max: usize,
}

impl RefreshTokens {
    pub fn new(max: usize) -> Self {
        RefreshTokens {
            entries: DashMap::new(),
            max: max.max(1),
        }
    }

    /// Issues a token for the API key `api_jti`; `None` when the store is full.
    pub fn issue(&self, api_jti: &str, expires_at: Option<u64>, now: u64) -> Option<String> {
        if self.entries.len() >= self.max {
            self.entries.retain(|_, e| e.expires_at > now);
            if self.entries.len() >= self.max {
                return None;
            }
        }
        let (token, digest) = new_token()?;
        self.entries.insert(
            digest,
            Entry {
                api_jti: api_jti.into(),
                expires_at: redeemable_until(expires_at, now),
            },
        );
        Some(token)
    }

    /// The refresh rule, in one place: `caller` (verified) must be an API key
    /// and `token` a live refresh token issued for it; it works once.
    pub fn redeem_for(
        &self,
        token: &str,
        caller: &Verified,
        now: u64,
    ) -> Result<(), RefreshRefusal> {
        if caller.kind != CredentialKind::ApiKey {
            return Err(RefreshRefusal::NotAnApiKey);
        }
        if self.redeem(token, &caller.jti, now) {
            Ok(())
        } else {
            Err(RefreshRefusal::BadToken)
        }
    }

    /// Redeems `token` for the API key `api_jti`: true once, then never again.
    fn redeem(&self, token: &str, api_jti: &str, now: u64) -> bool {
        let removed = self
            .entries
            .remove_if(&digest(token), |_, e| *e.api_jti == *api_jti);
        removed.is_some_and(|(_, e)| e.expires_at > now)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The stored form of a refresh token: its SHA-256 digest.
pub fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// A fresh refresh token (256 random bits, base64url) and its digest.
pub fn new_token() -> Option<(String, [u8; 32])> {
    let mut secret = [0u8; 32];
    getrandom::getrandom(&mut secret).ok()?;
    let token = URL_SAFE_NO_PAD.encode(secret);
    let digest = digest(&token);
    Some((token, digest))
}

/// Until when a token for a key expiring at `expires_at` may be redeemed.
pub fn redeemable_until(expires_at: Option<u64>, now: u64) -> u64 {
    expires_at
        .unwrap_or(u64::MAX)
        .min(now.saturating_add(UNREDEEMED_LIFETIME))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_works_once_and_only_with_its_key() {
        let store = RefreshTokens::new(10);
        let token = store.issue("key-1", Some(100), 0).unwrap();
        assert!(!store.redeem(&token, "key-2", 0), "wrong key");
        assert!(store.redeem(&token, "key-1", 0), "first use");
        assert!(!store.redeem(&token, "key-1", 0), "second use");
        assert!(!store.redeem("made-up", "key-1", 0));
    }

    #[test]
    fn expired_tokens_fail_and_are_dropped_when_full() {
        let store = RefreshTokens::new(2);
        let old = store.issue("a", Some(10), 0).unwrap();
        let _ = store.issue("b", None, 0).unwrap();
        assert!(
            store.issue("c", None, 5).is_none(),
            "full, nothing expired yet"
        );
        assert!(
            store.issue("c", None, 20).is_some(),
            "the expired one made room"
        );
        assert!(!store.redeem(&old, "a", 20));
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn tokens_of_never_expiring_keys_expire_too_and_make_room() {
        let store = RefreshTokens::new(1);
        let token = store.issue("forever", None, 0).unwrap();
        assert!(store.issue("other", None, 1).is_none(), "full");
        let later = UNREDEEMED_LIFETIME + 1;
        let fresh = store.issue("other", None, later).expect("room again");
        assert!(!store.redeem(&token, "forever", later), "expired");
        assert!(store.redeem(&fresh, "other", later));
    }
}
