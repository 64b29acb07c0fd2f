//! Integers as proto3 JSON writes them: the four value ranges (every integer field kind is one of them),
//! and integer text in the forms the JSON mapping accepts.
//!
//! The mapping allows exponent notation "in both quoted and unquoted forms" (`"1e3"`), and the reference
//! implementations accept a decimal point when the value is integral (`"12.0"`); fractions are refused.
//! The value is computed exactly from the digits, never through `f64`, so `"9007199254740993"` and
//! `"90071992547409930e-1"` are the same integer. Anything beyond a range is refused, never clamped.

use std::fmt;

/// The value range of one integer field kind (`sint32`, `sfixed32` and `int32` share one, and so on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IntKind {
    Int32,
    Int64,
    Uint32,
    Uint64,
}

/// Why a value is not an integer of a kind; `Display` says it with the text and the limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IntegerError {
    OutOfRange {
        text: String,
        kind: IntKind,
    },
    Fraction {
        text: String,
        kind: IntKind,
    },
    Invalid {
        text: String,
        kind: IntKind,
    },
    /// A double exactly at the range's edge, which may be the rounding of a literal beyond it.
    Rounded {
        text: String,
        kind: IntKind,
    },
}

impl IntKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            IntKind::Int32 => "int32",
            IntKind::Int64 => "int64",
            IntKind::Uint32 => "uint32",
            IntKind::Uint64 => "uint64",
        }
    }

    pub(crate) fn min(self) -> i128 {
        match self {
            IntKind::Int32 => i32::MIN.into(),
            IntKind::Int64 => i64::MIN.into(),
            IntKind::Uint32 | IntKind::Uint64 => 0,
        }
    }

    pub(crate) fn max(self) -> i128 {
        match self {
            IntKind::Int32 => i32::MAX.into(),
            IntKind::Int64 => i64::MAX.into(),
            IntKind::Uint32 => u32::MAX.into(),
            IntKind::Uint64 => u64::MAX.into(),
        }
    }

    /// Parses integer text (see the module comment) into this kind's range.
    pub(crate) fn parse(self, text: &str) -> Result<i128, IntegerError> {
        match integral(text) {
            Integral::Value(value) if (self.min()..=self.max()).contains(&value) => Ok(value),
            Integral::Value(_) | Integral::TooLarge => Err(IntegerError::OutOfRange {
                text: text.to_string(),
                kind: self,
            }),
            Integral::Fraction => Err(IntegerError::Fraction {
                text: text.to_string(),
                kind: self,
            }),
            Integral::Invalid => Err(IntegerError::Invalid {
                text: text.to_string(),
                kind: self,
            }),
        }
    }

    /// A JSON number the parser could only give as `f64` (it had a fraction or exponent part, or did not
    /// fit 64 bits), checked exactly: `2^63` is out of range for int64, not `i64::MAX`.
    pub(crate) fn check_f64(self, value: f64) -> Result<i128, IntegerError> {
        // An integral float is shown as the integer it is (`9223372036854775808`, not `9223372036854776000`).
        let text = || {
            if value.is_finite() && value.fract() == 0.0 && value.abs() < 2f64.powi(120) {
                format!("{}", value as i128)
            } else {
                format!("{value}")
            }
        };
        if !value.is_finite() {
            return Err(IntegerError::Invalid {
                text: text(),
                kind: self,
            });
        }
        if value.fract() != 0.0 {
            return Err(IntegerError::Fraction {
                text: text(),
                kind: self,
            });
        }
        // 2^120 is far beyond every range, and below it the conversion is exact.
        if value.abs() >= 2f64.powi(120) {
            return Err(IntegerError::OutOfRange {
                text: text(),
                kind: self,
            });
        }
        let integer = value as i128;
        // serde_json reads an integer literal below -2^63 as the nearest double, which may be -2^63
        // itself: so -2^63 as a double may stand for -9223372036854775809 and is refused (the literal
        // `-9223372036854775808` arrives as an exact integer and is taken).
        if self == IntKind::Int64 && integer == self.min() {
            return Err(IntegerError::Rounded {
                text: text(),
                kind: self,
            });
        }
        if (self.min()..=self.max()).contains(&integer) {
            Ok(integer)
        } else {
            Err(IntegerError::OutOfRange {
                text: text(),
                kind: self,
            })
        }
    }
}

