//! How a finished request is counted: the policy of which outcome label a
//! failure gets, what counts as a denial and what as a backend failure.
//! Both fronts record through [`record`]; `metrics` only takes the labels.

use std::time::Duration;

use crate::error::{ApiError, ErrorCode};
use crate::metrics::{Metrics, RequestLabels};
use crate::operation::OperationKind;

/// How a request ended, as a bounded label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Unauthenticated,
    Denied,
    InvalidArgument,
    NotFound,
    LimitExceeded,
    Unavailable,
    Timeout,
    Internal,
    Unimplemented,
}

impl Outcome {
    /// The outcome of a request that ended with `code`.
    pub const fn of(code: ErrorCode) -> Outcome {
        match code {
            ErrorCode::AuthenticationError => Outcome::Unauthenticated,
            ErrorCode::PermissionError => Outcome::Denied,
            ErrorCode::InvalidArgumentError => Outcome::InvalidArgument,
            ErrorCode::NotFoundError => Outcome::NotFound,
            ErrorCode::AlreadyExistsError | ErrorCode::FailedPreconditionError => {
                Outcome::InvalidArgument
            }
            ErrorCode::ServerUnavailable => Outcome::Unavailable,
            ErrorCode::TimeoutError => Outcome::Timeout,
            ErrorCode::LimitExceededError => Outcome::LimitExceeded,
            ErrorCode::InternalServerError => Outcome::Internal,
            ErrorCode::Unimplemented => Outcome::Unimplemented,
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Unauthenticated => "unauthenticated",
            Outcome::Denied => "denied",
            Outcome::InvalidArgument => "invalid_argument",
            Outcome::NotFound => "not_found",
            Outcome::LimitExceeded => "limit_exceeded",
            Outcome::Unavailable => "unavailable",
            Outcome::Timeout => "timeout",
            Outcome::Internal => "internal",
            Outcome::Unimplemented => "unimplemented",
        }
    }
}

/// Records a finished request of either front: its outcome and latency and,
/// for a failure, its denial reason and whether the backend failed it (a
/// client slow to send its request is a timeout, never a backend error).
pub fn record(
    metrics: &Metrics,
    front: &str,
    kind: Option<OperationKind>,
    error: Option<&ApiError>,
    elapsed: Duration,
) {
    let name = kind.map_or("unrouted", OperationKind::name);
    let outcome = match error {
        None => Outcome::Ok,
        Some(error) => {
            if let Some(reason) = error.denial_reason {
                metrics.deny(reason, name);
            }
            if error.from_backend {
                metrics.backend_error(name);
            }
            Outcome::of(error.code)
        }
    };
    // Indexed, so the series are looked up once; "unrouted" is the index
    // after the table's last row, an unknown front falls back to a lookup.
    let front_index = match front {
        "grpc" => 0,
        "http" => 1,
        _ => usize::MAX,
    };
    let labels = RequestLabels {
        front: (front_index, front),
        kind: (kind.map_or(OperationKind::ALL.len(), |k| k as usize), name),
        outcome: (outcome as usize, outcome.as_str()),
    };
    metrics.record_request(&labels, elapsed);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::BackendError;

    fn render(metrics: &Metrics) -> String {
        String::from_utf8(metrics.render()).unwrap()
    }

    #[test]
    fn only_the_backend_failing_counts_as_a_backend_error() {
        let metrics = Metrics::new();
        let get = Some(OperationKind::Get);
        let slow_client = ApiError::new(ErrorCode::TimeoutError, "request timed out");
        record(&metrics, "grpc", get, Some(&slow_client), Duration::ZERO);
        let shutting_down = ApiError::new(ErrorCode::ServerUnavailable, "shutting down");
        record(&metrics, "grpc", get, Some(&shutting_down), Duration::ZERO);
        assert!(!render(&metrics).contains("scopegate_backend_errors_total{"));
        for e in [
            BackendError::Timeout,
            BackendError::Unavailable("down".into()),
        ] {
            record(&metrics, "grpc", get, Some(&e.into()), Duration::ZERO);
        }
        let missing: ApiError = BackendError::CacheNotFound.into();
        record(&metrics, "grpc", get, Some(&missing), Duration::ZERO);
        let text = render(&metrics);
        assert!(
            text.contains(r#"scopegate_backend_errors_total{kind="Get"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(
                r#"scopegate_requests_total{front="grpc",kind="Get",outcome="timeout"} 2"#
            )
        );
        assert!(text.contains(
            r#"scopegate_requests_total{front="grpc",kind="Get",outcome="not_found"} 1"#
        ));
    }

    #[test]
    fn every_label_set_has_its_own_indexed_series() {
        assert!(OperationKind::ALL.len() < crate::metrics::MAX_KINDS);
        assert!((Outcome::Unimplemented as usize) < crate::metrics::MAX_OUTCOMES);
        let metrics = Metrics::new();
        let denied: ApiError = crate::token::AuthError::Missing.into();
        for _ in 0..2 {
            for &kind in OperationKind::ALL {
                record(&metrics, "grpc", Some(kind), None, Duration::ZERO);
                record(&metrics, "http", Some(kind), Some(&denied), Duration::ZERO);
            }
            record(&metrics, "grpc", None, Some(&denied), Duration::ZERO);
            record(&metrics, "other", None, None, Duration::ZERO);
        }
        let text = render(&metrics);
        for &kind in OperationKind::ALL {
            let name = kind.name();
            for line in [
                format!(r#"scopegate_requests_total{{front="grpc",kind="{name}",outcome="ok"}} 2"#),
                format!(
                    r#"scopegate_requests_total{{front="http",kind="{name}",outcome="unauthenticated"}} 2"#
                ),
                format!(
                    r#"scopegate_request_duration_seconds_count{{front="http",kind="{name}"}} 2"#
                ),
            ] {
                assert!(text.contains(&line), "{line}");
            }
        }
        assert!(text.contains(
            r#"scopegate_requests_total{front="grpc",kind="unrouted",outcome="unauthenticated"} 2"#
        ));
        assert!(
            text.contains(
                r#"scopegate_requests_total{front="other",kind="unrouted",outcome="ok"} 2"#
            )
        );
    }

    #[test]
    fn denials_are_counted_by_reason() {
        let metrics = Metrics::new();
        let denied: ApiError = crate::token::AuthError::Missing.into();
        record(&metrics, "http", None, Some(&denied), Duration::ZERO);
        let text = render(&metrics);
        assert!(
            text.contains(r#"scopegate_denials_total{kind="unrouted",reason="missing"}"#),
            "{text}"
        );
    }
}
