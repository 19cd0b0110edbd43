//! OIDC vending: identity JWTs signed with keys made here (RS256, ES256,
//! EdDSA), the JWKS served by a loopback hyper server that can rotate it.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use scopegate::vending::jwks::{JwksSource, JwksUrl};
use scopegate::vending::oidc::OidcConfig;
use scopegate::vending::policy::Policy;
use scopegate::vending::{VendAuth, VendingConfig};
use serde_json::{Value, json};

use super::{serve, vend, vended};
use crate::support::server::Server;

const ISSUER: &str = "https://idp.test/";
const AUDIENCE: &str = "scopegate";

/// A signing key of the test identity provider and its public JWK.
struct IdpKey {
    kid: &'static str,
    alg: Algorithm,
    encoding: EncodingKey,
    jwk: Value,
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes).unwrap();
    bytes
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn rsa_key(kid: &'static str) -> IdpKey {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::traits::PublicKeyParts;
    // 1024 bits keeps key generation fast in an unoptimized test build; the
    // verifier does not care about the size.
    let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024).unwrap();
    let der = key.to_pkcs1_der().unwrap();
    IdpKey {
        kid,
        alg: Algorithm::RS256,
        encoding: EncodingKey::from_rsa_der(der.as_bytes()),
        jwk: json!({"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
                    "n": b64(&key.n().to_bytes_be()), "e": b64(&key.e().to_bytes_be())}),
    }
}

fn ec_key(kid: &'static str) -> IdpKey {
    use p256::pkcs8::EncodePrivateKey;
    let key = p256::ecdsa::SigningKey::from_slice(&random::<32>()).unwrap();
    let point = key.verifying_key().to_encoded_point(false);
    IdpKey {
        kid,
        alg: Algorithm::ES256,
        encoding: EncodingKey::from_ec_der(key.to_pkcs8_der().unwrap().as_bytes()),
        jwk: json!({"kty": "EC", "crv": "P-256", "kid": kid,
                    "x": b64(point.x().unwrap()), "y": b64(point.y().unwrap())}),
    }
}

fn ed_key(kid: &'static str) -> IdpKey {
    use ed25519_dalek::pkcs8::EncodePrivateKey;
    let key = ed25519_dalek::SigningKey::from_bytes(&random::<32>());
    IdpKey {
        kid,
        alg: Algorithm::EdDSA,
        encoding: EncodingKey::from_ed_der(key.to_pkcs8_der().unwrap().as_bytes()),
        jwk: json!({"kty": "OKP", "crv": "Ed25519", "kid": kid,
                    "x": b64(key.verifying_key().as_bytes())}),
    }
}

impl IdpKey {
    fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = Some(self.kid.to_owned());
        encode(&header, claims, &self.encoding).unwrap()
    }
}

fn now() -> u64 {
    scopegate::token::unix_now()
}

