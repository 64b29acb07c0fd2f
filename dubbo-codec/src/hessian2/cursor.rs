//! A bounds-checked read position over one body: every read that runs past the end is a truncation
//! error at the offset where it started.

use super::error::DecodeError;

pub(super) struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    pub(super) fn pos(&self) -> usize {
        self.pos
    }

    /// Moves to an earlier offset; used to re-read a finished value when expanding a back-reference.
    pub(super) fn seek(&mut self, pos: usize) {
        self.pos = pos.min(self.bytes.len());
    }

    pub(super) fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    pub(super) fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    pub(super) fn u8(&mut self) -> Result<u8, DecodeError> {
        let byte = self.peek().ok_or(DecodeError::truncated(self.pos))?;
        self.pos += 1;
        Ok(byte)
    }

    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len());
        let slice = end.and_then(|end| self.bytes.get(self.pos..end));
        let slice = slice.ok_or(DecodeError::truncated(self.pos))?;
        self.pos += n;
        Ok(slice)
    }

    /// Consumes the longest run of ASCII bytes, at most `max` long.
    pub(super) fn ascii_run(&mut self, max: usize) -> &'a str {
        let rest = self.bytes.get(self.pos..).unwrap_or_default();
        let len = rest.iter().take(max).take_while(|b| b.is_ascii()).count();
        let run = rest
            .get(..len)
            .and_then(|run| std::str::from_utf8(run).ok())
            .unwrap_or_default();
        self.pos += run.len();
        run
    }

    pub(super) fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let at = self.pos;
        let slice = self.take(N)?;
        <[u8; N]>::try_from(slice).map_err(|_| DecodeError::truncated(at))
    }

    pub(super) fn u16(&mut self) -> Result<usize, DecodeError> {
        Ok(usize::from(u16::from_be_bytes(self.array()?)))
    }
}
