//! Proto3 JSON into the request: the whole message, or one field of it (any kind: message, repeated, map,
//! scalar), straight from the deserializer the caller holds.
//!
//! prost-reflect decodes whole messages only. For a single field the JSON value is presented as the one
//! member of an object (`{"<field>": <value>}`) of the field's containing message, so every field kind goes
//! through prost-reflect's own rules, and errors keep serde_json's line and column. Every decode goes
//! through [`Strict`], which adds the rules prost-reflect lacks (duplicate keys, exact integers).

use prost_reflect::{DeserializeOptions, DynamicMessage, MessageDescriptor, Value};
use serde::de::value::StrDeserializer;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};

use super::field_path::{FieldPath, set_at};
use super::strict_json::{Shape, Strict};
use crate::error::GatewayError;

/// Where a JSON value goes.
#[derive(Debug, Clone)]
pub(crate) enum JsonTarget {
    /// The whole request message (`body: "*"`).
    Whole,
    /// One field, reached by path.
    Field(FieldPath),
}

/// The result of decoding, before it is put into the request.
#[derive(Debug, Clone)]
pub(crate) enum Decoded {
    Message(DynamicMessage),
    /// `None` when the JSON was `null`: the field stays unset, as the JSON mapping says.
    Field(Option<Value>),
}

/// Unknown members are refused: a misspelt field must not be silently dropped.
const OPTIONS: DeserializeOptions = DeserializeOptions::new().deny_unknown_fields(true);

impl JsonTarget {
    pub(crate) fn decode<'de, D: Deserializer<'de>>(
        &self,
        input: &MessageDescriptor,
        deserializer: D,
    ) -> Result<Decoded, D::Error> {
        match self {
            JsonTarget::Whole => {
                let strict = Strict::new(deserializer, Shape::of_message(input));
                DynamicMessage::deserialize_with_options(input.clone(), strict, &OPTIONS)
                    .map(Decoded::Message)
            }
            JsonTarget::Field(path) => decode_field(path, deserializer).map(Decoded::Field),
        }
    }
}

/// Decodes one field's JSON value by wrapping it in its containing message.
fn decode_field<'de, D: Deserializer<'de>>(
    path: &FieldPath,
    deserializer: D,
) -> Result<Option<Value>, D::Error> {
    let field = path.leaf();
    let parent = field.parent_message();
    let wrapped = Strict::new(
        OneMember::new(field.json_name(), deserializer),
        Shape::of_message(parent),
    );
    let mut holder = DynamicMessage::deserialize_with_options(parent.clone(), wrapped, &OPTIONS)?;
    Ok(holder.take_field(field))
}

impl Decoded {
    /// Puts the decoded value into `message`. A whole message is merged field by field, so values set
    /// earlier survive unless the JSON sets them too.
    pub(crate) fn apply(
        self,
        target: &JsonTarget,
        message: &mut DynamicMessage,
    ) -> Result<(), GatewayError> {
        match (self, target) {
            (Decoded::Message(mut decoded), _) => {
                for (field, value) in decoded.take_fields() {
                    set_at(message, &[], &field, value)?;
                }
                Ok(())
            }
            (Decoded::Field(Some(value)), JsonTarget::Field(path)) => path.set(message, value),
            (Decoded::Field(None), _) => Ok(()),
            (Decoded::Field(Some(_)), JsonTarget::Whole) => Err(GatewayError::internal(
                "a field value was decoded for the whole message",
            )),
        }
    }
}

/// A deserializer that shows `value` as the single member `key` of a JSON object.
pub(crate) struct OneMember<'k, D> {
    key: Option<&'k str>,
    value: Option<D>,
}

impl<'k, D> OneMember<'k, D> {
    pub(crate) fn new(key: &'k str, value: D) -> Self {
        OneMember {
            key: Some(key),
            value: Some(value),
        }
    }
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for OneMember<'_, D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_map(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de, D: Deserializer<'de>> MapAccess<'de> for OneMember<'_, D> {
    type Error = D::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        match self.key.take() {
            Some(key) => seed
                .deserialize(StrDeserializer::<D::Error>::new(key))
                .map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        match self.value.take() {
            Some(value) => seed.deserialize(value),
            None => Err(de::Error::custom("a value was read twice")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(usize::from(self.key.is_some()))
    }
}
