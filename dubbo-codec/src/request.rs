//! The request body: Dubbo version, service path, service version, method, the JVM descriptor of the
//! parameter types, each argument, then the attachments, all hessian2 values in one stream (so class
//! definitions and references are shared across them, as Java's `Hessian2Output` does). Encoded by
//! clients, decoded by providers; anything malformed is an error, never a panic.

use crate::hessian2::{Decoder, Encoder, Map, Value};

/// The Dubbo protocol version clients here speak; providers from 2.0.2 on accept attachments in answers.
pub const DUBBO_VERSION: &str = "2.0.2";

/// The head of a call, borrowed: what a client writes before the arguments.
#[derive(Debug, Clone, Copy)]
pub struct Head<'a> {
    pub dubbo_version: &'a str,
    pub service: &'a str,
    /// Empty when the caller names none.
    pub version: &'a str,
    pub method: &'a str,
    /// The JVM descriptor of the parameter types, e.g. `Ljava/lang/String;J` (see [`descriptor`]).
    pub descriptor: &'a str,
}

/// Appends a request body to `out`: the head, the arguments, then the attachments as an untyped map
/// (Java sends a `HashMap`), all through one encoder.
pub fn write(
    out: &mut Vec<u8>,
    head: &Head<'_>,
    arguments: &[Value],
    attachments: &[(&str, &str)],
) {
    let mut encoder = Encoder::new();
    for text in [
        head.dubbo_version,
        head.service,
        head.version,
        head.method,
        head.descriptor,
    ] {
        encoder.write_str(text, out);
    }
    for argument in arguments {
        encoder.write(argument, out);
    }
    let text = |s: &str| Value::String(s.to_owned());
    let attachments = Map {
        type_name: None,
        entries: attachments
            .iter()
            .map(|(k, v)| (text(k), text(v)))
            .collect(),
    };
    encoder.write(&Value::Map(attachments), out);
}

/// One call as it travels.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub dubbo_version: String,
    pub service: String,
    /// Empty when the caller named none.
    pub version: String,
    pub method: String,
    /// e.g. `Ljava/lang/String;J`.
    pub descriptor: String,
    pub arguments: Vec<Value>,
    /// String-valued attachments; others are left out (nothing here reads them).
    pub attachments: Vec<(String, String)>,
}

