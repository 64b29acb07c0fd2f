//! A fresh database per test, the portal's router driven in process, and a cookie-keeping client.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gateway_portal::{AppState, app, db};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sqlx::PgPool;
use tower::ServiceExt;

pub const ADMIN_PASSWORD: &str = "admin-password-1";

fn server_url(database: &str) -> String {
    let base = std::env::var("PORTAL_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    format!("{base}/{database}")
}

/// A database that exists for one test and is dropped with it (also when the test panics).
pub struct TestDb {
    pub name: String,
    pub url: String,
    pub pool: PgPool,
}

impl TestDb {
    pub async fn new() -> TestDb {
        let name = format!("portal_test_{}", uuid::Uuid::new_v4().simple());
        let admin = PgPool::connect(&server_url("postgres"))
            .await
            .expect("Postgres on 127.0.0.1:5432");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
        let url = server_url(&name);
        let pool = db::connect(&url).await.unwrap();
        TestDb { name, url, pool }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let url = server_url("postgres");
        // Drop runs inside the test's runtime; a plain thread with its own runtime does the async work.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                if let Ok(admin) = PgPool::connect(&url).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&admin)
                        .await;
                    admin.close().await;
                }
            });
        })
        .join();
    }
}

/// A migrated portal with user `admin`.
pub struct Portal {
    pub db: TestDb,
    pub app: Router,
}

impl Portal {
    pub async fn start() -> Portal {
        Self::start_with(|_| {}).await
    }

    /// A portal whose state `tune` adjusts (a secret key, a Redis).
    pub async fn start_with(tune: impl FnOnce(&mut AppState)) -> Portal {
        let db = TestDb::new().await;
        db::migrate(&db.pool).await.unwrap();
        db::bootstrap_admin(&db.pool, ADMIN_PASSWORD).await.unwrap();
        let mut state = AppState::new(db.pool.clone());
        tune(&mut state);
        let app = app(state);
        Portal { db, app }
    }

    pub fn client(&self) -> Client {
        Client {
            app: self.app.clone(),
            cookie: None,
            csrf: None,
            from: None,
        }
    }

    /// A client logged in as `admin`.
    pub async fn admin(&self) -> Client {
        let mut client = self.client();
        client.login("admin", ADMIN_PASSWORD).await;
        client
    }

    /// Creates a user with `role` and returns a client logged in as it.
    pub async fn user(&self, name: &str, role: &str) -> Client {
        let admin = self.admin().await;
        let reply = admin
            .post(
                "/api/users",
                json!({"username": name, "password": "password-123", "role": role}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        let mut client = self.client();
        client.login(name, "password-123").await;
        client
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    pub body: Value,
    pub text: String,
}

#[derive(Clone)]
pub struct Client {
    app: Router,
    pub cookie: Option<String>,
    pub csrf: Option<String>,
    /// The peer address requests seem to come from (as `run` attaches it).
    pub from: Option<std::net::SocketAddr>,
}

impl Client {
    pub async fn login(&mut self, username: &str, password: &str) -> Reply {
        let reply = self
            .send(
                "POST",
                "/api/session",
                Some(json!({"username": username, "password": password})),
                &[],
            )
            .await;
        if reply.status == StatusCode::OK {
            let cookie = reply.headers[header::SET_COOKIE]
                .to_str()
                .unwrap()
                .to_string();
            self.cookie = Some(cookie.split(';').next().unwrap().to_string());
            self.csrf = reply.body["csrf_token"].as_str().map(str::to_string);
        }
        reply
    }

    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        body: Body,
        content_type: &str,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        if let Some(csrf) = &self.csrf {
            request = request.header("x-csrf-token", csrf);
        }
        request = request.header(header::CONTENT_TYPE, content_type);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(from) = self.from {
            request = request.extension(axum::extract::ConnectInfo(from));
        }
        let response = self
            .app
            .clone()
            .oneshot(request.body(body).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).to_string();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
        self.raw(method, path, body, "application/json", headers)
            .await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send("GET", path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send("POST", path, Some(body), &[]).await
    }
}

pub fn demo_proto(path: &str) -> String {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../demo/proto/");
    std::fs::read_to_string(format!("{root}{path}")).unwrap()
}

pub const BOOKSTORE: &str = "demo/bookstore/v1/bookstore.proto";
pub const ECHO: &str = "demo/echo/v1/echo.proto";

/// An unreachable gRPC backend: trial builds connect lazily, nothing is called.
pub fn backend(name: &str) -> Value {
    json!({"name": name, "protocol": "grpc", "endpoints": ["127.0.0.1:9"]})
}

/// Backend `demo`, and schema `demo` from the uploaded demo protos.
pub async fn seed(client: &Client) {
    let reply = client.post("/api/backends", backend("demo")).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let reply = client
        .post(
            "/api/schemas",
            json!({"name": "demo", "proto": {
                "files": {BOOKSTORE: demo_proto(BOOKSTORE), ECHO: demo_proto(ECHO)},
                "compile": [BOOKSTORE, ECHO]
            }}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
}

/// Saves API `name`: the demo schema's Echo at `POST /v1/<name>` (after [`seed`]).
pub async fn echo_api(client: &Client, name: &str) {
    let reply = client
        .post(
            "/api/apis",
            json!({"name": name, "backend": "demo", "schema": "demo",
                   "grpc": {"service": "demo.echo.v1.Echo", "method": "Echo"},
                   "http": {"post": format!("/v1/{name}"), "body": "*"}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
}

pub async fn count(pool: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(pool)
        .await
        .unwrap()
}
