//! `PathTemplate`: a `google.api.http` path template (`/v1/{name=shelves/*}:verb`), parsed and
//! checked once at load time so that bad configuration never reaches a request.

use std::borrow::Cow;
use std::collections::HashSet;
use std::ops::Range;

use percent_encoding::percent_decode_str;

/// One segment of a template's shape; variable names live apart in [`TemplateVariable`] so that the
/// route table can compare shapes without them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    /// Compared against the decoded request segment, so it is stored decoded too.
    Literal(String),
    /// `*`: exactly one segment.
    Star,
    /// `**`: the rest of the path, one segment or more; always last.
    DoubleStar,
}

/// A `{field.path=...}` capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateVariable {
    pub field_path: String,
    /// Indices into the template's segments, so the route table can slice a request's segments.
    segments: Range<usize>,
}

impl TemplateVariable {
    /// The template segments this variable covers.
    pub(crate) fn segment_range(&self) -> Range<usize> {
        self.segments.clone()
    }
}

#[derive(Debug, Clone)]
pub struct PathTemplate {
    text: String,
    segments: Vec<Segment>,
    variables: Vec<TemplateVariable>,
    verb: Option<String>,
}

/// A template that cannot be used; the message names the template and the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid path template `{template}`: {problem}")]
pub struct TemplateError {
    pub template: String,
    pub problem: TemplateProblem,
}

/// What is wrong with a template; byte offsets point into the template text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateProblem {
    #[error("it must start with `/`")]
    MissingLeadingSlash,
    #[error("empty segment at byte {0}")]
    EmptySegment(usize),
    #[error("unbalanced braces at byte {0}")]
    UnbalancedBraces(usize),
    #[error("`{0}` is not a field path (identifiers joined by `.`)")]
    InvalidFieldPath(String),
    #[error("`**` must be the last segment")]
    DoubleStarNotLast,
    #[error("variable `{0}` appears twice")]
    DuplicateVariable(String),
    #[error("variables cannot nest (byte {0})")]
    NestedVariable(usize),
    #[error("the verb after `:` is empty")]
    EmptyVerb,
    #[error("unexpected `{ch}` at byte {at}")]
    Unexpected { ch: char, at: usize },
}

impl PathTemplate {
    pub fn parse(text: &str) -> Result<PathTemplate, TemplateError> {
        Parser {
            text,
            pos: 0,
            segments: Vec::new(),
            variables: Vec::new(),
        }
        .template()
        .map_err(|problem| TemplateError {
            template: text.to_owned(),
            problem,
        })
    }

    /// The variables in order of appearance.
    pub fn variables(&self) -> &[TemplateVariable] {
        &self.variables
    }

    /// The original text, as configured.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn verb(&self) -> Option<&str> {
        self.verb.as_deref()
    }

    pub(crate) fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The variables' values as they appear in a path this template matched, still percent-encoded:
    /// what a rewrite relays upstream, so an encoded `/` or `%` reaches it as the client sent it.
    /// A `**` variable spans the rest of the path; an unmatched variable is empty.
    pub fn raw_values<'p>(&self, path: &'p str) -> Vec<&'p str> {
        let rest = path.strip_prefix('/').unwrap_or(path);
        let rest = match &self.verb {
            Some(verb) => rest
                .strip_suffix(verb.as_str())
                .and_then(|r| r.strip_suffix(':'))
                .unwrap_or(rest),
            None => rest,
        };
        // Byte offsets where each segment starts, and the end of the last.
        let mut starts = vec![0];
        starts.extend(rest.match_indices('/').map(|(i, _)| i + 1));
        let end_of = |segment: usize| {
            starts
                .get(segment + 1)
                .map(|next| next - 1)
                .unwrap_or(rest.len())
        };
        self.variables
            .iter()
            .map(|variable| {
                let range = variable.segment_range();
                let to_end =
                    self.segments.get(range.end.wrapping_sub(1)) == Some(&Segment::DoubleStar);
                let last = if to_end {
                    starts.len() - 1
                } else {
                    range.end.saturating_sub(1)
                };
                match starts.get(range.start) {
                    Some(&from) if last >= range.start => {
                        rest.get(from..end_of(last)).unwrap_or("")
                    }
                    _ => "",
                }
            })
            .collect()
    }
}

impl std::fmt::Display for PathTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// Recursive descent over bytes: every character with meaning is ASCII, so slicing at those
/// positions always lands on a UTF-8 boundary.
struct Parser<'t> {
    text: &'t str,
    pos: usize,
    segments: Vec<Segment>,
    variables: Vec<TemplateVariable>,
}

/// Ends a literal. `:` does too, because outside a variable it can only start the verb.
fn is_special(b: u8) -> bool {
    matches!(b, b'/' | b'{' | b'}' | b'*' | b':')
}

