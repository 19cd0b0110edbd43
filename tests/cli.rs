//! The `scopegate` binary, run for real: keygen -> config -> mint -> inspect.

use std::path::Path;
use std::process::{Command, Output};

fn scopegate(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scopegate"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// A folder with a fresh HS256 key and the shipped config.toml.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let key = scopegate(&["keygen"], dir.path());
    assert!(key.status.success());
    std::fs::write(dir.path().join("k1.secret"), &key.stdout).unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/config.toml"),
        dir.path().join("config.toml"),
    )
    .unwrap();
    dir
}

/// Asserts a failure: the exit code, one line on stderr, nothing on stdout.
fn assert_fails(out: &Output, code: i32, needle: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line: {err:?}");
    assert!(
        err.starts_with("error: ") && err.contains(needle),
        "{err:?} lacks {needle:?}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn keygen_prints_material_the_config_reads() {
    let dir = tempfile::tempdir().unwrap();
    let hs = stdout(&scopegate(&["keygen", "--alg", "HS256"], dir.path()));
    assert!(hs.trim().len() >= 32 && hs.ends_with('\n'));
    let other = stdout(&scopegate(&["keygen"], dir.path()));
    assert_ne!(hs, other, "fresh material every time");
    let ed = stdout(&scopegate(&["keygen", "--alg", "EdDSA"], dir.path()));
    let private = &ed[..ed.find("-----BEGIN PUBLIC KEY-----").unwrap()];
    let public = &ed[private.len()..];
    assert!(private.starts_with("-----BEGIN PRIVATE KEY-----"));
    std::fs::write(dir.path().join("e1.pem"), private).unwrap();
    std::fs::write(dir.path().join("e1.pub.pem"), public).unwrap();
    std::fs::write(
        dir.path().join("c.toml"),
        "[[keys]]\nkid = \"e1\"\nalg = \"EdDSA\"\nprivate_key_file = \"e1.pem\"\npublic_key_file = \"e1.pub.pem\"\nsigning = true\n",
    )
    .unwrap();
    let out = scopegate(&["check-config", "--config", "c.toml"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let minted = stdout(&scopegate(
        &["token", "mint", "--config", "c.toml", "--superuser"],
        dir.path(),
    ));
    let inspected = scopegate(
        &["token", "inspect", minted.trim(), "--config", "c.toml"],
        dir.path(),
    );
    let json: serde_json::Value = serde_json::from_slice(&inspected.stdout).unwrap();
    assert_eq!(
        (json["alg"].as_str(), json["valid"].as_bool()),
        (Some("EdDSA"), Some(true))
    );
}

#[test]
fn mint_prints_only_the_envelope_and_inspect_decodes_it() {
    let dir = workspace();
    let scope = r#"{"permissions":[{"role":"readonly","cache":"orders","item":{"keyPrefix":"u/"}},{"role":"subscribeonly","cache":"*","topic":{"prefix":"news-"}}]}"#;
    let out = scopegate(
        &[
            "token",
            "mint",
            "--config",
            "config.toml",
            "--scope",
            scope,
            "--ttl",
            "30m",
            "--disposable",
            "--token-id",
            "web-1",
            "--sub",
            "bob",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let envelope = stdout(&out);
    assert_eq!(envelope.lines().count(), 1);
    assert!(out.stderr.is_empty());
    let envelope = envelope.trim();

    // Without --config: decoded, not judged.
    let plain: serde_json::Value =
        serde_json::from_slice(&scopegate(&["token", "inspect", envelope], dir.path()).stdout)
            .unwrap();
    assert_eq!(plain["kid"], "k1");
    assert_eq!(plain["alg"], "HS256");
    assert_eq!(plain["sub"], "bob");
    assert_eq!(plain["type"], "disposable");
    assert_eq!(plain["token_id"], "web-1");
    assert_eq!(
        plain["exp"].as_u64().unwrap() - plain["iat"].as_u64().unwrap(),
        1800
    );
    assert!(plain["jti"].as_str().is_some_and(|j| !j.is_empty()));
    assert_eq!(plain["scope"], serde_json::from_str::<serde_json::Value>(
        r#"{"permissions":[{"role":"readonly","cache":"orders","item":{"keyPrefix":"u/"}},{"role":"subscribeonly","cache":"*","topic":{"prefix":"news-"}}]}"#).unwrap());
    assert!(plain.get("valid").is_none());

    // With --config: verified.
    let judged: serde_json::Value = serde_json::from_slice(
        &scopegate(
            &["token", "inspect", envelope, "--config", "config.toml"],
            dir.path(),
        )
        .stdout,
    )
    .unwrap();
    assert_eq!(judged["valid"], true);

    // Against another key: invalid, with the reason.
    let other = workspace();
    let judged: serde_json::Value = serde_json::from_slice(
        &scopegate(
            &["token", "inspect", envelope, "--config", "config.toml"],
            other.path(),
        )
        .stdout,
    )
    .unwrap();
    assert_eq!(judged["valid"], false);
    assert_eq!(judged["reason"]["code"], "bad_signature");

    // A never-expiring superuser API key.
    let key = stdout(&scopegate(
        &["token", "mint", "--config", "config.toml", "--superuser"],
        dir.path(),
    ));
    let json: serde_json::Value =
        serde_json::from_slice(&scopegate(&["token", "inspect", key.trim()], dir.path()).stdout)
            .unwrap();
    assert_eq!(
        (
            json["scope"].as_str(),
            json["type"].as_str(),
            json["exp"].is_null()
        ),
        (Some("superuser"), Some("api_key"), true)
    );
}

#[test]
fn inspect_reads_stdin_with_a_dash() {
    let dir = workspace();
    let key = stdout(&scopegate(
        &["token", "mint", "--config", "config.toml", "--superuser"],
        dir.path(),
    ));
    let mut child = Command::new(env!("CARGO_BIN_EXE_scopegate"))
        .args(["token", "inspect", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(key.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["scope"], "superuser");
}

#[test]
fn every_cli_error_is_one_line_and_a_non_zero_exit() {
    let dir = workspace();
    let mint = |extra: &[&str]| {
        let mut args = vec!["token", "mint", "--config", "config.toml"];
        args.extend_from_slice(extra);
        scopegate(&args, dir.path())
    };
    assert_fails(&mint(&[]), 2, "--superuser");
    assert_fails(
        &mint(&["--superuser", "--scope", "{}"]),
        2,
        "cannot be used with",
    );
    assert_fails(
        &mint(&["--superuser", "--disposable", "--ttl", "1h"]),
        65,
        "superuser scope cannot be given to a disposable token",
    );
    assert_fails(
        &mint(&[
            "--scope",
            r#"{"permissions":[{"role":"readwrite","cache":"c"}]}"#,
            "--disposable",
        ]),
        65,
        "needs an expiry",
    );
    assert_fails(
        &mint(&[
            "--scope",
            r#"{"permissions":[{"role":"readwrite","cache":"c"}]}"#,
            "--disposable",
            "--ttl",
            "26h",
        ]),
        65,
        "exceeds the maximum",
    );
    assert_fails(
        &mint(&[
            "--scope",
            r#"{"permissions":[{"role":"readwrite","cache":"c"}]}"#,
            "--ttl",
            "soon",
        ]),
        65,
        "--ttl `soon`",
    );
    assert_fails(&mint(&["--scope", "{not json"]), 65, "scope is not JSON");
    assert_fails(
        &mint(&["--scope", r#"{"permissions":[]}"#]),
        65,
        "no permissions",
    );
    assert_fails(
        &mint(&[
            "--scope",
            r#"{"permissions":[{"role":"readwrite","cache":"c"}]}"#,
            "--token-id",
            &"x".repeat(65),
        ]),
        65,
        "token id",
    );
    assert_fails(
        &scopegate(&["token", "inspect", "not-a-credential"], dir.path()),
        65,
        "malformed credential",
    );
    assert_fails(
        &scopegate(
            &["token", "mint", "--config", "missing.toml", "--superuser"],
            dir.path(),
        ),
        64,
        "missing.toml",
    );
    assert_fails(
        &scopegate(&["frobnicate"], dir.path()),
        2,
        "unrecognized subcommand",
    );
    assert_fails(
        &scopegate(&["keygen", "--alg", "RS256"], dir.path()),
        2,
        "RS256",
    );
}

#[test]
fn check_config_reports_every_error_at_once_and_exits_64() {
    let dir = workspace();
    let ok = scopegate(&["check-config", "--config", "config.toml"], dir.path());
    assert!(ok.status.success(), "{}", stderr(&ok));
    std::fs::write(dir.path().join("short.secret"), "too-short").unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        r#"
[server]
listen = "nowhere"
[auth]
leeway = "soon"
max_permissions = 0
[[keys]]
kid = "a"
alg = "HS256"
secret_file = "short.secret"
signing = true
[[keys]]
kid = "b"
alg = "HS256"
secret_env = "SCOPEGATE_TEST_UNSET_VARIABLE"
signing = true
[[caches]]
name = "x"
[[caches]]
name = "x"
"#,
    )
    .unwrap();
    let out = scopegate(&["check-config", "--config", "bad.toml"], dir.path());
    assert_fails(&out, 64, "bad.toml: 7 errors");
    let err = stderr(&out);
    for needle in [
        "server.listen",
        "auth.leeway",
        "auth.max_permissions",
        "at most one key signs",
        "at least 32 are required",
        "SCOPEGATE_TEST_UNSET_VARIABLE",
        "declared twice",
    ] {
        assert!(err.contains(needle), "{needle} missing from {err}");
    }
    std::fs::write(
        dir.path().join("unknown.toml"),
        "[server]\nlisten = \"127.0.0.1:1\"\nport = 3\n",
    )
    .unwrap();
    assert_fails(
        &scopegate(&["check-config", "--config", "unknown.toml"], dir.path()),
        64,
        "unknown field `port`",
    );
}

/// Starts `scopegate serve` with `args` on ephemeral ports and returns the
/// child and the first line it printed.
fn spawn_serve(args: &[&str], dir: &Path) -> (std::process::Child, String) {
    spawn_serve_with(args, dir, &[])
}

fn spawn_serve_with(
    args: &[&str],
    dir: &Path,
    env: &[(&str, &str)],
) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_scopegate"))
        .args(args)
        .current_dir(dir)
        .envs(env.iter().copied())
        .env("SCOPEGATE_SERVER_LISTEN", "127.0.0.1:0")
        .env("SCOPEGATE_ADMIN_LISTEN", "127.0.0.1:0")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut first)
        .unwrap();
    (child, first)
}

fn terminate(child: &mut std::process::Child) -> Option<i32> {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    for _ in 0..100 {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    child.kill().unwrap();
    panic!("serve did not exit within 10 s of SIGTERM");
}

/// `server.worker_threads = 1`: the gateway runs on one thread and serves
/// (a request without a credential is answered 401), then stops cleanly.
#[test]
fn serve_on_one_worker_thread_serves() {
    use std::io::{Read, Write};
    let dir = workspace();
    let (mut child, first) = spawn_serve_with(
        &["serve", "--config", "config.toml"],
        dir.path(),
        &[("SCOPEGATE_SERVER_WORKER_THREADS", "1")],
    );
    let addr = first
        .strip_prefix("scopegate listening on http://")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("{first}"))
        .to_owned();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(
            b"GET /cache/default-cache?key=k HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
        )
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert_eq!(terminate(&mut child), Some(0));
}

#[test]
fn serve_prints_where_it_listens_and_exits_0_on_sigterm() {
    let dir = workspace();
    for args in [
        &["serve", "--dev"][..],
        &["serve", "--config", "config.toml"][..],
    ] {
        let (mut child, first) = spawn_serve(args, dir.path());
        assert!(
            first.starts_with("scopegate listening on http://127.0.0.1:"),
            "{args:?}: {first}"
        );
        assert!(first.contains("admin on http://127.0.0.1:"), "{first}");
        assert_eq!(terminate(&mut child), Some(0), "{args:?}");
    }
    let out = scopegate(&["serve"], dir.path());
    assert_eq!(out.status.code(), Some(2), "serve needs --config or --dev");
}
