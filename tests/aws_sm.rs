//! Keys from AWS Secrets Manager (SPEC 12), against moto in server mode (a
//! local AWS; `scripts/moto.sh` installs the pinned `moto[server]` into
//! target/aws-sm/venv): a real `scopegate serve` process whose key comes from
//! a secret, that secret rotated, AWS gone, and values that are not keys.
//!
//! Skipped, with a message, when moto cannot be installed (no python3 or no
//! PyPI), unless `SCOPEGATE_REQUIRE_MOTO=1`: then that is a failure.

mod support;

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
use scopegate::scope::json;
use scopegate::token::{self, AuthPolicy, CredentialKind, KeyRing, MintRequest, Origin, RingKey};
use support::kubelet::{READER, mint};
use support::redis::{free_port, guarded};
use support::server::send;

const REGION: &str = "us-east-1";
const FIRST: &str = "first-aws-secret-of-at-least-32-bytes!!";
const SECOND: &str = "second-aws-secret-of-at-least-32-bytes!";

/// The moto_server of the pinned venv, or `None` (skip) when it cannot be
/// installed and `SCOPEGATE_REQUIRE_MOTO` is not `1`.
fn moto_server() -> Option<&'static Path> {
    static SERVER: OnceLock<Option<PathBuf>> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/moto.sh");
            let out = Command::new(script).stderr(Stdio::piped()).output();
            let problem = match out {
                Ok(out) if out.status.success() => {
                    let path = String::from_utf8(out.stdout).unwrap().trim().to_owned();
                    return Some(PathBuf::from(path));
                }
                Ok(out) => String::from_utf8_lossy(&out.stderr).into_owned(),
                Err(e) => e.to_string(),
            };
            if std::env::var("SCOPEGATE_REQUIRE_MOTO").as_deref() == Ok("1") {
                panic!("SCOPEGATE_REQUIRE_MOTO=1 but moto cannot be installed: {problem}");
            }
            eprintln!("SKIPPED: moto cannot be installed (scripts/moto.sh): {problem}");
            None
        })
        .as_deref()
}

/// A `moto_server` on a free loopback port, killed when stopped or dropped
/// (the watchdog of support::redis: also when this process dies).
struct Moto {
    url: String,
    process: Option<(Child, ChildStdin)>,
}

impl Moto {
    /// Tries a few free ports: a port probed free may be taken (by another
    /// test's gateway) before moto binds it; then moto exits and we go on.
    fn start(program: &Path) -> Moto {
        for _ in 0..5 {
            if let Some(moto) = Moto::try_start(program, free_port()) {
                return moto;
            }
        }
        panic!("moto_server did not start on any of 5 ports");
    }

