//! What a classified operation acts on: its cache, and the keys or topic it
//! names, borrowed from the request.

use momento_protos::cache_client::{GetRequest, SetRequest};

use super::OperationKind;

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
