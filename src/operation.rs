//! Operations: what a request asks to do, classified before anything else runs.
//!
//! The classification table of SPEC 3.4 lives here as data, in one macro
//! invocation: each row names an [`OperationKind`], the gRPC path or HTTP route
//! it comes from, and the [`Class`] of access it needs. A request whose RPC is
//! not a row is refused ([`OperationKind::from_grpc_path`] returns `None`).
//!
//! An [`Operation`] borrows everything from the request it was classified from,
//! so classifying and authorizing allocate nothing.

use momento_protos::cache_client::{GetRequest, SetRequest};

/// The access an operation needs, from SPEC 3.2 and 3.4.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    /// R on every key.
    Read,
    /// W on every key.
    Write,
    /// RW on every key: conditional writes and writes that return state.
    ReadWrite,
    /// RW on the destination key and R on every source key (SortedSetUnionStore).
    ReadWriteFromSources,
    /// Publish to one topic.
    Publish,
    /// Subscribe to one topic.
    Subscribe,
    /// Control plane and minting: superuser credentials only.
    SuperUser,
    /// Acts on the caller's own credential (refreshing an API key).
    OwnCredential,
    /// Any valid credential: a health check that touches nothing (Ping).
    AnyCredential,
}

/// Which protocol a row belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Front {
    Grpc,
    Http,
}

/// The service a row is served by: a gRPC service of Momento's protocol, or
/// Momento's HTTP API. The one routing table: each front dispatches on this.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Service {
    /// `cache_client.Scs`
    Scs,
    /// `cache_client.pubsub.Pubsub`
    Pubsub,
    /// `control_client.ScsControl`
    Control,
    /// `token.Token`
    Token,
    /// `auth.Auth`
    Auth,
    /// `cache_client.Ping`
    Ping,
    /// Momento's HTTP API (SPEC 5).
    Http,
}

impl Service {
    pub const fn front(self) -> Front {
        match self {
            Service::Http => Front::Http,
            _ => Front::Grpc,
        }
    }

    /// The gRPC service name of the protocol (`package.Service`).
    pub const fn grpc_name(self) -> Option<&'static str> {
        match self {
            Service::Scs => Some("cache_client.Scs"),
            Service::Pubsub => Some("cache_client.pubsub.Pubsub"),
            Service::Control => Some("control_client.ScsControl"),
            Service::Token => Some("token.Token"),
            Service::Auth => Some("auth.Auth"),
            Service::Ping => Some("cache_client.Ping"),
            Service::Http => None,
        }
    }
}

macro_rules! classification {
    ($( $kind:ident = $service:ident $route:literal => $class:ident ),+ $(,)?) => {
        /// Every operation scopegate knows. Anything else is refused.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum OperationKind { $($kind),+ }

        impl OperationKind {
            /// Every row of the table, in table order.
            pub const ALL: &'static [OperationKind] = &[$(OperationKind::$kind),+];

            /// The access this kind needs.
            pub const fn class(self) -> Class {
                match self { $(OperationKind::$kind => Class::$class),+ }
            }

            /// The gRPC path (`/package.Service/Method`) or HTTP route
            /// (`METHOD /path/{capture}`) of this kind.
            pub const fn route(self) -> &'static str {
                match self { $(OperationKind::$kind => $route),+ }
            }

            /// The service that serves this kind.
            pub const fn service(self) -> Service {
                match self { $(OperationKind::$kind => Service::$service),+ }
            }

            /// The protocol this kind is spoken on.
            pub const fn front(self) -> Front {
                self.service().front()
            }

            /// A short, bounded name for metrics and logs.
            pub const fn name(self) -> &'static str {
                match self { $(OperationKind::$kind => stringify!($kind)),+ }
            }

            /// Classifies a gRPC request path. `None` means the RPC is not in the
            /// table: it is answered UNIMPLEMENTED after authentication and
            /// never reaches a service.
            pub fn from_grpc_path(path: &str) -> Option<OperationKind> {
                match path {
                    $( $route if !matches!(Service::$service, Service::Http) => Some(OperationKind::$kind), )+
                    _ => None,
                }
            }
        }
    };
}

