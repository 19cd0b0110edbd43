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

macro_rules! classification {
    ($( $kind:ident = $front:ident $route:literal => $class:ident ),+ $(,)?) => {
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

            /// The gRPC path (`/package.Service/Method`) or HTTP route of this kind.
            pub const fn route(self) -> &'static str {
                match self { $(OperationKind::$kind => $route),+ }
            }

            /// The protocol this kind is spoken on.
            pub const fn front(self) -> Front {
                match self { $(OperationKind::$kind => Front::$front),+ }
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
                    $( $route if matches!(Front::$front, Front::Grpc) => Some(OperationKind::$kind), )+
                    _ => None,
                }
            }
        }
    };
}

classification! {
    // cache_client.Scs: scalar items.
    Get = Grpc "/cache_client.Scs/Get" => Read,
    GetWithHash = Grpc "/cache_client.Scs/GetWithHash" => Read,
    ItemGetTtl = Grpc "/cache_client.Scs/ItemGetTtl" => Read,
    ItemGetType = Grpc "/cache_client.Scs/ItemGetType" => Read,
    GetBatch = Grpc "/cache_client.Scs/GetBatch" => Read,
    KeysExist = Grpc "/cache_client.Scs/KeysExist" => Read,
    Set = Grpc "/cache_client.Scs/Set" => Write,
    Delete = Grpc "/cache_client.Scs/Delete" => Write,
    SetBatch = Grpc "/cache_client.Scs/SetBatch" => Write,
    SetIf = Grpc "/cache_client.Scs/SetIf" => ReadWrite,
    SetIfHash = Grpc "/cache_client.Scs/SetIfHash" => ReadWrite,
    SetIfNotExists = Grpc "/cache_client.Scs/SetIfNotExists" => ReadWrite,
    Increment = Grpc "/cache_client.Scs/Increment" => ReadWrite,
    UpdateTtl = Grpc "/cache_client.Scs/UpdateTtl" => ReadWrite,
    // Dictionaries (key = dictionary_name).
    DictionaryGet = Grpc "/cache_client.Scs/DictionaryGet" => Read,
    DictionaryFetch = Grpc "/cache_client.Scs/DictionaryFetch" => Read,
    DictionaryLength = Grpc "/cache_client.Scs/DictionaryLength" => Read,
    DictionarySet = Grpc "/cache_client.Scs/DictionarySet" => Write,
    DictionaryDelete = Grpc "/cache_client.Scs/DictionaryDelete" => Write,
    DictionaryIncrement = Grpc "/cache_client.Scs/DictionaryIncrement" => ReadWrite,
    // Sets (key = set_name).
    SetFetch = Grpc "/cache_client.Scs/SetFetch" => Read,
    SetSample = Grpc "/cache_client.Scs/SetSample" => Read,
    SetContains = Grpc "/cache_client.Scs/SetContains" => Read,
    SetLength = Grpc "/cache_client.Scs/SetLength" => Read,
    SetUnion = Grpc "/cache_client.Scs/SetUnion" => Write,
    SetDifference = Grpc "/cache_client.Scs/SetDifference" => Write,
    SetPop = Grpc "/cache_client.Scs/SetPop" => ReadWrite,
    // Lists (key = list_name).
    ListFetch = Grpc "/cache_client.Scs/ListFetch" => Read,
    ListLength = Grpc "/cache_client.Scs/ListLength" => Read,
    ListPushFront = Grpc "/cache_client.Scs/ListPushFront" => ReadWrite,
    ListPushBack = Grpc "/cache_client.Scs/ListPushBack" => ReadWrite,
    ListConcatenateFront = Grpc "/cache_client.Scs/ListConcatenateFront" => ReadWrite,
    ListConcatenateBack = Grpc "/cache_client.Scs/ListConcatenateBack" => ReadWrite,
    ListPopFront = Grpc "/cache_client.Scs/ListPopFront" => ReadWrite,
    ListPopBack = Grpc "/cache_client.Scs/ListPopBack" => ReadWrite,
    ListRemove = Grpc "/cache_client.Scs/ListRemove" => ReadWrite,
    ListErase = Grpc "/cache_client.Scs/ListErase" => ReadWrite,
    ListRetain = Grpc "/cache_client.Scs/ListRetain" => ReadWrite,
    // Sorted sets (key = set_name).
    SortedSetFetch = Grpc "/cache_client.Scs/SortedSetFetch" => Read,
    SortedSetGetScore = Grpc "/cache_client.Scs/SortedSetGetScore" => Read,
    SortedSetGetRank = Grpc "/cache_client.Scs/SortedSetGetRank" => Read,
    SortedSetLength = Grpc "/cache_client.Scs/SortedSetLength" => Read,
    SortedSetLengthByScore = Grpc "/cache_client.Scs/SortedSetLengthByScore" => Read,
    SortedSetPut = Grpc "/cache_client.Scs/SortedSetPut" => Write,
    SortedSetRemove = Grpc "/cache_client.Scs/SortedSetRemove" => Write,
    SortedSetIncrement = Grpc "/cache_client.Scs/SortedSetIncrement" => ReadWrite,
    SortedSetUnionStore = Grpc "/cache_client.Scs/SortedSetUnionStore" => ReadWriteFromSources,
    // Topics (cache_name and topic in the body).
    Publish = Grpc "/cache_client.pubsub.Pubsub/Publish" => Publish,
    Subscribe = Grpc "/cache_client.pubsub.Pubsub/Subscribe" => Subscribe,
    // Control plane.
    CreateCache = Grpc "/control_client.ScsControl/CreateCache" => SuperUser,
    DeleteCache = Grpc "/control_client.ScsControl/DeleteCache" => SuperUser,
    ListCaches = Grpc "/control_client.ScsControl/ListCaches" => SuperUser,
    FlushCache = Grpc "/control_client.ScsControl/FlushCache" => SuperUser,
    CreateSigningKey = Grpc "/control_client.ScsControl/CreateSigningKey" => SuperUser,
    RevokeSigningKey = Grpc "/control_client.ScsControl/RevokeSigningKey" => SuperUser,
    ListSigningKeys = Grpc "/control_client.ScsControl/ListSigningKeys" => SuperUser,
    CreateIndex = Grpc "/control_client.ScsControl/CreateIndex" => SuperUser,
    DeleteIndex = Grpc "/control_client.ScsControl/DeleteIndex" => SuperUser,
    ListIndexes = Grpc "/control_client.ScsControl/ListIndexes" => SuperUser,
    // Minting.
    GenerateDisposableToken = Grpc "/token.Token/GenerateDisposableToken" => SuperUser,
    GenerateApiToken = Grpc "/auth.Auth/GenerateApiToken" => SuperUser,
    RefreshApiToken = Grpc "/auth.Auth/RefreshApiToken" => OwnCredential,
    // The Go SDK's health check (empty request and response).
    Ping = Grpc "/cache_client.Ping/Ping" => AnyCredential,
    // Momento HTTP API (SPEC 5).
    HttpCacheGet = Http "GET /cache/{cache}" => Read,
    HttpCachePut = Http "PUT /cache/{cache}" => Write,
    HttpCacheDelete = Http "DELETE /cache/{cache}" => Write,
    HttpTopicPublish = Http "POST /topics/{cache}/{topic}" => Publish,
    HttpTopicSubscribe = Http "GET /topics/{cache}/{topic}" => Subscribe,
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
#[derive(Clone, Copy, Debug)]
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
#[derive(Clone, Copy, Debug)]
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
#[derive(Clone, Copy, Debug)]
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
    fn routes_are_unique() {
        let mut routes: Vec<_> = OperationKind::ALL.iter().map(|k| k.route()).collect();
        routes.sort_unstable();
        let before = routes.len();
        routes.dedup();
        assert_eq!(before, routes.len());
    }
}
