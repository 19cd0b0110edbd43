//! The scope JSON round trip (`scope::json`).
//!
//! For any text `parse` accepts: `parse(render(parse(x))) == parse(x)`, the
//! exact protobuf `Permissions`; rendering is a fixed point
//! (`render(parse(render(p))) == render(p)`); and compiling the re-parsed
//! scope gives the same `CompiledScope` (or the same error) as compiling the
//! original. A cache or topic literally named `*` once rendered as `"*"`
//! (= all) and widened the scope on re-parse: this target is what catches
//! that class of bug.
#![no_main]

#[path = "../common/mod.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use scopegate::scope::{compile, json};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(scope) = json::parse(text) else {
        return;
    };
    let rendered = json::render(&scope).to_string();
    let reparsed = match json::parse(&rendered) {
        Ok(p) => p,
        Err(e) => {
            panic!("a rendered scope does not parse: {e}\ninput: {text}\nrendered: {rendered}")
        }
    };
    assert_eq!(
        reparsed, scope,
        "parse(render(parse(x))) != parse(x)\ninput: {text}\nrendered: {rendered}"
    );
    assert_eq!(
        json::render(&reparsed).to_string(),
        rendered,
        "render is not a fixed point\ninput: {text}"
    );
    let limits = common::roomy_limits();
    let before = compile(&scope, &limits);
    let after = compile(&reparsed, &limits);
    assert_eq!(
        before, after,
        "render -> parse changed the compiled scope\ninput: {text}"
    );
    if let Ok(compiled) = before {
        // Whatever parse accepts and compile compiles is authorized as the
        // reference model says.
        common::check_authorization(&scope, &compiled);
    }
});
