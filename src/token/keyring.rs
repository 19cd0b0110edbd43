//! The key ring: keys by `kid`, each with one fixed algorithm.
//!
//! Key material is parsed once, at load: the HMAC key schedule for HS256 and
//! the decompressed Ed25519 point for EdDSA, so verifying a signature does no
//! key parsing. Verification uses the RustCrypto primitives jsonwebtoken itself
//! is built on (`hmac`, `ed25519-dalek`): HS256 compares in constant time
//! (`verify_slice`), EdDSA uses `verify_strict` (no malleable signatures, no
//! small-order keys). Signing goes through `jsonwebtoken::encode`.

use std::fmt;

use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use hmac::{Hmac, Mac};
use jsonwebtoken::{EncodingKey, Header};
use sha2::{Digest, Sha256};

/// The smallest HS256 secret accepted: 256 bits, as RFC 7518 3.2 requires.
pub const MIN_HS256_SECRET_BYTES: usize = 32;

/// The algorithms a key can have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize)]
pub enum Algorithm {
    HS256,
    EdDSA,
}

impl Algorithm {
    /// The JWT header's `alg` value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Algorithm::HS256 => "HS256",
            Algorithm::EdDSA => "EdDSA",
        }
    }

    fn jsonwebtoken(self) -> jsonwebtoken::Algorithm {
        match self {
            Algorithm::HS256 => jsonwebtoken::Algorithm::HS256,
            Algorithm::EdDSA => jsonwebtoken::Algorithm::EdDSA,
        }
    }
}

/// Why key material could not be loaded.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("HS256 secret is {0} bytes; at least {MIN_HS256_SECRET_BYTES} are required")]
    ShortSecret(usize),
    #[error("EdDSA private key is not a PKCS#8 Ed25519 PEM")]
    BadPrivateKey,
    #[error("EdDSA public key is not an Ed25519 public key PEM")]
    BadPublicKey,
    #[error("EdDSA public key does not match the private key")]
    MismatchedKeys,
    #[error("EdDSA key needs a private key, a public key, or both")]
    NoKeyMaterial,
    #[error("kid `{0}` appears more than once")]
    DuplicateKid(String),
    #[error("more than one key is marked for signing")]
    SeveralSigningKeys,
    #[error("key `{0}` is marked for signing but holds no private key")]
    CannotSign(String),
}

enum Verifier {
    /// The keyed HMAC state; cloned per verification.
    Hs256(Hmac<Sha256>),
    Ed25519(VerifyingKey),
}

/// One key of the ring.
pub struct RingKey {
    kid: String,
    alg: Algorithm,
    verifier: Verifier,
    signer: Option<EncodingKey>,
    /// SHA-256 of the key material it was made from: tells a changed key
    /// apart (rotation) without keeping the material itself around.
    digest: [u8; 32],
}

impl fmt::Debug for RingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material.
        f.debug_struct("RingKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("can_sign", &self.signer.is_some())
            .finish()
    }
}

impl RingKey {
    /// An HS256 key: the shared secret both signs and verifies.
    pub fn hs256(kid: &str, secret: &[u8]) -> Result<Self, KeyError> {
        if secret.len() < MIN_HS256_SECRET_BYTES {
            return Err(KeyError::ShortSecret(secret.len()));
        }
        let mac = Hmac::<Sha256>::new_from_slice(secret)
            .expect("HMAC takes keys of any length (invariant of the hmac crate)");
        Ok(RingKey {
            kid: kid.to_owned(),
            alg: Algorithm::HS256,
            verifier: Verifier::Hs256(mac),
            signer: Some(EncodingKey::from_secret(secret)),
            digest: Sha256::digest(secret).into(),
        })
    }

