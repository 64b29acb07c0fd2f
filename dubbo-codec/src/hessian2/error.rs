//! The decoder's one error type: what went wrong and at which byte offset of the body.

use std::fmt;

/// Why decoding stopped. Callers map these differently: a [`DecodeErrorKind::Limit`] is a body we refuse
/// (too large or too deep), the others are bodies the peer got wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// The input ended inside a value.
    Truncated,
    /// A byte that starts no value (reserved codes, a stray `Z`, a non-string where a string must be).
    UnexpectedByte,
    /// Well-formed framing with impossible contents (undefined reference, bad UTF-8, negative length).
    Invalid,
    /// A [`super::Limits`] bound was hit.
    Limit,
}

/// A hessian2 decoding failure; the message names the problem and the byte offset where it was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("hessian2: {what} at byte {offset}")]
pub struct DecodeError {
    kind: DecodeErrorKind,
    what: String,
    offset: usize,
}

impl DecodeError {
    pub(super) fn new(kind: DecodeErrorKind, offset: usize, what: impl fmt::Display) -> Self {
        Self {
            kind,
            what: what.to_string(),
            offset,
        }
    }

    pub(super) fn truncated(offset: usize) -> Self {
        Self::new(
            DecodeErrorKind::Truncated,
            offset,
            "unexpected end of input",
        )
    }

    pub(super) fn unexpected(offset: usize, byte: u8, expected: &str) -> Self {
        Self::new(
            DecodeErrorKind::UnexpectedByte,
            offset,
            format_args!("unexpected byte 0x{byte:02x} where {expected} was expected"),
        )
    }

    pub(super) fn invalid(offset: usize, what: impl fmt::Display) -> Self {
        Self::new(DecodeErrorKind::Invalid, offset, what)
    }

    pub(super) fn limit(offset: usize, what: impl fmt::Display) -> Self {
        Self::new(DecodeErrorKind::Limit, offset, what)
    }

    pub fn kind(&self) -> DecodeErrorKind {
        self.kind
    }

    /// Byte offset in the body where the problem was found.
    pub fn offset(&self) -> usize {
        self.offset
    }
}
