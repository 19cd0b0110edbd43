use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::*;

fn item(value: &'static [u8]) -> Item {
    Item::new(Bytes::from_static(value), Duration::from_secs(60))
}

fn value(items: &Items, key: &[u8]) -> Option<Bytes> {
    items.get(key).map(|item| item.scalar().unwrap().clone())
}

#[test]
fn compute_puts_replaces_and_removes() {
    let items = Items::new(1 << 20);
    assert!(value(&items, b"k").is_none());
    items.compute(b"k", |current| {
        assert!(current.is_none());
        Op::Put(item(b"one"))
    });
    assert_eq!(value(&items, b"k").as_deref(), Some(&b"one"[..]));
    assert!(items.contains_key(b"k"));
    items.compute(b"k", |current| {
        assert_eq!(current.unwrap().scalar().unwrap().as_ref(), b"one");
        Op::Put(item(b"three"))
    });
    assert_eq!(value(&items, b"k").as_deref(), Some(&b"three"[..]));
    assert_eq!(items.bytes(), (1 + 5 + 64) as u64);
    items.compute(b"k", |_| Op::Nop);
    assert_eq!(value(&items, b"k").as_deref(), Some(&b"three"[..]));
    items.compute(b"k", |_| Op::Remove);
    assert!(!items.contains_key(b"k"));
    assert_eq!((items.len(), items.bytes()), (0, 0));
    // A Nop or a Remove on a missing key leaves nothing behind.
    items.compute(b"gone", |_| Op::Nop);
    items.compute(b"gone", |_| Op::Remove);
    assert_eq!((items.len(), items.bytes()), (0, 0));
}

#[test]
fn an_expired_item_is_not_served_nor_seen_by_a_write_and_is_reclaimed() {
    let items = Items::new(1 << 20);
    items.compute(b"k", |_| {
        Op::Put(Item::new(Bytes::from_static(b"v"), Duration::ZERO))
    });
    assert!(items.get(b"k").is_none());
    assert!(!items.contains_key(b"k"));
    // A write sees no item, and a Nop drops the expired one.
    items.compute(b"k", |current| {
        assert!(current.is_none());
        Op::Nop
    });
    assert_eq!((items.len(), items.bytes()), (0, 0));
    // Inserts sample their shard and drop what has expired: a thousand
    // expired items shrink to a few once live ones are written after them.
    for i in 0..1000u32 {
        let key = format!("old{i}");
        items.compute(key.as_bytes(), |_| {
            Op::Put(Item::new(Bytes::from_static(b"v"), Duration::ZERO))
        });
    }
    let before = items.len();
    assert!(before < 1000, "no expired item was dropped");
    for i in 0..1000u32 {
        let key = format!("new{i}");
        items.compute(key.as_bytes(), |_| Op::Put(item(b"v")));
    }
    assert!(
        items.len() < before + 1000,
        "{} items, {before} before",
        items.len()
    );
}

#[test]
fn the_bound_holds_and_counts_every_byte() {
    let max = 20_000;
    let items = Items::new(max);
    for i in 0..5000u32 {
        let key = format!("key{i}");
        items.compute(key.as_bytes(), |_| Op::Put(item(&[7; 100])));
        assert!(items.bytes() <= max, "{} bytes after {i}", items.bytes());
    }
    let weight = (7 + 100 + 64) as u64;
    assert!(items.len() as u64 >= max / weight - super::SHARDS as u64);
    // The count is exact: every stored byte, no more.
    let stored: u64 = (0..5000u32)
        .filter_map(|i| {
            let key = format!("key{i}");
            items
                .get(key.as_bytes())
                .map(|_| weigh(key.as_bytes(), &item(&[7; 100])))
        })
        .sum();
    assert_eq!(stored, items.bytes());
    items.clear();
    assert_eq!((items.len(), items.bytes()), (0, 0));
    // An item heavier than the whole bound is not kept, and costs the
    // other items nothing; over an item, it leaves the key with none.
    let small = Items::new(1000);
    small.compute(b"kept", |_| Op::Put(item(b"v")));
    small.compute(b"big", |_| Op::Put(item(&[0; 2000])));
    assert!(small.get(b"big").is_none());
    assert!(small.contains_key(b"kept"));
    small.compute(b"kept", |_| Op::Put(item(&[0; 2000])));
    assert!(!small.contains_key(b"kept"));
    assert_eq!((small.len(), small.bytes()), (0, 0));
}

