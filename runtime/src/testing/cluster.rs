//! One throwaway PostgreSQL cluster: initdb, start, stop, remove.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::binaries::find_bin_dir;
use super::process::{as_user, free_port, make_base_dir, run_as, spawn_watchdog, RunAs};
use crate::Error;

/// The superuser of a throwaway cluster.
const SUPERUSER: &str = "strata";
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A PostgreSQL cluster in a temporary directory, listening on 127.0.0.1.
/// Stopped and removed when dropped, and in any case when the process that
/// started it ends, even by a signal: a small watchdog process sees to that.
#[derive(Debug)]
pub struct Cluster {
    base: PathBuf,
    port: u16,
    /// The server, while it runs.
    server: Option<Child>,
    bin: PathBuf,
    run_as: Option<RunAs>,
    settings: Vec<String>,
}

impl Cluster {
    /// Runs `initdb` and starts the server; waits until it accepts connections.
    pub fn start() -> Result<Cluster, Error> {
        start(None, &[]).map_err(Error::TestCluster)
    }

    /// As [`Cluster::start`], with more server settings (`"wal_level=logical"`,
    /// say), each as `postgres -c` takes it.
    pub fn start_with(settings: &[&str]) -> Result<Cluster, Error> {
        start(None, settings).map_err(Error::TestCluster)
    }

    /// As [`Cluster::start`], ready to be a server of a [`crate::Fleet`]:
    /// `wal_level = logical`, room for the replication slots and workers
    /// of many subscriptions (each server subscribes to the control
    /// database, and each move adds one), and table copies that start
    /// within 200 ms of a subscription (`wal_retrieve_retry_interval`).
    pub fn start_logical() -> Result<Cluster, Error> {
        Cluster::start_with(&[
            "wal_level=logical",
            "max_replication_slots=100",
            "max_wal_senders=100",
            "max_worker_processes=64",
            "max_logical_replication_workers=48",
            // How soon a new subscription's table copies start (default 5 s).
            "wal_retrieve_retry_interval=200ms",
        ])
    }

    /// As [`Cluster::start`], with TLS on (`ssl = on`): the server presents
    /// `cert_pem` (its certificate chain, PEM) and holds `key_pem` (its
    /// private key, PEM). Clients may still connect without TLS.
    pub fn start_with_tls(cert_pem: &str, key_pem: &str) -> Result<Cluster, Error> {
        start(Some(Tls { cert_pem, key_pem }), &[]).map_err(Error::TestCluster)
    }

    /// The superuser's URL for the `postgres` database.
    pub fn url(&self) -> String {
        self.database_url("postgres")
    }

    /// The superuser's URL for database `name`.
    pub fn database_url(&self, name: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{name}", self.port)
    }

    /// The TCP port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The directory holding the data directory, the socket and the server log.
    pub fn dir(&self) -> &Path {
        &self.base
    }
}

impl Cluster {
    /// Stops the server (a fast shutdown: open sessions are rolled back), as
    /// a server that goes down does; [`Cluster::restart`] starts it again
    /// on the same port, with its data.
    pub fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            stop_server(server);
        }
    }

    /// Starts the server again after [`Cluster::stop`], on the same port.
    pub fn restart(&mut self) -> Result<(), Error> {
        if self.server.is_none() {
            let server = start_server(
                &self.bin,
                &self.base,
                self.port,
                &self.run_as,
                &self.settings,
            )
            .map_err(Error::TestCluster)?;
            spawn_watchdog(&self.base, server.id());
            self.server = Some(server);
        }
        Ok(())
    }
}

