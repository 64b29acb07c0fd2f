//! OpenAPI import: real documents (the Petstore family from `@readme/oas-examples`, GitHub's REST
//! description from `@octokit/openapi`, both installed from npm into tests/peers/openapi by
//! scripts/test.sh) become one relay API per operation; a preview saves nothing; a re-import says
//! what changed; what cannot become an API is named.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::harness::{Client, Portal, count};

fn corpus(path: &str) -> String {
    let root = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/peers/openapi/node_modules/"
    );
    std::fs::read_to_string(format!("{root}{path}")).unwrap_or_else(|err| {
        panic!("{path}: {err} (scripts/test.sh installs the corpus with npm)")
    })
}

async fn http_backend(admin: &Client) {
    let reply = admin
        .post(
            "/api/backends",
            json!({"name": "pets", "protocol": "http", "endpoints": ["http://127.0.0.1:9"]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
}

/// A portal with the HTTP backend `pets`, and a client logged in as admin.
async fn with_http_backend() -> (Portal, Client) {
    let portal = Portal::start().await;
    let admin = portal.admin().await;
    http_backend(&admin).await;
    (portal, admin)
}

/// The same, with the 3.0 Petstore imported into group `pets`: the document and the import's answer.
async fn imported_petstore() -> (Portal, Client, String, crate::harness::Reply) {
    let (portal, admin) = with_http_backend().await;
    let original = corpus("@readme/oas-examples/3.0/json/petstore.json");
    let saved = admin
        .post(
            "/api/imports/openapi",
            request(&original, json!({"group": "pets"})),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    (portal, admin, original, saved)
}

fn request(document: &str, extra: Value) -> Value {
    let mut body = json!({"backend": "pets", "document": document, "prefix": "/petstore"});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    body
}

fn changes(reply: &Value) -> Vec<(String, String)> {
    reply["apis"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_string(),
                a["change"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_petstore_imports_as_one_relay_api_per_operation_in_every_dialect() {
    let (portal, admin) = with_http_backend().await;
    for (dialect, file, group) in [
        (
            "Swagger 2.0",
            "@readme/oas-examples/2.0/json/petstore.json",
            "p2",
        ),
        (
            "OpenAPI 3.0",
            "@readme/oas-examples/3.0/json/petstore.json",
            "p30",
        ),
        (
            "OpenAPI 3.1",
            "@readme/oas-examples/3.1/json/petstore.json",
            "p31",
        ),
        (
            "Swagger 2.0",
            "@readme/oas-examples/2.0/yaml/petstore-expanded.yaml",
            "px",
        ),
    ] {
        let body = request(
            &corpus(file),
            json!({"group": group, "prefix": format!("/{group}")}),
        );
        let stored = count(&portal.db.pool, "apis").await;
        let preview = admin
            .post("/api/imports/openapi/preview", body.clone())
            .await;
        assert_eq!(preview.status, StatusCode::OK, "{file}: {}", preview.text);
        assert!(
            preview.body["dialect"]
                .as_str()
                .unwrap()
                .starts_with(dialect),
            "{}",
            preview.text
        );
        let planned = preview.body["apis"].as_array().unwrap().len();
        assert!(planned >= 4, "{file}: {}", preview.text);
        assert!(
            changes(&preview.body).iter().all(|(_, c)| c == "new"),
            "{}",
            preview.text
        );
        assert_eq!(
            count(&portal.db.pool, "apis").await,
            stored,
            "a preview saves nothing"
        );

        let saved = admin.post("/api/imports/openapi", body).await;
        assert_eq!(saved.status, StatusCode::OK, "{file}: {}", saved.text);
        assert_eq!(saved.body["saved"], true);
    }

    // The 3.0 Petstore's `GET /pet/{petId}`: routed under the prefix, relayed to the document's
    // server path, the operation kept as its docs.
    let api = admin.get("/api/apis/p30-get-pet-by-id").await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.text);
    assert_eq!(api.body["http"]["get"], "/p30/pet/{petId}");
    assert_eq!(api.body["upstream"]["path"], "/v2/pet/{petId}");
    assert_eq!(api.body["group"], "p30");
    assert_eq!(
        api.body["docs"]["openapi_operation"]["operationId"],
        "getPetById"
    );
    assert_eq!(api.body["published"], true);
}

#[tokio::test]
async fn a_reimport_says_what_changed_and_what_went_missing() {
    let (_portal, admin, original, saved) = imported_petstore().await;
    let total = saved.body["apis"].as_array().unwrap().len();

    // The same document again: nothing to do.
    let again = admin
        .post(
            "/api/imports/openapi/preview",
            request(&original, json!({"group": "pets"})),
        )
        .await;
    assert!(
        changes(&again.body).iter().all(|(_, c)| c == "unchanged"),
        "{}",
        again.text
    );

    // The next version of the document: one operation's summary edited, one operation gone, and a
    // rate limit for every API.
    let mut edited: Value = serde_json::from_str(&original).unwrap();
    edited["paths"]["/pet/{petId}"]["get"]["summary"] = json!("Find a pet by its id");
    edited["paths"]["/store/inventory"]
        .as_object_mut()
        .unwrap()
        .remove("get");
    let limit = json!([{"kind": "rate_limit", "limits": [{"limit": 100, "every": "1m", "per": ["consumer"]}]}]);
    let body = request(
        &edited.to_string(),
        json!({"group": "pets", "policies": limit}),
    );
    let preview = admin
        .post("/api/imports/openapi/preview", body.clone())
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text);
    assert_eq!(preview.body["missing"], json!(["pets-get-inventory"]));
    let by_id = preview.body["apis"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "pets-get-pet-by-id")
        .unwrap()
        .clone();
    assert_eq!(by_id["change"], "changed");
    assert_eq!(by_id["detail"]["parts"], json!(["docs", "policies"]));
    assert_eq!(preview.body["apis"].as_array().unwrap().len(), total - 1);

    let saved = admin
        .post("/api/imports/openapi", {
            let mut b = body;
            b["remove_missing"] = json!(true);
            b
        })
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    assert_eq!(
        admin.get("/api/apis/pets-get-inventory").await.status,
        StatusCode::NOT_FOUND
    );
    let api = admin.get("/api/apis/pets-get-pet-by-id").await;
    assert_eq!(api.body["policies"][0]["kind"], "rate_limit");
    assert_eq!(api.body["version"], 2);
}

#[tokio::test]
async fn githubs_description_parses_whole_and_every_operation_is_accounted_for() {
    let (_portal, admin) = with_http_backend().await;
    let document = corpus("@octokit/openapi/generated/api.github.com.json");
    let operations = {
        let parsed: Value = serde_json::from_str(&document).unwrap();
        parsed["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|item| {
                item.as_object()
                    .unwrap()
                    .keys()
                    .filter(|k| {
                        [
                            "get", "put", "post", "delete", "patch", "head", "options", "trace",
                        ]
                        .contains(&k.as_str())
                    })
                    .count()
            })
            .sum::<usize>()
    };
    assert!(operations > 1000, "{operations}");
    let preview = admin
        .post(
            "/api/imports/openapi/preview",
            request(&document, json!({"group": "github", "prefix": "/gh"})),
        )
        .await;
    assert_eq!(
        preview.status,
        StatusCode::OK,
        "{}",
        &preview.text[..preview.text.len().min(2000)]
    );
    let apis = preview.body["apis"].as_array().unwrap();
    let skipped = preview.body["skipped"].as_array().unwrap();
    assert_eq!(apis.len() + skipped.len(), operations);
    let invalid: Vec<_> = apis.iter().filter(|a| a["change"] == "invalid").collect();
    assert!(invalid.is_empty(), "{invalid:?}");
    assert!(
        apis.len() > 1000,
        "{} planned, {} left out: {skipped:?}",
        apis.len(),
        skipped.len()
    );
    for skip in skipped {
        assert!(!skip["reason"].as_str().unwrap().is_empty());
    }
}

#[tokio::test]
async fn what_cannot_be_imported_is_refused_with_the_reason() {
    let (_portal, admin) = with_http_backend().await;
    let reply = admin
        .post(
            "/api/backends",
            json!({"name": "grpc", "protocol": "grpc", "endpoints": ["127.0.0.1:9"]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let petstore = corpus("@readme/oas-examples/3.0/json/petstore.json");
    for (body, status, said) in [
        (
            request("not: [an, openapi", json!({})),
            StatusCode::BAD_REQUEST,
            "not an OpenAPI document",
        ),
        (
            request("{\"openapi\": \"2.5\"}", json!({})),
            StatusCode::BAD_REQUEST,
            "not supported",
        ),
        (
            json!({"backend": "nope", "document": petstore}),
            StatusCode::NOT_FOUND,
            "nope",
        ),
        (
            json!({"backend": "grpc", "document": petstore}),
            StatusCode::BAD_REQUEST,
            "not an HTTP backend",
        ),
        (
            request(&petstore, json!({"prefix": "petstore"})),
            StatusCode::BAD_REQUEST,
            "start with",
        ),
        (
            json!({"backend": "pets"}),
            StatusCode::BAD_REQUEST,
            "document",
        ),
    ] {
        let reply = admin.post("/api/imports/openapi/preview", body).await;
        assert_eq!(reply.status, status, "{}", reply.text);
        assert!(
            reply.body["message"].as_str().unwrap().contains(said),
            "{}",
            reply.text
        );
    }

    // A route another API already holds makes that one API invalid, not the import.
    let reply = admin
        .post(
            "/api/apis",
            json!({"name": "mine", "backend": "pets", "http": {"get": "/petstore/pet/{petId}"}, "upstream": {}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let saved = admin
        .post(
            "/api/imports/openapi",
            request(&petstore, json!({"group": "pets"})),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    let invalid: Vec<_> = saved.body["apis"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["change"] == "invalid")
        .collect();
    assert_eq!(invalid.len(), 1, "{}", saved.text);
    assert!(
        invalid[0]["detail"].as_str().unwrap().contains("`mine`"),
        "{}",
        saved.text
    );
    assert_eq!(
        admin.get("/api/apis/pets-get-pet-by-id").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        admin.get("/api/apis/pets-add-pet").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_renamed_operation_takes_over_its_route_when_the_old_api_goes() {
    let (_portal, admin, original, _) = imported_petstore().await;
    let mut renamed: Value = serde_json::from_str(&original).unwrap();
    renamed["paths"]["/pet/{petId}"]["get"]["operationId"] = json!("findPet");
    let find = |reply: &Value| {
        reply["apis"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == "pets-find-pet")
            .cloned()
            .unwrap()
    };

    // Kept, the old API still holds the route: the new one cannot have it.
    let keep = request(&renamed.to_string(), json!({"group": "pets"}));
    let preview = admin.post("/api/imports/openapi/preview", keep).await;
    assert_eq!(find(&preview.body)["change"], "invalid", "{}", preview.text);
    assert_eq!(preview.body["missing"], json!(["pets-get-pet-by-id"]));

    // Removed, its route passes to the new one in the same transaction.
    let replace = request(
        &renamed.to_string(),
        json!({"group": "pets", "remove_missing": true}),
    );
    let preview = admin
        .post("/api/imports/openapi/preview", replace.clone())
        .await;
    assert_eq!(find(&preview.body)["change"], "new", "{}", preview.text);
    let saved = admin.post("/api/imports/openapi", replace).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    assert_eq!(
        admin.get("/api/apis/pets-get-pet-by-id").await.status,
        StatusCode::NOT_FOUND
    );
    let api = admin.get("/api/apis/pets-find-pet").await;
    assert_eq!(
        api.body["routes"][0]["path"], "/petstore/pet/{petId}",
        "{}",
        api.text
    );
}
