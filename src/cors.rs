//! CORS for browsers (SPEC 11): the gRPC-Web routes, the vending route and
//! the HTTP API answer preflights and carry CORS headers for the origins in
//! `server.cors_origins`; other origins get no CORS headers at all, so the
//! browser keeps the response from the page.

use http::{HeaderMap, HeaderValue, Method, Response, StatusCode, header};

/// The body of a preflight answer.
type Body = http_body_util::Full<bytes::Bytes>;

/// The request headers a browser may send: the Web SDK's, named one by one
/// (`*` would not cover `authorization`).
const ALLOW_HEADERS: &str = "authorization, cache, content-type, x-grpc-web, x-user-agent, \
     grpc-timeout, agent, runtime-version, read-concern, deadline";
const ALLOW_METHODS: &str = "GET, POST, PUT, DELETE, OPTIONS";
const EXPOSE_HEADERS: &str = "grpc-status, grpc-message, grpc-status-details-bin";
/// How long a browser may cache a preflight.
const MAX_AGE_SECS: &str = "600";

/// The allowed origins, from `server.cors_origins`.
#[derive(Clone, Debug, Default)]
pub struct Cors {
    any: bool,
    origins: Vec<String>,
}

impl Cors {
    pub fn new(origins: &[String]) -> Self {
        Cors {
            any: origins.iter().any(|o| o == "*"),
            origins: origins.iter().filter(|o| *o != "*").cloned().collect(),
        }
    }

    /// The request's `Origin` when it is allowed. The origin is echoed (with
    /// `Vary: Origin`) rather than answered with `*`, so caches in between
    /// keep answers for different origins apart.
    pub fn allowed(&self, headers: &HeaderMap) -> Option<HeaderValue> {
        // No origin is allowed: no header lookup on every request.
        if !self.any && self.origins.is_empty() {
            return None;
        }
        let origin = headers.get(header::ORIGIN)?;
        let text = origin.to_str().ok()?;
        (self.any || self.origins.iter().any(|o| o == text)).then(|| origin.clone())
    }

    /// The answer to a preflight (OPTIONS) for a route browsers may call:
    /// 204, with the CORS headers only for an allowed origin.
    pub fn preflight(&self, headers: &HeaderMap) -> Response<Body> {
        let mut response = Response::new(Body::default());
        *response.status_mut() = StatusCode::NO_CONTENT;
        if let Some(origin) = self.allowed(headers) {
            let h = response.headers_mut();
            decorate(h, origin);
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static(ALLOW_METHODS),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static(ALLOW_HEADERS),
            );
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static(MAX_AGE_SECS),
            );
        }
        response
    }
}

/// Whether a request is a CORS preflight.
pub fn is_preflight(method: &Method, headers: &HeaderMap) -> bool {
    method == Method::OPTIONS && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// The headers every response to an allowed origin carries.
pub fn decorate(headers: &mut HeaderMap, origin: HeaderValue) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSE_HEADERS),
    );
    headers.append(header::VARY, HeaderValue::from_static("origin"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_origin(origin: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ORIGIN, origin.parse().unwrap());
        headers.insert(
            header::ACCESS_CONTROL_REQUEST_METHOD,
            "POST".parse().unwrap(),
        );
        headers
    }

    #[test]
    fn listed_origins_get_cors_headers_and_others_none() {
        let cors = Cors::new(&["https://app.example.com".into()]);
        let ok = cors.preflight(&with_origin("https://app.example.com"));
        assert_eq!(ok.status(), 204);
        let h = ok.headers();
        assert_eq!(
            h[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://app.example.com"
        );
        assert!(
            h[header::ACCESS_CONTROL_ALLOW_HEADERS]
                .to_str()
                .unwrap()
                .contains("authorization")
        );
        let other = cors.preflight(&with_origin("https://evil.example.com"));
        assert!(
            other
                .headers()
                .keys()
                .all(|k| !k.as_str().starts_with("access-control-"))
        );
        assert!(Cors::default().allowed(&with_origin("http://x")).is_none());
        let any = Cors::new(&["*".into()]);
        assert_eq!(any.allowed(&with_origin("http://x")).unwrap(), "http://x");
        assert!(
            any.allowed(&HeaderMap::new()).is_none(),
            "no Origin, no CORS"
        );
    }
}