    /// An EdDSA (Ed25519) key from a PKCS#8 private key PEM (can sign), a public
    /// key PEM (verify only), or both (they must match).
    pub fn ed25519(
        kid: &str,
        private_pem: Option<&str>,
        public_pem: Option<&str>,
    ) -> Result<Self, KeyError> {
        let signing = private_pem
            .map(|pem| SigningKey::from_pkcs8_pem(pem).map_err(|_| KeyError::BadPrivateKey))
            .transpose()?;
        let public = public_pem
            .map(|pem| VerifyingKey::from_public_key_pem(pem).map_err(|_| KeyError::BadPublicKey))
            .transpose()?;
        let verifying = match (&signing, public) {
            (Some(s), Some(p)) if s.verifying_key() != p => return Err(KeyError::MismatchedKeys),
            (_, Some(p)) => p,
            (Some(s), None) => s.verifying_key(),
            (None, None) => return Err(KeyError::NoKeyMaterial),
        };
        if verifying.is_weak() {
            return Err(KeyError::BadPublicKey);
        }
        let signer = match (signing, private_pem) {
            (Some(_), Some(pem)) => Some(
                EncodingKey::from_ed_pem(pem.as_bytes()).map_err(|_| KeyError::BadPrivateKey)?,
            ),
            _ => None,
        };
        let mut digest = Sha256::new();
        digest.update(verifying.as_bytes());
        digest.update([u8::from(signer.is_some())]);
        if let Some(pem) = private_pem.filter(|_| signer.is_some()) {
            digest.update(pem.as_bytes());
        }
        Ok(RingKey {
            kid: kid.to_owned(),
            alg: Algorithm::EdDSA,
            verifier: Verifier::Ed25519(verifying),
            signer,
            digest: digest.finalize().into(),
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    pub fn can_sign(&self) -> bool {
        self.signer.is_some()
    }

    /// Checks `signature` over `message`; constant-time for HS256.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match &self.verifier {
            Verifier::Hs256(mac) => {
                let mut mac = mac.clone();
                mac.update(message);
                mac.verify_slice(signature).is_ok()
            }
            Verifier::Ed25519(key) => match Signature::from_slice(signature) {
                Ok(signature) => key.verify_strict(message, &signature).is_ok(),
                Err(_) => false,
            },
        }
    }
}

/// The keys of one process. Looked up by `kid` on every cold verification.
#[derive(Debug, Default)]
pub struct KeyRing {
    keys: Vec<RingKey>,
    signing: Option<usize>,
}

impl KeyRing {
    /// Builds a ring; `signing` names the kid that signs, if any.
    pub fn new(keys: Vec<RingKey>, signing: Option<&str>) -> Result<Self, KeyError> {
        for (i, key) in keys.iter().enumerate() {
            if keys[..i].iter().any(|k| k.kid == key.kid) {
                return Err(KeyError::DuplicateKid(key.kid.clone()));
            }
        }
        let signing = match signing {
            None => None,
            Some(kid) => {
                let index = keys.iter().position(|k| k.kid == kid);
                match index {
                    Some(i) if keys[i].can_sign() => Some(i),
                    _ => return Err(KeyError::CannotSign(kid.to_owned())),
                }
            }
        };
        Ok(KeyRing { keys, signing })
    }

    /// A digest of the whole ring (kids, algorithms, key material, which key
    /// signs): equal digests, the same ring.
    pub fn fingerprint(&self) -> [u8; 32] {
        let mut digest = Sha256::new();
        for key in &self.keys {
            digest.update(key.kid.as_bytes());
            digest.update([0, key.alg as u8]);
            digest.update(key.digest);
        }
        digest.update(self.signing.map_or(u64::MAX, |i| i as u64).to_le_bytes());
        digest.finalize().into()
    }

    /// The kids, in ring order (for logs: never key material).
    pub fn kids(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.kid.as_str()).collect()
    }

    /// The key for `kid`. A handful of keys: a linear scan is the fastest lookup.
    pub fn key(&self, kid: &str) -> Option<&RingKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// The signing key, if this process may mint.
    pub fn signing_key(&self) -> Option<&RingKey> {
        self.signing.map(|i| &self.keys[i])
    }

    /// Signs `claims` with the signing key, returning the compact JWT.
    pub fn sign(&self, claims: &impl serde::Serialize) -> Option<Result<String, String>> {
        let key = self.signing_key()?;
        let signer = key.signer.as_ref()?;
        let mut header = Header::new(key.alg.jsonwebtoken());
        header.kid = Some(key.kid.clone());
        Some(jsonwebtoken::encode(&header, claims, signer).map_err(|e| e.to_string()))
    }
}

/// Fresh key material in the form the config's key entries read.
pub fn generate(alg: Algorithm) -> Result<GeneratedKey, String> {
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed).map_err(|e| format!("no system randomness: {e}"))?;
    Ok(match alg {
        Algorithm::HS256 => {
            use base64::Engine;
            GeneratedKey::Secret(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(seed))
        }
        Algorithm::EdDSA => {
            let key = SigningKey::from_bytes(&seed);
            let line = ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF;
            let private = key.to_pkcs8_pem(line).map_err(|e| e.to_string())?;
            let public = key
                .verifying_key()
                .to_public_key_pem(line)
                .map_err(|e| e.to_string())?;
            GeneratedKey::Ed25519 {
                private_pem: private.to_string(),
                public_pem: public,
            }
        }
    })
}

/// Output of [`generate`].
pub enum GeneratedKey {
    /// An HS256 secret: 32 random bytes as base64url text; the text is the secret.
    Secret(String),
    Ed25519 {
        private_pem: String,
        public_pem: String,
    },
}
