//! TLS on the listener with a CA of the test's own: the certificate SNI names, HTTP/2 by ALPN, a
//! certificate replaced on disk while serving, and client certificates (mTLS) as a consumer credential.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::json;

use super::{backend_metadata, config, signer};
use crate::harness::{Gateway, expect_error, tonic_backend};

fn pem_certs(path: &Path) -> Vec<CertificateDer<'static>> {
    let pem = std::fs::read(path).unwrap();
    rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<_, _>>()
        .unwrap()
}

/// The leaf certificate the gateway presents to a client that names `sni`.
async fn presented(addr: std::net::SocketAddr, ca: &Path, sni: &str) -> CertificateDer<'static> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in pem_certs(ca) {
        roots.add(cert).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let stream = connector
        .connect(ServerName::try_from(sni.to_string()).unwrap(), tcp)
        .await
        .unwrap();
    stream.get_ref().1.peer_certificates().unwrap()[0]
        .clone()
        .into_owned()
}

fn client(
    dir: &Path,
    identity: Option<&str>,
    host: &str,
    addr: std::net::SocketAddr,
) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(&std::fs::read(dir.join("ca.pem")).unwrap()).unwrap();
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(ca)
        .resolve(host, addr);
    if let Some(stem) = identity {
        let mut pem = std::fs::read(dir.join(format!("{stem}.pem"))).unwrap();
        pem.extend(std::fs::read(dir.join(format!("{stem}.key"))).unwrap());
        builder = builder.identity(reqwest::Identity::from_pem(&pem).unwrap());
    }
    builder.build().unwrap()
}

#[tokio::test]
async fn tls_serves_the_certificate_sni_names_over_http2_and_reloads_it() {
    let backend = tonic_backend().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    signer(&["certs", path.to_str().unwrap()]).await;
    let tls = gateway_web::access::tls::TlsSettings {
        certificates: vec![
            (path.join("a.pem"), path.join("a.key")),
            (path.join("b.pem"), path.join("b.key")),
        ],
        client_ca: None,
        require_client_certificate: false,
    };
    let yaml = config(backend.addr, "[]", "");
    let gw = Gateway::start_tls(&yaml, tls).await;

    assert_eq!(
        presented(gw.addr, &path.join("ca.pem"), "a.test").await,
        pem_certs(&path.join("a.pem"))[0]
    );
    assert_eq!(
        presented(gw.addr, &path.join("ca.pem"), "b.test").await,
        pem_certs(&path.join("b.pem"))[0]
    );
    // A name no certificate covers gets the first.
    assert_eq!(
        presented_any(gw.addr, "c.test").await,
        pem_certs(&path.join("a.pem"))[0]
    );

    let https = client(&path, None, "b.test", gw.addr);
    let response = https
        .post(format!("https://b.test:{}/v1/open", gw.addr.port()))
        .json(&json!({"message": "tls"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.version(),
        reqwest::Version::HTTP_2,
        "ALPN chose h2"
    );
    assert_eq!(response.status(), 200);

    // New certificates on disk (the same names, new keys): served without a restart.
    let old = pem_certs(&path.join("a.pem"))[0].clone();
    let fresh = tempfile::tempdir().unwrap();
    signer(&["certs", fresh.path().to_str().unwrap()]).await;
    std::fs::copy(fresh.path().join("a.key"), path.join("a.key")).unwrap();
    std::fs::copy(fresh.path().join("a.pem"), path.join("a.pem")).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let current = presented_any(gw.addr, "a.test").await;
        if current != old {
            assert_eq!(current, pem_certs(&path.join("a.pem"))[0]);
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the new certificate was never served"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The certificate presented for `sni`, trusting anything (the test compares it byte for byte).
async fn presented_any(addr: std::net::SocketAddr, sni: &str) -> CertificateDer<'static> {
    #[derive(Debug)]
    struct Anything;
    impl rustls::client::danger::ServerCertVerifier for Anything {
        fn verify_server_cert(
            &self,
            _: &CertificateDer<'_>,
            _: &[CertificateDer<'_>],
            _: &ServerName<'_>,
            _: &[u8],
            _: rustls::pki_types::UnixTime,
        ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        }
        fn verify_tls12_signature(
            &self,
            _: &[u8],
            _: &CertificateDer<'_>,
            _: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
        }
        fn verify_tls13_signature(
            &self,
            _: &[u8],
            _: &CertificateDer<'_>,
            _: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
        }
        fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
            rustls::crypto::ring::default_provider()
                .signature_verification_algorithms
                .supported_schemes()
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .dangerous()
    .with_custom_certificate_verifier(Arc::new(Anything))
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let stream = connector
        .connect(ServerName::try_from(sni.to_string()).unwrap(), tcp)
        .await
        .unwrap();
    stream.get_ref().1.peer_certificates().unwrap()[0]
        .clone()
        .into_owned()
}

#[tokio::test]
async fn a_client_certificate_is_a_consumer_credential() {
    let backend = tonic_backend().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let digests: serde_json::Value =
        serde_json::from_str(&signer(&["certs", path.to_str().unwrap()]).await).unwrap();
    let tls = gateway_web::access::tls::TlsSettings {
        certificates: vec![(path.join("a.pem"), path.join("a.key"))],
        client_ca: Some(path.join("ca.pem")),
        require_client_certificate: false,
    };
    let client_hash = digests["client"].as_str().unwrap();
    let yaml = config(backend.addr, "[{ kind: client_certificate }]", "").replace(
        "      - { kind: api_key, id: key-1,",
        &format!("      - {{ kind: certificate, id: cert-1, sha256: \"{client_hash}\" }}\n      - {{ kind: api_key, id: key-1,"),
    );
    assert!(yaml.contains("cert-1"));
    let gw = Gateway::start_tls(&yaml, tls).await;
    let url = format!("https://a.test:{}/v1/echo", gw.addr.port());
    let call = |identity: Option<&str>| {
        let https = client(&path, identity, "a.test", gw.addr);
        let url = url.clone();
        async move {
            https
                .post(url)
                .json(&json!({"message": "mtls"}))
                .send()
                .await
        }
    };

    let reply: serde_json::Value = call(Some("client")).await.unwrap().json().await.unwrap();
    assert_eq!(
        backend_metadata(&reply, "x-consumer-id").as_deref(),
        Some("partner"),
        "{reply}"
    );
    // No certificate: the handshake allows it, the policy does not.
    expect_error(call(None).await.unwrap(), 401, "unauthenticated").await;
    // Issued by the CA, but no consumer's.
    expect_error(call(Some("other")).await.unwrap(), 401, "unauthenticated").await;
    // Not issued by the CA: the handshake itself fails.
    assert!(call(Some("stranger")).await.is_err());
}