classification! {
    // cache_client.Scs: scalar items.
    Get = Scs "/cache_client.Scs/Get" => Read,
    GetWithHash = Scs "/cache_client.Scs/GetWithHash" => Read,
    ItemGetTtl = Scs "/cache_client.Scs/ItemGetTtl" => Read,
    ItemGetType = Scs "/cache_client.Scs/ItemGetType" => Read,
    GetBatch = Scs "/cache_client.Scs/GetBatch" => Read,
    KeysExist = Scs "/cache_client.Scs/KeysExist" => Read,
    Set = Scs "/cache_client.Scs/Set" => Write,
    Delete = Scs "/cache_client.Scs/Delete" => Write,
    SetBatch = Scs "/cache_client.Scs/SetBatch" => Write,
    SetIf = Scs "/cache_client.Scs/SetIf" => ReadWrite,
    SetIfHash = Scs "/cache_client.Scs/SetIfHash" => ReadWrite,
    SetIfNotExists = Scs "/cache_client.Scs/SetIfNotExists" => ReadWrite,
    Increment = Scs "/cache_client.Scs/Increment" => ReadWrite,
    UpdateTtl = Scs "/cache_client.Scs/UpdateTtl" => ReadWrite,
    // Dictionaries (key = dictionary_name).
    DictionaryGet = Scs "/cache_client.Scs/DictionaryGet" => Read,
    DictionaryFetch = Scs "/cache_client.Scs/DictionaryFetch" => Read,
    DictionaryLength = Scs "/cache_client.Scs/DictionaryLength" => Read,
    DictionarySet = Scs "/cache_client.Scs/DictionarySet" => Write,
    DictionaryDelete = Scs "/cache_client.Scs/DictionaryDelete" => Write,
    DictionaryIncrement = Scs "/cache_client.Scs/DictionaryIncrement" => ReadWrite,
    // Sets (key = set_name).
    SetFetch = Scs "/cache_client.Scs/SetFetch" => Read,
    SetSample = Scs "/cache_client.Scs/SetSample" => Read,
    SetContains = Scs "/cache_client.Scs/SetContains" => Read,
    SetLength = Scs "/cache_client.Scs/SetLength" => Read,
    SetUnion = Scs "/cache_client.Scs/SetUnion" => Write,
    SetDifference = Scs "/cache_client.Scs/SetDifference" => Write,
    SetPop = Scs "/cache_client.Scs/SetPop" => ReadWrite,
    // Lists (key = list_name).
    ListFetch = Scs "/cache_client.Scs/ListFetch" => Read,
    ListLength = Scs "/cache_client.Scs/ListLength" => Read,
    ListPushFront = Scs "/cache_client.Scs/ListPushFront" => ReadWrite,
    ListPushBack = Scs "/cache_client.Scs/ListPushBack" => ReadWrite,
    ListConcatenateFront = Scs "/cache_client.Scs/ListConcatenateFront" => ReadWrite,
    ListConcatenateBack = Scs "/cache_client.Scs/ListConcatenateBack" => ReadWrite,
    ListPopFront = Scs "/cache_client.Scs/ListPopFront" => ReadWrite,
    ListPopBack = Scs "/cache_client.Scs/ListPopBack" => ReadWrite,
    ListRemove = Scs "/cache_client.Scs/ListRemove" => ReadWrite,
    ListErase = Scs "/cache_client.Scs/ListErase" => ReadWrite,
    ListRetain = Scs "/cache_client.Scs/ListRetain" => ReadWrite,
    // Sorted sets (key = set_name).
    SortedSetFetch = Scs "/cache_client.Scs/SortedSetFetch" => Read,
    SortedSetGetScore = Scs "/cache_client.Scs/SortedSetGetScore" => Read,
    SortedSetGetRank = Scs "/cache_client.Scs/SortedSetGetRank" => Read,
    SortedSetLength = Scs "/cache_client.Scs/SortedSetLength" => Read,
    SortedSetLengthByScore = Scs "/cache_client.Scs/SortedSetLengthByScore" => Read,
    SortedSetPut = Scs "/cache_client.Scs/SortedSetPut" => Write,
    SortedSetRemove = Scs "/cache_client.Scs/SortedSetRemove" => Write,
    SortedSetIncrement = Scs "/cache_client.Scs/SortedSetIncrement" => ReadWrite,
    SortedSetUnionStore = Scs "/cache_client.Scs/SortedSetUnionStore" => ReadWriteFromSources,
    // Topics (cache_name and topic in the body).
    Publish = Pubsub "/cache_client.pubsub.Pubsub/Publish" => Publish,
    Subscribe = Pubsub "/cache_client.pubsub.Pubsub/Subscribe" => Subscribe,
    // Control plane.
    CreateCache = Control "/control_client.ScsControl/CreateCache" => SuperUser,
    DeleteCache = Control "/control_client.ScsControl/DeleteCache" => SuperUser,
    ListCaches = Control "/control_client.ScsControl/ListCaches" => SuperUser,
    FlushCache = Control "/control_client.ScsControl/FlushCache" => SuperUser,
    CreateSigningKey = Control "/control_client.ScsControl/CreateSigningKey" => SuperUser,
    RevokeSigningKey = Control "/control_client.ScsControl/RevokeSigningKey" => SuperUser,
    ListSigningKeys = Control "/control_client.ScsControl/ListSigningKeys" => SuperUser,
    CreateIndex = Control "/control_client.ScsControl/CreateIndex" => SuperUser,
    DeleteIndex = Control "/control_client.ScsControl/DeleteIndex" => SuperUser,
    ListIndexes = Control "/control_client.ScsControl/ListIndexes" => SuperUser,
    // Minting.
    GenerateDisposableToken = Token "/token.Token/GenerateDisposableToken" => SuperUser,
    GenerateApiToken = Auth "/auth.Auth/GenerateApiToken" => SuperUser,
    RefreshApiToken = Auth "/auth.Auth/RefreshApiToken" => OwnCredential,
    // The Go SDK's health check (empty request and response).
    Ping = Ping "/cache_client.Ping/Ping" => AnyCredential,
    // Momento HTTP API (SPEC 5).
    HttpCacheGet = Http "GET /cache/{cache}" => Read,
    HttpCachePut = Http "PUT /cache/{cache}" => Write,
    HttpCacheDelete = Http "DELETE /cache/{cache}" => Write,
    HttpTopicPublish = Http "POST /topics/{cache}/{topic}" => Publish,
    HttpTopicSubscribe = Http "GET /topics/{cache}/{topic}" => Subscribe,
}

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
const MAX_SEGMENTS: usize = 4;

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
struct HttpRow {
    kind: OperationKind,
    method: &'static str,
    /// The template's segments; `{...}` captures one path segment.
    segments: Vec<&'static str>,
}

