//! Bounds on what one body may make the decoder build, so hostile input fails fast instead of eating
//! memory or stack.

/// Decoder limits. They apply per [`super::Decoder`], i.e. per Dubbo body, because references reach
/// across the values of one body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of lists, maps and objects (the decoder recurses once per level).
    pub max_depth: usize,
    /// Most values produced, counting every copy made to expand a back-reference. Expanding a reference
    /// also costs one node per 64 bytes it re-reads, so that copies of long strings are bounded too.
    pub max_nodes: usize,
    /// Longest string (UTF-16 units), binary (bytes), list or map (entries), or class definition (fields).
    pub max_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 128,
            max_nodes: 1_000_000,
            max_len: 8 * 1024 * 1024,
        }
    }
}