impl Call {
    pub fn head(&self) -> Head<'_> {
        Head {
            dubbo_version: &self.dubbo_version,
            service: &self.service,
            version: &self.version,
            method: &self.method,
            descriptor: &self.descriptor,
        }
    }

    pub fn attachment(&self, key: &str) -> Option<&str> {
        self.attachments
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Why a body is not a call; a provider answers it with status BAD_REQUEST.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct BadCall(pub String);

/// Decodes a request body. Anything malformed is an error, never a panic: the bytes come off the network.
pub fn decode(body: &[u8]) -> Result<Call, BadCall> {
    let mut decoder = Decoder::new(body);
    let dubbo_version = text(&mut decoder, "dubbo version")?;
    let service = text(&mut decoder, "service path")?;
    let version = text(&mut decoder, "service version")?;
    let method = text(&mut decoder, "method name")?;
    let descriptor = text(&mut decoder, "parameter types")?;
    let count = parameter_count(&descriptor)
        .ok_or_else(|| BadCall(format!("malformed parameter types `{descriptor}`")))?;
    let mut arguments = Vec::with_capacity(count.min(64));
    for _ in 0..count {
        arguments.push(next(&mut decoder, "arguments")?);
    }
    // Old clients send no attachments at all.
    let attachments = match decoder.is_empty() {
        true => Vec::new(),
        false => string_pairs(next(&mut decoder, "attachments")?),
    };
    Ok(Call {
        dubbo_version,
        service,
        version,
        method,
        descriptor,
        arguments,
        attachments,
    })
}

fn next(decoder: &mut Decoder<'_>, what: &str) -> Result<Value, BadCall> {
    decoder
        .read()
        .map_err(|err| BadCall(format!("reading the {what}: {err}")))
}

fn text(decoder: &mut Decoder<'_>, what: &str) -> Result<String, BadCall> {
    match next(decoder, what)? {
        Value::String(text) => Ok(text),
        // Some clients write an absent version as null.
        Value::Null => Ok(String::new()),
        _ => Err(BadCall(format!("the {what} is not a string"))),
    }
}

/// Encodes a call as a request body (without the frame header).
pub fn encode(call: &Call) -> Vec<u8> {
    let mut out = Vec::new();
    let attachments: Vec<(&str, &str)> = call
        .attachments
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    write(&mut out, &call.head(), &call.arguments, &attachments);
    out
}

/// How many parameters a JVM descriptor names (`Ljava/lang/String;J[I` is 3), or `None` if it is not one.
pub fn parameter_count(descriptor: &str) -> Option<usize> {
    let bytes = descriptor.as_bytes();
    let (mut at, mut count) = (0, 0);
    while at < bytes.len() {
        while bytes.get(at) == Some(&b'[') {
            at += 1;
        }
        match bytes.get(at)? {
            b'Z' | b'B' | b'C' | b'S' | b'I' | b'J' | b'F' | b'D' => at += 1,
            b'L' => {
                let name_len = bytes[at..].iter().position(|&b| b == b';')?;
                if name_len < 2 {
                    return None;
                }
                at += name_len + 1;
            }
            _ => return None,
        }
        count += 1;
    }
    Some(count)
}

fn string_pairs(value: Value) -> Vec<(String, String)> {
    let Value::Map(map) = value else {
        return Vec::new();
    };
    map.entries
        .into_iter()
        .filter_map(|(key, value)| match (key, value) {
            (Value::String(key), Value::String(value)) => Some((key, value)),
            _ => None,
        })
        .collect()
}

/// The JVM method descriptor of the parameter types, e.g. `Ljava/lang/String;J[I`.
pub fn descriptor(types: &[String]) -> Result<String, String> {
    let mut out = String::new();
    for name in types {
        type_descriptor(name, &mut out).map_err(|why| format!("parameter type `{name}`: {why}"))?;
    }
    Ok(out)
}

/// One Java type name (`long`, `java.lang.String`, `int[]`, `com.x.User[][]`, `java.util.List<T>`,
/// `Object...`, or an already binary array name like `[Ljava.lang.String;`) as a descriptor.
fn type_descriptor(name: &str, out: &mut String) -> Result<(), &'static str> {
    let mut base = name.trim();
    // Generics are erased in the JVM signature.
    if let Some(open) = base.find('<') {
        if !base.ends_with('>') && !base.ends_with(']') && !base.ends_with("...") {
            return Err("unbalanced generic arguments");
        }
        let close = base.rfind('>').ok_or("unbalanced generic arguments")?;
        let (head, tail) = (&base[..open], &base[close + 1..]);
        if !tail.chars().all(|c| matches!(c, '[' | ']' | '.')) {
            return Err("unexpected text after generic arguments");
        }
        let dims = tail.matches("[]").count() + usize::from(tail.ends_with("..."));
        out.extend(std::iter::repeat_n('[', dims));
        return class_descriptor(head.trim(), out);
    }
    if let Some(stripped) = base.strip_suffix("...") {
        out.push('[');
        base = stripped.trim_end();
    }
    while let Some(stripped) = base.strip_suffix("[]") {
        out.push('[');
        base = stripped.trim_end();
    }
    if base.starts_with('[') {
        // `Class.getName()` of an array is already a descriptor, with dots.
        if base.len() < 2 || base.contains(char::is_whitespace) {
            return Err("malformed array type name");
        }
        out.push_str(&base.replace('.', "/"));
        return Ok(());
    }
    class_descriptor(base, out)
}

