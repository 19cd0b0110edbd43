//! `GET` and `POST /vend`: the HTTP side of the token vending endpoint
//! ([`crate::vending`] decides who gets what). Answers
//! `{"authToken": "<envelope>", "expiresAt": <epoch s>}`, never cached.

use std::net::SocketAddr;

use crate::api::RequestBody;
use bytes::Bytes;
use http::{HeaderValue, Method, Response, StatusCode, header};
use http_body_util::Full;

use super::Body;
use crate::app::App;
use crate::error::{ApiError, ErrorCode};
use crate::token;
use crate::vending::VendError;

/// Serves one vending request (the body of a POST is not read).
pub async fn serve(
    app: &App,
    peer: SocketAddr,
    parts: &http::request::Parts,
    _body: impl RequestBody,
) -> Result<Response<Body>, ApiError> {
    let Some(vending) = &app.vending else {
        return Err(VendError::NotEnabled.into());
    };
    if parts.method != Method::GET && parts.method != Method::POST {
        return Err(VendError::WrongMethod.into());
    }
    let name = name(parts.uri.query())?;
    let ip = peer.ip();
    let work = vending.vend(
        &app.auth,
        &app.endpoint,
        ip,
        name.as_deref(),
        &parts.headers,
    );
    let minted = match tokio::time::timeout(app.limits.request_timeout, work).await {
        Ok(result) => result?,
        Err(_) => return Err(ApiError::new(ErrorCode::TimeoutError, "request timed out")),
    };
    let body = serde_json::json!({
        "authToken": minted.envelope,
        "expiresAt": minted.expires_at,
    });
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    // A token is a secret: no cache in between may keep it.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `?name=`: the token id asked for (SPEC 3.3: at most 64 characters).
fn name(query: Option<&str>) -> Result<Option<String>, VendError> {
    let mut found = None;
    for pair in query.unwrap_or("").split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key != "name" {
            continue;
        }
        if found.is_some() {
            return Err(VendError::BadRequest("query parameter `name` is repeated"));
        }
        let value = super::request::percent_decode(value, true)
            .and_then(|b| String::from_utf8(b.into_owned()).ok())
            .ok_or(VendError::BadRequest(
                "`name` has a malformed percent-encoding",
            ))?;
        if value.is_empty() || value.chars().count() > token::MAX_TOKEN_ID_CHARS {
            return Err(VendError::BadRequest("`name` must be 1 to 64 characters"));
        }
        if value.chars().any(char::is_control) {
            return Err(VendError::BadRequest(
                "`name` must not contain control characters",
            ));
        }
        found = Some(value);
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_is_validated() {
        assert_eq!(name(None).unwrap(), None);
        assert_eq!(
            name(Some("x=1&name=web%2D42")).unwrap().as_deref(),
            Some("web-42")
        );
        assert!(name(Some("name=")).is_err());
        assert!(name(Some(&format!("name={}", "a".repeat(65)))).is_err());
        assert!(name(Some("name=a&name=b")).is_err());
        assert!(name(Some("name=%zz")).is_err());
        assert!(name(Some("name=%0A")).is_err());
    }
}
