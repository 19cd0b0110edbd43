//! Where things live in Redis. Every key of a gateway starts with its
//! namespace, length-prefixed, so one namespace is never a prefix of another's
//! keys ("a" owns `1:a:...`, "a:b" owns `3:a:b:...`):
//!
//! ```text
//! <len(ns)>:<ns>:caches                                      hash: cache name -> <incarnation><generation>
//! <len(ns)>:<ns>:d:<generation>:<len(cache)>:<cache>:<key>   an item
//! <len(ns)>:<ns>:t:<incarnation>:<len(cache)>:<cache>:<topic> a topic (a stream)
//! <len(ns)>:<ns>:revocations, <len(ns)>:<ns>:rt:<digest>     shared state (shared.rs)
//! ```
//!
//! Lengths are decimal byte counts and a generation is 16 hex digits, so the
//! encoding is injective: whatever bytes a cache name, key or topic holds, it
//! names exactly one Redis key, and no two (cache, key) pairs share one. Keys
//! carry no `{hash tag}` of ours, so a cluster spreads one cache's items over
//! every slot (a `{` in a client's key only picks that item's slot).
//!
//! Items live under their cache's generation: flushing a cache gives it a new
//! generation and deleting it removes it from the registry, so its items are
//! unreachable at once and leave Redis as their TTLs run out. Topics live
//! under the cache's incarnation, made when the cache is created and kept by
//! a flush (as on the memory backend, a flush leaves topics alone), so a
//! cache deleted and created again does not get the old one's messages.
//! Caches declared in the config have the fixed incarnation 0: they cannot be
//! deleted, and their topics stay theirs when an emptied Redis registers
//! them again.

/// A cache's generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) struct Generation(pub(super) u64);

impl Generation {
    pub(super) fn random() -> Generation {
        let mut bytes = [0u8; 8];
        // The OS random source only fails on a broken system; a clock-derived
        // generation is still unique enough to tell flushes apart.
        if getrandom::getrandom(&mut bytes).is_err() {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            bytes = nanos.to_le_bytes();
        }
        Generation(u64::from_le_bytes(bytes))
    }

    pub(super) fn to_hex(self) -> String {
        format!("{:016x}", self.0)
    }

    pub(super) fn parse(text: &[u8]) -> Option<Generation> {
        let text = std::str::from_utf8(text).ok()?;
        (text.len() == 16)
            .then(|| u64::from_str_radix(text, 16).ok())
            .flatten()
            .map(Generation)
    }
}

/// A registry entry: the cache's incarnation and its current generation,
/// stored as 32 hex digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Entry {
    pub(super) incarnation: Generation,
    pub(super) generation: Generation,
}

impl Entry {
    /// A new cache's entry; a declared cache's incarnation is always 0.
    pub(super) fn new(declared: bool) -> Entry {
        Entry {
            incarnation: if declared {
                Generation(0)
            } else {
                Generation::random()
            },
            generation: Generation::random(),
        }
    }

    pub(super) fn to_hex(self) -> String {
        self.incarnation.to_hex() + &self.generation.to_hex()
    }

    pub(super) fn parse(text: &[u8]) -> Option<Entry> {
        if text.len() != 32 {
            return None;
        }
        Some(Entry {
            incarnation: Generation::parse(&text[..16])?,
            generation: Generation::parse(&text[16..])?,
        })
    }
}

/// The key prefixes of one cache (incarnation and generation), made once.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct CacheKeys {
    /// The registry entry these keys were made from.
    pub(super) entry: Entry,
    items: Vec<u8>,
    topics: Vec<u8>,
}

impl CacheKeys {
    /// An item's key.
    pub(super) fn item(&self, key: &[u8]) -> Vec<u8> {
        concat(&self.items, key)
    }

    /// A topic's stream key.
    pub(super) fn topic(&self, topic: &str) -> Vec<u8> {
        concat(&self.topics, topic.as_bytes())
    }

    /// Whether `other` names the same topics (the same incarnation).
    pub(super) fn same_topics(&self, other: &CacheKeys) -> bool {
        self.topics == other.topics
    }
}

fn concat(prefix: &[u8], rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(prefix.len() + rest.len());
    out.extend_from_slice(prefix);
    out.extend_from_slice(rest);
    out
}

/// The key builder of one namespace.
#[derive(Clone, Debug)]
pub(super) struct Namespace {
    /// `<len(ns)>:<ns>:`
    prefix: Vec<u8>,
}

