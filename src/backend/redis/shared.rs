//! What replicas share besides caches and topics (SPEC 12): revocations and
//! API-key refresh tokens.
//!
//! ```text
//! <len(ns)>:<ns>:revocations        a stream: one entry per revocation
//! <len(ns)>:<ns>:rt:<sha256 hex>    a refresh token's digest -> its API key's jti
//! ```
//!
//! Revocations are a stream because it is both the durable record (a gateway
//! that starts reads it from the beginning, so revocations survive restarts)
//! and the push channel (every gateway reads what was added since its last
//! read, every `REVOCATION_POLL` (100 ms), so a revocation reaches every replica well
//! within a second). It is trimmed to about `4 x MAX_REVOCATIONS` entries.
//! Refresh tokens are stored as digests only, expire with their key, and are
//! redeemed by a compare-and-delete script: exactly once, at any replica.

use std::sync::{Arc, LazyLock, Weak};
use std::time::Duration;

use redis::Script;
use redis::streams::{StreamMaxlen, StreamRangeReply};

use super::{Inner, RedisBackend};
use crate::backend::BackendError;
use crate::token::{MAX_REVOCATIONS, Revocation, RevocationList, RevokeBy, unix_now};

/// How often a gateway reads the revocations added since its last read.
pub const REVOCATION_POLL: Duration = Duration::from_millis(100);
/// Entries read per round trip.
const PAGE: usize = 1000;

/// Deletes KEYS[1] if it holds ARGV[1] (the API key's jti): a token presented
/// with another key is not burnt. Returns 1 if it redeemed.
static REDEEM: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('UNLINK', KEYS[1])
  return 1
end
return 0
",
    )
});

impl Inner {
    fn revocations_key(&self) -> Vec<u8> {
        self.ns.shared(b"revocations")
    }

    fn refresh_key(&self, digest: &[u8; 32]) -> Vec<u8> {
        let mut name = b"rt:".to_vec();
        for byte in digest {
            name.extend_from_slice(format!("{byte:02x}").as_bytes());
        }
        self.ns.shared(&name)
    }

    /// The revocations after stream id `after` ("-" for all), and the id to
    /// read after next time.
    async fn revocations_after(
        &self,
        after: &str,
    ) -> Result<(Vec<Revocation>, Option<String>), BackendError> {
        let key = self.revocations_key();
        let start = if after == "-" {
            "-".to_owned()
        } else {
            format!("({after}")
        };
        let reply: StreamRangeReply = self
            .link
            .run("read_revocations", |mut c| async move {
                redis::cmd("XRANGE")
                    .arg(&key)
                    .arg(&start)
                    .arg("+")
                    .arg("COUNT")
                    .arg(PAGE)
                    .query_async(&mut c)
                    .await
            })
            .await?;
        let last = reply.ids.last().map(|entry| entry.id.clone());
        let entries = reply
            .ids
            .iter()
            .filter_map(|entry| {
                let by: String = entry.get("by")?;
                let value: String = entry.get("v")?;
                let revoked_at: u64 = entry.get("at")?;
                let until: String = entry.get("u").unwrap_or_default();
                Some(Revocation {
                    by: RevokeBy::from_name(&by)?,
                    value,
                    revoked_at,
                    until: until.parse().ok(),
                })
            })
            .collect();
        Ok((entries, last))
    }
}

impl RedisBackend {
    /// Stores a revocation for every replica (and for restarts).
    pub async fn store_revocation(&self, r: &Revocation) -> Result<(), BackendError> {
        let key = self.inner.revocations_key();
        let until = r.until.map(|u| u.to_string()).unwrap_or_default();
        let fields = [
            ("by", r.by.name().to_owned()),
            ("v", r.value.clone()),
            ("at", r.revoked_at.to_string()),
            ("u", until),
        ];
        self.inner
            .link
            .run("store_revocation", |mut c| async move {
                redis::AsyncCommands::xadd_maxlen::<_, _, _, _, String>(
                    &mut c,
                    key,
                    StreamMaxlen::Approx(4 * MAX_REVOCATIONS),
                    "*",
                    &fields,
                )
                .await
            })
            .await
            .map(|_| ())
    }

    /// Keeps `list` up to date with every replica's revocations: reads them
    /// all, then what is added, until the backend is dropped. While Redis is
    /// unreachable the local list stays as it is and the read resumes after.
    pub fn follow_revocations(&self, list: Arc<RevocationList>) {
        let inner: Weak<Inner> = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut after = "-".to_owned();
            let mut tick = tokio::time::interval(REVOCATION_POLL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(inner) = inner.upgrade() else { return };
                // Page through everything new before waiting again.
                loop {
                    let Ok((entries, last)) = inner.revocations_after(&after).await else {
                        break;
                    };
                    let now = unix_now();
                    for r in &entries {
                        if list.insert(r, now).is_err() {
                            tracing::warn!("revocation list full; a replicated entry was dropped");
                        }
                    }
                    match last {
                        Some(last) => after = last,
                        None => break,
                    }
                    if entries.len() < PAGE {
                        break;
                    }
                }
            }
        });
    }

    /// Stores a refresh token's digest for the API key `api_jti`, until `expires_at`.
    pub async fn store_refresh_token(
        &self,
        digest: &[u8; 32],
        api_jti: &str,
        expires_at: u64,
    ) -> Result<(), BackendError> {
        let key = self.inner.refresh_key(digest);
        let (jti, at) = (api_jti.to_owned(), expires_at);
        self.inner
            .link
            .run("store_refresh_token", |mut c| async move {
                redis::cmd("SET")
                    .arg(&key)
                    .arg(&jti)
                    .arg("EXAT")
                    .arg(at)
                    .arg("NX")
                    .query_async::<Option<String>>(&mut c)
                    .await
            })
            .await
            .map(|_| ())
    }

    /// Redeems a refresh token's digest for `api_jti`: true once, anywhere.
    pub async fn redeem_refresh_token(
        &self,
        digest: &[u8; 32],
        api_jti: &str,
    ) -> Result<bool, BackendError> {
        let key = self.inner.refresh_key(digest);
        let redeemed: i64 = self
            .inner
            .link
            .eval("redeem_refresh_token", REDEEM.key(key).arg(api_jti))
            .await?;
        Ok(redeemed == 1)
    }
}