fn claims(sub: &str, groups: Value) -> Value {
    json!({"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "iat": now(), "exp": now() + 300, "groups": groups})
}

/// A JWKS document served at `http://addr/jwks`, replaceable; counts fetches.
struct Jwks {
    addr: SocketAddr,
    doc: Arc<Mutex<String>>,
    fetches: Arc<AtomicUsize>,
}

impl Jwks {
    async fn serve(keys: &[&IdpKey]) -> Jwks {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let doc = Arc::new(Mutex::new(String::new()));
        let fetches = Arc::new(AtomicUsize::new(0));
        let jwks = Jwks {
            addr,
            doc: Arc::clone(&doc),
            fetches: Arc::clone(&fetches),
        };
        jwks.set(keys);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (doc, fetches) = (Arc::clone(&doc), Arc::clone(&fetches));
                let service = hyper::service::service_fn(move |_req| {
                    fetches.fetch_add(1, Ordering::SeqCst);
                    let body = doc.lock().unwrap().clone();
                    async move {
                        Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(
                            Bytes::from(body),
                        )))
                    }
                });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service),
                );
            }
        });
        jwks
    }

    fn set(&self, keys: &[&IdpKey]) {
        let doc = json!({"keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>()});
        *self.doc.lock().unwrap() = doc.to_string();
    }
}

fn policy(group: &str, scope: &str) -> Policy {
    Policy::new(group, scope, 300, &Default::default()).unwrap()
}

async fn gateway(jwks: &Jwks) -> Server {
    let settings = OidcConfig {
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
        source: JwksSource::Url(JwksUrl::parse(&format!("http://{}/jwks", jwks.addr)).unwrap()),
        initial: None,
        groups_claim: "groups".into(),
        refresh: Duration::from_secs(3600),
        min_refresh: Duration::from_millis(300),
        timeout: Duration::from_secs(5),
        max_bytes: 64 * 1024,
    };
    let policies = vec![
        policy(
            "readers",
            r#"{"permissions":[{"role":"readonly","cache":"default-cache"}]}"#,
        ),
        policy(
            "writers",
            r#"{"permissions":[{"role":"readwrite","cache":"default-cache","item":{"keyPrefix":"{sub}/"}}]}"#,
        ),
    ];
    serve(VendingConfig::new(VendAuth::Oidc(settings), policies)).await
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

async fn status(s: &Server, token: &str) -> u16 {
    vend(s, "/vend", &[("authorization", &bearer(token))])
        .await
        .status
}

#[tokio::test]
async fn identity_tokens_of_each_algorithm_vend_their_groups_scope() {
    let (rsa, ec, ed) = (rsa_key("rsa-1"), ec_key("ec-1"), ed_key("ed-1"));
    let jwks = Jwks::serve(&[&rsa, &ec, &ed]).await;
    let s = gateway(&jwks).await;

    let id = rsa.sign(&claims("user-1", json!(["writers", "unknown-group"])));
    let (token, inspected) = vended(&vend(&s, "/vend", &[("authorization", &bearer(&id))]).await);
    assert_eq!(
        (inspected.subject.as_str(), inspected.token_id.as_deref()),
        ("user-1", Some("user-1"))
    );
    assert_eq!(
        s.put(
            "/cache/default-cache?key=user-1/a&ttl_seconds=60",
            &token,
            b"v"
        )
        .await
        .status,
        204
    );
    assert_eq!(
        s.put(
            "/cache/default-cache?key=user-2/a&ttl_seconds=60",
            &token,
            b"v"
        )
        .await
        .status,
        403
    );

    // ES256, the groups claim a string.
    let id = ec.sign(&claims("user-2", json!("readers")));
    let (token, _) = vended(&vend(&s, "/vend", &[("authorization", &bearer(&id))]).await);
    assert_eq!(
        s.get("/cache/default-cache?key=user-1/a", Some(&token))
            .await
            .body,
        "v"
    );
    assert_eq!(
        s.put(
            "/cache/default-cache?key=user-2/a&ttl_seconds=60",
            &token,
            b"v"
        )
        .await
        .status,
        403
    );

    // EdDSA; the same identity token again is a cache hit (no new fetch).
    let id = ed.sign(&claims("user-3", json!(["writers"])));
    assert_eq!(status(&s, &id).await, 200);
    let fetched = jwks.fetches.load(Ordering::SeqCst);
    assert_eq!(status(&s, &id).await, 200);
    assert_eq!(jwks.fetches.load(Ordering::SeqCst), fetched);

    // No group with a policy: 403.
    assert_eq!(
        status(&s, &ed.sign(&claims("user-4", json!(["guests"])))).await,
        403
    );
    let mut no_groups = claims("user-4", Value::Null);
    no_groups.as_object_mut().unwrap().remove("groups");
    assert_eq!(status(&s, &ed.sign(&no_groups)).await, 403);
}

#[tokio::test]
async fn groups_come_only_from_the_verified_token() {
    let ed = ed_key("ed-1");
    let jwks = Jwks::serve(&[&ed]).await;
    let s = gateway(&jwks).await;
    let id = ed.sign(&claims("user-5", json!(["readers"])));
    let headers = [
        ("authorization", bearer(&id)),
        ("x-groups", "writers".into()),
        ("groups", "writers".into()),
    ];
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (token, _) = vended(&vend(&s, "/vend?group=writers&groups=writers", &headers).await);
    let put = s
        .put(
            "/cache/default-cache?key=user-5/a&ttl_seconds=60",
            &token,
            b"v",
        )
        .await;
    assert_eq!(put.status, 403, "a forged group must not grant writes");
}

#[tokio::test]
async fn bad_identity_tokens_are_401() {
    let (ed, stranger) = (ed_key("ed-1"), ed_key("ed-unknown"));
    let jwks = Jwks::serve(&[&ed]).await;
    let s = gateway(&jwks).await;
    let with = |change: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        let mut c = claims("user-6", json!(["readers"]));
        change(c.as_object_mut().unwrap());
        ed.sign(&c)
    };
    let expired = with(&|c| {
        c.insert("exp".into(), json!(now() - 120));
    });
    let wrong_issuer = with(&|c| {
        c.insert("iss".into(), json!("https://evil.test/"));
    });
    let wrong_audience = with(&|c| {
        c.insert("aud".into(), json!("another-service"));
    });
    let no_exp = with(&|c| {
        c.remove("exp");
    });
    let oversized = with(&|c| {
        c.insert("padding".into(), json!("x".repeat(9000)));
    });
    let unknown_kid = stranger.sign(&claims("user-6", json!(["readers"])));
    // alg none: a header and claims with an empty signature.
    let none = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT","kid":"ed-1"}"#),
        b64(claims("user-6", json!(["readers"])).to_string().as_bytes())
    );
    // A valid token with its claims swapped for others: bad signature.
    let good = with(&|_| {});
    let parts: Vec<&str> = good.split('.').collect();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64(claims("user-6", json!(["writers"])).to_string().as_bytes()),
        parts[2]
    );
    for (token, why) in [
        (&expired, "expired"),
        (&wrong_issuer, "wrong issuer"),
        (&wrong_audience, "wrong audience"),
        (&no_exp, "no exp"),
        (&oversized, "oversized"),
        (&unknown_kid, "unknown kid"),
        (&none, "alg none"),
        (&tampered, "tampered claims"),
        (&"not-a-jwt".to_owned(), "not a JWT"),
    ] {
        let reply = vend(&s, "/vend", &[("authorization", &bearer(token))]).await;
        assert_eq!(
            (reply.status, reply.code().as_str()),
            (401, "AUTHENTICATION_ERROR"),
            "{why}"
        );
    }
    assert_eq!(
        vend(&s, "/vend", &[]).await.status,
        401,
        "no identity token"
    );
    assert_eq!(status(&s, &good).await, 200, "the untouched token works");
}

#[tokio::test]
async fn a_rotated_jwks_is_picked_up_on_an_unknown_kid() {
    let (old, new) = (ed_key("ed-old"), rsa_key("rsa-new"));
    let jwks = Jwks::serve(&[&old]).await;
    let s = gateway(&jwks).await;
    assert_eq!(
        status(&s, &old.sign(&claims("user-7", json!(["readers"])))).await,
        200
    );
    // The provider rotates: the new key is served, the old one is gone.
    jwks.set(&[&new]);
    tokio::time::sleep(Duration::from_millis(400)).await; // past jwks_min_refresh
    assert_eq!(
        status(&s, &new.sign(&claims("user-7", json!(["readers"])))).await,
        200
    );
    let later = claims("user-8", json!(["readers"]));
    assert_eq!(
        status(&s, &old.sign(&later)).await,
        401,
        "the removed key no longer verifies"
    );
}
