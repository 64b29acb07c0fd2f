//! Key/value pairs (the query string, a form body) onto request fields, by field path (`filter.genre=X`),
//! following grpc-gateway: repeated fields collect every occurrence in order; anything ambiguous is a 400.

use prost_reflect::{DynamicMessage, FieldDescriptor, MessageDescriptor, ReflectMessage, Value};

use super::field_path::{FieldPath, resolve_fields, set_at};
use super::scalar::Scalar;
use crate::error::GatewayError;

/// The rules for one kind of pairs, fixed when the plan is compiled.
#[derive(Debug, Clone)]
pub(crate) struct Params {
    /// "query parameter" or "form field", for messages.
    pub(crate) what: &'static str,
    /// Map keys that are not consumed by a binding onto fields; when false they are refused.
    pub(crate) auto: bool,
    /// Fields another source fills (the path, the body field), with that source's name. A pair may not
    /// reach them: one of the two values would be dropped without a word.
    pub(crate) bound: Vec<(FieldPath, &'static str)>,
    /// Keys an explicit binding reads; they are not field paths.
    pub(crate) consumed: Vec<String>,
    /// Why keys are not mapped onto fields when `auto` is false, for the refusal (may be empty).
    pub(crate) unmapped_because: &'static str,
}

/// The values for one target field, collected before anything is set so that repeats can be checked.
struct Group<'p> {
    key: &'p str,
    fields: Vec<FieldDescriptor>,
    scalar: Scalar,
    values: Vec<Value>,
}

impl Params {
    pub(crate) fn apply<'p>(
        &self,
        message: &mut DynamicMessage,
        pairs: impl Iterator<Item = (&'p str, &'p str)>,
    ) -> Result<(), GatewayError> {
        let desc = message.descriptor();
        let mut groups: Vec<Group<'p>> = Vec::new();
        for (key, text) in pairs {
            if self.consumed.iter().any(|consumed| consumed == key) {
                continue;
            }
            let index = match groups.iter().position(|group| group.key == key) {
                Some(index) => index,
                None => {
                    let group = self.group(&desc, key)?;
                    // Two spellings (`page_size`, `pageSize`) of one field share a group.
                    match groups.iter().position(|other| other.fields == group.fields) {
                        Some(index) => index,
                        None => {
                            groups.push(group);
                            groups.len() - 1
                        }
                    }
                }
            };
            let group = &mut groups[index];
            let value = group.scalar.parse(text).map_err(|reason| {
                GatewayError::invalid_argument(format!("{} `{key}`: {reason}", self.what))
            })?;
            let Some(leaf) = group.fields.last() else {
                return Err(GatewayError::internal("a resolved field path is empty"));
            };
            if !group.values.is_empty() && !leaf.is_list() {
                return Err(GatewayError::invalid_argument(format!(
                    "{} `{key}` is given more than once, but `{}` is not repeated",
                    self.what,
                    leaf.name()
                )));
            }
            group.values.push(value);
        }
        for mut group in groups {
            let Some(leaf) = group.fields.pop() else {
                return Err(GatewayError::internal("a resolved field path is empty"));
            };
            let value = if leaf.is_list() {
                Value::List(group.values)
            } else {
                match group.values.pop() {
                    Some(value) => value,
                    None => continue,
                }
            };
            set_at(message, &group.fields, &leaf, value)?;
        }
        Ok(())
    }

    /// Resolves a key the first time it is seen.
    fn group<'p>(&self, desc: &MessageDescriptor, key: &'p str) -> Result<Group<'p>, GatewayError> {
        let what = self.what;
        if !self.auto {
            return Err(GatewayError::invalid_argument(format!(
                "unknown {what} `{key}`{}",
                self.unmapped_because
            )));
        }
        let fields = resolve_fields(desc, key).map_err(|reason| {
            GatewayError::invalid_argument(format!("unknown {what} `{key}` ({reason})"))
        })?;
        if let Some((path, by)) = self.bound.iter().find(|(path, _)| path.overlaps(&fields)) {
            return Err(GatewayError::invalid_argument(format!(
                "{what} `{key}` would set `{}`, which {by} already sets",
                path.text()
            )));
        }
        let Some(leaf) = fields.last() else {
            return Err(GatewayError::invalid_argument(format!(
                "unknown {what} `{key}`"
            )));
        };
        let scalar = Scalar::for_field(leaf).map_err(|reason| {
            GatewayError::invalid_argument(format!(
                "{what} `{key}` cannot be set from text: {reason}"
            ))
        })?;
        Ok(Group {
            key,
            fields,
            scalar,
            values: Vec::new(),
        })
    }
}

/// Splits an `application/x-www-form-urlencoded` body into decoded pairs (`+` is a space).
pub(crate) fn form_pairs(body: &[u8]) -> Result<Vec<(String, String)>, GatewayError> {
    let decode = |part: &[u8]| -> Result<String, GatewayError> {
        let spaced: Vec<u8> = part
            .iter()
            .map(|&b| if b == b'+' { b' ' } else { b })
            .collect();
        let bytes: Vec<u8> = percent_encoding::percent_decode(&spaced).collect();
        String::from_utf8(bytes)
            .map_err(|_| GatewayError::invalid_argument("the form body is not valid UTF-8"))
    };
    body.split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = match pair.iter().position(|&b| b == b'=') {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, &[][..]),
            };
            Ok((decode(key)?, decode(value)?))
        })
        .collect()
}
