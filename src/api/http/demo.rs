//! The demo page `serve --dev` serves at `/demo`: a chat room that vends a
//! token from `/vend` and talks Momento's HTTP API (topics) with it. Its
//! source is `examples/demo/index.html`, one file with an inline style and an
//! inline script, embedded here.
//!
//! The page is served with a strict Content-Security-Policy: nothing but its
//! own inline script and style (allowed by their SHA-256, not by
//! `'unsafe-inline'`), requests only to this origin, no frames, no forms
//! posted elsewhere, no `<base>`.

use std::sync::LazyLock;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{HeaderValue, Method, Response, StatusCode, header};
use sha2::{Digest, Sha256};

use crate::api::http::Body;
use crate::app::App;

/// The page, as `examples/demo/index.html` has it.
pub const PAGE: &str = include_str!("../../../examples/demo/index.html");

/// The page's Content-Security-Policy, computed once from [`PAGE`].
pub static CSP: LazyLock<String> = LazyLock::new(|| content_security_policy(PAGE));

/// The demo page, when this gateway serves it (`GET` or `HEAD /demo` under
/// `serve --dev`); `None` leaves the request to the other routes.
pub fn page(app: &App, parts: &http::request::Parts) -> Option<Response<Body>> {
    if !app.demo || !(parts.method == Method::GET || parts.method == Method::HEAD) {
        return None;
    }
    let mut response = Response::new(Body::new(Bytes::from_static(PAGE.as_bytes())));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_str(&CSP).expect("the CSP is ASCII (invariant)"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Some(response)
}

/// `script-src` and `style-src` name the SHA-256 of each inline `<script>`
/// and `<style>` element of `html`; everything else is this origin or nothing.
pub fn content_security_policy(html: &str) -> String {
    let hashes = |tag: &str| {
        inline_elements(html, tag)
            .map(|body| format!("'sha256-{}'", STANDARD.encode(Sha256::digest(body))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    format!(
        "default-src 'none'; script-src {}; style-src {}; connect-src 'self'; img-src 'self'; \
         base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        hashes("script"),
        hashes("style"),
    )
}

/// The text of each `<tag>...</tag>` element (written without attributes, as
/// the page writes them).
fn inline_elements<'a>(html: &'a str, tag: &str) -> impl Iterator<Item = &'a str> + 'a {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut rest = html;
    std::iter::from_fn(move || {
        let start = rest.find(&open)? + open.len();
        let len = rest[start..].find(&close)?;
        let body = &rest[start..start + len];
        rest = &rest[start + len + close.len()..];
        Some(body)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_names_each_inline_element_by_hash() {
        let html = "<style>a{}</style><p><script>one()</script><script>two()</script>";
        let csp = content_security_policy(html);
        let sha = |s: &str| format!("'sha256-{}'", STANDARD.encode(Sha256::digest(s)));
        assert!(csp.contains(&format!("script-src {} {};", sha("one()"), sha("two()"))));
        assert!(csp.contains(&format!("style-src {};", sha("a{}"))));
        assert!(!csp.contains("unsafe"));
    }

    #[test]
    fn the_page_has_one_script_and_one_style() {
        assert_eq!(inline_elements(PAGE, "script").count(), 1);
        assert_eq!(inline_elements(PAGE, "style").count(), 1);
        assert!(
            !PAGE.contains("<script "),
            "no external or attributed scripts"
        );
    }
}
