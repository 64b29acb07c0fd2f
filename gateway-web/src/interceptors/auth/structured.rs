//! The subset of RFC 8941 structured fields that signatures use: dictionaries whose members are items or
//! inner lists, with parameters; items that are strings, tokens, integers, byte sequences or booleans.
//! Parsing is strict (anything else is an error, never a guess), and inner lists serialize back in the
//! canonical form RFC 9421 signs (`@signature-params`).

use base64::Engine as _;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bare {
    String(String),
    Token(String),
    Integer(i64),
    Bytes(Vec<u8>),
    Boolean(bool),
}

pub type Params = Vec<(String, Bare)>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub value: Bare,
    pub params: Params,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Member {
    Item(Item),
    InnerList(Vec<Item>, Params),
}

/// A dictionary: members in order.
pub fn parse_dictionary(text: &str) -> Result<Vec<(String, Member)>, String> {
    let mut parser = Parser {
        bytes: text.as_bytes(),
        at: 0,
    };
    let mut out = Vec::new();
    parser.skip_sp();
    if parser.done() {
        return Ok(out);
    }
    loop {
        let key = parser.key()?;
        let member = if parser.eat(b'=') {
            parser.member()?
        } else {
            Member::Item(Item {
                value: Bare::Boolean(true),
                params: parser.params()?,
            })
        };
        out.retain(|(k, _)| *k != key);
        out.push((key, member));
        parser.skip_ows();
        if parser.done() {
            return Ok(out);
        }
        if !parser.eat(b',') {
            return Err("expected `,` between dictionary members".into());
        }
        parser.skip_ows();
        if parser.done() {
            return Err("a dictionary cannot end with `,`".into());
        }
    }
}

/// `("@method" "@path");created=1;keyid="k"`: the canonical serialization of an inner list.
pub fn serialize_inner_list(items: &[Item], params: &Params) -> String {
    let mut out = String::from("(");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&serialize_bare(&item.value));
        out.push_str(&serialize_params(&item.params));
    }
    out.push(')');
    out.push_str(&serialize_params(params));
    out
}

pub fn serialize_params(params: &Params) -> String {
    let mut out = String::new();
    for (key, value) in params {
        out.push(';');
        out.push_str(key);
        if *value != Bare::Boolean(true) {
            out.push('=');
            out.push_str(&serialize_bare(value));
        }
    }
    out
}

fn serialize_bare(value: &Bare) -> String {
    match value {
        Bare::String(s) => {
            let mut out = String::from("\"");
            for c in s.chars() {
                if c == '"' || c == '\\' {
                    out.push('\\');
                }
                out.push(c);
            }
            out.push('"');
            out
        }
        Bare::Token(t) => t.clone(),
        Bare::Integer(n) => n.to_string(),
        Bare::Bytes(b) => format!(":{}:", base64::engine::general_purpose::STANDARD.encode(b)),
        Bare::Boolean(true) => "?1".into(),
        Bare::Boolean(false) => "?0".into(),
    }
}