impl fmt::Display for IntegerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IntegerError::OutOfRange { text, kind } => write!(
                f,
                "`{text}` is out of range for {} ({} to {})",
                kind.name(),
                kind.min(),
                kind.max()
            ),
            IntegerError::Fraction { text, kind } => {
                write!(
                    f,
                    "`{text}` is not a whole number, as {} needs",
                    kind.name()
                )
            }
            IntegerError::Invalid { text, kind } => {
                write!(f, "`{text}` is not a valid {}", kind.name())
            }
            IntegerError::Rounded { text, kind } => write!(
                f,
                "`{text}` arrived as a floating-point number at the {} limit, so it may stand for a \
                 value beyond it; write it as an exact integer",
                kind.name()
            ),
        }
    }
}

enum Integral {
    Value(i128),
    /// Integral, but beyond 39 digits.
    TooLarge,
    Fraction,
    Invalid,
}

/// `[+-]digits[.digits][(e|E)[+-]digits]`, with at least one digit before the exponent, evaluated exactly.
fn integral(text: &str) -> Integral {
    // The usual spelling, plain decimal, without the general path's digit buffer.
    if text.len() <= 39
        && text.bytes().all(|b| b.is_ascii_digit() || b == b'-')
        && let Ok(value) = text.parse::<i128>()
    {
        return Integral::Value(value);
    }
    let bytes = text.as_bytes();
    let (negative, rest) = match bytes.first() {
        Some(b'-') => (true, &bytes[1..]),
        Some(b'+') => (false, &bytes[1..]),
        _ => (false, bytes),
    };
    let (mantissa, exponent) = match rest.iter().position(|&b| b == b'e' || b == b'E') {
        Some(at) => (&rest[..at], Some(&rest[at + 1..])),
        None => (rest, None),
    };
    let (whole, fraction) = match mantissa.iter().position(|&b| b == b'.') {
        Some(at) => (&mantissa[..at], &mantissa[at + 1..]),
        None => (mantissa, &[][..]),
    };
    let all_digits = |part: &[u8]| part.iter().all(u8::is_ascii_digit);
    if whole.len() + fraction.len() == 0 || !all_digits(whole) || !all_digits(fraction) {
        return Integral::Invalid;
    }
    let exponent = match exponent {
        None => 0i64,
        Some(part) => match exponent_value(part) {
            Some(value) => value,
            None => return Integral::Invalid,
        },
    };
    // The digits without leading zeros, and the power of ten they are scaled by.
    let digits: Vec<u8> = whole.iter().chain(fraction).copied().collect();
    let first = digits
        .iter()
        .position(|&d| d != b'0')
        .unwrap_or(digits.len());
    let significant = &digits[first..];
    if significant.is_empty() {
        return Integral::Value(0);
    }
    let scale = exponent - fraction.len() as i64;
    let (kept, zeros) = if scale < 0 {
        let cut = scale.unsigned_abs();
        if cut >= significant.len() as u64 {
            return Integral::Fraction;
        }
        let split = significant.len() - cut as usize;
        if significant[split..].iter().any(|&d| d != b'0') {
            return Integral::Fraction;
        }
        (&significant[..split], 0)
    } else {
        (significant, scale.unsigned_abs())
    };
    if kept.len() as u64 + zeros > 39 {
        return Integral::TooLarge;
    }
    let mut value: i128 = 0;
    let digits = kept.iter().map(|&d| i128::from(d - b'0'));
    let padded = digits.chain(std::iter::repeat_n(0, zeros as usize));
    for digit in padded {
        match value.checked_mul(10).and_then(|v| v.checked_add(digit)) {
            Some(next) => value = next,
            None => return Integral::TooLarge,
        }
    }
    Integral::Value(if negative { -value } else { value })
}

