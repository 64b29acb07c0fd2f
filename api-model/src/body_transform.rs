//! JSON body transforms of an HTTP relay: fields removed, renamed (moved) and the whole body wrapped,
//! for bodies that are JSON and small enough to hold; any other body streams through untouched.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Edits of one direction's JSON body, applied in this order: `remove`, `rename`, `wrap`. Field paths
/// are dotted (`user.name`) and address object members; a path that is not there is skipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonTransform {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
    /// `from: to`: the value at `from` moves to `to` (objects are created on the way), one rename
    /// after the other in the order of their `from` paths.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rename: BTreeMap<String, String>,
    /// The whole body becomes the value of this member of a new object (`data` → `{"data": …}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrap: Option<String>,
    /// The largest body transformed, in bytes; a larger one (or one of unknown length that grows
    /// past it) is relayed as it is.
    #[serde(default = "default_max_bytes")]
    pub max_bytes: u64,
}

fn default_max_bytes() -> u64 {
    64 << 10
}

/// The largest `max_bytes` allowed: a transformed body is held whole in memory.
pub const MAX_TRANSFORM_BYTES: u64 = 16 << 20;

impl JsonTransform {
    /// Problems, each phrased to follow `api \`NAME\`: upstream.<direction>: `.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let bad = |path: &str| path.is_empty() || path.split('.').any(str::is_empty);
        for path in &self.remove {
            if bad(path) {
                problems.push(format!("remove `{path}` is not a field path (a.b.c)"));
            }
        }
        for (from, to) in &self.rename {
            if bad(from) || bad(to) {
                problems.push(format!(
                    "rename `{from}` to `{to}`: both must be field paths (a.b.c)"
                ));
            } else if to.starts_with(&format!("{from}.")) {
                problems.push(format!("rename `{from}` into itself (`{to}`)"));
            }
        }
        if let Some(wrap) = &self.wrap
            && wrap.is_empty()
        {
            problems.push("wrap needs a member name".into());
        }
        if self.max_bytes == 0 || self.max_bytes > MAX_TRANSFORM_BYTES {
            problems.push(format!("max_bytes must be 1..={MAX_TRANSFORM_BYTES}"));
        }
        if self.remove.is_empty() && self.rename.is_empty() && self.wrap.is_none() {
            problems.push("changes nothing: give remove, rename or wrap".into());
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mistakes_are_named() {
        let transform: JsonTransform = serde_json::from_value(serde_json::json!({
            "remove": ["a..b"], "rename": {"x": "x.y", "": "z"}, "wrap": "", "max_bytes": 0
        }))
        .unwrap();
        let problems = transform.problems().join("; ");
        for said in [
            "remove `a..b`",
            "into itself",
            "rename `` to `z`",
            "wrap needs",
            "max_bytes",
        ] {
            assert!(problems.contains(said), "{said}: {problems}");
        }
        let empty: JsonTransform = serde_json::from_str("{}").unwrap();
        assert_eq!(empty.max_bytes, 64 << 10);
        assert!(empty.problems()[0].contains("changes nothing"));
    }
}
