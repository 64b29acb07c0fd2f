//! A provider that goes down and comes back: while it is down one connection slot probes it at the
//! capped rate; once it is back it is used within that cap, or at once when the registry names it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::super::{ClientSettings, DubboClient, DubboPool, ProviderSet};
use super::fake_provider::{Answer, FakeProvider, Request, ok};
use super::{call, connected_client, provider, settings, wait_until};

fn pong(request: &Request) -> Answer {
    Answer::Frames(vec![ok(request.id, 2, &[])])
}

#[tokio::test]
async fn a_provider_down_for_long_is_probed_by_one_slot_and_used_within_the_cap_once_back() {
    let mut fake = FakeProvider::start(pong).await;
    let three = ClientSettings {
        connections_per_provider: 3,
        ..settings() // backoff from 100 ms up to 1 s
    };
    let (client, pool) = connected_client(&[&fake], three).await;
    wait_until("three connections", || fake.accepted() == 3).await;

    fake.kill();
    // Long enough for the backoff to reach its cap; then count what a down provider costs.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = pool.connect_attempts();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let attempts = pool.connect_attempts() - before;
    // One slot, one attempt per 0.5–1 s: at most 7 in 3 s. Three slots probing would be about 16.
    assert!(
        (2..=7).contains(&attempts),
        "{attempts} connect attempts in 3 s"
    );

    let accepted = fake.accepted();
    fake.restart().await;
    let back = Instant::now();
    wait_until("every slot reconnected", || fake.accepted() == accepted + 3).await;
    assert!(
        back.elapsed() < Duration::from_millis(1300),
        "back after {:?}",
        back.elapsed()
    );
    assert!(client.invoke(call("ping", vec![])).await.is_ok());
}

#[tokio::test]
async fn a_registry_event_naming_a_down_provider_skips_its_backoff() {
    let mut fake = FakeProvider::start(pong).await;
    let listed = vec![provider(&fake.address)];
    let (registry, listing) = watch::channel(Arc::new(listed.clone()));
    // Waits of at least 5 s: only the registry event can bring the connection back in time.
    let patient = ClientSettings {
        backoff_min: Duration::from_secs(5),
        backoff_max: Duration::from_secs(30),
        ..settings()
    };
    let client = DubboClient::new(
        ProviderSet::from_watch(listing),
        DubboPool::default(),
        patient,
    );
    wait_until("connected", || client.connected() == 1).await;

    fake.kill();
    wait_until("seen down", || client.connected() == 0).await;
    // The slot settles into its 5 s wait.
    tokio::time::sleep(Duration::from_millis(300)).await;
    fake.restart().await;
    let mut relisted = listed;
    relisted[0].version = Some("1.0.1".into());
    registry.send(Arc::new(relisted)).expect("client listening");
    let back = Instant::now();
    wait_until("reconnected", || client.connected() == 1).await;
    assert!(
        back.elapsed() < Duration::from_secs(1),
        "back after {:?}",
        back.elapsed()
    );
    assert!(client.invoke(call("ping", vec![])).await.is_ok());
}
