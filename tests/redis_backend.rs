//! The Redis backend itself, against a real redis-server: atomicity of the
//! read-modify-writes under concurrency, TTL updates, the cache registry
//! across gateways, and topics (shared sequence numbers, resume,
//! discontinuities, outages). The HTTP and SDK suites run on Redis too
//! (scripts/test.sh); tests/redis.rs covers processes, faults and ACLs.

mod support;

/// Collections against a reference model (both backends).
#[path = "redis_backend/collections_model/mod.rs"]
mod collections_model;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use scopegate::backend::redis::RedisBackend;
use scopegate::backend::{
    BackendError, CacheBackend, Condition, Resume, TopicBackend, TopicEvent, TopicSubscription,
    TopicValue, TtlOutcome, TtlUpdate, value_hash,
};
use scopegate::config::RedisConfig;
use scopegate::metrics::Metrics;
use scopegate::scope::{CompiledScope, Permit, ScopeLimits, compile, json};
use scopegate::{Operation, OperationKind};
use support::redis::RedisServer;

const CACHE: &str = "c";
const TTL: Duration = Duration::from_secs(60);
/// Resume from the first message, page unknown.
const FROM_ONE: Option<Resume> = Some(Resume {
    sequence: 1,
    page: 0,
});

/// A superuser's permits: what the backend acts on is what they name.
static SUPERUSER: std::sync::LazyLock<CompiledScope> =
    std::sync::LazyLock::new(|| compile(&json::superuser(), &ScopeLimits::default()).unwrap());

fn item<'a>(cache: &'a str, key: &'a [u8]) -> Permit<'a> {
    SUPERUSER
        .authorize(&Operation::key(OperationKind::Get, cache, key))
        .unwrap()
}

fn topic<'a>(cache: &'a str, topic: &'a str) -> Permit<'a> {
    SUPERUSER
        .authorize(&Operation::topic(OperationKind::Subscribe, cache, topic))
        .unwrap()
}

fn on_cache(name: &str) -> Permit<'_> {
    SUPERUSER
        .authorize(&Operation::on_cache(OperationKind::CreateCache, name))
        .unwrap()
}

fn backend_with(url: &str, namespace: &str, adjust: impl FnOnce(&mut RedisConfig)) -> RedisBackend {
    let limits = scopegate::backend::Limits {
        topic_replay: 5,
        heartbeat: Duration::from_millis(300),
        ..Default::default()
    };
    backend_of(url, namespace, limits, adjust)
}

fn backend_with_limits(
    redis: &RedisServer,
    namespace: &str,
    limits: scopegate::backend::Limits,
) -> RedisBackend {
    backend_of(&redis.url(), namespace, limits, |_| {})
}

fn backend_of(
    url: &str,
    namespace: &str,
    limits: scopegate::backend::Limits,
    adjust: impl FnOnce(&mut RedisConfig),
) -> RedisBackend {
    let mut config = RedisConfig {
        namespace: namespace.into(),
        command_timeout: Duration::from_millis(300),
        registry_refresh: Duration::from_millis(200),
        ..RedisConfig::new(url)
    };
    adjust(&mut config);
    RedisBackend::new(&config, limits, &[CACHE.into()], Metrics::new().backend()).unwrap()
}

fn backend(redis: &RedisServer, namespace: &str) -> RedisBackend {
    backend_with(&redis.url(), namespace, |_| {})
}

fn text(s: &str) -> TopicValue {
    TopicValue::Text(s.into())
}

/// Items (sequence, page) and discontinuities of the next batch.
async fn next(sub: &mut impl TopicSubscription) -> Vec<TopicEvent> {
    tokio::time::timeout(Duration::from_secs(10), sub.next(10))
        .await
        .expect("a subscription answers within 10 s")
        .unwrap()
}

