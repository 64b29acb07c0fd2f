//! The request id as HTTP carries it: the `X-Request-Id` header, and which client-sent ids are kept.
//! Error bodies, the request-id interceptor and the invokers (metadata, attachments) all read it here.

use http::HeaderName;

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Longest client-supplied id accepted; longer ones are replaced so logs cannot be flooded through it.
const MAX_LEN: usize = 128;

/// The client's id when it is sane, else a new UUID.
pub fn accept_or_new(sent: Option<&str>) -> String {
    sent.filter(|id| is_acceptable(id))
        .map(str::to_string)
        .unwrap_or_else(|| {
            // Encoded straight into a stack buffer rather than through `Display`.
            let mut buffer = uuid::Uuid::encode_buffer();
            uuid::Uuid::new_v4()
                .hyphenated()
                .encode_lower(&mut buffer)
                .to_owned()
        })
}

fn is_acceptable(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/+=".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sane_ids_are_accepted() {
        assert!(is_acceptable("3f2c-abc_1.2"));
        assert!(!is_acceptable(""));
        assert!(!is_acceptable("has space"));
        assert!(!is_acceptable(&"x".repeat(200)));
    }

    #[test]
    fn a_new_id_is_a_lowercase_hyphenated_uuid() {
        let id = accept_or_new(None);
        let parsed = uuid::Uuid::parse_str(&id).expect("a UUID");
        assert_eq!(id, parsed.to_string());
        assert_eq!(parsed.get_version_num(), 4);
        assert_eq!(accept_or_new(Some("kept-1")), "kept-1");
    }
}
