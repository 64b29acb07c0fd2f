//! The decoder: one `match` on the leading byte of each value, scalars read here, lists, maps, objects
//! and references in `decode_compound.rs`.
//!
//! Back-references are expanded by re-reading the referenced value's bytes rather than by keeping a copy
//! of every finished list, map and object: copies would cost memory and time for every container whether
//! or not anything refers to it, and refs are rare. Each container records where its bytes start and end;
//! a reference to a container that has ended is decoded again from its start (class definitions and type
//! names met again are not re-registered), a reference to one still open is a cycle and stays a
//! [`Value::Ref`].

use super::cursor::Cursor;
use super::error::DecodeError;
use super::limits::Limits;
use super::strings::{is_string_tag, read_string};
use super::value::Value;

/// A decoder over one Dubbo body: class definitions and references persist across successive values, as in
/// one Hessian2Input stream. After an error the decoder's state is unspecified; drop it.
pub struct Decoder<'a> {
    pub(super) cur: Cursor<'a>,
    pub(super) limits: Limits,
    pub(super) classes: Vec<ClassDef>,
    pub(super) types: Vec<String>,
    /// One per list, map and object, in order of first appearance: hessian's reference numbers.
    pub(super) slots: Vec<Slot>,
    pub(super) nodes: usize,
    pub(super) depth: usize,
    /// Above zero while re-reading a finished value to expand a reference: nothing is registered then.
    pub(super) replaying: usize,
}

pub(super) struct ClassDef {
    pub(super) name: String,
    pub(super) fields: Vec<String>,
    /// Extra node charge per instance, for the names each instance copies.
    pub(super) name_cost: usize,
}

/// Where a referenceable value's bytes lie; `end` is `None` while it is still being decoded.
#[derive(Clone, Copy)]
pub(super) struct Slot {
    pub(super) start: usize,
    pub(super) end: Option<usize>,
}

/// One node is charged per this many bytes of names copied into a value or re-read to expand a
/// reference, so that copying long names or strings is bounded by `max_nodes` like copying values is.
pub(super) const BYTES_PER_NODE: usize = 64;

