//! A Dubbo reply (hessian2 value) → JSON: longs safe for JavaScript, dates as RFC 3339, BigDecimal as
//! its exact decimal string, enums by name, POJOs as objects (without their `class` unless asked).

use api_model::LongRendering;
use base64::Engine as _;
use serde_json::{Map as JsonMap, Value as Json};

use dubbo_codec::hessian2::{Object, Value};

/// Largest integer a JSON number (an IEEE double) holds exactly.
const SAFE_INTEGER: i64 = (1 << 53) - 1;

#[derive(Debug, Clone, Copy)]
pub struct ReplyOptions {
    pub include_class: bool,
    pub longs: LongRendering,
}

pub fn render(value: &Value, options: &ReplyOptions) -> Json {
    match value {
        Value::Null | Value::Ref(_) => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::Long(l) => match options.longs {
            LongRendering::String => Json::String(l.to_string()),
            LongRendering::Auto if l.unsigned_abs() > SAFE_INTEGER as u64 => {
                Json::String(l.to_string())
            }
            _ => Json::from(*l),
        },
        Value::Double(d) => serde_json::Number::from_f64(*d)
            .map_or_else(|| Json::String(d.to_string()), Json::Number),
        Value::Date(ms) => Json::String(rfc3339(*ms)),
        Value::String(s) => Json::String(s.clone()),
        Value::Binary(bytes) => {
            Json::String(base64::engine::general_purpose::STANDARD.encode(bytes))
        }
        Value::List(list) => Json::Array(list.items.iter().map(|v| render(v, options)).collect()),
        Value::Map(map) => {
            let mut out = JsonMap::with_capacity(map.entries.len());
            for (key, value) in &map.entries {
                let key = match key {
                    Value::String(s) => s.clone(),
                    other => match render(other, options) {
                        Json::String(s) => s,
                        rendered => rendered.to_string(),
                    },
                };
                // A generalised POJO carries its class as a member; shown only when the API asks.
                if key == "class" && !options.include_class {
                    continue;
                }
                out.insert(key, render(value, options));
            }
            Json::Object(out)
        }
        Value::Object(object) => render_object(object, options),
    }
}

fn render_object(object: &Object, options: &ReplyOptions) -> Json {
    match object.class.as_str() {
        "java.math.BigDecimal" | "java.math.BigInteger" => {
            if let Some(Value::String(text)) = object.field("value") {
                return Json::String(text.clone());
            }
        }
        class if class.ends_with("LocalDateHandle") => {
            if let (Some(Value::Int(y)), Some(m), Some(d)) = (
                object.field("year"),
                int(object, "month"),
                int(object, "day"),
            ) {
                return Json::String(format!("{y:04}-{m:02}-{d:02}"));
            }
        }
        class if class.ends_with("LocalDateTimeHandle") => {
            if let (Some(Value::Object(date)), Some(Value::Object(time))) =
                (object.field("date"), object.field("time"))
            {
                let date = render_object(date, options);
                let (h, mi, s) = (
                    int(time, "hour").unwrap_or(0),
                    int(time, "minute").unwrap_or(0),
                    int(time, "second").unwrap_or(0),
                );
                if let Json::String(date) = date {
                    return Json::String(format!("{date}T{h:02}:{mi:02}:{s:02}"));
                }
            }
        }
        _ => {}
    }
    // An enum is an object whose only field is its constant's name.
    if let [(field, Value::String(name))] = object.fields.as_slice()
        && field == "name"
    {
        return Json::String(name.clone());
    }
    let mut out = JsonMap::with_capacity(object.fields.len() + 1);
    if options.include_class {
        out.insert("class".into(), Json::String(object.class.clone()));
    }
    for (name, value) in &object.fields {
        out.insert(name.clone(), render(value, options));
    }
    Json::Object(out)
}

fn int(object: &Object, field: &str) -> Option<i64> {
    match object.field(field)? {
        Value::Int(i) => Some((*i).into()),
        Value::Long(l) => Some(*l),
        _ => None,
    }
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(
        || ms.to_string(),
        |t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    )
}