    /// Starts moto on `port`; `None` if it exits without listening. Ready
    /// once it logs `Running on` (after the bind); its log is drained after.
    fn try_start(program: &Path, port: u16) -> Option<Moto> {
        let mut child = guarded(program.to_str().unwrap())
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (ready, listening) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if line.contains("Running on http://") {
                    let _ = ready.send(());
                }
            }
        });
        match listening.recv_timeout(Duration::from_secs(30)) {
            Ok(()) => Some(Moto {
                url: format!("http://127.0.0.1:{port}"),
                process: Some((child, stdin)),
            }),
            Err(_) => {
                drop(stdin);
                let _ = child.kill();
                let _ = child.wait();
                None
            }
        }
    }

    /// A Secrets Manager client of moto (its credentials are any).
    fn client(&self) -> Client {
        let config = aws_sdk_secretsmanager::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .endpoint_url(&self.url)
            .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
            .build();
        Client::from_conf(config)
    }

    async fn create(&self, name: &str, value: &str) {
        self.client()
            .create_secret()
            .name(name)
            .secret_string(value)
            .send()
            .await
            .unwrap();
    }

    async fn put(&self, name: &str, value: &str) {
        self.client()
            .put_secret_value()
            .secret_id(name)
            .secret_string(value)
            .send()
            .await
            .unwrap();
    }

    fn stop(&mut self) {
        if let Some((mut child, stdin)) = self.process.take() {
            drop(stdin);
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A config whose one key `k1` comes from `secret` in moto (`keys` is the
/// whole `[[keys]]` entry after `kid`, when given).
fn write_config(dir: &Path, moto: &Moto, keys: &str) {
    std::fs::write(
        dir.join("config.toml"),
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\nshutdown_grace = \"1s\"\n\
             [admin]\nlisten = \"127.0.0.1:0\"\n\
             [[keys]]\nkid = \"k1\"\n{keys}\
             aws_region = \"{REGION}\"\naws_endpoint_url = \"{}\"\naws_refresh = \"10s\"\n\
             [[caches]]\nname = \"default-cache\"\n",
            moto.url
        ),
    )
    .unwrap();
}

fn hs256(secret: &str) -> String {
    format!("alg = \"HS256\"\nsecret_aws_sm = \"{secret}\"\n")
}

/// `scopegate <args>` in `dir` with AWS credentials in the environment only
/// (no profile, no instance metadata).
fn scopegate(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_scopegate"));
    command
        .args(args)
        .current_dir(dir)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.join("no-aws-credentials"),
        );
    command
}

/// A `scopegate serve` process (its log in `dir/stderr.log`), killed on drop.
struct Gateway {
    child: Child,
    addr: SocketAddr,
    admin: SocketAddr,
    log: PathBuf,
}

impl Gateway {
    fn start(dir: &Path) -> Gateway {
        let log = dir.join("stderr.log");
        let mut child = scopegate(dir, &["serve", "--config", "config.toml"])
            .env("SCOPEGATE_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let first = std::io::BufReader::new(child.stdout.take().unwrap())
            .lines()
            .next()
            .unwrap_or_else(|| {
                panic!(
                    "no listening line; log: {}",
                    std::fs::read_to_string(&log).unwrap()
                )
            })
            .unwrap();
        let (addr, admin) = crate::support::listening_addrs(&first);
        Gateway {
            addr,
            admin,
            child,
            log,
        }
    }

    async fn status(&self, credential: &str) -> u16 {
        let headers = [("authorization", credential)];
        send(
            self.addr,
            "GET",
            "/cache/default-cache?key=k",
            &headers,
            bytes::Bytes::new(),
        )
        .await
        .status
    }

    async fn metric(&self, line: &str) -> u64 {
        let reply = send(self.admin, "GET", "/metrics", &[], bytes::Bytes::new()).await;
        let text = String::from_utf8_lossy(&reply.body).to_string();
        text.lines()
            .find_map(|l| l.strip_prefix(line))
            .map_or(0, |v| v.trim().parse().unwrap())
    }

    /// Waits (bounded) until `metric` reaches `at_least`.
    async fn metric_reaches(&self, line: &str, at_least: u64, within: Duration) {
        let started = Instant::now();
        while self.metric(line).await < at_least {
            assert!(
                started.elapsed() < within,
                "{line} never reached {at_least}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The log so far, checked to hold none of `values`.
    fn log_without(&self, values: &[&str]) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap();
        for value in values {
            assert!(!log.contains(value), "a secret value in the log: {log}");
        }
        log
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const OK: &str = "scopegate_aws_sm_fetches_total{result=\"ok\"}";
const FAILED: &str = "scopegate_aws_sm_fetches_total{result=\"failed\"}";
const REFUSED: &str = "scopegate_key_reloads_total{result=\"refused\"}";
const REPLACED: &str = "scopegate_key_reloads_total{result=\"replaced\"}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_from_secrets_manager_verifies_and_rotates_after_its_refresh() {
    let Some(program) = moto_server() else { return };
    let moto = Moto::start(program);
    moto.create("scopegate/k1", FIRST).await;
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &moto, &hs256("scopegate/k1"));
    let started = Instant::now();
    let gateway = Gateway::start(dir.path());
    let (old, new) = (mint("k1", FIRST), mint("k1", SECOND));
    assert_eq!(
        gateway.status(&old).await,
        404,
        "a miss: the token is valid"
    );
    assert_eq!(gateway.status(&new).await, 401);

    // Rotated in AWS. Reloads every 2 s reuse the cached value until 10 s
    // after the fetch at start: no call to AWS, the old key still verifies.
    moto.put("scopegate/k1", SECOND).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    if started.elapsed() < Duration::from_secs(9) {
        assert_eq!(gateway.metric(OK).await, 1, "fetched once, at start");
        assert_eq!(gateway.status(&old).await, 404, "cached within aws_refresh");
    }

    // After aws_refresh: fetched again, a new ring; old fails, new works.
    gateway
        .metric_reaches(REPLACED, 1, Duration::from_secs(25))
        .await;
    assert_eq!(gateway.status(&new).await, 404);
    assert_eq!(gateway.status(&old).await, 401);
    assert_eq!(gateway.metric(OK).await, 2);
    assert_eq!(gateway.metric(FAILED).await, 0);
    let log = gateway.log_without(&[FIRST, SECOND]);
    assert!(log.contains("key ring replaced"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_keeps_the_last_good_key_and_readiness() {
    let Some(program) = moto_server() else { return };
    let mut moto = Moto::start(program);
    moto.create("scopegate/outage", FIRST).await;
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &moto, &hs256("scopegate/outage"));
    let gateway = Gateway::start(dir.path());
    let token = mint("k1", FIRST);
    assert_eq!(gateway.status(&token).await, 404);

    moto.stop();
    gateway
        .metric_reaches(FAILED, 1, Duration::from_secs(25))
        .await;
    assert_eq!(gateway.status(&token).await, 404, "the last good key stays");
    let ready = send(gateway.admin, "GET", "/readyz", &[], bytes::Bytes::new()).await;
    assert_eq!(ready.status, 200, "AWS is not the gateway's readiness");
    assert_eq!(gateway.metric(REFUSED).await, 0, "not a refused reload");
    assert_eq!(gateway.metric(OK).await, 1);
    let log = gateway.log_without(&[FIRST]);
    assert!(log.contains("refresh failed"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_that_is_not_key_material_is_refused_at_start_and_at_refresh() {
    let Some(program) = moto_server() else { return };
    let moto = Moto::start(program);
    let tiny = "tiny-value-1234";
    moto.create("scopegate/short", tiny).await;
    moto.create("scopegate/good", FIRST).await;
    let dir = tempfile::tempdir().unwrap();

    // At start: a config error naming the setting and the secret, not its value.
    write_config(dir.path(), &moto, &hs256("scopegate/short"));
    let out = scopegate(dir.path(), &["check-config", "--config", "config.toml"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(64), "{err}");
    assert!(
        err.contains("secret_aws_sm `scopegate/short`") && err.contains("at least 32"),
        "{err}"
    );
    assert!(!err.contains(tiny), "{err}");
    // A secret that does not exist, and a PEM that is not one.
    write_config(dir.path(), &moto, &hs256("scopegate/missing"));
    let out = scopegate(dir.path(), &["check-config", "--config", "config.toml"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(64), "{err}");
    assert!(
        err.contains("secret_aws_sm: cannot fetch `scopegate/missing`"),
        "{err}"
    );
    write_config(
        dir.path(),
        &moto,
        "alg = \"EdDSA\"\npublic_key_aws_sm = \"scopegate/good\"\n",
    );
    let out = scopegate(dir.path(), &["check-config", "--config", "config.toml"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("public_key_aws_sm `scopegate/good`"), "{err}");
    assert!(!err.contains(FIRST), "{err}");

    // At refresh: that reload is refused, the old ring stays.
    write_config(dir.path(), &moto, &hs256("scopegate/good"));
    let gateway = Gateway::start(dir.path());
    let token = mint("k1", FIRST);
    assert_eq!(gateway.status(&token).await, 404);
    moto.put("scopegate/good", tiny).await;
    gateway
        .metric_reaches(REFUSED, 1, Duration::from_secs(25))
        .await;
    assert_eq!(gateway.status(&token).await, 404, "the old ring stays");
    assert_eq!(gateway.metric(REPLACED).await, 0);
    gateway.log_without(&[FIRST, tiny]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_eddsa_public_key_from_secrets_manager_verifies() {
    let Some(program) = moto_server() else { return };
    let moto = Moto::start(program);
    let token::GeneratedKey::Ed25519 {
        private_pem,
        public_pem,
    } = token::generate(token::Algorithm::EdDSA).unwrap()
    else {
        unreachable!()
    };
    moto.create("scopegate/e1.pub", &public_pem).await;
    let dir = tempfile::tempdir().unwrap();
    write_config(
        dir.path(),
        &moto,
        "alg = \"EdDSA\"\npublic_key_aws_sm = \"scopegate/e1.pub\"\n",
    );
    let gateway = Gateway::start(dir.path());
    let ring = KeyRing::new(
        vec![RingKey::ed25519("k1", Some(&private_pem), None).unwrap()],
        Some("k1"),
    )
    .unwrap();
    let request = MintRequest {
        scope: &json::parse(READER).unwrap(),
        kind: CredentialKind::Disposable,
        ttl_secs: Some(600),
        token_id: None,
        subject: "aws-sm-test",
        origin: Origin::Api,
    };
    let minted = token::mint(
        &ring,
        &AuthPolicy::default(),
        "localhost",
        &request,
        token::unix_now(),
    )
    .unwrap();
    assert_eq!(gateway.status(&minted.envelope).await, 404);
    assert_eq!(gateway.status(&mint("k1", FIRST)).await, 401, "not HS256");
}
