//! Misbehaving, silent, vanishing and returning providers: heartbeats, timeouts, backoff, limits,
//! malformed input, and provider-set changes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::watch;

use super::super::{ClientSettings, DubboClient, DubboError, DubboPool, Outcome, ProviderSet};
use super::fake_provider::{Answer, FakeProvider, Request, ok};
use super::{call, connected_client, provider, settings, wait_until, within};
use dubbo_codec::frame::{self, FLAG_EVENT, FLAG_REQUEST, FLAG_TWO_WAY, HESSIAN2, STATUS_OK};
use dubbo_codec::hessian2::Value;

/// Answers `ping` with null and lets `hang` wait forever.
fn ping_or_hang(request: &Request) -> Answer {
    match request.method.as_str() {
        "hang" => Answer::Silent,
        _ => Answer::Frames(vec![ok(request.id, 2, &[])]),
    }
}

#[tokio::test]
async fn provider_heartbeats_are_answered_and_stray_events_ignored() {
    let fake = FakeProvider::start(ping_or_hang).await;
    let (client, _pool) = connected_client(&[&fake], settings()).await;

    let heartbeat = FLAG_REQUEST | FLAG_TWO_WAY | FLAG_EVENT | HESSIAN2;
    fake.send_all(frame::encode(heartbeat, 0, 777, b"N")).await;
    wait_until("heartbeat answer", || {
        fake.received().iter().any(|h| {
            h.id == 777
                && h.is_event()
                && !h.is_request()
                && h.status == STATUS_OK
                && h.body_len == 1
        })
    })
    .await;

    // An event response nobody asked for, and an answer to no pending call: both ignored.
    fake.send_all(frame::encode(FLAG_EVENT | HESSIAN2, STATUS_OK, 4242, b"N"))
        .await;
    fake.send_all(ok(999_999, 2, &[])).await;
    assert!(client.invoke(call("ping", vec![])).await.is_ok());
    assert_eq!(fake.accepted(), 1);
}

#[tokio::test]
async fn a_readonly_event_stops_new_calls_but_answers_sent_ones() {
    let held = Arc::new(std::sync::Mutex::new(None));
    let hold = held.clone();
    let fake = FakeProvider::start(move |request: &Request| {
        *hold.lock().unwrap_or_else(|p| p.into_inner()) = Some(request.id);
        Answer::Silent
    })
    .await;
    let (client, _pool) = connected_client(&[&fake], settings()).await;
    let waiting = tokio::spawn({
        let client = client.clone();
        async move { client.invoke(call("slow", vec![])).await }
    });
    wait_until("call held", || {
        held.lock().unwrap_or_else(|p| p.into_inner()).is_some()
    })
    .await;

    // Java Dubbo's graceful shutdown: a one-way event whose body is the string "R".
    fake.send_all(frame::encode(
        FLAG_REQUEST | FLAG_EVENT | HESSIAN2,
        0,
        5,
        b"\x01R",
    ))
    .await;
    wait_until("connection draining", || client.connected() == 0).await;
    let refused = client.invoke(call("ping", vec![])).await;
    assert!(
        matches!(refused, Err(DubboError::NoProvider(_))),
        "{refused:?}"
    );

    let id = held
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .unwrap_or_default();
    fake.send_all(ok(id, 1, &[Value::Int(1)])).await;
    let answered = within(Duration::from_secs(1), waiting).await.expect("task");
    assert!(
        matches!(answered, Ok(ref r) if r.outcome == Outcome::Value(Value::Int(1))),
        "{answered:?}"
    );
}

#[tokio::test]
async fn idle_connections_send_heartbeats_and_silent_providers_are_dropped() {
    let fake = FakeProvider::start(ping_or_hang).await;
    let quick = ClientSettings {
        heartbeat: Duration::from_millis(100),
        ..settings()
    };
    let (_client, _pool) = connected_client(&[&fake], quick.clone()).await;
    wait_until("two heartbeats", || {
        fake.received()
            .iter()
            .filter(|h| h.is_request() && h.is_event())
            .count()
            >= 2
    })
    .await;
    // The fake answers heartbeats, so the connection stays.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.accepted(), 1);

    // A provider that accepts and then says nothing is closed after 3 heartbeats and redialled.
    let mute = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = mute.local_addr().expect("addr").to_string();
    let accepts = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = mute.accept().await {
            held.push(socket);
            if held.len() == 2 {
                return Instant::now();
            }
        }
        Instant::now()
    });
    let started = Instant::now();
    let _mute_client = DubboClient::new(
        ProviderSet::fixed(vec![provider(&address)]),
        DubboPool::default(),
        quick,
    );
    let second_accept = within(Duration::from_secs(3), accepts)
        .await
        .expect("accept task");
    assert!(
        second_accept - started >= Duration::from_millis(300),
        "closed before 3 heartbeats"
    );
}

