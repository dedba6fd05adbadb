//! The floor plan, checked: every import in `src/` (a `use crate::` or
//! `use super::` line, or an inline `crate::` path) points down the floors
//! below, no files import each other in a circle, and no file passes 400
//! lines. It reads the source, so it fails on the commit that breaks it.
//!
//! Floors, top to bottom (see the README's "Layout"):
//! main, cli, testing -> app -> routes, catchers -> web -> services -> state
//! -> auth, mail, db -> config -> domain, error. Files of one floor may
//! import each other, as long as no circle forms. `lib.rs` is the crate's
//! public face: it re-exports, and nothing in `src/` imports it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 400;

/// The floor of a top-level module (higher imports lower).
fn floor(top: &str) -> Option<u8> {
    Some(match top {
        "main" | "cli" | "testing" | "logging" => 9,
        "app" => 8,
        "routes" | "catchers" => 7,
        "web" => 6,
        "services" => 5,
        "state" => 4,
        "auth" | "mail" | "db" => 3,
        "config" => 2,
        "domain" | "error" | "metrics" => 1,
        _ => return None,
    })
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A file's module path: `src/web/guards.rs` -> `["web", "guards"]`,
/// `src/web/mod.rs` -> `["web"]`, `src/lib.rs` -> `[]`.
fn module_of(file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src()).unwrap();
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if !matches!(stem, "mod" | "lib") {
        parts.push(stem.to_owned());
    }
    parts
}

/// The file a module path lands in: the longest prefix that is a file.
fn file_of(path: &[String], files: &BTreeSet<Vec<String>>) -> Option<Vec<String>> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|p| files.contains(p))
}

/// `a::{b, c::{d, e}}` -> `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        return vec![tree.split(" as ").next().unwrap().trim().to_owned()];
    };
    let prefix = tree[..open].trim_end_matches("::");
    let inner = &tree[open + 1..tree.rfind('}').unwrap()];
    let (mut items, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&inner[start..]);
    items
        .into_iter()
        .filter(|i| !i.trim().is_empty())
        .flat_map(expand)
        .map(|rest| {
            if rest == "self" {
                prefix.to_owned()
            } else {
                format!("{prefix}::{rest}")
            }
        })
        .collect()
}

/// The module paths a file's code (not its tests) refers to.
fn imports(file: &Path, module: &[String]) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(file).unwrap();
    let code: String = text
        .split("#[cfg(test)]")
        .next()
        .unwrap()
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut paths = Vec::new();
    // `use` statements (at the start of a line; they may span lines).
    let mut statements = Vec::new();
    let mut current: Option<String> = None;
    for line in code.lines() {
        let trimmed = line.trim_start();
        if current.is_none() {
            let visibility = ["pub(crate) ", "pub(super) ", "pub ", ""];
            let start = visibility
                .iter()
                .find_map(|v| trimmed.strip_prefix(v)?.strip_prefix("use "));
            current = start.map(str::to_owned);
        } else if let Some(stmt) = current.as_mut() {
            stmt.push(' ');
            stmt.push_str(trimmed);
        }
        if current.as_ref().is_some_and(|s| s.contains(';')) {
            let stmt = current.take().unwrap();
            statements.push(stmt[..stmt.find(';').unwrap()].to_owned());
        }
    }
    for tree in statements {
        for path in expand(&tree) {
            let parts: Vec<&str> = path.split("::").map(str::trim).collect();
            let resolved: Option<Vec<String>> = match parts[0] {
                "crate" => Some(parts[1..].iter().map(|s| s.to_string()).collect()),
                "super" => {
                    let mut base = module.to_vec();
                    let mut rest = &parts[..];
                    while rest.first() == Some(&"super") {
                        base.pop();
                        rest = &rest[1..];
                    }
                    base.extend(rest.iter().map(|s| s.to_string()));
                    Some(base)
                }
                _ => None,
            };
            paths.extend(resolved);
        }
    }
    // Inline `crate::a::b` paths (not `$crate`, a macro's).
    let bytes = code.as_bytes();
    for (i, _) in code.match_indices("crate::") {
        if i > 0 && (bytes[i - 1] == b'$' || bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_') {
            continue;
        }
        let rest = &code[i + "crate::".len()..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(rest.len());
        let path: Vec<String> = rest[..end]
            .split("::")
            .filter(|s| !s.is_empty() && s.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
            .map(str::to_owned)
            .collect();
        if !path.is_empty() {
            paths.push(path);
        }
    }
    paths
}

struct House {
    /// File (as module path) -> the files it imports.
    arrows: BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
    lines: BTreeMap<Vec<String>, usize>,
}

fn house() -> House {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(f)).collect();
    let mut arrows = BTreeMap::new();
    let mut lines = BTreeMap::new();
    for file in &files {
        let module = module_of(file);
        lines.insert(
            module.clone(),
            std::fs::read_to_string(file).unwrap().lines().count(),
        );
        let targets: BTreeSet<Vec<String>> = imports(file, &module)
            .iter()
            .filter_map(|p| file_of(p, &modules))
            .filter(|t| *t != module)
            .collect();
        arrows.insert(module, targets);
    }
    House { arrows, lines }
}

