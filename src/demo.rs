//! The demo page `serve --dev` serves at `/demo`. Not built yet.

use http::Response;

use crate::api::http::Body;
use crate::app::App;

/// The demo page, when this gateway serves it.
pub fn page(app: &App, _parts: &http::request::Parts) -> Option<Response<Body>> {
    if !app.demo {
        return None;
    }
    None
}
