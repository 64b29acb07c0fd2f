//! Decoding of the values that can be referred back to (lists, maps, objects), of class definitions and
//! type names, and of the references themselves.

use super::decode::{BYTES_PER_NODE, ClassDef, Decoder, Slot};
use super::error::DecodeError;
use super::strings::{is_string_tag, read_string};
use super::value::{List, Map, Object, Value};

impl Decoder<'_> {
    /// `C name field-count field-name*`, after the `C`.
    pub(super) fn class_def(&mut self) -> Result<(), DecodeError> {
        let name = self.read_name("a class name")?;
        let count = self.read_len("class definition field count")?;
        let mut fields = Vec::with_capacity(count.min(self.cur.remaining()));
        for _ in 0..count {
            fields.push(self.read_name("a field name")?);
        }
        if self.replaying == 0 {
            let name_bytes = name.len() + fields.iter().map(String::len).sum::<usize>();
            self.classes.push(ClassDef {
                name,
                fields,
                name_cost: name_bytes / BYTES_PER_NODE,
            });
        }
        Ok(())
    }

    pub(super) fn list_after(&mut self, tag: u8, at: usize) -> Result<Value, DecodeError> {
        let type_name = match tag {
            0x55 | b'V' | 0x70..=0x77 => Some(self.read_type()?),
            _ => None,
        };
        let len = match tag {
            b'V' | 0x58 => Some(self.read_len("list length")?),
            0x70..=0x77 => Some(usize::from(tag - 0x70)),
            0x78..=0x7f => Some(usize::from(tag - 0x78)),
            _ => None,
        };
        self.charge(
            at,
            type_name.as_ref().map_or(0, |t| t.len() / BYTES_PER_NODE),
        )?;
        self.container(at, |d| {
            let items = match len {
                Some(len) => {
                    // Each item takes at least one byte: never reserve more than the input could fill.
                    let mut items = Vec::with_capacity(len.min(d.cur.remaining()));
                    for _ in 0..len {
                        items.push(d.value()?);
                    }
                    items
                }
                None => {
                    let mut items = Vec::new();
                    while !d.at_end()? {
                        d.check_len(at, items.len() + 1, "list")?;
                        items.push(d.value()?);
                    }
                    items
                }
            };
            Ok(Value::List(List { type_name, items }))
        })
    }

    pub(super) fn map_after(&mut self, tag: u8, at: usize) -> Result<Value, DecodeError> {
        let type_name = if tag == b'M' {
            Some(self.read_type()?)
        } else {
            None
        };
        self.charge(
            at,
            type_name.as_ref().map_or(0, |t| t.len() / BYTES_PER_NODE),
        )?;
        self.container(at, |d| {
            let mut entries = Vec::new();
            while !d.at_end()? {
                d.check_len(at, entries.len() + 1, "map")?;
                let key = d.value()?;
                let value = d.value()?;
                entries.push((key, value));
            }
            Ok(Value::Map(Map { type_name, entries }))
        })
    }

    pub(super) fn object_after(&mut self, tag: u8, at: usize) -> Result<Value, DecodeError> {
        let index = match tag {
            b'O' => self.read_int("a class definition index")?,
            _ => i32::from(tag - 0x60),
        };
        let def = usize::try_from(index)
            .ok()
            .and_then(|i| self.classes.get(i));
        let def = def.ok_or_else(|| {
            DecodeError::invalid(at, format_args!("undefined class definition {index}"))
        })?;
        let (class, names, name_cost) = (def.name.clone(), def.fields.clone(), def.name_cost);
        self.charge(at, name_cost)?;
        self.container(at, |d| {
            let mut fields = Vec::with_capacity(names.len());
            for name in names {
                let value = d.value()?;
                fields.push((name, value));
            }
            Ok(Value::Object(Object { class, fields }))
        })
    }

    /// `Q int`, after the `Q`: a value that has ended is decoded again from its bytes; one still open (an
    /// ancestor of this reference) is a cycle and stays a reference.
    pub(super) fn reference(&mut self, at: usize) -> Result<Value, DecodeError> {
        let index = self.read_int("a reference index")?;
        let slot = usize::try_from(index)
            .ok()
            .and_then(|i| self.slots.get(i))
            .copied();
        let slot = slot.ok_or_else(|| {
            DecodeError::invalid(at, format_args!("reference to undefined value {index}"))
        })?;
        match slot.end {
            // Positions, not a flag, decide "ended": when re-reading, a value may be finished in the table
            // yet still enclose the reference being re-read.
            Some(end) if end <= at => self.expand(slot, at),
            _ => Ok(Value::Ref(index.unsigned_abs())),
        }
    }

    fn expand(&mut self, slot: Slot, at: usize) -> Result<Value, DecodeError> {
        let span = slot.end.unwrap_or(slot.start).saturating_sub(slot.start);
        self.charge(at, span / BYTES_PER_NODE)?;
        let resume = self.cur.pos();
        self.cur.seek(slot.start);
        self.replaying += 1;
        let value = self.value();
        self.replaying -= 1;
        self.cur.seek(resume);
        value
    }

    /// Runs `body` one nesting level deeper, registering a reference slot for the value it reads.
    fn container(
        &mut self,
        at: usize,
        body: impl FnOnce(&mut Self) -> Result<Value, DecodeError>,
    ) -> Result<Value, DecodeError> {
        if self.depth >= self.limits.max_depth {
            let max = self.limits.max_depth;
            return Err(DecodeError::limit(
                at,
                format_args!("nesting deeper than {max}"),
            ));
        }
        let slot = (self.replaying == 0).then(|| {
            self.slots.push(Slot {
                start: at,
                end: None,
            });
            self.slots.len() - 1
        });
        self.depth += 1;
        let result = body(self);
        self.depth -= 1;
        if let Some(slot) = slot.and_then(|i| self.slots.get_mut(i)) {
            slot.end = Some(self.cur.pos());
        }
        result
    }

    /// `type ::= string | int`: a new type name is remembered; an int refers to one seen before.
    fn read_type(&mut self) -> Result<String, DecodeError> {
        let at = self.cur.pos();
        let tag = self.cur.u8()?;
        if is_string_tag(tag) {
            let name = read_string(&mut self.cur, tag, at, self.limits.max_len)?;
            if self.replaying == 0 {
                self.types.push(name.clone());
            }
            return Ok(name);
        }
        let index = self.int_after(tag, at, "a type name or type reference")?;
        let name = usize::try_from(index)
            .ok()
            .and_then(|i| self.types.get(i))
            .cloned();
        name.ok_or_else(|| {
            DecodeError::invalid(at, format_args!("undefined type reference {index}"))
        })
    }

    /// A non-negative int no larger than `max_len`.
    fn read_len(&mut self, what: &str) -> Result<usize, DecodeError> {
        let at = self.cur.pos();
        let len = self.read_int(what)?;
        let len = usize::try_from(len)
            .map_err(|_| DecodeError::invalid(at, format_args!("negative {what} {len}")))?;
        self.check_len(at, len, what)?;
        Ok(len)
    }

    fn check_len(&self, at: usize, len: usize, what: &str) -> Result<(), DecodeError> {
        if len > self.limits.max_len {
            let max = self.limits.max_len;
            return Err(DecodeError::limit(
                at,
                format_args!("{what} longer than {max}"),
            ));
        }
        Ok(())
    }

    /// Consumes the `Z` that ends a variable-length list or map, if it is next.
    fn at_end(&mut self) -> Result<bool, DecodeError> {
        if self.cur.peek() == Some(b'Z') {
            self.cur.u8()?;
            return Ok(true);
        }
        Ok(false)
    }
}
