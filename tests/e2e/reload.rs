//! Hot reload of the definitions file: changes apply without a restart, a bad file is refused while the
//! old revision keeps serving, and no request fails across swaps under load.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use crate::harness::{Gateway, demo_config, tonic_backend};

fn with_extra_route(base: &str, path: &str) -> String {
    format!(
        "{base}\n  - name: extra\n    backend: demo\n    grpc: {{ service: demo.bookstore.v1.Bookstore, method: GetShelf }}\n    http: {{ get: \"{path}\" }}\n"
    )
}

#[tokio::test]
async fn changes_apply_and_bad_files_are_refused() {
    let backend = tonic_backend().await;
    let base = demo_config(backend.addr);
    let mut gw = Gateway::start(&base).await;
    assert_eq!(
        gw.client
            .get(gw.url("/extra/1"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    let added = with_extra_route(&base, "/extra/{shelf}");
    gw.write_config(&added);
    gw.wait_for_revision(&gateway_web::reload::revision_of(&added))
        .await
        .unwrap();
    assert_eq!(
        gw.client
            .get(gw.url("/extra/1"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // Each broken file leaves the last good revision serving.
    let good = gw.revision().await;
    for broken in [
        "apis: [".to_string(),
        added.replace("method: GetShelf", "method: NoSuchMethod"),
        added.replace("/extra/{shelf}", "/extra/{nosuchfield}"),
        added.replace("demo/echo/v1/echo.proto", "demo/echo/v1/missing.proto"),
    ] {
        gw.write_config(&broken);
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(
            gw.revision().await,
            good,
            "refused: {}",
            &broken[..broken.len().min(80)]
        );
        assert_eq!(
            gw.client
                .get(gw.url("/extra/1"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }

    gw.write_config(&base);
    gw.wait_for_revision(&gateway_web::reload::revision_of(&base))
        .await
        .unwrap();
    assert_eq!(
        gw.client
            .get(gw.url("/extra/1"))
            .send()
            .await
            .unwrap()
            .status(),
        404,
        "removed route is gone"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reloads_under_load_fail_no_request() {
    let backend = tonic_backend().await;
    let base = demo_config(backend.addr);
    let mut gw = Gateway::start(&base).await;
    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..8 {
        let (client, url, stop, ok, failed) = (
            gw.client.clone(),
            gw.url("/v1/shelves/1"),
            stop.clone(),
            ok.clone(),
            failed.clone(),
        );
        workers.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                match client.get(&url).send().await {
                    Ok(response) if response.status() == 200 => ok.fetch_add(1, Ordering::Relaxed),
                    Ok(response) => {
                        eprintln!("failed: {} {:?}", response.status(), response.text().await);
                        failed.fetch_add(1, Ordering::Relaxed)
                    }
                    Err(err) => {
                        eprintln!("failed: {err}");
                        failed.fetch_add(1, Ordering::Relaxed)
                    }
                };
            }
        }));
    }
    for round in 0..6 {
        let next = if round % 2 == 0 {
            with_extra_route(&base, &format!("/extra{round}/{{shelf}}"))
        } else {
            base.clone()
        };
        gw.write_config(&next);
        gw.wait_for_revision(&gateway_web::reload::revision_of(&next))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.unwrap();
    }
    let (ok, failed) = (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    assert!(ok > 100, "load ran: {ok} requests");
    assert_eq!(
        failed,
        0,
        "{failed} of {} requests failed across 6 reloads",
        ok + failed
    );
}
