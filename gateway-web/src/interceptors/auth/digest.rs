//! `Content-Digest` (RFC 9530): the body's SHA-256 or SHA-512, which a signature covers instead of the
//! body itself. Every digest the field carries in an algorithm the gateway knows must match; one must.

use super::structured::{Bare, Member, parse_dictionary};

pub fn verify(field: &str, body: &[u8]) -> Result<(), String> {
    let dict = parse_dictionary(field).map_err(|why| format!("Content-Digest: {why}"))?;
    let mut checked = 0;
    for (algorithm, member) in &dict {
        let wanted = match algorithm.as_str() {
            "sha-256" => &ring::digest::SHA256,
            "sha-512" => &ring::digest::SHA512,
            _ => continue,
        };
        let Member::Item(item) = member else {
            return Err("Content-Digest: a digest is a byte sequence".into());
        };
        let Bare::Bytes(sent) = &item.value else {
            return Err("Content-Digest: a digest is a byte sequence".into());
        };
        let actual = ring::digest::digest(wanted, body);
        // Not a secret: the body is the client's own, so a plain comparison leaks nothing.
        if actual.as_ref() != sent.as_slice() {
            return Err(format!(
                "Content-Digest {algorithm} does not match the body"
            ));
        }
        checked += 1;
    }
    if checked == 0 {
        return Err("Content-Digest has no sha-256 or sha-512 digest".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_match_their_bodies() {
        // RFC 9530, appendix B: the body `{"hello": "world"}`.
        let body = br#"{"hello": "world"}"#;
        let field = "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:";
        assert_eq!(verify(field, body), Ok(()));
        assert!(verify(field, b"{}").is_err());
        assert!(verify("md5=:AAAA:", body).is_err());
        assert!(verify("sha-256=abc", body).is_err());
    }
}
