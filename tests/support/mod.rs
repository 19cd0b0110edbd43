//! Shared fixtures for the integration tests: a key ring, an authenticator,
//! minting helpers, and a raw signer for hand-made (hostile) tokens.
#![allow(dead_code)]

/// Runs a test on both backends in the same `cargo test`, as rustls runs
/// its tests once per crypto provider: `both_backends! { #[tokio::test] async
/// fn name() { ... } }` becomes `name::memory` and `name::redis`, each
/// starting its servers on its backend (see `server::on_backend`).
#[allow(unused_macros)]
macro_rules! both_backends {
    ($(#[$meta:meta])* async fn $name:ident() $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            $(#[$meta])*
            async fn memory() {
                let _on = crate::support::server::on_backend(false);
                $body
            }

            $(#[$meta])*
            async fn redis() {
                let _on = crate::support::server::on_backend(true);
                $body
            }
        }
    };
}

pub mod kubelet;
pub mod redis;
pub mod server;

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use scopegate::scope::json;
use scopegate::token::{
    self, Algorithm, AuthPolicy, Authenticator, CredentialKind, GeneratedKey, KeyRing, MintRequest,
    Minted, Origin, RevocationList, RingKey,
};

/// The main and admin addresses of a gateway process, from its first line
/// (`scopegate listening on http://ADDR (HTTP API and gRPC), admin on http://ADDR`).
pub fn listening_addrs(line: &str) -> (std::net::SocketAddr, std::net::SocketAddr) {
    let after = |marker: &str| -> std::net::SocketAddr {
        let at = line.find(marker).unwrap_or_else(|| panic!("{line}")) + marker.len();
        line[at..]
            .split(|c: char| c.is_whitespace() || c == ',')
            .next()
            .unwrap()
            .parse()
            .unwrap_or_else(|e| panic!("{line}: {e}"))
    };
    (after("listening on http://"), after("admin on http://"))
}

pub const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test-secret";
pub const NOW: u64 = 1_800_000_000;

pub struct Fixture {
    pub ring: Arc<KeyRing>,
    pub auth: Authenticator,
    pub revocations: Arc<RevocationList>,
    pub ed_public_pem: String,
}

/// A ring with an HS256 signing key `k1` and an EdDSA key `e1`.
pub fn fixture() -> Fixture {
    fixture_with(AuthPolicy::default(), "k1")
}

pub fn fixture_with(policy: AuthPolicy, signing: &str) -> Fixture {
    let GeneratedKey::Ed25519 {
        private_pem,
        public_pem,
    } = token::generate(Algorithm::EdDSA).expect("randomness")
    else {
        unreachable!("EdDSA yields a key pair")
    };
    let keys = vec![
        RingKey::hs256("k1", SECRET).unwrap(),
        RingKey::ed25519("e1", Some(&private_pem), None).unwrap(),
    ];
    let ring = Arc::new(KeyRing::new(keys, Some(signing)).unwrap());
    let revocations = Arc::new(RevocationList::default());
    let auth = Authenticator::new(Arc::clone(&ring), policy, Arc::clone(&revocations));
    Fixture {
        ring,
        auth,
        revocations,
        ed_public_pem: public_pem,
    }
}

impl Fixture {
    /// Mints with the fixture's signing key at `NOW`.
    pub fn mint(&self, scope: &str, kind: CredentialKind, ttl_secs: Option<u64>) -> Minted {
        self.mint_at(scope, kind, ttl_secs, NOW)
    }

    pub fn mint_at(&self, scope: &str, kind: CredentialKind, ttl: Option<u64>, now: u64) -> Minted {
        let permissions = if scope == "superuser" {
            json::superuser()
        } else {
            json::parse(scope).unwrap()
        };
        let request = MintRequest {
            scope: &permissions,
            kind,
            ttl_secs: ttl,
            token_id: Some("tid-1"),
            subject: "alice",
            origin: Origin::Cli,
        };
        token::mint(&self.ring, self.auth.policy(), "localhost", &request, now).unwrap()
    }
}

/// A readwrite scope on cache `c`, all items.
pub const RW_C: &str = r#"{"permissions":[{"role":"readwrite","cache":"c"}]}"#;

/// base64url of a JSON text.
pub fn b64(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(text)
}

/// `header.claims.signature` signed with HMAC-SHA256 under `secret`, from raw JSON texts.
pub fn sign_raw(header: &str, claims: &str, secret: &[u8]) -> String {
    let input = format!("{}.{}", b64(header), b64(claims));
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
    mac.update(input.as_bytes());
    format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

/// The `p` claim for a scope in JSON shape.
pub fn p_claim(scope: &str) -> String {
    use prost::Message;
    let permissions = if scope == "superuser" {
        json::superuser()
    } else {
        json::parse(scope).unwrap()
    };
    URL_SAFE_NO_PAD.encode(permissions.encode_to_vec())
}

/// Claims JSON of a disposable token on `RW_C`, issued at NOW, valid 1 hour, with `extra` spliced in.
pub fn claims_with(extra: &str) -> String {
    format!(
        r#"{{"sub":"alice","ver":1,"iat":{NOW},"jti":"j1","t":"disposable","p":"{}"{extra}}}"#,
        p_claim(RW_C)
    )
}

pub const HS_HEADER: &str = r#"{"alg":"HS256","typ":"JWT","kid":"k1"}"#;

/// A gRPC request with the `authorization` and `cache` metadata the SDKs send.
pub fn grpc_call<T>(
    message: T,
    credential: Option<&str>,
    cache: Option<&str>,
) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Some(credential) = credential {
        request
            .metadata_mut()
            .insert("authorization", credential.parse().unwrap());
    }
    if let Some(cache) = cache {
        request
            .metadata_mut()
            .insert("cache", cache.parse().unwrap());
    }
    request
}