#[tokio::test]
async fn a_timed_out_or_abandoned_call_leaves_no_pending_entry() {
    let fake = FakeProvider::start(ping_or_hang).await;
    let (client, _pool) = connected_client(&[&fake], settings()).await;

    let mut hang = call("hang", vec![]);
    hang.timeout = Duration::from_millis(100);
    let reply = client.invoke(hang).await;
    assert!(
        matches!(reply, Err(DubboError::Timeout(d)) if d == Duration::from_millis(100)),
        "{reply:?}"
    );
    assert_eq!(client.pending(), 0);

    let abandoned = tokio::spawn({
        let client = client.clone();
        async move { client.invoke(call("hang", vec![])).await }
    });
    wait_until("call pending", || client.pending() == 1).await;
    abandoned.abort();
    wait_until("entry removed", || client.pending() == 0).await;
    assert!(client.invoke(call("ping", vec![])).await.is_ok());
}

#[tokio::test]
async fn a_killed_provider_fails_calls_fast_backs_off_and_is_used_again_when_back() {
    let mut fake = FakeProvider::start(ping_or_hang).await;
    let (client, pool) = connected_client(&[&fake], settings()).await;
    let tasks = || {
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks()
    };

    let waiting: Vec<_> = (0..5)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.invoke(call("hang", vec![])).await })
        })
        .collect();
    wait_until("calls pending", || client.pending() == 5).await;
    let tasks_before = tasks();
    let killed_at = Instant::now();
    fake.kill();
    for waiter in waiting {
        let reply = within(Duration::from_secs(1), waiter).await.expect("task");
        assert!(
            matches!(reply, Err(DubboError::Unavailable(_))),
            "{reply:?}"
        );
    }
    assert!(
        killed_at.elapsed() < Duration::from_secs(1),
        "pending calls waited for their timeout"
    );

    // Two seconds of traffic while it is down: every call fails at once, connects stay few.
    let attempts_before = pool.connect_attempts();
    let until = Instant::now() + Duration::from_secs(2);
    let mut calls = 0;
    while Instant::now() < until {
        let started = Instant::now();
        let reply = client.invoke(call("ping", vec![])).await;
        assert!(matches!(reply, Err(DubboError::NoProvider(_))), "{reply:?}");
        assert!(
            started.elapsed() < Duration::from_millis(250),
            "a call waited while down"
        );
        calls += 1;
        if calls % 100 == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let attempts = pool.connect_attempts() - attempts_before;
    assert!(
        calls > 1000 && attempts < 10,
        "{calls} calls caused {attempts} connect attempts"
    );
    assert_eq!(client.pending(), 0);
    assert!(
        tasks() <= tasks_before,
        "tasks grew from {tasks_before} to {}",
        tasks()
    );

    fake.restart().await;
    wait_until("reconnected", || client.connected() == 1).await;
    assert!(client.invoke(call("ping", vec![])).await.is_ok());
}

#[tokio::test]
async fn oversized_frames_bad_magic_and_truncation_close_the_connection() {
    let fake = FakeProvider::start(|request: &Request| {
        let id = request.id;
        let frame = match request.method.as_str() {
            "huge" => {
                // Announces 100 MiB and sends none of it: the client must not wait or allocate.
                let mut header = frame::encode(HESSIAN2, STATUS_OK, id, b"");
                header[12..].copy_from_slice(&(100u32 << 20).to_be_bytes());
                header
            }
            "magic" => b"\xca\xfe\xba\xbe not a dubbo frame".to_vec(),
            "truncated" => {
                let mut frame = ok(id, 1, &[Value::String("a whole value".into())]);
                frame.truncate(frame.len() - 4);
                return Answer::Frames(vec![frame, Vec::new()]); // An empty write closes.
            }
            "fits" => ok(id, 1, &[Value::String("x".repeat(900))]),
            _ => return ping_or_hang(request),
        };
        Answer::Frames(vec![frame])
    })
    .await;
    let limited = ClientSettings {
        payload_limit: 1024,
        ..settings()
    };
    let (client, _pool) = connected_client(&[&fake], limited).await;

    let fits = client.invoke(call("fits", vec![])).await;
    assert!(
        matches!(fits, Ok(ref r) if r.outcome == Outcome::Value(Value::String("x".repeat(900))))
    );
    for (n, method) in ["huge", "magic", "truncated"].into_iter().enumerate() {
        let reply = within(Duration::from_secs(1), client.invoke(call(method, vec![]))).await;
        assert!(
            matches!(reply, Err(DubboError::Unavailable(_))),
            "{method}: {reply:?}"
        );
        wait_until("reconnected", || {
            fake.accepted() == n + 2 && client.connected() == 1
        })
        .await;
        assert!(
            client.invoke(call("ping", vec![])).await.is_ok(),
            "after {method}"
        );
    }
}