/// The class and message of an exception a provider sent, whatever shape it took: a Throwable object
/// (`detailMessage`), Dubbo's `GenericException` (`exceptionClass`, `exceptionMessage`), a generalised map,
/// or a bare string.
pub fn exception(value: &Value) -> (String, String) {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_string();
    match value {
        Value::Object(object) => {
            if let Some(real) = object.field("exceptionClass").and_then(Value::as_str) {
                return (real.to_string(), text(object.field("exceptionMessage")));
            }
            let message = object
                .field("detailMessage")
                .or_else(|| object.field("message"));
            (object.class.clone(), text(message))
        }
        Value::Map(map) => {
            if let Some(real) = map.get("exceptionClass").and_then(Value::as_str) {
                return (real.to_string(), text(map.get("exceptionMessage")));
            }
            let class = map
                .type_name
                .clone()
                .or_else(|| map.get("class").and_then(Value::as_str).map(str::to_string));
            let message = map.get("detailMessage").or_else(|| map.get("message"));
            (class.unwrap_or_default(), text(message))
        }
        Value::String(message) => (String::new(), message.clone()),
        _ => (String::new(), String::new()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use dubbo_codec::hessian2::{List, Map};

    const AUTO: ReplyOptions = ReplyOptions {
        include_class: false,
        longs: LongRendering::Auto,
    };

    #[test]
    fn values_render_as_clients_expect() {
        let user = Value::Object(Object {
            class: "com.acme.User".into(),
            fields: vec![
                ("id".into(), Value::Long(9_007_199_254_740_993)),
                ("age".into(), Value::Int(30)),
                ("small".into(), Value::Long(12)),
                ("at".into(), Value::Date(1500)),
                (
                    "balance".into(),
                    Value::Object(Object {
                        class: "java.math.BigDecimal".into(),
                        fields: vec![("value".into(), Value::String("0.10".into()))],
                    }),
                ),
                (
                    "role".into(),
                    Value::Object(Object {
                        class: "com.acme.Role".into(),
                        fields: vec![("name".into(), Value::String("ADMIN".into()))],
                    }),
                ),
                (
                    "tags".into(),
                    Value::List(List {
                        type_name: None,
                        items: vec![Value::String("a".into())],
                    }),
                ),
                ("raw".into(), Value::Binary(b"hi".to_vec())),
                ("self".into(), Value::Ref(0)),
            ],
        });
        assert_eq!(
            render(&user, &AUTO),
            json!({"id": "9007199254740993", "age": 30, "small": 12, "at": "1970-01-01T00:00:01.500Z",
                   "balance": "0.10", "role": "ADMIN", "tags": ["a"], "raw": "aGk=", "self": null})
        );
    }

    #[test]
    fn class_keys_show_only_when_asked() {
        let map = Value::Map(Map {
            type_name: None,
            entries: vec![
                (
                    Value::String("class".into()),
                    Value::String("com.acme.User".into()),
                ),
                (Value::String("name".into()), Value::String("a".into())),
            ],
        });
        assert_eq!(render(&map, &AUTO), json!({"name": "a"}));
        let with = ReplyOptions {
            include_class: true,
            ..AUTO
        };
        assert_eq!(
            render(&map, &with),
            json!({"class": "com.acme.User", "name": "a"})
        );
    }

    #[test]
    fn exceptions_are_read_from_every_shape() {
        let thrown = Value::Object(Object {
            class: "java.lang.IllegalArgumentException".into(),
            fields: vec![
                ("detailMessage".into(), Value::String("bad id".into())),
                ("cause".into(), Value::Ref(1)),
            ],
        });
        assert_eq!(
            exception(&thrown),
            ("java.lang.IllegalArgumentException".into(), "bad id".into())
        );
        let generic = Value::Object(Object {
            class: "com.alibaba.dubbo.rpc.service.GenericException".into(),
            fields: vec![
                (
                    "exceptionClass".into(),
                    Value::String("java.lang.IllegalStateException".into()),
                ),
                ("exceptionMessage".into(), Value::String("nope".into())),
            ],
        });
        assert_eq!(
            exception(&generic),
            ("java.lang.IllegalStateException".into(), "nope".into())
        );
        assert_eq!(
            exception(&Value::String("boom".into())),
            (String::new(), "boom".into())
        );
    }
}
