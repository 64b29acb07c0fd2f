//! Dotted field paths (`book.author.name`): resolved against a message type once, then used to set values.

use prost_reflect::{DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, Value};

use crate::error::GatewayError;

/// A resolved path: the singular message fields walked through, then the field it names.
#[derive(Debug, Clone)]
pub(crate) struct FieldPath {
    parents: Vec<FieldDescriptor>,
    leaf: FieldDescriptor,
    /// The path as the definition (or the client) wrote it, for messages.
    text: String,
}

impl FieldPath {
    /// Resolves `path` in `message`. Each part matches a field's `.proto` name or its JSON name. The error
    /// says which part failed and why, naming the message type.
    pub(crate) fn resolve(message: &MessageDescriptor, path: &str) -> Result<FieldPath, String> {
        let fields = resolve_fields(message, path)?;
        let mut parents = fields;
        let Some(leaf) = parents.pop() else {
            return Err("the field path is empty".to_string());
        };
        Ok(FieldPath {
            parents,
            leaf,
            text: path.to_string(),
        })
    }

    pub(crate) fn leaf(&self) -> &FieldDescriptor {
        &self.leaf
    }

    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// True when one path lies on the other (equal, or one reaches through the other): setting both would
    /// make one source silently override the other.
    pub(crate) fn overlaps(&self, fields: &[FieldDescriptor]) -> bool {
        let mine = self.parents.iter().chain(std::iter::once(&self.leaf));
        mine.zip(fields).all(|(a, b)| a == b)
    }

    /// Sets the leaf field, creating the enclosing messages as needed.
    pub(crate) fn set(
        &self,
        message: &mut DynamicMessage,
        value: Value,
    ) -> Result<(), GatewayError> {
        set_at(message, &self.parents, &self.leaf, value)
    }
}

/// Resolves every part of `path`; all but the last must be singular messages that are not well-known types
/// (those have a JSON form of their own, so their inner fields cannot be addressed from HTTP).
pub(crate) fn resolve_fields(
    message: &MessageDescriptor,
    path: &str,
) -> Result<Vec<FieldDescriptor>, String> {
    if path.is_empty() {
        return Err("the field path is empty".to_string());
    }
    let mut fields = Vec::with_capacity(path.split('.').count());
    let mut current = message.clone();
    for (index, part) in path.split('.').enumerate() {
        if index > 0 {
            let Some(previous) = fields.last() else {
                return Err("the field path is empty".to_string());
            };
            current = container(previous)?;
        }
        let field = current
            .get_field_by_name(part)
            .or_else(|| current.get_field_by_json_name(part))
            .ok_or_else(|| format!("`{}` has no field `{part}`", current.full_name()))?;
        fields.push(field);
    }
    Ok(fields)
}

/// The message type a path may continue into from `field`, or why it may not.
fn container(field: &FieldDescriptor) -> Result<MessageDescriptor, String> {
    let name = field.full_name();
    if field.is_map() || field.is_list() {
        return Err(format!(
            "`{name}` is repeated, so no path can continue past it"
        ));
    }
    match field.kind() {
        Kind::Message(inner) if inner.full_name().starts_with("google.protobuf.") => Err(format!(
            "`{name}` is a `{}`, whose fields cannot be addressed one by one",
            inner.full_name()
        )),
        Kind::Message(inner) => Ok(inner),
        _ => Err(format!(
            "`{name}` is not a message, so no path can continue past it"
        )),
    }
}

/// Sets `leaf` inside the message reached through `parents` (each a singular message field).
pub(crate) fn set_at(
    message: &mut DynamicMessage,
    parents: &[FieldDescriptor],
    leaf: &FieldDescriptor,
    value: Value,
) -> Result<(), GatewayError> {
    let mut current = message;
    for parent in parents {
        current = current
            .get_field_mut(parent)
            .as_message_mut()
            .ok_or_else(|| {
                // Resolution only lets singular message fields be parents, so this is a gateway bug.
                GatewayError::internal(format!("field `{}` is not a message", parent.full_name()))
            })?;
    }
    // Setting one member of a oneof clears the others: a value from one source (the body, say) would be
    // dropped without a word by a value from another (the query).
    if let Some(oneof) = leaf.containing_oneof() {
        let mut others = oneof.fields().filter(|field| field != leaf);
        if let Some(set) = others.find(|field| current.has_field(field)) {
            return Err(GatewayError::invalid_argument(format!(
                "`{}` and `{}` are both members of oneof `{}`; set only one",
                set.name(),
                leaf.name(),
                oneof.name()
            )));
        }
    }
    current.set_field(leaf, value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::tests::pool;

    #[test]
    fn resolves_proto_and_json_names_and_explains_failures() {
        let request = pool()
            .get_message_by_name("test.v1.GetBookRequest")
            .expect("message");
        let table: &[(&str, Result<&str, &str>)] = &[
            ("book.id", Ok("test.v1.BookRef.id")),
            ("book.page_size", Ok("test.v1.BookRef.page_size")),
            ("book.pageSize", Ok("test.v1.BookRef.page_size")),
            ("book.nope", Err("`test.v1.BookRef` has no field `nope`")),
            (
                "shelf.x",
                Err("`test.v1.GetBookRequest.shelf` is not a message"),
            ),
            ("tags.x", Err("is repeated")),
            ("read_at.seconds", Err("cannot be addressed one by one")),
            ("", Err("empty")),
        ];
        for (path, expected) in table {
            match (FieldPath::resolve(&request, path), expected) {
                (Ok(got), Ok(name)) => assert_eq!(got.leaf().full_name(), *name, "{path}"),
                (Err(got), Err(phrase)) => assert!(got.contains(phrase), "{path}: {got}"),
                (got, _) => panic!("{path}: unexpected {got:?}"),
            }
        }
    }
}
