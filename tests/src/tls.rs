//! A PostgreSQL server that speaks TLS, with certificates made for the run:
//! a certificate authority, a server certificate it signs for `localhost`
//! alone, and a second authority that signed nothing the server has.

use std::path::PathBuf;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use strata::testing::Cluster;

/// A cluster started with `ssl = on`, and the files a client names in its URL.
#[derive(Debug)]
pub struct TlsServer {
    /// The server; stopped when this is dropped.
    pub cluster: Cluster,
    /// The certificate of the authority that signed the server's.
    pub ca: PathBuf,
    /// The certificate of an authority that signed nothing the server has.
    pub other_ca: PathBuf,
    _dir: tempfile::TempDir,
}

impl TlsServer {
    /// Makes the certificates and starts the server.
    pub fn start() -> Result<TlsServer, Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let ca = authority("strata test CA")?;
        let other = authority("some other CA")?;
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(vec!["localhost".to_owned()])?;
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        let server = params.signed_by(&key, &ca)?;
        let cluster = Cluster::start_with_tls(&server.pem(), &key.serialize_pem())?;
        let ca_path = dir.path().join("ca.pem");
        let other_path = dir.path().join("other-ca.pem");
        std::fs::write(&ca_path, ca.pem())?;
        std::fs::write(&other_path, other.pem())?;
        Ok(TlsServer {
            cluster,
            ca: ca_path,
            other_ca: other_path,
            _dir: dir,
        })
    }

    /// The URL of database `name` on `host` (`localhost` or `127.0.0.1`),
    /// with `params` (`sslmode=…&sslrootcert=…`) after it.
    pub fn url(&self, host: &str, name: &str, params: &str) -> String {
        let url = self.cluster.database_url(name);
        let url = url.replacen("127.0.0.1", host, 1);
        format!("{url}?{params}")
    }
}

fn authority(name: &str) -> Result<CertifiedIssuer<'static, KeyPair>, rcgen::Error> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(params, KeyPair::generate()?)
}
