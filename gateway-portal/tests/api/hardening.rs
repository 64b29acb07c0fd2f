//! The portal tried as an attacker would: password guessing (bounded in memory, locked out per
//! address, never locking the real admin out from elsewhere, audited), weak passwords, user
//! management, and the headers that keep the UI from being framed or sniffed.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;

use axum::http::StatusCode;
use serde_json::json;

use crate::harness::{ADMIN_PASSWORD, Portal};

fn address(last: u8) -> SocketAddr {
    SocketAddr::from(([198, 51, 100, last], 40000))
}

#[tokio::test]
async fn guessing_locks_out_the_guessing_address_only() {
    let portal = Portal::start().await;
    let mut attacker = portal.client();
    attacker.from = Some(address(1));
    for _ in 0..5 {
        let reply = attacker.login("admin", "not-the-password").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text);
    }
    // Even the right password is refused from the guessing address now.
    let locked = attacker.login("admin", ADMIN_PASSWORD).await;
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        locked.text
    );
    assert!(locked.headers.contains_key("retry-after"));
    // The real admin, elsewhere, is not locked out.
    let mut admin = portal.client();
    admin.from = Some(address(2));
    assert_eq!(
        admin.login("admin", ADMIN_PASSWORD).await.status,
        StatusCode::OK
    );

    // Spraying many usernames from one address locks that address out of all of them.
    let mut sprayer = portal.client();
    sprayer.from = Some(address(3));
    for i in 0..20 {
        sprayer
            .login(&format!("user{i}"), "guess-guess-guess")
            .await;
    }
    assert_eq!(
        sprayer.login("admin", ADMIN_PASSWORD).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );

    let audit = admin.get("/api/audit?limit=100").await;
    let failed = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "session.failed")
        .count();
    assert!(failed >= 25, "every failure is audited: {failed}");
    assert!(
        !audit.text.contains("not-the-password"),
        "no guessed password in the audit log"
    );
}

#[tokio::test]
async fn password_checks_are_bounded_and_abandoned_ones_never_run() {
    let portal = Portal::start().await;
    let peak_before = gateway_portal::login::CHECKS_PEAK.load(Ordering::SeqCst);
    let mut logins = Vec::new();
    for i in 0..12u8 {
        let mut client = portal.client();
        client.from = Some(address(100 + i));
        logins.push(tokio::spawn(async move {
            client.login("admin", "wrong-wrong-wrong").await.status
        }));
    }
    for login in logins {
        assert_eq!(login.await.unwrap(), StatusCode::UNAUTHORIZED);
    }
    let peak = gateway_portal::login::CHECKS_PEAK.load(Ordering::SeqCst);
    assert!(
        peak.max(peak_before) <= gateway_portal::login::HASHES_AT_ONCE,
        "{peak} checks ran at once"
    );

    // Twenty logins abandoned by their clients while they wait: most never cost a check.
    let started = gateway_portal::login::CHECKS_STARTED.load(Ordering::SeqCst);
    let mut abandoned = Vec::new();
    for i in 0..20u8 {
        let mut client = portal.client();
        client.from = Some(address(150 + i));
        abandoned.push(tokio::spawn(async move {
            client.login("admin", "wrong-wrong-wrong").await
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    for login in &abandoned {
        login.abort();
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let ran = gateway_portal::login::CHECKS_STARTED.load(Ordering::SeqCst) - started;
    assert!(ran < 20, "{ran} of 20 abandoned logins were still checked");
}

#[tokio::test]
async fn weak_passwords_are_refused_everywhere() {
    let portal = Portal::start().await;
    let admin = portal.admin().await;
    for weak in ["short", "bob", "aaaaaaaaaaaaaaaa"] {
        let reply = admin
            .post(
                "/api/users",
                json!({"username": "bob", "password": weak, "role": "viewer"}),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{weak}: {}",
            reply.text
        );
    }
    let empty = sqlx::PgPool::connect(&portal.db.url).await.unwrap();
    sqlx::query("DELETE FROM admin_users")
        .execute(&empty)
        .await
        .unwrap();
    let refused = gateway_portal::db::bootstrap_admin(&empty, "admin").await;
    assert!(
        refused.is_err(),
        "the first admin password follows the rule too"
    );
}

#[tokio::test]
async fn users_change_passwords_and_admins_disable_and_demote() {
    let portal = Portal::start().await;
    let admin = portal.admin().await;
    let bob = portal.user("bob", "publisher").await;
    let wrong = bob
        .send(
            "PUT",
            "/api/session/password",
            Some(json!({"current": "nope", "new": "a-brand-new-password"})),
            &[],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let changed = bob
        .send(
            "PUT",
            "/api/session/password",
            Some(json!({"current": "password-123", "new": "a-brand-new-password"})),
            &[],
        )
        .await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{}", changed.text);
    let mut again = portal.client();
    assert_eq!(
        again.login("bob", "password-123").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        again.login("bob", "a-brand-new-password").await.status,
        StatusCode::OK
    );

    let disabled = admin
        .send(
            "PUT",
            "/api/users/bob",
            Some(json!({"disabled": true})),
            &[],
        )
        .await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.text);
    // Its sessions end at once, and it cannot log in.
    assert_eq!(
        again.get("/api/session").await.status,
        StatusCode::UNAUTHORIZED
    );
    let mut fresh = portal.client();
    fresh.from = Some(address(9));
    assert_eq!(
        fresh.login("bob", "a-brand-new-password").await.status,
        StatusCode::UNAUTHORIZED
    );

    let last = admin
        .send(
            "PUT",
            "/api/users/admin",
            Some(json!({"role": "viewer"})),
            &[],
        )
        .await;
    assert_eq!(
        last.status,
        StatusCode::CONFLICT,
        "the last admin stays: {}",
        last.text
    );
    let viewer = portal.user("carol", "viewer").await;
    let denied = viewer
        .send(
            "PUT",
            "/api/users/admin",
            Some(json!({"disabled": true})),
            &[],
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    // A viewer may still change its own password.
    let own = viewer
        .send(
            "PUT",
            "/api/session/password",
            Some(json!({"current": "password-123", "new": "carol-new-password"})),
            &[],
        )
        .await;
    assert_eq!(own.status, StatusCode::NO_CONTENT, "{}", own.text);
}

#[tokio::test]
async fn the_ui_is_served_with_protective_headers() {
    let portal = Portal::start().await;
    let page = portal.client().get("/").await;
    assert_eq!(page.status, StatusCode::OK);
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'self'"),
        "{csp}"
    );
    assert_eq!(page.headers["x-content-type-options"], "nosniff");
    assert_eq!(page.headers["referrer-policy"], "no-referrer");
    assert_eq!(page.headers["x-frame-options"], "DENY");
}
