//! scopegate: a data-plane enforcement proxy for Momento-shaped scoped credentials.
//!
//! # The path every request takes
//!
//! ```text
//! accept:        TCP (+ TLS under a timeout), connection cap           server/
//! front:         HTTP API, or gRPC by content-type, on one port         api/
//! classify:      request -> Operation {kind, cache, keys | topic}       operation.rs (pure)
//! authenticate:  credential -> Verified {claims, CompiledScope}         token/ (moka cache; miss = verify)
//! authorize:     (CompiledScope, Operation) -> Permit | Denial          scope/ (pure, allocation-free)
//! backend:       (Permit, request) -> response                          backend/ (memory | redis)
//! error mapping: AuthError / Denial / BackendError -> ApiError -> status + JSON   error.rs
//! ```
//!
//! # Layout
//! - [`operation`]: the classification table of SPEC 3.4, as data.
//! - [`token`]: envelope and JWT codec, key ring, verification (SPEC 2.2) with its
//!   cache, revocation list, minting (SPEC 3.3, 7).
//! - [`scope`]: scope compilation and the one authorizer (SPEC 3).
//! - [`api`]: the fronts: [`api::grpc`] serves momento-protos' tonic services
//!   (Scs, Pubsub, Token, Auth, ScsControl); [`api::http`] is Momento's HTTP API
//!   (SPEC 5).
//! - [`backend`]: `CacheBackend` / `TopicBackend` traits taking a `Permit`;
//!   [`backend::memory`] is the embedded store with topics (SPEC 6);
//!   [`backend::redis`] keeps items, the cache registry and topics (Streams) in
//!   Redis, one node or a cluster, shared by replicas.
//! - [`server`]: listener, TLS, limits, graceful shutdown; [`admin`]: `/metrics`,
//!   `/livez`, `/readyz`; [`metrics`]: the typed Prometheus registry.
//! - [`app`]: the per-process state every request shares.
//! - [`config`]: `config.toml` (+ `SCOPEGATE_*` overrides) -> validated [`config::Config`].
//! - [`cli`] and [`serve`]: `serve`, `keygen`, `token mint`, `token inspect`, `check-config`.
//! - [`clock`]: deadlines that saturate instead of overflowing.
//! - [`error`]: failure -> client-visible error code and HTTP status (SPEC 4).

pub mod admin;
pub mod api;
pub mod app;
pub mod backend;
pub mod cli;
pub mod clock;
pub mod config;
pub mod demo;
pub mod error;
pub mod metrics;
pub mod operation;
pub mod scope;
pub mod serve;
pub mod server;
pub mod token;
pub mod vending;

pub use error::{Coded, ErrorCode};
pub use operation::{Operation, OperationKind};
pub use scope::{CompiledScope, Denial, Permit};
pub use token::{AuthError, Authenticator, Verified};
