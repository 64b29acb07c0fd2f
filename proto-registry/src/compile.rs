//! Compile .proto sources in process (protox), from disk or from memory, with the built-ins importable.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use miette::Diagnostic;
use prost_reflect::DescriptorPool;
use protox::file::{ChainFileResolver, File, FileResolver, IncludeFileResolver};

use crate::builtin_files::BuiltinResolver;
use crate::error::{SchemaError, one_line};

/// Compile .proto files from disk, resolving imports against `import_paths` (relative paths are taken as
/// given), plus the built-in files (see [`crate::builtin_pool`]). A file on disk with the same name as a
/// built-in one wins. `files` are names relative to an import path (like protoc), but a path that exists as
/// given and lies under one of the import paths is accepted too.
pub fn compile_files(
    files: &[String],
    import_paths: &[PathBuf],
) -> Result<DescriptorPool, SchemaError> {
    let names = files
        .iter()
        .map(|file| name_on_disk(file, import_paths))
        .collect::<Result<Vec<_>, _>>()?;
    let mut chain = ChainFileResolver::new();
    for path in import_paths {
        chain.add(IncludeFileResolver::new(path.clone()));
    }
    chain.add(BuiltinResolver::new());
    compile_names(chain, &names)
}

/// Compile in-memory sources (name -> text), e.g. a portal upload of several files importing each other.
/// `files` names which of them to compile (all others are importable only). Built-ins as in
/// [`compile_files`]; an uploaded file of the same name as a built-in one wins.
pub fn compile_sources(
    sources: &[(String, String)],
    files: &[String],
) -> Result<DescriptorPool, SchemaError> {
    let mut by_name = HashMap::with_capacity(sources.len());
    for (name, text) in sources {
        if by_name.insert(name.clone(), text.clone()).is_some() {
            return Err(SchemaError::compile(name, "uploaded more than once"));
        }
    }
    if let Some(missing) = files.iter().find(|file| !by_name.contains_key(*file)) {
        return Err(SchemaError::compile(
            missing,
            "not among the uploaded sources",
        ));
    }
    let mut chain = ChainFileResolver::new();
    chain.add(MemoryResolver(by_name));
    chain.add(BuiltinResolver::new());
    compile_names(chain, files)
}

/// The one place protox runs: every entry point above (and the built-in pool) ends here.
pub(crate) fn compile_names(
    resolver: impl FileResolver + 'static,
    names: &[String],
) -> Result<DescriptorPool, SchemaError> {
    if names.is_empty() {
        return Err(SchemaError::NoFiles);
    }
    let mut compiler = protox::Compiler::with_file_resolver(ByNameOnly(resolver));
    for name in names {
        compiler
            .open_file(name)
            .map_err(|err| from_protox(&err, name))?;
    }
    Ok(compiler.descriptor_pool())
}

/// Turns a `files` entry into a protoc-style name. A path that exists as given and lies under an import
/// path becomes its name relative to that import path; anything else is taken to be a name already.
fn name_on_disk(file: &str, import_paths: &[PathBuf]) -> Result<String, SchemaError> {
    let path = Path::new(file);
    if path.is_file()
        && let Some(name) = import_paths
            .iter()
            .find_map(|import| relative_name_under(path, import))
    {
        return Ok(name);
    }
    let Some(name) = relative_name(path) else {
        return Err(SchemaError::compile(file, "not under any import path"));
    };
    let found = import_paths
        .iter()
        .any(|import| import.join(&name).is_file())
        || crate::builtin_pool().get_file_by_name(&name).is_some();
    if !found {
        let searched = import_paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        return Err(SchemaError::compile(
            file,
            format!("not found under any import path ({searched})"),
        ));
    }
    Ok(name)
}

/// Compares lexically first (cheap, keeps relative paths as given) and falls back to canonical paths so
/// that e.g. an absolute file under a relative import path is still recognised.
fn relative_name_under(path: &Path, import: &Path) -> Option<String> {
    let lexical = strip_prefix(path, import).and_then(|rest| relative_name(&rest));
    lexical.or_else(|| {
        let path = path.canonicalize().ok()?;
        let import = import.canonicalize().ok()?;
        relative_name(path.strip_prefix(import).ok()?)
    })
}