#[test]
fn sampled_eviction_keeps_the_bound_and_its_count_under_concurrent_writes() {
    // Several shards of many items each: eviction samples them.
    let max = 200_000;
    let items = Arc::new(Items::with_shards(max, 4));
    let threads: Vec<_> = (0..4u32)
        .map(|t| {
            let items = Arc::clone(&items);
            std::thread::spawn(move || {
                for i in 0..3000u32 {
                    let key = format!("t{t}-{i}");
                    items.compute(key.as_bytes(), |_| Op::Put(item(&[1; 100])));
                    // Reads stamp slots while other threads evict.
                    let _ = items.get(format!("t{t}-{}", i / 2).as_bytes());
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert!(items.bytes() <= max, "{} bytes", items.bytes());
    let stored: u64 = (0..4u32)
        .flat_map(|t| (0..3000u32).map(move |i| format!("t{t}-{i}")))
        .filter(|key| items.get(key.as_bytes()).is_some())
        .map(|key| weigh(key.as_bytes(), &item(&[1; 100])))
        .sum();
    assert_eq!(stored, items.bytes());
    assert!(items.len() > 1000, "{} items", items.len());
}

#[test]
fn eviction_takes_an_expired_item_first() {
    let weight = (1 + 1 + 64) as u64;
    let items = Items::with_shards(4 * weight, 1);
    for key in [b"a", b"b", b"c"] {
        items.compute(key, |_| Op::Put(item(b"v")));
    }
    // The newest, but expired: it goes before any live item.
    items.compute(b"x", |_| {
        Op::Put(Item::new(Bytes::from_static(b"v"), Duration::ZERO))
    });
    items.compute(b"d", |_| Op::Put(item(b"v")));
    for key in [b"a", b"b", b"c", b"d"] {
        assert!(items.contains_key(key), "{key:?} went");
    }
    assert_eq!(items.len(), 4);
}

#[test]
fn eviction_takes_the_item_read_least_recently() {
    // One shard of four items: a fifth evicts the oldest of them all.
    let weight = (1 + 1 + 64) as u64;
    let items = Items::with_shards(4 * weight, 1);
    for key in [b"a", b"b", b"c", b"d"] {
        items.compute(key, |_| Op::Put(item(b"v")));
    }
    // Read after the last write: the most recent of the four.
    assert!(items.get(b"a").is_some());
    items.compute(b"e", |_| Op::Put(item(b"v")));
    assert_eq!(items.len(), 4);
    assert!(items.contains_key(b"a"), "the item just read was evicted");
    assert!(
        items.contains_key(b"e"),
        "the item just written was evicted"
    );
    // The one neither read nor written since: the first written.
    assert!(!items.contains_key(b"b"));
    assert!(items.contains_key(b"c") && items.contains_key(b"d"));
}

#[test]
fn computes_on_one_key_are_serialized() {
    let items = Arc::new(Items::new(1 << 20));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let items = Arc::clone(&items);
            std::thread::spawn(move || {
                for _ in 0..2000 {
                    items.compute(b"n", |current| {
                        let n: u64 = current.map_or(0, |item| {
                            std::str::from_utf8(item.scalar().unwrap())
                                .unwrap()
                                .parse()
                                .unwrap()
                        });
                        Op::Put(Item::new(
                            Bytes::from((n + 1).to_string()),
                            Duration::from_secs(60),
                        ))
                    });
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(value(&items, b"n").as_deref(), Some(&b"8000"[..]));
}
