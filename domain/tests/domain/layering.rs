//! The workspace's module layering: no module of a crate imports a module that imports it back
//! (docs/ARCHITECTURE.md, "Layers inside a crate").
//!
//! Each `.rs` file under a crate's `src/` is a module (`a/b.rs` and `a/b/mod.rs` are `a::b`).
//! A module depends on another when it names it through `crate::…`, `super::…` or `self::…` —
//! in a `use` tree or in a path in code. A module naming its own ancestor or descendant is not
//! counted: a parent re-exporting its children and a child using its parent's items are how
//! Rust modules are built. Every other dependency must point one way: the test fails listing
//! each cycle (each strongly connected component of more than one module), the modules in it
//! and the lines that tie them.
//!
//! Lines in `#[cfg(test)]` modules are skipped (tests may reach anywhere), and so are
//! comments.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path inside its crate: `["runtime", "reads"]`; the crate root is `[]`.
type Module = Vec<String>;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("domain/ sits in the workspace")
        .to_path_buf()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

fn module_of(src: &Path, file: &Path) -> Module {
    let rel = file.strip_prefix(src).expect("file under src");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|c| c.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().expect("a file name");
    let stem = last.trim_end_matches(".rs");
    if !matches!(stem, "mod" | "lib" | "main") {
        parts.push(stem.to_string());
    }
    parts
}

/// The source without comments, string contents and `#[cfg(test)]` items (a `#[cfg(test)]`
/// followed by an item with a braced body, or a `;`-terminated `mod x;`).
fn code_of(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut in_block_comment = 0usize;
    let mut skip_depth: Option<i64> = None;
    let mut pending_cfg_test = false;
    let mut depth: i64 = 0;
    for (n, raw) in text.lines().enumerate() {
        // Strip comments and string literals, keeping the code.
        let mut line = String::new();
        let b = raw.as_bytes();
        let mut i = 0;
        let mut in_str = false;
        while i < b.len() {
            if in_block_comment > 0 {
                if b[i..].starts_with(b"*/") {
                    in_block_comment -= 1;
                    i += 2;
                } else if b[i..].starts_with(b"/*") {
                    in_block_comment += 1;
                    i += 2;
                } else {
                    i += 1;
                }
                continue;
            }
            if in_str {
                if b[i] == b'\\' {
                    i += 2;
                } else {
                    if b[i] == b'"' {
                        in_str = false;
                    }
                    i += 1;
                }
                continue;
            }
            if b[i..].starts_with(b"//") {
                break;
            }
            if b[i..].starts_with(b"/*") {
                in_block_comment += 1;
                i += 2;
                continue;
            }
            if b[i] == b'"' {
                in_str = true;
                line.push('"');
                i += 1;
                continue;
            }
            // A char literal such as '{' must not count as a brace.
            if b[i] == b'\'' && i + 2 < b.len() && b[i + 2] == b'\'' {
                i += 3;
                continue;
            }
            line.push(b[i] as char);
            i += 1;
        }
        let trimmed = line.trim();
        if skip_depth.is_none() && trimmed.starts_with("#[cfg(test)]") {
            pending_cfg_test = true;
            continue;
        }
        let opens = line.matches('{').count() as i64;
        let closes = line.matches('}').count() as i64;
        if pending_cfg_test && !trimmed.is_empty() && !trimmed.starts_with("#[") {
            pending_cfg_test = false;
            if opens > closes {
                skip_depth = Some(depth);
            }
            depth += opens - closes;
            continue;
        }
        depth += opens - closes;
        if let Some(d) = skip_depth {
            if depth <= d {
                skip_depth = None;
            }
            continue;
        }
        out.push((n + 1, line));
    }
    out
}

