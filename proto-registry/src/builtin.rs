//! The schemas every gateway knows without being told: google.api, google.rpc and the protobuf well-known types.

use std::sync::LazyLock;

use prost_reflect::DescriptorPool;

use crate::builtin_files::{BuiltinResolver, EMBEDDED, WELL_KNOWN};

/// The built-in pool (google.api, google.rpc incl. error_details, well-known types), built once.
pub fn builtin_pool() -> &'static DescriptorPool {
    static POOL: LazyLock<DescriptorPool> = LazyLock::new(build);
    &POOL
}

fn build() -> DescriptorPool {
    let names: Vec<String> = EMBEDDED
        .iter()
        .map(|(name, _)| *name)
        .chain(WELL_KNOWN.iter().copied())
        .map(str::to_owned)
        .collect();
    match crate::compile::compile_names(BuiltinResolver::new(), &names) {
        Ok(pool) => pool,
        Err(err) => {
            // Only a broken embedded file gets here, and the tests below compile them all; an empty pool
            // degrades to "import not found" errors rather than taking the process down.
            tracing::error!(%err, "built-in schemas failed to compile");
            DescriptorPool::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_pool_holds_every_builtin_file() {
        let pool = builtin_pool();
        for name in EMBEDDED
            .iter()
            .map(|(name, _)| *name)
            .chain(WELL_KNOWN.iter().copied())
        {
            assert!(pool.get_file_by_name(name).is_some(), "{name} missing");
        }
        for message in [
            "google.api.HttpRule",
            "google.rpc.Status",
            "google.rpc.BadRequest.FieldViolation",
            "google.rpc.QuotaFailure.Violation",
            "google.protobuf.Timestamp",
            "google.protobuf.FieldMask",
        ] {
            assert!(
                pool.get_message_by_name(message).is_some(),
                "{message} missing"
            );
        }
        assert!(pool.get_enum_by_name("google.rpc.Code").is_some());
        let http = pool.get_extension_by_name("google.api.http");
        assert_eq!(http.map(|ext| ext.number()), Some(72_295_728));
    }

    #[test]
    fn error_details_match_the_published_field_numbers() {
        let pool = builtin_pool();
        let numbers = |message: &str| -> Vec<(String, u32)> {
            pool.get_message_by_name(message)
                .map(|m| {
                    m.fields()
                        .map(|f| (f.name().to_owned(), f.number()))
                        .collect()
                })
                .unwrap_or_default()
        };
        assert_eq!(
            numbers("google.rpc.Status"),
            [
                ("code".into(), 1),
                ("message".into(), 2),
                ("details".into(), 3)
            ]
        );
        assert_eq!(
            numbers("google.rpc.BadRequest.FieldViolation"),
            [
                ("field".into(), 1),
                ("description".into(), 2),
                ("reason".into(), 3),
                ("localized_message".into(), 4)
            ]
        );
        assert_eq!(
            numbers("google.rpc.ErrorInfo"),
            [
                ("reason".into(), 1),
                ("domain".into(), 2),
                ("metadata".into(), 3)
            ]
        );
    }
}
