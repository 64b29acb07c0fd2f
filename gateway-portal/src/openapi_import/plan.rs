//! From a document's operations to API definitions: one HTTP-relay API per operation, named after
//! its `operationId` within the import's group, its route the operation's path under the chosen
//! prefix, its upstream path the document's base path plus the same path (so the upstream receives
//! what its own document describes), and the operation kept as the API's docs.

use std::collections::HashSet;

use api_model::policy::Policy;
use api_model::upstream::HttpTarget;
use api_model::{Api, ApiDocs, HttpRule};
use serde::Serialize;

use super::document::{Document, Operation};

/// What the person importing chose.
pub struct Options<'a> {
    pub backend: &'a str,
    /// The route prefix on the gateway (`/petstore`), or empty.
    pub prefix: &'a str,
    /// The APIs' group, and the start of each API's name.
    pub group: &'a str,
    /// Attached to every API (rate limits, CORS, authentication).
    pub policies: &'a [Policy],
}

/// One API the import would save.
pub struct Planned {
    pub api: Api,
    /// `GET`
    pub method: String,
    /// The route at the gateway: `/petstore/pets/{petId}`.
    pub route: String,
}

/// An operation the import leaves out, and why.
#[derive(Debug, Serialize)]
pub struct Skipped {
    pub method: String,
    pub path: String,
    pub reason: String,
}

/// Plans every operation of `document`.
pub fn plan(document: &Document, options: &Options) -> (Vec<Planned>, Vec<Skipped>) {
    let mut planned = Vec::new();
    let mut skipped = Vec::new();
    let mut names = HashSet::new();
    let mut routes: Vec<(String, String, String)> = Vec::new();
    for operation in &document.operations {
        let skip = |reason: String| Skipped {
            method: operation.method.to_uppercase(),
            path: operation.path.clone(),
            reason,
        };
        let template = match template(&operation.path) {
            Ok(template) => template,
            Err(reason) => {
                skipped.push(skip(reason));
                continue;
            }
        };
        let route = route(options.prefix, &template);
        // Two operations whose paths differ only in variable names are one route.
        let shape = (operation.method.clone(), variables_blanked(&route));
        if let Some((_, _, first)) = routes
            .iter()
            .find(|(method, blank, _)| (method, blank) == (&shape.0, &shape.1))
        {
            skipped.push(skip(format!("the same route as {first}")));
            continue;
        }
        let Some(http) = rule(&operation.method, &route) else {
            skipped.push(skip(match operation.method.as_str() {
                "head" => "the gateway answers HEAD on every GET route itself".into(),
                "options" => {
                    "the gateway answers OPTIONS itself (Allow, or a CORS preflight)".into()
                }
                _ => format!("{} is not relayed", operation.method.to_uppercase()),
            }));
            continue;
        };
        let upstream_path = format!("{}{}", document.base_path, template);
        let upstream = HttpTarget {
            path: (upstream_path != route).then_some(upstream_path),
            ..HttpTarget::default()
        };
        let name = unique_name(&mut names, options.group, operation);
        routes.push((
            shape.0,
            shape.1,
            format!("{} {}", operation.method.to_uppercase(), operation.path),
        ));
        let api = Api {
            group: Some(options.group.to_string()),
            http: Some(http),
            upstream: Some(upstream),
            policies: options.policies.to_vec(),
            docs: Some(ApiDocs {
                summary: operation.summary.clone(),
                description: operation.description.clone(),
                openapi_operation: Some(operation.object.clone()),
            }),
            ..Api::new(&name, options.backend)
        };
        planned.push(Planned {
            api,
            method: operation.method.to_uppercase(),
            route,
        });
    }
    (planned, skipped)
}

/// The document's path as a route template: each `{var}` a whole segment, its name made a field
/// name (`{pet-id}` → `{pet_id}`). A variable inside a segment (`/files/{name}.json`) has no route
/// template equivalent.
fn template(path: &str) -> Result<String, String> {
    let mut out = String::with_capacity(path.len());
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        if !segment.contains(['{', '}']) {
            out.push_str(segment);
            continue;
        }
        let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
            return Err(format!(
                "`{segment}`: a path variable must be a whole segment to become a route"
            ));
        };
        if name.is_empty() || name.contains(['{', '}']) {
            return Err(format!("`{segment}` is not a path variable"));
        }
        let mut field: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if field.starts_with(|c: char| c.is_ascii_digit()) {
            field.insert(0, '_');
        }
        out.push('{');
        out.push_str(&field);
        out.push('}');
    }
    Ok(out)
}

/// The route at the gateway: the prefix, then the path without a trailing slash (a route template has
/// no empty segment; the upstream still receives the path the document writes).
fn route(prefix: &str, template: &str) -> String {
    let prefix = prefix.trim_end_matches('/');
    let path = template.trim_end_matches('/');
    match (prefix.is_empty(), path.is_empty()) {
        (true, true) => "/".to_string(),
        (false, true) => prefix.to_string(),
        _ => format!("{prefix}{path}"),
    }
}

