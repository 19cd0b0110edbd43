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
    assert_eq!(config.backend, scopegate::backend::Limits::default());
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
    let config = shipped_with(&[
        ("SCOPEGATE_SERVER_LISTEN", "0.0.0.0:7000"),
        ("SCOPEGATE_SERVER_ENDPOINT", "gate.example.com"),
        ("SCOPEGATE_SERVER_MAX_CONNECTIONS", "42"),
        ("SCOPEGATE_AUTH_LEEWAY", "5s"),
        ("SCOPEGATE_K1_SECRET", "left alone: not a section"),
        ("HOME", "/root"),
    ])
    .unwrap();
    assert_eq!(config.listen.to_string(), "0.0.0.0:7000");
    assert_eq!(config.endpoint, "gate.example.com");
    assert_eq!(config.server.max_connections, 42);
    assert_eq!(config.auth.leeway_secs, 5);
    let bad = shipped_with(&[("SCOPEGATE_SERVER_LISTEN", "nowhere")]);
    assert!(bad.unwrap_err()[0].contains("server.listen `nowhere`"));
    let unknown = shipped_with(&[("SCOPEGATE_SERVER_PORT", "1")]);
    assert!(unknown.unwrap_err()[0].contains("unknown field `port`"));
}

/// `server.worker_threads`: 0 is one per CPU (tokio's default), a number
/// that many, and past the bound an error naming the range.
#[test]
fn worker_threads_default_to_one_per_cpu_and_are_bounded() {
    assert_eq!(shipped_with(&[]).unwrap().server.worker_threads, None);
    let one = shipped_with(&[("SCOPEGATE_SERVER_WORKER_THREADS", "1")]).unwrap();
    assert_eq!(one.server.worker_threads, Some(1));
    let errors = shipped_with(&[("SCOPEGATE_SERVER_WORKER_THREADS", "1025")]).unwrap_err();
    assert_eq!(
        errors,
        ["server.worker_threads must be between 0 (one per CPU) and 1024"]
    );
}

/// The shipped config, with `k1.secret` beside it, and `env` applied.
fn shipped_with(env: &[(&str, &str)]) -> Result<Config, Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("k1.secret"),
        "a-secret-of-at-least-thirty-two-bytes!!",
    )
    .unwrap();
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config.toml")).unwrap();
    let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
    Config::parse_with_env(&text, dir.path(), env).map_err(|e| e.0)
}

#[test]
fn the_redis_backend_is_configured_with_documented_defaults() {
    assert!(
        shipped_with(&[]).unwrap().redis.is_none(),
        "memory by default"
    );
    let url = "redis://sg:hunter2-password@127.0.0.1:6380/0";
    let config = shipped_with(&[
        ("SCOPEGATE_BACKEND_KIND", "redis"),
        ("SCOPEGATE_BACKEND_URL", url),
    ])
    .unwrap();
    let redis = config.redis.as_ref().unwrap();
    assert_eq!(
        *redis,
        scopegate::config::RedisConfig {
            namespace: "scopegate".into(),
            ..scopegate::config::RedisConfig::new(url)
        }
    );
    // The URL (and its password) never shows in debug output or logs.
    let debug = format!("{config:?}");
    assert!(
        !debug.contains("hunter2") && debug.contains("redacted"),
        "{debug}"
    );
}

