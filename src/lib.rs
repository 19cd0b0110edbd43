//! scopegate: a data-plane enforcement proxy for Momento-shaped scoped credentials.
//!
//! # The path every request takes
//!
//! ```text
//! accept:        TCP (+ TLS under a timeout), connection cap           server/
//! front:         HTTP API, gRPC or gRPC-Web by content-type, one port   api/ (+ CORS)
//! classify:      request -> Operation {kind, cache, keys | topic}       operation/ (pure)
//! authenticate:  credential -> Verified {claims, CompiledScope}         token/ (per-thread, then moka; miss = verify)
//! authorize:     (CompiledScope, Operation) -> Permit | Denial          scope/ (pure, allocation-free)
//!                (the Permit names the kind, cache and keys or topic it was granted for)
//! backend:       (Permit, values) -> response: acts on what the Permit names   backend/ (memory | redis)
//! error mapping: AuthError / Denial / BackendError -> ApiError -> status + JSON   error.rs
//! ```
//!
//! # Layout
//! - [`operation`]: the classification table of SPEC 3.4, as data.
//! - [`token`]: envelope and JWT codec, key ring, verification (SPEC 2.2) with its
//!   cache, revocation list, minting (SPEC 3.3, 7).
//! - [`scope`]: scope compilation and the one authorizer (SPEC 3).
//! - [`api`]: the fronts: [`api::grpc`] serves momento-protos' services
//!   (Scs, Pubsub, Token, Auth, ScsControl, and Ping), authenticating on the
//!   request head and checking the body's framing against a per-connection
//!   budget; Scs's unary RPCs are decoded and framed by the front itself, the
//!   streams and the other services by tonic's generated servers; [`api::grpc::web`] puts gRPC-Web in front of the same dispatch;
//!   [`api::http`] is Momento's HTTP API (SPEC 5), `/vend` and the demo page;
//!   [`cors`] the CORS policy of all.
//! - [`vending`]: the token vending endpoint `/vend` (SPEC 8: open, basic,
//!   OIDC identities, per-group scope templates, rate limits), served by
//!   [`api::http`]; [`api::http::demo`]: the chat page `serve --dev` serves at `/demo`.
//! - [`backend`]: `CacheBackend` / `CollectionBackend` / `TopicBackend` traits
//!   taking a `Permit` (their cache, key and topic come from it; a batch is
//!   split per key); [`backend::collection`] is one `CollectionOp` per
//!   collection RPC and the rules both backends share (SPEC 10);
//!   [`backend::memory`] is the embedded store (a sharded map bounded in
//!   bytes, sampled eviction) with collections and topics;
//!   [`backend::redis`] keeps items, collections (native types, Lua), the cache
//!   registry and topics (Streams) in Redis, one node or a cluster, shared by
//!   replicas (with revocations and refresh tokens).
//! - [`server`]: listener, TLS, limits (idle connections, request bytes per
//!   connection), small writes sent as one buffer, graceful shutdown;
//!   [`admin`]: `/metrics`, `/livez`, `/readyz`, the revocation API;
//!   [`metrics`]: the typed Prometheus registry.
//! - [`app`]: the per-process state every request shares.
//! - [`reload`]: key rotation without a restart (SIGHUP, polled files).
//! - [`config`]: `config.toml` (+ `SCOPEGATE_*` overrides) -> validated [`config::Config`].
//! - [`cli`] and [`serve`]: `serve`, `keygen`, `token mint`, `token inspect`,
//!   `token revoke`, `check-config`, `vending hash-password`.
//! - [`clock`]: deadlines that saturate instead of overflowing, request
//!   bounds that arm a timer only when the request has to wait, and the
//!   kernel's coarse clocks for the request path's checks in seconds.
//! - [`error`]: failure -> client-visible error code and HTTP status (SPEC 4).

pub mod admin;
pub mod api;
pub mod app;
pub mod backend;
pub mod cli;
pub mod clock;
pub mod config;
pub mod cors;
pub mod error;
pub mod metrics;
pub mod operation;
pub mod reload;
pub mod scope;
pub mod serve;
pub mod server;
pub mod token;
pub mod vending;

pub use error::{Coded, ErrorCode};
pub use operation::{Operation, OperationKind};
pub use scope::{CompiledScope, Denial, Permit};
pub use token::{AuthError, Authenticator, Verified};
