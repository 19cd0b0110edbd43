//! Strict parsing of HTTP API requests: path segments, query parameters, the
//! credential, the key. One decoding path: the key that is authorized is
//! byte-for-byte the key that is stored (SPEC 5).

use std::borrow::Cow;

use crate::api::MAX_TTL_SECONDS;
use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use http::HeaderMap;

use crate::error::{ApiError, ErrorCode};
use crate::token::AuthError;

/// The query parameters the HTTP API reads; each may appear once. A value
/// with nothing to decode borrows the query string.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Query<'q> {
    pub key: Option<Cow<'q, [u8]>>,
    pub key_base64: Option<Cow<'q, [u8]>>,
    pub ttl_seconds: Option<Cow<'q, [u8]>>,
    pub token: Option<Cow<'q, [u8]>>,
    pub sequence_number: Option<Cow<'q, [u8]>>,
    pub sequence_page: Option<Cow<'q, [u8]>>,
}

impl<'q> Query<'q> {
    /// Parses `a=b&c=d`. `+` is a space and `%XX` a byte, as in HTML forms;
    /// a malformed escape or a repeated parameter is INVALID_ARGUMENT. Unknown
    /// parameters are ignored.
    #[inline]
    pub fn parse(query: Option<&'q str>) -> Result<Query<'q>, ApiError> {
        let mut out = Query::default();
        // Split on the bytes: `&` and `=` are ASCII (no character search,
        // whose setup costs more than these short strings).
        let query = query.unwrap_or("").as_bytes();
        for pair in query.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
            let (name, value) = match pair.iter().position(|&b| b == b'=') {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, &b""[..]),
            };
            let (name, slot) = match name {
                b"key" => ("key", &mut out.key),
                b"key_base64" => ("key_base64", &mut out.key_base64),
                b"ttl_seconds" => ("ttl_seconds", &mut out.ttl_seconds),
                b"token" => ("token", &mut out.token),
                b"sequence_number" => ("sequence_number", &mut out.sequence_number),
                b"sequence_page" => ("sequence_page", &mut out.sequence_page),
                _ => continue,
            };
            if slot.is_some() {
                return Err(ApiError::invalid(format!(
                    "query parameter `{name}` is repeated"
                )));
            }
            *slot = Some(decode(value, true).ok_or_else(|| {
                ApiError::invalid(format!(
                    "query parameter `{name}` has a malformed percent-encoding"
                ))
            })?);
        }
        Ok(out)
    }

    /// The key, from exactly one of `key` and `key_base64`.
    pub fn key(&self) -> Result<Cow<'_, [u8]>, ApiError> {
        let key = match (&self.key, &self.key_base64) {
            (Some(_), Some(_)) => {
                return Err(ApiError::invalid("give `key` or `key_base64`, not both"));
            }
            (None, None) => {
                return Err(ApiError::invalid(
                    "a `key` or `key_base64` query parameter is required",
                ));
            }
            (Some(key), None) => Cow::Borrowed(&key[..]),
            (None, Some(b64)) => Cow::Owned(
                decode_base64(b64)
                    .ok_or_else(|| ApiError::invalid("`key_base64` is not valid base64"))?,
            ),
        };
        if key.is_empty() {
            return Err(ApiError::invalid("the key must not be empty"));
        }
        Ok(key)
    }

    /// `ttl_seconds`, required, from 1 to ten years.
    pub fn ttl_seconds(&self) -> Result<u64, ApiError> {
        let text = self
            .ttl_seconds
            .as_deref()
            .ok_or_else(|| ApiError::invalid("a `ttl_seconds` query parameter is required"))?;
        match std::str::from_utf8(text)
            .ok()
            .and_then(|t| t.parse::<u64>().ok())
        {
            Some(ttl) if (1..=MAX_TTL_SECONDS).contains(&ttl) => Ok(ttl),
            _ => Err(ApiError::invalid(format!(
                "`ttl_seconds` must be a whole number from 1 to {MAX_TTL_SECONDS}"
            ))),
        }
    }

    /// An optional unsigned number parameter.
    pub fn number(value: &Option<Cow<'_, [u8]>>, name: &str) -> Result<Option<u64>, ApiError> {
        value
            .as_deref()
            .map(|v| {
                std::str::from_utf8(v)
                    .ok()
                    .and_then(|t| t.parse::<u64>().ok())
                    .ok_or_else(|| ApiError::invalid(format!("`{name}` must be a whole number")))
            })
            .transpose()
    }
}

