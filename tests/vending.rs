//! The token vending endpoint (SPEC 8) through the real server: open, basic
//! (argon2 and bcrypt) and OIDC (RS256, ES256, EdDSA against a JWKS served on
//! loopback) identities, policy templates and unions, `?name=`, rate limits,
//! and the vended token working (and refused) on the HTTP API.

/// Basic identities: argon2 and bcrypt users, refusals, rate limits.
#[path = "vending/basic.rs"]
mod basic_auth;
/// OIDC identities against a JWKS served on loopback.
#[path = "vending/oidc.rs"]
mod oidc;
mod support;

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use scopegate::config::Config;
use scopegate::vending::VendingConfig;
use support::server::{Reply, Server, send, start};

/// A config whose `[vending]` section is `vending`, with `files` beside it.
pub fn parse_vending(vending: &str, files: &[(&str, &str)]) -> Result<Config, Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("k1.secret"),
        "a-secret-of-at-least-thirty-two-bytes!!",
    )
    .unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let text = format!(
        "[[keys]]\nkid = \"k1\"\nalg = \"HS256\"\nsecret_file = \"k1.secret\"\nsigning = true\n\n{vending}"
    );
    Config::parse(&text, dir.path()).map_err(|e| e.0)
}

/// The validated `[vending]` of `vending`, for a test server.
pub fn vending_of(vending: &str, files: &[(&str, &str)]) -> VendingConfig {
    parse_vending(vending, files)
        .unwrap_or_else(|e| panic!("{e:?}"))
        .vending
        .expect("a [vending] section")
}

pub async fn serve(vending: VendingConfig) -> Server {
    start(move |c| c.vending = Some(vending)).await
}

pub async fn vend(s: &Server, path: &str, headers: &[(&str, &str)]) -> Reply {
    send(s.addr, "GET", path, headers, Bytes::new()).await
}

/// `authToken` and `expiresAt` of a 200, checked against the token itself.
pub fn vended(reply: &Reply) -> (String, scopegate::token::Inspected) {
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.headers["content-type"], "application/json");
    let json = reply.json();
    let token = json["authToken"].as_str().unwrap().to_owned();
    let inspected = scopegate::token::inspect(&token).unwrap();
    assert_eq!(
        json["expiresAt"].as_u64(),
        inspected.expires_at,
        "expiresAt is the token's exp"
    );
    assert_eq!(inspected.kind, scopegate::token::CredentialKind::Disposable);
    (token, inspected)
}

pub fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

/// An argon2id hash with a small cost (the tests run unoptimized).
pub fn argon2_hash(password: &str) -> String {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let params = argon2::Params::new(1024, 1, 1, None).unwrap();
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let salt = SaltString::encode_b64(b"sixteen byte slt").unwrap();
    argon
        .hash_password(password.as_bytes(), &salt)
        .unwrap()
        .to_string()
}

pub const PLAYERS: &str = r#"{"permissions":[{"role":"readwrite","cache":"default-cache","item":{"keyPrefix":"{sub}/"}},{"role":"publishsubscribe","cache":"default-cache","topic":{"prefix":"{group}-"}}]}"#;
pub const AUDITORS: &str = r#"{"permissions":[{"role":"readonly","cache":"default-cache"}]}"#;

pub fn basic_section(limits: &str) -> String {
    format!(
        "[vending]\nauth = \"basic\"\nusers_file = \"users.txt\"\n{limits}\n\
         [[vending.policies]]\ngroup = \"players\"\nscope = '{PLAYERS}'\nttl = \"10m\"\n\
         [[vending.policies]]\ngroup = \"auditors\"\nscope = '{AUDITORS}'\nttl = \"2m\"\n"
    )
}

pub fn users() -> String {
    format!(
        "# name:hash:groups\nalice:{}:players\nbob:{}:players,auditors\ncarol:{}:nobody\nx/y:{}:players\n",
        argon2_hash("alice-pw"),
        bcrypt::hash("bob-pw", 4).unwrap(),
        argon2_hash("carol-pw"),
        argon2_hash("xy-pw"),
    )
}

pub async fn basic_server(limits: &str) -> Server {
    let users = users();
    serve(vending_of(&basic_section(limits), &[("users.txt", &users)])).await
}

