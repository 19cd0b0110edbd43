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
    assert_eq!(config.server, scopegate::config::ServerLimits::default());
    assert_eq!(
        config.backend,
        scopegate::backend::memory::MemoryLimits::default()
    );
    assert_eq!(config.tls, None);
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

#[test]
fn environment_overrides_set_scalar_settings_and_are_validated() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("k1.secret"),
        "a-secret-of-at-least-thirty-two-bytes!!",
    )
    .unwrap();
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config.toml")).unwrap();
    let env = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let config = Config::parse_with_env(
        &text,
        dir.path(),
        env(&[
            ("SCOPEGATE_SERVER_LISTEN", "0.0.0.0:7000"),
            ("SCOPEGATE_SERVER_ENDPOINT", "gate.example.com"),
            ("SCOPEGATE_SERVER_MAX_CONNECTIONS", "42"),
            ("SCOPEGATE_AUTH_LEEWAY", "5s"),
            ("SCOPEGATE_K1_SECRET", "left alone: not a section"),
            ("HOME", "/root"),
        ]),
    )
    .unwrap();
    assert_eq!(config.listen.to_string(), "0.0.0.0:7000");
    assert_eq!(config.endpoint, "gate.example.com");
    assert_eq!(config.server.max_connections, 42);
    assert_eq!(config.auth.leeway_secs, 5);
    let bad = Config::parse_with_env(
        &text,
        dir.path(),
        env(&[("SCOPEGATE_SERVER_LISTEN", "nowhere")]),
    );
    assert!(bad.unwrap_err().0[0].contains("server.listen `nowhere`"));
    let unknown = Config::parse_with_env(&text, dir.path(), env(&[("SCOPEGATE_SERVER_PORT", "1")]));
    assert!(unknown.unwrap_err().0[0].contains("unknown field `port`"));
}
