//! The crate's top-level modules form no import cycle (house style; the
//! request path reads top-down: api -> app -> token/scope/backend -> leaves).
//! Read from the sources: every `crate::<module>` outside test code is an edge.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            out.push((path.to_string_lossy().into_owned(), text));
        }
    }
}

fn edges() -> BTreeMap<String, BTreeSet<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, text) in files {
        let relative = path.strip_prefix(root.to_str().unwrap()).unwrap();
        let top = relative
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap()
            .trim_end_matches(".rs")
            .to_owned();
        if top == "lib" || top == "main" {
            continue;
        }
        // A file's inline test module is its last item; a `#[cfg(test)] mod
        // tests;` declaration (often at the top of a `mod.rs`) is not, and
        // must not hide the code after it.
        let code = text.split("#[cfg(test)]\nmod tests {").next().unwrap();
        for (at, _) in code.match_indices("crate::") {
            let name: String = code[at + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && name != top && name.starts_with(|c: char| c.is_lowercase()) {
                edges.entry(top.clone()).or_default().insert(name);
            }
        }
    }
    edges
}

#[test]
fn top_level_modules_have_no_import_cycle() {
    let edges = edges();
    assert!(
        edges.contains_key("api") && edges["api"].contains("app"),
        "{edges:?}"
    );
    let mut cycles = Vec::new();
    for (from, tos) in &edges {
        for to in tos {
            // Does `to` reach `from`?
            let mut seen = BTreeSet::new();
            let mut stack = vec![to.clone()];
            while let Some(m) = stack.pop() {
                if &m == from {
                    cycles.push(format!("{from} -> {to} -> ... -> {from}"));
                    break;
                }
                if seen.insert(m.clone()) {
                    stack.extend(edges.get(&m).into_iter().flatten().cloned());
                }
            }
        }
    }
    assert!(cycles.is_empty(), "import cycles: {cycles:#?}");
}

#[test]
fn metrics_is_a_leaf() {
    let edges = edges();
    assert_eq!(
        edges.get("metrics"),
        None,
        "metrics imports {:?}",
        edges.get("metrics")
    );
}
