//! hessian2 serialization, written to the spec (and Dubbo's hessian-lite conventions) and proven against
//! bytes written by Java (Caucho) and hessian.js. Pure: no I/O.
//!
//! Layout:
//! - `value.rs`: the value model both directions share.
//! - `decode.rs`: [`Decoder`], the dispatch on a value's first byte, and scalars; `decode_compound.rs`:
//!   lists, maps, objects, class definitions, type names and back-references.
//! - `strings.rs`: strings on the wire (UTF-16 lengths, CESU-8 surrogates, chunks), both directions.
//! - `encode.rs`: [`Encoder`].
//! - `java.rs`: Java types that need a conventional object form (BigDecimal, java.time, enums).
//! - `limits.rs`, `error.rs`, `cursor.rs`: what bounds decoding, how it fails, bounds-checked reads.
//! - `tests/`: round trips, spec vectors, hostile input, and bytes written by Java and hessian.js
//!   (`testdata/`).

mod cursor;
mod decode;
mod decode_compound;
mod encode;
mod error;
mod java;
mod limits;
mod strings;
mod value;

#[cfg(test)]
mod tests;

pub use decode::Decoder;
pub use encode::Encoder;
pub use error::{DecodeError, DecodeErrorKind};
pub use java::{
    BIG_DECIMAL, LOCAL_DATE, LOCAL_DATE_TIME, LOCAL_TIME, big_decimal, java_enum, local_date,
    local_date_time, local_time,
};
pub use limits::Limits;
pub use value::{List, Map, Object, Value};
