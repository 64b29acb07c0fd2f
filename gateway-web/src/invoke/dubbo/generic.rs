//! Generic invocation: the call travels as `$invoke(String method, String[] parameterTypes, Object[]
//! args)` with `generic=true` attached, so a provider needs no interface class on the caller's side
//! and POJOs travel as maps with a `class` key.

use dubbo_codec::hessian2::{List, Value};

/// The parameter types of `$invoke` itself.
const GENERIC_TYPES: [&str; 3] = [
    "java.lang.String",
    "java.lang.String[]",
    "java.lang.Object[]",
];

/// The attachment that tells a Java provider the call is generic.
pub const ATTACHMENT: (&str, &str) = ("generic", "true");

/// A call in its generic form: the method name, parameter types and arguments to send.
pub fn wrap(
    method: &str,
    parameter_types: &[String],
    arguments: Vec<Value>,
) -> (String, Vec<String>, Vec<Value>) {
    let types = parameter_types
        .iter()
        .map(|t| Value::String(t.clone()))
        .collect();
    (
        "$invoke".to_string(),
        GENERIC_TYPES.iter().map(|t| t.to_string()).collect(),
        vec![
            Value::String(method.to_string()),
            Value::List(List {
                type_name: Some("[string".into()),
                items: types,
            }),
            Value::List(List {
                type_name: Some("[object".into()),
                items: arguments,
            }),
        ],
    )
}
