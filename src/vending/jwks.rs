//! The identity provider's keys: a JWKS document parsed into verification
//! keys by `kid`, and its fetch over `http://` (hyper) or `https://`
//! (tokio-rustls, the system's roots), bounded in time and size.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::rt::TokioIo;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

/// Where the keys come from.
#[derive(Clone, Debug)]
pub enum JwksSource {
    Url(JwksUrl),
    File(PathBuf),
}

/// A validated `jwks_url`.
#[derive(Clone, Debug)]
pub struct JwksUrl {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    /// Path and query, `/` at least.
    pub path: String,
    /// The URL as configured, for logs.
    pub text: String,
}

impl JwksUrl {
    /// Parses an `http://` or `https://` URL without user information.
    pub fn parse(text: &str) -> Result<JwksUrl, String> {
        let uri: http::Uri = text.parse().map_err(|_| "is not a URL".to_owned())?;
        let tls = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err("must start with https:// or http://".into()),
        };
        let authority = uri.authority().ok_or("has no host")?;
        if authority.as_str().contains('@') {
            return Err("must not hold user information".into());
        }
        Ok(JwksUrl {
            tls,
            host: authority.host().trim_matches(['[', ']']).to_owned(),
            port: authority.port_u16().unwrap_or(if tls { 443 } else { 80 }),
            path: uri
                .path_and_query()
                .map_or("/".to_owned(), |p| p.as_str().to_owned()),
            text: text.to_owned(),
        })
    }
}

/// A usable key: the one algorithm its type allows, and the key.
#[derive(Clone)]
pub struct Key {
    pub alg: Algorithm,
    pub key: DecodingKey,
}

/// The keys of one JWKS document, by `kid`.
#[derive(Clone, Default)]
pub struct KeySet(pub HashMap<String, Arc<Key>>);

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

impl KeySet {
    /// Parses a JWKS document. Keys without a `kid`, of other types or curves,
    /// or meant for encryption are skipped; a document with no usable key is
    /// an error.
    pub fn parse(bytes: &[u8]) -> Result<KeySet, String> {
        let doc: Value = serde_json::from_slice(bytes).map_err(|_| "the JWKS is not JSON")?;
        let keys = doc
            .get("keys")
            .and_then(Value::as_array)
            .ok_or("the JWKS has no `keys` array")?;
        let mut set = HashMap::new();
        for value in keys {
            let Ok(jwk) = serde_json::from_value::<Jwk>(value.clone()) else {
                continue;
            };
            if let Some((kid, key)) = usable(&jwk) {
                set.insert(kid, Arc::new(key));
            }
        }
        if set.is_empty() {
            return Err("the JWKS holds no usable RS256, ES256 or EdDSA key with a kid".into());
        }
        Ok(KeySet(set))
    }
}

/// The key's `kid` and its one algorithm (from its type and curve; a declared
/// `alg` must agree), so a token cannot pick another algorithm for the key.
fn usable(jwk: &Jwk) -> Option<(String, Key)> {
    use jsonwebtoken::jwk::{KeyAlgorithm, PublicKeyUse};
    let kid = jwk.common.key_id.clone().filter(|k| !k.is_empty())?;
    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
        return None;
    }
    let (alg, declared) = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => (Algorithm::RS256, KeyAlgorithm::RS256),
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => {
            (Algorithm::ES256, KeyAlgorithm::ES256)
        }
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
            (Algorithm::EdDSA, KeyAlgorithm::EdDSA)
        }
        _ => return None,
    };
    if jwk.common.key_algorithm.is_some_and(|a| a != declared) {
        return None;
    }
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some((kid, Key { alg, key }))
}

/// Reads the keys from their source.
pub async fn load(
    source: &JwksSource,
    timeout: Duration,
    max_bytes: usize,
) -> Result<KeySet, String> {
    let bytes = match source {
        JwksSource::File(path) => {
            let read = path.clone();
            let bytes = tokio::task::spawn_blocking(move || std::fs::read(read))
                .await
                .map_err(|_| "the file read did not finish".to_owned())?
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            if bytes.len() > max_bytes {
                return Err(format!("the JWKS is larger than {max_bytes} bytes"));
            }
            Bytes::from(bytes)
        }
        JwksSource::Url(url) => tokio::time::timeout(timeout, fetch(url, max_bytes))
            .await
            .map_err(|_| format!("no answer within {}", humantime::format_duration(timeout)))??,
    };
    KeySet::parse(&bytes)
}

/// One GET on a fresh connection; a body over `max_bytes` stops the read.
async fn fetch(url: &JwksUrl, max_bytes: usize) -> Result<Bytes, String> {
    let tcp = tokio::net::TcpStream::connect((url.host.as_str(), url.port))
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    if url.tls {
        let name = rustls_pki_types::ServerName::try_from(url.host.clone())
            .map_err(|_| "the host is not a valid TLS server name".to_owned())?;
        let stream = tokio_rustls::TlsConnector::from(tls_config()?)
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS handshake failed: {e}"))?;
        get(stream, url, max_bytes).await
    } else {
        get(tcp, url, max_bytes).await
    }
}

async fn get<S>(io: S, url: &JwksUrl, max_bytes: usize) -> Result<Bytes, String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| format!("HTTP handshake failed: {e}"))?;
    let connection = tokio::spawn(connection);
    let host = if (url.tls && url.port == 443) || (!url.tls && url.port == 80) {
        url.host.clone()
    } else {
        format!("{}:{}", url.host, url.port)
    };
    let request = http::Request::get(url.path.as_str())
        .header(http::header::HOST, host)
        .header(http::header::ACCEPT, "application/json")
        .body(Empty::<Bytes>::new())
        .map_err(|e| format!("bad request: {e}"))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    if response.status() != http::StatusCode::OK {
        connection.abort();
        return Err(format!("answered HTTP {}", response.status().as_u16()));
    }
    let body = Limited::new(response.into_body(), max_bytes)
        .collect()
        .await
        .map_err(|_| format!("the JWKS is larger than {max_bytes} bytes or was cut off"));
    connection.abort();
    Ok(body?.to_bytes())
}

/// The client TLS config: the system's roots, loaded once per process.
fn tls_config() -> Result<Arc<tokio_rustls::rustls::ClientConfig>, String> {
    use std::sync::OnceLock;
    use tokio_rustls::rustls;
    static CONFIG: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let mut roots = rustls::RootCertStore::empty();
            for cert in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(cert);
            }
            if roots.is_empty() {
                return Err("no system root certificates to verify the JWKS host".into());
            }
            // The provider is named, as for the server (both aws-lc and ring may be linked).
            let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| e.to_string())?
                .with_root_certificates(roots)
                .with_no_client_auth();
            Ok(Arc::new(config))
        })
        .clone()
}
