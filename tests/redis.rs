//! The Redis backend against real redis-server processes (tests/support/redis.rs):
//! two gateway processes sharing one Redis, namespaces and names that cannot
//! escape, a Redis outage under load, a restricted ACL user, a cluster, and
//! oversized values that never reach Redis. (The whole HTTP, gRPC and SDK
//! suites also run on Redis: `both_backends!` in tests/support/mod.rs.)

mod support;

use std::collections::BTreeMap;
use std::io::BufRead;
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use momento_protos::cache_client::pubsub::pubsub_client::PubsubClient;
use momento_protos::cache_client::pubsub::{
    PublishRequest, SubscriptionRequest, TopicValue, subscription_item, topic_value,
};
use momento_protos::cache_client::scs_client::ScsClient;
use momento_protos::cache_client::*;
use scopegate::config::{Config, RedisConfig};
use scopegate::scope::json;
use scopegate::token::{self, AuthPolicy, CredentialKind, KeyRing, MintRequest, Origin, RingKey};
use support::redis::{RedisCluster, RedisServer, Resp};
use support::server::{Reply, enc, send, start, start_unready};
use tonic::Request;

const CACHE: &str = "default-cache";
/// The HS256 secret of the gateway processes (written to their k1.secret).
const SECRET: &str = "redis-tests-0123456789abcdef0123456789";

// ---------------------------------------------------------------------------
// Helpers: gateway processes, credentials, HTTP and gRPC calls.

/// `scopegate serve --config FILE` as a real process on ephemeral ports, with
/// `[backend] kind = "redis"` plus `backend` lines. It runs under the
/// watchdog of tests/support/redis.rs, so it never outlives the tests.
struct Gateway {
    addr: SocketAddr,
    admin: SocketAddr,
    child: Child,
    guard: Option<ChildStdin>,
    dir: tempfile::TempDir,
}