struct Parser<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn done(&self) -> bool {
        self.at >= self.bytes.len()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn skip_sp(&mut self) {
        while self.peek() == Some(b' ') {
            self.at += 1;
        }
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.at += 1;
        }
    }

    fn key(&mut self) -> Result<String, String> {
        let start = self.at;
        match self.peek() {
            Some(b'a'..=b'z' | b'*') => self.at += 1,
            _ => return Err("a key starts with a lowercase letter or `*`".into()),
        }
        while matches!(
            self.peek(),
            Some(b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'.' | b'*')
        ) {
            self.at += 1;
        }
        Ok(String::from_utf8_lossy(&self.bytes[start..self.at]).into_owned())
    }

    fn member(&mut self) -> Result<Member, String> {
        if self.eat(b'(') {
            let mut items = Vec::new();
            loop {
                self.skip_sp();
                if self.eat(b')') {
                    break;
                }
                let value = self.bare()?;
                let params = self.params()?;
                items.push(Item { value, params });
                match self.peek() {
                    Some(b' ') | Some(b')') => {}
                    _ => return Err("an inner list's items are separated by spaces".into()),
                }
            }
            let params = self.params()?;
            Ok(Member::InnerList(items, params))
        } else {
            let value = self.bare()?;
            let params = self.params()?;
            Ok(Member::Item(Item { value, params }))
        }
    }

    fn params(&mut self) -> Result<Params, String> {
        let mut params = Params::new();
        while self.eat(b';') {
            self.skip_sp();
            let key = self.key()?;
            let value = if self.eat(b'=') {
                self.bare()?
            } else {
                Bare::Boolean(true)
            };
            params.retain(|(k, _)| *k != key);
            params.push((key, value));
        }
        Ok(params)
    }

    fn bare(&mut self) -> Result<Bare, String> {
        match self.peek() {
            Some(b'"') => {
                self.at += 1;
                let mut out = String::new();
                loop {
                    match self.peek() {
                        None => return Err("an unterminated string".into()),
                        Some(b'"') => {
                            self.at += 1;
                            return Ok(Bare::String(out));
                        }
                        Some(b'\\') => {
                            self.at += 1;
                            match self.peek() {
                                Some(c @ (b'"' | b'\\')) => {
                                    out.push(c as char);
                                    self.at += 1;
                                }
                                _ => return Err("a bad escape in a string".into()),
                            }
                        }
                        Some(c @ 0x20..=0x7e) => {
                            out.push(c as char);
                            self.at += 1;
                        }
                        Some(_) => return Err("a string holds only printable ASCII".into()),
                    }
                }
            }
            Some(b':') => {
                self.at += 1;
                let start = self.at;
                while matches!(self.peek(), Some(c) if c != b':') {
                    self.at += 1;
                }
                let encoded = &self.bytes[start..self.at];
                if !self.eat(b':') {
                    return Err("an unterminated byte sequence".into());
                }
                base64::engine::general_purpose::STANDARD
                    .decode(encoded)
                    .map(Bare::Bytes)
                    .map_err(|_| "a byte sequence that is not base64".into())
            }
            Some(b'?') => {
                self.at += 1;
                match self.peek() {
                    Some(b'1') => {
                        self.at += 1;
                        Ok(Bare::Boolean(true))
                    }
                    Some(b'0') => {
                        self.at += 1;
                        Ok(Bare::Boolean(false))
                    }
                    _ => Err("a boolean is ?0 or ?1".into()),
                }
            }
            Some(b'-' | b'0'..=b'9') => {
                let start = self.at;
                self.at += 1;
                while matches!(self.peek(), Some(b'0'..=b'9')) {
                    self.at += 1;
                }
                if self.peek() == Some(b'.') {
                    return Err("decimals are not used by signatures".into());
                }
                let text = std::str::from_utf8(&self.bytes[start..self.at]).unwrap_or("");
                if text.trim_start_matches('-').len() > 15 {
                    return Err("an integer has at most 15 digits".into());
                }
                text.parse()
                    .map(Bare::Integer)
                    .map_err(|_| "a bad integer".into())
            }
            Some(b'A'..=b'Z' | b'a'..=b'z' | b'*') => {
                let start = self.at;
                while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~:/".contains(&c))
                {
                    self.at += 1;
                }
                Ok(Bare::Token(
                    String::from_utf8_lossy(&self.bytes[start..self.at]).into_owned(),
                ))
            }
            _ => Err("expected a string, token, integer, byte sequence or boolean".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_input_parses_and_serializes_back() {
        let text = r#"sig1=("@method" "@authority" "@path" "content-digest");created=1618884473;keyid="test-key";nonce="b3k2pp5k7z-50gnwp.yemd", sig2=("@method");created=1"#;
        let dict = parse_dictionary(text).expect("parses");
        assert_eq!(dict.len(), 2);
        let Member::InnerList(items, params) = &dict[0].1 else {
            panic!("an inner list");
        };
        assert_eq!(items.len(), 4);
        assert_eq!(params[0], ("created".into(), Bare::Integer(1_618_884_473)));
        assert_eq!(
            serialize_inner_list(items, params),
            r#"("@method" "@authority" "@path" "content-digest");created=1618884473;keyid="test-key";nonce="b3k2pp5k7z-50gnwp.yemd""#
        );
    }

    #[test]
    fn byte_sequences_and_tokens() {
        let dict =
            parse_dictionary("sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:, x=tok;a=?0")
                .expect("parses");
        assert!(
            matches!(&dict[0].1, Member::Item(Item { value: Bare::Bytes(b), .. }) if b.len() == 32)
        );
        assert!(
            matches!(&dict[1].1, Member::Item(Item { value: Bare::Token(t), params }) if t == "tok" && params[0].1 == Bare::Boolean(false))
        );
    }

    #[test]
    fn malformed_fields_are_errors_not_panics() {
        for bad in [
            "a=(",
            "A=1",
            "a=\"x",
            "a=:@@:",
            "a=1,",
            "a=1 b=2",
            "a=1.5",
            "a=\"\\x\"",
            "a=?2",
            "a=(\"x\"\"y\")",
            "a=99999999999999999999",
        ] {
            assert!(parse_dictionary(bad).is_err(), "{bad} accepted");
        }
        let mut seed = 7u64;
        for _ in 0..2000 {
            let text: String = (0..24)
                .map(|_| {
                    seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    let alphabet = b"a=(\";:?01-,x )\\";
                    alphabet[(seed >> 33) as usize % alphabet.len()] as char
                })
                .collect();
            let _ = parse_dictionary(&text);
        }
    }
}