/// `key_base64` in any of the four forms SDKs write (SPEC 5): the standard or
/// the URL-safe alphabet, padded or not. A `+` the client did not escape has
/// been read as a space by the query decoding; a space is never base64, so it
/// is taken back as the `+` it was.
fn decode_base64(text: &[u8]) -> Option<Vec<u8>> {
    const LENIENT: GeneralPurposeConfig =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    const STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
    const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);
    let text: Vec<u8> = text
        .iter()
        .map(|&b| if b == b' ' { b'+' } else { b })
        .collect();
    STANDARD
        .decode(&text)
        .or_else(|_| URL_SAFE.decode(&text))
        .ok()
}

/// The credential, from exactly one of the `Authorization` header (raw or
/// `Bearer`) and the `token` query parameter. Two `Authorization` headers are
/// refused like header + parameter: a proxy in front that reads the other one
/// would disagree with the gateway about who is asking.
pub fn credential<'a>(headers: &'a HeaderMap, query: &'a Query) -> Result<&'a [u8], ApiError> {
    let mut all = headers.get_all(http::header::AUTHORIZATION).iter();
    let header = all.next();
    if all.next().is_some() {
        return Err(ApiError::invalid(
            "give one Authorization header, not several",
        ));
    }
    match (header, &query.token) {
        (Some(_), Some(_)) => Err(ApiError::invalid(
            "give the credential in the Authorization header or the token parameter, not both",
        )),
        (None, None) => Err(AuthError::Missing.into()),
        // Whether it is text is the authenticator's to check (see
        // `Authenticator::authenticate`); hyper admits no line breaks in a
        // header value, so ASCII whitespace is all `trim` would take.
        (Some(value), None) => Ok(strip_bearer(value.as_bytes().trim_ascii())),
        (None, Some(token)) => Ok(token),
    }
}

fn strip_bearer(credential: &[u8]) -> &[u8] {
    match credential.split_at_checked(7) {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case(b"bearer ") => rest.trim_ascii_start(),
        _ => credential,
    }
}

/// A path segment, percent-decoded (`+` is literal in paths) and UTF-8.
pub fn segment<'p>(raw: &'p str, what: &str) -> Result<Cow<'p, str>, ApiError> {
    let bytes = percent_decode(raw, false)
        .ok_or_else(|| ApiError::invalid(format!("{what} has a malformed percent-encoding")))?;
    let text = match bytes {
        // Nothing was decoded: the bytes are `raw`'s own, already UTF-8.
        Cow::Borrowed(_) => Cow::Borrowed(raw),
        Cow::Owned(bytes) => Cow::Owned(
            String::from_utf8(bytes)
                .map_err(|_| ApiError::invalid(format!("{what} is not UTF-8")))?,
        ),
    };
    if text.is_empty() {
        return Err(ApiError::invalid(format!("{what} must not be empty")));
    }
    Ok(text)
}

/// Strict percent-decoding: every `%` is followed by two hex digits. The one
/// decoder of the main port's paths and queries (the vending route's too).
/// Text with no escape (and no `+` to read as a space) is borrowed as it is.
pub fn percent_decode(text: &str, plus_is_space: bool) -> Option<Cow<'_, [u8]>> {
    decode(text.as_bytes(), plus_is_space)
}

/// [`percent_decode`] of bytes (a part of a query split on its bytes).
fn decode(bytes: &[u8], plus_is_space: bool) -> Option<Cow<'_, [u8]>> {
    let is_escape = |&b: &u8| b == b'%' || (plus_is_space && b == b'+');
    // A short value (a key) in one pass; a long one (a `token` parameter,
    // hundreds of bytes, usually with nothing to decode) by `contains`,
    // which is memchr, many bytes a step.
    let encoded = if bytes.len() <= 32 {
        bytes.iter().any(is_escape)
    } else {
        bytes.contains(&b'%') || (plus_is_space && bytes.contains(&b'+'))
    };
    if !encoded {
        return Some(Cow::Borrowed(bytes));
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                // Two hex digits exactly (from_str_radix alone would take "+A").
                let hex = bytes.get(i + 1..i + 3)?;
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return None;
                }
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Some(Cow::Owned(out))
}

