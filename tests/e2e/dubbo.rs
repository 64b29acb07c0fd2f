//! Dubbo end to end: the same UserService contract served by three independent Dubbo2 providers (a Java
//! provider on Caucho hessian, sofa-rpc-node, dubbo.ts), called through the gateway with typed, named
//! arguments; generic invocation against the Java provider; discovery through a real ZooKeeper; Triple
//! through the gRPC path; a provider killed under load and brought back.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{Gateway, Peer, expect_error, repo_root};

const SERVICE: &str = "org.apache.dubbo.demo.UserService";

async fn java_provider() -> Peer {
    Peer::start("bash", &["tests/peers/dubbo/java/run.sh"]).await
}

async fn sofa_provider() -> Peer {
    Peer::start("node", &["tests/peers/dubbo/sofa_provider.js"]).await
}

async fn dubbots_provider() -> Peer {
    Peer::start("node", &["tests/peers/dubbo/dubbots_provider.js"]).await
}

/// The classes of `UserService` as an API declares them (`dubbo.classes`).
const USER_CLASSES: &str = r#"      classes:
        org.apache.dubbo.demo.User:
          fields: { id: long, name: java.lang.String, age: int, createdAt: java.util.Date,
                    balance: java.math.BigDecimal, tags: "java.util.List<java.lang.String>",
                    attrs: "java.util.Map<java.lang.String, java.lang.String>",
                    address: org.apache.dubbo.demo.Address, role: org.apache.dubbo.demo.Role }
        org.apache.dubbo.demo.Address: { fields: { city: java.lang.String, street: java.lang.String } }
        org.apache.dubbo.demo.Role: { enum: [ADMIN, MEMBER] }
"#;

