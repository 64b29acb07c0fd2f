//! Picks the certificate for a handshake: the first whose names (SAN, as webpki reads them) cover the
//! client's SNI, else the first certificate (clients that send no SNI, or a name none covers).

use std::sync::Arc;

use rustls::pki_types::{CertificateDer, ServerName};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

#[derive(Debug)]
pub struct SniResolver {
    pub certificates: Vec<Arc<CertifiedKey>>,
}

fn covers(certificate: &CertificateDer<'_>, name: &str) -> bool {
    let Ok(name) = ServerName::try_from(name) else {
        return false;
    };
    webpki::EndEntityCert::try_from(certificate)
        .map(|cert| cert.verify_is_valid_for_subject_name(&name).is_ok())
        .unwrap_or(false)
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        if let Some(name) = hello.server_name() {
            let found = self
                .certificates
                .iter()
                .find(|key| key.cert.first().is_some_and(|leaf| covers(leaf, name)));
            if let Some(found) = found {
                return Some(found.clone());
            }
        }
        self.certificates.first().cloned()
    }
}