/// A route that matched no operation.
pub fn no_route() -> ApiError {
    ApiError::new(ErrorCode::NotFoundError, "no such route")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_decode_strictly_once() {
        let q = Query::parse(Some("key=a%2Fb+c%FF&ttl_seconds=5&other=x")).unwrap();
        assert_eq!(q.key.as_deref(), Some(&b"a/b c\xff"[..]));
        assert_eq!(q.ttl_seconds().unwrap(), 5);
        for bad in [
            "key=%",
            "key=%4",
            "key=%zz",
            "key=a&key=b",
            "token=%GG",
            "key=%+A",
            "key=%-1",
        ] {
            assert!(Query::parse(Some(bad)).is_err(), "{bad}");
        }
        assert_eq!(
            Query::parse(Some("key=%2525")).unwrap().key.as_deref(),
            Some(&b"%25"[..])
        );
        // Short and long values, and empty pairs (skipped); the first `=`
        // cuts a pair.
        let token = "t".repeat(40);
        for text in [format!("&&token={token}&key=k=v&"), "&key=k=v&".into()] {
            let q = Query::parse(Some(&text)).unwrap();
            assert_eq!(q.key.as_deref(), Some(&b"k=v"[..]), "{text}");
        }
        let text = format!("&&token={token}&key=k=v&");
        let q = Query::parse(Some(&text)).unwrap();
        assert_eq!(q.token.as_deref(), Some(token.as_bytes()));
        for value in ["x".repeat(30), "x".into()] {
            let text = format!("key={value}%41+");
            let q = Query::parse(Some(&text)).unwrap();
            assert_eq!(q.key.as_deref(), Some(format!("{value}A ").as_bytes()));
            let q = Query::parse(Some(&format!("key={value}%4"))).unwrap_err();
            assert!(q.message.contains("malformed"), "{}", q.message);
        }
    }

    #[test]
    fn keys_and_ttls() {
        let q = |s| Query::parse(Some(s)).unwrap();
        assert_eq!(*q("key_base64=%2F%2Fw%3D").key().unwrap(), [0xff, 0xfc]);
        assert_eq!(*q("key_base64=__w=").key().unwrap(), [0xff, 0xfc]);
        assert_eq!(*q("key=plain").key().unwrap(), *b"plain");
        assert!(matches!(q("key=plain").key().unwrap(), Cow::Borrowed(_)));
        // Standard and URL-safe alphabets, padded or not; an unescaped `+`.
        for form in ["%2B%2Fw%3D", "%2B%2Fw", "-_w=", "-_w", "+/w=", "+/w"] {
            let text = format!("key_base64={form}");
            let query = Query::parse(Some(&text)).unwrap();
            assert_eq!(*query.key().unwrap(), [0xfb, 0xfc], "{form}");
        }
        assert!(q("key_base64=YQ=a").key().is_err());
        assert!(q("key=a&key_base64=YQ==").key().is_err());
        assert!(q("").key().is_err());
        assert!(q("key=").key().is_err());
        assert!(q("key_base64=!!").key().is_err());
        for bad in [
            "",
            "ttl_seconds=0",
            "ttl_seconds=-1",
            "ttl_seconds=1.5",
            "ttl_seconds=99999999999999",
        ] {
            assert!(q(bad).ttl_seconds().is_err(), "{bad}");
        }
    }

    #[test]
    fn bearer_is_optional_and_case_insensitive() {
        assert_eq!(strip_bearer(b"Bearer abc"), b"abc");
        assert_eq!(strip_bearer(b"bearer   abc"), b"abc");
        assert_eq!(strip_bearer(b"abc.def"), b"abc.def");
        assert_eq!(strip_bearer(b"Bear"), b"Bear");
    }

    #[test]
    fn segments() {
        assert_eq!(segment("my%20cache", "cache").unwrap(), "my cache");
        assert_eq!(segment("a+b", "cache").unwrap(), "a+b");
        assert!(matches!(
            segment("plain", "cache").unwrap(),
            Cow::Borrowed("plain")
        ));
        assert_eq!(percent_decode("a+b", true).unwrap(), &b"a b"[..]);
        assert_eq!(percent_decode("a+b", false).unwrap(), &b"a+b"[..]);
        assert!(segment("%ff", "cache").is_err());
        assert!(segment("", "cache").is_err());
    }
}
