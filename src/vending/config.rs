//! The validated `[vending]` settings (validation from the TOML is in
//! `config/vending.rs`; tests and `serve --dev` build these directly).

use super::basic::Users;
use super::oidc::OidcConfig;
use super::policy::Policy;

/// `[vending]`, validated.
#[derive(Clone, Debug)]
pub struct VendingConfig {
    pub auth: VendAuth,
    /// `[[vending.policies]]`, at most one per group.
    pub policies: Vec<Policy>,
    /// `vends_per_minute_per_identity` (default 30).
    pub per_identity: u32,
    /// `vends_per_minute_per_address` (default 60).
    pub per_address: u32,
}

/// Who may ask (`[vending] auth`).
// Built once per process: the size difference of the variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum VendAuth {
    /// Anyone (`allow_open = true` only): the identity `anonymous`.
    Open,
    Basic(Users),
    Oidc(OidcConfig),
}

impl VendingConfig {
    /// The default limits with `auth` and `policies`.
    pub fn new(auth: VendAuth, policies: Vec<Policy>) -> VendingConfig {
        VendingConfig {
            auth,
            policies,
            per_identity: 30,
            per_address: 60,
        }
    }
}