/// Every path a line names through `crate::`, `super::` or `self::`, expanded from `use`
/// trees (`use crate::{a::{b, c}, d}` gives `crate::a::b`, `crate::a::c`, `crate::d`).
fn paths_in(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let chars: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let starts_word = i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        let rest: String = chars[i..chars.len().min(i + 7)].iter().collect();
        if starts_word
            && (rest.starts_with("crate::")
                || rest.starts_with("super::")
                || rest.starts_with("self::"))
        {
            let (tree, end) = take_tree(&chars, i);
            expand(&tree, Vec::new(), &mut out);
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

/// The use tree starting at `i`: path segments, `::`, and balanced `{…}` groups.
fn take_tree(chars: &[char], mut i: usize) -> (String, usize) {
    let mut s = String::new();
    let mut depth = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '{' {
            depth += 1;
        } else if c == '}' {
            if depth == 0 {
                break;
            }
            depth -= 1;
        } else if depth == 0 && !(c.is_alphanumeric() || c == '_' || c == ':' || c == '*') {
            break;
        }
        s.push(c);
        i += 1;
    }
    (s, i)
}

fn expand(tree: &str, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    let tree = tree.trim();
    if let Some(brace) = tree.find('{') {
        let head = &tree[..brace];
        let mut base = prefix;
        base.extend(segments(head));
        let inner = &tree[brace + 1..tree.rfind('}').unwrap_or(tree.len())];
        let mut depth = 0;
        let mut start = 0;
        for (k, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(&inner[start..k], base.clone(), out);
                    start = k + 1;
                }
                _ => {}
            }
        }
        expand(&inner[start..], base, out);
    } else {
        let mut p = prefix;
        p.extend(segments(tree));
        // `self` inside a group names the group's own path.
        if p.last().is_some_and(|s| s == "self") && p.len() > 1 {
            p.pop();
        }
        if !p.is_empty() {
            out.push(p);
        }
    }
}

fn segments(s: &str) -> Vec<String> {
    s.split("::")
        .map(|x| x.split_whitespace().next().unwrap_or("").to_string())
        .filter(|x| !x.is_empty() && x != "*")
        .collect()
}

/// The module a path names, relative to `from`: the longest known module prefix.
fn resolve(from: &Module, path: &[String], modules: &BTreeSet<Module>) -> Option<Module> {
    let mut base: Module;
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            base = Vec::new();
            rest = &rest[1..];
        }
        Some("self") => {
            base = from.clone();
            rest = &rest[1..];
        }
        Some("super") => {
            base = from.clone();
            while rest.first().is_some_and(|s| s == "super") {
                base.pop()?;
                rest = &rest[1..];
            }
        }
        _ => return None,
    }
    for seg in rest {
        let mut next = base.clone();
        next.push(seg.clone());
        if modules.contains(&next) {
            base = next;
        } else {
            break;
        }
    }
    Some(base)
}

fn related(a: &Module, b: &Module) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

/// The cycles among the modules of the crate whose sources are in `src`, each as its modules
/// and the lines (file:line) of the dependencies inside it. Empty when layered.
pub fn module_cycles(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeSet<Module> = files.iter().map(|f| module_of(src, f)).collect();
    // edges[a][b] = where a names b
    let mut edges: BTreeMap<Module, BTreeMap<Module, Vec<String>>> = BTreeMap::new();
    for f in &files {
        let from = module_of(src, f);
        let text = std::fs::read_to_string(f).expect("readable source");
        for (line_no, code) in code_of(&text) {
            for path in paths_in(&code) {
                let Some(to) = resolve(&from, &path, &modules) else {
                    continue;
                };
                if to.is_empty() || related(&from, &to) {
                    continue;
                }
                let rel = f.strip_prefix(src).unwrap_or(f).display().to_string();
                edges
                    .entry(from.clone())
                    .or_default()
                    .entry(to)
                    .or_default()
                    .push(format!("{rel}:{line_no}"));
            }
        }
    }
    // A module stands for its children too: `a` ↔ `b` is a cycle when `a` names `b` and
    // `b` names `a::x`. So the graph is checked at every depth, each module collapsed to its
    // first `depth` segments: depth 1 is the crate's top-level modules.
    let max_depth = modules.iter().map(Vec::len).max().unwrap_or(0);
    let name = |m: &Module| {
        if m.is_empty() {
            "crate".to_string()
        } else {
            m.join("::")
        }
    };
    let mut out: Vec<String> = Vec::new();
    let mut seen: BTreeSet<Vec<String>> = BTreeSet::new();
    for depth in 1..=max_depth {
        let cut = |m: &Module| m[..m.len().min(depth)].to_vec();
        let mut level: BTreeMap<Module, BTreeMap<Module, Vec<String>>> = BTreeMap::new();
        for (a, targets) in &edges {
            for (b, wheres) in targets {
                let (ca, cb) = (cut(a), cut(b));
                if related(&ca, &cb) {
                    continue;
                }
                level
                    .entry(ca)
                    .or_default()
                    .entry(cb)
                    .or_default()
                    .extend(wheres.iter().cloned());
            }
        }
        let nodes: Vec<Module> = modules
            .iter()
            .map(cut)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let index_of: BTreeMap<&Module, usize> =
            nodes.iter().enumerate().map(|(i, m)| (m, i)).collect();
        let adj: Vec<Vec<usize>> = nodes
            .iter()
            .map(|m| {
                level
                    .get(m)
                    .map(|t| t.keys().map(|k| index_of[k]).collect())
                    .unwrap_or_default()
            })
            .collect();
        for scc in tarjan(&adj).into_iter().filter(|c| c.len() > 1) {
            let set: BTreeSet<usize> = scc.iter().copied().collect();
            let mut names: Vec<String> = scc.iter().map(|&i| name(&nodes[i])).collect();
            names.sort();
            if !seen.insert(names.clone()) {
                continue;
            }
            let mut report = format!("cycle: {}", names.join(" ↔ "));
            for &a in &scc {
                for (b, wheres) in level.get(&nodes[a]).into_iter().flatten() {
                    if set.contains(&index_of[b]) {
                        let mut w = wheres.clone();
                        w.dedup();
                        report.push_str(&format!(
                            "\n    {} → {} ({})",
                            name(&nodes[a]),
                            name(b),
                            w.join(", ")
                        ));
                    }
                }
            }
            out.push(report);
        }
    }
    out
}