impl Gateway {
    fn start(backend: &str) -> Gateway {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("k1.secret"), SECRET).unwrap();
        let config = format!(
            "[server]\nlisten = \"127.0.0.1:0\"\nlong_poll_timeout = \"5s\"\n\n\
             [admin]\nlisten = \"127.0.0.1:0\"\n\n\
             [[keys]]\nkid = \"k1\"\nalg = \"HS256\"\nsecret_file = \"k1.secret\"\nsigning = true\n\n\
             [backend]\nkind = \"redis\"\ncommand_timeout = \"300ms\"\n{backend}\n\n\
             [[caches]]\nname = \"{CACHE}\"\n"
        );
        std::fs::write(dir.path().join("config.toml"), config).unwrap();
        let log = std::fs::File::create(dir.path().join("stderr.log")).unwrap();
        let mut child = support::redis::guarded(env!("CARGO_BIN_EXE_scopegate"))
            .args(["serve", "--config", "config.toml"])
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap();
        let guard = child.stdin.take();
        // Read stdout on a thread (and keep draining it) so a silent child cannot hang us.
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                let _ = tx.send(line);
            }
        });
        let first = rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| {
                panic!(
                    "no `listening` line within 20 s; stderr:\n{}",
                    std::fs::read_to_string(dir.path().join("stderr.log")).unwrap_or_default()
                )
            });
        let (addr, admin) = crate::support::listening_addrs(&first);
        Gateway {
            addr,
            admin,
            child,
            guard,
            dir,
        }
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }

    /// Waits until /readyz answers 200 (bounded).
    async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while readyz(self.admin).await != 200 {
            assert!(
                Instant::now() < deadline,
                "gateway not ready within 10 s; stderr:\n{}",
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        drop(self.guard.take()); // the watchdog SIGKILLs scopegate
        let deadline = Instant::now() + Duration::from_secs(10);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// A superuser API key signed with `SECRET` (kid k1), for the gateway processes.
fn mint_process_superuser() -> String {
    let ring = KeyRing::new(
        vec![RingKey::hs256("k1", SECRET.as_bytes()).unwrap()],
        Some("k1"),
    )
    .unwrap();
    let request = MintRequest {
        scope: &json::superuser(),
        kind: CredentialKind::ApiKey,
        ttl_secs: Some(3600),
        token_id: Some("redis-test"),
        subject: "tester",
        origin: Origin::Cli,
    };
    token::mint(
        &ring,
        &AuthPolicy::default(),
        "localhost",
        &request,
        token::unix_now(),
    )
    .unwrap()
    .envelope
}

async fn readyz(admin: SocketAddr) -> u16 {
    send(admin, "GET", "/readyz", &[], Bytes::new())
        .await
        .status
}

fn item_path(cache: &str, key: &str) -> String {
    format!("/cache/{}?key={}", enc(cache), enc(key))
}

fn binary_path(cache: &str, key: &[u8]) -> String {
    format!(
        "/cache/{}?key_base64={}",
        enc(cache),
        enc(&STANDARD.encode(key))
    )
}

async fn http(addr: SocketAddr, method: &str, path: &str, credential: &str, body: &[u8]) -> Reply {
    send(
        addr,
        method,
        path,
        &[("authorization", credential)],
        Bytes::copy_from_slice(body),
    )
    .await
}

async fn put(addr: SocketAddr, credential: &str, path: &str, body: &[u8]) -> Reply {
    http(
        addr,
        "PUT",
        &format!("{path}&ttl_seconds=60"),
        credential,
        body,
    )
    .await
}

async fn publish(addr: SocketAddr, credential: &str, topic: &str, text: &str) -> Reply {
    send(
        addr,
        "POST",
        &format!("/topics/{CACHE}/{topic}"),
        &[
            ("authorization", credential),
            ("content-type", "text/plain"),
        ],
        Bytes::copy_from_slice(text.as_bytes()),
    )
    .await
}

/// One long poll from `sequence_number` (and `page` when known).
async fn poll(
    addr: SocketAddr,
    credential: &str,
    topic: &str,
    from: u64,
    page: Option<u64>,
) -> Reply {
    let page = page
        .map(|p| format!("&sequence_page={p}"))
        .unwrap_or_default();
    let path = format!("/topics/{CACHE}/{topic}?sequence_number={from}{page}");
    http(addr, "GET", &path, credential, b"").await
}

/// The (sequence number, page, text) of every item of a poll reply.
fn polled_items(reply: &Reply) -> Vec<(u64, u64, String)> {
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| {
            let item = i.get("item")?;
            Some((
                item["topic_sequence_number"].as_u64().unwrap(),
                item["sequence_page"].as_u64().unwrap(),
                item["value"]["text"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            ))
        })
        .collect()
}

fn call<T>(message: T, credential: &str, cache: Option<&str>) -> Request<T> {
    support::grpc_call(message, Some(credential), cache)
}

fn set(key: &str, value: &str) -> SetRequest {
    SetRequest {
        cache_key: key.as_bytes().to_vec(),
        cache_body: value.as_bytes().to_vec(),
        ttl_milliseconds: 60_000,
    }
}

fn get(key: &str) -> GetRequest {
    GetRequest {
        cache_key: key.as_bytes().to_vec(),
    }
}

fn subscription(topic: &str, resume: u64, page: u64) -> SubscriptionRequest {
    SubscriptionRequest {
        cache_name: CACHE.into(),
        topic: topic.into(),
        resume_at_topic_sequence_number: resume,
        sequence_page: page,
    }
}

fn text_message(topic: &str, text: &str) -> PublishRequest {
    PublishRequest {
        cache_name: CACHE.into(),
        topic: topic.into(),
        value: Some(TopicValue {
            kind: Some(topic_value::Kind::Text(text.into())),
        }),
    }
}

/// The next item or discontinuity of a subscription (heartbeats skipped), within 5 s.
async fn next_event(
    stream: &mut tonic::Streaming<momento_protos::cache_client::pubsub::SubscriptionItem>,
) -> subscription_item::Kind {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let item = tokio::time::timeout_at(deadline, stream.message())
            .await
            .expect("a subscription event within 5 s")
            .expect("the stream is healthy")
            .expect("the stream is open");
        match item.kind {
            Some(subscription_item::Kind::Heartbeat(_)) | None => continue,
            Some(kind) => return kind,
        }
    }
}

/// A config adjustment: the Redis backend at `url` under `namespace`.
fn on_redis(url: String, namespace: &str) -> impl FnOnce(&mut Config) + use<> {
    let namespace = namespace.to_owned();
    move |c: &mut Config| {
        c.redis = Some(RedisConfig {
            namespace,
            ..RedisConfig::new(url)
        })
    }
}

// ---------------------------------------------------------------------------
// 0. The harness itself.

#[test]
fn harness_starts_stops_and_restarts_redis_on_the_same_port() {
    let mut redis = RedisServer::start();
    let port = redis.port();
    assert_eq!(redis.cli(&["SET", "k", "v"]), "OK");
    assert_eq!(redis.cli(&["GET", "k"]), "v");
    assert_eq!(redis.keys(), [b"k".to_vec()]);
    let odd: &[u8] = b"a\r\nb\x00\xff";
    redis.command(&[b"SET", odd, b"v"]);
    let mut keys = redis.keys();
    keys.sort();
    assert_eq!(keys, [odd.to_vec(), b"k".to_vec()]);
    assert_eq!(redis.dbsize(), 2);
    assert!(redis.command_calls()["set"] >= 2);
    redis.stop();
    assert!(!support::redis::ping(port), "stopped means gone");
    redis.restart();
    assert_eq!(redis.port(), port);
    assert_eq!(redis.cli(&["DBSIZE"]), "0", "nothing is persisted");
    redis.acl_user("u", "pw", &["~p:*", "+get"]);
    let denied = std::process::Command::new("redis-cli")
        .args(["-p", &port.to_string(), "--user", "u", "--pass", "pw"])
        .args(["--no-auth-warning", "SET", "p:1", "x"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&denied.stdout).contains("NOPERM"));
    assert_eq!(support::redis::shared().cli(&["PING"]), "PONG");
    drop(redis);
    std::thread::sleep(Duration::from_millis(50));
    assert!(!support::redis::ping(port), "drop kills it");
}

#[test]
fn harness_forms_a_three_master_cluster() {
    let cluster = RedisCluster::start();
    assert_eq!(cluster.seeds().len(), 3);
    for node in &cluster.nodes {
        let info = node.cli(&["CLUSTER", "INFO"]);
        assert!(info.contains("cluster_known_nodes:3"), "{info}");
    }
}

// ---------------------------------------------------------------------------
// 1. Two gateway processes on one Redis.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gateway_processes_share_items_and_topics_through_one_redis() {
    let redis = RedisServer::start();
    let backend = format!("url = \"{}\"\nnamespace = \"shared\"", redis.url());
    let (a, b) = (Gateway::start(&backend), Gateway::start(&backend));
    a.wait_ready().await;
    b.wait_ready().await;
    let su = mint_process_superuser();

    // Items: written through one, read and deleted through the other.
    let path = item_path(CACHE, "greeting");
    assert_eq!(put(a.addr, &su, &path, b"from a").await.status, 204);
    let got = http(b.addr, "GET", &path, &su, b"").await;
    assert_eq!((got.status, &got.body[..]), (200, &b"from a"[..]));
    assert_eq!(http(b.addr, "DELETE", &path, &su, b"").await.status, 204);
    assert_eq!(http(a.addr, "GET", &path, &su, b"").await.status, 404);

    // Topics over HTTP: published through a, long-polled through b.
    assert_eq!(publish(a.addr, &su, "news", "one").await.status, 204);
    let first = polled_items(&poll(b.addr, &su, "news", 1, None).await);
    assert_eq!(first.len(), 1, "{first:?}");
    let (seq, page, ref text) = first[0];
    assert_eq!((seq, text.as_str()), (1, "one"));
    let waiting = {
        let (addr, su) = (b.addr, su.clone());
        tokio::spawn(async move { poll(addr, &su, "news", 2, Some(page)).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(publish(a.addr, &su, "news", "two").await.status, 204);
    let second = polled_items(&waiting.await.unwrap());
    assert_eq!(
        second,
        [(2, page, "two".to_owned())],
        "same number, same page"
    );
    // And a says the same about its own history.
    let on_a = polled_items(&poll(a.addr, &su, "news", 1, Some(page)).await);
    assert_eq!(on_a, [(1, page, "one".into()), (2, page, "two".into())]);

    // A gRPC subscriber on b sees a message published on a, numbered alike.
    let mut sub = PubsubClient::connect(format!("http://{}", b.addr))
        .await
        .unwrap();
    let mut stream = sub
        .subscribe(call(subscription("news", 3, page), &su, None))
        .await
        .unwrap()
        .into_inner();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut pub_a = PubsubClient::connect(format!("http://{}", a.addr))
        .await
        .unwrap();
    pub_a
        .publish(call(text_message("news", "three"), &su, None))
        .await
        .unwrap();
    match next_event(&mut stream).await {
        subscription_item::Kind::Item(item) => {
            assert_eq!((item.topic_sequence_number, item.sequence_page), (3, page));
            assert_eq!(item.publisher_id, "redis-test");
            assert_eq!(
                item.value.unwrap().kind,
                Some(topic_value::Kind::Text("three".into()))
            );
        }
        other => panic!("expected message 3, got {other:?}"),
    }
    assert!(a.stderr().is_empty() || !a.stderr().contains("panicked"));
    assert!(!b.stderr().contains("panicked"), "{}", b.stderr());
}

// ---------------------------------------------------------------------------
// 2. Namespaces, cache names and keys cannot escape.

#[tokio::test]
async fn namespaces_cache_names_and_keys_cannot_escape() {
    let redis = RedisServer::start();
    let with_caches = |namespace: &str| {
        let on = on_redis(redis.url(), namespace);
        move |c: &mut Config| {
            on(c);
            c.caches.extend(["x".to_owned(), "x:y".to_owned()]);
        }
    };
    let a = start(with_caches("a")).await;
    let ab = start(with_caches("a:b")).await;
    let (sa, sab) = (a.superuser.clone(), ab.superuser.clone());

    // The same cache and key in two namespaces are two items.
    let k = item_path(CACHE, "k");
    assert_eq!(put(a.addr, &sa, &k, b"in a").await.status, 204);
    assert_eq!(put(ab.addr, &sab, &k, b"in a:b").await.status, 204);
    assert_eq!(http(a.addr, "GET", &k, &sa, b"").await.body, "in a");
    assert_eq!(http(ab.addr, "GET", &k, &sab, b"").await.body, "in a:b");
    assert_eq!(http(ab.addr, "DELETE", &k, &sab, b"").await.status, 204);
    assert_eq!(http(a.addr, "GET", &k, &sa, b"").await.body, "in a");
    // A key of `a` that spells the other namespace is still a's.
    let spelled = item_path(CACHE, "b:default-cache:k");
    assert_eq!(put(a.addr, &sa, &spelled, b"spelled").await.status, 204);
    assert_eq!(http(ab.addr, "GET", &k, &sab, b"").await.status, 404);

    // Cache "x" key "y:z" and cache "x:y" key "z" are two items.
    let (xyz, xy_z) = (item_path("x", "y:z"), item_path("x:y", "z"));
    assert_eq!(put(a.addr, &sa, &xyz, b"x / y:z").await.status, 204);
    assert_eq!(http(a.addr, "GET", &xy_z, &sa, b"").await.status, 404);
    assert_eq!(put(a.addr, &sa, &xy_z, b"x:y / z").await.status, 204);
    assert_eq!(http(a.addr, "GET", &xyz, &sa, b"").await.body, "x / y:z");
    assert_eq!(http(a.addr, "GET", &xy_z, &sa, b"").await.body, "x:y / z");

    // Binary keys: one holding all 256 byte values, and each byte alone.
    let all: Vec<u8> = (0..=255u8).collect();
    let all_path = binary_path(CACHE, &all);
    assert_eq!(put(a.addr, &sa, &all_path, b"every byte").await.status, 204);
    assert_eq!(
        http(a.addr, "GET", &all_path, &sa, b"").await.body,
        "every byte"
    );
    for b in 0..=255u8 {
        let path = binary_path(CACHE, &[b]);
        assert_eq!(
            put(a.addr, &sa, &path, &[b, b]).await.status,
            204,
            "byte {b}"
        );
    }
    for b in 0..=255u8 {
        let got = http(a.addr, "GET", &binary_path(CACHE, &[b]), &sa, b"").await;
        assert_eq!((got.status, &got.body[..]), (200, &[b, b][..]), "byte {b}");
    }

    // In Redis: every key is under one of the two prefixes, byte for byte.
    let keys = redis.keys();
    let (pa, pab): (&[u8], &[u8]) = (b"1:a:", b"3:a:b:");
    let stray: Vec<String> = keys
        .iter()
        .filter(|k| !k.starts_with(pa) && !k.starts_with(pab))
        .map(|k| String::from_utf8_lossy(k).into_owned())
        .collect();
    assert!(stray.is_empty(), "keys outside the namespaces: {stray:?}");
    assert!(keys.iter().any(|k| k.starts_with(pab)), "a:b has keys too");
    assert!(
        keys.iter().any(|k| k.starts_with(pa) && k.ends_with(&all)),
        "the 256-byte key is stored byte for byte"
    );
}

// ---------------------------------------------------------------------------
// 3. A Redis outage under load.

#[derive(Debug, Clone)]
struct Sample {
    started: Instant,
    elapsed: Duration,
    op: &'static str,
    status: u16,
    code: String,
}

#[derive(Debug, Clone)]
enum Seen {
    Item(u64, u64, String),
    Discontinuity(serde_json::Value),
    Status(u16),
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_redis_outage_is_503_within_the_command_timeout_and_heals() {
    let mut redis = RedisServer::start();
    let command_timeout = Duration::from_millis(300);
    let url = redis.url();
    let s = start(move |c| {
        c.redis = Some(RedisConfig {
            namespace: "fault".into(),
            command_timeout,
            ..RedisConfig::new(url)
        });
        c.server.long_poll_timeout = Duration::from_secs(2);
    })
    .await;
    let su = s.superuser.clone();
    let limit = command_timeout + Duration::from_secs(1);

    // A subscriber before the outage: message 1, then polls on across it.
    assert_eq!(publish(s.addr, &su, "across", "before").await.status, 204);
    let first = polled_items(&poll(s.addr, &su, "across", 1, None).await);
    assert_eq!(first.len(), 1, "{first:?}");
    let page = first[0].1;
    let seen = Arc::new(Mutex::new(Vec::<Seen>::new()));
    let subscriber = {
        let (addr, su, seen) = (s.addr, su.clone(), Arc::clone(&seen));
        tokio::spawn(async move {
            let (mut next, mut page) = (2, Some(page));
            let deadline = Instant::now() + Duration::from_secs(40);
            for _ in 0..2_000 {
                if Instant::now() > deadline {
                    return;
                }
                let reply = poll(addr, &su, "across", next, page).await;
                if reply.status != 200 {
                    seen.lock().unwrap().push(Seen::Status(reply.status));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
                for event in reply.json()["items"].as_array().unwrap() {
                    if let Some(d) = event.get("discontinuity") {
                        seen.lock().unwrap().push(Seen::Discontinuity(d.clone()));
                        next = d["new_topic_sequence"].as_u64().unwrap().max(1);
                        page = d["new_sequence_page"].as_u64();
                    } else if let Some(item) = event.get("item") {
                        let seq = item["topic_sequence_number"].as_u64().unwrap();
                        let text = item["value"]["text"].as_str().unwrap_or_default();
                        let p = item["sequence_page"].as_u64().unwrap();
                        seen.lock()
                            .unwrap()
                            .push(Seen::Item(seq, p, text.to_owned()));
                        (next, page) = (seq + 1, Some(p));
                        if text == "after" {
                            return;
                        }
                    }
                }
            }
        })
    };

    // And a gRPC stream open across the outage, resuming after message 1.
    let jwt = scopegate::token::unwrap_envelope(&su).unwrap().into_owned();
    let mut grpc = PubsubClient::connect(format!("http://{}", s.addr))
        .await
        .unwrap();
    let mut stream = grpc
        .subscribe(call(subscription("across", 2, page), &jwt, None))
        .await
        .unwrap()
        .into_inner();
    let streamed = Arc::new(Mutex::new(Vec::<String>::new()));
    let stream_task = {
        let streamed = Arc::clone(&streamed);
        tokio::spawn(async move {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
            for _ in 0..10_000 {
                let event = match tokio::time::timeout_at(deadline, stream.message()).await {
                    Err(_) => "gave up waiting".to_owned(),
                    Ok(Err(status)) => format!("ended: {:?}", status.code()),
                    Ok(Ok(None)) => "ended".to_owned(),
                    Ok(Ok(Some(item))) => match item.kind {
                        Some(subscription_item::Kind::Item(i)) => {
                            let Some(topic_value::Kind::Text(text)) = i.value.unwrap().kind else {
                                panic!("text was published")
                            };
                            format!(
                                "item {} {} {text}",
                                i.topic_sequence_number, i.sequence_page
                            )
                        }
                        Some(subscription_item::Kind::Discontinuity(d)) => {
                            format!("discontinuity {d:?}")
                        }
                        _ => continue, // heartbeats
                    },
                };
                let last = event.starts_with("item") && event.ends_with(" after")
                    || !event.starts_with("item") && !event.starts_with("discontinuity");
                streamed.lock().unwrap().push(event);
                if last {
                    return;
                }
            }
        })
    };

    // The load: 4 tasks, PUT then GET of fresh keys, until `stop` (bounded).
    let samples = Arc::new(Mutex::new(Vec::<Sample>::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load: Vec<_> = (0..4)
        .map(|task| {
            let (addr, su) = (s.addr, su.clone());
            let (samples, stop) = (Arc::clone(&samples), Arc::clone(&stop));
            tokio::spawn(async move {
                let deadline = Instant::now() + Duration::from_secs(30);
                for i in 0..100_000 {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) || Instant::now() > deadline
                    {
                        return;
                    }
                    let path = item_path(CACHE, &format!("load-{task}-{i}"));
                    for op in ["PUT", "GET"] {
                        let started = Instant::now();
                        let reply = if op == "PUT" {
                            put(addr, &su, &path, b"value").await
                        } else {
                            http(addr, "GET", &path, &su, b"").await
                        };
                        let code = if reply.status >= 400 {
                            reply.code()
                        } else {
                            String::new()
                        };
                        samples.lock().unwrap().push(Sample {
                            started,
                            elapsed: started.elapsed(),
                            op: if op == "PUT" { "PUT" } else { "GET" },
                            status: reply.status,
                            code,
                        });
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_secs(1)).await;
    let stopping = Instant::now();
    redis.stop();
    let down = Instant::now();
    // /readyz turns 503 within ~2 s.
    let mut not_ready_after = None;
    while down.elapsed() < Duration::from_secs(5) {
        if s.readyz().await == 503 {
            not_ready_after = Some(down.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let not_ready_after = not_ready_after.expect("/readyz never turned 503 during the outage");
    println!("outage: /readyz 503 after {not_ready_after:?}");
    assert!(
        not_ready_after < Duration::from_secs(2),
        "{not_ready_after:?}"
    );
    tokio::time::sleep(Duration::from_secs(3).saturating_sub(down.elapsed())).await;
    assert!(
        !s.task.as_ref().unwrap().is_finished(),
        "the server survives the outage"
    );

    let restarting = Instant::now();
    redis.restart();
    let up = Instant::now();
    let mut ready_after = None;
    while up.elapsed() < Duration::from_secs(10) {
        if s.readyz().await == 200 {
            ready_after = Some(up.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!("recovery: /readyz 200 after {ready_after:?}");
    // Publish after Redis is back (retry until the gateway takes it, bounded).
    let mut published = None;
    for _ in 0..100 {
        if publish(s.addr, &su, "across", "after").await.status == 204 {
            published = Some(up.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!("recovery: publish accepted after {published:?}");
    tokio::time::sleep(Duration::from_secs(4)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for task in load {
        tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("load task ends")
            .expect("load task did not panic");
    }
    let _ = tokio::time::timeout(Duration::from_secs(10), subscriber).await;
    let _ = tokio::time::timeout(Duration::from_secs(10), stream_task).await;
    let streamed = streamed.lock().unwrap().clone();
    let samples = samples.lock().unwrap().clone();
    let seen = seen.lock().unwrap().clone();
    assert!(
        !s.task.as_ref().unwrap().is_finished(),
        "the server is still serving"
    );

    // Every request answered within command_timeout + 1 s, outage or not.
    let slow: Vec<&Sample> = samples.iter().filter(|x| x.elapsed > limit).collect();
    assert!(slow.is_empty(), "slower than {limit:?}: {slow:?}");
    let ok = |x: &Sample| (x.op == "PUT" && x.status == 204) || (x.op == "GET" && x.status == 200);
    let before: Vec<&Sample> = samples
        .iter()
        .filter(|x| x.started + x.elapsed < stopping)
        .collect();
    assert!(
        !before.is_empty() && before.iter().all(|x| ok(x)),
        "before the outage: {before:?}"
    );
    // During the outage: 503 SERVER_UNAVAILABLE. (504 TIMEOUT_ERROR is accepted
    // too: a command that was in flight when Redis died may time out instead.)
    let during: Vec<&Sample> = samples
        .iter()
        .filter(|x| x.started >= down && x.started + x.elapsed < restarting)
        .collect();
    let wrong: Vec<&&Sample> = during
        .iter()
        .filter(|x| {
            !(x.status == 503 && x.code == "SERVER_UNAVAILABLE"
                || x.status == 504 && x.code == "TIMEOUT_ERROR")
        })
        .collect();
    assert!(
        during.len() > 20,
        "load ran during the outage: {}",
        during.len()
    );
    let at = |x: &Sample| {
        let t = x.started.saturating_duration_since(down).as_millis() as i64
            - down.saturating_duration_since(x.started).as_millis() as i64;
        format!(
            "{} {} {} at {t} ms for {:?}",
            x.op, x.status, x.code, x.elapsed
        )
    };
    let wrong: Vec<String> = wrong.into_iter().map(|x| at(x)).collect();
    assert!(
        wrong.is_empty(),
        "during the outage (times from the outage start): {wrong:?}"
    );
    let timeouts = during.iter().filter(|x| x.status == 504).count();
    println!("outage: {} requests, {timeouts} of them 504", during.len());
    // After: requests succeed again within 2 s of Redis returning, and stay so.
    let first_ok = samples
        .iter()
        .filter(|x| x.started >= up && ok(x))
        .map(|x| x.started + x.elapsed - up)
        .min();
    println!("recovery: first successful request {first_ok:?} after Redis returned");
    let first_ok = first_ok.expect("no request succeeded after Redis returned");
    assert!(
        first_ok < Duration::from_secs(2),
        "recovered after {first_ok:?}"
    );
    let late_failures: Vec<&Sample> = samples
        .iter()
        .filter(|x| x.started >= up + Duration::from_secs(2) && !ok(x))
        .collect();
    assert!(
        late_failures.is_empty(),
        "failing 2 s after Redis returned: {late_failures:?}"
    );
    let ready_after = ready_after.expect("/readyz never 200 again");
    assert!(ready_after < Duration::from_secs(2), "{ready_after:?}");
    assert_eq!(s.readyz().await, 200);

    // The subscriber: the message published after the outage was delivered,
    // or a discontinuity told it what it missed; never silently nothing.
    println!("subscriber saw: {seen:?}");
    assert!(
        seen.iter()
            .any(|e| matches!(e, Seen::Item(_, _, t) if t == "after")
                || matches!(e, Seen::Discontinuity(_))),
        "the message published after the outage was silently lost: {seen:?}"
    );
    // The gRPC stream: it carried on (the message or a discontinuity), or it
    // ended with an error status the client sees; it never just went quiet.
    println!("gRPC stream saw: {streamed:?}");
    assert!(
        streamed.iter().any(|e| e.ends_with(" after")
            || e.starts_with("discontinuity")
            || e.starts_with("ended: ")),
        "the gRPC subscriber silently lost the message: {streamed:?}"
    );
    for event in &seen {
        match event {
            // Numbering stays meaningful: the same page continues at 2, or the page changed.
            Seen::Item(seq, p, text) if text == "after" => {
                assert!(*p != page || *seq == 2, "{seen:?}")
            }
            Seen::Item(..) => {}
            Seen::Discontinuity(d) => assert!(d["new_sequence_page"].is_u64(), "{d}"),
            Seen::Status(code) => assert!(matches!(code, 503 | 504), "{seen:?}"),
        }
    }
}

// ---------------------------------------------------------------------------
// 4. A restricted ACL user.

/// The ACL rules the README documents for a restricted user (for namespace
/// `scopegate`): everything after `ACL SETUSER scopegate on >PASSWORD`.
fn documented_acl_rules() -> Vec<String> {
    let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
    let line = readme
        .lines()
        .find_map(|l| l.trim().strip_prefix("ACL SETUSER scopegate on >PASSWORD "))
        .expect("README documents `ACL SETUSER scopegate on >PASSWORD ...`");
    line.split_whitespace().map(str::to_owned).collect()
}

#[tokio::test]
async fn a_restricted_acl_user_suffices_and_a_wrong_password_is_not_ready() {
    let redis = RedisServer::start();
    // The documented rules, with this namespace's key pattern.
    let rules = documented_acl_rules();
    assert!(rules.iter().any(|r| r == "~9:scopegate:*"), "{rules:?}");
    let rules: Vec<&str> = rules
        .iter()
        .map(|r| if r == "~9:scopegate:*" { "~3:acl:*" } else { r })
        .collect();
    redis.acl_user("sg", "secretpw", &rules);
    redis.cli(&["ACL", "LOG", "RESET"]);
    let s = start(on_redis(redis.url_as("sg", "secretpw"), "acl")).await;
    let su = s.superuser.clone();
    let path = item_path(CACHE, "k");
    let acl_log = || redis.cli(&["ACL", "LOG"]).replace('\n', " ");
    let reply = put(s.addr, &su, &path, b"v").await;
    assert_eq!(
        reply.status,
        204,
        "{:?}; ACL LOG: {}",
        reply.body,
        acl_log()
    );
    let got = http(s.addr, "GET", &path, &su, b"").await;
    assert_eq!((got.status, &got.body[..]), (200, &b"v"[..]));
    assert_eq!(http(s.addr, "DELETE", &path, &su, b"").await.status, 204);
    assert_eq!(publish(s.addr, &su, "t", "hello").await.status, 204);
    let items = polled_items(&poll(s.addr, &su, "t", 1, None).await);
    assert_eq!(items.len(), 1);
    assert_eq!((items[0].0, items[0].2.as_str()), (1, "hello"));
    // Collections: every command and script they use.
    let jwt = scopegate::token::unwrap_envelope(&su).unwrap().into_owned();
    let mut c = ScsClient::connect(format!("http://{}", s.addr))
        .await
        .unwrap();
    every_collection_command(&mut c, &jwt).await;
    // Nothing the gateway sent was refused (a refusal it swallowed would show here).
    let log = redis.command(&[b"ACL", b"LOG"]);
    assert_eq!(log, Resp::Array(vec![]), "ACL LOG: {log:?}");
    assert!(redis.keys().iter().all(|k| k.starts_with(b"3:acl:")));

    // A wrong password: the gateway runs, is not ready, and answers 503.
    let wrong = start_unready(on_redis(redis.url_as("sg", "wrongpw"), "acl")).await;
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        assert_eq!(wrong.readyz().await, 503);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let reply = http(wrong.addr, "GET", &path, &wrong.superuser, b"").await;
    assert_eq!(
        (reply.status, reply.code()),
        (503, "SERVER_UNAVAILABLE".into())
    );
    let text = String::from_utf8_lossy(&reply.body);
    assert!(
        !text.contains("wrongpw") && !text.contains("secretpw"),
        "{text}"
    );
    assert!(!wrong.metrics().await.contains("wrongpw"));
}

// ---------------------------------------------------------------------------
// 5. A Redis cluster.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_serves_items_batches_conditions_and_topics() {
    let cluster = RedisCluster::start();
    let seeds = cluster.seeds();
    let s = start(|c| {
        c.redis = Some(RedisConfig {
            cluster: true,
            nodes: seeds.clone(),
            namespace: "cl".into(),
            ..RedisConfig::new(seeds[0].clone())
        })
    })
    .await;
    let su = s.superuser.clone();
    for i in 0..50 {
        let path = item_path(CACHE, &format!("http-{i}"));
        assert_eq!(
            put(s.addr, &su, &path, format!("v{i}").as_bytes())
                .await
                .status,
            204
        );
    }
    for i in 0..50 {
        let got = http(
            s.addr,
            "GET",
            &item_path(CACHE, &format!("http-{i}")),
            &su,
            b"",
        )
        .await;
        assert_eq!((got.status, got.body), (200, Bytes::from(format!("v{i}"))));
    }

    let jwt = scopegate::token::unwrap_envelope(&su).unwrap().into_owned();
    let mut c = ScsClient::connect(format!("http://{}", s.addr))
        .await
        .unwrap();
    let items = (0..50)
        .map(|i| set(&format!("batch-{i}"), &format!("b{i}")))
        .collect();
    let mut stream = c
        .set_batch(call(SetBatchRequest { items }, &jwt, Some(CACHE)))
        .await
        .unwrap()
        .into_inner();
    let mut stored = 0;
    while let Some(response) = stream.message().await.unwrap() {
        assert_eq!(response.result, ECacheResult::Ok as i32);
        stored += 1;
    }
    assert_eq!(stored, 50);
    let mut gets: Vec<GetRequest> = (0..50).map(|i| get(&format!("batch-{i}"))).collect();
    gets.push(get("batch-missing"));
    gets.push(get("http-7"));
    let mut stream = c
        .get_batch(call(GetBatchRequest { items: gets }, &jwt, Some(CACHE)))
        .await
        .unwrap()
        .into_inner();
    let mut results = Vec::new();
    while let Some(r) = stream.message().await.unwrap() {
        results.push((r.result, String::from_utf8(r.cache_body).unwrap()));
    }
    let (hit, miss) = (ECacheResult::Hit as i32, ECacheResult::Miss as i32);
    let mut expected: Vec<(i32, String)> = (0..50).map(|i| (hit, format!("b{i}"))).collect();
    expected.push((miss, String::new()));
    expected.push((hit, "v7".into()));
    assert_eq!(results, expected);

    let increment = |amount| IncrementRequest {
        cache_key: b"counter".to_vec(),
        amount,
        ttl_milliseconds: 60_000,
    };
    let one = c
        .increment(call(increment(5), &jwt, Some(CACHE)))
        .await
        .unwrap();
    let two = c
        .increment(call(increment(2), &jwt, Some(CACHE)))
        .await
        .unwrap();
    assert_eq!((one.into_inner().value, two.into_inner().value), (5, 7));

    use momento_protos::common::{Absent, Equal};
    let set_if = |value: &str, condition| SetIfRequest {
        cache_key: b"cond".to_vec(),
        cache_body: value.as_bytes().to_vec(),
        ttl_milliseconds: 60_000,
        condition: Some(condition),
    };
    use set_if_request::Condition;
    use set_if_response::Result as R;
    let absent = c
        .set_if(call(
            set_if("first", Condition::Absent(Absent {})),
            &jwt,
            Some(CACHE),
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(matches!(absent.result, Some(R::Stored(_))), "{absent:?}");
    let again = c
        .set_if(call(
            set_if("second", Condition::Absent(Absent {})),
            &jwt,
            Some(CACHE),
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(matches!(again.result, Some(R::NotStored(_))), "{again:?}");
    let equal = Condition::Equal(Equal {
        value_to_check: b"first".to_vec(),
    });
    let swapped = c
        .set_if(call(set_if("third", equal), &jwt, Some(CACHE)))
        .await
        .unwrap()
        .into_inner();
    assert!(matches!(swapped.result, Some(R::Stored(_))), "{swapped:?}");
    let got = http(s.addr, "GET", &item_path(CACHE, "cond"), &su, b"").await;
    assert_eq!(got.body, "third");

    // Topics: a gRPC subscriber sees what is published.
    let mut p = PubsubClient::connect(format!("http://{}", s.addr))
        .await
        .unwrap();
    let mut stream = p
        .subscribe(call(subscription("cl-topic", 0, 0), &jwt, None))
        .await
        .unwrap()
        .into_inner();
    tokio::time::sleep(Duration::from_millis(300)).await;
    p.publish(call(text_message("cl-topic", "clustered"), &jwt, None))
        .await
        .unwrap();
    match next_event(&mut stream).await {
        subscription_item::Kind::Item(item) => {
            assert_eq!(item.topic_sequence_number, 1);
            assert_eq!(
                item.value.unwrap().kind,
                Some(topic_value::Kind::Text("clustered".into()))
            );
        }
        other => panic!("expected the message, got {other:?}"),
    }
    assert_eq!(
        publish(s.addr, &su, "cl-topic", "by http").await.status,
        204
    );
    let items = polled_items(&poll(s.addr, &su, "cl-topic", 1, None).await);
    let texts: Vec<&str> = items.iter().map(|i| i.2.as_str()).collect();
    assert_eq!(texts, ["clustered", "by http"]);

    // Collections on a cluster: UnionStore's sources live in other slots
    // (and here, on other masters) than its destination.
    let names = every_collection_command(&mut c, &jwt).await;
    let masters_of_sources = cluster
        .nodes
        .iter()
        .filter(|n| {
            n.keys()
                .iter()
                .any(|k| k.starts_with(b"2:cl:d:") && k.windows(3).any(|w| w == b"zs-"))
        })
        .count();
    assert!(
        masters_of_sources >= 2,
        "the sorted sets spread over the masters"
    );

    // The items spread over the masters, all under the namespace.
    let per_node: Vec<usize> = cluster
        .nodes
        .iter()
        .map(|n| {
            n.keys()
                .iter()
                .filter(|k| k.starts_with(b"2:cl:d:"))
                .count()
        })
        .collect();
    println!("cluster: data keys per master {per_node:?}");
    assert_eq!(per_node.iter().sum::<usize>(), 50 + 50 + 2 + names.len());
    assert!(per_node.iter().all(|n| *n > 0), "{per_node:?}");
    assert!(cluster.keys().iter().all(|k| k.starts_with(b"2:cl:")));
}

/// One call of every collection RPC (so every command and script the
/// collections use runs), each checked: on a restricted ACL user nothing may
/// be refused, and on a cluster UnionStore reads sources in other slots than
/// its destination. Returns the names of the collections it left behind.
async fn every_collection_command(
    c: &mut ScsClient<tonic::transport::Channel>,
    jwt: &str,
) -> Vec<&'static str> {
    use momento_protos::common::Unbounded;
    let b = |s: &str| s.as_bytes().to_vec();
    let ttl = 60_000;
    macro_rules! ok {
        ($method:ident, $request:expr) => {
            c.$method(call($request, jwt, Some(CACHE)))
                .await
                .unwrap_or_else(|e| panic!("{}: {e:?}", stringify!($method)))
                .into_inner()
        };
    }
    let pair = |f: &str, v: &str| DictionaryFieldValuePair {
        field: b(f),
        value: b(v),
    };
    ok!(
        dictionary_set,
        DictionarySetRequest {
            dictionary_name: b("dict"),
            items: vec![pair("a", "1"), pair("b", "x")],
            ttl_milliseconds: ttl,
            refresh_ttl: true,
        }
    );
    let n = ok!(
        dictionary_increment,
        DictionaryIncrementRequest {
            dictionary_name: b("dict"),
            field: b("a"),
            amount: 2,
            ttl_milliseconds: ttl,
            refresh_ttl: false,
        }
    );
    assert_eq!(n.value, 3);
    ok!(
        dictionary_get,
        DictionaryGetRequest {
            dictionary_name: b("dict"),
            fields: vec![b("a"), b("z")]
        }
    );
    ok!(
        dictionary_fetch,
        DictionaryFetchRequest {
            dictionary_name: b("dict")
        }
    );
    ok!(
        dictionary_length,
        DictionaryLengthRequest {
            dictionary_name: b("dict")
        }
    );
    ok!(
        dictionary_delete,
        DictionaryDeleteRequest {
            dictionary_name: b("dict"),
            delete: Some(dictionary_delete_request::Delete::Some(
                dictionary_delete_request::Some {
                    fields: vec![b("b")]
                }
            )),
        }
    );
    ok!(
        set_union,
        SetUnionRequest {
            set_name: b("set"),
            elements: vec![b("a"), b("b"), b("c")],
            ttl_milliseconds: ttl,
            refresh_ttl: true
        }
    );
    ok!(set_fetch, SetFetchRequest { set_name: b("set") });
    ok!(
        set_sample,
        SetSampleRequest {
            set_name: b("set"),
            limit: 2
        }
    );
    ok!(
        set_contains,
        SetContainsRequest {
            set_name: b("set"),
            elements: vec![b("a")]
        }
    );
    ok!(set_length, SetLengthRequest { set_name: b("set") });
    ok!(
        set_pop,
        SetPopRequest {
            set_name: b("set"),
            count: 1
        }
    );
    use set_difference_request::{Difference, Minuend};
    ok!(
        set_difference,
        SetDifferenceRequest {
            set_name: b("set"),
            difference: Some(Difference::Minuend(Minuend {
                elements: vec![b("d")]
            })),
        }
    );
    ok!(
        list_concatenate_back,
        ListConcatenateBackRequest {
            list_name: b("list"),
            values: vec![b("a"), b("b"), b("c")],
            ttl_milliseconds: ttl,
            refresh_ttl: true,
            truncate_front_to_size: 5,
        }
    );
    ok!(
        list_push_front,
        ListPushFrontRequest {
            list_name: b("list"),
            value: b("z"),
            ttl_milliseconds: ttl,
            refresh_ttl: true,
            truncate_back_to_size: 0,
        }
    );
    ok!(
        list_fetch,
        ListFetchRequest {
            list_name: b("list"),
            start_index: None,
            end_index: None
        }
    );
    ok!(
        list_length,
        ListLengthRequest {
            list_name: b("list")
        }
    );
    ok!(
        list_pop_back,
        ListPopBackRequest {
            list_name: b("list")
        }
    );
    ok!(
        list_remove,
        ListRemoveRequest {
            list_name: b("list"),
            remove: Some(list_remove_request::Remove::AllElementsWithValue(b("a"))),
        }
    );
    ok!(
        list_erase,
        ListEraseRequest {
            list_name: b("list"),
            erase: Some(list_erase_request::Erase::Some(
                list_erase_request::ListRanges {
                    ranges: vec![ListRange {
                        begin_index: 0,
                        count: 1
                    }],
                }
            )),
        }
    );
    let kept = ok!(
        list_retain,
        ListRetainRequest {
            list_name: b("list"),
            ttl_milliseconds: ttl,
            refresh_ttl: false,
            start_index: None,
            end_index: None,
        }
    );
    assert!(
        matches!(kept.list, Some(list_retain_response::List::Found(_))),
        "{kept:?}"
    );
    // Sorted sets: sources spread over the slots, one destination.
    let sources: Vec<&'static str> = vec!["zs-a", "zs-b", "zs-c", "zs-d", "zs-e", "zs-f"];
    for (i, name) in sources.iter().enumerate() {
        ok!(
            sorted_set_put,
            SortedSetPutRequest {
                set_name: b(name),
                elements: vec![
                    SortedSetElement {
                        value: b("shared"),
                        score: 1.0
                    },
                    SortedSetElement {
                        value: b(name),
                        score: i as f64
                    }
                ],
                ttl_milliseconds: ttl,
                refresh_ttl: true,
            }
        );
    }
    let stored = ok!(
        sorted_set_union_store,
        SortedSetUnionStoreRequest {
            set_name: b("zs-dest"),
            sources: sources
                .iter()
                .map(|n| sorted_set_union_store_request::Source {
                    set_name: b(n),
                    weight: 2.0
                })
                .collect(),
            aggregate: 0,
            ttl_milliseconds: ttl,
        }
    );
    assert_eq!(
        stored.length, 7,
        "every source's own value and the shared one"
    );
    let score = ok!(
        sorted_set_get_score,
        SortedSetGetScoreRequest {
            set_name: b("zs-dest"),
            values: vec![b("shared"), b("zs-f")]
        }
    );
    let Some(sorted_set_get_score_response::SortedSet::Found(found)) = score.sorted_set else {
        panic!("{score:?}")
    };
    let scores: Vec<f64> = found.elements.iter().map(|e| e.score).collect();
    assert_eq!(scores, [12.0, 10.0], "summed over every source, weighted");
    use sorted_set_fetch_request::{ByIndex, ByScore, Range, by_index, by_score};
    ok!(
        sorted_set_fetch,
        SortedSetFetchRequest {
            set_name: b("zs-dest"),
            order: 1,
            with_scores: true,
            range: Some(Range::ByIndex(ByIndex {
                start: Some(by_index::Start::UnboundedStart(Unbounded {})),
                end: Some(by_index::End::ExclusiveEndIndex(3))
            })),
        }
    );
    ok!(
        sorted_set_fetch,
        SortedSetFetchRequest {
            set_name: b("zs-dest"),
            order: 0,
            with_scores: false,
            range: Some(Range::ByScore(ByScore {
                offset: 0,
                count: -1,
                min: Some(by_score::Min::MinScore(by_score::Score {
                    score: 1.0,
                    exclusive: true
                })),
                max: None
            })),
        }
    );
    ok!(
        sorted_set_get_rank,
        SortedSetGetRankRequest {
            set_name: b("zs-dest"),
            value: b("shared"),
            order: 1
        }
    );
    ok!(
        sorted_set_length,
        SortedSetLengthRequest {
            set_name: b("zs-dest")
        }
    );
    ok!(
        sorted_set_length_by_score,
        SortedSetLengthByScoreRequest {
            set_name: b("zs-dest"),
            min: None,
            max: None
        }
    );
    ok!(
        sorted_set_increment,
        SortedSetIncrementRequest {
            set_name: b("zs-dest"),
            value: b("new"),
            amount: 1.5,
            ttl_milliseconds: ttl,
            refresh_ttl: false
        }
    );
    ok!(
        sorted_set_remove,
        SortedSetRemoveRequest {
            set_name: b("zs-dest"),
            remove_elements: Some(sorted_set_remove_request::RemoveElements::Some(
                sorted_set_remove_request::Some {
                    values: vec![b("new")]
                }
            )),
        }
    );
    let kind = ok!(
        item_get_type,
        ItemGetTypeRequest {
            cache_key: b("zs-dest")
        }
    );
    assert!(matches!(
        kind.result,
        Some(item_get_type_response::Result::Found(item_get_type_response::Found { item_type })) if item_type == item_get_type_response::ItemType::SortedSet as i32
    ));
    let mut names = vec!["dict", "set", "list", "zs-dest"];
    names.extend(sources);
    names
}

// ---------------------------------------------------------------------------
// 6. Oversized values never reach Redis.

#[tokio::test]
async fn oversized_values_are_413_and_never_reach_redis() {
    let redis = RedisServer::start();
    let on = on_redis(redis.url(), "big");
    let s = start(move |c| {
        on(c);
        c.server.max_value_bytes = 1024;
    })
    .await;
    let su = s.superuser.clone();
    // The gateway's own startup and probes are done; only writes are compared.
    let writes = |calls: &BTreeMap<String, u64>| -> BTreeMap<String, u64> {
        calls
            .iter()
            .filter(|(name, _)| {
                [
                    "set", "setex", "psetex", "xadd", "eval", "evalsha", "hset", "hsetnx",
                ]
                .contains(&name.as_str())
                    || name.starts_with("fcall")
            })
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    };
    let (keys_before, writes_before) = (redis.keys(), writes(&redis.command_calls()));
    let path = item_path(CACHE, "too-big");
    let big = put(s.addr, &su, &path, &[7u8; 1025]).await;
    assert_eq!(
        (big.status, big.code()),
        (413, "LIMIT_EXCEEDED_ERROR".into())
    );
    let big = publish(s.addr, &su, "t", &"x".repeat(1025)).await;
    assert_eq!(big.status, 413);
    let jwt = scopegate::token::unwrap_envelope(&su).unwrap().into_owned();
    let mut c = ScsClient::connect(format!("http://{}", s.addr))
        .await
        .unwrap();
    let request = SetRequest {
        cache_body: vec![7; 1025],
        ..set("too-big", "")
    };
    let err = c.set(call(request, &jwt, Some(CACHE))).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::ResourceExhausted);
    let mut keys_after = redis.keys();
    let mut keys_before = keys_before;
    keys_before.sort();
    keys_after.sort();
    assert_eq!(keys_after, keys_before, "no key appeared");
    assert_eq!(
        writes(&redis.command_calls()),
        writes_before,
        "no write reached Redis"
    );
    // The limit itself is allowed (and does reach Redis).
    assert_eq!(put(s.addr, &su, &path, &[7u8; 1024]).await.status, 204);
    assert!(redis.keys().iter().any(|k| k.ends_with(b"too-big")));
}

/// A collection stored under a larger bound (the setting lowered since) is
/// refused whole, RESOURCE_EXHAUSTED, rather than answered past the bound
/// an SDK accepts; a range of it, and its length, are still served.
#[tokio::test]
async fn a_collection_over_a_lowered_bound_is_fetched_by_range_not_whole() {
    let redis = RedisServer::start();
    let before = start(on_redis(redis.url(), "shrink")).await;
    let jwt = scopegate::token::unwrap_envelope(&before.superuser)
        .unwrap()
        .into_owned();
    let mut c = ScsClient::connect(format!("http://{}", before.addr))
        .await
        .unwrap();
    let push = ListConcatenateBackRequest {
        list_name: b"big".to_vec(),
        values: vec![vec![b'x'; 30_000]; 3],
        ttl_milliseconds: 60_000,
        refresh_ttl: true,
        truncate_front_to_size: 0,
    };
    c.list_concatenate_back(call(push, &jwt, Some(CACHE)))
        .await
        .unwrap();
    let after = start(|config| {
        on_redis(redis.url(), "shrink")(config);
        config.server.max_value_bytes = 64 * 1024;
    })
    .await;
    let jwt = scopegate::token::unwrap_envelope(&after.superuser)
        .unwrap()
        .into_owned();
    let mut c = ScsClient::connect(format!("http://{}", after.addr))
        .await
        .unwrap();
    let fetch = |end: Option<i32>| ListFetchRequest {
        list_name: b"big".to_vec(),
        start_index: None,
        end_index: end.map(list_fetch_request::EndIndex::ExclusiveEnd),
    };
    let whole = c
        .list_fetch(call(fetch(None), &jwt, Some(CACHE)))
        .await
        .unwrap_err();
    assert_eq!(whole.code(), tonic::Code::ResourceExhausted, "{whole:?}");
    assert_eq!(
        whole.metadata().get("err").map(|v| v.to_str().unwrap()),
        Some("item_size_limit_exceeded")
    );
    let first = c
        .list_fetch(call(fetch(Some(1)), &jwt, Some(CACHE)))
        .await
        .unwrap()
        .into_inner();
    let Some(list_fetch_response::List::Found(found)) = first.list else {
        panic!("{first:?}")
    };
    assert_eq!(found.values.len(), 1);
    let length = c
        .list_length(call(
            ListLengthRequest {
                list_name: b"big".to_vec(),
            },
            &jwt,
            Some(CACHE),
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(matches!(
        length.list,
        Some(list_length_response::List::Found(
            list_length_response::Found { length: 3 }
        ))
    ));
}
