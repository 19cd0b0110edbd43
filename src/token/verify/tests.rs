//! The verification cache's generation rule, at the seam the public API
//! cannot reach: what a verification racing a key rotation leaves behind.

use std::sync::Arc;

use super::*;
use crate::scope::json;
use crate::token::{CredentialKind, MintRequest, Origin, RingKey, mint};

fn ring(secret: &[u8]) -> Arc<KeyRing> {
    Arc::new(KeyRing::new(vec![RingKey::hs256("k1", secret).unwrap()], Some("k1")).unwrap())
}

/// A verification that read the old ring but stored its result after the
/// rotation cleared the caches (the race `invalidate_all` alone leaves open)
/// is served by neither level: both check the generation it was stored under.
#[test]
fn entries_stored_under_an_old_ring_are_not_served() {
    let old = ring(&[1u8; 32]);
    let auth = Authenticator::new(
        Arc::clone(&old),
        AuthPolicy::default(),
        Arc::new(RevocationList::default()),
    );
    let scope = json::parse(r#"{"permissions":[{"role":"readwrite","cache":"c"}]}"#).unwrap();
    let request = MintRequest {
        scope: &scope,
        kind: CredentialKind::Disposable,
        ttl_secs: Some(3600),
        token_id: None,
        subject: "alice",
        origin: Origin::Cli,
    };
    // The real clock: moka keeps an entry no longer than its credential's exp.
    let now = unix_now();
    let minted = mint(&old, auth.policy(), "localhost", &request, now).unwrap();
    // Verified under the old ring: now in this thread's table and in moka.
    assert!(auth.authenticate_at(&minted.envelope, now).is_ok());
    // The rotation's effect without its cache clear: k1 is another secret now.
    *auth.ring.write().unwrap() = ring(&[2u8; 32]);
    auth.recent.new_generation();
    assert_eq!(
        auth.authenticate_at(&minted.envelope, now).unwrap_err(),
        AuthError::BadSignature
    );
    // The same from a thread whose table is empty: moka's entry is not served.
    std::thread::scope(|t| {
        t.spawn(|| {
            assert_eq!(
                auth.authenticate_at(&minted.envelope, now).unwrap_err(),
                AuthError::BadSignature
            );
        });
    });
}