#[test]
fn bad_redis_settings_are_all_reported_without_the_url() {
    let errors = shipped_with(&[
        ("SCOPEGATE_BACKEND_KIND", "redis"),
        ("SCOPEGATE_BACKEND_URL", "http://user:hunter2@host"),
        ("SCOPEGATE_BACKEND_NAMESPACE", ""),
        ("SCOPEGATE_BACKEND_CONNECTIONS", "0"),
        ("SCOPEGATE_BACKEND_COMMAND_TIMEOUT", "soon"),
    ])
    .unwrap_err();
    assert_eq!(
        errors,
        [
            "backend.command_timeout `soon` is not a duration like 30s, 5m, 25h",
            "backend.url: must be a redis:// or rediss:// URL",
            "backend.namespace must be 1 to 64 characters, no control characters",
            "backend.connections must be between 1 and 64",
        ]
    );
    assert!(!errors.concat().contains("hunter2"));
    // A URL where a list belongs: the shape error leaves the value out.
    let shape = shipped_with(&[
        ("SCOPEGATE_BACKEND_KIND", "redis"),
        ("SCOPEGATE_BACKEND_NODES", "redis://u:hunter2@10.0.0.1:7000"),
    ])
    .unwrap_err();
    assert!(!shape.concat().contains("hunter2"), "{shape:?}");
    assert!(shape[0].contains("expected a sequence"), "{shape:?}");
    let unknown = shipped_with(&[("SCOPEGATE_BACKEND_KIND", "memcached")]).unwrap_err();
    assert_eq!(
        unknown,
        ["backend.kind `memcached` is not supported (supported: memory, redis)"]
    );
    // Cluster seeds are checked one by one, and nodes need cluster = true.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("k"),
        "a-secret-of-at-least-thirty-two-bytes!!",
    )
    .unwrap();
    let text = |backend: &str| {
        format!(
            "[[keys]]\nkid = \"k\"\nalg = \"HS256\"\nsecret_file = \"k\"\n[backend]\nkind = \"redis\"\n{backend}"
        )
    };
    let cluster = Config::parse(
        &text("cluster = true\nnodes = [\"redis://127.0.0.1:7000\", \"tcp://x\"]"),
        dir.path(),
    )
    .unwrap_err();
    assert_eq!(
        cluster.0,
        ["backend.nodes[1]: must be a redis:// or rediss:// URL"]
    );
    let stray =
        Config::parse(&text("nodes = [\"redis://127.0.0.1:7000\"]"), dir.path()).unwrap_err();
    assert_eq!(
        stray.0,
        ["backend.nodes is for cluster = true; one node is backend.url"]
    );
    let ok = Config::parse(
        &text("cluster = true\nnodes = [\"redis://127.0.0.1:7000\", \"rediss://127.0.0.1:7001\"]"),
        dir.path(),
    )
    .unwrap();
    assert!(ok.redis.unwrap().cluster);
    // A CA file must exist and hold a PEM certificate.
    let missing = Config::parse(&text("tls_ca_file = \"missing.pem\""), dir.path()).unwrap_err();
    assert!(
        missing.0[0].starts_with("backend.tls_ca_file: cannot read missing.pem"),
        "{missing:?}"
    );
    let garbage = Config::parse(&text("tls_ca_file = \"k\""), dir.path()).unwrap_err();
    assert_eq!(
        garbage.0,
        ["backend.tls_ca_file k: no PEM certificate in it"]
    );
}

#[test]
fn aws_secrets_manager_settings_are_validated_before_any_fetch() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("k.secret"),
        "a-secret-of-at-least-thirty-two-bytes!!",
    )
    .unwrap();
    let errors = |key: &str| -> Vec<String> {
        let text = format!("[[keys]]\nkid = \"k1\"\n{key}");
        Config::parse(&text, dir.path()).unwrap_err().0
    };
    let cases = [
        (
            "alg = \"HS256\"\nsecret_aws_sm = \"s\"\n",
            "key `k1`: aws_region is required with an *_aws_sm key source",
        ),
        (
            "alg = \"HS256\"\nsecret_file = \"k.secret\"\naws_region = \"us-east-1\"\n",
            "key `k1`: aws_region, aws_endpoint_url and aws_refresh go with \
             secret_aws_sm, private_key_aws_sm or public_key_aws_sm",
        ),
        (
            "alg = \"HS256\"\nsecret_aws_sm = \"s\"\naws_region = \"us-east-1\"\naws_refresh = \"5s\"\n",
            "key `k1`: aws_refresh must be between 10s and 1day",
        ),
        (
            "alg = \"HS256\"\nsecret_aws_sm = \"s\"\naws_region = \"us-east-1\"\naws_refresh = \"2days\"\n",
            "key `k1`: aws_refresh must be between 10s and 1day",
        ),
        (
            "alg = \"HS256\"\nsecret_aws_sm = \"s\"\naws_region = \"US East\"\n",
            "key `k1`: aws_region `US East` is not a region like us-east-1",
        ),
        (
            "alg = \"HS256\"\nsecret_aws_sm = \"s\"\naws_region = \"us-east-1\"\naws_endpoint_url = \"127.0.0.1:4566\"\n",
            "key `k1`: aws_endpoint_url `127.0.0.1:4566` is not a URL like \
             https://secretsmanager.us-east-1.amazonaws.com",
        ),
        (
            "alg = \"HS256\"\nsecret_aws_sm = \"s\"\nsecret_file = \"k.secret\"\naws_region = \"us-east-1\"\n",
            "key `k1`: set one of secret_file, secret_env or secret_aws_sm, not several",
        ),
        (
            "alg = \"HS256\"\nsecret_aws_sm = \"\"\naws_region = \"us-east-1\"\n",
            "key `k1`: secret_aws_sm must be a secret name or ARN (1 to 2048 characters)",
        ),
        (
            "alg = \"HS256\"\npublic_key_aws_sm = \"p\"\naws_region = \"us-east-1\"\n",
            "key `k1`: HS256 keys take secret_file, secret_env or secret_aws_sm, not key files",
        ),
        (
            "alg = \"EdDSA\"\nsecret_aws_sm = \"s\"\naws_region = \"us-east-1\"\n",
            "key `k1`: EdDSA keys take private_key_* and/or public_key_*, not a secret",
        ),
    ];
    for (key, want) in cases {
        assert_eq!(errors(key), [want], "{key}");
    }
}