/// The UserService published as HTTP APIs; `backend` is the YAML of the `users` backend's location.
fn config(backend: &str, generic: bool) -> String {
    let api = |name: &str, method: &str, rule: &str, params: &str, extra: &str| {
        format!(
            r#"
  - name: {name}
    backend: users
    dubbo:
      interface: {SERVICE}
      version: 1.0.0
      method: {method}
      generic: {generic}
      params: [{params}]
      exceptions: {{ java.lang.IllegalArgumentException: 400 }}
    http: {rule}{extra}"#
        )
    };
    let apis = [
        api(
            "get-user",
            "getUser",
            r#"{ get: "/users/{id}" }"#,
            "{ name: id, type: long, from: path.id }",
            "",
        ),
        api(
            "create-user",
            "createUser",
            r#"{ post: "/users", body: "*" }"#,
            "{ name: user, type: org.apache.dubbo.demo.User, from: body, required: true }",
            "",
        ),
        api("ping", "ping", r#"{ get: "/ping" }"#, "", ""),
        api(
            "greet",
            "greet",
            r#"{ get: "/greet/{name}" }"#,
            "{ name: name, type: java.lang.String, from: path.name }",
            "",
        ),
        api(
            "greet-times",
            "greet",
            r#"{ get: "/greet/{name}/times/{times}" }"#,
            "{ name: name, type: java.lang.String, from: path.name }, { name: times, type: int, from: path.times }",
            "",
        ),
        api(
            "whoami",
            "greet",
            r#"{ get: "/whoami" }"#,
            "{ name: name, type: java.lang.String, from: header.x-user, required: true }",
            "",
        ),
        api(
            "sum",
            "sum",
            r#"{ post: "/sum", body: "*" }"#,
            "{ name: values, type: \"java.util.List<java.lang.Long>\", from: body.values }",
            "",
        ),
        api(
            "echo-map",
            "echoMap",
            r#"{ post: "/echo-map", body: "*" }"#,
            "{ name: m, type: java.util.Map, from: body }",
            "",
        ),
        api(
            "echo-bytes",
            "echoBytes",
            r#"{ post: "/echo-bytes", body: "*" }"#,
            "{ name: b, type: \"byte[]\", from: body.data }",
            "",
        ),
        api(
            "echo-decimal",
            "echoDecimal",
            r#"{ post: "/echo-decimal", body: "*" }"#,
            "{ name: d, type: java.math.BigDecimal, from: body.value }",
            "",
        ),
        api(
            "echo-date",
            "echoDate",
            r#"{ get: "/echo-date" }"#,
            "{ name: d, type: java.util.Date, from: query.at }",
            "",
        ),
        api(
            "slow",
            "slow",
            r#"{ get: "/slow/{millis}" }"#,
            "{ name: millis, type: int, from: path.millis }",
            "\n    timeout: 700ms",
        ),
        // The same method with the provider's classes declared: fields go as their Java types.
        api(
            "create-user-typed",
            "createUser",
            r#"{ post: "/typed-users", body: "*" }"#,
            "{ name: user, type: org.apache.dubbo.demo.User, from: body, required: true }",
            "",
        )
        .replace(
            "      exceptions:",
            &format!("{USER_CLASSES}      exceptions:"),
        ),
        api("null-result", "nullResult", r#"{ get: "/null" }"#, "", ""),
        api("missing", "noSuchMethod", r#"{ get: "/missing" }"#, "", ""),
    ];
    format!(
        "backends:\n  - name: users\n    protocol: dubbo\n{backend}\napis:{}\n",
        apis.concat()
    )
}

fn static_backend(provider: &Peer) -> String {
    format!(
        "    endpoints: [\"{}\"]\n    connect_timeout: 500ms",
        provider.addr
    )
}

async fn get(gw: &Gateway, path: &str) -> reqwest::Response {
    gw.client.get(gw.url(path)).send().await.expect("request")
}

async fn post(gw: &Gateway, path: &str, body: Value) -> reqwest::Response {
    gw.client
        .post(gw.url(path))
        .json(&body)
        .send()
        .await
        .expect("request")
}

async fn ok_json(response: reqwest::Response) -> Value {
    let status = response.status();
    let body: Value = response.json().await.expect("JSON body");
    assert_eq!(status, 200, "{body}");
    body
}

/// What every provider must do the same way.
async fn the_contract(gw: &Gateway, provider: &str, generic: bool) {
    let alice = ok_json(get(gw, "/users/1").await).await;
    assert_eq!(alice["name"], "alice", "{provider}: {alice}");
    assert_eq!(alice["id"], 1);
    assert_eq!(
        alice["balance"], "1234.56",
        "{provider}: BigDecimal keeps its digits as a string"
    );
    assert_eq!(alice["createdAt"], "2024-01-02T03:04:05.678Z", "{provider}");
    assert_eq!(alice["role"], "ADMIN", "{provider}: enum by name");
    assert_eq!(
        alice["address"]["city"], "Hangzhou",
        "{provider}: nested POJO"
    );
    assert_eq!(alice["tags"], json!(["admin", "early"]));
    assert!(
        alice.get("class").is_none(),
        "{provider}: no class key unless asked: {alice}"
    );

    // The Node providers hold ids in JavaScript numbers and lose the last digit themselves; the gateway's
    // part, a long past 2^53 rendered as a string, is the same for all.
    let big = ok_json(get(gw, "/users/9007199254740993").await).await;
    assert!(
        big["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("900719925474099")),
        "{provider}: {big}"
    );
    if provider.starts_with("java") {
        assert_eq!(
            big["id"], "9007199254740993",
            "{provider}: every digit of the long survives"
        );
    }

    assert_eq!(
        ok_json(get(gw, "/ping").await).await,
        "pong",
        "{provider}: no-argument method"
    );
    assert_eq!(
        ok_json(get(gw, "/greet/bob").await).await,
        "hello, bob",
        "{provider}"
    );
    assert_eq!(
        ok_json(get(gw, "/greet/bob/times/2").await).await,
        "hello, bob hello, bob",
        "{provider}: overload by types"
    );
    let whoami = gw
        .client
        .get(gw.url("/whoami"))
        .header("x-user", "carol")
        .send()
        .await
        .expect("request");
    assert_eq!(
        ok_json(whoami).await,
        "hello, carol",
        "{provider}: argument from a header"
    );

    // Without the provider's classes the gateway cannot know a POJO field is a BigDecimal: a direct call
    // says so with a typed object; generic invocation lets the provider convert the plain number.
    let balance = if generic {
        json!(10.25)
    } else {
        json!({"class": "java.math.BigDecimal", "value": "10.25"})
    };
    let created = ok_json(post(gw, "/users", json!({"name": "dave", "age": 41, "balance": balance,
        "tags": ["x"], "address": {"class": "org.apache.dubbo.demo.Address", "city": "Paris", "street": "1 Rue"}})).await).await;
    assert_eq!(created["balance"], "10.25", "{provider}: {created}");
    assert_eq!(created["id"], 1000, "{provider}: {created}");
    assert_eq!(created["name"], "dave");
    assert_eq!(created["address"]["city"], "Paris", "{provider}: {created}");

    assert_eq!(
        ok_json(post(gw, "/sum", json!({"values": ["9007199254740993", 7]})).await).await,
        "9007199254741000",
        "{provider}"
    );
    let map = ok_json(post(gw, "/echo-map", json!({"a": 1, "b": "two", "c": [true]})).await).await;
    assert_eq!(map, json!({"a": 1, "b": "two", "c": [true]}), "{provider}");
    assert_eq!(
        ok_json(post(gw, "/echo-bytes", json!({"data": "AAEC/w=="})).await).await,
        "AAEC/w==",
        "{provider}"
    );
    // Sent as text: a client-side JSON library would round the literal before it left.
    let decimal = gw
        .client
        .post(gw.url("/echo-decimal"))
        .header("content-type", "application/json")
        .body(r#"{"value": 12345678901234567890.123456789}"#)
        .send()
        .await
        .expect("request");
    assert_eq!(
        ok_json(decimal).await,
        "12345678901234567890.123456789",
        "{provider}: a JSON number keeps every digit into BigDecimal"
    );
    assert_eq!(
        ok_json(get(gw, "/echo-date?at=2024-05-06T07:08:09.010%2B02:00").await).await,
        "2024-05-06T05:08:09.010Z",
        "{provider}"
    );
    assert_eq!(
        ok_json(get(gw, "/null").await).await,
        Value::Null,
        "{provider}: a null result"
    );

    // With the classes declared, a client sends plain JSON: no `class` keys, dates and decimals as
    // text, integers as strings, and the provider receives the Java types.
    let typed = ok_json(
        post(
            gw,
            "/typed-users",
            json!({"name": "erin", "age": "52", "balance": "0.10",
            "createdAt": "2024-01-02T03:04:05.678Z", "role": "MEMBER", "tags": ["t"],
            "attrs": {"k": "v"}, "address": {"city": "Lyon", "street": "2 Rue"}}),
        )
        .await,
    )
    .await;
    assert_eq!(typed["balance"], "0.10", "{provider}: {typed}");
    assert_eq!(typed["age"], 52, "{provider}: {typed}");
    assert_eq!(typed["createdAt"], "2024-01-02T03:04:05.678Z", "{provider}");
    assert_eq!(typed["role"], "MEMBER", "{provider}: {typed}");
    assert_eq!(typed["address"]["city"], "Lyon", "{provider}: {typed}");
    assert_eq!(typed["attrs"], json!({"k": "v"}), "{provider}: {typed}");
    if provider.starts_with("java") {
        let big = ok_json(post(gw, "/typed-users", json!({"id": "9007199254740993"})).await).await;
        assert_eq!(
            big["id"], "9007199254740993",
            "{provider}: a long field keeps every digit"
        );
    }
    for (body, phrase) in [
        (
            json!({"age": 3_000_000_000u64}),
            "`age`: 3000000000 is out of range for int",
        ),
        (
            json!({"role": "ROOT"}),
            "`ROOT` is not a constant of org.apache.dubbo.demo.Role",
        ),
        (
            json!({"createdAt": "soon"}),
            "`createdAt`: `soon` is not a date",
        ),
        (
            json!({"address": {"town": "x"}}),
            "`town` is not a field of org.apache.dubbo.demo.Address",
        ),
    ] {
        let refused = expect_error(
            post(gw, "/typed-users", body.clone()).await,
            400,
            "invalid_argument",
        )
        .await;
        assert!(
            refused["message"].as_str().unwrap_or("").contains(phrase),
            "{provider}: {body}: {refused}"
        );
    }
}

/// Client mistakes are refused before any call, naming the parameter.
async fn bad_arguments(gw: &Gateway) {
    for (path, phrase) in [
        ("/users/abc", "`id` (long)"),
        ("/users/99999999999999999999", "`id` (long)"),
        ("/greet/x/times/1.5", "`times` (int)"),
    ] {
        let body = expect_error(get(gw, path).await, 400, "invalid_argument").await;
        assert!(
            body["message"].as_str().unwrap_or("").contains(phrase),
            "{path}: {body}"
        );
    }
    let body = expect_error(get(gw, "/whoami").await, 400, "invalid_argument").await;
    assert!(
        body["message"].as_str().unwrap_or("").contains("required"),
        "{body}"
    );
    let body = expect_error(
        post(gw, "/sum", json!({"values": [1, "x"]})).await,
        400,
        "invalid_argument",
    )
    .await;
    assert!(
        body["message"].as_str().unwrap_or("").contains("values"),
        "{body}"
    );
    expect_error(
        get(gw, "/echo-date?at=yesterday").await,
        400,
        "invalid_argument",
    )
    .await;
    expect_error(get(gw, "/ping?extra=1").await, 400, "invalid_argument").await;
}

#[tokio::test]
async fn java_provider_direct_calls() {
    let provider = java_provider().await;
    let gw = Gateway::start(&config(&static_backend(&provider), false)).await;
    the_contract(&gw, "java", false).await;
    bad_arguments(&gw).await;

    let body = expect_error(get(&gw, "/users/404").await, 400, "backend_exception").await;
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("IllegalArgumentException: no user 404"),
        "{body}"
    );
    assert_eq!(
        body["details"][0]["exception"],
        "java.lang.IllegalArgumentException"
    );

    let body = expect_error(get(&gw, "/missing").await, 502, "service_error").await;
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("noSuchMethod"),
        "names the method: {body}"
    );

    let started = Instant::now();
    expect_error(get(&gw, "/slow/3000").await, 504, "deadline_exceeded").await;
    assert!(
        started.elapsed() < Duration::from_millis(2000),
        "the call's timeout bounds the wait"
    );
    assert_eq!(
        ok_json(get(&gw, "/slow/10").await).await,
        "slept",
        "the connection survives a timed-out call"
    );
}

#[tokio::test]
async fn java_provider_generic_invocation() {
    let provider = java_provider().await;
    let gw = Gateway::start(&config(&static_backend(&provider), true)).await;
    the_contract(&gw, "java generic", true).await;
    // Generic exceptions arrive wrapped in GenericException; the real class still decides the status.
    let body = expect_error(get(&gw, "/users/404").await, 400, "backend_exception").await;
    assert_eq!(
        body["details"][0]["exception"], "java.lang.IllegalArgumentException",
        "{body}"
    );
}

#[tokio::test]
async fn sofa_rpc_node_provider() {
    let provider = sofa_provider().await;
    let gw = Gateway::start(&config(&static_backend(&provider), false)).await;
    the_contract(&gw, "sofa-rpc-node", false).await;
    // sofa-rpc-node answers business errors as status 80 with a bare string.
    let body = expect_error(get(&gw, "/users/404").await, 502, "backend_error").await;
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("no user 404"),
        "{body}"
    );
    expect_error(get(&gw, "/missing").await, 502, "backend_error").await;
}

#[tokio::test]
async fn dubbo_ts_provider() {
    let provider = dubbots_provider().await;
    let gw = Gateway::start(&config(&static_backend(&provider), false)).await;
    the_contract(&gw, "dubbo.ts", false).await;
    let body = expect_error(get(&gw, "/users/404").await, 502, "service_error").await;
    // The text alone: not the hessian bytes of the attachments dubbo.ts sends after it.
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .ends_with("status 70: no user 404"),
        "{body}"
    );
}

#[tokio::test]
async fn providers_from_a_zookeeper_registry() {
    let data = tempfile::tempdir().expect("zk dir");
    let zk = crate::harness::zookeeper(data.path()).await;
    let provider = java_provider().await;
    let python = repo_root().join(".venv-peers/bin/python");
    let register = tokio::process::Command::new(&python)
        .current_dir(repo_root())
        .args([
            "tests/peers/dubbo/register.py",
            "--zk",
            &zk.addr.to_string(),
            "--port",
            &provider.addr.port().to_string(),
        ])
        .output()
        .await
        .expect("register.py");
    assert!(
        register.status.success(),
        "{}",
        String::from_utf8_lossy(&register.stderr)
    );
    let backend = format!(
        "    dubbo:\n      zookeeper: {{ address: \"{}\" }}\n    connect_timeout: 500ms",
        zk.addr
    );
    let gw = Gateway::start(&config(&backend, false)).await;
    let alice = ok_json(get(&gw, "/users/1").await).await;
    assert_eq!(alice["name"], "alice");
}

#[tokio::test]
async fn triple_through_the_grpc_path() {
    let server = Peer::start("node", &["tests/peers/dubbo/triple_server.js"]).await;
    let yaml = format!(
        r#"
backends:
  - {{ name: triple, protocol: grpc, endpoints: ["{}"] }}
schemas:
  - name: greeter
    proto: {{ files: [greeter.proto], import_paths: ["{}"] }}
apis:
  - name: greet
    backend: triple
    grpc: {{ service: org.apache.dubbo.demo.triple.Greeter, method: Greet }}
    http: {{ post: /triple/greet, body: "*" }}
"#,
        server.addr,
        repo_root().join("tests/peers/dubbo/triple").display()
    );
    let gw = Gateway::start(&yaml).await;
    let reply = ok_json(post(&gw, "/triple/greet", json!({"name": "tri"})).await).await;
    assert!(
        reply["message"].as_str().unwrap_or("").contains("tri"),
        "{reply}"
    );
    expect_error(
        post(&gw, "/triple/greet", json!({"name": ""})).await,
        400,
        "invalid_argument",
    )
    .await;
}

/// The logistics gateway's incident: a provider that went away made it re-initialise in a loop until the
/// heap overflowed. Here: no request waits past its timeout, reconnects stay few, calls resume by themselves.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_provider_killed_under_load_comes_back() {
    let provider = java_provider().await;
    let port = provider.addr.port();
    let gw = Gateway::start(&config(&static_backend(&provider), false)).await;
    // Serving first (on a loaded CI host the JVM may refuse its first connection; the client redials).
    let serving = Instant::now();
    while get(&gw, "/ping").await.status() != 200 {
        assert!(
            serving.elapsed() < Duration::from_secs(10),
            "the provider never answered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut workers = Vec::new();
    for _ in 0..8 {
        let (client, url, stop) = (gw.client.clone(), gw.url("/ping"), stop.clone());
        workers.push(tokio::spawn(async move {
            let (mut ok, mut refused, mut slowest) = (0u32, 0u32, Duration::ZERO);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let started = Instant::now();
                let status = client
                    .get(&url)
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0);
                slowest = slowest.max(started.elapsed());
                match status {
                    200 => ok += 1,
                    503 => refused += 1,
                    other => panic!("unexpected status {other} during the outage"),
                }
                if status != 200 {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
            (ok, refused, slowest)
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let attempts_before = connect_attempts(&gw).await;
    let rss_before = rss_kib();
    provider.kill().await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let attempts_during = connect_attempts(&gw).await - attempts_before;
    let rss_growth = rss_kib().saturating_sub(rss_before);
    assert!(
        rss_growth < 64 * 1024,
        "memory grew {rss_growth} KiB during the outage"
    );
    let back = Peer::start_on("bash", &["tests/peers/dubbo/java/run.sh"], port).await;
    // Calls resume by themselves, within the backoff's reach.
    let resumed = Instant::now();
    loop {
        if get(&gw, "/ping").await.status() == 200 {
            break;
        }
        assert!(
            resumed.elapsed() < Duration::from_secs(35),
            "calls did not resume after the provider returned"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut refused_total = 0;
    for worker in workers {
        let (ok, refused, slowest) = worker.await.expect("worker");
        assert!(ok > 0);
        refused_total += refused;
        assert!(
            slowest < Duration::from_secs(2),
            "a request waited {slowest:?}; the API's timeout is 30 s but an outage must fail fast"
        );
    }
    assert!(refused_total > 0, "the outage was noticed");
    assert!(
        attempts_during <= 12,
        "{attempts_during} connection attempts in 3 s of outage: backoff must keep them few"
    );
    drop(back);
}

async fn connect_attempts(gw: &Gateway) -> u64 {
    let body: Value = get(gw, "/readyz").await.json().await.expect("readyz");
    body["dubbo_connect_attempts"]
        .as_u64()
        .expect("dubbo_connect_attempts in /readyz")
}

/// This process's resident memory (the gateway runs in it).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
