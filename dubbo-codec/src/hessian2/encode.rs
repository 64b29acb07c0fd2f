//! The encoder: the most compact form of every value, class definitions and type names written once per
//! body and referred to by index afterwards, as Java's Hessian2Output does.

use std::collections::HashMap;

use super::strings::write_string;
use super::value::{List, Map, Object, Value};

/// An encoder for one body: class definitions written once and reused by later objects of the same class
/// and field list.
///
/// It writes no back-references of its own (a [`Value`] tree has no shared parts); a [`Value::Ref`] is
/// written as given, so its number must count lists, maps and objects in the order this encoder writes them.
#[derive(Debug, Default)]
pub struct Encoder {
    /// Class name -> (field names, definition index); the same class may be defined with different fields.
    classes: HashMap<String, Vec<(Vec<String>, i32)>>,
    class_count: i32,
    types: HashMap<String, i32>,
}

/// Java writers put at most this many bytes in a non-final binary chunk.
const BINARY_CHUNK: usize = 0x8000;

impl Encoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// A string without first making it a [`Value`] (the request head is all strings).
    pub fn write_str(&mut self, text: &str, out: &mut Vec<u8>) {
        write_string(out, text);
    }

    pub fn write(&mut self, value: &Value, out: &mut Vec<u8>) {
        match value {
            Value::Null => out.push(b'N'),
            Value::Bool(b) => out.push(if *b { b'T' } else { b'F' }),
            Value::Int(v) => write_int(out, *v),
            Value::Long(v) => write_long(out, *v),
            Value::Double(v) => write_double(out, *v),
            Value::Date(ms) => write_date(out, *ms),
            Value::String(s) => write_string(out, s),
            Value::Binary(bytes) => write_binary(out, bytes),
            Value::List(list) => self.write_list(list, out),
            Value::Map(map) => self.write_map(map, out),
            Value::Object(object) => self.write_object(object, out),
            Value::Ref(index) => {
                out.push(b'Q');
                write_int(out, i32::try_from(*index).unwrap_or(i32::MAX));
            }
        }
    }

    /// Always the fixed-length forms: the length is known, and readers can size the list up front.
    fn write_list(&mut self, list: &List, out: &mut Vec<u8>) {
        let len = list.items.len();
        match (&list.type_name, len) {
            (Some(type_name), 0..=7) => {
                out.push(0x70 + len as u8);
                self.write_type(type_name, out);
            }
            (Some(type_name), _) => {
                out.push(b'V');
                self.write_type(type_name, out);
                write_int(out, i32::try_from(len).unwrap_or(i32::MAX));
            }
            (None, 0..=7) => out.push(0x78 + len as u8),
            (None, _) => {
                out.push(0x58);
                write_int(out, i32::try_from(len).unwrap_or(i32::MAX));
            }
        }
        for item in &list.items {
            self.write(item, out);
        }
    }

    fn write_map(&mut self, map: &Map, out: &mut Vec<u8>) {
        match &map.type_name {
            Some(type_name) => {
                out.push(b'M');
                self.write_type(type_name, out);
            }
            None => out.push(b'H'),
        }
        for (key, value) in &map.entries {
            self.write(key, out);
            self.write(value, out);
        }
        out.push(b'Z');
    }

    fn write_object(&mut self, object: &Object, out: &mut Vec<u8>) {
        let names = || object.fields.iter().map(|(name, _)| name);
        let known = self.classes.get(object.class.as_str()).and_then(|defs| {
            defs.iter()
                .find(|(fields, _)| fields.iter().eq(names()))
                .map(|(_, index)| *index)
        });
        let index = match known {
            Some(index) => index,
            None => {
                let index = self.class_count;
                self.class_count += 1;
                out.push(b'C');
                write_string(out, &object.class);
                write_int(out, i32::try_from(object.fields.len()).unwrap_or(i32::MAX));
                for name in names() {
                    write_string(out, name);
                }
                let entry = self.classes.entry(object.class.clone()).or_default();
                entry.push((names().cloned().collect(), index));
                index
            }
        };
        match index {
            0..=15 => out.push(0x60 + index as u8),
            _ => {
                out.push(b'O');
                write_int(out, index);
            }
        }
        for (_, value) in &object.fields {
            self.write(value, out);
        }
    }

    fn write_type(&mut self, type_name: &str, out: &mut Vec<u8>) {
        if let Some(&index) = self.types.get(type_name) {
            write_int(out, index);
            return;
        }
        let index = i32::try_from(self.types.len()).unwrap_or(i32::MAX);
        self.types.insert(type_name.to_owned(), index);
        write_string(out, type_name);
    }
}

