//! Reading a Java interface description (Dubbo's service definition) into an API's parameter types and
//! `dubbo.classes`.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::harness::Portal;

/// UserService as Dubbo 2.7's metadata report publishes it (properties as `{"type": …}`, `enum`).
fn dubbo27() -> Value {
    json!({
        "canonicalName": "org.apache.dubbo.demo.UserService",
        "codeSource": "file:/app/demo-api.jar",
        "methods": [
            {"name": "getUser", "parameterTypes": ["long"], "returnType": "org.apache.dubbo.demo.User"},
            {"name": "createUser", "parameterTypes": ["org.apache.dubbo.demo.User"], "returnType": "org.apache.dubbo.demo.User"}
        ],
        "types": [
            {"type": "long", "typeBuilderName": "org.apache.dubbo.metadata.definition.builder.DefaultTypeBuilder"},
            {"type": "java.lang.String"},
            {"type": "org.apache.dubbo.demo.User", "properties": {
                "id": {"type": "long"}, "createdAt": {"type": "java.util.Date"},
                "balance": {"type": "java.math.BigDecimal"},
                "tags": {"type": "java.util.List<java.lang.String>"},
                "address": {"type": "org.apache.dubbo.demo.Address"},
                "role": {"type": "org.apache.dubbo.demo.Role"}
            }},
            {"type": "org.apache.dubbo.demo.Address", "properties": {"city": {"type": "java.lang.String"}}},
            {"type": "org.apache.dubbo.demo.Role", "enum": ["ADMIN", "MEMBER"]},
            {"type": "java.util.List<java.lang.String>", "items": ["java.lang.String"]}
        ]
    })
}

#[tokio::test]
async fn a_dubbo_service_definition_becomes_parameters_and_classes_an_api_takes() {
    let portal = Portal::start().await;
    let admin = portal.admin().await;
    let read = admin.post("/api/imports/dubbo-definition", dubbo27()).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    assert_eq!(read.body["interface"], "org.apache.dubbo.demo.UserService");
    assert_eq!(
        read.body["methods"][1],
        json!({"name": "createUser", "params": [{"name": "arg0", "type": "org.apache.dubbo.demo.User"}],
               "returns": "org.apache.dubbo.demo.User"})
    );
    let classes = read.body["classes"].clone();
    assert_eq!(
        classes,
        json!({
            "org.apache.dubbo.demo.Address": {"fields": {"city": "java.lang.String"}},
            "org.apache.dubbo.demo.Role": {"enum": ["ADMIN", "MEMBER"]},
            "org.apache.dubbo.demo.User": {"fields": {
                "address": "org.apache.dubbo.demo.Address", "balance": "java.math.BigDecimal",
                "createdAt": "java.util.Date", "id": "long", "role": "org.apache.dubbo.demo.Role",
                "tags": "java.util.List<java.lang.String>"
            }}
        })
    );

    // Dubbo 3's shape (a property is its type's name, constants are `enums`) reads the same.
    let mut dubbo3 = dubbo27();
    dubbo3["types"] = json!([
        {"type": "org.apache.dubbo.demo.Address", "properties": {"city": "java.lang.String"}},
        {"type": "org.apache.dubbo.demo.Role", "enums": ["ADMIN", "MEMBER"]}
    ]);
    let read3 = admin.post("/api/imports/dubbo-definition", dubbo3).await;
    assert_eq!(read3.status, StatusCode::OK, "{}", read3.text);
    assert_eq!(
        read3.body["classes"]["org.apache.dubbo.demo.Address"],
        classes["org.apache.dubbo.demo.Address"]
    );
    assert_eq!(
        read3.body["classes"]["org.apache.dubbo.demo.Role"],
        classes["org.apache.dubbo.demo.Role"]
    );

    // The classes go into an API as they are.
    let backend = json!({"name": "users", "protocol": "dubbo", "endpoints": ["127.0.0.1:9"]});
    assert_eq!(
        admin.post("/api/backends", backend).await.status,
        StatusCode::CREATED
    );
    let api = json!({"name": "create-user", "backend": "users",
        "dubbo": {"interface": "org.apache.dubbo.demo.UserService", "method": "createUser",
                  "params": [{"name": "user", "type": "org.apache.dubbo.demo.User", "from": "body"}],
                  "classes": classes},
        "http": {"post": "/users", "body": "*"}});
    let created = admin.post("/api/apis", api).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);

    // A type the gateway cannot read, and a definition without its interface, are 400s naming why.
    let mut bad = dubbo27();
    bad["types"][2]["properties"]["id"] = json!({"type": "java.util.List<"});
    let refused = admin.post("/api/imports/dubbo-definition", bad).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(refused.text.contains("field `id`"), "{}", refused.text);
    let nameless = admin
        .post("/api/imports/dubbo-definition", json!({"methods": []}))
        .await;
    assert_eq!(nameless.status, StatusCode::BAD_REQUEST);
    assert!(nameless.text.contains("canonicalName"));
}
