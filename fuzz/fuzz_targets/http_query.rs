//! The HTTP API's query and path decoding (`api::http::request`).
//!
//! Any text: `Query::parse`, then `key()`, `ttl_seconds()`, `Query::number`
//! on both sequence parameters, and `segment()`; nothing panics, and every
//! value that comes out obeys its documented range. Constructed from the same
//! bytes `b`: `key=<percent-encoding of b>` (with `+` for some spaces) and
//! `key_base64=<b in each of the four base64 forms>` both yield exactly `b`
//! (SPEC 5: the key that is authorized is byte for byte the key that is
//! stored), `segment(<percent-encoding of b>)` yields `b` when it is
//! non-empty UTF-8, and `ttl_seconds=N` yields N for N in range.
#![no_main]

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use libfuzzer_sys::fuzz_target;
use scopegate::api::http::request::{Query, segment};

const MAX_TTL_SECONDS: u64 = 10 * 365 * 24 * 3600;

/// Percent-encodes `bytes`: unreserved characters stay literal when `flags`
/// says so (they decode to themselves either way), a space is `+` or `%20`,
/// everything else is `%XX` in upper or lower case.
fn encode(bytes: &[u8], flags: u8, plus_for_space: bool) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, &b) in bytes.iter().enumerate() {
        let bit = (flags.rotate_left(i as u32 % 8)) & 1 == 1;
        match b {
            b' ' if plus_for_space && bit => out.push('+'),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' if bit => {
                out.push(b as char)
            }
            _ if bit => out.push_str(&format!("%{b:02x}")),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn any_text(text: &str) {
    if let Ok(q) = Query::parse(Some(text)) {
        if let Ok(key) = q.key() {
            assert!(!key.is_empty(), "an empty key was accepted from {text:?}");
            if q.key_base64.is_none() {
                assert_eq!(Some(&key), q.key.as_ref());
            }
        }
        if let Ok(ttl) = q.ttl_seconds() {
            assert!(
                (1..=MAX_TTL_SECONDS).contains(&ttl),
                "ttl {ttl} from {text:?}"
            );
        }
        let _ = Query::number(&q.sequence_number, "sequence_number");
        let _ = Query::number(&q.sequence_page, "sequence_page");
    }
    // Path segments are the same text between slashes.
    for raw in text.split('/') {
        if let Ok(s) = segment(raw, "cache") {
            assert!(!s.is_empty());
        }
    }
    let _ = segment(text, "topic");
}

fuzz_target!(|data: &[u8]| {
    // Any bytes as text (a request line is ASCII, but the decoder takes &str).
    any_text(&String::from_utf8_lossy(data));

    let Some((&flags, b)) = data.split_first() else {
        return;
    };
    // key=<percent-encoding of b>, after some other parameter when a flag says so.
    let prefix = if flags & 0x80 != 0 {
        "ttl_seconds=60&other=%zz&"
    } else {
        ""
    };
    let plus = flags & 0x40 != 0;
    let query = format!("{prefix}key={}", encode(b, flags, plus));
    let parsed = Query::parse(Some(&query))
        .unwrap_or_else(|e| panic!("well-formed query {query:?} refused: {}", e.message));
    assert_eq!(parsed.key.as_deref(), Some(b), "query {query:?}");
    match parsed.key() {
        Ok(key) => assert_eq!(key, b, "query {query:?}"),
        Err(_) => assert!(b.is_empty(), "query {query:?}: key refused"),
    }
    if !prefix.is_empty() {
        assert_eq!(parsed.ttl_seconds().ok(), Some(60));
    }

    // key_base64=<b> in each base64 form, escaped or with `+` left raw.
    for engine in [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD] {
        let b64 = engine.encode(b);
        for escaped in [encode(b64.as_bytes(), flags, false), b64.clone()] {
            let query = format!("key_base64={escaped}");
            let parsed = Query::parse(Some(&query))
                .unwrap_or_else(|e| panic!("{query:?} refused: {}", e.message));
            match parsed.key() {
                Ok(key) => assert_eq!(key, b, "query {query:?}"),
                Err(e) => assert!(b.is_empty(), "query {query:?}: {}", e.message),
            }
        }
    }

    // Both at once is refused.
    let both = format!(
        "key={}&key_base64={}",
        encode(b, flags, plus),
        STANDARD.encode(b)
    );
    if let Ok(q) = Query::parse(Some(&both)) {
        assert!(
            q.key().is_err(),
            "{both:?}: key and key_base64 both accepted"
        );
    }
    // A repeated parameter is refused.
    let twice = format!("key={0}&key={0}", encode(b, flags, plus));
    assert!(Query::parse(Some(&twice)).is_err(), "{twice:?} accepted");

    // A path segment: `+` is literal there, so encode spaces as %20.
    let raw = encode(b, flags, false);
    match (segment(&raw, "cache"), std::str::from_utf8(b)) {
        (Ok(s), Ok(t)) => assert_eq!(s, t),
        (Err(_), Ok(t)) => assert!(t.is_empty(), "segment {raw:?} refused"),
        (Ok(s), Err(_)) => panic!("segment {raw:?} of non-UTF-8 bytes gave {s:?}"),
        (Err(_), Err(_)) => {}
    }

    // ttl_seconds=N for the number the first bytes spell.
    if b.len() >= 8 {
        let n = u64::from_le_bytes(b[..8].try_into().unwrap()) % (MAX_TTL_SECONDS * 2);
        let text = format!("ttl_seconds={n}");
        let q = Query::parse(Some(&text)).unwrap();
        let ttl = q.ttl_seconds().ok();
        assert_eq!(
            ttl,
            (1..=MAX_TTL_SECONDS).contains(&n).then_some(n),
            "ttl_seconds={n}"
        );
        let text = format!("sequence_number={n}&sequence_page={n}");
        let q = Query::parse(Some(&text)).unwrap();
        assert_eq!(
            Query::number(&q.sequence_number, "sequence_number").unwrap(),
            Some(n)
        );
        assert_eq!(
            Query::number(&q.sequence_page, "sequence_page").unwrap(),
            Some(n)
        );
    }
});
