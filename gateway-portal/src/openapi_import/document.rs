//! Reading an OpenAPI document: 3.0 and 3.1 (`openapi:`) or Swagger 2.0 (`swagger:`), as JSON or
//! YAML, down to what an import needs: the operations (method, path template, id, texts, the
//! operation object itself) and the path every operation's URL starts with on the upstream (3.x's
//! first server URL with its variables' defaults, 2.0's `basePath`).

use serde_json::Value;

/// The methods an OpenAPI path item may hold, in the order the specification lists them.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// A parsed document.
#[derive(Debug)]
pub struct Document {
    /// `OpenAPI 3.1.0` or `Swagger 2.0`.
    pub dialect: String,
    pub title: String,
    /// The path before every operation's path on the upstream (`/v2`), without a trailing slash;
    /// empty when there is none.
    pub base_path: String,
    pub operations: Vec<Operation>,
}

/// One operation of the document.
#[derive(Debug, Clone)]
pub struct Operation {
    /// Lowercase: `get`, `post`, ...
    pub method: String,
    /// The path as the document writes it: `/pets/{petId}`.
    pub path: String,
    pub operation_id: Option<String>,
    pub summary: Option<String>,
    pub description: Option<String>,
    /// The operation object, with the path item's shared `parameters` merged in where the operation
    /// does not override them.
    pub object: Value,
}

/// Parses `text` (JSON, or YAML when it is not JSON).
pub fn parse(text: &str) -> Result<Document, String> {
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(json_error) => serde_yaml_ng::from_str(text)
            .map_err(|yaml_error| format!("neither JSON ({json_error}) nor YAML ({yaml_error})"))?,
    };
    let root = value
        .as_object()
        .ok_or("an OpenAPI document is an object")?;
    let dialect = match (root.get("openapi"), root.get("swagger")) {
        (Some(Value::String(v)), _) if v.starts_with("3.") => format!("OpenAPI {v}"),
        (_, Some(Value::String(v))) if v == "2.0" => "Swagger 2.0".to_string(),
        (Some(v), _) => return Err(format!("OpenAPI version {v} is not supported (3.0, 3.1)")),
        (_, Some(v)) => return Err(format!("Swagger version {v} is not supported (2.0)")),
        _ => return Err("neither `openapi` nor `swagger` says which version this is".into()),
    };
    let title = root
        .get("info")
        .and_then(|i| i.get("title"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let base_path = if dialect.starts_with("Swagger") {
        root.get("basePath")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    } else {
        server_path(root.get("servers"))
    };
    let base_path = base_path.trim_end_matches('/').to_string();

    let mut operations = Vec::new();
    let paths = match root.get("paths") {
        Some(Value::Object(paths)) => paths,
        None | Some(Value::Null) => {
            return Ok(Document {
                dialect,
                title,
                base_path,
                operations,
            });
        }
        Some(_) => return Err("`paths` must be an object".into()),
    };
    for (path, item) in paths {
        if !path.starts_with('/') {
            return Err(format!("path `{path}` must start with `/`"));
        }
        let Some(item) = item.as_object() else {
            return Err(format!("path `{path}`: a path item is an object"));
        };
        let shared = item.get("parameters").and_then(Value::as_array);
        for method in METHODS {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let Some(object) = operation.as_object() else {
                return Err(format!(
                    "{} {path}: an operation is an object",
                    method.to_uppercase()
                ));
            };
            let mut object = object.clone();
            if let Some(shared) = shared {
                merge_parameters(&mut object, shared);
            }
            let text = |key: &str| object.get(key).and_then(Value::as_str).map(str::to_string);
            operations.push(Operation {
                method: method.to_string(),
                path: path.clone(),
                operation_id: text("operationId"),
                summary: text("summary"),
                description: text("description"),
                object: Value::Object(object),
            });
        }
    }
    Ok(Document {
        dialect,
        title,
        base_path,
        operations,
    })
}

/// The path of 3.x's first server URL (`https://api.example.com/v1` → `/v1`), its `{variables}`
/// replaced by their defaults.
fn server_path(servers: Option<&Value>) -> String {
    let Some(server) = servers.and_then(Value::as_array).and_then(|s| s.first()) else {
        return String::new();
    };
    let mut url = server
        .get("url")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if let Some(variables) = server.get("variables").and_then(Value::as_object) {
        for (name, variable) in variables {
            let default = variable
                .get("default")
                .and_then(Value::as_str)
                .unwrap_or("");
            url = url.replace(&format!("{{{name}}}"), default);
        }
    }
    let path = match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map(|i| &rest[i..]).unwrap_or(""),
        None => url.as_str(),
    };
    path.split(['?', '#']).next().unwrap_or("").to_string()
}