impl<'t> Parser<'t> {
    fn template(mut self) -> Result<PathTemplate, TemplateProblem> {
        if !self.text.starts_with('/') {
            return Err(TemplateProblem::MissingLeadingSlash);
        }
        self.pos = 1;
        // The root is the only template without segments.
        if self.text.len() > 1 {
            self.segments_until_end(false)?;
        }
        let verb = match self.peek() {
            None => None,
            Some(b':') => Some(self.verb()?),
            Some(b'}') => return Err(TemplateProblem::UnbalancedBraces(self.pos)),
            Some(_) => return Err(self.unexpected()),
        };
        let last = self.segments.len().saturating_sub(1);
        if self
            .segments
            .iter()
            .take(last)
            .any(|s| *s == Segment::DoubleStar)
        {
            return Err(TemplateProblem::DoubleStarNotLast);
        }
        let mut seen = HashSet::new();
        if let Some(dup) = self
            .variables
            .iter()
            .find(|v| !seen.insert(v.field_path.as_str()))
        {
            return Err(TemplateProblem::DuplicateVariable(dup.field_path.clone()));
        }
        Ok(PathTemplate {
            text: self.text.to_owned(),
            segments: self.segments,
            variables: self.variables,
            verb,
        })
    }

    /// `Segments = Segment { "/" Segment }`.
    fn segments_until_end(&mut self, in_variable: bool) -> Result<(), TemplateProblem> {
        loop {
            self.segment(in_variable)?;
            if self.peek() != Some(b'/') {
                return Ok(());
            }
            self.pos += 1;
        }
    }

    fn segment(&mut self, in_variable: bool) -> Result<(), TemplateProblem> {
        match self.peek() {
            Some(b'*') if self.text.as_bytes().get(self.pos + 1) == Some(&b'*') => {
                self.pos += 2;
                self.segments.push(Segment::DoubleStar);
            }
            Some(b'*') => {
                self.pos += 1;
                self.segments.push(Segment::Star);
            }
            Some(b'{') if in_variable => return Err(TemplateProblem::NestedVariable(self.pos)),
            Some(b'{') => self.variable()?,
            Some(b) if !is_special(b) => {
                let literal = self.take_while(|b| !is_special(b));
                self.segments
                    .push(Segment::Literal(decode(literal).into_owned()));
            }
            _ => return Err(TemplateProblem::EmptySegment(self.pos)),
        }
        // Whatever follows a segment must end it (`a*`, `**x` are not segments).
        match self.peek() {
            None | Some(b'/' | b'}' | b':') => Ok(()),
            Some(_) => Err(self.unexpected()),
        }
    }

    /// `Variable = "{" FieldPath [ "=" Segments ] "}"`; `{x}` is `{x=*}`.
    fn variable(&mut self) -> Result<(), TemplateProblem> {
        let open = self.pos;
        self.pos += 1;
        let field_path = self.take_while(|b| !matches!(b, b'=' | b'}' | b'{' | b'/'));
        if !is_field_path(field_path) {
            return Err(TemplateProblem::InvalidFieldPath(field_path.to_owned()));
        }
        let start = self.segments.len();
        match self.peek() {
            Some(b'=') => {
                self.pos += 1;
                self.segments_until_end(true)?;
            }
            Some(b'}') => self.segments.push(Segment::Star),
            Some(b'{') => return Err(TemplateProblem::NestedVariable(self.pos)),
            _ => return Err(TemplateProblem::UnbalancedBraces(open)),
        }
        match self.peek() {
            Some(b'}') => self.pos += 1,
            None => return Err(TemplateProblem::UnbalancedBraces(open)),
            Some(_) => return Err(self.unexpected()),
        }
        let segments = start..self.segments.len();
        self.variables.push(TemplateVariable {
            field_path: field_path.to_owned(),
            segments,
        });
        Ok(())
    }

    /// `Verb = ":" LITERAL`, kept raw because requests are matched on the raw `:` (an encoded `%3A`
    /// is data).
    fn verb(&mut self) -> Result<String, TemplateProblem> {
        self.pos += 1;
        let verb = self.take_while(|b| !is_special(b));
        if self.peek().is_some() {
            return Err(self.unexpected());
        }
        if verb.is_empty() {
            return Err(TemplateProblem::EmptyVerb);
        }
        Ok(verb.to_owned())
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn take_while(&mut self, keep: impl Fn(u8) -> bool) -> &'t str {
        let (text, start) = (self.text, self.pos);
        let len = text.as_bytes()[start..]
            .iter()
            .take_while(|&&b| keep(b))
            .count();
        self.pos += len;
        &text[start..self.pos]
    }

    fn unexpected(&self) -> TemplateProblem {
        let ch = self
            .text
            .get(self.pos..)
            .and_then(|rest| rest.chars().next())
            .unwrap_or('\0');
        TemplateProblem::Unexpected { ch, at: self.pos }
    }
}

