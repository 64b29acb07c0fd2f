//! Loads every schema of a revision into a descriptor pool, and finds services in them. [`load`] reads
//! every kind of source (files, reflection: I/O); [`Pools::embedded`] only the sources a document
//! carries inline, without any.

use std::path::Path;
use std::time::Duration;

use api_model::{Config, Schema};
use base64::Engine as _;
use prost_reflect::{DescriptorPool, ServiceDescriptor};

use super::{BuildContext, BuildError};

/// How long one reflection pull may take before the revision is refused.
const REFLECTION_TIMEOUT: Duration = Duration::from_secs(10);

/// The schemas of one revision, by name, in declaration order.
pub struct Pools {
    pools: Vec<(String, DescriptorPool)>,
}

impl Pools {
    /// The service in the named schema, or in the first schema that has it.
    pub fn service(
        &self,
        schema: Option<&str>,
        service: &str,
    ) -> Result<ServiceDescriptor, String> {
        let candidates = self
            .pools
            .iter()
            .filter(|(name, _)| schema.is_none_or(|wanted| wanted == name));
        for (_, pool) in candidates {
            if let Some(found) = pool.get_service_by_name(service) {
                return Ok(found);
            }
        }
        Err(match schema {
            Some(schema) => format!("service `{service}` is not in schema `{schema}`"),
            None => format!("service `{service}` is in no schema"),
        })
    }
}

impl Pools {
    /// The pools of the sources the document itself holds (`descriptor_set_base64`); any other source
    /// is a problem, since reading it would be I/O.
    pub fn embedded(config: &Config) -> Result<Pools, BuildError> {
        let mut pools = Vec::with_capacity(config.schemas.len());
        let mut problems = Vec::new();
        for schema in &config.schemas {
            let decoded = match &schema.descriptor_set_base64 {
                Some(encoded) => decode_embedded(encoded),
                None => Err("only an embedded descriptor_set_base64 can be checked without reading files or dialling backends".into()),
            };
            match decoded {
                Ok(pool) => pools.push((schema.name.clone(), pool)),
                Err(problem) => problems.push(format!("schema `{}`: {problem}", schema.name)),
            }
        }
        if problems.is_empty() {
            Ok(Pools { pools })
        } else {
            Err(BuildError { problems })
        }
    }
}

pub async fn load(config: &Config, context: &BuildContext) -> Result<Pools, BuildError> {
    let mut pools = Vec::with_capacity(config.schemas.len());
    let mut problems = Vec::new();
    for schema in &config.schemas {
        match load_one(config, schema, context).await {
            Ok(pool) => {
                pools.push((schema.name.clone(), pool));
            }
            Err(problem) => problems.push(format!("schema `{}`: {problem}", schema.name)),
        }
    }
    if problems.is_empty() {
        Ok(Pools { pools })
    } else {
        Err(BuildError { problems })
    }
}

async fn load_one(
    config: &Config,
    schema: &Schema,
    context: &BuildContext,
) -> Result<DescriptorPool, String> {
    if let Some(proto) = &schema.proto {
        let imports: Vec<_> = proto
            .import_paths
            .iter()
            .map(|p| resolve(&context.base_dir, p))
            .collect();
        let imports = if imports.is_empty() {
            vec![context.base_dir.clone()]
        } else {
            imports
        };
        let files = proto.files.clone();
        // Compiling is CPU work; keep it off the runtime's worker threads.
        return tokio::task::spawn_blocking(move || {
            proto_registry::compile_files(&files, &imports)
        })
        .await
        .map_err(|err| format!("compiler task failed: {err}"))?
        .map_err(|err| err.to_string());
    }
    if let Some(path) = &schema.descriptor_set {
        let path = resolve(&context.base_dir, path);
        let bytes = tokio::fs::read(&path)
            .await
            .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
        return proto_registry::decode_descriptor_set(&bytes).map_err(|err| err.to_string());
    }
    if let Some(encoded) = &schema.descriptor_set_base64 {
        return decode_embedded(encoded);
    }
    if let Some(reflection) = &schema.reflection {
        let backend = config
            .backend(&reflection.backend)
            .ok_or_else(|| format!("backend `{}` is not defined", reflection.backend))?;
        let channel = context.channels.channel(backend).await?;
        return proto_registry::fetch_by_reflection(
            channel,
            &reflection.services,
            REFLECTION_TIMEOUT,
        )
        .await
        .map_err(|err| format!("reflection from backend `{}`: {err}", backend.name));
    }
    Err("no source set".into())
}

fn decode_embedded(encoded: &str) -> Result<DescriptorPool, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|err| format!("descriptor_set_base64 is not base64: {err}"))?;
    proto_registry::decode_descriptor_set(&bytes).map_err(|err| err.to_string())
}

fn resolve(base: &Path, path: &str) -> std::path::PathBuf {
    let path = Path::new(path);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}

impl From<String> for BuildError {
    fn from(problem: String) -> Self {
        BuildError::one(problem)
    }
}
