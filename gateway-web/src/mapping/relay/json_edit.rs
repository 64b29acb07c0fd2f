//! JSON body edits of a relay (remove, rename, wrap) done on the document's structure only: objects
//! are split into their members in order, and every value the edits do not reach is kept as the exact
//! text it arrived as (numbers beyond f64, key order, escapes), so an edit never changes what it was
//! not asked to.

use api_model::body_transform::JsonTransform;
use axum::body::Body;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use http::{HeaderMap, HeaderValue, header};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::error::GatewayError;

/// What a body stream's error becomes (the client's body: a 400 or 413; an upstream's: a 502).
pub type ReadError = fn(axum::Error) -> GatewayError;

/// One direction's edits, compiled.
pub struct JsonEdit {
    remove: Vec<Vec<String>>,
    rename: Vec<(Vec<String>, Vec<String>)>,
    wrap: Option<String>,
    /// The largest body edited.
    pub max_bytes: usize,
}

/// An object's members in document order, values as raw JSON.
struct Members(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut members = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some(entry) = map.next_entry::<String, Box<RawValue>>()? {
                    members.push(entry);
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(MembersVisitor)
    }
}

impl Members {
    fn parse(raw: &RawValue) -> Option<Members> {
        raw.get()
            .trim_start()
            .starts_with('{')
            .then(|| serde_json::from_str(raw.get()).ok())
            .flatten()
    }

    fn to_raw(&self) -> Box<RawValue> {
        let mut out = String::with_capacity(64);
        out.push('{');
        for (i, (key, value)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&serde_json::to_string(key).unwrap_or_else(|_| "\"\"".into()));
            out.push(':');
            out.push_str(value.get());
        }
        out.push('}');
        // Members of a valid object written back between braces are a valid object.
        RawValue::from_string(out).unwrap_or_else(|_| empty_object())
    }

    /// Takes the value at `path` out (the first member of each name on the way).
    fn take(&mut self, path: &[String]) -> Option<Box<RawValue>> {
        let (first, rest) = path.split_first()?;
        let index = self.0.iter().position(|(k, _)| k == first)?;
        if rest.is_empty() {
            return Some(self.0.remove(index).1);
        }
        let mut inner = Members::parse(&self.0[index].1)?;
        let taken = inner.take(rest)?;
        self.0[index].1 = inner.to_raw();
        Some(taken)
    }

    /// Puts `value` at `path`, replacing what is there and creating objects on the way (a member on
    /// the way that is not an object is replaced by one).
    fn put(&mut self, path: &[String], value: Box<RawValue>) {
        let Some((first, rest)) = path.split_first() else {
            return;
        };
        let index = match self.0.iter().position(|(k, _)| k == first) {
            Some(index) => index,
            None => {
                self.0.push((first.clone(), empty_object()));
                self.0.len() - 1
            }
        };
        if rest.is_empty() {
            self.0[index].1 = value;
            return;
        }
        let mut inner = Members::parse(&self.0[index].1).unwrap_or(Members(Vec::new()));
        inner.put(rest, value);
        self.0[index].1 = inner.to_raw();
    }
}

fn empty_object() -> Box<RawValue> {
    RawValue::from_string("{}".into()).unwrap_or_else(|_| unreachable!("`{{}}` is JSON"))
}

fn path(dotted: &str) -> Vec<String> {
    dotted.split('.').map(str::to_string).collect()
}

impl JsonEdit {
    pub fn new(spec: &JsonTransform) -> JsonEdit {
        JsonEdit {
            remove: spec.remove.iter().map(|p| path(p)).collect(),
            rename: spec
                .rename
                .iter()
                .map(|(from, to)| (path(from), path(to)))
                .collect(),
            wrap: spec.wrap.clone(),
            max_bytes: usize::try_from(spec.max_bytes).unwrap_or(usize::MAX),
        }
    }

