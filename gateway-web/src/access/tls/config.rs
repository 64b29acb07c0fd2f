//! TLS settings and the rustls configuration built from them. Every problem (an unreadable file, a key
//! that does not match its certificate, an empty CA bundle) is named with its path; the node refuses to
//! start on it, and a reload refuses it while the old configuration serves.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::crypto::ring::sign::any_supported_type;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::sign::CertifiedKey;

use super::sni::SniResolver;

/// Static settings of a TLS listener.
#[derive(Debug, Clone)]
pub struct TlsSettings {
    /// (certificate chain, private key) PEM files; the client's SNI chooses among them, and the first
    /// serves clients that name no host or one no certificate covers.
    pub certificates: Vec<(PathBuf, PathBuf)>,
    /// A CA bundle (PEM) client certificates must chain to. Without it no client certificate is asked.
    pub client_ca: Option<PathBuf>,
    /// Refuse handshakes without a client certificate (otherwise one is optional, and the
    /// `client_certificate` policy decides per API).
    pub require_client_certificate: bool,
}

impl TlsSettings {
    /// Every file the configuration is read from, to watch for changes.
    pub fn files(&self) -> Vec<PathBuf> {
        self.certificates
            .iter()
            .flat_map(|(cert, key)| [cert.clone(), key.clone()])
            .chain(self.client_ca.clone())
            .collect()
    }
}

/// Every certificate in a PEM file (a chain, or a CA bundle); none is an error.
pub fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem = std::fs::read(path).map_err(|err| format!("{}: {err}", path.display()))?;
    let certs: Vec<_> = rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<_, _>>()
        .map_err(|err| format!("{}: {err}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no PEM certificate in it", path.display()));
    }
    Ok(certs)
}

/// The first private key in a PEM file.
pub fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    let pem = std::fs::read(path).map_err(|err| format!("{}: {err}", path.display()))?;
    rustls_pemfile::private_key(&mut pem.as_slice())
        .map_err(|err| format!("{}: {err}", path.display()))?
        .ok_or_else(|| format!("{}: no PEM private key in it", path.display()))
}

/// The rustls configuration: ALPN h2 then http/1.1, the SNI resolver, the client verifier.
pub fn server_config(settings: &TlsSettings) -> Result<ServerConfig, String> {
    if settings.certificates.is_empty() {
        return Err("TLS needs at least one certificate and key".into());
    }
    let mut keys = Vec::with_capacity(settings.certificates.len());
    for (cert_path, key_path) in &settings.certificates {
        let chain = certificates(cert_path)?;
        let key = private_key(key_path)?;
        let signing =
            any_supported_type(&key).map_err(|err| format!("{}: {err}", key_path.display()))?;
        let certified = CertifiedKey::new(chain, signing);
        certified.keys_match().map_err(|err| {
            format!(
                "{} does not match {}: {err}",
                key_path.display(),
                cert_path.display()
            )
        })?;
        keys.push(Arc::new(certified));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|err| err.to_string())?;
    let builder = match &settings.client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in certificates(ca)? {
                roots
                    .add(cert)
                    .map_err(|err| format!("{}: {err}", ca.display()))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            let verifier = if settings.require_client_certificate {
                verifier.build()
            } else {
                verifier.allow_unauthenticated().build()
            }
            .map_err(|err| format!("{}: {err}", ca.display()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_cert_resolver(Arc::new(SniResolver { certificates: keys }));
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}