fn sequences(events: &[TopicEvent]) -> Vec<u64> {
    events
        .iter()
        .filter_map(|e| match e {
            TopicEvent::Item(m) => Some(m.sequence),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_modify_writes_are_atomic_under_concurrency() {
    let redis = RedisServer::start();
    let b = Arc::new(backend(&redis, "atomic"));
    // Absent: exactly one of many racing writers stores.
    let mut tasks = Vec::new();
    for i in 0..16 {
        let b = Arc::clone(&b);
        tasks.push(tokio::spawn(async move {
            b.set_if(
                &item(CACHE, b"once"),
                Bytes::from(format!("{i}")),
                TTL,
                &Condition::Absent,
            )
            .await
            .unwrap()
        }));
    }
    let mut stored = 0;
    for t in tasks {
        stored += usize::from(t.await.unwrap());
    }
    assert_eq!(stored, 1);
    // A counter kept by compare-and-set on its hash (the read-decide-commit
    // path): no update is lost.
    b.set(&item(CACHE, b"n"), Bytes::from_static(b"0"), TTL)
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let b = Arc::clone(&b);
        tasks.push(tokio::spawn(async move {
            for _ in 0..5 {
                loop {
                    let current = b.get(&item(CACHE, b"n")).await.unwrap().unwrap();
                    let n: u64 = std::str::from_utf8(&current).unwrap().parse().unwrap();
                    let condition = Condition::PresentAndHashEqual(value_hash(&current).to_vec());
                    let next = Bytes::from((n + 1).to_string());
                    if b.set_if(&item(CACHE, b"n"), next, TTL, &condition)
                        .await
                        .unwrap()
                    {
                        break;
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(b.get(&item(CACHE, b"n")).await.unwrap().unwrap(), "40");
    // Increment: atomic, exact past 2^53 (no Lua doubles), refuses non-integers.
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let b = Arc::clone(&b);
        tasks.push(tokio::spawn(async move {
            b.increment(&item(CACHE, b"i"), 3, TTL).await.unwrap()
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(b.increment(&item(CACHE, b"i"), 0, TTL).await.unwrap(), 60);
    let big = (1i64 << 53) + 1;
    b.set(&item(CACHE, b"big"), Bytes::from(big.to_string()), TTL)
        .await
        .unwrap();
    assert_eq!(
        b.increment(&item(CACHE, b"big"), 2, TTL).await.unwrap(),
        big + 2
    );
    b.set(&item(CACHE, b"max"), Bytes::from(i64::MAX.to_string()), TTL)
        .await
        .unwrap();
    assert_eq!(
        b.increment(&item(CACHE, b"max"), 1, TTL).await.unwrap_err(),
        BackendError::FailedPrecondition("the increment overflows")
    );
    b.set(
        &item(CACHE, b"word"),
        Bytes::from_static(b"abc"),
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    assert_eq!(
        b.increment(&item(CACHE, b"word"), 1, TTL)
            .await
            .unwrap_err(),
        BackendError::FailedPrecondition("the value is not an integer")
    );
    // The refused increment left the item alone, TTL included.
    let word = b.item(&item(CACHE, b"word")).await.unwrap().unwrap();
    assert_eq!(word.value, "abc");
    assert!(
        word.remaining <= Duration::from_secs(5),
        "{:?}",
        word.remaining
    );
}

#[tokio::test]
async fn every_condition_and_ttl_update_behaves_as_on_the_memory_backend() {
    let redis = RedisServer::start();
    let b = backend(&redis, "conditions");
    let v = |s: &'static str| Bytes::from_static(s.as_bytes());
    let hash = |s: &str| value_hash(s.as_bytes()).to_vec();
    // Each condition against an absent item, then against "a".
    let cases = [
        (Condition::Always, true, true),
        (Condition::Absent, true, false),
        (Condition::Present, false, true),
        (Condition::Equal(b"a".to_vec()), false, true),
        (Condition::NotEqual(b"a".to_vec()), true, false),
        (Condition::PresentAndNotEqual(b"b".to_vec()), false, true),
        (Condition::AbsentOrEqual(b"a".to_vec()), true, true),
        (Condition::PresentAndHashEqual(hash("a")), false, true),
        (Condition::PresentAndNotHashEqual(hash("a")), false, false),
        (Condition::AbsentOrHashEqual(hash("b")), true, false),
        (Condition::AbsentOrNotHashEqual(hash("a")), true, false),
    ];
    for (condition, when_absent, when_a) in cases {
        b.delete(&item(CACHE, b"k")).await.unwrap();
        assert_eq!(
            b.set_if(&item(CACHE, b"k"), v("new"), TTL, &condition)
                .await
                .unwrap(),
            when_absent,
            "{condition:?} on an absent item"
        );
        b.set(&item(CACHE, b"k"), v("a"), TTL).await.unwrap();
        assert_eq!(
            b.set_if(&item(CACHE, b"k"), v("new"), TTL, &condition)
                .await
                .unwrap(),
            when_a,
            "{condition:?} on \"a\""
        );
        let expected = if when_a { "new" } else { "a" };
        assert_eq!(b.get(&item(CACHE, b"k")).await.unwrap().unwrap(), expected);
    }
    // UpdateTtl: increase, decrease, overwrite, missing.
    b.set(&item(CACHE, b"t"), v("x"), Duration::from_secs(100))
        .await
        .unwrap();
    let secs = |d: Duration| d.as_secs_f64().round() as u64;
    let remaining =
        async |b: &RedisBackend| secs(b.item(&item(CACHE, b"t")).await.unwrap().unwrap().remaining);
    let update = async |u| b.update_ttl(&item(CACHE, b"t"), u).await.unwrap();
    assert_eq!(
        update(TtlUpdate::IncreaseTo(Duration::from_secs(50))).await,
        TtlOutcome::NotSet
    );
    assert_eq!(
        update(TtlUpdate::IncreaseTo(Duration::from_secs(200))).await,
        TtlOutcome::Set
    );
    assert_eq!(remaining(&b).await, 200);
    assert_eq!(
        update(TtlUpdate::DecreaseTo(Duration::from_secs(300))).await,
        TtlOutcome::NotSet
    );
    assert_eq!(
        update(TtlUpdate::DecreaseTo(Duration::from_secs(30))).await,
        TtlOutcome::Set
    );
    assert_eq!(remaining(&b).await, 30);
    assert_eq!(
        update(TtlUpdate::Overwrite(Duration::from_secs(400))).await,
        TtlOutcome::Set
    );
    assert_eq!(remaining(&b).await, 400);
    assert_eq!(
        b.update_ttl(&item(CACHE, b"none"), TtlUpdate::Overwrite(TTL))
            .await
            .unwrap(),
        TtlOutcome::Missing
    );
    // Items expire with their TTL (millisecond precision).
    b.set(&item(CACHE, b"short"), v("x"), Duration::from_millis(50))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(b.get(&item(CACHE, b"short")).await.unwrap(), None);
}

#[tokio::test]
async fn the_cache_registry_is_shared_by_gateways_and_namespaces_are_apart() {
    let redis = RedisServer::start();
    let (a, b) = (backend(&redis, "shared"), backend(&redis, "shared"));
    let other = backend(&redis, "shared:other");
    // Created through one: usable through the other at once.
    a.create_cache(&on_cache("fresh")).await.unwrap();
    assert_eq!(
        b.create_cache(&on_cache("fresh")).await.unwrap_err(),
        BackendError::CacheExists
    );
    b.set(&item("fresh", b"k"), Bytes::from_static(b"v"), TTL)
        .await
        .unwrap();
    assert_eq!(a.get(&item("fresh", b"k")).await.unwrap().unwrap(), "v");
    assert_eq!(b.list_caches(&on_cache("")).await.unwrap(), ["c", "fresh"]);
    // Another namespace sees neither the cache nor the declared cache's items.
    assert_eq!(
        other.get(&item("fresh", b"k")).await.unwrap_err(),
        BackendError::CacheNotFound
    );
    a.set(&item(CACHE, b"k"), Bytes::from_static(b"mine"), TTL)
        .await
        .unwrap();
    assert_eq!(other.get(&item(CACHE, b"k")).await.unwrap(), None);
    // Flushed through one: empty through the other within registry_refresh.
    a.flush_cache(&on_cache("fresh")).await.unwrap();
    assert_eq!(a.get(&item("fresh", b"k")).await.unwrap(), None);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(b.get(&item("fresh", b"k")).await.unwrap(), None);
    // Deleted through one: NOT_FOUND through the other within registry_refresh.
    b.delete_cache(&on_cache("fresh")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        a.get(&item("fresh", b"k")).await.unwrap_err(),
        BackendError::CacheNotFound
    );
    assert_eq!(
        a.delete_cache(&on_cache("fresh")).await.unwrap_err(),
        BackendError::CacheNotFound
    );
    assert_eq!(
        a.flush_cache(&on_cache("fresh")).await.unwrap_err(),
        BackendError::CacheNotFound
    );
    // Declared caches cannot be deleted.
    assert!(matches!(
        a.delete_cache(&on_cache(CACHE)).await.unwrap_err(),
        BackendError::FailedPrecondition(_)
    ));
}

#[tokio::test]
async fn topics_have_one_numbering_across_gateways_with_resume_and_discontinuities() {
    let redis = RedisServer::start();
    let (a, b) = (backend(&redis, "topics"), backend(&redis, "topics"));
    let mut live = b.subscribe(&topic(CACHE, "news"), None).await.unwrap();
    for i in 1..=3 {
        assert_eq!(
            a.publish(&topic(CACHE, "news"), text(&i.to_string()), "pub-1")
                .await
                .unwrap(),
            i
        );
    }
    let events = next(&mut live).await;
    assert_eq!(sequences(&events), [1, 2, 3]);
    let TopicEvent::Item(first) = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!((&first.value, &*first.publisher_id), (&text("1"), "pub-1"));
    let page = first.page;
    // Binary values stay binary; other topics and caches number on their own.
    assert_eq!(
        b.publish(
            &topic(CACHE, "news"),
            TopicValue::Binary(Bytes::from_static(&[0, 255])),
            ""
        )
        .await
        .unwrap(),
        4
    );
    assert_eq!(
        b.publish(&topic(CACHE, "other"), text("x"), "")
            .await
            .unwrap(),
        1
    );
    let events = next(&mut live).await;
    assert!(
        matches!(&events[..], [TopicEvent::Item(m)] if m.value == TopicValue::Binary(Bytes::from_static(&[0, 255])) && m.sequence == 4)
    );
    // Resume on the other gateway from sequence 3.
    let mut resumed = a
        .subscribe(&topic(CACHE, "news"), Some(Resume { sequence: 3, page }))
        .await
        .unwrap();
    assert_eq!(sequences(&next(&mut resumed).await), [3, 4]);
    // topic_replay is 5: after 9 messages, resuming from 2 is a discontinuity.
    for i in 5..=9 {
        a.publish(&topic(CACHE, "news"), text(&i.to_string()), "")
            .await
            .unwrap();
    }
    let mut late = a
        .subscribe(&topic(CACHE, "news"), Some(Resume { sequence: 2, page }))
        .await
        .unwrap();
    let events = next(&mut late).await;
    assert_eq!(
        events[0],
        TopicEvent::Discontinuity {
            last_sequence: 1,
            new_sequence: 5,
            new_page: page
        }
    );
    assert_eq!(sequences(&events), [5, 6, 7, 8, 9]);
    // The stream lost (deleted in Redis) and made again: a new page, announced.
    redis.cli(&["DEL", "6:topics:t:0000000000000000:1:c:news"]);
    assert_eq!(
        a.publish(&topic(CACHE, "news"), text("again"), "")
            .await
            .unwrap(),
        1
    );
    // The live subscriber had read up to 4; 5 to 9 went with the stream.
    let events = next(&mut live).await;
    let TopicEvent::Discontinuity {
        last_sequence,
        new_sequence,
        new_page,
    } = events[0]
    else {
        panic!("{events:?}")
    };
    assert_eq!((last_sequence, new_sequence), (4, 1));
    assert!(new_page > page, "a later page: {new_page} vs {page}");
    assert_eq!(sequences(&events), [1]);
    // Idle: heartbeats.
    assert_eq!(next(&mut live).await, [TopicEvent::Heartbeat]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_waits_through_an_outage_and_then_carries_on() {
    let mut redis = RedisServer::start();
    let b = Arc::new(backend(&redis, "outage"));
    assert_eq!(
        b.publish(&topic(CACHE, "t"), text("before"), "")
            .await
            .unwrap(),
        1
    );
    let mut sub = b.subscribe(&topic(CACHE, "t"), FROM_ONE).await.unwrap();
    assert_eq!(sequences(&next(&mut sub).await), [1]);
    redis.stop();
    // Commands fail fast with UNAVAILABLE while Redis is gone.
    let started = std::time::Instant::now();
    assert!(matches!(
        b.get(&item(CACHE, b"k")).await.unwrap_err(),
        BackendError::Unavailable(_) | BackendError::Timeout
    ));
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let waiting = tokio::spawn(async move {
        let events = next(&mut sub).await;
        (events, sub)
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !waiting.is_finished(),
        "no heartbeat, no error: the subscription waits"
    );
    redis.restart();
    // Redis came back empty: the next message starts a new page, and the
    // subscriber is told, not silently moved on.
    let mut published = None;
    for _ in 0..50 {
        if let Ok(seq) = b.publish(&topic(CACHE, "t"), text("after"), "").await {
            published = Some(seq);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(published, Some(1));
    let (events, _sub) = waiting.await.unwrap();
    assert!(
        matches!(
            events[0],
            TopicEvent::Discontinuity {
                last_sequence: 1,
                new_sequence: 1,
                ..
            }
        ),
        "{events:?}"
    );
    assert_eq!(sequences(&events), [1]);
}

/// A backend with the default settings, counting into `metrics`.
fn metered(redis: &RedisServer, namespace: &str, metrics: &Metrics) -> RedisBackend {
    let config = RedisConfig {
        namespace: namespace.into(),
        ..RedisConfig::new(redis.url())
    };
    RedisBackend::new(
        &config,
        Default::default(),
        &[CACHE.into()],
        metrics.backend(),
    )
    .unwrap()
}

/// `scopegate_backend_read_batches_total`.
fn read_batches(metrics: &Metrics) -> u64 {
    let text = String::from_utf8(metrics.render()).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("scopegate_backend_read_batches_total "))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_gets_reach_redis_together_and_each_gets_its_own_reply() {
    const READS: usize = 64;
    let redis = RedisServer::start();
    let metrics = Metrics::new();
    let b = Arc::new(metered(&redis, "gather", &metrics));
    for i in 0..READS {
        let key = format!("k{i}");
        b.set(
            &item(CACHE, key.as_bytes()),
            Bytes::from(format!("v{i}")),
            TTL,
        )
        .await
        .unwrap();
    }
    // An item whose Redis key holds a hash: its GET is refused (WRONGTYPE).
    b.set(&item(CACHE, b"wrong"), Bytes::from_static(b"x"), TTL)
        .await
        .unwrap();
    let wrong = redis
        .keys()
        .into_iter()
        .find(|k| k.ends_with(b"wrong"))
        .unwrap();
    redis.command(&[b"DEL", &wrong]);
    redis.command(&[b"HSET", &wrong, b"f", b"v"]);
    let gets: Vec<_> = (0..READS)
        .map(|i| format!("k{i}"))
        .chain(["wrong".into(), "missing".into()])
        .map(|key| {
            let b = Arc::clone(&b);
            tokio::spawn(async move { b.get(&item(CACHE, key.as_bytes())).await })
        })
        .collect();
    let mut replies = Vec::new();
    for get in gets {
        replies.push(get.await.unwrap());
    }
    // Each read has its own reply, the refusal of one fails no other.
    for (i, reply) in replies[..READS].iter().enumerate() {
        assert_eq!(
            reply.as_ref().unwrap().as_deref(),
            Some(format!("v{i}").as_bytes())
        );
    }
    assert!(
        matches!(replies[READS], Err(BackendError::FailedPrecondition(_))),
        "{:?}",
        replies[READS]
    );
    assert_eq!(replies[READS + 1], Ok(None));
    // ... and they were queued on the connection in a few batches, not one
    // each (that redis-rs then writes a batch together is measured, with
    // `perf stat`, in docs/PERFORMANCE.md: Redis cannot tell, as it reads
    // whatever has arrived at once).
    let batches = read_batches(&metrics);
    assert!(
        (1..=16).contains(&batches),
        "{} GETs went out in {batches} batches",
        READS + 2
    );
    assert!(b.is_up());
}

/// A read whose batch is never sent (its flush's runtime stopped before the
/// flush ran) holds up no later read.
#[test]
fn a_batch_left_unsent_by_a_stopped_runtime_holds_up_no_later_read() {
    let redis = RedisServer::start();
    let main = tokio::runtime::Runtime::new().unwrap();
    let metrics = Metrics::new();
    let b = main.block_on(async {
        let b = metered(&redis, "unsent", &metrics);
        b.set(&item(CACHE, b"k"), Bytes::from_static(b"v"), TTL)
            .await
            .unwrap();
        b
    });
    // A read polled once on a runtime that then stops: its flush never runs.
    let stopping = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let permit = item(CACHE, b"k");
    let mut unsent = Box::pin(b.get(&permit));
    let once = stopping.block_on(std::future::poll_fn(|cx| {
        std::task::Poll::Ready(unsent.as_mut().poll(cx).is_pending())
    }));
    assert!(once, "the first poll already had a reply");
    drop(stopping);
    assert_eq!(
        read_batches(&metrics),
        0,
        "an unsent batch is not counted as sent"
    );
    // The read whose flush was dropped is told so at once: 503, not a
    // timeout, and not counted as a Redis failure.
    match main.block_on(unsent) {
        Err(BackendError::Unavailable(message)) => {
            assert!(message.contains("not sent"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    let text = String::from_utf8(metrics.render()).unwrap();
    assert!(
        !text.contains("scopegate_backend_command_errors_total{command=\"get\""),
        "{text}"
    );
    // Without the release, this read joins the unsent batch and times out.
    let later = main.block_on(b.get(&item(CACHE, b"k")));
    assert_eq!(later.unwrap().unwrap(), "v");
    assert_eq!(read_batches(&metrics), 1);
}

#[tokio::test]
async fn a_slow_redis_is_a_timeout_within_the_command_timeout_and_is_counted() {
    let redis = RedisServer::start();
    let metrics = Metrics::new();
    let config = RedisConfig {
        namespace: "slow".into(),
        command_timeout: Duration::from_millis(200),
        ..RedisConfig::new(redis.url())
    };
    let b = RedisBackend::new(
        &config,
        Default::default(),
        &[CACHE.into()],
        metrics.backend(),
    )
    .unwrap();
    b.set(&item(CACHE, b"k"), Bytes::from_static(b"v"), TTL)
        .await
        .unwrap();
    // Redis holds every client's commands for 1.5 s.
    redis.cli(&["CLIENT", "PAUSE", "1500", "ALL"]);
    let started = std::time::Instant::now();
    assert_eq!(
        b.get(&item(CACHE, b"k")).await.unwrap_err(),
        BackendError::Timeout
    );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(200) && waited < Duration::from_millis(1000),
        "{waited:?}"
    );
    let text = String::from_utf8(metrics.render()).unwrap();
    assert!(
        text.contains(r#"scopegate_backend_command_errors_total{command="get",error="timeout"} 1"#),
        "{text}"
    );
    assert!(text.contains(r#"scopegate_backend_command_duration_seconds_count{command="set"} 1"#));
    assert!(text.contains(r#"scopegate_backend_connections{kind="pool"} 1"#));
    // When Redis answers again, so does the backend (no reconnect needed).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(b.get(&item(CACHE, b"k")).await.unwrap().unwrap(), "v");
    assert!(b.is_up());
}

#[tokio::test]
async fn rediss_connects_with_the_configured_ca_and_refuses_an_unknown_one() {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cert_file, key_file) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_file, cert.cert.pem()).unwrap();
    std::fs::write(&key_file, cert.signing_key.serialize_pem()).unwrap();
    let (plain, tls) = (support::redis::free_port(), support::redis::free_port());
    let mut redis = support::redis::guarded("redis-server")
        .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .args(["--port", &plain.to_string(), "--tls-port", &tls.to_string()])
        .arg("--tls-cert-file")
        .arg(&cert_file)
        .arg("--tls-key-file")
        .arg(&key_file)
        .args(["--tls-auth-clients", "no"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !support::redis::ping(plain) {
        assert!(
            std::time::Instant::now() < deadline,
            "redis-server (TLS) did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let url = format!("rediss://localhost:{tls}");
    // The first command carries the TLS handshake: give it room on a busy
    // machine (the 300 ms of the other tests is about a warm connection).
    let trusted = backend_with(&url, "tls", |c| {
        c.tls_ca = Some(cert.cert.pem().into_bytes());
        c.command_timeout = Duration::from_secs(3);
    });
    trusted
        .set(&item(CACHE, b"k"), Bytes::from_static(b"over tls"), TTL)
        .await
        .unwrap();
    assert_eq!(
        trusted.get(&item(CACHE, b"k")).await.unwrap().unwrap(),
        "over tls"
    );
    // The system roots do not know this certificate: refused, never used.
    let untrusted = backend_with(&url, "tls", |c| c.command_timeout = Duration::from_secs(3));
    assert!(matches!(
        untrusted.get(&item(CACHE, b"k")).await.unwrap_err(),
        BackendError::Unavailable(_)
    ));
    assert!(!untrusted.is_up());
    drop(redis.stdin.take());
    let _ = redis.wait();
}

#[tokio::test]
async fn both_backends_accept_the_same_integers() {
    let redis = RedisServer::start();
    let on_redis = backend(&redis, "integers");
    let on_memory =
        scopegate::backend::memory::MemoryBackend::new(Default::default(), &[CACHE.into()]);
    for stored in [
        "7", "-7", "0", "+7", "007", " 7", "7 ", "7.0", "", "x", "-0",
    ] {
        let value = Bytes::from(stored);
        on_redis
            .set(&item(CACHE, b"n"), value.clone(), TTL)
            .await
            .unwrap();
        on_memory.set(&item(CACHE, b"n"), value, TTL).await.unwrap();
        assert_eq!(
            on_redis.increment(&item(CACHE, b"n"), 1, TTL).await,
            on_memory.increment(&item(CACHE, b"n"), 1, TTL).await,
            "incrementing {stored:?}"
        );
    }
}

#[tokio::test]
async fn a_full_redis_is_limit_exceeded_for_every_write() {
    let redis = RedisServer::start();
    let b = backend(&redis, "full");
    b.set(&item(CACHE, b"n"), Bytes::from_static(b"1"), TTL)
        .await
        .unwrap();
    redis.cli(&["CONFIG", "SET", "maxmemory", "1"]);
    let full = BackendError::LimitExceeded("the cache backend is out of memory");
    let value = || Bytes::from_static(b"2");
    assert_eq!(
        b.set(&item(CACHE, b"k"), value(), TTL).await.unwrap_err(),
        full
    );
    assert_eq!(
        b.increment(&item(CACHE, b"n"), 1, TTL).await.unwrap_err(),
        full
    );
    assert_eq!(
        b.set_if(
            &item(CACHE, b"n"),
            value(),
            TTL,
            &Condition::Equal(b"1".to_vec())
        )
        .await
        .unwrap_err(),
        full
    );
    assert_eq!(
        b.publish(&topic(CACHE, "t"), text("x"), "")
            .await
            .unwrap_err(),
        full
    );
    // Reads still work, and writes again once there is room.
    assert_eq!(b.get(&item(CACHE, b"n")).await.unwrap().unwrap(), "1");
    redis.cli(&["CONFIG", "SET", "maxmemory", "0"]);
    assert_eq!(b.increment(&item(CACHE, b"n"), 1, TTL).await.unwrap(), 2);
}

#[tokio::test]
async fn topic_readers_are_capped_and_freed_when_subscribers_leave() {
    let redis = RedisServer::start();
    let b = backend_with(&redis.url(), "readers", |c| c.max_topic_readers = 2);
    let a1 = b.subscribe(&topic(CACHE, "a"), None).await.unwrap();
    // More subscribers of a topic share its reader.
    let a2 = b.subscribe(&topic(CACHE, "a"), None).await.unwrap();
    let _b1 = b.subscribe(&topic(CACHE, "b"), None).await.unwrap();
    let refused =
        BackendError::SubscribersExceeded("too many topics with subscribers on this gateway");
    assert_eq!(
        b.subscribe(&topic(CACHE, "c"), None).await.err(),
        Some(refused.clone())
    );
    // Publishing needs no reader.
    assert_eq!(
        b.publish(&topic(CACHE, "c"), text("x"), "").await.unwrap(),
        1
    );
    drop(a1);
    assert_eq!(
        b.subscribe(&topic(CACHE, "c"), None).await.err(),
        Some(refused)
    );
    drop(a2);
    assert!(b.subscribe(&topic(CACHE, "c"), None).await.is_ok());
}

#[tokio::test]
async fn a_cache_deleted_and_created_again_starts_with_no_topic_history() {
    let redis = RedisServer::start();
    let (a, b) = (backend(&redis, "reborn"), backend(&redis, "reborn"));
    a.create_cache(&on_cache("x")).await.unwrap();
    a.publish(&topic("x", "t"), text("old"), "").await.unwrap();
    let mut old = b.subscribe(&topic("x", "t"), FROM_ONE).await.unwrap();
    assert_eq!(sequences(&next(&mut old).await), [1]);
    // A flush keeps the topics (as on the memory backend).
    a.flush_cache(&on_cache("x")).await.unwrap();
    let mut kept = a.subscribe(&topic("x", "t"), FROM_ONE).await.unwrap();
    assert_eq!(sequences(&next(&mut kept).await), [1]);
    // Deleted and created again: the old messages are not the new cache's,
    // and a subscription to the old cache ends (here on the other gateway,
    // once it has re-read the registry).
    a.delete_cache(&on_cache("x")).await.unwrap();
    a.create_cache(&on_cache("x")).await.unwrap();
    let mut fresh = a.subscribe(&topic("x", "t"), FROM_ONE).await.unwrap();
    assert_eq!(next(&mut fresh).await, [TopicEvent::Heartbeat]);
    assert_eq!(
        a.publish(&topic("x", "t"), text("new"), "").await.unwrap(),
        1
    );
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match old.next(10).await {
                Ok(_) => continue,
                Err(e) => return e,
            }
        }
    })
    .await
    .expect("the old subscription ends within 5 s");
    assert_eq!(ended, BackendError::CacheNotFound);
}

#[tokio::test]
async fn a_stream_that_goes_back_is_announced_not_silently_skipped() {
    let redis = RedisServer::start();
    let b = backend(&redis, "back");
    for i in 1..=5 {
        b.publish(&topic(CACHE, "t"), text(&i.to_string()), "")
            .await
            .unwrap();
    }
    let mut sub = b.subscribe(&topic(CACHE, "t"), FROM_ONE).await.unwrap();
    let events = next(&mut sub).await;
    assert_eq!(sequences(&events), [1, 2, 3, 4, 5]);
    let TopicEvent::Item(first) = &events[0] else {
        panic!()
    };
    let page = first.page;
    // As after a failover to a replica that had only the first two messages.
    let key = "4:back:t:0000000000000000:1:c:t";
    redis.cli(&["DEL", key]);
    for n in 0..2 {
        redis.cli(&[
            "XADD",
            key,
            &format!("{page}-{n}"),
            "k",
            "t",
            "v",
            "old",
            "p",
            "",
        ]);
    }
    assert_eq!(
        b.publish(&topic(CACHE, "t"), text("after"), "")
            .await
            .unwrap(),
        3
    );
    // Within a heartbeat (300 ms here) the subscriber is told, then it gets
    // what comes next.
    let events = next(&mut sub).await;
    assert_eq!(
        events,
        [TopicEvent::Discontinuity {
            last_sequence: 5,
            new_sequence: 4,
            new_page: page
        }]
    );
    assert_eq!(
        b.publish(&topic(CACHE, "t"), text("next"), "")
            .await
            .unwrap(),
        4
    );
    let events = next(&mut sub).await;
    assert_eq!(sequences(&events), [4]);
}
