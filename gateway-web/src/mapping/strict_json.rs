//! The proto3 JSON rules prost-reflect's deserializer does not keep, enforced around any serde deserializer
//! (the body's `serde_json::Deserializer`, or a `serde_json::Value` picked out of it):
//! - a key given twice in one object is refused, and so is one field under both its names
//!   (`page_size` and `pageSize`), as `json_format` does; otherwise the last one would silently win;
//! - integer fields take exactly their type's values: prost-reflect saturates a JSON number of 2^63 into
//!   an int64 (`i64::MAX`) and 2^64 into a uint64, and refuses `"1e3"`, which the JSON mapping allows.
//!
//! [`Strict`] walks the schema beside the JSON so it knows which values are integers. Inside
//! `google.protobuf.Any`, `Struct` and `Value` it checks keys only; everything else prost-reflect checks.
//! The cost on the hot path is one field lookup per member and one small list per object.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::hash::Hash;

use prost_reflect::{FieldDescriptor, Kind, MessageDescriptor};
use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, Error as _, MapAccess, SeqAccess, Visitor,
};
use serde_json::Value as Json;

use super::integer::IntKind;
use super::json_key::CaptureKey;

/// What the schema expects of a JSON value.
#[derive(Clone)]
pub(crate) enum Shape {
    /// An object whose members are the message's fields.
    Message(MessageDescriptor),
    /// An integer field, or an integer wrapper (`Int64Value`, ...).
    Integer(IntKind),
    /// An array of the field's element type.
    Repeated(FieldDescriptor),
    /// An object whose values are the map field's value type.
    Map(FieldDescriptor),
    /// Anything else: only the keys of its objects are checked.
    Opaque,
}

impl Shape {
    pub(crate) fn of_message(desc: &MessageDescriptor) -> Shape {
        match desc.full_name() {
            "google.protobuf.Int32Value" => Shape::Integer(IntKind::Int32),
            "google.protobuf.Int64Value" => Shape::Integer(IntKind::Int64),
            "google.protobuf.UInt32Value" => Shape::Integer(IntKind::Uint32),
            "google.protobuf.UInt64Value" => Shape::Integer(IntKind::Uint64),
            // The well-known types with a JSON form of their own.
            "google.protobuf.Any"
            | "google.protobuf.Timestamp"
            | "google.protobuf.Duration"
            | "google.protobuf.FieldMask"
            | "google.protobuf.Struct"
            | "google.protobuf.ListValue"
            | "google.protobuf.Value"
            | "google.protobuf.Empty"
            | "google.protobuf.FloatValue"
            | "google.protobuf.DoubleValue"
            | "google.protobuf.BoolValue"
            | "google.protobuf.StringValue"
            | "google.protobuf.BytesValue" => Shape::Opaque,
            _ => Shape::Message(desc.clone()),
        }
    }

    pub(crate) fn of_field(field: &FieldDescriptor) -> Shape {
        if field.is_map() {
            Shape::Map(field.clone())
        } else if field.is_list() {
            Shape::Repeated(field.clone())
        } else {
            Shape::of_kind(&field.kind())
        }
    }

    fn of_kind(kind: &Kind) -> Shape {
        match kind {
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Shape::Integer(IntKind::Int32),
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Shape::Integer(IntKind::Int64),
            Kind::Uint32 | Kind::Fixed32 => Shape::Integer(IntKind::Uint32),
            Kind::Uint64 | Kind::Fixed64 => Shape::Integer(IntKind::Uint64),
            Kind::Message(desc) => Shape::of_message(desc),
            _ => Shape::Opaque,
        }
    }

    /// The shape of each element of an array of this shape.
    fn element(&self) -> Shape {
        match self {
            Shape::Repeated(field) => Shape::of_kind(&field.kind()),
            _ => Shape::Opaque,
        }
    }
}

/// A deserializer seen through the rules above.
pub(crate) struct Strict<D> {
    de: D,
    shape: Shape,
}

impl<D> Strict<D> {
    pub(crate) fn new(de: D, shape: Shape) -> Self {
        Strict { de, shape }
    }
}

/// Plain JSON with every object's keys checked: for bodies read as `serde_json::Value` (Dubbo arguments,
/// `body.x` bindings), where a duplicate would otherwise be dropped without a word.
pub(crate) fn parse_value(body: &[u8]) -> Result<Json, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde::Deserialize::deserialize(Strict::new(&mut de, Shape::Opaque))?;
    de.end()?;
    Ok(value)
}

