//! POST /api/imports/dubbo-definition: a Java interface description in, what an API needs out. The
//! description is Dubbo's service definition, the JSON a provider publishes to the metadata centre
//! (`FullServiceDefinition`: `canonicalName`, `methods`, `types`), in its Dubbo 2.7 shape (a property is
//! `{"type": …}`, an enum's constants are `enum`) or its Dubbo 3 shape (a property is the type name,
//! constants are `enums`). The answer lists the methods with their parameter types and the
//! `dubbo.classes` to paste into an API (POJO fields with their types, enum constants), checked with
//! the gateway's own compiler. Nothing is saved.

use std::collections::BTreeMap;

use api_model::JavaClass;
use axum::Json;
use serde_json::{Value, json};

use super::JsonBody;
use crate::error::{ApiError, ApiResult, FieldProblem};

pub async fn read(JsonBody(definition): JsonBody<Value>) -> ApiResult<Json<Value>> {
    let interface = definition["canonicalName"]
        .as_str()
        .ok_or_else(|| invalid("canonicalName", "the interface's name is missing"))?;
    let methods = definition["methods"]
        .as_array()
        .ok_or_else(|| invalid("methods", "an array of methods is expected"))?
        .iter()
        .enumerate()
        .map(|(i, method)| {
            let name = method["name"]
                .as_str()
                .ok_or_else(|| invalid(&format!("methods[{i}].name"), "missing"))?;
            let types: Vec<&str> = method["parameterTypes"]
                .as_array()
                .map(|types| types.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            // Java keeps no parameter names without `-parameters`; Dubbo's own generic calls say arg0….
            let params: Vec<Value> = types
                .iter()
                .enumerate()
                .map(|(n, ty)| json!({"name": format!("arg{n}"), "type": ty}))
                .collect();
            Ok(json!({"name": name, "params": params, "returns": method["returnType"]}))
        })
        .collect::<ApiResult<Vec<Value>>>()?;
    let classes = classes(&definition["types"])?;
    gateway_web::mapping::dubbo::Classes::compile(&classes)
        .map_err(|err| invalid("types", &err.0))?;
    Ok(Json(json!({
        "interface": interface,
        "methods": methods,
        "classes": classes,
    })))
}

/// The POJOs (types with properties) and enums (types with constants) of a definition's `types`;
/// the JDK's own types and anything without either are left out, as the gateway knows them already.
fn classes(types: &Value) -> ApiResult<BTreeMap<String, JavaClass>> {
    let mut classes = BTreeMap::new();
    for (i, entry) in types.as_array().into_iter().flatten().enumerate() {
        let Some(name) = entry["type"].as_str() else {
            return Err(invalid(&format!("types[{i}].type"), "missing"));
        };
        if name.starts_with("java.") || !name.contains('.') || name.contains(['<', '[']) {
            continue;
        }
        let constants: Vec<String> = entry
            .get("enums")
            .or_else(|| entry.get("enum"))
            .and_then(Value::as_array)
            .map(|values| {
                values
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let mut fields = BTreeMap::new();
        for (field, property) in entry["properties"].as_object().into_iter().flatten() {
            let ty = property
                .as_str()
                .or_else(|| property["type"].as_str())
                .ok_or_else(|| {
                    invalid(
                        &format!("types[{i}].properties.{field}"),
                        "a type name or {\"type\": …} is expected",
                    )
                })?;
            fields.insert(field.clone(), ty.to_string());
        }
        if constants.is_empty() && fields.is_empty() {
            continue;
        }
        classes.insert(name.to_string(), JavaClass { fields, constants });
    }
    Ok(classes)
}

fn invalid(field: &str, problem: &str) -> ApiError {
    ApiError::invalid(
        format!("the service definition's {field}: {problem}"),
        vec![FieldProblem {
            field: field.to_string(),
            problem: problem.to_string(),
        }],
    )
}
