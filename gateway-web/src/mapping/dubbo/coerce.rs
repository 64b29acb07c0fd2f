//! JSON (or text from a path, query or header) → a hessian2 value of a declared Java type. Every failure
//! is a message a client can act on; the caller prefixes the parameter's name.

use base64::Engine as _;
use chrono::{DateTime, Datelike as _, NaiveDate, NaiveDateTime, Timelike as _};
use serde_json::Value as Json;

use super::classes::{Class, Classes};
use super::java_type::JavaType;
use dubbo_codec::hessian2::{self, List, Map, Object, Value};

/// How POJOs travel: generic invocation wants maps with a `class` key, a direct call wants typed objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PojoForm {
    Map,
    Object,
}

/// What coercion reads besides the value: the POJO form of the call and the classes the API declares.
#[derive(Clone, Copy)]
pub struct Coerce<'a> {
    pub form: PojoForm,
    pub classes: &'a Classes,
}

/// Converts a JSON value to the declared type.
pub fn from_json(
    ty: &JavaType,
    json: &Json,
    raw_number: Option<&str>,
    cx: Coerce<'_>,
) -> Result<Value, String> {
    let form = cx.form;
    if json.is_null() {
        return if ty.is_primitive() {
            Err(format!("a {ty} cannot be null"))
        } else {
            Ok(Value::Null)
        };
    }
    match ty {
        JavaType::Boolean { .. } => match json {
            Json::Bool(b) => Ok(Value::Bool(*b)),
            Json::String(s) => from_text(ty, s, cx),
            _ => Err(expected("true or false", json)),
        },
        JavaType::Byte { .. } => int_in(json, i8::MIN.into(), i8::MAX.into(), ty, cx),
        JavaType::Short { .. } => int_in(json, i16::MIN.into(), i16::MAX.into(), ty, cx),
        JavaType::Int { .. } => int_in(json, i32::MIN.into(), i32::MAX.into(), ty, cx),
        JavaType::Long { .. } => match json {
            Json::Number(n) => n
                .as_i64()
                .map(Value::Long)
                .ok_or_else(|| format!("{n} is not a {ty} (-2^63..2^63-1, no fraction)")),
            Json::String(s) => from_text(ty, s, cx),
            _ => Err(expected("an integer", json)),
        },
        JavaType::Float { .. } | JavaType::Double { .. } => match json {
            Json::Number(n) => n
                .as_f64()
                .map(Value::Double)
                .ok_or_else(|| format!("{n} is not a number")),
            Json::String(s) => from_text(ty, s, cx),
            _ => Err(expected("a number", json)),
        },
        JavaType::Char { .. }
        | JavaType::String
        | JavaType::Date
        | JavaType::LocalDate
        | JavaType::LocalDateTime
        | JavaType::Bytes
        | JavaType::Enum(_) => match json {
            Json::String(s) => from_text(ty, s, cx),
            Json::Number(n) if *ty == JavaType::Date => n
                .as_i64()
                .map(Value::Date)
                .ok_or_else(|| format!("{n} is not epoch milliseconds")),
            _ => Err(expected("a string", json)),
        },
        JavaType::BigDecimal => match json {
            // The raw text keeps every digit a float would lose.
            Json::Number(n) => Ok(hessian2::big_decimal(
                raw_number
                    .map_or_else(|| n.to_string(), str::to_string)
                    .as_str(),
            )),
            Json::String(s) => from_text(ty, s, cx),
            _ => Err(expected("a decimal number or string", json)),
        },
        JavaType::Array(item) => {
            let items = elements(json, item, cx)?;
            Ok(Value::List(List {
                type_name: Some(item.array_type_name()),
                items,
            }))
        }
        JavaType::List { item, .. } => {
            let items = match item {
                Some(item) => elements(json, item, cx)?,
                None => json
                    .as_array()
                    .ok_or_else(|| expected("an array", json))?
                    .iter()
                    .map(|j| natural(j, form))
                    .collect(),
            };
            Ok(Value::List(List {
                type_name: None,
                items,
            }))
        }
        JavaType::Map { key, value, .. } => {
            let object = json
                .as_object()
                .ok_or_else(|| expected("an object", json))?;
            let mut entries = Vec::with_capacity(object.len());
            for (k, v) in object {
                let key = match key {
                    Some(key) => from_text(key, k, cx).map_err(|e| format!("key `{k}`: {e}"))?,
                    None => Value::String(k.clone()),
                };
                let value = match value {
                    Some(ty) => from_json(ty, v, None, cx).map_err(|e| format!("`{k}`: {e}"))?,
                    None => natural(v, form),
                };
                entries.push((key, value));
            }
            Ok(Value::Map(Map {
                type_name: None,
                entries,
            }))
        }
        JavaType::Object => Ok(natural(json, form)),
        JavaType::Pojo(class) => {
            let object = json
                .as_object()
                .ok_or_else(|| expected(&format!("an object ({class})"), json))?;
            match cx.classes.get(class) {
                Some(Class::Pojo(_)) => typed_pojo(class, object, cx),
                _ => Ok(pojo(class, object, form)),
            }
        }
    }
}

