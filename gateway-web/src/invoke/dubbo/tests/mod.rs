//! Tests of the Dubbo client against an in-test fake provider: calls and answers (`calls`), and what
//! happens when providers misbehave or go away (`resilience`) and come back (`returning`).

mod calls;
mod fake_provider;
mod resilience;
mod returning;

use std::future::Future;
use std::time::Duration;

use super::{ClientSettings, DubboClient, DubboPool, Invocation, Provider, ProviderSet};
use dubbo_codec::hessian2::Value;
use fake_provider::FakeProvider;

fn provider(address: &str) -> Provider {
    Provider {
        tls: false,
        address: address.to_string(),
        version: None,
        group: None,
    }
}

fn call(method: &str, arguments: Vec<Value>) -> Invocation {
    Invocation {
        service: "com.example.Echo".into(),
        version: None,
        group: None,
        method: method.into(),
        parameter_types: arguments
            .iter()
            .map(|_| "java.lang.Object".to_string())
            .collect(),
        arguments,
        attachments: Vec::new(),
        timeout: Duration::from_secs(5),
    }
}

/// Settings with a short backoff so tests see reconnects quickly; heartbeats off unless a test wants them.
fn settings() -> ClientSettings {
    ClientSettings {
        heartbeat: Duration::ZERO,
        backoff_min: Duration::from_millis(100),
        backoff_max: Duration::from_secs(1),
        ..ClientSettings::default()
    }
}

/// A client of `providers` with its own pool, once at least one provider is connected.
async fn connected_client(
    providers: &[&FakeProvider],
    settings: ClientSettings,
) -> (DubboClient, DubboPool) {
    let pool = DubboPool::default();
    let set = ProviderSet::fixed(providers.iter().map(|p| provider(&p.address)).collect());
    let client = DubboClient::new(set, pool.clone(), settings);
    let want = providers.len();
    wait_until("providers connected", || client.connected() == want).await;
    (client, pool)
}

/// Polls `condition` every 10 ms for up to 5 s.
async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    for _ in 0..500 {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// Runs `future`, failing the test if it takes longer than `limit`.
async fn within<T>(limit: Duration, future: impl Future<Output = T>) -> T {
    match tokio::time::timeout(limit, future).await {
        Ok(output) => output,
        Err(_) => panic!("took longer than {limit:?}"),
    }
}
