//! One HTTP binding of a rule → the verb and the parsed path template, the same for every protocol.

use api_model::HttpRule;

use crate::access::PathTemplate;

pub struct Binding {
    pub verb: http::Method,
    /// The template as written, for route selectors and messages.
    pub path: String,
    pub template: PathTemplate,
    /// The field paths of the template's variables, in template order.
    pub variables: Vec<String>,
}

/// Parses one binding (a rule without its `additional_bindings`, or one of them).
pub fn parse(rule: &HttpRule) -> Result<Binding, String> {
    let (verb, path) = rule
        .pattern()
        .ok_or("an http rule needs exactly one of get, put, post, delete, patch, custom")?;
    let verb = http::Method::from_bytes(verb.as_str().as_bytes())
        .map_err(|_| format!("`{}` is not an HTTP method", verb.as_str()))?;
    let template = PathTemplate::parse(path).map_err(|err| err.to_string())?;
    let variables = template
        .variables()
        .iter()
        .map(|v| v.field_path.clone())
        .collect();
    Ok(Binding {
        verb,
        path: path.to_string(),
        template,
        variables,
    })
}
