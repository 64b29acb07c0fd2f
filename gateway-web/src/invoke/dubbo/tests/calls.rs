//! Calls and answers: multiplexing, every result flag and status, what a request carries, balancing.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::super::{Balance, DubboClient, DubboError, DubboPool, Outcome, ProviderSet};
use super::fake_provider::{Answer, FakeProvider, Request, ok, status};
use super::{call, connected_client, provider, settings, wait_until};
use dubbo_codec::hessian2::{Map, Value};

#[tokio::test]
async fn hundred_concurrent_calls_share_one_connection_and_match_out_of_order_answers() {
    // The provider holds every request until it has 100, then answers them last-first.
    let held: Arc<Mutex<Vec<Request>>> = Arc::default();
    let fake = FakeProvider::start(move |request| {
        let mut held = held.lock().unwrap_or_else(|p| p.into_inner());
        held.push(request.clone());
        if held.len() < 100 {
            return Answer::Silent;
        }
        let answers = held
            .drain(..)
            .rev()
            .map(|r| ok(r.id, 1, &r.arguments))
            .collect();
        Answer::Frames(answers)
    })
    .await;
    let (client, pool) = connected_client(&[&fake], settings()).await;

    let calls = (0..100).map(|i| {
        let client = client.clone();
        tokio::spawn(async move { (i, client.invoke(call("echo", vec![Value::Int(i)])).await) })
    });
    for joined in futures::future::join_all(calls).await {
        let (i, reply) = joined.expect("task");
        assert!(
            matches!(&reply, Ok(r) if r.outcome == Outcome::Value(Value::Int(i))),
            "call {i}: {reply:?}"
        );
    }
    assert_eq!(fake.accepted(), 1);
    assert_eq!(pool.connect_attempts(), 1);
    assert_eq!(client.pending(), 0);
}

#[tokio::test]
async fn every_result_flag_and_status_reaches_the_caller() {
    let fake = FakeProvider::start(|request| {
        let exception = Value::String("java.lang.IllegalStateException: boom".into());
        let value = Value::String("v".into());
        let attachments = Value::Map(Map {
            type_name: None,
            entries: vec![(Value::String("k".into()), Value::String("a".into()))],
        });
        let id = request.id;
        let frame = match request.method.as_str() {
            "flag0" => ok(id, 0, &[exception]),
            "flag1" => ok(id, 1, &[value]),
            "flag2" => ok(id, 2, &[]),
            "flag3" => ok(id, 3, &[exception, attachments]),
            "flag4" => ok(id, 4, &[value, attachments]),
            "flag5" => ok(id, 5, &[attachments]),
            method => match method.strip_prefix("status").and_then(|s| s.parse().ok()) {
                Some(code) => status(id, code, "it failed"),
                None => return Answer::Close,
            },
        };
        Answer::Frames(vec![frame])
    })
    .await;
    let (client, _pool) = connected_client(&[&fake], settings()).await;

    let exception = Outcome::Exception(Value::String(
        "java.lang.IllegalStateException: boom".into(),
    ));
    let value = Outcome::Value(Value::String("v".into()));
    let attached = vec![("k".to_string(), "a".to_string())];
    let cases = [
        ("flag0", exception.clone(), vec![]),
        ("flag1", value.clone(), vec![]),
        ("flag2", Outcome::Null, vec![]),
        ("flag3", exception, attached.clone()),
        ("flag4", value, attached.clone()),
        ("flag5", Outcome::Null, attached),
    ];
    for (method, outcome, attachments) in cases {
        let reply = client.invoke(call(method, vec![])).await;
        assert!(
            matches!(&reply, Ok(r) if r.outcome == outcome && r.attachments == attachments),
            "{method}: {reply:?}"
        );
    }
    for code in [30u8, 31, 40, 50, 60, 70, 80, 90, 100] {
        let reply = client.invoke(call(&format!("status{code}"), vec![])).await;
        assert!(
            matches!(&reply, Err(DubboError::Status { status, message }) if *status == code && message == "it failed"),
            "status {code}: {reply:?}"
        );
    }
    // All of that over the one connection.
    assert_eq!(fake.accepted(), 1);
}

