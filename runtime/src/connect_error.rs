//! The driver's error, said once and, for a refused TLS connection, with
//! which check refused it and what to change in the URL.

/// `error` as the user should read it: the driver's message, without the
/// cause it repeats, and a hint when TLS refused the connection (which
/// check refused it, and what to change in the URL).
///
/// ```
/// let error = strata::sqlx::Error::PoolTimedOut;
/// assert_eq!(strata::describe_sqlx_error(&error), error.to_string());
/// ```
pub fn describe_sqlx_error(error: &sqlx::Error) -> String {
    let mut text = error.to_string();
    if let Some(hint) = tls_hint(error) {
        text.push_str("\nhelp: ");
        text.push_str(&hint);
    }
    text
}

/// What went wrong with TLS, in the terms of the connection URL.
fn tls_hint(error: &sqlx::Error) -> Option<String> {
    let text = error.to_string();
    if text.contains("server does not support TLS") {
        return Some(
            "the server does not speak TLS, and the URL's sslmode requires it: turn `ssl = on` on the server, or use sslmode=prefer (TLS when offered) or sslmode=disable".to_owned(),
        );
    }
    if let sqlx::Error::Configuration(_) = error {
        if text.contains("sslrootcert") || text.contains("certificate") || text.contains("pem") {
            return Some("the file named by sslrootcert could not be read as PEM certificates: name the CA certificate your provider publishes".to_owned());
        }
    }
    certificate_hint(error)
}

#[cfg(feature = "tls-rustls")]
fn certificate_hint(error: &sqlx::Error) -> Option<String> {
    use rustls::CertificateError as C;
    use std::error::Error as _;
    let mut cause: Option<&(dyn std::error::Error + 'static)> = error.source();
    while let Some(e) = cause {
        let rustls_error = e.downcast_ref::<rustls::Error>().or_else(|| {
            e.downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        });
        if let Some(rustls::Error::InvalidCertificate(certificate)) = rustls_error {
            return Some(match certificate {
                C::UnknownIssuer | C::BadSignature | C::UnhandledCriticalExtension => {
                    "the server's certificate is not signed by a certificate authority this client trusts (sslmode=verify-ca and verify-full check it): name the CA's certificate with sslrootcert=/path/to/ca.pem in the URL, the one the provider of the server publishes".to_owned()
                }
                C::NotValidForName | C::NotValidForNameContext { .. } => {
                    "the server's certificate does not hold the host name of the URL (sslmode=verify-full checks it): connect by a name the certificate holds, or use sslmode=verify-ca, which checks the certificate authority but not the name (with the default rustls, sqlx 0.8 checks the name under verify-ca too, launchbadge/sqlx#3793: there, connect by a name the certificate holds, or build strata with the `tls-native-tls` feature)".to_owned()
                }
                C::Expired | C::ExpiredContext { .. } | C::NotValidYet | C::NotValidYetContext { .. } => {
                    "the server's certificate is out of its validity period: renew it on the server, or check this machine's clock".to_owned()
                }
                other => format!("the server's certificate was refused ({other:?})"),
            });
        }
        cause = e.source();
    }
    None
}

#[cfg(not(feature = "tls-rustls"))]
fn certificate_hint(_: &sqlx::Error) -> Option<String> {
    None
}
