//! Compiles `proto/` in process with protox (no `protoc`), keeps the encoded descriptor set for reflection
//! and the gateway, and generates the tonic clients and servers from it.

use std::path::PathBuf;

use prost::Message;

const PROTOS: &[&str] = &[
    "demo/bookstore/v1/bookstore.proto",
    "demo/echo/v1/echo.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    let includes = [
        manifest_dir.join("proto"),
        manifest_dir.join("../proto-registry/include"),
    ];
    for dir in &includes {
        println!("cargo:rerun-if-changed={}", dir.display());
    }

    let mut compiler = protox::Compiler::new(&includes)?;
    compiler.include_imports(true).include_source_info(true);
    compiler.open_files(PROTOS)?;
    // The encoded form keeps extension options such as `google.api.http`, which the typed
    // `prost_types` form drops; reflection and the gateway need them.
    let encoded = compiler.encode_file_descriptor_set();
    std::fs::write(out_dir.join("demo_descriptor.bin"), &encoded)?;

    let fds = prost_types::FileDescriptorSet::decode(encoded.as_slice())?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(fds)?;
    Ok(())
}
