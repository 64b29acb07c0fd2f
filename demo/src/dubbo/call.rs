//! A request body: Dubbo version, service path, service version, method, the JVM descriptor of the
//! parameter types, the arguments (as many as the descriptor names), then the attachments, all in one
//! hessian2 stream. Decoded here for the provider, encoded for the load client.

use gateway_web::invoke::dubbo::hessian2::{Decoder, Encoder, Map, Value};

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
    pub fn attachment(&self, key: &str) -> Option<&str> {
        self.attachments
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Why a body is not a call; the provider answers it with status BAD_REQUEST.
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
    let mut encoder = Encoder::new();
    let text = |s: &str| Value::String(s.to_owned());
    for field in [
        &call.dubbo_version,
        &call.service,
        &call.version,
        &call.method,
        &call.descriptor,
    ] {
        encoder.write(&text(field), &mut out);
    }
    for argument in &call.arguments {
        encoder.write(argument, &mut out);
    }
    // Java sends a `HashMap`, which hessian2 writes untyped.
    let attachments = Map {
        type_name: None,
        entries: call
            .attachments
            .iter()
            .map(|(k, v)| (text(k), text(v)))
            .collect(),
    };
    encoder.write(&Value::Map(attachments), &mut out);
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

#[cfg(test)]
mod tests {
    use super::*;

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
