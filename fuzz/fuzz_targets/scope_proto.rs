//! bytes -> `Permissions::decode` (prost) -> `scope::compile` -> `authorize`.
//!
//! Properties: nothing panics; a compiled scope authorizes exactly what the
//! reference model of SPEC 3.2 (in `common`) allows, over every operation kind
//! and the names the scope itself mentions; a non-superuser scope never
//! authorizes a control-plane or minting op; and rendering the scope as JSON
//! and parsing it back (what `token inspect` shows and `token mint --scope`
//! reads) never changes what it compiles to.
#![no_main]

#[path = "../common/mod.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use momento_protos::permission_messages::Permissions;
use prost::Message;
use scopegate::scope::{ScopeLimits, compile, json};

fuzz_target!(|data: &[u8]| {
    let Ok(scope) = Permissions::decode(data) else {
        return;
    };
    let compiled = compile(&scope, &ScopeLimits::default());
    // The limit is the only difference between the two sets of limits.
    let roomy = compile(&scope, &common::roomy_limits());
    if let Ok(c) = &compiled {
        assert_eq!(roomy.as_ref().ok(), Some(c));
    }
    let Ok(compiled) = roomy else {
        return;
    };
    common::check_authorization(&scope, &compiled);

    // Render -> parse must not change meaning. Parts the JSON shape cannot
    // express (function permissions, PermitNone, unknown roles) render as
    // something parse refuses; then there is nothing to compare.
    let rendered = json::render(&scope).to_string();
    if let Ok(reparsed) = json::parse(&rendered) {
        let again = compile(&reparsed, &common::roomy_limits());
        assert_eq!(
            again.as_ref(),
            Ok(&compiled),
            "render -> parse changed the scope's meaning\nrendered: {rendered}\nreparsed: {reparsed:?}"
        );
    }
});
