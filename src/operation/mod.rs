//! Operations: what a request asks to do, classified before anything else runs.
//!
//! The classification table of SPEC 3.4 lives here as data, in one macro
//! invocation: each row names an [`OperationKind`], the gRPC path or HTTP route
//! it comes from, and the [`Class`] of access it needs. A request whose RPC is
//! not a row is refused ([`OperationKind::from_grpc_path`] returns `None`).
//!
//! An [`Operation`] borrows everything from the request it was classified from,
//! so classifying and authorizing allocate nothing.

mod http;
mod target;
#[cfg(test)]
mod tests;

pub use http::HttpRoute;
pub use target::{Keys, Operation, SourceKeys, Target};

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
