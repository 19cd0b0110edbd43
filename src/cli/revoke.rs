//! `scopegate token revoke --admin URL (--jti X | --token-id X | --sub X)
//! [--until EPOCH | --for DURATION]`: a client of the revocation API on a
//! gateway's admin listener (plain HTTP, as that listener serves). The
//! superuser credential comes from `$SCOPEGATE_CREDENTIAL`, never from an
//! argument (arguments show in `ps`).

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde_json::json;

use super::{Failure, exit, fail};

#[derive(clap::Args, Debug)]
#[command(group = clap::ArgGroup::new("target").required(true).multiple(false))]
pub struct RevokeArgs {
    /// The gateway's admin address, e.g. http://127.0.0.1:9090.
    #[arg(long)]
    admin: String,
    /// Revoke the credential with this `jti` (a random one may start with
    /// `-`: it is taken as the value, not as an option).
    #[arg(long, group = "target", allow_hyphen_values = true)]
    jti: Option<String>,
    /// Revoke the credentials with this token id.
    #[arg(long, group = "target", allow_hyphen_values = true)]
    token_id: Option<String>,
    /// Revoke every credential issued to this subject so far.
    #[arg(long, group = "target", allow_hyphen_values = true)]
    sub: Option<String>,
    /// Keep the entry until this epoch second (when the targets have expired).
    #[arg(long, conflicts_with = "keep_for")]
    until: Option<u64>,
    /// Keep the entry this long from now, e.g. 25h.
    #[arg(long = "for")]
    keep_for: Option<String>,
}

const TIMEOUT: Duration = Duration::from_secs(10);

pub fn run(args: &RevokeArgs) -> Result<String, Failure> {
    let credential = std::env::var("SCOPEGATE_CREDENTIAL").map_err(|_| {
        fail(
            exit::USAGE,
            "set SCOPEGATE_CREDENTIAL to a superuser credential",
        )
    })?;
    let until = match (&args.until, &args.keep_for) {
        (Some(until), _) => Some(*until),
        (None, Some(text)) => {
            let d = humantime::parse_duration(text).map_err(|_| {
                fail(
                    exit::DATA,
                    format!("--for `{text}` is not a duration like 25h"),
                )
            })?;
            Some(crate::token::unix_now().saturating_add(d.as_secs()))
        }
        (None, None) => None,
    };
    let (field, value) = match (&args.jti, &args.token_id, &args.sub) {
        (Some(v), _, _) => ("jti", v),
        (_, Some(v), _) => ("token_id", v),
        (_, _, Some(v)) => ("sub", v),
        _ => return Err(fail(exit::USAGE, "give --jti, --token-id or --sub")),
    };
    let mut body = json!({ field: value });
    if let Some(until) = until {
        body["until"] = json!(until);
    }
    let uri: http::Uri = format!("{}/v1/revocations", args.admin.trim_end_matches('/'))
        .parse()
        .map_err(|_| {
            fail(
                exit::USAGE,
                "--admin is not a URL like http://127.0.0.1:9090",
            )
        })?;
    if uri.scheme_str() != Some("http") || uri.host().is_none() {
        return Err(fail(exit::USAGE, "--admin must be an http:// URL"));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| fail(exit::FAILURE, format!("cannot start the runtime: {e}")))?;
    let (status, reply) = runtime
        .block_on(async {
            tokio::time::timeout(TIMEOUT, post(&uri, credential.trim(), body.to_string())).await
        })
        .map_err(|_| fail(exit::FAILURE, "the admin listener did not answer in time"))??;
    match status {
        204 => Ok(format!("revoked {field} {value}\n")),
        _ => {
            // The API's JSON error says why in general terms (no credential).
            let message = serde_json::from_slice::<serde_json::Value>(&reply)
                .ok()
                .and_then(|v| v["message"].as_str().map(str::to_owned))
                .unwrap_or_else(|| format!("HTTP {status}"));
            let code = if status == 400 {
                exit::DATA
            } else {
                exit::FAILURE
            };
            Err(fail(
                code,
                format!("revocation refused ({status}): {message}"),
            ))
        }
    }
}

async fn post(uri: &http::Uri, credential: &str, body: String) -> Result<(u16, Bytes), Failure> {
    let host = uri.host().unwrap_or("127.0.0.1");
    let port = uri.port_u16().unwrap_or(80);
    let stream = tokio::net::TcpStream::connect((host, port))
        .await
        .map_err(|e| fail(exit::FAILURE, format!("cannot reach {host}:{port}: {e}")))?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| fail(exit::FAILURE, format!("admin connection failed: {e}")))?;
    tokio::spawn(connection);
    let request = http::Request::post(uri.path())
        .header(http::header::HOST, format!("{host}:{port}"))
        .header(http::header::AUTHORIZATION, credential)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(|_| fail(exit::DATA, "the credential is not a valid header value"))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| fail(exit::FAILURE, format!("admin request failed: {e}")))?;
    let status = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    Ok((status, bytes))
}
