//! Core's modules form no import cycle: the dependencies run one way, `target` and the
//! recorded exchanges at the bottom, then the probe, discovery, the auth layer, the engine
//! (and the checks, in their own crate, on top). This test reads core's source, builds the
//! graph of its top-level modules from every `crate::NAME` a module's code names (tests
//! left out), and fails on a cycle, naming it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

/// The code of a source file: comments and everything from the first `#[cfg(test)]` that
/// opens a test module on left out.
fn code_of(source: &str) -> String {
    let mut out = String::new();
    let mut lines = source.lines().peekable();
    while let Some(line) = lines.next() {
        let trimmed = line.trim();
        if trimmed == "#[cfg(test)]" && lines.peek().is_some_and(|l| l.trim_start().starts_with("mod tests")) {
            break;
        }
        let code = match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        };
        out.push_str(code);
        out.push('\n');
    }
    out
}

/// The crate-level modules `code` names (`crate::probe::Probe`, `use crate::{a, b}`).
fn named_modules(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for part in group[..end].split(',') {
                let name = ident(part.trim());
                if !name.is_empty() {
                    out.insert(name);
                }
            }
        } else {
            let name = ident(after);
            if !name.is_empty() {
                out.insert(name);
            }
        }
        rest = after;
    }
    out
}

/// Files that a `#[cfg(test)] mod NAME;` declares: test code, not a dependency.
fn test_only_children(source: &str) -> Vec<String> {
    let lines: Vec<&str> = source.lines().map(str::trim).collect();
    lines
        .windows(2)
        .filter(|w| w[0] == "#[cfg(test)]")
        .filter_map(|w| w[1].strip_prefix("mod ").and_then(|m| m.strip_suffix(';')))
        .map(str::to_string)
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read core's source folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module graph of the source under `src`.
fn module_graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut test_only: BTreeSet<PathBuf> = BTreeSet::new();
    for path in &files {
        let source = std::fs::read_to_string(path).expect("read a source file");
        let dir = match path.file_name().and_then(|n| n.to_str()) {
            Some("mod.rs" | "lib.rs") => path.parent().unwrap().to_path_buf(),
            _ => path.with_extension(""),
        };
        for child in test_only_children(&source) {
            test_only.insert(dir.join(format!("{child}.rs")));
            test_only.insert(dir.join(&child).join("mod.rs"));
        }
    }
    let mut graph = Graph::new();
    for path in files.iter().filter(|p| !test_only.contains(*p)) {
        let rel = path.strip_prefix(src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .to_string();
        let module = first.trim_end_matches(".rs").to_string();
        if module == "lib" {
            continue;
        }
        let source = std::fs::read_to_string(path).expect("read a source file");
        let deps = graph.entry(module.clone()).or_default();
        for named in named_modules(&code_of(&source)) {
            if named != module {
                deps.insert(named);
            }
        }
    }
    graph
}

/// A cycle of `graph`, as the modules along it (the first repeated at the end), if any.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(node: &str, graph: &Graph, path: &mut Vec<String>, done: &mut BTreeSet<String>) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|start| visit(start, graph, &mut Vec::new(), &mut done))
}

fn core_graph() -> Graph {
    module_graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
}

#[test]
fn core_modules_form_no_import_cycle() {
    let graph = core_graph();
    assert!(
        graph.len() > 20,
        "only {} modules read: is the folder right?",
        graph.len()
    );
    if let Some(cycle) = find_cycle(&graph) {
        let edges: Vec<String> = graph.iter().map(|(m, d)| format!("{m} -> {d:?}")).collect();
        panic!(
            "core has an import cycle: {}\n\n{}",
            cycle.join(" -> "),
            edges.join("\n")
        );
    }
}

#[test]
fn the_layers_run_one_way() {
    let graph = core_graph();
    let deps = |m: &str| graph.get(m).cloned().unwrap_or_default();
    assert!(
        deps("target").is_empty(),
        "target imports nothing from core: {:?}",
        deps("target")
    );
    // (module, modules it must never name)
    let below = [
        (
            "exchange",
            &["probe", "discovery", "auth", "engine", "context", "config"][..],
        ),
        ("probe", &["discovery", "auth", "engine", "context", "config"][..]),
        ("discovery", &["auth", "engine", "context", "config", "spec"][..]),
        ("auth", &["engine", "context", "config", "check", "hidden_routes"][..]),
        ("context", &["engine"][..]),
    ];
    for (module, never) in below {
        for upper in never {
            assert!(
                !deps(module).contains(*upper),
                "{module} must not depend on {upper}: {:?}",
                deps(module)
            );
        }
    }
}

#[test]
fn the_graph_reader_sees_paths_groups_and_skips_comments_and_tests() {
    let code = code_of(
        "use crate::{probe::Probe, exchange};\n// crate::engine\nfn f() { crate::auth::x(); }\n#[cfg(test)]\nmod tests { use crate::context; }\n",
    );
    let named: Vec<String> = named_modules(&code).into_iter().collect();
    assert_eq!(named, ["auth", "exchange", "probe"]);
    let mut graph = Graph::new();
    graph.entry("a".into()).or_default().insert("b".into());
    graph.entry("b".into()).or_default().insert("c".into());
    assert_eq!(find_cycle(&graph), None);
    graph.entry("c".into()).or_default().insert("a".into());
    assert_eq!(find_cycle(&graph).unwrap(), ["a", "b", "c", "a"]);
}
