//! The built-in .proto files (google.api, google.rpc, the protobuf well-known types) and the resolver that
//! serves them to the compiler, last in every chain.

use protox::file::{File, FileResolver, GoogleFileResolver};

/// Our own .proto sources, compiled into the binary so a deployment needs no include directory.
pub(crate) const EMBEDDED: &[(&str, &str)] = &[
    (
        "google/api/http.proto",
        include_str!("../include/google/api/http.proto"),
    ),
    (
        "google/api/annotations.proto",
        include_str!("../include/google/api/annotations.proto"),
    ),
    (
        "google/rpc/code.proto",
        include_str!("../include/google/rpc/code.proto"),
    ),
    (
        "google/rpc/status.proto",
        include_str!("../include/google/rpc/status.proto"),
    ),
    (
        "google/rpc/error_details.proto",
        include_str!("../include/google/rpc/error_details.proto"),
    ),
];

/// The well-known types protox ships; listed so the built-in pool holds all of them, not just those our
/// embedded files happen to import.
pub(crate) const WELL_KNOWN: &[&str] = &[
    "google/protobuf/any.proto",
    "google/protobuf/api.proto",
    "google/protobuf/descriptor.proto",
    "google/protobuf/duration.proto",
    "google/protobuf/empty.proto",
    "google/protobuf/field_mask.proto",
    "google/protobuf/source_context.proto",
    "google/protobuf/struct.proto",
    "google/protobuf/timestamp.proto",
    "google/protobuf/type.proto",
    "google/protobuf/wrappers.proto",
];

/// Resolves imports of built-in files. Placed last in every resolver chain, so a file of the same name on
/// disk or among uploaded sources wins.
#[derive(Debug)]
pub(crate) struct BuiltinResolver {
    well_known: GoogleFileResolver,
}

impl BuiltinResolver {
    pub(crate) fn new() -> Self {
        // Not `GoogleFileResolver::default()`: that holds an empty pool, and protox panics when asked
        // for a well-known file it then cannot find.
        BuiltinResolver {
            well_known: GoogleFileResolver::new(),
        }
    }
}

impl FileResolver for BuiltinResolver {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        match EMBEDDED.iter().find(|(embedded, _)| *embedded == name) {
            Some((name, source)) => File::from_source(name, source),
            None => self.well_known.open_file(name),
        }
    }
}