/// Every `Deserializer` method of a wrapper `{ de, $field }`, forwarded to `de` with the visitor wrapped
/// as `$visitor { inner, $field }`; `is_human_readable` too.
macro_rules! forward_deserializer {
    ($visitor:ident { $field:ident }) => {
        forward_deserializer! {
            @methods $visitor $field;
            deserialize_any(); deserialize_bool(); deserialize_i8(); deserialize_i16(); deserialize_i32();
            deserialize_i64(); deserialize_i128(); deserialize_u8(); deserialize_u16(); deserialize_u32();
            deserialize_u64(); deserialize_u128(); deserialize_f32(); deserialize_f64(); deserialize_char();
            deserialize_str(); deserialize_string(); deserialize_bytes(); deserialize_byte_buf();
            deserialize_option(); deserialize_unit(); deserialize_seq(); deserialize_map();
            deserialize_identifier(); deserialize_ignored_any();
            deserialize_unit_struct(name: &'static str);
            deserialize_newtype_struct(name: &'static str);
            deserialize_tuple(len: usize);
            deserialize_tuple_struct(name: &'static str, len: usize);
            deserialize_struct(name: &'static str, fields: &'static [&'static str]);
            deserialize_enum(name: &'static str, variants: &'static [&'static str]);
        }

        fn is_human_readable(&self) -> bool {
            self.de.is_human_readable()
        }
    };
    (@methods $visitor:ident $field:ident; $($method:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, D::Error> {
            self.de.$method($($arg,)* $visitor { inner: visitor, $field: self.$field })
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Strict<D> {
    type Error = D::Error;

    forward_deserializer!(Checked { shape });
}

/// The visitor of a value of `shape`: integers are read exactly, objects and arrays are wrapped.
struct Checked<V> {
    inner: V,
    shape: Shape,
}

impl<V> Checked<V> {
    /// An exact integer handed to the inner visitor in a form it converts without loss.
    fn integer<'de, E: de::Error>(self, value: i128) -> Result<V::Value, E>
    where
        V: Visitor<'de>,
    {
        match (u64::try_from(value), i64::try_from(value)) {
            (Ok(unsigned), _) => self.inner.visit_u64(unsigned),
            (_, Ok(signed)) => self.inner.visit_i64(signed),
            _ => Err(E::custom(format!("`{value}` is out of range"))),
        }
    }

    fn text<'de, E: de::Error>(self, kind: IntKind, text: &str) -> Result<V::Value, E>
    where
        V: Visitor<'de>,
    {
        match kind.parse(text) {
            Ok(value) => self.integer(value),
            Err(err) => Err(E::custom(err)),
        }
    }
}

pub(super) use forward_deserializer;

/// `visit_*` methods handed to `self.inner` unchanged; `(scalars)` is every one neither visitor inspects.
macro_rules! forward_visit {
    (scalars) => {
        forward_visit! {
            visit_bool(bool); visit_i8(i8); visit_i16(i16); visit_i32(i32); visit_i64(i64);
            visit_i128(i128); visit_u8(u8); visit_u16(u16); visit_u32(u32); visit_u64(u64);
            visit_u128(u128); visit_f32(f32); visit_char(char); visit_bytes(&[u8]);
            visit_borrowed_bytes(&'de [u8]); visit_byte_buf(Vec<u8>);
        }
    };
    ($($method:ident($ty:ty);)*) => {$(
        fn $method<E: de::Error>(self, value: $ty) -> Result<Self::Value, E> {
            self.inner.$method(value)
        }
    )*};
}

pub(super) use forward_visit;

impl<'de, V: Visitor<'de>> Visitor<'de> for Checked<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    forward_visit!(scalars);

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Self::Value, E> {
        match self.shape {
            Shape::Integer(kind) => match kind.check_f64(value) {
                Ok(integer) => self.integer(integer),
                Err(err) => Err(E::custom(err)),
            },
            _ => self.inner.visit_f64(value),
        }
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        match self.shape {
            Shape::Integer(kind) => self.text(kind, value),
            _ => self.inner.visit_str(value),
        }
    }

    fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Self::Value, E> {
        match self.shape {
            Shape::Integer(kind) => self.text(kind, value),
            _ => self.inner.visit_borrowed_str(value),
        }
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Self::Value, E> {
        match self.shape {
            Shape::Integer(kind) => self.text(kind, &value),
            _ => self.inner.visit_string(value),
        }
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.inner.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.inner.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        self.inner.visit_some(Strict::new(de, self.shape))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        self.inner.visit_newtype_struct(Strict::new(de, self.shape))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        let element = self.shape.element();
        self.inner.visit_seq(CheckedSeq { seq, element })
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_map(CheckedMap {
            map,
            shape: self.shape,
            keys: Seen::default(),
            fields: Fields::default(),
            value: Shape::Opaque,
        })
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_enum(data)
    }
}

/// A seed whose value is read through [`Strict`] with `shape`.
struct Shaped<S> {
    seed: S,
    shape: Shape,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Shaped<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<S::Value, D::Error> {
        self.seed.deserialize(Strict::new(de, self.shape))
    }
}

struct CheckedSeq<A> {
    seq: A,
    element: Shape,
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for CheckedSeq<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        let shape = self.element.clone();
        self.seq.next_element_seed(Shaped { seed, shape })
    }

    fn size_hint(&self) -> Option<usize> {
        self.seq.size_hint()
    }
}

/// The members of one object: each key is recorded and checked, and the value read with its field's shape.
struct CheckedMap<'de, A> {
    map: A,
    shape: Shape,
    /// For a map, `Struct` or `Any`: the keys so far.
    keys: Seen<Cow<'de, str>>,
    /// For a message: the field numbers so far, so both names of one field count as a repeat. (A key
    /// that names no field is refused by prost-reflect, so keys need not be kept for messages.)
    fields: Fields,
    /// The shape of the value after the key just read.
    value: Shape,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for CheckedMap<'de, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        let mut key = None;
        let out = self.map.next_key_seed(CaptureKey {
            seed,
            key: &mut key,
        })?;
        let Some(key) = key else {
            self.value = Shape::Opaque;
            return Ok(out);
        };
        if let Shape::Message(desc) = &self.shape {
            let field = desc
                .get_field_by_json_name(&key)
                .or_else(|| desc.get_field_by_name(&key));
            self.value = match field {
                Some(field) if !self.fields.insert(field.number()) => {
                    let name = field.name();
                    let spelling = if *key == *name {
                        String::new()
                    } else {
                        format!(" (as `{key}` the second time)")
                    };
                    return Err(A::Error::custom(format!(
                        "field `{name}` is given twice{spelling}"
                    )));
                }
                Some(field) => Shape::of_field(&field),
                // Unknown members are prost-reflect's to refuse (or to skip where that is allowed).
                None => Shape::Opaque,
            };
            return Ok(out);
        }
        self.value = match &self.shape {
            Shape::Map(field) => match field.kind() {
                Kind::Message(entry) => Shape::of_kind(&entry.map_entry_value_field().kind()),
                _ => Shape::Opaque,
            },
            _ => Shape::Opaque,
        };
        if self.keys.insert(key.clone()) {
            return Ok(out);
        }
        Err(A::Error::custom(format!("key `{key}` is given twice")))
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        let shape = std::mem::replace(&mut self.value, Shape::Opaque);
        self.map.next_value_seed(Shaped { seed, shape })
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

/// A set that stays a short list for the few keys of a typical object, and becomes a hash set for the
/// many keys of a hostile one (so a 100,000-key body is not 5·10⁹ comparisons).
struct Seen<T> {
    few: Vec<T>,
    many: Option<HashSet<T>>,
}

impl<T> Default for Seen<T> {
    fn default() -> Self {
        Seen {
            few: Vec::new(),
            many: None,
        }
    }
}

const FEW: usize = 32;

impl<T: Eq + Hash> Seen<T> {
    /// False when `item` was already there.
    fn insert(&mut self, item: T) -> bool {
        if self.few.contains(&item) {
            return false;
        }
        if self.few.len() < FEW {
            self.few.push(item);
            return true;
        }
        self.many.get_or_insert_default().insert(item)
    }
}

/// Field numbers: 1 to 64 as bits (every field of most messages, and no allocation), others in a list.
#[derive(Default)]
struct Fields {
    low: u64,
    high: Seen<u32>,
}

impl Fields {
    /// False when `number` was already there.
    fn insert(&mut self, number: u32) -> bool {
        match number.checked_sub(1) {
            Some(bit) if bit < 64 => {
                let mask = 1u64 << bit;
                let new = self.low & mask == 0;
                self.low |= mask;
                new
            }
            _ => self.high.insert(number),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_are_found_among_few_and_many() {
        let mut keys = Seen::default();
        for n in 0..100 {
            assert!(keys.insert(n), "{n} is new");
        }
        assert!(!keys.insert(3), "among the first few");
        assert!(!keys.insert(99), "among the many");
        let mut fields = Fields::default();
        for number in [1, 64, 65, 536_870_911] {
            assert!(fields.insert(number), "{number} is new");
            assert!(!fields.insert(number), "{number} again");
        }
    }

    #[test]
    fn a_value_read_as_plain_json_has_every_object_checked() {
        let many: String = (0..10_000).map(|n| format!("\"k{n}\":{n},")).collect();
        let body = format!("{{\"a\":[{{{many}\"k5\":0}}]}}");
        let err = parse_value(body.as_bytes()).expect_err("a repeated key deep inside");
        assert!(err.to_string().contains("key `k5` is given twice"), "{err}");
        assert!(parse_value(br#"{"a":{"x":1},"b":{"x":1}}"#).is_ok());
    }
}
