//! Embeds every file under `ui/` into the binary (see `src/ui.rs`), so the portal is one file to deploy.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            // A file added to a nested folder changes that folder, not `ui/` itself.
            println!("cargo:rerun-if-changed={}", path.display());
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let ui = manifest.join("ui");
    println!("cargo:rerun-if-changed={}", ui.display());
    let mut files = Vec::new();
    walk(&ui, &mut files);
    files.sort();
    let mut code =
        String::from("/// (path under ui/, bytes)\npub static UI_FILES: &[(&str, &[u8])] = &[\n");
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
        let Ok(relative) = file.strip_prefix(&ui) else {
            continue;
        };
        let name = relative.to_string_lossy().replace('\\', "/");
        let _ = writeln!(
            code,
            "    ({name:?}, include_bytes!({:?})),",
            file.display().to_string()
        );
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("ui_files.rs");
    if let Err(err) = std::fs::write(&out, code) {
        panic!("writing {}: {err}", out.display());
    }
}