/// The exponent's value, saturated far beyond any range so that `1e99999999999` is "too large".
fn exponent_value(part: &[u8]) -> Option<i64> {
    let (negative, digits) = match part.first() {
        Some(b'-') => (true, &part[1..]),
        Some(b'+') => (false, &part[1..]),
        _ => (false, part),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let magnitude = digits.iter().fold(0i64, |acc, &d| {
        acc.saturating_mul(10)
            .saturating_add(i64::from(d - b'0'))
            .min(1 << 40)
    });
    Some(if negative { -magnitude } else { magnitude })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_integral_spelling_exactly_and_refuses_the_rest() {
        use IntKind::*;
        let table: &[(IntKind, &str, Result<i128, &str>)] = &[
            (Int32, "0", Ok(0)),
            (Int32, "-0", Ok(0)),
            (Uint32, "-0", Ok(0)),
            (Int32, "+7", Ok(7)),
            (Int32, "007", Ok(7)),
            (Int32, "1e3", Ok(1000)),
            (Int32, "1E+3", Ok(1000)),
            (Int32, "12.0", Ok(12)),
            (Int32, "1.", Ok(1)),
            (Int32, "1200e-2", Ok(12)),
            (Int32, "-2147483648", Ok(-2147483648)),
            (
                Int32,
                "2147483648",
                Err("out of range for int32 (-2147483648 to 2147483647)"),
            ),
            (Int32, "2.147483648e9", Err("out of range for int32")),
            (Uint32, "4294967295", Ok(4294967295)),
            (
                Uint32,
                "-1",
                Err("out of range for uint32 (0 to 4294967295)"),
            ),
            (Int64, "9223372036854775807", Ok(i64::MAX.into())),
            (Int64, "9223372036854775808", Err("out of range for int64")),
            (Int64, "-9223372036854775808", Ok(i64::MIN.into())),
            (Int64, "90071992547409930e-1", Ok(9007199254740993)),
            (Uint64, "18446744073709551615", Ok(u64::MAX.into())),
            (
                Uint64,
                "18446744073709551616",
                Err("out of range for uint64"),
            ),
            (Uint64, "1e19", Ok(10_000_000_000_000_000_000)),
            (Uint64, "1e20", Err("out of range for uint64")),
            (Int64, "1e99999999999", Err("out of range for int64")),
            (Int64, "0e99999999999", Ok(0)),
            (Int64, "9".repeat(60).leak(), Err("out of range for int64")),
            (
                Int32,
                "1.5",
                Err("`1.5` is not a whole number, as int32 needs"),
            ),
            (Int32, "15e-1", Err("not a whole number")),
            (Int32, "1e-99999999999", Err("not a whole number")),
            (Int32, "", Err("`` is not a valid int32")),
            (Int32, "-", Err("not a valid")),
            (Int32, ".", Err("not a valid")),
            (Int32, "1e", Err("not a valid")),
            (Int32, " 1", Err("not a valid")),
            (Int32, "0x10", Err("not a valid")),
            (Int32, "1_000", Err("not a valid")),
            (Int32, "NaN", Err("not a valid")),
            (Int32, "١", Err("not a valid")),
        ];
        for (kind, text, expected) in table {
            match (kind.parse(text), expected) {
                (Ok(got), Ok(want)) => assert_eq!(got, *want, "{text}"),
                (Err(err), Err(phrase)) => {
                    assert!(err.to_string().contains(phrase), "{text}: {err}")
                }
                (got, _) => panic!("{kind:?} {text}: unexpected {got:?}"),
            }
        }
    }

    #[test]
    fn checks_json_numbers_that_arrive_as_floats_exactly() {
        use IntKind::*;
        assert_eq!(Int64.check_f64(2f64.powi(62)), Ok(1 << 62));
        assert_eq!(Int64.check_f64(-(2f64.powi(62))), Ok(-(1 << 62)));
        // The double nearest -9223372036854775809 is -2^63.
        assert!(Int64.check_f64(-(2f64.powi(63))).is_err());
        // 2^63 and 2^64 are where a saturating cast would answer i64::MAX and u64::MAX.
        assert!(Int64.check_f64(2f64.powi(63)).is_err());
        assert_eq!(Uint64.check_f64(2f64.powi(63)), Ok(1 << 63));
        assert!(Uint64.check_f64(2f64.powi(64)).is_err());
        assert!(Uint64.check_f64(-1.0).is_err());
        assert_eq!(Uint32.check_f64(-0.0), Ok(0));
        assert!(Int32.check_f64(0.5).is_err());
        assert!(Int32.check_f64(f64::INFINITY).is_err());
        assert!(Int32.check_f64(1e300).is_err());
    }
}
