//! Binary FileDescriptorSets in, a linked pool out; missing built-in imports are topped up from our own.

use std::collections::HashSet;

use prost::Message;
use prost_reflect::{DescriptorError, DescriptorPool};

use crate::builtin::builtin_pool;
use crate::error::{SchemaError, describe_descriptor_error};

/// A binary google.protobuf.FileDescriptorSet (protoc --include_imports -o). If it lacks built-in files
/// (google/api/*.proto, google/rpc/*.proto, well-known types) but references them, ours are added so the
/// pool resolves. Malformed bytes give a [`SchemaError`], never a panic.
pub fn decode_descriptor_set(bytes: &[u8]) -> Result<DescriptorPool, SchemaError> {
    let set = FileDescriptorSet::decode(bytes).map_err(SchemaError::descriptor_set)?;
    if set.file.is_empty() {
        // Also what most random bytes decode to: a message made only of unknown fields.
        return Err(SchemaError::descriptor_set("contains no files"));
    }
    let files = set
        .file
        .into_iter()
        .enumerate()
        .map(|(index, bytes)| {
            RawFile::decode(bytes)
                .map_err(|err| SchemaError::descriptor_set(format!("file #{index}: {err}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    link(files).map_err(|err| SchemaError::descriptor_set(describe_descriptor_error(&err)))
}

/// One FileDescriptorProto kept as the bytes it arrived in. Decoding it into `prost_types` would drop
/// extension options such as google.api.http, so only the few fields we route on are read.
#[derive(Debug)]
pub(crate) struct RawFile {
    pub(crate) name: String,
    pub(crate) dependencies: Vec<String>,
    /// Fully qualified names of the services the file defines.
    pub(crate) services: Vec<String>,
    pub(crate) bytes: Vec<u8>,
}

impl RawFile {
    pub(crate) fn decode(bytes: Vec<u8>) -> Result<Self, String> {
        let header =
            FileDescriptorProto::decode(bytes.as_slice()).map_err(|err| err.to_string())?;
        let name = header
            .name
            .filter(|name| !name.is_empty())
            .ok_or("a file has no name")?;
        let package = header.package.unwrap_or_default();
        let services = header
            .service
            .into_iter()
            .filter_map(|service| service.name)
            .map(|service| match package.as_str() {
                "" => service,
                package => format!("{package}.{service}"),
            })
            .collect();
        Ok(RawFile {
            name,
            dependencies: header.dependency,
            services,
            bytes,
        })
    }
}

/// Links files into a pool, first adding any built-in file they import (directly or not) but lack. One
/// piece of code for descriptor sets and reflection pulls, so both top up the same way.
pub(crate) fn link(files: Vec<RawFile>) -> Result<DescriptorPool, DescriptorError> {
    let mut present: HashSet<String> = files.iter().map(|file| file.name.clone()).collect();
    let mut wanted: Vec<String> = files
        .iter()
        .flat_map(|file| file.dependencies.iter().cloned())
        .collect();
    let mut set = FileDescriptorSet {
        file: files.into_iter().map(|file| file.bytes).collect(),
    };
    while let Some(name) = wanted.pop() {
        if present.contains(&name) {
            continue;
        }
        // A dependency that is neither present nor built in is left for prost-reflect to report.
        if let Some(builtin) = builtin_pool().get_file_by_name(&name) {
            wanted.extend(builtin.dependencies().map(|dep| dep.name().to_owned()));
            set.file.push(builtin.encode_to_vec());
            present.insert(name);
        }
    }
    // Decoding the set in one go lets prost-reflect order the files itself and keeps extension options.
    DescriptorPool::decode(set.encode_to_vec().as_slice())
}

/// google.protobuf.FileDescriptorSet with each file left encoded. These stand-ins are named after the
/// messages they read because prost puts the type name in its decode errors, which users see.
#[derive(Clone, PartialEq, Message)]
struct FileDescriptorSet {
    #[prost(bytes = "vec", repeated, tag = "1")]
    file: Vec<Vec<u8>>,
}

/// The fields of google.protobuf.FileDescriptorProto we read; prost skips the rest.
#[derive(Clone, PartialEq, Message)]
struct FileDescriptorProto {
    #[prost(string, optional, tag = "1")]
    name: Option<String>,
    #[prost(string, optional, tag = "2")]
    package: Option<String>,
    #[prost(string, repeated, tag = "3")]
    dependency: Vec<String>,
    #[prost(message, repeated, tag = "6")]
    service: Vec<ServiceDescriptorProto>,
}

/// The one field of google.protobuf.ServiceDescriptorProto we read.
#[derive(Clone, PartialEq, Message)]
struct ServiceDescriptorProto {
    #[prost(string, optional, tag = "1")]
    name: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::compile_sources;
    use crate::compile::tests::{http_get, shop_sources};

    fn shop_pool() -> DescriptorPool {
        compile_sources(&shop_sources(), &["shop/v1/service.proto".into()]).unwrap()
    }

    fn service_names(pool: &DescriptorPool) -> Vec<String> {
        let mut names: Vec<_> = pool.services().map(|s| s.full_name().to_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn a_full_set_round_trips_with_its_http_options() {
        let pool = shop_pool();
        let decoded = decode_descriptor_set(&pool.encode_to_vec()).unwrap();
        assert_eq!(service_names(&decoded), service_names(&pool));
        assert_eq!(service_names(&decoded), ["shop.v1.ShopService"]);
        assert_eq!(
            http_get(&decoded, "shop.v1.ShopService", "GetItem").as_deref(),
            Some("/v1/items/{id}")
        );
    }

    #[test]
    fn a_set_without_google_files_gets_the_builtins() {
        let pool = shop_pool();
        // As protoc writes it without --include_imports: only our two files, no google/*.
        let set = FileDescriptorSet {
            file: ["shop/v1/types.proto", "shop/v1/service.proto"]
                .iter()
                .map(|name| pool.get_file_by_name(name).unwrap().encode_to_vec())
                .collect(),
        };
        let decoded = decode_descriptor_set(&set.encode_to_vec()).unwrap();
        assert_eq!(
            http_get(&decoded, "shop.v1.ShopService", "GetItem").as_deref(),
            Some("/v1/items/{id}")
        );
        assert!(decoded.get_file_by_name("google/api/http.proto").is_some());
    }

    #[test]
    fn a_missing_import_that_is_not_builtin_names_the_file() {
        let pool = shop_pool();
        let set = FileDescriptorSet {
            file: vec![
                pool.get_file_by_name("shop/v1/service.proto")
                    .unwrap()
                    .encode_to_vec(),
            ],
        };
        let err = decode_descriptor_set(&set.encode_to_vec()).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("descriptor set: "), "{text}");
        assert!(text.contains("shop/v1/types.proto"), "{text}");
    }

    #[test]
    fn garbage_empty_and_truncated_bytes_are_errors() {
        for bytes in [&b"not a descriptor set at all"[..], &[0xff; 16], &[]] {
            let err = decode_descriptor_set(bytes).unwrap_err();
            assert!(matches!(err, SchemaError::DescriptorSet { .. }), "{err}");
        }
        let encoded = shop_pool().encode_to_vec();
        for cut in [1, encoded.len() / 3, encoded.len() / 2, encoded.len() - 1] {
            assert!(
                decode_descriptor_set(&encoded[..cut]).is_err(),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn corrupted_bytes_never_panic() {
        let encoded = shop_pool().encode_to_vec();
        // xorshift: deterministic, so a failure reproduces.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..500 {
            let mut bytes = encoded.clone();
            for _ in 0..1 + next() % 4 {
                let at = (next() % bytes.len() as u64) as usize;
                bytes[at] = next() as u8;
            }
            let cut = (next() % bytes.len() as u64) as usize;
            let _ = decode_descriptor_set(&bytes[..=cut]);
        }
    }
}
