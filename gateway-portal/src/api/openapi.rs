//! GET /api/openapi.json: an OpenAPI 3.1 description of this admin API, written out by hand (the
//! definition bodies themselves are `api_model` types, described loosely as objects).

use axum::Json;
use serde_json::{Map, Value, json};

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    })
}

fn json_body(schema: Value) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": schema}}})
}

fn ok(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

fn r(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// One operation: summary, tag, optional body, success status and schema; common errors are added.
fn op(
    tag: &str,
    id: &str,
    summary: &str,
    body: Option<Value>,
    status: &str,
    success: Value,
) -> Value {
    let mut responses = Map::new();
    responses.insert(status.into(), success);
    responses.insert("400".into(), error_response("Malformed or invalid request"));
    responses.insert("401".into(), error_response("Not logged in"));
    responses.insert("403".into(), error_response("Wrong CSRF token or role"));
    let mut operation = json!({
        "tags": [tag],
        "operationId": id,
        "summary": summary,
        "responses": responses,
    });
    if let Some(body) = body {
        operation["requestBody"] = body;
    }
    operation
}

fn with(mut operation: Value, extra: &[(&str, &str)]) -> Value {
    for (status, description) in extra {
        operation["responses"][*status] = error_response(description);
    }
    operation
}

fn with_params(mut operation: Value, params: Value) -> Value {
    operation["parameters"] = params;
    operation
}

fn page_params() -> Value {
    json!([
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}}
    ])
}

fn if_match() -> Value {
    json!({"name": "If-Match", "in": "header", "required": true, "schema": {"type": "string"},
           "description": "The ETag of the version being replaced"})
}

fn path_param(name: &str, kind: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "schema": {"type": kind}})
}

fn paged(item: Value) -> Value {
    json!({"type": "object", "required": ["items", "total"],
           "properties": {"items": {"type": "array", "items": item}, "total": {"type": "integer"}}})
}

