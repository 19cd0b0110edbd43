//! The shipped config.toml parses, and its values are the documented defaults.

use scopegate::config::Config;
use scopegate::token::AuthPolicy;

#[test]
fn the_shipped_config_parses_with_the_documented_defaults() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("k1.secret"),
        "  a-secret-of-at-least-thirty-two-bytes!!\n",
    )
    .unwrap();
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config.toml")).unwrap();
    let config = Config::parse(&text, dir.path()).unwrap();
    assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(config.admin_listen.to_string(), "127.0.0.1:9090");
    assert_eq!(config.endpoint, "localhost");
    assert_eq!(config.caches, ["default-cache"]);
    assert_eq!(config.auth, AuthPolicy::default());
    assert_eq!(config.keys.signing_key().map(|k| k.kid()), Some("k1"));
    // An empty file means every default, but a key is still required.
    let err = Config::parse("", dir.path()).unwrap_err();
    assert_eq!(
        err.0,
        ["no [[keys]]: at least one key is needed to verify credentials"]
    );
}

#[test]
fn secrets_never_appear_in_debug_output() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "a-secret-of-at-least-thirty-two-bytes!!";
    std::fs::write(dir.path().join("k1.secret"), secret).unwrap();
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config.toml")).unwrap();
    let config = Config::parse(&text, dir.path()).unwrap();
    let debug = format!("{config:?}");
    assert!(debug.contains("k1") && !debug.contains(secret), "{debug}");
}
