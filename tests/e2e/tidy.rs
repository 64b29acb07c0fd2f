//! House rules that check themselves, run with every test: what ARCHITECTURE.md promises about the
//! layout holds in the code, or this module names the file that breaks it.
//!
//! - every Rust source file opens with a `//!` line saying what it is for;
//! - no file of gateway-web chooses an HTTP status outside `error.rs` (a success is `Reply`'s);
//! - no file of gateway-web touches `sqlx` outside the Postgres reload module;
//! - every path ARCHITECTURE.md's code map names exists;
//! - no source file is over 500 lines, not counting its tests.

use std::path::{Path, PathBuf};

/// Longest a source file may be, its `#[cfg(test)]` part and test-only files aside.
const MAX_LINES: usize = 500;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// Every `.rs` file of the workspace's crates, as (path relative to the root, text).
fn sources() -> Vec<(String, String)> {
    let root = root();
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = [
        "api-model",
        "dubbo-codec",
        "proto-registry",
        "gateway-web",
        "gateway-portal",
        "demo",
        "tests",
    ]
    .iter()
    .map(|crate_dir| root.join(crate_dir))
    .collect();
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().to_string();
            if path.is_dir() {
                if !matches!(name.as_str(), "target" | "node_modules" | "testdata")
                    && !name.starts_with('.')
                {
                    stack.push(path);
                }
            } else if name.ends_with(".rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let relative = path
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((relative, text));
            }
        }
    }
    out.sort();
    assert!(out.len() > 100, "found only {} source files", out.len());
    out
}

/// Test-only files: the integration crates, `tests/` folders and `tests.rs` modules.
fn is_test_file(path: &str) -> bool {
    path.starts_with("tests/")
        || path.contains("/tests/")
        || path.ends_with("/tests.rs")
        || path.contains("/ui-tests/")
}

/// The part of a file before its `#[cfg(test)]` module.
fn non_test_part(text: &str) -> &str {
    match text.find("\n#[cfg(test)]") {
        Some(at) => &text[..at],
        None => text,
    }
}

#[test]
fn every_source_file_says_what_it_is_for() {
    let undocumented: Vec<String> = sources()
        .into_iter()
        .filter(|(_, text)| !text.starts_with("//!"))
        .map(|(path, _)| path)
        .collect();
    assert!(
        undocumented.is_empty(),
        "files without a leading `//!` line: {undocumented:?}"
    );
}

#[test]
fn only_error_rs_chooses_an_http_status_in_the_data_plane() {
    let mut offenders = Vec::new();
    for (path, text) in sources() {
        if !path.starts_with("gateway-web/src/")
            || is_test_file(&path)
            || path == "gateway-web/src/error.rs"
        {
            continue;
        }
        for (number, line) in non_test_part(&text).lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            // A successful reply (200, or 204 for a preflight) is made in one place; every other status is an error's, chosen
            // by its kind in error.rs.
            let success = path == "gateway-web/src/access/reply.rs"
                && (code.contains("StatusCode::OK") || code.contains("StatusCode::NO_CONTENT"));
            let constructs = code.contains("StatusCode::") || code.contains("from_u16(");
            if constructs && !success {
                offenders.push(format!("{path}:{}: {}", number + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "HTTP statuses chosen outside error.rs:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn only_the_postgres_source_touches_the_database() {
    let offenders: Vec<String> = sources()
        .into_iter()
        .filter(|(path, text)| {
            path.starts_with("gateway-web/src/")
                && path != "gateway-web/src/reload/postgres.rs"
                && text.contains("sqlx")
        })
        .map(|(path, _)| path)
        .collect();
    assert!(
        offenders.is_empty(),
        "sqlx outside reload/postgres.rs: {offenders:?}"
    );
}

#[test]
fn no_source_file_is_over_500_lines() {
    let long: Vec<String> = sources()
        .into_iter()
        .filter(|(path, _)| !is_test_file(path))
        .filter_map(|(path, text)| {
            let lines = non_test_part(&text).lines().count();
            (lines > MAX_LINES).then(|| format!("{path}: {lines} lines"))
        })
        .collect();
    assert!(
        long.is_empty(),
        "split these (one concept per file): {long:?}"
    );
}

/// The code map names paths in backticks. A name is looked up in the folder (`name/`) the text last
/// named (a bullet starts afresh), then in the section's crate (`### \`gateway-web/\``) and its `src/`, then at
/// the root; `{a,b}` stands for both.
#[test]
fn every_path_the_code_map_names_exists() {
    let root = root();
    let text = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let map = text
        .split("## Code map")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("ARCHITECTURE.md has a `## Code map` section");
    let mut base = root.clone();
    let mut folder: Option<PathBuf> = None;
    let mut missing = Vec::new();
    let mut checked = 0;
    for line in map.lines() {
        if let Some(heading) = line.strip_prefix("### ") {
            let name = heading.trim().trim_matches('`').trim_end_matches('/');
            base = root.join(name);
            folder = None;
            continue;
        }
        if line.starts_with("- ") {
            folder = None;
        }
        for (i, token) in line.split('`').enumerate() {
            // Odd pieces are inside backticks.
            if i % 2 == 0 || !looks_like_path(token) {
                continue;
            }
            for path in expand(token) {
                checked += 1;
                let candidates = folder.iter().map(|f| f.join(&path)).chain([
                    base.join("src").join(&path),
                    base.join(&path),
                    root.join(&path),
                ]);
                let found = candidates.into_iter().find(|candidate| candidate.exists());
                match found {
                    Some(found) if path.ends_with('/') => folder = Some(found),
                    Some(_) => {}
                    None => missing.push(format!(
                        "{path} (in the {} section)",
                        base.strip_prefix(&root).unwrap_or(&base).display()
                    )),
                }
            }
        }
    }
    assert!(checked > 50, "the code map named only {checked} paths");
    assert!(
        missing.is_empty(),
        "the code map names paths that do not exist: {missing:?}"
    );
}

fn looks_like_path(token: &str) -> bool {
    !token.contains(' ')
        && !token.contains("::")
        && !token.starts_with('.')
        && (token.ends_with('/')
            || [
                ".rs", ".sql", ".py", ".sh", ".md", ".js", ".mjs", ".yaml", ".proto", ".java",
                ".html", ".css",
            ]
            .iter()
            .any(|ext| token.ends_with(ext)))
}

/// `a/{b,c}.rs` → `a/b.rs`, `a/c.rs` (one brace group).
fn expand(token: &str) -> Vec<String> {
    match (token.find('{'), token.find('}')) {
        (Some(open), Some(close)) if open < close => token[open + 1..close]
            .split(',')
            .map(|part| format!("{}{}{}", &token[..open], part, &token[close + 1..]))
            .collect(),
        _ => vec![token.to_string()],
    }
}
