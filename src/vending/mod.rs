//! The token vending endpoint (SPEC 8): `GET /vend` and `POST /vend`.
//! Not built yet: answers NOT_FOUND, as if the route did not exist.

use http::Response;
use hyper::body::Incoming;

use crate::api::http::Body;
use crate::app::App;
use crate::error::{ApiError, ErrorCode};

/// Serves one vending request.
pub async fn serve(
    _app: &App,
    _parts: &http::request::Parts,
    _body: Incoming,
) -> Result<Response<Body>, ApiError> {
    Err(ApiError::new(
        ErrorCode::NotFoundError,
        "vending is not enabled",
    ))
}