#[tokio::test]
async fn a_request_carries_its_fields_descriptor_and_attachments() {
    let seen: Arc<Mutex<Vec<Request>>> = Arc::default();
    let log = seen.clone();
    let fake = FakeProvider::start(move |request| {
        log.lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(request.clone());
        Answer::Frames(vec![ok(request.id, 2, &[])])
    })
    .await;
    let (client, _pool) = connected_client(&[&fake], settings()).await;

    let mut invocation = call(
        "find",
        vec![Value::String("x".into()), Value::Long(7), Value::Null],
    );
    invocation.parameter_types = vec!["java.lang.String".into(), "long".into(), "int[]".into()];
    invocation.version = Some("1.0.0".into());
    invocation.group = Some("blue".into());
    invocation.timeout = Duration::from_millis(1500);
    invocation.attachments = vec![
        ("trace".into(), "t-1".into()),
        ("path".into(), "com.evil.Other".into()),
    ];
    let reply = client.invoke(invocation).await;
    assert!(
        matches!(reply, Ok(ref r) if r.outcome == Outcome::Null),
        "{reply:?}"
    );

    let seen = seen.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let [request] = seen.as_slice() else {
        panic!("one request expected, saw {seen:?}")
    };
    assert_eq!(request.service, "com.example.Echo");
    assert_eq!(request.version, "1.0.0");
    assert_eq!(request.method, "find");
    assert_eq!(request.descriptor, "Ljava/lang/String;J[I");
    assert_eq!(
        request.arguments,
        vec![Value::String("x".into()), Value::Long(7), Value::Null]
    );
    let Value::Map(attachments) = &request.attachments else {
        panic!("attachments: {:?}", request.attachments)
    };
    let text = |key: &str| {
        attachments
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    assert_eq!(
        text("path").as_deref(),
        Some("com.example.Echo"),
        "a caller cannot redirect the path"
    );
    assert_eq!(text("interface").as_deref(), Some("com.example.Echo"));
    assert_eq!(text("version").as_deref(), Some("1.0.0"));
    assert_eq!(text("group").as_deref(), Some("blue"));
    assert_eq!(text("timeout").as_deref(), Some("1500"));
    assert_eq!(text("trace").as_deref(), Some("t-1"));
    assert_eq!(attachments.entries.len(), 6);
}

#[tokio::test]
async fn calls_are_balanced_over_matching_connected_providers() {
    let answer = |request: &Request| Answer::Frames(vec![ok(request.id, 2, &[])]);
    let (a, b) = (
        FakeProvider::start(answer).await,
        FakeProvider::start(answer).await,
    );
    for balance in [Balance::RoundRobin, Balance::Random] {
        let (client, _pool) = connected_client(
            &[&a, &b],
            super::super::ClientSettings {
                balance,
                ..settings()
            },
        )
        .await;
        let before = (a.received().len(), b.received().len());
        for _ in 0..40 {
            assert!(client.invoke(call("ping", vec![])).await.is_ok());
        }
        let (to_a, to_b) = (a.received().len() - before.0, b.received().len() - before.1);
        assert_eq!(to_a + to_b, 40);
        match balance {
            Balance::RoundRobin => assert_eq!((to_a, to_b), (20, 20)),
            Balance::Random => assert!(to_a > 5 && to_b > 5, "{to_a} / {to_b}"),
        }
    }

    // Only the provider whose version matches is used, and its version is sent when the call has none.
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    let versioned = FakeProvider::start(move |request| {
        log.lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(request.version.clone());
        Answer::Frames(vec![ok(request.id, 2, &[])])
    })
    .await;
    let mut v1 = provider(&versioned.address);
    v1.version = Some("1.0".into());
    let mut v2 = provider(&a.address);
    v2.version = Some("2.0".into());
    let client = DubboClient::new(
        ProviderSet::fixed(vec![v1.clone(), v2]),
        DubboPool::default(),
        settings(),
    );
    wait_until("both connected", || client.connected() == 2).await;
    let a_before = a.received().len();
    for _ in 0..3 {
        let mut invocation = call("ping", vec![]);
        invocation.version = Some("1.0".into());
        assert!(client.invoke(invocation).await.is_ok());
    }
    assert_eq!(
        a.received().len(),
        a_before,
        "the 2.0 provider got a 1.0 call"
    );
    let mut wrong = call("ping", vec![]);
    wrong.version = Some("3.0".into());
    assert!(
        matches!(client.invoke(wrong).await, Err(DubboError::NoProvider(s)) if s == "com.example.Echo")
    );

    let only_v1 = DubboClient::new(
        ProviderSet::fixed(vec![v1]),
        DubboPool::default(),
        settings(),
    );
    wait_until("v1 connected", || only_v1.connected() == 1).await;
    assert!(only_v1.invoke(call("ping", vec![])).await.is_ok());
    let seen = seen.lock().unwrap_or_else(|p| p.into_inner()).clone();
    assert_eq!(
        seen,
        vec!["1.0"; 4],
        "the provider's version is sent when the call names none"
    );
}
