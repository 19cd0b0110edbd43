//! Topic publish and long-poll subscribe over HTTP (SPEC 5, 6).
//!
//! A long poll answers as soon as anything is deliverable, or with
//! `{"items":[]}` after `server.long_poll_timeout`. `sequence_number` is the
//! first sequence number wanted (the last one received plus one); without it
//! the poll waits for the next message. The poll ends with 401 within a quarter
//! second of its credential expiring or being revoked, and with 503 when the
//! server starts draining.

use std::time::Duration;

use crate::api::RequestBody;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::{Response, StatusCode, header};
use serde_json::{Value, json};

use super::request::{Query, credential};
use super::{Body, check_declared_length, empty, read_body};
use crate::app::App;
use crate::backend::{Resume, TopicBackend, TopicEvent, TopicSubscription, TopicValue};
use crate::error::{ApiError, ErrorCode};
use crate::operation::{Operation, OperationKind};

/// The most items one poll returns.
const MAX_POLL_ITEMS: usize = 100;
/// How often a waiting poll re-checks its credential.
const RECHECK: Duration = Duration::from_millis(250);

pub(super) async fn publish(
    app: &App,
    kind: OperationKind,
    parts: &http::request::Parts,
    body: impl RequestBody,
    cache: &str,
    topic: &str,
) -> Result<Response<Body>, ApiError> {
    let query = Query::parse(parts.uri.query())?;
    let verified = app.auth.authenticate(credential(&parts.headers, &query)?)?;
    check_declared_length(&parts.headers, app.limits.max_value_bytes)?;
    let op = Operation::topic(kind, cache, topic);
    let permit = verified.scope.authorize(&op)?;
    let body = read_body(body, app.limits.max_value_bytes).await?;
    let text = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("text/plain")
        });
    let value = if text {
        let text = String::from_utf8(body.to_vec())
            .map_err(|_| ApiError::invalid("a text/plain body must be UTF-8"))?;
        TopicValue::Text(text)
    } else {
        TopicValue::Binary(body)
    };
    let publisher = verified.token_id.as_deref().unwrap_or("");
    app.backend.publish(&permit, value, publisher).await?;
    Ok(empty(StatusCode::NO_CONTENT))
}

pub(super) async fn subscribe(
    app: &App,
    kind: OperationKind,
    parts: &http::request::Parts,
    cache: &str,
    topic: &str,
) -> Result<Response<Body>, ApiError> {
    let query = Query::parse(parts.uri.query())?;
    let verified = app.auth.authenticate(credential(&parts.headers, &query)?)?;
    let sequence = Query::number(&query.sequence_number, "sequence_number")?;
    let page = Query::number(&query.sequence_page, "sequence_page")?;
    let op = Operation::topic(kind, cache, topic);
    let permit = verified.scope.authorize(&op)?;
    let resume = sequence.map(|sequence| Resume {
        sequence,
        page: page.unwrap_or(0),
    });
    let mut subscription = app.backend.subscribe(&permit, resume).await?;
    let _open = app.metrics.subscription();

    let deadline = crate::clock::deadline(app.limits.long_poll_timeout);
    let mut recheck = tokio::time::interval(RECHECK);
    let drained = app.drained();
    tokio::pin!(drained);
    loop {
        tokio::select! {
            events = subscription.next(MAX_POLL_ITEMS) => {
                let items: Vec<Value> = events?.iter().filter_map(render).collect();
                if !items.is_empty() {
                    return Ok(super::json(StatusCode::OK, &json!({ "items": items })));
                }
            }
            _ = recheck.tick() => app.auth.recheck(&verified)?,
            _ = tokio::time::sleep_until(deadline) => {
                return Ok(super::json(StatusCode::OK, &json!({ "items": [] })));
            }
            _ = &mut drained => {
                return Err(ApiError::new(ErrorCode::ServerUnavailable, "the server is shutting down"));
            }
        }
    }
}

/// The HTTP API's JSON for an event; heartbeats are not sent over long polls.
fn render(event: &TopicEvent) -> Option<Value> {
    match event {
        TopicEvent::Item(m) => {
            let value = match &m.value {
                TopicValue::Text(text) => json!({ "text": text }),
                TopicValue::Binary(bytes) => json!({ "binary": STANDARD.encode(bytes) }),
            };
            Some(json!({ "item": {
                "topic_sequence_number": m.sequence,
                "sequence_page": m.page,
                "value": value,
                "publisher_id": &*m.publisher_id,
            }}))
        }
        TopicEvent::Discontinuity {
            last_sequence,
            new_sequence,
            new_page,
        } => Some(json!({ "discontinuity": {
            "last_topic_sequence": last_sequence,
            "new_topic_sequence": new_sequence,
            "new_sequence_page": new_page,
        }})),
        TopicEvent::Heartbeat => None,
    }
}