static HTTP_ROWS: std::sync::LazyLock<Vec<HttpRow>> = std::sync::LazyLock::new(|| {
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

impl OperationKind {
    /// Whether the caller's credential travels in the request body (minting:
    /// `auth_token`; refresh: `api_key`) rather than in the `authorization`
    /// metadata, so it can only be checked once the (small) body is read.
    pub const fn credential_in_body(self) -> bool {
        matches!(
            self,
            OperationKind::GenerateDisposableToken
                | OperationKind::GenerateApiToken
                | OperationKind::RefreshApiToken
        )
    }
}

/// The keys an operation touches, borrowed from the request.
///
/// One variant per shape the protocol carries keys in, so that no list of
/// keys is ever copied to be authorized.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Keys<'a> {
    One(&'a [u8]),
    List(&'a [Vec<u8>]),
    Gets(&'a [GetRequest]),
    Sets(&'a [SetRequest]),
}

impl<'a> Keys<'a> {
    /// Number of keys.
    pub fn len(&self) -> usize {
        match self {
            Keys::One(_) => 1,
            Keys::List(keys) => keys.len(),
            Keys::Gets(items) => items.len(),
            Keys::Sets(items) => items.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`-th key, if there is one.
    pub fn nth(&self, i: usize) -> Option<&'a [u8]> {
        match *self {
            Keys::One(key) => (i == 0).then_some(key),
            Keys::List(keys) => keys.get(i).map(Vec::as_slice),
            Keys::Gets(items) => items.get(i).map(|item| item.cache_key.as_slice()),
            Keys::Sets(items) => items.get(i).map(|item| item.cache_key.as_slice()),
        }
    }

    /// Calls `f` on every key until it returns `false`; returns whether all passed.
    pub fn all(&self, mut f: impl FnMut(&'a [u8]) -> bool) -> bool {
        match *self {
            Keys::One(key) => f(key),
            Keys::List(keys) => keys.iter().all(|k| f(k)),
            Keys::Gets(items) => items.iter().all(|i| f(&i.cache_key)),
            Keys::Sets(items) => items.iter().all(|i| f(&i.cache_key)),
        }
    }
}

/// What an operation acts on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Target<'a> {
    /// Items of a cache (scalar keys or collection names).
    Keys(Keys<'a>),
    /// A destination written from sources that are read (SortedSetUnionStore).
    Union {
        destination: &'a [u8],
        sources: SourceKeys<'a>,
    },
    /// A topic of a cache.
    Topic(&'a str),
    /// Nothing below the cache: control plane, minting, refresh.
    None,
}

impl Target<'_> {
    /// How many keys (or collection names) it names.
    pub fn key_count(&self) -> usize {
        match self {
            Target::Keys(keys) => keys.len(),
            Target::Union { sources, .. } => 1 + sources.0.len(),
            Target::Topic(_) | Target::None => 0,
        }
    }

    /// Whether any key (or collection name) it names is empty: Momento refuses
    /// those with INVALID_ARGUMENT, and so does every front.
    pub fn has_empty_key(&self) -> bool {
        match self {
            Target::Keys(keys) => !keys.all(|k| !k.is_empty()),
            Target::Union {
                destination,
                sources,
            } => destination.is_empty() || !sources.all(|k| !k.is_empty()),
            Target::Topic(_) | Target::None => false,
        }
    }
}

/// The source sets of a SortedSetUnionStore request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SourceKeys<'a>(
    pub &'a [momento_protos::cache_client::sorted_set_union_store_request::Source],
);

impl<'a> SourceKeys<'a> {
    pub fn all(&self, mut f: impl FnMut(&'a [u8]) -> bool) -> bool {
        self.0.iter().all(|s| f(&s.set_name))
    }
}

/// One classified request: what it does, in which cache, to what.
#[derive(Clone, Copy, Debug)]
pub struct Operation<'a> {
    pub kind: OperationKind,
    /// The cache; empty for operations that have none (control plane, minting).
    pub cache: &'a str,
    pub target: Target<'a>,
}

impl<'a> Operation<'a> {
    /// An operation on items of `cache`.
    pub fn keys(kind: OperationKind, cache: &'a str, keys: Keys<'a>) -> Self {
        Operation {
            kind,
            cache,
            target: Target::Keys(keys),
        }
    }

    /// An operation on one item of `cache`.
    pub fn key(kind: OperationKind, cache: &'a str, key: &'a [u8]) -> Self {
        Self::keys(kind, cache, Keys::One(key))
    }

    /// An operation on a topic of `cache`.
    pub fn topic(kind: OperationKind, cache: &'a str, topic: &'a str) -> Self {
        Operation {
            kind,
            cache,
            target: Target::Topic(topic),
        }
    }

    /// A control-plane operation on the cache `name` (create, delete, flush):
    /// superuser only, and the permit names the cache.
    pub fn on_cache(kind: OperationKind, name: &'a str) -> Self {
        Operation {
            kind,
            cache: name,
            target: Target::None,
        }
    }

    /// An operation with no cache or item: control plane, minting, refresh.
    pub fn global(kind: OperationKind) -> Self {
        Operation {
            kind,
            cache: "",
            target: Target::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_grpc_row_round_trips_through_its_path() {
        for &kind in OperationKind::ALL {
            if kind.front() == Front::Grpc {
                assert_eq!(OperationKind::from_grpc_path(kind.route()), Some(kind));
            }
        }
    }

    #[test]
    fn unknown_and_http_routes_are_not_grpc_operations() {
        for path in [
            "/auth.Auth/Login",
            "/leaderboard.Leaderboard/GetRank",
            "/function.FunctionHost/InvokeWebFunction",
            "/cache_client.Scs/get",
            "/cache_client.Scs/Get/",
            "cache_client.Scs/Get",
            "",
            "GET /cache/{cache}",
        ] {
            assert_eq!(OperationKind::from_grpc_path(path), None, "{path}");
        }
    }

    #[test]
    fn http_requests_are_routed_by_the_table() {
        use HttpRoute::*;
        let cases = [
            (
                "GET",
                "/cache/c",
                Row(OperationKind::HttpCacheGet, ["c", ""]),
            ),
            (
                "PUT",
                "/cache/c",
                Row(OperationKind::HttpCachePut, ["c", ""]),
            ),
            (
                "DELETE",
                "/cache/c%2Fd",
                Row(OperationKind::HttpCacheDelete, ["c%2Fd", ""]),
            ),
            ("GET", "/cache/", Row(OperationKind::HttpCacheGet, ["", ""])),
            (
                "POST",
                "/topics/c/t",
                Row(OperationKind::HttpTopicPublish, ["c", "t"]),
            ),
            (
                "GET",
                "/topics/c/t",
                Row(OperationKind::HttpTopicSubscribe, ["c", "t"]),
            ),
            ("POST", "/cache/c", WrongMethod),
            ("PATCH", "/topics/c/t", WrongMethod),
            ("GET", "/cache/c/", NoRoute),
            ("GET", "/cache", NoRoute),
            ("GET", "/topics/c", NoRoute),
            ("GET", "/topics/c/t/u", NoRoute),
            ("GET", "cache/c", NoRoute),
            ("GET", "/", NoRoute),
            ("GET", "/cache_client.Scs/Get", NoRoute),
            // Longer than any row, at and past the segment bound.
            ("GET", "/topics/c/t/u/v", NoRoute),
            ("GET", "/a/b/c/d/e/f/g", NoRoute),
            ("GET", "//", NoRoute),
            ("GET", "", NoRoute),
        ];
        // Every row fits the bound, so no path that could match is cut off.
        assert!(
            HTTP_ROWS
                .iter()
                .all(|row| row.segments.len() < MAX_SEGMENTS)
        );
        for (method, path, want) in cases {
            assert_eq!(
                OperationKind::from_http(method, path),
                want,
                "{method} {path}"
            );
        }
    }

    #[test]
    fn every_row_names_its_service_in_its_route() {
        for &kind in OperationKind::ALL {
            let route = kind.route();
            match kind.service().grpc_name() {
                Some(service) => {
                    let (named, method) = route[1..].split_once('/').unwrap();
                    assert_eq!(named, service, "{kind:?}");
                    assert_eq!(
                        method,
                        kind.name(),
                        "{kind:?}: the method is the kind's name"
                    );
                }
                None => {
                    let (method, path) = route.split_once(' ').unwrap();
                    assert!(
                        ["GET", "PUT", "DELETE", "POST"].contains(&method),
                        "{kind:?}"
                    );
                    assert_eq!(
                        OperationKind::from_http(method, path),
                        HttpRoute::Row(
                            kind,
                            [
                                "{cache}",
                                if path.matches('{').count() == 2 {
                                    "{topic}"
                                } else {
                                    ""
                                }
                            ]
                        )
                    );
                }
            }
        }
    }

    #[test]
    fn routes_are_unique() {
        let mut routes: Vec<_> = OperationKind::ALL.iter().map(|k| k.route()).collect();
        routes.sort_unstable();
        let before = routes.len();
        routes.dedup();
        assert_eq!(before, routes.len());
    }
}