fn strip_prefix(path: &Path, prefix: &Path) -> Option<PathBuf> {
    let path = significant(path);
    let rest = path.strip_prefix(significant(prefix).as_slice())?;
    Some(rest.iter().collect())
}

/// `./a/./b` and `a/b` are the same place; leave out the `.`s so they compare equal.
fn significant(path: &Path) -> Vec<Component<'_>> {
    path.components()
        .filter(|c| *c != Component::CurDir)
        .collect()
}

/// A protoc file name: forward slashes, no `.`/`..`, not absolute.
fn relative_name(path: &Path) -> Option<String> {
    let mut parts = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_str()?),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

fn from_protox(err: &protox::Error, requested: &str) -> SchemaError {
    let (line, column) = location(err).unzip();
    SchemaError::Compile {
        file: err.file().unwrap_or(requested).to_owned(),
        line,
        column,
        message: one_line(err),
    }
}

/// protox only exposes where an error is through its miette diagnostic: the first label's span.
fn location(err: &protox::Error) -> Option<(usize, usize)> {
    let label = err.labels()?.next()?;
    let contents = err.source_code()?.read_span(label.inner(), 0, 0).ok()?;
    Some((contents.line() + 1, contents.column() + 1))
}

/// Resolves names only. protox would otherwise map a name that happens to start with an import path onto
/// a shorter name (`foo/bar.proto` under import path `foo` becoming `bar.proto`); we did that mapping
/// ourselves, only for paths that exist as given.
struct ByNameOnly<R>(R);

impl<R: FileResolver> FileResolver for ByNameOnly<R> {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        self.0.open_file(name)
    }
}

struct MemoryResolver(HashMap<String, String>);

impl FileResolver for MemoryResolver {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        match self.0.get(name) {
            Some(source) => File::from_source(name, source),
            None => Err(protox::Error::file_not_found(name)),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use prost_reflect::Value;

    /// A shop service split over two files, bound to HTTP with google.api.http.
    pub(crate) const TYPES: &str = r#"
        syntax = "proto3";
        package shop.v1;
        message Item { string id = 1; string name = 2; }
        message GetItemRequest { string id = 1; }
    "#;
    pub(crate) const SERVICE: &str = r#"
        syntax = "proto3";
        package shop.v1;
        import "google/api/annotations.proto";
        import "shop/v1/types.proto";
        service ShopService {
          rpc GetItem(GetItemRequest) returns (Item) {
            option (google.api.http) = { get: "/v1/items/{id}" };
          }
        }
    "#;

    pub(crate) fn shop_sources() -> Vec<(String, String)> {
        vec![
            ("shop/v1/types.proto".into(), TYPES.into()),
            ("shop/v1/service.proto".into(), SERVICE.into()),
        ]
    }

    /// The `get` path of a method's google.api.http option, read the way the gateway will read it.
    pub(crate) fn http_get(pool: &DescriptorPool, service: &str, method: &str) -> Option<String> {
        let method = pool
            .get_service_by_name(service)?
            .methods()
            .find(|m| m.name() == method)?;
        let http = pool.get_extension_by_name("google.api.http")?;
        let options = method.options();
        let rule = options.get_extension(&http);
        let Value::Message(rule) = rule.as_ref() else {
            return None;
        };
        rule.get_field_by_name("get")?.as_str().map(str::to_owned)
    }

    /// A scratch directory removed on drop; std only, to keep the dev-dependencies small.
    pub(crate) struct Scratch(pub(crate) PathBuf);

