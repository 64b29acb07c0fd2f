//! HTTP upstream pools over time, against the Python standard library's HTTP server
//! (`tests/peers/http_upstream.py`): a consistent hash that keeps every key where it was and moves
//! only a leaving endpoint's keys; an endpoint killed under load taken out and brought back with no
//! request lost; a blue-green switch by one publish with no request failed.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::Mutex;

use crate::harness::{Gateway, Peer, free_port, python};

async fn upstream_on(name: &str, port: u16) -> Peer {
    Peer::start_on(
        &python(),
        &["tests/peers/http_upstream.py", "--name", name],
        port,
    )
    .await
}

fn url(peer: &Peer) -> String {
    format!("http://{}", peer.addr)
}

/// One `users` backend over `endpoints` with `http` settings, and a `/who` API relayed to it.
fn pool_config(endpoints: &[String], http: &str, policies: &str) -> String {
    let endpoints = crate::http_upstreams::yaml_list(endpoints);
    format!(
        r#"
backends:
  - {{ name: users, protocol: http, endpoints: [{endpoints}], http: {http} }}
apis:
  - {{ name: who, backend: users, timeout: 5s, http: {{ get: /who }}, upstream: {{}}, policies: {policies} }}
"#
    )
}

/// Which instance answered, or the status when it was not a 200.
async fn who(gw: &Gateway, user: Option<&str>) -> Result<String, u16> {
    let mut request = gw.client.get(gw.url("/who"));
    if let Some(user) = user {
        request = request.header("x-user", user);
    }
    let response = request.send().await.map_err(|_| 0u16)?;
    if response.status() != 200 {
        return Err(response.status().as_u16());
    }
    let body: Value = response.json().await.map_err(|_| 1u16)?;
    Ok(body["name"].as_str().unwrap_or_default().to_string())
}

/// What one answer was, and which client got it.
type Answer = (usize, Result<String, u16>);

/// Clients calling `/who` in a loop until stopped; every answer is kept in order.
struct Load {
    stop: Arc<AtomicBool>,
    answers: Arc<Mutex<Vec<Answer>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    fn start(gw: &Arc<Gateway>, clients: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let answers = Arc::new(Mutex::new(Vec::new()));
        let tasks = (0..clients)
            .map(|client| {
                let (gw, stop, answers) = (gw.clone(), stop.clone(), answers.clone());
                tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        let answer = who(&gw, None).await;
                        answers.lock().await.push((client, answer));
                    }
                })
            })
            .collect();
        Load {
            stop,
            answers,
            tasks,
        }
    }

    /// How many answers so far.
    async fn len(&self) -> usize {
        self.answers.lock().await.len()
    }

    async fn finish(self) -> Vec<Answer> {
        self.stop.store(true, Ordering::Relaxed);
        for task in self.tasks {
            task.await.unwrap();
        }
        Arc::try_unwrap(self.answers).unwrap().into_inner()
    }
}

#[tokio::test]
async fn a_consistent_hash_keeps_keys_in_place_and_moves_only_a_leavers() {
    let peers = [
        upstream_on("a", 0).await,
        upstream_on("b", 0).await,
        upstream_on("c", 0).await,
    ];
    let endpoints: Vec<String> = peers.iter().map(url).collect();
    let http = "{ balance: { consistent_hash: { on: header.x-user } } }";
    let mut gw = Gateway::start(&pool_config(&endpoints, http, "[]")).await;
    let users: Vec<String> = (0..300).map(|i| format!("user-{i}")).collect();
    let mut placement = Vec::new();
    for user in &users {
        placement.push(who(&gw, Some(user)).await.unwrap());
    }
    for (user, first) in users.iter().zip(&placement) {
        assert_eq!(&who(&gw, Some(user)).await.unwrap(), first, "{user} moved");
    }
    let mut share: HashMap<&str, usize> = HashMap::new();
    for name in &placement {
        *share.entry(name).or_default() += 1;
    }
    for name in ["a", "b", "c"] {
        let n = share.get(name).copied().unwrap_or(0);
        assert!((60..=140).contains(&n), "uneven spread: {share:?}");
    }

    // `c` leaves the pool: its keys move, nobody else's do.
    let before = gw.revision().await;
    gw.write_config(&pool_config(&endpoints[..2], http, "[]"));
    gw.wait_until(|ready| ready["revision"] != before.as_str())
        .await
        .unwrap();
    for (user, first) in users.iter().zip(&placement) {
        let now = who(&gw, Some(user)).await.unwrap();
        if first == "c" {
            assert!(now == "a" || now == "b", "{user} went to {now}");
        } else {
            assert_eq!(&now, first, "{user} moved though its endpoint stayed");
        }
    }
}

#[tokio::test]
async fn an_endpoint_killed_under_load_is_taken_out_and_brought_back() {
    let a = upstream_on("a", 0).await;
    let b_port = free_port();
    let b = upstream_on("b", b_port).await;
    let http = "{ health_check: { path: /health, interval: 200ms, timeout: 200ms, healthy_threshold: 2, unhealthy_threshold: 2 }, \
                outlier: { consecutive_failures: 2, base_ejection: 1s } }";
    // Connection failures on a GET are safe to repeat: the retry sends them to the other endpoint.
    let policies = "[{ kind: retry, attempts: 3, backoff: 5ms, idempotent_failures: true }]";
    let gw = Arc::new(Gateway::start(&pool_config(&[url(&a), url(&b)], http, policies)).await);
    let load = Load::start(&gw, 4);
    tokio::time::sleep(Duration::from_millis(800)).await;

    b.kill().await;
    let killed_at = load.len().await;
    wait_for_health(&gw, 1, |h| h != "healthy").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let restarted_at = load.len().await;

    let _b = upstream_on("b", b_port).await;
    wait_for_health(&gw, 1, |h| h == "healthy").await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let answers = load.finish().await;

    assert_none_failed(&answers);
    let served_by = |range: std::ops::Range<usize>, name: &str| {
        answers[range]
            .iter()
            .filter(|(_, a)| a.as_deref() == Ok(name))
            .count()
    };
    assert!(
        served_by(0..killed_at, "b") > 0,
        "b served nothing at first"
    );
    assert!(
        served_by(killed_at + 20..restarted_at, "b") == 0,
        "a dead endpoint kept receiving requests"
    );
    assert!(
        served_by(restarted_at..answers.len(), "b") > 20,
        "b was not brought back"
    );
}