fn class_descriptor(name: &str, out: &mut String) -> Result<(), &'static str> {
    let primitive = match name {
        "boolean" => 'Z',
        "byte" => 'B',
        "char" => 'C',
        "short" => 'S',
        "int" => 'I',
        "long" => 'J',
        "float" => 'F',
        "double" => 'D',
        "void" => 'V',
        _ => {
            let valid = !name.is_empty()
                && !name.starts_with('.')
                && !name.ends_with('.')
                && !name.contains("..")
                && name
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '$'));
            if !valid {
                return Err("not a Java type name");
            }
            out.push('L');
            out.push_str(&name.replace('.', "/"));
            out.push(';');
            return Ok(());
        }
    };
    out.push(primitive);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors() {
        let cases: &[(&[&str], &str)] = &[
            (&[], ""),
            (
                &["java.lang.String", "long", "java.lang.Object[]"],
                "Ljava/lang/String;J[Ljava/lang/Object;",
            ),
            (&["int[]", "boolean", "char", "double[][]"], "[IZC[[D"),
            (
                &["com.x.User", "com.x.Outer$Inner"],
                "Lcom/x/User;Lcom/x/Outer$Inner;",
            ),
            (
                &["java.util.List<java.lang.String>", "java.util.Map<K, V>[]"],
                "Ljava/util/List;[Ljava/util/Map;",
            ),
            (&["java.lang.Object..."], "[Ljava/lang/Object;"),
            (&["[Ljava.lang.String;", "[I"], "[Ljava/lang/String;[I"),
            (&[" byte ", "short", "float"], "BSF"),
        ];
        for (types, expected) in cases {
            let types: Vec<String> = types.iter().map(|t| t.to_string()).collect();
            assert_eq!(
                descriptor(&types).ok().as_deref(),
                Some(*expected),
                "{types:?}"
            );
        }
        for bad in [
            "",
            "java..lang",
            "a b",
            "java.util.List<String",
            ".x",
            "[",
            "x<y>z",
        ] {
            assert!(descriptor(&[bad.to_string()]).is_err(), "{bad:?} accepted");
        }
    }

    fn get_user() -> Call {
        Call {
            dubbo_version: "2.0.2".into(),
            service: "org.apache.dubbo.demo.UserService".into(),
            version: "1.0.0".into(),
            method: "getUser".into(),
            descriptor: "J".into(),
            arguments: vec![Value::Long(42)],
            attachments: vec![
                ("path".into(), "org.apache.dubbo.demo.UserService".into()),
                ("timeout".into(), "3000".into()),
            ],
        }
    }

    #[test]
    fn round_trips() {
        let mut greet = get_user();
        greet.method = "greet".into();
        greet.descriptor = "Ljava/lang/String;[IZ".into();
        greet.arguments = vec![Value::String("bob".into()), Value::Null, Value::Bool(true)];
        let mut ping = get_user();
        ping.method = "ping".into();
        ping.descriptor = String::new();
        ping.arguments = Vec::new();
        ping.attachments = Vec::new();
        for call in [get_user(), greet, ping] {
            assert_eq!(decode(&encode(&call)), Ok(call));
        }
    }

    #[test]
    fn parameter_counts() {
        let cases: &[(&str, Option<usize>)] = &[
            ("", Some(0)),
            ("J", Some(1)),
            ("Ljava/lang/String;", Some(1)),
            ("Ljava/lang/String;J[I[[Lcom/x/User;Z", Some(5)),
            ("BCSIJFDZ", Some(8)),
            ("[", None),
            ("L", None),
            ("L;", None),
            ("Ljava/lang/String", None),
            ("X", None),
            ("J ", None),
        ];
        for (descriptor, count) in cases {
            assert_eq!(parameter_count(descriptor), *count, "{descriptor:?}");
        }
    }

    #[test]
    fn malformed_bodies_are_errors_not_panics() {
        let good = encode(&get_user());
        // Every cut before the attachments starts loses a required value.
        let attachments_at = good.len() - encode_attachments_len(&get_user());
        for cut in 0..attachments_at {
            assert!(decode(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut number_as_service = good.clone();
        number_as_service[6] = 0x91;
        for body in [
            &b"\xff\xff\xff"[..],
            b"\x05hello\x91",
            b"\x052.0.2\x01s\x00\x01m\x03J;J",
            &number_as_service,
        ] {
            assert!(decode(body).is_err(), "{body:02x?}");
        }
        // Pseudo-random bytes: whatever they decode to, nothing panics.
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..2000 {
            let len = (seed % 64) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed as u8
                })
                .collect();
            let _ = decode(&[&good[..good.len() / 2], &bytes].concat());
            let _ = decode(&bytes);
        }
    }

    fn encode_attachments_len(call: &Call) -> usize {
        let mut bare = call.clone();
        bare.attachments.clear();
        // An empty map is `H` `Z`; what the attachments add on top of that is their own length.
        encode(call).len() - encode(&bare).len() + 2
    }
}