/// Adds the path item's parameters the operation does not redefine (same `name` and `in`), as the
/// specification says they combine. `$ref` parameters are kept as references.
fn merge_parameters(operation: &mut serde_json::Map<String, Value>, shared: &[Value]) {
    let key = |p: &Value| {
        (
            p.get("name").and_then(Value::as_str).map(str::to_string),
            p.get("in").and_then(Value::as_str).map(str::to_string),
            p.get("$ref").and_then(Value::as_str).map(str::to_string),
        )
    };
    let own: Vec<_> = operation
        .get("parameters")
        .and_then(Value::as_array)
        .map(|ps| ps.iter().map(key).collect())
        .unwrap_or_default();
    let mut merged: Vec<Value> = operation
        .get("parameters")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for parameter in shared {
        if !own.contains(&key(parameter)) {
            merged.push(parameter.clone());
        }
    }
    operation.insert("parameters".into(), Value::Array(merged));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swagger_two_and_openapi_three_give_the_same_operations() {
        let v2 = r#"{"swagger": "2.0", "info": {"title": "Pets"}, "basePath": "/v1/",
            "paths": {"/pets/{id}": {"parameters": [{"name": "id", "in": "path"}],
                "get": {"operationId": "showPet", "summary": "One pet"}, "delete": {}}}}"#;
        let v3 = "openapi: 3.1.0\ninfo: {title: Pets}\nservers:\n  - url: 'https://{host}/v1'\n    variables: {host: {default: pets.example}}\npaths:\n  /pets/{id}:\n    parameters: [{name: id, in: path}]\n    get: {operationId: showPet, summary: One pet}\n    delete: {}\n";
        for text in [v2, v3] {
            let document = parse(text).unwrap();
            assert_eq!(document.title, "Pets");
            assert_eq!(document.base_path, "/v1");
            let ops: Vec<_> = document
                .operations
                .iter()
                .map(|o| (o.method.as_str(), o.operation_id.as_deref()))
                .collect();
            assert_eq!(ops, vec![("get", Some("showPet")), ("delete", None)]);
            assert_eq!(document.operations[1].object["parameters"][0]["name"], "id");
        }
    }

    #[test]
    fn what_is_not_an_openapi_document_is_named() {
        for (text, said) in [
            ("[1, 2]", "is an object"),
            ("{\"openapi\": \"4.0\"}", "not supported"),
            ("{\"swagger\": \"1.2\"}", "not supported"),
            ("{\"info\": {}}", "which version"),
            (
                "{\"openapi\": \"3.0.0\", \"paths\": {\"pets\": {}}}",
                "must start with",
            ),
            (
                "{\"openapi\": \"3.0.0\", \"paths\": {\"/a\": {\"get\": 3}}}",
                "is an object",
            ),
            ("{ not: [json", "neither JSON"),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(said), "{text}: {err}");
        }
    }

    #[test]
    fn an_operation_keeps_its_own_parameter_over_the_path_items() {
        let text = r#"{"openapi": "3.0.0", "paths": {"/a/{id}": {
            "parameters": [{"name": "id", "in": "path", "description": "shared"}, {"name": "q", "in": "query"}],
            "get": {"parameters": [{"name": "id", "in": "path", "description": "own"}]}}}}"#;
        let document = parse(text).unwrap();
        let parameters = document.operations[0].object["parameters"]
            .as_array()
            .unwrap()
            .clone();
        assert_eq!(parameters.len(), 2);
        assert_eq!(parameters[0]["description"], "own");
        assert_eq!(parameters[1]["name"], "q");
    }
}
