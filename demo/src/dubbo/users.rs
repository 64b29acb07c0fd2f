//! `org.apache.dubbo.demo.UserService` version 1.0.0: getUser(long), greet(String), ping(), dispatched on
//! method name and parameter-types descriptor as a Java provider finds its method. The users are made up
//! the way the Java and Node test providers make them (`tests/peers/dubbo`), so the same calls give the
//! same answers.

use dubbo_codec::hessian2::{List, Object, Value, big_decimal, java_enum};

use super::reply::Reply;
use super::server::{Answer, Handler};
use dubbo_codec::frame::{STATUS_BAD_REQUEST, STATUS_SERVICE_ERROR};
use dubbo_codec::request::{self as call, Call};

pub const SERVICE: &str = "org.apache.dubbo.demo.UserService";
pub const VERSION: &str = "1.0.0";
pub const USER_CLASS: &str = "org.apache.dubbo.demo.User";
pub const ROLE_CLASS: &str = "org.apache.dubbo.demo.Role";
/// The id whose lookup throws, as in the test providers.
pub const MISSING_ID: i64 = 404;

/// The service as a [`Handler`].
pub struct UserService;

impl Handler for UserService {
    fn handle(&self, body: &[u8]) -> Answer<'_> {
        let reply = match call::decode(body) {
            Ok(call) => invoke(&call),
            Err(why) => Reply::Status(STATUS_BAD_REQUEST, format!("bad request body: {why}")),
        };
        reply.into()
    }
}

/// One decoded call's reply.
pub fn invoke(call: &Call) -> Reply {
    // A Java provider finds its exporter by path and version; anything else is not exported here.
    let version = match call.version.as_str() {
        "" => call.attachment("version").unwrap_or_default(),
        version => version,
    };
    if call.service != SERVICE || version != VERSION {
        return Reply::Status(
            STATUS_SERVICE_ERROR,
            format!(
                "Not found exported service: {}:{version}; this provider exports {SERVICE}:{VERSION}",
                call.service
            ),
        );
    }
    let wrong_argument = |signature: &str| {
        Reply::Status(
            STATUS_BAD_REQUEST,
            format!("{signature}: the argument does not fit the parameter type"),
        )
    };
    match (
        call.method.as_str(),
        call.descriptor.as_str(),
        call.arguments.as_slice(),
    ) {
        ("getUser", "J", [id]) => match long(id) {
            Some(MISSING_ID) => {
                Reply::Exception(illegal_argument(&format!("no user {MISSING_ID}")))
            }
            Some(id) => Reply::Value(user(id)),
            None => wrong_argument("getUser(long)"),
        },
        ("greet", "Ljava/lang/String;", [name]) => match name {
            Value::String(name) => Reply::Value(Value::String(format!("hello, {name}"))),
            // Java's string concatenation.
            Value::Null => Reply::Value(Value::String("hello, null".into())),
            _ => wrong_argument("greet(java.lang.String)"),
        },
        ("ping", "", []) => Reply::Value(Value::String("pong".into())),
        (method, descriptor, _) => Reply::Status(
            STATUS_SERVICE_ERROR,
            format!("No such method {method}({descriptor}) in service {SERVICE}:{VERSION}"),
        ),
    }
}

/// A Java `long` argument: hessian2 writes small ones in int forms, which Java widens.
fn long(value: &Value) -> Option<i64> {
    match value {
        Value::Long(n) => Some(*n),
        Value::Int(n) => Some(i64::from(*n)),
        _ => None,
    }
}

/// The user with `id`: alice for 1, a generated one otherwise. Arithmetic wraps as Java's does, since the
/// id comes from the caller.
pub fn user(id: i64) -> Value {
    let (name, age, created_at, balance, tags, role) = if id == 1 {
        let tags = vec!["admin", "early"];
        // 2024-01-02T03:04:05.678Z
        let at = 1_704_164_645_678;
        (
            "alice".to_string(),
            30,
            at,
            "1234.56".to_string(),
            tags,
            "ADMIN",
        )
    } else {
        // 2024-01-01T00:00:00Z plus `id` seconds.
        let at = 1_704_067_200_000_i64.wrapping_add(id.wrapping_mul(1000));
        let age = 20 + (id.unsigned_abs() % 50) as i32;
        let tags = vec!["generated"];
        (
            format!("user-{id}"),
            age,
            at,
            format!("{id}.50"),
            tags,
            "MEMBER",
        )
    };
    let tags = tags.into_iter().map(|t| Value::String(t.into())).collect();
    object(
        USER_CLASS,
        vec![
            ("id", Value::Long(id)),
            ("name", Value::String(name)),
            ("age", Value::Int(age)),
            ("createdAt", Value::Date(created_at)),
            ("balance", big_decimal(&balance)),
            (
                "tags",
                Value::List(List {
                    type_name: Some("java.util.ArrayList".into()),
                    items: tags,
                }),
            ),
            ("role", java_enum(ROLE_CLASS, role)),
        ],
    )
}

/// A `java.lang.IllegalArgumentException` as Java's hessian writes a Throwable: its message, a `cause`
/// that is the exception itself (how Java marks "no cause"; decoders must survive the cycle), and an
/// empty stack trace.
fn illegal_argument(message: &str) -> Value {
    object(
        "java.lang.IllegalArgumentException",
        vec![
            ("detailMessage", Value::String(message.into())),
            // The exception is the first object of the body: reference 0.
            ("cause", Value::Ref(0)),
            (
                "stackTrace",
                Value::List(List {
                    type_name: Some("[java.lang.StackTraceElement".into()),
                    items: Vec::new(),
                }),
            ),
        ],
    )
}

