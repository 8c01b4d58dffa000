//! The house's rules, checked over the whole source tree: no source file over 600 lines
//! outside tests and benches, no console component over 200 lines, and no import cycle
//! between a crate's modules (a module and its ancestors aside: a child may use what its
//! parent holds, and a parent declare and re-export its children).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The crates whose `src/` is checked.
const CRATES: [&str; 10] = [
    "protocol",
    "backend/domain",
    "backend/handlers",
    "backend/store-embedded",
    "backend/store-dynamo",
    "backend/push-apigw",
    "backend/lambdas",
    "backend/local",
    "frontend",
    "xtask",
];

const MAX_LINES: usize = 600;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace")
        .to_path_buf()
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// A file's module path within its crate: `src/a/b.rs` and `src/a/b/mod.rs` are `a::b`;
/// `lib.rs` and `main.rs` the crate root (empty).
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The paths a file names through `crate::` or `super::`, as module paths of its crate
/// (the longest prefix that is a module).
fn imports(code: &str, me: &[String], modules: &BTreeSet<Vec<String>>) -> BTreeSet<Vec<String>> {
    let mut named = Vec::new();
    for line in code.lines() {
        let line = line.trim_start();
        if line.starts_with("//") {
            continue;
        }
        for (start, _) in line
            .match_indices("crate::")
            .chain(line.match_indices("super::"))
        {
            if start > 0 {
                let before = line.as_bytes()[start - 1];
                if before.is_ascii_alphanumeric() || before == b'_' || before == b':' {
                    continue;
                }
            }
            let (base, rest): (Vec<String>, &str) = if line[start..].starts_with("crate::") {
                (Vec::new(), &line[start + "crate::".len()..])
            } else {
                let mut rest = &line[start..];
                let mut base = me.to_vec();
                while let Some(after) = rest.strip_prefix("super::") {
                    base.pop();
                    rest = after;
                }
                (base, rest)
            };
            for path in expand(rest) {
                let mut full = base.clone();
                full.extend(path);
                named.push(full);
            }
        }
    }
    named
        .into_iter()
        .filter_map(|path| {
            (0..=path.len())
                .rev()
                .map(|n| path[..n].to_vec())
                .find(|prefix| modules.contains(prefix))
        })
        .collect()
}

/// `a::b::{c, d::e}` → `[a, b, c]`, `[a, b, d, e]`; `a::b::C` → `[a, b, C]`.
fn expand(text: &str) -> Vec<Vec<String>> {
    let mut prefix = Vec::new();
    let mut rest = text;
    loop {
        if let Some(group) = rest.strip_prefix('{') {
            return split_top_level(group)
                .into_iter()
                .flat_map(|item| expand(item.trim()))
                .map(|tail| prefix.iter().cloned().chain(tail).collect())
                .collect();
        }
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if end == 0 {
            return vec![prefix];
        }
        prefix.push(rest[..end].to_owned());
        match rest[end..].strip_prefix("::") {
            Some(after) => rest = after,
            None => return vec![prefix],
        }
    }
}

/// The items of a `{…}` group (its opening brace already taken), split at its own commas.
fn split_top_level(group: &str) -> Vec<&str> {
    let (mut items, mut depth, mut start) = (Vec::new(), 0, 0);
    for (at, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                items.push(&group[start..at]);
                return items;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&group[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    items.push(&group[start..]);
    items
}

fn is_ancestor(a: &[String], b: &[String]) -> bool {
    a.len() <= b.len() && b[..a.len()] == *a
}

/// A cycle in `edges`, as the modules along it, if there is one.
fn cycle(edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Option<Vec<String>> {
    fn visit(
        node: &Vec<String>,
        edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        path: &mut Vec<Vec<String>>,
        done: &mut BTreeSet<Vec<String>>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut names: Vec<String> = path[at..].iter().map(|n| n.join("::")).collect();
            names.push(node.join("::"));
            return Some(names);
        }
        if !done.insert(node.clone()) {
            return None;
        }
        path.push(node.clone());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, edges, path, done) {
                return Some(found);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|node| visit(node, edges, &mut Vec::new(), &mut done))
}

#[test]
fn no_source_file_is_over_600_lines_outside_tests_and_benches() {
    let mut long = Vec::new();
    for krate in CRATES {
        let mut files = Vec::new();
        sources(&root().join(krate).join("src"), &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).expect("readable");
            let name = file.file_name().expect("a name").to_string_lossy();
            if name == "tests.rs" {
                continue;
            }
            if text.lines().count() > MAX_LINES {
                long.push(format!(
                    "{} ({} lines)",
                    file.display(),
                    text.lines().count()
                ));
            }
        }
    }
    assert!(long.is_empty(), "split these: {long:#?}");
}

#[test]
fn no_component_of_the_console_is_over_200_lines() {
    let mut files = Vec::new();
    sources(&root().join("frontend/src/components"), &mut files);
    let mut long = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable");
        let lines: Vec<&str> = text.lines().collect();
        for (at, line) in lines.iter().enumerate() {
            if at == 0 || lines[at - 1].trim() != "#[component]" {
                continue;
            }
            let length = lines[at..]
                .iter()
                .position(|l| *l == "}")
                .map_or(lines.len() - at, |end| end + 1);
            if length > 200 {
                long.push(format!(
                    "{}:{} {line} ({length} lines)",
                    file.display(),
                    at + 1
                ));
            }
        }
    }
    assert!(long.is_empty(), "split these into parts: {long:#?}");
}

#[test]
fn no_crate_has_an_import_cycle_between_its_modules() {
    for krate in CRATES {
        let src = root().join(krate).join("src");
        let mut files = Vec::new();
        sources(&src, &mut files);
        let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(&src, f)).collect();
        let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
        for file in &files {
            let me = module_of(&src, file);
            let code = std::fs::read_to_string(file).expect("readable");
            let code = code.split("#[cfg(test)]").next().unwrap_or("");
            for target in imports(code, &me, &modules) {
                if !is_ancestor(&target, &me) && !is_ancestor(&me, &target) {
                    edges.entry(me.clone()).or_default().insert(target);
                }
            }
        }
        assert_eq!(
            cycle(&edges),
            None,
            "{krate}: modules that import each other"
        );
    }
}

#[test]
fn the_checks_see_what_they_check() {
    let modules: BTreeSet<Vec<String>> = [
        vec![],
        vec!["a".into()],
        vec!["b".into()],
        vec!["b".into(), "c".into()],
    ]
    .into_iter()
    .collect();
    let found = imports(
        "use crate::a::Thing;\nuse crate::{b::c::{X, Y}, a};\n// use crate::zzz;\nlet x = super::b::f();",
        &["a".to_owned()],
        &modules,
    );
    let expected: BTreeSet<Vec<String>> = [
        vec!["a".into()],
        vec!["b".into(), "c".into()],
        vec!["b".into()],
    ]
    .into_iter()
    .collect();
    assert_eq!(found, expected);
    let mut edges = BTreeMap::new();
    edges.insert(
        vec!["a".to_owned()],
        [vec!["b".to_owned()]].into_iter().collect(),
    );
    assert_eq!(cycle(&edges), None);
    edges.insert(
        vec!["b".to_owned()],
        [vec!["a".to_owned()]].into_iter().collect(),
    );
    assert_eq!(
        cycle(&edges),
        Some(vec!["a".into(), "b".into(), "a".into()])
    );
}