pub(super) fn write_int(out: &mut Vec<u8>, v: i32) {
    match v {
        -0x10..=0x2f => out.push((0x90 + v) as u8),
        -0x800..=0x7ff => out.extend_from_slice(&[(0xc8 + (v >> 8)) as u8, v as u8]),
        -0x40000..=0x3ffff => {
            out.extend_from_slice(&[(0xd4 + (v >> 16)) as u8, (v >> 8) as u8, v as u8])
        }
        _ => {
            out.push(b'I');
            out.extend_from_slice(&v.to_be_bytes());
        }
    }
}

fn write_long(out: &mut Vec<u8>, v: i64) {
    match v {
        -0x08..=0x0f => out.push((0xe0 + v) as u8),
        -0x800..=0x7ff => out.extend_from_slice(&[(0xf8 + (v >> 8)) as u8, v as u8]),
        -0x40000..=0x3ffff => {
            out.extend_from_slice(&[(0x3c + (v >> 16)) as u8, (v >> 8) as u8, v as u8])
        }
        _ => match i32::try_from(v) {
            Ok(v32) => {
                out.push(b'Y');
                out.extend_from_slice(&v32.to_be_bytes());
            }
            Err(_) => {
                out.push(b'L');
                out.extend_from_slice(&v.to_be_bytes());
            }
        },
    }
}

/// A compact form is used only when reading it back gives the same bits (so -0.0 and NaN payloads survive).
fn write_double(out: &mut Vec<u8>, v: f64) {
    let same = |w: f64| w.to_bits() == v.to_bits();
    // `as` saturates and maps NaN to 0; the `same` checks reject every value that would not survive.
    let whole = v as i32;
    let whole = same(f64::from(whole)).then_some(whole);
    let mills = (v * 1000.0) as i32;
    if same(0.0) {
        out.push(0x5b);
    } else if same(1.0) {
        out.push(0x5c);
    } else if let Some(b) = whole.and_then(|w| i8::try_from(w).ok()) {
        out.push(0x5d);
        out.extend_from_slice(&b.to_be_bytes());
    } else if let Some(s) = whole.and_then(|w| i16::try_from(w).ok()) {
        out.push(0x5e);
        out.extend_from_slice(&s.to_be_bytes());
    } else if same(0.001 * f64::from(mills)) {
        // 0x5f carries thousandths as an int (what Java writes and reads), not the spec's 32-bit float.
        out.push(0x5f);
        out.extend_from_slice(&mills.to_be_bytes());
    } else {
        out.push(b'D');
        out.extend_from_slice(&v.to_bits().to_be_bytes());
    }
}

fn write_date(out: &mut Vec<u8>, ms: i64) {
    let minutes = (ms % 60_000 == 0)
        .then(|| i32::try_from(ms / 60_000).ok())
        .flatten();
    match minutes {
        Some(minutes) => {
            out.push(0x4b);
            out.extend_from_slice(&minutes.to_be_bytes());
        }
        None => {
            out.push(0x4a);
            out.extend_from_slice(&ms.to_be_bytes());
        }
    }
}

fn write_binary(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut rest = bytes;
    while let Some((head, tail)) = rest
        .split_at_checked(BINARY_CHUNK)
        .filter(|(_, tail)| !tail.is_empty())
    {
        out.push(b'A');
        out.extend_from_slice(&(BINARY_CHUNK as u16).to_be_bytes());
        out.extend_from_slice(head);
        rest = tail;
    }
    let len = rest.len();
    match len {
        0..=15 => out.push(0x20 + len as u8),
        16..=1023 => out.extend_from_slice(&[0x34 + (len >> 8) as u8, len as u8]),
        _ => {
            out.push(b'B');
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
    }
    out.extend_from_slice(rest);
}