fn name(module: &[String]) -> String {
    if module.is_empty() {
        "lib.rs".into()
    } else {
        module.join("::")
    }
}

#[test]
fn imports_point_down_the_floors() {
    let house = house();
    let mut wrong = Vec::new();
    for (from, targets) in &house.arrows {
        // The binary and the crate root stand above everything.
        if from.is_empty() || from[0] == "main" {
            continue;
        }
        for to in targets {
            if to.is_empty() {
                wrong.push(format!(
                    "{} imports lib.rs (use the module's own path)",
                    name(from)
                ));
                continue;
            }
            let (Some(a), Some(b)) = (floor(&from[0]), floor(&to[0])) else {
                wrong.push(format!(
                    "{} or {} has no floor: add it to `floor()`",
                    name(from),
                    name(to)
                ));
                continue;
            };
            if b > a {
                wrong.push(format!(
                    "{} (floor {a}) imports {} (floor {b}), above it",
                    name(from),
                    name(to)
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that run back up:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_files_import_each_other_in_a_circle() {
    let house = house();
    // A file is in a circle when it can reach itself.
    let mut circles = BTreeSet::new();
    for start in house.arrows.keys() {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<Vec<String>> = house.arrows[start].iter().cloned().collect();
        while let Some(next) = stack.pop() {
            if &next == start {
                circles.insert(name(start));
                break;
            }
            if seen.insert(next.clone()) {
                stack.extend(house.arrows.get(&next).into_iter().flatten().cloned());
            }
        }
    }
    assert!(
        circles.is_empty(),
        "these files import each other in a circle: {circles:?}"
    );
}

#[test]
fn no_file_is_over_400_lines() {
    let house = house();
    let long: Vec<String> = house
        .lines
        .iter()
        .filter(|(_, n)| **n > MAX_LINES)
        .map(|(m, n)| format!("{} ({n} lines)", name(m)))
        .collect();
    assert!(long.is_empty(), "split these along a seam: {long:?}");
}

#[test]
fn the_checker_reads_imports() {
    assert_eq!(
        expand("crate::web::{cookies, csrf::{self, CsrfForm}}"),
        [
            "crate::web::cookies",
            "crate::web::csrf",
            "crate::web::csrf::CsrfForm"
        ]
    );
    // It sees this house's own arrows, so it can fail.
    let house = house();
    let routes_api = vec!["routes".to_owned(), "api".to_owned()];
    assert!(house.arrows[&routes_api].contains(&vec!["web".to_owned(), "json".to_owned()]));
    assert!(house.arrows[&vec!["app".to_owned()]].contains(&vec!["state".to_owned()]));
}