impl Namespace {
    pub(super) fn new(namespace: &str) -> Namespace {
        Namespace {
            prefix: format!("{}:{namespace}:", namespace.len()).into_bytes(),
        }
    }

    pub(super) fn registry(&self) -> Vec<u8> {
        self.shared(b"caches")
    }

    /// A key of the namespace's own state: `caches`, `revocations`,
    /// `rt:<digest>` (none of them starts with `d:` or `t:`, the item and
    /// topic spaces).
    pub(super) fn shared(&self, name: &[u8]) -> Vec<u8> {
        let mut key = self.prefix.clone();
        key.extend_from_slice(name);
        key
    }

    /// The key prefixes of a cache with this registry entry.
    pub(super) fn cache(&self, entry: Entry, cache: &str) -> CacheKeys {
        let prefix = |kind: &[u8], id: Generation| {
            let mut out = Vec::with_capacity(self.prefix.len() + 24 + cache.len());
            out.extend_from_slice(&self.prefix);
            out.extend_from_slice(kind);
            out.extend_from_slice(id.to_hex().as_bytes());
            out.push(b':');
            push_field(&mut out, cache.as_bytes());
            out
        };
        CacheKeys {
            entry,
            items: prefix(b"d:", entry.generation),
            topics: prefix(b"t:", entry.incarnation),
        }
    }
}

/// `<len>:<bytes>:`
fn push_field(out: &mut Vec<u8>, field: &[u8]) {
    out.extend_from_slice(field.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(field);
    out.push(b':');
}

#[cfg(test)]
mod tests {
    use super::*;

    const G: Generation = Generation(0x0123_4567_89ab_cdef);
    const E: Entry = Entry {
        incarnation: Generation(0xfeed),
        generation: G,
    };

    #[test]
    fn the_layout_is_readable() {
        let ns = Namespace::new("scopegate");
        assert_eq!(ns.registry(), b"9:scopegate:caches");
        let keys = ns.cache(E, "default-cache");
        assert_eq!(
            keys.item(b"user/1"),
            b"9:scopegate:d:0123456789abcdef:13:default-cache:user/1"
        );
        assert_eq!(
            keys.topic("news"),
            b"9:scopegate:t:000000000000feed:13:default-cache:news"
        );
    }

    #[test]
    fn names_cannot_escape_their_cache_or_namespace() {
        let ns = Namespace::new("a");
        // A separator inside a name moves the boundary, and the length says so.
        assert_ne!(ns.cache(E, "x").item(b"y:z"), ns.cache(E, "x:y").item(b"z"));
        assert_ne!(ns.cache(E, "x").topic("y:z"), ns.cache(E, "x:y").topic("z"));
        // One namespace's keys never start with another's prefix.
        let other = Namespace::new("a:b");
        assert!(!other.cache(E, "c").item(b"k").starts_with(&ns.prefix));
        assert!(!ns.cache(E, "b:c").item(b"k").starts_with(&other.prefix));
        // Generations separate a flushed cache from its past; incarnations
        // separate a re-created cache's topics; a flush keeps the topics.
        let flushed = Entry {
            generation: Generation(1),
            ..E
        };
        let recreated = Entry {
            incarnation: Generation(2),
            ..E
        };
        assert_ne!(
            ns.cache(E, "c").item(b"k"),
            ns.cache(flushed, "c").item(b"k")
        );
        assert!(ns.cache(E, "c").same_topics(&ns.cache(flushed, "c")));
        assert!(!ns.cache(E, "c").same_topics(&ns.cache(recreated, "c")));
    }

    #[test]
    fn entries_round_trip_and_garbage_is_refused() {
        assert_eq!(Generation::parse(G.to_hex().as_bytes()), Some(G));
        assert_eq!(Entry::parse(E.to_hex().as_bytes()), Some(E));
        for bad in [&b""[..], b"123", b"0123456789abcdeg", b"0123456789abcdef0"] {
            assert_eq!(Generation::parse(bad), None);
            assert_eq!(Entry::parse(bad), None);
        }
        assert_eq!(
            Entry::parse(G.to_hex().as_bytes()),
            None,
            "16 digits is not an entry"
        );
        assert_ne!(Generation::random(), Generation::random());
        assert_eq!(Entry::new(true).incarnation, Generation(0));
        assert_ne!(Entry::new(false).incarnation, Generation(0));
    }
}