/// A POJO of a declared class: every member a declared field, converted to the field's type. A
/// `class` member may name a declared subclass, whose fields then apply.
fn typed_pojo(
    class: &str,
    object: &serde_json::Map<String, Json>,
    cx: Coerce<'_>,
) -> Result<Value, String> {
    let class = match object.get("class") {
        None => class,
        Some(Json::String(named)) if named == class => class,
        Some(Json::String(named)) if matches!(cx.classes.get(named), Some(Class::Pojo(_))) => named,
        Some(other) => {
            return Err(format!(
                "`class` {other} is neither {class} nor another class this API declares"
            ));
        }
    };
    let Some(Class::Pojo(declared)) = cx.classes.get(class) else {
        return Err(format!("{class} is not a declared POJO"));
    };
    let mut fields = Vec::with_capacity(object.len());
    for (name, value) in object.iter().filter(|(k, _)| k.as_str() != "class") {
        let Some(ty) = declared.get(name) else {
            let known: Vec<&str> = declared.keys().map(String::as_str).collect();
            return Err(format!(
                "`{name}` is not a field of {class} (its fields: {})",
                known.join(", ")
            ));
        };
        if *ty == JavaType::BigDecimal
            && let Json::Number(n) = value
            && significant_digits(&n.to_string()) > 15
        {
            return Err(format!(
                "`{name}`: {n} has more digits than a JSON number keeps here; send the decimal as a string"
            ));
        }
        let converted = from_json(ty, value, None, cx).map_err(|e| format!("`{name}`: {e}"))?;
        fields.push((name.clone(), converted));
    }
    Ok(assemble(class, fields, cx.form))
}

/// Significant digits of a number's shortest text: beyond 15, a double may not have kept them all.
fn significant_digits(text: &str) -> usize {
    let mantissa = text.split(['e', 'E']).next().unwrap_or(text);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    digits.trim_start_matches('0').trim_end_matches('0').len()
}

/// Converts text (a path variable, query parameter or header) to the declared type.
pub fn from_text(ty: &JavaType, text: &str, cx: Coerce<'_>) -> Result<Value, String> {
    let int = |min: i64, max: i64| -> Result<Value, String> {
        let n: i64 = text
            .trim()
            .parse()
            .map_err(|_| format!("`{text}` is not a {ty}"))?;
        if n < min || n > max {
            return Err(format!("{n} is out of range for {ty} ({min}..{max})"));
        }
        Ok(if max > i32::MAX.into() {
            Value::Long(n)
        } else {
            Value::Int(n as i32)
        })
    };
    match ty {
        JavaType::Boolean { .. } => match text {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(format!("`{text}` is not true or false")),
        },
        JavaType::Byte { .. } => int(i8::MIN.into(), i8::MAX.into()),
        JavaType::Short { .. } => int(i16::MIN.into(), i16::MAX.into()),
        JavaType::Int { .. } => int(i32::MIN.into(), i32::MAX.into()),
        JavaType::Long { .. } => int(i64::MIN, i64::MAX),
        JavaType::Float { .. } | JavaType::Double { .. } => match text {
            "NaN" => Ok(Value::Double(f64::NAN)),
            "Infinity" => Ok(Value::Double(f64::INFINITY)),
            "-Infinity" => Ok(Value::Double(f64::NEG_INFINITY)),
            _ => text
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(Value::Double)
                .ok_or_else(|| format!("`{text}` is not a number")),
        },
        JavaType::Char { .. } => {
            let mut units = text.encode_utf16();
            match (units.next(), units.next()) {
                (Some(_), None) => Ok(Value::String(text.to_string())),
                _ => Err(format!("`{text}` is not a single character")),
            }
        }
        JavaType::String => Ok(Value::String(text.to_string())),
        JavaType::BigDecimal => {
            if is_decimal(text) {
                Ok(hessian2::big_decimal(text.trim()))
            } else {
                Err(format!("`{text}` is not a decimal number"))
            }
        }
        JavaType::Date => parse_date(text).map(Value::Date),
        JavaType::LocalDate => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(|d| hessian2::local_date(d.year(), d.month(), d.day()))
            .map_err(|_| format!("`{text}` is not a date (YYYY-MM-DD)")),
        JavaType::LocalDateTime => NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
            .map(|t| {
                hessian2::local_date_time(
                    t.year(),
                    t.month(),
                    t.day(),
                    t.hour(),
                    t.minute(),
                    t.second(),
                    t.nanosecond(),
                )
            })
            .map_err(|_| format!("`{text}` is not a local date-time (YYYY-MM-DDTHH:MM:SS)")),
        JavaType::Bytes => base64::engine::general_purpose::STANDARD
            .decode(text)
            .or_else(|_| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text.trim_end_matches('='))
            })
            .map(Value::Binary)
            .map_err(|_| "not valid base64".to_string()),
        JavaType::Enum(class) => {
            if let Some(Class::Enum(constants)) = cx.classes.get(class) {
                return if constants.iter().any(|c| c == text) {
                    Ok(hessian2::java_enum(class, text))
                } else {
                    Err(format!(
                        "`{text}` is not a constant of {class} ({})",
                        constants.join(", ")
                    ))
                };
            }
            if !text.is_empty()
                && text
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '$')
            {
                Ok(hessian2::java_enum(class, text))
            } else {
                Err(format!("`{text}` is not a constant name of {class}"))
            }
        }
        // Structured types from text: the text is JSON (e.g. a header carrying a small object).
        _ => {
            let json: Json =
                serde_json::from_str(text).map_err(|_| format!("`{text}` is not JSON for {ty}"))?;
            from_json(ty, &json, None, cx)
        }
    }
}