pub fn build() -> Value {
    let object = json!({"type": "object"});
    let name = |kind: &str| json!([path_param("name", kind)]);
    let crud = |tag: &str, what: &str, schema: &str, versioned_delete: bool| {
        let item = r(schema);
        let collection = json!({
            "get": with_params(op(tag, &format!("list_{tag}"), &format!("List {what}s"), None, "200", ok("A page", paged(item.clone()))), page_params()),
            "post": with(op(tag, &format!("create_{what}"), &format!("Create a {what}"), Some(json_body(object.clone())), "201", ok("Created", item.clone())), &[("409", "Name or route already taken")]),
        });
        let mut delete_params = name("string");
        if versioned_delete && let Some(list) = delete_params.as_array_mut() {
            list.push(if_match());
        }
        let mut put_params = name("string");
        if let Some(list) = put_params.as_array_mut() {
            list.push(if_match());
        }
        let single = json!({
            "get": with_params(with(op(tag, &format!("get_{what}"), &format!("Get a {what}"), None, "200", ok("Found", item.clone())), &[("404", "No such item")]), name("string")),
            "put": with_params(with(op(tag, &format!("update_{what}"), &format!("Replace a {what}"), Some(json_body(object.clone())), "200", ok("Updated", item.clone())), &[("404", "No such item"), ("409", "Stale If-Match or duplicate"), ("428", "If-Match missing")]), put_params),
            "delete": with_params(with(op(tag, &format!("delete_{what}"), &format!("Delete a {what}"), None, "204", json!({"description": "Deleted"})), &[("404", "No such item"), ("409", "Stale If-Match or still in use"), ("428", "If-Match missing")]), delete_params),
        });
        (collection, single)
    };
    let (backends, backend) = crud("backends", "backend", "Definition", true);
    let (apis, api) = crud("apis", "api", "Definition", true);
    let mut schema_single = json!({
        "get": with_params(with(op("schemas", "get_schema", "A schema's services and methods with their http rules", None, "200", ok("Found", r("Schema"))), &[("404", "No such schema")]), name("string")),
        "put": with_params(with(op("schemas", "update_schema", "Save a new version (a new source, or {} to pull again); refused while it breaks a bound API unless ?allow_breaking=true", Some(json_body(r("NewSchema"))), "200", ok("Saved: its changes and the APIs it breaks", object.clone())), &[("404", "No such schema"), ("409", "Breaks a bound API, or stale If-Match")]), name("string")),
        "delete": with_params(with(op("schemas", "delete_schema", "Delete a schema", None, "204", json!({"description": "Deleted"})), &[("404", "No such schema"), ("409", "Used by an API")]), name("string")),
    });
    if let Some(list) = schema_single["delete"]["parameters"].as_array_mut() {
        list.push(json!({"name": "If-Match", "in": "header", "required": false, "schema": {"type": "string"}}));
    }
    let text_yaml = json!({"description": "The standalone YAML document", "content": {"application/yaml": {"schema": {"type": "string"}}}});
    let id = json!([path_param("id", "integer")]);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Gateway portal admin API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Definitions (backends, schemas, APIs), revisions, export/import, users and audit. Log in with POST /api/session; send the `portal_session` cookie, and on writes the `X-CSRF-Token` header."
        },
        "servers": [{"url": "/"}],
        "security": [{"session": []}],
        "paths": {
            "/api/session": {
                "post": {
                    "tags": ["session"], "operationId": "login", "summary": "Log in", "security": [],
                    "requestBody": json_body(r("Login")),
                    "responses": {"200": ok("Logged in; sets the portal_session cookie", r("Session")), "400": error_response("Malformed request"), "401": error_response("Unknown user or wrong password"), "429": error_response("Locked out after failed attempts from this address (Retry-After)"), "503": error_response("Too many logins at once (Retry-After)")}
                },
                "get": op("session", "current_session", "Who is logged in", None, "200", ok("The session", r("Session"))),
                "delete": op("session", "logout", "Log out", None, "204", json!({"description": "Logged out"})),
            },
            "/api/users": {
                "get": op("users", "list_users", "List admin users (admin only)", None, "200", ok("Users", paged(object.clone()))),
                "post": with(op("users", "create_user", "Create an admin user (admin only)", Some(json_body(r("NewUser"))), "201", ok("Created", object.clone())), &[("409", "Username taken")]),
            },
            "/api/backends": backends,
            "/api/backends/{name}": backend,
            "/api/schemas": {
                "get": with_params(op("schemas", "list_schemas", "List schemas", None, "200", ok("A page", paged(object.clone()))), page_params()),
                "post": with(op("schemas", "create_schema", "Upload .proto sources, a descriptor set, or pull by reflection", Some(json_body(r("NewSchema"))), "201", ok("Created", r("Schema"))), &[("409", "Name taken"), ("502", "Reflection pull failed")]),
            },
            "/api/schemas/{name}": schema_single,
            "/api/schemas/{name}/preview": {
                "post": with_params(with(op("schemas", "preview_schema_update", "What a new version changes and which APIs it breaks; saves nothing", Some(json_body(r("NewSchema"))), "200", ok("The changes and the broken APIs", object.clone())), &[("404", "No such schema")]), name("string")),
            },
            "/api/imports/dubbo-definition": {
                "post": op("imports", "read_dubbo_definition", "Dubbo's service definition (metadata centre JSON) → method parameter types and dubbo.classes; saves nothing", Some(json_body(object.clone())), "200", ok("Methods and classes", object.clone())),
            },
            "/api/apis": apis,
            "/api/apis/generate": {
                "post": with(op("apis", "generate_api", "Create an API covering a service's annotated methods", Some(json_body(r("Generate"))), "201", ok("Created", r("Definition"))), &[("409", "Duplicate route or name")]),
            },
            "/api/apis/{name}": api,
            "/api/apis/{name}/published": {
                "put": with_params(with(op("apis", "set_published", "Include in or leave out of the next revision", Some(json_body(json!({"type": "object", "required": ["published"], "properties": {"published": {"type": "boolean"}}}))), "200", ok("Updated", r("Definition"))), &[("404", "No such API")]), name("string")),
            },
            "/api/revisions": {
                "get": with_params(op("revisions", "list_revisions", "Published revisions, newest first", None, "200", ok("A page", paged(r("Revision")))), page_params()),
                "post": op("revisions", "publish", "Build and publish the current definitions", Some(json!({"required": false, "content": {"application/json": {"schema": {"type": "object", "properties": {"comment": {"type": "string"}}}}}})), "201", ok("Published", json!({"type": "object", "properties": {"id": {"type": "integer"}}}))),
            },
            "/api/revisions/{id}": {
                "get": with_params(with(op("revisions", "get_revision", "A revision with its configuration", None, "200", ok("Found", r("Revision"))), &[("404", "No such revision")]), id.clone()),
            },
            "/api/revisions/{id}/restore": {
                "post": with_params(with(op("revisions", "restore_revision", "Publish an older revision's configuration as a new revision", None, "201", ok("Published", object.clone())), &[("404", "No such revision")]), id),
            },
            "/api/export": {
                "get": op("transfer", "export", "All definitions as the standalone YAML document", None, "200", text_yaml),
            },
            "/api/import": {
                "post": op("transfer", "import", "Replace all definitions with a YAML document", Some(json!({"required": true, "content": {"application/yaml": {"schema": {"type": "string"}}}})), "200", ok("Imported", object.clone())),
            },
            "/api/session/password": {
                "put": with(op("session", "change_password", "Change one's own password (other sessions end)", Some(json_body(json!({"type": "object", "required": ["current", "new"], "properties": {"current": {"type": "string"}, "new": {"type": "string", "minLength": 12}}}))), "204", json!({"description": "Changed"})), &[("429", "Too many attempts")]),
            },
            "/api/users/{name}": {
                "put": with_params(with(op("users", "update_user", "Change a user's role, disable it, or reset its password (admin only)", Some(json_body(json!({"type": "object", "properties": {"role": {"enum": ["admin", "publisher", "viewer"]}, "disabled": {"type": "boolean"}, "password": {"type": "string", "minLength": 12}}}))), "200", ok("Updated", object.clone())), &[("404", "No such user"), ("409", "The last active admin")]), name("string")),
            },
            "/api/apps": {
                "get": op("apps", "list_apps", "Apps (consumers) with their grants and credentials (never a secret)", None, "200", ok("Apps", paged(r("App")))),
                "post": with(op("apps", "create_app", "Create an app; publishes the consumers at once", Some(json_body(r("NewApp"))), "201", ok("Created", r("App"))), &[("409", "Name or app key taken")]),
            },
            "/api/apps/{name}": {
                "get": with_params(with(op("apps", "get_app", "One app", None, "200", ok("Found", r("App"))), &[("404", "No such app")]), name("string")),
                "put": with_params(with(op("apps", "update_app", "Change an app's key, description, enabled flag or grants", Some(json_body(r("NewApp"))), "200", ok("Updated", r("App"))), &[("404", "No such app"), ("409", "Stale If-Match"), ("428", "If-Match missing")]), json!([path_param("name", "string"), if_match()])),
                "delete": with_params(with(op("apps", "delete_app", "Delete an app and its credentials", None, "204", json!({"description": "Deleted"})), &[("404", "No such app"), ("409", "Stale If-Match"), ("428", "If-Match missing")]), json!([path_param("name", "string"), if_match()])),
            },
            "/api/apps/{name}/credentials": {
                "post": with_params(with(op("apps", "issue_credential", "Issue a credential; an API key or shared secret is in the answer, this once", Some(json_body(r("NewCredential"))), "201", ok("Issued", json!({"type": "object", "properties": {"credential": {"type": "object"}, "secret": {"type": ["string", "null"]}}}))), &[("404", "No such app"), ("409", "Two shared secrets already, or a key registered twice"), ("503", "No GATEWAY_SECRET_KEY to seal a shared secret")]), name("string")),
            },
            "/api/apps/{name}/credentials/{credential}": {
                "delete": with_params(with(op("apps", "revoke_credential", "Revoke a credential; applies at once", None, "204", json!({"description": "Revoked"})), &[("404", "No such live credential")]), json!([path_param("name", "string"), path_param("credential", "string")])),
            },
            "/api/settings": {
                "get": op("settings", "get_settings", "Policies for every API, and trusted proxies", None, "200", ok("Settings", r("Settings"))),
                "put": with_params(with(op("settings", "update_settings", "Replace the settings (applies with the next publish)", Some(json_body(r("Settings"))), "200", ok("Updated", r("Settings"))), &[("409", "Stale If-Match"), ("428", "If-Match missing")]), json!([if_match()])),
            },
            "/api/audit": {
                "get": with_params(op("audit", "audit_log", "Who changed what, newest first", None, "200", ok("A page", paged(object.clone()))), page_params()),
            },
        },
        "components": {
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "portal_session"}},
            "schemas": {
                "Error": {
                    "type": "object", "required": ["code", "message", "request_id"],
                    "properties": {
                        "code": {"type": "string"}, "message": {"type": "string"}, "request_id": {"type": "string"},
                        "details": {"type": "array", "items": {"type": "object", "required": ["field", "problem"], "properties": {"field": {"type": "string"}, "problem": {"type": "string"}}}}
                    }
                },
                "Login": {"type": "object", "required": ["username", "password"], "properties": {"username": {"type": "string"}, "password": {"type": "string"}}},
                "Session": {"type": "object", "properties": {"username": {"type": "string"}, "role": {"enum": ["admin", "publisher", "viewer"]}, "csrf_token": {"type": "string"}}},
                "NewUser": {"type": "object", "required": ["username", "password", "role"], "properties": {"username": {"type": "string"}, "password": {"type": "string", "minLength": 12}, "role": {"enum": ["admin", "publisher", "viewer"]}}},
                "Definition": {"type": "object", "description": "An api_model Backend or Api, plus read-only `version` (and for APIs `published`, `routes`).", "properties": {"name": {"type": "string"}, "version": {"type": "integer"}}},
                "NewSchema": {
                    "type": "object", "required": ["name"],
                    "properties": {
                        "name": {"type": "string"},
                        "proto": {"type": "object", "properties": {"files": {"type": "object", "additionalProperties": {"type": "string"}}, "compile": {"type": "array", "items": {"type": "string"}}}},
                        "descriptor_set_base64": {"type": "string"},
                        "reflection": {"type": "object", "properties": {"backend": {"type": "string"}, "services": {"type": "array", "items": {"type": "string"}}}}
                    }
                },
                "Schema": {"type": "object", "properties": {"name": {"type": "string"}, "kind": {"type": "string"}, "version": {"type": "integer"}, "services": {"type": "array", "items": {"type": "object"}}}},
                "Generate": {"type": "object", "required": ["backend", "schema", "service"], "properties": {"backend": {"type": "string"}, "schema": {"type": "string"}, "service": {"type": "string"}, "auto_route": {"type": "boolean"}, "name": {"type": "string"}}},
                "App": {"type": "object", "properties": {"name": {"type": "string"}, "app_key": {"type": "string"}, "description": {"type": "string"}, "enabled": {"type": "boolean"}, "version": {"type": "integer"}, "grants": {"type": "array", "items": {"type": "string"}}, "credentials": {"type": "array", "items": {"type": "object"}}}},
                "NewApp": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}, "app_key": {"type": "string"}, "description": {"type": "string"}, "enabled": {"type": "boolean"}, "grants": {"type": "array", "items": {"type": "string"}}}},
                "NewCredential": {"type": "object", "required": ["kind"], "properties": {"kind": {"enum": ["api_key", "hmac", "ed25519", "certificate"]}, "label": {"type": "string"}, "expires_at": {"type": "string", "format": "date-time"}, "public_key": {"type": "string"}, "certificate_pem": {"type": "string"}}},
                "Settings": {"type": "object", "properties": {"policies": {"type": "array", "items": {"type": "object"}}, "trusted_proxies": {"type": "array", "items": {"type": "string"}}}},
                "Revision": {"type": "object", "properties": {"id": {"type": "integer"}, "created_at": {"type": "string"}, "created_by": {"type": "string"}, "comment": {"type": "string"}, "restored_from": {"type": ["integer", "null"]}, "config": {"type": "object"}}}
            }
        }
    })
}

pub async fn document() -> Json<Value> {
    Json(build())
}
