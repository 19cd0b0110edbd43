//! A Pod as kubelet lays one out, for the rotation tests: a key directory
//! like a mounted Secret (`k1.secret -> ..data/k1.secret`, `..data ->
//! ..<version>`, swapped atomically on update), a `scopegate serve` process
//! (optionally inside a network namespace: the pod's), signals, credentials.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use scopegate::scope::json;
use scopegate::token::{self, AuthPolicy, CredentialKind, KeyRing, MintRequest, Origin, RingKey};

pub const STABLE: &str = "a-stable-secret-of-at-least-32-bytes!!";
pub const READER: &str = r#"{"permissions":[{"role":"readonly","cache":"default-cache"}]}"#;

/// A disposable read-only token signed with (`kid`, `secret`).
pub fn mint(kid: &str, secret: &str) -> String {
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

/// Writes `secret` into a new `..<version>` dir and swaps `..data` to it
/// atomically (a new symlink renamed over the old one), as kubelet does.
pub fn swap(keys: &Path, version: &str, secret: &[u8]) {
    let dir = keys.join(format!("..{version}"));
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("k1.secret"), secret).unwrap();
    let tmp = keys.join("..data_tmp");
    std::os::unix::fs::symlink(format!("..{version}"), &tmp).unwrap();
    std::fs::rename(&tmp, keys.join("..data")).unwrap();
}

/// The pod's files in `dir`: the stable key `k0` (signs), the rotating
/// Secret-mounted `k1` (verifies), and a config listening on `listen`.
pub fn lay_out(dir: &Path, listen: &str, admin: &str) {
    let keys = dir.join("keys");
    std::fs::create_dir(&keys).unwrap();
    swap(
        &keys,
        "2026_12_01_a",
        b"first-secret-of-at-least-32-bytes!!!",
    );
    std::os::unix::fs::symlink("..data/k1.secret", keys.join("k1.secret")).unwrap();
    std::fs::write(dir.join("k0.secret"), STABLE).unwrap();
    std::fs::write(
        dir.join("config.toml"),
        format!(
            "[server]\nlisten = \"{listen}\"\nshutdown_grace = \"3s\"\n\
             [admin]\nlisten = \"{admin}\"\n\
             [[keys]]\nkid = \"k0\"\nalg = \"HS256\"\nsecret_file = \"k0.secret\"\nsigning = true\n\
             [[keys]]\nkid = \"k1\"\nalg = \"HS256\"\nsecret_file = \"keys/k1.secret\"\n\
             [[caches]]\nname = \"default-cache\"\n"
        ),
    )
    .unwrap();
}

/// A `scopegate serve` process, killed when dropped.
pub struct Gateway {
    pub child: Child,
    pub addr: SocketAddr,
    pub admin: SocketAddr,
}

impl Gateway {
    /// Starts `prefix... scopegate serve --config config.toml` in `dir` and
    /// reads its addresses from the `listening` line.
    pub fn start(dir: &Path, prefix: &[&str]) -> Gateway {
        let bin = env!("CARGO_BIN_EXE_scopegate");
        let (program, args) = match prefix.split_first() {
            Some((first, rest)) => (*first, [rest, &[bin]].concat()),
            None => (bin, Vec::new()),
        };
        let mut child = Command::new(program)
            .args(args)
            .args(["serve", "--config", "config.toml"])
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let first = std::io::BufReader::new(stdout)
            .lines()
            .next()
            .expect("a listening line")
            .unwrap();
        let (addr, admin) = crate::support::listening_addrs(&first);
        Gateway { addr, admin, child }
    }

    pub fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{name}");
    }

    /// SIGTERM, as kubelet ends a pod, then the exit status (bounded).
    pub fn terminate(mut self) -> std::process::ExitStatus {
        self.signal("TERM");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            if let Some(exit) = self.child.try_wait().unwrap() {
                return exit;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no exit after SIGTERM"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