fn object(class: &str, fields: Vec<(&str, Value)>) -> Value {
    Value::Object(Object {
        class: class.into(),
        fields: fields
            .into_iter()
            .map(|(name, value)| (name.into(), value))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use dubbo_codec::hessian2::Decoder;

    use super::*;
    use dubbo_codec::frame::STATUS_OK;

    fn call(method: &str, descriptor: &str, arguments: Vec<Value>) -> Call {
        Call {
            dubbo_version: "2.0.2".into(),
            service: SERVICE.into(),
            version: VERSION.into(),
            method: method.into(),
            descriptor: descriptor.into(),
            arguments,
            attachments: Vec::new(),
        }
    }

    /// The reply as the status and the decoded values of its body.
    fn answer(body: &[u8]) -> (u8, Vec<Value>) {
        let answer = UserService.handle(body);
        let mut decoder = Decoder::new(&answer.body);
        let mut values = Vec::new();
        while !decoder.is_empty() {
            match decoder.read() {
                Ok(value) => values.push(value),
                Err(err) => panic!("undecodable answer: {err}"),
            }
        }
        (answer.status, values)
    }

    fn field<'v>(value: &'v Value, name: &str) -> Option<&'v Value> {
        match value {
            Value::Object(object) => object.field(name),
            _ => None,
        }
    }

    #[test]
    fn dispatch_table() {
        let text = |s: &str| Value::String(s.into());
        type Case = (Call, u8, Option<Value>);
        let cases: Vec<Case> = vec![
            (call("ping", "", vec![]), STATUS_OK, Some(text("pong"))),
            (
                call("greet", "Ljava/lang/String;", vec![text("bob")]),
                STATUS_OK,
                Some(text("hello, bob")),
            ),
            (
                call("greet", "Ljava/lang/String;", vec![Value::Null]),
                STATUS_OK,
                Some(text("hello, null")),
            ),
            (
                call("getUser", "J", vec![Value::Long(42)]),
                STATUS_OK,
                Some(user(42)),
            ),
            (
                call("getUser", "J", vec![Value::Int(7)]),
                STATUS_OK,
                Some(user(7)),
            ),
            // Same name, other types: another method, which does not exist.
            (
                call("getUser", "Ljava/lang/String;", vec![text("1")]),
                STATUS_SERVICE_ERROR,
                None,
            ),
            (call("noSuchMethod", "", vec![]), STATUS_SERVICE_ERROR, None),
            (
                call("getUser", "J", vec![text("x")]),
                STATUS_BAD_REQUEST,
                None,
            ),
            (
                call("greet", "Ljava/lang/String;", vec![Value::Long(1)]),
                STATUS_BAD_REQUEST,
                None,
            ),
        ];
        for (call, status, value) in cases {
            let (got_status, values) = answer(&call::encode(&call));
            assert_eq!(got_status, status, "{call:?}: {values:?}");
            if let Some(value) = value {
                assert_eq!(values, [Value::Int(1), value], "{call:?}");
            } else {
                assert!(matches!(&values[..], [Value::String(_)]), "{values:?}");
            }
        }
    }

    #[test]
    fn not_exported_unless_service_and_version_match() {
        let mut other_version = call("ping", "", vec![]);
        other_version.version = "2.0.0".into();
        let mut other_service = call("ping", "", vec![]);
        other_service.service = "com.example.Other".into();
        let mut version_attached = call("ping", "", vec![]);
        version_attached.version = String::new();
        version_attached.attachments = vec![("version".into(), VERSION.into())];
        for (call, status) in [
            (other_version, STATUS_SERVICE_ERROR),
            (other_service, STATUS_SERVICE_ERROR),
            (version_attached, STATUS_OK),
        ] {
            assert_eq!(answer(&call::encode(&call)).0, status, "{call:?}");
        }
    }

    #[test]
    fn alice_and_the_missing_user() {
        let (_, values) = answer(&call::encode(&call("getUser", "J", vec![Value::Long(1)])));
        let alice = &values[1];
        assert_eq!(field(alice, "name"), Some(&Value::String("alice".into())));
        assert_eq!(
            field(alice, "createdAt"),
            Some(&Value::Date(1_704_164_645_678))
        );
        assert_eq!(field(alice, "balance"), Some(&big_decimal("1234.56")));
        assert_eq!(field(alice, "role"), Some(&java_enum(ROLE_CLASS, "ADMIN")));

        let (status, values) = answer(&call::encode(&call("getUser", "J", vec![Value::Long(404)])));
        assert_eq!(status, STATUS_OK);
        assert_eq!(values[0], Value::Int(0), "an exception result");
        let Value::Object(thrown) = &values[1] else {
            panic!("{values:?}");
        };
        assert_eq!(thrown.class, "java.lang.IllegalArgumentException");
        assert_eq!(
            thrown.field("detailMessage"),
            Some(&Value::String("no user 404".into()))
        );
    }

    #[test]
    fn extreme_ids_do_not_overflow() {
        for id in [i64::MIN, i64::MAX, -1, 0] {
            assert!(matches!(user(id), Value::Object(_)));
        }
    }

    #[test]
    fn garbage_is_a_bad_request() {
        for body in [&b""[..], b"\xff", b"\x052.0.2", b"N"] {
            assert_eq!(answer(body).0, STATUS_BAD_REQUEST, "{body:02x?}");
        }
    }
}
