//! Names a person chooses (backends, schemas, APIs and their groups, users): 1 to 128 letters, digits,
//! `.`, `_` or `-`, starting with a letter or digit (usernames may also hold `@`). Names travel into
//! URLs (`/api/apis/{name}`), logs, audit rows, grants (`group:NAME`) and the error messages of route
//! conflicts; a space, a slash or a control character would break one of them later, far from the form
//! where it was typed, so it is refused here with a 400 that names the field.

use crate::error::{ApiError, ApiResult, FieldProblem};

pub const MAX_LEN: usize = 128;

/// Why `value` is not a name (with `extra` allowed besides letters, digits and `._-`), if it is not.
pub fn problem(value: &str, extra: &[u8]) -> Option<String> {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"._-".contains(&b) || extra.contains(&b);
    let shown: String = value.escape_debug().collect();
    if value.is_empty() {
        Some("must not be empty".into())
    } else if value.len() > MAX_LEN {
        Some(format!("is {} bytes long; at most {MAX_LEN}", value.len()))
    } else if let Some(bad) = value.chars().find(|c| !c.is_ascii() || !allowed(*c as u8)) {
        let bad: String = bad.escape_debug().collect();
        let also: String = extra.iter().map(|&b| format!(" `{}`", b as char)).collect();
        Some(format!(
            "`{shown}` holds `{bad}`; a name is letters, digits, `.`, `_`, `-`{also}"
        ))
    } else if !value.as_bytes()[0].is_ascii_alphanumeric() {
        Some(format!("`{shown}` must start with a letter or a digit"))
    } else {
        None
    }
}

/// A 400 naming `field` (`name`, `group`, `username`) when `value` is not a name.
pub fn check(what: &str, field: &str, value: &str) -> ApiResult<()> {
    check_with(what, field, value, b"")
}

pub fn check_with(what: &str, field: &str, value: &str, extra: &[u8]) -> ApiResult<()> {
    match problem(value, extra) {
        None => Ok(()),
        Some(problem) => Err(ApiError::invalid(
            format!("{what} `{field}` {problem}"),
            vec![FieldProblem {
                field: field.to_string(),
                problem,
            }],
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_plain_and_bounded() {
        for good in ["demo", "get-user", "v1.users_api", "9lives"] {
            assert_eq!(problem(good, b""), None, "{good}");
        }
        assert_eq!(problem("alice@example.com", b"@"), None);
        let long = "a".repeat(MAX_LEN + 1);
        let cases: &[(&str, &str)] = &[
            ("", "must not be empty"),
            ("has space", "holds ` `"),
            ("a/b", "holds `/`"),
            ("nul\0byte", "holds `\\0`"),
            ("tab\there", "holds `\\t`"),
            ("naïve", "holds `ï`"),
            ("-lead", "must start with a letter or a digit"),
            ("alice@example.com", "holds `@`"),
            (&long, "is 129 bytes long; at most 128"),
        ];
        for (bad, phrase) in cases {
            let got = problem(bad, b"").unwrap_or_else(|| panic!("{bad:?} accepted"));
            assert!(got.contains(phrase), "{bad:?}: {got}");
        }
    }
}
