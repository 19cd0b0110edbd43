//! Key rotation without a restart (SPEC 12), on a real `scopegate serve`
//! process whose key lives in a directory laid out as kubelet mounts a
//! Secret (`k1.secret -> ..data/k1.secret`, `..data -> ..<timestamp>`), and
//! is rotated by swapping the `..data` symlink, as kubelet does. Under a
//! steady load with a credential of the stable key: zero failed requests
//! across a refused half-written key, two rotations, a SIGHUP and the drain.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use support::kubelet::{Gateway, STABLE, lay_out, mint, swap};
use support::server::send;

async fn status(addr: SocketAddr, credential: &str) -> u16 {
    send(
        addr,
        "GET",
        "/cache/default-cache?key=k",
        &[("authorization", credential)],
        bytes::Bytes::new(),
    )
    .await
    .status
}

/// Polls until `credential` gets `want` (bounded).
async fn eventually(addr: SocketAddr, credential: &str, want: u16, within: Duration) {
    let started = Instant::now();
    loop {
        let got = status(addr, credential).await;
        if got == want {
            return;
        }
        assert!(started.elapsed() < within, "still {got}, not {want}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn metric(admin: SocketAddr, line: &str) -> u64 {
    let reply = send(admin, "GET", "/metrics", &[], bytes::Bytes::new()).await;
    let text = String::from_utf8_lossy(&reply.body).to_string();
    text.lines()
        .find_map(|l| l.strip_prefix(line))
        .map_or(0, |v| v.trim().parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_rotate_by_symlink_swap_and_sighup_without_dropping_a_request() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    lay_out(dir.path(), "127.0.0.1:0", "127.0.0.1:0");
    let gateway = Gateway::start(dir.path(), &[]);
    let (addr, admin) = (gateway.addr, gateway.admin);
    let stable = mint("k0", STABLE);
    let old = mint("k1", "first-secret-of-at-least-32-bytes!!!");
    assert_eq!(status(addr, &stable).await, 404, "a miss: valid");
    assert_eq!(status(addr, &old).await, 404);

    // A steady load with the stable key, through everything below.
    let stop = Arc::new(AtomicBool::new(false));
    let (sent, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let load = {
        let (stop, sent, failed, stable) = (
            Arc::clone(&stop),
            Arc::clone(&sent),
            Arc::clone(&failed),
            stable.clone(),
        );
        tokio::spawn(async move {
            for _ in 0..100_000 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                sent.fetch_add(1, Ordering::Relaxed);
                if status(addr, &stable).await != 404 {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };

    // Half-written: a secret too short to be a key. Refused; the old ring stays.
    swap(&keys, "2026_12_01_b", b"short");
    let started = Instant::now();
    while metric(admin, "scopegate_key_reloads_total{result=\"refused\"}").await == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "the bad ring was never seen"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status(addr, &old).await, 404, "the old key still works");

    // The whole new secret: the old credential fails, the new one works.
    let second = "second-secret-of-at-least-32-bytes!!";
    swap(&keys, "2026_12_01_c", second.as_bytes());
    let new = mint("k1", second);
    eventually(addr, &new, 404, Duration::from_secs(6)).await;
    eventually(addr, &old, 401, Duration::from_secs(1)).await;
    assert!(metric(admin, "scopegate_key_reloads_total{result=\"replaced\"}").await >= 1);

    // SIGHUP: applied at once, without waiting for the poll.
    let third = "third-secret-of-at-least-32-bytes!!!";
    swap(&keys, "2026_12_01_d", third.as_bytes());
    gateway.signal("HUP");
    let newest = mint("k1", third);
    eventually(addr, &newest, 404, Duration::from_millis(1500)).await;
    assert_eq!(status(addr, &new).await, 401);

    // The drain, as kubelet ends a pod: SIGTERM, then exit 0.
    stop.store(true, Ordering::Relaxed);
    load.await.unwrap();
    let exit = gateway.terminate();
    assert!(exit.success(), "{exit:?}");
    let (sent, failed) = (sent.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    eprintln!("{sent} requests across the rotations, {failed} failed");
    assert!(sent > 100, "the load ran ({sent})");
    assert_eq!(failed, 0);
}
