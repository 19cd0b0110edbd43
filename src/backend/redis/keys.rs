//! Where things live in Redis. Every key of a gateway starts with its
//! namespace, length-prefixed, so one namespace is never a prefix of another's
//! keys ("a" owns `1:a:...`, "a:b" owns `3:a:b:...`):
//!
//! ```text
//! <len(ns)>:<ns>:caches                                      hash: cache name -> generation
//! <len(ns)>:<ns>:d:<generation>:<len(cache)>:<cache>:<key>   an item
//! <len(ns)>:<ns>:t:<len(cache)>:<cache>:<topic>              a topic (a stream)
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
//! unreachable at once and leave Redis as their TTLs run out.

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
        let mut key = self.prefix.clone();
        key.extend_from_slice(b"caches");
        key
    }

    /// What every item key of a cache generation starts with; an item's key
    /// is this followed by the item's key bytes ([`item`]).
    pub(super) fn items(&self, generation: Generation, cache: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.prefix.len() + 24 + cache.len());
        out.extend_from_slice(&self.prefix);
        out.extend_from_slice(b"d:");
        out.extend_from_slice(generation.to_hex().as_bytes());
        out.push(b':');
        push_field(&mut out, cache.as_bytes());
        out
    }

    #[cfg(test)]
    fn item(&self, generation: Generation, cache: &str, key: &[u8]) -> Vec<u8> {
        item(&self.items(generation, cache), key)
    }

    pub(super) fn topic(&self, cache: &str, topic: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.prefix.len() + 8 + cache.len() + topic.len());
        out.extend_from_slice(&self.prefix);
        out.extend_from_slice(b"t:");
        push_field(&mut out, cache.as_bytes());
        out.extend_from_slice(topic.as_bytes());
        out
    }
}

/// An item's key: its cache generation's prefix ([`Namespace::items`]) and its key.
pub(super) fn item(items: &[u8], key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(items.len() + key.len());
    out.extend_from_slice(items);
    out.extend_from_slice(key);
    out
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

    #[test]
    fn the_layout_is_readable() {
        let ns = Namespace::new("scopegate");
        assert_eq!(ns.registry(), b"9:scopegate:caches");
        assert_eq!(
            ns.item(G, "default-cache", b"user/1"),
            b"9:scopegate:d:0123456789abcdef:13:default-cache:user/1"
        );
        assert_eq!(ns.topic("c", "news"), b"9:scopegate:t:1:c:news");
    }

    #[test]
    fn names_cannot_escape_their_cache_or_namespace() {
        let ns = Namespace::new("a");
        // A separator inside a name moves the boundary, and the length says so.
        assert_ne!(ns.item(G, "x", b"y:z"), ns.item(G, "x:y", b"z"));
        assert_ne!(ns.topic("x", "y:z"), ns.topic("x:y", "z"));
        // One namespace's keys never start with another's prefix.
        let other = Namespace::new("a:b");
        assert!(!other.item(G, "c", b"k").starts_with(&ns.prefix));
        assert!(!ns.item(G, "b:c", b"k").starts_with(&other.prefix));
        // Generations separate a flushed cache from its past.
        assert_ne!(ns.item(G, "c", b"k"), ns.item(Generation(1), "c", b"k"));
    }

    #[test]
    fn generations_round_trip_and_garbage_is_refused() {
        assert_eq!(Generation::parse(G.to_hex().as_bytes()), Some(G));
        for bad in [&b""[..], b"123", b"0123456789abcdeg", b"0123456789abcdef0"] {
            assert_eq!(Generation::parse(bad), None);
        }
        assert_ne!(Generation::random(), Generation::random());
    }
}
