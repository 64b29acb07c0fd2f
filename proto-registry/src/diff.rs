//! What changed between two versions of a schema: services and methods added, removed or retyped,
//! message fields and enum values added, removed or retyped. The portal shows it before a schema
//! update is saved; whether a change breaks an API is decided by building the API, not from this list.

use std::collections::BTreeMap;

use prost_reflect::{DescriptorPool, EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    Added,
    Removed,
    /// Same name, another shape (a field's type, number or cardinality; a method's types or streaming).
    Changed,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Removed => "removed",
            Change::Changed => "changed",
        }
    }
}

/// One difference, named by the element's full name (`pkg.Service.Method`, `pkg.Message.field`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SchemaChange {
    pub change: Change,
    /// `service`, `method`, `message`, `field`, `enum` or `enum value`.
    pub element: &'static str,
    pub name: String,
    /// The old and the new shape for a change (`int32 = 2 → string = 2`); the shape for the others.
    pub detail: String,
}

/// Every difference from `old` to `new`, ordered by element name. The built-in files (google.*,
/// grpc.*) are left out: they are the same in every pool.
pub fn diff(old: &DescriptorPool, new: &DescriptorPool) -> Vec<SchemaChange> {
    let mut changes = Vec::new();
    let services = |pool: &DescriptorPool| {
        pool.services()
            .filter(|s| is_own(s.full_name()))
            .map(|s| (s.full_name().to_string(), s))
            .collect::<BTreeMap<_, _>>()
    };
    compare(
        &services(old),
        &services(new),
        "service",
        |s| format!("{} methods", s.methods().len()),
        |name, before, after, out| {
            let methods = |s: &prost_reflect::ServiceDescriptor| {
                s.methods()
                    .map(|m| (format!("{name}.{}", m.name()), method_shape(&m)))
                    .collect::<BTreeMap<_, _>>()
            };
            compare_shapes(&methods(before), &methods(after), "method", out);
        },
        &mut changes,
    );
    let messages = |pool: &DescriptorPool| {
        pool.all_messages()
            .filter(|m| is_own(m.full_name()) && !m.is_map_entry())
            .map(|m| (m.full_name().to_string(), m))
            .collect::<BTreeMap<_, _>>()
    };
    compare(
        &messages(old),
        &messages(new),
        "message",
        |m| format!("{} fields", m.fields().len()),
        |name, before, after, out| {
            compare_shapes(&fields(name, before), &fields(name, after), "field", out)
        },
        &mut changes,
    );
    let enums = |pool: &DescriptorPool| {
        pool.all_enums()
            .filter(|e| is_own(e.full_name()))
            .map(|e| (e.full_name().to_string(), e))
            .collect::<BTreeMap<_, _>>()
    };
    compare(
        &enums(old),
        &enums(new),
        "enum",
        |e| format!("{} values", e.values().len()),
        |name, before, after, out| {
            compare_shapes(
                &values(name, before),
                &values(name, after),
                "enum value",
                out,
            )
        },
        &mut changes,
    );
    changes.sort_by(|a, b| a.name.cmp(&b.name).then(a.change.cmp(&b.change)));
    changes
}

fn is_own(full_name: &str) -> bool {
    !(full_name.starts_with("google.") || full_name.starts_with("grpc."))
}

/// Elements present on one side only are added or removed; those on both sides are compared inside.
fn compare<T>(
    old: &BTreeMap<String, T>,
    new: &BTreeMap<String, T>,
    element: &'static str,
    summary: impl Fn(&T) -> String,
    inside: impl Fn(&str, &T, &T, &mut Vec<SchemaChange>),
    out: &mut Vec<SchemaChange>,
) {
    for (name, before) in old {
        match new.get(name) {
            Some(after) => inside(name, before, after, out),
            None => out.push(SchemaChange {
                change: Change::Removed,
                element,
                name: name.clone(),
                detail: summary(before),
            }),
        }
    }
    for (name, after) in new {
        if !old.contains_key(name) {
            out.push(SchemaChange {
                change: Change::Added,
                element,
                name: name.clone(),
                detail: summary(after),
            });
        }
    }
}

/// Leaves (methods, fields, enum values) compared by their rendered shape.
fn compare_shapes(
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
    element: &'static str,
    out: &mut Vec<SchemaChange>,
) {
    compare(
        old,
        new,
        element,
        String::clone,
        |name, before, after, out| {
            if before != after {
                out.push(SchemaChange {
                    change: Change::Changed,
                    element,
                    name: name.to_string(),
                    detail: format!("{before} → {after}"),
                });
            }
        },
        out,
    );
}

fn method_shape(method: &prost_reflect::MethodDescriptor) -> String {
    let stream = |streaming: bool| if streaming { "stream " } else { "" };
    format!(
        "({}{}) returns ({}{})",
        stream(method.is_client_streaming()),
        method.input().full_name(),
        stream(method.is_server_streaming()),
        method.output().full_name()
    )
}

fn fields(message_name: &str, message: &MessageDescriptor) -> BTreeMap<String, String> {
    message
        .fields()
        .map(|f| (format!("{message_name}.{}", f.name()), field_shape(&f)))
        .collect()
}

