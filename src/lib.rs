//! scopegate: a data-plane enforcement proxy for Momento-shaped scoped credentials.
//!
//! # The path every request takes
//!
//! ```text
//! classify:      request -> Operation {kind, cache, keys | topic}        operation.rs (pure)
//! authenticate:  credential -> Verified {claims, CompiledScope}          token/ (moka cache; miss = verify)
//! authorize:     (CompiledScope, Operation) -> Permit | Denial           scope/ (pure, allocation-free)
//! error mapping: AuthError / Denial / ... -> ErrorCode                   error.rs (one place)
//! ```
//!
//! # Layout
//! - [`operation`]: the classification table of SPEC 3.4, as data.
//! - [`token`]: envelope and JWT codec, key ring, verification (SPEC 2.2) with its
//!   cache, revocation list, minting (SPEC 3.3, 7).
//! - [`scope`]: scope compilation and the one authorizer (SPEC 3).
//! - [`config`]: `config.toml` -> validated [`config::Config`] (SPEC 9).
//! - [`cli`]: `keygen`, `token mint`, `token inspect`, `check-config`.
//! - [`error`]: failure -> client-visible error code (SPEC 4).
//!
//! The gateway's listeners, fronts and backends are not built yet (see the README's status).

pub mod admin;
pub mod api;
pub mod app;
pub mod backend;
pub mod cli;
pub mod config;
pub mod error;
pub mod metrics;
pub mod operation;
pub mod scope;
pub mod serve;
pub mod server;
pub mod token;

pub use error::{Coded, ErrorCode};
pub use operation::{Operation, OperationKind};
pub use scope::{CompiledScope, Denial, Permit};
pub use token::{AuthError, Authenticator, Verified};
