//! The command line: `keygen`, `token mint`, `token inspect`, `token revoke`,
//! `check-config`, `vending hash-password`.
//!
//! Output that scripts read goes to stdout and nothing else does; every error
//! is one line on stderr with a non-zero exit: 2 usage, 64 bad config,
//! 65 invalid input (scope, TTL, credential), 1 anything else.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

mod revoke;

use clap::{Parser, Subcommand};
use serde_json::json;

use crate::config::Config;
use crate::error::{Coded, ErrorCode};
use crate::scope::json as scope_json;
use crate::token::{
    self, Algorithm, Authenticator, CredentialKind, GeneratedKey, MintRequest, Origin,
    RevocationList,
};

/// Exit codes (sysexits.h where one fits).
pub mod exit {
    pub const FAILURE: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const CONFIG: i32 = 64;
    pub const DATA: i32 = 65;
}

#[derive(Parser, Debug)]
#[command(
    name = "scopegate",
    version,
    about = "Data-plane enforcement proxy for Momento-shaped scoped credentials"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the gateway: HTTP API and gRPC on server.listen, metrics on admin.listen.
    Serve {
        /// The config file.
        #[arg(long, conflicts_with = "dev", required_unless_present = "dev")]
        config: Option<PathBuf>,
        /// Zero setup: memory backend, cache `default-cache`, an ephemeral key,
        /// 127.0.0.1:8080 (admin :9090); prints a superuser credential.
        #[arg(long)]
        dev: bool,
    },
    /// Print new key material in the form the config's [[keys]] entries read.
    Keygen {
        #[arg(long, value_enum, default_value = "hs256")]
        alg: AlgArg,
    },
    /// Mint and inspect credentials.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Validate a config file and report every error at once (exit 64 when bad).
    CheckConfig {
        #[arg(long)]
        config: PathBuf,
    },
    /// The token vending endpoint's tools.
    Vending {
        #[command(subcommand)]
        command: VendingCommand,
    },
}

#[derive(Subcommand, Debug)]
enum VendingCommand {
    /// Read a password from stdin and print its argon2id hash, for a line
    /// `name:hash:group,group` of vending.users_file.
    HashPassword,
}

#[derive(Subcommand, Debug)]
enum TokenCommand {
    /// Mint a credential with the config's signing key; prints the envelope only.
    Mint {
        #[arg(long)]
        config: PathBuf,
        /// A superuser API key (offline bootstrap).
        #[arg(long, conflicts_with = "scope", required_unless_present = "scope")]
        superuser: bool,
        /// The scope in Momento's JSON shape.
        #[arg(long)]
        scope: Option<String>,
        /// Lifetime, e.g. 30m, 2h, 7days. Absent: never expires (API keys only).
        #[arg(long)]
        ttl: Option<String>,
        /// Mint a disposable token instead of an API key.
        #[arg(long)]
        disposable: bool,
        /// token_id, stamped as publisher_id on published messages (at most 64 characters).
        #[arg(long)]
        token_id: Option<String>,
        /// The subject the credential is issued to.
        #[arg(long, default_value = "scopegate-cli")]
        sub: String,
    },
    /// Decode a credential (envelope or JWT; `-` reads stdin) and print it as JSON.
    /// With --config, also verify it.
    Inspect {
        credential: String,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Revoke credentials through a gateway's revocation API (admin port),
    /// with the superuser credential in $SCOPEGATE_CREDENTIAL.
    Revoke(revoke::RevokeArgs),
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum AlgArg {
    #[value(name = "HS256", alias = "hs256")]
    Hs256,
    #[value(name = "EdDSA", alias = "eddsa")]
    EdDsa,
}

/// A CLI failure: one line for stderr and an exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: i32,
    pub message: String,
}

fn fail(code: i32, message: impl Into<String>) -> Failure {
    Failure {
        code,
        message: message.into(),
    }
}

/// Runs the CLI on `args` (including the program name); returns stdout text.
pub fn run<I, T>(args: I) -> Result<String, Failure>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => return Ok(e.to_string()), // --help, --version
        Err(e) => {
            // clap's first paragraph, joined onto one line ("Usage:" follows it).
            let text = e.to_string();
            let paragraph: Vec<&str> = text
                .lines()
                .map(str::trim)
                .take_while(|l| !l.is_empty())
                .collect();
            let message = paragraph.join(" ");
            let message = message.strip_prefix("error: ").unwrap_or(&message);
            return Err(fail(exit::USAGE, format!("{message} (see --help)")));
        }
    };
    match cli.command {
        Command::Serve { config, dev } => crate::serve::serve(config.as_deref(), dev)
            .map(|()| String::new())
            .map_err(|e| fail(exit::FAILURE, e)),
        Command::Keygen { alg } => keygen(alg),
        Command::CheckConfig { config } => load(&config).map(|_| "config is valid\n".to_owned()),
        Command::Vending {
            command: VendingCommand::HashPassword,
        } => hash_password(),
        Command::Token {
            command: TokenCommand::Inspect { credential, config },
        } => inspect(&credential, config),
        Command::Token {
            command: TokenCommand::Revoke(args),
        } => revoke::run(&args),
        Command::Token {
            command:
                TokenCommand::Mint {
                    config,
                    superuser,
                    scope,
                    ttl,
                    disposable,
                    token_id,
                    sub,
                },
        } => {
            let config = load(&config)?;
            let scope = match (superuser, scope) {
                (true, _) => scope_json::superuser(),
                (false, Some(text)) => scope_json::parse(&text)
                    .map_err(|e| fail(exit::DATA, format!("--scope: {e}")))?,
                (false, None) => return Err(fail(exit::USAGE, "give --superuser or --scope")),
            };
            let ttl_secs = ttl
                .map(|t| {
                    humantime::parse_duration(&t)
                        .map(|d| d.as_secs())
                        .map_err(|_| {
                            fail(
                                exit::DATA,
                                format!("--ttl `{t}` is not a duration like 30m or 2h"),
                            )
                        })
                })
                .transpose()?;
            let request = MintRequest {
                scope: &scope,
                kind: if disposable {
                    CredentialKind::Disposable
                } else {
                    CredentialKind::ApiKey
                },
                ttl_secs,
                token_id: token_id.as_deref(),
                subject: &sub,
                origin: Origin::Cli,
            };
            let minted = token::mint(
                &config.keys,
                &config.auth,
                &config.endpoint,
                &request,
                token::unix_now(),
            )
            .map_err(|e| {
                let code = if e.code() == ErrorCode::InvalidArgumentError {
                    exit::DATA
                } else {
                    exit::FAILURE
                };
                fail(code, e.to_string())
            })?;
            Ok(format!("{}\n", minted.envelope))
        }
    }
}

