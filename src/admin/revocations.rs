//! The revocation API (SPEC 12), on the admin listener:
//! `POST /v1/revocations` `{"jti"|"token_id"|"sub": "...", "until": <epoch s>}`
//! -> 204, and `GET /v1/revocations` -> the live entries. Both need a
//! superuser credential in `Authorization` (raw or `Bearer`); the body is
//! read only after it is verified, capped and under a deadline.

use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use serde_json::{Value, json};

use crate::app::App;
use crate::error::{ApiError, ErrorCode};
use crate::token::{Revocation, RevokeBy, unix_now};

pub const PATH: &str = "/v1/revocations";

/// A revocation request is a few hundred bytes.
const MAX_BODY: usize = 4096;
const BODY_TIMEOUT: Duration = Duration::from_secs(5);

pub async fn handle(app: &App, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let (kind, result) = match *req.method() {
        Method::GET => ("RevocationList", list(app, &req)),
        Method::POST => ("Revoke", revoke(app, req).await),
        _ => (
            "Revoke",
            Err(ApiError {
                http_status: Some(405),
                ..ApiError::invalid("use GET or POST")
            }),
        ),
    };
    if let Err(e) = &result {
        tracing::info!(
            kind,
            code = e.code.as_str(),
            "revocation API refused a request"
        );
    }
    result.unwrap_or_else(|e| crate::api::http::error_response(&e))
}

/// The caller must hold a superuser credential.
fn superuser(app: &App, headers: &http::HeaderMap) -> Result<(), ApiError> {
    let query = crate::api::http::request::Query::default();
    let credential = crate::api::http::request::credential(headers, &query)?;
    let verified = app.auth.authenticate(credential)?;
    if !verified.scope.is_superuser() {
        return Err(ApiError::from(crate::scope::Denial::SuperUserRequired));
    }
    Ok(())
}

fn list(app: &App, req: &Request<Incoming>) -> Result<Response<Full<Bytes>>, ApiError> {
    superuser(app, req.headers())?;
    let entries: Vec<Value> = app
        .auth
        .revocations()
        .entries(unix_now())
        .into_iter()
        .map(|r| {
            json!({
                r.by.name(): r.value,
                "revoked_at": r.revoked_at,
                "until": r.until,
            })
        })
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({ "revocations": entries }),
    ))
}

async fn revoke(app: &App, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, ApiError> {
    superuser(app, req.headers())?;
    let body = tokio::time::timeout(
        BODY_TIMEOUT,
        Limited::new(req.into_body(), MAX_BODY).collect(),
    )
    .await
    .map_err(|_| ApiError::new(ErrorCode::TimeoutError, "the request body took too long"))?
    .map_err(|_| ApiError {
        http_status: Some(413),
        ..ApiError::invalid(format!("a revocation request is at most {MAX_BODY} bytes"))
    })?
    .to_bytes();
    let revocation = parse(&body, unix_now())?;
    app.revoke(revocation).await?;
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::NO_CONTENT;
    Ok(response)
}

/// `{"jti"|"token_id"|"sub": "...", "until": <epoch s>}`: exactly one
/// selector, a non-empty value, nothing else. Without `until` the entry
/// stays (a never-expiring API key may be the target); the list's cap bounds
/// that.
fn parse(body: &[u8], now: u64) -> Result<Revocation, ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| ApiError::invalid("the body must be a JSON object"))?;
    let object = value
        .as_object()
        .ok_or_else(|| ApiError::invalid("the body must be a JSON object"))?;
    let mut selector = None;
    let mut until = None;
    for (field, v) in object {
        match (field.as_str(), RevokeBy::from_name(field)) {
            ("until", _) => {
                until = Some(v.as_u64().ok_or_else(|| {
                    ApiError::invalid("`until` is a whole number of epoch seconds")
                })?);
            }
            (_, Some(by)) => {
                let text = v.as_str().filter(|t| !t.is_empty() && t.len() <= 256);
                let text = text.ok_or_else(|| {
                    ApiError::invalid(format!("`{field}` is a string of 1 to 256 bytes"))
                })?;
                if selector.replace((by, text.to_owned())).is_some() {
                    return Err(ApiError::invalid(
                        "give exactly one of `jti`, `token_id`, `sub`",
                    ));
                }
            }
            _ => return Err(ApiError::invalid(format!("unknown field `{field}`"))),
        }
    }
    let (by, value) = selector
        .ok_or_else(|| ApiError::invalid("give exactly one of `jti`, `token_id`, `sub`"))?;
    if until.is_some_and(|u| u < now) {
        return Err(ApiError::invalid("`until` is in the past"));
    }
    Ok(Revocation {
        by,
        value,
        revoked_at: now,
        until,
    })
}

fn json_response(status: StatusCode, value: &Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(value.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse_strictly() {
        let r = parse(br#"{"jti":"abc","until":200}"#, 100).unwrap();
        assert_eq!(
            (r.by, r.value.as_str(), r.until),
            (RevokeBy::Jti, "abc", Some(200))
        );
        assert_eq!(parse(br#"{"sub":"alice"}"#, 100).unwrap().until, None);
        for bad in [
            &br#"{"jti":"a","sub":"b"}"#[..],
            br#"{"jti":""}"#,
            br#"{"until":200}"#,
            br#"{"jti":"a","extra":1}"#,
            br#"{"jti":"a","until":50}"#,
            br#"{"jti":"a","until":"soon"}"#,
            br#"["jti"]"#,
            b"not json",
        ] {
            let e = parse(bad, 100).unwrap_err();
            assert_eq!(
                e.code,
                ErrorCode::InvalidArgumentError,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
