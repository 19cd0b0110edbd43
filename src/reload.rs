//! Key rotation without a restart (SPEC 12). The key ring is read again from
//! the config on SIGHUP, and when the config file or a key file it names
//! changes: every `POLL` the config is loaded as at start (files read through
//! their paths, so kubelet's `..data` symlink swap of a mounted Secret is
//! seen like any edit) and the resulting ring compared by fingerprint. A new
//! ring is validated whole by that load and then replaces the old one at
//! once; a config that does not load (a key file caught half-written, a
//! secret that is not key material) is refused, logged without any value,
//! and counted, and the old ring stays. Requests in flight and open streams
//! go on; credentials of a removed or changed key fail from then on.
//! Only the key ring is applied: other settings still need a restart.
//! Keys from AWS Secrets Manager are fetched again only once per their
//! `aws_refresh` (the cache in `config::aws_sm`); in between, a load reuses
//! the value last fetched, and a failed refresh keeps it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::app::App;
use crate::config::Config;

/// How often the files are looked at.
pub const POLL: Duration = Duration::from_secs(2);

/// What a look at the files found.
#[derive(Debug, PartialEq, Eq)]
pub enum Reload {
    Unchanged,
    Replaced,
    Refused,
}

/// Watches `config` for key changes until the process ends.
pub async fn watch(app: Arc<App>, config: PathBuf) {
    let mut hangup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(signal) => Some(signal),
        Err(e) => {
            tracing::warn!(error = %e, "no SIGHUP handler; keys are reloaded by polling only");
            None
        }
    };
    let mut poll = tokio::time::interval(POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    poll.tick().await; // the first tick is now: the ring was just loaded
    loop {
        let asked = async {
            match hangup.as_mut() {
                Some(signal) => signal.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = asked => {
                tracing::info!("SIGHUP: reloading the key ring");
                reload_blocking(&app, &config).await;
            }
            _ = poll.tick() => {
                reload_blocking(&app, &config).await;
            }
        }
    }
}

/// [`reload`] on a blocking thread: a load reads files and may wait for AWS
/// Secrets Manager (at most `config::aws_sm::FETCH_TIMEOUT`, once per
/// `aws_refresh`), which must not stall the runtime's workers.
async fn reload_blocking(app: &Arc<App>, config: &std::path::Path) {
    let (app, config) = (Arc::clone(app), config.to_owned());
    let _ = tokio::task::spawn_blocking(move || reload(&app, &config)).await;
}

/// Loads `config` and applies its key ring if it changed.
pub fn reload(app: &App, config: &std::path::Path) -> Reload {
    let loaded = match Config::load(config) {
        Ok(loaded) => loaded,
        Err(errors) => {
            // The messages name settings and files, never their contents.
            tracing::error!(
                errors = %errors.0.join("; "),
                "key reload refused; the current keys stay"
            );
            app.metrics.key_reload(false);
            return Reload::Refused;
        }
    };
    let current = app.auth.ring();
    if loaded.keys.fingerprint() == current.fingerprint() {
        return Reload::Unchanged;
    }
    tracing::info!(kids = ?loaded.keys.kids(), "key ring replaced");
    app.auth.replace_ring(Arc::clone(&loaded.keys));
    app.metrics.key_reload(true);
    Reload::Replaced
}
