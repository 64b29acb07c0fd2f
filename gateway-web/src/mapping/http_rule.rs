//! Reads a method's `google.api.http` annotation into [`api_model::HttpRule`].
//!
//! The annotation is read from the method options' wire bytes with a local prost mirror of `HttpRule`
//! rather than through the pool's extension descriptor: a pool built from a descriptor set or a reflection
//! pull may lack `google/api/annotations.proto`, and then the extension survives only as an unknown field.
//! Re-encoding the options keeps both cases on one path (the bytes are the same either way).

use api_model::HttpRule;
use api_model::http_rule::CustomPattern;
use prost::Message;
use prost_reflect::MethodDescriptor;

/// `google.protobuf.MethodOptions`, keeping only the `google.api.http` extension (field 72295728).
#[derive(Clone, PartialEq, Message)]
struct MethodOptions {
    #[prost(message, optional, tag = "72295728")]
    http: Option<HttpRuleProto>,
}

/// `google.api.HttpRule` (see `google/api/http.proto`); `selector` is only meaningful in service config.
#[derive(Clone, PartialEq, Message)]
struct HttpRuleProto {
    #[prost(oneof = "Pattern", tags = "2, 3, 4, 5, 6, 8")]
    pattern: Option<Pattern>,
    #[prost(string, tag = "7")]
    body: String,
    #[prost(message, repeated, tag = "11")]
    additional_bindings: Vec<HttpRuleProto>,
    #[prost(string, tag = "12")]
    response_body: String,
}

#[derive(Clone, PartialEq, prost::Oneof)]
enum Pattern {
    #[prost(string, tag = "2")]
    Get(String),
    #[prost(string, tag = "3")]
    Put(String),
    #[prost(string, tag = "4")]
    Post(String),
    #[prost(string, tag = "5")]
    Delete(String),
    #[prost(string, tag = "6")]
    Patch(String),
    #[prost(message, tag = "8")]
    Custom(CustomProto),
}

#[derive(Clone, PartialEq, Message)]
struct CustomProto {
    #[prost(string, tag = "1")]
    kind: String,
    #[prost(string, tag = "2")]
    path: String,
}

/// The method's `google.api.http` annotation converted to the model type, or `None` when absent.
pub fn annotation(method: &MethodDescriptor) -> Option<HttpRule> {
    let bytes = method.options().encode_to_vec();
    // The options were decoded from a valid descriptor, so a decode failure means a malformed annotation;
    // such a method gets no annotation route rather than a half-read one.
    let options = MethodOptions::decode(bytes.as_slice()).ok()?;
    options.http.map(convert)
}

fn convert(rule: HttpRuleProto) -> HttpRule {
    let mut out = HttpRule {
        body: rule.body,
        response_body: rule.response_body,
        additional_bindings: rule.additional_bindings.into_iter().map(convert).collect(),
        ..HttpRule::default()
    };
    match rule.pattern {
        Some(Pattern::Get(path)) => out.get = Some(path),
        Some(Pattern::Put(path)) => out.put = Some(path),
        Some(Pattern::Post(path)) => out.post = Some(path),
        Some(Pattern::Delete(path)) => out.delete = Some(path),
        Some(Pattern::Patch(path)) => out.patch = Some(path),
        Some(Pattern::Custom(custom)) => {
            out.custom = Some(CustomPattern {
                kind: custom.kind,
                path: custom.path,
            })
        }
        // A rule without a pattern is kept as is; validation reports it with the API's name.
        None => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::tests::pool;

    fn rule_of(method: &str) -> Option<HttpRule> {
        let service = pool()
            .get_service_by_name("test.v1.Library")
            .expect("service");
        let method = service
            .methods()
            .find(|m| m.name() == method)
            .expect("method");
        annotation(&method)
    }

    #[test]
    fn reads_the_rule_with_additional_bindings() {
        let rule = rule_of("GetBook").expect("annotated");
        assert_eq!(
            rule.get.as_deref(),
            Some("/v1/shelves/{shelf}/books/{book.id}")
        );
        assert_eq!(rule.response_body, "book");
        assert_eq!(rule.additional_bindings.len(), 2);
        assert_eq!(
            rule.additional_bindings[0].post.as_deref(),
            Some("/v1/books:lookup")
        );
        assert_eq!(rule.additional_bindings[0].body, "*");
        let custom = rule.additional_bindings[1]
            .custom
            .as_ref()
            .expect("custom verb");
        assert_eq!(
            (custom.kind.as_str(), custom.path.as_str()),
            ("HEAD", "/v1/books/{book.id}")
        );
    }

    /// A pool without `google/api/annotations.proto` (as a trimmed descriptor set may be) keeps the
    /// annotation only as an unknown option field; it must still be read.
    #[test]
    fn reads_the_rule_when_the_pool_lacks_annotations_proto() {
        use prost_reflect::{DescriptorPool, DynamicMessage, Value};
        let original = pool();
        let file_type = original
            .get_message_by_name("google.protobuf.FileDescriptorProto")
            .expect("descriptor.proto is in the pool");
        let file = original
            .get_file_by_name("test/library.proto")
            .expect("file");
        let mut proto =
            DynamicMessage::decode(file_type, file.encode_to_vec().as_slice()).expect("decodes");
        let dependencies = proto.get_field_by_name_mut("dependency").expect("field");
        if let Some(list) = dependencies.as_list_mut() {
            list.retain(|d| d.as_str() != Some("google/api/annotations.proto"));
        }
        assert!(!matches!(dependencies, Value::List(l) if l.is_empty()));

        let mut trimmed = DescriptorPool::new();
        for dependency in file
            .dependencies()
            .filter(|d| !d.name().starts_with("google/api/"))
        {
            trimmed
                .decode_file_descriptor_proto(dependency.encode_to_vec().as_slice())
                .expect("wkt");
        }
        trimmed
            .decode_file_descriptor_proto(proto.encode_to_vec().as_slice())
            .expect("trimmed file");
        assert!(trimmed.get_extension_by_name("google.api.http").is_none());

        let method = trimmed
            .get_service_by_name("test.v1.Library")
            .and_then(|s| s.methods().find(|m| m.name() == "GetBook"))
            .expect("method");
        assert_eq!(annotation(&method), rule_of("GetBook"));
    }

    #[test]
    fn reads_body_field_and_verbs() {
        type Case = (
            &'static str,
            Option<(&'static str, &'static str)>,
            &'static str,
        );
        let table: &[Case] = &[
            (
                "CreateBook",
                Some(("POST", "/v1/shelves/{shelf}/books")),
                "payload",
            ),
            ("UpdateBook", Some(("PATCH", "/v1/books/{book.id}")), "*"),
            ("DeleteBook", Some(("DELETE", "/v1/books/{book.id}")), ""),
            ("Unannotated", None, ""),
        ];
        for (method, pattern, body) in table {
            let rule = rule_of(method);
            assert_eq!(rule.is_some(), pattern.is_some(), "{method}");
            if let (Some(rule), Some((verb, path))) = (rule, pattern) {
                let (got_verb, got_path) = rule.pattern().expect("one pattern");
                assert_eq!((got_verb.as_str(), got_path), (*verb, *path), "{method}");
                assert_eq!(rule.body, *body, "{method}");
            }
        }
    }
}
