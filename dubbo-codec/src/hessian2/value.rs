//! The hessian2 value model: what the decoder produces and the encoder consumes.
//!
//! Back-references to finished values are resolved (cloned) by the decoder, within a node budget; a
//! reference to a value still being decoded (a cycle, e.g. a Java exception whose `cause` is itself)
//! stays a [`Value::Ref`] so the tree remains finite.

/// One hessian2 value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i32),
    Long(i64),
    Double(f64),
    /// `java.util.Date`: milliseconds since the Unix epoch (UTC).
    Date(i64),
    String(String),
    Binary(Vec<u8>),
    List(List),
    Map(Map),
    Object(Object),
    /// A back-reference into a value that was still being decoded (a cycle); the index is hessian's
    /// reference number.
    Ref(u32),
}

/// A list, typed (`java.util.ArrayList`, `[int`, `[java.lang.String`) or untyped.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct List {
    pub type_name: Option<String>,
    pub items: Vec<Value>,
}

/// A map, typed (`java.util.HashMap`, or a class name for a POJO sent as a map) or untyped. Keys keep
/// their order and type.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Map {
    pub type_name: Option<String>,
    pub entries: Vec<(Value, Value)>,
}

/// An object with a class definition: a POJO, an enum (`name` field), `java.math.BigDecimal` (`value`
/// field), an exception (`detailMessage`, `cause`, ...).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Object {
    pub class: String,
    pub fields: Vec<(String, Value)>,
}

impl Object {
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

impl Map {
    /// The value under a string key.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries
            .iter()
            .find(|(k, _)| matches!(k, Value::String(s) if s == key))
            .map(|(_, v)| v)
    }
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
}
