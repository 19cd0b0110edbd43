//! Key rotation without a restart (SPEC 12), on a real `scopegate serve`
//! process whose key lives in a directory laid out as kubelet mounts a
//! Secret (`k1.secret -> ..data/k1.secret`, `..data -> ..<timestamp>`), and
//! is rotated by swapping the `..data` symlink, as kubelet does. Under a
//! steady load with a credential of the stable key: zero failed requests
//! across a refused half-written key, two rotations, a SIGHUP and the drain.

mod support;

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use scopegate::scope::json;
use scopegate::token::{self, AuthPolicy, CredentialKind, KeyRing, MintRequest, Origin, RingKey};
use support::server::send;

const STABLE: &str = "a-stable-secret-of-at-least-32-bytes!!";
const READER: &str = r#"{"permissions":[{"role":"readonly","cache":"default-cache"}]}"#;

fn mint(kid: &str, secret: &str) -> String {
    let ring = KeyRing::new(
        vec![RingKey::hs256(kid, secret.as_bytes()).unwrap()],
        Some(kid),
    )
    .unwrap();
    let request = MintRequest {
        scope: &json::parse(READER).unwrap(),
        kind: CredentialKind::Disposable,
        ttl_secs: Some(600),
        token_id: None,
        subject: "rotation-test",
        origin: Origin::Api,
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

/// Writes `secret` into a new timestamped dir and swaps `..data` to it
/// atomically (a new symlink renamed over the old one).
fn kubelet_swap(keys: &Path, version: &str, secret: &[u8]) {
    let dir = keys.join(format!("..{version}"));
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("k1.secret"), secret).unwrap();
    let tmp = keys.join("..data_tmp");
    std::os::unix::fs::symlink(format!("..{version}"), &tmp).unwrap();
    std::fs::rename(&tmp, keys.join("..data")).unwrap();
}

struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn signal(child: &Child, name: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{name}");
}

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
    std::fs::create_dir(&keys).unwrap();
    kubelet_swap(
        &keys,
        "2026_12_01_a",
        b"first-secret-of-at-least-32-bytes!!!",
    );
    std::os::unix::fs::symlink("..data/k1.secret", keys.join("k1.secret")).unwrap();
    std::fs::write(dir.path().join("k0.secret"), STABLE).unwrap();
    std::fs::write(
        dir.path().join("config.toml"),
        "[server]\nlisten = \"127.0.0.1:0\"\nshutdown_grace = \"3s\"\n\
         [admin]\nlisten = \"127.0.0.1:0\"\n\
         [[keys]]\nkid = \"k0\"\nalg = \"HS256\"\nsecret_file = \"k0.secret\"\nsigning = true\n\
         [[keys]]\nkid = \"k1\"\nalg = \"HS256\"\nsecret_file = \"keys/k1.secret\"\n\
         [[caches]]\nname = \"default-cache\"\n",
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_scopegate"))
        .args(["serve", "--config", "config.toml"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let first = std::io::BufReader::new(stdout)
        .lines()
        .next()
        .unwrap()
        .unwrap();
    let process = Process(child);
    let addr_after = |marker: &str| -> SocketAddr {
        let rest = &first[first.find(marker).unwrap() + marker.len()..];
        rest.split(|c: char| c.is_whitespace() || c == ',')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let (addr, admin) = (
        addr_after("listening on http://"),
        addr_after("admin on http://"),
    );
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
    kubelet_swap(&keys, "2026_12_01_b", b"short");
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
    kubelet_swap(&keys, "2026_12_01_c", second.as_bytes());
    let new = mint("k1", second);
    eventually(addr, &new, 404, Duration::from_secs(6)).await;
    eventually(addr, &old, 401, Duration::from_secs(1)).await;
    assert!(metric(admin, "scopegate_key_reloads_total{result=\"replaced\"}").await >= 1);

    // SIGHUP: applied at once, without waiting for the poll.
    let third = "third-secret-of-at-least-32-bytes!!!";
    kubelet_swap(&keys, "2026_12_01_d", third.as_bytes());
    signal(&process.0, "HUP");
    let newest = mint("k1", third);
    eventually(addr, &newest, 404, Duration::from_millis(1500)).await;
    assert_eq!(status(addr, &new).await, 401);

    // The drain, as kubelet ends a pod: SIGTERM, then exit 0.
    stop.store(true, Ordering::Relaxed);
    load.await.unwrap();
    let mut process = process;
    signal(&process.0, "TERM");
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = process.0.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "no exit after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(exit.success(), "{exit:?}");
    let (sent, failed) = (sent.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    eprintln!("{sent} requests across the rotations, {failed} failed");
    assert!(sent > 100, "the load ran ({sent})");
    assert_eq!(failed, 0);
}