    /// The edited body, or `None` when `body` is not JSON (it is then relayed as it is).
    pub fn apply(&self, body: &[u8]) -> Option<String> {
        let text = std::str::from_utf8(body).ok()?;
        let raw: Box<RawValue> = serde_json::from_str(text).ok()?;
        let mut edited = match Members::parse(&raw) {
            Some(mut members) => {
                for path in &self.remove {
                    members.take(path);
                }
                for (from, to) in &self.rename {
                    if let Some(value) = members.take(from) {
                        members.put(to, value);
                    }
                }
                members.to_raw()
            }
            None => raw,
        };
        if let Some(name) = &self.wrap {
            edited = Members(vec![(name.clone(), edited)]).to_raw();
        }
        Some(edited.get().to_string())
    }
}

impl JsonEdit {
    /// `body` edited when its headers say it is JSON, not content-encoded, and it is at most
    /// `max_bytes` (its `Content-Length` then follows the edit); otherwise the same bytes, streamed,
    /// with what was read to find out sent first.
    pub async fn edit_body(
        &self,
        headers: &mut HeaderMap,
        body: Body,
        read_error: ReadError,
    ) -> Result<Body, GatewayError> {
        if !is_plain_json(headers)
            || http_body::Body::size_hint(&body).lower() > self.max_bytes as u64
        {
            return Ok(body);
        }
        let mut read = BytesMut::new();
        let mut stream = body.into_data_stream();
        while let Some(chunk) = stream.next().await {
            read.extend_from_slice(&chunk.map_err(read_error)?);
            if read.len() > self.max_bytes {
                let head =
                    futures::stream::once(async move { Ok::<_, axum::Error>(read.freeze()) });
                return Ok(Body::from_stream(head.chain(stream)));
            }
        }
        let Some(edited) = self.apply(&read) else {
            return Ok(Body::from(read.freeze()));
        };
        headers.remove(header::TRANSFER_ENCODING);
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(edited.len()));
        Ok(Body::from(Bytes::from(edited)))
    }
}

/// `application/json` or any `+json` type, without a content coding.
fn is_plain_json(headers: &HeaderMap) -> bool {
    let encoded = headers
        .get(header::CONTENT_ENCODING)
        .is_some_and(|v| !v.as_bytes().eq_ignore_ascii_case(b"identity"));
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|media| {
            let media = media.trim().to_ascii_lowercase();
            media == "application/json" || media.ends_with("+json")
        })
        .unwrap_or(false);
    json && !encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(spec: serde_json::Value) -> JsonEdit {
        JsonEdit::new(&serde_json::from_value(spec).unwrap())
    }

    #[test]
    fn edits_touch_only_what_they_name() {
        let edit = edit(serde_json::json!({
            "remove": ["password", "profile.secret", "absent.path"],
            "rename": {"userName": "user.name", "profile.age": "user.age"},
            "wrap": "data"
        }));
        let body = br#"{"zeta": 1, "userName": "ana", "big": 123456789012345678901234567890,
            "password": "x", "profile": {"age": 30, "secret": "s", "city": "Caf\u00e9"}, "list": [1, {"a": 2}]}"#;
        let out = edit.apply(body).unwrap();
        assert_eq!(
            out,
            r#"{"data":{"zeta":1,"big":123456789012345678901234567890,"profile":{"city":"Caf\u00e9"},"list":[1, {"a": 2}],"user":{"age":30,"name":"ana"}}}"#
        );
        serde_json::from_str::<serde_json::Value>(&out).unwrap();
    }

    #[test]
    fn what_is_not_an_object_is_only_wrapped_and_what_is_not_json_is_left() {
        let wrap = edit(serde_json::json!({"wrap": "items", "remove": ["a"]}));
        assert_eq!(wrap.apply(b" [1,2] ").unwrap(), r#"{"items":[1,2]}"#);
        assert_eq!(
            wrap.apply(b"{\"a\":1,\"b\":2}").unwrap(),
            r#"{"items":{"b":2}}"#
        );
        assert_eq!(wrap.apply(b"{\"a\": tru"), None);
        assert_eq!(wrap.apply(b"\xff\xfe"), None);
    }

    #[test]
    fn a_rename_into_a_member_that_is_not_an_object_replaces_it() {
        let edit = edit(serde_json::json!({"rename": {"a": "b.c"}}));
        assert_eq!(
            edit.apply(br#"{"a":1,"b":"text"}"#).unwrap(),
            r#"{"b":{"c":1}}"#
        );
    }
}
