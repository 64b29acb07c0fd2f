//! The request body: Dubbo version, service path, service version, method, the JVM descriptor of the
//! parameter types, each argument, then the attachments, all hessian2 values in one stream (so class
//! definitions and references are shared across them, as Java's `Hessian2Output` does).

use super::client::Invocation;
use super::error::DubboError;
use super::frame;
use super::hessian2::{Encoder, Map, Value};

/// The Dubbo protocol version we speak; providers from 2.0.2 on accept attachments in answers.
pub(crate) const DUBBO_VERSION: &str = "2.0.2";

/// Attachment keys the client sets itself; a caller's attachment under one of these is ignored so it
/// cannot redirect the call to another service.
const RESERVED: [&str; 5] = ["path", "interface", "version", "group", "timeout"];

/// Encodes `call` into a buffer that starts with room for the frame header. `version` and `group` are
/// the call's own, or else those of the chosen provider (a Java provider finds its exporter by them).
pub(crate) fn encode(
    call: &Invocation,
    version: Option<&str>,
    group: Option<&str>,
    payload_limit: usize,
) -> Result<Vec<u8>, DubboError> {
    if call.arguments.len() != call.parameter_types.len() {
        return Err(DubboError::Protocol(format!(
            "{} argument(s) for {} parameter type(s) of `{}`",
            call.arguments.len(),
            call.parameter_types.len(),
            call.method
        )));
    }
    let descriptor = descriptor(&call.parameter_types)?;
    let mut out = frame::buffer_with_header_room();
    let mut encoder = Encoder::new();
    let mut put = |value: &Value, out: &mut Vec<u8>| encoder.write(value, out);

    put(&Value::String(DUBBO_VERSION.into()), &mut out);
    put(&Value::String(call.service.clone()), &mut out);
    // No version is written as "": Java treats "" and "0.0.0" alike, while sofa-rpc-node looks a
    // service up as `path:version` whenever the version is non-empty.
    put(&Value::String(version.unwrap_or_default().into()), &mut out);
    put(&Value::String(call.method.clone()), &mut out);
    put(&Value::String(descriptor), &mut out);
    for argument in &call.arguments {
        put(argument, &mut out);
    }
    put(&attachments(call, version, group), &mut out);

    let body_len = out.len() - frame::HEADER_LEN;
    // The header carries the length in 4 bytes, whatever limit was configured.
    if body_len > payload_limit || u32::try_from(body_len).is_err() {
        return Err(DubboError::PayloadTooLarge(body_len));
    }
    Ok(out)
}

fn attachments(call: &Invocation, version: Option<&str>, group: Option<&str>) -> Value {
    let string = |s: &str| Value::String(s.to_string());
    let mut entries = vec![
        (string("path"), string(&call.service)),
        (string("interface"), string(&call.service)),
    ];
    if let Some(version) = version {
        entries.push((string("version"), string(version)));
    }
    if let Some(group) = group {
        entries.push((string("group"), string(group)));
    }
    entries.push((
        string("timeout"),
        Value::String(call.timeout.as_millis().to_string()),
    ));
    for (key, value) in &call.attachments {
        if !RESERVED.contains(&key.as_str()) {
            entries.push((string(key), string(value)));
        }
    }
    // Java writes a `HashMap`, which hessian2 sends as an untyped map.
    Value::Map(Map {
        type_name: None,
        entries,
    })
}

/// The JVM method descriptor of the parameter types, e.g. `Ljava/lang/String;J[I`.
pub(crate) fn descriptor(types: &[String]) -> Result<String, DubboError> {
    let mut out = String::new();
    for name in types {
        type_descriptor(name, &mut out)
            .map_err(|why| DubboError::Protocol(format!("parameter type `{name}`: {why}")))?;
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
}