fn tarjan(adj: &[Vec<usize>]) -> Vec<Vec<usize>> {
    struct S<'a> {
        adj: &'a [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn visit(s: &mut S<'_>, v: usize) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on[v] = true;
        for k in 0..s.adj[v].len() {
            let w = s.adj[v][k];
            match s.index[w] {
                None => {
                    visit(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(iw) if s.on[w] => s.low[v] = s.low[v].min(iw),
                _ => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on[w] = false;
                comp.push(w);
                if w == v {
                    break;
                }
            }
            s.out.push(comp);
        }
    }
    let n = adj.len();
    let mut s = S {
        adj,
        index: vec![None; n],
        low: vec![0; n],
        on: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if s.index[v].is_none() {
            visit(&mut s, v);
        }
    }
    s.out
}

fn assert_layered(crate_dir: &str) {
    let cycles = module_cycles(&workspace().join(crate_dir).join("src"));
    assert!(
        cycles.is_empty(),
        "{crate_dir}/src has module cycles:\n{}",
        cycles.join("\n")
    );
}

#[test]
fn the_checker_finds_a_cycle_and_ignores_parents_and_tests() {
    let dir = std::env::temp_dir().join(format!("rustok-layering-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("a")).unwrap();
    std::fs::write(
        dir.join("lib.rs"),
        "mod a; mod b; mod c;\npub use crate::a::x; // crate::c in a comment\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("a/mod.rs"),
        "pub mod x;\nuse super::b::{B, self};\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("a/x.rs"),
        "use super::super::a as _; fn f() { super::y(); }\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("b.rs"),
        "pub struct B;\nfn g() -> crate::a::x::X { todo!() }\n#[cfg(test)]\nmod tests {\n    use crate::c::C;\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("c.rs"),
        "use crate::b;\nconst S: &str = \"crate::a\";\n",
    )
    .unwrap();
    let cycles = module_cycles(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    // a ↔ b (a names b, b names a::x); c → b only (its test module and string do not count).
    assert_eq!(cycles.len(), 1, "{cycles:?}");
    assert!(cycles[0].starts_with("cycle: a ↔ b"), "{}", cycles[0]);
    assert!(cycles[0].contains("a → b (a/mod.rs:2)"), "{}", cycles[0]);
    assert!(cycles[0].contains("b → a (b.rs:2)"), "{}", cycles[0]);
    assert!(!cycles[0].contains("c.rs"), "{}", cycles[0]);
}

#[test]
fn store_modules_are_layered() {
    assert_layered("store");
}

#[test]
fn binary_modules_are_layered() {
    assert_layered(".");
}