fn assert_none_failed(answers: &[Answer]) {
    let failed: Vec<_> = answers.iter().filter(|(_, a)| a.is_err()).collect();
    assert!(
        failed.is_empty(),
        "{} of {} answers failed: {failed:?}",
        failed.len(),
        answers.len()
    );
}

/// Waits until endpoint `index` of the first upstream has a health that `done` accepts.
async fn wait_for_health(gw: &Gateway, index: usize, done: impl Fn(&str) -> bool) {
    for _ in 0..500 {
        let ready = gw.readyz().await;
        if ready["upstreams"][0]["endpoints"][index]["health"]
            .as_str()
            .is_some_and(&done)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("endpoint {index} never reached the awaited health");
}

#[tokio::test]
async fn a_blue_green_switch_under_load_fails_no_request() {
    let blue = upstream_on("blue", 0).await;
    let green = upstream_on("green", 0).await;
    let config = |live: &str| {
        format!(
            r#"
backends:
  - {{ name: blue, protocol: http, endpoints: ["{blue}"] }}
  - {{ name: green, protocol: http, endpoints: ["{green}"] }}
apis:
  - {{ name: who, backend: {live}, timeout: 5s, http: {{ get: /who }}, upstream: {{}} }}
"#,
            blue = url(&blue),
            green = url(&green),
        )
    };
    let gw = Arc::new(Gateway::start(&config("blue")).await);
    let load = Load::start(&gw, 4);
    tokio::time::sleep(Duration::from_millis(600)).await;

    // One publish points the API at the other pool.
    let revision = gw.revision().await;
    gw.write_config(&config("green"));
    while gw.revision().await == revision {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let switched_at = load.len().await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let answers = load.finish().await;

    assert_none_failed(&answers);
    let is = |answer: &Answer, name: &str| answer.1.as_deref() == Ok(name);
    assert!(answers[..switched_at].iter().any(|a| is(a, "blue")));
    // The switch is atomic per request: once a client got green, it never got blue again.
    for client in 0..4 {
        let mine: Vec<_> = answers.iter().filter(|(c, _)| *c == client).collect();
        let first_green = mine.iter().position(|a| is(a, "green")).unwrap();
        assert!(
            mine[first_green..].iter().all(|a| is(a, "green")),
            "client {client} went back to blue"
        );
    }
    // And every request started well after the new revision serves went to green.
    let late = &answers[switched_at + 8..];
    assert!(late.len() > 20, "too few answers after the switch");
    assert!(
        late.iter().all(|a| is(a, "green")),
        "blue still answered after the switch"
    );
}

#[tokio::test]
async fn an_upstreams_own_5xx_answers_are_retried_on_gets_and_open_the_breaker() {
    let good = upstream_on("good", 0).await;
    let bad = Peer::start(
        &python(),
        &[
            "tests/peers/http_upstream.py",
            "--name",
            "bad",
            "--fail-status",
            "500",
        ],
    )
    .await;
    let endpoints = [url(&bad), url(&good)];
    // Round-robin over a failing and a working instance: a GET answered 500 goes again to the other.
    let retry = "[{ kind: retry, attempts: 2, backoff: 1ms, idempotent_failures: true }]";
    let gw = Gateway::start(&pool_config(
        &endpoints,
        "{ outlier: { consecutive_failures: 0 } }",
        retry,
    ))
    .await;
    for _ in 0..10 {
        assert_eq!(who(&gw, None).await, Ok("good".to_string()));
    }

    // Without the retry half the answers are the failing instance's own 500, passed on as it is.
    let plain = Gateway::start(&pool_config(
        &endpoints,
        "{ outlier: { consecutive_failures: 0 } }",
        "[]",
    ))
    .await;
    let mut statuses = Vec::new();
    for _ in 0..10 {
        statuses.push(who(&plain, None).await.err().unwrap_or(200));
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 500).count(),
        5,
        "{statuses:?}"
    );

    // A breaker counts those 500s as backend errors: after enough of them it opens, and the
    // failing instance is not asked at all.
    let breaker = "[{ kind: circuit_breaker, failure_rate: 0.5, minimum_calls: 4, window: 10s, open: 30s, failures: [backend_error] }]";
    let only_bad = Gateway::start(&pool_config(
        &[url(&bad)],
        "{ outlier: { consecutive_failures: 0 } }",
        breaker,
    ))
    .await;
    let mut seen = Vec::new();
    for _ in 0..8 {
        seen.push(who(&only_bad, None).await.err().unwrap_or(200));
    }
    assert_eq!(&seen[..4], &[500, 500, 500, 500], "{seen:?}");
    assert!(
        seen[4..].iter().all(|s| *s == 503),
        "the breaker did not open: {seen:?}"
    );
}