fn load(path: &std::path::Path) -> Result<Config, Failure> {
    Config::load(path).map_err(|errors| {
        let count = errors.0.len();
        let plural = if count == 1 { "" } else { "s" };
        fail(
            exit::CONFIG,
            format!(
                "{}: {count} error{plural}: {}",
                path.display(),
                errors.0.join("; ")
            ),
        )
    })
}

fn keygen(alg: AlgArg) -> Result<String, Failure> {
    let alg = match alg {
        AlgArg::Hs256 => Algorithm::HS256,
        AlgArg::EdDsa => Algorithm::EdDSA,
    };
    match token::generate(alg).map_err(|e| fail(exit::FAILURE, e))? {
        GeneratedKey::Secret(secret) => Ok(format!("{secret}\n")),
        GeneratedKey::Ed25519 {
            private_pem,
            public_pem,
        } => Ok(format!("{private_pem}{public_pem}")),
    }
}

/// The password is stdin up to the first line end (so `echo pw |` works);
/// it is never echoed or logged.
fn hash_password() -> Result<String, Failure> {
    let mut text = String::new();
    std::io::stdin()
        .take(64 * 1024)
        .read_to_string(&mut text)
        .map_err(|e| fail(exit::FAILURE, format!("cannot read stdin: {e}")))?;
    let password = text.lines().next().unwrap_or("");
    if password.is_empty() {
        return Err(fail(exit::DATA, "no password on stdin"));
    }
    let hash =
        crate::vending::basic::hash_password(password).map_err(|e| fail(exit::FAILURE, e))?;
    Ok(format!("{hash}\n"))
}

fn inspect(credential: &str, config: Option<PathBuf>) -> Result<String, Failure> {
    let credential = if credential == "-" {
        let mut text = String::new();
        std::io::stdin()
            .take(1024 * 1024)
            .read_to_string(&mut text)
            .map_err(|e| fail(exit::FAILURE, format!("cannot read stdin: {e}")))?;
        text.trim().to_owned()
    } else {
        credential.to_owned()
    };
    let decoded = token::inspect(&credential).map_err(|e| fail(exit::DATA, e.to_string()))?;
    let mut out = json!({
        "kid": decoded.kid,
        "alg": decoded.alg,
        "sub": decoded.subject,
        "iat": decoded.issued_at,
        "exp": decoded.expires_at,
        "type": match decoded.kind { CredentialKind::ApiKey => "api_key", CredentialKind::Disposable => "disposable" },
        "token_id": decoded.token_id,
        "jti": decoded.jti,
        "scope": decoded.scope.as_ref().map(scope_json::render),
    });
    if let Some(path) = config {
        let config = load(&path)?;
        let authenticator = Authenticator::new(
            config.keys,
            config.auth,
            Arc::new(RevocationList::default()),
        );
        let verdict = authenticator.verify_at(&credential, token::unix_now());
        out["valid"] = json!(verdict.is_ok());
        out["reason"] = match verdict {
            Ok(_) => serde_json::Value::Null,
            Err(e) => json!({"code": e.reason(), "message": e.to_string()}),
        };
    }
    Ok(format!(
        "{}\n",
        serde_json::to_string_pretty(&out).unwrap_or_default()
    ))
}

/// The binary's entry point: runs the CLI and returns the process exit code.
pub fn main() -> i32 {
    match run(std::env::args_os()) {
        Ok(out) => {
            print!("{out}");
            0
        }
        Err(failure) => {
            eprintln!("error: {}", failure.message.replace('\n', "; "));
            failure.code
        }
    }
}