    impl Scratch {
        pub(crate) fn new(label: &str) -> Self {
            let dir = std::env::temp_dir().join(format!(
                "proto-registry-{label}-{}-{:?}",
                std::process::id(),
                std::thread::current().id()
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }

        pub(crate) fn import_paths(&self) -> Vec<PathBuf> {
            vec![self.0.clone()]
        }

        pub(crate) fn write(&self, name: &str, text: &str) {
            let path = self.0.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn files_on_disk_import_each_other_and_google_api() {
        let dir = Scratch::new("two-files");
        for (name, text) in shop_sources() {
            dir.write(&name, &text);
        }
        let pool = compile_files(&["shop/v1/service.proto".into()], &dir.import_paths()).unwrap();
        assert_eq!(
            http_get(&pool, "shop.v1.ShopService", "GetItem").as_deref(),
            Some("/v1/items/{id}")
        );
        assert!(pool.get_message_by_name("shop.v1.Item").is_some());
    }

    #[test]
    fn a_path_under_an_import_path_is_accepted_as_given() {
        let dir = Scratch::new("as-given");
        for (name, text) in shop_sources() {
            dir.write(&name, &text);
        }
        let given = dir.0.join("shop/v1/service.proto").display().to_string();
        let pool = compile_files(&[given], &dir.import_paths()).unwrap();
        // Named relative to the import path, so that the import of types.proto resolves to the same file.
        assert!(pool.get_file_by_name("shop/v1/service.proto").is_some());
        assert!(pool.get_service_by_name("shop.v1.ShopService").is_some());
    }

    #[test]
    fn a_file_on_disk_shadows_the_builtin_of_the_same_name() {
        let dir = Scratch::new("shadow");
        dir.write(
            "google/rpc/status.proto",
            "syntax = \"proto3\"; package google.rpc; message Status { string ours = 1; }",
        );
        dir.write(
            "uses.proto",
            "syntax = \"proto3\"; import \"google/rpc/status.proto\"; message Uses { google.rpc.Status s = 1; }",
        );
        let pool = compile_files(&["uses.proto".into()], &dir.import_paths()).unwrap();
        let status = pool.get_message_by_name("google.rpc.Status").unwrap();
        assert!(status.get_field_by_name("ours").is_some());
        assert!(status.get_field_by_name("code").is_none());
    }

    #[test]
    fn a_syntax_error_names_the_file_and_line() {
        let dir = Scratch::new("syntax");
        dir.write(
            "broken.proto",
            "syntax = \"proto3\";\nmessage Broken {\n  string id = ;\n}\n",
        );
        let err = compile_files(&["broken.proto".into()], &dir.import_paths()).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("broken.proto:3:"), "{text}");
        assert!(!text.contains('\n'), "{text}");
    }

    #[test]
    fn a_missing_import_names_the_importing_file_and_the_import() {
        let sources = vec![(
            "app.proto".to_string(),
            "syntax = \"proto3\";\nimport \"nowhere/missing.proto\";\n".to_string(),
        )];
        let err = compile_sources(&sources, &["app.proto".into()]).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("app.proto:2:"), "{text}");
        assert!(text.contains("nowhere/missing.proto"), "{text}");
    }

    #[test]
    fn a_type_error_names_the_file() {
        let sources = vec![(
            "app.proto".to_string(),
            "syntax = \"proto3\";\nmessage A {\n  Unknown u = 1;\n}\n".to_string(),
        )];
        let err = compile_sources(&sources, &["app.proto".into()]).unwrap_err();
        assert!(err.to_string().starts_with("app.proto:3:"), "{err}");
    }

    #[test]
    fn a_file_missing_from_disk_is_reported_by_name() {
        let dir = Scratch::new("missing");
        let err = compile_files(&["absent.proto".into()], &dir.import_paths()).unwrap_err();
        assert!(
            err.to_string().starts_with("absent.proto: not found"),
            "{err}"
        );
    }

    #[test]
    fn sources_in_memory_compile_with_builtins() {
        let mut sources = shop_sources();
        sources.push((
            "errors.proto".into(),
            "syntax = \"proto3\"; import \"google/rpc/error_details.proto\"; \
             message Oops { google.rpc.BadRequest bad = 1; }"
                .into(),
        ));
        let files = ["shop/v1/service.proto".into(), "errors.proto".into()];
        let pool = compile_sources(&sources, &files).unwrap();
        assert_eq!(
            http_get(&pool, "shop.v1.ShopService", "GetItem").as_deref(),
            Some("/v1/items/{id}")
        );
        assert!(pool.get_message_by_name("Oops").is_some());
    }

    #[test]
    fn compile_sources_rejects_unknown_and_empty_requests() {
        let err = compile_sources(&shop_sources(), &["other.proto".into()]).unwrap_err();
        assert!(err.to_string().starts_with("other.proto: "), "{err}");
        assert!(matches!(
            compile_sources(&shop_sources(), &[]),
            Err(SchemaError::NoFiles)
        ));
    }
}
