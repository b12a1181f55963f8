//! rustls server configuration from PEM material.

use std::io;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};

use crate::TlsConfig;

fn invalid(what: &str, e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("TLS {what}: {e}"))
}

fn certs(what: &str, pem: &[u8]) -> io::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(what, e))?;
    if certs.is_empty() {
        return Err(invalid(what, "no CERTIFICATE block in PEM"));
    }
    Ok(certs)
}

/// Builds the server config shared by both listeners. The crypto provider is
/// chosen explicitly (ring) so the result does not depend on which rustls
/// providers other crates in the process happen to enable.
pub(crate) fn server_config(cfg: &TlsConfig) -> io::Result<Arc<ServerConfig>> {
    let provider: Arc<CryptoProvider> = Arc::new(rustls::crypto::ring::default_provider());
    let chain = certs("certificate", &cfg.cert_pem)?;
    let key = PrivateKeyDer::from_pem_slice(&cfg.key_pem).map_err(|e| invalid("private key", e))?;
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid("protocol versions", e))?;
    let builder = match &cfg.client_ca_pem {
        Some(ca_pem) => {
            let mut roots = RootCertStore::empty();
            for ca in certs("client CA", ca_pem)? {
                roots.add(ca).map_err(|e| invalid("client CA", e))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| invalid("client verifier", e))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|e| invalid("certificate/key", e))?;
    // gRPC needs h2; OTLP/HTTP clients mostly speak HTTP/1.1.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