impl<'a> Decoder<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self::with_limits(bytes, Limits::default())
    }

    pub fn with_limits(bytes: &'a [u8], limits: Limits) -> Self {
        Self {
            cur: Cursor::new(bytes),
            limits,
            classes: Vec::new(),
            types: Vec::new(),
            slots: Vec::new(),
            nodes: 0,
            depth: 0,
            replaying: 0,
        }
    }

    /// Reads the next value of the body.
    pub fn read(&mut self) -> Result<Value, DecodeError> {
        self.value()
    }

    /// Whether every byte of the body has been consumed.
    pub fn is_empty(&self) -> bool {
        self.cur.remaining() == 0
    }

    /// Offset of the next byte to read.
    pub fn position(&self) -> usize {
        self.cur.pos()
    }

    pub(super) fn value(&mut self) -> Result<Value, DecodeError> {
        loop {
            let at = self.cur.pos();
            let tag = self.cur.u8()?;
            // A class definition is not a value: it prefixes one. Looping (not recursing) keeps a run of
            // definitions from using stack.
            if tag == b'C' {
                self.class_def()?;
                continue;
            }
            self.charge(at, 1)?;
            return self.value_after(tag, at);
        }
    }

    fn value_after(&mut self, tag: u8, at: usize) -> Result<Value, DecodeError> {
        Ok(match tag {
            b'N' => Value::Null,
            b'T' => Value::Bool(true),
            b'F' => Value::Bool(false),
            0x80..=0xd7 | b'I' => Value::Int(self.int_after(tag, at, "an int")?),
            0xd8..=0xff | 0x38..=0x3f | b'Y' | b'L' => Value::Long(self.long_after(tag)?),
            0x5b..=0x5f | b'D' => Value::Double(self.double_after(tag)?),
            0x4a => Value::Date(i64::from_be_bytes(self.cur.array()?)),
            0x4b => Value::Date(i64::from(i32::from_be_bytes(self.cur.array()?)) * 60_000),
            0x20..=0x2f | 0x34..=0x37 | b'A' | b'B' => Value::Binary(self.binary_after(tag, at)?),
            _ if is_string_tag(tag) => {
                Value::String(read_string(&mut self.cur, tag, at, self.limits.max_len)?)
            }
            0x55..=0x58 | 0x70..=0x7f => self.list_after(tag, at)?,
            b'H' | b'M' => self.map_after(tag, at)?,
            b'O' | 0x60..=0x6f => self.object_after(tag, at)?,
            b'Q' => self.reference(at)?,
            _ => return Err(DecodeError::unexpected(at, tag, "a value")),
        })
    }

    /// Reads a whole int (lengths, indexes, type references): only the int forms are accepted there.
    pub(super) fn read_int(&mut self, expected: &str) -> Result<i32, DecodeError> {
        let at = self.cur.pos();
        let tag = self.cur.u8()?;
        self.int_after(tag, at, expected)
    }

    pub(super) fn int_after(
        &mut self,
        tag: u8,
        at: usize,
        expected: &str,
    ) -> Result<i32, DecodeError> {
        let tag32 = i32::from(tag);
        Ok(match tag {
            0x80..=0xbf => tag32 - 0x90,
            0xc0..=0xcf => ((tag32 - 0xc8) << 8) | i32::from(self.cur.u8()?),
            0xd0..=0xd7 => {
                let [b1, b0] = self.cur.array()?;
                ((tag32 - 0xd4) << 16) | (i32::from(b1) << 8) | i32::from(b0)
            }
            b'I' => i32::from_be_bytes(self.cur.array()?),
            _ => return Err(DecodeError::unexpected(at, tag, expected)),
        })
    }

    fn long_after(&mut self, tag: u8) -> Result<i64, DecodeError> {
        let tag64 = i64::from(tag);
        Ok(match tag {
            0xd8..=0xef => tag64 - 0xe0,
            0xf0..=0xff => ((tag64 - 0xf8) << 8) | i64::from(self.cur.u8()?),
            0x38..=0x3f => {
                let [b1, b0] = self.cur.array()?;
                ((tag64 - 0x3c) << 16) | (i64::from(b1) << 8) | i64::from(b0)
            }
            b'Y' => i64::from(i32::from_be_bytes(self.cur.array()?)),
            _ => i64::from_be_bytes(self.cur.array()?),
        })
    }

    fn double_after(&mut self, tag: u8) -> Result<f64, DecodeError> {
        Ok(match tag {
            0x5b => 0.0,
            0x5c => 1.0,
            0x5d => f64::from(i8::from_be_bytes(self.cur.array()?)),
            0x5e => f64::from(i16::from_be_bytes(self.cur.array()?)),
            // The spec calls this a 32-bit float, but every real writer (Caucho, hessian-lite,
            // hessian.js) puts an int count of thousandths here, and reads it as such.
            0x5f => 0.001 * f64::from(i32::from_be_bytes(self.cur.array()?)),
            _ => f64::from_bits(u64::from_be_bytes(self.cur.array()?)),
        })
    }

    fn binary_after(&mut self, mut tag: u8, mut at: usize) -> Result<Vec<u8>, DecodeError> {
        let mut out = Vec::new();
        loop {
            let (len, last) = match tag {
                0x20..=0x2f => (usize::from(tag - 0x20), true),
                0x34..=0x37 => (
                    (usize::from(tag - 0x34) << 8) | usize::from(self.cur.u8()?),
                    true,
                ),
                b'B' => (self.cur.u16()?, true),
                b'A' => (self.cur.u16()?, false),
                _ => return Err(DecodeError::unexpected(at, tag, "a binary chunk")),
            };
            if out.len() + len > self.limits.max_len {
                let max = self.limits.max_len;
                return Err(DecodeError::limit(
                    at,
                    format_args!("binary longer than {max} bytes"),
                ));
            }
            // `take` fails before anything is allocated when the input is shorter than the length.
            out.extend_from_slice(self.cur.take(len)?);
            if last {
                return Ok(out);
            }
            at = self.cur.pos();
            tag = self.cur.u8()?;
        }
    }

    /// Reads a string where the grammar requires one (class and field names, type names).
    pub(super) fn read_name(&mut self, expected: &str) -> Result<String, DecodeError> {
        let at = self.cur.pos();
        let tag = self.cur.u8()?;
        if !is_string_tag(tag) {
            return Err(DecodeError::unexpected(at, tag, expected));
        }
        read_string(&mut self.cur, tag, at, self.limits.max_len)
    }

    pub(super) fn charge(&mut self, at: usize, nodes: usize) -> Result<(), DecodeError> {
        self.nodes = self.nodes.saturating_add(nodes);
        if self.nodes > self.limits.max_nodes {
            let max = self.limits.max_nodes;
            return Err(DecodeError::limit(
                at,
                format_args!("more than {max} values (references expanded)"),
            ));
        }
        Ok(())
    }
}
