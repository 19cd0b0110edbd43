//! The demo page of `serve --dev` (`/demo`), through the real server: served
//! only when the demo is on, as UTF-8 HTML under a strict CSP.

mod support;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use sha2::{Digest, Sha256};
use support::server::{send, start};

fn header<'a>(reply: &'a support::server::Reply, name: &str) -> &'a str {
    reply
        .headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

/// The text between `<script>` and `</script>` of the page.
fn inline_script(page: &str) -> &str {
    let start = page.find("<script>").expect("an inline script") + "<script>".len();
    let end = page[start..].find("</script>").expect("a closed script") + start;
    &page[start..end]
}

#[tokio::test]
async fn the_demo_page_is_served_as_html_under_a_strict_csp() {
    let s = start(|c| c.demo = true).await;
    let reply = s.get("/demo", None).await;
    assert_eq!(reply.status, 200);
    assert_eq!(header(&reply, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&reply, "x-content-type-options"), "nosniff");

    let page = std::str::from_utf8(&reply.body).unwrap();
    assert_eq!(page, include_str!("../examples/demo/index.html"));
    // What the page does: vend, publish, long-poll, with the token in a header.
    for needle in [
        "fetch('/vend",
        "/topics/",
        "sequence_number",
        "authorization: s.token",
        "publisher_id",
        "auth = \"open\"",
    ] {
        assert!(page.contains(needle), "the page has no {needle:?}");
    }

    let csp = header(&reply, "content-security-policy");
    let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
    for expected in [
        "default-src 'none'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(directives.contains(&expected), "{csp:?} lacks {expected:?}");
    }
    assert!(
        !csp.contains("unsafe-"),
        "no unsafe-inline or unsafe-eval: {csp:?}"
    );
    assert!(!csp.contains('*'), "no wildcard sources: {csp:?}");
    // The inline script runs because its hash is allowed, and only it.
    let hash = STANDARD.encode(Sha256::digest(inline_script(page)));
    assert!(
        directives.contains(&format!("script-src 'sha256-{hash}'").as_str()),
        "{csp:?} does not allow the page's script ({hash})"
    );
    assert_eq!(csp, scopegate::api::http::demo::CSP.as_str());
}

#[tokio::test]
async fn head_is_answered_like_get_without_a_body() {
    let s = start(|c| c.demo = true).await;
    let reply = send(s.addr, "HEAD", "/demo", &[], Bytes::new()).await;
    assert_eq!(reply.status, 200);
    assert_eq!(header(&reply, "content-type"), "text/html; charset=utf-8");
    assert!(reply.headers.contains_key("content-security-policy"));
    assert!(reply.body.is_empty());
}

#[tokio::test]
async fn no_demo_page_when_the_demo_is_off() {
    let s = start(|c| c.demo = false).await;
    let reply = s.get("/demo", None).await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.code(), "NOT_FOUND_ERROR");
    assert!(!reply.headers.contains_key("content-security-policy"));
    assert!(!String::from_utf8_lossy(&reply.body).contains("<html"));
}

#[tokio::test]
async fn only_get_and_head_serve_the_page() {
    let s = start(|c| c.demo = true).await;
    let reply = send(s.addr, "POST", "/demo", &[], Bytes::new()).await;
    assert_ne!(reply.status, 200);
    assert!(!String::from_utf8_lossy(&reply.body).contains("<html"));
    // A path under /demo is not the page either.
    assert_eq!(s.get("/demo/other", None).await.status, 404);
}

/// What the page does, without a browser: vend under `serve --dev` (open),
/// publish, then the long poll from 1 (a newcomer sees the room's history),
/// each message with its publisher id.
#[tokio::test]
async fn the_pages_http_calls_work_on_the_dev_configuration() {
    let s = start(|c| c.demo = true).await;
    let vended = send(s.addr, "POST", "/vend?name=carol", &[], Bytes::new()).await;
    assert_eq!(vended.status, 200, "{:?}", vended.body);
    let token = vended.json()["authToken"].as_str().unwrap().to_owned();
    let topic = format!(
        "/topics/default-cache/chat-{}",
        support::server::unique_namespace()
    );
    for text in ["hello", "again"] {
        assert_eq!(s.publish(&topic, &token, text).await.status, 204);
    }
    let polled = s
        .get(&format!("{topic}?sequence_number=1"), Some(&token))
        .await;
    assert_eq!(polled.status, 200);
    let items = polled.json()["items"].as_array().unwrap().clone();
    let seen: Vec<(String, String)> = items
        .iter()
        .map(|i| {
            (
                i["item"]["publisher_id"].as_str().unwrap().to_owned(),
                i["item"]["value"]["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("carol".into(), "hello".into()),
            ("carol".into(), "again".into())
        ]
    );
    // Only chat- topics: the dev policy does not reach others.
    let other = s.publish("/topics/default-cache/news", &token, "x").await;
    assert_eq!(other.status, 403);
}