/// A JSON value in its natural Java form, for `Object` and undeclared contents.
pub fn natural(json: &Json, form: PojoForm) -> Value {
    match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => i32::try_from(i).map_or(Value::Long(i), Value::Int),
            None => Value::Double(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::String(s.clone()),
        Json::Array(items) => Value::List(List {
            type_name: None,
            items: items.iter().map(|j| natural(j, form)).collect(),
        }),
        Json::Object(object) => match object.get("class").and_then(Json::as_str) {
            // A nested object that names its class is a POJO of that class.
            Some(class) => pojo(class, object, form),
            None => Value::Map(Map {
                type_name: None,
                entries: object
                    .iter()
                    .map(|(k, v)| (Value::String(k.clone()), natural(v, form)))
                    .collect(),
            }),
        },
    }
}

fn pojo(class: &str, object: &serde_json::Map<String, Json>, form: PojoForm) -> Value {
    let fields = object
        .iter()
        .filter(|(k, _)| k.as_str() != "class")
        .map(|(k, v)| (k.clone(), natural(v, form)))
        .collect();
    assemble(class, fields, form)
}

/// A POJO in the form the call needs: a map with a `class` key (generic) or a typed object (direct).
fn assemble(class: &str, fields: Vec<(String, Value)>, form: PojoForm) -> Value {
    match form {
        PojoForm::Map => {
            let mut entries = Vec::with_capacity(fields.len() + 1);
            entries.push((
                Value::String("class".into()),
                Value::String(class.to_string()),
            ));
            entries.extend(fields.into_iter().map(|(k, v)| (Value::String(k), v)));
            Value::Map(Map {
                type_name: None,
                entries,
            })
        }
        PojoForm::Object => Value::Object(Object {
            class: class.to_string(),
            fields,
        }),
    }
}

fn elements(json: &Json, item: &JavaType, cx: Coerce<'_>) -> Result<Vec<Value>, String> {
    let array = json.as_array().ok_or_else(|| expected("an array", json))?;
    array
        .iter()
        .enumerate()
        .map(|(i, j)| from_json(item, j, None, cx).map_err(|e| format!("[{i}]: {e}")))
        .collect()
}

fn int_in(json: &Json, min: i64, max: i64, ty: &JavaType, cx: Coerce<'_>) -> Result<Value, String> {
    match json {
        Json::Number(n) => match n.as_i64() {
            Some(i) if i >= min && i <= max => Ok(Value::Int(i as i32)),
            _ => Err(format!("{n} is out of range for {ty} ({min}..{max})")),
        },
        Json::String(s) => from_text(ty, s, cx),
        _ => Err(expected("an integer", json)),
    }
}

fn expected(what: &str, got: &Json) -> String {
    let kind = match got {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    };
    format!("expected {what}, got {kind}")
}

