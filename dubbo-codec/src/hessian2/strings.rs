//! Hessian strings on the wire. Lengths count UTF-16 code units and each unit is written UTF-8-style, so a
//! character outside the BMP is two 3-byte surrogate encodings (CESU-8), as Java writes it. Long strings
//! come in chunks: `R` (more follows) then a final `S` or compact form.

use super::cursor::Cursor;
use super::error::DecodeError;

/// Java writers (Caucho, hessian-lite) cut non-final chunks at this many UTF-16 units.
const CHUNK_UNITS: usize = 0x8000;

pub(super) fn is_string_tag(tag: u8) -> bool {
    matches!(tag, 0x00..=0x1f | 0x30..=0x33 | b'R' | b'S')
}

/// Reads a string whose first tag byte, at offset `at`, has been consumed already.
pub(super) fn read_string(
    cur: &mut Cursor<'_>,
    mut tag: u8,
    mut at: usize,
    max_len: usize,
) -> Result<String, DecodeError> {
    let mut sink = Utf16Sink::default();
    let mut total = 0usize;
    loop {
        let (units, last) = match tag {
            0x00..=0x1f => (usize::from(tag), true),
            0x30..=0x33 => (
                (usize::from(tag - 0x30) << 8) | usize::from(cur.u8()?),
                true,
            ),
            b'S' => (cur.u16()?, true),
            b'R' => (cur.u16()?, false),
            _ => return Err(DecodeError::unexpected(at, tag, "a string chunk")),
        };
        total = total.saturating_add(units);
        if total > max_len {
            return Err(DecodeError::limit(
                at,
                format_args!("string longer than {max_len} UTF-16 units"),
            ));
        }
        // Every unit takes at least one byte, so the input left bounds what is worth reserving.
        sink.out.reserve(units.min(cur.remaining()));
        sink.read_units(cur, units)?;
        if last {
            return Ok(sink.finish());
        }
        // A non-final chunk may be followed by any string form, compact ones included.
        at = cur.pos();
        tag = cur.u8()?;
    }
}

/// Collects UTF-16 units into a `String`, joining surrogate pairs even across chunk boundaries and
/// replacing unpaired surrogates with U+FFFD (Rust strings cannot hold them).
#[derive(Default)]
struct Utf16Sink {
    out: String,
    high: Option<u32>,
}

impl Utf16Sink {
    fn read_units(&mut self, cur: &mut Cursor<'_>, units: usize) -> Result<(), DecodeError> {
        let mut left = units;
        while left > 0 {
            // Most text is ASCII: copy runs of it at once, one unit per byte.
            let run = cur.ascii_run(left);
            if !run.is_empty() {
                self.flush_high();
                self.out.push_str(run);
                left -= run.len();
                continue;
            }
            let at = cur.pos();
            let lead = u32::from(cur.u8()?);
            match lead {
                0x00..=0x7f => self.push_unit(lead),
                0xc0..=0xdf => {
                    let b1 = continuation(cur)?;
                    self.push_unit(((lead & 0x1f) << 6) | b1);
                }
                0xe0..=0xef => {
                    let (b1, b2) = (continuation(cur)?, continuation(cur)?);
                    self.push_unit(((lead & 0x0f) << 12) | (b1 << 6) | b2);
                }
                // Real UTF-8 for a non-BMP character: not what Java writes, accepted leniently as the two
                // units it stands for.
                0xf0..=0xf7 => {
                    if left < 2 {
                        return Err(DecodeError::invalid(
                            at,
                            "4-byte character overruns the string length",
                        ));
                    }
                    let (b1, b2, b3) = (continuation(cur)?, continuation(cur)?, continuation(cur)?);
                    let code = ((lead & 0x07) << 18) | (b1 << 12) | (b2 << 6) | b3;
                    self.flush_high();
                    self.out.push(
                        char::from_u32(code)
                            .filter(|c| c.len_utf16() == 2)
                            .unwrap_or('\u{fffd}'),
                    );
                    left -= 1;
                }
                _ => {
                    return Err(DecodeError::invalid(
                        at,
                        format_args!("bad UTF-8 lead byte 0x{lead:02x}"),
                    ));
                }
            }
            left -= 1;
        }
        Ok(())
    }

    fn push_unit(&mut self, unit: u32) {
        match unit {
            0xd800..=0xdbff => {
                self.flush_high();
                self.high = Some(unit);
            }
            0xdc00..=0xdfff => {
                let joined = self
                    .high
                    .take()
                    .map(|high| 0x10000 + ((high - 0xd800) << 10) + (unit - 0xdc00));
                self.out
                    .push(joined.and_then(char::from_u32).unwrap_or('\u{fffd}'));
            }
            _ => {
                self.flush_high();
                self.out.push(char::from_u32(unit).unwrap_or('\u{fffd}'));
            }
        }
    }

    fn flush_high(&mut self) {
        if self.high.take().is_some() {
            self.out.push('\u{fffd}');
        }
    }

    fn finish(mut self) -> String {
        self.flush_high();
        self.out
    }
}

fn continuation(cur: &mut Cursor<'_>) -> Result<u32, DecodeError> {
    let at = cur.pos();
    let byte = cur.u8()?;
    if byte & 0xc0 != 0x80 {
        return Err(DecodeError::invalid(
            at,
            format_args!("bad UTF-8 continuation byte 0x{byte:02x}"),
        ));
    }
    Ok(u32::from(byte & 0x3f))
}

/// Writes `s` in the most compact form, chunked like Java writes it: never splitting a surrogate pair.
pub(super) fn write_string(out: &mut Vec<u8>, s: &str) {
    let mut rest = s;
    let mut left: usize = if s.is_ascii() {
        s.len()
    } else {
        s.chars().map(char::len_utf16).sum()
    };
    while left > CHUNK_UNITS {
        let (head, tail, units) = split_units(rest, CHUNK_UNITS);
        out.push(b'R');
        out.extend_from_slice(&(units as u16).to_be_bytes());
        push_cesu8(out, head);
        rest = tail;
        left -= units;
    }
    match left {
        0..=31 => out.push(left as u8),
        32..=1023 => out.extend_from_slice(&[0x30 + (left >> 8) as u8, left as u8]),
        _ => {
            out.push(b'S');
            out.extend_from_slice(&(left as u16).to_be_bytes());
        }
    }
    push_cesu8(out, rest);
}

/// Splits off the longest prefix of at most `max` UTF-16 units that ends on a character boundary.
fn split_units(s: &str, max: usize) -> (&str, &str, usize) {
    let mut units = 0;
    for (index, c) in s.char_indices() {
        if units + c.len_utf16() > max {
            let (head, tail) = s.split_at_checked(index).unwrap_or((s, ""));
            return (head, tail, units);
        }
        units += c.len_utf16();
    }
    (s, "", units)
}

fn push_cesu8(out: &mut Vec<u8>, s: &str) {
    // BMP characters are the same in UTF-8 and CESU-8; only 4-byte sequences (lead >= 0xf0) differ.
    if !s.bytes().any(|b| b >= 0xf0) {
        out.extend_from_slice(s.as_bytes());
        return;
    }
    let mut units = [0u16; 2];
    for c in s.chars() {
        if c.len_utf16() == 1 {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        } else {
            for &unit in c.encode_utf16(&mut units).iter() {
                out.extend_from_slice(&[
                    0xe0 | (unit >> 12) as u8,
                    0x80 | ((unit >> 6) & 0x3f) as u8,
                    0x80 | (unit & 0x3f) as u8,
                ]);
            }
        }
    }
}