fn values(enum_name: &str, descriptor: &EnumDescriptor) -> BTreeMap<String, String> {
    descriptor
        .values()
        .map(|v| (format!("{enum_name}.{}", v.name()), v.number().to_string()))
        .collect()
}

/// `repeated string = 3`, `map<string, pkg.Book> = 4`, `optional int64 = 1`.
fn field_shape(field: &FieldDescriptor) -> String {
    let kind = if field.is_map() {
        let entry = match field.kind() {
            Kind::Message(entry) => entry,
            _ => return format!("map = {}", field.number()),
        };
        format!(
            "map<{}, {}>",
            kind_name(&entry.map_entry_key_field().kind()),
            kind_name(&entry.map_entry_value_field().kind())
        )
    } else if field.is_list() {
        format!("repeated {}", kind_name(&field.kind()))
    } else if field.supports_presence()
        && field
            .containing_oneof()
            .is_none_or(|oneof| oneof.is_synthetic())
    {
        match field.kind() {
            Kind::Message(_) => kind_name(&field.kind()),
            other => format!("optional {}", kind_name(&other)),
        }
    } else {
        kind_name(&field.kind())
    };
    match field.containing_oneof() {
        Some(oneof) if !oneof.is_synthetic() => {
            format!("{kind} = {} in oneof {}", field.number(), oneof.name())
        }
        _ => format!("{kind} = {}", field.number()),
    }
}

fn kind_name(kind: &Kind) -> String {
    let scalar = match kind {
        Kind::Message(m) => return m.full_name().to_string(),
        Kind::Enum(e) => return e.full_name().to_string(),
        Kind::Double => "double",
        Kind::Float => "float",
        Kind::Int32 => "int32",
        Kind::Int64 => "int64",
        Kind::Uint32 => "uint32",
        Kind::Uint64 => "uint64",
        Kind::Sint32 => "sint32",
        Kind::Sint64 => "sint64",
        Kind::Fixed32 => "fixed32",
        Kind::Fixed64 => "fixed64",
        Kind::Sfixed32 => "sfixed32",
        Kind::Sfixed64 => "sfixed64",
        Kind::Bool => "bool",
        Kind::String => "string",
        Kind::Bytes => "bytes",
    };
    scalar.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(proto: &str) -> DescriptorPool {
        crate::compile_sources(&[("a.proto".into(), proto.into())], &["a.proto".into()]).unwrap()
    }

    const BEFORE: &str = r#"
        syntax = "proto3";
        package shop;
        service Books {
          rpc Get(GetBook) returns (Book);
          rpc List(Empty) returns (stream Book);
          rpc Gone(Empty) returns (Empty);
        }
        message Empty {}
        message GetBook { int64 id = 1; string shelf = 2; }
        message Book { string title = 1; repeated string tags = 2; map<string, int32> stock = 3; Kind kind = 4; }
        enum Kind { KIND_UNSPECIFIED = 0; PAPER = 1; AUDIO = 2; }
        message Old { string x = 1; }
    "#;

    #[test]
    fn names_every_added_removed_and_retyped_element() {
        let after = r#"
            syntax = "proto3";
            package shop;
            service Books {
              rpc Get(GetBook) returns (Book);
              rpc List(Empty) returns (Book);
              rpc Put(Book) returns (Empty);
            }
            message Empty {}
            message GetBook { string id = 1; optional string shelf = 2; bool fresh = 3; }
            message Book { string title = 1; string tags = 2; map<string, int64> stock = 3; Kind kind = 5; }
            enum Kind { KIND_UNSPECIFIED = 0; PAPER = 1; EBOOK = 3; }
        "#;
        let rendered: Vec<String> = diff(&pool(BEFORE), &pool(after))
            .iter()
            .map(|c| {
                format!(
                    "{} {} {}: {}",
                    c.change.as_str(),
                    c.element,
                    c.name,
                    c.detail
                )
            })
            .collect();
        assert_eq!(
            rendered,
            [
                "changed field shop.Book.kind: shop.Kind = 4 → shop.Kind = 5",
                "changed field shop.Book.stock: map<string, int32> = 3 → map<string, int64> = 3",
                "changed field shop.Book.tags: repeated string = 2 → string = 2",
                "removed method shop.Books.Gone: (shop.Empty) returns (shop.Empty)",
                "changed method shop.Books.List: (shop.Empty) returns (stream shop.Book) → (shop.Empty) returns (shop.Book)",
                "added method shop.Books.Put: (shop.Book) returns (shop.Empty)",
                "added field shop.GetBook.fresh: bool = 3",
                "changed field shop.GetBook.id: int64 = 1 → string = 1",
                "changed field shop.GetBook.shelf: string = 2 → optional string = 2",
                "removed enum value shop.Kind.AUDIO: 2",
                "added enum value shop.Kind.EBOOK: 3",
                "removed message shop.Old: 1 fields",
            ]
        );
    }

    #[test]
    fn the_same_schema_has_no_changes() {
        assert!(diff(&pool(BEFORE), &pool(BEFORE)).is_empty());
    }
}