/// `FieldPath = IDENT { "." IDENT }` with protobuf identifiers.
fn is_field_path(text: &str) -> bool {
    text.split('.').all(|ident| {
        let mut bytes = ident.bytes();
        bytes
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
            && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
    })
}

/// Percent-decodes one path segment; invalid UTF-8 becomes U+FFFD rather than an error, because a
/// segment that cannot match simply finds no route.
pub(crate) fn decode(segment: &str) -> Cow<'_, str> {
    percent_decode_str(segment).decode_utf8_lossy()
}

#[cfg(test)]
mod tests {
    use super::*;
    use TemplateProblem as P;

    /// Renders the parsed form canonically (`{x}` becomes `{x=*}`, literals decoded) so that one
    /// string per case checks segments, variable ranges and verb together.
    fn canonical(t: &PathTemplate) -> String {
        let mut parts: Vec<String> = t
            .segments()
            .iter()
            .map(|s| match s {
                Segment::Literal(l) => l.clone(),
                Segment::Star => "*".into(),
                Segment::DoubleStar => "**".into(),
            })
            .collect();
        for v in t.variables() {
            let range = v.segment_range();
            parts[range.start].insert_str(0, &format!("{{{}=", v.field_path));
            parts[range.end - 1].push('}');
        }
        let verb = t.verb().map(|v| format!(":{v}")).unwrap_or_default();
        format!("/{}{verb}", parts.join("/"))
    }

    #[test]
    fn parses_valid_templates() {
        let cases = [
            ("/", "/"),
            ("/v1/shelves", "/v1/shelves"),
            ("/v1/{name}", "/v1/{name=*}"),
            ("/v1/{a.b_c=shelves/*}/x", "/v1/{a.b_c=shelves/*}/x"),
            ("/v1/{name=**}", "/v1/{name=**}"),
            ("/v1/{name=shelves/**}:get", "/v1/{name=shelves/**}:get"),
            ("/v1/*/**", "/v1/*/**"),
            ("/v1/{a}/{b}:move", "/v1/{a=*}/{b=*}:move"),
            ("/v1/a:b", "/v1/a:b"),
            ("/v1/a%20b/é", "/v1/a b/é"),
        ];
        for (text, want) in cases {
            let t = PathTemplate::parse(text).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(t.as_str(), text);
            assert_eq!(canonical(&t), want, "{text}");
        }
    }

    #[test]
    fn rejects_invalid_templates() {
        let unexpected = |ch, at| P::Unexpected { ch, at };
        let cases = [
            ("", P::MissingLeadingSlash),
            ("v1/x", P::MissingLeadingSlash),
            ("//", P::EmptySegment(1)),
            ("/v1//x", P::EmptySegment(4)),
            ("/v1/", P::EmptySegment(4)),
            ("/:x", P::EmptySegment(1)),
            ("/v1/{name", P::UnbalancedBraces(4)),
            ("/v1/{name=a/*", P::UnbalancedBraces(4)),
            ("/v1/name}", P::UnbalancedBraces(8)),
            ("/v1/{}", P::InvalidFieldPath(String::new())),
            ("/v1/{1a}", P::InvalidFieldPath("1a".into())),
            ("/v1/{a..b}", P::InvalidFieldPath("a..b".into())),
            ("/v1/{a-b}", P::InvalidFieldPath("a-b".into())),
            ("/v1/**/x", P::DoubleStarNotLast),
            ("/v1/{name=**}/x", P::DoubleStarNotLast),
            ("/v1/{a}/{a}", P::DuplicateVariable("a".into())),
            ("/v1/{a={b}}", P::NestedVariable(7)),
            ("/v1/{a{b}}", P::NestedVariable(6)),
            ("/v1/x:", P::EmptyVerb),
            ("/v1/x:a/b", unexpected('/', 7)),
            ("/v1/x:a:b", unexpected(':', 7)),
            ("/v1/a*", unexpected('*', 5)),
            ("/v1/***", unexpected('*', 6)),
            ("/v1/{a}é", unexpected('é', 7)),
            ("/v1/{a=x:y}", unexpected(':', 8)),
        ];
        for (text, problem) in cases {
            let err = PathTemplate::parse(text).expect_err(text);
            assert_eq!(err.problem, problem, "{text}");
            assert!(err.to_string().contains(&format!("`{text}`")), "{err}");
        }
    }

    #[test]
    fn raw_values_keep_the_encoding_the_client_sent() {
        let template = PathTemplate::parse("/api/{id}/files/{rest=**}").expect("template");
        assert_eq!(
            template.raw_values("/api/a%2Fb/files/x/y%20z/w"),
            vec!["a%2Fb", "x/y%20z/w"]
        );
        let verb = PathTemplate::parse("/v1/{name=shelves/*}:archive").expect("template");
        assert_eq!(verb.raw_values("/v1/shelves/7:archive"), vec!["shelves/7"]);
    }
}