#[tokio::test]
async fn open_mode_vends_a_working_token_and_needs_allow_open() {
    // serve --dev: open, the anonymous group, default-cache and chat- topics.
    let s = start(|_| {}).await;
    let (token, inspected) = vended(&vend(&s, "/vend", &[]).await);
    assert_eq!(inspected.subject, "anonymous");
    assert_eq!(inspected.token_id.as_deref(), Some("anonymous"));
    let post = send(
        s.addr,
        "POST",
        "/vend?name=web-1",
        &[],
        Bytes::from_static(b"{}"),
    )
    .await;
    assert_eq!(vended(&post).1.token_id.as_deref(), Some("web-1"));
    assert_eq!(
        s.put("/cache/default-cache?key=k&ttl_seconds=60", &token, b"v")
            .await
            .status,
        204
    );
    assert_eq!(
        s.publish("/topics/default-cache/chat-1", &token, "hi")
            .await
            .status,
        204
    );
    assert_eq!(
        s.publish("/topics/default-cache/news", &token, "hi")
            .await
            .code(),
        "PERMISSION_ERROR"
    );
    let delete = send(s.addr, "DELETE", "/vend", &[], Bytes::new()).await;
    assert_eq!(delete.status, 405);

    let open = "[vending]\nauth = \"open\"\n[[vending.policies]]\ngroup = \"anonymous\"\nscope = '{AUDITORS}'\n";
    let open = open.replace("{AUDITORS}", AUDITORS);
    let errors = parse_vending(&open, &[]).unwrap_err();
    assert!(errors[0].contains("allow_open = true"), "{errors:?}");
    let allowed = open.replace("auth = \"open\"", "auth = \"open\"\nallow_open = true");
    assert!(parse_vending(&allowed, &[]).is_ok());
    let other_group = allowed.replace("\"anonymous\"", "\"players\"");
    assert!(parse_vending(&other_group, &[]).unwrap_err()[0].contains("never applies"));
}

#[tokio::test]
async fn without_a_vending_section_the_route_is_404() {
    let s = start(|c| c.vending = None).await;
    let reply = vend(&s, "/vend", &[]).await;
    assert_eq!(
        (reply.status, reply.code().as_str()),
        (404, "NOT_FOUND_ERROR")
    );
}

#[test]
fn every_vending_error_is_reported_at_once() {
    let section = "[vending]\nauth = \"oidc\"\nusers_file = \"u\"\nvends_per_minute_per_identity = 0\n\
         jwks_url = \"ftp://idp\"\n\
         [[vending.policies]]\ngroup = \"g\"\nscope = '{\"permissions\":[{\"role\":\"readonly\",\"cache\":\"{user}\"}]}'\n\
         [[vending.policies]]\ngroup = \"h\"\nscope = '{\"permissions\":[{\"role\":\"readonly\",\"cache\":\"c\"}]}'\nttl = \"30h\"\n";
    let errors = parse_vending(section, &[]).unwrap_err();
    for needle in [
        "needs vending.issuer",
        "needs vending.audience",
        "vending.jwks_url",
        "users_file is for auth = \"basic\"",
        "vends_per_minute_per_identity",
        "placeholders",
        "max_disposable_lifetime",
    ] {
        assert!(
            errors.iter().any(|e| e.contains(needle)),
            "no {needle:?} in {errors:?}"
        );
    }
    let unknown =
        parse_vending("[vending]\nauth = \"basic\"\npasswords = \"x\"\n", &[]).unwrap_err();
    assert!(unknown[0].contains("unknown field"), "{unknown:?}");
}

#[test]
fn the_shipped_config_documents_every_vending_setting() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml")).unwrap();
    let block = &text[text
        .find("# [vending]")
        .expect("a commented [vending] block")..];
    for setting in [
        "auth",
        "allow_open",
        "vends_per_minute_per_identity",
        "vends_per_minute_per_address",
        "users_file",
        "issuer",
        "audience",
        "jwks_url",
        "jwks_file",
        "jwks_refresh",
        "jwks_min_refresh",
        "jwks_timeout",
        "jwks_max_bytes",
        "groups_claim",
        "[[vending.policies]]",
        "group",
        "scope",
        "ttl",
    ] {
        assert!(
            block.contains(&format!("# {setting}")),
            "config.toml does not document {setting}"
        );
    }
    // Uncommented, the example parses (with a users file beside it).
    let uncommented: String = block
        .lines()
        .filter_map(|l| l.strip_prefix("# "))
        .filter(|l| {
            l.starts_with('[')
                || l.split_once(" = ").is_some_and(|(k, _)| {
                    !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                })
        })
        .filter(|l| {
            !["issuer", "audience", "jwks_", "groups_claim", "allow_open"]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .collect::<Vec<_>>()
        .join("\n");
    let users = format!("alice:{}:players\n", argon2_hash("pw"));
    parse_vending(&uncommented, &[("users.txt", &users)])
        .unwrap_or_else(|e| panic!("{e:?}\n{uncommented}"));
}

#[test]
fn hash_password_prints_an_argon2id_hash_the_users_file_accepts() {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_scopegate"))
        .args(["vending", "hash-password"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"s3cret pass\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let hash = String::from_utf8(out.stdout).unwrap();
    let hash = hash.trim();
    assert!(
        hash.starts_with("$argon2id$") && !hash.contains("s3cret"),
        "{hash}"
    );
    let users = format!("dana:{hash}:players\n");
    assert!(parse_vending(&basic_section(""), &[("users.txt", &users)]).is_ok());
}