fn stop_server(mut server: Child) {
    // SIGINT is PostgreSQL's fast shutdown: it rolls back open sessions and exits.
    let _ = Command::new("kill")
        .args(["-INT", &server.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = server.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = server.kill();
    let _ = server.wait();
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

/// A server certificate and key, in PEM.
struct Tls<'a> {
    cert_pem: &'a str,
    key_pem: &'a str,
}

fn start(tls: Option<Tls<'_>>, extra: &[&str]) -> Result<Cluster, String> {
    let bin = match find_bin_dir() {
        Ok(bin) => bin,
        // Not there on a fresh machine: install it as .ci/run would (as root, with apt-get).
        Err(missing) if std::env::var_os("PG_BIN").is_none() => {
            super::install::apt_install("postgresql").map_err(|e| format!("{missing}\n{e}"))?;
            find_bin_dir()?
        }
        Err(missing) => return Err(missing),
    };
    let run_as = run_as()?;
    let base = make_base_dir(&run_as, "strata-pg")?;
    let data = base.join("data");

    let mut initdb = Command::new(bin.join("initdb"));
    initdb.arg("-D").arg(&data).args([
        "-U",
        SUPERUSER,
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--locale=C",
        "-N",
    ]);
    let out = as_user(&mut initdb, &run_as)
        .output()
        .map_err(|e| format!("could not run {}: {e}", bin.join("initdb").display()))?;
    if !out.status.success() {
        let _ = std::fs::remove_dir_all(&base);
        return Err(format!(
            "initdb failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }

    let mut settings: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
    if let Some(tls) = tls {
        // PostgreSQL reads the key only if its owner alone can read it.
        for (name, pem) in [("server.crt", tls.cert_pem), ("server.key", tls.key_pem)] {
            let path = data.join(name);
            write_private(&path, pem, &run_as).map_err(|e| {
                let _ = std::fs::remove_dir_all(&base);
                format!("{}: {e}", path.display())
            })?;
        }
        settings.extend(
            [
                "ssl=on",
                "ssl_cert_file=server.crt",
                "ssl_key_file=server.key",
            ]
            .map(String::from),
        );
    }

    // A port can be taken between our probe and the server's bind; try a few.
    let mut last_error = String::new();
    for _ in 0..5 {
        let port = free_port()?;
        match start_server(&bin, &base, port, &run_as, &settings) {
            Ok(server) => {
                spawn_watchdog(&base, server.id());
                return Ok(Cluster {
                    base,
                    port,
                    server: Some(server),
                    bin,
                    run_as,
                    settings,
                });
            }
            Err(error) => last_error = error,
        }
    }
    let _ = std::fs::remove_dir_all(&base);
    Err(last_error)
}

fn start_server(
    bin: &Path,
    base: &Path,
    port: u16,
    run_as: &Option<RunAs>,
    settings: &[String],
) -> Result<Child, String> {
    let log_path = base.join("postgres.log");
    let log = File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let mut command = Command::new(bin.join("postgres"));
    command
        .arg("-D")
        .arg(base.join("data"))
        .args(["-p", &port.to_string(), "-k"])
        .arg(base)
        .args([
            "-c",
            "listen_addresses=127.0.0.1",
            // A throwaway cluster needs no durability; tests get faster.
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=200",
        ])
        .args(settings.iter().flat_map(|s| ["-c", s.as_str()]))
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        // Its own process group: a Ctrl-C meant for the tests does not reach it
        // before the watchdog has a chance to stop it cleanly.
        .process_group(0);
    let mut server = as_user(&mut command, run_as)
        .spawn()
        .map_err(|e| format!("could not run {}: {e}", bin.join("postgres").display()))?;

    let pid_file = base.join("data").join("postmaster.pid");
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Ok(Some(status)) = server.try_wait() {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            return Err(format!(
                "the PostgreSQL server exited ({status}) while starting:\n{log}"
            ));
        }
        // The last line of postmaster.pid turns to "ready" once connections are accepted.
        let ready = std::fs::read_to_string(&pid_file)
            .map(|text| text.lines().any(|l| l.trim() == "ready"))
            .unwrap_or(false);
        if ready {
            return Ok(server);
        }
        if Instant::now() > deadline {
            let _ = server.kill();
            let _ = server.wait();
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            return Err(format!(
                "the PostgreSQL server did not become ready within {START_TIMEOUT:?}:\n{log}"
            ));
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Writes `text` to `path`, readable by its owner alone: the server's user.
fn write_private(path: &Path, text: &str, run_as: &Option<RunAs>) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    if let Some(user) = run_as {
        std::os::unix::fs::chown(path, Some(user.uid()), Some(user.gid()))?;
    }
    Ok(())
}