#[tokio::test]
async fn undecodable_bodies_fail_the_call_but_keep_the_connection() {
    let fake = FakeProvider::start(|request: &Request| {
        let body: &[u8] = match request.method.as_str() {
            "garbage" => b"\xff\xfe",
            "short" => b"\x91\x05ab",
            "flag9" => b"\x99",
            _ => return ping_or_hang(request),
        };
        Answer::Frames(vec![frame::encode(HESSIAN2, STATUS_OK, request.id, body)])
    })
    .await;
    let (client, _pool) = connected_client(&[&fake], settings()).await;
    for method in ["garbage", "short", "flag9"] {
        let reply = client.invoke(call(method, vec![])).await;
        assert!(
            matches!(reply, Err(DubboError::Protocol(_))),
            "{method}: {reply:?}"
        );
    }
    assert!(client.invoke(call("ping", vec![])).await.is_ok());
    assert_eq!(fake.accepted(), 1);
}

#[tokio::test]
async fn an_outgoing_body_above_the_limit_is_refused_unsent() {
    let fake = FakeProvider::start(ping_or_hang).await;
    let limited = ClientSettings {
        payload_limit: 1024,
        ..settings()
    };
    let (client, _pool) = connected_client(&[&fake], limited).await;
    let reply = client
        .invoke(call("ping", vec![Value::Binary(vec![7; 4096])]))
        .await;
    assert!(
        matches!(reply, Err(DubboError::PayloadTooLarge(n)) if n > 4096),
        "{reply:?}"
    );
    assert!(fake.received().is_empty());
    assert!(
        client
            .invoke(call("ping", vec![Value::Binary(vec![7; 512])]))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn the_client_follows_provider_set_changes_and_the_pool_lets_go() {
    let fake = FakeProvider::start(ping_or_hang).await;
    let (tx, rx) = watch::channel(Arc::new(Vec::new()));
    let pool = DubboPool::default();
    let client = DubboClient::new(ProviderSet::from_watch(rx), pool.clone(), settings());
    let reply = client.invoke(call("ping", vec![])).await;
    assert!(
        matches!(reply, Err(DubboError::NoProvider(ref s)) if s == "com.example.Echo"),
        "{reply:?}"
    );

    tx.send(Arc::new(vec![provider(&fake.address)]))
        .expect("send");
    wait_until("connected", || client.connected() == 1).await;
    assert!(client.invoke(call("ping", vec![])).await.is_ok());

    // Removed from discovery: released from the pool at once, since no other client holds it.
    tx.send(Arc::new(Vec::new())).expect("send");
    wait_until("released", || pool.len() == 0).await;
    assert!(matches!(
        client.invoke(call("ping", vec![])).await,
        Err(DubboError::NoProvider(_))
    ));

    // A new snapshot's client reuses the pooled connection; retain lets go of unlisted ones.
    let fixed = || ProviderSet::fixed(vec![provider(&fake.address)]);
    let first = DubboClient::new(fixed(), pool.clone(), settings());
    wait_until("connected", || first.connected() == 1).await;
    let attempts = pool.connect_attempts();
    drop(first);
    let second = DubboClient::new(fixed(), pool.clone(), settings());
    assert_eq!(
        second.connected(),
        1,
        "the pooled connection was kept across clients"
    );
    assert_eq!(pool.connect_attempts(), attempts);
    pool.retain(std::slice::from_ref(&fake.address));
    assert_eq!(pool.len(), 1);
    drop(second);
    pool.retain(&[]);
    assert_eq!(pool.len(), 0);
}