fn is_decimal(text: &str) -> bool {
    let text = text.trim();
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(i) => (&unsigned[..i], Some(&unsigned[i + 1..])),
        None => (unsigned, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    !(whole.is_empty() && fraction.is_empty())
        && digits(whole)
        && digits(fraction)
        && exponent.is_none_or(|e| {
            let e = e.strip_prefix(['-', '+']).unwrap_or(e);
            !e.is_empty() && digits(e)
        })
}

/// RFC 3339 (any offset), a bare date (midnight UTC), or epoch milliseconds.
fn parse_date(text: &str) -> Result<i64, String> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.timestamp_millis());
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(date
            .and_hms_opt(0, 0, 0)
            .map_or(0, |t| t.and_utc().timestamp_millis()));
    }
    text.parse::<i64>()
        .map_err(|_| format!("`{text}` is not a date (RFC 3339, YYYY-MM-DD or epoch milliseconds)"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ty(text: &str) -> JavaType {
        JavaType::parse(text, false).expect(text)
    }

    /// No declared classes: every POJO in its JSON form.
    fn plain(form: PojoForm) -> Coerce<'static> {
        static NONE: std::sync::LazyLock<Classes> = std::sync::LazyLock::new(Classes::default);
        Coerce {
            form,
            classes: &NONE,
        }
    }

    #[test]
    fn json_values_coerce_by_declared_type() {
        let cases: Vec<(&str, Json, Value)> = vec![
            (
                "long",
                json!("9007199254740993"),
                Value::Long(9_007_199_254_740_993),
            ),
            ("long", json!(42), Value::Long(42)),
            ("int", json!(-7), Value::Int(-7)),
            ("java.lang.Integer", json!(null), Value::Null),
            ("boolean", json!("true"), Value::Bool(true)),
            ("double", json!(1.5), Value::Double(1.5)),
            (
                "java.util.Date",
                json!("1970-01-01T00:00:01.5Z"),
                Value::Date(1500),
            ),
            (
                "java.util.Date",
                json!("2024-02-29T01:00:00+01:00"),
                Value::Date(1_709_164_800_000),
            ),
            ("java.util.Date", json!(86_400_000), Value::Date(86_400_000)),
            ("byte[]", json!("aGk="), Value::Binary(b"hi".to_vec())),
            ("java.lang.String", json!("x"), Value::String("x".into())),
            (
                "int[]",
                json!([1, 2]),
                Value::List(List {
                    type_name: Some("[int".into()),
                    items: vec![Value::Int(1), Value::Int(2)],
                }),
            ),
            (
                "java.util.List<java.lang.Long>",
                json!(["1", 2]),
                Value::List(List {
                    type_name: None,
                    items: vec![Value::Long(1), Value::Long(2)],
                }),
            ),
        ];
        for (declared, json, want) in cases {
            let got = from_json(&ty(declared), &json, None, plain(PojoForm::Map)).expect(declared);
            assert_eq!(got, want, "{declared} from {json}");
        }
    }

    #[test]
    fn big_decimals_keep_every_digit() {
        let got = from_json(
            &ty("java.math.BigDecimal"),
            &json!(0.1),
            Some("0.10000000000000000000001"),
            plain(PojoForm::Map),
        );
        assert_eq!(got, Ok(hessian2::big_decimal("0.10000000000000000000001")));
        assert_eq!(
            from_text(&ty("java.math.BigDecimal"), "-12.5e3", plain(PojoForm::Map)),
            Ok(hessian2::big_decimal("-12.5e3"))
        );
        assert!(from_text(&ty("java.math.BigDecimal"), "12.x", plain(PojoForm::Map)).is_err());
    }

    #[test]
    fn pojos_take_the_form_the_call_needs() {
        let user = json!({"name": "a", "address": {"class": "com.acme.Address", "city": "x"}});
        let as_map =
            from_json(&ty("com.acme.User"), &user, None, plain(PojoForm::Map)).expect("map form");
        let Value::Map(map) = as_map else {
            panic!("generic form is a map")
        };
        assert_eq!(
            map.get("class"),
            Some(&Value::String("com.acme.User".into()))
        );
        let as_object = from_json(&ty("com.acme.User"), &user, None, plain(PojoForm::Object))
            .expect("object form");
        let Value::Object(object) = as_object else {
            panic!("direct form is an object")
        };
        assert_eq!(object.class, "com.acme.User");
        assert!(
            matches!(object.field("address"), Some(Value::Object(a)) if a.class == "com.acme.Address")
        );
    }

    #[test]
    fn mistakes_are_named() {
        let cases: Vec<(&str, Json, &str)> = vec![
            ("int", json!(3_000_000_000_i64), "out of range"),
            ("long", json!(1.5), "no fraction"),
            ("long", json!("12a"), "is not a long"),
            ("long", json!(null), "cannot be null"),
            ("java.lang.String", json!(5), "expected a string"),
            ("java.util.Date", json!("yesterday"), "is not a date"),
            ("int[]", json!([1, "x"]), "[1]"),
            ("com.acme.User", json!([1]), "expected an object"),
            ("char", json!("ab"), "single character"),
        ];
        for (declared, json, phrase) in cases {
            let err =
                from_json(&ty(declared), &json, None, plain(PojoForm::Map)).expect_err(declared);
            assert!(
                err.contains(phrase),
                "{declared} from {json}: `{err}` lacks `{phrase}`"
            );
        }
    }
}
