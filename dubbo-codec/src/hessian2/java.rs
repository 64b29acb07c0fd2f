//! Java types that hessian2 has no form for, built the way Dubbo's hessian-lite writes them, for the
//! mapping layer to put in requests.

use super::value::{Object, Value};

/// hessian-lite writes a `BigDecimal` as an object with its decimal text (Caucho's own serializer loses
/// the value, so this form is the one Dubbo providers read).
pub const BIG_DECIMAL: &str = "java.math.BigDecimal";
/// hessian-lite replaces `java.time` values with these handle objects and resolves them back on read.
pub const LOCAL_DATE: &str = "com.alibaba.com.caucho.hessian.io.java8.LocalDateHandle";
pub const LOCAL_TIME: &str = "com.alibaba.com.caucho.hessian.io.java8.LocalTimeHandle";
pub const LOCAL_DATE_TIME: &str = "com.alibaba.com.caucho.hessian.io.java8.LocalDateTimeHandle";

/// `java.math.BigDecimal` from its decimal text, e.g. `"12.50"`; the text is not checked here.
pub fn big_decimal(decimal_text: &str) -> Value {
    object(
        BIG_DECIMAL,
        [("value", Value::String(decimal_text.to_owned()))],
    )
}

/// `java.time.LocalDate` (month 1-12). The unsigned parts take chrono's accessors as they are; Java
/// holds them as ints.
pub fn local_date(year: i32, month: u32, day: u32) -> Value {
    object(
        LOCAL_DATE,
        [
            ("year", Value::Int(year)),
            ("month", int(month)),
            ("day", int(day)),
        ],
    )
}

/// `java.time.LocalTime`.
pub fn local_time(hour: u32, minute: u32, second: u32, nano: u32) -> Value {
    object(
        LOCAL_TIME,
        [
            ("hour", int(hour)),
            ("minute", int(minute)),
            ("second", int(second)),
            ("nano", int(nano)),
        ],
    )
}

/// `java.time.LocalDateTime`: hessian-lite nests a date handle and a time handle.
pub fn local_date_time(
    year: i32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nano: u32,
) -> Value {
    object(
        LOCAL_DATE_TIME,
        [
            ("date", local_date(year, month, day)),
            ("time", local_time(hour, minute, second, nano)),
        ],
    )
}

/// A Java enum constant: Hessian writes an enum as an object whose one field `name` holds the constant.
pub fn java_enum(class: &str, name: &str) -> Value {
    object(class, [("name", Value::String(name.to_owned()))])
}

/// Every valid date or time part fits; an out-of-range one saturates and Java rejects it on read.
fn int(part: u32) -> Value {
    Value::Int(i32::try_from(part).unwrap_or(i32::MAX))
}

fn object<const N: usize>(class: &str, fields: [(&str, Value); N]) -> Value {
    Value::Object(Object {
        class: class.to_owned(),
        fields: fields
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect(),
    })
}
