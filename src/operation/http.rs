//! The table's HTTP rows as a router: a method and a path to a row and the
//! path segments its captures stand for.

use super::{OperationKind, Service};

/// What the table says of an HTTP request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpRoute<'p> {
    /// A row: its kind, and the path segments its `{captures}` stand for, in
    /// order (unused ones empty), still percent-encoded.
    Row(OperationKind, [&'p str; 2]),
    /// A row's path, with another method: 405.
    WrongMethod,
    /// No row's path.
    NoRoute,
}

impl OperationKind {
    /// Classifies an HTTP request by the table's `Http` rows.
    pub fn from_http<'p>(method: &str, path: &'p str) -> HttpRoute<'p> {
        let Some(path) = split_path(path) else {
            return HttpRoute::NoRoute;
        };
        let mut path_matched = false;
        for row in HTTP_ROWS.iter() {
            if let Some(captures) = captures(&row.segments, &path) {
                if row.method == method {
                    return HttpRoute::Row(row.kind, captures);
                }
                path_matched = true;
            }
        }
        if path_matched {
            HttpRoute::WrongMethod
        } else {
            HttpRoute::NoRoute
        }
    }
}

/// More path segments than any HTTP row has.
pub(super) const MAX_SEGMENTS: usize = 4;

/// A path's segments (`/cache/c` -> `cache`, `c`), or `None` when it does not
/// start with `/` or has more segments than any row.
struct Segments<'p> {
    segments: [&'p str; MAX_SEGMENTS],
    len: usize,
}

fn split_path(path: &str) -> Option<Segments<'_>> {
    let rest = path.strip_prefix('/')?;
    let mut out = Segments {
        segments: [""; MAX_SEGMENTS],
        len: 0,
    };
    // Split on the byte: `/` is ASCII, so every cut is a character boundary.
    let mut start = 0;
    for (i, &b) in rest.as_bytes().iter().enumerate() {
        if b == b'/' {
            *out.segments.get_mut(out.len)? = &rest[start..i];
            out.len += 1;
            start = i + 1;
        }
    }
    *out.segments.get_mut(out.len)? = &rest[start..];
    out.len += 1;
    Some(out)
}

/// One of the table's HTTP rows, its method and path template split once.
pub(super) struct HttpRow {
    kind: OperationKind,
    method: &'static str,
    /// The template's segments; `{...}` captures one path segment.
    pub(super) segments: Vec<&'static str>,
}

pub(super) static HTTP_ROWS: std::sync::LazyLock<Vec<HttpRow>> = std::sync::LazyLock::new(|| {
    OperationKind::ALL
        .iter()
        .filter(|kind| kind.service() == Service::Http)
        .map(|&kind| {
            let (method, template) = kind.route().split_once(' ').unwrap_or(("", ""));
            let segments = template
                .strip_prefix('/')
                .map(|t| t.split('/').collect())
                .unwrap_or_default();
            HttpRow {
                kind,
                method,
                segments,
            }
        })
        .collect()
});

/// Matches a path's segments against a row's template (`cache`, `{cache}`):
/// as many segments, literal ones equal; returns what the captures matched.
fn captures<'p>(template: &[&str], path: &Segments<'p>) -> Option<[&'p str; 2]> {
    if template.len() != path.len {
        return None;
    }
    let mut found = [""; 2];
    let mut n = 0;
    for (want, &got) in template.iter().zip(&path.segments) {
        if want.starts_with('{') {
            *found.get_mut(n)? = got;
            n += 1;
        } else if *want != got {
            return None;
        }
    }
    Some(found)
}
