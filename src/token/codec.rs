//! The wire shapes of a credential: the envelope, the compact JWT, its claims.
//!
//! Parsing is strict and never echoes input: segments are unpadded canonical
//! base64url, header and claims are JSON objects with no unknown and no
//! duplicate members, and every failure is a fixed message.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};

/// `t` of a disposable token.
pub const DISPOSABLE: &str = "disposable";
/// `t` of an API key: Momento's v2 API-key shape, which the SDKs' current
/// (non-deprecated) credential providers require. Keys without `t` stay valid.
pub const API_KEY: &str = "g";

/// The claims scopegate writes and reads (SPEC 2.1).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claims<'a> {
    #[serde(borrow)]
    pub sub: Cow<'a, str>,
    pub ver: u32,
    pub iat: u64,
    #[serde(borrow)]
    pub jti: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub t: Option<Cow<'a, str>>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub id: Option<Cow<'a, str>>,
    /// base64url (no padding) of the protobuf `permission_messages::Permissions`.
    #[serde(borrow)]
    pub p: Cow<'a, str>,
}

impl Claims<'_> {
    /// `t` = "disposable"; anything else that parsed is an API key.
    pub fn is_disposable(&self) -> bool {
        self.t.as_deref() == Some(DISPOSABLE)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct JwtHeader<'a> {
    #[serde(borrow)]
    pub alg: Cow<'a, str>,
    #[serde(default, borrow)]
    pub kid: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub typ: Option<Cow<'a, str>>,
}

/// Why a credential could not be parsed. Messages are fixed text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Malformed(pub &'static str);

/// A JWT split into its parts; the decoded JSON is owned here and borrowed by
/// [`Parsed::header`] and [`Parsed::claims`].
pub(crate) struct Parsed<'a> {
    /// `base64(header) "." base64(claims)`: the signed bytes.
    pub signing_input: &'a str,
    pub signature: Vec<u8>,
    header_json: Vec<u8>,
    claims_json: Vec<u8>,
}

impl<'a> Parsed<'a> {
    /// Splits and decodes a compact JWT. Parses nothing as JSON yet.
    pub fn split(jwt: &'a str) -> Result<Self, Malformed> {
        let mut parts = jwt.split('.');
        let (Some(header), Some(claims), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Malformed("a JWT has exactly three segments"));
        };
        // An empty signature (as in `alg: none` tokens) is left to the key and
        // signature steps, which refuse it with their own reasons.
        if header.is_empty() || claims.is_empty() {
            return Err(Malformed("empty JWT segment"));
        }
        let b64 = |s: &str, what| URL_SAFE_NO_PAD.decode(s).map_err(|_| Malformed(what));
        Ok(Parsed {
            signing_input: &jwt[..header.len() + 1 + claims.len()],
            header_json: b64(header, "header is not unpadded base64url")?,
            claims_json: b64(claims, "claims are not unpadded base64url")?,
            signature: b64(signature, "signature is not unpadded base64url")?,
        })
    }

    pub fn header(&self) -> Result<JwtHeader<'_>, Malformed> {
        let header: JwtHeader<'_> = serde_json::from_slice(&self.header_json)
            .map_err(|_| Malformed("header is not a JSON object of alg, typ and kid, each once"))?;
        match header.typ.as_deref() {
            None | Some("JWT") => Ok(header),
            Some(_) => Err(Malformed("header typ is not JWT")),
        }
    }

    pub fn claims(&self) -> Result<Claims<'_>, Malformed> {
        let claims: Claims<'_> = serde_json::from_slice(&self.claims_json).map_err(|_| {
            Malformed("claims are not a JSON object of known claims, each once and well typed")
        })?;
        if claims.ver != 1 {
            return Err(Malformed("unsupported ver claim"));
        }
        if claims.sub.is_empty() || claims.jti.is_empty() {
            return Err(Malformed("sub and jti must not be empty"));
        }
        if claims
            .t
            .as_deref()
            .is_some_and(|t| t != DISPOSABLE && t != API_KEY)
        {
            return Err(Malformed("unknown t claim"));
        }
        if claims.exp.is_some_and(|exp| exp < claims.iat) {
            return Err(Malformed("exp is before iat"));
        }
        Ok(claims)
    }
}

/// Unwraps a credential to its JWT: a JWT is returned as it is; anything
/// without a `.` is taken as an envelope in any of the four base64 variants.
pub fn unwrap_envelope(credential: &str) -> Result<Cow<'_, str>, Malformed> {
    if credential.contains('.') {
        return Ok(Cow::Borrowed(credential));
    }
    let padded = credential.ends_with('=');
    let decoded = if credential.contains(['-', '_']) {
        if padded {
            URL_SAFE.decode(credential)
        } else {
            URL_SAFE_NO_PAD.decode(credential)
        }
    } else if padded {
        STANDARD.decode(credential)
    } else {
        STANDARD_NO_PAD.decode(credential)
    }
    .map_err(|_| Malformed("credential is neither a JWT nor a base64 envelope"))?;
    #[derive(Deserialize)]
    struct Envelope {
        api_key: String,
    }
    let envelope: Envelope = serde_json::from_slice(&decoded)
        .map_err(|_| Malformed("envelope is not JSON with an api_key string"))?;
    if !envelope.api_key.contains('.') {
        return Err(Malformed("envelope api_key is not a JWT"));
    }
    Ok(Cow::Owned(envelope.api_key))
}

/// Wraps a JWT in the envelope SDKs parse: URL-safe, padded base64 of
/// `{"api_key": JWT, "endpoint": base endpoint}`. That is the form Momento's
/// Rust SDK decodes (`URL_SAFE`); decoders that accept both alphabets (the JS
/// SDK's) read it too. Every variant is accepted on input.
pub fn envelope(jwt: &str, endpoint: &str) -> String {
    let json = serde_json::json!({ "api_key": jwt, "endpoint": endpoint });
    URL_SAFE.encode(json.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_accepts_all_four_base64_variants() {
        // A JWT-ish string whose envelope encoding contains both `+/` and `-_` bytes.
        let jwt = "a.b.c";
        let json = format!(r#"{{"api_key":"{jwt}","endpoint":"e>?~"}}"#);
        for engine in [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD] {
            let wrapped = engine.encode(&json);
            assert_eq!(unwrap_envelope(&wrapped).unwrap(), jwt, "{wrapped}");
        }
        assert_eq!(unwrap_envelope(&envelope(jwt, "localhost")).unwrap(), jwt);
    }

    #[test]
    fn envelope_garbage_is_malformed() {
        for bad in [
            "",
            "!!!",
            "e30",
            "bm90IGpzb24",
            &STANDARD.encode(r#"{"api_key":"nodots"}"#),
        ] {
            assert!(unwrap_envelope(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn split_is_strict() {
        for bad in [
            "a.b",
            "a.b.c.d",
            ".b.c",
            "a..c",
            "a.b.",
            "YQ==.YQ.YQ",
            "YR.YQ.YQ",
        ] {
            assert!(Parsed::split(bad).is_err(), "{bad}");
        }
        assert!(Parsed::split("YQ.YQ.YQ").is_ok());
    }
}