fn variables_blanked(route: &str) -> String {
    route
        .split('/')
        .map(|s| if s.starts_with('{') { "{}" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

fn rule(method: &str, route: &str) -> Option<HttpRule> {
    let mut rule = HttpRule::default();
    let slot = match method {
        "get" => &mut rule.get,
        "put" => &mut rule.put,
        "post" => &mut rule.post,
        "delete" => &mut rule.delete,
        "patch" => &mut rule.patch,
        _ => return None,
    };
    *slot = Some(route.to_string());
    Some(rule)
}

/// `group-operation-id`, or `group-get-pets-pet-id` without one; `-2`, `-3`... on a clash.
fn unique_name(taken: &mut HashSet<String>, group: &str, operation: &Operation) -> String {
    let stem = match &operation.operation_id {
        Some(id) => slug(id),
        None => slug(&format!("{} {}", operation.method, operation.path)),
    };
    let base = format!("{group}-{stem}");
    let mut name = base.clone();
    let mut n = 2;
    while !taken.insert(name.clone()) {
        name = format!("{base}-{n}");
        n += 1;
    }
    name
}

/// Lowercase letters and digits, runs of anything else one `-`; camelCase split (`listPets` →
/// `list-pets`).
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    let mut previous_lower = false;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && previous_lower {
                out.push('-');
            }
            previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            out.push(c.to_ascii_lowercase());
        } else {
            if !out.ends_with('-') && !out.is_empty() {
                out.push('-');
            }
            previous_lower = false;
        }
    }
    out.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openapi_import::document::parse;

    fn planned(text: &str, prefix: &str) -> (Vec<Planned>, Vec<Skipped>) {
        let document = parse(text).unwrap();
        plan(
            &document,
            &Options {
                backend: "pets",
                prefix,
                group: "petstore",
                policies: &[],
            },
        )
    }

    #[test]
    fn routes_names_and_upstream_paths_follow_the_document() {
        let text = r#"{"openapi": "3.0.0", "servers": [{"url": "http://pets.example/v2"}], "paths": {
            "/pets": {"get": {"operationId": "listPets"}, "post": {"operationId": "createPets"}},
            "/pets/{pet-id}": {"get": {}, "head": {}},
            "/files/{name}.json": {"get": {"operationId": "file"}}}}"#;
        let (apis, skipped) = planned(text, "/petstore/");
        let seen: Vec<_> = apis
            .iter()
            .map(|p| {
                let path = p.api.upstream.as_ref().unwrap().path.clone();
                (
                    p.api.name.as_str(),
                    p.method.as_str(),
                    p.route.as_str(),
                    path,
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                (
                    "petstore-list-pets",
                    "GET",
                    "/petstore/pets",
                    Some("/v2/pets".to_string())
                ),
                (
                    "petstore-create-pets",
                    "POST",
                    "/petstore/pets",
                    Some("/v2/pets".to_string())
                ),
                (
                    "petstore-get-pets-pet-id",
                    "GET",
                    "/petstore/pets/{pet_id}",
                    Some("/v2/pets/{pet_id}".to_string())
                ),
            ]
        );
        let reasons: Vec<_> = skipped
            .iter()
            .map(|s| (s.method.as_str(), s.reason.as_str()))
            .collect();
        assert_eq!(reasons.len(), 2, "{skipped:?}");
        assert!(
            reasons
                .iter()
                .any(|(m, r)| *m == "HEAD" && r.contains("HEAD")),
            "{skipped:?}"
        );
        assert!(
            reasons.iter().any(|(_, r)| r.contains("whole segment")),
            "{skipped:?}"
        );
        assert_eq!(apis[0].api.group.as_deref(), Some("petstore"));
        assert!(
            apis[0]
                .api
                .docs
                .as_ref()
                .unwrap()
                .openapi_operation
                .is_some()
        );
    }

    #[test]
    fn the_root_and_a_trailing_slash_make_routes_without_an_empty_segment() {
        let text = r#"{"openapi": "3.0.0", "paths": {"/": {"get": {"operationId": "root"}},
            "/pets/": {"get": {"operationId": "pets"}}}}"#;
        let (apis, _) = planned(text, "/gh");
        let routes: Vec<_> = apis
            .iter()
            .map(|p| {
                (
                    p.route.as_str(),
                    p.api.upstream.as_ref().unwrap().path.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            routes,
            vec![("/gh", Some("/")), ("/gh/pets", Some("/pets/"))]
        );
        let (apis, _) = planned(text, "");
        assert_eq!(apis[0].route, "/");
        assert_eq!(apis[0].api.upstream.as_ref().unwrap().path, None);
    }

    #[test]
    fn the_path_as_sent_needs_no_rewrite() {
        let (apis, _) = planned(
            r#"{"swagger": "2.0", "paths": {"/a/{id}": {"get": {}}}}"#,
            "",
        );
        assert_eq!(apis[0].api.upstream.as_ref().unwrap().path, None);
    }

    #[test]
    fn one_route_twice_and_one_name_twice_are_kept_apart() {
        let text = r#"{"openapi": "3.1.0", "paths": {
            "/u/{id}": {"get": {"operationId": "same"}},
            "/u/{name}": {"get": {"operationId": "other"}},
            "/v": {"get": {"operationId": "same"}}}}"#;
        let (apis, skipped) = planned(text, "");
        let names: Vec<_> = apis.iter().map(|p| p.api.name.as_str()).collect();
        assert_eq!(names, vec!["petstore-same", "petstore-same-2"]);
        assert!(skipped[0].reason.contains("GET /u/{id}"), "{skipped:?}");
    }

    #[test]
    fn slugs_split_words() {
        assert_eq!(slug("listPets"), "list-pets");
        assert_eq!(slug("repos/get-content"), "repos-get-content");
        assert_eq!(slug("GET /pets/{id}"), "get-pets-id");
        assert_eq!(slug("HTTPServer2"), "httpserver2");
    }
}
